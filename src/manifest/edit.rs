//! Verified edits of dependencies: compute the splices, apply them, re-extract, and check.
//!
//! An edit is only returned when the re-extracted file shows every requested change and every
//! other dependency exactly as before; otherwise the error says why and which dependency, with
//! `path:line:col`, and nothing may be written.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::dockerfile::ImageDependency;
use super::python::PythonRequirement;
use super::{Dependency, DependencyDetail, Manifest, SkipReason};
use crate::text::{self, Edit, Position, Span, TextError};

/// What to change in one dependency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Set the exact version of a pinned Python requirement (the text after `==`/`===`).
    PythonVersion {
        /// The new version text.
        version: String,
        /// The new `algorithm:digest` hashes; replaces every existing `--hash` of the entry.
        /// Ignored (no hash is added) when the entry has none.
        hashes: Option<Vec<String>>,
    },
    /// Replace a Python requirement's whole specifier (range strategies).
    PythonSpecifier {
        /// The new specifier text (`>=1.5,<2`).
        specifier: String,
        /// As for [`Change::PythonVersion`].
        hashes: Option<Vec<String>>,
    },
    /// Set an image's tag and/or digest.
    Image {
        /// The new tag, or `None` to keep the current one.
        tag: Option<String>,
        /// The new digest (`sha256:...`), or `None` to keep the current one (or have none).
        digest: Option<String>,
    },
    /// Replace a compiled lock as a whole by its re-lock (never combined with another change
    /// of the same file).
    Relock(Box<Relock>),
}

/// A compiled lock re-resolved: the new text and what moved.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Relock {
    /// The whole new file, in the file's own tool's format.
    #[serde(skip)]
    pub text: String,
    /// Every pin that moves, appears or goes, by name.
    pub moved: Vec<MovedPin>,
    /// The `name==version` pins the new file must read back as, by normalised name.
    #[serde(skip)]
    pub pins: Vec<(String, String)>,
    /// The kind of the pin update it was made for (`None`: lock maintenance).
    pub update_kind: Option<crate::versioning::UpdateKind>,
}

/// One pin a re-lock moves.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MovedPin {
    /// The normalised package name.
    pub name: String,
    /// The version before (`None`: new in the lock).
    pub from: Option<String>,
    /// The version after (`None`: no longer in the lock).
    pub to: Option<String>,
    /// Why it moves, for people.
    pub why: String,
}

impl MovedPin {
    /// `flask 2.2.2 → 2.3.3`, `+ blinker 1.7.0`, `- colorama 0.4.6`.
    pub fn describe(&self) -> String {
        match (&self.from, &self.to) {
            (Some(from), Some(to)) => format!("{} {from} → {to}", self.name),
            (None, Some(to)) => format!("+ {} {to}", self.name),
            (Some(from), None) => format!("- {} {from}", self.name),
            (None, None) => self.name.clone(),
        }
    }
}

/// One requested change: the index of a dependency in [`Manifest::dependencies`], and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Index into the manifest's dependencies.
    pub index: usize,
    /// The change.
    pub change: Change,
}

/// The result of a verified edit.
#[derive(Debug, Clone)]
pub struct Edited {
    /// The manifest re-extracted from the edited text (its `source` holds the new text).
    pub manifest: Manifest,
    /// The splices that were applied to the original text.
    pub edits: Vec<Edit>,
}

impl Edited {
    /// The bytes to write: the edited text in the original encoding.
    pub fn bytes(&self) -> Vec<u8> {
        self.manifest.source.to_bytes()
    }
}

