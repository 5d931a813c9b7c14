//! What the resolver needs of a project's index pages, and nothing more: per release, whether
//! it is yanked, its `Requires-Python`, the sha256 of every file (for the lock) and the few
//! files its metadata is read from, best first.
//!
//! A project page lists every file of every release (thousands for numpy or torch), and
//! parsing it again on every run is most of a warm lock's time. A [`Listing`] is a fraction
//! of the page, kept in memory instead of the page, and on disk beside the HTTP cache
//! (`<cache dir>/lock-v2/<sha256 of the indexes and the name>.json`) for as long as the page
//! may be used without asking the index (its `max-age`, pip's 10 minutes when it says
//! nothing); `--offline` uses it whatever its age, an upgrade of the project never. Online,
//! the listing replaces the cached page: pages are not written to the HTTP cache by a lock.
//!
//! A `pylock.toml` records every file of each locked release, which a listing does not keep:
//! [`ListedFiles`] are taken from the same page while it is parsed, and the locked releases'
//! are stored beside the listing (`lock-v2/files/`), valid only with the listing they were read
//! with.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use pep440_rs::{Version, VersionSpecifiers};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::wheels::Platform;
use crate::registry::http::{CacheMode, HttpClient};
use crate::registry::pypi::metadata::ranked_files;
use crate::registry::pypi::{
    CoreMetadata, DistFile, DistKind, Index, Lookup, Release, SourcedRelease, WheelTags, filename,
};

/// The files a release's metadata is tried from, at most: the first usually answers.
const METADATA_FILES: usize = 2;

/// One file a release's metadata can be read from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListedFile {
    /// The file name.
    pub filename: String,
    /// Its URL, without credentials.
    pub url: String,
    /// Its sha256, when the index gives one.
    pub sha256: Option<String>,
    /// Whether the index serves its PEP 658 metadata file, with that file's sha256 when given.
    pub core_metadata: Option<Option<String>>,
    /// Its size, when the index gives it.
    pub size: Option<u64>,
    /// Whether it is yanked.
    pub yanked: bool,
    /// When it was uploaded, when the index says (kept only in [`ListedFiles`]: a
    /// `pylock.toml` records it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_time: Option<jiff::Timestamp>,
}

impl ListedFile {
    /// `file` as listed; its upload time only when `with_time`.
    fn of(file: &DistFile, with_time: bool) -> ListedFile {
        ListedFile {
            filename: file.filename.clone(),
            url: file.url.to_string(),
            sha256: file.sha256().map(str::to_owned),
            core_metadata: match &file.core_metadata {
                CoreMetadata::Present { hashes } => Some(hashes.get("sha256").map(str::to_owned)),
                CoreMetadata::Absent => None,
            },
            size: file.size,
            yanked: file.yanked,
            upload_time: if with_time { file.upload_time } else { None },
        }
    }

    /// The file again, for the client (`None` for a URL or name that no longer parses).
    fn dist_file(&self, project: &str) -> Option<DistFile> {
        let mut file = DistFile::new(self.filename.clone(), url::Url::parse(&self.url).ok()?);
        if let Some(sha256) = &self.sha256 {
            file.hashes = [("sha256".to_owned(), sha256.clone())].into();
        }
        file.core_metadata = match &self.core_metadata {
            Some(sha256) => CoreMetadata::Present {
                hashes: sha256
                    .iter()
                    .map(|h| ("sha256".to_owned(), h.clone()))
                    .collect(),
            },
            None => CoreMetadata::Absent,
        };
        file.size = self.size;
        file.yanked = self.yanked;
        file.upload_time = self.upload_time;
        file.kind = filename::parse(&self.filename, project).ok()?.kind;
        Some(file)
    }
}

/// The files of one release on the first index that lists it that a `pylock.toml` for some
/// platforms may record (its sdists, and its wheels for those platforms), kept so that the
/// page is not parsed again after the resolution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListedFiles {
    /// The position, in the indexes asked, of the index.
    pub index: usize,
    /// Whether the release is yanked there.
    pub yanked: bool,
    /// The files, in the index's order.
    pub files: Vec<ListedFile>,
}

