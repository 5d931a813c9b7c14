//! `repin pr` run as a process through a pull request's whole life: a real bare git repository
//! as the remote, pypiserver as the index, an offline OSV directory for advisories, and an
//! in-process stand-in for GitHub's REST API (GitHub cannot be reached from here; the stand-in
//! mimics its documented responses and records any request it does not know, which fails the
//! test).
//!
//! The runs, in order: a dry run writes nothing; run 1 opens the pull requests and the
//! dashboard; run 2 changes nothing; a new upstream release updates the existing pull request
//! in place; an update made by hand closes its pull request with a comment; a pull request the
//! user closed stays closed; an advisory for that version opens the security fix; a moved base
//! branch leads to a rebase. After each run the pushed commits are read back from the bare
//! repository: the right files, the right bytes, nothing else changed.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::git;
use support::github::GitHubMock;
use support::pypiserver::{Meta, PypiServer, sha256_hex, write_wheel, write_wheel_with};
use support::tools::Tools;

const TOKEN: &str = "ghs_testtoken0123456789";
const REPOSITORY: &str = "acme/service";

/// What a branch of the bare repository holds.
struct Remote {
    dir: PathBuf,
}

impl Remote {
    fn git(&self, args: &[&str]) -> String {
        let mut full = vec!["--git-dir", self.dir.to_str().unwrap()];
        full.extend_from_slice(args);
        git(Path::new("/"), &full)
    }

