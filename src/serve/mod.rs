//! `repin serve`: the self-hosted bot. It receives GitHub's webhook deliveries, checks their
//! signatures, and runs `repin pr --clone` for a repository when its default branch moves or
//! one of repin's pull requests is closed, and on a schedule for every repository it serves.
//!
//! Runs are jobs of the durable queue ([`crate::queue`]: SQLite, or PostgreSQL shared by
//! several processes): a delivery is acknowledged only once its job is stored, a redelivery
//! (same `X-GitHub-Delivery`) queues nothing, a repository is never queued twice nor run twice
//! at once, and a job whose process died is run again once its lease runs out. Each run is a
//! child process of its own: a fresh shallow clone, its own lookups, its own failure, never the
//! server's; a run that outlasts the job timeout is killed (with every process it started),
//! and so is a run whose server died. `--workers` runs are made at once. On SIGTERM or SIGINT
//! the server stops taking jobs, lets running ones finish for the grace period, then kills and
//! gives back the rest, which any process takes at once.
//!
//! Endpoints: `POST /webhook` (deliveries; `202` when a run is queued, `200` when the event is
//! ignored or a redelivery, `401` for a bad signature, `400` for a body that is not the
//! event's JSON, `413` past GitHub's 25 MB payload cap, `503` when the job could not be stored:
//! GitHub shows the delivery as failed, to redeliver), `GET /healthz` (the process is up),
//! `GET /readyz` (the database answers and the server is not stopping) and `GET /metrics`
//! (Prometheus' text format). They are `axum` routes: the state, headers and body come as
//! extractors, so a new endpoint (comment commands) is one more route and handler.

pub mod webhook;

pub mod fleet;
pub mod log;
pub mod metrics;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::sync::Notify;

use crate::queue::{Enqueued, Job, Queue, Stored};
use log::About;
use metrics::Metrics;
use webhook::Event;

