//! Tests against an in-process double of the OSV API (`crate::testing::osv`). OSV's API cannot
//! be reached from the tests, so the double mimics the responses its documentation gives; it
//! fails the test on any unexpected request (another method or path, a body that is not a
//! documented batch of at most 1000 PyPI package queries, a page token it never gave, an ID it
//! never listed).

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use super::*;
use crate::error::chain as error_chain;
use crate::registry::http::{Cache, HttpConfig};
use crate::testing::osv::{FakeOsv, Query, record};
use crate::testing::strict_server;

fn http(cache: CacheMode) -> HttpClient {
    HttpClient::new(HttpConfig {
        backoff: Duration::from_millis(5),
        timeout: Duration::from_secs(5),
        cache,
        ..HttpConfig::default()
    })
    .unwrap()
}

fn client(url: &str) -> OsvApi {
    OsvApi::new(http(CacheMode::Disabled), Some(url)).unwrap()
}

fn names(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

fn ids(answer: &ApiAdvisories, package: &str) -> Vec<String> {
    answer
        .index
        .for_package(package)
        .iter()
        .map(|a| a.id().to_owned())
        .collect()
}

fn failure(answer: &ApiAdvisories, package: &str) -> String {
    error_chain(answer.failed[package].as_ref())
}

#[tokio::test]
async fn more_than_1000_packages_go_in_batches_of_at_most_1000() {
    let packages: Vec<String> = (0..2001).map(|i| format!("pkg-{i:04}")).collect();
    let mut shared = record("PYSEC-SHARED", "pkg-0000", "0", "2.0");
    shared["affected"]
        .as_array_mut()
        .unwrap()
        .push(record("x", "pkg-2000", "0", "3.0")["affected"][0].clone());
    let records = [
        shared,
        record("PYSEC-1500", "pkg-1500", "1.0", "1.5"),
        record("GHSA-2000", "pkg-2000", "0", "1.0"),
    ];
    let osv = FakeOsv::start(&records, 1000).await;
    let answer = client(&osv.url()).lookup(&packages).await;

    assert!(answer.failed.is_empty(), "{:?}", answer.failed);
    assert_eq!(ids(&answer, "pkg-0000"), ["PYSEC-SHARED"]);
    assert_eq!(ids(&answer, "pkg-1500"), ["PYSEC-1500"]);
    assert_eq!(ids(&answer, "pkg-2000"), ["GHSA-2000", "PYSEC-SHARED"]);
    assert!(ids(&answer, "pkg-0001").is_empty());
    let batches = osv.batches().await;
    let mut sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
    sizes.sort();
    assert_eq!(sizes, [1, 1000, 1000]);
    // Every package asked once, by name only, on its first page.
    let mut asked: Vec<String> = batches.into_iter().flatten().map(|q| q.name).collect();
    asked.sort();
    assert_eq!(asked, packages);
    // An advisory two packages list is fetched once.
    let fetched = osv.vuln_requests().await;
    assert_eq!(fetched.len(), 3);
    assert!(fetched.values().all(|&n| n == 1), "{fetched:?}");
}

#[tokio::test]
async fn next_page_tokens_are_followed_until_exhausted() {
    let mut records: Vec<Value> = (1..=5)
        .map(|i| record(&format!("PYSEC-{i}"), "django", "0", &format!("{i}.0")))
        .collect();
    records.push(record("PYSEC-F", "flask", "0", "2.2.5"));
    let osv = FakeOsv::start(&records, 2).await;
    let answer = client(&osv.url())
        .lookup(&names(&["django", "flask", "jinja2"]))
        .await;

    assert!(answer.failed.is_empty(), "{:?}", answer.failed);
    assert_eq!(
        ids(&answer, "django"),
        ["PYSEC-1", "PYSEC-2", "PYSEC-3", "PYSEC-4", "PYSEC-5"]
    );
    assert_eq!(ids(&answer, "flask"), ["PYSEC-F"]);
    let page = |token: Option<&str>| Query {
        name: "django".into(),
        page_token: token.map(Into::into),
    };
    let batches = osv.batches().await;
    assert_eq!(batches.len(), 3, "{batches:?}");
    assert_eq!(batches[0].len(), 3);
    // Only the package with another page is asked again, with the token it was given.
    assert_eq!(batches[1], [page(Some("django@2"))]);
    assert_eq!(batches[2], [page(Some("django@4"))]);
}

#[tokio::test]
async fn a_server_that_never_stops_paging_fails_only_those_packages() {
    // Not the documented API: a hostile server. Every query is checked for its shape, and
    // `endless` always gets another page.
    let server = strict_server().await;
    Mock::given(method("POST"))
        .and(path("/v1/querybatch"))
        .respond_with(|request: &wiremock::Request| {
            let body: Value = request.body_json().unwrap();
            let results: Vec<Value> = body["queries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|q| match q["package"]["name"].as_str() {
                    Some("endless") => json!({"vulns": [], "next_page_token": "again"}),
                    _ => json!({}),
                })
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({ "results": results }))
        })
        .expect(MAX_PAGES as u64)
        .mount(&server)
        .await;
    let answer = client(&server.uri())
        .lookup(&names(&["endless", "fine"]))
        .await;
    assert_eq!(answer.failed.keys().collect::<Vec<_>>(), ["endless"]);
    assert_eq!(
        failure(&answer, "endless"),
        format!(
            "The OSV API still had more results after {MAX_PAGES} pages, so repin stopped asking\n  hint: check that `osv-url` points at an OSV API"
        )
    );
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out() {
    let osv = FakeOsv::start(&[record("PYSEC-F", "flask", "0", "2.2.5")], 1000).await;
    osv.answer_batches(
        ResponseTemplate::new(429)
            .insert_header("retry-after", "1")
            .set_body_string("slow down"),
        1,
    )
    .await;
    let answer = client(&osv.url()).lookup(&names(&["flask"])).await;
    assert!(
        crate::registry::http::pause::waited().contains(&Duration::from_secs(1)),
        "Retry-After was not honoured: {:?}",
        crate::registry::http::pause::waited()
    );
    assert!(answer.failed.is_empty(), "{:?}", answer.failed);
    assert_eq!(ids(&answer, "flask"), ["PYSEC-F"]);
    assert_eq!(osv.batches().await.len(), 2);
}

