//! PEP 440 versions: stability, pre-release-aware matching, update kinds, range strategies.
//!
//! Ordering and parsing come from `pep440_rs`; this module adds the rules a bot needs on top:
//! which releases a requirement admits the way pip decides it ([`allows`]), how big a change
//! is ([`classify`]), and how a requirement's specifier text is rewritten for a new version
//! while keeping its written style ([`apply_strategy`]).

mod range;
mod written;

use pep440_rs::{Operator, Version, VersionSpecifiers, VersionSpecifiersParseError};

pub use range::{RangeStrategy, apply_strategy};

pub use super::UpdateKind;

/// Why a specifier could not be rewritten.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Pep440Error {
    /// The written specifier is not valid PEP 440.
    #[error("Cannot parse the version specifier `{text}`")]
    InvalidSpecifier {
        /// The text as written.
        text: String,
        /// The parser's explanation.
        #[source]
        source: VersionSpecifiersParseError,
    },
    /// The written text and the parsed specifiers handed in describe different ranges.
    #[error("The written specifier `{text}` does not match the parsed specifiers `{parsed}`")]
    SpecifierMismatch {
        /// The text as written.
        text: String,
        /// The parsed specifiers, rendered.
        parsed: String,
    },
    /// A rewrite produced text that does not parse (a bug in repin, never the user's fault).
    #[error(
        "The {strategy} range strategy turned `{current}` into `{result}`, which is not a valid specifier"
    )]
    InvalidResult {
        /// The strategy applied.
        strategy: RangeStrategy,
        /// The text before.
        current: String,
        /// The text produced.
        result: String,
        /// The parser's explanation.
        #[source]
        source: VersionSpecifiersParseError,
    },
    /// The rewritten specifier still does not admit the new version, typically because an
    /// exclusion (`!=1.5`) names it or `===` pins another spelling.
    #[error(
        "The {strategy} range strategy cannot make `{current}` allow {version} (the result would be `{result}`)"
    )]
    NotAllowed {
        /// The strategy applied.
        strategy: RangeStrategy,
        /// The text before.
        current: String,
        /// The text the strategy produced (equal to `current` when nothing could change).
        result: String,
        /// The version that had to be allowed.
        version: String,
    },
}

/// Whether `version` is a final release: no pre-release (`a`, `b`, `rc`) and no `.dev` part.
///
/// Post releases (`1.0.post1`) are stable: they are fixes to a final release.
pub fn is_stable(version: &Version) -> bool {
    version.is_stable()
}

/// The lowest version a range admits, as its lower bounds say (`None`: no lower bound).
pub fn floor(specifiers: &VersionSpecifiers) -> Option<Version> {
    specifiers
        .iter()
        .filter(|s| {
            matches!(
                s.operator(),
                Operator::Equal
                    | Operator::ExactEqual
                    | Operator::EqualStar
                    | Operator::TildeEqual
                    | Operator::GreaterThanEqual
                    | Operator::GreaterThan
            )
        })
        .map(|s| s.version().clone())
        .max()
}

/// Whether a specifier set lets pre-releases in by itself: PEP 440 says a specifier that
/// names a pre-release (`>=2.0b1`, `==1.0rc1`) accepts pre-releases. Exclusions (`!=2.0b1`) do
/// not count, as in `packaging`.
pub fn admits_prereleases(specifiers: &VersionSpecifiers) -> bool {
    specifiers.iter().any(|specifier| {
        !matches!(
            specifier.operator(),
            Operator::NotEqual | Operator::NotEqualStar
        ) && specifier.version().any_prerelease()
    })
}

/// Whether `specifiers` allow `version` the way pip decides it: the version must match every
/// clause, and a pre-release or dev release only counts when `allow_prereleases` is set (pip's
/// `--pre`, or configuration) or a clause names a pre-release itself.
///
/// pip additionally falls back to pre-releases when no final release matches at all; that is
/// a decision over a whole list of releases, so it is left to the caller.
pub fn allows(specifiers: &VersionSpecifiers, version: &Version, allow_prereleases: bool) -> bool {
    specifiers.contains(version)
        && (is_stable(version) || allow_prereleases || admits_prereleases(specifiers))
}

/// The highest of `versions` that [`allows`] admits.
pub fn highest_allowed<'a>(
    specifiers: &VersionSpecifiers,
    versions: impl IntoIterator<Item = &'a Version>,
    allow_prereleases: bool,
) -> Option<&'a Version> {
    versions
        .into_iter()
        .filter(|v| allows(specifiers, v, allow_prereleases))
        .max()
}

