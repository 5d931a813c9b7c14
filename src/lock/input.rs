//! What a lock starts from: the `.in` file (with its `-r` and `-c` includes) and the existing
//! lock, read with repin's own requirements parser; and the check that a written lock reads
//! back as one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::{PackageName, Requirement, VerbatimUrl};

use super::LockError;
use super::resolve::{Direct, Locked, Resolution};
use crate::manifest::python::IndexOptions;
use crate::manifest::requirements::IncludeKind;
use crate::manifest::workspace::Workspace;
use crate::manifest::{
    DependencyDetail, Manifest, ManifestDetails, ManifestKind, PythonRequirement, SkipReason,
};
use crate::text::repo_fs::normalise;
use crate::text::{Encoding, SourceFile};

/// The requirements of a `.in` file, its includes followed.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// Requirements of the file and of the files it includes with `-r`.
    pub requirements: Vec<Direct>,
    /// Requirements of the files it includes with `-c` (at any depth), with the file each
    /// is in.
    pub constraints: Vec<Direct>,
    /// The index options in effect (the file's own, merged with its includes').
    pub options: IndexOptions,
}

impl Input {
    /// The index options as lock-file lines, as written (`${VAR}` references stay references).
    pub fn option_lines(&self) -> Vec<String> {
        let o = &self.options;
        let mut lines = Vec::new();
        if let Some(url) = &o.index_url {
            lines.push(format!("--index-url {url}"));
        }
        lines.extend(
            o.extra_index_urls
                .iter()
                .map(|u| format!("--extra-index-url {u}")),
        );
        lines.extend(o.find_links.iter().map(|u| format!("--find-links {u}")));
        lines.extend(
            o.trusted_hosts
                .iter()
                .map(|h| format!("--trusted-host {h}")),
        );
        lines
    }
}

/// Read the requirements of `input` from `workspace` (which loaded it, and so its includes).
/// `base` is the directory `# via -r` paths are relative to.
pub fn read(workspace: &Workspace, input: &Path, base: &Path) -> Result<Input, LockError> {
    let by_path: BTreeMap<&Path, &Manifest> = workspace
        .manifests
        .iter()
        .map(|m| (m.source.path(), m))
        .collect();
    // The includes the workspace followed (inside the repository only), by including file.
    let mut outgoing: BTreeMap<&Path, Vec<(&Path, IncludeKind)>> = BTreeMap::new();
    for edge in &workspace.includes {
        outgoing
            .entry(edge.from.as_path())
            .or_default()
            .push((edge.to.as_path(), edge.kind));
    }
    // From the input: a file reached through any `-c` holds constraints.
    let mut kinds: BTreeMap<PathBuf, IncludeKind> = BTreeMap::new();
    let mut queue = vec![(input, IncludeKind::Requirement)];
    while let Some((path, kind)) = queue.pop() {
        match kinds.get(path) {
            Some(IncludeKind::Constraint) => continue,
            Some(IncludeKind::Requirement) if kind == IncludeKind::Requirement => continue,
            _ => {}
        }
        kinds.insert(path.to_path_buf(), kind);
        for &(to, include) in outgoing.get(path).into_iter().flatten() {
            let next = if kind == IncludeKind::Constraint {
                IncludeKind::Constraint
            } else {
                include
            };
            queue.push((to, next));
        }
    }
    let mut out = Input::default();
    for (path, kind) in &kinds {
        let Some(manifest) = by_path.get(path.as_path()) else {
            continue;
        };
        if manifest.kind != ManifestKind::Requirements {
            continue;
        }
        let origin = relative(path, base);
        for dependency in &manifest.dependencies {
            let DependencyDetail::Python(python) = &dependency.detail else {
                continue;
            };
            if python.index != IndexOptions::default() {
                out.options.merge(&python.index);
            }
            if let Some(reason) = dependency.skip_reason {
                if reason != SkipReason::SplitValue {
                    return Err(LockError::Unsupported {
                        requirement: dependency.current.clone(),
                        reason: format!("{} (in {origin})", reason.describe()),
                    });
                }
            }
            let requirement = to_pep508(python).map_err(|reason| LockError::Unsupported {
                requirement: dependency.name.clone(),
                reason: reason.to_string(),
            })?;
            match kind {
                IncludeKind::Requirement => out.requirements.push(Direct {
                    requirement,
                    origin: origin.clone(),
                }),
                IncludeKind::Constraint => out.constraints.push(Direct {
                    requirement,
                    origin: origin.clone(),
                }),
            }
        }
        if let ManifestDetails::Requirements(file) = &manifest.details {
            out.options.merge(&file.options);
        }
    }
    Ok(out)
}

/// `path` relative to `base` when it is below it, with `/` separators.
pub fn relative(path: &Path, base: &Path) -> String {
    let base = normalise(base);
    let shown = path.strip_prefix(&base).unwrap_or(path);
    shown.to_string_lossy().replace('\\', "/")
}

