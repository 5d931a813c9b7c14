//! `repin serve`: the webhook server of the self-hosted bot ([`crate::serve`]).

use std::net::SocketAddr;
use std::time::Duration;

use super::{CliError, EXIT_OK};
use crate::forge::github::DEFAULT_API;
use crate::serve::{Runner, Settings};

/// Arguments of `repin serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Where to listen for GitHub's webhook deliveries (`POST /webhook`)
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The environment variable that holds the webhook secret
    #[arg(long, value_name = "NAME", default_value = "REPIN_WEBHOOK_SECRET")]
    pub webhook_secret_env: String,
    /// A repository to serve, as owner/name (repeatable); deliveries for others are ignored.
    /// Required without an App; with one, the default is every repository of every
    /// installation of the App
    #[arg(
        long = "repo",
        value_name = "OWNER/NAME",
        required_unless_present = "app_id"
    )]
    pub repositories: Vec<String>,
    /// Also run every repository this often (`6 hours`, `1 day`), each at its own point of the
    /// interval; as an App without --repo, its installations are listed again as often
    #[arg(long, value_parser = parse_every)]
    pub every: Option<Duration>,
    /// The environment variable that holds the GitHub token of the runs
    #[arg(long, value_name = "NAME", default_value = "GITHUB_TOKEN")]
    pub token_env: String,
    /// GitHub's REST API (for GitHub Enterprise Server: https://HOST/api/v3)
    #[arg(long, env = "GITHUB_API_URL", default_value = DEFAULT_API)]
    pub api_url: String,
    /// A repository's git remote; `{owner}`, `{name}` and `{repo}` are replaced
    /// (default: the repository on GITHUB_SERVER_URL, else github.com)
    #[arg(long)]
    pub remote_template: Option<String>,
    /// Run as this GitHub App (its installation tokens instead of --token-env)
    #[arg(long, env = "REPIN_APP_ID", requires = "app_key_file")]
    pub app_id: Option<String>,
    /// The App's private key (the .pem file GitHub generated)
    #[arg(long, env = "REPIN_APP_KEY_FILE", requires = "app_id")]
    pub app_key_file: Option<std::path::PathBuf>,
    /// How many runs to make at once (never two of one repository)
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: u16,
    /// Kill a run still going after this long (`30 minutes`, `90s`)
    #[arg(long, default_value = "30 minutes", value_parser = parse_timeout)]
    pub job_timeout: Duration,
    /// The job queue: `sqlite:PATH` (created on first start; default: queue.sqlite in repin's
    /// state directory) or `postgres://USER:PASSWORD@HOST:PORT/DATABASE`, shared by every
    /// process serving the same repositories
    #[arg(long, env = "REPIN_DATABASE", value_name = "URL")]
    pub database: Option<String>,
    /// How long a job stays claimed by a process that stopped sending heartbeats (it died):
    /// then another takes it
    #[arg(long, default_value = "60s", value_parser = parse_lease)]
    pub lease: Duration,
    /// On SIGTERM, how long running jobs may finish before they are killed and given back
    #[arg(long, default_value = "20s", value_parser = crate::config::duration::parse)]
    pub shutdown_grace: Duration,
    /// The GitHub API requests an installation keeps back: while its runs last saw fewer left,
    /// its jobs wait for the rate-limit window to reset instead of starting (shared by every
    /// process through the database)
    #[arg(long, default_value_t = 200, value_name = "REQUESTS")]
    pub api_reserve: u64,
    /// The log on stderr: lines of text, or one JSON object a line (timestamp, level, message,
    /// repository, delivery, job)
    #[arg(long, value_enum, default_value_t = crate::log::Format::Text)]
    pub log_format: crate::log::Format,
    /// Which environment variables the repositories may use, and where they may go (passed to
    /// every run)
    #[command(flatten)]
    pub trust: super::check::TrustArgs,
    /// Let the runs run locking tools that may run the build code of the packages they
    /// resolve (Poetry): code a repository's dependencies choose, run on this host. Off by
    /// default: such locks' updates are held back, saying what to run
    #[arg(long, conflicts_with = "no_build_code")]
    pub allow_build_code: bool,
}

