//! Following `-r` and `-c` includes: chains of any depth, resolved relative to the including
//! file; cycles and missing files reported at the include's `path:line:col`, never a crash and
//! never a loop; index options flowing from including files to included ones, as pip applies
//! them to the whole install.
//!
//! An include is read through the repository root of the file that names it
//! ([`RepoRoot`]): one that leads outside the repository (`-r /proc/self/environ`,
//! `-r ../../outside/token.txt`, a symbolic link out), or to a FIFO or a device, is refused with
//! an error at the include, and the rest of the files are still read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{IncludeKind, RequirementsFile};
use crate::manifest::python::IndexOptions;
use crate::manifest::{DependencyDetail, Manifest, ManifestDetails};
use crate::text::repo_fs::normalise;
use crate::text::{Diagnostic, RepoRoot, Severity, TextError};

/// An edge of the include graph, by index into the manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    /// The including manifest.
    pub from: usize,
    /// The included manifest.
    pub to: usize,
    /// Requirements or constraints.
    pub kind: IncludeKind,
    /// Which include of `from` (index into its `includes`).
    pub include: usize,
}

/// What following the includes of a set of manifests found.
#[derive(Debug, Default)]
pub struct Resolution {
    /// The includes that resolved.
    pub edges: Vec<Edge>,
    /// Missing files, cycles, unreadable or refused files, URL includes.
    pub diagnostics: Vec<Diagnostic>,
}

fn details(manifest: &Manifest) -> Option<&RequirementsFile> {
    match &manifest.details {
        ManifestDetails::Requirements(file) => Some(file),
        ManifestDetails::Dockerfile(_)
        | ManifestDetails::Pyproject(_)
        | ManifestDetails::UvLock(_)
        | ManifestDetails::Pylock(_)
        | ManifestDetails::PoetryLock(_)
        | ManifestDetails::Pipfile(_)
        | ManifestDetails::PipfileLock(_) => None,
    }
}

/// The directory an include is relative to, for messages: never empty.
fn shown_dir(dir: &Path) -> String {
    if dir.as_os_str().is_empty() {
        ".".to_owned()
    } else {
        dir.display().to_string()
    }
}

/// Follow every include of the requirements files in `manifests`, reading (and appending)
/// included files not there yet; then give each dependency the index options in effect for
/// its file: its own merged over those of every file that includes it, directly or not.
///
/// `roots[i]` is the repository root of `manifests[i]`; an included file gets its includer's,
/// and nothing is read outside it.
pub fn resolve(manifests: &mut Vec<Manifest>, roots: &mut Vec<RepoRoot>) -> Resolution {
    assert_eq!(manifests.len(), roots.len(), "one root per manifest");
    let mut resolution = Resolution::default();
    // Files are known by where they really are, so a file reached by two paths is read once.
    let key = |root: &RepoRoot, path: &Path| {
        root.resolve(path)
            .map_or_else(|_| normalise(path), |resolved| resolved.path)
    };
    let mut position: BTreeMap<PathBuf, usize> = manifests
        .iter()
        .zip(roots.iter())
        .enumerate()
        .map(|(i, (m, root))| (key(root, m.source.path()), i))
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
        for (number, include) in includes.into_iter().enumerate() {
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
            let root = roots[from].clone();
            let target = normalise(&dir.join(&include.path));
            let to = match position.get(&key(&root, &target)) {
                Some(&to) => to,
                None => match root.read_source(&target) {
                    Ok(included) => {
                        manifests.push(super::parse(included));
                        roots.push(root.clone());
                        position.insert(key(&root, &target), manifests.len() - 1);
                        manifests.len() - 1
                    }
                    Err(error) => {
                        let diagnostic = include_error(&manifests[from], &include, &dir, &error);
                        resolution.diagnostics.push(diagnostic);
                        continue;
                    }
                },
            };
            resolution.edges.push(Edge {
                from,
                to,
                kind: include.kind,
                include: number,
            });
        }
    }
    report_cycles(manifests, &mut resolution);
    apply_options(manifests, &resolution.edges);
    resolution
}