/// Why an edit was refused. Nothing may be written when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The request names a dependency the manifest does not have.
    #[error("{path}: No dependency number {index} (the file has {count})")]
    NoSuchDependency {
        /// The file.
        path: PathBuf,
        /// The index asked for.
        index: usize,
        /// How many there are.
        count: usize,
    },
    /// The change does not fit the dependency (a version for an image, say), or the dependency
    /// is one repin does not update.
    #[error("{path}:{position}: Cannot change `{name}`: {reason}")]
    NotEditable {
        /// The file.
        path: PathBuf,
        /// Where the dependency is.
        position: Position,
        /// Its name.
        name: String,
        /// Why not.
        reason: String,
    },
    /// Two requested changes want different text in the same place (two stages sharing one
    /// `ARG` but asking for different tags, say).
    #[error("{path}:{position}: Two changes conflict: one writes `{first}`, the other `{second}`")]
    Conflict {
        /// The file.
        path: PathBuf,
        /// Where.
        position: Position,
        /// The first replacement.
        first: String,
        /// The second replacement.
        second: String,
    },
    /// Splicing failed (a stale or overlapping span).
    #[error("Cannot apply the edit")]
    Splice(#[from] TextError),
    /// Re-extraction after the edit did not show exactly the requested result.
    #[error("{path}:{position}: The edit of `{name}` did not verify: {reason}")]
    Verification {
        /// The file.
        path: PathBuf,
        /// Where the dependency is (in the original file).
        position: Position,
        /// The dependency.
        name: String,
        /// What was wrong.
        reason: String,
    },
}

/// Apply `requests` to `manifest`, re-extract, and verify.
pub fn edit(manifest: &Manifest, requests: &[Request]) -> Result<Edited, EditError> {
    if let Some(relock) = requests.iter().find_map(|r| match &r.change {
        Change::Relock(relock) => Some(relock),
        _ => None,
    }) {
        return edit_relock(manifest, requests, relock);
    }
    // uv's lock carries uv's resolution (forks, markers, every file's hash): it changes only
    // as uv re-locks it, never a line at a time.
    // So does a `pylock.toml`, by the tool that wrote it.
    let locked_by_tool = match manifest.kind {
        super::ManifestKind::UvLock => {
            Some("`uv.lock` is re-locked by uv, never edited line by line")
        }
        super::ManifestKind::Pylock => {
            Some("`pylock.toml` is re-locked by the tool that wrote it, never edited line by line")
        }
        super::ManifestKind::PoetryLock => {
            Some("`poetry.lock` is re-locked by Poetry, never edited line by line")
        }
        super::ManifestKind::PipfileLock => {
            Some("`Pipfile.lock` is re-locked by Pipenv, never edited line by line")
        }
        _ => None,
    };
    if let (Some(why), false) = (locked_by_tool, requests.is_empty()) {
        let request = requests.first();
        let dependency = request.and_then(|r| manifest.dependencies.get(r.index));
        return Err(match dependency {
            Some(dependency) => not_editable(manifest, dependency, why),
            None => EditError::NoSuchDependency {
                path: manifest.source.path().to_path_buf(),
                index: request.map_or(0, |r| r.index),
                count: manifest.dependencies.len(),
            },
        });
    }
    let mut edits: Vec<Edit> = Vec::new();
    for request in requests {
        let dependency = manifest.dependencies.get(request.index).ok_or_else(|| {
            EditError::NoSuchDependency {
                path: manifest.source.path().to_path_buf(),
                index: request.index,
                count: manifest.dependencies.len(),
            }
        })?;
        for new in splices(manifest, dependency, &request.change)? {
            add_edit(manifest, &mut edits, new)?;
        }
    }
    let source = text::apply(&manifest.source, &edits)?;
    let reparsed = super::parse(source, manifest.kind);
    verify(manifest, &reparsed, requests, &edits)?;
    Ok(Edited {
        manifest: reparsed,
        edits,
    })
}

