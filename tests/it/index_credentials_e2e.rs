//! The credentials of a private index reach the locking tools (uv, Poetry, Pipenv) exactly as
//! repin itself sends them, and no other way: against a real pypiserver that lists and serves
//! files only with a password, `repin apply` updates a uv, a Poetry and a Pipenv project whose
//! index is that server, with the operator's credentials (netrc, an allowed `${VAR}`) given to
//! each tool under the name the tool documents for that index; and a repository that names
//! its index after the operator's own `UV_INDEX_<NAME>_PASSWORD`, and points it at a server of
//! its own, gets nothing from it.

use crate::support;

use std::ffi::OsStr;

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
    let home = tools.dir().join("repin-home");
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

/// A tool from PATH in the repository, with the test's own caches and configuration and
/// `env`; it must succeed.
fn tool(setup: &Setup, program: &str, args: &[&str], env: &[(&str, &str)]) {
    setup.tools.run(program, setup.repo.path(), args, env);
}

/// `repin apply` on the repository with the operator's netrc and `env`.
fn apply(setup: &Setup, env: &[(&str, &str)]) -> String {
    let home = setup.tools.dir().join("repin-home");
    let env: Vec<(&str, &OsStr)> = env.iter().map(|(k, v)| (*k, OsStr::new(*v))).collect();
    let repo = setup.repo.path().to_str().unwrap();
    let out = support::repin_with_env(&home, &["apply", "--no-cache", repo], &env);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(!all.contains(PASSWORD), "{all}");
    all
}

fn read(setup: &Setup, name: &str) -> String {
    support::tools::read(setup.repo.path(), name)
}

#[test]
fn uv_gets_the_credentials_repin_sends_to_the_private_index_it_declares() {
    let setup = setup(
        "pyproject.toml",
        r#"[project]
name = "shop"
version = "0.1.0"
requires-python = ">=3.8"
dependencies = ["flask==2.2.2"]

[[tool.uv.index]]
name = "private-idx"
url = "{index}"
default = true
"#,
    );
    relocks_with_uv(&setup, "pyproject.toml");
}

/// uv locks the project with the private index's credentials under uv's own names for the
/// `private-idx` index (as its documentation gives them); then `repin apply` updates flask in
/// `manifest` and has uv re-lock, which it can only with the credentials repin gives it; uv
/// agrees the new lock is the manifest's.
fn relocks_with_uv(setup: &Setup, manifest: &str) {
    let login = [
        ("UV_INDEX_PRIVATE_IDX_USERNAME", USER),
        ("UV_INDEX_PRIVATE_IDX_PASSWORD", PASSWORD),
    ];
    relocks_with_uv_given(setup, manifest, &login);
}

