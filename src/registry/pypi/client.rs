//! Asking indexes about projects: one index ([`PypiClient::project`]) or all of a requirement's
//! indexes at once ([`PypiClient::lookup`]).

use std::collections::BTreeMap;
use std::time::Duration;

use pep440_rs::Version;
use reqwest::header::ACCEPT;
use serde::{Serialize, Serializer};

use super::error::PypiError;
use super::index_config::Index;
use super::model::{IndexUrl, PageFormat, Project, ProjectBuilder, Release};
use super::{simple_html, simple_json};
use crate::registry::http::{HttpClient, Request, Response};
use crate::vocab::normalize_name;
use crate::vocab::redact;

/// The `Accept` header of project page requests: PEP 691 JSON preferred, HTML accepted.
pub const ACCEPT_SIMPLE: &str = "application/vnd.pypi.simple.v1+json, \
                                 application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// The largest project page read, in bytes. PyPI's largest pages (botocore, numpy) are about
/// 2 MB; the limit leaves room for fifteen times that while keeping a hostile page's body (and
/// what it parses into) well inside a run's memory.
pub const MAX_PAGE_BYTES: usize = 32 * 1024 * 1024;
/// How long a cached project page whose index sends no `Cache-Control` is used without asking
/// again: pip's 10 minutes (PyPI itself sends `max-age=600`).
pub const PAGE_FRESHNESS: Duration = Duration::from_secs(600);

/// Project pages asked of the index again even when a cached copy is fresh (uv's
/// `--refresh`; an upgrade implies it, so a release published minutes ago is seen).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Refresh {
    /// Cached pages are used while fresh.
    #[default]
    None,
    /// Every page is revalidated.
    All,
    /// These projects' pages (normalised names) are revalidated.
    Projects(std::collections::BTreeSet<String>),
}

impl Refresh {
    fn covers(&self, name: &str) -> bool {
        match self {
            Refresh::None => false,
            Refresh::All => true,
            Refresh::Projects(names) => names.contains(name),
        }
    }
}

/// A client for PyPI-compatible simple indexes. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PypiClient {
    http: HttpClient,
    refresh: std::sync::Arc<Refresh>,
    pages_cached: bool,
}

impl PypiClient {
    /// A client that sends every request through `http` (and so shares its cache, retries and
    /// per-host limits).
    pub fn new(http: HttpClient) -> Self {
        PypiClient {
            http,
            refresh: std::sync::Arc::default(),
            pages_cached: true,
        }
    }

    /// The same client, reading and writing project pages without the HTTP cache: for a
    /// caller that keeps what it needs of them itself (`repin lock`'s listings), so a page of
    /// megabytes is not written to disk on every run.
    pub fn without_page_cache(mut self) -> Self {
        self.pages_cached = false;
        self
    }

    /// The same client, reading and writing project pages through the HTTP cache again.
    pub fn with_page_cache(mut self) -> Self {
        self.pages_cached = true;
        self
    }

    /// The same client, revalidating the project pages `refresh` names.
    pub fn refreshing(mut self, refresh: Refresh) -> Self {
        self.refresh = std::sync::Arc::new(refresh);
        self
    }

    /// The HTTP client.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Everything `index` says about project `name` (any spelling: it is normalised).
    ///
    /// A missing project is [`PypiError::NotFound`], so a caller asking several indexes can go
    /// on; `401`/`403` is [`PypiError::Unauthorized`], with a hint about credentials.
    pub async fn project(&self, index: &Index, name: &str) -> Result<Project, PypiError> {
        self.project_page(index, name, None)
            .await
            .map(|(project, _)| project)
    }

