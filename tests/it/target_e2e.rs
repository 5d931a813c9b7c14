//! Issue 17: a monorepo whose services run on Python 3.9, 3.11 and 3.12, on slim and alpine
//! images, checked against a real Distribution registry and a static PEP 503 index (Python's
//! `http.server`, whose pages carry `data-requires-python`). Each file gets its own target, no
//! output proposes a version lower than the current one, and a requirement nothing installable
//! satisfies is a problem of its own kind.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::support::registry::{Registry, RegistryAuth};
use crate::support::repin;
use crate::support::static_index::StaticIndex;

const SERVICES: &[(&str, &str, &str)] = &[
    (
        "services/legacy",
        "FROM python:3.9-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n",
        "django~=5.1.3\nclick==8.1.7\nrich==13.0.0\n",
    ),
    (
        "services/api",
        "ARG PY=3.11\nFROM python:${PY}-alpine AS base\nFROM base\nCOPY . /app\nRUN pip install -r /app/requirements.txt\n",
        "click==8.1.7\nnumpy>=2.3\n",
    ),
    (
        "services/web",
        "FROM python:3.12-slim-bookworm\nRUN --mount=type=bind,source=requirements.txt,target=/tmp/r.txt pip install -r /tmp/r.txt\n",
        "django==5.*\nclick==8.1.7\nnumpy>=2.2\n",
    ),
];

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn json(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The lowest version a written value admits: a pin's version, a range's highest lower bound.
fn floor(value: &str) -> Option<pep440_rs::Version> {
    if let Ok(version) = value.parse::<pep440_rs::Version>() {
        return Some(version);
    }
    let specifiers: pep440_rs::VersionSpecifiers = value.parse().ok()?;
    specifiers
        .iter()
        .filter(|s| {
            !matches!(
                s.operator(),
                pep440_rs::Operator::LessThan
                    | pep440_rs::Operator::LessThanEqual
                    | pep440_rs::Operator::NotEqual
                    | pep440_rs::Operator::NotEqualStar
            )
        })
        .map(|s| s.version().clone())
        .max()
}

#[test]
fn every_file_gets_its_own_python_and_nothing_is_downgraded() {
    let index = StaticIndex::start(&[
        ("django", "4.2.23", Some(">=3.8"), None),
        ("django", "5.1.3", Some(">=3.10"), None),
        ("django", "5.1.4", Some(">=3.10"), None),
        ("click", "8.1.7", Some(">=3.7"), None),
        ("click", "8.1.8", Some(">=3.7"), None),
        ("click", "8.2.1", Some(">=3.10"), None),
        ("numpy", "2.0.2", Some(">=3.9"), None),
        ("numpy", "2.2.6", Some(">=3.10"), None),
        ("numpy", "2.3.0", Some(">=3.11"), None),
        // Held on 3.9, and still on 3.12: the Python-minor update does not unblock it.
        ("rich", "13.0.0", Some(">=3.7"), None),
        ("rich", "14.0.0", Some(">=3.13"), None),
    ]);
    let registry = Registry::start(RegistryAuth::None);
    for tag in [
        "3.9-slim",
        "3.12-slim",
        "3.11-alpine",
        "3.12-alpine",
        "3.12-slim-bookworm",
    ] {
        registry.push_index(
            "library/python",
            tag,
            &format!("{tag}/amd64"),
            &format!("{tag}/arm64"),
        );
    }
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let r = repo.path();
    std::fs::create_dir(r.join(".git")).unwrap();
    write(
        r,
        "repin.toml",
        &format!(
            "[[indexes]]\nurl = \"{}\"\nprimary = true\n\n[registries.\"docker.io\"]\nurl = \"http://{}\"\n\n[update]\npin-digests = false\n\n[advisories]\nsource = \"off\"\n",
            index.index_url(),
            registry.host
        ),
    );
    for (dir, dockerfile, requirements) in SERVICES {
        write(r, &format!("{dir}/Dockerfile"), dockerfile);
        write(r, &format!("{dir}/requirements.txt"), requirements);
    }
    let dir = r.to_str().unwrap();

    // extract shows each file's target.
    let out = repin(home.path(), &["extract", "--format", "json", dir]);
    let report = json(&out);
    let targets: BTreeMap<String, String> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let t = &f["target"];
            let path = f["path"].as_str().unwrap();
            (
                path.strip_prefix(&format!("{dir}/")).unwrap().to_owned(),
                format!(
                    "{} {} {} {}",
                    t["python"].as_str().unwrap(),
                    t["platform"].as_str().unwrap(),
                    t["libc"].as_str().unwrap_or("-"),
                    t["from"].as_str().unwrap().replace(&format!("{dir}/"), "")
                ),
            )
        })
        .collect();
    assert_eq!(
        targets["services/legacy/requirements.txt"],
        "3.9 linux/amd64 glibc services/legacy/Dockerfile:1"
    );
    assert_eq!(
        targets["services/api/requirements.txt"],
        "3.11 linux/amd64 musl services/api/Dockerfile:2"
    );
    assert_eq!(
        targets["services/web/requirements.txt"],
        "3.12 linux/amd64 glibc services/web/Dockerfile:1"
    );

    // check: the right update for each file's Python, a problem for what cannot be installed.
    let out = repin(
        home.path(),
        &["check", "--no-cache", "--format", "json", dir],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report = json(&out);
    assert_eq!(report["errors"], serde_json::json!([]), "{stderr}");
    // A problem makes the exit code 1, without `--exit-code`.
    assert_eq!(out.status.code(), Some(1), "{report:#}\n{stderr}");
    let mut updates: Vec<String> = Vec::new();
    for u in report["updates"].as_array().unwrap() {
        let file = u["file"].as_str().unwrap().replace(&format!("{dir}/"), "");
        let (current, proposed) = (
            u["current"].as_str().unwrap(),
            u["proposed"].as_str().unwrap(),
        );
        if u["name"].as_str().unwrap() != "docker.io/library/python" {
            // Never a downgrade: a pin moves up, a range's floor never goes down.
            assert!(
                floor(proposed) >= floor(current),
                "{file}: {current} → {proposed}"
            );
        }
        updates.push(format!(
            "{file} {} {current} -> {proposed} {}",
            u["name"].as_str().unwrap(),
            u["kind"].as_str().unwrap()
        ));
    }
    for expected in [
        // click 8.2 needs Python 3.10: not for the 3.9 service, yes for the others.
        "services/legacy/requirements.txt click 8.1.7 -> 8.1.8 patch",
        "services/api/requirements.txt click 8.1.7 -> 8.2.1 minor",
        "services/web/requirements.txt click 8.1.7 -> 8.2.1 minor",
    ] {
        assert!(
            updates.contains(&expected.to_owned()),
            "{expected} in {updates:#?}"
        );
    }
    // No django `==4.*` or numpy `>=2.0.2` anywhere.
    assert!(
        !updates
            .iter()
            .any(|u| u.contains(" django ") || u.contains(" numpy ")),
        "{updates:#?}"
    );
    let problems: Vec<String> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} {} {}: {}",
                p["file"].as_str().unwrap().replace(&format!("{dir}/"), ""),
                p["name"].as_str().unwrap(),
                p["current"].as_str().unwrap(),
                p["reason"]
                    .as_str()
                    .unwrap()
                    .replace(&format!("{dir}/"), "")
            )
        })
        .collect();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].starts_with(
            "services/legacy/requirements.txt django ~=5.1.3: cannot be installed on Python 3.9 (services/legacy/Dockerfile:1): every release it allows (5.1.3 to 5.1.4) requires a newer Python; 5.1.3 requires Python >=3.10; the base image's python-minor update to 3.12 would fix it"
        ),
        "{problems:#?}"
    );
    // The base image's Python-minor update says what it unblocks.
    let python_minor = report["updates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["kind"] == "python-minor" && u["current"] == "3.9-slim")
        .unwrap_or_else(|| panic!("{updates:#?}"));
    let reason = python_minor["reason"].as_str().unwrap();
    assert!(
        reason.ends_with("; unblocks click 8.2.1, django ~=5.1.3"),
        "{reason}"
    );

    // The table: the problem, and with --all each file's target.
    let out = repin(home.path(), &["check", "--no-cache", "--all", dir]);
    let table = String::from_utf8_lossy(&out.stdout).replace(&format!("{dir}/"), "");
    assert!(
        table.contains("services/api/requirements.txt  Python 3.11 (linux/amd64, musl) from services/api/Dockerfile:2"),
        "{table}"
    );
    assert!(
        table.contains("django                       ~=5.1.3  cannot be installed on Python 3.9"),
        "{table}"
    );
    assert!(
        table.contains("1 requirement that cannot be installed"),
        "{table}"
    );
}

