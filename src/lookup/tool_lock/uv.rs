//! How uv is run on a scratch copy of a project (`pyproject.toml` and `uv.lock`), or of a uv
//! workspace: its root's `pyproject.toml` and `uv.lock`, and each member's `pyproject.toml` at
//! its place below the root ([`super::uv_workspace`]); uv runs at the root, as for a single
//! project, and an edit of a member's requirement re-locks the root's `uv.lock`.
//!
//! - An edit of the pyproject: `uv lock --upgrade-package NAME`, which moves that package (and
//!   what it needs) within the edited requirement and keeps every other pin.
//! - A security fix of a pin: `uv lock --upgrade-package NAME==FIXED`, which pins exactly the
//!   version repin chose (uv takes the version, where Poetry and Pipenv take only the name).
//! - Routine updates of the lock's pins are held back here, saying how to move them
//!   ([`hold_routine`]).
//!
//! Hardening, besides the scratch copy and environment of [`super::process`]: nothing is built
//! (`--no-build`: no build backend or `setup.py` of the project or of an sdist runs), no Python
//! is downloaded (`--no-python-downloads`), no keyring helper runs (`--keyring-provider
//! disabled`), its cache is the one repin chooses (`UV_CACHE_DIR`, not one the pyproject's
//! `[tool.uv]` names), and the only indexes are those the pyproject declares or, when it
//! declares no default, the registry the lock was made from (`UV_DEFAULT_INDEX`), with the
//! credentials repin uses for each ([`super::credentials`]). A `uv.toml` is never copied: a
//! project with one beside it, packages from git, URLs or paths other than the workspace's own
//! members (which the scratch copy does not have, or which reach hosts that are not indexes), a
//! member outside the repository or the workspace root, and a project or member whose version or
//! dependencies are `dynamic` (uv would build it to read them) are not re-locked ([`why_not`]),
//! and their updates are held back saying why and what to run.

use std::path::{Path, PathBuf};

use super::credentials::{self, Credentials};
use super::process::{EnvVar, Scratch, cache_dir};
use super::uv_workspace;
use crate::decide::{Decision, NoUpdate, Update};
use crate::manifest::pyproject::UvIndex;
use crate::manifest::uv_lock::{PackageSource, UvLockFile};
use crate::manifest::{Manifest, ManifestDetails};
use crate::registry::pypi::IndexResolver;
use crate::text::RepoRoot;
use crate::text::repo_fs::stays_within;
use crate::vocab::Message;

/// The arguments of the run that moves the `upgrade` packages (`flask`, `werkzeug==3.0.6`).
pub fn lock_args(upgrade: &[String]) -> Vec<String> {
    let mut args: Vec<String> = [
        "lock",
        "--no-build",
        "--no-python-downloads",
        "--keyring-provider",
        "disabled",
        "--no-progress",
        "--color",
        "never",
    ]
    .map(str::to_owned)
    .to_vec();
    for package in upgrade {
        args.push("--upgrade-package".into());
        args.push(package.clone());
    }
    args
}

/// The command the user runs instead, in the project's directory.
pub fn command(upgrade: &[String]) -> String {
    let mut command = "uv lock".to_owned();
    for package in upgrade {
        command.push_str(&format!(" --upgrade-package '{package}'"));
    }
    command
}