#[tokio::test]
async fn a_failing_advisory_fails_exactly_the_packages_that_list_it() {
    let mut shared = record("GHSA-SHARED", "jinja2", "0", "3.0");
    shared["affected"]
        .as_array_mut()
        .unwrap()
        .push(record("x", "markupsafe", "0", "2.0")["affected"][0].clone());
    let records = [
        record("PYSEC-F", "flask", "0", "2.2.5"),
        record("PYSEC-D", "django", "0", "4.2"),
        shared,
    ];
    let osv = FakeOsv::start(&records, 1000).await;
    osv.answer_vuln(
        "PYSEC-D",
        ResponseTemplate::new(500).set_body_string("boom"),
    )
    .await;
    osv.answer_vuln(
        "GHSA-SHARED",
        ResponseTemplate::new(404).set_body_json(json!({"code": 5, "message": "Bug not found."})),
    )
    .await;
    let answer = client(&osv.url())
        .lookup(&names(&[
            "django",
            "flask",
            "jinja2",
            "markupsafe",
            "requests",
        ]))
        .await;

    assert_eq!(
        answer.failed.keys().collect::<Vec<_>>(),
        ["django", "jinja2", "markupsafe"]
    );
    let django = failure(&answer, "django");
    assert!(
        django.starts_with(
            "Cannot fetch advisory PYSEC-D from the OSV API\n  Caused by: http://127.0.0.1:"
        ),
        "{django}"
    );
    assert!(
        django.ends_with("/v1/vulns/PYSEC-D answered HTTP 500: boom"),
        "{django}"
    );
    assert!(failure(&answer, "jinja2").contains("answered HTTP 404"));
    // The others are still checked: flask has its advisory, requests has none.
    assert_eq!(ids(&answer, "flask"), ["PYSEC-F"]);
    assert!(ids(&answer, "requests").is_empty());
    // 5xx is retried (3 retries), 404 is not.
    let fetched = osv.vuln_requests().await;
    assert_eq!(fetched["PYSEC-D"], 4);
    assert_eq!(fetched["GHSA-SHARED"], 1);
}

#[tokio::test]
async fn a_malformed_querybatch_answer_is_a_clear_error() {
    let osv = FakeOsv::start(&[record("PYSEC-F", "flask", "0", "2.2.5")], 1000).await;
    osv.answer_batches(ResponseTemplate::new(200).set_body_string("<html>oops"), 1)
        .await;
    osv.answer_batches(
        ResponseTemplate::new(200).set_body_json(json!({"results": [{}]})),
        1,
    )
    .await;
    let api = client(&osv.url());
    let two = names(&["flask", "jinja2"]);

    // Overrides of equal priority answer in the order they were mounted.
    let answer = api.lookup(&two).await;
    assert_eq!(answer.failed.len(), 2);
    assert_eq!(
        failure(&answer, "jinja2"),
        "The OSV API's answer to querybatch is not what its API documents\n  Caused by: expected value at line 1 column 1"
    );
    let answer = api.lookup(&two).await;
    assert_eq!(answer.failed.len(), 2);
    assert_eq!(
        failure(&answer, "flask"),
        "The OSV API answered querybatch with the wrong number of results (1 for 2 queries)\n  hint: its API documents one result per query, in order"
    );
    // The overrides are used up: the documented answer again.
    let answer = api.lookup(&two).await;
    assert!(answer.failed.is_empty(), "{:?}", answer.failed);
}

