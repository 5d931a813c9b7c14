//! Index precedence, `${VAR}` expansion, credentials and redaction. Every test builds its own
//! environment and files under a temporary directory: nothing reads the real machine's.

use crate::testing::corpus;
use std::fs;
use std::path::Path;

use super::*;

/// A scratch machine: `root/etc/...`, `root/home/...`.
struct Machine {
    dir: tempfile::TempDir,
}

impl Machine {
    fn new() -> Self {
        Machine {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn home(&self) -> PathBuf {
        self.root().join("home")
    }

    fn env(&self) -> Environment {
        Environment::isolated(self.root()).with_home(self.home())
    }

    fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.root().join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        path
    }
}

fn options(index: Option<&str>, extras: &[&str], no_index: bool) -> IndexOptions {
    IndexOptions {
        index_url: index.map(str::to_owned),
        extra_index_urls: extras.iter().map(|s| (*s).to_owned()).collect(),
        no_index,
        ..IndexOptions::default()
    }
}

/// `url (source)` for each index, sources shortened so the table stays readable.
fn describe(indexes: &[Index], machine: &Machine) -> Vec<String> {
    indexes
        .iter()
        .map(|i| {
            let source = match &i.source {
                IndexSource::RequirementsFile { path } => format!("file {}", path.display()),
                IndexSource::Config => "config".into(),
                IndexSource::Environment => "env".into(),
                IndexSource::PipConf { path } => format!(
                    "pip.conf {}",
                    path.strip_prefix(machine.root()).unwrap_or(path).display()
                ),
                IndexSource::Default => "default".into(),
            };
            format!("{} ({source})", i.url)
        })
        .collect()
}

const PIP_CONF: &str = "[global]\nindex-url = https://conf.example/simple\nextra-index-url =\n    https://conf-extra1.example/simple\n    https://conf-extra2.example/simple\n";

#[test]
fn precedence_follows_pip_with_repin_toml_above_the_environment() {
    struct Case {
        what: &'static str,
        file: IndexOptions,
        configured: ConfiguredIndexes,
        vars: &'static [(&'static str, &'static str)],
        pip_conf: bool,
        expected: &'static [&'static str],
    }
    let none = || IndexOptions::default();
    let no_config = ConfiguredIndexes::default;
    let config = |index: Option<&str>, extras: &[&str]| ConfiguredIndexes {
        index_url: index.map(str::to_owned),
        extra_index_urls: extras.iter().map(|s| (*s).to_owned()).collect(),
        ..ConfiguredIndexes::default()
    };
    let env_both: &[(&str, &str)] = &[
        ("PIP_INDEX_URL", "https://env.example/simple"),
        (
            "PIP_EXTRA_INDEX_URL",
            "  https://env-extra1.example/simple   https://env-extra2.example/simple ",
        ),
    ];
    let cases = [
        Case {
            what: "nothing configured",
            file: none(),
            configured: no_config(),
            vars: &[],
            pip_conf: false,
            expected: &["https://pypi.org/simple/ (default)"],
        },
        Case {
            what: "pip.conf index and multi-line extras",
            file: none(),
            configured: no_config(),
            vars: &[],
            pip_conf: true,
            expected: &[
                "https://conf.example/simple/ (pip.conf etc/pip.conf)",
                "https://conf-extra1.example/simple/ (pip.conf etc/pip.conf)",
                "https://conf-extra2.example/simple/ (pip.conf etc/pip.conf)",
            ],
        },
        Case {
            what: "PIP_INDEX_URL beats pip.conf key by key",
            file: none(),
            configured: no_config(),
            vars: &[("PIP_INDEX_URL", "https://env.example/simple")],
            pip_conf: true,
            expected: &[
                "https://env.example/simple/ (env)",
                "https://conf-extra1.example/simple/ (pip.conf etc/pip.conf)",
                "https://conf-extra2.example/simple/ (pip.conf etc/pip.conf)",
            ],
        },
        Case {
            what: "PIP_EXTRA_INDEX_URL is space-separated",
            file: none(),
            configured: no_config(),
            vars: env_both,
            pip_conf: true,
            expected: &[
                "https://env.example/simple/ (env)",
                "https://env-extra1.example/simple/ (env)",
                "https://env-extra2.example/simple/ (env)",
            ],
        },
        Case {
            what: "repin.toml index beats the environment",
            file: none(),
            configured: config(Some("https://toml.example/simple"), &[]),
            vars: env_both,
            pip_conf: true,
            expected: &[
                "https://toml.example/simple/ (config)",
                "https://env-extra1.example/simple/ (env)",
                "https://env-extra2.example/simple/ (env)",
            ],
        },
        Case {
            what: "repin.toml extras beat the environment's",
            file: none(),
            configured: config(None, &["https://toml-extra.example/simple"]),
            vars: env_both,
            pip_conf: true,
            expected: &[
                "https://env.example/simple/ (env)",
                "https://toml-extra.example/simple/ (config)",
            ],
        },
        Case {
            what: "the file's -i replaces everything below, its extras add",
            file: options(
                Some("https://file.example/simple"),
                &["https://file-extra.example/simple"],
                false,
            ),
            configured: config(
                Some("https://toml.example/simple"),
                &["https://toml-extra.example/simple"],
            ),
            vars: env_both,
            pip_conf: true,
            expected: &[
                "https://file.example/simple/ (file requirements.txt)",
                "https://file-extra.example/simple/ (file requirements.txt)",
            ],
        },
        Case {
            what: "the file's extras alone add to the base",
            file: options(None, &["https://file-extra.example/simple"], false),
            configured: no_config(),
            vars: env_both,
            pip_conf: false,
            expected: &[
                "https://env.example/simple/ (env)",
                "https://env-extra1.example/simple/ (env)",
                "https://env-extra2.example/simple/ (env)",
                "https://file-extra.example/simple/ (file requirements.txt)",
            ],
        },
        Case {
            what: "the same index twice is asked once",
            file: options(
                None,
                &["https://pypi.org/simple", "https://env.example/simple/"],
                false,
            ),
            configured: no_config(),
            vars: &[("PIP_EXTRA_INDEX_URL", "https://env.example/simple")],
            pip_conf: false,
            expected: &[
                "https://pypi.org/simple/ (default)",
                "https://env.example/simple/ (env)",
            ],
        },
        Case {
            what: "--no-index in the file: no lookup at all",
            file: options(Some("https://file.example/simple"), &[], true),
            configured: config(Some("https://toml.example/simple"), &[]),
            vars: env_both,
            pip_conf: true,
            expected: &[],
        },
        Case {
            what: "PIP_NO_INDEX: no lookup, even with the file's -i (as in pip)",
            file: options(Some("https://file.example/simple"), &[], false),
            configured: no_config(),
            vars: &[("PIP_NO_INDEX", "yes")],
            pip_conf: false,
            expected: &[],
        },
        Case {
            what: "PIP_NO_INDEX=0 is off",
            file: none(),
            configured: no_config(),
            vars: &[("PIP_NO_INDEX", "0")],
            pip_conf: false,
            expected: &["https://pypi.org/simple/ (default)"],
        },
        Case {
            what: "empty variables are unset",
            file: none(),
            configured: no_config(),
            vars: &[("PIP_INDEX_URL", " "), ("PIP_EXTRA_INDEX_URL", "")],
            pip_conf: true,
            expected: &[
                "https://conf.example/simple/ (pip.conf etc/pip.conf)",
                "https://conf-extra1.example/simple/ (pip.conf etc/pip.conf)",
                "https://conf-extra2.example/simple/ (pip.conf etc/pip.conf)",
            ],
        },
    ];
    for case in cases {
        let machine = Machine::new();
        if case.pip_conf {
            machine.write("etc/pip.conf", PIP_CONF);
        }
        let mut env = machine.env();
        for (name, value) in case.vars {
            env = env.with_var(name, value);
        }
        let resolver = IndexResolver::new(env, case.configured).unwrap();
        let indexes = resolver
            .indexes(&case.file, Some(Path::new("requirements.txt")))
            .unwrap();
        assert_eq!(describe(&indexes, &machine), case.expected, "{}", case.what);
    }
}

