//! Diagnostics that point at a place in a file: `path:line:col: message`, the line, a caret.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::source::SourceFile;
use super::span::Span;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something repin noticed and carried on past; no dependency was lost.
    Warning,
    /// Something repin could not read; the dependency or file it concerns is not handled.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A message about a place in a file, self-contained so it can outlive the file it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The file the diagnostic is about.
    pub path: PathBuf,
    /// 1-based line, or 0 when the diagnostic is about the whole file.
    pub line: usize,
    /// 1-based column in characters, or 0 when about the whole file.
    pub column: usize,
    /// How serious it is.
    pub severity: Severity,
    /// What is wrong: a capital first letter, no trailing period.
    pub message: String,
    /// Underlying causes, printed as `Caused by:` lines.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<String>,
    /// What the user can do about it, printed as a `hint:` line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The source line and where the caret goes, when the diagnostic has a place.
    #[serde(skip)]
    pub snippet: Option<Snippet>,
}

/// The line a diagnostic points into, and the part of it to underline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    /// The line's text without its break.
    pub line: String,
    /// Byte offset in `line` where the caret starts.
    pub start: usize,
    /// Byte offset in `line` where the caret ends (at least one caret is printed).
    pub end: usize,
}

impl Diagnostic {
    /// A diagnostic about `span` in `file`.
    pub fn at(
        file: &SourceFile,
        span: Span,
        severity: Severity,
        message: impl Into<String>,
    ) -> Self {
        let position = file.position(span.start);
        let line_span = file.line_span(span.start);
        let line = file.slice(line_span);
        // The caret stays on the line: a span may start on the `\r` of a `\r\n` break (where
        // `toml` reports a stray carriage return), past the line's text, or inside a character.
        let floor = |offset: usize| {
            let mut at = offset.clamp(line_span.start, line_span.end) - line_span.start;
            while !line.is_char_boundary(at) {
                at -= 1;
            }
            at
        };
        let start = floor(span.start);
        let end = floor(span.end.max(span.start)).max(start);
        Diagnostic {
            path: file.path().to_path_buf(),
            line: position.line,
            column: position.column,
            severity,
            message: message.into(),
            causes: Vec::new(),
            hint: None,
            snippet: Some(Snippet {
                line: line.to_owned(),
                start,
                end,
            }),
        }
    }

    /// An error about `span` in `file`.
    pub fn error(file: &SourceFile, span: Span, message: impl Into<String>) -> Self {
        Self::at(file, span, Severity::Error, message)
    }

    /// A warning about `span` in `file`.
    pub fn warning(file: &SourceFile, span: Span, message: impl Into<String>) -> Self {
        Self::at(file, span, Severity::Warning, message)
    }

    /// A diagnostic about a whole file (it could not be read, say).
    pub fn file(path: &Path, severity: Severity, message: impl Into<String>) -> Self {
        Diagnostic {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            severity,
            message: message.into(),
            causes: Vec::new(),
            hint: None,
            snippet: None,
        }
    }

    /// Add a `Caused by:` line.
    pub fn caused_by(mut self, cause: impl Into<String>) -> Self {
        self.causes.push(cause.into());
        self
    }

    /// Add a `hint:` line.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Whether this is an error (as opposed to a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// Renders as:
    ///
    /// ```text
    /// requirements.txt:3:8: error: Invalid version `2.0.x`
    ///   flask==2.0.x
    ///          ^^^^^
    ///   Caused by: ...
    ///   hint: ...
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}:{}: ", self.path.display(), self.line, self.column)?;
        } else {
            write!(f, "{}: ", self.path.display())?;
        }
        write!(f, "{}: {}", self.severity, self.message)?;
        if let Some(snippet) = &self.snippet {
            // Keep tabs in the padding so the caret lines up under tab-indented text.
            // `Snippet`'s fields are public: render whatever offsets it holds without panicking.
            let before = snippet.line.get(..snippet.start).unwrap_or_default();
            let pad: String = before
                .chars()
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let width = snippet
                .line
                .get(snippet.start..snippet.end)
                .map_or(0, |s| s.chars().count())
                .max(1);
            write!(f, "\n  {}\n  {}{}", snippet.line, pad, "^".repeat(width))?;
        }
        for cause in &self.causes {
            write!(f, "\n  Caused by: {cause}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Encoding;

    #[test]
    fn renders_path_line_column_line_and_caret() {
        let file = SourceFile::from_text(
            "reqs/requirements.txt",
            Encoding::Utf8,
            "django==4.2\r\n\tflask==2.0.x\r\n".into(),
        );
        let diag = Diagnostic::error(&file, Span::new(20, 25), "Invalid version `2.0.x`")
            .caused_by("Expected a version number")
            .with_hint("write an exact version such as `2.0.3`");
        assert_eq!(
            diag.to_string(),
            "reqs/requirements.txt:2:8: error: Invalid version `2.0.x`\n  \tflask==2.0.x\n  \t      ^^^^^\n  Caused by: Expected a version number\n  hint: write an exact version such as `2.0.3`"
        );
    }

    #[test]
    fn spans_off_the_line_render_without_panicking() {
        // Found by the `config` fuzz target: `toml` reported a stray `\r` whose span started on
        // the `\r` of a `\r\n` break, past the end of the line's text.
        let file = SourceFile::from_text("repin.toml", Encoding::Utf8, "a = 1\r\nç\n".into());
        let on_cr = Diagnostic::error(&file, Span::new(5, 6), "Stray carriage return");
        assert_eq!(
            on_cr.to_string(),
            "repin.toml:1:6: error: Stray carriage return\n  a = 1\n       ^"
        );
        let in_char = Diagnostic::error(&file, Span::new(8, 9), "Inside a character");
        assert!(in_char.to_string().ends_with("\n  ç\n  ^"), "{in_char}");
        let past_end = Diagnostic::error(&file, Span::new(40, 50), "Past the end");
        assert!(
            past_end
                .to_string()
                .starts_with("repin.toml:3:1: error: Past the end")
        );
        let mut odd = on_cr.clone();
        odd.snippet = Some(Snippet {
            line: "ç".into(),
            start: 1,
            end: 9,
        });
        assert!(odd.to_string().ends_with("\n  ç\n  ^"), "{odd}");
    }

    #[test]
    fn empty_span_gets_one_caret_and_whole_file_has_no_position() {
        let file = SourceFile::from_text("D", Encoding::Utf8, "FROM\n".into());
        let diag = Diagnostic::error(&file, Span::empty(4), "Expected an image after FROM");
        assert!(diag.to_string().ends_with("\n  FROM\n      ^"));
        let whole = Diagnostic::file(Path::new("D"), Severity::Error, "Cannot read");
        assert_eq!(whole.to_string(), "D: error: Cannot read");
    }
}
