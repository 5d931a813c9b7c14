use super::*;
use crate::manifest::{ManifestKind, parse};
use crate::text::{Encoding, SourceFile};

const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

fn manifest(kind: ManifestKind, text: &str) -> Manifest {
    let name = if kind == ManifestKind::Dockerfile {
        "Dockerfile"
    } else {
        "requirements.txt"
    };
    parse(
        SourceFile::from_text(name, Encoding::Utf8, text.to_owned()),
        kind,
    )
}

fn edited(kind: ManifestKind, text: &str, requests: &[Request]) -> String {
    let m = manifest(kind, text);
    match edit(&m, requests) {
        Ok(e) => e.manifest.source.text().to_owned(),
        Err(e) => panic!("{e}"),
    }
}

fn version(index: usize, v: &str, hashes: Option<&[&str]>) -> Request {
    Request {
        index,
        change: Change::PythonVersion {
            version: v.into(),
            hashes: hashes.map(|h| h.iter().map(|s| (*s).to_owned()).collect()),
        },
    }
}

fn image(index: usize, tag: Option<&str>, digest: Option<&str>) -> Request {
    Request {
        index,
        change: Change::Image {
            tag: tag.map(Into::into),
            digest: digest.map(Into::into),
        },
    }
}

#[test]
fn replaces_version_and_every_hash_keeping_layout_and_line_endings() {
    let text = "click==8.1.7 \\\r\n    --hash=sha256:aa \\\r\n    --hash=sha256:bb\r\n    # via flask\r\nflask==2.2.2\r\n";
    let out = edited(
        ManifestKind::Requirements,
        text,
        &[version(
            0,
            "8.1.8",
            Some(&["sha256:cc", "sha256:dd", "sha256:ee"]),
        )],
    );
    assert_eq!(
        out,
        "click==8.1.8 \\\r\n    --hash=sha256:cc \\\r\n    --hash=sha256:dd \\\r\n    --hash=sha256:ee\r\n    # via flask\r\nflask==2.2.2\r\n"
    );
}

#[test]
fn a_single_hash_grows_with_the_entry_separator_and_unhashed_pins_stay_unhashed() {
    let text = "idna==3.4 --hash sha256:aa\nsix==1.16.0\n";
    let out = edited(
        ManifestKind::Requirements,
        text,
        &[
            version(0, "3.7", Some(&["sha256:bb", "sha256:cc"])),
            version(1, "1.17.0", Some(&["sha256:dd"])),
        ],
    );
    assert_eq!(
        out,
        "idna==3.7 --hash sha256:bb --hash sha256:cc\nsix==1.17.0\n"
    );
}

#[test]
fn replaces_a_specifier() {
    let text = "yarl >= 1.17.0, < 2.0  # keep\n";
    let out = edited(
        ManifestKind::Requirements,
        text,
        &[Request {
            index: 0,
            change: Change::PythonSpecifier {
                specifier: ">= 1.17.0, < 3.0".into(),
                hashes: None,
            },
        }],
    );
    assert_eq!(out, "yarl >= 1.17.0, < 3.0  # keep\n");
}

#[test]
fn sets_tags_and_digests_in_place() {
    let text = format!(
        "FROM python:3.12-slim AS a\nFROM python@{D1}\nFROM python\nCOPY --from=ghcr.io/astral-sh/uv:0.4.0@{D1} /uv /bin/\n"
    );
    let out = edited(
        ManifestKind::Dockerfile,
        &text,
        &[
            image(0, Some("3.13-slim"), Some(D2)),
            image(1, None, Some(D2)),
            image(2, Some("3.12"), None),
            image(3, Some("0.4.1"), Some(D2)),
        ],
    );
    assert_eq!(
        out,
        format!(
            "FROM python:3.13-slim@{D2} AS a\nFROM python@{D2}\nFROM python:3.12\nCOPY --from=ghcr.io/astral-sh/uv:0.4.1@{D2} /uv /bin/\n"
        )
    );
}

