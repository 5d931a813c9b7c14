//! `repin audit` and `repin check` run as processes with the default advisory source, the OSV
//! API, and a real pypiserver as the index. `osv-url` points at an in-process double of the
//! API (`support::shared::osv`): OSV's API cannot be reached here, so the double mimics the
//! responses its documentation gives, and it fails the test on any unexpected request (method,
//! path or body shape).

use crate::support;

use serde_json::Value;
use support::pypiserver::{PypiServer, write_wheel};
use support::repin;
use support::shared::osv::{FakeOsv, record};
use wiremock::ResponseTemplate;

fn run_json(home: &std::path::Path, args: &[&str]) -> (Option<i32>, Value) {
    let out = repin(home, args);
    let stdout: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), stdout)
}

#[test]
fn audit_and_check_find_a_vulnerable_pin_through_the_osv_api() {
    let packages = tempfile::tempdir().unwrap();
    for (name, version) in [
        ("flask", "2.2.2"),
        ("flask", "2.2.5"),
        ("jinja2", "3.1.6"),
        ("requests", "2.31.0"),
        ("requests", "2.32.0"),
    ] {
        write_wheel(packages.path(), name, version, None);
    }
    let pypi = PypiServer::start(packages.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let osv = runtime.block_on(FakeOsv::start(
        &[
            record("PYSEC-2023-62", "Flask", "0", "2.2.5"),
            record("GHSA-9wx4-h78v-vm56", "requests", "0", "2.32.0"),
        ],
        1000,
    ));
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("repin.toml"),
        format!(
            "[[indexes]]\nurl = \"{}\"\nprimary = true\n\n[advisories]\nosv-url = \"{}\"\n",
            pypi.index_url(),
            osv.url()
        ),
    )
    .unwrap();
    let requirements = repo.path().join("requirements.txt");
    std::fs::write(&requirements, "flask==2.2.2\njinja2==3.1.6\n").unwrap();
    let dir = repo.path().to_str().unwrap();

    // audit: the vulnerable pin, found via the API, with its fix from the index; exit 1.
    let (code, report) = run_json(
        home.path(),
        &["audit", "--no-cache", "--format", "json", dir],
    );
    assert_eq!(code, Some(1), "{report}");
    let vulns = report["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 1, "{report}");
    assert_eq!(vulns[0]["name"], "flask");
    assert_eq!(vulns[0]["version"], "2.2.2");
    assert_eq!(vulns[0]["fix_version"], "2.2.5");
    let advisory = &vulns[0]["advisories"][0];
    assert_eq!(advisory["id"], "PYSEC-2023-62");
    assert_eq!(advisory["severity"], "high");
    assert_eq!(
        advisory["url"],
        "https://osv.dev/vulnerability/PYSEC-2023-62"
    );
    assert_eq!(report["clean"], 1, "jinja2 is clean");
    assert_eq!(report["unchecked"], Value::Array(Vec::new()));
    // One batch, both packages by name only (the double checks the shape).
    let batches = runtime.block_on(osv.batches());
    assert_eq!(batches.len(), 1);
    let asked: Vec<&str> = batches[0].iter().map(|q| q.name.as_str()).collect();
    assert_eq!(asked, ["flask", "jinja2"]);

    // check: the same advisory makes the patch a security update, listed first.
    let (code, report) = run_json(
        home.path(),
        &["check", "--no-cache", "--format", "json", dir],
    );
    assert_eq!(code, Some(0), "{report}");
    let update = &report["updates"][0];
    assert_eq!(update["name"], "flask");
    assert_eq!(update["proposed"], "2.2.5");
    assert_eq!(update["security"], true);
    assert_eq!(update["fixes"][0], "PYSEC-2023-62");

    // An advisory the API fails to serve: exactly that package is not checked; exit 2.
    runtime.block_on(osv.answer_vuln(
        "GHSA-9wx4-h78v-vm56",
        ResponseTemplate::new(500).set_body_string("backend unavailable"),
    ));
    std::fs::write(
        &requirements,
        "flask==2.2.2\njinja2==3.1.6\nrequests==2.31.0\n",
    )
    .unwrap();
    let (code, report) = run_json(
        home.path(),
        &["audit", "--no-cache", "--format", "json", dir],
    );
    assert_eq!(code, Some(2), "{report}");
    let unchecked = report["unchecked"].as_array().unwrap();
    assert_eq!(unchecked.len(), 1, "{report}");
    assert_eq!(unchecked[0]["name"], "requests");
    assert_eq!(unchecked[0]["line"], 3);
    let reason = unchecked[0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(
            "Cannot fetch advisory GHSA-9wx4-h78v-vm56 from the OSV API\n  Caused by: "
        ) && reason.ends_with("answered HTTP 500: backend unavailable"),
        "{reason}"
    );
    assert_eq!(report["vulnerabilities"][0]["name"], "flask");
    assert_eq!(report["clean"], 1);

    // The table names it too.
    let out = repin(home.path(), &["audit", "--no-cache", dir]);
    assert_eq!(out.status.code(), Some(2));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("not checked:") && table.contains("requirements.txt:3 requests\n"),
        "{table}"
    );
    assert!(
        table.contains("\n    Cannot fetch advisory GHSA-9wx4-h78v-vm56 from the OSV API\n"),
        "{table}"
    );
    assert!(
        table.contains("1 vulnerable pin, 1 not checked, 1 clean"),
        "{table}"
    );
}
