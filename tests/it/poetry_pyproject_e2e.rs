//! A Poetry project's `[tool.poetry]` dependency tables against a real pypiserver, with Poetry
//! itself as the oracle: Poetry locks the project from the local index, `repin check` shows
//! the updates of its caret, tilde, exact and group constraints, `repin apply` writes the
//! pyproject with the `poetry.lock` Poetry writes for it (never leaving it stale), and without
//! a lock `apply` rewrites the constraints in place, which Poetry then locks at the new
//! versions.

use crate::support;

use std::path::Path;

use serde_json::Value;
use support::pypiserver::{Meta, PypiServer, write_wheel_with};
use support::tools::Tools;

const RELEASES: &[(&str, &str)] = &[
    ("alpha", "1.0.0"),
    ("alpha", "1.1.0"),
    ("alpha", "2.0.0"),
    ("beta", "2.0.0"),
    ("beta", "2.1.0"),
    ("gamma", "1.0.0"),
    ("gamma", "1.1.0"),
    ("delta", "0.3.0"),
];

/// The project; `{index}` is the local index.
const PYPROJECT: &str = r#"[tool.poetry]
package-mode = false

[tool.poetry.dependencies]
python = "^3.11"
alpha = "^1.0"   # the caret allows 1.1, not 2.0
gamma = { version = "1.0.0" }
delta = '*'

[tool.poetry.group.dev.dependencies]
beta = "~2.0"

[[tool.poetry.source]]
name = "local"
url = "{index}"
priority = "primary"
"#;

fn project(index: &str) -> String {
    PYPROJECT.replace("{index}", index)
}

struct Setup {
    repo: tempfile::TempDir,
    tools: Tools,
    _packages: tempfile::TempDir,
    pypi: PypiServer,
}

fn setup() -> Setup {
    let packages = tempfile::tempdir().unwrap();
    for (name, version) in RELEASES {
        write_wheel_with(packages.path(), name, version, &Meta::default());
    }
    let pypi = PypiServer::start(packages.path());
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    std::fs::write(
        repo.path().join("pyproject.toml"),
        project(pypi.index_url().as_ref()),
    )
    .unwrap();
    std::fs::write(
        repo.path().join("repin.toml"),
        format!(
            "[python]\nversion = \"3.12\"\n\n[[indexes]]\nurl = \"{}\"\nprimary = true\n\n[advisories]\nsource = \"off\"\n",
            pypi.index_url()
        ),
    )
    .unwrap();
    Setup {
        repo,
        tools: Tools::new(),
        _packages: packages,
        pypi,
    }
}

impl Setup {
    /// `poetry lock` in `dir`, with the test's own Poetry cache, configuration and environments.
    fn poetry_lock(&self, dir: &Path) {
        self.tools
            .run("poetry", dir, &["lock", "--no-interaction"], &[]);
    }
}

fn repin(setup: &Setup, args: &[&str]) -> support::Said {
    support::repin_on(setup.repo.path(), args, &[])
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

fn pyproject_updates(report: &Value) -> Vec<String> {
    let mut updates: Vec<String> = report["updates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["file"].as_str().unwrap().ends_with("pyproject.toml"))
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
    updates
}

#[test]
fn a_poetry_projects_constraints_are_checked_and_the_lock_is_not_left_stale() {
    let setup = setup();
    let r = setup.repo.path();
    setup.poetry_lock(r);
    let lock = read(r, "poetry.lock");
    let pins = support::lock_oracles::tomllib_pins(&r.join("poetry.lock"), "package");
    assert_eq!(
        pins,
        ["alpha 1.1.0", "beta 2.0.0", "delta 0.3.0", "gamma 1.0.0"],
        "{lock}"
    );

    let (stdout, stderr, code) = repin(&setup, &["check", "--format", "json"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        pyproject_updates(&report),
        [
            "alpha ^1.0 -> ^2.0",
            "beta ~2.0 -> ~2.1",
            "gamma 1.0.0 -> 1.1.0"
        ],
        "{report:#}"
    );

    // extract places each dependency at its constraint.
    let home = tempfile::tempdir().unwrap();
    let out = support::repin(home.path(), &["extract", r.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("     6:10  alpha  ^1.0\n     7:22  gamma  1.0.0\n     8:10  delta  *\n     11:9  beta   ~2.0\n"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // apply: the pyproject is written with the lock Poetry writes for it (the three updates
    // re-locked as one), never alone. The oracle: `poetry lock` on a copy with the same edit.
    let expected = project(setup.pypi.index_url().as_ref())
        .replace("alpha = \"^1.0\"", "alpha = \"^2.0\"")
        .replace("version = \"1.0.0\"", "version = \"1.1.0\"")
        .replace("beta = \"~2.0\"", "beta = \"~2.1\"");
    let oracle = tempfile::tempdir().unwrap();
    std::fs::write(oracle.path().join("pyproject.toml"), &expected).unwrap();
    std::fs::write(oracle.path().join("poetry.lock"), &lock).unwrap();
    setup.poetry_lock(oracle.path());
    let (stdout, stderr, code) = repin(&setup, &["apply"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(read(r, "pyproject.toml"), expected);
    assert_eq!(read(r, "poetry.lock"), read(oracle.path(), "poetry.lock"));
    assert_eq!(
        support::lock_oracles::tomllib_pins(&r.join("poetry.lock"), "package"),
        ["alpha 2.0.0", "beta 2.1.0", "delta 0.3.0", "gamma 1.1.0"]
    );
}

#[test]
fn apply_rewrites_poetry_constraints_in_place_and_poetry_locks_the_new_versions() {
    let setup = setup();
    let r = setup.repo.path();
    let (stdout, stderr, code) = repin(&setup, &["apply"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let expected = project(setup.pypi.index_url().as_ref())
        .replace("alpha = \"^1.0\"", "alpha = \"^2.0\"")
        .replace("version = \"1.0.0\"", "version = \"1.1.0\"")
        .replace("beta = \"~2.0\"", "beta = \"~2.1\"");
    assert_eq!(read(r, "pyproject.toml"), expected);

    // Poetry reads the edited file and locks the new versions from the local index.
    setup.poetry_lock(r);
    assert_eq!(
        support::lock_oracles::tomllib_pins(&r.join("poetry.lock"), "package"),
        ["alpha 2.0.0", "beta 2.1.0", "delta 0.3.0", "gamma 1.1.0"]
    );
    // Applied again (with Poetry's lock beside, now current), nothing is due.
    let (stdout, stderr, code) = repin(&setup, &["check", "--format", "json"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        pyproject_updates(&report),
        Vec::<String>::new(),
        "{report:#}"
    );
}
