use std::collections::BTreeMap;
use std::time::Duration;

use super::*;
use crate::manifest::edit::Change;

fn item(file: &str, line: usize, name: &str, kind: UpdateKind, from: &str, to: &str) -> Item {
    Item {
        file: file.into(),
        index: line,
        line,
        name: name.into(),
        image: name.contains('/'),
        update: Update {
            kind,
            current: from.into(),
            proposed: to.into(),
            change: Change::PythonVersion {
                version: to.into(),
                hashes: None,
            },
            fixes: Vec::new(),
            unblocks: Vec::new(),
            rides_with: None,
            companions: Vec::new(),
            yanked: None,
            age: None,
            reason: String::new(),
        },
        group: None,
        link: None,
        companions: Vec::new(),
        rides_with: None,
    }
}

fn names_and_titles(items: &[Item], options: &Options) -> Vec<(String, String)> {
    plan(items, &BTreeMap::new(), options)
        .into_iter()
        .map(|b| (b.name, b.title))
        .collect()
}

#[test]
fn default_grouping_names_and_titles() {
    use UpdateKind::*;
    let mut security = item("requirements.txt", 3, "jinja2", Minor, "3.1.2", "3.1.6");
    security.update.fixes = vec!["GHSA-1".into()];
    let mut grouped = item("requirements.txt", 7, "boto3", Patch, "1.0.0", "1.0.1");
    grouped.group = Some("aws".into());
    let items = vec![
        item("requirements.txt", 1, "flask", Patch, "3.1.0", "3.1.3"),
        item("requirements.txt", 1, "flask", Major, "3.1.0", "4.0.0"),
        security,
        grouped,
        item(
            "svc/api/Dockerfile",
            1,
            "docker.io/library/python",
            Digest,
            "3.12-slim@sha256:a",
            "3.12-slim@sha256:b",
        ),
        item(
            "svc/api/Dockerfile",
            9,
            "ghcr.io/astral-sh/uv",
            Pin,
            "0.4.0",
            "0.4.0@sha256:c",
        ),
        item(
            "svc/api/Dockerfile",
            1,
            "docker.io/library/python",
            PythonMinor,
            "3.12-slim",
            "3.13-slim",
        ),
        item(
            "Dockerfile",
            1,
            "docker.io/library/python",
            Migration,
            "3.9-slim-bullseye",
            "3.10-slim-bookworm",
        ),
    ];
    let options = Options {
        commit_prefix: Some("chore(deps):".into()),
        ..Options::default()
    };
    let expected = [
        (
            "repin/Dockerfile/python-migration",
            "chore(deps): Migrate python image from 3.9-slim-bullseye to 3.10-slim-bookworm",
        ),
        ("repin/digests", "chore(deps): Pin and update image digests"),
        (
            "repin/group/aws",
            "chore(deps): Update aws group (1 update)",
        ),
        (
            "repin/requirements.txt/flask",
            "chore(deps): Update flask to 3.1.3",
        ),
        (
            "repin/requirements.txt/flask-major",
            "chore(deps): Update flask to 4.0.0",
        ),
        (
            "repin/security/jinja2",
            "chore(deps): Security: update jinja2 to 3.1.6",
        ),
        (
            "repin/svc-api-Dockerfile/python-python-minor",
            "chore(deps): Update python image to 3.13-slim",
        ),
    ];
    assert_eq!(
        names_and_titles(&items, &options),
        expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    );
}

#[test]
fn branch_names_are_valid_git_components() {
    for (name, expected) in [
        ("a..b", "a.b"),
        ("x.lock", "x.lock_"),
        ("weird name~^:", "weird-name"),
        ("", "_"),
        (".hidden", "hidden"),
    ] {
        assert_eq!(slug(name), expected, "{name}");
    }
}

#[test]
fn digest_titles_say_pin_or_update() {
    use UpdateKind::*;
    let pins = [item(
        "Dockerfile",
        1,
        "docker.io/library/python",
        Pin,
        "3.12",
        "3.12@sha256:a",
    )];
    assert_eq!(
        names_and_titles(&pins, &Options::default())[0].1,
        "Pin python image digests"
    );
    let refresh = [
        item(
            "Dockerfile",
            1,
            "docker.io/library/python",
            Digest,
            "a",
            "b",
        ),
        item("Dockerfile", 5, "ghcr.io/astral-sh/uv", Digest, "c", "d"),
    ];
    assert_eq!(
        names_and_titles(&refresh, &Options::default())[0].1,
        "Update image digests"
    );
}

