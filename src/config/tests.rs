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
    assert_eq!(
        loaded.minimum_release_age,
        Some(Duration::from_secs(3 * 86_400))
    );
    assert_eq!(loaded.rules.len(), 4);
    assert_eq!(loaded.rules[0].allowed.as_ref().unwrap().to_string(), "<6");
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
        "repin.toml:3:1: error: Unknown field `minimum-release-ages`, expected one of `kinds`, `minimum-release-age`, `pin-digests`, `pin-ranges`, `fix-strategy`\n  minimum-release-ages = \"3 days\"\n  ^^^^^^^^^^^^^^^^^^^^\n  hint: see the configuration section of the README for every key"
    );
}
