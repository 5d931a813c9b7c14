//! A `.in` file and the locks compiled from it must not disagree, so an update of a requirement
//! of the `.in` (a range, or a pin) and the re-lock of each lock compiled from it are one update:
//! the update carries, as companions ([`crate::decide::Companion`]), the re-lock of every lock
//! repin re-locks ([`super::relock`]) whose input reads the file, resolved from the `.in` as the
//! update leaves it with every other pin of the lock preferred as it is. A lock that does not
//! need to move (its pin fits the new range) is not a companion. When a re-lock fails (nothing
//! fits the new range with the rest of the `.in`), the update is held back with the
//! requirements that block it: it is never proposed alone.
//!
//! A lock that cannot be re-locked (no Python known, another tool's layout, an option repin does
//! not reproduce) and that a proposed range contradicts gets a warning saying why the two cannot
//! be one update, and the re-lock to run after taking it.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use pep440_rs::VersionSpecifiers;

use super::relock::{Relockable, hold_back, moved_gaps, relock_failure, update_why};
use super::{Checker, Outcome};
use crate::decide::Companion;
use crate::lock::input::Input;
use crate::lock::relock::{Job, relock};
use crate::manifest::edit::{self, Change, Request};
use crate::manifest::{Manifest, ManifestDetails};
use crate::text::repo_fs::normalise;
use crate::vocab::Message;

/// The file name of `path`, for messages and hints.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |f| f.to_string_lossy().into_owned())
}

impl Relockable {
    /// `file` as the lock's `# via -r` annotations name it (and [`Input`] records it).
    fn origin_of(&self, file: &Path) -> String {
        crate::lock::input::relative(&crate::text::repo_fs::normalise(file), &self.base)
    }

    /// Whether the lock is made from `file`: the `.in` itself, or a file it includes.
    pub fn reads(&self, file: &Path) -> bool {
        let origin = self.origin_of(file);
        self.input
            .requirements
            .iter()
            .chain(&self.input.constraints)
            .any(|d| d.origin == origin)
    }

    /// The lock's input as it reads once `edits` are made (each: the file read, the index of
    /// one of its dependencies, and its change). Each edit is made and verified as `apply`
    /// makes it, so the re-lock is made from the very requirement that is written.
    pub fn input_with(
        &self,
        edits: &[(&Manifest, usize, &Change)],
    ) -> Result<Input, InputEditError> {
        let mut input = self.input.clone();
        for &(manifest, index, change) in edits {
            let request = Request {
                index,
                change: change.clone(),
            };
            let edited = edit::edit(manifest, &[request])?;
            let old = manifest
                .dependencies
                .get(index)
                .ok_or(InputEditError::NoDependency)?;
            let new = edited
                .manifest
                .dependencies
                .get(index)
                .and_then(|d| d.python())
                .ok_or(InputEditError::NotPython)?;
            let requirement = crate::lock::input::to_pep508(new)?;
            let origin = self.origin_of(manifest.source.path());
            // The n-th requirement of that name in the file (a name may be listed once per
            // marker).
            let nth = manifest.dependencies[..index]
                .iter()
                .filter(|d| d.name == old.name)
                .count();
            let slot = input
                .requirements
                .iter_mut()
                .chain(input.constraints.iter_mut())
                .filter(|d| d.origin == origin && d.requirement.name == requirement.name)
                .nth(nth)
                .ok_or_else(|| InputEditError::NotInInput(old.name.clone()))?;
            slot.requirement = requirement;
        }
        Ok(input)
    }
}

