//! `repin audit`: every vulnerable pin, as a table, JSON or SARIF.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use clap::ValueEnum;
use serde_json::json;

use super::check::LookupArgs;
use super::style::{self, paint};
use super::{CliError, EXIT_ERROR, EXIT_FOUND, EXIT_OK, shown};
use crate::advisory::Rating;
use crate::audit::Report;
use crate::text::Diagnostic;

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
    /// Exit 1 when a vulnerability at or above this severity is found
    #[arg(long, value_enum, default_value_t = FailOn::Any)]
    pub fail_on: FailOn,
    /// Also read the base images' OS packages from their registries and report their known
    /// vulnerabilities, with the update that fixes the most
    #[arg(long)]
    pub images: bool,
    /// A scanner's report to link to the FROM lines of the image it scanned: Trivy JSON, Grype
    /// JSON or SARIF (repeatable)
    #[arg(long = "scan-report", value_name = "FILE")]
    pub scan_reports: Vec<std::path::PathBuf>,
}

/// The URI of a file in SARIF: relative to the working directory when the file is below it
/// (where code scanning runs: the checkout), else to the directory audited; `/` separated.
pub(super) fn sarif_uri(path: &Path, root: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let relative = cwd
        .as_deref()
        .and_then(|cwd| absolute.strip_prefix(cwd).ok())
        .or_else(|| path.strip_prefix(root).ok())
        .unwrap_or(path);
    super::shown(relative).replace('\\', "/")
}

/// SARIF 2.1.0 for GitHub code scanning: one rule per advisory, one result per vulnerable pin
/// and advisory, located at the pin. A run that could not check everything says so: its
/// invocation is `executionSuccessful: false`, with a notification per package not checked
/// (and per file that could not be read), so a consumer never takes the missing results for
/// fixed vulnerabilities.
pub fn sarif(report: &Report, diagnostics: &[&Diagnostic], root: &Path) -> serde_json::Value {
    let mut rules = BTreeMap::new();
    let mut results = Vec::new();
    let location = |file: &Path, line: usize, column: usize| {
        let mut region = json!({"startLine": line});
        if column > 0 {
            region["startColumn"] = json!(column);
        }
        json!({"physicalLocation": {
            "artifactLocation": {"uri": sarif_uri(file, root), "uriBaseId": "%SRCROOT%"},
            "region": region
        }})
    };
    for v in &report.vulnerabilities {
        let uri = sarif_uri(&v.file, root);
        for a in &v.advisories {
            rules.entry(a.id.clone()).or_insert_with(|| {
                let text = if a.summary.is_empty() {
                    a.id.clone()
                } else {
                    a.summary.clone()
                };
                let mut rule = json!({
                    "id": a.id,
                    "shortDescription": {"text": text},
                    "fullDescription": {"text": text},
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
            let fix = match (&v.fix_version, &v.fix_unconfirmed) {
                (Some(f), None) => format!("fixed in {f}"),
                (Some(f), Some(_)) => {
                    format!("fixed in {f} (unconfirmed: the index lookup failed)")
                }
                (None, _) => "no fixed release yet".to_owned(),
            };
            results.push(json!({
                "ruleId": a.id,
                "level": level,
                "message": {"text": format!("{} {} is affected by {}{}; {fix}", v.name, v.version, a.id,
                    if a.aliases.is_empty() { String::new() } else { format!(" ({})", a.aliases.join(", ")) })},
                "locations": [location(&v.file, v.line, v.column)],
                "partialFingerprints": {"repin/v1": format!("{}:{}:{}", uri, v.name, a.id)},
            }));
        }
    }
    let mut notifications: Vec<serde_json::Value> = report
        .unchecked
        .iter()
        .map(|u| {
            json!({
                "level": "error",
                "descriptor": {"id": "repin/not-checked"},
                "message": {"text": format!(
                    "{} was not checked for known vulnerabilities: {}",
                    u.name,
                    u.reason.one_line()
                )},
                "locations": [location(&u.file, u.line, 0)],
            })
        })
        .collect();
    notifications.extend(diagnostics.iter().filter(|d| d.is_error()).map(|d| {
        json!({
            "level": "error",
            "descriptor": {"id": "repin/unreadable"},
            "message": {"text": format!("{} could not be read: {}", super::shown(&d.path), d.message)},
            "locations": [location(&d.path, d.line.max(1), d.column)],
        })
    }));
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "repin",
                "informationUri": "https://github.com/repin-dev/repin",
                "version": env!("REPIN_LONG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "invocations": [{
                "executionSuccessful": notifications.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }]
    })
}

/// One line of a summary for the table: at most 160 characters (JSON and SARIF carry it as
/// indexed: one plain line of at most 500).
fn one_line(summary: &str) -> String {
    let first = summary.lines().next().unwrap_or("");
    if first.chars().count() > 160 {
        first.chars().take(159).collect::<String>() + "…"
    } else {
        first.to_owned()
    }
}

fn print_table(report: &Report) -> std::io::Result<()> {
    let mut out = anstream::stdout().lock();
    for v in &report.vulnerabilities {
        let file = shown(&v.file);
        let fix = match (&v.fix_version, &v.fix_unconfirmed) {
            (Some(_), None) => paint(style::NEW, v.fix_text()),
            _ => paint(style::ERROR, v.fix_text()),
        };
        writeln!(
            out,
            "{}:{}:{} {} {}  {}",
            file,
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
                paint(style::DIM, one_line(&a.summary))
            )?;
        }
    }
    // One message per reason: an unreachable service fails every package the same way.
    let mut by_reason: BTreeMap<&crate::vocab::Message, Vec<&crate::audit::Unchecked>> =
        BTreeMap::new();
    for u in &report.unchecked {
        by_reason.entry(&u.reason).or_default().push(u);
    }
    for (reason, unchecked) in by_reason {
        let places: Vec<String> = unchecked
            .iter()
            .map(|u| format!("{}:{} {}", shown(&u.file), u.line, u.name))
            .collect();
        writeln!(
            out,
            "{} {}",
            paint(style::ERROR, "not checked:"),
            places.join(", ")
        )?;
        // The reason's lines, then its hints as `hint:` lines, each under the places.
        for line in reason.to_string().lines() {
            writeln!(out, "    {}", paint(style::ERROR, line.trim_start()))?;
        }
    }
    for problem in &report.hosts {
        writeln!(out, "{}", super::error_text(&problem.to_string()))?;
    }
    writeln!(
        out,
        "{}, {} not checked, {} clean",
        super::count(
            report.vulnerabilities.len(),
            "vulnerable pin",
            "vulnerable pins"
        ),
        report.unchecked.len(),
        report.clean
    )
}

