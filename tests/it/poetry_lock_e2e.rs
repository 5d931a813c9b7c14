//! `poetry.lock` written by Poetry itself (`poetry lock` against a real pypiserver), then read
//! by `repin extract` and `repin check`. The oracles: Poetry writes the file, and Python's
//! `tomllib` reads the pins from it independently of repin.

use crate::support;

use std::process::Command;

use serde_json::Value;
use support::pypiserver::{Meta, PypiServer, write_wheel_with};

#[test]
fn a_poetry_lock_written_by_poetry_is_read_pin_for_pin_and_its_updates_are_held_for_poetry() {
    let packages = tempfile::tempdir().unwrap();
    for (name, version, requires) in [
        ("alpha", "1.0", &["beta>=2"][..]),
        ("alpha", "1.1", &["beta>=2"][..]),
        ("beta", "2.0", &[][..]),
    ] {
        let meta = Meta {
            requires_dist: requires,
            ..Meta::default()
        };
        write_wheel_with(packages.path(), name, version, &meta);
    }
    let pypi = PypiServer::start(packages.path());
    let repo = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let r = repo.path();
    std::fs::create_dir(r.join(".git")).unwrap();
    std::fs::write(
        r.join("pyproject.toml"),
        format!(
            "[project]\nname = \"shop\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [\"alpha==1.0\"]\n\n[tool.poetry]\npackage-mode = false\n\n[[tool.poetry.source]]\nname = \"local\"\nurl = \"{}\"\npriority = \"primary\"\n",
            pypi.index_url()
        ),
    )
    .unwrap();
    std::fs::write(
        r.join("repin.toml"),
        format!(
            "[python]\nversion = \"3.12\"\n\n[[indexes]]\nurl = \"{}\"\nprimary = true\n\n[advisories]\nsource = \"off\"\n",
            pypi.index_url()
        ),
    )
    .unwrap();
    let out = Command::new("poetry")
        .args(["lock", "--no-interaction"])
        .current_dir(r)
        .env("POETRY_CACHE_DIR", cache.path())
        .env("POETRY_CONFIG_DIR", cache.path().join("config"))
        .env("POETRY_VIRTUALENVS_PATH", cache.path().join("venvs"))
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "Poetry, the oracle of this test, does not run ({e}): run `scripts/test --setup-only` and put .venv/bin on PATH"
            )
        });
    assert!(
        out.status.success(),
        "poetry lock: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lock = std::fs::read_to_string(r.join("poetry.lock")).unwrap();

    // What Python's own TOML reader finds in it, and what repin finds.
    let expected = support::lock_oracles::tomllib_pins(&r.join("poetry.lock"), "package");
    assert_eq!(expected, ["alpha 1.0", "beta 2.0"], "{lock}");
    let out = support::repin(
        home.path(),
        &["extract", "--format", "json", r.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        support::lock_oracles::extracted_pins(&report, "poetry.lock", "poetry-lock"),
        expected
    );

    // check: alpha 1.1 is due, and held for Poetry; the lock is unchanged.
    let out = support::repin(
        home.path(),
        &[
            "check",
            "--no-cache",
            "--format",
            "json",
            r.to_str().unwrap(),
        ],
    );
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(report["errors"], serde_json::json!([]), "{report:#}");
    assert!(
        !report["updates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["file"].as_str().unwrap().ends_with("poetry.lock")),
        "{report:#}"
    );
    let text = report.to_string();
    assert!(
        text.contains("poetry.lock: 1 update held back: `poetry.lock` is tied to its pyproject by a content hash only Poetry computes, so it is re-locked by Poetry (`poetry update NAME`), never edited line by line"),
        "{report:#}"
    );
    assert_eq!(
        std::fs::read_to_string(r.join("poetry.lock")).unwrap(),
        lock
    );
}
