//! Poetry constraints: parsing never panics, stays within its bounds, and every rewrite a
//! range strategy returns allows the version it was asked for. The input is a constraint, a
//! newline, and a version.
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use pep440_rs::Version;
use repin::versioning::pep440::RangeStrategy;
use repin::versioning::poetry::{self, Constraint, MAX_BRANCHES, MAX_CLAUSES};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (written, new) = text.split_once('\n').unwrap_or((text, "1.0"));
    let Ok(constraint) = Constraint::parse(written) else {
        return;
    };
    assert!(constraint.branches.len() <= MAX_BRANCHES);
    for branch in &constraint.branches {
        assert!(branch.clauses.len() <= MAX_CLAUSES);
        for clause in &branch.clauses {
            assert!(written.get(clause.span.clone()).is_some());
        }
    }
    let _ = constraint.floor();
    let Ok(new) = Version::from_str(new) else {
        return;
    };
    let _ = constraint.contains(&new);
    for strategy in [
        RangeStrategy::Pin,
        RangeStrategy::Bump,
        RangeStrategy::Widen,
        RangeStrategy::Replace,
        RangeStrategy::Auto,
    ] {
        if let Ok(Some(result)) = poetry::apply_strategy(strategy, written, &new) {
            let parsed = Constraint::parse(&result).expect("a rewrite parses");
            assert!(parsed.contains(&new), "{strategy}: {written} -> {result}");
        }
    }
});
