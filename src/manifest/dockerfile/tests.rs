use super::*;
use crate::manifest::check;
use crate::text::Encoding;

fn parse_text(text: &str) -> Manifest {
    parse(SourceFile::from_text(
        "Dockerfile",
        Encoding::Utf8,
        text.to_owned(),
    ))
}

fn image(m: &Manifest, i: usize) -> &ImageDependency {
    m.dependencies[i].image().unwrap()
}

const DIGEST: &str = "sha256:541d45d3d675fb8197f534525a671e2f8d66c882b89491f9dda271f4f94dcd06";

#[test]
fn arg_supplied_tags_point_into_the_arg_line() {
    let text = "ARG PYTHON_VERSION=3.12\nARG BASE_IMAGE=python:${PYTHON_VERSION}-slim\nFROM ${BASE_IMAGE} AS final\nFROM python:${PYTHON_VERSION}-alpine\n";
    let m = parse_text(text);
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    assert_eq!(m.dependencies.len(), 2);
    let d = &m.dependencies[0];
    assert_eq!(
        (d.name.as_str(), d.current.as_str()),
        ("docker.io/library/python", "3.12-slim")
    );
    // The tag starts in `ARG PYTHON_VERSION=3.12`: that is where the dependency is.
    assert_eq!(&text[d.span.range()], "3.12");
    assert_eq!(m.source.position(d.span.start).line, 1);
    let i = image(&m, 0);
    assert_eq!(i.tag_span, None, "the tag is assembled from two places");
    assert_eq!(i.from_arg.as_deref(), Some("BASE_IMAGE"));
    // A digest would follow `${BASE_IMAGE}` in the FROM line: the ARG may feed other images.
    let at = i.digest_insert_at.unwrap();
    assert_eq!(&text[at - 13..at], "${BASE_IMAGE}");
    assert_eq!(m.source.position(at).line, 3);
    assert_eq!(m.dependencies[1].current, "3.12-alpine");
}

#[test]
fn stages_scratch_copy_and_mount_references() {
    let text = format!(
        "FROM --platform=$BUILDPLATFORM docker.io/python:3.12.11-slim-bookworm AS python\nFROM python AS build\nCOPY --from=ghcr.io/astral-sh/uv:0.9.26@{DIGEST} /uv /bin/\nCOPY --from=0 /a /b\nRUN --mount=type=bind,source=x,from=build,target=/x true\nRUN --mount=type=cache,target=/c,from=busybox:1.36 true\nFROM scratch\nCOPY --from=BUILD /app /app\n"
    );
    let m = parse_text(&text);
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    let summary: Vec<_> = m
        .dependencies
        .iter()
        .map(|d| (d.name.as_str(), d.current.as_str(), d.skip_reason))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("docker.io/library/python", "3.12.11-slim-bookworm", None),
            ("python", "python", Some(SkipReason::StageReference)),
            ("ghcr.io/astral-sh/uv", &*format!("0.9.26@{DIGEST}"), None),
            ("0", "0", Some(SkipReason::StageReference)),
            ("build", "build", Some(SkipReason::StageReference)),
            ("docker.io/library/busybox", "1.36", None),
            ("scratch", "scratch", Some(SkipReason::Scratch)),
            ("BUILD", "BUILD", Some(SkipReason::StageReference)),
        ]
    );
    assert_eq!(image(&m, 0).platform.as_deref(), Some("$BUILDPLATFORM"));
    let uv = image(&m, 2);
    assert_eq!(uv.context, ImageContext::CopyFrom);
    assert_eq!(&text[uv.digest_span.unwrap().range()], DIGEST);
    assert_eq!(&text[uv.tag_span.unwrap().range()], "0.9.26");
    assert_eq!(image(&m, 5).context, ImageContext::RunMount);
    let ManifestDetails::Dockerfile(info) = &m.details else {
        panic!()
    };
    assert_eq!(info.stages.len(), 3);
    assert_eq!(info.stages[0].name.as_deref(), Some("python"));
}