/// The first wait after a failed `accept()`, doubled up to [`ACCEPT_BACKOFF_MAX`].
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
/// The longest wait after failed `accept()`s.
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// GitHub's cap on a webhook payload.
const MAX_PAYLOAD: usize = 25 * 1024 * 1024;

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be listened on.
    #[error("Cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The job queue could not be opened.
    #[error(transparent)]
    Queue(#[from] crate::queue::QueueError),
    /// The shutdown signals could not be listened for.
    #[error("Cannot listen for SIGTERM")]
    Signal(#[source] std::io::Error),
    /// The App's token (a JWT) for a run could not be made.
    #[error("No installation token")]
    Jwt(#[source] crate::forge::app::AppError),
    /// GitHub gave no installation token for a run.
    #[error("No installation token")]
    InstallationToken(#[source] crate::forge::github::GitHubError),
    /// The App's installations or their repositories could not be listed (boxed: a second
    /// GitHub error beside `InstallationToken` would make every `Result` of the CLI larger).
    #[error("Cannot list the repositories of the App's installations")]
    Installations(#[source] Box<crate::forge::github::GitHubError>),
    /// A run's process could not be started.
    #[error("The run could not start")]
    Start(#[source] std::io::Error),
    /// The directory the runs write their GitHub usage to could not be made.
    #[error("Cannot make a directory for the runs' GitHub usage")]
    UsageDirectory(#[source] std::io::Error),
}

impl crate::error::Hint for ServeError {
    fn hints(&self) -> Vec<String> {
        match self {
            ServeError::Queue(error) => error.hints(),
            ServeError::InstallationToken(error) => error.hints(),
            ServeError::Installations(error) => error.hints(),
            ServeError::Jwt(error) => error.hints(),
            ServeError::Bind { .. }
            | ServeError::Signal(_)
            | ServeError::Start(_)
            | ServeError::UsageDirectory(_) => Vec::new(),
        }
    }
}

/// A GitHub App whose installation tokens the runs use.
#[derive(Debug)]
pub struct AppAuth {
    /// The App.
    pub app: crate::forge::app::App,
    /// The HTTP client for GitHub.
    pub http: crate::registry::http::HttpClient,
    /// GitHub's API.
    pub api: String,
}

/// The environment variable that carries an installation token to a run.
const APP_TOKEN_ENV: &str = "REPIN_APP_TOKEN";

impl AppAuth {
    /// A fresh installation token for `repository`.
    async fn token(&self, repository: &str) -> Result<String, ServeError> {
        let jwt = self
            .app
            .jwt(jiff::Timestamp::now().as_second())
            .map_err(ServeError::Jwt)?;
        crate::forge::github::GitHub::new(self.http.clone(), &self.api, repository, Some(jwt))
            .map_err(ServeError::InstallationToken)?
            .installation_token()
            .await
            .map_err(ServeError::InstallationToken)
    }
}

/// How one repository's run is made: `program` with `args`, then `--repo owner/name` and
/// `--remote` from the template (and, with an App, `--token-env` naming its token).
#[derive(Debug, Clone)]
pub struct Runner {
    /// The repin binary.
    pub program: PathBuf,
    /// Arguments before `--repo` (`pr --clone --api-url ...`).
    pub args: Vec<String>,
    /// The git remote of a repository: `{owner}`, `{name}` and `{repo}` (`owner/name`) are
    /// replaced.
    pub remote_template: String,
    /// The App whose installation tokens the runs use; `None`: the token in the environment.
    pub app: Option<Arc<AppAuth>>,
    /// Environment variables a run does not inherit (the server's own secrets: the webhook's,
    /// the App's).
    pub withheld: Vec<String>,
}

impl Runner {
    /// The command line of a run for `repository`, acting on `commands` given on its pull
    /// requests.
    pub fn command(&self, repository: &str, commands: &[Stored]) -> std::process::Command {
        let (owner, name) = repository.split_once('/').unwrap_or((repository, ""));
        let remote = self
            .remote_template
            .replace("{repo}", repository)
            .replace("{owner}", owner)
            .replace("{name}", name);
        let mut command = std::process::Command::new(&self.program);
        command
            .args(&self.args)
            .args(["--repo", repository, "--remote", &remote]);
        for stored in commands {
            // One argument, `--rebase=BRANCH`: a branch is never read as an option of its own.
            let asked = &stored.command;
            command.arg(format!("--{}={}", asked.command.word(), asked.branch));
        }
        for name in &self.withheld {
            command.env_remove(name);
        }
        command
    }
}

/// What the server does.
#[derive(Clone)]
pub struct Settings {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The webhook secret.
    pub secret: Vec<u8>,
    /// The repositories served (`owner/name`); deliveries for others are ignored. Empty with
    /// an App: every repository of every installation of the App.
    pub repositories: Vec<String>,
    /// Run every repository this often, each at its own point of the interval, besides
    /// webhook deliveries.
    pub every: Option<Duration>,
    /// How runs are made.
    pub runner: Runner,
    /// How many runs are made at once.
    pub workers: usize,
    /// A run still going after this long is killed.
    pub job_timeout: Duration,
    /// The job queue's database (`sqlite:PATH`, `postgres://…`).
    pub database: String,
    /// How long a job stays claimed by a worker that stopped sending heartbeats.
    pub lease: Duration,
    /// On SIGTERM, how long running jobs may finish before they are killed and given back.
    pub shutdown_grace: Duration,
    /// The GitHub API requests an installation keeps back: below it, its jobs wait for the
    /// rate-limit window to reset.
    pub api_reserve: u64,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret, not even its length; the database URL without its password.
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("secret", &"***")
            .field("repositories", &self.repositories)
            .field("every", &self.every)
            .field("runner", &self.runner)
            .field("workers", &self.workers)
            .field("job_timeout", &self.job_timeout)
            .field("database", &crate::vocab::redact::text(&self.database))
            .field("lease", &self.lease)
            .field("shutdown_grace", &self.shutdown_grace)
            .finish()
    }
}

/// How long an idle worker waits before asking the database again (a delivery to this
/// process wakes it at once; one to another process is seen within this).
const POLL: Duration = Duration::from_secs(1);

struct Shared {
    secret: Vec<u8>,
    /// The served repositories; changed by installation deliveries and listings.
    served: std::sync::RwLock<fleet::Fleet>,
    queue: Queue,
    /// Wakes idle workers when a job is stored.
    wake: Notify,
    /// Set on SIGTERM: no job is taken any more.
    stopping: AtomicBool,
    /// Notified when `stopping` is set.
    stop: Notify,
    metrics: Metrics,
    /// Where each run writes what it asked of GitHub (removed with the server).
    usage_dir: tempfile::TempDir,
}

impl Shared {
    /// The served repositories (the lock is never held across an `await`).
    fn fleet(&self) -> std::sync::RwLockReadGuard<'_, fleet::Fleet> {
        self.served
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Change the served repositories.
    fn fleet_mut(&self) -> std::sync::RwLockWriteGuard<'_, fleet::Fleet> {
        self.served
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Resolves once the server is stopping.
    async fn stopped(&self) {
        loop {
            let notified = self.stop.notified();
            if self.is_stopping() {
                return;
            }
            notified.await;
        }
    }
}

/// A JSON answer.
fn reply(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// The server's routes; any other path is `404`, another method on a route `405`, both JSON.
fn routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/healthz",
            get(|| async { reply(StatusCode::OK, json!({"status": "ok"})) }),
        )
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route("/webhook", post(delivery))
        .fallback(|| async { reply(StatusCode::NOT_FOUND, json!({"error": "not found"})) })
        .method_not_allowed_fallback(|| async {
            reply(
                StatusCode::METHOD_NOT_ALLOWED,
                json!({"error": "method not allowed"}),
            )
        })
        // Past it, the body extractor is refused with `413` ([`delivery`] says why in JSON).
        .layer(DefaultBodyLimit::max(MAX_PAYLOAD))
        .with_state(shared)
}

/// Prometheus' text format.
async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    let counts = shared.queue.counts(crate::queue::now()).await.ok();
    let budgets = shared.queue.budgets().await.unwrap_or_default();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        shared.metrics.render(counts, &budgets),
    )
        .into_response()
}

/// Ready: not stopping, and the database answers.
async fn ready(State(shared): State<Arc<Shared>>) -> Response {
    if shared.is_stopping() {
        return reply(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "stopping"}),
        );
    }
    match shared.queue.ping().await {
        Ok(()) => reply(StatusCode::OK, json!({"status": "ready"})),
        Err(error) => reply(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "the job queue's database does not answer", "error": crate::error::chain(&error)}),
        ),
    }
}

