//! pip requirements files, read losslessly: logical lines, options, hashes, includes, lock headers.

use serde::Serialize;

use super::Manifest;
use super::python::IndexOptions;
use crate::text::{SourceFile, Span};

/// `-r` (requirements) or `-c` (constraints).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IncludeKind {
    /// `-r`/`--requirement`.
    Requirement,
    /// `-c`/`--constraint`.
    Constraint,
}

/// An include of another requirements file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Include {
    /// Requirements or constraints.
    pub kind: IncludeKind,
    /// The path as written (relative to the including file's directory).
    pub path: String,
    /// Where the path is.
    pub span: Span,
}

/// The tool that generated a lock file, from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LockTool {
    /// pip-tools' `pip-compile`.
    PipCompile,
    /// `uv pip compile`.
    UvPipCompile,
    /// `uv export`.
    UvExport,
    /// Rye.
    Rye,
}

/// The header of a compiled lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockHeader {
    /// Which tool.
    pub tool: LockTool,
    /// The command line recorded in the header, as written.
    pub command: Option<String>,
    /// The output file named on that command line.
    pub output_file: Option<String>,
    /// Whether hashes were generated.
    pub generate_hashes: bool,
}

/// Facts about a whole requirements file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RequirementsFile {
    /// `-r` and `-c` includes in order.
    pub includes: Vec<Include>,
    /// Index options set in the file.
    pub options: IndexOptions,
    /// `--require-hashes` is set.
    pub require_hashes: bool,
    /// The lock-file header, when the file was compiled by a tool.
    pub lock: Option<LockHeader>,
}

/// Parse a requirements file.
pub fn parse(source: SourceFile) -> Manifest {
    let _ = source;
    unimplemented!("the requirements parser")
}
