//! Core metadata of a release (`METADATA`, `PKG-INFO`): what it depends on, for which Python.
//!
//! [`parse`] reads the email-header format of the core metadata specification as
//! `packaging.metadata` does ([`email`]); [`PypiClient::metadata`] fetches it the cheapest way
//! an index allows, never running a build backend:
//!
//! 0. the [`store`]: metadata read before from a file with the same sha256, no request at all;
//! 1. PEP 658/714: `<file url>.metadata`, checked against the hash the index gives for it;
//! 2. a wheel's `*.dist-info/METADATA` read with HTTP range requests ([`zip_ranges`]: the zip's
//!    central directory, then that one member), whatever the wheel's size; a server that does
//!    not serve ranges sends the whole wheel, which is read when it is within the HTTP client's
//!    body limit and matches the index's sha256;
//! 3. an sdist's `PKG-INFO`, only when it is metadata 2.2 or later and does not declare
//!    `Dynamic: Requires-Dist` (an older or dynamic one is only known by building the sdist).
//!
//! A file too large to read (no ranges, over the limit) passes to the release's next file;
//! when none can be read, that is an error, never a reason to use an older release.

pub mod email;
pub mod store;
pub mod zip_ranges;

use std::io::Read;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, Requirement, VerbatimUrl};
use sha2::{Digest, Sha256};

use super::client::PypiClient;
use super::filename::DistKind;
use super::index_config::Index;
use super::model::{CoreMetadata, DistFile, Release};
use crate::registry::http::{HttpError, Request};
use crate::vocab::redact;

/// A release's core metadata: the fields resolution needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    /// `Metadata-Version` (`2.1`).
    pub metadata_version: String,
    /// `Name`, as written.
    pub name: String,
    /// `Version`.
    pub version: Version,
    /// `Requires-Python`, when given (an invalid one is ignored, as pip ignores it).
    pub requires_python: Option<VersionSpecifiers>,
    /// `Requires-Dist`, in order, with their markers (`extra == "async"` for extras).
    pub requires_dist: Vec<Requirement<VerbatimUrl>>,
    /// `Provides-Extra`, normalised.
    pub provides_extra: Vec<ExtraName>,
    /// `Dynamic` fields (metadata 2.2+), lowercased: what the sdist's build may still change.
    pub dynamic: Vec<String>,
    /// `Project-URL` entries: (label as written, URL).
    pub project_urls: Vec<(String, String)>,
}

impl Metadata {
    /// Whether this is metadata 2.2 or later, where `PKG-INFO` is reliable unless a field is
    /// declared `Dynamic`.
    pub fn is_at_least_2_2(&self) -> bool {
        let mut parts = self.metadata_version.split('.').map(str::parse::<u64>);
        match (parts.next(), parts.next()) {
            (Some(Ok(major)), minor) => (major, minor.and_then(Result::ok).unwrap_or(0)) >= (2, 2),
            _ => false,
        }
    }

    /// The release notes or changelog URL among the `Project-URL`s, by the well-known labels of
    /// PEP 753 (compared normalised: lowercase, without punctuation or spaces).
    pub fn changelog_url(&self) -> Option<&str> {
        const LABELS: [&str; 6] = [
            "changelog",
            "releasenotes",
            "changes",
            "history",
            "whatsnew",
            "news",
        ];
        let normal = |label: &str| -> String {
            label
                .chars()
                .filter(|c| !c.is_ascii_punctuation() && !c.is_whitespace())
                .flat_map(char::to_lowercase)
                .collect()
        };
        LABELS.iter().find_map(|wanted| {
            self.project_urls
                .iter()
                .find(|(label, url)| normal(label) == *wanted && url.starts_with("https://"))
                .map(|(_, url)| url.as_str())
        })
    }

    /// Whether `field` (any case) is declared `Dynamic`.
    pub fn is_dynamic(&self, field: &str) -> bool {
        self.dynamic.iter().any(|d| d.eq_ignore_ascii_case(field))
    }
}

