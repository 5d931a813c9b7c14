//! Linking reports to the Dockerfile `FROM` lines whose image they scanned: by the image's
//! name (normalised as repin normalises `FROM`: `python` is `docker.io/library/python`) and its
//! digest or tag; and, when repin read the images itself (`--images`), which findings the update
//! it proposes fixes.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::Serialize;

use super::{Finding, Format, Report};
use crate::lookup::{ImageAudit, ImageEntry};
use crate::manifest::Manifest;
use crate::manifest::dockerfile::{ImageContext, ImageRef};
use crate::vocab::Message;

/// How a report's image matched a `FROM` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchKind {
    /// The same digest (the pin's, or the manifest repin read for a platform).
    Digest,
    /// The same name and tag; the report or the line has no digest to compare.
    Tag,
    /// The same name and tag, but the report scanned another digest than the pinned one (another
    /// build of the tag, or one platform's manifest of the pinned index).
    TagOtherDigest,
}

/// A report finding on a `FROM` line, and whether the update repin proposes for the line fixes
/// it.
#[derive(Debug, Clone, Serialize)]
pub struct LinkedFinding {
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
    /// `true`: repin's own scan of the proposed update no longer has it; `false`: repin's scan
    /// knows the finding and the update (if any) does not fix it; `None`: repin cannot tell
    /// (no `--images`, or its advisories do not know the finding).
    pub fixed_by_update: Option<bool>,
}

/// A `FROM` line a report's image matched.
#[derive(Debug, Clone, Serialize)]
pub struct LinkedImage {
    /// The Dockerfile.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column of the reference's value.
    pub column: usize,
    /// The image's name (`docker.io/library/python`).
    pub name: String,
    /// The reference as written after the name (`3.12-slim@sha256:…`).
    pub current: String,
    /// How it matched.
    #[serde(rename = "match")]
    pub matched: MatchKind,
    /// The update repin proposes that fixes the most, when repin read the images.
    pub update: Option<String>,
    /// The report's findings, for this line.
    pub findings: Vec<LinkedFinding>,
}

/// A report and the lines it was linked to.
#[derive(Debug, Clone, Serialize)]
pub struct LinkedReport {
    /// The report file.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// The scanner.
    pub tool: String,
    /// What it scanned.
    pub target: Option<String>,
    /// How many findings it has.
    pub findings: usize,
    /// The `FROM` lines of its image.
    pub images: Vec<LinkedImage>,
    /// Why it was linked to no line, when it was not.
    pub warning: Option<crate::vocab::Message>,
}

/// What a report says about its image: names, `(name, tag)` pairs and digests.
struct Identity {
    names: BTreeSet<String>,
    tags: BTreeSet<(String, String)>,
    digests: BTreeSet<String>,
}

fn identity(report: &Report) -> Identity {
    let mut id = Identity {
        names: BTreeSet::new(),
        tags: BTreeSet::new(),
        digests: report.digests.iter().cloned().collect(),
    };
    for text in &report.references {
        // A reference a scanner wrote that is not an image reference (a tarball's path) names
        // no image.
        let Ok(r) = ImageRef::parse(text) else {
            continue;
        };
        let name = r.name();
        match (&r.tag, &r.digest) {
            (Some(tag), _) => {
                id.tags.insert((name.clone(), tag.clone()));
            }
            // `python` alone is `python:latest`, as docker reads it.
            (None, None) => {
                id.tags.insert((name.clone(), "latest".into()));
            }
            (None, Some(_)) => {}
        }
        if let Some(d) = r.digest {
            id.digests.insert(d);
        }
        id.names.insert(name);
    }
    id
}

/// Link every report to the `FROM` lines of `manifests` whose image it scanned; with `images`
/// (repin's own reading of them), say which findings the proposed update fixes.
pub fn link(
    reports: &[Report],
    manifests: &[Manifest],
    images: Option<&ImageAudit>,
) -> Vec<LinkedReport> {
    reports
        .iter()
        .map(|report| link_one(report, manifests, images))
        .collect()
}

