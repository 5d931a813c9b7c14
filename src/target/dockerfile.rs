//! Targets from Dockerfiles: each stage's Python (from its base image, `FROM <stage>` followed),
//! and which stage installs which requirements file.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use pep440_rs::Version;

use super::{Libc, Source, Target};
use crate::manifest::dockerfile::{DockerfileInfo, ImageContext, Stage};
use crate::manifest::workspace::Workspace;
use crate::manifest::{DependencyDetail, Manifest, ManifestDetails};
use crate::versioning::docker_tag::{self, DistroFamily, DockerTag};

/// The target of each stage of a Dockerfile, by stage index.
pub type StageTarget = Option<Target>;

/// The stages' targets of every Dockerfile of the workspace. `platform` is the default when a
/// stage names none.
pub(super) fn stage_targets(
    workspace: &Workspace,
    platform: Option<&str>,
) -> HashMap<PathBuf, Vec<StageTarget>> {
    workspace
        .manifests
        .iter()
        .filter_map(|m| match &m.details {
            ManifestDetails::Dockerfile(info) => {
                Some((m.source.path().to_path_buf(), of_stages(m, info, platform)))
            }
            ManifestDetails::Requirements(_)
            | ManifestDetails::Pyproject(_)
            | ManifestDetails::UvLock(_)
            | ManifestDetails::Pylock(_)
            | ManifestDetails::PoetryLock(_)
            | ManifestDetails::Pipfile(_)
            | ManifestDetails::PipfileLock(_) => None,
        })
        .collect()
}

/// The stage a `FROM <stage>` builds on, for each stage that does.
fn parents(manifest: &Manifest, info: &DockerfileInfo) -> Vec<Option<usize>> {
    let mut named: HashMap<String, usize> = HashMap::new();
    for (index, stage) in info.stages.iter().enumerate() {
        if let Some(name) = &stage.name {
            named.entry(name.to_ascii_lowercase()).or_insert(index);
        }
    }
    let mut parent = vec![None; info.stages.len()];
    for dependency in &manifest.dependencies {
        let DependencyDetail::Image(image) = &dependency.detail else {
            continue;
        };
        let ImageContext::From { stage, .. } = image.context else {
            continue;
        };
        if dependency.skip_reason == Some(crate::manifest::SkipReason::StageReference) {
            let key = dependency.current.to_ascii_lowercase();
            let earlier = named
                .get(&key)
                .copied()
                .or_else(|| key.parse::<usize>().ok());
            if let (Some(earlier), Some(slot)) = (earlier, parent.get_mut(stage)) {
                // Only an earlier stage: a chain always ends.
                if earlier < stage {
                    *slot = Some(earlier);
                }
            }
        }
    }
    parent
}

fn of_stages(
    manifest: &Manifest,
    info: &DockerfileInfo,
    platform: Option<&str>,
) -> Vec<StageTarget> {
    let parent = parents(manifest, info);
    // The Python of the image each stage is built on directly (`None` for a stage reference or
    // an image that names no Python).
    let mut own: Vec<Option<(Version, Option<Libc>)>> = vec![None; info.stages.len()];
    for dependency in &manifest.dependencies {
        let DependencyDetail::Image(image) = &dependency.detail else {
            continue;
        };
        let ImageContext::From { stage, .. } = image.context else {
            continue;
        };
        if dependency.skip_reason.is_some() {
            continue;
        }
        let Some(tag) = &image.reference.tag else {
            continue;
        };
        let parsed = DockerTag::parse(tag);
        let repo = image.reference.repository.rsplit('/').next().unwrap_or("");
        let python_image = matches!(repo, "python" | "pypy");
        let minor = if python_image {
            docker_tag::python_minor(&parsed)
        } else {
            docker_tag::embedded_python(&parsed)
        };
        let family = parsed.variant_info().distribution.map(|d| d.family);
        let libc = match family {
            Some(DistroFamily::Alpine) => Some(Libc::Musl),
            Some(DistroFamily::Debian | DistroFamily::Ubuntu) => Some(Libc::Glibc),
            // The python image's default variant is Debian.
            None if python_image => Some(Libc::Glibc),
            _ => None,
        };
        if let (Some((major, minor)), Some(slot)) = (minor, own.get_mut(stage)) {
            *slot = Some((Version::new([major, minor]), libc));
        }
    }
    let line = |stage: &Stage| manifest.source.position(stage.span.start).line;
    (0..info.stages.len())
        .map(|index| {
            // Follow `FROM <stage>` back to the image (each step goes to an earlier stage).
            let mut at = index;
            let mut stage_platform = None;
            loop {
                let stage = &info.stages[at];
                if stage_platform.is_none() {
                    stage_platform = stage
                        .platform
                        .clone()
                        .filter(|p| !p.contains('$') && !p.is_empty());
                }
                if let Some((python, libc)) = &own[at] {
                    return Some(Target {
                        python: python.clone(),
                        platform: stage_platform.or_else(|| platform.map(str::to_owned)),
                        libc: *libc,
                        from: Source::Stage {
                            dockerfile: manifest.source.path().to_path_buf(),
                            line: line(stage),
                        },
                    });
                }
                match parent[at] {
                    Some(earlier) => at = earlier,
                    None => return None,
                }
            }
        })
        .collect()
}

