//! `Pipfile` (Pipenv's manifest), read through `toml_edit` with the span of every value.
//!
//! Every table of the file but `[[source]]`, `[requires]`, `[pipenv]` and `[scripts]` is a
//! category of packages: `[packages]`, `[dev-packages]` and any custom one (`[docs]`). A
//! package's value is a version specifier string (`"*"`: any version, `"==1.2"`,
//! `">=1.0,<2"`) or a table with `version`, `extras`, `markers` and `index`; a table with
//! `git` (or `hg`, `svn`, `bzr`), `path` or `file`, or `editable = true`, is listed and skipped
//! with its reason. The specifier string is scanned at its place in the file, so an update is
//! a splice between its quotes, verified by reading the whole file again; `"*"` is unpinned by
//! intent, like a bare name in a requirements file, and is never changed.
//!
//! `[[source]]` are the indexes: Pipenv installs a package from the first source, or from the
//! source its `index` names, and only from there. `[requires] python_version` (or
//! `python_full_version`) is the file's target Python; `[pipenv] allow_prereleases` admits
//! pre-releases, as pip's `--pre` does.

#[cfg(test)]
mod tests;

use serde::Serialize;
use toml_edit::{Item, TableLike, Value};

use super::python::{self, IndexOptions, RequirementOrigin};
use super::{Dependency, Manifest, ManifestDetails, ManifestKind, SkipReason};
use crate::text::{Diagnostic, SourceFile, Span};
use crate::vocab::normalize_name;

/// The tables of a `Pipfile` that are not categories of packages.
const NOT_CATEGORIES: &[&str] = &["source", "requires", "pipenv", "scripts"];

/// The keys of a package table that install it from version control.
const VCS_KEYS: &[&str] = &["git", "hg", "svn", "bzr"];

/// The environment markers a package table may set as keys of their own
/// (`sys_platform = "== 'linux'"`): those of `packaging`'s default environment, which Pipenv
/// reads so, but `os_name`, which Pipenv passes over.
const MARKER_KEYS: &[&str] = &[
    "implementation_name",
    "implementation_version",
    "platform_machine",
    "platform_python_implementation",
    "platform_release",
    "platform_system",
    "platform_version",
    "python_full_version",
    "python_version",
    "sys_platform",
];

/// Whether a file name is `Pipfile`.
pub fn is_pipfile(name: &str) -> bool {
    name == "Pipfile"
}

/// A `[[source]]` entry: one index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PipfileSource {
    /// Its `name` (packages refer to it with `index = "…"`).
    pub name: Option<String>,
    /// Its `url`, as written (it may hold `${VAR}` references, which Pipenv expands from the
    /// environment, as repin's index resolver does).
    pub url: String,
    /// `verify_ssl` (`true` when absent).
    pub verify_ssl: bool,
    /// Where the URL is.
    pub span: Span,
}

/// Facts about a whole `Pipfile`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PipfileFile {
    /// The category of each dependency (`packages`, `dev-packages`, …), parallel to
    /// [`Manifest::dependencies`].
    pub categories: Vec<String>,
    /// `[[source]]`, in order (the first is the default index).
    pub sources: Vec<PipfileSource>,
    /// `[requires] python_full_version` or else `python_version`, as written, with the span
    /// of its text.
    pub python: Option<(String, Span)>,
    /// `[pipenv] allow_prereleases`.
    pub allow_prereleases: bool,
}

impl PipfileFile {
    /// The index options Pipenv installs a package with: the source its `index` names, else
    /// the first source (none: repin's configured index). Pipenv searches no other source
    /// unless told to, so neither does repin.
    pub fn index_options(&self, index: Option<&str>, source: &SourceFile) -> IndexOptions {
        let mut options = IndexOptions {
            pre: self.allow_prereleases,
            ..IndexOptions::default()
        };
        let chosen = match index {
            Some(wanted) => self
                .sources
                .iter()
                .find(|s| s.name.as_deref() == Some(wanted)),
            None => self.sources.first(),
        };
        if let Some(chosen) = chosen {
            options.index_url = Some(chosen.url.clone());
            let place = crate::text::place(source.path(), source.position(chosen.span.start));
            options.note_place(&chosen.url, &place);
            if !chosen.verify_ssl {
                if let Some(host) = host_of(&chosen.url) {
                    options.trusted_hosts.push(host.to_owned());
                }
            }
        }
        options
    }
}

