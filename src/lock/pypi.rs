//! The package source of a real lock: PyPI-compatible indexes through the shared client.
//!
//! The resolver is synchronous; this source bridges to the async client with a runtime
//! handle (so it must be called from outside the runtime's threads). Lookups run
//! concurrently ahead of need:
//!
//! - [`PackageSource::prefetch`]: every dependency of a chosen release starts loading as soon
//!   as the release's metadata is read, and with its project page the metadata of the release
//!   the resolver will most likely choose in the range asked for (the version of the existing
//!   lock, the exact pin, else the newest usable one);
//! - [`PackageSource::prefetch_versions`]: when the resolver walks down a package's versions
//!   (backtracking), the metadata of the next ones it may try.
//!
//! Each release's metadata is fetched once and shared, whatever asks for it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use pep440_rs::Version;
use pep508_rs::PackageName;

use super::resolve::Range;
use super::source::{Candidate, PackageSource, SourceError};
use crate::lookup::error_chain;
use crate::registry::pypi::{Index, Lookup, Metadata, PypiClient};

type Pending<T> = Shared<BoxFuture<'static, Result<T, Arc<SourceFailure>>>>;
type MetadataKey = (PackageName, Version);

/// A failure kept for every caller of a shared lookup.
#[derive(Debug)]
struct SourceFailure {
    message: String,
    unusable: bool,
}

/// Releases and metadata from a set of indexes.
pub struct PypiSource {
    inner: Arc<Inner>,
    handle: tokio::runtime::Handle,
    projects: Mutex<HashMap<PackageName, Pending<Option<Arc<Lookup>>>>>,
    /// The (package, range) pairs whose likely release is already being fetched.
    looked_ahead: Mutex<std::collections::HashSet<(PackageName, String)>>,
    notes: Mutex<Vec<String>>,
}

/// What the spawned lookups share.
struct Inner {
    client: PypiClient,
    indexes: Vec<Index>,
    python: Version,
    preferences: BTreeMap<PackageName, Version>,
    metadata: Mutex<HashMap<MetadataKey, Pending<Arc<Metadata>>>>,
}

impl PypiSource {
    /// A source asking `indexes` (in pip's order) through `client`, running requests on
    /// `handle`; `python` is the target, for `Requires-Python` of individual files.
    pub fn new(
        client: PypiClient,
        indexes: Vec<Index>,
        handle: tokio::runtime::Handle,
        python: Version,
    ) -> Self {
        PypiSource {
            inner: Arc::new(Inner {
                client,
                indexes,
                python,
                preferences: BTreeMap::new(),
                metadata: Mutex::default(),
            }),
            handle,
            projects: Mutex::default(),
            looked_ahead: Mutex::default(),
            notes: Mutex::default(),
        }
    }

    /// The versions the resolver will try first (an existing lock's): their metadata is the
    /// one fetched ahead of need, instead of the newest release's.
    pub fn with_preferences(mut self, preferences: BTreeMap<PackageName, Version>) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.preferences = preferences;
        }
        self
    }

    /// What was noticed on the way (a package on several indexes, files without a sha256),
    /// sorted and de-duplicated.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = self.notes.lock().unwrap_or_else(|e| e.into_inner()).clone();
        notes.sort();
        notes.dedup();
        notes
    }

    fn note(&self, note: String) {
        self.notes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(note);
    }

    fn project(&self, name: &PackageName) -> Pending<Option<Arc<Lookup>>> {
        let mut projects = self.projects.lock().unwrap_or_else(|e| e.into_inner());
        projects
            .entry(name.clone())
            .or_insert_with(|| {
                let inner = self.inner.clone();
                let name = name.clone();
                let task = self.handle.spawn(async move {
                    match inner.client.lookup(&inner.indexes, name.as_ref()).await {
                        Ok(lookup) => Ok(Some(Arc::new(lookup))),
                        Err(error) if error.is_not_found() => Ok(None),
                        Err(error) => {
                            let mut message = error_chain(&error);
                            if let Some(hint) = error.hint() {
                                message.push_str("\n  hint: ");
                                message.push_str(&hint);
                            }
                            Err(Arc::new(SourceFailure {
                                message,
                                unusable: false,
                            }))
                        }
                    }
                });
                joined(task)
            })
            .clone()
    }

    fn lookup(&self, name: &PackageName) -> Result<Option<Arc<Lookup>>, SourceError> {
        let pending = self.project(name);
        self.handle.block_on(pending).map_err(failure)
    }
}

impl Inner {
    /// The release the resolver will most likely choose in `range`: the preferred version
    /// when it is in the range and on the index, else the newest release in the range that is
    /// neither yanked nor a pre-release (unless pinned exactly) and supports the target Python.
    fn likely(&self, name: &PackageName, lookup: &Lookup, range: &Range) -> Option<Version> {
        if let Some(preferred) = self.preferences.get(name) {
            if range.contains(preferred) && lookup.releases.contains_key(preferred) {
                return Some(preferred.clone());
            }
        }
        if let Some(exact) = range.as_singleton() {
            return lookup.releases.contains_key(exact).then(|| exact.clone());
        }
        lookup
            .releases
            .iter()
            .rev()
            .find(|(version, sources)| {
                range.contains(version)
                    && !version.any_prerelease()
                    && sources
                        .iter()
                        .any(|s| !s.release.yanked && s.release.supports_python(&self.python))
            })
            .map(|(version, _)| version.clone())
    }