#[test]
fn edits_go_into_the_arg_that_supplies_the_tag() {
    let text = "ARG PYTHON_VERSION=3.12\nFROM python:${PYTHON_VERSION}-slim AS build\nFROM python:${PYTHON_VERSION}-alpine\n";
    // Both stages move together: the same splice is merged.
    let out = edited(
        ManifestKind::Dockerfile,
        text,
        &[
            image(0, Some("3.13-slim"), None),
            image(1, Some("3.13-alpine"), None),
        ],
    );
    assert_eq!(
        out,
        "ARG PYTHON_VERSION=3.13\nFROM python:${PYTHON_VERSION}-slim AS build\nFROM python:${PYTHON_VERSION}-alpine\n"
    );
    // Only one asked: the other follows (it shares the ARG), and that is accepted.
    let one = edited(
        ManifestKind::Dockerfile,
        text,
        &[image(0, Some("3.13-slim"), None)],
    );
    assert!(one.starts_with("ARG PYTHON_VERSION=3.13\n"));
    // A digest goes after the tag, in the FROM line (the tag ends there).
    let pinned = edited(ManifestKind::Dockerfile, text, &[image(0, None, Some(D1))]);
    assert_eq!(
        pinned,
        format!(
            "ARG PYTHON_VERSION=3.12\nFROM python:${{PYTHON_VERSION}}-slim@{D1} AS build\nFROM python:${{PYTHON_VERSION}}-alpine\n"
        )
    );
    // Different targets for one ARG conflict.
    let m = manifest(ManifestKind::Dockerfile, text);
    let conflict = edit(
        &m,
        &[
            image(0, Some("3.13-slim"), None),
            image(1, Some("3.14-alpine"), None),
        ],
    )
    .unwrap_err();
    assert!(matches!(conflict, EditError::Conflict { .. }), "{conflict}");
    // A whole reference from an ARG: the tag changes in the ARG line, the digest (which
    // belongs to this image alone) follows the variable in the FROM line.
    let base = edited(
        ManifestKind::Dockerfile,
        "ARG BASE=python:3.12-slim\nFROM ${BASE}\n",
        &[image(0, Some("3.12.8-slim"), Some(D1))],
    );
    assert_eq!(
        base,
        format!("ARG BASE=python:3.12.8-slim\nFROM ${{BASE}}@{D1}\n")
    );
    // Pinning one of two images that share an ARG-supplied tag end leaves the other alone.
    let shared = "ARG V=ltsc2022\nFROM mcr.microsoft.com/windows/servercore:${V}\nFROM python:3.12-windowsservercore-${V}\n";
    let pinned = edited(
        ManifestKind::Dockerfile,
        shared,
        &[image(1, None, Some(D1))],
    );
    assert_eq!(
        pinned,
        format!(
            "ARG V=ltsc2022\nFROM mcr.microsoft.com/windows/servercore:${{V}}\nFROM python:3.12-windowsservercore-${{V}}@{D1}\n"
        )
    );
    // A shared ARG edit that would leave another image's digest pointing at the old tag is refused.
    let digested =
        format!("ARG PY=3.12\nFROM python:${{PY}}-slim\nFROM python:${{PY}}-alpine@{D1}\n");
    let m = manifest(ManifestKind::Dockerfile, &digested);
    let error = edit(&m, &[image(0, Some("3.13-slim"), None)]).unwrap_err();
    assert!(
        error.to_string().contains("although no change was asked"),
        "{error}"
    );
}

