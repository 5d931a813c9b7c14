//! pip's requirements-file options: recognising them in the line's words, which
//! [`shell_words`] splits as `shlex.split` does ([`Syntax::SHLEX`]).

use crate::text::shell_words::{self, Syntax, Token};

/// Split a logical line's options (`text` from byte `from` on) into words as pip does with
/// `shlex.split`; an unclosed quote runs to the end and its place is returned too (pip would
/// reject the line; the caller reports it).
pub fn tokenize(text: &str, from: usize) -> (Vec<Token>, Option<usize>) {
    let split = shell_words::split(text, from, Syntax::SHLEX);
    (split.tokens, split.unclosed)
}

/// Options pip accepts in requirements files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Name {
    /// `-r`, `--requirement`
    Requirement,
    /// `-c`, `--constraint`
    Constraint,
    /// `-e`, `--editable`
    Editable,
    /// `-i`, `--index-url`
    IndexUrl,
    /// `--extra-index-url`
    ExtraIndexUrl,
    /// `-f`, `--find-links`
    FindLinks,
    /// `--no-index`
    NoIndex,
    /// `--pre`
    Pre,
    /// `--trusted-host`
    TrustedHost,
    /// `--prefer-binary`
    PreferBinary,
    /// `--only-binary`
    OnlyBinary,
    /// `--no-binary`
    NoBinary,
    /// `--require-hashes`
    RequireHashes,
    /// `--use-feature`
    UseFeature,
    /// `--hash` (per requirement)
    Hash,
    /// `--config-settings` (per requirement or file)
    ConfigSettings,
    /// `--global-option` (per requirement)
    GlobalOption,
    /// `--install-option` (per requirement, removed from modern pip but still in files)
    InstallOption,
}

impl Name {
    /// Whether the option takes a value.
    pub fn takes_value(self) -> bool {
        !matches!(
            self,
            Name::NoIndex | Name::Pre | Name::PreferBinary | Name::RequireHashes
        )
    }

    /// Whether the option belongs to a requirement rather than to the file.
    pub fn per_requirement(self) -> bool {
        matches!(
            self,
            Name::Hash | Name::ConfigSettings | Name::GlobalOption | Name::InstallOption
        )
    }
}

const LONG: &[(&str, Name)] = &[
    ("--requirement", Name::Requirement),
    ("--constraint", Name::Constraint),
    ("--editable", Name::Editable),
    ("--index-url", Name::IndexUrl),
    ("--extra-index-url", Name::ExtraIndexUrl),
    ("--find-links", Name::FindLinks),
    ("--no-index", Name::NoIndex),
    ("--pre", Name::Pre),
    ("--trusted-host", Name::TrustedHost),
    ("--prefer-binary", Name::PreferBinary),
    ("--only-binary", Name::OnlyBinary),
    ("--no-binary", Name::NoBinary),
    ("--require-hashes", Name::RequireHashes),
    ("--use-feature", Name::UseFeature),
    ("--hash", Name::Hash),
    ("--config-settings", Name::ConfigSettings),
    ("--global-option", Name::GlobalOption),
    ("--install-option", Name::InstallOption),
];

const SHORT: &[(char, Name)] = &[
    ('r', Name::Requirement),
    ('c', Name::Constraint),
    ('e', Name::Editable),
    ('i', Name::IndexUrl),
    ('f', Name::FindLinks),
];

/// One option found on a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// Which option.
    pub name: Name,
    /// The option as written (`--hash`, `-r`).
    pub written: String,
    /// The value, unquoted, with its logical range (inside any quotes when the value is a
    /// whole token; may be imprecise for an escaped value, see [`Token::differs`]).
    pub value: Option<(String, usize, usize)>,
    /// The logical range of the whole option with its value.
    pub start: usize,
    /// End of that range.
    pub end: usize,
}

/// A problem with an option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What is wrong.
    pub message: String,
    /// Logical range.
    pub start: usize,
    /// End of the range.
    pub end: usize,
}

fn value_range(token: &Token, prefix_len: usize) -> (usize, usize) {
    if token.differs() && prefix_len == 0 {
        // The value's characters run from its first piece to its last: inside `"value"`'s
        // quotes, and all of `a"b"c` (where a quote is not the first byte, skipping one byte
        // would split a character that is longer).
        match (token.pieces.first(), token.pieces.last()) {
            (Some(first), Some(last)) => (first.span.start, last.span.end),
            // `""`: nothing between the quotes.
            _ => (
                token.raw.start + 1,
                token.raw.end.saturating_sub(1).max(token.raw.start + 1),
            ),
        }
    } else {
        (token.raw.start + prefix_len, token.raw.end)
    }
}