    /// [`PypiClient::project`], with how long the page may be used without asking again when
    /// it came from the network now (its `max-age`, else [`PAGE_FRESHNESS`]); `None` when it
    /// came from the cache (its age is not known here) or must not be reused.
    /// With `only`, the project holds that release alone ([`ProjectBuilder::only`]).
    async fn project_page(
        &self,
        index: &Index,
        name: &str,
        only: Option<&Version>,
    ) -> Result<(Project, Option<Duration>), PypiError> {
        let name = normalize_name(name);
        let not_found = || PypiError::NotFound {
            name: name.clone(),
            indexes: vec![index.url.clone()],
        };
        // Anything else would not name a project page (or would escape the index's path).
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(not_found());
        }
        let http_error = |source| PypiError::Http {
            name: name.clone(),
            index: index.url.clone(),
            source: Box::new(source),
        };
        let mut request = Request::get(index.url.project_url(&name))
            .max_body(MAX_PAGE_BYTES)
            .header(ACCEPT, ACCEPT_SIMPLE)
            .auth(index.auth.clone());
        if !self.refresh.covers(&name) {
            request = request.fresh_by_default(PAGE_FRESHNESS);
        }
        if !self.pages_cached {
            request = request.uncached();
        }
        let response = self.http.send(request).await.map_err(http_error)?;
        match response.status {
            404 | 410 => return Err(not_found()),
            401 | 403 => {
                return Err(PypiError::Unauthorized {
                    url: redact::url(&response.url),
                    status: response.status,
                    host: index.url.as_url().host_str().unwrap_or_default().to_owned(),
                    sent_credentials: index.auth.is_some(),
                    name,
                });
            }
            _ => {}
        }
        let response = response.ensure_success().map_err(http_error)?;
        let format = page_format(&response, &name)?;
        // Files go straight into their releases as the page is read; the body (charged to the
        // run's memory budget) is dropped as soon as the project is built.
        let mut project = ProjectBuilder::new(&name, index.url.clone(), format).only(only.cloned());
        match format {
            PageFormat::Json => {
                simple_json::parse_into(&response.body, &response.url, &name, &mut project)?;
            }
            PageFormat::Html => {
                simple_html::parse_into(&response.body, &response.url, &name, &mut project)?;
            }
        }
        if let Some((what, limit)) = project.overflow() {
            return Err(PypiError::PageTooLarge {
                name,
                url: redact::url(&response.url),
                what,
                limit,
            });
        }
        let fresh_for = (!response.from_cache)
            .then(|| freshness(response.header("cache-control")))
            .flatten();
        drop(response);
        Ok((project.finish(), fresh_for))
    }

    /// Ask every index about `name`, concurrently, and merge the answers.
    ///
    /// The lookup succeeds when at least one index has the project; the errors of the other
    /// indexes (not "not found") are kept as [`Lookup::warnings`]. When no index has it, the
    /// error is the first real failure, or [`PypiError::NotFound`] listing every index.
    pub async fn lookup(&self, indexes: &[Index], name: &str) -> Result<Lookup, PypiError> {
        self.lookup_of(indexes, name, None).await
    }

    /// [`PypiClient::lookup`] holding the files of `version` only: a page of thousands of
    /// releases costs one release's memory.
    pub async fn lookup_release(
        &self,
        indexes: &[Index],
        name: &str,
        version: &Version,
    ) -> Result<Lookup, PypiError> {
        self.lookup_of(indexes, name, Some(version)).await
    }

    async fn lookup_of(
        &self,
        indexes: &[Index],
        name: &str,
        only: Option<&Version>,
    ) -> Result<Lookup, PypiError> {
        let name = normalize_name(name);
        if indexes.is_empty() {
            return Err(PypiError::NoIndex { name });
        }
        let answers = futures::future::join_all(
            indexes
                .iter()
                .map(|index| self.project_page(index, &name, only)),
        )
        .await;
        let mut fresh_for = Some(Duration::MAX);
        let answers = answers
            .into_iter()
            .map(|answer| {
                answer.map(|(project, fresh)| {
                    fresh_for = fresh_for.min(fresh);
                    project
                })
            })
            .collect();
        let mut lookup = Lookup::merge(name, indexes, answers)?;
        lookup.fresh_for = fresh_for.filter(|d| *d != Duration::MAX);
        Ok(lookup)
    }
}

/// How long a page with this `Cache-Control` may be reused: `max-age`, nothing for `no-store`
/// or `no-cache`, pip's 10 minutes when the index says nothing.
fn freshness(cache_control: Option<&str>) -> Option<Duration> {
    let Some(value) = cache_control else {
        return Some(PAGE_FRESHNESS);
    };
    let mut max_age = None;
    for directive in value.split(',').map(|d| d.trim().to_ascii_lowercase()) {
        if directive == "no-store" || directive == "no-cache" {
            return None;
        }
        if let Some(seconds) = directive.strip_prefix("max-age=") {
            max_age = seconds
                .trim_matches('"')
                .parse()
                .ok()
                .map(Duration::from_secs);
        }
    }
    max_age.filter(|d| !d.is_zero())
}

/// Which parser a response needs, from its `Content-Type` (sniffed when there is none).
fn page_format(response: &Response, name: &str) -> Result<PageFormat, PypiError> {
    let content_type = response.header("content-type").unwrap_or_default();
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "application/vnd.pypi.simple.v1+json"
        | "application/vnd.pypi.simple.latest+json"
        // Some proxies rewrite the type; the body still says what it is.
        | "application/json" => Ok(PageFormat::Json),
        "application/vnd.pypi.simple.v1+html"
        | "application/vnd.pypi.simple.latest+html"
        | "text/html"
        | "application/xhtml+xml" => Ok(PageFormat::Html),
        "" => {
            let first = response.body.iter().find(|b| !b.is_ascii_whitespace());
            Ok(if first == Some(&b'{') {
                PageFormat::Json
            } else {
                PageFormat::Html
            })
        }
        _ => Err(PypiError::UnexpectedContentType {
            name: name.to_owned(),
            url: redact::url(&response.url),
            content_type: content_type.to_owned(),
        }),
    }
}

