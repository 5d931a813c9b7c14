//! pip requirements files, read losslessly: logical lines, options, hashes, includes, lock
//! headers and `# via` annotations.
//!
//! The reading follows pip's own (`pip._internal.req.req_file`): lines ending in `\` are joined,
//! `#` comments at the start or after whitespace are removed, a line whose first
//! space-separated token starts with `-` holds options only, anything before that token is a
//! requirement with per-requirement options (`--hash`) after it. Every part found keeps the
//! span of its bytes in the file ([`lines::Logical::map_span`]).

pub mod includes;
pub mod lines;
pub mod lock;
pub mod options;

use serde::Serialize;

use super::python::{self, HashPin, IndexOptions};
use super::{
    Dependency, DependencyDetail, DependencyKind, Manifest, ManifestDetails, ManifestKind,
    SkipReason,
};
use crate::text::{Diagnostic, SourceFile, Span};
use crate::vocab::normalize_name;
use lines::Logical;
use options::Name;

/// `-r` (requirements) or `-c` (constraints).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IncludeKind {
    /// `-r`/`--requirement`.
    Requirement,
    /// `-c`/`--constraint`.
    Constraint,
}

/// An include of another requirements file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Include {
    /// Requirements or constraints.
    pub kind: IncludeKind,
    /// The path as written (relative to the including file's directory).
    pub path: String,
    /// Where the path is.
    pub span: Span,
}

/// The tool that generated a lock file, from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LockTool {
    /// pip-tools' `pip-compile`.
    PipCompile,
    /// `uv pip compile`.
    UvPipCompile,
    /// `uv export`.
    UvExport,
    /// Rye.
    Rye,
    /// `repin lock`.
    Repin,
}

/// The header of a compiled lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockHeader {
    /// Which tool.
    pub tool: LockTool,
    /// The command line recorded in the header, as written.
    pub command: Option<String>,
    /// The output file named on that command line.
    pub output_file: Option<String>,
    /// Whether hashes were generated.
    pub generate_hashes: bool,
}

/// Facts about a whole requirements file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RequirementsFile {
    /// `-r` and `-c` includes in order.
    pub includes: Vec<Include>,
    /// Index options set in the file.
    pub options: IndexOptions,
    /// `--require-hashes` is set.
    pub require_hashes: bool,
    /// The lock-file header, when the file was compiled by a tool.
    pub lock: Option<LockHeader>,
    /// Jinja control lines (`{% if %}`) that were skipped.
    pub templated_lines: Vec<Span>,
}

/// Parse a requirements file.
pub fn parse(source: SourceFile) -> Manifest {
    let mut parser = Parser {
        source: &source,
        file: RequirementsFile::default(),
        dependencies: Vec::new(),
        diagnostics: Vec::new(),
    };
    parser.run();
    let Parser {
        mut file,
        mut dependencies,
        diagnostics,
        ..
    } = parser;
    // pip applies index options to the whole file wherever they are written.
    for dependency in &mut dependencies {
        if let DependencyDetail::Python(p) = &mut dependency.detail {
            p.index = file.options.clone();
        }
        skip_if_no_index(dependency);
    }
    file.options.trusted_hosts.dedup();
    Manifest {
        source,
        kind: ManifestKind::Requirements,
        dependencies,
        diagnostics,
        details: ManifestDetails::Requirements(file),
    }
}

/// With `--no-index` pip installs from `--find-links` only (given in the file, by an includer,
/// or on the command line: local wheels or a links page), never from an index: a version found
/// on an index could not be installed, so the requirement is not looked up. Its own reason (a
/// URL, a path, a template) stays when it has one.
pub(crate) fn skip_if_no_index(dependency: &mut Dependency) {
    if let DependencyDetail::Python(p) = &dependency.detail {
        if p.index.no_index && dependency.skip_reason.is_none() {
            dependency.skip_reason = Some(SkipReason::NoIndex);
        }
    }
}

struct Parser<'s> {
    source: &'s SourceFile,
    file: RequirementsFile,
    dependencies: Vec<Dependency>,
    diagnostics: Vec<Diagnostic>,
}

