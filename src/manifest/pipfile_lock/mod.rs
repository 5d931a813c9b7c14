//! `Pipfile.lock` (Pipenv's lock), read natively with the span of every value.
//!
//! The lock is JSON: `_meta` holds the `hash` (`sha256`) of the `Pipfile` it was made from, the
//! `pipfile-spec`, the `requires` (`python_version`) and the `sources` (`name`, `url`,
//! `verify_ssl`); every other member is a category (`default`, `develop`, and custom ones) of
//! packages, each with its `version` (`==X`), `hashes`, `markers` and the `index` (a source's
//! name) it installs from, or `git`/`path`/`file`/`editable` for one that is not from an index.
//!
//! Every package becomes a dependency, pinned at its version: one from an index is looked up
//! on that source's URL, so `check` shows every pin and `audit` judges every transitive one;
//! the others are listed with the reason they are not. The file is never edited line by line:
//! its `_meta.hash` ties it to the `Pipfile`, and only Pipenv recomputes it, so its updates are
//! held back with the command that re-locks it.

pub mod json;
#[cfg(test)]
mod tests;

use std::str::FromStr;

use pep440_rs::Version;
use serde::Serialize;

use self::json::{Json, Node};
use super::pipfile::PipfileSource;
use super::python::RequirementOrigin;
use super::{Dependency, Manifest, ManifestDetails, ManifestKind, SkipReason};
use crate::text::{Diagnostic, SourceFile, Span};

/// Whether a file name is `Pipfile.lock`.
pub fn is_pipfile_lock(name: &str) -> bool {
    name == "Pipfile.lock"
}

/// Why a `Pipfile.lock`'s updates are held back, for people.
pub const RELOCK_ADVICE: &str = "`Pipfile.lock` is tied to its Pipfile by a hash only Pipenv computes, so it is re-locked by Pipenv (`pipenv lock`, or `pipenv upgrade NAME`), never edited line by line";

/// A locked package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockedPackage {
    /// The normalised name.
    pub name: String,
    /// The category it is in (`default`, `develop`, …).
    pub category: String,
    /// The version, without its `==`, when it has one.
    pub version: Option<String>,
    /// How many hashes it lists.
    pub hashes: usize,
    /// The markers, as written.
    pub markers: Option<String>,
}

/// Facts about a whole `Pipfile.lock`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PipfileLockFile {
    /// `_meta.hash.sha256`: the hash of the Pipfile it was locked from.
    pub pipfile_hash: Option<String>,
    /// `_meta.requires.python_full_version`, else `python_version`, with the span of its text.
    pub python: Option<(String, Span)>,
    /// `_meta.sources`.
    pub sources: Vec<PipfileSource>,
    /// Every package understood, parallel to [`Manifest::dependencies`].
    pub packages: Vec<LockedPackage>,
}

/// Parse a `Pipfile.lock`.
pub fn parse(source: SourceFile) -> Manifest {
    let mut file = PipfileLockFile::default();
    let mut dependencies = Vec::new();
    let mut diagnostics = Vec::new();
    match json::parse(source.text()) {
        Ok(root) => read(
            &source,
            &root,
            &mut file,
            &mut dependencies,
            &mut diagnostics,
        ),
        Err(error) => diagnostics.push(
            Diagnostic::error(&source, error.span, "Not valid JSON").caused_by(error.message),
        ),
    }
    Manifest {
        source: source.clone(),
        kind: ManifestKind::PipfileLock,
        dependencies,
        diagnostics,
        details: ManifestDetails::PipfileLock(file),
    }
}

fn read(
    source: &SourceFile,
    root: &Node,
    file: &mut PipfileLockFile,
    dependencies: &mut Vec<Dependency>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let Json::Object(members) = &root.value else {
        diagnostics.push(Diagnostic::error(
            source,
            Span::new(root.span.start, root.span.start + 1),
            "Not a `Pipfile.lock`: it is not a JSON object",
        ));
        return;
    };
    match root.get("_meta") {
        Some(meta) => meta_of(meta, file),
        None => diagnostics.push(Diagnostic::error(
            source,
            Span::new(root.span.start, root.span.start + 1),
            "Not a `Pipfile.lock`: it has no `_meta`",
        )),
    }
    for (category, key_span, packages) in members {
        if category == "_meta" {
            continue;
        }
        let Json::Object(entries) = &packages.value else {
            diagnostics.push(Diagnostic::error(
                source,
                *key_span,
                format!("Expected `{category}` to be an object of packages"),
            ));
            continue;
        };
        for (written, name_span, entry) in entries {
            match package(source, file, category, written, *name_span, entry) {
                Ok((package, dependency)) => {
                    file.packages.push(package);
                    dependencies.push(dependency);
                }
                Err((span, message)) => {
                    diagnostics.push(Diagnostic::error(source, span, message));
                }
            }
        }
    }
}

