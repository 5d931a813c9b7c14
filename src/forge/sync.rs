//! What to do with each planned branch and each of repin's open pull requests. Pure: the
//! pull requests GitHub listed and the planned branches in, actions out.
//!
//! The rules:
//! - a planned branch with an open pull request is refreshed (recommitted and retitled only
//!   when something changed; that is the executor's job, with git);
//! - a planned branch without one is created, unless the user closed, unmerged, a pull
//!   request of the same branch holding the same updates: that means "ignore this version",
//!   except for security fixes; or one closed by `@repin ignore this major version` (minor
//!   version, dependency) whose scope covers all its updates; or a limit holds it back
//!   (security fixes exempt); a branch whose box was ticked on the dashboard is created
//!   whatever those say;
//! - an open pull request whose branch is no longer planned is closed with the reason: the
//!   dependency is gone, it was updated by hand, or another update supersedes it;
//! - an open pull request on a `repin/` branch without repin's marker was edited beyond
//!   recognition (or is someone else's): it is left alone and reported.

use std::collections::BTreeMap;

use super::github::PullRequest;
use crate::plan::{Branch, Marker};

/// One thing to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Push the branch and open its pull request.
    Create {
        /// Index into the planned branches.
        branch: usize,
    },
    /// Bring an open pull request up to date with its planned branch.
    Refresh {
        /// Index into the planned branches.
        branch: usize,
        /// The open pull request.
        pr: PullRequest,
    },
    /// Close a pull request that is no longer needed, saying why.
    Close {
        /// The pull request.
        pr: PullRequest,
        /// Why, for the comment.
        reason: String,
    },
    /// Not opened: the user closed a pull request with these very updates.
    Ignored {
        /// Index into the planned branches.
        branch: usize,
        /// The pull request the user closed.
        pr: PullRequest,
    },
    /// Not opened now, because of a limit.
    HeldBack {
        /// Index into the planned branches.
        branch: usize,
        /// Which limit.
        why: String,
    },
    /// An open pull request on a repin branch without repin's marker: left alone.
    Unrecognised {
        /// The pull request.
        pr: PullRequest,
    },
}

/// Limits on new pull requests (security fixes are exempt).
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// Open pull requests at once; 0 for no limit.
    pub max_open: u32,
    /// Pull requests opened per hour; 0 for no limit.
    pub max_per_hour: u32,
    /// Now, in seconds since the epoch.
    pub now: i64,
}

/// The current values of the dependencies called `name` in `file` (empty when there is none).
pub type Current<'a> = &'a dyn Fn(&str, &str) -> Vec<String>;

fn same_updates(a: &Marker, b: &Marker) -> bool {
    a.updates == b.updates
}

