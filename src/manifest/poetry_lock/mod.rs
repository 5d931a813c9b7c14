//! `poetry.lock`, read natively (through `toml_edit`, with the span of every value).
//!
//! Poetry's lock is TOML: one `[[package]]` per locked distribution, with its `name`, `version`,
//! `python-versions`, `files` (`{file, hash}`), `[package.dependencies]` and, when it is not
//! from PyPI, a `[package.source]` (`type` `legacy` with the index's `url`, or `git`,
//! `directory`, `file` or `url`); then `[metadata]` with the `lock-version` (`1.1`, `2.0`,
//! `2.1`), the project's `python-versions` and a `content-hash` of the pyproject it was made
//! from.
//!
//! Every package becomes a dependency of the manifest, pinned at its version: one from an index
//! is looked up (on the `legacy` source's URL when it names one), so `check` shows every pin and
//! `audit` judges it; the others are listed with the reason they are not. The file is never
//! edited line by line: its `content-hash` ties it to the pyproject, and only Poetry recomputes
//! it, so its updates are held back with the command that re-locks it.
//!
//! Bounded: the file is read under the repository's file size limit, the TOML parser bounds
//! its own nesting, and one malformed entry is a diagnostic of its own that never stops the
//! others.

#[cfg(test)]
mod tests;

use std::str::FromStr;

use pep440_rs::Version;
use serde::Serialize;
use toml_edit::{Item, TableLike};

use super::python::RequirementOrigin;
use super::toml_text::{span_of, tables_of, text_span};
use super::{Dependency, Manifest, ManifestDetails, ManifestKind, SkipReason};
use crate::text::{Diagnostic, SourceFile, Span};

/// The `lock-version` majors this reader knows (Poetry 1.x writes `1.1`, 2.x `2.0` and `2.1`).
pub const KNOWN_MAJORS: &[u64] = &[1, 2];

/// Whether a file name is `poetry.lock`.
pub fn is_poetry_lock(name: &str) -> bool {
    name == "poetry.lock"
}

/// Where a locked package installs from (`[package.source]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "at")]
pub enum PackageSource {
    /// No source table: PyPI (or the project's default source).
    Default,
    /// `type = "legacy"`: a PEP 503 index, its `url`.
    Index(String),
    /// `type = "git"`.
    Git,
    /// `type = "directory"`, installed normally or (`develop = true`) editable.
    Directory {
        /// Whether it is installed editable.
        editable: bool,
    },
    /// `type = "file"`: a local archive or wheel.
    File,
    /// `type = "url"`: an archive at a URL.
    Url,
}

impl PackageSource {
    /// Why a package from this source is not looked up on an index, `None` for an index's.
    pub fn skip_reason(&self) -> Option<SkipReason> {
        match self {
            PackageSource::Default | PackageSource::Index(_) => None,
            PackageSource::Git => Some(SkipReason::VcsRequirement),
            PackageSource::Directory { editable: true } => Some(SkipReason::Editable),
            PackageSource::Directory { editable: false } | PackageSource::File => {
                Some(SkipReason::LocalPath)
            }
            PackageSource::Url => Some(SkipReason::UrlRequirement),
        }
    }
}

/// A `[[package]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockedPackage {
    /// The normalised name.
    pub name: String,
    /// The version as written.
    pub version: String,
    /// Where it installs from.
    pub source: PackageSource,
    /// How many files it lists, and how many of them carry a hash.
    pub files: (usize, usize),
}

/// Facts about a whole `poetry.lock`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PoetryLockFile {
    /// `[metadata] lock-version`.
    pub lock_version: Option<String>,
    /// `[metadata] python-versions`: the project's Python constraint, in Poetry's syntax.
    pub python_versions: Option<String>,
    /// `[metadata] content-hash`: the hash of the pyproject it was made from (`None` when
    /// missing or empty).
    pub content_hash: Option<String>,
    /// Every `[[package]]` entry that was understood, parallel to [`Manifest::dependencies`].
    pub packages: Vec<LockedPackage>,
}

/// Why a `poetry.lock`'s updates are held back, for people.
pub const RELOCK_ADVICE: &str = "`poetry.lock` is tied to its pyproject by a content hash only Poetry computes, so it is re-locked by Poetry (`poetry update NAME`), never edited line by line";

/// Parse a `poetry.lock`.
pub fn parse(source: SourceFile) -> Manifest {
    let mut parser = Parser {
        source: &source,
        file: PoetryLockFile::default(),
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
        kind: ManifestKind::PoetryLock,
        dependencies,
        diagnostics,
        details: ManifestDetails::PoetryLock(file),
    }
}

struct Parser<'a> {
    source: &'a SourceFile,
    file: PoetryLockFile,
    dependencies: Vec<Dependency>,
    diagnostics: Vec<Diagnostic>,
}

