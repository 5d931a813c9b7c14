//! Grouping updates into branches, one pull request each: deterministic branch names, titles,
//! commit messages and bodies.
//!
//! Pure: the same updates always give the same branches, byte for byte, so a second run finds
//! nothing to change. The defaults, from the quietest that is still reviewable:
//!
//! - a **security** update gets its own branch per package (`repin/security/<package>`),
//!   across every file that pins it;
//! - every image **digest** pin and refresh of the repository goes in one branch
//!   (`repin/digests`);
//! - a configured **group** (`group = "aws"` in a rule) collects its updates
//!   (`repin/group/aws`);
//! - otherwise one branch per file, dependency and kind: patch and minor updates share a
//!   branch (`repin/<file>/<dependency>`), a major update, a Python minor bump and an
//!   end-of-life migration each get their own (`repin/<file>/<dependency>-major`...).
//!
//! File paths are flattened into one branch-name component (`services/api/requirements.txt`
//! becomes `services-api-requirements.txt`) so no branch name is a directory of another, which
//! git refuses.

pub mod body;
pub mod marker;

use std::collections::BTreeMap;

use crate::decide::Update;
use crate::versioning::UpdateKind;

pub use marker::{MarkedUpdate, Marker};

/// Every branch repin manages starts with this.
pub const BRANCH_PREFIX: &str = "repin/";

/// The branch of lock maintenance (after [`BRANCH_PREFIX`]).
pub const LOCK_MAINTENANCE: &str = "lock-maintenance";

/// One due update, with where it is.
#[derive(Debug, Clone)]
pub struct Item {
    /// Repository-relative path of the file, with `/` separators.
    pub file: String,
    /// The dependency's index in its manifest.
    pub index: usize,
    /// The 1-based line of the dependency.
    pub line: usize,
    /// The dependency's name (a normalised package name or a full image repository).
    pub name: String,
    /// Whether the dependency is a container image.
    pub image: bool,
    /// The update.
    pub update: Update,
    /// The group a configuration rule puts it in.
    pub group: Option<String>,
    /// A page about the new release (release notes, changelog or project page), when known.
    pub link: Option<String>,
    /// The repository-relative paths of the update's companions (the locks re-locked with
    /// it), in the order of [`Update::companions`].
    pub companions: Vec<String>,
    /// For an update riding with a base image's update ([`Update::rides_with`]): the
    /// repository-relative path of that image's Dockerfile. The item goes on that update's
    /// branch, or on none.
    pub rides_with: Option<String>,
}

impl Item {
    /// Each companion of the update (a lock re-locked with it) with its repository-relative
    /// path (the workspace's path when none was recorded).
    pub fn companion_files(&self) -> impl Iterator<Item = (String, &crate::decide::Companion)> {
        self.update
            .companions
            .iter()
            .enumerate()
            .map(|(n, companion)| {
                let file = self
                    .companions
                    .get(n)
                    .cloned()
                    .unwrap_or_else(|| companion.file.display().to_string());
                (file, companion)
            })
    }
}

/// What an advisory fixed by an update says, for the pull request's body.
#[derive(Debug, Clone, PartialEq)]
pub struct AdvisoryNote {
    /// The advisory's ID.
    pub id: String,
    /// Other IDs (CVE, GHSA).
    pub aliases: Vec<String>,
    /// Rating and score, as text (`HIGH 7.5`).
    pub severity: Option<String>,
    /// One line.
    pub summary: Option<String>,
    /// Where to read it.
    pub url: String,
}

/// How branches are written.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A prefix for titles and commit messages (`chore(deps):`).
    pub commit_prefix: Option<String>,
    /// Labels of every pull request.
    pub labels: Vec<String>,
    /// Labels added to security updates.
    pub security_labels: Vec<String>,
    /// Now, in seconds since the epoch, to turn release ages into release dates.
    pub now: i64,
}

/// What a branch is for; decides its name and title, and which limits apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BranchKind {
    /// Fixes known vulnerabilities.
    Security,
    /// A migration off an end-of-life base image.
    Migration,
    /// A Python minor bump of a base image.
    PythonMinor,
    /// A major update.
    Major,
    /// Patch and minor updates (and range pins) of one dependency.
    Routine,
    /// A configured group.
    Group,
    /// Image digest pins and refreshes.
    Digests,
    /// The full re-locks of `[update] lock-maintenance`, every lock of the repository.
    LockMaintenance,
}

