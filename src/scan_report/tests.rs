use std::path::Path;

use super::*;
use crate::manifest::Manifest;
use crate::text::SourceFile;
use crate::vocab::Message;

const INDEX: &str = "sha256:1bc04b5291c26a46d918139138b992d2de976d6851d0893b0476b85bfbdfc6e6";
const AMD64: &str = "sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51";

fn fixture(name: &str) -> Vec<Report> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/scan-reports")
        .join(name);
    read(&path).unwrap_or_else(|e| panic!("{}", crate::error::chain(&e)))
}

/// `(id, package, installed, fixed, state, severity)` of each finding.
/// `(id, package, installed, fixed, state, severity)`.
type Row<'a> = (
    &'a str,
    &'a str,
    &'a str,
    Option<&'a str>,
    FixState,
    Option<Rating>,
);

fn rows(report: &Report) -> Vec<Row<'_>> {
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.id.as_str(),
                f.package.as_str(),
                f.installed.as_str(),
                f.fixed.as_deref(),
                f.state,
                f.severity,
            )
        })
        .collect()
}

fn dockerfile(text: &str) -> Manifest {
    crate::manifest::dockerfile::parse(SourceFile::from_text(
        "Dockerfile",
        crate::text::Encoding::Utf8,
        text.to_owned(),
    ))
}

#[test]
fn trivy_json_gives_the_image_and_every_vulnerability_but_the_not_affected() {
    let [report] = &fixture("trivy.json")[..] else {
        panic!("one report")
    };
    assert_eq!(report.format, Format::Trivy);
    assert_eq!(report.target.as_deref(), Some("python:3.12-slim"));
    assert_eq!(
        report.references,
        [
            "python:3.12-slim",
            "python:3.12-slim",
            &format!("python@{INDEX}")
        ]
    );
    assert_eq!(
        rows(report),
        [
            (
                "CVE-2023-5363",
                "libssl3",
                "3.0.11-1~deb12u1",
                Some("3.0.11-1~deb12u2"),
                FixState::Fixed,
                Some(Rating::High)
            ),
            (
                "CVE-2023-45853",
                "zlib1g",
                "1:1.2.13.dfsg-1",
                None,
                FixState::WontFix,
                Some(Rating::Critical)
            ),
            (
                "CVE-2011-3374",
                "apt",
                "2.6.1",
                None,
                FixState::NoFix,
                Some(Rating::Low)
            ),
            // UNKNOWN is no rating; the language packages are the image's too.
            (
                "CVE-2023-5752",
                "pip",
                "23.2.1",
                Some("23.3"),
                FixState::Fixed,
                None
            ),
        ]
    );
    assert_eq!(report.findings[0].kind.as_deref(), Some("debian"));
    assert_eq!(report.findings[3].kind.as_deref(), Some("python-pkg"));
}

#[test]
fn grype_json_gives_the_image_its_digests_source_packages_and_related_cves() {
    let [report] = &fixture("grype.json")[..] else {
        panic!("one report")
    };
    assert_eq!(report.format, Format::Grype);
    assert_eq!(report.tool, "grype 0.82.0");
    assert_eq!(report.target.as_deref(), Some("python:3.12-slim"));
    assert_eq!(report.digests, [AMD64]);
    assert!(report.references.contains(&format!("python@{INDEX}")));
    assert_eq!(
        rows(report),
        [
            (
                "DSA-5532-1",
                "libssl3",
                "3.0.11-1~deb12u1",
                Some("3.0.11-1~deb12u2"),
                FixState::Fixed,
                Some(Rating::High)
            ),
            (
                "CVE-2023-45853",
                "zlib1g",
                "1:1.2.13.dfsg-1",
                None,
                FixState::WontFix,
                Some(Rating::Critical)
            ),
            (
                "CVE-2011-3374",
                "apt",
                "2.6.1",
                None,
                FixState::NoFix,
                Some(Rating::Low)
            ),
        ]
    );
    assert_eq!(report.findings[0].aliases, ["CVE-2023-5363"]);
    assert_eq!(
        report.findings[0].source_package.as_deref(),
        Some("openssl")
    );
    assert_eq!(report.findings[1].source_package.as_deref(), Some("zlib"));
    assert_eq!(report.findings[2].source_package, None);
}