/// Why core metadata could not be read or fetched. URLs in it are redacted.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    /// The text lacks a required field.
    #[error("The metadata has no `{field}` field")]
    MissingField {
        /// `Name`, `Version`, `Metadata-Version`.
        field: &'static str,
    },
    /// `Version` is not a PEP 440 version.
    #[error("The metadata's version `{version}` is not a PEP 440 version")]
    InvalidVersion {
        /// The text.
        version: String,
    },
    /// A `Requires-Dist` line that is not a PEP 508 requirement.
    #[error("The metadata's `Requires-Dist: {line}` is not a valid requirement: {message}")]
    InvalidRequirement {
        /// The value.
        line: String,
        /// The parser's message.
        message: String,
    },
    /// The metadata is not UTF-8.
    #[error("The metadata is not UTF-8")]
    NotUtf8,
    /// A download failed.
    #[error("Cannot download {url}")]
    Http {
        /// The URL, redacted.
        url: String,
        /// What the HTTP client said.
        #[source]
        source: Box<HttpError>,
    },
    /// A downloaded file does not have the hash the index gave.
    #[error("{url} does not match the sha256 the index gave (expected {expected}, got {actual})")]
    HashMismatch {
        /// The URL, redacted.
        url: String,
        /// The index's digest.
        expected: String,
        /// The digest of what was downloaded.
        actual: String,
    },
    /// The file is bigger than repin downloads whole, and cannot be read in parts.
    #[error("{url} is {} than the {limit} bytes repin downloads whole{why}", size.map_or("larger".to_owned(), |s| format!("{s} bytes, more")))]
    TooLarge {
        /// The URL, redacted.
        url: String,
        /// The size, when known.
        size: Option<u64>,
        /// The limit.
        limit: usize,
        /// Why it had to be downloaded whole (`, and its server does not serve byte ranges`).
        why: &'static str,
    },
    /// An archive that cannot be read, or that holds no metadata file.
    #[error("{filename} holds no readable {member}: {reason}")]
    Archive {
        /// The file name.
        filename: String,
        /// `METADATA` or `PKG-INFO`.
        member: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// Only an sdist whose dependencies are known by building it: repin never runs builds.
    #[error("{filename} does not declare its dependencies statically ({why})")]
    NeedsBuild {
        /// The sdist's file name.
        filename: String,
        /// `metadata 2.1`, or `Requires-Dist is dynamic`.
        why: String,
    },
    /// The release has no file repin can read metadata from.
    #[error("The release has no wheel or source distribution")]
    NoFiles,
}

impl MetadataError {
    /// Whether this says something about the release itself (it cannot be used) rather than
    /// about the network: a resolver passes over such a release and tries an older one.
    ///
    /// A file too large to read is not such a thing: the release is fine, repin cannot read
    /// it, and using an older release instead would be a silent wrong answer.
    pub fn is_release_unusable(&self) -> bool {
        !matches!(
            self,
            MetadataError::Http { .. } | MetadataError::TooLarge { .. }
        )
    }
}

