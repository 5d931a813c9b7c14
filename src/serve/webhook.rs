//! GitHub webhook deliveries: the signature check and what each event asks of repin. Pure.
//!
//! GitHub signs every delivery with the webhook's secret: `X-Hub-Signature-256: sha256=<hex>`,
//! the HMAC-SHA256 of the raw body ("Validating webhook deliveries" in GitHub's docs). The
//! events that matter: a `push` to a repository's default branch (the base moved, or someone
//! updated a pin by hand) and a repin pull request being closed (merged: the next update may be
//! due; closed unmerged: the dashboard lists it as ignored). repin's own pushes to `repin/`
//! branches, and everything else, are acknowledged and ignored.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::plan::BRANCH_PREFIX;

/// Whether `signature` (the `X-Hub-Signature-256` header) is the body's HMAC-SHA256 under
/// `secret`, compared in constant time.
pub fn signature_is_valid(secret: &[u8], body: &[u8], signature: Option<&str>) -> bool {
    let Some(hex_digest) = signature.and_then(|s| s.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_digest) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// The `sha256=<hex>` signature of `body` (what GitHub sends; for tests and tools).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// What a delivery asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// GitHub's `ping`, sent when the webhook is created.
    Ping,
    /// Run repin on this repository (`owner/name`), for this reason.
    Run {
        /// `owner/name`.
        repository: String,
        /// Why, for the log.
        why: String,
    },
    /// Nothing to do, and why.
    Ignored(String),
}

#[derive(Deserialize)]
struct Repository {
    full_name: String,
    #[serde(default)]
    default_branch: Option<String>,
}

#[derive(Deserialize)]
struct Push {
    #[serde(rename = "ref")]
    reference: String,
    repository: Repository,
}

#[derive(Deserialize)]
struct Head {
    #[serde(rename = "ref")]
    reference: String,
}

#[derive(Deserialize)]
struct PullRequest {
    head: Head,
    #[serde(default)]
    merged: bool,
}

#[derive(Deserialize)]
struct PullRequestEvent {
    action: String,
    pull_request: PullRequest,
    repository: Repository,
}

/// Read a delivery of event `name` (the `X-GitHub-Event` header). A body that is not the JSON
/// GitHub documents for the event is an error.
pub fn parse(name: &str, body: &[u8]) -> Result<Event, serde_json::Error> {
    match name {
        "ping" => Ok(Event::Ping),
        "push" => {
            let push: Push = serde_json::from_slice(body)?;
            let branch = push.reference.strip_prefix("refs/heads/");
            let default = push.repository.default_branch.as_deref();
            Ok(match branch {
                Some(b) if b.starts_with(BRANCH_PREFIX) => {
                    Event::Ignored(format!("a push to repin's branch {b}"))
                }
                Some(b) if Some(b) == default => Event::Run {
                    repository: push.repository.full_name,
                    why: format!("a push to {b}"),
                },
                _ => Event::Ignored(format!(
                    "a push to {}, not the default branch",
                    push.reference
                )),
            })
        }
        "pull_request" => {
            let event: PullRequestEvent = serde_json::from_slice(body)?;
            let ours = event.pull_request.head.reference.starts_with(BRANCH_PREFIX);
            Ok(if ours && event.action == "closed" {
                Event::Run {
                    repository: event.repository.full_name,
                    why: format!(
                        "{} was {}",
                        event.pull_request.head.reference,
                        if event.pull_request.merged {
                            "merged"
                        } else {
                            "closed unmerged"
                        }
                    ),
                }
            } else {
                Event::Ignored(format!(
                    "pull request {} {}",
                    event.pull_request.head.reference, event.action
                ))
            })
        }
        other => Ok(Event::Ignored(format!("a `{other}` event"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_checked_against_the_raw_body() {
        // The example of GitHub's "Validating webhook deliveries" page.
        let secret = b"It's a Secret to Everybody";
        let body = b"Hello, World!";
        let expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(sign(secret, body), expected);
        assert!(signature_is_valid(secret, body, Some(expected)));
        assert!(!signature_is_valid(secret, b"Hello, World", Some(expected)));
        assert!(!signature_is_valid(b"another secret", body, Some(expected)));
        assert!(!signature_is_valid(secret, body, None));
        assert!(!signature_is_valid(secret, body, Some("sha1=757107ea")));
        assert!(!signature_is_valid(secret, body, Some("sha256=not-hex")));
    }

    #[test]
    fn pushes_to_the_default_branch_run_repin() {
        let push = |reference: &str| {
            format!(
                r#"{{"ref":"{reference}","before":"a","after":"b","repository":{{"full_name":"acme/service","default_branch":"main"}},"pusher":{{"name":"dev"}}}}"#
            )
        };
        assert_eq!(
            parse("push", push("refs/heads/main").as_bytes()).unwrap(),
            Event::Run {
                repository: "acme/service".into(),
                why: "a push to main".into()
            }
        );
        assert!(matches!(
            parse("push", push("refs/heads/repin/requirements.txt/flask").as_bytes()).unwrap(),
            Event::Ignored(why) if why.contains("repin's branch")
        ));
        assert!(matches!(
            parse("push", push("refs/heads/feature").as_bytes()).unwrap(),
            Event::Ignored(_)
        ));
        assert!(matches!(
            parse("push", push("refs/tags/v1").as_bytes()).unwrap(),
            Event::Ignored(_)
        ));
    }

    #[test]
    fn closed_repin_pull_requests_run_repin() {
        let event = |action: &str, head: &str, merged: bool| {
            format!(
                r#"{{"action":"{action}","number":7,"pull_request":{{"number":7,"merged":{merged},"head":{{"ref":"{head}"}}}},"repository":{{"full_name":"acme/service"}}}}"#
            )
        };
        assert_eq!(
            parse(
                "pull_request",
                event("closed", "repin/security/jinja2", true).as_bytes()
            )
            .unwrap(),
            Event::Run {
                repository: "acme/service".into(),
                why: "repin/security/jinja2 was merged".into()
            }
        );
        assert!(matches!(
            parse(
                "pull_request",
                event("opened", "repin/digests", false).as_bytes()
            )
            .unwrap(),
            Event::Ignored(_)
        ));
        assert!(matches!(
            parse("pull_request", event("closed", "feature", false).as_bytes()).unwrap(),
            Event::Ignored(_)
        ));
    }

    #[test]
    fn other_events_are_ignored_and_bad_bodies_are_errors() {
        assert_eq!(parse("ping", b"{}").unwrap(), Event::Ping);
        assert!(matches!(parse("star", b"{}").unwrap(), Event::Ignored(_)));
        assert!(parse("push", b"not json").is_err());
        assert!(parse("push", br#"{"ref":"refs/heads/main"}"#).is_err());
    }
}
