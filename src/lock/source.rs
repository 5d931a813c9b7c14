//! Where the resolver gets releases and metadata from: a trait, so resolution is pure.

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::PackageName;
use pubgrub::Ranges;

use std::sync::Arc;

use crate::error::Hint;
use crate::registry::pypi::metadata::{Metadata, MetadataError};

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
    Unusable(UnusableRelease),
    /// The source failed (network, index): resolution stops.
    #[error(transparent)]
    Failed(Failure),
}

/// Why a release cannot be used, typed: the resolver's hints follow the kind, and its report
/// renders the error with its causes.
#[derive(Debug, Clone)]
pub enum UnusableRelease {
    /// Only building the release (an sdist without static metadata) would tell its
    /// dependencies, and repin never runs build backends.
    NeedsBuild(Failure),
    /// Its metadata cannot be had or read.
    Unreadable(Failure),
}

impl UnusableRelease {
    /// The release that `error` makes unusable, by the error's kind.
    pub fn of(error: MetadataError) -> Self {
        if matches!(error, MetadataError::NeedsBuild { .. }) {
            UnusableRelease::NeedsBuild(Failure::new(error))
        } else {
            UnusableRelease::Unreadable(Failure::new(error))
        }
    }

    /// What the source found.
    pub fn error(&self) -> &Failure {
        match self {
            UnusableRelease::NeedsBuild(error) | UnusableRelease::Unreadable(error) => error,
        }
    }
}

impl std::fmt::Display for UnusableRelease {
    /// The error with its causes and hints, as a reason in the resolver's report.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::error::chain(self.error()))
    }
}

impl PartialEq for UnusableRelease {
    /// The same kind and the same failure (one failure is shared by every caller that waited
    /// on its lookup), never the same wording.
    fn eq(&self, other: &Self) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
            && self.error().is(other.error())
    }
}

impl Eq for UnusableRelease {}

/// A failure of a source, typed to the end: its causes and hints are those of the error it
/// shares with every caller that waited on the same lookup.
#[derive(Debug, Clone)]
pub struct Failure(Arc<dyn Hint + Send + Sync>);

impl Failure {
    /// A failure of `error`.
    pub fn new(error: impl Hint + Send + Sync + 'static) -> Self {
        Failure(Arc::new(error))
    }

    /// Whether `other` is this very failure (shared, not merely alike).
    pub fn is(&self, other: &Failure) -> bool {
        std::ptr::addr_eq(Arc::as_ptr(&self.0), Arc::as_ptr(&other.0))
    }

    /// The failure of an error already shared.
    pub fn shared(error: Arc<dyn Hint + Send + Sync>) -> Self {
        Failure(error)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl Hint for Failure {
    fn hints(&self) -> Vec<String> {
        self.0.hints()
    }
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

    /// Each release of `pins` as the first index that lists it has it, with every file (what
    /// a `pylock.toml` records of a pin); `None` for a release no index lists.
    fn listed(
        &self,
        pins: &[(PackageName, Version)],
    ) -> Vec<Result<Option<crate::registry::pypi::SourcedRelease>, Failure>>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::LockError;

    #[derive(Debug, thiserror::Error)]
    #[error("Cannot look up `flask` on the index")]
    struct IndexDown(#[source] std::io::Error);

    impl Hint for IndexDown {
        fn hints(&self) -> Vec<String> {
            vec!["check the index URL".into()]
        }
    }

    /// A source's failure keeps its causes and hints through the resolver's error: rendered
    /// once each, hints after causes, none of them inside a message.
    #[test]
    fn a_failure_keeps_its_causes_and_hints_through_the_lock_error() {
        let failure = Failure::new(IndexDown(std::io::Error::other("connection refused")));
        let shared = failure.clone();
        let error = LockError::Source {
            package: "flask".into(),
            source: failure,
        };
        assert_eq!(error.hints(), ["check the index URL"]);
        assert_eq!(
            crate::error::chain(&error),
            "Cannot look up `flask`\n  \
             Caused by: Cannot look up `flask` on the index\n  \
             Caused by: connection refused\n  \
             hint: check the index URL"
        );
        // Every caller that waited on the lookup sees the same error.
        assert_eq!(shared.to_string(), "Cannot look up `flask` on the index");
    }
}
