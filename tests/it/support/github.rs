//! An in-process stand-in for GitHub's REST API (version 2022-11-28), keeping pull-request,
//! issue, label and comment state, for the `repin pr` end-to-end tests.
//!
//! GitHub's API cannot be reached from the test machines, so this server mimics the documented
//! request and response shapes of the endpoints repin uses ("Pulls", "Issues", "Labels",
//! "Comments" and "Repositories" in GitHub's REST reference): the same JSON fields, status
//! codes (201 on creation, 422 "Validation Failed" for a pull request whose head branch does
//! not exist or that already exists, 401 "Bad credentials") and `Link` pagination. It checks
//! what GitHub checks (a `User-Agent`, the token, the head branch in the real git remote) and
//! answers anything else with 404 while recording it as unexpected: tests assert that no
//! unexpected request was made. Faults GitHub shows are injected on request: rate limits, and
//! a `502` after a request was carried out (`State::bad_gateway_after`). With a GitHub App, it
//! keeps the App's installations (`GitHubMock::with_installations`) and answers the App's
//! endpoints ("GitHub Apps" and "Installations" in the reference) as GitHub does.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use serde_json::{Value, json};

/// A pull request as the server keeps it.
#[derive(Debug, Clone)]
pub struct Pull {
    /// Its number (shared with issues, as on GitHub).
    pub number: u64,
    /// `open` or `closed`.
    pub state: String,
    /// Whether it was merged.
    pub merged: bool,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Head branch.
    pub head: String,
    /// Base branch.
    pub base: String,
    /// Labels.
    pub labels: Vec<String>,
    /// Creation time (RFC 3339).
    pub created_at: String,
}

/// An issue as the server keeps it.
#[derive(Debug, Clone)]
pub struct IssueRecord {
    /// Its number.
    pub number: u64,
    /// `open` or `closed`.
    pub state: String,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Method.
    pub method: String,
    /// Path and query.
    pub target: String,
    /// JSON body (`Null` when none).
    pub body: Value,
}

/// Everything the server knows.
#[derive(Debug, Default)]
pub struct State {
    /// Pull requests by number.
    pub pulls: BTreeMap<u64, Pull>,
    /// Issues by number.
    pub issues: BTreeMap<u64, IssueRecord>,
    /// Comments: (issue or pull number, body).
    pub comments: Vec<(u64, String)>,
    /// Every request, in order.
    pub requests: Vec<Received>,
    /// Requests the server does not know, as `METHOD target`.
    pub unexpected: Vec<String>,
    /// Requests still to refuse with a primary rate limit (`403`, `x-ratelimit-remaining: 0`).
    pub rate_limit_next: u32,
    /// Refuse to open pull requests as GitHub does when the repository's (or organization's)
    /// setting "Allow GitHub Actions to create and approve pull requests" is off and the token
    /// is a workflow's `GITHUB_TOKEN`: `403` with GitHub's message.
    pub actions_may_not_create_pulls: bool,
    /// Requests (`METHOD /path`, without the query) to carry out and then answer with
    /// `502 Bad Gateway`, as GitHub's front end does when the answer is lost on its way back;
    /// each entry is used once.
    pub bad_gateway_after: Vec<String>,
    /// When set, every authorized answer carries GitHub's primary rate-limit headers
    /// (`x-ratelimit-limit: 5000`, `x-ratelimit-remaining`, `x-ratelimit-reset` an hour ahead),
    /// the remaining count going down by one a request as on GitHub.
    pub rate_remaining: Option<u64>,
    next_number: u64,
}

/// A repository the server serves: what it is, and its state.
type Served = (Arc<Config>, Arc<Mutex<State>>);

/// An installation of the GitHub App, as the server keeps it.
#[derive(Debug, Clone)]
pub struct Installation {
    /// The account it is installed on.
    pub account: String,
    /// The repositories it may work on (`owner/name`, served by the stand-in).
    pub repositories: Vec<String>,
    /// Suspended: its tokens are refused.
    pub suspended: bool,
}

