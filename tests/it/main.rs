//! repin's integration tests, in one binary so the crate is linked once: the commands run as
//! processes against real servers on loopback, the fixtures and the real-world corpus.

// Tests write their fixtures directly; clippy.toml's one-place rules are for the product.
#![allow(clippy::disallowed_methods)]

mod support;

mod action;
mod audit_e2e;
mod audit_osv_e2e;
mod check_e2e;
mod check_lock_e2e;
mod cli;
mod cli_output;
mod corpus_discovery;
mod corpus_dockerfiles;
mod corpus_locks;
mod corpus_pyproject;
mod corpus_requirements;
mod dockerfile_e2e;
mod eol_e2e;
mod fixtures;
mod hostile_files_e2e;
mod hostile_servers;
mod image_age_e2e;
mod image_cve_e2e;
mod index_credentials_e2e;
mod lock_cooldown_e2e;
mod lock_e2e;
mod lock_oracle;
mod lock_ranges;
mod pipfile_e2e;
mod poetry_lock_e2e;
mod poetry_pyproject_e2e;
mod pr_e2e;
mod pylock_e2e;
mod pyproject_e2e;
mod queue_postgres;
mod readme;
mod registry_oci;
mod relock_e2e;
mod sarif;
mod secrets_e2e;
mod serve_e2e;
mod serve_fleet;
mod target_e2e;
mod tool_lock_e2e;
mod uv_lock_e2e;
mod uv_workspace_e2e;
