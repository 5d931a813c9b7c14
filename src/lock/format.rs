//! A compiled lock written the way the tool that made it writes it: pip-compile's, uv's or
//! repin's layout, with the options of the command line its header records, so a re-lock's diff
//! is only the pins that moved.
//!
//! What is kept from the existing file, byte for byte: the header (the tool's own lines, its
//! command line, the Python it names) and the option lines after it (`--index-url`,
//! `--extra-index-url`, `--find-links`, `--trusted-host`: what the tool emitted, or did not,
//! with `--no-emit-index-url`). What is written again, as the tool writes it: every entry
//! (sorted by name, extras unless stripped, every hash sorted, the `# via` annotation in the
//! style asked for) and pip-compile's trailer of "unsafe" packages.
//!
//! An option that changes what the tool writes and that repin does not reproduce is refused
//! ([`Style::from_header`] returns why), so a file is never rewritten in a layout its tool
//! would not write.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::resolve::{Locked, Resolution, Via};
use crate::manifest::requirements::{LockHeader, LockTool};

/// How `# via` annotations are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Annotation {
    /// `    # via x` or a block of `    #   x` lines (the default of both tools).
    Split,
    /// One line, `# via a, b`, after the entry.
    Line,
    /// None (`--no-annotate`).
    None,
}

/// The layout of one compiled lock, read from its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Style {
    /// The tool whose layout it is.
    pub tool: LockTool,
    /// Whether entries carry hashes (`--generate-hashes`).
    pub hashes: bool,
    /// Whether entries are written without their extras (`--strip-extras`; uv's default).
    pub strip_extras: bool,
    /// pip-compile's `--allow-unsafe`: the unsafe packages are pinned in the trailer instead
    /// of listed as comments.
    pub allow_unsafe: bool,
    /// The packages pip-compile treats as unsafe (`pip`, `setuptools`, `distribute`, and
    /// `--unsafe-package` ones); empty for the other tools.
    pub unsafe_packages: BTreeSet<String>,
    /// The annotation style.
    pub annotation: Annotation,
    /// pip-compile's `--reuse-hashes` (its default): an unchanged pin keeps the hashes the
    /// file already has.
    pub reuse_hashes: bool,
    /// `--pre` / `--prerelease allow`: pre-releases allowed everywhere.
    pub prereleases: bool,
    /// The input files on the command line, as written (`requirements.in`).
    pub inputs: Vec<String>,
    /// The output file on the command line, as written.
    pub output: Option<String>,
}

/// The value of `--flag value` or `--flag=value` at `words[i]`, and how many words it took.
fn value<'a>(words: &[&'a str], i: usize, flag: &str) -> Option<(&'a str, usize)> {
    let word = words[i];
    if word == flag {
        return words.get(i + 1).map(|v| (*v, 2));
    }
    word.strip_prefix(flag)
        .and_then(|rest| rest.strip_prefix('='))
        .map(|v| (v, 1))
}

/// Why repin cannot write a lock as its tool would. The messages are clauses about the lock
/// (`it was made by Rye, ...`): they follow the lock's name where they are shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StyleError {
    /// A tool whose layout repin does not write.
    #[error("it was made by {0}, whose layout repin does not write")]
    Tool(&'static str),
    /// No command line in the header.
    #[error("its header records no command line")]
    NoCommand,
    /// A command line of another tool than the header says.
    #[error("its recorded command `{0}` is not one repin reads")]
    Command(String),
    /// An option repin does not reproduce.
    #[error("its command line has `{0}`, which repin does not reproduce")]
    Option(String),
    /// Not exactly one `.in` file (`no input file` or the files, quoted).
    #[error("its command line locks {0}, and repin re-locks one `.in` file")]
    Inputs(String),
}

impl crate::error::Hint for StyleError {}

