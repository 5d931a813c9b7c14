//! Loading every manifest of a set of paths: discovery, reading, parsing.
//!
//! One unreadable or broken file never stops the others: it becomes a diagnostic.

use std::path::{Path, PathBuf};

use super::discover::{self, Found};
use super::{Manifest, ManifestKind};
use crate::text::{Diagnostic, Severity, SourceFile};

/// All manifests found under the paths given, and the problems met on the way.
#[derive(Debug, Default)]
pub struct Workspace {
    /// Parsed manifests, sorted by path, each file once.
    pub manifests: Vec<Manifest>,
    /// Problems with whole files or paths (unreadable, undecodable, not found).
    pub diagnostics: Vec<Diagnostic>,
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

    /// Discover and parse the manifests under `paths` (directories are walked, files are taken
    /// as given and classified by name or content).
    pub fn load(paths: &[PathBuf]) -> Self {
        let mut workspace = Workspace::default();
        let mut found: Vec<Found> = Vec::new();
        for path in paths {
            match std::fs::metadata(path) {
                Ok(meta) if meta.is_file() => match std::fs::read(path) {
                    Ok(bytes) => {
                        let kind = discover::classify_given(path, &String::from_utf8_lossy(&bytes));
                        found.push(Found {
                            path: path.clone(),
                            kind,
                        });
                    }
                    Err(error) => workspace.file_error(path, "Cannot read the file", &error),
                },
                Ok(_) => match discover::discover(path) {
                    Ok(files) => found.extend(files),
                    Err(error) => workspace.file_error(path, "Cannot walk the directory", &error),
                },
                Err(error) => workspace.file_error(path, "Cannot read the path", &error),
            }
        }
        found.sort();
        found.dedup_by(|a, b| a.path == b.path);
        for file in found {
            if let Some(manifest) = workspace.read(&file.path, file.kind) {
                workspace.manifests.push(manifest);
            }
        }
        // Files reached by `-r`/`-c` are manifests too, whatever their names; index options
        // flow from including files.
        let resolution = super::requirements::includes::resolve(&mut workspace.manifests);
        workspace.diagnostics.extend(resolution.diagnostics);
        workspace
            .manifests
            .sort_by(|a, b| a.source.path().cmp(b.source.path()));
        workspace
    }

    fn read(&mut self, path: &Path, kind: ManifestKind) -> Option<Manifest> {
        match SourceFile::read(path) {
            Ok(source) => Some(super::parse(source, kind)),
            Err(error) => {
                self.file_error(path, "Cannot read the file", &error);
                None
            }
        }
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
