//! `pylock.toml` (PEP 751), read natively (through `toml_edit`, with the span of every value).
//!
//! A `pylock.toml` (or `pylock.NAME.toml`) records an installation: `lock-version` (`1.0`),
//! `created-by` (the tool that wrote it), `requires-python`, `environments`, and one
//! `[[packages]]` entry per distribution, with its `name`, `version`, `index`, `marker`,
//! `requires-python`, and where it installs from: an `sdist` and `wheels` (from an index), or a
//! `vcs`, `directory` or `archive`.
//!
//! Every package becomes a dependency of the manifest, pinned at its version: one from an index
//! is looked up (on its `index` when the entry names one), so `check` shows every pin and
//! `audit` judges it; the others are listed with the reason they are not. The file is never
//! edited line by line: it records one resolution with every file's hash, so its updates are
//! held back with the tool that re-locks it (its `created-by`).
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
use super::toml_text::{span_of, strings, tables_of, text_span};
use super::{Dependency, Manifest, ManifestDetails, ManifestKind, SkipReason};
use crate::text::{Diagnostic, SourceFile, Span};

/// The major `lock-version` this reader knows (PEP 751: a reader must refuse another major).
pub const KNOWN_MAJOR: u64 = 1;

/// Whether a file name is a PEP 751 lock: `pylock.toml`, or `pylock.NAME.toml` with no dot in
/// `NAME`.
pub fn is_pylock(name: &str) -> bool {
    name == "pylock.toml"
        || name
            .strip_prefix("pylock.")
            .and_then(|rest| rest.strip_suffix(".toml"))
            .is_some_and(|middle| !middle.is_empty() && !middle.contains('.'))
}

/// Where a locked package installs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PackageSource {
    /// An `sdist` or `wheels`: files of an index.
    Index,
    /// A `vcs` checkout.
    Vcs,
    /// A local `directory`, installed normally.
    Directory,
    /// A local `directory` installed editable.
    Editable,
    /// An `archive` at a URL.
    ArchiveUrl,
    /// An `archive` at a local path.
    ArchivePath,
}

impl PackageSource {
    /// Why a package from this source is not looked up on an index, `None` for an index's.
    pub fn skip_reason(self) -> Option<SkipReason> {
        match self {
            PackageSource::Index => None,
            PackageSource::Vcs => Some(SkipReason::VcsRequirement),
            PackageSource::Directory | PackageSource::ArchivePath => Some(SkipReason::LocalPath),
            PackageSource::Editable => Some(SkipReason::Editable),
            PackageSource::ArchiveUrl => Some(SkipReason::UrlRequirement),
        }
    }
}

/// A `[[packages]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockedPackage {
    /// The normalised name.
    pub name: String,
    /// The version as written (an entry may have none, for a source tree).
    pub version: Option<String>,
    /// Where it installs from (`None`: the entry names no source).
    pub source: Option<PackageSource>,
    /// The index it comes from (`index`), when the entry names one.
    pub index: Option<String>,
    /// Its `marker`, as written.
    pub marker: Option<String>,
    /// How many files (sdist and wheels) it lists, and how many of them carry a hash.
    pub files: (usize, usize),
}

/// Facts about a whole `pylock.toml`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PylockFile {
    /// `lock-version`, as written.
    pub lock_version: Option<String>,
    /// `created-by`: the tool that wrote it (and re-locks it).
    pub created_by: Option<String>,
    /// `requires-python`.
    pub requires_python: Option<String>,
    /// `environments`: the markers of the environments it is good for.
    pub environments: Vec<String>,
    /// Every `[[packages]]` entry that was understood, parallel to [`Manifest::dependencies`].
    pub packages: Vec<LockedPackage>,
    /// The header of its leading comment lines, when a tool wrote one there (`repin lock`
    /// does, naming the command that re-creates the file, as uv's `pip compile` does).
    pub header: Option<crate::manifest::requirements::LockHeader>,
}

impl PylockFile {
    /// Whether repin wrote it (`created-by = "repin"` and repin's header): then repin
    /// re-locks it itself, from the input its header names.
    pub fn written_by_repin(&self) -> bool {
        self.created_by.as_deref() == Some("repin")
            && self
                .header
                .as_ref()
                .is_some_and(|h| h.tool == crate::manifest::requirements::LockTool::Repin)
    }

    /// How to re-lock it, for people: from its input when repin wrote it, else with the tool
    /// that wrote it.
    pub fn relock_advice(&self) -> String {
        let how = if self.written_by_repin() {
            let command = self
                .header
                .as_ref()
                .and_then(|h| h.command.as_deref())
                .unwrap_or("repin lock");
            format!("from its input (`{command}`)")
        } else {
            match self.created_by.as_deref() {
                Some(tool) if !tool.is_empty() => {
                    format!("by the tool that wrote it (`{tool}`)")
                }
                _ => "by the tool that wrote it".to_owned(),
            }
        };
        format!(
            "a `pylock.toml` records one resolution with every file's hash, so it is re-locked {how}, never edited line by line"
        )
    }
}

/// Parse a `pylock.toml`.
pub fn parse(source: SourceFile) -> Manifest {
    let mut parser = Parser {
        source: &source,
        file: PylockFile::default(),
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
        kind: ManifestKind::Pylock,
        dependencies,
        diagnostics,
        details: ManifestDetails::Pylock(file),
    }
}

struct Parser<'a> {
    source: &'a SourceFile,
    file: PylockFile,
    dependencies: Vec<Dependency>,
    diagnostics: Vec<Diagnostic>,
}

