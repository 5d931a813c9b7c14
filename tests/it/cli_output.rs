//! Snapshots of what `check`, `audit` and `lock` print, as tables and as JSON, for one small
//! repository of the test's own against a real pypiserver and an offline advisory directory:
//! a change to any command's output shows in review as a snapshot diff. The index's port is
//! the only part replaced (pypiserver gives no upload times, so no age varies; the wheels are
//! written byte for byte the same each time, so their hashes do not either).

use crate::support;

use std::path::Path;
use std::process::Output;

use support::pypiserver::{Meta, PypiServer, write_wheel_with};

/// Run repin in `dir` with a clean environment and no colour.
fn repin_in(dir: &Path, home: &Path, args: &[&str]) -> Output {
    support::repin_in(dir, home, args, &[("NO_COLOR", "1")])
}

/// An OSV record (PyPA's YAML shape) of `package`, fixed in `fixed`.
fn advisory(db: &Path, id: &str, package: &str, fixed: &str, severity: &str, summary: &str) {
    let dir = db.join("vulns").join(package);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("{id}.yaml")),
        format!(
            "id: {id}\nsummary: {summary}\naliases:\n- CVE-2031-0{}\naffected:\n- package:\n    ecosystem: PyPI\n    name: {package}\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: '0'\n    - fixed: {fixed}\ndatabase_specific:\n  severity: {severity}\n",
            id.len()
        ),
    )
    .unwrap();
}

/// The repository, its index and its advisories.
struct World {
    _packages: tempfile::TempDir,
    server: PypiServer,
    repo: tempfile::TempDir,
    db: tempfile::TempDir,
    home: tempfile::TempDir,
}

fn world() -> World {
    let packages = tempfile::tempdir().unwrap();
    let flask = Meta {
        requires_dist: &["itsdangerous>=2.0", "click>=8.0"],
        ..Meta::default()
    };
    for version in ["2.2.2", "2.2.5", "3.0.3"] {
        write_wheel_with(packages.path(), "flask", version, &flask);
    }
    for (name, version) in [
        ("itsdangerous", "2.1.2"),
        ("itsdangerous", "2.2.0"),
        ("click", "8.1.7"),
        ("click", "8.1.8"),
    ] {
        write_wheel_with(packages.path(), name, version, &Meta::default());
    }
    let server = PypiServer::start(packages.path());
    let db = tempfile::tempdir().unwrap();
    advisory(
        db.path(),
        "PYSEC-7",
        "flask",
        "2.2.5",
        "HIGH",
        "Session cookie served to the wrong user",
    );
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("repin.toml"),
        format!(
            "[python]\nversion = \"3.12\"\n\n[[indexes]]\nurl = \"{}\"\nprimary = true\n",
            server.index_url()
        ),
    )
    .unwrap();
    std::fs::write(
        repo.path().join("requirements.txt"),
        "flask==2.2.2\nitsdangerous==2.1.2\nclick>=8.0\n",
    )
    .unwrap();
    std::fs::write(repo.path().join("requirements.in"), "flask>=2.2\n").unwrap();
    World {
        _packages: packages,
        server,
        repo,
        db,
        home: tempfile::tempdir().unwrap(),
    }
}

impl World {
    /// Run repin in the repository; the output with the index's port and the advisory
    /// directory replaced.
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = repin_in(self.repo.path(), self.home.path(), args);
        let clean = |bytes: &[u8]| {
            let text: String = String::from_utf8_lossy(bytes)
                // The address, not the number alone, which a hash may contain.
                .replace(
                    &format!("127.0.0.1:{}", self.server.port()),
                    "127.0.0.1:[PORT]",
                )
                .replace(self.db.path().to_str().unwrap(), "[DB]");
            text
        };
        (
            out.status.code().unwrap_or(-1),
            clean(&out.stdout),
            clean(&out.stderr),
        )
    }

    fn db(&self) -> &str {
        self.db.path().to_str().unwrap()
    }
}

impl World {
    /// `command` on the repository with the test's advisories, as a table and as JSON: the
    /// exit code, stdout and stderr of each, for `{name}_table` and `{name}_json` snapshots.
    fn table_and_json(&self, command: &str) -> (String, String) {
        let (code, stdout, stderr) = self.run(&[command, "--advisory-db", self.db(), "."]);
        let table = format!("exit {code}\n--- stdout\n{stdout}--- stderr\n{stderr}");
        let (code, stdout, stderr) =
            self.run(&[command, "--advisory-db", self.db(), "--format", "json", "."]);
        let json: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        let json = format!("exit {code}\n--- stdout\n{json:#}\n--- stderr\n{stderr}");
        (table, json)
    }
}

#[test]
fn check_prints_a_table_and_json() {
    let (table, json) = world().table_and_json("check");
    insta::assert_snapshot!("check_table", table);
    insta::assert_snapshot!("check_json", json);
}

#[test]
fn audit_prints_a_table_and_json() {
    let (table, json) = world().table_and_json("audit");
    insta::assert_snapshot!("audit_table", table);
    insta::assert_snapshot!("audit_json", json);
}

#[test]
fn lock_prints_what_it_locked_and_writes_the_lock() {
    let world = world();
    let (code, stdout, stderr) = world.run(&["lock", "requirements.in", "-o", "locked.txt"]);
    let lock = std::fs::read_to_string(world.repo.path().join("locked.txt")).unwrap();
    insta::assert_snapshot!(
        "lock",
        format!("exit {code}\n--- stdout\n{stdout}--- stderr\n{stderr}--- locked.txt\n{lock}")
    );
    // Again, with nothing to change: said so, the file untouched.
    let (code, stdout, stderr) = world.run(&["lock", "requirements.in", "-o", "locked.txt"]);
    insta::assert_snapshot!(
        "lock_again",
        format!("exit {code}\n--- stdout\n{stdout}--- stderr\n{stderr}")
    );
}
