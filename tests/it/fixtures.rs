//! Every fixture under `fixtures/requirements`, `fixtures/dockerfiles` and `fixtures/pyproject`: a snapshot of what is
//! extracted (with the exact text of every span), an identity round trip, a CRLF twin that reads
//! the same, and an edit of every updatable dependency followed by re-extraction.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use repin::manifest::{self, DependencyDetail, Manifest, ManifestDetails, ManifestKind, check};
use repin::text::{Encoding, SourceFile, Span};

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(dir);
    let mut files: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

fn quoted(m: &Manifest, span: Span) -> String {
    format!(
        "`{}`",
        m.source
            .slice(span)
            .replace('\r', "\\r")
            .replace('\n', "\\n")
    )
}

/// A readable rendering of everything extracted, with every span shown as the text it holds.
fn render(m: &Manifest) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "encoding: {:?}, line endings: {:?}",
        m.source.encoding(),
        m.source.line_endings()
    );
    match &m.details {
        ManifestDetails::Requirements(file) => {
            if let Some(lock) = &file.lock {
                let _ = writeln!(out, "lock: {lock:?}");
            }
            if !file.options.is_empty() {
                let _ = writeln!(out, "options: {:?}", file.options);
            }
            for include in &file.includes {
                let _ = writeln!(
                    out,
                    "include: {:?} {}",
                    include.kind,
                    quoted(m, include.span)
                );
            }
            if file.require_hashes {
                let _ = writeln!(out, "require-hashes");
            }
            for span in &file.templated_lines {
                let _ = writeln!(out, "templated: {}", quoted(m, *span));
            }
        }
        ManifestDetails::Pyproject(file) => {
            if let Some((written, span)) = &file.requires_python {
                let _ = writeln!(out, "requires-python: `{written}` at {}", quoted(m, *span));
            }
            for source in &file.sources {
                let _ = writeln!(
                    out,
                    "source: {} {:?} at {}",
                    source.name,
                    source.kind,
                    quoted(m, source.span)
                );
            }
            for include in &file.include_groups {
                let _ = writeln!(
                    out,
                    "group {} includes {} at {}",
                    include.group,
                    include.included,
                    quoted(m, include.span)
                );
            }
            for index in &file.uv_indexes {
                let _ = writeln!(
                    out,
                    "uv index: {:?} `{}` default={} explicit={} at {}",
                    index.name,
                    index.url,
                    index.default,
                    index.explicit,
                    quoted(m, index.span)
                );
            }
            let sections: Vec<String> = file.sections.iter().map(ToString::to_string).collect();
            let _ = writeln!(out, "sections: {sections:?}");
        }
        ManifestDetails::Dockerfile(info) => {
            let _ = writeln!(out, "syntax: {:?}, escape: {:?}", info.syntax, info.escape);
            for stage in &info.stages {
                let _ = writeln!(out, "stage: {:?} from `{}`", stage.name, stage.base);
            }
            for arg in &info.args {
                let span = arg.default_span.map(|s| quoted(m, s)).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "arg: {} = {:?} {span} global={}",
                    arg.name, arg.default, arg.global
                );
            }
        }
        ManifestDetails::UvLock(file) => {
            let _ = writeln!(
                out,
                "version: {:?}, revision: {:?}, requires-python: {:?}",
                file.version, file.revision, file.requires_python
            );
        }
        ManifestDetails::PoetryLock(file) => {
            let _ = writeln!(
                out,
                "lock-version: {:?}, python-versions: {:?}",
                file.lock_version, file.python_versions
            );
        }
        ManifestDetails::Pylock(file) => {
            let _ = writeln!(
                out,
                "lock-version: {:?}, created-by: {:?}, requires-python: {:?}",
                file.lock_version, file.created_by, file.requires_python
            );
        }
        ManifestDetails::Pipfile(file) => {
            for source in &file.sources {
                let _ = writeln!(
                    out,
                    "source: {:?} verify_ssl={} at {}",
                    source.name,
                    source.verify_ssl,
                    quoted(m, source.span)
                );
            }
            if let Some((written, span)) = &file.python {
                let _ = writeln!(out, "python: `{written}` at {}", quoted(m, *span));
            }
            let _ = writeln!(out, "categories: {:?}", file.categories);
        }
        ManifestDetails::PipfileLock(file) => {
            let _ = writeln!(
                out,
                "pipfile hash: {:?}, python: {:?}, sources: {}",
                file.pipfile_hash,
                file.python.as_ref().map(|(p, _)| p),
                file.sources.len()
            );
        }
    }
    for d in &m.dependencies {
        let p = m.source.position(d.span.start);
        let skip = d
            .skip_reason
            .map(|r| format!(" [{}]", r.as_str()))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{p} {} = {}{skip} at {}",
            d.name,
            d.current,
            quoted(m, d.span)
        );
        match &d.detail {
            DependencyDetail::Python(r) => {
                let mut parts = vec![format!("name {}", quoted(m, r.name_span))];
                if !r.extras.is_empty() {
                    parts.push(format!("extras {:?}", r.extras));
                }
                if let Some(s) = &r.specifier {
                    parts.push(format!("specifier {}", quoted(m, s.span)));
                }
                if let Some(pin) = &r.pin {
                    parts.push(format!("pin {:?} {}", pin.operator, quoted(m, pin.span)));
                }
                if let Some((_, span)) = &r.marker {
                    parts.push(format!("marker {}", quoted(m, *span)));
                }
                if let Some(url) = &r.url {
                    parts.push(format!("url `{url}`"));
                }
                if r.editable {
                    parts.push("editable".into());
                }
                for h in &r.hashes {
                    parts.push(format!("hash {}", quoted(m, h.span)));
                }
                if !r.via.is_empty() {
                    parts.push(format!("via {:?}", r.via));
                }
                if !r.index.is_empty() {
                    parts.push(format!("index {:?}", r.index));
                }
                let _ = writeln!(out, "    {}", parts.join("; "));
            }
            DependencyDetail::Image(i) => {
                let mut parts = vec![
                    format!("{:?}", i.context),
                    format!("ref `{}`", i.resolved.text()),
                ];
                if let Some(p) = &i.platform {
                    parts.push(format!("platform `{p}`"));
                }
                if let Some(s) = i.tag_span {
                    parts.push(format!("tag {}", quoted(m, s)));
                }
                if let Some(s) = i.digest_span {
                    parts.push(format!("digest {}", quoted(m, s)));
                }
                if let Some(at) = i.digest_insert_at {
                    parts.push(format!("digest goes at {}", m.source.position(at)));
                }
                if let Some(arg) = &i.from_arg {
                    parts.push(format!("arg {arg}"));
                }
                let _ = writeln!(out, "    {}", parts.join("; "));
            }
        }
    }
    for d in &m.diagnostics {
        let _ = writeln!(out, "{d}");
    }
    out
}

