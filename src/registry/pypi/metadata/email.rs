//! The email-header format of core metadata, read as `packaging.metadata.parse_email` reads it:
//! Python's `email` parser with the `compat32` policy.
//!
//! The rules that matter (and that a line-by-line reader gets wrong):
//!
//! - lines end with `\r\n`, `\n` or a lone `\r`;
//! - a line starting with a space or a tab continues the previous header, **even when it holds
//!   nothing but whitespace** (the blank lines inside a multi-line `License:` are such lines:
//!   they do not end the headers);
//! - only a truly empty line ends the headers; the rest of the text is the body (the
//!   description);
//! - a line that is neither a header (`Name:`, the name printable ASCII without a colon), a
//!   continuation, nor empty ends the headers too, and is itself the first line of the body;
//! - a header's value is everything after the colon, leading spaces and tabs removed, its
//!   continuation lines kept with their line breaks and indentation (folded), trailing line
//!   breaks removed; a name is matched case-insensitively but not trimmed (`Name :` is another
//!   field, as in Python);
//! - a continuation before any header, a line starting with a colon, and an mbox `From ` line
//!   are ignored.

/// The headers and the body of a metadata text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email<'a> {
    /// Every header in order: (name as written, value with its folding kept).
    pub headers: Vec<(&'a str, String)>,
    /// The body after the blank line (or after the first line that is not a header), when
    /// there is one and it is not empty.
    pub body: Option<&'a str>,
}

impl Email<'_> {
    /// Every value of the field `name` (any case), in order.
    pub fn all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of the field `name` (any case).
    pub fn first<'s>(&'s self, name: &'s str) -> Option<&'s str> {
        self.all(name).next()
    }
}

/// The line starting at `at`, with its line break (`\r\n`, `\n` or `\r`).
fn line_at(text: &str, at: usize) -> &str {
    let rest = &text[at..];
    match rest.find(['\r', '\n']) {
        None => rest,
        Some(i) if rest[i..].starts_with("\r\n") => &rest[..i + 2],
        Some(i) => &rest[..=i],
    }
}

/// The line without its line break.
fn content(line: &str) -> &str {
    line.trim_end_matches(['\r', '\n'])
}

/// Whether Python's `headerRE` accepts the line: `From `, a continuation, or a field name of
/// printable ASCII other than `:` followed by `:`.
fn is_header_line(line: &str) -> bool {
    if line.starts_with("From ") || line.starts_with([' ', '\t']) {
        return true;
    }
    let name_end = line
        .bytes()
        .position(|b| !(b'\x21'..=b'\x7e').contains(&b) || b == b':')
        .unwrap_or(line.len());
    line.as_bytes().get(name_end) == Some(&b':')
}

/// Split a metadata text into its headers and body.
pub fn parse(text: &str) -> Email<'_> {
    let mut headers: Vec<(&str, String)> = Vec::new();
    // The header being read: its name and its source lines (with their line breaks).
    let mut current: Option<(&str, Vec<&str>)> = None;
    fn flush<'t>(
        current: &mut Option<(&'t str, Vec<&'t str>)>,
        headers: &mut Vec<(&'t str, String)>,
    ) {
        if let Some((name, lines)) = current.take() {
            let value: String = lines.concat();
            headers.push((name, value.trim_end_matches(['\r', '\n']).to_owned()));
        }
    }
    let mut at = 0;
    let mut body_start = None;
    while at < text.len() {
        let line = line_at(text, at);
        if !is_header_line(line) {
            // An empty line separates the body; any other line is the body's first line.
            body_start = Some(if content(line).is_empty() {
                at + line.len()
            } else {
                at
            });
            break;
        }
        at += line.len();
        if line.starts_with([' ', '\t']) {
            if let Some((_, lines)) = current.as_mut() {
                lines.push(line);
            }
            continue;
        }
        flush(&mut current, &mut headers);
        if line.starts_with("From ") {
            continue;
        }
        match line.find(':') {
            Some(0) | None => {}
            Some(colon) => {
                let value = line[colon + 1..].trim_start_matches([' ', '\t']);
                current = Some((&line[..colon], vec![value]));
            }
        }
    }
    flush(&mut current, &mut headers);
    let body = body_start
        .map(|start| &text[start..])
        .filter(|b| !b.is_empty());
    Email { headers, body }
}

/// A folded value on one line: each line break and the indentation after it become one space
/// (RFC 822 unfolding, with the indentation collapsed), for fields that are one logical line
/// (`Requires-Dist`, `Requires-Python`, ...).
pub fn unfold(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut lines = value.split(['\r', '\n']).filter(|l| !l.is_empty());
    if let Some(first) = lines.next() {
        out.push_str(first.trim_end());
    }
    for line in lines {
        let line = line.trim();
        if !line.is_empty() {
            out.push(' ');
            out.push_str(line);
        }
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_only_continuation_lines_do_not_end_the_headers() {
        let text = "Metadata-Version: 2.1\nName: demo\nLicense: first line\n         \n  second paragraph\n\t\nRequires-Dist: after-license\n\nbody\n";
        let email = parse(text);
        assert_eq!(
            email.first("license"),
            Some("first line\n         \n  second paragraph\n\t")
        );
        assert_eq!(email.first("Requires-Dist"), Some("after-license"));
        assert_eq!(email.body, Some("body\n"));
    }

    #[test]
    fn line_breaks_of_every_kind() {
        let email = parse("Name: a\r\nVersion: 1\rSummary: s\n  more\r\n\r\nthe body\r\n");
        assert_eq!(email.first("name"), Some("a"));
        assert_eq!(email.first("version"), Some("1"));
        assert_eq!(email.first("summary"), Some("s\n  more"));
        assert_eq!(email.body, Some("the body\r\n"));
    }

    #[test]
    fn a_line_that_is_not_a_header_starts_the_body() {
        let email = parse("Name: a\nthis is not a header\nRequires-Dist: b\n");
        assert_eq!(email.headers, [("Name", "a".to_owned())]);
        assert_eq!(email.body, Some("this is not a header\nRequires-Dist: b\n"));
        // A name with a space is not a name either.
        let email = parse("Name: a\nRequires Dist: b\n");
        assert_eq!(email.headers.len(), 1);
    }

    #[test]
    fn odd_lines_are_ignored_as_python_ignores_them() {
        let email = parse(
            "  leading continuation\nFrom someone\n: no name\nName:x\nA: 1\n\t\nB: 2\r\n\r\nbody",
        );
        assert_eq!(
            email.headers,
            [
                ("Name", "x".to_owned()),
                ("A", "1\n\t".to_owned()),
                ("B", "2".to_owned())
            ]
        );
        assert_eq!(email.body, Some("body"));
        // A space before the colon makes it no header: the body starts there.
        let email = parse("Name : spaced\nName:x\n");
        assert_eq!(email.headers, []);
        assert_eq!(email.body, Some("Name : spaced\nName:x\n"));
        assert_eq!(parse("").headers, []);
        assert_eq!(parse("Name: a\n\n").body, None);
    }

    #[test]
    fn unfolding() {
        assert_eq!(
            unfold("foo >=1\n   ; extra == 'x'"),
            "foo >=1 ; extra == 'x'"
        );
        assert_eq!(unfold("  a  \r\n\t\r\n b"), "a b");
        assert_eq!(unfold(""), "");
    }
}
