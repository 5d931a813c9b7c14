//! The minimum release age (cooldown) of the pins a locking tool writes, end to end with uv,
//! Poetry and Pipenv against a PEP 691 index whose upload times are the files' times
//! ([`support::json_index`]; pypiserver's pages carry none). A tool moves a package to the
//! newest release the project allows, not to repin's target: a security fix whose re-lock
//! writes a release younger than `minimum-release-age` (another pin uv moves with the fix, or
//! the release past the fix Poetry and Pipenv move to) is held back saying which release and why; the
//! fixed version repin proposed is not held, young as it may be (security fixes skip the
//! cooldown).

use crate::support;

use std::path::Path;

use serde_json::Value;
use support::json_index::{JsonIndex, uploaded_days_ago};
use support::tools::{Tools, read, repository};

/// The releases when the project is locked, all uploaded 60 days ago.
const LOCKED: &[(&str, &str, &[&str])] = &[
    ("flask", "2.2.2", &["werkzeug>=2.2"]),
    ("werkzeug", "3.0.1", &["markupsafe>=2.1"]),
    ("markupsafe", "2.1.3", &[]),
];

struct Setup {
    repo: tempfile::TempDir,
    packages: tempfile::TempDir,
    /// The tools' caches, configuration and environments of the test's own.
    tools: Tools,
    db: tempfile::TempDir,
    _index: JsonIndex,
}

/// Publish `(name, version, requires)` uploaded `days` ago.
fn publish(dir: &Path, releases: &[(&str, &str, &[&str])], days: u64) {
    for wheel in support::tools::publish(dir, releases) {
        uploaded_days_ago(&wheel, days);
    }
}

/// A project with `manifest` (its `{index}` the local one), a seven-day cooldown and an
/// advisory of werkzeug fixed in 3.0.6; not locked yet.
fn project(manifest_name: &str, manifest: &str) -> Setup {
    let packages = tempfile::tempdir().unwrap();
    publish(packages.path(), LOCKED, 60);
    let index = JsonIndex::start(packages.path());
    let url = index.index_url();
    let repo = repository(manifest_name, manifest, &url);
    std::fs::write(
        repo.path().join("repin.toml"),
        format!(
            "[[indexes]]\nurl = \"{url}\"\nprimary = true\n\n[update]\nminimum-release-age = \"7 days\"\n\n[advisories]\nsource = \"off\"\n"
        ),
    )
    .unwrap();
    let db = tempfile::tempdir().unwrap();
    let vulns = db.path().join("vulns").join("werkzeug");
    std::fs::create_dir_all(&vulns).unwrap();
    std::fs::write(
        vulns.join("PYSEC-2030-7.yaml"),
        "id: PYSEC-2030-7\nsummary: Debugger pin bypass\naffected:\n- package:\n    ecosystem: PyPI\n    name: werkzeug\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: '0'\n    - fixed: 3.0.6\n",
    )
    .unwrap();
    Setup {
        repo,
        packages,
        tools: Tools::new(),
        db,
        _index: index,
    }
}

/// A tool from PATH in the project, with the test's own caches and configuration; it must
/// succeed.
fn tool(setup: &Setup, program: &str, args: &[&str]) {
    setup.tools.run(program, setup.repo.path(), args, &[]);
}

/// repin with the advisory database, on the project; stdout, stderr, exit code.
fn repin(setup: &Setup, args: &[&str]) -> support::Said {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--advisory-db", setup.db.path().to_str().unwrap()]);
    let cache = setup.tools.dir().join("uv-cache");
    support::repin_on(
        setup.repo.path(),
        &all,
        &[("UV_CACHE_DIR", cache.as_os_str())],
    )
}

/// The update of `name` in a `check --format json` report.
fn update_of<'a>(report: &'a Value, name: &str) -> Option<&'a Value> {
    report["updates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == name)
}

const UV_PYPROJECT: &str = r#"[project]
name = "shop"
version = "0.1.0"
requires-python = ">=3.8"
dependencies = [
    "flask==2.2.2",
]

[[tool.uv.index]]
name = "local"
url = "{index}"
default = true
"#;

