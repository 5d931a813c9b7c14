//! Tests against real git: repositories made with the git command line, a bare repository as
//! the remote, and `git daemon` on loopback for the smart protocol (shallow fetches).

use std::process::Command;

use super::*;

fn run_git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.invalid")
        .env("GIT_COMMITTER_NAME", "Dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.invalid")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A working clone with two commits on `main` and a bare remote it was pushed to.
fn fixture() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let remote = dir.path().join("remote.git");
    let work = dir.path().join("work");
    run_git(
        dir.path(),
        &[
            "init",
            "-q",
            "--bare",
            "-b",
            "main",
            remote.to_str().unwrap(),
        ],
    );
    run_git(
        dir.path(),
        &["init", "-q", "-b", "main", work.to_str().unwrap()],
    );
    std::fs::write(work.join("requirements.txt"), "flask==2.2.2\r\n").unwrap();
    std::fs::create_dir(work.join("docker")).unwrap();
    std::fs::write(work.join("docker/Dockerfile"), "FROM python:3.12-slim\n").unwrap();
    std::fs::write(work.join("run.sh"), "#!/bin/sh\necho hi\n").unwrap();
    run_git(&work, &["add", "."]);
    run_git(&work, &["update-index", "--chmod=+x", "run.sh"]);
    run_git(&work, &["commit", "-q", "-m", "first"]);
    std::fs::write(work.join("README"), "demo\n").unwrap();
    run_git(&work, &["add", "README"]);
    run_git(&work, &["commit", "-q", "-m", "second"]);
    run_git(
        &work,
        &["remote", "add", "origin", remote.to_str().unwrap()],
    );
    run_git(&work, &["push", "-q", "origin", "main"]);
    (dir, work, remote)
}

#[test]
fn commits_edits_without_touching_the_working_tree_or_index() {
    let (_dir, work, _remote) = fixture();
    // An uncommitted local change must survive untouched.
    std::fs::write(work.join("README"), "local edit\n").unwrap();
    let status_before = run_git(&work, &["status", "--porcelain"]);
    let repo = Repository::open(&work).unwrap();
    let base = repo.resolve("refs/heads/main").unwrap().unwrap();
    let commit = repo
        .commit_files(
            base,
            &[
                FileChange {
                    path: "requirements.txt".into(),
                    content: Some(b"flask==3.1.3\r\n".to_vec()),
                },
                FileChange {
                    path: "run.sh".into(),
                    content: Some(b"#!/bin/sh\necho bye\n".to_vec()),
                },
            ],
            "Update flask to 3.1.3",
            &Identity::default(),
            &Identity::default(),
        )
        .unwrap();
    assert_eq!(run_git(&work, &["status", "--porcelain"]), status_before);
    assert_eq!(
        std::fs::read_to_string(work.join("README")).unwrap(),
        "local edit\n"
    );
    assert_eq!(
        std::fs::read(work.join("requirements.txt")).unwrap(),
        b"flask==2.2.2\r\n"
    );
    assert_eq!(repo.parents(commit).unwrap(), vec![base]);
    assert_eq!(
        repo.read_file(commit, "requirements.txt").unwrap().unwrap(),
        b"flask==3.1.3\r\n"
    );
    assert_eq!(repo.message(commit).unwrap(), "Update flask to 3.1.3");
    // Only the two files differ from the base, and the script stays executable.
    let c = commit.to_string();
    let b = base.to_string();
    let diff = run_git(&work, &["diff", "--name-only", &b, &c]);
    assert_eq!(diff, "requirements.txt\nrun.sh");
    let mode = run_git(&work, &["ls-tree", &c, "run.sh"]);
    assert!(mode.starts_with("100755 "), "{mode}");
    let author = run_git(&work, &["log", "-1", "--format=%an <%ae>", &c]);
    assert_eq!(author, "repin[bot] <repin[bot]@users.noreply.github.com>");
    // The branch head did not move.
    assert_eq!(repo.resolve("refs/heads/main").unwrap(), Some(base));
}

