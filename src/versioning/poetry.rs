//! Poetry's version constraints (`^1.2.3`, `~1.2`, `1.2.*`, `>=1.2 <2.0`, `^1 || ^2`), as
//! documented at <https://python-poetry.org/docs/dependency-specification/>, translated to PEP
//! 440 and rewritten by the range strategies.
//!
//! A constraint is one or more *branches* joined by `||` (or `|`): a version matches when any
//! branch matches. A branch is one or more *clauses* separated by commas or spaces, all of
//! which must match. A clause is:
//!
//! | written | PEP 440 |
//! |---|---|
//! | `^1.2.3` | `>=1.2.3,<2.0.0` (the first non-zero component moves: `^0.2.3` is `>=0.2.3,<0.3.0`, `^0.0.3` is `>=0.0.3,<0.0.4`, `^0.0` is `>=0.0,<0.1`, `^0` is `>=0,<1`) |
//! | `~1.2.3`, `~1.2`, `~1` | `>=1.2.3,<1.3.0`, `>=1.2,<1.3`, `>=1,<2` |
//! | `~=1.2` | `~=1.2` |
//! | `1.2.*`, `==1.2.*`, `!=1.2.*` | the same |
//! | `*` | anything |
//! | `1.2.3`, `=1.2.3`, `==1.2.3` | `==1.2.3` |
//! | `>=`, `>`, `<=`, `<`, `!=` (`<>`) | the same |
//!
//! A union PEP 440 cannot write as one specifier set is kept as its branches
//! ([`Constraint::contains`] asks each); [`Constraint::pep440`] is the translation when there
//! is one branch. Hostile input is bounded: at most [`MAX_LEN`] bytes, [`MAX_BRANCHES`] branches
//! and [`MAX_CLAUSES`] clauses a branch.
//!
//! # Range strategies ([`apply_strategy`])
//!
//! Each rewrite is a splice of the clauses it changes; every other byte (spacing, separators,
//! the other branches) stays as written. With `p` the number of release components a clause
//! is written with:
//!
//! - `pin`: the exact version, bare (`2.32.3`), Poetry's own exact form.
//! - `bump`: in the branch that allows `new` (else the last), `^V` becomes `^new` (the whole
//!   new version: the floor rises to it, the caret keeps the width); `~V`, `~=V` and `V.*`
//!   keep `p` components (`~1.2` + 1.4.5 → `~1.4`: more components would narrow a tilde);
//!   exact versions become `new`; `>=V`/`>V` become `>=new`; an upper bound that excludes
//!   `new` moves past it (`<2.0` + 2.4 → `<3.0`, `<=1.4` → `<=new`); `!=` stays.
//! - `replace`: nothing when `new` is allowed; otherwise as `bump`, but a caret too keeps
//!   `p` components (`^2.31` + 3.0.1 → `^3.0`: the same range, moved).
//! - `widen`: nothing when `new` is allowed; a branch made of a caret, tilde, wildcard or
//!   exact version gets a new branch of the same operator on `new` (`^2.31` + 3.0.1 →
//!   `^2.31 || ^3.0`), which is what Renovate's `widen` writes for Poetry (its Poetry
//!   versioning follows npm's, where a caret is widened by a `||` union); a branch of
//!   comparisons gets its upper bounds moved past `new` (`>=1.2,<2.0` + 2.4 → `>=1.2,<3.0`).
//! - `auto`: `bump` for a pin-like constraint (one exact version or wildcard), `replace`
//!   otherwise.
//!
//! The result is parsed again and must allow `new`, else [`PoetryError::NotAllowed`].

use std::ops::Range;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};

use super::pep440::RangeStrategy;

/// The longest constraint read, in bytes (the longest real one is a few dozen).
pub const MAX_LEN: usize = 1024;
/// The most `||` branches read.
pub const MAX_BRANCHES: usize = 32;
/// The most clauses read in one branch.
pub const MAX_CLAUSES: usize = 32;

