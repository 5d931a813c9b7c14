//! Table tests of the image decision rules, with tags shaped like the official python image.

use std::path::Path;

use super::*;
use crate::config::Loaded;
use crate::manifest::{self, ManifestKind};
use crate::text::{Encoding, SourceFile};

pub(super) const D1: &str =
    "sha256:1111111111111111111111111111111111111111111111111111111111111111";
pub(super) const D2: &str =
    "sha256:2222222222222222222222222222222222222222222222222222222222222222";
pub(super) const D3: &str =
    "sha256:3333333333333333333333333333333333333333333333333333333333333333";

pub(super) fn dependency(from: &str) -> Dependency {
    let text = format!("FROM {from}\n");
    let m = manifest::parse(
        SourceFile::from_text("Dockerfile", Encoding::Utf8, text),
        ManifestKind::Dockerfile,
    );
    m.dependencies.into_iter().next().unwrap()
}

/// The day the tag lists below are taken to be from: everything on them is supported.
fn calendar() -> Calendar<'static> {
    Calendar::embedded("2024-06-13".parse().unwrap())
}

pub(super) fn tags(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn policy_for(config: &str, dep: &Dependency) -> impl Fn(Option<UpdateKind>) -> Policy + use<> {
    let config = Loaded::from_text("repin.toml", config).unwrap();
    let name = dep.name.clone();
    move |kind| Policy::from_config(&config, &name, Path::new("Dockerfile"), kind)
}

pub(super) fn summary(d: &Decision) -> String {
    if d.updates.is_empty() {
        return format!(
            "none: {}",
            d.none.as_ref().map(NoUpdate::describe).unwrap_or_default()
        );
    }
    d.updates
        .iter()
        .map(|u| format!("{} {}", u.kind, u.proposed))
        .collect::<Vec<_>>()
        .join(", ")
}

const PYTHON_TAGS: &[&str] = &[
    "3.12.4-slim-bookworm",
    "3.12.5-slim-bookworm",
    "3.12.5-slim",
    "3.12.5-alpine3.20",
    "3.12-slim-bookworm",
    "3.13.0-slim-bookworm",
    "3.13.1-slim-bookworm",
    "3.14.0rc1-slim-bookworm",
    "3.12-slim",
    "3.13-slim",
    "3.11-slim",
    "3-slim",
    "3.12.1-slim-bullseye",
    "3.13.1-slim-trixie",
];

#[test]
fn tag_moves_keep_variant_and_precision_and_separate_python_minors() {
    let cases: &[(&str, &str, &str)] = &[
        // A patch and, separately, the next Python minor; never the rc, never another variant.
        (
            "python:3.12.4-slim-bookworm",
            "[update]\npin-digests = false\n",
            "patch 3.12.5-slim-bookworm, python-minor 3.13.1-slim-bookworm",
        ),
        // Precision 2: only another 2-part tag, and that is a Python minor bump.
        (
            "python:3.12-slim",
            "[update]\npin-digests = false\n",
            "python-minor 3.13-slim",
        ),
        // Python minors disabled.
        (
            "python:3.12.4-slim-bookworm",
            "[update]\npin-digests = false\nkinds = [\"patch\", \"minor\", \"major\"]\n",
            "patch 3.12.5-slim-bookworm",
        ),
        // allowed-versions on the image.
        (
            "python:3.12-slim",
            "[update]\npin-digests = false\n[[rules]]\nnames = [\"docker.io/library/python\"]\nallowed-versions = \"<3.13\"\n",
            "none: 3.13-slim held back: outside allowed-versions `<3.13`",
        ),
        // A tag with one part.
        (
            "python:3-slim",
            "[update]\npin-digests = false\n",
            "none: up to date",
        ),
    ];
    for (from, config, expected) in cases {
        let dep = dependency(from);
        let policy = policy_for(config, &dep);
        let plan = plan(&dep, &tags(PYTHON_TAGS), &policy, &calendar());
        assert!(
            plan.tags_to_resolve().is_empty(),
            "{from}: no digests wanted"
        );
        let d = finish(&dep, &plan, &DigestFacts::default(), &policy);
        assert_eq!(summary(&d), *expected, "{from} with {config:?}");
    }
}

#[test]
fn other_images_separate_majors() {
    let dep = dependency("node:20.10-alpine");
    let policy = policy_for("[update]\npin-digests = false\n", &dep);
    let plan = plan(
        &dep,
        &tags(&[
            "20.10-alpine",
            "20.11-alpine",
            "22.1-alpine",
            "22.1-slim",
            "23.0-alpine-rc",
        ]),
        &policy,
        &calendar(),
    );
    let d = finish(&dep, &plan, &DigestFacts::default(), &policy);
    assert_eq!(summary(&d), "minor 20.11-alpine, major 22.1-alpine");
}

#[test]
fn digests_pin_refresh_and_follow_tag_moves() {
    let facts = |pairs: &[(&str, &str)], changed: Option<bool>| DigestFacts {
        digests: pairs
            .iter()
            .map(|(t, d)| ((*t).to_owned(), (*d).to_owned()))
            .collect(),
        platforms_changed: changed,
        platforms: vec!["linux/amd64".into()],
        ..DigestFacts::default()
    };
    // No digest yet: pin it.
    let dep = dependency("python:3.12-slim");
    let policy = policy_for("[update]\nkinds = [\"patch\", \"digest\", \"pin\"]\n", &dep);
    let p = plan(&dep, &tags(PYTHON_TAGS), &policy, &calendar());
    assert_eq!(p.tags_to_resolve(), vec!["3.12-slim"]);
    let d = finish(&dep, &p, &facts(&[("3.12-slim", D1)], None), &policy);
    assert_eq!(summary(&d), format!("pin 3.12-slim@{D1}"));

    // Pinned, the tag was rebuilt and amd64 changed: refresh.
    let pinned = dependency(&format!("python:3.12-slim@{D1}"));
    let policy = policy_for(
        "[update]\nkinds = [\"patch\", \"digest\", \"pin\"]\n",
        &pinned,
    );
    let p = plan(&pinned, &tags(PYTHON_TAGS), &policy, &calendar());
    let d = finish(
        &pinned,
        &p,
        &facts(&[("3.12-slim", D2)], Some(true)),
        &policy,
    );
    assert_eq!(summary(&d), format!("digest 3.12-slim@{D2}"));
    // Rebuilt, but the manifests of the platforms in use are the same: no update, a note.
    let d = finish(
        &pinned,
        &p,
        &facts(&[("3.12-slim", D2)], Some(false)),
        &policy,
    );
    assert_eq!(summary(&d), "none: up to date");
    assert!(
        d.notes
            .iter()
            .any(|n| n.text.contains("manifests for linux/amd64 are unchanged")),
        "{:?}",
        d.notes
    );
    // Same digest: nothing.
    let d = finish(&pinned, &p, &facts(&[("3.12-slim", D1)], None), &policy);
    assert_eq!(summary(&d), "none: up to date");
    // With Python minors enabled, the refresh still comes first, the minor bump separately.
    let policy = policy_for("", &pinned);
    let p = plan(&pinned, &tags(PYTHON_TAGS), &policy, &calendar());
    let d = finish(
        &pinned,
        &p,
        &facts(&[("3.12-slim", D2), ("3.13-slim", D3)], Some(true)),
        &policy,
    );
    assert_eq!(
        summary(&d),
        format!("digest 3.12-slim@{D2}, python-minor 3.13-slim@{D3}")
    );

    // A tag move of a pinned image carries the new tag's digest.
    let full = dependency(&format!("python:3.12.4-slim-bookworm@{D1}"));
    let policy = policy_for("", &full);
    let p = plan(&full, &tags(PYTHON_TAGS), &policy, &calendar());
    assert_eq!(
        p.tags_to_resolve(),
        vec![
            "3.12.4-slim-bookworm",
            "3.12.5-slim-bookworm",
            "3.13.1-slim-bookworm"
        ]
    );
    let d = finish(
        &full,
        &p,
        &facts(
            &[
                ("3.12.4-slim-bookworm", D1),
                ("3.12.5-slim-bookworm", D2),
                ("3.13.1-slim-bookworm", D3),
            ],
            None,
        ),
        &policy,
    );
    assert_eq!(
        summary(&d),
        format!("patch 3.12.5-slim-bookworm@{D2}, python-minor 3.13.1-slim-bookworm@{D3}")
    );
    assert_eq!(
        d.updates[0].change,
        Change::Image {
            tag: Some("3.12.5-slim-bookworm".into()),
            digest: Some(D2.into())
        }
    );
    // A missing digest leaves that move out, with a note, rather than dropping the pin.
    let d = finish(
        &full,
        &p,
        &facts(&[("3.12.5-slim-bookworm", D2)], None),
        &policy,
    );
    assert_eq!(summary(&d), format!("patch 3.12.5-slim-bookworm@{D2}"));
    assert!(d.notes.iter().any(|n| {
        n.text
            .contains("no digest could be found for 3.13.1-slim-bookworm")
    }));
}

#[test]
fn a_variant_no_longer_published_is_reported() {
    let dep = dependency("python:3.12.1-slim-bullseye");
    let policy = policy_for("[update]\npin-digests = false\n", &dep);
    let p = plan(&dep, &tags(PYTHON_TAGS), &policy, &calendar());
    let d = finish(&dep, &p, &DigestFacts::default(), &policy);
    assert_eq!(summary(&d), "none: up to date");
    assert!(
        d.notes.iter().any(|n| n
            .text
            .starts_with("the `slim-bullseye` variant is no longer published")),
        "{:?}",
        d.notes
    );
}

#[test]
fn skipped_unversioned_and_empty() {
    let stage = manifest::parse(
        SourceFile::from_text(
            "Dockerfile",
            Encoding::Utf8,
            "FROM python:3.12 AS base\nFROM base\n".into(),
        ),
        ManifestKind::Dockerfile,
    );
    let policy = policy_for("", &stage.dependencies[1]);
    let p = plan(&stage.dependencies[1], &[], &policy, &calendar());
    assert_eq!(
        summary(&finish(
            &stage.dependencies[1],
            &p,
            &DigestFacts::default(),
            &policy
        )),
        "none: skipped: refers to a build stage"
    );
    let dep = dependency("python:3.12");
    let p = plan(&dep, &[], &policy_for("", &dep), &calendar());
    assert_eq!(p.none, Some(NoUpdate::NoReleases));
    let bare = dependency(&format!("python@{D1}"));
    let p = plan(
        &bare,
        &tags(PYTHON_TAGS),
        &policy_for("", &bare),
        &calendar(),
    );
    assert!(p.tags_to_resolve().is_empty());
    assert!(p.notes[0].contains("pinned by digest only"));
}
