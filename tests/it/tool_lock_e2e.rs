//! `repin apply` on a Poetry project and a Pipenv project against a real pypiserver: the
//! project's lock is written by its tool, newer releases are published, and `apply` writes the
//! manifest's update with the lock re-locked by the tool (in repin's hardened scratch copy),
//! or a security fix of a transitive pin as a re-lock alone. The oracles are the tools: the
//! lock repin writes equals what the tool writes itself for the same change on a copy of the
//! project, every other pin stays, the tool's own check accepts it (`poetry check --lock`,
//! `pipenv verify`), and it installs into a throwaway environment from the local index
//! (`poetry install --sync`, `pipenv sync`). Without the tool, the update is held back with
//! the command to run.

use crate::support;

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::Command;

use support::pypiserver::{Meta, PypiServer, write_wheel_with};
use support::tools::{Tools, publish, read, repository};

/// The releases when the project is locked, and those published after.
const LOCKED: &[(&str, &str, &[&str])] = &[
    ("flask", "2.2.2", &["werkzeug>=2.2"]),
    ("werkzeug", "3.0.1", &["markupsafe>=2.1"]),
    ("markupsafe", "2.1.3", &[]),
    ("other", "1.0", &[]),
];
const LATER: &[(&str, &str, &[&str])] = &[
    ("flask", "3.0.3", &["werkzeug>=3.0"]),
    ("werkzeug", "3.0.6", &["markupsafe>=2.1"]),
    ("markupsafe", "2.1.5", &[]),
    ("other", "1.1", &[]),
];

const PYPROJECT: &str = r#"[project]
name = "shop"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [
    "flask==2.2.2",  # web
    "other>=1.0",
]

[tool.poetry]
package-mode = false

[[tool.poetry.source]]
name = "local"
url = "{index}"
priority = "primary"
"#;

const PIPFILE: &str = r#"[[source]]
url = "{index}"
verify_ssl = false   # pypiserver on loopback speaks plain HTTP
name = "local"

[packages]
flask = "==2.2.2"   # web
other = "*"

[requires]
python_version = "3.11"
"#;

struct Setup {
    repo: tempfile::TempDir,
    packages: tempfile::TempDir,
    /// The tools' caches, configuration and environments of the test's own.
    tools: Tools,
    _pypi: PypiServer,
}

/// A project with `manifest` (its `{index}` the local one), not locked yet.
fn project(manifest_name: &str, manifest: &str) -> Setup {
    let packages = tempfile::tempdir().unwrap();
    publish(packages.path(), LOCKED);
    let pypi = PypiServer::start(packages.path());
    let repo = repository(manifest_name, manifest, pypi.index_url().as_str());
    Setup {
        repo,
        packages,
        tools: Tools::new(),
        _pypi: pypi,
    }
}

/// A tool from PATH in `dir`, with the test's own caches and configuration; it must succeed.
fn tool(setup: &Setup, dir: &Path, program: &str, args: &[&str]) -> String {
    setup.tools.run(program, dir, args, &[])
}

/// repin on the project, with `path` as its `PATH` if given; stdout, stderr, exit code.
fn repin(setup: &Setup, args: &[&str], path: Option<&OsStr>) -> support::Said {
    let env: Vec<(&str, &OsStr)> = path.map(|path| ("PATH", path)).into_iter().collect();
    support::repin_on(setup.repo.path(), args, &env)
}

/// [`repin`] with this machine's `PATH`, which must succeed; its stdout and stderr.
fn repin_ok(setup: &Setup, args: &[&str]) -> (String, String) {
    let (stdout, stderr, code) = repin(setup, args, None);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    (stdout, stderr)
}

/// `repin apply --only werkzeug` with the advisory database at `db`, which must succeed: the
/// security fix of the transitive pin alone. Its stdout and stderr.
fn apply_fix(setup: &Setup, db: &Path) -> (String, String) {
    repin_ok(
        setup,
        &[
            "apply",
            "--only",
            "werkzeug",
            "--advisory-db",
            db.to_str().unwrap(),
        ],
    )
}

