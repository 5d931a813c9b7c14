//! The dependency dashboard: one issue per repository, rewritten in place each run, listing
//! what is pending and what repin could not do.

use std::fmt::Write;

/// The marker that identifies the dashboard issue.
pub const MARKER: &str = "<!-- repin:dashboard -->";

/// The dashboard issue's title.
pub const TITLE: &str = "Dependency dashboard";

/// A line of the dashboard: text and an optional link.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// What (a pull request's title, a dependency).
    pub text: String,
    /// A link (the pull request), or a detail.
    pub detail: String,
}

/// An update not opened (held back by a limit, or ignored), with the branch that ticking its
/// box opens now.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pending {
    /// The line.
    pub entry: Entry,
    /// The planned branch.
    pub branch: String,
}

/// The most boxes read from a dashboard's body: a hostile edit cannot make a run open more.
const MAX_TICKED: usize = 100;

/// The hidden key of a box: `<!-- repin:open BRANCH -->`.
const BOX_KEY: (&str, &str) = ("<!-- repin:open ", " -->");

/// The branches whose boxes are ticked in a dashboard's `body` (someone with triage or write
/// access edited it: only they may edit another's issue). Only repin's branches, each once, at
/// most `MAX_TICKED`.
pub fn ticked(body: &str) -> Vec<String> {
    let mut branches = Vec::new();
    for line in body.lines() {
        let line = line.trim_start();
        let Some(rest) = line
            .strip_prefix("- [x] ")
            .or_else(|| line.strip_prefix("- [X] "))
        else {
            continue;
        };
        let Some(key) = rest.trim_start().strip_prefix(BOX_KEY.0) else {
            continue;
        };
        let Some(end) = key.find(BOX_KEY.1) else {
            continue;
        };
        let branch = &key[..end];
        let plain = branch
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '<' && c != '>');
        if branch.starts_with(crate::plan::BRANCH_PREFIX)
            && plain
            && !branches.iter().any(|b| b == branch)
        {
            branches.push(branch.to_owned());
            if branches.len() == MAX_TICKED {
                break;
            }
        }
    }
    branches
}

/// Everything the dashboard shows.
#[derive(Debug, Clone, Default)]
pub struct Dashboard {
    /// Open pull requests, after this run.
    pub open: Vec<Entry>,
    /// Updates not opened because of a limit (detail: which).
    pub held_back: Vec<Pending>,
    /// Updates not opened because the user closed their pull request (detail: its URL).
    pub ignored: Vec<Pending>,
    /// Vulnerable pins without a fixed release (detail: the advisories).
    pub no_fix: Vec<Entry>,
    /// Requirements that admit no release installable on their file's target (detail: why).
    pub cannot_install: Vec<Entry>,
    /// Pins of releases yanked on their index (detail: the index's reason, and the way off).
    pub yanked: Vec<Entry>,
    /// Lookups and branches that failed (detail: why).
    pub errors: Vec<Entry>,
}

/// What the entries of a dashboard may take, in bytes: GitHub refuses an issue body over 65,536
/// characters, and a repository with thousands of failed lookups (or an index whose every answer
/// is a long error) would otherwise leave the dashboard unwritten. The rest of the limit is for
/// the headings, the notes of what was left out, and the marker.
const ENTRIES_BUDGET: usize = 56_000;

/// Lines written while a budget lasts, and the count of those left out.
struct Lines<'a> {
    out: &'a mut String,
    budget: &'a mut usize,
    left_out: usize,
}

impl Lines<'_> {
    /// Write `line` (and its line break) when the budget holds it, else count it left out.
    fn push(&mut self, line: &str) {
        if self.left_out == 0 && line.len() < *self.budget {
            *self.budget -= line.len() + 1;
            self.out.push_str(line);
            self.out.push('\n');
        } else {
            self.left_out += 1;
        }
    }

    /// Say how many lines were left out, if any, and end the section.
    fn end(self) {
        if self.left_out > 0 {
            let _ = writeln!(
                self.out,
                "- … and {} more, left out to keep this issue within GitHub's length limit (`repin check` lists them all)",
                self.left_out
            );
        }
        self.out.push('\n');
    }
}

