//! `uv.lock` updates, made by uv itself: the lock's format carries uv's universal resolution
//! (forks, markers, every file's hash), which repin does not reproduce, so uv re-locks it.
//!
//! - An update of a requirement of a `pyproject.toml` with a `uv.lock` beside it becomes one
//!   update writing both: the pyproject edited as for any pyproject, and as its companion
//!   ([`crate::decide::Companion`]) the lock as `uv lock --upgrade-package NAME` writes it for
//!   the edited pyproject.
//! - A security fix of a pin of the lock (a transitive one, or a direct one the pyproject's
//!   range already allows) is an update of kind `lock` whose change is the lock as
//!   `uv lock --upgrade-package NAME==FIXED` writes it; the pyproject is unchanged.
//! - Routine updates of the lock's pins are not proposed: they move with their pyproject
//!   requirement, or with a re-lock the user asks for.
//!
//! uv runs in a scratch copy of the project (its `pyproject.toml` and `uv.lock` only), never in
//! the repository, the way every locking tool runs ([`super::tool_lock::process`]): its
//! environment cleared (no `UV_*` setting or credential of repin's own reaches it), its home in
//! the scratch, a timeout and its output captured. What a hostile repository could make it do
//! is turned off: nothing is built (`--no-build`: no build backend or `setup.py` of the project
//! or of an sdist runs), no Python is downloaded (`--no-python-downloads`), no keyring helper
//! runs (`--keyring-provider disabled`), its cache is the one repin chooses (`UV_CACHE_DIR`, not
//! one the pyproject's `[tool.uv]` names), and the only indexes are those the pyproject declares
//! or, when it declares no default, the registry the lock was made from (`UV_DEFAULT_INDEX`),
//! with the credentials repin uses for each ([`super::tool_lock::credentials`]). A `uv.toml` is
//! never copied: a project with one beside it, a
//! workspace, or packages from git, URLs or paths (which the scratch copy does not have, or
//! which reach hosts that are not indexes) are not re-locked, and their updates are held back
//! saying why and what to run. The new lock is read back and verified (it parses, and the
//! package is at the version proposed) before it is proposed.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};

use super::relock::{hold_back, update_why};
use super::tool_lock::credentials::{self, Credentials};
use super::tool_lock::process::{EnvVar, ProcessError, Scratch, cache_dir, read_back};
use super::{Checker, Outcome};
use crate::decide::{Companion, NoUpdate, Update};
use crate::manifest::edit::{self, Change, MovedPin, Relock, Request};
use crate::manifest::uv_lock::{PackageSource, UvLockFile};
use crate::manifest::workspace::Workspace;
use crate::manifest::{Manifest, ManifestDetails, ManifestKind};
use crate::registry::pypi::IndexResolver;
use crate::text::SourceFile;
use crate::versioning::UpdateKind;
use crate::vocab::Message;

