//! Byte spans into decoded text, and line/column lookup.

use serde::Serialize;

/// A half-open byte range `start..end` into a [`SourceFile`](super::SourceFile)'s text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize)]
pub struct Span {
    /// First byte of the span.
    pub start: usize,
    /// One past the last byte of the span.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`; `end` must not be before `start`.
    pub fn new(start: usize, end: usize) -> Self {
        debug_assert!(start <= end, "span {start}..{end} is reversed");
        Span { start, end }
    }

    /// An empty span at `offset`: where an insertion goes.
    pub fn empty(offset: usize) -> Self {
        Span {
            start: offset,
            end: offset,
        }
    }

    /// The span as a range, for slicing.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start..self.end
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        self.end - self.start
    }

    /// Whether the span covers no byte.
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The span moved right by `delta` bytes (for spans computed on a substring).
    pub fn shift(self, delta: usize) -> Self {
        Span::new(self.start + delta, self.end + delta)
    }

    /// The smallest span covering both.
    pub fn cover(self, other: Span) -> Self {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// Whether `other` lies within this span.
    pub fn contains(self, other: Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

/// A 1-based line and column; columns count characters, not bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in characters from the start of the line.
    pub column: usize,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Start offsets of every line, for offset-to-position lookup in `O(log n)`.
///
/// Lines break at `\n`; a `\r` right before it belongs to the break, so `\r\n` counts once.
#[derive(Debug, Clone, Default)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Index the lines of `text`.
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    /// The 0-based line number holding `offset`.
    fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        }
    }

    /// The position of `offset` in `text` (the text this index was built from).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let offset = offset.min(text.len());
        let line = self.line_of(offset);
        let start = self.starts[line];
        let column = text
            .get(start..offset)
            .map_or(offset - start, |prefix| prefix.chars().count())
            + 1;
        Position {
            line: line + 1,
            column,
        }
    }

    /// The span of the line holding `offset`, without `\n` or `\r\n`.
    pub fn line_span(&self, text: &str, offset: usize) -> Span {
        let line = self.line_of(offset.min(text.len()));
        let start = self.starts[line];
        let mut end = self
            .starts
            .get(line + 1)
            .map_or(text.len(), |next| next - 1);
        if end > start && text.as_bytes()[end - 1] == b'\r' && end < text.len() {
            end -= 1;
        }
        Span::new(start, end)
    }

    /// The text of the line holding `offset`, without its break.
    pub fn line_text<'t>(&self, text: &'t str, offset: usize) -> &'t str {
        &text[self.line_span(text, offset).range()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_crlf_once_and_characters_not_bytes() {
        let text = "ab\r\nçd\nlast";
        let index = LineIndex::new(text);
        let at = |o| {
            let p = index.position(text, o);
            (p.line, p.column)
        };
        assert_eq!(at(0), (1, 1));
        assert_eq!(at(2), (1, 3)); // the \r
        assert_eq!(at(4), (2, 1));
        assert_eq!(at(6), (2, 2)); // after the two-byte ç
        assert_eq!(at(8), (3, 1));
        assert_eq!(at(text.len()), (3, 5));
        assert_eq!(index.line_text(text, 1), "ab");
        assert_eq!(index.line_text(text, 5), "çd");
        assert_eq!(index.line_text(text, 10), "last");
    }

    #[test]
    fn span_helpers() {
        let s = Span::new(2, 5);
        assert_eq!(s.len(), 3);
        assert_eq!(s.shift(10), Span::new(12, 15));
        assert_eq!(s.cover(Span::new(7, 8)), Span::new(2, 8));
        assert!(s.contains(Span::new(3, 5)));
        assert!(!s.contains(Span::new(3, 6)));
        assert!(Span::empty(4).is_empty());
    }
}
