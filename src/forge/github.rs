//! GitHub's REST API, as much of it as repin needs, over repin's one HTTP client.
//!
//! The client is [`HttpClient`] rather than a second HTTP stack, so GitHub calls get the same
//! timeouts, retries, redaction and statistics as every other request. On top of it, this
//! module waits out GitHub's rate limits: a `403` or `429` with `Retry-After` (secondary
//! limits) or with `x-ratelimit-remaining: 0` (primary limit, until `x-ratelimit-reset`).
//!
//! Endpoints used (REST API version 2022-11-28): `GET /repos/{owner}/{repo}`,
//! `GET|POST /repos/{owner}/{repo}/pulls`, `PATCH /repos/{owner}/{repo}/pulls/{number}`,
//! `POST /repos/{owner}/{repo}/issues/{number}/comments`,
//! `POST /repos/{owner}/{repo}/issues/{number}/labels`,
//! `GET|POST /repos/{owner}/{repo}/issues`, `PATCH /repos/{owner}/{repo}/issues/{number}`,
//! `GET /search/issues`; for a GitHub App, `GET /repos/{owner}/{repo}/installation`,
//! `POST /app/installations/{id}/access_tokens`, `GET /app/installations` and
//! `GET /installation/repositories` ([`super::installations`]).
//!
//! Only requests whose repetition changes nothing more are retried; a create whose answer was
//! lost is looked up (the pull request by its head branch, the issue by its hidden marker)
//! before it is sent again.

use std::time::Duration;

use reqwest::header::{ACCEPT, HeaderName};
use serde::Deserialize;
use serde_json::json;
use url::Url;

use crate::error::{Hint, Reason};
use crate::registry::http::{Auth, HttpClient, HttpError, Request, Response};

/// github.com's API.
pub const DEFAULT_API: &str = "https://api.github.com";

/// Why a GitHub call failed.
#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    /// The repository is not `owner/name`.
    #[error("`{0}` is not a repository name")]
    BadRepository(String),
    /// The API base URL is not a URL.
    #[error("`{url}` is not a valid API URL")]
    BadApiUrl {
        /// The URL as given.
        url: String,
        /// The parser's reason.
        source: url::ParseError,
    },
    /// The request could not be made.
    #[error("Cannot {action}")]
    Http {
        /// What was being done.
        action: String,
        /// The transport error.
        source: HttpError,
    },
    /// GitHub answered with an error status.
    #[error("Cannot {action}: GitHub answered {status}")]
    Status {
        /// What was being done.
        action: String,
        /// The status.
        status: u16,
        /// The trimmed response body.
        #[source]
        body: Reason,
    },
    /// GitHub refuses pull requests from a workflow's token: the repository's (or the
    /// organization's) setting "Allow GitHub Actions to create and approve pull requests" is off.
    #[error(
        "Cannot {action}: GitHub Actions is not permitted to create or approve pull requests in this repository"
    )]
    ActionsMayNotCreatePulls {
        /// What was being done.
        action: String,
    },
    /// A rate limit lasts longer than repin waits.
    #[error("Cannot {action}: GitHub's rate limit resets in {seconds} s, later than repin waits")]
    RateLimited {
        /// What was being done.
        action: String,
        /// Seconds until the limit resets.
        seconds: u64,
    },
    /// A paginated answer linked its next page on another origin, which would get the token.
    #[error(
        "Cannot {action}: GitHub linked the next page on another origin ({link}), which repin does not follow"
    )]
    CrossOriginLink {
        /// What was being done.
        action: String,
        /// The link, redacted.
        link: String,
    },
    /// A response was not the JSON expected.
    #[error("Cannot {action}: GitHub's answer is not what its API documents")]
    Json {
        /// What was being done.
        action: String,
        /// The parser's reason.
        source: serde_json::Error,
    },
}

