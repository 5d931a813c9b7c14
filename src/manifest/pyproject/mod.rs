//! `pyproject.toml`, read through `toml_edit` with the span of every value.
//!
//! The dependency lists of PEP 621 (`[project] dependencies`, `optional-dependencies`), PEP 735
//! (`[dependency-groups]`, with `{include-group = "…"}`), PEP 518 (`[build-system] requires`)
//! and uv (`[tool.uv] dev-dependencies`, `constraint-dependencies`, `override-dependencies`) are
//! arrays of PEP 508 strings. Each string is scanned by [`python::scan`] at its place in the
//! file, so a dependency's spans index the file's bytes and an update is a splice inside the
//! string: comments, ordering, quoting and inline tables stay exactly as written, and the edit
//! is verified by parsing the whole file again (as for requirements files).
//!
//! `[tool.uv.sources]` says where uv installs a package from: a package from git, a path, a URL
//! or the workspace is listed and skipped with that reason.

mod poetry;
#[cfg(test)]
mod tests;

pub use poetry::{PoetrySource, Priority};

use std::collections::BTreeMap;

use serde::Serialize;
use toml_edit::{Item, Table, Value};

use super::python::{self, IndexOptions, RequirementOrigin};
use super::{Dependency, Manifest, ManifestDetails, ManifestKind, SkipReason};
use crate::text::{Diagnostic, SourceFile, Span};
use crate::vocab::normalize_name;

/// Where in `pyproject.toml` a dependency is declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "table", content = "name")]
pub enum Section {
    /// `[project] dependencies`.
    Project,
    /// `[project.optional-dependencies] <extra>`.
    Optional(String),
    /// `[dependency-groups] <group>` (PEP 735).
    Group(String),
    /// `[build-system] requires`.
    BuildSystem,
    /// `[tool.uv] dev-dependencies`.
    UvDev,
    /// `[tool.uv] constraint-dependencies`.
    UvConstraint,
    /// `[tool.uv] override-dependencies`.
    UvOverride,
    /// `[tool.poetry.dependencies]`.
    Poetry,
    /// `[tool.poetry.dev-dependencies]` (Poetry before 1.2).
    PoetryDev,
    /// `[tool.poetry.group.<name>.dependencies]`.
    PoetryGroup(String),
}

impl std::fmt::Display for Section {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Section::Project => f.write_str("project.dependencies"),
            Section::Optional(extra) => write!(f, "project.optional-dependencies.{extra}"),
            Section::Group(group) => write!(f, "dependency-groups.{group}"),
            Section::BuildSystem => f.write_str("build-system.requires"),
            Section::UvDev => f.write_str("tool.uv.dev-dependencies"),
            Section::UvConstraint => f.write_str("tool.uv.constraint-dependencies"),
            Section::UvOverride => f.write_str("tool.uv.override-dependencies"),
            Section::Poetry => f.write_str("tool.poetry.dependencies"),
            Section::PoetryDev => f.write_str("tool.poetry.dev-dependencies"),
            Section::PoetryGroup(group) => write!(f, "tool.poetry.group.{group}.dependencies"),
        }
    }
}

impl Section {
    /// Whether `[tool.uv.sources]` applies to the section's requirements (uv applies sources
    /// to the project's own requirements, not to build requirements, constraints or overrides).
    fn takes_sources(&self) -> bool {
        matches!(
            self,
            Section::Project | Section::Optional(_) | Section::Group(_) | Section::UvDev
        )
    }
}

/// What kind of source `[tool.uv.sources]` gives a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// `{ git = "…" }`.
    Git,
    /// `{ path = "…" }`.
    Path,
    /// `{ url = "…" }`.
    Url,
    /// `{ workspace = true }`: a member of the same uv workspace.
    Workspace,
    /// `{ index = "…" }`: a named index (looked up on repin's configured indexes).
    Index,
}

impl SourceKind {
    /// The skip reason a package from this source gets, `None` for an index.
    fn skip_reason(self) -> Option<SkipReason> {
        match self {
            SourceKind::Git => Some(SkipReason::VcsRequirement),
            SourceKind::Path => Some(SkipReason::LocalPath),
            SourceKind::Url => Some(SkipReason::UrlRequirement),
            SourceKind::Workspace => Some(SkipReason::WorkspaceMember),
            SourceKind::Index => None,
        }
    }
}

