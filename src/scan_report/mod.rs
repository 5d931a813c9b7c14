//! Scanner reports a workflow produced earlier (`repin audit --scan-report FILE`): Trivy JSON
//! (`trivy image --format json`), Grype JSON (`grype -o json`) and SARIF 2.1.0 from either, told
//! apart by their content, never by the file's name; their findings linked to the Dockerfile
//! `FROM` lines whose image they scanned ([`link`]).
//!
//! A report is a file the user names on the command line, so it may live outside the
//! repository; it is still read as hostile input: at most [`MAX_REPORT_BYTES`], nesting bounded
//! by `serde_json`'s recursion limit, a malformed file an error at its `path:line:col`.

mod grype;
mod link;
mod sarif;
mod trivy;

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};

use crate::advisory::Rating;

pub use link::{LinkedFinding, LinkedImage, LinkedReport, MatchKind, link};

/// The largest report read (a Trivy report of a big image with every package listed is tens of
/// MiB; this leaves room while bounding what a run holds in memory).
pub const MAX_REPORT_BYTES: u64 = 256 * 1024 * 1024;

/// The formats repin reads, named as the hint for an unknown one says them.
const ACCEPTED: &str = "Trivy JSON (`trivy image --format json`), Grype JSON (`grype -o json`) or SARIF 2.1.0 (`trivy image --format sarif`, `grype -o sarif`)";

/// Why a scan report could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ScanReportError {
    /// The file could not be opened or read.
    #[error("Cannot read the scan report {}", path.display())]
    Read {
        /// The report.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_REPORT_BYTES`].
    #[error("The scan report {} is larger than {} MiB", path.display(), limit / (1024 * 1024))]
    TooLarge {
        /// The report.
        path: PathBuf,
        /// The limit in bytes.
        limit: u64,
    },
    /// The file is not JSON, or a value has the wrong type for its format.
    #[error("{}:{line}:{column}: error: Invalid scan report: {message}", path.display())]
    Json {
        /// The report.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What `serde_json` found, without its own position.
        message: String,
    },
    /// JSON, but none of the formats repin reads.
    #[error("The scan report {} is in no format repin reads: {what}", path.display())]
    UnknownFormat {
        /// The report.
        path: PathBuf,
        /// What it looked like.
        what: String,
    },
}

impl crate::error::Hint for ScanReportError {
    fn hints(&self) -> Vec<String> {
        match self {
            ScanReportError::UnknownFormat { .. } | ScanReportError::Json { .. } => {
                vec![format!("--scan-report reads {ACCEPTED}")]
            }
            ScanReportError::TooLarge { .. } => vec![
                "scan the image alone (not a whole file system), or keep the report's vulnerabilities only (`trivy --scanners vuln`)".into(),
            ],
            ScanReportError::Read { .. } => Vec::new(),
        }
    }
}

/// The format a report was in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `trivy ... --format json`.
    Trivy,
    /// `grype ... -o json`.
    Grype,
    /// SARIF 2.1.0, one report per run.
    Sarif,
}

impl Format {
    /// How the table names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Trivy => "Trivy JSON",
            Format::Grype => "Grype JSON",
            Format::Sarif => "SARIF",
        }
    }
}

/// Whether a fixed version exists, as the scanner says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixState {
    /// A fixed version is published.
    Fixed,
    /// Affected, no fix yet (Trivy's `affected`, `fix_deferred`, `under_investigation`; Grype's
    /// `not-fixed`).
    NoFix,
    /// The distribution will not fix it (Trivy's `will_not_fix`, `end_of_life`; Grype's
    /// `wont-fix`).
    WontFix,
    /// The report does not say.
    Unknown,
}

