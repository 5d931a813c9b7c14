//! `repin lock` against an oracle: `uv pip compile --generate-hashes` (PyPI package `uv`) on
//! the same inputs, the same local pypiserver and the same exact Python (3.11.7). Both must
//! choose the same pins with the same hashes, and write the same entries where the formats
//! agree (uv strips extras from entry lines; the headers differ).
//!
//! The index is written here: wheels and sdists with extras, markers, `Requires-Python`,
//! pre-releases, a dependency cycle, an unknown extra, constraints and a conflict that forces
//! backtracking through an extra (the shape of `celery[redis]` over `kombu[redis]`).

use crate::support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use support::pypiserver::{Meta, PypiServer, write_sdist_with, write_wheel_with};

/// The exact Python both tools lock for.
const PYTHON: &str = "3.11.7";

/// `uv` on PATH, or fail saying how to install it: this comparison must not pass unrun.
fn uv() -> String {
    let found = Command::new("uv")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "uv, the oracle of the lock tests, is not on PATH: install it with \
         `python3 -m pip install uv==0.13.9`"
    );
    "uv".into()
}

/// One release: a wheel always, an sdist too when asked.
fn publish(dir: &Path, name: &str, version: &str, meta: Meta, sdist: bool) {
    write_wheel_with(dir, name, version, &meta);
    if sdist {
        write_sdist_with(
            dir,
            name,
            version,
            &Meta {
                metadata_version: Some("2.2"),
                ..meta
            },
        );
    }
}

