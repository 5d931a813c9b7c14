//! The `uv.lock` reader on fixtures written for these tests from uv's documented format.

use std::path::Path;

use super::*;
use crate::manifest::check;
use crate::text::Encoding;

/// A lock of a project `shop` (editable) with a registry package in two versions (a fork by
/// Python version), a git, a URL, a path and a directory package, and a virtual member.
const LOCK: &str = r#"version = 1
revision = 2
requires-python = ">=3.10"
resolution-markers = [
    "python_full_version >= '3.12'",
    "python_full_version < '3.12'",
]

[options]
exclude-newer = "2025-01-01T00:00:00Z"

[manifest]
members = ["shop", "Shop-Tools"]

[[package]]
name = "Anyio"
version = "4.4.0"
source = { registry = "https://example.org/simple" }
dependencies = [
    { name = "idna" },
    { name = "sniffio", marker = "python_full_version < '3.12'" },
]
sdist = { url = "https://example.org/files/anyio-4.4.0.tar.gz", hash = "sha256:aaaa", size = 163930 }
wheels = [
    { url = "https://example.org/files/anyio-4.4.0-py3-none-any.whl", hash = "sha256:bbbb", size = 86793 },
]

[[package]]
name = "idna"
version = "3.6"
source = { registry = "https://example.org/simple" }
resolution-markers = ["python_full_version >= '3.12'"]
wheels = [{ url = "https://example.org/files/idna-3.6-py3-none-any.whl", hash = "sha256:cccc" }]

[[package]]
name = "idna"
version = "3.4"
source = { registry = "https://example.org/simple" }
resolution-markers = ["python_full_version < '3.12'"]

[[package]]
name = "shop"
version = "0.1.0"
source = { editable = "." }
dependencies = [{ name = "anyio" }, { name = "tool-from-git" }]

[package.optional-dependencies]
fast = [{ name = "uvloop" }]

[package.dev-dependencies]
dev = [{ name = "pytest" }]

[package.metadata]
requires-dist = [{ name = "anyio", specifier = ">=4" }]

[[package]]
name = "shop-tools"
version = "0.2.0"
source = { virtual = "tools" }

[[package]]
name = "tool-from-git"
version = "1.0.0"
source = { git = "https://example.org/tool.git?rev=main#0123456789abcdef" }

[[package]]
name = "archive"
version = "2.0"
source = { url = "https://example.org/archive-2.0.tar.gz" }
sdist = { hash = "sha256:dddd" }

[[package]]
name = "wheelhouse"
version = "1.1"
source = { path = "wheels/wheelhouse-1.1-py3-none-any.whl" }
wheels = [{ filename = "wheelhouse-1.1-py3-none-any.whl", hash = "sha256:eeee" }]

[[package]]
name = "vendored"
source = { directory = "vendor/vendored" }
"#;

fn parse_text(text: &str) -> Manifest {
    parse(SourceFile::from_text(
        Path::new("uv.lock"),
        Encoding::Utf8,
        text.to_owned(),
    ))
}

fn file(manifest: &Manifest) -> &UvLockFile {
    match &manifest.details {
        ManifestDetails::UvLock(file) => file,
        other => panic!("not a uv.lock: {other:?}"),
    }
}

/// `name current skip` for every dependency.
fn listing(manifest: &Manifest) -> Vec<String> {
    manifest
        .dependencies
        .iter()
        .map(|d| {
            format!(
                "{} {} {}",
                d.name,
                d.current,
                d.skip_reason.map_or("-", SkipReason::as_str)
            )
        })
        .collect()
}

#[test]
fn every_package_is_a_pinned_dependency_and_only_registry_ones_are_looked_up() {
    let m = parse_text(LOCK);
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    assert_eq!(m.kind, ManifestKind::UvLock);
    assert_eq!(
        listing(&m),
        [
            "anyio 4.4.0 -",
            "idna 3.6 -",
            "idna 3.4 -",
            "shop 0.1.0 editable",
            "shop-tools 0.2.0 workspace-member",
            "tool-from-git 1.0.0 vcs-requirement",
            "archive 2.0 url-requirement",
            "wheelhouse 1.1 local-path",
            "vendored  local-path",
        ]
    );
    let anyio = m.dependencies[0].python().unwrap();
    assert_eq!(anyio.written_name, "Anyio");
    assert_eq!(
        anyio.pinned_version().map(ToString::to_string).as_deref(),
        Some("4.4.0")
    );
    // Looked up on the registry it was locked from.
    assert_eq!(
        anyio.index.index_url.as_deref(),
        Some("https://example.org/simple")
    );
    // The place of a dependency is its version.
    let at = m.source.position(m.dependencies[1].span.start);
    assert_eq!((at.line, at.column), (30, 12));
    check::spans_are_consistent(&m).unwrap();
}

