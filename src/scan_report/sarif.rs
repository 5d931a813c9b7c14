//! SARIF 2.1.0 from a scanner: one report per run, `tool.driver.name` naming the scanner.
//!
//! SARIF has no field for a package or its versions, so they come from the text the scanners
//! write: Trivy's result message (`Package: …`, `Installed Version: …`, `Fixed Version: …`,
//! `Severity: …`) and its run's `properties` (`imageName`, `repoTags`, `repoDigests`); Grype's
//! message (`A high vulnerability in deb package: libssl3, version 3.0.11-1~deb12u1 was found in
//! image python:3.12-slim at: …`) and its rule's help (`Vulnerability …`, `Fix Version: …`).
//! Another tool's SARIF is read the same way: what its text does not say stays unknown.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::{FixState, Format, Report, ScanReportError, json_error, non_empty, null_default};
use crate::advisory::Rating;

#[derive(Deserialize)]
struct Log {
    #[serde(default, deserialize_with = "null_default")]
    version: String,
    #[serde(default, deserialize_with = "null_default")]
    runs: Vec<Run>,
}

#[derive(Deserialize)]
struct Run {
    tool: Tool,
    #[serde(default, deserialize_with = "null_default")]
    results: Vec<SarifResult>,
    #[serde(default, deserialize_with = "null_default")]
    properties: RunProperties,
}

#[derive(Deserialize)]
struct Tool {
    driver: Driver,
}

#[derive(Deserialize)]
struct Driver {
    #[serde(default, deserialize_with = "null_default")]
    name: String,
    #[serde(default, deserialize_with = "null_default")]
    version: String,
    #[serde(default, deserialize_with = "null_default")]
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
struct Rule {
    #[serde(default, deserialize_with = "null_default")]
    id: String,
    #[serde(default, deserialize_with = "null_default")]
    help: Message,
    #[serde(default, deserialize_with = "null_default")]
    properties: RuleProperties,
}

#[derive(Deserialize, Default)]
struct RuleProperties {
    #[serde(
        rename = "security-severity",
        default,
        deserialize_with = "null_default"
    )]
    security_severity: String,
}

#[derive(Deserialize, Default)]
struct RunProperties {
    #[serde(rename = "imageName", default, deserialize_with = "null_default")]
    image_name: String,
    #[serde(rename = "repoTags", default, deserialize_with = "null_default")]
    repo_tags: Vec<String>,
    #[serde(rename = "repoDigests", default, deserialize_with = "null_default")]
    repo_digests: Vec<String>,
}

#[derive(Deserialize, Default)]
struct Message {
    #[serde(default, deserialize_with = "null_default")]
    text: String,
}

#[derive(Deserialize)]
struct SarifResult {
    #[serde(rename = "ruleId", default, deserialize_with = "null_default")]
    rule_id: String,
    #[serde(default, deserialize_with = "null_default")]
    message: Message,
}

/// `Key: value` lines of a text, keys lowercased; `Vulnerability ID` lines as `vulnerability`.
fn fields(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some((key, value)) = line.split_once(": ") {
            out.entry(key.trim().to_ascii_lowercase())
                .or_insert_with(|| value.trim().to_owned());
        } else if let Some(key) = line.strip_suffix(':') {
            // `Fixed Version:` with nothing after it: the key is there, the value empty.
            out.entry(key.trim().to_ascii_lowercase())
                .or_insert_with(String::new);
        } else if let Some(id) = line
            .strip_prefix("Vulnerability ")
            .or_else(|| line.strip_prefix("**Vulnerability "))
        {
            out.entry("vulnerability".into())
                .or_insert_with(|| id.trim_end_matches("**").trim().to_owned());
        }
    }
    out
}

/// Grype's result sentence: `A {severity} vulnerability in {type} package: {name}, version
/// {version} was found in image {image} at: {path}` (or `… was found at: {path}`).
struct Sentence {
    severity: String,
    kind: String,
    package: String,
    version: String,
    image: Option<String>,
}