/// Why a Poetry constraint could not be read or rewritten.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoetryError {
    /// Longer than [`MAX_LEN`] bytes.
    #[error("The constraint is {len} bytes long, more than the {MAX_LEN} repin reads")]
    TooLong {
        /// Its length.
        len: usize,
    },
    /// More than [`MAX_BRANCHES`] branches or [`MAX_CLAUSES`] clauses in a branch.
    #[error("The constraint has more than {limit} {what}")]
    TooMany {
        /// `||` branches or clauses.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// A branch with nothing in it (`^1 ||`, or an empty string).
    #[error("The constraint `{text}` has an empty part")]
    Empty {
        /// The whole constraint.
        text: String,
    },
    /// A clause that is not Poetry's syntax.
    #[error("`{clause}` is not a Poetry version constraint")]
    Invalid {
        /// The clause as written.
        clause: String,
        /// Why.
        why: String,
        /// Where, in the constraint's bytes.
        span: Range<usize>,
    },
    /// The rewrite still does not allow the new version (an exclusion names it).
    #[error(
        "The {strategy} range strategy cannot make `{current}` allow {version} (the result would be `{result}`)"
    )]
    NotAllowed {
        /// The strategy applied.
        strategy: RangeStrategy,
        /// The constraint before.
        current: String,
        /// The text produced.
        result: String,
        /// The version that had to be allowed.
        version: String,
    },
}

/// A clause's operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// `^V`.
    Caret,
    /// `~V`.
    Tilde,
    /// `~=V`.
    TildeEqual,
    /// `V`, `=V` or `==V`: exactly this version.
    Exact,
    /// `V.*` or `==V.*`.
    Wildcard,
    /// `!=V.*`.
    NotWildcard,
    /// `*`: any version.
    Any,
    /// `>=V`.
    GreaterEqual,
    /// `>V`.
    Greater,
    /// `<=V`.
    LessEqual,
    /// `<V`.
    Less,
    /// `!=V` or `<>V`.
    NotEqual,
}

/// One clause of a branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// The operator.
    pub operator: Operator,
    /// The version (for a wildcard, its prefix; for `*`, `0`).
    pub version: Version,
    /// Release components written (`1.2` is 2).
    pub precision: usize,
    /// Where the whole clause (operator and version) is, in the constraint's bytes.
    pub span: Range<usize>,
    /// Where the operator is (empty for a bare version).
    pub operator_span: Range<usize>,
}

/// One `||` branch: every clause must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    /// The clauses, in written order.
    pub clauses: Vec<Clause>,
    /// The branch as PEP 440 specifiers.
    pub specifiers: VersionSpecifiers,
    /// Where the branch is (trimmed), in the constraint's bytes.
    pub span: Range<usize>,
}

/// A parsed Poetry constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    /// The branches: a version matches when any does.
    pub branches: Vec<Branch>,
}

impl FromStr for Constraint {
    type Err = PoetryError;

    fn from_str(text: &str) -> Result<Self, PoetryError> {
        Constraint::parse(text)
    }
}

impl Constraint {
    /// Read a constraint.
    ///
    /// # Errors
    ///
    /// [`PoetryError`] when it is too long, has too many parts, an empty part or a clause that
    /// is not Poetry's syntax.
    pub fn parse(text: &str) -> Result<Self, PoetryError> {
        if text.len() > MAX_LEN {
            return Err(PoetryError::TooLong { len: text.len() });
        }
        let mut branches = Vec::new();
        for range in split_branches(text) {
            if branches.len() == MAX_BRANCHES {
                return Err(PoetryError::TooMany {
                    what: "`||` branches",
                    limit: MAX_BRANCHES,
                });
            }
            let (start, end) = trimmed(text, range);
            if start == end {
                return Err(PoetryError::Empty {
                    text: text.to_owned(),
                });
            }
            branches.push(parse_branch(text, start..end)?);
        }
        Ok(Constraint { branches })
    }

