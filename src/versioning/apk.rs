//! Alpine package versions (`1.36.1-r29`, `3.1.4_p1-r0`, `0.9_git20230110-r1`) and their
//! ordering, as `apk version -t` (apk-tools' `version.c`) compares them. Used for Alpine
//! packages in images and the OSV `Alpine:v3.*` ecosystems.
//!
//! A version is a sequence of tokens: digit groups separated by `.`, an optional letter,
//! suffixes (`_alpha`, `_beta`, `_pre`, `_rc` before the release; `_cvs`, `_svn`, `_git`,
//! `_hg`, `_p` after it), each with an optional number, and a revision `-rN`. Tokens compare
//! pairwise while they are of the same kind; where the kinds differ, a pre-release suffix makes
//! its version the lower, else the version with more release parts is the higher (so
//! `1.2 < 1.2.1`, `1.2_rc1 < 1.2`, `1.2-r1 < 1.2_p1`). A digit group after a `.` that starts
//! with `0` compares as a fraction, as apk does.

use std::cmp::Ordering;

/// Why a text is not an Alpine version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApkVersionError {
    /// Something apk would not accept.
    #[error("`{0}` is not an Alpine package version")]
    Invalid(String),
}

/// Token kinds, in apk-tools' order: a token kind further down ends the shared prefix lower.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    DigitOrZero,
    Digit,
    Letter,
    Suffix,
    SuffixNumber,
    Revision,
    End,
}

const PRE: [&str; 4] = ["alpha", "beta", "pre", "rc"];
const POST: [&str; 5] = ["cvs", "svn", "git", "hg", "p"];

/// A parsed Alpine version: its tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApkVersion {
    text: String,
    tokens: Vec<(Kind, i128)>,
}

fn number(text: &str) -> i128 {
    // Versions with absurdly long digit groups compare as saturated, never overflow.
    text.bytes().fold(0i128, |n, d| {
        n.saturating_mul(10).saturating_add(i128::from(d - b'0'))
    })
}

impl ApkVersion {
    /// Parse `text` (surrounding whitespace ignored).
    pub fn parse(text: &str) -> Result<Self, ApkVersionError> {
        let original = text.trim();
        let bad = || ApkVersionError::Invalid(original.to_owned());
        // A `~hash` tail (apk-tools 2.12+) does not take part in the ordering.
        let text = original.split_once('~').map_or(original, |(v, _)| v);
        let bytes = text.as_bytes();
        let mut tokens = Vec::new();
        let mut i = 0;
        let digits = |i: &mut usize| {
            let start = *i;
            while *i < bytes.len() && bytes[*i].is_ascii_digit() {
                *i += 1;
            }
            &text[start..*i]
        };
        // Release: digit groups, then an optional letter.
        let first = digits(&mut i);
        if first.is_empty() {
            return Err(bad());
        }
        tokens.push((Kind::Digit, number(first)));
        while i < bytes.len() && bytes[i] == b'.' {
            i += 1;
            let group = digits(&mut i);
            if group.is_empty() {
                return Err(bad());
            }
            let zeros = group.bytes().take_while(|&b| b == b'0').count();
            if zeros > 0 && zeros < group.len() {
                // `1.05`: apk counts the leading zeros (negated), then the rest as a digit group.
                tokens.push((Kind::DigitOrZero, -(zeros as i128)));
                tokens.push((Kind::Digit, number(&group[zeros..])));
            } else if zeros > 0 {
                tokens.push((Kind::DigitOrZero, -(zeros as i128)));
            } else {
                tokens.push((Kind::DigitOrZero, number(group)));
            }
        }
        if i < bytes.len() && bytes[i].is_ascii_lowercase() {
            tokens.push((Kind::Letter, i128::from(bytes[i])));
            i += 1;
        }
        // Suffixes.
        while i < bytes.len() && bytes[i] == b'_' {
            i += 1;
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_lowercase() {
                i += 1;
            }
            let name = &text[start..i];
            let rank = if let Some(p) = PRE.iter().position(|s| *s == name) {
                p as i128 - PRE.len() as i128
            } else if let Some(p) = POST.iter().position(|s| *s == name) {
                p as i128
            } else {
                return Err(bad());
            };
            tokens.push((Kind::Suffix, rank));
            let n = digits(&mut i);
            if !n.is_empty() {
                tokens.push((Kind::SuffixNumber, number(n)));
            }
        }
        // Revision.
        if i < bytes.len() {
            let rest = &text[i..];
            let n = rest.strip_prefix("-r").ok_or_else(bad)?;
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            tokens.push((Kind::Revision, number(n)));
        }
        Ok(ApkVersion {
            text: original.to_owned(),
            tokens,
        })
    }

