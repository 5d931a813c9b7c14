//! End-of-life reports and migrations against the real tag lists of the official python image
//! (docker-library/official-images `library/python` snapshots in `$REPIN_CORPUS/images/`). The
//! expected targets were worked out by hand from those lists and the embedded release data; the
//! comment of each case says how.

use std::collections::BTreeSet;
use std::path::Path;

use super::eol::{EndOfLife, migration_target};
use super::tests::{dependency, summary};
use super::*;
use crate::config::{Loaded, MigrationTarget};
use crate::testing::corpus;
use crate::versioning::docker_tag::corpus_tests::{SNAPSHOTS, snapshot};
use crate::versioning::support::Release;

const PYTHON: &str = "docker.io/library/python";

fn tag_list(corpus: &Path, date: &str) -> Vec<String> {
    snapshot(corpus, date)
        .all_tags()
        .into_iter()
        .map(str::to_owned)
        .collect()
}

fn target(list: &[String], current: &str, day: &str, target: MigrationTarget) -> Option<String> {
    let calendar = Calendar::embedded(day.parse().unwrap());
    let current = DockerTag::parse(current);
    let eol = EndOfLife::of(PYTHON, &current, &calendar)?;
    migration_target(PYTHON, &current, list, &eol, &calendar, target).map(|m| m.tag)
}

#[test]
fn migration_targets_in_real_tag_lists() {
    use MigrationTarget::{Newest, OldestSupported};
    let corpus = corpus();
    // (snapshot, current tag, day of the run, migration-target, expected target)
    let cases = [
        // 2024-06-13 publishes 3.8 to 3.12 (and 3.13.0b2) on bookworm and bullseye. On
        // 2024-10-15 Python 3.9 is supported (until 2025-10-31) but bullseye's security support
        // ended on 2024-08-14: the same minor on the newest supported release, bookworm.
        (
            "2024-06-13",
            "3.9-slim-bullseye",
            "2024-10-15",
            OldestSupported,
            Some("3.9-slim-bookworm"),
        ),
        // A year later both ended. Supported minors with a `-slim-bookworm` tag: 3.10, 3.11 and
        // 3.12 (3.13 is only a beta there, never a target): the oldest is 3.10 ...
        (
            "2024-06-13",
            "3.9-slim-bullseye",
            "2025-11-15",
            OldestSupported,
            Some("3.10-slim-bookworm"),
        ),
        // ... and the newest 3.12: the issue's `3.9-slim-bullseye` to `3.12-slim-bookworm`.
        (
            "2024-06-13",
            "3.9-slim-bullseye",
            "2025-11-15",
            Newest,
            Some("3.12-slim-bookworm"),
        ),
        // Alpine 3.20 is supported until 2026-04-01, so an end-of-life 3.9 stays on it: 3.10
        // is the oldest supported minor with `-alpine3.20`.
        (
            "2024-06-13",
            "3.9-alpine3.20",
            "2025-11-15",
            OldestSupported,
            Some("3.10-alpine3.20"),
        ),
        // 2026-08-13 publishes 3.10 to 3.14 on trixie and bookworm, bullseye is gone. On that
        // day 3.9 and bullseye ended, and so did bookworm (2026-06-10): trixie. 3.10 ends only
        // in 2026-10, so it is the oldest supported minor; 3.14 the newest (3.15 is an rc).
        (
            "2026-08-13",
            "3.9-slim-bullseye",
            "2026-08-13",
            OldestSupported,
            Some("3.10-slim-trixie"),
        ),
        (
            "2026-08-13",
            "3.9-slim-bullseye",
            "2026-08-13",
            Newest,
            Some("3.14-slim-trixie"),
        ),
        // Full versions go to the newest patch of the target minor: 3.10.21.
        (
            "2026-08-13",
            "3.8.19-slim-bookworm",
            "2026-08-13",
            OldestSupported,
            Some("3.10.21-slim-trixie"),
        ),
        // Still published, but bookworm's security support ended: 3.12 stays, on trixie.
        (
            "2026-08-13",
            "3.12-slim-bookworm",
            "2026-08-13",
            OldestSupported,
            Some("3.12-slim-trixie"),
        ),
        (
            "2026-08-13",
            "bookworm",
            "2026-08-13",
            OldestSupported,
            Some("trixie"),
        ),
        // A release candidate moves to the release candidate on the newer release.
        (
            "2026-08-13",
            "3.15-rc-slim-bookworm",
            "2026-08-13",
            OldestSupported,
            Some("3.15-rc-slim-trixie"),
        ),
        // Alpine 3.19 ended on 2025-11-01; the list has 3.23 (supported until 2027-11-01) and
        // 3.24, which the release data does not know yet and so counts as supported: the
        // newest, 3.24.
        (
            "2026-08-13",
            "3.10-alpine3.19",
            "2026-08-13",
            OldestSupported,
            Some("3.10-alpine3.24"),
        ),
        // In October 2026 3.10 ends too: 3.11.
        (
            "2026-08-13",
            "3.10-alpine3.19",
            "2026-11-01",
            OldestSupported,
            Some("3.11-alpine3.24"),
        ),
        // 2022-03-16 has 3.7 to 3.10 on bullseye and buster. On 2023-07-01 3.7 (2023-06-27) and
        // buster (2022-09-10) ended: 3.8, the oldest supported minor, on bullseye.
        (
            "2022-03-16",
            "3.7-slim-buster",
            "2023-07-01",
            OldestSupported,
            Some("3.8-slim-bullseye"),
        ),
        // 2019-05-07 still publishes jessie, whose security support ended on 2018-06-17: the
        // same Python on stretch, whatever the precision.
        (
            "2019-05-07",
            "3.6-slim-jessie",
            "2019-05-07",
            OldestSupported,
            Some("3.6-slim-stretch"),
        ),
        (
            "2019-05-07",
            "2-slim-jessie",
            "2019-05-07",
            OldestSupported,
            Some("2-slim-stretch"),
        ),
        (
            "2019-05-07",
            "3.6.8-jessie",
            "2019-05-07",
            OldestSupported,
            Some("3.6.8-stretch"),
        ),
        // Nothing ended: no migration.
        (
            "2026-08-13",
            "3.13-slim-trixie",
            "2026-08-13",
            OldestSupported,
            None,
        ),
        (
            "2026-08-13",
            "3.12-slim",
            "2026-08-13",
            OldestSupported,
            None,
        ),
    ];
    for (date, current, day, how, expected) in cases {
        let list = tag_list(&corpus, date);
        assert_eq!(
            target(&list, current, day, how).as_deref(),
            expected,
            "{date} list, {current} on {day}, {how:?}"
        );
    }
}