/// A `[tool.uv.sources]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UvSource {
    /// The normalised package name.
    pub name: String,
    /// The source's kind (for a list of sources with markers, the first that is not an index).
    pub kind: SourceKind,
    /// Where the entry's key is.
    pub span: Span,
    /// For [`SourceKind::Index`]: the name of the `[[tool.uv.index]]` it is installed from.
    pub index: Option<String>,
}

/// A `[[tool.uv.index]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UvIndex {
    /// Its `name` (sources refer to it by name).
    pub name: Option<String>,
    /// Its `url`, as written.
    pub url: String,
    /// `default = true`: it replaces PyPI.
    pub default: bool,
    /// `explicit = true`: only packages whose source names it come from it.
    pub explicit: bool,
    /// Where the URL is.
    pub span: Span,
}

/// `{include-group = "…"}` in a dependency group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncludeGroup {
    /// The group that includes.
    pub group: String,
    /// The group included.
    pub included: String,
    /// Where the included group's name is.
    pub span: Span,
}

/// Facts about a whole `pyproject.toml`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PyprojectFile {
    /// The section of each dependency, parallel to [`Manifest::dependencies`].
    pub sections: Vec<Section>,
    /// `[project] requires-python`, as written, with the span of its value.
    pub requires_python: Option<(String, Span)>,
    /// `[project] name`.
    pub project_name: Option<String>,
    /// `{include-group = …}` entries of `[dependency-groups]`.
    pub include_groups: Vec<IncludeGroup>,
    /// `[tool.uv.sources]`.
    pub sources: Vec<UvSource>,
    /// `[[tool.uv.index]]`, and the deprecated `index-url` / `extra-index-url` as unnamed
    /// entries (the first as the default), in uv's order of precedence.
    pub uv_indexes: Vec<UvIndex>,
    /// `[[tool.poetry.source]]`, in Poetry's order (a `default = true` source first).
    pub poetry_sources: Vec<PoetrySource>,
    /// `python` of `[tool.poetry.dependencies]`: the project's Python in Poetry's syntax, with
    /// the span of its value.
    pub poetry_python: Option<(String, Span)>,
    /// `[tool.uv.workspace]`: this pyproject is the root of a uv workspace.
    pub uv_workspace: Option<UvWorkspace>,
    /// `[project] dynamic`: the fields a build backend computes (uv builds the project to read
    /// them).
    pub dynamic: Vec<String>,
}

/// `[tool.uv.workspace]`: the directories of a uv workspace's members, as globs relative to
/// the workspace root, and those left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UvWorkspace {
    /// `members`, as written.
    pub members: Vec<String>,
    /// `exclude`, as written.
    pub exclude: Vec<String>,
}

impl PyprojectFile {
    /// The index options uv resolves a requirement of `name` with: the index its source names
    /// (alone), else the default index (else repin's configured one) and every index that is
    /// not `explicit`, which uv searches first.
    pub fn index_options(
        &self,
        name: &str,
        takes_sources: bool,
        path: &std::path::Path,
        source: &SourceFile,
    ) -> IndexOptions {
        let mut options = IndexOptions::default();
        let note = |options: &mut IndexOptions, index: &UvIndex| {
            let place = crate::text::place(path, source.position(index.span.start));
            options.note_place(&index.url, &place);
        };
        let named = takes_sources
            .then(|| self.sources.iter().find(|s| s.name == name))
            .flatten()
            .and_then(|s| s.index.as_ref())
            .and_then(|wanted| {
                self.uv_indexes
                    .iter()
                    .find(|i| i.name.as_deref() == Some(wanted))
            });
        if let Some(index) = named {
            options.index_url = Some(index.url.clone());
            note(&mut options, index);
            return options;
        }
        if let Some(default) = self.uv_indexes.iter().find(|i| i.default) {
            options.index_url = Some(default.url.clone());
            note(&mut options, default);
        }
        for index in self.uv_indexes.iter().filter(|i| !i.default && !i.explicit) {
            options.extra_index_urls.push(index.url.clone());
            note(&mut options, index);
        }
        options
    }
}

