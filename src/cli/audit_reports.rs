//! `repin audit --scan-report FILE`: scanner reports' findings on the `FROM` lines of the
//! images they scanned, as a table, in JSON and in SARIF; a report linked to no line is a
//! warning.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde_json::json;

use super::shown;
use super::style::{self, paint};
use crate::advisory::Rating;
use crate::plan::display_name;
use crate::scan_report::{FixState, LinkedReport, MatchKind};

/// Whether a linked finding is rated at or above `threshold` (an unrated one counts only when
/// every rating does).
pub(super) fn any_at_or_above(reports: &[LinkedReport], threshold: Rating) -> bool {
    reports
        .iter()
        .flat_map(|r| &r.images)
        .flat_map(|i| &i.findings)
        .any(|f| f.finding.severity.unwrap_or(Rating::None) >= threshold)
}

/// A report's text made safe for a terminal: a scanner's data is copied from upstream
/// advisories, so control characters become spaces.
fn plain(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The image as written: `python:3.12-slim@sha256:…`.
fn reference(name: &str, current: &str) -> String {
    let name = display_name(name);
    if current.starts_with('@') {
        format!("{name}{current}")
    } else {
        format!("{name}:{current}")
    }
}

/// Each unlinked report's warning on stderr (unless `--log-level error`).
pub(super) fn print_warnings(reports: &[LinkedReport]) {
    if !crate::log::enabled(crate::log::Level::Warn) {
        return;
    }
    let mut err = anstream::stderr().lock();
    for warning in reports.iter().filter_map(|r| r.warning.as_ref()) {
        let _ = writeln!(
            err,
            "{} {}",
            paint(style::SKIPPED, "warning:"),
            plain_lines(&warning.to_string())
        );
    }
}

/// [`plain`] for each line of a multi-line message.
fn plain_lines(text: &str) -> String {
    text.lines().map(plain).collect::<Vec<_>>().join("\n")
}

/// The table: per `FROM` line a report matched, its findings (CVE, severity, package,
/// installed → fixed) and whether repin's proposed update fixes them.
pub(super) fn print_table(reports: &[LinkedReport]) -> std::io::Result<()> {
    let mut out = anstream::stdout().lock();
    let mut lines = 0;
    let mut findings = 0;
    for report in reports {
        for image in &report.images {
            lines += 1;
            findings += image.findings.len();
            let how = match image.matched {
                MatchKind::Digest => "by digest",
                MatchKind::Tag => "by tag",
                MatchKind::TagOtherDigest => "by tag; the report scanned another digest",
            };
            writeln!(
                out,
                "{}:{}:{} {} in {} ({}, {how}): {}",
                shown(&image.file),
                image.line,
                image.column,
                paint(style::HEADING, reference(&image.name, &image.current)),
                shown(&report.path),
                plain(&report.tool),
                super::count(image.findings.len(), "finding", "findings")
            )?;
            for f in &image.findings {
                let v = &f.finding;
                let fix = match (&v.fixed, v.state) {
                    (Some(fixed), _) => format!(" → {}", plain(fixed)),
                    (None, FixState::WontFix) => "  will not be fixed".into(),
                    (None, FixState::NoFix) => "  no fix yet".into(),
                    (None, _) => String::new(),
                };
                let update = match f.fixed_by_update {
                    Some(true) => paint(style::NEW, "  fixed by the update"),
                    Some(false) if image.update.is_some() => {
                        paint(style::DIM, "  stays after the update")
                    }
                    _ => String::new(),
                };
                writeln!(
                    out,
                    "    {}  {}  {} {}{fix}{update}",
                    plain(&v.id),
                    paint(style::ERROR, v.severity.map_or("unrated", |r| r.as_str())),
                    plain(&v.package),
                    plain(&v.installed),
                )?;
            }
            if let Some(update) = &image.update {
                let fixed = image
                    .findings
                    .iter()
                    .filter(|f| f.fixed_by_update == Some(true))
                    .count();
                writeln!(
                    out,
                    "    {} {update} fixes {fixed} of them by repin's reading of the images",
                    paint(style::NEW, "update:"),
                )?;
            }
        }
    }
    let unlinked = reports.iter().filter(|r| r.images.is_empty()).count();
    writeln!(
        out,
        "{} read, {} on {}{}",
        super::count(reports.len(), "scan report", "scan reports"),
        super::count(findings, "finding", "findings"),
        super::count(lines, "FROM line", "FROM lines"),
        if unlinked > 0 {
            format!(", {unlinked} linked to no line (see the warnings)")
        } else {
            String::new()
        }
    )
}

/// Add the reports' findings to a SARIF log: one result per `FROM` line, package and
/// vulnerability at the line, rules by vulnerability ID (shared with repin's own); a report
/// linked to no line is a warning notification.
pub(super) fn add_to_sarif(sarif: &mut serde_json::Value, reports: &[LinkedReport], root: &Path) {
    let run = &mut sarif["runs"][0];
    let existing: Vec<String> = run["tool"]["driver"]["rules"]
        .as_array()
        .map(|rules| {
            rules
                .iter()
                .filter_map(|r| r["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut rules: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for report in reports {
        if let Some(warning) = &report.warning {
            notifications.push(json!({
                "level": "warning",
                "descriptor": {"id": "repin/scan-report-unlinked"},
                "message": {"text": warning.one_line()},
            }));
        }
        for image in &report.images {
            let uri = super::audit::sarif_uri(&image.file, root);
            let location = json!([{"physicalLocation": {
                "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": image.line, "startColumn": image.column}
            }}]);
            for f in &image.findings {
                let v = &f.finding;
                if !existing.contains(&v.id) {
                    rules.entry(v.id.clone()).or_insert_with(|| {
                        json!({
                            "id": v.id,
                            "shortDescription": {"text": format!("{} in {}", v.id, v.package)},
                            "properties": {"tags": ["security", "container", "scan-report"]},
                        })
                    });
                }
                let level = match v.severity {
                    Some(Rating::Critical | Rating::High) => "error",
                    Some(Rating::Medium) | None => "warning",
                    _ => "note",
                };
                let fix = match (&v.fixed, v.state, f.fixed_by_update, &image.update) {
                    (_, _, Some(true), Some(update)) => {
                        format!("the update to {update} fixes it")
                    }
                    (Some(fixed), ..) => format!("fixed in {fixed}"),
                    (None, FixState::WontFix, ..) => "will not be fixed".into(),
                    (None, FixState::NoFix, ..) => "no fix yet".into(),
                    _ => "no fixed version reported".into(),
                };
                results.push(json!({
                    "ruleId": v.id,
                    "level": level,
                    "message": {"text": format!(
                        "{}: {} {} is affected by {} ({}); {fix}; reported by {} in {}",
                        reference(&image.name, &image.current),
                        v.package,
                        v.installed,
                        v.id,
                        v.severity.map_or("unrated", |r| r.as_str()),
                        report.tool,
                        shown(&report.path),
                    )},
                    "locations": location,
                    "partialFingerprints": {"repin/v1": format!(
                        "{}:{}:{}:{}:{}", uri, image.name, v.package, v.id, report.tool
                    )},
                    "properties": {"scanner": report.tool, "fixedByUpdate": f.fixed_by_update},
                }));
            }
        }
    }
    if let Some(list) = run["tool"]["driver"]["rules"].as_array_mut() {
        list.extend(rules.into_values());
    }
    if let Some(list) = run["results"].as_array_mut() {
        list.extend(results);
    }
    if let Some(list) = run["invocations"][0]["toolExecutionNotifications"].as_array_mut() {
        list.extend(notifications);
    }
}
