//! Git: build update commits without touching anyone's working tree, and push them.
//!
//! A branch's commit is made from the base branch's head commit: the edited files are written
//! as blobs into a copy of the base tree, and the commit points at that tree with the base as
//! its only parent. Neither the index nor the working tree of the repository is read or
//! changed, so the same code serves an existing checkout (the Action) and a fresh shallow clone
//! (the bot).
//!
//! A remote is someone else's: a clone or fetch takes at most [`Limits`] from it, and the token
//! answers only a request to the remote's own origin.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use git2::Oid;

/// Errors from git operations. Remote URLs in them are redacted.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The repository cannot be opened or created.
    #[error("Cannot open the git repository at `{path}`")]
    Open {
        /// Where.
        path: PathBuf,
        /// Why.
        #[source]
        source: git2::Error,
    },
    /// A reference does not exist.
    #[error("The git reference `{0}` does not exist")]
    NoSuchRef(String),
    /// Talking to a remote failed.
    #[error("Cannot {action} `{remote}`")]
    Remote {
        /// `fetch from`, `push to`, `list`.
        action: &'static str,
        /// The remote URL, redacted.
        remote: String,
        /// Why (credentials redacted).
        #[source]
        source: git2::Error,
    },
    /// The remote refused the push of a branch.
    #[error("The push of `{branch}` to `{remote}` was rejected: {reason}")]
    Rejected {
        /// The branch.
        branch: String,
        /// The remote, redacted.
        remote: String,
        /// The remote's reason.
        reason: String,
    },
    /// A remote sent more than repin takes from one, or a clone's files add up to more.
    #[error("Cannot {action} `{remote}`: {what} more than {limit}, repin's limit")]
    TooLarge {
        /// `clone`, `fetch from`.
        action: &'static str,
        /// The remote URL, redacted.
        remote: String,
        /// `it sent`, `its files add up to`.
        what: &'static str,
        /// The limit, as a size or a count.
        limit: String,
    },
    /// Any other git failure.
    #[error("Git failed while trying to {action}")]
    Git {
        /// What repin was doing.
        action: &'static str,
        /// Why.
        #[source]
        source: git2::Error,
    },
}

fn git(action: &'static str) -> impl FnOnce(git2::Error) -> GitError {
    move |source| GitError::Git { action, source }
}

/// Who authors and commits update commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
}

impl Default for Identity {
    /// repin's bot identity.
    fn default() -> Self {
        Identity {
            name: "repin[bot]".into(),
            email: "repin[bot]@users.noreply.github.com".into(),
        }
    }
}

/// How to authenticate to a remote: a token for HTTPS (GitHub accepts it as the password of
/// the user `x-access-token`), or nothing (local and `git://` remotes).
#[derive(Clone, Default)]
pub struct Credentials {
    /// The token.
    pub token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.token.is_some() {
            "Credentials(token: ***)"
        } else {
            "Credentials(none)"
        })
    }
}

impl Credentials {
    /// Callbacks for talking to `remote`, that answer a credential request once, and only for
    /// `remote`'s own origin (scheme, host, port). libgit2 follows a redirect of the first
    /// request and asks again for the URL it was sent to: a git server, or anyone who can
    /// redirect it, would get the token for another host. A second request for the same
    /// operation means the token was refused, and answering again would loop forever.
    fn callbacks_for(&self, remote: &str) -> git2::RemoteCallbacks<'_> {
        let mut callbacks = git2::RemoteCallbacks::new();
        let origin = url::Url::parse(remote).ok();
        let mut asked = false;
        callbacks.credentials(move |url, _username, allowed| {
            if asked {
                return Err(git2::Error::from_str("The token was refused"));
            }
            asked = true;
            let same_origin = match (&origin, url::Url::parse(url)) {
                (Some(origin), Ok(url)) => crate::registry::http::origin::same(origin, &url),
                _ => false,
            };
            match &self.token {
                Some(_) if !same_origin => Err(git2::Error::from_str(&format!(
                    "The token is only sent to the remote's own origin, not to `{}`",
                    redact_remote(url)
                ))),
                Some(token) if allowed.contains(git2::CredentialType::USER_PASS_PLAINTEXT) => {
                    git2::Cred::userpass_plaintext("x-access-token", token)
                }
                _ => Err(git2::Error::from_str("No credentials for this remote")),
            }
        });
        callbacks
    }
}

