//! Re-locking an existing compiled lock: its `.in` resolved again with every pin of the lock
//! preferred as it is, and what an update asks for (a package at a new version) as a
//! constraint, so only what the update needs moves; written in the lock's own tool's format
//! ([`super::format`]), or as the `pylock.toml` repin wrote ([`super::pylock`]), and the pins
//! that moved listed with why.
//!
//! Generic over the [`PackageSource`], so it is table-tested on a `MemorySource`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::PackageName;

use super::format::{Kept, Style, render};
use super::input::Input;
use super::resolve::{Direct, Request, Resolution, Via};
use super::source::PackageSource;
use super::{LockError, Target};
use crate::manifest::Manifest;
use crate::manifest::edit::{MovedPin, Relock};

/// What kind of file a lock is, and what its re-lock keeps of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// A compiled requirements file, written as its [`Style`] says.
    Compiled,
    /// A `pylock.toml` repin wrote: written again below the header it has.
    Pylock,
}

/// An existing lock, as a re-lock reads it.
#[derive(Debug, Clone)]
pub struct Existing {
    /// What kind of file it is.
    pub layout: Layout,
    /// Its layout.
    pub style: Style,
    /// The header and option lines kept as they are.
    pub kept: Kept,
    /// Its pins (the versions a re-lock prefers).
    pub pins: BTreeMap<PackageName, Version>,
    /// Its hashes, by (normalised name, version).
    pub hashes: BTreeMap<(String, String), Vec<String>>,
}

impl Existing {
    /// Read `lock` (a compiled lock written by `style`'s tool, or a `pylock.toml` repin wrote).
    pub fn read(lock: &Manifest, style: Style) -> Existing {
        let layout = match &lock.details {
            crate::manifest::ManifestDetails::Pylock(_) => Layout::Pylock,
            _ => Layout::Compiled,
        };
        let mut hashes = BTreeMap::new();
        for dependency in &lock.dependencies {
            let Some(python) = dependency.python() else {
                continue;
            };
            let Some(version) = python.pinned_version() else {
                continue;
            };
            hashes.insert(
                (dependency.name.clone(), version.to_string()),
                python
                    .hashes
                    .iter()
                    .map(|h| format!("{}:{}", h.algorithm, h.digest))
                    .collect(),
            );
        }
        Existing {
            layout,
            style,
            kept: Kept::of(lock.source.text()),
            pins: super::input::preferences(lock),
            hashes,
        }
    }
}

/// A package an update asks to move.
#[derive(Debug, Clone)]
pub struct Want {
    /// The package.
    pub name: PackageName,
    /// The version asked for.
    pub version: Version,
    /// Whether it fixes a vulnerability: then, when exactly that version does not fit, any
    /// version from it up that fits will do (the fixed floor).
    pub security: bool,
    /// Why, for the list of moved pins.
    pub why: String,
}

/// What to re-lock.
#[derive(Debug, Clone, Copy)]
pub struct Job<'a> {
    /// The lock's path, as messages name it.
    pub path: &'a Path,
    /// The existing lock.
    pub existing: &'a Existing,
    /// The `.in`'s requirements.
    pub input: &'a Input,
    /// The environment.
    pub target: &'a Target,
    /// The platforms its pins are installed on (a `pylock.toml` lists their wheels).
    pub platforms: &'a [super::wheels::Platform],
}

/// A re-lock: the new file and what moved.
#[derive(Debug, Clone)]
pub struct Relocked {
    /// The new file, its pins and the moved pins.
    pub relock: Relock,
    /// The resolution it was written from.
    pub resolution: Resolution,
}

/// Re-lock `job`, moving `wants` (each at its version, or for a security fix from it up), or
/// every package when `upgrade_all` (lock maintenance).
pub fn relock<S: PackageSource>(
    source: &S,
    job: Job<'_>,
    wants: &[Want],
    upgrade_all: bool,
) -> Result<Relocked, LockError> {
    let exact = try_relock(source, job, wants, upgrade_all, false);
    match exact {
        Err(LockError::Conflict { .. }) if wants.iter().any(|w| w.security) => {
            try_relock(source, job, wants, upgrade_all, true)
        }
        other => other,
    }
}

