//! Conformance over every Dockerfile of the real-world corpus: no panic, byte-identical round
//! trip, spans that hold what they claim, every updatable image and pin editable, and the edge
//! cases the corpus MANIFEST lists read as they should be.

use crate::support;

use std::path::Path;

use repin::manifest::{self, Manifest, ManifestKind, SkipReason, check};
use repin::text::SourceFile;

fn read(corpus: &Path, name: &str) -> Manifest {
    let path = corpus.join("dockerfiles").join(name);
    let source = SourceFile::read(&path).unwrap_or_else(|e| panic!("{e}"));
    manifest::parse(source, ManifestKind::Dockerfile)
}

fn summary(m: &Manifest) -> Vec<(String, String, Option<SkipReason>)> {
    m.dependencies
        .iter()
        .map(|d| (d.name.clone(), d.current.clone(), d.skip_reason))
        .collect()
}

#[test]
fn every_corpus_dockerfile_round_trips_and_edits() {
    let corpus = support::corpus();
    let files = support::files_below(&corpus.join("dockerfiles"));
    assert!(
        files.len() >= 40,
        "expected the whole corpus, found {} files",
        files.len()
    );
    let mut images = 0;
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let source = SourceFile::from_bytes(path, &bytes).unwrap_or_else(|e| panic!("{e}"));
        let parsed = manifest::parse(source, ManifestKind::Dockerfile);
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
        images += parsed
            .dependencies
            .iter()
            .filter(|d| d.image().is_some())
            .count();
    }
    assert!(images >= 80, "only {images} image references found");
}

#[test]
fn edge_cases_from_the_manifest() {
    let corpus = support::corpus();
    // The dfc django fixture: a malformed digest is a diagnostic and the image is not updated;
    // its digest fixture has a valid one.
    let dfc = read(
        &corpus,
        "chainguard-dev__dfc__testdata__django.before.Dockerfile",
    );
    assert!(
        dfc.diagnostics
            .iter()
            .any(|d| d.is_error() && d.message.starts_with("Invalid digest `sha256:abc`"))
    );
    assert!(
        dfc.dependencies
            .iter()
            .any(|d| d.skip_reason == Some(SkipReason::InvalidReference))
    );
    let valid = read(
        &corpus,
        "chainguard-dev__dfc__testdata__digest.before.Dockerfile",
    );
    assert_eq!(
        summary(&valid)[0].1,
        "3.12-slim-bookworm@sha256:a866731a6b71c4a194a845d86e06568725e430ed21821d0c52e4efb385cf6c6f"
    );

    // cookiecutter-django: a stage named `python` shadows the image of the same name.
    let cookiecutter = read(
        &corpus,
        "cookiecutter__cookiecutter-django__{{cookiecutter.project_slug}}__compose__production__django__Dockerfile",
    );
    let names: Vec<_> = cookiecutter
        .dependencies
        .iter()
        .filter(|d| d.image().is_some())
        .map(|d| (d.name.as_str(), d.skip_reason))
        .collect();
    assert_eq!(
        &names[..4],
        &[
            ("docker.io/library/node", None),
            ("docker.io/library/python", None),
            ("python", Some(SkipReason::StageReference)),
            ("python", Some(SkipReason::StageReference)),
        ],
        "{names:?}"
    );

    // nalabelle: tag+digest pins on docker.io, stage names with dots.
    let nalabelle = read(&corpus, "nalabelle__build__images__digests.Dockerfile");
    assert!(summary(&nalabelle).iter().any(|d| d.0 == "docker.io/library/python"
        && d.1 == "3.12.3-slim-bookworm@sha256:541d45d3d675fb8197f534525a671e2f8d66c882b89491f9dda271f4f94dcd06"));

    // full-stack-fastapi-template: an image in COPY --from.
    let fastapi = read(
        &corpus,
        "fastapi__full-stack-fastapi-template__backend__Dockerfile",
    );
    assert!(
        summary(&fastapi)
            .iter()
            .any(|d| d.0 == "ghcr.io/astral-sh/uv" && d.1 == "0.9.26")
    );

    // dbt: pip pins in RUN, an unbraced ARG in the tag, a VCS requirement whose ref comes from
    // the stage's `ARG commit_ref=main` (issue 17: read as pip would install it), and an
    // argument that is a whole `ARG` without default.
    let dbt = read(&corpus, "dbt-labs__dbt-core__docker__Dockerfile");
    let dbt_deps = summary(&dbt);
    assert!(
        dbt_deps
            .iter()
            .any(|d| d.0 == "pip" && d.1 == "24.0" && d.2.is_none()),
        "{dbt_deps:?}"
    );
    assert!(
        dbt_deps
            .iter()
            .any(|d| d.0 == "setuptools" && d.1 == "69.2.0"),
        "{dbt_deps:?}"
    );
    assert!(
        dbt_deps.iter().any(|d| d.0 == "dbt-core"
            && d.1 == "git+https://github.com/dbt-labs/dbt-core@main#subdirectory=core"
            && d.2 == Some(SkipReason::VcsRequirement)),
        "{dbt_deps:?}"
    );
    assert!(
        dbt_deps.iter().any(|d| (d.0.contains("dbt_third_party")
            || d.1.contains("dbt_third_party"))
            && d.2 == Some(SkipReason::UnresolvedArg)),
        "{dbt_deps:?}"
    );

    // An IP:port registry with no tag.
    let all: Vec<Manifest> = support::files_below(&corpus.join("dockerfiles"))
        .iter()
        .map(|p| manifest::parse(SourceFile::read(p).unwrap(), ManifestKind::Dockerfile))
        .collect();
    assert!(
        all.iter()
            .flat_map(|m| &m.dependencies)
            .any(|d| d.name == "192.168.0.10:5000/library/python"
                || d.name == "192.168.0.10:5000/python")
    );
    // Commented-out FROM lines are not read; heredocs are skipped.
    assert!(all.iter().all(|m| {
        m.dependencies
            .iter()
            .all(|d| !d.name.contains("not-an-image"))
    }));
}
