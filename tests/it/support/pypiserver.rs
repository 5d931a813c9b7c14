//! Test support shared by every test that needs a PEP 503 index: a real `pypiserver` on
//! loopback, and small but valid wheel and sdist files to serve from it.
//!
//! ```ignore
//! let dir = tempfile::tempdir()?;
//! write_wheel(dir.path(), "demo_pkg", "1.0", Some(">=3.8"));
//! let server = PypiServer::start(dir.path()); // a missing pypiserver fails the test
//! let index_url = server.index_url(); // http://127.0.0.1:PORT/simple/
//! ```

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use url::Url;

// Beside this file, and declared here so the unit tests that include this harness have it.
#[path = "ports.rs"]
pub mod ports;

/// The Python interpreter to run pypiserver with (`REPIN_PYTHON`, default `python3`;
/// `scripts/test` sets it to the project's `.venv`).
pub fn python() -> String {
    std::env::var("REPIN_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Whether `python -c "import <module>"` works.
pub fn python_has(module: &str) -> bool {
    Command::new(python())
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A pypiserver process serving a directory; killed when dropped.
pub struct PypiServer {
    child: Child,
    port: u16,
    log: PathBuf,
    _log_dir: tempfile::TempDir,
}

impl PypiServer {
    /// Start pypiserver on a free loopback port, serving `packages`, and wait until it answers.
    /// When pypiserver cannot be imported the test fails and says how to install it: a test
    /// never passes without testing.
    pub fn start(packages: &Path) -> PypiServer {
        PypiServer::start_with(packages, None)
    }

    /// [`PypiServer::start`] for an index that lists and serves files only to `user` with
    /// `password` (HTTP basic), from pypiserver's own password file (which needs passlib).
    #[allow(dead_code)] // The unit tests that include this file start no such index.
    pub fn start_with_password(packages: &Path, user: &str, password: &str) -> PypiServer {
        PypiServer::start_with(packages, Some((user, password)))
    }

    fn start_with(packages: &Path, login: Option<(&str, &str)>) -> PypiServer {
        assert!(
            python_has("pypiserver"),
            "pypiserver is not importable by `{}`, and this test starts it\n  hint: run the tests with `scripts/test`, which installs it into .venv and sets REPIN_PYTHON; or `python3 -m venv .venv && .venv/bin/pip install --require-hashes -r scripts/python-requirements.txt` and set REPIN_PYTHON=.venv/bin/python",
            python()
        );
        let log_dir = tempfile::tempdir().expect("a temporary directory");
        let log = log_dir.path().join("pypiserver.log");
        let log_file = std::fs::File::create(&log).expect("a log file");
        let mut command = Command::new(python());
        command
            .args(["-m", "pypiserver", "run"])
            // Port 0: the OS gives it one, found below (see `support::ports`).
            .args(["-i", "127.0.0.1", "-p", "0"])
            .args(["--disable-fallback", "--hash-algo", "sha256"]);
        match login {
            // Listing and downloading need no password: `-a . -P .` turns authentication off.
            None => command.args(["-a", ".", "-P", "."]),
            Some((user, password)) => {
                let file = log_dir.path().join("htpasswd");
                write_password_file(&file, user, password);
                command.args(["-a", "download,list,update", "-P"]).arg(file)
            }
        };
        let child = command
            .arg(packages)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("a log file handle"))
            .stderr(log_file)
            .spawn()
            .expect("pypiserver starts");
        let mut server = PypiServer {
            child,
            port: 0,
            log,
            _log_dir: log_dir,
        };
        let log = server.log.clone();
        server.port = ports::wait_for_port(&mut server.child, "pypiserver", || {
            std::fs::read_to_string(&log).unwrap_or_default()
        });
        server.wait_until_ready();
        server
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn base_url(&self) -> Url {
        Url::parse(&format!("http://127.0.0.1:{}/", self.port)).expect("a valid URL")
    }

    /// The simple index: `http://127.0.0.1:PORT/simple/`.
    pub fn index_url(&self) -> Url {
        self.base_url().join("simple/").expect("a valid URL")
    }

    /// What the server logged so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "pypiserver exited with {status} before answering:\n{}",
                    self.log()
                );
            }
            if http_status(self.port, "/health") == Some(200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "pypiserver did not answer on port {} within 30 seconds:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for PypiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An Apache password file with one user, written by passlib (which pypiserver reads it with).
fn write_password_file(file: &Path, user: &str, password: &str) {
    assert!(
        python_has("passlib"),
        "passlib is not importable by `{}`, and pypiserver needs it for a password file\n  hint: run the tests with `scripts/test`, which installs it into .venv (scripts/python-requirements.txt)",
        python()
    );
    let status = Command::new(python())
        .args([
            "-c",
            "import sys; from passlib.apache import HtpasswdFile as H; h = H(sys.argv[1], new=True); h.set_password(sys.argv[2], sys.argv[3]); h.save()",
        ])
        .arg(file)
        .args([user, password])
        .status()
        .expect("python runs");
    assert!(status.success(), "passlib wrote no password file");
}

/// The status of a plain `GET` on loopback, or `None` when nothing answers yet.
fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut head = [0u8; 32];
    let n = stream.read(&mut head).ok()?;
    let line = std::str::from_utf8(&head[..n]).ok()?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Hex sha256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What a test distribution's `METADATA`/`PKG-INFO` declares besides its name and version.
#[derive(Debug, Clone, Default)]
pub struct Meta<'a> {
    /// `Metadata-Version` (default `2.1`).
    pub metadata_version: Option<&'a str>,
    /// `Requires-Python`.
    pub requires_python: Option<&'a str>,
    /// `Requires-Dist` lines, as written (`werkzeug>=3; extra == "async"`).
    pub requires_dist: &'a [&'a str],
    /// `Provides-Extra` lines.
    pub provides_extra: &'a [&'a str],
    /// `Dynamic` lines.
    pub dynamic: &'a [&'a str],
    /// `Project-URL` lines (`Changes, https://...`).
    pub project_urls: &'a [&'a str],
}