/// [`relocks_with_uv`] with uv given the credentials as `login` says.
fn relocks_with_uv_given(setup: &Setup, manifest: &str, login: &[(&str, &str)]) {
    tool(setup, "uv", &["lock", "--no-python-downloads"], login);
    publish(setup.packages.path(), LATER);
    let all = apply(setup, &[]);
    assert!(read(setup, manifest).contains("\"flask==3.0.3\""), "{all}");
    let lock = read(setup, "uv.lock");
    assert!(
        lock.contains("name = \"flask\"\nversion = \"3.0.3\""),
        "{all}\n{lock}"
    );
    assert!(!lock.contains(PASSWORD));
    // The index lists and serves nothing without the password: uv was given it.
    tool(
        setup,
        "uv",
        &["lock", "--locked", "--no-python-downloads"],
        login,
    );
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
    let root = setup.repo.path().join("pyproject.toml");
    let text = std::fs::read_to_string(&root).unwrap();
    std::fs::write(&root, text.replace("{public}", open.index_url().as_str())).unwrap();
    let member = setup.repo.path().join("packages/app");
    std::fs::create_dir_all(&member).unwrap();
    std::fs::write(
        member.join("pyproject.toml"),
        format!(
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
    )
    .unwrap();
    relocks_with_uv(&setup, "packages/app/pyproject.toml");
}

/// A default index without a `name` gets its credentials as uv's `UV_DEFAULT_INDEX`, with them
/// in the URL: the index that is the default either way.
#[test]
fn a_default_index_without_a_name_gets_its_credentials_in_uvs_default_index() {
    let setup = setup(
        "pyproject.toml",
        r#"[project]
name = "shop"
version = "0.1.0"
requires-python = ">=3.8"
dependencies = ["flask==2.2.2"]

[[tool.uv.index]]
url = "{index}"
default = true
"#,
    );
    let with_login = setup.pypi.index_url().as_str().replacen(
        "http://",
        &format!("http://{USER}:{PASSWORD}@"),
        1,
    );
    relocks_with_uv_given(
        &setup,
        "pyproject.toml",
        &[("UV_DEFAULT_INDEX", &with_login)],
    );
}

/// A workspace member that gives the root's index name to another URL (a server of its own)
/// would have uv send the root index's credentials there: the re-lock is held back, saying
/// why, and nothing is written.
#[test]
fn an_index_name_a_member_gives_another_url_holds_the_relock_back_and_says_why() {
    let setup = setup(
        "pyproject.toml",
        r#"[project]
name = "shop"
version = "0.1.0"
requires-python = ">=3.8"
dependencies = ["flask==2.2.2"]

[tool.uv.workspace]
members = ["packages/*"]

[[tool.uv.index]]
name = "private-idx"
url = "{index}"
default = true
"#,
    );
    let member = setup.repo.path().join("packages/notes");
    std::fs::create_dir_all(&member).unwrap();
    std::fs::write(
        member.join("pyproject.toml"),
        "[project]\nname = \"notes\"\nversion = \"0.1.0\"\nrequires-python = \">=3.8\"\ndependencies = []\n\n[[tool.uv.index]]\nname = \"Private-Idx\"\nurl = \"http://127.0.0.1:9/simple/\"\nexplicit = true\n",
    )
    .unwrap();
    let login = [
        ("UV_INDEX_PRIVATE_IDX_USERNAME", USER),
        ("UV_INDEX_PRIVATE_IDX_PASSWORD", PASSWORD),
    ];
    tool(&setup, "uv", &["lock", "--no-python-downloads"], &login);
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
    tool(&setup, "poetry", &["lock", "--no-interaction"], &login);
    publish(setup.packages.path(), LATER);
    let all = apply(&setup, &[]);
    assert!(
        read(&setup, "pyproject.toml").contains("\"flask==3.0.3\""),
        "{all}"
    );
    let lock = read(&setup, "poetry.lock");
    assert!(
        lock.contains("name = \"flask\"\nversion = \"3.0.3\""),
        "{all}\n{lock}"
    );
    assert!(!lock.contains(PASSWORD));
    tool(
        &setup,
        "poetry",
        &["check", "--lock", "--no-interaction"],
        &login,
    );
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
    let pipfile = read(&setup, "Pipfile").replace("{host}", &host);
    std::fs::write(setup.repo.path().join("Pipfile"), pipfile).unwrap();
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
    let setup = setup(
        "pyproject.toml",
        r#"[project]
name = "shop"
version = "0.1.0"
requires-python = ">=3.8"
dependencies = ["flask==2.2.2"]

[[tool.uv.index]]
name = "private-idx"
url = "{index}"
default = true
"#,
    );
    let login = [
        ("UV_INDEX_PRIVATE_IDX_USERNAME", USER),
        ("UV_INDEX_PRIVATE_IDX_PASSWORD", PASSWORD),
    ];
    tool(&setup, "uv", &["lock", "--no-python-downloads"], &login);
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
    let pyproject = read(&setup, "pyproject.toml").replace(
        "[[tool.uv.index]]\nname = \"private-idx\"",
        &format!(
            "[[tool.uv.index]]\nname = \"corp\"\nurl = \"{}\"\n\n[[tool.uv.index]]\nname = \"private-idx\"",
            harvester.url("/simple/")
        ),
    );
    std::fs::write(setup.repo.path().join("pyproject.toml"), &pyproject).unwrap();
    publish(setup.packages.path(), LATER);
    // The operator's credentials for the private index are for its URL (`PIP_INDEX_URL`), not
    // for its host (netrc), which the test's two servers share.
    let home = setup.tools.dir().join("repin-home");
    std::fs::remove_file(home.join(".netrc")).unwrap();
    std::fs::write(
        setup.repo.path().join("repin.toml"),
        "[advisories]\nsource = \"off\"\n",
    )
    .unwrap();
    let operator_index = format!(
        "http://{USER}:{PASSWORD}@127.0.0.1:{}/simple/",
        setup.pypi.port()
    );
    let repo = setup.repo.path().to_str().unwrap();
    let out = support::repin_with_env(
        &home,
        &["apply", "--no-cache", repo],
        &[
            ("PIP_INDEX_URL", OsStr::new(&operator_index)),
            ("UV_INDEX_CORP_USERNAME", OsStr::new("operator")),
            ("UV_INDEX_CORP_PASSWORD", OsStr::new(CANARY)),
        ],
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
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