/// Whether a file name is `pyproject.toml`.
pub fn is_pyproject(name: &str) -> bool {
    name == "pyproject.toml"
}

/// Parse a `pyproject.toml`.
pub fn parse(source: SourceFile) -> Manifest {
    let mut parser = Parser {
        source: &source,
        file: PyprojectFile::default(),
        dependencies: Vec::new(),
        diagnostics: Vec::new(),
        groups: std::collections::BTreeSet::new(),
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
        kind: ManifestKind::Pyproject,
        dependencies,
        diagnostics,
        details: ManifestDetails::Pyproject(file),
    }
}

struct Parser<'a> {
    source: &'a SourceFile,
    file: PyprojectFile,
    dependencies: Vec<Dependency>,
    diagnostics: Vec<Diagnostic>,
    /// Every dependency group's name, normalised (an empty group has no dependency).
    groups: std::collections::BTreeSet<String>,
}

impl Parser<'_> {
    fn run(&mut self) {
        let Some(document) = super::toml_text::parse(self.source, &mut self.diagnostics) else {
            return;
        };
        let root = document.as_table();
        // Sources first: they decide which of the project's requirements are skipped.
        if let Some(uv) = table_at(root, &["tool", "uv"]) {
            self.uv_settings(uv);
            if let Some(workspace) = uv.get("workspace").and_then(Item::as_table_like) {
                self.file.uv_workspace = Some(UvWorkspace {
                    members: super::toml_text::strings(workspace.get("members")),
                    exclude: super::toml_text::strings(workspace.get("exclude")),
                });
            }
        }
        self.check_index_sources();
        // Poetry's sources too: Poetry 2 resolves the `[project]` tables on them.
        if let Some(poetry) = poetry::table(root) {
            self.poetry_sources(poetry);
        }
        if let Some(project) = root.get("project").and_then(Item::as_table_like) {
            if let Some(name) = project.get("name").and_then(Item::as_str) {
                self.file.project_name = Some(name.to_owned());
            }
            self.file.dynamic = super::toml_text::strings(project.get("dynamic"));
            if let Some(item) = project.get("requires-python") {
                match item.as_value() {
                    Some(Value::String(s)) => {
                        let span = self.span_of(item);
                        self.file.requires_python = Some((s.value().clone(), span));
                    }
                    _ => self.expected(item, "`requires-python` to be a string"),
                }
            }
            if let Some(item) = project.get("dependencies") {
                self.list(item, &Section::Project);
            }
            if let Some(item) = project.get("optional-dependencies") {
                self.named_lists(item, Section::Optional);
            }
        }
        if let Some(item) = root.get("dependency-groups") {
            self.named_lists(item, Section::Group);
        }
        if let Some(item) = table_at(root, &["build-system"]).and_then(|t| t.get("requires")) {
            self.list(item, &Section::BuildSystem);
        }
        if let Some(uv) = table_at(root, &["tool", "uv"]) {
            for (key, section) in [
                ("dev-dependencies", Section::UvDev),
                ("constraint-dependencies", Section::UvConstraint),
                ("override-dependencies", Section::UvOverride),
            ] {
                if let Some(item) = uv.get(key) {
                    self.list(item, &section);
                }
            }
        }
        if let Some(poetry) = poetry::table(root) {
            self.poetry(poetry);
        }
        self.check_include_groups();
    }

    fn span_of(&self, item: &Item) -> Span {
        let len = self.source.text().len();
        item.span().map_or(Span::empty(0), |r| {
            Span::new(r.start.min(len), r.end.min(len))
        })
    }

    fn value_span(&self, value: &Value) -> Span {
        let len = self.source.text().len();
        value.span().map_or(Span::empty(0), |r| {
            Span::new(r.start.min(len), r.end.min(len))
        })
    }

    fn expected(&mut self, item: &Item, what: &str) {
        let span = self.span_of(item);
        self.diagnostics.push(Diagnostic::error(
            self.source,
            span,
            format!("Expected {what}"),
        ));
    }

    /// `[tool.uv]`: sources and index URLs.
    fn uv_settings(&mut self, uv: &dyn toml_edit::TableLike) {
        if let Some(sources) = uv.get("sources").and_then(Item::as_table_like) {
            for (key, item) in sources.iter() {
                let span = sources
                    .key(key)
                    .and_then(toml_edit::Key::span)
                    .map_or_else(|| self.span_of(item), |r| Span::new(r.start, r.end));
                let kinds: Vec<(SourceKind, Option<String>)> = match item {
                    Item::Value(Value::Array(array)) => array
                        .iter()
                        .filter_map(|v| v.as_inline_table().map(|t| source_kind(t)))
                        .flatten()
                        .collect(),
                    Item::ArrayOfTables(tables) => {
                        tables.iter().filter_map(|t| source_kind(t)).collect()
                    }
                    other => other
                        .as_table_like()
                        .and_then(source_kind)
                        .into_iter()
                        .collect(),
                };
                // A package with several sources (by marker) is skipped when any of them is
                // not an index; several index sources are looked up on the first.
                let kind = kinds
                    .iter()
                    .find(|(k, _)| *k != SourceKind::Index)
                    .or(kinds.first())
                    .cloned();
                match kind {
                    Some((kind, index)) => self.file.sources.push(UvSource {
                        name: normalize_name(key),
                        kind,
                        span,
                        index,
                    }),
                    None => self.diagnostics.push(
                        Diagnostic::warning(
                            self.source,
                            span,
                            format!("The source of `{key}` is not one repin knows"),
                        )
                        .with_hint("uv's sources are `git`, `path`, `url`, `workspace` or `index`"),
                    ),
                }
            }
        }
        let mut indexes = Vec::new();
        let tables: Vec<&dyn toml_edit::TableLike> = match uv.get("index") {
            Some(Item::ArrayOfTables(tables)) => tables
                .iter()
                .map(|t| t as &dyn toml_edit::TableLike)
                .collect(),
            Some(Item::Value(Value::Array(a))) => a
                .iter()
                .filter_map(|v| v.as_inline_table().map(|t| t as &dyn toml_edit::TableLike))
                .collect(),
            _ => Vec::new(),
        };
        for table in tables {
            let Some(url_item) = table.get("url") else {
                continue;
            };
            let Some(url) = url_item.as_str() else {
                self.expected(url_item, "the index's `url` to be a string");
                continue;
            };
            let flag = |key: &str| table.get(key).and_then(Item::as_bool).unwrap_or(false);
            indexes.push(UvIndex {
                name: table.get("name").and_then(Item::as_str).map(str::to_owned),
                url: url.to_owned(),
                default: flag("default"),
                explicit: flag("explicit"),
                span: self.span_of(url_item),
            });
        }
        // The deprecated settings: `index-url` is the default index, `extra-index-url` come
        // before it (uv gives them priority), both below `[[tool.uv.index]]`.
        for key in ["extra-index-url", "index-url"] {
            let items: Vec<&Value> = match uv.get(key) {
                Some(Item::Value(v @ Value::String(_))) => vec![v],
                Some(Item::Value(Value::Array(a))) => a.iter().collect(),
                _ => Vec::new(),
            };
            for value in items {
                if let Some(url) = value.as_str() {
                    let default = key == "index-url" && !indexes.iter().any(|i| i.default);
                    indexes.push(UvIndex {
                        name: None,
                        url: url.to_owned(),
                        default,
                        explicit: false,
                        span: self.value_span(value),
                    });
                }
            }
        }
        self.file.uv_indexes = indexes;
    }

    /// A table of named lists (`optional-dependencies`, `dependency-groups`).
    fn named_lists(&mut self, item: &Item, section: fn(String) -> Section) {
        let Some(table) = item.as_table_like() else {
            return self.expected(item, "a table of dependency lists");
        };
        for (name, list) in table.iter() {
            let section = section(name.to_owned());
            if let Section::Group(group) = &section {
                self.groups.insert(normalize_name(group));
            }
            self.list(list, &section);
        }
    }

    /// One array of PEP 508 strings (and, in a dependency group, `{include-group = "…"}`).
    fn list(&mut self, item: &Item, section: &Section) {
        let Some(array) = item.as_array() else {
            return self.expected(item, &format!("`{section}` to be an array of strings"));
        };
        for value in array.iter() {
            match value {
                Value::String(_) => self.requirement(value, section),
                Value::InlineTable(table) if matches!(section, Section::Group(_)) => {
                    self.include_group(table, value, section);
                }
                other => {
                    let span = self.value_span(other);
                    self.diagnostics.push(Diagnostic::error(
                        self.source,
                        span,
                        format!("Expected a requirement string in `{section}`"),
                    ));
                }
            }
        }
    }

    fn include_group(&mut self, table: &toml_edit::InlineTable, value: &Value, section: &Section) {
        let Section::Group(group) = section else {
            return;
        };
        match table.get("include-group") {
            Some(included @ Value::String(s)) if table.len() == 1 => {
                let span = self.value_span(included);
                self.file.include_groups.push(IncludeGroup {
                    group: group.clone(),
                    included: s.value().clone(),
                    span,
                });
            }
            _ => {
                let span = self.value_span(value);
                self.diagnostics.push(
                    Diagnostic::error(
                        self.source,
                        span,
                        format!("Expected `{{include-group = \"…\"}}` in `{section}`"),
                    )
                    .with_hint("PEP 735 allows only requirement strings and include-group tables"),
                );
            }
        }
    }

    /// A source `{ index = "…" }` must name an index of `[[tool.uv.index]]` (uv refuses the
    /// file otherwise, and repin would not know where to look the package up).
    fn check_index_sources(&mut self) {
        let mut problems = Vec::new();
        for source in &self.file.sources {
            let Some(wanted) = &source.index else {
                continue;
            };
            if source.kind == SourceKind::Index
                && !self
                    .file
                    .uv_indexes
                    .iter()
                    .any(|i| i.name.as_deref() == Some(wanted))
            {
                problems.push(
                    Diagnostic::error(
                        self.source,
                        source.span,
                        format!("The source of `{}` names the index `{wanted}`, which `[[tool.uv.index]]` does not define", source.name),
                    )
                    .with_hint("add `[[tool.uv.index]]` with this `name` and its `url`"),
                );
            }
        }
        self.diagnostics.extend(problems);
    }

    /// A PEP 735 include must name a group of the file, and includes must not form a cycle.
    fn check_include_groups(&mut self) {
        let groups = &self.groups;
        let mut edges: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for include in &self.file.include_groups {
            edges
                .entry(normalize_name(&include.group))
                .or_default()
                .push(normalize_name(&include.included));
        }
        let mut problems = Vec::new();
        for include in &self.file.include_groups {
            let included = normalize_name(&include.included);
            if !groups.contains(&included) {
                problems.push((
                    include.span,
                    format!(
                        "The group `{}` includes `{}`, which is not a dependency group of the file",
                        include.group, include.included
                    ),
                ));
            } else if reaches(&edges, &included, &normalize_name(&include.group)) {
                problems.push((
                    include.span,
                    format!(
                        "The group `{}` includes `{}`, which includes it again",
                        include.group, include.included
                    ),
                ));
            }
        }
        for (span, message) in problems {
            self.diagnostics
                .push(Diagnostic::error(self.source, span, message));
        }
    }

    /// One requirement string: scanned at its place in the file when its bytes are its value.
    fn requirement(&mut self, value: &Value, section: &Section) {
        let Value::String(string) = value else {
            return;
        };
        let span = self.value_span(value);
        let raw = self.source.slice(span);
        let decoded = string.value();
        let verbatim = verbatim_inner(raw, decoded).map(|start| span.start + start);
        let (scanned, skip) = match verbatim {
            Some(offset) => {
                let scanned = python::scan(decoded, offset);
                let skip = scanned.skip_reason;
                if let Some(error) = &scanned.error {
                    let mut diagnostic =
                        Diagnostic::error(self.source, error.span, error.message.clone());
                    if let Some(cause) = &error.cause {
                        diagnostic = diagnostic.caused_by(cause.clone());
                    }
                    self.diagnostics.push(diagnostic);
                }
                (scanned, skip)
            }
            None => {
                // Escapes or a multi-line string: the value's bytes are not where its text
                // is, so nothing inside it can be spliced. Listed, with the whole string.
                let mut scanned = python::scan(decoded, 0);
                let r = &mut scanned.requirement;
                // The name is somewhere inside, not at known bytes: an empty span claims
                // nothing (the whole string is the entry).
                r.name_span = crate::text::Span::empty(span.start);
                r.entry_span = span;
                r.specifier = None;
                r.pin = None;
                r.marker = None;
                r.url_span = None;
                (scanned, Some(SkipReason::EscapedString))
            }
        };
        let mut requirement = scanned.requirement;
        requirement.origin = RequirementOrigin::Pyproject;
        let name = normalize_name(&requirement.written_name);
        requirement.index = if self.file.uv_indexes.is_empty()
            && !self.file.poetry_sources.is_empty()
            && matches!(
                section,
                Section::Project | Section::Optional(_) | Section::Group(_)
            ) {
            // A Poetry 2 project: its `[project]` tables resolve on `[[tool.poetry.source]]`.
            poetry::index_options(
                &self.file.poetry_sources,
                None,
                self.source.path(),
                self.source,
            )
        } else {
            self.file.index_options(
                &name,
                section.takes_sources(),
                self.source.path(),
                self.source,
            )
        };
        let source_skip = section
            .takes_sources()
            .then(|| self.file.sources.iter().find(|s| s.name == name))
            .flatten()
            .and_then(|s| s.kind.skip_reason());
        let skip = skip.or(source_skip);
        let mut dependency = Dependency::from_python(requirement, skip);
        if verbatim.is_none() {
            dependency.span = span;
            dependency.current = raw.to_owned();
        }
        self.dependencies.push(dependency);
        self.file.sections.push(section.clone());
    }
}

