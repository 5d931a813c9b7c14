//! `repin check` and `apply` on compiled locks whose `.in` is in the repository: an update of
//! a pin is a re-lock (kind `lock`), never a line edit, and the file written is the one the
//! lock's own tool writes for the same update. The oracles are pip-compile (PyPI package
//! `pip-tools`) and `uv pip compile` (PyPI package `uv`), run on the same repository against
//! the same local pypiserver: their output for `--upgrade-package flask==2.3.3` must equal
//! repin's byte for byte.
//!
//! The update is the one the demo held back before ("flask 2.3.3 does not fit the rest of
//! this lock ... re-lock instead"): flask 2.3.3 needs Werkzeug 2.3.7 and blinker, which the lock
//! does not have, so the re-lock moves Werkzeug too and adds blinker.

use crate::support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::pypiserver::{Meta, PypiServer, write_wheel_with};

/// The releases the lock is first made from.
const OLD: &[(&str, &str, &[&str])] = &[
    (
        "flask",
        "2.2.2",
        &[
            "Werkzeug>=2.2.2",
            "Jinja2>=3.0",
            "itsdangerous>=2.0",
            "click>=8.0",
        ],
    ),
    ("werkzeug", "2.2.3", &["MarkupSafe>=2.1.1"]),
    ("jinja2", "3.1.2", &["MarkupSafe>=2.0"]),
    ("markupsafe", "2.1.3", &[]),
    ("itsdangerous", "2.1.2", &[]),
    ("click", "8.1.7", &[]),
    ("gunicorn", "21.2.0", &["packaging", "setuptools>=3.0"]),
    ("packaging", "23.2", &[]),
    ("setuptools", "69.0.2", &[]),
];

/// Released since.
const NEW: &[(&str, &str, &[&str])] = &[
    (
        "flask",
        "2.3.3",
        &[
            "Werkzeug>=2.3.7",
            "Jinja2>=3.1.2",
            "itsdangerous>=2.1.2",
            "click>=8.1.3",
            "blinker>=1.6.2",
        ],
    ),
    ("werkzeug", "2.3.8", &["MarkupSafe>=2.1.1"]),
    ("blinker", "1.7.0", &[]),
];

fn publish(dir: &Path, releases: &[(&str, &str, &[&str])]) {
    for (name, version, requires) in releases {
        let meta = Meta {
            requires_python: Some(">=3.8"),
            requires_dist: requires,
            ..Meta::default()
        };
        write_wheel_with(dir, name, version, &meta);
    }
}

/// A Python tool of `.venv` on PATH, or fail saying how to install it: the comparison must not
/// pass unrun.
fn tool(name: &str) -> &str {
    let found = Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "`{name}`, an oracle of the re-lock tests, is not on PATH: run `scripts/test --setup-only` \
         (it installs scripts/python-requirements.txt into .venv) and put .venv/bin on PATH"
    );
    name
}