    /// Whether `version` matches (any branch allows it). Pre-release policy is the caller's.
    pub fn contains(&self, version: &Version) -> bool {
        self.branches.iter().any(|b| b.specifiers.contains(version))
    }

    /// The PEP 440 specifiers, when the constraint has one branch.
    pub fn pep440(&self) -> Option<&VersionSpecifiers> {
        match self.branches.as_slice() {
            [only] => Some(&only.specifiers),
            _ => None,
        }
    }

    /// Whether it allows any version (`*`).
    pub fn is_any(&self) -> bool {
        self.branches.iter().any(|b| b.specifiers.is_empty())
    }

    /// Whether it names a pre-release in a clause that allows it (PEP 440's rule for
    /// letting pre-releases in).
    pub fn admits_prereleases(&self) -> bool {
        self.clauses().any(|c| {
            !matches!(c.operator, Operator::NotEqual | Operator::NotWildcard)
                && c.version.any_prerelease()
        })
    }

    /// The exact version, when the constraint is one exact clause (`1.2.3`, `==1.2.3`).
    pub fn exact(&self) -> Option<&Clause> {
        match self.branches.as_slice() {
            [only] => match only.clauses.as_slice() {
                [c] if c.operator == Operator::Exact => Some(c),
                _ => None,
            },
            _ => None,
        }
    }

    /// The lowest version any branch's lower bound names, `None` for an unbounded branch.
    pub fn floor(&self) -> Option<Version> {
        let mut lowest: Option<Version> = None;
        for branch in &self.branches {
            let floor = branch
                .clauses
                .iter()
                .filter(|c| is_lower(c.operator))
                .map(|c| c.version.clone())
                .max()?;
            if lowest.as_ref().is_none_or(|l| floor < *l) {
                lowest = Some(floor);
            }
        }
        lowest
    }

    fn clauses(&self) -> impl Iterator<Item = &Clause> {
        self.branches.iter().flat_map(|b| b.clauses.iter())
    }

    /// Pin-like: one branch of exact versions and wildcards (besides exclusions).
    fn is_pin_like(&self) -> bool {
        match self.branches.as_slice() {
            [only] => {
                only.clauses
                    .iter()
                    .any(|c| matches!(c.operator, Operator::Exact | Operator::Wildcard))
                    && only.clauses.iter().all(|c| {
                        matches!(
                            c.operator,
                            Operator::Exact
                                | Operator::Wildcard
                                | Operator::NotEqual
                                | Operator::NotWildcard
                        )
                    })
            }
            _ => false,
        }
    }
}

fn is_lower(operator: Operator) -> bool {
    matches!(
        operator,
        Operator::Caret
            | Operator::Tilde
            | Operator::TildeEqual
            | Operator::Exact
            | Operator::Wildcard
            | Operator::GreaterEqual
            | Operator::Greater
    )
}

/// The byte ranges between `||` (or single `|`) separators.
fn split_branches(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'|' {
            out.push(start..i);
            i += if bytes.get(i + 1) == Some(&b'|') {
                2
            } else {
                1
            };
            start = i;
        } else {
            i += 1;
        }
    }
    out.push(start..text.len());
    out
}

fn trimmed(text: &str, range: Range<usize>) -> (usize, usize) {
    let slice = &text[range.clone()];
    let start = range.start + (slice.len() - slice.trim_start().len());
    let end = range.end - (slice.len() - slice.trim_end().len());
    (start, end.max(start))
}

const OPERATORS: [(&str, Operator); 12] = [
    ("~=", Operator::TildeEqual),
    ("==", Operator::Exact),
    ("!=", Operator::NotEqual),
    ("<>", Operator::NotEqual),
    (">=", Operator::GreaterEqual),
    ("<=", Operator::LessEqual),
    ("^", Operator::Caret),
    ("~", Operator::Tilde),
    (">", Operator::Greater),
    ("<", Operator::Less),
    ("=", Operator::Exact),
    ("", Operator::Exact),
];