/// Whether `to` is reachable from `from` through include edges (bounded by the edge count).
fn reaches(edges: &BTreeMap<String, Vec<String>>, from: &str, to: &str) -> bool {
    let mut seen = std::collections::BTreeSet::new();
    let mut stack = vec![from.to_owned()];
    while let Some(node) = stack.pop() {
        if node == to {
            return true;
        }
        if seen.insert(node.clone()) {
            if let Some(next) = edges.get(&node) {
                stack.extend(next.iter().cloned());
            }
        }
    }
    false
}

/// Where a string's value starts inside its representation, when the bytes between the quotes
/// are exactly the value (no escape, no line-ending trim): `"x"` and `'x'`, and a multi-line
/// string without escapes or a leading newline.
fn verbatim_inner(raw: &str, decoded: &str) -> Option<usize> {
    for delimiter in ["\"\"\"", "'''", "\"", "'"] {
        if raw.len() >= 2 * delimiter.len()
            && raw.starts_with(delimiter)
            && raw.ends_with(delimiter)
        {
            let inner = &raw[delimiter.len()..raw.len() - delimiter.len()];
            return (inner == decoded && !inner.contains(['\n', '\r'])).then_some(delimiter.len());
        }
    }
    None
}

/// The kind of one source table, with the index it names.
fn source_kind(table: &dyn toml_edit::TableLike) -> Option<(SourceKind, Option<String>)> {
    let kind = [
        ("git", SourceKind::Git),
        ("path", SourceKind::Path),
        ("url", SourceKind::Url),
        ("workspace", SourceKind::Workspace),
        ("index", SourceKind::Index),
    ]
    .into_iter()
    .find(|(key, _)| table.contains_key(key))
    .map(|(_, kind)| kind)?;
    let index = table.get("index").and_then(Item::as_str).map(str::to_owned);
    Some((kind, index))
}

/// The table at a dotted path, whether written as `[a.b]`, `a = { b = … }` or dotted keys.
fn table_at<'t>(root: &'t Table, path: &[&str]) -> Option<&'t dyn toml_edit::TableLike> {
    let mut current: &dyn toml_edit::TableLike = root;
    for key in path {
        current = current.get(key)?.as_table_like()?;
    }
    Some(current)
}
