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
    /// For a base image's Python-minor or migration update: the Python requirements it
    /// unblocks (`django ~=5.1.3`, `click 8.2.1`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unblocks: Vec<String>,
    /// A package update that a base image's Python-minor (or migration) update lets in, and
    /// which goes with it (`[images] group-unblocked`): written in the same pull request and by
    /// the same `apply`, never alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rides_with: Option<RidesWith>,
    /// The other files this update changes with its own, as one change: the locks compiled
    /// from the `.in` whose requirement it updates, re-locked from the `.in` as it will read.
    /// Written with the update or not at all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub companions: Vec<Companion>,
    /// When the current pin's release is yanked on its index (PEP 592): the index's reason
    /// (empty when it gives none). Such an update is due whatever the cooldown, and pull
    /// request limits do not hold it back, as for a security fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub yanked: Option<String>,
}

/// The base image update a package update goes with (see [`Update::rides_with`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RidesWith {
    /// The Dockerfile.
    pub file: std::path::PathBuf,
    /// The index of the image's dependency in it.
    #[serde(skip)]
    pub index: usize,
    /// The 1-based line of its `FROM`.
    pub line: usize,
    /// The image's proposed value (`3.12-slim`).
    pub proposed: String,
    /// The Python that update moves to, which the package update needs.
    pub python: String,
}

/// A file an update changes besides its own (see [`Update::companions`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Companion {
    /// The file, as the workspace has it.
    pub file: std::path::PathBuf,
    /// Its re-lock: the new text and the pins that move.
    pub relock: crate::manifest::edit::Relock,
}

impl Update {
    /// Whether this is a security update.
    pub fn is_security(&self) -> bool {
        !self.fixes.is_empty()
    }

    /// Whether it may not wait: a security fix, or the way off a yanked pin.
    pub fn is_urgent(&self) -> bool {
        self.is_security() || self.yanked.is_some()
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
        /// Why, and what to do about it.
        why: crate::vocab::Message,
    },
    /// The index or registry knows no release at all.
    NoReleases,
    /// Not pinned, and the configuration does not ask to pin (an unpinned requirement always
    /// installs the newest release).
    Unpinned,
    /// A problem, not an update: the requirement admits no release that installs on the file's
    /// target (every release it allows needs a newer Python, or none exists).
    CannotInstall {
        /// The target's Python (`3.9`).
        python: String,
        /// Where the target came from (`services/api/Dockerfile:1`), once known.
        from: Option<String>,
        /// Why: `5.1.3 requires Python >=3.10`.
        why: String,
        /// What would fix it, when repin proposes that too (a base image's Python-minor update).
        fix: Option<String>,
        /// The `Requires-Python` of the lowest release it allows, when that is why.
        #[serde(skip)]
        requires: Option<String>,
    },
}

impl NoUpdate {
    /// A sentence for people, with its `hint:` lines as a terminal shows them.
    pub fn describe(&self) -> String {
        self.message().to_string()
    }

    /// The sentence and its hints apart (only a hold-back carries hints).
    pub fn message(&self) -> crate::vocab::Message {
        let text = match self {
            NoUpdate::HeldBack { version, why } => {
                return why.clone().prefixed(&format!("{version} held back: "));
            }
            NoUpdate::UpToDate => "up to date".into(),
            NoUpdate::Skipped { skip } => format!("skipped: {}", skip.describe()),
            NoUpdate::Disabled => "disabled by configuration".into(),
            NoUpdate::NoReleases => "no releases found".into(),
            NoUpdate::Unpinned => "not pinned; installs the newest release".into(),
            NoUpdate::CannotInstall {
                python,
                from,
                why,
                fix,
                ..
            } => {
                let mut text = format!("cannot be installed on Python {python}");
                if let Some(from) = from {
                    text.push_str(&format!(" ({from})"));
                }
                text.push_str(&format!(": {why}"));
                if let Some(fix) = fix {
                    text.push_str(&format!("; {fix}"));
                }
                text
            }
        };
        crate::vocab::Message::new(text)
    }

    /// Whether this is a problem to report (and fail on), not a reason for no update.
    pub fn is_problem(&self) -> bool {
        matches!(self, NoUpdate::CannotInstall { .. })
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
    /// published, a package found on several indexes), each with its hints apart (serialised
    /// as `{"message": text, "hints": [...]}`).
    pub notes: Vec<crate::vocab::Message>,
    /// The newest release passed over because it needs a newer Python than the file's target
    /// (what a base image's Python-minor update would unblock).
    #[serde(skip)]
    pub held_for_python: Option<HeldForPython>,
    /// Known advisories affect the version and no security update is possible (its note is
    /// among `notes` too): what the dashboard lists as vulnerable without a fix.
    #[serde(skip)]
    pub unfixed: Option<Unfixed>,
    /// The current pin is yanked on its index (PEP 592): the index's reason (`""` when it
    /// gives none), whether or not there is a way off it. What the dashboard lists as yanked.
    #[serde(skip)]
    pub yanked: Option<String>,
}

/// The newest release passed over because the file's target Python is too old for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldForPython {
    /// Its version.
    pub version: String,
    /// Its `Requires-Python`: which Python unblocks it (`None`: not known).
    pub requires_python: Option<pep440_rs::VersionSpecifiers>,
}

/// A vulnerable version with no security update, and why there is none.
#[derive(Debug, Clone, PartialEq)]
pub struct Unfixed {
    /// The advisories that affect it.
    pub ids: Vec<String>,
    /// Why there is no fix (no release is free of them, or policy keeps it back).
    pub why: String,
}

impl Unfixed {
    /// The note a decision carries for it: `vulnerable (PYSEC-1, GHSA-x), and why`.
    pub fn note(&self) -> String {
        format!("vulnerable ({}), and {}", self.ids.join(", "), self.why)
    }
}

impl Decision {
    /// A decision with no update.
    pub fn none(reason: NoUpdate) -> Self {
        Decision {
            updates: Vec::new(),
            none: Some(reason),
            notes: Vec::new(),
            held_for_python: None,
            unfixed: None,
            yanked: None,
        }
    }

    /// A decision with updates.
    pub fn updates(updates: Vec<Update>) -> Self {
        Decision {
            none: updates.is_empty().then_some(NoUpdate::UpToDate),
            updates,
            notes: Vec::new(),
            held_for_python: None,
            unfixed: None,
            yanked: None,
        }
    }

    /// Add a note.
    pub fn note(mut self, note: impl Into<crate::vocab::Message>) -> Self {
        self.notes.push(note.into());
        self
    }
}

/// The time from `then` to `now` (seconds since the epoch), zero when `then` is later (a clock
/// ahead of this one).
pub fn elapsed(now: i64, then: i64) -> Duration {
    Duration::from_secs(u64::try_from(now.saturating_sub(then)).unwrap_or(0))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_time_is_never_negative() {
        assert_eq!(elapsed(1_000, 400), Duration::from_secs(600));
        // A release stamped after now (a clock ahead of this one) is zero old, never the huge
        // age of a negative difference cast to unsigned.
        assert_eq!(elapsed(400, 1_000), Duration::ZERO);
        assert_eq!(elapsed(i64::MIN, i64::MAX), Duration::ZERO);
        assert_eq!(
            elapsed(i64::MAX, i64::MIN),
            Duration::from_secs(i64::MAX as u64)
        );
    }
}
