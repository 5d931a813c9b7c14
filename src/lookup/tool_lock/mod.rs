//! `uv.lock`, `poetry.lock` and `Pipfile.lock` updates, made by uv, Poetry and Pipenv
//! themselves: each lock carries its tool's resolution (uv's universal resolution with forks,
//! markers and every file's hash), and Poetry's and Pipenv's are tied to their manifest by a
//! hash only the tool computes (`content-hash`, `_meta.hash`), so the tool re-locks it. One
//! orchestration serves the three; what differs per tool (command line, environment, what is
//! verified) is in [`uv`], [`poetry`] and [`pipenv`].
//!
//! - An update of a requirement of a `pyproject.toml` with a `uv.lock` or `poetry.lock` beside
//!   it, or of a `Pipfile` with a `Pipfile.lock`, becomes one update writing both: the manifest
//!   edited as for any, and as its companion ([`crate::decide::Companion`]) the lock as the
//!   tool writes it for the edited manifest, keeping every other pin.
//! - A security fix of a pin of the lock (a transitive one, or a direct one the manifest's
//!   range allows) is an update of kind `lock` whose change is the lock as the tool's own
//!   upgrade of that package writes it; the manifest is unchanged.
//! - Routine updates of the lock's pins are not proposed: they move with their manifest's
//!   requirement, or with a re-lock the user asks for.
//!
//! - A uv workspace (a root `pyproject.toml` with `[tool.uv.workspace]` and one `uv.lock`) is
//!   re-locked at its root: an update of a requirement of a member's pyproject has the root's
//!   lock as its companion ([`uv_workspace`]).
//!
//! The tool runs in a scratch copy of the project (the manifest and the lock only, and for a uv
//! workspace each member's `pyproject.toml` at its place below the root), never in the
//! repository, with its environment cleared, its home, configuration and environments in
//! the scratch, a timeout and its output captured ([`process`]). The new lock is verified
//! before it is proposed ([`job`]): it parses with repin's reader without errors, carries its
//! hash (Poetry, Pipenv), pins the package at a version the update allows (for a security fix,
//! exactly the fixed version with uv, which can be told it; the fixed version or a later one
//! with Poetry and Pipenv, which cannot, and the update then proposes the version the tool
//! wrote), the tool's own check (`poetry check --lock`, `pipenv verify`) accepts it with the
//! manifest repin writes, and no pin it moves is younger than the minimum release age
//! ([`cooldown`]). When the tool is missing or cannot re-lock, the update is held back with the
//! command to run.

mod checker;
pub mod cooldown;
pub mod credentials;
mod job;
pub mod pipenv;
pub mod poetry;
pub mod process;
mod project;
pub mod uv;
pub mod uv_workspace;

use crate::manifest::ManifestKind;
use crate::manifest::edit;

use self::process::ProcessError;
pub use self::project::{ToolProject, tool_projects};

/// Why a tool's lock could not be re-locked.
#[derive(Debug, thiserror::Error)]
pub enum ToolRelockError {
    /// The project cannot be re-locked in a scratch copy.
    #[error("{0}")]
    NotRelockable(String),
    /// The tool could not run, or failed.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// The lock the tool wrote does not verify.
    #[error("The lock {tool} wrote does not verify: {why}")]
    Verification {
        /// The tool's program.
        tool: &'static str,
        /// What was wrong.
        why: String,
    },
    /// The tool wrote a pin younger than the minimum release age.
    #[error(
        "{tool} writes `{name}` {version}, released {age} ago, younger than the minimum release age of {minimum}"
    )]
    TooYoung {
        /// The tool's name.
        tool: &'static str,
        /// The package.
        name: String,
        /// The version the tool wrote.
        version: String,
        /// How old that release is, as people say it.
        age: String,
        /// The minimum release age, as people say it.
        minimum: String,
    },
    /// Editing the manifest the re-lock is made from failed.
    #[error("Cannot edit the manifest for the re-lock")]
    Edit(#[source] edit::EditError),
}

impl crate::error::Hint for ToolRelockError {
    fn hints(&self) -> Vec<String> {
        match self {
            ToolRelockError::Process(ProcessError::Missing { program, .. }) => vec![format!(
                "install {program} (`pip install {program}`) where repin runs, so the lock is re-locked with the update"
            )],
            ToolRelockError::TooYoung {
                name,
                version,
                minimum,
                ..
            } => vec![format!(
                "the update is proposed again once `{name}` {version} is older than {minimum}"
            )],
            _ => Vec::new(),
        }
    }
}

/// The locking tool of a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// uv: `pyproject.toml` and `uv.lock`.
    Uv,
    /// Poetry: `pyproject.toml` and `poetry.lock`.
    Poetry,
    /// Pipenv: `Pipfile` and `Pipfile.lock`.
    Pipenv,
}

impl Tool {
    /// The tool of a lock of `kind`, if one re-locks it.
    pub fn of(kind: ManifestKind) -> Option<Tool> {
        match kind {
            ManifestKind::UvLock => Some(Tool::Uv),
            ManifestKind::PoetryLock => Some(Tool::Poetry),
            ManifestKind::PipfileLock => Some(Tool::Pipenv),
            _ => None,
        }
    }

    /// Its name, as its documentation writes it.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Uv => "uv",
            Tool::Poetry => "Poetry",
            Tool::Pipenv => "Pipenv",
        }
    }

    /// The program's name.
    pub fn program(self) -> &'static str {
        match self {
            Tool::Uv => "uv",
            Tool::Poetry => "poetry",
            Tool::Pipenv => "pipenv",
        }
    }

    /// The manifest's and the lock's file names.
    pub fn files(self) -> (&'static str, &'static str) {
        match self {
            Tool::Uv => ("pyproject.toml", "uv.lock"),
            Tool::Poetry => ("pyproject.toml", "poetry.lock"),
            Tool::Pipenv => ("Pipfile", "Pipfile.lock"),
        }
    }

    /// The kind of its lock.
    fn lock_kind(self) -> ManifestKind {
        match self {
            Tool::Uv => ManifestKind::UvLock,
            Tool::Poetry => ManifestKind::PoetryLock,
            Tool::Pipenv => ManifestKind::PipfileLock,
        }
    }

    /// Whether its lock carries a hash of its manifest (checked when a re-lock is verified).
    fn hashes_its_manifest(self) -> bool {
        matches!(self, Tool::Poetry | Tool::Pipenv)
    }

    /// Whether it can be told the exact version of a pin a security fix moves to (uv's
    /// `--upgrade-package NAME==VERSION`); Poetry and Pipenv take only the name.
    fn takes_fixed_version(self) -> bool {
        matches!(self, Tool::Uv)
    }
}
