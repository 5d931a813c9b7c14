//! Conformance over the test-owned corpora of real Poetry, uv and Pipenv files
//! (`tests/corpus/poetry`, `tests/corpus/uv_lock`, `tests/corpus/pipfile`, provenance in each
//! folder's MANIFEST.md): no error, byte-identical round trip, spans that hold what they claim,
//! every updatable requirement of a manifest editable and verified, a CRLF twin that reads the
//! same; for every lock file an oracle, Python's own `tomllib` or `json`, that must find the
//! same packages, versions, sources, files and hashes (and Pipenv's markers) as repin, and for
//! every Poetry `pyproject.toml` one that must find the same `[[tool.poetry.source]]`s; and a
//! snapshot of what each file yields.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use repin::manifest::pyproject::{PoetrySource, Priority};
use repin::manifest::{self, Manifest, ManifestDetails, ManifestKind, check};
use repin::text::{Encoding, SourceFile};

use crate::support::lock_oracles::python_lines;

/// The files of corpus folder `folder` whose names end with `suffix`, sorted.
fn corpus(folder: &str, suffix: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(folder);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_str().unwrap().ends_with(suffix))
        .collect();
    files.sort();
    files
}

/// Reads `path` as `kind` and checks what every file of the corpus must satisfy: it reads
/// without a diagnostic, writes back byte for byte, its spans hold what they claim, every edit
/// it offers verifies (none is refused when `edits_refused_ok` is false), and its CRLF twin
/// reads the same pins.
fn read_conformant(path: &Path, kind: ManifestKind, edits_refused_ok: bool) -> Manifest {
    let name = path.file_name().unwrap().to_str().unwrap();
    let bytes = std::fs::read(path).unwrap();
    let source = SourceFile::from_bytes(name, &bytes).unwrap();
    let parsed = manifest::parse(source, kind);
    assert_eq!(
        parsed.source.to_bytes(),
        bytes,
        "{name} does not round-trip"
    );
    let errors: Vec<String> = parsed.diagnostics.iter().map(ToString::to_string).collect();
    assert!(errors.is_empty(), "{name}: {errors:#?}");
    check::spans_are_consistent(&parsed).unwrap_or_else(|e| panic!("{name}: {e}"));
    let refused =
        check::every_edit_verifies_or_is_refused(&parsed).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        edits_refused_ok || refused.is_empty(),
        "{name}: edits refused: {refused:#?}"
    );
    let text = parsed.source.text().replace('\n', "\r\n");
    let twin = manifest::parse(SourceFile::from_text(name, Encoding::Utf8, text), kind);
    let errors: Vec<String> = twin.diagnostics.iter().map(ToString::to_string).collect();
    assert!(errors.is_empty(), "{name} with CRLF: {errors:#?}");
    assert_eq!(
        pins(&twin),
        pins(&parsed),
        "{name}: the CRLF twin reads differently"
    );
    parsed
}

/// Every dependency's name, value and skip reason.
fn pins(m: &Manifest) -> Vec<(String, String, Option<&'static str>)> {
    m.dependencies
        .iter()
        .map(|d| {
            (
                d.name.clone(),
                d.current.clone(),
                d.skip_reason.map(repin::manifest::SkipReason::as_str),
            )
        })
        .collect()
}