/// The App's installations, by ID.
pub type Installations = BTreeMap<u64, Installation>;

/// The server; stops when dropped.
pub struct GitHubMock {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// The first repository's state.
    state: Arc<Mutex<State>>,
    /// Every repository, by name.
    repositories: Arc<BTreeMap<String, Served>>,
    /// The App's installations (installation 42 on every repository when an App is given).
    installations: Arc<Mutex<Installations>>,
    stop: Arc<AtomicBool>,
    port: u16,
    thread: Option<JoinHandle<()>>,
}

struct Config {
    owner: String,
    name: String,
    token: String,
    remote: PathBuf,
    base_url: String,
    /// A GitHub App installed on the repository: its ID and public key (PKCS#1 DER). Its JWT
    /// buys an installation token, which is `token` for a token limited to repositories, and
    /// `ghs_installation_{id}` for a whole installation's (`GET /installation/repositories`).
    app: Option<(String, Vec<u8>)>,
    /// The App's installations, shared by every repository.
    installations: Arc<Mutex<Installations>>,
}

impl GitHubMock {
    /// Serve repository `owner/name` (default branch `main`), accepting `token`, with head
    /// branches checked in the bare git repository `remote`.
    pub fn start(repository: &str, token: &str, remote: PathBuf) -> GitHubMock {
        Self::start_with_app(repository, token, remote, None)
    }

    /// [`GitHubMock::start`] with a GitHub App installed on the repository: `app` is its ID
    /// and public key (PKCS#1 DER); a valid App JWT is exchanged for `token`.
    pub fn start_with_app(
        repository: &str,
        token: &str,
        remote: PathBuf,
        app: Option<(String, Vec<u8>)>,
    ) -> GitHubMock {
        Self::start_fleet(&[(repository.to_owned(), remote)], token, app)
    }

    /// Serve several repositories (`owner/name` and its bare git repository), each with its
    /// own pull requests and issues, all accepting `token`; the first is the one
    /// [`GitHubMock::with`] looks at.
    pub fn start_fleet(
        repositories: &[(String, PathBuf)],
        token: &str,
        app: Option<(String, Vec<u8>)>,
    ) -> GitHubMock {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().unwrap().port();
        let url = format!("http://127.0.0.1:{port}");
        let mut installed = Installations::new();
        if app.is_some() {
            installed.insert(
                42,
                Installation {
                    account: repositories[0].0.split('/').next().unwrap().to_owned(),
                    repositories: repositories.iter().map(|(r, _)| r.clone()).collect(),
                    suspended: false,
                },
            );
        }
        let installations = Arc::new(Mutex::new(installed));
        let served: BTreeMap<String, Served> = repositories
            .iter()
            .map(|(repository, remote)| {
                let (owner, name) = repository.split_once('/').expect("owner/name");
                let config = Arc::new(Config {
                    owner: owner.to_owned(),
                    name: name.to_owned(),
                    token: token.to_owned(),
                    remote: remote.clone(),
                    base_url: url.clone(),
                    app: app.clone(),
                    installations: installations.clone(),
                });
                let state = Arc::new(Mutex::new(State {
                    next_number: 1,
                    ..State::default()
                }));
                (repository.clone(), (config, state))
            })
            .collect();
        let served = Arc::new(served);
        let first = served[&repositories[0].0].1.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let served = served.clone();
            let first = repositories[0].0.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let served = served.clone();
                    let first = first.clone();
                    std::thread::spawn(move || serve(stream, &served, &first));
                }
            })
        };
        GitHubMock {
            url,
            state: first,
            repositories: served,
            installations,
            stop,
            port,
            thread: Some(thread),
        }
    }

    /// Look at (or change) the state.
    pub fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// Look at (or change) the state of `repository` (`owner/name`).
    pub fn with_repo<T>(&self, repository: &str, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.repositories[repository].1.lock().unwrap())
    }

    /// Look at (or change) the App's installations, as installing, uninstalling or changing
    /// its repositories in GitHub's settings would.
    pub fn with_installations<T>(&self, f: impl FnOnce(&mut Installations) -> T) -> T {
        f(&mut self.installations.lock().unwrap())
    }

    /// The pull requests, by number.
    pub fn pulls(&self) -> Vec<Pull> {
        self.with(|s| s.pulls.values().cloned().collect())
    }

    /// The open pull requests.
    pub fn open_pulls(&self) -> Vec<Pull> {
        self.pulls()
            .into_iter()
            .filter(|p| p.state == "open")
            .collect()
    }

    /// How many requests changed something (anything but GET).
    pub fn writes(&self) -> usize {
        self.with(|s| s.requests.iter().filter(|r| r.method != "GET").count())
    }

    /// Close a pull request unmerged, as a user would in the web interface.
    pub fn close_by_user(&self, number: u64) {
        self.with(|s| s.pulls.get_mut(&number).expect("a pull request").state = "closed".into());
    }
}