/// Why a duration flag of `repin serve` is refused (clap prints it after the flag's name).
#[derive(Debug, thiserror::Error)]
pub enum DurationArgError {
    /// Not a duration at all.
    #[error(transparent)]
    Duration(#[from] crate::config::duration::DurationError),
    /// `--lease` under a second.
    #[error("A lease shorter than a second would be lost between heartbeats")]
    LeaseTooShort,
    /// `--job-timeout 0`.
    #[error("A run needs some time")]
    NoTime,
    /// `--every` under a minute.
    #[error("Runs more often than once a minute would only queue up")]
    TooOften,
}

fn parse_lease(text: &str) -> Result<Duration, DurationArgError> {
    let lease = crate::config::duration::parse(text)?;
    if lease < Duration::from_secs(1) {
        return Err(DurationArgError::LeaseTooShort);
    }
    Ok(lease)
}

/// `sqlite:` and the default queue's path: `$XDG_STATE_HOME/repin/queue.sqlite` (or the
/// platform's local data directory).
fn default_database() -> String {
    let dir = dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .unwrap_or_else(std::env::temp_dir)
        .join("repin");
    format!("sqlite:{}", dir.join("queue.sqlite").display())
}

fn parse_timeout(text: &str) -> Result<Duration, DurationArgError> {
    let timeout = crate::config::duration::parse(text)?;
    if timeout.is_zero() {
        return Err(DurationArgError::NoTime);
    }
    Ok(timeout)
}

fn parse_every(text: &str) -> Result<Duration, DurationArgError> {
    let every = crate::config::duration::parse(text)?;
    if every < Duration::from_secs(60) {
        return Err(DurationArgError::TooOften);
    }
    Ok(every)
}

/// Run `repin serve`.
pub fn run(args: &ServeArgs) -> Result<u8, CliError> {
    let secret = std::env::var(&args.webhook_secret_env)
        .ok()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| CliError::NoWebhookSecret(args.webhook_secret_env.clone()))?;
    // Like `repin pr`: without a token or an App every run would fail, so the server does not
    // start (and never says it is listening).
    let token = std::env::var(&args.token_env)
        .ok()
        .filter(|t| !t.trim().is_empty());
    if token.is_none() && args.app_id.is_none() {
        return Err(CliError::NoGitHubAuth(args.token_env.clone()));
    }
    if let Some(bad) = args
        .repositories
        .iter()
        .find(|r| r.split('/').filter(|p| !p.is_empty()).count() != 2)
    {
        return Err(CliError::NotARepository(bad.clone()));
    }
    // Checked now, not at the first run.
    args.trust.allow_list()?;
    let program = std::env::current_exe().map_err(CliError::OwnBinary)?;
    let server = std::env::var("GITHUB_SERVER_URL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "https://github.com".into());
    let app = match (&args.app_id, &args.app_key_file) {
        (Some(id), Some(path)) => {
            let pem = std::fs::read_to_string(path).map_err(|source| CliError::ReadKey {
                path: path.clone(),
                source,
            })?;
            let app = crate::forge::app::App::new(id, &pem)?;
            let http = crate::registry::http::HttpClient::new(Default::default())?;
            Some(std::sync::Arc::new(crate::serve::AppAuth {
                app,
                http,
                api: args.api_url.clone(),
            }))
        }
        _ => None,
    };
    let run_args = run_args(args, app.is_some());
    // A run needs none of the server's own secrets: not the webhook's, not the queue's
    // database URL (it may hold a password), not the App's key, and with an App not the token
    // either (it gets its installation token).
    let mut withheld = vec![args.webhook_secret_env.clone(), "REPIN_DATABASE".to_owned()];
    if app.is_some() {
        withheld.extend([
            args.token_env.clone(),
            "REPIN_APP_ID".to_owned(),
            "REPIN_APP_KEY_FILE".to_owned(),
        ]);
    }
    let runner = Runner {
        program,
        args: run_args,
        withheld,
        app,
        remote_template: args
            .remote_template
            .clone()
            .unwrap_or_else(|| format!("{}/{{repo}}.git", server.trim_end_matches('/'))),
    };
    let settings = Settings {
        listen: args.listen,
        secret: secret.into_bytes(),
        repositories: args.repositories.clone(),
        every: args.every,
        runner,
        workers: usize::from(args.workers),
        job_timeout: args.job_timeout,
        database: args.database.clone().unwrap_or_else(default_database),
        lease: args.lease,
        shutdown_grace: args.shutdown_grace,
        api_reserve: args.api_reserve,
    };
    let runtime = super::check::runtime()?;
    let served = if args.repositories.is_empty() {
        "every repository of the App's installations".to_owned()
    } else {
        args.repositories.join(", ")
    };
    runtime.block_on(crate::serve::run(settings, |addr| {
        crate::serve::log::info(
            crate::serve::log::About::default(),
            &format!("listening on http://{addr} for {served}"),
        );
    }))?;
    Ok(EXIT_OK)
}

/// The arguments of every run, before `--repo`: a `repin pr` in a fresh clone, with the
/// operator's grants, the token variable (without an App) and, unless the operator allows it,
/// `--no-build-code`.
fn run_args(args: &ServeArgs, app: bool) -> Vec<String> {
    let mut run_args: Vec<String> = ["--color", "never", "pr", "--clone", "--api-url"]
        .into_iter()
        .map(str::to_owned)
        .chain([args.api_url.clone()])
        .collect();
    for grant in &args.trust.allow_env {
        run_args.extend(["--allow-env".to_owned(), grant.to_string()]);
    }
    // The runs work on other people's repositories, on this host: no code their dependencies
    // choose runs here unless the operator says so.
    if !args.allow_build_code {
        run_args.push("--no-build-code".to_owned());
    }
    if !app {
        run_args.extend(["--token-env".to_owned(), args.token_env.clone()]);
    }
    run_args
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(clap::Parser)]
    struct Serve {
        #[command(flatten)]
        args: ServeArgs,
    }

    /// The bot's runs never start a tool that may run build code unless the operator says so.
    #[test]
    fn runs_get_no_build_code_unless_the_operator_allows_it() {
        let parse = |extra: &[&str]| {
            Serve::try_parse_from(["serve", "--repo", "acme/service"].iter().chain(extra))
                .unwrap()
                .args
        };
        let default = run_args(&parse(&[]), false);
        assert!(
            default.contains(&"--no-build-code".to_owned()),
            "{default:?}"
        );
        assert_eq!(&default[..4], ["--color", "never", "pr", "--clone"]);
        let allowed = run_args(&parse(&["--allow-build-code"]), true);
        assert!(
            !allowed.contains(&"--no-build-code".to_owned()),
            "{allowed:?}"
        );
        assert!(!allowed.contains(&"--token-env".to_owned()), "{allowed:?}");
        assert!(Serve::try_parse_from(["serve", "--allow-build-code", "--no-build-code"]).is_err());
    }
}
