//! `pylock.toml` (PEP 751) written by uv itself (`uv pip compile -o pylock.toml`) against a
//! real pypiserver, then read by `repin extract` and `repin check`. The oracles: uv writes the
//! file, and Python's `tomllib` reads the pins from it independently of repin.

use crate::support;

use std::process::Command;

use serde_json::Value;
use support::pypiserver::{Meta, PypiServer, write_wheel_with};

#[test]
fn a_pylock_written_by_uv_is_read_pin_for_pin_and_its_updates_are_held_for_uv() {
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
    std::fs::write(r.join("requirements.in"), "alpha==1.0\n").unwrap();
    std::fs::write(
        r.join("repin.toml"),
        format!(
            "[python]\nversion = \"3.12\"\n\n[[indexes]]\nurl = \"{}\"\nprimary = true\n\n[advisories]\nsource = \"off\"\n",
            pypi.index_url()
        ),
    )
    .unwrap();
    let out = Command::new("uv")
        .args(["pip", "compile", "requirements.in", "-o", "pylock.toml"])
        .args(["--python-version", "3.12", "--no-header"])
        .arg("--index-url")
        .arg(pypi.index_url().as_str())
        .current_dir(r)
        .env("UV_CACHE_DIR", cache.path())
        .env("UV_NO_PROGRESS", "1")
        .env_remove("UV_INDEX_URL")
        .env_remove("UV_DEFAULT_INDEX")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "uv, the oracle of this test, does not run ({e}): run `scripts/test --setup-only` and put .venv/bin on PATH"
            )
        });
    assert!(
        out.status.success(),
        "uv: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lock = std::fs::read_to_string(r.join("pylock.toml")).unwrap();

    // What Python's own TOML reader finds in it, and what repin finds.
    let expected = support::lock_oracles::tomllib_pins(&r.join("pylock.toml"), "packages");
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
        support::lock_oracles::extracted_pins(&report, "pylock.toml", "pylock"),
        expected
    );

    // check: alpha 1.1 is due, and held for the tool that wrote the lock; the file is unchanged.
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
    let pylock_updates: Vec<&Value> = report["updates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["file"].as_str().unwrap().ends_with("pylock.toml"))
        .collect();
    assert!(pylock_updates.is_empty(), "{report:#}");
    let text = report.to_string();
    assert!(
        text.contains("pylock.toml: 1 update held back: a `pylock.toml` records one resolution with every file's hash, so it is re-locked by the tool that wrote it (`uv`), never edited line by line"),
        "{report:#}"
    );
    assert_eq!(
        std::fs::read_to_string(r.join("pylock.toml")).unwrap(),
        lock
    );
}