/// On its own date, each snapshot's end-of-life tags are those of one distribution release:
/// jessie in 2019 (Docker kept it past Debian's security support), none in 2022 and 2024, and
/// bookworm in 2026 (Docker keeps the two newest Debian releases, so bookworm stays published
/// after its security support ended on 2026-06-10). Each of them has a migration target in the
/// same list, which is not end of life itself.
#[test]
fn every_end_of_life_tag_of_a_snapshot_has_a_target() {
    let corpus = corpus();
    let expected = [
        ("2019-05-07", vec![Release::Debian("jessie".into())]),
        ("2022-03-16", vec![]),
        ("2024-06-13", vec![]),
        ("2026-08-13", vec![Release::Debian("bookworm".into())]),
    ];
    assert_eq!(expected.len(), SNAPSHOTS.len());
    for (date, releases) in expected {
        let list = tag_list(&corpus, date);
        let calendar = Calendar::embedded(date.parse().unwrap());
        let mut ended = BTreeSet::new();
        let mut checked = 0;
        for tag in &list {
            let parsed = DockerTag::parse(tag);
            let Some(eol) = EndOfLife::of(PYTHON, &parsed, &calendar) else {
                continue;
            };
            ended.extend(
                eol.python
                    .iter()
                    .chain(&eol.distribution)
                    .map(|e| e.release.clone()),
            );
            let to = migration_target(
                PYTHON,
                &parsed,
                &list,
                &eol,
                &calendar,
                MigrationTarget::OldestSupported,
            )
            .unwrap_or_else(|| panic!("{date}: no target for {tag}"));
            let moved = DockerTag::parse(&to.tag);
            assert!(
                EndOfLife::of(PYTHON, &moved, &calendar).is_none(),
                "{date}: {tag} -> {} is end of life too",
                to.tag
            );
            assert_eq!(
                moved.variant_info().flavour,
                parsed.variant_info().flavour,
                "{date} {tag}"
            );
            assert_eq!(moved.precision(), parsed.precision(), "{date} {tag}");
            checked += 1;
        }
        assert_eq!(ended.into_iter().collect::<Vec<_>>(), releases, "{date}");
        assert_eq!(checked > 0, !releases.is_empty(), "{date}");
    }
}

/// Through `plan` and `finish`, as a run on 2026-08-13 against that day's list: the report
/// without opting in, and the update with it.
#[test]
fn a_run_on_the_day_of_the_newest_list() {
    let corpus = corpus();
    let list = tag_list(&corpus, "2026-08-13");
    let decide = |from: &str, config: &str| {
        let loaded = Loaded::from_text("repin.toml", config).unwrap();
        let dep = dependency(from);
        let policy = |kind| Policy::from_config(&loaded, &dep.name, Path::new("Dockerfile"), kind);
        let calendar = Calendar {
            today: "2026-08-13".parse().unwrap(),
            data: &loaded.release_data,
        };
        let plan = plan(&dep, &list, &policy, &calendar);
        finish(&dep, &plan, &DigestFacts::default(), &policy)
    };
    let d = decide(
        "python:3.9-slim-bullseye",
        "[update]\npin-digests = false\n",
    );
    assert_eq!(
        summary(&d),
        "none: 3.10-slim-trixie held back: Python 3.9 reached end of life on 2025-10-31 and Debian bullseye on 2024-08-14; migrate to the oldest supported Python minor, on Debian trixie; migration updates are not enabled (add \"migration\" to `kinds` in `[update]`)"
    );
    let opted_in =
        "[update]\npin-digests = false\nkinds = [\"patch\", \"python-minor\", \"migration\"]\n";
    let d = decide("python:3.12.3-slim-bookworm", opted_in);
    // The patch and the Python-minor bump stay on bookworm; the migration is apart.
    assert_eq!(
        summary(&d),
        "patch 3.12.14-slim-bookworm, python-minor 3.14.7-slim-bookworm, migration 3.12.14-slim-trixie"
    );
    assert_eq!(
        d.updates[2].reason,
        "Debian bookworm reached end of life on 2026-06-10; migrate to Debian trixie"
    );
    // Counting Debian LTS for bookworm (until 2028-06-30) instead: no migration, no report.
    let lts = format!("{opted_in}[images.end-of-life]\nbookworm = \"2028-06-30\"\n");
    let d = decide("python:3.12.3-slim-bookworm", &lts);
    assert_eq!(
        summary(&d),
        "patch 3.12.14-slim-bookworm, python-minor 3.14.7-slim-bookworm"
    );
    assert!(
        !d.notes.iter().any(|n| n.text.contains("end of life")),
        "{:?}",
        d.notes
    );
}