/// Parse core metadata text: the email-header format `packaging.metadata` reads (see
/// [`email`]); the body, the long description, is not kept.
pub fn parse(text: &str) -> Result<Metadata, MetadataError> {
    let fields = email::parse(text);
    let first = |key: &str| fields.first(key).map(email::unfold);
    let metadata_version = first("metadata-version").ok_or(MetadataError::MissingField {
        field: "Metadata-Version",
    })?;
    let name = first("name").ok_or(MetadataError::MissingField { field: "Name" })?;
    let version_text = first("version").ok_or(MetadataError::MissingField { field: "Version" })?;
    // The index's words, quoted in messages: one plain line.
    let version = Version::from_str(&version_text).map_err(|_| MetadataError::InvalidVersion {
        version: crate::vocab::redact::plain_line(&version_text, 100),
    })?;
    let requires_python = first("requires-python")
        .filter(|t| !t.is_empty())
        .and_then(|t| VersionSpecifiers::from_str(&t).ok());
    let mut requires_dist = Vec::new();
    for line in fields.all("requires-dist") {
        requires_dist.push(parse_requirement(&email::unfold(line))?);
    }
    let provides_extra = fields
        .all("provides-extra")
        .filter_map(|e| ExtraName::from_str(&email::unfold(e)).ok())
        .collect();
    let dynamic = fields
        .all("dynamic")
        .map(|d| email::unfold(d).to_ascii_lowercase())
        .collect();
    let project_urls = fields
        .all("project-url")
        .filter_map(|entry| {
            let entry = email::unfold(entry);
            let (label, url) = entry.split_once(',')?;
            Some((label.trim().to_owned(), url.trim().to_owned()))
        })
        .collect();
    Ok(Metadata {
        metadata_version,
        name,
        version,
        requires_python,
        requires_dist,
        provides_extra,
        dynamic,
        project_urls,
    })
}

/// Parse one PEP 508 requirement, a panic of the parser (a bug on its side) being an error.
pub fn parse_requirement(line: &str) -> Result<Requirement<VerbatimUrl>, MetadataError> {
    let invalid = |message: String| MetadataError::InvalidRequirement {
        line: crate::vocab::redact::plain_line(line, 200),
        message: crate::vocab::redact::plain_line(&message, 500),
    };
    // pep508_rs recurses into parentheses: a hostile line must not overflow the stack.
    let depth = crate::manifest::python::nesting_depth(line);
    if depth > crate::manifest::python::MAX_MARKER_DEPTH {
        return Err(invalid(format!("parentheses nested {depth} deep")));
    }
    if let Some(reason) = crate::manifest::python::pep508_panic_reason(line) {
        return Err(invalid(reason));
    }
    std::panic::catch_unwind(|| Requirement::<VerbatimUrl>::from_str(line))
        .map_err(|_| invalid("the PEP 508 parser failed on it".into()))?
        .map_err(|e| invalid(e.message.to_string()))
}

/// The files to read metadata from, best first: a wheel whose metadata the index serves, any
/// wheel (pure ones first), then an sdist.
pub fn ranked_files(release: &Release) -> Vec<&DistFile> {
    let rank = |file: &DistFile| match &file.kind {
        DistKind::Wheel(tags) => {
            let platform_tag = &tags.platform_tag;
            let served = matches!(file.core_metadata, CoreMetadata::Present { .. });
            let pure = platform_tag == "any";
            match (served, pure) {
                (true, true) => 0,
                (true, false) => 1,
                (false, true) => 2,
                (false, false) => 3,
            }
        }
        DistKind::Sdist { .. } if matches!(file.core_metadata, CoreMetadata::Present { .. }) => 4,
        DistKind::Sdist { .. } => 5,
        DistKind::Other => 6,
    };
    let mut files: Vec<&DistFile> = release
        .files
        .iter()
        .filter(|f| !matches!(f.kind, DistKind::Other))
        .collect();
    // Yanked files last: they still describe the release, but a live file is the better source.
    files.sort_by_key(|f| (f.yanked, rank(f)));
    files
}

/// The metadata text of `file`, parsed; an sdist's must be static.
fn parse_file(file: &DistFile, bytes: &[u8]) -> Result<Metadata, MetadataError> {
    let text = std::str::from_utf8(bytes).map_err(|_| MetadataError::NotUtf8)?;
    let metadata = parse(text)?;
    if matches!(file.kind, DistKind::Sdist { .. }) {
        check_static(&file.filename, &metadata)?;
    }
    Ok(metadata)
}

