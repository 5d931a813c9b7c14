//! Shell words with byte spans: one tokenizer for every command line repin reads.
//!
//! A command line (a `RUN` command, a Dockerfile instruction's arguments, the options of a
//! requirements-file line) is split into [`Token`]s. Each keeps its raw span in the text and
//! the [`Piece`]s its value (quotes and escapes removed) is copied from, so a caller can tell
//! whether the value sits verbatim in the text, which is what a lossless edit needs.
//!
//! The readers differ in small ways, so a [`Syntax`] says which rules apply: the escape
//! character (a Dockerfile may choose `` ` ``), what it escapes inside double quotes, and
//! whether shell control operators and `#` comments are recognised. Work is linear in the
//! text's length, with no recursion; an unclosed quote runs to the end of the text and is
//! reported in [`Split::unclosed`].

use super::span::Span;

/// What the escape character escapes inside double quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotedEscapes {
    /// Any next character, as BuildKit's lexer reads instruction arguments.
    Any,
    /// Only `"` and the escape character itself, as Python's `shlex.split` does (what pip
    /// uses for requirements-file options); before anything else it stays literal.
    QuoteAndEscape,
}

/// The rules of one reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Syntax {
    /// The escape character outside single quotes.
    pub escape: char,
    /// What it escapes inside double quotes.
    pub quoted_escapes: QuotedEscapes,
    /// Whether `;`, `&`, `&&`, `|`, `||`, `(`, `)` and redirections (`<`, `>`, `>>`, `2>`)
    /// end words and come out as [`Kind::Operator`] tokens.
    pub operators: bool,
    /// Whether `#` at the start of a word opens a comment running to the end of the line,
    /// which comes out as one [`Kind::Comment`] token.
    pub comments: bool,
}

impl Syntax {
    /// Python's `shlex.split` (POSIX mode, no comments), as pip reads requirements-file options.
    pub const SHLEX: Syntax = Syntax {
        escape: '\\',
        quoted_escapes: QuotedEscapes::QuoteAndEscape,
        operators: false,
        comments: false,
    };

    /// A shell command line (a `RUN` command) as repin reads it: words, control operators,
    /// redirections and comments; the backslash keeps any next character, quoted or not.
    pub const SHELL: Syntax = Syntax {
        escape: '\\',
        quoted_escapes: QuotedEscapes::Any,
        operators: true,
        comments: true,
    };

    /// A Dockerfile instruction's arguments with the file's `escape` character: whitespace
    /// separates words, no operators, no comments.
    pub fn dockerfile(escape: char) -> Syntax {
        Syntax {
            escape,
            quoted_escapes: QuotedEscapes::Any,
            operators: false,
            comments: false,
        }
    }
}

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A word.
    Word,
    /// A control operator or a redirection, with any file descriptor number before it (`2>`).
    Operator,
    /// A `#` comment, to the end of its line (the newline excluded).
    Comment,
}

/// Bytes of the text that a word's value copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// Where the bytes are in the text.
    pub span: Span,
    /// Whether they are one character the escape character kept (then the escape before it
    /// is not in the value).
    pub escaped: bool,
}

/// A token of a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Word, operator or comment.
    pub kind: Kind,
    /// The raw token in the text, quotes and escapes included.
    pub raw: Span,
    /// The value: quotes and escapes removed (an operator's or comment's raw text).
    pub value: String,
    /// Where each part of the value is in the text, in order; adjacent unescaped parts are
    /// merged, so a plain word has one piece.
    pub pieces: Vec<Piece>,
    /// Whether the word holds a quote.
    pub quoted: bool,
    /// Whether the word holds an escape.
    pub escaped: bool,
}

impl Token {
    /// Whether the value differs from the raw text (quotes or escapes were removed).
    pub fn differs(&self) -> bool {
        self.quoted || self.escaped
    }

    /// Where the value sits verbatim in the text, when the word is plain or one quoted string
    /// with no escape (`"flask==3.1.0"` gives the span inside the quotes); `None` otherwise.
    /// An operator or comment is never a value.
    pub fn verbatim(&self, text: &str) -> Option<Span> {
        if self.kind != Kind::Word || self.escaped {
            return None;
        }
        if !self.quoted {
            return Some(self.raw);
        }
        let raw = &text[self.raw.range()];
        let one_string = raw.len() >= 2
            && (raw.starts_with('"') || raw.starts_with('\''))
            && raw.ends_with(&raw[..1])
            && raw[1..raw.len() - 1].find(&raw[..1]).is_none();
        one_string.then(|| Span::new(self.raw.start + 1, self.raw.end - 1))
    }
}

