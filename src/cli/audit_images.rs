//! `repin audit --images`: the base images' OS vulnerabilities as a table and in SARIF.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde_json::json;

use super::shown;
use super::style::{self, paint};
use crate::advisory::Rating;
use crate::advisory::distro::Status;
use crate::lookup::ImageAudit;
use crate::plan::display_name;

/// Whether an image has a vulnerability rated at or above `threshold` (an unrated one counts
/// only when every rating does).
pub(super) fn any_at_or_above(audit: &ImageAudit, threshold: Rating) -> bool {
    audit
        .images
        .iter()
        .filter_map(|i| i.vulnerabilities.as_ref())
        .flat_map(|v| &v.findings)
        .any(|f| f.advisory.severity.unwrap_or(Rating::None) >= threshold)
}

fn rating(severity: Option<Rating>, score: Option<f64>) -> String {
    match (severity, score) {
        (Some(r), Some(s)) => format!("{} {s:.1}", r.as_str()),
        (Some(r), None) => r.as_str().to_owned(),
        (None, _) => "unrated".to_owned(),
    }
}

/// The image as written: `python:3.12-slim@sha256:…`, `debian@sha256:…` (a digest-only
/// reference's current value starts with `@`).
fn reference(name: &str, current: &str) -> String {
    let name = display_name(name);
    if current.starts_with('@') {
        format!("{name}{current}")
    } else {
        format!("{name}:{current}")
    }
}

/// The table: per image and platform, its distribution, its CVEs (fixed upstream or not) and
/// the update that fixes the most.
pub(super) fn print_table(audit: &ImageAudit) -> std::io::Result<()> {
    let mut out = anstream::stdout().lock();
    let mut open = 0;
    for image in &audit.images {
        let what = format!(
            "{}:{}:{} {} ({}{})",
            shown(&image.file),
            image.line,
            image.column,
            paint(style::HEADING, reference(&image.name, &image.current)),
            image.platform,
            image
                .distribution
                .as_deref()
                .map(|d| format!(", {d}, {} packages", image.packages))
                .unwrap_or_default()
        );
        if let Some(why) = &image.unchecked {
            writeln!(out, "{what}  {}", paint(style::ERROR, "not checked"))?;
            for line in why.to_string().lines() {
                writeln!(out, "    {}", paint(style::ERROR, line.trim_start()))?;
            }
            continue;
        }
        let Some(vulns) = &image.vulnerabilities else {
            continue;
        };
        let cves = vulns.cves().len();
        open += cves;
        let no_fix = vulns
            .findings
            .iter()
            .filter(|f| f.advisory.status == Status::NoFix)
            .map(|f| f.advisory.cve())
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        writeln!(
            out,
            "{what}  {}",
            if cves == 0 {
                paint(style::NEW, "no known OS vulnerabilities")
            } else {
                paint(
                    style::ERROR,
                    format!(
                        "{}, {no_fix} with no fix yet",
                        super::count(cves, "OS vulnerability", "OS vulnerabilities")
                    ),
                )
            }
        )?;
        for f in &vulns.findings {
            let fix = match &f.advisory.status {
                Status::Fixed(v) => format!("fixed in {v}"),
                Status::NoFix => "no fix yet".to_owned(),
            };
            writeln!(
                out,
                "    {}  {}  {} {}  {}  {}",
                f.advisory.cve(),
                paint(style::ERROR, rating(f.advisory.severity, f.advisory.score)),
                f.package,
                f.version,
                fix,
                paint(style::DIM, &f.advisory.id)
            )?;
        }
        if let Some(best) = &image.best_update {
            let mut cves: Vec<&str> = best.fixes.iter().map(|f| f.cve.as_str()).collect();
            cves.dedup();
            writeln!(
                out,
                "    {} {} fixes {} ({}); {} stay{}",
                paint(style::NEW, "update:"),
                best.proposed,
                cves.len(),
                cves.join(", "),
                best.remaining,
                if best.remaining == 1 { "s" } else { "" }
            )?;
        } else if cves > 0 {
            writeln!(out, "    no update of this image fixes any of them")?;
        }
    }
    writeln!(
        out,
        "{} checked, {} open OS vulnerabilities{}",
        super::count(audit.images.len(), "base image", "base images"),
        open,
        if audit.source.is_empty() {
            String::new()
        } else {
            format!(" (advisories from {})", audit.source)
        }
    )
}

/// Add the images' findings to a SARIF log: one rule per advisory, one result per image,
/// package and advisory, located at the `FROM` line; an image not checked is a notification
/// and makes the run's execution unsuccessful.
pub(super) fn add_to_sarif(sarif: &mut serde_json::Value, audit: &ImageAudit, root: &Path) {
    let run = &mut sarif["runs"][0];
    let mut rules: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for image in &audit.images {
        let uri = super::audit::sarif_uri(&image.file, root);
        let location = json!([{"physicalLocation": {
            "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": image.line, "startColumn": image.column}
        }}]);
        if let Some(why) = &image.unchecked {
            notifications.push(json!({
                "level": "error",
                "descriptor": {"id": "repin/image-not-checked"},
                "message": {"text": format!("{} ({}) was not checked for OS vulnerabilities: {}",
                    display_name(&image.current), image.platform, why.one_line())},
                "locations": location,
            }));
            continue;
        }
        let Some(vulns) = &image.vulnerabilities else {
            continue;
        };
        for f in &vulns.findings {
            let a = &f.advisory;
            rules.entry(a.id.clone()).or_insert_with(|| {
                let text = a
                    .summary
                    .clone()
                    .unwrap_or_else(|| format!("{} in {}", a.cve(), f.package));
                let mut rule = json!({
                    "id": a.id,
                    "shortDescription": {"text": text},
                    "fullDescription": {"text": text},
                    "helpUri": format!("https://osv.dev/vulnerability/{}", a.id),
                    "properties": {"tags": ["security", "container", "os-package"]},
                });
                if let Some(score) = a.score {
                    rule["properties"]["security-severity"] = json!(format!("{score:.1}"));
                }
                rule
            });
            let level = match a.severity {
                Some(Rating::Critical | Rating::High) => "error",
                Some(Rating::Medium) | None => "warning",
                _ => "note",
            };
            let fix = match (&a.status, &image.best_update) {
                (Status::NoFix, _) => "no fix yet".to_owned(),
                (Status::Fixed(v), Some(u))
                    if u.fixes
                        .iter()
                        .any(|x| x.cve == a.cve() && x.package == f.package) =>
                {
                    format!("fixed in {v}; update the image to {}", u.proposed)
                }
                (Status::Fixed(v), _) => {
                    format!("fixed in {v}, in no published update of this image yet")
                }
            };
            results.push(json!({
                "ruleId": a.id,
                "level": level,
                "message": {"text": format!("{} ({}): {} {} is affected by {} ({}); {fix}",
                    display_name(&image.current), image.platform, f.package, f.version, a.cve(), a.id)},
                "locations": location,
                "partialFingerprints": {"repin/v1": format!("{}:{}:{}:{}:{}", uri, image.name, image.platform, f.package, a.id)},
            }));
        }
    }
    if let Some(list) = run["tool"]["driver"]["rules"].as_array_mut() {
        list.extend(rules.into_values());
    }
    if let Some(list) = run["results"].as_array_mut() {
        list.extend(results);
    }
    if !notifications.is_empty() {
        run["invocations"][0]["executionSuccessful"] = json!(false);
        if let Some(list) = run["invocations"][0]["toolExecutionNotifications"].as_array_mut() {
            list.extend(notifications);
        }
    }
}