/// Run an oracle in `dir` against `index`; its stderr on failure.
fn oracle(dir: &Path, index: &str, program: &str, args: &[&str]) {
    let out = Command::new(tool(program))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env("PIP_INDEX_URL", index)
        .env("UV_INDEX_URL", index)
        .env("UV_NO_CONFIG", "1")
        .env("UV_CACHE_DIR", dir.join(".uv-cache"))
        .env("PIP_NO_CACHE_DIR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Copy the repository's files (not directories) to a new directory.
fn copy(from: &Path) -> tempfile::TempDir {
    let to = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, to.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    to
}

/// A repository with `requirements.in` locked by `lock` (an oracle's arguments) against an
/// index of the old releases, and an index of the old and new ones to update against.
struct Setup {
    repo: tempfile::TempDir,
    _packages: tempfile::TempDir,
    pypi: PypiServer,
}

fn setup(program: &str, lock: &[&str]) -> Setup {
    let old = tempfile::tempdir().unwrap();
    publish(old.path(), OLD);
    let old_pypi = PypiServer::start(old.path());
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("requirements.in"), "flask\ngunicorn\n").unwrap();
    std::fs::write(
        repo.path().join("repin.toml"),
        "[advisories]\nsource = \"off\"\n",
    )
    .unwrap();
    oracle(repo.path(), old_pypi.index_url().as_str(), program, lock);
    let packages = tempfile::tempdir().unwrap();
    publish(packages.path(), OLD);
    publish(packages.path(), NEW);
    let pypi = PypiServer::start(packages.path());
    Setup {
        repo,
        _packages: packages,
        pypi,
    }
}

fn repin(setup: &Setup, args: &[&str]) -> (String, String, Option<i32>) {
    let home = tempfile::tempdir().unwrap();
    let index = setup.pypi.index_url().to_string();
    let env = [("PIP_INDEX_URL", std::ffi::OsStr::new(&index))];
    let mut all: Vec<&str> = args.to_vec();
    all.push("--no-cache");
    all.push(setup.repo.path().to_str().unwrap());
    let out = support::repin_with_env(home.path(), &all, &env);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

/// `check` proposes the re-lock with every moved pin, and `apply` writes what the oracle
/// writes for the same update (`oracle_upgrade`: its arguments for it).
fn relock_matches(setup: &Setup, program: &str, oracle_upgrade: &[&str]) {
    let (stdout, stderr, code) = repin(setup, &["check", "--format", "json"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let flask = report["updates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "flask")
        .unwrap_or_else(|| panic!("no flask update: {report:#}"));
    assert_eq!(flask["kind"], "lock", "{report:#}");
    assert_eq!(flask["proposed"], "2.3.3");
    let moved: Vec<String> = flask["moved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{} {} -> {}: {}",
                m["name"].as_str().unwrap(),
                m["from"].as_str().unwrap_or("(new)"),
                m["to"].as_str().unwrap_or("(gone)"),
                m["why"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        moved,
        [
            "blinker (new) -> 1.7.0: now required by flask 2.3.3",
            "flask 2.2.2 -> 2.3.3: minor update",
            "werkzeug 2.2.3 -> 2.3.8: to fit flask 2.3.3",
        ],
        "{report:#}"
    );
    // No update of the lock is a line edit: werkzeug's own update is a re-lock too.
    for update in report["updates"].as_array().unwrap() {
        assert_eq!(update["kind"], "lock", "{update:#}");
    }
    assert!(
        !stdout.contains("re-lock instead"),
        "nothing is held back for a re-lock: {report:#}"
    );

    let expected = copy(setup.repo.path());
    oracle(
        expected.path(),
        setup.pypi.index_url().as_str(),
        program,
        oracle_upgrade,
    );
    let (stdout, stderr, code) = repin(setup, &["apply", "--only", "flask"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let ours = std::fs::read_to_string(setup.repo.path().join("requirements.txt")).unwrap();
    let theirs = std::fs::read_to_string(expected.path().join("requirements.txt")).unwrap();
    if ours != theirs {
        let diff = similar::TextDiff::from_lines(&theirs, &ours)
            .unified_diff()
            .header(program, "repin")
            .to_string();
        panic!("repin's re-lock differs from {program}'s:\n{diff}");
    }
    assert!(ours.contains("blinker==1.7.0"), "{ours}");
}

#[test]
fn a_pip_compile_lock_is_relocked_as_pip_compile_relocks_it() {
    let lock = [
        "--generate-hashes",
        "--allow-unsafe",
        "--no-emit-index-url",
        "--output-file=requirements.txt",
        "requirements.in",
    ];
    let setup = setup("pip-compile", &lock);
    let mut upgrade = lock.to_vec();
    upgrade.extend(["--upgrade-package", "flask==2.3.3"]);
    relock_matches(&setup, "pip-compile", &upgrade);
}

#[test]
fn a_pip_compile_lock_without_unsafe_packages_keeps_its_trailer() {
    let lock = [
        "--generate-hashes",
        "--no-emit-index-url",
        "--annotation-style=line",
        "--output-file=requirements.txt",
        "requirements.in",
    ];
    let setup = setup("pip-compile", &lock);
    let text = std::fs::read_to_string(setup.repo.path().join("requirements.txt")).unwrap();
    assert!(text.contains("# setuptools"), "{text}");
    let mut upgrade = lock.to_vec();
    upgrade.extend(["--upgrade-package", "flask==2.3.3"]);
    relock_matches(&setup, "pip-compile", &upgrade);
}

#[test]
fn a_uv_lock_is_relocked_as_uv_relocks_it() {
    let lock = [
        "pip",
        "compile",
        "requirements.in",
        "--generate-hashes",
        "--python-version",
        "3.11",
        "-o",
        "requirements.txt",
    ];
    let setup = setup("uv", &lock);
    let mut upgrade = lock.to_vec();
    upgrade.extend(["--upgrade-package", "flask==2.3.3"]);
    relock_matches(&setup, "uv", &upgrade);
}

#[test]
fn apply_takes_every_relock_of_a_file_as_one() {
    let lock = [
        "--generate-hashes",
        "--no-emit-index-url",
        "--output-file=requirements.txt",
        "requirements.in",
    ];
    let setup = setup("pip-compile", &lock);
    let expected = copy(setup.repo.path());
    let mut upgrade = lock.to_vec();
    upgrade.extend([
        "--upgrade-package",
        "flask==2.3.3",
        "--upgrade-package",
        "werkzeug==2.3.8",
    ]);
    oracle(
        expected.path(),
        setup.pypi.index_url().as_str(),
        "pip-compile",
        &upgrade,
    );
    let (stdout, stderr, code) = repin(&setup, &["apply"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("werkzeug 2.2.3 → 2.3.8 (lock)"), "{stdout}");
    assert!(stdout.contains("flask 2.2.2 → 2.3.3 (lock)"), "{stdout}");
    let ours = std::fs::read_to_string(setup.repo.path().join("requirements.txt")).unwrap();
    let theirs = std::fs::read_to_string(expected.path().join("requirements.txt")).unwrap();
    assert_eq!(ours, theirs);
    // Nothing is due after it.
    let (stdout, stderr, _) = repin(&setup, &["check", "--format", "json"]);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("{stderr}"));
    assert_eq!(report["updates"], Value::Array(Vec::new()), "{report:#}");
}