fn section(out: &mut String, heading: &str, entries: &[Entry], empty: &str, budget: &mut usize) {
    let _ = writeln!(out, "## {heading}\n");
    if entries.is_empty() {
        let _ = writeln!(out, "{empty}\n");
        return;
    }
    let mut sorted = entries.to_vec();
    sorted.sort();
    let mut lines = Lines {
        out,
        budget,
        left_out: 0,
    };
    for entry in sorted {
        let detail = entry.detail.replace('\n', " ");
        if detail.is_empty() {
            lines.push(&format!("- {}", entry.text));
        } else {
            lines.push(&format!("- {}: {detail}", entry.text));
        }
    }
    lines.end();
}

/// A section of updates not opened, each with an unticked box that opens it.
fn pending_section(
    out: &mut String,
    heading: &str,
    hint: &str,
    pending: &[Pending],
    budget: &mut usize,
) {
    let _ = writeln!(out, "## {heading}\n");
    if pending.is_empty() {
        let _ = writeln!(out, "None.\n");
        return;
    }
    let _ = writeln!(out, "{hint}\n");
    let mut sorted = pending.to_vec();
    sorted.sort();
    let mut lines = Lines {
        out,
        budget,
        left_out: 0,
    };
    for Pending { entry, branch } in sorted {
        let detail = entry.detail.replace('\n', " ");
        let key = format!("{}{branch}{}", BOX_KEY.0, BOX_KEY.1);
        if detail.is_empty() {
            lines.push(&format!("- [ ] {key} {}", entry.text));
        } else {
            lines.push(&format!("- [ ] {key} {}: {detail}", entry.text));
        }
    }
    lines.end();
}

