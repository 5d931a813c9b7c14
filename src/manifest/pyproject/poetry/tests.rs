use crate::manifest::edit::{Change, Request, edit};
use crate::manifest::pyproject::{Priority, PyprojectFile, parse};
use crate::manifest::{Manifest, ManifestDetails, SkipReason};
use crate::text::{Encoding, SourceFile};

/// A Poetry project written from the examples of Poetry's documentation (dependency
/// specification, managing dependencies, repositories).
const POETRY_PROJECT: &str = r#"[tool.poetry]
name = "poetry-demo"
version = "0.1.0"
package-mode = false

[tool.poetry.dependencies]
python = "^3.10"
requests = "^2.31"   # HTTP
Flask = '~2.2'
pendulum = { version = "2.1.2", extras = ["test"], markers = "platform_python_implementation == 'CPython'" }
black = {version = ">=23.1 <25.0", allow-prereleases = true}
attrs = "*"
numpy = [
    { version = "<1.25", python = "<3.9" },
    { version = "^1.26", python = ">=3.9" },
]
private-lib = { version = "~=1.4", source = "internal" }
mylib = { git = "https://github.com/example/mylib.git", branch = "main" }
localpkg = { path = "../localpkg", develop = true }
wheel-pkg = { url = "https://example.com/wheel_pkg-1.0-py3-none-any.whl" }
unioned = "^1.2 || ^3.0"
broken = "^x"

[tool.poetry.dependencies.django]
version = "==4.2.1"

[tool.poetry.dev-dependencies]
pytest = "^7.4"

[tool.poetry.group.docs.dependencies]
mkdocs = "1.5.*"

[[tool.poetry.source]]
name = "internal"
url = "https://pypi.example.com/simple/"
priority = "explicit"

[[tool.poetry.source]]
name = "extras"
url = "https://extras.example.com/simple/"
priority = "supplemental"
"#;

fn parsed(text: &str) -> Manifest {
    parse(SourceFile::from_text(
        "pyproject.toml",
        Encoding::Utf8,
        text.to_owned(),
    ))
}

fn details(manifest: &Manifest) -> &PyprojectFile {
    match &manifest.details {
        ManifestDetails::Pyproject(file) => file,
        other => panic!("not a pyproject: {other:?}"),
    }
}

fn rows(manifest: &Manifest) -> Vec<String> {
    manifest
        .dependencies
        .iter()
        .zip(&details(manifest).sections)
        .map(|(d, s)| {
            format!(
                "{s} {} `{}` {}",
                d.name,
                d.current,
                d.skip_reason.map_or("", SkipReason::as_str)
            )
        })
        .collect()
}

#[test]
fn reads_every_poetry_table_with_its_section_and_skips_git_path_url() {
    let m = parsed(POETRY_PROJECT);
    assert_eq!(
        rows(&m),
        [
            "tool.poetry.dependencies requests `^2.31` ",
            "tool.poetry.dependencies flask `~2.2` ",
            "tool.poetry.dependencies pendulum `2.1.2` ",
            "tool.poetry.dependencies black `>=23.1 <25.0` ",
            "tool.poetry.dependencies attrs `*` ",
            "tool.poetry.dependencies numpy `<1.25` ",
            "tool.poetry.dependencies numpy `^1.26` ",
            "tool.poetry.dependencies private-lib `~=1.4` ",
            "tool.poetry.dependencies mylib `https://github.com/example/mylib.git` vcs-requirement",
            "tool.poetry.dependencies localpkg `../localpkg` local-path",
            "tool.poetry.dependencies wheel-pkg `https://example.com/wheel_pkg-1.0-py3-none-any.whl` url-requirement",
            "tool.poetry.dependencies unioned `^1.2 || ^3.0` ",
            "tool.poetry.dependencies broken `` invalid",
            "tool.poetry.dependencies django `4.2.1` ",
            "tool.poetry.dev-dependencies pytest `^7.4` ",
            "tool.poetry.group.docs.dependencies mkdocs `1.5.*` ",
        ]
    );
    // Only the invalid constraint is a diagnostic, at its place in the file.
    assert_eq!(m.diagnostics.len(), 1, "{:?}", m.diagnostics);
    let d = &m.diagnostics[0];
    assert_eq!((d.line, d.column), (22, 11), "{}", d.message);
    let file = details(&m);
    assert_eq!(
        file.poetry_python.as_ref().map(|p| p.0.as_str()),
        Some("^3.10")
    );
    let priorities: Vec<(&str, Priority)> = file
        .poetry_sources
        .iter()
        .map(|s| (s.name.as_str(), s.priority))
        .collect();
    assert_eq!(
        priorities,
        [
            ("internal", Priority::Explicit),
            ("extras", Priority::Supplemental)
        ]
    );
}

