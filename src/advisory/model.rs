//! The OSV record schema (<https://ossf.github.io/osv-schema/>), read from JSON or YAML.
//!
//! Only the fields repin uses are modelled; unknown fields are ignored so newer schema versions
//! still load. Fields the schema marks as lists may be missing or `null` in the wild and then
//! read as empty.
//!
//! Version strings are read as the text the file holds. YAML is the trap: in the PyPA
//! advisory database `'0.10'` is quoted but `0.10.1` is not, and a loader that lets a plain
//! `0.10` or `2.0` become a float would turn it into `0.1` or `2`, a different version. Every
//! version (and severity score) is therefore asked of the deserializer as a string, and
//! `serde_norway` hands a plain scalar over exactly as written.

use std::fmt;
use std::path::Path;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// Why a record could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The JSON text is not a valid OSV record.
    #[error("Invalid OSV record (JSON)")]
    Json {
        /// 1-based line of the problem, 0 when unknown.
        line: usize,
        /// 1-based column of the problem, 0 when unknown.
        column: usize,
        /// The parser's message.
        #[source]
        source: serde_json::Error,
    },
    /// The YAML text is not a valid OSV record.
    #[error("Invalid OSV record (YAML)")]
    Yaml {
        /// 1-based line of the problem, 0 when unknown.
        line: usize,
        /// 1-based column of the problem, 0 when unknown.
        column: usize,
        /// The parser's message.
        #[source]
        source: serde_norway::Error,
    },
}

impl ModelError {
    /// Where in the text the problem is, as 1-based (line, column), when the parser knows.
    pub fn position(&self) -> Option<(usize, usize)> {
        let (line, column) = match self {
            ModelError::Json { line, column, .. } | ModelError::Yaml { line, column, .. } => {
                (*line, *column)
            }
        };
        (line > 0).then_some((line, column.max(1)))
    }
}

/// The two encodings OSV records are published in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordFormat {
    /// `.json`: osv.dev exports, the OSV API.
    Json,
    /// `.yaml`/`.yml`: the PyPA advisory database.
    Yaml,
}

impl RecordFormat {
    /// The format a file name implies, from its extension (case-insensitive).
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "json" => Some(RecordFormat::Json),
            "yaml" | "yml" => Some(RecordFormat::Yaml),
            _ => None,
        }
    }

    /// Parse one record in this format.
    pub fn parse(self, text: &str) -> Result<OsvRecord, ModelError> {
        match self {
            RecordFormat::Json => OsvRecord::from_json(text),
            RecordFormat::Yaml => OsvRecord::from_yaml(text),
        }
    }
}

/// One OSV vulnerability record.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct OsvRecord {
    /// The record's ID, e.g. `PYSEC-2023-221` or `GHSA-hrfv-mqp8-q5rw`.
    #[serde(deserialize_with = "scalar")]
    pub id: String,
    /// When the record was last changed (RFC 3339, as written).
    #[serde(default, deserialize_with = "opt_scalar")]
    pub modified: Option<String>,
    /// When the record was first published (RFC 3339, as written).
    #[serde(default, deserialize_with = "opt_scalar")]
    pub published: Option<String>,
    /// When the record was withdrawn (RFC 3339); a withdrawn record affects nothing.
    #[serde(default, deserialize_with = "opt_scalar")]
    pub withdrawn: Option<String>,
    /// Other IDs of the same vulnerability (CVE, GHSA, ...).
    #[serde(default, deserialize_with = "scalar_list")]
    pub aliases: Vec<String>,
    /// IDs of closely related but different vulnerabilities.
    #[serde(default, deserialize_with = "scalar_list")]
    pub related: Vec<String>,
    /// IDs of the upstream vulnerabilities a distribution's record is about (schema 1.6):
    /// Debian's and Alpine's records name their CVEs here.
    #[serde(default, deserialize_with = "scalar_list")]
    pub upstream: Vec<String>,
    /// A one-line summary.
    #[serde(default, deserialize_with = "opt_scalar")]
    pub summary: Option<String>,
    /// The description (CommonMark).
    #[serde(default, deserialize_with = "opt_scalar")]
    pub details: Option<String>,
    /// Severity scores for the whole record.
    #[serde(default, deserialize_with = "null_default")]
    pub severity: Vec<SeverityScore>,
    /// The affected packages and their versions.
    #[serde(default, deserialize_with = "null_default")]
    pub affected: Vec<Affected>,
    /// Links to advisories, fixes, reports.
    #[serde(default, deserialize_with = "null_default")]
    pub references: Vec<Reference>,
    /// Database-defined extra data; GitHub and PyPA put a `severity` text here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

