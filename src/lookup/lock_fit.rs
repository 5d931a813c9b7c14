//! Updates of the pins of compiled lock files, checked against the rest of each lock
//! ([`crate::decide::lock_fit`]) before they are proposed: the core metadata of each new
//! release and of its `# via` parents' pinned releases is fetched once per run (PEP 658 files
//! where the index has them, else the wheel), and an update that does not fit is held back with
//! the re-lock to run instead.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use futures::StreamExt;
use pep440_rs::Version;
use pep508_rs::ExtraName;

use super::{CONCURRENCY, Checker, Outcome, PypiLookup};
use crate::decide::lock_fit::{LockedPin, Parent, misfits};
use crate::decide::{Context, NoUpdate};
use crate::manifest::requirements::LockHeader;
use crate::manifest::{Manifest, ManifestDetails};
use crate::registry::pypi::Index;
use crate::registry::pypi::metadata::Metadata;
use crate::versioning::UpdateKind;
use crate::vocab::Message;

/// Why the metadata of a release could not be had. The messages are clauses: the notes and
/// reasons that say them name the release first.
#[derive(Debug, thiserror::Error)]
pub enum MetadataLookupError {
    /// No index lists the release.
    #[error("the index does not list it")]
    NotListed,
    /// The index that lists it is not one of the dependency's.
    #[error("its index is not configured")]
    NotConfigured,
    /// The package's releases were not looked up.
    #[error("its releases were not looked up")]
    ReleasesNotLookedUp,
    /// The release's metadata was not fetched.
    #[error("`{name}` {version} was not looked up")]
    NotLookedUp {
        /// The package.
        name: String,
        /// The release.
        version: Version,
    },
    /// Fetching or reading the metadata failed.
    #[error(transparent)]
    Metadata(#[from] crate::registry::pypi::metadata::MetadataError),
}

impl crate::error::Hint for MetadataLookupError {
    fn hints(&self) -> Vec<String> {
        match self {
            MetadataLookupError::Metadata(error) => error.hints(),
            MetadataLookupError::NotListed
            | MetadataLookupError::NotConfigured
            | MetadataLookupError::ReleasesNotLookedUp
            | MetadataLookupError::NotLookedUp { .. } => Vec::new(),
        }
    }
}

/// Core metadata by (name, version), fetched once per run (a failure shared by every check
/// that needs the release).
type MetadataCache = HashMap<(String, Version), Result<Metadata, Arc<MetadataLookupError>>>;

/// Where a dependency's releases were looked up: its indexes and what they said.
pub(super) type Sources<'a> = HashMap<(usize, usize), (&'a [Index], &'a PypiLookup)>;

/// The `.in` file on the lock's recorded command line, for the hint.
pub(super) fn lock_input(header: &LockHeader) -> Option<&str> {
    header
        .command
        .as_deref()?
        .split_whitespace()
        .find(|t| t.ends_with(".in") || t.ends_with("pyproject.toml"))
}

/// The pins of one lock file: what [`misfits`] reads, and where each one is.
struct LockPins {
    by_name: BTreeMap<String, LockedPin>,
    index: BTreeMap<String, usize>,
}

fn pins_of(manifest: &Manifest) -> LockPins {
    let mut pins = LockPins {
        by_name: BTreeMap::new(),
        index: BTreeMap::new(),
    };
    for (d, dependency) in manifest.dependencies.iter().enumerate() {
        let Some(python) = dependency.python() else {
            continue;
        };
        let Some(version) = python.pinned_version() else {
            continue;
        };
        let extras = python
            .extras
            .iter()
            .filter_map(|e| ExtraName::from_str(e).ok())
            .collect();
        pins.by_name.insert(
            dependency.name.clone(),
            LockedPin {
                version: version.clone(),
                extras,
            },
        );
        pins.index.insert(dependency.name.clone(), d);
    }
    pins
}

/// One update to check: where it is, and the metadata it needs.
struct Check {
    finding: usize,
    update: usize,
    name: String,
    version: Version,
    /// (dependency index, version) of the new release, then of each parent.
    wanted: Vec<(usize, Version)>,
    manifest: usize,
    /// Whether it is a security update (never replaced by an older release).
    security: bool,
    /// Whether it is a major update (replaced only by another major one).
    major: bool,
}

impl Checker {
    /// Hold back the updates of compiled locks' pins that do not fit the rest of their lock.
    pub(super) async fn check_locks(
        &self,
        manifests: &[&Manifest],
        sources: &Sources<'_>,
        ctx: &Context,
        relocked: &std::collections::HashSet<&Path>,
        outcome: &mut Outcome,
    ) {
        // Re-locked files are never patched: their updates are re-locks (`super::relock`).
        let locks: HashMap<&Path, usize> = manifests
            .iter()
            .enumerate()
            .filter(|(_, m)| !relocked.contains(m.source.path()))
            .filter(
                |(_, m)| matches!(&m.details, ManifestDetails::Requirements(r) if r.lock.is_some()),
            )
            .map(|(i, m)| (m.source.path(), i))
            .collect();
        if locks.is_empty() {
            return;
        }
        let mut pins: HashMap<usize, LockPins> = HashMap::new();
        let mut checks = Vec::new();
        for (f, finding) in outcome.findings.iter().enumerate() {
            let Some(&m) = locks.get(finding.file.as_path()) else {
                continue;
            };
            let pins = pins.entry(m).or_insert_with(|| pins_of(manifests[m]));
            let dependency = &manifests[m].dependencies[finding.index];
            for (u, update) in finding.decision.updates.iter().enumerate() {
                let Ok(version) = Version::from_str(&update.proposed) else {
                    continue;
                };
                let mut wanted = vec![(finding.index, version.clone())];
                for parent in dependency.python().map_or(&[][..], |p| p.via.as_slice()) {
                    let parent = crate::vocab::normalize_name(parent);
                    if parent == dependency.name {
                        continue;
                    }
                    if let (Some(d), Some(pin)) =
                        (pins.index.get(&parent), pins.by_name.get(&parent))
                    {
                        wanted.push((*d, pin.version.clone()));
                    }
                }
                checks.push(Check {
                    finding: f,
                    update: u,
                    name: dependency.name.clone(),
                    version,
                    wanted,
                    manifest: m,
                    security: update.is_security(),
                    major: update.kind == UpdateKind::Major,
                });
            }
        }
        if checks.is_empty() {
            return;
        }
        // Each lock is checked for the Python its header names, else the service's.
        let pythons: HashMap<usize, Option<pep440_rs::Version>> = checks
            .iter()
            .map(|c| {
                // Its file's target, unless nothing said it (an assumed Python would check
                // the lock against the wrong releases).
                let python = outcome
                    .targets
                    .of(manifests[c.manifest].source.path())
                    .filter(|t| t.from.is_known())
                    .map(|t| t.python.clone())
                    .or_else(|| ctx.python.clone());
                (c.manifest, python)
            })
            .collect();
        let mut unknown: BTreeMap<&Path, usize> = BTreeMap::new();
        for check in checks.iter().rev() {
            if pythons[&check.manifest].is_none() {
                *unknown
                    .entry(manifests[check.manifest].source.path())
                    .or_default() += 1;
                hold_back(
                    outcome,
                    check,
                    format!(
                        "{} {} was not checked against the rest of the lock: the Python the lock is for is unknown",
                        check.name, check.version
                    ),
                );
            }
        }
        for (path, held) in unknown {
            outcome.warnings.push(unknown_python(path, held));
        }
        let checks: Vec<Check> = checks
            .into_iter()
            .filter(|c| pythons[&c.manifest].is_some())
            .collect();
        if checks.is_empty() {
            return;
        }
        let mut metadata = self.lock_metadata(&checks, sources).await;
        let mut unchecked: BTreeMap<&Path, usize> = BTreeMap::new();
        // Newest first, so removing an update keeps the indexes of the others valid.
        for check in checks.iter().rev() {
            let manifest = manifests[check.manifest];
            let Some(python) = &pythons[&check.manifest] else {
                continue;
            };
            let Ok(target) = crate::lock::target::Target::linux_x86_64(&python.to_string()) else {
                continue;
            };
            let lock_pins = &pins[&check.manifest].by_name;
            let parents: Vec<(usize, Version)> = check.wanted[1..].to_vec();
            let (new_d, _) = check.wanted[0];
            let fit =
                |metadata: &MetadataCache,
                 version: &Version|
                 -> Result<(Vec<String>, Vec<Message>), Arc<MetadataLookupError>> {
                    let get =
                        |d: usize, v: &Version| -> Result<&Metadata, Arc<MetadataLookupError>> {
                            let name = &manifest.dependencies[d].name;
                            match metadata.get(&(name.clone(), v.clone())) {
                                Some(Ok(m)) => Ok(m),
                                Some(Err(e)) => Err(e.clone()),
                                None => Err(Arc::new(MetadataLookupError::NotLookedUp {
                                    name: name.clone(),
                                    version: v.clone(),
                                })),
                            }
                        };
                    let new = get(new_d, version)?;
                    let mut with = Vec::new();
                    let mut unchecked = Vec::new();
                    for (d, v) in &parents {
                        let name = manifest.dependencies[*d].name.as_str();
                        match get(*d, v) {
                            Ok(metadata) => with.push(Parent {
                                name,
                                pin: &lock_pins[name],
                                requires: &metadata.requires_dist,
                            }),
                            Err(why) => {
                                unchecked.push(
                                    crate::error::message(why.as_ref())
                                        .prefixed(&format!("`{name}` {v}: ")),
                                );
                            }
                        }
                    }
                    let why = misfits(
                        &check.name,
                        version,
                        &new.requires_dist,
                        lock_pins,
                        &with,
                        &target.markers,
                    );
                    Ok((why, unchecked))
                };
            let (why, unchecked_parents) = match fit(&metadata, &check.version) {
                Ok(result) => result,
                Err(why) => {
                    // Never proposed unchecked: offline, with the metadata not in the cache,
                    // this is where an online run would have held it back or let it through.
                    *unchecked.entry(manifest.source.path()).or_default() += 1;
                    hold_back(
                        outcome,
                        check,
                        crate::error::message(why.as_ref()).prefixed(&format!(
                            "{} {} could not be checked against the rest of the lock: ",
                            check.name, check.version,
                        )),
                    );
                    continue;
                }
            };
            for line in unchecked_parents {
                outcome.findings[check.finding]
                    .decision
                    .notes
                    .push(line.prefixed(&format!(
                        "{} {} was checked against the lock without ",
                        check.name, check.version
                    )));
            }
            if why.is_empty() {
                continue;
            }
            let file = manifest
                .source
                .path()
                .file_name()
                .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
            let input = match &manifest.details {
                ManifestDetails::Requirements(r) => r.lock.as_ref().and_then(lock_input),
                ManifestDetails::Dockerfile(_)
                | ManifestDetails::Pyproject(_)
                | ManifestDetails::UvLock(_)
                | ManifestDetails::Pylock(_)
                | ManifestDetails::PoetryLock(_)
                | ManifestDetails::Pipfile(_)
                | ManifestDetails::PipfileLock(_) => None,
            };
            let relock = match input {
                Some(input) => format!(
                    "re-lock instead: `repin lock {input} -o {file} --upgrade-package {}`",
                    check.name
                ),
                None => format!(
                    "re-lock it instead, letting {} move (its header names no input file)",
                    check.name
                ),
            };
            let reason = format!(
                "{} {} does not fit the rest of this lock: {}; {relock}",
                check.name,
                check.version,
                why.join("; "),
            );
            // An older release of the same kind may still fit (flask 2.2.5 where 2.3.3 needs a
            // newer Werkzeug): the decision is made again below the one that did not.
            let lock_ctx = Context {
                now: ctx.now,
                python: Some(python.clone()),
            };
            let replacement = self
                .fitting_release(
                    check,
                    manifest,
                    sources,
                    &lock_ctx,
                    &mut metadata,
                    &|m, v| fit(m, v).is_ok_and(|(why, _)| why.is_empty()),
                )
                .await;
            match replacement {
                // Already proposed (a security fix to the same release): once is enough.
                Some(update)
                    if outcome.findings[check.finding]
                        .decision
                        .updates
                        .iter()
                        .enumerate()
                        .any(|(u, other)| {
                            u != check.update && other.proposed == update.proposed
                        }) =>
                {
                    hold_back(outcome, check, reason);
                }
                Some(mut update) => {
                    update.reason = format!("{}; {reason}", update.reason);
                    outcome.findings[check.finding].decision.updates[check.update] = update;
                }
                None => hold_back(outcome, check, reason),
            }
        }
        for (path, held) in unchecked {
            outcome.warnings.push(Message::new(format!(
                "{}: {held} {} of this compiled lock held back: the metadata needed to check {} against the rest of the lock could not be read{}",
                crate::text::shown(path),
                if held == 1 { "update" } else { "updates" },
                if held == 1 { "it" } else { "them" },
                if matches!(
                    self.pypi.http().config().cache,
                    crate::registry::http::CacheMode::Offline(_)
                ) {
                    " offline (it is not in the cache: a run with network access caches it)"
                } else {
                    ""
                }
            )));
        }
    }

