//! `pylock.toml` (PEP 751) written by uv itself (`uv pip compile -o pylock.toml`) against a
//! real pypiserver, then read by `repin extract` and `repin check`. The oracles: uv writes the
//! file, and Python's `tomllib` reads the pins from it independently of repin.

use crate::support::lock_oracles::{ToolWritten, written_by_its_tool_is_read_and_held};

#[test]
fn a_pylock_written_by_uv_is_read_pin_for_pin_and_its_updates_are_held_for_uv() {
    written_by_its_tool_is_read_and_held(&ToolWritten {
        manifest_name: "requirements.in",
        manifest: "alpha==1.0\n",
        tool: "uv",
        args: &[
            "pip",
            "compile",
            "requirements.in",
            "-o",
            "pylock.toml",
            "--python-version",
            "3.12",
            "--no-header",
            "--index-url",
            "{index}",
        ],
        lock_name: "pylock.toml",
        table: "packages",
        kind: "pylock",
        held_back: "pylock.toml: 1 update held back: a `pylock.toml` records one resolution with every file's hash, so it is re-locked by the tool that wrote it (`uv`), never edited line by line",
    });
}

/// A wheel of `name` `version` for one platform (`cp311-cp311-manylinux_2_17_x86_64`), with
/// its own `WHEEL` tag, so each platform's file has its own bytes and hash.
fn platform_wheel(dir: &std::path::Path, name: &str, version: &str, tag: &str) {
    let dist_info = format!("{name}-{version}.dist-info");
    let files = [
        (format!("{name}/__init__.py"), format!("TAG = \"{tag}\"\n")),
        (
            format!("{dist_info}/METADATA"),
            format!(
                "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nRequires-Python: >=3.8\n"
            ),
        ),
        (
            format!("{dist_info}/WHEEL"),
            format!(
                "Wheel-Version: 1.0\nGenerator: repin-tests\nRoot-Is-Purelib: false\nTag: {tag}\n"
            ),
        ),
        (
            format!("{dist_info}/RECORD"),
            format!(
                "{name}/__init__.py,,\n{dist_info}/METADATA,,\n{dist_info}/WHEEL,,\n{dist_info}/RECORD,,\n"
            ),
        ),
    ];
    let entries: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_bytes()))
        .collect();
    std::fs::write(
        dir.join(format!("{name}-{version}-{tag}.whl")),
        crate::support::pypiserver::zip_stored(&entries),
    )
    .unwrap();
}

/// `uv pip compile INPUT --format pylock.toml -o pylock.uv.toml` in `root`, for Python 3.11 on
/// `platform`, against `index` (else uv's default, PyPI), with `env`.
fn uv_pylock(
    tools: &crate::support::tools::Tools,
    root: &std::path::Path,
    input: &str,
    platform: &str,
    index: Option<&str>,
    env: &[(&str, &str)],
) {
    let mut args = vec![
        "pip",
        "compile",
        input,
        "--format",
        "pylock.toml",
        "-o",
        "pylock.uv.toml",
        "--python-version",
        "3.11",
        "--python-platform",
        platform,
        "--no-header",
    ];
    if let Some(index) = index {
        args.extend(["--index-url", index]);
    }
    tools.run("uv", root, &args, env);
}

/// The oracle, twice over: uv's own `pylock.toml` of `input` (in `root`, against `index`, for
/// Python 3.11 on Linux x86_64) lists the same packages and files as repin's `pylock.toml`
/// there, and uv installs repin's into a fresh environment. repin's files, and what uv
/// installed (`uv pip freeze`).
fn uv_agrees_and_installs(
    root: &std::path::Path,
    input: &str,
    index: &str,
) -> (Vec<String>, String) {
    let tools = crate::support::tools::Tools::new();
    uv_pylock(
        &tools,
        root,
        input,
        "x86_64-manylinux_2_28",
        Some(index),
        &[],
    );
    let ours = pylock_files(&root.join("pylock.toml"));
    assert_eq!(ours, pylock_files(&root.join("pylock.uv.toml")));
    let venv = tools.dir().join("venv");
    tools.run(
        "uv",
        root,
        &["venv", "-q", "-p", "3.11", venv.to_str().unwrap()],
        &[],
    );
    let env = [("VIRTUAL_ENV", venv.to_str().unwrap())];
    tools.run(
        "uv",
        root,
        &["pip", "install", "-r", "pylock.toml", "--no-index"],
        &env,
    );
    (ours, tools.run("uv", root, &["pip", "freeze"], &env))
}

