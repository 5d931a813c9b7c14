//! The `repin pr` job: turn a check's updates into branches and pull requests, bring existing
//! ones up to date, close the ones no longer needed, and rewrite the dashboard.
//!
//! Each branch's commit is built from the base branch's head with git objects only (no working
//! tree, index or HEAD is touched) from the files of the checkout, which must match the base
//! branch's head for every file edited: repin never commits a user's local changes. A failure
//! on one branch is reported and the others go on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use futures::StreamExt;

use crate::apply::{self, FileEdit};
use crate::config::{Loaded, RebasePolicy};
use crate::decide::policy::Policy;
use crate::error::chain as error_chain;
use crate::forge::dashboard::{self, Dashboard, Entry};
use crate::forge::github::{GitHub, PullRequest};
use crate::forge::sync::{self, Action, Limits};
use crate::git::{Credentials, FileChange, Identity, Oid, Repository};
use crate::lookup::Outcome;
use crate::manifest::DependencyDetail;
use crate::manifest::workspace::Workspace;
use crate::plan::{self, AdvisoryNote, Branch, Item, Marker};
use crate::vocab::BranchCommand;

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

/// What happened to one branch or pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    /// A pull request was opened.
    Created,
    /// An open pull request got a new commit, title or body.
    Updated,
    /// An open pull request was already right.
    Unchanged,
    /// A pull request was closed.
    Closed,
    /// Not opened: the user closed it unmerged.
    Ignored,
    /// Not opened: a limit.
    HeldBack,
    /// An open pull request on a repin branch without repin's marker, left alone.
    Unrecognised,
    /// An open pull request whose branch someone else pushed to: repin no longer updates it.
    Edited,
    /// Something failed.
    Failed,
}

impl Verb {
    /// The word printed (in the future tense in a dry run).
    pub fn word(&self, dry_run: bool) -> &'static str {
        match (self, dry_run) {
            (Verb::Created, false) => "created",
            (Verb::Created, true) => "create",
            (Verb::Updated, false) => "updated",
            (Verb::Updated, true) => "update",
            (Verb::Unchanged, _) => "unchanged",
            (Verb::Closed, false) => "closed",
            (Verb::Closed, true) => "close",
            (Verb::Ignored, _) => "ignored",
            (Verb::HeldBack, _) => "held back",
            (Verb::Unrecognised, _) => "left alone",
            (Verb::Edited, _) => "edited",
            (Verb::Failed, _) => "failed",
        }
    }
}

/// One line of the run's report.
#[derive(Debug, Clone)]
pub struct Line {
    /// What happened.
    pub verb: Verb,
    /// The branch.
    pub branch: String,
    /// The pull request's title.
    pub title: String,
    /// The pull request's URL, when there is one.
    pub url: Option<String>,
    /// Why (a close reason, a limit, an error).
    pub detail: String,
    /// The edits, as unified diffs (dry runs and new commits).
    pub diff: String,
}

/// The result of a run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The base branch and its head.
    pub base: String,
    /// One line per branch or pull request.
    pub lines: Vec<Line>,
    /// The planned branches.
    pub branches: Vec<Branch>,
    /// The dashboard issue's URL, when one was written or found.
    pub dashboard: Option<String>,
    /// Errors that stopped the whole run (the base could not be fetched...).
    pub fatal: Option<String>,
}

impl Report {
    /// Whether anything failed.
    pub fn has_failures(&self) -> bool {
        self.fatal.is_some() || self.lines.iter().any(|l| l.verb == Verb::Failed)
    }
}

/// The path of `file` relative to the repository's working tree, with `/` separators.
fn relative(file: &Path, workdir: &Path) -> Option<String> {
    let absolute = file.canonicalize().ok()?;
    let relative = absolute.strip_prefix(workdir).ok()?;
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_str().map(str::to_owned))
        .collect::<Option<_>>()?;
    Some(parts.join("/"))
}