#[test]
fn pip_conf_files_are_read_in_pips_order() {
    let machine = Machine::new();
    let env = || {
        machine
            .env()
            .with_var("VIRTUAL_ENV", machine.root().join("venv").to_str().unwrap())
    };
    let conf = |n: u32| format!("[global]\nindex-url = https://level{n}.example/simple\n");
    // Lowest to highest precedence; each file written makes its level win.
    let files = [
        "etc/xdg/pip/pip.conf",
        "etc/pip.conf",
        "home/.pip/pip.conf",
        "home/.config/pip/pip.conf",
        "venv/pip.conf",
    ];
    for (n, file) in files.iter().enumerate() {
        machine.write(file, &conf(n as u32));
        let resolver = IndexResolver::new(env(), ConfiguredIndexes::default()).unwrap();
        let indexes = resolver.indexes(&IndexOptions::default(), None).unwrap();
        assert_eq!(
            describe(&indexes, &machine),
            [format!(
                "https://level{n}.example/simple/ (pip.conf {file})"
            )],
            "after writing {file}"
        );
    }
    let explicit = machine.write("custom.conf", &conf(9));
    let with_explicit = env().with_var("PIP_CONFIG_FILE", explicit.to_str().unwrap());
    let indexes = IndexResolver::new(with_explicit, ConfiguredIndexes::default())
        .unwrap()
        .indexes(&IndexOptions::default(), None)
        .unwrap();
    assert_eq!(indexes[0].url.to_string(), "https://level9.example/simple/");

    // `[install]` in a low file beats `[global]` in a high one.
    machine.write(
        "etc/xdg/pip/pip.conf",
        "[install]\nindex-url = https://install.example/simple\n",
    );
    let indexes = IndexResolver::new(env(), ConfiguredIndexes::default())
        .unwrap()
        .indexes(&IndexOptions::default(), None)
        .unwrap();
    assert_eq!(
        indexes[0].url.to_string(),
        "https://install.example/simple/"
    );

    let disabled = env().with_var("PIP_CONFIG_FILE", "/dev/null");
    let indexes = IndexResolver::new(disabled, ConfiguredIndexes::default())
        .unwrap()
        .indexes(&IndexOptions::default(), None)
        .unwrap();
    assert_eq!(indexes[0].source, IndexSource::Default);

    let xdg = machine.write("xdg-home/pip/pip.conf", &conf(7));
    let with_xdg = env()
        .with_var(
            "XDG_CONFIG_HOME",
            machine.root().join("xdg-home").to_str().unwrap(),
        )
        .with_var("XDG_CONFIG_DIRS", "/nonexistent-a:/nonexistent-b");
    let files = with_xdg.pip_conf_files();
    assert!(files.contains(&xdg), "{files:?}");
    assert!(files.contains(&PathBuf::from("/nonexistent-b/pip/pip.conf")));
    assert!(!files.contains(&machine.root().join("etc/xdg/pip/pip.conf")));
}

