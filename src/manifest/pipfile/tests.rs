//! The `Pipfile` reader and its edits, on fixtures written from Pipenv's documentation of the
//! format (https://pipenv.pypa.io/en/latest/pipfile.html).

use std::path::Path;

use super::*;
use crate::manifest::check;
use crate::manifest::edit::{Change, Request, edit};
use crate::text::Encoding;

/// Two sources, every kind of entry, a custom category, and what Pipenv does not accept.
const PIPFILE: &str = r#"[[source]]
url = "https://pypi.org/simple"
verify_ssl = true
name = "pypi"

[[source]]
url = "http://${PRIVATE_USER}:${PRIVATE_TOKEN}@example.org:8080/simple"
verify_ssl = false
name = "private"

[packages]
requests = "*"
Flask = "==2.2.2"   # kept at the LTS line
django = {version = ">=4.0,<5", extras = ["Bcrypt"], markers = "python_version >= '3.8'"}
internal = {version = "==1.0", index = "private"}
"zope.interface" = "~=6.1"
"mylib" = {git = "https://example.org/mylib.git", ref = "main", editable = true}
localpkg = {path = "./libs/local", editable = true}
vendored = {path = "./vendor/vendored-1.0.tar.gz"}
remote = {file = "https://example.org/remote-2.0.tar.gz"}
escaped = "==1.\u0030"
fromenv = "==${FROMENV_VERSION}"

[dev-packages]
pytest = ">=7"

[docs]
sphinx = { version = "==7.2.6" }

[requires]
python_version = "3.11"

[scripts]
serve = "flask run"
"#;

fn parse_text(text: &str) -> Manifest {
    parse(SourceFile::from_text(
        Path::new("Pipfile"),
        Encoding::Utf8,
        text.to_owned(),
    ))
}

