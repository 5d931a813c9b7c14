//! Finding manifest files in a directory tree, and telling which kind a file is.
//!
//! The walk uses the `ignore` crate, so `.gitignore`, `.ignore` and global git excludes are
//! respected; `.git`, `node_modules`, virtual environments and caches are always skipped.

use std::path::{Path, PathBuf};

use super::ManifestKind;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::text::repo_fs::{MAX_FILE_SIZE, RepoFsError, RepoRoot, read_regular};

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

/// Extensions that make a `Dockerfile.*` (or `Dockerfile-*`, `Dockerfile_*`) name something
/// else: ignore files, docs, data, scripts and source files (`dockerfile_parser.py`).
const NOT_DOCKERFILE_EXTENSIONS: &[&str] = &[
    "dockerignore",
    "md",
    "rst",
    "txt",
    "adoc",
    "html",
    "yml",
    "yaml",
    "json",
    "toml",
    "cfg",
    "ini",
    "sh",
    "bash",
    "ps1",
    "bat",
    "py",
    "pyc",
    "go",
    "rs",
    "js",
    "ts",
    "rb",
    "java",
    "orig",
    "bak",
    "swp",
    "tmp",
    "patch",
    "diff",
];

/// Whether `stem` (a lowercased file name without `.txt`) names a requirements or constraints
/// file: `requirements*`, `constraints*`, or a word joined to either by `-` or `_`
/// (`test-requirements`, `dev_requirements`, `upper-constraints`, `global-requirements-py3`).
/// A word merely ending in the name (`notrequirements`) is not one.
fn is_requirements_stem(stem: &str) -> bool {
    ["requirements", "constraints"].iter().any(|word| {
        stem.starts_with(word)
            || stem.match_indices(word).any(|(at, _)| {
                at > 0
                    && matches!(stem.as_bytes()[at - 1], b'-' | b'_')
                    && stem[at + word.len()..]
                        .chars()
                        .next()
                        .is_none_or(|c| matches!(c, '-' | '_' | '.'))
            })
    })
}

/// Classify a file by its name: the rules of `repin extract`'s discovery.
///
/// Requirements: `requirements*.txt`, `*-requirements*.txt` and `*_requirements*.txt`
/// (`test-requirements.txt`, `dev_requirements.txt`), the same for `constraints`, any `.txt`
/// below a directory named `requirements` (`requirements/**/*.txt`; every directory of `path`
/// counts, so give a path relative to the repository), `*.in` (not `MANIFEST.in` nor templates
/// like `config.h.in`), `*.txt.in`, and `*.lock` files (only when [`sniff_pip_lock`] agrees,
/// since most `.lock` files are TOML or JSON). Dockerfiles: `Dockerfile`, `Dockerfile.*`,
/// `Dockerfile-*`, `Dockerfile_*`, `*.Dockerfile`, `*.dockerfile`, and the same with
/// `Containerfile` (none of them with a documentation, data or source extension:
/// `Dockerfile.md`, `dockerfile_parser.py`). Pyproject: `pyproject.toml`. uv's lock: `uv.lock`.
/// Pipenv's: `Pipfile` and `Pipfile.lock`.
pub fn classify(path: &Path) -> Option<ManifestKind> {
    classify_at(path, path)
}

