//! Table tests of end-of-life reports and migrations, with tags shaped like the official python
//! image around 2025-2026 and dates chosen around the releases' end-of-life dates.

use std::path::Path;

use super::tests::{D1, D2, D3, dependency, summary, tags};
use super::*;
use crate::config::Loaded;

/// Tags shaped like the python image's list in 2026: bullseye only for 3.9, bookworm and
/// trixie for the rest, Alpine branches 3.19 to 3.22, a release candidate.
const TAGS: &[&str] = &[
    "3.9.20-slim-bullseye",
    "3.9-slim-bullseye",
    "3.9-slim-bookworm",
    "3.9-slim",
    "3.9-alpine3.19",
    "3.10.21-slim-bookworm",
    "3.10.21-slim-trixie",
    "3.10-slim-bookworm",
    "3.10-slim-trixie",
    "3.10-slim",
    "3.10-alpine3.21",
    "3.10-alpine3.22",
    "3.11-slim-bookworm",
    "3.11-slim-trixie",
    "3.12.14-slim-trixie",
    "3.12-slim-bookworm",
    "3.12-slim-trixie",
    "3.12-slim",
    "3.12-alpine3.22",
    "3.13-slim-trixie",
    "3.14-slim-trixie",
    "3.14-slim",
    "3.15-rc-slim-trixie",
    "3.15-rc-slim",
    "slim-bookworm",
    "slim-trixie",
    "slim",
];

const MIGRATE: &str = "[update]\npin-digests = false\nkinds = [\"patch\", \"minor\", \"python-minor\", \"migration\"]\n";
const MIGRATE_NEWEST: &str = "[update]\npin-digests = false\nkinds = [\"patch\", \"minor\", \"python-minor\", \"migration\"]\n[images]\nmigration-target = \"newest\"\n";
const NO_DIGESTS: &str = "[update]\npin-digests = false\n";

/// Plan and finish `from` with `config` on `day`, with the tag list `list`.
fn decide_at(from: &str, config: &str, list: &[&str], day: &str, facts: &DigestFacts) -> Decision {
    let loaded = Loaded::from_text("repin.toml", config).unwrap_or_else(|e| panic!("{e}"));
    let dep = dependency(from);
    let policy = |kind| Policy::from_config(&loaded, &dep.name, Path::new("Dockerfile"), kind);
    let calendar = Calendar {
        today: day.parse().unwrap(),
        data: &loaded.release_data,
    };
    let plan = plan(&dep, &tags(list), &policy, &calendar);
    finish(&dep, &plan, facts, &policy)
}

