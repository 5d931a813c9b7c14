//! `repin serve`: the self-hosted bot. It receives GitHub's webhook deliveries, checks their
//! signatures, and runs `repin pr --clone` for a repository when its default branch moves or
//! one of repin's pull requests is closed, and on a schedule for every repository it serves.
//!
//! Each run is a child process of its own: a fresh shallow clone, its own lookups, its own
//! failure, never the server's. Runs are queued and made one at a time; an event for a
//! repository already waiting in the queue does not queue it twice, and one that arrives while
//! its run is going queues the next (that run may have started before the change).
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
}

/// Repositories waiting for a run, each once.
struct Queue {
    waiting: Mutex<HashSet<String>>,
    sender: mpsc::UnboundedSender<String>,
}

impl Queue {
    /// Queue a run of `repository` unless one is already waiting; whether it was queued.
    fn push(&self, repository: &str) -> bool {
        let fresh = self
            .waiting
            .lock()
            .expect("the queue lock is never poisoned")
            .insert(repository.to_owned());
        if fresh {
            // The receiver lives as long as the server.
            let _ = self.sender.send(repository.to_owned());
        }
        fresh
    }

    fn take(&self, repository: &str) {
        self.waiting
            .lock()
            .expect("the queue lock is never poisoned")
            .remove(repository);
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

/// Make the queued runs, one at a time.
async fn work(shared: Arc<Shared>, mut receiver: mpsc::UnboundedReceiver<String>, runner: Runner) {
    while let Some(repository) = receiver.recv().await {
        // Taken off before the run: an event during it queues the next one.
        shared.queue.take(&repository);
        let started = Instant::now();
        let mut command = runner.command(&repository);
        if let Some(app) = &runner.app {
            match app.token(&repository).await {
                Ok(token) => {
                    command
                        .env(APP_TOKEN_ENV, token)
                        .args(["--token-env", APP_TOKEN_ENV]);
                }
                Err(why) => {
                    eprintln!("serve: {repository}: no run, no installation token: {why}");
                    continue;
                }
            }
        }
        let status = tokio::task::spawn_blocking(move || command.status()).await;
        let outcome = match status {
            Ok(Ok(status)) if status.success() => "done".to_owned(),
            Ok(Ok(status)) => format!("failed ({status})"),
            Ok(Err(error)) => format!("could not start: {error}"),
            Err(error) => format!("could not start: {error}"),
        };
        eprintln!(
            "serve: {repository}: run {outcome} in {:.1} s",
            started.elapsed().as_secs_f64()
        );
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
    let shared = Arc::new(Shared {
        secret: settings.secret.clone(),
        served: settings
            .repositories
            .iter()
            .map(|r| r.to_lowercase())
            .collect(),
        queue: Queue {
            waiting: Mutex::new(HashSet::new()),
            sender,
        },
    });
    tokio::spawn(work(shared.clone(), receiver, settings.runner.clone()));
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
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
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
