//! Shared helpers for integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub mod shared;
#[allow(unused_imports)]
pub use shared::corpus;

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

pub mod github;
pub mod pypiserver;
pub mod registry;

/// Run the `repin` binary with a clean environment: no pip.conf, `PIP_*` variables or Docker
/// credentials of this machine leak into the test.
pub fn repin(home: &Path, args: &[&str]) -> std::process::Output {
    repin_with_env(home, args, &[])
}

/// [`repin`] with extra environment variables.
pub fn repin_with_env(
    home: &Path,
    args: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_repin"))
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PIP_CONFIG_FILE", "/dev/null")
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .output()
        .expect("repin runs")
}
