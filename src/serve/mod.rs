//! `repin serve`: the self-hosted bot. It receives GitHub's webhook deliveries, checks their
//! signatures, and runs `repin pr --clone` for a repository when its default branch moves or
//! one of repin's pull requests is closed, and on a schedule for every repository it serves.
//!
//! Each run is a child process of its own: a fresh shallow clone, its own lookups, its own
//! failure, never the server's; a run that outlasts the job timeout is killed (with every
//! process it started), so one hung `git` fetch cannot hold a worker. `--workers` runs are
//! made at once, never two of one repository: an event for a repository already waiting in
//! the queue does not queue it twice, and one that arrives while its run is going queues the
//! next, made when that run ends (the run may have started before the change).
//!
//! Endpoints: `POST /webhook` (deliveries; `202` when a run is queued, `200` when the event is
//! ignored, `401` for a bad signature, `400` for a body that is not the event's JSON, `413`
//! past GitHub's 25 MB payload cap) and `GET /healthz`.

pub mod webhook;

use std::collections::{BTreeSet, HashSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;
use tokio::sync::mpsc;

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
    #[error("Cannot listen on {addr}\n  Caused by: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
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
    async fn token(&self, repository: &str) -> Result<String, String> {
        let jwt = self
            .app
            .jwt(jiff::Timestamp::now().as_second())
            .map_err(|e| e.to_string())?;
        crate::forge::github::GitHub::new(self.http.clone(), &self.api, repository, Some(jwt))
            .map_err(|e| e.to_string())?
            .installation_token()
            .await
            .map_err(|e| crate::lookup::error_chain(&e))
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
}

impl Runner {
    /// The command line of a run for `repository`.
    pub fn command(&self, repository: &str) -> std::process::Command {
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
        command
    }
}

/// What the server does.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The webhook secret.
    pub secret: Vec<u8>,
    /// The repositories served (`owner/name`); deliveries for others are ignored.
    pub repositories: Vec<String>,
    /// Run every repository this often (from the start), besides webhook deliveries.
    pub every: Option<Duration>,
    /// How runs are made.
    pub runner: Runner,
    /// How many runs are made at once.
    pub workers: usize,
    /// A run still going after this long is killed.
    pub job_timeout: Duration,
}

#[derive(Default)]
struct Lines {
    /// Queued, not started.
    waiting: HashSet<String>,
    /// Being run.
    running: HashSet<String>,
    /// Being run, and asked for again since it started.
    again: HashSet<String>,
}

/// Repositories waiting for a run, each once, and those being run.
struct Queue {
    lines: Mutex<Lines>,
    sender: mpsc::UnboundedSender<String>,
}

impl Queue {
    fn lines(&self) -> std::sync::MutexGuard<'_, Lines> {
        self.lines.lock().expect("the queue lock is never poisoned")
    }

    /// Queue a run of `repository` unless one is already waiting; whether it was queued. A
    /// repository being run is queued for when its run ends: two runs of one repository at
    /// once would race each other's pushes and pull requests.
    fn push(&self, repository: &str) -> bool {
        let mut lines = self.lines();
        if lines.running.contains(repository) {
            return lines.again.insert(repository.to_owned());
        }
        let fresh = lines.waiting.insert(repository.to_owned());
        if fresh {
            // The receiver lives as long as the server.
            let _ = self.sender.send(repository.to_owned());
        }
        fresh
    }

    /// A worker takes `repository`: from now on it is running.
    fn take(&self, repository: &str) {
        let mut lines = self.lines();
        lines.waiting.remove(repository);
        lines.running.insert(repository.to_owned());
    }

    /// The run of `repository` ended: queue it again if it was asked for meanwhile.
    fn finish(&self, repository: &str) {
        let again = {
            let mut lines = self.lines();
            lines.running.remove(repository);
            lines.again.remove(repository)
        };
        if again {
            self.push(repository);
        }
    }
}

struct Shared {
    secret: Vec<u8>,
    /// Lowercased: GitHub names are case-insensitive.
    served: BTreeSet<String>,
    queue: Queue,
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

async fn handle(
    request: Request<Incoming>,
    shared: Arc<Shared>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    match (request.method(), path.as_str()) {
        (&Method::GET, "/healthz") => Ok(reply(StatusCode::OK, json!({"status": "ok"}))),
        (&Method::POST, "/webhook") => Ok(delivery(request, &shared).await),
        (_, "/webhook" | "/healthz") => Ok(reply(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"error": "method not allowed"}),
        )),
        _ => Ok(reply(StatusCode::NOT_FOUND, json!({"error": "not found"}))),
    }
}

