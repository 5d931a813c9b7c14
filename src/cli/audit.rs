//! `repin audit`: every vulnerable pin, as a table, JSON or SARIF.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use serde_json::json;

use super::check::LookupArgs;
use super::style::{self, paint};
use super::{EXIT_ERROR, EXIT_FOUND, EXIT_OK};
use crate::advisory::Rating;
use crate::audit::{Inputs, Report};
use crate::decide::{Context, Policy};
use crate::lookup::Checker;
use crate::manifest::workspace::Workspace;

/// Output formats of `repin audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// A table for people.
    Table,
    /// JSON for programs.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
}

/// The lowest severity that fails the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any vulnerability, rated or not.
    Any,
    /// Low and above.
    Low,
    /// Medium and above.
    Medium,
    /// High and above.
    High,
    /// Critical only.
    Critical,
}

impl FailOn {
    fn threshold(self) -> Rating {
        match self {
            FailOn::Any => Rating::None,
            FailOn::Low => Rating::Low,
            FailOn::Medium => Rating::Medium,
            FailOn::High => Rating::High,
            FailOn::Critical => Rating::Critical,
        }
    }
}

/// Arguments of `repin audit`.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// What to read and how to look it up
    #[command(flatten)]
    pub lookup: LookupArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = AuditFormat::Table)]
    pub format: AuditFormat,
    /// An offline advisory database (an OSV directory such as PyPA's advisory-database, or a
    /// PyPI all.zip) instead of the OSV API
    #[arg(long, value_name = "PATH")]
    pub advisory_db: Option<PathBuf>,
    /// Exit 1 when a vulnerability at or above this severity is found
    #[arg(long, value_enum, default_value_t = FailOn::Any)]
    pub fail_on: FailOn,
}

/// SARIF 2.1.0 for GitHub code scanning: one rule per advisory, one result per vulnerable pin
/// and advisory, located at the pin.
pub fn sarif(report: &Report, root: &Path) -> serde_json::Value {
    let mut rules = BTreeMap::new();
    let mut results = Vec::new();
    for v in &report.vulnerabilities {
        let uri = v
            .file
            .strip_prefix(root)
            .unwrap_or(&v.file)
            .to_string_lossy()
            .replace('\\', "/");
        for a in &v.advisories {
            rules.entry(a.id.clone()).or_insert_with(|| {
                let mut rule = json!({
                    "id": a.id,
                    "shortDescription": {"text": if a.summary.is_empty() { a.id.clone() } else { a.summary.clone() }},
                    "helpUri": a.url,
                    "properties": {"tags": ["security", "dependency"]},
                });
                if let Some(score) = a.score {
                    rule["properties"]["security-severity"] = json!(format!("{score:.1}"));
                }
                rule
            });
            let level = match a.severity {
                Rating::Critical | Rating::High => "error",
                Rating::Medium => "warning",
                _ => "note",
            };
            let fix = v.fix_version.as_deref().map_or_else(
                || "no fixed release yet".to_owned(),
                |f| format!("fixed in {f}"),
            );
            results.push(json!({
                "ruleId": a.id,
                "level": level,
                "message": {"text": format!("{} {} is affected by {}{}; {fix}", v.name, v.version, a.id,
                    if a.aliases.is_empty() { String::new() } else { format!(" ({})", a.aliases.join(", ")) })},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": uri},
                    "region": {"startLine": v.line, "startColumn": v.column}
                }}],
                "partialFingerprints": {"repin/v1": format!("{}:{}:{}", uri, v.name, a.id)},
            }));
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "repin",
                "informationUri": "https://github.com/repin-dev/repin",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "results": results,
        }]
    })
}

