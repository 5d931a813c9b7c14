//! Source text that round-trips byte for byte: encodings, line endings, spans, edits, diagnostics.
//!
//! Every parser in repin works on a [`SourceFile`]'s decoded text and reports positions as
//! [`Span`]s (byte ranges into that text). Edits are [`Edit`]s spliced by [`apply`], which checks
//! that each span still holds the text it was computed from; the edited file is encoded back in
//! the encoding it was read in, so a UTF-16 file with CRLF line endings stays exactly that.
//! Command lines inside files (a `RUN` command, requirements-file options) are split into
//! words with spans by [`shell_words`], which knows shell quoting and nothing of pip or Docker.

pub mod atomic;
mod diagnostic;
mod edit;
mod mapped;
pub mod repo_fs;
pub mod shell_words;
mod source;
mod span;

use std::path::PathBuf;

pub use diagnostic::{Diagnostic, Severity, Snippet};
pub use edit::{Edit, apply};
pub use mapped::Mapped;
pub use repo_fs::{RepoFsError, RepoRoot};
pub use source::{Encoding, LineEndings, SourceFile};
pub use span::{LineIndex, Position, Span};

/// A path as the user reached it, without a leading `./` (`Dockerfile`, not `./Dockerfile`):
/// the same in every command's output.
pub fn shown(path: &std::path::Path) -> String {
    let text = path.display().to_string();
    match text.strip_prefix("./") {
        Some(rest) if !rest.is_empty() => rest.trim_start_matches('/').to_owned(),
        _ => text,
    }
}

/// `1 update`, `2 updates`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `path:line:col` as messages name a place in a file (without a leading `./`).
pub fn place(path: &std::path::Path, position: Position) -> String {
    let path = path.display().to_string();
    let path = path.strip_prefix("./").unwrap_or(&path);
    format!("{path}:{position}")
}

/// Errors reading, decoding, editing or writing source text.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    /// The file could not be read.
    #[error("Cannot read `{path}`")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file was refused: outside the repository, not a regular file, too large.
    #[error("Refused to read `{path}`")]
    Refused {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: RepoFsError,
    },
    /// The file could not be written.
    #[error("Cannot write `{path}`")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is neither UTF-8 nor marked as UTF-16 by a byte-order mark.
    #[error("{path}:{position}: The file is not valid UTF-8 (byte offset {offset})")]
    InvalidUtf8 {
        /// The file.
        path: PathBuf,
        /// Where the first invalid byte is.
        position: Position,
        /// Byte offset of the first invalid byte in the file.
        offset: usize,
    },
    /// The file has a UTF-16 byte-order mark but is not valid UTF-16.
    #[error("`{path}` is not valid UTF-16: {reason}")]
    InvalidUtf16 {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Decoding and re-encoding the file would change its bytes, so it cannot be edited safely.
    #[error("`{path}` would not be written back byte for byte, so repin does not edit it")]
    NotRoundTrip {
        /// The file.
        path: PathBuf,
    },
    /// Two edits touch the same text.
    #[error("{path}:{second}: Two edits overlap (the other starts at {first})")]
    OverlappingEdits {
        /// The file.
        path: PathBuf,
        /// Where the first edit starts.
        first: Position,
        /// Where the second edit starts.
        second: Position,
    },
    /// An edit's span no longer holds the text it was computed from.
    #[error(
        "{path}:{position}: Expected `{expected}` here but found `{actual}`; the file changed since it was read"
    )]
    StaleEdit {
        /// The file.
        path: PathBuf,
        /// Where the edit starts.
        position: Position,
        /// What the edit expected.
        expected: String,
        /// What is there.
        actual: String,
    },
    /// An edit's span is past the end of the text or splits a character.
    #[error("`{path}`: An edit's span {}..{} does not fit a text of {len} bytes", span.start, span.end)]
    SpanOutOfRange {
        /// The file.
        path: PathBuf,
        /// The span.
        span: Span,
        /// Length of the text.
        len: usize,
    },
}

impl TextError {
    /// The error of reading or writing `path` through a [`RepoRoot`]: an I/O failure stays one,
    /// a refusal is [`TextError::Refused`].
    pub fn from_repo_fs(path: &std::path::Path, error: RepoFsError) -> Self {
        match error {
            RepoFsError::Read { path, source } => TextError::Read { path, source },
            RepoFsError::Write { path, source } => TextError::Write { path, source },
            other => TextError::Refused {
                path: path.to_path_buf(),
                source: other,
            },
        }
    }
}

impl crate::error::Hint for TextError {}
