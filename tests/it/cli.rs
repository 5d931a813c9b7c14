//! What a user meets on the command line beyond the main job: refusals that keep a command from
//! doing the wrong thing, selections, messages, `--version` and completions. Run as processes,
//! against pypiserver where a lookup is needed.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::support;
use support::pypiserver::{PypiServer, write_wheel};
use support::repin;

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn version_names_the_commit_and_completions_are_printed() {
    let home = tempfile::tempdir().unwrap();
    let out = repin(home.path(), &["--version"]);
    let (stdout, _) = text(&out);
    // A git checkout: `repin 0.1.0 (0123456789ab 2026-12-04)`, the commit git names for this
    // checkout, whoever owns it and whatever links lead to it.
    let words: Vec<&str> = stdout.split_whitespace().collect();
    assert_eq!(words[..2], ["repin", env!("CARGO_PKG_VERSION")], "{stdout}");
    let source = std::fs::canonicalize(env!("CARGO_MANIFEST_DIR")).unwrap();
    let head = std::process::Command::new("git")
        .arg("-c")
        .arg(format!("safe.directory={}", source.display()))
        .arg("-C")
        .arg(&source)
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .expect("git runs (scripts/test installs it)");
    assert!(
        head.status.success(),
        "the tests run from a git checkout of repin: {}",
        String::from_utf8_lossy(&head.stderr)
    );
    let head = String::from_utf8_lossy(&head.stdout).trim().to_owned();
    assert_eq!(words.len(), 4, "{stdout}");
    assert_eq!(words[2], format!("({head}"), "{stdout}");
    assert!(words[3].ends_with(')') && words[3].len() == 11, "{stdout}");

    // Short help lists --kind's values and puts the global options apart.
    let out = repin(home.path(), &["apply", "-h"]);
    let (help, _) = text(&out);
    let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(
            "[possible values: patch, minor, major, python-minor, digest, pin, migration, lock]"
        ),
        "{help}"
    );
    let global = help
        .find("Global options:")
        .expect("a Global options heading");
    assert!(
        help[global..].contains("--log-level") && !help[global..].contains("--only"),
        "{help}"
    );

    for (shell, marker) in [
        ("bash", "complete -F _repin"),
        ("zsh", "#compdef repin"),
        ("fish", "complete -c repin"),
    ] {
        let out = repin(home.path(), &["completions", shell]);
        assert!(out.status.success());
        let (stdout, _) = text(&out);
        assert!(stdout.contains(marker), "{shell}: {stdout}");
        assert!(stdout.contains("advisory-db"), "{shell}");
    }
}

