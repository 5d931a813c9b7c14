//! The target a `pyproject.toml` beside a requirements file gives: the lowest Python minor its
//! `requires-python` admits.

use std::path::{Path, PathBuf};

use pep440_rs::{Version, VersionSpecifiers};

use crate::config::Loaded;
use crate::manifest::workspace::Workspace;
use crate::versioning::support::Release;

/// The most of a `pyproject.toml` read: its `[project]` table comes early in practice.
const MAX_BYTES: usize = 1 << 20;

/// `requires-python` of the `[project]` table and its 1-based line, else the `python` of
/// `[tool.poetry.dependencies]` translated from Poetry's syntax (`^3.10` is `>=3.10,<4.0`; of a
/// union, the branch reaching the lowest Python). A line scan, not a TOML parse: the value is
/// one basic or literal string on its own line in every file seen, and a scan has no depth to
/// exhaust on a hostile file.
pub(super) fn requires_python(text: &str) -> Option<(String, usize)> {
    let mut table = "";
    let mut poetry = None;
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('[') {
            table = line.trim_start_matches('[').trim_end_matches(']').trim();
            continue;
        }
        let key = match table {
            "project" => "requires-python",
            "tool.poetry.dependencies" => "python",
            _ => continue,
        };
        let Some((written_key, value)) = line.split_once('=') else {
            continue;
        };
        if written_key.trim().trim_matches('"') != key {
            continue;
        }
        let value = value.trim();
        let Some(quote) = value.chars().next().filter(|c| matches!(c, '"' | '\'')) else {
            continue;
        };
        let inner = &value[1..];
        let Some(end) = inner.find(quote) else {
            continue;
        };
        let written = &inner[..end];
        if table == "project" {
            return Some((written.to_owned(), number + 1));
        }
        if poetry.is_none() {
            poetry = poetry_python(written).map(|s| (s, number + 1));
        }
    }
    poetry
}

/// A Poetry `python` constraint as PEP 440: its branch with the lowest floor.
fn poetry_python(written: &str) -> Option<String> {
    let constraint = crate::versioning::poetry::Constraint::parse(written).ok()?;
    let branch = constraint.branches.iter().min_by_key(|b| {
        crate::versioning::pep440::floor(&b.specifiers).unwrap_or_else(|| Version::new([0]))
    })?;
    Some(branch.specifiers.to_string())
}

/// The lowest Python minor of the release data that `specifiers` admits (a minor is admitted
/// when its later patch releases are: `>=3.10.4` admits 3.10).
pub(super) fn lowest_minor(specifiers: &VersionSpecifiers, config: &Loaded) -> Option<Version> {
    let mut minors: Vec<(u64, u64)> = config
        .release_data
        .releases()
        .filter_map(|(release, _)| match release {
            Release::Python(major, minor) if *major == 3 => Some((*major, *minor)),
            _ => None,
        })
        .collect();
    minors.sort_unstable();
    minors
        .into_iter()
        .find(|(major, minor)| specifiers.contains(&Version::new([*major, *minor, 99])))
        .map(|(major, minor)| Version::new([major, minor]))
}

/// The target of the `pyproject.toml` in `path`'s directory: its Python, path and line.
pub(super) fn beside(
    workspace: &Workspace,
    path: &Path,
    config: &Loaded,
) -> Option<(Version, PathBuf, usize)> {
    let pyproject = path.parent()?.join("pyproject.toml");
    // Through the repository root: nothing outside the repository is read.
    let root = workspace.root_of(path).ok()?;
    let bytes = root.read(&pyproject).ok()?;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_BYTES)]);
    let (written, line) = requires_python(&text)?;
    let specifiers: VersionSpecifiers = written.parse().ok()?;
    Some((lowest_minor(&specifiers, config)?, pyproject, line))
}
