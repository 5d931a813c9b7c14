//! Version arithmetic, with no I/O: PEP 440 versions and specifiers, and container image tags.
//!
//! - [`pep440`]: stability, pre-release-aware specifier matching, update classification and
//!   range strategies (rewriting a requirement's specifier text for a new version).
//! - [`docker_tag`]: image tags as version parts plus a variant (`3.12.4-slim-bookworm`),
//!   which tags may replace which, and distribution and Python-minor awareness.
//! - [`support`]: release and end-of-life dates of Python minors, Debian releases and Alpine
//!   branches, for end-of-life base images.
//! - [`UpdateKind`] (from [`crate::vocab`]): the kind of an update, shared by both and by
//!   `decide`.

pub mod apk;
pub mod docker_tag;
pub mod dpkg;
pub mod pep440;
pub mod poetry;
pub mod support;
pub use crate::vocab::UpdateKind;
