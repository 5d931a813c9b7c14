//! Whether an open pull request's branch gets a new commit: the rebase policy and the commands
//! a maintainer gave (`@repin rebase`, `@repin recreate`), decided from what git says about the
//! branch. Pure: the caller reads git and acts.

use crate::vocab::BranchCommand;

/// What git says about an open pull request's branch, next to the commit repin would make now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchState {
    /// The author of the branch's last commit, when it is not repin: someone else pushed.
    pub foreign_author: Option<String>,
    /// The branch's commit sits on the base branch's head.
    pub on_base_head: bool,
    /// The branch holds the files repin's commit would.
    pub same_content: bool,
    /// The updates the branch carries changed (its marker differs).
    pub updates_changed: bool,
}

/// Where the commit goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Base<'a> {
    /// The base branch's name.
    pub name: &'a str,
    /// Its head, abbreviated.
    pub head: &'a str,
}

/// What to do with the branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refresh {
    /// Someone else's commits are on it: it is left as it is (its title, body and labels too).
    LeftAlone {
        /// Why, for the report.
        detail: String,
        /// The answer to a command given on it, to post on the pull request.
        answer: Option<String>,
    },
    /// repin's branch: push the new commit or not.
    Commit {
        /// Force-push repin's commit onto the branch.
        push: bool,
        /// Why, for the report (empty when nothing is pushed).
        why: Vec<String>,
        /// The answer to a command given on it, to post on the pull request.
        answer: Option<String>,
    },
}

