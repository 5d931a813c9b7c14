//! PyPI-compatible package indexes: which versions of a project exist, with their files,
//! hashes, yanks, `Requires-Python` and upload times.
//!
//! - [`PypiClient`] reads a project page with PEP 691 JSON preferred and PEP 503 HTML as the
//!   fallback ([`simple_json`], [`simple_html`]), through the shared
//!   [`HttpClient`](crate::registry::http::HttpClient);
//! - [`Project`], [`Release`] and [`DistFile`] are what an index says, files grouped into
//!   releases by the version in their names ([`filename`]) or by the PEP 700 `versions` list;
//! - [`PypiClient::lookup`] asks all of a requirement's indexes at once and reports a project
//!   found on more than one (dependency confusion);
//! - [`PypiClient::metadata`] reads a release's core metadata (PEP 658, else a wheel's
//!   `METADATA`, else a static sdist `PKG-INFO`), for `repin lock`;
//! - [`index_config`] decides which indexes those are and with which credentials, from the
//!   requirements file, `repin.toml`, the environment, pip's configuration files ([`pip_conf`])
//!   and [`netrc`].
//!
//! Credentials never appear in output: [`IndexUrl`] holds none, and [`Index`] and every error
//! print redacted URLs.

mod client;

/// The most characters of a yanked reason kept (one printable line, see
/// [`crate::vocab::redact::plain_line`]): the index's words reach terminals, logs and GitHub.
pub const MAX_YANKED_REASON: usize = 500;
mod error;
pub mod filename;
pub mod index_config;
pub mod metadata;
mod model;
pub mod netrc;
pub mod pip_conf;
pub mod simple_html;
pub mod simple_json;

pub use client::{
    ACCEPT_SIMPLE, Lookup, MAX_PAGE_BYTES, PAGE_FRESHNESS, PypiClient, Refresh, SourcedRelease,
};
pub use error::PypiError;
pub use filename::{DistKind, WheelTags};
pub use index_config::{ConfiguredIndexes, Environment, Index, IndexResolver, IndexSource};
pub use metadata::{Metadata, MetadataError};
pub use model::{
    CoreMetadata, DistFile, FileSink, Hashes, IndexUrl, MAX_WARNINGS, Page, PageFormat, Project,
    ProjectBuilder, Release,
};

// The pypiserver harness lives with the integration tests, which use it too.
#[cfg(test)]
#[path = "../../../tests/it/support/pypiserver.rs"]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
