//! Release data: when each Python minor, Debian release and Alpine branch was released and when
//! its support ends, so that base images built on an end-of-life release can be reported and
//! migrated.
//!
//! The data is embedded from `data/release-data.toml` (its header says where each date comes
//! from and what "end of life" means for each kind of release); `[images.end-of-life]` in
//! `repin.toml` overrides single dates ([`ReleaseData::set_end_of_life`]). Nothing here reads a
//! clock: callers pass the day to judge by.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use jiff::civil::Date;
use serde::Deserialize;

use super::docker_tag::{Distribution, DistroFamily};

/// The release data compiled into repin.
const EMBEDDED: &str = include_str!("../../data/release-data.toml");

/// What the release data or an override says wrongly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SupportError {
    /// A date is neither `YYYY-MM-DD` nor `YYYY-MM`.
    #[error("`{text}` is not a date")]
    InvalidDate {
        /// The text.
        text: String,
    },
    /// A key names no Python minor, Debian codename or Alpine branch.
    #[error("Unknown release `{key}`")]
    UnknownRelease {
        /// The key.
        key: String,
    },
    /// The data file is not valid TOML of the expected shape.
    #[error("The release data is not valid: {message}")]
    Data {
        /// The parser's message.
        message: String,
    },
}

impl SupportError {
    /// What to write instead.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            SupportError::InvalidDate { .. } => {
                Some("write the date as `YYYY-MM-DD`, or `YYYY-MM` for a month")
            }
            SupportError::UnknownRelease { .. } => Some(
                "name a Python minor (`\"3.9\"`), a Debian codename (`bullseye`) or an Alpine branch (`alpine3.19`)",
            ),
            SupportError::Data { .. } => None,
        }
    }
}

/// A release whose support ends: a Python minor, a Debian release or an Alpine branch.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Release {
    /// A Python minor, `(3, 9)`.
    Python(u64, u64),
    /// A Debian release by codename (`bullseye`).
    Debian(String),
    /// An Alpine branch, `(3, 19)`.
    Alpine(u64, u64),
}

fn minor(text: &str) -> Option<(u64, u64)> {
    let (major, minor) = text.split_once('.')?;
    let number = |s: &str| {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    Some((number(major)?, number(minor)?))
}

impl Release {
    /// Read a key as `repin.toml` writes it: `3.9` (a Python minor), `bullseye` (a Debian
    /// codename repin knows, including unreleased ones such as `forky`), `alpine3.19`.
    pub fn parse(key: &str) -> Option<Release> {
        if let Some(branch) = key.strip_prefix("alpine") {
            return minor(branch).map(|(a, b)| Release::Alpine(a, b));
        }
        if let Some((a, b)) = minor(key) {
            return Some(Release::Python(a, b));
        }
        Distribution::debian_version(key).map(|_| Release::Debian(key.to_owned()))
    }

    /// The release a tag's distribution names: a Debian codename or an Alpine branch
    /// (`3.20`); `None` for other families and for variants that name only the family.
    pub fn of_distribution(distribution: &Distribution) -> Option<Release> {
        let release = distribution.release.as_deref()?;
        match distribution.family {
            DistroFamily::Debian => Some(Release::Debian(release.to_owned())),
            DistroFamily::Alpine => minor(release).map(|(a, b)| Release::Alpine(a, b)),
            _ => None,
        }
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Release::Python(a, b) => write!(f, "Python {a}.{b}"),
            Release::Debian(codename) => write!(f, "Debian {codename}"),
            Release::Alpine(a, b) => write!(f, "Alpine {a}.{b}"),
        }
    }
}

/// A date as the data writes it: a day, or a month for planned dates (`2026-10`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportDate {
    day: Date,
    written: String,
}

impl SupportDate {
    /// Read `YYYY-MM-DD`, or `YYYY-MM`, which counts as the last day of that month: a planned
    /// end of life "in October" has surely come by October's end, and not before its start.
    ///
    /// # Errors
    ///
    /// [`SupportError::InvalidDate`] for anything else.
    pub fn parse(text: &str) -> Result<SupportDate, SupportError> {
        let invalid = || SupportError::InvalidDate {
            text: text.to_owned(),
        };
        let numbers: Vec<&str> = text.split('-').collect();
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        let day = match numbers.as_slice() {
            [y, m, d] if digits(y, 4) && digits(m, 2) && digits(d, 2) => Date::new(
                y.parse().map_err(|_| invalid())?,
                m.parse().map_err(|_| invalid())?,
                d.parse().map_err(|_| invalid())?,
            )
            .map_err(|_| invalid())?,
            [y, m] if digits(y, 4) && digits(m, 2) => Date::new(
                y.parse().map_err(|_| invalid())?,
                m.parse().map_err(|_| invalid())?,
                1,
            )
            .map_err(|_| invalid())?
            .last_of_month(),
            _ => return Err(invalid()),
        };
        Ok(SupportDate {
            day,
            written: text.to_owned(),
        })
    }

