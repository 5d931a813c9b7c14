//! A run's session: the configuration and the clients built from it once (HTTP with its
//! cache, indexes, registries, the OSV API), with the repository root. Every job of the run
//! layer runs in one; each front end builds it from its own arguments.

use std::path::{Path, PathBuf};

use crate::config::{ConfigError, Loaded};
use crate::error::Hint;
use crate::lookup::{Checker, RunOptions, SetupError};
use crate::registry::http::{Cache, CacheMode};
use crate::registry::pypi::Environment;
use crate::registry::trust::{ALLOW_ENV_VAR, AllowList, Grant, TrustError};

/// Why a session could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// `--allow-env` or `REPIN_ALLOW_ENV` is not a list of grants.
    #[error(transparent)]
    Grants(TrustError),
    /// The configuration cannot be read or is invalid.
    #[error(transparent)]
    Config(ConfigError),
    /// `--offline` with no cache to answer from.
    #[error("--offline needs a cache directory")]
    OfflineWithoutCache,
    /// The clients cannot be built from the configuration.
    #[error(transparent)]
    Setup(SetupError),
    /// The async runtime cannot start.
    #[error("Cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
}

impl Hint for SessionError {
    fn hints(&self) -> Vec<String> {
        match self {
            SessionError::Grants(error) => error.hints(),
            SessionError::Config(error) => error.hints(),
            SessionError::OfflineWithoutCache => vec!["pass --cache-dir".into()],
            SessionError::Setup(error) => error.hints(),
            SessionError::Runtime(_) => Vec::new(),
        }
    }
}

/// What a session is built from: the front end's options, without any of its parsing.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// The repository directory, or files in it.
    pub paths: Vec<PathBuf>,
    /// The configuration file, when not found in the repository.
    pub config: Option<PathBuf>,
    /// The cache directory (default: the user's cache directory).
    pub cache_dir: Option<PathBuf>,
    /// Use no on-disk cache.
    pub no_cache: bool,
    /// Answer only from the cache.
    pub offline: bool,
    /// The operator's grants (`--allow-env`), besides `REPIN_ALLOW_ENV`.
    pub grants: Vec<Grant>,
    /// An offline advisory database instead of `[advisories]`.
    pub advisory_db: Option<PathBuf>,
    /// Never run a locking tool that may run the build code of the packages it resolves.
    pub no_build_code: bool,
}

/// The configuration and clients of a run, and the repository root.
pub struct Session {
    /// The clients and configuration.
    pub checker: Checker,
    /// The repository root.
    pub root: PathBuf,
}

impl Session {
    /// Read the configuration and build the clients.
    pub fn open(options: &SessionOptions) -> Result<Session, SessionError> {
        let root = root_of(&options.paths);
        let allow = allow_list(&options.grants).map_err(SessionError::Grants)?;
        let config = match &options.config {
            Some(path) => Loaded::read_given(path, &root),
            None => Loaded::discover(&root),
        }
        .map_err(SessionError::Config)?;
        let cache_dir = options.cache_dir.clone().or_else(Cache::default_dir);
        let cache = match (options.no_cache, options.offline, cache_dir) {
            (true, _, _) | (false, false, None) => CacheMode::Disabled,
            (false, true, None) => return Err(SessionError::OfflineWithoutCache),
            (false, true, Some(dir)) => CacheMode::Offline(Cache::new(dir)),
            (false, false, Some(dir)) => CacheMode::Enabled(Cache::new(dir)),
        };
        let run_options = RunOptions {
            cache,
            environment: Environment::from_process(),
            docker_config: crate::registry::oci::DockerConfig::default_dir(),
            now: now(),
            allow,
        };
        let mut checker = Checker::new(config, run_options).map_err(SessionError::Setup)?;
        checker.advisory_db = options.advisory_db.clone();
        checker.build_code = !options.no_build_code;
        Ok(Session { checker, root })
    }
}

/// The grants of `grants` and `REPIN_ALLOW_ENV`.
pub fn allow_list(grants: &[Grant]) -> Result<AllowList, TrustError> {
    let env = std::env::var(ALLOW_ENV_VAR).ok();
    AllowList::from_operator(grants, env.as_deref())
}

/// The async runtime of a command.
pub fn runtime() -> Result<tokio::runtime::Runtime, SessionError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(SessionError::Runtime)
}

/// The repository root of a command: the first path when it is a directory, else its parent.
pub fn root_of(paths: &[PathBuf]) -> PathBuf {
    let first = paths.first().cloned().unwrap_or_else(|| PathBuf::from("."));
    if first.is_dir() {
        first
    } else {
        first
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."))
    }
}

/// Now, in seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
