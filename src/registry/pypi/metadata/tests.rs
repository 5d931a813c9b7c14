//! Core metadata: parsing, archives, and the fetch order against a strict in-process index.

use std::str::FromStr;
use std::time::Duration;

use pep508_rs::{ExtraName, MarkerEnvironment};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use super::super::testing::{Meta, sha256_hex, write_sdist_with, write_wheel_with};
use super::*;
use crate::registry::http::{HttpClient, HttpConfig};
use crate::registry::pypi::{IndexSource, IndexUrl, PageFormat, Project};
use crate::testing::strict_server;

fn linux_312() -> MarkerEnvironment {
    crate::lock::target::Target::linux_x86_64("3.12")
        .unwrap()
        .markers
}

const FLASK: &str = "Metadata-Version: 2.1
Name: Flask
Version: 3.0.3
Summary: A simple framework for building complex web applications.
Requires-Python: >=3.8
Description-Content-Type: text/markdown
Keywords: wsgi,
   web
Provides-Extra: async
Provides-Extra: dotenv
Requires-Dist: Werkzeug>=3.0.0
Requires-Dist: Jinja2>=3.1.2
Requires-Dist: importlib-metadata>=3.6.0; python_version < '3.10'
Requires-Dist: colorama; sys_platform == 'win32'
Requires-Dist: asgiref>=3.2 ; extra == 'async'
Requires-Dist: python-dotenv ; extra == \"dotenv\"

# Flask

Requires-Dist: not-a-header-this-is-the-body
";

#[test]
fn parses_fields_markers_and_extras_and_ignores_the_body() {
    let m = parse(FLASK).unwrap();
    assert_eq!(m.metadata_version, "2.1");
    assert_eq!(m.name, "Flask");
    assert_eq!(m.version.to_string(), "3.0.3");
    assert_eq!(m.requires_python.as_ref().unwrap().to_string(), ">=3.8");
    assert_eq!(
        m.provides_extra,
        [
            ExtraName::from_str("async").unwrap(),
            ExtraName::from_str("dotenv").unwrap()
        ]
    );
    let names: Vec<String> = m.requires_dist.iter().map(|r| r.name.to_string()).collect();
    assert_eq!(
        names,
        [
            "werkzeug",
            "jinja2",
            "importlib-metadata",
            "colorama",
            "asgiref",
            "python-dotenv"
        ]
    );
    let env = linux_312();
    let base: Vec<String> = m
        .requires_dist
        .iter()
        .filter(|r| r.marker.evaluate(&env, &[]))
        .map(|r| r.name.to_string())
        .collect();
    assert_eq!(
        base,
        ["werkzeug", "jinja2"],
        "markers exclude old Pythons and Windows"
    );
    let with_async: Vec<String> = m
        .requires_dist
        .iter()
        .filter(|r| {
            r.marker
                .evaluate(&env, &[ExtraName::from_str("async").unwrap()])
        })
        .map(|r| r.name.to_string())
        .collect();
    assert_eq!(with_async, ["werkzeug", "jinja2", "asgiref"]);
    assert!(!m.is_at_least_2_2());
}

#[test]
fn metadata_versions_dynamic_fields_and_errors() {
    let m = parse("Metadata-Version: 2.4\nName: x\nVersion: 1\nDynamic: Requires-Dist\n").unwrap();
    assert!(m.is_at_least_2_2());
    assert!(m.is_dynamic("requires-dist"));
    assert!(matches!(
        check_static("x-1.tar.gz", &m),
        Err(MetadataError::NeedsBuild { .. })
    ));
    let old = parse("Metadata-Version: 1.2\nName: x\nVersion: 1\n").unwrap();
    let error = check_static("x-1.tar.gz", &old).unwrap_err();
    assert_eq!(
        error.to_string(),
        "x-1.tar.gz does not declare its dependencies statically (its PKG-INFO is metadata 1.2)"
    );
    let fine = parse("Metadata-Version: 2.2\nName: x\nVersion: 1\nDynamic: Summary\n").unwrap();
    assert!(check_static("x-1.tar.gz", &fine).is_ok());

    assert!(matches!(
        parse("Name: x\nVersion: 1\n"),
        Err(MetadataError::MissingField {
            field: "Metadata-Version"
        })
    ));
    assert!(matches!(
        parse("Metadata-Version: 2.1\nName: x\nVersion: banana\n"),
        Err(MetadataError::InvalidVersion { .. })
    ));
    let bad = parse("Metadata-Version: 2.1\nName: x\nVersion: 1\nRequires-Dist: foo >=>= 1\n")
        .unwrap_err();
    assert!(
        bad.to_string()
            .starts_with("The metadata's `Requires-Dist: foo >=>= 1` is not a valid requirement"),
        "{bad}"
    );
    assert!(bad.is_release_unusable());
    // An invalid Requires-Python is ignored, as pip ignores it.
    let lenient =
        parse("Metadata-Version: 2.1\nName: x\nVersion: 1\nRequires-Python: >=3.6.*\n").unwrap();
    assert!(lenient.requires_python.is_none());
}