/// The items of a check: every due update, with its repository-relative file.
pub fn items(
    workspace: &Workspace,
    outcome: &Outcome,
    config: &Loaded,
    workdir: &Path,
    pypi_is_default: &dyn Fn(&Path, &crate::manifest::Dependency) -> bool,
) -> Vec<Item> {
    let mut items = Vec::new();
    for finding in &outcome.findings {
        let Some((manifest, dependency)) = workspace.dependency(&finding.file, finding.index)
        else {
            continue;
        };
        let Some(file) = relative(&finding.file, workdir) else {
            continue;
        };
        let line = manifest.source.position(dependency.span.start).line;
        let image = matches!(dependency.detail, DependencyDetail::Image(_));
        for update in &finding.decision.updates {
            let group =
                Policy::from_config(config, &dependency.name, &finding.file, Some(update.kind))
                    .group;
            let link = if image {
                dependency
                    .name
                    .strip_prefix("docker.io/library/")
                    .map(|n| format!("https://hub.docker.com/_/{n}"))
            } else if let Some(url) = outcome
                .changelogs
                .get(&(dependency.name.clone(), update.proposed.clone()))
            {
                Some(url.clone())
            } else if pypi_is_default(&finding.file, dependency) {
                let version = update
                    .proposed
                    .trim_start_matches(|c: char| !c.is_ascii_digit());
                Some(format!(
                    "https://pypi.org/project/{}/{version}/",
                    dependency.name
                ))
            } else {
                None
            };
            items.push(Item {
                file: file.clone(),
                index: finding.index,
                line,
                name: dependency.name.clone(),
                image,
                update: update.clone(),
                group,
                link,
                companions: update
                    .companions
                    .iter()
                    .map(|c| {
                        relative(&c.file, workdir).unwrap_or_else(|| c.file.display().to_string())
                    })
                    .collect(),
                rides_with: update.rides_with.as_ref().map(|r| {
                    relative(&r.file, workdir).unwrap_or_else(|| r.file.display().to_string())
                }),
            });
        }
    }
    items
}

/// What the advisories fixed by the updates say, for the bodies.
pub fn advisory_notes(outcome: &Outcome) -> BTreeMap<String, AdvisoryNote> {
    let mut notes: BTreeMap<String, AdvisoryNote> = outcome
        .advisories
        .iter()
        .map(|(id, advisory)| {
            let severity = advisory.severity().map(|s| match s.score {
                Some(score) => format!("{} {score:.1}", s.rating),
                None => s.rating.to_string(),
            });
            (
                id.clone(),
                AdvisoryNote {
                    id: id.clone(),
                    aliases: advisory.aliases().to_vec(),
                    severity,
                    summary: advisory.title().map(str::to_owned),
                    url: advisory.url(),
                },
            )
        })
        .collect();
    // What image updates fix in OS packages (`[images] scan`).
    notes.extend(outcome.image_fixes.clone());
    notes
}

/// Why a branch, its pull request or the dashboard could not be written. A failed branch is
/// a line of the report: its detail is this error's [`crate::error::chain`].
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Some of the branch's updates could not be applied (their messages, one a line).
    #[error("{}", .0.join("\n"))]
    Unapplied(Vec<String>),
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
            PublishError::Unapplied(_)
            | PublishError::OutsideRepository(_)
            | PublishError::NothingApplied => Vec::new(),
        }
    }
}

/// The files of one branch: every item's update spliced and verified, checked against the
/// base branch's content.
fn branch_changes(
    repo: &Repository,
    base_head: Oid,
    workspace: &Workspace,
    outcome: &Outcome,
    workdir: &Path,
    branch: &Branch,
) -> Result<(Vec<FileChange>, Vec<FileEdit>), PublishError> {
    let choose = |finding: &crate::lookup::Finding, update: &crate::decide::Update| {
        let file = relative(&finding.file, workdir);
        branch.items.iter().any(|i| {
            Some(&i.file) == file.as_ref() && i.index == finding.index && i.update == *update
        })
    };
    let (edits, failures) = apply::plan_edits(workspace, &outcome.findings, &choose);
    if !failures.is_empty() {
        return Err(PublishError::Unapplied(
            failures.into_iter().map(|f| f.message).collect(),
        ));
    }
    let mut changes = Vec::new();
    for edit in &edits {
        let path = relative(&edit.path, workdir)
            .ok_or_else(|| PublishError::OutsideRepository(edit.path.clone()))?;
        let on_base = repo.read_file(base_head, &path)?;
        if on_base.as_deref() != Some(edit.before.as_slice()) {
            return Err(PublishError::DiffersFromBase {
                path,
                head: base_head.to_string()[..12].to_owned(),
            });
        }
        changes.push(FileChange {
            path,
            content: Some(edit.edited.bytes()),
        });
    }
    if changes.is_empty() {
        return Err(PublishError::NothingApplied);
    }
    Ok((changes, edits))
}

