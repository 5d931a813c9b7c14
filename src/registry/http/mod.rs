//! The one HTTP client repin uses for every registry, index and advisory service.
//!
//! It owns the policies no caller should re-implement: timeouts, retries with exponential
//! backoff on 5xx, 429 and connection errors (honouring `Retry-After`), redirects that carry
//! credentials only within their origin ([`origin`]), a cap on body size and a run-wide memory
//! budget for bodies ([`budget`]), per-host concurrency limits and time budgets, hosts marked
//! down for the rest of a run ([`hosts`]), waits before retries ([`pause`]), an on-disk cache
//! revalidated with `ETag`/`Last-Modified`, an offline mode that answers only from that cache, and redaction of
//! credentials in every error (with [`crate::vocab::redact`]).
//!
//! What is retried: 5xx and 429 answers, refused or broken connections, a body cut short. What
//! is not: a name that does not resolve (the host is marked down at once), a request that timed
//! out (waiting for an answer or while receiving the body: the next try would wait as long),
//! and anything once the host is marked down or the run's time is up.
//!
//! Callers get every final status back as a [`Response`] (a registry needs its `401`
//! challenges and `404`s); [`Response::ensure_success`] turns the rest into an [`HttpError`]
//! carrying a short, sanitised excerpt of the response body.

pub mod budget;
pub mod cache;
pub mod hosts;
pub mod origin;
pub mod pause;
pub mod range;
use crate::vocab::redact;
use crate::vocab::web_link::WebLinkError;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

pub use cache::Cache;
pub use hosts::DownReason;
pub use origin::Origin;

/// How the client uses its on-disk cache.
#[derive(Debug, Clone, Default)]
pub enum CacheMode {
    /// No cache: every request goes to the network.
    #[default]
    Disabled,
    /// Read and write the cache; stale entries are revalidated.
    Enabled(Cache),
    /// Only the cache: nothing goes to the network, a missing entry is an error.
    Offline(Cache),
}

/// Client settings.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// Time allowed for one attempt of a request, body included.
    pub timeout: Duration,
    /// Retries after the first attempt, for retryable failures.
    pub retries: u32,
    /// First backoff delay; doubled each retry, with jitter.
    pub backoff: Duration,
    /// The longest `Retry-After` waited out; a longer one fails the request at once.
    pub max_retry_after: Duration,
    /// The largest body accepted, in bytes.
    pub max_body: usize,
    /// The memory all bodies being read or held may use together, in bytes; one body at a
    /// time may go beyond it (up to `max_body`).
    pub body_budget: usize,
    /// Concurrent requests allowed per host.
    pub per_host: usize,
    /// The longest a run spends on one host, from its first request (`None`: no limit).
    pub host_deadline: Option<Duration>,
    /// The longest a run spends on the network (`None`: no limit).
    pub run_deadline: Option<Duration>,
    /// Timeouts after which a host is marked down for the rest of the run (`None`: never; for
    /// clients that outlive a run).
    pub down_after: Option<u32>,
    /// The on-disk cache.
    pub cache: CacheMode,
    /// `User-Agent` header.
    pub user_agent: String,
}

impl Default for HttpConfig {
    /// Settings for a long-lived client (the webhook server's): no run deadlines, and hosts are
    /// never marked down. Use [`HttpConfig::for_run`] for a command's run.
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            retries: 3,
            backoff: Duration::from_millis(250),
            max_retry_after: Duration::from_secs(60),
            max_body: 64 * 1024 * 1024,
            body_budget: 48 * 1024 * 1024,
            per_host: 16,
            host_deadline: None,
            run_deadline: None,
            down_after: None,
            cache: CacheMode::Disabled,
            user_agent: format!("repin/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

impl HttpConfig {
    /// The default time one host may take in a run.
    pub const HOST_DEADLINE: Duration = Duration::from_secs(5 * 60);
    /// The default time a run may take on the network.
    pub const RUN_DEADLINE: Duration = Duration::from_secs(15 * 60);
    /// The default number of timeouts that mark a host down.
    pub const DOWN_AFTER: u32 = 2;

    /// Settings for one run of a command: [`Default`] plus a time budget per host and per run,
    /// and hosts marked down after [`Self::DOWN_AFTER`] timeouts.
    pub fn for_run() -> Self {
        HttpConfig {
            host_deadline: Some(Self::HOST_DEADLINE),
            run_deadline: Some(Self::RUN_DEADLINE),
            down_after: Some(Self::DOWN_AFTER),
            ..HttpConfig::default()
        }
    }
}

/// Credentials for one request.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// HTTP basic authentication.
    Basic {
        /// User name.
        username: String,
        /// Password or token.
        password: String,
    },
    /// A bearer token.
    Bearer(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret, not even in debug output. The user name is hidden too: in
        // `https://TOKEN@host/` (pip's token-only form) it is the secret, as `redact::url` knows.
        match self {
            Auth::Basic { .. } => f.write_str("Basic(***:***)"),
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
        }
    }
}

/// HTTP methods repin uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`
    Get,
    /// `HEAD`
    Head,
    /// `POST`
    Post,
    /// `PATCH`
    Patch,
}

