//! Words of an instruction, `ARG` declarations, and variable substitution with provenance.
//!
//! Substitution follows BuildKit's shell lexer for the forms that matter in `FROM`: `$V`,
//! `${V}`, `${V:-word}`, `${V-word}`, `${V:+word}`, `${V+word}`. The result is [`Mapped`]:
//! text that came from an `ARG` default keeps the position of that default, so an update of a
//! tag that an `ARG` supplies edits the `ARG` line.

use crate::text::Mapped;

/// A whitespace-separated word of an instruction, quotes removed, with its provenance.
#[derive(Debug, Clone)]
pub struct Word {
    /// The word's text after quote removal, mapped to the file.
    pub value: Mapped,
    /// Start of the raw word in the instruction's arguments.
    pub start: usize,
    /// End of the raw word.
    pub end: usize,
}

/// Split arguments into words: whitespace separates, quotes group and are removed, the escape
/// character keeps the next character (including `$`, which then stays literal: it is recorded
/// as `\$` in the value so substitution skips it).
pub fn words(args: &Mapped, escape: char) -> Vec<Word> {
    let text = args.text();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].1.is_whitespace() {
            i += 1;
            continue;
        }
        let start = chars[i].0;
        let mut value = Mapped::new();
        while i < chars.len() && !chars[i].1.is_whitespace() {
            let (pos, c) = chars[i];
            if c == '"' || c == '\'' {
                let quote = c;
                i += 1;
                while i < chars.len() && chars[i].1 != quote {
                    let (p, ch) = chars[i];
                    if quote == '"' && ch == escape && i + 1 < chars.len() {
                        let (np, nc) = chars[i + 1];
                        if nc == '$' {
                            value.push_synthetic("\\");
                            value.push_slice(args, np, np + 1);
                        } else {
                            value.push_slice(args, np, np + nc.len_utf8());
                        }
                        i += 2;
                        continue;
                    }
                    value.push_slice(args, p, p + ch.len_utf8());
                    i += 1;
                }
                i += 1; // the closing quote
                continue;
            }
            if c == escape && i + 1 < chars.len() {
                let (np, nc) = chars[i + 1];
                if nc == '$' {
                    value.push_synthetic("\\");
                    value.push_slice(args, np, np + 1);
                } else {
                    value.push_slice(args, np, np + nc.len_utf8());
                }
                i += 2;
                continue;
            }
            value.push_slice(args, pos, pos + c.len_utf8());
            i += 1;
        }
        let end = chars.get(i).map_or(text.len(), |(p, _)| *p);
        out.push(Word { value, start, end });
    }
    out
}

/// A declared build argument and its (already substituted) default.
#[derive(Debug, Clone)]
pub struct Declared {
    /// The name.
    pub name: String,
    /// The default after substitution, mapped; `None` when declared without one.
    pub default: Option<Mapped>,
    /// Names used in the default that had no value.
    pub unresolved: Vec<String>,
}

/// The variables visible at a point of the file.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    vars: Vec<Declared>,
}

impl Scope {
    /// Declare (or redeclare) a variable; a later declaration wins.
    pub fn declare(&mut self, declared: Declared) {
        self.vars.retain(|v| v.name != declared.name);
        self.vars.push(declared);
    }

    /// Look a variable up: `None` when not declared, `Some(None)` when declared without value.
    pub fn get(&self, name: &str) -> Option<&Declared> {
        self.vars.iter().find(|v| v.name == name)
    }

    /// A redeclaration inside a stage (`ARG NAME` with no default) takes the global value.
    pub fn inherit(&mut self, name: &str, global: &Scope) {
        if let Some(v) = global.get(name) {
            self.declare(v.clone());
        } else {
            self.declare(Declared {
                name: name.to_owned(),
                default: None,
                unresolved: Vec::new(),
            });
        }
    }
}

