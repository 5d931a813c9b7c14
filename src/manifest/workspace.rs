//! Loading every manifest of a set of paths: discovery, reading, parsing.
//!
//! One unreadable or broken file never stops the others: it becomes a diagnostic. Every file is
//! read through the repository root of the path it was found under ([`RepoRoot::of`]), so
//! nothing outside the repository is read, whatever its files name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::Manifest;
use super::discover::{self, Found};
use super::requirements::IncludeKind;
use crate::text::{Diagnostic, RepoRoot, Severity, SourceFile, TextError};

/// All manifests found under the paths given, and the problems met on the way.
#[derive(Debug, Default)]
pub struct Workspace {
    /// Parsed manifests, sorted by path, each file once.
    pub manifests: Vec<Manifest>,
    /// Problems with whole files or paths (unreadable, undecodable, not found, refused).
    pub diagnostics: Vec<Diagnostic>,
    /// The repository root of each manifest, by its path; a file reached by an include has its
    /// includer's.
    pub roots: BTreeMap<PathBuf, RepoRoot>,
    /// The `-r` and `-c` includes that were followed.
    pub includes: Vec<IncludeEdge>,
}

/// An include that was followed, by the paths of the two manifests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncludeEdge {
    /// The including file.
    pub from: PathBuf,
    /// The included file.
    pub to: PathBuf,
    /// `-r` or `-c`.
    pub kind: IncludeKind,
}

impl Workspace {
    /// The manifest read from `file` and its dependency at `index` (as findings name them).
    pub fn dependency(
        &self,
        file: &std::path::Path,
        index: usize,
    ) -> Option<(&super::Manifest, &super::Dependency)> {
        // `load` sorts the manifests by path; a workspace assembled by hand may not be sorted.
        let manifest = match self
            .manifests
            .binary_search_by(|m| m.source.path().cmp(file))
        {
            Ok(found) => &self.manifests[found],
            Err(_) => self.manifests.iter().find(|m| m.source.path() == file)?,
        };
        Some((manifest, manifest.dependencies.get(index)?))
    }

    /// The repository root `file` was read under; for a file not loaded, the root of its own
    /// path.
    pub fn root_of(&self, file: &Path) -> Result<RepoRoot, crate::text::RepoFsError> {
        match self.roots.get(file) {
            Some(root) => Ok(root.clone()),
            None => RepoRoot::of(file),
        }
    }

    /// Discover and parse the manifests under `paths` (directories are walked, files are taken
    /// as given and classified by name or content).
    pub fn load(paths: &[PathBuf]) -> Self {
        let mut workspace = Workspace::default();
        let mut found: Vec<(Found, RepoRoot, Option<Vec<u8>>)> = Vec::new();
        for path in paths {
            let meta = match std::fs::metadata(path) {
                Ok(meta) => meta,
                Err(error) => {
                    workspace.file_error(path, "Cannot read the path", &error);
                    continue;
                }
            };
            let root = match RepoRoot::of(path) {
                Ok(root) => root,
                Err(error) => {
                    workspace.file_error(path, "Cannot read the path", &error);
                    continue;
                }
            };
            if meta.is_dir() {
                match discover::discover(path, &root) {
                    Ok(discovery) => {
                        for refused in &discovery.refused {
                            workspace.refused_ignore_file(refused);
                        }
                        found.extend(discovery.found.into_iter().map(|f| (f, root.clone(), None)));
                    }
                    Err(error) => workspace.file_error(path, "Cannot walk the directory", &error),
                }
                continue;
            }
            // A file named on the command line, whatever its name: read once, classified by
            // name or content.
            match root.read(path) {
                Ok(bytes) => {
                    let kind = discover::classify_given(path, &String::from_utf8_lossy(&bytes));
                    let file = Found {
                        path: path.clone(),
                        kind,
                    };
                    found.push((file, root, Some(bytes)));
                }
                Err(error) => workspace.file_error(path, "Cannot read the file", &error),
            }
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found.dedup_by(|a, b| a.0.path == b.0.path);
        let mut roots = Vec::new();
        for (file, root, bytes) in found {
            let source = match bytes {
                Some(bytes) => SourceFile::from_bytes(&file.path, &bytes),
                None => root.read_source(&file.path),
            };
            match source {
                Ok(source) => {
                    workspace.manifests.push(super::parse(source, file.kind));
                    roots.push(root);
                }
                Err(error) => workspace.text_error(&file.path, &error),
            }
        }
        // Files reached by `-r`/`-c` are manifests too, whatever their names; index options
        // flow from including files.
        let resolution =
            super::requirements::includes::resolve(&mut workspace.manifests, &mut roots);
        workspace.diagnostics.extend(resolution.diagnostics);
        workspace.includes = resolution
            .edges
            .iter()
            .map(|edge| IncludeEdge {
                from: workspace.manifests[edge.from].source.path().to_path_buf(),
                to: workspace.manifests[edge.to].source.path().to_path_buf(),
                kind: edge.kind,
            })
            .collect();
        workspace.roots = workspace
            .manifests
            .iter()
            .map(|m| m.source.path().to_path_buf())
            .zip(roots)
            .collect();
        workspace
            .manifests
            .sort_by(|a, b| a.source.path().cmp(b.source.path()));
        workspace
    }

    fn text_error(&mut self, path: &Path, error: &TextError) {
        match error {
            TextError::Refused { source, .. } => {
                self.file_error(path, "Refused to read the file", source);
                if let (Some(hint), Some(last)) = (source.hint(), self.diagnostics.last_mut()) {
                    last.hint = Some(hint);
                }
            }
            _ => self.file_error(path, "Cannot read the file", error),
        }
    }

    /// An ignore file the walk did not apply, because repin refused to read it.
    fn refused_ignore_file(&mut self, error: &crate::text::RepoFsError) {
        let mut diagnostic = Diagnostic::file(
            error.path(),
            Severity::Warning,
            "Refused to read this ignore file, so its rules were not applied",
        );
        diagnostic = diagnostic.caused_by(error.to_string());
        if let Some(hint) = error.hint() {
            diagnostic = diagnostic.with_hint(hint);
        }
        self.diagnostics.push(diagnostic);
    }

    fn file_error(&mut self, path: &Path, message: &str, error: &dyn std::error::Error) {
        let mut diagnostic = Diagnostic::file(path, Severity::Error, message);
        let mut cause: Option<&dyn std::error::Error> = Some(error);
        while let Some(c) = cause {
            diagnostic = diagnostic.caused_by(c.to_string());
            cause = c.source();
        }
        self.diagnostics.push(diagnostic);
    }

    /// Whether any file could not be read or had an error diagnostic.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
            || self.manifests.iter().any(Manifest::has_errors)
    }

    /// Every diagnostic: whole-file ones first, then each manifest's in file order.
    pub fn all_diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .chain(self.manifests.iter().flat_map(|m| m.diagnostics.iter()))
    }
}