impl Method {
    /// Whether sending the request twice has the effect of sending it once (RFC 9110, 9.2.2):
    /// only these are retried after the server may have acted on them.
    pub fn is_idempotent(self) -> bool {
        matches!(self, Method::Get | Method::Head)
    }

    fn as_reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Head => reqwest::Method::HEAD,
            Method::Post => reqwest::Method::POST,
            Method::Patch => reqwest::Method::PATCH,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Patch => "PATCH",
        }
    }
}

/// A request to send.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// URL; user info in it is moved into basic auth and never sent in the URL.
    pub url: Url,
    /// Extra headers.
    pub headers: Vec<(HeaderName, String)>,
    /// Credentials.
    pub auth: Option<Auth>,
    /// A body (for `POST`), with its content type.
    pub body: Option<(String, Vec<u8>)>,
    /// Whether the response may be cached (GET and HEAD of public-ish metadata).
    pub cacheable: bool,
    /// A body limit below the client's [`HttpConfig::max_body`] for this request.
    pub max_body: Option<usize>,
    /// How long a cached response that says nothing of its freshness (no `Cache-Control`) is
    /// used without asking again (pip's 10 minutes for index pages); `None`: always revalidate.
    pub fresh_by_default: Option<Duration>,
    /// The caller knows that repeating this request does what sending it once does, although
    /// its method is not idempotent (adding labels that are there already, setting a title):
    /// it is retried like a `GET`. See [`Request::repeatable`].
    pub repeatable: bool,
}

impl Request {
    /// A cacheable `GET`.
    pub fn get(url: Url) -> Self {
        Request {
            method: Method::Get,
            url,
            headers: Vec::new(),
            auth: None,
            body: None,
            cacheable: true,
            max_body: None,
            fresh_by_default: None,
            repeatable: false,
        }
    }

    /// A cacheable `HEAD`.
    pub fn head(url: Url) -> Self {
        Request {
            method: Method::Head,
            ..Request::get(url)
        }
    }

    /// An uncached `POST` with a JSON body.
    pub fn post_json(url: Url, body: Vec<u8>) -> Self {
        Request {
            method: Method::Post,
            body: Some(("application/json".into(), body)),
            cacheable: false,
            ..Request::get(url)
        }
    }

    /// An uncached `PATCH` with a JSON body.
    pub fn patch_json(url: Url, body: Vec<u8>) -> Self {
        Request {
            method: Method::Patch,
            ..Request::post_json(url, body)
        }
    }

    /// Retry this request after failures where the server may have acted on it, as a `GET`
    /// is: only for a request whose repetition changes nothing more (a `PATCH` that sets
    /// fields, a `POST` that adds labels). A `POST` that creates something is never
    /// repeatable: after a failure its caller looks the object up before creating it again.
    pub fn repeatable(mut self) -> Self {
        self.repeatable = true;
        self
    }

    /// Whether a failure after which the server may have acted on this request is retried.
    fn retried_when_maybe_done(&self) -> bool {
        self.method.is_idempotent() || self.repeatable
    }

    /// Add a header.
    pub fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Set credentials.
    pub fn auth(mut self, auth: Option<Auth>) -> Self {
        self.auth = auth;
        self
    }

    /// Accept at most `bytes` of body (never more than the client's limit).
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = Some(bytes);
        self
    }

    /// Use a cached response that says nothing of its freshness for `duration` without asking.
    pub fn fresh_by_default(mut self, duration: Duration) -> Self {
        self.fresh_by_default = Some(duration);
        self
    }

    /// Do not use the cache for this request.
    pub fn uncached(mut self) -> Self {
        self.cacheable = false;
        self
    }

    fn cache_key(&self) -> String {
        let mut url = self.url.clone();
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let accept = self
            .headers
            .iter()
            .find(|(n, _)| *n == reqwest::header::ACCEPT)
            .map_or("", |(_, v)| v.as_str());
        format!("{} {} {}", self.method.as_str(), url, accept)
    }
}

/// A final response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The URL the response came from, after redirects.
    pub url: Url,
    /// Response headers (only the kept ones when served from the cache).
    pub headers: HeaderMap,
    /// The body (empty for `HEAD`).
    pub body: Vec<u8>,
    /// Whether it came from the on-disk cache without a full download.
    pub from_cache: bool,
    /// The body's share of the run's memory budget, released when the last clone is dropped.
    budget: Option<Arc<budget::Charge>>,
}

