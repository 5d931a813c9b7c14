//! `repin` run as a process against hostile servers on loopback (issue 10): a registry whose
//! digests lie, an index that sends one byte a second, an index whose error pages echo the
//! credentials, an index that fails while the advisories name a fix, and hosts that cannot be
//! reached at all. The servers are written here (`support::loopback`): each misbehaves on
//! purpose and records what it was sent.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::support::loopback::{Loopback, Reply};
use crate::support::{repin, repin_with_env};

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const JSON: &str = "application/vnd.pypi.simple.v1+json";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write(dir: &Path, name: &str, content: &str) {
    std::fs::write(dir.join(name), content).unwrap();
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

#[test]
fn a_digest_the_registry_lies_about_is_never_written() {
    let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
    let lie = format!("sha256:{}", "e".repeat(64));
    let claimed = lie.clone();
    let registry = Loopback::start(
        move |seen| match (seen.method.as_str(), seen.path.as_str()) {
            ("GET", "/v2/") => Reply::status(200, "{}"),
            ("GET", p) if p.starts_with("/v2/library/python/tags/list") => Reply::ok(
                "application/json",
                r#"{"name":"library/python","tags":["3.12-slim"]}"#.as_bytes().to_vec(),
            ),
            (_, "/v2/library/python/manifests/3.12-slim") => {
                Reply::ok(OCI_INDEX, manifest.to_vec())
                    .with_header("Docker-Content-Digest", &claimed)
            }
            _ => Reply::status(404, r#"{"errors":[{"code":"MANIFEST_UNKNOWN"}]}"#),
        },
    );
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let pinned = format!("sha256:{}", "1".repeat(64));
    let dockerfile = format!(
        "FROM {}/library/python:3.12-slim@{pinned}\n",
        registry.host()
    );
    write(repo.path(), "Dockerfile", &dockerfile);
    write(
        repo.path(),
        "repin.toml",
        "[advisories]\nsource = \"off\"\n",
    );
    let dir = repo.path().to_str().unwrap();
    let out = repin(home.path(), &["apply", dir]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert_eq!(stdout, "0 files updated\n");
    // Nothing was written, and the error says why.
    assert_eq!(
        std::fs::read_to_string(repo.path().join("Dockerfile")).unwrap(),
        dockerfile
    );
    let real = sha256(manifest);
    assert!(
        stderr.contains(&format!(
            "said `library/python:3.12-slim` has the digest {lie}, but its manifest hashes to {real}: the digest is not pinned"
        )),
        "{stderr}"
    );
    // The manifest was fetched to check the header: the HEAD alone decided nothing.
    assert!(
        registry
            .requests()
            .iter()
            .any(|r| r.method == "GET" && r.path == "/v2/library/python/manifests/3.12-slim")
    );
}

#[test]
fn a_slow_index_costs_one_timeout_per_request_and_is_then_marked_down() {
    // One byte every 400 ms: a page never arrives within the configured second.
    let slow = Loopback::start(|_| Reply::Slow {
        headers: vec![("Content-Type".into(), JSON.into())],
        body: br#"{"meta":{"api-version":"1.1"},"files":[]}"#.to_vec(),
        every: Duration::from_millis(400),
    });
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let packages = ["alpha", "beta", "gamma", "delta", "epsilon"];
    let mut requirements = format!("--index-url {}\n", slow.url("/simple/"));
    for p in packages {
        requirements.push_str(&format!("{p}==1.0\n"));
    }
    write(repo.path(), "requirements.txt", &requirements);
    write(
        repo.path(),
        "repin.toml",
        "[advisories]\nsource = \"off\"\n\n[network]\ntimeout = \"1s\"\nretries = 3\n",
    );
    let out = repin(
        home.path(),
        &["check", "--no-cache", repo.path().to_str().unwrap()],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}{}", text(&out.stderr));
    // Each package asked once: a request that timed out while receiving is not retried.
    assert_eq!(slow.connections(), packages.len(), "{:?}", slow.requests());
    let host = slow.host();
    assert_eq!(
        stdout
            .matches(&format!("error: {host} is down for this run: it timed out"))
            .count(),
        1,
        "{stdout}"
    );
    assert!(stdout.contains("5 lookups failed"), "{stdout}");
}

#[test]
fn hosts_that_cannot_be_reached_get_one_message_each() {
    // Nothing listens on these ports; the OSV API too is unreachable.
    let closed = |_: ()| {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (index_port, osv_port) = (closed(()), closed(()));
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut requirements = format!("--index-url http://127.0.0.1:{index_port}/simple/\n");
    for i in 0..23 {
        requirements.push_str(&format!("pkg{i}==1.{i}\n"));
    }
    write(repo.path(), "requirements.txt", &requirements);
    write(
        repo.path(),
        "repin.toml",
        &format!("[advisories]\nosv-url = \"http://127.0.0.1:{osv_port}\"\n"),
    );
    let dir = repo.path().to_str().unwrap();
    let out = repin(home.path(), &["audit", dir]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}{}", text(&out.stderr));
    let osv = format!("127.0.0.1:{osv_port}");
    // The pins not checked for one reason are listed together, under that reason, which names
    // the host; the cause once, for the host.
    let groups: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("not checked: "))
        .collect();
    assert_eq!(groups.len(), 1, "{stdout}");
    assert_eq!(groups[0].matches(" pkg").count(), 23, "{stdout}");
    assert_eq!(
        stdout
            .matches(&format!(
                "    Cannot query the OSV API: {osv} is down for this run\n"
            ))
            .count(),
        1,
        "{stdout}"
    );
    assert_eq!(
        stdout
            .matches(&format!(
                "error: {osv} is down for this run: no connection could be made"
            ))
            .count(),
        1,
        "{stdout}"
    );
    assert!(!stdout.contains("Caused by"), "{stdout}");
    assert!(stdout.lines().count() <= 6, "{stdout}");

    let out = repin(home.path(), &["check", "--no-cache", dir]);
    let stdout = text(&out.stdout);
    let index = format!("127.0.0.1:{index_port}");
    assert_eq!(
        stdout
            .matches(&format!("error: {index} is down for this run"))
            .count(),
        1,
        "{stdout}"
    );
    assert_eq!(
        stdout
            .matches(&format!("{index} is down for this run"))
            .count(),
        24,
        "{stdout}"
    );
    assert!(stdout.contains("23 lookups failed"), "{stdout}");
}

#[test]
fn error_pages_that_echo_credentials_show_none_of_them() {
    // The index answers 500 with the request's Authorization header echoed back, decoded and
    // URL-encoded, in an HTML page; the password comes from the environment.
    let index = Loopback::start(|seen| {
        let auth = seen.header("authorization").unwrap_or_default().to_owned();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim_start_matches("Basic "))
            .map(|d| text(&d))
            .unwrap_or_default();
        let encoded: String = url::form_urlencoded::byte_serialize(decoded.as_bytes()).collect();
        Reply::status(
            500,
            format!("<html><pre>{auth}\n{decoded}\n{encoded}</pre></html>").into_bytes(),
        )
    });
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let password = "canary/P@ss+word";
    let encoded: String = url::form_urlencoded::byte_serialize(password.as_bytes()).collect();
    write(
        repo.path(),
        "requirements.txt",
        &format!(
            "--index-url http://canary-user:${{INDEX_PASSWORD}}@{}/simple/\nvictim==1.0\n",
            index.host()
        ),
    );
    write(
        repo.path(),
        "repin.toml",
        "[advisories]\nsource = \"off\"\n\n[network]\nretries = 0\n",
    );
    let out = repin_with_env(
        home.path(),
        &[
            "check",
            "--no-cache",
            "--log-level",
            "debug",
            // The repository's `${INDEX_PASSWORD}` goes to this index only because it is allowed.
            "--allow-env",
            &format!("INDEX_PASSWORD@{}", index.url("")),
            repo.path().to_str().unwrap(),
        ],
        &[("INDEX_PASSWORD", std::ffi::OsStr::new(password))],
    );
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(all.contains("answered HTTP 500"), "{all}");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("canary-user:{password}"));
    for leak in [password, basic.as_str(), encoded.as_str(), "P@ss"] {
        assert!(!all.contains(leak), "`{leak}` leaked:\n{all}");
    }
    // The server did get the credentials: the test would prove nothing otherwise.
    assert!(index.requests()[0].header("authorization").is_some());
}

#[test]
fn an_unconfirmed_fix_says_so() {
    // The advisory names 2.0 as the fix; the index that would confirm it answers 500.
    let index = Loopback::start(|_| Reply::status(500, "database exploded"));
    let db = tempfile::tempdir().unwrap();
    let vulns = db.path().join("vulns/victim");
    std::fs::create_dir_all(&vulns).unwrap();
    write(
        &vulns,
        "PYSEC-9.yaml",
        "id: PYSEC-9\nsummary: Bad\naffected:\n- package:\n    ecosystem: PyPI\n    name: victim\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: '0'\n    - fixed: '2.0'\n",
    );
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    write(
        repo.path(),
        "requirements.txt",
        &format!("--index-url {}\nvictim==1.0\n", index.url("/simple/")),
    );
    write(repo.path(), "repin.toml", "[network]\nretries = 0\n");
    let (dir, db_path) = (repo.path().to_str().unwrap(), db.path().to_str().unwrap());
    let out = repin(home.path(), &["audit", "--advisory-db", db_path, dir]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "fix: 2.0 (unconfirmed: the index could not be asked whether it is installable: Cannot look up `victim` on {}",
            index.url("/simple/")
        )),
        "{stdout}"
    );
    let out = repin(
        home.path(),
        &["audit", "--format", "json", "--advisory-db", db_path, dir],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let v = &report["vulnerabilities"][0];
    assert_eq!(v["fix_version"], "2.0");
    let why = v["fix_unconfirmed"]["message"].as_str().unwrap();
    assert!(
        why.contains("answered HTTP 500: database exploded"),
        "{why}"
    );
}