/// A branch to push and the pull request that goes with it.
#[derive(Debug, Clone)]
pub struct Branch {
    /// The branch name (`repin/...`).
    pub name: String,
    /// What it is for.
    pub kind: BranchKind,
    /// The pull request's title (and the commit's first line).
    pub title: String,
    /// The commit message.
    pub commit_message: String,
    /// The pull request's body, ending with the [`Marker`].
    pub body: String,
    /// Labels to set.
    pub labels: Vec<String>,
    /// The updates, in file and line order.
    pub items: Vec<Item>,
}

impl Branch {
    /// Whether it fixes known vulnerabilities (exempt from limits, never ignored).
    pub fn is_security(&self) -> bool {
        self.kind == BranchKind::Security
    }

    /// Whether pull request limits may not hold it back: it fixes known vulnerabilities or moves
    /// a yanked pin.
    pub fn is_urgent(&self) -> bool {
        self.is_security() || self.items.iter().any(|i| i.update.is_urgent())
    }

    /// The marker of this branch's body.
    pub fn marker(&self) -> Marker {
        marker_of(&self.name, self.is_security(), &self.items)
    }
}

fn marker_of(name: &str, security: bool, items: &[Item]) -> Marker {
    Marker {
        branch: name.to_owned(),
        security,
        updates: items
            .iter()
            .map(|i| MarkedUpdate {
                file: i.file.clone(),
                name: i.name.clone(),
                kind: i.update.kind.to_string(),
                from: i.update.current.clone(),
                to: i.update.proposed.clone(),
            })
            .collect(),
        ignore: None,
    }
}

/// The name people know a dependency by: Docker Hub's official images without
/// `docker.io/library/`, other names as they are.
pub fn display_name(name: &str) -> &str {
    name.strip_prefix("docker.io/library/").unwrap_or(name)
}

