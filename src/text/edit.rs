//! Splicing replacements into spans, with the checks that keep edits lossless.

use serde::Serialize;

use super::TextError;
use super::source::SourceFile;
use super::span::Span;

/// One replacement: the bytes of `span` (which must still read `expected`) become `replacement`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edit {
    /// Where the replaced text is; an empty span inserts.
    pub span: Span,
    /// The text the span held when the edit was computed; checked before splicing.
    pub expected: String,
    /// The new text.
    pub replacement: String,
}

impl Edit {
    /// Replace the text of `span`, which must currently be `expected`.
    pub fn replace(
        span: Span,
        expected: impl Into<String>,
        replacement: impl Into<String>,
    ) -> Self {
        Edit {
            span,
            expected: expected.into(),
            replacement: replacement.into(),
        }
    }

    /// Insert `text` at `offset`.
    pub fn insert(offset: usize, text: impl Into<String>) -> Self {
        Edit {
            span: Span::empty(offset),
            expected: String::new(),
            replacement: text.into(),
        }
    }
}

/// Apply edits to a file's text and return the edited file (same path and encoding).
///
/// Edits are sorted by position; they must not overlap (two insertions at one offset are
/// ambiguous and count as overlapping), every span must lie on character boundaries, and every
/// span must still hold its `expected` text. On any failure nothing is returned, so nothing
/// can be written.
pub fn apply(file: &SourceFile, edits: &[Edit]) -> Result<SourceFile, TextError> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    let text = file.text();
    let mut out = String::with_capacity(text.len() + 64);
    let mut cursor = 0usize;
    let mut previous: Option<&Edit> = None;
    for edit in sorted {
        let span = edit.span;
        if let Some(prev) = previous {
            let overlaps = span.start < prev.span.end
                || (span.start == prev.span.start && (span.is_empty() || prev.span.is_empty()));
            if overlaps {
                return Err(TextError::OverlappingEdits {
                    path: file.path().to_path_buf(),
                    first: file.position(prev.span.start),
                    second: file.position(span.start),
                });
            }
        }
        let Some(actual) = file.get(span) else {
            return Err(TextError::SpanOutOfRange {
                path: file.path().to_path_buf(),
                span,
                len: text.len(),
            });
        };
        if actual != edit.expected {
            return Err(TextError::StaleEdit {
                path: file.path().to_path_buf(),
                position: file.position(span.start),
                expected: edit.expected.clone(),
                actual: actual.to_owned(),
            });
        }
        out.push_str(&text[cursor..span.start]);
        out.push_str(&edit.replacement);
        cursor = span.end;
        previous = Some(edit);
    }
    out.push_str(&text[cursor..]);
    Ok(file.with_text(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Encoding;

    fn file(text: &str) -> SourceFile {
        SourceFile::from_text("r.txt", Encoding::Utf8, text.into())
    }

    #[test]
    fn splices_in_any_order() {
        let f = file("flask==2.0.1\r\njinja2==3.0\r\n");
        let edits = [
            Edit::replace(Span::new(22, 25), "3.0", "3.1.6"),
            Edit::replace(Span::new(7, 12), "2.0.1", "3.1.3"),
        ];
        let out = apply(&f, &edits).unwrap();
        assert_eq!(out.text(), "flask==3.1.3\r\njinja2==3.1.6\r\n");
    }

    #[test]
    fn inserts_and_keeps_encoding() {
        let f = SourceFile::from_text("D", Encoding::Utf16Le, "FROM python:3.12\n".into());
        let out = apply(&f, &[Edit::insert(16, "@sha256:00")]).unwrap();
        assert_eq!(out.text(), "FROM python:3.12@sha256:00\n");
        assert_eq!(out.to_bytes(), Encoding::Utf16Le.encode(out.text()));
    }

    #[test]
    fn refuses_stale_overlapping_and_out_of_range_edits() {
        let f = file("flask==2.0.1\n");
        let stale = apply(&f, &[Edit::replace(Span::new(7, 12), "2.0.0", "3")]);
        assert!(matches!(stale, Err(TextError::StaleEdit { .. })));
        let overlap = apply(
            &f,
            &[
                Edit::replace(Span::new(7, 12), "2.0.1", "3"),
                Edit::replace(Span::new(9, 10), "0", "1"),
            ],
        );
        assert!(matches!(overlap, Err(TextError::OverlappingEdits { .. })));
        let twice = apply(&f, &[Edit::insert(3, "a"), Edit::insert(3, "b")]);
        assert!(matches!(twice, Err(TextError::OverlappingEdits { .. })));
        let out = apply(&f, &[Edit::replace(Span::new(7, 99), "", "x")]);
        assert!(matches!(out, Err(TextError::SpanOutOfRange { .. })));
    }
}
