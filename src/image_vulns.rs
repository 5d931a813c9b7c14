//! Matching an image's OS packages ([`crate::image_scan`]) with distribution advisories
//! ([`crate::advisory::distro`]), and comparing two images: which CVEs an update fixes.
//!
//! Pure: scans and advisories in, findings out.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::advisory::Rating;
use crate::advisory::distro::{self, DistroIndex, Match, Status};
use crate::image_scan::ImageScan;

/// One advisory affecting one source package of an image.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The source package advisories name (`openssl`).
    pub package: String,
    /// Its installed version.
    pub version: String,
    /// The installed binary packages built from it (`libssl3`, `openssl`).
    pub binaries: Vec<String>,
    /// The advisory.
    #[serde(flatten)]
    pub advisory: Match,
}

impl Finding {
    /// Whether the distribution has published a fix.
    pub fn is_fixed_upstream(&self) -> bool {
        matches!(self.advisory.status, Status::Fixed(_))
    }
}

/// An image's known vulnerabilities.
#[derive(Debug, Clone, Serialize)]
pub struct ImageVulns {
    /// The OSV ecosystem its packages were checked in (`Debian:12`), when known.
    pub ecosystem: Option<String>,
    /// Findings, by package then advisory.
    pub findings: Vec<Finding>,
    /// Why its packages could not be checked, when they could not (an unknown distribution).
    pub unchecked: Option<String>,
}

impl ImageVulns {
    /// The distinct CVE (or advisory) IDs, sorted.
    pub fn cves(&self) -> BTreeSet<&str> {
        self.findings.iter().map(|f| f.advisory.cve()).collect()
    }

    /// Counts by rating (unrated ones under `None`), for dashboards.
    pub fn by_rating(&self) -> BTreeMap<Option<Rating>, usize> {
        let mut worst: BTreeMap<&str, Option<Rating>> = BTreeMap::new();
        for f in &self.findings {
            let slot = worst.entry(f.advisory.cve()).or_insert(None);
            if f.advisory.severity > *slot {
                *slot = f.advisory.severity;
            }
        }
        let mut out = BTreeMap::new();
        for rating in worst.into_values() {
            *out.entry(rating).or_insert(0) += 1;
        }
        out
    }
}

/// Why an image's packages cannot be matched with advisories. The messages are clauses: a
/// report says them after the image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EcosystemError {
    /// Neither dpkg's nor apk's database is in the image.
    #[error("no package database (dpkg or apk) in the image")]
    NoPackageDatabase,
    /// No `os-release` says which distribution the image is.
    #[error("the image's distribution is unknown (no os-release)")]
    UnknownDistribution,
    /// A distribution (and version) OSV has no ecosystem for, as repin knows them.
    #[error("{id} {version} has no OSV ecosystem repin knows")]
    NoEcosystem {
        /// `debian`, `alpine`.
        id: String,
        /// The version, or `(no version)`.
        version: String,
    },
}

impl crate::error::Hint for EcosystemError {}

/// The OSV ecosystem of a scanned image, or why there is none.
pub fn ecosystem_of(scan: &ImageScan) -> Result<String, EcosystemError> {
    let Some(release) = &scan.distribution else {
        return Err(if scan.manager.is_none() {
            EcosystemError::NoPackageDatabase
        } else {
            EcosystemError::UnknownDistribution
        });
    };
    distro::ecosystem(&release.id, release.version_id.as_deref()).ok_or_else(|| {
        EcosystemError::NoEcosystem {
            id: release.id.clone(),
            version: release
                .version_id
                .as_deref()
                .unwrap_or("(no version)")
                .to_owned(),
        }
    })
}