#[test]
fn end_of_life_tags_migrate() {
    let cases: &[(&str, &str, &str, &str)] = &[
        // Python 3.9 ended on 2025-10-31; the oldest supported minor with `-slim` is 3.10. The
        // routine Python-minor bump to the newest stays a separate update.
        (
            "python:3.9-slim",
            MIGRATE,
            "2025-11-15",
            "python-minor 3.14-slim, migration 3.10-slim",
        ),
        // The newest is where the Python-minor bump goes already: one update, the migration.
        (
            "python:3.9-slim",
            MIGRATE_NEWEST,
            "2025-11-15",
            "migration 3.14-slim",
        ),
        // The day before, 3.9 is still supported.
        (
            "python:3.9-slim",
            MIGRATE,
            "2025-10-30",
            "python-minor 3.14-slim",
        ),
        // Debian bullseye ended on 2024-08-14; Python 3.11 did not, so it stays. Trixie is not
        // released yet on 2025-01-01, so bookworm is the newest supported release.
        (
            "python:3.11-slim-bullseye",
            MIGRATE,
            "2025-01-01",
            "migration 3.11-slim-bookworm",
        ),
        // Bookworm's security support ended on 2026-06-10: trixie.
        (
            "python:3.11-slim-bullseye",
            MIGRATE,
            "2026-07-01",
            "migration 3.11-slim-trixie",
        ),
        // Both ended: the oldest supported Python on the newest supported Debian.
        (
            "python:3.9-slim-bullseye",
            MIGRATE,
            "2025-11-15",
            "migration 3.10-slim-trixie",
        ),
        (
            "python:3.9-slim-bullseye",
            MIGRATE_NEWEST,
            "2025-11-15",
            "migration 3.14-slim-trixie",
        ),
        // Full versions move to the newest patch of the target minor.
        (
            "python:3.9.20-slim-bullseye",
            MIGRATE,
            "2025-11-15",
            "migration 3.10.21-slim-trixie",
        ),
        // Python 3.10 ends in 2026-10 (counted as its last day): 3.11 after that.
        (
            "python:3.10-slim",
            MIGRATE,
            "2026-10-31",
            "python-minor 3.14-slim, migration 3.12-slim",
        ),
        // Alpine 3.19 ended on 2025-11-01; 3.21 and 3.22 are supported, 3.22 is the newest.
        (
            "python:3.10-alpine3.19",
            MIGRATE,
            "2025-11-15",
            "migration 3.10-alpine3.22",
        ),
        (
            "python:3.9-alpine3.19",
            MIGRATE,
            "2025-11-15",
            "migration 3.10-alpine3.22",
        ),
        // A named tag keeps its flavour and moves its release.
        (
            "python:slim-bookworm",
            MIGRATE,
            "2026-07-01",
            "migration slim-trixie",
        ),
        // Floating tags never end by distribution, supported ones not at all.
        (
            "python:3.12-slim",
            MIGRATE,
            "2026-07-01",
            "python-minor 3.14-slim",
        ),
        (
            "python:3.12-slim-trixie",
            MIGRATE,
            "2026-07-01",
            "python-minor 3.14-slim-trixie",
        ),
    ];
    for (from, config, day, expected) in cases {
        let d = decide_at(from, config, TAGS, day, &DigestFacts::default());
        assert_eq!(summary(&d), *expected, "{from} on {day} with {config:?}");
    }
}

#[test]
fn a_migration_says_what_ended_and_where_it_goes() {
    let d = decide_at(
        "python:3.9-slim-bullseye",
        MIGRATE,
        TAGS,
        "2025-11-15",
        &DigestFacts::default(),
    );
    let migration = &d.updates[0];
    assert_eq!(migration.kind, UpdateKind::Migration);
    assert_eq!(
        migration.reason,
        "Python 3.9 reached end of life on 2025-10-31 and Debian bullseye on 2024-08-14; migrate to the oldest supported Python minor, on Debian trixie"
    );
    assert_eq!(
        migration.change,
        Change::Image {
            tag: Some("3.10-slim-trixie".into()),
            digest: None
        }
    );
    // The reason says it all; no note repeats it.
    assert!(
        !d.notes.iter().any(|n| n.text.contains("end of life")),
        "{:?}",
        d.notes
    );
    let d = decide_at(
        "python:3.11-slim-bullseye",
        MIGRATE,
        TAGS,
        "2025-01-01",
        &DigestFacts::default(),
    );
    assert_eq!(
        d.updates[0].reason,
        "Debian bullseye reached end of life on 2024-08-14; migrate to Debian bookworm"
    );
    let d = decide_at(
        "python:3.10-slim",
        MIGRATE_NEWEST,
        TAGS,
        "2026-11-01",
        &DigestFacts::default(),
    );
    assert_eq!(
        d.updates[0].reason,
        "Python 3.10 reached end of life on 2026-10; migrate to the newest supported Python minor"
    );
}

