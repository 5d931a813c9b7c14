//! Finding the locks a tool re-locks, with the manifest beside each, the credentials the tool is
//! given and why, when it cannot, the project is not re-locked.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::credentials::{self, Credentials};
use super::{Tool, poetry, uv};
use crate::manifest::workspace::Workspace;
use crate::manifest::{Manifest, ManifestDetails, SkipReason};
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
        let credentials = match (&lock.details, manifest.map(|m| &m.details)) {
            (ManifestDetails::UvLock(file), _) => {
                uv::credentials(file, manifest, &manifest_path, resolver)
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
            why_not(tool, lock, manifest, workspace)
        };
        out.insert(
            path.to_path_buf(),
            ToolProject {
                tool,
                lock: path.to_path_buf(),
                manifest: manifest_path,
                lock_text: lock.source.text().to_owned(),
                manifest_text: manifest.map_or_else(String::new, |m| m.source.text().to_owned()),
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

/// Why a lock is not re-locked in a scratch copy, or `None` when it is.
fn why_not(
    tool: Tool,
    lock: &Manifest,
    manifest: Option<&Manifest>,
    workspace: &Workspace,
) -> Option<String> {
    let name = tool.files().0;
    let Some(manifest) = manifest else {
        return Some(format!("no `{name}` beside it was read"));
    };
    if manifest.has_errors() || lock.has_errors() {
        return Some(format!("it or its `{name}` has errors"));
    }
    if workspace.root_of(lock.source.path()).is_err() {
        return Some("it is not inside a repository repin reads".into());
    }
    if let ManifestDetails::UvLock(file) = &lock.details {
        return uv::why_not(lock, file);
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
