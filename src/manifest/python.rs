//! One Python requirement (`name[extras] specifier ; marker`, or a URL or path), with spans.
//!
//! Shared by the requirements-file parser and by `pip install` arguments in Dockerfiles. The
//! scanner here finds where each part of the requirement is; `pep508_rs` then validates it and
//! gives the parsed specifier and marker, so repin accepts what pip accepts and knows exactly
//! which bytes hold the version.

use std::ops::ControlFlow;
use std::str::FromStr;

use pep440_rs::{Operator, Version, VersionSpecifiers};
use pep508_rs::{MarkerTree, Requirement};
use serde::Serialize;

use super::SkipReason;
use crate::text::Span;
use crate::vocab::normalize_name;

/// Index options in effect for a requirement (pip applies them to the whole file set).
#[derive(Clone, Default, PartialEq, Eq, Serialize)]
pub struct IndexOptions {
    /// `-i`/`--index-url`, as written (it may hold `${VAR}` references or credentials).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_url: Option<String>,
    /// `--extra-index-url`, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_index_urls: Vec<String>,
    /// `--no-index`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_index: bool,
    /// `-f`/`--find-links`, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub find_links: Vec<String>,
    /// `--trusted-host`, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trusted_hosts: Vec<String>,
    /// `--pre`: pre-releases are allowed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pre: bool,
    /// Where each URL above was first written (`path:line:col`), for errors about it.
    #[serde(skip)]
    pub places: Vec<(String, String)>,
}

impl std::fmt::Debug for IndexOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The options as written; where each URL is only matters to errors.
        f.debug_struct("IndexOptions")
            .field("index_url", &self.index_url)
            .field("extra_index_urls", &self.extra_index_urls)
            .field("no_index", &self.no_index)
            .field("find_links", &self.find_links)
            .field("trusted_hosts", &self.trusted_hosts)
            .field("pre", &self.pre)
            .finish()
    }
}

impl IndexOptions {
    /// Whether no option is set.
    pub fn is_empty(&self) -> bool {
        *self == IndexOptions::default()
    }

    /// Fold `other` (from a file included later, or from a more specific place) into these
    /// options, as pip does: a later `--index-url` wins, lists accumulate, flags stay set.
    pub fn merge(&mut self, other: &IndexOptions) {
        if other.index_url.is_some() {
            self.index_url.clone_from(&other.index_url);
        }
        for (mine, theirs) in [
            (&mut self.extra_index_urls, &other.extra_index_urls),
            (&mut self.find_links, &other.find_links),
            (&mut self.trusted_hosts, &other.trusted_hosts),
        ] {
            for item in theirs {
                if !mine.contains(item) {
                    mine.push(item.clone());
                }
            }
        }
        self.no_index |= other.no_index;
        self.pre |= other.pre;
        for (url, place) in &other.places {
            self.note_place(url, place);
        }
    }

    /// Record where `url` was written (`path:line:col`), unless it already was.
    pub fn note_place(&mut self, url: &str, place: &str) {
        if self.place_of(url).is_none() {
            self.places.push((url.to_owned(), place.to_owned()));
        }
    }

    /// Where `url` was written (`path:line:col`), when known.
    pub fn place_of(&self, url: &str) -> Option<&str> {
        self.places
            .iter()
            .find(|(u, _)| u == url)
            .map(|(_, p)| p.as_str())
    }
}

/// One `--hash=algorithm:digest` of a requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HashPin {
    /// `sha256`, `sha384`, `sha512`, ...
    pub algorithm: String,
    /// The hex digest.
    pub digest: String,
    /// The whole `--hash=...` (or `--hash ...`) option.
    pub span: Span,
    /// Just `algorithm:digest`.
    pub value_span: Span,
}

/// The operator of an exact pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PinOperator {
    /// `==`: PEP 440 equality.
    Equal,
    /// `===`: arbitrary (string) equality.
    ArbitraryEqual,
}

/// An exact pin: `==1.2.3` or `===1.2.3` as the only clause of the specifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// Which operator.
    pub operator: PinOperator,
    /// The version as written (`2022.12.07`, not normalised).
    pub text: String,
    /// The parsed version; `None` only for an `===` pin that is not a PEP 440 version.
    pub version: Option<Version>,
    /// Where the version text is.
    pub span: Span,
}

/// The requirement's version specifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Specifier {
    /// The text as written, trimmed (`>= 1.17.0, < 2.0`).
    pub text: String,
    /// Where it is.
    pub span: Span,
    /// The parsed specifiers; empty when the text holds an environment reference (`==${V}`),
    /// which only the installing shell can resolve. For a Poetry constraint, its PEP 440
    /// translation when it has one branch; empty for a union (see [`Specifier::poetry`]).
    pub parsed: VersionSpecifiers,
    /// The constraint in Poetry's syntax (`^1.2`, `~1.2`, `^1 || ^2`), for a dependency of
    /// `[tool.poetry]`: matching and rewriting go through it, not through `parsed`.
    pub poetry: Option<crate::versioning::poetry::Constraint>,
}

