//! Poetry's tables of `pyproject.toml`: `[tool.poetry.dependencies]`,
//! `[tool.poetry.dev-dependencies]` (Poetry before 1.2), `[tool.poetry.group.<name>.dependencies]`
//! and `[[tool.poetry.source]]`.
//!
//! A dependency is `name = "<constraint>"` or a table (`version`, `extras`, `markers`,
//! `python`, `source`, `optional`, `allow-prereleases`), or a list of tables (one constraint per
//! Python or marker, each read as its own dependency). A package from `git`, `path` or `url` is
//! listed and skipped with that reason. `python` in the main table is the project's Python, not
//! a package. The constraint is read with [`crate::versioning::poetry`]; its span is the
//! string's text, so an edit is a splice inside the quotes.

use serde::Serialize;
use toml_edit::{Item, TableLike, Value};

use super::{Parser, Section, table_at, verbatim_inner};
use crate::manifest::python::{
    IndexOptions, Pin, PinOperator, PythonRequirement, RequirementOrigin, Specifier, parse_marker,
};
use crate::manifest::{Dependency, SkipReason};
use crate::text::{Diagnostic, Span};
use crate::versioning::poetry::{Constraint, Operator};
use crate::vocab::normalize_name;

/// A `[[tool.poetry.source]]`'s priority (Poetry's `priority`, or the older `default` and
/// `secondary` flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Priority {
    /// Searched first; when any source is primary, PyPI is not searched.
    Primary,
    /// Searched when no primary source has the package.
    Supplemental,
    /// Only for the dependencies whose `source` names it.
    Explicit,
}

/// A `[[tool.poetry.source]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoetrySource {
    /// Its `name` (dependencies refer to it by name).
    pub name: String,
    /// Its `url`; `None` for a source that names PyPI itself.
    pub url: Option<String>,
    /// Its priority.
    pub priority: Priority,
    /// Where the URL is (else the name).
    pub span: Span,
}

/// The index options Poetry resolves a dependency with: the source it names alone, else the
/// primary sources (the first as the index, PyPI off) or PyPI, then the supplemental ones.
pub fn index_options(
    sources: &[PoetrySource],
    named: Option<&str>,
    path: &std::path::Path,
    file: &crate::text::SourceFile,
) -> IndexOptions {
    let mut options = IndexOptions::default();
    let note = |options: &mut IndexOptions, source: &PoetrySource, url: &str| {
        let place = crate::text::place(path, file.position(source.span.start));
        options.note_place(url, &place);
    };
    if let Some(wanted) = named {
        if let Some(source) = sources.iter().find(|s| s.name.eq_ignore_ascii_case(wanted)) {
            if let Some(url) = &source.url {
                options.index_url = Some(url.clone());
                note(&mut options, source, url);
            }
            return options;
        }
    }
    let mut primaries = sources
        .iter()
        .filter(|s| s.priority == Priority::Primary)
        .filter_map(|s| s.url.as_ref().map(|u| (s, u)));
    if let Some((source, url)) = primaries.next() {
        options.index_url = Some(url.clone());
        note(&mut options, source, url);
    }
    let rest: Vec<_> = primaries
        .chain(
            sources
                .iter()
                .filter(|s| s.priority == Priority::Supplemental)
                .filter_map(|s| s.url.as_ref().map(|u| (s, u))),
        )
        .collect();
    for (source, url) in rest {
        options.extra_index_urls.push(url.clone());
        note(&mut options, source, url);
    }
    options
}