/// How much a clone or fetch takes from a remote. A repository is someone else's: a shallow
/// clone of one can still be of any size, and its files can unpack to a thousand times what was
/// sent (zlib), so both are bounded, and a clone's files are counted before any is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes received from the remote by one clone or fetch.
    pub received_bytes: usize,
    /// The size of the files a clone checks out, added up.
    pub checkout_bytes: u64,
    /// The number of files a clone checks out.
    pub checkout_files: usize,
}

impl Default for Limits {
    /// 4 GiB received, 8 GiB and a million files checked out: far above a service repository,
    /// far below a full disk.
    fn default() -> Self {
        Limits {
            received_bytes: 4 << 30,
            checkout_bytes: 8 << 30,
            checkout_files: 1_000_000,
        }
    }
}

/// `bytes` as repin writes a limit: whole KiB, MiB or GiB when it is one, else bytes.
fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// `callbacks` that stop a transfer once more than `limit` bytes were received, setting
/// `exceeded` (libgit2 then reports only that the transfer was cancelled).
fn received_at_most<'a>(
    mut callbacks: git2::RemoteCallbacks<'a>,
    limit: usize,
    exceeded: &'a std::cell::Cell<bool>,
) -> git2::RemoteCallbacks<'a> {
    callbacks.transfer_progress(move |progress| {
        let within = progress.received_bytes() <= limit;
        if !within {
            exceeded.set(true);
        }
        within
    });
    callbacks
}

/// A file to write (or delete, with `None`) in an update commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Path relative to the repository root, with `/` separators.
    pub path: String,
    /// New content, or `None` to delete.
    pub content: Option<Vec<u8>>,
}

/// A repository opened by repin.
pub struct Repository {
    inner: git2::Repository,
}

impl std::fmt::Debug for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Repository({})", self.inner.path().display())
    }
}

fn redact_remote(url: &str) -> String {
    crate::vocab::redact::text(url)
}

impl Repository {
    /// Open the repository containing `path` (a working tree or a bare repository).
    pub fn open(path: &Path) -> Result<Self, GitError> {
        git2::Repository::discover(path)
            .map(|inner| Repository { inner })
            .map_err(|source| GitError::Open {
                path: path.to_path_buf(),
                source,
            })
    }

    /// Create an empty bare repository at `path` (for the bot's scratch clones and for tests).
    pub fn init_bare(path: &Path) -> Result<Self, GitError> {
        git2::Repository::init_bare(path)
            .map(|inner| Repository { inner })
            .map_err(|source| GitError::Open {
                path: path.to_path_buf(),
                source,
            })
    }

    /// Fetch `branch` of `remote` into `refs/remotes/repin/<branch>` (shallow when `depth` is
    /// given) and return its head commit.
    pub fn fetch_branch(
        &self,
        remote: &str,
        branch: &str,
        depth: Option<i32>,
        credentials: &Credentials,
    ) -> Result<Oid, GitError> {
        let limit = Limits::default().received_bytes;
        let exceeded = std::cell::Cell::new(false);
        let mut options = git2::FetchOptions::new();
        options.remote_callbacks(received_at_most(
            credentials.callbacks_for(remote),
            limit,
            &exceeded,
        ));
        if let Some(depth) = depth {
            options.depth(depth);
        }
        let mut anonymous = self
            .inner
            .remote_anonymous(remote)
            .map_err(git("set up the remote"))?;
        let tracking = format!("refs/remotes/repin/{branch}");
        let refspec = format!("+refs/heads/{branch}:{tracking}");
        let fetched = anonymous.fetch(&[refspec.as_str()], Some(&mut options), None);
        drop(options);
        fetched.map_err(|source| {
            if exceeded.get() {
                GitError::TooLarge {
                    action: "fetch from",
                    remote: redact_remote(remote),
                    what: "it sent",
                    limit: size(limit as u64),
                }
            } else {
                GitError::Remote {
                    action: "fetch from",
                    remote: redact_remote(remote),
                    source,
                }
            }
        })?;
        self.resolve(&tracking)?
            .ok_or(GitError::NoSuchRef(tracking))
    }