#[test]
fn serve_refuses_to_start_without_a_token_or_an_app() {
    let home = tempfile::tempdir().unwrap();
    let out = support::repin_with_env(
        home.path(),
        &["serve", "--repo", "acme/service", "--listen", "127.0.0.1:0"],
        &[("REPIN_WEBHOOK_SECRET", "s3cret".as_ref())],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stderr.starts_with("error: No token in `GITHUB_TOKEN` and no GitHub App"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: set `GITHUB_TOKEN`"), "{stderr}");
    assert!(!stderr.contains("listening"), "{stderr}");
}

/// Without an App there is nothing to list repositories from: `--repo` is required, and clap
/// says so before anything starts.
#[test]
fn serve_needs_repo_without_an_app() {
    let home = tempfile::tempdir().unwrap();
    let out = support::repin_with_env(
        home.path(),
        &["serve", "--listen", "127.0.0.1:0"],
        &[
            ("REPIN_WEBHOOK_SECRET", "s3cret".as_ref()),
            ("GITHUB_TOKEN", "ghs_token".as_ref()),
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("the following required arguments were not provided")
            && stderr.contains("--repo <OWNER/NAME>"),
        "{stderr}"
    );
    assert!(!stderr.contains("listening"), "{stderr}");
}

#[test]
fn lock_refuses_what_is_not_a_requirements_file() {
    let home = tempfile::tempdir().unwrap();
    let repo = tempfile::tempdir().unwrap();
    let dockerfile = repo.path().join("Dockerfile");
    std::fs::write(&dockerfile, "FROM python:3.12-slim\n").unwrap();
    let out = repin(
        home.path(),
        &["lock", dockerfile.to_str().unwrap(), "--python", "3.12"],
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("is a Dockerfile, not a requirements file, so it cannot be locked"),
        "{stderr}"
    );
    assert!(!repo.path().join("Dockerfile.txt").exists());
}

#[test]
fn extract_honours_the_configuration() {
    let home = tempfile::tempdir().unwrap();
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("requirements.txt"), "flask==2.2.2\n").unwrap();
    std::fs::create_dir(repo.path().join("vendor")).unwrap();
    std::fs::write(repo.path().join("vendor/requirements.txt"), "six==1.0\n").unwrap();
    std::fs::write(
        repo.path().join("repin.toml"),
        "[paths]\nexclude = [\"vendor/**\"]\n",
    )
    .unwrap();
    let dir = repo.path().to_str().unwrap();
    let out = repin(home.path(), &["extract", "--format", "json", dir]);
    assert!(out.status.success(), "{:?}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let files: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].ends_with("/requirements.txt") && !files[0].contains("vendor"));
    // Every field is there, null when it does not apply to the kind.
    let flask = &report["files"][0]["dependencies"][0];
    assert_eq!(flask["image"], Value::Null);
    assert_eq!(flask["marker"], Value::Null);
    assert_eq!(flask["pinned"], true);

    // An invalid configuration is an error with where it is, printed once.
    std::fs::write(repo.path().join("repin.toml"), "[paths]\nexclude = 5\n").unwrap();
    let out = repin(home.path(), &["extract", dir]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("repin.toml:2:11: error: "), "{stderr}");
    assert_eq!(stderr.matches("error").count(), 1, "{stderr}");
}

/// A repository with two pins, each with a newer minor and a newer major release on a local
/// pypiserver, and an offline advisory database naming one of them.
struct Repo {
    _pypi: PypiServer,
    dir: tempfile::TempDir,
    db: tempfile::TempDir,
    home: tempfile::TempDir,
    _packages: tempfile::TempDir,
}

fn repo() -> Repo {
    let packages = tempfile::tempdir().unwrap();
    for (name, version) in [
        ("flask", "2.2.2"),
        ("flask", "2.3.3"),
        ("flask", "3.0.0"),
        ("jinja2", "3.1.2"),
        ("jinja2", "3.1.6"),
    ] {
        write_wheel(packages.path(), name, version, Some(">=3.8"));
    }
    let pypi = PypiServer::start(packages.path());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("repin.toml"),
        format!(
            "[python]\nversion = \"3.12\"\n\n[[indexes]]\nurl = \"{}\"\nprimary = true\n\n[advisories]\nsource = \"off\"\n",
            pypi.index_url()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("requirements.txt"),
        "flask==2.2.2\njinja2==3.1.2\n",
    )
    .unwrap();
    let db = tempfile::tempdir().unwrap();
    let vulns = db.path().join("vulns/jinja2");
    std::fs::create_dir_all(&vulns).unwrap();
    std::fs::write(
        vulns.join("PYSEC-2024-1.yaml"),
        "id: PYSEC-2024-1\nsummary: Sandbox escape\naffected:\n- package:\n    ecosystem: PyPI\n    name: jinja2\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: '0'\n    - fixed: 3.1.6\n",
    )
    .unwrap();
    Repo {
        _pypi: pypi,
        dir,
        db,
        home: tempfile::tempdir().unwrap(),
        _packages: packages,
    }
}

fn proposed(report: &Value) -> Vec<String> {
    report["updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            format!(
                "{} {} {}{}",
                u["name"].as_str().unwrap(),
                u["kind"].as_str().unwrap(),
                u["proposed"].as_str().unwrap(),
                if u["security"] == true {
                    " security"
                } else {
                    ""
                }
            )
        })
        .collect()
}

#[test]
fn check_selects_like_apply_and_reads_an_advisory_database() {
    let repo = repo();
    let dir = repo.dir.path().to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["check", "--no-cache", "--format", "json"];
        args.extend_from_slice(extra);
        args.push(dir);
        let out = repin(repo.home.path(), &args);
        assert!(out.status.success(), "{:?}", text(&out));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    assert_eq!(
        proposed(&run(&[])),
        [
            "flask minor 2.3.3",
            "flask major 3.0.0",
            "jinja2 patch 3.1.6"
        ]
    );
    assert_eq!(
        proposed(&run(&["--only", "Flask", "--kind", "major"])),
        ["flask major 3.0.0"]
    );
    let only_jinja = run(&["--only", "jinja2"]);
    assert_eq!(proposed(&only_jinja), ["jinja2 patch 3.1.6"]);
    assert_eq!(only_jinja["up_to_date"], 0);
    // `--advisory-db`, as `audit` takes it: the jinja2 update becomes a security fix, first.
    let db = repo.db.path().to_str().unwrap();
    assert_eq!(
        proposed(&run(&["--advisory-db", db])),
        [
            "jinja2 patch 3.1.6 security",
            "flask minor 2.3.3",
            "flask major 3.0.0"
        ]
    );
    // Table: English counts.
    let out = repin(
        repo.home.path(),
        &["check", "--no-cache", "--only", "jinja2", dir],
    );
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains("1 update due across 1 file and 2 dependencies; 0 lookups failed"),
        "{stdout}"
    );
}