fn is_separator(c: char) -> bool {
    c == ',' || c.is_whitespace()
}

fn parse_branch(text: &str, range: Range<usize>) -> Result<Branch, PoetryError> {
    let mut clauses = Vec::new();
    let mut i = range.start;
    while i < range.end {
        let rest = &text[i..range.end];
        let skipped = rest.len() - rest.trim_start_matches(is_separator).len();
        if skipped > 0 {
            i += skipped;
            continue;
        }
        if clauses.len() == MAX_CLAUSES {
            return Err(PoetryError::TooMany {
                what: "clauses in a branch",
                limit: MAX_CLAUSES,
            });
        }
        let (written, operator) = OPERATORS
            .iter()
            .find(|(op, _)| rest.starts_with(op))
            .copied()
            .unwrap_or(("", Operator::Exact));
        let operator_span = i..i + written.len();
        let after = &rest[written.len()..];
        let gap = after.len() - after.trim_start().len();
        let version_start = operator_span.end + gap;
        let version_text = text[version_start..range.end]
            .split(is_separator)
            .next()
            .unwrap_or_default();
        let end = version_start + version_text.len();
        clauses.push(clause(
            text,
            operator,
            written,
            version_text,
            i..end,
            operator_span,
        )?);
        i = end;
    }
    let specifiers = pep440_of(&clauses, text, &range)?;
    Ok(Branch {
        clauses,
        specifiers,
        span: range,
    })
}

fn invalid(text: &str, span: Range<usize>, why: impl Into<String>) -> PoetryError {
    PoetryError::Invalid {
        clause: text[span.clone()].to_owned(),
        why: why.into(),
        span,
    }
}

fn clause(
    text: &str,
    mut operator: Operator,
    written: &str,
    version_text: &str,
    span: Range<usize>,
    operator_span: Range<usize>,
) -> Result<Clause, PoetryError> {
    if version_text.is_empty() {
        return Err(invalid(text, span, "the operator has no version"));
    }
    let mut version_text = version_text;
    if version_text == "*" {
        if !written.is_empty() && written != "==" {
            return Err(invalid(text, span, "`*` takes no operator"));
        }
        return Ok(Clause {
            operator: Operator::Any,
            version: Version::new([0]),
            precision: 0,
            span,
            operator_span,
        });
    }
    if let Some(prefix) = version_text.strip_suffix(".*") {
        operator = match operator {
            Operator::Exact => Operator::Wildcard,
            Operator::NotEqual if written == "!=" => Operator::NotWildcard,
            _ => {
                return Err(invalid(
                    text,
                    span,
                    "a wildcard takes `==`, `!=` or nothing",
                ));
            }
        };
        version_text = prefix;
    }
    let version =
        Version::from_str(version_text).map_err(|e| invalid(text, span.clone(), e.to_string()))?;
    let wildcard = matches!(operator, Operator::Wildcard | Operator::NotWildcard);
    if wildcard && (!version.is_stable() || version.is_post() || version.is_local()) {
        return Err(invalid(
            text,
            span,
            "a wildcard's prefix is release numbers",
        ));
    }
    if operator == Operator::TildeEqual && version.release().len() < 2 {
        return Err(invalid(text, span, "`~=` needs at least two components"));
    }
    Ok(Clause {
        operator,
        precision: version.release().len(),
        version,
        span,
        operator_span,
    })
}

/// The release `release` with component `at` incremented and later ones zero, `width` long.
fn next_at(version: &Version, at: usize, width: usize) -> Option<Version> {
    let mut release: Vec<u64> = version.release().iter().copied().take(at + 1).collect();
    release.resize(at + 1, 0);
    release[at] = release[at].checked_add(1)?;
    release.resize(width.max(at + 1), 0);
    Some(Version::new(release).with_epoch(version.epoch()))
}