/// Decide. `closed` holds, for planned branches without an open pull request, the closed pull
/// requests of that branch; `ticked`, the branches whose boxes someone ticked on the dashboard:
/// they are created whatever the limits and the closed pull requests say.
pub fn decide(
    planned: &[Branch],
    open: &[PullRequest],
    closed: &BTreeMap<String, Vec<PullRequest>>,
    ticked: &[String],
    limits: Limits,
    current: Current<'_>,
) -> Vec<Action> {
    let mut actions = Vec::new();
    let mut open_ours = 0u32;
    let mut by_branch: BTreeMap<&str, &PullRequest> = BTreeMap::new();
    for pr in open {
        if Marker::find(&pr.body).is_none() {
            actions.push(Action::Unrecognised { pr: pr.clone() });
            continue;
        }
        // Two open pull requests of one branch cannot happen on GitHub; keep the first.
        by_branch.entry(pr.head.as_str()).or_insert(pr);
    }
    for pr in by_branch.values() {
        if !planned.iter().any(|b| b.name == pr.head) {
            let marker = Marker::find(&pr.body).expect("kept only pull requests with a marker");
            actions.push(Action::Close {
                pr: (*pr).clone(),
                reason: close_reason(&marker, planned, current),
            });
        } else {
            open_ours += 1;
        }
    }
    let hour_ago = limits.now - 3600;
    let mut opened_last_hour = u32::try_from(
        open.iter()
            .chain(closed.values().flatten())
            .filter(|p| p.created_at > hour_ago)
            .count(),
    )
    .unwrap_or(u32::MAX);
    // Security fixes first, then by kind and name: what a limit holds back is the least urgent.
    let mut order: Vec<usize> = (0..planned.len()).collect();
    order.sort_by(|&a, &b| {
        (planned[a].kind, &planned[a].name).cmp(&(planned[b].kind, &planned[b].name))
    });
    for index in order {
        let branch = &planned[index];
        if let Some(pr) = by_branch.get(branch.name.as_str()) {
            actions.push(Action::Refresh {
                branch: index,
                pr: (*pr).clone(),
            });
            continue;
        }
        if ticked.contains(&branch.name) {
            open_ours += 1;
            opened_last_hour += 1;
            actions.push(Action::Create { branch: index });
            continue;
        }
        let marker = branch.marker();
        // Closed unmerged with these very updates, or closed by `@repin ignore …` with a scope
        // that covers every update of the branch.
        let ignored = closed.get(&branch.name).and_then(|prs| {
            prs.iter().find(|p| {
                !p.merged
                    && Marker::find(&p.body).is_some_and(|m| {
                        same_updates(&m, &marker)
                            || (m.ignore.is_some()
                                && marker
                                    .updates
                                    .iter()
                                    .all(|u| m.ignores(&u.file, &u.name, &u.to)))
                    })
            })
        });
        if let (Some(pr), false) = (ignored, branch.is_security()) {
            actions.push(Action::Ignored {
                branch: index,
                pr: pr.clone(),
            });
            continue;
        }
        if !branch.is_urgent() {
            if limits.max_open > 0 && open_ours >= limits.max_open {
                actions.push(Action::HeldBack {
                    branch: index,
                    why: format!("at most {} pull requests open at once", limits.max_open),
                });
                continue;
            }
            if limits.max_per_hour > 0 && opened_last_hour >= limits.max_per_hour {
                actions.push(Action::HeldBack {
                    branch: index,
                    why: format!(
                        "at most {} pull requests opened per hour",
                        limits.max_per_hour
                    ),
                });
                continue;
            }
        }
        open_ours += 1;
        opened_last_hour += 1;
        actions.push(Action::Create { branch: index });
    }
    actions
}

fn close_reason(marker: &Marker, planned: &[Branch], current: Current<'_>) -> String {
    let mut reasons = Vec::new();
    let mut unexplained = Vec::new();
    for update in &marker.updates {
        let values = current(&update.file, &update.name);
        if values.is_empty() {
            reasons.push(format!(
                "`{}` is no longer in `{}`",
                update.name, update.file
            ));
        } else if values.contains(&update.to) {
            reasons.push(format!(
                "`{}` is already at `{}` in `{}`",
                update.name, update.to, update.file
            ));
        } else {
            unexplained.push(update);
        }
    }
    for update in unexplained {
        let successor = planned.iter().find(|b| {
            b.items
                .iter()
                .any(|i| i.file == update.file && i.name == update.name)
        });
        reasons.push(match successor {
            Some(branch) => format!(
                "`{}` {} is superseded by `{}` ({})",
                update.name,
                update.to,
                branch.items
                    .iter()
                    .find(|i| i.file == update.file && i.name == update.name)
                    .map_or("", |i| i.update.proposed.as_str()),
                branch.name
            ),
            None => format!(
                "`{}` {} in `{}` is no longer due (held back or ignored by configuration, or the release was withdrawn)",
                update.name, update.to, update.file
            ),
        });
    }
    reasons.join("; ")
}

#[cfg(test)]
mod tests;
