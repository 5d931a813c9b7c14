//! Shared helpers for integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub mod shared;
#[allow(unused_imports)]
pub use shared::corpus;

/// Every file below `dir`, sorted.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

pub mod counting_proxy;
pub mod github;
pub mod json_index;
pub mod lock_oracles;
pub mod loopback;
pub mod postgres;
pub mod pypiserver;
pub use pypiserver::ports;
pub mod readme;
pub mod registry;
pub mod serve;
pub mod static_index;
pub mod tools;

/// Run the `repin` binary with a clean environment: no pip.conf, `PIP_*` variables or Docker
/// credentials of this machine leak into the test.
pub fn repin(home: &Path, args: &[&str]) -> std::process::Output {
    repin_with_env(home, args, &[])
}

/// [`repin`] with extra environment variables.
pub fn repin_with_env(
    home: &Path,
    args: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> std::process::Output {
    clean_repin(home)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .output()
        .expect("repin runs")
}

/// [`repin_with_env`] run in `dir`, so the paths it records (a lock's header) are relative.
pub fn repin_in(
    dir: &Path,
    home: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    clean_repin(home)
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .output()
        .expect("repin runs")
}

/// The `repin` binary with `home` and nothing of this machine's environment but `PATH`.
fn clean_repin(home: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_repin"));
    command
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PIP_CONFIG_FILE", "/dev/null");
    command
}

/// What a run of repin said: stdout, stderr and exit code.
pub type Said = (String, String, Option<i32>);

/// `repin ARGS --no-cache REPO` with a home of its own and `env` added: a command run on a
/// test's repository, as a user runs it.
pub fn repin_on(repo: &Path, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Said {
    let home = tempfile::tempdir().unwrap();
    let mut all: Vec<&str> = args.to_vec();
    all.push("--no-cache");
    all.push(repo.to_str().unwrap());
    let out = repin_with_env(home.path(), &all, env);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

/// Run git in `dir` with a fixed identity and no user or system configuration; its stdout,
/// trimmed. A failure fails the test.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = shared::command("git", "git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "Dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

/// Make `checkout` a git repository on `main` with everything in it committed, and give it an
/// `origin`: a bare clone at `remotes/service.git`, which `main` tracks. Returns the remote.
pub fn with_origin(checkout: &Path, remotes: &Path) -> std::path::PathBuf {
    let remote = remotes.join("service.git");
    git(checkout, &["init", "-q", "-b", "main"]);
    git(checkout, &["add", "."]);
    git(checkout, &["commit", "-q", "-m", "Initial commit"]);
    git(
        remotes,
        &[
            "clone",
            "-q",
            "--bare",
            checkout.to_str().unwrap(),
            "service.git",
        ],
    );
    git(
        checkout,
        &["remote", "add", "origin", remote.to_str().unwrap()],
    );
    git(checkout, &["fetch", "-q", "origin"]);
    git(
        checkout,
        &["branch", "-q", "--set-upstream-to=origin/main", "main"],
    );
    remote
}

/// The moved pins of a JSON report's update (`moved`), as `name from -> to: why`.
pub fn moves(moved: &serde_json::Value) -> Vec<String> {
    moved
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{} {} -> {}: {}",
                m["name"].as_str().unwrap(),
                m["from"].as_str().unwrap_or("(new)"),
                m["to"].as_str().unwrap_or("(gone)"),
                m["why"].as_str().unwrap()
            )
        })
        .collect()
}
