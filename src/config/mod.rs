//! `repin.toml`: the repository's configuration, its defaults, and its validation.
//!
//! The file lives at the repository root or in `.github/`. Every key is known: an unknown or
//! misspelt key is an error pointing at `path:line:col`, never silently ignored, because a
//! typo in an ignore rule would otherwise open pull requests the user asked not to get.

pub mod duration;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use globset::{Glob, GlobMatcher};
use serde::Deserialize;
use toml::Spanned;

use crate::registry::trust::Author;
use crate::text::{Diagnostic, Encoding, RepoRoot, SourceFile, Span};
pub use crate::versioning::UpdateKind;
use crate::versioning::support::{Release, ReleaseData, SupportDate, SupportError};

/// The names repin looks for, in order, relative to the repository root.
pub const FILE_NAMES: [&str; 2] = ["repin.toml", ".github/repin.toml"];

/// Errors loading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but cannot be read.
    #[error("Cannot read `{path}`")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid, with a diagnostic pointing at the place.
    #[error("{0}")]
    Invalid(Box<Diagnostic>),
    /// repin refused to read the file: it leads outside the repository, or is not a regular
    /// file.
    #[error("Refused to read the configuration `{path}`")]
    Refused {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: crate::text::RepoFsError,
    },
}

impl ConfigError {
    /// The diagnostic, for errors that point into the file.
    pub fn diagnostic(&self) -> Option<&Diagnostic> {
        match self {
            ConfigError::Invalid(d) => Some(d),
            ConfigError::Read { .. } | ConfigError::Refused { .. } => None,
        }
    }
}

impl crate::error::Hint for ConfigError {
    fn hints(&self) -> Vec<String> {
        match self {
            ConfigError::Refused { source, .. } => source.hint().into_iter().collect(),
            ConfigError::Read { .. } | ConfigError::Invalid(_) => Vec::new(),
        }
    }
}

/// All kinds enabled unless configured otherwise; migrations are opt-in.
pub const DEFAULT_KINDS: &[UpdateKind] = &[
    UpdateKind::Patch,
    UpdateKind::Minor,
    UpdateKind::Major,
    UpdateKind::PythonMinor,
    UpdateKind::Digest,
    UpdateKind::Pin,
];

/// How a version range is updated, as written in configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyName {
    /// Exact pins are bumped; ranges are replaced when the new version falls outside.
    #[default]
    Auto,
    /// Every requirement becomes an exact `==` pin.
    Pin,
    /// Raise lower bounds to the new version.
    Bump,
    /// Keep lower bounds, widen the upper bound to admit the new version.
    Widen,
    /// Replace the range with one of the same shape around the new version.
    Replace,
}

/// How often compiled locks are re-locked as a whole (`[update] lock-maintenance`), like
/// Renovate's `lockFileMaintenance`: every pin free to move, in a pull request of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LockMaintenance {
    /// Never (the default).
    #[default]
    Off,
    /// In every run.
    Daily,
    /// In the runs of each Monday (UTC).
    Weekly,
    /// In the runs of the first day of each month (UTC).
    Monthly,
}

impl LockMaintenance {
    /// Whether a run at `now` (seconds since the epoch) is one that re-locks.
    pub fn due(self, now: i64) -> bool {
        let Ok(time) = jiff::Timestamp::from_second(now) else {
            return false;
        };
        let date = time.to_zoned(jiff::tz::TimeZone::UTC).date();
        match self {
            LockMaintenance::Off => false,
            LockMaintenance::Daily => true,
            LockMaintenance::Weekly => date.weekday() == jiff::civil::Weekday::Monday,
            LockMaintenance::Monthly => date.day() == 1,
        }
    }

    /// The period, for messages (`weekly`).
    pub fn as_str(self) -> &'static str {
        match self {
            LockMaintenance::Off => "off",
            LockMaintenance::Daily => "daily",
            LockMaintenance::Weekly => "weekly",
            LockMaintenance::Monthly => "monthly",
        }
    }
}

/// Which secure version a security update moves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixStrategy {
    /// The lowest release free of every known advisory (smallest change).
    #[default]
    Lowest,
    /// The highest release free of every known advisory.
    Highest,
}

/// Which Python minor an end-of-life base image migrates to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationTarget {
    /// The oldest Python minor still supported (smallest change).
    #[default]
    OldestSupported,
    /// The newest stable Python minor.
    Newest,
}

