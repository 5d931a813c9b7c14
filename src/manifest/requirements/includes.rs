//! Following `-r` and `-c` includes: chains of any depth, cycles and missing files reported at
//! the include's `path:line:col`, never a crash and never a loop.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use super::{IncludeKind, RequirementsFile};
use crate::manifest::python::IndexOptions;
use crate::manifest::{Manifest, ManifestDetails};
use crate::text::{Diagnostic, Severity, SourceFile};

/// An edge of the include graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// The including file.
    pub from: PathBuf,
    /// The included file (resolved, normalised).
    pub to: PathBuf,
    /// Requirements or constraints.
    pub kind: IncludeKind,
}

/// Every file reachable from a root by includes.
#[derive(Debug, Default)]
pub struct IncludeGraph {
    /// Each file once, by normalised path, in discovery order.
    pub manifests: Vec<Manifest>,
    /// The includes that resolved.
    pub edges: Vec<Edge>,
    /// Missing files, cycles, unreadable files, URL includes.
    pub diagnostics: Vec<Diagnostic>,
    /// Index options in effect for each file: its own merged over those of the files that
    /// include it (pip applies options of every file read to the whole install).
    pub effective_options: BTreeMap<PathBuf, IndexOptions>,
}

/// Remove `.` and `a/..` pairs without touching the file system (symlinks are not resolved, so
/// a path stays the one the user wrote).
pub fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn file_details(manifest: &Manifest) -> Option<&RequirementsFile> {
    match &manifest.details {
        ManifestDetails::Requirements(file) => Some(file),
        ManifestDetails::Dockerfile(_) => None,
    }
}

/// Read `root` and every file it includes, recursively.
pub fn load(root: &Path) -> IncludeGraph {
    let mut graph = IncludeGraph::default();
    let root = normalise(root);
    match SourceFile::read(&root) {
        Ok(source) => {
            let manifest = super::parse(source);
            visit(
                &mut graph,
                manifest,
                &mut vec![root.clone()],
                &IndexOptions::default(),
            );
        }
        Err(error) => graph.diagnostics.push(
            Diagnostic::file(&root, Severity::Error, "Cannot read the file")
                .caused_by(error.to_string()),
        ),
    }
    graph
}

fn visit(
    graph: &mut IncludeGraph,
    manifest: Manifest,
    stack: &mut Vec<PathBuf>,
    inherited: &IndexOptions,
) {
    let path = normalise(manifest.source.path());
    let mut options = inherited.clone();
    if let Some(file) = file_details(&manifest) {
        options.merge(&file.options);
    }
    graph
        .effective_options
        .insert(path.clone(), options.clone());
    let includes = file_details(&manifest)
        .map(|f| f.includes.clone())
        .unwrap_or_default();
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let source = manifest.source.clone();
    graph.manifests.push(manifest);
    for include in includes {
        if include.path.contains("://") {
            graph.diagnostics.push(Diagnostic::warning(
                &source,
                include.span,
                format!(
                    "`{}` is a URL; repin does not follow remote includes",
                    include.path
                ),
            ));
            continue;
        }
        let target = normalise(&dir.join(&include.path));
        graph.edges.push(Edge {
            from: path.clone(),
            to: target.clone(),
            kind: include.kind,
        });
        if stack.contains(&target) {
            let chain: Vec<String> = stack
                .iter()
                .skip_while(|p| **p != target)
                .chain(std::iter::once(&target))
                .map(|p| p.display().to_string())
                .collect();
            graph.diagnostics.push(
                Diagnostic::error(
                    &source,
                    include.span,
                    format!("Include cycle: {}", chain.join(" -> ")),
                )
                .with_hint("remove one of these includes; pip would read the files forever"),
            );
            continue;
        }
        if graph
            .manifests
            .iter()
            .any(|m| normalise(m.source.path()) == target)
        {
            // Already read through another path: options still flow into it.
            if let Some(existing) = graph.effective_options.get_mut(&target) {
                existing.merge(&options);
            }
            continue;
        }
        match SourceFile::read(&target) {
            Ok(included) => {
                stack.push(target);
                visit(graph, super::parse(included), stack, &options);
                stack.pop();
            }
            Err(error) => {
                let exists = target.exists();
                let message = if exists {
                    format!("Cannot read the included file `{}`", include.path)
                } else {
                    format!("The included file `{}` does not exist", include.path)
                };
                graph.diagnostics.push(
                    Diagnostic::error(&source, include.span, message)
                        .caused_by(error.to_string())
                        .with_hint(format!("paths are relative to `{}`", dir.display())),
                );
            }
        }
    }
}

impl IncludeGraph {
    /// The manifest read for a path, if any.
    pub fn manifest(&self, path: &Path) -> Option<&Manifest> {
        let path = normalise(path);
        self.manifests
            .iter()
            .find(|m| normalise(m.source.path()) == path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn follows_chains_relative_to_the_including_file() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            d,
            "requirements.txt",
            "-r requirements/docker.in\n# trailing comment\n",
        );
        write(
            d,
            "requirements/docker.in",
            "--extra-index-url https://extra/simple\n-r pip.txt\n-c constraints.txt\n",
        );
        write(
            d,
            "requirements/pip.txt",
            "-i https://primary/simple\nflask==3.1.0\n",
        );
        write(d, "requirements/constraints.txt", "jinja2<4\n");
        let graph = load(&d.join("requirements.txt"));
        assert!(graph.diagnostics.is_empty(), "{:?}", graph.diagnostics);
        let names: Vec<_> = graph
            .manifests
            .iter()
            .map(|m| {
                m.source
                    .path()
                    .strip_prefix(d)
                    .unwrap()
                    .display()
                    .to_string()
            })
            .collect();
        assert_eq!(
            names,
            vec![
                "requirements.txt",
                "requirements/docker.in",
                "requirements/pip.txt",
                "requirements/constraints.txt"
            ]
        );
        assert_eq!(graph.edges.len(), 3);
        assert_eq!(graph.edges[2].kind, IncludeKind::Constraint);
        let pip = &graph.effective_options[&d.join("requirements/pip.txt")];
        assert_eq!(pip.index_url.as_deref(), Some("https://primary/simple"));
        assert_eq!(pip.extra_index_urls, vec!["https://extra/simple"]);
        assert!(
            graph
                .manifest(&d.join("requirements/../requirements/pip.txt"))
                .is_some()
        );
    }

    #[test]
    fn reports_cycles_and_missing_files_at_the_include() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(d, "a.txt", "flask==3.1.0\n-r b.txt\n");
        write(d, "b.txt", "-r a.txt\n-c missing.txt\n");
        let graph = load(&d.join("a.txt"));
        assert_eq!(graph.manifests.len(), 2);
        let messages: Vec<String> = graph.diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[0].contains("b.txt:1:4: error: Include cycle: "),
            "{}",
            messages[0]
        );
        assert!(
            messages[0]
                .ends_with("hint: remove one of these includes; pip would read the files forever")
        );
        assert!(
            messages[1]
                .contains("b.txt:2:4: error: The included file `missing.txt` does not exist"),
            "{}",
            messages[1]
        );
        let missing_root = load(&d.join("nope.txt"));
        assert_eq!(missing_root.diagnostics.len(), 1);
    }
}
