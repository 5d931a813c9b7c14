//! Following `-r` and `-c` includes: chains of any depth, resolved relative to the including
//! file; cycles and missing files reported at the include's `path:line:col`, never a crash and
//! never a loop; index options flowing from including files to included ones, as pip applies
//! them to the whole install.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use super::{IncludeKind, RequirementsFile};
use crate::manifest::python::IndexOptions;
use crate::manifest::{DependencyDetail, Manifest, ManifestDetails};
use crate::text::{Diagnostic, Severity, SourceFile};

/// An edge of the include graph, by index into the manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    /// The including manifest.
    pub from: usize,
    /// The included manifest.
    pub to: usize,
    /// Requirements or constraints.
    pub kind: IncludeKind,
}

/// What following the includes of a set of manifests found.
#[derive(Debug, Default)]
pub struct Resolution {
    /// The includes that resolved.
    pub edges: Vec<Edge>,
    /// Missing files, cycles, unreadable files, URL includes.
    pub diagnostics: Vec<Diagnostic>,
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

fn details(manifest: &Manifest) -> Option<&RequirementsFile> {
    match &manifest.details {
        ManifestDetails::Requirements(file) => Some(file),
        ManifestDetails::Dockerfile(_) => None,
    }
}

/// Follow every include of the requirements files in `manifests`, reading (and appending)
/// included files not there yet; then give each dependency the index options in effect for
/// its file: its own merged over those of every file that includes it, directly or not.
pub fn resolve(manifests: &mut Vec<Manifest>) -> Resolution {
    let mut resolution = Resolution::default();
    let mut position: BTreeMap<PathBuf, usize> = manifests
        .iter()
        .enumerate()
        .map(|(i, m)| (normalise(m.source.path()), i))
        .collect();
    let mut next = 0;
    while next < manifests.len() {
        let from = next;
        next += 1;
        let Some(file) = details(&manifests[from]) else {
            continue;
        };
        let includes = file.includes.clone();
        let dir = normalise(manifests[from].source.path())
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        for include in includes {
            let source = &manifests[from].source;
            if include.path.contains("://")
                || include.path.contains('$')
                || include.path.contains("{{")
            {
                resolution.diagnostics.push(Diagnostic::warning(
                    source,
                    include.span,
                    format!(
                        "`{}` is not a local path; repin does not follow it",
                        include.path
                    ),
                ));
                continue;
            }
            let target = normalise(&dir.join(&include.path));
            let to = match position.get(&target) {
                Some(&to) => to,
                None => match SourceFile::read(&target) {
                    Ok(included) => {
                        manifests.push(super::parse(included));
                        position.insert(target.clone(), manifests.len() - 1);
                        manifests.len() - 1
                    }
                    Err(error) => {
                        let message = if target.exists() {
                            format!("Cannot read the included file `{}`", include.path)
                        } else {
                            format!("The included file `{}` does not exist", include.path)
                        };
                        // A missing include is often generated at build time: warn, keep going.
                        resolution.diagnostics.push(
                            Diagnostic::at(&manifests[from].source, include.span, Severity::Warning, message)
                                .caused_by(std::error::Error::source(&error).map_or_else(|| error.to_string(), ToString::to_string))
                                .with_hint(format!("paths are relative to `{}`; a file generated at build time cannot be checked", dir.display())),
                        );
                        continue;
                    }
                },
            };
            resolution.edges.push(Edge {
                from,
                to,
                kind: include.kind,
            });
        }
    }
    report_cycles(manifests, &mut resolution);
    apply_options(manifests, &resolution.edges);
    resolution
}

/// An error at each include that closes a cycle.
fn report_cycles(manifests: &[Manifest], resolution: &mut Resolution) {
    let n = manifests.len();
    let mut state = vec![0u8; n]; // 0 new, 1 on the stack, 2 done
    let mut stack: Vec<usize> = Vec::new();
    let edges = resolution.edges.clone();
    fn visit(
        at: usize,
        edges: &[Edge],
        state: &mut [u8],
        stack: &mut Vec<usize>,
        manifests: &[Manifest],
        out: &mut Vec<Diagnostic>,
    ) {
        state[at] = 1;
        stack.push(at);
        for edge in edges.iter().filter(|e| e.from == at) {
            match state[edge.to] {
                0 => visit(edge.to, edges, state, stack, manifests, out),
                1 => {
                    let start = stack.iter().position(|&s| s == edge.to).unwrap_or(0);
                    let chain: Vec<String> = stack[start..]
                        .iter()
                        .chain(std::iter::once(&edge.to))
                        .map(|&i| manifests[i].source.path().display().to_string())
                        .collect();
                    let source = &manifests[at].source;
                    let span = details(&manifests[at])
                        .and_then(|f| {
                            f.includes.iter().find(|inc| {
                                let dir = normalise(source.path())
                                    .parent()
                                    .map(Path::to_path_buf)
                                    .unwrap_or_default();
                                normalise(&dir.join(&inc.path))
                                    == normalise(manifests[edge.to].source.path())
                            })
                        })
                        .map(|inc| inc.span)
                        .unwrap_or_default();
                    out.push(
                        Diagnostic::error(
                            source,
                            span,
                            format!("Include cycle: {}", chain.join(" -> ")),
                        )
                        .with_hint(
                            "remove one of these includes; pip would read the files forever",
                        ),
                    );
                }
                _ => {}
            }
        }
        stack.pop();
        state[at] = 2;
    }
    for start in 0..n {
        if state[start] == 0 {
            visit(
                start,
                &edges,
                &mut state,
                &mut stack,
                manifests,
                &mut resolution.diagnostics,
            );
        }
    }
}

/// Give every requirement the index options of its file merged with its includers'.
fn apply_options(manifests: &mut [Manifest], edges: &[Edge]) {
    let mut effective: Vec<IndexOptions> = manifests
        .iter()
        .map(|m| details(m).map(|f| f.options.clone()).unwrap_or_default())
        .collect();
    // Options only accumulate, so this reaches a fixpoint within one pass per file.
    for _ in 0..manifests.len() {
        let mut changed = false;
        for edge in edges {
            let mut merged = effective[edge.to].clone();
            merged.merge(&effective[edge.from]);
            // The included file's own index URL wins over an includer's.
            if let Some(own) =
                details(&manifests[edge.to]).and_then(|f| f.options.index_url.clone())
            {
                merged.index_url = Some(own);
            }
            if merged != effective[edge.to] {
                effective[edge.to] = merged;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for (manifest, options) in manifests.iter_mut().zip(effective) {
        if details(manifest).is_none() {
            continue;
        }
        for dependency in &mut manifest.dependencies {
            if let DependencyDetail::Python(p) = &mut dependency.detail {
                p.index = options.clone();
            }
        }
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

    fn load(path: &Path) -> Vec<Manifest> {
        vec![super::super::parse(SourceFile::read(path).unwrap())]
    }

    #[test]
    fn follows_chains_relative_to_the_including_file_and_passes_options_down() {
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
            "--extra-index-url https://extra/simple\n-r pip.txt\n-c constraints.pip\n",
        );
        write(
            d,
            "requirements/pip.txt",
            "-i https://primary/simple\nflask==3.1.0\n",
        );
        write(d, "requirements/constraints.pip", "jinja2<4\n");
        let mut manifests = load(&d.join("requirements.txt"));
        let resolution = resolve(&mut manifests);
        assert!(
            resolution.diagnostics.is_empty(),
            "{:?}",
            resolution.diagnostics
        );
        let names: Vec<_> = manifests
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
                "requirements/constraints.pip"
            ]
        );
        assert_eq!(resolution.edges.len(), 3);
        assert_eq!(resolution.edges[2].kind, IncludeKind::Constraint);
        let flask = manifests[2].dependencies[0].python().unwrap();
        assert_eq!(
            flask.index.index_url.as_deref(),
            Some("https://primary/simple")
        );
        assert_eq!(flask.index.extra_index_urls, vec!["https://extra/simple"]);
        let jinja = manifests[3].dependencies[0].python().unwrap();
        assert_eq!(jinja.index.extra_index_urls, vec!["https://extra/simple"]);
    }

    #[test]
    fn reports_cycles_and_missing_files_at_the_include() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(d, "a.txt", "flask==3.1.0\n-r b.txt\n");
        write(d, "b.txt", "-r a.txt\n-c missing.txt\n");
        let mut manifests = load(&d.join("a.txt"));
        let resolution = resolve(&mut manifests);
        assert_eq!(manifests.len(), 2);
        let messages: Vec<String> = resolution
            .diagnostics
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[0]
                .contains("b.txt:2:4: warning: The included file `missing.txt` does not exist"),
            "{}",
            messages[0]
        );
        assert!(
            messages[1].contains("b.txt:1:4: error: Include cycle: "),
            "{}",
            messages[1]
        );
        assert!(
            messages[1]
                .ends_with("hint: remove one of these includes; pip would read the files forever")
        );
    }
}
