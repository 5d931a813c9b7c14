//! Trivy's JSON report (`trivy image --format json`): `ArtifactName`, `Metadata.RepoTags` and
//! `RepoDigests`, `Results[].Vulnerabilities[]`.

use std::path::Path;

use serde::Deserialize;

use super::{FixState, Format, Report, ScanReportError, json_error, non_empty, null_default};

#[derive(Deserialize)]
struct Document {
    #[serde(rename = "ArtifactName", default, deserialize_with = "null_default")]
    artifact_name: String,
    #[serde(rename = "ArtifactType", default, deserialize_with = "null_default")]
    artifact_type: String,
    #[serde(rename = "Metadata", default, deserialize_with = "null_default")]
    metadata: Metadata,
    #[serde(rename = "Results", default, deserialize_with = "null_default")]
    results: Vec<Target>,
}

#[derive(Deserialize, Default)]
struct Metadata {
    #[serde(rename = "RepoTags", default, deserialize_with = "null_default")]
    repo_tags: Vec<String>,
    #[serde(rename = "RepoDigests", default, deserialize_with = "null_default")]
    repo_digests: Vec<String>,
}

#[derive(Deserialize)]
struct Target {
    #[serde(rename = "Type", default, deserialize_with = "null_default")]
    kind: String,
    #[serde(rename = "Vulnerabilities", default, deserialize_with = "null_default")]
    vulnerabilities: Vec<Vulnerability>,
}

#[derive(Deserialize)]
struct Vulnerability {
    #[serde(rename = "VulnerabilityID", default, deserialize_with = "null_default")]
    id: String,
    #[serde(rename = "PkgName", default, deserialize_with = "null_default")]
    package: String,
    #[serde(
        rename = "InstalledVersion",
        default,
        deserialize_with = "null_default"
    )]
    installed: String,
    #[serde(rename = "FixedVersion", default, deserialize_with = "null_default")]
    fixed: String,
    #[serde(rename = "Status", default, deserialize_with = "null_default")]
    status: String,
    #[serde(rename = "Severity", default, deserialize_with = "null_default")]
    severity: String,
}

/// Trivy's vulnerability status; older reports have none, and then a fixed version is a fix.
fn state(status: &str, fixed: Option<&String>) -> Option<FixState> {
    Some(match status {
        "fixed" => FixState::Fixed,
        "affected" | "fix_deferred" | "under_investigation" => FixState::NoFix,
        "will_not_fix" | "end_of_life" => FixState::WontFix,
        // Listed only with --show-suppressed and the like: not a vulnerability of the image.
        "not_affected" => return None,
        "" if fixed.is_none() => FixState::NoFix,
        _ if fixed.is_some() => FixState::Fixed,
        _ => FixState::Unknown,
    })
}

/// Parse a Trivy JSON report.
pub(super) fn parse(path: &Path, bytes: &[u8]) -> Result<Report, ScanReportError> {
    let doc: Document = serde_json::from_slice(bytes).map_err(|e| json_error(path, &e))?;
    // Only an image's report names an image; a file system's or a repository's names a path.
    let is_image = matches!(doc.artifact_type.as_str(), "" | "container_image");
    let mut references = Vec::new();
    if is_image {
        references.extend(non_empty(&doc.artifact_name));
        references.extend(doc.metadata.repo_tags.iter().filter_map(|t| non_empty(t)));
        references.extend(
            doc.metadata
                .repo_digests
                .iter()
                .filter_map(|d| non_empty(d)),
        );
    }
    let mut findings = Vec::new();
    for target in &doc.results {
        for v in &target.vulnerabilities {
            let fixed = non_empty(&v.fixed);
            let Some(state) = state(v.status.trim(), fixed.as_ref()) else {
                continue;
            };
            findings.push(super::Finding {
                id: v.id.trim().to_owned(),
                aliases: Vec::new(),
                package: v.package.trim().to_owned(),
                source_package: None,
                installed: v.installed.trim().to_owned(),
                fixed,
                state,
                severity: super::rating(&v.severity),
                kind: non_empty(&target.kind),
            });
        }
    }
    Ok(Report {
        path: path.to_path_buf(),
        format: Format::Trivy,
        tool: "Trivy".into(),
        target: non_empty(&doc.artifact_name),
        references,
        digests: Vec::new(),
        findings,
    })
}
