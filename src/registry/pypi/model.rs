//! What an index says about a project: its releases and their files.
//!
//! Both page formats (PEP 691 JSON and PEP 503 HTML) are read file by file into a
//! [`ProjectBuilder`], which groups the files into [`Release`]s by the version in their file name
//! (or by the PEP 700 `versions` list when the index sends one) as they come, so a page is never
//! held twice; [`Page`] collects the files of a page instead, for tests and tools.
//!
//! The forms are compact, because a hostile (or merely huge) index page may list hundreds of
//! thousands of files: [`Hashes`] are one small slice, not a map; a release's file list is
//! shrunk to its length; [`IndexUrl`]s are shared; repeated `requires-python` texts are parsed
//! once per page; and at most [`MAX_WARNINGS`] warnings are kept per page.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use jiff::Timestamp;
use pep440_rs::{Version, VersionSpecifiers};
use serde::{Serialize, Serializer};
use url::Url;

use super::error::PypiError;
use super::filename::{self, DistKind, Rejection};
use crate::vocab::redact;

/// An index's base URL (`https://pypi.org/simple/`): no credentials, always ending in `/`.
///
/// Its `Display` and `Debug` are redacted (secret query parameters), so it is safe to print.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IndexUrl(Arc<Url>);

impl IndexUrl {
    /// The index URL, with credentials and fragment removed and a trailing `/` added.
    ///
    /// Credentials are the caller's business (see `index_config`): they are dropped here so an
    /// `IndexUrl` can be printed, compared and used as a key.
    pub fn new(mut url: Url) -> Self {
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.set_fragment(None);
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        IndexUrl(Arc::new(url))
    }

    /// The URL.
    pub fn as_url(&self) -> &Url {
        &self.0
    }

    /// The project page: `<index>/<normalised-name>/`.
    pub fn project_url(&self, normalised_name: &str) -> Url {
        let mut url = (*self.0).clone();
        url.set_query(None);
        let path = format!("{}{normalised_name}/", url.path());
        url.set_path(&path);
        url
    }
}

impl fmt::Display for IndexUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact::url(&self.0))
    }
}

impl fmt::Debug for IndexUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IndexUrl({self})")
    }
}

impl Serialize for IndexUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

fn redacted_url<S: Serializer>(url: &Url, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&redact::url(url))
}

/// A file's hashes: lower-case algorithm to lower-case hex digest, sorted by algorithm, one
/// entry per algorithm (the last given wins). Packed into one string (`algo NUL digest NUL ...`),
/// not a map: an index page may list a hundred thousand files, nearly all with a single
/// `sha256`, and a map would cost five times the digest itself. A pair containing a NUL is
/// dropped (no real algorithm or digest has one).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Hashes(Option<Box<str>>);

impl Hashes {
    /// The digest for `algorithm` (lower-case).
    pub fn get(&self, algorithm: &str) -> Option<&str> {
        self.iter().find(|(a, _)| *a == algorithm).map(|(_, h)| h)
    }

    /// `(algorithm, digest)` pairs, sorted by algorithm.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut parts = self.0.as_deref().unwrap_or("").split_terminator('\0');
        std::iter::from_fn(move || Some((parts.next()?, parts.next()?)))
    }

    /// How many algorithms.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }
}

impl<A: Into<String>, H: Into<String>> FromIterator<(A, H)> for Hashes {
    fn from_iter<I: IntoIterator<Item = (A, H)>>(pairs: I) -> Self {
        let map: BTreeMap<String, String> = pairs
            .into_iter()
            .map(|(a, h)| (a.into(), h.into()))
            .filter(|(a, h)| !a.contains('\0') && !h.contains('\0'))
            .collect();
        if map.is_empty() {
            return Hashes(None);
        }
        let mut packed =
            String::with_capacity(map.iter().map(|(a, h)| a.len() + h.len() + 2).sum());
        for (algorithm, digest) in &map {
            packed.push_str(algorithm);
            packed.push('\0');
            packed.push_str(digest);
            packed.push('\0');
        }
        Hashes(Some(packed.into_boxed_str()))
    }
}