impl ListedFiles {
    /// The files of `release` on `indexes[index]` that a `pylock.toml` for `platforms` lists
    /// ([`super::wheels::lockable`]).
    pub fn of(release: &Release, index: usize, platforms: &[Platform]) -> ListedFiles {
        ListedFiles {
            index,
            yanked: release.yanked,
            files: release
                .files
                .iter()
                .filter(|f| super::wheels::lockable(&f.kind, platforms))
                .map(|f| ListedFile::of(f, true))
                .collect(),
        }
    }

    /// `project` `version` as the index lists it, as the client reads it from a page; `None`
    /// when the index is not among `indexes` (a listing of other indexes).
    pub fn sourced(
        &self,
        project: &str,
        version: &Version,
        indexes: &[Index],
    ) -> Option<SourcedRelease> {
        Some(SourcedRelease {
            index: indexes.get(self.index)?.url.clone(),
            release: Release {
                version: version.clone(),
                files: self
                    .files
                    .iter()
                    .filter_map(|f| f.dist_file(project))
                    .collect(),
                yanked: self.yanked,
                yanked_reason: None,
                requires_python: None,
                upload_time: None,
            },
        })
    }
}

/// One release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListedRelease {
    /// The version, as text.
    pub version: String,
    /// Yanked on every index that lists it.
    pub yanked: bool,
    /// The distinct `Requires-Python` of its files that are not yanked, `None` for a file
    /// without one (no entry at all: nothing installable).
    pub requires_python: Vec<Option<String>>,
    /// The release's `Requires-Python` (on its first index), for messages.
    pub release_requires_python: Option<String>,
    /// `sha256:<hex>` of every file on every index, sorted, separated by spaces (one string:
    /// the cheapest to store and read back).
    pub hashes: String,
    /// Whether any index lists a file of it.
    pub has_files: bool,
    /// Files the index gives no sha256 for.
    pub without_sha256: Vec<String>,
    /// The position, in the indexes asked, of the first index that lists it.
    pub index: usize,
    /// The files its metadata is read from, best first.
    pub files: Vec<ListedFile>,
    /// The tags (`cp312-cp312-manylinux_2_17_x86_64`) of each wheel that is not yanked, on
    /// every index, de-duplicated: which platforms have a wheel ([`super::wheels`]).
    pub wheels: Vec<String>,
    /// Whether some index lists an sdist of it that is not yanked.
    pub sdist: bool,
}

/// A project, as the resolver needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listing {
    /// The normalised name.
    pub name: String,
    /// The indexes that have it (for the dependency-confusion note), as printed.
    pub found_on: Vec<String>,
    /// Every release, ascending.
    pub releases: Vec<ListedRelease>,
}

impl Listing {
    /// The listing of a lookup over `indexes`, and, with `files_for`, every release's files
    /// for those platforms ([`ListedFiles::of`]). The lookup is consumed release by release,
    /// so a huge page is never held twice over.
    pub fn of(
        lookup: Lookup,
        indexes: &[Index],
        files_for: Option<&[Platform]>,
    ) -> (Listing, BTreeMap<Version, ListedFiles>) {
        let name = lookup.name;
        let found_on = lookup.found_on.iter().map(ToString::to_string).collect();
        let mut files = BTreeMap::new();
        let mut releases = Vec::with_capacity(lookup.releases.len());
        for (version, sources) in lookup.releases {
            let Some(first) = sources.first() else {
                continue;
            };
            let index = indexes.iter().position(|i| i.url == first.index);
            if let (Some(platforms), Some(index)) = (files_for, index) {
                files.insert(
                    version.clone(),
                    ListedFiles::of(&first.release, index, platforms),
                );
            }
            releases.push(ListedRelease::of(&version, &sources, index.unwrap_or(0)));
        }
        let listing = Listing {
            name,
            found_on,
            releases,
        };
        (listing, files)
    }
}

