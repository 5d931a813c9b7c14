//! The `repin pr` job: turn a check's updates into branches and pull requests, bring existing
//! ones up to date, close the ones no longer needed, and rewrite the dashboard.
//!
//! Each branch's commit is built from the base branch's head with git objects only (no working
//! tree, index or HEAD is touched) from the files of the checkout, which must match the base
//! branch's head for every file edited: repin never commits a user's local changes. A failure
//! on one branch is reported and the others go on.
//!
//! The job does the I/O (git, GitHub) in the order a run needs; what it decides is in pure
//! modules: the plan's items from a check (`items`), a branch's files (`changes`), whether an
//! open pull request gets a new commit (`refresh`), the report (`report`) and the dashboard's
//! content (`board`).

mod board;
mod changes;
mod items;
mod refresh;
mod report;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use futures::StreamExt;

use crate::config::{Loaded, RebasePolicy};
use crate::forge::dashboard;
use crate::forge::github::{GitHub, Issue, PullRequest};
use crate::forge::sync::{self, Action, Limits};
use crate::git::{Credentials, Identity, Oid, Repository};
use crate::lookup::Outcome;
use crate::manifest::workspace::Workspace;
use crate::plan::{self, Branch, Marker};
use crate::vocab::{BranchCommand, IgnoreScope, Message};
use changes::{branch_changes, diff_of};
use items::relative;
pub use items::{advisory_notes, items};
use refresh::Refresh;
pub use report::{Line, Report, Verb};

/// How a run publishes.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The git remote to fetch from and push to.
    pub remote: String,
    /// The base branch; the repository's default branch when `None`.
    pub base: Option<String>,
    /// Credentials for the remote.
    pub credentials: Credentials,
    /// Author and committer of update commits.
    pub identity: Identity,
    /// Plan and print only: no push, no write to GitHub.
    pub dry_run: bool,
    /// Now, in seconds since the epoch.
    pub now: i64,
    /// Commands given on pull requests (`@repin rebase`, `@repin recreate`), by branch.
    pub commands: BTreeMap<String, BranchCommand>,
}

/// Why a branch, its pull request or the dashboard could not be written. A failed branch is
/// a line of the report: its detail is this error's [`crate::error::message`].
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Some of the branch's updates could not be applied (their messages, one a line; their
    /// hints are the error's).
    #[error("{}", .0.iter().map(|m| m.text.as_str()).collect::<Vec<_>>().join("\n"))]
    Unapplied(Vec<crate::vocab::Message>),
    /// An edited file is not inside the repository's working tree.
    #[error("{} is outside the repository", .0.display())]
    OutsideRepository(PathBuf),
    /// The checkout's file is not the base branch's.
    #[error(
        "`{path}` in the checkout differs from the base branch's head {head}; repin only commits edits of the base branch's files"
    )]
    DiffersFromBase {
        /// The file, relative to the repository.
        path: String,
        /// The base branch's head, abbreviated.
        head: String,
    },
    /// Nothing of the branch could be applied.
    #[error("none of the branch's updates could be applied")]
    NothingApplied,
    /// A git operation failed.
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
    /// A GitHub request failed.
    #[error(transparent)]
    GitHub(#[from] crate::forge::github::GitHubError),
}

impl crate::error::Hint for PublishError {
    fn hints(&self) -> Vec<String> {
        match self {
            PublishError::DiffersFromBase { .. } => {
                vec!["check out the base branch, without local changes".into()]
            }
            PublishError::GitHub(error) => error.hints(),
            PublishError::Git(error) => error.hints(),
            PublishError::Unapplied(messages) => {
                messages.iter().flat_map(|m| m.hints.clone()).collect()
            }
            PublishError::OutsideRepository(_) | PublishError::NothingApplied => Vec::new(),
        }
    }
}

/// Everything a run needs.
pub struct Job<'a> {
    /// The GitHub client.
    pub github: &'a GitHub,
    /// The checkout.
    pub repo: &'a Repository,
    /// The manifests read from the checkout.
    pub workspace: &'a Workspace,
    /// The check's result.
    pub outcome: &'a Outcome,
    /// The configuration.
    pub config: &'a Loaded,
    /// How to publish.
    pub settings: &'a Settings,
    /// Whether a Python dependency's index is pypi.org (for release links).
    pub pypi_is_default: &'a dyn Fn(&Path, &crate::manifest::Dependency) -> bool,
}

