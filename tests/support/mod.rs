//! Shared helpers for integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The real-world corpus (`REPIN_CORPUS`, default `../shared/corpus`). In CI a missing corpus
/// fails the test; elsewhere the test is skipped with a visible message.
pub fn corpus() -> Option<PathBuf> {
    let path = std::env::var_os("REPIN_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if path.is_dir() {
        // Without `..` in it, so paths repin normalises still start with it.
        return Some(path.canonicalize().unwrap_or(path));
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the corpus is missing at {} (set REPIN_CORPUS)",
        path.display()
    );
    eprintln!(
        "SKIPPED: the corpus is not at {} (set REPIN_CORPUS to run this test)",
        path.display()
    );
    None
}

/// Every file below `dir`, sorted.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

pub mod pypiserver;
pub mod registry;
