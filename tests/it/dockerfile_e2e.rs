//! Issue 17's extraction gaps, end to end against the Distribution registry and pypiserver on
//! loopback: the `# syntax=` directive updated as an image, a `pip install` pin read from and
//! written to its `ARG` default, `--no-index` installs skipped without error, one update listed
//! once when two `FROM` lines share its `ARG`, and a digest-only image shown as `@sha256:…`.

use crate::support;

use serde_json::Value;
use support::pypiserver::{PypiServer, write_wheel};
use support::registry::{Registry, RegistryAuth};
use support::repin;

fn json(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn dockerfile_extraction_gaps_against_loopback_servers() {
    let registry = Registry::start(RegistryAuth::None);
    let packages = tempfile::tempdir().unwrap();
    for version in ["2.2.2", "2.2.5"] {
        write_wheel(packages.path(), "flask", version, Some(">=3.8"));
    }
    // `py-spy` and `localpkg` are not on the index: a lookup of either would be an error.
    let pypi = PypiServer::start(packages.path());
    let mut digests = std::collections::BTreeMap::new();
    for (repository, tag) in [
        ("library/python", "3.12.4-slim-bookworm"),
        ("library/python", "3.12.5-slim-bookworm"),
        ("docker/dockerfile", "1.4"),
        ("docker/dockerfile", "1.7"),
        ("library/debian", "bookworm"),
    ] {
        let seed = format!("{repository}:{tag}");
        let (digest, _, _) =
            registry.push_index(repository, tag, &format!("{seed}/a"), &format!("{seed}/b"));
        digests.insert(tag, digest);
    }

    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let r = repo.path();
    std::fs::write(
        r.join("repin.toml"),
        format!(
            "[[indexes]]\nurl = \"{}\"\nprimary = true\n\n[registries.\"docker.io\"]\nurl = \"http://{}\"\n\n[advisories]\nsource = \"off\"\n",
            pypi.index_url(),
            registry.host
        ),
    )
    .unwrap();
    let debian = &digests["bookworm"];
    let dockerfile = format!(
        "# syntax = docker/dockerfile:1.4\nARG PY=3.12.4-slim-bookworm\nFROM python:${{PY}} AS build\nARG FLASK=2.2.2\nRUN pip install --no-index --find-links=/tmp/wheels/ py-spy==0.3.14 && pip install \"flask==${{FLASK}}\"\nFROM python:${{PY}}\nFROM debian@{debian}\n"
    );
    std::fs::write(r.join("Dockerfile"), &dockerfile).unwrap();
    std::fs::write(
        r.join("requirements.txt"),
        "--no-index\n--find-links ./wheels\nlocalpkg==1.0\n",
    )
    .unwrap();
    let dir = r.to_str().unwrap();

    // extract: what each of these is, as written.
    let out = repin(home.path(), &["extract", "--format", "json", dir]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let extracted = json(&out);
    let deps: Vec<&Value> = extracted["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["dependencies"].as_array().unwrap())
        .collect();
    let find = |name: &str| {
        *deps
            .iter()
            .find(|d| d["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {deps:#?}"))
    };
    let syntax = find("docker.io/docker/dockerfile");
    assert_eq!(
        (&syntax["context"], &syntax["current"], &syntax["line"]),
        (&Value::from("syntax"), &Value::from("1.4"), &Value::from(1))
    );
    let flask = find("flask");
    assert_eq!(
        (&flask["current"], &flask["line"], &flask["skip_reason"]),
        (&Value::from("2.2.2"), &Value::from(4), &Value::Null)
    );
    assert_eq!(find("py-spy")["skip_reason"], "no-index");
    assert_eq!(find("localpkg")["skip_reason"], "no-index");
    let digest_only = find("docker.io/library/debian");
    assert_eq!(digest_only["current"], format!("@{debian}"));
    assert_eq!(digest_only["tag"], Value::Null);
    assert_eq!(digest_only["digest"], debian.as_str());

    // check: no error for the local installs; the shared ARG's update listed once.
    let out = repin(
        home.path(),
        &[
            "check",
            "--no-cache",
            "--exit-code",
            "--format",
            "json",
            dir,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(report["errors"], Value::Array(vec![]), "{report:#}");
    let mut updates: Vec<String> = report["updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            format!(
                "{} {} {} -> {} line {} used at {}",
                u["name"].as_str().unwrap(),
                u["kind"].as_str().unwrap(),
                u["current"].as_str().unwrap(),
                u["proposed"].as_str().unwrap(),
                u["line"],
                u["used_at"]
            )
        })
        .collect();
    updates.sort();
    let dockerfile_path = format!("{dir}/Dockerfile");
    let mut want = vec![
        format!(
            "docker.io/docker/dockerfile minor 1.4 -> 1.7@{} line 1 used at []",
            digests["1.7"]
        ),
        format!(
            "docker.io/library/python patch 3.12.4-slim-bookworm -> 3.12.5-slim-bookworm@{} line 2 used at [\"{dockerfile_path}:3\",\"{dockerfile_path}:6\"]",
            digests["3.12.5-slim-bookworm"]
        ),
        "flask patch 2.2.2 -> 2.2.5 line 4 used at []".to_owned(),
    ];
    want.sort();
    assert_eq!(updates, want);
    let skipped: Vec<(&str, &str)> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["reason"].as_str().unwrap()))
        .collect();
    assert!(skipped.contains(&("py-spy", "no-index")), "{skipped:?}");
    assert!(skipped.contains(&("localpkg", "no-index")), "{skipped:?}");

    let out = repin(home.path(), &["check", "--no-cache", "--all", dir]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        table.matches("3.12.4-slim-bookworm → ").count(),
        1,
        "{table}"
    );
    assert!(
        table.contains(&format!(
            "(used at {dockerfile_path}:3, {dockerfile_path}:6)"
        )),
        "{table}"
    );
    assert!(table.contains(&format!("@{debian}")), "{table}");
    assert!(table.contains("3 updates due"), "{table}");

    // apply: the directive, the ARG defaults and both FROM lines' digests, in one pass.
    let out = repin(home.path(), &["apply", "--no-cache", dir]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let python = &digests["3.12.5-slim-bookworm"];
    assert_eq!(
        std::fs::read_to_string(r.join("Dockerfile")).unwrap(),
        format!(
            "# syntax = docker/dockerfile:1.7@{}\nARG PY=3.12.5-slim-bookworm\nFROM python:${{PY}}@{python} AS build\nARG FLASK=2.2.5\nRUN pip install --no-index --find-links=/tmp/wheels/ py-spy==0.3.14 && pip install \"flask==${{FLASK}}\"\nFROM python:${{PY}}@{python}\nFROM debian@{debian}\n",
            digests["1.7"]
        )
    );
}
