//! End-of-life base images, `repin check` against the real Distribution registry on loopback:
//! a migration off an end-of-life Python and Debian release with the new tag's digest, the
//! report without opting in, and rebuilt rolling tags that moved from bookworm to trixie: one
//! whose old digest is still bookworm's, one told by the base-image annotations of its indexes
//! (as the official images have them).
//!
//! The end-of-life dates come from `[images.end-of-life]` (long past, or far ahead), so the
//! test does not depend on the day it runs.

use crate::support;

use serde_json::Value;
use support::registry::{Registry, RegistryAuth};

const DATES: &str = "[images.end-of-life]\n\"3.9\" = \"2000-01-01\"\nbullseye = \"2000-01-01\"\nbookworm = \"2000-01-01\"\n\"3.10\" = \"2999-01-01\"\n\"3.11\" = \"2999-01-01\"\n\"3.12\" = \"2999-01\"\ntrixie = \"2999-01-01\"\n";

/// Push an index of amd64 and arm64 images built from `seed` under `tag`, each entry annotated
/// with the base image it was built on; returns the index digest.
fn annotated_index(registry: &Registry, tag: &str, seed: &str, base: &str) -> String {
    let (amd, amd_size) =
        registry.push_image("library/python", "linux", "amd64", &format!("{seed}/amd64"));
    let (arm, arm_size) =
        registry.push_image("library/python", "linux", "arm64", &format!("{seed}/arm64"));
    let annotations = serde_json::json!({"org.opencontainers.image.base.name": base});
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": amd, "size": amd_size, "platform": {"os": "linux", "architecture": "amd64"}, "annotations": annotations},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": arm, "size": arm_size, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}, "annotations": annotations}
        ]
    }))
    .unwrap();
    registry.push_manifest(
        "library/python",
        tag,
        "application/vnd.oci.image.index.v1+json",
        &index,
    )
}

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
    let registry = Registry::start(RegistryAuth::None);
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
    // `3.11-slim` was pinned on bookworm, and bookworm has been rebuilt since: only the
    // annotation of the pinned index tells which distribution it was.
    let old_311 = annotated_index(
        &registry,
        "3.11-slim",
        "3.11-bookworm",
        "debian:bookworm-slim",
    );
    annotated_index(
        &registry,
        "3.11-slim-bookworm",
        "3.11-bookworm-rebuilt",
        "debian:bookworm-slim",
    );
    let new_311 = annotated_index(
        &registry,
        "3.11-slim-trixie",
        "3.11-trixie",
        "debian:trixie-slim",
    );
    assert_eq!(
        annotated_index(&registry, "3.11-slim", "3.11-trixie", "debian:trixie-slim"),
        new_311
    );

    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let r = repo.path();
    let registries = format!(
        "[registries.\"docker.io\"]\nurl = \"http://{}\"\n\n[advisories]\nsource = \"off\"\n\n",
        registry.host
    );
    std::fs::write(
        r.join("Dockerfile"),
        format!(
            "FROM python:3.9-slim-bullseye@{old} AS build\nFROM python:3.12-slim@{bookworm}\nFROM python:3.11-slim@{old_311}\n"
        ),
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
            (
                "digest".to_owned(),
                format!("3.11-slim@{new_311}"),
                "the tag was rebuilt: new manifests for linux/amd64; `3.11-slim` moved from Debian bookworm to Debian trixie (it is `3.11-slim-trixie` now)".to_owned()
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
    assert_eq!(kinds, ["digest", "digest"]);
    let notes: Vec<&str> = report["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["message"].as_str().unwrap())
        .collect();
    let expected = format!(
        "{}/Dockerfile:1: docker.io/library/python: 3.10-slim-trixie held back: Python 3.9 reached end of life on 2000-01-01 and Debian bullseye on 2000-01-01; migrate to the oldest supported Python minor, on Debian trixie; migration updates are not enabled (add \"migration\" to `kinds` in `[update]`)",
        dir
    );
    assert!(notes.contains(&expected.as_str()), "{notes:#?}");
}