#[test]
fn broken_pip_conf_is_an_error_naming_the_file() {
    let machine = Machine::new();
    let path = machine.write("etc/pip.conf", "[global]\nnonsense\n");
    let error = IndexResolver::new(machine.env(), ConfiguredIndexes::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "Invalid pip configuration at {}:2: expected `key = value`, found `nonsense`",
            path.display()
        )
    );
}

fn basic(username: &str, password: &str) -> Option<Auth> {
    Some(Auth::Basic {
        username: username.into(),
        password: password.into(),
    })
}

#[test]
fn credentials_from_userinfo_and_variables() {
    let env = Environment::isolated("/nonexistent")
        .with_var("USER", "ci-bot")
        .with_var("TOKEN", "t@k/en:x%41")
        .with_var("CREDS", "me:p@ss")
        .with_var("BARE", "ghp_abc")
        .with_var("HOST", "artifacts.example:8443")
        .with_var("HOST_WITH_CREDS", "u:pw@private.example");
    let cases: &[(&str, &str, Option<Auth>)] = &[
        (
            "https://us%40er:p%3Aw@host.example/simple",
            "https://host.example/simple/",
            basic("us@er", "p:w"),
        ),
        (
            "https://${USER}:${TOKEN}@host.example/simple/",
            "https://host.example/simple/",
            // Expanded values are percent-decoded, as pip decodes the URL it builds.
            basic("ci-bot", "t@k/en:xA"),
        ),
        (
            "https://${CREDS}@host.example/simple",
            "https://host.example/simple/",
            basic("me", "p@ss"),
        ),
        (
            "https://${BARE}@host.example/simple",
            "https://host.example/simple/",
            basic("ghp_abc", ""),
        ),
        (
            "https://${HOST}/api/pypi/simple",
            "https://artifacts.example:8443/api/pypi/simple/",
            None,
        ),
        (
            "https://${HOST_WITH_CREDS}/simple",
            "https://private.example/simple/",
            basic("u", "pw"),
        ),
        (
            "  http://plain.example/simple?x=1  ",
            "http://plain.example/simple/?x=1",
            None,
        ),
        // `$VAR` without braces and `${...}` that is no name are left as they are.
        (
            "https://host.example/$TOKEN/${not valid}/",
            "https://host.example/$TOKEN/$%7Bnot%20valid%7D/",
            None,
        ),
    ];
    for (template, url, auth) in cases {
        let (parsed, found) = parse_index_url(template, &env).unwrap();
        assert_eq!(parsed.as_url().as_str(), *url, "{template}");
        assert_eq!(&found, auth, "{template}");
    }
}