/// Whether a `403` is GitHub's refusal of pull requests from workflow tokens. Its REST API
/// answers `{"message": "GitHub Actions is not permitted to create or approve pull
/// requests.", ...}` then.
fn actions_refused(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| {
        v["message"].as_str().is_some_and(|m| {
            m.starts_with("GitHub Actions is not permitted to create or approve pull requests")
        })
    })
}

impl Hint for GitHubError {
    fn hints(&self) -> Vec<String> {
        let hint = match self {
            GitHubError::BadRepository(_) => "write it as owner/name",
            GitHubError::Status { status: 401, .. } => "the token is missing, wrong or expired",
            GitHubError::Status {
                status: 403 | 404, ..
            } => {
                "the token needs contents, pull-requests and issues write permission on the repository"
            }
            GitHubError::ActionsMayNotCreatePulls { .. } => {
                "turn on \"Allow GitHub Actions to create and approve pull requests\" in the repository's Settings > Actions > General > Workflow permissions (for an organization's repository, first in the organization's settings), or give repin a GitHub App's or a machine user's token"
            }
            GitHubError::RateLimited { .. } => "run again later; security updates are made first",
            _ => return Vec::new(),
        };
        vec![hint.to_owned()]
    }
}

/// A pull request as repin needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// Its number.
    pub number: u64,
    /// Whether it is open.
    pub open: bool,
    /// Whether it was merged.
    pub merged: bool,
    /// Title.
    pub title: String,
    /// Body (empty when none).
    pub body: String,
    /// The head branch.
    pub head: String,
    /// The base branch.
    pub base: String,
    /// Label names.
    pub labels: Vec<String>,
    /// Where people see it.
    pub url: String,
    /// When it was opened, in seconds since the epoch.
    pub created_at: i64,
}

/// An issue (the dashboard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Its number.
    pub number: u64,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Where people see it.
    pub url: String,
}

#[derive(Deserialize)]
struct RawLabel {
    name: String,
}

#[derive(Deserialize)]
struct RawRef {
    #[serde(rename = "ref")]
    name: String,
}

#[derive(Deserialize)]
struct RawPull {
    number: u64,
    state: String,
    title: String,
    body: Option<String>,
    head: RawRef,
    base: RawRef,
    #[serde(default)]
    labels: Vec<RawLabel>,
    html_url: String,
    created_at: String,
    merged_at: Option<String>,
}

impl From<RawPull> for PullRequest {
    fn from(raw: RawPull) -> Self {
        PullRequest {
            number: raw.number,
            open: raw.state == "open",
            merged: raw.merged_at.is_some(),
            title: raw.title,
            body: raw.body.unwrap_or_default(),
            head: raw.head.name,
            base: raw.base.name,
            labels: raw.labels.into_iter().map(|l| l.name).collect(),
            url: raw.html_url,
            created_at: raw
                .created_at
                .parse::<jiff::Timestamp>()
                .map_or(0, jiff::Timestamp::as_second),
        }
    }
}

#[derive(Deserialize)]
struct RawIssue {
    number: u64,
    title: String,
    body: Option<String>,
    html_url: String,
    pull_request: Option<serde_json::Value>,
}

impl From<RawIssue> for Issue {
    fn from(raw: RawIssue) -> Self {
        Issue {
            number: raw.number,
            title: raw.title,
            body: raw.body.unwrap_or_default(),
            url: raw.html_url,
        }
    }
}

#[derive(Deserialize)]
struct RawSearch {
    items: Vec<RawIssue>,
}

/// How many times a create is sent when its answers are lost (each after a look-up).
const CREATE_TRIES: u64 = 3;

/// Whether a failed request may have been carried out all the same: its answer was lost
/// (a transport error) or a server error came back (a gateway's `502` after the work).
fn maybe_done(error: &GitHubError) -> bool {
    match error {
        GitHubError::Http { source, .. } => source.status().is_none_or(|s| s >= 500),
        GitHubError::Status { status, .. } => *status >= 500,
        _ => false,
    }
}