/// Why an entry (of a Pipfile or its lock) is not looked up on an index: it names a VCS
/// (`git`, `hg`, `svn`, `bzr`), is editable, or installs from a `path` or a `file` (an
/// archive at a URL, or a local one). `has` says whether the entry has a key.
pub(crate) fn skip_of(
    has: impl Fn(&str) -> bool,
    editable: bool,
    file: Option<&str>,
) -> Option<SkipReason> {
    if VCS_KEYS.iter().any(|k| has(k)) {
        Some(SkipReason::VcsRequirement)
    } else if editable {
        Some(SkipReason::Editable)
    } else if has("path") {
        Some(SkipReason::LocalPath)
    } else {
        file.map(|f| {
            if f.contains("://") && !f.starts_with("file:") {
                SkipReason::UrlRequirement
            } else {
                SkipReason::LocalPath
            }
        })
    }
}

/// The host (with its port) of a URL, for pip's `--trusted-host`.
pub(crate) fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    (!host.is_empty()).then_some(host)
}

/// Parse a `Pipfile`.
pub fn parse(source: SourceFile) -> Manifest {
    let mut parser = Parser {
        source: &source,
        file: PipfileFile::default(),
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
        kind: ManifestKind::Pipfile,
        dependencies,
        diagnostics,
        details: ManifestDetails::Pipfile(file),
    }
}

/// The span of a TOML value or item, clamped to the text.
fn clamp(source: &SourceFile, range: Option<std::ops::Range<usize>>) -> Span {
    let len = source.text().len();
    range.map_or(Span::empty(0), |r| {
        Span::new(r.start.min(len), r.end.min(len))
    })
}

/// Where a string value's text starts, when its bytes between single-line quotes are its text.
fn verbatim_start(source: &SourceFile, span: Span, text: &str) -> Option<usize> {
    let raw = source.slice(span);
    let quoted = raw.len() >= 2
        && (raw.starts_with('"') && raw.ends_with('"')
            || raw.starts_with('\'') && raw.ends_with('\''))
        && !raw.starts_with("\"\"\"")
        && !raw.starts_with("'''");
    (quoted && &raw[1..raw.len() - 1] == text).then_some(span.start + 1)
}

struct Parser<'a> {
    source: &'a SourceFile,
    file: PipfileFile,
    dependencies: Vec<Dependency>,
    diagnostics: Vec<Diagnostic>,
}

/// What one package entry says, before it becomes a dependency.
struct Entry<'t> {
    /// The version value (`"*"`, a specifier), when there is one.
    version: Option<&'t Value>,
    /// `extras`, normalised.
    extras: Vec<String>,
    /// `markers`.
    markers: Option<&'t Value>,
    /// Markers written as keys of their own (`sys_platform = "== 'linux'"`), each as the
    /// marker it stands for (`sys_platform == 'linux'`), with the span of its value.
    shorthand_markers: Vec<(String, Span)>,
    /// `index`: the name of the `[[source]]` it installs from.
    index: Option<String>,
    /// Why it is not looked up (a VCS, path, file or editable entry).
    skip: Option<SkipReason>,
    /// `editable = true`.
    editable: bool,
}

