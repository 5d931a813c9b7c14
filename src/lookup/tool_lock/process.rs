//! One run of a locking tool (uv, Poetry, Pipenv) in a scratch directory, hardened: its
//! environment is cleared and rebuilt, so nothing of the environment repin runs in (its own
//! tokens, the bot's `UV_*`, `POETRY_*`, `PIPENV_*` or `PIP_*` settings and credentials) reaches
//! the tool; the only credentials it gets are the ones [`super::credentials`] gives it for the
//! indexes the project declares, and they are masked in what it prints; its home,
//! configuration, data and virtual environments are directories of the scratch; its standard
//! input is closed, its output captured (the last [`KEPT_OUTPUT`] bytes of each stream: a tool
//! that prints without end does not grow repin's memory), and it is killed when it runs too
//! long.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

use super::credentials::Credentials;
use crate::text::repo_fs::stays_within;

/// How long one run of a tool may take.
pub const TIMEOUT: Duration = Duration::from_secs(300);

/// How much of each of a tool's output streams is kept: the end, which says why it failed.
pub const KEPT_OUTPUT: usize = 256 * 1024;

/// How much of the end of a failed tool's output its error shows (its last lines, cut to this).
const SHOWN_OUTPUT: usize = 4096;

/// An environment variable a tool is given.
pub type EnvVar = (OsString, OsString);

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
    credentials: Credentials,
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
        Ok(Scratch {
            dir,
            credentials: Credentials::default(),
        })
    }

    /// Give every run of this scratch `credentials` (as environment variables), and mask
    /// their secrets in what the tool prints.
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
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

    /// Write `text` as the file at `relative` below the copy of the project (a workspace
    /// member's `packages/a/pyproject.toml`), making its directories; a path that would leave
    /// the copy (`..`, absolute) is refused.
    pub fn write_below(&self, relative: &Path, text: &str) -> Result<(), ProcessError> {
        // A file's name, and no way out of the copy.
        if !stays_within(relative) || relative.file_name().is_none() {
            return Err(ProcessError::Scratch(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("`{}` is not below the project", relative.display()),
            )));
        }
        let path = self.project().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(ProcessError::Scratch)?;
        }
        crate::text::atomic::write(
            &path,
            text.as_bytes(),
            crate::text::atomic::Durability::Cache,
        )
        .map_err(ProcessError::Scratch)
    }

    /// The environment every tool gets: the [`KEPT`] variables of repin's, and its home and
    /// XDG directories in the scratch (so neither the tool nor pip reads the configuration or
    /// keyring of the user repin runs as).
    fn base_env(&self) -> Vec<EnvVar> {
        let mut env: Vec<EnvVar> = KEPT
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

    /// Run `program args` in the project's copy with the base environment, the credentials and
    /// `env`, and return its standard output; its failure carries the end of what it wrote.
    pub async fn run(
        &self,
        program: &str,
        args: &[String],
        env: &[EnvVar],
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
            .envs(self.credentials.env().iter().cloned())
            .envs(env.iter().cloned())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|source| ProcessError::Missing {
            program: program.to_owned(),
            source,
        })?;
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(ProcessError::Scratch(std::io::Error::other(
                "the tool's output is not captured",
            )));
        };
        let finished = async {
            let (stdout, stderr, status) = tokio::join!(tail(stdout), tail(stderr), child.wait());
            Ok::<_, std::io::Error>((stdout?, stderr?, status?))
        };
        let (stdout, stderr, status) = match tokio::time::timeout(TIMEOUT, finished).await {
            Err(_) => {
                return Err(ProcessError::Timeout {
                    command: shown,
                    timeout: TIMEOUT,
                });
            }
            Ok(Err(error)) => return Err(ProcessError::Scratch(error)),
            Ok(Ok(output)) => output,
        };
        let stdout = String::from_utf8_lossy(&stdout).into_owned();
        if !status.success() {
            let stderr = String::from_utf8_lossy(&stderr);
            // The end says why; a resolver's explanation can be long.
            let lines: Vec<&str> = stderr
                .lines()
                .chain(stdout.lines())
                .filter(|l| !l.trim().is_empty())
                .collect();
            let mut tail = lines[lines.len().saturating_sub(12)..].join("\n");
            if tail.len() > SHOWN_OUTPUT {
                let mut start = tail.len() - SHOWN_OUTPUT;
                while !tail.is_char_boundary(start) {
                    start += 1;
                }
                tail = format!("…{}", &tail[start..]);
            }
            let said = self.credentials.mask(&crate::vocab::redact::text(&tail));
            return Err(ProcessError::Failed {
                command: shown,
                status: status.to_string(),
                output: ToolOutput(said),
            });
        }
        Ok(stdout)
    }
}