    /// The core metadata of `version` from the first of `indexes` that lists it, from the
    /// on-disk cache when it is there.
    async fn cached_metadata(
        &self,
        indexes: &[Index],
        lookup: &PypiLookup,
        version: &Version,
    ) -> Result<Metadata, MetadataLookupError> {
        let key = lookup
            .releases
            .get(version)
            .and_then(|s| s.first())
            .and_then(|s| {
                let hashes: Vec<String> = s
                    .release
                    .files
                    .iter()
                    .map(|f| f.sha256().unwrap_or("").to_owned())
                    .collect();
                super::metadata_cache::key(&lookup.name, version, &hashes)
            });
        let cache = &self.pypi.http().config().cache;
        if let Some(found) = key
            .as_deref()
            .and_then(|k| super::metadata_cache::get(cache, k))
        {
            return Ok(found);
        }
        let metadata = self.release_metadata(indexes, lookup, version).await?;
        if let Some(key) = &key {
            super::metadata_cache::put(cache, key, &metadata);
        }
        Ok(metadata)
    }

    /// The newest update of the same kind as the rejected one, below it, that `fits` the lock
    /// (at most a few tries: each costs a metadata fetch). Security updates are not replaced:
    /// their target is the lowest release free of advisories, and nothing lower is safe.
    async fn fitting_release(
        &self,
        check: &Check,
        manifest: &Manifest,
        sources: &Sources<'_>,
        ctx: &Context,
        metadata: &mut MetadataCache,
        fits: &dyn Fn(&MetadataCache, &Version) -> bool,
    ) -> Option<crate::decide::Update> {
        let (d, _) = check.wanted[0];
        let dependency = &manifest.dependencies[d];
        let (indexes, lookup) = sources.get(&(check.manifest, d))?;
        if check.security {
            return None;
        }
        let path = manifest.source.path();
        let policy = self.policy_fn(dependency, path);
        let floor = dependency.python().and_then(|p| p.pinned_version());
        let all = super::releases(lookup, floor, super::is_hashed(dependency));
        let mut ceiling = check.version.clone();
        for _ in 0..4 {
            let below: Vec<_> = all
                .iter()
                .filter(|r| r.version < ceiling)
                .cloned()
                .collect();
            let decision = crate::decide::python::decide(dependency, &below, &policy, ctx);
            let candidate = decision
                .updates
                .into_iter()
                .find(|u| (u.kind == UpdateKind::Major) == check.major)?;
            let version = Version::from_str(&candidate.proposed).ok()?;
            let key = (dependency.name.clone(), version.clone());
            if let std::collections::hash_map::Entry::Vacant(entry) = metadata.entry(key) {
                entry.insert(
                    self.cached_metadata(indexes, lookup, &version)
                        .await
                        .map_err(Arc::new),
                );
            }
            if fits(metadata, &version) {
                return Some(candidate);
            }
            ceiling = version;
        }
        None
    }