#[test]
fn apply_takes_the_minor_update_first_and_says_how_to_take_the_major() {
    let repo = repo();
    let dir = repo.dir.path().to_str().unwrap();
    let out = repin(
        repo.home.path(),
        &["apply", "--no-cache", "--only", "flask", dir],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("flask 2.2.2 → 2.3.3 (minor)"), "{stdout}");
    assert!(
        stdout.contains(
            "note: requirements.txt: flask 3.0.0 (major) is due too; `repin apply --only flask --kind major` takes it"
        ) || stdout.contains("flask 3.0.0 (major) is due too; `repin apply --only flask --kind major` takes it"),
        "{stdout}"
    );
    assert!(stdout.ends_with("1 file updated\n"), "{stdout}");
    let file = std::fs::read_to_string(Path::new(dir).join("requirements.txt")).unwrap();
    assert_eq!(file, "flask==2.3.3\njinja2==3.1.2\n");
    let out = repin(
        repo.home.path(),
        &[
            "apply",
            "--no-cache",
            "--only",
            "flask",
            "--kind",
            "major",
            dir,
        ],
    );
    assert!(out.status.success(), "{:?}", text(&out));
    let file = std::fs::read_to_string(Path::new(dir).join("requirements.txt")).unwrap();
    assert_eq!(file, "flask==3.0.0\njinja2==3.1.2\n");
}

#[test]
fn pr_with_a_mistyped_repository_fails_before_any_lookup() {
    use support::loopback::{Loopback, Reply};
    let index = Loopback::start(|_| Reply::status(404, ""));
    let home = tempfile::tempdir().unwrap();
    let repo = tempfile::tempdir().unwrap();
    support::git(repo.path(), &["init", "-q"]);
    std::fs::write(
        repo.path().join("requirements.txt"),
        format!("-i {}\nflask==2.2.2\n", index.url("/simple/")),
    )
    .unwrap();
    let out = repin(
        home.path(),
        &[
            "pr",
            "--dry-run",
            "--repo",
            "just-a-name",
            "--no-cache",
            repo.path().to_str().unwrap(),
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("`just-a-name` is not a repository name")
            && stderr.contains("hint: write it as owner/name"),
        "{stderr}"
    );
    // Nothing was looked up only to be thrown away.
    assert_eq!(index.requests().len(), 0, "{:?}", index.requests());
}
