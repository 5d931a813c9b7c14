use super::*;
use crate::manifest::edit::{Change, Request, edit};
use crate::text::Encoding;

/// A uv project written from the PEP 621, PEP 735 and uv documentation's examples.
const UV_PROJECT: &str = r#"# A service managed with uv.
[project]
name = "example-service"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [
    "flask==2.2.2",            # web
    'requests>=2.31,<3',
    "attrs",
    "Django[argon2] ~= 4.2 ; python_version >= '3.10'",
    "internal-lib",
    "tools @ git+https://example.com/tools.git",
]

[project.optional-dependencies]
postgres = ["psycopg[binary]==3.1.18"]
empty = []

[dependency-groups]
test = ["pytest>=8", { include-group = "lint" }]
lint = ["ruff==0.4.4"]
dev = [{include-group = "test"}, "ipython"]

[build-system]
requires = ["hatchling>=1.24"]
build-backend = "hatchling.build"

[tool.uv]
dev-dependencies = ["mypy==1.10.0"]
constraint-dependencies = ["urllib3<2"]
override-dependencies = ["werkzeug==3.0.3"]
index-url = "https://pypi.example.com/simple"

[tool.uv.sources]
internal-lib = { path = "../internal-lib", editable = true }
sibling = { workspace = true }
torch = [
  { index = "pytorch-cpu", marker = "platform_system != 'Darwin'" },
  { url = "https://example.com/torch.whl", marker = "platform_system == 'Darwin'" },
]
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
    let file = details(manifest);
    manifest
        .dependencies
        .iter()
        .zip(&file.sections)
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
fn extracts_every_list_with_its_section_and_skips_uv_sources() {
    let m = parsed(UV_PROJECT);
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    assert_eq!(
        rows(&m),
        [
            "project.dependencies flask `2.2.2` ",
            "project.dependencies requests `>=2.31,<3` ",
            "project.dependencies attrs `` ",
            "project.dependencies django `~= 4.2` ",
            "project.dependencies internal-lib `` local-path",
            "project.dependencies tools `git+https://example.com/tools.git` vcs-requirement",
            "project.optional-dependencies.postgres psycopg `3.1.18` ",
            "dependency-groups.test pytest `>=8` ",
            "dependency-groups.lint ruff `0.4.4` ",
            "dependency-groups.dev ipython `` ",
            "build-system.requires hatchling `>=1.24` ",
            "tool.uv.dev-dependencies mypy `1.10.0` ",
            "tool.uv.constraint-dependencies urllib3 `<2` ",
            "tool.uv.override-dependencies werkzeug `3.0.3` ",
        ]
    );
    let file = details(&m);
    assert_eq!(
        file.requires_python.as_ref().map(|r| r.0.as_str()),
        Some(">=3.11")
    );
    assert_eq!(file.project_name.as_deref(), Some("example-service"));
    let indexes: Vec<(&str, bool)> = file
        .uv_indexes
        .iter()
        .map(|i| (i.url.as_str(), i.default))
        .collect();
    assert_eq!(indexes, [("https://pypi.example.com/simple", true)]);
    // uv's `index-url` is the index every requirement is looked up on.
    assert_eq!(
        m.dependencies[0]
            .python()
            .unwrap()
            .index
            .index_url
            .as_deref(),
        Some("https://pypi.example.com/simple")
    );
    let sources: Vec<(&str, SourceKind)> = file
        .sources
        .iter()
        .map(|s| (s.name.as_str(), s.kind))
        .collect();
    assert_eq!(
        sources,
        [
            ("internal-lib", SourceKind::Path),
            ("sibling", SourceKind::Workspace),
            ("torch", SourceKind::Url),
        ]
    );
    let includes: Vec<(&str, &str)> = file
        .include_groups
        .iter()
        .map(|i| (i.group.as_str(), i.included.as_str()))
        .collect();
    assert_eq!(includes, [("test", "lint"), ("dev", "test")]);
}

#[test]
fn spans_index_the_file_bytes() {
    let m = parsed(UV_PROJECT);
    for d in &m.dependencies {
        if d.skip_reason.is_none() && !d.current.is_empty() {
            assert_eq!(m.source.slice(d.span), d.current, "{}", d.name);
        }
    }
    let flask = &m.dependencies[0];
    let at = m.source.position(flask.span.start);
    assert_eq!((at.line, at.column), (7, 13));
}

fn change(index: usize, change: Change) -> Request {
    Request { index, change }
}

