//! A Pipenv project against a real pypiserver: its `Pipfile.lock` is written by Pipenv itself
//! (`pipenv lock` from the local index), then `repin extract` lists every pin of both files,
//! `check` shows the Pipfile's updates and holds the lock's for Pipenv, `apply` writes the
//! Pipfile with the lock Pipenv re-locks for it and, without a lock, edits the Pipfile
//! losslessly, and `audit` finds an advisory on a transitive pin of the lock. The oracles: Pipenv writes the lock and re-locks
//! the edited Pipfile (so it accepts the edit), Python's `json` reads the lock's pins
//! independently of repin.

use crate::support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::pypiserver::PypiServer;
use support::tools::{Tools, publish, repository};

const PIPFILE: &str = r#"# The shop's dependencies.
[[source]]
url = "{index}"
verify_ssl = false   # pypiserver on loopback speaks plain HTTP
name = "local"

[packages]
flask = "==2.2.2"        # web
click = "*"
"Werkzeug" = {version = ">=3.0", markers = "python_version >= '3.8'"}

[dev-packages]
pytest = {version = "==7.4.0"}

[requires]
python_version = "3.11"
"#;

/// The releases when the project is locked, and those published after.
const LOCKED: &[(&str, &str, &[&str])] = &[
    ("flask", "2.2.2", &["werkzeug>=2.2", "itsdangerous>=2.0"]),
    ("werkzeug", "3.0.1", &[]),
    ("itsdangerous", "2.1.2", &[]),
    ("click", "8.1.7", &[]),
    ("pytest", "7.4.0", &[]),
];
const LATER: &[(&str, &str, &[&str])] = &[
    ("flask", "3.0.3", &["werkzeug>=3.0", "itsdangerous>=2.0"]),
    ("werkzeug", "3.0.6", &[]),
    ("itsdangerous", "2.2.0", &[]),
    ("pytest", "7.4.4", &[]),
];

struct Setup {
    repo: tempfile::TempDir,
    packages: tempfile::TempDir,
    /// Pipenv's caches and environments, and repin's home.
    tools: Tools,
    pypi: PypiServer,
}

/// `pipenv lock` in `dir`, its virtualenv and caches in the test's scratch directory, with only
/// the local index (a name of PyPI's is mirrored to it); it must succeed.
fn pipenv_lock(setup: &Setup, dir: &Path) {
    let python = support::pypiserver::python();
    let mirror = setup.pypi.index_url().to_string();
    setup.tools.run(
        "pipenv",
        dir,
        &["lock", "--python", &python],
        &[("PIPENV_PYPI_MIRROR", &mirror)],
    );
}

/// The project, locked by Pipenv, then newer releases published.
fn setup() -> Setup {
    let packages = tempfile::tempdir().unwrap();
    publish(packages.path(), LOCKED);
    let pypi = PypiServer::start(packages.path());
    let repo = repository("Pipfile", PIPFILE, pypi.index_url().as_str());
    let setup = Setup {
        repo,
        packages,
        tools: Tools::new(),
        pypi,
    };
    pipenv_lock(&setup, setup.repo.path());
    publish(setup.packages.path(), LATER);
    setup
}