/// `_meta`: the Pipfile's hash, the target Python, the sources.
fn meta_of(meta: &Node, file: &mut PipfileLockFile) {
    file.pipfile_hash = meta
        .get("hash")
        .and_then(|h| h.get("sha256"))
        .and_then(Node::as_str)
        .map(str::to_owned);
    if let Some(requires) = meta.get("requires") {
        file.python = ["python_full_version", "python_version"]
            .iter()
            .find_map(|key| requires.get(key))
            .and_then(|n| Some((n.as_str()?.to_owned(), n.text_span().unwrap_or(n.span))));
    }
    if let Some(Json::Array(sources)) = meta.get("sources").map(|s| &s.value) {
        for entry in sources {
            let Some(url) = entry.get("url") else {
                continue;
            };
            let Some(text) = url.as_str() else { continue };
            file.sources.push(PipfileSource {
                name: entry.get("name").and_then(Node::as_str).map(str::to_owned),
                url: text.to_owned(),
                verify_ssl: entry
                    .get("verify_ssl")
                    .and_then(Node::as_bool)
                    .unwrap_or(true),
                span: url.span,
            });
        }
    }
}

/// One locked package: the package and its dependency, or where and why it is not one.
fn package(
    source: &SourceFile,
    file: &PipfileLockFile,
    category: &str,
    written: &str,
    key_span: Span,
    entry: &Node,
) -> Result<(LockedPackage, Dependency), (Span, String)> {
    let name = crate::vocab::normalize_name(written);
    let name_span = if written.is_empty() || !super::python::is_valid_name(written) {
        return Err((key_span, format!("Invalid package name `{written}`")));
    } else if key_span.end - key_span.start == written.len() + 2 {
        Span::new(key_span.start + 1, key_span.end - 1)
    } else {
        key_span
    };
    if !matches!(entry.value, Json::Object(_)) {
        return Err((
            entry.span,
            format!("Expected the entry of `{name}` to be an object"),
        ));
    }
    let flag = |key: &str| entry.get(key).and_then(Node::as_bool).unwrap_or(false);
    let editable = flag("editable");
    let skip = super::pipfile::skip_of(
        |key| entry.get(key).is_some(),
        editable,
        entry.get("file").map(|f| f.as_str().unwrap_or_default()),
    );
    let version_node = entry.get("version");
    let mut version = None;
    let mut version_span = None;
    let mut verbatim = true;
    if let Some(node) = version_node {
        let text = node.as_str().ok_or_else(|| {
            (
                node.span,
                format!("Expected the version of `{name}` to be a string"),
            )
        })?;
        let Some(bare) = text.strip_prefix("==") else {
            return Err((
                node.span,
                format!("Expected the version of `{name}` to be `==` a version, not `{text}`"),
            ));
        };
        let bare = bare.trim_start_matches('=');
        let parsed = Version::from_str(bare).map_err(|error| {
            (
                node.span,
                format!("The version of `{name}` is not a PEP 440 version: {error}"),
            )
        })?;
        version_span = Some(match node.text_span() {
            Some(inner) => Span::new(inner.end - bare.len(), inner.end),
            None => {
                verbatim = false;
                node.span
            }
        });
        version = Some((bare, parsed));
    } else if skip.is_none() {
        return Err((name_span, format!("`{name}` has no `version`")));
    }
    let index_name = entry.get("index").and_then(Node::as_str);
    let index = match index_name {
        Some(wanted) => file
            .sources
            .iter()
            .find(|s| s.name.as_deref() == Some(wanted)),
        None => file.sources.first(),
    };
    let markers = entry
        .get("markers")
        .and_then(Node::as_str)
        .map(str::to_owned);
    let hashes = match entry.get("hashes").map(|h| &h.value) {
        Some(Json::Array(items)) => items.iter().filter(|h| h.as_str().is_some()).count(),
        _ => 0,
    };
    let mut skip = skip;
    if !verbatim && skip.is_none() {
        skip = Some(SkipReason::EscapedString);
    }
    let locked = LockedPackage {
        name: name.clone(),
        category: category.to_owned(),
        version: version.as_ref().map(|(text, _)| (*text).to_owned()),
        hashes,
        markers,
    };
    let mut dependency = super::locked::dependency(
        source,
        super::locked::Entry {
            written,
            name_span,
            version,
            version_span,
            verbatim,
            skip,
            index_url: index.map(|s| s.url.clone()),
            editable,
            origin: RequirementOrigin::PipfileLock,
        },
    );
    if let (Some(source_entry), super::DependencyDetail::Python(python)) =
        (index, &mut dependency.detail)
    {
        if !source_entry.verify_ssl {
            if let Some(host) = super::pipfile::host_of(&source_entry.url) {
                python.index.trusted_hosts.push(host.to_owned());
            }
        }
    }
    Ok((locked, dependency))
}