/// A webhook delivery: its signature checked, its event parsed, its run queued.
async fn delivery(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (event, signature, id) = (
        header("x-github-event").unwrap_or_default(),
        header("x-hub-signature-256"),
        header("x-github-delivery").filter(|id| !id.trim().is_empty() && id.len() <= 200),
    );
    let shown = id.clone().unwrap_or_else(|| "-".into());
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({"error": "the payload is larger than GitHub's 25 MB"}),
            );
        }
        Err(rejection) => {
            return reply(
                rejection.status(),
                json!({"error": format!("the payload could not be read: {}", rejection.body_text())}),
            );
        }
    };
    if !webhook::signature_is_valid(&shared.secret, &body, signature.as_deref()) {
        shared.metrics.delivery("refused");
        log::warn(
            About {
                delivery: Some(&shown),
                ..About::default()
            },
            "refused, bad or missing X-Hub-Signature-256",
        );
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({"error": "bad or missing X-Hub-Signature-256"}),
        );
    }
    let (repository, why) = match webhook::parse(&event, &body) {
        Err(error) => {
            return reply(
                StatusCode::BAD_REQUEST,
                json!({"error": format!("the `{event}` payload is not what GitHub documents: {error}")}),
            );
        }
        Ok(Event::Ping) => return reply(StatusCode::OK, json!({"status": "pong"})),
        Ok(Event::Ignored(why)) => {
            shared.metrics.delivery("ignored");
            return reply(StatusCode::OK, json!({"ignored": why}));
        }
        Ok(Event::Denied(why)) => {
            shared.metrics.delivery("ignored");
            log::warn(
                About {
                    delivery: Some(&shown),
                    ..About::default()
                },
                &format!("ignored: {why}"),
            );
            return reply(StatusCode::OK, json!({"ignored": why}));
        }
        Ok(Event::Installation(change)) => return installation(&shared, &shown, &change),
        // The repository's run, told to act on the command (`repin pr --rebase/--recreate`).
        Ok(Event::Command {
            repository,
            branch,
            number,
            command,
            by,
        }) => {
            let why = format!("{} on #{number} ({branch}) by {by}", command.text());
            let command = crate::queue::Command {
                branch,
                command,
                by,
                number,
            };
            return queue_run(
                &shared,
                id.as_deref(),
                &shown,
                &repository,
                &why,
                Some(&command),
            )
            .await;
        }
        Ok(Event::Run { repository, why }) => (repository, why),
    };
    queue_run(&shared, id.as_deref(), &shown, &repository, &why, None).await
}

