//! Manifests: the files that hold pins, and the dependencies extracted from them.
//!
//! Each format is read by its own lossless scanner: pip requirements files
//! ([`requirements`]), Dockerfiles ([`dockerfile`]), `pyproject.toml` ([`pyproject`]),
//! `Pipfile` ([`pipfile`]) and the lock files `uv.lock`, `pylock.toml`, `poetry.lock` and
//! `Pipfile.lock`. Each produces a [`Manifest`]: the
//! [`SourceFile`] it was read from, and a list of [`Dependency`] values that know exactly which
//! bytes of the file hold their current value, so an update is a splice of those bytes.
//!
//! Nothing here does I/O beyond reading the file: looking versions up is the job of
//! `registry`, and deciding what to change is the job of `decide`.

#[cfg(any(test, feature = "testing"))]
pub mod check;
pub mod discover;
pub mod dockerfile;
pub mod edit;
mod locked;
pub mod pipfile;
pub mod pipfile_lock;
pub mod poetry_lock;
pub mod pylock;
pub mod pyproject;
pub mod python;
pub mod requirements;
mod toml_text;
pub mod uv_lock;
pub mod workspace;

use serde::Serialize;

use crate::text::{Diagnostic, SourceFile, Span};

pub use dockerfile::ImageRef;
pub use python::PythonRequirement;

/// Which format a manifest is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ManifestKind {
    /// A pip requirements (or constraints, or `.in`, or pip-format lock) file.
    Requirements,
    /// A Dockerfile or Containerfile.
    Dockerfile,
    /// A `pyproject.toml` (PEP 621, PEP 735, PEP 518 and uv's tables).
    Pyproject,
    /// A `uv.lock`: every locked package, pinned; updated only by re-locking with uv.
    UvLock,
    /// A `pylock.toml` (PEP 751): every locked package, pinned; re-locked by the tool that
    /// wrote it, never edited.
    Pylock,
    /// A `poetry.lock`: every locked package, pinned; re-locked by Poetry, never edited.
    PoetryLock,
    /// A `Pipfile` (Pipenv's manifest).
    Pipfile,
    /// A `Pipfile.lock`: every locked package, pinned; re-locked by Pipenv, never edited.
    PipfileLock,
}

impl ManifestKind {
    /// The name used in output (`requirements`, `dockerfile`, `pyproject`, `uv-lock`,
    /// `pylock`, `poetry-lock`, `pipfile`, `pipfile-lock`).
    pub fn as_str(self) -> &'static str {
        match self {
            ManifestKind::Requirements => "requirements",
            ManifestKind::Dockerfile => "dockerfile",
            ManifestKind::Pyproject => "pyproject",
            ManifestKind::UvLock => "uv-lock",
            ManifestKind::Pylock => "pylock",
            ManifestKind::PoetryLock => "poetry-lock",
            ManifestKind::Pipfile => "pipfile",
            ManifestKind::PipfileLock => "pipfile-lock",
        }
    }
}

/// A parsed manifest: its source, its dependencies in file order, and what went wrong.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The file as read; spans in the dependencies index into its text.
    pub source: SourceFile,
    /// The format.
    pub kind: ManifestKind,
    /// Every dependency found, updatable or not, in file order.
    pub dependencies: Vec<Dependency>,
    /// Problems found while reading; errors mean some part of the file was not understood.
    pub diagnostics: Vec<Diagnostic>,
    /// Format-specific facts about the whole file.
    pub details: ManifestDetails,
}

