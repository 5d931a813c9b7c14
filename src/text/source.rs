//! A source file as read from disk: original bytes, detected encoding, decoded text.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::TextError;
use super::span::{LineIndex, Position, Span};

/// The byte encoding a file was read in; edits are written back in the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// UTF-8 without a byte-order mark.
    Utf8,
    /// UTF-8 with a leading `EF BB BF` byte-order mark.
    Utf8Bom,
    /// UTF-16 little endian with a `FF FE` byte-order mark (Windows `pip freeze >`).
    Utf16Le,
    /// UTF-16 big endian with a `FE FF` byte-order mark.
    Utf16Be,
}

impl Encoding {
    /// The byte-order mark this encoding writes before the text.
    pub fn bom(self) -> &'static [u8] {
        match self {
            Encoding::Utf8 => b"",
            Encoding::Utf8Bom => b"\xEF\xBB\xBF",
            Encoding::Utf16Le => b"\xFF\xFE",
            Encoding::Utf16Be => b"\xFE\xFF",
        }
    }

    /// Encode `text` (which holds no byte-order mark) into bytes of this encoding.
    pub fn encode(self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() + 4);
        out.extend_from_slice(self.bom());
        match self {
            Encoding::Utf8 | Encoding::Utf8Bom => out.extend_from_slice(text.as_bytes()),
            Encoding::Utf16Le => text
                .encode_utf16()
                .for_each(|u| out.extend_from_slice(&u.to_le_bytes())),
            Encoding::Utf16Be => text
                .encode_utf16()
                .for_each(|u| out.extend_from_slice(&u.to_be_bytes())),
        }
        out
    }
}

/// The line-ending style of a file, as a summary of all its line breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LineEndings {
    /// Every break is `\n`.
    Lf,
    /// Every break is `\r\n`.
    Crlf,
    /// Both `\n` and `\r\n` occur.
    Mixed,
    /// The file has no line break at all.
    None,
}

impl LineEndings {
    /// The break to use when an edit has to add a new line: the file's own, `\n` when mixed or unknown.
    pub fn newline(self) -> &'static str {
        match self {
            LineEndings::Crlf => "\r\n",
            _ => "\n",
        }
    }
}

/// A file's original bytes with its decoded text; spans index into the text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    path: PathBuf,
    encoding: Encoding,
    text: String,
    index: LineIndex,
}