#[test]
fn refuses_what_it_cannot_do_safely_with_a_position() {
    let m = manifest(
        ManifestKind::Requirements,
        "flask==2.2.2\n-e ./core\nrequests>=2\n",
    );
    let cases = [
        (
            version(1, "1.0", None),
            "requirements.txt:2:4: Cannot change `./core`: it is an editable install",
        ),
        (
            version(2, "2.32.0", None),
            "requirements.txt:3:9: Cannot change `requests`: it is not pinned with `==`; set its specifier instead",
        ),
        (
            version(0, "3.1.3 # x", None),
            "requirements.txt:1:8: Cannot change `flask`: the new value `3.1.3 # x` is not a plain token",
        ),
        (
            image(0, Some("3"), None),
            "requirements.txt:1:8: Cannot change `flask`: the change does not fit this kind of dependency",
        ),
        (
            version(9, "1", None),
            "requirements.txt: No dependency number 9 (the file has 3)",
        ),
    ];
    for (request, expected) in cases {
        let error = edit(&m, &[request]).unwrap_err();
        assert_eq!(error.to_string(), expected);
    }
    let d = manifest(ManifestKind::Dockerfile, "FROM python:3.12\n");
    let bad = edit(&d, &[image(0, Some("3.13 AS x"), None)]).unwrap_err();
    assert!(bad.to_string().contains("is not a valid tag"), "{bad}");
    let split = manifest(
        ManifestKind::Dockerfile,
        "ARG A=3\nARG B=12\nFROM python:${A}.${B}\n",
    );
    let error = edit(&split, &[image(0, Some("4.0"), None)]).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("is assembled from several places"),
        "{error}"
    );
}

#[test]
fn keeps_utf16_and_bom() {
    let text = "aiohttp==3.8.4\r\n";
    let bytes = Encoding::Utf16Le.encode(text);
    let m = parse(
        SourceFile::from_bytes("r.txt", &bytes).unwrap(),
        ManifestKind::Requirements,
    );
    let out = edit(&m, &[version(0, "3.9.5", None)]).unwrap();
    assert_eq!(out.bytes(), Encoding::Utf16Le.encode("aiohttp==3.9.5\r\n"));
}

/// Issue 17: the `# syntax=` directive's image is edited where it is written, like a `FROM`.
#[test]
fn edits_the_syntax_directive_in_place() {
    let text = "# syntax = docker/dockerfile:1.4\r\nFROM python:3.12\r\n";
    let out = edited(
        ManifestKind::Dockerfile,
        text,
        &[image(0, Some("1.7"), None)],
    );
    assert_eq!(
        out,
        "# syntax = docker/dockerfile:1.7\r\nFROM python:3.12\r\n"
    );
    let out = edited(
        ManifestKind::Dockerfile,
        text,
        &[image(0, Some("1.7"), Some(D1))],
    );
    assert_eq!(
        out,
        format!("# syntax = docker/dockerfile:1.7@{D1}\r\nFROM python:3.12\r\n")
    );
    let pinned = format!("# syntax=docker/dockerfile:1.4@{D1}\nFROM python:3.12\n");
    let out = edited(
        ManifestKind::Dockerfile,
        &pinned,
        &[image(0, Some("1.7"), Some(D2))],
    );
    assert_eq!(
        out,
        format!("# syntax=docker/dockerfile:1.7@{D2}\nFROM python:3.12\n")
    );
}

/// Issue 17: a `pip install` pin from an `ARG` default is edited in the `ARG` line; when the
/// default feeds two pins, an edit of one alone is refused (the other would move too).
#[test]
fn edits_a_pip_pin_in_its_arg_default() {
    let text = "FROM python:3.12\nARG FLASK=3.0.0\nRUN pip install flask==${FLASK}\n";
    let out = edited(ManifestKind::Dockerfile, text, &[version(1, "3.1.2", None)]);
    assert_eq!(
        out,
        "FROM python:3.12\nARG FLASK=3.1.2\nRUN pip install flask==${FLASK}\n"
    );
    let shared = "FROM python:3.12\nARG V=1.0\nRUN pip install a==$V b==$V\n";
    let m = manifest(ManifestKind::Dockerfile, shared);
    let error = edit(&m, &[version(1, "1.1", None)]).unwrap_err();
    assert!(
        error.to_string().contains("although no change was asked"),
        "{error}"
    );
}
