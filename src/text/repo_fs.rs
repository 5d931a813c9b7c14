//! Reading and writing the files of a repository that may be hostile.
//!
//! Every file repin reads because a repository names it (a manifest found by the walk, an
//! `-r`/`-c` include, `repin.toml`, the input and output of `repin lock`) goes through a
//! [`RepoRoot`]: the path is normalised lexically, then resolved one component at a time from
//! the file system's root, following symbolic links, and refused as soon as it has entered the
//! repository and leaves it again, or when it never enters it. What is read must be a regular
//! file (never a FIFO, a device, a socket or a directory), never on `/proc`, `/sys` or `/dev`,
//! and no larger than [`MAX_FILE_SIZE`]. Files are opened non-blocking and without following a
//! last symbolic link, and checked again after opening, so a file swapped for a FIFO between the
//! check and the open cannot block a run.
//!
//! Errors name paths, never the content of a refused file (nothing is read from one).

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// The largest file repin reads from a repository: far above any real manifest, far below what
/// would let a hostile file make a run's memory grow without bound.
pub const MAX_FILE_SIZE: u64 = 16 << 20;

/// How many symbolic links one path may go through (Linux's own limit).
const MAX_LINKS: usize = 40;

/// File systems whose files are not files: a process's environment, kernel state, devices.
const SYSTEM_DIRS: &[&str] = &["/proc", "/sys", "/dev"];

/// Why a repository path was refused or could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RepoFsError {
    /// The path lies outside the repository.
    #[error("`{path}` is outside the repository `{root}`")]
    Outside {
        /// The path, normalised.
        path: PathBuf,
        /// The repository root.
        root: PathBuf,
    },
    /// A symbolic link on the way leads outside the repository.
    #[error(
        "`{path}` goes through the symbolic link `{link}`, which leads outside the repository `{root}`"
    )]
    LinkLeaves {
        /// The path, normalised.
        path: PathBuf,
        /// The link.
        link: PathBuf,
        /// The repository root.
        root: PathBuf,
    },
    /// Too many symbolic links (a loop, most likely).
    #[error("`{path}` goes through more than {MAX_LINKS} symbolic links")]
    TooManyLinks {
        /// The path.
        path: PathBuf,
    },
    /// The path is a FIFO, a device, a socket or a directory.
    #[error("`{path}` is {kind}, not a regular file")]
    NotRegular {
        /// The path.
        path: PathBuf,
        /// What it is (`a FIFO`, `a character device`...).
        kind: &'static str,
    },
    /// The path is on `/proc`, `/sys` or `/dev`.
    #[error(
        "`{path}` is on a system file system (`/proc`, `/sys`, `/dev`), which repin never reads"
    )]
    System {
        /// The path.
        path: PathBuf,
    },
    /// The file is larger than repin reads.
    #[error("`{path}` is larger than {limit} bytes")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// The repository root cannot be resolved.
    #[error("Cannot use `{path}` as the repository root")]
    Root {
        /// The root given.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Reading failed (the file does not exist, permissions).
    #[error("Cannot read `{path}`")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Writing failed.
    #[error("Cannot write `{path}`")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl RepoFsError {
    /// Whether the path simply does not exist (a missing include, no `repin.toml`).
    pub fn is_not_found(&self) -> bool {
        matches!(self, RepoFsError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }

    /// Whether repin refused the path (as opposed to the file system failing).
    pub fn is_refused(&self) -> bool {
        matches!(
            self,
            RepoFsError::Outside { .. }
                | RepoFsError::LinkLeaves { .. }
                | RepoFsError::TooManyLinks { .. }
                | RepoFsError::NotRegular { .. }
                | RepoFsError::System { .. }
                | RepoFsError::TooLarge { .. }
        )
    }

    /// The path the error is about.
    pub fn path(&self) -> &Path {
        match self {
            RepoFsError::Outside { path, .. }
            | RepoFsError::LinkLeaves { path, .. }
            | RepoFsError::TooManyLinks { path }
            | RepoFsError::NotRegular { path, .. }
            | RepoFsError::System { path }
            | RepoFsError::TooLarge { path, .. }
            | RepoFsError::Root { path, .. }
            | RepoFsError::Read { path, .. }
            | RepoFsError::Write { path, .. } => path,
        }
    }

    /// What the user can do about it, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            RepoFsError::Outside { root, .. } | RepoFsError::LinkLeaves { root, .. } => {
                Some(format!(
                    "repin reads and writes only inside the repository root `{}` (the git work tree \
                 holding the path it was given, else that path)",
                    root.display()
                ))
            }
            _ => None,
        }
    }
}

