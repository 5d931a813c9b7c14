//! Turning chosen updates into verified file edits, and writing them.
//!
//! All updates of one file are spliced and verified together; when that fails, each is tried
//! alone so one bad update never stops the others of the file, and the failure names the
//! dependency with `path:line:col`.

use std::path::{Path, PathBuf};

use crate::decide::Update;
use crate::lookup::Finding;
use crate::manifest::Manifest;
use crate::manifest::edit::{self, Edited, Request};
use crate::manifest::workspace::Workspace;
use crate::text::TextError;
use crate::vocab::Message;

/// The edits of one file.
#[derive(Debug, Clone)]
pub struct FileEdit {
    /// The file.
    pub path: PathBuf,
    /// The text before, in the file's encoding.
    pub before: Vec<u8>,
    /// The verified result.
    pub edited: Edited,
    /// The updates it applies, with the index of their dependency.
    pub applied: Vec<(usize, Update)>,
}

/// An update that could not be applied.
#[derive(Debug, Clone)]
pub struct EditFailure {
    /// The file.
    pub path: PathBuf,
    /// The dependency's index.
    pub index: usize,
    /// Why (with `path:line:col`), and what to do about it.
    pub message: crate::vocab::Message,
}

/// One chosen update: the dependency it is of, and the update (with its companions).
#[derive(Debug, Clone)]
struct Unit {
    path: PathBuf,
    index: usize,
    update: Update,
}

/// The re-locks a unit writes: its own change's and its companions'.
fn relocks_of(unit: &Unit) -> Vec<&edit::Relock> {
    let own = match &unit.update.change {
        edit::Change::Relock(relock) => Some(relock.as_ref()),
        _ => None,
    };
    own.into_iter()
        .chain(unit.update.companions.iter().map(|c| &c.relock))
        .collect()
}

/// One request of a file's edit, and the unit it belongs to.
#[derive(Debug, Clone)]
struct Part {
    unit: usize,
    request: Request,
    /// Whether it is the unit's own change (else a companion's re-lock).
    own: bool,
}

