//! `poetry.lock` and `Pipfile.lock` updates, made by Poetry and Pipenv themselves: each lock is
//! tied to its manifest by a hash only its tool computes (Poetry's `content-hash`, Pipenv's
//! `_meta.hash`), and carries its tool's resolution, so the tool re-locks it, as uv re-locks a
//! `uv.lock` ([`super::uv_lock`], the model of this module).
//!
//! - An update of a requirement of a `pyproject.toml` with a `poetry.lock` beside it, or of a
//!   `Pipfile` with a `Pipfile.lock`, becomes one update writing both: the manifest edited as
//!   for any, and as its companion ([`crate::decide::Companion`]) the lock as the tool writes
//!   it for the edited manifest, keeping every other pin ([`poetry`], [`pipenv`] say how).
//! - A security fix of a pin of the lock (a transitive one, or a direct one the manifest's
//!   range allows) is an update of kind `lock` whose change is the lock as the tool's own
//!   upgrade of that package writes it; the manifest is unchanged.
//! - Routine updates of the lock's pins are not proposed (they move with their manifest's
//!   requirement), as before.
//!
//! The tool runs in a scratch copy of the project (the manifest and the lock only), never in
//! the repository, with its environment cleared, its home, configuration and environments in
//! the scratch, a timeout and its output captured ([`process`]). The new lock is verified
//! before it is proposed: it parses with repin's reader without errors, carries its hash, pins
//! the package at a version the update allows (for a security fix, the fixed version or a later
//! one: neither tool can be held to one version of a pin the manifest does not name, see
//! `Wanted::AtLeast`, and the update then proposes the version the tool wrote), and the
//! tool's own check
//! (`poetry check --lock`, `pipenv verify`) accepts it with the manifest repin writes. When the tool is missing or cannot re-lock, the update is held back
//! with the command to run.

pub mod credentials;
pub mod pipenv;
pub mod poetry;
pub mod process;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep440_rs::Version;

use self::credentials::Credentials;
use self::process::{ProcessError, Scratch, read_back, shown_dir};
use super::relock::{hold_back, update_why};
use super::{Checker, Outcome};
use crate::advisory::AdvisoryIndex;
use crate::decide::{Companion, Update};
use crate::manifest::edit::{self, Change, MovedPin, Relock, Request};
use crate::manifest::workspace::Workspace;
use crate::manifest::{Manifest, ManifestDetails, ManifestKind, SkipReason};
use crate::registry::pypi::IndexResolver;
use crate::text::SourceFile;
use crate::versioning::UpdateKind;
use crate::vocab::Message;

/// Why a tool's lock could not be re-locked.
#[derive(Debug, thiserror::Error)]
pub enum ToolRelockError {
    /// The project cannot be re-locked in a scratch copy.
    #[error("{0}")]
    NotRelockable(String),
    /// The tool could not run, or failed.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// The lock the tool wrote does not verify.
    #[error("The lock {tool} wrote does not verify: {why}")]
    Verification {
        /// The tool.
        tool: &'static str,
        /// What was wrong.
        why: String,
    },
    /// Editing the manifest the re-lock is made from failed.
    #[error("Cannot edit the manifest for the re-lock")]
    Edit(#[source] edit::EditError),
}

impl crate::error::Hint for ToolRelockError {
    fn hints(&self) -> Vec<String> {
        match self {
            ToolRelockError::Process(ProcessError::Missing { program, .. }) => vec![format!(
                "install {program} (`pip install {program}`) where repin runs, so the lock is re-locked with the update"
            )],
            _ => Vec::new(),
        }
    }
}

/// The locking tool of a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// Poetry: `pyproject.toml` and `poetry.lock`.
    Poetry,
    /// Pipenv: `Pipfile` and `Pipfile.lock`.
    Pipenv,
}

