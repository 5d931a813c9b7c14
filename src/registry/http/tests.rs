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

/// Issue 14, defect 2: a `POST` answered `502` may have created its object (GitHub opened the
/// dashboard issue, then a proxy answered 502): it is sent once, and the caller looks the
/// object up. A `PATCH` is not retried either, unless the caller marks it repeatable; a `429`
/// (a refusal: nothing was done) is retried whatever the method.
#[tokio::test]
async fn only_idempotent_or_repeatable_requests_are_retried_after_the_server_may_have_acted() {
    let server = strict_server().await;
    Mock::given(method("POST"))
        .and(path("/create"))
        .respond_with(ResponseTemplate::new(502).set_body_string("bad gateway"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/edit"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/labels"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/labels"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/refused"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/refused"))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    let client = HttpClient::new(config()).unwrap();
    let error = client
        .send(Request::post_json(url(&server, "/create"), b"{}".to_vec()))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(502), "{error}");
    let error = client
        .send(Request::patch_json(url(&server, "/edit"), b"{}".to_vec()))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(503), "{error}");
    let labelled = client
        .send(Request::post_json(url(&server, "/labels"), b"{}".to_vec()).repeatable())
        .await
        .unwrap();
    assert_eq!(labelled.status, 200);
    let created = client
        .send(Request::post_json(url(&server, "/refused"), b"{}".to_vec()))
        .await
        .unwrap();
    assert_eq!(created.status, 201);
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
    // The `Retry-After: 0` was waited (for no time), the hour never.
    let waited = super::pause::waited();
    assert!(waited.contains(&Duration::ZERO), "{waited:?}");
    assert!(!waited.contains(&Duration::from_secs(3600)), "{waited:?}");
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

// Hostile servers (issue 10): real loopback servers that misbehave on purpose.

use crate::loopback::{Loopback, Reply};
use base64::Engine;

fn run_config() -> HttpConfig {
    HttpConfig {
        backoff: Duration::from_millis(5),
        timeout: Duration::from_millis(600),
        ..HttpConfig::for_run()
    }
}

fn basic(user: &str, password: &str) -> Auth {
    Auth::Basic {
        username: user.into(),
        password: password.into(),
    }
}

#[tokio::test]
async fn credentials_follow_redirects_only_within_their_origin() {
    // `other` is the same host on another port: another origin.
    let other = Loopback::start(|_| Reply::ok("text/plain", "elsewhere"));
    let target = other.url("/landing");
    let home = Loopback::start(move |seen| match seen.path.as_str() {
        "/away" => Reply::redirect(302, &target),
        "/moved" => Reply::redirect(301, "/here"),
        _ => Reply::ok("text/plain", "home"),
    });
    let client = HttpClient::new(run_config()).unwrap();
    let away = client
        .send(
            Request::get(Url::parse(&home.url("/away")).unwrap())
                .auth(Some(basic("u", "canary-pw-1"))),
        )
        .await
        .unwrap();
    assert_eq!(away.body, b"elsewhere");
    assert_eq!(away.url.port(), Some(other.addr.port()));
    let moved = client
        .send(
            Request::get(Url::parse(&home.url("/moved")).unwrap())
                .auth(Some(Auth::Bearer("canary-token-1".into()))),
        )
        .await
        .unwrap();
    assert_eq!(moved.body, b"home");
    // The first hop of each carried its credential; the other origin never saw one; the
    // same-origin redirect kept it.
    let home_seen = home.requests();
    assert_eq!(home_seen.len(), 3, "{home_seen:?}");
    assert!(
        home_seen
            .iter()
            .all(|r| r.header("authorization").is_some())
    );
    assert_eq!(home_seen[2].path, "/here");
    assert_eq!(
        home_seen[2].header("authorization"),
        Some("Bearer canary-token-1")
    );
    let other_seen = other.requests();
    assert_eq!(other_seen.len(), 1);
    assert_eq!(
        other_seen[0].header("authorization"),
        None,
        "{other_seen:?}"
    );
}

#[tokio::test]
async fn redirect_loops_and_truncated_bodies_are_named() {
    let server = Loopback::start(|seen| match seen.path.as_str() {
        "/a" => Reply::redirect(302, "/b"),
        "/b" => Reply::redirect(307, "/a"),
        "/far" => {
            // An endless chain of new URLs.
            let n: u32 = seen.path.len() as u32;
            Reply::redirect(302, &format!("/far{n}"))
        }
        p if p.starts_with("/far") => Reply::redirect(302, &format!("{p}x")),
        "/cut" => Reply::Truncated {
            announced: 1000,
            body: vec![b'x'; 10],
        },
        _ => Reply::status(404, ""),
    });
    let client = HttpClient::new(HttpConfig {
        retries: 1,
        ..run_config()
    })
    .unwrap();
    let get = |p: &str| Request::get(Url::parse(&server.url(p)).unwrap());
    let looped = client.send(get("/a")).await.unwrap_err();
    assert!(
        matches!(looped, HttpError::RedirectLoop { .. }),
        "{looped:?}"
    );
    assert!(
        looped.to_string().contains("redirects in a loop")
            && looped.to_string().ends_with("/a was already visited"),
        "{looped}"
    );
    let far = client.send(get("/far")).await.unwrap_err();
    assert!(
        matches!(
            far,
            HttpError::TooManyRedirects {
                limit: MAX_REDIRECTS,
                ..
            }
        ),
        "{far}"
    );
    let before = server.connections();
    let cut = client.send(get("/cut")).await.unwrap_err();
    assert_eq!(
        cut.to_string(),
        format!(
            "The body of {} ended early after 10 bytes of 1000",
            server.url("/cut")
        )
    );
    assert!(!cut.to_string().contains("Cannot connect"));
    // A body cut short is retried (a dropped connection may be transient).
    assert_eq!(server.connections() - before, 2);
}

#[tokio::test]
async fn a_body_that_stalls_is_not_retried_and_two_timeouts_mark_the_host_down() {
    let slow = Loopback::start(|_| Reply::Slow {
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: vec![b'x'; 30],
        every: Duration::from_millis(200),
    });
    let client = HttpClient::new(run_config()).unwrap();
    let get = |p: &str| Request::get(Url::parse(&slow.url(p)).unwrap());
    let first = client.send(get("/one")).await.unwrap_err();
    assert!(
        matches!(first, HttpError::Timeout { received: Some(n), .. } if n > 0 && n < 30),
        "{first:?}"
    );
    assert!(
        first.to_string().contains("the body stalled after"),
        "{first}"
    );
    assert_eq!(
        slow.connections(),
        1,
        "a stalled body is not asked for again"
    );
    assert!(client.down_hosts().is_empty());
    let second = client.send(get("/two")).await.unwrap_err();
    assert!(matches!(second, HttpError::Timeout { .. }), "{second}");
    assert_eq!(
        client.down_hosts(),
        vec![(slow.host(), DownReason::TimedOut(2))]
    );
    // Marked down: the next request fails at once, without a connection.
    let third = client.send(get("/three")).await.unwrap_err();
    assert!(matches!(third, HttpError::HostDown { .. }), "{third}");
    assert_eq!(
        third.to_string(),
        format!(
            "{} is marked down for the rest of this run, so {} was not requested",
            slow.host(),
            slow.url("/three")
        )
    );
    assert_eq!(
        std::error::Error::source(&third).unwrap().to_string(),
        "it timed out 2 times"
    );
    assert_eq!(slow.connections(), 2);
    // A client that outlives a run (the webhook server's) never marks a host down.
    let long_lived = HttpClient::new(HttpConfig {
        timeout: Duration::from_millis(300),
        ..config()
    })
    .unwrap();
    for _ in 0..2 {
        let e = long_lived.send(get("/again")).await.unwrap_err();
        assert!(matches!(e, HttpError::Timeout { .. }), "{e}");
    }
    assert!(long_lived.down_hosts().is_empty());
}

#[tokio::test]
async fn a_host_gets_its_share_of_the_run_and_no_more() {
    let slow = Loopback::start(|_| Reply::Slow {
        headers: vec![],
        body: vec![b'x'; 100],
        every: Duration::from_millis(100),
    });
    let client = HttpClient::new(HttpConfig {
        timeout: Duration::from_secs(30),
        host_deadline: Some(Duration::from_millis(500)),
        ..run_config()
    })
    .unwrap();
    let get = |p: &str| Request::get(Url::parse(&slow.url(p)).unwrap());
    let cut = client.send(get("/a")).await.unwrap_err();
    assert!(
        matches!(
            cut,
            HttpError::OutOfTime {
                budget: "this host's",
                ..
            }
        ),
        "{cut}"
    );
    assert!(matches!(
        client.down_hosts()[..],
        [(_, DownReason::OutOfTime(d))] if d == Duration::from_millis(500)
    ));
    let next = client.send(get("/b")).await.unwrap_err();
    assert!(matches!(next, HttpError::HostDown { .. }), "{next}");
    assert_eq!(slow.connections(), 1);

    // The run's deadline stops every host.
    let fast = Loopback::start(|_| Reply::ok("text/plain", "ok"));
    let run = HttpClient::new(HttpConfig {
        run_deadline: Some(Duration::from_millis(300)),
        ..run_config()
    })
    .unwrap();
    let ok = Request::get(Url::parse(&fast.url("/")).unwrap());
    assert!(run.send(ok.clone()).await.unwrap().is_success());
    tokio::time::sleep(Duration::from_millis(350)).await;
    let late = run.send(ok).await.unwrap_err();
    assert!(
        matches!(
            late,
            HttpError::OutOfTime {
                budget: "the run's",
                ..
            }
        ),
        "{late}"
    );
    assert_eq!(fast.connections(), 1);
}

#[tokio::test]
async fn a_name_that_does_not_resolve_is_not_retried_and_marks_the_host_down() {
    // `.invalid` never resolves (RFC 2606).
    let client = HttpClient::new(HttpConfig {
        backoff: Duration::from_secs(5),
        ..run_config()
    })
    .unwrap();
    let url = Url::parse("http://repin-test.invalid/simple/x/").unwrap();
    let started = std::time::Instant::now();
    let error = client.send(Request::get(url.clone())).await.unwrap_err();
    // No 5-second backoff was waited: the failure was not retried.
    assert!(started.elapsed() < Duration::from_secs(5), "{error}");
    assert!(matches!(error, HttpError::Unresolvable { .. }), "{error:?}");
    assert_eq!(error.unusable_host(), Some("repin-test.invalid:80"));
    let again = client.send(Request::get(url)).await.unwrap_err();
    assert!(matches!(again, HttpError::HostDown { .. }), "{again}");
    assert!(matches!(
        client.down_hosts()[..],
        [(ref host, DownReason::Unresolvable(_))] if host == "repin-test.invalid:80"
    ));
}

#[tokio::test]
async fn refused_connections_mark_the_host_down_after_the_retries() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = HttpClient::new(HttpConfig {
        retries: 1,
        ..run_config()
    })
    .unwrap();
    let url = Url::parse(&format!("http://127.0.0.1:{port}/x")).unwrap();
    let error = client.send(Request::get(url.clone())).await.unwrap_err();
    assert!(matches!(error, HttpError::Connect { .. }), "{error}");
    let again = client.send(Request::get(url)).await.unwrap_err();
    assert!(matches!(again, HttpError::HostDown { .. }), "{again}");
    assert!(matches!(
        client.down_hosts()[..],
        [(_, DownReason::Unreachable(_))]
    ));
}