/// A branch-name component: characters git or shells dislike become `-`, and no component
/// starts with `.` or ends with `.lock`.
fn slug(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    while out.contains("..") {
        out = out.replace("..", ".");
    }
    let mut out = out.trim_matches(['.', '-']).to_owned();
    if out.ends_with(".lock") {
        out.push('_');
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}

fn kind_of(item: &Item) -> BranchKind {
    if item.update.is_security() {
        return BranchKind::Security;
    }
    // A re-lock is grouped as the pin update it was made for; lock maintenance on its own.
    let kind = match (&item.update.kind, &item.update.change) {
        (UpdateKind::Lock, crate::manifest::edit::Change::Relock(relock)) => {
            match relock.update_kind {
                Some(kind) => kind,
                None => return BranchKind::LockMaintenance,
            }
        }
        (kind, _) => *kind,
    };
    match kind {
        UpdateKind::Migration => BranchKind::Migration,
        UpdateKind::PythonMinor => BranchKind::PythonMinor,
        UpdateKind::Digest => BranchKind::Digests,
        UpdateKind::Pin if item.image => BranchKind::Digests,
        _ if item.group.is_some() => BranchKind::Group,
        UpdateKind::Major => BranchKind::Major,
        UpdateKind::Patch | UpdateKind::Minor | UpdateKind::Pin | UpdateKind::Lock => {
            BranchKind::Routine
        }
    }
}

fn branch_name(kind: BranchKind, item: &Item) -> String {
    let dependency = slug(display_name(&item.name));
    let file = slug(&item.file);
    let tail = match kind {
        BranchKind::Security => format!("security/{dependency}"),
        BranchKind::Digests => "digests".to_owned(),
        BranchKind::Group => format!("group/{}", slug(item.group.as_deref().unwrap_or(""))),
        BranchKind::Routine => format!("{file}/{dependency}"),
        BranchKind::Major => format!("{file}/{dependency}-major"),
        BranchKind::PythonMinor => format!("{file}/{dependency}-python-minor"),
        BranchKind::Migration => format!("{file}/{dependency}-migration"),
        BranchKind::LockMaintenance => LOCK_MAINTENANCE.to_owned(),
    };
    format!("{BRANCH_PREFIX}{tail}")
}

fn title(kind: BranchKind, name: &str, items: &[Item]) -> String {
    let first = &items[0];
    let dependency = display_name(&first.name);
    let to = &first.update.proposed;
    match kind {
        BranchKind::Security => format!("Security: update {dependency} to {to}"),
        BranchKind::Migration => {
            format!(
                "Migrate {dependency} image from {} to {to}",
                first.update.current
            )
        }
        BranchKind::PythonMinor => format!("Update {dependency} image to {to}"),
        BranchKind::LockMaintenance => "Lock file maintenance".to_owned(),
        BranchKind::Major | BranchKind::Routine => format!("Update {dependency} to {to}"),
        BranchKind::Group => {
            let group = name.rsplit('/').next().unwrap_or(name);
            let n = items.len();
            format!(
                "Update {group} group ({n} update{})",
                if n == 1 { "" } else { "s" }
            )
        }
        BranchKind::Digests => {
            let pins = items.iter().all(|i| i.update.kind == UpdateKind::Pin);
            let refreshes = items.iter().all(|i| i.update.kind != UpdateKind::Pin);
            let mut images: Vec<&str> = items.iter().map(|i| display_name(&i.name)).collect();
            images.dedup();
            let what = if images.len() == 1 {
                format!("{} image digests", images[0])
            } else {
                "image digests".to_owned()
            };
            match (pins, refreshes) {
                (true, _) => format!("Pin {what}"),
                (_, true) => format!("Update {what}"),
                _ => format!("Pin and update {what}"),
            }
        }
    }
}

/// Group `items` into branches. `advisories` describes the advisories security updates fix.
/// Branches come sorted by name; within a branch, items by file and line (the updates riding
/// with a base image's update after the rest), and a dependency appears at most once (its first
/// update wins: a branch holds one change per place). An update riding with a base image's
/// update goes on that update's branch, and on none when it is not among `items`.
pub fn plan(
    items: &[Item],
    advisories: &BTreeMap<String, AdvisoryNote>,
    options: &Options,
) -> Vec<Branch> {
    let mut by_branch: BTreeMap<String, (BranchKind, Vec<Item>)> = BTreeMap::new();
    // The branch of each base image update that others ride with, by (file, index, proposed).
    let carriers: BTreeMap<(&str, usize, &str), (BranchKind, String)> = items
        .iter()
        .filter(|i| i.rides_with.is_none())
        .map(|i| {
            let kind = kind_of(i);
            (
                (i.file.as_str(), i.index, i.update.proposed.as_str()),
                (kind, branch_name(kind, i)),
            )
        })
        .collect();
    for item in items {
        let (kind, name) = match (&item.rides_with, &item.update.rides_with) {
            (Some(file), Some(rides)) => {
                let key = (file.as_str(), rides.index, rides.proposed.as_str());
                match carriers.get(&key) {
                    Some((kind, name)) => (*kind, name.clone()),
                    // Its image update is not proposed here: never alone.
                    None => continue,
                }
            }
            (None, None) => {
                let kind = kind_of(item);
                (kind, branch_name(kind, item))
            }
            _ => continue,
        };
        let entry = by_branch.entry(name).or_insert_with(|| (kind, Vec::new()));
        if !entry
            .1
            .iter()
            .any(|i| i.file == item.file && i.index == item.index)
        {
            entry.1.push(item.clone());
        }
    }
    by_branch
        .into_iter()
        .map(|(name, (kind, mut items))| {
            // The updates riding with a base image's come after it (it names the branch).
            items.sort_by(|a, b| {
                (a.rides_with.is_some(), &a.file, a.line, a.index).cmp(&(
                    b.rides_with.is_some(),
                    &b.file,
                    b.line,
                    b.index,
                ))
            });
            let plain_title = title(kind, &name, &items);
            let title = match &options.commit_prefix {
                Some(prefix) => format!("{} {plain_title}", prefix.trim_end()),
                None => plain_title,
            };
            let marker = marker_of(&name, kind == BranchKind::Security, &items);
            let body = body::render(&items, advisories, options.now, &marker);
            let commit_message = body::commit_message(&title, &items);
            let mut labels = options.labels.clone();
            if kind == BranchKind::Security {
                labels.extend(options.security_labels.iter().cloned());
            }
            labels.sort();
            labels.dedup();
            Branch {
                name,
                kind,
                title,
                commit_message,
                body,
                labels,
                items,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