/// A copy of the project's manifest and lock in a new directory (the oracle's).
fn copy(setup: &Setup, files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in files {
        std::fs::copy(setup.repo.path().join(file), dir.path().join(file)).unwrap();
    }
    dir
}

/// The oracle: a [`copy`] of the project's `manifest` and `lock`, its manifest replaced by
/// `edited` when given (the edit repin makes), on which `program args` has run. What the tool
/// writes there itself is what repin's lock must be.
fn oracle_of(
    setup: &Setup,
    [manifest, lock]: [&str; 2],
    edited: Option<&str>,
    program: &str,
    args: &[&str],
) -> tempfile::TempDir {
    let dir = copy(setup, &[manifest, lock]);
    if let Some(edited) = edited {
        std::fs::write(dir.path().join(manifest), edited).unwrap();
    }
    tool(setup, dir.path(), program, args);
    dir
}

/// The oracle of a Pipenv project: `pipenv upgrade --lock-only --categories packages PINS`
/// (the upgrade repin runs) on a copy of its Pipfile (`edited`, when given) and lock.
fn pipenv_upgrade_oracle(setup: &Setup, edited: Option<&str>, pins: &[&str]) -> tempfile::TempDir {
    let mut args = vec!["upgrade", "--lock-only", "--categories", "packages"];
    args.extend(pins);
    oracle_of(setup, ["Pipfile", "Pipfile.lock"], edited, "pipenv", &args)
}

/// `name version` of every package of a `poetry.lock`, as Python's `tomllib` reads them.
fn poetry_pins(dir: &Path) -> Vec<String> {
    support::lock_oracles::tomllib_pins(&dir.join("poetry.lock"), "package")
}