impl Manifest {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Facts about a whole manifest that belong to one format.
#[derive(Debug, Clone)]
pub enum ManifestDetails {
    /// A requirements file: its includes, options and lock header.
    Requirements(requirements::RequirementsFile),
    /// A Dockerfile: its stages and build arguments.
    Dockerfile(dockerfile::DockerfileInfo),
    /// A `pyproject.toml`: each dependency's section, `requires-python`, uv's sources.
    Pyproject(pyproject::PyprojectFile),
    /// A `uv.lock`: its packages, sources and files.
    UvLock(uv_lock::UvLockFile),
    /// A `pylock.toml`: its packages, where they install from, and the tool that wrote it.
    Pylock(pylock::PylockFile),
    /// A `poetry.lock`: its packages and where they install from.
    PoetryLock(poetry_lock::PoetryLockFile),
    /// A `Pipfile`: each dependency's category, its sources and required Python.
    Pipfile(pipfile::PipfileFile),
    /// A `Pipfile.lock`: its packages, sources, required Python and the Pipfile's hash.
    PipfileLock(pipfile_lock::PipfileLockFile),
}

/// What sort of thing a dependency is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DependencyKind {
    /// A Python package from a PyPI-compatible index.
    Python,
    /// A container image from an OCI registry.
    Image,
}

/// One pin (or unpinned reference) found in a manifest.
#[derive(Debug, Clone)]
pub struct Dependency {
    /// The normalised package name (PEP 503) or the full image name (`docker.io/library/python`).
    pub name: String,
    /// Python package or image.
    pub kind: DependencyKind,
    /// The current value: the exact version of a pin, the specifier text otherwise; for an
    /// image its tag, followed by `@digest` when pinned.
    pub current: String,
    /// Where the current value is in the file: the version inside `==`, the specifier, the
    /// image's tag (or the `ARG` default that supplies it). Line and column come from here.
    pub span: Span,
    /// Why repin will not update this dependency, or `None` when it can.
    pub skip_reason: Option<SkipReason>,
    /// The format-specific detail.
    pub detail: DependencyDetail,
}

/// The format-specific part of a dependency.
#[derive(Debug, Clone)]
pub enum DependencyDetail {
    /// A Python requirement, from a requirements file or a `pip install` in a Dockerfile.
    Python(PythonRequirement),
    /// An image reference from `FROM`, `COPY --from` or `RUN --mount=from=`.
    Image(dockerfile::ImageDependency),
}

impl Dependency {
    /// The dependency for a Python requirement: `current` is the pin's version, else the
    /// specifier, else the URL; the span is where that value is.
    pub fn from_python(requirement: PythonRequirement, skip_reason: Option<SkipReason>) -> Self {
        let (current, span) = if let Some(pin) = &requirement.pin {
            (pin.text.clone(), pin.span)
        } else if let Some(spec) = &requirement.specifier {
            (spec.text.clone(), spec.span)
        } else if let (Some(url), Some(span)) = (&requirement.url, requirement.url_span) {
            (url.clone(), span)
        } else {
            (String::new(), requirement.name_span)
        };
        let name = if requirement.written_name.is_empty() {
            requirement.url.clone().unwrap_or_default()
        } else {
            crate::vocab::normalize_name(&requirement.written_name)
        };
        Dependency {
            name,
            kind: DependencyKind::Python,
            current,
            span,
            skip_reason,
            detail: DependencyDetail::Python(requirement),
        }
    }

    /// The Python requirement, when this is one.
    pub fn python(&self) -> Option<&PythonRequirement> {
        match &self.detail {
            DependencyDetail::Python(p) => Some(p),
            DependencyDetail::Image(_) => None,
        }
    }

    /// The image reference, when this is one.
    pub fn image(&self) -> Option<&dockerfile::ImageDependency> {
        match &self.detail {
            DependencyDetail::Image(i) => Some(i),
            DependencyDetail::Python(_) => None,
        }
    }
}