#[tokio::test]
async fn error_bodies_are_short_sanitised_and_never_echo_a_credential() {
    // The server echoes the request's Authorization header, in every form a credential may
    // take, inside an HTML error page with a terminal escape and a megabyte of padding.
    let server = Loopback::start(|seen| {
        let auth = seen.header("authorization").unwrap_or_default().to_owned();
        let b64 = auth.trim_start_matches("Basic ").to_owned();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(&b64)
            .map(|d| String::from_utf8_lossy(&d).into_owned())
            .unwrap_or_default();
        let password = decoded
            .split_once(':')
            .map(|(_, p)| p.to_owned())
            .unwrap_or_default();
        let encoded: String = url::form_urlencoded::byte_serialize(password.as_bytes()).collect();
        let body = format!(
            "<html><body><h1>500</h1>\x1b[2J<pre>Authorization: {auth}\nuser:password {decoded}\nurl {encoded}\n</pre>{}</body></html>",
            "pad ".repeat(250_000)
        );
        Reply::status(500, body)
    });
    let client = HttpClient::new(HttpConfig {
        retries: 0,
        ..run_config()
    })
    .unwrap();
    let password = "canary+pass/word=1";
    let error = client
        .send(
            Request::get(Url::parse(&server.url("/simple/x/")).unwrap())
                .auth(Some(basic("canary-user", password))),
        )
        .await
        .unwrap_err();
    let text = error.to_string();
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("canary-user:{password}"));
    for leak in [password, b64.as_str(), "canary%2Bpass", "canary+pass"] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
    assert!(
        text.contains("answered HTTP 500: 500 Authorization: Basic ***"),
        "{text}"
    );
    assert!(text.len() < 400, "{} bytes: {text}", text.len());
    assert!(!text.chars().any(char::is_control), "{text:?}");
}

#[tokio::test]
async fn concurrent_bodies_stay_within_the_run_budget() {
    // Eight pages of 100 KiB at once against a budget of 256 KiB: two fit, one body at a time
    // may go beyond it, the others wait, and all are read; nothing stays charged afterwards.
    let server = Loopback::start(|_| Reply::ok("text/html", vec![b'x'; 100 * 1024]));
    let client = HttpClient::new(HttpConfig {
        body_budget: 256 * 1024,
        timeout: Duration::from_secs(10),
        ..run_config()
    })
    .unwrap();
    let requests = (0..8).map(|i| {
        let client = client.clone();
        let url = Url::parse(&server.url(&format!("/p{i}"))).unwrap();
        async move {
            let response = client.send(Request::get(url)).await.unwrap();
            assert!(response.is_charged());
            assert!(client.budget_in_use() <= 256 * 1024);
            response.body.len()
        }
    });
    let sizes = futures::future::join_all(requests).await;
    assert_eq!(sizes, vec![100 * 1024; 8]);
    assert_eq!(client.budget_in_use(), 0);
}