    /// The metadata of `name==version`, started once (on the current runtime) and shared.
    fn metadata_of(
        &self,
        lookup: &Lookup,
        name: &PackageName,
        version: &Version,
    ) -> Pending<Arc<Metadata>> {
        let mut metadata = self.metadata.lock().unwrap_or_else(|e| e.into_inner());
        metadata
            .entry((name.clone(), version.clone()))
            .or_insert_with(|| {
                let client = self.client.clone();
                let sourced = lookup
                    .releases
                    .get(version)
                    .and_then(|s| s.first())
                    .cloned();
                let index = sourced
                    .as_ref()
                    .and_then(|s| self.indexes.iter().find(|i| i.url == s.index))
                    .cloned();
                let task = tokio::spawn(async move {
                    let (Some(sourced), Some(index)) = (sourced, index) else {
                        return Err(Arc::new(SourceFailure {
                            message: "The release is on no index".into(),
                            unusable: true,
                        }));
                    };
                    client
                        .metadata(&index, &sourced.release)
                        .await
                        .map(Arc::new)
                        .map_err(|error| {
                            Arc::new(SourceFailure {
                                unusable: error.is_release_unusable(),
                                message: error_chain(&error),
                            })
                        })
                });
                joined(task)
            })
            .clone()
    }
}

/// A spawned task as a shareable future (a panicked task is a failure, not a panic here).
fn joined<T: Clone + Send + Sync + 'static>(
    task: tokio::task::JoinHandle<Result<T, Arc<SourceFailure>>>,
) -> Pending<T> {
    task.map(|joined| {
        joined.unwrap_or_else(|e| {
            Err(Arc::new(SourceFailure {
                message: format!("The lookup task failed: {e}"),
                unusable: false,
            }))
        })
    })
    .boxed()
    .shared()
}

fn failure(failure: Arc<SourceFailure>) -> SourceError {
    if failure.unusable {
        SourceError::Unusable(failure.message.clone())
    } else {
        SourceError::Failed(failure.message.clone().into())
    }
}

impl PackageSource for PypiSource {
    fn candidates(&self, name: &PackageName) -> Result<Vec<Candidate>, SourceError> {
        let Some(lookup) = self.lookup(name)? else {
            return Ok(Vec::new());
        };
        if lookup.confusion_risk() {
            let on: Vec<String> = lookup.found_on.iter().map(ToString::to_string).collect();
            self.note(format!(
                "`{name}` is on several indexes ({}): a dependency-confusion risk",
                on.join(", ")
            ));
        }
        let mut candidates = Vec::new();
        for (version, sources) in &lookup.releases {
            let Some(first) = sources.first().map(|s| &s.release) else {
                continue;
            };
            if sources.iter().all(|s| s.release.files.is_empty()) {
                continue;
            }
            let supports = sources
                .iter()
                .any(|s| s.release.supports_python(&self.inner.python));
            candidates.push(Candidate {
                version: version.clone(),
                yanked: sources.iter().all(|s| s.release.yanked),
                requires_python: if supports {
                    None
                } else {
                    first.requires_python.clone()
                },
                hashes: lookup.hashes_for(version),
            });
        }
        Ok(candidates)
    }

    fn metadata(&self, name: &PackageName, version: &Version) -> Result<Metadata, SourceError> {
        let lookup = self
            .lookup(name)?
            .ok_or_else(|| SourceError::Failed(format!("`{name}` is on no index").into()))?;
        let pending = {
            // Entered, so the metadata task can be spawned on the source's runtime.
            let _runtime = self.handle.enter();
            self.inner.metadata_of(&lookup, name, version)
        };
        let metadata = self.handle.block_on(pending).map_err(failure)?;
        if let Some(release) = lookup.release(version) {
            let missing = release.files_without_sha256();
            if !missing.is_empty() {
                self.note(format!(
                    "{name} {version}: the index gives no sha256 for {}, so the lock cannot hash it",
                    missing
                        .iter()
                        .map(|f| f.filename.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        Ok(Metadata::clone(&metadata))
    }

    fn prefetch(&self, wanted: &[(PackageName, Range)]) {
        for (name, range) in wanted {
            // Starting the tasks is enough; they run on the runtime meanwhile.
            let project = self.project(name);
            let key = (name.clone(), range.to_string());
            if !self
                .looked_ahead
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key)
            {
                continue;
            }
            let inner = self.inner.clone();
            let (name, range) = (name.clone(), range.clone());
            drop(self.handle.spawn(async move {
                if let Ok(Some(lookup)) = project.await {
                    if let Some(version) = inner.likely(&name, &lookup, &range) {
                        drop(inner.metadata_of(&lookup, &name, &version));
                    }
                }
            }));
        }
    }

    fn prefetch_versions(&self, name: &PackageName, versions: &[Version]) {
        let project = self.project(name);
        let inner = self.inner.clone();
        let (name, versions) = (name.clone(), versions.to_vec());
        drop(self.handle.spawn(async move {
            if let Ok(Some(lookup)) = project.await {
                for version in &versions {
                    drop(inner.metadata_of(&lookup, &name, version));
                }
            }
        }));
    }
}