/// Why a specifier could not be rewritten for a new version, in its own syntax.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RewriteError {
    /// A PEP 440 specifier.
    #[error(transparent)]
    Pep440(#[from] crate::versioning::pep440::Pep440Error),
    /// A Poetry constraint.
    #[error(transparent)]
    Poetry(#[from] crate::versioning::poetry::PoetryError),
}

impl RewriteError {
    /// Whether the rewrite failed because an exclusion (`!=`) names the new version.
    pub fn is_excluded(&self) -> bool {
        matches!(
            self,
            RewriteError::Pep440(crate::versioning::pep440::Pep440Error::NotAllowed { .. })
                | RewriteError::Poetry(crate::versioning::poetry::PoetryError::NotAllowed { .. })
        )
    }
}

impl Specifier {
    /// Whether `version` is allowed (pre-release policy is the caller's).
    pub fn contains(&self, version: &Version) -> bool {
        match &self.poetry {
            Some(constraint) => constraint.contains(version),
            None => self.parsed.contains(version),
        }
    }

    /// Whether it constrains nothing (no clause, `*`, or an unresolved environment reference).
    pub fn is_unconstrained(&self) -> bool {
        match &self.poetry {
            Some(constraint) => constraint.is_any(),
            None => self.parsed.is_empty(),
        }
    }

    /// Whether it names a pre-release, which lets pre-releases in (PEP 440).
    pub fn admits_prereleases(&self) -> bool {
        match &self.poetry {
            Some(constraint) => constraint.admits_prereleases(),
            None => crate::versioning::pep440::admits_prereleases(&self.parsed),
        }
    }

    /// The lowest version it names as a lower bound.
    pub fn floor(&self) -> Option<Version> {
        match &self.poetry {
            Some(constraint) => constraint.floor(),
            None => crate::versioning::pep440::floor(&self.parsed),
        }
    }

    /// The text `strategy` makes of it so that it allows `new`, in its own syntax; `None` when
    /// the written text already is the result.
    ///
    /// # Errors
    ///
    /// [`RewriteError`] when no rewrite allows `new`.
    pub fn rewrite(
        &self,
        strategy: crate::versioning::pep440::RangeStrategy,
        new: &Version,
    ) -> Result<Option<String>, RewriteError> {
        Ok(match &self.poetry {
            Some(_) => crate::versioning::poetry::apply_strategy(strategy, &self.text, new)?,
            None => {
                crate::versioning::pep440::apply_strategy(strategy, &self.text, &self.parsed, new)?
            }
        })
    }

    /// The floor of a rewrite's text, read in the same syntax.
    pub fn floor_of(&self, text: &str) -> Option<Version> {
        match &self.poetry {
            Some(_) => crate::versioning::poetry::Constraint::parse(text)
                .ok()?
                .floor(),
            None => crate::versioning::pep440::floor(&text.parse().ok()?),
        }
    }
}

/// Where a requirement was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequirementOrigin {
    /// A line of a requirements file.
    RequirementsFile,
    /// An argument of `pip install` in a Dockerfile `RUN`.
    PipInstall,
    /// A string of a dependency list in `pyproject.toml`.
    Pyproject,
    /// A `[[package]]` entry of a `uv.lock`.
    UvLock,
    /// A `[[packages]]` entry of a `pylock.toml`.
    Pylock,
    /// A `[[package]]` entry of a `poetry.lock`.
    PoetryLock,
    /// A package of a `Pipfile` category (`[packages]`, `[dev-packages]`, …).
    Pipfile,
    /// A package of a `Pipfile.lock` category (`default`, `develop`, …).
    PipfileLock,
}

/// A Python requirement with the spans of its parts (all into the manifest's text).
#[derive(Debug, Clone)]
pub struct PythonRequirement {
    /// The name as written (`Jinja2`); empty for an unnamed URL or path.
    pub written_name: String,
    /// Where the name is (empty span at the start when unnamed).
    pub name_span: Span,
    /// Extras, normalised, in written order.
    pub extras: Vec<String>,
    /// The version specifier, when there is one.
    pub specifier: Option<Specifier>,
    /// The exact pin, when the specifier is a single `==`/`===` with a concrete version.
    pub pin: Option<Pin>,
    /// The environment marker text (after `;`), trimmed, with its span.
    pub marker: Option<(String, Span)>,
    /// The parsed marker; `None` when there is no marker or it did not parse.
    pub parsed_marker: Option<MarkerTree>,
    /// The URL or path, for `name @ url`, bare URLs, VCS and path requirements.
    pub url: Option<String>,
    /// Where the URL or path is.
    pub url_span: Option<Span>,
    /// Installed with `-e`/`--editable`.
    pub editable: bool,
    /// `--hash` options, in written order.
    pub hashes: Vec<HashPin>,
    /// Index options in effect.
    pub index: IndexOptions,
    /// `# via` annotations of a compiled lock file (`flask`, `-r requirements.in`).
    pub via: Vec<String>,
    /// The whole requirement entry including its per-requirement options (not trailing comments).
    pub entry_span: Span,
    /// Where it was written.
    pub origin: RequirementOrigin,
}