/// What a minimum release age does with an image update whose registry does not say when it
/// was built (no `created` in its config, no `org.opencontainers.image.created` annotation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MissingReleaseAge {
    /// Hold it back, with a note: an age that cannot be told is not old enough.
    #[default]
    Hold,
    /// Propose it as if it were old enough.
    Allow,
}

/// Where advisories come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdvisorySource {
    /// The OSV API.
    #[default]
    Osv,
    /// An offline OSV directory or zip (`advisories.path`).
    Offline,
    /// No advisory lookups.
    Off,
}

/// The whole `repin.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Config {
    /// Python-wide settings.
    pub python: PythonConfig,
    /// What updates to propose.
    pub update: UpdateConfig,
    /// Package indexes besides (or instead of) PyPI.
    pub indexes: Vec<IndexConfig>,
    /// Container registries: endpoints, credentials, insecure ones.
    pub registries: BTreeMap<String, RegistryConfig>,
    /// Base-image settings.
    pub images: ImagesConfig,
    /// Vulnerability advisories.
    pub advisories: AdvisoryConfig,
    /// Per-dependency rules, applied in order (later rules win).
    pub rules: Vec<Rule>,
    /// Which paths to read.
    pub paths: PathsConfig,
    /// How `repin pr` opens, updates and limits pull requests.
    pub pull_requests: PullRequestConfig,
    /// Time limits of the network requests of a run.
    pub network: NetworkConfig,
}

/// `[network]`: time limits of a run's requests (durations such as `30s`, `500ms`, `5m`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct NetworkConfig {
    /// Time allowed for one attempt of a request, body included (60 s).
    pub timeout: Option<Spanned<String>>,
    /// Time allowed to connect (10 s).
    pub connect_timeout: Option<Spanned<String>>,
    /// Time one host may take in a run, from its first request (5 minutes).
    pub host_deadline: Option<Spanned<String>>,
    /// Time the run may take on the network (15 minutes).
    pub run_deadline: Option<Spanned<String>>,
    /// Retries of a failed request (3).
    pub retries: Option<u32>,
}

/// `[network]` with its durations parsed (`None`: the default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkLimits {
    /// See [`NetworkConfig::timeout`].
    pub timeout: Option<Duration>,
    /// See [`NetworkConfig::connect_timeout`].
    pub connect_timeout: Option<Duration>,
    /// See [`NetworkConfig::host_deadline`].
    pub host_deadline: Option<Duration>,
    /// See [`NetworkConfig::run_deadline`].
    pub run_deadline: Option<Duration>,
    /// See [`NetworkConfig::retries`].
    pub retries: Option<u32>,
}

/// `[python]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct PythonConfig {
    /// The Python the service runs on (`3.12`), when no Dockerfile's base image says it.
    pub version: Option<Spanned<String>>,
    /// How ranges are updated.
    pub range_strategy: StrategyName,
    /// Propose pre-releases.
    pub prereleases: bool,
}

/// `[update]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct UpdateConfig {
    /// The kinds of update to propose.
    pub kinds: Vec<UpdateKind>,
    /// Releases younger than this are not proposed (security fixes excepted).
    pub minimum_release_age: Option<Spanned<String>>,
    /// Add digests to image tags that have none.
    pub pin_digests: bool,
    /// Turn Python ranges into exact pins.
    pub pin_ranges: bool,
    /// Which secure version a security update picks.
    pub fix_strategy: FixStrategy,
    /// How often compiled locks get a full re-lock in a pull request of their own.
    pub lock_maintenance: LockMaintenance,
}

impl Default for UpdateConfig {
    fn default() -> Self {
        UpdateConfig {
            kinds: DEFAULT_KINDS.to_vec(),
            minimum_release_age: None,
            pin_digests: true,
            pin_ranges: false,
            fix_strategy: FixStrategy::Lowest,
            lock_maintenance: LockMaintenance::Off,
        }
    }
}

/// `[[indexes]]`: a PyPI-compatible index.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct IndexConfig {
    /// The simple-API base URL (`https://pypi.example/simple/`).
    pub url: Spanned<String>,
    /// Replace PyPI as the primary index (otherwise it is an extra index).
    #[serde(default)]
    pub primary: bool,
    /// Environment variable holding the user name.
    pub username_env: Option<Spanned<String>>,
    /// Environment variable holding the password or token.
    pub password_env: Option<Spanned<String>>,
}

