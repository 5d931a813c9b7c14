//! The one HTTP client repin uses for every registry, index and advisory service.
//!
//! It owns the policies no caller should re-implement: timeouts, retries with exponential
//! backoff on 5xx, 429 and connection errors (honouring `Retry-After`), a cap on body size,
//! per-host concurrency limits, an on-disk cache revalidated with `ETag`/`Last-Modified`, an
//! offline mode that answers only from that cache, and redaction of credentials in every error.
//!
//! Callers get every final status back as a [`Response`] (a registry needs its `401`
//! challenges and `404`s); [`Response::ensure_success`] turns the rest into an [`HttpError`]
//! carrying the trimmed response body.

pub mod cache;
pub mod range;
pub mod redact;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::sync::Semaphore;
use url::Url;

pub use cache::Cache;

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
    /// Time allowed for a whole request, body included.
    pub timeout: Duration,
    /// Retries after the first attempt, for retryable failures.
    pub retries: u32,
    /// First backoff delay; doubled each retry, with jitter.
    pub backoff: Duration,
    /// The longest `Retry-After` waited out; a longer one fails the request at once.
    pub max_retry_after: Duration,
    /// The largest body accepted, in bytes.
    pub max_body: usize,
    /// Concurrent requests allowed per host.
    pub per_host: usize,
    /// The on-disk cache.
    pub cache: CacheMode,
    /// `User-Agent` header.
    pub user_agent: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            retries: 3,
            backoff: Duration::from_millis(250),
            max_retry_after: Duration::from_secs(60),
            max_body: 64 * 1024 * 1024,
            per_host: 16,
            cache: CacheMode::Disabled,
            user_agent: format!("repin/{}", env!("CARGO_PKG_VERSION")),
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
    /// How long a cached response that says nothing of its freshness (no `Cache-Control`) is
    /// used without asking again (pip's 10 minutes for index pages); `None`: always revalidate.
    pub fresh_by_default: Option<Duration>,
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
            fresh_by_default: None,
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

    /// `Ok(self)` for 2xx, else an [`HttpError::Status`] with the trimmed body.
    pub fn ensure_success(self) -> Result<Self, HttpError> {
        if self.is_success() {
            return Ok(self);
        }
        Err(HttpError::Status {
            url: redact::url(&self.url),
            status: self.status,
            body: trimmed_body(&self.body),
        })
    }
}

/// Up to 300 characters of a body, on one line, with credentials redacted.
pub fn trimmed_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = one_line.chars().take(300).collect();
    if one_line.chars().count() > 300 {
        cut.push('…');
    }
    redact::text(&cut)
}

/// Why a request failed. URLs in it are always redacted.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// A final non-success status.
    #[error("{url} answered HTTP {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    Status {
        /// The URL, redacted.
        url: String,
        /// The status.
        status: u16,
        /// The start of the body, trimmed.
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
    /// The request timed out (after retries).
    #[error("{url} did not answer within {seconds} seconds")]
    Timeout {
        /// The URL, redacted.
        url: String,
        /// The timeout.
        seconds: u64,
    },
    /// No connection could be made, or it broke (after retries).
    #[error("Cannot connect to {url}")]
    Connect {
        /// The URL, redacted.
        url: String,
        /// The cause, redacted.
        #[source]
        source: RedactedError,
    },
    /// The body was larger than the limit.
    #[error("{url} sent more than {limit} bytes")]
    BodyTooLarge {
        /// The URL, redacted.
        url: String,
        /// The limit.
        limit: usize,
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
}

/// An underlying error whose text has had credentials removed.
#[derive(Debug)]
pub struct RedactedError(String);

impl std::fmt::Display for RedactedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RedactedError {}

fn redacted(error: &reqwest::Error) -> RedactedError {
    // reqwest's Display includes the URL; walk the chain and redact everything.
    let mut parts = vec![error.to_string()];
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    RedactedError(redact::text(&parts.join(": ")))
}

/// The shared client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    config: Arc<HttpConfig>,
    hosts: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    stats: Arc<Stats>,
}

/// Counters, for benchmarks and `--verbose` summaries.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests sent over the network (retries included).
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
    },
}

/// The debug line of a failed attempt (the error's first line: its causes follow elsewhere).
fn failed_line(request: &Request, error: &HttpError, started: std::time::Instant) -> String {
    format!(
        "{} {} failed after {} ms: {}",
        request.method.as_reqwest(),
        redact::url(&request.url),
        started.elapsed().as_millis(),
        error.to_string().lines().next().unwrap_or("")
    )
}