#[test]
fn malformed_digests_and_unresolved_args_are_listed_with_reasons() {
    let text = "ARG python_ver\nFROM python:${python_ver}\nFROM python:3.12-slim-bookworm@sha256:abc\nFROM 3.10-windowsservercore-1809\n";
    let m = parse_text(text);
    let reasons: Vec<_> = m.dependencies.iter().map(|d| d.skip_reason).collect();
    assert_eq!(
        reasons,
        vec![
            Some(SkipReason::UnresolvedArg),
            Some(SkipReason::InvalidReference),
            None
        ]
    );
    let messages: Vec<String> = m.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 3, "{messages:#?}");
    assert!(
        messages[0].starts_with(
            "Dockerfile:2:6: warning: The image comes from `python_ver`, which has no default"
        ),
        "{}",
        messages[0]
    );
    assert!(
        messages[1].starts_with("Dockerfile:3:32: error: Invalid digest `sha256:abc`"),
        "{}",
        messages[1]
    );
    assert!(
        messages[2].contains("hint: did you mean `python:3.10-windowsservercore-1809`?"),
        "{}",
        messages[2]
    );
}

#[test]
fn registries_with_ports_and_no_tag() {
    let m = parse_text("FROM 192.168.0.10:5000/python\nFROM localhost:5000/team/app:1.2\n");
    let first = image(&m, 0);
    assert_eq!(first.reference.registry, "192.168.0.10:5000");
    assert_eq!(m.dependencies[0].current, "latest");
    let at = first.digest_insert_at.unwrap();
    assert_eq!(at, "FROM 192.168.0.10:5000/python".len());
    assert_eq!(image(&m, 1).reference.repository, "team/app");
}

#[test]
fn pip_install_pins_are_python_dependencies() {
    let text = "FROM python:3.12\nRUN pip install --upgrade \"pip==24.0\" \\\n    setuptools==69.2.0 \\\n  # comment\n    'psycopg[binary]>=3.2' \"dbt-core @ git+https://github.com/dbt-labs/dbt-core@${commit_ref}#subdirectory=core\"\nRUN [\"python\", \"-m\", \"pip\", \"install\", \"flask==3.1.0\"]\n";
    let m = parse_text(text);
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    let py: Vec<_> = m
        .dependencies
        .iter()
        .filter_map(|d| {
            d.python()
                .map(|_| (d.name.as_str(), d.current.as_str(), d.skip_reason))
        })
        .collect();
    assert_eq!(
        py,
        vec![
            ("pip", "24.0", None),
            ("setuptools", "69.2.0", None),
            ("psycopg", ">=3.2", None),
            (
                "dbt-core",
                "git+https://github.com/dbt-labs/dbt-core@${commit_ref}#subdirectory=core",
                Some(SkipReason::EnvironmentVariable)
            ),
            ("flask", "3.1.0", None),
        ]
    );
    for d in m.dependencies.iter().filter(|d| d.skip_reason.is_none()) {
        assert_eq!(&text[d.span.range()], d.current, "{}", d.name);
    }
    assert_eq!(
        m.dependencies[1].python().unwrap().origin,
        python::RequirementOrigin::PipInstall
    );
}

#[test]
fn escape_directive_heredocs_and_crlf() {
    let text = "# escape=`\r\nFROM mcr.microsoft.com/windows/servercore:ltsc2022 `\r\n  AS base\r\nRUN <<EOF\r\nFROM nothing\r\nEOF\r\nRUN pip install `\r\n    flask==3.1.0\r\n";
    let m = parse_text(text);
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    assert_eq!(m.dependencies.len(), 2);
    assert_eq!(m.dependencies[0].current, "ltsc2022");
    assert_eq!(&text[m.dependencies[1].span.range()], "3.1.0");
    let ManifestDetails::Dockerfile(info) = &m.details else {
        panic!()
    };
    assert_eq!(info.escape, '`');
    assert_eq!(info.stages[0].name.as_deref(), Some("base"));
}

#[test]
fn stage_args_inherit_global_defaults() {
    let text = "ARG UV=0.9.26\nFROM python:3.12\nARG UV\nCOPY --from=ghcr.io/astral-sh/uv:${UV} /uv /bin/\n";
    let m = parse_text(text);
    let uv = &m.dependencies[1];
    assert_eq!(uv.current, "0.9.26");
    assert_eq!(m.source.position(uv.span.start).line, 1);
    let ManifestDetails::Dockerfile(info) = &m.details else {
        panic!()
    };
    assert_eq!(
        info.args
            .iter()
            .map(|a| (a.name.as_str(), a.global))
            .collect::<Vec<_>>(),
        vec![("UV", true), ("UV", false)]
    );
}