fn link_one(report: &Report, manifests: &[Manifest], images: Option<&ImageAudit>) -> LinkedReport {
    let id = identity(report);
    let mut linked = Vec::new();
    // Managed images of the report's name that did not match, for the warning.
    let mut near = BTreeSet::new();
    for manifest in manifests {
        let file = manifest.source.path();
        for dependency in &manifest.dependencies {
            let Some(image) = dependency.image() else {
                continue;
            };
            if !matches!(image.context, ImageContext::From { .. })
                || dependency.skip_reason.is_some()
            {
                continue;
            }
            let reference = &image.reference;
            let name = reference.name();
            if !id.names.contains(&name) && id.digests.is_empty() {
                continue;
            }
            let position = manifest.source.position(dependency.span.start);
            let entries: Vec<&ImageEntry> = images
                .map(|a| {
                    a.images
                        .iter()
                        .filter(|e| e.file == file && e.line == position.line)
                        .collect()
                })
                .unwrap_or_default();
            // The digests this line is known by: its pin and the platform manifests repin read.
            let mut known: BTreeSet<&str> = reference.digest.iter().map(String::as_str).collect();
            known.extend(entries.iter().filter_map(|e| e.manifest.as_deref()));
            let tag = reference
                .tag
                .clone()
                .or_else(|| reference.digest.is_none().then(|| "latest".to_owned()));
            let same_tag = tag.is_some_and(|t| id.tags.contains(&(name.clone(), t)));
            // A digest names the content whatever the name (a mirror's copy is the same image).
            let matched = if known.iter().any(|d| id.digests.contains(*d)) {
                MatchKind::Digest
            } else if same_tag {
                if reference.digest.is_some() && !id.digests.is_empty() {
                    MatchKind::TagOtherDigest
                } else {
                    MatchKind::Tag
                }
            } else {
                if id.names.contains(&name) {
                    near.insert(format!(
                        "{}{}{}",
                        crate::plan::display_name(&name),
                        if dependency.current.starts_with('@') {
                            ""
                        } else {
                            ":"
                        },
                        dependency.current
                    ));
                }
                continue;
            };
            let best = entries.iter().find_map(|e| e.best_update.as_ref());
            let checked = entries
                .iter()
                .any(|e| e.unchecked.is_none() && e.vulnerabilities.is_some());
            linked.push(LinkedImage {
                file: file.to_path_buf(),
                line: position.line,
                column: position.column,
                name,
                current: dependency.current.clone(),
                matched,
                update: best.map(|b| b.proposed.clone()),
                findings: report
                    .findings
                    .iter()
                    .map(|f| LinkedFinding {
                        finding: f.clone(),
                        fixed_by_update: checked.then(|| fixed_by_update(f, &entries)).flatten(),
                    })
                    .collect(),
            });
        }
    }
    let warning = linked.is_empty().then(|| {
        let what = match &report.target {
            Some(t) if !report.references.is_empty() => {
                format!("the image it scanned, `{t}`, is in no Dockerfile's FROM line")
            }
            Some(t) => format!("it scanned `{t}`, not an image"),
            None => "it names no image".to_owned(),
        };
        let source = if report.format == Format::Sarif {
            format!("SARIF from {}", report.tool)
        } else {
            report.format.as_str().to_owned()
        };
        let text = Message::new(format!(
            "{} ({source}): {what}; its {} not linked",
            crate::text::shown(&report.path),
            crate::text::count(report.findings.len(), "finding is", "findings are"),
        ));
        if !near.is_empty() {
            text.hint(format!(
                "the Dockerfiles use {}: a report links by the same tag or digest",
                near.into_iter().collect::<Vec<_>>().join(", ")
            ))
        } else if report.references.is_empty() {
            text.hint(
                "a report links to a FROM line through the image it scanned (`trivy image`, `grype IMAGE`)",
            )
        } else {
            text
        }
    });
    LinkedReport {
        path: report.path.clone(),
        format: report.format,
        tool: report.tool.clone(),
        target: report.target.clone(),
        findings: report.findings.len(),
        images: linked,
        warning,
    }
}

/// Whether the update repin proposes for a line fixes a report's finding, by repin's own
/// reading of the image and its update: `None` when repin's scan does not know the finding
/// (another advisory source, a package it does not read).
fn fixed_by_update(finding: &Finding, entries: &[&ImageEntry]) -> Option<bool> {
    let ids: Vec<&str> = std::iter::once(finding.id.as_str())
        .chain(finding.aliases.iter().map(String::as_str))
        .collect();
    let packages: Vec<&str> = std::iter::once(finding.package.as_str())
        .chain(finding.source_package.as_deref())
        .collect();
    // The source packages repin found this vulnerability in, through the binary the scanner
    // names (`libssl3` is built from `openssl`).
    let mut sources = BTreeSet::new();
    for entry in entries {
        let Some(vulns) = &entry.vulnerabilities else {
            continue;
        };
        for f in &vulns.findings {
            let same_id = ids.contains(&f.advisory.cve()) || ids.contains(&f.advisory.id.as_str());
            let same_package = packages.contains(&f.package.as_str())
                || f.binaries.iter().any(|b| packages.contains(&b.as_str()));
            if same_id && same_package {
                sources.insert(f.package.as_str());
            }
        }
    }
    if sources.is_empty() {
        return None;
    }
    let fixed = entries
        .iter()
        .filter_map(|e| e.best_update.as_ref())
        .flat_map(|u| &u.fixes)
        .any(|fix| {
            (ids.contains(&fix.cve.as_str()) || ids.contains(&fix.advisory.as_str()))
                && sources.contains(fix.package.as_str())
        });
    Some(fixed)
}