#[test]
fn every_unconfirmed_fix_names_what_went_wrong() {
    // Issue 10, item 11: each index lookup that should confirm a fix fails a different way, and
    // the audit says which, never "Cannot connect" for a server that answered.
    let index = Loopback::start(|seen| match seen.path.as_str() {
        "/simple/loops/" => Reply::redirect(302, "/simple/loops/"),
        "/simple/cut/" => Reply::Truncated {
            announced: 1000,
            body: b"<html><body><a href=".to_vec(),
        },
        "/simple/stalls/" => Reply::Slow {
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: vec![b' '; 30],
            every: Duration::from_millis(500),
        },
        _ => Reply::status(404, "not here"),
    });
    let db = tempfile::tempdir().unwrap();
    for name in ["loops", "cut", "stalls", "refused"] {
        let vulns = db.path().join("vulns").join(name);
        std::fs::create_dir_all(&vulns).unwrap();
        write(
            &vulns,
            &format!("PYSEC-{name}.yaml"),
            &format!(
                "id: PYSEC-{name}\nsummary: Bad\naffected:\n- package:\n    ecosystem: PyPI\n    name: {name}\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: '0'\n    - fixed: '2.0'\n"
            ),
        );
    }
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    write(
        repo.path(),
        "requirements.txt",
        &format!(
            "--index-url {}\nloops==1.0\ncut==1.0\nstalls==1.0\n",
            index.url("/simple/")
        ),
    );
    // The trust rules refuse this index: the operator never allowed the variable for it.
    std::fs::create_dir_all(repo.path().join("other")).unwrap();
    write(
        &repo.path().join("other"),
        "requirements.txt",
        &format!(
            "--index-url http://${{CANARY_TOKEN}}@{}/simple/\nrefused==1.0\n",
            index.host()
        ),
    );
    // Lowering the operator's limits is allowed (raising them is not).
    write(
        repo.path(),
        "repin.toml",
        "[network]\nretries = 0\ntimeout = \"1s\"\n",
    );
    let (dir, db_path) = (repo.path().to_str().unwrap(), db.path().to_str().unwrap());
    let canary = std::ffi::OsStr::new("canary-secret-value");
    let out = repin_with_env(
        home.path(),
        &["audit", "--format", "json", "--advisory-db", db_path, dir],
        &[("CANARY_TOKEN", canary)],
    );
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("canary-secret-value"), "{stdout}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let why = |name: &str| -> String {
        let v = report["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("{name} is not reported: {stdout}"));
        assert_eq!(v["fix_version"], "2.0", "{v}");
        v["fix_unconfirmed"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("the fix of {name} is said to be confirmed: {v}"))
            .to_owned()
    };
    let loops = why("loops");
    assert!(loops.contains("redirects in a loop"), "{loops}");
    let cut = why("cut");
    assert!(cut.contains("ended early after 20 bytes of 1000"), "{cut}");
    let stalls = why("stalls");
    assert!(stalls.contains("stalled"), "{stalls}");
    for text in [&loops, &cut, &stalls] {
        assert!(!text.contains("Cannot connect"), "{text}");
    }
    let refused = why("refused");
    assert!(
        refused.contains("Refused to expand `${CANARY_TOKEN}`"),
        "{refused}"
    );
    assert!(
        index
            .requests()
            .iter()
            .all(|r| r.path != "/simple/refused/"),
        "a refused index is never asked"
    );
}