/// Found by fuzzing: a pip argument with quotes inside it (`on", ":0`) differs from its bytes;
/// it is listed with what is written and claims no span inside it.
#[test]
fn pip_arguments_with_inner_quotes_keep_their_written_text() {
    let text = "FROM python:3.12\nRUN pip install --no-cache-dir on\", \":0 flask==3.1.0\n";
    let m = parse_text(text);
    crate::manifest::check::spans_are_consistent(&m).unwrap();
    let odd = &m.dependencies[1];
    assert_eq!(odd.current, "on\", \":0");
    assert_eq!(odd.skip_reason, Some(SkipReason::Invalid));
    assert_eq!(m.dependencies[2].current, "3.1.0");
}

/// Found by fuzzing: an escaped character inside a quoted pip argument.
#[test]
fn escaped_pip_arguments_claim_no_inner_span() {
    let text = "FROM python:3.12\nRUN pip install \"dbt\\-core==1.8.0\" \"x ; y\"\n";
    let m = parse_text(text);
    crate::manifest::check::spans_are_consistent(&m).unwrap();
    assert_eq!(m.dependencies[1].current, "\"dbt\\-core==1.8.0\"");
    assert_eq!(m.dependencies[1].skip_reason, Some(SkipReason::SplitValue));
}

/// Dockerfiles whose `ARG`s and stages refer to each other, `n` lines each, in the shapes that
/// made reading them quadratic (issue 10, item 9): stages built on the one before, a chain of
/// globals, a chain inside a stage, many `FROM`s under many globals, many `COPY --from` in a
/// long stage, and chains whose values grow or double.
fn hostile_arg_files(n: usize) -> Vec<(&'static str, String)> {
    let chain = |prefix: &str, suffix: &str| {
        let mut text = String::from(prefix);
        text.push_str("ARG A0=3.12\n");
        for i in 1..n {
            text.push_str(&format!("ARG A{i}=${{A{}}}{suffix}\n", i - 1));
        }
        text
    };
    let mut global = chain("", "");
    global.push_str(&format!("FROM python:${{A{}}}-slim\n", n - 1));
    let mut stage = chain("FROM python:3.12-slim\n", "");
    stage.push_str(&format!("COPY --from=python:${{A{}}} /a /b\n", n - 1));
    let mut grows = chain("", "x");
    grows.push_str(&format!("FROM python:${{A{}}}\n", n - 1));
    let mut doubles = String::from("ARG A0=3\n");
    for i in 1..n {
        doubles.push_str(&format!("ARG A{i}=${{A{p}}}${{A{p}}}\n", p = i - 1));
    }
    doubles.push_str(&format!("FROM python:${{A{}}}\n", n - 1));
    let mut froms = String::new();
    for i in 0..n / 2 {
        froms.push_str(&format!("ARG V{i}=3.{i}\n"));
    }
    for i in 0..n / 2 {
        froms.push_str(&format!("FROM python:${{V{i}}}\n"));
    }
    let mut copies = String::from("FROM python:3.12\n");
    for i in 0..n / 2 {
        copies.push_str(&format!("ARG V{i}=3.{i}\n"));
    }
    for i in 0..n / 2 {
        copies.push_str(&format!("COPY --from=python:${{V{i}}} /a /b\n"));
    }
    let mut stages = String::from("FROM python:3.12-slim AS s0\n");
    for i in 1..n {
        stages.push_str(&format!("FROM s{} AS s{i}\n", i - 1));
    }
    vec![
        ("chained stages", stages),
        ("global chain", global),
        ("stage chain", stage),
        ("growing chain", grows),
        ("doubling chain", doubles),
        ("many FROMs", froms),
        ("many COPY --from", copies),
    ]
}

/// Issue 10, item 9: `ARG` substitution is linear. Counted, not timed: the bytes allocated
/// while parsing four times the lines stay within five times as many (a copy of the scope per
/// instruction, or values that grow with the chain, allocated sixteen times as much).
#[test]
fn arg_substitution_work_grows_linearly() {
    let small = hostile_arg_files(1_000);
    let large = hostile_arg_files(4_000);
    for ((shape, small), (_, large)) in small.into_iter().zip(large) {
        let (m_small, bytes_small) = crate::alloc_count::allocated_by(|| parse_text(&small));
        let (m_large, bytes_large) = crate::alloc_count::allocated_by(|| parse_text(&large));
        assert!(!m_small.dependencies.is_empty() && !m_large.dependencies.is_empty());
        let ratio = bytes_large as f64 / bytes_small as f64;
        assert!(
            ratio < 5.0,
            "{shape}: {bytes_small} bytes for 1,000 lines, {bytes_large} for 4,000 ({ratio:.1}x)"
        );
    }
}

