//! A double of the OSV API for tests, in process on loopback.
//!
//! OSV's API cannot be reached from the tests, so this server mimics the responses its
//! documentation gives (<https://google.github.io/osv.dev/post-v1-querybatch/> and
//! <https://google.github.io/osv.dev/get-v1-vulns/>): `POST /v1/querybatch` answers one result
//! per query, in order, `{}` for a package no advisory names, and pages a package's IDs with
//! `next_page_token`; `GET /v1/vulns/{id}` answers the record, with an `ETag`. It is strict:
//! any other request (another method or path, a body that is not a documented batch of at most
//! 1000 PyPI package queries, a query with a version, a page token it never gave, an ID it
//! never listed) falls through to the catch-all of [`super::strict_server`], which fails the
//! test.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// One query of a received `querybatch` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The package name asked about.
    pub name: String,
    /// The page asked for, if not the first.
    pub page_token: Option<String>,
}

/// What the double serves: advisory IDs by package, and records by ID.
#[derive(Debug)]
struct Database {
    ids: BTreeMap<String, Vec<String>>,
    records: BTreeMap<String, Value>,
    page_size: usize,
}

impl Database {
    fn new(records: &[Value], page_size: usize) -> Self {
        let mut ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut by_id = BTreeMap::new();
        for record in records {
            let id = record["id"]
                .as_str()
                .expect("a record has an id")
                .to_owned();
            let packages: BTreeSet<String> = record["affected"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|a| a["package"]["ecosystem"] == "PyPI")
                .filter_map(|a| a["package"]["name"].as_str())
                .map(normalise)
                .collect();
            for package in packages {
                ids.entry(package).or_default().push(id.clone());
            }
            by_id.insert(id, record.clone());
        }
        Database {
            ids,
            records: by_id,
            page_size: page_size.max(1),
        }
    }

    /// The IDs of `name` from `offset`, and the token of the next page if any.
    fn page(&self, name: &str, offset: usize) -> (&[String], Option<String>) {
        let all = self
            .ids
            .get(&normalise(name))
            .map_or(&[][..], Vec::as_slice);
        let end = (offset + self.page_size).min(all.len());
        let next = (end < all.len()).then(|| token(name, end));
        (&all[offset.min(end)..end], next)
    }

    /// The offset a token stands for, if this server gave it for `name`.
    fn offset(&self, name: &str, token: &str) -> Option<usize> {
        let offset: usize = token.strip_prefix(&format!("{name}@"))?.parse().ok()?;
        let count = self.ids.get(&normalise(name)).map_or(0, Vec::len);
        (offset > 0 && offset < count).then_some(offset)
    }

    fn modified(&self, id: &str) -> Value {
        self.records[id]
            .get("modified")
            .cloned()
            .unwrap_or_else(|| json!("2024-01-01T00:00:00Z"))
    }
}

fn normalise(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

fn token(name: &str, offset: usize) -> String {
    format!("{name}@{offset}")
}

/// The queries of a body, if it is a documented batch of PyPI package queries without
/// versions whose page tokens this server gave.
fn documented_batch(db: &Database, body: &[u8]) -> Option<Vec<Query>> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object()?;
    let queries = object.get("queries")?.as_array()?;
    if object.len() != 1 || queries.is_empty() || queries.len() > 1000 {
        return None;
    }
    queries.iter().map(|q| documented_query(db, q)).collect()
}

fn documented_query(db: &Database, query: &Value) -> Option<Query> {
    let object = query.as_object()?;
    let package = object.get("package")?.as_object()?;
    if package.len() != 2 || package.get("ecosystem")? != "PyPI" {
        return None;
    }
    let name = package.get("name")?.as_str()?.to_owned();
    let page_token = match object.get("page_token") {
        None => None,
        Some(token) => {
            let token = token.as_str()?;
            db.offset(&name, token)?;
            Some(token.to_owned())
        }
    };
    let expected_keys = 1 + usize::from(page_token.is_some());
    (object.len() == expected_keys).then_some(Query { name, page_token })
}

fn batch_answer(db: &Database, request: &Request) -> ResponseTemplate {
    let queries = documented_batch(db, &request.body).expect("checked by the matcher");
    let results: Vec<Value> = queries
        .iter()
        .map(|q| {
            let offset = q
                .page_token
                .as_deref()
                .and_then(|t| db.offset(&q.name, t))
                .unwrap_or(0);
            let (ids, next) = db.page(&q.name, offset);
            let mut result = serde_json::Map::new();
            if !ids.is_empty() {
                let vulns: Vec<Value> = ids
                    .iter()
                    .map(|id| json!({"id": id, "modified": db.modified(id)}))
                    .collect();
                result.insert("vulns".into(), Value::Array(vulns));
            }
            if let Some(next) = next {
                result.insert("next_page_token".into(), Value::String(next));
            }
            Value::Object(result)
        })
        .collect();
    ResponseTemplate::new(200).set_body_json(json!({ "results": results }))
}