#[test]
fn table_fields_and_constraints_are_read() {
    let m = parsed(POETRY_PROJECT);
    let python = |i: usize| m.dependencies[i].python().unwrap();
    let pendulum = python(2);
    assert_eq!(pendulum.extras, ["test"]);
    assert!(pendulum.parsed_marker.is_some());
    assert_eq!(
        pendulum
            .pinned_version()
            .map(ToString::to_string)
            .as_deref(),
        Some("2.1.2")
    );
    // `allow-prereleases` lets pre-releases in, as pip's `--pre` does.
    assert!(python(3).index.pre);
    // A union keeps its branches: 2.x is outside, 3.x inside.
    let unioned = python(11).specifier.as_ref().unwrap();
    assert!(!unioned.contains(&"2.5".parse().unwrap()));
    assert!(unioned.contains(&"3.1".parse().unwrap()));
    // `==4.2.1` is a pin whose span is the version alone.
    let django = &m.dependencies[13];
    assert_eq!(m.source.slice(django.span), "4.2.1");
    // Spans point at the constraint inside the quotes.
    for d in m.dependencies.iter().filter(|d| d.skip_reason.is_none()) {
        assert_eq!(m.source.slice(d.span), d.current, "{}", d.name);
    }
    let requests = m.source.position(m.dependencies[0].span.start);
    assert_eq!((requests.line, requests.column), (8, 13));
}

#[test]
fn sources_decide_the_index_a_dependency_is_looked_up_on() {
    let m = parsed(POETRY_PROJECT);
    let index = |i: usize| m.dependencies[i].python().unwrap().index.clone();
    // `source = "internal"` (explicit): that index alone.
    let private = index(7);
    assert_eq!(
        private.index_url.as_deref(),
        Some("https://pypi.example.com/simple/")
    );
    assert!(private.extra_index_urls.is_empty());
    // Others: PyPI (no primary source), then the supplemental source; never the explicit one.
    let requests = index(0);
    assert_eq!(requests.index_url, None);
    assert_eq!(
        requests.extra_index_urls,
        ["https://extras.example.com/simple/"]
    );
    // A primary source replaces PyPI.
    let m = parsed(
        "[tool.poetry.dependencies]\nrequests = \"^2.31\"\n\n[[tool.poetry.source]]\nname = \"corp\"\nurl = \"https://corp.example.com/simple/\"\n",
    );
    let options = &m.dependencies[0].python().unwrap().index;
    assert_eq!(
        options.index_url.as_deref(),
        Some("https://corp.example.com/simple/")
    );
    // A source no `[[tool.poetry.source]]` defines is an error.
    let m = parsed("[tool.poetry.dependencies]\nx = { version = \"^1\", source = \"nope\" }\n");
    assert!(m.has_errors());
}

#[test]
fn a_source_of_priority_default_is_searched_before_an_earlier_primary_one() {
    let m = parsed(
        "[tool.poetry.dependencies]\nrequests = \"^2.31\"\n\n[[tool.poetry.source]]\nname = \"corp\"\nurl = \"https://corp.example.com/simple/\"\npriority = \"primary\"\n\n[[tool.poetry.source]]\nname = \"mirror\"\nurl = \"https://mirror.example.com/simple/\"\npriority = \"default\"\n",
    );
    let order: Vec<(&str, Priority)> = details(&m)
        .poetry_sources
        .iter()
        .map(|s| (s.name.as_str(), s.priority))
        .collect();
    assert_eq!(
        order,
        [("mirror", Priority::Primary), ("corp", Priority::Primary)]
    );
    let options = &m.dependencies[0].python().unwrap().index;
    assert_eq!(
        options.index_url.as_deref(),
        Some("https://mirror.example.com/simple/")
    );
    assert_eq!(
        options.extra_index_urls,
        ["https://corp.example.com/simple/"]
    );
}

fn request(index: usize, change: Change) -> Request {
    Request { index, change }
}