/// The `METADATA`/`PKG-INFO` text of a distribution.
fn metadata(name: &str, version: &str, meta: &Meta) -> String {
    let mut text = format!(
        "Metadata-Version: {}\nName: {name}\nVersion: {version}\n",
        meta.metadata_version.unwrap_or("2.1")
    );
    for line in meta.dynamic {
        text.push_str(&format!("Dynamic: {line}\n"));
    }
    if let Some(spec) = meta.requires_python {
        text.push_str(&format!("Requires-Python: {spec}\n"));
    }
    for line in meta.provides_extra {
        text.push_str(&format!("Provides-Extra: {line}\n"));
    }
    for line in meta.requires_dist {
        text.push_str(&format!("Requires-Dist: {line}\n"));
    }
    for line in meta.project_urls {
        text.push_str(&format!("Project-URL: {line}\n"));
    }
    text.push_str("Summary: A test distribution written by repin's tests\n");
    text
}

/// Write `{name}-{version}-py3-none-any.whl` (a zip with `METADATA`, `WHEEL`, `RECORD` and a
/// module) into `dir`; `name` is the escaped wheel name (`demo_pkg`). Returns its path.
pub fn write_wheel(
    dir: &Path,
    name: &str,
    version: &str,
    requires_python: Option<&str>,
) -> PathBuf {
    write_wheel_with(
        dir,
        name,
        version,
        &Meta {
            requires_python,
            ..Meta::default()
        },
    )
}

/// [`write_wheel`] with more metadata: `Requires-Dist`, `Provides-Extra`, ...
pub fn write_wheel_with(dir: &Path, name: &str, version: &str, meta: &Meta) -> PathBuf {
    let dist_info = format!("{name}-{version}.dist-info");
    let module = format!("{}/__init__.py", name.to_lowercase());
    let files = [
        (module.clone(), format!("__version__ = \"{version}\"\n")),
        (
            format!("{dist_info}/METADATA"),
            metadata(name, version, meta),
        ),
        (
            format!("{dist_info}/WHEEL"),
            "Wheel-Version: 1.0\nGenerator: repin-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
                .into(),
        ),
        (
            format!("{dist_info}/RECORD"),
            format!("{module},,\n{dist_info}/METADATA,,\n{dist_info}/WHEEL,,\n{dist_info}/RECORD,,\n"),
        ),
    ];
    let entries: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_bytes()))
        .collect();
    let path = dir.join(format!("{name}-{version}-py3-none-any.whl"));
    std::fs::write(&path, zip_stored(&entries)).expect("the wheel is written");
    path
}

