//! `uv.lock`, read natively (through `toml_edit`, with the span of every value).
//!
//! uv's lock is TOML: `version` (1), `revision`, `requires-python`, `resolution-markers` (the
//! forks of a universal resolution), `[options]`, `[manifest]` (workspace members, constraints,
//! overrides) and one `[[package]]` per locked distribution, with its `name`, `version`,
//! `source` (`registry`, `git`, `path`, `directory`, `editable`, `virtual` or `url`),
//! `dependencies`, `optional-dependencies`, `dev-dependencies`, and its files (`sdist`,
//! `wheels`, each with `url`, `hash` and `size`).
//!
//! Every package becomes a dependency of the manifest, pinned at its version: a package from a
//! registry is looked up (so `check` shows every transitive pin and `audit` judges it), the
//! others are listed with the reason they are not. The file is never edited line by line: its
//! format carries uv's resolution (forks, markers, hashes of every file), so an update of it is
//! a re-lock made by uv itself (see `lookup::uv_lock`), read back and verified here.
//!
//! Bounded: the file is read under the repository's file size limit, the TOML parser bounds
//! its own nesting, and one malformed `[[package]]` entry is a diagnostic of its own that never
//! stops the others.

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::str::FromStr;

use pep440_rs::Version;
use serde::Serialize;
use toml_edit::{Item, TableLike};

use super::python::RequirementOrigin;
use super::toml_text::{self, strings, tables_of};
use super::{Dependency, Manifest, ManifestDetails, ManifestKind, SkipReason};
use crate::text::{Diagnostic, SourceFile, Span};
use crate::vocab::normalize_name;

/// The lock format versions this reader knows (uv writes `version = 1`).
pub const KNOWN_VERSIONS: &[i64] = &[1];

/// Whether a file name is `uv.lock`.
pub fn is_uv_lock(name: &str) -> bool {
    name == "uv.lock"
}

/// Where uv installs a locked package from (`source = { … }`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "at")]
pub enum PackageSource {
    /// `{ registry = "https://pypi.org/simple" }`: an index (its URL as written).
    Registry(String),
    /// `{ git = "https://…?rev=…#sha" }`.
    Git(String),
    /// `{ path = "…" }`: a local archive or wheel.
    Path(String),
    /// `{ directory = "…" }`: a local source tree, installed normally.
    Directory(String),
    /// `{ editable = "…" }`: a local source tree, installed editable (the project itself).
    Editable(String),
    /// `{ virtual = "…" }`: a project that is not installed (a virtual root or member).
    Virtual(String),
    /// `{ url = "…" }`: a direct URL to an archive.
    Url(String),
}

impl PackageSource {
    /// Why a package from this source is not looked up on an index, `None` for a registry.
    pub fn skip_reason(&self) -> Option<SkipReason> {
        match self {
            PackageSource::Registry(_) => None,
            PackageSource::Git(_) => Some(SkipReason::VcsRequirement),
            PackageSource::Path(_) | PackageSource::Directory(_) => Some(SkipReason::LocalPath),
            PackageSource::Editable(_) => Some(SkipReason::Editable),
            PackageSource::Virtual(_) => Some(SkipReason::WorkspaceMember),
            PackageSource::Url(_) => Some(SkipReason::UrlRequirement),
        }
    }

    /// The source's key in the file (`registry`, `git`, …).
    pub fn key(&self) -> &'static str {
        match self {
            PackageSource::Registry(_) => "registry",
            PackageSource::Git(_) => "git",
            PackageSource::Path(_) => "path",
            PackageSource::Directory(_) => "directory",
            PackageSource::Editable(_) => "editable",
            PackageSource::Virtual(_) => "virtual",
            PackageSource::Url(_) => "url",
        }
    }

    /// What it points at, as written.
    pub fn location(&self) -> &str {
        match self {
            PackageSource::Registry(s)
            | PackageSource::Git(s)
            | PackageSource::Path(s)
            | PackageSource::Directory(s)
            | PackageSource::Editable(s)
            | PackageSource::Virtual(s)
            | PackageSource::Url(s) => s,
        }
    }
}

/// One file of a locked package (its `sdist`, or one of its `wheels`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockedFile {
    /// Whether it is the source distribution.
    pub sdist: bool,
    /// Its `url` (registry and URL sources), or its `path` (local ones).
    pub location: Option<String>,
    /// `algorithm:digest`.
    pub hash: Option<String>,
    /// Its size in bytes.
    pub size: Option<u64>,
}

/// A `[[package]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockedPackage {
    /// The normalised name.
    pub name: String,
    /// The version as written (a package with a dynamic version has none).
    pub version: Option<String>,
    /// Where it comes from (`None` when the entry has no source uv would accept).
    pub source: Option<PackageSource>,
    /// The names of the packages it depends on (normalised; a name may repeat, once per
    /// marker or version of a fork).
    pub dependencies: Vec<String>,
    /// `[package.optional-dependencies]`: the names each extra adds.
    pub optional_dependencies: BTreeMap<String, Vec<String>>,
    /// `[package.dev-dependencies]`: the names each dependency group adds.
    pub dev_dependencies: BTreeMap<String, Vec<String>>,
    /// Its sdist and wheels.
    pub files: Vec<LockedFile>,
}

