//! A check's updates as the planner's items: each with its file relative to the repository, its
//! group, and the page that shows the release (a changelog the package names, its PyPI page when
//! it comes from PyPI, the image's Docker Hub page), and what the fixed advisories say. Pure.

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::Loaded;
use crate::decide::policy::Policy;
use crate::lookup::Outcome;
use crate::manifest::DependencyDetail;
use crate::manifest::workspace::Workspace;
use crate::plan::{AdvisoryNote, Item};

/// The path of `file` relative to the repository's working tree, with `/` separators.
pub(super) fn relative(file: &Path, workdir: &Path) -> Option<String> {
    let absolute = file.canonicalize().ok()?;
    let relative = absolute.strip_prefix(workdir).ok()?;
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_str().map(str::to_owned))
        .collect::<Option<_>>()?;
    Some(parts.join("/"))
}

/// The items of a check: every due update, with its repository-relative file.
pub fn items(
    workspace: &Workspace,
    outcome: &Outcome,
    config: &Loaded,
    workdir: &Path,
    pypi_is_default: &dyn Fn(&Path, &crate::manifest::Dependency) -> bool,
) -> Vec<Item> {
    let mut items = Vec::new();
    for finding in &outcome.findings {
        let Some((manifest, dependency)) = workspace.dependency(&finding.file, finding.index)
        else {
            continue;
        };
        let Some(file) = relative(&finding.file, workdir) else {
            continue;
        };
        let line = manifest.source.position(dependency.span.start).line;
        let image = matches!(dependency.detail, DependencyDetail::Image(_));
        for update in &finding.decision.updates {
            let group =
                Policy::from_config(config, &dependency.name, &finding.file, Some(update.kind))
                    .group;
            let link = if image {
                dependency
                    .name
                    .strip_prefix("docker.io/library/")
                    .map(|n| format!("https://hub.docker.com/_/{n}"))
            } else if let Some(url) = outcome
                .changelogs
                .get(&(dependency.name.clone(), update.proposed.clone()))
            {
                Some(url.clone())
            } else if pypi_is_default(&finding.file, dependency) {
                let version = update
                    .proposed
                    .trim_start_matches(|c: char| !c.is_ascii_digit());
                Some(format!(
                    "https://pypi.org/project/{}/{version}/",
                    dependency.name
                ))
            } else {
                None
            };
            items.push(Item {
                file: file.clone(),
                index: finding.index,
                line,
                name: dependency.name.clone(),
                image,
                update: update.clone(),
                group,
                link,
                companions: update
                    .companions
                    .iter()
                    .map(|c| {
                        relative(&c.file, workdir).unwrap_or_else(|| c.file.display().to_string())
                    })
                    .collect(),
                rides_with: update.rides_with.as_ref().map(|r| {
                    relative(&r.file, workdir).unwrap_or_else(|| r.file.display().to_string())
                }),
            });
        }
    }
    items
}

/// What the advisories fixed by the updates say, for the bodies.
pub fn advisory_notes(outcome: &Outcome) -> BTreeMap<String, AdvisoryNote> {
    let mut notes: BTreeMap<String, AdvisoryNote> = outcome
        .advisories
        .iter()
        .map(|(id, advisory)| {
            let severity = advisory.severity().map(|s| match s.score {
                Some(score) => format!("{} {score:.1}", s.rating),
                None => s.rating.to_string(),
            });
            (
                id.clone(),
                AdvisoryNote {
                    id: id.clone(),
                    aliases: advisory.aliases().to_vec(),
                    severity,
                    summary: advisory.title().map(str::to_owned),
                    url: advisory.url(),
                },
            )
        })
        .collect();
    // What image updates fix in OS packages (`[images] scan`).
    notes.extend(outcome.image_fixes.clone());
    notes
}
