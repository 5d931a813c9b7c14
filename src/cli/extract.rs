//! `repin extract`: list every pin with where it is.

use std::io::Write;

use serde::Serialize;

use super::style::{self, paint};
use super::{CliError, EXIT_ERROR, EXIT_OK, ExtractArgs, Format};
use crate::manifest::workspace::Workspace;
use crate::manifest::{Dependency, DependencyDetail, Manifest};
use crate::text::Diagnostic;

/// The JSON document `repin extract --format json` prints.
#[derive(Debug, Serialize)]
pub struct ExtractReport<'a> {
    /// One entry per manifest file.
    pub files: Vec<FileReport>,
    /// Every diagnostic, with `path`, `line`, `column`, `severity`, `message`.
    pub diagnostics: Vec<&'a Diagnostic>,
}

/// One manifest in the JSON report.
#[derive(Debug, Serialize)]
pub struct FileReport {
    /// The path as reached from the arguments.
    pub path: String,
    /// `requirements` or `dockerfile`.
    pub kind: &'static str,
    /// The environment it is installed into, and where that came from.
    pub target: Option<crate::target::Target>,
    /// Its dependencies in file order.
    pub dependencies: Vec<DependencyReport>,
}

/// One dependency in the JSON report. Every field is always present: the first six apply to
/// every kind, the others to Python entries or to image entries, and are null otherwise.
#[derive(Debug, Serialize)]
pub struct DependencyReport {
    /// Normalised package name, or full image name (`docker.io/library/python`).
    pub name: String,
    /// `python` or `image`.
    pub kind: &'static str,
    /// Exact version of a pin, specifier text otherwise; for an image, its tag then `@digest`.
    pub current: String,
    /// 1-based line of the value.
    pub line: usize,
    /// 1-based column of the value.
    pub column: usize,
    /// Why repin will not update it, or null.
    pub skip_reason: Option<&'static str>,
    /// Python: the name as written.
    pub written_name: Option<String>,
    /// Python: extras.
    pub extras: Option<Vec<String>>,
    /// Python: the specifier as written.
    pub specifier: Option<String>,
    /// Python: whether it is an exact `==`/`===` pin.
    pub pinned: Option<bool>,
    /// Python: the environment marker.
    pub marker: Option<String>,
    /// Python: `algorithm:digest` of each `--hash`.
    pub hashes: Option<Vec<String>>,
    /// Python: `# via` annotations of a lock file.
    pub via: Option<Vec<String>>,
    /// Python: URL or path of a direct-reference requirement.
    pub url: Option<String>,
    /// Image: the full normalised reference.
    pub image: Option<String>,
    /// Image: registry host.
    pub registry: Option<String>,
    /// Image: repository path.
    pub repository: Option<String>,
    /// Image: tag.
    pub tag: Option<String>,
    /// Image: digest.
    pub digest: Option<String>,
    /// Image: `from`, `copy-from` or `run-mount`.
    pub context: Option<&'static str>,
    /// Image: the `ARG` that supplies it.
    pub arg: Option<String>,
    /// Image: `--platform` of the `FROM`.
    pub platform: Option<String>,
}

impl DependencyReport {
    /// The report entry for `dependency` of `manifest`.
    pub fn new(manifest: &Manifest, dependency: &Dependency) -> Self {
        let position = manifest.source.position(dependency.span.start);
        let mut report = DependencyReport {
            name: dependency.name.clone(),
            kind: match dependency.kind {
                crate::manifest::DependencyKind::Python => "python",
                crate::manifest::DependencyKind::Image => "image",
            },
            current: dependency.current.clone(),
            line: position.line,
            column: position.column,
            skip_reason: dependency
                .skip_reason
                .map(super::super::manifest::SkipReason::as_str),
            written_name: None,
            extras: None,
            specifier: None,
            pinned: None,
            marker: None,
            hashes: None,
            via: None,
            url: None,
            image: None,
            registry: None,
            repository: None,
            tag: None,
            digest: None,
            context: None,
            arg: None,
            platform: None,
        };
        match &dependency.detail {
            DependencyDetail::Python(p) => {
                report.written_name = Some(p.written_name.clone());
                report.extras = Some(p.extras.clone());
                report.specifier = p.specifier.as_ref().map(|s| s.text.clone());
                report.pinned = Some(p.pin.is_some());
                report.marker = p.marker.as_ref().map(|m| m.0.clone());
                report.hashes = Some(
                    p.hashes
                        .iter()
                        .map(|h| format!("{}:{}", h.algorithm, h.digest))
                        .collect(),
                );
                report.via = (!p.via.is_empty()).then(|| p.via.clone());
                report.url = p.url.clone();
            }
            DependencyDetail::Image(i) => {
                let r = &i.reference;
                report.image = Some(r.to_string());
                report.registry = Some(r.registry.clone());
                report.repository = Some(r.repository.clone());
                report.tag = r.tag.clone();
                report.digest = r.digest.clone();
                report.context = Some(match i.context {
                    crate::manifest::dockerfile::ImageContext::From { .. } => "from",
                    crate::manifest::dockerfile::ImageContext::CopyFrom => "copy-from",
                    crate::manifest::dockerfile::ImageContext::RunMount => "run-mount",
                    crate::manifest::dockerfile::ImageContext::Syntax => "syntax",
                });
                report.arg = i.from_arg.clone();
                report.platform = i.platform.clone();
            }
        }
        report
    }
}