/// What the limits do to the hostile shapes: the chains that stay short resolve; a value
/// that keeps growing, or doubles, is not evaluated, with a warning at the image; the other
/// images of the file are unaffected.
#[test]
fn substitution_limits_skip_one_image_with_a_warning() {
    let files = hostile_arg_files(4_000);
    let m = parse_text(&files[1].1);
    assert_eq!(m.dependencies[0].current, "3.12-slim");
    assert_eq!(m.dependencies[0].skip_reason, None);
    for (shape, text) in &files[3..5] {
        let text = format!("{text}FROM python:3.13\n");
        let m = parse_text(&text);
        assert_eq!(
            m.dependencies[0].skip_reason,
            Some(SkipReason::ComplexInterpolation),
            "{shape}"
        );
        assert_eq!(m.dependencies[1].current, "3.13", "{shape}");
        assert_eq!(m.diagnostics.len(), 1, "{shape}: {:?}", m.diagnostics);
        // Which limit stops it first depends on the shape: the length of one value, or the
        // file's budget (the growing chain copies 1 + 2 + ... bytes).
        let message = &m.diagnostics[0].message;
        assert!(
            message.starts_with("The image was not evaluated: a value longer than 4096 bytes")
                || message.starts_with("The image was not evaluated: more substitution than"),
            "{shape}: {message}"
        );
    }
}

/// Issue 10, item 3: `${A:-${A:-...}}` nested 100,000 deep recursed once per level. Bounded:
/// the image is skipped with a warning, on a small stack, and the file's other images are read.
#[test]
fn deeply_nested_defaults_are_bounded() {
    let deep = 100_000;
    let text = format!(
        "FROM python:{}3.12{}\nFROM python:${{X:-${{Y:-3.11}}}}\n",
        "${A:-".repeat(deep),
        "}".repeat(deep)
    );
    let m = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || parse_text(&text))
        .unwrap()
        .join()
        .expect("no stack overflow");
    assert_eq!(m.dependencies.len(), 2);
    assert_eq!(
        m.dependencies[0].skip_reason,
        Some(SkipReason::ComplexInterpolation)
    );
    assert_eq!(m.dependencies[1].current, "3.11");
    assert_eq!(m.dependencies[1].skip_reason, None);
    assert_eq!(m.diagnostics.len(), 1, "{:?}", m.diagnostics);
    assert!(
        m.diagnostics[0]
            .message
            .contains("defaults nested more than 16 deep"),
        "{}",
        m.diagnostics[0].message
    );
}

/// Issue 17: `pip install --no-index --find-links=...` installs local wheels: its requirements
/// are listed with `no-index` and never looked up; the same command without `--no-index` is not.
#[test]
fn pip_installs_without_an_index_are_skipped() {
    let text = "FROM python:3.12\nRUN pip install --no-index --find-links=/tmp/wheels/ py-spy && pip install flask==3.1.0\nRUN pip3 install --no-index -f /w requests==2.32.3 ./local.whl\n";
    let m = parse_text(text);
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    let py: Vec<_> = m
        .dependencies
        .iter()
        .filter(|d| d.python().is_some())
        .map(|d| (d.name.as_str(), d.skip_reason))
        .collect();
    assert_eq!(
        py,
        vec![
            ("py-spy", Some(SkipReason::NoIndex)),
            ("flask", None),
            ("requests", Some(SkipReason::NoIndex)),
            // A path keeps its own reason.
            ("./local.whl", Some(SkipReason::LocalPath)),
        ]
    );
}

/// Issue 17: the `# syntax=` directive is an image reference, edited in place (tag, and digest
/// when pinned), spaces around `=` kept.
#[test]
fn the_syntax_directive_is_an_image() {
    let text =
        format!("# syntax = docker/dockerfile:1.4@{DIGEST}\n# escape=\\\nFROM python:3.12\n");
    let m = parse_text(&text);
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    let d = &m.dependencies[0];
    assert_eq!(
        (d.name.as_str(), d.current.as_str(), d.skip_reason),
        (
            "docker.io/docker/dockerfile",
            &*format!("1.4@{DIGEST}"),
            None
        )
    );
    let i = image(&m, 0);
    assert_eq!(i.context, ImageContext::Syntax);
    assert_eq!(&text[i.tag_span.unwrap().range()], "1.4");
    assert_eq!(&text[i.digest_span.unwrap().range()], DIGEST);
    assert_eq!(m.source.position(d.span.start).column, 30);
    assert_eq!(m.dependencies[1].current, "3.12");

    let unpinned = parse_text("#syntax=docker/dockerfile:1\nFROM python:3.12\n");
    let i = image(&unpinned, 0);
    assert_eq!(i.reference.tag.as_deref(), Some("1"));
    assert_eq!(
        i.digest_insert_at,
        Some("#syntax=docker/dockerfile:1".len())
    );
    // Only a directive at the top is one: the same comment later is a comment.
    let late = parse_text("FROM python:3.12\n# syntax=docker/dockerfile:1.4\n");
    assert_eq!(late.dependencies.len(), 1);
}

