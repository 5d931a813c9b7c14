//! The client end to end: against in-process wiremock servers for PEP 691 JSON edge cases
//! (strict: any request no mock expects fails the test), against a real pypiserver for the PEP
//! 503 HTML path, and, opt-in, against PyPI itself.

use crate::testing::strict_server;
use std::str::FromStr;
use std::time::Duration;

use pep440_rs::Version;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::testing::{PypiServer, sha256_hex, write_sdist, write_wheel};
use super::*;
use crate::registry::http::{Auth, HttpClient, HttpConfig, HttpError};

const JSON: &str = "application/vnd.pypi.simple.v1+json";

fn config() -> HttpConfig {
    HttpConfig {
        backoff: Duration::from_millis(5),
        timeout: Duration::from_secs(5),
        ..HttpConfig::default()
    }
}

fn client() -> PypiClient {
    PypiClient::new(HttpClient::new(config()).unwrap())
}

fn index_on(server: &MockServer, path: &str) -> Index {
    let url = url::Url::parse(&format!("{}{path}", server.uri())).unwrap();
    Index::new(IndexUrl::new(url), IndexSource::Config)
}

fn json(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.as_bytes().to_vec(), JSON)
}

fn v(text: &str) -> Version {
    Version::from_str(text).unwrap()
}

const DEMO_PAGE: &str = r#"{
  "meta": {"api-version": "1.1"},
  "name": "demo",
  "versions": ["1.0", "1.1", "2.0b1", "2.0"],
  "files": [
    {"filename": "demo-1.0.tar.gz", "url": "/files/demo-1.0.tar.gz", "hashes": {"sha256": "aa01"},
     "upload-time": "2023-01-02T03:04:05.000006Z", "size": 100},
    {"filename": "demo-1.0-py3-none-any.whl", "url": "/files/demo-1.0-py3-none-any.whl",
     "hashes": {"sha256": "aa02"}, "upload-time": "2023-01-01T00:00:00Z", "core-metadata": {"sha256": "m1"}},
    {"filename": "demo-1.1.tar.gz", "url": "/files/demo-1.1.tar.gz", "hashes": {"sha256": "bb01"},
     "yanked": "CVE-2099-0001", "requires-python": ">=3.8"},
    {"filename": "demo-2.0b1-py3-none-any.whl", "url": "/files/demo-2.0b1-py3-none-any.whl",
     "hashes": {"sha256": "cc01"}, "requires-python": ">=3.10", "yanked": false},
    {"filename": "demo-2.0-py3-none-any.whl", "url": "/files/demo-2.0-py3-none-any.whl",
     "hashes": {"sha256": "dd01"}, "requires-python": ">=3.10", "upload-time": "2024-06-01T12:00:00Z"}
  ]
}"#;

#[tokio::test]
async fn json_page_with_yanks_pre_releases_requires_python_and_upload_times() {
    let server = strict_server().await;
    Mock::given(method("GET"))
        .and(path("/simple/demo/"))
        // wiremock's `header` matcher splits values at commas; compare the whole header.
        .and(|request: &wiremock::Request| {
            request.headers.get("accept").and_then(|v| v.to_str().ok()) == Some(ACCEPT_SIMPLE)
        })
        .respond_with(json(DEMO_PAGE))
        .expect(1)
        .mount(&server)
        .await;
    let project = client()
        .project(&index_on(&server, "/simple"), "DEMO")
        .await
        .unwrap();
    assert_eq!(project.name, "demo");
    assert_eq!(project.format, PageFormat::Json);
    let versions: Vec<String> = project.releases.keys().map(ToString::to_string).collect();
    assert_eq!(versions, ["1.0", "1.1", "2.0b1", "2.0"]);
    assert!(project.releases[&v("2.0b1")].version.is_pre());

    let v1 = &project.releases[&v("1.0")];
    assert_eq!(v1.upload_time.unwrap().to_string(), "2023-01-01T00:00:00Z");
    assert_eq!(v1.files[0].size, Some(100));
    assert_eq!(
        v1.files[0].url.as_str(),
        format!("{}/files/demo-1.0.tar.gz", server.uri())
    );
    assert_eq!(
        project.hashes_for(&v("1.0")),
        ["sha256:aa01", "sha256:aa02"]
    );
    assert!(matches!(
        v1.files[1].core_metadata,
        CoreMetadata::Present { .. }
    ));
    assert!(matches!(v1.files[1].kind, DistKind::Wheel(_)));

    let yanked = &project.releases[&v("1.1")];
    assert!(yanked.yanked);
    assert_eq!(yanked.yanked_reason.as_deref(), Some("CVE-2099-0001"));
    assert_eq!(
        yanked.requires_python.as_ref().unwrap().to_string(),
        ">=3.8"
    );

    let latest = &project.releases[&v("2.0")];
    assert!(!latest.yanked);
    assert!(latest.supports_python(&v("3.12")));
    assert!(!latest.supports_python(&v("3.9")));
    assert_eq!(
        latest.upload_time.unwrap().to_string(),
        "2024-06-01T12:00:00Z"
    );
}

