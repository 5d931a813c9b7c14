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
//! Each project is kept as a [`Listing`] (a fraction of its page; stored on disk while the
//! page is fresh, so a warm run parses no page), and each release's metadata is fetched once
//! and shared, whatever asks for it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures::future::{BoxFuture, Shared};
use futures::{FutureExt, StreamExt};
use pep440_rs::Version;
use pep508_rs::PackageName;

use super::listing::{ListedFiles, ListedRelease, Listing, ListingStore};
use super::resolve::Range;
use super::source::{Candidate, Failure, PackageSource, SourceError, UnusableRelease};
use super::wheels::Platform;
use crate::error::{Hint, Reason};
use crate::registry::pypi::{Index, Metadata, PypiClient, Refresh, SourcedRelease};

type Pending<T> = Shared<BoxFuture<'static, Result<T, Arc<SourceFailure>>>>;
type MetadataKey = (PackageName, Version);

/// A failure kept for every caller of a shared lookup.
#[derive(Debug)]
enum SourceFailure {
    /// This release cannot be used: why (the resolver passes over it).
    Unusable(UnusableRelease),
    /// The lookup failed: resolution stops, with the error's causes and hints.
    Failed(Arc<dyn Hint + Send + Sync>),
}

/// The most files a source keeps in memory for a `pylock.toml` (a few hundred bytes each):
/// past it, a project's page is read again after the resolution instead, so a hostile index's
/// huge pages cannot grow a run's memory through them.
const MAX_KEPT_FILES: usize = 50_000;

/// What a source keeping files ([`PypiSource::keeping_files`]) keeps, and how many more.
struct Keeping {
    /// The platforms the files are for.
    platforms: Vec<Platform>,
    /// How many more files may be kept.
    left: AtomicUsize,
}

impl Keeping {
    /// Whether the files of `lookup` a `pylock.toml` lists may be kept: counted first, and
    /// taken from the run's budget when they fit, so files past it are never even built.
    fn reserve(&self, lookup: &crate::registry::pypi::Lookup) -> bool {
        let count = lookup
            .releases
            .values()
            .filter_map(|sources| sources.first())
            .flat_map(|first| &first.release.files)
            .filter(|f| super::wheels::lockable(&f.kind, &self.platforms))
            .count();
        self.left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(count)
            })
            .is_ok()
    }
}

/// A project's releases, by version.
struct Project {
    listing: Listing,
    releases: BTreeMap<Version, usize>,
    /// Until when (seconds since the epoch) the stored listing is fresh, when it is stored.
    fresh_until: Option<u64>,
    /// Every release's files, when the source keeps them ([`PypiSource::keeping_files`]) and
    /// the page was read in this run.
    files: BTreeMap<Version, ListedFiles>,
}

impl Project {
    fn new(
        listing: Listing,
        fresh_until: Option<u64>,
        files: BTreeMap<Version, ListedFiles>,
    ) -> Self {
        let releases = listing
            .releases
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some((r.parsed_version()?, i)))
            .collect();
        Project {
            listing,
            releases,
            fresh_until,
            files,
        }
    }

    fn release(&self, version: &Version) -> Option<&ListedRelease> {
        self.releases
            .get(version)
            .map(|i| &self.listing.releases[*i])
    }
}

/// Releases and metadata from a set of indexes.
pub struct PypiSource {
    inner: Arc<Inner>,
    handle: tokio::runtime::Handle,
    projects: Mutex<HashMap<PackageName, Pending<Option<Arc<Project>>>>>,
    /// The (package, range) pairs whose likely release is already being fetched.
    looked_ahead: Mutex<HashSet<(PackageName, String)>>,
    notes: Mutex<Vec<String>>,
}