/// A repository's root directory, resolved once, and the only door to the files inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoRoot {
    /// The root with every symbolic link resolved.
    canonical: PathBuf,
    /// The root as given, absolute and normalised (it may go through links above the root).
    given: PathBuf,
}

impl RepoRoot {
    /// The root `dir` (a directory), canonicalised now.
    pub fn new(dir: &Path) -> Result<RepoRoot, RepoFsError> {
        let root_error = |source| RepoFsError::Root {
            path: dir.to_path_buf(),
            source,
        };
        let given = normalise(&std::path::absolute(dir).map_err(root_error)?);
        let canonical = dir.canonicalize().map_err(root_error)?;
        Ok(RepoRoot { canonical, given })
    }

    /// The repository root of a path repin was given: the git work tree that holds it (the
    /// nearest directory at or above it with a `.git`), else the path itself when it is a
    /// directory, else the file's directory.
    pub fn of(path: &Path) -> Result<RepoRoot, RepoFsError> {
        let absolute =
            normalise(
                &std::path::absolute(path).map_err(|source| RepoFsError::Root {
                    path: path.to_path_buf(),
                    source,
                })?,
            );
        let dir = if absolute.is_dir() {
            absolute.as_path()
        } else {
            absolute.parent().unwrap_or(&absolute)
        };
        let work_tree = dir
            .ancestors()
            .find(|a| std::fs::symlink_metadata(a.join(".git")).is_ok());
        RepoRoot::new(work_tree.unwrap_or(dir))
    }

    /// The root, symbolic links resolved.
    pub fn path(&self) -> &Path {
        &self.canonical
    }

    /// The root as it was given, absolute and normalised (it may go through links).
    pub fn given(&self) -> &Path {
        &self.given
    }

