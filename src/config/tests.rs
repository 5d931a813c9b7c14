use super::*;

/// The full example of the README's configuration section: the documentation is the fixture.
fn readme_example() -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("## Configuration")
        .nth(1)
        .expect("README has a Configuration section");
    let block = section
        .split("```toml\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next());
    block
        .expect("a toml block in the Configuration section")
        .to_owned()
}

#[test]
fn full_example_loads_with_its_values() {
    let loaded =
        Loaded::from_text("README.md", &readme_example()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.python_version.as_ref().unwrap().to_string(), "3.12");
    assert_eq!(loaded.config.images.end_of_life.len(), 3);
    let bullseye = crate::versioning::support::Release::Debian("bullseye".into());
    assert_eq!(
        loaded
            .release_data
            .get(&bullseye)
            .unwrap()
            .end_of_life
            .as_ref()
            .unwrap()
            .as_str(),
        "2026-08-31"
    );
    assert_eq!(
        loaded.minimum_release_age,
        Some(Duration::from_secs(3 * 86_400))
    );
    assert_eq!(loaded.rules.len(), 5);
    assert_eq!(loaded.rules[0].allowed.as_ref().unwrap().to_string(), "<6");
    let (python, line) = loaded.rules[4].python.clone().unwrap();
    assert_eq!(python.to_string(), "3.11");
    assert!(loaded.rules[4].matches_file(Path::new("services/batch/requirements.txt")));
    assert!(line > 1);
    assert_eq!(
        loaded.rules[1].minimum_release_age,
        Some(Duration::from_secs(7 * 86_400))
    );
    let legacy = Path::new("legacy/requirements.txt");
    let matched: Vec<_> = loaded.rules_for("flask", legacy, None).collect();
    assert_eq!(matched.len(), 1);
    assert_eq!(matched[0].rule.enabled, Some(false));
    assert!(loaded.rules[1].matches("boto3", Path::new("r.txt"), Some(UpdateKind::Patch)));
    assert!(!loaded.rules[1].matches("boto3", Path::new("r.txt"), Some(UpdateKind::Major)));
    assert!(loaded.is_excluded(Path::new("vendor/x/requirements.txt")));
    assert!(!loaded.is_excluded(Path::new("requirements.txt")));
    assert_eq!(
        loaded.config.registries["docker.io"]
            .url
            .as_ref()
            .unwrap()
            .get_ref(),
        "https://mirror.internal.example"
    );
    let prs = &loaded.config.pull_requests;
    assert_eq!(prs.commit_prefix.as_deref(), Some("chore(deps):"));
    assert_eq!((prs.max_open, prs.max_per_hour), (10, 2));
    assert_eq!(prs.rebase, crate::config::RebasePolicy::Behind);
    assert_eq!(
        crate::config::parse_identity(prs.author.as_ref().unwrap().get_ref()),
        Some(("repin[bot]".into(), "repin@users.noreply.github.com".into()))
    );
}

#[test]
fn an_author_must_be_name_and_email() {
    let error = Loaded::from_text("repin.toml", "[pull-requests]\nauthor = \"bot\"\n").unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("repin.toml:2:10: error: `bot` is not `Name <email>`"),
        "{error}"
    );
}

#[test]
fn defaults_without_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = Loaded::discover(dir.path()).unwrap();
    assert!(loaded.path.is_none());
    assert_eq!(loaded.config.update.kinds, DEFAULT_KINDS);
    assert!(loaded.config.update.pin_digests);
    assert_eq!(loaded.config.images.platforms, vec!["linux/amd64"]);
}

#[test]
fn finds_the_file_in_dot_github() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".github")).unwrap();
    std::fs::write(
        dir.path().join(".github/repin.toml"),
        "[python]\nversion = \"3.11\"\n",
    )
    .unwrap();
    let loaded = Loaded::discover(dir.path()).unwrap();
    assert!(loaded.path.unwrap().ends_with(".github/repin.toml"));
    assert_eq!(loaded.python_version.unwrap().to_string(), "3.11");
}

