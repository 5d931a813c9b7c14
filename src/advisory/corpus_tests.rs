//! Conformance tests on the real PyPA advisory-database records in the corpus
//! (`$REPIN_CORPUS/osv`, pypa/advisory-database @ 3ccb612, 2024-10-10).
//!
//! Every expectation below was worked out by hand from the YAML records (`grep -A12 'type:
//! ECOSYSTEM' vulns/<package>/*.yaml`), not by running this code: each ID is followed by its
//! ECOSYSTEM range and why the version is or is not inside it. In this snapshot every record has
//! exactly one `affected` entry with one ECOSYSTEM range (plus GIT ranges in some), and the only
//! listed versions outside the ranges are pre-releases in django PYSEC-2023-61, so the lists do
//! not change any answer below. "fixed" is the first `fixed` event above the version: the end of
//! the interval the version is in.

use crate::testing::corpus;

use std::str::FromStr;
use std::sync::OnceLock;

use pep440_rs::Version;

use super::{AdvisoryIndex, AdvisorySource, DirectorySource, Rating};

/// The corpus index, loaded once for all tests.
fn index() -> &'static AdvisoryIndex {
    static INDEX: OnceLock<AdvisoryIndex> = OnceLock::new();
    let root = corpus();
    INDEX.get_or_init(|| {
        DirectorySource::new(root.join("osv"))
            .load_index()
            .expect("the corpus osv directory loads")
    })
}

fn v(text: &str) -> Version {
    Version::from_str(text).unwrap()
}

/// Assert that exactly `expected` (ID, fixed version) pairs affect `package` at `version`.
fn assert_affected(index: &AdvisoryIndex, package: &str, version: &str, expected: &[(&str, &str)]) {
    let version = v(version);
    let got: Vec<(String, String)> = index
        .affecting(package, &version)
        .iter()
        .map(|a| {
            let fixed = a
                .fixed_versions()
                .iter()
                .find(|f| **f > version)
                .map_or_else(|| "none".to_owned(), ToString::to_string);
            (a.id().to_owned(), fixed)
        })
        .collect();
    let mut want: Vec<(String, String)> = expected
        .iter()
        .map(|(id, fixed)| ((*id).to_owned(), (*fixed).to_owned()))
        .collect();
    want.sort();
    assert_eq!(got, want, "{package} {version}");
}

#[test]
fn every_corpus_record_loads() {
    let index = index();
    // 281 YAML files for 26 packages in this snapshot (MANIFEST.md's "289 / 27" counts are off:
    // there is no pydantic folder, and aiohttp has 7 records, not 9).
    assert!(index.diagnostics().is_empty(), "{:#?}", index.diagnostics());
    assert_eq!(index.len(), 281);
    let mut packages: Vec<&str> = index.packages().collect();
    packages.sort();
    assert_eq!(packages.len(), 26, "{packages:?}");
    for (package, count) in [
        ("django", 116),
        ("pillow", 51),
        ("aiohttp", 7),
        ("urllib3", 9),
    ] {
        assert_eq!(index.for_package(package).len(), count, "{package}");
    }
    // Each record sits in the folder of the package it is about.
    for advisory in index.iter() {
        let folder = advisory
            .origin()
            .unwrap()
            .parent()
            .unwrap()
            .file_name()
            .unwrap();
        assert_eq!(
            folder.to_str().unwrap(),
            advisory.package(),
            "{}",
            advisory.id()
        );
    }
}

#[test]
fn only_paramiko_has_unusable_data_and_says_so() {
    let index = index();
    // paramiko's version lists hold 2003-era names such as `0.1-bulbasaur`, which are not PEP
    // 440; everything else in the corpus is usable, including all 22 CVSS vectors.
    let mut with_problems: Vec<&str> = index
        .iter()
        .filter(|a| !a.problems().is_empty())
        .map(super::index::Advisory::id)
        .collect();
    with_problems.sort();
    assert_eq!(
        with_problems,
        ["PYSEC-2008-8", "PYSEC-2018-19", "PYSEC-2022-166"]
    );
    let warnings = index.warnings_for("paramiko");
    assert_eq!(warnings.len(), 3);
    assert!(
        warnings[0]
            .to_string()
            .contains("Caused by: Listed version `0.1-bulbasaur` is not a PEP 440 version"),
        "{}",
        warnings[0]
    );
    assert!(index.warnings_for("django").is_empty());
    let scored = index.iter().filter(|a| a.severity().is_some()).count();
    assert_eq!(scored, 22);
}