impl Drop for GitHubMock {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Request {
    method: String,
    target: String,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = BTreeMap::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

struct Answer {
    status: u16,
    body: Value,
    headers: Vec<(String, String)>,
}

fn answer(status: u16, body: Value) -> Answer {
    Answer {
        status,
        body,
        headers: Vec::new(),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        422 => "Unprocessable Entity",
        502 => "Bad Gateway",
        _ => "Status",
    }
}

/// The repository a request is about: `/repos/{owner}/{name}/…`, or the `repo:` of a search.
fn addressed<'a>(
    request: &Request,
    served: &'a BTreeMap<String, Served>,
    first: &str,
) -> &'a Served {
    let (path, params) = query(&request.target);
    let named = path
        .strip_prefix("/repos/")
        .map(|rest| rest.split('/').take(2).collect::<Vec<_>>().join("/"))
        .or_else(|| {
            params.get("q").and_then(|q| {
                q.split_whitespace()
                    .find_map(|t| t.strip_prefix("repo:"))
                    .map(str::to_owned)
            })
        });
    named
        .and_then(|name| served.get(&name))
        .unwrap_or(&served[first])
}

fn serve(mut stream: TcpStream, served: &BTreeMap<String, Served>, first: &str) {
    let Some(request) = read_request(&stream) else {
        return;
    };
    let (config, state) = addressed(&request, served, first);
    let answer = handle(&request, state, config);
    let body = serde_json::to_vec(&answer.body).unwrap();
    let mut head = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {}\r\nx-github-api-version-selected: 2022-11-28\r\nconnection: close\r\n",
        answer.status,
        reason(answer.status),
        body.len()
    );
    for (name, value) in &answer.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
    let _ = stream.flush();
}

fn not_found() -> Answer {
    answer(
        404,
        json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}),
    )
}

fn validation_failed(resource: &str, message: &str) -> Answer {
    answer(
        422,
        json!({
            "message": "Validation Failed",
            "errors": [{"resource": resource, "code": "custom", "message": message}],
            "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
            "status": "422"
        }),
    )
}

fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // Civil date from days since the epoch (Howard Hinnant's algorithm), to avoid a date crate.
    let days = i64::try_from(secs / 86_400).expect("a day count that fits");
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn user() -> Value {
    json!({"login": "repin-test[bot]", "id": 1, "type": "Bot"})
}

fn pull_json(pull: &Pull, config: &Config) -> Value {
    let html = format!(
        "https://github.example/{}/{}/pull/{}",
        config.owner, config.name, pull.number
    );
    json!({
        "url": format!("{}/repos/{}/{}/pulls/{}", config.base_url, config.owner, config.name, pull.number),
        "id": 1000 + pull.number,
        "number": pull.number,
        "state": pull.state,
        "locked": false,
        "title": pull.title,
        "user": user(),
        "body": if pull.body.is_empty() { Value::Null } else { Value::String(pull.body.clone()) },
        "labels": pull.labels.iter().map(|l| json!({"name": l, "color": "ededed", "default": false})).collect::<Vec<_>>(),
        "created_at": pull.created_at,
        "updated_at": pull.created_at,
        "closed_at": if pull.state == "closed" { Value::String(now_rfc3339()) } else { Value::Null },
        "merged_at": if pull.merged { Value::String(now_rfc3339()) } else { Value::Null },
        "draft": false,
        "head": {"label": format!("{}:{}", config.owner, pull.head), "ref": pull.head, "sha": "0000000000000000000000000000000000000000", "user": user()},
        "base": {"label": format!("{}:{}", config.owner, pull.base), "ref": pull.base, "sha": "0000000000000000000000000000000000000000", "user": user()},
        "html_url": html,
    })
}

