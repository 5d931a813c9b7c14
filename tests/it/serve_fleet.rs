//! `repin serve` as a fleet: 50 repositories (bare repositories on `git daemon`, one GitHub
//! stand-in serving them all; see `support::github`), a real PostgreSQL as the shared queue
//! (`support::postgres`), and two `serve` processes. One is killed with SIGKILL in the middle
//! of a job and started again: every repository is processed, none twice at the same time, no
//! pull request or dashboard is opened twice, and no stored delivery is lost.

use crate::support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::git;
use support::github::GitHubMock;
use support::pypiserver::{PypiServer, write_wheel};
use support::shared::GitDaemon;

const SECRET: &str = "webhook-secret-for-the-fleet";
const TOKEN: &str = "ghs_fleettesttoken";
const REPOSITORIES: usize = 50;

/// A `repin serve` process, killed when dropped.
struct Server {
    child: Child,
    base: String,
    log: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(
        home: &Path,
        name: &str,
        github: &GitHubMock,
        daemon: &GitDaemon,
        database: &str,
        repositories: &[String],
    ) -> Server {
        let log = home.join(format!("{name}.log"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_repin"));
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(["--api-url", &github.url, "--database", database])
            .args(["--workers", "2", "--lease", "3s", "--job-timeout", "120s"])
            .args([
                "--remote-template",
                &format!("git://127.0.0.1:{}/{{name}}.git", daemon.port),
            ]);
        for repository in repositories {
            command.args(["--repo", repository]);
        }
        let mut child = command
            .env_clear()
            .env("HOME", home)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("PIP_CONFIG_FILE", "/dev/null")
            .env("REPIN_CACHE_DIR", home.join(format!("cache-{name}")))
            .env("REPIN_WEBHOOK_SECRET", SECRET)
            .env("GITHUB_TOKEN", TOKEN)
            .env("HOSTNAME", name)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("repin serve starts");
        let base = support::serve::listening(&mut child, &log);
        let client = reqwest::blocking::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !client
            .get(format!("{base}/readyz"))
            .send()
            .is_ok_and(|r| r.status() == 200)
        {
            assert!(
                Instant::now() < deadline,
                "repin serve {name} did not get ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Server { child, base, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Deliver a push to `repository`'s default branch with delivery id `id`.
    fn push(&self, repository: &str, id: &str) -> u16 {
        let body = format!(
            r#"{{"ref":"refs/heads/main","before":"0000","after":"1111","repository":{{"full_name":"{repository}","default_branch":"main"}},"pusher":{{"name":"dev"}}}}"#
        );
        reqwest::blocking::Client::new()
            .post(format!("{}/webhook", self.base))
            .header("x-github-event", "push")
            .header("x-github-delivery", id)
            .header("content-type", "application/json")
            .header(
                "x-hub-signature-256",
                repin::serve::webhook::sign(SECRET.as_bytes(), body.as_bytes()),
            )
            .body(body)
            .send()
            .expect("the server answers")
            .status()
            .as_u16()
    }
}

/// The repositories whose run started in `log` and did not end there.
fn running(log: &str) -> Vec<String> {
    let mut open: BTreeMap<String, i32> = BTreeMap::new();
    for line in log.lines() {
        // After the timestamp and the level.
        let Some((_, rest)) = line.split_once(" serve: ") else {
            continue;
        };
        let Some((repository, what)) = rest.split_once(": ") else {
            continue;
        };
        if repository.starts_with("acme/") {
            *open.entry(repository.to_owned()).or_default() += if what.starts_with("run started") {
                1
            } else {
                -1
            };
        }
    }
    open.into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(r, _)| r)
        .collect()
}

#[test]
fn two_servers_share_the_queue_and_a_killed_one_loses_nothing() {
    let packages = tempfile::tempdir().unwrap();
    write_wheel(packages.path(), "flask", "2.2.2", None);
    write_wheel(packages.path(), "flask", "2.2.5", None);
    let pypi = PypiServer::start(packages.path());
    let root = tempfile::tempdir().unwrap();
    git(
        root.path(),
        &["init", "-q", "--bare", "-b", "main", "seed.git"],
    );
    let work = root.path().join("work");
    git(
        root.path(),
        &[
            "clone",
            "-q",
            root.path().join("seed.git").to_str().unwrap(),
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
    let mut served = Vec::new();
    for i in 0..REPOSITORIES {
        let name = format!("r{i:02}");
        git(
            root.path(),
            &["clone", "-q", "--bare", "seed.git", &format!("{name}.git")],
        );
        served.push((
            format!("acme/{name}"),
            root.path().join(format!("{name}.git")),
        ));
    }
    let repositories: Vec<String> = served.iter().map(|(r, _)| r.clone()).collect();
    let github = GitHubMock::start_fleet(&served, TOKEN, None);
    let daemon = GitDaemon::start(root.path());
    let postgres = support::postgres::Postgres::start();
    let home = tempfile::tempdir().unwrap();
    let start = |name: &str| {
        Server::start(
            home.path(),
            name,
            &github,
            &daemon,
            &postgres.url,
            &repositories,
        )
    };
    let mut a = start("a");
    let b = start("b");

    // Every repository's push, alternately to each server; each delivered again (GitHub's
    // redelivery keeps the id) to the other one, which queues nothing.
    for (i, repository) in repositories.iter().enumerate() {
        let id = format!("delivery-{i}");
        let (first, second) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        assert_eq!(first.push(repository, &id), 202, "{repository}");
        assert_eq!(
            second.push(repository, &id),
            200,
            "{repository} redelivered"
        );
    }

    // SIGKILL `a` in the middle of a job.
    let deadline = Instant::now() + Duration::from_secs(120);
    let interrupted = loop {
        let running = running(&a.log());
        if !running.is_empty() {
            break running;
        }
        assert!(
            Instant::now() < deadline,
            "a never started a run:\n{}",
            a.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    eprintln!("killed a while it ran {interrupted:?}");
    // Started again on the same database: it goes on with what is queued.
    let a2 = start("a2");

    let done = |repository: &str| {
        github.with_repo(repository, |s| {
            s.pulls.values().any(|p| p.state == "open") && !s.issues.is_empty()
        })
    };
    let deadline = Instant::now() + Duration::from_secs(400);
    while !repositories.iter().all(|r| done(r)) {
        assert!(
            Instant::now() < deadline,
            "not every repository was processed:\n--- a\n{}\n--- b\n{}\n--- a2\n{}",
            a.log(),
            b.log(),
            a2.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    // Let any run still going end before counting.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let queue = runtime
        .block_on(repin::queue::Queue::open(&postgres.url))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let counts = runtime.block_on(queue.counts(repin::queue::now())).unwrap();
        if counts.queued == 0 && counts.running == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "jobs left: {counts:?}");
        std::thread::sleep(Duration::from_millis(200));
    }

    for repository in &repositories {
        github.with_repo(repository, |s| {
            assert_eq!(s.pulls.len(), 1, "{repository}: one pull request");
            assert_eq!(s.issues.len(), 1, "{repository}: one dashboard");
            assert!(s.unexpected.is_empty(), "{repository}: {:?}", s.unexpected);
        });
    }
    // The runs that ended: every repository, and never two of one at the same time.
    let runs = runtime.block_on(queue.runs()).unwrap();
    let mut by_repository: BTreeMap<&str, Vec<(i64, i64)>> = BTreeMap::new();
    for run in &runs {
        assert_eq!(run.outcome, "done", "{run:?}");
        by_repository
            .entry(run.repository.as_str())
            .or_default()
            .push((run.started_at, run.finished_at));
    }
    assert_eq!(by_repository.len(), REPOSITORIES);
    for (repository, mut spans) in by_repository {
        spans.sort();
        for pair in spans.windows(2) {
            assert!(
                pair[0].1 <= pair[1].0,
                "{repository} ran twice at once: {spans:?}"
            );
        }
    }
    // The interrupted job was run to the end by another process.
    let finishers: Vec<&str> = runs
        .iter()
        .filter(|r| interrupted.contains(&r.repository))
        .map(|r| r.claim.as_str())
        .collect();
    assert!(
        finishers.iter().all(|c| !c.starts_with("a/")),
        "{finishers:?}"
    );
    let metrics = reqwest::blocking::get(format!("{}/metrics", b.base))
        .unwrap()
        .text()
        .unwrap();
    assert!(metrics.contains("repin_jobs_queued 0\n"), "{metrics}");
    assert!(
        metrics.contains("repin_deliveries_total{result=\"duplicate\"}"),
        "{metrics}"
    );
    drop(pypi);
}
