//! `repin check` and `repin apply`: look everything up, decide, report or write.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::style::{self, paint};
use super::{CliError, EXIT_ERROR, EXIT_FOUND, EXIT_OK, Format, count, print_error, shown};
use crate::apply::{self, EditFailure};
use crate::decide::Update;
use crate::lookup::Finding;
use crate::manifest::workspace::Workspace;
use crate::run::SessionOptions;
use crate::versioning::UpdateKind;
use crate::vocab::Message;

/// Options shared by every command that looks things up.
#[derive(Debug, Clone, clap::Args)]
pub struct LookupArgs {
    /// Repository directory, or files (default: the current directory)
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// The configuration and the cache
    #[command(flatten)]
    pub client: ClientArgs,
    /// An offline advisory database (an OSV directory such as PyPA's advisory-database, or a
    /// PyPI all.zip) instead of `[advisories]` of repin.toml
    #[arg(long, value_name = "PATH")]
    pub advisory_db: Option<PathBuf>,
}

/// Which updates a command takes: `--only` and `--kind`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Selection {
    /// Only these dependencies (package or full image names; repeatable)
    #[arg(long = "only", value_name = "NAME")]
    pub only: Vec<String>,
    /// Only updates of this kind (repeatable)
    #[arg(long = "kind", value_name = "KIND", value_enum)]
    pub kinds: Vec<KindArg>,
}

/// An update kind, as `--kind` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KindArg {
    /// Same major and minor
    Patch,
    /// Same major
    Minor,
    /// A new major
    Major,
    /// A base image's Python minor (3.12 to 3.13)
    PythonMinor,
    /// A new digest for the same image tag
    Digest,
    /// A digest added to a tag, or a range turned into a pin
    Pin,
    /// Off an end-of-life Python or distribution release
    Migration,
    /// A compiled lock re-resolved as a whole
    Lock,
}

impl From<KindArg> for UpdateKind {
    fn from(kind: KindArg) -> Self {
        match kind {
            KindArg::Patch => UpdateKind::Patch,
            KindArg::Minor => UpdateKind::Minor,
            KindArg::Major => UpdateKind::Major,
            KindArg::PythonMinor => UpdateKind::PythonMinor,
            KindArg::Digest => UpdateKind::Digest,
            KindArg::Pin => UpdateKind::Pin,
            KindArg::Migration => UpdateKind::Migration,
            KindArg::Lock => UpdateKind::Lock,
        }
    }
}

impl Selection {
    /// The selection as the jobs take it.
    pub fn to_run(&self) -> crate::run::Selection {
        crate::run::Selection {
            only: self.only.clone(),
            kinds: self.kinds.iter().map(|k| UpdateKind::from(*k)).collect(),
        }
    }
}

/// The configuration file and the cache of every command that talks to indexes or registries.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    /// Configuration file (default: repin.toml or .github/repin.toml in the repository)
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Cache directory for index and registry answers
    #[arg(long, env = "REPIN_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Do not use the on-disk cache
    #[arg(long, conflicts_with = "offline")]
    pub no_cache: bool,
    /// Answer only from the cache; no network
    #[arg(long)]
    pub offline: bool,
    /// Which environment variables the repository may use, and where they may go
    #[command(flatten)]
    pub trust: TrustArgs,
}

/// `--allow-env`, taken by every command that reads a repository.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TrustArgs {
    /// Let the repository's files and repin.toml expand `${NAME}` in URLs that go to ORIGIN
    /// (`https://host[:port]`) only (repeatable; also REPIN_ALLOW_ENV, comma or space separated);
    /// any other variable is refused
    #[arg(long = "allow-env", value_name = "NAME@ORIGIN")]
    pub allow_env: Vec<crate::registry::trust::Grant>,
    /// Never run a locking tool that may run the build code of the packages it resolves
    /// (Poetry, for a release with no wheel): its lock's updates are held back instead (what
    /// `repin serve` asks of its runs)
    #[arg(long)]
    pub no_build_code: bool,
}

impl TrustArgs {
    /// The grants of `--allow-env` and `REPIN_ALLOW_ENV`.
    pub fn allow_list(
        &self,
    ) -> Result<crate::registry::trust::AllowList, crate::registry::trust::TrustError> {
        crate::run::session::allow_list(&self.allow_env)
    }
}