/// `[registries."host"]`: a container registry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct RegistryConfig {
    /// Base URL to use instead of the host itself (a mirror, a pull-through cache).
    pub url: Option<Spanned<String>>,
    /// Environment variable holding the user name.
    pub username_env: Option<Spanned<String>>,
    /// Environment variable holding the password or token.
    pub password_env: Option<Spanned<String>>,
    /// Use plain HTTP.
    pub insecure: bool,
}

/// `[images]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ImagesConfig {
    /// Platforms the images run on; a digest change that leaves these platforms' manifests
    /// unchanged is not an update.
    pub platforms: Vec<String>,
    /// Where an end-of-life Python base image migrates to.
    pub migration_target: MigrationTarget,
    /// End-of-life dates replacing (or adding to) the embedded release data, by Python minor
    /// (`"3.9"`), Debian codename (`bullseye`) or Alpine branch (`alpine3.19`).
    pub end_of_life: BTreeMap<Spanned<String>, Spanned<DateValue>>,
    /// Read the base images' OS packages from their registries and check them against the
    /// distributions' advisories: an image update that fixes CVEs becomes a security update.
    pub scan: bool,
    /// With a minimum release age: what happens to an image update whose registry does not
    /// say when it was built.
    pub missing_release_age: MissingReleaseAge,
    /// Put the package updates a base image's Python-minor (or migration) update unblocks in
    /// its pull request, written with it and never alone.
    pub group_unblocked: bool,
}

impl Default for ImagesConfig {
    fn default() -> Self {
        ImagesConfig {
            scan: false,
            missing_release_age: MissingReleaseAge::Hold,
            group_unblocked: false,
            platforms: vec!["linux/amd64".into()],
            migration_target: MigrationTarget::OldestSupported,
            end_of_life: BTreeMap::new(),
        }
    }
}

/// A date in `repin.toml`: a string (`"2025-10-31"`, `"2026-10"`) or a TOML date
/// (`2025-10-31`), checked when the file is loaded.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged, expecting = "a date such as \"2025-10-31\"")]
pub enum DateValue {
    /// A quoted date.
    Text(String),
    /// A TOML date (or date-time, which is refused when checked).
    Date(toml::value::Datetime),
}

impl DateValue {
    /// The date as text.
    pub fn text(&self) -> String {
        match self {
            DateValue::Text(text) => text.clone(),
            DateValue::Date(date) => date.to_string(),
        }
    }
}

/// `[advisories]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct AdvisoryConfig {
    /// Where advisories come from.
    pub source: AdvisorySource,
    /// The offline database (directory or zip), for `source = "offline"`.
    pub path: Option<Spanned<String>>,
    /// The OSV API base URL (for mirrors).
    pub osv_url: Option<Spanned<String>>,
}

/// When `repin pr` recommits an open pull request on its moved base branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RebasePolicy {
    /// Whenever the base branch moved: every PR is always based on the newest base.
    #[default]
    Behind,
    /// Only when a file the PR edits changed on the base (the PR would conflict).
    Conflicted,
    /// Never; a PR is only recommitted when its update changes.
    Never,
}

/// `[pull-requests]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct PullRequestConfig {
    /// A prefix for commit messages and titles (`chore(deps):`), none by default.
    pub commit_prefix: Option<String>,
    /// Labels on every pull request.
    pub labels: Vec<String>,
    /// Labels added to security updates.
    pub security_labels: Vec<String>,
    /// At most this many of repin's pull requests open at once; 0 for no limit. Security
    /// updates are exempt.
    pub max_open: u32,
    /// At most this many pull requests opened per hour; 0 for no limit. Security updates are
    /// exempt.
    pub max_per_hour: u32,
    /// Keep a dependency dashboard issue.
    pub dashboard: bool,
    /// When an open pull request is recommitted on its moved base branch.
    pub rebase: RebasePolicy,
    /// Author and committer of update commits, as `Name <email>`.
    pub author: Option<Spanned<String>>,
}

impl Default for PullRequestConfig {
    fn default() -> Self {
        PullRequestConfig {
            commit_prefix: None,
            labels: vec!["dependencies".into()],
            security_labels: vec!["security".into()],
            max_open: 10,
            max_per_hour: 0,
            dashboard: true,
            rebase: RebasePolicy::Behind,
            author: None,
        }
    }
}

/// `[paths]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct PathsConfig {
    /// Globs of paths to skip (relative to the root).
    pub exclude: Vec<Spanned<String>>,
}