impl Parser<'_> {
    fn run(&mut self) {
        let Some(document) = super::toml_text::parse(self.source, &mut self.diagnostics) else {
            return;
        };
        let root = document.as_table();
        match root.get("lock-version") {
            Some(item) => match item.as_str() {
                Some(version) => {
                    self.file.lock_version = Some(version.to_owned());
                    let major = version
                        .split('.')
                        .next()
                        .and_then(|m| m.parse::<u64>().ok());
                    if major != Some(KNOWN_MAJOR) {
                        // PEP 751: a reader refuses a lock version whose major it does not know.
                        self.diagnostics.push(
                            Diagnostic::error(
                                self.source,
                                span_of(self.source, item),
                                format!(
                                    "`pylock.toml` lock-version {version} is not one repin reads"
                                ),
                            )
                            .with_hint("repin reads lock-version 1.x (PEP 751)"),
                        );
                        return;
                    }
                }
                None => {
                    self.error(item, "Expected `lock-version` to be a string".into());
                    return;
                }
            },
            None => {
                self.diagnostics.push(Diagnostic::error(
                    self.source,
                    Span::empty(0),
                    "Not a `pylock.toml`: it has no `lock-version`",
                ));
                return;
            }
        }
        self.file.header = crate::manifest::requirements::lock::header_of(self.source.text());
        self.file.created_by = root
            .get("created-by")
            .and_then(Item::as_str)
            .map(str::to_owned);
        self.file.requires_python = root
            .get("requires-python")
            .and_then(Item::as_str)
            .map(str::to_owned);
        self.file.environments = strings(root.get("environments"));
        let packages = match root.get("packages") {
            None => Vec::new(),
            Some(item @ (Item::ArrayOfTables(_) | Item::Value(toml_edit::Value::Array(_)))) => {
                tables_of(Some(item))
            }
            Some(item) => {
                self.error(item, "Expected `packages` to be an array of tables".into());
                Vec::new()
            }
        };
        for table in packages {
            match self.package(table) {
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

    fn error(&mut self, item: &Item, message: String) {
        let span = span_of(self.source, item);
        self.diagnostics
            .push(Diagnostic::error(self.source, span, message));
    }

    /// One `[[packages]]` entry: the package and its dependency, or where and why it is not one.
    fn package(
        &self,
        table: &dyn TableLike,
    ) -> Result<(LockedPackage, Dependency), (Span, String)> {
        let (written, name, name_span) =
            super::locked::name_of(self.source, table, "[[packages]]")?;
        let source = self.source_of(table);
        let (version, version_span, verbatim) = match table.get("version") {
            None => (None, None, false),
            Some(item) => {
                let text = item.as_str().ok_or_else(|| {
                    (
                        span_of(self.source, item),
                        format!("Expected the version of `{name}` to be a string"),
                    )
                })?;
                let (span, verbatim) = text_span(self.source, item, text);
                (Some(text.to_owned()), Some(span), verbatim)
            }
        };
        let parsed = version.as_deref().map(Version::from_str);
        if let (Some(Err(error)), Some(span)) = (&parsed, version_span) {
            return Err((
                span,
                format!("The version of `{name}` is not a PEP 440 version: {error}"),
            ));
        }
        let mut skip = source.and_then(PackageSource::skip_reason);
        if skip.is_none() {
            match (source, &version) {
                (Some(PackageSource::Index), None) => {
                    return Err((
                        name_span,
                        format!("`{name}` installs from an index's files but has no `version`"),
                    ));
                }
                (None, _) => {
                    return Err((
                        name_span,
                        format!(
                            "`{name}` names nothing to install from (`wheels`, `sdist`, `vcs`, `directory` or `archive`)"
                        ),
                    ));
                }
                _ => {}
            }
        }
        if !verbatim && skip.is_none() {
            skip = Some(SkipReason::EscapedString);
        }
        let index_url = table.get("index").and_then(Item::as_str).map(str::to_owned);
        let package = LockedPackage {
            name: name.clone(),
            version: version.clone(),
            source,
            index: index_url.clone(),
            marker: table
                .get("marker")
                .and_then(Item::as_str)
                .map(str::to_owned),
            files: self.files(table),
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
                index_url,
                editable: source == Some(PackageSource::Editable),
                origin: RequirementOrigin::Pylock,
            },
        );
        Ok((package, dependency))
    }

    /// Where the entry installs from: its `vcs`, `directory` or `archive`, else its files.
    fn source_of(&self, table: &dyn TableLike) -> Option<PackageSource> {
        if table.contains_key("vcs") {
            return Some(PackageSource::Vcs);
        }
        if let Some(directory) = table.get("directory") {
            let editable = directory
                .as_table_like()
                .and_then(|d| d.get("editable"))
                .and_then(Item::as_bool)
                .unwrap_or(false);
            return Some(if editable {
                PackageSource::Editable
            } else {
                PackageSource::Directory
            });
        }
        if let Some(archive) = table.get("archive").and_then(Item::as_table_like) {
            return Some(if archive.contains_key("url") {
                PackageSource::ArchiveUrl
            } else {
                PackageSource::ArchivePath
            });
        }
        (table.contains_key("sdist") || table.contains_key("wheels"))
            .then_some(PackageSource::Index)
    }

    /// How many files the entry lists (sdist and wheels), and how many carry a hash.
    fn files(&self, table: &dyn TableLike) -> (usize, usize) {
        let hashed = |t: &dyn TableLike| {
            t.get("hashes")
                .and_then(Item::as_table_like)
                .is_some_and(|h| !h.is_empty())
        };
        let mut files: Vec<&dyn TableLike> = tables_of(table.get("wheels"));
        if let Some(sdist) = table.get("sdist").and_then(Item::as_table_like) {
            files.push(sdist);
        }
        let with_hash = files.iter().filter(|t| hashed(**t)).count();
        (files.len(), with_hash)
    }
}
