//! How uv is run on a scratch copy of a project (`pyproject.toml` and `uv.lock`).
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
//! project with one beside it, a workspace, or packages from git, URLs or paths (which the
//! scratch copy does not have, or which reach hosts that are not indexes) are not re-locked
//! ([`why_not`]), and their updates are held back saying why and what to run.

use std::path::{Path, PathBuf};

use super::credentials::{self, Credentials};
use super::process::{EnvVar, Scratch, cache_dir};
use crate::decide::{Decision, NoUpdate, Update};
use crate::manifest::uv_lock::{PackageSource, UvLockFile};
use crate::manifest::{Manifest, ManifestDetails};
use crate::registry::pypi::IndexResolver;
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

/// The credentials uv is given for the indexes `pyproject` declares (at `path`), and the
/// default index repin gives it when the pyproject declares none: the registry most of the
/// lock's packages come from (as `UV_DEFAULT_INDEX`).
pub fn credentials(
    file: &UvLockFile,
    pyproject: Option<&Manifest>,
    path: &Path,
    resolver: &IndexResolver,
) -> Credentials {
    let declared = pyproject.and_then(|p| match &p.details {
        ManifestDetails::Pyproject(p) => Some(p),
        _ => None,
    });
    let default_index = declared
        .filter(|p| !p.uv_indexes.iter().any(|i| i.default))
        .and_then(|_| file.main_registry().map(str::to_owned));
    credentials::uv(
        declared.map_or(&[][..], |p| &p.uv_indexes[..]),
        default_index.as_deref(),
        path,
        resolver,
    )
}

/// Why a `uv.lock` beside its pyproject is not re-locked in a scratch copy, or `None` when it
/// is: what uv would need that the copy does not have, or settings repin does not run it with.
pub fn why_not(lock: &Manifest, file: &UvLockFile) -> Option<String> {
    if file.members.len() > 1 {
        return Some(format!(
            "it locks a uv workspace ({} members), and repin re-locks single projects only",
            file.members.len()
        ));
    }
    let dir = lock.source.path().parent().unwrap_or(Path::new(""));
    let uv_toml = dir.join("uv.toml");
    if std::fs::symlink_metadata(&uv_toml).is_ok() {
        return Some(
            "a `uv.toml` is beside it, and repin does not run uv with a repository's uv settings files"
                .into(),
        );
    }
    // The project itself is `.`; anything else not from a registry is not in the copy.
    file.packages
        .iter()
        .filter_map(|p| Some((p, p.source.as_ref()?)))
        .find(|(_, source)| match source {
            PackageSource::Registry(_) => false,
            PackageSource::Editable(at)
            | PackageSource::Virtual(at)
            | PackageSource::Directory(at) => at != ".",
            _ => true,
        })
        .map(|(package, source)| {
            format!(
                "`{}` comes from the {} `{}`, which a scratch copy of the project does not have",
                package.name,
                source.key(),
                source.location()
            )
        })
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
