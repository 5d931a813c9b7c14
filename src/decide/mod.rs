//! Deciding what is due: dependency + releases (+ advisories) + policy → updates, or why none.
//!
//! Pure: no I/O, no clock (the time is part of [`Context`]), so every rule is a table test.
//! Lookups fill the `*Facts` inputs; the result says, for each dependency, the updates due (a
//! dependency may have two: a routine one and a separate major or Python-minor one, which are
//! never mixed) or the one reason there is none.

pub mod image;
pub mod lock_fit;
pub mod policy;
pub mod python;
pub mod security;

use std::time::Duration;

use serde::Serialize;

pub use policy::Policy;

use crate::manifest::SkipReason;
use crate::manifest::edit::Change;
use crate::versioning::UpdateKind;

/// What the decision needs besides the dependency and its facts.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Now, in seconds since the Unix epoch (for release ages and cooldowns).
    pub now: i64,
    /// The Python the service runs on, for `requires-python` checks; from the Dockerfile's
    /// Python base image, else configuration, else unknown (no check).
    pub python: Option<pep440_rs::Version>,
}

/// An update that is due.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Update {
    /// What kind of change it is.
    pub kind: UpdateKind,
    /// The current value (version, specifier, tag or `tag@digest`).
    pub current: String,
    /// The new value, in the same form.
    pub proposed: String,
    /// The edit to make.
    #[serde(skip)]
    pub change: Change,
    /// Advisories this update fixes (empty for a routine update).
    pub fixes: Vec<String>,
    /// How old the proposed release is, when the index says.
    pub age: Option<Duration>,
    /// One line for people: why this is the update.
    pub reason: String,
}

impl Update {
    /// Whether this is a security update.
    pub fn is_security(&self) -> bool {
        !self.fixes.is_empty()
    }
}

/// Why a dependency gets no update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "reason")]
pub enum NoUpdate {
    /// Already the newest allowed.
    UpToDate,
    /// Listed but never updated (a URL, a stage, ...).
    Skipped {
        /// The parser's reason.
        skip: SkipReason,
    },
    /// Disabled by configuration.
    Disabled,
    /// Newer releases exist but each is held back: by cooldown, `allowed-versions`, ignored
    /// versions, disabled kinds or `requires-python`.
    HeldBack {
        /// The newest release held back.
        version: String,
        /// Why.
        why: String,
    },
    /// The index or registry knows no release at all.
    NoReleases,
    /// Not pinned, and the configuration does not ask to pin (an unpinned requirement always
    /// installs the newest release).
    Unpinned,
}

impl NoUpdate {
    /// A sentence for people.
    pub fn describe(&self) -> String {
        match self {
            NoUpdate::UpToDate => "up to date".into(),
            NoUpdate::Skipped { skip } => format!("skipped: {}", skip.describe()),
            NoUpdate::Disabled => "disabled by configuration".into(),
            NoUpdate::HeldBack { version, why } => format!("{version} held back: {why}"),
            NoUpdate::NoReleases => "no releases found".into(),
            NoUpdate::Unpinned => "not pinned; installs the newest release".into(),
        }
    }
}

/// The decision for one dependency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// Updates due, routine first; a major or Python-minor update comes separately after it.
    pub updates: Vec<Update>,
    /// Why there is no update, when `updates` is empty.
    pub none: Option<NoUpdate>,
    /// Things worth knowing either way (a newer release in cooldown, a variant no longer
    /// published, a package found on several indexes).
    pub notes: Vec<String>,
}

impl Decision {
    /// A decision with no update.
    pub fn none(reason: NoUpdate) -> Self {
        Decision {
            updates: Vec::new(),
            none: Some(reason),
            notes: Vec::new(),
        }
    }

    /// A decision with updates.
    pub fn updates(updates: Vec<Update>) -> Self {
        Decision {
            none: updates.is_empty().then_some(NoUpdate::UpToDate),
            updates,
            notes: Vec::new(),
        }
    }

    /// Add a note.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
}

/// A duration as people say it: `3 days`, `5 hours`, `12 minutes`.
pub fn human_age(age: Duration) -> String {
    let secs = age.as_secs();
    let (n, unit) = if secs >= 86_400 * 2 {
        (secs / 86_400, "days")
    } else if secs >= 3_600 * 2 {
        (secs / 3_600, "hours")
    } else {
        (secs / 60, "minutes")
    };
    format!("{n} {unit}")
}
