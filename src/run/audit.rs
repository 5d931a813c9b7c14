//! The `audit` job: every vulnerable pin of the repository, with the version that fixes it;
//! optionally the known vulnerabilities of its base images, and scanner reports linked to the
//! `FROM` lines they scanned.
//!
//! Scanner reports are read first, so a report that cannot be read fails the job before any
//! lookup. One package or image that cannot be checked is listed as unchecked, never stopping
//! the others.

use std::path::{Path, PathBuf};

use super::session::{Session, SessionError, SessionOptions, runtime};
use crate::audit::{Inputs, Report};
use crate::decide::{Context, Policy};
use crate::lookup::{AdvisoryError, Checker, ImageAudit};
use crate::manifest::workspace::Workspace;
use crate::scan_report::{LinkedReport, ScanReportError};

/// Why an audit could not be made at all.
#[derive(Debug, thiserror::Error)]
pub enum AuditJobError {
    /// The configuration, the clients or the runtime could not be set up.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// A scanner report could not be read.
    #[error(transparent)]
    ScanReport(#[from] ScanReportError),
    /// The advisories could not be had at all.
    #[error(transparent)]
    Advisories(#[from] AdvisoryError),
}

impl crate::error::Hint for AuditJobError {
    fn hints(&self) -> Vec<String> {
        match self {
            AuditJobError::Session(e) => e.hints(),
            AuditJobError::ScanReport(e) => e.hints(),
            AuditJobError::Advisories(e) => e.hints(),
        }
    }
}

/// What the audit asks for beyond the repository's pins.
#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    /// Also audit the base images (their distribution packages).
    pub images: bool,
    /// Scanner reports (Trivy, Grype) to link to the images they scanned.
    pub scan_reports: Vec<PathBuf>,
}

/// An audit's findings, and the repository they are of.
pub struct Audited {
    /// The manifests read.
    pub workspace: Workspace,
    /// The repository root.
    pub root: PathBuf,
    /// The vulnerable pins and what could not be checked.
    pub report: Report,
    /// The base images' vulnerabilities, when asked for.
    pub images: Option<ImageAudit>,
    /// The scanner reports linked to the `FROM` lines they scanned, when any was given.
    pub scan_reports: Option<Vec<LinkedReport>>,
}

/// The repository read and the scanner reports with it, before anything is looked up: what
/// the front end shows first (the manifests' diagnostics, whatever happens next), then
/// [`Prepared::audit`].
pub struct Prepared {
    /// The manifests read.
    pub workspace: Workspace,
    checker: Checker,
    root: PathBuf,
    reports: Vec<crate::scan_report::Report>,
    options: AuditOptions,
}

/// Read the scanner reports (a report that cannot be read fails before any lookup), the
/// configuration and the repository `session` names; then [`Prepared::audit`] audits it.
pub fn prepare(
    session: &SessionOptions,
    options: &AuditOptions,
) -> Result<Prepared, AuditJobError> {
    let mut reports = Vec::new();
    for path in &options.scan_reports {
        reports.extend(crate::scan_report::read(path)?);
    }
    let Session { checker, root } = Session::open(session)?;
    let workspace = Workspace::load(&session.paths);
    Ok(Prepared {
        workspace,
        checker,
        root,
        reports,
        options: options.clone(),
    })
}

impl Prepared {
    /// Look up the advisories and releases, and the images when asked.
    pub fn audit(self) -> Result<Audited, AuditJobError> {
        let Prepared {
            workspace,
            checker,
            root,
            reports,
            options,
        } = self;
        let runtime = runtime()?;
        let report = runtime.block_on(audit_pins(&checker, &workspace))?;
        let images = options
            .images
            .then(|| runtime.block_on(checker.audit_images(&workspace, &root)));
        let scan_reports = (!options.scan_reports.is_empty())
            .then(|| crate::scan_report::link(&reports, &workspace.manifests, images.as_ref()));
        Ok(Audited {
            workspace,
            root,
            report,
            images,
            scan_reports,
        })
    }
}

/// The advisories of every package the manifests name, and the releases that fix them.
async fn audit_pins(checker: &Checker, workspace: &Workspace) -> Result<Report, AdvisoryError> {
    let names = crate::lookup::python_packages(&workspace.manifests);
    let lookup = checker
        .advisories(&names, checker.advisory_db.as_deref())
        .await?;
    // Releases for the packages that need them: ranges (what they install) and vulnerable
    // pins (the fix version).
    let releases = checker.releases_for(workspace, &lookup.index).await;
    let ctx = Context {
        now: checker.now,
        python: None,
    };
    let root = workspace
        .manifests
        .first()
        .and_then(|m| workspace.root_of(m.source.path()).ok())
        .map(|r| r.path().to_path_buf())
        .unwrap_or_default();
    let targets = crate::target::find(workspace, &checker.config, &root, checker.now);
    let policy = |d: &crate::manifest::Dependency, file: &Path| {
        Policy::from_config(&checker.config, &d.name, file, None)
    };
    let mut report = crate::audit::audit(
        workspace,
        &Inputs {
            index: &lookup.index,
            failed: &lookup.failed,
            releases: &releases.releases,
            lookup_failures: &releases.failed,
            policy: &policy,
            ctx: &ctx,
            targets: Some(&targets),
        },
    );
    report.hosts = checker.host_problems();
    Ok(report)
}