    /// Resolve `path` inside the repository: every symbolic link followed, `..` applied, and the
    /// result checked to stay inside. The last component may not exist (a file to create); any
    /// other missing component is a `Read` error with `NotFound`.
    pub fn resolve(&self, path: &Path) -> Result<Resolved, RepoFsError> {
        let absolute =
            normalise(
                &std::path::absolute(path).map_err(|source| RepoFsError::Read {
                    path: path.to_path_buf(),
                    source,
                })?,
            );
        let outside = || RepoFsError::Outside {
            path: absolute.clone(),
            root: self.canonical.clone(),
        };
        // A path below the root (as given or canonical) starts from the canonical root, resolved
        // once; any other is walked from `/`, and must enter the root to be read.
        let below = absolute
            .strip_prefix(&self.canonical)
            .or_else(|_| absolute.strip_prefix(&self.given));
        let (mut current, mut pending): (PathBuf, VecDeque<OsString>) = match below {
            Ok(rest) => (self.canonical.clone(), components(rest).into()),
            Err(_) => (PathBuf::from("/"), components(&absolute).into()),
        };
        let mut inside = current.starts_with(&self.canonical);
        let mut links = 0usize;
        let mut last_link: Option<PathBuf> = None;
        while let Some(part) = pending.pop_front() {
            if part == ".." {
                current.pop();
            } else if part != "." {
                let next = current.join(&part);
                match std::fs::symlink_metadata(&next) {
                    Ok(meta) if meta.file_type().is_symlink() => {
                        links += 1;
                        if links > MAX_LINKS {
                            return Err(RepoFsError::TooManyLinks { path: absolute });
                        }
                        let target =
                            std::fs::read_link(&next).map_err(|source| RepoFsError::Read {
                                path: next.clone(),
                                source,
                            })?;
                        let leaves = || RepoFsError::LinkLeaves {
                            path: absolute.clone(),
                            link: next.clone(),
                            root: self.canonical.clone(),
                        };
                        let rest: Vec<OsString> = if target.is_absolute() {
                            let below = target
                                .strip_prefix(&self.canonical)
                                .or_else(|_| target.strip_prefix(&self.given));
                            match below {
                                Ok(below) => {
                                    current.clone_from(&self.canonical);
                                    inside = true;
                                    components(below)
                                }
                                Err(_) if inside => return Err(leaves()),
                                Err(_) => {
                                    current = PathBuf::from("/");
                                    components(&target)
                                }
                            }
                        } else {
                            components(&target)
                        };
                        for name in rest.into_iter().rev() {
                            pending.push_front(name);
                        }
                        // Links above the root (on the way to it) are not the repository's.
                        if inside {
                            last_link = Some(next);
                        }
                        continue;
                    }
                    Ok(_) => current = next,
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                        current = next;
                        if pending.iter().any(|p| p != "." && p != "..") {
                            return Err(RepoFsError::Read {
                                path: absolute,
                                source: error,
                            });
                        }
                        // The last component is missing: apply any `..` left lexically, so
                        // the check below still holds.
                        for p in pending.drain(..) {
                            if p == ".." {
                                current.pop();
                            }
                        }
                        return self.finish(current, inside, last_link, &absolute, false);
                    }
                    Err(source) => {
                        return Err(RepoFsError::Read {
                            path: absolute,
                            source,
                        });
                    }
                }
            }
            if current.starts_with(&self.canonical) {
                inside = true;
            } else if inside {
                return Err(match last_link {
                    Some(link) => RepoFsError::LinkLeaves {
                        path: absolute,
                        link,
                        root: self.canonical.clone(),
                    },
                    None => outside(),
                });
            }
        }
        self.finish(current, inside, last_link, &absolute, true)
    }

    fn finish(
        &self,
        current: PathBuf,
        inside: bool,
        last_link: Option<PathBuf>,
        absolute: &Path,
        exists: bool,
    ) -> Result<Resolved, RepoFsError> {
        if !inside || !current.starts_with(&self.canonical) {
            return Err(match last_link {
                Some(link) if inside => RepoFsError::LinkLeaves {
                    path: absolute.to_path_buf(),
                    link,
                    root: self.canonical.clone(),
                },
                _ => RepoFsError::Outside {
                    path: absolute.to_path_buf(),
                    root: self.canonical.clone(),
                },
            });
        }
        if SYSTEM_DIRS.iter().any(|d| current.starts_with(d)) {
            return Err(RepoFsError::System {
                path: absolute.to_path_buf(),
            });
        }
        Ok(Resolved {
            path: current,
            exists,
        })
    }

    /// Read a file of the repository (see the module's documentation for what is refused).
    pub fn read(&self, path: &Path) -> Result<Vec<u8>, RepoFsError> {
        let resolved = self.resolve(path)?;
        if !resolved.exists {
            return Err(RepoFsError::Read {
                path: path.to_path_buf(),
                source: not_found(),
            });
        }
        read_regular(&resolved.path, MAX_FILE_SIZE).map_err(|e| e.renamed(path))
    }

    /// Read and decode a file of the repository; the source keeps `path` as its name.
    pub fn read_source(&self, path: &Path) -> Result<super::SourceFile, super::TextError> {
        let bytes = self
            .read(path)
            .map_err(|error| super::TextError::from_repo_fs(path, error))?;
        super::SourceFile::from_bytes(path, &bytes)
    }

    /// Resolve `path` inside the repository and check that it is an existing regular file;
    /// returns where it really is. Nothing is opened.
    pub fn regular_file(&self, path: &Path) -> Result<PathBuf, RepoFsError> {
        let resolved = self.resolve(path)?;
        if !resolved.exists {
            return Err(RepoFsError::Read {
                path: path.to_path_buf(),
                source: not_found(),
            });
        }
        check_regular(&resolved.path, path)?;
        Ok(resolved.path)
    }

    /// Check that `path` may be written: inside the repository (through links that stay
    /// inside), and either missing or a regular file. Returns the file to write: the target of
    /// a symbolic link, so the link stays a link.
    pub fn writable(&self, path: &Path) -> Result<PathBuf, RepoFsError> {
        let resolved = self.resolve(path)?;
        if resolved.exists {
            check_regular(&resolved.path, path)?;
        }
        Ok(resolved.path)
    }

    /// Write `bytes` to a file of the repository atomically ([`super::atomic::write`]), after
    /// [`RepoRoot::writable`]: a symbolic link's target is written, its mode (and owner, when
    /// repin runs as root) kept.
    pub fn write(&self, path: &Path, bytes: &[u8]) -> Result<(), RepoFsError> {
        let target = self.writable(path)?;
        super::atomic::write(&target, bytes, super::atomic::Durability::Durable).map_err(|source| {
            RepoFsError::Write {
                path: path.to_path_buf(),
                source,
            }
        })
    }
}

