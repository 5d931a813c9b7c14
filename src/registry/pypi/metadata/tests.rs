//! Core metadata: parsing, archives, and the fetch order against a strict in-process index.

use std::str::FromStr;
use std::time::Duration;

use pep508_rs::{ExtraName, MarkerEnvironment};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use super::super::testing::{
    Meta, sha256_hex, tar_header, write_sdist_with, write_wheel_with, zip_stored,
};
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
    // The index's words quoted in the message are one plain line: no terminal escape, no line
    // of its own (a line starting with `::` is a workflow command in GitHub Actions' log).
    let hostile = parse(
        "Metadata-Version: 2.1\nName: x\nVersion: 1\nRequires-Dist: foo\x1b[2J >=>= 1\r::add-mask::x\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        !hostile.contains(['\x1b', '\r', '\n']) && hostile.contains("`Requires-Dist: foo >=>= 1`"),
        "{hostile:?}"
    );
    // Names and extras pep508_rs would panic on are refused before it sees them (found by the
    // `metadata` fuzz target): the message is repin's, not "the PEP 508 parser failed".
    for (line, says) in [
        ("request- (>=2.0)", "Invalid package name `request-`"),
        (
            "demo. ; python_version < '3'",
            "Invalid package name `demo.`",
        ),
        ("demo[test-, b] >= 1", "Invalid extra `test-`"),
    ] {
        let error = parse_requirement(line).unwrap_err().to_string();
        assert!(error.contains(says), "{line}: {error}");
    }
    assert!(parse_requirement("demo[test] (>=2.0) ; extra == 'test'").is_ok());
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

/// A gzipped tar of `members` (name, content), as sdists are.
fn tar_gz(members: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for (name, data) in members {
        gz.write_all(&tar_header(name, data.len())).unwrap();
        gz.write_all(data).unwrap();
        gz.write_all(&vec![0; data.len().div_ceil(512) * 512 - data.len()])
            .unwrap();
    }
    gz.write_all(&[0; 1024]).unwrap();
    gz.finish().unwrap()
}

// Found while writing the `dist_archive` fuzz target: an sdist was unpacked whole into memory
// and a member read to its end, so a hostile index's gzip bomb (64 MiB unpacking to 64 GiB)
// exhausted memory. Now the tar is streamed, members before `PKG-INFO` are skipped, never held.
#[test]
fn sdists_are_read_as_a_stream_and_members_are_bounded() {
    let pkg_info = b"Metadata-Version: 2.2\nName: demo\nVersion: 1.0\n";
    let big = vec![0u8; 32 << 20];
    let sdist = tar_gz(&[("demo-1.0/data.bin", &big), ("demo-1.0/PKG-INFO", pkg_info)]);
    drop(big);
    let (text, allocated) = crate::alloc_count::allocated_by(|| {
        sdist_pkg_info("demo-1.0.tar.gz", ".tar.gz", &sdist).unwrap()
    });
    assert_eq!(text.as_bytes(), pkg_info);
    // 32 MiB were unpacked; what was held is the decoder's buffers and the member.
    assert!(allocated < 4 << 20, "{allocated} bytes allocated");

    // A PKG-INFO (or a long name, or a pax record) claiming more than the bound is refused
    // before anything is read.
    let mut header = tar_header("demo-1.0/PKG-INFO", 0);
    header[124..136].copy_from_slice(format!("{:011o}\0", MAX_MEMBER_BYTES + 1).as_bytes());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &header).unwrap();
    let error = sdist_pkg_info("demo-1.0.tar.gz", ".tar.gz", &gz.finish().unwrap()).unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with(&format!("a member is larger than {MAX_MEMBER_BYTES} bytes")),
        "{error}"
    );

    // Truncated and damaged archives are errors, never panics.
    let cut = &sdist[..sdist.len() / 2];
    assert!(sdist_pkg_info("demo-1.0.tar.gz", ".tar.gz", cut).is_err());
}