impl<const N: usize> From<[(String, String); N]> for Hashes {
    fn from(pairs: [(String, String); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl fmt::Debug for Hashes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Hashes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

/// Whether the index serves a file's core metadata separately (PEP 658/714).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum CoreMetadata {
    /// Not served (or not said).
    #[default]
    Absent,
    /// Served at `<file url>.metadata`, with these hashes of the metadata file (maybe none).
    Present {
        /// Algorithm (lowercase) to hex digest.
        hashes: Hashes,
    },
}

/// One file of a release, as listed by the index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DistFile {
    /// The file name (`flask-3.0.3-py3-none-any.whl`).
    pub filename: String,
    /// The absolute download URL, without the `#sha256=` fragment and without credentials (a
    /// page that embeds them in a link has them removed, so no `Debug` output can show them;
    /// a download sends the index's own credentials).
    #[serde(serialize_with = "redacted_url")]
    pub url: Url,
    /// Algorithm (lowercase: `sha256`, `md5`, ...) to hex digest (lowercase).
    pub hashes: Hashes,
    /// The file's `Requires-Python`, when the index gives one and it parses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires_python: Option<VersionSpecifiers>,
    /// Whether the file is yanked (PEP 592).
    pub yanked: bool,
    /// The reason given for the yank, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub yanked_reason: Option<String>,
    /// When it was uploaded (PEP 700; JSON pages only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_time: Option<Timestamp>,
    /// Whether its metadata is served separately (PEP 658/714).
    pub core_metadata: CoreMetadata,
    /// Its size in bytes (PEP 700; JSON pages only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Wheel tags or sdist extension, from the file name.
    pub kind: DistKind,
}

impl DistFile {
    /// A file with only a name and URL (its credentials removed); the parsers fill in the rest.
    pub fn new(filename: String, mut url: Url) -> Self {
        let _ = url.set_username("");
        let _ = url.set_password(None);
        DistFile {
            filename,
            url,
            hashes: Hashes::default(),
            requires_python: None,
            yanked: false,
            yanked_reason: None,
            upload_time: None,
            core_metadata: CoreMetadata::Absent,
            size: None,
            kind: DistKind::Other,
        }
    }

    /// The `sha256` digest, if the index gave one.
    pub fn sha256(&self) -> Option<&str> {
        self.hashes.get("sha256")
    }
}

/// One release: a version and its files.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Release {
    /// The version.
    pub version: Version,
    /// Its files, in the order the index listed them. May be empty when the version comes from
    /// a PEP 700 `versions` list whose files are all gone.
    pub files: Vec<DistFile>,
    /// Whether it is yanked: every file is yanked (PEP 592 yanks files, pip yanks a release only
    /// when all of them are).
    pub yanked: bool,
    /// The first yank reason among its files, when yanked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub yanked_reason: Option<String>,
    /// The release's `Requires-Python`: the one its files declare (the most common one if they
    /// disagree, the first seen on a tie). See [`Release::supports_python`] for an exact answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires_python: Option<VersionSpecifiers>,
    /// The earliest upload time of its files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_time: Option<Timestamp>,
}

impl Release {
    fn empty(version: Version) -> Self {
        Release {
            version,
            files: Vec::new(),
            yanked: false,
            yanked_reason: None,
            requires_python: None,
            upload_time: None,
        }
    }

    /// Recompute the release-level facts from the files.
    fn summarise(&mut self) {
        self.yanked = !self.files.is_empty() && self.files.iter().all(|f| f.yanked);
        self.yanked_reason = if self.yanked {
            self.files.iter().find_map(|f| f.yanked_reason.clone())
        } else {
            None
        };
        self.upload_time = self.files.iter().filter_map(|f| f.upload_time).min();
        // Count by text: `VersionSpecifiers` has no `Hash`/`Ord`, and equal texts are equal.
        let mut counts: Vec<(String, usize, &VersionSpecifiers)> = Vec::new();
        for spec in self.files.iter().filter_map(|f| f.requires_python.as_ref()) {
            let text = spec.to_string();
            match counts.iter_mut().find(|(t, _, _)| *t == text) {
                Some(entry) => entry.1 += 1,
                None => counts.push((text, 1, spec)),
            }
        }
        // `max_by_key` keeps the last maximum; iterate in reverse so the first seen wins a tie.
        self.requires_python = counts
            .iter()
            .rev()
            .max_by_key(|(_, n, _)| *n)
            .map(|(_, _, spec)| (*spec).clone());
    }

    /// Whether some non-yanked file of this release can be installed on `python` (a file without
    /// `Requires-Python` allows every version). A release without files supports nothing.
    pub fn supports_python(&self, python: &Version) -> bool {
        self.files.iter().any(|f| {
            !f.yanked
                && f.requires_python
                    .as_ref()
                    .is_none_or(|spec| spec.contains(python))
        })
    }