/// Issue 17: `pip install flask==${VERSION}` takes the stage's `ARG VERSION=...` default, as
/// image tags do: the pin is the default's text, and its span is in the `ARG` line.
#[test]
fn pip_pins_from_arg_defaults_are_resolved() {
    let text = "ARG FLASK=3.0.0\nFROM python:3.12\nARG FLASK\nARG VERSION=\"1.2.3\"\nRUN pip install \"flask==${FLASK}\" gunicorn==$VERSION\n";
    let m = parse_text(text);
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    check::spans_are_consistent(&m).unwrap();
    let py: Vec<_> = m
        .dependencies
        .iter()
        .filter(|d| d.python().is_some())
        .map(|d| {
            let p = m.source.position(d.span.start);
            (d.name.as_str(), d.current.as_str(), d.skip_reason, p.line)
        })
        .collect();
    assert_eq!(
        py,
        vec![("flask", "3.0.0", None, 1), ("gunicorn", "1.2.3", None, 4)]
    );
    let pin = m.dependencies[1].python().unwrap().pin.as_ref().unwrap();
    assert_eq!(&text[pin.span.range()], "3.0.0");
    assert!(
        check::every_edit_verifies_or_is_refused(&m)
            .unwrap()
            .is_empty()
    );
}

/// What the shell would not read from the `ARG` default stays skipped, with why.
#[test]
fn pip_pins_from_variables_without_one_default_stay_skipped() {
    let cases = [
        // No default: only the build knows it.
        (
            "FROM python:3.12\nARG V\nRUN pip install flask==${V}\n",
            SkipReason::UnresolvedArg,
            false,
        ),
        // Not an ARG of the stage (a global one is not seen by RUN until redeclared).
        (
            "ARG V=1.0\nFROM python:3.12\nRUN pip install flask==${V}\n",
            SkipReason::EnvironmentVariable,
            false,
        ),
        // An ENV of the same name wins over the ARG.
        (
            "FROM python:3.12\nARG V=1.0\nENV V=2.0\nRUN pip install flask==${V}\n",
            SkipReason::EnvironmentVariable,
            true,
        ),
        // The command sets it itself.
        (
            "FROM python:3.12\nARG V=1.0\nRUN V=2.0 && pip install flask==$V\n",
            SkipReason::EnvironmentVariable,
            true,
        ),
        // In single quotes the shell substitutes nothing.
        (
            "FROM python:3.12\nARG V=1.0\nRUN pip install 'flask==${V}'\n",
            SkipReason::EnvironmentVariable,
            false,
        ),
        // The version is assembled from two places: no one edit changes it.
        (
            "FROM python:3.12\nARG MAJOR=1\nARG MINOR=2\nRUN pip install flask==${MAJOR}.${MINOR}\n",
            SkipReason::ComplexInterpolation,
            false,
        ),
    ];
    for (text, reason, warned) in cases {
        let m = parse_text(text);
        let d = m.dependencies.iter().find(|d| d.name == "flask").unwrap();
        assert_eq!(d.skip_reason, Some(reason), "{text}");
        assert_eq!(
            m.diagnostics
                .iter()
                .any(|d| d.message.contains("more than one way")),
            warned,
            "{text}: {:?}",
            m.diagnostics
        );
        assert!(!m.has_errors(), "{text}: {:?}", m.diagnostics);
        check::spans_are_consistent(&m).unwrap();
    }
}

/// Issue 17: an image pinned by digest alone follows no tag: its current value is the digest
/// as written, `@sha256:…`, not `latest`.
#[test]
fn digest_only_images_are_their_digest() {
    let text = format!("FROM debian@{DIGEST}\n");
    let m = parse_text(&text);
    let d = &m.dependencies[0];
    assert_eq!(d.current, format!("@{DIGEST}"));
    assert_eq!(image(&m, 0).reference.tag, None);
    assert_eq!(&text[d.span.range()], DIGEST);
}