/// A path resolved inside a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The path with every symbolic link resolved.
    pub path: PathBuf,
    /// Whether it exists (only the last component may be missing).
    pub exists: bool,
}

impl RepoFsError {
    /// The same error naming `path` (as the user wrote it) instead of the resolved one.
    fn renamed(self, path: &Path) -> RepoFsError {
        let path = path.to_path_buf();
        match self {
            RepoFsError::NotRegular { kind, .. } => RepoFsError::NotRegular { path, kind },
            RepoFsError::TooLarge { limit, .. } => RepoFsError::TooLarge { path, limit },
            RepoFsError::Read { source, .. } => RepoFsError::Read { path, source },
            other => other,
        }
    }
}

/// `resolved` (no link left in it) is a regular file; errors name `shown`.
fn check_regular(resolved: &Path, shown: &Path) -> Result<(), RepoFsError> {
    let meta = std::fs::symlink_metadata(resolved).map_err(|source| RepoFsError::Read {
        path: shown.to_path_buf(),
        source,
    })?;
    if meta.file_type().is_file() {
        Ok(())
    } else {
        Err(RepoFsError::NotRegular {
            path: shown.to_path_buf(),
            kind: kind_of(&meta.file_type()),
        })
    }
}

/// The error of a missing file, as the operating system words it.
fn not_found() -> std::io::Error {
    std::io::Error::from_raw_os_error(libc::ENOENT)
}

fn components(path: &Path) -> Vec<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_owned()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect()
}

/// What a file type is, for messages.
fn kind_of(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

/// Read a regular file of at most `limit` bytes, wherever it is (for paths the user named and
/// for files already resolved inside a repository): FIFOs, devices, sockets, directories,
/// `/proc`, `/sys` and `/dev` are refused without being opened for reading, and the file is
/// opened non-blocking and checked again once open.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, RepoFsError> {
    let read_error = |source| RepoFsError::Read {
        path: path.to_path_buf(),
        source,
    };
    if let Ok(absolute) = std::path::absolute(path) {
        let absolute = normalise(&absolute);
        if SYSTEM_DIRS.iter().any(|d| absolute.starts_with(d)) {
            return Err(RepoFsError::System {
                path: path.to_path_buf(),
            });
        }
    }
    let meta = std::fs::metadata(path).map_err(read_error)?;
    if !meta.is_file() {
        return Err(RepoFsError::NotRegular {
            path: path.to_path_buf(),
            kind: kind_of(&meta.file_type()),
        });
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Non-blocking: a FIFO put in the file's place after the check above opens at once
        // (and is refused below) instead of waiting for a writer forever.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(read_error)?;
    let meta = file.metadata().map_err(read_error)?;
    if !meta.is_file() {
        return Err(RepoFsError::NotRegular {
            path: path.to_path_buf(),
            kind: kind_of(&meta.file_type()),
        });
    }
    if meta.len() > limit {
        return Err(RepoFsError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // `take`: a file that grows while it is read still stops at the limit.
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > limit {
        return Err(RepoFsError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    Ok(bytes)
}

/// Whether `path`, joined to a directory, stays within it: relative, with no `..` (`.` parts
/// are allowed, and the empty path is the directory itself). Decided from the text alone, so it
/// serves paths of a copy that does not exist yet.
pub fn stays_within(path: &Path) -> bool {
    path.components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// Remove `.` and `a/..` pairs without touching the file system, as pip joins an include to
/// its file's directory. A `..` that has nothing to cancel stays (`../../common/base.txt`
/// from the current directory keeps both), and one right below the root is dropped.
pub fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    let mut normal = 0usize; // trailing `Normal` components `..` may cancel
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if normal > 0 {
                    out.pop();
                    normal -= 1;
                } else if !out.has_root() {
                    out.push("..");
                }
            }
            Component::Normal(name) => {
                out.push(name);
                normal += 1;
            }
            other => out.push(other),
        }
    }
    out
}

impl crate::error::Hint for RepoFsError {
    fn hints(&self) -> Vec<String> {
        self.hint().into_iter().collect()
    }
}

#[cfg(test)]
mod tests;