/// What the spawned lookups share.
struct Inner {
    client: PypiClient,
    indexes: Vec<Index>,
    python: Version,
    preferences: BTreeMap<PackageName, Version>,
    refresh: Refresh,
    listings: Option<ListingStore>,
    /// What is kept of every release's files ([`PypiSource::keeping_files`]), if anything.
    keeping: Option<Keeping>,
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
        let listings = ListingStore::of(client.http());
        // Online, the listings replace the cached pages (offline, a page `repin check` cached
        // still answers when there is no listing).
        let client = match &listings {
            Some(store) if !store.is_offline() => client.without_page_cache(),
            _ => client,
        };
        PypiSource {
            inner: Arc::new(Inner {
                listings,
                client,
                indexes,
                python,
                preferences: BTreeMap::new(),
                refresh: Refresh::None,
                keeping: None,
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

    /// Projects whose stored listings are not used (asked of the index again, as the client's
    /// own [`Refresh`] revalidates their pages): an upgrade's.
    pub fn refreshing(mut self, refresh: Refresh) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.client = inner.client.clone().refreshing(refresh.clone());
            inner.refresh = refresh;
        }
        self
    }

    /// The same source, keeping every release's files that a `pylock.toml` for `platforms`
    /// lists, of the project pages it reads, for a caller that asks for the locked releases'
    /// files after the resolution ([`PackageSource::listed`]): a page is parsed once. The
    /// locked releases' files are stored beside the project's stored listing; a project whose
    /// listing was read from the store has its page kept in the HTTP cache (as `repin check`
    /// does), so it is not asked of the index twice when its files were not stored.
    pub fn keeping_files(mut self, platforms: Vec<Platform>) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.client = inner.client.clone().with_page_cache();
            inner.keeping = Some(Keeping {
                platforms,
                left: AtomicUsize::new(MAX_KEPT_FILES),
            });
        }
        self
    }

    /// The files of `name` `version` this run read with its page (then stored beside its
    /// listing for the next run) or stored with its listing; `None` when neither has them.
    /// The store and the listing's freshness to keep files with, when it is stored.
    fn kept_files(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> (Option<ListedFiles>, Option<(ListingStore, u64)>) {
        let (Ok(Some(project)), Some(keeping)) = (self.lookup(name), &self.inner.keeping) else {
            return (None, None);
        };
        let (indexes, platforms) = (&self.inner.indexes, &keeping.platforms);
        let release = (name.as_ref(), version);
        let store = self.inner.listings.clone().zip(project.fresh_until);
        let files = match (project.files.get(version), &store) {
            (Some(files), Some((store, fresh_until))) => {
                store.put_files(indexes, release, platforms, *fresh_until, files);
                Some(files.clone())
            }
            (Some(files), None) => Some(files.clone()),
            (None, Some((store, fresh_until))) => {
                store.get_files(indexes, release, platforms, *fresh_until)
            }
            (None, None) => None,
        };
        (files, store)
    }

    /// What was noticed on the way (a package on several indexes, files without a sha256),
    /// sorted and de-duplicated.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = self
            .notes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        notes.sort();
        notes.dedup();
        notes
    }

    /// The wheels and sdist of `name` `version` as its listing has them, for the platform
    /// report; `None` when the project was not looked up or the lookup failed.
    pub fn release_files(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Option<super::wheels::ReleaseFiles> {
        let project = self.lookup(name).ok()??;
        project.release(version).map(ListedRelease::platform_files)
    }

    fn note(&self, note: String) {
        self.notes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(note);
    }

    fn project(&self, name: &PackageName) -> Pending<Option<Arc<Project>>> {
        let mut projects = self
            .projects
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        projects
            .entry(name.clone())
            .or_insert_with(|| {
                let inner = self.inner.clone();
                let name = name.clone();
                let task = self.handle.spawn(async move { inner.listing(&name).await });
                joined(task)
            })
            .clone()
    }

    fn lookup(&self, name: &PackageName) -> Result<Option<Arc<Project>>, SourceError> {
        let pending = self.project(name);
        self.handle.block_on(pending).map_err(failure)
    }
}

