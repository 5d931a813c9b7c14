//! `repin lock IN [-o OUT]`: resolve a `.in` into a pinned, hashed requirements file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep508_rs::PackageName;

use super::check::LookupArgs;
use super::style::{self, paint};
use super::{CliError, EXIT_OK};
use crate::lock::pypi::PypiSource;
use crate::lock::{Header, Request, Resolution, Target, input};
use crate::manifest::workspace::Workspace;
use crate::manifest::{Manifest, ManifestKind};
use crate::registry::pypi::Refresh;
use crate::text::RepoRoot;

/// Arguments of `repin lock`.
#[derive(Debug, clap::Args)]
pub struct LockArgs {
    /// The requirements to lock (a `.in` file; its `-r` and `-c` includes are followed)
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// Where to write the lock (default: IN with `.txt` for `.in`); `-` prints it
    #[arg(short = 'o', long = "output-file", value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// The Python to lock for, as X.Y (default: the Dockerfile's Python base image, else
    /// `[python] version` in repin.toml)
    #[arg(long, value_name = "X.Y")]
    pub python: Option<String>,
    /// Choose the newest versions, ignoring those of the existing lock
    #[arg(short = 'U', long)]
    pub upgrade: bool,
    /// Let this package move from its version in the existing lock (repeatable)
    #[arg(short = 'P', long = "upgrade-package", value_name = "NAME")]
    pub upgrade_packages: Vec<String>,
    /// Allow pre-releases everywhere
    #[arg(long)]
    pub pre: bool,
    /// The configuration and the cache
    #[command(flatten)]
    pub client: super::check::ClientArgs,
}

/// Run `repin lock`.
pub fn run(args: &LockArgs) -> Result<u8, CliError> {
    lock(args)?;
    Ok(EXIT_OK)
}