/// The `(ecosystem, source package)` pairs whose advisories a scan needs.
pub fn advisory_keys(scan: &ImageScan) -> Vec<(String, String)> {
    let Ok(ecosystem) = ecosystem_of(scan) else {
        return Vec::new();
    };
    scan.packages
        .iter()
        .map(|p| (ecosystem.clone(), p.source.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The advisories affecting the packages of `scan`.
pub fn match_image(scan: &ImageScan, index: &DistroIndex) -> ImageVulns {
    let ecosystem = match ecosystem_of(scan) {
        Ok(e) => e,
        Err(why) => {
            return ImageVulns {
                ecosystem: None,
                findings: Vec::new(),
                unchecked: (scan.manager.is_some()).then(|| why.to_string()),
            };
        }
    };
    // Binary packages by (source, source version).
    let mut sources: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
    for p in &scan.packages {
        sources
            .entry((&p.source, &p.source_version))
            .or_default()
            .push(p.name.clone());
    }
    let mut findings = Vec::new();
    for ((source, version), binaries) in sources {
        for advisory in index.affecting(&ecosystem, source, version) {
            findings.push(Finding {
                package: source.to_owned(),
                version: version.to_owned(),
                binaries: binaries.clone(),
                advisory,
            });
        }
    }
    ImageVulns {
        ecosystem: Some(ecosystem),
        findings,
        unchecked: None,
    }
}

/// One vulnerability an update fixes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fix {
    /// The CVE (or advisory) ID.
    pub cve: String,
    /// The advisory that says so (`DSA-5532-1`).
    pub advisory: String,
    /// The source package.
    pub package: String,
    /// Its version in the current image.
    pub from: String,
    /// Its version in the new image (`None`: the package is gone).
    pub to: Option<String>,
    /// The rating, when known.
    pub severity: Option<Rating>,
    /// The CVSS score, when known.
    pub score: Option<f64>,
}

/// What moving from `current` to `candidate` fixes: every (CVE, package) of `current` that
/// `candidate` no longer has, with the package's versions; sorted by severity (worst first),
/// then CVE.
pub fn fixed_by(
    current: &ImageVulns,
    candidate: &ImageVulns,
    candidate_scan: &ImageScan,
) -> Vec<Fix> {
    let remaining: BTreeSet<(&str, &str)> = candidate
        .findings
        .iter()
        .map(|f| (f.advisory.cve(), f.package.as_str()))
        .collect();
    let mut seen = BTreeSet::new();
    let mut out: Vec<Fix> = current
        .findings
        .iter()
        .filter(|f| !remaining.contains(&(f.advisory.cve(), f.package.as_str())))
        .filter(|f| seen.insert((f.advisory.cve().to_owned(), f.package.clone())))
        .map(|f| Fix {
            cve: f.advisory.cve().to_owned(),
            advisory: f.advisory.id.clone(),
            package: f.package.clone(),
            from: f.version.clone(),
            to: candidate_scan
                .packages
                .iter()
                .find(|p| p.source == f.package)
                .map(|p| p.source_version.clone()),
            severity: f.advisory.severity,
            score: f.advisory.score,
        })
        .collect();
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.cve.cmp(&b.cve))
            .then_with(|| a.package.cmp(&b.package))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisory::{LoadedRecord, OsvRecord, RecordBatch};
    use crate::image_scan::{Installed, OsRelease, PackageManager};

    fn scan(packages: &[(&str, &str, &str)]) -> ImageScan {
        ImageScan {
            image: "x".into(),
            manifest: "sha256:0".into(),
            platform: "linux/amd64".into(),
            os_release: None,
            distribution: Some(OsRelease {
                id: "debian".into(),
                version_id: Some("12".into()),
                codename: None,
                pretty_name: None,
            }),
            manager: Some(PackageManager::Dpkg),
            packages: packages
                .iter()
                .map(|(name, source, version)| Installed {
                    name: (*name).into(),
                    version: (*version).into(),
                    source: (*source).into(),
                    source_version: (*version).into(),
                })
                .collect(),
            layers: 1,
            layers_fetched: 1,
            layers_cached: 0,
            bytes_fetched: 0,
        }
    }

    #[test]
    fn a_rebuild_fixes_what_its_packages_no_longer_have() {
        let record = |id: &str, package: &str, fixed: &str| {
            LoadedRecord {
            origin: "x".into(),
            record: OsvRecord::from_json(&format!(
                r#"{{"id": "{id}", "upstream": ["CVE-{id}"], "database_specific": {{"severity": "HIGH"}},
                "affected": [{{"package": {{"ecosystem": "Debian:12", "name": "{package}"}},
                "ranges": [{{"type": "ECOSYSTEM", "events": [{{"introduced": "0"}}, {{"fixed": "{fixed}"}}]}}]}}]}}"#
            ))
            .unwrap(),
        }
        };
        let index = DistroIndex::from_batch(&RecordBatch {
            records: vec![
                record("1", "openssl", "3.0.11-1~deb12u2"),
                record("2", "zlib", "1:1.3-1"),
            ],
            diagnostics: Vec::new(),
        });
        let old = scan(&[
            ("libssl3", "openssl", "3.0.11-1~deb12u1"),
            ("openssl", "openssl", "3.0.11-1~deb12u1"),
            ("zlib1g", "zlib", "1:1.2.13.dfsg-1"),
        ]);
        let new = scan(&[
            ("libssl3", "openssl", "3.0.11-1~deb12u2"),
            ("zlib1g", "zlib", "1:1.2.13.dfsg-1"),
        ]);
        let old_v = match_image(&old, &index);
        assert_eq!(old_v.ecosystem.as_deref(), Some("Debian:12"));
        assert_eq!(old_v.findings.len(), 2);
        assert_eq!(old_v.findings[0].binaries, ["libssl3", "openssl"]);
        let new_v = match_image(&new, &index);
        let fixes = fixed_by(&old_v, &new_v, &new);
        assert_eq!(
            fixes,
            [Fix {
                cve: "CVE-1".into(),
                advisory: "1".into(),
                package: "openssl".into(),
                from: "3.0.11-1~deb12u1".into(),
                to: Some("3.0.11-1~deb12u2".into()),
                severity: Some(Rating::High),
                score: None,
            }]
        );
        assert_eq!(advisory_keys(&old).len(), 2);
        assert_eq!(old_v.by_rating().get(&Some(Rating::High)), Some(&2));
    }
}
