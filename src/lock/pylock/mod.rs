//! The lock as a `pylock.toml` (PEP 751), written by repin's own resolver: the output of
//! `repin lock IN -o pylock.toml` (or `pylock.NAME.toml`).
//!
//! The file records what the requirements lock records, in the standard's shape: every package
//! at its version, with the index it comes from and each of its files (URL, size and upload
//! time where the index gives them, sha256 always). It is for the lock's target, as the
//! requirements lock is: `requires-python` is the target Python, `environments` says Linux and
//! CPython, and the wheels listed are those that install on one of the lock's platforms (the
//! image's, else Linux x86_64 with glibc), plus the sdist, as `uv pip compile --format
//! pylock.toml` lists them. A comment above it names the command that re-creates it, as the
//! requirements lock's header does, so a re-lock knows its input.
//!
//! The files come from the index pages again after the resolution ([`files_of`] picks them
//! from a release as the index lists it), and only files whose sha256 the resolver saw are
//! written: a page that changed in between cannot add an unverified file. The text is read
//! back ([`verify`]) before anything is written.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::str::FromStr;

use super::LockError;
use super::input::ReadBackError;
use super::output::Header;
use super::resolve::{Locked, Resolution};
use super::source::PackageSource;
use super::target::Target;
use super::wheels::Platform;
use crate::registry::pypi::{DistFile, DistKind, Release};

/// One file of a locked release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedFile {
    /// The file name.
    pub name: String,
    /// Its URL, without credentials.
    pub url: String,
    /// Its size in bytes, when the index gives it.
    pub size: Option<u64>,
    /// When it was uploaded (RFC 3339, whole seconds), when the index gives it.
    pub upload_time: Option<String>,
    /// Its sha256, hex.
    pub sha256: String,
}

/// Where a locked release installs from: its index and the files written for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFiles {
    /// The index URL, without credentials.
    pub index: String,
    /// Its sdist, when it has one.
    pub sdist: Option<LockedFile>,
    /// Its wheels that install on one of the lock's platforms.
    pub wheels: Vec<LockedFile>,
}

/// Why a `pylock.toml` cannot list a locked release.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PylockError {
    /// No index lists the release any more (it was deleted after the resolution).
    #[error("`{name}` {version} is no longer listed by its index")]
    NotListed {
        /// The package.
        name: String,
        /// Its locked version.
        version: String,
    },
    /// A URL the file would hold carries a credential (the index's token in its path, a
    /// signed query): a lock file is committed, so it is not written.
    #[error("`{name}` {version} is served from a URL with a credential in it ({url})")]
    Credential {
        /// The package.
        name: String,
        /// Its locked version.
        version: String,
        /// The URL, its secrets masked.
        url: String,
    },
    /// The release has no file with a sha256 that installs on the lock's platforms.
    #[error("`{name}` {version} has no sdist and no wheel for {platforms} with a sha256")]
    NoFiles {
        /// The package.
        name: String,
        /// Its locked version.
        version: String,
        /// The platforms, described.
        platforms: String,
    },
}

impl crate::error::Hint for PylockError {
    fn hints(&self) -> Vec<String> {
        match self {
            PylockError::NotListed { .. } => vec!["lock again: the index changed meanwhile".into()],
            PylockError::Credential { .. } => vec![
                "a `pylock.toml` records every file's URL; lock into a requirements file, \
                 whose index options keep `${VAR}` references as written"
                    .into(),
            ],
            PylockError::NoFiles { .. } => vec![
                "a `pylock.toml` lists each package's files with their hashes; lock into a \
                 requirements file instead, or add the image's platforms to `[images] platforms`"
                    .into(),
            ],
        }
    }
}