/// `[[rules]]`: settings for the dependencies a rule matches.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Rule {
    /// Globs on the normalised package name or full image name; empty matches all.
    pub names: Vec<Spanned<String>>,
    /// Globs on the manifest path; empty matches all.
    pub files: Vec<Spanned<String>>,
    /// Kinds of update the rule applies to; empty matches all.
    pub kinds: Vec<UpdateKind>,
    /// `false` ignores matching dependencies entirely.
    pub enabled: Option<bool>,
    /// Only propose versions in this PEP 440 range (`<5`).
    pub allowed_versions: Option<Spanned<String>>,
    /// Never propose these exact versions.
    pub ignore_versions: Vec<Spanned<String>>,
    /// Cooldown for matching dependencies.
    pub minimum_release_age: Option<Spanned<String>>,
    /// Range strategy for matching dependencies.
    pub range_strategy: Option<StrategyName>,
    /// Put matching updates in this pull-request group.
    pub group: Option<String>,
    /// The Python the matching files are installed with (`3.11`), when no Dockerfile stage,
    /// lock header or nearest Dockerfile says.
    pub python: Option<Spanned<String>>,
}

/// `Name <email>` split into its parts; `None` when it is not of that shape.
pub fn parse_identity(text: &str) -> Option<(String, String)> {
    let (name, rest) = text.split_once('<')?;
    let email = rest.strip_suffix('>')?.trim();
    let name = name.trim();
    (!name.is_empty() && email.contains('@') && !email.contains(['<', '>']))
        .then(|| (name.to_owned(), email.to_owned()))
}

/// A rule with its globs compiled.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    /// The rule as written.
    pub rule: Rule,
    names: Vec<GlobMatcher>,
    files: Vec<GlobMatcher>,
    /// The parsed `allowed-versions`.
    pub allowed: Option<pep440_rs::VersionSpecifiers>,
    /// The parsed cooldown.
    pub minimum_release_age: Option<Duration>,
    /// The parsed `python`, with its 1-based line.
    pub python: Option<(pep440_rs::Version, usize)>,
}

impl CompiledRule {
    /// Whether the rule's `files` match `file` (a rule without `files` matches every file).
    pub fn matches_file(&self, file: &Path) -> bool {
        self.files.is_empty() || self.files.iter().any(|g| g.is_match(file))
    }

    /// Whether the rule matches a dependency `name` in `file` for an update of `kind`
    /// (`None` when the kind is not known yet, which matches any kind filter).
    pub fn matches(&self, name: &str, file: &Path, kind: Option<UpdateKind>) -> bool {
        let name_ok = self.names.is_empty() || self.names.iter().any(|g| g.is_match(name));
        let file_ok = self.files.is_empty() || self.files.iter().any(|g| g.is_match(file));
        let kind_ok = match kind {
            Some(k) => self.rule.kinds.is_empty() || self.rule.kinds.contains(&k),
            None => true,
        };
        name_ok && file_ok && kind_ok
    }
}

/// A loaded and validated configuration.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// The configuration as written (defaults filled in).
    pub config: Config,
    /// Where it came from, or `None` for defaults.
    pub path: Option<PathBuf>,
    /// Rules with compiled globs and parsed values.
    pub rules: Vec<CompiledRule>,
    /// The global cooldown.
    pub minimum_release_age: Option<Duration>,
    /// The target Python from `[python] version`.
    pub python_version: Option<pep440_rs::Version>,
    /// `[python] version` with its 1-based line.
    pub python_version_at: Option<(pep440_rs::Version, usize)>,
    /// Compiled `[paths] exclude` globs.
    pub exclude: Vec<GlobMatcher>,
    /// Release and end-of-life dates: the embedded data with `[images.end-of-life]` applied.
    pub release_data: ReleaseData,
    /// `[network]`, parsed.
    pub network: NetworkLimits,
    /// Who wrote it: the repository (its own `repin.toml`, or any file inside it, whoever names
    /// it) or the operator (a `--config` file outside the repository). A repository's settings
    /// cannot send the operator's credentials anywhere or read outside the repository.
    pub author: Author,
    /// The repository the configuration belongs to, which a repository's paths are confined to.
    pub root: Option<RepoRoot>,
    /// Where each `[[indexes]]` entry is (`path:line:col` of its `url`), in order, for errors.
    pub index_places: Vec<String>,
    /// Where each `[registries."host"]` credential setting is (`path:line:col` of its
    /// `username-env`, else its `password-env`), by host, for errors.
    pub registry_places: BTreeMap<String, String>,
}

