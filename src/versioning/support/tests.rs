//! The embedded release data, its dates and statuses, and a check of its Python table against
//! python.org's release cycle in the corpus.

use super::*;
use crate::testing::corpus;

fn date(text: &str) -> Date {
    text.parse().unwrap()
}

#[test]
fn embedded_data_has_every_release_the_images_use() {
    let data = ReleaseData::embedded();
    for minor in 6..=14 {
        let python = data.get(&Release::Python(3, minor)).unwrap();
        assert!(
            python.released.is_some() && python.end_of_life.is_some(),
            "3.{minor}"
        );
    }
    for codename in ["buster", "bullseye", "bookworm", "trixie"] {
        assert!(
            data.get(&Release::Debian(codename.into())).is_some(),
            "{codename}"
        );
    }
    for branch in 8..=23 {
        assert!(
            data.get(&Release::Alpine(3, branch)).is_some(),
            "alpine3.{branch}"
        );
    }
    // Every release ends after it starts.
    for (release, lifecycle) in data.releases() {
        let (Some(start), Some(end)) = (&lifecycle.released, &lifecycle.end_of_life) else {
            panic!("{release}: missing dates");
        };
        assert!(start.day() < end.day(), "{release}");
    }
}

#[test]
fn dates_are_days_or_months() {
    let day = SupportDate::parse("2025-10-31").unwrap();
    assert_eq!(
        (day.day(), day.as_str()),
        (date("2025-10-31"), "2025-10-31")
    );
    let month = SupportDate::parse("2026-10").unwrap();
    assert_eq!(month.day(), date("2026-10-31"));
    assert_eq!(month.to_string(), "2026-10");
    assert_eq!(
        SupportDate::parse("2028-02").unwrap().day(),
        date("2028-02-29")
    );
    for bad in [
        "",
        "2025",
        "2025-13",
        "2025-02-30",
        "25-10-31",
        "2025-1-31",
        "2025/10/31",
        "x",
    ] {
        let error = SupportDate::parse(bad).unwrap_err();
        assert_eq!(error.to_string(), format!("`{bad}` is not a date"));
        assert!(error.hint().unwrap().contains("YYYY-MM-DD"));
    }
}

#[test]
fn release_keys() {
    let cases = [
        ("3.9", Some(Release::Python(3, 9))),
        ("3.16", Some(Release::Python(3, 16))),
        ("2.7", Some(Release::Python(2, 7))),
        ("bullseye", Some(Release::Debian("bullseye".into()))),
        ("forky", Some(Release::Debian("forky".into()))),
        ("alpine3.19", Some(Release::Alpine(3, 19))),
        ("bookwrm", None),
        ("3", None),
        ("3.9.1", None),
        ("3.x", None),
        ("alpine", None),
        ("alpine3", None),
        ("jammy", None),
        ("", None),
    ];
    for (key, expected) in cases {
        assert_eq!(Release::parse(key), expected, "{key}");
    }
    assert_eq!(Release::Python(3, 9).to_string(), "Python 3.9");
    assert_eq!(
        Release::Debian("buster".into()).to_string(),
        "Debian buster"
    );
    assert_eq!(Release::Alpine(3, 19).to_string(), "Alpine 3.19");
    let alpine = Distribution {
        family: DistroFamily::Alpine,
        release: Some("3.20".into()),
    };
    assert_eq!(
        Release::of_distribution(&alpine),
        Some(Release::Alpine(3, 20))
    );
    let floating = Distribution {
        family: DistroFamily::Alpine,
        release: None,
    };
    assert_eq!(Release::of_distribution(&floating), None);
}