#[test]
fn pushes_branches_forces_updates_and_reports_rejections() {
    let (_dir, work, remote) = fixture();
    let repo = Repository::open(&work).unwrap();
    let base = repo.resolve("refs/heads/main").unwrap().unwrap();
    let change = |text: &str| {
        vec![FileChange {
            path: "requirements.txt".into(),
            content: Some(text.as_bytes().to_vec()),
        }]
    };
    let first = repo
        .commit_files(
            base,
            &change("flask==3.1.2\r\n"),
            "one",
            &Identity::default(),
            &Identity::default(),
        )
        .unwrap();
    let remote_url = remote.to_str().unwrap();
    let none = Credentials::default();
    repo.push(remote_url, first, "repin/flask", false, &none)
        .unwrap();
    let heads = repo.remote_heads(remote_url, &none).unwrap();
    assert_eq!(heads.get("repin/flask"), Some(&first));
    assert_eq!(heads.get("main"), Some(&base));

    // A replacement commit on the same base is not a fast-forward: refused without force,
    // accepted with it.
    let second = repo
        .commit_files(
            base,
            &change("flask==3.1.3\r\n"),
            "two",
            &Identity::default(),
            &Identity::default(),
        )
        .unwrap();
    let refused = repo
        .push(remote_url, second, "repin/flask", false, &none)
        .unwrap_err();
    assert!(
        matches!(refused, GitError::Rejected { .. } | GitError::Remote { .. }),
        "{refused}"
    );
    repo.push(remote_url, second, "repin/flask", true, &none)
        .unwrap();
    let bare = Repository::open(&remote).unwrap();
    assert_eq!(
        bare.resolve("refs/heads/repin/flask").unwrap(),
        Some(second)
    );
    assert_eq!(
        bare.read_file(second, "requirements.txt").unwrap().unwrap(),
        b"flask==3.1.3\r\n"
    );
    // No temporary push reference is left behind locally.
    assert!(
        repo.resolve("refs/repin/push/repin/flask")
            .unwrap()
            .is_none()
    );
}

#[test]
fn shallow_fetch_over_the_smart_protocol_then_commit_and_push() {
    let (dir, _work, remote) = fixture();
    let server = crate::testing::GitDaemon::start(dir.path());
    let url = server.url(remote.file_name().unwrap().to_str().unwrap());
    let scratch = Repository::init_bare(&dir.path().join("scratch.git")).unwrap();
    let none = Credentials::default();
    let head = scratch.fetch_branch(&url, "main", Some(1), &none).unwrap();
    // Depth 1: the head commit is here, its parent is not.
    let parent = Repository::open(&remote).unwrap().parents(head).unwrap()[0];
    assert!(
        scratch.inner.find_commit(parent).is_err(),
        "the fetch should be shallow"
    );
    let commit = scratch
        .commit_files(
            head,
            &[FileChange {
                path: "docker/Dockerfile".into(),
                content: Some(b"FROM python:3.13-slim\n".to_vec()),
            }],
            "Update python to 3.13",
            &Identity::default(),
            &Identity::default(),
        )
        .unwrap();
    scratch
        .push(&url, commit, "repin/python", false, &none)
        .unwrap();
    let bare = Repository::open(&remote).unwrap();
    assert_eq!(
        bare.resolve("refs/heads/repin/python").unwrap(),
        Some(commit)
    );
    assert_eq!(
        bare.read_file(commit, "README").unwrap().unwrap(),
        b"demo\n"
    );
}

#[test]
fn missing_things_are_clear_errors() {
    let (dir, work, _remote) = fixture();
    let repo = Repository::open(&work).unwrap();
    assert_eq!(repo.resolve("refs/heads/nope").unwrap(), None);
    let base = repo.resolve("HEAD").unwrap().unwrap();
    assert_eq!(repo.read_file(base, "no/such/file").unwrap(), None);
    let missing = dir.path().join("nowhere.git");
    let error = repo
        .fetch_branch(
            missing.to_str().unwrap(),
            "main",
            None,
            &Credentials::default(),
        )
        .unwrap_err();
    assert!(
        error.to_string().starts_with("Cannot fetch from"),
        "{error}"
    );
    let token = Credentials {
        token: Some("ghp_secret".into()),
    };
    assert!(!format!("{token:?}").contains("ghp_secret"));
}

/// A server that challenges for credentials: a 401 with `WWW-Authenticate: Basic` to every
/// request without them, a 404 to the rest (it serves no repository: what is tested is whether
/// the token reaches it).
fn challenging_server() -> crate::loopback::Loopback {
    use crate::loopback::{Loopback, Reply};
    Loopback::start(|seen| {
        if seen.header("authorization").is_some() {
            Reply::status(404, "no such repository")
        } else {
            Reply::status(401, "credentials, please")
                .with_header("WWW-Authenticate", "Basic realm=\"git\"")
        }
    })
}