/// Arguments of `repin check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// What to read and how to look it up
    #[command(flatten)]
    pub lookup: LookupArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Print the edits as a unified diff
    #[arg(long)]
    pub diff: bool,
    /// Exit with 1 when updates are due
    #[arg(long)]
    pub exit_code: bool,
    /// Also list dependencies that are up to date or skipped
    #[arg(long)]
    pub all: bool,
    /// Which updates to report
    #[command(flatten)]
    pub selection: Selection,
}

/// Arguments of `repin apply`.
#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// What to read and how to look it up
    #[command(flatten)]
    pub lookup: LookupArgs,
    /// Which updates to write (for each dependency, the first of its updates selected: the
    /// patch or minor update before the major one)
    #[command(flatten)]
    pub selection: Selection,
}

/// A loaded repository and its lookups.
pub(super) type Run = crate::run::Run;

impl LookupArgs {
    /// The session these arguments ask for.
    pub(super) fn session_options(&self) -> SessionOptions {
        SessionOptions {
            paths: self.paths.clone(),
            config: self.client.config.clone(),
            cache_dir: self.client.cache_dir.clone(),
            no_cache: self.client.no_cache,
            offline: self.client.offline,
            grants: self.client.trust.allow_env.clone(),
            advisory_db: self.advisory_db.clone(),
            no_build_code: self.client.trust.no_build_code,
        }
    }
}

/// The async runtime of a command.
pub(super) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    Ok(crate::run::runtime()?)
}

fn run(args: &LookupArgs) -> Result<Run, CliError> {
    run_on(&runtime()?, args)
}

/// Load the repository and look everything up on `runtime` (which the caller may go on
/// using with the same clients).
fn run_on(runtime: &tokio::runtime::Runtime, args: &LookupArgs) -> Result<Run, CliError> {
    let purpose = crate::run::check::Purpose::default();
    Ok(crate::run::check::look_up(
        runtime,
        &args.session_options(),
        purpose,
    )?)
}

/// One update in the JSON report.
#[derive(Debug, Serialize)]
struct UpdateEntry<'a> {
    file: String,
    line: usize,
    column: usize,
    name: &'a str,
    current: &'a str,
    proposed: &'a str,
    kind: UpdateKind,
    reason: &'a str,
    security: bool,
    fixes: &'a [String],
    age_days: Option<u64>,
    /// For a re-lock (kind `lock`): every pin it moves, with why.
    moved: &'a [crate::manifest::edit::MovedPin],
    /// For an update of a `.in`: the locks compiled from it that are re-locked with it, as
    /// one update.
    companions: Vec<CompanionEntry<'a>>,
    /// `path:line` of each reference that takes the changed value, when there are several.
    used_at: Vec<String>,
    /// The index's reason when the current pin is yanked (`""` when it gives none).
    yanked: Option<&'a str>,
    /// The base image update this one goes with (`[images] group-unblocked`), never alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    rides_with: Option<RidesWithEntry<'a>>,
}

/// The base image update an update goes with, in the JSON report.
#[derive(Debug, Serialize)]
struct RidesWithEntry<'a> {
    /// The Dockerfile.
    file: String,
    /// The line of its `FROM`.
    line: usize,
    /// The image's proposed value.
    proposed: &'a str,
    /// The Python it moves to.
    python: &'a str,
}

/// A lock re-locked with an update, in the JSON report.
#[derive(Debug, Serialize)]
struct CompanionEntry<'a> {
    file: String,
    /// Every pin it moves, with why.
    moved: &'a [crate::manifest::edit::MovedPin],
}

/// A dependency without update in the JSON report.
#[derive(Debug, Serialize)]
struct OtherEntry<'a> {
    file: String,
    line: usize,
    name: &'a str,
    current: &'a str,
    reason: String,
    /// What to do about it, apart from the reason.
    hints: Vec<String>,
}

/// A failure in the JSON report: its text as `message`, its `hints` beside it.
#[derive(Debug, Serialize)]
struct ErrorEntry<'a> {
    file: String,
    line: usize,
    name: &'a str,
    #[serde(flatten)]
    message: &'a Message,
}