/// Queue a run of `repository` for `why` (the delivery `id`, shown as `shown`), acting on
/// `command` when one was given, when it is served: `202` once stored, `200` for a repository
/// not served or a redelivery, `503` when the job could not be stored.
async fn queue_run(
    shared: &Shared,
    id: Option<&str>,
    shown: &str,
    repository: &str,
    why: &str,
    command: Option<&crate::queue::Command>,
) -> Response {
    let configured = shared.fleet().get(repository).map(str::to_owned);
    let Some(configured) = configured.as_deref() else {
        shared.metrics.delivery("ignored");
        return reply(
            StatusCode::OK,
            json!({"ignored": format!("{repository} is not served")}),
        );
    };
    // Acknowledged only once stored: a delivery answered 202 is never lost.
    let stored = shared
        .queue
        .enqueue(configured, why, id, command, crate::queue::now())
        .await;
    let enqueued = match stored {
        Ok(enqueued) => enqueued,
        Err(error) => {
            shared.metrics.delivery("failed");
            let error = crate::error::chain(&error);
            log::error(
                About {
                    delivery: Some(shown),
                    repository: Some(configured),
                    ..About::default()
                },
                &format!("not stored: {error}"),
            );
            return reply(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": format!("the job could not be stored, redeliver it: {error}")}),
            );
        }
    };
    shared.wake.notify_waiters();
    let said = match enqueued {
        Enqueued::Queued => "run queued",
        Enqueued::Again => "run queued for after the one going",
        Enqueued::AlreadyQueued => "a run is already queued",
        Enqueued::Duplicate => "a redelivery, already stored",
    };
    shared.metrics.delivery(match enqueued {
        Enqueued::Queued | Enqueued::Again => "queued",
        Enqueued::AlreadyQueued => "coalesced",
        Enqueued::Duplicate => "duplicate",
    });
    log::info(
        About {
            delivery: Some(shown),
            repository: Some(configured),
            ..About::default()
        },
        &format!("{why} in {configured}: {said}"),
    );
    if enqueued == Enqueued::Duplicate {
        return reply(
            StatusCode::OK,
            json!({"duplicate": shown, "queued": configured}),
        );
    }
    reply(
        StatusCode::ACCEPTED,
        json!({"queued": configured, "already_queued": enqueued == Enqueued::AlreadyQueued}),
    )
}

/// An `installation` or `installation_repositories` delivery: the repositories served change
/// at once (with `--repo`, nothing changes). Nothing is queued: a newly served repository's
/// runs come with its pushes and its schedule, spread like every other's.
fn installation(shared: &Shared, delivery: &str, change: &webhook::InstallationChange) -> Response {
    let about = About {
        delivery: Some(delivery),
        ..About::default()
    };
    if !shared.fleet().is_discovered() {
        shared.metrics.delivery("ignored");
        return reply(
            StatusCode::OK,
            json!({"ignored": format!("{}, but only the --repo repositories are served", change.why)}),
        );
    }
    let changed = shared.fleet_mut().apply(change);
    shared.metrics.delivery("installation");
    log::info(
        about,
        &format!(
            "{}: now serving {}, no longer {}",
            change.why,
            shown_list(&changed.added),
            shown_list(&changed.removed)
        ),
    );
    reply(
        StatusCode::OK,
        json!({"serving": changed.added, "no_longer_serving": changed.removed}),
    )
}