fn issue_json(issue: &IssueRecord, config: &Config) -> Value {
    json!({
        "id": 2000 + issue.number,
        "number": issue.number,
        "state": issue.state,
        "title": issue.title,
        "body": issue.body,
        "user": user(),
        "labels": [],
        "html_url": format!("https://github.example/{}/{}/issues/{}", config.owner, config.name, issue.number),
    })
}

fn query(target: &str) -> (String, BTreeMap<String, String>) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let pairs = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    (path.to_owned(), pairs)
}

fn branch_exists(config: &Config, branch: &str) -> bool {
    std::process::Command::new("git")
        .arg("--git-dir")
        .arg(&config.remote)
        .args(["rev-parse", "--verify", "--quiet"])
        .arg(format!("refs/heads/{branch}"))
        .output()
        .is_ok_and(|o| o.status.success())
}

/// One page of `items` with GitHub's `Link` header (`per_page`, `page`).
fn paged(
    items: Vec<Value>,
    params: &BTreeMap<String, String>,
    path: &str,
    config: &Config,
) -> Answer {
    let per_page: usize = params
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page: usize = params
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let pages = items.len().div_ceil(per_page).max(1);
    let shown: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut result = answer(200, Value::Array(shown));
    if page < pages {
        let mut next = params.clone();
        next.insert("page".into(), (page + 1).to_string());
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(next.iter())
            .finish();
        result.headers.push((
            "link".into(),
            format!(
                "<{}{path}?{query}>; rel=\"next\", <{}{path}?page={pages}>; rel=\"last\"",
                config.base_url, config.base_url
            ),
        ));
    }
    result
}

/// Whether `jwt` is an App token GitHub would take: RS256, signed by the App's key, issued
/// by the App, not expired, valid at most ten minutes.
fn valid_app_jwt(jwt: &str, app_id: &str, public_key: &[u8]) -> bool {
    use base64::Engine;
    let decode = |p: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p)
            .ok()
    };
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return false;
    };
    let (Some(h), Some(c), Some(sig)) = (decode(header), decode(claims), decode(signature)) else {
        return false;
    };
    let header: Value = serde_json::from_slice(&h).unwrap_or(Value::Null);
    let claims: Value = serde_json::from_slice(&c).unwrap_or(Value::Null);
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .expect("a time that fits");
    let (iat, exp) = (claims["iat"].as_i64(), claims["exp"].as_i64());
    let verified = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        public_key,
    )
    .verify(
        format!("{header}.{claims}", header = parts[0], claims = parts[1]).as_bytes(),
        &sig,
    )
    .is_ok();
    verified
        && header["alg"] == "RS256"
        && claims["iss"].as_str() == Some(app_id)
        && matches!((iat, exp), (Some(i), Some(e)) if e > now && i <= now && e - i <= 600)
}

fn installation_json(id: u64, installation: &Installation, app_id: &str, config: &Config) -> Value {
    json!({
        "id": id,
        "account": {"login": installation.account, "id": 100 + id, "type": "Organization"},
        "repository_selection": "selected",
        "access_tokens_url": format!("{}/app/installations/{id}/access_tokens", config.base_url),
        "repositories_url": format!("{}/installation/repositories", config.base_url),
        "html_url": format!("https://github.example/organizations/{}/settings/installations/{id}", installation.account),
        "app_id": app_id.parse::<u64>().unwrap_or(0),
        "app_slug": "repin",
        "target_id": 100 + id,
        "target_type": "Organization",
        "permissions": {"contents": "write", "pull_requests": "write", "issues": "write", "metadata": "read"},
        "events": ["push", "pull_request"],
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "single_file_name": null,
        "suspended_at": if installation.suspended { json!("2026-01-02T00:00:00Z") } else { Value::Null },
        "suspended_by": null
    })
}