/// A file's target in the JSON report.
#[derive(Debug, Serialize)]
struct FileEntry<'a> {
    file: String,
    target: &'a crate::target::Target,
}

#[derive(Debug, Serialize)]
pub(super) struct CheckReport<'a> {
    files: Vec<FileEntry<'a>>,
    updates: Vec<UpdateEntry<'a>>,
    skipped: Vec<OtherEntry<'a>>,
    held_back: Vec<OtherEntry<'a>>,
    /// Requirements that cannot be installed on their file's target.
    problems: Vec<OtherEntry<'a>>,
    up_to_date: usize,
    errors: Vec<ErrorEntry<'a>>,
    warnings: &'a [Message],
    notes: Vec<Message>,
    hosts: &'a [Message],
}

/// An update as listed: once, with every place that uses the value it changes.
struct Listed<'a> {
    finding: &'a Finding,
    update: &'a Update,
    /// `path:line` of each reference that takes the value, when there are several (two `FROM`
    /// lines taking their tag from one `ARG`); empty otherwise.
    used_at: Vec<String>,
}

/// Where a dependency's value is used: the reference of an image, the argument of a `pip
/// install`, the line of a requirement.
fn used_at(workspace: &Workspace, finding: &Finding) -> Option<String> {
    let (manifest, dependency) = workspace.dependency(&finding.file, finding.index)?;
    let span = match &dependency.detail {
        crate::manifest::DependencyDetail::Image(image) => image.reference_span,
        crate::manifest::DependencyDetail::Python(python) => python.entry_span,
    };
    let line = manifest.source.position(span.start).line;
    Some(format!("{}:{line}", shown(&finding.file)))
}

/// The updates due, security first, then by file and position; the same update of the same
/// value reached from several references (one `ARG` default feeding two `FROM` lines) is
/// listed once, naming each reference, as `apply` makes it once.
fn updates_first(run: &Run) -> Vec<Listed<'_>> {
    let mut all: Vec<(&Finding, &Update)> = run
        .outcome
        .findings
        .iter()
        .flat_map(|f| f.decision.updates.iter().map(move |u| (f, u)))
        .collect();
    // Security fixes and yanked pins first.
    all.sort_by_key(|(f, u)| (!u.is_security(), !u.is_urgent(), f.file.clone(), f.index));
    let workspace = &run.workspace;
    let value = |finding: &Finding, update: &Update| {
        workspace
            .dependency(&finding.file, finding.index)
            .map(|(_, d)| {
                (
                    finding.file.clone(),
                    d.name.clone(),
                    d.span,
                    update.kind,
                    update.current.clone(),
                    update.proposed.clone(),
                )
            })
    };
    let mut listed: Vec<Listed<'_>> = Vec::new();
    let mut seen: BTreeMap<_, usize> = BTreeMap::new();
    for (finding, update) in all {
        let key = value(finding, update);
        if let Some(&at) = key.as_ref().and_then(|k| seen.get(k)) {
            let first: &mut Listed<'_> = &mut listed[at];
            if first.used_at.is_empty() {
                first.used_at.extend(used_at(workspace, first.finding));
            }
            first.used_at.extend(used_at(workspace, finding));
            continue;
        }
        if let Some(key) = key {
            seen.insert(key, listed.len());
        }
        listed.push(Listed {
            finding,
            update,
            used_at: Vec::new(),
        });
    }
    listed
}

