//! What a base image's Python-minor update unblocks: the requirements that cannot be installed
//! on the stage's Python today, and the releases held back because they need a newer one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use pep440_rs::VersionSpecifiers;

use super::Outcome;
use crate::decide::NoUpdate;
use crate::manifest::dockerfile::ImageContext;
use crate::manifest::{DependencyDetail, Manifest};
use crate::target::Source;
use crate::versioning::UpdateKind;
use crate::versioning::docker_tag::{self, DockerTag};

/// A proposed Python-minor (or migration) update of a stage's base image.
struct Move {
    /// Index of the finding and of its update.
    at: (usize, usize),
    kind: UpdateKind,
    python: pep440_rs::Version,
    unblocks: Vec<String>,
}

/// The Python a proposed image value (`3.12-slim` or `3.12-slim@sha256:…`) stands for.
fn proposed_python(repository: &str, proposed: &str) -> Option<pep440_rs::Version> {
    let tag = DockerTag::parse(proposed.split('@').next()?);
    let repo = repository.rsplit('/').next().unwrap_or("");
    let (major, minor) = if matches!(repo, "python" | "pypy") {
        docker_tag::python_minor(&tag)
    } else {
        docker_tag::embedded_python(&tag)
    }?;
    Some(pep440_rs::Version::new([major, minor]))
}

/// The Dockerfile stage line a target's Python came from.
fn stage_of(from: &Source) -> Option<(&Path, usize)> {
    match from {
        Source::Stage { dockerfile, line } | Source::NearestDockerfile { dockerfile, line } => {
            Some((dockerfile.as_path(), *line))
        }
        _ => None,
    }
}

/// Say where each "cannot be installed" problem's Python came from and which proposed update
/// fixes it, and list on each base image's Python-minor update what it unblocks.
pub(super) fn link(manifests: &[&Manifest], outcome: &mut Outcome) {
    let by_path: HashMap<&Path, &Manifest> =
        manifests.iter().map(|m| (m.source.path(), *m)).collect();
    let mut moves: HashMap<(PathBuf, usize), Move> = HashMap::new();
    for (f, finding) in outcome.findings.iter().enumerate() {
        let Some(manifest) = by_path.get(finding.file.as_path()) else {
            continue;
        };
        let Some(dependency) = manifest.dependencies.get(finding.index) else {
            continue;
        };
        let DependencyDetail::Image(image) = &dependency.detail else {
            continue;
        };
        if !matches!(image.context, ImageContext::From { .. }) {
            continue;
        }
        let line = manifest.source.position(image.reference_span.start).line;
        for (u, update) in finding.decision.updates.iter().enumerate() {
            if !matches!(update.kind, UpdateKind::PythonMinor | UpdateKind::Migration) {
                continue;
            }
            let Some(python) = proposed_python(&image.reference.repository, &update.proposed)
            else {
                continue;
            };
            moves.insert(
                (finding.file.clone(), line),
                Move {
                    at: (f, u),
                    kind: update.kind,
                    python,
                    unblocks: Vec::new(),
                },
            );
        }
    }
    for finding in &mut outcome.findings {
        let Some(manifest) = by_path.get(finding.file.as_path()) else {
            continue;
        };
        let Some(dependency) = manifest.dependencies.get(finding.index) else {
            continue;
        };
        let Some(target) = outcome.targets.of_dependency(manifest, finding.index) else {
            continue;
        };
        let step = stage_of(&target.from)
            .and_then(|(path, line)| moves.get_mut(&(path.to_path_buf(), line)));
        if let Some(NoUpdate::CannotInstall {
            from,
            fix,
            requires,
            ..
        }) = &mut finding.decision.none
        {
            if target.from.is_known() {
                *from = Some(target.from.to_string());
            }
            if let Some(step) = step {
                let fits = requires
                    .as_ref()
                    .and_then(|r| r.parse::<VersionSpecifiers>().ok())
                    .is_some_and(|r| r.contains(&step.python));
                if fits {
                    *fix = Some(format!(
                        "the base image's {} update to {} would fix it",
                        step.kind, step.python
                    ));
                    step.unblocks
                        .push(format!("{} {}", dependency.name, dependency.current));
                }
            }
        } else if let (Some(held), Some(step)) = (&finding.decision.held_for_python, step) {
            // Only what the new Python lets in: a release that needs 3.13 stays held on 3.12.
            let fits = held
                .requires_python
                .as_ref()
                .is_none_or(|r| r.contains(&step.python));
            if fits {
                step.unblocks
                    .push(format!("{} {}", dependency.name, held.version));
            }
        }
    }
    for mut step in moves.into_values() {
        if step.unblocks.is_empty() {
            continue;
        }
        step.unblocks.sort();
        let (f, u) = step.at;
        let update = &mut outcome.findings[f].decision.updates[u];
        update
            .reason
            .push_str(&format!("; unblocks {}", step.unblocks.join(", ")));
        update.unblocks = step.unblocks;
    }
}
