//! The `apply` job: after the lookups, write the selected updates into the repository's files,
//! each with the locks re-locked with it, all of a group or none.
//!
//! Several re-locks of one lock file are first combined into one re-lock (the file is replaced
//! once); then the edits are planned and verified ([`crate::apply::plan_edits`]) and written in
//! groups ([`crate::apply::groups`]): an update and the files that go with it are written
//! together or not at all. What was written, what is due next and what failed come back as data
//! for the front end to show.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use super::check::Run;
use super::select::{Selection, dependency_name};
use crate::apply::{self, EditFailure, FileEdit};
use crate::decide::Update;
use crate::manifest::edit::Change;
use crate::text::shown;
use crate::versioning::UpdateKind;
use crate::vocab::normalize_name;

/// One update written into a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The file.
    pub file: PathBuf,
    /// The dependency, as read.
    pub name: String,
    /// Its value before.
    pub current: String,
    /// Its value now.
    pub proposed: String,
    /// The kind of update.
    pub kind: UpdateKind,
    /// The locks re-locked with it, each with the pins that moved in it (`flask 3.1.0 → 3.1.1`).
    pub relocked: Vec<(PathBuf, Vec<String>)>,
}

/// Something the user should know after an `apply`, beyond what was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// A pin update of a lock not taken, because the update of the lock's `.in` moves the
    /// same package in it.
    Superseded {
        /// The lock.
        lock: PathBuf,
        /// The package.
        name: String,
        /// The version the pin update proposed.
        proposed: String,
        /// Its kind.
        kind: UpdateKind,
    },
    /// Another update of a dependency just updated, due from its new version on (a major one
    /// after its minor one): `--only NAME --kind KIND` takes it.
    AlsoDue {
        /// The file.
        file: PathBuf,
        /// The dependency.
        name: String,
        /// The version or tag proposed.
        proposed: String,
        /// Its kind.
        kind: UpdateKind,
    },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::Superseded {
                lock,
                name,
                proposed,
                kind,
            } => write!(
                f,
                "{}: {name} {proposed} ({kind}) is not taken: the update of its `.in` moves {name} in it instead",
                shown(lock)
            ),
            Note::AlsoDue {
                file,
                name,
                proposed,
                kind,
            } => write!(
                f,
                "{}: {name} {proposed} ({kind}) is due too; `repin apply --only {name} --kind {kind}` takes it",
                shown(file)
            ),
        }
    }
}

/// What an `apply` did.
#[derive(Debug, Default)]
pub struct Applied {
    /// The updates written, in the order written.
    pub written: Vec<Written>,
    /// How many files were written.
    pub files: usize,
    /// What is due next, or was passed over.
    pub notes: Vec<Note>,
    /// The updates that could not be written, each saying why (with `path:line:col`).
    pub failures: Vec<EditFailure>,
}

/// Write the updates of `run` that `selection` takes: for each dependency the first of its
/// selected updates (the patch or minor one before the major one). Warnings about re-locks
/// that could not be combined go to the run's warnings.
pub fn apply(runtime: &tokio::runtime::Runtime, run: &mut Run, selection: &Selection) -> Applied {
    let mut notes = combine_relocks(runtime, run, selection);
    let choose = |finding: &crate::lookup::Finding, update: &Update| {
        selection.takes_finding(run, finding, update)
    };
    let (edits, mut failures): (Vec<FileEdit>, Vec<EditFailure>) =
        apply::plan_edits(&run.workspace, &run.outcome.findings, &choose);
    let mut applied = Applied::default();
    for group in apply::groups(&edits) {
        let together: Vec<&FileEdit> = group.iter().map(|&i| &edits[i]).collect();
        if let Err(error) = apply::write_together(&together, &run.workspace) {
            let message = crate::error::message(&error);
            for edit in &together {
                failures.push(EditFailure {
                    path: edit.path.clone(),
                    index: 0,
                    message: if together.len() > 1 {
                        message.clone().prefixed(&format!(
                            "{}: not written, with the files that go with it: ",
                            shown(&edit.path)
                        ))
                    } else {
                        message.clone()
                    },
                });
            }
            continue;
        }
        for edit in together {
            applied.files += 1;
            for (index, update) in &edit.applied {
                // The name as read: a re-lock may add entries before it.
                let name = dependency_name(run, &edit.path, *index).to_owned();
                applied.written.push(Written {
                    file: edit.path.clone(),
                    name: name.clone(),
                    current: update.current.clone(),
                    proposed: update.proposed.clone(),
                    kind: update.kind,
                    relocked: update
                        .companions
                        .iter()
                        .map(|c| {
                            let moves = c
                                .relock
                                .moved
                                .iter()
                                .map(super::super::manifest::edit::MovedPin::describe)
                                .collect();
                            (c.file.clone(), moves)
                        })
                        .collect(),
                });
                // The other updates of this dependency (a major one after its minor one) are
                // due from the new version on.
                let finding = run
                    .outcome
                    .findings
                    .iter()
                    .find(|f| f.file == edit.path && f.index == *index);
                notes.extend(
                    finding
                        .into_iter()
                        .flat_map(|f| &f.decision.updates)
                        .filter(|u| u.kind != update.kind && u.proposed != update.proposed)
                        .map(|other| Note::AlsoDue {
                            file: edit.path.clone(),
                            name: name.clone(),
                            proposed: other.proposed.clone(),
                            kind: other.kind,
                        }),
                );
            }
        }
    }
    applied.notes = notes;
    applied.failures = failures;
    applied
}

