use super::*;

fn header(tool: LockTool, command: &str) -> LockHeader {
    LockHeader {
        tool,
        command: Some(command.into()),
        output_file: None,
        generate_hashes: command.contains("--generate-hashes"),
    }
}

#[test]
fn the_command_line_decides_the_layout() {
    let style = Style::from_header(&header(
        LockTool::PipCompile,
        "pip-compile --allow-unsafe --annotation-style=line --generate-hashes --strip-extras --unsafe-package=wheel requirements.in",
    ))
    .unwrap();
    assert!(style.hashes && style.allow_unsafe && style.strip_extras && style.reuse_hashes);
    assert_eq!(style.annotation, Annotation::Line);
    assert!(style.unsafe_packages.contains("wheel"));
    assert_eq!(style.inputs, ["requirements.in"]);
    // pip-compile without an input locks requirements.in.
    let style = Style::from_header(&header(LockTool::PipCompile, "pip-compile")).unwrap();
    assert_eq!(style.inputs, ["requirements.in"]);
    assert!(!style.allow_unsafe);
    // uv strips extras and pins everything by default.
    let style = Style::from_header(&header(
        LockTool::UvPipCompile,
        "uv pip compile requirements.in --generate-hashes --python-version 3.12 -o requirements.txt",
    ))
    .unwrap();
    assert!(style.strip_extras && style.allow_unsafe && !style.reuse_hashes);
    assert!(style.unsafe_packages.is_empty());
}

#[test]
fn layouts_repin_does_not_reproduce_are_refused_with_why() {
    for (tool, command, why) in [
        (
            LockTool::UvPipCompile,
            "uv pip compile --universal requirements.in -o requirements.txt",
            "`--universal`",
        ),
        (
            LockTool::UvExport,
            "uv export --format requirements-txt",
            "`uv export`",
        ),
        (
            LockTool::PipCompile,
            "pip-compile pyproject.toml",
            "`pyproject.toml`",
        ),
        (
            LockTool::PipCompile,
            "pip-compile a.in b.in",
            "`a.in`, `b.in`",
        ),
    ] {
        let error = Style::from_header(&header(tool, command))
            .unwrap_err()
            .to_string();
        assert!(error.contains(why), "{command}: {error}");
    }
}

#[test]
fn kept_parts_are_the_header_and_the_option_lines() {
    let text =
        "#\r\n# header\r\n#\r\n--index-url https://example.org/simple/\r\n\r\nflask==3.0.0\r\n";
    let kept = Kept::of(text);
    assert_eq!(kept.header, "#\r\n# header\r\n#\r\n");
    assert_eq!(
        kept.options,
        "--index-url https://example.org/simple/\r\n\r\n"
    );
    assert_eq!(kept.newline, "\r\n");
}
