//! The `lock` job: resolve a `.in` into a pinned, hashed requirements file (or, for an output
//! named `pylock.toml` or `pylock.NAME.toml`, a PEP 751 lock: [`crate::lock::pylock`]) for the
//! Python (and platforms) its service runs on, keeping the existing lock's versions while they
//! fit.
//!
//! The output is checked before anything is resolved (inside the input's repository, over a
//! regular file), the rendered lock is read back and compared with its resolution before it is
//! written, and a lock whose text is unchanged is not rewritten. What the front end shows (the
//! notes, the warnings, the pins that moved) comes back in [`Locked`].

use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep508_rs::PackageName;

use super::session::{Session, SessionError, SessionOptions, runtime};
use crate::lock::pypi::PypiSource;
use crate::lock::{Header, LockError, Request, Resolution, Target, input};
use crate::manifest::workspace::Workspace;
use crate::manifest::{Manifest, ManifestKind};
use crate::registry::pypi::{PypiError, Refresh};
use crate::text::{Diagnostic, RepoFsError, RepoRoot};

/// Why a lock was not made or not written.
#[derive(Debug, thiserror::Error)]
pub enum LockJobError {
    /// The configuration, the clients or the runtime could not be set up.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The `.in` to lock does not exist.
    #[error("Cannot read `{}`: there is no such file", .0.display())]
    NoInput(PathBuf),
    /// The input's repository cannot be found, or the lock cannot be written into it.
    #[error(transparent)]
    Repository(#[from] RepoFsError),
    /// The lock may not be written where the output says.
    #[error("Cannot write the lock to `{}`", .path.display())]
    Output {
        /// The output.
        path: PathBuf,
        /// Why.
        #[source]
        source: RepoFsError,
    },
    /// The input to lock is a Dockerfile or another kind of file.
    #[error("`{}` is {what}, not a requirements file, so it cannot be locked", .path.display())]
    NotRequirements {
        /// The input.
        path: PathBuf,
        /// `a Dockerfile`.
        what: &'static str,
    },
    /// The input to lock has errors (in [`Prepared::diagnostics`]).
    #[error("`{}` has errors, so it was not locked", .0.display())]
    InputErrors(PathBuf),
    /// The lock could not be made.
    #[error(transparent)]
    Lock(LockError),
    /// No set of versions fits: the resolver's explanation follows as causes.
    #[error("{0}")]
    Conflict(LockError, #[source] Sentence),
    /// The Python is not `X.Y`.
    #[error(transparent)]
    Target(LockError),
    /// An upgrade package that is not a package name.
    #[error("Invalid package name `{name}`: {reason}")]
    PackageName {
        /// The name as given.
        name: String,
        /// The parser's reason (a clause of the message).
        reason: pep508_rs::InvalidNameError,
    },
    /// The indexes of the input cannot be had.
    #[error(transparent)]
    Indexes(#[from] PypiError),
    /// `--no-index` leaves nothing to lock against.
    #[error("`--no-index` is set, so there is no index to resolve against")]
    NoIndex,
    /// The rendered lock does not read back as its resolution (a bug).
    #[error("The lock does not read back as written, so it was not written")]
    ReadBack(input::ReadBackError),
    /// No Python known to lock for.
    #[error("Cannot tell which Python to lock for")]
    NoPython,
}

impl LockJobError {
    /// A failed resolution: a conflict with its explanation as causes, else the error.
    pub fn from_resolution(error: LockError) -> Self {
        let (explanation, _) = error.details();
        match Sentence::chain(explanation) {
            Some(sentence) => LockJobError::Conflict(error, sentence),
            None => LockJobError::Lock(error),
        }
    }
}

impl crate::error::Hint for LockJobError {
    fn hints(&self) -> Vec<String> {
        match self {
            LockJobError::Session(e) => e.hints(),
            LockJobError::Repository(e) => e.hints(),
            LockJobError::Indexes(e) => e.hints(),
            LockJobError::Lock(e) | LockJobError::Conflict(e, _) => e.hints(),
            LockJobError::Output { source, .. } => vec![source.hint().map_or_else(
                || "pass `-o -` to print the lock instead".to_owned(),
                |h| format!("{h}; pass `-o -` to print the lock instead"),
            )],
            LockJobError::NotRequirements { .. } => {
                vec!["give repin lock the requirements to lock, such as requirements.in".into()]
            }
            LockJobError::Target(_) => {
                vec!["give the Python as X.Y, such as `--python 3.12`".into()]
            }
            LockJobError::ReadBack(why) => vec![format!("this is a bug in repin: {why}")],
            LockJobError::NoPython => {
                vec!["pass `--python 3.12`, or set `[python] version` in repin.toml".into()]
            }
            LockJobError::NoInput(_)
            | LockJobError::InputErrors(_)
            | LockJobError::PackageName { .. }
            | LockJobError::NoIndex => Vec::new(),
        }
    }
}

/// One sentence of an explanation, with the sentences after it as its source: how a
/// resolver's derivation becomes `Caused by:` lines of the one renderer.
#[derive(Debug, thiserror::Error)]
#[error("{text}")]
pub struct Sentence {
    text: String,
    #[source]
    next: Option<Box<Sentence>>,
}

impl Sentence {
    /// The sentences as a chain, `None` when there are none.
    fn chain(sentences: Vec<String>) -> Option<Sentence> {
        sentences.into_iter().rev().fold(None, |next, text| {
            Some(Sentence {
                text,
                next: next.map(Box::new),
            })
        })
    }
}

/// What to lock, for which Python, and where to.
#[derive(Debug, Clone)]
pub struct LockOptions {
    /// The configuration and cache (its paths are replaced by the input's repository).
    pub session: SessionOptions,
    /// The requirements to lock.
    pub input: PathBuf,
    /// Where to write the lock; `-` returns it without writing.
    pub output: PathBuf,
    /// The Python as `X.Y` (default: the output's or the input's target, as `check` finds it).
    pub python: Option<String>,
    /// Choose the newest versions, ignoring the existing lock's.
    pub upgrade: bool,
    /// Packages that may move from their versions in the existing lock.
    pub upgrade_packages: Vec<String>,
    /// Allow pre-releases everywhere.
    pub pre: bool,
}

impl LockOptions {
    /// Whether the lock is returned rather than written.
    pub fn to_stdout(&self) -> bool {
        self.output.as_os_str() == "-"
    }
}

/// A lock made (and written, unless to standard output).
pub struct Locked {
    /// The lock's text.
    pub text: String,
    /// What was resolved.
    pub resolution: Resolution,
    /// The lock as it was before, when there was one.
    pub existing: Option<Manifest>,
    /// The header written.
    pub header: Header,
    /// Whether the text differs from the existing lock's (it was written, or is returned).
    pub rewritten: bool,
    /// What the resolver noted (releases passed over, and why).
    pub notes: Vec<String>,
    /// What the user should fix: the resolver's warnings, pins with no wheel for a platform
    /// the image is built for, entries with no hash.
    pub warnings: Vec<String>,
}

/// The input read and the output checked, before anything is resolved: what the front end shows
/// first (the input's diagnostics, whatever happens next), then [`Prepared::lock`].
pub struct Prepared {
    options: LockOptions,
    root: PathBuf,
    checker: crate::lookup::Checker,
    repo: RepoRoot,
    workspace: Workspace,
    /// The input's diagnostics (errors and warnings).
    pub diagnostics: Vec<Diagnostic>,
}

/// Read the configuration and the input, and check the output, for the lock `options` asks
/// for; then [`Prepared::lock`] makes it.
pub fn prepare(options: &LockOptions) -> Result<Prepared, LockJobError> {
    let output = &options.output;
    let to_stdout = options.to_stdout();
    let root = repository_root(&options.input);
    let session = SessionOptions {
        paths: vec![root.clone()],
        ..options.session.clone()
    };
    let Session { checker, .. } = Session::open(&session)?;

    if !options.input.is_file() {
        return Err(LockJobError::NoInput(options.input.clone()));
    }
    // The lock is written inside the repository of its input, and only over a regular file
    // (or a link to one inside it): checked before resolving, so a refused output costs nothing.
    let repo = RepoRoot::of(&options.input)?;
    if !to_stdout {
        repo.writable(output)
            .map_err(|source| LockJobError::Output {
                path: output.clone(),
                source,
            })?;
    }
    let workspace = Workspace::load(std::slice::from_ref(&options.input));
    if let Some(manifest) = workspace
        .manifests
        .iter()
        .find(|m| m.kind != ManifestKind::Requirements)
    {
        let what = match manifest.kind {
            ManifestKind::Dockerfile => "a Dockerfile",
            _ => "not a requirements file",
        };
        return Err(LockJobError::NotRequirements {
            path: options.input.clone(),
            what,
        });
    }
    let diagnostics: Vec<Diagnostic> = workspace.all_diagnostics().cloned().collect();
    Ok(Prepared {
        options: options.clone(),
        root,
        checker,
        repo,
        workspace,
        diagnostics,
    })
}

impl Prepared {
    /// Resolve, render, read back and write the lock.
    pub fn lock(self) -> Result<Locked, LockJobError> {
        lock_prepared(self)
    }
}

fn lock_prepared(prepared: Prepared) -> Result<Locked, LockJobError> {
    let Prepared {
        options,
        root,
        checker,
        repo,
        workspace,
        diagnostics,
    } = prepared;
    let options = &options;
    let (output, to_stdout) = (&options.output, options.to_stdout());
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(LockJobError::InputErrors(options.input.clone()));
    }
    let base = options
        .input
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let input =
        input::read(&workspace, &options.input, &base).map_err(LockJobError::from_resolution)?;

    let file_target = file_target(options, &root, &checker);
    let python = match (&options.python, &file_target) {
        (Some(python), _) => python.clone(),
        (None, Some(target)) => target.python.to_string(),
        (None, None) => return Err(LockJobError::NoPython),
    };
    let target = Target::linux_x86_64(&python).map_err(LockJobError::Target)?;

    // A `pylock.toml` (or `pylock.NAME.toml`) is written as PEP 751 says, anything else in
    // pip-compile's format.
    let pylock = !to_stdout
        && output
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(crate::manifest::pylock::is_pylock);
    let output_kind = if pylock {
        ManifestKind::Pylock
    } else {
        ManifestKind::Requirements
    };
    // The existing lock: its versions are kept while they fit, unless upgrading.
    let existing = (!to_stdout)
        .then(|| repo.read_source(output).ok())
        .flatten()
        .map(|source| crate::manifest::parse(source, output_kind));
    let mut preferences = match (&existing, options.upgrade) {
        (Some(lock), false) => input::preferences(lock),
        _ => Default::default(),
    };
    for name in &options.upgrade_packages {
        let name = PackageName::from_str(name).map_err(|reason| LockJobError::PackageName {
            name: name.clone(),
            reason,
        })?;
        preferences.remove(&name);
    }

    let indexes = checker
        .indexes
        .indexes(&input.options, Some(&options.input))?;
    if indexes.is_empty() {
        return Err(LockJobError::NoIndex);
    }
    let request = Request {
        label: options.input.display().to_string(),
        requirements: input.requirements.clone(),
        constraints: input.constraints.clone(),
        prereleases: options.pre || input.options.pre,
        target,
        preferences,
    };
    let runtime = runtime()?;
    // Upgrading revalidates the pages of what may move, as uv's upgrade implies a refresh.
    let refresh = if options.upgrade {
        Refresh::All
    } else {
        Refresh::Projects(
            options
                .upgrade_packages
                .iter()
                .map(|n| crate::vocab::normalize_name(n))
                .collect(),
        )
    };
    let source = PypiSource::new(
        checker.pypi.clone(),
        indexes,
        runtime.handle().clone(),
        request.target.python.clone(),
    )
    .with_preferences(request.preferences.clone())
    .refreshing(refresh);
    // The platforms the pins are installed on (the image may be built for several).
    let platforms = crate::lock::wheels::platforms_for(
        &request.target.python,
        file_target.as_ref(),
        &checker.config.config.images.platforms,
    );
    // A `pylock.toml` lists the locked releases' files: kept from the pages the resolution
    // reads.
    let source = if pylock {
        source.keeping_files(crate::lock::pylock::lock_platforms(
            &platforms,
            &request.target,
        ))
    } else {
        source
    };
    let resolution =
        crate::lock::resolve(&source, &request).map_err(LockJobError::from_resolution)?;
    // Pins with no wheel for a platform the image is built for: built from source there.
    let pins: Vec<(String, String, crate::lock::wheels::ReleaseFiles)> = resolution
        .packages
        .iter()
        .filter_map(|p| {
            let files = source.release_files(&p.name, &p.version)?;
            Some((p.name.to_string(), p.version.to_string(), files))
        })
        .collect();
    let mut warnings: Vec<String> = resolution.warnings.clone();
    warnings.extend(
        crate::lock::wheels::platform_gaps(&pins, &platforms)
            .into_iter()
            .map(|(platform, name, version, gap)| {
                crate::lock::wheels::describe_gap(platform, name, version, &gap)
            }),
    );
    warnings.extend(
        resolution
            .packages
            .iter()
            .filter(|p| p.hashes.is_empty())
            .map(|p| {
                format!(
                    "`{}` has no sha256 on the index, so its entry has no hash and pip's \
                     --require-hashes will refuse the lock",
                    p.name
                )
            }),
    );
    let files = if pylock {
        Some(
            crate::lock::pylock::files(&source, &resolution, &platforms, &request.target)
                .map_err(LockJobError::from_resolution)?,
        )
    } else {
        None
    };
    let notes = source.notes();
    drop(runtime);

    let header = Header {
        python: request.target.python_label(),
        command: command_line(options),
    };
    let text = match &files {
        Some(files) => {
            let text = crate::lock::pylock::render(&header, &request.target, &resolution, files);
            crate::lock::pylock::verify(output, &text, &resolution, files)
                .map_err(LockJobError::ReadBack)?;
            text
        }
        None => {
            let text = crate::lock::render(&header, &input.option_lines(), &resolution);
            input::verify(output, &text, &resolution).map_err(LockJobError::ReadBack)?;
            text
        }
    };
    let rewritten = to_stdout || existing.as_ref().map(|m| m.source.text()) != Some(text.as_str());
    if !to_stdout && rewritten {
        repo.write(output, text.as_bytes())?;
    }
    Ok(Locked {
        text,
        resolution,
        existing,
        header,
        rewritten,
        notes,
        warnings,
    })
}

/// The repository the input belongs to: the nearest directory above it with `.git` or a
/// repin configuration, else the input's own directory.
fn repository_root(input: &Path) -> PathBuf {
    let dir = match input.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let absolute = std::path::absolute(&dir).unwrap_or_else(|_| dir.clone());
    absolute
        .ancestors()
        .find(|a| {
            a.join(".git").exists()
                || a.join("repin.toml").is_file()
                || a.join(".github/repin.toml").is_file()
        })
        .map_or(dir, Path::to_path_buf)
}

/// The target of the output (or of the input) as `repin check` finds it: the Dockerfile stage
/// that installs it, the lock's header, the nearest Dockerfile, `repin.toml`, a
/// `pyproject.toml` beside it; `None` when nothing says.
fn file_target(
    options: &LockOptions,
    root: &Path,
    checker: &crate::lookup::Checker,
) -> Option<crate::target::Target> {
    let repository = Workspace::load(&[root.to_path_buf()]);
    let targets = crate::target::find(&repository, &checker.config, root, checker.now);
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let of = |p: &Path| {
        let wanted = absolute(p);
        targets
            .iter()
            .find(|(path, _)| absolute(path) == wanted)
            .map(|(_, t)| t.clone())
            .filter(|t| t.from.is_known())
    };
    of(&options.output).or_else(|| of(&options.input))
}

/// The command recorded in the header: enough to re-create this lock.
fn command_line(options: &LockOptions) -> String {
    let mut words = vec!["repin".to_owned(), "lock".to_owned()];
    words.push(options.input.display().to_string());
    words.push("-o".into());
    words.push(options.output.display().to_string());
    if let Some(python) = &options.python {
        words.push("--python".into());
        words.push(python.clone());
    }
    if options.pre {
        words.push("--pre".into());
    }
    words.join(" ")
}