impl Response {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `Ok(self)` for 2xx, else an [`HttpError::Status`] with a short excerpt of the body.
    pub fn ensure_success(self) -> Result<Self, HttpError> {
        if self.is_success() {
            return Ok(self);
        }
        Err(HttpError::Status {
            url: redact::url(&self.url),
            status: self.status,
            body: redact::excerpt(&self.body),
        })
    }

    /// Whether the body is still charged to the run's memory budget (for tests).
    pub fn is_charged(&self) -> bool {
        self.budget.is_some()
    }
}

/// A short, sanitised excerpt of a body for an error message: see [`redact::excerpt`].
pub fn trimmed_body(body: &[u8]) -> String {
    redact::excerpt(body)
}

/// Why a request failed. URLs in it are always redacted; bodies are short sanitised excerpts.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// A final non-success status.
    #[error("{url} answered HTTP {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    Status {
        /// The URL, redacted.
        url: String,
        /// The status.
        status: u16,
        /// A short excerpt of the body, sanitised and redacted.
        body: String,
    },
    /// The server asked to wait longer than repin is willing to.
    #[error("{url} is rate limited for {seconds} more seconds")]
    RateLimited {
        /// The URL, redacted.
        url: String,
        /// The wait asked for.
        seconds: u64,
    },
    /// The request's own time ran out (never retried).
    #[error("{url} did not answer within {}{}", hosts::human(*limit), match received {
        Some(n) => format!(": the body stalled after {n} bytes"),
        None => String::new(),
    })]
    Timeout {
        /// The URL, redacted.
        url: String,
        /// The timeout.
        limit: Duration,
        /// Bytes of the body received when it stalled; `None` when no answer came at all.
        received: Option<usize>,
    },
    /// The host's share of the run's time, or the run's, ran out.
    #[error("{url} was not answered before {budget} time limit of {}", hosts::human(*limit))]
    OutOfTime {
        /// The URL, redacted.
        url: String,
        /// `the run's` or `this host's`.
        budget: &'static str,
        /// The limit.
        limit: Duration,
    },
    /// The host is marked down for the rest of the run: no request was sent.
    #[error("{host} is marked down for the rest of this run, so {url} was not requested")]
    HostDown {
        /// The URL, redacted.
        url: String,
        /// `host:port`.
        host: String,
        /// Why it is down.
        #[source]
        reason: hosts::DownReason,
    },
    /// The host name does not resolve (never retried; the host is marked down).
    #[error("Cannot resolve the host name of {url}")]
    Unresolvable {
        /// The URL, redacted.
        url: String,
        /// `host:port`.
        host: String,
        /// The resolver's error, redacted.
        #[source]
        source: RedactedError,
    },
    /// No connection could be made, or it broke before an answer (after retries).
    #[error("Cannot connect to {url}")]
    Connect {
        /// The URL, redacted.
        url: String,
        /// `host:port`.
        host: String,
        /// The cause, redacted.
        #[source]
        source: RedactedError,
        /// The innermost cause alone (for the host's one message).
        cause: String,
    },
    /// The connection closed before the whole body arrived (after retries).
    #[error("The body of {url} ended early after {received} bytes{}", match expected {
        Some(n) => format!(" of {n}"),
        None => String::new(),
    })]
    Truncated {
        /// The URL, redacted.
        url: String,
        /// Bytes received.
        received: usize,
        /// The `Content-Length`, when there was one.
        expected: Option<u64>,
        /// The transport's error, redacted.
        #[source]
        source: RedactedError,
    },
    /// A redirect led back to a URL already visited.
    #[error("{url} redirects in a loop: {location} was already visited")]
    RedirectLoop {
        /// The first URL, redacted.
        url: String,
        /// The repeated URL, redacted.
        location: String,
    },
    /// More redirects than repin follows.
    #[error("{url} redirected more than {limit} times")]
    TooManyRedirects {
        /// The first URL, redacted.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// A redirect repin cannot follow.
    #[error("{url} redirected to {location}, which repin does not follow: {reason}")]
    BadRedirect {
        /// The URL that redirected, redacted.
        url: String,
        /// The `Location`, redacted.
        location: String,
        /// Why.
        reason: &'static str,
    },
    /// The body was larger than the limit.
    #[error("{url} sent more than {limit} bytes")]
    BodyTooLarge {
        /// The URL, redacted.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// Other bodies held the run's memory budget until this request's deadline.
    #[error(
        "{url} was not read: the run's memory budget for response bodies ({mib} MiB) stayed in use by other downloads until its deadline"
    )]
    BodyBudget {
        /// The URL, redacted.
        url: String,
        /// The budget.
        mib: usize,
    },
    /// Offline mode and the cache has no entry.
    #[error("{url} is not in the cache and repin is offline")]
    NotCached {
        /// The URL, redacted.
        url: String,
    },
    /// The request could not be built (a header value with a newline, say).
    #[error("Invalid request to {url}: {reason}")]
    InvalidRequest {
        /// The URL, redacted.
        url: String,
        /// Why.
        reason: String,
    },
}