/// Why the input of a lock cannot be had as an update leaves it.
#[derive(Debug, thiserror::Error)]
pub enum InputEditError {
    /// The edit itself was refused.
    #[error(transparent)]
    Edit(#[from] edit::EditError),
    /// The update's index is not a dependency of its file.
    #[error("the update names no dependency of its file")]
    NoDependency,
    /// The edit made the dependency something else than a Python requirement.
    #[error("the edited requirement is not a Python requirement")]
    NotPython,
    /// The edited requirement is not a valid PEP 508 requirement.
    #[error(transparent)]
    Requirement(#[from] crate::registry::pypi::metadata::MetadataError),
    /// The requirement is not among the lock's input.
    #[error("`{0}` is not in the lock's input")]
    NotInInput(String),
}

impl crate::error::Hint for InputEditError {
    fn hints(&self) -> Vec<String> {
        match self {
            InputEditError::Edit(error) => error.hints(),
            InputEditError::Requirement(error) => error.hints(),
            InputEditError::NoDependency
            | InputEditError::NotPython
            | InputEditError::NotInInput(_) => Vec::new(),
        }
    }
}

/// The specifier an update leaves in the `.in` (`>=3.1.3,<4`, `==3.1.3`), for people.
fn asked(change: &Change) -> Option<String> {
    match change {
        Change::PythonSpecifier { specifier, .. } => Some(specifier.clone()),
        Change::PythonVersion { version, .. } => Some(format!("=={version}")),
        _ => None,
    }
}

/// One update of a `.in` and one lock made from it.
struct Trigger {
    finding: usize,
    update: usize,
    /// The input as the update leaves it (or why it cannot be made; shared with the re-lock
    /// job, which says it).
    input: Result<Input, Arc<InputEditError>>,
    /// `flask>=3.1.3,<4`.
    asked: String,
    /// Why the package's own pin moves, for the list of moved pins.
    why: String,
}

impl Checker {
    /// Give every update of a requirement of a `.in` the re-locks of the locks made from it
    /// (see the module's documentation), or hold it back saying what blocks it.
    pub(super) async fn relock_inputs(
        &self,
        manifests: &[&Manifest],
        locks: &HashMap<PathBuf, Relockable>,
        outcome: &mut Outcome,
    ) {
        if locks.is_empty() {
            return;
        }
        let by_path: BTreeMap<&Path, &Manifest> =
            manifests.iter().map(|m| (m.source.path(), *m)).collect();
        // By lock path, sorted: the same run always gives the same messages.
        let ordered: BTreeMap<&PathBuf, &Relockable> = locks.iter().collect();
        let mut triggers: BTreeMap<PathBuf, Vec<Trigger>> = BTreeMap::new();
        for (f, finding) in outcome.findings.iter().enumerate() {
            if locks.contains_key(&finding.file) {
                continue;
            }
            let Some(manifest) = by_path.get(finding.file.as_path()) else {
                continue;
            };
            let Some(dependency) = manifest.dependencies.get(finding.index) else {
                continue;
            };
            for (path, lock) in &ordered {
                if !lock.reads(&finding.file) {
                    continue;
                }
                for (u, update) in finding.decision.updates.iter().enumerate() {
                    let Some(specifier) = asked(&update.change) else {
                        continue;
                    };
                    let asked = format!("{}{specifier}", dependency.name);
                    triggers.entry((*path).clone()).or_default().push(Trigger {
                        finding: f,
                        update: u,
                        input: lock
                            .input_with(&[(manifest, finding.index, &update.change)])
                            .map_err(Arc::new),
                        why: format!(
                            "{}: `{asked}` in {}",
                            update_why(update),
                            file_name(&finding.file)
                        ),
                        asked,
                    });
                }
            }
        }
        let handle = tokio::runtime::Handle::current();
        let mut jobs = Vec::new();
        // Why each update is held back, by (finding, update): one update may fail for
        // several locks.
        let mut held: BTreeMap<(usize, usize), Vec<Message>> = BTreeMap::new();
        for (path, triggers) in triggers {
            let lock = &locks[&path];
            let name = crate::text::shown(&path);
            let platforms = self.platforms_of(lock, &path, &outcome.targets);
            let source = match self.relock_source(lock, &platforms, &handle) {
                Ok(source) => Arc::new(source.with_preferences(lock.existing.pins.clone())),
                Err(why) => {
                    for t in &triggers {
                        held.entry((t.finding, t.update)).or_default().push(
                            crate::error::message(&why).prefixed(&format!(
                                "`{}` cannot be re-locked into {name}: ",
                                t.asked
                            )),
                        );
                    }
                    continue;
                }
            };
            let existing = lock.existing.clone();
            let target = lock.target.clone();
            let inputs: Vec<Result<Input, Arc<InputEditError>>> =
                triggers.iter().map(|t| t.input.clone()).collect();
            let lock_path = path.clone();
            let job = tokio::task::spawn_blocking(move || {
                inputs
                    .iter()
                    .map(|input| -> Result<_, Message> {
                        let input = input
                            .as_ref()
                            .map_err(|e| crate::error::message(e.as_ref()))?;
                        let job = Job {
                            path: &path,
                            existing: &existing,
                            input,
                            target: &target,
                            platforms: &platforms,
                        };
                        let done =
                            relock(source.as_ref(), job, &[], false).map_err(relock_failure)?;
                        let gaps = moved_gaps(&source, &done.relock.moved, &platforms);
                        Ok((done, gaps))
                    })
                    .collect::<Vec<_>>()
            });
            jobs.push((lock_path, name, job, triggers));
        }
        for (lock_path, name, job, triggers) in jobs {
            let results = match job.await {
                Ok(results) => results,
                Err(e) => {
                    for t in &triggers {
                        held.entry((t.finding, t.update))
                            .or_default()
                            .push(Message::new(format!(
                                "`{}` could not be re-locked into {name}: {e}",
                                t.asked
                            )));
                    }
                    continue;
                }
            };
            for (trigger, result) in triggers.into_iter().zip(results) {
                let (done, gaps) = match result {
                    // A pin moved to a release that installs on nothing of a platform in use.
                    Ok((_, gaps)) if !gaps.blocking.is_empty() => {
                        held.entry((trigger.finding, trigger.update))
                            .or_default()
                            .push(Message::new(format!(
                                "`{}` re-locks {name} into what cannot be installed on a platform the image is built for: {}",
                                trigger.asked,
                                gaps.blocking.join("; ")
                            )));
                        continue;
                    }
                    Ok(done) => done,
                    Err(why) => {
                        held.entry((trigger.finding, trigger.update))
                            .or_default()
                            .push(why.prefixed(&format!(
                                "`{}` cannot be re-locked into {name}: ",
                                trigger.asked
                            )));
                        continue;
                    }
                };
                // The lock's pins fit the update as they are: it does not move.
                if done.relock.moved.is_empty() {
                    continue;
                }
                outcome
                    .warnings
                    .extend(gaps.warnings.into_iter().map(|why| {
                        format!("{name}: the re-lock for `{}`: {why}", trigger.asked).into()
                    }));
                let finding = &mut outcome.findings[trigger.finding];
                let dependency = by_path
                    .get(finding.file.as_path())
                    .and_then(|m| m.dependencies.get(finding.index))
                    .map(|d| crate::vocab::normalize_name(&d.name));
                let update = &mut finding.decision.updates[trigger.update];
                let mut relock = done.relock;
                for moved in relock
                    .moved
                    .iter_mut()
                    .filter(|m| Some(&m.name) == dependency.as_ref())
                {
                    moved.why = trigger.why.clone();
                }
                relock.update_kind = Some(update.kind);
                let moves: Vec<String> = relock
                    .moved
                    .iter()
                    .map(super::super::manifest::edit::MovedPin::describe)
                    .collect();
                update.reason = format!(
                    "{}; re-locks {name} with it: {}",
                    update.reason,
                    moves.join(", ")
                );
                update.companions.push(Companion {
                    file: lock_path.clone(),
                    relock,
                });
            }
        }
        // Last first, so removing an update keeps the indexes of the others valid.
        for ((f, u), whys) in held.into_iter().rev() {
            let finding = &mut outcome.findings[f];
            if let Some(update) = finding.decision.updates.get_mut(u) {
                // A companion made for another lock goes with the update.
                update.companions.clear();
            }
            hold_back(outcome, f, u, Message::joined(&whys, "; "));
        }
    }
}

/// The compiled locks of `manifests` by the input file their header names.
fn locks_by_input<'a>(manifests: &[&'a Manifest]) -> BTreeMap<PathBuf, Vec<&'a Manifest>> {
    let mut locks: BTreeMap<PathBuf, Vec<&Manifest>> = BTreeMap::new();
    for manifest in manifests {
        let ManifestDetails::Requirements(details) = &manifest.details else {
            continue;
        };
        let Some(input) = details.lock.as_ref().and_then(super::lock_fit::lock_input) else {
            continue;
        };
        let dir = manifest.source.path().parent().unwrap_or(Path::new(""));
        locks
            .entry(normalise(&dir.join(input)))
            .or_default()
            .push(manifest);
    }
    locks
}