impl Parser<'_> {
    fn run(&mut self) {
        let Some(document) = super::toml_text::parse(self.source, &mut self.diagnostics) else {
            return;
        };
        let root = document.as_table();
        self.sources(root.get("source"));
        if let Some(requires) = root.get("requires").and_then(Item::as_table_like) {
            for key in ["python_full_version", "python_version"] {
                if let Some(item) = requires.get(key) {
                    match item.as_str() {
                        Some(text) => {
                            let span = clamp(self.source, item.span());
                            let span = verbatim_start(self.source, span, text)
                                .map_or(span, |s| Span::new(s, s + text.len()));
                            self.file.python = Some((text.to_owned(), span));
                            break;
                        }
                        None => self.expected(item, &format!("`{key}` to be a string")),
                    }
                }
            }
        }
        if let Some(pipenv) = root.get("pipenv").and_then(Item::as_table_like) {
            self.file.allow_prereleases = pipenv
                .get("allow_prereleases")
                .and_then(Item::as_bool)
                .unwrap_or(false);
        }
        for (key, item) in root.iter() {
            if NOT_CATEGORIES.contains(&key) {
                continue;
            }
            match item.as_table_like() {
                Some(table) => self.category(key, table),
                None => self.expected(item, &format!("`{key}` to be a table of packages")),
            }
        }
    }

    fn expected(&mut self, item: &Item, what: &str) {
        let span = clamp(self.source, item.span());
        self.diagnostics.push(Diagnostic::error(
            self.source,
            span,
            format!("Expected {what}"),
        ));
    }

    /// `[[source]]`: each index's `name`, `url` and `verify_ssl`.
    fn sources(&mut self, item: Option<&Item>) {
        let Some(item) = item else { return };
        let tables = super::toml_text::tables_of(Some(item));
        if tables.is_empty() && !matches!(item, Item::ArrayOfTables(_)) {
            return self.expected(item, "`source` to be an array of tables (`[[source]]`)");
        }
        for table in tables {
            let Some(url_item) = table.get("url") else {
                let span = table
                    .iter()
                    .next()
                    .map_or(Span::empty(0), |(_, i)| clamp(self.source, i.span()));
                self.diagnostics.push(Diagnostic::error(
                    self.source,
                    span,
                    "A `[[source]]` has no `url`",
                ));
                continue;
            };
            let Some(url) = url_item.as_str() else {
                self.expected(url_item, "the source's `url` to be a string");
                continue;
            };
            self.file.sources.push(PipfileSource {
                name: table.get("name").and_then(Item::as_str).map(str::to_owned),
                url: url.to_owned(),
                verify_ssl: table
                    .get("verify_ssl")
                    .and_then(Item::as_bool)
                    .unwrap_or(true),
                span: clamp(self.source, url_item.span()),
            });
        }
    }

    /// One category table: every key is a package.
    fn category(&mut self, category: &str, table: &dyn TableLike) {
        for (key, item) in table.iter() {
            let key_span = table.key(key).and_then(toml_edit::Key::span).map_or_else(
                || clamp(self.source, item.span()),
                |r| clamp(self.source, Some(r)),
            );
            // A quoted key's name is inside its quotes and a bare key's is the key; an escaped
            // one (`"fla\u0073k"`) claims no text, only its place.
            let name_span = verbatim_start(self.source, key_span, key).map_or_else(
                || {
                    if self.source.slice(key_span) == key {
                        key_span
                    } else {
                        Span::empty(key_span.start)
                    }
                },
                |s| Span::new(s, s + key.len()),
            );
            let Some(entry) = self.entry(key, item) else {
                continue;
            };
            self.package(category, key, name_span, item, entry);
        }
    }

    /// What a package's value says, or `None` (with a diagnostic) when it is not one.
    fn entry<'t>(&mut self, key: &str, item: &'t Item) -> Option<Entry<'t>> {
        let mut entry = Entry {
            version: None,
            extras: Vec::new(),
            markers: None,
            shorthand_markers: Vec::new(),
            index: None,
            skip: None,
            editable: false,
        };
        if let Some(value @ Value::String(_)) = item.as_value() {
            entry.version = Some(value);
            return Some(entry);
        }
        let Some(table) = item.as_table_like() else {
            self.expected(
                item,
                &format!("the value of `{key}` to be a version string or a table"),
            );
            return None;
        };
        entry.version = table.get("version").and_then(Item::as_value);
        if entry.version.is_some_and(|v| !v.is_str()) {
            self.expected(
                table.get("version").expect("checked"),
                "`version` to be a string",
            );
            entry.version = None;
        }
        if let Some(extras) = table.get("extras") {
            match extras.as_array() {
                Some(array) => {
                    entry.extras = array
                        .iter()
                        .filter_map(Value::as_str)
                        .map(normalize_name)
                        .collect();
                }
                None => self.expected(extras, "`extras` to be an array of strings"),
            }
        }
        entry.markers = table.get("markers").and_then(Item::as_value);
        for (key, item) in table.iter() {
            if let (true, Some(value)) = (MARKER_KEYS.contains(&key), item.as_str()) {
                let span = clamp(self.source, item.span());
                entry
                    .shorthand_markers
                    .push((format!("{key} {value}"), span));
            }
        }
        entry.index = table.get("index").and_then(Item::as_str).map(str::to_owned);
        entry.editable = table
            .get("editable")
            .and_then(Item::as_bool)
            .unwrap_or(false);
        entry.skip = skip_of(
            |key| table.contains_key(key),
            entry.editable,
            table.get("file").map(|f| f.as_str().unwrap_or_default()),
        );
        Some(entry)
    }

    /// One package: its specifier scanned where it is written.
    fn package(
        &mut self,
        category: &str,
        key: &str,
        name_span: Span,
        item: &Item,
        entry: Entry<'_>,
    ) {
        // The fields no Pipfile entry sets, as a bare name has them; the others are set below.
        let mut requirement = python::scan("a", 0).requirement;
        let mut skip = entry.skip;
        let mut specifier_span = None;
        if let Some(value) = entry.version {
            let text = value.as_str().unwrap_or_default();
            let span = clamp(self.source, value.span());
            let trimmed = text.trim();
            // The stand-in name below needs two bytes before the text: always there (a key,
            // `=` and a quote come first), and checked rather than trusted.
            match verbatim_start(self.source, span, text).filter(|&s| s >= 2) {
                // `"*"` (or nothing): any version, unpinned by intent.
                _ if trimmed.is_empty() || trimmed == "*" => {}
                // A version without an operator (`"1.2.3"`, `"3.*"`): Pipenv installs it as
                // `==` that version, so it is scanned behind an `==` of the stand-in's own
                // (the key, `=` and the quote before it leave room for three bytes).
                Some(start) if start >= 3 && !trimmed.starts_with(['<', '>', '=', '~', '!']) => {
                    let scanned = python::scan(&format!("a=={text}"), start - 3);
                    if let Some(error) = &scanned.error {
                        self.push_error(error, format!("Invalid version specifier `{text}`"));
                        skip = skip.or(Some(SkipReason::Invalid));
                    }
                    skip = skip.or(scanned.skip_reason);
                    // The specifier is what is written, where it is: the `==` is not.
                    let at = start + (text.len() - text.trim_start().len());
                    requirement.specifier = scanned.requirement.specifier.map(|mut s| {
                        s.text = trimmed.to_owned();
                        s.span = Span::new(at, at + trimmed.len());
                        s
                    });
                    requirement.pin = scanned.requirement.pin;
                    specifier_span = Some(span);
                }
                Some(start) => {
                    // A name of one byte and a space before the specifier, so the scanner
                    // reads the specifier at its place in the file (the key, `=` and the
                    // quote before it leave room).
                    let scanned = python::scan(&format!("a {text}"), start - 2);
                    if let Some(error) = &scanned.error {
                        self.push_error(error, format!("Invalid version specifier `{text}`"));
                        skip = skip.or(Some(SkipReason::Invalid));
                    }
                    skip = skip.or(scanned.skip_reason);
                    requirement.specifier = scanned.requirement.specifier;
                    requirement.pin = scanned.requirement.pin;
                    specifier_span = Some(span);
                }
                None => {
                    skip = skip.or(Some(SkipReason::EscapedString));
                    specifier_span = Some(span);
                }
            }
        }
        if let Some(markers) = entry.markers {
            let span = clamp(self.source, markers.span());
            match markers
                .as_str()
                .and_then(|m| Some((m, verbatim_start(self.source, span, m).filter(|&s| s >= 2)?)))
            {
                Some((text, start)) => {
                    let scanned = python::scan(&format!("a;{text}"), start - 2);
                    if let Some(error) = &scanned.error {
                        self.push_error(error, format!("Invalid environment marker `{text}`"));
                        skip = skip.or(Some(SkipReason::Invalid));
                    }
                    requirement.marker = scanned.requirement.marker;
                    requirement.parsed_marker = scanned.requirement.parsed_marker;
                }
                None => self.diagnostics.push(Diagnostic::warning(
                    self.source,
                    span,
                    format!("The markers of `{key}` are not a plain string; repin ignores them"),
                )),
            }
        }
        if !entry.shorthand_markers.is_empty() {
            skip = skip.or(self.shorthand_markers(key, &entry, &mut requirement));
        }
        requirement.written_name = key.to_owned();
        requirement.name_span = name_span;
        requirement.extras = entry.extras;
        requirement.editable = entry.editable;
        requirement.origin = RequirementOrigin::Pipfile;
        requirement.index = self.file.index_options(entry.index.as_deref(), self.source);
        if let Some(wanted) = &entry.index {
            if !self
                .file
                .sources
                .iter()
                .any(|s| s.name.as_deref() == Some(wanted))
            {
                // Pipenv refuses the file, and repin would not know where to look it up.
                self.diagnostics.push(
                    Diagnostic::error(
                        self.source,
                        name_span,
                        format!(
                            "`{key}` names the index `{wanted}`, which no `[[source]]` defines"
                        ),
                    )
                    .with_hint("add a `[[source]]` with this `name` and its `url`"),
                );
                skip = skip.or(Some(SkipReason::Invalid));
            }
        }
        let item_span = clamp(self.source, item.span());
        requirement.entry_span = Span::new(name_span.start, item_span.end.max(name_span.end));
        if !python::is_valid_name(key) {
            self.diagnostics.push(Diagnostic::error(
                self.source,
                name_span,
                format!("Invalid package name `{key}`"),
            ));
            skip = Some(SkipReason::Invalid);
        }
        let mut dependency = Dependency::from_python(requirement, skip);
        if skip == Some(SkipReason::EscapedString) {
            if let Some(span) = specifier_span {
                dependency.span = span;
                self.source.slice(span).clone_into(&mut dependency.current);
            }
        }
        self.dependencies.push(dependency);
        self.file.categories.push(category.to_owned());
    }

    /// Joins the markers written as keys of their own to the entry's `markers`, as Pipenv
    /// does (each part once, sorted, joined by `and`), so the requirement holds the marker
    /// Pipenv installs it with. The joined text is written nowhere: its span is empty, at the
    /// first key's value. `Some(Invalid)` (with a diagnostic) when it does not parse.
    fn shorthand_markers(
        &mut self,
        key: &str,
        entry: &Entry<'_>,
        requirement: &mut python::PythonRequirement,
    ) -> Option<SkipReason> {
        let mut parts: Vec<&str> = entry
            .shorthand_markers
            .iter()
            .map(|(m, _)| m.as_str())
            .collect();
        if let Some((written, _)) = &requirement.marker {
            parts.push(written);
        }
        parts.sort_unstable();
        parts.dedup();
        let text = parts.join(" and ");
        let first = entry.shorthand_markers[0].1;
        requirement.parsed_marker = python::parse_marker(&text);
        let invalid = requirement.parsed_marker.is_none();
        if invalid {
            self.diagnostics.push(Diagnostic::error(
                self.source,
                first,
                format!("Invalid environment marker `{text}` of `{key}`"),
            ));
        }
        requirement.marker = Some((text, Span::empty(first.start)));
        invalid.then_some(SkipReason::Invalid)
    }

    /// The scanner's error as a diagnostic of the Pipfile's own value: `message` names what
    /// is written (the scanner saw it behind a stand-in name), the scanner's words are the cause.
    fn push_error(&mut self, error: &python::RequirementError, message: String) {
        let cause = error.cause.clone().unwrap_or_else(|| error.message.clone());
        self.diagnostics
            .push(Diagnostic::error(self.source, error.span, message).caused_by(cause));
    }
}