    fn head(&self, branch: &str) -> Option<String> {
        let out = Command::new("git")
            .args(["--git-dir", self.dir.to_str().unwrap()])
            .args(["rev-parse", "--verify", "--quiet"])
            .arg(format!("refs/heads/{branch}"))
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8(out.stdout).unwrap().trim().to_owned())
    }

    fn branches(&self) -> Vec<String> {
        self.git(&["for-each-ref", "--format=%(refname:short)", "refs/heads"])
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// A file's bytes at `rev`, exactly.
    fn file(&self, rev: &str, path: &str) -> String {
        let out = Command::new("git")
            .args(["--git-dir", self.dir.to_str().unwrap()])
            .arg("show")
            .arg(format!("{rev}:{path}"))
            .output()
            .unwrap();
        assert!(out.status.success(), "no {path} at {rev}");
        String::from_utf8(out.stdout).unwrap()
    }

    /// The paths a branch's commit changes relative to its parent.
    fn changed(&self, branch: &str) -> Vec<String> {
        self.git(&["diff", "--name-only", &format!("{branch}^"), branch])
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn parent(&self, branch: &str) -> String {
        self.git(&["rev-parse", &format!("{branch}^")])
    }

    /// Commits on `branch` that are not on `main`.
    fn ahead(&self, branch: &str) -> usize {
        self.git(&["rev-list", "--count", &format!("main..{branch}")])
            .parse()
            .unwrap()
    }
}

struct World {
    github: GitHubMock,
    remote: Remote,
    checkout: PathBuf,
    packages: PathBuf,
    advisories: PathBuf,
    home: tempfile::TempDir,
    /// Set: runs are the bot's, `repin pr --clone` over git's smart protocol from this
    /// `git daemon` (a fresh shallow clone each run, as against GitHub), not the Action's on
    /// the checkout.
    bot: Option<support::shared::GitDaemon>,
    _dirs: Vec<tempfile::TempDir>,
    _pypi: PypiServer,
}

impl World {
    fn repin(&self, extra: &[&str]) -> Output {
        let env = [("GITHUB_TOKEN", TOKEN.as_ref())];
        match &self.bot {
            Some(daemon) => {
                let mut args = vec!["--clone"];
                args.extend_from_slice(extra);
                self.repin_with(&daemon.url("service.git"), false, &args, &env)
            }
            None => self.repin_with(self.remote.dir.to_str().unwrap(), true, extra, &env),
        }
    }

    /// `repin pr` against `remote`, on the checkout or (`checkout` false) on a clone of its
    /// own, with `env` (the token among it, or not).
    fn repin_with(
        &self,
        remote: &str,
        checkout: bool,
        extra: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
    ) -> Output {
        let advisories = self.advisories.to_str().unwrap();
        let mut args = vec![
            "pr",
            "--repo",
            REPOSITORY,
            "--api-url",
            &self.github.url,
            "--remote",
            remote,
            "--no-cache",
            "--color",
            "never",
            // The operator's database: a repository's own `[advisories] path` must lie inside it.
            "--advisory-db",
            advisories,
        ];
        args.extend_from_slice(extra);
        if checkout {
            args.push(self.checkout.to_str().unwrap());
        }
        support::repin_with_env(self.home.path(), &args, env)
    }

    /// Run `repin pr`, expecting success and no request the stand-in does not know.
    fn run(&self, extra: &[&str]) -> String {
        let out = self.repin(extra);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(
            out.status.code(),
            Some(0),
            "stdout:\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("--- repin pr {extra:?}\n{stdout}");
        let unexpected = self.github.with(|s| s.unexpected.clone());
        assert!(unexpected.is_empty(), "unexpected requests: {unexpected:?}");
        stdout
    }

    fn release(&self, name: &str, version: &str) -> String {
        self.release_with(name, version, &[])
    }

    /// A new release whose metadata lists `project_urls`; its hash.
    fn release_with(&self, name: &str, version: &str, project_urls: &[&str]) -> String {
        let meta = Meta {
            requires_python: Some(">=3.8"),
            project_urls,
            ..Meta::default()
        };
        let path = write_wheel_with(&self.packages, name, version, &meta);
        format!("sha256:{}", sha256_hex(&std::fs::read(path).unwrap()))
    }

    /// Commit `files` in the checkout and push them to main.
    fn push_main(&self, files: &[(&str, &str)], message: &str) {
        for (path, content) in files {
            std::fs::write(self.checkout.join(path), content).unwrap();
        }
        git(&self.checkout, &["add", "."]);
        git(&self.checkout, &["commit", "-q", "-m", message]);
        git(&self.checkout, &["push", "-q", "origin", "main"]);
    }

    /// A developer (`dev@example.com`, the clone's git identity) commits `content` as `file`
    /// on `branch` and pushes it; the branch's new head.
    fn push_as_developer(&self, branch: &str, file: &str, content: &str, message: &str) -> String {
        let root = self._dirs[2].path();
        let other = root.join("dev");
        if !other.exists() {
            git(
                root,
                &["clone", "-q", self.remote.dir.to_str().unwrap(), "dev"],
            );
        }
        git(&other, &["fetch", "-q", "origin"]);
        git(
            &other,
            &["checkout", "-q", "-B", branch, &format!("origin/{branch}")],
        );
        std::fs::write(other.join(file), content).unwrap();
        git(&other, &["add", file]);
        git(&other, &["commit", "-q", "-m", message]);
        git(&other, &["push", "-q", "origin", branch]);
        self.remote.head(branch).unwrap()
    }

    /// Append `lines` to `[pull-requests]` in repin.toml (its last table) and push to main.
    fn configure_pull_requests(&self, lines: &str) {
        let mut text = std::fs::read_to_string(self.checkout.join("repin.toml")).unwrap();
        text.push_str(lines);
        self.push_main(&[("repin.toml", &text)], "Configure pull requests");
    }

    /// The dashboard issue (the only issue repin opens).
    fn dashboard(&self) -> support::github::IssueRecord {
        let issues = self.github.with(|s| s.issues.clone());
        assert_eq!(issues.len(), 1, "one dashboard issue");
        issues.into_values().next().unwrap()
    }

    fn pull(&self, head: &str) -> support::github::Pull {
        self.github
            .pulls()
            .into_iter()
            .filter(|p| p.head == head)
            .max_by_key(|p| p.number)
            .unwrap_or_else(|| panic!("no pull request from {head}: {:?}", self.github.pulls()))
    }
}

fn requirements(flask: &str, flask_hash: &str, jinja2: &str) -> String {
    format!(
        "# Service dependencies\nflask=={flask} \\\n    --hash={flask_hash}\njinja2=={jinja2}  # templates\n"
    )
}

fn setup() -> World {
    let packages = tempfile::tempdir().unwrap();
    let mut hashes = std::collections::BTreeMap::new();
    for (name, version) in [
        ("flask", "2.2.2"),
        ("flask", "2.2.5"),
        ("jinja2", "3.1.2"),
        ("jinja2", "3.1.3"),
    ] {
        let path = write_wheel(packages.path(), name, version, Some(">=3.8"));
        hashes.insert(
            format!("{name}=={version}"),
            format!("sha256:{}", sha256_hex(&std::fs::read(path).unwrap())),
        );
    }
    let pypi = PypiServer::start(packages.path());
    let advisories = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(advisories.path().join("vulns")).unwrap();

    let root = tempfile::tempdir().unwrap();
    let remote = root.path().join("service.git");
    git(
        root.path(),
        &["init", "-q", "--bare", "-b", "main", "service.git"],
    );
    let checkout = root.path().join("checkout");
    git(
        root.path(),
        &["clone", "-q", remote.to_str().unwrap(), "checkout"],
    );
    git(&checkout, &["checkout", "-q", "-b", "main"]);
    std::fs::write(
        checkout.join("repin.toml"),
        format!(
            "[python]\nversion = \"3.12\"\n\n[[indexes]]\nurl = \"{}\"\nprimary = true\n\n[pull-requests]\ncommit-prefix = \"chore(deps):\"\nlabels = [\"dependencies\"]\nsecurity-labels = [\"security\"]\n",
            pypi.index_url(),
        ),
    )
    .unwrap();
    std::fs::write(checkout.join("README.md"), "# service\n").unwrap();
    std::fs::write(
        checkout.join("requirements.txt"),
        requirements("2.2.2", &hashes["flask==2.2.2"], "3.1.2"),
    )
    .unwrap();
    git(&checkout, &["add", "."]);
    git(&checkout, &["commit", "-q", "-m", "Initial commit"]);
    git(&checkout, &["push", "-q", "origin", "main"]);

    let github = GitHubMock::start(REPOSITORY, TOKEN, remote.clone());
    World {
        github,
        remote: Remote { dir: remote },
        checkout,
        packages: packages.path().to_path_buf(),
        advisories: advisories.path().to_path_buf(),
        home: tempfile::tempdir().unwrap(),
        bot: None,
        _dirs: vec![packages, advisories, root],
        _pypi: pypi,
    }
}

#[test]
fn pull_request_lifecycle() {
    lifecycle(&setup());
}

/// The same lifecycle as the self-hosted bot runs it (issue 14): a fresh shallow clone over
/// git's smart protocol each run, and GitHub answering `502` after it carried out each create
/// of the first run (the dashboard and both pull requests). Every invariant holds: nothing is
/// opened twice, nothing unchanged is rewritten.
#[test]
fn pull_request_lifecycle_as_the_bot() {
    let mut world = setup();
    world.bot = Some(support::shared::GitDaemon::start(
        world.remote.dir.parent().unwrap(),
    ));
    world.github.with(|s| {
        s.bad_gateway_after = vec![
            "POST /repos/acme/service/pulls".into(),
            "POST /repos/acme/service/issues".into(),
            "POST /repos/acme/service/pulls".into(),
        ];
    });
    lifecycle(&world);
    assert!(world.github.with(|s| s.bad_gateway_after.is_empty()));
    // One pull request per branch and update, one dashboard: nothing opened twice.
    let mut heads: Vec<String> = world.github.pulls().into_iter().map(|p| p.head).collect();
    heads.sort();
    assert_eq!(
        heads,
        [
            "repin/requirements.txt/flask",
            "repin/requirements.txt/jinja2",
            "repin/security/flask"
        ]
    );
    assert_eq!(world.github.with(|s| s.issues.len()), 1);
}

fn lifecycle(world: &World) {
    let flask_225 = world.release_with(
        "flask",
        "2.2.5",
        &["Changes, https://flask.palletsprojects.com/changes/#version-2-2-5"],
    );
    let main_1 = world.remote.head("main").unwrap();

    // A dry run plans, prints the diffs, and neither pushes nor writes to GitHub.
    let stdout = world.run(&["--dry-run"]);
    assert!(
        stdout.contains(
            "create    repin/requirements.txt/flask   chore(deps): Update flask to 2.2.5"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("+flask==2.2.5 \\"), "{stdout}");
    assert!(stdout.contains("2 to create, 0 to update"), "{stdout}");
    assert_eq!(world.github.writes(), 0);
    assert_eq!(world.remote.branches(), ["main"]);

    // Run 1: one pull request per dependency, labelled, and the dashboard.
    let stdout = world.run(&[]);
    assert!(
        stdout.contains("2 created, 0 updated, 0 unchanged"),
        "{stdout}"
    );
    let flask = world.pull("repin/requirements.txt/flask");
    let jinja2 = world.pull("repin/requirements.txt/jinja2");
    assert_eq!(flask.title, "chore(deps): Update flask to 2.2.5");
    assert_eq!(jinja2.title, "chore(deps): Update jinja2 to 3.1.3");
    assert_eq!(flask.labels, ["dependencies"]);
    assert_eq!(
        (flask.base.as_str(), flask.state.as_str()),
        ("main", "open")
    );
    assert!(flask.body.contains("<!-- repin:"), "{}", flask.body);
    // The changelog named by the release's metadata, not a guess.
    assert!(
        flask
            .body
            .contains("- flask: <https://flask.palletsprojects.com/changes/#version-2-2-5>"),
        "{}",
        flask.body
    );
    assert!(flask.body.contains("| `2.2.2` | `2.2.5` |") || flask.body.contains("2.2.5"));
    let mut branches = world.remote.branches();
    branches.sort();
    assert_eq!(
        branches,
        [
            "main",
            "repin/requirements.txt/flask",
            "repin/requirements.txt/jinja2"
        ]
    );
    for branch in [
        "repin/requirements.txt/flask",
        "repin/requirements.txt/jinja2",
    ] {
        assert_eq!(world.remote.parent(branch), main_1, "{branch} is on main");
        assert_eq!(world.remote.changed(branch), ["requirements.txt"]);
        assert_eq!(world.remote.ahead(branch), 1);
    }
    let original = world.remote.file("main", "requirements.txt");
    let flask_hash_222 = original
        .lines()
        .find_map(|l| l.trim().strip_prefix("--hash="))
        .unwrap()
        .to_owned();
    assert_eq!(
        world
            .remote
            .file("repin/requirements.txt/flask", "requirements.txt"),
        requirements("2.2.5", &flask_225, "3.1.2")
    );
    assert_eq!(
        world
            .remote
            .file("repin/requirements.txt/jinja2", "requirements.txt"),
        requirements("2.2.2", &flask_hash_222, "3.1.3")
    );
    let message = world.remote.git(&[
        "log",
        "-1",
        "--format=%an <%ae>%n%s",
        "repin/requirements.txt/flask",
    ]);
    assert_eq!(
        message,
        "repin[bot] <repin[bot]@users.noreply.github.com>\nchore(deps): Update flask to 2.2.5"
    );
    let dashboard = world.dashboard();
    assert!(
        dashboard.body.contains("Update flask to 2.2.5"),
        "{}",
        dashboard.body
    );

    // Run 2: nothing changed upstream, so nothing is written.
    let writes = world.github.writes();
    let heads = (
        world.remote.head("repin/requirements.txt/flask"),
        world.remote.head("repin/requirements.txt/jinja2"),
    );
    let stdout = world.run(&[]);
    assert!(
        stdout.contains("0 created, 0 updated, 2 unchanged"),
        "{stdout}"
    );
    assert_eq!(world.github.writes(), writes, "run 2 writes nothing");
    assert_eq!(
        heads,
        (
            world.remote.head("repin/requirements.txt/flask"),
            world.remote.head("repin/requirements.txt/jinja2"),
        )
    );

    // A new upstream release: the same pull request is updated in place.
    let flask_226 = world.release("flask", "2.2.6");
    let stdout = world.run(&[]);
    assert!(
        stdout.contains("0 created, 1 updated, 1 unchanged"),
        "{stdout}"
    );
    let updated = world.pull("repin/requirements.txt/flask");
    assert_eq!(updated.number, flask.number, "updated in place");
    assert_eq!(updated.title, "chore(deps): Update flask to 2.2.6");
    assert_eq!(world.github.open_pulls().len(), 2);
    assert_eq!(
        world
            .remote
            .file("repin/requirements.txt/flask", "requirements.txt"),
        requirements("2.2.6", &flask_226, "3.1.2")
    );
    assert_eq!(world.remote.ahead("repin/requirements.txt/flask"), 1);

    // jinja2 updated by hand on main: its pull request is closed with a comment saying why,
    // and its branch deleted; flask's branch, now behind main, is rebased.
    world.push_main(
        &[(
            "requirements.txt",
            &requirements("2.2.2", &flask_hash_222, "3.1.3"),
        )],
        "Update jinja2 by hand",
    );
    let main_2 = world.remote.head("main").unwrap();
    let stdout = world.run(&[]);
    assert!(stdout.contains("1 closed"), "{stdout}");
    let closed = world.pull("repin/requirements.txt/jinja2");
    assert_eq!(closed.state, "closed");
    let comments = world.github.with(|s| s.comments.clone());
    let comment = comments
        .iter()
        .find(|(n, _)| *n == jinja2.number)
        .map(|(_, c)| c.as_str())
        .unwrap_or_default();
    assert!(
        comment.contains("`jinja2` is already at `3.1.3` in `requirements.txt`"),
        "{comment}"
    );
    assert_eq!(world.remote.head("repin/requirements.txt/jinja2"), None);
    assert_eq!(world.remote.parent("repin/requirements.txt/flask"), main_2);
    assert_eq!(
        world
            .remote
            .file("repin/requirements.txt/flask", "requirements.txt"),
        requirements("2.2.6", &flask_226, "3.1.3")
    );

    // The user closes flask's pull request unmerged: "not this version". It stays closed.
    world.github.close_by_user(flask.number);
    let pulls_before = world.github.pulls().len();
    let stdout = world.run(&[]);
    assert!(stdout.contains("ignored"), "{stdout}");
    assert_eq!(world.github.pulls().len(), pulls_before, "nothing reopened");
    assert!(world.github.open_pulls().is_empty());
    let dashboard = world.dashboard();
    assert!(
        dashboard.body.contains("Update flask to 2.2.6"),
        "{}",
        dashboard.body
    );

    // An advisory affects flask 2.2.2 and is fixed in 2.2.6: the security fix is opened even
    // though the user closed the routine update to the same version.
    let dir = world.advisories.join("vulns").join("flask");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("PYSEC-2099-1.yaml"),
        "id: PYSEC-2099-1\nsummary: Session cookie disclosure\naliases:\n- CVE-2099-0001\naffected:\n- package:\n    ecosystem: PyPI\n    name: flask\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: '0'\n    - fixed: 2.2.6\ndatabase_specific:\n  severity: HIGH\n",
    )
    .unwrap();
    let stdout = world.run(&[]);
    assert!(stdout.contains("1 created"), "{stdout}");
    let security = world.pull("repin/security/flask");
    assert_eq!(security.state, "open");
    assert_eq!(
        security.title,
        "chore(deps): Security: update flask to 2.2.6"
    );
    let mut labels = security.labels.clone();
    labels.sort();
    assert_eq!(labels, ["dependencies", "security"]);
    assert!(security.body.contains("PYSEC-2099-1"), "{}", security.body);
    assert!(security.body.contains("CVE-2099-0001"), "{}", security.body);
    assert_eq!(world.remote.parent("repin/security/flask"), main_2);
    assert_eq!(
        world.remote.changed("repin/security/flask"),
        ["requirements.txt"]
    );
    assert_eq!(
        world
            .remote
            .file("repin/security/flask", "requirements.txt"),
        requirements("2.2.6", &flask_226, "3.1.3")
    );

    // Someone else moves main (another clone, so the checkout is behind): the security branch
    // is rebased onto the new head, keeping the other change.
    let other = world._dirs[2].path().join("other");
    git(
        world._dirs[2].path(),
        &["clone", "-q", world.remote.dir.to_str().unwrap(), "other"],
    );
    std::fs::write(other.join("README.md"), "# service\n\nNow with docs.\n").unwrap();
    git(&other, &["commit", "-q", "-am", "Document the service"]);
    git(&other, &["push", "-q", "origin", "main"]);
    let main_3 = world.remote.head("main").unwrap();
    let stdout = world.run(&[]);
    assert!(stdout.contains("rebased on the base branch"), "{stdout}");
    let rebased = world.pull("repin/security/flask");
    assert_eq!(rebased.number, security.number);
    assert_eq!(world.remote.parent("repin/security/flask"), main_3);
    assert_eq!(
        world.remote.changed("repin/security/flask"),
        ["requirements.txt"]
    );
    assert_eq!(
        world.remote.file("repin/security/flask", "README.md"),
        "# service\n\nNow with docs.\n"
    );
}

#[test]
fn rate_limits_are_waited_out_and_bad_tokens_reported() {
    let world = setup();
    world.release("flask", "2.2.5");
    // GitHub's primary limit: 403 with x-ratelimit-remaining 0 until x-ratelimit-reset.
    world.github.with(|s| s.rate_limit_next = 1);
    let stdout = world.run(&[]);
    assert!(stdout.contains("2 created"), "{stdout}");

    // A wrong token: GitHub answers 401 and repin says what to do, exit 2.
    let out = world.repin_with(
        world.remote.dir.to_str().unwrap(),
        true,
        &[],
        &[("GITHUB_TOKEN", "ghs_revoked_token_value".as_ref())],
    );
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("GitHub answered 401"), "{stdout}");
    assert!(
        stdout.contains("hint: the token is missing, wrong or expired"),
        "{stdout}"
    );
    // The token never shows.
    assert!(!stdout.contains("ghs_revoked"), "{stdout}");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("ghs_revoked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // No token at all: refused before anything is looked up.
    let out = support::repin(
        world.home.path(),
        &["pr", "--repo", REPOSITORY, world.checkout.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("No token in `GITHUB_TOKEN`"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_bot_works_in_a_fresh_shallow_clone() {
    let world = setup();
    world.release("flask", "2.2.5");
    // Over git's smart protocol, as a bot clones from GitHub: the clone is shallow.
    let daemon = support::shared::GitDaemon::start(world.remote.dir.parent().unwrap());
    let url = daemon.url("service.git");
    let outputs = world.home.path().join("outputs");
    let summary = world.home.path().join("summary.md");
    let out = world.repin_with(
        &url,
        false,
        &["--clone"],
        &[
            ("GITHUB_TOKEN", TOKEN.as_ref()),
            ("GITHUB_ACTIONS", "true".as_ref()),
            ("GITHUB_OUTPUT", outputs.as_os_str()),
            ("GITHUB_STEP_SUMMARY", summary.as_os_str()),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("2 created"), "{stdout}");
    assert!(world.github.with(|s| s.unexpected.is_empty()));
    // As an Actions step: the pull requests as an output, and a table in the job summary.
    let outputs = std::fs::read_to_string(&outputs).unwrap();
    assert!(
        outputs.contains("pull-requests<<repin_EOF\n[\"https://github.example/acme/service/pull/1\",\"https://github.example/acme/service/pull/2\"]\nrepin_EOF\n"),
        "{outputs}"
    );
    assert!(outputs.contains("updates<<repin_EOF\n{"), "{outputs}");
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        summary.contains("| created | `repin/requirements.txt/flask` | chore(deps): Update flask to 2.2.5 | https://github.example/acme/service/pull/1 |"),
        "{summary}"
    );
    let main = world.remote.head("main").unwrap();
    assert_eq!(world.remote.parent("repin/requirements.txt/flask"), main);
    assert_eq!(
        world.remote.changed("repin/requirements.txt/flask"),
        ["requirements.txt"]
    );
}

#[test]
fn a_failing_branch_does_not_stop_the_others() {
    let world = setup();
    world.release("flask", "2.2.5");
    // The remote refuses pushes to jinja2's branch, as a branch protection rule would.
    let hook = world.remote.dir.join("hooks").join("pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\nwhile read old new ref; do\n  case \"$ref\" in\n    refs/heads/repin/requirements.txt/jinja2) echo \"protected branch\" >&2; exit 1;;\n  esac\ndone\n",
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    // Hooks run on git's smart protocol (libgit2 writes local remotes directly).
    let daemon = support::shared::GitDaemon::start(world.remote.dir.parent().unwrap());
    let out = world.repin_with(
        &daemon.url("service.git"),
        true,
        &[],
        &[("GITHUB_TOKEN", TOKEN.as_ref())],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains(
            "1 created, 0 updated, 0 unchanged, 0 closed, 0 ignored, 0 held back, 1 failed"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("failed    repin/requirements.txt/jinja2"),
        "{stdout}"
    );
    assert_eq!(world.github.open_pulls().len(), 1);
    assert_eq!(world.pull("repin/requirements.txt/flask").state, "open");
    assert_eq!(world.remote.head("repin/requirements.txt/jinja2"), None);
    // The dashboard names the failure.
    let dashboard = world.dashboard();
    assert!(
        dashboard.body.contains("Update jinja2 to 3.1.3"),
        "{}",
        dashboard.body
    );
    assert!(world.github.with(|s| s.unexpected.is_empty()));
}

#[test]
fn a_branch_someone_else_pushed_to_is_left_alone() {
    let world = setup();
    world.release("flask", "2.2.5");
    world.run(&[]);
    // A developer adds a commit of their own to jinja2's pull request.
    let theirs = world.push_as_developer(
        "repin/requirements.txt/jinja2",
        "NOTES.md",
        "jinja2 3.1.3 needs a template fix\n",
        "Fix templates for jinja2 3.1.3",
    );

    // main moves: repin would rebase its own branches, but not this one.
    world.push_main(&[("README.md", "# service\n\nMoved.\n")], "Move main");
    let stdout = world.run(&[]);
    assert!(
        stdout.contains("edited    repin/requirements.txt/jinja2"),
        "{stdout}"
    );
    assert!(
        stdout.contains("its last commit is by <dev@example.com>"),
        "{stdout}"
    );
    assert!(stdout.contains("1 edited by someone else"), "{stdout}");
    assert_eq!(
        world
            .remote
            .head("repin/requirements.txt/jinja2")
            .as_deref(),
        Some(theirs.as_str()),
        "their commit is not overwritten"
    );
    let main = world.remote.head("main").unwrap();
    assert_eq!(world.remote.parent("repin/requirements.txt/flask"), main);

    // Updated by hand on main: the pull request is closed, but their branch is kept.
    let hash = world
        .remote
        .file("main", "requirements.txt")
        .lines()
        .find_map(|l| l.trim().strip_prefix("--hash=").map(str::to_owned))
        .unwrap();
    world.push_main(
        &[("requirements.txt", &requirements("2.2.2", &hash, "3.1.3"))],
        "Update jinja2",
    );
    let stdout = world.run(&[]);
    assert!(stdout.contains("1 closed"), "{stdout}");
    assert_eq!(world.pull("repin/requirements.txt/jinja2").state, "closed");
    assert_eq!(
        world
            .remote
            .head("repin/requirements.txt/jinja2")
            .as_deref(),
        Some(theirs.as_str()),
        "their branch is kept"
    );
}

/// Issue 14: the commands a maintainer gives in a comment (`@repin rebase`, `@repin recreate`)
/// reach `repin pr` as `--rebase BRANCH` and `--recreate BRANCH`. A rebase is made whatever the
/// rebase policy (here `never`), and refused when someone else pushed to the branch, saying that
/// `@repin recreate` replaces their commits; a recreate replaces them. Each is answered on the
/// pull request.
#[test]
fn rebase_and_recreate_commands_are_carried_out_and_answered() {
    let world = setup();
    world.configure_pull_requests("rebase = \"never\"\n");
    world.release("flask", "2.2.5");
    world.run(&[]);
    let flask = "repin/requirements.txt/flask";
    let jinja2 = "repin/requirements.txt/jinja2";
    let flask_pr = world.pull(flask).number;
    let jinja2_pr = world.pull(jinja2).number;
    let comments = || world.github.with(|s| s.comments.clone());
    assert!(comments().is_empty(), "{:?}", comments());

    // main moves: with `rebase = "never"` the branches stay where they are...
    world.push_main(&[("README.md", "# service\n\nMoved.\n")], "Move main");
    let main = world.remote.head("main").unwrap();
    let flask_head = world.remote.head(flask).unwrap();
    let stdout = world.run(&[]);
    assert!(stdout.contains(&format!("unchanged {flask}")), "{stdout}");
    assert_eq!(
        world.remote.head(flask).as_deref(),
        Some(flask_head.as_str())
    );
    // ...until a rebase is asked for: that branch only.
    let jinja2_head = world.remote.head(jinja2).unwrap();
    let stdout = world.run(&["--rebase", flask]);
    assert!(
        stdout.contains("rebased on the base branch, as asked (@repin rebase)"),
        "{stdout}"
    );
    assert_eq!(world.remote.parent(flask), main);
    assert_eq!(
        world.remote.head(jinja2).as_deref(),
        Some(jinja2_head.as_str())
    );
    let short: String = main.chars().take(12).collect();
    assert_eq!(
        comments(),
        [(flask_pr, format!("Rebased on `main` ({short})."))]
    );
    // Asked again with nothing to do: said so, nothing pushed.
    let rebased = world.remote.head(flask).unwrap();
    world.run(&["--rebase", flask]);
    assert_eq!(world.remote.head(flask).as_deref(), Some(rebased.as_str()));
    assert_eq!(
        comments().last().unwrap(),
        &(
            flask_pr,
            format!("Nothing to rebase: this branch is already on the head of `main` ({short}).")
        )
    );

    // Someone else pushes to jinja2's branch: a rebase would drop their commit, so it is
    // refused, and the answer names the command that replaces it.
    let theirs = world.push_as_developer(jinja2, "NOTES.md", "notes\n", "Notes");
    let stdout = world.run(&["--rebase", jinja2]);
    assert!(
        stdout.contains("@repin rebase was asked, but its last commit is by <dev@example.com> and a rebase would drop it; @repin recreate replaces it"),
        "{stdout}"
    );
    assert_eq!(world.remote.head(jinja2).as_deref(), Some(theirs.as_str()));
    assert_eq!(
        comments().last().unwrap(),
        &(
            jinja2_pr,
            "Not rebased: the last commit on this branch is by <dev@example.com>, and a rebase would drop it. Comment `@repin recreate` to make the branch again from `main`, replacing those commits.".to_owned()
        )
    );

    // A recreate replaces their commit with repin's, on main's head; a rebase given with it
    // changes nothing (the recreate wins).
    let stdout = world.run(&["--rebase", jinja2, "--recreate", jinja2]);
    assert!(
        stdout.contains("recreated from the base branch, as asked (@repin recreate)"),
        "{stdout}"
    );
    assert_ne!(world.remote.head(jinja2).as_deref(), Some(theirs.as_str()));
    assert_eq!(world.remote.parent(jinja2), main);
    assert!(
        !world.remote.file(jinja2, "requirements.txt").is_empty()
            && world
                .remote
                .file(jinja2, "requirements.txt")
                .contains("jinja2==3.1.3"),
    );
    assert_eq!(
        comments().last().unwrap(),
        &(
            jinja2_pr,
            format!("Recreated from `main` ({short}), replacing the commits by <dev@example.com>.")
        )
    );
    // Without a command, repin's own branch is left as it is again.
    let recreated = world.remote.head(jinja2).unwrap();
    let count = comments().len();
    world.run(&[]);
    assert_eq!(
        world.remote.head(jinja2).as_deref(),
        Some(recreated.as_str())
    );
    assert_eq!(comments().len(), count);
}

/// Issue 14: `@repin ignore this major version` (and `minor version`) reach `repin pr` as
/// `--ignore-major BRANCH` (`--ignore-minor`): the pull request is closed, its marker records the
/// ignore, and the next runs propose no release that scope covers, until one outside it comes.
#[test]
fn ignore_commands_close_the_pull_request_and_hold_that_version_range() {
    let world = setup();
    world.release("flask", "2.2.5");
    world.run(&[]);
    let flask = "repin/requirements.txt/flask";
    let jinja2 = "repin/requirements.txt/jinja2";
    let flask_pr = world.pull(flask).number;
    let jinja2_pr = world.pull(jinja2).number;

    let stdout = world.run(&["--ignore-major", flask, "--ignore-minor", jinja2]);
    assert!(
        stdout.contains("flask 2.x is not proposed again, as asked (@repin ignore this major version); a security fix still is"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "jinja2 3.1.x is not proposed again, as asked (@repin ignore this minor version)"
        ),
        "{stdout}"
    );
    assert_eq!(world.pull(flask).state, "closed");
    assert_eq!(world.pull(jinja2).state, "closed");
    assert_eq!(world.remote.head(flask), None, "repin's branch is deleted");
    let comments = world.github.with(|s| s.comments.clone());
    assert!(
        comments.contains(&(
            flask_pr,
            "repin closes this pull request: flask 2.x is not proposed again, as asked (@repin ignore this major version); a security fix still is. Reopen it to undo.".to_owned()
        )),
        "{comments:?}"
    );
    assert!(
        comments.iter().any(|(n, _)| *n == jinja2_pr),
        "{comments:?}"
    );
    // The same run saw them as ignored: nothing was opened again.
    assert!(
        stdout.contains("ignored   repin/requirements.txt/flask"),
        "{stdout}"
    );
    assert_eq!(world.github.open_pulls().len(), 0);

    // Newer releases inside the ignored ranges stay ignored; the dashboard says by what.
    world.release("flask", "2.3.0");
    world.release("jinja2", "3.1.4");
    let stdout = world.run(&[]);
    assert!(
        stdout.contains(&format!(
            "flask 2.x ignored on #{flask_pr} (@repin ignore this major version)"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "jinja2 3.1.x ignored on #{jinja2_pr} (@repin ignore this minor version)"
        )),
        "{stdout}"
    );
    assert_eq!(world.github.open_pulls().len(), 0);
    let board = world.dashboard().body;
    assert!(board.contains(&format!("/pull/{flask_pr}")), "{board}");

    // A release outside the range is proposed again.
    world.release("flask", "3.0.0");
    world.release("jinja2", "3.2.0");
    world.run(&[]);
    let open: Vec<String> = world
        .github
        .open_pulls()
        .into_iter()
        .map(|p| p.title)
        .collect();
    assert_eq!(
        open.len(),
        2,
        "flask 3.0.0 and jinja2 3.2.0 are proposed: {open:?}"
    );
    assert!(
        open.iter().any(|t| t.contains("flask to 3.0.0")),
        "{open:?}"
    );
    assert!(
        open.iter().any(|t| t.contains("jinja2 to 3.2.0")),
        "{open:?}"
    );
}

/// Issue 14: the dashboard lists the updates held back by a limit with a box each; ticking one
/// (an edit of the issue, which GitHub sends as an `issues` event) makes the next run open that
/// pull request whatever the limit, and the rewritten dashboard has no ticked box left.
#[test]
fn a_box_ticked_on_the_dashboard_opens_its_pull_request_over_the_limit() {
    let world = setup();
    world.configure_pull_requests("max-open = 1\n");
    world.release("flask", "2.2.5");
    let stdout = world.run(&[]);
    assert!(
        stdout.contains("at most 1 pull requests open at once"),
        "{stdout}"
    );
    assert_eq!(world.github.open_pulls().len(), 1);
    let held = if world.github.open_pulls()[0].head.ends_with("/flask") {
        "repin/requirements.txt/jinja2"
    } else {
        "repin/requirements.txt/flask"
    };
    let board = world.dashboard().body;
    let unticked = format!("- [ ] <!-- repin:open {held} -->");
    assert!(board.contains(&unticked), "{board}");
    assert!(
        board
            .contains("Tick a box to open that pull request at the next run, whatever the limits."),
        "{board}"
    );

    // Ticking the box: the next run opens it, saying why, and writes the box unticked again.
    world.github.with(|s| {
        for issue in s.issues.values_mut() {
            issue.body = issue
                .body
                .replace(&unticked, &unticked.replace("[ ]", "[x]"));
        }
    });
    let stdout = world.run(&[]);
    assert!(
        stdout.contains("opened as asked on the dashboard"),
        "{stdout}"
    );
    assert_eq!(world.github.open_pulls().len(), 2);
    assert_eq!(world.pull(held).state, "open");
    let board = world.dashboard().body;
    assert!(!board.contains("- [x]"), "{board}");
    assert!(
        board.contains("## Held back by limits\n\nNone.\n"),
        "{board}"
    );
}

/// GitHub refuses pull requests from a workflow's token when the repository's setting "Allow
/// GitHub Actions to create and approve pull requests" is off (`403`, "GitHub Actions is not
/// permitted to create or approve pull requests."): repin says which setting to turn on.
#[test]
fn github_refusing_pull_requests_from_actions_names_the_setting() {
    let world = setup();
    world.release("flask", "2.2.5");
    world.github.with(|s| s.actions_may_not_create_pulls = true);
    let out = world.repin(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains(
            "GitHub Actions is not permitted to create or approve pull requests in this repository"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "hint: turn on \"Allow GitHub Actions to create and approve pull requests\" in the repository's Settings > Actions > General > Workflow permissions"
        ),
        "{stdout}"
    );
    assert!(world.github.open_pulls().is_empty());
}

/// Issue 14, defect 1: in a shallow clone over git's smart protocol (as the bot clones from
/// GitHub), a run with nothing new rewrote every branch ("rebased on the base branch": same
/// tree, same parent, the base had not moved). Whether a branch is behind must not depend on
/// how deep the clone is: nothing is pushed, and a base that does move still rebases.
#[test]
fn a_shallow_clone_does_not_rewrite_unchanged_branches() {
    let world = setup();
    world.release("flask", "2.2.5");
    let daemon = support::shared::GitDaemon::start(world.remote.dir.parent().unwrap());
    let url = daemon.url("service.git");
    let run = || {
        let out = world.repin_with(
            &url,
            false,
            &["--clone"],
            &[("GITHUB_TOKEN", TOKEN.as_ref())],
        );
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(world.github.with(|s| s.unexpected.is_empty()));
        stdout
    };
    let branches = [
        "repin/requirements.txt/flask",
        "repin/requirements.txt/jinja2",
    ];
    let stdout = run();
    assert!(stdout.contains("2 created"), "{stdout}");
    let heads: Vec<_> = branches.iter().map(|b| world.remote.head(b)).collect();
    let writes = world.github.writes();

    let stdout = run();
    assert!(
        stdout.contains("0 created, 0 updated, 2 unchanged"),
        "{stdout}"
    );
    let after: Vec<_> = branches.iter().map(|b| world.remote.head(b)).collect();
    assert_eq!(after, heads, "no branch was rewritten");
    assert_eq!(world.github.writes(), writes, "nothing written to GitHub");

    // The base moves: both branches are rebased onto it, in the shallow clone too.
    world.push_main(&[("README.md", "# service\n\nMoved.\n")], "Move main");
    let stdout = run();
    assert!(stdout.contains("2 updated"), "{stdout}");
    let main = world.remote.head("main").unwrap();
    for branch in branches {
        assert_eq!(world.remote.parent(branch), main, "{branch} is on main");
    }
    let stdout = run();
    assert!(stdout.contains("2 unchanged"), "{stdout}");
}

/// Issue 14, defect 2: GitHub opened the dashboard issue and the pull request, then its front
/// end answered `502`. Retrying the create would open a second one; repin looks the object up
/// (the issue by its hidden marker, the pull request by its head branch) instead. A run that
/// finds two of its dashboards (as left by an older repin) closes the newer one.
#[test]
fn a_lost_answer_to_a_create_opens_nothing_twice() {
    let world = setup();
    world.release("flask", "2.2.5");
    world.github.with(|s| {
        s.bad_gateway_after = vec![
            "POST /repos/acme/service/issues".into(),
            "POST /repos/acme/service/pulls".into(),
        ];
    });
    let stdout = world.run(&[]);
    assert!(stdout.contains("2 created, 0 updated"), "{stdout}");
    assert!(world.github.with(|s| s.bad_gateway_after.is_empty()));
    let creates = |what: &str| {
        world.github.with(|s| {
            s.requests
                .iter()
                .filter(|r| r.method == "POST" && r.target == format!("/repos/acme/service/{what}"))
                .count()
        })
    };
    assert_eq!(creates("issues"), 1, "the dashboard was created once");
    assert_eq!(creates("pulls"), 2, "one create per pull request");
    assert_eq!(world.github.open_pulls().len(), 2);
    let dashboard = world.dashboard();
    assert!(
        stdout.contains(&format!("issues/{}", dashboard.number)),
        "{stdout}"
    );

    // A second dashboard, as two runs at once or an older repin left: the newer is closed.
    let copy = world.github.with(|s| {
        let copy = support::github::IssueRecord {
            number: 100,
            ..dashboard.clone()
        };
        s.issues.insert(100, copy.clone());
        copy
    });
    world.run(&[]);
    let issues = world.github.with(|s| s.issues.clone());
    assert_eq!(issues[&dashboard.number].state, "open");
    assert_eq!(issues[&copy.number].state, "closed");
    let comments = world.github.with(|s| s.comments.clone());
    assert!(
        comments.contains(&(
            100,
            format!(
                "repin closes this duplicate of its dependency dashboard #{}.",
                dashboard.number
            )
        )),
        "{comments:?}"
    );
    world.run(&[]);
    assert_eq!(
        world.github.with(|s| s.issues.len()),
        2,
        "no dashboard opened"
    );
}

/// Issue 14, defect 3: the dashboard says closing it stops it; the next run then leaves it
/// closed (and opens no other), and reopening it turns it back on.
#[test]
fn a_closed_dashboard_stays_closed_until_reopened() {
    let world = setup();
    world.release("flask", "2.2.5");
    world.run(&[]);
    let dashboard = world.dashboard();
    assert!(
        dashboard
            .body
            .contains("Close it and repin stops writing it (pull requests go on); reopen it to turn it back on."),
        "{}",
        dashboard.body
    );
    world
        .github
        .with(|s| s.issues.get_mut(&dashboard.number).unwrap().state = "closed".into());
    world.release("jinja2", "3.1.4");
    let stdout = world.run(&[]);
    assert!(stdout.contains("1 updated"), "{stdout}");
    assert!(
        stdout.contains("(closed: not written; reopen it to turn it back on)"),
        "{stdout}"
    );
    let closed = world.dashboard();
    assert_eq!(closed.state, "closed");
    assert_eq!(
        closed.body, dashboard.body,
        "a closed dashboard is not written"
    );

    world
        .github
        .with(|s| s.issues.get_mut(&dashboard.number).unwrap().state = "open".into());
    world.run(&[]);
    let reopened = world.dashboard();
    assert_eq!(reopened.state, "open");
    assert!(
        reopened.body.contains("Update jinja2 to 3.1.4"),
        "{}",
        reopened.body
    );
}

/// Issue 14, defect 4: after someone else pushed to a repin branch, its pull request is still
/// open: the dashboard lists it there, with its own title, not under "Held back by limits" with
/// the title of the newer update repin would make.
#[test]
fn a_pull_request_someone_else_pushed_to_is_listed_as_open() {
    let world = setup();
    world.release("flask", "2.2.5");
    world.run(&[]);
    world.push_as_developer(
        "repin/requirements.txt/jinja2",
        "NOTES.md",
        "notes\n",
        "Notes",
    );
    world.release("jinja2", "3.1.4");
    let stdout = world.run(&[]);
    assert!(stdout.contains("1 edited by someone else"), "{stdout}");
    let jinja2 = world.pull("repin/requirements.txt/jinja2");
    assert_eq!(jinja2.title, "chore(deps): Update jinja2 to 3.1.3");
    let body = world.dashboard().body;
    let open = body
        .split("## Open pull requests\n\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .unwrap();
    assert!(
        open.contains(&format!(
            "- chore(deps): Update jinja2 to 3.1.3: https://github.example/acme/service/pull/{} (someone else pushed to it: repin no longer updates it)",
            jinja2.number
        )),
        "{body}"
    );
    assert!(body.contains("## Held back by limits\n\nNone.\n"), "{body}");
    assert!(!body.contains("3.1.4"), "{body}");
}

/// `[images] group-unblocked` (issue 17): the package update a base image's Python-minor update
/// lets in goes in that update's pull request, beside the package's own update that the
/// current Python installs, with a real Distribution registry for the image.
#[test]
fn an_unblocked_update_rides_in_the_python_minor_pull_request() {
    use support::registry::{Registry, RegistryAuth};
    let world = setup();
    // pypiserver's pages carry no `Requires-Python`: a static index that does, in its place.
    // jinja2 3.2.0 needs Python 3.10: held on the service's 3.9.
    let index = support::static_index::StaticIndex::start(&[
        ("flask", "2.2.2", Some(">=3.8"), None),
        ("flask", "2.2.5", Some(">=3.8"), None),
        ("jinja2", "3.1.2", Some(">=3.8"), None),
        ("jinja2", "3.1.3", Some(">=3.8"), None),
        ("jinja2", "3.2.0", Some(">=3.10"), None),
    ]);
    let registry = Registry::start(RegistryAuth::None);
    for tag in ["3.9-slim", "3.12-slim"] {
        registry.push_index(
            "library/python",
            tag,
            &format!("{tag}/amd64"),
            &format!("{tag}/arm64"),
        );
    }
    let config = std::fs::read_to_string(world.checkout.join("repin.toml"))
        .unwrap()
        .replace(world._pypi.index_url().as_str(), &index.index_url());
    let config = format!(
        "{config}\n[registries.\"docker.io\"]\nurl = \"http://{}\"\n\n[update]\npin-digests = false\n\n[images]\ngroup-unblocked = true\n",
        registry.host
    );
    let dockerfile =
        "FROM python:3.9-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n";
    world.push_main(
        &[("repin.toml", &config), ("Dockerfile", dockerfile)],
        "Add a Dockerfile",
    );
    world.run(&[]);
    let branch = "repin/Dockerfile/python-python-minor";
    let mut changed = world.remote.changed(branch);
    changed.sort();
    assert_eq!(changed, ["Dockerfile", "requirements.txt"]);
    assert_eq!(
        world.remote.file(branch, "Dockerfile"),
        dockerfile.replace("3.9-slim", "3.12-slim")
    );
    let requirements = world.remote.file(branch, "requirements.txt");
    assert!(
        requirements.contains("jinja2==3.2.0  # templates\n"),
        "{requirements}"
    );
    // Nothing else of the file moves in it (flask's update has its own branch).
    assert!(requirements.contains("flask==2.2.2 \\\n"), "{requirements}");
    let pull = world.pull(branch);
    assert_eq!(pull.title, "chore(deps): Update python image to 3.12-slim");
    assert!(pull.body.contains("jinja2"), "{}", pull.body);
    // jinja2's own update, for the Python the service runs on today.
    let own = world
        .remote
        .file("repin/requirements.txt/jinja2", "requirements.txt");
    assert!(own.contains("jinja2==3.1.3  # templates\n"), "{own}");
}

/// A uv project (issue 15): the pull request for a pyproject requirement carries the
/// `uv.lock` uv re-locked for it, in one commit. The oracle is uv: on the pushed branch,
/// `uv lock --locked` finds the lock consistent with the pyproject.
#[test]
fn a_uv_project_gets_its_lock_relocked_by_uv_in_the_same_pull_request() {
    let world = setup();
    let index = world._pypi.index_url().to_string();
    let pyproject = format!(
        "[project]\nname = \"shop\"\nversion = \"0.1.0\"\nrequires-python = \">=3.8\"\ndependencies = [\n    \"jinja2==3.1.2\",  # templates\n]\n\n[[tool.uv.index]]\nname = \"local\"\nurl = \"{index}\"\ndefault = true\n"
    );
    std::fs::write(world.checkout.join("pyproject.toml"), &pyproject).unwrap();
    let tools = Tools::new();
    let uv = |dir: &Path, args: &[&str]| {
        tools.run("uv", dir, args, &[]);
    };
    uv(&world.checkout, &["lock", "--no-python-downloads"]);
    let lock = std::fs::read_to_string(world.checkout.join("uv.lock")).unwrap();
    assert!(lock.contains("version = \"3.1.2\""), "{lock}");
    world.push_main(
        &[("pyproject.toml", &pyproject), ("uv.lock", &lock)],
        "A uv project",
    );
    world.run(&[]);
    let branch = "repin/pyproject.toml/jinja2";
    let mut changed = world.remote.changed(branch);
    changed.sort();
    assert_eq!(changed, ["pyproject.toml", "uv.lock"]);
    assert_eq!(
        world.remote.file(branch, "pyproject.toml"),
        pyproject.replace("jinja2==3.1.2", "jinja2==3.1.3")
    );
    let relocked = world.remote.file(branch, "uv.lock");
    assert!(relocked.contains("version = \"3.1.3\""), "{relocked}");
    assert!(!relocked.contains("version = \"3.1.2\""), "{relocked}");
    // uv agrees: the pushed lock is what the pushed pyproject locks to.
    let check = tempfile::tempdir().unwrap();
    std::fs::write(
        check.path().join("pyproject.toml"),
        world.remote.file(branch, "pyproject.toml"),
    )
    .unwrap();
    std::fs::write(check.path().join("uv.lock"), &relocked).unwrap();
    uv(check.path(), &["lock", "--locked", "--no-python-downloads"]);
    let pull = world.pull(branch);
    assert_eq!(pull.title, "chore(deps): Update jinja2 to 3.1.3");
}

/// Every branch's head and the number of writes to GitHub: a run that changes nothing leaves
/// both as they are.
fn state(world: &World) -> (Vec<(String, Option<String>)>, usize) {
    let heads = world
        .remote
        .branches()
        .into_iter()
        .map(|b| {
            let head = world.remote.head(&b);
            (b, head)
        })
        .collect();
    (heads, world.github.writes())
}

/// A Poetry project (issue 15): the pull request for a pyproject requirement carries the
/// `poetry.lock` Poetry re-locked for it, in one commit. The oracle is Poetry: on the pushed
/// branch, `poetry check --lock` finds the lock consistent with the pyproject, and the lock is
/// what `poetry lock` writes for the pushed pyproject; the lock's other pin stays, though a
/// newer release of it is out. A second run with nothing new changes nothing.
#[test]
fn a_poetry_project_gets_its_lock_relocked_by_poetry_in_the_same_pull_request() {
    let world = setup();
    world.release("other", "1.0");
    let index = world._pypi.index_url().to_string();
    let pyproject = format!(
        "[project]\nname = \"shop\"\nversion = \"0.1.0\"\nrequires-python = \">=3.8\"\ndependencies = [\n    \"jinja2==3.1.2\",  # templates\n    \"other>=1.0\",\n]\n\n[tool.poetry]\npackage-mode = false\n\n[[tool.poetry.source]]\nname = \"local\"\nurl = \"{index}\"\npriority = \"primary\"\n"
    );
    std::fs::write(world.checkout.join("pyproject.toml"), &pyproject).unwrap();
    let tools = Tools::new();
    let poetry = |dir: &Path, args: &[&str]| {
        tools.run("poetry", dir, args, &[]);
    };
    poetry(&world.checkout, &["lock", "--no-interaction"]);
    let lock = std::fs::read_to_string(world.checkout.join("poetry.lock")).unwrap();
    assert!(lock.contains("version = \"3.1.2\""), "{lock}");
    world.push_main(
        &[("pyproject.toml", &pyproject), ("poetry.lock", &lock)],
        "A Poetry project",
    );
    world.release("other", "1.1");
    world.run(&[]);
    let branch = "repin/pyproject.toml/jinja2";
    let mut changed = world.remote.changed(branch);
    changed.sort();
    assert_eq!(changed, ["poetry.lock", "pyproject.toml"]);
    assert_eq!(
        world.remote.file(branch, "pyproject.toml"),
        pyproject.replace("jinja2==3.1.2", "jinja2==3.1.3")
    );
    let relocked = world.remote.file(branch, "poetry.lock");
    let pins = |lock: &str| support::lock_oracles::toml_pins(lock, "package");
    assert_eq!(pins(&lock), ["jinja2 3.1.2", "other 1.0"]);
    assert_eq!(pins(&relocked), ["jinja2 3.1.3", "other 1.0"]);
    // Poetry agrees: the pushed lock is what the pushed pyproject locks to.
    let check = tempfile::tempdir().unwrap();
    std::fs::write(
        check.path().join("pyproject.toml"),
        world.remote.file(branch, "pyproject.toml"),
    )
    .unwrap();
    std::fs::write(check.path().join("poetry.lock"), &lock).unwrap();
    poetry(check.path(), &["lock", "--no-interaction"]);
    assert_eq!(
        std::fs::read_to_string(check.path().join("poetry.lock")).unwrap(),
        relocked
    );
    poetry(check.path(), &["check", "--lock", "--no-interaction"]);
    let pull = world.pull(branch);
    assert_eq!(pull.title, "chore(deps): Update jinja2 to 3.1.3");

    // A second run with nothing new: no push, no write to GitHub.
    let before = state(&world);
    world.run(&[]);
    assert_eq!(state(&world), before);
}

/// A Pipenv project (issue 15): the pull request for a Pipfile requirement carries the
/// `Pipfile.lock` Pipenv re-locked for it, in one commit. The oracles are Pipenv: on the
/// pushed branch, `pipenv verify` finds the lock's hash that of the pushed Pipfile, and the
/// lock is what `pipenv upgrade --lock-only` writes for the same edit on a copy; the lock's
/// other pin stays, though a newer release of it is out. A second run with nothing new
/// changes nothing.
#[test]
fn a_pipenv_project_gets_its_lock_relocked_by_pipenv_in_the_same_pull_request() {
    let world = setup();
    world.release("other", "1.0");
    let index = world._pypi.index_url().to_string();
    let pipfile = format!(
        "[[source]]\nurl = \"{index}\"\nverify_ssl = false   # loopback\nname = \"local\"\n\n[packages]\njinja2 = \"==3.1.2\"   # templates\nother = \"*\"\n\n[requires]\npython_version = \"3.11\"\n"
    );
    std::fs::write(world.checkout.join("Pipfile"), &pipfile).unwrap();
    let tools = Tools::new();
    let pipenv = |dir: &Path, args: &[&str]| {
        tools.run("pipenv", dir, args, &[]);
    };
    let python = support::pypiserver::python();
    pipenv(&world.checkout, &["lock", "--python", &python]);
    let lock = std::fs::read_to_string(world.checkout.join("Pipfile.lock")).unwrap();
    world.push_main(
        &[("Pipfile", &pipfile), ("Pipfile.lock", &lock)],
        "A Pipenv project",
    );
    world.release("other", "1.1");
    world.run(&[]);
    let branch = "repin/Pipfile/jinja2";
    let mut changed = world.remote.changed(branch);
    changed.sort();
    assert_eq!(changed, ["Pipfile", "Pipfile.lock"]);
    let edited = pipfile.replace("\"==3.1.2\"", "\"==3.1.3\"");
    assert_eq!(world.remote.file(branch, "Pipfile"), edited);
    let relocked = world.remote.file(branch, "Pipfile.lock");
    let pins = |lock: &str| {
        let lock: serde_json::Value = serde_json::from_str(lock).unwrap();
        lock["default"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(name, p)| format!("{name} {}", p["version"].as_str().unwrap()))
            .collect::<Vec<_>>()
    };
    assert_eq!(pins(&lock), ["jinja2 ==3.1.2", "other ==1.0"]);
    assert_eq!(pins(&relocked), ["jinja2 ==3.1.3", "other ==1.0"]);
    // Pipenv agrees: the pushed lock is the pushed Pipfile's, and what its upgrade writes.
    let check = tempfile::tempdir().unwrap();
    std::fs::write(check.path().join("Pipfile"), &edited).unwrap();
    std::fs::write(check.path().join("Pipfile.lock"), &relocked).unwrap();
    pipenv(check.path(), &["verify"]);
    std::fs::write(check.path().join("Pipfile.lock"), &lock).unwrap();
    pipenv(
        check.path(),
        &[
            "upgrade",
            "--lock-only",
            "--categories",
            "packages",
            "jinja2==3.1.3",
        ],
    );
    assert_eq!(
        std::fs::read_to_string(check.path().join("Pipfile.lock")).unwrap(),
        relocked
    );
    let pull = world.pull(branch);
    assert_eq!(pull.title, "chore(deps): Update jinja2 to 3.1.3");

    // A second run with nothing new: no push, no write to GitHub.
    let before = state(&world);
    world.run(&[]);
    assert_eq!(state(&world), before);
}

/// A `pylock.toml` repin wrote (issue 15): the pull request for a requirement of its `.in`
/// carries the `pylock.toml` repin re-locked from the edited `.in`, in one commit; the lock's
/// header (its command) is kept, and the new lock lists the new release's file with its hash.
#[test]
fn a_pylock_repin_wrote_is_relocked_in_the_pull_request_of_its_input() {
    let world = setup();
    std::fs::write(world.checkout.join("requirements.in"), "jinja2==3.1.2\n").unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = support::repin_in(
        &world.checkout,
        home.path(),
        &["lock", "requirements.in", "-o", "pylock.toml"],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lock = std::fs::read_to_string(world.checkout.join("pylock.toml")).unwrap();
    assert!(lock.contains("version = \"3.1.2\""), "{lock}");
    world.push_main(
        &[
            ("requirements.in", "jinja2==3.1.2\n"),
            ("pylock.toml", &lock),
        ],
        "A pylock.toml locked by repin",
    );
    world.run(&[]);
    let branch = "repin/requirements.in/jinja2";
    let mut changed = world.remote.changed(branch);
    changed.sort();
    assert_eq!(changed, ["pylock.toml", "requirements.in"]);
    assert_eq!(
        world.remote.file(branch, "requirements.in"),
        "jinja2==3.1.3\n"
    );
    let relocked = world.remote.file(branch, "pylock.toml");
    assert!(relocked.contains("version = \"3.1.3\""), "{relocked}");
    assert!(
        relocked.contains("jinja2-3.1.3-py3-none-any.whl"),
        "{relocked}"
    );
    assert!(!relocked.contains("3.1.2"), "{relocked}");
    assert_eq!(
        lock.lines().take(6).collect::<Vec<_>>(),
        relocked.lines().take(6).collect::<Vec<_>>()
    );
}
