//! `repin check` and `apply` on compiled locks whose `.in` is in the repository: an update of
//! a pin is a re-lock (kind `lock`), never a line edit, and the file written is the one the
//! lock's own tool writes for the same update. The oracles are pip-compile (PyPI package
//! `pip-tools`) and `uv pip compile` (PyPI package `uv`), run on the same repository against
//! the same local pypiserver: their output for `--upgrade-package flask==2.3.3` must equal
//! repin's byte for byte.
//!
//! The update is the one the demo held back before ("flask 2.3.3 does not fit the rest of
//! this lock ... re-lock instead"): flask 2.3.3 needs Werkzeug 2.3.7 and blinker, which the lock
//! does not have, so the re-lock moves Werkzeug too and adds blinker.

use crate::support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::moves;
use support::pypiserver::PypiServer;
use support::tools::publish;

/// The releases the lock is first made from.
const OLD: &[(&str, &str, &[&str])] = &[
    (
        "flask",
        "2.2.2",
        &[
            "Werkzeug>=2.2.2",
            "Jinja2>=3.0",
            "itsdangerous>=2.0",
            "click>=8.0",
        ],
    ),
    ("werkzeug", "2.2.3", &["MarkupSafe>=2.1.1"]),
    ("jinja2", "3.1.2", &["MarkupSafe>=2.0"]),
    ("markupsafe", "2.1.3", &[]),
    ("itsdangerous", "2.1.2", &[]),
    ("click", "8.1.7", &[]),
    ("gunicorn", "21.2.0", &["packaging", "setuptools>=3.0"]),
    ("packaging", "23.2", &[]),
    ("setuptools", "69.0.2", &[]),
];

/// Released since.
const NEW: &[(&str, &str, &[&str])] = &[
    (
        "flask",
        "2.3.3",
        &[
            "Werkzeug>=2.3.7",
            "Jinja2>=3.1.2",
            "itsdangerous>=2.1.2",
            "click>=8.1.3",
            "blinker>=1.6.2",
        ],
    ),
    ("werkzeug", "2.3.8", &["MarkupSafe>=2.1.1"]),
    ("blinker", "1.7.0", &[]),
];

/// A Python tool of `.venv` on PATH, or fail saying how to install it: the comparison must not
/// pass unrun.
fn tool(name: &str) -> &str {
    let found = Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "`{name}`, an oracle of the re-lock tests, is not on PATH: run `scripts/test --setup-only` \
         (it installs scripts/python-requirements.txt into .venv) and put .venv/bin on PATH"
    );
    name
}