impl Job<'_> {
    /// Run: plan, fetch, decide, act, and rewrite the dashboard.
    pub async fn run(&self) -> Report {
        let mut report = Report::default();
        let Some(workdir) = self.repo.workdir().and_then(|w| w.canonicalize().ok()) else {
            report.fatal = Some("repin pr needs a checkout with a working tree".into());
            return report;
        };
        let prs = &self.config.config.pull_requests;
        let items = items(
            self.workspace,
            self.outcome,
            self.config,
            &workdir,
            self.pypi_is_default,
        );
        let options = plan::Options {
            commit_prefix: prs.commit_prefix.clone(),
            labels: prs.labels.clone(),
            security_labels: prs.security_labels.clone(),
            now: self.settings.now,
        };
        let branches = plan::plan(&items, &advisory_notes(self.outcome), &options);
        report.branches = branches.clone();

        let base = match &self.settings.base {
            Some(base) => base.clone(),
            None => match self.github.default_branch().await {
                Ok(base) => base,
                Err(e) => {
                    report.fatal = Some(crate::error::message(&e));
                    return report;
                }
            },
        };
        report.base = base.clone();
        let base_head = match self.fetch(&base) {
            Ok(head) => head,
            Err(e) => {
                report.fatal = Some(crate::error::message(&e));
                return report;
            }
        };
        let open = match self.github.open_pulls(plan::BRANCH_PREFIX).await {
            Ok(open) => open
                .into_iter()
                .filter(|p| p.base == base)
                .collect::<Vec<_>>(),
            Err(e) => {
                report.fatal = Some(crate::error::message(&e));
                return report;
            }
        };
        // The dashboard's ticked boxes: those branches are opened now, over limits and ignores.
        // Its issues are read once, here, and rewritten at the end.
        let dashboards = if prs.dashboard {
            Some(self.github.find_issues(dashboard::MARKER).await)
        } else {
            None
        };
        let ticked: Vec<String> = match &dashboards {
            Some(Ok(found)) => found
                .first()
                .map(|d| dashboard::ticked(&d.body))
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        // `@repin ignore …`: those pull requests are closed first, recording the ignore in
        // their marker, and are then closed pull requests of their branches like any other.
        let (ignoring, mut open): (Vec<PullRequest>, Vec<PullRequest>) =
            open.into_iter().partition(|p| {
                matches!(
                    self.settings.commands.get(&p.head),
                    Some(BranchCommand::Ignore(_))
                )
            });
        let mut just_closed: BTreeMap<String, Vec<PullRequest>> = BTreeMap::new();
        for pr in ignoring {
            let Some(BranchCommand::Ignore(scope)) = self.settings.commands.get(&pr.head).copied()
            else {
                continue;
            };
            match self.close_ignored(&pr, scope).await {
                Ok((closed, line)) => {
                    report.lines.push(line);
                    just_closed
                        .entry(closed.head.clone())
                        .or_default()
                        .push(closed);
                }
                Err(e) => {
                    report.lines.push(Line {
                        verb: Verb::Failed,
                        branch: pr.head.clone(),
                        title: pr.title.clone(),
                        url: Some(pr.url.clone()),
                        detail: crate::error::message(&e),
                        diff: String::new(),
                    });
                    // Not closed: it stays an open pull request of this run.
                    open.push(pr);
                }
            }
        }
        let without_pr: Vec<&Branch> = branches
            .iter()
            .filter(|b| !open.iter().any(|p| p.head == b.name))
            .collect();
        let closed_results: Vec<(String, Result<Vec<PullRequest>, _>)> =
            futures::stream::iter(without_pr)
                .map(|b| async move {
                    let result = self.github.closed_pulls(&b.name).await;
                    (b.name.clone(), result)
                })
                .buffer_unordered(8)
                .collect()
                .await;
        let mut closed = BTreeMap::new();
        for (name, result) in closed_results {
            match result {
                Ok(prs) => {
                    closed.insert(name, prs);
                }
                Err(e) => {
                    // Without the closed pull requests, an ignored version could be reopened:
                    // this branch waits for the next run.
                    report.lines.push(Line {
                        verb: Verb::Failed,
                        title: branches
                            .iter()
                            .find(|b| b.name == name)
                            .map_or_else(String::new, |b| b.title.clone()),
                        branch: name,
                        url: None,
                        detail: crate::error::message(&e),
                        diff: String::new(),
                    });
                }
            }
        }
        for (branch, prs) in just_closed {
            // Listed already when GitHub answered after the close; the body is the one written.
            let listed = closed.entry(branch).or_default();
            listed.retain(|p| !prs.iter().any(|c| c.number == p.number));
            listed.extend(prs);
        }
        let failed: Vec<String> = report
            .lines
            .iter()
            .filter(|l| l.verb == Verb::Failed)
            .map(|l| l.branch.clone())
            .collect();
        let limits = Limits {
            max_open: prs.max_open,
            max_per_hour: prs.max_per_hour,
            now: self.settings.now,
        };
        let current = |file: &str, name: &str| -> Vec<String> {
            self.workspace
                .manifests
                .iter()
                .filter(|m| relative(m.source.path(), &workdir).as_deref() == Some(file))
                .flat_map(|m| &m.dependencies)
                .filter(|d| d.name == name)
                .map(|d| d.current.clone())
                .collect()
        };
        let mut actions = sync::decide(&branches, &open, &closed, &ticked, limits, &current);
        // Lock maintenance is made only on the days its period starts: on the others, its open
        // pull request stays as it is (not closed for want of an update).
        if self.config.config.update.lock_maintenance != crate::config::LockMaintenance::Off {
            let maintenance = format!("{}{}", plan::BRANCH_PREFIX, plan::LOCK_MAINTENANCE);
            actions.retain(|a| !matches!(a, Action::Close { pr, .. } if pr.head == maintenance));
        }
        for action in actions {
            if let Action::Create { branch } | Action::Refresh { branch, .. } = &action {
                if failed.contains(&branches[*branch].name) {
                    continue;
                }
            }
            let mut line = self
                .act(&action, &branches, base_head, &base, &workdir)
                .await;
            if line.verb == Verb::Created && ticked.contains(&line.branch) {
                line.detail = "opened as asked on the dashboard".into();
            }
            report.lines.push(line);
        }
        if let Some(found) = dashboards {
            let written = match found {
                Ok(found) => self.dashboard(&report, found).await,
                Err(e) => Err(PublishError::GitHub(e)),
            };
            match written {
                Ok(url) => report.dashboard = url,
                Err(e) => report.lines.push(Line {
                    verb: Verb::Failed,
                    branch: String::new(),
                    title: dashboard::TITLE.into(),
                    url: None,
                    detail: crate::error::message(&e),
                    diff: String::new(),
                }),
            }
        }
        report
    }

    /// Fetch `branch` of the remote (two commits deep in a shallow clone: a head and its
    /// parent, which is all a rebase check reads).
    fn fetch(&self, branch: &str) -> Result<Oid, crate::git::GitError> {
        let depth = self.repo.is_shallow().then_some(2);
        self.repo.fetch_branch(
            &self.settings.remote,
            branch,
            depth,
            &self.settings.credentials,
        )
    }

    /// Force-push `commit` to `branch`: repin's branches are replaced, never merged into.
    fn push(&self, commit: Oid, branch: &str) -> Result<(), PublishError> {
        self.repo
            .push(
                &self.settings.remote,
                commit,
                branch,
                true,
                &self.settings.credentials,
            )
            .map_err(PublishError::Git)
    }

    async fn act(
        &self,
        action: &Action,
        branches: &[Branch],
        base_head: Oid,
        base: &str,
        workdir: &Path,
    ) -> Line {
        let line = |verb, branch: &str, title: &str, url: Option<&str>, detail: Message| Line {
            verb,
            branch: branch.to_owned(),
            title: title.to_owned(),
            url: url.map(str::to_owned),
            detail,
            diff: String::new(),
        };
        match action {
            Action::Create { branch } => {
                let branch = &branches[*branch];
                match self.create(branch, base_head, base, workdir).await {
                    Ok(done) => done,
                    Err(e) => line(
                        Verb::Failed,
                        &branch.name,
                        &branch.title,
                        None,
                        crate::error::message(&e),
                    ),
                }
            }
            Action::Refresh { branch, pr } => {
                let branch = &branches[*branch];
                match self.refresh(branch, pr, base_head, base, workdir).await {
                    Ok(done) => done,
                    Err(e) => line(
                        Verb::Failed,
                        &branch.name,
                        &branch.title,
                        Some(&pr.url),
                        crate::error::message(&e),
                    ),
                }
            }
            Action::Close { pr, reason } => match self.close(pr, reason).await {
                Ok(()) => line(
                    Verb::Closed,
                    &pr.head,
                    &pr.title,
                    Some(&pr.url),
                    reason.as_str().into(),
                ),
                Err(e) => line(
                    Verb::Failed,
                    &pr.head,
                    &pr.title,
                    Some(&pr.url),
                    crate::error::message(&e),
                ),
            },
            Action::Ignored { branch, pr } => {
                let branch = &branches[*branch];
                let detail = match Marker::find(&pr.body).filter(|m| m.ignore.is_some()) {
                    Some(marker) => format!(
                        "{} ignored on #{} ({})",
                        marker.ignored_text(),
                        pr.number,
                        marker
                            .ignore
                            .map(|scope| BranchCommand::Ignore(scope).text())
                            .unwrap_or_default()
                    ),
                    None => format!("#{} with these updates was closed unmerged", pr.number),
                };
                line(
                    Verb::Ignored,
                    &branch.name,
                    &branch.title,
                    Some(&pr.url),
                    detail.into(),
                )
            }
            Action::HeldBack { branch, why } => {
                let branch = &branches[*branch];
                line(
                    Verb::HeldBack,
                    &branch.name,
                    &branch.title,
                    None,
                    why.as_str().into(),
                )
            }
            Action::Unrecognised { pr } => line(
                Verb::Unrecognised,
                &pr.head,
                &pr.title,
                Some(&pr.url),
                "its body has no repin marker (edited, or not repin's)".into(),
            ),
        }
    }

    fn commit(
        &self,
        branch: &Branch,
        base_head: Oid,
        workdir: &Path,
    ) -> Result<(Oid, String), PublishError> {
        let (changes, edits) = branch_changes(
            self.repo,
            base_head,
            self.workspace,
            self.outcome,
            workdir,
            branch,
        )?;
        let commit = self.repo.commit_files(
            base_head,
            &changes,
            &branch.commit_message,
            &self.settings.identity,
            &self.settings.identity,
        )?;
        Ok((commit, diff_of(&edits, workdir)))
    }

    async fn create(
        &self,
        branch: &Branch,
        base_head: Oid,
        base: &str,
        workdir: &Path,
    ) -> Result<Line, PublishError> {
        let (commit, diff) = self.commit(branch, base_head, workdir)?;
        let mut url = None;
        if !self.settings.dry_run {
            // Forced: a branch left by a pull request the user closed is repin's to replace.
            self.push(commit, &branch.name)?;
            let pr = self
                .github
                .create_pull(&branch.name, base, &branch.title, &branch.body)
                .await?;
            self.github.add_labels(pr.number, &branch.labels).await?;
            url = Some(pr.url);
        }
        Ok(Line {
            verb: Verb::Created,
            branch: branch.name.clone(),
            title: branch.title.clone(),
            url,
            detail: Message::default(),
            diff,
        })
    }

    async fn refresh(
        &self,
        branch: &Branch,
        pr: &PullRequest,
        base_head: Oid,
        base: &str,
        workdir: &Path,
    ) -> Result<Line, PublishError> {
        let (commit, diff) = self.commit(branch, base_head, workdir)?;
        let git = PublishError::Git;
        let head = self.fetch(&branch.name).map_err(git)?;
        let asked = self.settings.commands.get(&branch.name).copied();
        let author = self.repo.author_email(head).map_err(git)?;
        // The parent the commit records, not the one the clone's depth shows: at a shallow
        // clone's boundary libgit2 shows none, which read as "behind" and rewrote every branch.
        let head_parent = self
            .repo
            .recorded_parents(head)
            .map_err(git)?
            .first()
            .copied();
        let marker_changed = Marker::find(&pr.body).as_ref() != Some(&branch.marker());
        let state = refresh::BranchState {
            foreign_author: (author != self.settings.identity.email).then_some(author),
            on_base_head: head_parent == Some(base_head),
            same_content: self.repo.tree_id(head).map_err(git)?
                == self.repo.tree_id(commit).map_err(git)?,
            updates_changed: marker_changed,
        };
        let short: String = base_head.to_string().chars().take(12).collect();
        let base = refresh::Base {
            name: base,
            head: &short,
        };
        let policy_rebases = || match self.config.config.pull_requests.rebase {
            RebasePolicy::Behind => true,
            RebasePolicy::Never => false,
            RebasePolicy::Conflicted => match head_parent {
                Some(parent) => branch.items.iter().any(|i| {
                    self.repo.read_file(parent, &i.file).ok()
                        != self.repo.read_file(base_head, &i.file).ok()
                }),
                None => true,
            },
        };
        let (push, mut why, answer) = match refresh::decide(&state, asked, base, policy_rebases) {
            Refresh::LeftAlone { detail, answer } => {
                let mut detail = Message::new(detail);
                if let Some(answer) = answer {
                    if let Err(error) = self.answer(pr, &answer).await {
                        detail = Message::joined([&detail, &unsaid(&error)], "; ");
                    }
                }
                // The pull request as it is (its own title), not the update repin would make
                // now.
                return Ok(Line {
                    verb: Verb::Edited,
                    branch: branch.name.clone(),
                    title: pr.title.clone(),
                    url: Some(pr.url.clone()),
                    detail,
                    diff: String::new(),
                });
            }
            Refresh::Commit { push, why, answer } => (
                push,
                why.into_iter().map(Message::new).collect::<Vec<_>>(),
                answer,
            ),
        };
        let retitle = pr.title != branch.title || pr.body.replace("\r\n", "\n") != branch.body;
        if retitle {
            why.push(Message::new(if marker_changed {
                "updates changed"
            } else {
                "title or body changed"
            }));
        }
        let missing_labels: Vec<String> = branch
            .labels
            .iter()
            .filter(|l| !pr.labels.contains(l))
            .cloned()
            .collect();
        if !self.settings.dry_run {
            if push {
                self.push(commit, &branch.name)?;
            }
            if retitle {
                self.github
                    .update_pull(pr.number, Some(&branch.title), Some(&branch.body), None)
                    .await?;
            }
            self.github.add_labels(pr.number, &missing_labels).await?;
        }
        if let Some(answer) = answer {
            if let Err(error) = self.answer(pr, &answer).await {
                why.push(unsaid(&error));
            }
        }
        let changed = push || retitle;
        Ok(Line {
            verb: if changed {
                Verb::Updated
            } else {
                Verb::Unchanged
            },
            branch: branch.name.clone(),
            title: branch.title.clone(),
            url: Some(pr.url.clone()),
            detail: Message::joined(&why, ", "),
            diff: if push { diff } else { String::new() },
        })
    }

    /// Answer a command on `pr` with what was done (not in a dry run). A failure is said in
    /// the report (see [`unsaid`]), not made the pull request's: what was asked was done.
    async fn answer(
        &self,
        pr: &PullRequest,
        text: &str,
    ) -> Result<(), crate::forge::github::GitHubError> {
        if self.settings.dry_run {
            return Ok(());
        }
        self.github.comment(pr.number, text).await
    }

    /// Close `pr` as `@repin ignore …` (of `scope`) asked: the ignore recorded in its marker
    /// (what the next runs read), the answer posted, its branch deleted when it is repin's.
    /// Returns the pull request as closed, and the report's line.
    async fn close_ignored(
        &self,
        pr: &PullRequest,
        scope: IgnoreScope,
    ) -> Result<(PullRequest, Line), PublishError> {
        let command = BranchCommand::Ignore(scope);
        let mut closed = pr.clone();
        closed.open = false;
        let detail = match Marker::find(&pr.body) {
            Some(marker) => {
                let marker = Marker {
                    ignore: Some(scope),
                    ..marker
                };
                closed.body = marker.replace_in(&pr.body);
                format!(
                    "{} is not proposed again, as asked ({}); a security fix still is",
                    marker.ignored_text(),
                    command.text()
                )
            }
            None => format!("closed as asked ({})", command.text()),
        };
        let text = format!("repin closes this pull request: {detail}. Reopen it to undo.");
        self.close_with(pr, &text, Some(&closed.body)).await?;
        let line = Line {
            verb: Verb::Closed,
            branch: pr.head.clone(),
            title: pr.title.clone(),
            url: Some(pr.url.clone()),
            detail: detail.into(),
            diff: String::new(),
        };
        Ok((closed, line))
    }

    async fn close(&self, pr: &PullRequest, reason: &str) -> Result<(), PublishError> {
        let text = format!("repin closes this pull request: {reason}.");
        self.close_with(pr, &text, None).await
    }

    /// Close `pr` saying `text` (and giving it `body`), deleting its branch when it is repin's.
    async fn close_with(
        &self,
        pr: &PullRequest,
        text: &str,
        body: Option<&str>,
    ) -> Result<(), PublishError> {
        if self.settings.dry_run {
            return Ok(());
        }
        self.github.comment(pr.number, text).await?;
        self.github
            .update_pull(pr.number, None, body, Some("closed"))
            .await?;
        // Only a branch whose last commit is repin's is deleted: someone else's commits on it
        // stay. A failure to delete leaves clutter, not harm.
        let ours = self
            .fetch(&pr.head)
            .and_then(|head| self.repo.author_email(head))
            .is_ok_and(|author| author == self.settings.identity.email);
        if ours {
            let _ = self.repo.delete_remote_branch(
                &self.settings.remote,
                &pr.head,
                &self.settings.credentials,
            );
        }
        Ok(())
    }

    /// Write the dashboard for `report`; `found` are the open dashboard issues, oldest first.
    async fn dashboard(
        &self,
        report: &Report,
        found: Vec<Issue>,
    ) -> Result<Option<String>, PublishError> {
        let workdir = self.repo.workdir().and_then(|w| w.canonicalize().ok());
        let board = board::board(report, self.outcome, self.workspace, workdir.as_deref());
        let body = dashboard::render(&board);
        let github = PublishError::GitHub;
        let mut found = found.into_iter();
        let existing = found.next();
        if self.settings.dry_run {
            return Ok(existing.map(|i| i.url));
        }
        // Two dashboards (a create whose answer was lost, two runs at once): the oldest stays,
        // the others are closed, saying which one is kept.
        if let Some(kept) = &existing {
            for extra in found {
                let text = format!(
                    "repin closes this duplicate of its dependency dashboard #{}.",
                    kept.number
                );
                self.github
                    .comment(extra.number, &text)
                    .await
                    .map_err(github)?;
                self.github
                    .close_issue(extra.number)
                    .await
                    .map_err(github)?;
            }
        }
        // A dashboard the user closed stays closed: its text says closing it stops it.
        if existing.is_none() {
            if let Some(closed) = self
                .github
                .find_closed_issue(dashboard::TITLE, dashboard::MARKER)
                .await
                .map_err(github)?
            {
                return Ok(Some(format!(
                    "{} (closed: not written; reopen it to turn it back on)",
                    closed.url
                )));
            }
        }
        match existing {
            Some(issue) if issue.body.replace("\r\n", "\n") == body => Ok(Some(issue.url)),
            Some(issue) => {
                self.github
                    .update_issue(issue.number, dashboard::TITLE, &body)
                    .await?;
                Ok(Some(issue.url))
            }
            None => {
                let issue = self
                    .github
                    .create_issue(dashboard::TITLE, &body, dashboard::MARKER)
                    .await?;
                Ok(Some(issue.url))
            }
        }
    }
}

/// The report's words for an answer to a command that could not be posted.
fn unsaid(error: &crate::forge::github::GitHubError) -> Message {
    crate::error::message(error).prefixed("the answer to the command could not be posted: ")
}