#[test]
fn edits_splice_inside_the_strings_and_keep_every_other_byte() {
    let m = parsed(UV_PROJECT);
    let requests = [
        change(
            0,
            Change::PythonVersion {
                version: "3.0.3".into(),
                hashes: None,
            },
        ),
        change(
            1,
            Change::PythonSpecifier {
                specifier: ">=2.32,<3".into(),
                hashes: None,
            },
        ),
        change(
            3,
            Change::PythonSpecifier {
                specifier: "~= 5.0".into(),
                hashes: None,
            },
        ),
    ];
    let edited = edit(&m, &requests).expect("the edit verifies");
    let expected = UV_PROJECT
        .replace("\"flask==2.2.2\"", "\"flask==3.0.3\"")
        .replace("'requests>=2.31,<3'", "'requests>=2.32,<3'")
        .replace("~= 4.2 ;", "~= 5.0 ;");
    assert_eq!(edited.manifest.source.text(), expected);
    assert_eq!(edited.manifest.kind, ManifestKind::Pyproject);
}

#[test]
fn a_skipped_dependency_is_not_edited() {
    let m = parsed(UV_PROJECT);
    let error = edit(
        &m,
        &[change(
            4,
            Change::PythonSpecifier {
                specifier: ">=1".into(),
                hashes: None,
            },
        )],
    )
    .expect_err("a path source is not edited");
    assert!(
        error
            .to_string()
            .starts_with("pyproject.toml:11:6: Cannot change `internal-lib`"),
        "{error}"
    );
}

#[test]
fn identity_and_crlf_twin() {
    let crlf = UV_PROJECT.replace('\n', "\r\n");
    for text in [UV_PROJECT, crlf.as_str()] {
        let m = parsed(text);
        assert_eq!(m.source.text(), text);
        assert_eq!(m.dependencies.len(), 14);
        assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
        let edited = edit(
            &m,
            &[change(
                0,
                Change::PythonVersion {
                    version: "2.3.3".into(),
                    hashes: None,
                },
            )],
        )
        .expect("verifies");
        assert_eq!(
            edited.manifest.source.text(),
            text.replace("flask==2.2.2", "flask==2.3.3")
        );
    }
}

#[test]
fn escaped_and_multiline_strings_are_listed_not_edited() {
    let text = "[project]\ndependencies = [\"fl\\u0061sk==2.2.2\", '''click==8.1.7''', \"\"\"\nrich==13\"\"\"]\n";
    let m = parsed(text);
    let got: Vec<(String, Option<SkipReason>)> = m
        .dependencies
        .iter()
        .map(|d| (d.name.clone(), d.skip_reason))
        .collect();
    assert_eq!(
        got,
        [
            ("flask".to_owned(), Some(SkipReason::EscapedString)),
            ("click".to_owned(), None),
            ("rich".to_owned(), Some(SkipReason::EscapedString)),
        ]
    );
    assert_eq!(m.dependencies[1].current, "8.1.7");
    // Found by fuzzing: the name of a string over several lines is at no known bytes, so its
    // span claims nothing (the self-check once found the whole string under the name).
    crate::manifest::check::spans_are_consistent(&m).unwrap();
    let m = parsed("[build-system]\nrequires = [\n    \"\"\"cytho\nden>=3\"\"\",\n]\n");
    assert_eq!(
        m.dependencies[0].skip_reason,
        Some(SkipReason::EscapedString)
    );
    crate::manifest::check::spans_are_consistent(&m).unwrap();
}

#[test]
fn errors_carry_path_line_and_column() {
    let m = parsed("[project]\ndependencies = [\n  \"flask==\",\n  3,\n]\n");
    let rendered: Vec<String> = m
        .diagnostics
        .iter()
        .map(|d| format!("{}:{}:{} {}", d.path.display(), d.line, d.column, d.message))
        .collect();
    assert_eq!(rendered.len(), 2, "{rendered:?}");
    assert!(rendered[0].starts_with("pyproject.toml:3:"), "{rendered:?}");
    assert_eq!(
        rendered[1],
        "pyproject.toml:4:3 Expected a requirement string in `project.dependencies`"
    );
    assert_eq!(m.dependencies[0].skip_reason, Some(SkipReason::Invalid));

    let broken = parsed("[project]\nname = \"x\"\ndependencies = [\"a\"\n[tool]\n");
    assert_eq!(broken.diagnostics.len(), 1);
    let d = &broken.diagnostics[0];
    assert_eq!((d.line, d.message.as_str()), (4, "Not valid TOML"));
    assert!(!d.causes.is_empty());
}