fn is_status(error: &GitHubError, wanted: u16) -> bool {
    matches!(error, GitHubError::Status { status, .. } if *status == wanted)
}

#[derive(Deserialize)]
struct RawRepository {
    default_branch: String,
}

#[derive(Deserialize)]
struct RawInstallation {
    id: u64,
}

#[derive(Deserialize)]
struct RawAccessToken {
    token: String,
}

/// A client for one repository.
#[derive(Debug, Clone)]
pub struct GitHub {
    http: HttpClient,
    api: Url,
    owner: String,
    name: String,
    token: Option<String>,
    /// The longest rate-limit wait accepted.
    pub max_wait: Duration,
    /// What the client asked of GitHub, shared by its clones.
    usage: std::sync::Arc<std::sync::Mutex<Usage>>,
}

/// The environment variable naming the file a `repin pr` run writes its [`Usage`] to, as JSON:
/// `repin serve` sets it for each run, in a directory of its own.
pub const USAGE_FILE_ENV: &str = "REPIN_USAGE_FILE";

/// What a client asked of GitHub: its requests, and the primary rate limit as GitHub last
/// reported it (`x-ratelimit-*`). `repin serve` reads it from each run to share an
/// installation's budget among its workers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    /// Requests sent (each retry counts).
    pub requests: u64,
    /// Requests left in the current window (`x-ratelimit-remaining`).
    pub remaining: Option<u64>,
    /// The window's size (`x-ratelimit-limit`).
    pub limit: Option<u64>,
    /// When the window resets, in seconds since the epoch (`x-ratelimit-reset`).
    pub reset: Option<i64>,
}

impl Usage {
    /// Count a request answered with `response`'s rate-limit headers. Only the REST API's
    /// budget (`x-ratelimit-resource: core`) is the installation's: the search API's and
    /// GraphQL's are their own.
    fn record(&mut self, response: &Response) {
        self.requests += 1;
        let resource = response.header("x-ratelimit-resource").map(str::trim);
        if resource.is_some_and(|r| !r.eq_ignore_ascii_case("core")) {
            return;
        }
        let number = |name: &str| response.header(name).and_then(|v| v.trim().parse().ok());
        if let Some(remaining) = number("x-ratelimit-remaining") {
            self.remaining = Some(remaining);
            self.limit = number("x-ratelimit-limit").or(self.limit);
            self.reset = response
                .header("x-ratelimit-reset")
                .and_then(|v| v.trim().parse().ok())
                .or(self.reset);
        }
    }
}

/// The pages after this one, from a `Link` header.
fn next_page(response: &Response) -> Option<String> {
    response
        .header("link")
        .and_then(crate::vocab::link::next_link)
}

/// Where a client goes: GitHub's REST API and a repository, checked.
#[derive(Debug, Clone)]
pub struct Target {
    api: Url,
    owner: String,
    name: String,
}

impl Target {
    /// The API at `api` (its base URL) and the repository `owner/name`.
    pub fn new(api: &str, repository: &str) -> Result<Target, GitHubError> {
        let (owner, name) = repository
            .split_once('/')
            .filter(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'))
            .ok_or_else(|| GitHubError::BadRepository(repository.to_owned()))?;
        Ok(Target {
            api: api_url(api)?,
            owner: owner.to_owned(),
            name: name.to_owned(),
        })
    }
}

/// GitHub's REST API base URL, with a trailing `/` so endpoints join below it.
fn api_url(api: &str) -> Result<Url, GitHubError> {
    let mut text = api.trim_end_matches('/').to_owned();
    text.push('/');
    Url::parse(&text).map_err(|source| GitHubError::BadApiUrl {
        url: api.to_owned(),
        source,
    })
}

impl GitHub {
    /// A client for `repository` (`owner/name`) at `api` (GitHub's, or an Enterprise server's
    /// `https://HOST/api/v3`), authenticating with `token` when given.
    pub fn new(
        http: HttpClient,
        api: &str,
        repository: &str,
        token: Option<String>,
    ) -> Result<Self, GitHubError> {
        Ok(Self::for_target(http, Target::new(api, repository)?, token))
    }

