//! The re-locks of every tool lock in a check ([`Checker::relock_tool_locks`]), and the one
//! re-lock of a lock taking several updates for `apply` ([`Checker::combined_tool_relock`]).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::cooldown::{self, Uploads};
use super::job::{Job, Move, edit_move, fix_move, held_why, run_tool, verify};
use super::{Tool, ToolProject, ToolRelockError, uv};
use crate::advisory::AdvisoryIndex;
use crate::decide::{Companion, Update};
use crate::lookup::relock::{hold_back, update_why};
use crate::lookup::{Checker, Outcome};
use crate::manifest::Manifest;
use crate::manifest::edit::{self, Change, MovedPin, Relock, Request};
use crate::text::SourceFile;
use crate::versioning::UpdateKind;
use crate::vocab::Message;

impl Checker {
    /// The re-locks of every tool lock (see the module's documentation): companions of the
    /// updates of its manifest, and security fixes of its pins as re-locks. Routine updates of
    /// a `uv.lock`'s pins are held back here ([`uv::hold_routine`]), those of the others before
    /// ([`crate::lookup`]'s `hold_tool_lock_updates`). A security fix is checked against
    /// `advisories`, and every pin a re-lock moves against the minimum release age.
    pub(in crate::lookup) async fn relock_tool_locks(
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
        let lock_of_manifest = lock_of_manifest(projects);
        // Taken out while the findings change; the packages looked up for the cooldown only are
        // kept apart, and not added to it.
        let known = std::mem::take(&mut outcome.uploads);
        let mut found = Uploads::new();
        // (finding, update) → why it is held back; removed last first below.
        let mut held: BTreeMap<(usize, usize), Message> = BTreeMap::new();
        for f in 0..outcome.findings.len() {
            let file = outcome.findings[f].file.clone();
            let Some(manifest) = by_path.get(file.as_path()).copied() else {
                continue;
            };
            let index = outcome.findings[f].index;
            if let Some(project) = projects.get(&file) {
                if project.tool == Tool::Uv {
                    let name = manifest
                        .dependencies
                        .get(index)
                        .map_or("", |d| d.name.as_str());
                    uv::hold_routine(&mut outcome.findings[f].decision, name);
                }
                // A pin of the lock: only security fixes are left here.
                for u in 0..outcome.findings[f].decision.updates.len() {
                    let update = &outcome.findings[f].decision.updates[u];
                    let Some(fix) = fix_move(project.tool, manifest, index, &update.proposed)
                    else {
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
                    let job = Job::new(project, &BTreeMap::new(), vec![fix.clone()]);
                    let exempt = [(fix.name.clone(), update.proposed.clone())];
                    let result = self
                        .relock_job(
                            project, manifest, &job, advisories, &exempt, &known, &mut found,
                        )
                        .await;
                    match result {
                        Ok(relock) => {
                            let update = &mut outcome.findings[f].decision.updates[u];
                            take_fix(project.tool, update, &fix.name, relock);
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
                let edited = match edit::edit(manifest, &[request]) {
                    Ok(edited) => edited,
                    Err(error) => {
                        let error = ToolRelockError::Edit(error);
                        held.insert((f, u), held_why(project, &[], &error).await);
                        continue;
                    }
                };
                let moves: Vec<Move> = edit_move(project.tool, manifest, &edited.manifest, index)
                    .into_iter()
                    .collect();
                // uv is asked to move the package: an edit that leaves no requirement to move
                // it within is not re-locked (nor held).
                if project.tool == Tool::Uv && moves.is_empty() {
                    continue;
                }
                let exempt: Vec<(String, String)> = moves
                    .iter()
                    .map(|m| (m.name.clone(), update.proposed.clone()))
                    .collect();
                let edits =
                    BTreeMap::from([(file.clone(), edited.manifest.source.text().to_owned())]);
                let job = Job::new(project, &edits, moves);
                let result = self
                    .relock_job(project, lock, &job, advisories, &exempt, &known, &mut found)
                    .await;
                match result {
                    Ok(relock) => {
                        let update = &mut outcome.findings[f].decision.updates[u];
                        let name = job.moves.first().map_or("", |m| m.name.as_str());
                        take_companion(project, update, name, relock);
                    }
                    Err(error) => {
                        held.insert((f, u), held_why(project, &job.moves, &error).await);
                    }
                }
            }
        }
        outcome.uploads = known;
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
    }

    /// One re-lock of the tool lock at `file` taking every update of `updates` (security
    /// fixes of its pins, by the index of their dependency) and every update of `inputs`
    /// (updates of requirements of its manifest): for `apply`, as
    /// [`Checker::combined_relock`] is for compiled locks.
    pub(in crate::lookup) async fn combined_tool_relock(
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
        // The requests of each manifest (the root's and the members' of a uv workspace).
        let mut requests: BTreeMap<&Path, (&Manifest, Vec<Request>)> = BTreeMap::new();
        let mut kinds = Vec::new();
        let mut exempt = Vec::new();
        for (m, index, update) in inputs {
            kinds.push(update.kind);
            requests
                .entry(m.source.path())
                .or_insert_with(|| (*m, Vec::new()))
                .1
                .push(Request {
                    index: *index,
                    change: update.change.clone(),
                });
            if let Some(d) = m.dependencies.get(*index) {
                exempt.push((d.name.clone(), update.proposed.clone()));
            }
        }
        let mut edits = BTreeMap::new();
        let mut moves: Vec<Move> = Vec::new();
        for (path, (m, requests)) in requests {
            let edited = edit::edit(m, &requests).map_err(ToolRelockError::Edit)?;
            moves.extend(
                requests
                    .iter()
                    .filter_map(|r| edit_move(project.tool, m, &edited.manifest, r.index)),
            );
            edits.insert(path.to_path_buf(), edited.manifest.source.text().to_owned());
        }
        for (index, update) in updates {
            moves.extend(fix_move(project.tool, &lock, *index, &update.proposed));
            if let Some(d) = lock.dependencies.get(*index) {
                exempt.push((d.name.clone(), update.proposed.clone()));
            }
            kinds.push(UpdateKind::Lock);
        }
        if moves.is_empty() {
            return Err(ToolRelockError::NotRelockable(
                "the re-lock was asked for nothing".into(),
            ));
        }
        let job = Job::new(project, &edits, moves);
        // Its security fixes passed `relock_tool_locks`, which checked them against the advisories.
        let mut found = Uploads::new();
        let mut relock = self
            .relock_job(
                project,
                &lock,
                &job,
                None,
                &exempt,
                &outcome.uploads,
                &mut found,
            )
            .await?;
        relock.update_kind = kinds.into_iter().max();
        Ok(relock)
    }

    /// Run `job` on `project`, whose lock `old` is, and verify the lock the tool writes
    /// ([`verify`], against `advisories`) and the age of the pins it moves
    /// ([`Checker::check_cooldown`], `exempt` the versions repin proposed).
    #[allow(clippy::too_many_arguments)]
    async fn relock_job(
        &self,
        project: &ToolProject,
        old: &Manifest,
        job: &Job,
        advisories: Option<&AdvisoryIndex>,
        exempt: &[(String, String)],
        known: &Uploads,
        found: &mut Uploads,
    ) -> Result<Relock, ToolRelockError> {
        let text = run_tool(project, job).await?;
        let relock = verify(project, old, text, &job.moves, advisories)?;
        self.check_cooldown(project, old, &relock, exempt, known, found)
            .await?;
        Ok(relock)
    }

    /// Fails when `relock` moves a pin of `lock` to a release younger than the minimum release
    /// age ([`cooldown`]); `exempt` are the versions repin proposed. The upload times are the
    /// check's (`known`); those of packages it did not look up (new in the lock) are looked up
    /// on the indexes of the lock's pins, and kept in `found`.
    async fn check_cooldown(
        &self,
        project: &ToolProject,
        lock: &Manifest,
        relock: &Relock,
        exempt: &[(String, String)],
        known: &Uploads,
        found: &mut Uploads,
    ) -> Result<(), ToolRelockError> {
        // The minimum of each kind of update, as `[[rules]]` give it for the lock's file.
        let policy = |name: &str, kind: UpdateKind| {
            crate::decide::Policy::from_config(&self.config, name, &project.lock, Some(kind))
                .minimum_release_age
        };
        let unknown: Vec<&MovedPin> = relock
            .moved
            .iter()
            .filter(|m| m.to.is_some())
            .filter(|m| !known.contains_key(&m.name) && !found.contains_key(&m.name))
            .filter(|m| cooldown::longest(&m.name, policy).is_some())
            .collect();
        if !unknown.is_empty() {
            let options = lock
                .dependencies
                .iter()
                .find_map(|d| Some(d.python()?.index.clone()))
                .unwrap_or_default();
            if let Ok(indexes) = self.indexes.indexes(&options, Some(&project.lock)) {
                for pin in unknown {
                    // A package that cannot be looked up has no known age, and is not held.
                    if let Ok(lookup) = self.pypi.lookup(&indexes, &pin.name).await {
                        found.insert(pin.name.clone(), cooldown::upload_times(&lookup));
                    }
                }
            }
        }
        // The times of the packages that moved only: a few, where the check's are every one.
        let moved: Uploads = relock
            .moved
            .iter()
            .filter_map(|m| {
                let times = known.get(&m.name).or_else(|| found.get(&m.name))?;
                Some((m.name.clone(), times.clone()))
            })
            .collect();
        match cooldown::too_young(&relock.moved, exempt, &moved, policy, self.now) {
            Some(young) => Err(ToolRelockError::TooYoung {
                tool: project.tool.name(),
                name: young.name,
                version: young.version,
                age: crate::decide::human_age(young.age),
                minimum: crate::decide::human_age(young.minimum),
            }),
            None => Ok(()),
        }
    }
}

/// The project whose lock an edit of each manifest re-locks: the lock beside it, or for a member
/// of a uv workspace, as uv finds it, the workspace root's (the nearest root that has it as a
/// member, over a lock of its own).
fn lock_of_manifest(projects: &HashMap<PathBuf, ToolProject>) -> HashMap<&Path, &ToolProject> {
    // (is a workspace member, depth of the lock): the higher one wins.
    let mut out: HashMap<&Path, ((bool, usize), &ToolProject)> = HashMap::new();
    let claims = projects.values().flat_map(|p| {
        std::iter::once((p.manifest.as_path(), false, p)).chain(
            p.members
                .iter()
                .map(move |m| (m.manifest.as_path(), true, p)),
        )
    });
    for (path, member, project) in claims {
        let rank = (member, project.lock.components().count());
        let entry = out.entry(path).or_insert((rank, project));
        if entry.0 < rank {
            *entry = (rank, project);
        }
    }
    out.into_iter().map(|(path, (_, p))| (path, p)).collect()
}

/// Make `update`, a security fix of the pin `name`, the re-lock the tool wrote.
fn take_fix(tool: Tool, update: &mut Update, name: &str, mut relock: Relock) {
    let why = update_why(update);
    for m in relock.moved.iter_mut().filter(|m| m.name == name) {
        m.why.clone_from(&why);
    }
    relock.update_kind = Some(UpdateKind::Lock);
    // Poetry and Pipenv move the package to the newest release the project allows, which may be
    // past the fix: the update says what is written.
    if let Some(to) = relock
        .moved
        .iter()
        .find(|m| m.name == name)
        .and_then(|m| m.to.clone())
        .filter(|to| *to != update.proposed)
    {
        update.reason = format!(
            "{}; {} updates it to {to}, the newest release the project allows",
            update.reason,
            tool.name()
        );
        update.proposed = to;
    }
    let moves: Vec<String> = relock.moved.iter().map(MovedPin::describe).collect();
    update.reason = format!(
        "{}; re-locked by {}: {}",
        update.reason,
        tool.program(),
        moves.join(", ")
    );
    update.kind = UpdateKind::Lock;
    update.change = Change::Relock(Box::new(relock));
}

/// Give `update`, an edit of the requirement `name` of `project`'s manifest, the re-lock the
/// tool wrote as its companion.
fn take_companion(project: &ToolProject, update: &mut Update, name: &str, mut relock: Relock) {
    let why = update_why(update);
    for m in relock.moved.iter_mut().filter(|m| m.name == name) {
        m.why.clone_from(&why);
    }
    relock.update_kind = Some(update.kind);
    let described: Vec<String> = relock.moved.iter().map(MovedPin::describe).collect();
    // A lock the tool leaves as it is still goes with the update, unchanged: it says the lock
    // was checked and does not go stale.
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

#[cfg(test)]
mod tests {
    use super::super::uv_workspace::WorkspaceMember;
    use super::*;

    fn project(lock: &str, members: &[&str]) -> (PathBuf, ToolProject) {
        let dir = Path::new(lock).parent().unwrap();
        let project = ToolProject {
            tool: Tool::Uv,
            lock: lock.into(),
            manifest: dir.join("pyproject.toml"),
            lock_text: String::new(),
            manifest_text: String::new(),
            members: members
                .iter()
                .map(|m| WorkspaceMember {
                    dir: m.into(),
                    manifest: dir.join(m).join("pyproject.toml"),
                    text: String::new(),
                })
                .collect(),
            generated_by: None,
            why_not: None,
            credentials: Default::default(),
        };
        (lock.into(), project)
    }

    #[test]
    fn a_member_s_pyproject_re_locks_its_workspace_root_s_lock_as_uv_finds_it() {
        let projects: HashMap<PathBuf, ToolProject> = [
            project("repo/uv.lock", &["packages/a", "packages/b", "tools/x"]),
            // A member's own lock: uv locks the workspace at its root all the same.
            project("repo/packages/a/uv.lock", &[]),
            // Two roots that have `tools/x` as a member (uv refuses nested workspaces): the
            // nearer one.
            project("repo/tools/uv.lock", &["x"]),
            project("repo/tools/x/uv.lock", &[]),
            project("repo/single/uv.lock", &[]),
        ]
        .into_iter()
        .collect();
        let by = lock_of_manifest(&projects);
        let lock = |manifest: &str| by.get(Path::new(manifest)).map(|p| p.lock.clone());
        assert_eq!(lock("repo/pyproject.toml"), Some("repo/uv.lock".into()));
        assert_eq!(
            lock("repo/packages/a/pyproject.toml"),
            Some("repo/uv.lock".into())
        );
        assert_eq!(
            lock("repo/packages/b/pyproject.toml"),
            Some("repo/uv.lock".into())
        );
        assert_eq!(
            lock("repo/tools/x/pyproject.toml"),
            Some("repo/tools/uv.lock".into())
        );
        assert_eq!(
            lock("repo/single/pyproject.toml"),
            Some("repo/single/uv.lock".into())
        );
        assert_eq!(lock("repo/packages/c/pyproject.toml"), None);
    }
}
