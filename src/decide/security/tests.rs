//! Security decisions on hand-written records and on the real PyPA advisory records in the
//! corpus; every expectation is worked out from the records in a comment.

use std::path::Path;
use std::str::FromStr;

use super::*;
use crate::advisory::{AdvisoryIndex, AdvisorySource, DirectorySource, OsvRecord};
use crate::config::Loaded;
use crate::manifest::{self, ManifestKind};
use crate::text::{Encoding, SourceFile};
use pep440_rs::Version;

fn rel(version: &str) -> Release {
    Release {
        version: Version::from_str(version).unwrap(),
        yanked: false,
        yanked_reason: None,
        requires_python: None,
        uploaded: Some(1_700_000_000),
        hashes: vec![format!("sha256:{}", "a".repeat(64))],
    }
}

fn releases(list: &[&str]) -> Vec<Release> {
    list.iter().map(|v| rel(v)).collect()
}

fn dependency(line: &str) -> Dependency {
    let m = manifest::parse(
        SourceFile::from_text("requirements.txt", Encoding::Utf8, format!("{line}\n")),
        ManifestKind::Requirements,
    );
    m.dependencies.into_iter().next().unwrap()
}

fn policy(config: &str) -> Policy {
    let loaded = Loaded::from_text("repin.toml", config).unwrap();
    Policy::from_config(&loaded, "x", Path::new("requirements.txt"), None)
}

fn ctx() -> Context {
    Context {
        now: 1_800_000_000,
        python: None,
    }
}

fn summary(a: &Assessment) -> String {
    let ids: Vec<&str> = a.findings.iter().map(|f| f.id.as_str()).collect();
    match (&a.update, &a.no_fix) {
        (Some(u), _) => format!(
            "{} -> {} {} fixes {:?}",
            ids.join(","),
            u.proposed,
            u.kind,
            u.fixes
        ),
        (None, Some(why)) => format!("{} no fix: {why}", ids.join(",")),
        (None, None) => format!("{} clean", ids.join(",")),
    }
}

fn record(json: &str) -> OsvRecord {
    OsvRecord::from_json(json).unwrap()
}

