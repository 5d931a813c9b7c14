//! Grype's JSON report (`grype -o json`): `matches[]` of a `vulnerability` and an `artifact`,
//! `source.target` naming the image (`userInput`, `tags`, `repoDigests`, `manifestDigest`),
//! `descriptor` naming the tool.

use std::path::Path;

use serde::Deserialize;

use super::{FixState, Format, Report, ScanReportError, json_error, non_empty, null_default};

#[derive(Deserialize)]
struct Document {
    #[serde(default, deserialize_with = "null_default")]
    matches: Vec<Match>,
    #[serde(default, deserialize_with = "null_default")]
    source: Source,
    #[serde(default, deserialize_with = "null_default")]
    descriptor: Descriptor,
}

#[derive(Deserialize, Default)]
struct Descriptor {
    #[serde(default, deserialize_with = "null_default")]
    name: String,
    #[serde(default, deserialize_with = "null_default")]
    version: String,
}

#[derive(Deserialize, Default)]
struct Source {
    #[serde(rename = "type", default, deserialize_with = "null_default")]
    kind: String,
    #[serde(default, deserialize_with = "null_default")]
    target: SourceTarget,
}

/// An image's metadata, or the path of a directory or file (a string).
#[derive(Deserialize)]
#[serde(untagged)]
enum SourceTarget {
    Image(Box<ImageTarget>),
    Path(String),
    Other(serde::de::IgnoredAny),
}

impl Default for SourceTarget {
    fn default() -> Self {
        SourceTarget::Path(String::new())
    }
}

#[derive(Deserialize)]
struct ImageTarget {
    #[serde(rename = "userInput", default, deserialize_with = "null_default")]
    user_input: String,
    #[serde(default, deserialize_with = "null_default")]
    tags: Vec<String>,
    #[serde(rename = "repoDigests", default, deserialize_with = "null_default")]
    repo_digests: Vec<String>,
    #[serde(rename = "manifestDigest", default, deserialize_with = "null_default")]
    manifest_digest: String,
}

#[derive(Deserialize)]
struct Match {
    vulnerability: Vulnerability,
    #[serde(
        rename = "relatedVulnerabilities",
        default,
        deserialize_with = "null_default"
    )]
    related: Vec<Related>,
    artifact: Artifact,
}

#[derive(Deserialize)]
struct Vulnerability {
    #[serde(default, deserialize_with = "null_default")]
    id: String,
    #[serde(default, deserialize_with = "null_default")]
    severity: String,
    #[serde(default, deserialize_with = "null_default")]
    fix: Fix,
}

#[derive(Deserialize, Default)]
struct Fix {
    #[serde(default, deserialize_with = "null_default")]
    versions: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    state: String,
}

#[derive(Deserialize)]
struct Related {
    #[serde(default, deserialize_with = "null_default")]
    id: String,
}

#[derive(Deserialize)]
struct Artifact {
    #[serde(default, deserialize_with = "null_default")]
    name: String,
    #[serde(default, deserialize_with = "null_default")]
    version: String,
    #[serde(rename = "type", default, deserialize_with = "null_default")]
    kind: String,
    #[serde(default, deserialize_with = "null_default")]
    upstreams: Vec<Upstream>,
}

#[derive(Deserialize)]
struct Upstream {
    #[serde(default, deserialize_with = "null_default")]
    name: String,
}

/// Parse a Grype JSON report.
pub(super) fn parse(path: &Path, bytes: &[u8]) -> Result<Report, ScanReportError> {
    let doc: Document = serde_json::from_slice(bytes).map_err(|e| json_error(path, &e))?;
    let (target, references, digests) = match &doc.source.target {
        SourceTarget::Image(image) => {
            let mut references: Vec<String> = non_empty(&image.user_input).into_iter().collect();
            references.extend(image.tags.iter().filter_map(|t| non_empty(t)));
            references.extend(image.repo_digests.iter().filter_map(|d| non_empty(d)));
            (
                non_empty(&image.user_input),
                references,
                non_empty(&image.manifest_digest).into_iter().collect(),
            )
        }
        SourceTarget::Path(p) => (
            non_empty(p).map(|p| format!("{} {p}", doc.source.kind).trim().to_owned()),
            Vec::new(),
            Vec::new(),
        ),
        SourceTarget::Other(_) => (None, Vec::new(), Vec::new()),
    };
    let findings = doc
        .matches
        .iter()
        .map(|m| {
            let fixed = (!m.vulnerability.fix.versions.is_empty()).then(|| {
                m.vulnerability
                    .fix
                    .versions
                    .iter()
                    .map(|v| v.trim())
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            let state = match m.vulnerability.fix.state.as_str() {
                "fixed" => FixState::Fixed,
                "not-fixed" => FixState::NoFix,
                "wont-fix" => FixState::WontFix,
                _ => FixState::Unknown,
            };
            let id = m.vulnerability.id.trim().to_owned();
            let mut aliases: Vec<String> = m
                .related
                .iter()
                .filter_map(|r| non_empty(&r.id))
                .filter(|r| *r != id)
                .collect();
            aliases.dedup();
            super::Finding {
                id,
                aliases,
                package: m.artifact.name.trim().to_owned(),
                source_package: m.artifact.upstreams.iter().find_map(|u| non_empty(&u.name)),
                installed: m.artifact.version.trim().to_owned(),
                fixed,
                state,
                severity: super::rating(&m.vulnerability.severity),
                kind: non_empty(&m.artifact.kind),
            }
        })
        .collect();
    let tool = format!(
        "{} {}",
        non_empty(&doc.descriptor.name).unwrap_or_else(|| "grype".into()),
        doc.descriptor.version.trim()
    )
    .trim()
    .to_owned();
    Ok(Report {
        path: path.to_path_buf(),
        format: Format::Grype,
        tool,
        target,
        references,
        digests,
        findings,
    })
}
