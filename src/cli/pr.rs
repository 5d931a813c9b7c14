//! `repin pr`: look everything up, then open, update and close pull requests on GitHub.
//!
//! The work is [`crate::run::pr`]'s (and [`crate::publish`]'s); this front end reads the arguments and the environment
//! (`GITHUB_REPOSITORY`, `GITHUB_API_URL`, `GITHUB_SERVER_URL`, the token variable), prints
//! what was done (or, with `--dry-run`, what would be, with the diffs) and, inside GitHub
//! Actions, writes the step outputs and the job summary.

use std::collections::BTreeMap;
use std::io::Write;

use super::check::{self, LookupArgs};
use super::style::{self, paint};
use super::{CliError, EXIT_ERROR, EXIT_OK};
use crate::forge::github::{DEFAULT_API, Usage};
use crate::publish::{Report, Verb};
use crate::run::pr::PrOptions;
use crate::vocab::{BranchCommand, IgnoreScope};

/// Arguments of `repin pr`.
#[derive(Debug, clap::Args)]
pub struct PrArgs {
    /// What to read and how to look it up (the paths must be in a git checkout)
    #[command(flatten)]
    pub lookup: LookupArgs,
    /// The GitHub repository, as owner/name
    #[arg(long, env = "GITHUB_REPOSITORY")]
    pub repo: String,
    /// The environment variable that holds the token
    #[arg(long, value_name = "NAME", default_value = "GITHUB_TOKEN")]
    pub token_env: String,
    /// GitHub's REST API (for GitHub Enterprise Server: https://HOST/api/v3)
    #[arg(long, env = "GITHUB_API_URL", default_value = DEFAULT_API)]
    pub api_url: String,
    /// The git remote to fetch from and push to (default: the repository on GITHUB_SERVER_URL,
    /// else github.com)
    #[arg(long)]
    pub remote: Option<String>,
    /// The base branch (default: the repository's default branch)
    #[arg(long)]
    pub base: Option<String>,
    /// Print the planned actions with their diffs; push nothing and write nothing to GitHub
    #[arg(long)]
    pub dry_run: bool,
    /// Work in a fresh shallow clone of the remote's default branch instead of a checkout
    /// (the self-hosted bot's way; PATHS are then relative to the clone)
    #[arg(long)]
    pub clone: bool,
    /// Rebase this pull request branch on the base branch now, whatever the rebase policy
    /// (what `@repin rebase` asks); refused when someone else pushed to it
    #[arg(long, value_name = "BRANCH")]
    pub rebase: Vec<String>,
    /// Make this pull request branch again from the base branch, replacing anyone's commits on
    /// it (what `@repin recreate` asks)
    #[arg(long, value_name = "BRANCH")]
    pub recreate: Vec<String>,
    /// Close this pull request and propose no release of its updates' minor versions again
    /// (what `@repin ignore this minor version` asks; security fixes still are)
    #[arg(long, value_name = "BRANCH")]
    pub ignore_minor: Vec<String>,
    /// Close this pull request and propose no release of its updates' major versions again
    /// (what `@repin ignore this major version` asks; security fixes still are)
    #[arg(long, value_name = "BRANCH")]
    pub ignore_major: Vec<String>,
    /// Close this pull request and propose no update of its dependencies again (what
    /// `@repin ignore this dependency` asks; security fixes still are)
    #[arg(long, value_name = "BRANCH")]
    pub ignore_dependency: Vec<String>,
}

impl PrArgs {
    /// The commands given, by branch (of two for one branch, the stronger:
    /// [`BranchCommand::and`]).
    fn commands(&self) -> BTreeMap<String, BranchCommand> {
        let mut commands = BTreeMap::new();
        let given = [
            (&self.rebase, BranchCommand::Rebase),
            (&self.recreate, BranchCommand::Recreate),
            (
                &self.ignore_minor,
                BranchCommand::Ignore(IgnoreScope::Minor),
            ),
            (
                &self.ignore_major,
                BranchCommand::Ignore(IgnoreScope::Major),
            ),
            (
                &self.ignore_dependency,
                BranchCommand::Ignore(IgnoreScope::Dependency),
            ),
        ]
        .into_iter()
        .flat_map(|(branches, command)| branches.iter().map(move |b| (b, command)));
        for (branch, command) in given {
            commands
                .entry(branch.clone())
                .and_modify(|c: &mut BranchCommand| *c = c.and(command))
                .or_insert(command);
        }
        commands
    }
}