impl OsvRecord {
    /// Parse a record from OSV JSON.
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        serde_json::from_str(text).map_err(|source| ModelError::Json {
            line: source.line(),
            column: source.column(),
            source,
        })
    }

    /// Parse a record from OSV YAML (the PyPA advisory database's format).
    pub fn from_yaml(text: &str) -> Result<Self, ModelError> {
        serde_norway::from_str(text).map_err(|source| {
            let (line, column) = source
                .location()
                .map_or((0, 0), |at| (at.line(), at.column()));
            ModelError::Yaml {
                line,
                column,
                source,
            }
        })
    }

    /// Whether the record has been withdrawn.
    pub fn is_withdrawn(&self) -> bool {
        self.withdrawn.is_some()
    }

    /// `database_specific.severity`, the text rating GitHub and PyPA publish (`"HIGH"`).
    pub fn database_severity(&self) -> Option<&str> {
        self.database_specific.as_ref()?.get("severity")?.as_str()
    }
}

/// One package a record affects, and which of its versions.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Affected {
    /// The package; absent in records that only describe a Git repository.
    #[serde(default)]
    pub package: Option<Package>,
    /// Severity scores for this package only.
    #[serde(default, deserialize_with = "null_default")]
    pub severity: Vec<SeverityScore>,
    /// Version ranges.
    #[serde(default, deserialize_with = "null_default")]
    pub ranges: Vec<Range>,
    /// Affected versions, enumerated.
    #[serde(default, deserialize_with = "scalar_list")]
    pub versions: Vec<String>,
    /// Ecosystem-defined extra data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem_specific: Option<serde_json::Value>,
    /// Database-defined extra data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

/// A package in an ecosystem.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Package {
    /// The ecosystem, e.g. `PyPI`.
    #[serde(deserialize_with = "scalar")]
    pub ecosystem: String,
    /// The package's name as the ecosystem spells it (not normalised).
    #[serde(deserialize_with = "scalar")]
    pub name: String,
    /// The package URL, e.g. `pkg:pypi/django`.
    #[serde(default, deserialize_with = "opt_scalar")]
    pub purl: Option<String>,
}

/// The ecosystem name OSV uses for the Python Package Index.
pub const PYPI: &str = "PyPI";

impl Package {
    /// Whether this is a PyPI package. OSV allows a `:suffix` on some ecosystems; PyPI has none.
    pub fn is_pypi(&self) -> bool {
        self.ecosystem.eq_ignore_ascii_case(PYPI)
    }
}

/// A range of affected versions: a timeline of events in one version ordering.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Range {
    /// How the event versions are ordered.
    #[serde(rename = "type")]
    pub kind: RangeKind,
    /// The repository, for `GIT` ranges.
    #[serde(default, deserialize_with = "opt_scalar")]
    pub repo: Option<String>,
    /// The events, in the order the record lists them.
    #[serde(default, deserialize_with = "events")]
    pub events: Vec<Event>,
}

/// How a range's versions are ordered.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(from = "String", into = "String")]
pub enum RangeKind {
    /// The ecosystem's own ordering (PEP 440 for PyPI).
    Ecosystem,
    /// Semantic Versioning 2.0.
    Semver,
    /// Git commits; needs the repository's history, so it is never evaluated against PyPI
    /// versions.
    Git,
    /// A type this schema version does not know.
    Other(String),
}

