//! `repin serve` run as a process: signed webhook deliveries (as GitHub sends them) make it run
//! `repin pr --clone` for the repository, against the GitHub stand-in (GitHub cannot be reached
//! from here; see `support::github`), a real bare repository served by `git daemon`, and
//! pypiserver. Bad signatures are refused; events it has nothing to do for are acknowledged.

use crate::support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::git;
use support::github::GitHubMock;
use support::pypiserver::{PypiServer, write_wheel};
use support::shared::GitDaemon;

const SECRET: &str = "webhook-secret-for-tests";
const TOKEN: &str = "ghs_servetesttoken";

/// The server process, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Deliver `body` as GitHub does, with a delivery id of its own.
fn post(
    client: &reqwest::blocking::Client,
    url: &str,
    event: &str,
    body: &str,
    signature: Option<String>,
) -> (u16, String) {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let id = format!(
        "72d3162e-cc78-11e3-81ab-{:012x}",
        u64::from(std::process::id()) * 1_000_000 + n
    );
    post_with_id(client, url, event, body, signature, &id)
}

/// Deliver `body` with the delivery id `id` (GitHub's redelivery keeps the id).
fn post_with_id(
    client: &reqwest::blocking::Client,
    url: &str,
    event: &str,
    body: &str,
    signature: Option<String>,
    id: &str,
) -> (u16, String) {
    let mut request = client
        .post(url)
        .header("x-github-event", event)
        .header("x-github-delivery", id)
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(signature) = signature {
        request = request.header("x-hub-signature-256", signature);
    }
    let response = request.send().expect("the server answers");
    (response.status().as_u16(), response.text().unwrap())
}

fn sign(body: &str) -> Option<String> {
    Some(repin::serve::webhook::sign(
        SECRET.as_bytes(),
        body.as_bytes(),
    ))
}

/// A repository on `git daemon` with one outdated pin, pypiserver, the GitHub stand-in (with
/// an App installed when `app` is given), and `repin serve` started with `args` and `env`.
struct World {
    github: GitHubMock,
    base: String,
    /// The server's standard error.
    log: std::path::PathBuf,
    _server: Server,
    _daemon: GitDaemon,
    _pypi: PypiServer,
    _dirs: Vec<tempfile::TempDir>,
}

fn world(app: Option<(String, Vec<u8>)>, args: &[&str], env: &[(&str, &str)]) -> World {
    world_with(app, args, env, |daemon| {
        format!("git://127.0.0.1:{}/{{name}}.git", daemon.port)
    })
}

/// [`world`] with the remote template made from the `git daemon` serving the repository.
fn world_with(
    app: Option<(String, Vec<u8>)>,
    args: &[&str],
    env: &[(&str, &str)],
    template: impl FnOnce(&GitDaemon) -> String,
) -> World {
    let packages = tempfile::tempdir().unwrap();
    write_wheel(packages.path(), "flask", "2.2.2", None);
    write_wheel(packages.path(), "flask", "2.2.5", None);
    let pypi = PypiServer::start(packages.path());
    let root = tempfile::tempdir().unwrap();
    let bare = outdated_repository(root.path(), "service", &pypi);

    let github = GitHubMock::start_with_app("acme/service", TOKEN, bare, app);
    let daemon = GitDaemon::start(root.path());
    let home = tempfile::tempdir().unwrap();
    let template = template(&daemon);
    let mut full = vec!["--repo", "acme/service", "--api-url", &github.url];
    full.extend(["--remote-template", &template]);
    full.extend_from_slice(args);
    let (mut server, log) = serve(home.path(), &full, env);
    let base = support::serve::listening(&mut server.0, &log);
    World {
        github,
        base,
        log,
        _server: server,
        _daemon: daemon,
        _pypi: pypi,
        _dirs: vec![packages, root, home],
    }
}

/// `repin serve --listen 127.0.0.1:0 ARGS` with a clean environment, `home` as its home and
/// cache, the webhook secret and `env`; its log (stderr) goes to `home/serve.log`.
fn serve(
    home: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Server, std::path::PathBuf) {
    let log = home.join("serve.log");
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_repin"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .env_clear()
            .env("HOME", home)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("PIP_CONFIG_FILE", "/dev/null")
            .env("REPIN_CACHE_DIR", home.join("cache"))
            .env("REPIN_WEBHOOK_SECRET", SECRET)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("repin serve starts"),
    );
    (server, log)
}