#[test]
fn without_opting_in_the_end_of_life_is_still_reported() {
    // Nothing else to do: the migration is the held-back reason, with how to opt in.
    let d = decide_at(
        "python:3.9-slim-bullseye",
        NO_DIGESTS,
        TAGS,
        "2025-11-15",
        &DigestFacts::default(),
    );
    assert_eq!(
        d.none,
        Some(NoUpdate::HeldBack {
            version: "3.10-slim-trixie".into(),
            why: "Python 3.9 reached end of life on 2025-10-31 and Debian bullseye on 2024-08-14; migrate to the oldest supported Python minor, on Debian trixie; migration updates are not enabled (add \"migration\" to `kinds` in `[update]`)".into()
        })
    );
    // Other updates due: a note beside them.
    let d = decide_at(
        "python:3.9-slim",
        NO_DIGESTS,
        TAGS,
        "2025-11-15",
        &DigestFacts::default(),
    );
    assert_eq!(summary(&d), "python-minor 3.14-slim");
    assert_eq!(
        d.notes.iter().map(|n| n.text.as_str()).collect::<Vec<_>>(),
        [
            "3.10-slim held back: Python 3.9 reached end of life on 2025-10-31; migrate to the oldest supported Python minor; migration updates are not enabled (add \"migration\" to `kinds` in `[update]`)"
        ]
    );
    // A rule that disables migrations for the image says so, without the hint.
    let config = "[update]\npin-digests = false\nkinds = [\"migration\"]\n[[rules]]\nnames = [\"docker.io/library/python\"]\nkinds = [\"migration\"]\nenabled = false\n";
    let d = decide_at(
        "python:3.9-slim-bullseye",
        config,
        TAGS,
        "2025-11-15",
        &DigestFacts::default(),
    );
    let Some(NoUpdate::HeldBack { why, .. }) = &d.none else {
        panic!("{d:?}");
    };
    assert!(
        why.text
            .ends_with("; updates are disabled for it by configuration")
            && why.hints.is_empty(),
        "{why}"
    );
}

#[test]
fn nowhere_to_go_is_a_note() {
    // Only bullseye tags, and no supported Python on them: nothing to migrate to.
    let list = [
        "3.9-slim-bullseye",
        "3.9.20-slim-bullseye",
        "3.8-slim-bullseye",
    ];
    let d = decide_at(
        "python:3.9-slim-bullseye",
        MIGRATE,
        &list,
        "2025-11-15",
        &DigestFacts::default(),
    );
    assert_eq!(summary(&d), "none: up to date");
    assert_eq!(
        d.notes.iter().map(|n| n.text.as_str()).collect::<Vec<_>>(),
        [
            "Python 3.9 reached end of life on 2025-10-31 and Debian bullseye on 2024-08-14; no supported tag of the same variant is published to migrate to"
        ]
    );
    // Release candidates are never a migration target.
    let list = ["3.9-slim", "3.15-rc-slim"];
    let d = decide_at(
        "python:3.9-slim",
        MIGRATE,
        &list,
        "2030-11-01",
        &DigestFacts::default(),
    );
    assert!(
        d.notes[0]
            .text
            .ends_with("no supported tag of the same variant is published to migrate to")
    );
}

#[test]
fn a_supported_release_moves_only_when_it_has_no_supported_python() {
    // 3.9 ended; bullseye is supported with an override (Debian LTS), but no supported Python
    // is published on it: the newest supported release is taken.
    let config = format!("{MIGRATE}[images.end-of-life]\nbullseye = \"2026-08-31\"\n");
    let d = decide_at(
        "python:3.9-slim-bullseye",
        &config,
        TAGS,
        "2025-11-15",
        &DigestFacts::default(),
    );
    assert_eq!(summary(&d), "migration 3.10-slim-trixie");
    // With a supported Python on bullseye, it stays on bullseye.
    let d = decide_at(
        "python:3.9-slim-bullseye",
        &config,
        &[
            "3.9-slim-bullseye",
            "3.11-slim-bullseye",
            "3.11-slim-trixie",
        ],
        "2025-11-15",
        &DigestFacts::default(),
    );
    assert_eq!(summary(&d), "migration 3.11-slim-bullseye");
}

#[test]
fn overrides_move_the_dates() {
    // Counting Debian LTS for bullseye: not end of life in 2025.
    let config = format!("{MIGRATE}[images.end-of-life]\nbullseye = \"2026-08-31\"\n");
    let d = decide_at(
        "python:3.11-slim-bullseye",
        &config,
        TAGS,
        "2025-01-01",
        &DigestFacts::default(),
    );
    assert_eq!(summary(&d), "none: up to date");
    // The reason says it all; no note repeats it.
    assert!(
        !d.notes.iter().any(|n| n.text.contains("end of life")),
        "{:?}",
        d.notes
    );
    // Ending 3.12 early makes 3.13 the oldest supported minor.
    let config = format!("{MIGRATE}[images.end-of-life]\n\"3.12\" = \"2026-01\"\n");
    let d = decide_at(
        "python:3.12-slim-trixie",
        &config,
        TAGS,
        "2026-02-01",
        &DigestFacts::default(),
    );
    assert_eq!(
        summary(&d),
        "python-minor 3.14-slim-trixie, migration 3.13-slim-trixie"
    );
    assert!(
        d.updates[1]
            .reason
            .starts_with("Python 3.12 reached end of life on 2026-01;")
    );
}