    /// A client for `target`'s repository (checked already, so this cannot fail: a job checks
    /// its target before its lookups, and then loses none of them to a mistyped argument).
    pub fn for_target(http: HttpClient, target: Target, token: Option<String>) -> Self {
        GitHub {
            http,
            api: target.api,
            owner: target.owner,
            name: target.name,
            token,
            max_wait: Duration::from_secs(900),
            usage: std::sync::Arc::default(),
        }
    }

    /// A client for GitHub's endpoints that are about no one repository (a GitHub App's
    /// installations: [`super::installations`]), authenticating with `token` when given.
    pub fn unbound(
        http: HttpClient,
        api: &str,
        token: Option<String>,
    ) -> Result<Self, GitHubError> {
        let target = Target {
            api: api_url(api)?,
            owner: String::new(),
            name: String::new(),
        };
        Ok(Self::for_target(http, target, token))
    }

    /// What this client (and its clones) asked of GitHub so far.
    pub fn usage(&self) -> Usage {
        *self.usage.lock().expect("the usage lock is never poisoned")
    }

    /// The same client with another token.
    pub(super) fn with_token(&self, token: String) -> Self {
        GitHub {
            token: Some(token),
            ..self.clone()
        }
    }

    /// The URL of `tail` under the API's root (`app/installations`).
    pub(super) fn endpoint(&self, tail: &str) -> Url {
        let mut url = self.api.clone();
        url.set_path(&format!("{}{tail}", self.api.path()));
        url
    }

    /// `owner/name`.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    fn url(&self, tail: &str) -> Url {
        let mut url = self.api.clone();
        url.set_path(&format!(
            "{}repos/{}/{}/{tail}",
            self.api.path(),
            self.owner,
            self.name
        ));
        url
    }

    fn prepare(&self, request: Request) -> Request {
        request
            .uncached()
            .header(ACCEPT, "application/vnd.github+json")
            .header(
                HeaderName::from_static("x-github-api-version"),
                "2022-11-28",
            )
            .auth(self.token.clone().map(Auth::Bearer))
    }

    /// Send, waiting out rate limits; a non-2xx answer is an error.
    async fn call(&self, action: &str, request: Request) -> Result<Response, GitHubError> {
        let request = self.prepare(request);
        let mut waited = 0;
        loop {
            let response =
                self.http
                    .send(request.clone())
                    .await
                    .map_err(|source| GitHubError::Http {
                        action: action.to_owned(),
                        source,
                    })?;
            self.usage
                .lock()
                .expect("the usage lock is never poisoned")
                .record(&response);
            if response.is_success() {
                return Ok(response);
            }
            match rate_limit_wait(&response) {
                Some(wait) if waited < 3 => {
                    if wait > self.max_wait {
                        return Err(GitHubError::RateLimited {
                            action: action.to_owned(),
                            seconds: wait.as_secs(),
                        });
                    }
                    crate::registry::http::pause::pause(wait).await;
                    waited += 1;
                }
                _ if response.status == 403 && actions_refused(&response.body) => {
                    return Err(GitHubError::ActionsMayNotCreatePulls {
                        action: action.to_owned(),
                    });
                }
                _ => {
                    return Err(GitHubError::Status {
                        action: action.to_owned(),
                        status: response.status,
                        body: Reason(crate::vocab::redact::excerpt(&response.body)),
                    });
                }
            }
        }
    }

    pub(super) async fn json<T: serde::de::DeserializeOwned>(
        &self,
        action: &str,
        request: Request,
    ) -> Result<(T, Response), GitHubError> {
        let response = self.call(action, request).await?;
        let value = serde_json::from_slice(&response.body).map_err(|source| GitHubError::Json {
            action: action.to_owned(),
            source,
        })?;
        Ok((value, response))
    }