/// Run an oracle in `dir` against `index`; its stderr on failure.
fn oracle(dir: &Path, index: &str, program: &str, args: &[&str]) {
    // Their caches and homes outside the repository.
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(tool(program))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env("PIP_INDEX_URL", index)
        .env("UV_INDEX_URL", index)
        .env("UV_NO_CONFIG", "1")
        .env("UV_CACHE_DIR", home.path().join("uv-cache"))
        .env("PIP_NO_CACHE_DIR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Copy the repository's files (not directories) to a new directory.
fn copy(from: &Path) -> tempfile::TempDir {
    let to = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, to.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    to
}

/// A repository with `requirements.in` locked by `lock` (an oracle's arguments) against an
/// index of the old releases, and an index of the old and new ones to update against.
struct Setup {
    repo: tempfile::TempDir,
    _packages: tempfile::TempDir,
    pypi: PypiServer,
}

fn setup(program: &str, lock: &[&str]) -> Setup {
    setup_with(
        program,
        &[lock],
        &[("requirements.in", "flask\ngunicorn\n")],
    )
}

/// As [`setup`], with `files` (`requirements.in` and what it includes) written and each of
/// `locks` run to lock it.
fn setup_with(program: &str, locks: &[&[&str]], files: &[(&str, &str)]) -> Setup {
    setup_full(program, locks, files, &[])
}

/// As [`setup_with`], with `extra` releases on the index updated against.
fn setup_full(
    program: &str,
    locks: &[&[&str]],
    files: &[(&str, &str)],
    extra: &[(&str, &str, &[&str])],
) -> Setup {
    let old = tempfile::tempdir().unwrap();
    publish(old.path(), OLD);
    let old_pypi = PypiServer::start(old.path());
    let repo = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(repo.path().join(name), text).unwrap();
    }
    std::fs::write(
        repo.path().join("repin.toml"),
        "[advisories]\nsource = \"off\"\n",
    )
    .unwrap();
    for lock in locks {
        oracle(repo.path(), old_pypi.index_url().as_str(), program, lock);
    }
    let packages = tempfile::tempdir().unwrap();
    publish(packages.path(), OLD);
    publish(packages.path(), NEW);
    publish(packages.path(), extra);
    let pypi = PypiServer::start(packages.path());
    Setup {
        repo,
        _packages: packages,
        pypi,
    }
}

fn repin(setup: &Setup, args: &[&str]) -> support::Said {
    let index = setup.pypi.index_url().to_string();
    let env = [("PIP_INDEX_URL", std::ffi::OsStr::new(&index))];
    support::repin_on(setup.repo.path(), args, &env)
}

/// `check` proposes the re-lock with every moved pin, and `apply` writes what the oracle
/// writes for the same update (`oracle_upgrade`: its arguments for it).
fn relock_matches(setup: &Setup, program: &str, oracle_upgrade: &[&str]) {
    let (stdout, stderr, code) = repin(setup, &["check", "--format", "json"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let flask = report["updates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "flask")
        .unwrap_or_else(|| panic!("no flask update: {report:#}"));
    assert_eq!(flask["kind"], "lock", "{report:#}");
    assert_eq!(flask["proposed"], "2.3.3");
    let moved = moves(&flask["moved"]);
    assert_eq!(
        moved,
        [
            "blinker (new) -> 1.7.0: now required by flask 2.3.3",
            "flask 2.2.2 -> 2.3.3: minor update",
            "werkzeug 2.2.3 -> 2.3.8: to fit flask 2.3.3",
        ],
        "{report:#}"
    );
    // No update of the lock is a line edit: werkzeug's own update is a re-lock too.
    for update in report["updates"].as_array().unwrap() {
        assert_eq!(update["kind"], "lock", "{update:#}");
    }
    assert!(
        !stdout.contains("re-lock instead"),
        "nothing is held back for a re-lock: {report:#}"
    );

    let expected = copy(setup.repo.path());
    oracle(
        expected.path(),
        setup.pypi.index_url().as_str(),
        program,
        oracle_upgrade,
    );
    let (stdout, stderr, code) = repin(setup, &["apply", "--only", "flask"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let ours = std::fs::read_to_string(setup.repo.path().join("requirements.txt")).unwrap();
    let theirs = std::fs::read_to_string(expected.path().join("requirements.txt")).unwrap();
    if ours != theirs {
        let diff = similar::TextDiff::from_lines(&theirs, &ours)
            .unified_diff()
            .header(program, "repin")
            .to_string();
        panic!("repin's re-lock differs from {program}'s:\n{diff}");
    }
    assert!(ours.contains("blinker==1.7.0"), "{ours}");
}

#[test]
fn a_pip_compile_lock_is_relocked_as_pip_compile_relocks_it() {
    let lock = [
        "--generate-hashes",
        "--allow-unsafe",
        "--no-emit-index-url",
        "--output-file=requirements.txt",
        "requirements.in",
    ];
    let setup = setup("pip-compile", &lock);
    let mut upgrade = lock.to_vec();
    upgrade.extend(["--upgrade-package", "flask==2.3.3"]);
    relock_matches(&setup, "pip-compile", &upgrade);
}

#[test]
fn a_pip_compile_lock_without_unsafe_packages_keeps_its_trailer() {
    let lock = [
        "--generate-hashes",
        "--no-emit-index-url",
        "--annotation-style=line",
        "--output-file=requirements.txt",
        "requirements.in",
    ];
    let setup = setup("pip-compile", &lock);
    let text = std::fs::read_to_string(setup.repo.path().join("requirements.txt")).unwrap();
    assert!(text.contains("# setuptools"), "{text}");
    let mut upgrade = lock.to_vec();
    upgrade.extend(["--upgrade-package", "flask==2.3.3"]);
    relock_matches(&setup, "pip-compile", &upgrade);
}

#[test]
fn a_uv_lock_is_relocked_as_uv_relocks_it() {
    let lock = [
        "pip",
        "compile",
        "requirements.in",
        "--generate-hashes",
        "--python-version",
        "3.11",
        "-o",
        "requirements.txt",
    ];
    let setup = setup("uv", &lock);
    let mut upgrade = lock.to_vec();
    upgrade.extend(["--upgrade-package", "flask==2.3.3"]);
    relock_matches(&setup, "uv", &upgrade);
}

#[test]
fn apply_takes_every_relock_of_a_file_as_one() {
    let lock = [
        "--generate-hashes",
        "--no-emit-index-url",
        "--output-file=requirements.txt",
        "requirements.in",
    ];
    let setup = setup("pip-compile", &lock);
    let expected = copy(setup.repo.path());
    let mut upgrade = lock.to_vec();
    upgrade.extend([
        "--upgrade-package",
        "flask==2.3.3",
        "--upgrade-package",
        "werkzeug==2.3.8",
    ]);
    oracle(
        expected.path(),
        setup.pypi.index_url().as_str(),
        "pip-compile",
        &upgrade,
    );
    let (stdout, stderr, code) = repin(&setup, &["apply"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("werkzeug 2.2.3 → 2.3.8 (lock)"), "{stdout}");
    assert!(stdout.contains("flask 2.2.2 → 2.3.3 (lock)"), "{stdout}");
    let ours = std::fs::read_to_string(setup.repo.path().join("requirements.txt")).unwrap();
    let theirs = std::fs::read_to_string(expected.path().join("requirements.txt")).unwrap();
    assert_eq!(ours, theirs);
    // Nothing is due after it.
    let (stdout, stderr, _) = repin(&setup, &["check", "--format", "json"]);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("{stderr}"));
    assert_eq!(report["updates"], Value::Array(Vec::new()), "{report:#}");
}

const TOKEN: &str = "ghs_testtoken0123456789";

/// The setup's repository made a checkout of a bare remote; the remote's path.
fn with_remote(setup: &Setup, remotes: &Path) -> std::path::PathBuf {
    support::with_origin(setup.repo.path(), remotes)
}

/// Run `repin pr` on the setup's checkout, expecting success and no unexpected request.
fn pr(setup: &Setup, github: &support::github::GitHubMock, remote: &Path) -> String {
    let home = tempfile::tempdir().unwrap();
    let index = setup.pypi.index_url().to_string();
    let out = support::repin_with_env(
        home.path(),
        &[
            "pr",
            "--repo",
            "acme/service",
            "--api-url",
            &github.url,
            "--remote",
            remote.to_str().unwrap(),
            "--no-cache",
            "--color",
            "never",
            setup.repo.path().to_str().unwrap(),
        ],
        &[
            ("GITHUB_TOKEN", TOKEN.as_ref()),
            ("PIP_INDEX_URL", index.as_ref()),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let unexpected = github.with(|s| s.unexpected.clone());
    assert!(unexpected.is_empty(), "unexpected requests: {unexpected:?}");
    // The warnings too (stderr), after the report.
    format!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr))
}

/// `path` on `branch` of the bare `remote`, and the files the branch changes from main.
fn pushed(remote: &Path, branch: &str) -> (String, String) {
    use support::git;
    let git_dir = remote.to_str().unwrap();
    let file = git(
        Path::new("/"),
        &[
            "--git-dir",
            git_dir,
            "show",
            &format!("{branch}:requirements.txt"),
        ],
    );
    let changed = git(
        Path::new("/"),
        &["--git-dir", git_dir, "diff", "--name-only", "main", branch],
    );
    (file, changed)
}

const PR_LOCK: [&str; 4] = [
    "--generate-hashes",
    "--no-emit-index-url",
    "--output-file=requirements.txt",
    "requirements.in",
];

/// `repin pr`: the update `check` used to hold back ("re-lock instead: ...") arrives as a pull
/// request whose commit is the re-lock (the file pip-compile writes for it) and whose body lists
/// every pin it moves. GitHub is the tests' stand-in (`support::github`: GitHub cannot be
/// reached from here; it mimics the documented responses and records unexpected requests).
#[test]
fn pr_opens_the_relock_with_every_moved_pin() {
    let setup = setup("pip-compile", &PR_LOCK);
    let expected = copy(setup.repo.path());
    let mut upgrade = PR_LOCK.to_vec();
    upgrade.extend(["--upgrade-package", "flask==2.3.3"]);
    oracle(
        expected.path(),
        setup.pypi.index_url().as_str(),
        "pip-compile",
        &upgrade,
    );
    let remotes = tempfile::tempdir().unwrap();
    let remote = with_remote(&setup, remotes.path());
    let github = support::github::GitHubMock::start("acme/service", TOKEN, remote.clone());
    let stdout = pr(&setup, &github, &remote);
    let pull = github
        .pulls()
        .into_iter()
        .find(|p| p.head == "repin/requirements.txt/flask")
        .unwrap_or_else(|| panic!("no flask pull request: {stdout}"));
    assert_eq!(pull.title, "Update flask to 2.3.3");
    for line in [
        "### Re-locked `requirements.txt`",
        "| blinker | (new) | `1.7.0` | now required by flask 2.3.3 |",
        "| flask | `2.2.2` | `2.3.3` | minor update |",
        "| werkzeug | `2.2.3` | `2.3.8` | to fit flask 2.3.3 |",
    ] {
        assert!(pull.body.contains(line), "{line}\n{}", pull.body);
    }
    // Lock maintenance is opt-in: no such branch without it.
    assert!(
        github
            .pulls()
            .iter()
            .all(|p| p.head != "repin/lock-maintenance"),
        "{stdout}"
    );
    // The branch's commit is the re-lock, as pip-compile writes it, and nothing else.
    let theirs = std::fs::read_to_string(expected.path().join("requirements.txt")).unwrap();
    let (file, changed) = pushed(&remote, "repin/requirements.txt/flask");
    assert_eq!(
        file,
        theirs.trim_end(),
        "the pushed re-lock differs from pip-compile's"
    );
    assert_eq!(changed, "requirements.txt");
}

/// `[update] lock-maintenance`: every lock re-locked with every pin free to move, in a pull
/// request of its own, byte for byte what `pip-compile --upgrade` writes.
#[test]
fn pr_opens_lock_maintenance_in_its_own_pull_request() {
    let setup = setup("pip-compile", &PR_LOCK);
    std::fs::write(
        setup.repo.path().join("repin.toml"),
        "[advisories]\nsource = \"off\"\n\n[update]\nlock-maintenance = \"daily\"\n",
    )
    .unwrap();
    let expected = copy(setup.repo.path());
    let mut upgrade = PR_LOCK.to_vec();
    upgrade.push("--upgrade");
    oracle(
        expected.path(),
        setup.pypi.index_url().as_str(),
        "pip-compile",
        &upgrade,
    );
    let remotes = tempfile::tempdir().unwrap();
    let remote = with_remote(&setup, remotes.path());
    let github = support::github::GitHubMock::start("acme/service", TOKEN, remote.clone());
    let stdout = pr(&setup, &github, &remote);
    let pull = github
        .pulls()
        .into_iter()
        .find(|p| p.head == "repin/lock-maintenance")
        .unwrap_or_else(|| panic!("no lock maintenance pull request: {stdout}"));
    assert_eq!(pull.title, "Lock file maintenance");
    for line in [
        "with every pin free to move",
        "| blinker | (new) | `1.7.0` | now required by flask 2.3.3 |",
        "| flask | `2.2.2` | `2.3.3` | lock maintenance (daily) |",
        "| werkzeug | `2.2.3` | `2.3.8` | lock maintenance (daily) |",
    ] {
        assert!(pull.body.contains(line), "{line}\n{}", pull.body);
    }
    let theirs = std::fs::read_to_string(expected.path().join("requirements.txt")).unwrap();
    let (file, changed) = pushed(&remote, "repin/lock-maintenance");
    assert_eq!(
        file,
        theirs.trim_end(),
        "the maintenance re-lock differs from pip-compile's"
    );
    assert_eq!(changed, "requirements.txt");
    // The pin updates still get their own pull requests.
    assert!(
        github
            .pulls()
            .iter()
            .any(|p| p.head == "repin/requirements.txt/flask"),
        "{stdout}"
    );
}

/// Issue 13: lock maintenance checks its re-lock against the platforms in use as the other
/// re-locks do. While a pin would move to a release with no wheel (and no sdist) for one of
/// them, no maintenance pull request is opened, and the warning says which pin and platform.
#[test]
fn lock_maintenance_is_held_back_while_a_moved_pin_installs_nowhere_on_a_platform_in_use() {
    let setup = setup("pip-compile", &PR_LOCK);
    // werkzeug 2.3.8 comes for linux/amd64 only, for the lock's Python (3.11: pip-compile's,
    // named in its header).
    let packages = setup._packages.path();
    let universal = packages.join("werkzeug-2.3.8-py3-none-any.whl");
    assert!(universal.exists(), "{}", universal.display());
    std::fs::rename(
        &universal,
        packages.join("werkzeug-2.3.8-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"),
    )
    .unwrap();
    std::fs::write(
        setup.repo.path().join("repin.toml"),
        "[images]\nplatforms = [\"linux/amd64\", \"linux/arm64\"]\n\n[advisories]\nsource = \"off\"\n\n[update]\nlock-maintenance = \"daily\"\n",
    )
    .unwrap();
    let remotes = tempfile::tempdir().unwrap();
    let remote = with_remote(&setup, remotes.path());
    let github = support::github::GitHubMock::start("acme/service", TOKEN, remote.clone());
    let said = pr(&setup, &github, &remote);
    assert!(
        said.contains("requirements.txt: lock maintenance is held back: its re-lock cannot be installed on a platform the image is built for: `werkzeug` 2.3.8 has no wheel for CPython 3.11 on linux/arm64 (glibc) and no sdist"),
        "{said}"
    );
    assert!(
        github
            .pulls()
            .iter()
            .all(|p| p.head != "repin/lock-maintenance"),
        "{said}"
    );
}

// An update of a requirement of the `.in` and the re-lock of every lock compiled from it are
// one update: `check` shows the locks as its companions with their moved pins, `apply` writes
// the `.in` and the locks together, each lock what its tool writes from the new `.in` (the
// oracle is run on the new `.in` with the old lock in place, which it keeps pins from, as repin
// does), and `pr` commits them on one branch.

/// The `.in` the range-update tests start from: flask kept below 2.3, so its 2.3.3 is a range
/// update that moves the lock.
const RANGED: &str = "flask>=2.2,<2.3\ngunicorn\n";

/// The update of `name` in `file` from `check`'s JSON report.
fn update_of<'a>(report: &'a Value, file: &str, name: &str) -> &'a Value {
    report["updates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == name && u["file"].as_str().unwrap().ends_with(file))
        .unwrap_or_else(|| panic!("no {name} update of {file}: {report:#}"))
}

/// `check` proposes flask's range update of the `.in` with every lock of `lock_files` as its
/// companion; `apply` writes the `.in` and each lock, and each lock is what the oracle writes
/// from the new `.in` (`locks`: its arguments for each lock, in the same order).
fn range_update_moves_locks(program: &str, locks: &[&[&str]], lock_files: &[&str]) {
    let setup = setup_with(program, locks, &[("requirements.in", RANGED)]);
    let before = copy(setup.repo.path());
    let (stdout, stderr, code) = repin(&setup, &["check", "--format", "json"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let flask = update_of(&report, "requirements.in", "flask");
    let proposed = flask["proposed"].as_str().unwrap().to_owned();
    assert!(
        !proposed.contains("2.2"),
        "the new range excludes the locked 2.2.2: {flask:#}"
    );
    let companions = flask["companions"].as_array().unwrap();
    let files: Vec<&str> = companions
        .iter()
        .map(|c| c["file"].as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(files, lock_files, "{flask:#}");
    for companion in companions {
        assert_eq!(
            moves(&companion["moved"]),
            [
                "blinker (new) -> 1.7.0: now required by flask 2.3.3".to_owned(),
                format!(
                    "flask 2.2.2 -> 2.3.3: {} update: `flask{proposed}` in requirements.in",
                    flask["kind"].as_str().unwrap()
                ),
                "werkzeug 2.2.3 -> 2.3.8: to fit flask 2.3.3".to_owned(),
            ],
            "{flask:#}"
        );
    }
    // One update, not a warning that the two disagree.
    assert_eq!(report["warnings"], Value::Array(Vec::new()), "{report:#}");

    let (stdout, stderr, code) = repin(&setup, &["apply", "--only", "flask"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let input = std::fs::read_to_string(setup.repo.path().join("requirements.in")).unwrap();
    assert_eq!(input, format!("flask{proposed}\ngunicorn\n"));
    for file in lock_files {
        assert!(
            stdout.contains(&format!("{file}: re-locked with it: + blinker 1.7.0")),
            "{stdout}"
        );
    }
    // The oracle re-locks from the new `.in`, keeping the old lock's pins where they fit.
    std::fs::write(before.path().join("requirements.in"), &input).unwrap();
    for lock in locks {
        oracle(
            before.path(),
            setup.pypi.index_url().as_str(),
            program,
            lock,
        );
    }
    for file in lock_files {
        let ours = std::fs::read_to_string(setup.repo.path().join(file)).unwrap();
        let theirs = std::fs::read_to_string(before.path().join(file)).unwrap();
        if ours != theirs {
            let diff = similar::TextDiff::from_lines(&theirs, &ours)
                .unified_diff()
                .header(program, "repin")
                .to_string();
            panic!("repin's re-lock of {file} differs from {program}'s:\n{diff}");
        }
    }
    // The two agree: nothing about flask is due or warned about after it.
    let (stdout, stderr, _) = repin(&setup, &["check", "--format", "json"]);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("{stderr}"));
    assert!(
        report["updates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["name"] != "flask"),
        "{report:#}"
    );
    assert_eq!(report["warnings"], Value::Array(Vec::new()), "{report:#}");
}

#[test]
fn a_range_update_of_the_in_moves_its_pip_compile_lock_with_it() {
    range_update_moves_locks(
        "pip-compile",
        &[&[
            "--generate-hashes",
            "--no-emit-index-url",
            "--output-file=requirements.txt",
            "requirements.in",
        ]],
        &["requirements.txt"],
    );
}

/// Two locks of one `.in` (one per Python) move in the same update.
#[test]
fn a_range_update_of_the_in_moves_every_uv_lock_made_from_it() {
    let lock = |python: &'static str, out: &'static str| -> Vec<&'static str> {
        vec![
            "pip",
            "compile",
            "requirements.in",
            "--generate-hashes",
            "--python-version",
            python,
            "-o",
            out,
        ]
    };
    let (a, b) = (
        lock("3.11", "requirements-py311.txt"),
        lock("3.12", "requirements-py312.txt"),
    );
    range_update_moves_locks(
        "uv",
        &[&a, &b],
        &["requirements-py311.txt", "requirements-py312.txt"],
    );
}

/// When nothing fits the new range with the rest of the `.in`, the range update is held back
/// with what blocks it, never proposed alone.
#[test]
fn a_range_update_its_lock_cannot_take_is_held_back() {
    // flask 2.3.3 needs Werkzeug 2.3.7; the `.in` keeps Werkzeug below 2.3 with a constraint.
    let setup = setup_with(
        "pip-compile",
        &[&[
            "--no-emit-index-url",
            "--output-file=requirements.txt",
            "requirements.in",
        ]],
        &[
            (
                "requirements.in",
                "-c constraints.txt\nflask>=2.2,<2.3\ngunicorn\n",
            ),
            ("constraints.txt", "werkzeug<2.3\n"),
        ],
    );
    let (stdout, stderr, code) = repin(&setup, &["check", "--format", "json"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        report["updates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| !(u["name"] == "flask" && u["file"].as_str().unwrap().ends_with(".in"))),
        "{report:#}"
    );
    let held = report["held_back"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "flask" && h["file"].as_str().unwrap().ends_with(".in"))
        .unwrap_or_else(|| panic!("the `.in`'s flask is not held back: {report:#}"));
    let reason = held["reason"].as_str().unwrap();
    assert!(
        reason.contains("cannot be re-locked into") && reason.contains("werkzeug"),
        "{reason}"
    );
    // `apply` writes neither file.
    let input = std::fs::read(setup.repo.path().join("requirements.in")).unwrap();
    let lock = std::fs::read(setup.repo.path().join("requirements.txt")).unwrap();
    let (stdout, stderr, code) = repin(&setup, &["apply", "--only", "flask"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(
        std::fs::read(setup.repo.path().join("requirements.in")).unwrap(),
        input
    );
    assert_eq!(
        std::fs::read(setup.repo.path().join("requirements.txt")).unwrap(),
        lock
    );
}

/// `repin pr`: the branch of the `.in`'s range update commits the `.in` and its re-locked lock,
/// and its body lists the pins the lock moves.
#[test]
fn pr_commits_a_range_update_with_its_lock() {
    let setup = setup_with("pip-compile", &[&PR_LOCK], &[("requirements.in", RANGED)]);
    let remotes = tempfile::tempdir().unwrap();
    let remote = with_remote(&setup, remotes.path());
    let github = support::github::GitHubMock::start("acme/service", TOKEN, remote.clone());
    let stdout = pr(&setup, &github, &remote);
    let pull = github
        .pulls()
        .into_iter()
        .find(|p| p.head == "repin/requirements.in/flask")
        .unwrap_or_else(|| panic!("no flask pull request: {stdout}"));
    for line in [
        "### Re-locked `requirements.txt` with `requirements.in`",
        "| blinker | (new) | `1.7.0` | now required by flask 2.3.3 |",
        "| werkzeug | `2.2.3` | `2.3.8` | to fit flask 2.3.3 |",
    ] {
        assert!(pull.body.contains(line), "{line}\n{}", pull.body);
    }
    let git_dir = remote.to_str().unwrap();
    let changed = support::git(
        Path::new("/"),
        &[
            "--git-dir",
            git_dir,
            "diff",
            "--name-only",
            "main",
            "repin/requirements.in/flask",
        ],
    );
    assert_eq!(changed, "requirements.in\nrequirements.txt");
    let (lock, _) = pushed(&remote, "repin/requirements.in/flask");
    assert!(lock.contains("flask==2.3.3"), "{lock}");
    assert!(lock.contains("blinker==1.7.0"), "{lock}");
}

/// A lock repin cannot re-lock (here: no Python known, its uv header names none) cannot move
/// with its `.in`: the range update it contradicts is proposed alone with a warning saying why,
/// and the re-lock to run after taking it.
#[test]
fn a_range_update_whose_lock_cannot_be_relocked_warns_why() {
    let lock = "# This file was autogenerated by uv via the following command:\n\
                #    uv pip compile requirements.in -o requirements.txt\n\
                flask==2.2.2\n    # via -r requirements.in\n\
                gunicorn==21.2.0\n    # via -r requirements.in\n";
    let setup = setup_with(
        "uv",
        &[],
        &[("requirements.in", RANGED), ("requirements.txt", lock)],
    );
    let (stdout, stderr, _) = repin(&setup, &["check", "--format", "json"]);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("{stderr}"));
    let flask = update_of(&report, "requirements.in", "flask");
    assert_eq!(flask["companions"], Value::Array(Vec::new()), "{flask:#}");
    let proposed = flask["proposed"].as_str().unwrap();
    // Each warning is its message and its hints apart.
    let found = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| {
            w["message"]
                .as_str()
                .unwrap()
                .contains("contradicts its lock")
        })
        .unwrap_or_else(|| panic!("no warning: {report:#}"));
    let warning = found["message"].as_str().unwrap();
    assert!(
        warning.contains(&format!(
            "`flask{proposed}` (a {} update) contradicts its lock",
            flask["kind"].as_str().unwrap()
        )) && warning.contains(
            "which pins flask 2.2.2, and the two cannot be one update: the lock cannot be re-locked: the Python it is for is unknown"
        ) && !warning.contains("hint"),
        "{warning}"
    );
    assert_eq!(
        found["hints"],
        serde_json::json!([
            "after taking it, re-lock: `repin lock requirements.in -o requirements.txt --upgrade-package flask`"
        ]),
        "{found:#}"
    );
}

/// The demo: the lock's own flask update (2.3.3, inside the `.in`'s `<3`) and the
/// `.in`'s range update (past 3.0.0) taken by one `apply` cannot both be: the `.in`'s wins, the
/// lock moves with it as `pip-compile` moves it, and the pin update is said not taken.
#[test]
fn apply_takes_the_in_update_over_the_lock_pin_update_it_supersedes() {
    let lock: &[&str] = &[
        "--generate-hashes",
        "--no-emit-index-url",
        "--output-file=requirements.txt",
        "requirements.in",
    ];
    let major: &[(&str, &str, &[&str])] = &[(
        "flask",
        "3.0.0",
        &[
            "Werkzeug>=2.3.7",
            "Jinja2>=3.1.2",
            "itsdangerous>=2.1.2",
            "click>=8.1.3",
            "blinker>=1.6.2",
        ],
    )];
    let setup = setup_full(
        "pip-compile",
        &[lock],
        &[("requirements.in", "flask>=2.2,<3\ngunicorn\n")],
        major,
    );
    let before = copy(setup.repo.path());
    let (stdout, stderr, code) = repin(&setup, &["check", "--format", "json"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    // Both are due: the lock's pin inside the old range, the `.in`'s range past it.
    assert_eq!(
        update_of(&report, "requirements.txt", "flask")["proposed"],
        "2.3.3"
    );
    let proposed = update_of(&report, "requirements.in", "flask")["proposed"]
        .as_str()
        .unwrap()
        .to_owned();
    let (stdout, stderr, code) = repin(&setup, &["apply", "--only", "flask"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains(
            "flask 2.3.3 (lock) is not taken: the update of its `.in` moves flask in it instead"
        ),
        "{stdout}"
    );
    let input = std::fs::read_to_string(setup.repo.path().join("requirements.in")).unwrap();
    assert_eq!(input, format!("flask{proposed}\ngunicorn\n"));
    std::fs::write(before.path().join("requirements.in"), &input).unwrap();
    oracle(
        before.path(),
        setup.pypi.index_url().as_str(),
        "pip-compile",
        lock,
    );
    let ours = std::fs::read_to_string(setup.repo.path().join("requirements.txt")).unwrap();
    let theirs = std::fs::read_to_string(before.path().join("requirements.txt")).unwrap();
    assert_eq!(ours, theirs, "repin's re-lock differs from pip-compile's");
    assert!(ours.contains("flask==3.0.0"), "{ours}");
}