/// `a, b` or `none`, for the log.
fn shown_list(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// List the App's installations' repositories and serve them, logging what changed; `false`
/// when the installations could not be listed (the set stays as it was).
async fn relist(shared: &Shared, app: &AppAuth) -> bool {
    match fleet::list(app).await {
        Ok(listing) => {
            let changed = shared.fleet_mut().relist(&listing);
            let total = shared.fleet().len();
            log::info(
                About::default(),
                &format!(
                    "the App's {} installations have {total} repositories: serving {} more, {} fewer",
                    listing.installations.len(),
                    changed.added.len(),
                    changed.removed.len()
                ),
            );
            true
        }
        Err(error) => {
            log::error(
                About::default(),
                &format!(
                    "the repositories served stay as they were: {}",
                    crate::error::chain(&error)
                ),
            );
            false
        }
    }
}

/// How often the App's installations are listed again without `--every`.
const RELIST: Duration = Duration::from_secs(3600);
/// How soon a listing that failed is tried again.
const RELIST_RETRY: Duration = Duration::from_secs(60);

/// List the App's installations again every `every` (sooner after a failure), until the
/// server stops: an installation whose delivery was missed is served all the same.
async fn relisting(shared: Arc<Shared>, app: Arc<AppAuth>, every: Duration, mut listed: bool) {
    loop {
        let wait = if listed {
            every
        } else {
            RELIST_RETRY.min(every)
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = shared.stopped() => return,
        }
        listed = relist(&shared, &app).await;
    }
}

/// What ended a run.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ended {
    /// The process exited, successfully or not (`done`, `failed`), after `detail`.
    Exited(&'static str, String),
    /// Killed at the job timeout.
    TimedOut,
    /// Killed: another worker holds the job now.
    LeaseLost,
    /// Killed at shutdown, after the grace period: the job is given back.
    Stopped,
    /// Never started.
    NotStarted(String),
}

/// One worker: claim jobs and run them, one at a time, until the server stops.
async fn work(shared: Arc<Shared>, settings: Arc<Settings>, name: String) {
    let mut claims = 0u64;
    while !shared.is_stopping() {
        let claim = format!("{name}.{claims}");
        let job = match shared
            .queue
            .claim(&claim, settings.lease, crate::queue::now())
            .await
        {
            Ok(job) => job,
            Err(error) => {
                log::error(
                    About::default(),
                    &format!("cannot take a job: {}", crate::error::chain(&error)),
                );
                tokio::time::sleep(POLL * 2).await;
                continue;
            }
        };
        let Some(job) = job else {
            tokio::select! {
                () = shared.wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
                () = shared.stopped() => {}
            }
            continue;
        };
        claims += 1;
        let about = About {
            repository: Some(&job.repository),
            job: Some(&claim),
            ..About::default()
        };
        let installation = budget_key(shared.fleet().installation_of(&job.repository));
        if let Some(until) = spent_until(&shared, &installation, settings.api_reserve).await {
            let wait = Duration::from_millis(
                u64::try_from(until - crate::queue::now()).unwrap_or_default(),
            );
            log::warn(
                about,
                &format!(
                    "deferred for {} s: {installation} has fewer than {} GitHub API requests left until its rate-limit window resets",
                    wait.as_secs(),
                    settings.api_reserve
                ),
            );
            shared.metrics.deferred();
            if let Err(error) = shared.queue.defer(&job, until).await {
                log::error(
                    about,
                    &format!(
                        "the job could not be deferred: {}",
                        crate::error::chain(&error)
                    ),
                );
            }
            continue;
        }
        log::info(
            about,
            &format!(
                "run started ({}, claim {claim}{})",
                job.reason,
                if job.attempts > 1 {
                    format!(", attempt {}", job.attempts)
                } else {
                    String::new()
                }
            ),
        );
        shared.metrics.started();
        let started = Instant::now();
        let usage_file = shared.usage_dir.path().join(format!(
            "{}.json",
            claim.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
        ));
        let ended = run_job(&shared, &settings, &job, &usage_file).await;
        record_usage(&shared, &installation, &usage_file, about).await;
        let seconds = started.elapsed().as_secs_f64();
        let (outcome, said) = match &ended {
            Ended::Exited(outcome, detail) => (*outcome, format!("run {detail}")),
            Ended::TimedOut => (
                "timed out",
                format!(
                    "run timed out after {} s and was killed",
                    settings.job_timeout.as_secs_f64()
                ),
            ),
            Ended::LeaseLost => (
                "lease lost",
                "run killed: its lease ran out and another worker took the job".to_owned(),
            ),
            Ended::Stopped => (
                "given back",
                "run killed at shutdown; the job is given back".to_owned(),
            ),
            Ended::NotStarted(why) => ("not started", format!("no run: {why}")),
        };
        shared.metrics.finished(outcome, seconds);
        let level = if outcome == "done" { "info" } else { "warn" };
        log::emit(level, about, &format!("{said} in {seconds:.1} s"));
        let now = crate::queue::now();
        let recorded = if ended == Ended::Stopped {
            shared.queue.release(&job).await
        } else {
            shared.queue.finish(&job, outcome, now).await
        };
        if let Err(error) = recorded {
            // The lease runs out and the job is run again: at worst once too often.
            log::error(
                about,
                &format!(
                    "the job's end could not be stored: {}",
                    crate::error::chain(&error)
                ),
            );
        }
    }
}

/// The key of an installation's API budget: the App's installation, or the server's one token.
fn budget_key(installation: Option<u64>) -> String {
    installation.map_or_else(|| "token".to_owned(), |id| format!("installation {id}"))
}

/// Until when `installation`'s API budget is spent (fewer than `reserve` requests left), when
/// it is. A database that does not answer spends nothing: the run's own rate-limit waits
/// still hold.
async fn spent_until(shared: &Shared, installation: &str, reserve: u64) -> Option<i64> {
    shared
        .queue
        .budget(installation)
        .await
        .ok()??
        .spent_until(reserve, crate::queue::now())
}

/// The most a run's usage file may hold: a few numbers.
const MAX_USAGE_FILE: u64 = 4096;

/// Read what the run asked of GitHub (its usage file, then removed) into the installation's
/// budget. A run that wrote none (it failed early, or is an older repin) records nothing.
async fn record_usage(shared: &Shared, installation: &str, file: &Path, about: About<'_>) {
    let read = std::fs::File::open(file).and_then(|f| {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(f, MAX_USAGE_FILE), &mut bytes)
            .map(|_| bytes)
    });
    let _ = std::fs::remove_file(file);
    let Ok(bytes) = read else { return };
    let Ok(usage) = serde_json::from_slice::<crate::forge::github::Usage>(&bytes) else {
        log::warn(about, "the run's GitHub usage could not be read");
        return;
    };
    shared.metrics.api_requests(installation, usage.requests);
    if let Err(error) = shared
        .queue
        .record_usage(installation, &usage, crate::queue::now())
        .await
    {
        log::warn(
            about,
            &format!(
                "the run's GitHub usage could not be stored: {}",
                crate::error::chain(&error)
            ),
        );
    }
}

