//! Debian package versions (`[epoch:]upstream_version[-debian_revision]`) and their ordering,
//! as Debian Policy §5.6.12 and `deb-version(7)` define it and `dpkg --compare-versions`
//! implements it. Used for Debian and Ubuntu packages in images (and the OSV `Debian:*` and
//! `Ubuntu:*` ecosystems).
//!
//! The ordering, in short: the epoch compares as a number (absent is 0); then the upstream
//! version, then the revision (absent is `0`), each by alternating a non-digit part, compared
//! character by character where `~` sorts before everything (even the end of the part) and
//! letters sort before other characters, and a digit part, compared as a number.

use std::cmp::Ordering;
use std::fmt;

/// Why a text is not a Debian version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DpkgVersionError {
    /// Nothing to parse.
    #[error("A Debian version cannot be empty")]
    Empty,
    /// The epoch is not a number.
    #[error("The epoch of Debian version `{0}` is not a number")]
    BadEpoch(String),
    /// The upstream version does not start with a digit or has a character Policy forbids.
    #[error(
        "The upstream part of Debian version `{0}` must start with a digit and hold only alphanumerics and `.+-~:`"
    )]
    BadUpstream(String),
    /// The revision has a character Policy forbids.
    #[error("The revision of Debian version `{0}` may hold only alphanumerics and `.+~`")]
    BadRevision(String),
}

/// A parsed Debian version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DpkgVersion {
    epoch: u64,
    upstream: String,
    revision: String,
}

impl DpkgVersion {
    /// Parse `text` (surrounding whitespace ignored).
    pub fn parse(text: &str) -> Result<Self, DpkgVersionError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(DpkgVersionError::Empty);
        }
        let (epoch, rest) = match text.split_once(':') {
            Some((epoch, rest)) => {
                let epoch = epoch
                    .parse::<u64>()
                    .map_err(|_| DpkgVersionError::BadEpoch(text.to_owned()))?;
                (epoch, rest)
            }
            None => (0, text),
        };
        // The revision is everything after the last hyphen.
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((upstream, revision)) => (upstream, revision),
            None => (rest, ""),
        };
        let upstream_ok = upstream.chars().next().is_some_and(|c| c.is_ascii_digit())
            && upstream
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-' | '~' | ':'));
        if !upstream_ok {
            return Err(DpkgVersionError::BadUpstream(text.to_owned()));
        }
        if !revision
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '~'))
        {
            return Err(DpkgVersionError::BadRevision(text.to_owned()));
        }
        Ok(DpkgVersion {
            epoch,
            upstream: upstream.to_owned(),
            revision: revision.to_owned(),
        })
    }

    /// The epoch (0 when absent).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The upstream version.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// The Debian revision (empty when absent).
    pub fn revision(&self) -> &str {
        &self.revision
    }
}

impl fmt::Display for DpkgVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.epoch > 0 {
            write!(f, "{}:", self.epoch)?;
        }
        f.write_str(&self.upstream)?;
        if !self.revision.is_empty() {
            write!(f, "-{}", self.revision)?;
        }
        Ok(())
    }
}

impl Ord for DpkgVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| compare_part(&self.upstream, &other.upstream))
            .then_with(|| compare_part(&self.revision, &other.revision))
    }
}

impl PartialOrd for DpkgVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Compare two version texts the way `dpkg --compare-versions` does; `None` when either is
/// not a Debian version.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    Some(
        DpkgVersion::parse(a)
            .ok()?
            .cmp(&DpkgVersion::parse(b).ok()?),
    )
}