/// `name version` of every package of a `Pipfile.lock`, as Python's `json` reads them.
fn pipenv_pins(dir: &Path) -> Vec<String> {
    let out = Command::new(support::pypiserver::python())
        .args([
            "-c",
            "import json,sys\nl=json.load(open(sys.argv[1]))\nprint('\\n'.join(sorted(f\"{n} {p['version'].lstrip('=')}\" for c in ('default','develop') for n,p in l.get(c,{}).items())))",
        ])
        .arg(dir.join("Pipfile.lock"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The Poetry project, locked by Poetry, then newer releases published.
fn poetry_setup() -> Setup {
    let setup = project("pyproject.toml", PYPROJECT);
    tool(
        &setup,
        setup.repo.path(),
        "poetry",
        &["lock", "--no-interaction"],
    );
    publish(setup.packages.path(), LATER);
    setup
}

/// A Pipenv project with `pipfile`, locked by Pipenv.
fn pipenv_locked(pipfile: &str) -> Setup {
    let setup = project("Pipfile", pipfile);
    let python = support::pypiserver::python();
    tool(
        &setup,
        setup.repo.path(),
        "pipenv",
        &["lock", "--python", &python],
    );
    setup
}

/// The Pipenv project, locked by Pipenv, then newer releases published.
fn pipenv_setup() -> Setup {
    let setup = pipenv_locked(PIPFILE);
    publish(setup.packages.path(), LATER);
    setup
}

/// Poetry accepts the lock, and installs it into a throwaway environment from the local index.
fn assert_poetry_installs(setup: &Setup) {
    tool(setup, setup.repo.path(), "poetry", &["check", "--lock"]);
    let out = tool(
        setup,
        setup.repo.path(),
        "poetry",
        &["install", "--sync", "--no-interaction"],
    );
    assert!(out.contains("Installing flask"), "{out}");
    let venv = tool(
        setup,
        setup.repo.path(),
        "poetry",
        &["env", "info", "--path"],
    );
    assert!(
        Path::new(venv.trim()).starts_with(setup.tools.dir()),
        "{venv}"
    );
}

/// Pipenv accepts the lock (`pipenv verify`) and installs it into a throwaway environment
/// from the local index; what is installed there, as `pip list --format freeze` gives it.
fn pipenv_installed(setup: &Setup) -> String {
    let r = setup.repo.path();
    tool(setup, r, "pipenv", &["verify"]);
    let python = support::pypiserver::python();
    tool(setup, r, "pipenv", &["sync", "--python", &python]);
    tool(
        setup,
        r,
        "pipenv",
        &["run", "python", "-m", "pip", "list", "--format", "freeze"],
    )
}

/// Pipenv accepts the lock, and installs it into a throwaway environment from the local index.
fn assert_pipenv_installs(setup: &Setup) {
    let listed = pipenv_installed(setup);
    assert!(listed.contains("flask==3.0.3"), "{listed}");
    assert!(listed.contains("other==1.0"), "{listed}");
}

/// Write into the advisory database at `dir` an advisory of werkzeug fixed in 3.0.6.
fn advisory(dir: &Path) {
    let path = dir.join("vulns").join("werkzeug");
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(
        path.join("PYSEC-2030-7.yaml"),
        "id: PYSEC-2030-7\nsummary: Debugger pin bypass\naffected:\n- package:\n    ecosystem: PyPI\n    name: werkzeug\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: '0'\n    - fixed: 3.0.6\n",
    )
    .unwrap();
}

/// A new advisory database with [`advisory`] in it: where a test's security fix comes from.
fn advisory_db() -> tempfile::TempDir {
    let db = tempfile::tempdir().unwrap();
    advisory(db.path());
    db
}

#[test]
fn apply_writes_the_pyproject_with_the_poetry_lock_poetry_writes_for_it() {
    let setup = poetry_setup();
    let r = setup.repo.path();
    assert_eq!(
        poetry_pins(r),
        [
            "flask 2.2.2",
            "markupsafe 2.1.3",
            "other 1.0",
            "werkzeug 3.0.1"
        ]
    );
    // The oracle: the same edit, then `poetry lock`, on a copy.
    let edited = read(r, "pyproject.toml").replace("\"flask==2.2.2\"", "\"flask==3.0.3\"");
    let oracle = oracle_of(
        &setup,
        ["pyproject.toml", "poetry.lock"],
        Some(&edited),
        "poetry",
        &["lock", "--no-interaction"],
    );

    let (stdout, stderr) = repin_ok(&setup, &["apply"]);
    assert!(
        stdout.contains("poetry.lock: re-locked with it: flask 2.2.2 → 3.0.3"),
        "{stdout}{stderr}"
    );
    assert_eq!(read(r, "pyproject.toml"), edited);
    assert_eq!(read(r, "poetry.lock"), read(oracle.path(), "poetry.lock"));
    // Every other pin stays, though newer releases are out.
    assert_eq!(
        poetry_pins(r),
        [
            "flask 3.0.3",
            "markupsafe 2.1.3",
            "other 1.0",
            "werkzeug 3.0.1"
        ]
    );
    assert_poetry_installs(&setup);
    // Applied again, nothing is due and nothing changes.
    let lock = read(r, "poetry.lock");
    repin_ok(&setup, &["apply"]);
    assert_eq!(read(r, "poetry.lock"), lock);
    assert_eq!(read(r, "pyproject.toml"), edited);
}

#[test]
fn a_vulnerable_transitive_pin_of_a_poetry_lock_is_fixed_by_poetry_update_alone_past_the_fix() {
    let setup = poetry_setup();
    let r = setup.repo.path();
    let db = advisory_db();
    // A release after the fix: `poetry update` cannot be given a version, and moves to it.
    publish(
        setup.packages.path(),
        &[("werkzeug", "3.0.7", &["markupsafe>=2.1"])],
    );
    let oracle = oracle_of(
        &setup,
        ["pyproject.toml", "poetry.lock"],
        None,
        "poetry",
        &["update", "--lock", "werkzeug", "--no-interaction"],
    );
    let pyproject = read(r, "pyproject.toml");
    let (stdout, stderr) = apply_fix(&setup, db.path());
    assert!(
        stdout.contains("werkzeug 3.0.1 → 3.0.7"),
        "{stdout}{stderr}"
    );
    assert_eq!(read(r, "pyproject.toml"), pyproject);
    assert_eq!(read(r, "poetry.lock"), read(oracle.path(), "poetry.lock"));
    assert_eq!(
        poetry_pins(r),
        [
            "flask 2.2.2",
            "markupsafe 2.1.3",
            "other 1.0",
            "werkzeug 3.0.7"
        ]
    );
    tool(&setup, r, "poetry", &["check", "--lock"]);
}

#[test]
fn apply_writes_the_pipfile_with_the_pipfile_lock_pipenv_writes_for_it() {
    let setup = pipenv_setup();
    let r = setup.repo.path();
    assert_eq!(
        pipenv_pins(r),
        [
            "flask 2.2.2",
            "markupsafe 2.1.3",
            "other 1.0",
            "werkzeug 3.0.1"
        ]
    );
    let edited = read(r, "Pipfile").replace("\"==2.2.2\"", "\"==3.0.3\"");
    // The oracle: the same edit, then the upgrade the hold-back message names, on a copy.
    let oracle = pipenv_upgrade_oracle(&setup, Some(&edited), &["flask==3.0.3"]);
    // Why not `pipenv lock`: it moves every pin, `other` included.
    let relocked = oracle_of(
        &setup,
        ["Pipfile", "Pipfile.lock"],
        Some(&edited),
        "pipenv",
        &["lock"],
    );
    assert!(
        pipenv_pins(relocked.path()).contains(&"other 1.1".to_owned()),
        "{:?}",
        pipenv_pins(relocked.path())
    );

    let (stdout, stderr) = repin_ok(&setup, &["apply"]);
    assert!(
        stdout.contains("Pipfile.lock: re-locked with it: flask 2.2.2 → 3.0.3"),
        "{stdout}{stderr}"
    );
    assert_eq!(read(r, "Pipfile"), edited);
    assert_eq!(read(r, "Pipfile.lock"), read(oracle.path(), "Pipfile.lock"));
    // `other` stays; flask's own requirements move with it, as Pipenv's upgrade moves them.
    assert_eq!(
        pipenv_pins(r),
        [
            "flask 3.0.3",
            "markupsafe 2.1.5",
            "other 1.0",
            "werkzeug 3.0.6"
        ]
    );
    assert_pipenv_installs(&setup);
}

#[test]
fn without_poetry_or_pipenv_the_update_is_held_back_with_the_command_to_run() {
    // A PATH with everything but the tools.
    let bin = tempfile::tempdir().unwrap();
    let path = OsString::from(format!("{}:/usr/bin:/bin", bin.path().display()));
    for program in ["poetry", "pipenv"] {
        assert!(
            Command::new(program)
                .env("PATH", &path)
                .arg("--version")
                .output()
                .is_err(),
            "{program} is in /usr/bin or /bin: this test needs a PATH without it"
        );
    }
    for (setup, manifest, lock, command) in [
        (
            poetry_setup(),
            "pyproject.toml",
            "poetry.lock",
            "poetry lock",
        ),
        (
            pipenv_setup(),
            "Pipfile",
            "Pipfile.lock",
            "pipenv upgrade --lock-only --categories packages 'flask==3.0.3'",
        ),
    ] {
        let r = setup.repo.path();
        let (before, locked) = (read(r, manifest), read(r, lock));
        let (stdout, stderr, code) = repin(&setup, &["apply"], Some(&path));
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        let all = format!("{stdout}{stderr}");
        let program = command.split(' ').next().unwrap();
        assert!(
            all.contains(&format!("{manifest}: `flask` 3.0.3 is held back:"))
                && all.contains(&format!(
                    "{lock} cannot be re-locked with it: `{program}` is not on PATH"
                )),
            "{all}"
        );
        assert!(
            all.contains(&format!("hint: make the change, then run `{command}` in")),
            "{all}"
        );
        assert_eq!(read(r, manifest), before);
        assert_eq!(read(r, lock), locked);
    }
}

/// An sdist of `flask` `version` whose in-tree build backend writes `marker` when it is
/// imported: any tool that builds it to read its metadata runs it.
fn write_hostile_sdist(dir: &Path, version: &str, marker: &Path) {
    use std::io::Write;
    let root = format!("flask-{version}");
    let backend = format!(
        "open({:?}, 'w').write('built')\n\ndef get_requires_for_build_wheel(config_settings=None):\n    return []\n\ndef prepare_metadata_for_build_wheel(directory, config_settings=None):\n    raise RuntimeError('not a real backend')\n\ndef build_wheel(directory, config_settings=None, metadata_directory=None):\n    raise RuntimeError('not a real backend')\n",
        marker.display().to_string()
    );
    let files = [
        (
            format!("{root}/PKG-INFO"),
            format!(
                "Metadata-Version: 2.1\nName: flask\nVersion: {version}\nRequires-Dist: werkzeug>=3.0\n"
            ),
        ),
        (
            format!("{root}/pyproject.toml"),
            "[build-system]\nrequires = []\nbuild-backend = \"backend\"\nbackend-path = [\".\"]\n"
                .to_owned(),
        ),
        (format!("{root}/backend.py"), backend),
    ];
    let mut tar = Vec::new();
    for (name, text) in &files {
        tar.extend(support::pypiserver::tar_header(name, text.len()));
        tar.extend_from_slice(text.as_bytes());
        tar.resize(tar.len().div_ceil(512) * 512, 0);
    }
    tar.extend([0u8; 1024]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    std::fs::write(dir.join(format!("{root}.tar.gz")), gz.finish().unwrap()).unwrap();
}

#[test]
fn pipenv_builds_no_sdist_for_repin_and_the_update_is_held_back_instead() {
    let setup = pipenv_locked(PIPFILE);
    let marker_dir = tempfile::tempdir().unwrap();
    let marker = marker_dir.path().join("built");
    write_hostile_sdist(setup.packages.path(), "3.0.3", &marker);
    publish(setup.packages.path(), &LATER[1..]);
    let r = setup.repo.path();
    let (pipfile, lock) = (read(r, "Pipfile"), read(r, "Pipfile.lock"));

    // The guard is needed: Pipenv run as a user would builds the sdist, running its code.
    let copied = copy(&setup, &["Pipfile", "Pipfile.lock"]);
    std::fs::write(
        copied.path().join("Pipfile"),
        pipfile.replace("\"==2.2.2\"", "\"==3.0.3\""),
    )
    .unwrap();
    let _ = setup.tools.output(
        "pipenv",
        copied.path(),
        &["upgrade", "--lock-only", "flask==3.0.3"],
        &[],
    );
    assert!(
        marker.exists(),
        "Pipenv did not build the sdist: this test shows nothing"
    );
    std::fs::remove_file(&marker).unwrap();

    let (stdout, stderr) = repin_ok(&setup, &["apply"]);
    assert!(!marker.exists(), "repin's Pipenv built the sdist");
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains("Pipfile: `flask` 3.0.3 is held back:")
            && all.contains("Pipfile.lock cannot be re-locked with it: `pipenv upgrade --lock-only --categories packages flask==3.0.3` failed"),
        "{all}"
    );
    assert_eq!(read(r, "Pipfile"), pipfile);
    assert_eq!(read(r, "Pipfile.lock"), lock);
}

/// With `--no-build-code` (what `repin serve` gives its runs unless the operator passes
/// `--allow-build-code`), Poetry, which may run the build code of a release it resolves, is
/// never started: the update is held back saying why and what to run, and nothing is written.
/// A `poetry` of the test's own, first on PATH, records whether it was started; without the
/// flag it is (so the record shows a start when there is one).
#[test]
fn with_no_build_code_poetry_is_never_run_and_the_update_is_held_back() {
    let setup = poetry_setup();
    let bin = tempfile::tempdir().unwrap();
    let started = bin.path().join("started");
    let fake = bin.path().join("poetry");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\necho started >> '{}'\nexit 1\n",
            started.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = OsString::from(format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    ));
    let r = setup.repo.path();
    let (before, locked) = (read(r, "pyproject.toml"), read(r, "poetry.lock"));

    let (stdout, stderr, code) = repin(&setup, &["apply", "--no-build-code"], Some(&path));
    let all = format!("{stdout}{stderr}");
    assert_eq!(code, Some(0), "{all}");
    assert!(!started.exists(), "Poetry was started: {all}");
    assert!(
        all.contains("pyproject.toml: `flask` 3.0.3 is held back:")
            && all.contains("poetry.lock cannot be re-locked with it:")
            && all.contains("this run allows no build code"),
        "{all}"
    );
    assert!(
        all.contains("hint: make the change, then run `poetry lock` in"),
        "{all}"
    );
    assert_eq!(read(r, "pyproject.toml"), before);
    assert_eq!(read(r, "poetry.lock"), locked);

    // Without the flag, the same run starts Poetry (here the test's own, which fails).
    let (stdout, stderr, _) = repin(&setup, &["apply"], Some(&path));
    assert!(started.exists(), "{stdout}{stderr}");
    assert_eq!(read(r, "poetry.lock"), locked);
}

/// The updates `repin check` proposes with the advisory database at `db`, as
/// `file name current -> proposed (kind)`, the file by its name, and the whole output.
fn security_updates(setup: &Setup, db: &Path) -> (Vec<String>, String) {
    let (stdout, stderr) = repin_ok(
        setup,
        &[
            "check",
            "--format",
            "json",
            "--only",
            "werkzeug",
            "--advisory-db",
            db.to_str().unwrap(),
        ],
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let updates = report["updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            format!(
                "{} {} {} -> {} ({})",
                u["file"].as_str().unwrap().rsplit('/').next().unwrap(),
                u["name"].as_str().unwrap(),
                u["current"].as_str().unwrap(),
                u["proposed"].as_str().unwrap(),
                u["kind"].as_str().unwrap()
            )
        })
        .collect();
    (updates, format!("{report:#}{stderr}"))
}

#[test]
fn a_poetry_security_fix_of_a_transitive_pin_is_an_update_of_kind_lock() {
    let setup = poetry_setup();
    let db = advisory_db();
    // Poetry moves werkzeug to the newest release the project allows (3.0.6 here), and the
    // update says so.
    let (updates, report) = security_updates(&setup, db.path());
    assert_eq!(
        updates,
        ["poetry.lock werkzeug 3.0.1 -> 3.0.6 (lock)"],
        "{report}"
    );
}

/// A security fix of a transitive pin of a `Pipfile.lock` is an update of kind `lock`: Pipenv
/// pins the fixed version, or, once a later release is out, that one (it takes only the name of
/// a pin its Pipfile does not name), and the update says so; when an advisory affects the
/// release Pipenv writes, the fix is held back.
#[test]
fn a_pipenv_security_fix_is_of_kind_lock_and_held_back_when_pipenv_writes_a_vulnerable_release() {
    let setup = pipenv_setup();
    let db = advisory_db();
    let (updates, report) = security_updates(&setup, db.path());
    assert_eq!(
        updates,
        ["Pipfile.lock werkzeug 3.0.1 -> 3.0.6 (lock)"],
        "{report}"
    );
    publish(
        setup.packages.path(),
        &[("werkzeug", "3.0.7", &["markupsafe>=2.1"])],
    );
    // Were 3.0.7 affected by a later advisory, the fix Pipenv writes is no fix: held back.
    advisory(db.path());
    std::fs::write(
        db.path().join("vulns/werkzeug/PYSEC-2030-8.yaml"),
        "id: PYSEC-2030-8\nsummary: A later flaw\naffected:\n- package:\n    ecosystem: PyPI\n    name: werkzeug\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: 3.0.7\n",
    )
    .unwrap();
    let (updates, report) = security_updates(&setup, db.path());
    assert!(updates.is_empty(), "{report}");
    assert!(
        report.contains("it pins `werkzeug` 3.0.7 (the newest release the project allows), which PYSEC-2030-8 affects"),
        "{report}"
    );
}

/// A security fix of a transitive pin of a `Pipfile.lock`, made by `pipenv upgrade NAME==FIXED`
/// alone: with a release after the fix out, Pipenv writes that one and the update proposes it;
/// the Pipfile stays as it is, and the lock is what Pipenv writes for the same upgrade on a
/// copy.
#[test]
fn a_vulnerable_transitive_pin_of_a_pipfile_lock_is_fixed_by_pipenv_upgrade_alone() {
    let setup = pipenv_setup();
    let r = setup.repo.path();
    let db = advisory_db();
    publish(
        setup.packages.path(),
        &[("werkzeug", "3.0.7", &["markupsafe>=2.1"])],
    );
    let (updates, report) = security_updates(&setup, db.path());
    assert_eq!(
        updates,
        ["Pipfile.lock werkzeug 3.0.1 -> 3.0.7 (lock)"],
        "{report}"
    );
    assert!(
        report.contains("Pipenv updates it to 3.0.7, the newest release the project allows"),
        "{report}"
    );
    let oracle = pipenv_upgrade_oracle(&setup, None, &["werkzeug==3.0.6"]);
    let pipfile = read(r, "Pipfile");
    let (stdout, stderr) = apply_fix(&setup, db.path());
    assert!(
        stdout.contains("werkzeug 3.0.1 → 3.0.7"),
        "{stdout}{stderr}"
    );
    assert_eq!(read(r, "Pipfile"), pipfile);
    assert_eq!(
        read(oracle.path(), "Pipfile"),
        pipfile,
        "Pipenv kept it too"
    );
    assert_eq!(read(r, "Pipfile.lock"), read(oracle.path(), "Pipfile.lock"));
    let pins = pipenv_pins(r);
    for pin in ["flask 2.2.2", "other 1.0", "werkzeug 3.0.7"] {
        assert!(pins.contains(&pin.to_owned()), "{pins:?}");
    }
    tool(&setup, r, "pipenv", &["verify"]);
    // Applied again, the pin is no longer vulnerable: nothing is due and nothing changes.
    let lock = read(r, "Pipfile.lock");
    let (stdout, stderr) = apply_fix(&setup, db.path());
    assert_eq!(read(r, "Pipfile.lock"), lock, "{stdout}{stderr}");
}

/// A Pipfile whose entries carry extras and markers, as tables.
const PIPFILE_TABLES: &str = r#"[[source]]
url = "{index}"
verify_ssl = false   # pypiserver on loopback speaks plain HTTP
name = "local"

[packages]
flask = {version = "==2.2.2", extras = ["async"]}   # web
requests = { version = "==2.31.0", markers = "python_version >= '3.8'" }
other = "*"

[requires]
python_version = "3.11"
"#;

/// `flask` with an `async` extra, `requests` and what they need: at `stage` 0 the releases the
/// project is locked with, at 1 those published after.
fn publish_tables(dir: &Path, stage: usize) {
    let (flask, requests, asgiref, idna) = [
        ("2.2.2", "2.31.0", "3.7.0", "3.6"),
        ("3.0.3", "2.32.3", "3.8.1", "3.7"),
    ][stage];
    let meta = |requires_dist, provides_extra| Meta {
        requires_python: Some(">=3.8"),
        requires_dist,
        provides_extra,
        ..Meta::default()
    };
    write_wheel_with(
        dir,
        "flask",
        flask,
        &meta(
            &["werkzeug>=2.2", "asgiref>=3.2; extra == \"async\""],
            &["async"],
        ),
    );
    write_wheel_with(dir, "requests", requests, &meta(&["idna>=2.5"], &[]));
    write_wheel_with(dir, "asgiref", asgiref, &meta(&[], &[]));
    write_wheel_with(dir, "idna", idna, &meta(&[], &[]));
}

/// The `default` entries of a `Pipfile.lock` without their hashes, as `name {fields}`.
fn pipenv_entries(dir: &Path) -> Vec<String> {
    let lock: serde_json::Value = serde_json::from_str(&read(dir, "Pipfile.lock")).unwrap();
    lock["default"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, entry)| {
            let mut entry = entry.clone();
            entry.as_object_mut().unwrap().remove("hashes");
            format!("{name} {entry}")
        })
        .collect()
}