fn error_of(text: &str) -> String {
    match Loaded::from_text("repin.toml", text) {
        Ok(_) => panic!("expected an error for {text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn unknown_keys_are_errors_with_line_and_column() {
    let error = error_of("[update]\nkinds = [\"patch\"]\nminimum-release-ages = \"3 days\"\n");
    assert!(
        error.starts_with("repin.toml:3:1: error: Unknown field `minimum-release-ages`"),
        "{error}"
    );
    assert!(error.contains("hint:"), "{error}");
    let top = error_of("[pyton]\nversion = \"3.12\"\n");
    assert!(
        top.starts_with("repin.toml:1:2: error: Unknown field `pyton`"),
        "{top}"
    );
}

#[test]
fn invalid_values_point_at_the_value() {
    let cases = [
        (
            "[update]\nminimum-release-age = \"3 fortnights\"\n",
            "repin.toml:2:23: error: Invalid duration",
        ),
        (
            "[[rules]]\nnames = [\"a[\"]\n",
            "repin.toml:2:10: error: Invalid glob",
        ),
        (
            "[[rules]]\nallowed-versions = \"<<5\"\n",
            "repin.toml:2:20: error: Invalid version range",
        ),
        (
            "[registries.\"ghcr.io\"]\npassword-env = \"MY-TOKEN\"\n",
            "repin.toml:2:16: error: `MY-TOKEN` is not an environment variable name",
        ),
        (
            "[[indexes]]\nurl = \"not a url\"\n",
            "repin.toml:2:7: error: Invalid URL",
        ),
        (
            "[update]\nkinds = [\"minor\", \"huge\"]\n",
            "repin.toml:2:19: error: Unknown variant `huge`",
        ),
        (
            "[python]\nversion = \"three\"\n",
            "repin.toml:2:11: error: Invalid Python version",
        ),
        (
            "[advisories]\nsource = \"offline\"\n",
            "error: `advisories.source = \"offline\"` needs `advisories.path`",
        ),
    ];
    for (text, expected) in cases {
        let error = error_of(text);
        assert!(
            error.contains(expected),
            "expected `{expected}` in:\n{error}"
        );
    }
}

#[test]
fn shows_an_error_in_full() {
    let error = error_of("[update]\nkinds = [\"patch\"]\nminimum-release-ages = \"3 days\"\n");
    assert_eq!(
        error,
        "repin.toml:3:1: error: Unknown field `minimum-release-ages`, expected one of `kinds`, `minimum-release-age`, `pin-digests`, `pin-ranges`, `fix-strategy`, `lock-maintenance`\n  minimum-release-ages = \"3 days\"\n  ^^^^^^^^^^^^^^^^^^^^\n  hint: see the configuration section of the README for every key"
    );
}

#[test]
fn end_of_life_overrides_replace_and_add_dates() {
    use crate::versioning::support::{Release, Status};
    let loaded = Loaded::from_text(
        "repin.toml",
        "[images.end-of-life]\n\"3.9\" = \"2026-10-31\"\nbullseye = 2026-08-31\n\"alpine3.24\" = \"2028-05\"\n\"3.16\" = \"2032-10\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let data = &loaded.release_data;
    let day = |text: &str| text.parse::<jiff::civil::Date>().unwrap();
    // Moved later: supported again after the embedded date.
    assert_eq!(
        data.status(&Release::Python(3, 9), day("2025-11-01")),
        Status::Supported
    );
    let bullseye = Release::Debian("bullseye".into());
    assert_eq!(data.status(&bullseye, day("2025-01-01")), Status::Supported);
    assert!(matches!(
        data.status(&bullseye, day("2026-08-31")),
        Status::EndOfLife(d) if d.as_str() == "2026-08-31"
    ));
    // Added: releases the embedded data does not know yet.
    assert!(matches!(
        data.status(&Release::Alpine(3, 24), day("2028-05-31")),
        Status::EndOfLife(_)
    ));
    assert!(data.get(&Release::Python(3, 16)).is_some());
    // Untouched dates stay.
    let embedded = crate::versioning::support::ReleaseData::embedded();
    assert_eq!(
        data.get(&Release::Python(3, 8)),
        embedded.get(&Release::Python(3, 8))
    );
    // Without overrides, the embedded data.
    assert_eq!(&Loaded::default().release_data, embedded);
    assert_eq!(
        &Loaded::from_text("r.toml", "").unwrap().release_data,
        embedded
    );
}

#[test]
fn end_of_life_keys_and_dates_are_checked_where_written() {
    let error =
        error_of("[images.end-of-life]\n\"3.9\" = \"2025-10-31\"\nbookwrm = \"2028-06-30\"\n");
    assert_eq!(
        error,
        "repin.toml:3:1: error: Unknown release `bookwrm` in `[images.end-of-life]`\n  bookwrm = \"2028-06-30\"\n  ^^^^^^^\n  hint: name a Python minor (`\"3.9\"`), a Debian codename (`bullseye`) or an Alpine branch (`alpine3.19`)"
    );
    let cases = [
        (
            "[images.end-of-life]\n\"3.9\" = \"2025-13-01\"\n",
            "repin.toml:2:9: error: `2025-13-01` is not a date in `[images.end-of-life]` for Python 3.9",
        ),
        (
            "[images.end-of-life]\nbullseye = \"soon\"\n",
            "repin.toml:2:12: error: `soon` is not a date in `[images.end-of-life]` for Debian bullseye",
        ),
        (
            "[images.end-of-life]\nbullseye = 2026-08-31T00:00:00Z\n",
            "repin.toml:2:12: error: `2026-08-31T00:00:00Z` is not a date",
        ),
        (
            "[images.end-of-life]\n\"alpine\" = \"2028-05-01\"\n",
            "repin.toml:2:1: error: Unknown release `alpine`",
        ),
        (
            "[images.end-of-life]\n\"3\" = \"2028-05-01\"\n",
            "repin.toml:2:1: error: Unknown release `3`",
        ),
        (
            "[images.end-of-life]\nbullseye = 20260831\n",
            "repin.toml:2:12: error: A date such as \"2025-10-31\"",
        ),
        (
            "[images]\nend-of-lfe = {}\n",
            "repin.toml:2:1: error: Unknown field `end-of-lfe`",
        ),
    ];
    for (text, expected) in cases {
        let error = error_of(text);
        assert!(
            error.contains(expected),
            "expected `{expected}` in:\n{error}"
        );
    }
    let hinted = error_of("[images.end-of-life]\nbullseye = \"soon\"\n");
    assert!(
        hinted.ends_with("hint: write the date as `YYYY-MM-DD`, or `YYYY-MM` for a month"),
        "{hinted}"
    );
}

/// Issue 10, item 3: `repin.toml` comes from the repository, so its nesting is hostile too.
/// The `toml` parser stops at 80 levels, but 80 levels of it take more stack than a small
/// thread has (a debug build overflowed 256 KiB): parsing runs on a thread of its own with a
/// large stack, so every deep shape is an error with a place, whatever thread loads it.
#[test]
fn deeply_nested_toml_is_an_error_not_a_crash() {
    let deep = 100_000;
    let shapes = [
        format!("x = {}{}\n", "[".repeat(deep), "]".repeat(deep)),
        format!("x = {}1{}\n", "{a=".repeat(deep), "}".repeat(deep)),
        format!("x{} = 1\n", ".a".repeat(deep)),
        format!("[x{}]\n", ".a".repeat(deep)),
        format!("[[x{}]]\n", ".a".repeat(deep)),
    ];
    for (i, text) in shapes.into_iter().enumerate() {
        let result = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || Loaded::from_text("repin.toml", &text).map(|_| ()))
            .unwrap()
            .join()
            .unwrap_or_else(|_| panic!("shape {i}: the parser crashed"));
        let error = result.expect_err("a deep document is not a valid configuration");
        let ConfigError::Invalid(diagnostic) = error else {
            panic!("shape {i}: {error}");
        };
        assert_eq!(diagnostic.line, 1, "shape {i}: {diagnostic}");
    }
}

/// Issue 10, item 1: `repin.toml` is read through the repository root. A link out of the
/// repository or a FIFO in its place is refused, never read (a syntax error would quote the
/// file it leads to); a link to another file inside the repository is followed.
#[cfg(unix)]
#[test]
fn the_configuration_is_read_only_inside_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".github")).unwrap();
    std::fs::write(dir.path().join("secret.toml"), "token = \"canary-2b7e\"\n").unwrap();
    std::os::unix::fs::symlink("../secret.toml", repo.join("repin.toml")).unwrap();
    let error = Loaded::discover(&repo).unwrap_err();
    assert!(matches!(error, ConfigError::Refused { .. }), "{error}");
    let shown = crate::error::chain(&error);
    assert!(shown.contains("symbolic link"), "{shown}");
    assert!(!shown.contains("canary"), "{shown}");

    std::fs::remove_file(repo.join("repin.toml")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(repo.join(".github/repin.toml"))
        .status()
        .unwrap();
    assert!(fifo.success());
    let error = Loaded::discover(&repo).unwrap_err();
    assert!(crate::error::chain(&error).contains("is a FIFO"), "{error}");

    std::fs::remove_file(repo.join(".github/repin.toml")).unwrap();
    std::fs::write(repo.join("shared.toml"), "[python]\nversion = \"3.11\"\n").unwrap();
    std::os::unix::fs::symlink("shared.toml", repo.join("repin.toml")).unwrap();
    let loaded = Loaded::discover(&repo).unwrap();
    assert_eq!(loaded.python_version.unwrap().to_string(), "3.11");
}