/// The diagnostic of an include that could not be read: an error when repin refused it (it
/// leads outside the repository, or to something that is not a regular file), a warning when
/// it is missing or unreadable (often generated at build time). Never the refused file's
/// content: it was not read.
fn include_error(
    manifest: &Manifest,
    include: &super::Include,
    dir: &Path,
    error: &TextError,
) -> Diagnostic {
    let source = &manifest.source;
    if let TextError::Refused { source: why, .. } = error {
        let diagnostic = Diagnostic::at(
            source,
            include.span,
            Severity::Error,
            format!("Refused to read the included file `{}`", include.path),
        )
        .caused_by(why.to_string());
        return match why.hint() {
            Some(hint) => diagnostic.with_hint(hint),
            None => diagnostic,
        };
    }
    let missing = matches!(error, TextError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound);
    let message = if missing {
        format!("The included file `{}` does not exist", include.path)
    } else {
        format!("Cannot read the included file `{}`", include.path)
    };
    let cause =
        std::error::Error::source(error).map_or_else(|| error.to_string(), ToString::to_string);
    Diagnostic::at(source, include.span, Severity::Warning, message)
        .caused_by(cause)
        .with_hint(format!(
            "paths are relative to `{}`, the including file's directory; a file generated at build time cannot be checked",
            shown_dir(dir)
        ))
}

