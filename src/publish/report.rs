//! What a `repin pr` run did, one line a branch or pull request: printed by the front end,
//! and read back for the dashboard.

use crate::plan::Branch;

/// What happened to one branch or pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    /// A pull request was opened.
    Created,
    /// An open pull request got a new commit, title or body.
    Updated,
    /// An open pull request was already right.
    Unchanged,
    /// A pull request was closed.
    Closed,
    /// Not opened: the user closed it unmerged.
    Ignored,
    /// Not opened: a limit.
    HeldBack,
    /// An open pull request on a repin branch without repin's marker, left alone.
    Unrecognised,
    /// An open pull request whose branch someone else pushed to: repin no longer updates it.
    Edited,
    /// Something failed.
    Failed,
}

impl Verb {
    /// The word printed (in the future tense in a dry run).
    pub fn word(&self, dry_run: bool) -> &'static str {
        match (self, dry_run) {
            (Verb::Created, false) => "created",
            (Verb::Created, true) => "create",
            (Verb::Updated, false) => "updated",
            (Verb::Updated, true) => "update",
            (Verb::Unchanged, _) => "unchanged",
            (Verb::Closed, false) => "closed",
            (Verb::Closed, true) => "close",
            (Verb::Ignored, _) => "ignored",
            (Verb::HeldBack, _) => "held back",
            (Verb::Unrecognised, _) => "left alone",
            (Verb::Edited, _) => "edited",
            (Verb::Failed, _) => "failed",
        }
    }
}

/// One line of the run's report.
#[derive(Debug, Clone)]
pub struct Line {
    /// What happened.
    pub verb: Verb,
    /// The branch.
    pub branch: String,
    /// The pull request's title.
    pub title: String,
    /// The pull request's URL, when there is one.
    pub url: Option<String>,
    /// Why (a close reason, a limit, an error), with what to do about it.
    pub detail: crate::vocab::Message,
    /// The edits, as unified diffs (dry runs and new commits).
    pub diff: String,
}

/// The result of a run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The base branch and its head.
    pub base: String,
    /// One line per branch or pull request.
    pub lines: Vec<Line>,
    /// The planned branches.
    pub branches: Vec<Branch>,
    /// The dashboard issue's URL, when one was written or found.
    pub dashboard: Option<String>,
    /// Errors that stopped the whole run (the base could not be fetched...), with their hints.
    pub fatal: Option<crate::vocab::Message>,
}

impl Report {
    /// Whether anything failed.
    pub fn has_failures(&self) -> bool {
        self.fatal.is_some() || self.lines.iter().any(|l| l.verb == Verb::Failed)
    }
}
