//! How Pipenv is run on a scratch copy of a project (`Pipfile` and `Pipfile.lock`).
//!
//! Every re-lock is `pipenv upgrade --lock-only --categories CATEGORY NAME<SPECIFIER>`: it
//! moves the named package (and what it needs) and keeps every other pin of the lock, where
//! `pipenv lock` resolves everything again and moves every pin a newer release allows (tried
//! against pypiserver: an unrelated `other = "*"` moved from 1.0 to 1.1 with `pipenv lock`,
//! and stayed with `pipenv upgrade`). An edit of the Pipfile passes its new specifier with the
//! entry's extras (`flask[async]==3.0.3`); with `--lock-only` Pipenv does not write the
//! Pipfile, so an entry's table, markers and comments stay as repin edited them, and the lock
//! keeps the extras and markers the Pipfile gives (end-to-end test). A security fix of a pin
//! passes `NAME==FIXED`, which Pipenv locks without adding the package to the Pipfile; for a
//! pin the Pipfile does not name, Pipenv takes only the name from it and pins the newest
//! release the Pipfile allows, as Poetry does (`Wanted::AtLeast` of [`super`]). `--lock-only`
//! installs nothing. The lock does not record the Pipenv that wrote it.
//!
//! The Pipfile repin writes is put back after the run and `pipenv verify` checks the new
//! lock's `_meta.hash` against it: an upgrade that rewrote the Pipfile otherwise is caught.
//!
//! Hardening, besides the scratch copy and environment of [`super::process`]: pip reads no
//! configuration file (`PIP_CONFIG_FILE` is the null device), builds nothing
//! (`PIP_ONLY_BINARY=:all:`: a release with no wheel fails the resolution, and the update is
//! held back, instead of running its `setup.py`), asks nothing (`PIP_NO_INPUT`); Pipenv loads
//! no `.env` file (`PIPENV_DONT_LOAD_ENV`), ignores any active virtual environment, uses the
//! scratch's Pipfile (`PIPENV_PIPFILE`) and creates its environment in the scratch
//! (`WORKON_HOME`). Its indexes are the Pipfile's `[[source]]` entries; a `${VAR}` in their
//! URLs is not given (the environment is cleared), so such a source fails and is held back.

use std::ffi::OsString;

use super::process::{EnvVar, Scratch, cache_dir};

/// The Pipfile category (`packages`, `dev-packages`, `docs`) of a lock category (`default`,
/// `develop`, `docs`).
pub fn pipfile_category(lock_category: &str) -> &str {
    match lock_category {
        "default" => "packages",
        "develop" => "dev-packages",
        other => other,
    }
}

/// The arguments of the run that locks `packages` (`flask==3.0.3`) of `category`.
pub fn upgrade_args(category: &str, packages: &[String]) -> Vec<String> {
    let mut out: Vec<String> = ["upgrade", "--lock-only", "--categories", category]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    out.extend(packages.iter().cloned());
    out
}

/// The arguments of the check that the lock matches the Pipfile.
pub fn verify_args() -> Vec<String> {
    vec!["verify".into()]
}

/// The command a user runs instead, in the project's directory.
pub fn command(category: &str, packages: &[String]) -> String {
    let quoted: Vec<String> = packages.iter().map(|p| format!("'{p}'")).collect();
    format!(
        "pipenv upgrade --lock-only --categories {category} {}",
        quoted.join(" ")
    )
}

/// Pipenv's (and pip's) environment.
pub fn env(scratch: &Scratch) -> Vec<EnvVar> {
    let env: Vec<(&str, OsString)> = vec![
        ("PIPENV_PIPFILE", scratch.project().join("Pipfile").into()),
        ("PIPENV_CACHE_DIR", cache_dir(scratch, "pipenv").into()),
        ("WORKON_HOME", scratch.path("venvs").into()),
        ("PIPENV_IGNORE_VIRTUALENVS", "1".into()),
        ("PIPENV_DONT_LOAD_ENV", "1".into()),
        ("PIPENV_YES", "1".into()),
        ("PIPENV_NOSPIN", "1".into()),
        ("PIPENV_HIDE_EMOJIS", "1".into()),
        ("PIP_CONFIG_FILE", "/dev/null".into()),
        ("PIP_ONLY_BINARY", ":all:".into()),
        ("PIP_NO_INPUT", "1".into()),
        ("PIP_DISABLE_PIP_VERSION_CHECK", "1".into()),
    ];
    env.into_iter().map(|(k, v)| (k.into(), v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_categories_are_named_as_the_pipfile_names_them() {
        assert_eq!(pipfile_category("default"), "packages");
        assert_eq!(pipfile_category("develop"), "dev-packages");
        assert_eq!(pipfile_category("docs"), "docs");
        assert_eq!(
            command("packages", &["flask==3.0.3".into()]),
            "pipenv upgrade --lock-only --categories packages 'flask==3.0.3'"
        );
    }
}