#[test]
fn a_manifest_of_an_unknown_media_type_is_never_pinned() {
    // Issue 10, item 4: the digest header is true, but the manifest is of a type repin does not
    // understand.
    let weird = br#"{"schemaVersion":2,"config":{"digest":"sha256:aa"},"layers":[]}"#;
    let digest = sha256(weird);
    let served = digest.clone();
    let registry = Loopback::start(
        move |seen| match (seen.method.as_str(), seen.path.as_str()) {
            ("GET", "/v2/") => Reply::status(200, "{}"),
            ("GET", p) if p.starts_with("/v2/library/python/tags/list") => Reply::ok(
                "application/json",
                r#"{"name":"library/python","tags":["3.12-slim"]}"#.as_bytes().to_vec(),
            ),
            (_, "/v2/library/python/manifests/3.12-slim") => {
                Reply::ok("application/vnd.hostile.weird+json", weird.to_vec())
                    .with_header("Docker-Content-Digest", &served)
            }
            _ => Reply::status(404, r#"{"errors":[{"code":"MANIFEST_UNKNOWN"}]}"#),
        },
    );
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let dockerfile = format!(
        "FROM {}/library/python:3.12-slim@sha256:{}\n",
        registry.host(),
        "1".repeat(64)
    );
    write(repo.path(), "Dockerfile", &dockerfile);
    write(
        repo.path(),
        "repin.toml",
        "[advisories]\nsource = \"off\"\n",
    );
    let out = repin(home.path(), &["apply", repo.path().to_str().unwrap()]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert_eq!(stdout, "0 files updated\n");
    assert_eq!(
        std::fs::read_to_string(repo.path().join("Dockerfile")).unwrap(),
        dockerfile
    );
    assert!(
        stderr.contains("`application/vnd.hostile.weird+json`, which is not an image manifest or index repin understands"),
        "{stderr}"
    );
    assert!(!stderr.contains(&digest), "{stderr}");
}

#[test]
fn tag_pages_on_another_host_are_not_followed_and_get_no_credentials() {
    // Issue 10, item 5: the registry's `Link` sends the next page of tags to another origin (the
    // same address on another port), which lists a tag only there. Docker's stored credentials
    // for the registry are a canary.
    let elsewhere = Loopback::start(|_| {
        Reply::ok(
            "application/json",
            r#"{"name":"library/python","tags":["99.0-slim"]}"#.as_bytes().to_vec(),
        )
    });
    let next = elsewhere.url("/v2/library/python/tags/list?n=1000&last=3.12-slim");
    let registry = Loopback::start(move |seen| {
        if seen.header("authorization").is_none() {
            return Reply::status(401, "{}")
                .with_header("WWW-Authenticate", "Basic realm=\"registry\"");
        }
        match seen.path.as_str() {
            "/v2/" => Reply::status(200, "{}"),
            p if p.starts_with("/v2/library/python/tags/list") => Reply::ok(
                "application/json",
                r#"{"name":"library/python","tags":["3.12-slim","3.13-slim"]}"#
                    .as_bytes()
                    .to_vec(),
            )
            .with_header("Link", &format!("<{next}>; rel=\"next\"")),
            _ => Reply::status(404, r#"{"errors":[{"code":"MANIFEST_UNKNOWN"}]}"#),
        }
    });
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let secret = "canary:canary-registry-secret";
    let auth = base64::engine::general_purpose::STANDARD.encode(secret);
    std::fs::create_dir_all(home.path().join(".docker")).unwrap();
    write(
        &home.path().join(".docker"),
        "config.json",
        &format!(
            r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#,
            registry.host()
        ),
    );
    write(
        repo.path(),
        "Dockerfile",
        &format!("FROM {}/library/python:3.12-slim\n", registry.host()),
    );
    write(
        repo.path(),
        "repin.toml",
        "[advisories]\nsource = \"off\"\n",
    );
    let out = repin(home.path(), &["check", repo.path().to_str().unwrap()]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(elsewhere.connections(), 0, "{:?}", elsewhere.requests());
    assert!(!stdout.contains("99.0"), "{stdout}");
    for output in [&stdout, &stderr] {
        assert!(!output.contains("canary-registry-secret"), "{output}");
        assert!(!output.contains(&auth), "{output}");
    }
    assert!(
        format!("{stdout}{stderr}").contains("on another origin"),
        "{stdout}{stderr}"
    );
    // The registry itself did get the credentials: the refusal is about the other origin.
    assert!(
        registry
            .requests()
            .iter()
            .any(|r| r.header("authorization") == Some(&format!("Basic {auth}")))
    );
}

#[test]
fn netrcs_default_entry_never_goes_to_an_index_the_repository_names() {
    // The index a repository names is this loopback server; the operator's netrc has only a
    // `default` entry (meant for the operator's own indexes). pip would send it; repin must not.
    let index = Loopback::start(|_| Reply::status(404, "not here"));
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    write(
        home.path(),
        ".netrc",
        "default login operator password canary-default\n",
    );
    write(
        repo.path(),
        "repin.toml",
        "[advisories]\nsource = \"off\"\n\n[network]\nretries = 0\n",
    );
    write(
        repo.path(),
        "requirements.txt",
        &format!("--index-url {}\nvictim==1.0\n", index.url("/simple/")),
    );
    let check = |env: &[(&str, &std::ffi::OsStr)]| {
        let out = repin_with_env(
            home.path(),
            &["check", "--no-cache", repo.path().to_str().unwrap()],
            env,
        );
        format!("{}{}", text(&out.stdout), text(&out.stderr))
    };
    let all = check(&[]);
    let seen = index.requests();
    assert!(!seen.is_empty(), "the index was never asked:\n{all}");
    assert!(
        seen.iter().all(|s| s.header("authorization").is_none()),
        "netrc's default entry reached the repository's index:\n{all}"
    );
    assert!(!all.contains("canary-default"), "{all}");

    // The same index as the operator's own `PIP_INDEX_URL` gets the default entry, as pip
    // gives it: the netrc is read, so the first half proves something.
    write(repo.path(), "requirements.txt", "victim==1.0\n");
    let operator_url = index.url("/simple/");
    let all = check(&[("PIP_INDEX_URL", std::ffi::OsStr::new(&operator_url))]);
    let basic = base64::engine::general_purpose::STANDARD.encode("operator:canary-default");
    let sent = index.requests();
    assert!(
        sent[seen.len()..]
            .iter()
            .any(|s| s.header("authorization") == Some(format!("Basic {basic}").as_str())),
        "the operator's own index did not get netrc's default entry:\n{all}"
    );
}
