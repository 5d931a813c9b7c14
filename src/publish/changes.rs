//! The files of one branch's commit: every item's update spliced and verified, each checked
//! against the base branch's content (repin never commits a user's local changes), and their
//! diffs for the report.

use std::path::{Path, PathBuf};

use super::PublishError;
use super::items::relative;
use crate::apply::{self, FileEdit};
use crate::git::{FileChange, Oid, Repository};
use crate::lookup::Outcome;
use crate::manifest::workspace::Workspace;
use crate::plan::Branch;

/// The files of one branch: every item's update spliced and verified, checked against the
/// base branch's content.
pub(super) fn branch_changes(
    repo: &Repository,
    base_head: Oid,
    workspace: &Workspace,
    outcome: &Outcome,
    workdir: &Path,
    branch: &Branch,
) -> Result<(Vec<FileChange>, Vec<FileEdit>), PublishError> {
    let choose = |finding: &crate::lookup::Finding, update: &crate::decide::Update| {
        let file = relative(&finding.file, workdir);
        branch.items.iter().any(|i| {
            Some(&i.file) == file.as_ref() && i.index == finding.index && i.update == *update
        })
    };
    let (edits, failures) = apply::plan_edits(workspace, &outcome.findings, &choose);
    if !failures.is_empty() {
        return Err(PublishError::Unapplied(
            failures.into_iter().map(|f| f.message).collect(),
        ));
    }
    let mut changes = Vec::new();
    for edit in &edits {
        let path = relative(&edit.path, workdir)
            .ok_or_else(|| PublishError::OutsideRepository(edit.path.clone()))?;
        let on_base = repo.read_file(base_head, &path)?;
        if on_base.as_deref() != Some(edit.before.as_slice()) {
            return Err(PublishError::DiffersFromBase {
                path,
                head: base_head.to_string()[..12].to_owned(),
            });
        }
        changes.push(FileChange {
            path,
            content: Some(edit.edited.bytes()),
        });
    }
    if changes.is_empty() {
        return Err(PublishError::NothingApplied);
    }
    Ok((changes, edits))
}

/// The edits as unified diffs, with paths relative to the repository.
pub(super) fn diff_of(edits: &[FileEdit], workdir: &Path) -> String {
    edits
        .iter()
        .map(|e| {
            let shown = relative(&e.path, workdir).map_or_else(|| e.path.clone(), PathBuf::from);
            apply::unified_diff(e, &shown)
        })
        .collect()
}
