//! The lookup job every reporting command starts with: load the repository's manifests, look
//! every dependency up once, decide, and keep what the session and the repository were.

use std::path::PathBuf;

use super::progress::Progress;
use super::session::{Session, SessionError, SessionOptions};
use crate::lookup::{Checker, Outcome};
use crate::manifest::workspace::Workspace;

/// A loaded repository and its lookups.
pub struct Run {
    /// The manifests read.
    pub workspace: Workspace,
    /// The lookups and decisions.
    pub outcome: Outcome,
    /// The repository root.
    pub root: PathBuf,
    /// The session's clients (a command may go on using them).
    pub checker: Checker,
}

/// What the lookup job does beyond reporting.
#[derive(Debug, Clone, Copy, Default)]
pub struct Purpose {
    /// The run makes pull requests: find each proposed release's changelog, and make the
    /// full re-locks of `[update] lock-maintenance` when they are due (their own pull
    /// requests).
    pub pull_requests: bool,
}

/// Open a session for `options`, load the repository and look everything up on `runtime`
/// (which the caller may go on using with the same clients).
pub fn look_up(
    runtime: &tokio::runtime::Runtime,
    options: &SessionOptions,
    purpose: Purpose,
) -> Result<Run, SessionError> {
    let Session { mut checker, root } = Session::open(options)?;
    checker.release_links = purpose.pull_requests;
    checker.lock_maintenance = purpose.pull_requests;
    let workspace = Workspace::load(&options.paths);
    let outcome = runtime.block_on(async {
        let count = workspace
            .manifests
            .iter()
            .map(|m| m.dependencies.len())
            .sum();
        let _progress = Progress::start(count, checker.pypi.http());
        checker.check(&workspace, &root).await
    });
    Ok(Run {
        workspace,
        outcome,
        root,
        checker,
    })
}
