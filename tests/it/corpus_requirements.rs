//! Conformance over every requirements file of the real-world corpus: no panic, byte-identical
//! round trip, spans that hold what they claim, and every updatable pin editable.

use crate::support;

use repin::manifest::{self, ManifestDetails, ManifestKind, check};
use repin::text::SourceFile;

#[test]
fn every_corpus_requirements_file_round_trips_and_edits() {
    let corpus = support::corpus();
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

#[test]
fn include_chains_and_missing_includes() {
    let corpus = support::corpus();
    let r = corpus.join("requirements");
    // readthedocs: requirements.txt -> requirements/pip.txt (relative to the including file).
    let rtd = repin::manifest::workspace::Workspace::load(&[
        r.join("readthedocs__readthedocs.org/requirements.txt")
    ]);
    assert!(rtd.diagnostics.is_empty(), "{:?}", rtd.diagnostics);
    let paths: Vec<String> = rtd
        .manifests
        .iter()
        .map(|m| {
            m.source
                .path()
                .strip_prefix(&r)
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(
        paths,
        vec![
            "readthedocs__readthedocs.org/requirements/pip.txt",
            "readthedocs__readthedocs.org/requirements.txt"
        ]
    );
    // aiohttp: test -> test-common -> test-common-base, three levels.
    let aiohttp = repin::manifest::workspace::Workspace::load(&[
        r.join("aio-libs__aiohttp/requirements/base.in")
    ]);
    assert!(
        aiohttp.manifests.len() >= 2,
        "{:?}",
        aiohttp
            .manifests
            .iter()
            .map(|m| m.source.path())
            .collect::<Vec<_>>()
    );
    // Cray-HPE bos: two includes generated at build time, reported where they are written.
    let bos =
        repin::manifest::workspace::Workspace::load(&[r.join("Cray-HPE__bos__requirements.txt")]);
    let at: Vec<(usize, usize)> = bos.diagnostics.iter().map(|d| (d.line, d.column)).collect();
    assert_eq!(at, vec![(5, 4), (6, 4)]);
    assert!(bos.diagnostics.iter().all(
        |d| d.message.starts_with("The included file") && d.causes[0].contains("No such file")
    ));
    // Index options from the including file reach the requirements: bos sets --index-url.
    let ManifestDetails::Requirements(file) = &bos.manifests[0].details else {
        panic!()
    };
    assert!(file.options.index_url.is_some());
}
