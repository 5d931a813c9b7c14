//! Tests against an in-process HTTP server (wiremock). Every server mounts a catch-all that
//! fails the test on any request the test did not expect.

use crate::testing::strict_server;
use std::time::Duration;

use wiremock::matchers::{header, header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

fn config() -> HttpConfig {
    HttpConfig {
        backoff: Duration::from_millis(5),
        timeout: Duration::from_secs(5),
        ..HttpConfig::default()
    }
}

fn url(server: &MockServer, p: &str) -> Url {
    Url::parse(&format!("{}{p}", server.uri())).unwrap()
}

#[tokio::test]
async fn retries_server_errors_then_succeeds() {
    let server = strict_server().await;
    Mock::given(method("GET"))
        .and(path("/x"))
        .respond_with(ResponseTemplate::new(503).set_body_string("busy"))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/x"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    let client = HttpClient::new(config()).unwrap();
    let response = client.send(Request::get(url(&server, "/x"))).await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"ok");
    assert_eq!(
        client
            .stats()
            .sent
            .load(std::sync::atomic::Ordering::Relaxed),
        3
    );
}

#[tokio::test]
async fn honours_retry_after_and_gives_up_on_long_waits() {
    let server = strict_server().await;
    Mock::given(path("/soon"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/soon"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/later"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600"))
        .expect(1)
        .mount(&server)
        .await;
    let client = HttpClient::new(config()).unwrap();
    assert!(
        client
            .send(Request::get(url(&server, "/soon")))
            .await
            .unwrap()
            .is_success()
    );
    let error = client
        .send(Request::get(url(&server, "/later")))
        .await
        .unwrap_err();
    assert!(
        matches!(error, HttpError::RateLimited { seconds: 3600, .. }),
        "{error}"
    );
}

#[tokio::test]
async fn gives_up_after_the_retry_budget_with_the_body_in_the_error() {
    let server = strict_server().await;
    Mock::given(path("/down"))
        .respond_with(ResponseTemplate::new(500).set_body_string("  database\n  exploded  "))
        .expect(4)
        .mount(&server)
        .await;
    let client = HttpClient::new(config()).unwrap();
    let error = client
        .send(Request::get(url(&server, "/down")))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(500));
    assert!(
        error
            .to_string()
            .ends_with("answered HTTP 500: database exploded"),
        "{error}"
    );
}

#[tokio::test]
async fn final_statuses_are_returned_and_errors_redact_credentials() {
    let server = strict_server().await;
    Mock::given(path("/private/"))
        .and(header("authorization", "Basic dXNlcjpzM2NyZXQ="))
        .respond_with(ResponseTemplate::new(404).set_body_string("no such project"))
        .expect(1)
        .mount(&server)
        .await;
    let client = HttpClient::new(config()).unwrap();
    let mut u = url(&server, "/private/");
    u.set_username("user").unwrap();
    u.set_password(Some("s3cret")).unwrap();
    let response = client.send(Request::get(u)).await.unwrap();
    assert_eq!(response.status, 404);
    let error = response.ensure_success().unwrap_err().to_string();
    assert!(error.contains("404: no such project"), "{error}");
    assert!(
        !error.contains("s3cret") && !error.contains("user"),
        "{error}"
    );
}

#[tokio::test]
async fn caps_body_size_and_times_out() {
    let server = strict_server().await;
    Mock::given(path("/big"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'x'; 4096]))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .expect(1)
        .mount(&server)
        .await;
    let client = HttpClient::new(HttpConfig {
        max_body: 1024,
        timeout: Duration::from_millis(300),
        retries: 0,
        ..config()
    })
    .unwrap();
    let big = client
        .send(Request::get(url(&server, "/big")))
        .await
        .unwrap_err();
    assert!(
        matches!(big, HttpError::BodyTooLarge { limit: 1024, .. }),
        "{big}"
    );
    let slow = client
        .send(Request::get(url(&server, "/slow")))
        .await
        .unwrap_err();
    assert!(matches!(slow, HttpError::Timeout { .. }), "{slow}");
}

