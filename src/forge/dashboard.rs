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

/// Everything the dashboard shows.
#[derive(Debug, Clone, Default)]
pub struct Dashboard {
    /// Open pull requests, after this run.
    pub open: Vec<Entry>,
    /// Updates not opened because of a limit (detail: which).
    pub held_back: Vec<Entry>,
    /// Updates not opened because the user closed their pull request (detail: its URL).
    pub ignored: Vec<Entry>,
    /// Vulnerable pins without a fixed release (detail: the advisories).
    pub no_fix: Vec<Entry>,
    /// Requirements that admit no release installable on their file's target (detail: why).
    pub cannot_install: Vec<Entry>,
    /// Pins of releases yanked on their index (detail: the index's reason, and the way off).
    pub yanked: Vec<Entry>,
    /// Lookups and branches that failed (detail: why).
    pub errors: Vec<Entry>,
}

fn section(out: &mut String, heading: &str, entries: &[Entry], empty: &str) {
    let _ = writeln!(out, "## {heading}\n");
    if entries.is_empty() {
        let _ = writeln!(out, "{empty}\n");
        return;
    }
    let mut sorted = entries.to_vec();
    sorted.sort();
    for entry in sorted {
        let detail = entry.detail.replace('\n', " ");
        if detail.is_empty() {
            let _ = writeln!(out, "- {}", entry.text);
        } else {
            let _ = writeln!(out, "- {}: {detail}", entry.text);
        }
    }
    out.push('\n');
}

/// The body. Sorted and free of timestamps, so an unchanged state gives an unchanged
/// body and the issue is not edited.
pub fn render(dashboard: &Dashboard) -> String {
    let mut out = String::from(
        "This issue lists the dependency updates repin knows about. repin rewrites it on every run. \
         Close it and repin stops writing it (pull requests go on); reopen it to turn it back on. \
         To have none, set `dashboard = false` under `[pull-requests]` in `repin.toml`.\n\n",
    );
    section(&mut out, "Open pull requests", &dashboard.open, "None.");
    section(
        &mut out,
        "Held back by limits",
        &dashboard.held_back,
        "None.",
    );
    section(
        &mut out,
        "Ignored (pull request closed unmerged)",
        &dashboard.ignored,
        "None.",
    );
    section(
        &mut out,
        "Vulnerable, with no fixed release",
        &dashboard.no_fix,
        "None.",
    );
    if !dashboard.cannot_install.is_empty() {
        section(
            &mut out,
            "Cannot be installed",
            &dashboard.cannot_install,
            "None.",
        );
    }
    if !dashboard.yanked.is_empty() {
        section(
            &mut out,
            "Yanked on their index",
            &dashboard.yanked,
            "None.",
        );
    }
    section(&mut out, "Errors", &dashboard.errors, "None.");
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
}