fn try_relock<S: PackageSource>(
    source: &S,
    job: Job<'_>,
    wants: &[Want],
    upgrade_all: bool,
    floors: bool,
) -> Result<Relocked, LockError> {
    let existing = job.existing;
    let mut preferences = if upgrade_all {
        BTreeMap::new()
    } else {
        existing.pins.clone()
    };
    let mut constraints = job.input.constraints.clone();
    for want in wants {
        preferences.remove(&want.name);
        let operator = if floors && want.security { ">=" } else { "==" };
        let text = format!("{}{operator}{}", want.name, want.version);
        let requirement =
            crate::registry::pypi::metadata::parse_requirement(&text).map_err(|e| {
                LockError::Unsupported {
                    requirement: text.clone(),
                    reason: e.to_string(),
                }
            })?;
        // No origin: the update's constraint is not a file the lock names in `# via`.
        constraints.push(Direct {
            requirement,
            origin: String::new(),
        });
    }
    let request = Request {
        label: job
            .existing
            .style
            .inputs
            .first()
            .cloned()
            .unwrap_or_else(|| job.path.display().to_string()),
        requirements: job.input.requirements.clone(),
        constraints,
        target: job.target.clone(),
        prereleases: existing.style.prereleases || job.input.options.pre,
        preferences,
    };
    let mut resolution = super::resolve(source, &request)?;
    for package in &mut resolution.packages {
        package
            .via
            .retain(|v| !matches!(v, Via::Constraint(c) if c.is_empty()));
    }
    let text = match &existing.layout {
        Layout::Compiled => render(
            &existing.style,
            &existing.kept,
            &resolution,
            &existing.hashes,
        ),
        Layout::Pylock => {
            let files = super::pylock::files(source, &resolution, job.platforms, job.target)?;
            let text =
                super::pylock::render_below(&existing.kept.header, job.target, &resolution, &files);
            super::pylock::verify(job.path, &text, &resolution, &files)
                .map_err(LockError::ReadBack)?;
            text
        }
    };
    let written = |name: &PackageName| {
        existing.style.allow_unsafe || !existing.style.unsafe_packages.contains(name.as_ref())
    };
    let pins: Vec<(String, String)> = resolution
        .packages
        .iter()
        .filter(|p| written(&p.name))
        .map(|p| (p.name.to_string(), p.version.to_string()))
        .collect();
    let moved = moved(&existing.pins, &resolution, wants, &written);
    Ok(Relocked {
        relock: Relock {
            text,
            moved,
            pins,
            update_kind: None,
        },
        resolution,
    })
}

/// Every pin that moved, appeared or went, with why.
fn moved(
    before: &BTreeMap<PackageName, Version>,
    after: &Resolution,
    wants: &[Want],
    written: &dyn Fn(&PackageName) -> bool,
) -> Vec<MovedPin> {
    let now: BTreeMap<&PackageName, &Version> = after
        .packages
        .iter()
        .filter(|p| written(&p.name))
        .map(|p| (&p.name, &p.version))
        .collect();
    let changed: BTreeSet<&PackageName> = now
        .iter()
        .filter(|(name, version)| before.get(**name) != Some(**version))
        .map(|(name, _)| *name)
        .collect();
    let mut out = Vec::new();
    for package in after.packages.iter().filter(|p| written(&p.name)) {
        let from = before.get(&package.name);
        if from == Some(&package.version) {
            continue;
        }
        let parents: Vec<String> = package
            .via
            .iter()
            .filter_map(|v| match v {
                Via::Package(p) if changed.contains(p) => Some(format!(
                    "{p} {}",
                    now.get(p)
                        .map_or_else(String::new, std::string::ToString::to_string)
                )),
                _ => None,
            })
            .collect();
        // A parent of a wanted package that moved was raised for it (its bound forbade it).
        let raised_for: Vec<String> = wants
            .iter()
            .filter(|w| {
                after.packages.iter().any(|p| {
                    p.name == w.name && p.via.contains(&Via::Package(package.name.clone()))
                })
            })
            .map(|w| {
                format!(
                    "{} {}",
                    w.name,
                    now.get(&w.name)
                        .map_or_else(String::new, std::string::ToString::to_string)
                )
            })
            .collect();
        let why = match wants.iter().find(|w| w.name == package.name) {
            Some(want) => want.why.clone(),
            None if from.is_some() && !raised_for.is_empty() => {
                format!("raised to allow {}", raised_for.join(", "))
            }
            None if !parents.is_empty() => format!(
                "{} {}",
                if from.is_none() {
                    "now required by"
                } else {
                    "to fit"
                },
                parents.join(", ")
            ),
            None if from.is_none() => "now required".to_owned(),
            None => "to fit the other moves".to_owned(),
        };
        out.push(MovedPin {
            name: package.name.to_string(),
            from: from.map(ToString::to_string),
            to: Some(package.version.to_string()),
            why,
        });
    }
    for (name, version) in before {
        if !now.contains_key(name) && written(name) {
            out.push(MovedPin {
                name: name.to_string(),
                from: Some(version.to_string()),
                to: None,
                why: "no longer required".to_owned(),
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// `name` as a package name, for a want.
pub fn package_name(name: &str) -> Option<PackageName> {
    PackageName::from_str(name).ok()
}

#[cfg(test)]
mod tests;