impl HttpClient {
    /// Build a client.
    pub fn new(config: HttpConfig) -> Result<Self, HttpError> {
        let inner = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .user_agent(config.user_agent.clone())
            .redirect(reqwest::redirect::Policy::limited(10))
            .build()
            .map_err(|e| HttpError::InvalidRequest {
                url: String::new(),
                reason: redacted(&e).0,
            })?;
        Ok(HttpClient {
            inner,
            config: Arc::new(config),
            hosts: Arc::default(),
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

    fn host_limit(&self, url: &Url) -> Arc<Semaphore> {
        let key = format!(
            "{}:{}",
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(0)
        );
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        hosts
            .entry(key)
            .or_insert_with(|| Arc::new(Semaphore::new(self.config.per_host.max(1))))
            .clone()
    }

    /// Send a request, with caching, retries and limits. Every final status is `Ok`.
    pub async fn send(&self, mut request: Request) -> Result<Response, HttpError> {
        // Credentials in the URL become basic auth, so they are never logged with the URL.
        if !request.url.username().is_empty() && request.auth.is_none() {
            let username = percent_decode(request.url.username());
            let password = percent_decode(request.url.password().unwrap_or(""));
            request.auth = Some(Auth::Basic { username, password });
        }
        let _ = request.url.set_username("");
        let _ = request.url.set_password(None);
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
            if let Some(entry) = &cached {
                let now = SystemTime::now();
                let fresh = entry.meta.is_fresh(now)
                    || request
                        .fresh_by_default
                        .is_some_and(|d| entry.meta.is_fresh_by_default(now, d));
                if offline || fresh {
                    self.stats
                        .cached
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    crate::log::debug(|| {
                        format!(
                            "{} {} -> {} (cache)",
                            request.method.as_reqwest(),
                            redact::url(&request.url),
                            entry.meta.status
                        )
                    });
                    return Ok(from_entry(entry, &request.url));
                }
            } else if offline {
                return Err(HttpError::NotCached {
                    url: redact::url(&request.url),
                });
            }
        }

        let permit_pool = self.host_limit(&request.url);
        let _permit = permit_pool
            .acquire()
            .await
            .expect("semaphores are never closed");
        let mut attempt = 0u32;
        let started = std::time::Instant::now();
        loop {
            let result = self.attempt(&request, cached.as_ref()).await;
            match result {
                Attempt::Done(response) => {
                    let response = self.store(cache.map(|(c, _)| c), &key, cached, response);
                    crate::log::debug(|| {
                        format!(
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
                        )
                    });
                    return Ok(response);
                }
                Attempt::Fail(error) => {
                    crate::log::debug(|| failed_line(&request, &error, started));
                    return Err(error);
                }
                Attempt::Retry { error, wait } => {
                    crate::log::debug(|| failed_line(&request, &error, started));
                    if attempt >= self.config.retries {
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
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn attempt(&self, request: &Request, cached: Option<&cache::Entry>) -> Attempt {
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
        let response = match builder.send().await {
            Ok(r) => r,
            Err(e) => {
                return Attempt::Retry {
                    error: transport_error(&e, &url_text, &self.config),
                    wait: None,
                };
            }
        };
        let status = response.status().as_u16();
        let final_url = response.url().clone();
        let headers = response.headers().clone();
        if matches!(status, 429 | 500 | 502 | 503 | 504) {
            let wait = retry_after(&headers);
            let body = read_limited(response, self.config.max_body)
                .await
                .unwrap_or_default();
            let error = HttpError::Status {
                url: url_text,
                status,
                body: trimmed_body(&body),
            };
            return Attempt::Retry { error, wait };
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
        match read_limited(response, self.config.max_body).await {
            Ok(body) => Attempt::Done(Response {
                status,
                url: final_url,
                headers,
                body,
                from_cache: false,
            }),
            // Retrying would not make the body smaller.
            Err(ReadError::TooLarge) => Attempt::Fail(HttpError::BodyTooLarge {
                url: url_text,
                limit: self.config.max_body,
            }),
            Err(ReadError::Transport(e)) => Attempt::Retry {
                error: transport_error(&e, &url_text, &self.config),
                wait: None,
            },
        }
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

fn from_entry(entry: &cache::Entry, fallback: &Url) -> Response {
    let mut headers = HeaderMap::new();
    for (name, value) in &entry.meta.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    }
    Response {
        status: entry.meta.status,
        url: Url::parse(&entry.meta.final_url).unwrap_or_else(|_| fallback.clone()),
        headers,
        body: entry.body.clone(),
        from_cache: true,
    }
}

enum ReadError {
    TooLarge,
    Transport(reqwest::Error),
}

async fn read_limited(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, ReadError> {
    if response
        .content_length()
        .is_some_and(|n| n as usize > limit)
    {
        return Err(ReadError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Transport)? {
        if body.len() + chunk.len() > limit {
            return Err(ReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn transport_error(error: &reqwest::Error, url: &str, config: &HttpConfig) -> HttpError {
    if error.is_timeout() {
        HttpError::Timeout {
            url: url.to_string(),
            seconds: config.timeout.as_secs(),
        }
    } else {
        HttpError::Connect {
            url: url.to_string(),
            source: redacted(error),
        }
    }
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
