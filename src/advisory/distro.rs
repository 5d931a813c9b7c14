//! Advisories for the OS packages of container images: OSV's distribution ecosystems
//! (`Debian:12`, `Ubuntu:22.04:LTS`, `Alpine:v3.20`), evaluated with the distribution's own
//! version ordering ([`crate::versioning::dpkg`], [`crate::versioning::apk`]).
//!
//! Distributions publish advisories by *source* package (`openssl`, not `libssl3`), so lookups
//! are by source name and version. A version is either not affected, affected with a fix (the
//! range it is in has a `fixed` event above it: the distribution shipped the fix), or affected
//! with no fix yet (the range has none: Debian's and Alpine's trackers list open issues so).
//! The records come from the same sources as Python's: the OSV API (asked with the ecosystem),
//! an offline directory, or an ecosystem zip (`Debian/all.zip`).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use super::RecordBatch;
use super::model::{Event, EventKind, OsvRecord, RangeKind};
use super::severity::{Rating, Severity};
use crate::versioning::{apk, dpkg};

/// How an ecosystem's versions are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionScheme {
    /// Debian and Ubuntu.
    Dpkg,
    /// Alpine.
    Apk,
}

impl VersionScheme {
    /// The scheme of an OSV ecosystem name, `None` for ecosystems that are not distributions
    /// repin reads.
    pub fn of(ecosystem: &str) -> Option<Self> {
        let name = ecosystem.split(':').next().unwrap_or(ecosystem);
        match name {
            "Debian" | "Ubuntu" => Some(VersionScheme::Dpkg),
            "Alpine" => Some(VersionScheme::Apk),
            _ => None,
        }
    }

    /// Compare two versions; `None` when either does not parse.
    pub fn compare(self, a: &str, b: &str) -> Option<Ordering> {
        match self {
            VersionScheme::Dpkg => dpkg::compare(a, b),
            VersionScheme::Apk => apk::compare(a, b),
        }
    }
}

/// The OSV ecosystem of a distribution release, from `os-release`'s `ID` and `VERSION_ID`:
/// Debian by major (`Debian:12`), Alpine by branch (`Alpine:v3.20`), Ubuntu by release, with
/// `:LTS` for the April releases of even years (`Ubuntu:22.04:LTS`, `Ubuntu:24.10`).
pub fn ecosystem(id: &str, version_id: Option<&str>) -> Option<String> {
    let version = version_id?.trim();
    match id {
        "debian" => {
            let major = version.split('.').next()?;
            (!major.is_empty() && major.chars().all(|c| c.is_ascii_digit()))
                .then(|| format!("Debian:{major}"))
        }
        "alpine" => {
            let mut parts = version.split('.');
            let (major, minor) = (parts.next()?, parts.next()?);
            let minor: String = minor.chars().take_while(char::is_ascii_digit).collect();
            (!minor.is_empty()).then(|| format!("Alpine:v{major}.{minor}"))
        }
        "ubuntu" => {
            let (year, month) = version.split_once('.')?;
            let year: u32 = year.parse().ok()?;
            let lts = month == "04" && year % 2 == 0;
            Some(format!("Ubuntu:{version}{}", if lts { ":LTS" } else { "" }))
        }
        _ => None,
    }
}

/// Whether a package version is affected, and whether a fix exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state", content = "fixed_version")]
pub enum Status {
    /// Affected; the distribution fixed it in this version.
    Fixed(String),
    /// Affected; no fixed version is published yet.
    NoFix,
}

/// One advisory affecting one installed source package.
#[derive(Debug, Clone, Serialize)]
pub struct Match {
    /// The advisory's ID (`DSA-5532-1`, `ALPINE-CVE-2023-5363`, `DEBIAN-CVE-2023-5363`).
    pub id: String,
    /// The CVE IDs (and other aliases) it is about, sorted.
    pub cves: Vec<String>,
    /// Fixed or not.
    pub status: Status,
    /// The rating, when the record has one.
    pub severity: Option<Rating>,
    /// The CVSS score, when the record has a vector.
    pub score: Option<f64>,
    /// One line, when the record has one.
    pub summary: Option<String>,
}