/// Everything `stream` gives until it ends, less all but its last [`KEPT_OUTPUT`] bytes.
async fn tail(mut stream: impl AsyncRead + Unpin) -> std::io::Result<Vec<u8>> {
    let mut kept = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = stream.read(&mut buffer).await?;
        if n == 0 {
            return Ok(kept);
        }
        kept.extend_from_slice(&buffer[..n]);
        if kept.len() > KEPT_OUTPUT {
            kept.drain(..kept.len() - KEPT_OUTPUT);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_written_below_the_copy_and_never_beside_it() {
        let scratch = Scratch::new("repin-test-").unwrap();
        scratch
            .write_below(Path::new("./packages/a/pyproject.toml"), "[project]\n")
            .unwrap();
        let written = scratch.project().join("packages/a/pyproject.toml");
        assert_eq!(std::fs::read_to_string(written).unwrap(), "[project]\n");
        for refused in ["../home/x", "/tmp/x", "", ".", "packages/.."] {
            let error = scratch.write_below(Path::new(refused), "x").unwrap_err();
            assert!(error.to_string().contains("scratch"), "{refused}: {error}");
        }
        assert!(!scratch.path("home").join("x").exists());
    }

    #[tokio::test]
    async fn only_the_end_of_a_stream_without_end_is_kept() {
        let endless = tokio::io::repeat(b'x')
            .take(20 * 1024 * 1024)
            .chain(&b"last words"[..]);
        let kept = tail(endless).await.unwrap();
        assert_eq!(kept.len(), KEPT_OUTPUT);
        assert!(kept.ends_with(b"xlast words"));
    }

    #[tokio::test]
    async fn a_failure_says_the_end_of_the_output_with_the_credentials_masked() {
        let scratch = Scratch::new("repin-test-")
            .unwrap()
            .with_credentials(Credentials::secret_var("INDEX_PASSWORD", "hunter2-secret"));
        // Three megabytes on one line, then why, all on stderr.
        let script = "{ head -c 3000000 /dev/zero | tr '\\0' x; echo; \
                      echo \"401 with password $INDEX_PASSWORD at $HOME\"; } >&2; exit 3";
        let error = scratch
            .run("sh", &["-c".into(), script.into()], &[])
            .await
            .unwrap_err();
        let ProcessError::Failed { status, output, .. } = &error else {
            panic!("{}", &error.to_string()[..200]);
        };
        assert!(status.contains('3'), "{status}");
        let said = output.to_string();
        assert!(said.len() <= SHOWN_OUTPUT + "…".len(), "{}", said.len());
        let home = scratch.path("home");
        let last = said.lines().last().unwrap_or_default();
        assert_eq!(
            last,
            format!("401 with password **** at {}", home.display()),
            "{}",
            &last[last.len().saturating_sub(200)..]
        );
    }

    #[tokio::test]
    async fn nothing_of_repins_environment_reaches_the_tool_but_what_it_keeps() {
        let scratch = Scratch::new("repin-test-").unwrap();
        let out = scratch
            .run("sh", &["-c".into(), "env".into()], &[])
            .await
            .unwrap();
        let names: Vec<&str> = out.lines().filter_map(|l| l.split('=').next()).collect();
        let allowed = |name: &str| {
            KEPT.contains(&name)
                || [
                    "HOME",
                    "XDG_CONFIG_HOME",
                    "XDG_CACHE_HOME",
                    "XDG_DATA_HOME",
                    "TMPDIR",
                    "PYTHON_KEYRING_BACKEND",
                    "PYTHONDONTWRITEBYTECODE",
                    // Set by the shell itself.
                    "PWD",
                    "SHLVL",
                    "_",
                    "OLDPWD",
                ]
                .contains(&name)
        };
        let foreign: Vec<&&str> = names.iter().filter(|n| !allowed(n)).collect();
        assert!(foreign.is_empty(), "{foreign:?}");
        assert!(names.contains(&"HOME"));
    }
}