impl Tool {
    /// Its name, as its documentation writes it.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Poetry => "Poetry",
            Tool::Pipenv => "Pipenv",
        }
    }

    /// The program's name.
    pub fn program(self) -> &'static str {
        match self {
            Tool::Poetry => "poetry",
            Tool::Pipenv => "pipenv",
        }
    }

    /// The manifest's and the lock's file names.
    pub fn files(self) -> (&'static str, &'static str) {
        match self {
            Tool::Poetry => ("pyproject.toml", "poetry.lock"),
            Tool::Pipenv => ("Pipfile", "Pipfile.lock"),
        }
    }

    /// The kind of its lock.
    fn lock_kind(self) -> ManifestKind {
        match self {
            Tool::Poetry => ManifestKind::PoetryLock,
            Tool::Pipenv => ManifestKind::PipfileLock,
        }
    }
}

/// A `poetry.lock` or `Pipfile.lock` and the manifest it locks.
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
    /// The credentials the tool is given for the indexes the manifest declares.
    pub credentials: Credentials,
}

/// The `poetry.lock` and `Pipfile.lock` files of `manifests` with their project, by lock path;
/// with `build_code` false, Poetry's (which may run build code) are not re-locked. `resolver`
/// says which credentials repin sends to each index a manifest declares, and so which its tool
/// is given.
pub(super) fn tool_projects(
    manifests: &[&Manifest],
    workspace: &Workspace,
    build_code: bool,
    resolver: &IndexResolver,
) -> HashMap<PathBuf, ToolProject> {
    let by_path: HashMap<&Path, &Manifest> =
        manifests.iter().map(|m| (m.source.path(), *m)).collect();
    let mut out = HashMap::new();
    for lock in manifests {
        let tool = match lock.kind {
            ManifestKind::PoetryLock => Tool::Poetry,
            ManifestKind::PipfileLock => Tool::Pipenv,
            _ => continue,
        };
        let path = lock.source.path();
        let manifest_path = path.parent().unwrap_or(Path::new("")).join(tool.files().0);
        let manifest = by_path.get(manifest_path.as_path()).copied();
        let credentials = match manifest.map(|m| &m.details) {
            Some(ManifestDetails::Pyproject(file)) if tool == Tool::Poetry => {
                credentials::poetry(&file.poetry_sources, &manifest_path, resolver)
            }
            Some(ManifestDetails::Pipfile(file)) if tool == Tool::Pipenv => {
                credentials::pipenv(&file.sources, &manifest_path, resolver)
            }
            _ => Credentials::default(),
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
                why_not: (tool == Tool::Poetry && !build_code)
                    .then(|| NO_BUILD_CODE.to_owned())
                    .or_else(|| why_not(lock, manifest, workspace)),
                credentials,
            },
        );
    }
    out
}

/// Why Poetry is not run where build code is not allowed.
const NO_BUILD_CODE: &str = "Poetry may run the build code of a package it resolves (a release with no wheel), and this run allows no build code (`--no-build-code`, as `repin serve` runs without `--allow-build-code`)";

