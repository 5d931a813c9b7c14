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
