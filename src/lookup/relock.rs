//! Updates of compiled locks made by re-locking: a lock whose header names a `.in` that is
//! found (inside the repository) and whose layout repin writes ([`crate::lock::format`]) is
//! never patched line by line. Each update of one of its pins (routine or security) becomes one
//! update of kind `lock` whose edit is the new lock: the `.in` resolved again for the lock's
//! Python with every other pin preferred as it is and the update's version as a constraint
//! (for a security fix, when that exact version does not fit, any version from it up), so only
//! what the update needs moves, parents with a bound that forbids it included. When nothing
//! fits, the update is held back with the requirements that block it.
//!
//! Locks that cannot be re-locked (no `.in` found, another tool's layout, an option repin does
//! not reproduce, no Python known) keep the line edits checked by [`super::lock_fit`], with a
//! note saying why they are not re-locked.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use pep440_rs::Version;

use super::{Checker, Outcome};
use crate::decide::{NoUpdate, Update};
use crate::lock::format::Style;
use crate::lock::input::Input;
use crate::lock::pypi::PypiSource;
use crate::lock::relock::{Existing, Job, Want, relock};
use crate::lock::{LockError, Target};
use crate::manifest::edit::Change;
use crate::manifest::workspace::Workspace;
use crate::manifest::{Manifest, ManifestDetails};
use crate::text::repo_fs::normalise;
use crate::versioning::UpdateKind;
use crate::vocab::Message;

