//! The OSV API (<https://google.github.io/osv.dev/api/>) as an advisory source.
//!
//! Two endpoints, over repin's one HTTP client (so retries on 5xx and 429 honouring
//! `Retry-After`, body caps, redaction and the on-disk cache are the client's):
//!
//! 1. `POST /v1/querybatch` asks, for up to [`MAX_QUERIES_PER_BATCH`] packages at once, which
//!    advisories name them. Packages are asked by name only, without a version, so that every
//!    release a decision may consider (the pin, its candidates, the fix) can be judged from the
//!    same records. A result carrying a `next_page_token` is asked again with that token until
//!    none is left, at most [`MAX_PAGES`] times: a server that never stops paging fails those
//!    packages instead of holding the run. These answers depend on the request body, so they
//!    are never cached.
//! 2. `GET /v1/vulns/{id}` fetches every distinct ID once, concurrently, parsed with the OSV
//!    model. These are cacheable like any other `GET` (revalidated with `ETag`).
//!
//! A failure is confined to the packages it concerns: a batch that fails after retries fails
//! its packages, an advisory that cannot be fetched fails the packages that listed it. Those
//! packages are reported in [`ApiAdvisories::failed`], never as clean; the others still get
//! their advisories.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use futures::StreamExt;
use reqwest::header::ACCEPT;
use serde::{Deserialize, Serialize};
use url::Url;

use super::model::{ModelError, OsvRecord, PYPI};
use super::{AdvisoryIndex, LoadedRecord, RecordBatch};
use crate::error::{Hint, Reason};
use crate::registry::http::{CacheMode, HttpClient, HttpError, Request};

/// osv.dev's API, used unless `[advisories] osv-url` names another.
pub const DEFAULT_URL: &str = "https://api.osv.dev";

/// The most queries one `querybatch` request may hold (OSV's documented limit).
pub const MAX_QUERIES_PER_BATCH: usize = 1000;

/// How many pages of results a package may have before repin stops asking. OSV pages a
/// result only when it is large; real packages need a handful of pages at most.
pub const MAX_PAGES: usize = 100;

/// The largest `querybatch` answer read, in bytes (OSV pages large results; a real answer for
/// a thousand packages is a few megabytes).
pub const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;

/// The largest advisory record read, in bytes.
pub const MAX_RECORD_BYTES: usize = 4 * 1024 * 1024;

/// The most advisory IDs one package may have (the most advised PyPI packages have a few
/// hundred): a package beyond it is failed, not fetched ID by ID.
pub const MAX_IDS_PER_PACKAGE: usize = 5_000;

/// `querybatch` requests in flight at once (most runs need one).
const BATCHES_AT_ONCE: usize = 4;

/// `vulns/{id}` requests in flight at once; the HTTP client also limits each host.
const FETCHES_AT_ONCE: usize = 16;

/// Why (part of) an OSV API lookup failed.
#[derive(Debug, thiserror::Error)]
pub enum OsvApiError {
    /// `osv-url` cannot be the base of the API's URLs.
    #[error("`{url}` is not a valid OSV API URL")]
    BadUrl {
        /// The URL as configured.
        url: String,
        /// What is wrong with it.
        #[source]
        reason: Reason,
    },
    /// `--offline`: the API cannot be asked, and `querybatch` answers are not cached.
    #[error("The OSV API cannot be queried offline")]
    Offline,
    /// A `querybatch` request failed (after retries).
    #[error("Cannot query the OSV API")]
    Query {
        /// The transport or status error.
        source: HttpError,
    },
    /// A `querybatch` answer is not JSON of the documented shape.
    #[error("The OSV API's answer to querybatch is not what its API documents")]
    BadAnswer {
        /// The parser's reason.
        source: serde_json::Error,
    },
    /// A `querybatch` answer does not have one result per query.
    #[error(
        "The OSV API answered querybatch with the wrong number of results ({got} for {sent} queries)"
    )]
    WrongCount {
        /// Queries sent.
        sent: usize,
        /// Results received.
        got: usize,
    },
    /// A package's results were still paged after [`MAX_PAGES`] pages.
    #[error("The OSV API still had more results after {pages} pages, so repin stopped asking")]
    TooManyPages {
        /// Pages received.
        pages: usize,
    },
    /// A package has more advisories than repin fetches.
    #[error(
        "The OSV API lists more than {MAX_IDS_PER_PACKAGE} advisories for one package, so repin did not fetch them"
    )]
    TooManyAdvisories,
    /// A `vulns/{id}` request failed (after retries).
    #[error("Cannot fetch advisory {id} from the OSV API")]
    Fetch {
        /// The advisory's ID.
        id: String,
        /// The transport or status error.
        source: HttpError,
    },
    /// A `vulns/{id}` answer is not an OSV record.
    #[error("Advisory {id} from the OSV API cannot be read")]
    BadRecord {
        /// The advisory's ID.
        id: String,
        /// The parser's reason.
        source: ModelError,
    },
    /// A `vulns/{id}` answer is the record of another ID.
    #[error("The OSV API answered advisory {got} when asked for {asked}")]
    WrongRecord {
        /// The ID asked for.
        asked: String,
        /// The ID of the record received.
        got: String,
    },
}