/// Several re-locks of one file chosen at once become one: each of them gets the re-lock that
/// takes them all (the file is replaced once). They are the file's own pin updates and the
/// companions of updates of its `.in` (re-locked with them). When they cannot be combined, each
/// stays its own and the first one is written, the others failing with why.
///
/// Returns a note for each pin update superseded by an update of its `.in`.
fn combine_relocks(
    runtime: &tokio::runtime::Runtime,
    run: &mut Run,
    selection: &Selection,
) -> Vec<Note> {
    /// The chosen updates that re-lock one file: its own, and those whose companion it is.
    #[derive(Default)]
    struct Writers {
        own: Vec<(usize, usize)>,
        inputs: Vec<(usize, usize)>,
    }
    let mut by_file: BTreeMap<PathBuf, Writers> = BTreeMap::new();
    for (f, finding) in run.outcome.findings.iter().enumerate() {
        let Some(u) = finding
            .decision
            .updates
            .iter()
            .position(|u| selection.takes_finding(run, finding, u))
        else {
            continue;
        };
        let update = &finding.decision.updates[u];
        if update.kind == UpdateKind::Lock {
            by_file
                .entry(finding.file.clone())
                .or_default()
                .own
                .push((f, u));
        }
        for companion in &update.companions {
            by_file
                .entry(companion.file.clone())
                .or_default()
                .inputs
                .push((f, u));
        }
    }
    let mut superseded: Vec<(usize, usize, PathBuf)> = Vec::new();
    for (file, writers) in by_file
        .into_iter()
        .filter(|(_, w)| w.own.len() + w.inputs.len() > 1)
    {
        // The lock's own chosen updates, as `combined_relock` takes them.
        let updates_of = |pairs: &[(usize, usize)]| -> Vec<(usize, &Update)> {
            pairs
                .iter()
                .map(|&(f, u)| {
                    let finding = &run.outcome.findings[f];
                    (finding.index, &finding.decision.updates[u])
                })
                .collect()
        };
        let updates = updates_of(&writers.own);
        let inputs: Vec<(&crate::manifest::Manifest, usize, &Update)> = writers
            .inputs
            .iter()
            .filter_map(|&(f, u)| {
                let finding = &run.outcome.findings[f];
                let (manifest, _) = run.workspace.dependency(&finding.file, finding.index)?;
                Some((manifest, finding.index, &finding.decision.updates[u]))
            })
            .collect();
        let mut combined =
            runtime.block_on(
                run.checker
                    .combined_relock(&run.outcome, &file, &updates, &inputs),
            );
        // A pin update of a package whose `.in` requirement is updated too is superseded by
        // it when the two do not fit together (the lock's `flask 2.3.3` and the `.in`'s
        // `flask>=3.1.3,<4`): the `.in`'s update moves the package in the lock.
        let mut own = writers.own.clone();
        if combined.is_err() && !inputs.is_empty() {
            let edited: Vec<String> = inputs
                .iter()
                .filter_map(|(m, i, _)| m.dependencies.get(*i))
                .map(|d| normalize_name(&d.name))
                .collect();
            let package = |f: usize| {
                let finding = &run.outcome.findings[f];
                normalize_name(dependency_name(run, &finding.file, finding.index))
            };
            // (finding, update) pairs: those the `.in` passes over, and those kept.
            type Pairs = Vec<(usize, usize)>;
            let (passed, kept): (Pairs, Pairs) = writers
                .own
                .iter()
                .partition(|&&(f, _)| edited.contains(&package(f)));
            if !passed.is_empty() {
                let updates = updates_of(&kept);
                let retried = runtime.block_on(run.checker.combined_relock(
                    &run.outcome,
                    &file,
                    &updates,
                    &inputs,
                ));
                if retried.is_ok() {
                    combined = retried;
                    own = kept;
                    superseded.extend(passed.into_iter().map(|(f, u)| (f, u, file.clone())));
                }
            }
        }
        match combined {
            Ok(relock) => {
                for (f, u) in own {
                    run.outcome.findings[f].decision.updates[u].change =
                        Change::Relock(Box::new(relock.clone()));
                }
                for (f, u) in writers.inputs {
                    let update = &mut run.outcome.findings[f].decision.updates[u];
                    for companion in update.companions.iter_mut().filter(|c| c.file == file) {
                        companion.relock = relock.clone();
                    }
                }
            }
            Err(why) => run
                .outcome
                .warnings
                .push(crate::error::message(&why).prefixed(&format!(
                "{}: its re-locks could not be combined into one, so only the first is written: ",
                shown(&file)
            ))),
        }
    }
    // Last first, so removing an update keeps the indexes of the others valid.
    superseded.sort();
    let mut notes = Vec::new();
    for (f, u, lock) in superseded.into_iter().rev() {
        let finding = &run.outcome.findings[f];
        let name = dependency_name(run, &finding.file, finding.index).to_owned();
        let update = run.outcome.findings[f].decision.updates.remove(u);
        notes.push(Note::Superseded {
            lock,
            name,
            proposed: update.proposed,
            kind: update.kind,
        });
    }
    notes
}