/// A release as one index lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourcedRelease {
    /// The index.
    pub index: IndexUrl,
    /// What it lists.
    pub release: Release,
}

impl SourcedRelease {
    /// `sha256:<hex>` of every file of one version on every index that lists it (`sources`),
    /// sorted and de-duplicated: pip may download any of them, so a hashed pin must allow them
    /// all.
    pub fn hashes_of(sources: &[SourcedRelease]) -> Vec<String> {
        let mut hashes: Vec<String> = sources
            .iter()
            .flat_map(|s| s.release.sha256_hashes())
            .collect();
        hashes.sort();
        hashes.dedup();
        hashes
    }
}

/// What all of a requirement's indexes say about one project.
#[derive(Debug, Serialize)]
pub struct Lookup {
    /// The normalised name.
    pub name: String,
    /// The indexes that have the project, in index order.
    pub found_on: Vec<IndexUrl>,
    /// Every version on any index; a version on several indexes has one entry per index, in
    /// index order.
    pub releases: BTreeMap<Version, Vec<SourcedRelease>>,
    /// Version texts that are not PEP 440 versions, on any index.
    pub unparsed_versions: Vec<String>,
    /// Indexes that failed while another answered.
    #[serde(serialize_with = "as_strings")]
    pub warnings: Vec<PypiError>,
    /// What was skipped on the pages read, prefixed with the index.
    pub page_warnings: Vec<String>,
    /// How long every page of this lookup may be reused without asking again, when they all
    /// came from the network just now (see [`PypiClient::lookup`]).
    #[serde(skip)]
    pub fresh_for: Option<Duration>,
}

impl Lookup {
    fn merge(
        name: String,
        indexes: &[Index],
        answers: Vec<Result<Project, PypiError>>,
    ) -> Result<Lookup, PypiError> {
        let mut lookup = Lookup {
            name,
            found_on: Vec::new(),
            releases: BTreeMap::new(),
            unparsed_versions: Vec::new(),
            warnings: Vec::new(),
            page_warnings: Vec::new(),
            fresh_for: None,
        };
        for answer in answers {
            match answer {
                Ok(project) => lookup.add(project),
                Err(error) if error.is_not_found() => {}
                Err(error) => lookup.warnings.push(error),
            }
        }
        if lookup.found_on.is_empty() {
            return Err(if lookup.warnings.is_empty() {
                PypiError::NotFound {
                    name: lookup.name,
                    indexes: indexes.iter().map(|i| i.url.clone()).collect(),
                }
            } else {
                lookup.warnings.remove(0)
            });
        }
        Ok(lookup)
    }

    fn add(&mut self, project: Project) {
        if self.found_on.contains(&project.index) {
            return;
        }
        self.found_on.push(project.index.clone());
        for (version, release) in project.releases {
            self.releases
                .entry(version)
                // Nearly every version is on one index: no room for more until needed.
                .or_insert_with(|| Vec::with_capacity(1))
                .push(SourcedRelease {
                    index: project.index.clone(),
                    release,
                });
        }
        for text in project.unparsed_versions {
            if !self.unparsed_versions.contains(&text) {
                self.unparsed_versions.push(text);
            }
        }
        self.page_warnings.extend(
            project
                .warnings
                .into_iter()
                .map(|w| format!("{}: {w}", project.index)),
        );
    }

    /// Whether the project is on more than one index: whichever serves the higher version wins
    /// in pip, so a public package shadowing a private one (dependency confusion) is possible.
    pub fn confusion_risk(&self) -> bool {
        self.found_on.len() > 1
    }

    /// Every version, ascending.
    pub fn versions(&self) -> impl Iterator<Item = &Version> {
        self.releases.keys()
    }

    /// The release of `version` on the first index that lists it.
    pub fn release(&self, version: &Version) -> Option<&Release> {
        self.releases
            .get(version)
            .and_then(|sources| sources.first())
            .map(|s| &s.release)
    }

    /// `sha256:<hex>` of every file of `version` on every index that lists it, sorted and
    /// de-duplicated: pip may download any of them, so a hashed pin must allow them all.
    pub fn hashes_for(&self, version: &Version) -> Vec<String> {
        self.releases
            .get(version)
            .map_or_else(Vec::new, |sources| SourcedRelease::hashes_of(sources))
    }
}

fn as_strings<S: Serializer>(errors: &[PypiError], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(errors.iter().map(ToString::to_string))
}