/// Facts about a whole `uv.lock`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UvLockFile {
    /// `version`: the lock format's version.
    pub version: Option<i64>,
    /// `revision`: the format's revision within the version.
    pub revision: Option<i64>,
    /// `requires-python`.
    pub requires_python: Option<String>,
    /// `resolution-markers`: the forks of the universal resolution.
    pub resolution_markers: Vec<String>,
    /// `[manifest] members`: the workspace's members (empty for a single project).
    pub members: Vec<String>,
    /// Every `[[package]]` entry that was understood, parallel to [`Manifest::dependencies`].
    pub packages: Vec<LockedPackage>,
}

impl UvLockFile {
    /// The registry most packages come from: the default index the lock was made with.
    pub fn main_registry(&self) -> Option<&str> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for package in &self.packages {
            if let Some(PackageSource::Registry(url)) = &package.source {
                *counts.entry(url.as_str()).or_default() += 1;
            }
        }
        counts
            .into_iter()
            .max_by_key(|(url, n)| (*n, std::cmp::Reverse(*url)))
            .map(|(url, _)| url)
    }

    /// Every `(name, version)` the lock pins, sorted (what a re-lock must read back as).
    pub fn pins(&self) -> Vec<(String, String)> {
        let mut pins: Vec<(String, String)> = self
            .packages
            .iter()
            .map(|p| (p.name.clone(), p.version.clone().unwrap_or_default()))
            .collect();
        pins.sort();
        pins
    }
}

/// Parse a `uv.lock`.
pub fn parse(source: SourceFile) -> Manifest {
    let mut parser = Parser {
        source: &source,
        file: UvLockFile::default(),
        dependencies: Vec::new(),
        diagnostics: Vec::new(),
    };
    parser.run();
    let Parser {
        file,
        dependencies,
        diagnostics,
        ..
    } = parser;
    Manifest {
        source: source.clone(),
        kind: ManifestKind::UvLock,
        dependencies,
        diagnostics,
        details: ManifestDetails::UvLock(file),
    }
}

struct Parser<'a> {
    source: &'a SourceFile,
    file: UvLockFile,
    dependencies: Vec<Dependency>,
    diagnostics: Vec<Diagnostic>,
}

/// A `[[package]]` entry's problem: what to say, and where.
struct EntryError {
    span: Span,
    message: String,
}