/// pip's `break_args_options`: the requirement is everything before the first
/// space-separated token that starts with `-`.
fn split_args(text: &str) -> usize {
    let mut offset = 0;
    for token in text.split(' ') {
        if token.starts_with('-') {
            return offset;
        }
        offset += token.len() + 1;
    }
    text.len()
}

fn is_template(text: &str) -> bool {
    text.contains("{%") || text.contains("{{") || text.contains("{#")
}

impl Parser<'_> {
    fn run(&mut self) {
        let text = self.source.text();
        let physical = lines::physical_lines(text);
        let logical = lines::logical_lines(text, &physical);
        self.file.lock = lock::header_of(text);
        let mut via = lock::ViaCollector::default();
        // The dependency that `# via` comment lines after it belong to.
        let mut annotated: Option<usize> = None;
        for line in &logical {
            if line.text.trim().is_empty() {
                match (&line.comment, annotated) {
                    (Some((comment, _)), Some(index)) if line.end_line - line.first_line == 1 => {
                        match via.feed(comment) {
                            Some(items) => self.add_via(index, items),
                            None => annotated = None,
                        }
                    }
                    _ => annotated = None,
                }
                continue;
            }
            via = lock::ViaCollector::default();
            annotated = self.line(line);
            if let (Some(index), Some((comment, _))) = (annotated, &line.comment) {
                // Old pip-compile wrote `flask==1.0  # via -r requirements.in` on one line.
                if let Some(items) = lock::ViaCollector::default().feed(comment) {
                    self.add_via(index, items);
                }
            }
        }
    }

    fn add_via(&mut self, index: usize, items: Vec<String>) {
        if let Some(DependencyDetail::Python(p)) =
            self.dependencies.get_mut(index).map(|d| &mut d.detail)
        {
            p.via.extend(items);
        }
    }

    /// Handle one logical line; returns the index of the dependency it added, if any.
    fn line(&mut self, line: &Logical) -> Option<usize> {
        let text = line.text.as_str();
        if is_template(text) {
            return self.template(line);
        }
        let args_end = split_args(text);
        let requirement = &text[..args_end];
        let (tokens, unclosed) = options::tokenize(text, args_end);
        if let Some(at) = unclosed {
            let span = line.map_span(at, text.len());
            self.diagnostics
                .push(Diagnostic::error(self.source, span, "Unclosed quote"));
        }
        let (found, problems) = options::parse(&tokens);
        for problem in problems {
            let span = line.map_span(problem.start, problem.end);
            self.diagnostics.push(
                Diagnostic::error(self.source, span, problem.message)
                    .with_hint("pip would reject this file; repin read the rest of it"),
            );
        }
        if requirement.trim().is_empty() {
            let mut added = None;
            for option in &found {
                if let Some(index) = self.file_option(line, option) {
                    added = Some(index);
                }
            }
            return added;
        }
        Some(self.requirement(line, args_end, &found))
    }

    fn template(&mut self, line: &Logical) -> Option<usize> {
        let text = line.text.trim();
        let control = (text.starts_with("{%") && text.ends_with("%}"))
            || (text.starts_with("{#") && text.ends_with("#}"));
        if control {
            self.file.templated_lines.push(line.span);
            return None;
        }
        let start = line.text.len() - line.text.trim_start().len();
        let name_end = line.text[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .map_or(line.text.len(), |e| start + e);
        let span = line.map_span(start, start + line.text[start..].trim_end().len());
        let scanned = python::scan("", span.start);
        let mut requirement = scanned.requirement;
        requirement.written_name = line.text[start..name_end].to_owned();
        // A name that a continuation splits claims nothing, as in `requirement` (found by the
        // `requirements` fuzz target: `sentencepiec\` then `tens` on the next line).
        requirement.name_span = if line.is_contiguous(start, name_end) {
            line.map_span(start, name_end)
        } else {
            Span::empty(line.map_span(start, start).start)
        };
        requirement.entry_span = span;
        self.dependencies.push(Dependency {
            name: normalize_name(&requirement.written_name),
            kind: DependencyKind::Python,
            current: self.source.slice(span).to_owned(),
            span,
            skip_reason: Some(SkipReason::Templated),
            detail: DependencyDetail::Python(requirement),
        });
        Some(self.dependencies.len() - 1)
    }

    /// A line of file options; returns the index of a dependency it added (`-e`).
    fn file_option(&mut self, line: &Logical, option: &options::Parsed) -> Option<usize> {
        let value = option
            .value
            .as_ref()
            .map(|(v, _, _)| v.clone())
            .unwrap_or_default();
        let value_span = option.value.as_ref().map(|(_, s, e)| line.map_span(*s, *e));
        let options = &mut self.file.options;
        match option.name {
            Name::Requirement | Name::Constraint => {
                let kind = if option.name == Name::Requirement {
                    IncludeKind::Requirement
                } else {
                    IncludeKind::Constraint
                };
                self.file.includes.push(Include {
                    kind,
                    path: value,
                    span: value_span.unwrap_or(line.span),
                });
            }
            Name::Editable => return Some(self.editable(line, option)),
            Name::IndexUrl | Name::ExtraIndexUrl | Name::FindLinks => {
                // Kept for errors about the URL (a refused `${VAR}` names where it is).
                if let Some(span) = value_span {
                    let place =
                        crate::text::place(self.source.path(), self.source.position(span.start));
                    options.note_place(&value, &place);
                }
                match option.name {
                    Name::IndexUrl => options.index_url = Some(value),
                    Name::ExtraIndexUrl => options.extra_index_urls.push(value),
                    _ => options.find_links.push(value),
                }
            }
            Name::TrustedHost => options.trusted_hosts.push(value),
            Name::NoIndex => options.no_index = true,
            Name::Pre => options.pre = true,
            Name::RequireHashes => self.file.require_hashes = true,
            Name::PreferBinary
            | Name::OnlyBinary
            | Name::NoBinary
            | Name::UseFeature
            | Name::ConfigSettings => {}
            Name::Hash | Name::GlobalOption | Name::InstallOption => {
                let span = line.map_span(option.start, option.end);
                self.diagnostics.push(Diagnostic::warning(
                    self.source,
                    span,
                    format!(
                        "`{}` belongs after a requirement on the same line",
                        option.written
                    ),
                ));
            }
        }
        None
    }

    /// `-e <url or path>`: listed, never updated.
    fn editable(&mut self, line: &Logical, option: &options::Parsed) -> usize {
        let (value, start, end) = option.value.clone().unwrap_or_default();
        let span = line.map_span(start, end);
        // Quotes or escapes make the value differ from the bytes written: then no span inside
        // it can be trusted, and the dependency shows what is written.
        let verbatim = self.source.get(span) == Some(value.as_str());
        let scanned = python::scan(&value, span.start);
        let mut requirement = scanned.requirement;
        requirement.editable = true;
        requirement.entry_span = line.map_span(option.start, option.end);
        if requirement.url.is_none() {
            requirement.url = Some(value.clone());
        }
        requirement.url_span = Some(span);
        if !verbatim {
            requirement.name_span = span;
            requirement.written_name = self.source.slice(span).to_owned();
            requirement.specifier = None;
            requirement.pin = None;
            requirement.marker = None;
        }
        let name = match &requirement.url {
            _ if !requirement.written_name.is_empty() && verbatim => {
                normalize_name(&requirement.written_name)
            }
            Some(url) => url.clone(),
            None => value.clone(),
        };
        self.dependencies.push(Dependency {
            name,
            kind: DependencyKind::Python,
            current: self.source.slice(span).to_owned(),
            span,
            skip_reason: Some(SkipReason::Editable),
            detail: DependencyDetail::Python(requirement),
        });
        self.dependencies.len() - 1
    }

    /// A requirement line: the requirement and its per-requirement options.
    fn requirement(&mut self, line: &Logical, args_end: usize, found: &[options::Parsed]) -> usize {
        let text = &line.text[..args_end];
        let scanned = python::scan(text, 0);
        let mut requirement = scanned.requirement;
        let mut skip_reason = scanned.skip_reason;
        // Spans from the scanner are logical offsets: map them to the file, and note any
        // value that a continuation splits.
        // A span that a continuation splits claims nothing (an empty span where it starts):
        // its bytes are not its text, and the entry is never edited.
        let mut split = false;
        let mut map = |span: Span| {
            if !span.is_empty() && !line.is_contiguous(span.start, span.end) {
                split = true;
                return Span::empty(line.map_span(span.start, span.start).start);
            }
            line.map_span(span.start, span.end)
        };
        requirement.name_span = map(requirement.name_span);
        if let Some(spec) = &mut requirement.specifier {
            spec.span = map(spec.span);
        }
        if let Some(pin) = &mut requirement.pin {
            pin.span = map(pin.span);
        }
        // A marker is never edited, so one that a continuation splits does not stop the pin's
        // update: it keeps its (joined) text and claims no span.
        if let Some((_, span)) = &mut requirement.marker {
            *span = if line.is_contiguous(span.start, span.end) {
                line.map_span(span.start, span.end)
            } else {
                Span::empty(line.map_span(span.start, span.start).start)
            };
        }
        if let Some(span) = &mut requirement.url_span {
            *span = map(*span);
        }
        let options_end = found.iter().map(|o| o.end).max().unwrap_or(args_end);
        let entry_start = requirement.entry_span.start;
        requirement.entry_span =
            line.map_span(entry_start, options_end.max(requirement.entry_span.end));
        if let Some(error) = scanned.error {
            let span = line.map_span(error.span.start, error.span.end);
            let mut diagnostic = Diagnostic::error(self.source, span, error.message);
            if let Some(cause) = error.cause {
                diagnostic = diagnostic.caused_by(cause.lines().next().unwrap_or("").to_owned());
            }
            self.diagnostics.push(diagnostic);
        }
        for option in found {
            match option.name {
                Name::Hash => match self.hash(line, option) {
                    Some(Ok(hash)) => requirement.hashes.push(hash),
                    Some(Err(())) => split = true,
                    None => {}
                },
                Name::ConfigSettings | Name::GlobalOption | Name::InstallOption => {}
                _ => {
                    let span = line.map_span(option.start, option.end);
                    self.diagnostics.push(Diagnostic::warning(
                        self.source,
                        span,
                        format!(
                            "`{}` is a file option; pip does not accept it after a requirement",
                            option.written
                        ),
                    ));
                }
            }
        }
        if split && skip_reason.is_none() {
            skip_reason = Some(SkipReason::SplitValue);
        }
        let dependency = Dependency::from_python(requirement, skip_reason);
        self.dependencies.push(dependency);
        self.dependencies.len() - 1
    }

    /// `Some(Ok(hash))`, `None` for an invalid hash (reported), `Some(Err(()))` for a valid hash
    /// written in a way that cannot be edited (reported; the entry must not be updated).
    fn hash(&mut self, line: &Logical, option: &options::Parsed) -> Option<Result<HashPin, ()>> {
        let (value, start, end) = option.value.clone()?;
        let value_span = line.map_span(start, end);
        let span = line.map_span(option.start, option.end);
        let valid = value.split_once(':').filter(|(algo, digest)| {
            !algo.is_empty() && !digest.is_empty() && digest.chars().all(|c| c.is_ascii_hexdigit())
        });
        let Some((algorithm, digest)) = valid else {
            self.diagnostics.push(
                Diagnostic::error(self.source, value_span, format!("Invalid hash `{value}`"))
                    .with_hint("a hash is written `--hash=sha256:<hex digest>`"),
            );
            return None;
        };
        if self.source.get(value_span) != Some(value.as_str()) {
            // Quoted or escaped: the bytes differ from the value, so it cannot be replaced in
            // place, and leaving it while the version moves would break the install.
            self.diagnostics.push(
                Diagnostic::warning(
                    self.source,
                    value_span,
                    "A quoted or escaped hash cannot be updated in place",
                )
                .with_hint("write it as --hash=sha256:<hex> so repin can update this pin"),
            );
            return Some(Err(()));
        }
        Some(Ok(HashPin {
            algorithm: algorithm.to_owned(),
            digest: digest.to_owned(),
            span,
            value_span,
        }))
    }
}

#[cfg(test)]
mod tests;
