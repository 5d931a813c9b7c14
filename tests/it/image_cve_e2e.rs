//! Base images' OS vulnerabilities end to end: a real Distribution registry seeded with small
//! multi-layer images whose layers hold real-format dpkg and apk databases, `os-release` and a
//! whiteout; OSV records written in the schema's Debian and Alpine shape in an offline
//! directory; `repin audit --images` and `repin check` with `[images] scan` as processes.

use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};

use crate::support::registry::{Registry, RegistryAuth};
use crate::support::repin;

/// A ustar header (size in octal, checksum filled in).
fn header(path: &str, size: usize, flag: u8, link: &str) -> Vec<u8> {
    let mut h = vec![0u8; 512];
    h[..path.len()].copy_from_slice(path.as_bytes());
    h[100..107].copy_from_slice(b"0000644");
    h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    h[156] = flag;
    h[157..157 + link.len()].copy_from_slice(link.as_bytes());
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    h
}

/// A gzipped layer: `(path, content)` files, `(path, "->target")` symlinks; a file named
/// `.wh.X` is a whiteout, as `docker build` writes them.
fn layer(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar(entries)).unwrap();
    gz.finish().unwrap()
}

/// [`layer`] compressed with zstd, as `docker buildx --output compression=zstd` writes them.
fn zstd_layer(entries: &[(&str, &str)]) -> Vec<u8> {
    zstd::stream::encode_all(&tar(entries)[..], 3).unwrap()
}

/// The tar of a layer.
fn tar(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut tar = Vec::new();
    for (path, content) in entries {
        if let Some(target) = content.strip_prefix("->") {
            tar.extend(header(path, 0, b'2', target));
            continue;
        }
        tar.extend(header(path, content.len(), b'0', ""));
        tar.extend(content.as_bytes());
        tar.resize(tar.len().div_ceil(512) * 512, 0);
    }
    tar.extend([0u8; 1024]);
    tar
}