/// For every file, the first update of each dependency that `choose` accepts, spliced and
/// verified; an update riding with a base image's update is written only with it, instead of
/// the dependency's own. Files with nothing chosen are left out. An update with companions (the locks
/// re-locked with an update of their `.in`) is edited in every file it changes or in none: when
/// one of its edits fails, it is taken out of all of them.
pub fn plan_edits(
    workspace: &Workspace,
    findings: &[Finding],
    choose: &dyn Fn(&Finding, &Update) -> bool,
) -> (Vec<FileEdit>, Vec<EditFailure>) {
    let mut failures = Vec::new();
    // Grouped by file once: a scan of every finding per manifest is quadratic.
    let mut by_file: std::collections::HashMap<&std::path::Path, Vec<&Finding>> =
        std::collections::HashMap::new();
    for finding in findings {
        by_file
            .entry(finding.file.as_path())
            .or_default()
            .push(finding);
    }
    // Each dependency's chosen update of its own; an update riding with a base image's update
    // (`Update::rides_with`) is taken instead when that update is the image's chosen one, and
    // never otherwise.
    let own: std::collections::HashMap<(&Path, usize), &Update> = findings
        .iter()
        .filter_map(|f| {
            let update = f
                .decision
                .updates
                .iter()
                .find(|u| u.rides_with.is_none() && choose(f, u))?;
            Some(((f.file.as_path(), f.index), update))
        })
        .collect();
    let pick = |f: &Finding| -> Option<Update> {
        let rider = f.decision.updates.iter().find(|u| {
            u.rides_with.as_ref().is_some_and(|r| {
                choose(f, u)
                    && own
                        .get(&(r.file.as_path(), r.index))
                        .is_some_and(|image| image.proposed == r.proposed)
            })
        });
        rider
            .or_else(|| own.get(&(f.file.as_path(), f.index)).copied())
            .cloned()
    };
    let mut units: Vec<Option<Unit>> = Vec::new();
    for manifest in &workspace.manifests {
        let path = manifest.source.path();
        let Some(of_file) = by_file.get(path) else {
            continue;
        };
        let mut chosen: Vec<(usize, Update)> = of_file
            .iter()
            .filter_map(|f| pick(f).map(|u| (f.index, u)))
            .collect();
        if chosen.is_empty() {
            continue;
        }
        if let Some(lock) = tool_lock_beside(workspace, manifest) {
            // An update whose re-lock of the lock goes with it (uv's, made by uv) is written
            // with it; the others would leave the lock stale.
            let (relocked, stale): (Vec<_>, Vec<_>) = chosen
                .into_iter()
                .partition(|(_, u)| u.companions.iter().any(|c| c.file == lock.0));
            failures.extend(blocked_by_lock(manifest, &lock, &stale));
            chosen = relocked;
            if chosen.is_empty() {
                continue;
            }
        }
        units.extend(chosen.into_iter().map(|(index, update)| {
            Some(Unit {
                path: path.to_path_buf(),
                index,
                update,
            })
        }));
    }
    // Each round edits every file with the units still in; a unit that fails anywhere is
    // taken out everywhere, and the files are edited again without it. Each round takes one
    // unit out at least, so this ends.
    loop {
        let mut parts: std::collections::BTreeMap<&Path, Vec<Part>> = Default::default();
        for (u, unit) in units.iter().enumerate() {
            let Some(unit) = unit else { continue };
            parts.entry(&unit.path).or_default().push(Part {
                unit: u,
                request: Request {
                    index: unit.index,
                    change: unit.update.change.clone(),
                },
                own: true,
            });
            for companion in &unit.update.companions {
                parts.entry(&companion.file).or_default().push(Part {
                    unit: u,
                    request: Request {
                        index: 0,
                        change: edit::Change::Relock(Box::new(companion.relock.clone())),
                    },
                    own: false,
                });
            }
        }
        let mut edits = Vec::new();
        let mut failed: Vec<(usize, EditFailure)> = Vec::new();
        for manifest in &workspace.manifests {
            let Some(parts) = parts.remove(manifest.source.path()) else {
                continue;
            };
            let (edit, failures) = edit_file(manifest, parts, &units);
            failed.extend(failures);
            edits.extend(edit);
        }
        // A companion whose file is not in the workspace cannot be written.
        for (path, parts) in parts {
            for part in parts {
                failed.push((
                    part.unit,
                    EditFailure {
                        path: path.to_path_buf(),
                        index: part.request.index,
                        message: Message::new(format!("{}: the file was not read", path.display())),
                    },
                ));
            }
        }
        if failed.is_empty() {
            return (edits, failures);
        }
        // Units that write one combined re-lock ([`crate::lookup::Checker::combined_relock`])
        // fail together: a lock re-locked for a `.in` update that is not written would
        // contradict it. So does an update with the image update it rides with.
        let mut queue: Vec<(usize, EditFailure)> = failed;
        while let Some((u, failure)) = queue.pop() {
            let Some(unit) = units[u].take() else {
                continue;
            };
            let written = relocks_of(&unit);
            for (other, o) in units.iter().enumerate() {
                let Some(o) = o else { continue };
                // An update riding with a base image's update is never written without it.
                let rides = o.update.rides_with.as_ref().is_some_and(|r| {
                    r.file == unit.path
                        && r.index == unit.index
                        && r.proposed == unit.update.proposed
                });
                let why = if rides {
                    format!(
                        "it goes with the update of {} to {}, which is not",
                        unit.path.display(),
                        unit.update.proposed
                    )
                } else if relocks_of(o).iter().any(|r| written.contains(r)) {
                    format!(
                        "it is re-locked as one with an update of {} that is not",
                        unit.path.display()
                    )
                } else {
                    continue;
                };
                queue.push((
                    other,
                    EditFailure {
                        path: o.path.clone(),
                        index: o.index,
                        message: failure
                            .message
                            .clone()
                            .prefixed(&format!("{}: not updated: {why}: ", o.path.display())),
                    },
                ));
            }
            failures.push(EditFailure {
                path: unit.path.clone(),
                index: unit.index,
                message: if failure.path == unit.path {
                    failure.message
                } else {
                    failure.message.prefixed(&format!(
                        "{}: not updated: {} moves with it, and its edit failed: ",
                        unit.path.display(),
                        failure.path.display()
                    ))
                },
            });
        }
    }
}

