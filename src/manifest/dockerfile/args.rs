//! Words of an instruction, `ARG` declarations, and variable substitution with provenance.
//!
//! Substitution follows BuildKit's shell lexer for the forms that matter in `FROM`: `$V`,
//! `${V}`, `${V:-word}`, `${V-word}`, `${V:+word}`, `${V+word}`. The result is [`Mapped`]:
//! text that came from an `ARG` default keeps the position of that default, so an update of a
//! tag that an `ARG` supplies edits the `ARG` line.

use crate::text::Mapped;
use crate::text::shell_words::{self, Syntax};

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

/// Split arguments into words ([`Syntax::dockerfile`]): whitespace separates, quotes group and
/// are removed, the escape character keeps the next character (including `$`, which then stays
/// literal: it is recorded as `\$` in the value so substitution skips it).
pub fn words(args: &Mapped, escape: char) -> Vec<Word> {
    let text = args.text();
    shell_words::split(text, 0, Syntax::dockerfile(escape))
        .tokens
        .into_iter()
        .map(|token| {
            let mut value = Mapped::new();
            for piece in &token.pieces {
                if piece.escaped && &text[piece.span.range()] == "$" {
                    value.push_synthetic("\\");
                }
                value.push_slice(args, piece.span.start, piece.span.end);
            }
            Word {
                value,
                start: token.raw.start,
                end: token.raw.end,
            }
        })
        .collect()
}

/// The longest value substitution builds from variables: far above any image reference (a
/// name of 255 characters, a tag of 128, a digest), far below what would let a chain of `ARG`s
/// that each double the last fill memory.
pub const MAX_VALUE_LEN: usize = 4096;

/// How deeply `${A:-${B:-...}}` defaults may nest. Substitution recurses into them, so an
/// unbounded depth could overflow the stack; real Dockerfiles nest two or three deep.
pub const MAX_NESTING: usize = 16;

/// How many bytes substitution may copy out of variables in one file, in all (text and the
/// map of where it came from): the file's length eight times over, and a mebibyte. Work and
/// memory stay linear in the file's size, however its `ARG`s refer to each other; past the
/// budget a value is not evaluated.
#[derive(Debug, Clone)]
pub struct Budget {
    remaining: usize,
}

impl Budget {
    /// The budget of a file of `len` bytes.
    pub fn for_text(len: usize) -> Budget {
        Budget {
            remaining: len.saturating_mul(8).saturating_add(1 << 20),
        }
    }

    /// Spend `bytes`; false when the budget does not cover them (nothing is spent then).
    fn spend(&mut self, bytes: usize) -> bool {
        match self.remaining.checked_sub(bytes) {
            Some(left) => {
                self.remaining = left;
                true
            }
            None => false,
        }
    }
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
    /// Why the default could not be evaluated (a form repin does not evaluate, a value too
    /// long or nested too deeply), if so; whatever uses it cannot be evaluated either.
    pub unsupported: Option<String>,
    /// Whether a limit stopped the default's substitution (see [`Expanded::halted`]).
    pub halted: bool,
}

/// The variables visible at a point of the file, by name.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    vars: std::collections::HashMap<String, Declared>,
}

impl Scope {
    /// Declare (or redeclare) a variable; a later declaration wins.
    pub fn declare(&mut self, declared: Declared) {
        self.vars.insert(declared.name.clone(), declared);
    }