/// Recognise options in `tokens`. Unknown options are problems (pip would fail the whole file;
/// repin reports them and reads the rest).
pub fn parse(tokens: &[Token]) -> (Vec<Parsed>, Vec<Problem>) {
    let mut options = Vec::new();
    let mut problems = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        let text = token.value.as_str();
        let (name, written, attached) = if let Some(long) = text.strip_prefix("--") {
            let (key, value) = match long.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (long, None),
            };
            // optparse accepts any unambiguous prefix of a long option.
            let full = format!("--{key}");
            let exact = LONG.iter().find(|(n, _)| *n == full);
            let candidates: Vec<_> = LONG.iter().filter(|(n, _)| n.starts_with(&full)).collect();
            let found = exact.or(if candidates.len() == 1 {
                candidates.first().copied()
            } else {
                None
            });
            match found {
                Some((_, name)) => (*name, full, value.map(|v| (v.to_owned(), key.len() + 3))),
                None => {
                    problems.push(Problem {
                        message: format!("Unknown option `{full}`"),
                        start: token.raw.start,
                        end: token.raw.end,
                    });
                    i += 1;
                    continue;
                }
            }
        } else if let Some(short) = text.strip_prefix('-') {
            let mut chars = short.chars();
            let letter = chars.next().unwrap_or(' ');
            match SHORT.iter().find(|(c, _)| *c == letter) {
                Some((_, name)) => {
                    let rest = chars.as_str();
                    let attached = (!rest.is_empty()).then(|| (rest.to_owned(), 2));
                    (*name, format!("-{letter}"), attached)
                }
                None => {
                    problems.push(Problem {
                        message: format!("Unknown option `{text}`"),
                        start: token.raw.start,
                        end: token.raw.end,
                    });
                    i += 1;
                    continue;
                }
            }
        } else {
            problems.push(Problem {
                message: format!("Unexpected `{text}` among options"),
                start: token.raw.start,
                end: token.raw.end,
            });
            i += 1;
            continue;
        };
        if !name.takes_value() {
            if attached.is_some() {
                problems.push(Problem {
                    message: format!("`{written}` takes no value"),
                    start: token.raw.start,
                    end: token.raw.end,
                });
            }
            options.push(Parsed {
                name,
                written,
                value: None,
                start: token.raw.start,
                end: token.raw.end,
            });
            i += 1;
            continue;
        }
        match attached {
            Some((value, prefix)) => {
                let (vs, ve) = if token.differs() {
                    (token.raw.start + prefix, token.raw.end)
                } else {
                    value_range(token, prefix)
                };
                options.push(Parsed {
                    name,
                    written,
                    value: Some((value, vs, ve)),
                    start: token.raw.start,
                    end: token.raw.end,
                });
                i += 1;
            }
            None => match tokens.get(i + 1) {
                Some(next) => {
                    let (vs, ve) = value_range(next, 0);
                    options.push(Parsed {
                        name,
                        written,
                        value: Some((next.value.clone(), vs, ve)),
                        start: token.raw.start,
                        end: next.raw.end,
                    });
                    i += 2;
                }
                None => {
                    problems.push(Problem {
                        message: format!("`{written}` needs a value"),
                        start: token.raw.start,
                        end: token.raw.end,
                    });
                    i += 1;
                }
            },
        }
    }
    (options, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(text: &str) -> (Vec<Parsed>, Vec<Problem>) {
        let (tokens, unclosed) = tokenize(text, 0);
        assert!(unclosed.is_none());
        parse(&tokens)
    }

    #[test]
    fn tokenises_like_shlex() {
        let (tokens, _) = tokenize(r#"--hash=sha256:ab "a b" 'c d' e\ f"#, 0);
        let texts: Vec<_> = tokens.iter().map(|t| t.value.as_str()).collect();
        assert_eq!(texts, vec!["--hash=sha256:ab", "a b", "c d", "e f"]);
        let (_, unclosed) = tokenize("-i 'https://x", 0);
        assert_eq!(unclosed, Some(3));
    }

    #[test]
    fn recognises_every_spelling() {
        let text = "--pre --extra-index-url https://x/simple -ihttps://i --hash sha256:00 --index=https://p -r'a b.txt'";
        let (options, problems) = opts(text);
        assert!(problems.is_empty(), "{problems:?}");
        let names: Vec<_> = options.iter().map(|o| o.name).collect();
        assert_eq!(
            names,
            vec![
                Name::Pre,
                Name::ExtraIndexUrl,
                Name::IndexUrl,
                Name::Hash,
                Name::IndexUrl,
                Name::Requirement
            ]
        );
        let value = |i: usize| {
            let (v, s, e) = options[i].value.clone().unwrap();
            (v, &text[s..e])
        };
        assert_eq!(value(1), ("https://x/simple".into(), "https://x/simple"));
        assert_eq!(value(2), ("https://i".into(), "https://i"));
        assert_eq!(value(3), ("sha256:00".into(), "sha256:00"));
        assert_eq!(value(4).0, "https://p");
        assert_eq!(value(5).0, "a b.txt");
    }

    #[test]
    fn reports_unknown_options_and_missing_values() {
        let (options, problems) = opts("--frobnicate -r");
        assert!(options.is_empty());
        assert_eq!(problems[0].message, "Unknown option `--frobnicate`");
        assert_eq!(problems[1].message, "`-r` needs a value");
        let (_, problems) = opts("--pre=yes");
        assert_eq!(problems[0].message, "`--pre` takes no value");
    }
}