/// One vulnerability of one package, as a scanner reported it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The vulnerability ID (`CVE-2023-5363`, `GHSA-…`).
    pub id: String,
    /// Other IDs the report gives for it (Grype's related vulnerabilities).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// The package as installed (`libssl3`).
    pub package: String,
    /// The source package it is built from, when the report says (`openssl`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_package: Option<String>,
    /// The installed version.
    pub installed: String,
    /// The fixed version(s), as the report writes them.
    pub fixed: Option<String>,
    /// Whether there is a fix.
    pub state: FixState,
    /// The scanner's rating (`None`: unknown or unrated).
    pub severity: Option<Rating>,
    /// The package's kind as the scanner names it (`debian`, `deb`, `python-pkg`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// One scanner report: what it scanned and what it found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The file it was read from.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// The scanner (`Trivy 0.56.2`, `grype 0.82.0`).
    pub tool: String,
    /// What it scanned, as it names it (`python:3.12-slim`, `.` for a directory).
    pub target: Option<String>,
    /// Every image reference it gives for the image (`python:3.12-slim`, `python@sha256:…`).
    pub references: Vec<String>,
    /// Digests it gives without a name (Grype's `manifestDigest`).
    pub digests: Vec<String>,
    /// What it found.
    pub findings: Vec<Finding>,
}

/// Read the report(s) in `path`: one for a Trivy or Grype report, one per run for SARIF.
pub fn read(path: &Path) -> Result<Vec<Report>, ScanReportError> {
    let read_error = |source| ScanReportError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    // One byte past the limit tells a file at the limit from a larger one without reading on.
    let mut bytes = Vec::new();
    file.take(MAX_REPORT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_REPORT_BYTES {
        return Err(ScanReportError::TooLarge {
            path: path.to_path_buf(),
            limit: MAX_REPORT_BYTES,
        });
    }
    parse(path, &bytes)
}

/// The top-level keys that tell the formats apart; their values are skipped, not kept.
#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "SchemaVersion")]
    schema_version: Option<serde::de::IgnoredAny>,
    #[serde(rename = "ArtifactName")]
    artifact_name: Option<serde::de::IgnoredAny>,
    #[serde(rename = "Results")]
    results: Option<serde::de::IgnoredAny>,
    matches: Option<serde::de::IgnoredAny>,
    source: Option<serde::de::IgnoredAny>,
    descriptor: Option<serde::de::IgnoredAny>,
    version: Option<serde::de::IgnoredAny>,
    #[serde(rename = "$schema")]
    schema: Option<serde::de::IgnoredAny>,
    runs: Option<serde::de::IgnoredAny>,
}

/// Parse a report's bytes (`path` names it in errors).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Vec<Report>, ScanReportError> {
    // PowerShell's redirection writes a byte-order mark.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let probe: Probe = match serde_json::from_slice(bytes) {
        Ok(p) => p,
        // Every key is optional and skipped: only a top level that is not an object is a
        // data error here.
        Err(e) if e.classify() == serde_json::error::Category::Data => {
            return Err(ScanReportError::UnknownFormat {
                path: path.to_path_buf(),
                what: "its top level is not a JSON object".into(),
            });
        }
        Err(e) => return Err(json_error(path, &e)),
    };
    if probe.runs.is_some() && (probe.version.is_some() || probe.schema.is_some()) {
        sarif::parse(path, bytes)
    } else if probe.matches.is_some() && (probe.source.is_some() || probe.descriptor.is_some()) {
        grype::parse(path, bytes).map(|r| vec![r])
    } else if probe.schema_version.is_some()
        || (probe.artifact_name.is_some() && probe.results.is_some())
    {
        trivy::parse(path, bytes).map(|r| vec![r])
    } else {
        Err(ScanReportError::UnknownFormat {
            path: path.to_path_buf(),
            what: "a JSON object without Trivy's keys (`SchemaVersion`, `ArtifactName`), Grype's (`matches`, `source`) or SARIF's (`version`, `runs`)".into(),
        })
    }
}

/// A `serde_json` error at its place in the report.
fn json_error(path: &Path, error: &serde_json::Error) -> ScanReportError {
    let text = error.to_string();
    // serde_json appends " at line L column C"; the place leads the message instead.
    let message = match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    };
    ScanReportError::Json {
        path: path.to_path_buf(),
        line: error.line().max(1),
        column: error.column().max(1),
        message,
    }
}

/// A field that may be `null` or missing: its type's default then.
fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A rating from a scanner's word (`HIGH`, `Negligible`); `UNKNOWN` and anything else is none.
fn rating(word: &str) -> Option<Rating> {
    word.parse().ok()
}

/// `Some(text)` unless it is empty.
fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

#[cfg(test)]
mod tests;
