//! One re-lock by a tool: the packages it moves ([`Move`]), the run in a scratch copy
//! ([`run_tool`]), the check of the lock it writes ([`verify`]) and, when it fails, why the
//! update is held back with the command to run instead ([`held_why`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep440_rs::Version;

use super::process::{Scratch, read_back, shown_dir};
use super::{Tool, ToolProject, ToolRelockError, pipenv, poetry, uv};
use crate::advisory::AdvisoryIndex;
use crate::manifest::edit::{self, MovedPin, Relock};
use crate::manifest::{Manifest, ManifestDetails};
use crate::text::SourceFile;
use crate::vocab::Message;

/// What a re-lock must leave: a package at a version its requirement allows, at exactly one, or
/// at one or later.
#[derive(Debug, Clone)]
pub(super) enum Wanted {
    /// The edited requirement's specifier (PEP 440 or Poetry's syntax).
    Specifier(crate::manifest::python::Specifier),
    /// Exactly this version: a security fix by a tool that can be told it (uv).
    Exactly(Version),
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
            Wanted::Exactly(v) => v == version,
            Wanted::AtLeast(v) => v <= version,
        }
    }

    fn describe(&self) -> String {
        match self {
            Wanted::Specifier(s) => format!("`{}`", s.text),
            Wanted::Exactly(v) => format!("`=={v}`"),
            Wanted::AtLeast(v) => format!("`>={v}`"),
        }
    }
}

/// One package a re-lock moves: by an edit of its requirement, or to a fixed version.
#[derive(Debug, Clone)]
pub(super) struct Move {
    /// The normalised name.
    pub name: String,
    /// The Pipfile category (Pipenv only).
    pub category: String,
    /// What the tool is given: uv `flask` or `werkzeug==3.0.6`, Pipenv `flask==3.0.3` or
    /// `flask[async]>=3`; Poetry takes the name.
    pub spec: String,
    /// Whether it is a security fix of a pin (else an edit of the manifest).
    pub fix: bool,
    /// What the new lock must pin.
    pub wanted: Wanted,
}

/// One re-lock to run: the manifest it is run on, the pyprojects of a uv workspace's members
/// (by their path relative to the root), and the packages it moves.
#[derive(Debug, Clone)]
pub(super) struct Job {
    pub manifest: String,
    pub members: Vec<(PathBuf, String)>,
    pub moves: Vec<Move>,
}

impl Job {
    /// The job of `project` moving `moves`, its manifest and its members' as read except those
    /// `edited` (by their paths as the workspace has them).
    pub fn new(project: &ToolProject, edited: &BTreeMap<PathBuf, String>, moves: Vec<Move>) -> Job {
        let text = |path: &Path, read: &String| edited.get(path).unwrap_or(read).clone();
        Job {
            manifest: text(&project.manifest, &project.manifest_text),
            members: project
                .members
                .iter()
                .map(|m| {
                    (
                        m.dir.join(project.tool.files().0),
                        text(&m.manifest, &m.text),
                    )
                })
                .collect(),
            moves,
        }
    }
}

/// The command the user runs instead, in the project's directory.
pub(super) fn command(tool: Tool, moves: &[Move]) -> String {
    match tool {
        Tool::Uv => uv::command(&specs(moves)),
        Tool::Poetry => poetry::command(&poetry_upgrade(moves)),
        Tool::Pipenv => pipenv_by_category(moves)
            .iter()
            .map(|(category, specs)| pipenv::command(category, specs))
            .collect::<Vec<_>>()
            .join(" && "),
    }
}

fn specs(moves: &[Move]) -> Vec<String> {
    moves.iter().map(|m| m.spec.clone()).collect()
}

