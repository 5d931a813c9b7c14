//! Finding the locks a tool re-locks, with the manifest beside each, the credentials the tool is
//! given and why, when it cannot, the project is not re-locked.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::credentials::{self, Credentials};
use super::uv_workspace::{self, WorkspaceMember};
use super::{Tool, poetry, uv};
use crate::manifest::workspace::Workspace;
use crate::manifest::{Manifest, ManifestDetails, ManifestKind, SkipReason};
use crate::registry::pypi::IndexResolver;

/// A `uv.lock`, `poetry.lock` or `Pipfile.lock` and the manifest it locks.
#[derive(Debug, Clone)]
pub struct ToolProject {
    /// Its tool.
    pub tool: Tool,
    /// The lock's path (as the workspace has it).
    pub lock: PathBuf,
    /// The manifest beside it.
    pub manifest: PathBuf,
    /// The lock as read.
    pub lock_text: String,
    /// The manifest as read.
    pub manifest_text: String,
    /// The members of the uv workspace whose root the manifest is (none for a single project):
    /// the re-lock copies each member's pyproject, and an edit of one re-locks this lock.
    pub members: Vec<WorkspaceMember>,
    /// The Poetry version the lock's header names.
    pub generated_by: Option<String>,
    /// Why it cannot be re-locked, when it cannot.
    pub why_not: Option<String>,
    /// The credentials the tool is given for the indexes the manifest declares (and, for uv,
    /// the default index repin gives it).
    pub credentials: Credentials,
}

/// The tool locks of `manifests` with their project, by lock path; with `build_code` false,
/// Poetry's (which may run build code) are not re-locked. `resolver` says which credentials
/// repin sends to each index a manifest declares, and so which its tool is given.
pub fn tool_projects(
    manifests: &[&Manifest],
    workspace: &Workspace,
    build_code: bool,
    resolver: &IndexResolver,
) -> HashMap<PathBuf, ToolProject> {
    let by_path: HashMap<&Path, &Manifest> =
        manifests.iter().map(|m| (m.source.path(), *m)).collect();
    let mut out = HashMap::new();
    for lock in manifests {
        let Some(tool) = Tool::of(lock.kind) else {
            continue;
        };
        let path = lock.source.path();
        let manifest_path = path.parent().unwrap_or(Path::new("")).join(tool.files().0);
        let manifest = by_path.get(manifest_path.as_path()).copied();
        let (members, member_manifests, members_why) = match manifest {
            Some(m) if tool == Tool::Uv => uv_members(m, manifests),
            _ => (Vec::new(), Vec::new(), None),
        };
        let credentials = match (&lock.details, manifest.map(|m| &m.details)) {
            (ManifestDetails::UvLock(file), _) => {
                uv::credentials(file, manifest, &manifest_path, &member_manifests, resolver)
            }
            (_, Some(ManifestDetails::Pyproject(file))) if tool == Tool::Poetry => {
                credentials::poetry(&file.poetry_sources, &manifest_path, resolver)
            }
            (_, Some(ManifestDetails::Pipfile(file))) if tool == Tool::Pipenv => {
                credentials::pipenv(&file.sources, &manifest_path, resolver)
            }
            _ => Credentials::default(),
        };
        let why_not = if tool == Tool::Poetry && !build_code {
            Some(NO_BUILD_CODE.to_owned())
        } else {
            members_why
                .or_else(|| why_not(tool, lock, manifest, &member_manifests, workspace))
                .or_else(|| credentials.withheld().map(str::to_owned))
        };
        out.insert(
            path.to_path_buf(),
            ToolProject {
                tool,
                lock: path.to_path_buf(),
                manifest: manifest_path,
                lock_text: lock.source.text().to_owned(),
                manifest_text: manifest.map_or_else(String::new, |m| m.source.text().to_owned()),
                members,
                generated_by: (tool == Tool::Poetry)
                    .then(|| poetry::generated_by(lock.source.text()))
                    .flatten(),
                why_not,
                credentials,
            },
        );
    }
    out
}

/// Why Poetry is not run where build code is not allowed.
const NO_BUILD_CODE: &str = "Poetry may run the build code of a package it resolves (a release with no wheel), and this run allows no build code (`--no-build-code`, as `repin serve` runs without `--allow-build-code`)";

/// The members of the uv workspace whose root is `root` (a pyproject with `[tool.uv.workspace]`),
/// among the pyprojects of `manifests` below it, with their manifests; and why they cannot be
/// copied, when they cannot.
fn uv_members<'m>(
    root: &Manifest,
    manifests: &[&'m Manifest],
) -> (Vec<WorkspaceMember>, Vec<&'m Manifest>, Option<String>) {
    let ManifestDetails::Pyproject(file) = &root.details else {
        return (Vec::new(), Vec::new(), None);
    };
    let Some(workspace) = &file.uv_workspace else {
        return (Vec::new(), Vec::new(), None);
    };
    let dir = root.source.path().parent().unwrap_or(Path::new(""));
    // Every pyproject below the root, by its directory relative to it.
    let below: HashMap<PathBuf, &Manifest> = manifests
        .iter()
        .filter(|m| m.kind == ManifestKind::Pyproject)
        .filter_map(|m| {
            let relative = m.source.path().parent()?.strip_prefix(dir).ok()?;
            Some((relative.to_path_buf(), *m))
        })
        .collect();
    let candidates: Vec<PathBuf> = below.keys().cloned().collect();
    let (dirs, why) = uv_workspace::member_dirs(workspace, &candidates);
    let found: Vec<&Manifest> = dirs.iter().filter_map(|d| below.get(d).copied()).collect();
    let members = dirs
        .into_iter()
        .zip(&found)
        .map(|(dir, m)| WorkspaceMember {
            dir,
            manifest: m.source.path().to_path_buf(),
            text: m.source.text().to_owned(),
        })
        .collect();
    (members, found, why)
}

/// Why a lock is not re-locked in a scratch copy, or `None` when it is; `members` are the
/// pyprojects of the members of a uv workspace.
fn why_not(
    tool: Tool,
    lock: &Manifest,
    manifest: Option<&Manifest>,
    members: &[&Manifest],
    workspace: &Workspace,
) -> Option<String> {
    let name = tool.files().0;
    let Some(manifest) = manifest else {
        return Some(format!("no `{name}` beside it was read"));
    };
    if manifest.has_errors() || lock.has_errors() {
        return Some(format!("it or its `{name}` has errors"));
    }
    let Ok(root) = workspace.root_of(lock.source.path()) else {
        return Some("it is not inside a repository repin reads".into());
    };
    if let ManifestDetails::UvLock(file) = &lock.details {
        let projects: Vec<&Manifest> = std::iter::once(manifest)
            .chain(members.iter().copied())
            .collect();
        let dirs: Vec<PathBuf> = members
            .iter()
            .filter_map(|m| {
                let dir = lock.source.path().parent()?;
                Some(
                    m.source
                        .path()
                        .parent()?
                        .strip_prefix(dir)
                        .ok()?
                        .to_path_buf(),
                )
            })
            .collect();
        return uv::why_not(lock, file, &projects, &dirs, &root);
    }
    // Anything not from an index is not in the scratch copy, or reaches a host that is not one.
    lock.dependencies
        .iter()
        .find(|d| {
            matches!(
                d.skip_reason,
                Some(
                    SkipReason::VcsRequirement
                        | SkipReason::LocalPath
                        | SkipReason::Editable
                        | SkipReason::UrlRequirement
                )
            )
        })
        .map(|d| {
            format!(
                "`{}` is not from an index, and a scratch copy of the project does not have it",
                d.name
            )
        })
}