/// Run `job`'s child process: heartbeats keep its lease; the job timeout, a lost lease and
/// the end of the shutdown grace period kill it.
async fn run_job(shared: &Shared, settings: &Settings, job: &Job, usage_file: &Path) -> Ended {
    let mut child = match spawn(&settings.runner, job, usage_file).await {
        Ok(child) => child,
        Err(why) => return Ended::NotStarted(crate::error::chain(&why)),
    };
    let relays = relay_output(&mut child, job);
    let timeout = tokio::time::sleep(settings.job_timeout);
    tokio::pin!(timeout);
    let mut heartbeats = tokio::time::interval(settings.lease / 3);
    heartbeats.tick().await;
    // Set when the server starts stopping: the run is killed and given back then.
    let mut grace: Option<tokio::time::Instant> = None;
    let ended = loop {
        let grace_over = async {
            match grace {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            status = child.wait() => {
                break match status {
                    Ok(status) if status.success() => Ended::Exited("done", "done".into()),
                    Ok(status) => Ended::Exited("failed", format!("failed ({status})")),
                    Err(error) => Ended::Exited("failed", format!("could not be waited for: {error}")),
                };
            }
            () = &mut timeout => break Ended::TimedOut,
            _ = heartbeats.tick() => {
                match shared.queue.heartbeat(job, settings.lease, crate::queue::now()).await {
                    Ok(true) => {}
                    Ok(false) => break Ended::LeaseLost,
                    // The database is away: the run goes on; if the lease runs out meanwhile,
                    // the next heartbeat says so.
                    Err(error) => log::warn(
                        About {
                            repository: Some(&job.repository),
                            job: Some(&job.claim),
                            ..About::default()
                        },
                        &format!("heartbeat failed: {}", crate::error::chain(&error)),
                    ),
                }
            }
            () = shared.stopped(), if grace.is_none() => {
                grace = Some(tokio::time::Instant::now() + settings.shutdown_grace);
            }
            () = grace_over => break Ended::Stopped,
        }
    };
    if !matches!(ended, Ended::Exited(..)) {
        kill_group(&child);
        let _ = child.kill().await;
    }
    for relay in relays {
        let _ = relay.await;
    }
    ended
}

/// In a JSON log, each line the run prints becomes a JSON line about its job; `[]` for text,
/// where the run writes to the server's own streams.
fn relay_output(child: &mut tokio::process::Child, job: &Job) -> Vec<tokio::task::JoinHandle<()>> {
    use tokio::io::AsyncBufReadExt;
    let mut relays = Vec::new();
    let streams: [(
        Option<Box<dyn tokio::io::AsyncRead + Send + Unpin>>,
        &'static str,
    ); 2] = [
        (child.stdout.take().map(|s| Box::new(s) as _), "info"),
        (child.stderr.take().map(|s| Box::new(s) as _), "warn"),
    ];
    for (stream, level) in streams {
        let Some(stream) = stream else { continue };
        let (repository, claim) = (job.repository.clone(), job.claim.clone());
        relays.push(tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                log::emit(
                    level,
                    About {
                        repository: Some(&repository),
                        job: Some(&claim),
                        source: Some("run"),
                        ..About::default()
                    },
                    &line,
                );
            }
        }));
    }
    relays
}