/// The App endpoints, authenticated with the App's JWT: `GET /repos/{owner}/{repo}/installation`,
/// `GET /app/installations` and `POST /app/installations/{id}/access_tokens`.
fn app_endpoint(
    request: &Request,
    path: &str,
    params: &BTreeMap<String, String>,
    body: &Value,
    config: &Config,
) -> Option<Answer> {
    let installation = format!("/repos/{}/{}/installation", config.owner, config.name);
    let is_app_path = path == installation || path.starts_with("/app/") || path == "/app";
    if !is_app_path {
        return None;
    }
    let Some((app_id, public_key)) = &config.app else {
        return Some(not_found());
    };
    let jwt = request
        .headers
        .get("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .unwrap_or("");
    if !valid_app_jwt(jwt, app_id, public_key) {
        return Some(answer(
            401,
            json!({"message": "A JSON web token could not be decoded", "documentation_url": "https://docs.github.com/rest", "status": "401"}),
        ));
    }
    let installations = config.installations.lock().unwrap().clone();
    let repository = format!("{}/{}", config.owner, config.name);
    let tokens = path
        .strip_prefix("/app/installations/")
        .and_then(|rest| rest.strip_suffix("/access_tokens"))
        .and_then(|id| id.parse::<u64>().ok());
    Some(match (request.method.as_str(), path) {
        ("GET", p) if p == installation => {
            // GitHub answers 404 when the App is not installed on the repository.
            match installations
                .iter()
                .find(|(_, i)| i.repositories.contains(&repository))
            {
                Some((id, i)) => answer(200, installation_json(*id, i, app_id, config)),
                None => not_found(),
            }
        }
        ("GET", "/app/installations") => {
            let items = installations
                .iter()
                .map(|(id, i)| installation_json(*id, i, app_id, config))
                .collect();
            paged(items, params, path, config)
        }
        ("POST", _) if tokens.is_some() => {
            let id = tokens.unwrap();
            let Some(installed) = installations.get(&id) else {
                return Some(not_found());
            };
            if installed.suspended {
                return Some(answer(
                    403,
                    json!({"message": "This installation has been suspended", "documentation_url": "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app", "status": "403"}),
                ));
            }
            match body.get("repositories").and_then(Value::as_array) {
                // A token limited to repositories, each one the installation's.
                Some(names) => {
                    let owner = &installed.account;
                    let all_installed = !names.is_empty()
                        && names.iter().all(|n| {
                            n.as_str().is_some_and(|n| {
                                installed.repositories.contains(&format!("{owner}/{n}"))
                            })
                        });
                    if !all_installed {
                        return Some(validation_failed(
                            "Installation",
                            "There is at least one repository that does not exist or is not accessible to the parent installation.",
                        ));
                    }
                    answer(
                        201,
                        json!({"token": config.token, "expires_at": "2099-01-01T00:00:00Z", "permissions": {"contents": "write", "pull_requests": "write", "issues": "write"}, "repository_selection": "selected"}),
                    )
                }
                None => answer(
                    201,
                    json!({"token": format!("ghs_installation_{id}"), "expires_at": "2099-01-01T00:00:00Z", "permissions": {"contents": "write", "pull_requests": "write", "issues": "write", "metadata": "read"}, "repository_selection": "selected"}),
                ),
            }
        }
        _ => not_found(),
    })
}

/// `GET /installation/repositories`, with a whole installation's token: its repositories, one
/// page of them in GitHub's object (`total_count`, `repository_selection`, `repositories`).
fn installation_repositories(
    request: &Request,
    params: &BTreeMap<String, String>,
    config: &Config,
) -> Answer {
    let installations = config.installations.lock().unwrap().clone();
    let token = request
        .headers
        .get("authorization")
        .and_then(|a| {
            a.strip_prefix("Bearer ")
                .or_else(|| a.strip_prefix("token "))
        })
        .and_then(|t| t.strip_prefix("ghs_installation_"))
        .and_then(|id| id.parse::<u64>().ok());
    let Some(installed) = token.and_then(|id| installations.get(&id)) else {
        return answer(
            401,
            json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"}),
        );
    };
    let items: Vec<Value> = installed
        .repositories
        .iter()
        .enumerate()
        .map(|(n, full)| {
            let (owner, name) = full.split_once('/').unwrap();
            json!({
                "id": 5000 + n, "name": name, "full_name": full, "private": true,
                "owner": {"login": owner}, "default_branch": "main",
                "html_url": format!("https://github.example/{full}")
            })
        })
        .collect();
    let total = items.len();
    let mut page = paged(items, params, "/installation/repositories", config);
    let repositories = std::mem::take(&mut page.body);
    page.body = json!({"total_count": total, "repository_selection": "selected", "repositories": repositories});
    page
}

fn handle(request: &Request, state: &Mutex<State>, config: &Config) -> Answer {
    let body: Value = if request.body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&request.body) {
            Ok(body) => body,
            Err(_) => {
                return answer(
                    400,
                    json!({"message": "Problems parsing JSON", "status": "400"}),
                );
            }
        }
    };
    let mut state = state.lock().unwrap();
    state.requests.push(Received {
        method: request.method.clone(),
        target: request.target.clone(),
        body: body.clone(),
    });
    // GitHub refuses requests without a User-Agent.
    if !request.headers.contains_key("user-agent") {
        state.unexpected.push(format!(
            "{} {} without User-Agent",
            request.method, request.target
        ));
        return answer(
            403,
            json!({"message": "Request forbidden by administrative rules. Please make sure your request has a User-Agent header"}),
        );
    }
    let (path, params) = query(&request.target);
    if let Some(answer) = app_endpoint(request, &path, &params, &body, config) {
        return answer;
    }
    if request.method == "GET" && path == "/installation/repositories" && config.app.is_some() {
        return installation_repositories(request, &params, config);
    }
    let authorized = request.headers.get("authorization").is_some_and(|a| {
        a == &format!("Bearer {}", config.token) || a == &format!("token {}", config.token)
    });
    if !authorized {
        return answer(
            401,
            json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"}),
        );
    }
    if state.rate_limit_next > 0 {
        state.rate_limit_next -= 1;
        let reset = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 1;
        let mut refused = answer(
            403,
            json!({"message": "API rate limit exceeded for installation ID 1.", "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api", "status": "403"}),
        );
        refused.headers.extend([
            ("x-ratelimit-limit".into(), "5000".into()),
            ("x-ratelimit-remaining".into(), "0".into()),
            ("x-ratelimit-reset".into(), reset.to_string()),
        ]);
        return refused;
    }
    if request.method == "GET" && path == "/search/issues" {
        if let Some(mut found) = search_issues(&params, &state, config) {
            // The search API has a budget of its own (30 a minute), which GitHub names.
            if state.rate_remaining.is_some() {
                found.headers.extend([
                    ("x-ratelimit-limit".into(), "30".into()),
                    ("x-ratelimit-remaining".into(), "29".into()),
                    ("x-ratelimit-resource".into(), "search".into()),
                ]);
            }
            return found;
        }
    }
    let prefix = format!("/repos/{}/{}", config.owner, config.name);
    let Some(rest) = path.strip_prefix(&prefix) else {
        state
            .unexpected
            .push(format!("{} {}", request.method, request.target));
        return not_found();
    };
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let number = |s: &str| s.parse::<u64>().ok();
    let result = match (request.method.as_str(), segments.as_slice()) {
        ("GET", []) => Some(answer(
            200,
            json!({
                "id": 1, "name": config.name, "full_name": format!("{}/{}", config.owner, config.name),
                "private": false, "default_branch": "main", "owner": {"login": config.owner},
                "html_url": format!("https://github.example/{}/{}", config.owner, config.name)
            }),
        )),
        ("GET", ["pulls"]) => {
            let wanted = params
                .get("state")
                .map_or("open", String::as_str)
                .to_owned();
            let head = params.get("head").cloned();
            let items: Vec<Value> = state
                .pulls
                .values()
                .rev() // newest first, as GitHub sorts by creation date descending
                .filter(|p| wanted == "all" || p.state == wanted)
                .filter(|p| {
                    head.as_ref()
                        .is_none_or(|h| *h == format!("{}:{}", config.owner, p.head))
                })
                .map(|p| pull_json(p, config))
                .collect();
            Some(paged(items, &params, &path, config))
        }
        ("POST", ["pulls"]) if state.actions_may_not_create_pulls => Some(answer(
            403,
            json!({
                "message": "GitHub Actions is not permitted to create or approve pull requests.",
                "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
                "status": "403"
            }),
        )),
        ("POST", ["pulls"]) => {
            let field = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
            match (field("title"), field("head"), field("base")) {
                (Some(title), Some(head), Some(base)) => {
                    if !branch_exists(config, &head) {
                        Some(validation_failed(
                            "PullRequest",
                            &format!("head: {head} does not exist"),
                        ))
                    } else if state
                        .pulls
                        .values()
                        .any(|p| p.head == head && p.state == "open")
                    {
                        Some(validation_failed(
                            "PullRequest",
                            &format!("A pull request already exists for {}:{head}.", config.owner),
                        ))
                    } else {
                        let number = state.next_number;
                        state.next_number += 1;
                        let pull = Pull {
                            number,
                            state: "open".into(),
                            merged: false,
                            title,
                            body: field("body").unwrap_or_default(),
                            head,
                            base,
                            labels: Vec::new(),
                            created_at: now_rfc3339(),
                        };
                        let json = pull_json(&pull, config);
                        state.pulls.insert(number, pull);
                        Some(answer(201, json))
                    }
                }
                _ => Some(validation_failed(
                    "PullRequest",
                    "title, head and base are required",
                )),
            }
        }
        ("PATCH", ["pulls", n]) => number(n).and_then(|n| {
            let pull = state.pulls.get_mut(&n)?;
            if let Some(title) = body.get("title").and_then(Value::as_str) {
                pull.title = title.to_owned();
            }
            if let Some(text) = body.get("body").and_then(Value::as_str) {
                pull.body = text.to_owned();
            }
            if let Some(s) = body.get("state").and_then(Value::as_str) {
                pull.state = s.to_owned();
            }
            Some(answer(200, pull_json(pull, config)))
        }),
        ("POST", ["issues", n, "labels"]) => number(n).and_then(|n| {
            let labels: Vec<String> = body
                .get("labels")?
                .as_array()?
                .iter()
                .filter_map(|l| l.as_str().map(str::to_owned))
                .collect();
            let pull = state.pulls.get_mut(&n)?;
            for label in labels {
                if !pull.labels.contains(&label) {
                    pull.labels.push(label);
                }
            }
            let all: Vec<Value> = pull
                .labels
                .iter()
                .map(|l| json!({"name": l, "color": "ededed", "default": false}))
                .collect();
            Some(answer(200, Value::Array(all)))
        }),
        ("POST", ["issues", n, "comments"]) => number(n).and_then(|n| {
            let text = body.get("body")?.as_str()?.to_owned();
            if !state.pulls.contains_key(&n) && !state.issues.contains_key(&n) {
                return None;
            }
            state.comments.push((n, text.clone()));
            Some(answer(
                201,
                json!({"id": 3000 + state.comments.len(), "body": text, "user": user()}),
            ))
        }),
        ("GET", ["issues"]) => {
            let wanted = params
                .get("state")
                .map_or("open", String::as_str)
                .to_owned();
            // The issues endpoint lists pull requests too, marked with `pull_request`.
            let mut items: Vec<(u64, Value)> = state
                .issues
                .values()
                .filter(|i| wanted == "all" || i.state == wanted)
                .map(|i| (i.number, issue_json(i, config)))
                .collect();
            items.extend(
                state
                    .pulls
                    .values()
                    .filter(|p| wanted == "all" || p.state == wanted)
                    .map(|p| {
                        let mut value = pull_json(p, config);
                        value["pull_request"] = json!({"url": value["url"].clone()});
                        (p.number, value)
                    }),
            );
            items.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
            Some(paged(
                items.into_iter().map(|(_, v)| v).collect(),
                &params,
                &path,
                config,
            ))
        }
        ("POST", ["issues"]) => body.get("title").and_then(Value::as_str).map(|title| {
            let number = state.next_number;
            state.next_number += 1;
            let issue = IssueRecord {
                number,
                state: "open".into(),
                title: title.to_owned(),
                body: body
                    .get("body")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
            };
            let json = issue_json(&issue, config);
            state.issues.insert(number, issue);
            answer(201, json)
        }),
        ("PATCH", ["issues", n]) => number(n).and_then(|n| {
            let issue = state.issues.get_mut(&n)?;
            if let Some(title) = body.get("title").and_then(Value::as_str) {
                issue.title = title.to_owned();
            }
            if let Some(text) = body.get("body").and_then(Value::as_str) {
                issue.body = text.to_owned();
            }
            if let Some(s) = body.get("state").and_then(Value::as_str) {
                issue.state = s.to_owned();
            }
            Some(answer(200, issue_json(issue, config)))
        }),
        _ => None,
    };
    let mut result = result.unwrap_or_else(|| {
        state
            .unexpected
            .push(format!("{} {}", request.method, request.target));
        not_found()
    });
    if let Some(remaining) = state.rate_remaining.as_mut() {
        *remaining = remaining.saturating_sub(1);
        let reset = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3600;
        result.headers.extend([
            ("x-ratelimit-limit".into(), "5000".into()),
            ("x-ratelimit-remaining".into(), remaining.to_string()),
            ("x-ratelimit-reset".into(), reset.to_string()),
            ("x-ratelimit-resource".into(), "core".into()),
        ]);
    }
    let done = format!("{} {path}", request.method);
    if let Some(at) = state.bad_gateway_after.iter().position(|f| *f == done) {
        state.bad_gateway_after.remove(at);
        // GitHub's front end answers an HTML page for a 502; the work was done all the same.
        return answer(502, json!({"message": "Server Error"}));
    }
    result
}

