//! `repin lock`: resolving a `.in` into a fully pinned, hashed requirements file or `pylock.toml`.
//!
//! The stages, one module each:
//!
//! - [`target`]: the one environment a lock is for (a Python version on Linux x86_64,
//!   CPython), as PEP 508 marker values;
//! - [`source`]: where releases and their metadata come from, as a trait, so the resolver is
//!   pure and table-tested on an in-memory `memory::MemorySource`; [`pypi`] is the real one
//!   (the shared PyPI client, prefetching concurrently, each project kept as a compact
//!   [`listing`] that a warm run reads instead of the index page);
//! - [`resolve`](mod@resolve): PubGrub (the `pubgrub` crate) over that source: markers evaluated for the
//!   target, extras as virtual packages, constraints, yanks, pre-releases, `Requires-Python`,
//!   preferences for the versions of an existing lock;
//! - [`report`]: a failed resolution explained from PubGrub's derivation tree;
//! - [`input`]: the `.in` file and its includes, the existing lock's versions, and the
//!   check that a written lock reads back;
//! - [`output`]: the lock file, in pip-compile's format;
//! - [`pylock`]: the lock file as a `pylock.toml` (PEP 751), with each package's index and
//!   files, for an output named so;
//! - [`format`](mod@format): an existing compiled lock's layout (pip-compile's, uv's or repin's, with the
//!   options of its recorded command line), to write a re-lock as its tool would;
//! - [`relock`]: an existing lock re-resolved with its pins preferred and what an update asks
//!   for as a constraint, and the pins that moved.
//!
//! Nothing here edits another file: the front end writes the output, atomically.

pub mod format;
pub mod input;
pub mod listing;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod output;
pub mod pylock;
pub mod pypi;
pub mod relock;
pub mod report;
pub mod resolve;
pub mod source;
pub mod target;
pub mod wheels;

#[cfg(any(test, feature = "testing"))]
pub use memory::MemorySource;
pub use output::{Header, render};
pub use resolve::{Locked, Request, Resolution, Via, resolve};
pub use source::{Candidate, Failure, PackageSource, SourceError};
pub use target::Target;

/// Why a lock could not be made.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// No set of versions satisfies the requirements; the explanation is PubGrub's, one
    /// sentence a line.
    #[error("No set of versions satisfies the requirements of {file}")]
    Conflict {
        /// The file being locked.
        file: String,
        /// The derivation, as sentences (capitalised, no trailing period).
        explanation: Vec<String>,
        /// What the user may change.
        hints: Vec<String>,
    },
    /// The package source failed (network, index errors).
    #[error("Cannot look up `{package}`")]
    Source {
        /// The package.
        package: String,
        /// What went wrong.
        #[source]
        source: source::Failure,
    },
    /// A requirement repin cannot lock (a URL, an editable).
    #[error("`{requirement}` cannot be locked: {reason}")]
    Unsupported {
        /// The requirement as written.
        requirement: String,
        /// Why.
        reason: String,
    },
    /// The target environment is not valid (a Python version that is not `X.Y`).
    #[error("Invalid target Python `{python}`")]
    InvalidTarget {
        /// What was given.
        python: String,
    },
    /// The files of a locked release could not be had, for a `pylock.toml`.
    #[error("Cannot list the files of `{package}` for the `pylock.toml`")]
    Files {
        /// The package and its version.
        package: String,
        /// Why.
        #[source]
        source: source::Failure,
    },
    /// A locked release has nothing a `pylock.toml` can list.
    #[error(transparent)]
    Pylock(#[from] pylock::PylockError),
    /// The rendered lock does not read back as its resolution (a bug).
    #[error("The lock does not read back as written, so it was not written")]
    ReadBack(#[source] input::ReadBackError),
}

impl LockError {
    /// `Caused by:` lines (beyond the error's own sources) and `hint:` lines, for the front end.
    pub fn details(&self) -> (Vec<String>, Vec<String>) {
        match self {
            LockError::Conflict {
                explanation, hints, ..
            } => (explanation.clone(), hints.clone()),
            _ => (Vec::new(), Vec::new()),
        }
    }
}

impl crate::error::Hint for LockError {
    fn hints(&self) -> Vec<String> {
        match self {
            LockError::Source { source, .. } | LockError::Files { source, .. } => source.hints(),
            LockError::Pylock(error) => error.hints(),
            LockError::ReadBack(why) => vec![format!("this is a bug in repin: {why}")],
            _ => self.details().1,
        }
    }
}