#[test]
fn the_whole_file_is_read() {
    let m = parse_text(LOCK);
    let f = file(&m);
    assert_eq!(f.version, Some(1));
    assert_eq!(f.revision, Some(2));
    assert_eq!(f.requires_python.as_deref(), Some(">=3.10"));
    assert_eq!(f.resolution_markers.len(), 2);
    assert_eq!(f.members, ["shop", "shop-tools"]);
    assert_eq!(f.main_registry(), Some("https://example.org/simple"));
    let anyio = &f.packages[0];
    assert_eq!(anyio.dependencies, ["idna", "sniffio"]);
    assert_eq!(
        anyio.files,
        [
            LockedFile {
                sdist: true,
                location: Some("https://example.org/files/anyio-4.4.0.tar.gz".into()),
                hash: Some("sha256:aaaa".into()),
                size: Some(163_930),
            },
            LockedFile {
                sdist: false,
                location: Some("https://example.org/files/anyio-4.4.0-py3-none-any.whl".into()),
                hash: Some("sha256:bbbb".into()),
                size: Some(86_793),
            },
        ]
    );
    let shop = &f.packages[3];
    assert_eq!(shop.source, Some(PackageSource::Editable(".".into())));
    assert_eq!(shop.optional_dependencies["fast"], ["uvloop"]);
    assert_eq!(shop.dev_dependencies["dev"], ["pytest"]);
    assert_eq!(
        f.packages[5].source,
        Some(PackageSource::Git(
            "https://example.org/tool.git?rev=main#0123456789abcdef".into()
        ))
    );
    assert_eq!(f.packages[8].version, None);
    assert_eq!(f.pins().len(), 9);
}

#[test]
fn a_bad_package_entry_is_a_diagnostic_and_the_others_are_read() {
    let text = LOCK
        .replace("version = \"3.6\"", "version = 36")
        .replace("name = \"archive\"\n", "")
        .replace("version = \"4.4.0\"", "version = \"four\"");
    let m = parse_text(&text);
    let messages: Vec<String> = m
        .diagnostics
        .iter()
        .map(|d| format!("{}:{} {}", d.line, d.column, d.message.as_str()))
        .collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(
        messages[0].starts_with("17:12 The version of `anyio` is not a PEP 440 version"),
        "{messages:?}"
    );
    assert_eq!(
        messages[1],
        "30:11 Expected the version of `idna` to be a string"
    );
    assert_eq!(messages[2], "67:11 A `[[package]]` entry has no `name`");
    assert_eq!(m.dependencies.len(), 6);
    assert!(m.has_errors());
}

#[test]
fn malformed_toml_is_an_error_with_its_place() {
    let m = parse_text("version = 1\n[[package]\nname = \"x\"\n");
    assert_eq!(m.dependencies.len(), 0);
    let d = &m.diagnostics[0];
    assert!(d.is_error());
    assert_eq!((d.line, d.message.as_str()), (2, "Not valid TOML"));
    // Not a lock at all: said so.
    let m = parse_text("[tool.poetry]\n");
    assert_eq!(
        m.diagnostics[0].message,
        "Not a `uv.lock`: it has no `version`"
    );
    // An unknown format version is read, with a warning.
    let m = parse_text(&LOCK.replacen("version = 1", "version = 2", 1));
    assert_eq!(m.dependencies.len(), 9);
    assert!(!m.has_errors());
    assert!(m.diagnostics[0].message.contains("format version 2"));
}