impl PypiClient {
    /// The core metadata of `release`, read from `index` (whose credentials are sent for files
    /// on its origin only). See the [module documentation](self) for the order of sources.
    pub async fn metadata(
        &self,
        index: &Index,
        release: &Release,
    ) -> Result<Metadata, MetadataError> {
        let files = ranked_files(release);
        if files.is_empty() {
            return Err(MetadataError::NoFiles);
        }
        let store = store::Store::of(self.http());
        if let Some(store) = &store {
            // The bytes stored for a file are what the network would give again (the file is
            // named by its hash): they answer, whether they make usable metadata or not (an
            // sdist's dynamic dependencies). Passing over a stored refusal downloaded every
            // sdist-only release again on each warm run: 150 ms of a 0.5 s lock.
            for file in &files {
                if let Some(bytes) = file.sha256().and_then(|sha| store.get(sha)) {
                    return parse_file(file, &bytes);
                }
            }
        }
        let mut too_large = None;
        for file in files {
            let bytes = match self.fetch_metadata(index, file).await {
                Ok(bytes) => bytes,
                Err(error @ MetadataError::TooLarge { .. }) => {
                    too_large.get_or_insert(error);
                    continue;
                }
                Err(error) => return Err(error),
            };
            if let (Some(store), Some(sha256)) = (store, file.sha256()) {
                // Off the async workers, which have requests to serve, and awaited: a write
                // left running was lost when the process ended first, and the next warm run
                // downloaded that metadata again (0 to 0.07 MB from one run to the next). Stored
                // before parsing: a refusal is as much the file's answer as metadata is.
                let (sha256, stored) = (sha256.to_owned(), bytes.clone());
                let _ = tokio::task::spawn_blocking(move || {
                    store.put(&sha256, &stored);
                })
                .await;
            }
            return parse_file(file, &bytes);
        }
        Err(too_large.unwrap_or(MetadataError::NoFiles))
    }

    /// The metadata bytes of one file, from the network.
    async fn fetch_metadata(
        &self,
        index: &Index,
        file: &DistFile,
    ) -> Result<Vec<u8>, MetadataError> {
        if let CoreMetadata::Present { hashes } = &file.core_metadata {
            let mut url = file.url.clone();
            url.set_path(&format!("{}.metadata", url.path()));
            let sha256 = hashes.get("sha256");
            return self.download(index, &url, sha256, None, true).await;
        }
        match &file.kind {
            DistKind::Wheel(_) => self.wheel_by_ranges(index, file).await,
            // An archive repin cannot read is refused before it is downloaded (old releases'
            // `.tar.bz2`: 300 ms each, on every run, for the same refusal).
            DistKind::Sdist { extension } if !is_readable_sdist(extension) => {
                sdist_pkg_info(&file.filename, extension, &[]).map(String::into_bytes)
            }
            DistKind::Sdist { extension } => {
                let body = self
                    .download(index, &file.url, file.sha256(), file.size, false)
                    .await?;
                sdist_pkg_info(&file.filename, extension, &body).map(String::into_bytes)
            }
            DistKind::Other => Err(MetadataError::NoFiles),
        }
    }

    /// A wheel's `METADATA` by range requests; the whole wheel when the server sends it.
    async fn wheel_by_ranges(
        &self,
        index: &Index,
        file: &DistFile,
    ) -> Result<Vec<u8>, MetadataError> {
        let shown = redact::url(&file.url);
        let limit = self.http().config().max_body;
        let request = Request::get(file.url.clone()).auth(self.auth_for(index, &file.url));
        let outcome = zip_ranges::read(self.http(), request, &file.filename, limit as u64).await;
        let body = match outcome {
            Ok(zip_ranges::Outcome::Metadata(bytes)) => return Ok(bytes),
            Ok(zip_ranges::Outcome::WholeFile(body)) => body,
            Err(zip_ranges::RangeError::Http(HttpError::BodyTooLarge { .. })) => {
                return Err(MetadataError::TooLarge {
                    url: shown,
                    size: file.size,
                    limit,
                    why: ", and its server does not serve byte ranges",
                });
            }
            Err(zip_ranges::RangeError::Http(source)) => {
                return Err(MetadataError::Http {
                    url: shown,
                    source: Box::new(source),
                });
            }
            Err(zip_ranges::RangeError::Zip(reason)) => {
                return Err(MetadataError::Archive {
                    filename: file.filename.clone(),
                    member: "METADATA",
                    reason,
                });
            }
        };
        check_sha256(&shown, &body, file.sha256())?;
        wheel_metadata(&file.filename, &body).map(String::into_bytes)
    }

