//! Talking to the outside world: PyPI-compatible indexes, OCI registries, through one HTTP client.

pub mod http;
pub mod oci;
pub mod pypi;
pub mod trust;