impl Parser<'_> {
    /// `[tool.poetry]`'s dependency tables (its sources are read first, by
    /// [`Parser::poetry_sources`]).
    pub(super) fn poetry(&mut self, poetry: &dyn TableLike) {
        if let Some(item) = poetry.get("dependencies") {
            self.poetry_table(item, &Section::Poetry);
        }
        if let Some(item) = poetry.get("dev-dependencies") {
            self.poetry_table(item, &Section::PoetryDev);
        }
        if let Some(groups) = poetry.get("group").and_then(Item::as_table_like) {
            for (name, group) in groups.iter() {
                if let Some(item) = group.as_table_like().and_then(|g| g.get("dependencies")) {
                    self.poetry_table(item, &Section::PoetryGroup(name.to_owned()));
                }
            }
        }
    }

    /// `[[tool.poetry.source]]`, in Poetry's order.
    pub(super) fn poetry_sources(&mut self, poetry: &dyn TableLike) {
        let tables: Vec<&dyn TableLike> = match poetry.get("source") {
            Some(Item::ArrayOfTables(tables)) => {
                tables.iter().map(|t| t as &dyn TableLike).collect()
            }
            Some(Item::Value(Value::Array(a))) => a
                .iter()
                .filter_map(|v| v.as_inline_table().map(|t| t as &dyn TableLike))
                .collect(),
            _ => Vec::new(),
        };
        for table in tables {
            let Some(name_item) = table.get("name") else {
                continue;
            };
            let Some(name) = name_item.as_str() else {
                self.expected(name_item, "the source's `name` to be a string");
                continue;
            };
            let url_item = table.get("url");
            let url = url_item.and_then(Item::as_str).map(str::to_owned);
            let flag = |key: &str| table.get(key).and_then(Item::as_bool).unwrap_or(false);
            let written = table.get("priority").and_then(Item::as_str);
            let priority = match written {
                Some("supplemental" | "secondary") => Priority::Supplemental,
                Some("explicit") => Priority::Explicit,
                Some(_) => Priority::Primary,
                None if flag("secondary") => Priority::Supplemental,
                None => Priority::Primary,
            };
            let span = self.span_of(url_item.unwrap_or(name_item));
            let source = PoetrySource {
                name: name.to_owned(),
                url,
                priority,
                span,
            };
            // A default source, `default = true` or `priority = "default"` (both older Poetry),
            // is searched before every other wherever it is written: Poetry ranks it above
            // `primary`, so keeping its place would make an earlier primary the index.
            if flag("default") || written == Some("default") {
                self.file.poetry_sources.insert(0, source);
            } else {
                self.file.poetry_sources.push(source);
            }
        }
    }

    /// One table of dependencies: `name = constraint` entries.
    fn poetry_table(&mut self, item: &Item, section: &Section) {
        let Some(table) = item.as_table_like() else {
            return self.expected(item, &format!("`{section}` to be a table"));
        };
        for (key, value) in table.iter() {
            if *section == Section::Poetry && key.eq_ignore_ascii_case("python") {
                // The project's Python, as `requires-python` is in `[project]`.
                if let Some(text) = value.as_str() {
                    self.file.poetry_python = Some((text.to_owned(), self.span_of(value)));
                }
                continue;
            }
            let key_span = table
                .key(key)
                .and_then(toml_edit::Key::span)
                .map_or_else(|| self.span_of(value), |r| Span::new(r.start, r.end));
            match value {
                Item::Value(Value::Array(array)) => {
                    for entry in array.iter() {
                        match entry.as_inline_table() {
                            Some(t) => self.poetry_entry(key, key_span, Entry::Table(t), section),
                            None => {
                                let span = self.value_span(entry);
                                self.diagnostics.push(Diagnostic::error(
                                    self.source,
                                    span,
                                    format!(
                                        "Expected a table of `{key}`'s constraints in `{section}`"
                                    ),
                                ));
                            }
                        }
                    }
                }
                Item::ArrayOfTables(tables) => {
                    for t in tables.iter() {
                        self.poetry_entry(key, key_span, Entry::Table(t), section);
                    }
                }
                Item::Value(Value::String(_)) => {
                    self.poetry_entry(key, key_span, Entry::Constraint(value), section);
                }
                other => match other.as_table_like() {
                    Some(t) => self.poetry_entry(key, key_span, Entry::Table(t), section),
                    None => self.expected(
                        other,
                        &format!("`{key}` in `{section}` to be a constraint string or a table"),
                    ),
                },
            }
        }
    }

    fn poetry_entry(&mut self, key: &str, key_span: Span, entry: Entry<'_>, section: &Section) {
        let name = normalize_name(key);
        let mut requirement = PythonRequirement {
            written_name: key.to_owned(),
            name_span: key_span,
            extras: Vec::new(),
            specifier: None,
            pin: None,
            marker: None,
            parsed_marker: None,
            url: None,
            url_span: None,
            editable: false,
            hashes: Vec::new(),
            index: IndexOptions::default(),
            via: Vec::new(),
            entry_span: key_span,
            origin: RequirementOrigin::Pyproject,
        };
        let mut skip = None;
        let mut source_name = None;
        let constraint_item = match entry {
            Entry::Constraint(item) => Some(item),
            Entry::Table(table) => {
                for (field, reason) in [
                    ("git", SkipReason::VcsRequirement),
                    ("path", SkipReason::LocalPath),
                    ("url", SkipReason::UrlRequirement),
                ] {
                    if let Some(item) = table.get(field) {
                        if skip.is_none() {
                            skip = Some(reason);
                            requirement.url = item.as_str().map(str::to_owned);
                            requirement.url_span = Some(self.span_of(item));
                        }
                    }
                }
                requirement.editable = table.get("develop").and_then(Item::as_bool) == Some(true);
                if let Some(extras) = table.get("extras").and_then(Item::as_array) {
                    requirement.extras = extras
                        .iter()
                        .filter_map(Value::as_str)
                        .map(normalize_name)
                        .collect();
                }
                if let Some(item) = table.get("markers") {
                    if let Some(text) = item.as_str() {
                        requirement.marker = Some((text.to_owned(), self.span_of(item)));
                        requirement.parsed_marker = parse_marker(text);
                    }
                }
                if let Some(reason) = self.python_and_platform(key, table, &mut requirement) {
                    skip = Some(reason);
                }
                requirement.index.pre =
                    table.get("allow-prereleases").and_then(Item::as_bool) == Some(true);
                if let Some(item) = table.get("source") {
                    match item.as_str() {
                        Some(s) => source_name = Some((s.to_owned(), self.span_of(item))),
                        None => self.expected(item, "`source` to be a source's name"),
                    }
                }
                table.get("version")
            }
        };
        let pre = requirement.index.pre;
        requirement.index = index_options(
            &self.file.poetry_sources,
            source_name.as_ref().map(|(s, _)| s.as_str()),
            self.source.path(),
            self.source,
        );
        requirement.index.pre = pre;
        if let Some((wanted, span)) = &source_name {
            if !self
                .file
                .poetry_sources
                .iter()
                .any(|s| s.name.eq_ignore_ascii_case(wanted))
            {
                self.diagnostics.push(
                    Diagnostic::error(
                        self.source,
                        *span,
                        format!("`{key}` names the source `{wanted}`, which `[[tool.poetry.source]]` does not define"),
                    )
                    .with_hint("add `[[tool.poetry.source]]` with this `name` and its `url`"),
                );
            }
        }
        if let (Some(item), None) = (constraint_item, skip) {
            skip = self.poetry_constraint(item, &mut requirement);
        }
        let end = constraint_item
            .map(|i| self.span_of(i).end)
            .unwrap_or(key_span.end)
            .max(key_span.end);
        requirement.entry_span = Span::new(key_span.start, end);
        let mut dependency = Dependency::from_python(requirement, skip);
        dependency.name = name;
        self.dependencies.push(dependency);
        self.file.sections.push(section.clone());
    }

    /// A dependency's `python` (a Poetry constraint on the Python version) and `platform` (a
    /// `sys_platform`) as the markers Poetry installs it with, joined to its `markers` by
    /// `and`. The joined text is written nowhere: its span is empty, at the first of the keys.
    /// `Some(Invalid)` (with a diagnostic) when the constraint does not read.
    fn python_and_platform(
        &mut self,
        key: &str,
        table: &dyn TableLike,
        requirement: &mut PythonRequirement,
    ) -> Option<SkipReason> {
        let python = table.get("python").filter(|i| i.is_str());
        let platform = table.get("platform").filter(|i| i.is_str());
        let first = python.or(platform)?;
        let mut parts: Vec<String> = requirement
            .marker
            .iter()
            .map(|(m, _)| format!("({m})"))
            .collect();
        if let Some(item) = python {
            let text = item.as_str().unwrap_or_default();
            match Constraint::parse(text) {
                Ok(constraint) => parts.extend(python_marker(&constraint)),
                Err(error) => {
                    let span = self.span_of(item);
                    self.diagnostics.push(
                        Diagnostic::error(
                            self.source,
                            span,
                            format!("Invalid Python constraint `{text}` of `{key}`"),
                        )
                        .caused_by(error.to_string()),
                    );
                    return Some(SkipReason::Invalid);
                }
            }
        }
        if let Some(platform) = platform.and_then(Item::as_str) {
            parts.push(format!("sys_platform == '{platform}'"));
        }
        if parts.is_empty() {
            return None;
        }
        let text = parts.join(" and ");
        requirement.parsed_marker = parse_marker(&text);
        requirement.marker = Some((text, Span::empty(self.span_of(first).start)));
        None
    }

    /// The constraint string: its specifier (and pin, for an exact version), or the reason it
    /// cannot be updated.
    fn poetry_constraint(
        &mut self,
        item: &Item,
        requirement: &mut PythonRequirement,
    ) -> Option<SkipReason> {
        let Some(Value::String(string)) = item.as_value() else {
            self.expected(item, "the version constraint to be a string");
            return Some(SkipReason::Invalid);
        };
        let span = self.span_of(item);
        let raw = self.source.slice(span);
        let decoded = string.value();
        let Some(inner) = verbatim_inner(raw, decoded) else {
            return Some(SkipReason::EscapedString);
        };
        let lead = decoded.len() - decoded.trim_start().len();
        let text = decoded.trim();
        let start = span.start + inner + lead;
        let text_span = Span::new(start, start + text.len());
        match Constraint::parse(text) {
            Ok(constraint) => {
                if let Some(clause) = constraint.exact() {
                    let version_text = text[clause.operator_span.end..clause.span.end].trim_start();
                    let version_start = start + clause.span.end - version_text.len();
                    requirement.pin = Some(Pin {
                        operator: PinOperator::Equal,
                        text: version_text.to_owned(),
                        version: Some(clause.version.clone()),
                        span: Span::new(version_start, version_start + version_text.len()),
                    });
                }
                let single_wildcard = constraint.branches.len() == 1
                    && constraint.branches[0].clauses.len() == 1
                    && constraint.branches[0].clauses[0].operator == Operator::Any;
                requirement.specifier = Some(Specifier {
                    text: text.to_owned(),
                    span: text_span,
                    parsed: constraint
                        .pep440()
                        .cloned()
                        .unwrap_or_else(pep440_rs::VersionSpecifiers::empty),
                    poetry: (!single_wildcard).then_some(constraint),
                });
                None
            }
            Err(error) => {
                self.diagnostics.push(
                    Diagnostic::error(
                        self.source,
                        text_span,
                        format!("Invalid Poetry version constraint `{text}`"),
                    )
                    .caused_by(error.to_string()),
                );
                Some(SkipReason::Invalid)
            }
        }
    }
}