impl HttpError {
    /// The status code, for status errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The host (`host:port`) when the error means the host itself cannot be used for the rest
    /// of the run (it does not resolve, refuses connections, or is marked down): one message
    /// per host says it, and the requests that failed because of it need not repeat why.
    pub fn unusable_host(&self) -> Option<&str> {
        match self {
            HttpError::HostDown { host, .. }
            | HttpError::Unresolvable { host, .. }
            | HttpError::Connect { host, .. } => Some(host),
            _ => None,
        }
    }
}

/// An underlying error whose text has had credentials removed.
#[derive(Debug, Clone)]
pub struct RedactedError(String);

impl std::fmt::Display for RedactedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RedactedError {}

fn redacted(error: &reqwest::Error) -> RedactedError {
    // reqwest's Display includes the URL; walk the chain and redact everything. Causes that
    // repeat the previous one (hyper wraps io errors in its own with the same text) are left
    // out.
    let mut parts: Vec<String> = vec![error.to_string()];
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    RedactedError(redact::text(&parts.join(": ")))
}

/// The innermost cause of a transport error (`dns error: ...`, `Connection refused`), redacted:
/// what a host's one message says, without the request's URL that every error repeats.
fn deepest_cause(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        text = s.to_string();
        source = s.source();
    }
    redact::text(&text)
}

/// Whether a transport error is a failed name resolution.
fn is_dns_error(error: &reqwest::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(s) = source {
        let text = s.to_string();
        if text.starts_with("dns error") || text.contains("failed to lookup address") {
            return true;
        }
        source = s.source();
    }
    false
}

/// The shared client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    config: Arc<HttpConfig>,
    hosts: Arc<hosts::Hosts>,
    budget: budget::BodyBudget,
    stats: Arc<Stats>,
}

/// Counters, for benchmarks and `--verbose` summaries.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests sent over the network (retries and redirects included).
    pub sent: std::sync::atomic::AtomicU64,
    /// Responses served from the cache without a request, or revalidated with a 304.
    pub cached: std::sync::atomic::AtomicU64,
}

enum Attempt {
    Done(Response),
    Fail(HttpError),
    Retry {
        error: HttpError,
        wait: Option<Duration>,
        /// The server did not act on the request (no connection was made, or it refused the
        /// request with `429`): another try is safe whatever the method.
        unsent: bool,
    },
}

/// A request timeout long enough that only the host's and the run's deadlines count.
const NO_TIMEOUT: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// The most redirects followed for one request.
pub const MAX_REDIRECTS: usize = 10;

/// The debug line of a failed attempt (the error's first line: its causes follow elsewhere).
fn failed_line(request: &Request, error: &HttpError, started: Instant) -> String {
    format!(
        "{} {} failed after {} ms: {}",
        request.method.as_reqwest(),
        redact::url(&request.url),
        started.elapsed().as_millis(),
        error.to_string().lines().next().unwrap_or("")
    )
}

fn authority(url: &Url) -> String {
    origin::Origin::of(url).map_or_else(|| url.as_str().to_owned(), |o| o.authority())
}