/// How big the change from `from` to `to` is, or `None` when `to` is not newer.
///
/// The rule is positional, as in semver, whatever the project's versioning scheme:
/// - a different epoch is [`UpdateKind::Major`];
/// - otherwise the first release component that differs decides (missing components count as
///   0, so `1.2` → `1.2.0` is no change): the first is `Major`, the second `Minor`, any later one
///   `Patch`;
/// - equal release components with a different pre, post, dev or local part is `Patch`
///   (`1.2.0rc1` → `1.2.0`, `1.2.0` → `1.2.0.post1`).
///
/// Calendar versions follow the same rule, so the year is the "major" part: `2024.8.30` →
/// `2024.12.14` is `Minor`, `2024.12.14` → `2025.1.31` is `Major`. This errs on the side of
/// calling a calendar update bigger than it is, which is the safe side for grouping and for
/// policies that hold majors back. `0.x` versions get no special treatment (`0.3` → `0.4` is
/// `Minor`); a policy wanting semver's "0.x minor is breaking" rule can apply it on top.
pub fn classify(from: &Version, to: &Version) -> Option<UpdateKind> {
    if to <= from {
        return None;
    }
    if from.epoch() != to.epoch() {
        return Some(UpdateKind::Major);
    }
    let (a, b) = (from.release(), to.release());
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (
            a.get(i).copied().unwrap_or(0),
            b.get(i).copied().unwrap_or(0),
        );
        if x != y {
            return Some(match i {
                0 => UpdateKind::Major,
                1 => UpdateKind::Minor,
                _ => UpdateKind::Patch,
            });
        }
    }
    Some(UpdateKind::Patch)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn v(text: &str) -> Version {
        Version::from_str(text).unwrap()
    }

    fn specs(text: &str) -> VersionSpecifiers {
        VersionSpecifiers::from_str(text).unwrap()
    }

    #[test]
    fn stability() {
        let cases = [
            ("1.0", true),
            ("1.0.post1", true),
            ("1!2.0", true),
            ("1.0+cu128", true),
            ("1.0a1", false),
            ("1.0b2", false),
            ("1.0rc1", false),
            ("1.0.dev3", false),
            ("1.0.post1.dev0", false),
            ("2022.12.07", true),
        ];
        for (text, stable) in cases {
            assert_eq!(is_stable(&v(text)), stable, "{text}");
        }
    }

    #[test]
    fn ordering_follows_pep440() {
        let ordered = [
            "1.0.dev0",
            "1.0a1",
            "1.0a2.dev1",
            "1.0a2",
            "1.0b1",
            "1.0rc1",
            "1.0",
            "1.0+local",
            "1.0.post1.dev0",
            "1.0.post1",
            "1.0.1",
            "1.1",
            "2022.12.7",
            "1!0.1",
        ];
        for pair in ordered.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(v("2022.12.07"), v("2022.12.7"));
        assert_eq!(v("1.2"), v("1.2.0"));
    }

    #[test]
    fn allows_follows_pre_release_rules() {
        // (specifiers, version, --pre, allowed)
        let cases = [
            (">=1.0", "1.5", false, true),
            (">=1.0", "2.0rc1", false, false),
            (">=1.0", "2.0rc1", true, true),
            (">=1.0", "2.0.dev1", false, false),
            (">=1.0", "1.5.post1", false, true),
            (">=2.0b1", "2.0rc1", false, true),
            (">=2.0b1", "2.0b1", false, true),
            ("==3.0.0b6", "3.0.0b6", false, true),
            (">= 2.4.4rc5", "2.4.4rc6", false, true),
            ("!=2.0b1", "2.0rc1", false, false),
            ("!=2.0b1", "2.0", false, true),
            ("<2", "2.0rc1", true, false),
            ("<2", "1.9", false, true),
            ("<2", "2.0", false, false),
            ("~=1.2", "1.9", false, true),
            ("~=1.2", "2.0", false, false),
            ("==1.2.*", "1.2.7", false, true),
            ("==1.2.*", "1.3", false, false),
            ("", "5.0", false, true),
            ("", "5.0a1", false, false),
            ("", "5.0a1", true, true),
            ("==2.7.0", "2.7.0+cu128", false, true),
            (">=1.17.0, <2.0", "1.18", false, true),
        ];
        for (spec, version, pre, expected) in cases {
            assert_eq!(
                allows(&specs(spec), &v(version), pre),
                expected,
                "{spec} allows {version} (pre: {pre})"
            );
        }
    }

    #[test]
    fn highest_allowed_skips_prereleases_and_excluded() {
        let versions: Vec<Version> = ["1.0", "1.4", "1.5", "2.0rc1", "2.0", "1.6"]
            .iter()
            .map(|t| v(t))
            .collect();
        assert_eq!(
            highest_allowed(&specs(">=1.0,<2,!=1.6"), &versions, false),
            Some(&v("1.5"))
        );
        assert_eq!(
            highest_allowed(&specs(">=1.0"), &versions, false),
            Some(&v("2.0"))
        );
        assert_eq!(
            highest_allowed(&specs(">=1.0,<2.0.0"), &versions, true),
            Some(&v("1.6"))
        );
        assert_eq!(highest_allowed(&specs(">=3"), &versions, true), None);
    }

    #[test]
    fn classification() {
        use UpdateKind::*;
        let cases = [
            ("1.2.3", "1.2.4", Some(Patch)),
            ("1.2.3", "1.3.0", Some(Minor)),
            ("1.2.3", "2.0.0", Some(Major)),
            ("1.2", "1.2.1", Some(Patch)),
            ("1.2", "1.3", Some(Minor)),
            ("1", "2", Some(Major)),
            ("1", "1.1", Some(Minor)),
            ("1.2.3.4", "1.2.3.5", Some(Patch)),
            ("0.3.1", "0.4.0", Some(Minor)),
            ("2024.8.30", "2024.12.14", Some(Minor)),
            ("2024.12.14", "2025.1.31", Some(Major)),
            ("2022.12.07", "2022.12.8", Some(Patch)),
            ("1.0", "1!0.5", Some(Major)),
            ("1.2.0rc1", "1.2.0", Some(Patch)),
            ("1.2.0", "1.2.0.post1", Some(Patch)),
            ("1.2.0.dev1", "1.2.0a1", Some(Patch)),
            ("2.7.0+cu126", "2.7.0+cu128", Some(Patch)),
            ("1.2", "1.2.0", None),
            ("1.2.3", "1.2.3", None),
            ("1.3", "1.2", None),
            ("2022.12.07", "2022.12.7", None),
        ];
        for (from, to, kind) in cases {
            assert_eq!(classify(&v(from), &v(to)), kind, "{from} -> {to}");
        }
    }
}