#[test]
fn lock_maintenance_is_off_unless_asked_and_due_on_the_first_day_of_its_period() {
    let loaded = Loaded::from_text("repin.toml", "").unwrap();
    assert_eq!(loaded.config.update.lock_maintenance, LockMaintenance::Off);
    let loaded =
        Loaded::from_text("repin.toml", "[update]\nlock-maintenance = \"weekly\"\n").unwrap();
    assert_eq!(
        loaded.config.update.lock_maintenance,
        LockMaintenance::Weekly
    );
    assert!(Loaded::from_text("repin.toml", "[update]\nlock-maintenance = \"hourly\"\n").is_err());
    let at = |date: &str| date.parse::<jiff::Timestamp>().unwrap().as_second();
    // 2026-12-07 is a Monday; 2026-12-01 the first of a month.
    assert!(LockMaintenance::Weekly.due(at("2026-12-07T03:00:00Z")));
    assert!(!LockMaintenance::Weekly.due(at("2026-12-05T03:00:00Z")));
    assert!(LockMaintenance::Monthly.due(at("2026-12-01T23:59:00Z")));
    assert!(!LockMaintenance::Monthly.due(at("2026-12-02T00:00:00Z")));
    assert!(LockMaintenance::Daily.due(at("2026-12-05T03:00:00Z")));
    assert!(!LockMaintenance::Off.due(at("2026-12-07T03:00:00Z")));
}
