//! `repin check` and `apply` on a uv workspace against a real pypiserver: a root
//! `pyproject.toml` with `[tool.uv.workspace]`, two members below it and one `uv.lock` at the
//! root, made by uv itself. An update of a member's requirement writes the member's pyproject
//! and the root's lock, re-locked by uv at the root of a scratch copy holding the root's and
//! every member's pyproject; a security fix of a pin of the lock re-locks the lock alone. The
//! oracle is uv (`uv lock --locked` against the same index). A workspace whose members leave
//! the repository, or that uv would build a member of, is not re-locked, and says why.

use crate::support;

use std::path::Path;

use serde_json::Value;
use support::pypiserver::PypiServer;
use support::tools::{Tools, publish, read, repository};

const RELEASES: &[(&str, &str, &[&str])] = &[
    ("flask", "2.2.2", &["werkzeug>=2.2"]),
    ("flask", "3.0.3", &["werkzeug>=3.0"]),
    ("werkzeug", "3.0.1", &["markupsafe>=2.1"]),
    ("werkzeug", "3.0.6", &["markupsafe>=2.1"]),
    ("markupsafe", "2.1.3", &[]),
    ("markupsafe", "2.1.5", &[]),
    // Looked up as the `app` member's build requirement; never installed.
    ("hatchling", "1.27.0", &[]),
];

/// The root: a project of its own depending on the `app` member, whose members are the
/// directories of `packages` (`members` as written).
fn root(members: &str) -> String {
    format!(
        r#"[project]
name = "shop"
version = "0.1.0"
requires-python = ">=3.8"
dependencies = ["app"]

[tool.uv.sources]
app = {{ workspace = true }}

[tool.uv.workspace]
members = [{members}]
exclude = ["packages/notes"]

[[tool.uv.index]]
name = "local"
url = "{{index}}"
default = true
"#
    )
}

/// The `app` member, pinning `flask`; built by hatchling (an editable member), never built by
/// the re-lock: its metadata is static.
fn app(flask: &str) -> String {
    format!(
        r#"[project]
name = "app"
version = "0.1.0"
requires-python = ">=3.8"
dependencies = [
    "flask=={flask}",  # web
]

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
"#
    )
}

/// The `lib` member: a range the newest release is in (no update), a virtual member.
const LIB: &str = r#"[project]
name = "lib"
version = "0.1.0"
requires-python = ">=3.8"
dependencies = ["markupsafe>=2.1"]
"#;

struct Setup {
    /// The repository's parent: a member above the root is a sibling of the repository.
    dir: tempfile::TempDir,
    _packages: tempfile::TempDir,
    tools: Tools,
    pypi: PypiServer,
}

impl Setup {
    /// The workspace with `members`, the `app` and `lib` members written, and `more` done to
    /// the repository before uv locks it (werkzeug held at 3.0.1).
    fn new(members: &str, more: impl FnOnce(&Path)) -> Setup {
        let packages = tempfile::tempdir().unwrap();
        publish(packages.path(), RELEASES);
        let pypi = PypiServer::start(packages.path());
        let index = pypi.index_url().to_string();
        let dir = repository("pyproject.toml", &root(members), &index);
        // The repository `support::tools::repository` makes, one level down.
        let repo = dir.path().join("repo");
        std::fs::create_dir(&repo).unwrap();
        for name in [".git", "pyproject.toml", "repin.toml"] {
            std::fs::rename(dir.path().join(name), repo.join(name)).unwrap();
        }
        for (member, text) in [("packages/app", app("2.2.2")), ("packages/lib", LIB.into())] {
            std::fs::create_dir_all(repo.join(member)).unwrap();
            std::fs::write(repo.join(member).join("pyproject.toml"), text).unwrap();
        }
        more(&repo);
        let setup = Setup {
            dir,
            _packages: packages,
            tools: Tools::new(),
            pypi,
        };
        setup.uv_ok(&[
            "lock",
            "--no-python-downloads",
            "--upgrade-package",
            "werkzeug==3.0.1",
        ]);
        setup
    }

    fn repo(&self) -> std::path::PathBuf {
        self.dir.path().join("repo")
    }