/// The tokens of a text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    /// The tokens, in order.
    pub tokens: Vec<Token>,
    /// Where the first quote that is never closed opens, if any (the quote then runs to the
    /// end of the text, and callers that must reject the text say so).
    pub unclosed: Option<usize>,
}

fn is_operator(c: char) -> bool {
    matches!(c, '&' | '|' | ';' | '(' | ')' | '<' | '>')
}

/// A word being read.
struct WordBuilder {
    start: usize,
    value: String,
    pieces: Vec<Piece>,
    quoted: bool,
    escaped: bool,
}

impl WordBuilder {
    fn new(start: usize) -> Self {
        WordBuilder {
            start,
            value: String::new(),
            pieces: Vec::new(),
            quoted: false,
            escaped: false,
        }
    }

    /// Copy `c`, which is at `at` in the text, into the value.
    fn push(&mut self, at: usize, c: char, escaped: bool) {
        self.value.push(c);
        let end = at + c.len_utf8();
        if let Some(last) = self.pieces.last_mut() {
            if !escaped && !last.escaped && last.span.end == at {
                last.span.end = end;
                return;
            }
        }
        self.pieces.push(Piece {
            span: Span::new(at, end),
            escaped,
        });
    }

    fn finish(self, end: usize) -> Token {
        Token {
            kind: Kind::Word,
            raw: Span::new(self.start, end),
            value: self.value,
            pieces: self.pieces,
            quoted: self.quoted,
            escaped: self.escaped,
        }
    }
}

/// A token that is its raw text: an operator or a comment.
fn literal(text: &str, kind: Kind, start: usize, end: usize) -> Token {
    Token {
        kind,
        raw: Span::new(start, end),
        value: text[start..end].to_owned(),
        pieces: vec![Piece {
            span: Span::new(start, end),
            escaped: false,
        }],
        quoted: false,
        escaped: false,
    }
}

