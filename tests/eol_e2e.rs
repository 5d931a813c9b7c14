//! End-of-life base images, `repin check` against the real Distribution registry on loopback:
//! a migration off an end-of-life Python and Debian release with the new tag's digest, the
//! report without opting in, and a rebuilt rolling tag that moved from bookworm to trixie.
//!
//! The end-of-life dates come from `[images.end-of-life]` (long past, or far ahead), so the
//! test does not depend on the day it runs.

mod support;

use serde_json::Value;
use support::registry::{Registry, RegistryAuth};

const DATES: &str = "[images.end-of-life]\n\"3.9\" = \"2000-01-01\"\nbullseye = \"2000-01-01\"\nbookworm = \"2000-01-01\"\n\"3.10\" = \"2999-01-01\"\n\"3.12\" = \"2999-01\"\ntrixie = \"2999-01-01\"\n";

fn check(home: &std::path::Path, dir: &str) -> Value {
    let out = support::repin(home, &["check", "--no-cache", "--format", "json", dir]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn end_of_life_images_against_a_loopback_registry() {
    let Some(registry) = Registry::start(RegistryAuth::None) else {
        return;
    };
    let push = |tag: &str, seed: &str| {
        registry
            .push_index(
                "library/python",
                tag,
                &format!("{seed}/amd64"),
                &format!("{seed}/arm64"),
            )
            .0
    };
    let old = push("3.9-slim-bullseye", "3.9-bullseye");
    let target = push("3.10-slim-trixie", "3.10-trixie");
    push("3.10-slim-bookworm", "3.10-bookworm");
    push("3.12-slim-trixie", "3.12-trixie");
    // `3.12-slim` was the bookworm image when the repository pinned it (same content, same
    // index digest), and is the trixie image now.
    let bookworm = push("3.12-slim-bookworm", "3.12-bookworm");
    assert_eq!(push("3.12-slim", "3.12-bookworm"), bookworm);
    let trixie = push("3.12-slim", "3.12-trixie");

    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let r = repo.path();
    let registries = format!(
        "[registries.\"docker.io\"]\nurl = \"http://{}\"\n\n[advisories]\nsource = \"off\"\n\n",
        registry.host
    );
    std::fs::write(
        r.join("Dockerfile"),
        format!("FROM python:3.9-slim-bullseye@{old} AS build\nFROM python:3.12-slim@{bookworm}\n"),
    )
    .unwrap();
    let dir = r.to_str().unwrap();

    // Opted in: the migration, with the new tag's digest, and the refresh of the rolling tag.
    std::fs::write(
        r.join("repin.toml"),
        format!(
            "{registries}[update]\nkinds = [\"patch\", \"digest\", \"pin\", \"migration\"]\n\n{DATES}"
        ),
    )
    .unwrap();
    let report = check(home.path(), dir);
    let updates = report["updates"].as_array().unwrap();
    let summary: Vec<(String, String, String)> = updates
        .iter()
        .map(|u| {
            (
                u["kind"].as_str().unwrap().to_owned(),
                u["proposed"].as_str().unwrap().to_owned(),
                u["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "migration".to_owned(),
                format!("3.10-slim-trixie@{target}"),
                "Python 3.9 reached end of life on 2000-01-01 and Debian bullseye on 2000-01-01; migrate to the oldest supported Python minor, on Debian trixie".to_owned()
            ),
            (
                "digest".to_owned(),
                format!("3.12-slim@{trixie}"),
                "the tag was rebuilt: new manifests for linux/amd64; `3.12-slim` moved from Debian bookworm to Debian trixie (it is `3.12-slim-trixie` now)".to_owned()
            ),
        ]
    );

    // Not opted in: no migration, but the end of life is reported.
    std::fs::write(
        r.join("repin.toml"),
        format!("{registries}[update]\nkinds = [\"patch\", \"digest\", \"pin\"]\n\n{DATES}"),
    )
    .unwrap();
    let report = check(home.path(), dir);
    let kinds: Vec<&str> = report["updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["digest"]);
    let notes: Vec<&str> = report["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let expected = format!(
        "{}/Dockerfile:1: docker.io/library/python: 3.10-slim-trixie held back: Python 3.9 reached end of life on 2000-01-01 and Debian bullseye on 2000-01-01; migrate to the oldest supported Python minor, on Debian trixie; migration updates are not enabled (add \"migration\" to `kinds` in `[update]`)",
        dir
    );
    assert!(notes.contains(&expected.as_str()), "{notes:#?}");
}