#[test]
fn digest_pinned_migrations_carry_the_new_digest() {
    let facts = DigestFacts {
        digests: [("3.9-slim-bullseye", D1), ("3.10-slim-trixie", D2)]
            .iter()
            .map(|(t, d)| ((*t).to_owned(), (*d).to_owned()))
            .collect(),
        ..DigestFacts::default()
    };
    let config = "[update]\nkinds = [\"digest\", \"pin\", \"migration\"]\n";
    let from = format!("python:3.9-slim-bullseye@{D1}");
    let loaded = Loaded::from_text("repin.toml", config).unwrap();
    let dep = dependency(&from);
    let policy = |kind| Policy::from_config(&loaded, &dep.name, Path::new("Dockerfile"), kind);
    let calendar = Calendar::embedded("2025-11-15".parse().unwrap());
    let p = plan(&dep, &tags(TAGS), &policy, &calendar);
    assert_eq!(
        p.tags_to_resolve(),
        ["3.9-slim-bullseye", "3.10-slim-trixie"]
    );
    let d = finish(&dep, &p, &facts, &policy);
    assert_eq!(summary(&d), format!("migration 3.10-slim-trixie@{D2}"));
    assert_eq!(
        d.updates[0].change,
        Change::Image {
            tag: Some("3.10-slim-trixie".into()),
            digest: Some(D2.into())
        }
    );
    // The current tag rebuilt as well: its refresh comes first, the migration apart.
    let mut rebuilt = facts.clone();
    rebuilt
        .digests
        .insert("3.9-slim-bullseye".into(), D3.into());
    let d = finish(&dep, &p, &rebuilt, &policy);
    assert_eq!(
        summary(&d),
        format!("digest 3.9-slim-bullseye@{D3}, migration 3.10-slim-trixie@{D2}")
    );
    // No digest for the target: left out, and what ended is still said.
    let mut missing = facts.clone();
    missing.digests.remove("3.10-slim-trixie");
    let d = finish(&dep, &p, &missing, &policy);
    assert_eq!(summary(&d), "none: up to date");
    let at = d
        .notes
        .iter()
        .position(|n| {
            n.text == "no digest could be found for 3.10-slim-trixie; the update is left out"
        })
        .unwrap_or_else(|| panic!("{:?}", d.notes));
    assert!(
        d.notes[at + 1]
            .text
            .starts_with("Python 3.9 reached end of life on 2025-10-31")
    );
}

#[test]
fn other_images_migrate_their_distribution() {
    let list = [
        "20-bullseye",
        "20-bookworm",
        "20.1-bookworm",
        "22-bookworm",
        "22-trixie",
        "18-trixie",
    ];
    let d = decide_at(
        "node:20-bullseye",
        MIGRATE,
        &list,
        "2025-01-01",
        &DigestFacts::default(),
    );
    assert_eq!(summary(&d), "migration 20-bookworm");
    assert_eq!(
        d.updates[0].reason,
        "Debian bullseye reached end of life on 2024-08-14; migrate to Debian bookworm"
    );
    // PyPy's Python version is its own: only the distribution counts.
    let d = decide_at(
        "pypy:3.9-slim-bullseye",
        MIGRATE,
        &[
            "3.9-slim-bullseye",
            "3.9-slim-bookworm",
            "3.10-slim-bookworm",
        ],
        "2025-11-15",
        &DigestFacts::default(),
    );
    assert_eq!(summary(&d), "migration 3.9-slim-bookworm");
    // A Python written into a prefix moves like the python image's.
    let list = ["python3.9-slim", "python3.10-slim", "python3.11-slim"];
    let d = decide_at(
        "tiangolo/uvicorn-gunicorn:python3.9-slim",
        MIGRATE,
        &list,
        "2025-11-15",
        &DigestFacts::default(),
    );
    assert_eq!(
        summary(&d),
        "python-minor python3.11-slim, migration python3.10-slim"
    );
}