/// Why a lock is not re-locked, or a re-lock could not be made. The messages are clauses
/// (`its input has errors: ...`): they follow the lock's name in the notes and warnings that
/// say them, through [`crate::error::chain`].
#[derive(Debug, thiserror::Error)]
pub enum RelockError {
    /// The lock's layout or options are not ones repin writes.
    #[error(transparent)]
    Style(#[from] crate::lock::format::StyleError),
    /// The repository of the lock cannot be found.
    #[error(transparent)]
    Root(#[from] crate::text::RepoFsError),
    /// The `.in` named in the header is not a file of the repository.
    #[error("its input `{0}` is not found")]
    InputNotFound(String),
    /// No Python known for the lock.
    #[error(
        "the Python it is for is unknown (its header names none, and none was found for the service)"
    )]
    NoPython,
    /// The `.in` has errors.
    #[error("its input has errors: {0}")]
    InputErrors(Box<crate::text::Diagnostic>),
    /// The lock cannot be made (an invalid target, an input it cannot read, a failed source).
    #[error(transparent)]
    Lock(#[from] LockError),
    /// No set of versions fits: PubGrub's explanation, its sentences joined by `; `.
    #[error("{0}")]
    Conflict(String),
    /// The file is not among the locks repin re-locks.
    #[error("the file is not a lock repin re-locks")]
    NotRelocked,
    /// The `.in` cannot be edited as the updates ask.
    #[error(transparent)]
    Input(#[from] super::input_locks::InputEditError),
    /// An update names no package of the lock.
    #[error("an update names no package of the lock")]
    NoPackage,
    /// An update's version is not a PEP 440 version.
    #[error(transparent)]
    Version(#[from] pep440_rs::VersionParseError),
    /// The indexes of the lock's input cannot be had.
    #[error(transparent)]
    Indexes(#[from] crate::registry::pypi::PypiError),
    /// `--no-index` leaves nothing to resolve against.
    #[error("`--no-index` is set, so there is no index to re-lock against")]
    NoIndex,
    /// The blocking task of the re-lock died.
    #[error("the re-lock failed: {0}")]
    Task(tokio::task::JoinError),
    /// uv, Poetry or Pipenv could not re-lock its lock.
    #[error(transparent)]
    Tool(Box<super::tool_lock::ToolRelockError>),
}

impl RelockError {
    /// A failed resolution: a conflict's explanation on one line, else the error itself.
    pub fn resolution(error: LockError) -> Self {
        let (causes, _) = error.details();
        if causes.is_empty() {
            RelockError::Lock(error)
        } else {
            RelockError::Conflict(causes.join("; "))
        }
    }
}

impl crate::error::Hint for RelockError {
    fn hints(&self) -> Vec<String> {
        match self {
            RelockError::Root(error) => error.hints(),
            RelockError::Lock(error) => error.hints(),
            RelockError::Indexes(error) => error.hints(),
            RelockError::Tool(error) => error.hints(),
            RelockError::Style(_)
            | RelockError::InputNotFound(_)
            | RelockError::NoPython
            | RelockError::InputErrors(_)
            | RelockError::Conflict(_)
            | RelockError::NotRelocked
            | RelockError::Input(_)
            | RelockError::NoPackage
            | RelockError::Version(_)
            | RelockError::NoIndex
            | RelockError::Task(_) => Vec::new(),
        }
    }
}

/// A compiled lock repin re-locks, with what it is made from.
#[derive(Debug)]
pub struct Relockable {
    /// The lock's path (as the workspace has it).
    pub path: PathBuf,
    /// The lock as read.
    pub existing: Existing,
    /// The `.in`'s requirements.
    pub input: Input,
    /// The `.in`'s path.
    pub input_path: PathBuf,
    /// The directory the lock's command was run in (`# via -r` paths are relative to it).
    pub base: PathBuf,
    /// The environment it is locked for.
    pub target: Target,
    /// The names of the lock's dependencies, by index.
    pub names: Vec<String>,
}

/// The directory the lock's command was run in: where the recorded output path leads to the
/// lock (`pip-compile -o services/api/requirements.txt` run at the root), else the lock's own.
fn command_dir(lock: &Path, output: Option<&str>) -> PathBuf {
    let dir = lock.parent().unwrap_or(Path::new("")).to_path_buf();
    let Some(output) = output else { return dir };
    let output = normalise(Path::new(output));
    if output.is_absolute() || output.starts_with("..") {
        return dir;
    }
    let mut base = normalise(lock);
    let mut tail: Vec<_> = output.components().collect();
    while let Some(last) = tail.pop() {
        if base.file_name() != Some(last.as_os_str()) {
            return dir;
        }
        base.pop();
    }
    base
}

/// Whether a lock can be re-locked, and with what; else why not (`None` when it is not a
/// compiled lock at all).
fn relockable(
    manifest: &Manifest,
    workspace: &Workspace,
    python: Option<&Version>,
) -> Option<Result<Relockable, RelockError>> {
    let header = match &manifest.details {
        ManifestDetails::Requirements(details) => details.lock.as_ref()?,
        // A `pylock.toml` repin wrote, from the input its header names; another tool's is
        // that tool's to re-lock.
        ManifestDetails::Pylock(file) if file.written_by_repin() => file.header.as_ref()?,
        _ => return None,
    };
    Some((|| {
        let style = Style::from_header(header)?;
        let path = manifest.source.path();
        let base = command_dir(path, style.output.as_deref());
        let input_path = normalise(&base.join(&style.inputs[0]));
        let root = workspace.root_of(path)?;
        // Only a regular file inside the lock's repository is read.
        root.regular_file(&input_path)
            .map_err(|_| RelockError::InputNotFound(style.inputs[0].clone()))?;
        let python = python.ok_or(RelockError::NoPython)?;
        // A patch level the lock's own header names (`--python 3.11.7`) is kept when its minor
        // is the target's: a re-lock does not widen the Python the lock was made for.
        let python = match crate::target::lock_header_python_as_written(manifest) {
            Some((written, _))
                if written.release().len() == 3
                    && written.release().get(..2) == python.release().get(..2) =>
            {
                written
            }
            _ => python.clone(),
        };
        let target = Target::linux_x86_64(&python.to_string())?;
        let loaded = Workspace::load(std::slice::from_ref(&input_path));
        if let Some(d) = loaded.all_diagnostics().into_iter().find(|d| d.is_error()) {
            return Err(RelockError::InputErrors(Box::new(d.clone())));
        }
        let input = crate::lock::input::read(&loaded, &input_path, &base)?;
        Ok(Relockable {
            path: path.to_path_buf(),
            existing: Existing::read(manifest, style),
            input,
            input_path,
            base,
            target,
            names: manifest
                .dependencies
                .iter()
                .map(|d| d.name.clone())
                .collect(),
        })
    })())
}

/// The compiled locks of `manifests` that are re-locked, by path; notes for those that are
/// not, and why not by path in `why_not`.
pub(super) fn relockables(
    manifests: &[&Manifest],
    workspace: &Workspace,
    targets: &crate::target::Targets,
    notes: &mut Vec<Message>,
    why_not: &mut HashMap<PathBuf, Message>,
) -> HashMap<PathBuf, Relockable> {
    let mut out = HashMap::new();
    for manifest in manifests {
        // The lock's own target (the stage installing it, its header, ...), unless nothing
        // said it: a lock is never re-resolved for an assumed Python.
        let python = targets
            .of(manifest.source.path())
            .filter(|t| t.from.is_known())
            .map(|t| t.python.clone());
        match relockable(manifest, workspace, python.as_ref()) {
            None => {}
            Some(Ok(r)) => {
                out.insert(r.path.clone(), r);
            }
            Some(Err(why)) => {
                let why = crate::error::message(&why);
                // A `pylock.toml` is never edited line by line: its updates are held back.
                let instead = if manifest.kind == crate::manifest::ManifestKind::Pylock {
                    "repin cannot re-lock it"
                } else {
                    "its updates are line edits, not re-locks"
                };
                notes.push(why.clone().prefixed(&format!(
                    "{}: {instead}: ",
                    crate::text::shown(manifest.source.path())
                )));
                why_not.insert(manifest.source.path().to_path_buf(), why);
            }
        }
    }
    out
}

/// One update to re-lock: where it is and what it asks.
struct Trigger {
    finding: usize,
    update: usize,
    want: Want,
}

/// The result of one trigger.
type Relocked = Result<crate::lock::relock::Relocked, LockError>;

impl Checker {
    /// One re-lock of `file` taking every update of `updates` (each a re-lock of it, by the
    /// index of its dependency) and every update of `inputs` (each an update of a requirement
    /// of its `.in`, with the file and the dependency's index, whose companion re-locks it), for
    /// `apply`: several re-locks of one file cannot be spliced.
    pub async fn combined_relock(
        &self,
        outcome: &Outcome,
        file: &Path,
        updates: &[(usize, &Update)],
        inputs: &[(&Manifest, usize, &Update)],
    ) -> Result<crate::manifest::edit::Relock, RelockError> {
        if outcome.tool_projects.contains_key(file) {
            return self
                .combined_tool_relock(outcome, file, updates, inputs)
                .await
                .map_err(|e| RelockError::Tool(Box::new(e)));
        }
        let lock = outcome.locks.get(file).ok_or(RelockError::NotRelocked)?;
        let mut wants = Vec::new();
        let mut kinds = Vec::new();
        // Why the `.in` packages move, as their own re-locks said.
        let mut whys: Vec<(String, String)> = Vec::new();
        for (manifest, index, update) in inputs {
            kinds.push(update.kind);
            let name = manifest
                .dependencies
                .get(*index)
                .map(|d| crate::vocab::normalize_name(&d.name))
                .unwrap_or_default();
            let why = update
                .companions
                .iter()
                .filter(|c| c.file == file)
                .flat_map(|c| &c.relock.moved)
                .find(|m| m.name == name)
                .map(|m| m.why.clone());
            whys.extend(why.map(|why| (name, why)));
        }
        let edits: Vec<(&Manifest, usize, &Change)> =
            inputs.iter().map(|(m, i, u)| (*m, *i, &u.change)).collect();
        let input = lock.input_with(&edits)?;
        for (index, update) in updates {
            let name = lock
                .names
                .get(*index)
                .and_then(|n| crate::lock::relock::package_name(n))
                .ok_or(RelockError::NoPackage)?;
            let version = Version::from_str(&update.proposed)?;
            let why = match &update.change {
                Change::Relock(relock) => {
                    kinds.extend(relock.update_kind);
                    relock
                        .moved
                        .iter()
                        .find(|m| m.name == name.as_ref())
                        .map(|m| m.why.clone())
                }
                _ => None,
            };
            wants.push(Want {
                why: why.unwrap_or_else(|| update_why(update)),
                name,
                version,
                // Each version was chosen already: exactly these.
                security: false,
            });
        }
        let indexes = self
            .indexes
            .indexes(&lock.input.options, Some(&lock.input_path))?;
        let source = PypiSource::new(
            self.pypi.clone(),
            indexes,
            tokio::runtime::Handle::current(),
            lock.target.python.clone(),
        )
        .with_preferences(lock.existing.pins.clone());
        let (path, existing, target) = (
            lock.path.clone(),
            lock.existing.clone(),
            lock.target.clone(),
        );
        let platforms = self.platforms_of(lock, file, &outcome.targets);
        let result = tokio::task::spawn_blocking(move || {
            let job = Job {
                path: &path,
                existing: &existing,
                input: &input,
                target: &target,
                platforms: &platforms,
            };
            relock(&source, job, &wants, false)
        })
        .await
        .map_err(RelockError::Task)?;
        let mut relock = result.map_err(RelockError::resolution)?;
        for moved in &mut relock.relock.moved {
            if let Some((_, why)) = whys.iter().find(|(name, _)| *name == moved.name) {
                moved.why = why.clone();
            }
        }
        relock.relock.update_kind = kinds.into_iter().max();
        Ok(relock.relock)
    }

    /// Lock maintenance: every lock of `locks` re-locked with every pin free to move, as one
    /// update of kind `lock` on its first dependency (planned on a branch of its own), when it
    /// moves anything.
    pub(super) async fn maintain_locks(
        &self,
        locks: &HashMap<PathBuf, Relockable>,
        period: crate::config::LockMaintenance,
        outcome: &mut Outcome,
    ) {
        let handle = tokio::runtime::Handle::current();
        let mut jobs = Vec::new();
        for (path, lock) in locks {
            let Some(finding) = outcome
                .findings
                .iter()
                .position(|f| &f.file == path && f.index == 0)
            else {
                continue;
            };
            let platforms = self.platforms_of(lock, path, &outcome.targets);
            let Ok(source) = self.relock_source(lock, &platforms, &handle) else {
                continue;
            };
            // Everything may move: every project's page is asked again.
            let source = source.refreshing(crate::registry::pypi::Refresh::All);
            let (path, existing, input, target) = (
                path.clone(),
                lock.existing.clone(),
                lock.input.clone(),
                lock.target.clone(),
            );
            jobs.push((
                finding,
                tokio::task::spawn_blocking(move || {
                    let job = Job {
                        path: &path,
                        existing: &existing,
                        input: &input,
                        target: &target,
                        platforms: &platforms,
                    };
                    let result = relock(&source, job, &[], true);
                    let gaps = match &result {
                        Ok(done) => moved_gaps(&source, &done.relock.moved, &platforms),
                        Err(_) => Gaps::default(),
                    };
                    result.map(|done| (done, gaps))
                }),
            ));
        }
        for (finding, job) in jobs {
            let file = crate::text::shown(&outcome.findings[finding].file);
            match job.await {
                // A pin moved to a release that installs on nothing of a platform in use.
                Ok(Ok((_, gaps))) if !gaps.blocking.is_empty() => {
                    outcome.warnings.push(Message::new(format!(
                        "{file}: lock maintenance is held back: its re-lock cannot be installed on a platform the image is built for: {}",
                        gaps.blocking.join("; ")
                    )));
                }
                Ok(Ok((done, gaps))) if !done.relock.moved.is_empty() => {
                    outcome.warnings.extend(
                        gaps.warnings
                            .into_iter()
                            .map(|why| format!("{file}: lock maintenance: {why}").into()),
                    );
                    let moves: Vec<String> = done
                        .relock
                        .moved
                        .iter()
                        .map(super::super::manifest::edit::MovedPin::describe)
                        .collect();
                    let n = done.relock.moved.len();
                    let mut relock = done.relock;
                    for moved in relock
                        .moved
                        .iter_mut()
                        .filter(|m| m.from.is_some() && m.to.is_some())
                    {
                        moved.why = format!("lock maintenance ({})", period.as_str());
                    }
                    let update = Update {
                        kind: UpdateKind::Lock,
                        current: "lock".into(),
                        proposed: format!(
                            "{n} {}",
                            if n == 1 { "pin moved" } else { "pins moved" }
                        ),
                        change: Change::Relock(Box::new(relock)),
                        fixes: Vec::new(),
                        unblocks: Vec::new(),
                        rides_with: None,
                        companions: Vec::new(),
                        yanked: None,
                        age: None,
                        reason: format!(
                            "lock maintenance ({}): every pin re-locked to the newest that fits: {}",
                            period.as_str(),
                            moves.join(", ")
                        ),
                    };
                    let decision = &mut outcome.findings[finding].decision;
                    decision.updates.push(update);
                    decision.none = None;
                }
                Ok(Ok(_)) => {}
                Ok(Err(error)) => outcome.warnings.push(
                    relock_failure(error)
                        .prefixed(&format!("{file}: lock maintenance could not re-lock it: ")),
                ),
                Err(e) => outcome
                    .warnings
                    .push(format!("{file}: lock maintenance failed: {e}").into()),
            }
        }
    }

    /// Turn every update of the pins of `locks` into a re-lock, or hold it back saying what
    /// blocks it.
    pub(super) async fn relock_updates(
        &self,
        locks: &HashMap<PathBuf, Relockable>,
        outcome: &mut Outcome,
    ) {
        if locks.is_empty() {
            return;
        }
        let mut triggers: BTreeMap<PathBuf, Vec<Trigger>> = BTreeMap::new();
        for (f, finding) in outcome.findings.iter().enumerate() {
            if !locks.contains_key(&finding.file) {
                continue;
            }
            for (u, update) in finding.decision.updates.iter().enumerate() {
                if update.kind == UpdateKind::Lock {
                    continue;
                }
                let (Ok(version), Some(name)) = (
                    Version::from_str(&update.proposed),
                    locks[&finding.file]
                        .names
                        .get(finding.index)
                        .and_then(|n| crate::lock::relock::package_name(n)),
                ) else {
                    continue;
                };
                triggers
                    .entry(finding.file.clone())
                    .or_default()
                    .push(Trigger {
                        finding: f,
                        update: u,
                        want: Want {
                            name,
                            version,
                            security: update.is_security(),
                            why: update_why(update),
                        },
                    });
            }
        }
        let handle = tokio::runtime::Handle::current();
        let mut jobs = Vec::new();
        for (path, triggers) in triggers {
            let lock = &locks[&path];
            let platforms = self.platforms_of(lock, &path, &outcome.targets);
            let source = match self.relock_source(lock, &platforms, &handle) {
                Ok(source) => source.with_preferences(lock.existing.pins.clone()),
                Err(why) => {
                    hold_all(outcome, &triggers, &crate::error::message(&why));
                    continue;
                }
            };
            let source = Arc::new(source);
            let existing = lock.existing.clone();
            let input = lock.input.clone();
            let target = lock.target.clone();
            let wants: Vec<Want> = triggers.iter().map(|t| t.want.clone()).collect();
            let job = tokio::task::spawn_blocking(move || {
                let job = Job {
                    path: &path,
                    existing: &existing,
                    input: &input,
                    target: &target,
                    platforms: &platforms,
                };
                let results: Vec<(Relocked, Gaps)> = wants
                    .iter()
                    .map(|w| {
                        let result = relock(source.as_ref(), job, std::slice::from_ref(w), false);
                        let gaps = match &result {
                            Ok(done) => moved_gaps(&source, &done.relock.moved, &platforms),
                            Err(_) => Gaps::default(),
                        };
                        (result, gaps)
                    })
                    .collect();
                (path, results)
            });
            jobs.push((job, triggers));
        }
        let mut held: Vec<(usize, usize, Message)> = Vec::new();
        let mut warnings: Vec<Message> = Vec::new();
        for (job, triggers) in jobs {
            let (path, results) = match job.await {
                Ok(done) => done,
                Err(e) => {
                    hold_all(
                        outcome,
                        &triggers,
                        &Message::new(format!("the re-lock failed: {e}")),
                    );
                    continue;
                }
            };
            for (trigger, (result, gaps)) in triggers.iter().zip(results) {
                let update =
                    &mut outcome.findings[trigger.finding].decision.updates[trigger.update];
                match result {
                    // A pin moved to a release that installs on none of a platform in use.
                    Ok(_) if !gaps.blocking.is_empty() => {
                        held.push((
                            trigger.finding,
                            trigger.update,
                            Message::new(format!(
                                "the re-lock for {} {} cannot be installed on a platform the image is built for: {}",
                                trigger.want.name,
                                trigger.want.version,
                                gaps.blocking.join("; ")
                            )),
                        ));
                    }
                    Ok(done) => {
                        warnings.extend(gaps.warnings.into_iter().map(|why| {
                            Message::new(format!(
                                "{}: the re-lock for {} {}: {why}",
                                crate::text::shown(&path),
                                trigger.want.name,
                                trigger.want.version
                            ))
                        }));
                        let proposed = done
                            .resolution
                            .packages
                            .iter()
                            .find(|p| p.name == trigger.want.name)
                            .map(|p| p.version.to_string());
                        let Some(proposed) = proposed else {
                            held.push((
                                trigger.finding,
                                trigger.update,
                                Message::new(format!(
                                    "{} {} is not in the re-lock",
                                    trigger.want.name, trigger.want.version
                                )),
                            ));
                            continue;
                        };
                        let moves: Vec<String> = done
                            .relock
                            .moved
                            .iter()
                            .map(super::super::manifest::edit::MovedPin::describe)
                            .collect();
                        update.reason = format!(
                            "{}; re-locked from {}: {}",
                            update.reason,
                            crate::text::shown(&locks[&path].input_path)
                                .rsplit('/')
                                .next()
                                .unwrap_or_default(),
                            moves.join(", ")
                        );
                        update.proposed = proposed;
                        let mut relock = done.relock;
                        relock.update_kind = Some(update.kind);
                        update.kind = UpdateKind::Lock;
                        update.change = Change::Relock(Box::new(relock));
                    }
                    Err(error) => {
                        held.push((
                            trigger.finding,
                            trigger.update,
                            relock_failure(error).prefixed(&format!(
                                "{} {} cannot be re-locked into this lock: ",
                                trigger.want.name, trigger.want.version
                            )),
                        ));
                    }
                }
            }
        }
        outcome.warnings.extend(warnings);
        // Newest first, so removing an update keeps the indexes of the others valid.
        held.sort();
        for (f, u, why) in held.into_iter().rev() {
            hold_back(outcome, f, u, why);
        }
    }
}

/// What the pins a re-lock moves to lack on the platforms in use.
#[derive(Debug, Default)]
pub(super) struct Gaps {
    /// Pins nothing of which installs on a platform: the re-lock is not proposed.
    pub blocking: Vec<String>,
    /// Pins pip builds from their sdist on a platform: said as warnings.
    pub warnings: Vec<String>,
}

/// For each pin a re-lock moves to, each platform in use it has no wheel for.
pub(super) fn moved_gaps(
    source: &PypiSource,
    moved: &[crate::manifest::edit::MovedPin],
    platforms: &[crate::lock::wheels::Platform],
) -> Gaps {
    let pins: Vec<(String, String, crate::lock::wheels::ReleaseFiles)> = moved
        .iter()
        .filter_map(|m| {
            let to = m.to.as_ref()?;
            let name = pep508_rs::PackageName::from_str(&m.name).ok()?;
            let version = Version::from_str(to).ok()?;
            Some((
                m.name.clone(),
                to.clone(),
                source.release_files(&name, &version)?,
            ))
        })
        .collect();
    let mut gaps = Gaps::default();
    for (platform, name, version, gap) in crate::lock::wheels::platform_gaps(&pins, platforms) {
        let text = crate::lock::wheels::describe_gap(platform, name, version, &gap);
        match gap {
            crate::lock::wheels::Gap::NothingInstalls => gaps.blocking.push(text),
            crate::lock::wheels::Gap::BuildsFromSource => gaps.warnings.push(text),
        }
    }
    gaps
}

/// The update's own reason, as the first words of the re-lock's.
pub(super) fn update_why(update: &Update) -> String {
    if update.is_security() {
        format!("fixes {}", update.fixes.join(", "))
    } else {
        format!("{} update", update.kind)
    }
}

/// Why a re-lock failed: a conflict's explanation, else the error's chain, with its hints
/// apart.
pub(super) fn relock_failure(error: LockError) -> Message {
    crate::error::message(&RelockError::resolution(error))
}

impl Checker {
    /// The platforms the pins of `lock` (at `path`) are installed on: the image may be built
    /// for more than the one the lock is resolved for.
    pub(super) fn platforms_of(
        &self,
        lock: &Relockable,
        path: &Path,
        targets: &crate::target::Targets,
    ) -> Vec<crate::lock::wheels::Platform> {
        crate::lock::wheels::platforms_for(
            &lock.target.python,
            targets.of(path),
            &self.config.config.images.platforms,
        )
    }

    /// The package source a re-lock of `lock` resolves against: the indexes its input's
    /// options name, or why there is none to re-lock against.
    pub(super) fn relock_source(
        &self,
        lock: &Relockable,
        platforms: &[crate::lock::wheels::Platform],
        handle: &tokio::runtime::Handle,
    ) -> Result<PypiSource, RelockError> {
        match self
            .indexes
            .indexes(&lock.input.options, Some(&lock.input_path))
        {
            Ok(indexes) if !indexes.is_empty() => {
                let source = PypiSource::new(
                    self.pypi.clone(),
                    indexes,
                    handle.clone(),
                    lock.target.python.clone(),
                );
                // A `pylock.toml` records every locked release's files: kept from the pages
                // the resolution reads, not read again.
                Ok(match lock.existing.layout {
                    crate::lock::relock::Layout::Pylock => source.keeping_files(
                        crate::lock::pylock::lock_platforms(platforms, &lock.target),
                    ),
                    crate::lock::relock::Layout::Compiled => source,
                })
            }
            Ok(_) => Err(RelockError::NoIndex),
            Err(e) => Err(RelockError::Indexes(e)),
        }
    }
}

fn hold_all(outcome: &mut Outcome, triggers: &[Trigger], why: &Message) {
    let mut seen = HashSet::new();
    for t in triggers.iter().rev() {
        if seen.insert((t.finding, t.update)) {
            hold_back(
                outcome,
                t.finding,
                t.update,
                why.clone().prefixed(&format!(
                    "{} {} cannot be re-locked: ",
                    t.want.name, t.want.version
                )),
            );
        }
    }
}

/// Take update `u` out of finding `f`, and say why it is held back.
pub(super) fn hold_back(outcome: &mut Outcome, f: usize, u: usize, why: impl Into<Message>) {
    let why = why.into();
    let finding = &mut outcome.findings[f];
    if u >= finding.decision.updates.len() {
        return;
    }
    let update = finding.decision.updates.remove(u);
    if finding.decision.updates.is_empty() && finding.decision.none.is_none() {
        finding.decision.none = Some(NoUpdate::HeldBack {
            version: update.proposed,
            why,
        });
    } else {
        finding.decision.notes.push(why);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("Cannot look up `flask` on the index")]
    struct IndexDown;

    impl crate::error::Hint for IndexDown {
        fn hints(&self) -> Vec<String> {
            vec!["check the index URL".into()]
        }
    }

    fn update(proposed: &str) -> Update {
        Update {
            kind: UpdateKind::Minor,
            current: "==3.0.0".into(),
            proposed: proposed.into(),
            change: Change::PythonVersion {
                version: proposed.into(),
                hashes: None,
            },
            fixes: Vec::new(),
            unblocks: Vec::new(),
            rides_with: None,
            companions: Vec::new(),
            yanked: None,
            age: None,
            reason: String::new(),
        }
    }

    #[test]
    fn an_update_held_back_beside_another_is_a_note_with_its_hints_typed() {
        let mut outcome = Outcome::default();
        outcome.findings.push(super::super::Finding {
            file: PathBuf::from("requirements.txt"),
            index: 0,
            decision: crate::decide::Decision::updates(vec![update("3.1.0"), update("4.0.0")]),
        });
        let why = Message::new("flask 4.0.0 cannot be re-locked").hint("check the index URL");
        hold_back(&mut outcome, 0, 1, why.clone());
        let decision = &outcome.findings[0].decision;
        assert_eq!(decision.updates.len(), 1);
        assert_eq!(decision.notes, std::slice::from_ref(&why));
        // The last one: the finding is held back with the same message.
        hold_back(&mut outcome, 0, 0, why.clone());
        assert_eq!(
            outcome.findings[0].decision.none,
            Some(NoUpdate::HeldBack {
                version: "3.1.0".into(),
                why,
            })
        );
    }

    #[test]
    fn a_failed_re_lock_keeps_the_source_s_hints_typed() {
        let why = relock_failure(LockError::Source {
            package: "flask".into(),
            source: crate::lock::Failure::new(IndexDown),
        });
        assert_eq!(
            why.text,
            "Cannot look up `flask`\n  Caused by: Cannot look up `flask` on the index"
        );
        assert_eq!(why.hints, ["check the index URL"]);
        // Held back with a prefix, the hint stays apart from the sentence.
        let held = why.prefixed("flask 3.1 cannot be re-locked into this lock: ");
        assert!(
            held.text
                .starts_with("flask 3.1 cannot be re-locked into this lock: Cannot")
        );
        assert_eq!(held.hints, ["check the index URL"]);
    }

    #[test]
    fn the_command_directory_is_where_the_output_path_leads() {
        let lock = Path::new("repo/services/api/requirements.txt");
        assert_eq!(
            command_dir(lock, Some("services/api/requirements.txt")),
            PathBuf::from("repo")
        );
        assert_eq!(
            command_dir(lock, Some("requirements.txt")),
            PathBuf::from("repo/services/api")
        );
        assert_eq!(command_dir(lock, None), PathBuf::from("repo/services/api"));
        // An output path that does not lead to the lock: the lock's own directory.
        assert_eq!(
            command_dir(lock, Some("other/requirements.txt")),
            PathBuf::from("repo/services/api")
        );
        assert_eq!(
            command_dir(lock, Some("../x/requirements.txt")),
            PathBuf::from("repo/services/api")
        );
    }
}