    /// The index's credentials for `url` when it is on the index's origin (scheme, host and
    /// port), else none: files and metadata are often on another host (a CDN).
    fn auth_for(&self, index: &Index, url: &url::Url) -> Option<crate::registry::http::Auth> {
        if crate::registry::http::origin::same(url, index.url.as_url()) {
            index.auth.clone()
        } else {
            None
        }
    }

    /// GET `url` (index credentials when on the index's origin), checked against `sha256` when
    /// given. Small metadata files may be cached; archives are not.
    async fn download(
        &self,
        index: &Index,
        url: &url::Url,
        sha256: Option<&str>,
        size: Option<u64>,
        cacheable: bool,
    ) -> Result<Vec<u8>, MetadataError> {
        let shown = redact::url(url);
        let limit = self.http().config().max_body;
        let too_large = |size| MetadataError::TooLarge {
            url: shown.clone(),
            size,
            limit,
            why: "",
        };
        if let Some(size) = size.filter(|s| *s > limit as u64) {
            return Err(too_large(Some(size)));
        }
        let mut request = Request::get(url.clone()).auth(self.auth_for(index, url));
        if !cacheable {
            request = request.uncached();
        }
        let http_error = |source| MetadataError::Http {
            url: shown.clone(),
            source: Box::new(source),
        };
        let response = match self.http().send(request).await {
            Err(HttpError::BodyTooLarge { .. }) => return Err(too_large(size)),
            other => other
                .and_then(super::super::http::Response::ensure_success)
                .map_err(http_error)?,
        };
        check_sha256(&shown, &response.body, sha256)?;
        Ok(response.body)
    }
}

/// `body` must have the sha256 the index gave, when it gave one.
fn check_sha256(shown: &str, body: &[u8], sha256: Option<&str>) -> Result<(), MetadataError> {
    if let Some(expected) = sha256 {
        let actual = hex::encode(Sha256::digest(body));
        if !actual.eq_ignore_ascii_case(expected) {
            return Err(MetadataError::HashMismatch {
                url: shown.to_owned(),
                expected: expected.to_owned(),
                actual,
            });
        }
    }
    Ok(())
}

/// An sdist's `PKG-INFO` tells its dependencies only when it is metadata 2.2+ and does not
/// mark `Requires-Dist` dynamic.
pub fn check_static(filename: &str, metadata: &Metadata) -> Result<(), MetadataError> {
    if !metadata.is_at_least_2_2() {
        return Err(MetadataError::NeedsBuild {
            filename: filename.to_owned(),
            why: format!("its PKG-INFO is metadata {}", metadata.metadata_version),
        });
    }
    if metadata.is_dynamic("requires-dist") {
        return Err(MetadataError::NeedsBuild {
            filename: filename.to_owned(),
            why: "its PKG-INFO marks Requires-Dist as dynamic".into(),
        });
    }
    Ok(())
}

/// The largest metadata member (`METADATA`, `PKG-INFO`) read from an archive. Real ones are a
/// few kilobytes, a long description included; a member that inflates past this is a bomb.
pub const MAX_MEMBER_BYTES: u64 = 16 * 1024 * 1024;

/// The most bytes an sdist's tar may unpack to while repin looks for its `PKG-INFO`. The
/// archive is read as a stream and nothing but the member is kept, so this bounds time, not
/// memory: a gzip bomb of 64 MiB would otherwise unpack to 64 GiB.
pub const MAX_UNPACKED_BYTES: u64 = 1024 * 1024 * 1024;

