//! The minimum release age (cooldown) of the pins a locking tool writes, end to end with uv,
//! Poetry and Pipenv against a PEP 691 index whose upload times are the files' times
//! ([`support::json_index`]; pypiserver's pages carry none). A tool moves a package to the
//! newest release the project allows, not to repin's target: a security fix whose re-lock
//! writes a release younger than `minimum-release-age` (another pin uv moves with the fix, or
//! the release past the fix Poetry and Pipenv move to) is held back saying which release and why; the
//! fixed version repin proposed is not held, young as it may be (security fixes skip the
//! cooldown).

use crate::support;

use std::path::{Path, PathBuf};

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

/// [`repin`] that must succeed; its stdout and stderr.
fn repin_ok(setup: &Setup, args: &[&str]) -> (String, String) {
    let (stdout, stderr, code) = repin(setup, args);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    (stdout, stderr)
}

/// The report of `repin check --format json`, which must succeed: every test reads what is
/// proposed and what is held back from it.
fn check_json(setup: &Setup) -> Value {
    let (stdout, _) = repin_ok(setup, &["check", "--format", "json"]);
    serde_json::from_str(&stdout).unwrap()
}

/// The update of `name` in a `check --format json` report.
fn update_of<'a>(report: &'a Value, name: &str) -> Option<&'a Value> {
    report["updates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == name)
}

/// The held-back update of `name` in a `check --format json` report; there must be one (the
/// report is the failure's message).
fn held_back_of<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["held_back"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == name)
        .unwrap_or_else(|| panic!("{report:#}"))
}

/// The project locked by `program args`; the text of its `lock_file`, to show that a run
/// that holds its update back writes nothing.
fn locked(setup: &Setup, program: &str, args: &[&str], lock_file: &str) -> String {
    tool(setup, program, args);
    read(setup.repo.path(), lock_file)
}

/// The wheel of `release` (`name-version`) in the index's package folder, to age or remove.
fn wheel(setup: &Setup, release: &str) -> PathBuf {
    setup
        .packages
        .path()
        .join(format!("{release}-py3-none-any.whl"))
}

/// Publish the fix, werkzeug 3.0.6, a day old (a security fix skips the cooldown), requiring
/// `markupsafe_requirement`, and markupsafe `markupsafe_version`, `days` old: the release uv
/// moves markupsafe to with the fix, whose age decides whether the fix is held.
fn publish_fix_needing_markupsafe(
    setup: &Setup,
    markupsafe_requirement: &str,
    markupsafe_version: &str,
    days: u64,
) {
    publish(
        setup.packages.path(),
        &[("werkzeug", "3.0.6", &[markupsafe_requirement])],
        1,
    );
    publish(
        setup.packages.path(),
        &[("markupsafe", markupsafe_version, &[])],
        days,
    );
}

/// Poetry and Pipenv cannot be given the fixed version of a transitive pin, so they move past
/// it: with the fix, werkzeug 3.0.6 (thirty days old), and 3.0.7 (two days old) published,
/// `apply --only werkzeug` holds the fix back, saying that `tool` writes 3.0.7 into
/// `lock_file` and when the update is proposed again, and writes nothing (`lock` is the lock
/// before).
fn assert_held_back_past_the_fix(setup: &Setup, tool: &str, lock_file: &str, lock: &str) {
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
    let (stdout, stderr) = repin_ok(setup, &["apply", "--only", "werkzeug"]);
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains(&format!("{lock_file} cannot be re-locked with it: {tool} writes `werkzeug` 3.0.7, released 2 days ago, younger than the minimum release age of 7 days"))
            && all.contains(
                "hint: the update is proposed again once `werkzeug` 3.0.7 is older than 7 days"
            ),
        "{all}"
    );
    assert_eq!(
        read(setup.repo.path(), lock_file),
        lock,
        "nothing is written"
    );
}

/// How the uv tests write the project's first lock.
const UV_LOCK: &[&str] = &["lock", "--no-python-downloads"];

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
    let lock = locked(&setup, "uv", UV_LOCK, "uv.lock");
    // The fix is a day old (a security fix skips the cooldown); it needs a newer markupsafe,
    // which uv moves with it.
    publish_fix_needing_markupsafe(&setup, "markupsafe>=2.1.5", "2.1.5", 30);
    let report = check_json(&setup);
    let fix = update_of(&report, "werkzeug").unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(fix["proposed"], "3.0.6", "{report:#}");
    assert_eq!(fix["kind"], "lock", "{report:#}");
    let reason = fix["reason"].as_str().unwrap();
    assert!(
        reason.contains("re-locked by uv: ") && reason.contains("markupsafe 2.1.3 → 2.1.5"),
        "{report:#}"
    );

    // The release uv moves markupsafe to is three days old: the fix is held back.
    uploaded_days_ago(&wheel(&setup, "markupsafe-2.1.5"), 3);
    let report = check_json(&setup);
    assert!(update_of(&report, "werkzeug").is_none(), "{report:#}");
    let held = held_back_of(&report, "werkzeug");
    let why = held.to_string();
    assert!(
        why.contains("uv.lock cannot be re-locked with it: uv writes `markupsafe` 2.1.5, released 3 days ago, younger than the minimum release age of 7 days"),
        "{held:#}"
    );
    let (stdout, stderr) = repin_ok(&setup, &["apply"]);
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
    let lock = locked(&setup, "uv", UV_LOCK, "uv.lock");
    // The fix needs a newer markupsafe, three days old: a patch first.
    publish_fix_needing_markupsafe(&setup, "markupsafe>=2.1.5", "2.1.5", 3);
    let report = check_json(&setup);
    let fix = update_of(&report, "werkzeug").unwrap_or_else(|| panic!("{report:#}"));
    assert!(
        fix["reason"]
            .as_str()
            .unwrap()
            .contains("markupsafe 2.1.3 → 2.1.5"),
        "a patch is not held by a rule for minor updates: {report:#}"
    );

    // Now the fix needs a new minor of markupsafe, as young: held back by the rule.
    std::fs::remove_file(wheel(&setup, "werkzeug-3.0.6")).unwrap();
    publish_fix_needing_markupsafe(&setup, "markupsafe>=2.2", "2.2.0", 3);
    let report = check_json(&setup);
    assert!(update_of(&report, "werkzeug").is_none(), "{report:#}");
    let held = held_back_of(&report, "werkzeug").to_string();
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
    let lock = locked(
        &setup,
        "poetry",
        &["lock", "--no-interaction"],
        "poetry.lock",
    );
    // repin proposes the fix, 3.0.6; `poetry update --lock werkzeug` cannot be given it, and
    // moves to 3.0.7, two days old.
    assert_held_back_past_the_fix(&setup, "Poetry", "poetry.lock", &lock);

    // Once 3.0.7 is older than the cooldown, the fix goes through, past the fixed version.
    uploaded_days_ago(&wheel(&setup, "werkzeug-3.0.7"), 8);
    let (stdout, stderr) = repin_ok(&setup, &["apply", "--only", "werkzeug"]);
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
    let lock = locked(
        &setup,
        "pipenv",
        &["lock", "--python", &python],
        "Pipfile.lock",
    );
    // repin proposes the fix, 3.0.6; Pipenv takes only the name of a pin its Pipfile does not
    // name, and moves to 3.0.7, two days old.
    assert_held_back_past_the_fix(&setup, "Pipenv", "Pipfile.lock", &lock);
}
