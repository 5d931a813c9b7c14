//! The GitHub Action's install step (`scripts/action-install`, run by `action.yml`), run as the
//! runner runs it, against a local stand-in for GitHub's release downloads: the asset for each
//! runner platform, the fallback when `github.action_repository` is empty, the checksum and the
//! version checks. GitHub itself cannot be reached from the tests; the stand-in serves only the
//! files a test put there and records every request.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use crate::support;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Serves the files below a directory by path; every request is recorded.
struct Releases {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Releases {
    fn start(root: PathBuf) -> Releases {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut line = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
                        break;
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                seen.lock().unwrap().push(path.clone());
                let file = root.join(path.trim_start_matches('/'));
                let (status, body) = match std::fs::read(&file) {
                    Ok(body) if file.starts_with(&root) => ("200 OK", body),
                    _ => ("404 Not Found", b"Not Found".to_vec()),
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(&body);
            }
        });
        Releases { url, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// A checkout of the action at `<dir>/_actions/acme/repin/v<version>`, with dist/ as a release
/// commit has it, and a release of `repin` for both Linux targets on the stand-in.
struct World {
    dir: tempfile::TempDir,
    action: PathBuf,
    releases: Releases,
}

/// `binary_version`: what the released binary says in `repin --version` (a small stand-in
/// script: the step only runs `--version`, and the real binary is too large to pack quickly).
fn world(dist_version: &str, binary_version: &str) -> World {
    let dir = tempfile::tempdir().unwrap();
    let action = dir
        .path()
        .join(format!("_actions/acme/repin/v{dist_version}"));
    std::fs::create_dir_all(action.join("dist")).unwrap();
    std::fs::create_dir_all(action.join("scripts")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/action-install"),
        action.join("scripts/action-install"),
    )
    .unwrap();
    std::fs::write(action.join("dist/version"), format!("{dist_version}\n")).unwrap();
    let served = dir.path().join("served");
    let download = served.join(format!("acme/repin/releases/download/v{dist_version}"));
    std::fs::create_dir_all(&download).unwrap();
    let staging = dir.path().join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    let binary = staging.join("repin");
    std::fs::write(
        &binary,
        format!("#!/bin/sh\necho 'repin {binary_version} (0123456789ab 2026-12-01)'\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut checksums = String::new();
    for target in ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"] {
        let asset = format!("repin-{dist_version}-{target}.tar.gz");
        let status = support::shared::command("tar", "tar")
            .arg("-czf")
            .arg(download.join(&asset))
            .arg("-C")
            .arg(&staging)
            .arg("repin")
            .status()
            .unwrap();
        assert!(status.success());
        let bytes = std::fs::read(download.join(&asset)).unwrap();
        checksums.push_str(&format!(
            "{}  {asset}\n",
            support::pypiserver::sha256_hex(&bytes)
        ));
    }
    std::fs::write(action.join("dist/checksums.txt"), checksums).unwrap();
    let releases = Releases::start(served);
    World {
        dir,
        action,
        releases,
    }
}

struct Run {
    ok: bool,
    stdout: String,
    path_file: String,
}

fn install(world: &World, os: &str, arch: &str, repository: &str, wanted: &str) -> Run {
    support::shared::command("curl", "curl");
    let temp = world.dir.path().join("runner-temp");
    std::fs::create_dir_all(&temp).unwrap();
    let github_path = world.dir.path().join("github-path");
    let out = Command::new("bash")
        .arg(world.action.join("scripts/action-install"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("ACTION_PATH", &world.action)
        .env("ACTION_REPOSITORY", repository)
        .env("WANTED_VERSION", wanted)
        .env("RUNNER_OS", os)
        .env("RUNNER_ARCH", arch)
        .env("RUNNER_TEMP", &temp)
        .env("GITHUB_SERVER_URL", &world.releases.url)
        .env("GITHUB_REPOSITORY", "acme/service")
        .env("GITHUB_WORKSPACE", world.dir.path().join("work/service"))
        .env("GITHUB_PATH", &github_path)
        .output()
        .unwrap();
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr),
        path_file: std::fs::read_to_string(&github_path).unwrap_or_default(),
    }
}

#[test]
fn each_linux_runner_gets_its_own_checked_binary() {
    let world = world(VERSION, VERSION);
    let x86 = install(&world, "Linux", "X64", "acme/repin", "");
    assert!(x86.ok, "{}", x86.stdout);
    let arm = install(&world, "Linux", "ARM64", "acme/repin", VERSION);
    assert!(arm.ok, "{}", arm.stdout);
    assert!(
        arm.stdout.contains(&format!(
            "repin {VERSION} (aarch64-unknown-linux-musl) from "
        )),
        "{}",
        arm.stdout
    );
    assert_eq!(
        world.releases.requests(),
        vec![
            format!(
                "/acme/repin/releases/download/v{VERSION}/repin-{VERSION}-x86_64-unknown-linux-musl.tar.gz"
            ),
            format!(
                "/acme/repin/releases/download/v{VERSION}/repin-{VERSION}-aarch64-unknown-linux-musl.tar.gz"
            ),
        ]
    );
    // Each run put its directory on PATH, with the binary in it.
    let dirs: Vec<&str> = arm.path_file.lines().collect();
    assert_eq!(dirs.len(), 2, "{}", arm.path_file);
    assert!(dirs[0].ends_with("x86_64-unknown-linux-musl"));
    assert!(dirs[1].ends_with("aarch64-unknown-linux-musl"));
    assert!(Path::new(dirs[1]).join("repin").is_file());
}

#[test]
fn an_empty_action_repository_is_read_from_the_action_path() {
    let world = world(VERSION, VERSION);
    let run = install(&world, "Linux", "X64", "", "");
    assert!(run.ok, "{}", run.stdout);
    assert!(
        world.releases.requests()[0].starts_with("/acme/repin/releases/"),
        "{:?}",
        world.releases.requests()
    );
}

#[test]
fn other_runners_fail_with_what_is_supported() {
    let world = world(VERSION, VERSION);
    let run = install(&world, "macOS", "ARM64", "acme/repin", "");
    assert!(!run.ok);
    assert!(
        run.stdout.contains("::error title=repin::repin's release binaries are for Linux on x86_64 and arm64; this runner is macOS on ARM64"),
        "{}",
        run.stdout
    );
    assert!(world.releases.requests().is_empty());
}

#[test]
fn a_binary_that_is_not_the_release_is_not_installed() {
    // A wrong checksum.
    let world = world(VERSION, VERSION);
    let checksums = world.action.join("dist/checksums.txt");
    let text = std::fs::read_to_string(&checksums).unwrap();
    std::fs::write(&checksums, format!("{}{}", "0".repeat(64), &text[64..])).unwrap();
    let run = install(&world, "Linux", "X64", "acme/repin", "");
    assert!(!run.ok);
    assert!(
        run.stdout.contains("does not match its checksum"),
        "{}",
        run.stdout
    );
    assert!(run.path_file.is_empty());

    // A release whose binary reports another version.
    let world = self::world("9.9.9", VERSION);
    let run = install(&world, "Linux", "X64", "acme/repin", "");
    assert!(!run.ok);
    assert!(
        run.stdout.contains(&format!(
            "The downloaded binary says it is repin {VERSION}, but dist/version says 9.9.9"
        )),
        "{}",
        run.stdout
    );
    assert!(run.path_file.is_empty());
}

#[test]
fn the_version_input_must_match_the_ref() {
    let world = world(VERSION, VERSION);
    let run = install(&world, "Linux", "X64", "acme/repin", "v0.0.1");
    assert!(!run.ok);
    assert!(
        run.stdout.contains(&format!(
            "The version input asks for repin 0.0.1, but this ref of the action ships {VERSION}"
        )),
        "{}",
        run.stdout
    );
    // A ref without release files (a branch) says to use a tag.
    std::fs::remove_file(world.action.join("dist/version")).unwrap();
    let run = install(&world, "Linux", "X64", "acme/repin", "");
    assert!(!run.ok);
    assert!(
        run.stdout.contains("has no release binaries"),
        "{}",
        run.stdout
    );
    assert!(world.releases.requests().is_empty());
}