/// Run `repin audit`.
pub fn run(args: &AuditArgs) -> Result<u8, CliError> {
    let options = crate::run::audit::AuditOptions {
        images: args.images,
        scan_reports: args.scan_reports.clone(),
    };
    let prepared = crate::run::audit::prepare(&args.lookup.session_options(), &options)?;
    // The manifests' diagnostics first, whatever happens next.
    for diagnostic in prepared.workspace.all_diagnostics() {
        let _ = writeln!(anstream::stderr(), "{diagnostic}");
    }
    let crate::run::audit::Audited {
        workspace,
        root,
        report,
        images,
        scan_reports: linked,
    } = prepared.audit()?;
    if let Some(linked) = &linked {
        super::audit_reports::print_warnings(linked);
    }
    let written = match args.format {
        AuditFormat::Json => {
            let mut out = std::io::stdout().lock();
            // With images, the report gains an `images` key after its own, in order.
            #[derive(serde::Serialize)]
            struct WithImages<'a> {
                #[serde(flatten)]
                report: &'a Report,
                #[serde(skip_serializing_if = "Option::is_none")]
                images: Option<&'a [crate::lookup::ImageEntry]>,
                #[serde(skip_serializing_if = "Option::is_none")]
                scan_reports: Option<&'a [crate::scan_report::LinkedReport]>,
            }
            let value = WithImages {
                report: &report,
                images: images.as_ref().map(|i| i.images.as_slice()),
                scan_reports: linked.as_deref(),
            };
            serde_json::to_writer_pretty(&mut out, &value)
                .map_err(std::io::Error::other)
                .and_then(|()| writeln!(out))
        }
        AuditFormat::Sarif => {
            let mut out = std::io::stdout().lock();
            let mut value = sarif(
                &report,
                &workspace.all_diagnostics().collect::<Vec<_>>(),
                &root,
            );
            if let Some(images) = &images {
                super::audit_images::add_to_sarif(&mut value, images, &root);
            }
            if let Some(linked) = &linked {
                super::audit_reports::add_to_sarif(&mut value, linked, &root);
            }
            serde_json::to_writer_pretty(&mut out, &value)
                .map_err(std::io::Error::other)
                .and_then(|()| writeln!(out))
        }
        AuditFormat::Table => print_table(&report)
            .and_then(|()| match &images {
                Some(images) => super::audit_images::print_table(images),
                None => Ok(()),
            })
            .and_then(|()| match &linked {
                Some(linked) => super::audit_reports::print_table(linked),
                None => Ok(()),
            }),
    };
    if let Err(error) = written {
        if error.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(CliError::Write(error));
        }
    }
    let threshold = args.fail_on.threshold();
    let images = images.unwrap_or_default();
    Ok(
        if !report.unchecked.is_empty()
            || workspace.has_errors()
            || images.images.iter().any(|i| i.unchecked.is_some())
        {
            EXIT_ERROR
        } else if report
            .vulnerabilities
            .iter()
            .any(|v| v.severity() >= threshold)
            || super::audit_images::any_at_or_above(&images, threshold)
            || linked
                .as_deref()
                .is_some_and(|l| super::audit_reports::any_at_or_above(l, threshold))
        {
            EXIT_FOUND
        } else {
            EXIT_OK
        },
    )
}