/// Pipfile entries with extras and markers (tables): repin edits the version inside the table
/// and nothing else; `pipenv upgrade --lock-only` with `NAME[EXTRAS]==VERSION` leaves that
/// Pipfile as repin wrote it (no entry rewritten, no marker dropped: the oracle's copy shows
/// it), keeps the extras and markers in the lock, and the lock's `_meta.hash` is of repin's
/// Pipfile (`pipenv verify`).
#[test]
fn pipfile_entries_with_extras_and_markers_keep_them_and_pipenv_locks_them() {
    let setup = project("Pipfile", PIPFILE_TABLES);
    publish_tables(setup.packages.path(), 0);
    let python = support::pypiserver::python();
    let r = setup.repo.path();
    tool(&setup, r, "pipenv", &["lock", "--python", &python]);
    publish(setup.packages.path(), LATER);
    publish_tables(setup.packages.path(), 1);
    let before = read(r, "Pipfile");
    let edited = before
        .replace("\"==2.2.2\"", "\"==3.0.3\"")
        .replace("\"==2.31.0\"", "\"==2.32.3\"");
    // The oracle: the same edit, then the upgrade, on a copy.
    let oracle = pipenv_upgrade_oracle(
        &setup,
        Some(&edited),
        &["flask[async]==3.0.3", "requests==2.32.3"],
    );
    assert_eq!(read(oracle.path(), "Pipfile"), edited, "Pipenv rewrote it");

    let (stdout, stderr) = repin_ok(&setup, &["apply"]);
    assert!(
        stdout.contains("flask 2.2.2 → 3.0.3") && stdout.contains("requests 2.31.0 → 2.32.3"),
        "{stdout}{stderr}"
    );
    assert_eq!(read(r, "Pipfile"), edited);
    assert_eq!(read(r, "Pipfile.lock"), read(oracle.path(), "Pipfile.lock"));
    let entries = pipenv_entries(r);
    for entry in [
        r#"flask {"extras":["async"],"version":"==3.0.3"}"#,
        r#"requests {"markers":"python_version >= '3.8'","version":"==2.32.3"}"#,
        r#"other {"index":"local","version":"==1.0"}"#,
    ] {
        assert!(entries.contains(&entry.to_owned()), "{entries:#?}");
    }
    assert!(
        entries.iter().any(|e| e.starts_with("asgiref ")),
        "the extra's requirement is locked: {entries:#?}"
    );
    let listed = pipenv_installed(&setup);
    for pin in [
        "flask==3.0.3",
        "requests==2.32.3",
        "other==1.0",
        "asgiref==",
    ] {
        assert!(listed.contains(pin), "{listed}");
    }
}