/// [`classify`] by `path` (as inside the repository), reading the file at `file` when its name
/// is not enough (a `.lock` file).
fn classify_at(path: &Path, file: &Path) -> Option<ManifestKind> {
    let name = path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    let suffixed = |base: &str| {
        lower.strip_prefix(base).is_some_and(|rest| {
            let Some(after) = rest.strip_prefix(['.', '-', '_']) else {
                return rest.is_empty();
            };
            // `Dockerfile.dev` is a Dockerfile; `Dockerfile.dockerignore` and `Dockerfile.md` are not.
            let ext = after.rsplit('.').next().unwrap_or("");
            !after.is_empty() && !NOT_DOCKERFILE_EXTENSIONS.contains(&ext)
        })
    };
    if suffixed("dockerfile")
        || suffixed("containerfile")
        || lower.ends_with(".dockerfile")
        || lower.ends_with(".containerfile")
    {
        return Some(ManifestKind::Dockerfile);
    }
    if super::pyproject::is_pyproject(name) {
        return Some(ManifestKind::Pyproject);
    }
    if super::uv_lock::is_uv_lock(name) {
        return Some(ManifestKind::UvLock);
    }
    if super::pylock::is_pylock(name) {
        return Some(ManifestKind::Pylock);
    }
    if super::poetry_lock::is_poetry_lock(name) {
        return Some(ManifestKind::PoetryLock);
    }
    if super::pipfile::is_pipfile(name) {
        return Some(ManifestKind::Pipfile);
    }
    if super::pipfile_lock::is_pipfile_lock(name) {
        return Some(ManifestKind::PipfileLock);
    }
    let in_requirements_dir = path
        .parent()
        .into_iter()
        .flat_map(Path::components)
        .any(|c| c.as_os_str().eq_ignore_ascii_case("requirements"));
    if let Some(stem) = lower.strip_suffix(".txt") {
        if is_requirements_stem(stem) || in_requirements_dir {
            return Some(ManifestKind::Requirements);
        }
    }
    if let Some(stem) = lower.strip_suffix(".in") {
        let plain = !stem.contains('.') || stem.ends_with(".txt");
        if plain && lower != "manifest.in" && !stem.is_empty() {
            return Some(ManifestKind::Requirements);
        }
    }
    if lower.ends_with(".lock") && sniff_pip_lock(file) {
        return Some(ManifestKind::Requirements);
    }
    None
}

/// Whether a `.lock` file is in pip's requirements format (Rye, `uv export`), judged by its
/// first meaningful line: TOML (`poetry.lock`, `uv.lock`) and JSON (`Pipfile.lock`) are not.
pub fn sniff_pip_lock(path: &Path) -> bool {
    let Ok(bytes) = read_regular(path, MAX_FILE_SIZE) else {
        return false;
    };
    let text = String::from_utf8_lossy(&bytes);
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

/// What a walk found: the manifests, and the ignore files repin refused to read.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Every manifest found, sorted by path.
    pub found: Vec<Found>,
    /// Ignore files that were not applied because repin refused to read them (a FIFO, a
    /// device, too large, a link out of the repository).
    pub refused: Vec<RepoFsError>,
}

/// The ignore files of a directory, highest precedence first (as the `ignore` crate ranks them).
const IGNORE_FILES: &[&str] = &[".ignore", ".gitignore"];

/// `.gitignore` and `.ignore` rules, read through the repository root.
///
/// The `ignore` crate would read them itself, with a plain `open`: a FIFO named `.gitignore`
/// blocks the walk forever and a link to `/dev/zero` reads without end, and version 0.4.30 reads
/// them even in directories the filter skips. So the crate reads no ignore file, and the walk's
/// filter applies rules read here, each file through [`RepoRoot::read`].
struct IgnoreRules {
    repo: RepoRoot,
    /// The highest directory whose ignore files apply: the repository root when the walk's
    /// root is inside it (as git applies a parent's `.gitignore`), else the walk's root.
    top: PathBuf,
    /// The rules of each directory met so far.
    rules: std::collections::HashMap<PathBuf, std::sync::Arc<Vec<Gitignore>>>,
    refused: Vec<RepoFsError>,
}

impl IgnoreRules {
    fn new(repo: &RepoRoot, walk_root: &Path) -> IgnoreRules {
        let top = [repo.given(), repo.path()]
            .into_iter()
            .find(|r| walk_root.starts_with(r))
            .unwrap_or(walk_root)
            .to_path_buf();
        IgnoreRules {
            repo: repo.clone(),
            top,
            rules: std::collections::HashMap::new(),
            refused: Vec::new(),
        }
    }

    /// The rules of `dir`'s own ignore files, read once.
    fn of_dir(&mut self, dir: &Path) -> std::sync::Arc<Vec<Gitignore>> {
        if let Some(rules) = self.rules.get(dir) {
            return rules.clone();
        }
        let mut rules = Vec::new();
        for name in IGNORE_FILES {
            let path = dir.join(name);
            if std::fs::symlink_metadata(&path).is_err() {
                continue;
            }
            match self.repo.read(&path) {
                Ok(bytes) => {
                    let mut builder = GitignoreBuilder::new(dir);
                    for line in String::from_utf8_lossy(&bytes).lines() {
                        // A bad pattern is skipped, as git does.
                        let _ = builder.add_line(Some(path.clone()), line);
                    }
                    if let Ok(built) = builder.build() {
                        rules.push(built);
                    }
                }
                Err(error) if error.is_not_found() => {}
                Err(error) => self.refused.push(error),
            }
        }
        let rules = std::sync::Arc::new(rules);
        self.rules.insert(dir.to_path_buf(), rules.clone());
        rules
    }