#[test]
fn one_change_per_place_in_a_branch_and_a_stable_order() {
    use UpdateKind::*;
    let mut a = item("r.txt", 2, "boto3", Patch, "1", "2");
    a.group = Some("aws".into());
    let mut b = item("r.txt", 2, "boto3", Minor, "1", "3");
    b.group = Some("aws".into());
    let mut c = item("a.txt", 9, "botocore", Patch, "1", "2");
    c.group = Some("aws".into());
    let branches = plan(&[a, b, c], &BTreeMap::new(), &Options::default());
    assert_eq!(branches.len(), 1);
    let files: Vec<_> = branches[0]
        .items
        .iter()
        .map(|i| (i.file.as_str(), i.update.proposed.as_str()))
        .collect();
    assert_eq!(files, vec![("a.txt", "2"), ("r.txt", "2")]);
}

#[test]
fn security_body_lists_advisories_dates_links_and_the_marker() {
    let mut fix = item(
        "requirements.txt",
        4,
        "jinja2",
        UpdateKind::Patch,
        "3.1.2",
        "3.1.6",
    );
    fix.update.fixes = vec!["GHSA-h75v-3vvj-5mfj".into(), "PYSEC-0".into()];
    // Released 2025-03-05T00:00:00Z, seen one day later.
    let now = 1_741_132_800 + 86_400;
    fix.update.age = Some(Duration::from_secs(86_400));
    fix.link = Some("https://pypi.org/project/jinja2/3.1.6/".into());
    let mut advisories = BTreeMap::new();
    advisories.insert(
        "GHSA-h75v-3vvj-5mfj".to_owned(),
        AdvisoryNote {
            id: "GHSA-h75v-3vvj-5mfj".into(),
            aliases: vec!["CVE-2024-56326".into()],
            severity: Some("MEDIUM 5.4".into()),
            summary: Some("Jinja has a sandbox breakout | via format".into()),
            url: "https://osv.dev/vulnerability/GHSA-h75v-3vvj-5mfj".into(),
        },
    );
    let options = Options {
        labels: vec!["dependencies".into()],
        security_labels: vec!["security".into()],
        now,
        ..Options::default()
    };
    let branch = plan(&[fix], &advisories, &options).remove(0);
    assert_eq!(branch.labels, vec!["dependencies", "security"]);
    assert!(branch.is_security());
    assert_eq!(Marker::find(&branch.body), Some(branch.marker()));
    insta::assert_snapshot!(branch.body);
    insta::assert_snapshot!(branch.commit_message);
}

#[test]
fn a_migration_body_says_what_reached_its_end_of_life() {
    let mut migration = item(
        "Dockerfile",
        1,
        "docker.io/library/python",
        UpdateKind::Migration,
        "3.9-slim-bullseye",
        "3.10-slim-trixie",
    );
    migration.update.reason = "Python 3.9 reached end of life on 2025-10-31 and Debian bullseye on 2024-08-14; migrate to the oldest supported Python minor, on Debian trixie".into();
    let branches = plan(&[migration], &BTreeMap::new(), &Options::default());
    assert!(
        branches[0].body.contains("\n### End of life\n\n- python `3.9-slim-bullseye`: Python 3.9 reached end of life on 2025-10-31 and Debian bullseye on 2024-08-14; migrate to the oldest supported Python minor, on Debian trixie\n"),
        "{}",
        branches[0].body
    );
    let routine = item("r.txt", 1, "flask", UpdateKind::Patch, "3.1.0", "3.1.3");
    let branches = plan(&[routine], &BTreeMap::new(), &Options::default());
    assert!(!branches[0].body.contains("End of life"));
}

/// Issue 17: a pull request moving a yanked pin says so, with the index's reason.
#[test]
fn the_body_names_a_yanked_pin_and_why() {
    let mut yanked = item(
        "requirements.txt",
        1,
        "requests",
        UpdateKind::Patch,
        "2.32.0",
        "2.32.3",
    );
    yanked.update.yanked = Some("Yanked due to conflicts with CVE-2024-35195 mitigation".into());
    let branch = plan(&[yanked], &BTreeMap::new(), &Options::default())
        .into_iter()
        .next()
        .unwrap();
    assert!(branch.body.contains("| patch, yanked |"), "{}", branch.body);
    assert!(
        branch.body.contains("### Yanked\n\n- requests `2.32.0` is yanked on its index: Yanked due to conflicts with CVE-2024-35195 mitigation\n"),
        "{}",
        branch.body
    );
}

