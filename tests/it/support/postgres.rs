//! A real PostgreSQL server for the bot's queue tests (Debian's `postgresql` package): a fresh
//! cluster in a temporary directory (`initdb`), started with `pg_ctl` on a free loopback port,
//! stopped and removed when dropped. PostgreSQL refuses to run as root, so as root the cluster
//! belongs to the package's `postgres` user.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running server; stopped when dropped.
pub struct Postgres {
    /// `postgres://repin@127.0.0.1:PORT/postgres`
    pub url: String,
    bin: PathBuf,
    data: PathBuf,
    owner: Option<(u32, u32)>,
    _dir: tempfile::TempDir,
}

/// The directory of `initdb` and `pg_ctl`: Debian keeps them in
/// `/usr/lib/postgresql/VERSION/bin`, the newest is taken; else `PATH`.
fn bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "PostgreSQL's `initdb` and `pg_ctl` are not installed, and this test runs a PostgreSQL server\n  hint: `apt-get install postgresql` (`scripts/test` installs it when run as root or with sudo)"
        )
    })
}

/// The uid and gid of the `postgres` user (as root), `None` when not root.
fn owner() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let name = std::ffi::CString::new("postgres").unwrap();
    // SAFETY: getpwnam with a valid C string; the record is read at once, before any other
    // call could overwrite it (tests do not call getpwnam elsewhere).
    let record = unsafe { libc::getpwnam(name.as_ptr()) };
    assert!(
        !record.is_null(),
        "PostgreSQL does not run as root and there is no `postgres` user to run it as\n  hint: `apt-get install postgresql` creates it"
    );
    // SAFETY: checked non-null above.
    let record = unsafe { &*record };
    Some((record.pw_uid, record.pw_gid))
}

fn chown(path: &Path, (uid, gid): (u32, u32)) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
}

impl Postgres {
    /// Make a cluster and start it.
    pub fn start() -> Postgres {
        let bin = bin_dir();
        let owner = owner();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        if let Some(owner) = owner {
            chown(dir.path(), owner);
            chown(&data, owner);
        }
        let run = |program: &str, args: &[&str]| {
            let mut command = Command::new(bin.join(program));
            command.args(args).env_remove("PGDATA");
            if let Some((uid, gid)) = owner {
                std::os::unix::process::CommandExt::uid(&mut command, uid);
                std::os::unix::process::CommandExt::gid(&mut command, gid);
                command.env("HOME", dir.path());
            }
            let out = command
                .output()
                .unwrap_or_else(|e| panic!("{program} runs: {e}"));
            assert!(
                out.status.success(),
                "{program} {args:?} failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let data_text = data.to_str().unwrap();
        run(
            "initdb",
            &[
                "-D",
                data_text,
                "-U",
                "repin",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ],
        );
        let port = super::ports::free_port();
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {data_text} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        );
        let log = dir.path().join("postgres.log");
        run(
            "pg_ctl",
            &[
                "-D",
                data_text,
                "-o",
                &options,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        Postgres {
            url: format!("postgres://repin@127.0.0.1:{port}/postgres"),
            bin,
            data,
            owner,
            _dir: dir,
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let mut command = Command::new(self.bin.join("pg_ctl"));
        command.args([
            "-D",
            self.data.to_str().unwrap(),
            "-m",
            "immediate",
            "-w",
            "stop",
        ]);
        if let Some((uid, gid)) = self.owner {
            std::os::unix::process::CommandExt::uid(&mut command, uid);
            std::os::unix::process::CommandExt::gid(&mut command, gid);
        }
        let _ = command.output();
    }
}
