//! What a base image's Python-minor update unblocks: the requirements that cannot be installed
//! on the stage's Python today, and the releases held back because they need a newer one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use pep440_rs::VersionSpecifiers;

use super::{Checker, Outcome};
use crate::decide::{Context, NoUpdate, RidesWith, Update};
use crate::manifest::dockerfile::ImageContext;
use crate::manifest::{DependencyDetail, Manifest, ManifestKind};
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

/// A package release held back for its target's Python that a proposed base image update
/// lets in.
pub(super) struct Unblocked {
    /// The package's finding.
    finding: usize,
    /// The image update's finding and update.
    image: (usize, usize),
    /// The Python that update moves to.
    python: pep440_rs::Version,
}

/// Say where each "cannot be installed" problem's Python came from and which proposed update
/// fixes it, and list on each base image's Python-minor update what it unblocks. Returns the
/// held-back releases each such update lets in.
pub(super) fn link(manifests: &[&Manifest], outcome: &mut Outcome) -> Vec<Unblocked> {
    let mut unblocked = Vec::new();
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
    for (f, finding) in outcome.findings.iter_mut().enumerate() {
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
                unblocked.push(Unblocked {
                    finding: f,
                    image: step.at,
                    python: step.python.clone(),
                });
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
    unblocked
}

impl Checker {
    /// With `[images] group-unblocked`: decide each unblocked package again for the Python its
    /// base image moves to, and add the updates that only that Python lets in, riding with the
    /// image's update. A file whose pins are re-locked (a compiled lock, a pyproject beside a
    /// tool's lock, a `.in` with a lock compiled from it) gets none: its re-lock is made for the
    /// lock's own Python, not by one edit.
    pub(super) fn ride_unblocked(
        &self,
        manifests: &[&Manifest],
        unblocked: &[Unblocked],
        outcome: &mut Outcome,
    ) {
        let by_path: HashMap<&Path, &Manifest> =
            manifests.iter().map(|m| (m.source.path(), *m)).collect();
        for step in unblocked {
            let finding = &outcome.findings[step.finding];
            let (image_finding, image_update) = step.image;
            let image = &outcome.findings[image_finding];
            let Some(moved) = image.decision.updates.get(image_update) else {
                continue;
            };
            let Some(manifest) = by_path.get(finding.file.as_path()) else {
                continue;
            };
            let Some(dependency) = manifest.dependencies.get(finding.index) else {
                continue;
            };
            let relocked = outcome.locks.contains_key(&finding.file)
                || outcome
                    .locks
                    .values()
                    .any(|lock| lock.input_path == finding.file);
            if relocked
                || !matches!(
                    manifest.kind,
                    ManifestKind::Requirements | ManifestKind::Dockerfile
                )
            {
                continue;
            }
            let Some(releases) = outcome
                .held_releases
                .get(&(finding.file.clone(), finding.index))
            else {
                continue;
            };
            let line = by_path
                .get(image.file.as_path())
                .and_then(|m| m.dependencies.get(image.index).map(|d| (m, d)))
                .map_or(0, |(m, d)| m.source.position(d.span.start).line);
            let rides_with = RidesWith {
                file: image.file.clone(),
                index: image.index,
                line,
                proposed: moved.proposed.clone(),
                python: step.python.to_string(),
            };
            let why = format!(
                "it needs a newer Python: goes with the base image's {} update to {} ({}:{line})",
                moved.kind,
                moved.proposed,
                crate::text::shown(&image.file)
            );
            let file = finding.file.clone();
            let policy = self.policy_fn(dependency, &file);
            let ctx = Context {
                now: self.now,
                python: Some(step.python.clone()),
            };
            let again = crate::decide::python::decide(dependency, releases, &policy, &ctx);
            let riders: Vec<Update> = again
                .updates
                .into_iter()
                .filter(|u| {
                    !u.is_urgent()
                        && !finding
                            .decision
                            .updates
                            .iter()
                            .any(|o| o.proposed == u.proposed)
                })
                .map(|mut u| {
                    u.reason = format!("{}; {why}", u.reason);
                    u.rides_with = Some(rides_with.clone());
                    u
                })
                .collect();
            if riders.is_empty() {
                continue;
            }
            let decision = &mut outcome.findings[step.finding].decision;
            decision.updates.extend(riders);
            decision.none = None;
        }
    }
}
