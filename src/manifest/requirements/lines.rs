//! Physical and logical lines of a requirements file, as pip joins them, with a map from every
//! byte of a logical line back to the file.
//!
//! pip splits the file into lines, joins a line ending in `\` with the next (dropping the
//! backslash), lets a comment-only line end a continuation, and then strips `#` comments that
//! start the line or follow whitespace. A logical line here keeps, for each piece of its text,
//! where that piece sits in the file, so spans computed on the joined text point at real bytes.

use crate::text::{Mapped, Span};

/// A physical line: its span in the file, without the line break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Physical {
    /// The line's text, without `\n` or `\r\n`.
    pub span: Span,
}

/// Split `text` into physical lines (a last line without a break included; a final break does
/// not start an empty line).
pub fn physical_lines(text: &str) -> Vec<Physical> {
    let mut lines = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            let end = if i > start && bytes[i - 1] == b'\r' {
                i - 1
            } else {
                i
            };
            lines.push(Physical {
                span: Span::new(start, end),
            });
            start = i + 1;
        }
    }
    if start < text.len() {
        let mut end = text.len();
        if bytes[end - 1] == b'\r' {
            end -= 1;
        }
        lines.push(Physical {
            span: Span::new(start, end),
        });
    }
    lines
}

/// A logical line: the joined text with comments removed, and its map to the file.
#[derive(Debug, Clone)]
pub struct Logical {
    /// The joined text, comments stripped, not trimmed (offsets stay meaningful).
    pub text: String,
    /// Index of the first physical line.
    pub first_line: usize,
    /// Index one past the last physical line.
    pub end_line: usize,
    /// The span from the start of the first physical line to the end of the last.
    pub span: Span,
    /// The comment stripped from the end, with its span (the part from `#`).
    pub comment: Option<(String, Span)>,
    mapped: Mapped,
}

impl Logical {
    /// The file span from logical `start` to logical `end` (continuations in between included).
    pub fn map_span(&self, start: usize, end: usize) -> Span {
        self.mapped.cover(start, end)
    }

    /// Whether a logical range sits verbatim in one place of the file (no continuation in
    /// between), so that its file span holds exactly its text.
    pub fn is_contiguous(&self, start: usize, end: usize) -> bool {
        self.mapped.file_span(start, end).is_some()
    }
}

/// Whether a physical line is a comment line (`#` first, after optional whitespace).
fn is_comment_line(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// The start of pip's trailing comment in `text`: a `#` at the start or after whitespace.
pub fn comment_start(text: &str) -> Option<usize> {
    // By characters, not bytes: the last byte of a multi-byte character can look like
    // whitespace (0xA0), and pip's `\s` is Unicode whitespace.
    let mut previous: Option<char> = None;
    let hash = text.char_indices().find_map(|(i, c)| {
        let found = c == '#' && previous.is_none_or(char::is_whitespace);
        previous = Some(c);
        found.then_some(i)
    })?;
    // pip's pattern `(^|\s+)#.*$` also removes the whitespace before the `#`.
    let before = text[..hash].trim_end_matches(char::is_whitespace);
    Some(before.len())
}

/// Join physical lines into logical lines as pip does, and strip comments.
pub fn logical_lines(text: &str, physical: &[Physical]) -> Vec<Logical> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < physical.len() {
        let first = i;
        let mut joined = Mapped::new();
        loop {
            let span = physical[i].span;
            let line = &text[span.range()];
            let continues = line.ends_with('\\') && !is_comment_line(line);
            if continues {
                // pip strips backslashes from both ends of a continued line.
                let lead = line.len() - line.trim_start_matches('\\').len();
                joined.push_file(line.trim_matches('\\'), span.start + lead);
                i += 1;
                if i < physical.len() {
                    continue;
                }
                break;
            }
            if is_comment_line(line) && !joined.is_empty() {
                // A comment line ends a continuation; pip prefixes it with a space.
                joined.push_synthetic(" ");
            }
            joined.push_file(line, span.start);
            i += 1;
            break;
        }
        let span = Span::new(physical[first].span.start, physical[i - 1].span.end);
        let mut comment = None;
        if let Some(start) = comment_start(joined.text()) {
            let hash = start + joined.text()[start..].find('#').unwrap_or(0);
            let comment_span = joined.cover(hash, joined.len());
            comment = Some((joined.text()[hash..].to_owned(), comment_span));
            joined.truncate(start);
        }
        out.push(Logical {
            text: joined.text().to_owned(),
            first_line: first,
            end_line: i,
            span,
            comment,
            mapped: joined,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logical(text: &str) -> Vec<Logical> {
        logical_lines(text, &physical_lines(text))
    }

    #[test]
    fn splits_physical_lines_with_any_ending() {
        let text = "a\r\nb\n\nc";
        let spans: Vec<_> = physical_lines(text)
            .iter()
            .map(|p| &text[p.span.range()])
            .collect();
        assert_eq!(spans, vec!["a", "b", "", "c"]);
        assert_eq!(physical_lines("a\n").len(), 1);
        assert!(physical_lines("").is_empty());
    }

    #[test]
    fn joins_continuations_and_maps_offsets_back() {
        let text =
            "flask==2.2.2 \\\r\n    --hash=sha256:aa \\\r\n    --hash=sha256:bb\r\n    # via x\r\n";
        let lines = logical(text);
        assert_eq!(lines.len(), 2);
        let l = &lines[0];
        assert_eq!(
            l.text,
            "flask==2.2.2     --hash=sha256:aa     --hash=sha256:bb"
        );
        let at = l.text.find("sha256:bb").unwrap();
        let span = l.map_span(at, at + "sha256:bb".len());
        assert_eq!(&text[span.range()], "sha256:bb");
        assert!(l.is_contiguous(at, at + 9));
        let whole = l.map_span(0, l.text.len());
        assert_eq!(whole.start, 0);
        assert!(text[whole.range()].ends_with("sha256:bb"));
        assert!(!l.is_contiguous(0, l.text.len()));
        assert_eq!(lines[1].comment.as_ref().unwrap().0, "# via x");
        assert_eq!(lines[1].text, "");
    }

    #[test]
    fn comments_follow_pips_rule() {
        let lines = logical("pkg @ https://x/y.zip#egg=pkg # note\n#whole\nflask==1 #c\n");
        assert_eq!(lines[0].text, "pkg @ https://x/y.zip#egg=pkg");
        assert_eq!(lines[0].comment.as_ref().unwrap().0, "# note");
        assert_eq!(lines[1].text, "");
        assert_eq!(lines[2].text, "flask==1");
    }

    #[test]
    fn a_comment_line_ends_a_continuation_and_a_trailing_backslash_at_eof_is_kept_open() {
        let lines = logical("a==1 \\\n# comment\nb==2 \\");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].text, "a==1");
        assert_eq!(lines[0].end_line, 2);
        assert_eq!(lines[1].text, "b==2 ");
    }
}
