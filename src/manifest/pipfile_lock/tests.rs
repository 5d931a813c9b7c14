//! The `Pipfile.lock` reader on fixtures written in the layout Pipenv writes (pipfile-spec 6).

use std::path::Path;

use super::*;
use crate::manifest::check;
use crate::text::Encoding;

/// Two sources, packages from each, every kind of entry Pipenv writes that is not from an
/// index, a custom category, an escaped version and malformed entries.
const LOCK: &str = r#"{
    "_meta": {
        "hash": {
            "sha256": "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
        },
        "pipfile-spec": 6,
        "requires": {
            "python_version": "3.11"
        },
        "sources": [
            {
                "name": "pypi",
                "url": "https://pypi.org/simple",
                "verify_ssl": true
            },
            {
                "name": "private",
                "url": "http://example.org:8080/simple",
                "verify_ssl": false
            }
        ]
    },
    "default": {
        "Certifi": {
            "hashes": [
                "sha256:aaaa",
                "sha256:bbbb"
            ],
            "index": "pypi",
            "markers": "python_version >= '3.6'",
            "version": "==2024.2.2"
        },
        "internal": {
            "hashes": [],
            "index": "private",
            "version": "==1.0"
        },
        "mylib": {
            "editable": true,
            "git": "https://example.org/mylib.git",
            "ref": "abc"
        },
        "localpkg": {
            "editable": true,
            "path": "./libs/local"
        },
        "remote": {
            "file": "https://example.org/remote-2.0.tar.gz"
        },
        "escaped": {
            "version": "==1.\u0030"
        },
        "unversioned": {
            "hashes": []
        },
        "ranged": {
            "version": ">=1"
        }
    },
    "develop": {
        "pytest": {
            "version": "==8.0.0"
        }
    },
    "docs": {
        "sphinx": {
            "version": "==7.2.6"
        }
    }
}
"#;

fn parse_text(text: &str) -> Manifest {
    parse(SourceFile::from_text(
        Path::new("Pipfile.lock"),
        Encoding::Utf8,
        text.to_owned(),
    ))
}

fn listing(m: &Manifest) -> Vec<String> {
    m.dependencies
        .iter()
        .map(|d| {
            let place = m.source.position(d.span.start);
            format!(
                "{} {} {}:{} {}",
                d.name,
                d.current,
                place.line,
                place.column,
                d.skip_reason
                    .as_ref()
                    .map_or("-".to_owned(), |s| format!("{s:?}"))
            )
        })
        .collect()
}

#[test]
fn every_locked_package_is_a_pin_and_the_others_say_why() {
    let m = parse_text(LOCK);
    assert_eq!(
        listing(&m),
        [
            "certifi 2024.2.2 31:27 -",
            "internal 1.0 36:27 -",
            "mylib  38:10 VcsRequirement",
            "localpkg  43:10 Editable",
            "remote  47:10 UrlRequirement",
            "escaped \"==1.\\u0030\" 51:24 EscapedString",
            "pytest 8.0.0 62:27 -",
            "sphinx 7.2.6 67:27 -",
        ]
    );
    let ManifestDetails::PipfileLock(file) = &m.details else {
        panic!("not a Pipfile.lock");
    };
    assert_eq!(file.pipfile_hash.as_deref(), Some(&"f".repeat(64)[..]));
    assert_eq!(file.python.as_ref().map(|(v, _)| v.as_str()), Some("3.11"));
    assert_eq!(file.packages[0].hashes, 2);
    assert_eq!(file.packages[0].category, "default");
    assert_eq!(file.packages[6].category, "develop");
    assert_eq!(
        file.packages[0].markers.as_deref(),
        Some("python_version >= '3.6'")
    );
    // Each package is looked up on the source its `index` names; the first by default.
    let index = |i: usize| m.dependencies[i].python().unwrap().index.clone();
    assert_eq!(
        index(0).index_url.as_deref(),
        Some("https://pypi.org/simple")
    );
    assert_eq!(
        index(1).index_url.as_deref(),
        Some("http://example.org:8080/simple")
    );
    assert_eq!(index(1).trusted_hosts, ["example.org:8080"]);
    assert_eq!(
        index(6).index_url.as_deref(),
        Some("https://pypi.org/simple")
    );
    let errors: Vec<String> = m
        .diagnostics
        .iter()
        .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
        .collect();
    assert_eq!(
        errors,
        [
            "53:10: `unversioned` has no `version`",
            "57:24: Expected the version of `ranged` to be `==` a version, not `>=1`",
        ]
    );
    assert_eq!(
        crate::target::pipenv_requires(&m).map(|(v, line)| (v.to_string(), line)),
        Some(("3.11".to_owned(), 8))
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
                    version: "2024.8.30".into(),
                    hashes: None,
                },
            }],
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "Pipfile.lock:31:27: Cannot change `certifi`: `Pipfile.lock` is re-locked by Pipenv, never edited line by line"
        );
        check::edit_verifies_or_is_refused(&m, 0).unwrap();
    }
}

#[test]
fn what_is_not_a_lock_is_a_diagnostic() {
    for (text, message) in [
        ("[]", "Not a `Pipfile.lock`: it is not a JSON object"),
        (
            "{\"default\": {}}",
            "Not a `Pipfile.lock`: it has no `_meta`",
        ),
        (
            "{\"_meta\": {}, \"default\": []}",
            "Expected `default` to be an object of packages",
        ),
        ("{\"_meta\": {", "Not valid JSON"),
        ("{\"_meta\": {}} x", "Not valid JSON"),
    ] {
        let m = parse_text(text);
        assert!(m.dependencies.is_empty(), "{text}");
        assert_eq!(m.diagnostics[0].message, message, "{text}");
    }
}

#[test]
fn json_nesting_and_escapes_are_bounded_and_decoded() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let error = json::parse(&deep).unwrap_err();
    assert_eq!(error.message, "The JSON nests deeper than 64 levels");
    assert_eq!(error.span.start, 64);
    let node =
        json::parse(r#"{"a": "x\u00e9\ud83d\ude00\n", "b": [1, -2.5e3, true, null], "a": "y"}"#)
            .unwrap();
    assert_eq!(node.get("a").and_then(json::Node::as_str), Some("y"));
    let json::Json::Object(members) = &node.value else {
        panic!("not an object");
    };
    assert_eq!(members[0].2.as_str(), Some("xé😀\n"));
    assert_eq!(members[0].2.text_span(), None);
    for bad in [
        "\"\\x\"",
        "\"\\ud800\\u0041\"",
        "\"a\nb\"",
        "[1,]",
        "{\"a\" 1}",
        "é",
    ] {
        assert!(json::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn discovery_finds_pipfile_lock() {
    use crate::manifest::discover::classify;
    assert_eq!(
        classify(Path::new("svc/Pipfile.lock")),
        Some(ManifestKind::PipfileLock)
    );
    assert_eq!(classify(Path::new("svc/pipfile.lock")), None);
}

#[test]
fn every_prefix_of_the_fixture_reads_back_and_is_never_edited() {
    // A cut file is what a hostile or half-written one looks like: no panic, the bytes read
    // back, spans hold, and no edit is accepted.
    for end in (0..=LOCK.len()).filter(|&e| LOCK.is_char_boundary(e)) {
        let mut data = vec![0u8];
        data.extend_from_slice(&LOCK.as_bytes()[..end]);
        check::fuzz_input("Pipfile.lock", ManifestKind::PipfileLock, &data)
            .unwrap_or_else(|e| panic!("cut at {end}: {e}"));
    }
}
