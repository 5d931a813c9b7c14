//! The credentials of a private index reach the locking tools (uv, Poetry, Pipenv) exactly as
//! repin itself sends them, and no other way: against a real pypiserver that lists and serves
//! files only with a password, `repin apply` updates a uv, a Poetry and a Pipenv project whose
//! index is that server, with the operator's credentials (netrc, an allowed `${VAR}`) given to
//! each tool under the name the tool documents for that index; and a repository that names
//! its index after the operator's own `UV_INDEX_<NAME>_PASSWORD`, and points it at a server of
//! its own, gets nothing from it.

use crate::support;

use std::ffi::OsStr;
use std::path::PathBuf;

use support::loopback::{Loopback, Reply};
use support::pypiserver::PypiServer;
use support::tools::{Tools, publish, repository};

const USER: &str = "ci";
const PASSWORD: &str = "pw-for-the-private-index-7f3a";

const LOCKED: &[(&str, &str, &[&str])] = &[
    ("flask", "2.2.2", &["markupsafe>=2.1"]),
    ("markupsafe", "2.1.3", &[]),
];
const LATER: &[(&str, &str, &[&str])] = &[("flask", "3.0.3", &["markupsafe>=2.1"])];

/// A private index with the locked releases, a repository with `manifest` (its `{index}` the
/// private one) and a netrc giving the operator's credentials for it.
struct Setup {
    repo: tempfile::TempDir,
    packages: tempfile::TempDir,
    /// The tools' caches and configuration, and repin's home (with the netrc).
    tools: Tools,
    pypi: PypiServer,
}

fn setup(manifest_name: &str, manifest: &str) -> Setup {
    let packages = tempfile::tempdir().unwrap();
    publish(packages.path(), LOCKED);
    let pypi = PypiServer::start_with_password(packages.path(), USER, PASSWORD);
    let repo = repository(manifest_name, manifest, pypi.index_url().as_str());
    let tools = Tools::new();
    let home = repin_home(&tools);
    std::fs::create_dir(&home).unwrap();
    std::fs::write(
        home.join(".netrc"),
        format!("machine 127.0.0.1 login {USER} password {PASSWORD}\n"),
    )
    .unwrap();
    Setup {
        repo,
        packages,
        tools,
        pypi,
    }
}

/// repin's home (where the operator's netrc is) in the tools' scratch directory: one place
/// names it, for [`setup`] writes the netrc there and every run of repin reads it.
fn repin_home(tools: &Tools) -> PathBuf {
    tools.dir().join("repin-home")
}

/// A tool from PATH in the repository, with the test's own caches and configuration and
/// `env`; it must succeed.
fn tool(setup: &Setup, program: &str, args: &[&str], env: &[(&str, &str)]) {
    setup.tools.run(program, setup.repo.path(), args, env);
}

/// `repin apply` on the repository with repin's home (and whatever netrc is there) and `env`:
/// its exit code and its stdout and stderr together. Nothing is asserted, so that a test that
/// watches what a run sends, not whether it succeeds, runs repin the same way as [`apply`].
fn apply_output(setup: &Setup, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let home = repin_home(&setup.tools);
    let env: Vec<(&str, &OsStr)> = env.iter().map(|(k, v)| (*k, OsStr::new(*v))).collect();
    let repo = setup.repo.path().to_str().unwrap();
    let out = support::repin_with_env(&home, &["apply", "--no-cache", repo], &env);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), all)
}

/// `repin apply` on the repository with the operator's netrc and `env`; it must succeed and
/// say nothing of the password.
fn apply(setup: &Setup, env: &[(&str, &str)]) -> String {
    let (code, all) = apply_output(setup, env);
    assert_eq!(code, Some(0), "{all}");
    assert!(!all.contains(PASSWORD), "{all}");
    all
}

/// The text of the repository's `name`.
fn read(setup: &Setup, name: &str) -> String {
    support::tools::read(setup.repo.path(), name)
}

/// Replace `from` with `to` in the repository's `name`: for what [`setup`] cannot write, a
/// second server's URL or a host whose port is known only once the index is up.
fn edit(setup: &Setup, name: &str, from: &str, to: &str) {
    let text = read(setup, name).replace(from, to);
    std::fs::write(setup.repo.path().join(name), text).unwrap();
}