#[test]
fn zip_metadata_members_are_bounded() {
    let huge = vec![b'a'; (MAX_MEMBER_BYTES + 1) as usize];
    let wheel = zip_stored(&[("demo-1.0.dist-info/METADATA", &huge)]);
    let error = wheel_metadata("demo-1.0-py3-none-any.whl", &wheel).unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with(&format!("it unpacks to more than {MAX_MEMBER_BYTES} bytes")),
        "{error}"
    );
    let sdist = zip_stored(&[("demo-1.0/PKG-INFO", &huge)]);
    let error = sdist_pkg_info("demo-1.0.zip", ".zip", &sdist).unwrap_err();
    assert!(
        error.to_string().contains("unpacks to more than"),
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

/// A wheel whose `METADATA` is its first member, followed by `payload` bytes of stored data
/// (so the metadata is far from the end), with a deflated `METADATA`.
fn big_wheel(requires: &str, payload: usize) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let deflated = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(payload > u32::MAX as usize);
        zip.start_file("demo-1.0.dist-info/METADATA", deflated)
            .unwrap();
        write!(
            zip,
            "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: {requires}\n"
        )
        .unwrap();
        zip.start_file("demo/data.bin", stored).unwrap();
        // Not all zeros, so nothing along the way could shrink it.
        let chunk: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut left = payload;
        while left > 0 {
            let n = left.min(chunk.len());
            zip.write_all(&chunk[..n]).unwrap();
            left -= n;
        }
        zip.start_file("demo-1.0.dist-info/RECORD", stored).unwrap();
        zip.finish().unwrap();
    }
    out.into_inner()
}

/// Answers `GET` of one file as a static file server does: `206` for a `Range` (a span or a
/// suffix), `200` with everything otherwise; counts the body bytes it sends.
#[derive(Clone)]
struct RangeFile {
    bytes: std::sync::Arc<Vec<u8>>,
    sent: std::sync::Arc<std::sync::atomic::AtomicU64>,
    honour_ranges: bool,
}

impl RangeFile {
    fn new(bytes: Vec<u8>, honour_ranges: bool) -> Self {
        RangeFile {
            bytes: std::sync::Arc::new(bytes),
            sent: std::sync::Arc::default(),
            honour_ranges,
        }
    }

    fn sent(&self) -> u64 {
        self.sent.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl wiremock::Respond for RangeFile {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let total = self.bytes.len() as u64;
        let range = request
            .headers
            .get("range")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("bytes="))
            .filter(|_| self.honour_ranges);
        let (start, end, status) = match range.and_then(|r| r.split_once('-')) {
            Some(("", n)) => (total.saturating_sub(n.parse().unwrap()), total - 1, 206),
            Some((a, b)) => (
                a.parse().unwrap(),
                b.parse::<u64>().unwrap().min(total - 1),
                206,
            ),
            None => (0, total - 1, 200),
        };
        let body = self.bytes[start as usize..=end as usize].to_vec();
        self.sent
            .fetch_add(body.len() as u64, std::sync::atomic::Ordering::Relaxed);
        let template = ResponseTemplate::new(status).set_body_bytes(body);
        if status == 206 {
            template.insert_header("content-range", format!("bytes {start}-{end}/{total}"))
        } else {
            template
        }
    }
}

fn client_with_limit(max_body: usize, cache: Option<&std::path::Path>) -> PypiClient {
    PypiClient::new(
        HttpClient::new(HttpConfig {
            backoff: Duration::from_millis(5),
            retries: 0,
            max_body,
            cache: cache.map_or(crate::registry::http::CacheMode::Disabled, |dir| {
                crate::registry::http::CacheMode::Enabled(crate::registry::http::Cache::new(dir))
            }),
            ..HttpConfig::default()
        })
        .unwrap(),
    )
}

#[tokio::test]
async fn a_wheel_larger_than_the_body_limit_is_read_by_ranges() {
    let wheel = big_wheel("dep>=2", 4 * 1024 * 1024);
    let size = wheel.len() as u64;
    let file = RangeFile::new(wheel.clone(), true);
    let server = strict_server().await;
    Mock::given(method("GET"))
        .and(path("/files/demo-1.0-py3-none-any.whl"))
        .respond_with(file.clone())
        .expect(2)
        .mount(&server)
        .await;
    let body = page(serde_json::json!([
        {"filename": "demo-1.0-py3-none-any.whl", "url": "/files/demo-1.0-py3-none-any.whl",
         "hashes": {"sha256": sha256_hex(&wheel)}, "size": size},
    ]));
    let (index, release) = release_on(&server, body).await;
    // A limit of 1 MiB, a wheel of 4 MiB: only its tail and its METADATA are read.
    let m = client_with_limit(1024 * 1024, None)
        .metadata(&index, &release)
        .await
        .unwrap();
    assert_eq!(m.requires_dist[0].to_string(), "dep>=2");
    assert!(
        file.sent() < super::zip_ranges::TAIL + 1024,
        "{} bytes sent for a {size}-byte wheel",
        file.sent()
    );
}