impl Parser<'_> {
    fn run(&mut self) {
        let Some(document) = super::toml_text::parse(self.source, &mut self.diagnostics) else {
            return;
        };
        let root = document.as_table();
        match root.get("metadata").and_then(Item::as_table_like) {
            Some(metadata) => {
                self.file.python_versions = metadata
                    .get("python-versions")
                    .and_then(Item::as_str)
                    .map(str::to_owned);
                self.file.content_hash = metadata
                    .get("content-hash")
                    .and_then(Item::as_str)
                    .filter(|hash| !hash.is_empty())
                    .map(str::to_owned);
                if let Some(item) = metadata.get("lock-version") {
                    let version = item.as_str().unwrap_or_default().to_owned();
                    let major = version.split('.').next().and_then(|m| m.parse().ok());
                    if !major.is_some_and(|m| KNOWN_MAJORS.contains(&m)) {
                        self.diagnostics.push(
                            Diagnostic::warning(
                                self.source,
                                span_of(self.source, item),
                                format!(
                                    "`poetry.lock` lock-version {version} is not one repin knows"
                                ),
                            )
                            .with_hint(
                                "repin reads lock-version 1.1, 2.0 and 2.1 (Poetry 1.x and 2.x)",
                            ),
                        );
                    }
                    self.file.lock_version = Some(version);
                }
            }
            None => self.diagnostics.push(Diagnostic::error(
                self.source,
                Span::empty(0),
                "Not a `poetry.lock`: it has no `[metadata]`",
            )),
        }
        let packages = match root.get("package") {
            None => Vec::new(),
            Some(item @ Item::ArrayOfTables(_)) => tables_of(Some(item)),
            Some(item) => {
                let span = span_of(self.source, item);
                self.diagnostics.push(Diagnostic::error(
                    self.source,
                    span,
                    "Expected `package` to be an array of tables",
                ));
                Vec::new()
            }
        };
        // Poetry 1.x lists the files of every package under `[metadata.files]`, keyed by its
        // name; 2.x moved them into each `[[package]]` as `files`.
        let metadata_files = root
            .get("metadata")
            .and_then(Item::as_table_like)
            .and_then(|m| m.get("files"))
            .and_then(Item::as_table_like);
        for table in packages {
            match self.package(table, metadata_files) {
                Ok((package, dependency)) => {
                    self.file.packages.push(package);
                    self.dependencies.push(dependency);
                }
                Err((span, message)) => {
                    self.diagnostics
                        .push(Diagnostic::error(self.source, span, message));
                }
            }
        }
    }

    /// One `[[package]]` entry: the package and its dependency, or where and why it is not one.
    /// `metadata_files` is a 1.x lock's `[metadata.files]`, where the entry's files are when it
    /// has no `files` of its own.
    fn package(
        &self,
        table: &dyn TableLike,
        metadata_files: Option<&dyn TableLike>,
    ) -> Result<(LockedPackage, Dependency), (Span, String)> {
        let (written, name, name_span) = super::locked::name_of(self.source, table, "[[package]]")?;
        let version_item = table
            .get("version")
            .ok_or_else(|| (name_span, format!("`{name}` has no `version`")))?;
        let text = version_item.as_str().ok_or_else(|| {
            (
                span_of(self.source, version_item),
                format!("Expected the version of `{name}` to be a string"),
            )
        })?;
        let (version_span, verbatim) = text_span(self.source, version_item, text);
        let parsed = Version::from_str(text).map_err(|error| {
            (
                version_span,
                format!("The version of `{name}` is not a PEP 440 version: {error}"),
            )
        })?;
        let source = self.source_of(table, &name)?;
        let mut skip = source.skip_reason();
        if !verbatim && skip.is_none() {
            skip = Some(SkipReason::EscapedString);
        }
        let files = tables_of(table.get("files").or_else(|| {
            let listed = metadata_files?;
            listed.get(written).or_else(|| {
                listed
                    .iter()
                    .find(|(key, _)| crate::vocab::normalize_name(key) == name)
                    .map(|(_, item)| item)
            })
        }));
        let hashed = files
            .iter()
            .filter(|t| {
                t.get("hash")
                    .and_then(Item::as_str)
                    .is_some_and(|h| !h.is_empty())
            })
            .count();
        let package = LockedPackage {
            name: name.clone(),
            version: text.to_owned(),
            source: source.clone(),
            files: (files.len(), hashed),
        };
        let dependency = super::locked::dependency(
            self.source,
            super::locked::Entry {
                written,
                name_span,
                version: Some((text, parsed)),
                version_span: Some(version_span),
                verbatim,
                skip,
                index_url: match &source {
                    PackageSource::Index(url) => Some(url.clone()),
                    _ => None,
                },
                editable: source == PackageSource::Directory { editable: true },
                origin: RequirementOrigin::PoetryLock,
            },
        );
        Ok((package, dependency))
    }

    /// The entry's `[package.source]`, or where and why it is not one Poetry writes.
    fn source_of(
        &self,
        table: &dyn TableLike,
        name: &str,
    ) -> Result<PackageSource, (Span, String)> {
        let Some(item) = table.get("source") else {
            return Ok(PackageSource::Default);
        };
        let span = span_of(self.source, item);
        let source = item.as_table_like().ok_or_else(|| {
            (
                span,
                format!("Expected the source of `{name}` to be a table"),
            )
        })?;
        let kind = source
            .get("type")
            .and_then(Item::as_str)
            .unwrap_or_default();
        let url = source.get("url").and_then(Item::as_str);
        Ok(match (kind, url) {
            ("legacy", Some(url)) => PackageSource::Index(url.to_owned()),
            ("git", _) => PackageSource::Git,
            ("directory", _) => PackageSource::Directory {
                editable: table
                    .get("develop")
                    .and_then(Item::as_bool)
                    .unwrap_or(false),
            },
            ("file", _) => PackageSource::File,
            ("url", _) => PackageSource::Url,
            _ => {
                return Err((
                    span,
                    format!(
                        "The source of `{name}` is not one repin knows (Poetry's are `legacy` with a `url`, `git`, `directory`, `file` and `url`)"
                    ),
                ));
            }
        })
    }
}
