//! Range strategies: how a requirement's specifier is rewritten so it admits a new version.
//!
//! The rewrite works on the specifier *as written*: a clause whose meaning does not change
//! keeps its exact bytes (`==2022.12.07` is not normalised to `==2022.12.7`), and new text
//! copies the spacing after operators and around commas, the `==X.*` and `~=` forms, and the
//! number of release components of the clause it replaces.
//!
//! # Strategies
//!
//! The semantics follow Renovate's `rangeStrategy` for pip, made precise here.
//!
//! | strategy | when `new` is already allowed | otherwise |
//! |---|---|---|
//! | `pin` | `==new` (unless it is already exactly that) | `==new` |
//! | `bump` | lower bounds raised to `new` | lower bounds raised, upper bounds widened |
//! | `widen` | no change | clauses excluding `new` widened, lower bounds kept |
//! | `replace` | no change | as `bump`: same shape, moved to `new` |
//! | `auto` | `bump` for pin-like specifiers, `replace` otherwise | |
//!
//! Per clause, with `p` the number of release components written in the clause:
//!
//! - `==V` and `===V` become `==new` / `===new` under every strategy (a pin cannot be widened).
//! - Lower bounds under `bump` (and `replace`): `>=V` and `>V` become `>=new` (a `>` would
//!   exclude `new` itself); `~=V` becomes `~=` `new` cut or padded to `p` components
//!   (`~=1.2` + 1.5.3 → `~=1.5`, `~=1.2.0` + 1.5.3 → `~=1.5.3`), so the width of the range
//!   stays the same; `==V.*` becomes `==` `new` cut to `p` components `.*`.
//!   `>=` versions are padded to `p` components, and trailing `.0` components beyond `p` are
//!   dropped for a final release (`>=1.2` + 1.5.0 → `>=1.5`, + 1.5.3 → `>=1.5.3`).
//! - Upper bounds (under `bump` and `replace` when they exclude `new`, under `widen` always):
//!   `<V` moves to the next value at the position of `V`'s last non-zero component, written
//!   with `p` components (`<2` + 2.4 → `<3`, `<2.0` → `<3.0`, `<1.5` + 1.7.2 → `<1.8`);
//!   `<=V` becomes `<=new` (`<=1.4` + 1.5 → `<=1.5`).
//! - Under `widen`, a `~=V` or `==V.*` that excludes `new` is split into its two halves and the
//!   upper half widened: `~=1.2` + 2.5 → `>=1.2,<3` (upper bound at the position `~=` kept fixed,
//!   written with `p - 1` components), `==1.2.*` + 1.5.2 → `>=1.2,<1.6`. A lower bound above
//!   `new` (a downgrade) is lowered to `new`.
//! - `!=` exclusions are kept verbatim; if one excludes `new`, that is an error.
//! - An empty specifier (no clauses) allows everything: only `pin` changes it.
//!
//! `auto` treats a specifier as pin-like when its clauses, apart from exclusions, are all
//! `==V`, `===V` or `==V.*`: those move with every release (bump). Anything else is a range the
//! user chose, and is only touched when the new version falls outside it (replace).
//!
//! Whatever the strategy, the result is parsed back and must contain `new`, or
//! [`Pep440Error::NotAllowed`] is returned; `Ok(None)` means the written text already is the
//! result.

use std::fmt;

use pep440_rs::{Operator, Version, VersionSpecifiers};
use serde::{Deserialize, Serialize};

use super::Pep440Error;
use super::written::{Clause, Written};

/// How a version range is updated (`range-strategy` in configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RangeStrategy {
    /// The specifier becomes an exact `==new` pin.
    Pin,
    /// Raise lower bounds to `new`, widening upper bounds when they exclude it.
    Bump,
    /// Keep lower bounds; widen whatever excludes `new`.
    Widen,
    /// Only when `new` falls outside: a range of the same shape around `new`.
    Replace,
    /// `Bump` for pin-like specifiers (`==`, `===`, `==X.*`), `Replace` for ranges.
    #[default]
    Auto,
}