#[test]
fn no_advisory_affects_its_own_fixed_versions() {
    let index = index();
    // A `fixed` version is outside its interval, and no version list repeats one.
    for advisory in index.iter() {
        for fixed in advisory.fixed_versions() {
            assert!(
                !advisory.is_affected(fixed),
                "{} affects its fixed {fixed}",
                advisory.id()
            );
        }
    }
}

#[test]
fn ranges_agree_with_the_databases_own_version_lists() {
    let index = index();
    // The `versions` lists were expanded from the ranges by the database's tooling (Python's
    // `packaging`), so they are an independent check of the range evaluation: every listed
    // version must be inside the ranges. The one known exception: django PYSEC-2023-61 lists
    // the 3.2 and 4.2 pre-releases although its ranges start at the finals (3.2, 4.2).
    let mut checked = 0;
    let mut outside = Vec::new();
    for advisory in index.iter() {
        for entry in advisory.entries() {
            for listed in entry.listed_versions() {
                checked += 1;
                if !entry.in_ranges(listed) {
                    outside.push(format!("{} {listed}", advisory.id()));
                }
            }
        }
    }
    outside.sort();
    assert_eq!(
        outside,
        [
            "PYSEC-2023-61 3.2a1",
            "PYSEC-2023-61 3.2b1",
            "PYSEC-2023-61 3.2rc1",
            "PYSEC-2023-61 4.2a1",
            "PYSEC-2023-61 4.2b1",
            "PYSEC-2023-61 4.2rc1",
        ]
    );
    // Distinct PEP 440 versions per list, counted independently with Python's `packaging`.
    assert_eq!(checked, 16_287);
}

#[test]
fn flask() {
    let index = index();
    // PYSEC-2018-66: introduced 0, fixed 0.12.3 → 0.12 affected.
    // PYSEC-2019-179: introduced 0, fixed 1.0 → 0.12 affected.
    // PYSEC-2023-62: [0, 2.2.5) and [2.3.0, 2.3.2) → 0.12 in the first.
    assert_affected(
        index,
        "flask",
        "0.12",
        &[
            ("PYSEC-2018-66", "0.12.3"),
            ("PYSEC-2019-179", "1.0"),
            ("PYSEC-2023-62", "2.2.5"),
        ],
    );
    // 1.1.1 (awesome-compose's pin): past 0.12.3 and 1.0; still below 2.2.5.
    assert_affected(index, "Flask", "1.1.1", &[("PYSEC-2023-62", "2.2.5")]);
    // 2.2.5 is PYSEC-2023-62's first fix and below its second branch (2.3.0): clean.
    assert_affected(index, "flask", "2.2.5", &[]);
    // 2.3.1 is in the second branch [2.3.0, 2.3.2).
    assert_affected(index, "flask", "2.3.1", &[("PYSEC-2023-62", "2.3.2")]);
}

#[test]
fn jinja2() {
    let index = index();
    // 2.10: PYSEC-2014-8 (fixed 2.7.2), PYSEC-2014-82 (fixed 2.7.3) and PYSEC-2019-220 (fixed
    // 2.8.1) are behind it: 2.10 > 2.8.1 under PEP 440 (a float reading, 2.1, would be below).
    // PYSEC-2019-217: introduced 0, fixed 2.10.1 → affected.
    // PYSEC-2021-66: introduced 0, fixed 2.11.3 → affected.
    assert_affected(
        index,
        "jinja2",
        "2.10",
        &[("PYSEC-2019-217", "2.10.1"), ("PYSEC-2021-66", "2.11.3")],
    );
    // 3.1.4: the highest fix in the snapshot is 2.11.3, so nothing.
    assert_affected(index, "Jinja2", "3.1.4", &[]);
}