/// Build the JSON report of a workspace.
pub fn report<'a>(workspace: &'a Workspace, targets: &crate::target::Targets) -> ExtractReport<'a> {
    ExtractReport {
        files: workspace
            .manifests
            .iter()
            .map(|m| FileReport {
                path: super::shown(m.source.path()),
                kind: m.kind.as_str(),
                target: targets.of(m.source.path()).cloned(),
                dependencies: m
                    .dependencies
                    .iter()
                    .map(|d| DependencyReport::new(m, d))
                    .collect(),
            })
            .collect(),
        diagnostics: workspace.all_diagnostics().collect(),
    }
}

/// The files of `args`, less those `[paths] exclude` of the configuration leaves out, and
/// their targets.
fn load(args: &ExtractArgs) -> Result<(Workspace, crate::target::Targets), CliError> {
    let root = crate::run::session::root_of(&args.paths);
    // Checked, though extract sends nothing: a wrong grant is an error on every command.
    args.trust.allow_list()?;
    let config = match &args.config {
        Some(path) => crate::config::Loaded::read_given(path, &root),
        None => crate::config::Loaded::discover(&root),
    }?;
    let mut workspace = Workspace::load(&args.paths);
    let excluded =
        |path: &std::path::Path| config.is_excluded(path.strip_prefix(&root).unwrap_or(path));
    workspace.manifests.retain(|m| !excluded(m.source.path()));
    workspace.diagnostics.retain(|d| !excluded(&d.path));
    let now = crate::run::session::now();
    let targets = crate::target::find(&workspace, &config, &root, now);
    Ok((workspace, targets))
}

/// Run `repin extract`.
pub fn run(args: &ExtractArgs) -> Result<u8, CliError> {
    let (workspace, targets) = load(args)?;
    let written = match args.format {
        Format::Json => {
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &report(&workspace, &targets))
                .map_err(std::io::Error::other)
                .and_then(|()| writeln!(out))
        }
        Format::Table => print_table(&workspace, &targets),
    };
    if let Err(error) = written {
        // A closed pipe (`repin extract | head`) is not an error worth a message.
        if error.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(CliError::Write(error));
        }
    }
    Ok(if workspace.has_errors() {
        EXIT_ERROR
    } else {
        EXIT_OK
    })
}

fn print_table(workspace: &Workspace, targets: &crate::target::Targets) -> std::io::Result<()> {
    let mut out = anstream::stdout().lock();
    let mut total = 0usize;
    let mut skipped = 0usize;
    for manifest in &workspace.manifests {
        let deps = &manifest.dependencies;
        total += deps.len();
        writeln!(
            out,
            "{} {}",
            paint(style::HEADING, super::shown(manifest.source.path())),
            paint(
                style::DIM,
                format!(
                    "({}, {}{})",
                    manifest.kind.as_str(),
                    super::count(deps.len(), "dependency", "dependencies"),
                    targets
                        .of(manifest.source.path())
                        .map(|t| format!("; {t}"))
                        .unwrap_or_default()
                )
            )
        )?;
        let name_width = deps.iter().map(|d| d.name.len()).max().unwrap_or(0).min(48);
        for dep in deps {
            let p = manifest.source.position(dep.span.start);
            let position = format!("{}:{}", p.line, p.column);
            let current = if dep.current.is_empty() {
                "-"
            } else {
                &dep.current
            };
            let note = match dep.skip_reason {
                Some(reason) => {
                    skipped += 1;
                    format!(
                        "  {}",
                        paint(style::SKIPPED, format!("skipped: {}", reason.describe()))
                    )
                }
                None => String::new(),
            };
            writeln!(
                out,
                "  {}  {:<name_width$}  {current}{note}",
                paint(style::DIM, format!("{position:>7}")),
                dep.name,
            )?;
        }
        writeln!(out)?;
    }
    for diagnostic in workspace.all_diagnostics() {
        writeln!(anstream::stderr(), "{diagnostic}")?;
    }
    writeln!(
        out,
        "{}, {} ({skipped} skipped)",
        super::count(workspace.manifests.len(), "file", "files"),
        super::count(total, "dependency", "dependencies"),
    )
}