/// Write `pyproject` as the `pyproject.toml` of the workspace member at `dir` (relative to
/// the repository), creating its folder.
fn write_member(setup: &Setup, dir: &str, pyproject: &str) {
    let member = setup.repo.path().join(dir);
    std::fs::create_dir_all(&member).unwrap();
    std::fs::write(member.join("pyproject.toml"), pyproject).unwrap();
}

/// A uv project pinning flask 2.2.2 whose default index is the private one, named
/// `private-idx` (the name uv's credential variables are derived from).
const UV_PYPROJECT: &str = r#"[project]
name = "shop"
version = "0.1.0"
requires-python = ">=3.8"
dependencies = ["flask==2.2.2"]

[[tool.uv.index]]
name = "private-idx"
url = "{index}"
default = true
"#;

/// The credentials of the `private-idx` index under uv's own names for them (as its
/// documentation gives them): how the tests' own `uv lock` reaches the private index.
const UV_LOGIN: &[(&str, &str)] = &[
    ("UV_INDEX_PRIVATE_IDX_USERNAME", USER),
    ("UV_INDEX_PRIVATE_IDX_PASSWORD", PASSWORD),
];

/// A locking tool as these tests run it: the command that writes the first lock, the lock it
/// writes, and the command that fails unless the lock is the manifest's.
struct Locker {
    /// The tool, from PATH.
    program: &'static str,
    /// Its arguments that write the project's first lock.
    lock: &'static [&'static str],
    /// The lock it writes.
    lock_file: &'static str,
    /// Its arguments that fail unless the lock is the manifest's.
    check: &'static [&'static str],
}

/// uv: `uv lock` writes `uv.lock`, `uv lock --locked` checks it.
const UV: Locker = Locker {
    program: "uv",
    lock: &["lock", "--no-python-downloads"],
    lock_file: "uv.lock",
    check: &["lock", "--locked", "--no-python-downloads"],
};

/// Poetry: `poetry lock` writes `poetry.lock`, `poetry check --lock` checks it.
const POETRY: Locker = Locker {
    program: "poetry",
    lock: &["lock", "--no-interaction"],
    lock_file: "poetry.lock",
    check: &["check", "--lock", "--no-interaction"],
};

/// `locker` locks the project given the credentials as `login` says; then `repin apply`
/// updates flask in `manifest` and has the tool re-lock, which it can only with the
/// credentials repin gives it; the lock pins flask 3.0.3 without the password, and the tool
/// agrees the new lock is the manifest's. uv and Poetry share it: both write a TOML lock.
fn relocks(setup: &Setup, locker: &Locker, manifest: &str, login: &[(&str, &str)]) {
    tool(setup, locker.program, locker.lock, login);
    publish(setup.packages.path(), LATER);
    let all = apply(setup, &[]);
    assert!(read(setup, manifest).contains("\"flask==3.0.3\""), "{all}");
    let lock = read(setup, locker.lock_file);
    assert!(
        lock.contains("name = \"flask\"\nversion = \"3.0.3\""),
        "{all}\n{lock}"
    );
    assert!(!lock.contains(PASSWORD));
    // The index lists and serves nothing without the password: the tool was given it.
    tool(setup, locker.program, locker.check, login);
}

#[test]
fn uv_gets_the_credentials_repin_sends_to_the_private_index_it_declares() {
    let setup = setup("pyproject.toml", UV_PYPROJECT);
    relocks_with_uv(&setup, "pyproject.toml");
}

/// [`relocks`] with uv, given the private index's credentials under uv's own names for the
/// `private-idx` index ([`UV_LOGIN`]): uv locks the project, then `repin apply` updates flask in
/// `manifest` and has uv re-lock, which it can only with the credentials repin gives it; uv
/// agrees the new lock is the manifest's.
fn relocks_with_uv(setup: &Setup, manifest: &str) {
    relocks(setup, &UV, manifest, UV_LOGIN);
}