#[test]
fn status_by_day() {
    let data = ReleaseData::embedded();
    let status = |release: Release, day: &str| data.status(&release, date(day));
    let py39 = || Release::Python(3, 9);
    assert_eq!(status(py39(), "2025-10-30"), Status::Supported);
    // The end-of-life date is the first day without support.
    assert!(
        matches!(status(py39(), "2025-10-31"), Status::EndOfLife(d) if d.as_str() == "2025-10-31")
    );
    assert_eq!(
        status(Release::Python(3, 15), "2026-09-30"),
        Status::Unreleased
    );
    assert_eq!(
        status(Release::Python(3, 15), "2026-10-01"),
        Status::Supported
    );
    assert_eq!(
        status(Release::Python(3, 10), "2026-10-30"),
        Status::Supported
    );
    assert!(matches!(
        status(Release::Python(3, 10), "2026-10-31"),
        Status::EndOfLife(_)
    ));
    assert_eq!(
        status(Release::Python(3, 16), "2030-01-01"),
        Status::Unknown
    );
    let bullseye = || Release::Debian("bullseye".into());
    assert_eq!(status(bullseye(), "2024-08-13"), Status::Supported);
    assert!(matches!(
        status(bullseye(), "2024-08-14"),
        Status::EndOfLife(_)
    ));
    assert!(matches!(
        status(Release::Alpine(3, 19), "2025-11-01"),
        Status::EndOfLife(_)
    ));
}

#[test]
fn overrides_replace_or_add_an_end_of_life() {
    let mut data = ReleaseData::embedded().clone();
    // Counting Debian LTS for bullseye.
    data.set_end_of_life(
        Release::Debian("bullseye".into()),
        SupportDate::parse("2026-08-31").unwrap(),
    );
    let bullseye = Release::Debian("bullseye".into());
    assert_eq!(
        data.status(&bullseye, date("2025-01-01")),
        Status::Supported
    );
    assert_eq!(
        data.get(&bullseye)
            .unwrap()
            .released
            .as_ref()
            .unwrap()
            .as_str(),
        "2021-08-14"
    );
    data.set_end_of_life(
        Release::Python(3, 16),
        SupportDate::parse("2032-10").unwrap(),
    );
    assert_eq!(
        data.status(&Release::Python(3, 16), date("2030-01-01")),
        Status::Supported
    );
    assert!(matches!(
        data.status(&Release::Python(3, 16), date("2032-10-31")),
        Status::EndOfLife(_)
    ));
    assert_ne!(&data, ReleaseData::embedded());
}

#[test]
fn malformed_data_is_refused() {
    let base = "[python]\n[debian]\n[alpine]\n";
    assert!(
        ReleaseData::parse(base)
            .unwrap()
            .releases()
            .next()
            .is_none()
    );
    let with = |table: &str, line: &str| {
        base.replace(&format!("[{table}]\n"), &format!("[{table}]\n{line}\n"))
    };
    let entry = "{ released = \"2020-01-01\", end-of-life = \"2025-01-01\" }";
    assert_eq!(
        ReleaseData::parse(&with("python", &format!("bullseye = {entry}"))),
        Err(SupportError::UnknownRelease {
            key: "bullseye".into()
        })
    );
    assert_eq!(
        ReleaseData::parse(&with("debian", &format!("\"3.9\" = {entry}"))),
        Err(SupportError::UnknownRelease { key: "3.9".into() })
    );
    assert_eq!(
        ReleaseData::parse(&with(
            "alpine",
            "\"3.9\" = { released = \"2020\", end-of-life = \"2025-01-01\" }"
        )),
        Err(SupportError::InvalidDate {
            text: "2020".into()
        })
    );
    assert!(matches!(
        ReleaseData::parse(&with("alpine", "\"3.9\" = { released = \"2020-01-01\" }")),
        Err(SupportError::Data { .. })
    ));
    assert!(matches!(
        ReleaseData::parse("[ubuntu]\n"),
        Err(SupportError::Data { .. })
    ));
}

#[test]
fn today_is_the_utc_day() {
    // 2025-10-31T23:59:59Z and a second later.
    assert_eq!(today(1_761_955_199), date("2025-10-31"));
    assert_eq!(today(1_761_955_200), date("2025-11-01"));
    assert_eq!(today(i64::MAX), date("1970-01-01"));
}

