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
    /// Why (with `path:line:col`).
    pub message: String,
}

/// For every file, the first update of each dependency that `choose` accepts, spliced and
/// verified. Files with nothing chosen are left out.
pub fn plan_edits(
    workspace: &Workspace,
    findings: &[Finding],
    choose: &dyn Fn(&Finding, &Update) -> bool,
) -> (Vec<FileEdit>, Vec<EditFailure>) {
    let mut edits = Vec::new();
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
    for manifest in &workspace.manifests {
        let path = manifest.source.path();
        let Some(of_file) = by_file.get(path) else {
            continue;
        };
        let chosen: Vec<(usize, Update)> = of_file
            .iter()
            .filter_map(|f| {
                f.decision
                    .updates
                    .iter()
                    .find(|u| choose(f, u))
                    .map(|u| (f.index, u.clone()))
            })
            .collect();
        if chosen.is_empty() {
            continue;
        }
        if let Some(lock) = tool_lock_beside(workspace, manifest) {
            failures.extend(blocked_by_lock(manifest, &lock, &chosen));
            continue;
        }
        let (edit, failed) = edit_file(manifest, chosen);
        failures.extend(failed);
        edits.extend(edit);
    }
    (edits, failures)
}

/// The lock files of the tools that install from a `pyproject.toml`, with the command that
/// re-locks after an edit (`{}`: the package).
const TOOL_LOCKS: &[(&str, &str)] = &[
    ("uv.lock", "uv lock --upgrade-package {}"),
    ("poetry.lock", "poetry lock"),
    ("pdm.lock", "pdm lock --update-reuse"),
];

/// The tool lock beside a `pyproject.toml` (`uv.lock`, `poetry.lock`, `pdm.lock`), when there
/// is one: read through the repository root, so a link out of the repository is not one.
fn tool_lock_beside(workspace: &Workspace, manifest: &Manifest) -> Option<(PathBuf, &'static str)> {
    if manifest.kind != crate::manifest::ManifestKind::Pyproject {
        return None;
    }
    let path = manifest.source.path();
    let root = workspace.root_of(path).ok()?;
    let dir = path.parent()?;
    TOOL_LOCKS.iter().find_map(|(name, command)| {
        let lock = dir.join(name);
        root.resolve(&lock).ok()?;
        lock.is_file().then_some((lock, *command))
    })
}

/// An edit of a `pyproject.toml` whose tool lock repin does not re-lock yet: writing the
/// manifest alone would leave the lock stale (`uv sync --locked` fails), so nothing is written
/// and each update says what to run.
fn blocked_by_lock(
    manifest: &Manifest,
    (lock, command): &(PathBuf, &str),
    chosen: &[(usize, Update)],
) -> Vec<EditFailure> {
    let path = manifest.source.path();
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
                message: format!(
                    "{place}: `{name}` is not updated: `{}` beside it would go stale, and repin does not re-lock it yet\n  hint: edit the requirement, then run `{}` in {}",
                    lock.file_name().map_or_else(String::new, |f| f.to_string_lossy().into_owned()),
                    command.replace("{}", name),
                    path.parent().map_or_else(String::new, |p| p.display().to_string()),
                ),
            }
        })
        .collect()
}

fn requests(chosen: &[(usize, Update)]) -> Vec<Request> {
    chosen
        .iter()
        .map(|(index, update)| Request {
            index: *index,
            change: update.change.clone(),
        })
        .collect()
}

fn edit_file(
    manifest: &Manifest,
    chosen: Vec<(usize, Update)>,
) -> (Option<FileEdit>, Vec<EditFailure>) {
    let path = manifest.source.path().to_path_buf();
    let before = manifest.source.to_bytes();
    if let Ok(edited) = edit::edit(manifest, &requests(&chosen)) {
        return (
            Some(FileEdit {
                path,
                before,
                edited,
                applied: chosen,
            }),
            Vec::new(),
        );
    }
    // Together they failed: keep each update that verifies on top of the ones kept so far.
    let mut kept: Vec<(usize, Update)> = Vec::new();
    let mut failures = Vec::new();
    for item in chosen {
        let mut trial = kept.clone();
        trial.push(item.clone());
        match edit::edit(manifest, &requests(&trial)) {
            Ok(_) => kept.push(item),
            Err(error) => failures.push(EditFailure {
                path: path.clone(),
                index: item.0,
                message: crate::error::chain(&error),
            }),
        }
    }
    if kept.is_empty() {
        return (None, failures);
    }
    match edit::edit(manifest, &requests(&kept)) {
        Ok(edited) => (
            Some(FileEdit {
                path,
                before,
                edited,
                applied: kept,
            }),
            failures,
        ),
        Err(error) => {
            failures.push(EditFailure {
                path,
                index: kept[0].0,
                message: crate::error::chain(&error),
            });
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
        return Err(TextError::StaleEdit {
            path: edit.path.clone(),
            position: crate::text::Position { line: 1, column: 1 },
            expected: "the content repin read".into(),
            actual: "a file changed since".into(),
        });
    }
    root.write(&edit.path, &edit.edited.bytes()).map_err(fail)
}