/// Pipenv's moves by Pipfile category: `pipenv upgrade` takes one category at a time.
fn pipenv_by_category(moves: &[Move]) -> BTreeMap<&str, Vec<String>> {
    let mut by: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for m in moves {
        by.entry(&m.category).or_default().push(m.spec.clone());
    }
    by
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
/// checked by the tool (Poetry, Pipenv) against the manifest repin writes.
pub(super) async fn run_tool(project: &ToolProject, job: &Job) -> Result<String, ToolRelockError> {
    if let Some(why) = &project.why_not {
        return Err(ToolRelockError::NotRelockable(why.clone()));
    }
    let tool = project.tool;
    let scratch = Scratch::new(&format!("repin-{}-", tool.program()))?
        .with_credentials(project.credentials.clone());
    let (manifest_name, lock_name) = tool.files();
    scratch.write(manifest_name, &job.manifest)?;
    scratch.write(lock_name, &project.lock_text)?;
    for (path, text) in &job.members {
        scratch.write_below(path, text)?;
    }
    match tool {
        Tool::Uv => {
            scratch
                .run("uv", &uv::lock_args(&specs(&job.moves)), &uv::env(&scratch))
                .await?;
        }
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
            for (category, specs) in pipenv_by_category(&job.moves) {
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

/// Read a lock the tool wrote back: it parses without errors, carries its hash (when its
/// format has one), and pins each moved package as wanted, a security fix at a version none of
/// `advisories` affects (Poetry and Pipenv may have gone past the fixed version, to a release
/// a later advisory affects). The re-lock of `old` to it, with what moved.
pub(super) fn verify(
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
    if project.tool.hashes_its_manifest() && !hashed {
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
        moved: moved(old, &new),
        pins: edit::read_pins(&new),
        update_kind: None,
    })
}

/// Every pin that moves, appears or goes between two locks.
fn moved(old: &Manifest, new: &Manifest) -> Vec<MovedPin> {
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

/// Why an update is held back when the tool fails, with what to run instead.
pub(super) async fn held_why(
    project: &ToolProject,
    moves: &[Move],
    error: &ToolRelockError,
) -> Message {
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
/// with the `command` to run instead as a hint after the error's own; not for a pin younger
/// than the minimum release age, which the command would write all the same.
pub(super) fn held_message(
    lock: &Path,
    command: &str,
    error: &ToolRelockError,
    note: &str,
) -> Message {
    let mut why = crate::error::message(error).prefixed(&format!(
        "{} cannot be re-locked with it: ",
        crate::text::shown(lock)
    ));
    why.text.push_str(note);
    if matches!(error, ToolRelockError::TooYoung { .. }) {
        return why;
    }
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

/// The move of an edit of `manifest`'s dependency `index`, read from the edited manifest;
/// `None` when the edit leaves no version requirement to check.
pub(super) fn edit_move(
    tool: Tool,
    manifest: &Manifest,
    edited: &Manifest,
    index: usize,
) -> Option<Move> {
    let dependency = edited.dependencies.get(index)?;
    let requirement = dependency.python()?;
    let specifier = requirement.specifier.clone()?;
    let category = match &manifest.details {
        ManifestDetails::Pipfile(file) => file.categories.get(index).cloned().unwrap_or_default(),
        _ => String::new(),
    };
    let spec = if tool == Tool::Uv {
        // uv re-resolves the package within the edited pyproject: the name is enough.
        dependency.name.clone()
    } else {
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
        match specifier.text.trim() {
            "*" | "" => format!("{written}{extras}"),
            text => format!("{written}{extras}{text}"),
        }
    };
    Some(Move {
        name: dependency.name.clone(),
        category,
        spec,
        fix: false,
        wanted: Wanted::Specifier(specifier),
    })
}

/// The move of a security fix of the lock's pin `index` to `version`: exactly that version
/// with a tool that can be told it, that version or a later one with the others.
pub(super) fn fix_move(tool: Tool, lock: &Manifest, index: usize, version: &str) -> Option<Move> {
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
        wanted: if tool.takes_fixed_version() {
            Wanted::Exactly(version)
        } else {
            Wanted::AtLeast(version)
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::process::ProcessError;
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
    fn a_uv_hold_back_carries_uv_s_hint_and_the_command_as_typed_hints() {
        let missing = ToolRelockError::Process(ProcessError::Missing {
            program: "uv".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
        let edit = Move {
            name: "flask".into(),
            category: String::new(),
            spec: "flask".into(),
            fix: false,
            wanted: Wanted::Exactly(Version::from_str("3.0.3").unwrap()),
        };
        let why = held_message(
            Path::new("app/uv.lock"),
            &command(Tool::Uv, &[edit]),
            &missing,
            "",
        );
        assert!(
            why.text.starts_with(
                "app/uv.lock cannot be re-locked with it: `uv` is not on PATH\n  Caused by: "
            ),
            "{why:?}"
        );
        assert_eq!(
            why.hints,
            [
                "install uv (`pip install uv`) where repin runs, so the lock is re-locked with the update",
                "make the change, then run `uv lock --upgrade-package 'flask'` in app"
            ]
        );
        let unverified = ToolRelockError::Verification {
            tool: "uv",
            why: "a pin moved".into(),
        };
        assert_eq!(
            held_message(Path::new("uv.lock"), "uv lock", &unverified, ""),
            Message::new(
                "uv.lock cannot be re-locked with it: The lock uv wrote does not verify: a pin moved"
            )
            .hint("make the change, then run `uv lock` in .")
        );
    }

    #[test]
    fn a_pin_too_young_is_held_with_when_it_comes_back_and_no_command() {
        let young = ToolRelockError::TooYoung {
            tool: "Poetry",
            name: "werkzeug".into(),
            version: "3.0.7".into(),
            age: "1 days".into(),
            minimum: "7 days".into(),
        };
        assert_eq!(
            held_message(Path::new("poetry.lock"), "poetry update --lock werkzeug", &young, ""),
            Message::new(
                "poetry.lock cannot be re-locked with it: Poetry writes `werkzeug` 3.0.7, released 1 days ago, younger than the minimum release age of 7 days"
            )
            .hint("the update is proposed again once `werkzeug` 3.0.7 is older than 7 days")
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
            command(Tool::Poetry, &[edit("flask", "", "flask"), fix.clone()]),
            "poetry update --lock werkzeug"
        );
        assert_eq!(
            command(Tool::Uv, &[edit("flask", "", "flask"), fix]),
            "uv lock --upgrade-package 'flask' --upgrade-package 'werkzeug==3.0.6'"
        );
    }

    #[test]
    fn a_fix_may_go_past_the_fixed_version_never_below_it_unless_the_tool_takes_it() {
        let v = |s: &str| Version::from_str(s).unwrap();
        assert!(Wanted::AtLeast(v("3.0.6")).contains(&v("3.0.7")));
        assert!(Wanted::AtLeast(v("3.0.6")).contains(&v("3.0.6")));
        assert!(!Wanted::AtLeast(v("3.0.6")).contains(&v("3.0.5")));
        assert!(Wanted::Exactly(v("3.0.6")).contains(&v("3.0.6")));
        assert!(!Wanted::Exactly(v("3.0.6")).contains(&v("3.0.7")));
    }
}
