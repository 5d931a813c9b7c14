//! `repin serve` run as a process: signed webhook deliveries (as GitHub sends them) make it run
//! `repin pr --clone` for the repository, against the GitHub stand-in (GitHub cannot be reached
//! from here; see `support::github`), a real bare repository served by `git daemon`, and
//! pypiserver. Bad signatures are refused; events it has nothing to do for are acknowledged.

use crate::support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::git;
use support::github::GitHubMock;
use support::pypiserver::{PypiServer, free_port, write_wheel};
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

fn post(
    client: &reqwest::blocking::Client,
    url: &str,
    event: &str,
    body: &str,
    signature: Option<String>,
) -> (u16, String) {
    let mut request = client
        .post(url)
        .header("x-github-event", event)
        .header("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
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
    _server: Server,
    _daemon: GitDaemon,
    _pypi: PypiServer,
    _dirs: Vec<tempfile::TempDir>,
}

fn world(app: Option<(String, Vec<u8>)>, args: &[&str], env: &[(&str, &str)]) -> World {
    let packages = tempfile::tempdir().unwrap();
    write_wheel(packages.path(), "flask", "2.2.2", None);
    write_wheel(packages.path(), "flask", "2.2.5", None);
    let pypi = PypiServer::start(packages.path());
    let root = tempfile::tempdir().unwrap();
    git(
        root.path(),
        &["init", "-q", "--bare", "-b", "main", "service.git"],
    );
    let work = root.path().join("work");
    git(
        root.path(),
        &[
            "clone",
            "-q",
            root.path().join("service.git").to_str().unwrap(),
            "work",
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

    let github =
        GitHubMock::start_with_app("acme/service", TOKEN, root.path().join("service.git"), app);
    let daemon = GitDaemon::start(root.path());
    let port = free_port();
    let home = tempfile::tempdir().unwrap();
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_repin"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--repo", "acme/service", "--api-url", &github.url])
            .args([
                "--remote-template",
                &format!("git://127.0.0.1:{}/{{name}}.git", daemon.port),
            ])
            .args(args)
            .env_clear()
            .env("HOME", home.path())
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("PIP_CONFIG_FILE", "/dev/null")
            .env("REPIN_CACHE_DIR", home.path().join("cache"))
            .env("REPIN_WEBHOOK_SECRET", SECRET)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .expect("repin serve starts"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::blocking::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.get(format!("{base}/healthz")).send().is_err() {
        assert!(Instant::now() < deadline, "repin serve did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    World {
        github,
        base,
        _server: server,
        _daemon: daemon,
        _pypi: pypi,
        _dirs: vec![packages, root, home],
    }
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
    std::thread::sleep(Duration::from_millis(500));
    assert!(world.github.pulls().is_empty(), "nothing ran yet");

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