#[test]
fn unset_variables_and_bad_urls_are_clear_errors_without_secrets() {
    let env = Environment::isolated("/nonexistent");
    let error =
        parse_index_url("https://user:${MISSING_TOKEN}@host.example/simple", &env).unwrap_err();
    assert_eq!(
        error.to_string(),
        "The environment variable `MISSING_TOKEN` in the index URL `https://***@host.example/simple` is not set"
    );
    assert_eq!(
        error.hint().unwrap(),
        "set `MISSING_TOKEN` in the environment repin runs in"
    );
    let error = parse_index_url("https://me:hunter2@${NO_HOST}/simple", &env).unwrap_err();
    assert!(
        matches!(&error, PypiError::UndefinedVariable { variable, .. } if variable == "NO_HOST")
    );
    assert!(!error.to_string().contains("hunter2"), "{error}");

    let cases = [
        (
            "pypi.example/simple",
            "Invalid index URL `pypi.example/simple`",
        ),
        (
            "https://me:hunter2@/simple",
            "Invalid index URL `https://***@/simple`",
        ),
        (
            "file:///srv/simple",
            "The index URL `file:///srv/simple` is not http or https: repin cannot read `file` indexes",
        ),
    ];
    for (template, message) in cases {
        let error = parse_index_url(template, &env).unwrap_err();
        assert_eq!(error.to_string(), message, "{template}");
    }
    let invalid = parse_index_url("https://me:hunter2@/simple", &env).unwrap_err();
    assert!(std::error::Error::source(&invalid).is_some());
}

