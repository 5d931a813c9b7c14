//! The `pr` job: in a git checkout (or a fresh shallow clone of the remote), look everything up,
//! then open, update and close the pull requests of the updates due, with [`crate::publish`].
//!
//! The front end reads the arguments and the environment and shows the [`Published`] report;
//! everything between (the clone, the lookups, GitHub's client, the author of the commits, the
//! job) is here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::check::{Purpose, Run, look_up};
use super::session::{SessionError, SessionOptions, now, runtime};
use crate::config::parse_identity;
use crate::forge::github::{GitHub, GitHubError, Target, Usage};
use crate::git::{Credentials, GitError, Identity, Repository};
use crate::manifest::{Dependency, DependencyDetail};
use crate::publish::{Job, Report, Settings};
use crate::vocab::BranchCommand;

/// Why the job could not start (a failure after it started is in its [`Report`]).
#[derive(Debug, thiserror::Error)]
pub enum PrJobError {
    /// The configuration, the clients or the runtime could not be set up.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The scratch directory of the clone could not be made.
    #[error("Cannot make a directory for the clone")]
    CloneDirectory(#[source] std::io::Error),
    /// The checkout could not be opened, or the remote cloned.
    #[error(transparent)]
    Git(#[from] GitError),
    /// GitHub's client could not be made.
    #[error(transparent)]
    GitHub(#[from] GitHubError),
}

impl crate::error::Hint for PrJobError {
    fn hints(&self) -> Vec<String> {
        match self {
            PrJobError::Session(e) => e.hints(),
            PrJobError::Git(e) => e.hints(),
            PrJobError::GitHub(e) => e.hints(),
            PrJobError::CloneDirectory(_) => Vec::new(),
        }
    }
}

/// What the job works on and where it pushes.
#[derive(Debug, Clone)]
pub struct PrOptions {
    /// The lookups' session; its paths are relative to the clone with `clone`.
    pub session: SessionOptions,
    /// The GitHub repository, as `owner/name`.
    pub repository: String,
    /// GitHub's REST API.
    pub api_url: String,
    /// The token for GitHub and the remote (`None` only for a dry run).
    pub token: Option<String>,
    /// The git remote to fetch from and push to.
    pub remote: String,
    /// The base branch (`None`: the repository's default branch).
    pub base: Option<String>,
    /// Push nothing and write nothing to GitHub; say what would be done.
    pub dry_run: bool,
    /// Work in a fresh shallow clone of the remote instead of the checkout the paths are in.
    pub clone: bool,
    /// The commands given for pull request branches (`@repin rebase` and the like).
    pub commands: BTreeMap<String, BranchCommand>,
}

/// What the job did.
pub struct Published {
    /// The repository as read, and its lookups.
    pub run: Run,
    /// The pull requests opened, updated, closed or held back, and why.
    pub report: Report,
    /// What the job asked of GitHub (requests, rate limit left).
    pub usage: Usage,
    /// The clone, removed when this is dropped (the run's paths are in it).
    _clone: Option<tempfile::TempDir>,
}

/// Run the job.
pub fn pull_requests(options: &PrOptions) -> Result<Published, PrJobError> {
    // Checked first: a mistyped repository or API URL fails before the lookups, not after
    // them (which would lose what they found).
    let target = Target::new(&options.api_url, &options.repository)?;
    let credentials = Credentials {
        token: options.token.clone(),
    };
    // Kept until the report is dropped: the clone is removed with it.
    let mut clone = None;
    let (repo, session) = if options.clone {
        let dir = tempfile::Builder::new()
            .prefix("repin-clone-")
            .tempdir()
            .map_err(PrJobError::CloneDirectory)?;
        let repo = Repository::clone(&options.remote, dir.path(), Some(1), &credentials)?;
        let paths: Vec<PathBuf> = options
            .session
            .paths
            .iter()
            .map(|p| dir.path().join(p))
            .collect();
        let session = SessionOptions {
            paths,
            ..options.session.clone()
        };
        clone = Some(dir);
        (repo, session)
    } else {
        let first = options
            .session
            .paths
            .first()
            .map_or_else(|| Path::new("."), |p| p.as_path());
        (Repository::open(first)?, options.session.clone())
    };
    let runtime = runtime()?;
    let run = look_up(
        &runtime,
        &session,
        Purpose {
            pull_requests: true,
        },
    )?;
    let github = GitHub::for_target(
        run.checker.pypi.http().clone(),
        target,
        options.token.clone(),
    );
    let identity = match &run.checker.config.config.pull_requests.author {
        Some(author) => {
            let (name, email) = parse_identity(author.get_ref())
                .expect("the configuration checked the author's form");
            Identity { name, email }
        }
        None => Identity::default(),
    };
    let settings = Settings {
        remote: options.remote.clone(),
        base: options.base.clone(),
        credentials,
        identity,
        dry_run: options.dry_run,
        now: now(),
        commands: options.commands.clone(),
    };
    let pypi_is_default = |file: &Path, dependency: &Dependency| -> bool {
        let DependencyDetail::Python(python) = &dependency.detail else {
            return false;
        };
        run.checker
            .indexes
            .indexes(&python.index, Some(file))
            .is_ok_and(|indexes| {
                !indexes.is_empty()
                    && indexes
                        .iter()
                        .all(|i| i.url.to_string().starts_with("https://pypi.org/"))
            })
    };
    let job = Job {
        github: &github,
        repo: &repo,
        workspace: &run.workspace,
        outcome: &run.outcome,
        config: &run.checker.config,
        settings: &settings,
        pypi_is_default: &pypi_is_default,
    };
    let report = runtime.block_on(job.run());
    let usage = github.usage();
    Ok(Published {
        run,
        report,
        usage,
        _clone: clone,
    })
}