/// A re-lock replaces the whole file; it is verified by reading the new file back: a compiled
/// lock still, with no new error, pinning exactly the packages and versions of the re-lock.
fn edit_relock(
    manifest: &Manifest,
    requests: &[Request],
    relock: &Relock,
) -> Result<Edited, EditError> {
    let at = |index: usize| {
        manifest
            .dependencies
            .get(index)
            .map_or(Position { line: 1, column: 1 }, |d| {
                manifest.source.position(d.span.start)
            })
    };
    let index = requests.first().map_or(0, |r| r.index);
    let fail = |reason: String| EditError::Verification {
        path: manifest.source.path().to_path_buf(),
        position: at(index),
        name: manifest
            .dependencies
            .get(index)
            .map_or_else(String::new, |d| d.name.clone()),
        reason,
    };
    // Re-locks that write the same file are one (a `.in` update's companion and a pin update
    // of the lock often are, in one security branch); what they say moved may differ.
    if let Some(other) = requests.iter().find(|r| {
        !matches!(&r.change, Change::Relock(other) if other.text == relock.text && other.pins == relock.pins)
    }) {
        return Err(EditError::Conflict {
            path: manifest.source.path().to_path_buf(),
            position: at(other.index),
            first: "the re-lock of the whole file".into(),
            second: match &other.change {
                Change::Relock(_) => "another re-lock of it".into(),
                _ => "an edit of one of its lines".into(),
            },
        });
    }
    let text = manifest.source.text();
    let whole = Span::new(0, text.len());
    let edits = vec![Edit::replace(whole, text, relock.text.clone())];
    let source = text::apply(&manifest.source, &edits)?;
    let reparsed = super::parse(source, manifest.kind);
    let errors = |m: &Manifest| m.diagnostics.iter().filter(|d| d.is_error()).count();
    if errors(&reparsed) > errors(manifest) {
        return Err(fail("the new lock has errors".into()));
    }
    match &reparsed.details {
        super::ManifestDetails::Requirements(r) if r.lock.is_some() => {}
        super::ManifestDetails::UvLock(l) if l.version.is_some() => {}
        super::ManifestDetails::PoetryLock(l) if l.lock_version.is_some() => {}
        super::ManifestDetails::PipfileLock(l) if l.pipfile_hash.is_some() => {}
        super::ManifestDetails::Pylock(l) if l.lock_version.is_some() => {}
        _ => return Err(fail("the new lock's header is not recognised".into())),
    }
    let read = read_pins(&reparsed);
    let mut expected = relock.pins.clone();
    expected.sort();
    if read != expected {
        let missing: Vec<String> = expected
            .iter()
            .filter(|p| !read.contains(p))
            .map(|(n, v)| format!("{n}=={v}"))
            .collect();
        return Err(fail(format!(
            "the new lock does not read back as the re-lock (not read back: {})",
            if missing.is_empty() {
                "none, but more entries".to_owned()
            } else {
                missing.join(", ")
            }
        )));
    }
    Ok(Edited {
        manifest: reparsed,
        edits,
    })
}

/// The `(name, version)` pins a lock reads as, sorted: what [`Relock::pins`] must equal (a
/// dependency with no exact pin reads as an empty version).
pub fn read_pins(manifest: &Manifest) -> Vec<(String, String)> {
    let mut read: Vec<(String, String)> = manifest
        .dependencies
        .iter()
        .map(|d| {
            let version = d
                .python()
                .and_then(|p| p.pinned_version())
                .map_or_else(String::new, ToString::to_string);
            (d.name.clone(), version)
        })
        .collect();
    read.sort();
    read
}

/// Add an edit, merging an identical one (two stages sharing an `ARG`) and refusing a
/// different one at the same place.
fn add_edit(manifest: &Manifest, edits: &mut Vec<Edit>, new: Edit) -> Result<(), EditError> {
    if let Some(same) = edits.iter().find(|e| e.span == new.span) {
        if same.replacement == new.replacement {
            return Ok(());
        }
        return Err(EditError::Conflict {
            path: manifest.source.path().to_path_buf(),
            position: manifest.source.position(new.span.start),
            first: same.replacement.clone(),
            second: new.replacement,
        });
    }
    edits.push(new);
    Ok(())
}