/// Write `{file_name}-{version}.tar.gz` (a gzipped tar with `PKG-INFO` and `pyproject.toml`)
/// into `dir`. Returns its path.
pub fn write_sdist(
    dir: &Path,
    file_name: &str,
    version: &str,
    requires_python: Option<&str>,
) -> PathBuf {
    write_sdist_with(
        dir,
        file_name,
        version,
        &Meta {
            requires_python,
            ..Meta::default()
        },
    )
}

/// [`write_sdist`] with more metadata (a `Metadata-Version`, `Dynamic`, `Requires-Dist`, ...).
pub fn write_sdist_with(dir: &Path, file_name: &str, version: &str, meta: &Meta) -> PathBuf {
    let root = format!("{file_name}-{version}");
    let pyproject = format!(
        "[project]\nname = \"{file_name}\"\nversion = \"{version}\"\n\n[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n"
    );
    let files = [
        (
            format!("{root}/PKG-INFO"),
            metadata(file_name, version, meta),
        ),
        (format!("{root}/pyproject.toml"), pyproject),
    ];
    let mut tar = Vec::new();
    for (name, text) in &files {
        tar.extend(tar_header(name, text.len()));
        tar.extend_from_slice(text.as_bytes());
        tar.resize(tar.len().div_ceil(512) * 512, 0);
    }
    tar.extend([0u8; 1024]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).expect("gzip into memory");
    let path = dir.join(format!("{root}.tar.gz"));
    std::fs::write(&path, gz.finish().expect("gzip into memory")).expect("the sdist is written");
    path
}

/// A zip archive whose entries are stored (not compressed): all a wheel needs to be valid.
pub fn zip_stored(entries: &[(&str, &[u8])]) -> Vec<u8> {
    fn u16le(out: &mut Vec<u8>, v: u16) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    fn u32le(out: &mut Vec<u8>, v: u32) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    // 1980-01-01 00:00: the earliest DOS date, so the bytes do not depend on the clock.
    const DOS_DATE: u16 = (1 << 5) | 1;
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let offset = out.len() as u32;
        let size = data.len() as u32;
        u32le(&mut out, 0x0403_4b50);
        for v in [20, 0, 0, 0, DOS_DATE] {
            u16le(&mut out, v);
        }
        for v in [crc.sum(), size, size] {
            u32le(&mut out, v);
        }
        u16le(&mut out, name.len() as u16);
        u16le(&mut out, 0);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);

        u32le(&mut central, 0x0201_4b50);
        for v in [20, 20, 0, 0, 0, DOS_DATE] {
            u16le(&mut central, v);
        }
        for v in [crc.sum(), size, size] {
            u32le(&mut central, v);
        }
        for v in [name.len() as u16, 0, 0, 0, 0] {
            u16le(&mut central, v);
        }
        u32le(&mut central, 0o644 << 16);
        u32le(&mut central, offset);
        central.extend_from_slice(name.as_bytes());
    }
    let central_offset = out.len() as u32;
    let central_size = central.len() as u32;
    out.extend(central);
    u32le(&mut out, 0x0605_4b50);
    for v in [0, 0, entries.len() as u16, entries.len() as u16] {
        u16le(&mut out, v);
    }
    u32le(&mut out, central_size);
    u32le(&mut out, central_offset);
    u16le(&mut out, 0);
    out
}

/// A ustar header for a regular file.
pub fn tar_header(name: &str, size: usize) -> [u8; 512] {
    let mut header = [0u8; 512];
    let put = |header: &mut [u8; 512], at: usize, value: &[u8]| {
        header[at..at + value.len()].copy_from_slice(value);
    };
    assert!(name.len() <= 100, "tar names here are short");
    put(&mut header, 0, name.as_bytes());
    put(&mut header, 100, b"0000644\0");
    put(&mut header, 108, b"0000000\0");
    put(&mut header, 116, b"0000000\0");
    put(&mut header, 124, format!("{size:011o}\0").as_bytes());
    put(&mut header, 136, b"00000000000\0");
    put(&mut header, 148, b"        ");
    header[156] = b'0';
    put(&mut header, 257, b"ustar\0");
    put(&mut header, 263, b"00");
    let checksum: u32 = header.iter().map(|b| u32::from(*b)).sum();
    put(&mut header, 148, format!("{checksum:06o}\0 ").as_bytes());
    header
}