impl PythonRequirement {
    /// The pinned version, when this is an exact `==` pin with a PEP 440 version.
    pub fn pinned_version(&self) -> Option<&Version> {
        self.pin.as_ref().and_then(|p| p.version.as_ref())
    }
}

/// The result of scanning one requirement: the requirement, and why it cannot be updated.
#[derive(Debug, Clone)]
pub struct Scanned {
    /// The requirement (hashes, index options, via, origin left for the caller to fill in).
    pub requirement: PythonRequirement,
    /// `Some` when repin will list but not update it.
    pub skip_reason: Option<SkipReason>,
    /// A message when the requirement is invalid (the caller turns it into a diagnostic).
    pub error: Option<RequirementError>,
}

/// A requirement pip would reject, with the place in the scanned text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RequirementError {
    /// What is wrong: capital first letter, no trailing period.
    pub message: String,
    /// Where, relative to the scanned text's start plus the caller's offset.
    pub span: Span,
    /// The parser's own explanation, for a `Caused by:` line.
    pub cause: Option<String>,
}

const VCS_PREFIXES: [&str; 4] = ["git+", "hg+", "svn+", "bzr+"];

fn is_vcs(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    VCS_PREFIXES.iter().any(|p| lower.starts_with(p))
}

fn is_url(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    is_vcs(text)
        || ["http://", "https://", "file:", "ftp://"]
            .iter()
            .any(|p| lower.starts_with(p))
}

fn is_path(text: &str) -> bool {
    text.starts_with('.')
        || text.starts_with('/')
        || text.starts_with('~')
        || text.contains('/')
        || text.contains('\\')
        || [".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz"]
            .iter()
            .any(|ext| text.to_ascii_lowercase().ends_with(ext))
}

fn skip_for_url(url: &str) -> SkipReason {
    if is_vcs(url) {
        SkipReason::VcsRequirement
    } else if url.to_ascii_lowercase().starts_with("file:") || !is_url(url) {
        SkipReason::LocalPath
    } else {
        SkipReason::UrlRequirement
    }
}

/// The `#egg=name` of a URL, if any.
fn egg_name(url: &str) -> Option<&str> {
    let fragment = url.split_once('#')?.1;
    fragment
        .split('&')
        .find_map(|kv| kv.strip_prefix("egg="))
        .map(|name| name.split(['[', '=', '<', '>']).next().unwrap_or(name))
        .filter(|n| !n.is_empty())
}

fn trim_end_span(text: &str, start: usize, end: usize) -> usize {
    start + text[start..end].trim_end().len()
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// PEP 508's name rule (for package names and extras): letters, digits, `-`, `_`, `.`, starting
/// and ending with a letter or digit. `pep508_rs` panics on some names that break it, so repin
/// checks first.
pub(crate) fn is_valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && name.chars().all(is_name_char)
}

/// Why `pep508_rs` would panic on the requirement `line`, if it would: it builds a name or an
/// extra that its parser let through but that breaks the name rule (`request- (>=2.0)`, found
/// by the `metadata` fuzz target). Checked before parsing, so the panic path is never taken
/// (a panic is caught too, but only where unwinding is on).
pub fn pep508_panic_reason(line: &str) -> Option<String> {
    let text = line.trim_start();
    let name_end = text.find(|c: char| !is_name_char(c)).unwrap_or(text.len());
    let name = &text[..name_end];
    if name.starts_with(|c: char| c.is_ascii_alphanumeric()) && !is_valid_name(name) {
        return Some(format!(
            "Invalid package name `{name}`: a name must start and end with a letter or digit"
        ));
    }
    let extras = text[name_end..].trim_start().strip_prefix('[')?;
    let close = extras.find(']')?;
    extra_pep508_panics_on(&extras[..close]).map(|bad| {
        format!("Invalid extra `{bad}`: an extra must start and end with a letter or digit")
    })
}

/// The extra `pep508_rs` would panic on in `inside` (the text between `[` and `]`), read as it
/// reads it: each item's leading run of name characters is taken as the extra and checked
/// only after it was read (`pkg[bar-]`, `pkg[chca. ee]`: `chca.` is taken, then fails the
/// name rule); an item with anything else after its run is an error of its own there, and
/// nothing after it is read.
fn extra_pep508_panics_on(inside: &str) -> Option<&str> {
    for item in inside.split(',') {
        let item = item.trim_start();
        let run_end = item.find(|c: char| !is_name_char(c)).unwrap_or(item.len());
        let run = &item[..run_end];
        if run.starts_with(|c: char| c.is_ascii_alphanumeric()) && !is_valid_name(run) {
            return Some(run);
        }
        if run.is_empty() || !item[run_end..].trim().is_empty() {
            return None;
        }
    }
    None
}