#[tokio::test]
async fn follows_a_redirect_and_resolves_links_against_the_final_page() {
    let server = strict_server().await;
    // The name is normalised before the request: `Foo_Bar.baz` is asked for as `foo-bar-baz`.
    Mock::given(path("/simple/foo-bar-baz/"))
        .respond_with(
            ResponseTemplate::new(301).insert_header("location", "/mirror/simple/foo-bar-baz/"),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/mirror/simple/foo-bar-baz/"))
        .respond_with(json(
            r#"{"meta": {"api-version": "1.0"}, "files": [
                {"filename": "foo_bar_baz-1.0.tar.gz", "url": "../../files/foo_bar_baz-1.0.tar.gz", "hashes": {}}
            ]}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let project = client()
        .project(&index_on(&server, "/simple/"), "Foo_Bar.baz")
        .await
        .unwrap();
    assert_eq!(project.name, "foo-bar-baz");
    let file = &project.releases[&v("1.0")].files[0];
    assert_eq!(
        file.url.as_str(),
        format!("{}/mirror/files/foo_bar_baz-1.0.tar.gz", server.uri())
    );
}

#[tokio::test]
async fn not_found_is_its_own_error() {
    let server = strict_server().await;
    Mock::given(path("/simple/nope/"))
        .respond_with(ResponseTemplate::new(404).set_body_string("Not Found"))
        .expect(1)
        .mount(&server)
        .await;
    let index = index_on(&server, "/simple/");
    let error = client().project(&index, "nope").await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
    assert_eq!(
        error.to_string(),
        format!("Package `nope` was not found on {}/simple/", server.uri())
    );
    // A name that is no project name is not even asked for.
    let bad = client().project(&index, "../etc").await.unwrap_err();
    assert!(bad.is_not_found());
}

#[tokio::test]
async fn retries_429_with_retry_after_and_500_then_succeeds() {
    let server = strict_server().await;
    Mock::given(path("/simple/limited/"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/simple/limited/"))
        .respond_with(json(
            r#"{"meta": {"api-version": "1.1"}, "files": [], "versions": ["1.0"]}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/simple/flaky/"))
        .respond_with(ResponseTemplate::new(500).set_body_string("oops"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/simple/flaky/"))
        .respond_with(json(
            r#"{"meta": {"api-version": "1.1"}, "files": [], "versions": ["2.0"]}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = client();
    let index = index_on(&server, "/simple/");
    let limited = client.project(&index, "limited").await.unwrap();
    assert!(
        crate::registry::http::pause::waited().contains(&Duration::from_secs(1)),
        "Retry-After: 1 was not honoured ({:?})",
        crate::registry::http::pause::waited()
    );
    assert!(limited.releases.contains_key(&v("1.0")));
    let flaky = client.project(&index, "flaky").await.unwrap();
    assert!(flaky.releases.contains_key(&v("2.0")));
}

#[tokio::test]
async fn truncated_json_is_a_clear_error() {
    let server = strict_server().await;
    Mock::given(path("/simple/cut/"))
        .respond_with(json(
            r#"{"meta": {"api-version": "1.1"}, "files": [{"filename": "cut-1"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let error = client()
        .project(&index_on(&server, "/simple/"), "cut")
        .await
        .unwrap_err();
    assert!(matches!(error, PypiError::InvalidJson { .. }), "{error}");
    assert!(
        error
            .to_string()
            .starts_with("The index page for `cut` at ")
    );
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert!(cause.starts_with("EOF while parsing"), "{cause}");
}

#[tokio::test]
async fn a_slow_index_times_out() {
    let server = strict_server().await;
    Mock::given(path("/simple/slow/"))
        .respond_with(json("{}").set_delay(Duration::from_secs(3)))
        .expect(1)
        .mount(&server)
        .await;
    let http = HttpClient::new(HttpConfig {
        timeout: Duration::from_millis(300),
        retries: 0,
        ..config()
    })
    .unwrap();
    let error = PypiClient::new(http)
        .project(&index_on(&server, "/simple/"), "slow")
        .await
        .unwrap_err();
    match &error {
        PypiError::Http { source, .. } if matches!(**source, HttpError::Timeout { .. }) => {}
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(error.to_string().starts_with("Cannot look up `slow` on "));
}

#[tokio::test]
async fn a_package_on_two_indexes_is_a_confusion_risk() {
    let private = strict_server().await;
    let public = strict_server().await;
    Mock::given(path("/simple/internal-lib/"))
        .respond_with(json(
            r#"{"meta": {"api-version": "1.1"}, "files": [
                {"filename": "internal_lib-1.0.tar.gz", "url": "internal_lib-1.0.tar.gz", "hashes": {"sha256": "11"}}
            ]}"#,
        ))
        .expect(1)
        .mount(&private)
        .await;
    Mock::given(path("/simple/internal-lib/"))
        .respond_with(json(
            r#"{"meta": {"api-version": "1.1"}, "files": [
                {"filename": "internal_lib-1.0-py3-none-any.whl", "url": "internal_lib-1.0-py3-none-any.whl", "hashes": {"sha256": "22"}},
                {"filename": "internal_lib-99.0.tar.gz", "url": "internal_lib-99.0.tar.gz", "hashes": {"sha256": "99"}}
            ]}"#,
        ))
        .expect(1)
        .mount(&public)
        .await;
    let indexes = [
        index_on(&private, "/simple/"),
        index_on(&public, "/simple/"),
    ];
    let lookup = client().lookup(&indexes, "Internal_Lib").await.unwrap();
    assert_eq!(lookup.name, "internal-lib");
    assert!(lookup.confusion_risk());
    assert_eq!(
        lookup.found_on,
        [indexes[0].url.clone(), indexes[1].url.clone()]
    );
    let both = &lookup.releases[&v("1.0")];
    assert_eq!(both.len(), 2);
    assert_eq!(both[0].index, indexes[0].url);
    assert_eq!(both[1].index, indexes[1].url);
    assert_eq!(lookup.hashes_for(&v("1.0")), ["sha256:11", "sha256:22"]);
    assert_eq!(lookup.releases[&v("99.0")][0].index, indexes[1].url);
    assert_eq!(
        lookup.release(&v("1.0")).unwrap().files[0].filename,
        "internal_lib-1.0.tar.gz"
    );
    assert!(lookup.warnings.is_empty());
}

#[tokio::test]
async fn one_failing_index_is_a_warning_when_another_answers() {
    let good = strict_server().await;
    let broken = strict_server().await;
    Mock::given(path("/simple/pkg/"))
        .respond_with(json(
            r#"{"meta": {"api-version": "1.1"}, "files": [], "versions": ["3.0"]}"#,
        ))
        .expect(1)
        .mount(&good)
        .await;
    Mock::given(path("/simple/pkg/"))
        .respond_with(ResponseTemplate::new(503).set_body_string("maintenance"))
        .expect(4)
        .mount(&broken)
        .await;
    Mock::given(path("/simple/absent/"))
        .respond_with(ResponseTemplate::new(404))
        .expect(2)
        .mount(&good)
        .await;
    Mock::given(path("/simple/absent/"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&broken)
        .await;
    let indexes = [index_on(&good, "/simple/"), index_on(&broken, "/simple/")];
    let client = client();
    let lookup = client.lookup(&indexes, "pkg").await.unwrap();
    assert_eq!(lookup.found_on, [indexes[0].url.clone()]);
    assert!(!lookup.confusion_risk());
    assert_eq!(lookup.warnings.len(), 1);
    let warning = lookup.warnings[0].to_string();
    assert!(warning.starts_with("Cannot look up `pkg` on "), "{warning}");
    let cause = std::error::Error::source(&lookup.warnings[0])
        .unwrap()
        .to_string();
    assert!(cause.ends_with("answered HTTP 503: maintenance"), "{cause}");

    let missing = client.lookup(&indexes, "absent").await.unwrap_err();
    assert_eq!(
        missing.to_string(),
        format!(
            "Package `absent` was not found on {}/simple/, {}/simple/",
            good.uri(),
            broken.uri()
        )
    );
    let no_index = client.lookup(&[], "absent").await.unwrap_err();
    assert!(matches!(no_index, PypiError::NoIndex { .. }));
    let on_one = client.lookup(&indexes[..1], "absent").await.unwrap_err();
    assert!(on_one.is_not_found(), "{on_one}");
}

#[tokio::test]
async fn refused_access_gives_a_credentials_hint_and_never_the_secret() {
    let server = strict_server().await;
    Mock::given(path("/private/simple/secret-pkg/"))
        .and(header("authorization", "Basic dXNlcjpodW50ZXIy"))
        .respond_with(ResponseTemplate::new(403))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/private/simple/secret-pkg/"))
        .respond_with(ResponseTemplate::new(401).insert_header("www-authenticate", "Basic"))
        .expect(1)
        .mount(&server)
        .await;
    let client = client();
    let anonymous = index_on(&server, "/private/simple/");
    let error = client.project(&anonymous, "secret-pkg").await.unwrap_err();
    assert!(
        matches!(
            error,
            PypiError::Unauthorized {
                status: 401,
                sent_credentials: false,
                ..
            }
        ),
        "{error}"
    );
    assert!(error.hint().unwrap().contains("needs credentials"));

    let mut with_auth = anonymous.clone();
    with_auth.auth = Some(Auth::Basic {
        username: "user".into(),
        password: "hunter2".into(),
    });
    let error = client.project(&with_auth, "secret-pkg").await.unwrap_err();
    assert!(
        matches!(
            error,
            PypiError::Unauthorized {
                status: 403,
                sent_credentials: true,
                ..
            }
        ),
        "{error}"
    );
    let shown = format!("{error} {error:?} {}", error.hint().unwrap());
    assert!(shown.contains("were rejected"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[tokio::test]
async fn html_pages_unknown_types_and_sniffing() {
    let server = strict_server().await;
    Mock::given(path("/simple/htmlpkg/"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"<a href="/p/htmlpkg-1.0.tar.gz#sha256=AB" data-requires-python="&gt;=3.9">htmlpkg-1.0.tar.gz</a>"#,
            "text/html; charset=utf-8",
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/simple/plain/"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("hello", "text/plain"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/simple/untyped/"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(
            br#" {"files": [{"filename": "untyped-0.1.zip", "url": "untyped-0.1.zip"}]}"#.to_vec(),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = client();
    let index = index_on(&server, "/simple/");
    let html = client.project(&index, "htmlpkg").await.unwrap();
    assert_eq!(html.format, PageFormat::Html);
    let release = &html.releases[&v("1.0")];
    assert_eq!(
        release.requires_python.as_ref().unwrap().to_string(),
        ">=3.9"
    );
    assert_eq!(html.hashes_for(&v("1.0")), ["sha256:ab"]);

    let plain = client.project(&index, "plain").await.unwrap_err();
    assert_eq!(
        plain.to_string(),
        format!(
            "The index answered `plain` at {}/simple/plain/ with `text/plain`, which is not a simple-API page",
            server.uri()
        )
    );
    let untyped = client.project(&index, "untyped").await.unwrap();
    assert_eq!(untyped.format, PageFormat::Json);
    assert!(untyped.releases.contains_key(&v("0.1")));
}

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/pypi")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The same project as PyPI serves it in both formats: a snapshot of what the JSON says, and
/// the HTML must say the same wherever HTML can say it (it has no upload times or sizes).
#[test]
fn fixture_pages_in_both_formats_agree() {
    let index = IndexUrl::new(url::Url::parse("https://pypi.example/simple/").unwrap());
    let page_url = index.project_url("demo-pkg");
    let json_page = simple_json::parse(&fixture("demo-pkg.json"), &page_url, "demo-pkg").unwrap();
    assert_eq!(json_page.api_version.as_deref(), Some("1.3"));
    let json = Project::from_page("demo-pkg", index.clone(), PageFormat::Json, json_page);
    let html_page = simple_html::parse(&fixture("demo-pkg.html"), &page_url, "demo-pkg").unwrap();
    assert_eq!(html_page.api_version.as_deref(), Some("1.3"));
    let html = Project::from_page("demo-pkg", index, PageFormat::Html, html_page);
    insta::assert_yaml_snapshot!("demo_pkg_from_json", json);

    let mut without_json_only_fields = json.clone();
    without_json_only_fields.format = PageFormat::Html;
    for release in without_json_only_fields.releases.values_mut() {
        release.upload_time = None;
        for file in &mut release.files {
            file.upload_time = None;
            file.size = None;
        }
    }
    assert_eq!(without_json_only_fields, html);
}

/// The PEP 503 HTML path against a real pypiserver, with files this test writes.
#[tokio::test]
async fn pypiserver_serves_versions_and_hashes_of_the_files_written() {
    let packages = tempfile::tempdir().unwrap();
    let dir = packages.path();
    let files = [
        write_wheel(dir, "demo_pkg", "1.0", Some(">=3.8")),
        write_sdist(dir, "demo_pkg", "1.0", Some(">=3.8")),
        write_wheel(dir, "demo_pkg", "1.1rc1", None),
        // An old-style sdist name with the hyphen of the project name.
        write_sdist(dir, "demo-pkg", "2.0", None),
        write_sdist(dir, "other_lib", "0.3.0", None),
    ];
    let server = PypiServer::start(dir);
    check_archives_with_python(&files);
    assert_eq!(server.index_url().port(), Some(server.port()));
    let index = Index::new(IndexUrl::new(server.index_url()), IndexSource::Default);
    let client = client();
    let project = client
        .project(&index, "Demo.Pkg")
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    assert_eq!(project.format, PageFormat::Html);
    assert_eq!(project.name, "demo-pkg");
    let versions: Vec<String> = project.releases.keys().map(ToString::to_string).collect();
    assert_eq!(versions, ["1.0", "1.1rc1", "2.0"]);
    assert!(project.releases[&v("1.1rc1")].version.is_pre());
    assert!(project.warnings.is_empty(), "{:?}", project.warnings);

    let digest = |i: usize| format!("sha256:{}", sha256_hex(&std::fs::read(&files[i]).unwrap()));
    let mut expected = vec![digest(0), digest(1)];
    expected.sort();
    assert_eq!(project.hashes_for(&v("1.0")), expected);
    assert_eq!(project.hashes_for(&v("2.0")), [digest(3)]);
    // pypiserver does not serve `data-requires-python`, yanks or core metadata.
    let release = &project.releases[&v("1.0")];
    assert!(release.requires_python.is_none() && !release.yanked);

    // The links point at files that download with the advertised hash.
    for file in &release.files {
        assert_eq!(
            file.url.as_str(),
            format!("{}packages/{}", server.base_url(), file.filename)
        );
        let response = client
            .http()
            .send(crate::registry::http::Request::get(file.url.clone()))
            .await
            .unwrap()
            .ensure_success()
            .unwrap();
        assert_eq!(Some(sha256_hex(&response.body).as_str()), file.sha256());
    }

    let other = client.project(&index, "other_lib").await.unwrap();
    assert_eq!(
        other
            .releases
            .keys()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["0.3.0"]
    );
    let missing = client.project(&index, "not-there").await.unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
    let lookup = client
        .lookup(std::slice::from_ref(&index), "demo_pkg")
        .await
        .unwrap();
    assert_eq!(lookup.found_on, std::slice::from_ref(&index.url));
    assert!(!lookup.confusion_risk());
}

/// The archives this crate writes for pypiserver are real: Python's own readers accept them.
fn check_archives_with_python(files: &[std::path::PathBuf]) {
    let script = r#"
import sys, tarfile, zipfile
for path in sys.argv[1:]:
    if path.endswith(".whl"):
        with zipfile.ZipFile(path) as z:
            assert z.testzip() is None, path
            meta = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
            text = z.read(meta[0]).decode()
    else:
        with tarfile.open(path) as t:
            member = [m for m in t.getmembers() if m.name.endswith("/PKG-INFO")][0]
            text = t.extractfile(member).read().decode()
    assert "Version: " in text, path
print("ok")
"#;
    let output = std::process::Command::new(super::testing::python())
        .arg("-c")
        .arg(script)
        .args(files)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Opt-in: PyPI itself, the one test that needs the internet. Ignored, so test runs list it
/// as skipped rather than passing it vacuously; run it with
/// `cargo nextest run --run-ignored only live_pypi`.
#[tokio::test]
#[ignore = "needs the internet: cargo nextest run --run-ignored only live_pypi"]
async fn live_pypi_smoke_test() {
    let resolver = IndexResolver::new(
        Environment::isolated("/nonexistent"),
        ConfiguredIndexes::default(),
    )
    .unwrap();
    let indexes = resolver
        .indexes(&crate::manifest::python::IndexOptions::default(), None)
        .unwrap();
    assert_eq!(indexes[0].url.to_string(), index_config::DEFAULT_INDEX_URL);
    let lookup = client().lookup(&indexes, "Six").await.unwrap();
    let project_release = lookup.release(&v("1.16.0")).unwrap();
    assert!(!project_release.files.is_empty());
    assert_eq!(
        lookup.hashes_for(&v("1.16.0")).len(),
        project_release.files.len()
    );
    assert!(project_release.upload_time.is_some());
    let project = client().project(&indexes[0], "six").await.unwrap();
    assert_eq!(project.format, PageFormat::Json);
}

// Hostile indexes (issue 10), on real loopback servers.

use crate::loopback::{Loopback, Reply};

fn loopback_index(server: &Loopback, user: &str, password: &str) -> Index {
    let mut url = url::Url::parse(&server.url("/simple/")).unwrap();
    url.set_username(user).unwrap();
    url.set_password(Some(password)).unwrap();
    let mut index = Index::new(IndexUrl::new(url), IndexSource::Config);
    index.auth = Some(Auth::Basic {
        username: user.into(),
        password: password.into(),
    });
    index
}

#[tokio::test]
async fn index_credentials_stay_on_the_index_origin() {
    // Files, metadata and a moved page live on another origin (another port of the same host).
    let cdn = Loopback::start(|seen| {
        if seen.path.ends_with(".metadata") {
            Reply::ok(
                "text/plain",
                "Metadata-Version: 2.1\nName: victim\nVersion: 1.0\n"
                    .as_bytes()
                    .to_vec(),
            )
        } else {
            Reply::ok(
                JSON,
                r#"{"meta":{"api-version":"1.1"},"files":[]}"#.as_bytes().to_vec(),
            )
        }
    });
    let cdn_base = cdn.url("");
    let index = Loopback::start(move |seen| {
        match seen.path.as_str() {
        "/simple/victim/" => Reply::ok(
            JSON,
            format!(
                r#"{{"meta":{{"api-version":"1.1"}},"files":[{{"filename":"victim-1.0-py3-none-any.whl","url":"{cdn_base}/files/victim-1.0-py3-none-any.whl","hashes":{{}},"core-metadata":true}}]}}"#
            )
            .into_bytes(),
        ),
        "/simple/moved/" => Reply::redirect(301, &format!("{cdn_base}/simple/moved/")),
        _ => Reply::status(404, ""),
    }
    });
    let client = PypiClient::new(HttpClient::new(HttpConfig::for_run()).unwrap());
    let idx = loopback_index(&index, "canary-user", "canary-index-pw");
    let project = client.project(&idx, "victim").await.unwrap();
    let release = project.releases.values().next().unwrap();
    let metadata = client.metadata(&idx, release).await.unwrap();
    assert_eq!(metadata.name.to_string(), "victim");
    let moved = client.project(&idx, "moved").await.unwrap();
    assert!(moved.releases.is_empty());
    // The index saw the credentials; the other origin never did.
    assert!(
        index
            .requests()
            .iter()
            .all(|r| r.header("authorization").is_some())
    );
    let cdn_seen = cdn.requests();
    assert_eq!(cdn_seen.len(), 2, "{cdn_seen:?}");
    assert!(
        cdn_seen.iter().all(|r| r.header("authorization").is_none()),
        "{cdn_seen:?}"
    );
}

#[tokio::test]
async fn pages_beyond_the_limits_are_refused_not_read_into_memory() {
    // 100,001 distinct versions in a PEP 700 list of a page of no files: refused as soon as the
    // limit is passed.
    let mut versions = String::from("[");
    for i in 0..=super::model::MAX_RELEASES {
        if i > 0 {
            versions.push(',');
        }
        versions.push_str(&format!("\"1.{i}\""));
    }
    versions.push(']');
    let body = format!(r#"{{"meta":{{"api-version":"1.1"}},"versions":{versions},"files":[]}}"#);
    let big = vec![b' '; MAX_PAGE_BYTES + 1];
    let server = Loopback::start(move |seen| match seen.path.as_str() {
        "/simple/many/" => Reply::ok(JSON, body.clone().into_bytes()),
        "/simple/huge/" => Reply::ok(JSON, big.clone()),
        _ => Reply::status(404, ""),
    });
    let client = PypiClient::new(HttpClient::new(HttpConfig::for_run()).unwrap());
    let idx = Index::new(
        IndexUrl::new(url::Url::parse(&server.url("/simple/")).unwrap()),
        IndexSource::Config,
    );
    let many = client.project(&idx, "many").await.unwrap_err();
    assert!(
        matches!(
            many,
            PypiError::PageTooLarge {
                what: "versions",
                ..
            }
        ),
        "{many}"
    );
    assert!(
        many.to_string()
            .ends_with("lists more than 100000 versions, more than repin reads"),
        "{many}"
    );
    let huge = client.project(&idx, "huge").await.unwrap_err();
    let cause = std::error::Error::source(&huge).unwrap().to_string();
    assert!(
        cause.ends_with(&format!("sent more than {MAX_PAGE_BYTES} bytes")),
        "{cause}"
    );
}

#[test]
fn a_page_keeps_a_bounded_number_of_warnings() {
    let mut files = Vec::new();
    for i in 0..500 {
        files.push(format!(
            r#"{{"filename":"other{i}-1.0.tar.gz","url":"other{i}-1.0.tar.gz"}}"#
        ));
    }
    let body = format!(r#"{{"files":[{}]}}"#, files.join(","));
    let url = url::Url::parse("https://pypi.example/simple/victim/").unwrap();
    let mut builder = ProjectBuilder::new(
        "victim",
        IndexUrl::new(url::Url::parse("https://pypi.example/simple/").unwrap()),
        PageFormat::Json,
    );
    simple_json::parse_into(body.as_bytes(), &url, "victim", &mut builder).unwrap();
    let project = builder.finish();
    assert_eq!(project.warnings.len(), MAX_WARNINGS + 1);
    assert_eq!(
        project.warnings.last().unwrap(),
        "480 more warnings about this page were left out"
    );
}

/// A builder for one release keeps that release's files only, from JSON and HTML pages alike
/// (the PEP 700 `versions` list included), while the page's other files still count against
/// its limits.
#[test]
fn a_builder_for_one_release_keeps_only_its_files() {
    let json = r#"{"meta":{"api-version":"1.1"},"versions":["1.0","1.1","2.0"],"files":[
        {"filename":"victim-1.0.tar.gz","url":"victim-1.0.tar.gz","hashes":{}},
        {"filename":"victim-1.1.tar.gz","url":"victim-1.1.tar.gz","hashes":{}},
        {"filename":"victim-1.1-py3-none-any.whl","url":"victim-1.1-py3-none-any.whl","hashes":{}},
        {"filename":"victim-2.0.tar.gz","url":"victim-2.0.tar.gz","hashes":{}}]}"#;
    let html = r#"<a href="victim-1.0.tar.gz">victim-1.0.tar.gz</a>
        <a href="victim-1.1.tar.gz">victim-1.1.tar.gz</a>
        <a href="victim-1.1-py3-none-any.whl">victim-1.1-py3-none-any.whl</a>"#;
    let url = url::Url::parse("https://pypi.example/simple/victim/").unwrap();
    let index = IndexUrl::new(url::Url::parse("https://pypi.example/simple/").unwrap());
    let wanted = Version::from_str("1.1").unwrap();
    for format in [PageFormat::Json, PageFormat::Html] {
        let mut builder =
            ProjectBuilder::new("victim", index.clone(), format).only(Some(wanted.clone()));
        match format {
            PageFormat::Json => {
                simple_json::parse_into(json.as_bytes(), &url, "victim", &mut builder).unwrap();
            }
            PageFormat::Html => {
                simple_html::parse_into(html.as_bytes(), &url, "victim", &mut builder).unwrap();
            }
        }
        let project = builder.finish();
        let versions: Vec<String> = project.releases.keys().map(ToString::to_string).collect();
        assert_eq!(versions, ["1.1"], "{format:?}");
        let files: Vec<&str> = project.releases[&wanted]
            .files
            .iter()
            .map(|f| f.filename.as_str())
            .collect();
        assert_eq!(
            files,
            ["victim-1.1.tar.gz", "victim-1.1-py3-none-any.whl"],
            "{format:?}"
        );
    }
}
