//! Security advisories: the OSV model, which versions they affect, how severe they are, and
//! where they are read from.
//!
//! - [`model`]: the OSV record schema, from JSON or YAML.
//! - [`affected`]: whether a version is inside an `affected` entry (PEP 440 ordering).
//! - [`severity`]: CVSS base scores and ratings.
//! - [`index`]: [`Advisory`] (one record seen from one package) and [`AdvisoryIndex`] (advisories
//!   by package), built from records wherever they came from.
//! - [`offline`]: sources that read a local database: a directory (the PyPA advisory-database
//!   layout or flat OSV JSON) or an OSV ecosystem zip.
//! - [`distro`]: advisories for the OS packages of images (`Debian:12`, `Alpine:v3.20`), in
//!   the distributions' own version orderings.
//! - [`osv_api`]: the OSV API (`querybatch`, then `vulns/{id}`), over repin's HTTP client.
//!
//! A source only produces records ([`RecordBatch`]); the index is built from them. A synchronous
//! source implements [`AdvisorySource`]; the OSV API client, which is asynchronous and can fail
//! for some packages only, builds its index from the same [`RecordBatch`] and reports those
//! packages beside it. Nothing here decides updates: that is `decide`'s job.

pub mod affected;
pub mod distro;
pub mod index;
pub mod model;
pub mod offline;
pub mod osv_api;
pub mod severity;

#[cfg(test)]
mod corpus_tests;

use std::path::PathBuf;

use crate::text::Diagnostic;

pub use affected::{AffectedError, AffectedVersions};
pub use index::{Advisory, AdvisoryIndex, AdvisoryProblem};
pub use model::{ModelError, OsvRecord, RecordFormat};
pub use offline::{DirectorySource, OfflineError, ZipSource};
pub use osv_api::{ApiAdvisories, OsvApi, OsvApiError};
pub use severity::{Rating, Severity, SeverityError};

/// A record and where it was read from.
#[derive(Debug, Clone)]
pub struct LoadedRecord {
    /// The file (or zip entry, as `archive.zip/ID.json`, or API URL) it came from.
    pub origin: PathBuf,
    /// The record.
    pub record: OsvRecord,
}

/// What a source read: the records, and a diagnostic for each one it could not read.
#[derive(Debug, Clone, Default)]
pub struct RecordBatch {
    /// The records, in a stable order (sorted by origin).
    pub records: Vec<LoadedRecord>,
    /// One per record that was skipped, naming its file.
    pub diagnostics: Vec<Diagnostic>,
}

/// A synchronous source of advisories: an offline database.
pub trait AdvisorySource {
    /// What the source is, for messages (`advisory directory /x/vulns`).
    fn describe(&self) -> String;

    /// Read every record. A record that cannot be read or parsed is skipped with a diagnostic
    /// in the batch; an error means the source as a whole could not be read.
    fn load(&self) -> Result<RecordBatch, OfflineError>;

    /// Read every record into an index.
    fn load_index(&self) -> Result<AdvisoryIndex, OfflineError> {
        self.load().map(AdvisoryIndex::from_batch)
    }
}
