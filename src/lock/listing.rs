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

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use pep440_rs::{Version, VersionSpecifiers};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::registry::http::{CacheMode, HttpClient};
use crate::registry::pypi::metadata::ranked_files;
use crate::registry::pypi::{
    CoreMetadata, DistFile, DistKind, Index, Lookup, Release, WheelTags, filename,
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
    /// The listing of a lookup over `indexes`.
    pub fn of(lookup: &Lookup, indexes: &[Index]) -> Listing {
        let releases = lookup
            .releases
            .iter()
            .filter_map(|(version, sources)| {
                let first = sources.first()?;
                // As `Release::supports_python`: yanked files do not count.
                let mut requires_python: Vec<Option<String>> = Vec::new();
                for file in sources
                    .iter()
                    .flat_map(|s| &s.release.files)
                    .filter(|f| !f.yanked)
                {
                    let spec = file.requires_python.as_ref().map(ToString::to_string);
                    if !requires_python.contains(&spec) {
                        requires_python.push(spec);
                    }
                }
                let mut wheels: Vec<String> = Vec::new();
                let mut sdist = false;
                for file in sources
                    .iter()
                    .flat_map(|s| &s.release.files)
                    .filter(|f| !f.yanked)
                {
                    match &file.kind {
                        DistKind::Wheel(tags) => {
                            let text = format!(
                                "{}-{}-{}",
                                tags.python_tag, tags.abi_tag, tags.platform_tag
                            );
                            if !wheels.contains(&text) {
                                wheels.push(text);
                            }
                        }
                        DistKind::Sdist { .. } => sdist = true,
                        DistKind::Other => {}
                    }
                }
                Some(ListedRelease {
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
                    hashes: lookup.hashes_for(version).join(" "),
                    has_files: sources.iter().any(|s| !s.release.files.is_empty()),
                    without_sha256: first
                        .release
                        .files_without_sha256()
                        .iter()
                        .map(|f| f.filename.clone())
                        .collect(),
                    index: indexes
                        .iter()
                        .position(|i| i.url == first.index)
                        .unwrap_or(0),
                    files: ranked_files(&first.release)
                        .into_iter()
                        .take(METADATA_FILES)
                        .map(|f| ListedFile {
                            filename: f.filename.clone(),
                            url: f.url.to_string(),
                            sha256: f.sha256().map(str::to_owned),
                            core_metadata: match &f.core_metadata {
                                CoreMetadata::Present { hashes } => {
                                    Some(hashes.get("sha256").map(str::to_owned))
                                }
                                CoreMetadata::Absent => None,
                            },
                            size: f.size,
                            yanked: f.yanked,
                        })
                        .collect(),
                })
            })
            .collect();
        Listing {
            name: lookup.name.clone(),
            found_on: lookup.found_on.iter().map(ToString::to_string).collect(),
            releases,
        }
    }
}

impl ListedRelease {
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
            .filter_map(|f| {
                let mut file = DistFile::new(f.filename.clone(), url::Url::parse(&f.url).ok()?);
                if let Some(sha256) = &f.sha256 {
                    file.hashes = [("sha256".to_owned(), sha256.clone())].into();
                }
                file.core_metadata = match &f.core_metadata {
                    Some(sha256) => CoreMetadata::Present {
                        hashes: sha256
                            .iter()
                            .map(|h| ("sha256".to_owned(), h.clone()))
                            .collect(),
                    },
                    None => CoreMetadata::Absent,
                };
                file.size = f.size;
                file.yanked = f.yanked;
                file.kind = filename::parse(&f.filename, project).ok()?.kind;
                Some(file)
            })
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
#[derive(Serialize, Deserialize)]
struct Stored {
    /// Seconds since the epoch.
    fresh_until: u64,
    listing: Listing,
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
        let mut key = Sha256::new();
        for index in indexes {
            key.update(index.url.as_url().as_str().as_bytes());
            key.update(b"\n");
        }
        key.update(name.as_bytes());
        self.dir
            .join(format!("{}.json", hex::encode(key.finalize())))
    }

    /// The listing of `name` on `indexes`, when one is stored and still fresh (any age
    /// offline).
    pub fn get(&self, indexes: &[Index], name: &str) -> Option<Listing> {
        let bytes = std::fs::read(self.path(indexes, name)).ok()?;
        let stored: Stored = serde_json::from_slice(&bytes).ok()?;
        (self.offline || now() < stored.fresh_until).then_some(stored.listing)
    }

    /// Keep `listing` for `fresh_for`. Failures only make the next run slower: ignored.
    pub fn put(&self, indexes: &[Index], listing: &Listing, fresh_for: Duration) {
        let stored = Stored {
            fresh_until: now().saturating_add(fresh_for.as_secs()),
            listing: listing.clone(),
        };
        let Ok(bytes) = serde_json::to_vec(&stored) else {
            return;
        };
        if std::fs::create_dir_all(&self.dir).is_err() {
            return;
        }
        let path = self.path(indexes, &listing.name);
        let _ = crate::text::atomic::write(&path, &bytes, crate::text::atomic::Durability::Cache);
    }
}
