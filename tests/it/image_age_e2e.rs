//! Image ages and the minimum release age for images, `repin check` against the real
//! Distribution registry on loopback: images whose configs say when they were built (an hour
//! ago, years ago), say nothing, or differ per platform of an index; tag-only and
//! digest-pinned references.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::support;
use support::registry::{Registry, RegistryAuth};

const OLD: &str = "2021-03-04T05:06:07Z";
const OLD_SECONDS: u64 = 1_614_834_367;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An RFC 3339 time `seconds` ago.
fn ago(seconds: u64) -> String {
    let at = jiff::Timestamp::from_second(i64::try_from(now() - seconds).unwrap()).unwrap();
    at.to_string()
}

/// Push a single-platform image under `tag`, built at `created`; returns its digest.
fn image(registry: &Registry, repository: &str, tag: &str, created: Option<&str>) -> String {
    let seed = format!("{repository}:{tag}");
    registry
        .push_image_created(repository, Some(tag), "linux", "amd64", &seed, created)
        .0
}

fn check(home: &std::path::Path, dir: &std::path::Path) -> Value {
    let out = support::repin(
        home,
        &[
            "check",
            "--no-cache",
            "--format",
            "json",
            dir.to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The update (or held-back entry) of the image whose name ends in `/repository`.
fn entry<'a>(report: &'a Value, list: &str, repository: &str) -> Option<&'a Value> {
    report[list].as_array().unwrap().iter().find(|u| {
        u["name"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/{repository}"))
    })
}

#[test]
fn image_updates_have_their_build_age_and_young_ones_wait() {
    let registry = Registry::start(RegistryAuth::None);
    let hour_ago = ago(3600);
    let mut first = std::collections::BTreeMap::new();
    for repository in [
        "team/young",
        "team/old",
        "team/unknown",
        "team/multi",
        "team/pinned",
        "team/annotated",
    ] {
        let digest = image(&registry, repository, "1.0", Some("2020-01-01T00:00:00Z"));
        first.insert(repository, digest);
    }
    image(&registry, "team/young", "1.1", Some(&hour_ago));
    image(&registry, "team/old", "1.1", Some(OLD));
    image(&registry, "team/unknown", "1.1", None);
    // A reproducible build's epoch is no build time.
    image(
        &registry,
        "team/unknown",
        "1.2",
        Some("1970-01-01T00:00:00Z"),
    );
    let seed = "team/multi:1.1";
    registry.push_index_created(
        "team/multi",
        "1.1",
        (seed, Some(OLD)),
        (seed, Some(&hour_ago)),
    );
    // The index's entry says when it was built; its config does not.
    registry.push_index_entry_created("team/annotated", "1.1", "team/annotated:1.1", OLD);
    let pinned_old = &first["team/pinned"];
    let pinned_new = image(&registry, "team/pinned", "1.1", Some(OLD));

    let repo = tempfile::tempdir().unwrap();
    let host = &registry.host;
    std::fs::write(
        repo.path().join("Dockerfile"),
        format!(
            "FROM {host}/team/young:1.0 AS a\nFROM {host}/team/old:1.0 AS b\nFROM {host}/team/unknown:1.0 AS c\nFROM {host}/team/multi:1.0 AS d\nFROM {host}/team/pinned:1.0@{pinned_old}\nFROM {host}/team/annotated:1.0 AS e\n"
        ),
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let config = |extra: &str| {
        std::fs::write(
            repo.path().join("repin.toml"),
            format!("[registries.\"{host}\"]\ninsecure = true\n{extra}"),
        )
        .unwrap();
    };
    let days_old = (now() - OLD_SECONDS) / 86_400;

    // Without a minimum release age: every update, each with its age.
    config("");
    let report = check(home.path(), repo.path());
    let young = entry(&report, "updates", "team/young").expect("young's update");
    // Tag-only references get the digest too (repin pins by default).
    assert!(
        young["proposed"]
            .as_str()
            .unwrap()
            .starts_with("1.1@sha256:"),
        "{young:#}"
    );
    assert_eq!(young["age_days"], 0, "{young:#}");
    let old = entry(&report, "updates", "team/old").expect("old's update");
    assert_eq!(old["age_days"], days_old, "{old:#}");
    let unknown = entry(&report, "updates", "team/unknown").expect("unknown's update");
    assert!(
        unknown["proposed"]
            .as_str()
            .unwrap()
            .starts_with("1.2@sha256:"),
        "{unknown:#}"
    );
    assert_eq!(unknown["age_days"], Value::Null, "{unknown:#}");
    let pinned = entry(&report, "updates", "team/pinned").expect("pinned's update");
    assert_eq!(pinned["proposed"], format!("1.1@{pinned_new}"));
    assert_eq!(pinned["age_days"], days_old, "{pinned:#}");
    // Only linux/amd64 is in use: the index's amd64 image is years old.
    let multi = entry(&report, "updates", "team/multi").expect("multi's update");
    assert_eq!(multi["age_days"], days_old, "{multi:#}");
    // From the index entry's annotation (the config has no `created`).
    let annotated = entry(&report, "updates", "team/annotated").expect("annotated's update");
    assert_eq!(annotated["age_days"], days_old, "{annotated:#}");

    // A minimum release age of 3 days: the young image and the one of unknown age wait.
    config("[update]\nminimum-release-age = \"3 days\"\n");
    let report = check(home.path(), repo.path());
    assert!(
        entry(&report, "updates", "team/young").is_none(),
        "{report:#}"
    );
    let held = entry(&report, "held_back", "team/young").expect("young held back");
    let reason = held["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("1.1@sha256:")
            && reason.contains(" held back: built ")
            && reason.contains("younger than the minimum release age of 3 days"),
        "{reason}"
    );
    let held = entry(&report, "held_back", "team/unknown").expect("unknown held back");
    let reason = held["reason"].as_str().unwrap();
    assert!(
        reason.contains("does not say when it was built") && !reason.contains("hint"),
        "{reason}"
    );
    // What to do about it is a hint beside the reason.
    assert_eq!(
        held["hints"],
        serde_json::json!([
            "`missing-release-age = \"allow\"` under [images] proposes such images anyway"
        ]),
        "{held:#}"
    );
    for repository in ["team/old", "team/pinned", "team/multi"] {
        assert!(
            entry(&report, "updates", repository).is_some(),
            "{repository}: {report:#}"
        );
    }

    // A minimum of zero is no cooldown: nothing waits, whatever its registry says.
    config("[update]\nminimum-release-age = \"0 days\"\n");
    let report = check(home.path(), repo.path());
    assert_eq!(
        report["held_back"].as_array().unwrap().len(),
        0,
        "{report:#}"
    );

    // Both platforms in use: the index's arm64 image is an hour old, and the youngest counts;
    // images of unknown age allowed.
    config(
        "[update]\nminimum-release-age = \"3 days\"\n[images]\nplatforms = [\"linux/amd64\", \"linux/arm64\"]\nmissing-release-age = \"allow\"\n",
    );
    let report = check(home.path(), repo.path());
    assert!(
        entry(&report, "held_back", "team/multi").is_some(),
        "{report:#}"
    );
    let unknown = entry(&report, "updates", "team/unknown").expect("unknown allowed");
    assert_eq!(unknown["age_days"], Value::Null);
}