/// [`serve`] as the App 4242 with key `pem`, for every repository of its installations (no
/// `--repo`), cloning from `daemon`, with `args`.
fn serve_app(
    home: &std::path::Path,
    github: &GitHubMock,
    pem: &std::path::Path,
    daemon: &GitDaemon,
    args: &[&str],
) -> (Server, std::path::PathBuf) {
    let template = format!("git://127.0.0.1:{}/{{name}}.git", daemon.port);
    let mut full = vec!["--api-url", github.url.as_str(), "--app-id", "4242"];
    full.extend(["--app-key-file", pem.to_str().unwrap()]);
    full.extend(["--remote-template", template.as_str()]);
    full.extend_from_slice(args);
    serve(home, &full, &[])
}

fn push(reference: &str, repository: &str) -> String {
    format!(
        r#"{{"ref":"{reference}","before":"0000","after":"1111","repository":{{"full_name":"{repository}","default_branch":"main"}},"pusher":{{"name":"dev"}}}}"#
    )
}

/// Wait until the stand-in has an open pull request, and return it.
fn opened(github: &GitHubMock) -> support::github::Pull {
    let deadline = Instant::now() + Duration::from_secs(60);
    while github.open_pulls().is_empty() {
        assert!(Instant::now() < deadline, "no pull request was opened");
        std::thread::sleep(Duration::from_millis(200));
    }
    let pulls = github.open_pulls();
    assert_eq!(pulls.len(), 1);
    assert!(github.with(|s| s.unexpected.is_empty()));
    pulls[0].clone()
}