/// python/devguide `release-cycle.json`: `first_release` and `end_of_life` per branch.
fn release_cycle(
    corpus: &std::path::Path,
    stem: &str,
) -> BTreeMap<String, (String, String, String)> {
    let dir = corpus.join("images/devguide");
    let path = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(stem))
        .unwrap_or_else(|| panic!("no `{stem}*` in {}", dir.display()));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    json.as_object()
        .unwrap()
        .iter()
        .map(|(branch, entry)| {
            let field = |name: &str| entry[name].as_str().unwrap().to_owned();
            (
                branch.clone(),
                (
                    field("first_release"),
                    field("end_of_life"),
                    field("status"),
                ),
            )
        })
        .collect()
}

/// Whether our date agrees with the release cycle's: the same, or an actual day in the month
/// the release cycle still planned (data refreshed after the corpus snapshot).
fn agrees(ours: &str, theirs: &str) -> bool {
    ours == theirs || (theirs.len() == 7 && ours.len() == 10 && ours.starts_with(theirs))
}

/// The embedded Python table is python.org's release cycle as of 2025-10-31, date for date, in
/// the same precision (`2026-10` for a planned end of life, a day once it happened), or newer
/// than it: a planned month may have become a day in that month, and minors released later are
/// not in it.
#[test]
fn corpus_python_dates_match_the_release_cycle_of_2025_10_31() {
    let corpus = corpus();
    let cycle = release_cycle(&corpus, "release-cycle.json@2025-10-31");
    let data = ReleaseData::embedded();
    let mut checked = Vec::new();
    for (release, lifecycle) in data.releases() {
        let Release::Python(major, minor) = release else {
            continue;
        };
        let branch = format!("{major}.{minor}");
        let Some((first, end, _)) = cycle.get(&branch) else {
            continue;
        };
        let ours = |d: &Option<SupportDate>| d.as_ref().unwrap().as_str().to_owned();
        assert!(
            agrees(&ours(&lifecycle.released), first),
            "{branch}: released"
        );
        assert!(
            agrees(&ours(&lifecycle.end_of_life), end),
            "{branch}: end of life"
        );
        checked.push(branch);
    }
    assert_eq!(
        checked,
        [
            "2.7", "3.5", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14",
            "3.15"
        ]
    );
    // What the release cycle calls end of life on its own date is end of life here too.
    let day = date("2025-10-31");
    for (branch, (_, _, status)) in &cycle {
        let Some(release) = Release::parse(branch) else {
            continue;
        };
        if data.get(&release).is_none() {
            continue;
        }
        let ended = matches!(data.status(&release, day), Status::EndOfLife(_));
        assert_eq!(ended, status == "end-of-life", "{branch} on 2025-10-31");
    }
}

/// A year and a half earlier, 3.8 and 3.9 still had planned months; the actual dates fell in
/// those months. Dates that had passed by then are the same.
#[test]
fn corpus_planned_months_of_2024_were_kept() {
    let corpus = corpus();
    let cycle = release_cycle(&corpus, "release-cycle.json@2024-05-08");
    let data = ReleaseData::embedded();
    let mut planned = Vec::new();
    for (branch, (_, end, _)) in &cycle {
        let Some(lifecycle) = Release::parse(branch).and_then(|r| data.get(&r).cloned()) else {
            continue;
        };
        let ours = lifecycle.end_of_life.unwrap();
        if end.len() == 7 && ours.as_str().len() == 10 {
            assert!(
                ours.as_str().starts_with(end.as_str()),
                "{branch}: {end} vs {ours}"
            );
            planned.push(branch.as_str());
        } else {
            assert_eq!(ours.as_str(), end, "{branch}");
        }
    }
    // 3.8 and 3.9 at least; more once the data has the actual dates of later minors.
    assert!(
        planned.contains(&"3.8") && planned.contains(&"3.9"),
        "{planned:?}"
    );
}