/// The lock files of the tools that install from a `pyproject.toml`, with the command that
/// re-locks after an edit (`{}`: the package).
const TOOL_LOCKS: &[(&str, &str)] = &[
    ("uv.lock", "uv lock --upgrade-package {}"),
    ("poetry.lock", "poetry lock"),
    ("pdm.lock", "pdm lock --update-reuse"),
];

/// The lock file of Pipenv, which installs from a `Pipfile`, with the command that re-locks it.
const PIPENV_LOCKS: &[(&str, &str)] = &[("Pipfile.lock", "pipenv upgrade --lock-only {}")];

/// The tool lock beside a `pyproject.toml` (`uv.lock`, `poetry.lock`, `pdm.lock`) or a
/// `Pipfile` (`Pipfile.lock`), when there is one: read through the repository root, so a link
/// out of the repository is not one.
fn tool_lock_beside(workspace: &Workspace, manifest: &Manifest) -> Option<(PathBuf, &'static str)> {
    let locks = match manifest.kind {
        crate::manifest::ManifestKind::Pyproject => TOOL_LOCKS,
        crate::manifest::ManifestKind::Pipfile => PIPENV_LOCKS,
        _ => return None,
    };
    let path = manifest.source.path();
    let root = workspace.root_of(path).ok()?;
    let dir = path.parent()?;
    locks.iter().find_map(|(name, command)| {
        let lock = dir.join(name);
        root.resolve(&lock).ok()?;
        lock.is_file().then_some((lock, *command))
    })
}

/// An edit of a `pyproject.toml` or `Pipfile` whose tool lock was not re-locked with it (repin
/// does not re-lock a `pdm.lock` yet, nor a lock it did not read): writing the manifest alone
/// would leave the lock stale (`uv sync --locked` fails), so nothing is written and each update
/// says what to run.
fn blocked_by_lock(
    manifest: &Manifest,
    (lock, command): &(PathBuf, &str),
    chosen: &[(usize, Update)],
) -> Vec<EditFailure> {
    let path = manifest.source.path();
    let lock_name = lock
        .file_name()
        .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
    chosen
        .iter()
        .map(|(index, _)| {
            let name = manifest
                .dependencies
                .get(*index)
                .map_or("", |d| d.name.as_str());
            let place = manifest.dependencies.get(*index).map_or_else(
                || path.display().to_string(),
                |d| crate::text::place(path, manifest.source.position(d.span.start)),
            );
            EditFailure {
                path: path.to_path_buf(),
                index: *index,
                message: Message::new(format!(
                    "{place}: `{name}` is not updated: `{lock_name}` beside it would go stale, and {}",
                    if lock_name == "pdm.lock" {
                        "repin does not re-lock it yet".to_owned()
                    } else {
                        format!("it was not re-locked with it (repin re-locks a {lock_name} it reads: give the project's directory, not the manifest alone)")
                    },
                ))
                .hint(format!(
                    "edit the requirement, then run `{}` in {}",
                    command.replace("{}", name),
                    path.parent().map_or_else(String::new, |p| p.display().to_string()),
                )),
            }
        })
        .collect()
}

fn requests(parts: &[Part]) -> Vec<Request> {
    parts.iter().map(|p| p.request.clone()).collect()
}