impl Style {
    /// The style of a lock whose header is `header`, or why repin cannot write it as its tool
    /// would (a tool or an option it does not reproduce).
    pub fn from_header(header: &LockHeader) -> Result<Style, StyleError> {
        let tool = header.tool;
        if !matches!(
            tool,
            LockTool::PipCompile | LockTool::UvPipCompile | LockTool::Repin
        ) {
            return Err(StyleError::Tool(match tool {
                LockTool::UvExport => "`uv export` (from uv.lock)",
                LockTool::Rye => "Rye",
                _ => "another tool",
            }));
        }
        let command = header.command.as_deref().ok_or(StyleError::NoCommand)?;
        let words: Vec<&str> = command.split_whitespace().collect();
        // Where the tool's own arguments start.
        let start = match tool {
            LockTool::PipCompile => words.iter().position(|w| w.ends_with("pip-compile")),
            LockTool::UvPipCompile => words
                .windows(3)
                .position(|w| w == ["uv", "pip", "compile"])
                .map(|i| i + 2),
            _ => words
                .windows(2)
                .position(|w| w == ["repin", "lock"])
                .map(|i| i + 1),
        }
        .ok_or_else(|| StyleError::Command(command.to_owned()))?;
        let pip = tool == LockTool::PipCompile;
        let uv = tool == LockTool::UvPipCompile;
        let mut style = Style {
            tool,
            hashes: header.generate_hashes,
            strip_extras: uv,
            allow_unsafe: !pip,
            unsafe_packages: if pip {
                ["distribute", "pip", "setuptools"]
                    .into_iter()
                    .map(str::to_owned)
                    .collect()
            } else {
                BTreeSet::new()
            },
            annotation: Annotation::Split,
            reuse_hashes: pip,
            prereleases: false,
            inputs: Vec::new(),
            output: header.output_file.clone(),
        };
        let unsupported = |word: &str| Err(StyleError::Option(word.to_owned()));
        let mut i = start + 1;
        while i < words.len() {
            let word = words[i];
            let mut step = 1;
            if let Some((v, n)) = value(&words, i, "--annotation-style") {
                style.annotation = match v {
                    "line" => Annotation::Line,
                    "split" => Annotation::Split,
                    _ => return unsupported(word),
                };
                step = n;
            } else if let Some((v, n)) = value(&words, i, "--unsafe-package").filter(|_| pip) {
                style.unsafe_packages.insert(v.to_ascii_lowercase());
                step = n;
            } else if let Some((v, n)) = value(&words, i, "--prerelease").filter(|_| uv) {
                if v != "allow" {
                    return unsupported(word);
                }
                style.prereleases = true;
                step = n;
            } else if let Some((v, n)) = ["--output-file", "--python-version", "--python"]
                .iter()
                .find_map(|f| value(&words, i, f))
            {
                // `--python-platform` and the like are refused below; these name the output
                // and the Python, which the caller reads from the header.
                let _ = v;
                step = n;
            } else if word == "-o" {
                step = 2;
            } else if word.starts_with("-o") && !word.starts_with("--") {
            } else {
                match word {
                    "--generate-hashes"
                    | "--no-header"
                    | "--emit-index-url"
                    | "--no-emit-index-url"
                    | "--emit-trusted-host"
                    | "--no-emit-trusted-host"
                    | "--emit-find-links"
                    | "--no-emit-find-links"
                    | "--no-emit-options"
                    | "--emit-options"
                    | "--quiet"
                    | "-q"
                    | "--verbose"
                    | "-v"
                    | "--no-config"
                    | "--resolver=backtracking"
                    | "--no-build-isolation"
                    | "--build-isolation"
                    | "--no-cache"
                    | "--strip-extras"
                    | "--no-strip-extras"
                    | "--allow-unsafe"
                    | "--no-allow-unsafe"
                    | "--reuse-hashes"
                    | "--no-reuse-hashes"
                    | "--no-annotate"
                    | "--annotate"
                    | "--pre" => {}
                    _ if word.starts_with('-') => return unsupported(word),
                    _ => style.inputs.push(word.to_owned()),
                }
                match word {
                    "--strip-extras" => style.strip_extras = true,
                    "--no-strip-extras" => style.strip_extras = false,
                    "--allow-unsafe" => style.allow_unsafe = true,
                    "--no-allow-unsafe" => style.allow_unsafe = false,
                    "--reuse-hashes" => style.reuse_hashes = true,
                    "--no-reuse-hashes" => style.reuse_hashes = false,
                    "--no-annotate" => style.annotation = Annotation::None,
                    "--pre" => style.prereleases = true,
                    _ => {}
                }
            }
            i += step;
        }
        if style.inputs.is_empty() && pip {
            // pip-compile's default input.
            style.inputs.push("requirements.in".into());
        }
        if style.inputs.len() != 1 || !style.inputs[0].ends_with(".in") {
            return Err(StyleError::Inputs(if style.inputs.is_empty() {
                "no input file".to_owned()
            } else {
                style
                    .inputs
                    .iter()
                    .map(|i| format!("`{i}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }));
        }
        Ok(style)
    }
}

/// The parts of an existing lock kept as they are: its header lines and the option lines
/// (with the blank line after them) that precede the first entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kept {
    /// The leading comment lines, each with its line ending.
    pub header: String,
    /// The option and blank lines between the header and the first entry.
    pub options: String,
    /// The line ending of the file (`\r\n` or `\n`).
    pub newline: &'static str,
}

impl Kept {
    /// Split `text` (an existing lock) into what a re-lock keeps.
    pub fn of(text: &str) -> Kept {
        let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let mut header = String::new();
        let mut options = String::new();
        let mut in_header = true;
        for line in text.split_inclusive('\n') {
            let trimmed = line.trim();
            if in_header && trimmed.starts_with('#') {
                header.push_str(line);
                continue;
            }
            in_header = false;
            if trimmed.is_empty() || trimmed.starts_with('-') && !trimmed.starts_with("-e") {
                options.push_str(line);
                continue;
            }
            break;
        }
        Kept {
            header,
            options,
            newline,
        }
    }
}

/// The new lock: `kept` parts, then `resolution` in `style`. `existing_hashes` are the hashes
/// of the existing file's pins by (normalised name, version), which pip-compile reuses.
pub fn render(
    style: &Style,
    kept: &Kept,
    resolution: &Resolution,
    existing_hashes: &BTreeMap<(String, String), Vec<String>>,
) -> String {
    let mut out = String::new();
    out.push_str(&kept.header);
    out.push_str(&kept.options);
    let (safe, unsafe_): (Vec<&Locked>, Vec<&Locked>) = resolution
        .packages
        .iter()
        .partition(|p| !style.unsafe_packages.contains(p.name.as_ref()));
    let body_start = out.len();
    for package in &safe {
        entry(&mut out, style, package, existing_hashes);
    }
    if !unsafe_.is_empty() {
        out.push('\n');
        if style.hashes && !style.allow_unsafe {
            out.push_str(
                "# WARNING: The following packages were not pinned, but pip requires them to be\n\
                 # pinned when the requirements file includes hashes and the requirement is not\n\
                 # satisfied by a package already installed. Consider using the --allow-unsafe flag.\n",
            );
        } else {
            out.push_str(
                "# The following packages are considered to be unsafe in a requirements file:\n",
            );
        }
        for package in &unsafe_ {
            if style.allow_unsafe {
                entry(&mut out, style, package, existing_hashes);
            } else {
                let _ = writeln!(out, "# {}", package.name);
            }
        }
    }
    if kept.newline == "\r\n" {
        let body = out.split_off(body_start).replace('\n', "\r\n");
        out.push_str(&body);
    }
    out
}

/// The hashes an entry gets: the file's own for an unchanged pin when the tool reuses them,
/// else the index's; sorted, as both tools write them.
fn hashes_of(
    style: &Style,
    package: &Locked,
    existing: &BTreeMap<(String, String), Vec<String>>,
) -> Vec<String> {
    if !style.hashes {
        return Vec::new();
    }
    let key = (package.name.to_string(), package.version.to_string());
    let mut hashes = match existing.get(&key) {
        Some(kept) if style.reuse_hashes && !kept.is_empty() => kept.clone(),
        _ => package.hashes.clone(),
    };
    hashes.sort();
    hashes.dedup();
    hashes
}

fn entry(
    out: &mut String,
    style: &Style,
    package: &Locked,
    existing: &BTreeMap<(String, String), Vec<String>>,
) {
    let extras = if package.extras.is_empty() || style.strip_extras {
        String::new()
    } else {
        let names: Vec<String> = package.extras.iter().map(ToString::to_string).collect();
        format!("[{}]", names.join(","))
    };
    let mut line = format!("{}{extras}=={}", package.name, package.version);
    let hashes = hashes_of(style, package, existing);
    for hash in &hashes {
        let _ = write!(line, " \\\n    --hash={hash}");
    }
    let via: Vec<String> = package
        .via
        .iter()
        .filter(|v| !matches!(v, Via::Constraint(c) | Via::Requirement(c) if c.is_empty()))
        .map(ToString::to_string)
        .collect();
    // Both tools sort the annotation's sources as strings.
    let mut via = via;
    via.sort();
    match (style.annotation, via.as_slice()) {
        (Annotation::None, _) | (_, []) => {
            out.push_str(&line);
            out.push('\n');
        }
        (Annotation::Split, [one]) => {
            let _ = writeln!(out, "{line}\n    # via {one}");
        }
        (Annotation::Split, many) => {
            let _ = writeln!(out, "{line}\n    # via");
            for item in many {
                let _ = writeln!(out, "    #   {item}");
            }
        }
        (Annotation::Line, many) => {
            // pip-compile pads the entry to 24 columns; with hashes the annotation goes on a
            // line of its own.
            let sep = if hashes.is_empty() { "  " } else { "\n    " };
            let text = format!("{line:24}{sep}# via {}", many.join(", "));
            for l in text.lines() {
                let _ = writeln!(out, "{}", l.trim_end());
            }
        }
    }
}

#[cfg(test)]
mod tests;