#[test]
fn a_registry_package_without_version_or_source_is_refused() {
    let m = parse_text(
        "version = 1\n[[package]]\nname = \"a\"\nsource = { registry = \"https://x/simple\" }\n\n[[package]]\nname = \"b\"\nversion = \"1.0\"\n\n[[package]]\nname = \"c\"\nversion = \"1.0\"\nsource = { svn = \"x\" }\n",
    );
    let messages: Vec<&str> = m.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "`a` comes from a registry but has no `version`",
            "`b` has no `source`",
            "The source of `c` is not one repin knows (uv's are `registry`, `git`, `path`, `directory`, `editable`, `virtual` and `url`)",
        ]
    );
}

#[test]
fn an_escaped_version_is_listed_but_not_given_a_place_inside_it() {
    let m = parse_text(
        "version = 1\n[[package]]\nname = \"a\"\nversion = \"1.\\u0030\"\nsource = { registry = \"https://x/simple\" }\n",
    );
    assert_eq!(listing(&m), ["a \"1.\\u0030\" escaped-string"]);
    assert_eq!(
        m.dependencies[0]
            .python()
            .and_then(|p| p.pinned_version())
            .map(ToString::to_string)
            .as_deref(),
        Some("1.0")
    );
    check::spans_are_consistent(&m).unwrap();
}

#[test]
fn the_lock_round_trips_and_is_never_edited_line_by_line() {
    for text in [LOCK.to_owned(), LOCK.replace('\n', "\r\n")] {
        let m = parse_text(&text);
        assert_eq!(m.source.text(), text);
        assert_eq!(listing(&m).len(), 9);
        check::spans_are_consistent(&m).unwrap();
        let error = crate::manifest::edit::edit(
            &m,
            &[crate::manifest::edit::Request {
                index: 0,
                change: crate::manifest::edit::Change::PythonVersion {
                    version: "4.5.0".into(),
                    hashes: None,
                },
            }],
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "uv.lock:17:12: Cannot change `anyio`: `uv.lock` is re-locked by uv, never edited line by line"
        );
        check::edit_verifies_or_is_refused(&m, 0).unwrap();
    }
}

#[test]
fn a_relock_is_verified_by_reading_the_new_lock_back() {
    use crate::manifest::edit::{Change, Relock, Request, edit, read_pins};
    let m = parse_text(LOCK);
    let new = LOCK.replace("4.4.0", "4.5.0");
    let pins = read_pins(&parse_text(&new));
    let relock = |text: &str, pins: Vec<(String, String)>| Request {
        index: 0,
        change: Change::Relock(Box::new(Relock {
            text: text.to_owned(),
            moved: Vec::new(),
            pins,
            update_kind: None,
        })),
    };
    let edited = edit(&m, &[relock(&new, pins.clone())]).unwrap();
    assert_eq!(edited.manifest.source.text(), new);
    // Text that does not read back as the pins it claims is refused.
    assert!(edit(&m, &[relock(LOCK, pins.clone())]).is_err());
    // So is text that is not a lock.
    assert!(edit(&m, &[relock("[tool]\n", Vec::new())]).is_err());
}

#[test]
fn discovery_finds_uv_lock() {
    assert_eq!(
        crate::manifest::discover::classify(Path::new("svc/uv.lock")),
        Some(ManifestKind::UvLock)
    );
}

#[test]
fn an_escaped_name_is_read_without_a_place_inside_it_and_an_invalid_one_is_refused() {
    // Found by the `uv_lock` fuzz target: a name whose bytes are not its text claimed the
    // quoted value's span as the name's.
    let m = parse_text(
        "version = 1\n[[package]]\nname = \"cert\\u0069fi\"\nversion = \"1.0\"\nsource = { registry = \"https://x/simple\" }\n\n[[package]]\nname = \"id\\\\na\"\nversion = \"1.0\"\nsource = { registry = \"https://x/simple\" }\n",
    );
    assert_eq!(listing(&m), ["certifi 1.0 -"]);
    let certifi = m.dependencies[0].python().unwrap();
    assert!(certifi.name_span.is_empty());
    assert_eq!(
        m.source.position(certifi.name_span.start).to_string(),
        "3:8"
    );
    let messages: Vec<String> = m
        .diagnostics
        .iter()
        .map(|d| format!("{}:{} {}", d.line, d.column, d.message.as_str()))
        .collect();
    assert_eq!(messages, ["8:8 Invalid package name `id\\na`"]);
    check::spans_are_consistent(&m).unwrap();
}