/// The weight of one character of a non-digit part: `~` before the end of the part, the end
/// before letters, letters before everything else.
fn weight(c: Option<u8>) -> i32 {
    match c {
        Some(b'~') => -1,
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// `verrevcmp` of dpkg's `lib/dpkg/version.c`.
fn compare_part(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        // The non-digit prefix.
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let wa = weight(a.get(i).copied());
            let wb = weight(b.get(j).copied());
            if wa != wb {
                return wa.cmp(&wb);
            }
            i += 1;
            j += 1;
        }
        // The digit part, as a number of any length (leading zeros skipped).
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        let start_a = i;
        let start_b = j;
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let (da, db) = (&a[start_a..i], &b[start_b..j]);
        let by_number = da.len().cmp(&db.len()).then_with(|| da.cmp(db));
        if by_number != Ordering::Equal {
            return by_number;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap_or_else(|| panic!("{a} or {b} does not parse"))
    }

    #[test]
    fn policy_tilde_example() {
        // Debian Policy §5.6.12: "~~, ~~a, ~, the empty part, a" sort in this order.
        let sorted = ["1.0~~", "1.0~~a", "1.0~", "1.0", "1.0a"];
        for pair in sorted.windows(2) {
            assert_eq!(cmp(pair[0], pair[1]), Ordering::Less, "{pair:?}");
            assert_eq!(cmp(pair[1], pair[0]), Ordering::Greater, "{pair:?}");
        }
    }

    #[test]
    fn dpkg_test_vectors() {
        // From dpkg's lib/dpkg/t/t-version.c (dpkg_version_compare) and deb-version(7).
        use Ordering::*;
        for (a, b, want) in [
            ("0:1.1-1", "0:1.1-1", Equal),
            ("1.1-1", "0:1.1-1", Equal),
            ("0:1-1", "1:1-1", Less),
            ("0:1.1-1", "0:1.2-1", Less),
            ("0:1.2-1", "0:1.2-2", Less),
            ("0:1.2-1", "0:1.2-1", Equal),
            ("1:0.1", "2.0", Greater),
            ("1.0", "1.0-0", Equal),
            ("1.0-0", "1.0-1", Less),
            ("1.0", "1.0+b1", Less),
            ("1.0~rc1", "1.0", Less),
            ("1.0~rc1-1", "1.0-1", Less),
            ("1.0-1~bpo1", "1.0-1", Less),
            ("2.30-1", "2.4-1", Greater),
            ("1.01", "1.1", Equal),
            ("1.002", "1.2", Equal),
            ("1.a", "1.+", Less),
            ("1.0a", "1.0.1", Less),
            ("3.0.11-1~deb12u2", "3.0.11-1~deb12u1", Greater),
            ("3.0.11-1~deb12u2", "3.0.13-1~deb12u1", Less),
            ("3.0.15-1~deb12u1", "3.0.11-1~deb12u2", Greater),
            ("2.36-9+deb12u4", "2.36-9+deb12u10", Less),
            ("7.88.1-10+deb12u5", "7.88.1-10", Greater),
            ("1:2.38.1-5+deb12u1", "2.39", Greater),
            (
                "99999999999999999999999",
                "99999999999999999999998",
                Greater,
            ),
        ] {
            assert_eq!(cmp(a, b), want, "{a} vs {b}");
            assert_eq!(cmp(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn parses_parts_and_refuses_what_policy_forbids() {
        let v = DpkgVersion::parse("1:2.38.1-5+deb12u1").unwrap();
        assert_eq!(
            (v.epoch(), v.upstream(), v.revision()),
            (1, "2.38.1", "5+deb12u1")
        );
        assert_eq!(v.to_string(), "1:2.38.1-5+deb12u1");
        // Hyphens in upstream: the revision is after the last one.
        let v = DpkgVersion::parse("1.2-3-4").unwrap();
        assert_eq!((v.upstream(), v.revision()), ("1.2-3", "4"));
        assert_eq!(DpkgVersion::parse(""), Err(DpkgVersionError::Empty));
        assert!(matches!(
            DpkgVersion::parse("x:1.0"),
            Err(DpkgVersionError::BadEpoch(_))
        ));
        assert!(matches!(
            DpkgVersion::parse("a1.0"),
            Err(DpkgVersionError::BadUpstream(_))
        ));
        assert!(matches!(
            DpkgVersion::parse("1.0-a_b"),
            Err(DpkgVersionError::BadRevision(_))
        ));
        assert_eq!(compare("1.0", "bad version"), None);
        assert_eq!(
            DpkgVersionError::BadEpoch("x:1".into()).to_string(),
            "The epoch of Debian version `x:1` is not a number"
        );
    }
}