/// Walk `text` as PEP 508 quotes marker values (`'...'` and `"..."`), giving `outside` every
/// character outside quotes (the quotes themselves not) until it breaks; the quote still open
/// where the walk ends, if any.
fn outside_quotes(text: &str, mut outside: impl FnMut(char) -> ControlFlow<()>) -> Option<char> {
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None => {
                if outside(c).is_break() {
                    break;
                }
            }
        }
    }
    quote
}

/// The first non-ASCII character outside quotes in a marker: PEP 508 allows none there.
fn stray_character(marker: &str) -> Option<char> {
    let mut stray = None;
    outside_quotes(marker, |c| {
        if c.is_ascii() {
            ControlFlow::Continue(())
        } else {
            stray = Some(c);
            ControlFlow::Break(())
        }
    });
    stray
}

/// The quote a marker opens and never closes (`'` in `os_name == 'nt`): PEP 508 has no such
/// string, and `pep508_rs` panics on some (a wide character inside one, after other text it
/// rejects), so it is refused before that parser sees it.
fn unclosed_quote(marker: &str) -> Option<char> {
    outside_quotes(marker, |_| ControlFlow::Continue(()))
}

/// How deeply parentheses may nest in a requirement. `pep508_rs` parses markers recursively, so
/// a line of 12,000 nested parentheses overflowed the stack and aborted the run; real markers
/// nest two or three deep.
pub const MAX_MARKER_DEPTH: usize = 64;

/// The deepest nesting of parentheses in `text`, outside quotes (`'...'` and `"..."`, as PEP
/// 508 quotes marker values).
pub fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    outside_quotes(text, |c| {
        match c {
            '(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        ControlFlow::Continue(())
    });
    deepest
}

/// Run a third-party parser, turning a panic (a bug on its side) into `None`: one odd line
/// must never take the whole run down.
fn guarded<T>(parse: impl FnOnce() -> T) -> Option<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse)).ok()
}

/// The error reported when `pep508_rs` panicked on `body`.
fn pep508_panic(body: &str) -> pep508_rs::Pep508Error {
    pep508_rs::Pep508Error {
        message: pep508_rs::Pep508ErrorSource::String(
            "The PEP 508 parser failed on this requirement".to_owned(),
        ),
        start: 0,
        len: body.len(),
        input: body.to_owned(),
    }
}