/// Push a linux/amd64 image of `layers` (bottom first); returns its manifest digest.
fn push(registry: &Registry, repository: &str, tag: Option<&str>, layers: &[Vec<u8>]) -> String {
    let config = serde_json::to_vec(&json!({"architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": []}}))
    .unwrap();
    let config_digest = registry.push_blob(repository, &config);
    let descriptors: Vec<Value> = layers
        .iter()
        .map(|l| {
            let compression = if l.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
                "zstd"
            } else {
                "gzip"
            };
            json!({"mediaType": format!("application/vnd.oci.image.layer.v1.tar+{compression}"),
                   "digest": registry.push_blob(repository, l), "size": l.len()})
        })
        .collect();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": descriptors,
    }))
    .unwrap();
    let by_digest = format!("sha256:{}", sha256_hex(&manifest));
    registry.push_manifest(
        repository,
        tag.unwrap_or(&by_digest),
        "application/vnd.oci.image.manifest.v1+json",
        &manifest,
    )
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn dpkg(packages: &[(&str, &str, &str)]) -> String {
    packages
        .iter()
        .map(|(name, source, version)| {
            let source = if source.is_empty() {
                String::new()
            } else {
                format!("Source: {source}\n")
            };
            format!(
                "Package: {name}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\n{source}Version: {version}\nDescription: {name}\n long description line\n"
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn record(dir: &Path, id: &str, ecosystem: &str, package: &str, events: Value, extra: Value) {
    let mut record = json!({
        "schema_version": "1.6.0",
        "id": id,
        "modified": "2024-10-16T00:00:00Z",
        "published": "2024-10-16T00:00:00Z",
        "affected": [{
            "package": {"ecosystem": ecosystem, "name": package},
            "ranges": [{"type": "ECOSYSTEM", "events": events}],
        }],
    });
    for (k, v) in extra.as_object().unwrap() {
        record[k] = v.clone();
    }
    std::fs::write(
        dir.join(format!("{id}.json")),
        serde_json::to_vec_pretty(&record).unwrap(),
    )
    .unwrap();
}

const OS_RELEASE: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n";

struct Setup {
    registry: Registry,
    repo: tempfile::TempDir,
    db: tempfile::TempDir,
    rebuilt: String,
    /// The digest the Dockerfile pins python to.
    old: String,
}

fn setup() -> Setup {
    let registry = Registry::start(RegistryAuth::None);
    // Debian: a base layer, then a "python" layer that rewrites dpkg's status, as the official
    // images do; the rebuilt tag has the fixed openssl.
    let base = layer(&[
        ("etc/os-release", "->../usr/lib/os-release"),
        ("usr/lib/os-release", OS_RELEASE),
        ("usr/bin/true", "binary"),
        (
            "var/lib/dpkg/status",
            &dpkg(&[("base-files", "", "12.4+deb12u5")]),
        ),
    ]);
    let python = |openssl: &str| {
        layer(&[
            ("usr/local/bin/python3", "python"),
            (
                "var/lib/dpkg/status",
                &dpkg(&[
                    ("base-files", "", "12.4+deb12u5"),
                    ("libssl3", "openssl", openssl),
                    ("openssl", "", openssl),
                    ("zlib1g", "zlib (1:1.2.13.dfsg-1)", "1:1.2.13.dfsg-1"),
                ]),
            ),
        ])
    };
    let old = push(
        &registry,
        "library/python",
        None,
        &[base.clone(), python("3.0.11-1~deb12u1")],
    );
    let rebuilt = push(
        &registry,
        "library/python",
        Some("3.12-slim"),
        &[base, python("3.0.11-1~deb12u2")],
    );
    // Alpine, in zstd layers: the top layer whites out the base layer's os-release, so the
    // distribution comes from the alpine-release package.
    let alpine = push(
        &registry,
        "team/alpine",
        Some("3.20"),
        &[
            zstd_layer(&[
                (
                    "etc/os-release",
                    "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n",
                ),
                (
                    "lib/apk/db/installed",
                    "C:Q1=\nP:alpine-release\nV:3.20.3-r0\no:alpine-base\n\nP:libcrypto3\nV:3.3.2-r0\no:openssl\n\n",
                ),
            ]),
            zstd_layer(&[("etc/.wh.os-release", ""), ("app/main.py", "print()")]),
        ],
    );
    let _ = alpine;
    let db = tempfile::tempdir().unwrap();
    record(
        db.path(),
        "DSA-5532-1",
        "Debian:12",
        "openssl",
        json!([{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}]),
        json!({"upstream": ["CVE-2023-5363"], "summary": "openssl - security update",
               "database_specific": {"severity": "HIGH"}}),
    );
    record(
        db.path(),
        "DEBIAN-CVE-2023-45853",
        "Debian:12",
        "zlib",
        json!([{"introduced": "0"}]),
        json!({"upstream": ["CVE-2023-45853"],
               "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}),
    );
    // Not for this release: never reported.
    record(
        db.path(),
        "DSA-9999-1",
        "Debian:11",
        "openssl",
        json!([{"introduced": "0"}, {"fixed": "9.9"}]),
        json!({}),
    );
    record(
        db.path(),
        "ALPINE-CVE-2024-9143",
        "Alpine:v3.20",
        "openssl",
        json!([{"introduced": "0"}, {"fixed": "3.3.2-r1"}]),
        json!({}),
    );
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("Dockerfile"),
        format!(
            "FROM {host}/library/python:3.12-slim@{old}\nRUN true\nFROM {host}/team/alpine:3.20\n",
            host = registry.host
        ),
    )
    .unwrap();
    Setup {
        registry,
        repo,
        db,
        rebuilt,
        old,
    }
}

/// `repin audit --images` as a user runs it in the repository, for the README's example: the
/// loopback registry's address shown as a registry's usual local one.
fn audit_table(s: &Setup, home: &Path) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_repin"))
        .args(["audit", "--images", "--no-cache", "--advisory-db"])
        .arg(s.db.path())
        .arg(".")
        .current_dir(s.repo.path())
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "vulnerable images: exit 1\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = format!(
        "$ repin audit --images --advisory-db osv .\n{}",
        stdout
            .replace(&s.registry.host, "localhost:5000")
            .replace(s.db.path().to_str().unwrap(), "osv")
    );
    assert!(
        !shown.contains("127.0.0.1") && !shown.contains("/tmp"),
        "{shown}"
    );
    shown
}

#[test]
fn audit_images_reads_layers_matches_advisories_and_names_the_fixing_update() {
    let s = setup();
    let home = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let (dir, db, cache_dir) = (
        s.repo.path().to_str().unwrap(),
        s.db.path().to_str().unwrap(),
        cache.path().to_str().unwrap(),
    );
    let run = || {
        repin(
            home.path(),
            &[
                "audit",
                "--images",
                "--format",
                "json",
                "--advisory-db",
                db,
                "--cache-dir",
                cache_dir,
                dir,
            ],
        )
    };
    let out = run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "vulnerabilities found: {stderr}"
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let images = report["images"].as_array().unwrap();
    assert_eq!(images.len(), 2, "{report:#}");
    let python = &images[0];
    assert_eq!(python["line"], 1);
    // The python layer settled the database, and its base-files says Debian 12: the base
    // layer (and its os-release) is never read.
    assert_eq!(python["distribution"], "debian 12");
    assert_eq!(python["packages"], 4);
    assert_eq!(python["unchecked"], Value::Null);
    let findings: Vec<(&str, &str, &str, &str)> = python["vulnerabilities"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap(),
                f["package"].as_str().unwrap(),
                f["version"].as_str().unwrap(),
                f["status"]["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        findings,
        [
            ("DSA-5532-1", "openssl", "3.0.11-1~deb12u1", "fixed"),
            ("DEBIAN-CVE-2023-45853", "zlib", "1:1.2.13.dfsg-1", "no-fix"),
        ]
    );
    assert_eq!(python["vulnerabilities"]["ecosystem"], "Debian:12");
    // The rebuilt tag fixes the openssl CVE; the zlib one stays.
    let best = &python["best_update"];
    assert_eq!(best["proposed"], format!("3.12-slim@{}", s.rebuilt));
    assert_eq!(best["kind"], "digest");
    assert_eq!(best["remaining"], 1);
    assert_eq!(best["fixes"][0]["cve"], "CVE-2023-5363");
    assert_eq!(best["fixes"][0]["from"], "3.0.11-1~deb12u1");
    assert_eq!(best["fixes"][0]["to"], "3.0.11-1~deb12u2");
    assert_eq!(best["fixes"][0]["severity"], "high");
    // Read from the top: the python layer settled everything, the base layer was not fetched.
    assert_eq!(python["layers"], json!([2, 1, 0]), "{python:#}");
    // Alpine: the whiteout hides the base layer's (wrong) os-release; alpine-release says 3.20.
    let alpine = &images[1];
    assert_eq!(
        alpine["vulnerabilities"]["ecosystem"], "Alpine:v3.20",
        "{alpine:#}"
    );
    assert_eq!(
        alpine["vulnerabilities"]["findings"][0]["id"],
        "ALPINE-CVE-2024-9143"
    );
    assert_eq!(
        alpine["vulnerabilities"]["findings"][0]["version"],
        "3.3.2-r0"
    );
    assert_eq!(
        alpine["vulnerabilities"]["findings"][0]["status"],
        json!({"state": "fixed", "fixed_version": "3.3.2-r1"})
    );
    assert_eq!(alpine["best_update"], Value::Null);

    // Warm: every layer is answered by the cache, no layer byte is fetched.
    let warm: Value = serde_json::from_slice(&run().stdout).unwrap();
    for image in warm["images"].as_array().unwrap() {
        assert_eq!(image["bytes_fetched"], 0, "{image:#}");
        assert_eq!(image["layers"][1], 0, "{image:#}");
    }
    assert_eq!(
        warm["images"][0]["vulnerabilities"],
        python["vulnerabilities"]
    );

    // The table names the CVEs and the update.
    let out = repin(
        home.path(),
        &[
            "audit",
            "--images",
            "--advisory-db",
            db,
            "--cache-dir",
            cache_dir,
            dir,
        ],
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("CVE-2023-5363  high  openssl 3.0.11-1~deb12u1  fixed in 3.0.11-1~deb12u2"),
        "{table}"
    );
    assert!(
        table.contains("CVE-2023-45853  critical 9.8  zlib 1:1.2.13.dfsg-1  no fix yet"),
        "{table}"
    );
    assert!(
        table.contains("fixes 1 (CVE-2023-5363); 1 stays"),
        "{table}"
    );

    // SARIF: one result per image, package and advisory, at the FROM line.
    let out = repin(
        home.path(),
        &[
            "audit",
            "--images",
            "--format",
            "sarif",
            "--advisory-db",
            db,
            "--cache-dir",
            cache_dir,
            dir,
        ],
    );
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3, "{sarif:#}");
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        1
    );
    assert_eq!(
        results[2]["locations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );

    // The README's example of the table is this run's.
    let table = audit_table(&s, home.path());
    crate::support::readme::check(&[("audit-images-table", table)]);
}

#[test]
fn with_images_scan_a_rebuild_that_fixes_a_cve_is_a_security_update() {
    let s = setup();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(s.repo.path().join("repin.toml"), "[images]\nscan = true\n").unwrap();
    let (dir, db) = (
        s.repo.path().to_str().unwrap(),
        s.db.path().to_str().unwrap(),
    );
    let out = repin(
        home.path(),
        &[
            "check",
            "--no-cache",
            "--format",
            "json",
            "--advisory-db",
            db,
            dir,
        ],
    );
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let updates: Vec<&Value> = report["updates"].as_array().unwrap().iter().collect();
    let python = updates
        .iter()
        .find(|u| {
            u["proposed"]
                .as_str()
                .is_some_and(|t| t.contains(&s.rebuilt))
        })
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(python["fixes"], json!(["CVE-2023-5363"]), "{python:#}");
    assert_eq!(python["security"], true);
    assert!(
        python["reason"]
            .as_str()
            .unwrap()
            .ends_with("fixes 1 known vulnerability in OS packages"),
        "{python:#}"
    );
}

/// Scanner reports of the setup's images, written in each scanner's documented shape into
/// `dir`: Trivy JSON of the pinned python (by its registry digest), Grype JSON of an image no
/// Dockerfile uses, Trivy SARIF of the alpine tag.
fn write_reports(s: &Setup, dir: &Path) {
    let host = &s.registry.host;
    let trivy = json!({
        "SchemaVersion": 2,
        "ArtifactName": format!("{host}/library/python:3.12-slim"),
        "ArtifactType": "container_image",
        "Metadata": {"RepoTags": [], "RepoDigests": [format!("{host}/library/python@{}", s.old)]},
        "Results": [{"Target": "python (debian 12.4)", "Class": "os-pkgs", "Type": "debian",
            "Vulnerabilities": [
                {"VulnerabilityID": "CVE-2023-5363", "PkgName": "libssl3",
                 "InstalledVersion": "3.0.11-1~deb12u1", "FixedVersion": "3.0.11-1~deb12u2",
                 "Status": "fixed", "Severity": "HIGH"},
                {"VulnerabilityID": "CVE-2023-45853", "PkgName": "zlib1g",
                 "InstalledVersion": "1:1.2.13.dfsg-1", "Status": "will_not_fix", "Severity": "CRITICAL"},
                {"VulnerabilityID": "CVE-2011-3374", "PkgName": "base-files",
                 "InstalledVersion": "12.4+deb12u5", "Status": "affected", "Severity": "LOW"},
            ]}],
    });
    let grype = json!({
        "matches": [{"vulnerability": {"id": "CVE-2023-5363", "severity": "High",
                "fix": {"versions": ["3.0.11-1~deb12u2"], "state": "fixed"}},
            "artifact": {"name": "libssl3", "version": "3.0.11-1~deb12u1", "type": "deb",
                "upstreams": [{"name": "openssl"}]}}],
        "source": {"type": "image", "target": {"userInput": "myapp:latest", "tags": ["myapp:latest"],
            "repoDigests": [], "manifestDigest": format!("sha256:{}", "1".repeat(64))}},
        "descriptor": {"name": "grype", "version": "0.82.0"},
    });
    let sarif = json!({
        "version": "2.1.0",
        "$schema": "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/sarif-2.1/schema/sarif-schema-2.1.0.json",
        "runs": [{
            "tool": {"driver": {"name": "Trivy", "version": "0.57.1", "rules": [{"id": "CVE-2024-9143",
                "help": {"text": "Vulnerability CVE-2024-9143\nSeverity: MEDIUM\nPackage: libcrypto3\nFixed Version: 3.3.2-r1"},
                "properties": {"security-severity": "4.3"}}]}},
            "results": [{"ruleId": "CVE-2024-9143", "ruleIndex": 0, "level": "warning",
                "message": {"text": "Package: libcrypto3\nInstalled Version: 3.3.2-r0\nVulnerability CVE-2024-9143\nSeverity: MEDIUM\nFixed Version: 3.3.2-r1\nLink: [CVE-2024-9143](https://avd.aquasec.com/nvd/cve-2024-9143)"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": "team/alpine", "uriBaseId": "ROOTPATH"},
                    "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1}}}]}],
            "properties": {"imageName": format!("{host}/team/alpine:3.20"), "repoTags": [format!("{host}/team/alpine:3.20")], "repoDigests": []},
        }],
    });
    std::fs::create_dir_all(dir).unwrap();
    for (name, value) in [
        ("trivy.json", trivy),
        ("grype.json", grype),
        ("alpine.sarif", sarif),
    ] {
        std::fs::write(dir.join(name), serde_json::to_vec_pretty(&value).unwrap()).unwrap();
    }
}

#[test]
fn scan_reports_link_to_the_from_lines_of_their_images_and_say_what_the_update_fixes() {
    let s = setup();
    let home = tempfile::tempdir().unwrap();
    // Reports are files the user names: outside the repository too.
    let outside = tempfile::tempdir().unwrap();
    write_reports(&s, outside.path());
    let (dir, db) = (
        s.repo.path().to_str().unwrap(),
        s.db.path().to_str().unwrap(),
    );
    let report = |name: &str| outside.path().join(name).to_str().unwrap().to_owned();
    let (trivy, grype, sarif) = (
        report("trivy.json"),
        report("grype.json"),
        report("alpine.sarif"),
    );
    let run = |format: &str| {
        repin(
            home.path(),
            &[
                "audit",
                "--images",
                "--no-cache",
                "--format",
                format,
                "--advisory-db",
                db,
                "--scan-report",
                &trivy,
                "--scan-report",
                &grype,
                "--scan-report",
                &sarif,
                dir,
            ],
        )
    };
    let out = run("json");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    let reports = value["scan_reports"].as_array().unwrap();
    assert_eq!(reports.len(), 3, "{value:#}");

    // Trivy's report of the pinned python: on line 1 by its digest; repin's own reading says
    // the rebuilt tag fixes the openssl CVE (through libssl3, built from openssl), not zlib's;
    // base-files' CVE is none repin's advisories know.
    let python = &reports[0];
    assert_eq!(python["format"], "trivy");
    assert_eq!(python["warning"], Value::Null);
    let images = python["images"].as_array().unwrap();
    assert_eq!(images.len(), 1, "{python:#}");
    assert_eq!(images[0]["line"], 1);
    assert_eq!(images[0]["match"], "digest");
    assert_eq!(images[0]["update"], format!("3.12-slim@{}", s.rebuilt));
    let fixed: Vec<(&str, &str, &Value)> = images[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap(),
                f["package"].as_str().unwrap(),
                &f["fixed_by_update"],
            )
        })
        .collect();
    assert_eq!(
        fixed,
        [
            ("CVE-2023-5363", "libssl3", &json!(true)),
            ("CVE-2023-45853", "zlib1g", &json!(false)),
            ("CVE-2011-3374", "base-files", &Value::Null),
        ]
    );
    assert_eq!(images[0]["findings"][1]["state"], "wont-fix");
    assert_eq!(images[0]["findings"][1]["severity"], "critical");

    // Grype's report of an image no Dockerfile uses: linked nowhere, and said so.
    let app = &reports[1];
    assert_eq!(app["images"], json!([]));
    // The warning's text and its hints apart.
    let warning = app["warning"]["message"].as_str().unwrap();
    assert!(
        warning.ends_with(
            "`myapp:latest`, is in no Dockerfile's FROM line; its 1 finding is not linked"
        ),
        "{warning}"
    );
    assert!(app["warning"]["hints"].is_array(), "{app:#}");
    assert!(
        stderr.contains(&format!(
            "warning: {grype} (Grype JSON): the image it scanned, `myapp:latest`"
        )),
        "{stderr}"
    );

    // SARIF from Trivy of the alpine tag: line 3 by tag.
    let alpine = &reports[2];
    assert_eq!(alpine["format"], "sarif");
    assert_eq!(alpine["tool"], "Trivy 0.57.1");
    assert_eq!(alpine["images"][0]["line"], 3);
    assert_eq!(alpine["images"][0]["match"], "tag");
    assert_eq!(alpine["images"][0]["update"], Value::Null);
    assert_eq!(
        alpine["images"][0]["findings"][0]["fixed"], "3.3.2-r1",
        "{alpine:#}"
    );
    assert_eq!(alpine["images"][0]["findings"][0]["severity"], "medium");

    // SARIF: the reports' findings at their FROM lines, the unlinked report a warning.
    let out = run("sarif");
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    if let Err(errors) = crate::sarif::validate(&log, scratch.path()) {
        panic!("The SARIF does not validate:\n{errors}\n{log:#}");
    }
    let from_reports: Vec<(&str, &Value)> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["properties"]["scanner"].is_string())
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap(),
                &r["locations"][0]["physicalLocation"]["region"]["startLine"],
            )
        })
        .collect();
    assert_eq!(
        from_reports,
        [
            ("CVE-2023-5363", &json!(1)),
            ("CVE-2023-45853", &json!(1)),
            ("CVE-2011-3374", &json!(1)),
            ("CVE-2024-9143", &json!(3)),
        ],
        "{log:#}"
    );
    let notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert!(
        notes.iter().any(|n| n["level"] == "warning"
            && n["message"]["text"]
                .as_str()
                .unwrap()
                .contains("`myapp:latest`")),
        "{log:#}"
    );
    // Every rule a result names is in the log once.
    let rules: Vec<&str> = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let unique: std::collections::BTreeSet<&&str> = rules.iter().collect();
    assert_eq!(unique.len(), rules.len(), "{rules:?}");
    for (id, _) in &from_reports {
        assert!(rules.contains(id), "{id} in {rules:?}");
    }

    // The table, run in the repository with the reports under scan/, is the README's example.
    write_reports(&s, &s.repo.path().join("scan"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_repin"))
        .args(["audit", "--images", "--no-cache", "--advisory-db"])
        .arg(s.db.path())
        .args([
            "--scan-report",
            "scan/trivy.json",
            "--scan-report",
            "scan/alpine.sarif",
            ".",
        ])
        .current_dir(s.repo.path())
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    // Only the reports' part: the images' part is the example above it.
    let part = stdout
        .split_once("open OS vulnerabilities (advisories from")
        .and_then(|(_, rest)| rest.split_once('\n'))
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        part.contains(
            "CVE-2023-5363  high  libssl3 3.0.11-1~deb12u1 → 3.0.11-1~deb12u2  fixed by the update"
        ),
        "{part}"
    );
    assert!(
        part.contains("CVE-2023-45853  critical  zlib1g 1:1.2.13.dfsg-1  will not be fixed  stays after the update"),
        "{part}"
    );
    let shown = format!(
        "$ repin audit --images --scan-report scan/trivy.json --scan-report scan/alpine.sarif .\n…\n{}",
        part.replace(&s.registry.host, "localhost:5000")
    );
    assert!(!shown.contains("127.0.0.1"), "{shown}");
    crate::support::readme::check(&[("audit-scan-report-table", shown)]);
}

#[test]
fn a_malformed_or_unknown_scan_report_is_an_error_before_any_lookup() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), "FROM python:3.12-slim\n").unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\n  \"matches\": [,\n}\n").unwrap();
    let stranger = dir.path().join("sbom.json");
    std::fs::write(&stranger, "{\"bomFormat\": \"CycloneDX\"}").unwrap();
    let (dir, bad, stranger) = (
        dir.path().to_str().unwrap(),
        bad.to_str().unwrap(),
        stranger.to_str().unwrap(),
    );
    // No registry, no advisory source: the report's error comes first.
    let out = repin(home.path(), &["audit", "--scan-report", bad, dir]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "{bad}:2:15: error: Invalid scan report: expected value"
        )),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    let out = repin(home.path(), &["audit", "--scan-report", stranger, dir]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("is in no format repin reads")
            && stderr.contains("hint: --scan-report reads Trivy JSON (`trivy image --format json`), Grype JSON (`grype -o json`) or SARIF 2.1.0"),
        "{stderr}"
    );
}
