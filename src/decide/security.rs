//! Security decisions: which known advisories affect a Python dependency, and the release to
//! move to: the lowest (or, by configuration, highest) release free of *every* known advisory
//! and allowed by policy. Security updates skip cooldown and disabled kinds; they still respect
//! `allowed-versions` and ignored versions, which the user wrote on purpose.

use serde::Serialize;

use super::python::Release;
use super::{Context, Decision, Policy, Update};
use crate::advisory::{Advisory, Rating};
use crate::config::FixStrategy;
use crate::manifest::Dependency;
use crate::manifest::edit::Change;
use crate::versioning::UpdateKind;
use crate::versioning::pep440;

/// An advisory as reports show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The advisory's ID (`PYSEC-2024-1`, `GHSA-...`).
    pub id: String,
    /// Other IDs (CVE, GHSA).
    pub aliases: Vec<String>,
    /// `low`, `medium`, `high`, `critical`, or `none` when unrated.
    pub severity: Rating,
    /// The CVSS base score, when a vector gave one.
    pub score: Option<f64>,
    /// The advisory's summary (else the first line of its details), whole: reports that show
    /// it in a table shorten it there.
    pub summary: String,
    /// Where to read more.
    pub url: String,
    /// The versions that fix it (from the advisory).
    pub fixed: Vec<String>,
}

impl Finding {
    /// The report form of an advisory.
    pub fn of(advisory: &Advisory) -> Finding {
        let severity = advisory.severity();
        let summary = advisory
            .title()
            .unwrap_or("")
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_owned();
        Finding {
            id: advisory.id().to_owned(),
            aliases: advisory.aliases().to_vec(),
            severity: severity.map_or(Rating::None, |s| s.rating),
            score: severity.and_then(|s| s.score),
            summary,
            url: advisory.url(),
            fixed: advisory
                .fixed_versions()
                .iter()
                .map(ToString::to_string)
                .collect(),
        }
    }
}

/// What the advisories say about one dependency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    /// The version checked (the pin, or what a range installs today).
    pub version: Option<String>,
    /// Advisories affecting it.
    pub findings: Vec<Finding>,
    /// The security update, when a release free of every advisory is allowed.
    pub update: Option<Update>,
    /// Why there is no fix, when affected and none is possible.
    pub no_fix: Option<String>,
}