/// The outcome of substituting variables into a word.
#[derive(Debug, Clone, Default)]
pub struct Expanded {
    /// The text after substitution, mapped.
    pub value: Mapped,
    /// Variables used that had no value (undeclared, or declared without default).
    pub unresolved: Vec<String>,
    /// Variables used.
    pub used: Vec<String>,
    /// A form repin does not evaluate (`${V#prefix}`, `${V/x/y}`), if any.
    pub unsupported: Option<String>,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Substitute variables in `word` from `scope`.
pub fn expand(word: &Mapped, scope: &Scope) -> Expanded {
    let text = word.text();
    let bytes = text.as_bytes();
    let mut out = Expanded::default();
    let mut i = 0;
    let mut literal_start = 0;
    while i < bytes.len() {
        // `\$` was kept by `words` to mark a literal dollar: emit `$` alone.
        if bytes[i] == b'\\' && bytes.get(i + 1) == Some(&b'$') {
            out.value.push_slice(word, literal_start, i);
            out.value.push_slice(word, i + 1, i + 2);
            i += 2;
            literal_start = i;
            continue;
        }
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        out.value.push_slice(word, literal_start, i);
        if bytes.get(i + 1) == Some(&b'{') {
            let Some(close) = text[i + 2..].find('}') else {
                out.unsupported = Some(format!("unclosed `${{` in `{text}`"));
                out.value.push_slice(word, i, text.len());
                return out;
            };
            let inner = &text[i + 2..i + 2 + close];
            let name_len = inner
                .find(|c: char| !is_name_char(c))
                .unwrap_or(inner.len());
            let name = &inner[..name_len];
            let rest = &inner[name_len..];
            let inner_start = i + 2;
            let operand =
                |skip: usize| word.slice(inner_start + name_len + skip, inner_start + inner.len());
            let value = lookup(scope, name, &mut out);
            match rest {
                "" => {
                    if let Some(v) = value {
                        out.value.push_slice(&v, 0, v.len());
                    }
                }
                _ if rest.starts_with(":-") || rest.starts_with('-') => {
                    let colon = rest.starts_with(':');
                    let use_default = match &value {
                        None => true,
                        Some(v) => colon && v.is_empty(),
                    };
                    if use_default {
                        // The default itself may hold variables.
                        let nested = expand(&operand(if colon { 2 } else { 1 }), scope);
                        merge(&mut out, nested);
                        out.unresolved.retain(|n| n != name);
                    } else if let Some(v) = value {
                        out.value.push_slice(&v, 0, v.len());
                    }
                }
                _ if rest.starts_with(":+") || rest.starts_with('+') => {
                    let colon = rest.starts_with(':');
                    let set = match &value {
                        None => false,
                        Some(v) => !colon || !v.is_empty(),
                    };
                    out.unresolved.retain(|n| n != name);
                    if set {
                        let nested = expand(&operand(if colon { 2 } else { 1 }), scope);
                        merge(&mut out, nested);
                    }
                }
                _ => {
                    out.unsupported = Some(format!("`${{{inner}}}`"));
                    out.value.push_slice(word, i, i + 3 + inner.len());
                }
            }
            i += 3 + inner.len();
        } else {
            let name_len = text[i + 1..]
                .find(|c: char| !is_name_char(c))
                .unwrap_or(text.len() - i - 1);
            if name_len == 0 {
                // A lone `$` is literal.
                out.value.push_slice(word, i, i + 1);
                i += 1;
                literal_start = i;
                continue;
            }
            let name = &text[i + 1..i + 1 + name_len];
            if let Some(v) = lookup(scope, name, &mut out) {
                out.value.push_slice(&v, 0, v.len());
            }
            i += 1 + name_len;
        }
        literal_start = i;
    }
    out.value.push_slice(word, literal_start, text.len());
    out
}

fn lookup(scope: &Scope, name: &str, out: &mut Expanded) -> Option<Mapped> {
    out.used.push(name.to_owned());
    match scope.get(name) {
        Some(Declared {
            default: Some(v),
            unresolved,
            ..
        }) => {
            out.unresolved.extend(unresolved.iter().cloned());
            Some(v.clone())
        }
        _ => {
            out.unresolved.push(name.to_owned());
            None
        }
    }
}

fn merge(out: &mut Expanded, nested: Expanded) {
    out.value.push_slice(&nested.value, 0, nested.value.len());
    out.unresolved.extend(nested.unresolved);
    out.used.extend(nested.used);
    if out.unsupported.is_none() {
        out.unsupported = nested.unsupported;
    }
}

/// Parse an `ARG` instruction's words (`NAME`, `NAME=value`, several per line) into
/// declarations, substituting earlier variables (those on the same line too) into the defaults,
/// and declare them in `scope`.
pub fn declare_all(words: &[Word], scope: &mut Scope) -> Vec<(Declared, Word)> {
    let mut out = Vec::new();
    for word in words {
        let text = word.value.text();
        let (name, default) = match text.find('=') {
            Some(eq) => {
                let value = word.value.slice(eq + 1, text.len());
                (text[..eq].to_owned(), Some(value))
            }
            None => (text.to_owned(), None),
        };
        let (default, unresolved) = match default {
            Some(raw) => {
                let expanded = expand(&raw, scope);
                (Some(expanded.value), expanded.unresolved)
            }
            None => (None, Vec::new()),
        };
        let declared = Declared {
            name,
            default,
            unresolved,
        };
        scope.declare(declared.clone());
        out.push((declared, word.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Span;

    fn mapped(text: &str) -> Mapped {
        Mapped::from_file(text, Span::new(0, text.len()))
    }

    fn scope(file: &str, decls: &[(&str, Option<&str>)]) -> Scope {
        let mut scope = Scope::default();
        for (name, value) in decls {
            let default = value.map(|v| {
                let at = file.find(v).expect("value in file");
                Mapped::from_file(file, Span::new(at, at + v.len()))
            });
            scope.declare(Declared {
                name: (*name).to_owned(),
                default,
                unresolved: Vec::new(),
            });
        }
        scope
    }

    #[test]
    fn splits_words_and_removes_quotes() {
        let text = r#"--platform=$BUILDPLATFORM "python:3.12" AS build"#;
        let w = words(&mapped(text), '\\');
        let values: Vec<_> = w.iter().map(|w| w.value.text().to_owned()).collect();
        assert_eq!(
            values,
            vec!["--platform=$BUILDPLATFORM", "python:3.12", "AS", "build"]
        );
        assert_eq!(
            w[1].value.file_span(0, 11).map(|s| &text[s.range()]),
            Some("python:3.12")
        );
    }

    #[test]
    fn substitutes_every_form_with_provenance() {
        let file = "ARG PY=3.12 VARIANT=slim BASE\nFROM python:${PY}-$VARIANT\n";
        let s = scope(
            file,
            &[
                ("PY", Some("3.12")),
                ("VARIANT", Some("slim")),
                ("BASE", None),
            ],
        );
        let word = mapped("python:${PY}-$VARIANT");
        let e = expand(&word, &s);
        assert_eq!(e.value.text(), "python:3.12-slim");
        assert!(e.unresolved.is_empty());
        let minor = e.value.file_span(7, 11).unwrap();
        assert_eq!(&file[minor.range()], "3.12");
        assert_eq!(minor.start, file.find("3.12").unwrap());

        let cases = [
            ("${BASE:-python:3}", "python:3", vec![]),
            ("${MISSING-x}", "x", vec![]),
            ("${PY:+set}", "set", vec![]),
            ("${BASE:+set}", "", vec![]),
            ("${MISSING}", "", vec!["MISSING"]),
            ("${BASE}", "", vec!["BASE"]),
            ("a\\$b", "a$b", vec![]),
            ("$", "$", vec![]),
        ];
        for (input, expected, unresolved) in cases {
            let e = expand(&mapped(input), &s);
            assert_eq!(e.value.text(), expected, "{input}");
            assert_eq!(e.unresolved, unresolved, "{input}");
        }
        assert!(expand(&mapped("${PY#3.}"), &s).unsupported.is_some());
    }

    #[test]
    fn arg_defaults_refer_to_earlier_args() {
        let text = "PYTHON_VERSION=3.12 BASE_IMAGE=python:${PYTHON_VERSION}-slim EMPTY";
        let mut s = Scope::default();
        let declared = declare_all(&words(&mapped(text), '\\'), &mut s);
        assert_eq!(declared.len(), 3);
        let base = s.get("BASE_IMAGE").unwrap().default.clone().unwrap();
        assert_eq!(base.text(), "python:3.12-slim");
        let span = base.file_span(7, 11).unwrap();
        assert_eq!(&text[span.range()], "3.12");
        assert!(s.get("EMPTY").unwrap().default.is_none());
    }
}
