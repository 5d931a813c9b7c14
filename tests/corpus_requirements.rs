//! Conformance over every requirements file of the real-world corpus: no panic, byte-identical
//! round trip, spans that hold what they claim, and every updatable pin editable.

mod support;

use repin::manifest::{self, ManifestKind, check};
use repin::text::SourceFile;

#[test]
fn every_corpus_requirements_file_round_trips_and_edits() {
    let Some(corpus) = support::corpus() else {
        return;
    };
    let files = support::files_below(&corpus.join("requirements"));
    assert!(
        files.len() >= 70,
        "expected the whole corpus, found {} files",
        files.len()
    );
    let mut dependencies = 0;
    let mut errors = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let source = SourceFile::from_bytes(path, &bytes).unwrap_or_else(|e| panic!("{e}"));
        let parsed = manifest::parse(source, ManifestKind::Requirements);
        assert_eq!(
            parsed.source.to_bytes(),
            bytes,
            "{} does not round-trip",
            path.display()
        );
        check::spans_are_consistent(&parsed).unwrap_or_else(|e| panic!("{e}"));
        let refused =
            check::every_edit_verifies_or_is_refused(&parsed).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            refused.is_empty(),
            "{}: edits refused: {refused:#?}",
            path.display()
        );
        dependencies += parsed.dependencies.len();
        errors.extend(
            parsed
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(ToString::to_string),
        );
    }
    // The corpus holds no line pip would reject.
    assert!(
        errors.is_empty(),
        "unexpected errors:\n{}",
        errors.join("\n")
    );
    assert!(
        dependencies > 2000,
        "only {dependencies} dependencies found"
    );
}
