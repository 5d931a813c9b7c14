//! Self-checks of extraction results, shared by the conformance tests and the fuzz targets.
//!
//! These are the invariants every parser must keep on every input: spans lie inside the text on
//! character boundaries and hold exactly the text they claim, and every dependency repin says it
//! can update can be edited, re-extracted and verified.

use super::edit::{self, Change, Request};
use super::{Dependency, DependencyDetail, Manifest};
use crate::text::Span;

/// An invariant an extraction or an edit broke. The messages are lower case: they are test
/// failures (`panic!("{e}")`), never shown to a user.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// A span outside the text, or splitting a character.
    #[error(
        "{path}: the {what} span {start}..{end} of `{name}` is outside the text or splits a character"
    )]
    OutOfText {
        /// The file.
        path: String,
        /// Which span (`value`, `pin`, `hash`).
        what: String,
        /// The span's start.
        start: usize,
        /// The span's end.
        end: usize,
        /// The dependency.
        name: String,
    },
    /// A span holding other text than it claims.
    #[error("{place}: the {what} span of `{name}` holds `{actual}` but claims `{expected}`")]
    Holds {
        /// `path:line:col`.
        place: String,
        /// Which span.
        what: String,
        /// The dependency.
        name: String,
        /// The span's text.
        actual: String,
        /// What the dependency says it holds.
        expected: String,
    },
    /// A hash span that does not contain its value's span.
    #[error("the hash span of `{0}` does not contain its value")]
    HashSpan(String),
    /// A digest insertion point outside the text.
    #[error("the digest insertion point of `{0}` is not in the text")]
    DigestInsertion(String),
    /// A verified edit changed bytes outside its spans.
    #[error("editing `{0}` changed bytes outside its spans")]
    OutsideSpans(String),
    /// A verified edit changed the file's encoding.
    #[error("editing `{0}` changed the encoding")]
    Encoding(String),
}

impl crate::error::Hint for CheckError {}

/// A version no real file pins, used as the target of trial edits.
pub const TRIAL_VERSION: &str = "99.0.0";
/// A digest used as the target of trial image edits.
pub const TRIAL_DIGEST: &str =
    "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn text_at(
    manifest: &Manifest,
    span: Span,
    what: &str,
    dependency: &Dependency,
) -> Result<String, CheckError> {
    manifest
        .source
        .get(span)
        .map(str::to_owned)
        .ok_or_else(|| CheckError::OutOfText {
            path: manifest.source.path().display().to_string(),
            what: what.to_owned(),
            start: span.start,
            end: span.end,
            name: dependency.name.clone(),
        })
}

fn expect_eq(
    manifest: &Manifest,
    dependency: &Dependency,
    what: &str,
    span: Span,
    expected: &str,
) -> Result<(), CheckError> {
    let actual = text_at(manifest, span, what, dependency)?;
    if actual != expected {
        let p = manifest.source.position(span.start);
        return Err(CheckError::Holds {
            place: format!("{}:{p}", manifest.source.path().display()),
            what: what.to_owned(),
            name: dependency.name.clone(),
            actual,
            expected: expected.to_owned(),
        });
    }
    Ok(())
}

/// Every span of every dependency holds the text it claims.
pub fn spans_are_consistent(manifest: &Manifest) -> Result<(), CheckError> {
    for dependency in &manifest.dependencies {
        let value = text_at(manifest, dependency.span, "value", dependency)?;
        match &dependency.detail {
            DependencyDetail::Python(p) => {
                if !dependency.current.is_empty()
                    && !dependency.span.is_empty()
                    && value.trim() != dependency.current
                {
                    expect_eq(
                        manifest,
                        dependency,
                        "value",
                        dependency.span,
                        &dependency.current,
                    )?;
                }
                if !p.name_span.is_empty() {
                    expect_eq(manifest, dependency, "name", p.name_span, &p.written_name)?;
                }
                // Empty spans claim nothing (values split by a continuation).
                if let Some(pin) = p.pin.as_ref().filter(|p| !p.span.is_empty()) {
                    expect_eq(manifest, dependency, "pin", pin.span, &pin.text)?;
                }
                if let Some(spec) = p.specifier.as_ref().filter(|s| !s.span.is_empty()) {
                    expect_eq(manifest, dependency, "specifier", spec.span, &spec.text)?;
                }
                if let Some((marker, span)) = p.marker.as_ref().filter(|(_, s)| !s.is_empty()) {
                    expect_eq(manifest, dependency, "marker", *span, marker)?;
                }
                for hash in &p.hashes {
                    let value = format!("{}:{}", hash.algorithm, hash.digest);
                    expect_eq(manifest, dependency, "hash", hash.value_span, &value)?;
                    if !hash.span.contains(hash.value_span) {
                        return Err(CheckError::HashSpan(dependency.name.clone()));
                    }
                }
            }
            DependencyDetail::Image(i) => {
                if let (Some(span), Some(tag)) = (i.tag_span, &i.reference.tag) {
                    expect_eq(manifest, dependency, "tag", span, tag)?;
                }
                if let (Some(span), Some(digest)) = (i.digest_span, &i.reference.digest) {
                    expect_eq(manifest, dependency, "digest", span, digest)?;
                }
                if let Some(at) = i.digest_insert_at {
                    if manifest.source.get(Span::empty(at)).is_none() {
                        return Err(CheckError::DigestInsertion(dependency.name.clone()));
                    }
                }
            }
        }
    }
    Ok(())
}