/// `(name, version, sorted file names with their sha256)` of every package of a `pylock.toml`,
/// read by Python's `tomllib`, the oracle's reader.
fn pylock_files(path: &std::path::Path) -> Vec<String> {
    crate::support::lock_oracles::python_lines(
        r#"
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    lock = tomllib.load(f)
assert lock["lock-version"] == "1.0", lock["lock-version"]
for package in lock["packages"]:
    files = ([package["sdist"]] if "sdist" in package else []) + package.get("wheels", [])
    names = sorted(f["url"].rsplit("/", 1)[1] + "=" + f["hashes"]["sha256"] for f in files)
    print(package["name"], package["version"], " ".join(names))
"#,
        &[path.as_os_str()],
    )
}

/// `name version` of every package of a `pylock.toml` ([`pylock_files`] without the files).
fn pylock_versions(path: &std::path::Path) -> Vec<String> {
    pylock_files(path)
        .iter()
        .map(|l| l.split(' ').take(2).collect::<Vec<_>>().join(" "))
        .collect()
}

/// `repin lock requirements.in -o pylock.toml` against a real pypiserver, with uv as the oracle
/// twice over: uv's own `pylock.toml` of the same input, for the same Python and platform, has
/// the same packages, versions and files (by URL and sha256), and uv installs repin's file into
/// a fresh environment. Kept pages: the re-lock reads no page again, and changes nothing.
#[test]
fn repin_writes_a_pylock_that_matches_uvs_and_that_uv_installs() {
    use crate::support::pypiserver::{Meta, PypiServer, write_sdist_with, write_wheel_with};
    let packages = tempfile::tempdir().unwrap();
    let dir = packages.path();
    let app = Meta {
        requires_python: Some(">=3.8"),
        requires_dist: &["native>=1.0", "darwin-only; sys_platform == 'darwin'"],
        ..Meta::default()
    };
    write_wheel_with(dir, "app", "1.0", &app);
    write_sdist_with(dir, "app", "1.0", &app);
    write_wheel_with(dir, "darwin_only", "1.0", &Meta::default());
    write_wheel_with(dir, "native", "1.0", &Meta::default());
    write_sdist_with(dir, "native", "1.1", &Meta::default());
    for tag in [
        "cp311-cp311-manylinux_2_17_x86_64",
        "cp311-cp311-manylinux_2_17_aarch64",
        "cp311-cp311-macosx_11_0_arm64",
        "cp312-cp312-manylinux_2_17_x86_64",
    ] {
        platform_wheel(dir, "native", "1.1", tag);
    }
    let server = PypiServer::start(dir);
    // Every tool asks through a relay that counts what the index sends.
    let proxy = crate::support::counting_proxy::CountingProxy::start(server.port());
    let index = format!("http://127.0.0.1:{}/simple/", proxy.port());
    let repo =
        crate::support::tools::repository("requirements.in", "--index-url {index}\napp\n", &index);
    let root = repo.path();
    let home = tempfile::tempdir().unwrap();
    let input = root.join("requirements.in");
    let output = root.join("pylock.toml");
    let lock = || {
        let out = crate::support::repin(
            home.path(),
            &[
                "lock",
                input.to_str().unwrap(),
                "-o",
                output.to_str().unwrap(),
                "--python",
                "3.11",
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}\n{}", server.log());
        stderr
    };
    let first = lock();
    assert!(
        first.contains("Locked 2 packages for Python 3.11"),
        "{first}"
    );
    // The README's example: this file, the test's paths and port written as a reader's.
    let shown = std::fs::read_to_string(&output)
        .unwrap()
        .replace(&format!("{}/", root.display()), "")
        .replace(&format!("127.0.0.1:{}", proxy.port()), "127.0.0.1:8080");
    crate::support::readme::check(&[("lock-pylock", format!("$ cat pylock.toml\n{shown}"))]);

    let (ours, frozen) = uv_agrees_and_installs(root, "requirements.in", &index);
    // What the comparison is worth: the x86_64 wheel for 3.11 and the sdist, nothing else.
    assert_eq!(ours.len(), 2, "{ours:?}");
    let native = ours.iter().find(|l| l.starts_with("native 1.1 ")).unwrap();
    assert!(
        native.contains("native-1.1-cp311-cp311-manylinux_2_17_x86_64.whl=")
            && native.contains("native-1.1.tar.gz=")
            && native.matches('=').count() == 2,
        "{native}"
    );

    assert_eq!(frozen, "app==1.0\nnative==1.1\n");

    // Warm and fresh, the re-lock asks the index nothing, by either way to the files: the
    // locked releases' files kept beside the listings, else the pages kept in the HTTP cache
    // (whose files are then kept beside the listings in turn).
    let before = std::fs::read_to_string(&output).unwrap();
    let received = proxy.settled();
    let cache = home.path().join(".cache/repin");
    for (gone, way) in [
        ("lock-v2/files", "the pages in the HTTP cache"),
        ("http-v1", "the files kept beside the listings"),
    ] {
        std::fs::remove_dir_all(cache.join(gone))
            .unwrap_or_else(|e| panic!("{}: {e}", cache.join(gone).display()));
        let again = lock();
        assert!(again.contains("(unchanged)"), "{way}: {again}");
        assert_eq!(std::fs::read_to_string(&output).unwrap(), before, "{way}");
        assert_eq!(
            proxy.settled(),
            received,
            "{way}: the re-lock read from the index"
        );
    }
}

/// `repin` run in `dir` (so the command its lock header records is relative) against `index`:
/// its stdout, stderr and exit code.
fn repin_in(
    dir: &std::path::Path,
    home: &std::path::Path,
    index: &str,
    args: &[&str],
) -> crate::support::Said {
    let out = crate::support::repin_in(dir, home, args, &[("PIP_INDEX_URL", index)]);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

/// A repository whose `requirements.in` (`input`) repin locked into `pylock.toml` for Python
/// 3.11, against a pypiserver of `releases`, with advisories off. One index, as a pylock names
/// it in each package's `index`: releases published later into `packages` are seen by it.
struct Locked {
    packages: tempfile::TempDir,
    _server: crate::support::pypiserver::PypiServer,
    index: String,
    repo: tempfile::TempDir,
    home: tempfile::TempDir,
}

impl Locked {
    /// The repository, the home directory repin runs with, and the index URL.
    fn paths(&self) -> (&std::path::Path, &std::path::Path, &str) {
        (self.repo.path(), self.home.path(), self.index.as_str())
    }

    fn new(releases: &[crate::support::tools::Release], input: &str) -> Locked {
        Locked::for_python(releases, input, "3.11")
    }

    /// [`Locked::new`] for `python` (`3.11.7`: a patch level).
    fn for_python(
        releases: &[crate::support::tools::Release],
        input: &str,
        python: &str,
    ) -> Locked {
        let packages = tempfile::tempdir().unwrap();
        crate::support::tools::publish(packages.path(), releases);
        let server = crate::support::pypiserver::PypiServer::start(packages.path());
        let index = server.index_url().to_string();
        let repo = tempfile::tempdir().unwrap();
        let root = repo.path();
        std::fs::create_dir(root.join(".git")).unwrap();
        std::fs::write(root.join("requirements.in"), input).unwrap();
        std::fs::write(root.join("repin.toml"), "[advisories]\nsource = \"off\"\n").unwrap();
        let home = tempfile::tempdir().unwrap();
        let lock = [
            "lock",
            "requirements.in",
            "-o",
            "pylock.toml",
            "--python",
            python,
        ];
        let (_, stderr, code) = repin_in(root, home.path(), &index, &lock);
        assert_eq!(code, Some(0), "{stderr}");
        Locked {
            packages,
            _server: server,
            index,
            repo,
            home,
        }
    }

    /// `repin apply --only NAME` in the repository (it must succeed): the `pylock.toml` after.
    fn apply_only(&self, name: &str) -> String {
        let (root, home, index) = self.paths();
        let apply = ["apply", "--only", name, "--no-cache", "."];
        let (stdout, stderr, code) = repin_in(root, home, index, &apply);
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        std::fs::read_to_string(root.join("pylock.toml")).unwrap()
    }
}

/// A `pylock.toml` repin wrote is re-locked by repin itself, as its requirements locks are: an
/// update of one of its pins is a re-lock from the input its header names (kind `lock`, the
/// other pins kept, a parent moved to fit), never held back for "the tool that wrote it". The
/// oracle: uv's `pylock.toml` of the same input against the same index lists the same packages
/// and files, and uv installs repin's.
#[test]
fn a_pylock_repin_wrote_is_relocked_by_repin() {
    use crate::support::tools::publish;
    const OLD: &[crate::support::tools::Release] = &[
        ("app", "1.0", &["lib>=1.0"]),
        ("lib", "1.0", &[]),
        ("other", "1.0", &[]),
    ];
    const NEW: &[crate::support::tools::Release] = &[
        ("app", "1.1", &["lib>=1.1"]),
        ("lib", "1.1", &[]),
        ("other", "1.1", &[]),
    ];
    let locked = Locked::new(OLD, "app\nother\n");
    let (root, home, index) = locked.paths();
    let before = std::fs::read_to_string(root.join("pylock.toml")).unwrap();
    assert!(
        before.contains("#    repin lock requirements.in -o pylock.toml --python 3.11\n"),
        "{before}"
    );

    publish(locked.packages.path(), NEW);
    let (stdout, stderr, code) = repin_in(
        root,
        home,
        index,
        &["check", "--format", "json", "--no-cache", "."],
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let updates = report["updates"].as_array().unwrap();
    let app = updates
        .iter()
        .find(|u| u["name"] == "app")
        .unwrap_or_else(|| panic!("no update of app: {report:#}"));
    assert_eq!(app["kind"], "lock", "{report:#}");
    assert_eq!(app["proposed"], "1.1", "{report:#}");
    let moved = crate::support::moves(&app["moved"]);
    assert_eq!(
        moved,
        [
            "app 1.0 -> 1.1: minor update",
            "lib 1.0 -> 1.1: to fit app 1.1"
        ],
        "{report:#}"
    );
    assert!(!stdout.contains("held back"), "{report:#}");

    let after = locked.apply_only("app");
    // Only what the update needs moved: `other` keeps its pin.
    assert_eq!(
        pylock_versions(&root.join("pylock.toml")),
        ["app 1.1", "lib 1.1", "other 1.0"],
        "{after}"
    );
    // The header is kept: the next re-lock reads the same command.
    assert_eq!(
        before.lines().take(6).collect::<Vec<_>>(),
        after.lines().take(6).collect::<Vec<_>>()
    );

    std::fs::write(root.join("oracle.in"), "app\nother==1.0\n").unwrap();
    let (_, frozen) = uv_agrees_and_installs(root, "oracle.in", index);
    assert_eq!(frozen, "app==1.1\nlib==1.1\nother==1.0\n");
}

/// A lock made for a patch level (`--python 3.11.7`) is re-locked for that Python, not for its
/// minor: `requires-python` stays `==3.11.7`, and a marker on `python_full_version` is
/// evaluated as before (`lib` is only needed from 3.11.5, so a re-lock for 3.11 would drop it).
#[test]
fn a_pylock_for_a_patch_level_python_is_relocked_for_that_python() {
    const OLD: &[crate::support::tools::Release] = &[
        ("app", "1.0", &["lib; python_full_version >= '3.11.5'"]),
        ("lib", "1.0", &[]),
    ];
    const NEW: &[crate::support::tools::Release] =
        &[("app", "1.1", &["lib; python_full_version >= '3.11.5'"])];
    let locked = Locked::for_python(OLD, "app\n", "3.11.7");
    let root = locked.repo.path();
    let before = std::fs::read_to_string(root.join("pylock.toml")).unwrap();
    assert!(
        before.contains("requires-python = \"==3.11.7\"\n"),
        "{before}"
    );
    let versions = || pylock_versions(&root.join("pylock.toml"));
    assert_eq!(versions(), ["app 1.0", "lib 1.0"], "{before}");

    crate::support::tools::publish(locked.packages.path(), NEW);
    let after = locked.apply_only("app");
    assert_eq!(versions(), ["app 1.1", "lib 1.0"], "{after}");
    assert!(
        after.contains("requires-python = \"==3.11.7\"\n"),
        "{after}"
    );
}

/// A `pylock.toml` repin wrote whose input is gone cannot be re-locked: its updates are held
/// back (never line edits), with why and the command that re-creates it.
#[test]
fn a_pylock_repin_wrote_without_its_input_is_held_back_saying_why() {
    let locked = Locked::new(&[("lib", "1.0", &[])], "lib\n");
    let (root, home, index) = locked.paths();
    std::fs::remove_file(root.join("requirements.in")).unwrap();
    crate::support::tools::publish(locked.packages.path(), &[("lib", "1.1", &[])]);

    let (stdout, stderr, code) = repin_in(root, home, index, &["check", "--no-cache", "."]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let said = format!("{stdout}{stderr}");
    for expected in [
        "pylock.toml: repin cannot re-lock it: its input `requirements.in` is not found",
        "pylock.toml: 1 update held back: a `pylock.toml` records one resolution with every file's hash, so it is re-locked from its input (`repin lock requirements.in -o pylock.toml --python 3.11`), never edited line by line",
    ] {
        assert!(said.contains(expected), "{expected}\n{said}");
    }
    let (stdout, stderr, _) = repin_in(root, home, index, &["apply", "--no-cache", "."]);
    assert!(
        std::fs::read_to_string(root.join("pylock.toml"))
            .unwrap()
            .contains("version = \"1.0\""),
        "{stdout}{stderr}"
    );
}

/// Opt-in, live PyPI (JSON pages, with sizes and upload times): repin's `pylock.toml` of a
/// small input lists the same packages and files as uv's, each with the same sha256, size and
/// upload time. Ignored, so runs list it as skipped, never as passed; run it with
/// `cargo nextest run --run-ignored only live_pypi`.
#[test]
#[ignore = "needs the internet: cargo nextest run --run-ignored only live_pypi"]
fn live_pypi_pylock_lists_the_files_uv_lists() {
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    std::fs::create_dir(root.join(".git")).unwrap();
    std::fs::write(root.join("requirements.in"), "markupsafe\nsix\n").unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = crate::support::repin_in(
        root,
        home.path(),
        &[
            "lock",
            "requirements.in",
            "-o",
            "pylock.toml",
            "--python",
            "3.11",
        ],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tools = crate::support::tools::Tools::new();
    // uv trusts its own roots only: this machine's certificate authorities, when it names
    // them, are passed on, as a user's shell would.
    let certificates = std::env::var("SSL_CERT_FILE").unwrap_or_default();
    let env: Vec<(&str, &str)> = if certificates.is_empty() {
        Vec::new()
    } else {
        vec![("SSL_CERT_FILE", certificates.as_str())]
    };
    uv_pylock(
        &tools,
        root,
        "requirements.in",
        "x86_64-manylinux_2_40",
        None,
        &env,
    );
    let described = |name: &str| {
        crate::support::lock_oracles::python_lines(
            r#"
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    lock = tomllib.load(f)
for package in lock["packages"]:
    files = ([package["sdist"]] if "sdist" in package else []) + package.get("wheels", [])
    for f in sorted(files, key=lambda f: f["url"]):
        print(package["name"], package["version"], f["url"].rsplit("/", 1)[1],
              f["hashes"]["sha256"], f.get("size"), f.get("upload-time"))
"#,
            &[root.join(name).as_os_str()],
        )
    };
    let ours = described("pylock.toml");
    assert!(
        ours.len() >= 3 && ours.iter().all(|l| !l.ends_with("None")),
        "{ours:#?}"
    );
    assert_eq!(ours, described("pylock.uv.toml"));
}