#[test]
fn urllib3() {
    let index = index();
    // 1.26.12: PYSEC-2017-98 [1.17, 1.18.1), PYSEC-2018-32 (fixed 1.23), PYSEC-2019-132 (1.24.3),
    // PYSEC-2019-133 (1.24.2), PYSEC-2020-148 (1.25.9), PYSEC-2021-108 (1.26.5) and
    // PYSEC-2023-207 (1.24.2) are all fixed at or below it.
    // PYSEC-2023-192: events written [2.0.0, 2.0.6) then [0, 1.26.17) → affected, fixed 1.26.17.
    // PYSEC-2023-212: [2.0.0, 2.0.7) and [0, 1.26.18) → affected, fixed 1.26.18.
    let both = [("PYSEC-2023-192", "1.26.17"), ("PYSEC-2023-212", "1.26.18")];
    assert_affected(index, "urllib3", "1.26.12", &both);
    // 1.26.7: past 1.26.5 (PYSEC-2021-108) too, so the same two.
    assert_affected(index, "urllib3", "1.26.7", &both);
    // 1.26.4: below 1.26.5 as well.
    assert_affected(
        index,
        "urllib3",
        "1.26.4",
        &[
            ("PYSEC-2021-108", "1.26.5"),
            ("PYSEC-2023-192", "1.26.17"),
            ("PYSEC-2023-212", "1.26.18"),
        ],
    );
    // 2.0.6: PYSEC-2023-192's 2.x branch is fixed in 2.0.6; PYSEC-2023-212's in 2.0.7.
    assert_affected(index, "urllib3", "2.0.6", &[("PYSEC-2023-212", "2.0.7")]);
}

#[test]
fn aiohttp() {
    let index = index();
    // 3.8.4: PYSEC-2022-43059 (introduced 0, no fix) is withdrawn → never reported.
    // PYSEC-2023-247: fixed 3.8.0 → behind it.
    // PYSEC-2023-246: fixed 3.8.6; PYSEC-2023-250 and -251: fixed 3.9.0;
    // PYSEC-2024-24: [1.0.5, 3.9.2); PYSEC-2024-26: [0, 3.9.2) → all affected.
    assert_affected(
        index,
        "aiohttp",
        "3.8.4",
        &[
            ("PYSEC-2023-246", "3.8.6"),
            ("PYSEC-2023-250", "3.9.0"),
            ("PYSEC-2023-251", "3.9.0"),
            ("PYSEC-2024-24", "3.9.2"),
            ("PYSEC-2024-26", "3.9.2"),
        ],
    );
}

#[test]
fn cryptography() {
    let index = index();
    // 3.4.6: PYSEC-2017-8 (fixed 1.5.3), PYSEC-2018-52 [1.9, 2.3), PYSEC-2021-62 (fixed 3.2.1)
    // and PYSEC-2021-63 [3.1, 3.3.2) are behind it.
    // PYSEC-2023-11: [1.8, 39.0.1) → affected. PYSEC-2023-254: [3.1, 41.0.6) → affected.
    assert_affected(
        index,
        "cryptography",
        "3.4.6",
        &[("PYSEC-2023-11", "39.0.1"), ("PYSEC-2023-254", "41.0.6")],
    );
}

#[test]
fn werkzeug() {
    let index = index();
    // 2.2.2: PYSEC-2017-43 (fixed 0.11.11), PYSEC-2019-140 (0.15.3), PYSEC-2020-157 (0.11.6) and
    // PYSEC-2022-203 (2.1.1) are behind it.
    // PYSEC-2023-221: [0, 2.3.8) and [3.0.0, 3.0.1) → affected, fixed 2.3.8.
    // PYSEC-2023-57 and PYSEC-2023-58: introduced 0, fixed 2.2.3 → affected.
    assert_affected(
        index,
        "werkzeug",
        "2.2.2",
        &[
            ("PYSEC-2023-221", "2.3.8"),
            ("PYSEC-2023-57", "2.2.3"),
            ("PYSEC-2023-58", "2.2.3"),
        ],
    );
    // 2.3.8: PYSEC-2023-221's first fix, below its 3.0.0 branch → clean.
    assert_affected(index, "werkzeug", "2.3.8", &[]);
    // 3.0.0: PYSEC-2023-221's second branch [3.0.0, 3.0.1).
    assert_affected(index, "Werkzeug", "3.0.0", &[("PYSEC-2023-221", "3.0.1")]);
    assert_affected(index, "werkzeug", "3.0.1", &[]);
    // 0.11.10: below every fix except PYSEC-2020-157's 0.11.6.
    assert_affected(
        index,
        "werkzeug",
        "0.11.10",
        &[
            ("PYSEC-2017-43", "0.11.11"),
            ("PYSEC-2019-140", "0.15.3"),
            ("PYSEC-2022-203", "2.1.1"),
            ("PYSEC-2023-221", "2.3.8"),
            ("PYSEC-2023-57", "2.2.3"),
            ("PYSEC-2023-58", "2.2.3"),
        ],
    );
}