impl Hint for OsvApiError {
    fn hints(&self) -> Vec<String> {
        let check_url = || vec!["check that `osv-url` points at an OSV API".to_owned()];
        match self {
            OsvApiError::BadUrl { .. } => vec![format!(
                "set `osv-url` under [advisories] in repin.toml to the API's base URL, such as {DEFAULT_URL}"
            )],
            OsvApiError::Offline => vec![
                "pass --advisory-db PATH to use an offline database, or run without --offline"
                    .into(),
            ],
            OsvApiError::Query { source } | OsvApiError::Fetch { source, .. } => {
                hint_for(source).into_iter().map(str::to_owned).collect()
            }
            OsvApiError::WrongCount { .. } => {
                vec!["its API documents one result per query, in order".into()]
            }
            OsvApiError::TooManyPages { .. } | OsvApiError::TooManyAdvisories => check_url(),
            OsvApiError::BadAnswer { .. }
            | OsvApiError::BadRecord { .. }
            | OsvApiError::WrongRecord { .. } => Vec::new(),
        }
    }
}

/// What to do about a failed request (or nothing).
fn hint_for(error: &HttpError) -> Option<&'static str> {
    match error {
        // A 429 whose wait repin would not sit out, or that outlasted the retries.
        HttpError::RateLimited { .. } | HttpError::Status { status: 429, .. } => {
            Some("the OSV API is rate limiting repin; run again later")
        }
        HttpError::Connect { .. }
        | HttpError::Unresolvable { .. }
        | HttpError::HostDown { .. }
        | HttpError::Timeout { .. } => {
            Some("without network access, pass --advisory-db PATH to use an offline database")
        }
        _ => None,
    }
}

/// What the API said about a set of packages.
#[derive(Debug, Default)]
pub struct ApiAdvisories {
    /// Every advisory fetched, by package. A failed package may have some of its advisories
    /// here, but never all of them for sure.
    pub index: AdvisoryIndex,
    /// Packages that could not be checked, with why; a failed batch shares its error among
    /// its packages.
    pub failed: BTreeMap<String, Arc<OsvApiError>>,
}

/// A client of the OSV API.
#[derive(Debug, Clone)]
pub struct OsvApi {
    http: HttpClient,
    base: Url,
}

/// One query of a `querybatch` request.
#[derive(Serialize)]
struct Query<'a> {
    package: PackageQuery<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    page_token: Option<&'a str>,
}

#[derive(Serialize)]
struct PackageQuery<'a> {
    name: &'a str,
    ecosystem: &'a str,
}

#[derive(Serialize)]
struct BatchRequest<'a> {
    queries: Vec<Query<'a>>,
}

#[derive(Deserialize)]
struct BatchResponse {
    #[serde(default)]
    results: Option<Vec<BatchResult>>,
}