fn deps<'a>(requires_dist: &'a [&'a str]) -> Meta<'a> {
    Meta {
        requires_dist,
        ..Meta::default()
    }
}

/// A wheel whose `METADATA` is written here in full: a multi-line `License:` whose paragraphs
/// are separated by whitespace-only continuation lines, then the `Requires-Dist` lines (the
/// shape of matplotlib's, polars' and jupyterlab's), then a body.
fn wheel_with_license(dir: &Path, name: &str, version: &str, requires: &[&str]) {
    use std::io::Write;
    let mut text = format!(
        "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nLicense: First paragraph\n         of the terms.\n         \n         Second paragraph.\n         \nRequires-Python: >=3.9\n"
    );
    for line in requires {
        text.push_str(&format!("Requires-Dist: {line}\n"));
    }
    text.push_str("Description-Content-Type: text/markdown\n\n# The description\n\nRequires-Dist: body-text\n");
    let path = dir.join(format!("{name}-{version}-py3-none-any.whl"));
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file(format!("{name}-{version}.dist-info/METADATA"), options)
        .unwrap();
    zip.write_all(text.as_bytes()).unwrap();
    zip.start_file(format!("{name}-{version}.dist-info/RECORD"), options)
        .unwrap();
    zip.finish().unwrap();
}

/// The index every input locks against.
fn index(dir: &Path) {
    wheel_with_license(
        dir,
        "plotkit",
        "3.11.2",
        &["escapes>=2", "sigs>=1.7", "yin"],
    );
    // A web stack: extras on several packages, markers, Requires-Python.
    publish(
        dir,
        "webfw",
        "2.3.0",
        deps(&["wsgitool>=2.3", "templ>=3.1"]),
        true,
    );
    publish(
        dir,
        "webfw",
        "3.0.3",
        Meta {
            requires_python: Some(">=3.8"),
            provides_extra: &["async", "dotenv"],
            requires_dist: &[
                "wsgitool>=3.0",
                "templ>=3.1.2",
                "sigs>=1.6",
                "wincolor; sys_platform == \"win32\"",
                "oldcompat>=3.6; python_version < \"3.10\"",
                "asynclib>=3.2; extra == \"async\"",
                "dotenvlib; extra == \"dotenv\"",
            ],
            ..Meta::default()
        },
        true,
    );
    publish(
        dir,
        "webfw",
        "3.1.0",
        Meta {
            requires_python: Some(">=3.12"),
            requires_dist: &["wsgitool>=3.1"],
            ..Meta::default()
        },
        false,
    );
    for version in ["2.3.8", "3.0.1", "3.0.2"] {
        publish(dir, "wsgitool", version, deps(&["escapes>=2.1.1"]), true);
    }
    publish(
        dir,
        "wsgitool",
        "3.1.0rc1",
        deps(&["escapes>=2.1.1"]),
        false,
    );
    publish(
        dir,
        "templ",
        "3.1.4",
        Meta {
            provides_extra: &["i18n"],
            requires_dist: &["escapes>=2.0", "locales>=2.7; extra == \"i18n\""],
            ..Meta::default()
        },
        true,
    );
    publish(dir, "escapes", "2.1.5", Meta::default(), true);
    publish(
        dir,
        "escapes",
        "3.0.0",
        Meta {
            requires_python: Some(">=3.12"),
            ..Meta::default()
        },
        true,
    );
    publish(dir, "sigs", "1.7.0", Meta::default(), false);
    publish(dir, "sigs", "1.8.0", Meta::default(), false);
    publish(dir, "asynclib", "3.8.1", Meta::default(), true);
    publish(dir, "dotenvlib", "1.0.1", Meta::default(), false);
    publish(dir, "locales", "2.15.0", Meta::default(), false);
    publish(dir, "wincolor", "0.4.6", Meta::default(), false);
    publish(dir, "oldcompat", "7.0.0", Meta::default(), false);
    publish(
        dir,
        "httpkit",
        "2.32.3",
        Meta {
            provides_extra: &["socks"],
            requires_dist: &[
                "urlpool<3,>=1.21.1",
                "idnakit<4,>=2.5",
                "pysocks; extra == \"socks\"",
            ],
            ..Meta::default()
        },
        true,
    );
    publish(dir, "urlpool", "1.26.20", Meta::default(), true);
    publish(dir, "urlpool", "2.2.3", Meta::default(), true);
    publish(dir, "idnakit", "3.10", Meta::default(), true);
    publish(dir, "pysocks", "1.7.1", Meta::default(), false);

    // A task queue whose newest release needs a broker whose `redis` extra conflicts with the
    // input's redis client: the resolver must backtrack through the extra.
    for (version, broker) in [
        ("5.3.0", "broker[redis]>=5.3"),
        ("5.4.0", "broker[redis]>=5.4"),
    ] {
        publish(
            dir,
            "taskq",
            version,
            Meta {
                provides_extra: &["redis"],
                requires_dist: &[
                    "vine>=5.1",
                    "broker>=5.3",
                    &format!("{broker}; extra == \"redis\""),
                ],
                ..Meta::default()
            },
            true,
        );
    }
    for (version, redis) in [
        ("5.3.4", "redisclient!=4.5.5,<6.0.0,>=4.5.2"),
        ("5.4.2", "redisclient<5.3,>=5.2"),
        ("5.5.0", "redisclient<5.3,>=5.2"),
    ] {
        publish(
            dir,
            "broker",
            version,
            Meta {
                provides_extra: &["redis"],
                requires_dist: &["vine>=5.1", &format!("{redis}; extra == \"redis\"")],
                ..Meta::default()
            },
            true,
        );
    }
    for version in ["4.5.5", "5.0.8", "5.2.1", "5.3.0"] {
        publish(dir, "redisclient", version, Meta::default(), true);
    }
    publish(dir, "vine", "5.1.0", Meta::default(), true);

    // A cycle: each depends on the other.
    publish(dir, "yin", "1.0", deps(&["yang>=1"]), false);
    publish(dir, "yang", "1.0", deps(&["yin"]), false);
    publish(dir, "yang", "1.1", deps(&["yin>=1"]), false);
}

/// Files written beside an input: (name, text).
type Files = &'static [(&'static str, &'static str)];

/// The inputs: (file name, text, constraint files).
const INPUTS: &[(&str, &str, Files)] = &[
    (
        "web.in",
        "webfw[async,dotenv]\ntempl[i18n]\nhttpkit[socks]\nplotkit\n",
        &[],
    ),
    (
        "constrained.in",
        "-c constraints.txt\nwebfw\nhttpkit\n",
        &[(
            "constraints.txt",
            "wsgitool<3.0.2\nurlpool<2\nunused-pkg==1.0\n",
        )],
    ),
    ("backtrack.in", "taskq[redis]\nredisclient>=5.3\n", &[]),
    (
        "misc.in",
        "yin\nhttpkit[nonexistent]\nwsgitool==3.0.1\n",
        &[],
    ),
];

/// Each entry of a lock: `name==version` (extras removed) to its lines (the pin line without
/// extras, the hashes, the `# via` block), in order.
fn entries(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() || line.starts_with('-') {
            current = None;
            continue;
        }
        if !line.starts_with(' ') {
            let (name, rest) = line.split_once("==").expect("an entry is a pin");
            let name = name.split('[').next().unwrap().to_lowercase();
            let pin = format!("{name}=={}", rest.split([' ', '\\']).next().unwrap());
            let written = format!("{name}=={rest}");
            out.insert(pin.clone(), vec![written]);
            current = Some(pin);
        } else if let Some(pin) = &current {
            out.get_mut(pin).unwrap().push(line.to_owned());
        }
    }
    out
}