#[test]
fn pillow() {
    let index = index();
    // 8.4.0: the 2014-2021 records all have fixes at or below 8.3.2 (the highest: PYSEC-2021-317,
    // 8.3.2). PYSEC-2022-42980 is [9.2.0, 9.3.0): 8.4.0 is below it.
    // Affected, all introduced 0: PYSEC-2022-8, -9, -10 (fixed 9.0.0), PYSEC-2022-168 (9.0.1),
    // PYSEC-2022-42979 (9.2.0), PYSEC-2023-227 (10.0.0), PYSEC-2023-175 (10.0.1).
    assert_affected(
        index,
        "Pillow",
        "8.4.0",
        &[
            ("PYSEC-2022-10", "9.0.0"),
            ("PYSEC-2022-168", "9.0.1"),
            ("PYSEC-2022-42979", "9.2.0"),
            ("PYSEC-2022-8", "9.0.0"),
            ("PYSEC-2022-9", "9.0.0"),
            ("PYSEC-2023-175", "10.0.1"),
            ("PYSEC-2023-227", "10.0.0"),
        ],
    );
    // 9.3.0: PYSEC-2022-42980's fix; only the 10.x fixes remain.
    assert_affected(
        index,
        "pillow",
        "9.3.0",
        &[("PYSEC-2023-175", "10.0.1"), ("PYSEC-2023-227", "10.0.0")],
    );
    // 10.0.0: PYSEC-2023-227's fix; PYSEC-2023-175 (fixed 10.0.1) remains.
    assert_affected(index, "pillow", "10.0.0", &[("PYSEC-2023-175", "10.0.1")]);
}