    /// The day it stands for.
    pub fn day(&self) -> Date {
        self.day
    }

    /// The date as written (`2026-10` stays `2026-10`).
    pub fn as_str(&self) -> &str {
        &self.written
    }
}

impl fmt::Display for SupportDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.written)
    }
}

/// When a release came out and when its support ends.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lifecycle {
    /// The first release (`None` when only an override names the release).
    pub released: Option<SupportDate>,
    /// The first day without support.
    pub end_of_life: Option<SupportDate>,
}

/// Where a release stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status<'a> {
    /// Released and supported.
    Supported,
    /// Support ended on this date.
    EndOfLife(&'a SupportDate),
    /// Known, but not released yet.
    Unreleased,
    /// Not in the data.
    Unknown,
}

/// Release and end-of-life dates, by release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseData {
    releases: BTreeMap<Release, Lifecycle>,
}

static PARSED: LazyLock<ReleaseData> = LazyLock::new(|| {
    // The file is part of the source; a test parses it, so this cannot fail in a release.
    ReleaseData::parse(EMBEDDED).unwrap_or_else(|e| panic!("data/release-data.toml: {e}"))
});

impl Default for ReleaseData {
    fn default() -> Self {
        ReleaseData::embedded().clone()
    }
}

impl ReleaseData {
    /// The data compiled into repin.
    pub fn embedded() -> &'static ReleaseData {
        &PARSED
    }

    /// Parse data in the format of `data/release-data.toml`.
    ///
    /// # Errors
    ///
    /// [`SupportError::Data`] when the text is not of that shape, and the errors of
    /// [`SupportDate::parse`] and [`Release::parse`] for its dates and keys.
    pub fn parse(text: &str) -> Result<ReleaseData, SupportError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            python: BTreeMap<String, RawEntry>,
            debian: BTreeMap<String, RawEntry>,
            alpine: BTreeMap<String, RawEntry>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "kebab-case")]
        struct RawEntry {
            released: String,
            end_of_life: String,
        }
        let raw: Raw = toml::from_str(text).map_err(|e| SupportError::Data {
            message: e.message().trim_end_matches('.').to_owned(),
        })?;
        let mut releases = BTreeMap::new();
        // Each table with the prefix its keys lack and a release of the kind it holds.
        let tables = [
            ("", raw.python, Release::Python(0, 0)),
            ("", raw.debian, Release::Debian(String::new())),
            ("alpine", raw.alpine, Release::Alpine(0, 0)),
        ];
        for (prefix, table, kind) in tables {
            for (key, entry) in table {
                let unknown = || SupportError::UnknownRelease { key: key.clone() };
                let release = Release::parse(&format!("{prefix}{key}")).ok_or_else(unknown)?;
                // Each table holds its own kind of release only.
                if std::mem::discriminant(&release) != std::mem::discriminant(&kind) {
                    return Err(unknown());
                }
                let lifecycle = Lifecycle {
                    released: Some(SupportDate::parse(&entry.released)?),
                    end_of_life: Some(SupportDate::parse(&entry.end_of_life)?),
                };
                releases.insert(release, lifecycle);
            }
        }
        Ok(ReleaseData { releases })
    }

    /// Every release with its dates, in order (Python minors, Debian, Alpine).
    pub fn releases(&self) -> impl Iterator<Item = (&Release, &Lifecycle)> {
        self.releases.iter()
    }

    /// The dates of one release.
    pub fn get(&self, release: &Release) -> Option<&Lifecycle> {
        self.releases.get(release)
    }

    /// Replace (or add) the end-of-life date of a release.
    pub fn set_end_of_life(&mut self, release: Release, date: SupportDate) {
        self.releases.entry(release).or_default().end_of_life = Some(date);
    }

    /// Where `release` stands on `today`: end of life from its end-of-life date on.
    pub fn status(&self, release: &Release, today: Date) -> Status<'_> {
        let Some(lifecycle) = self.releases.get(release) else {
            return Status::Unknown;
        };
        if let Some(end) = &lifecycle.end_of_life {
            if today >= end.day {
                return Status::EndOfLife(end);
            }
        }
        match &lifecycle.released {
            Some(released) if today < released.day => Status::Unreleased,
            _ => Status::Supported,
        }
    }
}

/// The UTC day of a time in seconds since the Unix epoch (the epoch itself for times out of
/// range).
pub fn today(now: i64) -> Date {
    let timestamp = jiff::Timestamp::from_second(now).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    timestamp.to_zoned(jiff::tz::TimeZone::UTC).date()
}

impl crate::error::Hint for SupportError {
    fn hints(&self) -> Vec<String> {
        self.hint().into_iter().map(str::to_owned).collect()
    }
}

#[cfg(test)]
mod tests;