    async fn pages<T: serde::de::DeserializeOwned>(
        &self,
        action: &str,
        first: Url,
    ) -> Result<Vec<T>, GitHubError> {
        self.pages_of(action, first, |page: Vec<T>| page).await
    }

    /// Every page from `first`, each page's items taken out of its JSON by `items` (a list, or
    /// an object holding one, as `GET /installation/repositories` answers).
    pub(super) async fn pages_of<P: serde::de::DeserializeOwned, T>(
        &self,
        action: &str,
        first: Url,
        items: impl Fn(P) -> Vec<T>,
    ) -> Result<Vec<T>, GitHubError> {
        let mut all = Vec::new();
        let mut next = Some(first);
        // A hostile server could link pages forever; 100 pages of 100 is plenty for a repository's
        // open pull requests, and for an App's installations or an installation's repositories.
        for _ in 0..100 {
            let Some(url) = next.take() else { break };
            let (page, response): (P, _) = self.json(action, Request::get(url)).await?;
            all.extend(items(page));
            next = next_page(&response)
                .and_then(|link| crate::vocab::web_link::resolve(&response.url, &link).ok());
            // The token belongs to the API's origin: a page elsewhere is not asked for.
            if let Some(url) = next
                .as_ref()
                .filter(|u| !crate::registry::http::origin::same(u, &self.api))
            {
                return Err(GitHubError::CrossOriginLink {
                    action: action.to_owned(),
                    link: crate::vocab::redact::url(url),
                });
            }
        }
        Ok(all)
    }

    fn body(value: &serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(value).unwrap_or_default()
    }

    /// A token of the App's installation on this repository, limited to it; the client must
    /// carry the App's JWT ([`super::app::App::jwt`]). Endpoints:
    /// `GET /repos/{owner}/{repo}/installation`, then
    /// `POST /app/installations/{id}/access_tokens`.
    pub async fn installation_token(&self) -> Result<String, GitHubError> {
        let (installation, _): (RawInstallation, _) = self
            .json(
                &format!("find the App's installation on {}", self.repository()),
                Request::get(self.url("installation")),
            )
            .await?;
        self.access_token(
            installation.id,
            &json!({"repositories": [self.name]}),
            &format!("make an installation token for {}", self.repository()),
        )
        .await
    }

    /// A token of installation `installation` (`POST /app/installations/{id}/access_tokens`
    /// with `body`: `{}` for all its repositories); the client must carry the App's JWT.
    pub(super) async fn access_token(
        &self,
        installation: u64,
        body: &serde_json::Value,
        action: &str,
    ) -> Result<String, GitHubError> {
        let url = self.endpoint(&format!("app/installations/{installation}/access_tokens"));
        let (token, _): (RawAccessToken, _) = self
            // A second token is as good as the first.
            .json(
                action,
                Request::post_json(url, Self::body(body)).repeatable(),
            )
            .await?;
        Ok(token.token)
    }

    /// The repository's default branch.
    pub async fn default_branch(&self) -> Result<String, GitHubError> {
        let url = self.url("").as_str().trim_end_matches('/').to_owned();
        let url = Url::parse(&url).expect("a URL without its trailing slash is a URL");
        let (repo, _): (RawRepository, _) = self
            .json(
                &format!("read repository {}", self.repository()),
                Request::get(url),
            )
            .await?;
        Ok(repo.default_branch)
    }

    /// Open pull requests whose head branch starts with `prefix`.
    pub async fn open_pulls(&self, prefix: &str) -> Result<Vec<PullRequest>, GitHubError> {
        let mut url = self.url("pulls");
        url.query_pairs_mut()
            .append_pair("state", "open")
            .append_pair("per_page", "100");
        let raw: Vec<RawPull> = self.pages("list open pull requests", url).await?;
        Ok(raw
            .into_iter()
            .map(PullRequest::from)
            .filter(|p| p.head.starts_with(prefix))
            .collect())
    }