/// Why a dependency is listed but not updated. A closed set, so every front end can explain it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    /// `name @ https://...` or a bare archive/wheel URL.
    UrlRequirement,
    /// `git+https://...` and other VCS requirements.
    VcsRequirement,
    /// A local path (`./pkg`, `file:.`, a wheel file).
    LocalPath,
    /// `-e`/`--editable`.
    Editable,
    /// The version contains a `${VAR}` environment reference that repin cannot resolve.
    EnvironmentVariable,
    /// A templated line (Jinja `{% %}` / `{{ }}`).
    Templated,
    /// A requirement pip itself would reject; see the diagnostics.
    Invalid,
    /// The image comes from an `ARG` with no default, so only the build knows it.
    UnresolvedArg,
    /// `FROM <stage>` or `COPY --from=<stage>`: an earlier build stage, not an image.
    StageReference,
    /// `FROM scratch`: the empty image.
    Scratch,
    /// The image reference is malformed (a bad digest, an empty name); see the diagnostics.
    InvalidReference,
    /// The value is assembled from a variable in a way an edit could not change in one place
    /// (for example `python:${A}-${B}`).
    ComplexInterpolation,
    /// The value is split across continuation lines, so no single splice can change it.
    SplitValue,
    /// `[tool.uv.sources]` makes it a member of the same uv workspace.
    WorkspaceMember,
    /// A TOML string written with escapes or over several lines: its bytes are not its text,
    /// so no splice inside it can be verified.
    EscapedString,
    /// Installed with `--no-index`: pip takes it from `--find-links` (local wheels, a links
    /// page), never from an index, so there is no index to look it up in.
    NoIndex,
}

impl SkipReason {
    /// Whether the installed version is still known despite the skip, so an audit judges it:
    /// the skip is about where the package comes from (`--no-index` wheels are the same
    /// releases, with the same vulnerabilities) or how the pin is written, not which version
    /// it is.
    pub fn keeps_version(self) -> bool {
        matches!(
            self,
            SkipReason::NoIndex | SkipReason::SplitValue | SkipReason::EscapedString
        )
    }

    /// The kebab-case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::UrlRequirement => "url-requirement",
            SkipReason::VcsRequirement => "vcs-requirement",
            SkipReason::LocalPath => "local-path",
            SkipReason::Editable => "editable",
            SkipReason::EnvironmentVariable => "environment-variable",
            SkipReason::Templated => "templated",
            SkipReason::Invalid => "invalid",
            SkipReason::UnresolvedArg => "unresolved-arg",
            SkipReason::StageReference => "stage-reference",
            SkipReason::Scratch => "scratch",
            SkipReason::InvalidReference => "invalid-reference",
            SkipReason::ComplexInterpolation => "complex-interpolation",
            SkipReason::SplitValue => "split-value",
            SkipReason::WorkspaceMember => "workspace-member",
            SkipReason::EscapedString => "escaped-string",
            SkipReason::NoIndex => "no-index",
        }
    }

    /// A sentence for humans.
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::UrlRequirement => "installed from a URL",
            SkipReason::VcsRequirement => "installed from version control",
            SkipReason::LocalPath => "installed from a local path",
            SkipReason::Editable => "an editable install",
            SkipReason::EnvironmentVariable => "the version comes from an environment variable",
            SkipReason::Templated => "a templated line",
            SkipReason::Invalid => "not a valid requirement",
            SkipReason::UnresolvedArg => "comes from a build argument with no default",
            SkipReason::StageReference => "refers to a build stage",
            SkipReason::Scratch => "the empty `scratch` image",
            SkipReason::InvalidReference => "not a valid image reference",
            SkipReason::ComplexInterpolation => {
                "built from variables in a way one edit cannot change"
            }
            SkipReason::SplitValue => "its value is split across continuation lines",
            SkipReason::WorkspaceMember => "a member of the same uv workspace",
            SkipReason::EscapedString => {
                "written as a TOML string with escapes or line breaks, which one edit cannot change in place"
            }
            SkipReason::NoIndex => {
                "installed with `--no-index`, from local files or links rather than an index"
            }
        }
    }
}

/// Parse a file's text as the given kind of manifest.
pub fn parse(source: SourceFile, kind: ManifestKind) -> Manifest {
    match kind {
        ManifestKind::Requirements => requirements::parse(source),
        ManifestKind::Dockerfile => dockerfile::parse(source),
        ManifestKind::Pyproject => pyproject::parse(source),
        ManifestKind::UvLock => uv_lock::parse(source),
        ManifestKind::Pylock => pylock::parse(source),
        ManifestKind::PoetryLock => poetry_lock::parse(source),
        ManifestKind::Pipfile => pipfile::parse(source),
        ManifestKind::PipfileLock => pipfile_lock::parse(source),
    }
}