#[test]
fn reads_metadata_from_wheels_and_sdists() {
    let dir = tempfile::tempdir().unwrap();
    let meta = Meta {
        requires_dist: &["b>=1", "c; extra == \"x\""],
        provides_extra: &["x"],
        ..Meta::default()
    };
    let wheel = write_wheel_with(dir.path(), "demo_pkg", "1.0", &meta);
    let text = wheel_metadata(
        "demo_pkg-1.0-py3-none-any.whl",
        &std::fs::read(wheel).unwrap(),
    )
    .unwrap();
    let m = parse(&text).unwrap();
    assert_eq!(m.requires_dist.len(), 2);
    assert_eq!(m.provides_extra.len(), 1);

    let sdist = write_sdist_with(
        dir.path(),
        "demo_pkg",
        "1.0",
        &Meta {
            metadata_version: Some("2.2"),
            ..meta
        },
    );
    let text = sdist_pkg_info(
        "demo_pkg-1.0.tar.gz",
        ".tar.gz",
        &std::fs::read(sdist).unwrap(),
    )
    .unwrap();
    assert_eq!(parse(&text).unwrap().metadata_version, "2.2");

    let error = wheel_metadata("x-1-py3-none-any.whl", b"not a zip").unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("x-1-py3-none-any.whl holds no readable METADATA")
    );
    let error = sdist_pkg_info("x-1.tar.bz2", ".tar.bz2", b"").unwrap_err();
    assert!(
        error
            .to_string()
            .contains("does not read `.tar.bz2` archives"),
        "{error}"
    );
}

fn client() -> PypiClient {
    PypiClient::new(
        HttpClient::new(HttpConfig {
            backoff: Duration::from_millis(5),
            retries: 0,
            ..HttpConfig::default()
        })
        .unwrap(),
    )
}

fn page(files: serde_json::Value) -> String {
    serde_json::json!({"meta": {"api-version": "1.1"}, "name": "demo", "files": files}).to_string()
}

async fn release_on(server: &wiremock::MockServer, body: String) -> (Index, Release) {
    let page = crate::registry::pypi::simple_json::parse(
        body.as_bytes(),
        &url::Url::parse(&format!("{}/simple/demo/", server.uri())).unwrap(),
        "demo",
    )
    .unwrap();
    let index = Index::new(
        IndexUrl::new(url::Url::parse(&format!("{}/simple/", server.uri())).unwrap()),
        IndexSource::Config,
    );
    let project = Project::from_page("demo", index.url.clone(), PageFormat::Json, page);
    let release = project.releases.into_values().next().unwrap();
    (index, release)
}