/// The stack `repin.toml` is parsed on. The `toml` parser recurses into nested arrays and
/// tables up to 80 levels: a hostile file reaching that needs more stack than a small thread
/// (a test's, a runtime's worker) has, so it gets a thread of its own.
const TOML_STACK: usize = 16 << 20;

/// Parse TOML on a thread with [`TOML_STACK`] of stack (inline when no thread can be started).
fn parse_toml<T: serde::de::DeserializeOwned + Send>(text: &str) -> Result<T, toml::de::Error> {
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("repin-toml".into())
            .stack_size(TOML_STACK)
            .spawn_scoped(scope, || toml::from_str(text));
        match spawned {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => toml::from_str(text),
        }
    })
}

impl Loaded {
    /// Find and load the configuration of the repository at `root`; defaults when there is none.
    ///
    /// The file is read through the repository root of `root` ([`RepoRoot::of`]): a
    /// `repin.toml` that is a link out of the repository, a FIFO or a device is refused, never
    /// read (its content could otherwise be quoted in a syntax error).
    pub fn discover(root: &Path) -> Result<Loaded, ConfigError> {
        let repo = RepoRoot::of(root).map_err(|source| ConfigError::Refused {
            path: root.to_path_buf(),
            source,
        })?;
        for name in FILE_NAMES {
            let path = root.join(name);
            match repo.read(&path) {
                Ok(bytes) => {
                    let source = SourceFile::from_bytes(&path, &bytes).map_err(|e| {
                        ConfigError::Invalid(Box::new(Diagnostic::file(
                            &path,
                            crate::text::Severity::Error,
                            e.to_string(),
                        )))
                    })?;
                    let mut loaded = Loaded::parse(&source)?;
                    loaded.root = Some(repo);
                    return Ok(loaded);
                }
                Err(error) if error.is_not_found() => {}
                Err(crate::text::RepoFsError::Read { path, source }) => {
                    return Err(ConfigError::Read { path, source });
                }
                Err(source) => return Err(ConfigError::Refused { path, source }),
            }
        }
        Ok(Loaded {
            root: Some(repo),
            ..Loaded::default()
        })
    }

    /// Load the configuration file the operator named (`--config`) for the repository at
    /// `root`. A file inside the repository is the repository's, whoever names it: read through
    /// the repository root (a link out of it is refused) and trusted no more than its own
    /// `repin.toml`. A file outside it is the operator's.
    pub fn read_given(path: &Path, root: &Path) -> Result<Loaded, ConfigError> {
        let repo = RepoRoot::of(root).map_err(|source| ConfigError::Refused {
            path: root.to_path_buf(),
            source,
        })?;
        let absolute = std::path::absolute(path)
            .map(|p| crate::text::repo_fs::normalise(&p))
            .map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        if !(absolute.starts_with(repo.given()) || absolute.starts_with(repo.path())) {
            let mut loaded = Loaded::read(path)?;
            loaded.author = Author::Operator;
            loaded.root = Some(repo);
            return Ok(loaded);
        }
        let source = repo.read_source(path).map_err(|e| match e {
            crate::text::TextError::Read { path, source } => ConfigError::Read { path, source },
            crate::text::TextError::Refused { path, source } => {
                ConfigError::Refused { path, source }
            }
            other => ConfigError::Invalid(Box::new(Diagnostic::file(
                path,
                crate::text::Severity::Error,
                other.to_string(),
            ))),
        })?;
        let mut loaded = Loaded::parse(&source)?;
        loaded.root = Some(repo);
        Ok(loaded)
    }

    /// Load a configuration file (written by the repository, unless the caller says otherwise).
    pub fn read(path: &Path) -> Result<Loaded, ConfigError> {
        let source = SourceFile::read(path).map_err(|e| match e {
            crate::text::TextError::Read { path, source } => ConfigError::Read { path, source },
            crate::text::TextError::Refused { path, source } => {
                ConfigError::Refused { path, source }
            }
            other => ConfigError::Invalid(Box::new(Diagnostic::file(
                path,
                crate::text::Severity::Error,
                other.to_string(),
            ))),
        })?;
        Loaded::parse(&source)
    }