fn read(path: &Path, kind: ManifestKind) -> (Vec<u8>, Manifest) {
    let bytes = std::fs::read(path).unwrap();
    let source =
        SourceFile::from_bytes(path.file_name().unwrap().to_str().unwrap(), &bytes).unwrap();
    (bytes, manifest::parse(source, kind))
}

/// The same text with every LF turned into CRLF.
fn crlf_twin(m: &Manifest) -> Manifest {
    let text = m.source.text().replace("\r\n", "\n").replace('\n', "\r\n");
    manifest::parse(
        SourceFile::from_text(m.source.path(), Encoding::Utf8, text),
        m.kind,
    )
}

fn span_texts(m: &Manifest) -> Vec<(String, String, Option<&'static str>, String)> {
    m.dependencies
        .iter()
        .map(|d| {
            (
                d.name.clone(),
                d.current.clone(),
                d.skip_reason.map(repin::manifest::SkipReason::as_str),
                m.source.slice(d.span).to_owned(),
            )
        })
        .collect()
}

fn check_all(dir: &str, kind: ManifestKind) {
    let files = fixtures(dir);
    assert!(files.len() >= 4, "fixtures missing in {dir}");
    for path in files {
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let (bytes, m) = read(&path, kind);
        insta::assert_snapshot!(format!("{dir}__{name}"), render(&m));
        assert_eq!(
            m.source.to_bytes(),
            bytes,
            "{name}: no edit must give back the same bytes"
        );
        check::spans_are_consistent(&m).unwrap_or_else(|e| panic!("{e}"));
        let twin = crlf_twin(&m);
        assert_eq!(
            span_texts(&twin),
            span_texts(&m),
            "{name}: the CRLF twin reads differently"
        );
        check::spans_are_consistent(&twin).unwrap_or_else(|e| panic!("{e}"));
        for manifest in [&m, &twin] {
            let refused = check::every_edit_verifies_or_is_refused(manifest)
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(refused.is_empty(), "{name}: {refused:#?}");
        }
        assert!(
            m.dependencies.iter().any(|d| d.skip_reason.is_none()),
            "{name} has nothing to update"
        );
    }
}

#[test]
fn requirements_fixtures() {
    check_all("requirements", ManifestKind::Requirements);
}

#[test]
fn dockerfile_fixtures() {
    check_all("dockerfiles", ManifestKind::Dockerfile);
}

#[test]
fn pyproject_fixtures() {
    check_all("pyproject", ManifestKind::Pyproject);
}

#[test]
fn demo_repository() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    for (file, kind) in [
        ("requirements.txt", ManifestKind::Requirements),
        ("requirements-dev.txt", ManifestKind::Requirements),
        ("requirements.in", ManifestKind::Requirements),
        ("Dockerfile", ManifestKind::Dockerfile),
    ] {
        let (_, m) = read(&demo.join(file), kind);
        insta::assert_snapshot!(format!("demo__{file}"), render(&m));
        let refused = check::every_edit_verifies_or_is_refused(&m).unwrap();
        assert!(refused.is_empty(), "{file}: {refused:#?}");
    }
}
