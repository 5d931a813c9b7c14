//! `repin audit` run as a process against a real pypiserver and an offline OSV directory
//! written by the test (hand-written records shaped like PyPA's).

use crate::support;

use support::repin;

use std::path::Path;

use serde_json::Value;
use support::pypiserver::{PypiServer, write_wheel};

fn record(dir: &Path, id: &str, package: &str, events: &str, severity: &str, summary: &str) {
    let path = dir.join("vulns").join(package);
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(
        path.join(format!("{id}.yaml")),
        format!(
            "id: {id}\nsummary: {summary}\naliases:\n- CVE-2030-{n}\naffected:\n- package:\n    ecosystem: PyPI\n    name: {package}\n  ranges:\n  - type: ECOSYSTEM\n    events:\n{events}\ndatabase_specific:\n  severity: {severity}\n",
            n = id.len()
        ),
    )
    .unwrap();
}

#[test]
fn audit_reports_fix_versions_sarif_and_fails_on_severity() {
    let packages = tempfile::tempdir().unwrap();
    for (name, version) in [
        ("flask", "2.2.2"),
        ("flask", "2.2.5"),
        ("flask", "2.3.1"),
        ("flask", "2.3.2"),
        ("jinja2", "3.1.6"),
    ] {
        write_wheel(packages.path(), name, version, None);
    }
    let pypi = PypiServer::start(packages.path());
    let db = tempfile::tempdir().unwrap();
    // Two advisories: the lowest fixed event (2.2.5) is still hit by the second one for the
    // 2.3 line, but not for 2.2.x: the fix for 2.2.2 is 2.2.5; for 2.3.1 it is 2.3.2.
    record(
        db.path(),
        "PYSEC-1",
        "flask",
        "    - introduced: '0'\n    - fixed: 2.2.5\n    - introduced: 2.3.0\n    - fixed: 2.3.2",
        "MODERATE",
        "Session cookie leak",
    );
    record(
        db.path(),
        "PYSEC-22",
        "jinja2",
        "    - introduced: '0'\n    - fixed: 2.11.3",
        "HIGH",
        "Old sandbox escape",
    );
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("repin.toml"),
        format!(
            "[[indexes]]\nurl = \"{}\"\nprimary = true\n",
            pypi.index_url()
        ),
    )
    .unwrap();
    std::fs::write(
        repo.path().join("requirements.txt"),
        "flask==2.2.2\njinja2==3.1.6\n",
    )
    .unwrap();
    std::fs::create_dir(repo.path().join("svc")).unwrap();
    std::fs::write(repo.path().join("svc/requirements.txt"), "flask==2.3.1\n").unwrap();
    let (dir, db_path) = (repo.path().to_str().unwrap(), db.path().to_str().unwrap());

    let out = repin(
        home.path(),
        &[
            "audit",
            "--no-cache",
            "--format",
            "json",
            "--advisory-db",
            db_path,
            dir,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let vulns = report["vulnerabilities"].as_array().unwrap();
    let summary: Vec<(String, String, String, i64)> = vulns
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap().into(),
                v["version"].as_str().unwrap().into(),
                v["fix_version"].as_str().unwrap().into(),
                v["line"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("flask".into(), "2.2.2".into(), "2.2.5".into(), 1),
            ("flask".into(), "2.3.1".into(), "2.3.2".into(), 1)
        ]
    );
    let advisory = &vulns[0]["advisories"][0];
    assert_eq!(advisory["id"], "PYSEC-1");
    assert_eq!(advisory["aliases"][0], "CVE-2030-7");
    assert_eq!(advisory["severity"], "medium");
    assert_eq!(advisory["summary"], "Session cookie leak");
    assert_eq!(report["clean"], 1, "jinja2 3.1.6 is clean");

    // Below the threshold: exit 0.
    let out = repin(
        home.path(),
        &[
            "audit",
            "--no-cache",
            "--fail-on",
            "high",
            "--advisory-db",
            db_path,
            dir,
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("2 vulnerable pins, 0 not checked, 1 clean")
    );

    // SARIF for code scanning.
    let out = repin(
        home.path(),
        &[
            "audit",
            "--no-cache",
            "--format",
            "sarif",
            "--advisory-db",
            db_path,
            dir,
        ],
    );
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["rules"].as_array().unwrap().len(), 1);
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["level"], "warning");
    assert_eq!(
        results[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "svc/requirements.txt"
    );

    // An unreadable database: nothing is reported clean, the run fails with exit 2.
    let out = repin(
        home.path(),
        &[
            "audit",
            "--no-cache",
            "--advisory-db",
            "/nonexistent/db",
            dir,
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("clean"));
}

/// The manifests' diagnostics are shown whatever happens next: here the advisory database
/// given cannot be read, so the audit fails as a whole, and the warning about the file is still
/// said before the error.
#[test]
fn the_manifests_warnings_are_shown_when_the_audit_fails() {
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("requirements.txt"),
        format!("--hash=sha256:{}\nflask==2.2.2\n", "0".repeat(64)),
    )
    .unwrap();
    let missing = repo.path().join("no-such-database");
    let out = repin(
        home.path(),
        &[
            "audit",
            "--advisory-db",
            missing.to_str().unwrap(),
            repo.path().to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let warning = stderr
        .find("requirements.txt:1:1: warning: `--hash` belongs after a requirement")
        .unwrap_or_else(|| panic!("the warning is not shown: {stderr}"));
    let error = stderr
        .find("error:")
        .unwrap_or_else(|| panic!("no error: {stderr}"));
    assert!(warning < error, "{stderr}");
}