    /// The heads of every branch of `remote` (`git ls-remote --heads`).
    pub fn remote_heads(
        &self,
        remote: &str,
        credentials: &Credentials,
    ) -> Result<BTreeMap<String, Oid>, GitError> {
        let mut anonymous = self
            .inner
            .remote_anonymous(remote)
            .map_err(git("set up the remote"))?;
        let connection = anonymous
            .connect_auth(
                git2::Direction::Fetch,
                Some(credentials.callbacks_for(remote)),
                None,
            )
            .map_err(|source| GitError::Remote {
                action: "list",
                remote: redact_remote(remote),
                source,
            })?;
        let heads = connection
            .list()
            .map_err(git("list remote branches"))?
            .iter()
            .filter_map(|head| {
                head.name()
                    .strip_prefix("refs/heads/")
                    .map(|branch| (branch.to_owned(), head.oid()))
            })
            .collect();
        Ok(heads)
    }

    /// Clone the default branch of `remote` into `dir` (which must not exist or be empty),
    /// shallow with `depth` commits when given, within the default [`Limits`]: the bot's
    /// scratch checkout of a repository it serves.
    pub fn clone(
        remote: &str,
        dir: &Path,
        depth: Option<i32>,
        credentials: &Credentials,
    ) -> Result<Self, GitError> {
        Repository::clone_within(remote, dir, depth, credentials, Limits::default())
    }

    /// [`Repository::clone`] within `limits`: the transfer stops past
    /// [`Limits::received_bytes`], and the files are checked out only when their sizes (read
    /// from the object headers, nothing unpacked) and number are within the limits.
    pub fn clone_within(
        remote: &str,
        dir: &Path,
        depth: Option<i32>,
        credentials: &Credentials,
        limits: Limits,
    ) -> Result<Self, GitError> {
        let too_large = |what, limit| GitError::TooLarge {
            action: "clone",
            remote: redact_remote(remote),
            what,
            limit,
        };
        let exceeded = std::cell::Cell::new(false);
        let mut options = git2::FetchOptions::new();
        options.remote_callbacks(received_at_most(
            credentials.callbacks_for(remote),
            limits.received_bytes,
            &exceeded,
        ));
        // libgit2's local transport cannot fetch shallow; a local clone is cheap anyway.
        let local = !remote.contains("://") || remote.starts_with("file://");
        if let (Some(depth), false) = (depth, local) {
            options.depth(depth);
        }
        // Fetched without a checkout: the files are counted first.
        let mut nothing = git2::build::CheckoutBuilder::new();
        nothing.dry_run();
        let cloned = git2::build::RepoBuilder::new()
            .fetch_options(options)
            .with_checkout(nothing)
            .clone(remote, dir);
        let repository = match cloned {
            Ok(inner) => Repository { inner },
            Err(_) if exceeded.get() => {
                return Err(too_large("it sent", size(limits.received_bytes as u64)));
            }
            Err(source) => {
                return Err(GitError::Remote {
                    action: "clone",
                    remote: redact_remote(remote),
                    source,
                });
            }
        };
        // An empty repository has nothing to check out (as `git clone` says of one).
        if repository.inner.is_empty().unwrap_or(false) {
            return Ok(repository);
        }
        let (bytes, files) = repository.head_files_size()?;
        if bytes > limits.checkout_bytes {
            return Err(too_large(
                "its files add up to",
                size(limits.checkout_bytes),
            ));
        }
        if files > limits.checkout_files {
            return Err(too_large(
                "its files number",
                format!("{} files", limits.checkout_files),
            ));
        }
        let mut checkout = git2::build::CheckoutBuilder::new();
        checkout.force();
        repository
            .inner
            .checkout_head(Some(&mut checkout))
            .map_err(git("check out the clone"))?;
        Ok(repository)
    }