impl SourceFile {
    /// Read and decode a file the user named (a repository's own files are read through
    /// [`super::RepoRoot`]): only a regular file, of at most [`super::repo_fs::MAX_FILE_SIZE`]
    /// bytes, never a FIFO, a device or a file of `/proc`.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, TextError> {
        let path = path.as_ref();
        let bytes = super::repo_fs::read_regular(path, super::repo_fs::MAX_FILE_SIZE)
            .map_err(|error| TextError::from_repo_fs(path, error))?;
        Self::from_bytes(path, &bytes)
    }

    /// Decode bytes, detecting the encoding from the byte-order mark (UTF-8 when there is none).
    ///
    /// Fails when the bytes are not valid in the detected encoding, or when decoding and
    /// re-encoding would not give the same bytes back: such a file could not be edited losslessly.
    pub fn from_bytes(path: impl Into<PathBuf>, bytes: &[u8]) -> Result<Self, TextError> {
        let path = path.into();
        let (encoding, body) = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
            (Encoding::Utf8Bom, rest)
        } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
            (Encoding::Utf16Le, rest)
        } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
            (Encoding::Utf16Be, rest)
        } else {
            (Encoding::Utf8, bytes)
        };
        let text = match encoding {
            Encoding::Utf8 | Encoding::Utf8Bom => match std::str::from_utf8(body) {
                Ok(text) => text.to_owned(),
                Err(error) => {
                    let valid = std::str::from_utf8(&body[..error.valid_up_to()]).unwrap_or("");
                    let position = LineIndex::new(valid).position(valid, valid.len());
                    return Err(TextError::InvalidUtf8 {
                        path,
                        position,
                        offset: error.valid_up_to() + encoding.bom().len(),
                    });
                }
            },
            Encoding::Utf16Le | Encoding::Utf16Be => {
                if body.len() % 2 != 0 {
                    return Err(TextError::InvalidUtf16 {
                        path,
                        reason: "The file has an odd number of bytes".into(),
                    });
                }
                let units: Vec<u16> = body
                    .chunks_exact(2)
                    .map(|pair| match encoding {
                        Encoding::Utf16Le => u16::from_le_bytes([pair[0], pair[1]]),
                        _ => u16::from_be_bytes([pair[0], pair[1]]),
                    })
                    .collect();
                String::from_utf16(&units).map_err(|_| TextError::InvalidUtf16 {
                    path: path.clone(),
                    reason: "The file holds an unpaired surrogate".into(),
                })?
            }
        };
        let file = Self::from_text(path, encoding, text);
        // Lossless by construction for valid input, but verify: an edit must never change bytes it
        // was not asked to change, and this is where a decoder quirk would show.
        if file.to_bytes() != bytes {
            return Err(TextError::NotRoundTrip { path: file.path });
        }
        Ok(file)
    }

    /// Build a source file from already-decoded text (used after edits, and by tests).
    pub fn from_text(path: impl Into<PathBuf>, encoding: Encoding, text: String) -> Self {
        let index = LineIndex::new(&text);
        SourceFile {
            path: path.into(),
            encoding,
            text,
            index,
        }
    }

    /// The path the file was read from (or is known by).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The detected encoding.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The decoded text, without byte-order mark; spans index into it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The bytes this file encodes to: identical to the bytes read when nothing was edited.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encoding.encode(&self.text)
    }

    /// The text a span covers. Panics when the span is outside the text or splits a character,
    /// which is a bug in whoever made the span.
    pub fn slice(&self, span: Span) -> &str {
        &self.text[span.range()]
    }

    /// The text a span covers, or `None` when the span is out of range or not on character boundaries.
    pub fn get(&self, span: Span) -> Option<&str> {
        self.text.get(span.range())
    }

    /// The 1-based line and column of a byte offset (columns count characters; `\r\n` is one break).
    pub fn position(&self, offset: usize) -> Position {
        self.index.position(&self.text, offset)
    }

    /// The line containing a byte offset, without its line break.
    pub fn line_text(&self, offset: usize) -> &str {
        self.index.line_text(&self.text, offset)
    }

    /// The span of the line containing a byte offset, without its line break.
    pub fn line_span(&self, offset: usize) -> Span {
        self.index.line_span(&self.text, offset)
    }

    /// A summary of the file's line breaks.
    pub fn line_endings(&self) -> LineEndings {
        let bytes = self.text.as_bytes();
        let (mut lf, mut crlf) = (0usize, 0usize);
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'\n' {
                if i > 0 && bytes[i - 1] == b'\r' {
                    crlf += 1;
                } else {
                    lf += 1;
                }
            }
        }
        match (lf, crlf) {
            (0, 0) => LineEndings::None,
            (_, 0) => LineEndings::Lf,
            (0, _) => LineEndings::Crlf,
            _ => LineEndings::Mixed,
        }
    }

    /// Whether the text ends with a line break.
    pub fn has_final_newline(&self) -> bool {
        self.text.ends_with('\n')
    }

    /// The same file with other text, keeping path and encoding.
    pub fn with_text(&self, text: String) -> Self {
        Self::from_text(self.path.clone(), self.encoding, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(text: &str) -> Vec<u8> {
        Encoding::Utf16Le.encode(text)
    }

    #[test]
    fn detects_each_encoding_and_round_trips() {
        let cases: Vec<(Vec<u8>, Encoding)> = vec![
            (b"flask==3.0\n".to_vec(), Encoding::Utf8),
            (b"\xEF\xBB\xBFflask==3.0\r\n".to_vec(), Encoding::Utf8Bom),
            (utf16le("flask==3.0\r\n"), Encoding::Utf16Le),
            (Encoding::Utf16Be.encode("flask==3.0"), Encoding::Utf16Be),
        ];
        for (bytes, encoding) in cases {
            let file = SourceFile::from_bytes("r.txt", &bytes).unwrap();
            assert_eq!(file.encoding(), encoding);
            assert!(file.text().starts_with("flask==3.0"));
            assert_eq!(file.to_bytes(), bytes);
        }
    }

    #[test]
    fn reports_invalid_utf8_with_position() {
        let err = SourceFile::from_bytes("r.txt", b"a==1\nb==\xFF2\n").unwrap_err();
        match err {
            TextError::InvalidUtf8 {
                position, offset, ..
            } => {
                assert_eq!((position.line, position.column), (2, 4));
                assert_eq!(offset, 8);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn rejects_broken_utf16() {
        assert!(matches!(
            SourceFile::from_bytes("r.txt", b"\xFF\xFEa\x00b"),
            Err(TextError::InvalidUtf16 { .. })
        ));
        // An unpaired high surrogate.
        assert!(matches!(
            SourceFile::from_bytes("r.txt", b"\xFF\xFE\x00\xD8a\x00"),
            Err(TextError::InvalidUtf16 { .. })
        ));
    }

    #[test]
    fn summarises_line_endings() {
        let f = |t: &str| SourceFile::from_text("x", Encoding::Utf8, t.into());
        assert_eq!(f("a\nb\n").line_endings(), LineEndings::Lf);
        assert_eq!(f("a\r\nb\r\n").line_endings(), LineEndings::Crlf);
        assert_eq!(f("a\r\nb\n").line_endings(), LineEndings::Mixed);
        assert_eq!(f("a").line_endings(), LineEndings::None);
        assert!(!f("a\nb").has_final_newline());
        assert_eq!(LineEndings::Crlf.newline(), "\r\n");
    }
}