/// Split `text` from byte `from` on (a character boundary) into tokens under `syntax`; spans
/// are offsets into the whole `text`.
pub fn split(text: &str, from: usize, syntax: Syntax) -> Split {
    let mut out = Split::default();
    let mut chars = text[from..]
        .char_indices()
        .map(|(i, c)| (i + from, c))
        .peekable();
    while let Some(&(pos, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if syntax.comments && c == '#' {
            let mut end = text.len();
            for (p, ch) in chars.by_ref() {
                if ch == '\n' {
                    end = p;
                    break;
                }
            }
            out.tokens.push(literal(text, Kind::Comment, pos, end));
            continue;
        }
        if syntax.operators && is_operator(c) {
            chars.next();
            let mut end = pos + c.len_utf8();
            if c != ';' && chars.peek().is_some_and(|&(_, next)| next == c) {
                chars.next();
                end += c.len_utf8();
            }
            let mut start = pos;
            // `2>/dev/null`: unquoted digits right before a redirection are its file
            // descriptor, not a word.
            if matches!(c, '<' | '>') {
                if let Some(last) = out.tokens.last() {
                    if last.kind == Kind::Word
                        && last.raw.end == pos
                        && !last.differs()
                        && last.value.bytes().all(|b| b.is_ascii_digit())
                    {
                        start = last.raw.start;
                        out.tokens.pop();
                    }
                }
            }
            out.tokens.push(literal(text, Kind::Operator, start, end));
            continue;
        }
        let mut word = WordBuilder::new(pos);
        let mut end = text.len();
        while let Some(&(at, ch)) = chars.peek() {
            if ch.is_whitespace() || (syntax.operators && is_operator(ch)) {
                end = at;
                break;
            }
            chars.next();
            if ch == '\'' || ch == '"' {
                word.quoted = true;
                let mut closed = false;
                while let Some((p, q)) = chars.next() {
                    if q == ch {
                        closed = true;
                        break;
                    }
                    if ch == '"' && q == syntax.escape {
                        let escapes = |next: char| match syntax.quoted_escapes {
                            QuotedEscapes::Any => true,
                            QuotedEscapes::QuoteAndEscape => next == '"' || next == syntax.escape,
                        };
                        if let Some(&(np, nc)) = chars.peek().filter(|&&(_, nc)| escapes(nc)) {
                            chars.next();
                            word.escaped = true;
                            word.push(np, nc, true);
                            continue;
                        }
                    }
                    word.push(p, q, false);
                }
                if !closed {
                    out.unclosed.get_or_insert(at);
                }
                continue;
            }
            if ch == syntax.escape {
                if let Some((np, nc)) = chars.next() {
                    word.escaped = true;
                    word.push(np, nc, true);
                    continue;
                }
            }
            word.push(at, ch, false);
        }
        out.tokens.push(word.finish(end));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str, syntax: Syntax) -> Vec<(Kind, String)> {
        split(text, 0, syntax)
            .tokens
            .into_iter()
            .map(|t| (t.kind, t.value))
            .collect()
    }

    fn words(text: &str, syntax: Syntax) -> Vec<String> {
        values(text, syntax).into_iter().map(|(_, v)| v).collect()
    }

    #[test]
    fn quotes_group_and_are_removed() {
        assert_eq!(
            words(r#"a "b c" 'd e' f"g"'h' """#, Syntax::SHELL),
            vec!["a", "b c", "d e", "fgh", ""]
        );
        // Nothing is special in single quotes, not even the escape character.
        assert_eq!(words(r"'a\b' 'x\'", Syntax::SHLEX), vec![r"a\b", r"x\"]);
    }

    #[test]
    fn escapes_follow_each_syntax() {
        // Outside quotes the escape keeps any character, in every syntax.
        assert_eq!(words(r"a\ b \$x", Syntax::SHLEX), vec!["a b", "$x"]);
        // In double quotes: shlex only before `"` and `\`, BuildKit and `RUN` before anything.
        assert_eq!(words(r#""a\b\"c\\""#, Syntax::SHLEX), vec![r#"a\b"c\"#]);
        assert_eq!(words(r#""a\b\"c\\""#, Syntax::SHELL), vec![r#"ab"c\"#]);
        // A Dockerfile may choose the backtick; the backslash is then an ordinary character.
        assert_eq!(
            words(r#"C:\dir a`"b "`$x""#, Syntax::dockerfile('`')),
            vec![r"C:\dir", "a\"b", "$x"]
        );
        // An escape character at the very end stays.
        assert_eq!(words(r"a\", Syntax::SHELL), vec![r"a\"]);
        assert_eq!(words(r#""a\"#, Syntax::SHELL), vec![r"a\"]);
    }

    #[test]
    fn pieces_map_the_value_to_the_text() {
        let text = r#"x "a b"c\$d"#;
        let split = split(text, 0, Syntax::SHELL);
        let word = &split.tokens[1];
        assert_eq!(word.raw, Span::new(2, 11));
        assert_eq!(word.value, "a bc$d");
        let pieces: Vec<_> = word
            .pieces
            .iter()
            .map(|p| (&text[p.span.range()], p.escaped))
            .collect();
        assert_eq!(
            pieces,
            vec![("a b", false), ("c", false), ("$", true), ("d", false)]
        );
        let rebuilt: String = word.pieces.iter().map(|p| &text[p.span.range()]).collect();
        assert_eq!(rebuilt, word.value);
        assert!(word.differs());
        assert!(!split.tokens[0].differs());
    }

    #[test]
    fn verbatim_only_when_the_value_is_in_one_place() {
        let text = r#"plain "quoted" 'single' a"b" "a""b" esc\ aped "" "x\y""#;
        let split = split(text, 0, Syntax::SHELL);
        let verbatim: Vec<_> = split
            .tokens
            .iter()
            .map(|t| t.verbatim(text).map(|s| &text[s.range()]))
            .collect();
        assert_eq!(
            verbatim,
            vec![
                Some("plain"),
                Some("quoted"),
                Some("single"),
                None,
                None,
                None,
                Some(""),
                None
            ]
        );
    }

    #[test]
    fn spans_count_from_the_start_of_the_whole_text() {
        let text = "name==1 --hash  sha256:ab";
        let split = split(text, 7, Syntax::SHLEX);
        let raw: Vec<_> = split.tokens.iter().map(|t| &text[t.raw.range()]).collect();
        assert_eq!(raw, vec!["--hash", "sha256:ab"]);
        assert_eq!(split.tokens[1].raw, Span::new(16, 25));
        // Multi-byte characters keep their bytes whole.
        let text = "é 'ü ß'";
        let split = super::split(text, 0, Syntax::SHELL);
        assert_eq!(
            split.tokens[1].verbatim(text).map(|s| &text[s.range()]),
            Some("ü ß")
        );
    }

    #[test]
    fn operators_end_words_and_commands() {
        use Kind::{Operator, Word};
        let got = values(
            "(cd /x&&pip install a||b;c | d & e) 2>/dev/null >>log <in 1>&2 ;; \"&&\"",
            Syntax::SHELL,
        );
        let expected: Vec<(Kind, &str)> = vec![
            (Operator, "("),
            (Word, "cd"),
            (Word, "/x"),
            (Operator, "&&"),
            (Word, "pip"),
            (Word, "install"),
            (Word, "a"),
            (Operator, "||"),
            (Word, "b"),
            (Operator, ";"),
            (Word, "c"),
            (Operator, "|"),
            (Word, "d"),
            (Operator, "&"),
            (Word, "e"),
            (Operator, ")"),
            (Operator, "2>"),
            (Word, "/dev/null"),
            (Operator, ">>"),
            (Word, "log"),
            (Operator, "<"),
            (Word, "in"),
            (Operator, "1>"),
            (Operator, "&"),
            (Word, "2"),
            (Operator, ";"),
            (Operator, ";"),
            (Word, "&&"),
        ];
        let expected: Vec<(Kind, String)> = expected
            .into_iter()
            .map(|(k, v)| (k, v.to_owned()))
            .collect();
        assert_eq!(got, expected);
        // A quoted or spaced number is a word, not a file descriptor.
        assert_eq!(
            values("\"2\">x 2 >y", Syntax::SHELL)
                .into_iter()
                .map(|(_, v)| v)
                .collect::<Vec<_>>(),
            vec!["2", ">", "x", "2", ">", "y"]
        );
        // Without operators they are ordinary characters.
        assert_eq!(words("a&&b;c", Syntax::SHLEX), vec!["a&&b;c"]);
    }

    #[test]
    fn comments_start_only_at_a_word() {
        let text = "pip install a#b # pinned below\npip install c";
        let got = values(text, Syntax::SHELL);
        assert_eq!(
            got,
            vec![
                (Kind::Word, "pip".to_owned()),
                (Kind::Word, "install".to_owned()),
                (Kind::Word, "a#b".to_owned()),
                (Kind::Comment, "# pinned below".to_owned()),
                (Kind::Word, "pip".to_owned()),
                (Kind::Word, "install".to_owned()),
                (Kind::Word, "c".to_owned()),
            ]
        );
        assert_eq!(
            words("a;#c", Syntax::SHELL),
            vec!["a", ";", "#c"],
            "a comment may follow an operator"
        );
        assert_eq!(words("'#' \\#x", Syntax::SHELL), vec!["#", "#x"]);
        // Where comments are off, `#` is an ordinary character.
        assert_eq!(words("a # b", Syntax::SHLEX), vec!["a", "#", "b"]);
    }

    #[test]
    fn unclosed_quotes_run_to_the_end_and_are_reported() {
        let split = split(r#"-i 'https://x "y"#, 0, Syntax::SHLEX);
        assert_eq!(split.unclosed, Some(3));
        assert_eq!(
            split
                .tokens
                .iter()
                .map(|t| t.value.as_str())
                .collect::<Vec<_>>(),
            vec!["-i", "https://x \"y"]
        );
        assert_eq!(split.tokens[1].raw.end, 16);
        assert_eq!(super::split("\"a\" b", 0, Syntax::SHELL).unclosed, None);
        // Only the first unclosed quote is reported (a quote inside it is text).
        assert_eq!(super::split("a\"b 'c", 0, Syntax::SHELL).unclosed, Some(1));
    }

    #[test]
    fn work_is_linear_in_the_text() {
        // A long text of every kind of token, quotes that never close, escapes: one pass,
        // no recursion, so this finishes at once and the value never outgrows the text.
        let text = "a\\ 'b' \"c\\\"\" && # x\n".repeat(50_000) + "\"unclosed";
        let split = split(&text, 0, Syntax::SHELL);
        assert_eq!(split.tokens.len(), 4 * 50_000 + 1);
        let value_bytes: usize = split.tokens.iter().map(|t| t.value.len()).sum();
        assert!(value_bytes <= text.len());
        assert_eq!(split.unclosed, Some(text.len() - "\"unclosed".len()));
    }
}
