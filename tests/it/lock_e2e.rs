//! `repin lock` run as a process against a real pypiserver on loopback, serving wheels and
//! sdists this test writes with real metadata (`Requires-Dist` with markers and extras,
//! `Requires-Python`).

use crate::support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use support::pypiserver::{Meta, PypiServer, sha256_hex, write_sdist_with, write_wheel_with};

/// Run `repin` in `dir` with a clean environment (so the header records relative paths).
fn repin_in(dir: &Path, home: &Path, args: &[&str]) -> Output {
    support::repin_in(dir, home, args, &[])
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn wheel(
    dir: &Path,
    hashes: &mut BTreeMap<String, Vec<String>>,
    name: &str,
    version: &str,
    meta: Meta,
) {
    let path = write_wheel_with(dir, name, version, &meta);
    hashes
        .entry(format!("{name}=={version}"))
        .or_default()
        .push(format!(
            "sha256:{}",
            sha256_hex(&std::fs::read(path).unwrap())
        ));
}

/// `name==version` and its hashes, for every entry of a lock, read by repin's own parser.
fn read_back(path: &Path) -> BTreeMap<String, Vec<String>> {
    let source = repin::text::SourceFile::read(path).unwrap();
    let manifest = repin::manifest::parse(source, repin::manifest::ManifestKind::Requirements);
    assert!(
        manifest.diagnostics.is_empty(),
        "{:?}",
        manifest.diagnostics
    );
    let repin::manifest::ManifestDetails::Requirements(file) = &manifest.details else {
        panic!("not a requirements file");
    };
    let header = file.lock.as_ref().expect("a lock header");
    assert!(header.generate_hashes);
    assert_eq!(header.output_file.as_deref(), Some("requirements.txt"));
    manifest
        .dependencies
        .iter()
        .map(|d| {
            let python = d.python().unwrap();
            let version = python.pinned_version().expect("every entry is pinned");
            let mut hashes: Vec<String> = python
                .hashes
                .iter()
                .map(|h| format!("{}:{}", h.algorithm, h.digest))
                .collect();
            hashes.sort();
            (format!("{}=={version}", d.name), hashes)
        })
        .collect()
}

#[test]
fn lock_a_small_tree_with_extras_markers_and_requires_python() {
    let packages = tempfile::tempdir().unwrap();
    let dir = packages.path();
    let mut hashes = BTreeMap::new();
    wheel(
        dir,
        &mut hashes,
        "flask",
        "2.3.0",
        Meta {
            requires_dist: &["werkzeug>=2.3", "jinja2>=3.1"],
            ..Meta::default()
        },
    );
    wheel(
        dir,
        &mut hashes,
        "flask",
        "3.0.3",
        Meta {
            requires_python: Some(">=3.8"),
            provides_extra: &["async"],
            requires_dist: &[
                "werkzeug>=3.0",
                "jinja2>=3.1.2",
                "colorama; sys_platform == \"win32\"",
                "asgiref>=3.2; extra == \"async\"",
            ],
            ..Meta::default()
        },
    );
    // The newest flask needs a newer Python than the lock's.
    wheel(
        dir,
        &mut hashes,
        "flask",
        "3.1.0",
        Meta {
            requires_python: Some(">=3.13"),
            requires_dist: &["werkzeug>=3.1"],
            ..Meta::default()
        },
    );
    for version in ["2.3.8", "3.0.1"] {
        wheel(
            dir,
            &mut hashes,
            "werkzeug",
            version,
            Meta {
                requires_dist: &["markupsafe>=2.1.1"],
                ..Meta::default()
            },
        );
    }
    wheel(
        dir,
        &mut hashes,
        "jinja2",
        "3.1.4",
        Meta {
            requires_dist: &["markupsafe>=2.0"],
            ..Meta::default()
        },
    );
    wheel(dir, &mut hashes, "markupsafe", "2.1.5", Meta::default());
    let sdist = write_sdist_with(dir, "markupsafe", "2.1.5", &Meta::default());
    hashes.get_mut("markupsafe==2.1.5").unwrap().push(format!(
        "sha256:{}",
        sha256_hex(&std::fs::read(sdist).unwrap())
    ));
    wheel(dir, &mut hashes, "asgiref", "3.8.1", Meta::default());
    wheel(dir, &mut hashes, "colorama", "0.4.6", Meta::default());
    // Only an sdist whose dependencies a build would tell.
    write_sdist_with(dir, "legacy", "1.0", &Meta::default());
    let server = PypiServer::start(dir);

    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let root = repo.path();
    std::fs::write(root.join("repin.toml"), "[python]\nversion = \"3.12\"\n").unwrap();
    std::fs::write(
        root.join("requirements.in"),
        format!("-i {}\nflask[async]\n", server.index_url()),
    )
    .unwrap();

    let output = repin_in(
        root,
        home.path(),
        &["lock", "requirements.in", "-o", "requirements.txt"],
    );
    assert!(
        output.status.success(),
        "{}\n{}\n{}",
        text(&output.stdout),
        text(&output.stderr),
        server.log()
    );
    let lock = std::fs::read_to_string(root.join("requirements.txt")).unwrap();
    let expected_head = format!(
        "#\n# This file is autogenerated by repin {} with Python 3.12\n# by the following command:\n#\n\
         #    repin lock requirements.in -o requirements.txt\n#\n--index-url {}\n\n",
        env!("CARGO_PKG_VERSION"),
        server.index_url()
    );
    assert!(lock.starts_with(&expected_head), "{lock}");
    assert!(
        lock.contains("flask[async]==3.0.3 \\\n    --hash=sha256:"),
        "{lock}"
    );
    assert!(
        lock.contains("    # via\n    #   jinja2\n    #   werkzeug\n"),
        "markupsafe's two parents: {lock}"
    );
    assert!(lock.contains("    # via flask\n"), "{lock}");
    assert!(lock.contains("    # via -r requirements.in\n"), "{lock}");

    // Read back by repin's own parser: every entry pinned, with the hashes of the served files.
    let read = read_back(&root.join("requirements.txt"));
    let pins: Vec<&String> = read.keys().collect();
    assert_eq!(
        pins,
        [
            "asgiref==3.8.1",
            "flask==3.0.3",
            "jinja2==3.1.4",
            "markupsafe==2.1.5",
            "werkzeug==3.0.1"
        ],
        "colorama is Windows-only; flask 3.1.0 needs Python 3.13"
    );
    for (pin, got) in &read {
        let mut want = hashes[pin].clone();
        want.sort();
        assert_eq!(got, &want, "{pin}");
    }
    assert_eq!(read["markupsafe==2.1.5"].len(), 2, "wheel and sdist");

    // A re-lock keeps the versions of the lock, even with a newer release out...
    wheel(
        dir,
        &mut hashes,
        "werkzeug",
        "3.0.2",
        Meta {
            requires_dist: &["markupsafe>=2.1.1"],
            ..Meta::default()
        },
    );
    let again = repin_in(
        root,
        home.path(),
        &["lock", "requirements.in", "-o", "requirements.txt"],
    );
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(
        std::fs::read_to_string(root.join("requirements.txt")).unwrap(),
        lock
    );
    assert!(
        text(&again.stderr).contains("(unchanged)"),
        "{}",
        text(&again.stderr)
    );
    // ... until that package may move.
    let moved = repin_in(
        root,
        home.path(),
        &[
            "lock",
            "requirements.in",
            "-o",
            "requirements.txt",
            "--upgrade-package",
            "werkzeug",
        ],
    );
    assert!(moved.status.success(), "{}", text(&moved.stderr));
    assert!(
        text(&moved.stderr).contains("werkzeug 3.0.1 -> 3.0.2"),
        "{}",
        text(&moved.stderr)
    );
    assert!(read_back(&root.join("requirements.txt")).contains_key("werkzeug==3.0.2"));

    // A conflict: a readable explanation in repin's error style, exit 2, nothing written.
    std::fs::write(
        root.join("conflict.in"),
        format!("-i {}\nflask>=3\nwerkzeug<3\n", server.index_url()),
    )
    .unwrap();
    let failed = repin_in(root, home.path(), &["lock", "conflict.in"]);
    assert_eq!(failed.status.code(), Some(2));
    let stderr = text(&failed.stderr);
    assert!(
        stderr.starts_with(
            "error: No set of versions satisfies the requirements of conflict.in\n  Caused by: Because"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("werkzeug<3"), "{stderr}");
    assert!(
        stderr.contains("flask==3.0.3 depends on werkzeug>=3.0"),
        "{stderr}"
    );
    assert!(
        stderr.contains("flask==3.1.0 cannot be used: requires Python >=3.13"),
        "{stderr}"
    );
    assert!(
        stderr.contains("\n  hint: the lock is for Python 3.12"),
        "{stderr}"
    );
    assert!(!root.join("conflict.txt").exists());

    // An sdist that only a build would explain is not resolvable.
    std::fs::write(
        root.join("legacy.in"),
        format!("-i {}\nlegacy\n", server.index_url()),
    )
    .unwrap();
    let failed = repin_in(
        root,
        home.path(),
        &["lock", "legacy.in", "--python", "3.12"],
    );
    assert_eq!(failed.status.code(), Some(2));
    let stderr = text(&failed.stderr);
    assert!(
        stderr.contains("legacy-1.0.tar.gz does not declare its dependencies statically"),
        "{stderr}"
    );
    assert!(
        stderr.contains("there is no other release of legacy"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: repin never runs build backends"),
        "{stderr}"
    );
}

/// Issue 13: a lock for an image built for two platforms names each pin with no wheel for one
/// of them: built from its sdist there, or not installable at all. The pins themselves are the
/// same (one resolution, for the first platform, as pip-compile makes on it).
#[test]
fn lock_names_pins_without_a_wheel_for_a_platform_in_use() {
    let packages = tempfile::tempdir().unwrap();
    let dir = packages.path();
    let mut hashes = BTreeMap::new();
    wheel(dir, &mut hashes, "purelib", "1.0", Meta::default());
    // Binary wheels for linux/amd64 only: the file's tags are in its name.
    for name in ["fastlib", "binonly"] {
        let written = write_wheel_with(dir, name, "2.0", &Meta::default());
        std::fs::rename(
            &written,
            dir.join(format!(
                "{name}-2.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
            )),
        )
        .unwrap();
    }
    write_sdist_with(dir, "fastlib", "2.0", &Meta::default());
    let server = PypiServer::start(dir);

    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let root = repo.path();
    std::fs::write(
        root.join("repin.toml"),
        "[python]\nversion = \"3.12\"\n\n[images]\nplatforms = [\"linux/amd64\", \"linux/arm64\"]\n",
    )
    .unwrap();
    std::fs::write(
        root.join("requirements.in"),
        format!("-i {}\npurelib\nfastlib\nbinonly\n", server.index_url()),
    )
    .unwrap();
    let output = repin_in(root, home.path(), &["lock", "requirements.in"]);
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}\n{}", server.log());
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("has no wheel for"))
        .collect();
    assert_eq!(
        warnings,
        vec![
            "warning: `binonly` 2.0 has no wheel for CPython 3.12 on linux/arm64 (glibc) and no sdist: it cannot be installed there",
            "warning: `fastlib` 2.0 has no wheel for CPython 3.12 on linux/arm64 (glibc): pip builds it from its sdist in the image (a compiler and the library headers it needs must be there)",
        ],
        "{stderr}"
    );
    let lock = std::fs::read_to_string(root.join("requirements.txt")).unwrap();
    for pin in ["binonly==2.0", "fastlib==2.0", "purelib==1.0"] {
        assert!(lock.contains(pin), "{pin}\n{lock}");
    }

    // On linux/amd64 alone, nothing to say.
    std::fs::write(root.join("repin.toml"), "[python]\nversion = \"3.12\"\n").unwrap();
    let output = repin_in(root, home.path(), &["lock", "requirements.in", "--upgrade"]);
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("has no wheel for"), "{stderr}");

    // The re-lock `check` makes for an update says the same of the pins it moves (issue 13):
    // fastlib 2.1 builds from its sdist on linux/arm64 (a warning), binonly 2.1 installs on
    // nothing there (held back).
    for name in ["fastlib", "binonly"] {
        let written = write_wheel_with(dir, name, "2.1", &Meta::default());
        std::fs::rename(
            &written,
            dir.join(format!(
                "{name}-2.1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
            )),
        )
        .unwrap();
    }
    write_sdist_with(dir, "fastlib", "2.1", &Meta::default());
    std::fs::write(
        root.join("repin.toml"),
        "[python]\nversion = \"3.12\"\n\n[images]\nplatforms = [\"linux/amd64\", \"linux/arm64\"]\n\n[advisories]\nsource = \"off\"\n",
    )
    .unwrap();
    let output = repin_in(
        root,
        home.path(),
        &["check", "--no-cache", "--format", "json", "."],
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&output.stderr)));
    let updates: Vec<String> = report["updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| format!("{} {} {}", u["name"], u["proposed"], u["kind"]))
        .collect();
    assert_eq!(updates, ["\"fastlib\" \"2.1\" \"lock\""], "{report:#}");
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("the re-lock for fastlib 2.1: `fastlib` 2.1 has no wheel for CPython 3.12 on linux/arm64 (glibc): pip builds it from its sdist"),
        "{report:#}"
    );
    let others = report.to_string();
    assert!(
        others.contains("the re-lock for binonly 2.1 cannot be installed on a platform the image is built for: `binonly` 2.1 has no wheel for CPython 3.12 on linux/arm64 (glibc) and no sdist"),
        "{report:#}"
    );

    // The same for the lock re-locked with an update of its `.in` (its companion).
    std::fs::write(
        root.join("requirements.in"),
        format!(
            "-i {}\npurelib\nfastlib==2.0\nbinonly==2.0\n",
            server.index_url()
        ),
    )
    .unwrap();
    let output = repin_in(root, home.path(), &["lock", "requirements.in"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = repin_in(
        root,
        home.path(),
        &["check", "--no-cache", "--format", "json", "."],
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&output.stderr)));
    let updates: Vec<String> = report["updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            format!(
                "{} {} {}",
                u["name"],
                u["proposed"],
                u["companions"].as_array().map_or(0, Vec::len)
            )
        })
        .collect();
    assert!(
        updates.contains(&"\"fastlib\" \"2.1\" 1".to_owned()),
        "{report:#}"
    );
    assert!(!updates.iter().any(|u| u.contains("binonly")), "{report:#}");
    let all = report.to_string();
    assert!(
        all.contains("requirements.txt: the re-lock for `fastlib==2.1`: `fastlib` 2.1 has no wheel for CPython 3.12 on linux/arm64 (glibc): pip builds it from its sdist"),
        "{report:#}"
    );
    assert!(
        all.contains("`binonly==2.1` re-locks requirements.txt into what cannot be installed on a platform the image is built for: `binonly` 2.1 has no wheel"),
        "{report:#}"
    );
}

