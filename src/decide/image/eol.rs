//! End-of-life base images: which part of a tag (its Python minor, its distribution release)
//! is past its end of life on the day of the run, and the tag to migrate to.
//!
//! A migration keeps what the tag is: its kind, prefix and precision, its flavour (`slim`) and
//! its distribution family; only the Python minor and the distribution release move, and only
//! to releases that are supported (or newer than the release data knows). An end-of-life
//! Python minor moves to the oldest supported minor that has such a tag (the smallest change),
//! or the newest with `migration-target = "newest"`; a supported minor stays, or moves to the
//! next one that has such a tag. An end-of-life distribution moves to the newest supported
//! release of its family that the tag list publishes (`3.9-slim-bullseye` →
//! `3.10-slim-trixie`); one that floats (`3.12-slim`, `alpine`) never ends.

use jiff::civil::Date;

use crate::config::MigrationTarget;
use crate::versioning::docker_tag::{self, Distribution, DockerTag, with_distribution};
use crate::versioning::support::{Release, ReleaseData, Status, SupportDate};

/// The day to judge support by, and the release data to judge it with.
#[derive(Debug, Clone, Copy)]
pub struct Calendar<'a> {
    /// The day of the run (UTC).
    pub today: Date,
    /// Release and end-of-life dates.
    pub data: &'a ReleaseData,
}

impl Calendar<'static> {
    /// The embedded release data on `today`.
    pub fn embedded(today: Date) -> Self {
        Calendar {
            today,
            data: ReleaseData::embedded(),
        }
    }
}

impl Calendar<'_> {
    fn ended(&self, release: Release) -> Option<Ended> {
        match self.data.status(&release, self.today) {
            Status::EndOfLife(date) => Some(Ended {
                date: date.clone(),
                release,
            }),
            _ => None,
        }
    }

    /// Whether a migration may move to `release`: supported today, or unknown to the data (a
    /// release newer than the data; unknown older ones are never candidates, since a migration
    /// only moves forward).
    fn usable(&self, release: &Release) -> bool {
        matches!(
            self.data.status(release, self.today),
            Status::Supported | Status::Unknown
        )
    }
}

/// A release that reached its end of life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    /// The release.
    pub release: Release,
    /// Its first day without support.
    pub date: SupportDate,
}

/// What of a tag reached its end of life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndOfLife {
    /// The Python minor, for Python images.
    pub python: Option<Ended>,
    /// The distribution release the variant names.
    pub distribution: Option<Ended>,
}

/// The CPython minor of a tag and whether a migration can move it: `python` image tags
/// (`3.9-slim` → 3.9) and prefixed tags (`python3.9-slim`) can; a Python written into the
/// variant (`0.8.0-python3.9-bookworm`) is reported, but moving it would change the variant.
/// PyPy's `3.9` is PyPy's own release, whose support CPython's dates do not tell.
fn cpython_minor(repository: &str, tag: &DockerTag) -> Option<((u64, u64), bool)> {
    let repo = repository.rsplit('/').next().unwrap_or(repository);
    let prefixed = matches!(tag.prefix().to_ascii_lowercase().as_str(), "python" | "py");
    if (repo == "python" && tag.prefix().is_empty()) || prefixed {
        if let Some(minor) = tag.major_minor() {
            return Some((minor, true));
        }
    }
    tag.variant_info().python.map(|minor| (minor, false))
}

impl EndOfLife {
    /// What of `tag` (of the image `repository`) is end of life on the calendar's day; `None`
    /// when nothing is.
    pub fn of(repository: &str, tag: &DockerTag, calendar: &Calendar<'_>) -> Option<EndOfLife> {
        let python = cpython_minor(repository, tag)
            .and_then(|((major, minor), _)| calendar.ended(Release::Python(major, minor)));
        let distribution = tag
            .variant_info()
            .distribution
            .as_ref()
            .and_then(Release::of_distribution)
            .and_then(|release| calendar.ended(release));
        (python.is_some() || distribution.is_some()).then_some(EndOfLife {
            python,
            distribution,
        })
    }

    /// `Python 3.9 reached end of life on 2025-10-31 and Debian bullseye on 2024-08-14`.
    pub fn describe(&self) -> String {
        let mut ended = self.python.iter().chain(&self.distribution);
        let Some(first) = ended.next() else {
            return String::new();
        };
        let mut text = format!("{} reached end of life on {}", first.release, first.date);
        for more in ended {
            text.push_str(&format!(" and {} on {}", more.release, more.date));
        }
        text
    }
}

/// The tag to migrate to and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The new tag.
    pub tag: String,
    /// What ended and where the migration goes.
    pub reason: String,
}

struct Candidate<'a> {
    text: &'a str,
    tag: DockerTag,
    minor: Option<(u64, u64)>,
    rank: Option<Vec<u64>>,
}