/// Why a lock is not re-locked in a scratch copy, or `None` when it is.
fn why_not(lock: &Manifest, manifest: Option<&Manifest>, workspace: &Workspace) -> Option<String> {
    let Some(manifest) = manifest else {
        return Some("no manifest beside it was read".into());
    };
    if manifest.has_errors() || lock.has_errors() {
        return Some("it or its manifest has errors".into());
    }
    if workspace.root_of(lock.source.path()).is_err() {
        return Some("it is not inside a repository repin reads".into());
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

/// What a re-lock must leave: a package at a version its requirement allows, or at exactly one.
#[derive(Debug, Clone)]
enum Wanted {
    /// The edited requirement's specifier (PEP 440 or Poetry's syntax).
    Specifier(crate::manifest::python::Specifier),
    /// This version or a later one: a security fix. `poetry update --lock NAME` cannot be given
    /// a version; `pipenv upgrade NAME==FIXED` can, but Pipenv 2026.10 takes only the name from
    /// it for a pin its Pipfile does not name, and writes what resolving the whole Pipfile again
    /// gives (against pypiserver: werkzeug 3.0.7 for `werkzeug==3.0.6`, with `PIP_CONSTRAINT`
    /// too). Both move the package to the newest release the project allows.
    AtLeast(Version),
}

impl Wanted {
    fn contains(&self, version: &Version) -> bool {
        match self {
            Wanted::Specifier(s) => s.contains(version),
            Wanted::AtLeast(v) => v <= version,
        }
    }

    fn describe(&self) -> String {
        match self {
            Wanted::Specifier(s) => format!("`{}`", s.text),
            Wanted::AtLeast(v) => format!("`>={v}`"),
        }
    }
}

/// One package a re-lock moves: by an edit of its requirement, or to a fixed version.
#[derive(Debug, Clone)]
struct Move {
    /// The normalised name.
    name: String,
    /// The Pipfile category (Pipenv only).
    category: String,
    /// What Pipenv is given (`flask==3.0.3`, `flask[async]>=3`); the name for Poetry.
    spec: String,
    /// Whether it is a security fix of a pin (else an edit of the manifest).
    fix: bool,
    /// What the new lock must pin.
    wanted: Wanted,
}

/// One re-lock to run: the manifest it is run on and the packages it moves.
#[derive(Debug, Clone)]
struct Job {
    manifest: String,
    moves: Vec<Move>,
}

/// The command the user runs instead, in the project's directory.
fn command(tool: Tool, moves: &[Move]) -> String {
    match tool {
        Tool::Poetry => poetry::command(&poetry_upgrade(moves)),
        Tool::Pipenv => {
            let mut by: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for m in moves {
                by.entry(&m.category).or_default().push(m.spec.clone());
            }
            by.iter()
                .map(|(category, specs)| pipenv::command(category, specs))
                .collect::<Vec<_>>()
                .join(" && ")
        }
    }
}

/// The packages Poetry upgrades: the security fixes' (an edit needs none: `poetry lock` takes
/// the edited pyproject, and `poetry update --lock` too when there are fixes).
fn poetry_upgrade(moves: &[Move]) -> Vec<String> {
    moves
        .iter()
        .filter(|m| m.fix)
        .map(|m| m.name.clone())
        .collect()
}

/// Run the tool on a scratch copy of `project` for `job`, and return the lock it writes,
/// checked by the tool against the manifest repin writes.
async fn run_tool(project: &ToolProject, job: &Job) -> Result<String, ToolRelockError> {
    if let Some(why) = &project.why_not {
        return Err(ToolRelockError::NotRelockable(why.clone()));
    }
    let tool = project.tool;
    let scratch = Scratch::new(&format!("repin-{}-", tool.program()))?
        .with_credentials(project.credentials.clone());
    let (manifest_name, lock_name) = tool.files();
    scratch.write(manifest_name, &job.manifest)?;
    scratch.write(lock_name, &project.lock_text)?;
    match tool {
        Tool::Poetry => {
            let env = poetry::env(&scratch);
            let version = poetry::installed(&scratch).await?;
            let args = poetry::lock_args(&version, &poetry_upgrade(&job.moves));
            scratch.run("poetry", &args, &env).await?;
            // Poetry never writes the pyproject on `lock` or `update --lock`; written again all
            // the same, so the check is of the file repin writes.
            scratch.write(manifest_name, &job.manifest)?;
            scratch.run("poetry", &poetry::check_args(), &env).await?;
        }
        Tool::Pipenv => {
            let env = pipenv::env(&scratch);
            let mut by: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for m in &job.moves {
                by.entry(&m.category).or_default().push(m.spec.clone());
            }
            for (category, specs) in by {
                scratch
                    .run("pipenv", &pipenv::upgrade_args(category, &specs), &env)
                    .await?;
            }
            // `pipenv upgrade` may rewrite the Pipfile: the lock must match the one repin writes.
            scratch.write(manifest_name, &job.manifest)?;
            scratch.run("pipenv", &pipenv::verify_args(), &env).await?;
        }
    }
    read_back(&scratch, lock_name).map_err(|error| ToolRelockError::Verification {
        tool: tool.program(),
        why: crate::error::chain(&error),
    })
}

/// Read a lock the tool wrote back: it parses without errors, carries its hash, and pins each
/// moved package as wanted, a security fix at a version none of `advisories` affects (the tool
/// may have gone past the fixed version, to a release a later advisory affects). The re-lock
/// of `old` to it, with what moved.
fn verify(
    project: &ToolProject,
    old: &Manifest,
    text: String,
    moves: &[Move],
    advisories: Option<&AdvisoryIndex>,
) -> Result<Relock, ToolRelockError> {
    let fail = |why: String| ToolRelockError::Verification {
        tool: project.tool.program(),
        why,
    };
    let source = SourceFile::from_text(&project.lock, old.source.encoding(), text.clone());
    let new = crate::manifest::parse(source, project.tool.lock_kind());
    if let Some(error) = new.diagnostics.iter().find(|d| d.is_error()) {
        return Err(fail(error.to_string()));
    }
    let hashed = match &new.details {
        ManifestDetails::PoetryLock(file) => file.content_hash.is_some(),
        ManifestDetails::PipfileLock(file) => file.pipfile_hash.is_some(),
        _ => false,
    };
    if !hashed {
        return Err(fail("it has no hash of its manifest".into()));
    }
    for m in moves {
        let versions: Vec<Version> = new
            .dependencies
            .iter()
            .filter(|d| d.name == m.name)
            .filter_map(|d| d.python()?.pinned_version().cloned())
            .collect();
        if versions.is_empty() {
            return Err(fail(format!("it has no `{}`", m.name)));
        }
        if let Some(v) = versions.iter().find(|v| !m.wanted.contains(v)) {
            return Err(fail(format!(
                "it pins `{}` {v}, and {} is wanted",
                m.name,
                m.wanted.describe()
            )));
        }
        for v in versions.iter().filter(|_| m.fix) {
            let affecting = advisories.map_or_else(Vec::new, |a| a.affecting(&m.name, v));
            if !affecting.is_empty() {
                let ids: Vec<&str> = affecting.iter().map(|a| a.id()).collect();
                return Err(fail(format!(
                    "it pins `{}` {v} (the newest release the project allows), which {} affects",
                    m.name,
                    ids.join(", ")
                )));
            }
        }
    }
    Ok(Relock {
        text,
        moved: super::uv_lock::moved(old, &new),
        pins: edit::read_pins(&new),
        update_kind: None,
    })
}

/// Why an update is held back when the tool fails, with what to run instead.
async fn held_why(project: &ToolProject, moves: &[Move], error: &ToolRelockError) -> Message {
    let mut note = String::new();
    // The versions matter when Poetry ran and failed, not when it was not run (and it is not
    // started just to say so).
    let ran = !matches!(error, ToolRelockError::NotRelockable(_));
    if let Some(by) = project.generated_by.as_ref().filter(|_| ran) {
        let installed = match Scratch::new("repin-poetry-") {
            Ok(scratch) => poetry::installed(&scratch).await.ok(),
            Err(_) => None,
        };
        note = version_note(by, installed.as_deref());
    }
    held_message(&project.lock, &command(project.tool, moves), error, &note)
}

/// Why an update is held back when the tool failed to re-lock `lock` (`error`, then `note`),
/// with the `command` to run instead as a hint after the error's own.
fn held_message(lock: &Path, command: &str, error: &ToolRelockError, note: &str) -> Message {
    let mut why = crate::error::message(error).prefixed(&format!(
        "{} cannot be re-locked with it: ",
        crate::text::shown(lock)
    ));
    why.text.push_str(note);
    why.hint(format!(
        "make the change, then run `{command}` in {}",
        shown_dir(lock)
    ))
}

/// What a hold-back adds when the Poetry that wrote the lock (`by`) is not the one installed.
fn version_note(by: &str, installed: Option<&str>) -> String {
    match installed {
        Some(installed) if installed != by => format!(
            " (the lock was written by Poetry {by}, and Poetry {installed} is installed here)"
        ),
        _ => String::new(),
    }
}

/// The move of an edit of `manifest`'s dependency `index` by `change`, read from the edited
/// manifest; `None` when the edit leaves no version requirement to check.
fn edit_move(manifest: &Manifest, edited: &Manifest, index: usize) -> Option<Move> {
    let dependency = edited.dependencies.get(index)?;
    let requirement = dependency.python()?;
    let specifier = requirement.specifier.clone()?;
    let category = match &manifest.details {
        ManifestDetails::Pipfile(file) => file.categories.get(index).cloned().unwrap_or_default(),
        _ => String::new(),
    };
    let extras = if requirement.extras.is_empty() {
        String::new()
    } else {
        format!("[{}]", requirement.extras.join(","))
    };
    // As the Pipfile writes it (`Werkzeug`): Pipenv would otherwise add a second entry.
    let written = if requirement.written_name.is_empty() {
        dependency.name.as_str()
    } else {
        requirement.written_name.as_str()
    };
    let spec = match specifier.text.trim() {
        "*" | "" => format!("{written}{extras}"),
        text => format!("{written}{extras}{text}"),
    };
    Some(Move {
        name: dependency.name.clone(),
        category,
        spec,
        fix: false,
        wanted: Wanted::Specifier(specifier),
    })
}

/// The move of a security fix of the lock's pin `index` to `version`.
fn fix_move(lock: &Manifest, index: usize, version: &str) -> Option<Move> {
    let dependency = lock.dependencies.get(index)?;
    let category = match &lock.details {
        ManifestDetails::PipfileLock(file) => file
            .packages
            .get(index)
            .map(|p| pipenv::pipfile_category(&p.category).to_owned())
            .unwrap_or_default(),
        _ => String::new(),
    };
    let version = Version::from_str(version).ok()?;
    Some(Move {
        name: dependency.name.clone(),
        category,
        spec: format!("{}=={version}", dependency.name),
        fix: true,
        wanted: Wanted::AtLeast(version),
    })
}

impl Checker {
    /// The re-locks of every `poetry.lock` and `Pipfile.lock` (see the module's
    /// documentation): companions of the updates of its manifest, and security fixes of its
    /// pins as re-locks. Routine updates of its pins were held back before
    /// ([`super::hold_tool_lock_updates`]). A security fix is checked against `advisories`.
    pub(super) async fn relock_tool_locks(
        &self,
        manifests: &[&Manifest],
        projects: &HashMap<PathBuf, ToolProject>,
        advisories: Option<&AdvisoryIndex>,
        outcome: &mut Outcome,
    ) {
        if projects.is_empty() {
            return;
        }
        let by_path: BTreeMap<&Path, &Manifest> =
            manifests.iter().map(|m| (m.source.path(), *m)).collect();
        let lock_of_manifest: HashMap<&Path, &ToolProject> = projects
            .values()
            .map(|p| (p.manifest.as_path(), p))
            .collect();
        // (finding, update) → why it is held back; removed last first below.
        let mut held: BTreeMap<(usize, usize), Message> = BTreeMap::new();
        for f in 0..outcome.findings.len() {
            let file = outcome.findings[f].file.clone();
            let Some(manifest) = by_path.get(file.as_path()).copied() else {
                continue;
            };
            let index = outcome.findings[f].index;
            if let Some(project) = projects.get(&file) {
                // A pin of the lock: only security fixes are left here.
                for u in 0..outcome.findings[f].decision.updates.len() {
                    let update = &outcome.findings[f].decision.updates[u];
                    let Some(fix) = fix_move(manifest, index, &update.proposed) else {
                        held.insert(
                            (f, u),
                            Message::new(format!(
                                "{} is not a version repin can ask {} for",
                                update.proposed,
                                project.tool.program()
                            )),
                        );
                        continue;
                    };
                    let job = Job {
                        manifest: project.manifest_text.clone(),
                        moves: vec![fix.clone()],
                    };
                    let result = match run_tool(project, &job).await {
                        Ok(text) => verify(project, manifest, text, &job.moves, advisories),
                        Err(error) => Err(error),
                    };
                    match result {
                        Ok(mut relock) => {
                            let update = &mut outcome.findings[f].decision.updates[u];
                            let why = update_why(update);
                            for m in relock.moved.iter_mut().filter(|m| m.name == fix.name) {
                                m.why.clone_from(&why);
                            }
                            relock.update_kind = Some(UpdateKind::Lock);
                            // The tool moves the package to the newest release the project
                            // allows, which may be past the fix: the update says what is written.
                            if let Some(to) = relock
                                .moved
                                .iter()
                                .find(|m| m.name == fix.name)
                                .and_then(|m| m.to.clone())
                                .filter(|to| *to != update.proposed)
                            {
                                update.reason = format!(
                                    "{}; {} updates it to {to}, the newest release the project allows",
                                    update.reason,
                                    project.tool.name()
                                );
                                update.proposed = to;
                            }
                            let moves: Vec<String> =
                                relock.moved.iter().map(MovedPin::describe).collect();
                            update.reason = format!(
                                "{}; re-locked by {}: {}",
                                update.reason,
                                project.tool.program(),
                                moves.join(", ")
                            );
                            update.kind = UpdateKind::Lock;
                            update.change = Change::Relock(Box::new(relock));
                        }
                        Err(error) => {
                            held.insert((f, u), held_why(project, &job.moves, &error).await);
                        }
                    }
                }
                continue;
            }
            let Some(project) = lock_of_manifest.get(file.as_path()).copied() else {
                continue;
            };
            let Some(lock) = by_path.get(project.lock.as_path()).copied() else {
                continue;
            };
            // A requirement of the manifest: the lock moves with it, as its companion.
            for u in 0..outcome.findings[f].decision.updates.len() {
                let update = &outcome.findings[f].decision.updates[u];
                let request = Request {
                    index,
                    change: update.change.clone(),
                };
                let mut moves = Vec::new();
                let result = async {
                    let edited = edit::edit(manifest, &[request]).map_err(ToolRelockError::Edit)?;
                    moves.extend(edit_move(manifest, &edited.manifest, index));
                    let job = Job {
                        manifest: edited.manifest.source.text().to_owned(),
                        moves: moves.clone(),
                    };
                    let text = run_tool(project, &job).await?;
                    verify(project, lock, text, &moves, advisories)
                }
                .await;
                match result {
                    Ok(mut relock) => {
                        let update = &mut outcome.findings[f].decision.updates[u];
                        let name = moves.first().map_or("", |m| m.name.as_str());
                        let why = update_why(update);
                        for m in relock.moved.iter_mut().filter(|m| m.name == name) {
                            m.why.clone_from(&why);
                        }
                        relock.update_kind = Some(update.kind);
                        let described: Vec<String> =
                            relock.moved.iter().map(MovedPin::describe).collect();
                        if relock.text != project.lock_text {
                            update.reason = format!(
                                "{}; re-locks {} with it{}",
                                update.reason,
                                crate::text::shown(&project.lock),
                                if described.is_empty() {
                                    String::new()
                                } else {
                                    format!(": {}", described.join(", "))
                                }
                            );
                        }
                        update.companions.push(Companion {
                            file: project.lock.clone(),
                            relock,
                        });
                    }
                    Err(error) => {
                        held.insert((f, u), held_why(project, &moves, &error).await);
                    }
                }
            }
        }
        for ((f, u), why) in held.into_iter().rev() {
            // Said as a warning too: `apply` shows no held-back update.
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
    }

    /// One re-lock of the tool lock at `file` taking every update of `updates` (security
    /// fixes of its pins, by the index of their dependency) and every update of `inputs`
    /// (updates of requirements of its manifest): for `apply`, as
    /// [`Checker::combined_relock`] is for compiled locks.
    pub(super) async fn combined_tool_relock(
        &self,
        outcome: &Outcome,
        file: &Path,
        updates: &[(usize, &Update)],
        inputs: &[(&Manifest, usize, &Update)],
    ) -> Result<Relock, ToolRelockError> {
        let project = outcome.tool_projects.get(file).ok_or_else(|| {
            ToolRelockError::NotRelockable("it is not a tool lock repin read".into())
        })?;
        let lock = crate::manifest::parse(
            SourceFile::from_text(file, crate::text::Encoding::Utf8, project.lock_text.clone()),
            project.tool.lock_kind(),
        );
        let mut requests = Vec::new();
        let mut manifest: Option<&Manifest> = None;
        let mut kinds = Vec::new();
        for (m, index, update) in inputs {
            kinds.push(update.kind);
            requests.push(Request {
                index: *index,
                change: update.change.clone(),
            });
            manifest = Some(m);
        }
        let (text, mut moves) = match manifest {
            Some(m) => {
                let edited = edit::edit(m, &requests).map_err(ToolRelockError::Edit)?;
                let moves: Vec<Move> = inputs
                    .iter()
                    .filter_map(|(_, index, _)| edit_move(m, &edited.manifest, *index))
                    .collect();
                (edited.manifest.source.text().to_owned(), moves)
            }
            None => (project.manifest_text.clone(), Vec::new()),
        };
        for (index, update) in updates {
            moves.extend(fix_move(&lock, *index, &update.proposed));
            kinds.push(UpdateKind::Lock);
        }
        if moves.is_empty() {
            return Err(ToolRelockError::NotRelockable(
                "the re-lock was asked for nothing".into(),
            ));
        }
        let job = Job {
            manifest: text,
            moves,
        };
        let new = run_tool(project, &job).await?;
        // Its security fixes passed `relock_tool_locks`, which checked them against the advisories.
        let mut relock = verify(project, &lock, new, &job.moves, None)?;
        relock.update_kind = kinds.into_iter().max();
        Ok(relock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_back_says_when_another_poetry_wrote_the_lock() {
        assert_eq!(
            version_note("1.8.3", Some("2.2.1")),
            " (the lock was written by Poetry 1.8.3, and Poetry 2.2.1 is installed here)"
        );
        assert_eq!(version_note("2.2.1", Some("2.2.1")), "");
        assert_eq!(version_note("2.2.1", None), "");
    }

    #[test]
    fn a_hold_back_carries_the_tool_s_hint_and_the_command_as_typed_hints() {
        let missing = ToolRelockError::Process(ProcessError::Missing {
            program: "poetry".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
        let note = version_note("1.8.3", Some("2.2.1"));
        let why = held_message(Path::new("app/poetry.lock"), "poetry lock", &missing, &note);
        assert!(
            why.text.starts_with(
                "app/poetry.lock cannot be re-locked with it: `poetry` is not on PATH\n  Caused by: "
            ) && why
                .text
                .ends_with(" (the lock was written by Poetry 1.8.3, and Poetry 2.2.1 is installed here)"),
            "{why:?}"
        );
        assert!(!why.text.contains("hint"), "{why:?}");
        assert_eq!(
            why.hints,
            [
                "install poetry (`pip install poetry`) where repin runs, so the lock is re-locked with the update",
                "make the change, then run `poetry lock` in app"
            ]
        );
        let not = ToolRelockError::NotRelockable("its project is outside the repository".into());
        assert_eq!(
            held_message(Path::new("Pipfile.lock"), "pipenv lock", &not, ""),
            Message::new(
                "Pipfile.lock cannot be re-locked with it: its project is outside the repository"
            )
            .hint("make the change, then run `pipenv lock` in .")
        );
    }

    #[test]
    fn the_command_to_run_groups_pipenv_upgrades_by_category_and_names_poetry_fixes() {
        let edit = |name: &str, category: &str, spec: &str| Move {
            name: name.into(),
            category: category.into(),
            spec: spec.into(),
            fix: false,
            wanted: Wanted::AtLeast(Version::from_str("1").unwrap()),
        };
        let mut fix = edit("werkzeug", "packages", "werkzeug==3.0.6");
        fix.fix = true;
        assert_eq!(
            command(
                Tool::Pipenv,
                &[
                    edit("flask", "packages", "flask==3.0.3"),
                    edit("pytest", "dev-packages", "pytest==7.4.4")
                ]
            ),
            "pipenv upgrade --lock-only --categories dev-packages 'pytest==7.4.4' && pipenv upgrade --lock-only --categories packages 'flask==3.0.3'"
        );
        assert_eq!(
            command(Tool::Poetry, &[edit("flask", "", "flask")]),
            "poetry lock"
        );
        assert_eq!(
            command(Tool::Poetry, &[edit("flask", "", "flask"), fix]),
            "poetry update --lock werkzeug"
        );
    }

    #[test]
    fn a_fix_may_go_past_the_fixed_version_never_below_it() {
        let v = |s: &str| Version::from_str(s).unwrap();
        assert!(Wanted::AtLeast(v("3.0.6")).contains(&v("3.0.7")));
        assert!(Wanted::AtLeast(v("3.0.6")).contains(&v("3.0.6")));
        assert!(!Wanted::AtLeast(v("3.0.6")).contains(&v("3.0.5")));
    }
}