impl Match {
    /// The ID people look up: the first CVE, else the advisory's ID.
    pub fn cve(&self) -> &str {
        self.cves.first().map_or(&self.id, String::as_str)
    }
}

/// One record's affected ranges for one (ecosystem, package).
#[derive(Debug, Clone)]
struct Entry {
    record: Arc<OsvRecord>,
    /// `(kind, version)` events of the record's ECOSYSTEM ranges, one list per range.
    ranges: Vec<Vec<Event>>,
    /// Listed affected versions.
    versions: Vec<String>,
    severity: Option<Severity>,
}

/// Advisories by (ecosystem, source package).
#[derive(Debug, Clone, Default)]
pub struct DistroIndex {
    by_package: BTreeMap<(String, String), Vec<Entry>>,
}

/// The CVE IDs a record is about: its ID when it is one (or embeds one, as
/// `ALPINE-CVE-2023-5363` and `DEBIAN-CVE-2023-5363` do), its aliases and upstream IDs.
fn cves_of(record: &OsvRecord) -> Vec<String> {
    let mut out: BTreeSet<String> = record
        .aliases
        .iter()
        .chain(&record.upstream)
        .filter(|a| a.starts_with("CVE-"))
        .cloned()
        .collect();
    if let Some(at) = record.id.find("CVE-") {
        out.insert(record.id[at..].to_owned());
    }
    out.into_iter().collect()
}

impl DistroIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Index every distribution advisory of `batch` (records of other ecosystems are left
    /// out; a withdrawn record affects nothing).
    pub fn from_batch(batch: &RecordBatch) -> Self {
        let mut index = Self::new();
        for loaded in &batch.records {
            index.insert(Arc::new(loaded.record.clone()));
        }
        index
    }

    /// Add one record.
    pub fn insert(&mut self, record: Arc<OsvRecord>) {
        if record.is_withdrawn() {
            return;
        }
        for affected in &record.affected {
            let Some(package) = &affected.package else {
                continue;
            };
            if VersionScheme::of(&package.ecosystem).is_none() {
                continue;
            }
            let ranges = affected
                .ranges
                .iter()
                .filter(|r| r.kind == RangeKind::Ecosystem)
                .map(|r| r.events.clone())
                .collect();
            let (severity, _) = Severity::of_record(&record, std::iter::once(affected));
            let list = self
                .by_package
                .entry((package.ecosystem.clone(), package.name.clone()))
                .or_default();
            // The same record read twice (API and directory) counts once.
            if list.iter().any(|e| e.record.id == record.id) {
                continue;
            }
            list.push(Entry {
                record: Arc::clone(&record),
                ranges,
                versions: affected.versions.clone(),
                severity,
            });
        }
    }

    /// How many (ecosystem, package) pairs have advisories.
    pub fn len(&self) -> usize {
        self.by_package.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_package.is_empty()
    }

    /// The advisories affecting `version` of source package `package` in `ecosystem`, sorted
    /// by ID. Versions the scheme cannot parse are compared as affected (a missed advisory is
    /// worse than a false alarm).
    pub fn affecting(&self, ecosystem: &str, package: &str, version: &str) -> Vec<Match> {
        let Some(scheme) = VersionScheme::of(ecosystem) else {
            return Vec::new();
        };
        let Some(entries) = self
            .by_package
            .get(&(ecosystem.to_owned(), package.to_owned()))
        else {
            return Vec::new();
        };
        let mut out: Vec<Match> = entries
            .iter()
            .filter_map(|entry| {
                let status = evaluate(scheme, entry, version)?;
                Some(Match {
                    id: entry.record.id.clone(),
                    cves: cves_of(&entry.record),
                    status,
                    severity: entry.severity.as_ref().map(|s| s.rating),
                    score: entry.severity.as_ref().and_then(|s| s.score),
                    summary: entry
                        .record
                        .summary
                        .clone()
                        .filter(|s| !s.trim().is_empty()),
                })
            })
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }
}