    /// Whether `path` (absolute and normalised) is ignored: the nearest directory with a rule
    /// that matches decides, and in a directory `.ignore` before `.gitignore`.
    fn ignored(&mut self, path: &Path, is_dir: bool) -> bool {
        let top = self.top.clone();
        for dir in path.ancestors().skip(1) {
            if !dir.starts_with(&top) {
                break;
            }
            for rules in self.of_dir(dir).iter() {
                match rules.matched(path, is_dir) {
                    ignore::Match::Ignore(_) => return true,
                    ignore::Match::Whitelist(_) => return false,
                    ignore::Match::None => {}
                }
            }
        }
        false
    }
}

/// Walk `root` (a directory of the repository `repo`) and return every manifest below it.
///
/// A file given as `root` is returned alone when its name classifies it (use
/// [`classify_given`] for files named explicitly by the user). `.gitignore` and `.ignore`
/// files are honoured, from the repository root down, each read through `repo`: one that
/// repin refuses to read (see `IgnoreRules`) is not applied, and reported.
pub fn discover(root: &Path, repo: &RepoRoot) -> Result<Discovery, DiscoverError> {
    let meta = std::fs::metadata(root).map_err(|source| DiscoverError::Unreadable {
        path: root.to_path_buf(),
        source,
    })?;
    let mut discovery = Discovery::default();
    if meta.is_file() {
        discovery.found = classify(root)
            .map(|kind| Found {
                path: root.to_path_buf(),
                kind,
            })
            .into_iter()
            .collect();
        return Ok(discovery);
    }
    let absolute_root = std::path::absolute(root).map_or_else(
        |_| root.to_path_buf(),
        |a| crate::text::repo_fs::normalise(&a),
    );
    let rules = std::sync::Arc::new(std::sync::Mutex::new(IgnoreRules::new(
        repo,
        &absolute_root,
    )));
    let top = rules
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .top
        .clone();
    let walk_rules = rules.clone();
    let walk_root = root.to_path_buf();
    let filter_root = absolute_root.clone();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        // No ignore file is read by the crate: `IgnoreRules` reads them.
        .ignore(false)
        .git_ignore(false)
        .git_exclude(false)
        .git_global(false)
        .parents(false)
        .require_git(false)
        .filter_entry(move |entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            if is_dir {
                let name = entry.file_name().to_string_lossy();
                // A virtualenv under any name has a pyvenv.cfg.
                if SKIPPED_DIRS.contains(&name.as_ref())
                    || entry.path().join("pyvenv.cfg").is_file()
                {
                    return false;
                }
            }
            let Ok(below) = entry.path().strip_prefix(&walk_root) else {
                return true;
            };
            let path = crate::text::repo_fs::normalise(&filter_root.join(below));
            let mut rules = walk_rules
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            !rules.ignored(&path, is_dir)
        })
        .build();
    for entry in walker {
        let entry = entry.map_err(|source| DiscoverError::Walk {
            path: root.to_path_buf(),
            source,
        })?;
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        // Classified by its path inside the repository: a `requirements` directory above the
        // checkout (`/home/me/requirements/app/docs/notes.txt`) says nothing about the file.
        let inside = entry
            .path()
            .strip_prefix(root)
            .ok()
            .map(|below| crate::text::repo_fs::normalise(&absolute_root.join(below)))
            .and_then(|path| path.strip_prefix(&top).ok().map(Path::to_path_buf));
        if let Some(kind) = classify_at(inside.as_deref().unwrap_or(entry.path()), entry.path()) {
            discovery.found.push(Found {
                path: entry.path().to_path_buf(),
                kind,
            });
        }
    }
    discovery.found.sort();
    let mut rules = rules
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    discovery.refused = std::mem::take(&mut rules.refused);
    Ok(discovery)
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
            // Issue 17: the names Renovate and Dependabot find by default.
            ("test-requirements.txt", Some(ManifestKind::Requirements)),
            ("dev-requirements.txt", Some(ManifestKind::Requirements)),
            ("build_requirements.txt", Some(ManifestKind::Requirements)),
            (
                "custom-requirements-py3.txt",
                Some(ManifestKind::Requirements),
            ),
            ("upper-constraints.txt", Some(ManifestKind::Requirements)),
            (
                "requirements/extras/sqs.txt",
                Some(ManifestKind::Requirements),
            ),
            ("a/requirements/b/c/d.txt", Some(ManifestKind::Requirements)),
            ("Dockerfile-api", Some(ManifestKind::Dockerfile)),
            ("Dockerfile_worker", Some(ManifestKind::Dockerfile)),
            ("Dockerfile-python3.11", Some(ManifestKind::Dockerfile)),
            ("build/app.Containerfile", Some(ManifestKind::Dockerfile)),
            ("Containerfile-dev", Some(ManifestKind::Dockerfile)),
            // And what must stay out.
            ("requirements.md", None),
            ("requirements-notes.md", None),
            ("not_requirements.py", None),
            ("notrequirements.txt", None),
            ("requirementsfile.py", None),
            ("requirements/README.md", None),
            ("requirements/index.rst", None),
            ("docs/requirements.rst", None),
            ("Dockerfile-README.md", None),
            ("Dockerfile_notes.txt", None),
            ("dockerfile_parser.py", None),
            ("dockerfile-lint.yml", None),
            ("Dockerfiles", None),
            ("Dockerfile.", None),
            ("app.Containerfile.bak", None),
            ("containerfile.go", None),
            ("MANIFEST.in", None),
            ("setup.cfg", None),
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
        // Poetry's own lock, never pip's format.
        assert_eq!(classify(&poetry), Some(ManifestKind::PoetryLock));
        // Pipenv's lock is JSON, never pip's format: read as what it is.
        assert_eq!(classify(&pipfile), Some(ManifestKind::PipfileLock));
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
        let repo = RepoRoot::new(root).unwrap();
        let discovery = discover(root, &repo).unwrap();
        assert!(discovery.refused.is_empty(), "{:?}", discovery.refused);
        let found = discovery.found;
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
            discover(&root.join("missing"), &repo),
            Err(DiscoverError::Unreadable { .. })
        ));
    }

    /// Issue 10: the `ignore` crate reads ignore files itself, blocking on a FIFO and reading
    /// `/dev/zero` forever. Such an ignore file is not applied, and reported; one that links to
    /// another file inside the repository is applied as usual.
    #[cfg(unix)]
    #[test]
    fn ignore_files_that_are_not_files_of_the_repository_are_not_applied() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |rel: &str, text: &str| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        write("requirements.txt", "flask==3.1.0\n");
        write("zero/requirements.txt", "a==1\n");
        std::os::unix::fs::symlink("/dev/zero", root.join("zero/.gitignore")).unwrap();
        write("pipe/requirements.txt", "a==1\n");
        let fifo = std::process::Command::new("mkfifo")
            .arg(root.join("pipe/.ignore"))
            .status()
            .unwrap();
        assert!(fifo.success());
        write("shared.gitignore", "build/\n");
        write("linked/requirements.txt", "b==1\n");
        write("linked/build/requirements.txt", "c==1\n");
        std::os::unix::fs::symlink("../shared.gitignore", root.join("linked/.gitignore")).unwrap();
        let repo = RepoRoot::new(root).unwrap();
        let discovery = discover(root, &repo).unwrap();
        let rel: Vec<_> = discovery
            .found
            .iter()
            .map(|f| {
                f.path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(
            rel,
            vec![
                "linked/requirements.txt",
                "pipe/requirements.txt",
                "requirements.txt",
                "zero/requirements.txt"
            ]
        );
        let mut refused: Vec<String> = discovery.refused.iter().map(ToString::to_string).collect();
        refused.sort();
        assert_eq!(refused.len(), 2, "{refused:?}");
        assert!(
            refused[0].contains("pipe/.ignore` is a FIFO"),
            "{}",
            refused[0]
        );
        assert!(
            refused[1].contains("zero/.gitignore` goes through the symbolic link"),
            "{}",
            refused[1]
        );

        // A parent's ignore file inside the repository applies to a walk below it.
        write(".gitignore", "linked/build/\n");
        std::fs::remove_file(root.join("linked/.gitignore")).unwrap();
        let discovery = discover(&root.join("linked"), &repo).unwrap();
        assert!(discovery.refused.is_empty(), "{:?}", discovery.refused);
        assert_eq!(discovery.found.len(), 1, "{:?}", discovery.found);
    }
}
