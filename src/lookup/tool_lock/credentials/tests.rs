//! Which credentials each tool gets: chosen by the URL an index goes to, never by its name.
//! Every resolver is built on an isolated environment: nothing reads the real machine's.

use std::path::Path;

use super::*;
use crate::manifest::pyproject::Priority;
use crate::registry::pypi::{ConfiguredIndexes, Environment};
use crate::registry::trust::{AllowList, Author, Grant};
use crate::text::Span;

const FILE: &str = "svc/pyproject.toml";

fn uv_index(name: Option<&str>, url: &str) -> UvIndex {
    UvIndex {
        name: name.map(str::to_owned),
        url: url.to_owned(),
        default: false,
        explicit: false,
        span: Span::default(),
    }
}

/// A resolver whose operator configured `https://corp.example/simple/` with credentials from
/// repin.toml's environment variables, and whose netrc knows `netrc.example`.
fn resolver(dir: &Path, vars: &[(&str, &str)], grants: &[&str]) -> IndexResolver {
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join(".netrc"),
        "machine netrc.example login nora password netrc-secret\n",
    )
    .unwrap();
    let mut env = Environment::isolated(dir).with_home(home);
    for (name, value) in vars {
        env = env.with_var(name, value);
    }
    let configured = ConfiguredIndexes {
        index_url: Some("https://${CORP_USER}:${CORP_TOKEN}@corp.example/simple".into()),
        author: Author::Operator,
        ..ConfiguredIndexes::default()
    };
    let grants: Vec<Grant> = grants.iter().map(|g| g.parse().unwrap()).collect();
    IndexResolver::new(env, configured)
        .unwrap()
        .with_allow_list(AllowList::from_operator(&grants, None).unwrap())
}

fn values(credentials: &Credentials) -> Vec<(String, String)> {
    credentials
        .env()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect()
}

const CORP: &[(&str, &str)] = &[("CORP_USER", "ci"), ("CORP_TOKEN", "corp-secret")];

#[test]
fn uv_gets_the_operators_credentials_for_the_url_they_were_configured_for() {
    let dir = tempfile::tempdir().unwrap();
    let resolver = resolver(dir.path(), CORP, &[]);
    let indexes = [
        uv_index(Some("corp-mirror"), "https://corp.example/simple/"),
        uv_index(Some("team.pkgs"), "https://netrc.example/simple/"),
        uv_index(Some("public"), "https://elsewhere.example/simple/"),
        // Public, nothing held for it: nameless is fine.
        uv_index(None, "https://elsewhere.example/other/"),
    ];
    let got = uv(
        &[(&indexes, Path::new(FILE))],
        None,
        Path::new(FILE),
        &resolver,
    );
    assert_eq!(got.withheld(), None);
    assert_eq!(
        values(&got),
        [
            ("UV_INDEX_CORP_MIRROR_USERNAME".into(), "ci".into()),
            ("UV_INDEX_CORP_MIRROR_PASSWORD".into(), "corp-secret".into()),
            ("UV_INDEX_TEAM_PKGS_USERNAME".into(), "nora".into()),
            ("UV_INDEX_TEAM_PKGS_PASSWORD".into(), "netrc-secret".into()),
        ]
    );
    assert_eq!(
        got.mask("401 for ci:corp-secret and netrc-secret"),
        "401 for ci:**** and ****"
    );
    assert!(!format!("{got:?}").contains("secret"), "{got:?}");
}

#[test]
fn an_index_named_like_an_operators_variable_but_elsewhere_gets_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // The operator's own uv credentials for an index of theirs named `corp`: repin's
    // environment has them, and a hostile pyproject names its own index `corp`.
    let vars = [
        ("UV_INDEX_CORP_PASSWORD", "canary-uv"),
        ("POETRY_HTTP_BASIC_CORP_PASSWORD", "canary-poetry"),
        ("CORP_USER", "ci"),
        ("CORP_TOKEN", "corp-secret"),
    ];
    let resolver = resolver(dir.path(), &vars, &[]);
    let hostile = "https://attacker.example/simple/";
    assert!(
        uv(
            &[(&[uv_index(Some("corp"), hostile)], Path::new(FILE))],
            None,
            Path::new(FILE),
            &resolver
        )
        .env()
        .is_empty()
    );
    let source = PoetrySource {
        name: "corp".into(),
        url: Some(hostile.into()),
        priority: Priority::Primary,
        span: Span::default(),
    };
    assert!(
        poetry(&[source], Path::new(FILE), &resolver)
            .env()
            .is_empty()
    );
    // The same host over plain HTTP, or on another port, is another origin.
    for url in [
        "http://corp.example/simple/",
        "https://corp.example:8443/simple/",
    ] {
        let got = uv(
            &[(&[uv_index(Some("x"), url)], Path::new(FILE))],
            None,
            Path::new(FILE),
            &resolver,
        );
        assert!(got.env().is_empty(), "{url}: {got:?}");
    }
}

