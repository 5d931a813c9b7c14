//! Places and plain values in a TOML document read with `toml_edit`, shared by the readers of
//! TOML manifests and lock files (`pyproject.toml`, `Pipfile`, `uv.lock`, `pylock.toml`,
//! `poetry.lock`).

use toml_edit::{Document, Item, TableLike, Value};

use crate::text::{Diagnostic, SourceFile, Span};

/// Parse `source` as TOML; text that is not is one diagnostic in `diagnostics`, at the
/// parser's place, and `None`.
pub fn parse<'a>(
    source: &'a SourceFile,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Document<&'a str>> {
    Document::parse(source.text())
        .map_err(|error| diagnostics.push(error_diagnostic(source, &error)))
        .ok()
}

/// The span of a TOML error, at least one byte wide where the text has one.
fn error_diagnostic(source: &SourceFile, error: &toml_edit::TomlError) -> Diagnostic {
    let len = source.text().len();
    let range = error.span().unwrap_or(0..0);
    let start = range.start.min(len);
    let end = range.end.clamp(start, len);
    // The parser's message is several lines (position, snippet, explanation): the first
    // meaningful line that is not its own snippet explains it.
    let message = error.message().trim().to_owned();
    Diagnostic::error(source, Span::new(start, end), "Not valid TOML").caused_by(message)
}

/// The span of `item` in `source`, clamped to the text (the whole file's start when the parser
/// kept none).
pub fn span_of(source: &SourceFile, item: &Item) -> Span {
    let len = source.text().len();
    item.span().map_or(Span::empty(0), |r| {
        Span::new(r.start.min(len), r.end.min(len))
    })
}

/// The span of a string value's text, and `true`, when its bytes are its text (a basic or
/// literal string without escapes on one line); else the whole value's span and `false` (so a
/// place is still known, but nothing inside it may be edited as the text).
pub fn text_span(source: &SourceFile, item: &Item, text: &str) -> (Span, bool) {
    let span = span_of(source, item);
    let raw = source.slice(span);
    let quoted = raw.len() >= 2
        && (raw.starts_with('"') && raw.ends_with('"')
            || raw.starts_with('\'') && raw.ends_with('\''))
        && !raw.starts_with("\"\"\"")
        && !raw.starts_with("'''");
    if quoted && &raw[1..raw.len() - 1] == text {
        (Span::new(span.start + 1, span.end - 1), true)
    } else {
        (span, false)
    }
}

/// The tables of an array of inline tables or an array of tables.
pub fn tables_of(item: Option<&Item>) -> Vec<&dyn TableLike> {
    match item {
        Some(Item::Value(Value::Array(array))) => array
            .iter()
            .filter_map(|v| v.as_inline_table().map(|t| t as &dyn TableLike))
            .collect(),
        Some(Item::ArrayOfTables(tables)) => tables.iter().map(|t| t as &dyn TableLike).collect(),
        _ => Vec::new(),
    }
}

/// The strings of an array (others are passed over).
pub fn strings(item: Option<&Item>) -> Vec<String> {
    item.and_then(Item::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
