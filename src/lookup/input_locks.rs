//! A `.in` file and the compiled lock made from it must not disagree: an update of a range in
//! the `.in` that its lock's pin no longer satisfies is, until the two are updated as one
//! change (the re-lock of the lock issue), reported with a warning naming the re-lock to run,
//! never left silent.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use pep440_rs::VersionSpecifiers;

use super::Outcome;
use crate::manifest::{Manifest, ManifestDetails};

/// `path` with `.` and `..` resolved lexically.
fn normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
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
            .entry(normal(&dir.join(input)))
            .or_default()
            .push(manifest);
    }
    locks
}

/// Warn about each proposed range of a `.in` that a lock compiled from it contradicts.
pub(super) fn warn_on_contradicted_locks(manifests: &[&Manifest], outcome: &mut Outcome) {
    let locks = locks_by_input(manifests);
    if locks.is_empty() {
        return;
    }
    let by_path: BTreeMap<&Path, &Manifest> =
        manifests.iter().map(|m| (m.source.path(), *m)).collect();
    let mut warnings = Vec::new();
    for finding in &outcome.findings {
        let Some(locks) = locks.get(&normal(&finding.file)) else {
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
                let pinned = lock
                    .dependencies
                    .iter()
                    .filter(|d| d.name == dependency.name)
                    .find_map(|d| d.python()?.pinned_version().cloned());
                let Some(pinned) = pinned else { continue };
                if range.contains(&pinned) {
                    continue;
                }
                let lock_path = lock.source.path();
                let file = |p: &Path| {
                    p.file_name()
                        .map_or_else(String::new, |f| f.to_string_lossy().into_owned())
                };
                warnings.push(format!(
                    "{}: `{}{}` (a {} update) contradicts its lock {}, which pins {} {pinned}: the two are not updated together yet\n  hint: after taking it, re-lock: `repin lock {} -o {} --upgrade-package {}`",
                    crate::cli::shown(&finding.file),
                    dependency.name,
                    update.proposed,
                    update.kind,
                    crate::cli::shown(lock_path),
                    dependency.name,
                    file(&finding.file),
                    file(lock_path),
                    dependency.name
                ));
            }
        }
    }
    outcome.warnings.extend(warnings);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_compared_lexically() {
        assert_eq!(
            normal(Path::new("./fixtures/demo/../demo/requirements.in")),
            PathBuf::from("fixtures/demo/requirements.in")
        );
    }
}