    /// The size of the files of `HEAD`'s tree, added up from the object headers (a blob is
    /// not unpacked to be measured), and their number.
    fn head_files_size(&self) -> Result<(u64, usize), GitError> {
        let tree = self
            .inner
            .head()
            .and_then(|head| head.peel_to_tree())
            .map_err(git("read the clone's head"))?;
        let odb = self.inner.odb().map_err(git("read the clone's objects"))?;
        let mut bytes = 0u64;
        let mut files = 0usize;
        let mut failed = None;
        let walked = tree.walk(git2::TreeWalkMode::PreOrder, |_, entry| {
            if entry.kind() != Some(git2::ObjectType::Blob) {
                return git2::TreeWalkResult::Ok;
            }
            match odb.read_header(entry.id()) {
                Ok((size, _)) => {
                    bytes = bytes.saturating_add(size as u64);
                    files += 1;
                    git2::TreeWalkResult::Ok
                }
                Err(e) => {
                    failed = Some(e);
                    git2::TreeWalkResult::Abort
                }
            }
        });
        // An object that cannot be read aborts the walk: its own error says why.
        match (failed, walked) {
            (Some(source), _) | (None, Err(source)) => Err(GitError::Git {
                action: "read the clone's files",
                source,
            }),
            (None, Ok(())) => Ok((bytes, files)),
        }
    }

    /// The working tree's root, `None` for a bare repository.
    pub fn workdir(&self) -> Option<&Path> {
        self.inner.workdir()
    }

    /// Whether the repository is a shallow clone (then fetches stay shallow too).
    pub fn is_shallow(&self) -> bool {
        self.inner.is_shallow()
    }

    /// Delete `branch` on `remote` (a closed pull request's branch).
    pub fn delete_remote_branch(
        &self,
        remote: &str,
        branch: &str,
        credentials: &Credentials,
    ) -> Result<(), GitError> {
        let refspec = format!(":refs/heads/{branch}");
        let mut options = git2::PushOptions::new();
        options.remote_callbacks(credentials.callbacks_for(remote));
        let mut anonymous = self
            .inner
            .remote_anonymous(remote)
            .map_err(git("set up the remote"))?;
        anonymous
            .push(&[refspec.as_str()], Some(&mut options))
            .map_err(|source| GitError::Remote {
                action: "delete a branch on",
                remote: redact_remote(remote),
                source,
            })
    }

    /// Resolve a reference or revision to a commit id, `None` when it does not exist.
    pub fn resolve(&self, name: &str) -> Result<Option<Oid>, GitError> {
        match self.inner.revparse_single(name) {
            Ok(object) => object
                .peel_to_commit()
                .map(|c| Some(c.id()))
                .map_err(git("resolve a revision")),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(GitError::Git {
                action: "resolve a revision",
                source: e,
            }),
        }
    }

    /// The content of `path` in `commit`, `None` when the file is not there.
    pub fn read_file(&self, commit: Oid, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        let tree = self.commit_tree(commit)?;
        match tree.get_path(Path::new(path)) {
            Ok(entry) => {
                let blob = self
                    .inner
                    .find_blob(entry.id())
                    .map_err(git("read a file"))?;
                Ok(Some(blob.content().to_vec()))
            }
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(GitError::Git {
                action: "read a file",
                source: e,
            }),
        }
    }

    /// The tree id of a commit.
    pub fn tree_id(&self, commit: Oid) -> Result<Oid, GitError> {
        Ok(self.commit_tree(commit)?.id())
    }

    /// The parents of a commit.
    pub fn parents(&self, commit: Oid) -> Result<Vec<Oid>, GitError> {
        let commit = self
            .inner
            .find_commit(commit)
            .map_err(git("read a commit"))?;
        Ok(commit.parent_ids().collect())
    }

    /// The parents a commit records in its own object, whatever the clone's depth. In a
    /// shallow clone, libgit2 hides the parents of a commit at the clone's boundary (a graft),
    /// so [`Repository::parents`] can be empty there although the commit has parents: a
    /// decision that compares a commit's parent with another commit reads these.
    pub fn recorded_parents(&self, commit: Oid) -> Result<Vec<Oid>, GitError> {
        let commit = self
            .inner
            .find_commit(commit)
            .map_err(git("read a commit"))?;
        let header = commit.raw_header_bytes();
        Ok(header
            .split(|b| *b == b'\n')
            .filter_map(|line| line.strip_prefix(b"parent "))
            .filter_map(|hex| std::str::from_utf8(hex).ok())
            .filter_map(|hex| Oid::from_str(hex.trim()).ok())
            .collect())
    }

    /// The author's email of a commit (to tell repin's commits from other people's).
    pub fn author_email(&self, commit: Oid) -> Result<String, GitError> {
        let commit = self
            .inner
            .find_commit(commit)
            .map_err(git("read a commit"))?;
        Ok(commit.author().email().unwrap_or("").to_owned())
    }

