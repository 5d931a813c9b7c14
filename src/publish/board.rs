//! The dashboard's content: the run's report (open, held back, ignored and failed pull
//! requests) and what the check found that no pull request fixes (releases that cannot be
//! installed, yanked pins, vulnerabilities without a fix, lookup errors). Pure: writing the
//! issue is the job's.
//!
//! Every detail but a pull request's URL holds words from outside (an index's yanked reason, a
//! server's error, an advisory's id): it is made inert Markdown here ([`inline`]), so GitHub
//! shows it as written and neither notifies, references nor links anyone for it.

use std::path::Path;

use super::items::relative;
use super::report::{Report, Verb};
use crate::forge::dashboard::{Dashboard, Entry, Pending};
use crate::lookup::Outcome;
use crate::manifest::workspace::Workspace;
use crate::vocab::markdown::inline;

/// The dashboard of a run that made `report` from `outcome` (the workspace's check), with files
/// shown relative to `workdir`.
pub(super) fn board(
    report: &Report,
    outcome: &Outcome,
    workspace: &Workspace,
    workdir: Option<&Path>,
) -> Dashboard {
    let mut board = Dashboard::default();
    for line in &report.lines {
        let entry = |detail: String| Entry {
            text: line.title.clone(),
            detail,
        };
        match line.verb {
            Verb::Created | Verb::Updated | Verb::Unchanged => board.open.push(entry(
                line.url.clone().unwrap_or_else(|| line.branch.clone()),
            )),
            Verb::HeldBack => board.held_back.push(Pending {
                entry: entry(inline(&line.detail.to_string())),
                branch: line.branch.clone(),
            }),
            Verb::Ignored => board.ignored.push(Pending {
                entry: entry(line.url.clone().unwrap_or_default()),
                branch: line.branch.clone(),
            }),
            Verb::Failed => board.errors.push(entry(inline(&line.detail.to_string()))),
            // Still open, just no longer repin's to update.
            Verb::Edited => board.open.push(entry(format!(
                "{} (someone else pushed to it: repin no longer updates it)",
                line.url.clone().unwrap_or_else(|| line.branch.clone())
            ))),
            Verb::Closed | Verb::Unrecognised => {}
        }
    }
    let shown = |file: &Path| {
        workdir
            .and_then(|w| relative(file, w))
            .unwrap_or_else(|| file.display().to_string())
    };
    for finding in &outcome.findings {
        let (name, current) = workspace
            .dependency(&finding.file, finding.index)
            .map_or(("", ""), |(_, d)| (d.name.as_str(), d.current.as_str()));
        if let Some(problem) = finding.decision.none.as_ref().filter(|n| n.is_problem()) {
            board.cannot_install.push(Entry {
                text: format!("`{name} {current}` in `{}`", shown(&finding.file)),
                detail: inline(&problem.describe()),
            });
        }
        if let Some(why) = &finding.decision.yanked {
            let way_off = finding
                .decision
                .updates
                .first()
                .map(|u| format!("update to {}", u.proposed));
            let detail = [
                (!why.is_empty()).then(|| format!("\"{}\"", inline(why))),
                Some(way_off.unwrap_or_else(|| "no release to move to".to_owned())),
            ];
            board.yanked.push(Entry {
                text: format!("`{name} {current}` in `{}`", shown(&finding.file)),
                detail: detail.into_iter().flatten().collect::<Vec<_>>().join("; "),
            });
        }
        if let Some(unfixed) = &finding.decision.unfixed {
            board.no_fix.push(Entry {
                text: format!("`{name}` in `{}`", shown(&finding.file)),
                detail: inline(&unfixed.note()),
            });
        }
    }
    for failure in &outcome.failures {
        let name = workspace
            .dependency(&failure.file, failure.index)
            .map_or("", |(_, d)| d.name.as_str());
        board.errors.push(Entry {
            text: format!("`{name}` in `{}`", shown(&failure.file)),
            // The dashboard's line says the hints after the message, as a terminal does.
            detail: inline(&failure.message.to_string()),
        });
    }
    board
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::report::Line;
    use crate::vocab::Message;

    #[test]
    fn failures_keep_their_typed_hints_until_the_dashboard_says_them_on_their_line() {
        let down = Message::new("Cannot reach GitHub").hint("check the token");
        let report = Report {
            lines: vec![Line {
                verb: Verb::Failed,
                branch: "repin/flask".into(),
                title: "Update flask".into(),
                url: None,
                detail: down.clone(),
                diff: String::new(),
            }],
            ..Report::default()
        };
        let mut outcome = Outcome::default();
        outcome.failures.push(crate::lookup::Failure {
            file: "requirements.txt".into(),
            index: 0,
            message: Message::new("Cannot look up `flask`").hint("check the index URL"),
        });
        let board = board(&report, &outcome, &Workspace::default(), None);
        let details: Vec<&str> = board.errors.iter().map(|e| e.detail.as_str()).collect();
        assert_eq!(
            details,
            [
                "Cannot reach GitHub   hint: check the token",
                "Cannot look up `flask`   hint: check the index URL"
            ]
        );
        let body = crate::forge::dashboard::render(&board);
        assert!(
            body.contains("Cannot look up `flask`   hint: check the index URL"),
            "{body}"
        );
    }

    /// An index's yanked reason and a server's words in an error reach the dashboard as inert
    /// Markdown: no mention, link or image of theirs is posted by the bot.
    #[test]
    fn words_from_outside_are_inert_on_the_dashboard() {
        let mut outcome = Outcome::default();
        outcome.failures.push(crate::lookup::Failure {
            file: "requirements.txt".into(),
            index: 0,
            message: Message::new("The index said: @everyone see [this](https://evil.example)"),
        });
        let board = board(&Report::default(), &outcome, &Workspace::default(), None);
        let body = crate::forge::dashboard::render(&board);
        assert!(
            body.contains(
                "The index said: @\u{200B}everyone see \\[this\\]\\(https:\u{200B}//evil.example\\)"
            ),
            "{body}"
        );
        assert!(
            !body.contains("@everyone") && !body.contains("](http"),
            "{body}"
        );
    }
}