#[test]
fn include_groups_must_exist_and_not_cycle() {
    let m = parsed(
        "[dependency-groups]\na = [{include-group = \"b\"}]\nb = [{include-group = \"a\"}]\nc = [{include-group = \"missing\"}, {include-group = \"x\", extra = 1}]\n",
    );
    let messages: Vec<String> = m
        .diagnostics
        .iter()
        .map(|d| format!("{}:{} {}", d.line, d.column, d.message))
        .collect();
    assert_eq!(
        messages,
        [
            "4:35 Expected `{include-group = \"…\"}` in `dependency-groups.c`".to_owned(),
            "2:23 The group `a` includes `b`, which includes it again".to_owned(),
            "3:23 The group `b` includes `a`, which includes it again".to_owned(),
            "4:23 The group `c` includes `missing`, which is not a dependency group of the file"
                .to_owned(),
        ]
    );
}

#[test]
fn tables_written_inline_or_dotted_are_read_the_same() {
    let m = parsed(
        "project = { name = \"x\", dependencies = [\"a==1\"] }\ntool.uv.dev-dependencies = [\"b==2\"]\n[tool.uv.sources]\na.git = \"https://example.com/a.git\"\n",
    );
    assert_eq!(
        rows(&m),
        [
            "project.dependencies a `1` vcs-requirement",
            "tool.uv.dev-dependencies b `2` "
        ]
    );
}

#[test]
fn hostile_nesting_is_an_error_not_a_crash() {
    let deep = format!("x = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let m = parsed(&deep);
    assert!(m.has_errors());
    let deep_marker = format!(
        "[project]\ndependencies = [\"a ; {}python_version > '3'{}\"]\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let m = parsed(&deep_marker);
    assert!(m.has_errors());
}

#[test]
fn named_indexes_decide_where_a_package_is_looked_up() {
    let text = r#"[project]
dependencies = ["torch==2.2.2", "numpy==1.26.4", "jax==0.4.28"]

[[tool.uv.index]]
name = "pytorch"
url = "https://download.example.com/whl/cpu"
explicit = true

[[tool.uv.index]]
name = "mirror"
url = "https://mirror.example.com/simple"

[tool.uv.sources]
torch = { index = "pytorch" }
jax = { index = "missing" }
"#;
    let m = parsed(text);
    let index = |i: usize| {
        let options = &m.dependencies[i].python().unwrap().index;
        (options.index_url.clone(), options.extra_index_urls.clone())
    };
    assert_eq!(
        index(0),
        (
            Some("https://download.example.com/whl/cpu".to_owned()),
            vec![]
        )
    );
    assert_eq!(
        index(1),
        (None, vec!["https://mirror.example.com/simple".to_owned()])
    );
    let messages: Vec<String> = m
        .diagnostics
        .iter()
        .map(|d| format!("{}:{} {}", d.line, d.column, d.message))
        .collect();
    assert_eq!(
        messages,
        [
            "15:1 The source of `jax` names the index `missing`, which `[[tool.uv.index]]` does not define"
        ]
    );
    let place = m.dependencies[0]
        .python()
        .unwrap()
        .index
        .place_of("https://download.example.com/whl/cpu");
    assert_eq!(place, Some("pyproject.toml:6:7"));
}

#[test]
fn a_uv_workspace_root_and_dynamic_fields_are_read() {
    let root = parsed(
        r#"[project]
name = "root"
dynamic = ["version", "readme"]

[tool.uv.workspace]
members = ["packages/*", "lib"]
exclude = ["packages/legacy"]
"#,
    );
    let file = details(&root);
    assert_eq!(
        file.uv_workspace,
        Some(UvWorkspace {
            members: vec!["packages/*".into(), "lib".into()],
            exclude: vec!["packages/legacy".into()],
        })
    );
    assert_eq!(file.dynamic, ["version", "readme"]);
    // A virtual root (no `[project]`) is a workspace root too; a plain project is none.
    let virtual_root = parsed("[tool.uv.workspace]\nmembers = [\"app\"]\n");
    assert_eq!(
        details(&virtual_root)
            .uv_workspace
            .as_ref()
            .map(|w| &w.members[..]),
        Some(&["app".to_owned()][..])
    );
    assert_eq!(details(&parsed(UV_PROJECT)).uv_workspace, None);
    assert!(details(&parsed(UV_PROJECT)).dynamic.is_empty());
}