#[test]
fn django() {
    let index = index();
    // 3.2.0 (= 3.2): every record with a 3.2 branch [3.2, 3.2.x) for x > 0. The records up to
    // 2021-6/-9 and 2020-* stop at 3.0/3.1 branches; 2024-56..70 and 2024-102 start at 4.2.
    assert_affected(
        index,
        "django",
        "3.2.0",
        &[
            ("PYSEC-2021-109", "3.2.5"),  // [3.1, 3.1.13) [3.2, 3.2.5)
            ("PYSEC-2021-439", "3.2.10"), // ... [3.2, 3.2.10)
            ("PYSEC-2021-7", "3.2.1"),    // ... [3.2, 3.2.1)
            ("PYSEC-2021-8", "3.2.2"),    // ... [3.2, 3.2.2)
            ("PYSEC-2021-98", "3.2.4"),   // [0, 2.2.24) [3.0, 3.1.12) [3.2, 3.2.4)
            ("PYSEC-2021-99", "3.2.4"),   // [2.2, 2.2.24) [3.0, 3.1.12) [3.2, 3.2.4)
            ("PYSEC-2022-1", "3.2.11"),   // [2.2, 2.2.26) [3.2, 3.2.11) [4.0, 4.0.1)
            ("PYSEC-2022-19", "3.2.12"),  // ... [3.2, 3.2.12)
            ("PYSEC-2022-190", "3.2.13"), // written 4.0, 3.2, 2.2 branches: [3.2, 3.2.13)
            ("PYSEC-2022-191", "3.2.13"), // same
            ("PYSEC-2022-2", "3.2.11"),   // [3.2, 3.2.11)
            ("PYSEC-2022-20", "3.2.12"),  // [3.2, 3.2.12)
            ("PYSEC-2022-213", "3.2.14"), // [3.2, 3.2.14) [4.0, 4.0.6)
            ("PYSEC-2022-245", "3.2.15"), // [3.2, 3.2.15) [4.0, 4.0.7)
            ("PYSEC-2022-3", "3.2.11"),   // [3.2, 3.2.11)
            ("PYSEC-2022-304", "3.2.16"), // [3.2, 3.2.16) ...
            ("PYSEC-2023-100", "3.2.20"), // written 4.2, 4.0, 3.2 branches: [3.2, 3.2.20)
            ("PYSEC-2023-12", "3.2.17"),  // [3.2, 3.2.17) ...
            ("PYSEC-2023-13", "3.2.18"),  // [3.2, 3.2.18) ...
            ("PYSEC-2023-222", "3.2.23"), // [3.2, 3.2.23) [4.1, 4.1.13) [4.2, 4.2.7)
            ("PYSEC-2023-225", "3.2.21"), // [3.2, 3.2.21) ...
            ("PYSEC-2023-226", "3.2.22"), // [3.2, 3.2.22) ...
            ("PYSEC-2023-61", "3.2.19"),  // [3.2, 3.2.19) [4.0, 4.1.9) [4.2, 4.2.1)
            ("PYSEC-2024-28", "3.2.24"),  // [3.2, 3.2.24) [4.2, 4.2.10) [5.0, 5.0.2)
            ("PYSEC-2024-47", "3.2.25"),  // [3.2, 3.2.25) [4.2, 4.2.11) [5.0, 5.0.3)
        ],
    );
    // 3.2.13 (awesome-compose's pin): the 3.2 fixes above 3.2.13 only. Fixed at or below:
    // 2021-* (≤ 3.2.10), 2022-1/-2/-3 (3.2.11), 2022-19/-20 (3.2.12), 2022-190/-191 (3.2.13).
    assert_affected(
        index,
        "Django",
        "3.2.13",
        &[
            ("PYSEC-2022-213", "3.2.14"),
            ("PYSEC-2022-245", "3.2.15"),
            ("PYSEC-2022-304", "3.2.16"),
            ("PYSEC-2023-100", "3.2.20"),
            ("PYSEC-2023-12", "3.2.17"),
            ("PYSEC-2023-13", "3.2.18"),
            ("PYSEC-2023-222", "3.2.23"),
            ("PYSEC-2023-225", "3.2.21"),
            ("PYSEC-2023-226", "3.2.22"),
            ("PYSEC-2023-61", "3.2.19"),
            ("PYSEC-2024-28", "3.2.24"),
            ("PYSEC-2024-47", "3.2.25"),
        ],
    );
    // 4.2.0 (= 4.2): every record with a 4.2 branch. The 4.0/4.1-only records (2022-*,
    // 2023-12/-13: [4.1, 4.1.6/7)) stop below it.
    assert_affected(
        index,
        "django",
        "4.2.0",
        &[
            ("PYSEC-2023-100", "4.2.3"),  // [4.2, 4.2.3)
            ("PYSEC-2023-222", "4.2.7"),  // [4.2, 4.2.7)
            ("PYSEC-2023-225", "4.2.5"),  // [4.2, 4.2.5)
            ("PYSEC-2023-226", "4.2.6"),  // [4.2, 4.2.6)
            ("PYSEC-2023-61", "4.2.1"),   // [4.2, 4.2.1)
            ("PYSEC-2024-102", "4.2.16"), // written 5.1, 5.0, 4.2 branches: [4.2, 4.2.16)
            ("PYSEC-2024-28", "4.2.10"),  // [4.2, 4.2.10)
            ("PYSEC-2024-47", "4.2.11"),  // [4.2, 4.2.11)
            ("PYSEC-2024-56", "4.2.14"),  // [4.2, 4.2.14) [5.0, 5.0.7)
            ("PYSEC-2024-57", "4.2.14"),  // [5.0, 5.0.7) [4.2, 4.2.14)
            ("PYSEC-2024-58", "4.2.14"),
            ("PYSEC-2024-59", "4.2.14"),
            ("PYSEC-2024-67", "4.2.15"), // [5.0, 5.0.8) [4.2, 4.2.15)
            ("PYSEC-2024-68", "4.2.15"),
            ("PYSEC-2024-69", "4.2.15"),
            ("PYSEC-2024-70", "4.2.15"),
        ],
    );
}