/// A zip member's text, refused when it inflates past [`MAX_MEMBER_BYTES`].
fn read_member(
    member: impl Read,
    archive_error: impl Fn(String) -> MetadataError,
) -> Result<String, MetadataError> {
    let mut bytes = Vec::new();
    member
        .take(MAX_MEMBER_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| archive_error(e.to_string()))?;
    if bytes.len() as u64 > MAX_MEMBER_BYTES {
        return Err(archive_error(format!(
            "it unpacks to more than {MAX_MEMBER_BYTES} bytes"
        )));
    }
    String::from_utf8(bytes).map_err(|_| archive_error("stream did not contain valid UTF-8".into()))
}

/// `*.dist-info/METADATA` of a wheel (the top-level `.dist-info` directory; when there are
/// several, the one named after the wheel's project and version).
pub fn wheel_metadata(filename: &str, wheel: &[u8]) -> Result<String, MetadataError> {
    let archive_error = |reason: String| MetadataError::Archive {
        filename: filename.to_owned(),
        member: "METADATA",
        reason,
    };
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(wheel))
        .map_err(|e| archive_error(e.to_string()))?;
    let prefix = filename
        .split('-')
        .take(2)
        .collect::<Vec<_>>()
        .join("-")
        .to_ascii_lowercase();
    let names: Vec<String> = zip
        .file_names()
        .filter(|n| {
            let mut parts = n.split('/');
            matches!(
                (parts.next(), parts.next(), parts.next()),
                (Some(dir), Some("METADATA"), None) if dir.ends_with(".dist-info")
            )
        })
        .map(str::to_owned)
        .collect();
    let chosen = names
        .iter()
        .find(|n| {
            n.to_ascii_lowercase()
                .starts_with(&format!("{prefix}.dist-info/"))
        })
        .or_else(|| names.first())
        .ok_or_else(|| archive_error("there is no *.dist-info/METADATA".into()))?;
    let entry = zip
        .by_name(chosen)
        .map_err(|e| archive_error(e.to_string()))?;
    read_member(entry, archive_error)
}

/// The top-level `PKG-INFO` of an sdist (`.tar.gz` or `.zip`).
pub fn sdist_pkg_info(
    filename: &str,
    extension: &str,
    sdist: &[u8],
) -> Result<String, MetadataError> {
    let archive_error = |reason: String| MetadataError::Archive {
        filename: filename.to_owned(),
        member: "PKG-INFO",
        reason,
    };
    let is_top_pkg_info = |name: &str| {
        let mut parts = name.trim_start_matches("./").split('/');
        matches!(
            (parts.next(), parts.next(), parts.next()),
            (Some(_), Some("PKG-INFO"), None)
        )
    };
    match extension.to_ascii_lowercase().as_str() {
        ".zip" => {
            let mut zip = zip::ZipArchive::new(std::io::Cursor::new(sdist))
                .map_err(|e| archive_error(e.to_string()))?;
            let name = zip
                .file_names()
                .find(|n| is_top_pkg_info(n))
                .map(str::to_owned)
                .ok_or_else(|| archive_error("there is none at the top".into()))?;
            let entry = zip
                .by_name(&name)
                .map_err(|e| archive_error(e.to_string()))?;
            read_member(entry, archive_error)
        }
        ".tar.gz" | ".tgz" => {
            let mut tar = flate2::read::GzDecoder::new(sdist).take(MAX_UNPACKED_BYTES + 1);
            let found =
                tar_member(&mut tar, is_top_pkg_info).map_err(|e| archive_error(e.to_string()))?;
            match found {
                Some(bytes) => String::from_utf8(bytes).map_err(|_| MetadataError::NotUtf8),
                None if tar.limit() == 0 => Err(archive_error(format!(
                    "the archive unpacks to more than {MAX_UNPACKED_BYTES} bytes before it"
                ))),
                None => Err(archive_error("there is none at the top".into())),
            }
        }
        other => Err(archive_error(format!(
            "repin does not read `{other}` archives"
        ))),
    }
}