impl ListedRelease {
    /// The release `version` as `sources` list it (one per index, in index order; the first is
    /// on `indexes[index]`).
    fn of(version: &Version, sources: &[SourcedRelease], index: usize) -> ListedRelease {
        let first = &sources[0];
        // As `Release::supports_python`: yanked files do not count.
        let mut requires_python: Vec<Option<String>> = Vec::new();
        let mut wheels: Vec<String> = Vec::new();
        let mut sdist = false;
        let not_yanked = sources
            .iter()
            .flat_map(|s| &s.release.files)
            .filter(|f| !f.yanked);
        for file in not_yanked {
            let spec = file.requires_python.as_ref().map(ToString::to_string);
            if !requires_python.contains(&spec) {
                requires_python.push(spec);
            }
            match &file.kind {
                DistKind::Wheel(tags) => {
                    let text =
                        format!("{}-{}-{}", tags.python_tag, tags.abi_tag, tags.platform_tag);
                    if !wheels.contains(&text) {
                        wheels.push(text);
                    }
                }
                DistKind::Sdist { .. } => sdist = true,
                DistKind::Other => {}
            }
        }
        ListedRelease {
            wheels,
            sdist,
            version: version.to_string(),
            yanked: sources.iter().all(|s| s.release.yanked),
            requires_python,
            release_requires_python: first
                .release
                .requires_python
                .as_ref()
                .map(ToString::to_string),
            hashes: SourcedRelease::hashes_of(sources).join(" "),
            has_files: sources.iter().any(|s| !s.release.files.is_empty()),
            without_sha256: first
                .release
                .files_without_sha256()
                .iter()
                .map(|f| f.filename.clone())
                .collect(),
            index,
            files: ranked_files(&first.release)
                .into_iter()
                .take(METADATA_FILES)
                .map(|f| ListedFile::of(f, false))
                .collect(),
        }
    }

    /// The version (a listing read from disk may hold text that no longer parses: skipped).
    pub fn parsed_version(&self) -> Option<Version> {
        Version::from_str(&self.version).ok()
    }

    /// Whether some file of it that is not yanked supports `python`.
    pub fn supports_python(&self, python: &Version) -> bool {
        self.requires_python.iter().any(|spec| match spec {
            None => true,
            Some(text) => VersionSpecifiers::from_str(text).map_or(true, |s| s.contains(python)),
        })
    }

    /// Its wheels' tags and whether it has an sdist, for [`super::wheels::platform_gaps`].
    pub fn platform_files(&self) -> super::wheels::ReleaseFiles {
        super::wheels::ReleaseFiles {
            wheels: self
                .wheels
                .iter()
                .filter_map(|text| {
                    let mut parts = text.splitn(3, '-');
                    Some(WheelTags {
                        build_tag: None,
                        python_tag: parts.next()?.to_owned(),
                        abi_tag: parts.next()?.to_owned(),
                        platform_tag: parts.next()?.to_owned(),
                    })
                })
                .collect(),
            sdist: self.sdist,
        }
    }

    /// `sha256:<hex>` of every file.
    pub fn hashes(&self) -> Vec<String> {
        self.hashes.split_whitespace().map(str::to_owned).collect()
    }

    /// The release's `Requires-Python`, parsed.
    pub fn requires_python(&self) -> Option<VersionSpecifiers> {
        self.release_requires_python
            .as_deref()
            .and_then(|t| VersionSpecifiers::from_str(t).ok())
    }

    /// The release, with its metadata files only, for [`crate::registry::pypi::PypiClient::metadata`].
    pub fn release(&self, project: &str) -> Option<Release> {
        let version = self.parsed_version()?;
        let files = self
            .files
            .iter()
            .filter_map(|f| f.dist_file(project))
            .collect();
        Some(Release {
            version,
            files,
            yanked: self.yanked,
            yanked_reason: None,
            requires_python: self.requires_python(),
            upload_time: None,
        })
    }
}

/// Listings on disk.
#[derive(Debug, Clone)]
pub struct ListingStore {
    dir: PathBuf,
    offline: bool,
}

/// What is stored: the listing and until when it may be used.
#[derive(Deserialize)]
struct Stored {
    /// Seconds since the epoch.
    fresh_until: u64,
    listing: Listing,
}