/// `name==version` to sorted hashes.
fn pins_and_hashes(entries: &BTreeMap<String, Vec<String>>) -> BTreeMap<String, Vec<String>> {
    entries
        .iter()
        .map(|(pin, lines)| {
            let mut hashes: Vec<String> = lines
                .iter()
                .filter_map(|l| l.trim().strip_prefix("--hash="))
                .map(|h| h.trim_end_matches(" \\").to_owned())
                .collect();
            hashes.sort();
            (pin.clone(), hashes)
        })
        .collect()
}

fn run(command: &mut Command) -> Output {
    command.output().expect("the command runs")
}

#[test]
fn repin_locks_what_uv_locks() {
    let uv = uv();
    let packages = tempfile::tempdir().unwrap();
    index(packages.path());
    let server = PypiServer::start(packages.path());
    let index_url = server.index_url().to_string();
    let work = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    for (file, text, constraints) in INPUTS {
        std::fs::write(work.path().join(file), text).unwrap();
        for (name, text) in *constraints {
            std::fs::write(work.path().join(name), text).unwrap();
        }
        let stem = file.trim_end_matches(".in");
        let repin_out = format!("{stem}.repin.txt");
        let uv_out = format!("{stem}.uv.txt");
        let repin = run(Command::new(env!("CARGO_BIN_EXE_repin"))
            .args(["lock", file, "-o", &repin_out, "--python", PYTHON])
            .current_dir(work.path())
            .env_clear()
            .env("HOME", home.path())
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("PIP_CONFIG_FILE", "/dev/null")
            .env("PIP_INDEX_URL", &index_url));
        let repin_err = String::from_utf8_lossy(&repin.stderr).into_owned();
        assert!(repin.status.success(), "repin on {file}: {repin_err}");
        let uv_run = run(Command::new(&uv)
            .args([
                "pip",
                "compile",
                file,
                "--generate-hashes",
                "--no-config",
                "--no-cache",
            ])
            .args([
                "--python-version",
                PYTHON,
                "--index-url",
                &index_url,
                "-o",
                &uv_out,
            ])
            .current_dir(work.path())
            .env_clear()
            .env("HOME", home.path())
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("UV_PYTHON_DOWNLOADS", "never"));
        let uv_err = String::from_utf8_lossy(&uv_run.stderr).into_owned();
        assert!(uv_run.status.success(), "uv on {file}: {uv_err}");

        let ours = entries(&std::fs::read_to_string(work.path().join(&repin_out)).unwrap());
        let theirs = entries(&std::fs::read_to_string(work.path().join(&uv_out)).unwrap());
        assert!(!ours.is_empty(), "{file}: an empty lock");
        assert_eq!(
            pins_and_hashes(&ours),
            pins_and_hashes(&theirs),
            "{file}: pins and hashes differ from uv's"
        );
        // Where the formats agree (every entry, extras aside), the bytes are uv's.
        assert_eq!(ours, theirs, "{file}: entries differ from uv's");
        // Both say the same about an extra that does not exist.
        let warned = "does not have an extra named `nonexistent`";
        assert_eq!(
            repin_err.contains(warned),
            uv_err.contains(warned),
            "{file}:\nrepin: {repin_err}\nuv: {uv_err}"
        );
        if file == &"misc.in" {
            assert!(repin_err.contains(warned), "{repin_err}");
        }
    }
}