    fn uv_ok(&self, args: &[&str]) {
        let out = self.tools.output("uv", &self.repo(), args, &[]);
        assert!(
            out.status.success(),
            "uv {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn repin(&self, args: &[&str]) -> support::Said {
        let index = self.pypi.index_url().to_string();
        let cache = self.tools.dir().join("uv-cache");
        let env = [
            ("PIP_INDEX_URL", std::ffi::OsStr::new(&index)),
            ("UV_CACHE_DIR", cache.as_os_str()),
        ];
        support::repin_on(&self.repo(), args, &env)
    }
}

/// `name version source` of every package of a uv.lock, as uv itself wrote them.
fn locked(lock: &str) -> Vec<String> {
    let document: toml_edit::DocumentMut = lock.parse().unwrap();
    let mut out: Vec<String> = document["package"]
        .as_array_of_tables()
        .unwrap()
        .iter()
        .map(|p| {
            let source = p["source"].as_inline_table().unwrap();
            let (kind, at) = source.iter().next().unwrap();
            let at = if kind == "registry" {
                ""
            } else {
                at.as_str().unwrap()
            };
            format!(
                "{} {} {kind} {at}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap()
            )
            .trim_end()
            .to_owned()
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_member_s_update_relocks_the_workspace_root_s_lock_with_it() {
    let setup = Setup::new(r#""packages/*""#, |_| {});
    let repo = &setup.repo();
    let root_before = read(repo, "pyproject.toml");
    assert_eq!(
        locked(&read(repo, "uv.lock")),
        [
            "app 0.1.0 editable packages/app",
            "flask 2.2.2 registry",
            "lib 0.1.0 virtual packages/lib",
            "markupsafe 2.1.5 registry",
            "shop 0.1.0 virtual .",
            "werkzeug 3.0.1 registry",
        ]
    );

    let (stdout, stderr, code) = setup.repin(&["check", "--format", "json"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let updates = report["updates"].as_array().unwrap();
    assert_eq!(updates.len(), 1, "{report:#}");
    let update = &updates[0];
    assert!(
        update["file"]
            .as_str()
            .unwrap()
            .ends_with("packages/app/pyproject.toml"),
        "{report:#}"
    );
    assert_eq!(
        (&update["name"], &update["proposed"]),
        (&Value::from("flask"), &Value::from("3.0.3"))
    );
    assert_eq!(
        update["companions"][0]["file"].as_str().unwrap(),
        repo.join("uv.lock").to_str().unwrap(),
        "the root's lock, not one beside the member: {report:#}"
    );
    assert!(
        update["reason"]
            .as_str()
            .unwrap()
            .contains("uv.lock with it: flask 2.2.2 → 3.0.3"),
        "{report:#}"
    );

    let (stdout, stderr, code) = setup.repin(&["apply"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(read(repo, "packages/app/pyproject.toml"), app("3.0.3"));
    assert_eq!(read(repo, "packages/lib/pyproject.toml"), LIB);
    assert_eq!(read(repo, "pyproject.toml"), root_before);
    let after = read(repo, "uv.lock");
    assert_eq!(
        locked(&after),
        [
            "app 0.1.0 editable packages/app",
            "flask 3.0.3 registry",
            "lib 0.1.0 virtual packages/lib",
            "markupsafe 2.1.5 registry",
            "shop 0.1.0 virtual .",
            "werkzeug 3.0.1 registry",
        ],
        "uv moves only what the update needs, and keeps the other pins"
    );
    // The oracle: uv, at the root, against the same index, takes the lock as it is.
    setup.uv_ok(&["lock", "--locked", "--no-python-downloads"]);
    // Applied again, nothing is due and nothing changes.
    let (stdout, stderr, code) = setup.repin(&["apply"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(read(repo, "uv.lock"), after);
}

/// `repin check`'s output on `setup`, which must hold the member's update back saying `why`,
/// and `apply` changes nothing.
fn assert_held_back(setup: &Setup, why: &str) {
    let repo = &setup.repo();
    let (lock, app_before) = (
        read(repo, "uv.lock"),
        read(repo, "packages/app/pyproject.toml"),
    );
    let (stdout, stderr, code) = setup.repin(&["check"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains(&format!("uv.lock cannot be re-locked with it: {why}")),
        "{all}"
    );
    let (stdout, stderr, code) = setup.repin(&["apply"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(read(repo, "uv.lock"), lock);
    assert_eq!(read(repo, "packages/app/pyproject.toml"), app_before);
}

#[test]
fn a_workspace_whose_members_leave_the_repository_is_not_relocked_and_says_why() {
    // A member glob above the root: uv follows it to `../shared`, out of the repository.
    let outside = |repo: &Path| {
        let shared = repo.join("../shared");
        std::fs::create_dir_all(&shared).unwrap();
        std::fs::write(
            shared.join("pyproject.toml"),
            "[project]\nname = \"shared\"\nversion = \"1\"\nrequires-python = \">=3.8\"\n",
        )
        .unwrap();
        shared
    };
    let setup = Setup::new(r#""packages/*", "../shared""#, |repo| {
        outside(repo);
    });
    assert_held_back(
        &setup,
        "its workspace member `../shared` is outside the workspace root, and repin copies nothing from outside it",
    );

    // A member directory that is a link out of the repository.
    let setup = Setup::new(r#""packages/*""#, |repo| {
        let shared = outside(repo);
        std::os::unix::fs::symlink(&shared, repo.join("packages/linked")).unwrap();
    });
    assert!(read(&setup.repo(), "uv.lock").contains("virtual = \"packages/linked\""));
    assert_held_back(
        &setup,
        "`shared` comes from the virtual `packages/linked`, which is outside the repository",
    );
}

#[test]
fn a_vulnerable_pin_of_a_workspace_s_lock_is_fixed_by_a_relock_at_the_root_alone() {
    let setup = Setup::new(r#""packages/*""#, |_| {});
    let repo = &setup.repo();
    let db = tempfile::tempdir().unwrap();
    let vulns = db.path().join("vulns").join("werkzeug");
    std::fs::create_dir_all(&vulns).unwrap();
    std::fs::write(
        vulns.join("PYSEC-2030-7.yaml"),
        "id: PYSEC-2030-7\nsummary: Debugger pin bypass\naffected:\n- package:\n    ecosystem: PyPI\n    name: werkzeug\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: '0'\n    - fixed: 3.0.6\n",
    )
    .unwrap();
    let manifests = |repo: &Path| {
        [
            "pyproject.toml",
            "packages/app/pyproject.toml",
            "packages/lib/pyproject.toml",
        ]
        .map(|name| read(repo, name))
    };
    let before = manifests(repo);
    let db_path = db.path().to_str().unwrap();
    let (stdout, stderr, code) =
        setup.repin(&["apply", "--only", "werkzeug", "--advisory-db", db_path]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(manifests(repo), before, "no manifest changes");
    assert_eq!(
        locked(&read(repo, "uv.lock")),
        [
            "app 0.1.0 editable packages/app",
            "flask 2.2.2 registry",
            "lib 0.1.0 virtual packages/lib",
            "markupsafe 2.1.5 registry",
            "shop 0.1.0 virtual .",
            "werkzeug 3.0.6 registry",
        ]
    );
    setup.uv_ok(&["lock", "--locked", "--no-python-downloads"]);
}

#[test]
fn a_member_whose_dependencies_are_dynamic_is_not_relocked_and_says_why() {
    let setup = Setup::new(r#""packages/*""#, |_| {});
    // Declared after uv locked it: uv would now build the member to read them.
    let lib = setup.repo().join("packages/lib/pyproject.toml");
    std::fs::write(
        &lib,
        LIB.replace(
            "version = \"0.1.0\"",
            "version = \"0.1.0\"\ndynamic = [\"optional-dependencies\"]",
        ),
    )
    .unwrap();
    assert_held_back(
        &setup,
        &format!(
            "`{}` declares its `optional-dependencies` dynamic, which uv builds the project to read, and repin runs uv with `--no-build`",
            lib.display()
        ),
    );
}

#[test]
fn updates_of_two_members_are_applied_with_one_relock_of_the_root_s_lock() {
    let lib = LIB.replace("markupsafe>=2.1", "markupsafe==2.1.3");
    let setup = Setup::new(r#""packages/*""#, |repo| {
        std::fs::write(repo.join("packages/lib/pyproject.toml"), &lib).unwrap();
    });
    let repo = &setup.repo();
    let (stdout, stderr, code) = setup.repin(&["apply"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(read(repo, "packages/app/pyproject.toml"), app("3.0.3"));
    assert_eq!(
        read(repo, "packages/lib/pyproject.toml"),
        lib.replace("markupsafe==2.1.3", "markupsafe==2.1.5")
    );
    assert_eq!(
        locked(&read(repo, "uv.lock")),
        [
            "app 0.1.0 editable packages/app",
            "flask 3.0.3 registry",
            "lib 0.1.0 virtual packages/lib",
            "markupsafe 2.1.5 registry",
            "shop 0.1.0 virtual .",
            "werkzeug 3.0.1 registry",
        ]
    );
    setup.uv_ok(&["lock", "--locked", "--no-python-downloads"]);
}