/// uv's environment: repin's download cache (`UV_CACHE_DIR` of repin's environment, else
/// repin's own), and the Pythons uv installed for the user repin runs as (its home is the
/// scratch's, where it would find none), which it may use but never adds to.
pub fn env(scratch: &Scratch) -> Vec<EnvVar> {
    let cache = std::env::var_os("UV_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache_dir(scratch, "uv"));
    let mut env: Vec<EnvVar> = vec![("UV_CACHE_DIR".into(), cache.into())];
    let pythons = std::env::var_os("UV_PYTHON_INSTALL_DIR")
        .map(PathBuf::from)
        .or_else(|| dirs::data_dir().map(|d| d.join("uv").join("python")));
    if let Some(pythons) = pythons.filter(|p| p.is_dir()) {
        env.push(("UV_PYTHON_INSTALL_DIR".into(), pythons.into()));
    }
    env
}

/// The credentials uv is given for the indexes `pyproject` declares (at `path`) and those its
/// workspace `members` declare, and the default index repin gives it when the pyproject
/// declares none: the registry most of the lock's packages come from (as `UV_DEFAULT_INDEX`).
pub fn credentials(
    file: &UvLockFile,
    pyproject: Option<&Manifest>,
    path: &Path,
    members: &[&Manifest],
    resolver: &IndexResolver,
) -> Credentials {
    let own = pyproject.and_then(indexes);
    let mut declared: Vec<(&[UvIndex], &Path)> = own.map(|i| (i, path)).into_iter().collect();
    for member in members {
        if let Some(member_indexes) = indexes(member) {
            declared.push((member_indexes, member.source.path()));
        }
    }
    let default_index = own
        .filter(|i| !i.iter().any(|i| i.default))
        .and_then(|_| file.main_registry().map(str::to_owned));
    credentials::uv(&declared, default_index.as_deref(), path, resolver)
}

/// The `[[tool.uv.index]]` tables of a pyproject.
fn indexes(manifest: &Manifest) -> Option<&[UvIndex]> {
    match &manifest.details {
        ManifestDetails::Pyproject(p) => Some(&p.uv_indexes[..]),
        _ => None,
    }
}

/// Why a `uv.lock` is not re-locked in a scratch copy, or `None` when it is: what uv would need
/// that the copy does not have, or settings repin does not run it with. `projects` are the
/// pyprojects the copy has (the one beside the lock, then each member's of a workspace),
/// `members` the members' directories (relative to the lock's), `root` the repository's.
pub fn why_not(
    lock: &Manifest,
    file: &UvLockFile,
    projects: &[&Manifest],
    members: &[PathBuf],
    root: &RepoRoot,
) -> Option<String> {
    let dir = lock.source.path().parent().unwrap_or(Path::new(""));
    let uv_toml = dir.join("uv.toml");
    if std::fs::symlink_metadata(&uv_toml).is_ok() {
        return Some(
            "a `uv.toml` is beside it, and repin does not run uv with a repository's uv settings files"
                .into(),
        );
    }
    for project in projects.iter().skip(1) {
        if project.has_errors() {
            return Some(format!(
                "its workspace member's `{}` has errors",
                crate::text::shown(project.source.path())
            ));
        }
    }
    if let Some(why) = projects.iter().find_map(|p| dynamic(p)) {
        return Some(why);
    }
    // The root is `.` and the members are copied; anything else not from a registry is not
    // in the copy, or is outside the repository.
    file.packages
        .iter()
        .filter_map(|p| Some((p, p.source.as_ref()?)))
        .find_map(|(package, source)| {
            let at = match source {
                PackageSource::Registry(_) => return None,
                PackageSource::Editable(at)
                | PackageSource::Virtual(at)
                | PackageSource::Directory(at) => Some(uv_workspace::clean(at)),
                _ => None,
            };
            let copied = |at: &PathBuf| {
                stays_within(at) && (at.as_os_str().is_empty() || members.contains(at))
            };
            if at.as_ref().is_some_and(copied) {
                return None;
            }
            // A path that leaves the repository (`../..`, or a link out of it) is said so.
            let outside = at
                .as_ref()
                .is_some_and(|at| root.resolve(&dir.join(at)).is_err_and(|e| e.is_refused()));
            let why = if outside {
                "which is outside the repository"
            } else {
                "which a scratch copy of the project does not have"
            };
            Some(format!(
                "`{}` comes from the {} `{}`, {why}",
                package.name,
                source.key(),
                source.location()
            ))
        })
}

/// Why uv would build `project` to lock it (`--no-build` forbids it): the metadata it locks is
/// computed by its build backend.
fn dynamic(project: &Manifest) -> Option<String> {
    let ManifestDetails::Pyproject(file) = &project.details else {
        return None;
    };
    let field = file.dynamic.iter().find(|f| {
        matches!(
            f.as_str(),
            "version" | "dependencies" | "optional-dependencies"
        )
    })?;
    Some(format!(
        "`{}` declares its `{field}` dynamic, which uv builds the project to read, and repin runs uv with `--no-build`",
        crate::text::shown(project.source.path())
    ))
}

/// Leave only the security fixes of a pin `name` of a `uv.lock`: its routine updates move with
/// its pyproject requirement, or with a re-lock the user asks for, which the decision says.
pub fn hold_routine(decision: &mut Decision, name: &str) {
    let routine: Vec<String> = decision
        .updates
        .iter()
        .filter(|u| !u.is_security())
        .map(|u| u.proposed.clone())
        .collect();
    decision.updates.retain(Update::is_security);
    if decision.updates.is_empty() {
        if let Some(newest) = routine.last() {
            decision.none = Some(NoUpdate::HeldBack {
                version: newest.clone(),
                why: Message::new(format!(
                    "a pin of uv.lock: it moves with its pyproject requirement, or with `uv lock --upgrade-package {name}`"
                )),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_to_run_names_every_package() {
        assert_eq!(
            command(&["flask".into(), "werkzeug==3.0.6".into()]),
            "uv lock --upgrade-package 'flask' --upgrade-package 'werkzeug==3.0.6'"
        );
        assert_eq!(
            lock_args(&["werkzeug==3.0.6".into()])[8..],
            ["--upgrade-package", "werkzeug==3.0.6"]
        );
    }
}
