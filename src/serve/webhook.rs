//! GitHub webhook deliveries: the signature check and what each event asks of repin. Pure.
//!
//! GitHub signs every delivery with the webhook's secret: `X-Hub-Signature-256: sha256=<hex>`,
//! the HMAC-SHA256 of the raw body ("Validating webhook deliveries" in GitHub's docs). The
//! events that matter: a `push` to a repository's default branch (the base moved, or someone
//! updated a pin by hand) and a repin pull request being closed (merged: the next update may be
//! due; closed unmerged: the dashboard lists it as ignored). repin's own pushes to `repin/`
//! branches, and everything else, are acknowledged and ignored. For a GitHub App, the
//! `installation` and `installation_repositories` events say which repositories it may work on.
//! A comment `@repin rebase`, `@repin recreate` or `@repin ignore this major version` (or
//! `minor version`, or `dependency`) on one of repin's pull requests (`issue_comment`) from the
//! repository's owners, members or collaborators queues a run that carries it out. An edit of
//! the dashboard issue that ticks a box (`issues`, `edited`) queues a run that opens those pull
//! requests.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::plan::BRANCH_PREFIX;
pub use crate::vocab::BranchCommand as Command;

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
    /// The App was installed, uninstalled, or given or refused repositories: what it serves
    /// changes (`installation` and `installation_repositories` events).
    Installation(InstallationChange),
    /// A command in a comment on one of repin's pull requests, from someone allowed to give
    /// it: run repin on the repository for it.
    Command {
        /// `owner/name`.
        repository: String,
        /// The pull request's branch (`repin/…`, from its hidden marker).
        branch: String,
        /// The pull request's number.
        number: u64,
        /// What was asked.
        command: Command,
        /// Who asked (a login).
        by: String,
    },
    /// A command from someone who may not give it: ignored, and said in the log.
    Denied(String),
    /// Nothing to do, and why.
    Ignored(String),
}

/// The `author_association`s whose commands are taken: people with write access to the
/// repository (GitHub's values: OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR,
/// FIRST_TIME_CONTRIBUTOR, FIRST_TIMER, MANNEQUIN, NONE).
const MAY_COMMAND: [&str; 3] = ["OWNER", "MEMBER", "COLLABORATOR"];

/// The command of a comment: the first line of its own that is one (`@repin rebase`,
/// `@repin recreate`, `@repin ignore this major version`...; case and spacing aside); `None`
/// when no line is.
pub fn command(comment: &str) -> Option<Command> {
    comment.lines().find_map(Command::from_line)
}

/// A change of the repositories a GitHub App's installation may work on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InstallationChange {
    /// The installation's ID.
    pub installation: u64,
    /// Repositories (`owner/name`) it may work on now.
    pub added: Vec<String>,
    /// Repositories it may no longer work on.
    pub removed: Vec<String>,
    /// The whole installation is gone (uninstalled or suspended): every repository of it too,
    /// listed or not.
    pub uninstalled: bool,
    /// What happened, for the log.
    pub why: String,
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

#[derive(Deserialize)]
struct User {
    login: String,
}

#[derive(Deserialize)]
struct Comment {
    #[serde(default)]
    body: Option<String>,
    author_association: String,
    user: User,
}