/// Whether repin reads sdists with this extension (`.zip`, `.tar.gz`, `.tgz`).
fn is_readable_sdist(extension: &str) -> bool {
    matches!(
        extension.to_ascii_lowercase().as_str(),
        ".zip" | ".tar.gz" | ".tgz"
    )
}

/// The content of the first regular file of a tar archive whose name `wanted` accepts (ustar
/// names with their prefix field, GNU long names and pax `path` records understood).
///
/// The archive is read as a stream: members before the one wanted are skipped, never held, and
/// the member itself (like a long name or pax record) may be at most [`MAX_MEMBER_BYTES`].
/// `Ok(None)` when the archive ends (or is cut short, or damaged) before such a member; `Err`
/// for a member too large, or a stream that cannot be decompressed (an I/O error: the archive's
/// own reason is all there is to say).
fn tar_member(
    tar: &mut impl Read,
    wanted: impl Fn(&str) -> bool,
) -> std::io::Result<Option<Vec<u8>>> {
    let octal = |field: &[u8]| -> Option<u64> {
        let text = std::str::from_utf8(field).ok()?;
        let text = text.trim_matches(|c: char| c == '\0' || c == ' ');
        if text.is_empty() {
            return Some(0);
        }
        u64::from_str_radix(text, 8).ok()
    };
    let cstr = |field: &[u8]| -> String {
        let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
        String::from_utf8_lossy(&field[..end]).into_owned()
    };
    // Reads exactly `len` bytes; `None` when the stream ends first (a truncated archive).
    let read = |tar: &mut dyn Read, len: u64| -> std::io::Result<Option<Vec<u8>>> {
        if len > MAX_MEMBER_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("a member is larger than {MAX_MEMBER_BYTES} bytes"),
            ));
        }
        let mut data = Vec::new();
        tar.take(len).read_to_end(&mut data)?;
        Ok((data.len() as u64 == len).then_some(data))
    };
    let mut long_name: Option<String> = None;
    loop {
        let mut header = [0u8; 512];
        match tar.read_exact(&mut header) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        if header.iter().all(|b| *b == 0) {
            return Ok(None);
        }
        let Some(size) = octal(&header[124..136]) else {
            return Ok(None);
        };
        let padded = size.div_ceil(512) * 512;
        let kind = header[156];
        let mut name = cstr(&header[0..100]);
        if &header[257..262] == b"ustar" {
            let prefix = cstr(&header[345..500]);
            if !prefix.is_empty() {
                name = format!("{prefix}/{name}");
            }
        }
        let keep = match kind {
            b'L' | b'x' => true,
            b'0' | 0 => wanted(long_name.as_deref().unwrap_or(&name)),
            _ => false,
        };
        let data = if keep {
            let Some(data) = read(tar, size)? else {
                return Ok(None);
            };
            Some(data)
        } else {
            None
        };
        let skip = padded - if keep { size } else { 0 };
        let skipped = std::io::copy(&mut (&mut *tar).take(skip), &mut std::io::sink())?;
        match kind {
            b'L' => long_name = data.map(|d| cstr(&d)),
            b'x' => {
                // pax records: "<len> path=<name>\n"
                let text = String::from_utf8_lossy(data.as_deref().unwrap_or_default());
                long_name = text.lines().find_map(|record| {
                    record
                        .split_once(' ')
                        .and_then(|(_, kv)| kv.strip_prefix("path="))
                        .map(str::to_owned)
                });
            }
            b'0' | 0 => {
                if let Some(data) = data {
                    return Ok(Some(data));
                }
                long_name = None;
            }
            _ => long_name = None,
        }
        if skipped < skip {
            return Ok(None);
        }
    }
}

impl crate::error::Hint for MetadataError {}

#[cfg(test)]
mod tests;