/// One result; OSV answers `{}` for a package no advisory names.
#[derive(Deserialize)]
struct BatchResult {
    #[serde(default)]
    vulns: Option<Vec<VulnRef>>,
    #[serde(default)]
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct VulnRef {
    id: String,
}

/// A package still being asked about: its position in the batch, and the page to ask for
/// (`None` for the first).
type Pending = (usize, Option<String>);

/// The advisory IDs of one package, or why they are not known.
type PackageIds = Result<BTreeSet<String>, Arc<OsvApiError>>;

/// A package as the API is asked about it: `(ecosystem, name)`.
type Key = (String, String);

/// What [`OsvApi::lookup_in`] found: the records, and the packages that could not be checked.
#[derive(Debug, Default)]
pub struct EcosystemAdvisories {
    /// Every record naming one of the packages.
    pub records: RecordBatch,
    /// `(ecosystem, name)` of the packages that could not be checked, with why.
    pub failed: BTreeMap<(String, String), Arc<OsvApiError>>,
}

impl OsvApi {
    /// A client of the API at `base` ([`DEFAULT_URL`] when `None`); a path in it (a mirror at
    /// `https://mirror.example/osv/`) is kept.
    pub fn new(http: HttpClient, base: Option<&str>) -> Result<Self, OsvApiError> {
        let text = base.unwrap_or(DEFAULT_URL);
        let bad = |reason: String| OsvApiError::BadUrl {
            url: text.to_owned(),
            reason: Reason(reason),
        };
        let base = Url::parse(text).map_err(|e| bad(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(bad("it is not an http or https URL".into()));
        }
        Ok(OsvApi { http, base })
    }

    /// The API's base URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The advisories of `packages` (PyPI names), each package and each advisory asked once.
    pub async fn lookup(&self, packages: &[String]) -> ApiAdvisories {
        let packages: Vec<String> = packages
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if packages.is_empty() {
            return ApiAdvisories::default();
        }
        if matches!(self.http.config().cache, CacheMode::Offline(_)) {
            let error = Arc::new(OsvApiError::Offline);
            return ApiAdvisories {
                index: AdvisoryIndex::new(),
                failed: packages.into_iter().map(|p| (p, error.clone())).collect(),
            };
        }
        let keys: Vec<Key> = packages.into_iter().map(|p| (PYPI.to_owned(), p)).collect();
        let found = self.lookup_in(&keys).await;
        ApiAdvisories {
            index: AdvisoryIndex::from_batch(found.records),
            failed: found
                .failed
                .into_iter()
                .map(|((_, name), error)| (name, error))
                .collect(),
        }
    }

    /// The records naming each `(ecosystem, name)` package (any ecosystem: `Debian:12`,
    /// `Alpine:v3.20`), each package and each advisory asked once.
    pub async fn lookup_in(&self, keys: &[(String, String)]) -> EcosystemAdvisories {
        let keys: Vec<Key> = keys
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if keys.is_empty() {
            return EcosystemAdvisories::default();
        }
        if matches!(self.http.config().cache, CacheMode::Offline(_)) {
            let error = Arc::new(OsvApiError::Offline);
            return EcosystemAdvisories {
                records: RecordBatch::default(),
                failed: keys.into_iter().map(|k| (k, error.clone())).collect(),
            };
        }
        let (ids, mut failed) = split(self.query_ids(&keys).await);
        let fetched = self.fetch_all(ids.values().flatten()).await;
        failed.extend(failed_fetches(&ids, &fetched));
        let records = fetched.into_values().filter_map(Result::ok).collect();
        EcosystemAdvisories {
            records: RecordBatch {
                records,
                diagnostics: Vec::new(),
            },
            failed,
        }
    }

    async fn query_ids(&self, packages: &[Key]) -> Vec<(Key, PackageIds)> {
        futures::stream::iter(packages.chunks(MAX_QUERIES_PER_BATCH))
            .map(|chunk| self.query_chunk(chunk))
            .buffer_unordered(BATCHES_AT_ONCE)
            .flat_map(futures::stream::iter)
            .collect()
            .await
    }

    /// The advisory IDs of one batch's packages, following each result's pages.
    async fn query_chunk(&self, names: &[Key]) -> Vec<(Key, PackageIds)> {
        let mut ids = vec![BTreeSet::new(); names.len()];
        let mut errors: Vec<Option<Arc<OsvApiError>>> = vec![None; names.len()];
        let mut pending: Vec<Pending> = (0..names.len()).map(|i| (i, None)).collect();
        let mut pages = 0;
        while !pending.is_empty() {
            if pages == MAX_PAGES {
                fail_pending(&pending, OsvApiError::TooManyPages { pages }, &mut errors);
                break;
            }
            pages += 1;
            pending = match self.query_batch(names, &pending).await {
                Ok(results) => {
                    let next = record_page(&pending, results, &mut ids);
                    // A package with too many IDs is failed (and asked no further).
                    let over: Vec<Pending> = pending
                        .iter()
                        .filter(|(i, _)| ids[*i].len() > MAX_IDS_PER_PACKAGE)
                        .cloned()
                        .collect();
                    for (i, _) in &over {
                        ids[*i].clear();
                    }
                    fail_pending(&over, OsvApiError::TooManyAdvisories, &mut errors);
                    next.into_iter()
                        .filter(|(i, _)| errors[*i].is_none())
                        .collect()
                }
                Err(error) => {
                    fail_pending(&pending, error, &mut errors);
                    Vec::new()
                }
            };
        }
        names
            .iter()
            .cloned()
            .zip(ids.into_iter().zip(errors))
            .map(|(name, (found, error))| (name, error.map_or(Ok(found), Err)))
            .collect()
    }

    /// One `querybatch` request for the `pending` packages of `names`: one result per query.
    async fn query_batch(
        &self,
        names: &[Key],
        pending: &[Pending],
    ) -> Result<Vec<BatchResult>, OsvApiError> {
        let body = BatchRequest {
            queries: pending
                .iter()
                .map(|(i, token)| Query {
                    package: PackageQuery {
                        name: &names[*i].1,
                        ecosystem: &names[*i].0,
                    },
                    page_token: token.as_deref(),
                })
                .collect(),
        };
        let body = serde_json::to_vec(&body).expect("a batch request serializes");
        let request = Request::post_json(self.endpoint(&["v1", "querybatch"]), body)
            .max_body(MAX_BATCH_BYTES)
            .header(ACCEPT, "application/json");
        let response = self
            .http
            .send(request)
            .await
            .and_then(super::super::registry::http::Response::ensure_success)
            .map_err(|source| OsvApiError::Query { source })?;
        let answer: BatchResponse = serde_json::from_slice(&response.body)
            .map_err(|source| OsvApiError::BadAnswer { source })?;
        let results = answer.results.unwrap_or_default();
        if results.len() != pending.len() {
            return Err(OsvApiError::WrongCount {
                sent: pending.len(),
                got: results.len(),
            });
        }
        Ok(results)
    }

    /// Every distinct ID of `ids` fetched, concurrently, keyed by ID.
    async fn fetch_all<'a>(
        &self,
        ids: impl Iterator<Item = &'a String>,
    ) -> BTreeMap<String, Result<LoadedRecord, Arc<OsvApiError>>> {
        let unique: BTreeSet<&String> = ids.collect();
        futures::stream::iter(unique)
            .map(|id| async move { (id.clone(), self.fetch(id).await.map_err(Arc::new)) })
            .buffer_unordered(FETCHES_AT_ONCE)
            .collect()
            .await
    }

