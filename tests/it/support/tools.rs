//! The locking tools the end-to-end tests run, as oracles or to write a project's first lock
//! (uv, Poetry, Pipenv), and the releases they lock: each tool runs with caches, configuration,
//! virtual environments and a home of the test's own, and with none of the machine's settings
//! (its environment is cleared but for `PATH`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::pypiserver::{Meta, write_wheel_with};

/// A release to publish: name, version and its `Requires-Dist` lines.
pub type Release<'a> = (&'a str, &'a str, &'a [&'a str]);

/// Write a wheel for each release into `dir` (an index's package folder), each for Python 3.8
/// and later; their paths, in order.
pub fn publish(dir: &Path, releases: &[Release]) -> Vec<PathBuf> {
    releases
        .iter()
        .map(|(name, version, requires)| {
            let meta = Meta {
                requires_python: Some(">=3.8"),
                requires_dist: requires,
                ..Meta::default()
            };
            write_wheel_with(dir, name, version, &meta)
        })
        .collect()
}

/// The tools' own scratch directory: caches, configuration, virtual environments and home.
pub struct Tools {
    scratch: tempfile::TempDir,
}

impl Default for Tools {
    fn default() -> Self {
        Tools::new()
    }
}

impl Tools {
    /// A new, empty scratch directory.
    pub fn new() -> Tools {
        Tools {
            scratch: tempfile::tempdir().unwrap(),
        }
    }

    /// The scratch directory (a test may keep files of its own there).
    pub fn dir(&self) -> &Path {
        self.scratch.path()
    }

    /// `program` (from `PATH`) to run in `dir`, with the scratch's caches, configuration and
    /// home and no other setting of this machine.
    pub fn command(&self, program: &str, dir: &Path) -> Command {
        let s = self.scratch.path();
        let mut command = Command::new(program);
        command
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", s.join("home"))
            .env("UV_CACHE_DIR", s.join("uv-cache"))
            .env("UV_NO_PROGRESS", "1")
            .env("POETRY_CACHE_DIR", s.join("poetry-cache"))
            .env("POETRY_CONFIG_DIR", s.join("poetry-config"))
            .env("POETRY_VIRTUALENVS_PATH", s.join("venvs"))
            .env("PIPENV_IGNORE_VIRTUALENVS", "1")
            .env("PIPENV_NOSPIN", "1")
            .env("PIPENV_YES", "1")
            .env("WORKON_HOME", s.join("venvs"))
            .env("PIPENV_CACHE_DIR", s.join("pipenv-cache"))
            .env("VIRTUALENV_OVERRIDE_APP_DATA", s.join("app-data"))
            .env("PIP_CONFIG_FILE", "/dev/null");
        command
    }

    /// Run `program args` in `dir` with `env` added; a tool that does not run fails the test,
    /// saying how to install it.
    pub fn output(&self, program: &str, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.command(program, dir)
            .args(args)
            .envs(env.iter().copied())
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "{program}, which this test runs, does not run ({e}): run `scripts/test --setup-only` and put .venv/bin on PATH"
                )
            })
    }

    /// [`Tools::output`] that must succeed; its stdout.
    pub fn run(&self, program: &str, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
        let out = self.output(program, dir, args, env);
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// A repository for a tool project: a `.git` folder (so its root is found), `manifest` written
/// as `manifest_name` with `{index}` replaced by `index`, and a `repin.toml` naming `index` as
/// the primary index with advisories off.
pub fn repository(manifest_name: &str, manifest: &str, index: &str) -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    std::fs::write(
        repo.path().join(manifest_name),
        manifest.replace("{index}", index),
    )
    .unwrap();
    std::fs::write(
        repo.path().join("repin.toml"),
        format!(
            "[[indexes]]\nurl = \"{index}\"\nprimary = true\n\n[advisories]\nsource = \"off\"\n"
        ),
    )
    .unwrap();
    repo
}

/// The text of `dir/name`.
pub fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}