/// Scan one requirement. `text` is the requirement alone (options and comments removed by the
/// caller); `offset` is where `text` starts in the file, so returned spans index the file.
///
/// `text` must be on one physical line, or be a logical line whose spans the caller maps back.
pub fn scan(text: &str, offset: usize) -> Scanned {
    let start = text.len() - text.trim_start().len();
    let end = start + text[start..].trim_end().len();
    let body = &text[start..end];
    let at = |a: usize, b: usize| Span::new(offset + a, offset + b);
    let mut requirement = PythonRequirement {
        written_name: String::new(),
        name_span: at(start, start),
        extras: Vec::new(),
        specifier: None,
        pin: None,
        marker: None,
        parsed_marker: None,
        url: None,
        url_span: None,
        editable: false,
        hashes: Vec::new(),
        index: IndexOptions::default(),
        via: Vec::new(),
        entry_span: at(start, end),
        origin: RequirementOrigin::RequirementsFile,
    };

    // Unnamed: a bare URL or path. A marker may follow after `; ` (pip splits on "; " here).
    let first_token_end = body
        .find(|c: char| c.is_whitespace() || c == ';')
        .unwrap_or(body.len());
    let first_token = &body[..first_token_end];
    let name_like = first_token
        .split('[')
        .next()
        .is_some_and(|n| !n.is_empty() && n.chars().all(is_name_char));
    if is_url(first_token) || (!name_like && is_path(first_token)) || body.starts_with('.') {
        let (url_part, marker_part) = split_url_marker(body, true);
        let mut url = url_part.trim_end();
        // pip's `_strip_extras`: a local path may end in `[extras]` (`-e .[dev,test]`).
        if !is_url(url) {
            if let Some(open) = url.rfind('[').filter(|&o| o > 0 && url.ends_with(']')) {
                let inside = &url[open + 1..url.len() - 1];
                if !inside.is_empty() && !inside.contains(']') {
                    requirement.extras = inside
                        .split(',')
                        .map(str::trim)
                        .filter(|e| !e.is_empty())
                        .map(normalize_name)
                        .collect();
                    url = &url[..open];
                }
            }
        }
        requirement.url = Some(url.to_owned());
        requirement.url_span = Some(at(start, start + url.len()));
        if let Some(name) = egg_name(url) {
            requirement.written_name = name.to_owned();
        }
        if let Some(marker_start) = marker_part {
            set_marker(&mut requirement, text, start + marker_start, end, offset);
        }
        return Scanned {
            requirement,
            skip_reason: Some(skip_for_url(url)),
            error: None,
        };
    }

    // Named: name, extras, then `@ url` or a specifier, then `; marker`.
    let mut i = start;
    let bytes = text.as_bytes();
    while i < end && is_name_char(bytes[i] as char) {
        i += 1;
    }
    requirement.written_name = text[start..i].to_owned();
    requirement.name_span = at(start, i);
    if i == start || !(bytes[start] as char).is_ascii_alphanumeric() {
        return invalid(
            requirement,
            "Expected a package name",
            at(start, end.max(start + 1)),
            None,
        );
    }
    if !is_valid_name(&text[start..i]) {
        let message = format!("Invalid package name `{}`", &text[start..i]);
        let cause = "A name must start and end with a letter or digit".to_owned();
        return invalid(requirement, &message, at(start, i), Some(cause));
    }
    let skip_ws = |mut j: usize| {
        while j < end && (bytes[j] as char).is_whitespace() {
            j += 1;
        }
        j
    };
    i = skip_ws(i);
    if i < end && bytes[i] == b'[' {
        let Some(close) = text[i..end].find(']') else {
            return invalid(requirement, "Unclosed `[` in extras", at(i, end), None);
        };
        let written: Vec<&str> = text[i + 1..i + close]
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .collect();
        requirement.extras = written.iter().map(|e| normalize_name(e)).collect();
        // Only the extras pep508_rs would panic on; it rejects other bad ones itself, later, once
        // the specifier is read (a templated extra keeps its pin that way).
        if let Some(bad) = extra_pep508_panics_on(&text[i + 1..i + close]) {
            let message = format!("Invalid extra `{bad}`");
            let cause = "An extra must start and end with a letter or digit".to_owned();
            return invalid(requirement, &message, at(i, i + close + 1), Some(cause));
        }
        i = skip_ws(i + close + 1);
    }
    let mut skip_reason = None;
    let marker_start;
    if i < end && bytes[i] == b'@' {
        let url_start = skip_ws(i + 1);
        let (url_part, marker_part) = split_url_marker(&text[url_start..end], false);
        let url = url_part.trim_end();
        requirement.url = Some(url.to_owned());
        requirement.url_span = Some(at(url_start, url_start + url.len()));
        skip_reason = Some(skip_for_url(url));
        marker_start = marker_part.map(|m| url_start + m);
    } else {
        let spec_end = text[i..end].find(';').map_or(end, |p| i + p);
        marker_start = (spec_end < end).then_some(spec_end + 1);
        let mut spec_end = trim_end_span(text, i, spec_end);
        // PEP 508 also allows the specifier in parentheses: `name (>=1.0)`.
        if spec_end > i + 1 && bytes[i] == b'(' && bytes[spec_end - 1] == b')' {
            let inner = skip_ws(i + 1);
            spec_end = trim_end_span(text, inner, spec_end - 1).max(inner);
            i = inner;
        }
        if spec_end > i {
            let spec_text = &text[i..spec_end];
            if spec_text.contains("${") || spec_text.contains('$') {
                skip_reason = Some(SkipReason::EnvironmentVariable);
            }
            match VersionSpecifiers::from_str(spec_text) {
                Ok(parsed) => {
                    requirement.pin = find_pin(text, i, spec_end, &parsed, offset);
                    requirement.specifier = Some(Specifier {
                        text: spec_text.to_owned(),
                        span: at(i, spec_end),
                        parsed,
                        poetry: None,
                    });
                }
                Err(error) if skip_reason.is_none() => {
                    let message = format!("Invalid version specifier `{spec_text}`");
                    return invalid(
                        requirement,
                        &message,
                        at(i, spec_end),
                        Some(error.to_string()),
                    );
                }
                Err(_) => {
                    // The version comes from the environment: keep where it is written.
                    requirement.specifier = Some(Specifier {
                        text: spec_text.to_owned(),
                        span: at(i, spec_end),
                        parsed: VersionSpecifiers::empty(),
                        poetry: None,
                    });
                }
            }
        }
    }
    if let Some(m) = marker_start {
        set_marker(&mut requirement, text, m, end, offset);
    }

    // pep508_rs panics on a non-ASCII character outside the marker's quotes; pip rejects it.
    if let (Some((marker, span)), None) = (&requirement.marker, skip_reason) {
        if let Some(c) = stray_character(marker) {
            let message = format!("Invalid environment marker `{marker}`");
            let span = *span;
            let cause = format!("Unexpected character `{c}` outside quotes");
            return invalid(requirement, &message, span, Some(cause));
        }
        if let Some(q) = unclosed_quote(marker) {
            let message = format!("Invalid environment marker `{marker}`");
            let span = *span;
            let cause = format!("The quote `{q}` is never closed");
            return invalid(requirement, &message, span, Some(cause));
        }
    }
    // Nesting is bounded before pep508_rs recurses into it: an error of this requirement only.
    let depth = nesting_depth(body);
    if depth > MAX_MARKER_DEPTH {
        let span = requirement.marker.as_ref().map_or(at(start, end), |m| m.1);
        return invalid(
            requirement,
            &format!("Parentheses nested {depth} deep in this requirement"),
            span,
            Some(format!(
                "repin reads requirements whose parentheses nest at most {MAX_MARKER_DEPTH} deep"
            )),
        );
    }
    // Let pep508_rs judge the whole: names, extras and markers it rejects, pip rejects too.
    if skip_reason.is_none() {
        if let Err(error) = guarded(|| Requirement::<pep508_rs::VerbatimUrl>::from_str(body))
            .unwrap_or_else(|| Err(pep508_panic(body)))
        {
            let cause = error.message.to_string();
            let mut error_start = start + error.start.min(body.len());
            while !text.is_char_boundary(error_start) {
                error_start -= 1;
            }
            let span = at(error_start, end);
            return invalid(
                requirement,
                &format!("Invalid requirement `{body}`"),
                span,
                Some(cause),
            );
        }
    }
    if let (Some((marker, _)), None) = (&requirement.marker, &requirement.parsed_marker) {
        if skip_reason.is_none() {
            let span = requirement.marker.as_ref().map_or(at(start, end), |m| m.1);
            return invalid(
                requirement.clone(),
                &format!("Invalid environment marker `{marker}`"),
                span,
                None,
            );
        }
    }
    Scanned {
        requirement,
        skip_reason,
        error: None,
    }
}

