//! Finding manifest files in a directory tree, and telling which kind a file is.
//!
//! The walk uses the `ignore` crate, so `.gitignore`, `.ignore` and global git excludes are
//! respected; `.git`, `node_modules`, virtual environments and caches are always skipped.

use std::path::{Path, PathBuf};

use super::ManifestKind;

/// A manifest file found by [`discover`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Found {
    /// The path, as reached from the root given to the walk.
    pub path: PathBuf,
    /// What kind of manifest it is.
    pub kind: ManifestKind,
}

/// Errors walking a tree.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// The path given does not exist or cannot be read.
    #[error("Cannot read `{path}`")]
    Unreadable {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The walk failed below the root (a permission error, a symlink loop).
    #[error("Cannot walk `{path}`")]
    Walk {
        /// Where the walk failed.
        path: PathBuf,
        /// Why.
        #[source]
        source: ignore::Error,
    },
}

/// Directory names that never hold a project's own manifests.
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "__pycache__",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    ".mypy_cache",
    ".pytest_cache",
    "site-packages",
    ".eggs",
];

/// Extensions that make a `Dockerfile.*` name something else: ignore files, docs, scripts.
const NOT_DOCKERFILE_EXTENSIONS: &[&str] = &[
    "dockerignore",
    "md",
    "rst",
    "txt",
    "yml",
    "yaml",
    "json",
    "sh",
    "orig",
    "bak",
    "swp",
];

/// Classify a file by its name: the rules of `repin extract`'s discovery.
///
/// Requirements: `requirements*.txt`, any `.txt` in a directory named `requirements`,
/// `constraints*.txt`, `*.in` (not `MANIFEST.in` nor templates like `config.h.in`),
/// `*.txt.in`, and `*.lock` files (only when [`sniff_pip_lock`] agrees, since most `.lock`
/// files are TOML or JSON). Dockerfiles: `Dockerfile`, `Dockerfile.*`, `*.Dockerfile`,
/// `*.dockerfile`, `Containerfile`, `Containerfile.*`.
pub fn classify(path: &Path) -> Option<ManifestKind> {
    let name = path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    let dotted = |prefix: &str| {
        lower.strip_prefix(prefix).is_some_and(|rest| {
            // `Dockerfile.dev` is a Dockerfile; `Dockerfile.dockerignore` and `Dockerfile.md` are not.
            let ext = rest.rsplit('.').next().unwrap_or("");
            !NOT_DOCKERFILE_EXTENSIONS.contains(&ext)
        })
    };
    if lower == "dockerfile"
        || lower == "containerfile"
        || lower.ends_with(".dockerfile")
        || dotted("dockerfile.")
        || dotted("containerfile.")
    {
        return Some(ManifestKind::Dockerfile);
    }
    let in_requirements_dir = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|d| d.to_str())
        .is_some_and(|d| d.eq_ignore_ascii_case("requirements"));
    if lower.ends_with(".txt")
        && (lower.starts_with("requirements")
            || lower.starts_with("constraints")
            || in_requirements_dir)
    {
        return Some(ManifestKind::Requirements);
    }
    if let Some(stem) = lower.strip_suffix(".in") {
        let plain = !stem.contains('.') || stem.ends_with(".txt");
        if plain && lower != "manifest.in" && !stem.is_empty() {
            return Some(ManifestKind::Requirements);
        }
    }
    if lower.ends_with(".lock") && sniff_pip_lock(path) {
        return Some(ManifestKind::Requirements);
    }
    None
}

/// Whether a `.lock` file is in pip's requirements format (Rye, `uv export`), judged by its
/// first meaningful line: TOML (`poetry.lock`, `uv.lock`) and JSON (`Pipfile.lock`) are not.
pub fn sniff_pip_lock(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    match first {
        None => text
            .lines()
            .any(|l| l.contains("pip-compile") || l.contains("uv ")),
        Some(line) => {
            let c = line.chars().next().unwrap_or(' ');
            !(c == '[' || c == '{' || line.contains(" = ") || line.starts_with("version"))
        }
    }
}

/// Guess the kind of a file given explicitly, whatever its name: by name first, then by content
/// (a Dockerfile's first instruction is `FROM`, `ARG` or a parser directive).
pub fn classify_given(path: &Path, text: &str) -> ManifestKind {
    if let Some(kind) = classify(path) {
        return kind;
    }
    // The first instruction-looking line decides; comments, blank lines and template lines
    // (`{% if %}`) are passed over.
    let first = text
        .trim_start_matches('\u{feff}')
        .lines()
        .map(str::trim)
        .find(|l| {
            !l.is_empty() && !l.starts_with('#') && !l.starts_with("{%") && !l.starts_with("{#")
        });
    let looks_docker = first.is_some_and(|l| {
        let word = l
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        word == "FROM" || word == "ARG"
    }) || text.starts_with("# syntax")
        || text.starts_with("# escape");
    if looks_docker {
        ManifestKind::Dockerfile
    } else {
        ManifestKind::Requirements
    }
}