/// The ID a `GET /v1/vulns/{id}` asks for, if this server has it.
fn known_id<'a>(db: &'a Database, request: &Request) -> Option<&'a str> {
    let id = request.url.path().strip_prefix("/v1/vulns/")?;
    db.records.get_key_value(id).map(|(k, _)| k.as_str())
}

fn vuln_answer(db: &Database, request: &Request) -> ResponseTemplate {
    let id = known_id(db, request).expect("checked by the matcher");
    let etag = format!("\"{}\"", db.modified(id).as_str().unwrap_or(""));
    let revalidated = request
        .headers
        .get("if-none-match")
        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let template = if revalidated {
        ResponseTemplate::new(304)
    } else {
        ResponseTemplate::new(200).set_body_json(&db.records[id])
    };
    template.insert_header("etag", etag.as_str())
}

/// A running double of the OSV API.
pub struct FakeOsv {
    /// The server; its catch-all fails the test on any request not documented.
    pub server: MockServer,
    db: Arc<Database>,
}

impl FakeOsv {
    /// Serve `records` (OSV JSON), paging each package's IDs `page_size` at a time.
    pub async fn start(records: &[Value], page_size: usize) -> FakeOsv {
        let server = super::strict_server().await;
        let db = Arc::new(Database::new(records, page_size));
        let fake = FakeOsv { server, db };
        let (matched, answered) = (fake.db.clone(), fake.db.clone());
        Mock::given(method("POST"))
            .and(path("/v1/querybatch"))
            .and(move |r: &Request| documented_batch(&matched, &r.body).is_some())
            .respond_with(move |r: &Request| batch_answer(&answered, r))
            .named("documented querybatch")
            .mount(&fake.server)
            .await;
        let (matched, answered) = (fake.db.clone(), fake.db.clone());
        Mock::given(method("GET"))
            .and(move |r: &Request| known_id(&matched, r).is_some())
            .respond_with(move |r: &Request| vuln_answer(&answered, r))
            .named("documented vulns/{id}")
            .mount(&fake.server)
            .await;
        fake
    }

    /// The base URL to configure as `osv-url`.
    pub fn url(&self) -> String {
        self.server.uri()
    }

    /// Answer the next `times` documented `querybatch` requests with `response` instead.
    pub async fn answer_batches(&self, response: ResponseTemplate, times: u64) {
        let db = self.db.clone();
        Mock::given(method("POST"))
            .and(path("/v1/querybatch"))
            .and(move |r: &Request| documented_batch(&db, &r.body).is_some())
            .respond_with(response)
            .up_to_n_times(times)
            .expect(times)
            .with_priority(1)
            .named("querybatch override")
            .mount(&self.server)
            .await;
    }

    /// Answer every `GET /v1/vulns/{id}` with `response` instead of the record.
    pub async fn answer_vuln(&self, id: &str, response: ResponseTemplate) {
        Mock::given(method("GET"))
            .and(path(format!("/v1/vulns/{id}")))
            .respond_with(response)
            .expect(1..)
            .with_priority(1)
            .named(format!("vulns/{id} override"))
            .mount(&self.server)
            .await;
    }

    /// The queries of every `querybatch` request received, in order of arrival.
    pub async fn batches(&self) -> Vec<Vec<Query>> {
        self.requests("POST", "/v1/querybatch")
            .await
            .iter()
            .filter_map(|r| documented_batch(&self.db, &r.body))
            .collect()
    }

    /// How many `GET /v1/vulns/{id}` requests were received, by ID.
    pub async fn vuln_requests(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for request in self.requests("GET", "").await {
            if let Some(id) = request.url.path().strip_prefix("/v1/vulns/") {
                *counts.entry(id.to_owned()).or_insert(0) += 1;
            }
        }
        counts
    }

    async fn requests(&self, verb: &str, at: &str) -> Vec<Request> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.method.as_str() == verb && (at.is_empty() || r.url.path() == at))
            .collect()
    }
}

/// An OSV record (JSON) for `package` with one ECOSYSTEM range: `introduced` and `fixed`.
pub fn record(id: &str, package: &str, introduced: &str, fixed: &str) -> Value {
    json!({
        "id": id,
        "modified": "2024-05-01T00:00:00Z",
        "summary": format!("{package} is vulnerable"),
        "aliases": [format!("CVE-2030-{}", id.len())],
        "affected": [{
            "package": {"ecosystem": "PyPI", "name": package},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": introduced}, {"fixed": fixed}]}]
        }],
        "database_specific": {"severity": "HIGH"}
    })
}