/// Whether `version` is in the record's ranges or list, and the fix of the range it is in.
fn evaluate(scheme: VersionScheme, entry: &Entry, version: &str) -> Option<Status> {
    // `<` that treats what does not parse as "below" for fixes and "at or below" for starts.
    let cmp = |a: &str, b: &str| scheme.compare(a, b);
    let mut listed = entry
        .versions
        .iter()
        .any(|v| cmp(v, version) == Some(Ordering::Equal));
    let mut fix: Option<String> = None;
    for events in &entry.ranges {
        let mut sorted: Vec<&Event> = events
            .iter()
            .filter(|e| e.kind != EventKind::Limit)
            .collect();
        // Events in version order ("0" first); unparseable ones keep their written place.
        sorted.sort_by(|a, b| {
            let zero = |e: &Event| e.kind == EventKind::Introduced && e.version == "0";
            match (zero(a), zero(b)) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Less,
                (false, true) => Ordering::Greater,
                _ => cmp(&a.version, &b.version).unwrap_or(Ordering::Equal),
            }
        });
        let mut affected = false;
        let mut range_fix: Option<&str> = None;
        for event in &sorted {
            let place = if event.kind == EventKind::Introduced && event.version == "0" {
                Some(Ordering::Greater)
            } else {
                cmp(version, &event.version)
            };
            match event.kind {
                EventKind::Introduced => {
                    // An unreadable start counts as the beginning.
                    if place != Some(Ordering::Less) {
                        affected = true;
                        range_fix = None;
                    }
                }
                EventKind::Fixed => match place {
                    Some(Ordering::Less) if affected && range_fix.is_none() => {
                        range_fix = Some(&event.version);
                    }
                    Some(Ordering::Less) => {}
                    Some(_) => affected = false,
                    // An unreadable fix is dropped: the affected span only grows.
                    None => {}
                },
                EventKind::LastAffected => {
                    if place == Some(Ordering::Greater) {
                        affected = false;
                    }
                }
                EventKind::Limit => {}
            }
        }
        if affected {
            listed = true;
            if let Some(f) = range_fix {
                fix = Some(match fix {
                    Some(prev) if cmp(&prev, f) == Some(Ordering::Less) => prev,
                    _ => f.to_owned(),
                });
            }
        }
    }
    if !listed {
        return None;
    }
    Some(match fix {
        Some(version) => Status::Fixed(version),
        None => Status::NoFix,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisory::LoadedRecord;

    fn index(records: &[&str]) -> DistroIndex {
        DistroIndex::from_batch(&RecordBatch {
            records: records
                .iter()
                .map(|r| LoadedRecord {
                    origin: "x.json".into(),
                    record: OsvRecord::from_json(r).unwrap(),
                })
                .collect(),
            diagnostics: Vec::new(),
        })
    }

    const DSA: &str = r#"{"id": "DSA-5532-1", "summary": "openssl - security update",
      "upstream": ["CVE-2023-5363"], "modified": "2023-10-25T00:00:00Z",
      "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl", "purl": "pkg:deb/debian/openssl?arch=source"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}]}]},
       {"package": {"ecosystem": "Debian:11", "name": "openssl"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.1w-0+deb11u1"}]}]}]}"#;
    const OPEN: &str = r#"{"id": "DEBIAN-CVE-2024-0001", "modified": "2024-01-01T00:00:00Z",
      "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
      "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}"#;
    const ALPINE: &str = r#"{"id": "ALPINE-CVE-2024-9143", "modified": "2024-10-16T00:00:00Z",
      "affected": [{"package": {"ecosystem": "Alpine:v3.20", "name": "openssl"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.3.2-r1"}]}]}]}"#;

    #[test]
    fn fixed_no_fix_and_not_affected_are_apart() {
        let index = index(&[DSA, OPEN, ALPINE]);
        let found = index.affecting("Debian:12", "openssl", "3.0.11-1~deb12u1");
        let got: Vec<(&str, &Status, &[String])> = found
            .iter()
            .map(|m| (m.id.as_str(), &m.status, m.cves.as_slice()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "DEBIAN-CVE-2024-0001",
                    &Status::NoFix,
                    ["CVE-2024-0001".to_owned()].as_slice()
                ),
                (
                    "DSA-5532-1",
                    &Status::Fixed("3.0.11-1~deb12u2".into()),
                    ["CVE-2023-5363".to_owned()].as_slice()
                ),
            ]
        );
        assert_eq!(found[0].severity, Some(Rating::Critical));
        assert_eq!(found[1].severity, None);
        // The fixed version is not affected by the DSA; the open issue stays.
        let fixed = index.affecting("Debian:12", "openssl", "3.0.11-1~deb12u2");
        assert_eq!(fixed.len(), 1);
        assert_eq!(fixed[0].id, "DEBIAN-CVE-2024-0001");
        // Other releases and other packages are not mixed in.
        assert!(index.affecting("Debian:13", "openssl", "1.0").is_empty());
        assert!(index.affecting("Debian:12", "libssl3", "1.0").is_empty());
        // Alpine's ordering: -r0 < -r1.
        let alpine = index.affecting("Alpine:v3.20", "openssl", "3.3.2-r0");
        assert_eq!(alpine[0].status, Status::Fixed("3.3.2-r1".into()));
        assert_eq!(alpine[0].cve(), "CVE-2024-9143");
        assert!(
            index
                .affecting("Alpine:v3.20", "openssl", "3.3.2-r1")
                .is_empty()
        );
    }

    #[test]
    fn several_ranges_pick_the_fix_of_the_one_containing_the_version() {
        let rec = r#"{"id": "X-1", "affected": [{"package": {"ecosystem": "Debian:12", "name": "p"},
          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2-1"},
                                                      {"introduced": "2.0-1"}, {"fixed": "2.0-3"}]}],
          "versions": ["0.5-1"]}]}"#;
        let index = index(&[rec]);
        let status = |v: &str| {
            index
                .affecting("Debian:12", "p", v)
                .first()
                .map(|m| m.status.clone())
        };
        assert_eq!(status("1.0-1"), Some(Status::Fixed("1.2-1".into())));
        assert_eq!(status("1.5-1"), None);
        assert_eq!(status("2.0-2"), Some(Status::Fixed("2.0-3".into())));
        assert_eq!(status("2.0-3"), None);
        assert_eq!(status("1:0.1-1"), None); // an epoch sorts above everything
    }

    #[test]
    fn ecosystems_of_releases() {
        assert_eq!(
            ecosystem("debian", Some("12")).as_deref(),
            Some("Debian:12")
        );
        assert_eq!(
            ecosystem("debian", Some("11.9")).as_deref(),
            Some("Debian:11")
        );
        assert_eq!(
            ecosystem("alpine", Some("3.20.3")).as_deref(),
            Some("Alpine:v3.20")
        );
        assert_eq!(
            ecosystem("ubuntu", Some("22.04")).as_deref(),
            Some("Ubuntu:22.04:LTS")
        );
        assert_eq!(
            ecosystem("ubuntu", Some("23.04")).as_deref(),
            Some("Ubuntu:23.04")
        );
        assert_eq!(ecosystem("debian", None), None);
        assert_eq!(ecosystem("fedora", Some("40")), None);
        assert_eq!(VersionScheme::of("Debian:12"), Some(VersionScheme::Dpkg));
        assert_eq!(VersionScheme::of("PyPI"), None);
    }
}