/// Walk `root` (a directory) and return every manifest below it, sorted by path.
///
/// A file given as `root` is returned alone when its name classifies it (use
/// [`classify_given`] for files named explicitly by the user).
pub fn discover(root: &Path) -> Result<Vec<Found>, DiscoverError> {
    let meta = std::fs::metadata(root).map_err(|source| DiscoverError::Unreadable {
        path: root.to_path_buf(),
        source,
    })?;
    if meta.is_file() {
        return Ok(classify(root)
            .map(|kind| Found {
                path: root.to_path_buf(),
                kind,
            })
            .into_iter()
            .collect());
    }
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        .require_git(false)
        .filter_entry(|entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            if !is_dir {
                return true;
            }
            let name = entry.file_name().to_string_lossy();
            // A virtualenv under any name has a pyvenv.cfg.
            !(SKIPPED_DIRS.contains(&name.as_ref()) || entry.path().join("pyvenv.cfg").is_file())
        })
        .build();
    let mut found = Vec::new();
    for entry in walker {
        let entry = entry.map_err(|source| DiscoverError::Walk {
            path: root.to_path_buf(),
            source,
        })?;
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        if let Some(kind) = classify(entry.path()) {
            found.push(Found {
                path: entry.path().to_path_buf(),
                kind,
            });
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_name() {
        let cases = [
            ("requirements.txt", Some(ManifestKind::Requirements)),
            ("requirements-dev.txt", Some(ManifestKind::Requirements)),
            ("requirements/main.txt", Some(ManifestKind::Requirements)),
            ("requirements/main.in", Some(ManifestKind::Requirements)),
            ("dev.in", Some(ManifestKind::Requirements)),
            ("constraints.txt.in", Some(ManifestKind::Requirements)),
            ("constraints-py3.txt", Some(ManifestKind::Requirements)),
            ("MANIFEST.in", None),
            ("config.h.in", None),
            ("notes.txt", None),
            ("docs/index.txt", None),
            ("Dockerfile", Some(ManifestKind::Dockerfile)),
            ("Dockerfile.dev", Some(ManifestKind::Dockerfile)),
            ("docker/dev.Dockerfile", Some(ManifestKind::Dockerfile)),
            ("python3.11-slim.dockerfile", Some(ManifestKind::Dockerfile)),
            ("Containerfile", Some(ManifestKind::Dockerfile)),
            ("Dockerfile.dockerignore", None),
            ("Dockerfile.md", None),
            ("docker-compose.yml", None),
        ];
        for (path, expected) in cases {
            assert_eq!(classify(Path::new(path)), expected, "{path}");
        }
    }

    #[test]
    fn sniffs_lock_files_and_given_files() {
        let dir = tempfile::tempdir().unwrap();
        let rye = dir.path().join("requirements-dev.lock");
        std::fs::write(&rye, "# generated by rye\n-e file:.\nanyio==4.4.0\n").unwrap();
        let poetry = dir.path().join("poetry.lock");
        std::fs::write(&poetry, "# poetry\n[[package]]\nname = \"a\"\n").unwrap();
        let pipfile = dir.path().join("Pipfile.lock");
        std::fs::write(&pipfile, "{\"_meta\": {}}\n").unwrap();
        assert_eq!(classify(&rye), Some(ManifestKind::Requirements));
        assert_eq!(classify(&poetry), None);
        assert_eq!(classify(&pipfile), None);
        let odd = Path::new("base.image");
        assert_eq!(
            classify_given(odd, "# syntax=docker/dockerfile:1\nFROM python:3.12\n"),
            ManifestKind::Dockerfile
        );
        assert_eq!(
            classify_given(odd, "flask==3.1\n"),
            ManifestKind::Requirements
        );
        assert_eq!(
            classify_given(
                odd,
                "# base image\n{% if x %}\nFROM python:3.12\n{% endif %}\n"
            ),
            ManifestKind::Dockerfile
        );
        assert_eq!(
            classify_given(odd, "# pins\narg==1.0\n"),
            ManifestKind::Requirements
        );
    }

    #[test]
    fn walks_respecting_gitignore_and_skipping_environments() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |rel: &str, text: &str| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        write("requirements.txt", "flask==3.1.0\n");
        write("docker/Dockerfile", "FROM python:3.12-slim\n");
        write("node_modules/x/requirements.txt", "a==1\n");
        write("env/pyvenv.cfg", "home = /usr\n");
        write("env/lib/requirements.txt", "a==1\n");
        write("build/requirements.txt", "a==1\n");
        write(".gitignore", "build/\n");
        write("README.md", "hi\n");
        let found = discover(root).unwrap();
        let rel: Vec<_> = found
            .iter()
            .map(|f| {
                f.path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(rel, vec!["docker/Dockerfile", "requirements.txt"]);
        assert!(matches!(
            discover(&root.join("missing")),
            Err(DiscoverError::Unreadable { .. })
        ));
    }
}
