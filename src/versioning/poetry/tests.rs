use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};

use super::*;

fn v(text: &str) -> Version {
    Version::from_str(text).unwrap()
}

fn pep440(text: &str) -> String {
    Constraint::parse(text)
        .unwrap()
        .pep440()
        .unwrap()
        .to_string()
}

/// `poetry` and the PEP 440 `expected` allow the same versions, among versions around every
/// boundary of the documentation's tables.
fn same(poetry: &str, expected: &str) {
    let expected = VersionSpecifiers::from_str(expected).unwrap();
    let got = Constraint::parse(poetry).unwrap();
    let got = got.pep440().unwrap();
    for probe in [
        "0", "0.0.1", "0.0.3", "0.0.4", "0.1", "0.2.2", "0.2.3", "0.3.0", "0.9", "1.0.0", "1.1",
        "1.2.0", "1.2.2", "1.2.3", "1.2.4", "1.3.0", "1.4.9", "1.5", "1.9", "2.0.0", "2.0.1", "3",
    ] {
        assert_eq!(
            got.contains(&v(probe)),
            expected.contains(&v(probe)),
            "{poetry} ({got}) and {expected} disagree on {probe}"
        );
    }
}

/// The tables of https://python-poetry.org/docs/dependency-specification/ (caret, tilde,
/// wildcard, inequality, exact), row by row.
#[test]
fn documentation_tables() {
    // Caret requirements.
    same("^1.2.3", ">=1.2.3,<2.0.0");
    same("^1.2", ">=1.2.0,<2.0.0");
    same("^1", ">=1.0.0,<2.0.0");
    same("^0.2.3", ">=0.2.3,<0.3.0");
    same("^0.0.3", ">=0.0.3,<0.0.4");
    same("^0.0", ">=0.0.0,<0.1.0");
    same("^0", ">=0.0.0,<1.0.0");
    // Tilde requirements.
    same("~1.2.3", ">=1.2.3,<1.3.0");
    same("~1.2", ">=1.2.0,<1.3.0");
    same("~1", ">=1.0.0,<2.0.0");
    // Wildcard requirements.
    same("1.*", ">=1.0.0,<2.0.0");
    same("1.2.*", ">=1.2.0,<1.3.0");
    assert!(Constraint::parse("*").unwrap().is_any());
    // Inequality requirements, one or several.
    same(">= 1.2.0", ">=1.2.0");
    same("> 1", ">1");
    same("< 2", "<2");
    same("!= 1.2.3", "!=1.2.3");
    same(">= 1.2, < 1.5", ">=1.2,<1.5");
    same(">=1.2 <2.0", ">=1.2,<2.0");
    // Exact requirements.
    same("1.2.3", "==1.2.3");
    same("==1.2.3", "==1.2.3");
    same("=1.2.3", "==1.2.3");
    // PEP 440's compatible release.
    same("~=1.2", "~=1.2");
}

#[test]
fn translations_are_written_with_the_precision_given() {
    assert_eq!(pep440("^1.2"), ">=1.2, <2.0");
    assert_eq!(pep440("~1"), ">=1, <2");
    assert_eq!(pep440("1.2.*"), "==1.2.*");
}

#[test]
fn a_union_allows_what_any_branch_allows() {
    let c = Constraint::parse("^1.2 || ^3.0").unwrap();
    assert!(c.pep440().is_none());
    assert!(c.contains(&v("1.9")));
    assert!(!c.contains(&v("2.5")));
    assert!(c.contains(&v("3.4.1")));
    assert!(!c.contains(&v("4.0")));
    // A single bar is Poetry's union too.
    assert!(
        Constraint::parse("^1.2 | ^3.0")
            .unwrap()
            .contains(&v("3.1"))
    );
    assert_eq!(c.floor(), Some(v("1.2")));
}

#[test]
fn malformed_constraints_are_errors() {
    for bad in [
        "", "  ", "^1 ||", "|| ^1", "^", ">=", "^x", ">=1.*", "~=1", "^*", "1.2.*b1", "~1.2.*",
    ] {
        assert!(Constraint::parse(bad).is_err(), "{bad:?} parsed");
    }
}

#[test]
fn hostile_input_is_bounded() {
    let long = "1".repeat(MAX_LEN + 1);
    assert!(matches!(
        Constraint::parse(&long),
        Err(PoetryError::TooLong { .. })
    ));
    let branches = vec!["^1"; MAX_BRANCHES + 1].join(" || ");
    assert!(matches!(
        Constraint::parse(&branches),
        Err(PoetryError::TooMany { .. })
    ));
    let clauses = vec![">=1"; MAX_CLAUSES + 1].join(",");
    assert!(matches!(
        Constraint::parse(&clauses),
        Err(PoetryError::TooMany { .. })
    ));
    assert!(Constraint::parse(&format!("^{}", u64::MAX)).is_err());
}