#[test]
fn sarif_from_trivy_and_grype_gives_packages_versions_and_the_image_from_their_text() {
    let [trivy] = &fixture("trivy.sarif")[..] else {
        panic!("one run")
    };
    assert_eq!(trivy.format, Format::Sarif);
    assert_eq!(trivy.tool, "Trivy 0.57.1");
    assert_eq!(trivy.target.as_deref(), Some("python:3.12-slim"));
    assert!(trivy.references.contains(&format!("python@{INDEX}")));
    assert_eq!(
        rows(trivy),
        [
            (
                "CVE-2023-5363",
                "libssl3",
                "3.0.11-1~deb12u1",
                Some("3.0.11-1~deb12u2"),
                FixState::Fixed,
                Some(Rating::High)
            ),
            (
                "CVE-2023-45853",
                "zlib1g",
                "1:1.2.13.dfsg-1",
                None,
                FixState::NoFix,
                Some(Rating::Critical)
            ),
        ]
    );
    let [grype] = &fixture("grype.sarif")[..] else {
        panic!("one run")
    };
    assert_eq!(grype.tool, "grype 0.82.0");
    // Grype's SARIF names its image only in its messages.
    assert_eq!(grype.references, ["python:3.12-slim"]);
    assert_eq!(
        rows(grype),
        [
            (
                "DSA-5532-1",
                "libssl3",
                "3.0.11-1~deb12u1",
                Some("3.0.11-1~deb12u2"),
                FixState::Fixed,
                Some(Rating::High)
            ),
            (
                "CVE-2023-45853",
                "zlib1g",
                "1:1.2.13.dfsg-1",
                None,
                FixState::NoFix,
                Some(Rating::Critical)
            ),
        ]
    );
    assert_eq!(grype.findings[0].kind.as_deref(), Some("deb"));
}

#[test]
fn another_tools_sarif_keeps_what_its_text_does_not_say_unknown() {
    let log = r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Scanner X",
        "rules": [{"id": "X-1", "properties": {"security-severity": "5.0"}}]}},
        "results": [{"ruleId": "X-1", "message": {"text": "Something is wrong"}}]}]}"#;
    let [report] = &parse(Path::new("x.sarif"), log.as_bytes()).unwrap()[..] else {
        panic!("one run")
    };
    assert_eq!(report.tool, "Scanner X");
    assert_eq!(report.target, None);
    assert_eq!(
        rows(report),
        [("X-1", "", "", None, FixState::Unknown, Some(Rating::Medium))]
    );
}

#[test]
fn the_format_comes_from_the_content_and_a_stranger_is_refused_with_the_three_formats() {
    // The file's name says nothing: a Grype report named .sarif is read as Grype.
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scan-reports/grype.json"),
    )
    .unwrap();
    let reports = parse(Path::new("report.sarif"), &bytes).unwrap();
    assert_eq!(reports[0].format, Format::Grype);
    // A byte-order mark is no problem.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(&bytes);
    assert_eq!(
        parse(Path::new("r"), &bom).unwrap()[0].format,
        Format::Grype
    );

    for (text, what) in [
        (r#"{"bomFormat": "CycloneDX"}"#, "without Trivy's keys"),
        ("[1, 2]", "top level is not a JSON object"),
        (
            r#"{"version": "2.0.0", "runs": []}"#,
            "SARIF version `2.0.0`",
        ),
    ] {
        let error = parse(Path::new("scan.json"), text.as_bytes()).unwrap_err();
        let shown = crate::error::chain(&error);
        assert!(
            matches!(error, ScanReportError::UnknownFormat { .. }),
            "{shown}"
        );
        assert!(shown.contains(what), "{shown}");
        assert!(
            shown.contains("hint: --scan-report reads Trivy JSON")
                && shown.contains("Grype JSON")
                && shown.contains("SARIF 2.1.0"),
            "{shown}"
        );
    }
}

#[test]
fn malformed_json_is_an_error_at_its_line_and_column() {
    let text = "{\n  \"matches\": [\n    {\"vulnerability\": {\"id\": \"CVE-1\",}\n  ]\n}\n";
    let error = parse(Path::new("out/grype.json"), text.as_bytes()).unwrap_err();
    let shown = crate::error::chain(&error);
    assert!(
        shown.starts_with("out/grype.json:3:38: error: Invalid scan report: key must be a string"),
        "{shown}"
    );
    assert!(!shown.contains(" at line "), "{shown}");
    // A value of the wrong type is placed the same way.
    let text = "{\"SchemaVersion\": 2,\n \"Results\": \"none\"}";
    let shown = crate::error::chain(&parse(Path::new("t.json"), text.as_bytes()).unwrap_err());
    assert!(
        shown.starts_with("t.json:2:18: error: Invalid scan report: invalid type: string"),
        "{shown}"
    );
    // Deep nesting: skipped without recursion where repin keeps nothing, and an error at
    // serde_json's recursion limit where it reads the value.
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let skipped = format!("{{\"SchemaVersion\": 2, \"Extra\": {nested}}}");
    assert_eq!(
        parse(Path::new("s.json"), skipped.as_bytes()).unwrap()[0].format,
        Format::Trivy
    );
    let read = format!("{{\"matches\": [], \"source\": {{\"target\": {nested}}}}}");
    let shown = crate::error::chain(&parse(Path::new("d.json"), read.as_bytes()).unwrap_err());
    assert!(shown.contains("recursion limit exceeded"), "{shown}");
}