#[test]
fn signed_deliveries_run_repin_for_served_repositories() {
    let world = world(None, &[], &[("GITHUB_TOKEN", TOKEN)]);
    let client = reqwest::blocking::Client::new();
    let webhook = format!("{}/webhook", world.base);

    // Unsigned or wrongly signed: refused, and nothing runs.
    let body = push("refs/heads/main", "acme/service");
    assert_eq!(post(&client, &webhook, "push", &body, None).0, 401);
    let forged = Some(repin::serve::webhook::sign(b"guess", body.as_bytes()));
    assert_eq!(post(&client, &webhook, "push", &body, forged).0, 401);
    // GitHub's ping, another repository, repin's own pushes: acknowledged, nothing to do.
    assert_eq!(post(&client, &webhook, "ping", "{}", sign("{}")).0, 200);
    let other = push("refs/heads/main", "acme/other");
    let (status, text) = post(&client, &webhook, "push", &other, sign(&other));
    assert_eq!(status, 200);
    assert!(text.contains("acme/other is not served"), "{text}");
    let own = push("refs/heads/repin/requirements.txt/flask", "acme/service");
    assert_eq!(post(&client, &webhook, "push", &own, sign(&own)).0, 200);
    // Not the documented payload.
    assert_eq!(post(&client, &webhook, "push", "[]", sign("[]")).0, 400);
    // Past GitHub's 25 MB cap: refused before the signature is even checked.
    let huge = " ".repeat(25 * 1024 * 1024 + 1);
    let (status, text) = post(&client, &webhook, "push", &huge, sign("{}"));
    assert_eq!((status, text.contains("25 MB")), (413, true), "{text}");
    // Other paths and methods: JSON errors.
    let answer = |request: reqwest::blocking::RequestBuilder| {
        let response = request.send().unwrap();
        (response.status().as_u16(), response.text().unwrap())
    };
    let (status, text) = answer(client.get(&webhook));
    assert_eq!(status, 405, "{text}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["error"],
        "method not allowed"
    );
    let (status, text) = answer(client.get(format!("{}/nothing", world.base)));
    assert_eq!((status, text.as_str()), (404, r#"{"error":"not found"}"#));
    // A delivery is stored before it is answered: none of these queued a job, so none runs.
    let (status, metrics) = answer(client.get(format!("{}/metrics", world.base)));
    assert_eq!(status, 200);
    for line in [
        "\nrepin_jobs_queued 0\n",
        "\nrepin_jobs_running 0\n",
        "\nrepin_jobs_started_total 0\n",
        "repin_deliveries_total{result=\"refused\"} 2\n",
        "repin_deliveries_total{result=\"ignored\"} 2\n",
    ] {
        assert!(metrics.contains(line), "{line:?} not in\n{metrics}");
    }

    // A signed push to the default branch: a run, which opens the pull request.
    let (status, text) = post(&client, &webhook, "push", &body, sign(&body));
    assert_eq!(status, 202, "{text}");
    let pull = opened(&world.github);
    assert_eq!(pull.title, "Update flask to 2.2.5");
    assert_eq!(pull.head, "repin/requirements.txt/flask");
}

#[test]
fn as_a_github_app_each_run_gets_an_installation_token() {
    // A throwaway App key (PKCS#1, as GitHub issues them) and its public half for the stand-in.
    let keys = tempfile::tempdir().unwrap();
    let (pem, public) = support::shared::rsa_key(keys.path());
    // No GITHUB_TOKEN: the only way to GitHub is the App's JWT, exchanged per run.
    let world = world(
        Some(("4242".into(), public)),
        &["--app-id", "4242", "--app-key-file", pem.to_str().unwrap()],
        &[],
    );
    let client = reqwest::blocking::Client::new();
    let body = push("refs/heads/main", "acme/service");
    let (status, text) = post(
        &client,
        &format!("{}/webhook", world.base),
        "push",
        &body,
        sign(&body),
    );
    assert_eq!(status, 202, "{text}");
    let pull = opened(&world.github);
    assert_eq!(pull.title, "Update flask to 2.2.5");
    let asked: Vec<String> = world.github.with(|s| {
        s.requests
            .iter()
            .filter(|r| r.target.contains("installation"))
            .map(|r| format!("{} {}", r.method, r.target))
            .collect()
    });
    assert_eq!(
        asked,
        [
            "GET /repos/acme/service/installation",
            "POST /app/installations/42/access_tokens"
        ]
    );
}

impl World {
    /// The server's log so far.
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A relay in front of `git daemon` that holds every connection for a repository whose path
/// contains `stuck` without ever answering, as a hung fetch does; the others pass through.
fn hanging_relay(daemon_port: u16) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            std::thread::spawn(move || {
                // git's first pkt-line: four hex digits of length, then the request.
                let mut length = [0u8; 4];
                if client.read_exact(&mut length).is_err() {
                    return;
                }
                let size = usize::from_str_radix(std::str::from_utf8(&length).unwrap_or("0"), 16)
                    .unwrap_or(4)
                    .max(4);
                let mut line = vec![0u8; size - 4];
                if client.read_exact(&mut line).is_err() {
                    return;
                }
                if String::from_utf8_lossy(&line).contains("stuck") {
                    std::thread::sleep(Duration::from_secs(300));
                    return;
                }
                let Ok(mut upstream) = std::net::TcpStream::connect(("127.0.0.1", daemon_port))
                else {
                    return;
                };
                let _ = upstream.write_all(&length);
                let _ = upstream.write_all(&line);
                let (mut up_read, mut client_write) =
                    (upstream.try_clone().unwrap(), client.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut up_read, &mut client_write);
                    let _ = client_write.shutdown(std::net::Shutdown::Both);
                });
                let _ = std::io::copy(&mut client, &mut upstream);
                let _ = upstream.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    port
}

fn deliver_push(world: &World, repository: &str) {
    let client = reqwest::blocking::Client::new();
    let body = push("refs/heads/main", repository);
    let (status, text) = post(
        &client,
        &format!("{}/webhook", world.base),
        "push",
        &body,
        sign(&body),
    );
    assert_eq!(status, 202, "{text}");
}

/// Issue 14, defect 5: one hung `git` fetch held the only worker, and every repository behind
/// it waited forever. With two workers the other repository is served while one run hangs.
#[test]
fn a_hung_run_does_not_hold_the_other_workers() {
    let world = world_with(
        None,
        &["--repo", "acme/stuck", "--workers", "2"],
        &[("GITHUB_TOKEN", TOKEN)],
        |daemon| {
            format!(
                "git://127.0.0.1:{}/{{name}}.git",
                hanging_relay(daemon.port)
            )
        },
    );
    deliver_push(&world, "acme/stuck");
    std::thread::sleep(Duration::from_millis(300));
    deliver_push(&world, "acme/service");
    let pull = opened(&world.github);
    assert_eq!(pull.title, "Update flask to 2.2.5");
    let log = world.log();
    assert!(
        log.contains("serve: acme/stuck: run started")
            && !log
                .lines()
                .any(|l| l.contains(" serve: acme/stuck:") && !l.contains("run started")),
        "the stuck run is still going:\n{log}"
    );
}

/// Issue 14, defect 5: a run that outlasts `--job-timeout` is killed, and the worker goes on
/// with the next repository.
#[test]
fn a_run_past_the_job_timeout_is_killed() {
    let world = world_with(
        None,
        &[
            "--repo",
            "acme/stuck",
            "--workers",
            "1",
            "--job-timeout",
            "2s",
        ],
        &[("GITHUB_TOKEN", TOKEN)],
        |daemon| {
            format!(
                "git://127.0.0.1:{}/{{name}}.git",
                hanging_relay(daemon.port)
            )
        },
    );
    deliver_push(&world, "acme/stuck");
    std::thread::sleep(Duration::from_millis(300));
    deliver_push(&world, "acme/service");
    let pull = opened(&world.github);
    assert_eq!(pull.title, "Update flask to 2.2.5");
    let log = world.log();
    let line = log
        .lines()
        .find(|l| l.contains("serve: acme/stuck: run timed out after 2 s and was killed"))
        .unwrap_or_else(|| panic!("{log}"));
    // The text log: a UTC timestamp, the level, the message.
    let (timestamp, rest) = line.split_once(' ').unwrap();
    assert!(timestamp.parse::<jiff::Timestamp>().is_ok(), "{line}");
    assert!(rest.trim_start().starts_with("WARN serve:"), "{line}");
}

/// Issue 14, defect 5: an `accept()` error (here: out of file descriptors) looped without a
/// pause, logging as fast as it could. It backs off, and the server serves again once
/// descriptors are free.
#[test]
fn accept_errors_back_off() {
    let world = world(None, &[], &[("GITHUB_TOKEN", TOKEN)]);
    let pid = i32::try_from(world._server.0.id()).expect("a pid");
    // Lower the server's descriptor limit to what it uses now plus a few.
    let open = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count() as u64;
    let limit = libc::rlimit {
        rlim_cur: open + 4,
        rlim_max: open + 4,
    };
    // SAFETY: prlimit(2) on another process with a valid rlimit; no memory is shared.
    let set = unsafe { libc::prlimit(pid, libc::RLIMIT_NOFILE, &limit, std::ptr::null_mut()) };
    assert_eq!(set, 0, "prlimit: {}", std::io::Error::last_os_error());
    let held: Vec<_> = (0..16)
        .filter_map(|_| std::net::TcpStream::connect(world.base.trim_start_matches("http://")).ok())
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let failures = world
        .log()
        .lines()
        .filter(|l| l.contains(" serve: cannot accept a connection"))
        .count();
    assert!(failures >= 1, "accept() never failed:\n{}", world.log());
    assert!(
        failures < 30,
        "{failures} accept() failures logged in 2 s: no back-off"
    );
    drop(held);
    let raised = libc::rlimit {
        rlim_cur: 1024,
        rlim_max: 1024,
    };
    // SAFETY: as above.
    unsafe { libc::prlimit(pid, libc::RLIMIT_NOFILE, &raised, std::ptr::null_mut()) };
    let client = reqwest::blocking::Client::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if client
            .get(format!("{}/healthz", world.base))
            .send()
            .is_ok_and(|r| r.status() == 200)
        {
            break;
        }
        assert!(Instant::now() < deadline, "the server did not recover");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The queue is durable: on SIGTERM a running job is given back after the grace period and the
/// process exits; the deliveries stored before (one running, one queued) are run by the next
/// process on the same SQLite database, none lost.
#[test]
fn a_restart_loses_no_stored_delivery() {
    let database = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", database.path().join("queue.sqlite").display());
    let relay = std::sync::OnceLock::new();
    let mut world = world_with(
        None,
        &[
            "--repo",
            "acme/stuck",
            "--workers",
            "1",
            "--shutdown-grace",
            "1s",
            "--database",
            &url,
        ],
        &[("GITHUB_TOKEN", TOKEN)],
        |daemon| {
            let port = *relay.get_or_init(|| hanging_relay(daemon.port));
            format!("git://127.0.0.1:{port}/{{name}}.git")
        },
    );
    deliver_push(&world, "acme/stuck");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !world.log().contains("serve: acme/stuck: run started") {
        assert!(Instant::now() < deadline, "{}", world.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    deliver_push(&world, "acme/service");
    // SIGTERM: the stuck run gets its grace period, then is killed and given back.
    let pid = i32::try_from(world._server.0.id()).expect("a pid");
    // SAFETY: kill(2) on our own child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = world._server.0.wait().unwrap();
    assert!(status.success(), "{status}\n{}", world.log());
    let log = world.log();
    assert!(
        log.contains("serve: acme/stuck: run killed at shutdown; the job is given back"),
        "{log}"
    );
    assert!(log.contains("serve: stopped"), "{log}");
    assert!(
        world.github.pulls().is_empty(),
        "the service's run never started"
    );

    // The next process, on the same database: both jobs are there; with two workers the
    // service's run is made beside the stuck one.
    let home = tempfile::tempdir().unwrap();
    let log = home.path().join("serve.log");
    world._server = Server(
        Command::new(env!("CARGO_BIN_EXE_repin"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(["--repo", "acme/service", "--repo", "acme/stuck"])
            .args(["--api-url", &world.github.url, "--workers", "2"])
            .args(["--database", &url])
            .args([
                "--remote-template",
                &format!("git://127.0.0.1:{}/{{name}}.git", relay.get().unwrap()),
            ])
            .env_clear()
            .env("HOME", home.path())
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("PIP_CONFIG_FILE", "/dev/null")
            .env("REPIN_WEBHOOK_SECRET", SECRET)
            .env("GITHUB_TOKEN", TOKEN)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let pull = opened(&world.github);
    assert_eq!(pull.title, "Update flask to 2.2.5");
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("serve: acme/stuck: run started"), "{log}");
}

/// `--log-format json`: every line of the log is a JSON object with a timestamp and a level;
/// the lines about a run name its repository and job, and the run's own output is wrapped so.
#[test]
fn a_json_log_names_the_repository_and_the_job() {
    let world = world(None, &["--log-format", "json"], &[("GITHUB_TOKEN", TOKEN)]);
    deliver_push(&world, "acme/service");
    opened(&world.github);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !world.log().contains("run done") {
        assert!(Instant::now() < deadline, "{}", world.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    let lines: Vec<serde_json::Value> = world
        .log()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .all(|l| l["timestamp"].is_string() && l["level"].is_string())
    );
    let started = lines
        .iter()
        .find(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("run started"))
        })
        .expect("a run started");
    assert_eq!(started["repository"], "acme/service");
    let job = started["job"].as_str().unwrap();
    let from_the_run: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["source"] == "run").collect();
    assert!(!from_the_run.is_empty(), "{lines:?}");
    assert!(
        from_the_run
            .iter()
            .all(|l| l["job"] == job && l["repository"] == "acme/service")
    );
    assert!(
        from_the_run
            .iter()
            .any(|l| l["message"].as_str().unwrap().contains("1 created")),
        "{from_the_run:?}"
    );
}

/// A bare repository `NAME.git` under `root` with one outdated pin (flask 2.2.2 on `pypi`).
fn outdated_repository(
    root: &std::path::Path,
    name: &str,
    pypi: &PypiServer,
) -> std::path::PathBuf {
    let bare = root.join(format!("{name}.git"));
    git(
        root,
        &["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()],
    );
    let work = root.join(format!("{name}-work"));
    git(
        root,
        &[
            "clone",
            "-q",
            bare.to_str().unwrap(),
            work.to_str().unwrap(),
        ],
    );
    git(&work, &["checkout", "-q", "-b", "main"]);
    std::fs::write(
        work.join("repin.toml"),
        format!(
            "[python]\nversion = \"3.12\"\n\n[[indexes]]\nurl = \"{}\"\nprimary = true\n\n[advisories]\nsource = \"off\"\n",
            pypi.index_url()
        ),
    )
    .unwrap();
    std::fs::write(work.join("requirements.txt"), "flask==2.2.2\n").unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "Initial commit"]);
    git(&work, &["push", "-q", "origin", "main"]);
    bare
}

/// Wait until `repository` has an open pull request on the stand-in, and return it.
fn opened_in(github: &GitHubMock, repository: &str) -> support::github::Pull {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let open: Vec<support::github::Pull> = github.with_repo(repository, |s| {
            s.pulls
                .values()
                .filter(|p| p.state == "open")
                .cloned()
                .collect()
        });
        if let [pull] = open.as_slice() {
            return pull.clone();
        }
        assert!(open.is_empty(), "{repository}: {open:?}");
        assert!(
            Instant::now() < deadline,
            "no pull request was opened in {repository}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Issue 14: as a GitHub App without `--repo`, every repository of every installation is
/// served: the installations are listed with the App's JWT and each one's repositories with a
/// token of that installation (a suspended one has none); `installation_repositories` and
/// `installation` deliveries add and remove repositories at once; deliveries for repositories
/// no installation has are ignored.
#[test]
fn as_an_app_without_repo_every_installed_repository_is_served() {
    let packages = tempfile::tempdir().unwrap();
    write_wheel(packages.path(), "flask", "2.2.2", None);
    write_wheel(packages.path(), "flask", "2.2.5", None);
    let pypi = PypiServer::start(packages.path());
    let root = tempfile::tempdir().unwrap();
    let names = ["acme/service", "acme/worker", "bolt/tool", "bolt/later"];
    let served: Vec<(String, std::path::PathBuf)> = names
        .iter()
        .map(|full| {
            let name = full.split('/').nth(1).unwrap();
            (
                full.to_string(),
                outdated_repository(root.path(), name, &pypi),
            )
        })
        .collect();
    let keys = tempfile::tempdir().unwrap();
    let (pem, public) = support::shared::rsa_key(keys.path());
    let github = GitHubMock::start_fleet(&served, TOKEN, Some(("4242".into(), public)));
    github.with_installations(|installations| {
        installations.clear();
        let installation =
            |account: &str, repositories: &[&str], suspended: bool| support::github::Installation {
                account: account.into(),
                repositories: repositories
                    .iter()
                    .map(std::string::ToString::to_string)
                    .collect(),
                suspended,
            };
        installations.insert(
            7,
            installation("acme", &["acme/service", "acme/worker"], false),
        );
        installations.insert(8, installation("bolt", &["bolt/tool"], false));
        // Suspended: its tokens are refused, so it is not asked for one.
        installations.insert(9, installation("cove", &["cove/app"], true));
    });
    let daemon = GitDaemon::start(root.path());
    let home = tempfile::tempdir().unwrap();
    // No --repo and no GITHUB_TOKEN: the App's JWT is the only way to GitHub.
    let (mut server, log) = serve_app(home.path(), &github, &pem, &daemon, &[]);
    let base = support::serve::listening(&mut server.0, &log);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("serve: the App's 3 installations have 3 repositories"),
        "{text}"
    );
    assert!(
        text.contains("for every repository of the App's installations"),
        "{text}"
    );
    let asked: Vec<String> = github.with(|s| {
        s.requests
            .iter()
            .map(|r| format!("{} {}", r.method, r.target))
            .collect()
    });
    assert_eq!(
        asked,
        [
            "GET /app/installations?per_page=100",
            "POST /app/installations/7/access_tokens",
            "GET /installation/repositories?per_page=100",
            "POST /app/installations/8/access_tokens",
            "GET /installation/repositories?per_page=100",
        ]
    );

    let client = reqwest::blocking::Client::new();
    let webhook = format!("{base}/webhook");
    let deliver = |event: &str, body: &str| post(&client, &webhook, event, body, sign(body));
    // Installed repositories of both installations are served; another is not.
    for repository in ["acme/worker", "bolt/tool"] {
        let (status, text) = deliver("push", &push("refs/heads/main", repository));
        assert_eq!(status, 202, "{repository}: {text}");
    }
    let (status, text) = deliver("push", &push("refs/heads/main", "bolt/later"));
    assert_eq!(status, 200);
    assert!(text.contains("bolt/later is not served"), "{text}");
    for repository in ["acme/worker", "bolt/tool"] {
        let pull = opened_in(&github, repository);
        assert_eq!(pull.title, "Update flask to 2.2.5");
    }

    // bolt/later is added to installation 8 in GitHub's settings: served at once.
    github.with_installations(|i| {
        i.get_mut(&8)
            .unwrap()
            .repositories
            .push("bolt/later".into());
    });
    let added = r#"{"action":"added","installation":{"id":8,"account":{"login":"bolt"}},"repository_selection":"selected","repositories_added":[{"id":4,"name":"later","full_name":"bolt/later","private":true}],"repositories_removed":[],"sender":{"login":"admin"}}"#;
    let (status, text) = deliver("installation_repositories", added);
    assert_eq!(status, 200, "{text}");
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["serving"], serde_json::json!(["bolt/later"]));
    let (status, text) = deliver("push", &push("refs/heads/main", "bolt/later"));
    assert_eq!(status, 202, "{text}");
    assert_eq!(
        opened_in(&github, "bolt/later").title,
        "Update flask to 2.2.5"
    );

    // acme/worker is removed from installation 7, then the App is uninstalled from acme:
    // neither of acme's repositories is served any more.
    let removed = r#"{"action":"removed","installation":{"id":7,"account":{"login":"acme"}},"repository_selection":"selected","repositories_added":[],"repositories_removed":[{"id":2,"name":"worker","full_name":"acme/worker","private":true}],"sender":{"login":"admin"}}"#;
    let (status, text) = deliver("installation_repositories", removed);
    assert_eq!(status, 200, "{text}");
    let (status, text) = deliver("push", &push("refs/heads/main", "acme/worker"));
    assert_eq!(status, 200);
    assert!(text.contains("acme/worker is not served"), "{text}");
    let deleted = r#"{"action":"deleted","installation":{"id":7,"account":{"login":"acme"}},"repositories":[{"id":1,"name":"service","full_name":"acme/service","private":true}],"sender":{"login":"admin"}}"#;
    let (status, text) = deliver("installation", deleted);
    assert_eq!(status, 200, "{text}");
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        answer["no_longer_serving"],
        serde_json::json!(["acme/service"])
    );
    let (status, text) = deliver("push", &push("refs/heads/main", "acme/service"));
    assert_eq!(status, 200);
    assert!(text.contains("acme/service is not served"), "{text}");
    assert!(github.with_repo("acme/service", |s| s.pulls.is_empty()));

    // Every request was one GitHub documents, made with the credentials it takes.
    for repository in names {
        let unexpected = github.with_repo(repository, |s| s.unexpected.clone());
        assert!(unexpected.is_empty(), "{repository}: {unexpected:?}");
    }
    let asked: Vec<String> = github.with(|s| {
        s.requests
            .iter()
            .map(|r| format!("{} {}", r.method, r.target))
            .collect()
    });
    assert!(
        !asked.iter().any(|r| r.contains("/app/installations/9/")),
        "a suspended installation was asked for a token: {asked:?}"
    );
}

/// Issue 14: `@repin rebase` in a comment on one of repin's pull requests (known by the marker
/// in its body, as GitHub's `issue_comment` payload carries no head branch) queues a run of the
/// repository that carries the command out (the branch is rebased and the pull request answered),
/// when the commenter is an owner, member or collaborator; anyone else's command is ignored with
/// a line in the log.
#[test]
fn comment_commands_queue_a_run_from_people_with_write_access() {
    let world = world(None, &[], &[("GITHUB_TOKEN", TOKEN)]);
    deliver_push(&world, "acme/service");
    let pull = opened(&world.github);
    let wait_for = |text: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !world.log().contains(text) {
            assert!(Instant::now() < deadline, "no {text:?} in\n{}", world.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_for("run done");
    let comment = |association: &str| {
        serde_json::json!({
            "action": "created",
            "issue": {
                "number": pull.number, "title": pull.title, "body": pull.body, "state": "open",
                "pull_request": {"url": format!("{}/repos/acme/service/pulls/{}", world.github.url, pull.number)},
                "user": {"login": "repin-test[bot]"}
            },
            "comment": {"id": 7, "body": "@repin rebase", "author_association": association, "user": {"login": "mallory"}},
            "repository": {"full_name": "acme/service", "default_branch": "main"},
            "sender": {"login": "mallory"}
        })
        .to_string()
    };
    let client = reqwest::blocking::Client::new();
    let webhook = format!("{}/webhook", world.base);
    let body = comment("CONTRIBUTOR");
    let (status, text) = post(&client, &webhook, "issue_comment", &body, sign(&body));
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains("only its owners, members and collaborators"),
        "{text}"
    );
    wait_for(&format!(
        "ignored: @repin rebase on #{} (repin/requirements.txt/flask) by mallory, whose association with the repository is CONTRIBUTOR",
        pull.number
    ));
    // main moves (with no push delivery): only the command makes the run now.
    let work = world._dirs[1].path().join("service-work");
    std::fs::write(work.join("README.md"), "# service\n").unwrap();
    git(&work, &["add", "README.md"]);
    git(&work, &["commit", "-q", "-m", "Add a README"]);
    git(&work, &["push", "-q", "origin", "main"]);
    let main = String::from_utf8(
        std::process::Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(&work)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let body = comment("COLLABORATOR");
    let (status, text) = post(&client, &webhook, "issue_comment", &body, sign(&body));
    assert_eq!(status, 202, "{text}");
    wait_for(&format!(
        "serve: acme/service: run started (@repin rebase on #{} (repin/requirements.txt/flask) by mallory",
        pull.number
    ));
    let deadline = Instant::now() + Duration::from_secs(60);
    while world.log().matches("run done").count() < 2 {
        assert!(Instant::now() < deadline, "{}", world.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(world.github.open_pulls().len(), 1);
    // The run was told to rebase that branch (`repin pr --rebase`), did, and said so on the
    // pull request.
    let answers = world.github.with(|s| s.comments.clone());
    assert_eq!(
        answers,
        [(pull.number, format!("Rebased on `main` ({}).", &main[..12]))]
    );
    assert!(world.github.with(|s| s.unexpected.is_empty()));
}

/// Issue 14: the App's installations are listed again every `--every` period, so an
/// installation whose `installation` delivery never came is served all the same; and each
/// repository's scheduled run comes at its own point of the interval. (A minute is the shortest
/// `--every`: this test waits for one listing period.)
#[test]
fn installations_are_listed_again_every_period() {
    let packages = tempfile::tempdir().unwrap();
    write_wheel(packages.path(), "flask", "2.2.2", None);
    write_wheel(packages.path(), "flask", "2.2.5", None);
    let pypi = PypiServer::start(packages.path());
    let root = tempfile::tempdir().unwrap();
    let served: Vec<(String, std::path::PathBuf)> =
        [("acme/service", "service"), ("bolt/tool", "tool")]
            .iter()
            .map(|(full, name)| {
                (
                    full.to_string(),
                    outdated_repository(root.path(), name, &pypi),
                )
            })
            .collect();
    let keys = tempfile::tempdir().unwrap();
    let (pem, public) = support::shared::rsa_key(keys.path());
    let github = GitHubMock::start_fleet(&served, TOKEN, Some(("4242".into(), public)));
    let installation = |account: &str, repository: &str| support::github::Installation {
        account: account.into(),
        repositories: vec![repository.into()],
        suspended: false,
    };
    github.with_installations(|i| {
        i.clear();
        i.insert(7, installation("acme", "acme/service"));
    });
    let daemon = GitDaemon::start(root.path());
    let home = tempfile::tempdir().unwrap();
    let (mut server, log) = serve_app(
        home.path(),
        &github,
        &pem,
        &daemon,
        &["--every", "1 minute"],
    );
    let base = support::serve::listening(&mut server.0, &log);
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        read().contains("the App's 1 installations have 1 repositories"),
        "{}",
        read()
    );
    // Installed on bolt in GitHub, and its delivery lost: the next listing finds it.
    github.with_installations(|i| i.insert(8, installation("bolt", "bolt/tool")));
    let client = reqwest::blocking::Client::new();
    let body = push("refs/heads/main", "bolt/tool");
    let (status, text) = post(
        &client,
        &format!("{base}/webhook"),
        "push",
        &body,
        sign(&body),
    );
    assert_eq!(status, 200, "not served before the listing: {text}");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !read().contains("the App's 2 installations have 2 repositories: serving 1 more, 0 fewer")
    {
        assert!(Instant::now() < deadline, "not listed again:\n{}", read());
        std::thread::sleep(Duration::from_millis(500));
    }
    let (status, text) = post(
        &client,
        &format!("{base}/webhook"),
        "push",
        &body,
        sign(&body),
    );
    assert_eq!(status, 202, "{text}");
    assert_eq!(
        opened_in(&github, "bolt/tool").title,
        "Update flask to 2.2.5"
    );
    // Within the first minute (and the schedule's next reading, every 10 s), acme/service has
    // its scheduled run at its point of it.
    while !read().contains("serve: acme/service: run started (schedule") {
        assert!(Instant::now() < deadline, "no scheduled run:\n{}", read());
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(
        opened_in(&github, "acme/service").title,
        "Update flask to 2.2.5"
    );
    for repository in ["acme/service", "bolt/tool"] {
        let unexpected = github.with_repo(repository, |s| s.unexpected.clone());
        assert!(unexpected.is_empty(), "{repository}: {unexpected:?}");
    }
}

/// Issue 14: an installation's GitHub API budget is shared through the database. Each run
/// reports what it asked of GitHub and the rate limit GitHub last gave (`x-ratelimit-*`); below
/// `--api-reserve`, the installation's next job waits for the window to reset instead of
/// starting, and `/metrics` shows the requests and what is left.
#[test]
fn a_spent_api_budget_defers_the_next_job_and_shows_in_the_metrics() {
    let world = world(None, &["--api-reserve", "5000"], &[("GITHUB_TOKEN", TOKEN)]);
    // GitHub's headers on every answer, 4000 of the 5000 left (5000 can never be kept back).
    world.github.with(|s| s.rate_remaining = Some(4000));
    let wait_for = |text: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !world.log().contains(text) {
            assert!(Instant::now() < deadline, "no {text:?} in\n{}", world.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    deliver_push(&world, "acme/service");
    wait_for("run done");
    let _ = opened(&world.github);
    deliver_push(&world, "acme/service");
    wait_for("deferred for");
    assert!(
        world.log().contains(
            "token has fewer than 5000 GitHub API requests left until its rate-limit window resets"
        ),
        "{}",
        world.log()
    );
    let metrics = reqwest::blocking::get(format!("{}/metrics", world.base))
        .unwrap()
        .text()
        .unwrap();
    let value = |name: &str| -> u64 {
        let prefix = format!("{name}{{installation=\"token\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{metrics}"))
            .parse()
            .unwrap()
    };
    let requests = value("repin_github_requests_total");
    let remaining = value("repin_github_rate_limit_remaining");
    let left = world.github.with(|s| s.rate_remaining.unwrap());
    assert!(requests > 0, "{metrics}");
    // What the stand-in counted down is what the run reported (the search API's own budget,
    // which GitHub names, is not the installation's).
    assert_eq!(remaining, left, "{metrics}");
    let sent: Vec<String> = world.github.with(|s| {
        s.requests
            .iter()
            .map(|r| format!("{} {}", r.method, r.target))
            .collect()
    });
    assert_eq!(sent.len() as u64, requests, "{metrics}\n{sent:#?}");
    assert!(
        metrics.contains("\nrepin_jobs_deferred_total 1\n"),
        "{metrics}"
    );
    // The deferred job did not run.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        world.log().matches("run started").count(),
        1,
        "{}",
        world.log()
    );
}
