//! A JSON reader that keeps the span of every value, for `Pipfile.lock`'s `path:line:col`.
//!
//! `serde_json` keeps no places; this reader does, and bounds itself: nesting deeper than
//! [`MAX_DEPTH`] is an error (a `Pipfile.lock` nests four deep), never a stack overflow, and
//! the input is a file already read under the repository's size limit.

use crate::text::Span;

/// The deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 64;

/// A JSON value with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Json,
    /// Where it is, quotes and brackets included.
    pub span: Span,
}

/// A JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// A string, decoded, and whether its bytes between the quotes are its text (no escape).
    String(String, bool),
    /// An array.
    Array(Vec<Node>),
    /// An object: its members in written order, each key with its span.
    Object(Vec<(String, Span, Node)>),
}

impl Node {
    /// The member `key` of an object (the last, as JSON readers commonly take duplicates).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Json::Object(members) => members
                .iter()
                .rev()
                .find(|(k, _, _)| k == key)
                .map(|(_, _, v)| v),
            _ => None,
        }
    }

    /// The string, when this is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Json::String(s, _) => Some(s),
            _ => None,
        }
    }

    /// The boolean, when this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Json::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The span of a string's text when its bytes are its text (inside the quotes).
    pub fn text_span(&self) -> Option<Span> {
        match &self.value {
            Json::String(_, true) => Some(Span::new(self.span.start + 1, self.span.end - 1)),
            _ => None,
        }
    }
}

/// Why a text is not JSON, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct JsonError {
    /// What is wrong.
    pub message: String,
    /// Where (one byte, or empty at the end).
    pub span: Span,
}

/// Parse a whole text as one JSON value.
pub fn parse(text: &str) -> Result<Node, JsonError> {
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    reader.skip_ws();
    let node = reader.value(0)?;
    reader.skip_ws();
    if reader.at < reader.bytes.len() {
        return Err(reader.error("Expected the end of the file after the JSON value"));
    }
    Ok(node)
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn error(&self, message: &str) -> JsonError {
        let end = (self.at + 1).min(self.bytes.len());
        // One whole character: the span must fall on character boundaries.
        let end = (end..=self.bytes.len())
            .find(|&e| self.text.is_char_boundary(e))
            .unwrap_or(self.bytes.len());
        JsonError {
            message: message.to_owned(),
            span: Span::new(self.at, end),
        }
    }

    fn skip_ws(&mut self) {
        while self
            .bytes
            .get(self.at)
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.at += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, JsonError> {
        let start = self.at;
        let value = match self.bytes.get(self.at) {
            None => return Err(self.error("Expected a JSON value, found the end of the file")),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => {
                let (text, verbatim) = self.string()?;
                Json::String(text, verbatim)
            }
            Some(b't') => self.word("true", Json::Bool(true))?,
            Some(b'f') => self.word("false", Json::Bool(false))?,
            Some(b'n') => self.word("null", Json::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => return Err(self.error("Expected a JSON value")),
        };
        Ok(Node {
            value,
            span: Span::new(start, self.at),
        })
    }

    fn word(&mut self, word: &str, value: Json) -> Result<Json, JsonError> {
        if self.text[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(self.error("Expected a JSON value"))
        }
    }

    fn number(&mut self) -> Json {
        let start = self.at;
        while self
            .bytes
            .get(self.at)
            .is_some_and(|b| matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
        {
            self.at += 1;
        }
        Json::Number(self.text[start..self.at].to_owned())
    }

    fn nest(&self, depth: usize) -> Result<usize, JsonError> {
        if depth >= MAX_DEPTH {
            return Err(self.error(&format!("The JSON nests deeper than {MAX_DEPTH} levels")));
        }
        Ok(depth + 1)
    }

    fn array(&mut self, depth: usize) -> Result<Json, JsonError> {
        let depth = self.nest(depth)?;
        self.at += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.bytes.get(self.at) == Some(&b']') {
            self.at += 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.bytes.get(self.at) {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.error("Expected `,` or `]` in an array")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, JsonError> {
        let depth = self.nest(depth)?;
        self.at += 1;
        let mut members = Vec::new();
        self.skip_ws();
        if self.bytes.get(self.at) == Some(&b'}') {
            self.at += 1;
            return Ok(Json::Object(members));
        }
        loop {
            self.skip_ws();
            if self.bytes.get(self.at) != Some(&b'"') {
                return Err(self.error("Expected a string key in an object"));
            }
            let key_start = self.at;
            let (key, _) = self.string()?;
            let key_span = Span::new(key_start, self.at);
            self.skip_ws();
            if self.bytes.get(self.at) != Some(&b':') {
                return Err(self.error("Expected `:` after an object's key"));
            }
            self.at += 1;
            self.skip_ws();
            let value = self.value(depth)?;
            members.push((key, key_span, value));
            self.skip_ws();
            match self.bytes.get(self.at) {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Json::Object(members));
                }
                _ => return Err(self.error("Expected `,` or `}` in an object")),
            }
        }
    }

    /// A string at `"`: its decoded text, and whether no escape was in it.
    fn string(&mut self) -> Result<(String, bool), JsonError> {
        self.at += 1;
        let mut out = String::new();
        let mut verbatim = true;
        loop {
            let run = self.at;
            while self
                .bytes
                .get(self.at)
                .is_some_and(|&b| b != b'"' && b != b'\\' && b >= 0x20)
            {
                self.at += 1;
            }
            out.push_str(&self.text[run..self.at]);
            match self.bytes.get(self.at) {
                Some(b'"') => {
                    self.at += 1;
                    return Ok((out, verbatim));
                }
                Some(b'\\') => {
                    verbatim = false;
                    self.escape(&mut out)?;
                }
                Some(_) => return Err(self.error("A control character inside a string")),
                None => return Err(self.error("A string is not closed")),
            }
        }
    }

    /// One escape at `\`, appended to `out`.
    fn escape(&mut self, out: &mut String) -> Result<(), JsonError> {
        self.at += 1;
        let simple = match self.bytes.get(self.at) {
            Some(b'"') => Some('"'),
            Some(b'\\') => Some('\\'),
            Some(b'/') => Some('/'),
            Some(b'b') => Some('\u{8}'),
            Some(b'f') => Some('\u{c}'),
            Some(b'n') => Some('\n'),
            Some(b'r') => Some('\r'),
            Some(b't') => Some('\t'),
            Some(b'u') => None,
            _ => return Err(self.error("An unknown escape inside a string")),
        };
        if let Some(c) = simple {
            out.push(c);
            self.at += 1;
            return Ok(());
        }
        self.at += 1;
        let first = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&first) && self.text[self.at..].starts_with("\\u") {
            self.at += 2;
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return Err(self.error("An unpaired surrogate inside a string"));
            }
            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        } else {
            first
        };
        out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self
            .text
            .get(self.at..self.at + 4)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("Expected four hex digits after `\\u`"))?;
        let value = u32::from_str_radix(digits, 16).map_err(|_| self.error("Bad `\\u` escape"))?;
        self.at += 4;
        Ok(value)
    }
}