pub(super) fn report<'a>(run: &'a Run) -> CheckReport<'a> {
    let mut report = CheckReport {
        files: run
            .outcome
            .targets
            .iter()
            .map(|(path, target)| FileEntry {
                file: shown(path),
                target,
            })
            .collect(),
        updates: Vec::new(),
        skipped: Vec::new(),
        held_back: Vec::new(),
        problems: Vec::new(),
        up_to_date: 0,
        errors: Vec::new(),
        warnings: &run.outcome.warnings,
        notes: run.outcome.notes.clone(),
        hosts: &run.outcome.hosts,
    };
    for Listed {
        finding,
        update,
        used_at,
    } in updates_first(run)
    {
        let Some((manifest, dep)) = run.workspace.dependency(&finding.file, finding.index) else {
            continue;
        };
        let p = manifest.source.position(dep.span.start);
        report.updates.push(UpdateEntry {
            file: shown(&finding.file),
            line: p.line,
            column: p.column,
            name: &dep.name,
            current: &update.current,
            proposed: &update.proposed,
            kind: update.kind,
            reason: &update.reason,
            security: update.is_security(),
            fixes: &update.fixes,
            age_days: update.age.map(|a| a.as_secs() / 86_400),
            moved: match &update.change {
                crate::manifest::edit::Change::Relock(relock) => &relock.moved,
                _ => &[],
            },
            companions: update
                .companions
                .iter()
                .map(|c| CompanionEntry {
                    file: shown(&c.file),
                    moved: &c.relock.moved,
                })
                .collect(),
            used_at,
            yanked: update.yanked.as_deref(),
            rides_with: update.rides_with.as_ref().map(|r| RidesWithEntry {
                file: shown(&r.file),
                line: r.line,
                proposed: &r.proposed,
                python: &r.python,
            }),
        });
    }
    for finding in &run.outcome.findings {
        let Some((manifest, dep)) = run.workspace.dependency(&finding.file, finding.index) else {
            continue;
        };
        let line = manifest.source.position(dep.span.start).line;
        for note in &finding.decision.notes {
            report.notes.push(note.clone().prefixed(&format!(
                "{}:{line}: {}: ",
                shown(&finding.file),
                dep.name
            )));
        }
        if !finding.decision.updates.is_empty() {
            continue;
        }
        let entry = |reason: Message| OtherEntry {
            file: shown(&finding.file),
            line,
            name: &dep.name,
            current: &dep.current,
            reason: reason.text,
            hints: reason.hints,
        };
        match &finding.decision.none {
            Some(crate::decide::NoUpdate::Skipped { skip }) => {
                report.skipped.push(entry(skip.as_str().into()));
            }
            Some(none @ crate::decide::NoUpdate::HeldBack { .. }) => {
                report.held_back.push(entry(none.message()));
            }
            Some(none) if none.is_problem() => report.problems.push(entry(none.message())),
            _ => report.up_to_date += 1,
        }
    }
    for failure in &run.outcome.failures {
        let Some((manifest, dep)) = run.workspace.dependency(&failure.file, failure.index) else {
            continue;
        };
        report.errors.push(ErrorEntry {
            file: shown(&failure.file),
            line: manifest.source.position(dep.span.start).line,
            name: &dep.name,
            message: &failure.message,
        });
    }
    report
}

/// How long ago the proposed release was published (`released 1083 days ago`), or an image
/// built (`built 3 days ago`: registries publish no push time).
fn age_text(update: &Update) -> String {
    let verb = match update.change {
        crate::manifest::edit::Change::Image { .. } => "built",
        _ => "released",
    };
    update
        .age
        .map(|age| format!("{verb} {} ago", crate::decide::human_age(age)))
        .unwrap_or_default()
}