/// In a uv workspace, an index only a member declares (for its `[tool.uv.sources]`) gets
/// repin's credentials for it too: the root's default index is another, open server, so only
/// the member's credentials let uv in.
#[test]
fn uv_gets_the_credentials_of_an_index_only_a_workspace_member_declares() {
    let setup = setup(
        "pyproject.toml",
        r#"[tool.uv.workspace]
members = ["packages/*"]

[[tool.uv.index]]
name = "public"
url = "{public}"
default = true
"#,
    );
    let open_packages = tempfile::tempdir().unwrap();
    let open = PypiServer::start(open_packages.path());
    edit(
        &setup,
        "pyproject.toml",
        "{public}",
        open.index_url().as_str(),
    );
    write_member(
        &setup,
        "packages/app",
        &format!(
            r#"[project]
name = "app"
version = "0.1.0"
requires-python = ">=3.8"
dependencies = ["flask==2.2.2", "markupsafe>=2.1"]

[[tool.uv.index]]
name = "private-idx"
url = "{}"
explicit = true

[tool.uv.sources]
flask = {{ index = "private-idx" }}
markupsafe = {{ index = "private-idx" }}
"#,
            setup.pypi.index_url()
        ),
    );
    relocks_with_uv(&setup, "packages/app/pyproject.toml");
}

/// A default index without a `name` gets its credentials as uv's `UV_DEFAULT_INDEX`, with them
/// in the URL: the index that is the default either way.
#[test]
fn a_default_index_without_a_name_gets_its_credentials_in_uvs_default_index() {
    // The usual project, its index without a name.
    let setup = setup(
        "pyproject.toml",
        &UV_PYPROJECT.replace("name = \"private-idx\"\n", ""),
    );
    let with_login = setup.pypi.index_url().as_str().replacen(
        "http://",
        &format!("http://{USER}:{PASSWORD}@"),
        1,
    );
    relocks(
        &setup,
        &UV,
        "pyproject.toml",
        &[("UV_DEFAULT_INDEX", &with_login)],
    );
}

/// A workspace member that gives the root's index name to another URL (a server of its own)
/// would have uv send the root index's credentials there: the re-lock is held back, saying
/// why, and nothing is written.
#[test]
fn an_index_name_a_member_gives_another_url_holds_the_relock_back_and_says_why() {
    // The usual project, the root of a workspace.
    let setup = setup(
        "pyproject.toml",
        &UV_PYPROJECT.replace(
            "[[tool.uv.index]]",
            "[tool.uv.workspace]\nmembers = [\"packages/*\"]\n\n[[tool.uv.index]]",
        ),
    );
    write_member(
        &setup,
        "packages/notes",
        "[project]\nname = \"notes\"\nversion = \"0.1.0\"\nrequires-python = \">=3.8\"\ndependencies = []\n\n[[tool.uv.index]]\nname = \"Private-Idx\"\nurl = \"http://127.0.0.1:9/simple/\"\nexplicit = true\n",
    );
    tool(&setup, "uv", UV.lock, UV_LOGIN);
    let lock = read(&setup, "uv.lock");
    publish(setup.packages.path(), LATER);
    let all = apply(&setup, &[]);
    assert!(
        all.contains("the index name `private-idx` is given to more than one URL, and uv would send the credentials of one to the other"),
        "{all}"
    );
    assert_eq!(read(&setup, "uv.lock"), lock, "{all}");
    assert!(
        read(&setup, "pyproject.toml").contains("\"flask==2.2.2\""),
        "{all}"
    );
}

#[test]
fn poetry_gets_the_credentials_repin_sends_to_the_source_it_declares() {
    let setup = setup(
        "pyproject.toml",
        r#"[project]
name = "shop"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["flask==2.2.2"]

[tool.poetry]
package-mode = false

[[tool.poetry.source]]
name = "private-idx"
url = "{index}"
priority = "primary"
"#,
    );
    let login = [
        ("POETRY_HTTP_BASIC_PRIVATE_IDX_USERNAME", USER),
        ("POETRY_HTTP_BASIC_PRIVATE_IDX_PASSWORD", PASSWORD),
    ];
    relocks(&setup, &POETRY, "pyproject.toml", &login);
}