impl RangeStrategy {
    /// The kebab-case name, as in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            RangeStrategy::Pin => "pin",
            RangeStrategy::Bump => "bump",
            RangeStrategy::Widen => "widen",
            RangeStrategy::Replace => "replace",
            RangeStrategy::Auto => "auto",
        }
    }
}

impl fmt::Display for RangeStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Rewrite the specifier `written` (whose parsed form is `current`) with `strategy` so that it
/// admits `new`.
///
/// Returns the new specifier text, or `None` when no change is needed. `written` is the
/// specifier exactly as it appears in the file (spacing and an optional pair of parentheses
/// are preserved). See the module documentation for the rules.
///
/// # Errors
///
/// - [`Pep440Error::InvalidSpecifier`] when `written` does not parse;
/// - [`Pep440Error::SpecifierMismatch`] when `written` and `current` disagree;
/// - [`Pep440Error::NotAllowed`] when the result would still not contain `new` (an exclusion
///   names it);
/// - [`Pep440Error::InvalidResult`] if a rewrite produced text that does not parse.
pub fn apply_strategy(
    strategy: RangeStrategy,
    written: &str,
    current: &VersionSpecifiers,
    new: &Version,
) -> Result<Option<String>, Pep440Error> {
    let (parsed_written, parsed) = Written::parse(written)?;
    if sorted(&parsed) != sorted(current) {
        return Err(Pep440Error::SpecifierMismatch {
            text: written.to_owned(),
            parsed: current.to_string(),
        });
    }
    let resolved = match strategy {
        RangeStrategy::Auto if is_pin_like(&parsed_written) => RangeStrategy::Bump,
        RangeStrategy::Auto => RangeStrategy::Replace,
        other => other,
    };
    let result = match resolved {
        RangeStrategy::Pin => pin(&parsed_written, new),
        RangeStrategy::Widen if current.contains(new) => written.to_owned(),
        RangeStrategy::Widen => rewrite(&parsed_written, new, widen_clause),
        RangeStrategy::Replace if current.contains(new) => written.to_owned(),
        RangeStrategy::Bump | RangeStrategy::Replace => rewrite(&parsed_written, new, bump_clause),
        RangeStrategy::Auto => unreachable!("auto was resolved above"),
    };
    let (_, reparsed) = Written::parse(&result).map_err(|error| match error {
        Pep440Error::InvalidSpecifier { source, .. } => Pep440Error::InvalidResult {
            strategy,
            current: written.to_owned(),
            result: result.clone(),
            source,
        },
        other => other,
    })?;
    if !reparsed.contains(new) {
        return Err(Pep440Error::NotAllowed {
            strategy,
            current: written.to_owned(),
            result,
            version: new.to_string(),
        });
    }
    Ok((result != written).then_some(result))
}

fn sorted(specifiers: &VersionSpecifiers) -> Vec<pep440_rs::VersionSpecifier> {
    let mut all = specifiers.to_vec();
    all.sort();
    all
}

fn is_pin_like(written: &Written) -> bool {
    let mut any_pin = false;
    for clause in &written.clauses {
        match clause.spec.operator() {
            Operator::Equal | Operator::ExactEqual | Operator::EqualStar => any_pin = true,
            Operator::NotEqual | Operator::NotEqualStar => {}
            _ => return false,
        }
    }
    any_pin
}