fn print_table(run: &Run, all: bool, edit_failures: &[EditFailure]) -> std::io::Result<()> {
    let mut out = anstream::stdout().lock();
    let findings = &run.outcome.findings;
    // Grouped by file once: a scan of every finding per file is quadratic in large repositories.
    type Group<'a> = (
        Vec<Listed<'a>>,
        Vec<&'a Finding>,
        Vec<&'a crate::lookup::Failure>,
    );
    let mut by_file: std::collections::BTreeMap<&Path, Group<'_>> = Default::default();
    for listed in updates_first(run) {
        by_file
            .entry(listed.finding.file.as_path())
            .or_default()
            .0
            .push(listed);
    }
    for finding in findings.iter().filter(|f| f.decision.updates.is_empty()) {
        by_file
            .entry(finding.file.as_path())
            .or_default()
            .1
            .push(finding);
    }
    for failure in &run.outcome.failures {
        by_file
            .entry(failure.file.as_path())
            .or_default()
            .2
            .push(failure);
    }
    let (mut due, mut security, mut problems) = (0, 0, 0);
    for (file, (updates, others, failures)) in by_file {
        let mut lines = Vec::new();
        for Listed {
            finding,
            update,
            used_at,
        } in updates
        {
            let Some((manifest, dep)) = run.workspace.dependency(file, finding.index) else {
                continue;
            };
            let p = manifest.source.position(dep.span.start);
            due += 1;
            let kind = if update.is_security() {
                security += 1;
                paint(style::ERROR, format!("security/{}", update.kind))
            } else if update.yanked.is_some() {
                paint(style::ERROR, format!("yanked/{}", update.kind))
            } else {
                paint(style::KIND, update.kind)
            };
            let places = if used_at.is_empty() {
                String::new()
            } else {
                format!("  (used at {})", used_at.join(", "))
            };
            lines.push(format!(
                "  {} {:<28} {} → {}  {}  {}  {}{}",
                paint(
                    style::DIM,
                    format!("{:>7}", format!("{}:{}", p.line, p.column))
                ),
                dep.name,
                update.current,
                paint(style::NEW, &update.proposed),
                kind,
                paint(style::DIM, age_text(update)),
                paint(style::DIM, &update.reason),
                paint(style::DIM, places)
            ));
        }
        for finding in others {
            let Some((manifest, dep)) = run.workspace.dependency(file, finding.index) else {
                continue;
            };
            let held = matches!(
                finding.decision.none,
                Some(crate::decide::NoUpdate::HeldBack { .. })
            );
            let problem = finding
                .decision
                .none
                .as_ref()
                .is_some_and(crate::decide::NoUpdate::is_problem);
            if !(all || held || problem) {
                continue;
            }
            problems += usize::from(problem);
            let p = manifest.source.position(dep.span.start);
            let why = finding
                .decision
                .none
                .as_ref()
                .map(crate::decide::NoUpdate::describe)
                .unwrap_or_default();
            lines.push(format!(
                "  {} {:<28} {}  {}",
                paint(
                    style::DIM,
                    format!("{:>7}", format!("{}:{}", p.line, p.column))
                ),
                dep.name,
                dep.current,
                if problem {
                    paint(style::ERROR, why)
                } else {
                    paint(style::SKIPPED, why)
                }
            ));
        }
        for failure in failures {
            let Some((manifest, dep)) = run.workspace.dependency(file, failure.index) else {
                continue;
            };
            let p = manifest.source.position(dep.span.start);
            lines.push(format!(
                "  {} {:<28} {}  {}",
                paint(
                    style::DIM,
                    format!("{:>7}", format!("{}:{}", p.line, p.column))
                ),
                dep.name,
                dep.current,
                paint(
                    style::ERROR,
                    failure.message.to_string().replace('\n', "\n            ")
                )
            ));
        }
        if lines.is_empty() {
            continue;
        }
        let target = match run.outcome.targets.of(file) {
            Some(target) if all => format!("  {}", paint(style::DIM, target)),
            _ => String::new(),
        };
        writeln!(out, "{}{target}", paint(style::HEADING, shown(file)))?;
        for line in lines {
            writeln!(out, "{line}")?;
        }
        writeln!(out)?;
    }
    let mut notes: Vec<Message> = run.outcome.notes.clone();
    for finding in findings {
        if let Some((manifest, dep)) = run.workspace.dependency(&finding.file, finding.index) {
            let line = manifest.source.position(dep.span.start).line;
            notes.extend(finding.decision.notes.iter().map(|n| {
                n.clone()
                    .prefixed(&format!("{}:{line}: {}: ", shown(&finding.file), dep.name))
            }));
        }
    }
    if crate::log::enabled(crate::log::Level::Info) {
        for note in &notes {
            writeln!(out, "{} {note}", paint(style::DIM, "note:"))?;
        }
    }
    for failure in edit_failures {
        writeln!(out, "{}", super::error_text(&failure.message.to_string()))?;
    }
    print_warnings(&mut out, run)?;
    for problem in &run.outcome.hosts {
        writeln!(out, "{}", super::error_text(&problem.to_string()))?;
    }
    let total: usize = run
        .workspace
        .manifests
        .iter()
        .map(|m| m.dependencies.len())
        .sum();
    writeln!(
        out,
        "{} due{}{} across {} and {}; {}",
        count(due, "update", "updates"),
        if security > 0 {
            format!(" ({security} security)")
        } else {
            String::new()
        },
        if problems > 0 {
            format!(
                ", {} that cannot be installed",
                count(problems, "requirement", "requirements")
            )
        } else {
            String::new()
        },
        count(run.workspace.manifests.len(), "file", "files"),
        count(total, "dependency", "dependencies"),
        count(
            run.outcome.failures.len(),
            "lookup failed",
            "lookups failed"
        )
    )
}

