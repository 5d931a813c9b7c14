//! The kind of an update, as reported, grouped and filtered by configuration.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What kind of change an update is.
///
/// The variants and their kebab-case names match `config::KindName`, so a configured list of
/// kinds maps one to one. Variants are ordered from the smallest change to the largest among
/// `Patch`, `Minor` and `Major`; the other kinds are not "larger" in any useful sense, the
/// order only makes sorting deterministic.
///
/// Security is not a kind: it is a flag on an update, because a security fix is still a
/// patch, minor or major change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpdateKind {
    /// A change after the second release component (`1.2.3` → `1.2.4`), or only in the
    /// pre/post/dev/local parts (`1.2.3` → `1.2.3.post1`).
    Patch,
    /// A change in the second release component (`1.2.3` → `1.3.0`).
    Minor,
    /// A change in the first release component or the epoch (`1.2.3` → `2.0.0`).
    Major,
    /// A Python base image moving to another Python minor (`python:3.12` → `python:3.13`).
    PythonMinor,
    /// The same tag, a new digest.
    Digest,
    /// Adding a digest to a tag, or turning a range into an exact pin.
    Pin,
    /// Moving off an end-of-life base image (Python minor or distribution release).
    Migration,
    /// A compiled lock re-resolved as a whole (a pin update, a security fix or lock
    /// maintenance): the edit is the new lock, and the pins it moves are listed with it.
    Lock,
}

impl UpdateKind {
    /// The kebab-case name, as in configuration and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateKind::Patch => "patch",
            UpdateKind::Minor => "minor",
            UpdateKind::Major => "major",
            UpdateKind::PythonMinor => "python-minor",
            UpdateKind::Digest => "digest",
            UpdateKind::Pin => "pin",
            UpdateKind::Migration => "migration",
            UpdateKind::Lock => "lock",
        }
    }
}

impl fmt::Display for UpdateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_kebab_case_matching_as_str() {
        for kind in [
            UpdateKind::Patch,
            UpdateKind::Minor,
            UpdateKind::Major,
            UpdateKind::PythonMinor,
            UpdateKind::Digest,
            UpdateKind::Pin,
            UpdateKind::Migration,
            UpdateKind::Lock,
        ] {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            let back: UpdateKind = serde_json::from_str(&json).unwrap();
            assert_eq!(back, kind);
        }
        assert_eq!(UpdateKind::PythonMinor.to_string(), "python-minor");
    }

    #[test]
    fn semver_kinds_order_by_size() {
        assert!(UpdateKind::Patch < UpdateKind::Minor);
        assert!(UpdateKind::Minor < UpdateKind::Major);
    }
}