/// Assess a Python dependency against the advisories of its package.
pub fn assess(
    dependency: &Dependency,
    releases: &[Release],
    advisories: &[Advisory],
    policy: &Policy,
    ctx: &Context,
) -> Assessment {
    let mut assessment = Assessment {
        version: None,
        findings: Vec::new(),
        update: None,
        no_fix: None,
    };
    let Some(requirement) = dependency.python() else {
        return assessment;
    };
    let pinned = requirement.pinned_version().cloned();
    // A range is judged by what it installs today.
    let current = pinned.clone().or_else(|| {
        let spec = requirement.specifier.as_ref()?;
        let mut matching: Vec<&Release> = releases
            .iter()
            .filter(|r| !r.yanked && pep440::is_stable(&r.version) && spec.contains(&r.version))
            .collect();
        matching.sort_by(|a, b| b.version.cmp(&a.version));
        matching.first().map(|r| r.version.clone())
    });
    let Some(current) = current else {
        return assessment;
    };
    assessment.version = Some(current.to_string());
    let live: Vec<&Advisory> = advisories.iter().filter(|a| !a.is_withdrawn()).collect();
    let affecting: Vec<&Advisory> = live
        .iter()
        .copied()
        .filter(|a| a.is_affected(&current))
        .collect();
    if affecting.is_empty() {
        return assessment;
    }
    assessment.findings = affecting.iter().map(|a| Finding::of(a)).collect();
    let prereleases = !pep440::is_stable(&current) || policy.prereleases || requirement.index.pre;
    let needs_hashes = !requirement.hashes.is_empty();
    let mut candidates: Vec<&Release> = releases
        .iter()
        .filter(|r| r.version > current)
        .filter(|r| !r.yanked)
        .filter(|r| prereleases || pep440::is_stable(&r.version))
        .filter(|r| {
            ctx.python
                .as_ref()
                .is_none_or(|p| r.requires_python.as_ref().is_none_or(|rp| rp.contains(p)))
        })
        .filter(|r| live.iter().all(|a| !a.is_affected(&r.version)))
        .collect();
    candidates.sort_by(|a, b| a.version.cmp(&b.version));
    let total = candidates.len();
    candidates.retain(|r| {
        policy
            .allowed
            .as_ref()
            .is_none_or(|a| a.contains(&r.version))
            && !policy.ignores(&r.version.to_string())
            && (!needs_hashes || !r.hashes.is_empty())
    });
    let chosen = match policy.fix_strategy {
        FixStrategy::Lowest => candidates.first(),
        FixStrategy::Highest => candidates.last(),
    };
    let ids: Vec<String> = affecting.iter().map(|a| a.id().to_owned()).collect();
    match chosen {
        None => {
            assessment.no_fix = Some(if total > 0 {
                "every release free of these advisories is excluded by allowed-versions or ignore-versions".into()
            } else {
                "no release is free of every known advisory".into()
            });
        }
        Some(release) => {
            let kind = pep440::classify(&current, &release.version).unwrap_or(UpdateKind::Patch);
            let version = release.version.to_string();
            let names = affecting
                .iter()
                .map(|a| {
                    a.aliases()
                        .iter()
                        .find(|x| x.starts_with("CVE-"))
                        .cloned()
                        .unwrap_or_else(|| a.id().to_owned())
                })
                .collect::<Vec<_>>();
            let change = match &requirement.pin {
                Some(_) => Change::PythonVersion {
                    version: version.clone(),
                    hashes: needs_hashes.then(|| release.hashes.clone()),
                },
                None => match requirement.specifier.as_ref().and_then(|s| {
                    s.rewrite(policy.range_strategy, &release.version)
                        .ok()
                        .flatten()
                }) {
                    Some(specifier) => Change::PythonSpecifier {
                        specifier,
                        hashes: needs_hashes.then(|| release.hashes.clone()),
                    },
                    None => {
                        assessment.no_fix = Some(format!(
                            "the range `{}` cannot be rewritten to admit {version}",
                            dependency.current
                        ));
                        return assessment;
                    }
                },
            };
            let proposed = match &change {
                Change::PythonSpecifier { specifier, .. } => specifier.clone(),
                _ => version.clone(),
            };
            assessment.update = Some(Update {
                kind,
                current: dependency.current.clone(),
                proposed,
                change,
                fixes: ids,
                unblocks: Vec::new(),
                rides_with: None,
                companions: Vec::new(),
                // The way off a pin that is also yanked says so, with the index's reason.
                yanked: pinned.as_ref().and_then(|v| {
                    releases
                        .iter()
                        .find(|r| r.version == *v && r.yanked)
                        .map(|r| r.yanked_reason.clone().unwrap_or_default())
                }),
                age: release.uploaded.map(|u| super::elapsed(ctx.now, u)),
                reason: format!("fixes {}", names.join(", ")),
            });
        }
    }
    assessment
}

/// Merge a security assessment into a dependency's decision: the security update comes first;
/// a routine update to the very same version becomes that security update.
pub fn merge(mut decision: Decision, assessment: &Assessment) -> Decision {
    let Some(security) = &assessment.update else {
        if let (false, Some(why)) = (assessment.findings.is_empty(), &assessment.no_fix) {
            let unfixed = super::Unfixed {
                ids: assessment.findings.iter().map(|f| f.id.clone()).collect(),
                why: why.clone(),
            };
            decision.notes.push(unfixed.note().into());
            decision.unfixed = Some(unfixed);
        }
        return decision;
    };
    // A routine update replaced by the security fix may carry the pin's yank: keep it.
    let yanked = decision.updates.iter().find_map(|u| u.yanked.clone());
    let mut security = security.clone();
    security.yanked = security.yanked.or(yanked);
    decision.updates.retain(|u| u.proposed != security.proposed);
    decision.updates.insert(0, security);
    decision.none = None;
    decision
}

/// The highest rating among findings.
pub fn worst(findings: &[Finding]) -> Rating {
    findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Rating::None)
}

#[cfg(test)]
mod tests;