    /// Parse and validate configuration text.
    pub fn parse(source: &SourceFile) -> Result<Loaded, ConfigError> {
        let config: Config = parse_toml(source.text()).map_err(|e| {
            let span = e
                .span()
                .map_or(Span::empty(0), |r| Span::new(r.start, r.end));
            let message = e.message().trim().trim_end_matches('.');
            ConfigError::Invalid(Box::new(
                Diagnostic::error(source, span, capitalise(message))
                    .with_hint("see the configuration section of the README for every key"),
            ))
        })?;
        let invalid = |spanned_span: std::ops::Range<usize>, message: String| {
            ConfigError::Invalid(Box::new(Diagnostic::error(
                source,
                Span::new(spanned_span.start, spanned_span.end),
                message,
            )))
        };
        let glob = |s: &Spanned<String>| {
            Glob::new(s.get_ref())
                .map(|g| g.compile_matcher())
                .map_err(|e| {
                    invalid(
                        s.span(),
                        format!("Invalid glob `{}`: {}", s.get_ref(), e.kind()),
                    )
                })
        };
        let age = |s: &Option<Spanned<String>>| -> Result<Option<Duration>, ConfigError> {
            s.as_ref()
                .map(|s| {
                    duration::parse(s.get_ref()).map_err(|e| {
                        invalid(s.span(), format!("Invalid duration `{}`: {e}", s.get_ref()))
                    })
                })
                .transpose()
        };
        let mut rules = Vec::new();
        for rule in &config.rules {
            let names = rule.names.iter().map(glob).collect::<Result<_, _>>()?;
            let files = rule.files.iter().map(glob).collect::<Result<_, _>>()?;
            let allowed = rule
                .allowed_versions
                .as_ref()
                .map(|s| {
                    s.get_ref()
                        .parse::<pep440_rs::VersionSpecifiers>()
                        .map_err(|e| {
                            invalid(
                                s.span(),
                                format!("Invalid version range `{}`: {e}", s.get_ref()),
                            )
                        })
                })
                .transpose()?;
            for v in &rule.ignore_versions {
                if v.get_ref().trim().is_empty() {
                    return Err(invalid(
                        v.span(),
                        "An ignored version cannot be empty".into(),
                    ));
                }
            }
            rules.push(CompiledRule {
                rule: rule.clone(),
                names,
                files,
                allowed,
                minimum_release_age: age(&rule.minimum_release_age)?,
                python: rule
                    .python
                    .as_ref()
                    .map(|v| python_minor(source, v))
                    .transpose()?,
            });
        }
        for env in config
            .indexes
            .iter()
            .flat_map(|i| [&i.username_env, &i.password_env])
            .chain(
                config
                    .registries
                    .values()
                    .flat_map(|r| [&r.username_env, &r.password_env]),
            )
            .flatten()
        {
            let name = env.get_ref();
            let valid = !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(invalid(
                    env.span(),
                    format!("`{name}` is not an environment variable name"),
                ));
            }
        }
        for url in config
            .indexes
            .iter()
            .map(|i| &i.url)
            .chain(config.registries.values().filter_map(|r| r.url.as_ref()))
            .chain(config.advisories.osv_url.iter())
        {
            if let Err(e) = url::Url::parse(url.get_ref()) {
                return Err(invalid(
                    url.span(),
                    format!("Invalid URL `{}`: {e}", url.get_ref()),
                ));
            }
        }
        if let Some(author) = &config.pull_requests.author {
            if parse_identity(author.get_ref()).is_none() {
                return Err(invalid(
                    author.span(),
                    format!("`{}` is not `Name <email>`", author.get_ref()),
                ));
            }
        }
        if config.advisories.source == AdvisorySource::Offline && config.advisories.path.is_none() {
            return Err(ConfigError::Invalid(Box::new(
                Diagnostic::error(
                    source,
                    Span::empty(0),
                    "`advisories.source = \"offline\"` needs `advisories.path`",
                )
                .with_hint("point `path` at an OSV directory or a PyPI all.zip"),
            )));
        }
        let python_version_at = config
            .python
            .version
            .as_ref()
            .map(|v| python_minor(source, v))
            .transpose()?;
        let python_version = python_version_at.as_ref().map(|(v, _)| v.clone());
        let exclude = config
            .paths
            .exclude
            .iter()
            .map(glob)
            .collect::<Result<_, _>>()?;
        let release_data = release_data(source, &config.images)?;
        // A zero time limit would fail every request: refused here, with where it is.
        let limit = |s: &Option<Spanned<String>>| -> Result<Option<Duration>, ConfigError> {
            match (age(s)?, s) {
                (Some(d), Some(s)) if d.is_zero() => Err(invalid(
                    s.span(),
                    format!("A time limit of `{}` would fail every request", s.get_ref()),
                )),
                (d, _) => Ok(d),
            }
        };
        let network = NetworkLimits {
            timeout: limit(&config.network.timeout)?,
            connect_timeout: limit(&config.network.connect_timeout)?,
            host_deadline: limit(&config.network.host_deadline)?,
            run_deadline: limit(&config.network.run_deadline)?,
            retries: config.network.retries,
        };
        let place = |span: std::ops::Range<usize>| {
            crate::text::place(source.path(), source.position(span.start))
        };
        let index_places = config.indexes.iter().map(|i| place(i.url.span())).collect();
        let registry_places = config
            .registries
            .iter()
            .filter_map(|(host, r)| {
                // The user name is checked first, so it is the one named when both are refused.
                let at = r.username_env.as_ref().or(r.password_env.as_ref())?;
                Some((host.clone(), place(at.span())))
            })
            .collect();
        Ok(Loaded {
            network,
            minimum_release_age: age(&config.update.minimum_release_age)?,
            config,
            path: Some(source.path().to_path_buf()),
            rules,
            python_version,
            python_version_at,
            exclude,
            release_data,
            author: Author::Repository,
            root: None,
            index_places,
            registry_places,
        })
    }

    /// Parse configuration text given directly (tests, `--config` contents).
    pub fn from_text(path: impl Into<PathBuf>, text: &str) -> Result<Loaded, ConfigError> {
        Loaded::parse(&SourceFile::from_text(
            path,
            Encoding::Utf8,
            text.to_owned(),
        ))
    }

    /// The rules matching a dependency, in order.
    pub fn rules_for<'a>(
        &'a self,
        name: &'a str,
        file: &'a Path,
        kind: Option<UpdateKind>,
    ) -> impl Iterator<Item = &'a CompiledRule> + 'a {
        self.rules
            .iter()
            .filter(move |r| r.matches(name, file, kind))
    }

    /// Whether a path is excluded by `[paths] exclude`.
    pub fn is_excluded(&self, relative: &Path) -> bool {
        self.exclude.iter().any(|g| g.is_match(relative))
    }
}