#[test]
fn netrc_gives_credentials_to_hosts_without_userinfo() {
    let machine = Machine::new();
    machine.write(
        "home/.netrc",
        "machine private.example login alice password from-home\ndefault login anon password anon-pw\n",
    );
    let resolver = IndexResolver::new(machine.env(), ConfiguredIndexes::default()).unwrap();
    let index = |url: &str| resolver.index(url, IndexSource::Config).unwrap();
    assert_eq!(
        index("https://private.example/simple").auth,
        basic("alice", "from-home")
    );
    assert_eq!(
        index("https://bob:own@private.example/simple").auth,
        basic("bob", "own")
    );
    // The operator's own URL (`PIP_INDEX_URL`) gets the `default` entry, as pip gives it.
    assert_eq!(
        resolver
            .index("https://elsewhere.example/simple", IndexSource::Environment)
            .unwrap()
            .auth,
        basic("anon", "anon-pw")
    );

    let other = machine.write(
        "elsewhere/netrc",
        "machine private.example login carol password from-netrc-var\n",
    );
    let env = machine.env().with_var("NETRC", other.to_str().unwrap());
    let resolver = IndexResolver::new(env, ConfiguredIndexes::default()).unwrap();
    let index = resolver
        .index("https://private.example/simple", IndexSource::Config)
        .unwrap();
    assert_eq!(index.auth, basic("carol", "from-netrc-var"));
    assert_eq!(
        resolver
            .index("https://elsewhere.example/simple", IndexSource::Config)
            .unwrap()
            .auth,
        None
    );

    let no_netrc = IndexResolver::new(Machine::new().env(), ConfiguredIndexes::default()).unwrap();
    assert_eq!(
        no_netrc
            .index("https://private.example/simple", IndexSource::Config)
            .unwrap()
            .auth,
        None
    );
}

#[test]
fn a_url_the_repository_wrote_gets_only_its_hosts_netrc_machine_and_only_over_https() {
    let machine = Machine::new();
    machine.write(
        "home/.netrc",
        "machine private.example login alice password alice-pw\n\
         machine 127.0.0.1 login local password local-pw\n\
         default login anon password anon-pw\n",
    );
    let resolver = IndexResolver::new(machine.env(), ConfiguredIndexes::default()).unwrap();
    let file = IndexSource::RequirementsFile {
        path: PathBuf::from("requirements.txt"),
    };
    let auth = |url: &str| resolver.index(url, file.clone()).unwrap().auth;
    // The host the operator named in netrc, over HTTPS or on the machine itself.
    assert_eq!(
        auth("https://private.example/simple"),
        basic("alice", "alice-pw")
    );
    assert_eq!(
        auth("http://127.0.0.1:8080/simple"),
        basic("local", "local-pw")
    );
    // Never the `default` entry: it would go to whatever host the repository names.
    assert_eq!(auth("https://attacker.example/simple"), None);
    // Never in the clear: the repository chose `http://` for the operator's host.
    assert_eq!(auth("http://private.example/simple"), None);
    // The repository's own repin.toml is the repository's too.
    assert_eq!(
        resolver
            .index("https://attacker.example/simple", IndexSource::Config)
            .unwrap()
            .auth,
        None
    );
    // The operator's own settings read netrc as pip does.
    assert_eq!(
        resolver
            .index("http://private.example/simple", IndexSource::Environment)
            .unwrap()
            .auth,
        basic("alice", "alice-pw")
    );
}

#[test]
fn indexes_never_print_credentials() {
    let env = Environment::isolated("/nonexistent").with_var("TOKEN", "tok-secret-1");
    let resolver = IndexResolver::new(env, ConfiguredIndexes::default()).unwrap();
    let index = resolver
        .index(
            "https://ghp_usertoken:${TOKEN}@private.example/simple?token=qs-secret",
            IndexSource::Environment,
        )
        .unwrap();
    assert_eq!(index.auth, basic("ghp_usertoken", "tok-secret-1"));
    let shown = format!("{index:?} {index} {}", index.url);
    for secret in ["ghp_usertoken", "tok-secret-1", "qs-secret"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("private.example"), "{shown}");
}