    /// The metadata of every release the checks need, fetched once each, concurrently.
    async fn lock_metadata(&self, checks: &[Check], sources: &Sources<'_>) -> MetadataCache {
        let mut wanted: BTreeMap<(String, Version), (usize, usize)> = BTreeMap::new();
        for check in checks {
            for (d, v) in &check.wanted {
                let Some((_, lookup)) = sources.get(&(check.manifest, *d)) else {
                    continue;
                };
                wanted
                    .entry((lookup.name.clone(), v.clone()))
                    .or_insert((check.manifest, *d));
            }
        }
        futures::stream::iter(wanted)
            .map(|(key, dep)| async move {
                let result = match sources.get(&dep) {
                    None => Err(MetadataLookupError::ReleasesNotLookedUp),
                    Some((indexes, lookup)) => self.cached_metadata(indexes, lookup, &key.1).await,
                };
                let result = result.map_err(Arc::new);
                (key, result)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await
    }

    /// The core metadata of `version` from the first of `indexes` that lists it.
    pub(super) async fn release_metadata(
        &self,
        indexes: &[Index],
        lookup: &PypiLookup,
        version: &Version,
    ) -> Result<Metadata, MetadataLookupError> {
        let sourced = lookup
            .releases
            .get(version)
            .and_then(|s| s.first())
            .ok_or(MetadataLookupError::NotListed)?;
        let index = indexes
            .iter()
            .find(|i| i.url == sourced.index)
            .ok_or(MetadataLookupError::NotConfigured)?;
        Ok(self.pypi.metadata(index, &sourced.release).await?)
    }
}

/// Take the update `check` names out of its finding, and say why it is held back.
fn hold_back(outcome: &mut Outcome, check: &Check, why: impl Into<Message>) {
    let why = why.into();
    let finding = &mut outcome.findings[check.finding];
    if check.update >= finding.decision.updates.len() {
        return;
    }
    finding.decision.updates.remove(check.update);
    if finding.decision.updates.is_empty() && finding.decision.none.is_none() {
        finding.decision.none = Some(NoUpdate::HeldBack {
            version: check.version.to_string(),
            why,
        });
    } else {
        finding.decision.notes.push(why);
    }
}

/// The warning of a compiled lock whose `held` updates were held back because the Python it is
/// for is unknown.
fn unknown_python(path: &Path, held: usize) -> Message {
    Message::new(format!(
        "{}: {held} {} of this compiled lock held back: its header names no Python and none was found for the service, so no update could be checked against the rest of the lock",
        crate::text::shown(path),
        if held == 1 { "update" } else { "updates" }
    ))
    .hint("set `[python] version` in repin.toml, or re-lock it with a tool that records the Python in the header")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_python_warns_with_a_typed_hint() {
        let one = unknown_python(Path::new("svc/requirements.txt"), 1);
        assert_eq!(
            one.text,
            "svc/requirements.txt: 1 update of this compiled lock held back: its header names no Python and none was found for the service, so no update could be checked against the rest of the lock"
        );
        assert_eq!(
            one.hints,
            [
                "set `[python] version` in repin.toml, or re-lock it with a tool that records the Python in the header"
            ]
        );
        assert!(
            unknown_python(Path::new("r.txt"), 2)
                .text
                .starts_with("r.txt: 2 updates of")
        );
    }
}