/// The files of `release` (as its index lists it now) that the lock of `locked` writes: those
/// whose sha256 the resolver saw, not yanked (unless the whole release is, and was pinned so),
/// the wheels that install on one of `platforms`, and one sdist (a `.tar.gz` first).
pub fn files_of(
    locked: &Locked,
    index: &str,
    release: &Release,
    platforms: &[Platform],
) -> Result<PackageFiles, PylockError> {
    let seen: BTreeSet<&str> = locked.hashes.iter().map(String::as_str).collect();
    let usable = release.files.iter().filter(|file| {
        (release.yanked || !file.yanked)
            && file
                .sha256()
                .is_some_and(|hex| seen.contains(format!("sha256:{hex}").as_str()))
    });
    let mut sdists: Vec<&DistFile> = Vec::new();
    let mut wheels: Vec<LockedFile> = Vec::new();
    for file in usable.filter(|f| super::wheels::lockable(&f.kind, platforms)) {
        match &file.kind {
            DistKind::Sdist { .. } => sdists.push(file),
            _ => wheels.push(locked_file(file)),
        }
    }
    wheels.sort_by(|a, b| a.name.cmp(&b.name));
    wheels.dedup_by(|a, b| a.name == b.name);
    let sdist = sdists
        .iter()
        .find(|f| f.filename.ends_with(".tar.gz"))
        .or_else(|| sdists.first())
        .map(|f| locked_file(f));
    // Every URL written is checked here: a lock file is committed, a credential never is.
    let secret = sdist
        .iter()
        .chain(&wheels)
        .map(|f| f.url.as_str())
        .chain([index])
        .find(|u| {
            url::Url::parse(u).map_or_else(
                |_| crate::vocab::redact::text(u) != *u,
                |url| crate::vocab::redact::has_secret(&url),
            )
        });
    if let Some(secret) = secret {
        return Err(PylockError::Credential {
            name: locked.name.to_string(),
            version: locked.version.to_string(),
            url: crate::vocab::redact::text(secret),
        });
    }
    if sdist.is_none() && wheels.is_empty() {
        return Err(PylockError::NoFiles {
            name: locked.name.to_string(),
            version: locked.version.to_string(),
            platforms: platforms
                .iter()
                .map(Platform::describe)
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(PackageFiles {
        index: index.to_owned(),
        sdist,
        wheels,
    })
}

/// The platforms a `pylock.toml` lists wheels for: `platforms`, else Linux x86_64 with glibc
/// at the target's Python.
pub fn lock_platforms(platforms: &[Platform], target: &Target) -> Vec<Platform> {
    if platforms.is_empty() {
        super::wheels::platforms_for(&target.python, None, &["linux/amd64".into()])
    } else {
        platforms.to_vec()
    }
}

/// The files of every package of `resolution`, from `source` as its indexes list them now (see
/// [`files_of`]), for `platforms` (Linux x86_64 with glibc, at the target's Python, when none
/// is given). The first package whose files cannot be had stops it: a `pylock.toml` is written
/// with every package or not at all.
pub fn files<S: PackageSource>(
    source: &S,
    resolution: &Resolution,
    platforms: &[Platform],
    target: &Target,
) -> Result<BTreeMap<String, PackageFiles>, LockError> {
    let platforms = &lock_platforms(platforms, target);
    let pins: Vec<(pep508_rs::PackageName, pep440_rs::Version)> = resolution
        .packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    let mut files = BTreeMap::new();
    for (package, listed) in resolution.packages.iter().zip(source.listed(&pins)) {
        let listed = listed.map_err(|source| LockError::Files {
            package: format!("{} {}", package.name, package.version),
            source,
        })?;
        let listed = listed.ok_or_else(|| PylockError::NotListed {
            name: package.name.to_string(),
            version: package.version.to_string(),
        })?;
        let index = listed.index.as_url().to_string();
        files.insert(
            package.name.to_string(),
            files_of(package, &index, &listed.release, platforms)?,
        );
    }
    Ok(files)
}

fn locked_file(file: &DistFile) -> LockedFile {
    LockedFile {
        name: file.filename.clone(),
        url: file.url.to_string(),
        size: file.size,
        // Whole seconds, as uv writes them: TOML readers need only keep milliseconds, and some
        // refuse more digits than they keep.
        upload_time: file
            .upload_time
            .and_then(|t| jiff::Timestamp::from_second(t.as_second()).ok())
            .map(|t| t.to_string()),
        sha256: file.sha256().unwrap_or_default().to_owned(),
    }
}

/// `==3.12.*` for a target given as `3.12`, `==3.12.4` for one given with its patch level.
fn requires_python(target: &Target) -> String {
    let label = target.python_label();
    if label.matches('.').count() == 1 {
        format!("=={label}.*")
    } else {
        format!("=={label}")
    }
}

/// The whole file: the comment naming the command, then [`render_below`].
pub fn render(
    header: &Header,
    target: &Target,
    resolution: &Resolution,
    files: &BTreeMap<String, PackageFiles>,
) -> String {
    render_below(&header.comment(), target, resolution, files)
}

/// `comment` (lines of `#`, as a re-lock keeps them), the lock's own keys, then every package
/// sorted by name with its index and files. `files` has an entry for every locked package.
pub fn render_below(
    comment: &str,
    target: &Target,
    resolution: &Resolution,
    files: &BTreeMap<String, PackageFiles>,
) -> String {
    let mut out = comment.to_owned();
    out.push_str("lock-version = \"1.0\"\n");
    out.push_str(
        "environments = [\"sys_platform == 'linux' and platform_python_implementation == 'CPython'\"]\n",
    );
    let _ = writeln!(
        out,
        "requires-python = {}",
        string(&requires_python(target))
    );
    out.push_str("created-by = \"repin\"\n");
    for package in &resolution.packages {
        let name = package.name.to_string();
        out.push_str("\n[[packages]]\n");
        let _ = writeln!(out, "name = {}", string(&name));
        let _ = writeln!(out, "version = {}", string(&package.version.to_string()));
        let Some(package_files) = files.get(&name) else {
            continue;
        };
        let _ = writeln!(out, "index = {}", string(&package_files.index));
        if let Some(sdist) = &package_files.sdist {
            let _ = writeln!(out, "sdist = {}", file_table(sdist));
        }
        match package_files.wheels.as_slice() {
            [] => {}
            wheels => {
                out.push_str("wheels = [\n");
                for wheel in wheels {
                    let _ = writeln!(out, "    {},", file_table(wheel));
                }
                out.push_str("]\n");
            }
        }
    }
    out
}

/// `{ name = "…", url = "…", upload-time = …, size = …, hashes = { sha256 = "…" } }`.
fn file_table(file: &LockedFile) -> String {
    let mut table = format!(
        "{{ name = {}, url = {}",
        string(&file.name),
        string(&file.url)
    );
    if let Some(time) = &file.upload_time {
        // A TOML offset date-time, bare; only what parses as a timestamp got here.
        let _ = write!(table, ", upload-time = {time}");
    }
    if let Some(size) = file.size {
        let _ = write!(table, ", size = {size}");
    }
    let _ = write!(
        table,
        ", hashes = {{ sha256 = {} }} }}",
        string(&file.sha256)
    );
    table
}

/// A TOML basic string: quotes, backslashes and control characters escaped (names and URLs
/// come from index pages, which may hold anything).
fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Read `text` back, with repin's own `pylock.toml` reader and as TOML: it must parse without
/// a diagnostic and list exactly the resolution's packages at their versions, each with
/// exactly the files (by sha256) of `files`.
pub fn verify(
    path: &std::path::Path,
    text: &str,
    resolution: &Resolution,
    files: &BTreeMap<String, PackageFiles>,
) -> Result<(), ReadBackError> {
    let source =
        crate::text::SourceFile::from_text(path, crate::text::Encoding::Utf8, text.to_owned());
    let manifest = crate::manifest::parse(source, crate::manifest::ManifestKind::Pylock);
    if let Some(diagnostic) = manifest.diagnostics.first() {
        return Err(ReadBackError::Diagnostic(Box::new(diagnostic.clone())));
    }
    let document: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| ReadBackError::Toml(e.to_string()))?;
    let mut read = super::input::ReadBack::new();
    let packages = document
        .get("packages")
        .and_then(toml_edit::Item::as_array_of_tables);
    for package in packages.iter().flat_map(|p| p.iter()) {
        let field = |key: &str| package.get(key).and_then(toml_edit::Item::as_str);
        let (Some(name), Some(version)) = (field("name"), field("version")) else {
            return Err(ReadBackError::Toml(
                "a package without a name or version".into(),
            ));
        };
        let mut hashes = BTreeSet::new();
        let sdist = package
            .get("sdist")
            .and_then(toml_edit::Item::as_inline_table);
        let wheels = package.get("wheels").and_then(toml_edit::Item::as_array);
        let tables = sdist.into_iter().chain(
            wheels
                .iter()
                .flat_map(|w| w.iter().filter_map(|v| v.as_inline_table())),
        );
        for table in tables {
            if let Some(hex) = table
                .get("hashes")
                .and_then(toml_edit::Value::as_inline_table)
                .and_then(|h| h.get("sha256"))
                .and_then(toml_edit::Value::as_str)
            {
                hashes.insert(format!("sha256:{hex}"));
            }
        }
        read.insert(
            name.to_owned(),
            (pep440_rs::Version::from_str(version).ok(), hashes),
        );
    }
    // repin's own reader must see every entry the TOML has.
    if manifest.dependencies.len() != read.len() {
        return Err(ReadBackError::Count {
            read: manifest.dependencies.len(),
            locked: read.len(),
        });
    }
    super::input::compare(&read, resolution, |package| {
        files
            .get(package.name.as_ref())
            .into_iter()
            .flat_map(|f| f.sdist.iter().chain(&f.wheels))
            .map(|f| format!("sha256:{}", f.sha256))
            .collect()
    })
}

#[cfg(test)]
mod tests;