    /// The version as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl Ord for ApkVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let end = (Kind::End, 0);
        let mut i = 0;
        loop {
            let a = *self.tokens.get(i).unwrap_or(&end);
            let b = *other.tokens.get(i).unwrap_or(&end);
            if a.0 != b.0 {
                // A pre-release suffix ends its version lower than whatever the other has.
                if a.0 == Kind::Suffix && a.1 < 0 {
                    return Ordering::Less;
                }
                if b.0 == Kind::Suffix && b.1 < 0 {
                    return Ordering::Greater;
                }
                // Otherwise the kind further down (fewer release parts) is the lower.
                return b.0.cmp(&a.0);
            }
            if a.0 == Kind::End {
                return Ordering::Equal;
            }
            match a.1.cmp(&b.1) {
                Ordering::Equal => i += 1,
                unequal => return unequal,
            }
        }
    }
}

impl PartialOrd for ApkVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for ApkVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Compare two version texts as `apk version -t` does; `None` when either is not an Alpine
/// version.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    Some(ApkVersion::parse(a).ok()?.cmp(&ApkVersion::parse(b).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap_or_else(|| panic!("{a} or {b} does not parse"))
    }

    #[test]
    fn suffix_order_of_the_apk_spec() {
        // APKBUILD reference, pkgver: "_alpha, _beta, _pre, _rc" come before the release,
        // "_cvs, _svn, _git, _hg, _p" after it.
        let sorted = [
            "1.0_alpha",
            "1.0_alpha2",
            "1.0_beta",
            "1.0_pre1",
            "1.0_rc1",
            "1.0",
            "1.0-r1",
            "1.0_cvs",
            "1.0_svn",
            "1.0_git20230101",
            "1.0_hg",
            "1.0_p1",
            "1.0_p2",
            "1.0a",
            "1.0.1",
        ];
        for (i, a) in sorted.iter().enumerate() {
            for b in &sorted[i + 1..] {
                assert_eq!(cmp(a, b), Ordering::Less, "{a} < {b}");
                assert_eq!(cmp(b, a), Ordering::Greater, "{b} > {a}");
            }
            assert_eq!(cmp(a, a), Ordering::Equal);
        }
    }

    #[test]
    fn apk_version_test_vectors() {
        // Cases from apk-tools' test/version.data and real Alpine packages.
        use Ordering::*;
        for (a, b, want) in [
            ("3.1.4-r0", "3.1.4-r1", Less),
            ("3.1.4-r5", "3.1.5-r0", Less),
            ("1.36.1-r29", "1.36.1-r30", Less),
            ("1.36.1-r9", "1.36.1-r10", Less),
            ("2.4.10-r0", "2.4.9-r3", Greater),
            ("1.2", "1.2.0", Less),
            ("1.2.3", "1.2.3-r0", Less),
            ("0.1.0_alpha_pre2", "0.1.0_alpha", Less),
            ("1.0_rc1-r3", "1.0-r0", Less),
            ("1.01", "1.1", Less),
            ("1.001", "1.01", Less),
            ("2.34", "0.1.0_alpha", Greater),
            ("1.0~abc123", "1.0", Equal),
            ("23.1-r0", "23.01-r0", Greater),
        ] {
            assert_eq!(cmp(a, b), want, "{a} vs {b}");
            assert_eq!(cmp(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn refuses_what_apk_refuses() {
        for bad in [
            "", "a1.0", "1..2", "1.0-1", "1.0_foo", "1.0-r", "1.0-rx", "1.0 2",
        ] {
            assert!(ApkVersion::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            ApkVersion::parse("1.0-x").unwrap_err().to_string(),
            "`1.0-x` is not an Alpine package version"
        );
        assert_eq!(ApkVersion::parse(" 1.0-r2 ").unwrap().as_str(), "1.0-r2");
    }
}