/// The body. Sorted and free of timestamps, so an unchanged state gives an unchanged
/// body and the issue is not edited.
pub fn render(dashboard: &Dashboard) -> String {
    let mut out = String::from(
        "This issue lists the dependency updates repin knows about. repin rewrites it on every run. \
         Close it and repin stops writing it (pull requests go on); reopen it to turn it back on. \
         To have none, set `dashboard = false` under `[pull-requests]` in `repin.toml`.\n\n",
    );
    // Sections in this order take what they need: what is open and pending before the errors.
    let mut budget = ENTRIES_BUDGET;
    section(
        &mut out,
        "Open pull requests",
        &dashboard.open,
        "None.",
        &mut budget,
    );
    pending_section(
        &mut out,
        "Held back by limits",
        "Tick a box to open that pull request at the next run, whatever the limits.",
        &dashboard.held_back,
        &mut budget,
    );
    pending_section(
        &mut out,
        "Ignored (pull request closed unmerged)",
        "Tick a box to open that pull request again at the next run.",
        &dashboard.ignored,
        &mut budget,
    );
    section(
        &mut out,
        "Vulnerable, with no fixed release",
        &dashboard.no_fix,
        "None.",
        &mut budget,
    );
    if !dashboard.cannot_install.is_empty() {
        section(
            &mut out,
            "Cannot be installed",
            &dashboard.cannot_install,
            "None.",
            &mut budget,
        );
    }
    if !dashboard.yanked.is_empty() {
        section(
            &mut out,
            "Yanked on their index",
            &dashboard.yanked,
            "None.",
            &mut budget,
        );
    }
    section(&mut out, "Errors", &dashboard.errors, "None.", &mut budget);
    out.push_str(MARKER);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_sections_and_the_marker() {
        let dashboard = Dashboard {
            open: vec![
                Entry {
                    text: "Update b".into(),
                    detail: "https://x/2".into(),
                },
                Entry {
                    text: "Update a".into(),
                    detail: "https://x/1".into(),
                },
            ],
            errors: vec![Entry {
                text: "`flask` in `requirements.txt`".into(),
                detail: "Cannot reach\n  Caused by: x".into(),
            }],
            ..Dashboard::default()
        };
        let body = render(&dashboard);
        assert!(body.ends_with("<!-- repin:dashboard -->\n"));
        let a = body.find("Update a").unwrap();
        let b = body.find("Update b").unwrap();
        assert!(a < b);
        assert!(body.contains("## Held back by limits\n\nNone.\n"));
        assert!(body.contains("- `flask` in `requirements.txt`: Cannot reach   Caused by: x\n"));
        assert_eq!(render(&dashboard), body);
    }

    #[test]
    fn pending_updates_get_boxes_and_ticked_ones_are_read_back() {
        let pending = |title: &str, branch: &str| Pending {
            entry: Entry {
                text: title.into(),
                detail: "at most 2 pull requests open at once".into(),
            },
            branch: branch.into(),
        };
        let dashboard = Dashboard {
            held_back: vec![
                pending("Update flask to 3.0.0", "repin/requirements.txt/flask"),
                pending("Update jinja2 to 3.1.4", "repin/requirements.txt/jinja2"),
            ],
            ..Dashboard::default()
        };
        let body = render(&dashboard);
        assert!(
            body.contains("- [ ] <!-- repin:open repin/requirements.txt/flask --> Update flask to 3.0.0: at most 2 pull requests open at once\n"),
            "{body}"
        );
        // repin writes no ticked box: its own edits never ask for a run.
        assert!(ticked(&body).is_empty());
        let edited = body.replacen(
            "- [ ] <!-- repin:open repin/requirements.txt/jinja2",
            "- [x] <!-- repin:open repin/requirements.txt/jinja2",
            1,
        );
        assert_eq!(ticked(&edited), ["repin/requirements.txt/jinja2"]);
        // Not repin's branch, a broken key, or a box written twice: one branch at most.
        let hostile = "- [x] <!-- repin:open main -->\n- [X] <!-- repin:open repin/a<b -->\n- [x] <!-- repin:open repin/x -->\n- [x] <!-- repin:open repin/x -->\n- [x] <!-- repin:open repin/y";
        assert_eq!(ticked(hostile), ["repin/x"]);
        let many: String = (0..500)
            .map(|i| format!("- [x] <!-- repin:open repin/b{i} -->\n"))
            .collect();
        assert_eq!(ticked(&many).len(), MAX_TICKED);
    }

    /// A dashboard of thousands of long errors stays within GitHub's limit on an issue body
    /// (65,536 characters): the sections before take what they need, the errors what is left,
    /// with how many were left out; the marker is kept.
    #[test]
    fn a_dashboard_of_thousands_of_errors_stays_within_githubs_limit() {
        let entry = |i: usize| Entry {
            text: format!("`pkg{i:04}` in `requirements.txt`"),
            detail: format!(
                "Cannot look up `pkg{i:04}`: {}",
                "the index answered 500 ".repeat(8)
            ),
        };
        let dashboard = Dashboard {
            open: (0..20).map(entry).collect(),
            errors: (0..3000).map(entry).collect(),
            ..Dashboard::default()
        };
        let body = render(&dashboard);
        assert!(body.chars().count() <= 65_536, "{}", body.len());
        assert!(body.ends_with("<!-- repin:dashboard -->\n"));
        let open = body.split("## Held back").next().unwrap();
        assert_eq!(open.matches("\n- `pkg").count(), 20, "{open}");
        let errors = body.split("## Errors").nth(1).unwrap();
        let shown = errors.matches("\n- `pkg").count();
        assert!(shown > 100 && shown < 3000, "{shown}");
        assert!(
            errors.contains(&format!(
                "- … and {} more, left out to keep this issue within GitHub's length limit",
                3000 - shown
            )),
            "{errors}"
        );
    }
}