/// The token goes to the remote's own origin when it asks (the control: the server below
/// would see it), and never to another origin a redirect names. libgit2 follows a redirect of
/// the first request and then asks for credentials for the new URL; repin answers only for
/// the origin it was given. A hostile git server (or one a hostile page points at) gets the
/// bot's GitHub token otherwise.
#[test]
fn the_token_goes_to_the_remotes_origin_and_never_to_one_a_redirect_names() {
    use crate::loopback::{Loopback, Reply};
    let token = Credentials {
        token: Some("ghs_canary_token".into()),
    };
    let basic = |seen: &crate::loopback::Seen| seen.header("authorization").map(str::to_owned);

    let same = challenging_server();
    let dir = tempfile::tempdir().unwrap();
    let clone = |url: &str, into: &str| match Repository::clone(
        url,
        &dir.path().join(into),
        Some(1),
        &token,
    ) {
        Ok(_) => panic!("the servers serve no repository"),
        Err(error) => error,
    };
    let error = clone(&same.url("/repo.git"), "a");
    assert!(error.to_string().starts_with("Cannot clone"), "{error}");
    let sent: Vec<String> = same.requests().iter().filter_map(basic).collect();
    assert!(
        !sent.is_empty(),
        "the remote's own origin should get the token: {:?}",
        same.requests()
    );

    let other = challenging_server();
    let elsewhere = other.url("");
    let redirecting =
        Loopback::start(move |seen| Reply::redirect(302, &format!("{elsewhere}{}", seen.path)));
    let error = clone(&redirecting.url("/repo.git"), "b");
    assert!(error.to_string().starts_with("Cannot clone"), "{error}");
    let cause = std::error::Error::source(&error).map(ToString::to_string);
    assert!(
        cause
            .as_deref()
            .is_some_and(|c| c.contains("The token is only sent to the remote's own origin")),
        "{cause:?}"
    );
    assert!(
        !other.requests().is_empty(),
        "the redirect should have been followed (else this test proves nothing)"
    );
    let leaked: Vec<String> = other.requests().iter().filter_map(basic).collect();
    assert!(
        leaked.is_empty(),
        "the token went to another origin: {leaked:?}"
    );
}

/// What a clone left in `dir` besides `.git` (nothing when libgit2 removed the directory of a
/// clone that failed).
fn checked_out(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".git")
        .collect();
    names.sort();
    names
}

/// A clone over the smart protocol checks out the head's files (modes kept) within the default
/// limits; past a limit it stops with an error naming it and checks out nothing: a transfer
/// larger than `received_bytes` (1 MiB of random bytes against 256 KiB), files that unpack to
/// more than `checkout_bytes` (64 MiB of zeros, which git sends as a few hundred KiB), or more
/// files than `checkout_files`.
#[test]
fn a_clone_is_checked_out_within_its_limits_and_refused_past_them() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, work, remote) = fixture();
    let server = crate::testing::GitDaemon::start(dir.path());
    let url = server.url(remote.file_name().unwrap().to_str().unwrap());
    let none = Credentials::default();

    let fine = dir.path().join("fine");
    Repository::clone(&url, &fine, Some(1), &none).unwrap();
    assert_eq!(
        checked_out(&fine),
        ["README", "docker", "requirements.txt", "run.sh"]
    );
    assert_eq!(
        std::fs::read(fine.join("requirements.txt")).unwrap(),
        b"flask==2.2.2\r\n"
    );
    let mode = std::fs::metadata(fine.join("run.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_ne!(mode & 0o111, 0, "run.sh should stay executable");

    // An empty repository clones to nothing checked out, as with `git clone`.
    run_git(dir.path(), &["init", "-q", "--bare", "empty.git"]);
    let empty = dir.path().join("empty");
    Repository::clone(&server.url("empty.git"), &empty, Some(1), &none).unwrap();
    assert_eq!(checked_out(&empty), Vec::<String>::new());

    let within = |limits: Limits, into: &str| {
        let path = dir.path().join(into);
        match Repository::clone_within(&url, &path, Some(1), &none, limits) {
            Ok(_) => panic!("the clone into {into} should be refused"),
            Err(error) => (error.to_string(), checked_out(&path)),
        }
    };
    let few = Limits {
        checkout_files: 3,
        ..Limits::default()
    };
    let (error, files) = within(few, "few");
    assert!(
        error.starts_with("Cannot clone `git://")
            && error.ends_with(": its files number more than 3 files, repin's limit"),
        "{error}"
    );
    assert_eq!(files, Vec::<String>::new());

    let mut random = vec![0u8; 1 << 20];
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for byte in &mut random {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *byte = state as u8;
    }
    std::fs::write(work.join("noise.bin"), &random).unwrap();
    std::fs::write(work.join("zeros.bin"), vec![0u8; 64 << 20]).unwrap();
    run_git(&work, &["add", "."]);
    run_git(&work, &["commit", "-q", "-m", "large"]);
    run_git(&work, &["push", "-q", "origin", "main"]);

    let small_transfer = Limits {
        received_bytes: 256 << 10,
        ..Limits::default()
    };
    let (error, files) = within(small_transfer, "sent");
    assert!(
        error.ends_with(": it sent more than 256 KiB, repin's limit"),
        "{error}"
    );
    assert_eq!(files, Vec::<String>::new());

    let small_checkout = Limits {
        checkout_bytes: 16 << 20,
        ..Limits::default()
    };
    let (error, files) = within(small_checkout, "unpacked");
    assert!(
        error.ends_with(": its files add up to more than 16 MiB, repin's limit"),
        "{error}"
    );
    assert_eq!(files, Vec::<String>::new());
}