/// Where a caret's upper bound moves: the first non-zero component, else the last written.
fn caret_position(version: &Version, precision: usize) -> usize {
    let release = &version.release()[..precision.min(version.release().len())];
    release
        .iter()
        .position(|&n| n != 0)
        .unwrap_or(precision.saturating_sub(1))
}

fn upper_of(clause: &Clause) -> Option<Version> {
    let p = clause.precision;
    match clause.operator {
        Operator::Caret => next_at(&clause.version, caret_position(&clause.version, p), p),
        Operator::Tilde => next_at(&clause.version, if p == 1 { 0 } else { 1 }, p),
        _ => None,
    }
}

fn pep440_of(
    clauses: &[Clause],
    text: &str,
    range: &Range<usize>,
) -> Result<VersionSpecifiers, PoetryError> {
    let mut parts = Vec::new();
    for clause in clauses {
        let v = &clause.version;
        match clause.operator {
            Operator::Any => {}
            Operator::Caret | Operator::Tilde => {
                let upper = upper_of(clause).ok_or_else(|| {
                    invalid(text, clause.span.clone(), "the version is too large")
                })?;
                parts.push(format!(">={v}"));
                parts.push(format!("<{upper}"));
            }
            Operator::TildeEqual => parts.push(format!("~={v}")),
            Operator::Exact => parts.push(format!("=={v}")),
            Operator::Wildcard => parts.push(format!("=={v}.*")),
            Operator::NotWildcard => parts.push(format!("!={v}.*")),
            Operator::GreaterEqual => parts.push(format!(">={v}")),
            Operator::Greater => parts.push(format!(">{v}")),
            Operator::LessEqual => parts.push(format!("<={v}")),
            Operator::Less => parts.push(format!("<{v}")),
            Operator::NotEqual => parts.push(format!("!={v}")),
        }
    }
    VersionSpecifiers::from_str(&parts.join(","))
        .map_err(|e| invalid(text, range.clone(), e.to_string()))
}

/// `new`'s release cut or padded to `width` components (no pre-release or other parts).
fn cut(new: &Version, width: usize) -> Version {
    let mut release: Vec<u64> = new.release().iter().copied().take(width).collect();
    release.resize(width.max(1), 0);
    Version::new(release).with_epoch(new.epoch())
}

/// Rewrite the constraint `written` with `strategy` so that it allows `new`: the new text, or
/// `None` when the written one already is the result. See the module documentation.
///
/// # Errors
///
/// [`PoetryError`] when `written` does not parse, or [`PoetryError::NotAllowed`] when the
/// result would still not allow `new`.
pub fn apply_strategy(
    strategy: RangeStrategy,
    written: &str,
    new: &Version,
) -> Result<Option<String>, PoetryError> {
    let constraint = Constraint::parse(written)?;
    let strategy = match strategy {
        RangeStrategy::Auto if constraint.is_pin_like() => RangeStrategy::Bump,
        RangeStrategy::Auto => RangeStrategy::Replace,
        other => other,
    };
    let allowed = constraint.contains(new);
    let result = match strategy {
        RangeStrategy::Pin => {
            if constraint.exact().is_some_and(|c| c.version == *new) {
                return Ok(None);
            }
            new.to_string()
        }
        RangeStrategy::Widen | RangeStrategy::Replace if allowed => return Ok(None),
        RangeStrategy::Widen => widen(&constraint, written, new),
        RangeStrategy::Bump | RangeStrategy::Replace | RangeStrategy::Auto => {
            bump(&constraint, written, new, strategy == RangeStrategy::Bump)
        }
    };
    let fits = Constraint::parse(&result).is_ok_and(|c| c.contains(new));
    if !fits {
        return Err(PoetryError::NotAllowed {
            strategy,
            current: written.to_owned(),
            result,
            version: new.to_string(),
        });
    }
    Ok((result != written).then_some(result))
}

