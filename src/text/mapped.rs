//! Text assembled from pieces of a file (joined continuation lines, substituted variables),
//! that remembers where each piece came from.
//!
//! Parsers build the text they reason about (a logical line, a Dockerfile reference after `ARG`
//! substitution) as a [`Mapped`]; a range of that text maps back to the file, and
//! [`Mapped::file_span`] says whether the range sits verbatim in one place, which is what an
//! edit needs.

use super::span::Span;

/// A piece of the text and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Piece {
    /// Start in the assembled text.
    at: usize,
    /// Start in the file, or `None` for text that is not in the file verbatim.
    file: Option<usize>,
    /// Length in bytes.
    len: usize,
}

/// Assembled text with its map to file offsets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapped {
    text: String,
    pieces: Vec<Piece>,
}

impl Mapped {
    /// Empty text.
    pub fn new() -> Self {
        Mapped::default()
    }

    /// Text that sits verbatim in the file at `span`.
    pub fn from_file(text: &str, span: Span) -> Self {
        let mut m = Mapped::new();
        m.push_file(&text[span.range()], span.start);
        m
    }

    /// The assembled text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// How many bytes of memory it holds (text and map), for callers that bound what they build.
    pub fn footprint(&self) -> usize {
        self.text.len() + self.pieces.len() * std::mem::size_of::<Piece>()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Append text found verbatim at file offset `file`.
    pub fn push_file(&mut self, text: &str, file: usize) {
        if text.is_empty() {
            return;
        }
        // Merge with the previous piece when it continues it in the file.
        if let Some(last) = self.pieces.last_mut() {
            if last.file.is_some_and(|f| f + last.len == file) {
                last.len += text.len();
                self.text.push_str(text);
                return;
            }
        }
        self.pieces.push(Piece {
            at: self.text.len(),
            file: Some(file),
            len: text.len(),
        });
        self.text.push_str(text);
    }

    /// Append text that is not in the file verbatim (an unescaped character, a space pip adds).
    pub fn push_synthetic(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        self.pieces.push(Piece {
            at: self.text.len(),
            file: None,
            len: text.len(),
        });
        self.text.push_str(text);
    }

    /// Append `other[start..end]` with its own provenance.
    pub fn push_slice(&mut self, other: &Mapped, start: usize, end: usize) {
        for piece in &other.pieces {
            let s = piece.at.max(start);
            let e = (piece.at + piece.len).min(end);
            if s >= e {
                continue;
            }
            let text = &other.text[s..e];
            match piece.file {
                Some(f) => self.push_file(text, f + (s - piece.at)),
                None => self.push_synthetic(text),
            }
        }
    }

    /// A new `Mapped` holding `self[start..end]`.
    pub fn slice(&self, start: usize, end: usize) -> Mapped {
        let mut m = Mapped::new();
        m.push_slice(self, start, end);
        m
    }

    /// Cut the text at `len`.
    pub fn truncate(&mut self, len: usize) {
        self.text.truncate(len);
        self.pieces.retain(|p| p.at < len);
        if let Some(last) = self.pieces.last_mut() {
            last.len = last.len.min(len - last.at);
        }
    }

    /// The file span holding exactly `self[start..end]`, when that range sits verbatim in one
    /// place (within one piece). An empty range maps to an insertion point when one is known.
    pub fn file_span(&self, start: usize, end: usize) -> Option<Span> {
        if start == end {
            return self.insertion_point(start).map(Span::empty);
        }
        self.pieces.iter().find_map(|p| {
            let f = p.file?;
            (start >= p.at && end <= p.at + p.len)
                .then(|| Span::new(f + start - p.at, f + end - p.at))
        })
    }

    /// The file span of the part of `start..end` that sits verbatim in the piece holding
    /// `start` (the first place the range's text comes from), if that piece is mapped.
    pub fn first_span(&self, start: usize, end: usize) -> Option<Span> {
        self.pieces.iter().find_map(|p| {
            let f = p.file?;
            (start >= p.at && start < p.at + p.len).then(|| {
                let stop = end.min(p.at + p.len);
                Span::new(f + start - p.at, f + stop - p.at)
            })
        })
    }

    /// Whether any file byte of this text lies in `span`, or an insertion at `span` (when
    /// empty) falls inside or at the edge of a mapped piece.
    pub fn touches(&self, span: Span) -> bool {
        self.pieces.iter().any(|p| {
            p.file.is_some_and(|f| {
                let end = f + p.len;
                if span.is_empty() {
                    span.start >= f && span.start <= end
                } else {
                    span.start < end && f < span.end
                }
            })
        })
    }

    /// Where in the file text inserted at `offset` would go: inside a mapped piece, or at the
    /// end of the mapped piece ending there (preferred, so that text appended to a value joins
    /// that value), or at the start of the one beginning there.
    pub fn insertion_point(&self, offset: usize) -> Option<usize> {
        let ending = self
            .pieces
            .iter()
            .find(|p| p.file.is_some() && p.at < offset && offset == p.at + p.len);
        if let Some(p) = ending {
            return p.file.map(|f| f + p.len);
        }
        self.pieces.iter().find_map(|p| {
            let f = p.file?;
            (offset >= p.at && offset < p.at + p.len.max(1)).then(|| f + offset - p.at)
        })
    }

    /// The file span from where `start` is to where `end` is, continuations and other pieces in
    /// between included (for diagnostics and whole-entry spans). Unmapped ends fall back to the
    /// nearest mapped piece.
    pub fn cover(&self, start: usize, end: usize) -> Span {
        let first = self.locate(start, true);
        let last = if end > start {
            self.locate(end, false)
        } else {
            first
        };
        Span::new(first, last.max(first))
    }

    fn locate(&self, offset: usize, forward: bool) -> usize {
        let mut best = None;
        for p in &self.pieces {
            let Some(f) = p.file else { continue };
            let inside = if forward {
                offset >= p.at && offset < p.at + p.len
            } else {
                offset > p.at && offset <= p.at + p.len
            };
            if inside {
                return f + offset - p.at;
            }
            if p.at + p.len <= offset {
                best = Some(f + p.len);
            } else if best.is_none() {
                return f;
            }
        }
        best.unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_ranges_within_and_across_pieces() {
        let file = "FROM python:${PY}-slim\nARG PY=3.12\n";
        // Assemble "python:3.12-slim" as substitution would.
        let mut m = Mapped::new();
        m.push_file("python:", 5);
        let default = file.find("3.12").unwrap();
        m.push_file("3.12", default);
        m.push_file("-slim", file.find("-slim").unwrap());
        assert_eq!(m.text(), "python:3.12-slim");
        let tag = 7..16;
        assert_eq!(
            m.file_span(tag.start, tag.end),
            None,
            "the tag spans two places"
        );
        let minor = m.file_span(10, 11).unwrap();
        assert_eq!(&file[minor.range()], "2");
        // Appending after the tag goes after `-slim` in the FROM line.
        let insert = m.insertion_point(16).unwrap();
        assert_eq!(&file[insert..insert + 1], "\n");
        let cover = m.cover(0, 16);
        assert_eq!(cover.start, 5);
        assert_eq!(m.slice(7, 11).text(), "3.12");
        assert_eq!(
            m.slice(7, 11).file_span(0, 4).map(|s| &file[s.range()]),
            Some("3.12")
        );
    }

    #[test]
    fn merges_adjacent_pieces_and_keeps_synthetic_text_unmapped() {
        let mut m = Mapped::new();
        m.push_file("ab", 0);
        m.push_file("cd", 2);
        m.push_synthetic(" ");
        m.push_file("ef", 10);
        assert_eq!(m.file_span(0, 4), Some(Span::new(0, 4)));
        assert_eq!(m.file_span(3, 6), None);
        assert_eq!(m.file_span(5, 7), Some(Span::new(10, 12)));
        m.truncate(4);
        assert_eq!(m.text(), "abcd");
        assert_eq!(m.file_span(0, 4), Some(Span::new(0, 4)));
    }
}
