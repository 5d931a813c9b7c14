//! Tests against an in-process registry double (wiremock) shaped by the distribution spec and
//! Docker's token protocol; every server fails the test on a request it did not expect. The
//! real Distribution registry is exercised in `tests/it/registry_oci.rs`.

use crate::testing::strict_server;
use std::time::Duration;

use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::registry::http::HttpConfig;

fn client(server: &MockServer, settings: OciSettings) -> OciClient {
    let http = HttpClient::new(HttpConfig {
        backoff: Duration::from_millis(1),
        retries: 0,
        ..HttpConfig::default()
    })
    .unwrap();
    let mut settings = settings;
    settings
        .endpoints
        .insert("registry.test".into(), Url::parse(&server.uri()).unwrap());
    OciClient::new(http, settings)
}

async fn open_v2(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/v2/"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn lists_tags_across_link_pages() {
    let server = strict_server().await;
    open_v2(&server).await;
    Mock::given(path("/v2/library/python/tags/list"))
        .and(query_param("last", "3.12"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                serde_json::json!({"name": "library/python", "tags": ["3.13", "3.14"]}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/library/python/tags/list"))
        .and(query_param("n", "1000"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "link",
                    "</v2/library/python/tags/list?n=1000&last=3.12>; rel=\"next\"",
                )
                .set_body_json(
                    serde_json::json!({"name": "library/python", "tags": ["3.11", "3.12"]}),
                ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server, OciSettings::default());
    assert_eq!(
        c.tags("registry.test", "library/python").await.unwrap(),
        vec!["3.11", "3.12", "3.13", "3.14"]
    );
}

#[tokio::test]
async fn bearer_tokens_are_fetched_once_per_scope_and_refreshed_on_401() {
    let server = strict_server().await;
    let realm = format!("{}/token", server.uri());
    Mock::given(path("/v2/"))
        .respond_with(ResponseTemplate::new(401).insert_header(
            "www-authenticate",
            format!("Bearer realm=\"{realm}\",service=\"registry.test\""),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/token"))
        .and(query_param("scope", "repository:team/app:pull"))
        .and(query_param("service", "registry.test"))
        .and(header("authorization", "Basic Ym90OnMzY3JldA=="))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"token": "T1", "expires_in": 300})),
        )
        .expect(2)
        .mount(&server)
        .await;
    // The first tag request with T1 is refused once (a revoked token): repin refreshes once.
    Mock::given(path("/v2/team/app/tags/list"))
        .and(header("authorization", "Bearer T1"))
        .respond_with(ResponseTemplate::new(401))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/team/app/tags/list"))
        .and(header("authorization", "Bearer T1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"tags": ["1.0"]})),
        )
        .expect(2)
        .mount(&server)
        .await;
    let mut settings = OciSettings::default();
    settings.credentials.insert(
        "registry.test".into(),
        Credential {
            username: "bot".into(),
            secret: "s3cret".into(),
        },
    );
    let c = client(&server, settings);
    assert_eq!(
        c.tags("registry.test", "team/app").await.unwrap(),
        vec!["1.0"]
    );
    // The second call reuses the cached token: no new token request, no new /v2/.
    assert_eq!(
        c.tags("registry.test", "team/app").await.unwrap(),
        vec!["1.0"]
    );
}

#[tokio::test]
async fn basic_challenges_send_credentials_and_refusals_carry_a_hint() {
    let server = strict_server().await;
    Mock::given(path("/v2/"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("www-authenticate", "Basic realm=\"Registry Realm\""),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/private/app/tags/list"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(serde_json::json!({"errors": [{"code": "UNAUTHORIZED"}]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server, OciSettings::default());
    let error = crate::error::chain(&c.tags("registry.test", "private/app").await.unwrap_err());
    assert!(
        error.contains("refused access to `private/app` (HTTP 401)"),
        "{error}"
    );
    assert!(
        error.contains("hint: set credentials for registry.test"),
        "{error}"
    );
}

#[tokio::test]
async fn digests_from_head_or_from_the_body_and_verified() {
    let server = strict_server().await;
    open_v2(&server).await;
    let body = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
    let digest = sha256_digest(body);
    Mock::given(method("HEAD"))
        .and(path("/v2/library/python/manifests/3.12"))
        // wiremock splits header values at commas; check the index type is first asked for.
        .and(wiremock::matchers::header_regex(
            "accept",
            r"^application/vnd\.oci\.image\.index\.v1\+json",
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("docker-content-digest", digest.as_str())
                .insert_header("content-type", manifest::OCI_INDEX),
        )
        .expect(1)
        .mount(&server)
        .await;
    // No Docker-Content-Digest on HEAD: GET and hash the body.
    Mock::given(method("HEAD"))
        .and(path("/v2/library/python/manifests/3.13"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/library/python/manifests/3.13"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body.to_vec(), manifest::OCI_INDEX))
        .expect(1)
        .mount(&server)
        .await;
    // A hostile registry: asked for a digest, it serves another body.
    let wanted = format!("sha256:{}", "0".repeat(64));
    Mock::given(method("GET"))
        .and(path(format!("/v2/library/python/manifests/{wanted}")))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body.to_vec(), manifest::OCI_INDEX))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server, OciSettings::default());
    let info = c
        .digest("registry.test", "library/python", "3.12")
        .await
        .unwrap();
    assert_eq!(info.digest, digest);
    assert_eq!(info.media_type.as_deref(), Some(manifest::OCI_INDEX));
    assert_eq!(
        c.digest("registry.test", "library/python", "3.13")
            .await
            .unwrap()
            .digest,
        digest
    );
    let error = c
        .manifest("registry.test", "library/python", &wanted)
        .await
        .unwrap_err();
    assert!(matches!(error, OciError::DigestMismatch { .. }), "{error}");
}

#[tokio::test]
async fn not_found_rate_limits_and_bad_json_are_told_apart() {
    let server = strict_server().await;
    open_v2(&server).await;
    Mock::given(method("HEAD"))
        .and(path("/v2/library/python/manifests/9.9"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/library/nope/tags/list"))
        .respond_with(ResponseTemplate::new(404).set_body_json(serde_json::json!({"errors": [{"code": "NAME_UNKNOWN", "message": "repository name not known to registry"}]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/library/busy/tags/list"))
        .respond_with(ResponseTemplate::new(429).set_body_json(serde_json::json!({"errors": [{"code": "TOOMANYREQUESTS", "message": "You have reached your pull rate limit."}]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/library/broken/tags/list"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"tags\": [\"1\""))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server, OciSettings::default());
    let e = c
        .digest("registry.test", "library/python", "9.9")
        .await
        .unwrap_err();
    assert!(matches!(e, OciError::ManifestNotFound { .. }), "{e}");
    let e = c.tags("registry.test", "library/nope").await.unwrap_err();
    assert!(matches!(e, OciError::RepositoryNotFound { .. }), "{e}");
    let e = c.tags("registry.test", "library/busy").await.unwrap_err();
    assert!(e.to_string().contains("rate limiting"), "{e}");
    let e = c.tags("registry.test", "library/broken").await.unwrap_err();
    assert!(e.to_string().contains("not valid JSON"), "{e}");
}

#[test]
fn endpoints_and_links() {
    let http = HttpClient::new(HttpConfig::default()).unwrap();
    let c = OciClient::new(
        http,
        OciSettings {
            insecure: vec!["registry.lan:5000".into()],
            ..OciSettings::default()
        },
    );
    assert_eq!(
        c.endpoint("docker.io").unwrap().as_str(),
        "https://registry-1.docker.io/"
    );
    assert_eq!(c.endpoint("ghcr.io").unwrap().as_str(), "https://ghcr.io/");
    assert_eq!(
        c.endpoint("localhost:5000").unwrap().as_str(),
        "http://localhost:5000/"
    );
    assert_eq!(
        c.endpoint("127.0.0.1:5000").unwrap().as_str(),
        "http://127.0.0.1:5000/"
    );
    assert_eq!(
        c.endpoint("[::1]:5000").unwrap().as_str(),
        "http://[::1]:5000/"
    );
    assert_eq!(
        c.endpoint("registry.lan:5000").unwrap().as_str(),
        "http://registry.lan:5000/"
    );
    assert_eq!(
        c.endpoint("192.168.0.10:5000").unwrap().as_str(),
        "https://192.168.0.10:5000/"
    );
}

// Hostile registries (issue 10), on real loopback servers.

use crate::loopback::{Loopback, Reply};

fn loopback_client(server: &Loopback, settings: OciSettings) -> OciClient {
    let http = HttpClient::new(HttpConfig {
        backoff: Duration::from_millis(1),
        retries: 0,
        ..HttpConfig::for_run()
    })
    .unwrap();
    let mut settings = settings;
    settings.endpoints.insert(
        "registry.test".into(),
        Url::parse(&server.url("/")).unwrap(),
    );
    OciClient::new(http, settings)
}

const INDEX: &[u8] =
    br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;

#[tokio::test]
async fn a_registry_whose_digest_header_lies_is_refused() {
    let real = sha256_digest(INDEX);
    let lie = format!("sha256:{}", "e".repeat(64));
    let claimed = lie.clone();
    let server = Loopback::start(
        move |seen| match (seen.method.as_str(), seen.path.as_str()) {
            ("GET", "/v2/") => Reply::status(200, "{}"),
            // HEAD and GET both claim a digest the manifest's bytes do not have.
            (_, "/v2/library/python/manifests/3.13") => {
                Reply::ok(manifest::OCI_INDEX, INDEX).with_header("Docker-Content-Digest", &claimed)
            }
            _ => Reply::status(404, ""),
        },
    );
    let c = loopback_client(&server, OciSettings::default());
    // The fast path only tells the tag moved: it reports what the header says.
    let info = c
        .digest("registry.test", "library/python", "3.13")
        .await
        .unwrap();
    assert_eq!(info.digest, lie);
    // Nothing is pinned on that word: the manifest is fetched and hashed.
    let error = c
        .verify("registry.test", "library/python", "3.13", &lie)
        .await
        .unwrap_err();
    assert!(
        matches!(error, OciError::DigestNotVerified { .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "registry.test said `library/python:3.13` has the digest {lie}, but its manifest hashes to {real}: the digest is not pinned"
        )
    );
}

#[tokio::test]
async fn verified_digests_are_fetched_once_and_unknown_media_types_refused() {
    let digest = sha256_digest(INDEX);
    let weird = br#"{"schemaVersion":2,"config":{"digest":"sha256:aa"},"layers":[]}"#;
    let weird_digest = sha256_digest(weird);
    let (d1, d2) = (digest.clone(), weird_digest.clone());
    let server = Loopback::start(
        move |seen| match (seen.method.as_str(), seen.path.as_str()) {
            ("GET", "/v2/") => Reply::status(200, "{}"),
            (_, "/v2/library/python/manifests/3.13") => {
                Reply::ok(manifest::OCI_INDEX, INDEX).with_header("Docker-Content-Digest", &d1)
            }
            (_, "/v2/library/python/manifests/weird") => {
                Reply::ok("application/vnd.hostile.weird+json", weird.to_vec())
                    .with_header("Docker-Content-Digest", &d2)
            }
            // A generic type whose body declares a type repin does not know.
            ("GET", "/v2/library/python/manifests/sneaky") => Reply::ok(
                "application/json",
                br#"{"schemaVersion":2,"mediaType":"application/vnd.hostile+json","config":{}}"#
                    .to_vec(),
            ),
            _ => Reply::status(404, ""),
        },
    );
    let c = loopback_client(&server, OciSettings::default());
    assert_eq!(
        c.verify("registry.test", "library/python", "3.13", &digest)
            .await
            .unwrap(),
        manifest::OCI_INDEX
    );
    assert_eq!(
        c.verify("registry.test", "library/python", "3.13", &digest)
            .await
            .unwrap(),
        manifest::OCI_INDEX
    );
    let gets = |p: &str| {
        server
            .requests()
            .iter()
            .filter(|r| r.method == "GET" && r.path.ends_with(p))
            .count()
    };
    assert_eq!(gets("/manifests/3.13"), 1, "verified once, by digest");
    let head = c
        .digest("registry.test", "library/python", "weird")
        .await
        .unwrap_err();
    assert!(
        matches!(head, OciError::UnsupportedMediaType { .. }),
        "{head}"
    );
    assert!(
        head.to_string().ends_with(
            "as `application/vnd.hostile.weird+json`, which is not an image manifest or index repin understands"
        ),
        "{head}"
    );
    let get = c
        .verify("registry.test", "library/python", "weird", &weird_digest)
        .await
        .unwrap_err();
    assert!(
        matches!(get, OciError::UnsupportedMediaType { .. }),
        "{get}"
    );
    let sneaky = c
        .manifest("registry.test", "library/python", "sneaky")
        .await
        .unwrap_err();
    assert!(
        sneaky
            .to_string()
            .contains("`application/vnd.hostile+json`"),
        "{sneaky}"
    );
}

#[tokio::test]
async fn tag_pages_on_another_origin_are_not_followed_and_get_no_credentials() {
    // The other origin: the same host on another port. It must never be asked.
    let elsewhere = Loopback::start(|_| {
        Reply::ok(
            "application/json",
            r#"{"tags":["99.0"]}"#.as_bytes().to_vec(),
        )
    });
    let next = elsewhere.url("/v2/library/python/tags/list?n=2&last=3.12");
    let registry = Loopback::start(move |seen| {
        if seen.header("authorization").is_none() {
            return Reply::status(401, "{}")
                .with_header("WWW-Authenticate", "Basic realm=\"test\"");
        }
        match seen.path.as_str() {
            "/v2/" => Reply::status(200, "{}"),
            p if p.starts_with("/v2/library/python/tags/list") => Reply::ok(
                "application/json",
                r#"{"tags":["3.11","3.12"]}"#.as_bytes().to_vec(),
            )
            .with_header("Link", &format!("<{next}>; rel=\"next\"")),
            _ => Reply::status(404, ""),
        }
    });
    let mut settings = OciSettings::default();
    settings.credentials.insert(
        "registry.test".into(),
        Credential {
            username: "canary".into(),
            secret: "canary-registry-secret".into(),
        },
    );
    let c = loopback_client(&registry, settings);
    let error = c.tags("registry.test", "library/python").await.unwrap_err();
    assert!(matches!(error, OciError::CrossOriginLink { .. }), "{error}");
    assert!(
        error.to_string().contains("on another origin")
            && !error.to_string().contains("canary-registry-secret"),
        "{error}"
    );
    assert_eq!(elsewhere.connections(), 0, "{:?}", elsewhere.requests());
    assert!(
        registry
            .requests()
            .iter()
            .skip(1)
            .all(|r| r.header("authorization").is_some())
    );
}

#[tokio::test]
async fn only_the_registrys_own_challenge_names_the_realm() {
    // /v2/ redirects to another origin, which asks for credentials at a realm of its choosing:
    // no credentials go anywhere.
    let thief = Loopback::start(|_| {
        Reply::status(401, "{}").with_header("WWW-Authenticate", "Basic realm=\"give\"")
    });
    let thief_v2 = thief.url("/v2/");
    let registry = Loopback::start(move |_| Reply::redirect(302, &thief_v2));
    let mut settings = OciSettings::default();
    settings.credentials.insert(
        "registry.test".into(),
        Credential {
            username: "canary".into(),
            secret: "canary-registry-secret".into(),
        },
    );
    let c = loopback_client(&registry, settings);
    let error = c.tags("registry.test", "library/python").await.unwrap_err();
    assert!(
        error.to_string().contains("which asked for credentials"),
        "{error}"
    );
    assert!(
        thief
            .requests()
            .iter()
            .all(|r| r.header("authorization").is_none())
    );
}

#[test]
fn basic_credentials_never_go_to_a_plain_http_realm_of_an_https_registry() {
    let http = HttpClient::new(HttpConfig::default()).unwrap();
    let c = OciClient::new(http, OciSettings::default());
    let https_realm = Url::parse("https://auth.example/token").unwrap();
    let http_realm = Url::parse("http://auth.example/token").unwrap();
    let file_realm = Url::parse("file:///etc/passwd").unwrap();
    assert!(c.check_realm("ghcr.io", &https_realm).is_ok());
    let refused = c.check_realm("ghcr.io", &http_realm).unwrap_err();
    assert!(
        refused
            .to_string()
            .ends_with("it is plain HTTP while the registry is reached over HTTPS"),
        "{refused}"
    );
    assert!(c.check_realm("ghcr.io", &file_realm).is_err());
    // A registry reached over plain HTTP (loopback) may use a plain HTTP realm.
    assert!(c.check_realm("127.0.0.1:5000", &http_realm).is_ok());
}
