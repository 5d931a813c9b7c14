//! The members of a uv workspace: the directories below its root that `[tool.uv.workspace]
//! members` matches (globs relative to the root) and `exclude` does not, each with a
//! `pyproject.toml`, as uv finds them. The re-lock copies the pyproject of each to its place in
//! the scratch copy, and runs uv at the root.
//!
//! Only directories below the root are members: a glob that leaves it (`../x`, `/x`) is
//! refused, so the scratch copy never takes a file from outside the repository.

use std::path::{Component, Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};

use crate::manifest::pyproject::UvWorkspace;
use crate::text::repo_fs::stays_within;

/// A member of a uv workspace, as the re-lock copies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceMember {
    /// Its directory, relative to the workspace root.
    pub dir: PathBuf,
    /// Its `pyproject.toml`, as the workspace has its path.
    pub manifest: PathBuf,
    /// That pyproject as read.
    pub text: String,
}

/// The directories among `candidates` (each a directory, relative to the workspace root, with a
/// `pyproject.toml` repin read) that `workspace` makes members, sorted; and why its globs cannot
/// be followed, when one cannot (the others still say which pyprojects are members, so their
/// updates are held back with the reason rather than made without the lock).
pub fn member_dirs(
    workspace: &UvWorkspace,
    candidates: &[PathBuf],
) -> (Vec<PathBuf>, Option<String>) {
    let (members, bad_member) = matchers(&workspace.members);
    let (exclude, bad_exclude) = matchers(&workspace.exclude);
    let mut dirs: Vec<PathBuf> = candidates
        .iter()
        .filter(|dir| !dir.as_os_str().is_empty())
        .filter(|dir| members.iter().any(|m| m.is_match(dir)))
        .filter(|dir| !exclude.iter().any(|m| m.is_match(dir)))
        .cloned()
        .collect();
    dirs.sort();
    dirs.dedup();
    (dirs, bad_member.or(bad_exclude))
}

/// `path` without `.` components or a trailing `/` (`./packages/a/` is `packages/a`).
pub fn clean(path: &str) -> PathBuf {
    Path::new(path)
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

/// The matchers of globs as uv reads them: relative to the root, `*` within one directory; and
/// why the first that cannot be one is not.
fn matchers(globs: &[String]) -> (Vec<GlobMatcher>, Option<String>) {
    let mut out = Vec::new();
    let mut why = None;
    for glob in globs {
        if !stays_within(Path::new(glob)) {
            why.get_or_insert_with(|| {
                format!(
                    "its workspace member `{glob}` is outside the workspace root, and repin copies nothing from outside it"
                )
            });
            continue;
        }
        let cleaned = clean(glob);
        match GlobBuilder::new(&cleaned.to_string_lossy())
            .literal_separator(true)
            .build()
        {
            Ok(g) => out.push(g.compile_matcher()),
            Err(error) => {
                why.get_or_insert_with(|| {
                    format!("its workspace member `{glob}` is not a glob: {error}")
                });
            }
        }
    }
    (out, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs(
        members: &[&str],
        exclude: &[&str],
        candidates: &[&str],
    ) -> Result<Vec<String>, String> {
        let workspace = UvWorkspace {
            members: members.iter().map(ToString::to_string).collect(),
            exclude: exclude.iter().map(ToString::to_string).collect(),
        };
        let candidates: Vec<PathBuf> = candidates.iter().map(PathBuf::from).collect();
        let (found, why) = member_dirs(&workspace, &candidates);
        match why {
            Some(why) => Err(why),
            None => Ok(found
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect()),
        }
    }

    #[test]
    fn a_glob_matches_one_level_and_exclude_leaves_some_out() {
        let candidates = [
            "",
            "packages/a",
            "packages/b",
            "packages/b/nested",
            "tools/x",
            "lib",
        ];
        assert_eq!(
            dirs(&["packages/*"], &["packages/b"], &candidates).unwrap(),
            ["packages/a"]
        );
        assert_eq!(
            dirs(&["packages/*", "lib"], &[], &candidates).unwrap(),
            ["lib", "packages/a", "packages/b"]
        );
        assert_eq!(
            dirs(&["packages/**"], &["packages/b/*"], &candidates).unwrap(),
            ["packages/a", "packages/b"]
        );
        assert_eq!(
            dirs(&["./tools/*/"], &[], &candidates).unwrap(),
            ["tools/x"]
        );
        // The root is never a member of its own: it is the project beside the lock.
        assert_eq!(dirs(&["*", "."], &[], &["", "lib"]).unwrap(), ["lib"]);
        assert_eq!(dirs(&[], &[], &candidates).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_member_outside_the_root_is_refused_with_why() {
        assert_eq!(
            dirs(&["packages/*", "../shared"], &[], &["packages/a"]),
            Err("its workspace member `../shared` is outside the workspace root, and repin copies nothing from outside it".into())
        );
        assert!(
            dirs(&["/etc"], &[], &[])
                .unwrap_err()
                .contains("`/etc` is outside")
        );
        assert!(
            dirs(&["packages/*"], &["packages/../../x"], &[])
                .unwrap_err()
                .contains("`packages/../../x` is outside")
        );
        assert!(
            dirs(&["packages/[a"], &[], &[])
                .unwrap_err()
                .contains("is not a glob")
        );
        // The other globs still say which pyprojects are members.
        let workspace = UvWorkspace {
            members: vec!["packages/*".into(), "../shared".into()],
            exclude: Vec::new(),
        };
        let (found, why) = member_dirs(&workspace, &[PathBuf::from("packages/a")]);
        assert_eq!(
            (found, why.is_some()),
            (vec![PathBuf::from("packages/a")], true)
        );
        assert!(stays_within(Path::new("packages/a")));
        assert!(!stays_within(Path::new("packages/../../a")));
        assert!(!stays_within(Path::new("/a")));
    }
}
