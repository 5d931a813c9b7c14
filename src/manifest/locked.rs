//! The dependency of a package pinned by a TOML lock file (`uv.lock`, `pylock.toml`,
//! `poetry.lock`): its name, its pin at the locked version, the index it comes from, and the
//! spans an edit or a message needs.

use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use toml_edit::TableLike;

use super::python::{
    IndexOptions, Pin, PinOperator, PythonRequirement, RequirementOrigin, Specifier,
};
use super::{Dependency, SkipReason};
use crate::text::{SourceFile, Span};

/// What a lock's entry says of one package.
pub(super) struct Entry<'a> {
    /// The name as written.
    pub written: &'a str,
    /// Where the name's text is.
    pub name_span: Span,
    /// The version as written, with its parsed form (`None` when the entry has none).
    pub version: Option<(&'a str, Version)>,
    /// Where the version's text is (the whole value when not `verbatim`).
    pub version_span: Option<Span>,
    /// Whether the version's bytes in the file are its text (no escapes).
    pub verbatim: bool,
    /// Why the package is not looked up, if it is not.
    pub skip: Option<SkipReason>,
    /// The index it comes from, when the lock names one.
    pub index_url: Option<String>,
    /// Whether it is installed editable.
    pub editable: bool,
    /// Which lock format it is in.
    pub origin: RequirementOrigin,
}

/// The dependency of a locked package, pinned at its version.
pub(super) fn dependency(source: &SourceFile, entry: Entry<'_>) -> Dependency {
    let name_span = entry.name_span;
    let span = entry.version_span.unwrap_or(name_span);
    // A version written with escapes has no place inside it that holds its text: its pin
    // claims nothing (an empty span), and the dependency's value is the string as written.
    let pin_span = if entry.verbatim {
        span
    } else {
        Span::empty(span.start)
    };
    let pin = entry.version.as_ref().map(|(text, parsed)| Pin {
        operator: PinOperator::Equal,
        text: (*text).to_owned(),
        version: Some(parsed.clone()),
        span: pin_span,
    });
    let specifier = pin.as_ref().and_then(|pin| {
        Some(Specifier {
            text: pin.text.clone(),
            span: pin.span,
            parsed: VersionSpecifiers::from_str(&format!("=={}", pin.text)).ok()?,
            poetry: None,
        })
    });
    let mut index = IndexOptions::default();
    if let Some(url) = &entry.index_url {
        index.index_url = Some(url.clone());
        let place = crate::text::place(source.path(), source.position(span.start));
        index.note_place(url, &place);
    }
    let requirement = PythonRequirement {
        written_name: entry.written.to_owned(),
        name_span,
        extras: Vec::new(),
        specifier,
        pin,
        marker: None,
        parsed_marker: None,
        url: None,
        url_span: None,
        editable: entry.editable,
        hashes: Vec::new(),
        index,
        via: Vec::new(),
        entry_span: Span::new(name_span.start.min(span.start), name_span.end.max(span.end)),
        origin: entry.origin,
    };
    let mut dependency = Dependency::from_python(requirement, entry.skip);
    if entry.version.is_none() {
        dependency.current = String::new();
        dependency.span = name_span;
    } else if !entry.verbatim {
        dependency.span = span;
        source.slice(span).clone_into(&mut dependency.current);
    }
    dependency
}

/// An entry's name: as written, normalised, and where its text is; or where and why the entry
/// has none (`entry` names the table in messages: `[[package]]`, `[[packages]]`).
pub(super) fn name_of<'t>(
    source: &SourceFile,
    table: &'t dyn TableLike,
    entry: &str,
) -> Result<(&'t str, String, Span), (Span, String)> {
    // The table's place, for errors about what it lacks: its first key's.
    let first = table.iter().next().map_or(Span::empty(0), |(_, item)| {
        super::toml_text::span_of(source, item)
    });
    let item = table
        .get("name")
        .ok_or_else(|| (first, format!("A `{entry}` entry has no `name`")))?;
    let span = super::toml_text::span_of(source, item);
    let written = item.as_str().ok_or_else(|| {
        (
            span,
            "Expected the package's `name` to be a string".to_owned(),
        )
    })?;
    let name = crate::vocab::normalize_name(written);
    if name.is_empty() {
        return Err((span, format!("A `{entry}` entry has an empty `name`")));
    }
    if !super::python::is_valid_name(written) {
        return Err((span, format!("Invalid package name `{written}`")));
    }
    Ok((written, name, name_span(source, item, written)))
}

/// Where a package name's text is: inside its quotes when its bytes are its text, else an empty
/// span at the value's start, which claims no text (an escaped name, `"cert\u0069fi"`, reads as
/// a valid name but its bytes are not that name) yet keeps the place for messages.
pub(super) fn name_span(source: &SourceFile, item: &toml_edit::Item, written: &str) -> Span {
    match super::toml_text::text_span(source, item, written) {
        (span, true) => span,
        (span, false) => Span::empty(span.start),
    }
}