/// The tag among `tags` that `current` (of `repository`, end of life as `eol` says) migrates
/// to; `None` when the tag list publishes none (see the module documentation for the rules).
pub fn migration_target(
    repository: &str,
    current: &DockerTag,
    tags: &[String],
    eol: &EndOfLife,
    calendar: &Calendar<'_>,
    target: MigrationTarget,
) -> Option<Migration> {
    let distribution = current.variant_info().distribution;
    let current_rank = distribution.as_ref().and_then(Distribution::release_rank);
    let movable = match cpython_minor(repository, current) {
        Some((minor, true)) => Some(minor),
        // An end-of-life Python written into the variant cannot be moved.
        Some((_, false)) if eol.python.is_some() => return None,
        _ => None,
    };
    let shaped: Vec<(&str, DockerTag)> = tags
        .iter()
        .filter_map(|text| {
            let t = DockerTag::parse(text);
            let same_shape = t.kind() == current.kind()
                && t.prefix() == current.prefix()
                && t.precision() == current.precision()
                // Pre-releases only for a pre-release (`3.15-rc-slim-bookworm`).
                && (!t.is_prerelease() || current.is_prerelease());
            same_shape.then_some((text.as_str(), t))
        })
        .collect();
    // A newer, usable release of the same family, everything else in the variant kept.
    let newer_release = |t: &DockerTag| -> Option<Vec<u64>> {
        let d = t.variant_info().distribution?;
        let rank = d.release_rank()?;
        if rank <= *current_rank.as_ref()? {
            return None;
        }
        if with_distribution(current.variant(), d.release.as_deref()?).ok()? != t.variant() {
            return None;
        }
        Release::of_distribution(&d)
            .is_none_or(|r| calendar.usable(&r))
            .then_some(rank)
    };
    // The version: a usable Python minor not older than the current one, or, for other
    // images, the same major and no older.
    let version = |t: &DockerTag| -> Option<Option<(u64, u64)>> {
        match movable {
            Some(current_minor) => {
                let minor = docker_tag::python_minor(t)?;
                // A supported current minor may stay, released or not (a release candidate).
                let stays = minor == current_minor && eol.python.is_none();
                let usable = minor >= current_minor
                    && (stays || calendar.usable(&Release::Python(minor.0, minor.1)));
                usable.then_some(Some(minor))
            }
            None => (t.parts().first() == current.parts().first() && t.parts() >= current.parts())
                .then_some(None),
        }
    };
    let pick = |move_release: bool| -> Option<Candidate<'_>> {
        let candidates: Vec<Candidate<'_>> = shaped
            .iter()
            .filter_map(|(text, t)| {
                let minor = version(t)?;
                let rank = if move_release {
                    Some(newer_release(t)?)
                } else if t.variant() == current.variant() {
                    current_rank.clone()
                } else {
                    return None;
                };
                Some(Candidate {
                    text,
                    tag: t.clone(),
                    minor,
                    rank,
                })
            })
            .collect();
        let minors = candidates.iter().filter_map(|c| c.minor);
        let minor = if eol.python.is_some() && target == MigrationTarget::Newest {
            minors.max()
        } else {
            minors.min()
        };
        // The newest release; then, for Python, the newest patch of the chosen minor, and for
        // other images the closest version (moving the version is a routine update's job).
        candidates
            .into_iter()
            .filter(|c| c.minor == minor)
            .max_by(|a, b| {
                let version = if movable.is_some() {
                    a.tag.parts().cmp(b.tag.parts())
                } else {
                    b.tag.parts().cmp(a.tag.parts())
                };
                a.rank
                    .cmp(&b.rank)
                    .then(version)
                    .then_with(|| a.text.cmp(b.text))
            })
    };
    let ended_release = eol.distribution.is_some();
    // A supported release stays, unless no supported Python is published on it any more.
    let found = pick(ended_release).or_else(|| {
        (!ended_release && current_rank.is_some())
            .then(|| pick(true))
            .flatten()
    })?;
    Some(Migration {
        reason: reason(current, &found, eol, target),
        tag: found.text.to_owned(),
    })
}

/// What ended and what the migration changes: `Python 3.9 reached end of life on 2025-10-31;
/// migrate to the oldest supported Python minor, on Debian trixie`.
fn reason(
    current: &DockerTag,
    found: &Candidate<'_>,
    eol: &EndOfLife,
    target: MigrationTarget,
) -> String {
    let mut moves = Vec::new();
    if eol.python.is_some() {
        moves.push(match target {
            MigrationTarget::OldestSupported => "the oldest supported Python minor".to_owned(),
            MigrationTarget::Newest => "the newest supported Python minor".to_owned(),
        });
    } else if let Some((major, minor)) = found
        .minor
        .filter(|m| docker_tag::python_minor(current) != Some(*m))
    {
        moves.push(format!("Python {major}.{minor}"));
    }
    let new = found.tag.variant_info().distribution;
    if new != current.variant_info().distribution {
        if let Some(new) = &new {
            let name = match Release::of_distribution(new) {
                Some(release) => release.to_string(),
                None => format!("{} {}", new.family, new.release.as_deref().unwrap_or("")),
            };
            // `the oldest supported Python minor, on Debian trixie`; `Debian trixie` alone.
            moves.push(if moves.is_empty() {
                name
            } else {
                format!("on {name}")
            });
        }
    }
    if moves.is_empty() {
        return eol.describe();
    }
    format!("{}; migrate to {}", eol.describe(), moves.join(", "))
}