    /// `sha256:<hex>` of every file, sorted and de-duplicated: what a hashed pin needs. Files the
    /// index gave no sha256 for contribute nothing (see [`Release::files_without_sha256`]).
    pub fn sha256_hashes(&self) -> Vec<String> {
        let mut hashes: Vec<String> = self
            .files
            .iter()
            .filter_map(DistFile::sha256)
            .map(|hex| format!("sha256:{hex}"))
            .collect();
        hashes.sort();
        hashes.dedup();
        hashes
    }

    /// Files the index gave no sha256 for: a hashed pin cannot cover them.
    pub fn files_without_sha256(&self) -> Vec<&DistFile> {
        self.files.iter().filter(|f| f.sha256().is_none()).collect()
    }
}

/// A parsed simple-API page, before files are grouped into releases.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// The files, in page order.
    pub files: Vec<DistFile>,
    /// PEP 700 `versions`, when the index sent them.
    pub versions: Option<Vec<String>>,
    /// The simple API version the page declared (`1.1`), if any.
    pub api_version: Option<String>,
    /// Things in the page that were skipped (an invalid `requires-python`, say).
    pub warnings: Vec<String>,
}

/// Which page format an index answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PageFormat {
    /// PEP 691 JSON.
    Json,
    /// PEP 503 HTML.
    Html,
}

/// Everything one index says about one project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Project {
    /// The normalised name (PEP 503).
    pub name: String,
    /// The index it was read from.
    pub index: IndexUrl,
    /// The format the index answered with.
    pub format: PageFormat,
    /// Releases by version.
    pub releases: BTreeMap<Version, Release>,
    /// Version texts that are not PEP 440 versions (from `versions` or from file names), in
    /// the order first seen. They are kept so a pin on one can be reported, never compared.
    pub unparsed_versions: Vec<String>,
    /// What was skipped while reading the page.
    pub warnings: Vec<String>,
}

impl Project {
    /// Group a page's files into releases. `name` is normalised here.
    pub fn from_page(name: &str, index: IndexUrl, format: PageFormat, page: Page) -> Self {
        let mut builder = ProjectBuilder::new(name, index, format);
        builder.warnings = page.warnings;
        if let Some(versions) = &page.versions {
            builder.versions(versions.iter().map(String::as_str));
        }
        for file in page.files {
            builder.add(file);
        }
        builder.finish()
    }

    /// `sha256:<hex>` of every file of `version`, sorted and de-duplicated; empty when the
    /// version is unknown.
    pub fn hashes_for(&self, version: &Version) -> Vec<String> {
        self.releases
            .get(version)
            .map(Release::sha256_hashes)
            .unwrap_or_default()
    }
}

/// The most warnings kept for one page; the rest are counted in a last one.
pub const MAX_WARNINGS: usize = 20;

/// The most files one project page may list (real projects list a few thousand; the largest
/// tens of thousands): a page beyond it is refused, not read into memory.
pub const MAX_FILES: usize = 100_000;

/// The most distinct versions one project page may list.
pub const MAX_RELEASES: usize = 100_000;

/// Where the files of a page are sent as they are read.
pub trait FileSink {
    /// One file of the page.
    fn file(&mut self, file: DistFile);
    /// One entry of the PEP 700 `versions` list.
    fn version(&mut self, text: &str);
    /// Something skipped while reading the page.
    fn warning(&mut self, warning: String);
    /// The declared API version (already checked).
    fn api_version(&mut self, version: String);
    /// Whether the sink wants no more: the parser stops reading the page.
    fn is_full(&self) -> bool {
        false
    }
}

impl FileSink for Page {
    fn file(&mut self, file: DistFile) {
        self.files.push(file);
    }
    fn version(&mut self, text: &str) {
        self.versions
            .get_or_insert_with(Vec::new)
            .push(text.to_owned());
    }
    fn warning(&mut self, warning: String) {
        self.warnings.push(warning);
    }
    fn api_version(&mut self, version: String) {
        self.api_version = Some(version);
    }
}

