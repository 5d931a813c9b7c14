//! A specifier as written: its clauses with the exact spacing around operators and commas,
//! so a rewrite can change one version and leave every other byte alone.

use std::str::FromStr;

use pep440_rs::{VersionSpecifier, VersionSpecifiers};

use super::Pep440Error;

/// One clause, split into the pieces that are re-joined unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Clause {
    /// Whitespace before the operator.
    pub lead: String,
    /// The operator as written (`>=`, `~=`, `==`).
    pub op: String,
    /// Whitespace between the operator and the version.
    pub gap: String,
    /// The version as written, including a `.*` suffix.
    pub version: String,
    /// Whitespace after the version, before the next comma.
    pub trail: String,
    /// The parsed clause.
    pub spec: VersionSpecifier,
}

impl Clause {
    pub fn render(&self) -> String {
        format!(
            "{}{}{}{}{}",
            self.lead, self.op, self.gap, self.version, self.trail
        )
    }
}

/// A whole specifier as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Written {
    /// An opening parenthesis with the whitespace around it (PEP 508 allows `name (>=1.0)`), or
    /// the leading whitespace.
    pub open: String,
    /// The clauses in written order.
    pub clauses: Vec<Clause>,
    /// The closing parenthesis with whitespace, or the trailing whitespace.
    pub close: String,
    /// Whitespace written before commas (from the first comma; empty when there is none).
    pub before_comma: String,
    /// Whitespace written after commas (from the first comma; when there is no comma, one
    /// space if the operators are followed by a space, else nothing).
    pub after_comma: String,
}

impl Written {
    /// Split `text` into clauses; `text` must parse as PEP 440 specifiers.
    pub fn parse(text: &str) -> Result<(Written, VersionSpecifiers), Pep440Error> {
        let (open, inner, close) = split_parentheses(text);
        let parsed =
            VersionSpecifiers::from_str(inner).map_err(|source| Pep440Error::InvalidSpecifier {
                text: text.to_owned(),
                source,
            })?;
        let mut clauses = Vec::new();
        if !inner.trim().is_empty() {
            for piece in inner.split(',') {
                clauses.push(split_clause(piece).ok_or_else(|| {
                    // pep440_rs accepted the whole text, so a piece it rejects on its own
                    // means the two disagree on syntax; report it through the whole-text parse.
                    Pep440Error::SpecifierMismatch {
                        text: text.to_owned(),
                        parsed: parsed.to_string(),
                    }
                })?);
            }
        }
        let (open, close) = if clauses.is_empty() {
            (open.to_owned() + inner, close.to_owned())
        } else {
            (open.to_owned(), close.to_owned())
        };
        let before_comma = if clauses.len() > 1 {
            clauses[0].trail.clone()
        } else {
            String::new()
        };
        let after_comma = match clauses.get(1) {
            Some(second) => second.lead.clone(),
            None if clauses.first().is_some_and(|c| !c.gap.is_empty()) => " ".to_owned(),
            None => String::new(),
        };
        Ok((
            Written {
                open,
                clauses,
                close,
                before_comma,
                after_comma,
            },
            parsed,
        ))
    }

    /// The gap written after operators (from the first clause).
    pub fn gap(&self) -> String {
        self.clauses
            .first()
            .map(|c| c.gap.clone())
            .unwrap_or_default()
    }

    pub fn render(&self) -> String {
        let body: Vec<String> = self.clauses.iter().map(Clause::render).collect();
        format!("{}{}{}", self.open, body.join(","), self.close)
    }
}

/// `(>=1.0)` → (`(`, `>=1.0`, `)`), keeping whitespace with the parentheses; text without
/// parentheses → (leading whitespace, body, trailing whitespace).
fn split_parentheses(text: &str) -> (&str, &str, &str) {
    let start = text.len() - text.trim_start().len();
    let end = start + text[start..].trim_end().len();
    let body = &text[start..end];
    if body.len() >= 2 && body.starts_with('(') && body.ends_with(')') {
        let inner = &body[1..body.len() - 1];
        let inner_start = start + 1 + (inner.len() - inner.trim_start().len());
        let inner_end = start + 1 + inner.trim_end().len();
        (
            &text[..inner_start],
            &text[inner_start..inner_end],
            &text[inner_end..],
        )
    } else {
        (&text[..start], body, &text[end..])
    }
}

fn split_clause(piece: &str) -> Option<Clause> {
    let lead_len = piece.len() - piece.trim_start().len();
    let rest = &piece[lead_len..];
    let op_len = rest
        .find(|c: char| !matches!(c, '~' | '=' | '!' | '<' | '>'))
        .unwrap_or(rest.len());
    let after_op = &rest[op_len..];
    let gap_len = after_op.len() - after_op.trim_start().len();
    let version_and_trail = &after_op[gap_len..];
    let version = version_and_trail.trim_end();
    let spec = VersionSpecifier::from_str(piece.trim()).ok()?;
    Some(Clause {
        lead: piece[..lead_len].to_owned(),
        op: rest[..op_len].to_owned(),
        gap: after_op[..gap_len].to_owned(),
        version: version.to_owned(),
        trail: version_and_trail[version.len()..].to_owned(),
        spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_style() {
        for text in [
            ">=1.0",
            ">= 1.17.0, < 2.0",
            ">=1.0 ,<2",
            "~=1.2.0",
            "==1.2.*",
            "(>=1.0, <2)",
            "( >=1.0 )",
            "",
            "  ",
            "!=1.3,!=1.4.*,>1",
            "===1.0",
        ] {
            let (written, _) = Written::parse(text).unwrap();
            assert_eq!(written.render(), text);
        }
    }

    #[test]
    fn splits_clause_pieces() {
        let (written, parsed) = Written::parse(">= 1.17.0, < 2.0").unwrap();
        assert_eq!(parsed.len(), 2);
        let first = &written.clauses[0];
        assert_eq!(
            (
                first.op.as_str(),
                first.gap.as_str(),
                first.version.as_str()
            ),
            (">=", " ", "1.17.0")
        );
        let second = &written.clauses[1];
        assert_eq!(
            (
                second.lead.as_str(),
                second.op.as_str(),
                second.version.as_str()
            ),
            (" ", "<", "2.0")
        );
        assert_eq!(written.after_comma, " ");
        assert_eq!(written.before_comma, "");
        assert_eq!(written.gap(), " ");
    }

    #[test]
    fn infers_comma_style_without_commas() {
        assert_eq!(Written::parse(">= 1.0").unwrap().0.after_comma, " ");
        assert_eq!(Written::parse(">=1.0").unwrap().0.after_comma, "");
    }

    #[test]
    fn rejects_invalid_text() {
        for text in [">=", "1.0", ">=1.0,", "~=1", ">=1.0; python_version"] {
            assert!(
                matches!(
                    Written::parse(text),
                    Err(Pep440Error::InvalidSpecifier { .. })
                ),
                "{text}"
            );
        }
    }
}