    /// One advisory, from `GET /v1/vulns/{id}`.
    async fn fetch(&self, id: &str) -> Result<LoadedRecord, OsvApiError> {
        let url = self.endpoint(&["v1", "vulns", id]);
        let request = Request::get(url.clone())
            .max_body(MAX_RECORD_BYTES)
            .header(ACCEPT, "application/json");
        let fetch_error = |source| OsvApiError::Fetch {
            id: id.to_owned(),
            source,
        };
        let response = self
            .http
            .send(request)
            .await
            .and_then(super::super::registry::http::Response::ensure_success)
            .map_err(fetch_error)?;
        let record =
            OsvRecord::from_json(&String::from_utf8_lossy(&response.body)).map_err(|source| {
                OsvApiError::BadRecord {
                    id: id.to_owned(),
                    source,
                }
            })?;
        if record.id != id {
            return Err(OsvApiError::WrongRecord {
                asked: id.to_owned(),
                got: record.id,
            });
        }
        Ok(LoadedRecord {
            origin: PathBuf::from(url.as_str()),
            record,
        })
    }

    /// The base URL with `segments` appended, each percent-encoded as one path segment (an ID
    /// never escapes its place in the path).
    fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        url.set_query(None);
        url.set_fragment(None);
        url.path_segments_mut()
            .expect("checked in `new`: the base URL can be a base")
            .pop_if_empty()
            .extend(segments);
        url
    }
}

/// The packages whose IDs are known, and the others with why.
fn split(
    results: Vec<(Key, PackageIds)>,
) -> (
    BTreeMap<Key, BTreeSet<String>>,
    BTreeMap<Key, Arc<OsvApiError>>,
) {
    let mut ids = BTreeMap::new();
    let mut failed = BTreeMap::new();
    for (package, result) in results {
        match result {
            Ok(found) => {
                ids.insert(package, found);
            }
            Err(error) => {
                failed.insert(package, error);
            }
        }
    }
    (ids, failed)
}

/// The packages listing an advisory that could not be fetched, each with the first such error.
fn failed_fetches(
    ids: &BTreeMap<Key, BTreeSet<String>>,
    fetched: &BTreeMap<String, Result<LoadedRecord, Arc<OsvApiError>>>,
) -> Vec<(Key, Arc<OsvApiError>)> {
    ids.iter()
        .filter_map(|(package, package_ids)| {
            let error = package_ids
                .iter()
                .find_map(|id| fetched[id].as_ref().err())?;
            Some((package.clone(), error.clone()))
        })
        .collect()
}

/// Mark every `pending` package failed with `error`.
fn fail_pending(pending: &[Pending], error: OsvApiError, errors: &mut [Option<Arc<OsvApiError>>]) {
    let error = Arc::new(error);
    for &(i, _) in pending {
        errors[i] = Some(error.clone());
    }
}

/// Add one page of `results` (answering `pending`, in order) to `ids`; the packages that have
/// another page, with its token.
fn record_page(
    pending: &[Pending],
    results: Vec<BatchResult>,
    ids: &mut [BTreeSet<String>],
) -> Vec<Pending> {
    let mut next = Vec::new();
    for (&(i, _), result) in pending.iter().zip(results) {
        ids[i].extend(result.vulns.unwrap_or_default().into_iter().map(|v| v.id));
        if let Some(token) = result.next_page_token.filter(|t| !t.is_empty()) {
            next.push((i, Some(token)));
        }
    }
    next
}

#[cfg(test)]
mod tests;