/// The remote URL of `repository` on the GitHub server of this environment.
fn default_remote(repository: &str) -> String {
    let server = std::env::var("GITHUB_SERVER_URL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "https://github.com".into());
    format!("{}/{repository}.git", server.trim_end_matches('/'))
}

/// Run `repin pr`.
pub fn run(args: &PrArgs) -> Result<u8, CliError> {
    if args.lookup.client.offline {
        return Err(CliError::PrOffline);
    }
    let token = std::env::var(&args.token_env)
        .ok()
        .filter(|t| !t.trim().is_empty());
    if token.is_none() && !args.dry_run {
        return Err(CliError::NoToken(args.token_env.clone()));
    }
    let options = PrOptions {
        session: args.lookup.session_options(),
        repository: args.repo.clone(),
        api_url: args.api_url.clone(),
        token,
        remote: args
            .remote
            .clone()
            .unwrap_or_else(|| default_remote(&args.repo)),
        base: args.base.clone(),
        dry_run: args.dry_run,
        clone: args.clone,
        commands: args.commands(),
    };
    let published = crate::run::pr::pull_requests(&options)?;
    let (run, report) = (&published.run, &published.report);
    check::print_diagnostics(&run.workspace);
    report_usage(&published.usage);
    print_report(&args.repo, report, args.dry_run).map_err(CliError::Write)?;
    let _ = check::print_warnings(&mut anstream::stderr(), run);
    for failure in &run.outcome.failures {
        super::print_error(&format!(
            "{}: {}",
            super::shown(&failure.file),
            failure.message
        ));
    }
    for problem in &run.outcome.hosts {
        super::print_error(&problem.to_string());
    }
    if crate::action::is_github_actions() {
        if let Err(error) = report_to_actions(run, report, args.dry_run) {
            super::print_warning(&CliError::ActionsOutput(error));
        }
    }
    let failed =
        report.has_failures() || !run.outcome.failures.is_empty() || run.workspace.has_errors();
    Ok(if failed { EXIT_ERROR } else { EXIT_OK })
}

/// Write what the run asked of GitHub (requests, rate limit left) where `repin serve` asked
/// for it. A failure loses a metric, not the run.
fn report_usage(usage: &Usage) {
    let Some(path) = std::env::var_os(crate::forge::github::USAGE_FILE_ENV) else {
        return;
    };
    let json = serde_json::to_vec(usage).unwrap_or_default();
    let path = std::path::PathBuf::from(path);
    if let Err(source) =
        crate::text::atomic::write(&path, &json, crate::text::atomic::Durability::Cache)
    {
        super::print_warning(&CliError::UsageReport { path, source });
    }
}

fn verb_style(verb: &Verb) -> anstyle::Style {
    match verb {
        Verb::Created | Verb::Updated => style::NEW,
        Verb::Failed => style::ERROR,
        _ => anstyle::Style::new(),
    }
}

fn print_report(repository: &str, report: &Report, dry_run: bool) -> std::io::Result<()> {
    let mut out = anstream::stdout().lock();
    if let Some(fatal) = &report.fatal {
        writeln!(out, "{}", super::error_text(&fatal.to_string()))?;
        return Ok(());
    }
    writeln!(
        out,
        "{repository} (base {}){}",
        report.base,
        if dry_run {
            ": dry run, nothing is pushed or written"
        } else {
            ""
        }
    )?;
    let width = report
        .lines
        .iter()
        .map(|l| l.branch.len())
        .max()
        .unwrap_or(0);
    for line in &report.lines {
        let word = format!("{:<9}", line.verb.word(dry_run));
        write!(
            out,
            "  {} {:<width$}  {}",
            paint(verb_style(&line.verb), &word),
            line.branch,
            line.title
        )?;
        if let Some(url) = &line.url {
            write!(out, "  {url}")?;
        }
        writeln!(out)?;
        if !line.detail.text.is_empty() {
            // The detail's text, then its hints as `hint:` lines.
            for (i, text) in line.detail.to_string().lines().enumerate() {
                let lead = if i == 0 { "why: " } else { "     " };
                writeln!(out, "      {lead}{text}")?;
            }
        }
        if dry_run && !line.diff.is_empty() {
            for text in line.diff.lines() {
                writeln!(out, "      {text}")?;
            }
        }
    }
    let count = |verb: Verb| report.lines.iter().filter(|l| l.verb == verb).count();
    writeln!(
        out,
        "{} {}, {} {}, {} unchanged, {} {}, {} ignored, {} held back, {} failed",
        count(Verb::Created),
        if dry_run { "to create" } else { "created" },
        count(Verb::Updated),
        if dry_run { "to update" } else { "updated" },
        count(Verb::Unchanged),
        count(Verb::Closed),
        if dry_run { "to close" } else { "closed" },
        count(Verb::Ignored),
        count(Verb::HeldBack),
        count(Verb::Failed),
    )?;
    let edited = count(Verb::Edited);
    if edited > 0 {
        writeln!(
            out,
            "{edited} edited by someone else (left as they are; close them to let repin start again)"
        )?;
    }
    if let Some(url) = &report.dashboard {
        writeln!(out, "dashboard: {url}")?;
    }
    Ok(())
}

/// In GitHub Actions: the check's annotations, summary and `updates` output, then the pull
/// requests as the `pull-requests` output and a table in the summary.
fn report_to_actions(run: &check::Run, report: &Report, dry_run: bool) -> std::io::Result<()> {
    use crate::action::{Level, annotation, append_summary, set_output};
    use crate::plan::body::cell;
    check::report_to_actions(run)?;
    let urls: Vec<&str> = report
        .lines
        .iter()
        .filter(|l| matches!(l.verb, Verb::Created | Verb::Updated | Verb::Unchanged))
        .filter_map(|l| l.url.as_deref())
        .collect();
    set_output(
        "pull-requests",
        &serde_json::to_string(&urls).map_err(std::io::Error::other)?,
    )?;
    let mut out = std::io::stdout().lock();
    for line in report.lines.iter().filter(|l| l.verb == Verb::Failed) {
        writeln!(
            out,
            "{}",
            annotation(
                Level::Error,
                None,
                0,
                0,
                &format!("repin: {}", line.branch),
                &line.detail.to_string()
            )
        )?;
    }
    if let Some(fatal) = &report.fatal {
        writeln!(
            out,
            "{}",
            annotation(Level::Error, None, 0, 0, "repin", &fatal.to_string())
        )?;
    }
    let mut summary = String::from("\n### Pull requests\n\n");
    if report.lines.is_empty() {
        summary.push_str("Nothing to open, update or close.\n");
    } else {
        summary.push_str("| action | branch | title | link |\n|---|---|---|---|\n");
        for line in &report.lines {
            summary.push_str(&format!(
                "| {} | `{}` | {} | {} |\n",
                line.verb.word(dry_run),
                cell(&line.branch),
                cell(&line.title),
                line.url.as_deref().map(cell).unwrap_or_default()
            ));
        }
    }
    append_summary(&summary)
}
