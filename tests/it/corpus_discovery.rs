//! Discovery over the real-world corpus: every requirements file and Dockerfile of the corpus,
//! laid out under its path in its own repository, is found with the right kind; the corpus's
//! other files (OSV records, tag lists) and names that only look like manifests are not.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::support;

use repin::manifest::ManifestKind;
use repin::manifest::discover::discover;
use repin::text::repo_fs::RepoRoot;

/// Names that must never be taken for manifests, whatever directory they are in.
const DECOYS: &[&str] = &[
    "requirements.md",
    "requirements-notes.md",
    "not_requirements.py",
    "notrequirements.txt",
    "requirementsfile.py",
    "MANIFEST.in",
    "config.h.in",
    "setup.cfg",
    "README.md",
    "docs/requirements.rst",
    "docs/index.txt",
    "requirements/README.md",
    "Dockerfile.md",
    "Dockerfile-README.md",
    "Dockerfile_notes.txt",
    "Dockerfile.dockerignore",
    "dockerfile_parser.py",
    "dockerfile-lint.yml",
    "docker-compose.yml",
    "app.Containerfile.bak",
    "poetry.lock.bak",
    "pylock.a.b.toml",
    "my-pylock.toml",
];

#[test]
fn discovery_finds_every_corpus_manifest_by_its_repository_path_and_nothing_else() {
    let corpus = support::corpus();
    let table = std::fs::read_to_string(corpus.join("MANIFEST.tsv")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // Each corpus file goes to `<row>/<its path in its repository>`: the layout discovery sees
    // in a checkout, one directory per row so that files of the same path do not collide.
    let mut expected: BTreeMap<PathBuf, ManifestKind> = BTreeMap::new();
    let mut others = 0;
    for (row, line) in table.lines().skip(1).enumerate() {
        let fields: Vec<&str> = line.split('\t').collect();
        let (local, in_repo) = (fields[0], fields[2]);
        let at = PathBuf::from(row.to_string()).join(in_repo);
        std::fs::create_dir_all(root.join(&at).parent().unwrap()).unwrap();
        std::fs::write(root.join(&at), std::fs::read(corpus.join(local)).unwrap()).unwrap();
        match local.split('/').next() {
            Some("requirements") => expected.insert(at, ManifestKind::Requirements),
            Some("dockerfiles") => expected.insert(at, ManifestKind::Dockerfile),
            _ => {
                others += 1;
                None
            }
        };
    }
    assert!(
        expected.len() >= 110 && others >= 280,
        "expected the whole corpus, found {} manifests and {others} other files",
        expected.len()
    );
    for decoy in DECOYS {
        let at = root.join("decoys").join(decoy);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        // TOML locks by other names: neither a lock of theirs nor a requirements file.
        std::fs::write(at, "[[package]]\nname = \"flask\"\nversion = \"3.1.0\"\n").unwrap();
    }
    // A `poetry.lock` is TOML: it is found as Poetry's lock, never sniffed as pip's format.
    std::fs::write(
        root.join("decoys").join("poetry.lock"),
        "[[package]]\nname = \"flask\"\nversion = \"3.1.0\"\n",
    )
    .unwrap();
    expected.insert(
        PathBuf::from("decoys/poetry.lock"),
        ManifestKind::PoetryLock,
    );

    let repo = RepoRoot::new(root).unwrap();
    let found: BTreeMap<PathBuf, ManifestKind> = discover(root, &repo)
        .unwrap()
        .found
        .into_iter()
        .map(|f| (f.path.strip_prefix(root).unwrap().to_path_buf(), f.kind))
        .collect();
    let wrong: Vec<String> = found
        .iter()
        .filter(|(path, kind)| expected.get(*path) != Some(kind))
        .map(|(path, kind)| format!("{} as {}", path.display(), kind.as_str()))
        .collect();
    assert!(
        wrong.is_empty(),
        "found but not a manifest of that kind: {wrong:#?}"
    );
    let missed: Vec<String> = expected
        .keys()
        .filter(|path| !found.contains_key(*path))
        .map(|path| path.display().to_string())
        .collect();
    // pip's own test fixture is a requirements file by content only: neither Renovate nor
    // Dependabot finds a file of that name, and neither does repin unless it is named.
    assert_eq!(
        missed
            .iter()
            .map(|p| p.split_once('/').unwrap().1)
            .collect::<Vec<_>>(),
        vec!["tests/data/reqfiles/supported_options2.txt"],
        "corpus manifests not found"
    );
}