#[tokio::test]
async fn without_ranges_a_small_wheel_is_downloaded_and_a_large_one_is_an_error() {
    let wheel = big_wheel("dep>=2", 200 * 1024);
    let server = strict_server().await;
    let file = RangeFile::new(wheel.clone(), false);
    Mock::given(method("GET"))
        .and(path("/files/demo-1.0-py3-none-any.whl"))
        .respond_with(file.clone())
        .mount(&server)
        .await;
    let body = page(serde_json::json!([
        {"filename": "demo-1.0-py3-none-any.whl", "url": "/files/demo-1.0-py3-none-any.whl",
         "hashes": {"sha256": sha256_hex(&wheel)}},
    ]));
    let (index, release) = release_on(&server, body).await;
    let m = client_with_limit(1024 * 1024, None)
        .metadata(&index, &release)
        .await
        .unwrap();
    assert_eq!(m.requires_dist.len(), 1);
    assert_eq!(file.sent(), wheel.len() as u64, "the whole wheel, once");

    // Over the limit: refused from its Content-Length, and the release is not "unusable"
    // (which would make the resolver quietly take an older one): it is an error.
    let error = client_with_limit(100 * 1024, None)
        .metadata(&index, &release)
        .await
        .unwrap_err();
    assert!(matches!(error, MetadataError::TooLarge { .. }), "{error}");
    assert!(!error.is_release_unusable());
    assert!(
        error.to_string().ends_with(
            "is larger than the 102400 bytes repin downloads whole, and its server does not serve byte ranges"
        ),
        "{error}"
    );

    // The release's next file is tried first: a static sdist answers.
    let dir = tempfile::tempdir().unwrap();
    let sdist = std::fs::read(write_sdist_with(
        dir.path(),
        "demo",
        "1.0",
        &Meta {
            metadata_version: Some("2.2"),
            requires_dist: &["from-sdist"],
            ..Meta::default()
        },
    ))
    .unwrap();
    Mock::given(method("GET"))
        .and(path("/files/demo-1.0.tar.gz"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(sdist.clone()))
        .mount(&server)
        .await;
    let body = page(serde_json::json!([
        {"filename": "demo-1.0-py3-none-any.whl", "url": "/files/demo-1.0-py3-none-any.whl",
         "hashes": {"sha256": sha256_hex(&wheel)}},
        {"filename": "demo-1.0.tar.gz", "url": "/files/demo-1.0.tar.gz",
         "hashes": {"sha256": sha256_hex(&sdist)}},
    ]));
    let (index, release) = release_on(&server, body).await;
    let m = client_with_limit(100 * 1024, None)
        .metadata(&index, &release)
        .await
        .unwrap();
    assert_eq!(m.requires_dist[0].name.to_string(), "from-sdist");
}

#[tokio::test]
async fn metadata_is_kept_by_file_hash_and_read_back_offline() {
    let wheel = big_wheel("dep>=2", 100 * 1024);
    let server = strict_server().await;
    let file = RangeFile::new(wheel.clone(), true);
    Mock::given(method("GET"))
        .and(path("/files/demo-1.0-py3-none-any.whl"))
        .respond_with(file.clone())
        .expect(2)
        .mount(&server)
        .await;
    let body = page(serde_json::json!([
        {"filename": "demo-1.0-py3-none-any.whl", "url": "/files/demo-1.0-py3-none-any.whl",
         "hashes": {"sha256": sha256_hex(&wheel)}},
    ]));
    let (index, release) = release_on(&server, body).await;
    let cache = tempfile::tempdir().unwrap();
    let first = client_with_limit(1 << 20, Some(cache.path()))
        .metadata(&index, &release)
        .await
        .unwrap();
    // The store is written off the async workers, and awaited: a process may end right after.
    let entry = cache
        .path()
        .join("metadata-v1")
        .join(&sha256_hex(&wheel)[..2])
        .join(sha256_hex(&wheel));
    assert!(
        entry.is_file(),
        "the store's write is awaited before the answer"
    );
    // Again, and offline: from the store, no request (the mock expects exactly the first two).
    let again = client_with_limit(1 << 20, Some(cache.path()))
        .metadata(&index, &release)
        .await
        .unwrap();
    let offline = PypiClient::new(
        HttpClient::new(HttpConfig {
            cache: crate::registry::http::CacheMode::Offline(crate::registry::http::Cache::new(
                cache.path(),
            )),
            ..HttpConfig::default()
        })
        .unwrap(),
    )
    .metadata(&index, &release)
    .await
    .unwrap();
    assert_eq!(first, again);
    assert_eq!(first, offline);
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

/// The fixtures mirroring real releases whose `License:` holds whitespace-only continuation
/// lines: (file, Requires-Dist count, the names of the first three).
const REAL_SHAPES: &[(&str, usize, [&str; 3])] = &[
    (
        "matplotlib-3.11.2.METADATA",
        9,
        ["contourpy", "cycler", "fonttools"],
    ),
    (
        "polars-2.1.0.METADATA",
        33,
        [
            "polars-runtime-32",
            "polars-runtime-64",
            "polars-runtime-compat",
        ],
    ),
    (
        "jupyterlab-4.6.6.METADATA",
        50,
        ["async-lru", "httpx", "ipykernel"],
    ),
];

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/registry/pypi/metadata/fixtures")
        .join(name)
}

#[test]
fn requires_dist_after_a_license_with_whitespace_only_lines_is_read() {
    for (file, count, first) in REAL_SHAPES {
        let text = std::fs::read_to_string(fixture(file)).unwrap();
        let m = parse(&text).unwrap();
        assert_eq!(m.requires_dist.len(), *count, "{file}");
        let names: Vec<String> = m
            .requires_dist
            .iter()
            .take(3)
            .map(|r| r.name.to_string())
            .collect();
        assert_eq!(names, first, "{file}");
        // The body is the description, not more headers.
        assert!(
            !m.requires_dist
                .iter()
                .any(|r| r.name.as_ref().starts_with("this-is-body")),
            "{file}"
        );
    }
    let polars =
        parse(&std::fs::read_to_string(fixture("polars-2.1.0.METADATA")).unwrap()).unwrap();
    assert!(polars.provides_extra.len() > 20);
    assert_eq!(polars.requires_python.unwrap().to_string(), ">=3.11");
}

/// What `packaging.metadata.parse_email` makes of each file, as JSON: `[{"raw": {...},
/// "unparsed": {...}}, ...]`. Fails, with how to install it, when Python's `packaging` is
/// missing: this cross-check must not pass without running.
fn packaging_parse(files: &[std::path::PathBuf]) -> Vec<serde_json::Value> {
    let python = super::super::testing::python();
    assert!(
        super::super::testing::python_has("packaging.metadata"),
        "Python's `packaging` (23.2 or later) is not importable by `{python}`: install it with \
         `{python} -m pip install packaging`"
    );
    let script = "import json, sys\n\
                  from packaging.metadata import parse_email\n\
                  out = []\n\
                  for path in sys.argv[1:]:\n\
                  \x20   raw, unparsed = parse_email(open(path, 'rb').read())\n\
                  \x20   out.append({'raw': raw, 'unparsed': unparsed})\n\
                  print(json.dumps(out))\n";
    let output = std::process::Command::new(&python)
        .arg("-c")
        .arg(script)
        .args(files)
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The fields `packaging` names as repin reads them, in `packaging`'s raw form.
fn ours(text: &str) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::Value;
    let email = super::email::parse(text);
    let mut out = serde_json::Map::new();
    for (field, key) in [
        ("metadata-version", "metadata_version"),
        ("name", "name"),
        ("version", "version"),
        ("summary", "summary"),
        ("license", "license"),
        ("requires-python", "requires_python"),
        ("description-content-type", "description_content_type"),
    ] {
        let values: Vec<&str> = email.all(field).collect();
        if let [one] = values.as_slice() {
            out.insert(key.into(), Value::String((*one).to_owned()));
        }
    }
    for (field, key) in [
        ("requires-dist", "requires_dist"),
        ("provides-extra", "provides_extra"),
        ("dynamic", "dynamic"),
        ("classifier", "classifiers"),
    ] {
        let values: Vec<Value> = email.all(field).map(|v| Value::String(v.into())).collect();
        if !values.is_empty() {
            out.insert(key.into(), Value::Array(values));
        }
    }
    let urls: serde_json::Map<String, Value> = email
        .all("project-url")
        .filter_map(|v| v.split_once(','))
        .map(|(label, url)| (label.trim().to_owned(), Value::String(url.trim().into())))
        .collect();
    if !urls.is_empty() {
        out.insert("project_urls".into(), Value::Object(urls));
    }
    if let Some(body) = email.body {
        if email.first("description").is_none() {
            out.insert("description".into(), Value::String(body.into()));
        }
    }
    out
}

#[test]
fn reads_metadata_as_packaging_does() {
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<std::path::PathBuf> = REAL_SHAPES.iter().map(|(f, ..)| fixture(f)).collect();
    // Edge cases of the format, each as a file.
    let edges = [
        "Metadata-Version: 2.1\r\nName: crlf\r\nVersion: 1\r\nLicense: a\r\n   \r\n b\r\nRequires-Dist: x\r\n\r\nbody\r\n",
        "Metadata-Version: 2.1\rName: lone-cr\rVersion: 1\rRequires-Dist: x\r\rbody",
        "Metadata-Version: 2.1\nName: folded\nVersion: 1\nRequires-Dist: x>=1\n  ; python_version < '3.11'\nSummary: one\n\ttwo\n",
        "Metadata-Version: 2.1\nName: not-a-header\nVersion: 1\nthis line ends the headers\nRequires-Dist: body-now\n",
        "Metadata-Version: 2.1\nName: tabbed\nVersion: 1\nLicense: a\n\t\n\tb\n \nRequires-Dist: y\nProject-URL: Source, https://example.org/src\n",
        "Metadata-Version: 2.4\nName: no-body\nVersion: 2\nDynamic: license-file\nProvides-Extra: a\nRequires-Dist: z; extra == 'a'\n",
    ];
    for (i, text) in edges.iter().enumerate() {
        let path = dir.path().join(format!("edge-{i}"));
        std::fs::write(&path, text).unwrap();
        files.push(path);
    }
    let theirs = packaging_parse(&files);
    for (file, packaging) in files.iter().zip(&theirs) {
        let text = std::fs::read_to_string(file).unwrap();
        let ours = ours(&text);
        let raw = packaging["raw"].as_object().unwrap();
        for (key, value) in &ours {
            assert_eq!(Some(value), raw.get(key), "{}: `{key}`", file.display());
        }
        for key in [
            "metadata_version",
            "name",
            "version",
            "requires_python",
            "requires_dist",
            "provides_extra",
            "description",
        ] {
            assert_eq!(
                raw.contains_key(key),
                ours.contains_key(key),
                "{}: `{key}` read by one parser only",
                file.display()
            );
        }
        // And the dependencies repin resolves with are those lines.
        let parsed = parse(&text).unwrap();
        let count = raw
            .get("requires_dist")
            .and_then(|v| v.as_array())
            .map_or(0, Vec::len);
        assert_eq!(parsed.requires_dist.len(), count, "{}", file.display());
    }
}

#[tokio::test]
async fn an_sdists_refusal_is_kept_by_file_hash_and_never_downloaded_again() {
    // An sdist-only release whose PKG-INFO cannot be trusted (Metadata-Version 2.1: its
    // dependencies may be computed at build time) is unusable; before, nothing was kept, and a
    // warm lock downloaded every such release again (old kombu releases: 150 ms of 0.5 s).
    let dir = tempfile::tempdir().unwrap();
    let sdist = std::fs::read(write_sdist_with(
        dir.path(),
        "demo",
        "1.0",
        &Meta {
            metadata_version: Some("2.1"),
            requires_dist: &["dep"],
            ..Meta::default()
        },
    ))
    .unwrap();
    let server = strict_server().await;
    Mock::given(method("GET"))
        .and(path("/files/demo-1.0.tar.gz"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(sdist.clone()))
        .expect(1)
        .mount(&server)
        .await;
    let body = page(serde_json::json!([
        {"filename": "demo-1.0.tar.gz", "url": "/files/demo-1.0.tar.gz",
         "hashes": {"sha256": sha256_hex(&sdist)}},
    ]));
    let (index, release) = release_on(&server, body).await;
    let cache = tempfile::tempdir().unwrap();
    let first = client_with_limit(1 << 20, Some(cache.path()))
        .metadata(&index, &release)
        .await
        .unwrap_err();
    assert!(first.is_release_unusable(), "{first}");
    let entry = cache
        .path()
        .join("metadata-v1")
        .join(&sha256_hex(&sdist)[..2])
        .join(sha256_hex(&sdist));
    assert!(
        entry.is_file(),
        "the store's write is awaited before the answer"
    );
    // Again: the same refusal, from the store (the mock expects exactly one download).
    let again = client_with_limit(1 << 20, Some(cache.path()))
        .metadata(&index, &release)
        .await
        .unwrap_err();
    assert_eq!(first.to_string(), again.to_string());
}

#[tokio::test]
async fn an_sdist_repin_cannot_read_is_refused_before_it_is_downloaded() {
    // `.tar.bz2` sdists of old releases were downloaded (300 ms each) for the same refusal;
    // the strict server fails on any request.
    let server = strict_server().await;
    let body = page(serde_json::json!([
        {"filename": "demo-1.0.tar.bz2", "url": "/files/demo-1.0.tar.bz2",
         "hashes": {"sha256": "ab".repeat(32)}},
    ]));
    let (index, release) = release_on(&server, body).await;
    let error = client_with_limit(1 << 20, None)
        .metadata(&index, &release)
        .await
        .unwrap_err();
    assert!(error.is_release_unusable(), "{error}");
    assert!(
        error
            .to_string()
            .contains("does not read `.tar.bz2` archives"),
        "{error}"
    );
}