#[test]
fn prereleases_are_admitted_when_named() {
    assert!(Constraint::parse("^2.0b1").unwrap().admits_prereleases());
    assert!(
        !Constraint::parse("^2.0,!=2.1b1")
            .unwrap()
            .admits_prereleases()
    );
}

fn rewrite(strategy: RangeStrategy, written: &str, new: &str) -> Option<String> {
    apply_strategy(strategy, written, &v(new)).unwrap()
}

#[test]
fn strategies_on_poetry_syntax() {
    use RangeStrategy::*;
    let table: &[(RangeStrategy, &str, &str, Option<&str>)] = &[
        // pin: the exact version, bare.
        (Pin, "^2.31", "2.32.3", Some("2.32.3")),
        (Pin, "2.32.3", "2.32.3", None),
        // bump keeps the operator.
        (Bump, "^2.31", "2.32.3", Some("^2.32.3")),
        (Bump, "~1.2", "1.4.5", Some("~1.4")),
        (Bump, "~1", "2.3", Some("~2")),
        (Bump, "~=1.2", "1.5.3", Some("~=1.5")),
        (Bump, "1.2.*", "1.5.2", Some("1.5.*")),
        (Bump, "==1.2.3", "1.4.0", Some("==1.4.0")),
        (Bump, ">=1.2 <2.0", "2.4", Some(">=2.4 <3.0")),
        (Bump, ">= 1.2, < 1.5", "1.7.2", Some(">= 1.7.2, < 1.8")),
        (Bump, ">1.2,<=1.4", "1.5", Some(">=1.5,<=1.5")),
        // replace: nothing when allowed, else the same shape moved.
        (Replace, "^2.31", "2.32.3", None),
        (Replace, "^2.31", "3.0.1", Some("^3.0")),
        (Replace, "~1.2", "1.4.5", Some("~1.4")),
        (Replace, "^1.2 || ^2.0", "3.1", Some("^1.2 || ^3.1")),
        // widen: a new branch for a caret, tilde or wildcard; upper bounds moved otherwise.
        (Widen, "^2.31", "3.0.1", Some("^2.31 || ^3.0")),
        (Widen, "~1.2", "1.4.5", Some("~1.2 || ~1.4")),
        (Widen, "1.2.*", "1.3.0", Some("1.2.* || 1.3.*")),
        (Widen, ">=1.2,<2.0", "2.4", Some(">=1.2,<3.0")),
        (Widen, "^2.31", "2.40", None),
        // auto: bump a pin-like constraint, replace a range.
        (Auto, "1.2.*", "1.5.2", Some("1.5.*")),
        (Auto, "^2.31", "2.32.3", None),
        (Auto, "^2.31", "3.0.1", Some("^3.0")),
    ];
    for (strategy, written, new, expected) in table {
        assert_eq!(
            rewrite(*strategy, written, new).as_deref(),
            *expected,
            "{strategy} {written} + {new}"
        );
    }
}

#[test]
fn an_exclusion_of_the_new_version_is_an_error() {
    let err = apply_strategy(RangeStrategy::Bump, "^1.2,!=1.5", &v("1.5")).unwrap_err();
    assert!(matches!(err, PoetryError::NotAllowed { .. }), "{err}");
}

#[test]
fn every_rewrite_allows_the_new_version() {
    let written = [
        "^0.2.3",
        "~0.0",
        "^0",
        ">=0.1,<0.2",
        "0.*",
        "^1.0 || ^2.0",
        "~=0.9",
    ];
    let news = ["0.2.5", "0.3.0", "1.0.0", "2.5.1", "10.0"];
    for strategy in [
        RangeStrategy::Pin,
        RangeStrategy::Bump,
        RangeStrategy::Widen,
        RangeStrategy::Replace,
        RangeStrategy::Auto,
    ] {
        for w in written {
            for n in news {
                let result = apply_strategy(strategy, w, &v(n)).unwrap();
                let text = result.unwrap_or_else(|| w.to_owned());
                assert!(
                    Constraint::parse(&text).unwrap().contains(&v(n)),
                    "{strategy} {w} + {n} gave {text}"
                );
            }
        }
    }
}