fn print_table(report: &Report, root: &Path) -> std::io::Result<()> {
    let mut out = anstream::stdout().lock();
    for v in &report.vulnerabilities {
        let file = v.file.strip_prefix(root).unwrap_or(&v.file);
        let fix = match (&v.fix_version, &v.no_fix) {
            (Some(f), _) => paint(style::NEW, format!("fix: {f}")),
            (None, Some(why)) => paint(style::ERROR, format!("no fix: {why}")),
            (None, None) => String::new(),
        };
        writeln!(
            out,
            "{}:{}:{} {} {}  {}",
            file.display(),
            v.line,
            v.column,
            paint(style::HEADING, &v.name),
            v.version,
            fix
        )?;
        for a in &v.advisories {
            let aliases = if a.aliases.is_empty() {
                String::new()
            } else {
                format!(" ({})", a.aliases.join(", "))
            };
            let severity = match a.score {
                Some(s) => format!("{} {s:.1}", a.severity.as_str()),
                None => a.severity.as_str().to_owned(),
            };
            writeln!(
                out,
                "    {}{aliases}  {}  {}",
                a.id,
                paint(style::ERROR, severity),
                paint(style::DIM, &a.summary)
            )?;
        }
    }
    for u in &report.unchecked {
        let file = u.file.strip_prefix(root).unwrap_or(&u.file);
        writeln!(
            out,
            "{}:{} {} {}",
            file.display(),
            u.line,
            u.name,
            paint(style::ERROR, format!("not checked: {}", u.reason))
        )?;
    }
    writeln!(
        out,
        "{} vulnerable pins, {} not checked, {} clean",
        report.vulnerabilities.len(),
        report.unchecked.len(),
        report.clean
    )
}

/// Run `repin audit`.
pub fn run(args: &AuditArgs) -> u8 {
    match audit(args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            EXIT_ERROR
        }
    }
}

fn audit(args: &AuditArgs) -> Result<u8, String> {
    let (checker, root) = super::check::checker(&args.lookup)?;
    let workspace = Workspace::load(&args.lookup.paths);
    for diagnostic in workspace.all_diagnostics() {
        let _ = writeln!(anstream::stderr(), "{diagnostic}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("Cannot start the async runtime\n  Caused by: {e}"))?;
    let report = runtime.block_on(run_audit(&checker, &workspace, args.advisory_db.as_deref()))?;
    let written = match args.format {
        AuditFormat::Json => {
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &report)
                .map_err(std::io::Error::other)
                .and_then(|()| writeln!(out))
        }
        AuditFormat::Sarif => {
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &sarif(&report, &root))
                .map_err(std::io::Error::other)
                .and_then(|()| writeln!(out))
        }
        AuditFormat::Table => print_table(&report, &root),
    };
    if let Err(error) = written {
        if error.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(format!("Cannot write the report\n  Caused by: {error}"));
        }
    }
    let threshold = args.fail_on.threshold();
    Ok(if !report.unchecked.is_empty() || workspace.has_errors() {
        EXIT_ERROR
    } else if report
        .vulnerabilities
        .iter()
        .any(|v| v.severity() >= threshold)
    {
        EXIT_FOUND
    } else {
        EXIT_OK
    })
}

async fn run_audit(
    checker: &Checker,
    workspace: &Workspace,
    advisory_db: Option<&Path>,
) -> Result<Report, String> {
    let names = crate::lookup::python_packages(&workspace.manifests);
    let lookup = checker.advisories(&names, advisory_db).await?;
    // Releases for the packages that need them: ranges (what they install) and vulnerable
    // pins (the fix version).
    let releases = checker.releases_for(workspace, &lookup.index).await;
    let ctx = Context {
        now: checker.now,
        python: crate::lookup::python_target(workspace)
            .or_else(|| checker.config.python_version.clone()),
    };
    let policy = |d: &crate::manifest::Dependency, file: &Path| {
        Policy::from_config(&checker.config, &d.name, file, None)
    };
    Ok(crate::audit::audit(
        workspace,
        &Inputs {
            index: &lookup.index,
            failed: &lookup.failed,
            releases: &releases,
            policy: &policy,
            ctx: &ctx,
        },
    ))
}
