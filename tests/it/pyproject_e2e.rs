//! `repin check` and `apply` on a `pyproject.toml` against a real pypiserver: pins and ranges
//! of `[project]`, `[dependency-groups]`, `[build-system]` and `[tool.uv]` move like the
//! requirements files' do, every other byte stays as written, and a manifest with a tool lock
//! beside it (`uv.lock` uv cannot re-lock, `poetry.lock`) is not written alone.

use crate::support;

use std::path::Path;

use serde_json::Value;
use support::pypiserver::{Meta, PypiServer, write_wheel_with};

const RELEASES: &[(&str, &str)] = &[
    ("flask", "2.2.2"),
    ("flask", "3.0.3"),
    ("requests", "2.31.0"),
    ("requests", "2.32.3"),
    ("ruff", "0.4.4"),
    ("ruff", "0.5.0"),
    ("hatchling", "1.24.0"),
    ("hatchling", "1.25.0"),
    ("mypy", "1.10.0"),
    ("mypy", "1.11.0"),
];

const PYPROJECT: &str = r#"[project]
name = "service"   # the service
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [
    "flask==2.2.2",  # web
    'requests>=2.31,<2.32',
    "local-lib",
]

[dependency-groups]
lint = [ "ruff==0.4.4" ]
dev = [{ include-group = "lint" }]

[build-system]
requires = ["hatchling>=1.24"]
build-backend = "hatchling.build"

[tool.uv]
dev-dependencies = ["mypy==1.10.0"]

[tool.uv.sources]
local-lib = { path = "../local-lib" }
"#;

/// The same file after `apply`: each value changed inside its string, nothing else.
const APPLIED: &str = r#"[project]
name = "service"   # the service
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [
    "flask==3.0.3",  # web
    'requests>=2.32.3,<2.33',
    "local-lib",
]

[dependency-groups]
lint = [ "ruff==0.5.0" ]
dev = [{ include-group = "lint" }]

[build-system]
requires = ["hatchling>=1.24"]
build-backend = "hatchling.build"

[tool.uv]
dev-dependencies = ["mypy==1.11.0"]

[tool.uv.sources]
local-lib = { path = "../local-lib" }
"#;

struct Setup {
    repo: tempfile::TempDir,
    _packages: tempfile::TempDir,
    pypi: PypiServer,
}

fn setup() -> Setup {
    let packages = tempfile::tempdir().unwrap();
    for (name, version) in RELEASES {
        let meta = Meta {
            requires_python: Some(">=3.8"),
            ..Meta::default()
        };
        write_wheel_with(packages.path(), name, version, &meta);
    }
    let pypi = PypiServer::start(packages.path());
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("pyproject.toml"), PYPROJECT).unwrap();
    std::fs::write(
        repo.path().join("repin.toml"),
        "[advisories]\nsource = \"off\"\n",
    )
    .unwrap();
    Setup {
        repo,
        _packages: packages,
        pypi,
    }
}

fn repin(setup: &Setup, args: &[&str]) -> support::Said {
    let index = setup.pypi.index_url().to_string();
    let env = [("PIP_INDEX_URL", std::ffi::OsStr::new(&index))];
    support::repin_on(setup.repo.path(), args, &env)
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

#[test]
fn check_proposes_and_apply_writes_pyproject_updates_in_place() {
    let setup = setup();
    let (stdout, stderr, code) = repin(&setup, &["check", "--format", "json"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let mut updates: Vec<String> = report["updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            format!(
                "{} {} -> {}",
                u["name"].as_str().unwrap(),
                u["current"].as_str().unwrap(),
                u["proposed"].as_str().unwrap()
            )
        })
        .collect();
    updates.sort();
    assert_eq!(
        updates,
        [
            "flask 2.2.2 -> 3.0.3",
            "mypy 1.10.0 -> 1.11.0",
            "requests >=2.31,<2.32 -> >=2.32.3,<2.33",
            "ruff 0.4.4 -> 0.5.0",
        ],
        "{report:#}"
    );

    let (stdout, stderr, code) = repin(&setup, &["apply"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(read(setup.repo.path(), "pyproject.toml"), APPLIED);
    // Applied again, nothing is due and nothing changes.
    let (stdout, stderr, code) = repin(&setup, &["apply"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(read(setup.repo.path(), "pyproject.toml"), APPLIED);
}

#[test]
fn a_pyproject_whose_uv_lock_uv_cannot_relock_is_not_written_alone() {
    let setup = setup();
    // uv cannot lock this project (its `local-lib` path source is not there): the update is
    // held back, saying why and what to run.
    let lock = "version = 1\nrequires-python = \">=3.11\"\n";
    std::fs::write(setup.repo.path().join("uv.lock"), lock).unwrap();
    let (stdout, stderr, code) = repin(&setup, &["apply"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(read(setup.repo.path(), "pyproject.toml"), PYPROJECT);
    assert_eq!(read(setup.repo.path(), "uv.lock"), lock);
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains("pyproject.toml: `flask` 3.0.3 is held back:")
            && all.contains("uv.lock cannot be re-locked with it: `uv lock --no-build ")
            && all.contains("` failed (exit status: "),
        "{all}"
    );
    assert!(
        all.contains("hint: make the change, then run `uv lock --upgrade-package 'flask'` in"),
        "{all}"
    );
}

#[test]
fn a_pyproject_with_poetry_lock_beside_is_not_written_alone() {
    let setup = setup();
    // Poetry cannot re-lock this lock (its `local-lib` path dependency is not there, and the
    // lock is no lock Poetry wrote): the update is held back, saying why and what to run.
    let lock = "[metadata]\ncontent-hash = \"0\"\n";
    std::fs::write(setup.repo.path().join("poetry.lock"), lock).unwrap();
    let (stdout, stderr, code) = repin(&setup, &["apply"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(read(setup.repo.path(), "pyproject.toml"), PYPROJECT);
    assert_eq!(read(setup.repo.path(), "poetry.lock"), lock);
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains("pyproject.toml: `flask` 3.0.3 is held back:")
            && all.contains("poetry.lock cannot be re-locked with it:"),
        "{all}"
    );
    assert!(
        all.contains("hint: make the change, then run `poetry lock` in"),
        "{all}"
    );
}