#[tokio::test]
async fn a_malformed_advisory_fails_its_package_with_the_parser_position() {
    let records = [
        record("PYSEC-F", "flask", "0", "2.2.5"),
        record("PYSEC-J", "jinja2", "0", "3.0"),
    ];
    let osv = FakeOsv::start(&records, 1000).await;
    osv.answer_vuln(
        "PYSEC-J",
        ResponseTemplate::new(200).set_body_string("{\"id\": \"PYSEC-J\", \"affected\": 7}"),
    )
    .await;
    let answer = client(&osv.url())
        .lookup(&names(&["flask", "jinja2"]))
        .await;
    assert_eq!(answer.failed.keys().collect::<Vec<_>>(), ["jinja2"]);
    assert_eq!(
        failure(&answer, "jinja2"),
        "Advisory PYSEC-J from the OSV API cannot be read\n  Caused by: Invalid OSV record (JSON)\n  Caused by: invalid type: integer `7`, expected a sequence at line 1 column 31"
    );
    assert_eq!(ids(&answer, "flask"), ["PYSEC-F"]);
}

#[tokio::test]
async fn advisories_are_cached_and_revalidated_but_batches_never_are() {
    let osv = FakeOsv::start(&[record("PYSEC-F", "flask", "0", "2.2.5")], 1000).await;
    let dir = tempfile::tempdir().unwrap();
    let http = http(CacheMode::Enabled(Cache::new(dir.path())));
    let api = OsvApi::new(http.clone(), Some(&osv.url())).unwrap();
    for _ in 0..2 {
        let answer = api.lookup(&names(&["flask"])).await;
        assert_eq!(ids(&answer, "flask"), ["PYSEC-F"]);
    }
    // The second GET was a revalidation answered 304 (the double checks `If-None-Match`).
    assert_eq!(
        http.stats()
            .cached
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert_eq!(osv.vuln_requests().await["PYSEC-F"], 2);
    assert_eq!(osv.batches().await.len(), 2);
}

#[tokio::test]
async fn offline_every_package_fails_without_a_request() {
    // No mock but the catch-all: any request fails the test.
    let server = strict_server().await;
    let dir = tempfile::tempdir().unwrap();
    let api = OsvApi::new(
        http(CacheMode::Offline(Cache::new(dir.path()))),
        Some(&server.uri()),
    )
    .unwrap();
    let answer = api.lookup(&names(&["flask", "django"])).await;
    assert_eq!(answer.failed.len(), 2);
    assert!(
        failure(&answer, "flask")
            .starts_with("The OSV API cannot be queried offline\n  hint: pass --advisory-db PATH")
    );
    // Nothing to ask, nothing asked.
    let answer = client(&server.uri()).lookup(&[]).await;
    assert!(answer.failed.is_empty() && answer.index.is_empty());
}

#[test]
fn urls_keep_a_mirror_path_and_escape_ids() {
    let api = client("https://mirror.example/osv/?x=1");
    assert_eq!(
        api.endpoint(&["v1", "querybatch"]).as_str(),
        "https://mirror.example/osv/v1/querybatch"
    );
    assert_eq!(
        api.endpoint(&["v1", "vulns", "../x?y#z"]).as_str(),
        "https://mirror.example/osv/v1/vulns/..%2Fx%3Fy%23z"
    );
    assert_eq!(
        client(DEFAULT_URL)
            .endpoint(&["v1", "vulns", "PYSEC-1"])
            .as_str(),
        "https://api.osv.dev/v1/vulns/PYSEC-1"
    );
    let error = OsvApi::new(http(CacheMode::Disabled), Some("mailto:osv@example.com")).unwrap_err();
    assert_eq!(
        crate::error::chain(&error),
        "`mailto:osv@example.com` is not a valid OSV API URL\n  Caused by: it is not an http or https URL\n  hint: set `osv-url` under [advisories] in repin.toml to the API's base URL, such as https://api.osv.dev"
    );
}

#[tokio::test]
async fn a_package_with_endless_advisories_is_failed_without_fetching_them() {
    // A hostile API lists more IDs for `victim` than any real package has; `fine` has none.
    let server = strict_server().await;
    let ids: Vec<Value> = (0..=MAX_IDS_PER_PACKAGE)
        .map(|i| json!({"id": format!("HOSTILE-{i}")}))
        .collect();
    Mock::given(method("POST"))
        .and(path("/v1/querybatch"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"results": [{}, {"vulns": ids}]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let answer = client(&server.uri())
        .lookup(&names(&["fine", "victim"]))
        .await;
    assert!(!answer.failed.contains_key("fine"));
    assert!(
        failure(&answer, "victim").starts_with("The OSV API lists more than 5000 advisories"),
        "{}",
        failure(&answer, "victim")
    );
    assert!(ids_of_nothing(&answer));
}

fn ids_of_nothing(answer: &ApiAdvisories) -> bool {
    ids(answer, "victim").is_empty() && ids(answer, "fine").is_empty()
}