    /// The message of a commit.
    pub fn message(&self, commit: Oid) -> Result<String, GitError> {
        let commit = self
            .inner
            .find_commit(commit)
            .map_err(git("read a commit"))?;
        Ok(commit.message().unwrap_or("").to_owned())
    }

    fn commit_tree(&self, commit: Oid) -> Result<git2::Tree<'_>, GitError> {
        self.inner
            .find_commit(commit)
            .and_then(|c| c.tree())
            .map_err(git("read a commit"))
    }

    /// Write `changes` on top of `parent`'s tree and commit the result with `parent` as the
    /// only parent. No reference, index or working file is touched; the new commit's id is
    /// returned. A changed file keeps its mode (an executable stays executable).
    pub fn commit_files(
        &self,
        parent: Oid,
        changes: &[FileChange],
        message: &str,
        author: &Identity,
        committer: &Identity,
    ) -> Result<Oid, GitError> {
        let base = self.commit_tree(parent)?;
        let mut update = git2::build::TreeUpdateBuilder::new();
        for change in changes {
            match &change.content {
                Some(bytes) => {
                    let blob = self.inner.blob(bytes).map_err(git("write a file"))?;
                    let mode = base.get_path(Path::new(&change.path)).ok().map_or(
                        git2::FileMode::Blob,
                        |entry| {
                            if entry.filemode() == i32::from(git2::FileMode::BlobExecutable) {
                                git2::FileMode::BlobExecutable
                            } else {
                                git2::FileMode::Blob
                            }
                        },
                    );
                    update.upsert(&change.path, blob, mode);
                }
                None => {
                    update.remove(&change.path);
                }
            }
        }
        let tree_id = update
            .create_updated(&self.inner, &base)
            .map_err(git("write a tree"))?;
        let tree = self.inner.find_tree(tree_id).map_err(git("write a tree"))?;
        let parent_commit = self
            .inner
            .find_commit(parent)
            .map_err(git("read a commit"))?;
        let author =
            git2::Signature::now(&author.name, &author.email).map_err(git("sign a commit"))?;
        let committer = git2::Signature::now(&committer.name, &committer.email)
            .map_err(git("sign a commit"))?;
        self.inner
            .commit(None, &author, &committer, message, &tree, &[&parent_commit])
            .map_err(git("write a commit"))
    }

    /// Push `commit` to `branch` on `remote`; `force` replaces a branch that moved elsewhere
    /// (repin's own branches, updated in place).
    pub fn push(
        &self,
        remote: &str,
        commit: Oid,
        branch: &str,
        force: bool,
        credentials: &Credentials,
    ) -> Result<(), GitError> {
        // A push refspec needs a local reference to push from.
        let local = format!("refs/repin/push/{branch}");
        self.inner
            .reference(&local, commit, true, "repin: prepare push")
            .map_err(git("prepare a push"))?;
        let refspec = format!(
            "{}{local}:refs/heads/{branch}",
            if force { "+" } else { "" }
        );
        let rejected = std::cell::RefCell::new(None::<String>);
        let mut callbacks = credentials.callbacks_for(remote);
        callbacks.push_update_reference(|_name, status| {
            if let Some(status) = status {
                *rejected.borrow_mut() = Some(status.to_owned());
            }
            Ok(())
        });
        let mut options = git2::PushOptions::new();
        options.remote_callbacks(callbacks);
        let mut anonymous = self
            .inner
            .remote_anonymous(remote)
            .map_err(git("set up the remote"))?;
        let result = anonymous.push(&[refspec.as_str()], Some(&mut options));
        drop(options);
        let _ = self
            .inner
            .find_reference(&local)
            .and_then(|mut r| r.delete());
        result.map_err(|source| GitError::Remote {
            action: "push to",
            remote: redact_remote(remote),
            source,
        })?;
        if let Some(reason) = rejected.into_inner() {
            return Err(GitError::Rejected {
                branch: branch.to_owned(),
                remote: redact_remote(remote),
                reason,
            });
        }
        Ok(())
    }
}

impl crate::error::Hint for GitError {}

#[cfg(test)]
mod tests;