/// Splice `replacements` (sorted, disjoint byte ranges) into `written`.
fn splice(written: &str, replacements: &[(Range<usize>, String)]) -> String {
    let mut out = String::with_capacity(written.len() + 16);
    let mut at = 0;
    for (range, text) in replacements {
        out.push_str(&written[at..range.start]);
        out.push_str(text);
        at = range.end;
    }
    out.push_str(&written[at..]);
    out
}

/// The version after a clause's operator, for an upper bound `<V` that must pass `new`: the
/// next value at the position of `V`'s last non-zero component, `V`'s width.
fn upper_past(clause: &Clause, new: &Version) -> Version {
    let release = clause.version.release();
    let at = release.iter().rposition(|&n| n != 0).unwrap_or(0);
    next_at(new, at, clause.precision).unwrap_or_else(|| new.clone())
}

fn bump(constraint: &Constraint, written: &str, new: &Version, full_caret: bool) -> String {
    let branch = constraint
        .branches
        .iter()
        .find(|b| b.specifiers.contains(new))
        .or(constraint.branches.last())
        .expect("a constraint has a branch");
    let mut replacements = Vec::new();
    for clause in &branch.clauses {
        let version_span = clause.operator_span.end..clause.span.end;
        let version_text = &written[version_span.clone()];
        let gap = version_text.len() - version_text.trim_start().len();
        let version_span = version_span.start + gap..version_span.end;
        let text = match clause.operator {
            Operator::Caret if full_caret => Some(new.to_string()),
            Operator::Caret | Operator::Tilde | Operator::TildeEqual => {
                Some(cut(new, clause.precision.max(1)).to_string())
            }
            Operator::Wildcard => Some(format!("{}.*", cut(new, clause.precision))),
            Operator::Exact => Some(new.to_string()),
            Operator::GreaterEqual => Some(new.to_string()),
            Operator::Greater => {
                replacements.push((clause.operator_span.clone(), ">=".to_owned()));
                Some(new.to_string())
            }
            Operator::Less if *new >= clause.version => Some(upper_past(clause, new).to_string()),
            Operator::LessEqual if *new > clause.version => Some(new.to_string()),
            _ => None,
        };
        if let Some(text) = text {
            replacements.push((version_span, text));
        }
    }
    replacements.sort_by_key(|(r, _)| r.start);
    splice(written, &replacements)
}

fn widen(constraint: &Constraint, written: &str, new: &Version) -> String {
    let branch = constraint
        .branches
        .last()
        .expect("a constraint has a branch");
    let shaped = branch.clauses.iter().find(|c| {
        matches!(
            c.operator,
            Operator::Caret
                | Operator::Tilde
                | Operator::TildeEqual
                | Operator::Wildcard
                | Operator::Exact
        )
    });
    if let Some(clause) = shaped {
        let operator = &written[clause.operator_span.clone()];
        let version = match clause.operator {
            Operator::Exact => new.to_string(),
            Operator::Wildcard => format!("{}.*", cut(new, clause.precision)),
            _ => cut(new, clause.precision.max(1)).to_string(),
        };
        return format!("{} || {operator}{version}", written.trim_end());
    }
    let mut replacements = Vec::new();
    for clause in &branch.clauses {
        let version_span = clause.operator_span.end..clause.span.end;
        let version_text = &written[version_span.clone()];
        let gap = version_text.len() - version_text.trim_start().len();
        let version_span = version_span.start + gap..version_span.end;
        match clause.operator {
            Operator::Less if *new >= clause.version => {
                replacements.push((version_span, upper_past(clause, new).to_string()));
            }
            Operator::LessEqual if *new > clause.version => {
                replacements.push((version_span, new.to_string()));
            }
            _ => {}
        }
    }
    splice(written, &replacements)
}

#[cfg(test)]
mod tests;
