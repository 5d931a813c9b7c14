//! The command-line front end: argument parsing, output rendering and exit codes.
//!
//! Business logic lives in the library modules; each subcommand here only wires them together
//! and renders the result.

mod audit;
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

/// repin keeps the pins of Python services exact, current and free of known vulnerabilities.
#[derive(Debug, Parser)]
#[command(name = "repin", version = env!("REPIN_LONG_VERSION"), about, long_about = None)]
pub struct Cli {
    /// When to colour output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    /// How much to say on stderr besides the report (debug: every HTTP request)
    #[arg(long, value_enum, env = "REPIN_LOG", default_value_t = crate::log::Level::Info, global = true)]
    pub log_level: crate::log::Level,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
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
    /// Resolve a `.in` file into a fully pinned, hashed requirements file
    Lock(lock::LockArgs),
    /// Open, update and close pull requests on GitHub for the updates due
    Pr(pr::PrArgs),
    /// Serve GitHub's webhooks: run `repin pr` for a repository when it changes, and on a schedule
    Serve(serve::ServeArgs),
}

/// Arguments of `repin extract`.
#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    /// Files or directories to read (directories are walked, honouring .gitignore)
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Parse the command line, run the command and return the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    style::init(cli.color);
    crate::log::set(cli.log_level);
    let code = match cli.command {
        Command::Extract(args) => extract::run(&args),
        Command::Check(args) => check::check(&args),
        Command::Apply(args) => check::apply(&args),
        Command::Audit(args) => audit::run(&args),
        Command::Lock(args) => lock::run(&args),
        Command::Pr(args) => pr::run(&args),
        Command::Serve(args) => serve::run(&args),
    };
    ExitCode::from(code)
}