impl HttpClient {
    /// Build a client.
    pub fn new(config: HttpConfig) -> Result<Self, HttpError> {
        // Redirects are followed here, not by reqwest: credentials go only to the origin they
        // belong to, and a loop is named as one.
        let inner = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .user_agent(config.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| HttpError::InvalidRequest {
                url: String::new(),
                reason: redacted(&e).0,
            })?;
        let hosts = hosts::Hosts::new(hosts::Limits {
            per_host: config.per_host,
            host_deadline: config.host_deadline,
            run_deadline: config.run_deadline,
            down_after: config.down_after,
        });
        Ok(HttpClient {
            inner,
            budget: budget::BodyBudget::new(config.body_budget),
            config: Arc::new(config),
            hosts: Arc::new(hosts),
            stats: Arc::default(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// Request counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The hosts marked down so far in this run, in order, with why.
    pub fn down_hosts(&self) -> Vec<(String, hosts::DownReason)> {
        self.hosts.down()
    }

    /// Bytes of the run's body budget in use now.
    pub fn budget_in_use(&self) -> usize {
        self.budget.in_use()
    }

    /// Send a request, with caching, redirects, retries and limits. Every final status is `Ok`.
    pub async fn send(&self, mut request: Request) -> Result<Response, HttpError> {
        // Credentials in the URL become basic auth, so they are never logged with the URL.
        if !request.url.username().is_empty() && request.auth.is_none() {
            let username = percent_decode(request.url.username());
            let password = percent_decode(request.url.password().unwrap_or(""));
            request.auth = Some(Auth::Basic { username, password });
        }
        let _ = request.url.set_username("");
        let _ = request.url.set_password(None);
        match &request.auth {
            Some(Auth::Basic { username, password }) => redact::register_basic(username, password),
            Some(Auth::Bearer(token)) => redact::register_secret(token),
            None => {}
        }
        for (name, value) in &request.headers {
            if HeaderValue::from_str(value).is_err() {
                return Err(HttpError::InvalidRequest {
                    url: redact::url(&request.url),
                    reason: format!("the value of header `{name}` is not valid"),
                });
            }
        }

        // Offline means no network at all, also for what the cache never keeps (POSTs).
        if matches!(self.config.cache, CacheMode::Offline(_)) && !request.cacheable {
            return Err(HttpError::NotCached {
                url: redact::url(&request.url),
            });
        }
        let cache = match (&self.config.cache, request.cacheable) {
            (CacheMode::Disabled, _) | (_, false) => None,
            (CacheMode::Enabled(c), true) => Some((c, false)),
            (CacheMode::Offline(c), true) => Some((c, true)),
        };
        let key = request.cache_key();
        let cached = cache.and_then(|(c, _)| c.get(&key));
        if let Some((_, offline)) = cache {
            if let Some(entry) = cached {
                let now = SystemTime::now();
                let fresh = entry.meta.is_fresh(now)
                    || request
                        .fresh_by_default
                        .is_some_and(|d| entry.meta.is_fresh_by_default(now, d));
                if offline || fresh {
                    self.stats
                        .cached
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tracing::debug!(
                        "{} {} -> {} (cache)",
                        request.method.as_reqwest(),
                        redact::url(&request.url),
                        entry.meta.status
                    );
                    // The entry's body is moved, not copied: a page may be tens of megabytes.
                    return Ok(from_parts(&entry.meta, entry.body, &request.url));
                }
                let response = self.follow(&request, Some(&entry)).await?;
                return Ok(self.store(cache.map(|(c, _)| c), &key, Some(entry), response));
            } else if offline {
                return Err(HttpError::NotCached {
                    url: redact::url(&request.url),
                });
            }
        }

        // Nothing cached (a cached entry was answered or revalidated above).
        let response = self.follow(&request, None).await?;
        Ok(self.store(cache.map(|(c, _)| c), &key, None, response))
    }

    /// Send `request` and follow its redirects. Credentials go only to URLs of the origin the
    /// request was made for (compared at every hop, as curl does): a redirect elsewhere, or to
    /// another scheme or port, is followed without them.
    async fn follow(
        &self,
        request: &Request,
        cached: Option<&cache::Entry>,
    ) -> Result<Response, HttpError> {
        let origin = origin::Origin::of(&request.url);
        let mut hop = request.clone();
        let mut visited = vec![request.url.clone()];
        loop {
            let response = self.send_hop(&hop, cached).await?;
            let Some(location) = redirect_target(&response) else {
                return Ok(response);
            };
            let next = match crate::vocab::web_link::resolve(&response.url, location) {
                Ok(next) => next,
                Err(e) => {
                    return Err(HttpError::BadRedirect {
                        url: redact::url(&response.url),
                        location: redact::text(location),
                        reason: match e {
                            WebLinkError::Invalid(_) => "the `Location` is not a URL",
                            WebLinkError::Scheme(_) | WebLinkError::Base => {
                                "only http and https are followed"
                            }
                        },
                    });
                }
            };
            if visited.contains(&next) {
                return Err(HttpError::RedirectLoop {
                    url: redact::url(&request.url),
                    location: redact::url(&next),
                });
            }
            if visited.len() > MAX_REDIRECTS {
                return Err(HttpError::TooManyRedirects {
                    url: redact::url(&request.url),
                    limit: MAX_REDIRECTS,
                });
            }
            tracing::debug!(
                "{} {} -> {} redirect to {}",
                hop.method.as_reqwest(),
                redact::url(&hop.url),
                response.status,
                redact::url(&next)
            );
            // 303 always, and 301/302 for a POST (as browsers do), continue with a GET.
            let to_get = response.status == 303
                || (matches!(response.status, 301 | 302) && hop.method == Method::Post);
            if to_get && hop.method != Method::Head {
                hop.method = Method::Get;
                hop.body = None;
            }
            let mut next_hop = hop.clone();
            next_hop.auth = if origin.as_ref().is_some_and(|o| o.contains(&next)) {
                request.auth.clone()
            } else {
                None
            };
            next_hop.url = next.clone();
            visited.push(next);
            hop = next_hop;
        }
    }

    /// One hop: wait for a slot on its host, then attempt it with retries.
    async fn send_hop(
        &self,
        request: &Request,
        cached: Option<&cache::Entry>,
    ) -> Result<Response, HttpError> {
        let host = self.hosts.get(&authority(&request.url));
        self.usable(&host, request)?;
        // Waiting for a slot is not the request's own time (the requests holding the slots
        // have theirs): only the host's and the run's deadlines bound it.
        let slots = host.slots();
        let (deadline, budget) = self.hosts.deadline(&host, NO_TIMEOUT);
        let _permit = match tokio::time::timeout_at(deadline.into(), slots.acquire_owned()).await {
            Ok(permit) => permit.expect("semaphores are never closed"),
            Err(_) => return Err(self.deadline_error(&host, request, budget)),
        };
        let mut attempt = 0u32;
        let started = Instant::now();
        loop {
            // Another request may have marked the host down while this one waited or backed off.
            self.usable(&host, request)?;
            let (deadline, budget) = self.hosts.deadline(&host, self.config.timeout);
            match self.attempt(request, cached, &host, deadline, budget).await {
                Attempt::Done(response) => {
                    tracing::debug!(
                        "{} {} -> {} in {} ms{}{}",
                        request.method.as_reqwest(),
                        redact::url(&request.url),
                        response.status,
                        started.elapsed().as_millis(),
                        if response.from_cache {
                            " (revalidated)"
                        } else {
                            ""
                        },
                        if attempt > 0 {
                            format!(" after {attempt} retries")
                        } else {
                            String::new()
                        }
                    );
                    return Ok(response);
                }
                Attempt::Fail(error) => {
                    tracing::debug!("{}", failed_line(request, &error, started));
                    return Err(error);
                }
                Attempt::Retry {
                    error,
                    wait,
                    unsent,
                } => {
                    tracing::debug!("{}", failed_line(request, &error, started));
                    // A `POST` that timed out or got a `502` may have created its object:
                    // sending it again could create a second one.
                    if !unsent && !request.retried_when_maybe_done() {
                        return Err(error);
                    }
                    if attempt >= self.config.retries {
                        if let HttpError::Connect { cause, .. } = &error {
                            self.hosts
                                .mark_down(&host, hosts::DownReason::Unreachable(cause.clone()));
                        }
                        return Err(error);
                    }
                    let backoff = self.config.backoff * 2u32.saturating_pow(attempt);
                    let jitter = Duration::from_millis(
                        u64::from(jitter_ms()) % (backoff.as_millis() as u64 / 4 + 1),
                    );
                    let delay = wait.unwrap_or(backoff + jitter);
                    if delay > self.config.max_retry_after {
                        return Err(HttpError::RateLimited {
                            url: redact::url(&request.url),
                            seconds: delay.as_secs(),
                        });
                    }
                    // A wait that would outlast the host's or the run's time is not waited.
                    let (limit, budget) = self.hosts.deadline(&host, NO_TIMEOUT);
                    if Instant::now() + delay >= limit && budget != hosts::Budget::Request {
                        return Err(self.deadline_error(&host, request, budget));
                    }
                    pause::pause(delay).await;
                    attempt += 1;
                }
            }
        }
    }

    /// `Err(HostDown)` when the host is marked down or the run's time is up.
    fn usable(&self, host: &hosts::Host, request: &Request) -> Result<(), HttpError> {
        if let Some(reason) = host.down() {
            return Err(HttpError::HostDown {
                url: redact::url(&request.url),
                host: host.authority.clone(),
                reason,
            });
        }
        if self
            .hosts
            .run_deadline()
            .is_some_and(|at| Instant::now() >= at)
        {
            return Err(self.deadline_error(host, request, hosts::Budget::Run));
        }
        Ok(())
    }

    /// The error for a deadline that passed; a host that used up its time is marked down.
    fn deadline_error(
        &self,
        host: &hosts::Host,
        request: &Request,
        budget: hosts::Budget,
    ) -> HttpError {
        let url = redact::url(&request.url);
        let limits = self.hosts.limits();
        match budget {
            hosts::Budget::Run => HttpError::OutOfTime {
                url,
                budget: "the run's",
                limit: limits.run_deadline.unwrap_or_default(),
            },
            hosts::Budget::Host => {
                let limit = limits.host_deadline.unwrap_or_default();
                self.hosts
                    .mark_down(host, hosts::DownReason::OutOfTime(limit));
                HttpError::OutOfTime {
                    url,
                    budget: "this host's",
                    limit,
                }
            }
            hosts::Budget::Request => {
                self.hosts.timed_out(host);
                HttpError::Timeout {
                    url,
                    limit: self.config.timeout,
                    received: None,
                }
            }
        }
    }

    async fn attempt(
        &self,
        request: &Request,
        cached: Option<&cache::Entry>,
        host: &hosts::Host,
        deadline: Instant,
        budget: hosts::Budget,
    ) -> Attempt {
        let url_text = redact::url(&request.url);
        let mut builder = self
            .inner
            .request(request.method.as_reqwest(), request.url.clone());
        for (name, value) in &request.headers {
            // Checked in `send`, so this never drops a header.
            if let Ok(v) = HeaderValue::from_str(value) {
                builder = builder.header(name, v);
            }
        }
        builder = match &request.auth {
            Some(Auth::Basic { username, password }) => {
                builder.basic_auth(username, Some(password))
            }
            Some(Auth::Bearer(token)) => builder.bearer_auth(token),
            None => builder,
        };
        if let Some(entry) = cached {
            if let Some(etag) = entry.meta.header("etag") {
                builder = builder.header(reqwest::header::IF_NONE_MATCH, etag);
            }
            if let Some(modified) = entry.meta.header("last-modified") {
                builder = builder.header(reqwest::header::IF_MODIFIED_SINCE, modified);
            }
        }
        if let Some((content_type, body)) = &request.body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body.clone());
        }
        self.stats
            .sent
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let response = match tokio::time::timeout_at(deadline.into(), builder.send()).await {
            Err(_) => return Attempt::Fail(self.deadline_error(host, request, budget)),
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return self.transport_failure(&e, request, host),
        };
        let status = response.status().as_u16();
        let final_url = response.url().clone();
        let headers = response.headers().clone();
        if matches!(status, 429 | 500 | 502 | 503 | 504) {
            let wait = retry_after(&headers);
            // Only the start of an error body is ever shown.
            let body = read_prefix(response, deadline, 4096).await;
            let error = HttpError::Status {
                url: url_text,
                status,
                body: redact::excerpt(&body),
            };
            // A `429` is a refusal: the server did nothing. A 5xx may come after the work.
            return Attempt::Retry {
                error,
                wait,
                unsent: status == 429,
            };
        }
        if status == 304 {
            if let Some(entry) = cached {
                self.stats
                    .cached
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return Attempt::Done(Response {
                    status: 304,
                    ..from_entry(entry, &final_url)
                });
            }
        }
        if redirect_target_of(status, &headers).is_some() {
            // The body of a redirect is never needed.
            return Attempt::Done(Response {
                status,
                url: final_url,
                headers,
                body: Vec::new(),
                from_cache: false,
                budget: None,
            });
        }
        let expected = response.content_length();
        let limit = request
            .max_body
            .map_or(self.config.max_body, |m| m.min(self.config.max_body));
        match self.read_body(response, deadline, limit).await {
            Ok((body, charge)) => Attempt::Done(Response {
                status,
                url: final_url,
                headers,
                body,
                from_cache: false,
                budget: charge.map(Arc::new),
            }),
            // Retrying would not make the body smaller.
            Err(ReadError::TooLarge) => Attempt::Fail(HttpError::BodyTooLarge {
                url: url_text,
                limit,
            }),
            Err(ReadError::Budget) => Attempt::Fail(HttpError::BodyBudget {
                url: url_text,
                mib: self.budget.bytes() / (1024 * 1024),
            }),
            // A body that stalled is not asked for again: the next try would stall the same way.
            Err(ReadError::Deadline { received }) => Attempt::Fail(match budget {
                hosts::Budget::Request => {
                    self.hosts.timed_out(host);
                    HttpError::Timeout {
                        url: url_text,
                        limit: self.config.timeout,
                        received: Some(received),
                    }
                }
                other => self.deadline_error(host, request, other),
            }),
            Err(ReadError::Transport { error, received }) => Attempt::Retry {
                error: HttpError::Truncated {
                    url: url_text,
                    received,
                    expected,
                    source: redacted(&error),
                },
                wait: None,
                unsent: false,
            },
        }
    }

    /// What a failed `send` means: a name that does not resolve marks the host down and is not
    /// retried; a timeout counts against the host; anything else is retried.
    fn transport_failure(
        &self,
        error: &reqwest::Error,
        request: &Request,
        host: &hosts::Host,
    ) -> Attempt {
        let url = redact::url(&request.url);
        if is_dns_error(error) {
            let source = redacted(error);
            self.hosts
                .mark_down(host, hosts::DownReason::Unresolvable(deepest_cause(error)));
            return Attempt::Fail(HttpError::Unresolvable {
                url,
                host: host.authority.clone(),
                source,
            });
        }
        if error.is_timeout() {
            // reqwest's own timeout is the connect timeout: nothing was sent yet, so another
            // try is safe, unless this timeout marked the host down.
            self.hosts.timed_out(host);
            return Attempt::Retry {
                error: HttpError::Timeout {
                    url,
                    limit: self.config.connect_timeout,
                    received: None,
                },
                wait: None,
                unsent: true,
            };
        }
        Attempt::Retry {
            // A connection that was never made carried no request.
            unsent: error.is_connect(),
            error: HttpError::Connect {
                url,
                host: host.authority.clone(),
                source: redacted(error),
                cause: deepest_cause(error),
            },
            wait: None,
        }
    }

    /// Read a body of at most `limit` bytes before `deadline`, charging it to the run's budget.
    async fn read_body(
        &self,
        mut response: reqwest::Response,
        deadline: Instant,
        limit: usize,
    ) -> Result<(Vec<u8>, Option<budget::Charge>), ReadError> {
        if response
            .content_length()
            .is_some_and(|n| n as usize > limit)
        {
            return Err(ReadError::TooLarge);
        }
        let mut charge = self.budget.charge();
        // Reserve what the server announced (within the limit): one allocation, no doubling.
        let announced = response.content_length().unwrap_or(0) as usize;
        if announced > 0 {
            charge
                .grow(announced, deadline)
                .await
                .map_err(|_| ReadError::Budget)?;
        }
        let mut body = Vec::with_capacity(announced.min(limit));
        loop {
            let chunk = match tokio::time::timeout_at(deadline.into(), response.chunk()).await {
                Err(_) => {
                    return Err(ReadError::Deadline {
                        received: body.len(),
                    });
                }
                Ok(Err(error)) => {
                    return Err(ReadError::Transport {
                        error,
                        received: body.len(),
                    });
                }
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => chunk,
            };
            if body.len() + chunk.len() > limit {
                return Err(ReadError::TooLarge);
            }
            charge
                .grow(body.len() + chunk.len(), deadline)
                .await
                .map_err(|_| ReadError::Budget)?;
            body.extend_from_slice(&chunk);
        }
        Ok((body, Some(charge)))
    }

    fn store(
        &self,
        cache: Option<&Cache>,
        key: &str,
        cached: Option<cache::Entry>,
        response: Response,
    ) -> Response {
        let Some(cache) = cache else { return response };
        if response.status == 304 {
            if let Some(entry) = cached {
                let _ = cache.touch(key, &entry);
            }
            return Response {
                status: 200,
                ..response
            };
        }
        if response.is_success() && response.status != 206 {
            let meta = cache::Meta {
                status: response.status,
                final_url: response.url.to_string(),
                headers: cache::KEPT_HEADERS
                    .iter()
                    .filter_map(|name| {
                        response
                            .header(name)
                            .map(|v| ((*name).to_string(), v.to_string()))
                    })
                    .collect(),
                stored_at: cache::now_secs(),
            };
            let _ = cache.put(key, &meta, &response.body);
        }
        response
    }
}

/// The `Location` of a redirect response that should be followed.
fn redirect_target(response: &Response) -> Option<&str> {
    redirect_target_of(response.status, &response.headers)
}

fn redirect_target_of(status: u16, headers: &HeaderMap) -> Option<&str> {
    if !matches!(status, 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    headers
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
}

fn from_entry(entry: &cache::Entry, fallback: &Url) -> Response {
    from_parts(&entry.meta, entry.body.clone(), fallback)
}

/// The response a cache entry of `meta` and `body` stands for.
fn from_parts(meta: &cache::Meta, body: Vec<u8>, fallback: &Url) -> Response {
    let mut headers = HeaderMap::new();
    for (name, value) in &meta.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    }
    Response {
        status: meta.status,
        url: Url::parse(&meta.final_url).unwrap_or_else(|_| fallback.clone()),
        headers,
        body,
        from_cache: true,
        budget: None,
    }
}

/// The first `limit` bytes (or so) of a body, whatever happens after them.
async fn read_prefix(mut response: reqwest::Response, deadline: Instant, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < limit {
        match tokio::time::timeout_at(deadline.into(), response.chunk()).await {
            Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk[..chunk.len().min(limit)]),
            _ => break,
        }
    }
    body
}

enum ReadError {
    TooLarge,
    Budget,
    Deadline {
        received: usize,
    },
    Transport {
        error: reqwest::Error,
        received: usize,
    },
}

/// `Retry-After` as seconds or an HTTP date; also GitHub's `x-ratelimit-reset` epoch seconds
/// when the remaining quota is zero.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    if let Some(value) = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
    {
        let value = value.trim();
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(Duration::from_secs(seconds));
        }
        if let Ok(date) = httpdate::parse_http_date(value) {
            return Some(
                date.duration_since(SystemTime::now())
                    .unwrap_or(Duration::ZERO),
            );
        }
    }
    let remaining = headers
        .get("x-ratelimit-remaining")
        .and_then(|v| v.to_str().ok());
    if remaining == Some("0") {
        let reset: u64 = headers
            .get("x-ratelimit-reset")?
            .to_str()
            .ok()?
            .parse()
            .ok()?;
        return Some(Duration::from_secs(reset.saturating_sub(cache::now_secs())));
    }
    None
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

fn jitter_ms() -> u32 {
    // No need for a random crate: the clock's sub-second noise is jitter enough.
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_micros())
}

#[cfg(test)]
mod tests;