/// The trial change for a dependency: a new version (and hashes), specifier, tag and digest.
pub fn trial_change(dependency: &Dependency) -> Option<Change> {
    match &dependency.detail {
        DependencyDetail::Python(p) => {
            let hashes = (!p.hashes.is_empty()).then(|| {
                vec![
                    format!("sha256:{}", "a".repeat(64)),
                    format!("sha256:{}", "c".repeat(64)),
                ]
            });
            if p.pin.is_some() {
                Some(Change::PythonVersion {
                    version: TRIAL_VERSION.into(),
                    hashes,
                })
            } else {
                p.specifier.as_ref().map(|_| Change::PythonSpecifier {
                    specifier: format!(">={TRIAL_VERSION}"),
                    hashes,
                })
            }
        }
        DependencyDetail::Image(i) => Some(Change::Image {
            tag: i.tag_span.map(|_| "99.0-trial".to_owned()),
            digest: (i.digest_span.is_some() || i.digest_insert_at.is_some())
                .then(|| TRIAL_DIGEST.to_owned()),
        }),
    }
}

/// Edit the dependency at `index` alone with its trial change; the edit must verify, or be
/// refused with an error (never a panic). `Ok(Some(refusal))` when refused, `Ok(None)` when it
/// verified or the dependency is not one repin updates; `Err` when a verified edit broke an
/// invariant (bytes outside its spans, the encoding).
pub fn edit_verifies_or_is_refused(
    manifest: &Manifest,
    index: usize,
) -> Result<Option<String>, CheckError> {
    let Some(dependency) = manifest.dependencies.get(index) else {
        return Ok(None);
    };
    if dependency.skip_reason.is_some() {
        return Ok(None);
    }
    let Some(change) = trial_change(dependency) else {
        return Ok(None);
    };
    if matches!(
        change,
        Change::Image {
            tag: None,
            digest: None
        }
    ) {
        return Ok(None);
    }
    match edit::edit(manifest, &[Request { index, change }]) {
        Ok(edited) => {
            // Outside the spliced spans the text must be the same, byte for byte.
            let mut expected = String::new();
            let mut cursor = 0;
            let mut edits = edited.edits.clone();
            edits.sort_by_key(|e| e.span.start);
            let original = manifest.source.text();
            for e in &edits {
                expected.push_str(&original[cursor..e.span.start]);
                expected.push_str(&e.replacement);
                cursor = e.span.end;
            }
            expected.push_str(&original[cursor..]);
            if expected != edited.manifest.source.text() {
                return Err(CheckError::OutsideSpans(dependency.name.clone()));
            }
            if edited.manifest.source.encoding() != manifest.source.encoding() {
                return Err(CheckError::Encoding(dependency.name.clone()));
            }
            Ok(None)
        }
        Err(error) => Ok(Some(error.to_string())),
    }
}

/// [`edit_verifies_or_is_refused`] for every dependency; returns the refusals, for callers that
/// demand none.
pub fn every_edit_verifies_or_is_refused(manifest: &Manifest) -> Result<Vec<String>, CheckError> {
    let mut refused = Vec::new();
    for index in 0..manifest.dependencies.len() {
        if let Some(reason) = edit_verifies_or_is_refused(manifest, index)? {
            refused.push(reason);
        }
    }
    Ok(refused)
}

/// One fuzz input of a manifest reader: the first byte picks the dependency whose trial edit
/// is tried, the rest is the file. The file must read back byte for byte (a panic otherwise:
/// the fuzzer's failure signal), its spans hold, and the picked edit verifies or is refused.
pub fn fuzz_input(
    file_name: &str,
    kind: super::ManifestKind,
    data: &[u8],
) -> Result<(), CheckError> {
    let Some((pick, text)) = data.split_first() else {
        return Ok(());
    };
    let Ok(source) = crate::text::SourceFile::from_bytes(file_name, text) else {
        return Ok(());
    };
    let manifest = super::parse(source, kind);
    assert_eq!(
        manifest.source.to_bytes(),
        text,
        "the file does not read back"
    );
    spans_are_consistent(&manifest)?;
    let count = manifest.dependencies.len();
    if count == 0 {
        return Ok(());
    }
    edit_verifies_or_is_refused(&manifest, usize::from(*pick) % count).map(|_| ())
}
