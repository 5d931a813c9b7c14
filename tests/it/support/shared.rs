//! Test helpers shared by unit tests (as `crate::testing`) and integration tests (as
//! `support::shared`): the real-world corpus, a strict in-process HTTP server, `git daemon`,
//! and a double of the OSV API built on the strict server.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The real-world corpus (`REPIN_CORPUS`, default `../shared/corpus` beside the repository),
/// without `..` in it. A missing corpus fails the test with how to get it: a test never passes
/// without testing.
///
/// A test that reads the corpus has `corpus` in its name (checked here), so that a machine
/// without the corpus can leave exactly those tests out, visibly, with the filter
/// `-E 'not test(/corpus/)'` (as GitHub's CI does; see `.github/workflows/ci.yml`).
pub fn corpus() -> PathBuf {
    // libtest names each test's thread after the test's path.
    let test = std::thread::current().name().unwrap_or("").to_owned();
    assert!(
        !test.contains("::") || test.contains("corpus"),
        "`{test}` reads the corpus but has no `corpus` in its name: name it so, so that runs without the corpus can leave it out by name"
    );
    let path = std::env::var_os("REPIN_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    assert!(
        path.is_dir(),
        "The real-world corpus is missing at {}\n  hint: set REPIN_CORPUS to the corpus directory (default: ../shared/corpus beside the repository); `scripts/test` sets that default. On a machine without the corpus, leave its tests out visibly: `scripts/test -E 'not test(/corpus/)'`",
        path.display()
    );
    path.canonicalize().unwrap_or(path)
}

/// A program the tests run (`git`, `openssl`, ...), or a failure that says how to install it.
pub fn command(program: &str, package: &str) -> std::process::Command {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()));
    assert!(
        found,
        "`{program}` is not installed, and this test runs it\n  hint: `apt-get install {package}` (`scripts/test` installs it when run as root or with sudo)"
    );
    std::process::Command::new(program)
}

/// An in-process HTTP server (wiremock) that fails the test, when dropped, if it received a
/// request no mock expected: the doubles of services that cannot be reached here (OSV, GitHub,
/// edge cases of PyPI and registries) answer only what the test declared.
pub async fn strict_server() -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(wiremock::ResponseTemplate::new(599))
        .with_priority(u8::MAX)
        .expect(0)
        .named("unexpected request")
        .mount(&server)
        .await;
    server
}

/// `git daemon` serving the repositories below a directory on a free loopback port (fetch and
/// push over git's smart protocol, which shallow fetches need); stopped when dropped.
pub struct GitDaemon {
    child: std::process::Child,
    /// The port it listens on.
    pub port: u16,
}

impl GitDaemon {
    /// Serve every repository below `base`, pushes allowed.
    pub fn start(base: &Path) -> GitDaemon {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        // Run git-daemon itself, not `git daemon`: killing the `git` wrapper would leave the
        // server running.
        let exec_path = command("git", "git")
            .arg("--exec-path")
            .output()
            .expect("git runs");
        let exec_path = String::from_utf8(exec_path.stdout).expect("a UTF-8 path");
        let mut child = std::process::Command::new(Path::new(exec_path.trim()).join("git-daemon"))
            .args([
                "--reuseaddr",
                "--export-all",
                "--enable=receive-pack",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
                &format!("--base-path={}", base.display()),
            ])
            .arg(base)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("git daemon starts");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return GitDaemon { child, port };
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("git daemon did not start on port {port}");
    }

    /// The `git://` URL of the repository `name` below the served directory.
    pub fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The double of the OSV API.
#[path = "osv.rs"]
pub mod osv;

/// A throwaway 2048-bit RSA key in `dir`, made by `openssl genrsa -traditional` (PKCS#1, the
/// form GitHub issues App keys in): the PEM file's path and the public key as PKCS#1 DER.
pub fn rsa_key(dir: &Path) -> (PathBuf, Vec<u8>) {
    let pem = dir.join("app.pem");
    let openssl = |args: &[&str]| {
        let out = command("openssl", "openssl")
            .args(args)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let path = pem.to_str().expect("a UTF-8 path");
    openssl(&["genrsa", "-traditional", "-out", path, "2048"]);
    let public = openssl(&["rsa", "-in", path, "-RSAPublicKey_out", "-outform", "DER"]);
    (pem, public)
}