/// An index that wants credentials fails the lock with the index's error as a cause and its
/// advice as a `hint:` line, each once and in that order, rendered by the one error path: the
/// failure travels typed from the index client through the resolver (it was text with the hint
/// inside it).
#[test]
fn a_failing_index_stops_the_lock_with_its_cause_and_hint() {
    use crate::support::loopback::{Loopback, Reply};
    let index = Loopback::start(|_| Reply::Full {
        status: 401,
        headers: vec![("WWW-Authenticate".into(), "Basic realm=\"pypi\"".into())],
        body: b"who are you".to_vec(),
    });
    let work = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("requirements.in"),
        format!("-i {}\nflask\n", index.url("/simple/")),
    )
    .unwrap();
    let out = repin_in(
        work.path(),
        home.path(),
        &["lock", "requirements.in", "--python", "3.11"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!work.path().join("requirements.txt").exists());
    let lines: Vec<&str> = stderr.lines().collect();
    let error = lines
        .iter()
        .position(|l| l.starts_with("error: Cannot look up `flask`"))
        .unwrap_or_else(|| panic!("no error line: {stderr}"));
    let rest = &lines[error + 1..];
    assert!(
        rest.first()
            .is_some_and(|l| l.trim_start().starts_with("Caused by: ")),
        "{stderr}"
    );
    let hints: Vec<&&str> = rest
        .iter()
        .filter(|l| l.trim_start().starts_with("hint: "))
        .collect();
    assert_eq!(hints.len(), 1, "{stderr}");
    assert!(hints[0].contains("needs credentials"), "{stderr}");
    let last_cause = rest
        .iter()
        .rposition(|l| l.trim_start().starts_with("Caused by: "))
        .unwrap();
    let hint_at = rest
        .iter()
        .position(|l| l.trim_start().starts_with("hint: "))
        .unwrap();
    assert!(
        last_cause < hint_at,
        "the hint comes after the causes: {stderr}"
    );
}

