//! Conformance over the test-owned corpus of real `pyproject.toml` files
//! (`tests/corpus/pyproject`, provenance in its MANIFEST.md): no error, byte-identical round
//! trip, spans that hold what they claim, every updatable requirement editable and verified,
//! a CRLF twin that reads the same, and a snapshot of what each file yields.

use std::fmt::Write as _;
use std::path::Path;

use repin::manifest::{self, ManifestDetails, ManifestKind, check};
use repin::text::{Encoding, SourceFile};

#[test]
fn every_corpus_pyproject_file_round_trips_and_edits() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/pyproject");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 8, "the corpus is incomplete: {files:?}");
    let mut summary = String::new();
    for path in &files {
        let name = path.file_name().unwrap().to_str().unwrap();
        let bytes = std::fs::read(path).unwrap();
        let source = SourceFile::from_bytes(name, &bytes).unwrap();
        let parsed = manifest::parse(source, ManifestKind::Pyproject);
        assert_eq!(
            parsed.source.to_bytes(),
            bytes,
            "{name} does not round-trip"
        );
        let errors: Vec<String> = parsed.diagnostics.iter().map(ToString::to_string).collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        check::spans_are_consistent(&parsed).unwrap_or_else(|e| panic!("{e}"));
        let refused =
            check::every_edit_verifies_or_is_refused(&parsed).unwrap_or_else(|e| panic!("{e}"));
        assert!(refused.is_empty(), "{name}: edits refused: {refused:#?}");
        let text = parsed.source.text().replace('\n', "\r\n");
        let twin = manifest::parse(
            SourceFile::from_text(name, Encoding::Utf8, text),
            ManifestKind::Pyproject,
        );
        let read = |m: &manifest::Manifest| -> Vec<(String, String)> {
            m.dependencies
                .iter()
                .map(|d| (d.name.clone(), d.current.clone()))
                .collect()
        };
        assert_eq!(
            read(&twin),
            read(&parsed),
            "{name}: the CRLF twin reads differently"
        );
        let ManifestDetails::Pyproject(file) = &parsed.details else {
            panic!("{name} is not read as a pyproject");
        };
        let _ = writeln!(
            summary,
            "{name}: requires-python {:?}, {} sources, {} includes",
            file.requires_python.as_ref().map(|r| r.0.as_str()),
            file.sources.len(),
            file.include_groups.len()
        );
        for (d, section) in parsed.dependencies.iter().zip(&file.sections) {
            let skip = d
                .skip_reason
                .map(|r| format!(" [{}]", r.as_str()))
                .unwrap_or_default();
            let at = parsed.source.position(d.span.start);
            let _ = writeln!(summary, "  {at} {section} {} `{}`{skip}", d.name, d.current);
        }
    }
    insta::assert_snapshot!(summary);
}
