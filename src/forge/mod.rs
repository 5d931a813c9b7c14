//! The code forge repin opens pull requests on.
//!
//! - [`github`]: GitHub's REST API (github.com or GitHub Enterprise, by base URL): pull
//!   requests, labels, comments and the dashboard issue.
//! - [`installations`]: a GitHub App's installations and their repositories (what
//!   `repin serve` serves without `--repo`).
//! - [`sync`]: what to do with each planned branch and each existing pull request (create,
//!   update, keep, close, leave ignored, hold back), decided without I/O.
//! - [`dashboard`]: the dependency dashboard issue's body.
//!
//! State lives in GitHub, not in a database: repin recognises its pull requests by branch
//! prefix and by the marker in their bodies ([`crate::plan::Marker`]).
//!
//! ## Why repin's own REST client, not octocrab
//!
//! octocrab (typed models, pagination, App authentication) was evaluated against the
//! guarantees [`github`] keeps, and kept out, because it breaks three of them:
//!
//! - **POST is never retried blindly.** octocrab's retry layer (`RetryConfig::Simple(n)`,
//!   `service/middleware/retry.rs`) resends every request, `POST` included, on any 5xx, 429 or
//!   connection error, at once; a pull request or comment whose create timed out could be made
//!   twice. repin retries only idempotent requests and looks a failed create up first.
//! - **Rate limits are waited out.** That layer ignores `Retry-After` and
//!   `x-ratelimit-reset`; with retries off, nothing waits at all. repin's HTTP client waits
//!   for them within the run's deadline.
//! - **Hostile-server limits, credentials bound to origin, redacted debug lines.** octocrab
//!   sends its requests through its own hyper stack, not through [`crate::registry::http`]
//!   (body size caps, per-host deadlines, redirects that drop the token off-origin, every
//!   request logged at debug with secrets redacted). Keeping these would mean wrapping every
//!   octocrab call in the layer it replaces.
//!
//! What repin takes instead: `jsonwebtoken` for the App's JWT ([`app`]); the stand-in GitHub
//! of the tests (which fails on any unexpected request) is the same for either client.

pub mod app;
pub mod dashboard;
pub mod github;
pub mod installations;
pub mod sync;