#[test]
fn lowest_release_free_of_every_advisory_not_the_lowest_fixed_event() {
    // A fixed in 1.2, B fixed in 1.5, C affects 1.6 only: the lowest release free of all three
    // is 1.5, although A alone says 1.2 (which B still affects).
    let index = AdvisoryIndex::from_records([
        record(
            r#"{"id":"A","aliases":["CVE-1"],"affected":[{"package":{"ecosystem":"PyPI","name":"pkg"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.2"}]}]}]}"#,
        ),
        record(
            r#"{"id":"B","affected":[{"package":{"ecosystem":"PyPI","name":"pkg"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.5"}]}]}]}"#,
        ),
        record(
            r#"{"id":"C","affected":[{"package":{"ecosystem":"PyPI","name":"pkg"},"versions":["1.6"]}]}"#,
        ),
        record(
            r#"{"id":"W","withdrawn":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"pkg"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}"#,
        ),
    ]);
    let advisories = index.for_package("pkg");
    let all = releases(&["1.0", "1.2", "1.5", "1.6", "1.7", "2.0", "2.1rc1"]);
    let a = assess(
        &dependency("pkg==1.0"),
        &all,
        advisories,
        &policy(""),
        &ctx(),
    );
    assert_eq!(summary(&a), r#"A,B -> 1.5 minor fixes ["A", "B"]"#);
    assert_eq!(a.update.as_ref().unwrap().reason, "fixes CVE-1, B");
    let highest = assess(
        &dependency("pkg==1.0"),
        &all,
        advisories,
        &policy("[update]\nfix-strategy = \"highest\"\n"),
        &ctx(),
    );
    assert_eq!(summary(&highest), r#"A,B -> 2.0 major fixes ["A", "B"]"#);
    // allowed-versions excludes every fix.
    let capped = assess(
        &dependency("pkg==1.0"),
        &all,
        advisories,
        &policy("[[rules]]\nallowed-versions = \"<1.5\"\n"),
        &ctx(),
    );
    assert_eq!(
        summary(&capped),
        "A,B no fix: every release free of these advisories is excluded by allowed-versions or ignore-versions"
    );
    // No release is free (1.2 is hit by B, 1.6 by C).
    let none = assess(
        &dependency("pkg==1.0"),
        &releases(&["1.0", "1.2", "1.6"]),
        advisories,
        &policy(""),
        &ctx(),
    );
    assert_eq!(
        summary(&none),
        "A,B no fix: no release is free of every known advisory"
    );
    // The withdrawn advisory never matches; a clean version stays clean.
    assert_eq!(
        summary(&assess(
            &dependency("pkg==1.7"),
            &all,
            advisories,
            &policy(""),
            &ctx()
        )),
        " clean"
    );
    // A range is judged by what it installs today (1.6, affected by C).
    let range = assess(
        &dependency("pkg>=1.5,<1.7"),
        &all,
        advisories,
        &policy(""),
        &ctx(),
    );
    assert_eq!(range.version.as_deref(), Some("1.6"));
    assert_eq!(summary(&range), r#"C -> >=1.7,<1.8 minor fixes ["C"]"#);
}

#[test]
fn merging_puts_security_first_and_replaces_the_same_routine_update() {
    let index = AdvisoryIndex::from_records([record(
        r#"{"id":"A","affected":[{"package":{"ecosystem":"PyPI","name":"pkg"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.2"}]}]}]}"#,
    )]);
    let dep = dependency("pkg==1.0");
    let all = releases(&["1.0", "1.2", "2.0"]);
    let p = policy("");
    let routine = super::super::python::decide(&dep, &all, &|_| p.clone(), &ctx());
    assert_eq!(
        routine
            .updates
            .iter()
            .map(|u| u.proposed.as_str())
            .collect::<Vec<_>>(),
        vec!["1.2", "2.0"]
    );
    let merged = merge(
        routine,
        &assess(&dep, &all, index.for_package("pkg"), &p, &ctx()),
    );
    let got: Vec<(&str, bool)> = merged
        .updates
        .iter()
        .map(|u| (u.proposed.as_str(), u.is_security()))
        .collect();
    assert_eq!(got, vec![("1.2", true), ("2.0", false)]);
}

fn corpus_index() -> AdvisoryIndex {
    let dir = crate::testing::corpus();
    DirectorySource::new(dir.join("osv")).load_index().unwrap()
}

#[test]
fn corpus_real_pypa_records() {
    let index = corpus_index();
    let cases: &[(&str, &[&str], &str, &str)] = &[
        // flask 2.2.2: PYSEC-2023-62 (introduced 0, fixed 2.2.5; introduced 2.3.0, fixed 2.3.2).
        // 2.2.5 is free of all three flask records: the lowest fix, a patch.
        (
            "flask==2.2.2",
            &["2.2.2", "2.2.5", "2.3.0", "2.3.1", "2.3.2", "3.0.0"],
            "",
            r#"PYSEC-2023-62 -> 2.2.5 patch fixes ["PYSEC-2023-62"]"#,
        ),
        // With highest, the newest release free of them.
        (
            "flask==2.2.2",
            &["2.2.2", "2.2.5", "2.3.0", "2.3.1", "2.3.2", "3.0.0"],
            "[update]\nfix-strategy = \"highest\"\n",
            r#"PYSEC-2023-62 -> 3.0.0 major fixes ["PYSEC-2023-62"]"#,
        ),
        // flask 2.3.1: in PYSEC-2023-62's second range (2.3.0 ≤ v < 2.3.2): 2.3.2.
        (
            "flask==2.3.1",
            &["2.3.1", "2.3.2", "3.0.0"],
            "",
            r#"PYSEC-2023-62 -> 2.3.2 patch fixes ["PYSEC-2023-62"]"#,
        ),
        // flask 0.12: PYSEC-2018-66 (fixed 0.12.3), PYSEC-2019-179 (fixed 1.0) and PYSEC-2023-62
        // (fixed 2.2.5) all affect it. 0.12.3 is still hit by 2019-179, 1.0 and 2.2.2 by
        // 2023-62: the lowest release free of all is 2.2.5 (the lowest fixed event, 0.12.3,
        // would not be secure).
        (
            "flask==0.12",
            &["0.12", "0.12.3", "1.0", "2.2.2", "2.2.5"],
            "",
            r#"PYSEC-2018-66,PYSEC-2019-179,PYSEC-2023-62 -> 2.2.5 major fixes ["PYSEC-2018-66", "PYSEC-2019-179", "PYSEC-2023-62"]"#,
        ),
        // jinja2 2.10: PYSEC-2019-217 (fixed 2.10.1) and PYSEC-2021-66 (fixed 2.11.3); 2.10.1
        // is still hit by 2021-66, so 2.11.3.
        (
            "jinja2==2.10",
            &["2.10", "2.10.1", "2.11.2", "2.11.3", "3.0.0"],
            "",
            r#"PYSEC-2019-217,PYSEC-2021-66 -> 2.11.3 minor fixes ["PYSEC-2019-217", "PYSEC-2021-66"]"#,
        ),
        // jinja2 3.1.4: no record of this 2024-10 snapshot affects 3.x.
        ("jinja2==3.1.4", &["3.1.4", "3.1.6"], "", " clean"),
    ];
    for (line, list, config, expected) in cases {
        let dep = dependency(line);
        let a = assess(
            &dep,
            &releases(list),
            index.for_package(&dep.name),
            &policy(config),
            &ctx(),
        );
        assert_eq!(summary(&a), *expected, "{line} {config:?}");
    }
    let flask = assess(
        &dependency("flask==2.2.2"),
        &releases(&["2.2.5"]),
        index.for_package("flask"),
        &policy(""),
        &ctx(),
    );
    let finding = &flask.findings[0];
    assert_eq!(
        finding.aliases,
        vec!["CVE-2023-30861", "GHSA-m2qf-hxjv-5gpq"]
    );
    assert!(
        finding
            .summary
            .starts_with("Flask is a lightweight WSGI web application framework"),
        "{}",
        finding.summary
    );
}

#[test]
fn a_vulnerable_pin_that_is_also_yanked_keeps_the_yank_in_its_security_update() {
    let index = AdvisoryIndex::from_records([record(
        r#"{"id":"Y","affected":[{"package":{"ecosystem":"PyPI","name":"requests"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.32.2"}]}]}]}"#,
    )]);
    let mut list = releases(&["2.31.0", "2.32.0", "2.32.2"]);
    list[1].yanked = true;
    list[1].yanked_reason = Some("Yanked due to conflicts with CVE-2024-35195 mitigation".into());
    let dep = dependency("requests==2.32.0");
    let assessment = assess(
        &dep,
        &list,
        index.for_package("requests"),
        &policy(""),
        &ctx(),
    );
    let update = assessment.update.clone().expect("a fix");
    assert_eq!(update.proposed, "2.32.2");
    assert_eq!(
        update.yanked.as_deref(),
        Some("Yanked due to conflicts with CVE-2024-35195 mitigation")
    );
    // Merged over a routine update that carried the yank, the security update keeps it too.
    let mut routine = update.clone();
    routine.fixes.clear();
    let mut no_yank = assessment.clone();
    no_yank.update.as_mut().unwrap().yanked = None;
    let decision = crate::decide::Decision::updates(vec![routine]);
    let merged = merge(decision, &no_yank);
    assert_eq!(merged.updates.len(), 1);
    assert!(merged.updates[0].is_security());
    assert_eq!(
        merged.updates[0].yanked.as_deref(),
        Some("Yanked due to conflicts with CVE-2024-35195 mitigation")
    );
}