/// Why a `uv.lock` could not be re-locked.
#[derive(Debug, thiserror::Error)]
pub enum UvRelockError {
    /// The project cannot be re-locked in a scratch copy.
    #[error("{0}")]
    NotRelockable(String),
    /// uv could not run, or failed.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// The lock uv wrote does not verify.
    #[error("The lock uv wrote does not verify: {0}")]
    Verification(String),
    /// Editing the pyproject the re-lock is made from failed.
    #[error("Cannot edit the pyproject for the re-lock")]
    Edit(#[source] edit::EditError),
}

impl crate::error::Hint for UvRelockError {
    fn hints(&self) -> Vec<String> {
        match self {
            UvRelockError::Process(ProcessError::Missing { .. }) => vec![
                "install uv (`pip install uv`) where repin runs, so the lock is re-locked with the update"
                    .into(),
            ],
            _ => Vec::new(),
        }
    }
}

/// A `uv.lock` and the project it locks.
#[derive(Debug, Clone)]
pub struct UvProject {
    /// The lock's path (as the workspace has it).
    pub lock: PathBuf,
    /// The `pyproject.toml` beside it.
    pub pyproject: PathBuf,
    /// The lock as read.
    pub lock_text: String,
    /// The pyproject as read.
    pub pyproject_text: String,
    /// Why it cannot be re-locked, when it cannot.
    pub why_not: Option<String>,
    /// The credentials uv is given for the indexes the pyproject declares, and the default
    /// index repin gives it.
    pub credentials: Credentials,
}

/// The `uv.lock` files of `manifests` with their project, by lock path; `resolver` says which
/// credentials repin sends to each index a pyproject declares, and so which uv is given.
pub(super) fn uv_projects(
    manifests: &[&Manifest],
    workspace: &Workspace,
    resolver: &IndexResolver,
) -> HashMap<PathBuf, UvProject> {
    let by_path: HashMap<&Path, &Manifest> =
        manifests.iter().map(|m| (m.source.path(), *m)).collect();
    let mut out = HashMap::new();
    for manifest in manifests {
        let ManifestDetails::UvLock(file) = &manifest.details else {
            continue;
        };
        let lock = manifest.source.path();
        let dir = lock.parent().unwrap_or(Path::new(""));
        let pyproject_path = dir.join("pyproject.toml");
        let pyproject = by_path.get(pyproject_path.as_path()).copied();
        let why_not = why_not(manifest, file, pyproject, workspace);
        let declared = pyproject.and_then(|p| match &p.details {
            ManifestDetails::Pyproject(p) => Some(p),
            _ => None,
        });
        // uv's default index when the pyproject declares none: the registry most of the
        // lock's packages come from (given to uv with its credentials, as `UV_DEFAULT_INDEX`).
        let default_index = declared
            .filter(|p| !p.uv_indexes.iter().any(|i| i.default))
            .and_then(|_| file.main_registry().map(str::to_owned));
        let credentials = credentials::uv(
            declared.map_or(&[][..], |p| &p.uv_indexes[..]),
            default_index.as_deref(),
            &pyproject_path,
            resolver,
        );
        out.insert(
            lock.to_path_buf(),
            UvProject {
                lock: lock.to_path_buf(),
                pyproject: pyproject_path,
                lock_text: manifest.source.text().to_owned(),
                pyproject_text: pyproject.map_or_else(String::new, |p| p.source.text().to_owned()),
                why_not,
                credentials,
            },
        );
    }
    out
}

/// Why a lock is not re-locked in a scratch copy, or `None` when it is.
fn why_not(
    lock: &Manifest,
    file: &UvLockFile,
    pyproject: Option<&Manifest>,
    workspace: &Workspace,
) -> Option<String> {
    let Some(pyproject) = pyproject else {
        return Some("no `pyproject.toml` beside it was read".into());
    };
    if pyproject.has_errors() || lock.has_errors() {
        return Some("it or its `pyproject.toml` has errors".into());
    }
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
    if workspace.root_of(lock.source.path()).is_err() {
        return Some("it is not inside a repository repin reads".into());
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

/// One `uv lock` to run: the pyproject it is run on and the packages it upgrades.
#[derive(Debug, Clone)]
pub struct UvJob {
    /// The pyproject's text (edited, or as read).
    pub pyproject: String,
    /// `--upgrade-package` arguments (`flask`, `werkzeug==3.0.6`).
    pub upgrade: Vec<String>,
}

/// The command the user runs instead, in the project's directory.
fn command(upgrade: &[String]) -> String {
    let mut command = "uv lock".to_owned();
    for package in upgrade {
        command.push_str(&format!(" --upgrade-package '{package}'"));
    }
    command
}

/// Run uv on a scratch copy of `project` for `job`, and return the lock it writes.
pub async fn run_uv(project: &UvProject, job: &UvJob) -> Result<String, UvRelockError> {
    if let Some(why) = &project.why_not {
        return Err(UvRelockError::NotRelockable(why.clone()));
    }
    let scratch = Scratch::new("repin-uv-")?.with_credentials(project.credentials.clone());
    scratch.write("pyproject.toml", &job.pyproject)?;
    scratch.write("uv.lock", &project.lock_text)?;
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
    for package in &job.upgrade {
        args.push("--upgrade-package".into());
        args.push(package.clone());
    }
    scratch.run("uv", &args, &uv_env(&scratch)).await?;
    read_back(&scratch, "uv.lock").map_err(|e| UvRelockError::Verification(crate::error::chain(&e)))
}

/// uv's environment: repin's download cache (`UV_CACHE_DIR` of repin's environment, else
/// repin's own), and the Pythons uv installed for the user repin runs as (its home is the
/// scratch's, where it would find none), which it may use but never adds to.
fn uv_env(scratch: &Scratch) -> Vec<EnvVar> {
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

/// Read a lock uv wrote back: it parses without errors, and `name` is pinned at a version that
/// `wanted` allows. The re-lock of `old` to it, with what moved.
fn verify(
    project: &UvProject,
    old: &Manifest,
    text: String,
    name: &str,
    wanted: &VersionSpecifiers,
) -> Result<Relock, UvRelockError> {
    let source = SourceFile::from_text(&project.lock, old.source.encoding(), text.clone());
    let new = crate::manifest::parse(source, ManifestKind::UvLock);
    if let Some(error) = new.diagnostics.iter().find(|d| d.is_error()) {
        return Err(UvRelockError::Verification(error.to_string()));
    }
    let versions: Vec<Version> = new
        .dependencies
        .iter()
        .filter(|d| d.name == name)
        .filter_map(|d| d.python()?.pinned_version().cloned())
        .collect();
    if versions.is_empty() {
        return Err(UvRelockError::Verification(format!("it has no `{name}`")));
    }
    if let Some(v) = versions.iter().find(|v| !wanted.contains(v)) {
        return Err(UvRelockError::Verification(format!(
            "it pins `{name}` {v}, which `{wanted}` does not allow"
        )));
    }
    Ok(Relock {
        text,
        moved: moved(old, &new),
        pins: edit::read_pins(&new),
        update_kind: None,
    })
}

/// Every pin that moves, appears or goes between two locks.
pub(super) fn moved(old: &Manifest, new: &Manifest) -> Vec<MovedPin> {
    let versions = |m: &Manifest| {
        let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for d in &m.dependencies {
            by.entry(d.name.clone())
                .or_default()
                .push(d.current.clone());
        }
        by
    };
    let (before, after) = (versions(old), versions(new));
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|n| before.get(*n) != after.get(*n))
        .map(|n| MovedPin {
            name: n.clone(),
            from: before.get(n).map(|v| v.join(", ")),
            to: after.get(n).map(|v| v.join(", ")),
            why: "needed by the re-lock".into(),
        })
        .collect()
}

/// The specifier an update leaves, as versions the lock must then pin.
fn wanted_by(change: &Change) -> Option<VersionSpecifiers> {
    match change {
        Change::PythonSpecifier { specifier, .. } => VersionSpecifiers::from_str(specifier).ok(),
        Change::PythonVersion { version, .. } => {
            VersionSpecifiers::from_str(&format!("=={version}")).ok()
        }
        _ => None,
    }
}

/// Why an update is held back when uv fails, with what to run instead.
fn held_why(lock: &Path, upgrade: &[String], error: &UvRelockError) -> Message {
    crate::error::message(error)
        .prefixed(&format!(
            "{} cannot be re-locked with it: ",
            crate::text::shown(lock)
        ))
        .hint(format!(
            "make the change, then run `{}` in {}",
            command(upgrade),
            super::tool_lock::process::shown_dir(lock)
        ))
}

impl Checker {
    /// The re-locks of every `uv.lock` (see the module's documentation): companions of the
    /// updates of its pyproject, security fixes of its pins as re-locks, and its pins' routine
    /// updates left to re-locks.
    pub(super) async fn relock_uv(
        &self,
        manifests: &[&Manifest],
        workspace: &Workspace,
        outcome: &mut Outcome,
    ) {
        let projects = uv_projects(manifests, workspace, &self.indexes);
        if projects.is_empty() {
            return;
        }
        let by_path: BTreeMap<&Path, &Manifest> =
            manifests.iter().map(|m| (m.source.path(), *m)).collect();
        let lock_of_pyproject: HashMap<&Path, &UvProject> = projects
            .values()
            .map(|p| (p.pyproject.as_path(), p))
            .collect();
        // (finding, update) → why it is held back; removed last first below.
        let mut held: BTreeMap<(usize, usize), Message> = BTreeMap::new();
        for f in 0..outcome.findings.len() {
            let file = outcome.findings[f].file.clone();
            let Some(manifest) = by_path.get(file.as_path()).copied() else {
                continue;
            };
            let index = outcome.findings[f].index;
            let Some(dependency) = manifest.dependencies.get(index) else {
                continue;
            };
            let name = dependency.name.clone();
            if let Some(project) = projects.get(&file) {
                // A pin of the lock: security fixes are re-locks, routine updates are left.
                let decision = &mut outcome.findings[f].decision;
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
                for u in 0..outcome.findings[f].decision.updates.len() {
                    let update = &outcome.findings[f].decision.updates[u];
                    let pin = format!("{name}=={}", update.proposed);
                    let upgrade = vec![pin.clone()];
                    let job = UvJob {
                        pyproject: project.pyproject_text.clone(),
                        upgrade: upgrade.clone(),
                    };
                    let wanted = VersionSpecifiers::from_str(&format!("=={}", update.proposed));
                    let result = match wanted {
                        Ok(wanted) => match run_uv(project, &job).await {
                            Ok(text) => verify(project, manifest, text, &name, &wanted),
                            Err(error) => Err(error),
                        },
                        Err(error) => Err(UvRelockError::Verification(error.to_string())),
                    };
                    match result {
                        Ok(mut relock) => {
                            let update = &mut outcome.findings[f].decision.updates[u];
                            let why = update_why(update);
                            for m in relock.moved.iter_mut().filter(|m| m.name == name) {
                                m.why.clone_from(&why);
                            }
                            relock.update_kind = Some(UpdateKind::Lock);
                            let moves: Vec<String> =
                                relock.moved.iter().map(MovedPin::describe).collect();
                            update.reason =
                                format!("{}; re-locked by uv: {}", update.reason, moves.join(", "));
                            update.kind = UpdateKind::Lock;
                            update.change = Change::Relock(Box::new(relock));
                        }
                        Err(error) => {
                            held.insert((f, u), held_why(&project.lock, &upgrade, &error));
                        }
                    }
                }
                continue;
            }
            let Some(project) = lock_of_pyproject.get(file.as_path()).copied() else {
                continue;
            };
            let Some(lock) = by_path.get(project.lock.as_path()).copied() else {
                continue;
            };
            // A requirement of the pyproject: the lock moves with it, as its companion.
            for u in 0..outcome.findings[f].decision.updates.len() {
                let update = &outcome.findings[f].decision.updates[u];
                let Some(wanted) = wanted_by(&update.change) else {
                    continue;
                };
                let upgrade = vec![name.clone()];
                let result = async {
                    let request = Request {
                        index,
                        change: update.change.clone(),
                    };
                    let edited = edit::edit(manifest, &[request]).map_err(UvRelockError::Edit)?;
                    let job = UvJob {
                        pyproject: edited.manifest.source.text().to_owned(),
                        upgrade: upgrade.clone(),
                    };
                    let text = run_uv(project, &job).await?;
                    verify(project, lock, text, &name, &wanted)
                }
                .await;
                match result {
                    Ok(mut relock) => {
                        let update = &mut outcome.findings[f].decision.updates[u];
                        // A lock uv leaves as it is still goes with the update, unchanged: it
                        // says the lock was checked and does not go stale.
                        let same = relock.text == project.lock_text;
                        let why = update_why(update);
                        for m in relock.moved.iter_mut().filter(|m| m.name == name) {
                            m.why.clone_from(&why);
                        }
                        relock.update_kind = Some(update.kind);
                        let moves: Vec<String> =
                            relock.moved.iter().map(MovedPin::describe).collect();
                        if !same {
                            update.reason = format!(
                                "{}; re-locks {} with it{}",
                                update.reason,
                                crate::text::shown(&project.lock),
                                if moves.is_empty() {
                                    String::new()
                                } else {
                                    format!(": {}", moves.join(", "))
                                }
                            );
                        }
                        update.companions.push(Companion {
                            file: project.lock.clone(),
                            relock,
                        });
                    }
                    Err(error) => {
                        held.insert((f, u), held_why(&project.lock, &upgrade, &error));
                    }
                }
            }
        }
        for ((f, u), why) in held.into_iter().rev() {
            // Said as a warning too: `apply` shows no held-back update, and this one is held
            // only because the lock could not be re-locked here.
            let finding = &outcome.findings[f];
            let name = by_path
                .get(finding.file.as_path())
                .and_then(|m| m.dependencies.get(finding.index))
                .map_or("", |d| d.name.as_str());
            if let Some(update) = finding.decision.updates.get(u) {
                outcome.warnings.push(why.clone().prefixed(&format!(
                    "{}: `{name}` {} is held back: ",
                    crate::text::shown(&finding.file),
                    update.proposed
                )));
            }
            hold_back(outcome, f, u, why);
        }
        outcome.uv_projects = projects;
    }

    /// One re-lock of the `uv.lock` at `file` taking every update of `updates` (security fixes
    /// of its pins, by the index of their dependency) and every update of `inputs` (updates of
    /// requirements of its pyproject): for `apply`, as [`Checker::combined_relock`] is for
    /// compiled locks.
    pub(super) async fn combined_uv_relock(
        &self,
        outcome: &Outcome,
        file: &Path,
        updates: &[(usize, &Update)],
        inputs: &[(&Manifest, usize, &Update)],
    ) -> Result<Relock, UvRelockError> {
        let project = outcome
            .uv_projects
            .get(file)
            .ok_or_else(|| UvRelockError::NotRelockable("it is not a uv.lock repin read".into()))?;
        let lock = crate::manifest::parse(
            SourceFile::from_text(file, crate::text::Encoding::Utf8, project.lock_text.clone()),
            ManifestKind::UvLock,
        );
        let mut upgrade = Vec::new();
        let mut checks: Vec<(String, VersionSpecifiers)> = Vec::new();
        let mut requests = Vec::new();
        let mut pyproject: Option<&Manifest> = None;
        let mut kinds = Vec::new();
        for (manifest, index, update) in inputs {
            let name = manifest
                .dependencies
                .get(*index)
                .map(|d| d.name.clone())
                .unwrap_or_default();
            if let Some(wanted) = wanted_by(&update.change) {
                checks.push((name.clone(), wanted));
            }
            upgrade.push(name);
            kinds.push(update.kind);
            requests.push(Request {
                index: *index,
                change: update.change.clone(),
            });
            pyproject = Some(manifest);
        }
        for (index, update) in updates {
            let name = lock
                .dependencies
                .get(*index)
                .map(|d| d.name.clone())
                .unwrap_or_default();
            upgrade.push(format!("{name}=={}", update.proposed));
            if let Ok(wanted) = VersionSpecifiers::from_str(&format!("=={}", update.proposed)) {
                checks.push((name, wanted));
            }
            kinds.push(UpdateKind::Lock);
        }
        let text = match pyproject {
            Some(manifest) => edit::edit(manifest, &requests)
                .map_err(UvRelockError::Edit)?
                .manifest
                .source
                .text()
                .to_owned(),
            None => project.pyproject_text.clone(),
        };
        let new = run_uv(
            project,
            &UvJob {
                pyproject: text,
                upgrade,
            },
        )
        .await?;
        let mut relock = None;
        for (name, wanted) in &checks {
            relock = Some(verify(project, &lock, new.clone(), name, wanted)?);
        }
        let mut relock = relock.ok_or_else(|| {
            UvRelockError::Verification("the re-lock was asked for nothing".into())
        })?;
        relock.update_kind = kinds.into_iter().max();
        Ok(relock)
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
    }

    #[test]
    fn a_hold_back_carries_uv_s_hint_and_the_command_as_typed_hints() {
        let missing = UvRelockError::Process(ProcessError::Missing {
            program: "uv".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
        let why = held_why(Path::new("app/uv.lock"), &["flask".into()], &missing);
        assert!(
            why.text.starts_with(
                "app/uv.lock cannot be re-locked with it: `uv` is not on PATH\n  Caused by: "
            ),
            "{why:?}"
        );
        assert!(!why.text.contains("hint"), "{why:?}");
        assert_eq!(
            why.hints,
            [
                "install uv (`pip install uv`) where repin runs, so the lock is re-locked with the update",
                "make the change, then run `uv lock --upgrade-package 'flask'` in app"
            ]
        );
        let why = held_why(
            Path::new("uv.lock"),
            &[],
            &UvRelockError::Verification("a pin moved".into()),
        );
        assert_eq!(
            why,
            Message::new(
                "uv.lock cannot be re-locked with it: The lock uv wrote does not verify: a pin moved"
            )
            .hint("make the change, then run `uv lock` in .")
        );
    }
}