#[test]
fn expand_vars_leaves_text_without_references_alone() {
    let env = Environment::isolated("/")
        .with_var("A", "1")
        .with_var("B_2", "two");
    let cases = [
        ("plain", "plain"),
        ("${A}${B_2}", "1two"),
        ("x${A}y", "x1y"),
        ("${A", "${A"),
        ("$A ${}", "$A ${}"),
        ("é${A}ü", "é1ü"),
    ];
    for (input, expected) in cases {
        assert_eq!(expand_vars(input, &env).unwrap(), expected, "{input}");
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Every `-i`/`--index-url`/`--extra-index-url` of the real-world requirements files becomes an
/// index with the host, port and path written.
#[test]
fn corpus_index_urls_parse() {
    let corpus = corpus();
    let mut files = Vec::new();
    files_under(&corpus.join("requirements"), &mut files);
    let env = Environment::isolated("/nonexistent");
    let mut seen = 0;
    for file in files {
        let text = String::from_utf8_lossy(&fs::read(&file).unwrap()).into_owned();
        for line in text.lines() {
            let line = line.trim();
            let value = ["--extra-index-url", "--index-url", "-i"]
                .iter()
                .find_map(|option| line.strip_prefix(option))
                .filter(|rest| rest.starts_with([' ', '=']))
                .map(|rest| rest.trim_start_matches([' ', '=']));
            let Some(value) = value.and_then(|v| v.split_whitespace().next()) else {
                continue;
            };
            let (url, auth) = parse_index_url(value, &env)
                .unwrap_or_else(|e| panic!("{}: `{value}`: {e}", file.display()));
            let written = Url::parse(value).unwrap();
            assert_eq!(url.as_url().host_str(), written.host_str(), "{value}");
            assert_eq!(
                url.as_url().port_or_known_default(),
                written.port_or_known_default()
            );
            assert_eq!(
                url.as_url().path().trim_end_matches('/'),
                written.path().trim_end_matches('/')
            );
            assert!(auth.is_none(), "{value}");
            seen += 1;
        }
    }
    assert!(seen >= 5, "only {seen} index options found in the corpus");
}

/// Issue 10: a repository's `${VAR}` goes only where the operator allowed that variable.
#[test]
fn a_repository_expands_only_the_variables_allowed_for_the_origin() {
    use crate::registry::trust::{AllowList, Grant, TrustError};
    let env = Environment::isolated("/nonexistent")
        .with_var("GITHUB_TOKEN", "ghs_canary")
        .with_var("PYPI_TOKEN", "pypi-canary")
        .with_var("PYPI_HOST", "pypi.example.com");
    let grants: Vec<Grant> = [
        "PYPI_TOKEN@https://pypi.example.com",
        "PYPI_HOST@https://pypi.example.com",
    ]
    .iter()
    .map(|g| g.parse().unwrap())
    .collect();
    let allow = AllowList::from_operator(&grants, None).unwrap();
    let resolver = IndexResolver::new(env, ConfiguredIndexes::default())
        .unwrap()
        .with_allow_list(allow);
    let mut options = IndexOptions::default();
    let file = Path::new("requirements.txt");
    let resolve = |options: &IndexOptions| resolver.indexes(options, Some(file));
    let refused = |options: &IndexOptions| match resolve(options) {
        Err(PypiError::Refused(error)) => *error,
        other => panic!("{other:?}"),
    };

    // The allowed variable, to its origin: expanded.
    options.index_url = Some("https://__token__:${PYPI_TOKEN}@pypi.example.com/simple/".into());
    let indexes = resolve(&options).unwrap();
    assert_eq!(indexes[0].auth, basic("__token__", "pypi-canary"));

    // Another variable to the same origin, or the allowed one elsewhere: refused, with where.
    for (url, variable, origin) in [
        (
            "https://x:${GITHUB_TOKEN}@pypi.example.com/simple/",
            "GITHUB_TOKEN",
            "https://pypi.example.com",
        ),
        (
            "http://attacker.example:8080/${PYPI_TOKEN}/",
            "PYPI_TOKEN",
            "http://attacker.example:8080",
        ),
        (
            "https://pypi.example.com.attacker.example/?t=${PYPI_TOKEN}",
            "PYPI_TOKEN",
            "https://pypi.example.com.attacker.example",
        ),
        // `@` in the literal authority: the host is the attacker's.
        (
            "https://${PYPI_TOKEN}@attacker.example/",
            "PYPI_TOKEN",
            "https://attacker.example",
        ),
    ] {
        let mut options = IndexOptions {
            extra_index_urls: vec![url.into()],
            ..IndexOptions::default()
        };
        options.note_place(url, "requirements.txt:3:20");
        let error = refused(&options);
        assert_eq!(
            error,
            TrustError::NotAllowed {
                variable: variable.into(),
                origin: Some(Box::new(origin.parse().unwrap())),
                place: Some("requirements.txt:3:20".into()),
                what: "the index URL".into(),
            },
            "{url}"
        );
        let text = format!("{error} {}", error.hint().unwrap());
        assert!(
            text.contains(&format!("--allow-env {variable}@{origin}")),
            "{text}"
        );
        assert!(!text.contains("canary"), "{text}");
    }

    // A variable in the host part: allowed when it expands to its origin, never shown when not.
    options.index_url = Some("https://${PYPI_HOST}/simple/".into());
    assert_eq!(
        resolve(&options).unwrap()[0].url.to_string(),
        "https://pypi.example.com/simple/"
    );
    for url in [
        "https://${PYPI_HOST}.attacker.example/simple/",
        "https://${GITHUB_TOKEN}.attacker.example/simple/",
        "https://a${PYPI_TOKEN}/",
    ] {
        options.index_url = Some(url.into());
        let error = refused(&options);
        assert!(
            matches!(error, TrustError::NotAllowed { origin: None, .. }),
            "{url}: {error:?}"
        );
        let text = format!("{error} {}", error.hint().unwrap());
        assert!(
            !text.contains("canary") && !text.contains("pypi.example.com"),
            "{text}"
        );
    }

    // An unset variable the repository may not use is refused, not reported unset.
    options.index_url = Some("https://pypi.example.com/${NOT_SET}/".into());
    assert!(matches!(refused(&options), TrustError::NotAllowed { .. }));

    // The operator's own settings are expanded as they are.
    let operator = resolver
        .index(
            "https://x:${GITHUB_TOKEN}@ci.example/simple/",
            IndexSource::Environment,
        )
        .unwrap();
    assert_eq!(operator.auth, basic("x", "ghs_canary"));
}

#[test]
fn a_repository_configuration_is_checked_and_an_operator_one_is_not() {
    let env = Environment::isolated("/nonexistent").with_var("SECRET", "canary-secret");
    let template = "https://${SECRET}@pypi.example.com/simple/";
    let configured = |author| ConfiguredIndexes {
        index_url: Some(template.into()),
        author,
        places: [(template.to_owned(), "repin.toml:2:7".to_owned())].into(),
        ..ConfiguredIndexes::default()
    };
    let resolver = IndexResolver::new(env.clone(), configured(Author::Repository)).unwrap();
    let error = resolver
        .indexes(&IndexOptions::default(), None)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "Refused to expand `${SECRET}` in the `[[indexes]]` URL of repin.toml (with its username-env and password-env) at repin.toml:2:7: the operator has not allowed it to be sent to https://pypi.example.com"
    );
    let resolver = IndexResolver::new(env, configured(Author::Operator)).unwrap();
    let indexes = resolver.indexes(&IndexOptions::default(), None).unwrap();
    assert_eq!(indexes[0].auth, basic("canary-secret", ""));
}

#[test]
fn a_file_naming_the_operators_index_gets_its_credentials_and_no_other_url_does() {
    let env = Environment::isolated("/nonexistent")
        .with_var("PIP_INDEX_URL", "https://ci:op-secret@corp.example/simple");
    let resolver = IndexResolver::new(env, ConfiguredIndexes::default()).unwrap();
    let file = || IndexSource::RequirementsFile {
        path: "requirements.txt".into(),
    };
    let auth = |url: &str| resolver.index(url, file()).unwrap().auth;
    assert_eq!(
        auth("https://corp.example/simple/"),
        basic("ci", "op-secret")
    );
    for other in [
        "http://corp.example/simple/",
        "https://corp.example:8443/simple/",
        "https://corp.example/other/simple/",
        "https://attacker.example/simple/",
    ] {
        assert_eq!(auth(other), None, "{other}");
    }
    // A file's own credentials are its own.
    assert_eq!(
        auth("https://me:mine@corp.example/simple/"),
        basic("me", "mine")
    );
    assert_eq!(
        resolver.credentials_for("https://corp.example/simple", Path::new("pyproject.toml")),
        basic("ci", "op-secret")
    );
}
