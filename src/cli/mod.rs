//! The command-line front end: argument parsing, output rendering and exit codes.
//!
//! Business logic lives in the library modules; each subcommand here only wires them together
//! and renders the result.

mod audit;
mod audit_images;
mod audit_reports;
mod check;
mod extract;
mod lock;
mod pr;
mod serve;
mod style;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Exit code when the command ran and found nothing to report.
pub const EXIT_OK: u8 = 0;
/// Exit code when the command found what the user asked to be told about (updates due with
/// `--exit-code`, vulnerabilities at `--fail-on`).
pub const EXIT_FOUND: u8 = 1;
/// Exit code when something could not be read, parsed or looked up.
pub const EXIT_ERROR: u8 = 2;

/// Why a command stopped before its report: what every command returns besides its exit code,
/// rendered by [`main`] alone (`error:`, the message, its `Caused by:` and `hint:` lines).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The configuration, the clients or the runtime could not be set up.
    #[error(transparent)]
    Session(#[from] crate::run::session::SessionError),
    /// The audit could not be made.
    #[error(transparent)]
    Audit(#[from] crate::run::audit::AuditJobError),
    /// `--allow-env` or `REPIN_ALLOW_ENV` is not a list of grants.
    #[error(transparent)]
    Trust(#[from] crate::registry::trust::TrustError),
    /// The configuration cannot be read or is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The report could not be written.
    #[error("Cannot write the report")]
    Write(#[source] std::io::Error),
    /// The GitHub Actions step summary or outputs could not be written (a warning).
    #[error("Cannot write the GitHub Actions summary or outputs")]
    ActionsOutput(#[source] std::io::Error),
    /// The run's GitHub usage could not be written where `repin serve` asked (a warning).
    #[error("Cannot write the run's GitHub usage to {}", .path.display())]
    UsageReport {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `repin pr --offline`.
    #[error("`repin pr` cannot run offline: it talks to GitHub and pushes branches")]
    PrOffline,
    /// No token in the variable `--token-env` names.
    #[error("No token in `{0}`")]
    NoToken(String),
    /// The pull request job could not start (boxed: its git and GitHub errors are large).
    #[error(transparent)]
    Pr(Box<crate::run::pr::PrJobError>),
    /// No webhook secret in the variable `--webhook-secret-env` names.
    #[error("No webhook secret in `{0}`")]
    NoWebhookSecret(String),
    /// Neither a token nor an App for the bot's runs.
    #[error("No token in `{0}` and no GitHub App, so the runs could not reach GitHub")]
    NoGitHubAuth(String),
    /// A `--repo` that is not `owner/name`.
    #[error("`{0}` is not a repository name")]
    NotARepository(String),
    /// The path of repin's own binary (which the bot runs) is unknown.
    #[error("Cannot find repin's own binary")]
    OwnBinary(#[source] std::io::Error),
    /// The App's private key could not be read.
    #[error("Cannot read `{}`", .path.display())]
    ReadKey {
        /// The key file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The App's key is not usable.
    #[error(transparent)]
    App(#[from] crate::forge::app::AppError),
    /// The HTTP client could not be made.
    #[error(transparent)]
    Http(#[from] crate::registry::http::HttpError),
    /// The webhook server stopped.
    #[error(transparent)]
    Serve(#[from] crate::serve::ServeError),
    /// The lock could not be made or written.
    #[error(transparent)]
    Lock(#[from] crate::run::lock::LockJobError),
    /// The lock could not be printed.
    #[error("Cannot write the lock")]
    PrintLock(#[source] std::io::Error),
}

impl From<crate::run::pr::PrJobError> for CliError {
    fn from(error: crate::run::pr::PrJobError) -> Self {
        CliError::Pr(Box::new(error))
    }
}

impl crate::error::Hint for CliError {
    fn hints(&self) -> Vec<String> {
        match self {
            CliError::Session(e) => e.hints(),
            CliError::Audit(e) => e.hints(),
            CliError::Trust(e) => e.hints(),
            CliError::Config(e) => e.hints(),
            CliError::Pr(e) => e.hints(),
            CliError::Serve(e) => e.hints(),
            CliError::App(e) => e.hints(),
            CliError::Lock(e) => e.hints(),
            CliError::PrOffline => {
                vec!["use `repin check --offline` for a report from the cache".into()]
            }
            CliError::NoToken(_) => vec![
                "set it to a token with contents, pull-requests and issues write permission, or pass --token-env NAME".into(),
            ],
            CliError::NoWebhookSecret(_) => vec![
                "set it to the secret of the repository's or the App's webhook; repin refuses unsigned deliveries".into(),
            ],
            CliError::NoGitHubAuth(env) => vec![format!(
                "set `{env}` to a token with contents, pull-requests and issues write permission (or pass --token-env NAME), or run as a GitHub App with --app-id and --app-key-file"
            )],
            CliError::NotARepository(_) => vec!["write it as owner/name".into()],
            CliError::Write(_)
            | CliError::ActionsOutput(_)
            | CliError::UsageReport { .. }
            | CliError::OwnBinary(_)
            | CliError::ReadKey { .. }
            | CliError::Http(_)
            | CliError::PrintLock(_) => Vec::new(),
        }
    }
}

/// The exit code of a command's result: its own code, or [`EXIT_ERROR`] once the error is
/// printed. The one place a command's error becomes output and an exit code.
fn exit_code(result: Result<u8, CliError>) -> u8 {
    match result {
        Ok(code) => code,
        Err(error) => {
            print_error(&crate::error::chain(&error));
            EXIT_ERROR
        }
    }
}

/// Print an error the command goes on after as a warning: `warning:`, then the same lines
/// [`exit_code`] prints for an error.
fn print_warning(error: &CliError) {
    use std::io::Write;
    let _ = writeln!(
        anstream::stderr(),
        "{} {}",
        style::paint(style::SKIPPED, "warning:"),
        crate::error::chain(error)
    );
}

/// The heading of the options every command takes, apart from each command's own.
const GLOBAL: &str = "Global options";

/// repin keeps the pins of Python services exact, current and free of known vulnerabilities.
#[derive(Debug, Parser)]
#[command(name = "repin", version = env!("REPIN_LONG_VERSION"), about, long_about = None)]
pub struct Cli {
    /// When to colour output (NO_COLOR and CLICOLOR_FORCE are honoured with auto)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true, help_heading = GLOBAL)]
    pub color: ColorChoice,
    /// How much to say on stderr besides the report (debug: every HTTP request)
    #[arg(long, value_enum, env = "REPIN_LOG", default_value_t = crate::log::Level::Info, global = true, help_heading = GLOBAL)]
    pub log_level: crate::log::Level,
    /// Say less: warnings and errors only (-qq: errors only); overrides --log-level
    #[arg(short, long, action = clap::ArgAction::Count, global = true, conflicts_with = "verbose", help_heading = GLOBAL)]
    pub quiet: u8,
    /// Say more: every HTTP request (as --log-level debug); overrides --log-level
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub verbose: bool,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The log level: `-q`/`-v` when given, else `--log-level` (or `REPIN_LOG`).
    pub fn level(&self) -> crate::log::Level {
        use crate::log::Level;
        match (self.quiet, self.verbose) {
            (0, false) => self.log_level,
            (_, true) => Level::Debug,
            (1, _) => Level::Warn,
            _ => Level::Error,
        }
    }
}

/// When to use colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal that supports it.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Output format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people.
    Table,
    /// JSON for programs (the schema is documented in the README).
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List every pin in requirements files and Dockerfiles, with where it is
    Extract(ExtractArgs),
    /// Look every pin up and report the updates due (a dry run)
    Check(check::CheckArgs),
    /// Look every pin up and write the updates into the files
    Apply(check::ApplyArgs),
    /// List every pin affected by a known vulnerability, with the version that fixes it
    Audit(audit::AuditArgs),
    /// Resolve a `.in` file into a fully pinned, hashed requirements file or `pylock.toml`
    Lock(lock::LockArgs),
    /// Open, update and close pull requests on GitHub for the updates due
    Pr(pr::PrArgs),
    /// Serve GitHub's webhooks: run `repin pr` for a repository when it changes, and on a schedule
    Serve(serve::ServeArgs),
    /// Print a completion script for a shell (bash: `source <(repin completions bash)`)
    Completions(CompletionsArgs),
}

/// Arguments of `repin completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Arguments of `repin extract`.
#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    /// Files or directories to read (directories are walked, honouring .gitignore and
    /// `[paths] exclude` of repin.toml)
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Configuration file (default: repin.toml or .github/repin.toml in the repository)
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Accepted as every command takes it (extract expands no variable)
    #[command(flatten)]
    pub trust: check::TrustArgs,
}

/// Parse the command line, run the command and return the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    style::init(cli.color);
    let format = match &cli.command {
        Command::Serve(args) => args.log_format,
        _ => crate::log::Format::Text,
    };
    let colour = anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never;
    crate::log::init(cli.level(), format, colour);
    let result = match cli.command {
        Command::Extract(args) => extract::run(&args),
        Command::Check(args) => check::check(&args),
        Command::Apply(args) => check::apply(&args),
        Command::Audit(args) => audit::run(&args),
        Command::Lock(args) => lock::run(&args),
        Command::Pr(args) => pr::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Completions(args) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(args.shell, &mut command, "repin", &mut std::io::stdout());
            Ok(EXIT_OK)
        }
    };
    ExitCode::from(exit_code(result))
}

/// Print an error on stderr as every command does: `error: ` and the rendered error (its
/// message, `Caused by:` lines, then `hint:` lines: [`crate::error::chain`] or a
/// [`crate::vocab::Message`]'s `Display`). A message that is already a diagnostic
/// (`path:line:col: error: ...`) is printed as it is.
pub fn print_error(message: &str) {
    use std::io::Write;
    let _ = writeln!(anstream::stderr(), "{}", error_text(message));
}

/// The text [`print_error`] prints (its style is dropped by `anstream` when colour is off).
pub fn error_text(message: &str) -> String {
    let first = message.lines().next().unwrap_or("");
    if is_diagnostic(first) {
        message.strip_prefix("./").unwrap_or(message).to_owned()
    } else {
        format!("{} {message}", style::paint(style::ERROR, "error:"))
    }
}

/// Whether a line is a rendered diagnostic: `path:line:col: error: ...` or `path: error: ...`.
fn is_diagnostic(line: &str) -> bool {
    line.split_once(": error: ")
        .is_some_and(|(place, _)| !place.contains(' ') && !place.is_empty())
}

pub use crate::text::count;

pub use crate::text::shown;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_prefixed_unless_it_is_a_diagnostic() {
        anstream::ColorChoice::Never.write_global();
        let diagnostic = "./repin.toml:6:23: error: Invalid type\n  x = 5\n      ^";
        assert!(is_diagnostic(diagnostic.lines().next().unwrap()));
        assert!(!is_diagnostic("Cannot read `a b`: error: x"));
        // Printed as it is, the path without `./` as everywhere.
        assert!(error_text(diagnostic).starts_with("repin.toml:6:23: error: Invalid type"));
        assert!(error_text("No token").contains("error:"));
    }

    #[test]
    fn a_conflict_explains_itself_as_causes_and_an_error_exits_with_2() {
        use crate::lock::LockError;
        let conflict = LockError::Conflict {
            file: "a.in".into(),
            explanation: vec!["Because a needs b<1".into(), "a cannot be used".into()],
            hints: vec!["loosen b".into()],
        };
        use crate::run::lock::LockJobError;
        let conflict = CliError::from(LockJobError::from_resolution(conflict));
        assert_eq!(
            crate::error::chain(&conflict),
            "No set of versions satisfies the requirements of a.in\n  \
             Caused by: Because a needs b<1\n  \
             Caused by: a cannot be used\n  \
             hint: loosen b"
        );
        let invalid = LockError::InvalidTarget { python: "3".into() };
        assert!(matches!(
            LockJobError::from_resolution(invalid),
            LockJobError::Lock(_)
        ));
        assert_eq!(
            crate::error::chain(&CliError::NoToken("T".into())),
            "No token in `T`\n  hint: set it to a token with contents, pull-requests and issues write permission, or pass --token-env NAME"
        );
        anstream::ColorChoice::Never.write_global();
        assert_eq!(
            exit_code(Err(CliError::from(LockJobError::NoIndex))),
            EXIT_ERROR
        );
        assert_eq!(exit_code(Ok(EXIT_FOUND)), EXIT_FOUND);
    }

    #[test]
    fn counts_and_paths_read_as_english() {
        assert_eq!(count(1, "update", "updates"), "1 update");
        assert_eq!(count(0, "update", "updates"), "0 updates");
        assert_eq!(
            count(2, "lookup failed", "lookups failed"),
            "2 lookups failed"
        );
        assert_eq!(shown(std::path::Path::new("./Dockerfile")), "Dockerfile");
        assert_eq!(shown(std::path::Path::new("a/Dockerfile")), "a/Dockerfile");
        assert_eq!(shown(std::path::Path::new(".")), ".");
    }

    #[test]
    fn kinds_are_listed_and_global_options_grouped() {
        use clap::CommandFactory;
        let mut command = Cli::command();
        let apply = command.find_subcommand_mut("apply").unwrap();
        let help = apply.render_long_help().to_string();
        for kind in [
            "patch",
            "minor",
            "major",
            "python-minor",
            "digest",
            "pin",
            "migration",
        ] {
            assert!(help.contains(&format!("- {kind}:")), "{help}");
        }
        let check = command.find_subcommand_mut("check").unwrap();
        let help = check.render_long_help().to_string();
        assert!(
            help.contains("--only <NAME>") && help.contains("--advisory-db <PATH>"),
            "{help}"
        );
        let cli = Cli::try_parse_from(["repin", "-qq", "check"]).unwrap();
        assert_eq!(cli.level(), crate::log::Level::Error);
        let cli = Cli::try_parse_from(["repin", "check", "-v"]).unwrap();
        assert_eq!(cli.level(), crate::log::Level::Debug);
        assert!(Cli::try_parse_from(["repin", "-q", "-v", "check"]).is_err());
    }
}