#[tokio::test]
async fn prefers_pep_658_metadata_and_checks_its_hash() {
    let server = strict_server().await;
    let text = "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: dep>=2\n";
    let body = page(serde_json::json!([
        {"filename": "demo-1.0.tar.gz", "url": "/files/demo-1.0.tar.gz", "hashes": {"sha256": "00"}},
        {"filename": "demo-1.0-py3-none-any.whl", "url": "/files/demo-1.0-py3-none-any.whl",
         "hashes": {"sha256": "11"}, "core-metadata": {"sha256": sha256_hex(text.as_bytes())}},
    ]));
    Mock::given(method("GET"))
        .and(path("/files/demo-1.0-py3-none-any.whl.metadata"))
        .respond_with(ResponseTemplate::new(200).set_body_string(text))
        .expect(1)
        .mount(&server)
        .await;
    let (index, release) = release_on(&server, body).await;
    let m = client().metadata(&index, &release).await.unwrap();
    assert_eq!(m.requires_dist[0].name.to_string(), "dep");

    let tampered = page(serde_json::json!([
        {"filename": "demo-1.0-py3-none-any.whl", "url": "/files/demo-1.0-py3-none-any.whl",
         "hashes": {"sha256": "11"}, "core-metadata": {"sha256": "beef"}},
    ]));
    let server = strict_server().await;
    Mock::given(method("GET"))
        .and(path("/files/demo-1.0-py3-none-any.whl.metadata"))
        .respond_with(ResponseTemplate::new(200).set_body_string(text))
        .mount(&server)
        .await;
    let (index, release) = release_on(&server, tampered).await;
    let error = client().metadata(&index, &release).await.unwrap_err();
    assert!(
        matches!(error, MetadataError::HashMismatch { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn falls_back_to_the_wheel_then_to_a_static_sdist() {
    let dir = tempfile::tempdir().unwrap();
    let meta = Meta {
        requires_dist: &["dep>=2"],
        ..Meta::default()
    };
    let wheel = std::fs::read(write_wheel_with(dir.path(), "demo", "1.0", &meta)).unwrap();
    let server = strict_server().await;
    let body = page(serde_json::json!([
        {"filename": "demo-1.0-py3-none-any.whl", "url": "/files/demo-1.0-py3-none-any.whl",
         "hashes": {"sha256": sha256_hex(&wheel)}},
    ]));
    Mock::given(method("GET"))
        .and(path("/files/demo-1.0-py3-none-any.whl"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(wheel.clone()))
        .expect(1)
        .mount(&server)
        .await;
    let (index, release) = release_on(&server, body).await;
    let m = client().metadata(&index, &release).await.unwrap();
    assert_eq!(m.requires_dist.len(), 1);

    // A wheel that is not what the index says is refused.
    let server = strict_server().await;
    let body = page(serde_json::json!([
        {"filename": "demo-1.0-py3-none-any.whl", "url": "/files/demo-1.0-py3-none-any.whl",
         "hashes": {"sha256": "00"}},
    ]));
    Mock::given(method("GET"))
        .and(path("/files/demo-1.0-py3-none-any.whl"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(wheel))
        .mount(&server)
        .await;
    let (index, release) = release_on(&server, body).await;
    let error = client().metadata(&index, &release).await.unwrap_err();
    assert!(
        matches!(error, MetadataError::HashMismatch { .. }),
        "{error}"
    );

    // Only an sdist: static 2.2 metadata is read, 2.1 needs a build.
    for (version, ok) in [("2.2", true), ("2.1", false)] {
        let sdist = std::fs::read(write_sdist_with(
            dir.path(),
            "demo",
            "1.0",
            &Meta {
                metadata_version: Some(version),
                ..meta.clone()
            },
        ))
        .unwrap();
        let server = strict_server().await;
        let body = page(serde_json::json!([
            {"filename": "demo-1.0.tar.gz", "url": "/files/demo-1.0.tar.gz",
             "hashes": {"sha256": sha256_hex(&sdist)}},
        ]));
        Mock::given(method("GET"))
            .and(path("/files/demo-1.0.tar.gz"))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(sdist))
            .mount(&server)
            .await;
        let (index, release) = release_on(&server, body).await;
        let result = client().metadata(&index, &release).await;
        assert_eq!(result.is_ok(), ok, "metadata {version}: {result:?}");
        if let Err(error) = result {
            assert!(matches!(error, MetadataError::NeedsBuild { .. }));
        }
    }
}

#[tokio::test]
async fn a_file_bigger_than_the_limit_is_not_downloaded() {
    let server = strict_server().await;
    let body = page(serde_json::json!([
        {"filename": "demo-1.0-py3-none-any.whl", "url": "/files/demo-1.0-py3-none-any.whl",
         "hashes": {"sha256": "00"}, "size": 1_000_000_000_000u64},
    ]));
    let (index, release) = release_on(&server, body).await;
    let error = client().metadata(&index, &release).await.unwrap_err();
    assert!(matches!(error, MetadataError::TooLarge { .. }), "{error}");
}

#[test]
fn the_changelog_is_found_by_its_well_known_labels() {
    // Flask 3.0.3's own Project-URL lines.
    let text = "Metadata-Version: 2.1\nName: Flask\nVersion: 3.0.3\nProject-URL: Donate, https://palletsprojects.com/donate\nProject-URL: Documentation, https://flask.palletsprojects.com/\nProject-URL: Changes, https://flask.palletsprojects.com/changes/\nProject-URL: Source, https://github.com/pallets/flask/\n";
    let m = parse(text).unwrap();
    assert_eq!(m.project_urls.len(), 4);
    assert_eq!(
        m.changelog_url(),
        Some("https://flask.palletsprojects.com/changes/")
    );
    // "Release Notes" and "Change Log" normalise to well-known labels; a changelog label wins
    // over a release-notes one; plain HTTP links are not offered.
    let text = "Metadata-Version: 2.1\nName: x\nVersion: 1\nProject-URL: Release Notes, https://example.org/notes\nProject-URL: Change-Log, https://example.org/log\n";
    assert_eq!(
        parse(text).unwrap().changelog_url(),
        Some("https://example.org/log")
    );
    let text = "Metadata-Version: 2.1\nName: x\nVersion: 1\nProject-URL: History, http://example.org/h\nProject-URL: Homepage, https://example.org\n";
    assert_eq!(parse(text).unwrap().changelog_url(), None);
}