impl Parser<'_> {
    fn run(&mut self) {
        let Some(document) = super::toml_text::parse(self.source, &mut self.diagnostics) else {
            return;
        };
        let root = document.as_table();
        match root.get("version") {
            Some(item) => match item.as_integer() {
                Some(version) => {
                    self.file.version = Some(version);
                    if !KNOWN_VERSIONS.contains(&version) {
                        self.diagnostics.push(
                            Diagnostic::warning(
                                self.source,
                                self.span_of(item),
                                format!(
                                    "`uv.lock` format version {version} is not one repin knows"
                                ),
                            )
                            .with_hint("repin reads version 1, which uv 0.4 and later write"),
                        );
                    }
                }
                None => self.error(item, "Expected `version` to be an integer".into()),
            },
            None => self.diagnostics.push(Diagnostic::error(
                self.source,
                Span::empty(0),
                "Not a `uv.lock`: it has no `version`",
            )),
        }
        self.file.revision = root.get("revision").and_then(Item::as_integer);
        if let Some(item) = root.get("requires-python") {
            match item.as_str() {
                Some(s) => self.file.requires_python = Some(s.to_owned()),
                None => self.error(item, "Expected `requires-python` to be a string".into()),
            }
        }
        self.file.resolution_markers = strings(root.get("resolution-markers"));
        if let Some(manifest) = root.get("manifest").and_then(Item::as_table_like) {
            self.file.members = strings(manifest.get("members"))
                .iter()
                .map(|m| normalize_name(m))
                .collect();
        }
        let packages: Vec<&dyn TableLike> = match root.get("package") {
            None => Vec::new(),
            Some(Item::ArrayOfTables(tables)) => {
                tables.iter().map(|t| t as &dyn TableLike).collect()
            }
            Some(item) => {
                self.error(item, "Expected `package` to be an array of tables".into());
                Vec::new()
            }
        };
        for table in packages {
            match self.package(table) {
                Ok((package, dependency)) => {
                    self.file.packages.push(package);
                    self.dependencies.push(dependency);
                }
                Err(error) => {
                    self.diagnostics.push(Diagnostic::error(
                        self.source,
                        error.span,
                        error.message,
                    ));
                }
            }
        }
    }

    fn span_of(&self, item: &Item) -> Span {
        toml_text::span_of(self.source, item)
    }

    fn error(&mut self, item: &Item, message: String) {
        let span = self.span_of(item);
        self.diagnostics
            .push(Diagnostic::error(self.source, span, message));
    }

    fn text_span(&self, item: &Item, text: &str) -> (Span, bool) {
        toml_text::text_span(self.source, item, text)
    }

    /// One `[[package]]` entry: the package and its dependency, or why it is not one.
    fn package(&self, table: &dyn TableLike) -> Result<(LockedPackage, Dependency), EntryError> {
        let fail = |span: Span, message: String| EntryError { span, message };
        let (written, name, name_span) = super::locked::name_of(self.source, table, "[[package]]")
            .map_err(|(span, message)| fail(span, message))?;
        let source = match table.get("source") {
            None => None,
            Some(item) => Some(self.source_of(item).ok_or_else(|| {
                fail(
                    self.span_of(item),
                    format!(
                        "The source of `{name}` is not one repin knows (uv's are `registry`, `git`, `path`, `directory`, `editable`, `virtual` and `url`)"
                    ),
                )
            })?),
        };
        let (version, version_span, verbatim) = match table.get("version") {
            None => (None, None, false),
            Some(item) => {
                let text = item.as_str().ok_or_else(|| {
                    fail(
                        self.span_of(item),
                        format!("Expected the version of `{name}` to be a string"),
                    )
                })?;
                let (span, verbatim) = self.text_span(item, text);
                (Some(text.to_owned()), Some(span), verbatim)
            }
        };
        let parsed = version.as_deref().map(Version::from_str);
        if let (Some(Err(error)), Some(span)) = (&parsed, version_span) {
            return Err(fail(
                span,
                format!("The version of `{name}` is not a PEP 440 version: {error}"),
            ));
        }
        let mut skip = source.as_ref().and_then(PackageSource::skip_reason);
        if skip.is_none() {
            match (&source, &version) {
                // A registry package without a version cannot be installed from the lock.
                (Some(PackageSource::Registry(_)), None) => {
                    return Err(fail(
                        name_span,
                        format!("`{name}` comes from a registry but has no `version`"),
                    ));
                }
                (None, _) => {
                    return Err(fail(name_span, format!("`{name}` has no `source`")));
                }
                _ => {}
            }
        }
        if !verbatim && skip.is_none() {
            skip = Some(SkipReason::EscapedString);
        }
        let files = self.files(table);
        let package = LockedPackage {
            name: name.clone(),
            version: version.clone(),
            source: source.clone(),
            dependencies: dependency_names(table.get("dependencies")),
            optional_dependencies: grouped_names(table.get("optional-dependencies")),
            dev_dependencies: grouped_names(table.get("dev-dependencies")),
            files,
        };
        let dependency = super::locked::dependency(
            self.source,
            super::locked::Entry {
                written,
                name_span,
                version: version.as_deref().zip(parsed.and_then(Result::ok)),
                version_span,
                verbatim,
                skip,
                index_url: match &source {
                    Some(PackageSource::Registry(url)) => Some(url.clone()),
                    _ => None,
                },
                editable: matches!(source, Some(PackageSource::Editable(_))),
                origin: RequirementOrigin::UvLock,
            },
        );
        Ok((package, dependency))
    }

    /// The package's `source`, when it is one uv writes.
    fn source_of(&self, item: &Item) -> Option<PackageSource> {
        let table = item.as_table_like()?;
        let (key, value) = table.iter().next()?;
        let location = value.as_str()?.to_owned();
        Some(match key {
            "registry" => PackageSource::Registry(location),
            "git" => PackageSource::Git(location),
            "path" => PackageSource::Path(location),
            "directory" => PackageSource::Directory(location),
            "editable" => PackageSource::Editable(location),
            "virtual" => PackageSource::Virtual(location),
            "url" => PackageSource::Url(location),
            _ => return None,
        })
    }

    /// The package's `sdist` and `wheels`.
    fn files(&self, table: &dyn TableLike) -> Vec<LockedFile> {
        let file = |t: &dyn TableLike, sdist: bool| LockedFile {
            sdist,
            location: t
                .get("url")
                .or_else(|| t.get("path"))
                .and_then(Item::as_str)
                .map(str::to_owned),
            hash: t.get("hash").and_then(Item::as_str).map(str::to_owned),
            size: t
                .get("size")
                .and_then(Item::as_integer)
                .and_then(|s| u64::try_from(s).ok()),
        };
        let mut files = Vec::new();
        if let Some(sdist) = table.get("sdist").and_then(Item::as_table_like) {
            files.push(file(sdist, true));
        }
        for wheel in tables_of(table.get("wheels")) {
            files.push(file(wheel, false));
        }
        files
    }
}

/// The normalised `name`s of a list of `{ name = … }` tables.
fn dependency_names(item: Option<&Item>) -> Vec<String> {
    tables_of(item)
        .into_iter()
        .filter_map(|t| t.get("name").and_then(Item::as_str).map(normalize_name))
        .collect()
}

/// `{ extra = [ { name = … }, … ] }` tables: the names by extra or group.
fn grouped_names(item: Option<&Item>) -> BTreeMap<String, Vec<String>> {
    item.and_then(Item::as_table_like)
        .map(|t| {
            t.iter()
                .map(|(key, value)| (key.to_owned(), dependency_names(Some(value))))
                .collect()
        })
        .unwrap_or_default()
}