/// [`Stored`] as it is written, borrowing the listing.
#[derive(Serialize)]
struct StoredRef<'a> {
    fresh_until: u64,
    listing: &'a Listing,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl ListingStore {
    /// The store beside `http`'s cache, when it has one.
    pub fn of(http: &HttpClient) -> Option<ListingStore> {
        let (cache, offline) = match &http.config().cache {
            CacheMode::Disabled => return None,
            CacheMode::Enabled(cache) => (cache, false),
            CacheMode::Offline(cache) => (cache, true),
        };
        Some(ListingStore {
            dir: cache.dir().parent()?.join("lock-v2"),
            offline,
        })
    }

    /// Whether it answers whatever the age (`--offline`).
    pub fn is_offline(&self) -> bool {
        self.offline
    }

    fn path(&self, indexes: &[Index], name: &str) -> PathBuf {
        self.dir.join(format!(
            "{}.json",
            hex::encode(key(indexes, name).finalize())
        ))
    }

    fn files_path(
        &self,
        indexes: &[Index],
        name: &str,
        version: &Version,
        platforms: &[Platform],
    ) -> PathBuf {
        let mut key = key(indexes, name);
        key.update(b"\n");
        key.update(version.to_string().as_bytes());
        for platform in platforms {
            key.update(b"\n");
            key.update(platform.describe().as_bytes());
        }
        self.dir
            .join("files")
            .join(format!("{}.json", hex::encode(key.finalize())))
    }

    /// The listing of `name` on `indexes`, when one is stored and still fresh (any age
    /// offline), with the second until which it is.
    pub fn get(&self, indexes: &[Index], name: &str) -> Option<(Listing, u64)> {
        let bytes = std::fs::read(self.path(indexes, name)).ok()?;
        let stored: Stored = serde_json::from_slice(&bytes).ok()?;
        (self.offline || now() < stored.fresh_until).then_some((stored.listing, stored.fresh_until))
    }

    /// The second until which a listing read now and fresh for `fresh_for` may be used.
    pub fn fresh_until(fresh_for: Duration) -> u64 {
        now().saturating_add(fresh_for.as_secs())
    }

    /// Keep `listing` until `fresh_until` ([`ListingStore::fresh_until`]), written as it is
    /// serialised (a hostile page's listing is never held twice). Failures only make the next
    /// run slower: ignored.
    pub fn put(&self, indexes: &[Index], listing: &Listing, fresh_until: u64) {
        let stored = StoredRef {
            fresh_until,
            listing,
        };
        write_with(&self.path(indexes, &listing.name), |file| {
            serde_json::to_writer(file, &stored).map_err(std::io::Error::other)
        });
    }

    /// The files of `name` `version` for `platforms` kept with the listing that is fresh until
    /// `fresh_until`: from the same page, so never older or newer than the listing the resolver
    /// used.
    pub fn get_files(
        &self,
        indexes: &[Index],
        (name, version): (&str, &Version),
        platforms: &[Platform],
        fresh_until: u64,
    ) -> Option<ListedFiles> {
        let bytes = std::fs::read(self.files_path(indexes, name, version, platforms)).ok()?;
        let stored: StoredFiles = serde_json::from_slice(&bytes).ok()?;
        (stored.fresh_until == fresh_until).then_some(stored.files)
    }

    /// Keep the files of `name` `version` for `platforms` beside its listing (fresh until
    /// `fresh_until`). Failures are ignored, as [`ListingStore::put`]'s.
    pub fn put_files(
        &self,
        indexes: &[Index],
        (name, version): (&str, &Version),
        platforms: &[Platform],
        fresh_until: u64,
        files: &ListedFiles,
    ) {
        let stored = StoredFiles {
            fresh_until,
            files: files.clone(),
        };
        write_with(
            &self.files_path(indexes, name, version, platforms),
            |file| serde_json::to_writer(file, &stored).map_err(std::io::Error::other),
        );
    }
}

/// What is stored of one release's files: which listing they go with (its `fresh_until`).
#[derive(Serialize, Deserialize)]
struct StoredFiles {
    fresh_until: u64,
    files: ListedFiles,
}

/// The key of a project on a set of indexes.
fn key(indexes: &[Index], name: &str) -> Sha256 {
    let mut key = Sha256::new();
    for index in indexes {
        key.update(index.url.as_url().as_str().as_bytes());
        key.update(b"\n");
    }
    key.update(name.as_bytes());
    key
}

/// Write a cache file with what `fill` writes, creating its directory; a failure only costs
/// the next run time.
fn write_with(
    path: &std::path::Path,
    fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) {
    if path
        .parent()
        .is_some_and(|dir| std::fs::create_dir_all(dir).is_err())
    {
        return;
    }
    let _ = crate::text::atomic::write_with(path, crate::text::atomic::Durability::Cache, fill);
}

#[cfg(test)]
mod tests;
