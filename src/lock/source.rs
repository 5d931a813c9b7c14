//! Where the resolver gets releases and metadata from: a trait, so resolution is pure.

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::PackageName;
use pubgrub::Ranges;

use crate::registry::pypi::metadata::Metadata;

/// One release the resolver may choose.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The version.
    pub version: Version,
    /// Yanked (PEP 592): chosen only when a requirement pins exactly this version.
    pub yanked: bool,
    /// The release's `Requires-Python`, as the index lists it.
    pub requires_python: Option<VersionSpecifiers>,
    /// `sha256:<hex>` of every file of the release, for the lock file.
    pub hashes: Vec<String>,
}

/// Why a source could not answer.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// This release cannot be used (its metadata is unreadable, or only a build would tell
    /// its dependencies): the resolver passes over it and says why if nothing else fits.
    #[error("{0}")]
    Unusable(String),
    /// The source failed (network, index): resolution stops.
    #[error(transparent)]
    Failed(Box<dyn std::error::Error + Send + Sync>),
}

/// Releases and their metadata.
///
/// Answers must not change during a resolution. A project no index has is `Ok` with no
/// candidates.
pub trait PackageSource {
    /// Every release of `name`, in any order.
    fn candidates(&self, name: &PackageName) -> Result<Vec<Candidate>, SourceError>;

    /// The core metadata of `name` at `version` (one of its candidates).
    fn metadata(&self, name: &PackageName, version: &Version) -> Result<Metadata, SourceError>;

    /// A hint that `wanted` packages will be asked about soon, each with the versions its
    /// requirement allows: a source may start fetching the project and the metadata of the
    /// release the resolver will most likely choose in that range.
    fn prefetch(&self, _wanted: &[(PackageName, Ranges<Version>)]) {}

    /// A hint that the metadata of these releases of `name` may be asked about soon (the
    /// resolver is walking down its versions): a source may fetch them concurrently.
    fn prefetch_versions(&self, _name: &PackageName, _versions: &[Version]) {}
}