#[test]
fn a_report_larger_than_the_limit_is_refused_before_it_is_parsed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.json");
    let file = std::fs::File::create(&path).unwrap();
    // Sparse: the size without the disk.
    file.set_len(MAX_REPORT_BYTES + 1).unwrap();
    let error = read(&path).unwrap_err();
    assert!(matches!(error, ScanReportError::TooLarge { .. }), "{error}");
    assert!(error.to_string().contains("larger than 256 MiB"));
    let missing = read(&dir.path().join("none.json")).unwrap_err();
    assert!(
        crate::error::chain(&missing).starts_with("Cannot read the scan report "),
        "{missing}"
    );
}

#[test]
fn reports_link_to_from_lines_by_normalised_name_and_tag_or_digest() {
    let manifests = [dockerfile(&format!(
        "FROM python:3.12-slim@{INDEX} AS base\n\
         FROM docker.io/library/python:3.12-slim\n\
         FROM index.docker.io/library/python:3.13-slim\n\
         COPY --from=python:3.12-slim /x /x\n\
         FROM base\n"
    ))];
    let trivy = fixture("trivy.json");
    let linked = link(&trivy, &manifests, None);
    let images = &linked[0].images;
    // Line 1 by the index digest of RepoDigests; line 2 by name and tag (docker.io/library
    // written out or not); the 3.13 line, the COPY and the stage are not the image.
    assert_eq!(
        images
            .iter()
            .map(|i| (i.line, i.matched))
            .collect::<Vec<_>>(),
        [(1, MatchKind::Digest), (2, MatchKind::Tag)]
    );
    assert_eq!(images[0].name, "docker.io/library/python");
    assert_eq!(images[0].column, 13);
    assert_eq!(images[0].findings.len(), 4);
    // Without repin's own reading, nothing is said about the update.
    assert!(
        images[0]
            .findings
            .iter()
            .all(|f| f.fixed_by_update.is_none())
    );
    assert_eq!(linked[0].warning, None);

    // Pinned to another digest: the report scanned another build of the tag.
    let other = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    let manifests = [dockerfile(&format!("FROM python:3.12-slim@{other}\n"))];
    let linked = link(&trivy, &manifests, None);
    assert_eq!(linked[0].images[0].matched, MatchKind::TagOtherDigest);
}

#[test]
fn a_report_of_no_managed_image_is_a_warning_naming_its_target() {
    let manifests = [dockerfile("FROM python:3.12.7-slim\nFROM alpine:3.20\n")];
    let linked = link(&fixture("grype.json"), &manifests, None);
    assert!(linked[0].images.is_empty());
    let message = linked[0].warning.as_ref().unwrap();
    let warning = &message.text;
    assert!(
        warning.starts_with(
            "fixtures/scan-reports/grype.json (Grype JSON): the image it scanned, `python:3.12-slim`, is in no Dockerfile's FROM line; its 3 findings are not linked"
        ) || warning.contains("/fixtures/scan-reports/grype.json (Grype JSON): the image it scanned, `python:3.12-slim`, is in no Dockerfile's FROM line; its 3 findings are not linked"),
        "{warning}"
    );
    assert!(
        warning.ends_with("are not linked"),
        "no hint in the text: {warning}"
    );
    // The lines of the same image are named, to see why, as a typed hint.
    assert_eq!(
        message.hints,
        ["the Dockerfiles use python:3.12.7-slim: a report links by the same tag or digest"]
    );
    assert!(!message.to_string().contains("alpine"), "{message}");

    let directory = r#"{"matches": [], "source": {"type": "directory", "target": "."}}"#;
    let reports = parse(Path::new("dir.json"), directory.as_bytes()).unwrap();
    let linked = link(&reports, &manifests, None);
    assert_eq!(
        linked[0].warning,
        Some(
            Message::new(
                "dir.json (Grype JSON): it scanned `directory .`, not an image; its 0 findings are not linked"
            )
            .hint("a report links to a FROM line through the image it scanned (`trivy image`, `grype IMAGE`)")
        )
    );
}