/// Builds a [`Project`] from files as a parser reads them: each file goes straight into its
/// release (or is dropped, when it is not a release file of the project), so a page's files
/// are never all held twice.
#[derive(Debug)]
pub struct ProjectBuilder {
    name: String,
    index: IndexUrl,
    format: PageFormat,
    releases: BTreeMap<Version, Release>,
    unparsed_versions: Vec<String>,
    warnings: Vec<String>,
    dropped_warnings: usize,
    files: usize,
    /// What went past its limit ([`MAX_FILES`], [`MAX_RELEASES`]): the page is refused.
    overflow: Option<(&'static str, usize)>,
    /// The one release kept, when only one is wanted ([`ProjectBuilder::only`]).
    only: Option<Version>,
}

impl ProjectBuilder {
    /// An empty project `name` (normalised here) on `index`.
    pub fn new(name: &str, index: IndexUrl, format: PageFormat) -> Self {
        ProjectBuilder {
            name: crate::vocab::normalize_name(name),
            index,
            format,
            releases: BTreeMap::new(),
            unparsed_versions: Vec::new(),
            warnings: Vec::new(),
            dropped_warnings: 0,
            files: 0,
            overflow: None,
            only: None,
        }
    }

    /// The same builder, keeping the files of `version` only (a caller that wants one
    /// release's files: the page's others are read, and counted against its limits, but never
    /// held).
    pub fn only(mut self, version: Option<Version>) -> Self {
        self.only = version;
        self
    }

    /// The limit the page went past (`files` or `versions`, and the limit), if any.
    pub fn overflow(&self) -> Option<(&'static str, usize)> {
        self.overflow
    }

    fn add_release(&mut self, version: Version) -> Option<&mut Release> {
        if self.only.as_ref().is_some_and(|only| *only != version) {
            return None;
        }
        if !self.releases.contains_key(&version) && self.releases.len() >= MAX_RELEASES {
            self.overflow = Some(("versions", MAX_RELEASES));
            return None;
        }
        Some(
            self.releases
                .entry(version.clone())
                .or_insert_with(|| Release::empty(version)),
        )
    }

    fn keep_unparsed(&mut self, text: &str) {
        // A hostile page could list endless distinct non-versions: keep a bounded few.
        if self.unparsed_versions.len() < 100 && !self.unparsed_versions.iter().any(|v| v == text) {
            self.unparsed_versions.push(text.to_owned());
        }
    }

    /// The PEP 700 `versions` list.
    pub fn versions<'a>(&mut self, versions: impl IntoIterator<Item = &'a str>) {
        for text in versions {
            if self.overflow.is_some() {
                return;
            }
            match Version::from_str(text) {
                Ok(version) => {
                    self.add_release(version);
                }
                Err(_) => self.keep_unparsed(text),
            }
        }
    }

    /// One file: into its release, or dropped with a warning when it is not the project's.
    pub fn add(&mut self, mut file: DistFile) {
        if self.overflow.is_some() {
            return;
        }
        match filename::parse(&file.filename, &self.name) {
            Ok(parsed) => {
                file.kind = parsed.kind;
                match parsed.version {
                    Some(version) => {
                        self.files += 1;
                        if self.files > MAX_FILES {
                            self.overflow = Some(("files", MAX_FILES));
                            return;
                        }
                        let Some(release) = self.add_release(version) else {
                            return;
                        };
                        let files = &mut release.files;
                        // Most releases have a few files: grow them one by one (a `Vec`'s
                        // first growth is to four), then as usual.
                        if files.len() < 8 {
                            files.reserve_exact(1);
                        }
                        files.push(file);
                    }
                    None => self.keep_unparsed(&parsed.version_text),
                }
            }
            Err(Rejection::OtherProject) => {
                let warning = format!(
                    "Skipped `{}`: it is not a file of `{}`",
                    file.filename, self.name
                );
                self.warning(warning);
            }
            Err(Rejection::MalformedWheel) => {
                let warning = format!("Skipped `{}`: not a valid wheel file name", file.filename);
                self.warning(warning);
            }
            // Eggs, installers and other links are not release files pip would install.
            Err(Rejection::UnknownFormat) => {}
        }
    }

    /// Keep a warning, up to [`MAX_WARNINGS`].
    pub fn warning(&mut self, warning: String) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(warning);
        } else {
            self.dropped_warnings += 1;
        }
    }

    /// The project, every release summarised and its file list shrunk to fit.
    pub fn finish(mut self) -> Project {
        for release in self.releases.values_mut() {
            release.files.shrink_to_fit();
            release.summarise();
        }
        if self.dropped_warnings > 0 {
            self.warnings.push(format!(
                "{} more warnings about this page were left out",
                self.dropped_warnings
            ));
        }
        Project {
            name: self.name,
            index: self.index,
            format: self.format,
            releases: self.releases,
            unparsed_versions: self.unparsed_versions,
            warnings: self.warnings,
        }
    }
}