impl From<String> for RangeKind {
    fn from(value: String) -> Self {
        match value.as_str() {
            "ECOSYSTEM" => RangeKind::Ecosystem,
            "SEMVER" => RangeKind::Semver,
            "GIT" => RangeKind::Git,
            _ => RangeKind::Other(value),
        }
    }
}

impl From<RangeKind> for String {
    fn from(value: RangeKind) -> Self {
        value.as_str().to_owned()
    }
}

impl RangeKind {
    /// The name as written in records (`ECOSYSTEM`, `SEMVER`, `GIT`).
    pub fn as_str(&self) -> &str {
        match self {
            RangeKind::Ecosystem => "ECOSYSTEM",
            RangeKind::Semver => "SEMVER",
            RangeKind::Git => "GIT",
            RangeKind::Other(other) => other,
        }
    }
}

impl fmt::Display for RangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an event says happened at its version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// The vulnerability appears here (inclusive); `"0"` means "before every version".
    Introduced,
    /// The vulnerability is gone from here on (exclusive upper bound).
    Fixed,
    /// The last version known to be affected (inclusive upper bound).
    LastAffected,
    /// The range stops here (exclusive); `"*"` means no limit.
    Limit,
}

impl EventKind {
    /// The key as written in records.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Introduced => "introduced",
            EventKind::Fixed => "fixed",
            EventKind::LastAffected => "last_affected",
            EventKind::Limit => "limit",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event of a range: `{"introduced": "1.0"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// At which version (or commit, for `GIT` ranges), exactly as written.
    pub version: String,
}

impl Event {
    /// An event of `kind` at `version`.
    pub fn new(kind: EventKind, version: impl Into<String>) -> Self {
        Event {
            kind,
            version: version.into(),
        }
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.kind.as_str(), &self.version)?;
        map.end()
    }
}

/// A severity score: a CVSS vector or a database's own rating.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct SeverityScore {
    /// The scoring method: `CVSS_V2`, `CVSS_V3`, `CVSS_V4`, `Ubuntu`, ...
    #[serde(rename = "type", deserialize_with = "scalar")]
    pub kind: String,
    /// The vector (for CVSS) or rating text, as written.
    #[serde(deserialize_with = "scalar")]
    pub score: String,
}

/// A link about the vulnerability.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Reference {
    /// `ADVISORY`, `ARTICLE`, `FIX`, `REPORT`, `WEB`, ...
    #[serde(rename = "type", deserialize_with = "scalar")]
    pub kind: String,
    /// The URL.
    #[serde(deserialize_with = "scalar")]
    pub url: String,
}

/// A scalar read as its text. Asking with `deserialize_str` makes `serde_norway` hand over a
/// plain YAML scalar exactly as written (`0.10` stays `0.10`); numbers are accepted too for
/// formats that ignore the hint, though their written form is then lost.
struct ScalarText(String);

impl<'de> Deserialize<'de> for ScalarText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;

        impl Visitor<'_> for ScalarVisitor {
            type Value = ScalarText;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_owned()))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<ScalarText, E> {
                Ok(ScalarText(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
        }

        deserializer.deserialize_str(ScalarVisitor)
    }
}

fn scalar<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    ScalarText::deserialize(deserializer).map(|s| s.0)
}

fn opt_scalar<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<ScalarText>::deserialize(deserializer)?.map(|s| s.0))
}

fn scalar_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let list = Option::<Vec<ScalarText>>::deserialize(deserializer)?.unwrap_or_default();
    Ok(list.into_iter().map(|s| s.0).collect())
}

/// A list that may be written as `null` (or an empty YAML value): read as empty.
fn null_default<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// An event as written: the schema allows exactly one key, but a record that puts two in one
/// object still says what it means, so each key present becomes its own event.
#[derive(Deserialize)]
struct RawEvent {
    #[serde(default, deserialize_with = "opt_scalar")]
    introduced: Option<String>,
    #[serde(default, deserialize_with = "opt_scalar")]
    fixed: Option<String>,
    #[serde(default, deserialize_with = "opt_scalar")]
    last_affected: Option<String>,
    #[serde(default, deserialize_with = "opt_scalar")]
    limit: Option<String>,
}

fn events<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Event>, D::Error> {
    let raw = Option::<Vec<RawEvent>>::deserialize(deserializer)?.unwrap_or_default();
    let mut out = Vec::with_capacity(raw.len());
    for event in raw {
        for (kind, version) in [
            (EventKind::Introduced, event.introduced),
            (EventKind::Fixed, event.fixed),
            (EventKind::LastAffected, event.last_affected),
            (EventKind::Limit, event.limit),
        ] {
            if let Some(version) = version {
                out.push(Event { kind, version });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = r#"
affected:
- package:
    name: Werkzeug
    ecosystem: PyPI
    purl: pkg:pypi/werkzeug
  ranges:
  - type: GIT
    repo: https://github.com/pallets/werkzeug
    events:
    - introduced: '0'
    - fixed: f3c803b3ade485a45f12b6d6617595350c0f03e2
  - type: ECOSYSTEM
    events:
    - introduced: 0
    - fixed: 2.3.8
    - introduced: 3.0
    - last_affected: 3.10
  versions:
  - '0.10'
  - 0.10.1
  - 2.0
  - 1.0
  - 10
  new_field_from_the_future: true
id: PYSEC-2023-221
modified: 2023-11-08T18:38:34.170214Z
aliases:
- CVE-2023-46136
severity:
- type: CVSS_V3
  score: CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H
database_specific:
  severity: HIGH
  cwe_ids: [CWE-400]
references:
- type: FIX
  url: https://github.com/pallets/werkzeug/commit/f3c803b
"#;

    #[test]
    fn yaml_keeps_every_scalar_as_written() {
        let record = OsvRecord::from_yaml(YAML).unwrap();
        assert_eq!(record.id, "PYSEC-2023-221");
        // A plain timestamp is not turned into anything else either.
        assert_eq!(
            record.modified.as_deref(),
            Some("2023-11-08T18:38:34.170214Z")
        );
        assert_eq!(record.aliases, ["CVE-2023-46136"]);
        let affected = &record.affected[0];
        // Unquoted `2.0` and `1.0` would be floats (2 and 1) and `10` an integer to a naive
        // loader; quoted or not, every version keeps its written text.
        assert_eq!(affected.versions, ["0.10", "0.10.1", "2.0", "1.0", "10"]);
        let eco = &affected.ranges[1];
        assert_eq!(eco.kind, RangeKind::Ecosystem);
        assert_eq!(
            eco.events,
            [
                Event::new(EventKind::Introduced, "0"),
                Event::new(EventKind::Fixed, "2.3.8"),
                Event::new(EventKind::Introduced, "3.0"),
                Event::new(EventKind::LastAffected, "3.10"),
            ]
        );
        assert_eq!(affected.ranges[0].kind, RangeKind::Git);
        assert_eq!(
            affected.ranges[0].repo.as_deref(),
            Some("https://github.com/pallets/werkzeug")
        );
        assert_eq!(record.severity[0].kind, "CVSS_V3");
        assert_eq!(record.database_severity(), Some("HIGH"));
        assert_eq!(record.references[0].kind, "FIX");
        assert!(!record.is_withdrawn());
    }

    #[test]
    fn json_reads_the_same_model_and_ignores_unknown_fields() {
        let json = r#"{
          "schema_version": "1.6.0",
          "id": "GHSA-xxxx-yyyy-zzzz",
          "modified": "2024-01-01T00:00:00Z",
          "withdrawn": "2024-02-01T00:00:00Z",
          "aliases": null,
          "credits": [{"name": "someone"}],
          "affected": [{
            "package": {"ecosystem": "PyPI", "name": "Flask"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"limit": "*"}]},
                       {"type": "FUTURE_KIND", "events": []}],
            "versions": ["0.10"]
          }]
        }"#;
        let record = OsvRecord::from_json(json).unwrap();
        assert_eq!(record.id, "GHSA-xxxx-yyyy-zzzz");
        assert!(record.is_withdrawn());
        assert!(record.aliases.is_empty());
        let affected = &record.affected[0];
        assert!(affected.package.as_ref().unwrap().is_pypi());
        assert_eq!(affected.ranges[0].kind, RangeKind::Semver);
        assert_eq!(affected.ranges[0].events[1].kind, EventKind::Limit);
        assert_eq!(
            affected.ranges[1].kind,
            RangeKind::Other("FUTURE_KIND".into())
        );
        assert_eq!(affected.versions, ["0.10"]);
    }

    #[test]
    fn an_event_object_with_two_keys_becomes_two_events() {
        let json = r#"{"id": "X-1", "affected": [{"ranges": [{"type": "ECOSYSTEM",
            "events": [{"introduced": "1.0", "fixed": "1.2"}]}]}]}"#;
        let record = OsvRecord::from_json(json).unwrap();
        assert_eq!(
            record.affected[0].ranges[0].events,
            [
                Event::new(EventKind::Introduced, "1.0"),
                Event::new(EventKind::Fixed, "1.2"),
            ]
        );
        assert!(record.affected[0].package.is_none());
    }

    #[test]
    fn errors_carry_a_position() {
        let err = OsvRecord::from_yaml("id: X-1\naffected:\n- package: [1, 2]\n").unwrap_err();
        assert!(matches!(err, ModelError::Yaml { .. }), "{err:?}");
        assert_eq!(err.position().map(|p| p.0), Some(3));
        assert_eq!(err.to_string(), "Invalid OSV record (YAML)");

        let err = OsvRecord::from_json("{\n  \"id\": 5\n}").unwrap_err();
        assert_eq!(err.position(), Some((2, 9))); // the `5`
        // A record without its required `id` is an error, not a record with an empty ID.
        assert!(OsvRecord::from_json("{}").is_err());
        assert!(OsvRecord::from_yaml("modified: x\n").is_err());
    }

    #[test]
    fn json_numbers_where_strings_belong_are_errors_not_guesses() {
        // JSON has no way to give back how a number was written (`0.10` vs `0.1`), and the
        // schema says versions are strings, so a numeric version is refused.
        let json = r#"{"id": "X-1", "affected": [{"versions": [0.10]}]}"#;
        assert!(OsvRecord::from_json(json).is_err());
    }

    #[test]
    fn format_from_path() {
        assert_eq!(
            RecordFormat::from_path(Path::new("vulns/x/PYSEC-1.yaml")),
            Some(RecordFormat::Yaml)
        );
        assert_eq!(
            RecordFormat::from_path(Path::new("A.YML")),
            Some(RecordFormat::Yaml)
        );
        assert_eq!(
            RecordFormat::from_path(Path::new("GHSA-1.json")),
            Some(RecordFormat::Json)
        );
        assert_eq!(RecordFormat::from_path(Path::new("README.md")), None);
        assert_eq!(RecordFormat::from_path(Path::new("LICENSE")), None);
    }

    #[test]
    fn serializes_events_as_single_key_objects() {
        let range = Range {
            kind: RangeKind::Ecosystem,
            repo: None,
            events: vec![Event::new(EventKind::Introduced, "0")],
        };
        assert_eq!(
            serde_json::to_string(&range).unwrap(),
            r#"{"type":"ECOSYSTEM","repo":null,"events":[{"introduced":"0"}]}"#
        );
    }
}