fn invalid(
    requirement: PythonRequirement,
    message: &str,
    span: Span,
    cause: Option<String>,
) -> Scanned {
    Scanned {
        requirement,
        skip_reason: Some(SkipReason::Invalid),
        error: Some(RequirementError {
            message: message.to_owned(),
            span,
            cause,
        }),
    }
}

/// Split `url ; marker`. pip (`parse_req_from_line`) splits a line that starts with a URL at
/// `; ` (`x.whl; sys_platform == "win32"`), since a URL may hold `;`; repin also accepts ` ;`
/// there, as PEP 508 does. Any other line (`name @ url;marker`) pip splits at the first `;`.
fn split_url_marker(text: &str, bare: bool) -> (&str, Option<usize>) {
    let bytes = text.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        let before = i > 0 && (bytes[i - 1] as char).is_whitespace();
        let after = bare
            && bytes
                .get(i + 1)
                .is_some_and(|c| (*c as char).is_whitespace());
        if *b == b';' && (!bare || before || after) {
            return (&text[..i], Some(i + 1));
        }
    }
    (text, None)
}

fn set_marker(
    requirement: &mut PythonRequirement,
    text: &str,
    from: usize,
    end: usize,
    offset: usize,
) {
    let lead = text[from..end].len() - text[from..end].trim_start().len();
    let m_start = from + lead;
    let m_end = trim_end_span(text, m_start, end);
    let marker = &text[m_start..m_end];
    requirement.marker = Some((
        marker.to_owned(),
        Span::new(offset + m_start, offset + m_end),
    ));
    requirement.parsed_marker = parse_marker(marker);
}

/// A marker parsed, when it is valid and within the depth repin reads (`None` otherwise).
pub(crate) fn parse_marker(marker: &str) -> Option<MarkerTree> {
    if stray_character(marker).is_some()
        || unclosed_quote(marker).is_some()
        || nesting_depth(marker) > MAX_MARKER_DEPTH
    {
        None
    } else {
        guarded(|| MarkerTree::from_str(marker).ok()).flatten()
    }
}