fn repin(args: &[&str], dir: &Path) -> (String, String, Option<i32>) {
    let home = tempfile::tempdir().unwrap();
    let mut all: Vec<&str> = args.to_vec();
    all.push(dir.to_str().unwrap());
    let out = support::repin(home.path(), &all);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

/// The `name version` pins of every category of a `Pipfile.lock`, as Python's `json` reads
/// them, sorted.
fn json_pins(lock: &Path) -> Vec<String> {
    support::lock_oracles::python_lines(
        "import json, sys; d = json.load(open(sys.argv[1])); print('\\n'.join(sorted(n + ' ' + p['version'].lstrip('=') for c, ps in d.items() if c != '_meta' for n, p in ps.items())))",
        &[lock.as_os_str()],
    )
}

#[test]
fn a_pipenv_project_is_extracted_checked_held_for_pipenv_and_audited() {
    let setup = setup();
    let r = setup.repo.path();
    let lock = std::fs::read_to_string(r.join("Pipfile.lock")).unwrap();
    let pipfile = std::fs::read_to_string(r.join("Pipfile")).unwrap();

    // extract: every pin of the lock, as Python's json reads them, and the Pipfile's entries.
    let expected = json_pins(&r.join("Pipfile.lock"));
    assert_eq!(
        expected,
        [
            "click 8.1.7",
            "flask 2.2.2",
            "itsdangerous 2.1.2",
            "pytest 7.4.0",
            "werkzeug 3.0.1"
        ],
        "{lock}"
    );
    let (stdout, stderr, code) = repin(&["extract", "--format", "json"], r);
    assert_eq!(code, Some(0), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        support::lock_oracles::extracted_pins(&report, "Pipfile.lock", "pipfile-lock"),
        expected
    );
    let file = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("Pipfile"))
        .unwrap();
    assert_eq!(file["kind"], "pipfile");
    let entries: Vec<String> = file["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{} {} {}:{}",
                d["name"].as_str().unwrap(),
                d["current"].as_str().unwrap(),
                d["line"],
                d["column"]
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            "flask 2.2.2 8:12",
            "click  9:1",
            "werkzeug >=3.0 10:26",
            "pytest 7.4.0 13:24"
        ],
        "{file:#}"
    );
    let (stdout, _, _) = repin(&["extract"], r);
    // The README's example: the same, run in the project.
    let out = Command::new(env!("CARGO_BIN_EXE_repin"))
        .args(["extract", "."])
        .current_dir(r)
        .env_clear()
        .env("HOME", setup.tools.dir())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PIP_CONFIG_FILE", "/dev/null")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    support::readme::check(&[(
        "extract-pipfile",
        format!(
            "$ repin extract .\n{}",
            String::from_utf8_lossy(&out.stdout)
        ),
    )]);
    assert!(
        stdout.contains(&format!(
            "{0}/Pipfile (pipfile, 4 dependencies; Python 3.11 (linux/amd64) from {0}/Pipfile:16)",
            r.display()
        )),
        "{stdout}"
    );

    // check: the Pipfile's pins are due; the lock's are held for Pipenv.
    let (stdout, stderr, code) = repin(&["check", "--no-cache", "--format", "json"], r);
    assert_eq!(code, Some(0), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["errors"], serde_json::json!([]), "{report:#}");
    let mut updates: Vec<String> = report["updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            format!(
                "{} {} {} {}",
                u["file"].as_str().unwrap().rsplit('/').next().unwrap(),
                u["name"].as_str().unwrap(),
                u["current"].as_str().unwrap(),
                u["proposed"].as_str().unwrap()
            )
        })
        .collect();
    updates.sort();
    assert_eq!(
        updates,
        ["Pipfile flask 2.2.2 3.0.3", "Pipfile pytest 7.4.0 7.4.4"],
        "{report:#}"
    );
    assert!(
        report.to_string().contains("Pipfile.lock: 4 updates held back: `Pipfile.lock` is tied to its Pipfile by a hash only Pipenv computes, so it is re-locked by Pipenv (`pipenv lock`, or `pipenv upgrade NAME`), never edited line by line"),
        "{report:#}"
    );

    // apply: the Pipfile's edits are written with the lock Pipenv re-locks for them (the
    // `[dev-packages]` table entry included), which Pipenv verifies.
    let (stdout, stderr, code) = repin(&["apply", "--no-cache"], r);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(
        std::fs::read_to_string(r.join("Pipfile")).unwrap(),
        pipfile
            .replace("flask = \"==2.2.2\"", "flask = \"==3.0.3\"")
            .replace("{version = \"==7.4.0\"}", "{version = \"==7.4.4\"}")
    );
    let pins = json_pins(&r.join("Pipfile.lock"));
    for pin in ["flask 3.0.3", "pytest 7.4.4", "click 8.1.7"] {
        assert!(pins.contains(&pin.to_owned()), "{pins:?}");
    }
    // The project as locked before, for the audit.
    std::fs::write(r.join("Pipfile"), &pipfile).unwrap();
    std::fs::write(r.join("Pipfile.lock"), &lock).unwrap();

    // audit: the transitive werkzeug pin of the lock has an advisory.
    let db = tempfile::tempdir().unwrap();
    let path = db.path().join("vulns").join("werkzeug");
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(
        path.join("PYSEC-2030-7.yaml"),
        "id: PYSEC-2030-7\nsummary: Debugger pin bypass\naffected:\n- package:\n    ecosystem: PyPI\n    name: werkzeug\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: '0'\n    - fixed: 3.0.6\n",
    )
    .unwrap();
    let (stdout, stderr, code) = repin(
        &[
            "audit",
            "--format",
            "json",
            "--advisory-db",
            db.path().to_str().unwrap(),
        ],
        r,
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
    assert_eq!(vulns, ["Pipfile.lock werkzeug 3.0.1 3.0.6"], "{report:#}");
}

#[test]
fn apply_edits_a_pipfile_without_a_lock_losslessly_and_pipenv_locks_the_result() {
    let setup = setup();
    let r = setup.repo.path();
    std::fs::remove_file(r.join("Pipfile.lock")).unwrap();
    let before = std::fs::read_to_string(r.join("Pipfile")).unwrap();
    let (stdout, stderr, code) = repin(&["apply", "--no-cache"], r);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let after = std::fs::read_to_string(r.join("Pipfile")).unwrap();
    // Only the two pins change; comments, quoting, the inline tables and `"*"` stay.
    assert_eq!(
        after,
        before
            .replace("flask = \"==2.2.2\"", "flask = \"==3.0.3\"")
            .replace("{version = \"==7.4.0\"}", "{version = \"==7.4.4\"}")
    );
    // Pipenv accepts the edited file and locks the new pins.
    pipenv_lock(&setup, r);
    let pins = json_pins(&r.join("Pipfile.lock"));
    assert!(pins.contains(&"flask 3.0.3".to_owned()), "{pins:?}");
    assert!(pins.contains(&"pytest 7.4.4".to_owned()), "{pins:?}");
    // Applied again, nothing is due in the Pipfile and nothing changes.
    std::fs::remove_file(r.join("Pipfile.lock")).unwrap();
    let (stdout, stderr, code) = repin(&["apply", "--no-cache"], r);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(std::fs::read_to_string(r.join("Pipfile")).unwrap(), after);
}