/// `[images] group-unblocked`: the package update a base image's Python-minor update lets in
/// rides with it, in `check`, in `apply` (written with the image update, instead of the
/// package's own update) and never alone.
#[test]
fn unblocked_updates_ride_with_the_python_minor_update_when_asked() {
    let index = StaticIndex::start(&[
        ("click", "8.1.7", Some(">=3.7"), None),
        ("click", "8.1.8", Some(">=3.7"), None),
        ("click", "8.2.1", Some(">=3.10"), None),
        // Needs 3.13: still held on 3.12, so it rides with nothing.
        ("rich", "13.0.0", Some(">=3.7"), None),
        ("rich", "14.0.0", Some(">=3.13"), None),
    ]);
    let registry = Registry::start(RegistryAuth::None);
    for tag in ["3.9-slim", "3.12-slim"] {
        registry.push_index(
            "library/python",
            tag,
            &format!("{tag}/amd64"),
            &format!("{tag}/arm64"),
        );
    }
    let home = tempfile::tempdir().unwrap();
    let setup = |group: bool| {
        let repo = tempfile::tempdir().unwrap();
        let r = repo.path();
        std::fs::create_dir(r.join(".git")).unwrap();
        write(
            r,
            "repin.toml",
            &format!(
                "[[indexes]]\nurl = \"{}\"\nprimary = true\n\n[registries.\"docker.io\"]\nurl = \"http://{}\"\n\n[update]\npin-digests = false\n\n[images]\ngroup-unblocked = {group}\n\n[advisories]\nsource = \"off\"\n",
                index.index_url(),
                registry.host
            ),
        );
        write(
            r,
            "services/legacy/Dockerfile",
            "FROM python:3.9-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n",
        );
        write(
            r,
            "services/legacy/requirements.txt",
            "click==8.1.7\nrich==13.0.0\n",
        );
        repo
    };
    let updates_of = |report: &Value, dir: &str| -> Vec<String> {
        report["updates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                let rides = &u["rides_with"];
                format!(
                    "{} {} {} -> {}{}",
                    u["file"].as_str().unwrap().replace(&format!("{dir}/"), ""),
                    u["name"].as_str().unwrap(),
                    u["current"].as_str().unwrap(),
                    u["proposed"].as_str().unwrap(),
                    if rides.is_null() {
                        String::new()
                    } else {
                        format!(
                            " with {}:{} {} (Python {})",
                            rides["file"]
                                .as_str()
                                .unwrap()
                                .replace(&format!("{dir}/"), ""),
                            rides["line"],
                            rides["proposed"].as_str().unwrap(),
                            rides["python"].as_str().unwrap()
                        )
                    }
                )
            })
            .collect()
    };

    // Not asked: nothing rides.
    let repo = setup(false);
    let dir = repo.path().to_str().unwrap();
    let out = repin(home.path(), &["check", "--format", "json", dir]);
    let updates = updates_of(&json(&out), dir);
    assert!(
        !updates.iter().any(|u| u.contains(" with ")),
        "{updates:#?}"
    );

    // Asked: click 8.2.1 (needs 3.10) goes with the move to 3.12; rich 14 (needs 3.13) not.
    let repo = setup(true);
    let r = repo.path();
    let dir = r.to_str().unwrap();
    let out = repin(home.path(), &["check", "--format", "json", dir]);
    let report = json(&out);
    let updates = updates_of(&report, dir);
    let image_update = updates
        .iter()
        .find(|u| u.contains("docker.io/library/python 3.9-slim -> 3.12-slim"))
        .unwrap_or_else(|| panic!("{updates:#?}"));
    assert!(!image_update.contains(" with "), "{image_update}");
    for expected in [
        "services/legacy/requirements.txt click 8.1.7 -> 8.1.8",
        "services/legacy/requirements.txt click 8.1.7 -> 8.2.1 with services/legacy/Dockerfile:1 3.12-slim (Python 3.12)",
    ] {
        assert!(
            updates.contains(&expected.to_owned()),
            "{expected} in {updates:#?}"
        );
    }
    assert!(
        !updates.iter().any(|u| u.contains(" rich ")),
        "{updates:#?}"
    );
    let out = repin(home.path(), &["check", dir]);
    let table = String::from_utf8_lossy(&out.stdout).replace(&format!("{dir}/"), "");
    assert!(
        table.contains("8.1.7 → 8.2.1  minor    newest minor release; it needs a newer Python: goes with the base image's python-minor update to 3.12-slim (services/legacy/Dockerfile:1)"),
        "{table}"
    );

    // Never alone: the image update not chosen, click gets its own update.
    let out = repin(home.path(), &["apply", "--only", "click", dir]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let requirements = r.join("services/legacy/requirements.txt");
    let dockerfile = r.join("services/legacy/Dockerfile");
    assert_eq!(
        std::fs::read_to_string(&requirements).unwrap(),
        "click==8.1.8\nrich==13.0.0\n"
    );
    assert!(
        std::fs::read_to_string(&dockerfile)
            .unwrap()
            .starts_with("FROM python:3.9-slim\n")
    );

    // With the image update: click moves to what the new Python installs, in the same apply.
    write(
        r,
        "services/legacy/requirements.txt",
        "click==8.1.7\nrich==13.0.0\n",
    );
    let out = repin(home.path(), &["apply", dir]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&requirements).unwrap(),
        "click==8.2.1\nrich==13.0.0\n"
    );
    assert!(
        std::fs::read_to_string(&dockerfile)
            .unwrap()
            .starts_with("FROM python:3.12-slim\n"),
        "{}",
        std::fs::read_to_string(&dockerfile).unwrap()
    );
}
