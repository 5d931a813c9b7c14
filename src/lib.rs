//! repin: keeps a Python service's pins exact, current and free of known vulnerabilities.
//!
//! repin reads pip requirements files and Dockerfiles ([`manifest`]), resolves every
//! requirement and base-image tag against PyPI-compatible indexes and OCI registries, decides
//! which updates are due, and edits the files losslessly ([`text`]).
//!
//! The pipeline, one module per stage:
//!
//! ```text
//! discover -> extract (manifest) -> lookup (registry, advisory) -> decide -> edit -> report / PR
//! ```
//!
//! The front ends (the CLI in [`cli`], the Action, the bot in [`serve`]) parse their arguments
//! and show results; the jobs between them and the core (check, apply, audit, lock, pr) are in
//! [`run`]. Parsing and versioning never do I/O; see `DESIGN.md` for the full map.

// Tests write their fixtures directly; clippy.toml's one-place rules are for the product.
#![cfg_attr(test, allow(clippy::disallowed_methods))]

pub mod action;
pub mod advisory;
pub mod apply;
pub mod audit;
pub mod cli;
pub mod config;
pub mod decide;
pub mod error;
pub mod forge;
pub mod git;
pub mod image_scan;
pub mod image_vulns;
pub mod lock;
pub mod log;
pub mod lookup;
pub mod manifest;
pub mod plan;
pub mod publish;
pub mod queue;
pub mod registry;
pub mod run;
pub mod scan_report;
pub mod serve;
pub mod target;
pub mod text;
pub mod versioning;
pub mod vocab;

// Unit tests count allocations to show that work is linear (no timed tests).
#[cfg(test)]
pub(crate) mod alloc_count;
#[cfg(test)]
#[global_allocator]
static ALLOCATOR: alloc_count::Counting = alloc_count::Counting;

// Test helpers shared with the integration tests.
#[cfg(test)]
#[path = "../tests/it/support/loopback.rs"]
pub(crate) mod loopback;
#[cfg(test)]
#[path = "../tests/it/support/shared.rs"]
pub(crate) mod testing;