/// Start the run of `job` (with an installation token when serving as an App).
async fn spawn(
    runner: &Runner,
    job: &Job,
    usage_file: &Path,
) -> Result<tokio::process::Child, ServeError> {
    let mut command = runner.command(&job.repository, &job.commands);
    command.env(crate::forge::github::USAGE_FILE_ENV, usage_file);
    if let Some(app) = &runner.app {
        let token = app.token(&job.repository).await?;
        command
            .env(APP_TOKEN_ENV, token)
            .args(["--token-env", APP_TOKEN_ENV]);
    }
    // A process group of its own: a timeout kills whatever the run started too.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    // SAFETY: the closure runs in the child between fork and exec and only calls prctl(2),
    // which is async-signal-safe.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, || {
            // A run whose server died (SIGKILL, a crash) dies with it: its lease runs out
            // and another worker runs the job, so it must not go on beside that run.
            #[cfg(target_os = "linux")]
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut command = tokio::process::Command::from(command);
    if log::is_json() {
        command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
    }
    command
        .kill_on_drop(true)
        .spawn()
        .map_err(ServeError::Start)
}

/// SIGKILL the process group led by `child` (the run and every process it started).
fn kill_group(child: &tokio::process::Child) {
    if let Some(pid) = child.id().and_then(|id| i32::try_from(id).ok()) {
        // SAFETY: kill(2) with a negative pid signals that process group; no memory is shared.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

/// Queue the scheduled runs that are due, and forget old deliveries, until the server stops.
async fn schedule(shared: Arc<Shared>, every: Option<Duration>) {
    let mut ticks = tokio::time::interval(Duration::from_secs(10));
    let mut pruned = Instant::now();
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = shared.stopped() => return,
        }
        let now = crate::queue::now();
        if let Some(every) = every {
            let repositories = shared.fleet().names();
            match shared.queue.due(&repositories, every, now).await {
                Ok(due) => {
                    for repository in due {
                        if let Err(error) = shared
                            .queue
                            .enqueue(&repository, "schedule", None, None, now)
                            .await
                        {
                            log::error(
                                About {
                                    repository: Some(&repository),
                                    ..About::default()
                                },
                                &format!(
                                    "scheduled run not queued: {}",
                                    crate::error::chain(&error)
                                ),
                            );
                        }
                    }
                    shared.wake.notify_waiters();
                }
                Err(error) => log::error(
                    About::default(),
                    &format!("cannot read the schedule: {}", crate::error::chain(&error)),
                ),
            }
        }
        if pruned.elapsed() > Duration::from_secs(600) {
            pruned = Instant::now();
            let _ = shared.queue.prune(now).await;
        }
    }
}

/// A name for this process's workers, unique across machines and restarts.
fn process_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .unwrap_or_else(|| "repin".into());
    format!("{host}/{}/{}", std::process::id(), crate::queue::now())
}

/// The TCP listener, whose failed `accept()`s (out of file descriptors, most often) are logged
/// and waited out, doubling from [`ACCEPT_BACKOFF_MIN`] to [`ACCEPT_BACKOFF_MAX`]: accepting
/// again at once would spin.
struct Backoff {
    listener: tokio::net::TcpListener,
    wait: Duration,
}

impl Backoff {
    fn new(listener: tokio::net::TcpListener) -> Self {
        Backoff {
            listener,
            wait: ACCEPT_BACKOFF_MIN,
        }
    }
}