fn sentence(text: &str) -> Option<Sentence> {
    let rest = text.strip_prefix("A ")?;
    let (severity, rest) = rest.split_once(" vulnerability in ")?;
    let (kind, rest) = rest.split_once(" package: ")?;
    let (package, rest) = rest.split_once(", version ")?;
    let (version, rest) = rest.split_once(" was found")?;
    let image = rest.strip_prefix(" in image ").and_then(|r| {
        r.rsplit_once(" at: ")
            .map(|(image, _)| image.trim().to_owned())
    });
    Some(Sentence {
        severity: severity.trim().to_owned(),
        kind: kind.trim().to_owned(),
        package: package.trim().to_owned(),
        version: version.trim().to_owned(),
        image,
    })
}

/// Parse a SARIF log: one report per run.
pub(super) fn parse(path: &Path, bytes: &[u8]) -> Result<Vec<Report>, ScanReportError> {
    let log: Log = serde_json::from_slice(bytes).map_err(|e| json_error(path, &e))?;
    if log.version != "2.1.0" {
        return Err(ScanReportError::UnknownFormat {
            path: path.to_path_buf(),
            what: format!("SARIF version `{}`, not 2.1.0", log.version),
        });
    }
    Ok(log.runs.iter().map(|run| report(path, run)).collect())
}

fn report(path: &Path, run: &Run) -> Report {
    let rules: HashMap<&str, &Rule> = run
        .tool
        .driver
        .rules
        .iter()
        .map(|r| (r.id.as_str(), r))
        .collect();
    let props = &run.properties;
    let mut references: Vec<String> = non_empty(&props.image_name).into_iter().collect();
    references.extend(props.repo_tags.iter().filter_map(|t| non_empty(t)));
    references.extend(props.repo_digests.iter().filter_map(|d| non_empty(d)));
    let mut findings = Vec::new();
    for result in &run.results {
        let rule = rules.get(result.rule_id.as_str());
        let mut known = fields(&result.message.text);
        if let Some(rule) = rule {
            for (k, v) in fields(&rule.help.text) {
                known.entry(k).or_insert(v);
            }
        }
        let said = sentence(result.message.text.trim());
        if let Some(image) = said.as_ref().and_then(|s| s.image.clone()) {
            if !references.contains(&image) {
                references.push(image);
            }
        }
        let package = known
            .get("package")
            .cloned()
            .or_else(|| said.as_ref().map(|s| s.package.clone()))
            .unwrap_or_default();
        // Grype's rule ID is `{vulnerability}-{package}`; its help names the vulnerability.
        let id = known.get("vulnerability").cloned().unwrap_or_else(|| {
            result
                .rule_id
                .strip_suffix(&format!("-{package}"))
                .unwrap_or(&result.rule_id)
                .to_owned()
        });
        let installed = known
            .get("installed version")
            .or_else(|| known.get("version"))
            .cloned()
            .or_else(|| said.as_ref().map(|s| s.version.clone()))
            .unwrap_or_default();
        let fixed_field = known
            .get("fixed version")
            .or_else(|| known.get("fix version"));
        let fixed = fixed_field.and_then(|f| non_empty(f));
        let state = match (fixed_field, &fixed) {
            (_, Some(_)) => FixState::Fixed,
            // The scanner wrote the field and left it empty: no fixed version.
            (Some(_), None) => FixState::NoFix,
            (None, None) => FixState::Unknown,
        };
        let severity = known
            .get("severity")
            .and_then(|s| super::rating(s))
            .or_else(|| said.as_ref().and_then(|s| super::rating(&s.severity)))
            .or_else(|| {
                // A score of 0 is how scanners write "unknown", not a rating of none.
                rule.and_then(|r| r.properties.security_severity.trim().parse::<f64>().ok())
                    .filter(|s| *s > 0.0)
                    .map(Rating::from_score)
            });
        findings.push(super::Finding {
            id,
            aliases: Vec::new(),
            package,
            source_package: None,
            installed,
            fixed,
            state,
            severity,
            kind: said.map(|s| s.kind).filter(|k| !k.is_empty()),
        });
    }
    Report {
        path: path.to_path_buf(),
        format: Format::Sarif,
        tool: format!(
            "{} {}",
            run.tool.driver.name.trim(),
            run.tool.driver.version.trim()
        )
        .trim()
        .to_owned(),
        target: references.first().cloned(),
        references,
        digests: Vec::new(),
        findings,
    }
}