/// The edit of one file with `parts`; when they fail together, each unit's parts are tried on
/// top of the ones kept so far, so one bad update never stops the others of the file. The
/// failures name their unit.
fn edit_file(
    manifest: &Manifest,
    parts: Vec<Part>,
    units: &[Option<Unit>],
) -> (Option<FileEdit>, Vec<(usize, EditFailure)>) {
    let path = manifest.source.path().to_path_buf();
    let before = manifest.source.to_bytes();
    let file_edit = |edited: Edited, parts: &[Part]| FileEdit {
        path: path.clone(),
        before: before.clone(),
        edited,
        applied: parts
            .iter()
            .filter(|p| p.own)
            .filter_map(|p| units[p.unit].as_ref())
            .map(|u| (u.index, u.update.clone()))
            .collect(),
    };
    if let Ok(edited) = edit::edit(manifest, &requests(&parts)) {
        return (Some(file_edit(edited, &parts)), Vec::new());
    }
    // Together they failed: keep each unit that verifies on top of the ones kept so far.
    let mut kept: Vec<Part> = Vec::new();
    let mut failures = Vec::new();
    let mut tried = std::collections::BTreeSet::new();
    for part in &parts {
        if !tried.insert(part.unit) {
            continue;
        }
        let mut trial = kept.clone();
        trial.extend(parts.iter().filter(|p| p.unit == part.unit).cloned());
        match edit::edit(manifest, &requests(&trial)) {
            Ok(_) => kept = trial,
            Err(error) => failures.push((
                part.unit,
                EditFailure {
                    path: path.clone(),
                    index: part.request.index,
                    message: crate::error::message(&error),
                },
            )),
        }
    }
    if kept.is_empty() {
        return (None, failures);
    }
    match edit::edit(manifest, &requests(&kept)) {
        Ok(edited) => (Some(file_edit(edited, &kept)), failures),
        Err(error) => {
            let message = crate::error::message(&error);
            for part in &kept {
                failures.push((
                    part.unit,
                    EditFailure {
                        path: path.clone(),
                        index: part.request.index,
                        message: message.clone(),
                    },
                ));
            }
            (None, failures)
        }
    }
}

/// A unified diff of one file's edit, with paths shown as `a/<path>` and `b/<path>`.
pub fn unified_diff(edit: &FileEdit, shown: &Path) -> String {
    let before = String::from_utf8_lossy(&edit.before).into_owned();
    let after = edit.edited.manifest.source.text();
    // Compare decoded text so a UTF-16 file diffs readably.
    let old = crate::text::SourceFile::from_bytes(&edit.path, &edit.before)
        .map_or(before, |s| s.text().to_owned());
    similar::TextDiff::from_lines(old.as_str(), after)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("a/{}", shown.display()),
            &format!("b/{}", shown.display()),
        )
        .to_string()
}

/// Write an edit, after checking the file still holds what was read, through the repository
/// root it was read under: the target of a symbolic link inside the repository is edited (the
/// link stays a link), anything else that is not a regular file inside it is refused, and the
/// file is replaced atomically with its mode (and owner, as root) kept.
pub fn write(edit: &FileEdit, workspace: &Workspace) -> Result<(), TextError> {
    let fail = |error| TextError::from_repo_fs(&edit.path, error);
    let root = workspace.root_of(&edit.path).map_err(fail)?;
    let on_disk = root.read(&edit.path).map_err(fail)?;
    if on_disk != edit.before {
        return Err(stale(edit));
    }
    root.write(&edit.path, &edit.edited.bytes()).map_err(fail)
}

/// The error of a file that changed since it was read.
fn stale(edit: &FileEdit) -> TextError {
    TextError::StaleEdit {
        path: edit.path.clone(),
        position: crate::text::Position { line: 1, column: 1 },
        expected: "the content repin read".into(),
        actual: "a file changed since".into(),
    }
}