fn not_editable(
    manifest: &Manifest,
    dependency: &Dependency,
    reason: impl Into<String>,
) -> EditError {
    EditError::NotEditable {
        path: manifest.source.path().to_path_buf(),
        position: manifest.source.position(dependency.span.start),
        name: dependency.name.clone(),
        reason: reason.into(),
    }
}

fn splices(
    manifest: &Manifest,
    dependency: &Dependency,
    change: &Change,
) -> Result<Vec<Edit>, EditError> {
    if let Some(reason) = dependency.skip_reason {
        return Err(not_editable(
            manifest,
            dependency,
            format!("it is {}", describe_skip(reason)),
        ));
    }
    match (&dependency.detail, change) {
        (DependencyDetail::Python(p), Change::PythonVersion { version, hashes }) => {
            let Some(pin) = &p.pin else {
                return Err(not_editable(
                    manifest,
                    dependency,
                    "it is not pinned with `==`; set its specifier instead",
                ));
            };
            check_value(manifest, dependency, version)?;
            let mut out = vec![replace(manifest, pin.span, version)];
            out.extend(hash_edits(manifest, dependency, p, hashes.as_deref())?);
            Ok(out)
        }
        (DependencyDetail::Python(p), Change::PythonSpecifier { specifier, hashes }) => {
            let Some(spec) = &p.specifier else {
                return Err(not_editable(
                    manifest,
                    dependency,
                    "it has no specifier to replace",
                ));
            };
            check_value(manifest, dependency, specifier)?;
            let mut out = vec![replace(manifest, spec.span, specifier)];
            out.extend(hash_edits(manifest, dependency, p, hashes.as_deref())?);
            Ok(out)
        }
        (DependencyDetail::Image(image), Change::Image { tag, digest }) => image_edits(
            manifest,
            dependency,
            image,
            tag.as_deref(),
            digest.as_deref(),
        ),
        (_, Change::Relock(_)) => Err(not_editable(
            manifest,
            dependency,
            "a re-lock replaces the whole file, never one line",
        )),
        _ => Err(not_editable(
            manifest,
            dependency,
            "the change does not fit this kind of dependency",
        )),
    }
}

fn describe_skip(reason: SkipReason) -> &'static str {
    reason.describe()
}

/// A new value must be a single token: no whitespace, comment, quote or line break could be
/// spliced in without changing the file's structure.
fn check_value(manifest: &Manifest, dependency: &Dependency, value: &str) -> Result<(), EditError> {
    let bad = value.is_empty()
        || value.chars().any(|c| {
            c == '\n' || c == '\r' || c == '#' || c == '\\' || c == '"' || c == '\'' || c == '$'
        });
    if bad {
        return Err(not_editable(
            manifest,
            dependency,
            format!(
                "the new value `{}` is not a plain token",
                value.escape_debug()
            ),
        ));
    }
    Ok(())
}

fn replace(manifest: &Manifest, span: Span, new: &str) -> Edit {
    Edit::replace(span, manifest.source.slice(span), new)
}