impl axum::serve::Listener for Backoff {
    type Io = tokio::net::TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.listener.accept().await {
                Ok(accepted) => {
                    self.wait = ACCEPT_BACKOFF_MIN;
                    return accepted;
                }
                Err(error) => {
                    log::error(
                        About::default(),
                        &format!(
                            "cannot accept a connection, waiting {} ms: {error}",
                            self.wait.as_millis()
                        ),
                    );
                    tokio::time::sleep(self.wait).await;
                    self.wait = (self.wait * 2).min(ACCEPT_BACKOFF_MAX);
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}

/// Serve until SIGTERM or SIGINT; `ready` is told the address listened on.
pub async fn run(settings: Settings, ready: impl FnOnce(SocketAddr)) -> Result<(), ServeError> {
    let queue = Queue::open(&settings.database).await?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: settings.listen,
            source,
        })?;
    let local = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: settings.listen,
        source,
    })?;
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(ServeError::Signal)?;
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(ServeError::Signal)?;
    let shared = Arc::new(Shared {
        secret: settings.secret.clone(),
        served: std::sync::RwLock::new(match &settings.runner.app {
            Some(_) if settings.repositories.is_empty() => fleet::Fleet::discovered(),
            _ => fleet::Fleet::fixed(&settings.repositories),
        }),
        queue,
        wake: Notify::new(),
        stopping: AtomicBool::new(false),
        stop: Notify::new(),
        metrics: Metrics::default(),
        usage_dir: tempfile::Builder::new()
            .prefix("repin-serve-usage-")
            .tempdir()
            .map_err(ServeError::UsageDirectory)?,
    });
    let settings = Arc::new(settings);
    let name = process_name();
    let mut workers = Vec::new();
    for n in 0..settings.workers.max(1) {
        workers.push(tokio::spawn(work(
            shared.clone(),
            settings.clone(),
            format!("{name}/{n}"),
        )));
    }
    // Without --repo, the App's repositories are listed before the server says it listens (a
    // delivery answered before would be ignored); a failed listing is tried again soon.
    if let Some(app) = settings.runner.app.clone() {
        if shared.fleet().is_discovered() {
            let listed = relist(&shared, &app).await;
            tokio::spawn(relisting(
                shared.clone(),
                app,
                settings.every.unwrap_or(RELIST),
                listed,
            ));
        }
    }
    tokio::spawn(schedule(shared.clone(), settings.every));
    ready(local);
    let server = tokio::spawn({
        let shared = shared.clone();
        let app = routes(shared.clone());
        async move {
            axum::serve(Backoff::new(listener), app)
                .with_graceful_shutdown(async move { shared.stopped().await })
                .await
        }
    });
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    log::info(
        About::default(),
        &format!(
            "stopping: no new jobs; running ones get {} s to finish",
            settings.shutdown_grace.as_secs_f64()
        ),
    );
    shared.stopping.store(true, Ordering::SeqCst);
    shared.stop.notify_waiters();
    for worker in workers {
        let _ = worker.await;
    }
    // The server took no connection since the signal; a request still being answered gets a
    // moment to finish.
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    log::info(About::default(), "stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 10: a run (on a repository that may be hostile) inherits none of the server's own
    /// secrets, and no secret is on its command line.
    #[test]
    fn a_run_inherits_none_of_the_servers_secrets() {
        let runner = Runner {
            program: PathBuf::from("/usr/bin/repin"),
            args: vec!["pr".into(), "--clone".into()],
            remote_template: "https://github.example/{repo}.git".into(),
            app: None,
            withheld: vec!["REPIN_WEBHOOK_SECRET".into(), "REPIN_APP_KEY_FILE".into()],
        };
        let asked = crate::queue::Stored {
            command: crate::queue::Command {
                branch: "repin/requirements.txt/flask".into(),
                command: crate::vocab::BranchCommand::Recreate,
                by: "ann".into(),
                number: 3,
            },
            queued_at: 1,
        };
        let command = runner.command("acme/service", &[asked]);
        let removed: Vec<String> = command
            .get_envs()
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect();
        assert_eq!(removed, ["REPIN_APP_KEY_FILE", "REPIN_WEBHOOK_SECRET"]);
        let argv: Vec<String> = command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            argv,
            [
                "pr",
                "--clone",
                "--repo",
                "acme/service",
                "--remote",
                "https://github.example/acme/service.git",
                "--recreate=repin/requirements.txt/flask"
            ]
        );
    }

    #[test]
    fn settings_never_print_the_secret() {
        let settings = Settings {
            listen: "127.0.0.1:0".parse().unwrap(),
            secret: b"webhook-canary-secret".to_vec(),
            repositories: vec!["acme/service".into()],
            every: None,
            runner: Runner {
                program: PathBuf::from("repin"),
                args: Vec::new(),
                remote_template: String::new(),
                app: None,
                withheld: Vec::new(),
            },
            workers: 1,
            job_timeout: Duration::from_secs(60),
            database: "postgres://repin:db-canary-password@127.0.0.1:5432/repin".into(),
            lease: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(20),
            api_reserve: 200,
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("db-canary-password"), "{shown}");
        // Neither as text nor as the bytes a derived Debug would list.
        let bytes = format!("{:?}", &settings.secret[..4]);
        let bytes = bytes.trim_matches(['[', ']']);
        assert!(
            !shown.contains("canary") && !shown.contains(bytes),
            "{shown}"
        );
        assert!(shown.contains("acme/service"), "{shown}");
    }
}