impl Inner {
    fn refreshed(&self, name: &str) -> bool {
        match &self.refresh {
            Refresh::None => false,
            Refresh::All => true,
            Refresh::Projects(names) => names.contains(name),
        }
    }

    /// The project's listing: stored and fresh, else from the indexes (and then stored for as
    /// long as its pages are fresh).
    async fn listing(
        &self,
        name: &PackageName,
    ) -> Result<Option<Arc<Project>>, Arc<SourceFailure>> {
        let stored = self
            .listings
            .as_ref()
            .filter(|_| !self.refreshed(name.as_ref()));
        if let Some((listing, fresh_until)) =
            stored.and_then(|s| s.get(&self.indexes, name.as_ref()))
        {
            let project = Project::new(listing, Some(fresh_until), BTreeMap::new());
            return Ok(Some(Arc::new(project)));
        }
        match self.client.lookup(&self.indexes, name.as_ref()).await {
            Ok(lookup) => {
                let fresh_for = lookup.fresh_for;
                let files_for = self
                    .keeping
                    .as_ref()
                    .filter(|k| k.reserve(&lookup))
                    .map(|k| k.platforms.as_slice());
                let (listing, files) = Listing::of(lookup, &self.indexes, files_for);
                let store = self.listings.clone().zip(fresh_for);
                let fresh_until = store
                    .as_ref()
                    .map(|(_, fresh_for)| ListingStore::fresh_until(*fresh_for));
                let project = Arc::new(Project::new(listing, fresh_until, files));
                if let (Some((store, _)), Some(fresh_until)) = (store, fresh_until) {
                    // Off the async workers, which have requests to serve, and awaited: a
                    // write left running is lost when the process ends first.
                    let (indexes, stored) = (self.indexes.clone(), project.clone());
                    let _ = tokio::task::spawn_blocking(move || {
                        store.put(&indexes, &stored.listing, fresh_until);
                    })
                    .await;
                }
                Ok(Some(project))
            }
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(Arc::new(SourceFailure::Failed(Arc::new(error)))),
        }
    }

    /// The release the resolver will most likely choose in `range`: the preferred version
    /// when it is in the range and on the index, else the newest release in the range that is
    /// neither yanked nor a pre-release (unless pinned exactly) and supports the target Python.
    fn likely(&self, name: &PackageName, project: &Project, range: &Range) -> Option<Version> {
        if let Some(preferred) = self.preferences.get(name) {
            if range.contains(preferred) && project.releases.contains_key(preferred) {
                return Some(preferred.clone());
            }
        }
        if let Some(exact) = range.as_singleton() {
            return project.releases.contains_key(exact).then(|| exact.clone());
        }
        project
            .releases
            .iter()
            .rev()
            .find(|(version, i)| {
                let release = &project.listing.releases[**i];
                range.contains(version)
                    && !version.any_prerelease()
                    && !release.yanked
                    && release.supports_python(&self.python)
            })
            .map(|(version, _)| version.clone())
    }

