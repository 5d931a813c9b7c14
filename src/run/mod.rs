//! The run layer, between the front ends (CLI, Action, bot) and the core: a [`Session`] built
//! once from the configuration (the clients, their cache, the repository root), and the jobs
//! that run in it. A front end parses its arguments into [`SessionOptions`], runs a job and
//! renders what it returns; it holds no setup of its own.
//!
//! - [`session`]: the configuration, clients and cache of a run, and its async runtime;
//! - [`check`]: load the repository and look every dependency up (`check`, `apply`, `pr`);
//! - [`select`]: which updates a job takes (`--only`, `--kind`);
//! - [`audit`]: the vulnerable pins, base images and linked scanner reports (`audit`);
//! - [`apply`]: write the selected updates, with the locks re-locked with them;
//! - [`lock`]: resolve a `.in` into a pinned, hashed lock (`lock`);
//! - [`pr`]: open, update and close the pull requests of the updates due;
//! - [`progress`]: the lookups' status line on a terminal.
//!
//! The jobs' engines are still in `lookup` (lookups and decisions), `apply` (edits) and
//! `publish` (pull requests); they move here one by one.

pub mod apply;
pub mod audit;
pub mod check;
pub mod lock;
pub mod pr;
pub mod progress;
pub mod select;
pub mod session;

pub use check::Run;
pub use select::Selection;
pub use session::{Session, SessionError, SessionOptions, runtime};