/// Replace every hash of `p` by `new`, keeping the file's layout: the option spelling of the
/// first hash (`--hash=` or `--hash `) and the separator between hashes (or, when there was only
/// one, the separator between the requirement and its first hash).
fn hash_edits(
    manifest: &Manifest,
    dependency: &Dependency,
    p: &PythonRequirement,
    new: Option<&[String]>,
) -> Result<Vec<Edit>, EditError> {
    let Some(new) = new else {
        return Ok(Vec::new());
    };
    let (Some(first), Some(last)) = (p.hashes.first(), p.hashes.last()) else {
        // The entry is not hashed: adding hashes would change how pip treats the whole file.
        return Ok(Vec::new());
    };
    if new.is_empty() {
        return Err(not_editable(
            manifest,
            dependency,
            "no hashes were given for a hashed pin",
        ));
    }
    for hash in new {
        let ok = hash.split_once(':').is_some_and(|(algo, hex)| {
            !algo.is_empty()
                && algo.chars().all(|c| c.is_ascii_alphanumeric())
                && !hex.is_empty()
                && hex.chars().all(|c| c.is_ascii_hexdigit())
        });
        if !ok {
            return Err(not_editable(
                manifest,
                dependency,
                format!("`{hash}` is not an `algorithm:hex` hash"),
            ));
        }
    }
    let text = manifest.source.text();
    let option = &text[first.span.start..first.value_span.start];
    let separator = if p.hashes.len() >= 2 {
        &text[p.hashes[0].span.end..p.hashes[1].span.start]
    } else {
        let before = p
            .specifier
            .as_ref()
            .map_or(p.name_span.end, |s| s.span.end)
            .max(p.marker.as_ref().map_or(0, |m| m.1.end));
        &text[before..first.span.start]
    };
    // Only whitespace and continuations may sit between hashes; anything else (a comment, an
    // option) would be lost by replacing the run, so refuse.
    for pair in p.hashes.windows(2) {
        let between = &text[pair[0].span.end..pair[1].span.start];
        if !between.chars().all(|c| c.is_whitespace() || c == '\\') {
            return Err(not_editable(
                manifest,
                dependency,
                format!(
                    "something other than line continuations sits between its hashes: `{}`",
                    between.trim()
                ),
            ));
        }
    }
    if !separator.chars().all(|c| c.is_whitespace() || c == '\\') || separator.is_empty() {
        return Err(not_editable(
            manifest,
            dependency,
            "the layout of its hashes is not one repin can repeat",
        ));
    }
    let mut replacement = String::new();
    for (i, hash) in new.iter().enumerate() {
        if i > 0 {
            replacement.push_str(separator);
        }
        let _ = write!(replacement, "{option}{hash}");
    }
    let run = Span::new(first.span.start, last.span.end);
    Ok(vec![Edit::replace(run, &text[run.range()], replacement)])
}

fn image_edits(
    manifest: &Manifest,
    dependency: &Dependency,
    image: &ImageDependency,
    tag: Option<&str>,
    digest: Option<&str>,
) -> Result<Vec<Edit>, EditError> {
    let resolved = &image.resolved;
    let text = resolved.text();
    let mut out = Vec::new();
    if let Some(new_tag) = tag {
        let valid = new_tag
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && new_tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            && new_tag.len() <= 128;
        if !valid {
            return Err(not_editable(
                manifest,
                dependency,
                format!("`{new_tag}` is not a valid tag"),
            ));
        }
        match &image.parts.tag {
            Some(range) => {
                let old = &text[range.clone()];
                if old != new_tag {
                    out.push(diff_edit(
                        manifest,
                        dependency,
                        image,
                        range.start,
                        old,
                        new_tag,
                    )?);
                }
            }
            None => {
                let at = resolved
                    .insertion_point(image.parts.name.end)
                    .ok_or_else(|| {
                        not_editable(manifest, dependency, "its name is not written in one place")
                    })?;
                out.push(Edit::insert(at, format!(":{new_tag}")));
            }
        }
    }
    if let Some(new_digest) = digest {
        if !super::dockerfile::is_valid_digest(new_digest) {
            return Err(not_editable(
                manifest,
                dependency,
                format!("`{new_digest}` is not a valid digest"),
            ));
        }
        match &image.parts.digest {
            Some(range) => {
                let old = &text[range.clone()];
                if old != new_digest {
                    out.push(diff_edit(
                        manifest,
                        dependency,
                        image,
                        range.start,
                        old,
                        new_digest,
                    )?);
                }
            }
            None => {
                let at = image.digest_insert_at.ok_or_else(|| {
                    not_editable(
                        manifest,
                        dependency,
                        "there is no single place to add a digest",
                    )
                })?;
                out.push(Edit::insert(at, format!("@{new_digest}")));
            }
        }
    }
    Ok(out)
}

