//! The Python a repository runs on, from its Dockerfiles' Python base images.

use crate::manifest::Dependency;
use crate::manifest::dockerfile::{ImageContext, ImageDependency};
use crate::manifest::workspace::Workspace;
use crate::manifest::{DependencyDetail, ManifestDetails};
use crate::versioning::docker_tag::{self, DockerTag};

/// The lowest Python minor among the final stages' Python base images (`python:3.12-slim` →
/// 3.12), so `requires-python` is checked against the oldest Python the service ships on.
/// `None` when no Dockerfile's final stage is a Python image.
pub fn python_target(workspace: &Workspace) -> Option<pep440_rs::Version> {
    let mut lowest: Option<(u64, u64)> = None;
    for manifest in &workspace.manifests {
        let ManifestDetails::Dockerfile(info) = &manifest.details else {
            continue;
        };
        let last_stage = info.stages.len().checked_sub(1)?;
        // The `FROM` of each stage and the first stage of each name, gathered once: a lookup
        // per step of a long chain of stages was quadratic.
        let mut from_of: std::collections::HashMap<usize, (&Dependency, &ImageDependency)> =
            std::collections::HashMap::new();
        for d in &manifest.dependencies {
            if let DependencyDetail::Image(i) = &d.detail {
                if let ImageContext::From { stage, .. } = i.context {
                    from_of.entry(stage).or_insert((d, i));
                }
            }
        }
        let mut stage_named: std::collections::HashMap<String, usize> =
            std::collections::HashMap::new();
        for (index, s) in info.stages.iter().enumerate() {
            if let Some(name) = &s.name {
                stage_named
                    .entry(name.to_ascii_lowercase())
                    .or_insert(index);
            }
        }
        // Follow `FROM <stage>` back to the image the final stage is built on (each step goes
        // to an earlier stage, so this ends).
        let mut stage = last_stage;
        let image = loop {
            let Some(&(dependency, image)) = from_of.get(&stage) else {
                break None;
            };
            if dependency.skip_reason.is_none() {
                break Some(image);
            }
            match stage_named.get(&dependency.current.to_ascii_lowercase()) {
                Some(&earlier) if earlier < stage => stage = earlier,
                _ => break None,
            }
        };
        let Some(image) = image else { continue };
        let Some(tag) = &image.reference.tag else {
            continue;
        };
        let parsed = DockerTag::parse(tag);
        let repo = image.reference.repository.rsplit('/').next().unwrap_or("");
        let minor = if matches!(repo, "python" | "pypy") {
            docker_tag::python_minor(&parsed)
        } else {
            docker_tag::embedded_python(&parsed)
        };
        if let Some(m) = minor {
            lowest = Some(lowest.map_or(m, |l| l.min(m)));
        }
    }
    lowest.and_then(|(major, minor)| format!("{major}.{minor}").parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{ManifestKind, parse};
    use crate::text::{Encoding, SourceFile};

    fn workspace(files: &[&str]) -> Workspace {
        Workspace {
            manifests: files
                .iter()
                .map(|t| {
                    parse(
                        SourceFile::from_text("Dockerfile", Encoding::Utf8, (*t).to_owned()),
                        ManifestKind::Dockerfile,
                    )
                })
                .collect(),
            ..Workspace::default()
        }
    }

    #[test]
    fn follows_the_final_stage_back_to_its_python_image() {
        let w = workspace(&[
            "FROM node:20 AS assets\nFROM python:3.12-slim AS base\nFROM base AS final\n",
        ]);
        assert_eq!(python_target(&w).unwrap().to_string(), "3.12");
        let two = workspace(&[
            "FROM python:3.13-slim\n",
            "ARG PY=3.11\nFROM python:${PY}-alpine\n",
        ]);
        assert_eq!(python_target(&two).unwrap().to_string(), "3.11");
        let uv = workspace(&["FROM ghcr.io/astral-sh/uv:0.4.0-python3.12-bookworm-slim\n"]);
        assert_eq!(python_target(&uv).unwrap().to_string(), "3.12");
        assert!(python_target(&workspace(&["FROM debian:12\n"])).is_none());
        assert!(python_target(&workspace(&["FROM python:3-slim\n"])).is_none());
    }
}