    /// The metadata of `name==version`, started once (on the current runtime) and shared.
    fn metadata_of(
        &self,
        project: &Project,
        name: &PackageName,
        version: &Version,
    ) -> Pending<Arc<Metadata>> {
        let mut metadata = self
            .metadata
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        metadata
            .entry((name.clone(), version.clone()))
            .or_insert_with(|| {
                let client = self.client.clone();
                let listed = project.release(version);
                let release = listed.and_then(|r| r.release(name.as_ref()));
                let index = listed.and_then(|r| self.indexes.get(r.index)).cloned();
                let task = tokio::spawn(async move {
                    let (Some(release), Some(index)) = (release, index) else {
                        return Err(Arc::new(SourceFailure::Unusable(
                            UnusableRelease::Unreadable(Failure::new(Reason(
                                "The release is on no index".into(),
                            ))),
                        )));
                    };
                    client
                        .metadata(&index, &release)
                        .await
                        .map(Arc::new)
                        .map_err(|error| {
                            Arc::new(if error.is_release_unusable() {
                                SourceFailure::Unusable(UnusableRelease::of(error))
                            } else {
                                SourceFailure::Failed(Arc::new(error))
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
            Err(Arc::new(SourceFailure::Failed(Arc::new(Reason(format!(
                "The lookup task failed: {e}"
            ))))))
        })
    })
    .boxed()
    .shared()
}

fn failure(failure: Arc<SourceFailure>) -> SourceError {
    match &*failure {
        SourceFailure::Unusable(why) => SourceError::Unusable(why.clone()),
        SourceFailure::Failed(error) => SourceError::Failed(Failure::shared(error.clone())),
    }
}

impl PackageSource for PypiSource {
    fn candidates(&self, name: &PackageName) -> Result<Vec<Candidate>, SourceError> {
        let Some(project) = self.lookup(name)? else {
            return Ok(Vec::new());
        };
        if project.listing.found_on.len() > 1 {
            self.note(format!(
                "`{name}` is on several indexes ({}): a dependency-confusion risk",
                project.listing.found_on.join(", ")
            ));
        }
        let mut candidates = Vec::new();
        for (version, i) in &project.releases {
            let release = &project.listing.releases[*i];
            if !release.has_files {
                continue;
            }
            candidates.push(Candidate {
                version: version.clone(),
                yanked: release.yanked,
                requires_python: if release.supports_python(&self.inner.python) {
                    None
                } else {
                    release.requires_python()
                },
                hashes: release.hashes(),
            });
        }
        Ok(candidates)
    }

    fn metadata(&self, name: &PackageName, version: &Version) -> Result<Metadata, SourceError> {
        let project = self.lookup(name)?.ok_or_else(|| {
            SourceError::Failed(Failure::new(Reason(format!("`{name}` is on no index"))))
        })?;
        let pending = {
            // Entered, so the metadata task can be spawned on the source's runtime.
            let _runtime = self.handle.enter();
            self.inner.metadata_of(&project, name, version)
        };
        let metadata = self.handle.block_on(pending).map_err(failure)?;
        if let Some(release) = project.release(version) {
            if !release.without_sha256.is_empty() {
                self.note(format!(
                    "{name} {version}: the index gives no sha256 for {}, so the lock cannot hash it",
                    release.without_sha256.join(", ")
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
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(key)
            {
                continue;
            }
            let inner = self.inner.clone();
            let (name, range) = (name.clone(), range.clone());
            drop(self.handle.spawn(async move {
                if let Ok(Some(project)) = project.await {
                    if let Some(version) = inner.likely(&name, &project, &range) {
                        drop(inner.metadata_of(&project, &name, &version));
                    }
                }
            }));
        }
    }

    /// From the files kept with the projects ([`PypiSource::keeping_files`]), else read from
    /// the pages again (concurrently, through the HTTP cache, the one release of each kept);
    /// either way stored beside the listing for the next run. The listing the resolver keeps
    /// has too few of them.
    fn listed(
        &self,
        pins: &[(PackageName, Version)],
    ) -> Vec<Result<Option<SourcedRelease>, Failure>> {
        let indexes = &self.inner.indexes;
        let mut answers: Vec<Option<Result<Option<SourcedRelease>, Failure>>> = Vec::new();
        let mut asked = Vec::new();
        for (at, (name, version)) in pins.iter().enumerate() {
            let (files, store) = self.kept_files(name, version);
            let sourced = files.and_then(|f| f.sourced(name.as_ref(), version, indexes));
            if sourced.is_none() {
                asked.push((at, name.clone(), version.clone(), store));
            }
            answers.push(sourced.map(|s| Ok(Some(s))));
        }
        // One task each, so the pages are parsed on every worker of the runtime at once, but
        // only a few at a time: each holds its page's body while it reads the one release.
        let in_flight = std::thread::available_parallelism().map_or(2, std::num::NonZero::get) * 2;
        let tasks = futures::stream::iter(asked)
            .map(|(at, name, version, store)| {
                let inner = self.inner.clone();
                let task = self.handle.spawn(async move {
                    let lookup = inner
                        .client
                        .lookup_release(&inner.indexes, name.as_ref(), &version)
                        .await;
                    match lookup {
                        Ok(mut lookup) => {
                            let found = lookup
                                .releases
                                .remove(&version)
                                .and_then(|sources| sources.into_iter().next());
                            let kept = found.as_ref().zip(store).zip(inner.keeping.as_ref());
                            let kept = kept.and_then(|((found, store), keeping)| {
                                let index =
                                    inner.indexes.iter().position(|i| i.url == found.index)?;
                                let files =
                                    ListedFiles::of(&found.release, index, &keeping.platforms);
                                Some((files, store, keeping.platforms.clone()))
                            });
                            if let Some((files, (store, fresh_until), platforms)) = kept {
                                let indexes = inner.indexes.clone();
                                let _ = tokio::task::spawn_blocking(move || {
                                    store.put_files(
                                        &indexes,
                                        (name.as_ref(), &version),
                                        &platforms,
                                        fresh_until,
                                        &files,
                                    );
                                })
                                .await;
                            }
                            Ok(found)
                        }
                        Err(error) if error.is_not_found() => Ok(None),
                        Err(error) => Err(Failure::new(error)),
                    }
                });
                task.map(move |joined| (at, joined))
            })
            .buffer_unordered(in_flight)
            .collect::<Vec<_>>();
        for (at, joined) in self.handle.block_on(tasks) {
            answers[at] = Some(joined.unwrap_or_else(|e| {
                Err(Failure::new(Reason(format!("The lookup task failed: {e}"))))
            }));
        }
        answers
            .into_iter()
            .map(|answer| answer.unwrap_or_else(|| Ok(None)))
            .collect()
    }

    fn prefetch_versions(&self, name: &PackageName, versions: &[Version]) {
        let project = self.project(name);
        let inner = self.inner.clone();
        let (name, versions) = (name.clone(), versions.to_vec());
        drop(self.handle.spawn(async move {
            if let Ok(Some(project)) = project.await {
                for version in &versions {
                    drop(inner.metadata_of(&project, &name, version));
                }
            }
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::pypi::{DistFile, IndexUrl, Lookup, Release, filename};
    use std::str::FromStr;

    /// A lookup of `app` with one release of `count` sdists.
    fn lookup(count: usize) -> Lookup {
        let files = (0..count)
            .map(|i| {
                let name = format!("app-1.0.{i}.tar.gz");
                let url = url::Url::parse(&format!("https://files.example/{name}")).unwrap();
                let mut file = DistFile::new(name.clone(), url);
                file.kind = filename::parse(&name, "app").unwrap().kind;
                file
            })
            .collect();
        let release = Release {
            version: Version::from_str("1.0").unwrap(),
            files,
            yanked: false,
            yanked_reason: None,
            requires_python: None,
            upload_time: None,
        };
        let index = IndexUrl::new(url::Url::parse("https://one.example/simple/").unwrap());
        Lookup {
            name: "app".into(),
            found_on: vec![index.clone()],
            releases: [(
                release.version.clone(),
                vec![SourcedRelease { index, release }],
            )]
            .into(),
            unparsed_versions: Vec::new(),
            warnings: Vec::new(),
            page_warnings: Vec::new(),
            fresh_for: None,
        }
    }

    /// A run keeps at most its budget of files: a project that would pass it keeps none (its
    /// page is read again after the resolution), and a smaller one after it still fits.
    #[test]
    fn files_are_kept_within_the_run_s_budget() {
        let keeping = Keeping {
            platforms: Vec::new(),
            left: AtomicUsize::new(10),
        };
        assert!(keeping.reserve(&lookup(6)));
        assert!(!keeping.reserve(&lookup(5)));
        assert!(keeping.reserve(&lookup(4)));
        assert!(!keeping.reserve(&lookup(1)));
    }
}