/// Warn about each proposed range of a `.in` that a lock compiled from it contradicts when
/// that lock is not re-locked (`why_not`: why, by lock path), so the two cannot be one update.
pub(super) fn warn_on_contradicted_locks(
    manifests: &[&Manifest],
    relocked: &HashMap<PathBuf, Relockable>,
    why_not: &HashMap<PathBuf, Message>,
    outcome: &mut Outcome,
) {
    let locks = locks_by_input(manifests);
    if locks.is_empty() {
        return;
    }
    let by_path: BTreeMap<&Path, &Manifest> =
        manifests.iter().map(|m| (m.source.path(), *m)).collect();
    let mut warnings = Vec::new();
    for finding in &outcome.findings {
        let Some(locks) = locks.get(&normalise(&finding.file)) else {
            continue;
        };
        let Some(dependency) = by_path
            .get(finding.file.as_path())
            .and_then(|m| m.dependencies.get(finding.index))
        else {
            continue;
        };
        for update in &finding.decision.updates {
            let Ok(range) = VersionSpecifiers::from_str(&update.proposed) else {
                continue;
            };
            for lock in locks {
                let lock_path = lock.source.path();
                // A re-locked lock moves with the update (its companion) or holds it back.
                if relocked.contains_key(lock_path) {
                    continue;
                }
                let pinned = lock
                    .dependencies
                    .iter()
                    .filter(|d| d.name == dependency.name)
                    .find_map(|d| d.python()?.pinned_version().cloned());
                let Some(pinned) = pinned else { continue };
                if range.contains(&pinned) {
                    continue;
                }
                let not_relocked = Message::new("it is not a lock repin re-locks");
                let why = why_not.get(lock_path).unwrap_or(&not_relocked);
                warnings.push(contradicted(
                    &finding.file,
                    lock_path,
                    &dependency.name,
                    update,
                    &pinned,
                    why,
                ));
            }
        }
    }
    outcome.warnings.extend(warnings);
}