#[test]
fn a_workspace_members_indexes_get_credentials_unless_a_name_is_given_two_urls() {
    let dir = tempfile::tempdir().unwrap();
    let resolver = resolver(dir.path(), CORP, &[]);
    let root = [uv_index(
        Some("public"),
        "https://elsewhere.example/simple/",
    )];
    let member = [
        uv_index(Some("corp"), "https://corp.example/simple/"),
        uv_index(Some("public"), "https://elsewhere.example/simple/"),
    ];
    let member_file = Path::new("svc/packages/a/pyproject.toml");
    let got = uv(
        &[(&root, Path::new(FILE)), (&member, member_file)],
        None,
        Path::new(FILE),
        &resolver,
    );
    assert_eq!(
        values(&got),
        [
            ("UV_INDEX_CORP_USERNAME".into(), "ci".into()),
            ("UV_INDEX_CORP_PASSWORD".into(), "corp-secret".into()),
        ]
    );
    assert_eq!(got.withheld(), None);
    // Another member names a host of its own `corp`: uv would send corp's password there.
    let hostile = [uv_index(Some("CORP"), "https://attacker.example/simple/")];
    let got = uv(
        &[
            (&member, member_file),
            (&hostile, Path::new("svc/b/pyproject.toml")),
        ],
        None,
        Path::new(FILE),
        &resolver,
    );
    assert!(got.env().is_empty(), "{got:?}");
    assert_eq!(
        got.withheld(),
        Some(
            "the index name `corp` is given to more than one URL, and uv would send the credentials of one to the other"
        )
    );
}

#[test]
fn an_index_without_a_name_is_given_credentials_as_the_default_only() {
    let dir = tempfile::tempdir().unwrap();
    let resolver = resolver(dir.path(), CORP, &[]);
    let mut default = uv_index(None, "https://corp.example/simple/");
    default.default = true;
    let got = uv(
        &[(&[default.clone()], Path::new(FILE))],
        None,
        Path::new(FILE),
        &resolver,
    );
    assert_eq!(
        values(&got),
        [(
            "UV_DEFAULT_INDEX".into(),
            "https://ci:corp-secret@corp.example/simple/".into()
        )]
    );
    assert_eq!(got.withheld(), None);
    // A member's default is not uv's: withheld.
    let member = Path::new("svc/packages/a/pyproject.toml");
    let got = uv(&[(&[default], member)], None, Path::new(FILE), &resolver);
    assert!(got.env().is_empty(), "{got:?}");
    assert!(got.withheld().is_some());
}

#[test]
fn an_index_without_a_name_that_needs_credentials_is_said_so_before_uv_runs() {
    let dir = tempfile::tempdir().unwrap();
    let resolver = resolver(dir.path(), CORP, &[]);
    let indexes = [uv_index(None, "https://corp.example/simple/")];
    let got = uv(
        &[(&indexes, Path::new(FILE))],
        None,
        Path::new(FILE),
        &resolver,
    );
    assert!(got.env().is_empty(), "{got:?}");
    let why = got.withheld().unwrap();
    assert_eq!(
        why,
        "repin holds credentials for the index `https://corp.example/simple/`, which has no `name`, and uv takes an index's credentials by its name only: give the index a `name`"
    );
    assert!(!why.contains("corp-secret"));
}

#[test]
fn poetry_sources_get_their_credentials_under_poetrys_names() {
    let dir = tempfile::tempdir().unwrap();
    let resolver = resolver(dir.path(), CORP, &[]);
    let sources = [
        PoetrySource {
            name: "Corp-Mirror.eu".into(),
            url: Some("https://corp.example/simple".into()),
            priority: Priority::Primary,
            span: Span::default(),
        },
        PoetrySource {
            name: "PyPI".into(),
            url: None,
            priority: Priority::Supplemental,
            span: Span::default(),
        },
    ];
    assert_eq!(
        values(&poetry(&sources, Path::new(FILE), &resolver)),
        [
            (
                "POETRY_HTTP_BASIC_CORP_MIRROR_EU_USERNAME".into(),
                "ci".into()
            ),
            (
                "POETRY_HTTP_BASIC_CORP_MIRROR_EU_PASSWORD".into(),
                "corp-secret".into()
            ),
        ]
    );
}

#[test]
fn pipenv_gets_only_the_variables_the_allow_list_grants_for_the_urls_origin() {
    let dir = tempfile::tempdir().unwrap();
    let vars = [("PKG_TOKEN", "pkg-secret"), ("OTHER", "other-secret")];
    let resolver = resolver(dir.path(), &vars, &["PKG_TOKEN@https://pkgs.example"]);
    let source = |url: &str| PipfileSource {
        name: Some("s".into()),
        url: url.into(),
        verify_ssl: true,
        span: Span::default(),
    };
    let file = Path::new("svc/Pipfile");
    let granted = pipenv(
        &[source("https://ci:${PKG_TOKEN}@pkgs.example/simple")],
        file,
        &resolver,
    );
    assert_eq!(
        values(&granted),
        [("PKG_TOKEN".into(), "pkg-secret".into())]
    );
    // Not granted for that origin, or one of two not granted: nothing.
    for url in [
        "https://ci:${PKG_TOKEN}@attacker.example/simple",
        "https://${OTHER}:${PKG_TOKEN}@pkgs.example/simple",
    ] {
        assert!(
            pipenv(&[source(url)], file, &resolver).env().is_empty(),
            "{url}"
        );
    }
}

#[test]
fn uvs_default_index_carries_its_credentials_in_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let resolver = resolver(dir.path(), CORP, &[]);
    let got = uv(
        &[],
        Some("https://corp.example/simple/"),
        Path::new(FILE),
        &resolver,
    );
    assert_eq!(
        values(&got),
        [(
            "UV_DEFAULT_INDEX".into(),
            "https://ci:corp-secret@corp.example/simple/".into()
        )]
    );
    let plain = uv(
        &[],
        Some("https://elsewhere.example/simple/"),
        Path::new(FILE),
        &resolver,
    );
    assert_eq!(
        values(&plain),
        [(
            "UV_DEFAULT_INDEX".into(),
            "https://elsewhere.example/simple/".into()
        )]
    );
}