impl FileSink for ProjectBuilder {
    fn file(&mut self, file: DistFile) {
        self.add(file);
    }
    fn version(&mut self, text: &str) {
        self.versions([text]);
    }
    fn warning(&mut self, warning: String) {
        ProjectBuilder::warning(self, warning);
    }
    fn api_version(&mut self, _version: String) {}
    fn is_full(&self) -> bool {
        self.overflow.is_some()
    }
}

/// Parses `requires-python` texts, each distinct text once per page (pages repeat the same few
/// texts on thousands of files), noting invalid ones.
#[derive(Debug, Default)]
pub(crate) struct RequiresPythonCache {
    parsed: HashMap<String, Option<VersionSpecifiers>>,
}

impl RequiresPythonCache {
    /// The most distinct texts remembered (a hostile page could make each one unique).
    const CAPACITY: usize = 256;

    /// Parse `text` (or reuse its parse), sending a warning for an invalid one to `sink`.
    pub(crate) fn parse(
        &mut self,
        text: Option<&str>,
        filename: &str,
        sink: &mut dyn FileSink,
    ) -> Option<VersionSpecifiers> {
        let text = text?.trim();
        if text.is_empty() {
            return None;
        }
        if let Some(parsed) = self.parsed.get(text) {
            return parsed.clone();
        }
        let mut warnings = Vec::new();
        let parsed = parse_requires_python(Some(text), filename, &mut warnings);
        for warning in warnings {
            sink.warning(warning);
        }
        if self.parsed.len() < Self::CAPACITY {
            self.parsed.insert(text.to_owned(), parsed.clone());
        }
        parsed
    }
}

/// Parse an optional `requires-python` value, noting (not failing on) an invalid one.
pub(crate) fn parse_requires_python(
    text: Option<&str>,
    filename: &str,
    warnings: &mut Vec<String>,
) -> Option<VersionSpecifiers> {
    let text = text?.trim();
    if text.is_empty() {
        return None;
    }
    match VersionSpecifiers::from_str(text) {
        Ok(spec) => Some(spec),
        Err(error) => {
            // pip ignores an invalid Requires-Python too: the file stays a candidate.
            warnings.push(format!(
                "Ignored the invalid requires-python `{text}` of `{filename}`: {error}"
            ));
            None
        }
    }
}

/// PEP 629: a client must refuse a major version it does not know; a newer minor is fine.
pub(crate) fn check_api_version(
    version: &str,
    page_url: &Url,
    name: &str,
) -> Result<(), PypiError> {
    let major = version.trim().split('.').next().unwrap_or("");
    if major == "1" {
        Ok(())
    } else {
        Err(PypiError::UnsupportedApiVersion {
            name: name.to_owned(),
            url: redact::url(page_url),
            version: version.to_owned(),
        })
    }
}

