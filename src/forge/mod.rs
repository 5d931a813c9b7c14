//! The code forge repin opens pull requests on.
//!
//! - [`github`]: GitHub's REST API (github.com or GitHub Enterprise, by base URL): pull
//!   requests, labels, comments and the dashboard issue.
//! - [`sync`]: what to do with each planned branch and each existing pull request (create,
//!   update, keep, close, leave ignored, hold back), decided without I/O.
//! - [`dashboard`]: the dependency dashboard issue's body.
//!
//! State lives in GitHub, not in a database: repin recognises its pull requests by branch
//! prefix and by the marker in their bodies ([`crate::plan::Marker`]).

pub mod app;
pub mod dashboard;
pub mod github;
pub mod sync;
