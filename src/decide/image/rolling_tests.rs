//! Table tests of rolling tags: their codename-qualified siblings, and the digest refresh that
//! says when the tag moved to another distribution release.

use std::path::Path;

use super::rolling::{base_distribution, siblings};
use super::tests::{D1, D2, D3, dependency, summary, tags};
use super::*;
use crate::config::Loaded;

/// Tags shaped like the python image's in 2025, when trixie came out.
const TAGS: &[&str] = &[
    "3.12.11-slim-bookworm",
    "3.12.11-slim-trixie",
    "3.12-slim-bookworm",
    "3.12-slim-trixie",
    "3.12-slim",
    "3.12-bookworm",
    "3.13-slim-trixie",
];

#[test]
fn a_rolling_tag_that_moved_distribution_says_so() {
    let pinned = dependency(&format!("python:3.12-slim@{D1}"));
    let config = "[update]\nkinds = [\"digest\"]\n";
    let loaded = Loaded::from_text("repin.toml", config).unwrap();
    let policy = |kind| Policy::from_config(&loaded, &pinned.name, Path::new("Dockerfile"), kind);
    let calendar = Calendar::embedded("2025-09-01".parse().unwrap());
    let p = plan(&pinned, &tags(TAGS), &policy, &calendar);
    assert_eq!(p.siblings, ["3.12-slim-bookworm", "3.12-slim-trixie"]);
    let facts = |bookworm: &str| DigestFacts {
        digests: [("3.12-slim".to_owned(), D2.to_owned())].into(),
        platforms_changed: Some(true),
        platforms: vec!["linux/amd64".into()],
        siblings: [
            ("3.12-slim-bookworm".to_owned(), bookworm.to_owned()),
            ("3.12-slim-trixie".to_owned(), D2.to_owned()),
        ]
        .into(),
        ..DigestFacts::default()
    };
    // The old digest is still bookworm's, the new one trixie's.
    let d = finish(&pinned, &p, &facts(D1), &policy);
    assert_eq!(summary(&d), format!("digest 3.12-slim@{D2}"));
    assert_eq!(
        d.updates[0].reason,
        "the tag was rebuilt: new manifests for linux/amd64; `3.12-slim` moved from Debian bookworm to Debian trixie (it is `3.12-slim-trixie` now)"
    );
    // Bookworm was rebuilt too: the old digest names no sibling, so nothing is claimed.
    let d = finish(&pinned, &p, &facts(D3), &policy);
    assert_eq!(
        d.updates[0].reason,
        "the tag was rebuilt: new manifests for linux/amd64"
    );
    // The same distribution before and after: a plain rebuild.
    let mut same = facts(D1);
    same.siblings.insert("3.12-slim-trixie".into(), D3.into());
    same.siblings.insert("3.12-slim-bookworm".into(), D2.into());
    let d = finish(&pinned, &p, &same, &policy);
    assert_eq!(
        d.updates[0].reason,
        "the tag was rebuilt: new manifests for linux/amd64"
    );
}

#[test]
fn the_old_distribution_can_come_from_the_base_image_annotation() {
    let pinned = dependency(&format!("python:3.12-slim@{D1}"));
    let loaded = Loaded::from_text("repin.toml", "[update]\nkinds = [\"digest\"]\n").unwrap();
    let policy = |kind| Policy::from_config(&loaded, &pinned.name, Path::new("Dockerfile"), kind);
    let calendar = Calendar::embedded("2025-09-01".parse().unwrap());
    let p = plan(&pinned, &tags(TAGS), &policy, &calendar);
    // Bookworm was rebuilt since the pin (D3), so no sibling has the old digest; the old
    // index says it was built on `debian:bookworm-slim`.
    let mut facts = DigestFacts {
        digests: [("3.12-slim".to_owned(), D2.to_owned())].into(),
        platforms_changed: Some(true),
        platforms: vec!["linux/amd64".into()],
        siblings: [
            ("3.12-slim-bookworm".to_owned(), D3.to_owned()),
            ("3.12-slim-trixie".to_owned(), D2.to_owned()),
        ]
        .into(),
        base_names: [(D1.to_owned(), "debian:bookworm-slim".to_owned())].into(),
    };
    let d = finish(&pinned, &p, &facts, &policy);
    assert_eq!(
        d.updates[0].reason,
        "the tag was rebuilt: new manifests for linux/amd64; `3.12-slim` moved from Debian bookworm to Debian trixie (it is `3.12-slim-trixie` now)"
    );
    // Both sides from annotations: no sibling to name.
    facts.siblings.clear();
    facts.base_names.insert(
        D2.to_owned(),
        "docker.io/library/debian:trixie-slim@sha256:00".to_owned(),
    );
    let d = finish(&pinned, &p, &facts, &policy);
    assert_eq!(
        d.updates[0].reason,
        "the tag was rebuilt: new manifests for linux/amd64; `3.12-slim` moved from Debian bookworm to Debian trixie"
    );
}

#[test]
fn base_image_names() {
    use crate::versioning::docker_tag::DistroFamily::{Alpine, Debian};
    let cases = [
        ("debian:bookworm-slim", Some((Debian, "bookworm"))),
        (
            "docker.io/library/debian:trixie@sha256:abc",
            Some((Debian, "trixie")),
        ),
        ("alpine:3.20", Some((Alpine, "3.20"))),
        ("alpine:3.20.3", Some((Alpine, "3.20"))),
        ("python:3.12-slim-trixie", Some((Debian, "trixie"))),
        ("debian:12-slim", None),
        ("alpine:latest", None),
        ("debian", None),
        ("localhost:5000/debian", None),
    ];
    for (base, expected) in cases {
        let got = base_distribution(base);
        let got = got
            .as_ref()
            .map(|d| (d.family, d.release.as_deref().unwrap()));
        assert_eq!(got, expected, "{base}");
    }
}

#[test]
fn siblings_of_floating_tags() {
    let list = [
        "3.12-slim-bookworm",
        "3.12-slim-trixie",
        "3.12-bookworm",
        "3.12-trixie",
        "3.12-alpine3.21",
        "3.12-alpine3.22",
        "3.12-windowsservercore-ltsc2022",
        "3.12.4-slim-bookworm",
        "3.13-slim-trixie",
        "slim-bookworm",
        "slim-trixie",
        "bookworm",
        "trixie",
        "alpine3.22",
    ];
    let cases: &[(&str, &[&str])] = &[
        ("3.12-slim", &["3.12-slim-bookworm", "3.12-slim-trixie"]),
        ("3.12", &["3.12-bookworm", "3.12-trixie"]),
        ("3.12-alpine", &["3.12-alpine3.21", "3.12-alpine3.22"]),
        ("slim", &["slim-bookworm", "slim-trixie"]),
        ("latest", &["bookworm", "trixie"]),
        ("3.12-slim-bookworm", &[]),
        ("3.12.4-slim", &["3.12.4-slim-bookworm"]),
    ];
    for (current, expected) in cases {
        assert_eq!(
            siblings(&DockerTag::parse(current), &tags(&list)),
            *expected,
            "{current}"
        );
    }
}