    /// Closed pull requests from `branch` (of this repository), newest first.
    pub async fn closed_pulls(&self, branch: &str) -> Result<Vec<PullRequest>, GitHubError> {
        let mut url = self.url("pulls");
        url.query_pairs_mut()
            .append_pair("state", "closed")
            .append_pair("head", &format!("{}:{branch}", self.owner))
            .append_pair("per_page", "100");
        let (raw, _): (Vec<RawPull>, _) = self
            .json(
                &format!("list closed pull requests of {branch}"),
                Request::get(url),
            )
            .await?;
        Ok(raw
            .into_iter()
            .map(PullRequest::from)
            .filter(|p| p.head == branch)
            .collect())
    }

    /// Open a pull request. A create whose answer was lost (a `502`, a dropped connection)
    /// may have opened it: the open pull request from `head` is looked up before another
    /// create is sent, so a failure never opens two.
    pub async fn create_pull(
        &self,
        head: &str,
        base: &str,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, GitHubError> {
        let payload = json!({"title": title, "head": head, "base": base, "body": body});
        let mut tries = 0;
        loop {
            tries += 1;
            let created: Result<(RawPull, _), _> = self
                .json(
                    &format!("open a pull request for {head}"),
                    Request::post_json(self.url("pulls"), Self::body(&payload)),
                )
                .await;
            let error = match created {
                Ok((raw, _)) => return Ok(raw.into()),
                Err(error) => error,
            };
            // GitHub's "A pull request already exists" (422) after a lost answer is the same.
            if !(maybe_done(&error) || is_status(&error, 422)) {
                return Err(error);
            }
            if let Some(pull) = self.open_pull_from(head).await? {
                return Ok(pull);
            }
            if tries >= CREATE_TRIES || is_status(&error, 422) {
                return Err(error);
            }
            tokio::time::sleep(Duration::from_millis(500 * tries)).await;
        }
    }

    /// The open pull request from `branch` (of this repository), if any.
    pub async fn open_pull_from(&self, branch: &str) -> Result<Option<PullRequest>, GitHubError> {
        let mut url = self.url("pulls");
        url.query_pairs_mut()
            .append_pair("state", "open")
            .append_pair("head", &format!("{}:{branch}", self.owner))
            .append_pair("per_page", "100");
        let (raw, _): (Vec<RawPull>, _) = self
            .json(
                &format!("look up the open pull request of {branch}"),
                Request::get(url),
            )
            .await?;
        Ok(raw
            .into_iter()
            .map(PullRequest::from)
            .find(|p| p.head == branch && p.open))
    }

    /// Change a pull request's title, body or state (`open`, `closed`).
    pub async fn update_pull(
        &self,
        number: u64,
        title: Option<&str>,
        body: Option<&str>,
        state: Option<&str>,
    ) -> Result<PullRequest, GitHubError> {
        let mut payload = serde_json::Map::new();
        if let Some(title) = title {
            payload.insert("title".into(), title.into());
        }
        if let Some(body) = body {
            payload.insert("body".into(), body.into());
        }
        if let Some(state) = state {
            payload.insert("state".into(), state.into());
        }
        let (raw, _): (RawPull, _) = self
            .json(
                &format!("update pull request #{number}"),
                // Setting fields twice sets them once.
                Request::patch_json(
                    self.url(&format!("pulls/{number}")),
                    Self::body(&serde_json::Value::Object(payload)),
                )
                .repeatable(),
            )
            .await?;
        Ok(raw.into())
    }

    /// Add labels to an issue or pull request.
    pub async fn add_labels(&self, number: u64, labels: &[String]) -> Result<(), GitHubError> {
        if labels.is_empty() {
            return Ok(());
        }
        self.call(
            &format!("label #{number}"),
            // Adding a label that is there already changes nothing.
            Request::post_json(
                self.url(&format!("issues/{number}/labels")),
                Self::body(&json!({ "labels": labels })),
            )
            .repeatable(),
        )
        .await
        .map(drop)
    }

    /// Comment on an issue or pull request.
    pub async fn comment(&self, number: u64, body: &str) -> Result<(), GitHubError> {
        self.call(
            &format!("comment on #{number}"),
            Request::post_json(
                self.url(&format!("issues/{number}/comments")),
                Self::body(&json!({ "body": body })),
            ),
        )
        .await
        .map(drop)
    }

    /// The open issue whose body contains `marker` (pull requests excluded), the oldest when
    /// there are several.
    pub async fn find_issue(&self, marker: &str) -> Result<Option<Issue>, GitHubError> {
        Ok(self.find_issues(marker).await?.into_iter().next())
    }

    /// Every open issue whose body contains `marker` (pull requests excluded), oldest first.
    pub async fn find_issues(&self, marker: &str) -> Result<Vec<Issue>, GitHubError> {
        let mut url = self.url("issues");
        url.query_pairs_mut()
            .append_pair("state", "open")
            .append_pair("per_page", "100");
        let raw: Vec<RawIssue> = self.pages("list open issues", url).await?;
        let mut found: Vec<Issue> = raw
            .into_iter()
            .filter(|i| i.pull_request.is_none())
            .filter(|i| i.body.as_deref().is_some_and(|b| b.contains(marker)))
            .map(Issue::from)
            .collect();
        found.sort_by_key(|i| i.number);
        Ok(found)
    }

    /// A closed issue titled `title` whose body contains `marker`, found with GitHub's issue
    /// search (`GET /search/issues`: one request, where listing every closed issue of a
    /// repository could take hundreds).
    pub async fn find_closed_issue(
        &self,
        title: &str,
        marker: &str,
    ) -> Result<Option<Issue>, GitHubError> {
        let mut url = self.api.clone();
        url.set_path(&format!("{}search/issues", self.api.path()));
        let quoted = title.replace('"', " ");
        url.query_pairs_mut()
            .append_pair(
                "q",
                &format!(
                    "repo:{}/{} is:issue is:closed in:title \"{quoted}\"",
                    self.owner, self.name
                ),
            )
            .append_pair("per_page", "100");
        let (found, _): (RawSearch, _) = self
            .json("search the closed issues", Request::get(url))
            .await?;
        Ok(found
            .items
            .into_iter()
            .filter(|i| i.pull_request.is_none())
            .filter(|i| i.body.as_deref().is_some_and(|b| b.contains(marker)))
            .map(Issue::from)
            .min_by_key(|i| i.number))
    }

    /// Open an issue whose body carries `marker`. A create whose answer was lost may have
    /// opened it: the open issue with the marker is looked up before another create is sent.
    pub async fn create_issue(
        &self,
        title: &str,
        body: &str,
        marker: &str,
    ) -> Result<Issue, GitHubError> {
        let mut tries = 0;
        loop {
            tries += 1;
            let created: Result<(RawIssue, _), _> = self
                .json(
                    &format!("open the issue \"{title}\""),
                    Request::post_json(
                        self.url("issues"),
                        Self::body(&json!({"title": title, "body": body})),
                    ),
                )
                .await;
            let error = match created {
                Ok((raw, _)) => return Ok(raw.into()),
                Err(error) => error,
            };
            if !maybe_done(&error) {
                return Err(error);
            }
            if let Some(issue) = self.find_issue(marker).await? {
                return Ok(issue);
            }
            if tries >= CREATE_TRIES {
                return Err(error);
            }
            tokio::time::sleep(Duration::from_millis(500 * tries)).await;
        }
    }

    /// Close an issue.
    pub async fn close_issue(&self, number: u64) -> Result<(), GitHubError> {
        self.call(
            &format!("close issue #{number}"),
            Request::patch_json(
                self.url(&format!("issues/{number}")),
                Self::body(&json!({"state": "closed"})),
            )
            .repeatable(),
        )
        .await
        .map(drop)
    }

    /// Change an issue's title and body.
    pub async fn update_issue(
        &self,
        number: u64,
        title: &str,
        body: &str,
    ) -> Result<(), GitHubError> {
        self.call(
            &format!("update issue #{number}"),
            Request::patch_json(
                self.url(&format!("issues/{number}")),
                Self::body(&json!({"title": title, "body": body})),
            )
            .repeatable(),
        )
        .await
        .map(drop)
    }
}

/// How long GitHub asks to wait, when a response is a rate-limit refusal.
pub fn rate_limit_wait(response: &Response) -> Option<Duration> {
    if !matches!(response.status, 403 | 429) {
        return None;
    }
    if let Some(wait) = crate::registry::http::retry_after(&response.headers) {
        return Some(wait);
    }
    if response.header("x-ratelimit-remaining") == Some("0") {
        let reset: i64 = response.header("x-ratelimit-reset")?.trim().parse().ok()?;
        let now = jiff::Timestamp::now().as_second();
        return Some(Duration::from_secs(
            u64::try_from(reset - now).unwrap_or(0) + 1,
        ));
    }
    // A secondary limit without Retry-After: GitHub documents waiting at least a minute.
    let body = String::from_utf8_lossy(&response.body).to_lowercase();
    body.contains("secondary rate limit")
        .then(|| Duration::from_secs(60))
}

#[cfg(test)]
mod tests {
    //! GitHub cannot be reached here: the API is a loopback server answering as GitHub's REST
    //! documentation shows (pull request objects, `Link` pagination), nothing else.

