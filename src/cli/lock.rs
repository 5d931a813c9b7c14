//! `repin lock IN [-o OUT]`: resolve a `.in` into a pinned, hashed requirements file or a
//! `pylock.toml` (the job is [`crate::run::lock`]'s; this front end reads the arguments and
//! shows what it did).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::check::LookupArgs;
use super::style::{self, paint};
use super::{CliError, EXIT_OK};
use crate::lock::{Header, Resolution, input};
use crate::manifest::Manifest;
use crate::run::lock::{LockOptions, prepare};

/// Arguments of `repin lock`.
#[derive(Debug, clap::Args)]
pub struct LockArgs {
    /// The requirements to lock (a `.in` file; its `-r` and `-c` includes are followed)
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// Where to write the lock (default: IN with `.txt` for `.in`); `-` prints it; a file named
    /// `pylock.toml` or `pylock.NAME.toml` is written as PEP 751 describes
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
    let options = LockOptions {
        session: LookupArgs {
            paths: Vec::new(),
            client: args.client.clone(),
            advisory_db: None,
        }
        .session_options(),
        input: args.input.clone(),
        output: output_path(args),
        python: args.python.clone(),
        upgrade: args.upgrade,
        upgrade_packages: args.upgrade_packages.clone(),
        pre: args.pre,
    };
    let prepared = prepare(&options)?;
    // The input's diagnostics first, whatever happens next.
    for diagnostic in &prepared.diagnostics {
        let _ = writeln!(anstream::stderr(), "{diagnostic}");
    }
    // stderr is locked only once the resolution is over: its lookups log from the runtime's
    // threads, which would otherwise wait for this one forever.
    let locked = prepared.lock()?;
    let mut err = anstream::stderr().lock();
    if crate::log::enabled(crate::log::Level::Info) {
        for note in &locked.notes {
            let _ = writeln!(err, "{} {note}", paint(style::SKIPPED, "note:"));
        }
    }
    if crate::log::enabled(crate::log::Level::Warn) {
        for warning in &locked.warnings {
            let _ = writeln!(err, "{} {warning}", paint(style::SKIPPED, "warning:"));
        }
    }
    if options.to_stdout() {
        let mut out = std::io::stdout().lock();
        out.write_all(locked.text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(CliError::PrintLock)?;
    }
    summary(
        &mut err,
        &locked.resolution,
        locked.existing.as_ref(),
        &locked.header,
        &options.output,
        (options.to_stdout(), locked.rewritten),
    );
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