/// The edits that must be written together, by index into `edits`, in their order: an edit and
/// the edits of the files its updates' companions change (the locks re-locked with them).
pub fn groups(edits: &[FileEdit]) -> Vec<Vec<usize>> {
    // Union-find over the edits; a companion names its file.
    let mut parent: Vec<usize> = (0..edits.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (i, edit) in edits.iter().enumerate() {
        for companion in edit.applied.iter().flat_map(|(_, u)| &u.companions) {
            if let Some(j) = edits.iter().position(|e| e.path == companion.file) {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut at: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for i in 0..edits.len() {
        let r = root(&mut parent, i);
        match at.get(&r) {
            Some(&g) => groups[g].push(i),
            None => {
                at.insert(r, groups.len());
                groups.push(vec![i]);
            }
        }
    }
    groups
}

/// Write edits that go together ([`groups`]) as [`write()`] does, all or none: every file is
/// checked to still hold what was read before any is written, and when a write fails the
/// files written before it get their old content back. The error names the file that failed.
pub fn write_together(edits: &[&FileEdit], workspace: &Workspace) -> Result<(), TextError> {
    for edit in edits {
        let fail = |error| TextError::from_repo_fs(&edit.path, error);
        let root = workspace.root_of(&edit.path).map_err(fail)?;
        if root.read(&edit.path).map_err(fail)? != edit.before {
            return Err(stale(edit));
        }
    }
    for (n, edit) in edits.iter().enumerate() {
        if let Err(error) = write(edit, workspace) {
            for done in &edits[..n] {
                // Best effort: the error below is what is reported either way.
                if let Ok(root) = workspace.root_of(&done.path) {
                    let _ = root.write(&done.path, &done.before);
                }
            }
            return Err(error);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::{Companion, Decision};
    use crate::manifest::ManifestKind;
    use crate::manifest::edit::{Change, MovedPin, Relock};
    use crate::text::{Encoding, SourceFile};
    use crate::versioning::UpdateKind;

    const LOCK: &str = "#\n# This file is autogenerated by pip-compile with Python 3.12\n# by the following command:\n#\n#    pip-compile requirements.in\n#\nflask==2.2.5\n    # via -r requirements.in\n";

    fn workspace() -> Workspace {
        let parse = |path: &str, text: &str| {
            crate::manifest::parse(
                SourceFile::from_text(Path::new(path), Encoding::Utf8, text.to_owned()),
                ManifestKind::Requirements,
            )
        };
        Workspace {
            manifests: vec![
                parse("repo/requirements.in", "flask>=2.2,<3\n"),
                parse("repo/requirements.txt", LOCK),
            ],
            ..Workspace::default()
        }
    }

    #[test]
    fn an_edit_blocked_by_its_tool_lock_says_what_to_run_as_a_typed_hint() {
        let pyproject = crate::manifest::parse(
            SourceFile::from_text(
                Path::new("app/pyproject.toml"),
                Encoding::Utf8,
                "[project]\nname = \"app\"\nversion = \"1\"\ndependencies = [\"flask==2.2.2\"]\n"
                    .to_owned(),
            ),
            ManifestKind::Pyproject,
        );
        let update = finding("3.1.3", "3.1.3").decision.updates[0].clone();
        let lock = |name: &str, command: &'static str| (PathBuf::from("app").join(name), command);
        let failures = blocked_by_lock(
            &pyproject,
            &lock("pdm.lock", "pdm lock --update-reuse"),
            &[(0, update.clone())],
        );
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert_eq!(
            failures[0].message,
            Message::new(
                "app/pyproject.toml:4:25: `flask` is not updated: `pdm.lock` beside it would go stale, and repin does not re-lock it yet"
            )
            .hint("edit the requirement, then run `pdm lock --update-reuse` in app")
        );
        let failures = blocked_by_lock(
            &pyproject,
            &lock("uv.lock", "uv lock --upgrade-package {}"),
            &[(0, update)],
        );
        assert!(
            failures[0].message.text.ends_with(
                "it was not re-locked with it (repin re-locks a uv.lock it reads: give the project's directory, not the manifest alone)"
            ),
            "{:?}",
            failures[0].message
        );
        assert_eq!(
            failures[0].message.hints,
            ["edit the requirement, then run `uv lock --upgrade-package flask` in app"]
        );
    }

    /// The `.in`'s flask range update, with the lock's re-lock to `pinned` as its companion
    /// (the re-lock's text pins `written`).
    fn finding(written: &str, pinned: &str) -> Finding {
        let relock = Relock {
            text: LOCK.replace("flask==2.2.5", &format!("flask=={written}")),
            moved: vec![MovedPin {
                name: "flask".into(),
                from: Some("2.2.5".into()),
                to: Some(pinned.into()),
                why: "major update".into(),
            }],
            pins: vec![("flask".into(), pinned.into())],
            update_kind: Some(UpdateKind::Major),
        };
        let update = Update {
            kind: UpdateKind::Major,
            current: ">=2.2,<3".into(),
            proposed: ">=3.1.3,<4".into(),
            change: Change::PythonSpecifier {
                specifier: ">=3.1.3,<4".into(),
                hashes: None,
            },
            fixes: Vec::new(),
            age: None,
            reason: String::new(),
            unblocks: Vec::new(),
            rides_with: None,
            yanked: None,
            companions: vec![Companion {
                file: PathBuf::from("repo/requirements.txt"),
                relock,
            }],
        };
        Finding {
            file: PathBuf::from("repo/requirements.in"),
            index: 0,
            decision: Decision::updates(vec![update]),
        }
    }

    #[test]
    fn an_update_and_its_companion_are_edited_and_grouped_together() {
        let (edits, failures) =
            plan_edits(&workspace(), &[finding("3.1.3", "3.1.3")], &|_, _| true);
        assert!(failures.is_empty(), "{failures:?}");
        let texts: Vec<(String, String)> = edits
            .iter()
            .map(|e| {
                (
                    e.path.display().to_string(),
                    e.edited.manifest.source.text().to_owned(),
                )
            })
            .collect();
        assert_eq!(texts[0].0, "repo/requirements.in");
        assert_eq!(texts[0].1, "flask>=3.1.3,<4\n");
        assert_eq!(texts[1].0, "repo/requirements.txt");
        assert!(texts[1].1.contains("flask==3.1.3\n"), "{}", texts[1].1);
        // Only the `.in` applies the update; the lock is its companion, written with it.
        assert_eq!(edits[0].applied.len(), 1);
        assert!(edits[1].applied.is_empty());
        assert_eq!(groups(&edits), [vec![0, 1]]);
    }

    #[test]
    fn a_pin_update_of_the_lock_that_writes_the_same_relock_goes_with_the_companion() {
        let input = finding("3.1.3", "3.1.3");
        let mut own = input.decision.updates[0].companions[0].relock.clone();
        own.moved[0].why = "fixes PYSEC-1".into();
        let lock = Finding {
            file: PathBuf::from("repo/requirements.txt"),
            index: 0,
            decision: Decision::updates(vec![Update {
                kind: UpdateKind::Lock,
                current: "2.2.5".into(),
                proposed: "3.1.3".into(),
                change: Change::Relock(Box::new(own)),
                fixes: vec!["PYSEC-1".into()],
                age: None,
                reason: String::new(),
                unblocks: Vec::new(),
                rides_with: None,
                companions: Vec::new(),
                yanked: None,
            }]),
        };
        let (edits, failures) = plan_edits(&workspace(), &[input, lock], &|_, _| true);
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(edits.len(), 2);
        assert_eq!(edits[1].applied.len(), 1, "the lock's own update applies");
        // A different re-lock of the lock does not: only one re-lock of a file is written.
        let mut other = finding("3.1.3", "3.1.3");
        other.file = PathBuf::from("repo/requirements.txt");
        other.decision.updates[0].change = Change::Relock(Box::new(Relock {
            text: LOCK.replace("flask==2.2.5", "flask==3.0.0"),
            moved: Vec::new(),
            pins: vec![("flask".into(), "3.0.0".into())],
            update_kind: Some(UpdateKind::Major),
        }));
        other.decision.updates[0].companions.clear();
        let (edits, failures) = plan_edits(
            &workspace(),
            &[finding("3.1.3", "3.1.3"), other],
            &|_, _| true,
        );
        assert_eq!(edits.len(), 2, "{failures:?}");
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(
            failures[0].message.text.contains("Two changes conflict"),
            "{failures:?}"
        );
    }

    #[test]
    fn a_companion_that_does_not_verify_takes_its_update_out_of_every_file() {
        // The re-lock's text pins 3.1.2 where it says 3.1.3: its edit does not verify.
        let (edits, failures) =
            plan_edits(&workspace(), &[finding("3.1.2", "3.1.3")], &|_, _| true);
        assert!(edits.is_empty(), "the `.in` is not edited alone: {edits:?}");
        assert_eq!(failures.len(), 1, "{failures:?}");
        let message = &failures[0].message;
        assert_eq!(failures[0].path, PathBuf::from("repo/requirements.in"));
        assert!(
            message.text.starts_with(
                "repo/requirements.in: not updated: repo/requirements.txt moves with it, and its edit failed: "
            ),
            "{message}"
        );
    }

    /// click's own patch update, and its update riding with the `.in`'s flask update.
    fn rider_finding() -> Finding {
        let update = |proposed: &str, rides: bool| Update {
            kind: UpdateKind::Patch,
            current: "8.1.7".into(),
            proposed: proposed.into(),
            change: Change::PythonVersion {
                version: proposed.into(),
                hashes: None,
            },
            fixes: Vec::new(),
            age: None,
            reason: String::new(),
            unblocks: Vec::new(),
            rides_with: rides.then(|| crate::decide::RidesWith {
                file: PathBuf::from("repo/requirements.in"),
                index: 0,
                line: 1,
                proposed: ">=3.1.3,<4".into(),
                python: "3.12".into(),
            }),
            yanked: None,
            companions: Vec::new(),
        };
        let mut decision = Decision::none(crate::decide::NoUpdate::UpToDate);
        decision.none = None;
        decision.updates = vec![update("8.1.8", false), update("8.2.1", true)];
        Finding {
            file: PathBuf::from("repo/other.txt"),
            index: 0,
            decision,
        }
    }

    #[test]
    fn an_update_riding_with_another_is_written_with_it_or_not_at_all() {
        let mut workspace = workspace();
        workspace.manifests.push(crate::manifest::parse(
            SourceFile::from_text(
                Path::new("repo/other.txt"),
                Encoding::Utf8,
                "click==8.1.7\n".into(),
            ),
            ManifestKind::Requirements,
        ));
        let text = |edits: &[FileEdit], path: &str| {
            edits
                .iter()
                .find(|e| e.path == Path::new(path))
                .map(|e| e.edited.manifest.source.text().to_owned())
        };
        // Its carrier written: the rider, instead of click's own update.
        let findings = [finding("3.1.3", "3.1.3"), rider_finding()];
        let (edits, failures) = plan_edits(&workspace, &findings, &|_, _| true);
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(
            text(&edits, "repo/other.txt").as_deref(),
            Some("click==8.2.1\n")
        );
        // Its carrier not chosen: click's own update.
        let (edits, _) = plan_edits(&workspace, &findings, &|f, _| {
            f.file != Path::new("repo/requirements.in")
        });
        assert_eq!(
            text(&edits, "repo/other.txt").as_deref(),
            Some("click==8.1.8\n")
        );
        // Its carrier fails: neither is written, and the rider says why.
        let findings = [finding("3.1.2", "3.1.3"), rider_finding()];
        let (edits, failures) = plan_edits(&workspace, &findings, &|_, _| true);
        assert_eq!(text(&edits, "repo/other.txt"), None, "{edits:?}");
        let rider = failures
            .iter()
            .find(|f| f.path == Path::new("repo/other.txt"))
            .unwrap_or_else(|| panic!("{failures:?}"));
        assert!(
            rider.message.text.starts_with(
                "repo/other.txt: not updated: it goes with the update of repo/requirements.in to >=3.1.3,<4, which is not: "
            ),
            "{}",
            rider.message
        );
    }
}
