//! The `pylock.toml` reader on fixtures written for these tests from PEP 751's format.

use std::path::Path;

use super::*;
use crate::manifest::check;
use crate::text::Encoding;

/// A lock with packages from an index (one naming its index, one with only wheels), a VCS
/// checkout, an editable directory, archives at a URL and a path, an escaped version and a
/// package naming nothing to install from.
const LOCK: &str = r#"lock-version = '1.0'
environments = ["sys_platform == 'linux'"]
requires-python = '>=3.10'
created-by = 'uv'

[[packages]]
name = 'Attrs'
version = '25.1.0'
index = 'https://example.org/simple'
requires-python = '>=3.8'
sdist = { name = 'attrs-25.1.0.tar.gz', url = 'https://example.org/files/attrs-25.1.0.tar.gz', size = 810562, hashes = { sha256 = 'aaaa' } }
wheels = [
    { name = 'attrs-25.1.0-py3-none-any.whl', url = 'https://example.org/files/attrs-25.1.0-py3-none-any.whl', size = 63152, hashes = { sha256 = 'bbbb' } },
]

[[packages]]
name = "numpy"
version = "2.2.3"
marker = "python_version >= '3.10'"

[[packages.wheels]]
name = "numpy-2.2.3-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
url = "https://example.org/files/numpy-2.2.3-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
hashes = { sha256 = "cccc" }

[[packages]]
name = 'tool'
version = '0.3.0'
vcs = { type = 'git', url = 'https://example.org/tool.git', commit-id = 'dddd' }

[[packages]]
name = 'shop'
directory = { path = '.', editable = true }

[[packages]]
name = 'vendored'
version = '1.0'
archive = { path = 'vendor/vendored-1.0.tar.gz', hashes = { sha256 = 'eeee' } }

[[packages]]
name = 'remote'
version = '2.0'
archive = { url = 'https://example.org/remote-2.0.tar.gz', hashes = { sha256 = 'ffff' } }

[[packages]]
name = 'escaped'
version = "1.\u0030"
wheels = [{ name = 'escaped-1.0-py3-none-any.whl', url = 'https://example.org/e.whl', hashes = { sha256 = '0000' } }]

[[packages]]
name = 'nothing'
version = '1.0'

[[packages]]
version = '1.0'
wheels = []
"#;

fn parse_text(text: &str) -> Manifest {
    parse(SourceFile::from_text(
        Path::new("pylock.toml"),
        Encoding::Utf8,
        text.to_owned(),
    ))
}

fn listing(m: &Manifest) -> Vec<String> {
    m.dependencies
        .iter()
        .map(|d| {
            format!(
                "{} {} {}",
                d.name,
                d.current,
                d.skip_reason
                    .as_ref()
                    .map_or("-".to_owned(), |s| format!("{s:?}"))
            )
        })
        .collect()
}

#[test]
fn every_package_is_a_pin_and_the_others_say_why() {
    let m = parse_text(LOCK);
    assert_eq!(
        listing(&m),
        [
            "attrs 25.1.0 -",
            "numpy 2.2.3 -",
            "tool 0.3.0 VcsRequirement",
            "shop  Editable",
            "vendored 1.0 LocalPath",
            "remote 2.0 UrlRequirement",
            "escaped \"1.\\u0030\" EscapedString",
        ]
    );
    let ManifestDetails::Pylock(file) = &m.details else {
        panic!("not a pylock");
    };
    assert_eq!(file.created_by.as_deref(), Some("uv"));
    assert_eq!(file.lock_version.as_deref(), Some("1.0"));
    assert_eq!(file.requires_python.as_deref(), Some(">=3.10"));
    assert_eq!(file.environments, ["sys_platform == 'linux'"]);
    assert_eq!(file.packages[0].files, (2, 2));
    assert_eq!(
        file.packages[1].marker.as_deref(),
        Some("python_version >= '3.10'")
    );
    // The entry naming its index is looked up there; the others on the configured indexes.
    let python = |i: usize| m.dependencies[i].python().unwrap().index.index_url.clone();
    assert_eq!(python(0).as_deref(), Some("https://example.org/simple"));
    assert_eq!(python(1), None);
    // Two entries are not packages, each an error of its own at its place.
    let errors: Vec<String> = m
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.line, d.message))
        .collect();
    assert_eq!(
        errors,
        [
            "51: `nothing` names nothing to install from (`wheels`, `sdist`, `vcs`, `directory` or `archive`)",
            "55: A `[[packages]]` entry has no `name`",
        ]
    );
    check::spans_are_consistent(&m).unwrap();
}

#[test]
fn the_lock_is_never_edited_line_by_line() {
    for text in [LOCK.to_owned(), LOCK.replace('\n', "\r\n")] {
        let m = parse_text(&text);
        assert_eq!(m.source.text(), text);
        check::spans_are_consistent(&m).unwrap();
        let error = crate::manifest::edit::edit(
            &m,
            &[crate::manifest::edit::Request {
                index: 0,
                change: crate::manifest::edit::Change::PythonVersion {
                    version: "25.2.0".into(),
                    hashes: None,
                },
            }],
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "pylock.toml:8:12: Cannot change `attrs`: `pylock.toml` is re-locked by the tool that wrote it, never edited line by line"
        );
        check::edit_verifies_or_is_refused(&m, 0).unwrap();
    }
}

#[test]
fn another_major_lock_version_is_refused_and_a_file_without_one_is_not_a_lock() {
    let m = parse_text(
        "lock-version = '2.0'\ncreated-by = 'future'\n[[packages]]\nname = 'a'\nversion = '1'\nwheels = []\n",
    );
    assert!(m.dependencies.is_empty());
    assert_eq!(
        m.diagnostics[0].message,
        "`pylock.toml` lock-version 2.0 is not one repin reads"
    );
    let m = parse_text("[[packages]]\nname = 'a'\n");
    assert!(m.dependencies.is_empty());
    assert_eq!(
        m.diagnostics[0].message,
        "Not a `pylock.toml`: it has no `lock-version`"
    );
    // Not TOML at all: one error, nothing read.
    let m = parse_text("lock-version = \n");
    assert!(m.dependencies.is_empty());
    assert!(m.has_errors());
}

#[test]
fn discovery_finds_pylock_files_and_only_those() {
    use crate::manifest::discover::classify;
    for (path, kind) in [
        ("pylock.toml", Some(ManifestKind::Pylock)),
        ("svc/pylock.dev.toml", Some(ManifestKind::Pylock)),
        ("pylock.a.b.toml", None),
        ("pylock..toml", None),
        ("my-pylock.toml", None),
    ] {
        assert_eq!(classify(Path::new(path)), kind, "{path}");
    }
}