#[test]
fn edits_splice_inside_the_quotes_and_keep_every_other_byte() {
    let m = parsed(POETRY_PROJECT);
    let requests = [
        request(
            0,
            Change::PythonSpecifier {
                specifier: "^2.32.3".into(),
                hashes: None,
            },
        ),
        request(
            1,
            Change::PythonSpecifier {
                specifier: "~3.0".into(),
                hashes: None,
            },
        ),
        request(
            2,
            Change::PythonVersion {
                version: "3.0.0".into(),
                hashes: None,
            },
        ),
        request(
            11,
            Change::PythonSpecifier {
                specifier: "^1.2 || ^3.0 || ^4.0".into(),
                hashes: None,
            },
        ),
        request(
            13,
            Change::PythonVersion {
                version: "5.0".into(),
                hashes: None,
            },
        ),
    ];
    let edited = edit(&m, &requests).expect("the edit verifies");
    let expected = POETRY_PROJECT
        .replace("\"^2.31\"   # HTTP", "\"^2.32.3\"   # HTTP")
        .replace("'~2.2'", "'~3.0'")
        .replace("version = \"2.1.2\"", "version = \"3.0.0\"")
        .replace("\"^1.2 || ^3.0\"", "\"^1.2 || ^3.0 || ^4.0\"")
        .replace("\"==4.2.1\"", "\"==5.0\"");
    assert_eq!(edited.manifest.source.text(), expected);
}

#[test]
fn an_edit_to_an_invalid_constraint_is_refused() {
    let m = parsed(POETRY_PROJECT);
    let requests = [request(
        0,
        Change::PythonSpecifier {
            specifier: "^^2".into(),
            hashes: None,
        },
    )];
    assert!(edit(&m, &requests).is_err());
}

#[test]
fn identity_and_crlf_twin() {
    for text in [
        POETRY_PROJECT.to_owned(),
        POETRY_PROJECT.replace('\n', "\r\n"),
    ] {
        let m = parsed(&text);
        assert_eq!(m.source.text(), text);
        assert_eq!(m.dependencies.len(), 16);
        for d in m.dependencies.iter().filter(|d| d.skip_reason.is_none()) {
            assert_eq!(m.source.slice(d.span), d.current, "{}", d.name);
        }
    }
}

#[test]
fn escaped_constraints_are_listed_not_edited() {
    let m = parsed("[tool.poetry.dependencies]\nrequests = \"\\u005e2.31\"\n");
    assert_eq!(
        m.dependencies[0].skip_reason,
        Some(SkipReason::EscapedString)
    );
}

#[test]
fn a_poetry_2_projects_pep_621_tables_resolve_on_its_sources() {
    let m = parsed(
        "[project]\nname = \"x\"\ndependencies = [\"requests>=2.31\"]\n\n[build-system]\nrequires = [\"poetry-core>=2\"]\n\n[[tool.poetry.source]]\nname = \"corp\"\nurl = \"https://corp.example.com/simple/\"\npriority = \"primary\"\n",
    );
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    let index = |i: usize| m.dependencies[i].python().unwrap().index.index_url.clone();
    assert_eq!(
        index(0).as_deref(),
        Some("https://corp.example.com/simple/")
    );
    // Build requirements are not Poetry's to resolve.
    assert_eq!(index(1), None);
}

/// `python` and `platform` of a dependency table, as Textual's pyproject has them
/// (`tree-sitter = { version = ">=0.25.0", optional = true, python = ">=3.10" }`).
const PYTHON_AND_PLATFORM: &str = r#"[tool.poetry.dependencies]
python = "^3.9"
tree-sitter = { version = ">=0.25.0", optional = true, python = ">=3.10" }
pywin = { version = "^306", platform = "win32", markers = "implementation_name == 'cpython'" }
either = { version = "^1.0", python = "~3.9 || >=3.12" }
anyone = { version = "^2.0", python = "*" }
bad = { version = "^1.0", python = "^x" }
wild = { version = "^1.0", python = "3.8.*" }
"#;

#[test]
fn python_and_platform_of_a_dependency_are_its_markers() {
    let m = parsed(PYTHON_AND_PLATFORM);
    let markers: Vec<Option<&str>> = m
        .dependencies
        .iter()
        .map(|d| d.python().unwrap().marker.as_ref().map(|(t, _)| t.as_str()))
        .collect();
    assert_eq!(
        markers,
        [
            Some("(python_full_version >= '3.10')"),
            Some("(implementation_name == 'cpython') and sys_platform == 'win32'"),
            Some(
                "(python_full_version >= '3.9' and python_full_version < '3.10') or (python_full_version >= '3.12')"
            ),
            None,
            None,
            Some("(python_full_version == '3.8.*')"),
        ]
    );
    let parsed_markers: Vec<bool> = m
        .dependencies
        .iter()
        .map(|d| d.python().unwrap().parsed_marker.is_some())
        .collect();
    assert_eq!(parsed_markers, [true, true, true, false, false, true]);
    let errors: Vec<String> = m
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.line, d.message))
        .collect();
    assert_eq!(errors, ["7: Invalid Python constraint `^x` of `bad`"]);
    assert_eq!(m.dependencies[4].skip_reason, Some(SkipReason::Invalid));
    crate::manifest::check::spans_are_consistent(&m).unwrap();
    crate::manifest::check::every_edit_verifies_or_is_refused(&m).unwrap();
}