/// The exact pin inside a specifier: a single `==`/`===` clause without a wildcard.
fn find_pin(
    text: &str,
    start: usize,
    end: usize,
    parsed: &VersionSpecifiers,
    offset: usize,
) -> Option<Pin> {
    let [clause] = parsed.iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    let operator = match clause.operator() {
        Operator::Equal => PinOperator::Equal,
        Operator::ExactEqual => PinOperator::ArbitraryEqual,
        _ => return None,
    };
    let spec = &text[start..end];
    let op_len = if operator == PinOperator::Equal { 2 } else { 3 };
    let op_at = spec.find(if op_len == 2 { "==" } else { "===" })?;
    let after = op_at + op_len;
    let lead = spec[after..].len() - spec[after..].trim_start().len();
    let v_start = start + after + lead;
    let v_end = trim_end_span(text, v_start, end);
    let version_text = &text[v_start..v_end];
    Some(Pin {
        operator,
        text: version_text.to_owned(),
        version: Version::from_str(version_text).ok(),
        span: Span::new(offset + v_start, offset + v_end),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_whose_quote_is_never_closed_is_refused_before_pep508_rs_reads_it() {
        // Found by fuzzing: pep508_rs 0.9.2 panicked on this marker (a wide character in an
        // unclosed string, after text it rejects).
        let marker = "python_version!='3.11'n=='3.\u{feff}1";
        assert_eq!(unclosed_quote(marker), Some('\''));
        assert!(parse_marker(marker).is_none());
        let scanned = scan(&format!("onnx==1.0; {marker}"), 0);
        let error = scanned.error.expect("an invalid requirement");
        assert!(
            error.to_string().contains("Invalid environment marker"),
            "{error}"
        );
        // Closed quotes, of either kind, holding the other: fine.
        for marker in [
            "os_name == 'nt'",
            "platform_release == \"it's\"",
            "extra == 'a' and python_version < '3.12'",
        ] {
            assert_eq!(unclosed_quote(marker), None, "{marker}");
            assert!(parse_marker(marker).is_some(), "{marker}");
        }
    }

    fn text_of(source: &str, span: Span) -> &str {
        &source[span.range()]
    }

    #[test]
    fn finds_spans_of_a_pinned_requirement_with_extras_and_marker() {
        let line = "  Flask[Async, dotenv] == 2022.12.07 ;python_version<'3.12'  ";
        let s = scan(line, 100);
        assert!(s.error.is_none(), "{:?}", s.error);
        assert_eq!(s.skip_reason, None);
        let r = s.requirement;
        let shifted = |span: Span| Span::new(span.start - 100, span.end - 100);
        assert_eq!(r.written_name, "Flask");
        assert_eq!(text_of(line, shifted(r.name_span)), "Flask");
        assert_eq!(r.extras, vec!["async", "dotenv"]);
        let pin = r.pin.unwrap();
        assert_eq!(text_of(line, shifted(pin.span)), "2022.12.07");
        assert_eq!(pin.version.unwrap().to_string(), "2022.12.7");
        assert_eq!(r.specifier.unwrap().text, "== 2022.12.07");
        let (marker, marker_span) = r.marker.unwrap();
        assert_eq!(marker, "python_version<'3.12'");
        assert_eq!(text_of(line, shifted(marker_span)), marker);
        assert!(r.parsed_marker.is_some());
    }

    #[test]
    fn ranges_wildcards_and_arbitrary_equality() {
        let r = scan("yarl >= 1.17.0, < 2.0", 0).requirement;
        assert!(r.pin.is_none());
        assert_eq!(r.specifier.unwrap().text, ">= 1.17.0, < 2.0");
        assert!(scan("accelerate==1.13.*", 0).requirement.pin.is_none());
        let pin = scan("Sphinx===7.1.2;python_version=='3.8'", 0)
            .requirement
            .pin
            .unwrap();
        assert_eq!(pin.operator, PinOperator::ArbitraryEqual);
        assert_eq!(pin.text, "7.1.2");
        let local = scan("torch==2.7.0+cu128", 0).requirement.pin.unwrap();
        assert_eq!(local.text, "2.7.0+cu128");
    }

    #[test]
    fn classifies_urls_vcs_and_paths() {
        let cases = [
            (
                "git+https://github.com/celery/kombu.git",
                SkipReason::VcsRequirement,
                "",
            ),
            (
                "git+https://x/dbt.git@main#egg=dbt-core&subdirectory=core",
                SkipReason::VcsRequirement,
                "dbt-core",
            ),
            (
                "django-push @ git+https://github.com/x/django-push@abc123",
                SkipReason::VcsRequirement,
                "django-push",
            ),
            (
                "https://github.com/pallets/werkzeug/archive/refs/heads/main.tar.gz",
                SkipReason::UrlRequirement,
                "",
            ),
            ("./core", SkipReason::LocalPath, ""),
            ("file:.", SkipReason::LocalPath, ""),
            (
                "./local_wheels/x-1.0-py3-none-any.whl",
                SkipReason::LocalPath,
                "",
            ),
        ];
        for (line, reason, name) in cases {
            let s = scan(line, 0);
            assert_eq!(s.skip_reason, Some(reason), "{line}");
            assert_eq!(s.requirement.written_name, name, "{line}");
            assert!(s.error.is_none(), "{line}");
        }
        let with_marker = scan(
            "https://x/y-1.0+cu124-py3-none-win_amd64.whl; platform_system == \"Windows\"",
            0,
        );
        assert_eq!(
            with_marker.requirement.url.as_deref(),
            Some("https://x/y-1.0+cu124-py3-none-win_amd64.whl")
        );
        assert_eq!(
            with_marker.requirement.marker.unwrap().0,
            "platform_system == \"Windows\""
        );
    }

    #[test]
    fn environment_references_are_kept_and_skipped() {
        let s = scan("mypkg==${MYPKG_VERSION}", 0);
        assert_eq!(s.skip_reason, Some(SkipReason::EnvironmentVariable));
        assert!(s.error.is_none());
    }

    #[test]
    fn parenthesised_specifiers_path_extras_and_url_markers() {
        let line = "zope.interface (>=5.0, <7)";
        let r = scan(line, 0).requirement;
        let spec = r.specifier.unwrap();
        assert_eq!(spec.text, ">=5.0, <7");
        assert_eq!(text_of(line, spec.span), ">=5.0, <7");

        let s = scan(".[brotli, cli]", 0);
        assert_eq!(s.requirement.url.as_deref(), Some("."));
        assert_eq!(s.requirement.extras, vec!["brotli", "cli"]);
        assert_eq!(s.skip_reason, Some(SkipReason::LocalPath));

        let s = scan("pkg @ https://h/pkg-1.0.whl;python_version<'3.8'", 0);
        assert_eq!(s.requirement.url.as_deref(), Some("https://h/pkg-1.0.whl"));
        assert_eq!(s.requirement.marker.unwrap().0, "python_version<'3.8'");

        let line = "mypkg==${MYPKG_VERSION} ; python_version > '3'";
        let s = scan(line, 0);
        let spec = s.requirement.specifier.unwrap();
        assert_eq!(text_of(line, spec.span), "==${MYPKG_VERSION}");
        assert!(spec.parsed.is_empty());
        assert!(s.requirement.pin.is_none());
    }

    #[test]
    fn error_spans_stay_on_character_boundaries() {
        let line = "naïve==1.0";
        let s = scan(line, 0);
        let e = s.error.unwrap();
        assert!(line.get(e.span.range()).is_some(), "{:?}", e.span);
    }

    /// Inputs on which `pep508_rs` 0.9.2 panics: repin reports them as invalid instead.
    #[test]
    fn names_extras_and_markers_pep508_rs_would_panic_on() {
        let cases = [
            ("pandas-- ==1.0", "Invalid package name `pandas--`"),
            ("pandas[bar-]", "Invalid extra `bar-`"),
            // Found by the `requirements` fuzz target: pep508_rs takes `chca.` as the extra.
            ("mozci[chca. ee/l.]==3.4.3", "Invalid extra `chca.`"),
            ("mozci[ok, chca. ee]", "Invalid extra `chca.`"),
            (
                "foo ; python_version >= \"3.8\"é",
                "Invalid environment marker `python_version >= \"3.8\"é`",
            ),
        ];
        for (line, message) in cases {
            let s = scan(line, 0);
            assert_eq!(s.skip_reason, Some(SkipReason::Invalid), "{line}");
            assert_eq!(s.error.unwrap().message, message, "{line}");
        }
        // The same rule for `Requires-Dist` lines an index serves.
        assert_eq!(
            pep508_panic_reason("mozci[chca. ee/l.]").as_deref(),
            Some("Invalid extra `chca.`: an extra must start and end with a letter or digit")
        );
        assert_eq!(pep508_panic_reason("mozci[ok, fine]"), None);
        assert_eq!(
            pep508_panic_reason("mozci[/x, bad-]"),
            None,
            "an error first"
        );
        // Inside quotes, any character is fine.
        let s = scan("foo; platform_release == \"é\"", 0);
        assert!(s.error.is_none());
        assert!(s.requirement.parsed_marker.is_some());
    }

    #[test]
    fn invalid_requirements_carry_an_error_with_a_span() {
        let s = scan("flask==2.0.x", 10);
        assert_eq!(s.skip_reason, Some(SkipReason::Invalid));
        let e = s.error.unwrap();
        assert_eq!(e.span, Span::new(15, 22));
        assert!(e.message.starts_with("Invalid version specifier"));
        assert!(scan("flask; python_version >>> '3'", 0).error.is_some());
        assert!(scan("[x]", 0).error.is_some());
    }

    /// The same bound for `Requires-Dist` lines an index serves (and `repin lock`'s input):
    /// an error, not a stack overflow.
    #[test]
    fn requirements_from_metadata_are_bounded_too() {
        let line = format!(
            "victim ; {}extra == \"x\"{}",
            "(".repeat(50_000),
            ")".repeat(50_000)
        );
        let result = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                crate::registry::pypi::metadata::parse_requirement(&line).map_err(|e| e.to_string())
            })
            .unwrap()
            .join()
            .expect("no stack overflow");
        let error = result.unwrap_err();
        assert!(error.contains("parentheses nested 50000 deep"), "{error}");
        assert!(crate::registry::pypi::metadata::parse_requirement("a ; (extra == \"x\")").is_ok());
    }
}