    /// Look a variable up: `None` when not declared, `Some(None)` when declared without value.
    pub fn get(&self, name: &str) -> Option<&Declared> {
        self.vars.get(name)
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
                unsupported: None,
                halted: false,
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
    /// Why the word could not be evaluated: a form repin does not evaluate (`${V#prefix}`,
    /// `${V/x/y}`), a value longer than [`MAX_VALUE_LEN`], defaults nested deeper than
    /// [`MAX_NESTING`], or a file past its [`Budget`].
    pub unsupported: Option<String>,
    /// Whether one of those limits stopped substitution (the value is then incomplete).
    pub halted: bool,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Substitute variables in `word` from `scope`, within `budget`.
pub fn expand(word: &Mapped, scope: &Scope, budget: &mut Budget) -> Expanded {
    let mut out = Expanded::default();
    expand_into(word, scope, budget, 0, &mut out);
    out
}

/// Append `value` (a variable's value) to `out`, unless that makes the value too long or
/// exhausts the budget: then `out` is marked unsupported and `false` returned.
fn push_value(out: &mut Expanded, value: &Mapped, budget: &mut Budget) -> bool {
    if out.value.len() + value.len() > MAX_VALUE_LEN {
        out.unsupported = Some(format!(
            "a value longer than {MAX_VALUE_LEN} bytes after substitution"
        ));
        out.halted = true;
        return false;
    }
    // The map of where each byte came from costs memory too: a value assembled from a byte
    // at a time holds a piece per byte.
    if !budget.spend(value.footprint()) {
        out.unsupported = Some(
            "more substitution than repin evaluates in one file (variables that repeat each other)"
                .to_owned(),
        );
        out.halted = true;
        return false;
    }
    out.value.push_slice(value, 0, value.len());
    true
}

/// Substitute `word` into `out`, `depth` defaults deep. A form repin does not evaluate is
/// recorded in `out.unsupported` and the rest still substituted; a limit ([`MAX_VALUE_LEN`],
/// [`MAX_NESTING`], the [`Budget`]) is recorded there too and stops at once: `false`.
fn expand_into(
    word: &Mapped,
    scope: &Scope,
    budget: &mut Budget,
    depth: usize,
    out: &mut Expanded,
) -> bool {
    let text = word.text();
    let bytes = text.as_bytes();
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
            let Some(close) = closing_brace(&text[i + 2..]) else {
                out.unsupported = Some(format!("unclosed `${{` in `{text}`"));
                out.value.push_slice(word, i, text.len());
                return true;
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
            let value = lookup(scope, name, out);
            match rest {
                "" => {
                    if let Some(v) = value {
                        if !push_value(out, v, budget) {
                            return false;
                        }
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
                        let skip = if colon { 2 } else { 1 };
                        if !nested(scope, budget, depth, out, &operand(skip)) {
                            return false;
                        }
                        out.unresolved.retain(|n| n != name);
                    } else if let Some(v) = value {
                        if !push_value(out, v, budget) {
                            return false;
                        }
                    }
                }
                _ if rest.starts_with(":+") || rest.starts_with('+') => {
                    let colon = rest.starts_with(':');
                    let set = match &value {
                        None => false,
                        Some(v) => !colon || !v.is_empty(),
                    };
                    out.unresolved.retain(|n| n != name);
                    let skip = if colon { 2 } else { 1 };
                    if set && !nested(scope, budget, depth, out, &operand(skip)) {
                        return false;
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
            if let Some(v) = lookup(scope, name, out) {
                if !push_value(out, v, budget) {
                    return false;
                }
            }
            i += 1 + name_len;
        }
        literal_start = i;
    }
    out.value.push_slice(word, literal_start, text.len());
    true
}

/// Where the `}` that closes a `${` is in `text` (which starts right after it): defaults may
/// hold `${...}` of their own (`${BASE:-python:${PY}-slim}`), as BuildKit reads them.
fn closing_brace(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut open = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            // A dollar `words` marked literal opens nothing.
            b'\\' if bytes.get(i + 1) == Some(&b'$') => i += 1,
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                open += 1;
                i += 1;
            }
            b'}' if open == 0 => return Some(i),
            b'}' => open -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Substitute a default's `operand` into `out`, one level deeper; false when it could not be.
fn nested(
    scope: &Scope,
    budget: &mut Budget,
    depth: usize,
    out: &mut Expanded,
    operand: &Mapped,
) -> bool {
    if depth + 1 > MAX_NESTING {
        out.unsupported = Some(format!("defaults nested more than {MAX_NESTING} deep"));
        out.halted = true;
        return false;
    }
    expand_into(operand, scope, budget, depth + 1, out)
}

/// The value of `name` in `scope`, recording its use; `None` when it has none.
fn lookup<'s>(scope: &'s Scope, name: &str, out: &mut Expanded) -> Option<&'s Mapped> {
    out.used.push(name.to_owned());
    match scope.get(name) {
        Some(Declared {
            default: Some(v),
            unresolved,
            unsupported,
            halted,
            ..
        }) => {
            out.unresolved.extend(unresolved.iter().cloned());
            if let Some(why) = unsupported {
                if out.unsupported.is_none() {
                    out.unsupported = Some(why.clone());
                    out.halted = *halted;
                }
                // A value that was not evaluated is not copied: whatever uses it is not
                // evaluated either, and a chain of such uses would copy it again and again.
                return None;
            }
            Some(v)
        }
        _ => {
            out.unresolved.push(name.to_owned());
            None
        }
    }
}

/// Parse an `ARG` instruction's words (`NAME`, `NAME=value`, several per line) into
/// declarations, substituting earlier variables (those on the same line too) into the defaults,
/// and declare them in `scope`.
pub fn declare_all(
    words: &[Word],
    scope: &mut Scope,
    budget: &mut Budget,
) -> Vec<(Declared, Word)> {
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
        let (default, unresolved, unsupported, halted) = match default {
            Some(raw) => {
                let e = expand(&raw, scope, budget);
                (Some(e.value), e.unresolved, e.unsupported, e.halted)
            }
            None => (None, Vec::new(), None, false),
        };
        let declared = Declared {
            name,
            default,
            unresolved,
            unsupported,
            halted,
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
                unsupported: None,
                halted: false,
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
        let e = expand(&word, &s, &mut Budget::for_text(0));
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
            // A default holding a `${...}` of its own, as BuildKit reads it.
            ("${MISSING:-python:${PY}-slim}", "python:3.12-slim", vec![]),
            ("${MISSING:-${ALSO_MISSING:-3}}", "3", vec![]),
            ("$", "$", vec![]),
        ];
        for (input, expected, unresolved) in cases {
            let e = expand(&mapped(input), &s, &mut Budget::for_text(0));
            assert_eq!(e.value.text(), expected, "{input}");
            assert_eq!(e.unresolved, unresolved, "{input}");
        }
        assert!(
            expand(&mapped("${PY#3.}"), &s, &mut Budget::for_text(0))
                .unsupported
                .is_some()
        );
    }

    #[test]
    fn arg_defaults_refer_to_earlier_args() {
        let text = "PYTHON_VERSION=3.12 BASE_IMAGE=python:${PYTHON_VERSION}-slim EMPTY";
        let mut s = Scope::default();
        let declared = declare_all(
            &words(&mapped(text), '\\'),
            &mut s,
            &mut Budget::for_text(0),
        );
        assert_eq!(declared.len(), 3);
        let base = s.get("BASE_IMAGE").unwrap().default.clone().unwrap();
        assert_eq!(base.text(), "python:3.12-slim");
        let span = base.file_span(7, 11).unwrap();
        assert_eq!(&text[span.range()], "3.12");
        assert!(s.get("EMPTY").unwrap().default.is_none());
    }
}