/// A scanned requirement as a PEP 508 requirement.
pub fn to_pep508(
    python: &PythonRequirement,
) -> Result<Requirement<VerbatimUrl>, crate::registry::pypi::metadata::MetadataError> {
    let mut text = python.written_name.clone();
    if !python.extras.is_empty() {
        text.push_str(&format!("[{}]", python.extras.join(",")));
    }
    if let Some(specifier) = &python.specifier {
        text.push_str(&specifier.text);
    }
    if let Some((marker, _)) = &python.marker {
        text.push_str(" ; ");
        text.push_str(marker);
    }
    crate::registry::pypi::metadata::parse_requirement(&text)
}

/// The `==` pins of an existing lock: the versions a re-lock keeps while they fit.
pub fn preferences(lock: &Manifest) -> BTreeMap<PackageName, Version> {
    lock.dependencies
        .iter()
        .filter_map(|d| {
            let python = d.python()?;
            let version = python.pinned_version()?.clone();
            Some((PackageName::from_str(&d.name).ok()?, version))
        })
        .collect()
}

/// Parse a lock file's text as repin's requirements parser reads it.
pub fn parse_lock(path: &Path, text: &str) -> Manifest {
    crate::manifest::parse(
        SourceFile::from_text(path, Encoding::Utf8, text.to_owned()),
        ManifestKind::Requirements,
    )
}

/// How a rendered lock differs from its resolution when read back (a bug in repin). The
/// messages are clauses: the front end puts them after `this is a bug in repin: `.
#[derive(Debug, thiserror::Error)]
pub enum ReadBackError {
    /// The parser found an error in the rendered text.
    #[error("{0}")]
    Diagnostic(Box<crate::text::Diagnostic>),
    /// Not read as a requirements file at all.
    #[error("the lock is not read as a requirements file")]
    NotRequirements,
    /// The header is not recognised as a lock's.
    #[error("the lock's header is not recognised")]
    Header,
    /// Another number of entries than packages locked.
    #[error("{read} entries read back, {locked} locked")]
    Count {
        /// Entries read back.
        read: usize,
        /// Packages locked.
        locked: usize,
    },
    /// A locked package missing from the text.
    #[error("`{0}` is not read back")]
    Missing(String),
    /// A package read back at another version.
    #[error("`{name}` is not read back as =={version}")]
    Version {
        /// The package.
        name: String,
        /// Its locked version.
        version: Version,
    },
    /// A package read back with other hashes.
    #[error("the hashes of `{0}` are not read back")]
    Hashes(String),
    /// The text is not the TOML it should be (a `pylock.toml`).
    #[error("the lock is not read back as TOML: {0}")]
    Toml(String),
}

impl crate::error::Hint for ReadBackError {}

/// Check that `text`, the rendered lock, reads back as `resolution`: every package pinned to
/// its version, with every hash, the header recognised. The error says what differs.
pub fn verify(path: &Path, text: &str, resolution: &Resolution) -> Result<(), ReadBackError> {
    let manifest = parse_lock(path, text);
    if let Some(diagnostic) = manifest.diagnostics.first() {
        return Err(ReadBackError::Diagnostic(Box::new(diagnostic.clone())));
    }
    let ManifestDetails::Requirements(file) = &manifest.details else {
        return Err(ReadBackError::NotRequirements);
    };
    if file.lock.is_none() {
        return Err(ReadBackError::Header);
    }
    let mut read: BTreeMap<String, (Option<Version>, BTreeSet<String>)> = BTreeMap::new();
    for dependency in &manifest.dependencies {
        let Some(python) = dependency.python() else {
            continue;
        };
        let hashes = python
            .hashes
            .iter()
            .map(|h| format!("{}:{}", h.algorithm, h.digest))
            .collect();
        read.insert(
            dependency.name.clone(),
            (python.pinned_version().cloned(), hashes),
        );
    }
    compare(&read, resolution, |package| {
        package.hashes.iter().cloned().collect()
    })
}

/// What a lock reads back as, by normalised name: the version and the `sha256:<hex>` hashes.
pub type ReadBack = BTreeMap<String, (Option<Version>, BTreeSet<String>)>;

/// Compare what a lock reads back as with `resolution`: the same packages, each at its version
/// with exactly the hashes `expected` gives it.
pub fn compare(
    read: &ReadBack,
    resolution: &Resolution,
    expected: impl Fn(&Locked) -> BTreeSet<String>,
) -> Result<(), ReadBackError> {
    if read.len() != resolution.packages.len() {
        return Err(ReadBackError::Count {
            read: read.len(),
            locked: resolution.packages.len(),
        });
    }
    for package in &resolution.packages {
        let name = package.name.to_string();
        let Some((version, hashes)) = read.get(&name) else {
            return Err(ReadBackError::Missing(name));
        };
        if version.as_ref() != Some(&package.version) {
            return Err(ReadBackError::Version {
                name,
                version: package.version.clone(),
            });
        }
        if hashes != &expected(package) {
            return Err(ReadBackError::Hashes(name));
        }
    }
    Ok(())
}