/// Lowercased `algorithm -> digest` pairs, dropping empty ones.
pub(crate) fn clean_hashes<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Hashes {
    pairs
        .into_iter()
        .map(|(algo, hex)| {
            (
                algo.trim().to_ascii_lowercase(),
                hex.trim().to_ascii_lowercase(),
            )
        })
        .filter(|(algo, hex)| !algo.is_empty() && !hex.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str) -> DistFile {
        DistFile::new(
            name.into(),
            Url::parse(&format!("https://files.example/{name}")).unwrap(),
        )
    }

    fn index() -> IndexUrl {
        IndexUrl::new(Url::parse("https://pypi.example/simple").unwrap())
    }

    #[test]
    fn index_urls_drop_credentials_and_get_a_trailing_slash() {
        let url = IndexUrl::new(Url::parse("https://u:p@host/simple?token=x#frag").unwrap());
        assert_eq!(url.as_url().as_str(), "https://host/simple/?token=x");
        assert_eq!(url.to_string(), "https://host/simple/?token=***");
        assert_eq!(
            url.project_url("foo-bar").as_str(),
            "https://host/simple/foo-bar/"
        );
        assert_eq!(index().as_url().as_str(), "https://pypi.example/simple/");
    }

    #[test]
    fn groups_files_into_releases_with_yanks_times_and_requires_python() {
        let mut warnings = Vec::new();
        let mut wheel = file("Foo_Bar-1.0-py3-none-any.whl");
        wheel.hashes = clean_hashes([("SHA256", "AB12"), ("md5", "ff")]);
        wheel.requires_python = parse_requires_python(Some(">=3.8"), "w", &mut warnings);
        wheel.upload_time = Some("2024-02-01T00:00:00Z".parse().unwrap());
        let mut sdist = file("foo.bar-1.0.0.tar.gz");
        sdist.hashes = clean_hashes([("sha256", "cd34")]);
        sdist.requires_python = parse_requires_python(Some(">=3.7"), "s", &mut warnings);
        sdist.upload_time = Some("2024-01-01T00:00:00Z".parse().unwrap());
        let mut old_wheel = file("foo_bar-0.9-py3-none-any.whl");
        old_wheel.yanked = true;
        old_wheel.yanked_reason = Some("broken".into());
        old_wheel.requires_python = parse_requires_python(Some(">=3.9"), "o", &mut warnings);
        let mut old_sdist = file("foo_bar-0.9.tar.gz");
        old_sdist.yanked = true;
        let mut half = file("foo_bar-0.8.tar.gz");
        half.yanked = true;
        let page = Page {
            files: vec![
                wheel,
                sdist,
                old_wheel,
                old_sdist,
                half,
                file("foo_bar-0.8-py3-none-any.whl"),
                file("foo_bar-nightly.tar.gz"),
                file("other-1.0.tar.gz"),
                file("foo_bar-0.1-py2.7.egg"),
            ],
            versions: Some(vec!["0.7".into(), "1.0".into(), "snapshot".into()]),
            api_version: Some("1.1".into()),
            warnings: vec![],
        };
        let project = Project::from_page("Foo.Bar", index(), PageFormat::Json, page);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(project.name, "foo-bar");
        let versions: Vec<String> = project.releases.keys().map(ToString::to_string).collect();
        assert_eq!(versions, ["0.7", "0.8", "0.9", "1.0"]);
        assert_eq!(project.unparsed_versions, ["snapshot", "nightly"]);
        assert_eq!(project.warnings.len(), 1, "{:?}", project.warnings);
        assert!(project.warnings[0].contains("`other-1.0.tar.gz`"));

        let v1 = &project.releases[&Version::from_str("1").unwrap()];
        assert_eq!(v1.files.len(), 2);
        assert!(!v1.yanked);
        assert_eq!(v1.upload_time.unwrap().to_string(), "2024-01-01T00:00:00Z");
        // A tie between `>=3.8` and `>=3.7`: the first file's wins.
        assert_eq!(v1.requires_python.as_ref().unwrap().to_string(), ">=3.8");
        assert!(v1.supports_python(&Version::from_str("3.7").unwrap()));
        assert!(!v1.supports_python(&Version::from_str("3.6").unwrap()));
        assert_eq!(
            project.hashes_for(&Version::from_str("1.0.0").unwrap()),
            ["sha256:ab12", "sha256:cd34"]
        );

        let v09 = &project.releases[&Version::from_str("0.9").unwrap()];
        assert!(v09.yanked);
        assert_eq!(v09.yanked_reason.as_deref(), Some("broken"));
        assert!(!v09.supports_python(&Version::from_str("3.12").unwrap()));
        let v08 = &project.releases[&Version::from_str("0.8").unwrap()];
        assert!(!v08.yanked && v08.yanked_reason.is_none());
        assert_eq!(v08.files_without_sha256().len(), 2);
        let v07 = &project.releases[&Version::from_str("0.7").unwrap()];
        assert!(v07.files.is_empty() && !v07.yanked && v07.sha256_hashes().is_empty());
        assert!(
            project
                .hashes_for(&Version::from_str("5").unwrap())
                .is_empty()
        );
    }

    #[test]
    fn invalid_requires_python_is_a_warning() {
        let mut warnings = Vec::new();
        assert!(parse_requires_python(Some(">=3.6.*"), "f.whl", &mut warnings).is_none());
        assert!(parse_requires_python(Some("  "), "f.whl", &mut warnings).is_none());
        assert!(parse_requires_python(None, "f.whl", &mut warnings).is_none());
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].starts_with("Ignored the invalid requires-python `>=3.6.*` of `f.whl`")
        );
    }
}