#[derive(Deserialize)]
struct CommentedIssue {
    number: u64,
    #[serde(default)]
    body: Option<String>,
    /// Present when the issue is a pull request.
    #[serde(default)]
    pull_request: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct IssueCommentEvent {
    action: String,
    issue: CommentedIssue,
    comment: Comment,
    repository: Repository,
}

/// An `issue_comment` event: a new comment giving a command on one of repin's pull requests
/// (known by the hidden marker in its body, which names its branch: the payload has no head
/// branch), from someone with write access.
fn comment(event: IssueCommentEvent) -> Event {
    let number = event.issue.number;
    if event.action != "created" {
        return Event::Ignored(format!("a comment {} on #{number}", event.action));
    }
    let Some(command) = event.comment.body.as_deref().and_then(command) else {
        return Event::Ignored(format!("a comment on #{number} without a command"));
    };
    let asked = command.text();
    let branch = event
        .issue
        .pull_request
        .as_ref()
        .and_then(|_| crate::plan::Marker::find(event.issue.body.as_deref().unwrap_or("")))
        .map(|m| m.branch)
        .filter(|b| b.starts_with(BRANCH_PREFIX));
    let Some(branch) = branch else {
        return Event::Ignored(format!(
            "{asked} on #{number}, not one of repin's pull requests"
        ));
    };
    let by = event.comment.user.login;
    let association = event.comment.author_association;
    if !MAY_COMMAND.contains(&association.as_str()) {
        return Event::Denied(format!(
            "{asked} on #{number} ({branch}) by {by}, whose association with the repository is {association}: only its owners, members and collaborators may give commands"
        ));
    }
    Event::Command {
        repository: event.repository.full_name,
        branch,
        number,
        command,
        by,
    }
}

#[derive(Deserialize)]
struct IssuesEvent {
    action: String,
    issue: CommentedIssue,
    repository: Repository,
    sender: User,
}

/// An `issues` event: an edit of repin's dashboard that ticks a box queues a run, which opens
/// those pull requests. Only the issue's author (repin) and people with triage or write access
/// can edit an issue, and repin never writes a ticked box, so its own rewrites queue nothing.
fn dashboard_edit(event: IssuesEvent) -> Event {
    let number = event.issue.number;
    let body = event.issue.body.as_deref().unwrap_or("");
    if event.action != "edited" || !body.contains(crate::forge::dashboard::MARKER) {
        return Event::Ignored(format!("issue #{number} {}", event.action));
    }
    let ticked = crate::forge::dashboard::ticked(body);
    if ticked.is_empty() {
        return Event::Ignored(format!("the dashboard #{number} edited, no box ticked"));
    }
    Event::Run {
        repository: event.repository.full_name,
        why: format!(
            "{} ticked on the dashboard #{number} by {}",
            ticked.join(", "),
            event.sender.login
        ),
    }
}

#[derive(Deserialize)]
struct Account {
    login: String,
}

#[derive(Deserialize)]
struct InstallationRef {
    id: u64,
    #[serde(default)]
    account: Option<Account>,
}

#[derive(Deserialize)]
struct Named {
    full_name: String,
}

#[derive(Deserialize)]
struct InstallationEvent {
    action: String,
    installation: InstallationRef,
    /// GitHub lists the repositories of the installation (for `created` and `deleted`).
    #[serde(default)]
    repositories: Option<Vec<Named>>,
}

#[derive(Deserialize)]
struct InstallationRepositoriesEvent {
    action: String,
    installation: InstallationRef,
    #[serde(default)]
    repositories_added: Vec<Named>,
    #[serde(default)]
    repositories_removed: Vec<Named>,
}

/// Whether `name` is `owner/name` as GitHub allows them: two parts of ASCII letters, digits,
/// `-`, `_` and `.`, neither `.` nor `..` (a name goes into a run's remote URL).
pub fn is_repository_name(name: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && p != "."
            && p != ".."
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    name.split_once('/')
        .is_some_and(|(owner, repo)| part(owner) && part(repo))
}

/// The names of `repositories` that are `owner/name` (anything else is no repository to run).
fn names(repositories: Vec<Named>) -> Vec<String> {
    repositories
        .into_iter()
        .map(|r| r.full_name)
        .filter(|n| is_repository_name(n))
        .collect()
}

/// An `installation` event: `created` and `unsuspend` add its repositories, `deleted` and
/// `suspend` remove the installation; other actions (`new_permissions_accepted`) change
/// nothing served.
fn installation(event: InstallationEvent) -> Event {
    let account = event.installation.account.map_or_else(
        || format!("installation {}", event.installation.id),
        |a| a.login,
    );
    let listed = names(event.repositories.unwrap_or_default());
    let mut change = InstallationChange {
        installation: event.installation.id,
        why: format!("the App was {} on {account}", event.action),
        ..InstallationChange::default()
    };
    match event.action.as_str() {
        "created" | "unsuspend" => change.added = listed,
        "deleted" | "suspend" => {
            change.removed = listed;
            change.uninstalled = true;
        }
        other => return Event::Ignored(format!("installation {other} on {account}")),
    }
    Event::Installation(change)
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
        "installation" => Ok(installation(serde_json::from_slice(body)?)),
        "issue_comment" => Ok(comment(serde_json::from_slice(body)?)),
        "issues" => Ok(dashboard_edit(serde_json::from_slice(body)?)),
        "installation_repositories" => {
            let event: InstallationRepositoriesEvent = serde_json::from_slice(body)?;
            let account = event.installation.account.map_or_else(
                || format!("installation {}", event.installation.id),
                |a| a.login,
            );
            Ok(Event::Installation(InstallationChange {
                installation: event.installation.id,
                added: names(event.repositories_added),
                removed: names(event.repositories_removed),
                uninstalled: false,
                why: format!("repositories {} on {account}", event.action),
            }))
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

    /// The payloads as GitHub's "Webhook events and payloads" page documents them (trimmed to
    /// the fields repin reads, plus a few it does not).
    #[test]
    fn installations_add_and_remove_repositories() {
        let installation = |action: &str| {
            format!(
                r#"{{"action":"{action}","installation":{{"id":7,"account":{{"login":"acme","type":"Organization"}},"repository_selection":"selected"}},"repositories":[{{"id":1,"name":"service","full_name":"acme/service","private":true}},{{"id":2,"name":"bad","full_name":"../bad"}}],"sender":{{"login":"admin"}}}}"#
            )
        };
        assert_eq!(
            parse("installation", installation("created").as_bytes()).unwrap(),
            Event::Installation(InstallationChange {
                installation: 7,
                added: vec!["acme/service".into()],
                removed: vec![],
                uninstalled: false,
                why: "the App was created on acme".into(),
            })
        );
        let Event::Installation(deleted) =
            parse("installation", installation("deleted").as_bytes()).unwrap()
        else {
            panic!("not an installation change");
        };
        assert!(deleted.uninstalled && deleted.added.is_empty());
        assert_eq!(deleted.removed, ["acme/service"]);
        let Event::Installation(suspended) =
            parse("installation", installation("suspend").as_bytes()).unwrap()
        else {
            panic!("not an installation change");
        };
        assert!(suspended.uninstalled);
        assert!(matches!(
            parse(
                "installation",
                installation("new_permissions_accepted").as_bytes()
            )
            .unwrap(),
            Event::Ignored(_)
        ));
        let changed = r#"{"action":"added","installation":{"id":7,"account":{"login":"acme"}},"repository_selection":"selected","repositories_added":[{"id":3,"name":"worker","full_name":"acme/worker"}],"repositories_removed":[{"id":1,"name":"service","full_name":"acme/service"}],"sender":{"login":"admin"}}"#;
        assert_eq!(
            parse("installation_repositories", changed.as_bytes()).unwrap(),
            Event::Installation(InstallationChange {
                installation: 7,
                added: vec!["acme/worker".into()],
                removed: vec!["acme/service".into()],
                uninstalled: false,
                why: "repositories added on acme".into(),
            })
        );
        assert!(parse("installation_repositories", br#"{"action":"added"}"#).is_err());
        assert!(is_repository_name("acme/my.repo_2-x"));
        for bad in [
            "../bad", "acme/..", "acme", "acme/a/b", "/a", "acme/a b", "acme/?x",
        ] {
            assert!(!is_repository_name(bad), "{bad}");
        }
    }

    #[test]
    fn commands_are_lines_of_their_own() {
        assert_eq!(command("@repin rebase"), Some(Command::Rebase));
        assert_eq!(
            command("Thanks!\n@repin ignore this major version\n"),
            Some(Command::Ignore(crate::vocab::IgnoreScope::Major))
        );
        assert_eq!(
            command("Thanks!\r\n  @Repin   RECREATE \r\n"),
            Some(Command::Recreate)
        );
        assert_eq!(command("please @repin rebase this"), None);
        assert_eq!(command("@repin rebase now"), None);
        assert_eq!(command("@repin ignore"), None);
        assert_eq!(command("@repinbot rebase"), None);
        assert_eq!(command(""), None);
    }

    /// The payload as GitHub's "issue_comment" documentation shows it (trimmed), on a pull
    /// request whose body carries repin's marker.
    fn comment_event(
        action: &str,
        text: &str,
        association: &str,
        pull: bool,
        body: &str,
    ) -> String {
        serde_json::json!({
            "action": action,
            "issue": {
                "number": 12, "title": "Update flask to 2.2.5", "body": body, "state": "open",
                "pull_request": if pull { serde_json::json!({"url": "https://api.github.example/repos/acme/service/pulls/12"}) } else { serde_json::Value::Null },
                "user": {"login": "repin[bot]"}
            },
            "comment": {"id": 1, "body": text, "author_association": association, "user": {"login": "alice"}},
            "repository": {"full_name": "acme/service", "default_branch": "main"},
            "sender": {"login": "alice"}
        })
        .to_string()
    }

    #[test]
    fn a_ticked_dashboard_box_queues_a_run_and_repins_own_rewrite_does_not() {
        let board = crate::forge::dashboard::render(&crate::forge::dashboard::Dashboard {
            held_back: vec![crate::forge::dashboard::Pending {
                entry: crate::forge::dashboard::Entry {
                    text: "Update flask".into(),
                    detail: "a limit".into(),
                },
                branch: "repin/requirements.txt/flask".into(),
            }],
            ..Default::default()
        });
        let event = |action: &str, body: &str| {
            serde_json::json!({
                "action": action,
                "issue": {"number": 5, "body": body, "title": "Dependency dashboard"},
                "repository": {"full_name": "acme/service"},
                "sender": {"login": "ann"}
            })
            .to_string()
        };
        let parsed =
            |action: &str, body: &str| parse("issues", event(action, body).as_bytes()).unwrap();
        assert!(matches!(parsed("edited", &board), Event::Ignored(_)));
        let ticked = board.replace("- [ ]", "- [x]");
        assert_eq!(
            parsed("edited", &ticked),
            Event::Run {
                repository: "acme/service".into(),
                why: "repin/requirements.txt/flask ticked on the dashboard #5 by ann".into(),
            }
        );
        assert!(matches!(parsed("opened", &ticked), Event::Ignored(_)));
        // Not the dashboard: a ticked box in any other issue is nothing to repin.
        assert!(matches!(
            parsed(
                "edited",
                &ticked.replace(crate::forge::dashboard::MARKER, "")
            ),
            Event::Ignored(_)
        ));
    }

    #[test]
    fn comment_commands_need_repins_pull_request_and_write_access() {
        let marker = crate::plan::Marker {
            branch: "repin/requirements.txt/flask".into(),
            security: false,
            updates: Vec::new(),
            ignore: None,
        };
        let body = format!("Updates flask.\n\n{}", marker.render());
        for association in ["OWNER", "MEMBER", "COLLABORATOR"] {
            let event = comment_event("created", "@repin rebase", association, true, &body);
            assert_eq!(
                parse("issue_comment", event.as_bytes()).unwrap(),
                Event::Command {
                    repository: "acme/service".into(),
                    branch: "repin/requirements.txt/flask".into(),
                    number: 12,
                    command: Command::Rebase,
                    by: "alice".into(),
                }
            );
        }
        for association in ["CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "NONE", "owner"] {
            let event = comment_event("created", "@repin recreate", association, true, &body);
            let Event::Denied(why) = parse("issue_comment", event.as_bytes()).unwrap() else {
                panic!("{association}: not denied");
            };
            assert!(
                why.contains("by alice") && why.contains(association),
                "{why}"
            );
        }
        // Edited comments, comments without a command, issues (the dashboard) and other pull
        // requests: nothing to do.
        for (action, text, pull, body) in [
            ("edited", "@repin rebase", true, body.as_str()),
            ("created", "LGTM", true, body.as_str()),
            ("created", "@repin rebase", false, body.as_str()),
            (
                "created",
                "@repin rebase",
                true,
                "A pull request of someone else",
            ),
        ] {
            let event = comment_event(action, text, "OWNER", pull, body);
            assert!(
                matches!(
                    parse("issue_comment", event.as_bytes()).unwrap(),
                    Event::Ignored(_)
                ),
                "{action} {text} {pull} {body}"
            );
        }
    }

    #[test]
    fn other_events_are_ignored_and_bad_bodies_are_errors() {
        assert_eq!(parse("ping", b"{}").unwrap(), Event::Ping);
        assert!(matches!(parse("star", b"{}").unwrap(), Event::Ignored(_)));
        assert!(parse("push", b"not json").is_err());
        assert!(parse("push", br#"{"ref":"refs/heads/main"}"#).is_err());
    }
}