/// What an index or advisory service says reaches the body inert: its mentions, links, images
/// and HTML are shown as text, a URL that is not plain `https` is left out, and a summary cannot
/// add a table cell.
#[test]
fn words_from_servers_are_inert_in_the_body() {
    let mut hostile = item(
        "requirements.txt",
        1,
        "requests",
        UpdateKind::Patch,
        "2.32.0",
        "2.32.3",
    );
    hostile.update.yanked = Some("@everyone ![x](https://t.example/p.gif) <img src=x>".into());
    hostile.update.fixes = vec!["GHSA-1".into()];
    hostile.link = Some("javascript:alert(1)".into());
    let mut advisories = BTreeMap::new();
    advisories.insert(
        "GHSA-1".to_owned(),
        AdvisoryNote {
            id: "GHSA-1](https://evil.example)".into(),
            aliases: vec!["@org/team".into()],
            severity: None,
            summary: Some("see owner/repo#1 | [phish](https://evil.example)".into()),
            url: "https://user:pw@evil.example/".into(),
        },
    );
    let branch = plan(&[hostile], &advisories, &Options::default()).remove(0);
    let body = &branch.body;
    for acting in ["@everyone", "@org", "](https://", "repo#1", "javascript:"] {
        assert!(!body.contains(acting), "{acting} in {body}");
    }
    // HTML only escaped: `\<img`, which GitHub shows as text.
    assert!(!body.replace("\\<", "").contains("<img"), "{body}");
    assert!(
        body.contains("- requests `2.32.0` is yanked on its index: @\u{200B}everyone \\!\\[x\\]"),
        "{body}"
    );
    let row = body
        .lines()
        .find(|l| l.starts_with("| GHSA-1"))
        .unwrap_or_else(|| panic!("no advisory row: {body}"));
    assert_eq!(row.matches(" | ").count(), 3, "four cells: {row}");
    assert!(!body.contains("### Release notes"), "{body}");
}

/// A branch of thousands of updates (a group of a large monorepo) gets a body GitHub takes: cut
/// at a line, saying so, with the marker whole at its end.
#[test]
fn a_body_of_thousands_of_updates_stays_within_githubs_limit() {
    let items: Vec<Item> = (0..3000)
        .map(|i| {
            let mut item = item(
                "requirements.txt",
                i + 1,
                &format!("package-with-a-long-name-{i:04}"),
                UpdateKind::Patch,
                "1.0.0",
                "1.0.1",
            );
            item.group = Some("everything".into());
            item.link = Some(format!("https://example.org/package-{i:04}/changes/"));
            item
        })
        .collect();
    let branches = plan(&items, &BTreeMap::new(), &Options::default());
    assert_eq!(branches.len(), 1);
    let body = &branches[0].body;
    assert!(body.chars().count() <= 65_536, "{}", body.len());
    assert!(body.contains("\n… cut here to keep this pull request within GitHub's length limit; the commit message lists every change.\n"));
    assert_eq!(Marker::find(body), Some(branches[0].marker()));
    assert_eq!(branches[0].marker().updates.len(), 3000);
    assert!(
        branches[0]
            .commit_message
            .contains("package-with-a-long-name-2999")
    );
}

/// An update riding with a base image's update: on that update's branch (after it, whatever
/// the file order), and on no branch when that update is not planned.
#[test]
fn an_unblocked_update_rides_on_its_image_branch_and_never_alone() {
    let image = item(
        "services/api/Dockerfile",
        1,
        "docker.io/library/python",
        UpdateKind::PythonMinor,
        "3.9-slim",
        "3.12-slim",
    );
    let rider = |file: &str, proposed: &str| {
        let mut rider = item(file, 3, "click", UpdateKind::Minor, "8.1.7", "8.2.1");
        rider.rides_with = Some("services/api/Dockerfile".into());
        rider.update.rides_with = Some(crate::decide::RidesWith {
            file: "/repo/services/api/Dockerfile".into(),
            index: 1,
            line: 1,
            proposed: proposed.into(),
            python: "3.12".into(),
        });
        rider
    };
    let own = item(
        "a/requirements.txt",
        3,
        "click",
        UpdateKind::Patch,
        "8.1.7",
        "8.1.8",
    );
    let items = vec![
        own.clone(),
        rider("a/requirements.txt", "3.12-slim"),
        image.clone(),
    ];
    let branches = plan(&items, &BTreeMap::new(), &Options::default());
    let summary: Vec<(String, String, Vec<String>)> = branches
        .iter()
        .map(|b| {
            (
                b.name.clone(),
                b.title.clone(),
                b.items
                    .iter()
                    .map(|i| format!("{} {}", i.file, i.update.proposed))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "repin/a-requirements.txt/click".to_owned(),
                "Update click to 8.1.8".to_owned(),
                vec!["a/requirements.txt 8.1.8".to_owned()]
            ),
            (
                "repin/services-api-Dockerfile/python-python-minor".to_owned(),
                "Update python image to 3.12-slim".to_owned(),
                vec![
                    "services/api/Dockerfile 3.12-slim".to_owned(),
                    "a/requirements.txt 8.2.1".to_owned()
                ]
            ),
        ]
    );
    // Without its image update, or riding with another proposal of it: on no branch.
    for items in [
        vec![own.clone(), rider("a/requirements.txt", "3.12-slim")],
        vec![own.clone(), rider("a/requirements.txt", "3.13-slim"), image],
    ] {
        let branches = plan(&items, &BTreeMap::new(), &Options::default());
        assert!(
            branches
                .iter()
                .flat_map(|b| &b.items)
                .all(|i| i.update.proposed != "8.2.1"),
            "{branches:#?}"
        );
    }
}