/// GitHub's issue search (`GET /search/issues`), for the qualifiers repin sends: `repo:`,
/// `is:issue`, `is:open` or `is:closed`, `in:title` with a quoted phrase. Any other query is
/// unexpected.
fn search_issues(
    params: &BTreeMap<String, String>,
    state: &State,
    config: &Config,
) -> Option<Answer> {
    let q = params.get("q")?;
    let (phrase, rest) = match q.split_once('"') {
        Some((before, after)) => {
            let (phrase, tail) = after.split_once('"')?;
            (Some(phrase.to_owned()), format!("{before} {tail}"))
        }
        None => (None, q.clone()),
    };
    let mut wanted_state = None;
    let mut in_title = false;
    let mut repo_ok = false;
    let mut issues_only = false;
    for term in rest.split_whitespace() {
        match term {
            "is:issue" => issues_only = true,
            "is:open" => wanted_state = Some("open"),
            "is:closed" => wanted_state = Some("closed"),
            "in:title" => in_title = true,
            t if t == format!("repo:{}/{}", config.owner, config.name) => repo_ok = true,
            _ => return None,
        }
    }
    if !(repo_ok && issues_only && in_title) {
        return None;
    }
    let phrase = phrase?.to_lowercase();
    let items: Vec<Value> = state
        .issues
        .values()
        .rev()
        .filter(|i| wanted_state.is_none_or(|s| i.state == s))
        .filter(|i| i.title.to_lowercase().contains(phrase.trim()))
        .map(|i| issue_json(i, config))
        .collect();
    Some(answer(
        200,
        json!({"total_count": items.len(), "incomplete_results": false, "items": items}),
    ))
}