/// A path's normal components as `/`-joined text: `./a//b/` → `a/b`, `/app/x` → `app/x`.
fn normal(path: &str) -> String {
    Path::new(path)
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn normal_path(path: &Path) -> Vec<String> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect()
}

fn basename(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path)
}

/// Whether `stage` (with the stages it builds on, `chain`) installs the file at `relative` (its
/// path in the build context) through the install argument `install`.
fn installs(chain: &[&Stage], relative: &str, install: &str) -> bool {
    let install = normal(install);
    chain
        .iter()
        .flat_map(|s| &s.copies)
        .flat_map(|c| &c.sources)
        .any(|source| {
            let source = normal(source);
            if source == relative {
                // The file itself is copied (to whatever name the destination gives it).
                return true;
            }
            if source.contains(['*', '?', '[']) {
                return globset::Glob::new(&source)
                    .map(|g| g.compile_matcher().is_match(relative))
                    .unwrap_or(false);
            }
            // A directory holding it: the file keeps its path below the directory.
            let below = if source.is_empty() {
                Some(relative)
            } else {
                relative
                    .strip_prefix(source.as_str())
                    .and_then(|r| r.strip_prefix('/'))
            };
            below.is_some_and(|below| install == below || install.ends_with(&format!("/{below}")))
        })
}

/// The target of every requirements file a Dockerfile stage installs. When several stages
/// install one file, the lowest Python wins (every one of them must be able to install it).
pub(super) fn installing_stages(
    workspace: &Workspace,
    stage_targets: &HashMap<PathBuf, Vec<StageTarget>>,
) -> HashMap<PathBuf, Target> {
    // The stages installing a file of each name: a file is only matched against these.
    let mut by_name: HashMap<&str, Vec<(&Manifest, usize, &str)>> = HashMap::new();
    for manifest in &workspace.manifests {
        let ManifestDetails::Dockerfile(info) = &manifest.details else {
            continue;
        };
        for (index, stage) in info.stages.iter().enumerate() {
            for install in &stage.installs {
                by_name
                    .entry(basename(install))
                    .or_default()
                    .push((manifest, index, install));
            }
        }
    }
    let mut out: HashMap<PathBuf, Target> = HashMap::new();
    for manifest in &workspace.manifests {
        let ManifestDetails::Requirements(_) = &manifest.details else {
            continue;
        };
        let path = manifest.source.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(candidates) = by_name.get(name) else {
            continue;
        };
        let file = normal_path(path);
        for &(dockerfile, stage, install) in candidates {
            let ManifestDetails::Dockerfile(info) = &dockerfile.details else {
                continue;
            };
            let Some(Some(target)) = stage_targets
                .get(dockerfile.source.path())
                .and_then(|t| t.get(stage))
            else {
                continue;
            };
            let parent = parents(dockerfile, info);
            let mut chain = vec![&info.stages[stage]];
            let mut at = stage;
            while let Some(earlier) = parent[at] {
                chain.push(&info.stages[earlier]);
                at = earlier;
            }
            // The build context is the Dockerfile's directory or one above it.
            let directory = normal_path(dockerfile.source.path().parent().unwrap_or(Path::new("")));
            let found = (0..=directory.len()).rev().any(|depth| {
                let context = &directory[..depth];
                file.starts_with(context) && installs(&chain, &file[depth..].join("/"), install)
            });
            if !found {
                continue;
            }
            let lower = out
                .get(path)
                .is_none_or(|existing| target.python < existing.python);
            if lower {
                out.insert(path.to_path_buf(), target.clone());
            }
        }
    }
    out
}

/// The final stage's target of the nearest Dockerfile in `path`'s directory or above it (the
/// first Dockerfile by name in the nearest directory that has one with a Python).
pub(super) fn nearest(
    workspace: &Workspace,
    path: &Path,
    stage_targets: &HashMap<PathBuf, Vec<StageTarget>>,
) -> Option<Target> {
    let file = normal_path(path);
    let mut best: Option<(usize, &PathBuf, &Target)> = None;
    for (dockerfile, stages) in stage_targets {
        let Some(Some(target)) = stages.last() else {
            continue;
        };
        let directory = normal_path(dockerfile.parent().unwrap_or(Path::new("")));
        if !file.starts_with(&directory) || directory.len() >= file.len() {
            continue;
        }
        let better = best.is_none_or(|(depth, p, _)| {
            directory.len() > depth || (directory.len() == depth && dockerfile < p)
        });
        if better {
            best = Some((directory.len(), dockerfile, target));
        }
    }
    let _ = workspace;
    best.map(|(_, dockerfile, target)| {
        let mut target = target.clone();
        if let Source::Stage { line, .. } = target.from {
            target.from = Source::NearestDockerfile {
                dockerfile: dockerfile.clone(),
                line,
            };
        }
        target
    })
}
