//! Splitting a Dockerfile into instructions, as BuildKit's parser does.
//!
//! Parser directives (`# syntax=`, `# escape=`) are read from the top; comment lines and empty
//! lines are skipped, also inside a continued instruction; a line ending in the escape character
//! (trailing whitespace allowed) continues on the next; heredoc bodies (`RUN <<EOF`) are skipped
//! up to their terminator. Each instruction keeps its arguments as [`Mapped`] text, so every
//! position in them maps back to the file.

use crate::text::{Mapped, Span};

/// Parser directives from the top of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directives {
    /// `# syntax=...`
    pub syntax: Option<String>,
    /// Where the `syntax` value is (an image reference BuildKit pulls as the frontend).
    pub syntax_span: Option<Span>,
    /// `# escape=...`: `\` or `` ` ``.
    pub escape: char,
}

/// One instruction.
#[derive(Debug, Clone)]
pub struct Instruction {
    /// The keyword, upper-cased (`FROM`, `RUN`).
    pub keyword: String,
    /// Where the keyword is.
    pub keyword_span: Span,
    /// The arguments after the keyword, continuations joined, with their map to the file.
    pub args: Mapped,
    /// From the keyword to the end of the last line of the instruction (heredocs excluded).
    pub span: Span,
}

/// A line that is not an instruction (a template line, a stray word).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stray {
    /// The line.
    pub span: Span,
}

/// The result of splitting a file.
#[derive(Debug, Clone)]
pub struct Lexed {
    /// Directives.
    pub directives: Directives,
    /// Instructions in order.
    pub instructions: Vec<Instruction>,
    /// Lines that are neither instructions, comments nor blank.
    pub strays: Vec<Stray>,
    /// Heredocs whose terminator never came (the body ran to the end of the file).
    pub unterminated_heredocs: Vec<Span>,
}

/// Lines of the text with their spans (without the line break; `\r` before `\n` excluded).
fn lines(text: &str) -> Vec<Span> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            let end = if i > start && bytes[i - 1] == b'\r' {
                i - 1
            } else {
                i
            };
            out.push(Span::new(start, end));
            start = i + 1;
        }
    }
    if start < text.len() {
        let end = if bytes[text.len() - 1] == b'\r' {
            text.len() - 1
        } else {
            text.len()
        };
        out.push(Span::new(start, end));
    }
    out
}

const KEYWORDS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// Read the parser directives at the top of the file: `# key=value` lines before anything else.
fn directives(text: &str, lines: &[Span]) -> Directives {
    let mut directives = Directives {
        syntax: None,
        syntax_span: None,
        escape: '\\',
    };
    for line in lines {
        let raw = &text[line.range()];
        let l = raw.trim();
        let Some(body) = l.strip_prefix('#') else {
            break;
        };
        let Some((key, value)) = body.split_once('=') else {
            break;
        };
        let key = key.trim().to_ascii_lowercase();
        if key.is_empty() || key.contains(char::is_whitespace) {
            break;
        }
        let value = value.trim();
        // The value's place: after the first `=` of the line, past the spaces around it.
        let after_eq = raw.find('=').map_or(0, |at| at + 1);
        let start =
            line.start + after_eq + (raw[after_eq..].len() - raw[after_eq..].trim_start().len());
        match key.as_str() {
            "syntax" => {
                directives.syntax = Some(value.to_owned());
                directives.syntax_span = Some(Span::new(start, start + value.len()));
            }
            "escape" if value == "`" => directives.escape = '`',
            _ => {}
        }
    }
    directives
}

/// Heredoc terminators opened on an instruction line: `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'`.
fn heredocs(args: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut rest = args;
    while let Some(at) = rest.find("<<") {
        let mut word = &rest[at + 2..];
        let strip_tabs = word.starts_with('-');
        if strip_tabs {
            word = &word[1..];
        }
        let (quote, body) = match word.chars().next() {
            Some(q @ ('"' | '\'')) => (Some(q), &word[1..]),
            _ => (None, word),
        };
        let end = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
            .unwrap_or(body.len());
        let name = &body[..end];
        let closed = match quote {
            Some(q) => body[end..].starts_with(q),
            None => true,
        };
        if !name.is_empty() && closed && !name.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            out.push((name.to_owned(), strip_tabs));
        }
        rest = &body[end..];
    }
    out
}