/// The run's warnings (`warning:` lines), unless `--log-level error`.
pub(super) fn print_warnings(out: &mut impl Write, run: &Run) -> std::io::Result<()> {
    if crate::log::enabled(crate::log::Level::Warn) {
        for warning in &run.outcome.warnings {
            writeln!(out, "{} {warning}", paint(style::SKIPPED, "warning:"))?;
        }
    }
    Ok(())
}

fn shown_path(path: &Path, root: &Path) -> PathBuf {
    path.strip_prefix(root)
        .map_or_else(|_| path.to_path_buf(), Path::to_path_buf)
}

pub(super) fn print_diagnostics(workspace: &Workspace) {
    for diagnostic in workspace.all_diagnostics() {
        let _ = writeln!(anstream::stderr(), "{diagnostic}");
    }
}

/// In GitHub Actions: annotations for what failed and for security updates, a job summary of
/// the updates due, and the JSON report as the `updates` output.
pub(super) fn report_to_actions(run: &Run) -> std::io::Result<()> {
    use crate::action::{Level, annotation};
    use crate::plan::body::cell;
    let report = report(run);
    let mut out = std::io::stdout().lock();
    for diagnostic in run.workspace.all_diagnostics() {
        let level = if diagnostic.is_error() {
            Level::Error
        } else {
            Level::Warning
        };
        writeln!(
            out,
            "{}",
            annotation(
                level,
                Some(&diagnostic.path),
                diagnostic.line,
                diagnostic.column,
                "repin",
                &diagnostic.message
            )
        )?;
    }
    for error in &report.errors {
        writeln!(
            out,
            "{}",
            annotation(
                Level::Error,
                Some(Path::new(&error.file)),
                error.line,
                0,
                &format!("repin: {}", error.name),
                &error.message.to_string()
            )
        )?;
    }
    for problem in &report.problems {
        writeln!(
            out,
            "{}",
            annotation(
                Level::Error,
                Some(Path::new(&problem.file)),
                problem.line,
                0,
                &format!("repin: {}", problem.name),
                &format!("{} {} {}", problem.name, problem.current, problem.reason)
            )
        )?;
    }
    for update in report.updates.iter().filter(|u| u.security) {
        let message = format!(
            "{} {} is vulnerable ({}); update to {}",
            update.name,
            update.current,
            update.fixes.join(", "),
            update.proposed
        );
        writeln!(
            out,
            "{}",
            annotation(
                Level::Warning,
                Some(Path::new(&update.file)),
                update.line,
                update.column,
                "repin: security update",
                &message
            )
        )?;
    }
    for update in report.updates.iter().filter(|u| !u.security) {
        let Some(why) = update.yanked else {
            continue;
        };
        let message = format!(
            "{} {} is yanked on its index{}; update to {}",
            update.name,
            update.current,
            if why.is_empty() {
                String::new()
            } else {
                format!(": {why}")
            },
            update.proposed
        );
        writeln!(
            out,
            "{}",
            annotation(
                Level::Warning,
                Some(Path::new(&update.file)),
                update.line,
                update.column,
                "repin: yanked pin",
                &message
            )
        )?;
    }
    let mut summary = format!(
        "## repin: {} due\n\n",
        count(report.updates.len(), "update", "updates")
    );
    if !report.updates.is_empty() {
        summary
            .push_str("| file | dependency | current | proposed | kind |\n|---|---|---|---|---|\n");
        for u in &report.updates {
            let kind = if u.security {
                format!("security ({})", u.kind)
            } else {
                u.kind.to_string()
            };
            summary.push_str(&format!(
                "| `{}:{}` | {} | `{}` | `{}` | {} |\n",
                cell(&u.file),
                u.line,
                cell(u.name),
                cell(u.current),
                cell(u.proposed),
                kind
            ));
        }
    }
    if !report.problems.is_empty() {
        summary.push_str(&format!(
            "\n{} cannot be installed; see the annotations.\n",
            count(report.problems.len(), "requirement", "requirements")
        ));
    }
    if !report.errors.is_empty() {
        summary.push_str(&format!(
            "\n{}; see the annotations.\n",
            count(report.errors.len(), "lookup failed", "lookups failed")
        ));
    }
    crate::action::append_summary(&summary)?;
    crate::action::set_output(
        "updates",
        &serde_json::to_string(&report).map_err(std::io::Error::other)?,
    )
}

