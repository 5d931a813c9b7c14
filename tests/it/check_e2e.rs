//! `repin check` and `repin apply` run as a process against real servers on loopback: the
//! Distribution registry and pypiserver. The repository's `repin.toml` points `docker.io`,
//! `ghcr.io` and the primary index at them, as a mirror configuration would.

use crate::support;

use support::repin;

use std::process::Output;

use serde_json::Value;
use support::pypiserver::{PypiServer, sha256_hex, write_wheel};
use support::registry::{Registry, RegistryAuth};

const OLD_HASH: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn updates(report: &Value) -> Vec<String> {
    report["updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            format!(
                "{} {} {} -> {}",
                u["name"].as_str().unwrap(),
                u["kind"].as_str().unwrap(),
                u["current"].as_str().unwrap(),
                u["proposed"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn check_diff_and_apply_against_loopback_servers() {
    let registry = Registry::start(RegistryAuth::None);
    let packages = tempfile::tempdir().unwrap();
    let mut hashes = std::collections::BTreeMap::new();
    for (name, version) in [
        ("flask", "2.2.2"),
        ("flask", "2.2.5"),
        ("flask", "3.1.3"),
        ("jinja2", "3.1.2"),
        ("jinja2", "3.1.6"),
    ] {
        let path = write_wheel(packages.path(), name, version, Some(">=3.8"));
        hashes.insert(
            format!("{name}=={version}"),
            format!("sha256:{}", sha256_hex(&std::fs::read(path).unwrap())),
        );
    }
    let pypi = PypiServer::start(packages.path());

    let mut digests = std::collections::BTreeMap::new();
    for tag in [
        "3.12.4-slim-bookworm",
        "3.12.5-slim-bookworm",
        "3.13.1-slim-bookworm",
        "3.12-slim",
        "3.13-slim",
    ] {
        digests.insert(
            tag,
            registry
                .push_index(
                    "library/python",
                    tag,
                    &format!("{tag}/amd64"),
                    &format!("{tag}/arm64"),
                )
                .0,
        );
    }
    let old_slim = digests["3.12-slim"].clone();
    // 3.12-slim is rebuilt with a new amd64 image after the repository pinned it.
    let new_slim = registry
        .push_index(
            "library/python",
            "3.12-slim",
            "3.12-slim/amd64-rebuilt",
            "3.12-slim/arm64",
        )
        .0;
    for tag in ["0.4.0", "0.4.1"] {
        digests.insert(
            tag,
            registry
                .push_index(
                    "astral-sh/uv",
                    tag,
                    &format!("uv{tag}/amd64"),
                    &format!("uv{tag}/arm64"),
                )
                .0,
        );
    }

    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let r = repo.path();
    std::fs::write(
        r.join("repin.toml"),
        format!(
            // Advisories off: the OSV API (the default source) cannot be reached from tests,
            // and `tests/it/audit_osv_e2e.rs` covers check's security updates through its double.
            "[[indexes]]\nurl = \"{}\"\nprimary = true\n\n[registries.\"docker.io\"]\nurl = \"http://{host}\"\n\n[registries.\"ghcr.io\"]\nurl = \"http://{host}\"\n\n[advisories]\nsource = \"off\"\n",
            pypi.index_url(),
            host = registry.host
        ),
    )
    .unwrap();
    let requirements = format!(
        "flask==2.2.2 \\\r\n    --hash={OLD_HASH}\r\njinja2==3.1.6\r\nnot-on-the-index==1.0\r\n"
    );
    std::fs::write(r.join("requirements.txt"), &requirements).unwrap();
    let dockerfile = format!(
        "ARG PYTHON=3.12.4-slim-bookworm\nFROM python:${{PYTHON}} AS build\nCOPY --from=ghcr.io/astral-sh/uv:0.4.0 /uv /bin/uv\nFROM python:3.12-slim@{old_slim}\n"
    );
    std::fs::write(r.join("Dockerfile"), &dockerfile).unwrap();
    let dir = r.to_str().unwrap();

    // check: every update, the lookup failure reported against its dependency, exit 2.
    let out = repin(
        home.path(),
        &["check", "--no-cache", "--format", "json", dir],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    let mut got = updates(&report);
    got.sort();
    let mut want = vec![
        format!("docker.io/library/python digest 3.12-slim@{old_slim} -> 3.12-slim@{new_slim}"),
        format!(
            "docker.io/library/python patch 3.12.4-slim-bookworm -> 3.12.5-slim-bookworm@{}",
            digests["3.12.5-slim-bookworm"]
        ),
        format!(
            "docker.io/library/python python-minor 3.12.4-slim-bookworm -> 3.13.1-slim-bookworm@{}",
            digests["3.13.1-slim-bookworm"]
        ),
        // The rebuilt 3.12-slim gets its refresh; the Python 3.13 move comes separately.
        format!(
            "docker.io/library/python python-minor 3.12-slim@{old_slim} -> 3.13-slim@{}",
            digests["3.13-slim"]
        ),
        "flask major 2.2.2 -> 3.1.3".to_owned(),
        "flask patch 2.2.2 -> 2.2.5".to_owned(),
        format!(
            "ghcr.io/astral-sh/uv patch 0.4.0 -> 0.4.1@{}",
            digests["0.4.1"]
        ),
    ];
    want.sort();
    assert_eq!(got, want);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["name"], "not-on-the-index");
    assert_eq!(errors[0]["line"], 4);
    assert_eq!(report["up_to_date"], 1, "jinja2 is current");

    // In GitHub Actions: an annotation at the failed dependency, a job summary, the JSON output.
    let summary = home.path().join("summary.md");
    let outputs = home.path().join("outputs");
    let out = support::repin_with_env(
        home.path(),
        &["check", "--no-cache", dir],
        &[
            ("GITHUB_ACTIONS", "true".as_ref()),
            ("GITHUB_STEP_SUMMARY", summary.as_os_str()),
            ("GITHUB_OUTPUT", outputs.as_os_str()),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("::error file={}/requirements.txt,line=4,title=repin%3A not-on-the-index::Package `not-on-the-index` was not found", dir)), "{stdout}");
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        summary.starts_with(
            "## repin: 7 updates due\n\n| file | dependency | current | proposed | kind |"
        ),
        "{summary}"
    );
    assert!(
        summary.contains("| flask | `2.2.2` | `2.2.5` | patch |"),
        "{summary}"
    );
    let outputs = std::fs::read_to_string(&outputs).unwrap();
    let json_output = outputs
        .strip_prefix("updates<<repin_EOF\n")
        .and_then(|o| o.strip_suffix("\nrepin_EOF\n"))
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(json_output).unwrap()["updates"]
            .as_array()
            .unwrap()
            .len(),
        7
    );

    // --diff shows the routine edits without writing anything.
    let out = repin(home.path(), &["check", "--no-cache", "--diff", dir]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("--- a/Dockerfile\n+++ b/Dockerfile\n"),
        "{text}"
    );
    assert!(
        text.contains("\n-ARG PYTHON=3.12.4-slim-bookworm\n"),
        "{text}"
    );
    assert!(
        text.contains("\n+ARG PYTHON=3.12.5-slim-bookworm\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "\n+FROM python:${{PYTHON}}@{} AS build\n",
            digests["3.12.5-slim-bookworm"]
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("\n+    --hash={}\r\n", hashes["flask==2.2.5"])),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(r.join("Dockerfile")).unwrap(),
        dockerfile
    );

    // apply the patch and digest updates: files are rewritten in place, CRLF and layout kept.
    let out = repin(
        home.path(),
        &[
            "apply",
            "--no-cache",
            "--kind",
            "patch",
            "--kind",
            "digest",
            dir,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "the missing package still counts as an error"
    );
    assert_eq!(
        std::fs::read_to_string(r.join("requirements.txt")).unwrap(),
        format!(
            "flask==2.2.5 \\\r\n    --hash={}\r\njinja2==3.1.6\r\nnot-on-the-index==1.0\r\n",
            hashes["flask==2.2.5"]
        )
    );
    assert_eq!(
        std::fs::read_to_string(r.join("Dockerfile")).unwrap(),
        format!(
            "ARG PYTHON=3.12.5-slim-bookworm\nFROM python:${{PYTHON}}@{} AS build\nCOPY --from=ghcr.io/astral-sh/uv:0.4.1@{} /uv /bin/uv\nFROM python:3.12-slim@{new_slim}\n",
            digests["3.12.5-slim-bookworm"], digests["0.4.1"]
        )
    );

    // Afterwards only the separate updates remain; --exit-code says updates are due.
    std::fs::write(
        r.join("requirements.txt"),
        std::fs::read_to_string(r.join("requirements.txt"))
            .unwrap()
            .replace("not-on-the-index==1.0\r\n", ""),
    )
    .unwrap();
    let out = repin(
        home.path(),
        &[
            "check",
            "--no-cache",
            "--format",
            "json",
            "--exit-code",
            dir,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut got = updates(&json(&out));
    got.sort();
    assert_eq!(
        got,
        vec![
            format!(
                "docker.io/library/python python-minor 3.12-slim@{new_slim} -> 3.13-slim@{}",
                digests["3.13-slim"]
            ),
            format!(
                "docker.io/library/python python-minor 3.12.5-slim-bookworm@{} -> 3.13.1-slim-bookworm@{}",
                digests["3.12.5-slim-bookworm"], digests["3.13.1-slim-bookworm"]
            ),
            "flask major 2.2.5 -> 3.1.3".to_owned(),
        ]
    );
}

/// Issue 17: a yanked current pin is reported with the index's PEP 592 reason in the table, the
/// JSON and the Action's annotations, from a static index that serves `data-yanked`.
#[test]
fn a_yanked_pin_is_reported_with_the_index_reason() {
    let why = "Yanked due to conflicts with CVE-2024-35195 mitigation";
    let index = support::static_index::StaticIndex::start(&[
        ("requests", "2.31.0", None, None),
        ("requests", "2.32.0", None, Some(why)),
        ("requests", "2.32.3", None, None),
        ("idna", "3.6", None, None),
        ("idna", "3.7", None, None),
    ]);
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let r = repo.path();
    std::fs::write(
        r.join("repin.toml"),
        format!(
            "[[indexes]]\nurl = \"{}\"\nprimary = true\n\n[advisories]\nsource = \"off\"\n",
            index.index_url()
        ),
    )
    .unwrap();
    std::fs::write(r.join("requirements.txt"), "requests==2.32.0\nidna==3.6\n").unwrap();
    let dir = r.to_str().unwrap();

    let out = repin(
        home.path(),
        &["check", "--no-cache", "--format", "json", dir],
    );
    let report = json(&out);
    let updates = report["updates"].as_array().unwrap();
    assert_eq!(updates.len(), 2, "{report:#}");
    // The way off the yanked pin comes first, with the reason; the other says null.
    assert_eq!(
        (
            &updates[0]["name"],
            &updates[0]["proposed"],
            &updates[0]["yanked"]
        ),
        (
            &Value::from("requests"),
            &Value::from("2.32.3"),
            &Value::from(why)
        )
    );
    assert_eq!(updates[1]["name"], "idna");
    assert_eq!(updates[1]["yanked"], Value::Null);
    assert!(
        report["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["message"]
                .as_str()
                .unwrap()
                .contains(&format!("2.32.0 is yanked on the index: \"{why}\""))),
        "{report:#}"
    );

    let out = repin(home.path(), &["check", "--no-cache", dir]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("yanked/patch"), "{table}");
    assert!(
        table.contains(&format!("2.32.0 is yanked: \"{why}\"")),
        "{table}"
    );

    let summary = home.path().join("summary.md");
    let outputs = home.path().join("outputs");
    let out = support::repin_with_env(
        home.path(),
        &["check", "--no-cache", dir],
        &[
            ("GITHUB_ACTIONS", "true".as_ref()),
            ("GITHUB_STEP_SUMMARY", summary.as_os_str()),
            ("GITHUB_OUTPUT", outputs.as_os_str()),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("title=repin%3A yanked pin::requests 2.32.0 is yanked on its index: Yanked due to conflicts with CVE-2024-35195 mitigation; update to 2.32.3"),
        "{stdout}"
    );
}

/// A checkout in `root` whose `requirements.txt` is `requirements`, looked up on `index` alone,
/// with advisories off.
fn checkout_on(
    index: &support::static_index::StaticIndex,
    root: &std::path::Path,
    requirements: &str,
) -> std::path::PathBuf {
    let checkout = root.join("checkout");
    std::fs::create_dir(&checkout).unwrap();
    std::fs::write(
        checkout.join("repin.toml"),
        format!(
            "[[indexes]]\nurl = \"{}\"\nprimary = true\n\n[advisories]\nsource = \"off\"\n",
            index.index_url()
        ),
    )
    .unwrap();
    std::fs::write(checkout.join("requirements.txt"), requirements).unwrap();
    checkout
}

/// `repin pr` on `checkout` (a repository whose origin is made in `root`) against the GitHub
/// stand-in (`support::github`: it mimics GitHub's documented answers and records any request it
/// does not know, which fails the test): the stand-in, stdout, and the one dashboard's body.
fn pull_requests_of(
    checkout: &std::path::Path,
    root: &std::path::Path,
) -> (support::github::GitHubMock, String, String) {
    let remote = support::with_origin(checkout, root);
    let token = "ghs_yankedtest0000000000000000000000000";
    let github = support::github::GitHubMock::start("acme/service", token, remote.clone());
    let home = tempfile::tempdir().unwrap();
    let out = support::repin_with_env(
        home.path(),
        &[
            "pr",
            "--repo",
            "acme/service",
            "--api-url",
            &github.url,
            "--remote",
            remote.to_str().unwrap(),
            "--no-cache",
            "--color",
            "never",
            checkout.to_str().unwrap(),
        ],
        &[("GITHUB_TOKEN", token.as_ref())],
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let unexpected = github.with(|s| s.unexpected.clone());
    assert!(unexpected.is_empty(), "unexpected requests: {unexpected:?}");
    let issues = github.with(|s| s.issues.values().cloned().collect::<Vec<_>>());
    assert_eq!(issues.len(), 1, "one dashboard: {stdout}");
    let body = issues[0].body.clone();
    (github, stdout, body)
}

/// Issue 10: an index's yanked reason is the index's words. In GitHub Actions' log a line of
/// its own starting with `::` is a workflow command, a terminal acts on escape sequences, and
/// GitHub renders a body's Markdown: the reason reaches each as one plain, inert line.
#[test]
fn a_hostile_yanked_reason_cannot_command_the_log_the_terminal_or_github() {
    let why =
        "bad\n::add-mask::x\r\n::stop-commands::t0k\x1b[2J @everyone [win](https://evil.example)";
    let index = support::static_index::StaticIndex::start(&[
        ("victim", "1.0", None, Some(why)),
        ("victim", "1.1", None, None),
    ]);
    let root = tempfile::tempdir().unwrap();
    let checkout = checkout_on(&index, root.path(), "victim==1.0\n");

    let home = tempfile::tempdir().unwrap();
    let out = support::repin_with_env(
        home.path(),
        &["check", "--no-cache", checkout.to_str().unwrap()],
        &[("GITHUB_ACTIONS", "true".as_ref())],
    );
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{printed}");
    assert!(
        printed.contains("bad ::add-mask::x ::stop-commands::t0k @everyone"),
        "{printed}"
    );
    for line in printed.lines() {
        // repin's own annotations are the only workflow commands.
        assert!(
            !line.starts_with("::") || line.starts_with("::warning file="),
            "{line:?} in {printed}"
        );
    }
    assert!(
        !printed.contains('\x1b') && !printed.contains('\r'),
        "{printed:?}"
    );

    let (github, stdout, body) = pull_requests_of(&checkout, root.path());
    assert!(
        body.contains("\"bad ::add-mask::x ::stop-commands::t0k @\u{200B}everyone \\[win\\]\\(https:\u{200B}//evil.example\\)\"; update to 1.1"),
        "{body}"
    );
    let pull = github
        .pulls()
        .into_iter()
        .find(|p| p.title.contains("victim"))
        .unwrap_or_else(|| panic!("no victim pull request: {stdout}"));
    assert!(
        !pull.body.contains("@everyone") && !pull.body.contains("](https://evil"),
        "{}",
        pull.body
    );
}

/// Issue 17: the dashboard lists yanked pins with the index's reason and the way off them (or
/// that there is none), and the pull request body quotes the reason. GitHub is the tests'
/// stand-in (`support::github`: it mimics GitHub's documented answers and records any request
/// it does not know, which fails the test).
#[test]
fn the_dashboard_lists_yanked_pins_with_the_reason() {
    let why = "Yanked due to conflicts with CVE-2024-35195 mitigation";
    let index = support::static_index::StaticIndex::start(&[
        ("requests", "2.32.0", None, Some(why)),
        ("requests", "2.32.3", None, None),
        ("oldlib", "1.0", None, Some("broken metadata")),
    ]);
    let root = tempfile::tempdir().unwrap();
    let checkout = checkout_on(&index, root.path(), "requests==2.32.0\noldlib==1.0\n");
    let (github, stdout, body) = pull_requests_of(&checkout, root.path());
    assert!(body.contains("## Yanked on their index\n"), "{body}");
    assert!(
        body.contains(
            "- `oldlib 1.0` in `requirements.txt`: \"broken metadata\"; no release to move to\n"
        ),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "- `requests 2.32.0` in `requirements.txt`: \"{why}\"; update to 2.32.3\n"
        )),
        "{body}"
    );
    let pull = github
        .pulls()
        .into_iter()
        .find(|p| p.title.contains("requests"))
        .unwrap_or_else(|| panic!("no requests pull request: {stdout}"));
    assert!(pull.body.contains(why), "{}", pull.body);
}