#[test]
fn edge_record_withdrawn_aiohttp() {
    let index = index();
    let advisory = index
        .for_package("aiohttp")
        .iter()
        .find(|a| a.id() == "PYSEC-2022-43059")
        .expect("the withdrawn record is kept");
    assert!(advisory.is_withdrawn());
    assert_eq!(
        advisory.record().withdrawn.as_deref(),
        Some("2023-11-08T00:54:24Z")
    );
    // introduced 0 with no fix: the range alone covers 3.8.1, the version the CVE names...
    assert!(advisory.entries()[0].is_affected(&v("3.8.1")));
    // ...but a withdrawn advisory affects nothing, and has no fixed version.
    assert!(!advisory.is_affected(&v("3.8.1")));
    assert!(advisory.fixed_versions().is_empty());
    assert!(
        index
            .affecting("aiohttp", &v("3.8.1"))
            .iter()
            .all(|a| a.id() != "PYSEC-2022-43059")
    );
}

#[test]
fn edge_record_werkzeug_git_and_ecosystem() {
    let index = index();
    let advisory = index
        .for_package("werkzeug")
        .iter()
        .find(|a| a.id() == "PYSEC-2023-221")
        .unwrap();
    let entry = &advisory.entries()[0];
    assert!(entry.has_git_ranges());
    // The GIT range's two `fixed` commits are not versions: only the ECOSYSTEM fixes count.
    assert_eq!(advisory.fixed_versions(), [v("2.3.8"), v("3.0.1")]);
    assert!(advisory.problems().is_empty());
    for (version, affected) in [
        ("0.10", true),
        ("2.3.7", true),
        ("2.3.8", false),
        ("3.0.0", true),
        ("3.0.1", false),
    ] {
        assert_eq!(advisory.is_affected(&v(version)), affected, "{version}");
    }
    // The versions list keeps quoted '0.10' and plain 0.10.1 as written.
    let versions = &advisory.record().affected[0].versions;
    assert!(versions.iter().any(|s| s == "0.10"));
    assert!(versions.iter().any(|s| s == "0.10.1"));
    assert_eq!(
        advisory.aliases(),
        ["CVE-2023-46136", "GHSA-hrfv-mqp8-q5rw"]
    );
    // CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H is a 7.5.
    let severity = advisory.severity().unwrap();
    assert_eq!((severity.score, severity.rating), (Some(7.5), Rating::High));
}

#[test]
fn edge_record_django_release_candidate_fix() {
    let index = index();
    let advisory = index
        .for_package("django")
        .iter()
        .find(|a| a.id() == "PYSEC-2016-2")
        .unwrap();
    // [0, 1.8.14) [1.9, 1.9.8) [1.10a0, 1.10rc1)
    assert_eq!(
        advisory.fixed_versions(),
        [v("1.8.14"), v("1.9.8"), v("1.10rc1")]
    );
    for (version, affected) in [
        ("1.8.13", true),
        ("1.8.14", false),
        ("1.9", true),
        ("1.9.8", false),
        ("1.10a1", true),
        ("1.10b1", true),
        ("1.10rc1", false),
        ("1.10", false),
    ] {
        assert_eq!(advisory.is_affected(&v(version)), affected, "{version}");
    }
}

#[test]
fn edge_record_pillow_without_aliases_or_published() {
    let index = index();
    let advisory = index
        .for_package("pillow")
        .iter()
        .find(|a| a.id() == "PYSEC-2023-175")
        .unwrap();
    assert!(advisory.aliases().is_empty());
    assert!(advisory.record().published.is_none());
    assert_eq!(
        advisory.record().related,
        ["CVE-2023-4863", "CVE-2023-5129"]
    );
    // introduced 0, fixed 10.0.1.
    assert!(advisory.is_affected(&v("10.0.0")));
    assert!(!advisory.is_affected(&v("10.0.1")));
    // No summary: the title is the details' first line (YAML folds the plain scalar into one).
    assert_eq!(
        advisory.title(),
        Some(
            "Pillow versions before v10.0.1 bundled libwebp binaries in wheels that are \
             vulnerable to CVE-2023-5129 (previously CVE-2023-4863). Pillow v10.0.1 upgrades the \
             bundled libwebp binary to v1.3.2."
        )
    );
}