/// Run `repin check`.
pub fn check(args: &CheckArgs) -> Result<u8, CliError> {
    let mut run = run(&args.lookup)?;
    crate::run::select::select(&mut run, &args.selection.to_run());
    print_diagnostics(&run.workspace);
    let (edits, edit_failures) = if args.diff {
        apply::plan_edits(&run.workspace, &run.outcome.findings, &|_, _| true)
    } else {
        (Vec::new(), Vec::new())
    };
    let written = match args.format {
        Format::Json => {
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &report(&run))
                .map_err(std::io::Error::other)
                .and_then(|()| writeln!(out))
        }
        Format::Table => print_table(&run, args.all, &edit_failures),
    };
    if args.diff {
        let mut out = std::io::stdout().lock();
        for edit in &edits {
            let _ = write!(
                out,
                "{}",
                apply::unified_diff(edit, &shown_path(&edit.path, &run.root))
            );
        }
    }
    if let Err(error) = written {
        if error.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(CliError::Write(error));
        }
    }
    if crate::action::is_github_actions() {
        if let Err(error) = report_to_actions(&run) {
            super::print_warning(&CliError::ActionsOutput(error));
        }
    }
    let due = run
        .outcome
        .findings
        .iter()
        .any(|f| !f.decision.updates.is_empty());
    // A requirement nothing installable satisfies breaks the build: always worth exit code 1.
    let problems = run.outcome.findings.iter().any(|f| {
        f.decision
            .none
            .as_ref()
            .is_some_and(crate::decide::NoUpdate::is_problem)
    });
    Ok(
        if !run.outcome.failures.is_empty()
            || run.workspace.has_errors()
            || !edit_failures.is_empty()
        {
            EXIT_ERROR
        } else if problems || (due && args.exit_code) {
            EXIT_FOUND
        } else {
            EXIT_OK
        },
    )
}

/// Run `repin apply`.
pub fn apply(args: &ApplyArgs) -> Result<u8, CliError> {
    let runtime = runtime()?;
    let mut run = run_on(&runtime, &args.lookup)?;
    let applied = crate::run::apply::apply(&runtime, &mut run, &args.selection.to_run());
    print_diagnostics(&run.workspace);
    let mut out = anstream::stdout().lock();
    for written in &applied.written {
        let _ = writeln!(
            out,
            "{}: {} {} → {} ({})",
            shown(&written.file),
            written.name,
            written.current,
            paint(style::NEW, &written.proposed),
            written.kind
        );
        for (lock, moves) in &written.relocked {
            let _ = writeln!(
                out,
                "{}: re-locked with it: {}",
                shown(lock),
                moves.join(", ")
            );
        }
    }
    if crate::log::enabled(crate::log::Level::Info) {
        for note in &applied.notes {
            let _ = writeln!(out, "{} {note}", paint(style::DIM, "note:"));
        }
    }
    for failure in &applied.failures {
        print_error(&failure.message.to_string());
    }
    let _ = print_warnings(&mut anstream::stderr(), &run);
    for failure in &run.outcome.failures {
        let name = crate::run::select::dependency_name(&run, &failure.file, failure.index);
        print_error(&format!(
            "{}: {name}: {}",
            shown(&failure.file),
            failure.message
        ));
    }
    for problem in &run.outcome.hosts {
        print_error(&problem.to_string());
    }
    let _ = writeln!(
        out,
        "{}",
        count(applied.files, "file updated", "files updated")
    );
    Ok(
        if !applied.failures.is_empty()
            || !run.outcome.failures.is_empty()
            || run.workspace.has_errors()
        {
            EXIT_ERROR
        } else {
            EXIT_OK
        },
    )
}