#[tokio::test]
async fn connection_refused_is_a_connect_error() {
    // Bind then drop a listener: the port is free and nothing answers on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = HttpClient::new(HttpConfig {
        retries: 1,
        ..config()
    })
    .unwrap();
    let u = Url::parse(&format!("http://127.0.0.1:{port}/x")).unwrap();
    let error = client.send(Request::get(u)).await.unwrap_err();
    assert!(matches!(error, HttpError::Connect { .. }), "{error}");
}

#[tokio::test]
async fn revalidates_with_etag_and_serves_offline_from_the_cache() {
    let server = strict_server().await;
    let dir = tempfile::tempdir().unwrap();
    Mock::given(path("/simple/flask/"))
        .and(header("if-none-match", "\"v1\""))
        .respond_with(ResponseTemplate::new(304))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/simple/flask/"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"v1\"")
                .set_body_string("releases"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let online = HttpClient::new(HttpConfig {
        cache: CacheMode::Enabled(Cache::new(dir.path())),
        ..config()
    })
    .unwrap();
    let first = online
        .send(Request::get(url(&server, "/simple/flask/")))
        .await
        .unwrap();
    assert!(!first.from_cache);
    let second = online
        .send(Request::get(url(&server, "/simple/flask/")))
        .await
        .unwrap();
    assert!(second.from_cache && second.status == 200);
    assert_eq!(second.body, b"releases");

    let offline = HttpClient::new(HttpConfig {
        cache: CacheMode::Offline(Cache::new(dir.path())),
        ..config()
    })
    .unwrap();
    let third = offline
        .send(Request::get(url(&server, "/simple/flask/")))
        .await
        .unwrap();
    assert_eq!(third.body, b"releases");
    let missing = offline
        .send(Request::get(url(&server, "/simple/django/")))
        .await
        .unwrap_err();
    assert!(matches!(missing, HttpError::NotCached { .. }), "{missing}");
    // What the cache never keeps (a POST) is refused offline too, without a request: the
    // strict server fails the test on any request not mocked above.
    let post = offline
        .send(Request::post_json(
            url(&server, "/v1/querybatch"),
            b"{}".to_vec(),
        ))
        .await
        .unwrap_err();
    assert!(matches!(post, HttpError::NotCached { .. }), "{post}");
}

#[tokio::test]
async fn fresh_entries_are_served_without_a_request() {
    let server = strict_server().await;
    let dir = tempfile::tempdir().unwrap();
    Mock::given(path("/fresh"))
        .and(header_exists("user-agent"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("cache-control", "max-age=600, public")
                .set_body_string("v"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = HttpClient::new(HttpConfig {
        cache: CacheMode::Enabled(Cache::new(dir.path())),
        ..config()
    })
    .unwrap();
    for _ in 0..3 {
        assert_eq!(
            client
                .send(Request::get(url(&server, "/fresh")))
                .await
                .unwrap()
                .body,
            b"v"
        );
    }
}

#[test]
fn parses_retry_after_forms() {
    let mut headers = HeaderMap::new();
    headers.insert("retry-after", HeaderValue::from_static("7"));
    assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
    let mut date = HeaderMap::new();
    let when = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
    date.insert("retry-after", HeaderValue::from_str(&when).unwrap());
    let wait = retry_after(&date).unwrap();
    assert!(wait <= Duration::from_secs(120) && wait >= Duration::from_secs(115));
    let mut github = HeaderMap::new();
    github.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
    let reset = (cache::now_secs() + 30).to_string();
    github.insert("x-ratelimit-reset", HeaderValue::from_str(&reset).unwrap());
    assert!(retry_after(&github).unwrap() <= Duration::from_secs(30));
}

#[test]
fn auth_debug_output_hides_token_user_names_too() {
    // pip's `https://TOKEN@host/simple/` form makes the user name the secret.
    let token_only = Auth::Basic {
        username: "ghp_TOKEN".into(),
        password: String::new(),
    };
    let bearer = Auth::Bearer("s3cret".into());
    let shown = format!("{token_only:?} {bearer:?}");
    assert_eq!(shown, "Basic(***:***) Bearer(***)");
}