/// Decide for a branch in `state`, with `asked` the command given on its pull request and
/// `policy_rebases` whether the repository's rebase policy rebases a branch that is not on the
/// base head (asked only then: it may read files).
pub fn decide(
    state: &BranchState,
    asked: Option<BranchCommand>,
    base: Base<'_>,
    policy_rebases: impl FnOnce() -> bool,
) -> Refresh {
    let Base { name, head } = base;
    // An ignore closes the pull request before any refresh; one whose close failed is
    // refreshed as if nothing was asked.
    let asked = asked.filter(|c| matches!(c, BranchCommand::Rebase | BranchCommand::Recreate));
    if let Some(author) = &state.foreign_author {
        match asked {
            Some(BranchCommand::Recreate) => {}
            Some(BranchCommand::Rebase) => {
                return Refresh::LeftAlone {
                    detail: format!(
                        "{} was asked, but its last commit is by <{author}> and a rebase would drop it; {} replaces it",
                        BranchCommand::Rebase.text(),
                        BranchCommand::Recreate.text()
                    ),
                    answer: Some(format!(
                        "Not rebased: the last commit on this branch is by <{author}>, and a rebase would drop it. Comment `{}` to make the branch again from `{name}`, replacing those commits.",
                        BranchCommand::Recreate.text()
                    )),
                };
            }
            None | Some(BranchCommand::Ignore(_)) => {
                return Refresh::LeftAlone {
                    detail: format!(
                        "its last commit is by <{author}>, so repin no longer updates it; close it to let repin start again"
                    ),
                    answer: None,
                };
            }
        }
    }
    match asked {
        // Asked for: a new commit even when the branch holds the same one (a maintainer may
        // want its checks run again).
        Some(BranchCommand::Recreate) => Refresh::Commit {
            push: true,
            why: vec![format!(
                "recreated from the base branch, as asked ({})",
                BranchCommand::Recreate.text()
            )],
            answer: Some(format!(
                "Recreated from `{name}` ({head}){}.",
                state
                    .foreign_author
                    .as_ref()
                    .map(|author| format!(", replacing the commits by <{author}>"))
                    .unwrap_or_default()
            )),
        },
        Some(BranchCommand::Rebase) if !state.on_base_head => Refresh::Commit {
            push: true,
            why: vec![format!(
                "rebased on the base branch, as asked ({})",
                BranchCommand::Rebase.text()
            )],
            answer: Some(format!("Rebased on `{name}` ({head}).")),
        },
        _ if state.on_base_head => {
            let answer = (asked == Some(BranchCommand::Rebase)).then(|| {
                format!(
                    "Nothing to rebase: this branch is already on the head of `{name}` ({head})."
                )
            });
            if state.same_content {
                Refresh::Commit {
                    push: false,
                    why: Vec::new(),
                    answer,
                }
            } else {
                Refresh::Commit {
                    push: true,
                    why: vec!["new commit".to_owned()],
                    answer,
                }
            }
        }
        _ => {
            // Behind the base: the policy says whether to rebase; a change of the updates is
            // committed either way (on the base head, so it is a rebase too).
            if policy_rebases() {
                Refresh::Commit {
                    push: true,
                    why: vec!["rebased on the base branch".to_owned()],
                    answer: None,
                }
            } else if state.updates_changed {
                Refresh::Commit {
                    push: true,
                    why: vec!["new commit".to_owned()],
                    answer: None,
                }
            } else {
                Refresh::Commit {
                    push: false,
                    why: Vec::new(),
                    answer: None,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Base<'static> = Base {
        name: "main",
        head: "1a2b3c4d5e6f",
    };

    fn state(foreign: bool, on_base_head: bool, same_content: bool, changed: bool) -> BranchState {
        BranchState {
            foreign_author: foreign.then(|| "dev@example.com".to_owned()),
            on_base_head,
            same_content,
            updates_changed: changed,
        }
    }

    fn pushed(refresh: &Refresh) -> bool {
        matches!(refresh, Refresh::Commit { push: true, .. })
    }

    #[test]
    fn without_a_command_the_policy_decides_and_someone_elses_branch_is_left() {
        // Up to date: nothing, and the policy is not even asked.
        let up_to_date = decide(&state(false, true, true, false), None, BASE, || {
            panic!("the policy is asked only for a branch behind its base")
        });
        assert!(!pushed(&up_to_date));
        // On the base head with other content: a new commit.
        assert!(pushed(&decide(
            &state(false, true, false, true),
            None,
            BASE,
            || false
        )));
        // Behind: as the policy says, or when the updates changed.
        assert!(pushed(&decide(
            &state(false, false, true, false),
            None,
            BASE,
            || true
        )));
        assert!(!pushed(&decide(
            &state(false, false, true, false),
            None,
            BASE,
            || false
        )));
        assert!(pushed(&decide(
            &state(false, false, true, true),
            None,
            BASE,
            || false
        )));
        // Someone else's commits: left alone whatever the policy.
        let left = decide(&state(true, false, false, true), None, BASE, || true);
        assert!(
            matches!(&left, Refresh::LeftAlone { detail, answer: None } if detail.starts_with("its last commit is by <dev@example.com>")),
            "{left:?}"
        );
    }

    #[test]
    fn a_rebase_is_forced_over_the_policy_but_never_over_someone_elses_commits() {
        let rebase = Some(BranchCommand::Rebase);
        let behind = decide(&state(false, false, true, false), rebase, BASE, || false);
        assert_eq!(
            behind,
            Refresh::Commit {
                push: true,
                why: vec!["rebased on the base branch, as asked (@repin rebase)".into()],
                answer: Some("Rebased on `main` (1a2b3c4d5e6f).".into()),
            }
        );
        let there = decide(&state(false, true, true, false), rebase, BASE, || true);
        assert_eq!(
            there,
            Refresh::Commit {
                push: false,
                why: Vec::new(),
                answer: Some(
                    "Nothing to rebase: this branch is already on the head of `main` (1a2b3c4d5e6f)."
                        .into()
                ),
            }
        );
        let theirs = decide(&state(true, false, false, false), rebase, BASE, || true);
        let Refresh::LeftAlone {
            detail,
            answer: Some(answer),
        } = theirs
        else {
            panic!("{theirs:?}");
        };
        assert!(detail.contains("@repin recreate replaces it"), "{detail}");
        assert!(answer.contains("Comment `@repin recreate`"), "{answer}");
    }

    #[test]
    fn a_recreate_always_pushes_and_names_whose_commits_it_replaced() {
        let recreate = Some(BranchCommand::Recreate);
        for foreign in [false, true] {
            for on_base_head in [false, true] {
                let refresh = decide(
                    &state(foreign, on_base_head, true, false),
                    recreate,
                    BASE,
                    || false,
                );
                let Refresh::Commit {
                    push: true,
                    answer: Some(answer),
                    ..
                } = &refresh
                else {
                    panic!("{refresh:?}");
                };
                assert_eq!(
                    answer.contains("replacing the commits by <dev@example.com>"),
                    foreign,
                    "{answer}"
                );
            }
        }
    }
}