/// The output path: `-o`, else the input with `.txt` for `.in` (`requirements.in` →
/// `requirements.txt`), else the input's name with `.txt` added.
fn output_path(args: &LockArgs) -> PathBuf {
    if let Some(path) = &args.output {
        return path.clone();
    }
    match args.input.extension() {
        Some(ext) if ext == "in" => args.input.with_extension("txt"),
        _ => {
            let mut name = args.input.as_os_str().to_owned();
            name.push(".txt");
            PathBuf::from(name)
        }
    }
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

fn lock(args: &LockArgs) -> Result<(), CliError> {
    let output = output_path(args);
    let to_stdout = output.as_os_str() == "-";
    let root = repository_root(&args.input);
    let lookup = LookupArgs {
        paths: vec![root.clone()],
        client: args.client.clone(),
        advisory_db: None,
    };
    let (checker, _) = super::check::checker(&lookup)?;

    if !args.input.is_file() {
        return Err(CliError::NoInput(args.input.clone()));
    }
    // The lock is written inside the repository of its input, and only over a regular file
    // (or a link to one inside it): checked before resolving, so a refused output costs nothing.
    let repo = RepoRoot::of(&args.input)?;
    if !to_stdout {
        repo.writable(&output)
            .map_err(|source| CliError::LockOutput {
                path: output.clone(),
                source,
            })?;
    }
    let workspace = Workspace::load(std::slice::from_ref(&args.input));
    if let Some(manifest) = workspace
        .manifests
        .iter()
        .find(|m| m.kind != ManifestKind::Requirements)
    {
        let what = match manifest.kind {
            ManifestKind::Dockerfile => "a Dockerfile",
            _ => "not a requirements file",
        };
        return Err(CliError::NotRequirements {
            path: args.input.clone(),
            what,
        });
    }
    let mut had_error = false;
    for diagnostic in workspace.all_diagnostics() {
        had_error |= diagnostic.is_error();
        let _ = writeln!(anstream::stderr(), "{diagnostic}");
    }
    if had_error {
        return Err(CliError::InputErrors(args.input.clone()));
    }
    let base = args
        .input
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let input = input::read(&workspace, &args.input, &base).map_err(CliError::lock)?;

    let file_target = file_target(args, &root, &checker, &output);
    let python = python_version(args, file_target.as_ref())?;
    let target = Target::linux_x86_64(&python).map_err(CliError::Target)?;

    // The existing lock: its versions are kept while they fit, unless upgrading.
    let existing = (!to_stdout)
        .then(|| repo.read_source(&output).ok())
        .flatten()
        .map(|source| crate::manifest::parse(source, ManifestKind::Requirements));
    let mut preferences = match (&existing, args.upgrade) {
        (Some(lock), false) => input::preferences(lock),
        _ => Default::default(),
    };
    for name in &args.upgrade_packages {
        let name = PackageName::from_str(name).map_err(|reason| CliError::PackageName {
            name: name.clone(),
            reason,
        })?;
        preferences.remove(&name);
    }

    let indexes = checker.indexes.indexes(&input.options, Some(&args.input))?;
    if indexes.is_empty() {
        return Err(CliError::NoIndex);
    }
    let request = Request {
        label: args.input.display().to_string(),
        requirements: input.requirements.clone(),
        constraints: input.constraints.clone(),
        prereleases: args.pre || input.options.pre,
        target,
        preferences,
    };
    let runtime = super::check::runtime()?;
    // Upgrading revalidates the pages of what may move, as uv's upgrade implies a refresh.
    let refresh = if args.upgrade {
        Refresh::All
    } else {
        Refresh::Projects(
            args.upgrade_packages
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
    let resolution = crate::lock::resolve(&source, &request).map_err(CliError::lock)?;
    // Pins with no wheel for a platform the image is built for: built from source there.
    let platforms = crate::lock::wheels::platforms_for(
        &request.target.python,
        file_target.as_ref(),
        &checker.config.config.images.platforms,
    );
    let pins: Vec<(String, String, crate::lock::wheels::ReleaseFiles)> = resolution
        .packages
        .iter()
        .filter_map(|p| {
            let files = source.release_files(&p.name, &p.version)?;
            Some((p.name.to_string(), p.version.to_string(), files))
        })
        .collect();
    let platform_warnings: Vec<String> = crate::lock::wheels::platform_gaps(&pins, &platforms)
        .into_iter()
        .map(|(platform, name, version, gap)| {
            crate::lock::wheels::describe_gap(platform, name, version, &gap)
        })
        .collect();
    drop(runtime);

    let header = Header {
        python: request.target.python_label(),
        command: command_line(args, &output),
    };
    let text = crate::lock::render(&header, &input.option_lines(), &resolution);
    input::verify(&output, &text, &resolution).map_err(CliError::ReadBack)?;

    let mut err = anstream::stderr().lock();
    if crate::log::enabled(crate::log::Level::Info) {
        for note in source.notes() {
            let _ = writeln!(err, "{} {note}", paint(style::SKIPPED, "note:"));
        }
    }
    let warn = crate::log::enabled(crate::log::Level::Warn);
    for warning in resolution
        .warnings
        .iter()
        .chain(&platform_warnings)
        .filter(|_| warn)
    {
        let _ = writeln!(err, "{} {warning}", paint(style::SKIPPED, "warning:"));
    }
    for package in resolution
        .packages
        .iter()
        .filter(|p| warn && p.hashes.is_empty())
    {
        let _ = writeln!(
            err,
            "{} `{}` has no sha256 on the index, so its entry has no hash and pip's \
             --require-hashes will refuse the lock",
            paint(style::SKIPPED, "warning:"),
            package.name
        );
    }
    if to_stdout {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(CliError::PrintLock)?;
    } else if existing.as_ref().map(|m| m.source.text()) != Some(text.as_str()) {
        repo.write(&output, text.as_bytes())?;
    }
    let rewritten = to_stdout || existing.as_ref().map(|m| m.source.text()) != Some(text.as_str());
    summary(
        &mut err,
        &resolution,
        existing.as_ref(),
        &header,
        &output,
        (to_stdout, rewritten),
    );
    Ok(())
}

/// The Python to lock for: `--python`, else the target of the output (or of the input) as
/// `repin check` finds it: the Dockerfile stage that installs it, the lock's header, the nearest
/// Dockerfile, `repin.toml`, a `pyproject.toml` beside it.
fn python_version(
    args: &LockArgs,
    file_target: Option<&crate::target::Target>,
) -> Result<String, CliError> {
    if let Some(python) = &args.python {
        return Ok(python.clone());
    }
    file_target
        .map(|t| t.python.to_string())
        .ok_or(CliError::NoPython)
}

/// The target of the output (or of the input) as `repin check` finds it: the Dockerfile stage
/// that installs it, the lock's header, the nearest Dockerfile, `repin.toml`, a
/// `pyproject.toml` beside it; `None` when nothing says.
fn file_target(
    args: &LockArgs,
    root: &Path,
    checker: &crate::lookup::Checker,
    output: &Path,
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
    of(output).or_else(|| of(&args.input))
}

/// The command recorded in the header: enough to re-create this lock.
fn command_line(args: &LockArgs, output: &Path) -> String {
    let mut words = vec!["repin".to_owned(), "lock".to_owned()];
    words.push(args.input.display().to_string());
    words.push("-o".into());
    words.push(output.display().to_string());
    if let Some(python) = &args.python {
        words.push("--python".into());
        words.push(python.clone());
    }
    if args.pre {
        words.push("--pre".into());
    }
    words.join(" ")
}

/// What changed against the previous lock, on stderr.
fn summary(
    err: &mut impl Write,
    resolution: &Resolution,
    existing: Option<&Manifest>,
    header: &Header,
    output: &Path,
    (to_stdout, rewritten): (bool, bool),
) {
    let before = existing.map(input::preferences).unwrap_or_default();
    let mut changes = Vec::new();
    for package in &resolution.packages {
        match before.get(&package.name) {
            None if existing.is_some() => {
                changes.push(format!("  + {} {}", package.name, package.version));
            }
            Some(old) if old != &package.version => changes.push(format!(
                "  {} {old} -> {}",
                package.name,
                paint(style::NEW, &package.version)
            )),
            _ => {}
        }
    }
    for (name, version) in &before {
        if !resolution.packages.iter().any(|p| &p.name == name) {
            changes.push(format!("  - {name} {version}"));
        }
    }
    let target = if to_stdout {
        String::new()
    } else {
        format!(" into {}", output.display())
    };
    // "unchanged" only when the file is: a rewritten header (another command line) is a change.
    let _ = writeln!(
        err,
        "Locked {} for Python {}{target}{}",
        super::count(resolution.packages.len(), "package", "packages"),
        header.python,
        if existing.is_some() && changes.is_empty() && !rewritten {
            " (unchanged)"
        } else if existing.is_some() && changes.is_empty() {
            " (the same versions; the header was rewritten)"
        } else {
            ""
        }
    );
    for change in changes {
        let _ = writeln!(err, "{change}");
    }
}