/// One dependency entry's value.
enum Entry<'a> {
    /// `name = "^1.2"`.
    Constraint(&'a Item),
    /// `name = { version = "^1.2", … }`, a `[tool.poetry.dependencies.name]` table, or one
    /// table of a list.
    Table(&'a dyn TableLike),
}

/// `[tool.poetry]`, when the file has one.
pub(super) fn table(root: &toml_edit::Table) -> Option<&dyn TableLike> {
    table_at(root, &["tool", "poetry"])
}

#[cfg(test)]
mod tests;

/// A Poetry constraint on the Python version as a marker (`(python_full_version >= '3.9' and
/// python_full_version < '4.0')`, its branches joined by `or`), `None` when it allows any.
fn python_marker(constraint: &Constraint) -> Option<String> {
    let mut branches = Vec::new();
    for branch in &constraint.branches {
        if branch.specifiers.is_empty() {
            return None;
        }
        let clauses: Vec<String> = branch
            .specifiers
            .iter()
            .map(|spec| {
                // `>=3.9` as `>=` and `3.9`; a wildcard keeps its `.*`.
                let text = spec.to_string();
                let at = text.find(|c: char| c.is_ascii_digit()).unwrap_or(0);
                format!("python_full_version {} '{}'", &text[..at], &text[at..])
            })
            .collect();
        branches.push(format!("({})", clauses.join(" and ")));
    }
    Some(branches.join(" or "))
}