/// The smallest splice turning `old` (at `base` in the resolved reference) into `new`. The
/// changed part must sit in one place of the file: inside the `ARG` default or the instruction
/// that holds it.
fn diff_edit(
    manifest: &Manifest,
    dependency: &Dependency,
    image: &ImageDependency,
    base: usize,
    old: &str,
    new: &str,
) -> Result<Edit, EditError> {
    let prefix = old
        .bytes()
        .zip(new.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    let suffix = old[prefix..]
        .bytes()
        .rev()
        .zip(new[prefix..].bytes().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let (start, end) = (base + prefix, base + old.len() - suffix);
    let replacement = &new[prefix..new.len() - suffix];
    let span = if start == end {
        image.resolved.insertion_point(start).map(Span::empty)
    } else {
        image.resolved.file_span(start, end)
    };
    let span = span.ok_or_else(|| {
        not_editable(
            manifest,
            dependency,
            format!("`{old}` is assembled from several places (`{}`) and the change spans more than one", image.written),
        )
    })?;
    Ok(replace(manifest, span, replacement))
}

/// The facts of a dependency that an unrelated edit must leave untouched.
fn fingerprint(dependency: &Dependency) -> (String, String, Option<SkipReason>, Vec<String>) {
    let hashes = dependency
        .python()
        .map(|p| {
            p.hashes
                .iter()
                .map(|h| format!("{}:{}", h.algorithm, h.digest))
                .collect()
        })
        .unwrap_or_default();
    (
        dependency.name.clone(),
        dependency.current.clone(),
        dependency.skip_reason,
        hashes,
    )
}

fn verify(
    before: &Manifest,
    after: &Manifest,
    requests: &[Request],
    edits: &[Edit],
) -> Result<(), EditError> {
    let fail = |dependency: &Dependency, reason: String| EditError::Verification {
        path: before.source.path().to_path_buf(),
        position: before.source.position(dependency.span.start),
        name: dependency.name.clone(),
        reason,
    };
    let first = before.dependencies.first().or(after.dependencies.first());
    if before.dependencies.len() != after.dependencies.len() {
        let reason = format!(
            "the file had {} dependencies and would have {}",
            before.dependencies.len(),
            after.dependencies.len()
        );
        return Err(match first {
            Some(d) => fail(d, reason),
            None => EditError::Verification {
                path: before.source.path().to_path_buf(),
                position: Position { line: 1, column: 1 },
                name: String::new(),
                reason,
            },
        });
    }
    let errors = |m: &Manifest| m.diagnostics.iter().filter(|d| d.is_error()).count();
    if errors(after) > errors(before) {
        let d = first.expect("a file with an edit has a dependency");
        let new: Vec<String> = after
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.message.clone())
            .collect();
        return Err(fail(
            d,
            format!("the edited file has new errors: {}", new.join("; ")),
        ));
    }
    for (index, (old, new)) in before
        .dependencies
        .iter()
        .zip(&after.dependencies)
        .enumerate()
    {
        let change = requests
            .iter()
            .rev()
            .find(|r| r.index == index)
            .map(|r| &r.change);
        match change {
            None => {
                // An edit of a shared `ARG` legitimately changes every image built from it.
                if fingerprint(old) != fingerprint(new) && !moved_with_shared_arg(old, new, edits) {
                    return Err(fail(
                        old,
                        format!(
                            "it changed from `{}` to `{}` although no change was asked",
                            old.current, new.current
                        ),
                    ));
                }
            }
            Some(change) => {
                check_result(old, new, change).map_err(|reason| fail(old, reason.to_string()))?;
            }
        }
    }
    Ok(())
}

/// Whether an unrequested change of `old` into `new` is the legitimate side effect of an edit of
/// a shared `ARG` (`python:${PY}-slim` and `python:${PY}-alpine` move together): the image is
/// built from text an edit changed, stays the same image, and has no digest that the new tag
/// would make wrong.
fn moved_with_shared_arg(old: &Dependency, new: &Dependency, edits: &[Edit]) -> bool {
    let (Some(o), Some(n)) = (old.image(), new.image()) else {
        return false;
    };
    edits.iter().any(|e| o.resolved.touches(e.span))
        && o.reference.digest.is_none()
        && n.reference.digest.is_none()
        && o.reference.registry == n.reference.registry
        && o.reference.repository == n.reference.repository
}

/// How a re-extracted dependency differs from what its edit asked for. The messages are
/// clauses: they end [`EditError::Verification`]'s message.
#[derive(Debug, thiserror::Error)]
enum Mismatch {
    #[error("its name became `{0}`")]
    Name(String),
    #[error("its hashes are {got:?}, expected {expected:?}")]
    Hashes {
        got: Vec<String>,
        expected: Vec<String>,
    },
    #[error("its version reads `{got}`, expected `{expected}`")]
    Version { got: String, expected: String },
    #[error("its specifier reads `{got}`, expected `{expected}`")]
    Specifier { got: String, expected: String },
    #[error("it is no longer an image")]
    NotAnImage,
    #[error("it reads `{got}`, expected tag {tag:?} and digest {digest:?}")]
    Reference {
        got: String,
        tag: Option<String>,
        digest: Option<String>,
    },
    #[error("its image became `{0}`")]
    Image(String),
    #[error("a re-lock is verified as a whole file")]
    Relock,
}

fn check_result(old: &Dependency, new: &Dependency, change: &Change) -> Result<(), Mismatch> {
    if old.name != new.name {
        return Err(Mismatch::Name(new.name.clone()));
    }
    let hashes_of = |d: &Dependency| -> Vec<String> {
        d.python()
            .map(|p| {
                p.hashes
                    .iter()
                    .map(|h| format!("{}:{}", h.algorithm, h.digest))
                    .collect()
            })
            .unwrap_or_default()
    };
    let check_hashes = |wanted: &Option<Vec<String>>| -> Result<(), Mismatch> {
        let had = hashes_of(old);
        let expected = match wanted {
            Some(w) if !had.is_empty() => w.clone(),
            _ => had,
        };
        let got = hashes_of(new);
        if got != expected {
            return Err(Mismatch::Hashes { got, expected });
        }
        Ok(())
    };
    match change {
        Change::PythonVersion { version, hashes } => {
            let got = new
                .python()
                .and_then(|p| p.pin.as_ref())
                .map(|p| p.text.as_str());
            if got != Some(version.as_str()) {
                return Err(Mismatch::Version {
                    got: got.unwrap_or("").to_owned(),
                    expected: version.clone(),
                });
            }
            check_hashes(hashes)
        }
        Change::PythonSpecifier { specifier, hashes } => {
            let got = new
                .python()
                .and_then(|p| p.specifier.as_ref())
                .map(|s| s.text.as_str());
            if got != Some(specifier.trim()) {
                return Err(Mismatch::Specifier {
                    got: got.unwrap_or("").to_owned(),
                    expected: specifier.clone(),
                });
            }
            check_hashes(hashes)
        }
        Change::Image { tag, digest } => {
            let (Some(o), Some(n)) = (old.image(), new.image()) else {
                return Err(Mismatch::NotAnImage);
            };
            let want_tag = tag.clone().or_else(|| o.reference.tag.clone());
            let want_digest = digest.clone().or_else(|| o.reference.digest.clone());
            if n.reference.tag != want_tag || n.reference.digest != want_digest {
                return Err(Mismatch::Reference {
                    got: n.reference.to_string(),
                    tag: want_tag,
                    digest: want_digest,
                });
            }
            if n.reference.registry != o.reference.registry
                || n.reference.repository != o.reference.repository
            {
                return Err(Mismatch::Image(n.reference.to_string()));
            }
            Ok(())
        }
        Change::Relock(_) => Err(Mismatch::Relock),
    }
}

impl crate::error::Hint for EditError {}

#[cfg(test)]
mod tests;