/// A Python version setting (`3.12`) with its 1-based line; an invalid one is an error at its
/// place.
fn python_minor(
    source: &SourceFile,
    value: &Spanned<String>,
) -> Result<(pep440_rs::Version, usize), ConfigError> {
    let span = value.span();
    let version = value
        .get_ref()
        .trim()
        .parse::<pep440_rs::Version>()
        .ok()
        .filter(|v| v.release().len() >= 2 && !v.any_prerelease() && !v.is_local())
        .ok_or_else(|| {
            ConfigError::Invalid(Box::new(
                Diagnostic::error(
                    source,
                    Span::new(span.start, span.end),
                    format!("Invalid Python version `{}`", value.get_ref()),
                )
                .with_hint("write a Python minor such as \"3.12\""),
            ))
        })?;
    Ok((version, source.position(span.start).line))
}

/// The embedded release data with the `[images.end-of-life]` overrides applied; a key or date
/// that is not understood is an error at its place.
fn release_data(source: &SourceFile, images: &ImagesConfig) -> Result<ReleaseData, ConfigError> {
    let invalid = |span: std::ops::Range<usize>, error: SupportError, what: &str| {
        let mut diagnostic = Diagnostic::error(
            source,
            Span::new(span.start, span.end),
            format!("{error} in `[images.end-of-life]`{what}"),
        );
        if let Some(hint) = error.hint() {
            diagnostic = diagnostic.with_hint(hint);
        }
        ConfigError::Invalid(Box::new(diagnostic))
    };
    let mut data = ReleaseData::embedded().clone();
    for (key, value) in &images.end_of_life {
        let release = Release::parse(key.get_ref()).ok_or_else(|| {
            let error = SupportError::UnknownRelease {
                key: key.get_ref().clone(),
            };
            invalid(key.span(), error, "")
        })?;
        let date = SupportDate::parse(&value.get_ref().text())
            .map_err(|e| invalid(value.span(), e, &format!(" for {release}")))?;
        data.set_end_of_life(release, date);
    }
    Ok(data)
}

fn capitalise(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
