//! The words every layer shares, with no dependency on the rest of repin: a normalised Python
//! package name, the kind of an update, a command for a pull request's branch, a message with
//! its hints, secret redaction, the `Link` header, resolving a server's URL references, and
//! a server's words made inert Markdown for GitHub.
//!
//! These live here, at the bottom of the dependency order, so that a registry client, the
//! GitHub client, git and the decision rules can all use them without importing one another
//! (the registry once imported the requirements parser's name normalisation, GitHub's client
//! the OCI module's `Link` parser and git the HTTP client's redaction).

mod branch_command;
pub mod link;
pub mod markdown;
mod message;
pub mod package_name;
pub mod redact;
mod update_kind;
pub mod web_link;

pub use branch_command::{BranchCommand, IgnoreScope, UnknownCommand};
pub use message::Message;
pub use package_name::{PackageName, normalize_name};
pub use update_kind::UpdateKind;
