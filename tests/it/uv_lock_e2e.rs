//! `repin check`, `audit` and `apply` on a uv project against a real pypiserver: the project's
//! `uv.lock` is made by uv itself against the local index, read natively (every transitive
//! pin is listed and audited), and re-locked by uv as part of an update: an update of the
//! pyproject's requirement writes both files, a security fix of a transitive pin re-locks only
//! the lock. The oracle is uv: the written lock is consistent with the pyproject
//! (`uv lock --locked`) and installs (`uv sync --frozen`) from the local index.

use crate::support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::pypiserver::PypiServer;
use support::tools::{Tools, publish, read, repository};

const RELEASES: &[(&str, &str, &[&str])] = &[
    ("flask", "2.2.2", &["werkzeug>=2.2"]),
    ("flask", "3.0.3", &["werkzeug>=3.0"]),
    ("werkzeug", "2.2.3", &["markupsafe>=2.1"]),
    ("werkzeug", "3.0.1", &["markupsafe>=2.1"]),
    ("werkzeug", "3.0.6", &["markupsafe>=2.1"]),
    ("markupsafe", "2.1.3", &[]),
];

fn pyproject(index: &str, flask: &str) -> String {
    format!(
        r#"[project]
name = "shop"   # the service
version = "0.1.0"
requires-python = ">=3.8"
dependencies = [
    "flask=={flask}",  # web
]

[[tool.uv.index]]
name = "local"
url = "{index}"
default = true
"#
    )
}

struct Setup {
    repo: tempfile::TempDir,
    _packages: tempfile::TempDir,
    /// uv's cache and home of the test's own.
    tools: Tools,
    pypi: PypiServer,
}

/// uv from PATH, in the project, with a cache of the test's own.
fn uv(setup: &Setup, args: &[&str]) -> std::process::Output {
    setup.tools.output("uv", setup.repo.path(), args, &[])
}