/// The warning of an update of `name` in the `.in` file `input` whose range contradicts the
/// `pinned` version of the lock compiled from it, which cannot be re-locked (`why`).
fn contradicted(
    input: &Path,
    lock: &Path,
    name: &str,
    update: &crate::decide::Update,
    pinned: &impl std::fmt::Display,
    why: &Message,
) -> Message {
    // The hints of why the lock cannot be re-locked first, as when they were part of its text.
    Message {
        text: format!(
            "{}: `{name}{}` (a {} update) contradicts its lock {}, which pins {name} {pinned}, and the two cannot be one update: the lock cannot be re-locked: {}",
            crate::text::shown(input),
            update.proposed,
            update.kind,
            crate::text::shown(lock),
            why.text,
        ),
        hints: why.hints.clone(),
    }
    .hint(format!(
        "after taking it, re-lock: `repin lock {} -o {} --upgrade-package {name}`",
        file_name(input),
        file_name(lock),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contradicted_lock_warns_with_the_re_lock_as_a_typed_hint() {
        let update = crate::decide::Update {
            kind: crate::versioning::UpdateKind::Major,
            current: ">=2,<3".into(),
            proposed: ">=3.0.3,<4".into(),
            change: Change::PythonSpecifier {
                specifier: ">=3.0.3,<4".into(),
                hashes: None,
            },
            fixes: Vec::new(),
            unblocks: Vec::new(),
            rides_with: None,
            companions: Vec::new(),
            yanked: None,
            age: None,
            reason: String::new(),
        };
        let warning = contradicted(
            Path::new("app/requirements.in"),
            Path::new("app/requirements.txt"),
            "flask",
            &update,
            &"2.2.2",
            &Message::new("its input cannot be read").hint("commit requirements.in"),
        );
        assert_eq!(
            warning.text,
            "app/requirements.in: `flask>=3.0.3,<4` (a major update) contradicts its lock app/requirements.txt, which pins flask 2.2.2, and the two cannot be one update: the lock cannot be re-locked: its input cannot be read"
        );
        // Why the lock is not re-locked keeps its hint, typed, before the re-lock's.
        assert_eq!(
            warning.hints,
            [
                "commit requirements.in",
                "after taking it, re-lock: `repin lock requirements.in -o requirements.txt --upgrade-package flask`"
            ]
        );
    }

    #[test]
    fn paths_are_compared_lexically() {
        assert_eq!(
            normalise(Path::new("./fixtures/demo/../demo/requirements.in")),
            PathBuf::from("fixtures/demo/requirements.in")
        );
    }
}