async fn delivery(request: Request<Incoming>, shared: &Shared) -> Response<Full<Bytes>> {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (event, signature, id) = (
        header("x-github-event").unwrap_or_default(),
        header("x-hub-signature-256"),
        header("x-github-delivery").unwrap_or_else(|| "-".into()),
    );
    let body = match Limited::new(request.into_body(), MAX_PAYLOAD)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(_) => {
            return reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({"error": "the payload is larger than GitHub's 25 MB"}),
            );
        }
    };
    if !webhook::signature_is_valid(&shared.secret, &body, signature.as_deref()) {
        eprintln!("serve: delivery {id}: refused, bad or missing X-Hub-Signature-256");
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({"error": "bad or missing X-Hub-Signature-256"}),
        );
    }
    match webhook::parse(&event, &body) {
        Err(error) => reply(
            StatusCode::BAD_REQUEST,
            json!({"error": format!("the `{event}` payload is not what GitHub documents: {error}")}),
        ),
        Ok(Event::Ping) => reply(StatusCode::OK, json!({"status": "pong"})),
        Ok(Event::Ignored(why)) => reply(StatusCode::OK, json!({"ignored": why})),
        Ok(Event::Run { repository, why }) => {
            if !shared.served.contains(&repository.to_lowercase()) {
                return reply(
                    StatusCode::OK,
                    json!({"ignored": format!("{repository} is not served")}),
                );
            }
            let queued = shared.queue.push(&repository);
            eprintln!(
                "serve: delivery {id}: {why} in {repository}: {}",
                if queued {
                    "run queued"
                } else {
                    "a run is already queued"
                }
            );
            reply(
                StatusCode::ACCEPTED,
                json!({"queued": repository, "already_queued": !queued}),
            )
        }
    }
}

/// One worker: make queued runs, one at a time, until the queue closes.
async fn work(
    shared: Arc<Shared>,
    receiver: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<String>>>,
    runner: Runner,
    timeout: Duration,
) {
    loop {
        let Some(repository) = receiver.lock().await.recv().await else {
            return;
        };
        // Taken off before the run: an event during it queues the next one.
        shared.queue.take(&repository);
        let outcome = run_once(&runner, &repository, timeout).await;
        eprintln!("serve: {repository}: {outcome}");
        shared.queue.finish(&repository);
    }
}

/// Run `repository` once, killing the run after `timeout`; what happened, for the log.
pub async fn run_once(runner: &Runner, repository: &str, timeout: Duration) -> String {
    let started = Instant::now();
    let mut command = runner.command(repository);
    if let Some(app) = &runner.app {
        match app.token(repository).await {
            Ok(token) => {
                command
                    .env(APP_TOKEN_ENV, token)
                    .args(["--token-env", APP_TOKEN_ENV]);
            }
            Err(why) => return format!("no run, no installation token: {why}"),
        }
    }
    // A process group of its own: a timeout kills whatever the run started too.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = match tokio::process::Command::from(command)
        .kill_on_drop(true)
        .spawn()
    {
        Ok(child) => child,
        Err(error) => return format!("run could not start: {error}"),
    };
    let outcome = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) if status.success() => "run done".to_owned(),
        Ok(Ok(status)) => format!("run failed ({status})"),
        Ok(Err(error)) => format!("run could not be waited for: {error}"),
        Err(_) => {
            kill_group(&child);
            let _ = child.kill().await;
            format!(
                "run timed out after {} s and was killed",
                timeout.as_secs_f64()
            )
        }
    };
    format!("{outcome} in {:.1} s", started.elapsed().as_secs_f64())
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

/// Serve until the process ends; `ready` is told the address listened on.
pub async fn run(settings: Settings, ready: impl FnOnce(SocketAddr)) -> Result<(), ServeError> {
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
    let (sender, receiver) = mpsc::unbounded_channel();
    let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
    let shared = Arc::new(Shared {
        secret: settings.secret.clone(),
        served: settings
            .repositories
            .iter()
            .map(|r| r.to_lowercase())
            .collect(),
        queue: Queue {
            lines: Mutex::new(Lines::default()),
            sender,
        },
    });
    for _ in 0..settings.workers.max(1) {
        tokio::spawn(work(
            shared.clone(),
            receiver.clone(),
            settings.runner.clone(),
            settings.job_timeout,
        ));
    }
    if let Some(every) = settings.every {
        let shared = shared.clone();
        let repositories = settings.repositories.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            loop {
                ticks.tick().await;
                for repository in &repositories {
                    shared.queue.push(repository);
                }
            }
        });
    }
    ready(local);
    let mut backoff = ACCEPT_BACKOFF_MIN;
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => {
                backoff = ACCEPT_BACKOFF_MIN;
                stream
            }
            Err(error) => {
                // Out of file descriptors, most often: accepting again at once would spin.
                eprintln!(
                    "serve: cannot accept a connection, waiting {} ms: {error}",
                    backoff.as_millis()
                );
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                continue;
            }
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |request| handle(request, shared.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}