fn uv_ok(setup: &Setup, args: &[&str]) {
    let out = uv(setup, args);
    assert!(
        out.status.success(),
        "uv {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The project, locked by uv with werkzeug held at 3.0.1 (a release with an advisory).
fn setup() -> Setup {
    let packages = tempfile::tempdir().unwrap();
    publish(packages.path(), RELEASES);
    let pypi = PypiServer::start(packages.path());
    let index = pypi.index_url().to_string();
    let repo = repository("pyproject.toml", &pyproject(&index, "2.2.2"), &index);
    let setup = Setup {
        repo,
        _packages: packages,
        tools: Tools::new(),
        pypi,
    };
    uv_ok(
        &setup,
        &[
            "lock",
            "--no-python-downloads",
            "--upgrade-package",
            "werkzeug==3.0.1",
        ],
    );
    setup
}

fn repin(setup: &Setup, args: &[&str], path: Option<&std::ffi::OsStr>) -> support::Said {
    let index = setup.pypi.index_url().to_string();
    let cache = setup.tools.dir().join("uv-cache");
    let mut env = vec![
        ("PIP_INDEX_URL", std::ffi::OsStr::new(&index)),
        ("UV_CACHE_DIR", cache.as_os_str()),
    ];
    if let Some(path) = path {
        env.push(("PATH", path));
    }
    support::repin_on(setup.repo.path(), args, &env)
}

/// `name version` of every package of a uv.lock, as uv itself wrote them.
fn locked(lock: &str) -> Vec<String> {
    support::lock_oracles::toml_pins(lock, "package")
}

/// The lock is consistent with the pyproject, and installs from the local index.
fn assert_uv_accepts(setup: &Setup) {
    uv_ok(setup, &["lock", "--locked", "--no-python-downloads"]);
    let venv = tempfile::tempdir().unwrap();
    let env = venv.path().join("env");
    let out = setup.tools.output(
        "uv",
        setup.repo.path(),
        &["sync", "--frozen", "--no-python-downloads"],
        &[("UV_PROJECT_ENVIRONMENT", env.to_str().unwrap())],
    );
    assert!(
        out.status.success(),
        "uv sync --frozen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn check_lists_transitive_pins_and_apply_relocks_with_the_update() {
    let setup = setup();
    let before = read(setup.repo.path(), "uv.lock");
    assert_eq!(
        locked(&before),
        [
            "flask 2.2.2",
            "markupsafe 2.1.3",
            "shop 0.1.0",
            "werkzeug 3.0.1"
        ]
    );
    let (stdout, stderr, code) = repin(&setup, &["check", "--format", "json"], None);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let updates: Vec<String> = report["updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            format!(
                "{} {} {} -> {}",
                u["file"].as_str().unwrap_or_default(),
                u["name"].as_str().unwrap(),
                u["current"].as_str().unwrap(),
                u["proposed"].as_str().unwrap()
            )
        })
        .collect();
    // Only the pyproject's requirement is an update; the lock's newer werkzeug is not.
    assert_eq!(updates.len(), 1, "{report:#}");
    assert!(updates[0].ends_with("flask 2.2.2 -> 3.0.3"), "{updates:?}");
    let reason = report["updates"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("uv.lock with it: flask 2.2.2 → 3.0.3"),
        "{report:#}"
    );
    assert!(
        report["updates"][0]["companions"][0]["file"]
            .as_str()
            .unwrap()
            .ends_with("uv.lock"),
        "{report:#}"
    );
    // The lock's pins are listed at their locked versions; their newer releases are not
    // updates of their own (they move with a re-lock).
    let held: Vec<String> = report["held_back"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["file"].as_str().unwrap().ends_with("uv.lock"))
        .map(|h| {
            format!(
                "{} {}",
                h["name"].as_str().unwrap(),
                h["current"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(held, ["flask 2.2.2", "werkzeug 3.0.1"], "{report:#}");
    assert_eq!(report["skipped"][0]["name"], "shop", "{report:#}");

    let (stdout, stderr, code) = repin(&setup, &["apply"], None);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let index = setup.pypi.index_url().to_string();
    assert_eq!(
        read(setup.repo.path(), "pyproject.toml"),
        pyproject(&index, "3.0.3")
    );
    let after = read(setup.repo.path(), "uv.lock");
    assert_eq!(
        locked(&after),
        [
            "flask 3.0.3",
            "markupsafe 2.1.3",
            "shop 0.1.0",
            "werkzeug 3.0.1"
        ],
        "uv moves only what the update needs"
    );
    assert_uv_accepts(&setup);
    // Applied again, nothing is due and nothing changes.
    let (stdout, stderr, code) = repin(&setup, &["apply"], None);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(read(setup.repo.path(), "uv.lock"), after);
}

fn advisory(dir: &Path) {
    let path = dir.join("vulns").join("werkzeug");
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(
        path.join("PYSEC-2030-7.yaml"),
        "id: PYSEC-2030-7\nsummary: Debugger pin bypass\naffected:\n- package:\n    ecosystem: PyPI\n    name: werkzeug\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: '0'\n    - fixed: 3.0.6\n",
    )
    .unwrap();
}

#[test]
fn a_vulnerable_transitive_pin_is_audited_and_fixed_by_a_relock_alone() {
    let setup = setup();
    let db = tempfile::tempdir().unwrap();
    advisory(db.path());
    let db_path = db.path().to_str().unwrap();
    let (stdout, stderr, code) = repin(
        &setup,
        &["audit", "--format", "json", "--advisory-db", db_path],
        None,
    );
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let vulns: Vec<String> = report["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            format!(
                "{} {} {} {}",
                v["file"].as_str().unwrap().rsplit('/').next().unwrap(),
                v["name"].as_str().unwrap(),
                v["version"].as_str().unwrap(),
                v["fix_version"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(vulns, ["uv.lock werkzeug 3.0.1 3.0.6"], "{report:#}");

    let pyproject_before = read(setup.repo.path(), "pyproject.toml");
    let (stdout, stderr, code) = repin(
        &setup,
        &["apply", "--only", "werkzeug", "--advisory-db", db_path],
        None,
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(read(setup.repo.path(), "pyproject.toml"), pyproject_before);
    assert_eq!(
        locked(&read(setup.repo.path(), "uv.lock")),
        [
            "flask 2.2.2",
            "markupsafe 2.1.3",
            "shop 0.1.0",
            "werkzeug 3.0.6"
        ]
    );
    assert_uv_accepts(&setup);
}

#[test]
fn without_uv_the_update_is_held_back_with_the_command_to_run() {
    let setup = setup();
    let lock = read(setup.repo.path(), "uv.lock");
    // A PATH with everything but uv.
    let bin = tempfile::tempdir().unwrap();
    let path = std::ffi::OsString::from(format!("{}:/usr/bin:/bin", bin.path().display()));
    assert!(
        Command::new("uv")
            .env("PATH", &path)
            .arg("--version")
            .output()
            .is_err(),
        "uv is in /usr/bin or /bin: this test needs a PATH without it"
    );
    let (stdout, stderr, code) = repin(&setup, &["check"], Some(&path));
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains("uv.lock cannot be re-locked with it: `uv` is not on PATH"),
        "{all}"
    );
    assert!(all.contains("hint: install uv (`pip install uv`)"), "{all}");
    assert!(
        all.contains("run `uv lock --upgrade-package 'flask'` in"),
        "{all}"
    );
    let (stdout, stderr, code) = repin(&setup, &["apply"], Some(&path));
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains("pyproject.toml: `flask` 3.0.3 is held back:")
            && all.contains("`uv` is not on PATH"),
        "{all}"
    );
    let index = setup.pypi.index_url().to_string();
    assert_eq!(
        read(setup.repo.path(), "pyproject.toml"),
        pyproject(&index, "2.2.2"),
        "{stdout}{stderr}"
    );
    assert_eq!(read(setup.repo.path(), "uv.lock"), lock);
}