/// What becomes of one clause.
enum Rewrite {
    /// Its bytes stay as they are.
    Keep,
    /// A new operator and version in its place.
    Replace(&'static str, String),
    /// Two clauses in its place (a `~=` or `==X.*` split into lower and upper bound).
    Split((&'static str, String), (&'static str, String)),
}

fn pin(written: &Written, new: &Version) -> String {
    if let [only] = written.clauses.as_slice() {
        let already = match only.spec.operator() {
            Operator::Equal => only.spec.version() == new,
            Operator::ExactEqual => only.version == new.to_string(),
            _ => false,
        };
        if already {
            return written.render();
        }
    }
    let op = match written.clauses.as_slice() {
        [only] if *only.spec.operator() == Operator::ExactEqual => "===",
        _ => "==",
    };
    format!(
        "{}{op}{}{new}{}",
        written.open,
        written.gap(),
        written.close
    )
}

fn rewrite(written: &Written, new: &Version, rule: fn(&Clause, &Version) -> Rewrite) -> String {
    let pieces: Vec<String> = written
        .clauses
        .iter()
        .map(|clause| match rule(clause, new) {
            Rewrite::Keep => clause.render(),
            Rewrite::Replace(op, version) => {
                format!("{}{op}{}{version}{}", clause.lead, clause.gap, clause.trail)
            }
            Rewrite::Split((op1, v1), (op2, v2)) => format!(
                "{lead}{op1}{gap}{v1}{before},{after}{op2}{gap}{v2}{trail}",
                lead = clause.lead,
                gap = clause.gap,
                before = written.before_comma,
                after = written.after_comma,
                trail = clause.trail,
            ),
        })
        .collect();
    format!("{}{}{}", written.open, pieces.join(","), written.close)
}

/// `bump` (and `replace` once it has decided to act): lower bounds move to `new`.
fn bump_clause(clause: &Clause, new: &Version) -> Rewrite {
    let version = clause.spec.version();
    let p = version.release().len();
    match clause.spec.operator() {
        Operator::Equal | Operator::ExactEqual => pin_clause(clause, new),
        Operator::EqualStar => {
            let fitted = fit(new, p);
            if same_release(&fitted, version) {
                Rewrite::Keep
            } else {
                Rewrite::Replace("==", format!("{fitted}.*"))
            }
        }
        Operator::TildeEqual => {
            let fitted = fit_compatible(new, p);
            if fitted == *version {
                Rewrite::Keep
            } else {
                Rewrite::Replace("~=", fitted.to_string())
            }
        }
        Operator::GreaterThanEqual => {
            let lower = lower_bound(new, p);
            if lower == *version {
                Rewrite::Keep
            } else {
                Rewrite::Replace(">=", lower.to_string())
            }
        }
        Operator::GreaterThan => Rewrite::Replace(">=", lower_bound(new, p).to_string()),
        Operator::LessThan | Operator::LessThanEqual => widen_clause(clause, new),
        Operator::NotEqual | Operator::NotEqualStar => Rewrite::Keep,
    }
}

/// `widen`: only clauses that exclude `new` change, and only as far as needed.
fn widen_clause(clause: &Clause, new: &Version) -> Rewrite {
    if clause.spec.contains(new) {
        return Rewrite::Keep;
    }
    let version = clause.spec.version();
    let p = version.release().len();
    match clause.spec.operator() {
        Operator::Equal | Operator::ExactEqual => pin_clause(clause, new),
        Operator::EqualStar => {
            // `==V.*` is `>=V, <V+1` at its last component.
            let written_lower = clause.version.trim_end_matches(".*").to_owned();
            if new < version {
                Rewrite::Split(
                    (">=", lower_bound(new, p).to_string()),
                    ("<", next(version, p - 1, p).to_string()),
                )
            } else {
                Rewrite::Split(
                    (">=", written_lower),
                    ("<", next(new, p - 1, p).to_string()),
                )
            }
        }
        Operator::TildeEqual => {
            // `~=V` is `>=V, <V+1` at its second-to-last component; `pep440_rs` guarantees at
            // least two components.
            if new < version {
                Rewrite::Split(
                    (">=", lower_bound(new, p).to_string()),
                    ("<", next(version, p - 2, p - 1).to_string()),
                )
            } else {
                Rewrite::Split(
                    (">=", clause.version.clone()),
                    ("<", next(new, p - 2, p - 1).to_string()),
                )
            }
        }
        Operator::GreaterThanEqual | Operator::GreaterThan => {
            Rewrite::Replace(">=", lower_bound(new, p).to_string())
        }
        Operator::LessThan => {
            Rewrite::Replace("<", next(new, last_nonzero(version), p).to_string())
        }
        Operator::LessThanEqual => Rewrite::Replace("<=", lower_bound(new, p).to_string()),
        Operator::NotEqual | Operator::NotEqualStar => Rewrite::Keep,
    }
}

fn pin_clause(clause: &Clause, new: &Version) -> Rewrite {
    match clause.spec.operator() {
        Operator::ExactEqual if clause.version == new.to_string() => Rewrite::Keep,
        Operator::ExactEqual => Rewrite::Replace("===", new.to_string()),
        _ if clause.spec.version() == new => Rewrite::Keep,
        _ => Rewrite::Replace("==", new.to_string()),
    }
}

/// `release` padded with zeros or cut to `len` components.
fn release_of(version: &Version, len: usize) -> Vec<u64> {
    let mut release = version.release().to_vec();
    release.resize(len, 0);
    release
}

fn same_release(a: &Version, b: &Version) -> bool {
    let len = a.release().len().max(b.release().len());
    a.epoch() == b.epoch() && release_of(a, len) == release_of(b, len)
}

/// `new`'s release cut or padded to `p` components, without pre/post/dev/local parts.
fn fit(new: &Version, p: usize) -> Version {
    Version::new(release_of(new, p)).with_epoch(new.epoch())
}

/// The `~=` operand for `new` at precision `p`: [`fit`], keeping `new`'s pre-release or dev
/// part when the cut drops only zeros (`~=2.1rc1` must still contain `2.1.0rc1`).
fn fit_compatible(new: &Version, p: usize) -> Version {
    let fitted = fit(new, p);
    if new.any_prerelease() && same_release(&fitted, new) {
        new.clone().without_local().with_release(release_of(new, p))
    } else {
        fitted
    }
}

/// A `>=`/`<=` operand for `new` written with at least `p` components: local part dropped
/// (not allowed in ranges), padded to `p`, and trailing zeros beyond `p` dropped for a final
/// release (`1.5.0` at precision 2 is written `1.5`).
fn lower_bound(new: &Version, p: usize) -> Version {
    let plain = new.is_stable() && !new.is_post();
    let mut release = new.release().to_vec();
    if plain {
        while release.len() > p.max(1) && release.last() == Some(&0) {
            release.pop();
        }
    }
    if release.len() < p {
        release.resize(p, 0);
    }
    new.clone().without_local().with_release(release)
}

/// The exclusive upper bound just above `base` at component `level`, written with `width`
/// components: `next(2.4.1, 0, 1)` = `3`, `next(1.7.2, 1, 2)` = `1.8`, `next(2.3, 0, 2)` = `3.0`.
fn next(base: &Version, level: usize, width: usize) -> Version {
    let mut release = release_of(base, level + 1);
    release[level] += 1;
    release.resize(width.max(level + 1), 0);
    Version::new(release).with_epoch(base.epoch())
}

/// The index of the last non-zero release component (`2.0` → 0, `1.5` → 1); for an all-zero
/// release, the last index.
fn last_nonzero(version: &Version) -> usize {
    let release = version.release();
    release
        .iter()
        .rposition(|&c| c != 0)
        .unwrap_or(release.len().saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn run(
        strategy: RangeStrategy,
        written: &str,
        new: &str,
    ) -> Result<Option<String>, Pep440Error> {
        let (_, parsed) = Written::parse(written).unwrap();
        apply_strategy(strategy, written, &parsed, &Version::from_str(new).unwrap())
    }

    #[test]
    fn strategy_table() {
        use RangeStrategy::*;
        // (strategy, written, new, expected result; None = no change)
        let cases: &[(RangeStrategy, &str, &str, Option<&str>)] = &[
            // pin
            (Pin, ">=1.2", "1.5", Some("==1.5")),
            (Pin, ">= 1.17.0, < 2.0", "1.18.2", Some("== 1.18.2")),
            (Pin, "==1.5", "1.5", None),
            (Pin, "==1.5.0", "1.5", None),
            (Pin, "==1.4", "1.5", Some("==1.5")),
            (Pin, "~=1.2", "1.5.3", Some("==1.5.3")),
            (Pin, "", "2.0", Some("==2.0")),
            (Pin, "===1.0", "1.1", Some("===1.1")),
            (Pin, "(>=1.0)", "1.2", Some("(==1.2)")),
            (Pin, ">=2.0", "2.7.0+cu128", Some("==2.7.0+cu128")),
            // bump
            (Bump, ">=1.2", "1.5", Some(">=1.5")),
            (Bump, ">=1.2", "1.5.0", Some(">=1.5")),
            (Bump, ">=1.2", "1.5.3", Some(">=1.5.3")),
            (Bump, ">=1.2.0", "1.5", Some(">=1.5.0")),
            (Bump, ">=1.5", "1.5.0", None),
            (Bump, ">1.2", "1.5", Some(">=1.5")),
            (Bump, "~=1.2", "1.5.3", Some("~=1.5")),
            (Bump, "~=1.2.0", "1.5.0", Some("~=1.5.0")),
            (Bump, "~=1.2.0", "1.5.3", Some("~=1.5.3")),
            (Bump, "~=1.2", "1.2.9", None),
            (Bump, "==1.2.*", "1.5.3", Some("==1.5.*")),
            (Bump, "==2.8.0.*", "2.8.1", Some("==2.8.1.*")),
            (Bump, "==1.2.*", "1.2.9", None),
            (Bump, ">=1.2,<2", "1.5", Some(">=1.5,<2")),
            (Bump, ">=1.2,<2", "2.4", Some(">=2.4,<3")),
            (Bump, ">= 1.17.0, < 2.0", "2.1.0", Some(">= 2.1.0, < 3.0")),
            (Bump, ">=1.2,!=1.4,<2", "1.5", Some(">=1.5,!=1.4,<2")),
            (Bump, "==2022.12.07", "2023.7.22", Some("==2023.7.22")),
            (Bump, "==2022.12.07", "2022.12.7", None),
            (Bump, "<2", "1.5", None),
            (Bump, "<2", "2.1", Some("<3")),
            (Bump, "", "2.0", None),
            (Bump, ">=1.0", "2.0b1", Some(">=2.0b1")),
            (Bump, ">=2.9.0", "2.9.0.post0", Some(">=2.9.0.post0")),
            // widen
            (Widen, ">=1.2,<2", "1.5", None),
            (Widen, ">=1.2,<2", "2.4", Some(">=1.2,<3")),
            (Widen, ">=1.2, <2.0", "2.4.1", Some(">=1.2, <3.0")),
            (Widen, "<1.5", "1.7.2", Some("<1.8")),
            (Widen, "<1.4.2", "1.4.5", Some("<1.4.6")),
            (Widen, "<=1.4", "1.5", Some("<=1.5")),
            (Widen, "<=1.4", "1.5.3", Some("<=1.5.3")),
            (Widen, "~=1.2", "2.5", Some(">=1.2,<3")),
            (Widen, "~= 1.2.0", "1.4.1", Some(">= 1.2.0, < 1.5")),
            (Widen, "~=1.2", "1.9", None),
            (Widen, "==1.2.*", "1.5.2", Some(">=1.2,<1.6")),
            (Widen, "==1.4", "1.5", Some("==1.5")),
            (Widen, ">=1.5", "1.2", Some(">=1.2")),
            (Widen, "<2", "2.0rc1", Some("<3")),
            (Widen, "(>=1.0 , <2)", "2.0", Some("(>=1.0 , <3)")),
            // replace
            (Replace, "~=1.2", "1.5", None),
            (Replace, "~=1.2", "2.5", Some("~=2.5")),
            (Replace, "~=1.2.0", "1.5.0", Some("~=1.5.0")),
            (Replace, "==1.2.*", "1.5.0", Some("==1.5.*")),
            (Replace, "<2", "2.3", Some("<3")),
            (Replace, ">=1.2,<2", "2.5", Some(">=2.5,<3")),
            (Replace, ">=1.2,<2", "1.5", None),
            (Replace, "==1.2", "1.5", Some("==1.5")),
            (Replace, "~=2.0", "3.1rc1", Some("~=3.1rc1")),
            (Replace, "~=2.0", "3.1.2rc1", Some("~=3.1")),
            (Replace, "~=1!1.0", "1!2.0", Some("~=1!2.0")),
            // auto
            (Auto, "==1.2", "1.5", Some("==1.5")),
            (Auto, "==1.2.*", "1.5.3", Some("==1.5.*")),
            (Auto, "==1.2.*", "1.2.9", None),
            (Auto, "==1.2.*,!=1.2.4", "1.5.3", Some("==1.5.*,!=1.2.4")),
            (Auto, "~=1.2", "1.5", None),
            (Auto, "~=1.2", "2.1", Some("~=2.1")),
            (Auto, ">=1.2", "1.5", None),
            (Auto, ">=1.2,<2", "2.5", Some(">=2.5,<3")),
            (Auto, "", "1.0", None),
        ];
        assert!(cases.len() >= 40);
        for (strategy, written, new, expected) in cases {
            let got = run(*strategy, written, new);
            assert_eq!(
                got.as_ref().map(|o| o.as_deref()),
                Ok(*expected),
                "{strategy} `{written}` + {new}"
            );
        }
    }

    #[test]
    fn every_result_contains_new() {
        let specifiers = [
            ">=1.0",
            "~=1.2",
            "~=1.2.0",
            "==1.2.*",
            "<2",
            "<=1.4",
            ">=1.2,<2",
            "",
            "==1.0",
            ">1.0,!=1.1",
            "~=0.9",
        ];
        let versions = [
            "0.1",
            "1.0",
            "1.3.7",
            "2.0",
            "2.0rc1",
            "3.1.4.post2",
            "10.0.dev1",
        ];
        for strategy in [
            RangeStrategy::Pin,
            RangeStrategy::Bump,
            RangeStrategy::Widen,
            RangeStrategy::Replace,
            RangeStrategy::Auto,
        ] {
            for written in specifiers {
                for new in versions {
                    let version = Version::from_str(new).unwrap();
                    let result = run(strategy, written, new)
                        .unwrap_or_else(|e| panic!("{strategy} `{written}` + {new}: {e}"));
                    let text = result.unwrap_or_else(|| written.to_owned());
                    let parsed = VersionSpecifiers::from_str(&text).unwrap();
                    assert!(parsed.contains(&version), "{strategy} `{written}` + {new}");
                }
            }
        }
    }

    #[test]
    fn exclusions_naming_the_new_version_are_errors() {
        let err = run(RangeStrategy::Bump, ">=1.0,!=1.5", "1.5").unwrap_err();
        assert_eq!(
            err.to_string(),
            "The bump range strategy cannot make `>=1.0,!=1.5` allow 1.5 (the result would be `>=1.5,!=1.5`)"
        );
        assert!(matches!(
            run(RangeStrategy::Widen, "!=1.5.*", "1.5.2"),
            Err(Pep440Error::NotAllowed { .. })
        ));
    }

    #[test]
    fn mismatched_parsed_specifiers_are_rejected() {
        let other = VersionSpecifiers::from_str(">=2").unwrap();
        let err = apply_strategy(
            RangeStrategy::Bump,
            ">=1",
            &other,
            &Version::from_str("3").unwrap(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            Pep440Error::SpecifierMismatch {
                text: ">=1".into(),
                parsed: ">=2".into()
            }
        );
        // The same clauses in another order are the same specifiers.
        let reordered = VersionSpecifiers::from_str("<2, >=1").unwrap();
        assert!(
            apply_strategy(
                RangeStrategy::Bump,
                ">=1,<2",
                &reordered,
                &Version::from_str("1.5").unwrap()
            )
            .is_ok()
        );
    }

    #[test]
    fn invalid_written_text_is_an_error() {
        let err = apply_strategy(
            RangeStrategy::Pin,
            ">=1.0,,",
            &VersionSpecifiers::empty(),
            &Version::from_str("1").unwrap(),
        )
        .unwrap_err();
        assert!(matches!(err, Pep440Error::InvalidSpecifier { .. }));
        assert!(
            err.to_string()
                .starts_with("Cannot parse the version specifier `>=1.0,,`")
        );
    }

    #[test]
    fn strategy_names_are_kebab_case() {
        for strategy in [
            RangeStrategy::Pin,
            RangeStrategy::Bump,
            RangeStrategy::Widen,
            RangeStrategy::Replace,
            RangeStrategy::Auto,
        ] {
            assert_eq!(
                serde_json::to_string(&strategy).unwrap(),
                format!("\"{strategy}\"")
            );
        }
        assert_eq!(RangeStrategy::default(), RangeStrategy::Auto);
    }
}