/// Split `text` into instructions.
pub fn lex(text: &str) -> Lexed {
    let lines = lines(text);
    let directives = directives(text, &lines);
    let escape = directives.escape;
    let mut instructions = Vec::new();
    let mut strays = Vec::new();
    let mut unterminated_heredocs = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let span = lines[i];
        let line = &text[span.range()];
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let lead = line.len() - trimmed.len();
        let keyword_len = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
        let keyword = trimmed[..keyword_len].to_ascii_uppercase();
        let keyword_span = Span::new(span.start + lead, span.start + lead + keyword_len);
        if !KEYWORDS.contains(&keyword.as_str()) {
            strays.push(Stray { span });
            i += 1;
            continue;
        }
        // Collect the instruction's lines, joining continuations.
        let mut args = Mapped::new();
        let mut first = true;
        let mut end;
        loop {
            let s = lines[i];
            let l = &text[s.range()];
            let (start_in_line, body) = if first {
                let after = lead + keyword_len;
                (after, &l[after..])
            } else {
                (0, l)
            };
            first = false;
            let trimmed_end = body.trim_end();
            let continues =
                trimmed_end.ends_with(escape) && !ends_with_escaped_escape(trimmed_end, escape);
            let piece = if continues {
                &trimmed_end[..trimmed_end.len() - escape.len_utf8()]
            } else {
                body
            };
            args.push_file(piece, s.start + start_in_line);
            end = s.end;
            i += 1;
            if !continues {
                break;
            }
            // Comment lines and empty lines inside a continuation are dropped.
            while i < lines.len() {
                let next = text[lines[i].range()].trim_start();
                if next.is_empty() || next.starts_with('#') {
                    i += 1;
                } else {
                    break;
                }
            }
            if i >= lines.len() {
                break;
            }
        }
        // Heredoc bodies follow the instruction line(s).
        if matches!(keyword.as_str(), "RUN" | "COPY" | "ADD") {
            for (name, strip_tabs) in heredocs(args.text()) {
                let body_start = lines.get(i).map_or(text.len(), |s| s.start);
                let mut terminated = false;
                while i < lines.len() {
                    let l = &text[lines[i].range()];
                    let candidate = if strip_tabs {
                        l.trim_start_matches('\t')
                    } else {
                        l
                    };
                    i += 1;
                    if candidate == name {
                        terminated = true;
                        break;
                    }
                }
                if !terminated {
                    unterminated_heredocs.push(Span::new(body_start, text.len()));
                }
            }
        }
        instructions.push(Instruction {
            keyword,
            keyword_span,
            args,
            span: Span::new(keyword_span.start, end),
        });
    }
    Lexed {
        directives,
        instructions,
        strays,
        unterminated_heredocs,
    }
}

/// `\\` at the end of a line is an escaped backslash only in Windows-style paths with the
/// backtick escape; with `\` as escape, BuildKit treats any trailing `\` as a continuation.
fn ends_with_escaped_escape(text: &str, escape: char) -> bool {
    escape == '`' && text.ends_with("``")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keywords(l: &Lexed) -> Vec<(&str, &str)> {
        l.instructions
            .iter()
            .map(|i| (i.keyword.as_str(), i.args.text()))
            .collect()
    }

    #[test]
    fn reads_directives_continuations_comments_and_case() {
        let text = "# syntax = docker/dockerfile:1.4\r\n# escape=`\r\nfrom python:3.12 AS base\r\nRUN pip install `  \r\n  # a comment inside\r\n\r\n    flask==3.1.0\r\ncopy . .\r\n";
        let l = lex(text);
        assert_eq!(
            l.directives.syntax.as_deref(),
            Some("docker/dockerfile:1.4")
        );
        let at = l.directives.syntax_span.unwrap();
        assert_eq!(&text[at.range()], "docker/dockerfile:1.4");
        assert_eq!(l.directives.escape, '`');
        assert_eq!(
            keywords(&l),
            vec![
                ("FROM", " python:3.12 AS base"),
                ("RUN", " pip install     flask==3.1.0"),
                ("COPY", " . .")
            ]
        );
        let run = &l.instructions[1];
        let at = run.args.text().find("flask").unwrap();
        let span = run.args.file_span(at, at + 12).unwrap();
        assert_eq!(&text[span.range()], "flask==3.1.0");
    }

    #[test]
    fn skips_heredoc_bodies() {
        let text = "FROM python:3.12\nRUN <<EOF\nFROM not-an-instruction\nEOF\nRUN <<-'END' cat > x <<EOF2\n\tbody\n\tEND\nmore\nEOF2\nCMD [\"x\"]\n";
        let l = lex(text);
        assert_eq!(
            keywords(&l).iter().map(|k| k.0).collect::<Vec<_>>(),
            vec!["FROM", "RUN", "RUN", "CMD"]
        );
        assert!(l.unterminated_heredocs.is_empty());
        let open = lex("RUN <<EOF\nnever closed\n");
        assert_eq!(open.unterminated_heredocs.len(), 1);
    }

    #[test]
    fn directives_stop_at_the_first_other_line_and_strays_are_kept() {
        let l = lex("FROM a\n# escape=`\n{% if x %}\nRUN b\n");
        assert_eq!(l.directives.escape, '\\');
        assert_eq!(l.strays.len(), 1);
        assert_eq!(l.instructions.len(), 2);
    }
}
