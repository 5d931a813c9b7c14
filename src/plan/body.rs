//! Pull-request bodies and commit messages.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::{AdvisoryNote, Item, Marker, display_name};
use crate::versioning::UpdateKind;
use crate::vocab::markdown;

/// A Markdown table cell (PR bodies, the job summary): pipes escaped, one line.
pub fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn release_date(item: &Item, now: i64) -> String {
    item.update
        .age
        .and_then(|age| i64::try_from(age.as_secs()).ok())
        .and_then(|age| jiff::Timestamp::from_second(now - age).ok())
        .map_or_else(String::new, |t| t.strftime("%Y-%m-%d").to_string())
}

/// The body: a table of the updates, what reached its end of life for a migration, the
/// advisories they fix, links to the new releases, and the marker. Nothing in it depends on when it is written (release dates, not ages), so an
/// unchanged update gives an unchanged body.
pub fn render(
    items: &[Item],
    advisories: &BTreeMap<String, AdvisoryNote>,
    now: i64,
    marker: &Marker,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| Dependency | File | From | To | Kind | Released |\n|---|---|---|---|---|---|"
    );
    for item in items {
        let _ = writeln!(
            out,
            "| {} | `{}`:{} | `{}` | `{}` | {}{} | {} |",
            cell(match &item.update.change {
                crate::manifest::edit::Change::Relock(r) if r.update_kind.is_none() => {
                    "(every pin)"
                }
                _ => display_name(&item.name),
            }),
            cell(&item.file),
            item.line,
            cell(&item.update.current),
            cell(&item.update.proposed),
            item.update.kind,
            match (item.update.is_security(), &item.update.yanked) {
                (true, _) => ", security",
                (false, Some(_)) => ", yanked",
                _ => "",
            },
            release_date(item, now),
        );
    }
    // A yanked pin: the index's word on why it was pulled.
    let yanked: Vec<(&Item, &String)> = items
        .iter()
        .filter_map(|i| i.update.yanked.as_ref().map(|why| (i, why)))
        .collect();
    if !yanked.is_empty() {
        let _ = writeln!(out, "\n### Yanked\n");
        for (item, why) in yanked {
            let _ = writeln!(
                out,
                "- {} `{}` is yanked on its index{}",
                display_name(&item.name),
                item.update.current,
                if why.is_empty() {
                    String::new()
                } else {
                    format!(": {}", markdown::inline(why))
                }
            );
        }
    }
    // A migration changes more than its tag shows: say what reached its end of life.
    let migrations: Vec<&Item> = items
        .iter()
        .filter(|i| i.update.kind == UpdateKind::Migration)
        .collect();
    if !migrations.is_empty() {
        let _ = writeln!(out, "\n### End of life\n");
        for item in migrations {
            let _ = writeln!(
                out,
                "- {} `{}`: {}",
                display_name(&item.name),
                item.update.current,
                markdown::inline(&item.update.reason)
            );
        }
    }
    // A re-lock moves more than its own pin: every pin it moves, with why.
    for item in items {
        let crate::manifest::edit::Change::Relock(relock) = &item.update.change else {
            continue;
        };
        let _ = writeln!(
            out,
            "\n### Re-locked `{}`\n\n{}; these pins move:\n",
            cell(&item.file),
            if relock.update_kind.is_some() {
                "Resolved again from its input with every other pin kept"
            } else {
                "Resolved again from its input with every pin free to move"
            }
        );
        moved_table(&mut out, &relock.moved);
    }
    // An update of a `.in` moves the locks compiled from it in the same change.
    for item in items {
        for (file, companion) in item.companion_files() {
            let _ = writeln!(
                out,
                "\n### Re-locked `{}` with `{}`\n\nResolved again from `{}` as this update leaves it, with every other pin kept; these pins move:\n",
                cell(&file),
                cell(&item.file),
                cell(&item.file)
            );
            moved_table(&mut out, &companion.relock.moved);
        }
    }
    let fixed: BTreeSet<&String> = items.iter().flat_map(|i| &i.update.fixes).collect();
    if !fixed.is_empty() {
        let _ = writeln!(
            out,
            "\n### Vulnerabilities fixed\n\n| Advisory | Aliases | Severity | Summary |\n|---|---|---|---|"
        );
        for id in fixed {
            match advisories.get(id) {
                Some(note) => {
                    let id = markdown::cell(&note.id);
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | {} |",
                        match markdown::link(&note.url) {
                            Some(url) => format!("[{id}]({url})"),
                            None => id,
                        },
                        markdown::cell(&note.aliases.join(", ")),
                        markdown::cell(note.severity.as_deref().unwrap_or("unknown")),
                        markdown::cell(note.summary.as_deref().unwrap_or("")),
                    );
                }
                None => {
                    let _ = writeln!(out, "| {} | | unknown | |", markdown::cell(id));
                }
            }
        }
    }
    // A link is the index's word (a project's release-notes URL): shown only as an https
    // autolink, never as Markdown of its own.
    let links: Vec<(&str, String)> = items
        .iter()
        .filter_map(|i| {
            let link = markdown::link(i.link.as_deref()?)?;
            Some((display_name(&i.name), link))
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !links.is_empty() {
        let _ = writeln!(out, "\n### Release notes\n");
        for (name, link) in links {
            let _ = writeln!(out, "- {name}: {link}");
        }
    }
    let marker = marker.render();
    let footer = "\n---\nOpened by repin. It updates this pull request in place while the update is \
                  due and closes it when it is not. Close it unmerged to ignore this version \
                  (security fixes excepted).\n\n";
    cut_to(
        &mut out,
        GITHUB_BODY_LIMIT.saturating_sub(footer.len() + marker.len() + CUT_NOTE.len() + 1),
    );
    let _ = writeln!(out, "{footer}{marker}");
    out
}

/// GitHub's limit on a pull request's body, in characters (a body is measured here in bytes,
/// never fewer).
const GITHUB_BODY_LIMIT: usize = 65_536;

/// Said where a body was cut.
const CUT_NOTE: &str = "\n… cut here to keep this pull request within GitHub's length limit; the commit message lists every change.\n";

/// `body` cut at the last line break that leaves it at most `limit` bytes, with a note, when
/// it is longer (a re-lock moving thousands of pins, a group of hundreds of updates).
fn cut_to(body: &mut String, limit: usize) {
    if body.len() <= limit {
        return;
    }
    let boundary = (0..=limit)
        .rev()
        .find(|&i| body.is_char_boundary(i))
        .unwrap_or(0);
    let end = body[..boundary].rfind('\n').map_or(0, |i| i + 1);
    body.truncate(end);
    body.push_str(CUT_NOTE);
}

/// The table of the pins a re-lock moves, with why.
fn moved_table(out: &mut String, moved: &[crate::manifest::edit::MovedPin]) {
    let _ = writeln!(out, "| Package | From | To | Why |\n|---|---|---|---|");
    for moved in moved {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell(&moved.name),
            moved
                .from
                .as_deref()
                .map_or_else(|| "(new)".to_owned(), |v| format!("`{}`", cell(v))),
            moved
                .to
                .as_deref()
                .map_or_else(|| "(removed)".to_owned(), |v| format!("`{}`", cell(v))),
            cell(&moved.why)
        );
    }
}

/// The commit message: the title, then one line per update (and per pin a re-lock moves).
pub fn commit_message(title: &str, items: &[Item]) -> String {
    let mut out = format!("{title}\n\n");
    for item in items {
        if let crate::manifest::edit::Change::Relock(relock) = &item.update.change {
            let _ = writeln!(out, "Re-locked {}:", item.file);
            for moved in &relock.moved {
                let _ = writeln!(out, "- {}", moved.describe());
            }
            continue;
        }
        let _ = writeln!(
            out,
            "- {} {} -> {} ({}:{})",
            display_name(&item.name),
            item.update.current,
            item.update.proposed,
            item.file,
            item.line
        );
        for (file, companion) in item.companion_files() {
            let _ = writeln!(out, "  Re-locked {file} with it:");
            for moved in &companion.relock.moved {
                let _ = writeln!(out, "  - {}", moved.describe());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cell_escapes_pipes_and_stays_on_one_line() {
        assert_eq!(super::cell("a|b\nc"), "a\\|b c");
    }
}