/// The input's warnings are shown whatever happens next: here the lock fails (no release of
/// the package exists), and the warning about the input's misplaced option is still said
/// before the error.
#[test]
fn the_inputs_warnings_are_shown_when_the_lock_fails() {
    let packages = tempfile::tempdir().unwrap();
    let server = PypiServer::start(packages.path());
    let work = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("requirements.in"),
        format!(
            "-i {}\n--hash=sha256:{}\nnowhere-to-be-found\n",
            server.index_url(),
            "0".repeat(64)
        ),
    )
    .unwrap();
    let out = repin_in(
        work.path(),
        home.path(),
        &["lock", "requirements.in", "--python", "3.11"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let warning = stderr
        .find("requirements.in:2:1: warning: `--hash` belongs after a requirement")
        .unwrap_or_else(|| panic!("the warning is not shown: {stderr}"));
    let error = stderr
        .find("error:")
        .unwrap_or_else(|| panic!("no error: {stderr}"));
    assert!(warning < error, "{stderr}");
}

#[test]
fn a_lock_logging_from_its_lookups_finishes() {
    // The lookups log from the runtime's threads; at `--log-level debug` every request does.
    // `repin lock` once held stderr for the whole resolution, and then waited for them forever.
    let packages = tempfile::tempdir().unwrap();
    let dir = packages.path();
    let mut hashes = BTreeMap::new();
    wheel(
        dir,
        &mut hashes,
        "flask",
        "3.0.3",
        Meta {
            requires_dist: &["markupsafe>=2.0"],
            ..Meta::default()
        },
    );
    wheel(dir, &mut hashes, "markupsafe", "2.1.5", Meta::default());
    let server = PypiServer::start(dir);
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("requirements.in"),
        format!("-i {}\nflask\n", server.index_url()),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_repin"))
        .args([
            "lock",
            "requirements.in",
            "--python",
            "3.12",
            "--log-level",
            "debug",
        ])
        .current_dir(repo.path())
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PIP_CONFIG_FILE", "/dev/null")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("repin runs");
    // Not a timing test: a minute is only how long a hang is waited for before it fails.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            let output = child.wait_with_output().unwrap();
            panic!("repin lock hung; it wrote:\n{}", text(&output.stderr));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("DEBUG"),
        "no lookup logged at debug:\n{stderr}"
    );
    let lock = std::fs::read_to_string(repo.path().join("requirements.txt")).unwrap();
    assert!(lock.contains("flask==3.0.3"), "{lock}");
    assert!(lock.contains("markupsafe==2.1.5"), "{lock}");
}