fn diff_of(edits: &[FileEdit], workdir: &Path) -> String {
    edits
        .iter()
        .map(|e| {
            let shown = relative(&e.path, workdir).map_or_else(|| e.path.clone(), PathBuf::from);
            apply::unified_diff(e, &shown)
        })
        .collect()
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
                    report.fatal = Some(error_chain(&e));
                    return report;
                }
            },
        };
        report.base = base.clone();
        let base_head = match self.fetch(&base) {
            Ok(head) => head,
            Err(e) => {
                report.fatal = Some(error_chain(&e));
                return report;
            }
        };
        let open = match self.github.open_pulls(plan::BRANCH_PREFIX).await {
            Ok(open) => open
                .into_iter()
                .filter(|p| p.base == base)
                .collect::<Vec<_>>(),
            Err(e) => {
                report.fatal = Some(error_chain(&e));
                return report;
            }
        };
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
                        detail: error_chain(&e),
                        diff: String::new(),
                    });
                }
            }
        }
        let failed: Vec<String> = report.lines.iter().map(|l| l.branch.clone()).collect();
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
        let mut actions = sync::decide(&branches, &open, &closed, limits, &current);
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
            let line = self
                .act(&action, &branches, base_head, &base, &workdir)
                .await;
            report.lines.push(line);
        }
        if prs.dashboard {
            match self.dashboard(&report).await {
                Ok(url) => report.dashboard = url,
                Err(e) => report.lines.push(Line {
                    verb: Verb::Failed,
                    branch: String::new(),
                    title: dashboard::TITLE.into(),
                    url: None,
                    detail: error_chain(&e),
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
        let line = |verb, branch: &str, title: &str, url: Option<&str>, detail: String| Line {
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
                        error_chain(&e),
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
                        error_chain(&e),
                    ),
                }
            }
            Action::Close { pr, reason } => match self.close(pr, reason).await {
                Ok(()) => line(
                    Verb::Closed,
                    &pr.head,
                    &pr.title,
                    Some(&pr.url),
                    reason.clone(),
                ),
                Err(e) => line(
                    Verb::Failed,
                    &pr.head,
                    &pr.title,
                    Some(&pr.url),
                    error_chain(&e),
                ),
            },
            Action::Ignored { branch, pr } => {
                let branch = &branches[*branch];
                line(
                    Verb::Ignored,
                    &branch.name,
                    &branch.title,
                    Some(&pr.url),
                    format!("#{} with these updates was closed unmerged", pr.number),
                )
            }
            Action::HeldBack { branch, why } => {
                let branch = &branches[*branch];
                line(
                    Verb::HeldBack,
                    &branch.name,
                    &branch.title,
                    None,
                    why.clone(),
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
            detail: String::new(),
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
        // Someone pushed to repin's branch: force-pushing would throw their work away, unless
        // a maintainer asked for exactly that (`@repin recreate`).
        let author = self.repo.author_email(head).map_err(git)?;
        let foreign = author != self.settings.identity.email;
        if foreign && asked != Some(BranchCommand::Recreate) {
            let mut detail = format!(
                "its last commit is by <{author}>, so repin no longer updates it; close it to let repin start again"
            );
            if asked == Some(BranchCommand::Rebase) {
                detail = format!(
                    "{} was asked, but its last commit is by <{author}> and a rebase would drop it; {} replaces it",
                    BranchCommand::Rebase.text(),
                    BranchCommand::Recreate.text()
                );
                let answer = format!(
                    "Not rebased: the last commit on this branch is by <{author}>, and a rebase would drop it. Comment `{}` to make the branch again from `{base}`, replacing those commits.",
                    BranchCommand::Recreate.text()
                );
                if let Err(unsaid) = self.answer(pr, &answer).await {
                    detail.push_str(&format!("; {unsaid}"));
                }
            }
            // The pull request as it is (its own title), not the update repin would make now.
            return Ok(Line {
                verb: Verb::Edited,
                branch: branch.name.clone(),
                title: pr.title.clone(),
                url: Some(pr.url.clone()),
                detail,
                diff: String::new(),
            });
        }
        // The parent the commit records, not the one the clone's depth shows: at a shallow
        // clone's boundary libgit2 shows none, which read as "behind" and rewrote every branch.
        let head_parent = self
            .repo
            .recorded_parents(head)
            .map_err(git)?
            .first()
            .copied();
        let marker_changed = Marker::find(&pr.body).as_ref() != Some(&branch.marker());
        let same_content =
            self.repo.tree_id(head).map_err(git)? == self.repo.tree_id(commit).map_err(git)?;
        let mut why = Vec::new();
        let short = |oid: Oid| oid.to_string().chars().take(12).collect::<String>();
        let answer;
        let push = if asked == Some(BranchCommand::Recreate) {
            // Asked for: a new commit even when the branch holds the same one (a maintainer
            // may want its checks run again).
            why.push(format!(
                "recreated from the base branch, as asked ({})",
                BranchCommand::Recreate.text()
            ));
            answer = Some(format!(
                "Recreated from `{base}` ({}){}.",
                short(base_head),
                if foreign {
                    format!(", replacing the commits by <{author}>")
                } else {
                    String::new()
                }
            ));
            true
        } else if asked == Some(BranchCommand::Rebase) && head_parent != Some(base_head) {
            why.push(format!(
                "rebased on the base branch, as asked ({})",
                BranchCommand::Rebase.text()
            ));
            answer = Some(format!("Rebased on `{base}` ({}).", short(base_head)));
            true
        } else if head_parent == Some(base_head) {
            answer = (asked == Some(BranchCommand::Rebase)).then(|| {
                format!(
                    "Nothing to rebase: this branch is already on the head of `{base}` ({}).",
                    short(base_head)
                )
            });
            if same_content {
                false
            } else {
                why.push("new commit".to_owned());
                true
            }
        } else {
            answer = None;
            let rebase = match self.config.config.pull_requests.rebase {
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
            if rebase {
                why.push("rebased on the base branch".to_owned());
            } else if marker_changed {
                why.push("new commit".to_owned());
            }
            rebase || marker_changed
        };
        let retitle = pr.title != branch.title || pr.body.replace("\r\n", "\n") != branch.body;
        if retitle {
            why.push(if marker_changed {
                "updates changed".to_owned()
            } else {
                "title or body changed".to_owned()
            });
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
            if let Err(unsaid) = self.answer(pr, &answer).await {
                why.push(unsaid);
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
            detail: why.join(", "),
            diff: if push { diff } else { String::new() },
        })
    }

    /// Answer a command on `pr` with what was done (not in a dry run). A failure is said in
    /// the report, not made the pull request's: what was asked was done.
    async fn answer(&self, pr: &PullRequest, text: &str) -> Result<(), String> {
        if self.settings.dry_run {
            return Ok(());
        }
        self.github.comment(pr.number, text).await.map_err(|e| {
            format!(
                "the answer to the command could not be posted: {}",
                error_chain(&e)
            )
        })
    }

    async fn close(&self, pr: &PullRequest, reason: &str) -> Result<(), PublishError> {
        if self.settings.dry_run {
            return Ok(());
        }
        let text = format!("repin closes this pull request: {reason}.");
        self.github.comment(pr.number, &text).await?;
        self.github
            .update_pull(pr.number, None, None, Some("closed"))
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

    async fn dashboard(&self, report: &Report) -> Result<Option<String>, PublishError> {
        let mut board = Dashboard::default();
        for line in &report.lines {
            let entry = |detail: String| Entry {
                text: line.title.clone(),
                detail,
            };
            match line.verb {
                Verb::Created | Verb::Updated | Verb::Unchanged => board.open.push(entry(
                    line.url.clone().unwrap_or_else(|| line.branch.clone()),
                )),
                Verb::HeldBack => board.held_back.push(entry(line.detail.clone())),
                Verb::Ignored => board
                    .ignored
                    .push(entry(line.url.clone().unwrap_or_default())),
                Verb::Failed => board.errors.push(entry(line.detail.clone())),
                // Still open, just no longer repin's to update.
                Verb::Edited => board.open.push(entry(format!(
                    "{} (someone else pushed to it: repin no longer updates it)",
                    line.url.clone().unwrap_or_else(|| line.branch.clone())
                ))),
                Verb::Closed | Verb::Unrecognised => {}
            }
        }
        let workdir = self.repo.workdir().and_then(|w| w.canonicalize().ok());
        let shown = |file: &Path| {
            workdir
                .as_deref()
                .and_then(|w| relative(file, w))
                .unwrap_or_else(|| file.display().to_string())
        };
        for finding in &self.outcome.findings {
            let (name, current) = self
                .workspace
                .dependency(&finding.file, finding.index)
                .map_or(("", ""), |(_, d)| (d.name.as_str(), d.current.as_str()));
            if let Some(problem) = finding.decision.none.as_ref().filter(|n| n.is_problem()) {
                board.cannot_install.push(Entry {
                    text: format!("`{name} {current}` in `{}`", shown(&finding.file)),
                    detail: problem.describe(),
                });
            }
            if let Some(why) = &finding.decision.yanked {
                let way_off = finding
                    .decision
                    .updates
                    .first()
                    .map(|u| format!("update to {}", u.proposed));
                let detail = [
                    (!why.is_empty()).then(|| format!("\"{why}\"")),
                    Some(way_off.unwrap_or_else(|| "no release to move to".to_owned())),
                ];
                board.yanked.push(Entry {
                    text: format!("`{name} {current}` in `{}`", shown(&finding.file)),
                    detail: detail.into_iter().flatten().collect::<Vec<_>>().join("; "),
                });
            }
            if let Some(unfixed) = &finding.decision.unfixed {
                board.no_fix.push(Entry {
                    text: format!("`{name}` in `{}`", shown(&finding.file)),
                    detail: unfixed.note(),
                });
            }
        }
        for failure in &self.outcome.failures {
            let name = self
                .workspace
                .dependency(&failure.file, failure.index)
                .map_or("", |(_, d)| d.name.as_str());
            board.errors.push(Entry {
                text: format!("`{name}` in `{}`", shown(&failure.file)),
                detail: failure.message.clone(),
            });
        }
        let body = dashboard::render(&board);
        let github = PublishError::GitHub;
        let mut found = self
            .github
            .find_issues(dashboard::MARKER)
            .await
            .map_err(github)?
            .into_iter();
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