fn listing(m: &Manifest) -> Vec<String> {
    let ManifestDetails::Pipfile(file) = &m.details else {
        panic!("not a Pipfile");
    };
    m.dependencies
        .iter()
        .zip(&file.categories)
        .map(|(d, category)| {
            let place = m.source.position(d.span.start);
            format!(
                "{category} {} {:?} {}:{} {}",
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
fn every_category_and_entry_kind_is_read_with_its_place() {
    let m = parse_text(PIPFILE);
    assert_eq!(
        listing(&m),
        [
            "packages requests \"\" 12:1 -",
            "packages flask \"2.2.2\" 13:12 -",
            "packages django \">=4.0,<5\" 14:22 -",
            "packages internal \"1.0\" 15:26 -",
            "packages zope-interface \"~=6.1\" 16:21 -",
            "packages mylib \"\" 17:2 VcsRequirement",
            "packages localpkg \"\" 18:1 Editable",
            "packages vendored \"\" 19:1 LocalPath",
            "packages remote \"\" 20:1 UrlRequirement",
            "packages escaped \"\\\"==1.\\\\u0030\\\"\" 21:11 EscapedString",
            "packages fromenv \"==${FROMENV_VERSION}\" 22:12 EnvironmentVariable",
            "dev-packages pytest \">=7\" 25:11 -",
            "docs sphinx \"7.2.6\" 28:25 -",
        ]
    );
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    let flask = m.dependencies[1].python().unwrap();
    assert_eq!(flask.pin.as_ref().unwrap().text, "2.2.2");
    assert_eq!(m.source.slice(flask.name_span), "Flask");
    let django = m.dependencies[2].python().unwrap();
    assert_eq!(django.extras, ["bcrypt"]);
    assert_eq!(
        django.marker.as_ref().map(|(m, _)| m.as_str()),
        Some("python_version >= '3.8'")
    );
    assert!(django.parsed_marker.is_some());
    assert_eq!(
        m.source.slice(django.marker.as_ref().unwrap().1),
        "python_version >= '3.8'"
    );
    assert_eq!(
        m.source
            .slice(m.dependencies[4].python().unwrap().name_span),
        "zope.interface"
    );
    check::spans_are_consistent(&m).unwrap();
}

#[test]
fn sources_give_each_package_its_index_and_requires_its_python() {
    let m = parse_text(PIPFILE);
    let ManifestDetails::Pipfile(file) = &m.details else {
        panic!("not a Pipfile");
    };
    assert_eq!(file.sources.len(), 2);
    assert_eq!(file.python.as_ref().map(|(v, _)| v.as_str()), Some("3.11"));
    // Pipenv installs from the first source, or only from the one `index` names.
    let requests = &m.dependencies[0].python().unwrap().index;
    assert_eq!(
        requests.index_url.as_deref(),
        Some("https://pypi.org/simple")
    );
    assert!(requests.extra_index_urls.is_empty());
    assert_eq!(
        requests.place_of("https://pypi.org/simple"),
        Some("Pipfile:2:7")
    );
    let internal = &m.dependencies[3].python().unwrap().index;
    assert_eq!(
        internal.index_url.as_deref(),
        Some("http://${PRIVATE_USER}:${PRIVATE_TOKEN}@example.org:8080/simple")
    );
    // `verify_ssl = false` is pip's `--trusted-host`.
    assert_eq!(internal.trusted_hosts, ["example.org:8080"]);
    assert_eq!(
        crate::target::pipenv_requires(&m).map(|(v, line)| (v.to_string(), line)),
        Some(("3.11".to_owned(), 31))
    );
}

#[test]
fn no_source_means_the_configured_index_and_prereleases_follow_pipenv() {
    let m = parse_text(
        "[packages]\nrequests = \"==2.31.0\"\n\n[pipenv]\nallow_prereleases = true\n\n[requires]\npython_full_version = \"3.12.1\"\n",
    );
    let index = &m.dependencies[0].python().unwrap().index;
    assert_eq!(index.index_url, None);
    assert!(index.pre);
    assert_eq!(
        crate::target::pipenv_requires(&m).map(|(v, line)| (v.to_string(), line)),
        Some(("3.12".to_owned(), 8))
    );
}

#[test]
fn mistakes_are_diagnostics_at_their_place_and_never_stop_the_others() {
    let m = parse_text(
        "[packages]\nbad = \">>1.2\"\nlost = {version = \"==1\", index = \"nowhere\"}\nnum = 3\n\"-x\" = \"*\"\nok = \"==1.0\"\nmk = {version = \"==2\", markers = \"python_version >>> '3'\"}\n",
    );
    let errors: Vec<String> = m
        .diagnostics
        .iter()
        .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
        .collect();
    assert_eq!(
        errors,
        [
            "2:8: Invalid version specifier `>>1.2`",
            "3:1: `lost` names the index `nowhere`, which no `[[source]]` defines",
            "4:7: Expected the value of `num` to be a version string or a table",
            "5:2: Invalid package name `-x`",
            "7:50: Invalid environment marker `python_version >>> '3'`",
        ]
    );
    let names: Vec<(&str, Option<SkipReason>)> = m
        .dependencies
        .iter()
        .map(|d| (d.name.as_str(), d.skip_reason))
        .collect();
    assert_eq!(
        names,
        [
            ("bad", Some(SkipReason::Invalid)),
            ("lost", Some(SkipReason::Invalid)),
            ("x", Some(SkipReason::Invalid)),
            ("ok", None),
            ("mk", Some(SkipReason::Invalid)),
        ]
    );
    let m = parse_text("[packages\n");
    assert!(m.dependencies.is_empty());
    assert!(m.has_errors());
}

#[test]
fn edits_splice_the_specifier_and_verify_keeping_everything_else() {
    for text in [PIPFILE.to_owned(), PIPFILE.replace('\n', "\r\n")] {
        let m = parse_text(&text);
        let requests = [
            Request {
                index: 1,
                change: Change::PythonVersion {
                    version: "2.3.3".into(),
                    hashes: None,
                },
            },
            Request {
                index: 2,
                change: Change::PythonSpecifier {
                    specifier: ">=4.0,<6".into(),
                    hashes: None,
                },
            },
            Request {
                index: 12,
                change: Change::PythonVersion {
                    version: "7.3.7".into(),
                    hashes: None,
                },
            },
        ];
        let edited = edit(&m, &requests).unwrap();
        let expected = text
            .replace("Flask = \"==2.2.2\"", "Flask = \"==2.3.3\"")
            .replace("\">=4.0,<5\"", "\">=4.0,<6\"")
            .replace("\"==7.2.6\"", "\"==7.3.7\"");
        assert_eq!(edited.manifest.source.text(), expected);
        // `"*"` has nothing to change, and the entries repin skips are refused with a place.
        let star = edit(
            &m,
            &[Request {
                index: 0,
                change: Change::PythonSpecifier {
                    specifier: ">=2".into(),
                    hashes: None,
                },
            }],
        )
        .unwrap_err();
        assert_eq!(
            star.to_string(),
            "Pipfile:12:1: Cannot change `requests`: it has no specifier to replace"
        );
        check::every_edit_verifies_or_is_refused(&m).unwrap();
    }
}

#[test]
fn discovery_finds_pipfile() {
    use crate::manifest::discover::classify;
    assert_eq!(
        classify(Path::new("svc/Pipfile")),
        Some(ManifestKind::Pipfile)
    );
    assert_eq!(classify(Path::new("svc/Pipfile.bak")), None);
}

#[test]
fn every_prefix_of_the_fixture_reads_back_and_edits_verify_or_are_refused() {
    // A cut file is what a hostile or half-written one looks like: no panic, the bytes read
    // back, spans hold, and the edit of each package verifies or is refused.
    for end in (0..=PIPFILE.len()).filter(|&e| PIPFILE.is_char_boundary(e)) {
        for pick in [0u8, 1, 2, 5, 12] {
            let mut data = vec![pick];
            data.extend_from_slice(&PIPFILE.as_bytes()[..end]);
            check::fuzz_input("Pipfile", ManifestKind::Pipfile, &data)
                .unwrap_or_else(|e| panic!("cut at {end}, pick {pick}: {e}"));
        }
    }
}

/// Versions written without an operator, as Pipenv's own Pipfile has them
/// (`gunicorn = {version = "26.1.*", …}`): Pipenv installs each as `==` that version.
const BARE_VERSIONS: &str = r#"[packages]
six = "1.16.0"
waitress = {version = "3.*", sys_platform = "== 'win32'"}
gunicorn = { version = " 26.1.* " }
"#;

#[test]
fn a_version_without_an_operator_is_read_as_pipenv_reads_it_and_edits_in_place() {
    let m = parse_text(BARE_VERSIONS);
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    assert_eq!(
        listing(&m),
        [
            "packages six \"1.16.0\" 2:8 -",
            "packages waitress \"3.*\" 3:24 -",
            "packages gunicorn \"26.1.*\" 4:26 -",
        ]
    );
    let six = m.dependencies[0].python().unwrap();
    assert_eq!(six.pin.as_ref().unwrap().text, "1.16.0");
    let waitress = m.dependencies[1].python().unwrap();
    assert!(waitress.pin.is_none());
    let spec = waitress.specifier.as_ref().unwrap();
    assert_eq!(spec.parsed.to_string(), "==3.*");
    assert_eq!(m.source.slice(spec.span), "3.*");
    check::spans_are_consistent(&m).unwrap();
    let edited = edit(
        &m,
        &[
            Request {
                index: 0,
                change: Change::PythonVersion {
                    version: "1.17.0".into(),
                    hashes: None,
                },
            },
            Request {
                index: 2,
                change: Change::PythonSpecifier {
                    specifier: "==27.*".into(),
                    hashes: None,
                },
            },
        ],
    )
    .unwrap();
    assert_eq!(
        edited.manifest.source.text(),
        BARE_VERSIONS
            .replace("\"1.16.0\"", "\"1.17.0\"")
            .replace("\" 26.1.* \"", "\" ==27.* \"")
    );
    check::every_edit_verifies_or_is_refused(&m).unwrap();
}

#[test]
fn markers_written_as_keys_join_the_markers_as_pipenv_joins_them() {
    let m = parse_text(
        "[packages]\nwaitress = {version = \"*\", sys_platform = \"== 'win32'\"}\nboth = {version = \"==1.0\", markers = \"python_version >= '3.8'\", platform_machine = \"== 'x86_64'\"}\nos = {version = \"*\", os_name = \"== 'nt'\"}\nbad = {version = \"*\", sys_platform = \"=== \"}\n",
    );
    let markers: Vec<Option<&str>> = m
        .dependencies
        .iter()
        .map(|d| d.python().unwrap().marker.as_ref().map(|(t, _)| t.as_str()))
        .collect();
    assert_eq!(
        markers,
        [
            Some("sys_platform == 'win32'"),
            Some("platform_machine == 'x86_64' and python_version >= '3.8'"),
            // Pipenv passes `os_name` over, so does repin.
            None,
            Some("sys_platform === "),
        ]
    );
    let parsed: Vec<bool> = m
        .dependencies
        .iter()
        .map(|d| d.python().unwrap().parsed_marker.is_some())
        .collect();
    assert_eq!(parsed, [true, true, false, false]);
    let errors: Vec<String> = m
        .diagnostics
        .iter()
        .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
        .collect();
    assert_eq!(
        errors,
        ["5:38: Invalid environment marker `sys_platform === ` of `bad`"]
    );
    assert_eq!(m.dependencies[3].skip_reason, Some(SkipReason::Invalid));
    assert_eq!(m.dependencies[1].skip_reason, None);
    check::spans_are_consistent(&m).unwrap();
    check::every_edit_verifies_or_is_refused(&m).unwrap();
}

#[test]
fn an_escaped_key_claims_no_text_inside_it() {
    // Found by the `pipfile` fuzz target: `"zope.int\rface"` claimed its quoted key's span as
    // its name, though the key's bytes are not the name.
    let m = parse_text("[packages]\n\"fla\\u0073k\" = \"==3.0\"\n\"zope.int\\rface\" = \"*\"\n");
    let flask = m.dependencies[0].python().unwrap();
    assert_eq!(m.dependencies[0].name, "flask");
    assert!(flask.name_span.is_empty());
    assert_eq!(m.dependencies[1].skip_reason, Some(SkipReason::Invalid));
    check::spans_are_consistent(&m).unwrap();
}