/// An error at each include that closes a cycle. Iterative, so a chain of any length of
/// files including each other cannot overflow the stack.
fn report_cycles(manifests: &[Manifest], resolution: &mut Resolution) {
    let n = manifests.len();
    let mut outgoing: Vec<Vec<Edge>> = vec![Vec::new(); n];
    for edge in &resolution.edges {
        outgoing[edge.from].push(*edge);
    }
    let mut state = vec![0u8; n]; // 0 new, 1 on the stack, 2 done
    for start in 0..n {
        if state[start] != 0 {
            continue;
        }
        // The files on the current path, each with how many of its edges were followed.
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        state[start] = 1;
        while let Some(top) = stack.last_mut() {
            let at = top.0;
            let Some(edge) = outgoing[at].get(top.1).copied() else {
                state[at] = 2;
                stack.pop();
                continue;
            };
            top.1 += 1;
            match state[edge.to] {
                0 => {
                    state[edge.to] = 1;
                    stack.push((edge.to, 0));
                }
                1 => {
                    let begin = stack.iter().position(|&(s, _)| s == edge.to).unwrap_or(0);
                    let chain: Vec<String> = stack[begin..]
                        .iter()
                        .map(|&(i, _)| i)
                        .chain(std::iter::once(edge.to))
                        .map(|i| manifests[i].source.path().display().to_string())
                        .collect();
                    let span = details(&manifests[at])
                        .and_then(|f| f.includes.get(edge.include))
                        .map(|inc| inc.span)
                        .unwrap_or_default();
                    resolution.diagnostics.push(
                        Diagnostic::error(
                            &manifests[at].source,
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
            // An includer's `--no-index` applies here too.
            super::skip_if_no_index(dependency);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::SkipReason;
    use crate::text::SourceFile;

    fn write(dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn load(path: &Path) -> Vec<Manifest> {
        vec![super::super::parse(SourceFile::read(path).unwrap())]
    }

    /// Resolve with the repository root of the first file (a temporary directory, not in git:
    /// its own directory).
    fn resolve_in(root: &Path, manifests: &mut Vec<Manifest>) -> Resolution {
        let root = RepoRoot::new(root).unwrap();
        let mut roots = vec![root; manifests.len()];
        let resolution = resolve(manifests, &mut roots);
        assert_eq!(roots.len(), manifests.len());
        resolution
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
        let resolution = resolve_in(d, &mut manifests);
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

    /// Issue 17: an includer's `--no-index` makes the included file's pins local installs too.
    #[test]
    fn an_includers_no_index_skips_the_included_pins() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(d, "requirements.txt", "--no-index\n-r base.txt\n");
        write(d, "base.txt", "flask==3.1.0\n");
        write(d, "other.txt", "flask==3.1.0\n");
        let mut manifests = load(&d.join("requirements.txt"));
        manifests.extend(load(&d.join("other.txt")));
        let resolution = resolve_in(d, &mut manifests);
        assert!(
            resolution.diagnostics.is_empty(),
            "{:?}",
            resolution.diagnostics
        );
        let skips: Vec<_> = manifests
            .iter()
            .flat_map(|m| {
                let name = m.source.path().file_name().unwrap().to_string_lossy();
                m.dependencies
                    .iter()
                    .map(move |d| (name.clone().into_owned(), d.skip_reason))
            })
            .collect();
        assert!(
            skips.contains(&("base.txt".into(), Some(SkipReason::NoIndex))),
            "{skips:?}"
        );
        assert!(skips.contains(&("other.txt".into(), None)), "{skips:?}");
    }

    #[test]
    fn reports_cycles_and_missing_files_at_the_include() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(d, "a.txt", "flask==3.1.0\n-r b.txt\n");
        write(d, "b.txt", "-r a.txt\n-c missing.txt\n");
        let mut manifests = load(&d.join("a.txt"));
        let resolution = resolve_in(d, &mut manifests);
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

    /// Issue 10, item 1: an include is read only inside the repository. Each refused include is
    /// an error at its own `path:line:col`; the other requirements are still read, and no
    /// message quotes what the refused file holds.
    #[cfg(unix)]
    #[test]
    fn refuses_includes_that_leave_the_repository_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        write(
            &dir.path().join("outside"),
            "token.txt",
            "canary-secret-7f3a\n",
        );
        write(&repo, "inside/ok.txt", "jinja2==3.1.4\n");
        std::os::unix::fs::symlink(dir.path().join("outside"), repo.join("escape")).unwrap();
        std::os::unix::fs::symlink("inside", repo.join("alias")).unwrap();
        let fifo = repo.join("pipe.txt");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        write(
            &repo,
            "requirements.txt",
            "flask==3.1.0\n-r ../outside/token.txt\n-r /proc/self/environ\n-r escape/token.txt\n\
             -c pipe.txt\n-r /etc/passwd\n-r alias/ok.txt\nrequests==2.32.3\n",
        );
        let mut manifests = load(&repo.join("requirements.txt"));
        let resolution = resolve_in(&repo, &mut manifests);
        let rendered: Vec<String> = resolution
            .diagnostics
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(rendered.len(), 5, "{rendered:#?}");
        for (diagnostic, line) in resolution.diagnostics.iter().zip([2, 3, 4, 5, 6]) {
            assert_eq!(diagnostic.severity, Severity::Error, "{diagnostic}");
            assert_eq!(
                (diagnostic.line, diagnostic.column),
                (line, 4),
                "{diagnostic}"
            );
            assert!(
                diagnostic
                    .message
                    .starts_with("Refused to read the included file")
            );
        }
        assert!(
            rendered[0].contains("is outside the repository"),
            "{}",
            rendered[0]
        );
        assert!(
            rendered[1].contains("is outside the repository"),
            "{}",
            rendered[1]
        );
        assert!(rendered[2].contains("symbolic link"), "{}", rendered[2]);
        assert!(
            rendered[3].contains("is a FIFO, not a regular file"),
            "{}",
            rendered[3]
        );
        assert!(
            rendered[4].contains("is outside the repository"),
            "{}",
            rendered[4]
        );
        let all = rendered.join("\n");
        assert!(!all.contains("canary-secret"), "{all}");
        assert!(!all.contains("root:x:0"), "{all}");
        // The requirements of the file, and the include through a link that stays inside.
        let names: Vec<&str> = manifests
            .iter()
            .flat_map(|m| m.dependencies.iter().map(|d| d.name.as_str()))
            .collect();
        assert_eq!(names, vec!["flask", "requests", "jinja2"]);
        assert_eq!(resolution.edges.len(), 1);
    }

    /// Issue 10, item 2: `..` parts that have nothing to cancel stay, and the hint never names an
    /// empty directory.
    #[test]
    fn leading_parent_parts_stay_and_hints_name_a_directory() {
        assert_eq!(
            normalise(Path::new("../../common/base.txt")),
            Path::new("../../common/base.txt")
        );
        assert_eq!(
            normalise(Path::new("services/api/../../common/./base.txt")),
            Path::new("common/base.txt")
        );
        assert_eq!(normalise(Path::new("a/../../b")), Path::new("../b"));
        assert_eq!(normalise(Path::new("/../etc")), Path::new("/etc"));
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            d,
            "services/api/requirements.txt",
            "-r ../../common/base.txt\n-r gone.txt\n",
        );
        write(d, "common/base.txt", "flask==3.1.0\n");
        let mut manifests = load(&d.join("services/api/requirements.txt"));
        let resolution = resolve_in(d, &mut manifests);
        assert_eq!(manifests.len(), 2);
        assert_eq!(manifests[1].dependencies[0].name, "flask");
        assert_eq!(resolution.diagnostics.len(), 1);
        let hint = resolution.diagnostics[0].hint.clone().unwrap();
        assert!(hint.contains("services/api`"), "{hint}");
        assert_eq!(shown_dir(Path::new("")), ".");
    }

    /// A chain of thousands of files including each other, and a cycle at its end: no stack
    /// overflow, the cycle reported once.
    #[test]
    fn long_include_chains_do_not_recurse() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let n = 5000;
        for i in 0..n {
            let next = if i + 1 == n { 0 } else { i + 1 };
            write(d, &format!("r{i}.txt"), &format!("-r r{next}.txt\n"));
        }
        let mut manifests = load(&d.join("r0.txt"));
        let root = d.to_path_buf();
        let resolution = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let resolution = resolve_in(&root, &mut manifests);
                (resolution.edges.len(), resolution.diagnostics.len())
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(resolution, (n, 1));
    }
}