#[test]
fn pipenv_expands_the_variables_the_operator_allows_for_the_source() {
    let setup = setup(
        "Pipfile",
        r#"[[source]]
url = "http://ci:${PRIVATE_INDEX_PASSWORD}@{host}/simple/"
verify_ssl = false   # pypiserver on loopback speaks plain HTTP
name = "private-idx"

[packages]
flask = "==2.2.2"

[requires]
python_version = "3.11"
"#,
    );
    // The Pipfile's URL carries the variable; `{host}` is the private index's.
    let host = format!("127.0.0.1:{}", setup.pypi.port());
    edit(&setup, "Pipfile", "{host}", &host);
    let login = [("PRIVATE_INDEX_PASSWORD", PASSWORD)];
    tool(&setup, "pipenv", &["lock"], &login);
    publish(setup.packages.path(), LATER);
    let grant = format!("PRIVATE_INDEX_PASSWORD@http://{host}");
    let all = apply(
        &setup,
        &[
            ("PRIVATE_INDEX_PASSWORD", PASSWORD),
            ("REPIN_ALLOW_ENV", &grant),
        ],
    );
    assert!(
        read(&setup, "Pipfile").contains("flask = \"==3.0.3\""),
        "{all}"
    );
    let lock = read(&setup, "Pipfile.lock");
    assert!(lock.contains("\"version\": \"==3.0.3\""), "{all}\n{lock}");
    assert!(!lock.contains(PASSWORD));
    tool(&setup, "pipenv", &["verify"], &login);
}

#[test]
fn an_index_named_after_the_operators_uv_credentials_gets_none_of_them() {
    const CANARY: &str = "canary-operator-uv-password-51c2";
    let setup = setup("pyproject.toml", UV_PYPROJECT);
    tool(&setup, "uv", UV.lock, UV_LOGIN);
    // The repository adds an index of its own, named `corp` like an index of the operator's
    // whose password is in repin's environment. The server asks uv (and only uv: repin's own
    // lookups get a 404, and go on to the private index) for credentials, as a server
    // harvesting them would.
    let harvester = Loopback::start(|seen| {
        let from_uv = seen
            .header("user-agent")
            .is_some_and(|ua| ua.starts_with("uv/"));
        if from_uv && seen.header("authorization").is_none() {
            Reply::status(401, "").with_header("WWW-Authenticate", "Basic realm=\"corp\"")
        } else {
            Reply::status(404, "")
        }
    });
    edit(
        &setup,
        "pyproject.toml",
        "[[tool.uv.index]]\nname = \"private-idx\"",
        &format!(
            "[[tool.uv.index]]\nname = \"corp\"\nurl = \"{}\"\n\n[[tool.uv.index]]\nname = \"private-idx\"",
            harvester.url("/simple/")
        ),
    );
    publish(setup.packages.path(), LATER);
    // The operator's credentials for the private index are for its URL (`PIP_INDEX_URL`), not
    // for its host (netrc), which the test's two servers share.
    std::fs::remove_file(repin_home(&setup.tools).join(".netrc")).unwrap();
    std::fs::write(
        setup.repo.path().join("repin.toml"),
        "[advisories]\nsource = \"off\"\n",
    )
    .unwrap();
    let operator_index = format!(
        "http://{USER}:{PASSWORD}@127.0.0.1:{}/simple/",
        setup.pypi.port()
    );
    // Whether the run succeeds is not the point: what it sends is.
    let (_, all) = apply_output(
        &setup,
        &[
            ("PIP_INDEX_URL", &operator_index),
            ("UV_INDEX_CORP_USERNAME", "operator"),
            ("UV_INDEX_CORP_PASSWORD", CANARY),
        ],
    );
    let requests = harvester.requests();
    let from_uv: Vec<_> = requests
        .iter()
        .filter(|r| {
            r.header("user-agent")
                .is_some_and(|ua| ua.starts_with("uv/"))
        })
        .collect();
    assert!(
        !from_uv.is_empty(),
        "uv never asked the repository's index, so this test shows nothing: {requests:?}\n{all}"
    );
    for request in &requests {
        assert_eq!(request.header("authorization"), None, "{request:?}");
    }
    assert!(!all.contains(CANARY), "{all}");
    assert!(!read(&setup, "uv.lock").contains(CANARY));
}