/// `reason: count` of the skipped dependencies, or `none skipped`.
fn skipped(m: &Manifest) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for d in &m.dependencies {
        if let Some(r) = d.skip_reason {
            *counts.entry(r.as_str()).or_default() += 1;
        }
    }
    if counts.is_empty() {
        return "none skipped".into();
    }
    counts
        .iter()
        .map(|(r, n)| format!("{r} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line per dependency of a manifest: position, section, name, value, marker, skip reason.
fn manifest_lines(summary: &mut String, m: &Manifest, sections: &[String]) {
    assert_eq!(sections.len(), m.dependencies.len());
    for (d, section) in m.dependencies.iter().zip(sections) {
        let skip = d
            .skip_reason
            .map(|r| format!(" [{}]", r.as_str()))
            .unwrap_or_default();
        let marker = d
            .python()
            .and_then(|p| p.marker.as_ref())
            .map(|(m, _)| format!(" ; {m}"))
            .unwrap_or_default();
        let at = m.source.position(d.span.start);
        let _ = writeln!(
            summary,
            "  {at} {section} {} `{}`{marker}{skip}",
            d.name, d.current
        );
    }
}

/// What Python's `tomllib` finds in a `poetry.lock`: `name version files hashed source` per
/// package, the files of a 1.1 lock read from `[metadata.files]`.
const POETRY_ORACLE: &str = r#"
import re, sys, tomllib
d = tomllib.load(open(sys.argv[1], 'rb'))
meta = d.get('metadata', {}).get('files', {})
norm = lambda s: re.sub(r'[-_.]+', '-', s).lower()
for p in d.get('package', []):
    fs = p.get('files', meta.get(p['name'], []))
    print(norm(p['name']), p['version'], len(fs), sum(1 for f in fs if f.get('hash')), p.get('source', {}).get('type', 'default'))
"#;

/// What Python's `tomllib` finds in a `pyproject.toml`'s `[[tool.poetry.source]]`: `name url
/// priority` per source (`-` for no URL, which names PyPI itself), in the order Poetry searches
/// them, with the priority in repin's three kinds. It follows Poetry's rules, not repin's code,
/// so that a misreading shows: `priority` if set, else the flags of Poetry before 2.0
/// (`secondary = true` is supplemental, anything else primary); a `default` source (`default =
/// true` or `priority = "default"`) is primary and searched before every other; `secondary` is
/// the older name of `supplemental`. An unknown priority fails the script rather than being
/// guessed.
const POETRY_SOURCES_ORACLE: &str = r#"
import sys, tomllib
d = tomllib.load(open(sys.argv[1], 'rb'))
names = {'primary': 'primary', 'default': 'primary', 'supplemental': 'supplemental', 'secondary': 'supplemental', 'explicit': 'explicit'}
first, rest = [], []
for s in d.get('tool', {}).get('poetry', {}).get('source', []):
    p = names[s['priority']] if 'priority' in s else 'supplemental' if s.get('secondary') else 'primary'
    (first if s.get('default') or s.get('priority') == 'default' else rest).append(f"{s['name']} {s.get('url', '-')} {p}")
for line in first + rest:
    print(line)
"#;

/// repin's reading of `sources` in the oracle's form (`name url priority`, in order).
fn source_lines(sources: &[PoetrySource]) -> Vec<String> {
    sources
        .iter()
        .map(|s| {
            let priority = match s.priority {
                Priority::Primary => "primary",
                Priority::Supplemental => "supplemental",
                Priority::Explicit => "explicit",
            };
            format!("{} {} {priority}", s.name, s.url.as_deref().unwrap_or("-"))
        })
        .collect()
}

/// What Python's `tomllib` finds in a `uv.lock`: `name version source files hashed` per
/// package (`-` for a dynamic version).
const UV_ORACLE: &str = r#"
import sys, tomllib
d = tomllib.load(open(sys.argv[1], 'rb'))
for p in d.get('package', []):
    fs = ([p['sdist']] if 'sdist' in p else []) + p.get('wheels', [])
    print(p['name'], p.get('version', '-'), next(iter(p.get('source', {})), 'none'), len(fs), sum(1 for f in fs if 'hash' in f))
"#;

/// What Python's `json` finds in a `Pipfile.lock`: `category name version hashes markers` per
/// package (`-` for none).
const PIPENV_ORACLE: &str = r#"
import json, re, sys
d = json.load(open(sys.argv[1]))
norm = lambda s: re.sub(r'[-_.]+', '-', s).lower()
for c, ps in d.items():
    if c == '_meta':
        continue
    for n, p in ps.items():
        print(c, norm(n), p.get('version', '-').removeprefix('=='), len(p.get('hashes', [])), p.get('markers', '-'))
"#;

/// The oracle's lines for `path`, sorted.
fn oracle(script: &str, path: &Path) -> Vec<String> {
    let mut lines = python_lines(script, &[path.as_os_str()]);
    lines.sort();
    lines
}

fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

#[test]
fn every_corpus_poetry_file_round_trips_edits_and_matches_tomllib() {
    let manifests = corpus("poetry", ".toml");
    let locks = corpus("poetry", ".lock");
    assert_eq!(
        (manifests.len(), locks.len()),
        (6, 5),
        "the corpus is incomplete"
    );
    let mut summary = String::new();
    let mut sources_read = 0;
    for path in &manifests {
        let name = path.file_name().unwrap().to_str().unwrap();
        let parsed = read_conformant(path, ManifestKind::Pyproject, false);
        let ManifestDetails::Pyproject(file) = &parsed.details else {
            panic!("{name} is not read as a pyproject");
        };
        let sources = source_lines(&file.poetry_sources);
        let expected = python_lines(POETRY_SOURCES_ORACLE, &[path.as_os_str()]);
        assert_eq!(sources, expected, "{name}: [[tool.poetry.source]]");
        sources_read += sources.len();
        let _ = writeln!(
            summary,
            "{name}: python {:?}, requires-python {:?}, poetry sources {sources:?}, {}",
            file.poetry_python.as_ref().map(|r| r.0.as_str()),
            file.requires_python.as_ref().map(|r| r.0.as_str()),
            skipped(&parsed)
        );
        let sections: Vec<String> = file.sections.iter().map(ToString::to_string).collect();
        manifest_lines(&mut summary, &parsed, &sections);
    }
    // Without a file that has sources, the comparison above would pass whatever repin read.
    assert!(
        sources_read > 0,
        "no corpus pyproject has a [[tool.poetry.source]]"
    );
    for path in &locks {
        let name = path.file_name().unwrap().to_str().unwrap();
        let parsed = read_conformant(path, ManifestKind::PoetryLock, true);
        let ManifestDetails::PoetryLock(file) = &parsed.details else {
            panic!("{name} is not read as a poetry.lock");
        };
        let read = sorted(
            file.packages
                .iter()
                .map(|p| {
                    use manifest::poetry_lock::PackageSource as S;
                    let source = match &p.source {
                        S::Default => "default",
                        S::Index(_) => "legacy",
                        S::Git => "git",
                        S::Directory { .. } => "directory",
                        S::File => "file",
                        S::Url => "url",
                    };
                    format!(
                        "{} {} {} {} {source}",
                        p.name, p.version, p.files.0, p.files.1
                    )
                })
                .collect(),
        );
        assert_eq!(read, oracle(POETRY_ORACLE, path), "{name}");
        assert_eq!(file.packages.len(), parsed.dependencies.len(), "{name}");
        let _ = writeln!(
            summary,
            "{name}: lock-version {:?}, python-versions {:?}, {} packages, {} files, {}",
            file.lock_version,
            file.python_versions,
            file.packages.len(),
            file.packages.iter().map(|p| p.files.0).sum::<usize>(),
            skipped(&parsed)
        );
    }
    insta::assert_snapshot!(summary);
}

#[test]
fn every_corpus_uv_lock_round_trips_and_matches_tomllib() {
    let locks = corpus("uv_lock", ".lock");
    assert_eq!(locks.len(), 5, "the corpus is incomplete: {locks:?}");
    let mut summary = String::new();
    for path in &locks {
        let name = path.file_name().unwrap().to_str().unwrap();
        let parsed = read_conformant(path, ManifestKind::UvLock, true);
        let ManifestDetails::UvLock(file) = &parsed.details else {
            panic!("{name} is not read as a uv.lock");
        };
        let read = sorted(
            file.packages
                .iter()
                .map(|p| {
                    format!(
                        "{} {} {} {} {}",
                        p.name,
                        p.version.as_deref().unwrap_or("-"),
                        p.source.as_ref().map_or("none", |s| s.key()),
                        p.files.len(),
                        p.files.iter().filter(|f| f.hash.is_some()).count()
                    )
                })
                .collect(),
        );
        assert_eq!(read, oracle(UV_ORACLE, path), "{name}");
        let _ = writeln!(
            summary,
            "{name}: version {:?} revision {:?}, requires-python {:?}, {} resolution markers, members {:?}, {} packages, {} files, {}",
            file.version,
            file.revision,
            file.requires_python,
            file.resolution_markers.len(),
            file.members,
            file.packages.len(),
            file.packages.iter().map(|p| p.files.len()).sum::<usize>(),
            skipped(&parsed)
        );
    }
    insta::assert_snapshot!(summary);
}

#[test]
fn every_corpus_pipenv_file_round_trips_edits_and_matches_json() {
    let manifests = corpus("pipfile", ".Pipfile");
    let locks = corpus("pipfile", ".Pipfile.lock");
    assert_eq!(
        (manifests.len(), locks.len()),
        (6, 4),
        "the corpus is incomplete"
    );
    let mut summary = String::new();
    for path in &manifests {
        let name = path.file_name().unwrap().to_str().unwrap();
        let parsed = read_conformant(path, ManifestKind::Pipfile, false);
        let ManifestDetails::Pipfile(file) = &parsed.details else {
            panic!("{name} is not read as a Pipfile");
        };
        let _ = writeln!(
            summary,
            "{name}: python {:?}, sources {:?}, prereleases {}, {}",
            file.python.as_ref().map(|r| r.0.as_str()),
            file.sources
                .iter()
                .map(|s| s.url.as_str())
                .collect::<Vec<_>>(),
            file.allow_prereleases,
            skipped(&parsed)
        );
        manifest_lines(&mut summary, &parsed, &file.categories);
    }
    for path in &locks {
        let name = path.file_name().unwrap().to_str().unwrap();
        let parsed = read_conformant(path, ManifestKind::PipfileLock, true);
        let ManifestDetails::PipfileLock(file) = &parsed.details else {
            panic!("{name} is not read as a Pipfile.lock");
        };
        let read = sorted(
            file.packages
                .iter()
                .map(|p| {
                    format!(
                        "{} {} {} {} {}",
                        p.category,
                        p.name,
                        p.version.as_deref().unwrap_or("-"),
                        p.hashes,
                        p.markers.as_deref().unwrap_or("-")
                    )
                })
                .collect(),
        );
        assert_eq!(read, oracle(PIPENV_ORACLE, path), "{name}");
        let _ = writeln!(
            summary,
            "{name}: python {:?}, sources {:?}, {} packages, {} hashes, {} with markers, {}",
            file.python.as_ref().map(|r| r.0.as_str()),
            file.sources
                .iter()
                .map(|s| s.url.as_str())
                .collect::<Vec<_>>(),
            file.packages.len(),
            file.packages.iter().map(|p| p.hashes).sum::<usize>(),
            file.packages.iter().filter(|p| p.markers.is_some()).count(),
            skipped(&parsed)
        );
    }
    insta::assert_snapshot!(summary);
}
