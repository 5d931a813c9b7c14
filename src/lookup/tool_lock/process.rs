//! One run of a locking tool (Poetry, Pipenv) in a scratch directory, hardened: its environment
//! is cleared and rebuilt, so nothing of the environment repin runs in (its own tokens, the
//! bot's `POETRY_*`, `PIPENV_*` or `PIP_*` settings and credentials) reaches the tool; its home,
//! configuration, data and virtual environments are directories of the scratch; its standard
//! input is closed, its output captured, and it is killed when it runs too long.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long one run of a tool may take.
pub const TIMEOUT: Duration = Duration::from_secs(300);

/// The variables of repin's own environment a tool still gets: where programs are (the tool
/// and the Pythons it creates environments with), the locale, and how to reach the network
/// (proxies, certificate authorities), which are the machine's, not a repository's.
const KEPT: &[&str] = &[
    "PATH",
    "LANG",
    "LC_ALL",
    "SYSTEMROOT",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
];

/// Why a tool's run failed.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The tool is not installed (or not runnable).
    #[error("`{program}` is not on PATH")]
    Missing {
        /// The program.
        program: String,
        /// The error of starting it.
        #[source]
        source: std::io::Error,
    },
    /// The scratch directory could not be made.
    #[error("Cannot prepare the scratch directory of the tool")]
    Scratch(#[source] std::io::Error),
    /// It ran longer than allowed.
    #[error("`{command}` did not finish within {} seconds", .timeout.as_secs())]
    Timeout {
        /// The command.
        command: String,
        /// The limit.
        timeout: Duration,
    },
    /// It failed.
    #[error("`{command}` failed ({status})")]
    Failed {
        /// The command.
        command: String,
        /// Its exit status.
        status: String,
        /// The end of what it wrote.
        #[source]
        output: ToolOutput,
    },
}

/// What a tool said, as a cause.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ToolOutput(String);

/// The scratch directories a tool runs with: `home` (its `HOME` and XDG directories) and
/// `project` (the copy of the project it works on).
#[derive(Debug)]
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    /// A new scratch directory with an empty `project` and `home`.
    pub fn new(prefix: &str) -> Result<Self, ProcessError> {
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir()
            .map_err(ProcessError::Scratch)?;
        for sub in ["project", "home", "tmp"] {
            std::fs::create_dir(dir.path().join(sub)).map_err(ProcessError::Scratch)?;
        }
        Ok(Scratch { dir })
    }

    /// The directory of the project's copy.
    pub fn project(&self) -> PathBuf {
        self.dir.path().join("project")
    }

    /// A directory of the scratch, by name (made by the tool when it needs it).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Write a file of the project's copy.
    pub fn write(&self, name: &str, text: &str) -> Result<(), ProcessError> {
        crate::text::atomic::write(
            &self.project().join(name),
            text.as_bytes(),
            crate::text::atomic::Durability::Cache,
        )
        .map_err(ProcessError::Scratch)
    }

    /// The environment every tool gets: the [`KEPT`] variables of repin's, and its home and
    /// XDG directories in the scratch (so neither the tool nor pip reads the configuration or
    /// keyring of the user repin runs as).
    fn base_env(&self) -> Vec<(OsString, OsString)> {
        let mut env: Vec<(OsString, OsString)> = KEPT
            .iter()
            .filter_map(|k| Some((OsString::from(k), std::env::var_os(k)?)))
            .collect();
        let home = self.path("home");
        for (key, value) in [
            ("HOME", home.clone()),
            ("XDG_CONFIG_HOME", home.join(".config")),
            ("XDG_CACHE_HOME", home.join(".cache")),
            ("XDG_DATA_HOME", home.join(".local/share")),
            ("TMPDIR", self.path("tmp")),
        ] {
            env.push((key.into(), value.into_os_string()));
        }
        // No keyring backend: a tool asking one for credentials would reach the user's.
        env.push((
            "PYTHON_KEYRING_BACKEND".into(),
            "keyring.backends.null.Keyring".into(),
        ));
        env.push(("PYTHONDONTWRITEBYTECODE".into(), "1".into()));
        env
    }

    /// Run `program args` in the project's copy with the base environment and `env`, and
    /// return its standard output; its failure carries the end of what it wrote.
    pub async fn run(
        &self,
        program: &str,
        args: &[String],
        env: &[(&str, OsString)],
    ) -> Result<String, ProcessError> {
        let shown = std::iter::once(program.to_owned())
            .chain(args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ");
        let mut command = tokio::process::Command::new(program);
        command
            .args(args)
            .current_dir(self.project())
            .env_clear()
            .envs(self.base_env())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let child = command.spawn().map_err(|source| ProcessError::Missing {
            program: program.to_owned(),
            source,
        })?;
        let output = match tokio::time::timeout(TIMEOUT, child.wait_with_output()).await {
            Err(_) => {
                return Err(ProcessError::Timeout {
                    command: shown,
                    timeout: TIMEOUT,
                });
            }
            Ok(Err(error)) => return Err(ProcessError::Scratch(error)),
            Ok(Ok(output)) => output,
        };
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            // The end says why; a resolver's explanation can be long.
            let lines: Vec<&str> = stderr
                .lines()
                .chain(stdout.lines())
                .filter(|l| !l.trim().is_empty())
                .collect();
            let tail = lines[lines.len().saturating_sub(12)..].join("\n");
            return Err(ProcessError::Failed {
                command: shown,
                status: output.status.to_string(),
                output: ToolOutput(crate::vocab::redact::text(&tail)),
            });
        }
        Ok(stdout)
    }
}

/// A persistent cache directory of repin's own for `tool` (downloads only: a tool's
/// configuration and environments stay in the scratch), or one in the scratch.
pub fn cache_dir(scratch: &Scratch, tool: &str) -> PathBuf {
    dirs::cache_dir()
        .map(|d| d.join("repin").join(tool))
        .unwrap_or_else(|| scratch.path("cache"))
}

/// Why a file a tool wrote could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ReadBackError {
    /// It is missing, not a regular file, or over the repository's file size limit.
    #[error(transparent)]
    Read(#[from] crate::text::RepoFsError),
    /// It is not UTF-8.
    #[error("it is not UTF-8")]
    NotUtf8,
}

impl crate::error::Hint for ReadBackError {}

/// Read back the file `name` of the project's copy (see [`read_lock`]).
pub fn read_back(scratch: &Scratch, name: &str) -> Result<String, ReadBackError> {
    read_lock(&scratch.project().join(name))
}

/// Read back a lock a tool (uv, Poetry, Pipenv) wrote at `path`: a regular file under the
/// repository's file size limit, in UTF-8.
pub fn read_lock(path: &Path) -> Result<String, ReadBackError> {
    let bytes = crate::text::repo_fs::read_regular(path, crate::text::repo_fs::MAX_FILE_SIZE)?;
    String::from_utf8(bytes).map_err(|_| ReadBackError::NotUtf8)
}

/// The directory of a lock at `path` as a hold-back's hint names it (`.` for the current one).
pub fn shown_dir(path: &Path) -> String {
    let dir = path.parent().map_or_else(String::new, crate::text::shown);
    if dir.is_empty() { ".".into() } else { dir }
}