    use super::*;
    use crate::loopback::{Loopback, Reply};
    use crate::registry::http::HttpConfig;

    fn pull(number: u64) -> serde_json::Value {
        serde_json::json!({
            "number": number, "state": "open", "title": "t", "body": null,
            "head": {"ref": format!("repin/{number}")}, "base": {"ref": "main"},
            "labels": [], "html_url": "https://github.example/o/r/pull/1",
            "created_at": "2024-01-01T00:00:00Z", "merged_at": null
        })
    }

    #[tokio::test]
    async fn pages_are_followed_only_on_the_api_origin() {
        let elsewhere = Loopback::start(|_| Reply::ok("application/json", "[]"));
        let foreign = elsewhere.url("/repos/o/r/pulls?page=2");
        let api = Loopback::start(move |seen| {
            let page2 = seen.path.contains("page=2");
            let body = serde_json::to_vec(&[pull(if page2 { 2 } else { 1 })]).unwrap();
            let next = if seen.path.contains("foreign") {
                foreign.clone()
            } else {
                "/repos/o/r/pulls?page=2&state=open".to_owned()
            };
            let reply = Reply::ok("application/json", body);
            if page2 {
                reply
            } else {
                reply.with_header("Link", &format!("<{next}>; rel=\"next\""))
            }
        });
        let http = HttpClient::new(HttpConfig::for_run()).unwrap();
        let github = GitHub::new(
            http,
            &api.url("/"),
            "o/r",
            Some("canary-github-token".into()),
        )
        .unwrap();
        let pulls = github.open_pulls("repin/").await.unwrap();
        assert_eq!(pulls.iter().map(|p| p.number).collect::<Vec<_>>(), [1, 2]);
        assert!(
            api.requests()
                .iter()
                .all(|r| r.header("authorization") == Some("Bearer canary-github-token"))
        );
        let mut url = github.url("pulls");
        url.set_query(Some("foreign=1"));
        let Err(error) = github
            .pages::<RawPull>("list open pull requests", url)
            .await
        else {
            panic!("a page on another origin was followed");
        };
        assert!(
            matches!(error, GitHubError::CrossOriginLink { .. }),
            "{error}"
        );
        assert!(!error.to_string().contains("canary-github-token"));
        assert_eq!(elsewhere.connections(), 0);
    }
}