#[test]
fn a_uv_fix_is_held_back_when_uv_moves_another_pin_to_a_release_younger_than_the_cooldown() {
    let setup = project("pyproject.toml", UV_PYPROJECT);
    tool(&setup, "uv", &["lock", "--no-python-downloads"]);
    let lock = read(setup.repo.path(), "uv.lock");
    // The fix is a day old (a security fix skips the cooldown); it needs a newer markupsafe,
    // which uv moves with it.
    publish(
        setup.packages.path(),
        &[("werkzeug", "3.0.6", &["markupsafe>=2.1.5"])],
        1,
    );
    publish(setup.packages.path(), &[("markupsafe", "2.1.5", &[])], 30);
    let (stdout, stderr, code) = repin(&setup, &["check", "--format", "json"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let fix = update_of(&report, "werkzeug").unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(fix["proposed"], "3.0.6", "{report:#}");
    assert_eq!(fix["kind"], "lock", "{report:#}");
    let reason = fix["reason"].as_str().unwrap();
    assert!(
        reason.contains("re-locked by uv: ") && reason.contains("markupsafe 2.1.3 → 2.1.5"),
        "{report:#}"
    );

    // The release uv moves markupsafe to is three days old: the fix is held back.
    uploaded_days_ago(
        &setup
            .packages
            .path()
            .join("markupsafe-2.1.5-py3-none-any.whl"),
        3,
    );
    let (stdout, stderr, code) = repin(&setup, &["check", "--format", "json"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert!(update_of(&report, "werkzeug").is_none(), "{report:#}");
    let held = report["held_back"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "werkzeug")
        .unwrap_or_else(|| panic!("{report:#}"));
    let why = held.to_string();
    assert!(
        why.contains("uv.lock cannot be re-locked with it: uv writes `markupsafe` 2.1.5, released 3 days ago, younger than the minimum release age of 7 days"),
        "{held:#}"
    );
    let (stdout, stderr, code) = repin(&setup, &["apply"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains("uv writes `markupsafe` 2.1.5, released 3 days ago")
            && all.contains(
                "hint: the update is proposed again once `markupsafe` 2.1.5 is older than 7 days"
            ),
        "{all}"
    );
    assert_eq!(
        read(setup.repo.path(), "uv.lock"),
        lock,
        "nothing is written"
    );
}

/// A minimum release age set only for minor updates (`[[rules]]` with `kinds`) holds a pin uv
/// moves to a new minor, and not one it moves to a new patch.
#[test]
fn a_kind_limited_cooldown_holds_the_pins_uv_moves_by_that_kind_only() {
    let setup = project("pyproject.toml", UV_PYPROJECT);
    let url = setup._index.index_url();
    std::fs::write(
        setup.repo.path().join("repin.toml"),
        format!(
            "[[indexes]]\nurl = \"{url}\"\nprimary = true\n\n[[rules]]\nkinds = [\"minor\"]\nminimum-release-age = \"7 days\"\n\n[advisories]\nsource = \"off\"\n"
        ),
    )
    .unwrap();
    tool(&setup, "uv", &["lock", "--no-python-downloads"]);
    let lock = read(setup.repo.path(), "uv.lock");
    // The fix needs a newer markupsafe, three days old: a patch first.
    publish(
        setup.packages.path(),
        &[("werkzeug", "3.0.6", &["markupsafe>=2.1.5"])],
        1,
    );
    publish(setup.packages.path(), &[("markupsafe", "2.1.5", &[])], 3);
    let (stdout, stderr, code) = repin(&setup, &["check", "--format", "json"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let fix = update_of(&report, "werkzeug").unwrap_or_else(|| panic!("{report:#}"));
    assert!(
        fix["reason"]
            .as_str()
            .unwrap()
            .contains("markupsafe 2.1.3 → 2.1.5"),
        "a patch is not held by a rule for minor updates: {report:#}"
    );

    // Now the fix needs a new minor of markupsafe, as young: held back by the rule.
    std::fs::remove_file(
        setup
            .packages
            .path()
            .join("werkzeug-3.0.6-py3-none-any.whl"),
    )
    .unwrap();
    publish(
        setup.packages.path(),
        &[("werkzeug", "3.0.6", &["markupsafe>=2.2"])],
        1,
    );
    publish(setup.packages.path(), &[("markupsafe", "2.2.0", &[])], 3);
    let (stdout, stderr, code) = repin(&setup, &["check", "--format", "json"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert!(update_of(&report, "werkzeug").is_none(), "{report:#}");
    let held = report["held_back"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "werkzeug")
        .unwrap_or_else(|| panic!("{report:#}"))
        .to_string();
    assert!(
        held.contains("uv writes `markupsafe` 2.2.0, released 3 days ago, younger than the minimum release age of 7 days"),
        "{held}"
    );
    assert_eq!(read(setup.repo.path(), "uv.lock"), lock);
}

const POETRY_PYPROJECT: &str = r#"[project]
name = "shop"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [
    "flask==2.2.2",
]

[tool.poetry]
package-mode = false

[[tool.poetry.source]]
name = "local"
url = "{index}"
priority = "primary"
"#;

#[test]
fn a_poetry_fix_past_the_fixed_version_to_a_release_younger_than_the_cooldown_is_held_back() {
    let setup = project("pyproject.toml", POETRY_PYPROJECT);
    tool(&setup, "poetry", &["lock", "--no-interaction"]);
    let lock = read(setup.repo.path(), "poetry.lock");
    // repin proposes the fix, 3.0.6; `poetry update --lock werkzeug` cannot be given it, and
    // moves to 3.0.7, two days old.
    publish(
        setup.packages.path(),
        &[("werkzeug", "3.0.6", &["markupsafe>=2.1"])],
        30,
    );
    publish(
        setup.packages.path(),
        &[("werkzeug", "3.0.7", &["markupsafe>=2.1"])],
        2,
    );
    let (stdout, stderr, code) = repin(&setup, &["apply", "--only", "werkzeug"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains("poetry.lock cannot be re-locked with it: Poetry writes `werkzeug` 3.0.7, released 2 days ago, younger than the minimum release age of 7 days")
            && all.contains(
                "hint: the update is proposed again once `werkzeug` 3.0.7 is older than 7 days"
            ),
        "{all}"
    );
    assert_eq!(
        read(setup.repo.path(), "poetry.lock"),
        lock,
        "nothing is written"
    );

    // Once 3.0.7 is older than the cooldown, the fix goes through, past the fixed version.
    uploaded_days_ago(
        &setup
            .packages
            .path()
            .join("werkzeug-3.0.7-py3-none-any.whl"),
        8,
    );
    let (stdout, stderr, code) = repin(&setup, &["apply", "--only", "werkzeug"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("werkzeug 3.0.1 → 3.0.7"),
        "{stdout}{stderr}"
    );
    assert_ne!(read(setup.repo.path(), "poetry.lock"), lock);
}

const PIPFILE: &str = r#"[[source]]
url = "{index}"
verify_ssl = false   # the index on loopback speaks plain HTTP
name = "local"

[packages]
flask = "==2.2.2"

[requires]
python_version = "3.11"
"#;

#[test]
fn a_pipenv_fix_past_the_fixed_version_to_a_release_younger_than_the_cooldown_is_held_back() {
    let setup = project("Pipfile", PIPFILE);
    let python = support::pypiserver::python();
    tool(&setup, "pipenv", &["lock", "--python", &python]);
    let lock = read(setup.repo.path(), "Pipfile.lock");
    // repin proposes the fix, 3.0.6; Pipenv takes only the name of a pin its Pipfile does not
    // name, and moves to 3.0.7, two days old.
    publish(
        setup.packages.path(),
        &[("werkzeug", "3.0.6", &["markupsafe>=2.1"])],
        30,
    );
    publish(
        setup.packages.path(),
        &[("werkzeug", "3.0.7", &["markupsafe>=2.1"])],
        2,
    );
    let (stdout, stderr, code) = repin(&setup, &["apply", "--only", "werkzeug"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains("Pipfile.lock cannot be re-locked with it: Pipenv writes `werkzeug` 3.0.7, released 2 days ago, younger than the minimum release age of 7 days")
            && all.contains(
                "hint: the update is proposed again once `werkzeug` 3.0.7 is older than 7 days"
            ),
        "{all}"
    );
    assert_eq!(
        read(setup.repo.path(), "Pipfile.lock"),
        lock,
        "nothing is written"
    );
}
