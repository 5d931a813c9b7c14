//! Which indexes a requirement is looked up on, and with which credentials.
//!
//! The order of precedence is pip's, with repin's own configuration slotted in above the
//! environment:
//!
//! 1. the requirements file's options: `--no-index` means no lookup at all; `-i` replaces the
//!    indexes from below (extra indexes from below included, as pip's `-i` in a file does);
//!    `--extra-index-url` adds to them;
//! 2. `repin.toml` ([`ConfiguredIndexes`]);
//! 3. `PIP_INDEX_URL`, `PIP_EXTRA_INDEX_URL` (space-separated), `PIP_NO_INDEX`;
//! 4. pip configuration files ([`Environment::pip_conf_files`]), `[install]` over `[global]`;
//! 5. `https://pypi.org/simple/`.
//!
//! Layers 2 to 4 are read key by key, as pip reads its own configuration: the index URL comes
//! from the highest layer that sets one, and so do the extra index URLs.
//!
//! Credentials come from the URL's user info (percent-decoded), where `${VAR}` references are
//! expanded from the environment (an unset variable is an error); else, for a URL a file
//! names, from the operator's configured index (layers 2 to 4) with that very URL, when it has
//! credentials; else from netrc for the URL's host (for a URL the repository wrote, only the
//! host's `machine` entry, over HTTPS or loopback). They are kept out of the URL, so an
//! [`Index`] prints without them.
//!
//! A URL the repository wrote (a requirements file, a Dockerfile's `pip install`, the
//! repository's own `repin.toml`) has its `${VAR}` references expanded only as the operator's
//! allow-list says ([`crate::registry::trust`]); the operator's own settings (`PIP_*`, pip's
//! files, a configuration file outside the repository) are expanded as they are.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use url::Url;

use super::error::PypiError;
use super::model::IndexUrl;
use super::netrc::Netrc;
use super::pip_conf::{PipConf, PipConfFile};
use crate::manifest::python::IndexOptions;
use crate::registry::http::Auth;
use crate::registry::trust::{self, AllowList, Author, Origin, TrustError};
use crate::vocab::redact;

/// PyPI's simple index, used when nothing else is configured.
pub const DEFAULT_INDEX_URL: &str = "https://pypi.org/simple/";

/// Where an index came from, for reports ("found on the extra index from pip.conf").
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum IndexSource {
    /// `-i` or `--extra-index-url` in a requirements file.
    RequirementsFile {
        /// The file.
        path: PathBuf,
    },
    /// `repin.toml`.
    Config,
    /// `PIP_INDEX_URL` or `PIP_EXTRA_INDEX_URL`.
    Environment,
    /// A pip configuration file.
    PipConf {
        /// The file.
        path: PathBuf,
    },
    /// Nothing configured: PyPI.
    Default,
}

/// One index to look packages up on.
#[derive(Clone, PartialEq, Eq)]
pub struct Index {
    /// The index URL, without credentials.
    pub url: IndexUrl,
    /// Credentials sent with every request to it.
    pub auth: Option<Auth>,
    /// Where it was configured.
    pub source: IndexSource,
}

impl Index {
    /// An index without credentials (tests, and callers that build indexes themselves).
    pub fn new(url: IndexUrl, source: IndexSource) -> Self {
        Index {
            url,
            auth: None,
            source,
        }
    }
}

impl fmt::Debug for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not even the user name: it is often the token itself.
        f.debug_struct("Index")
            .field("url", &self.url)
            .field("auth", &self.auth.as_ref().map(|_| "***"))
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.url, f)
    }
}

/// Index settings from `repin.toml` (filled in by the config module).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfiguredIndexes {
    /// Replaces the environment's and pip's index URL.
    pub index_url: Option<String>,
    /// Replace the environment's and pip's extra index URLs (when not empty).
    pub extra_index_urls: Vec<String>,
    /// Who wrote the configuration: a repository's `${VAR}` references (and `username-env`,
    /// `password-env`) are checked against the allow-list.
    pub author: Author,
    /// Where each URL above is written (`path:line:col`), for errors.
    pub places: BTreeMap<String, String>,
}

/// The process environment, passed in so tests never read the real machine's.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
    home: Option<PathBuf>,
    root: PathBuf,
}

impl Environment {
    /// The real environment: variables, home directory, `/` as the system root.
    pub fn from_process() -> Self {
        Environment {
            vars: std::env::vars().collect(),
            home: dirs::home_dir(),
            root: PathBuf::from("/"),
        }
    }

    /// An empty environment: no variables, no home, system files under `root`.
    pub fn isolated(root: impl Into<PathBuf>) -> Self {
        Environment {
            vars: BTreeMap::new(),
            home: None,
            root: root.into(),
        }
    }

    /// Set a variable.
    pub fn with_var(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Set the home directory.
    pub fn with_home(mut self, home: impl Into<PathBuf>) -> Self {
        self.home = Some(home.into());
        self
    }

    /// A variable's value.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// A variable's value, unless unset or empty.
    fn non_empty(&self, name: &str) -> Option<&str> {
        self.var(name).filter(|v| !v.trim().is_empty())
    }

    /// pip's configuration files, in increasing precedence (a later file overrides):
    /// `$XDG_CONFIG_DIRS/pip/pip.conf` (default `/etc/xdg`), `/etc/pip.conf`,
    /// `~/.pip/pip.conf`, `$XDG_CONFIG_HOME/pip/pip.conf` (default `~/.config`),
    /// `$VIRTUAL_ENV/pip.conf`, `$PIP_CONFIG_FILE`. A `PIP_CONFIG_FILE` of `/dev/null`
    /// disables them all, as in pip.
    ///
    /// pip also reads `<sys.prefix>/pip.conf`; outside a virtual environment repin cannot
    /// know the interpreter's prefix, so only `$VIRTUAL_ENV` is read.
    pub fn pip_conf_files(&self) -> Vec<PathBuf> {
        let explicit = self.non_empty("PIP_CONFIG_FILE").map(PathBuf::from);
        if explicit.as_deref() == Some(Path::new("/dev/null")) {
            return Vec::new();
        }
        let mut files = Vec::new();
        let xdg_dirs: Vec<PathBuf> = match self.non_empty("XDG_CONFIG_DIRS") {
            Some(dirs) => dirs
                .split(':')
                .filter(|d| !d.is_empty())
                .map(PathBuf::from)
                .collect(),
            None => vec![self.root.join("etc/xdg")],
        };
        files.extend(xdg_dirs.iter().map(|d| d.join("pip/pip.conf")));
        files.push(self.root.join("etc/pip.conf"));
        if let Some(home) = &self.home {
            files.push(home.join(".pip/pip.conf"));
        }
        let config_home = self
            .non_empty("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| self.home.as_ref().map(|h| h.join(".config")));
        if let Some(config_home) = config_home {
            files.push(config_home.join("pip/pip.conf"));
        }
        if let Some(venv) = self.non_empty("VIRTUAL_ENV") {
            files.push(Path::new(venv).join("pip.conf"));
        }
        files.extend(explicit);
        files
    }

    /// `$NETRC`, else `~/.netrc`.
    pub fn netrc_path(&self) -> Option<PathBuf> {
        self.non_empty("NETRC")
            .map(PathBuf::from)
            .or_else(|| self.home.as_ref().map(|h| h.join(".netrc")))
    }
}

/// Expand `${NAME}` references from `env`. An unset variable is an error naming it (an
/// expansion to nothing would give a URL that fails later with a confusing message).
/// `$NAME` without braces is left alone, as pip leaves it.
pub fn expand_vars(text: &str, env: &Environment) -> Result<String, PypiError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(len) = after.find('}') else { break };
        let name = &after[..len];
        let is_name =
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        out.push_str(&rest[..start]);
        if is_name {
            let value = env.var(name).ok_or_else(|| PypiError::UndefinedVariable {
                variable: name.to_owned(),
                url: redact::text(text),
            })?;
            out.push_str(value);
        } else {
            out.push_str(&rest[start..start + 3 + len]);
        }
        rest = &after[len + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Parse a configured index URL (which may hold `${VAR}` references and credentials) into an
/// [`IndexUrl`] and the credentials it carries.
///
/// User info is split from the template *before* expansion, so a token holding `@`, `/` or
/// `:` cannot break the URL; expanded values are then percent-decoded, as pip would after
/// substituting them into the URL.
pub fn parse_index_url(
    template: &str,
    env: &Environment,
) -> Result<(IndexUrl, Option<Auth>), PypiError> {
    let template = template.trim();
    let shown = redact::text(template);
    let invalid = |source| PypiError::InvalidIndexUrl {
        url: shown.clone(),
        source,
    };
    let (scheme, rest) = template
        .split_once("://")
        .ok_or_else(|| invalid(url::ParseError::RelativeUrlWithoutBase))?;
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https") {
        return Err(PypiError::UnsupportedScheme { url: shown, scheme });
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (userinfo, host_and_path) = match rest[..authority_end].rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    // Errors name the whole URL, not the part being expanded.
    let expand = |part: &str| {
        expand_vars(part, env).map_err(|error| match error {
            PypiError::UndefinedVariable { variable, .. } => PypiError::UndefinedVariable {
                variable,
                url: shown.clone(),
            },
            other => other,
        })
    };
    let host_and_path = expand(host_and_path)?;
    // `https:///simple` would parse with `simple` as the host: an empty host is a mistake.
    if host_and_path.starts_with(['/', '?', '#']) || host_and_path.is_empty() {
        return Err(invalid(url::ParseError::EmptyHost));
    }
    let expanded = format!("{scheme}://{host_and_path}");
    let url = Url::parse(&expanded).map_err(invalid)?;
    let auth = match userinfo {
        // Credentials that came in through a variable in the host part (`https://${HOST}/`).
        None if !url.username().is_empty() || url.password().is_some() => Some(Auth::Basic {
            username: decode(url.username()),
            password: decode(url.password().unwrap_or_default()),
        }),
        None => None,
        Some(userinfo) => {
            let (user, password) = match userinfo.split_once(':') {
                Some((u, p)) => (decode(&expand(u)?), decode(&expand(p)?)),
                None => {
                    // `${USER_AND_TOKEN}@host` where the variable holds `user:token`.
                    let whole = expand(userinfo)?;
                    match whole.split_once(':') {
                        Some((u, p)) => (decode(u), decode(p)),
                        None => (decode(&whole), String::new()),
                    }
                }
            };
            (!user.is_empty() || !password.is_empty()).then_some(Auth::Basic {
                username: user,
                password,
            })
        }
    };
    Ok((IndexUrl::new(url), auth))
}

/// The origin a URL template goes to, with only the variables of its host part expanded (and
/// none read when it has none).
fn template_origin(template: &str, env: &Environment) -> Result<Origin, PypiError> {
    let template = template.trim();
    let shown = redact::text(template);
    let invalid = |source| PypiError::InvalidIndexUrl {
        url: shown.clone(),
        source,
    };
    let (scheme, rest) = template
        .split_once("://")
        .ok_or_else(|| invalid(url::ParseError::RelativeUrlWithoutBase))?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = match rest[..authority_end].rfind('@') {
        Some(at) => &rest[at + 1..authority_end],
        None => &rest[..authority_end],
    };
    let host = expand_vars(host, env).map_err(|error| match error {
        PypiError::UndefinedVariable { variable, .. } => PypiError::UndefinedVariable {
            variable,
            url: shown.clone(),
        },
        other => other,
    })?;
    let url = Url::parse(&format!("{}://{host}/", scheme.to_ascii_lowercase())).map_err(invalid)?;
    Origin::of(&url).ok_or_else(|| invalid(url::ParseError::EmptyHost))
}

/// [`parse_index_url`] for a URL written by `author`: a repository's `${VAR}` references are
/// checked against `allow` for the origin the URL goes to before any is read (see
/// [`crate::registry::trust`]); `place` (`path:line:col`) and `what` name the URL in errors.
pub fn parse_trusted_index_url(
    template: &str,
    env: &Environment,
    author: Author,
    allow: &AllowList,
    what: &str,
    place: Option<&str>,
) -> Result<(IndexUrl, Option<Auth>), PypiError> {
    let references = trust::references(template.trim());
    if author == Author::Operator || references.is_empty() {
        return parse_index_url(template, env);
    }
    let origin = allow
        .check(&references, || template_origin(template, env), what, place)
        .map_err(|refusal| PypiError::Refused(Box::new(refusal)))??;
    let (url, auth) = parse_index_url(template, env)?;
    // The host part was checked; the whole URL must go where it said (a value with `@` or `/`
    // in the host part could otherwise move it).
    if Origin::of(url.as_url()).as_ref() != Some(&origin) {
        return Err(PypiError::Refused(Box::new(TrustError::NotAllowed {
            variable: references[0].name.clone(),
            origin: None,
            place: place.map(str::to_owned),
            what: what.to_owned(),
        })));
    }
    Ok((url, auth))
}

fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// pip's `strtobool` for `no-index` and `PIP_NO_INDEX`.
fn truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "y" | "yes" | "t" | "true" | "on" | "1"
    )
}

/// Resolves the indexes of requirements. Reads pip's configuration files and netrc once, when
/// built; after that it does no I/O.
#[derive(Debug, Clone)]
pub struct IndexResolver {
    env: Environment,
    configured: ConfiguredIndexes,
    pip_conf: PipConf,
    netrc: Option<Netrc>,
    allow: AllowList,
    /// The operator's indexes with credentials (layers 2 to 4), made once, when a file first
    /// names an index without its own ([`IndexResolver::operator_auth`]).
    operator: std::sync::OnceLock<Vec<Index>>,
}

impl IndexResolver {
    /// Read pip's configuration files and netrc from the places `env` names.
    pub fn new(env: Environment, configured: ConfiguredIndexes) -> Result<Self, PypiError> {
        let mut files = Vec::new();
        for path in env.pip_conf_files() {
            files.extend(PipConfFile::load(&path)?);
        }
        let netrc = match env.netrc_path() {
            // requests ignores an unreadable netrc; so does repin.
            Some(path) => Netrc::load(&path).ok().flatten(),
            None => None,
        };
        Ok(IndexResolver {
            pip_conf: PipConf::merge(&files),
            env,
            configured,
            netrc,
            allow: AllowList::default(),
            operator: std::sync::OnceLock::new(),
        })
    }

    /// The operator's grants: which variables a repository's URLs may have expanded, for which
    /// origins (none by default).
    pub fn with_allow_list(mut self, allow: AllowList) -> Self {
        self.allow = allow;
        // A repository's repin.toml indexes are expanded as the allow-list says.
        self.operator = std::sync::OnceLock::new();
        self
    }

    /// The indexes for a requirement with `options` from the requirements file at `file` (the
    /// file path is only used as the source), in lookup order, without duplicates. Empty when
    /// an index lookup is disabled (`--no-index`).
    pub fn indexes(
        &self,
        options: &IndexOptions,
        file: Option<&Path>,
    ) -> Result<Vec<Index>, PypiError> {
        let from_file = || IndexSource::RequirementsFile {
            path: file.map(Path::to_path_buf).unwrap_or_default(),
        };
        if options.no_index || self.base_no_index() {
            return Ok(Vec::new());
        }
        let mut templates: Vec<(String, IndexSource)> = match &options.index_url {
            Some(url) => vec![(url.clone(), from_file())],
            None => {
                let mut base = vec![self.base_index_url()];
                base.extend(self.base_extra_index_urls());
                base
            }
        };
        templates.extend(
            options
                .extra_index_urls
                .iter()
                .map(|url| (url.clone(), from_file())),
        );
        let mut indexes: Vec<Index> = Vec::new();
        for (template, source) in templates {
            let place = match &source {
                IndexSource::RequirementsFile { .. } => options.place_of(&template),
                IndexSource::Config => self.configured.places.get(&template).map(String::as_str),
                _ => None,
            };
            let index = self.index_at(&template, source, place)?;
            if !indexes.iter().any(|i| i.url == index.url) {
                indexes.push(index);
            }
        }
        Ok(indexes)
    }

    /// The credentials repin itself sends to the index at `template`, a URL the repository
    /// file at `file` declares (for a locking tool that is given them, see
    /// `lookup::tool_lock::credentials`): the URL's own (its `${VAR}` references expanded only
    /// as the allow-list grants), else the operator's for that very URL (an index of
    /// repin.toml, `PIP_*` or pip's files), else netrc's for its host. `None` when there are
    /// none, or the URL is refused or invalid.
    pub fn credentials_for(&self, template: &str, file: &Path) -> Option<Auth> {
        let source = IndexSource::RequirementsFile {
            path: file.to_path_buf(),
        };
        self.index(template, source).ok()?.auth
    }

    /// The `${VAR}` references of `template`, a URL the repository file at `file` declares,
    /// with their values, when the operator's allow-list grants every one of them for the
    /// origin the URL goes to (and each is set); else none (for a tool that expands them
    /// itself, such as Pipenv).
    pub fn granted_variables(&self, template: &str, file: &Path) -> Vec<(String, String)> {
        let references = trust::references(template.trim());
        if references.is_empty() {
            return Vec::new();
        }
        let source = IndexSource::RequirementsFile {
            path: file.to_path_buf(),
        };
        if self.index(template, source).is_err() {
            return Vec::new();
        }
        let mut out: Vec<(String, String)> = Vec::new();
        for reference in references {
            if out.iter().any(|(name, _)| *name == reference.name) {
                continue;
            }
            match self.env.var(&reference.name) {
                Some(value) => out.push((reference.name, value.to_owned())),
                None => return Vec::new(),
            }
        }
        out
    }

    /// Build one index from a configured URL: credentials from the URL, else from netrc.
    pub fn index(&self, template: &str, source: IndexSource) -> Result<Index, PypiError> {
        self.index_at(template, source, None)
    }

    /// [`IndexResolver::index`] for a URL written at `place` (`path:line:col`), for errors.
    fn index_at(
        &self,
        template: &str,
        source: IndexSource,
        place: Option<&str>,
    ) -> Result<Index, PypiError> {
        let (author, what) = match &source {
            IndexSource::RequirementsFile { .. } => (Author::Repository, "the index URL"),
            IndexSource::Config => (
                self.configured.author,
                "the `[[indexes]]` URL of repin.toml (with its username-env and password-env)",
            ),
            _ => (Author::Operator, "the index URL"),
        };
        let (url, mut auth) =
            parse_trusted_index_url(template, &self.env, author, &self.allow, what, place)?;
        if auth.is_none() && matches!(source, IndexSource::RequirementsFile { .. }) {
            // A file names an index the operator configured with credentials: the operator's
            // credentials for that very URL (and only for it).
            auth = self.operator_auth(&url);
        }
        if auth.is_none() {
            auth = self.netrc_auth(&url, author);
        }
        Ok(Index { url, auth, source })
    }

    /// netrc's credentials for `url`'s host. For a URL the operator wrote, as pip reads them:
    /// the host's `machine` entry, else the `default` one. For a URL the repository wrote, only
    /// the host's own `machine` entry, and only over HTTPS or to the machine itself: the
    /// `default` entry would go to any host a repository names, and a repository's `http://`
    /// would put the operator's password on the network in the clear.
    fn netrc_auth(&self, url: &IndexUrl, author: Author) -> Option<Auth> {
        let netrc = self.netrc.as_ref()?;
        let host = url.as_url().host_str()?;
        let entry = match author {
            Author::Operator => netrc.lookup(host)?,
            Author::Repository => {
                if !Origin::of(url.as_url()).is_some_and(|origin| origin.is_confidential()) {
                    return None;
                }
                netrc.machine(host)?
            }
        };
        Some(Auth::Basic {
            username: entry.login.clone(),
            password: entry.password.clone(),
        })
    }

    /// The credentials of the operator's index at exactly `url`, if it has any.
    fn operator_auth(&self, url: &IndexUrl) -> Option<Auth> {
        self.operator
            .get_or_init(|| {
                let base = self.indexes(&IndexOptions::default(), None);
                base.unwrap_or_default()
                    .into_iter()
                    .filter(|index| index.auth.is_some())
                    .collect()
            })
            .iter()
            .find(|index| index.url == *url)
            .and_then(|index| index.auth.clone())
    }

    fn base_no_index(&self) -> bool {
        match self.env.non_empty("PIP_NO_INDEX") {
            Some(value) => truthy(value),
            None => self
                .pip_conf
                .get("no-index")
                .is_some_and(|s| truthy(&s.value)),
        }
    }

    fn base_index_url(&self) -> (String, IndexSource) {
        if let Some(url) = &self.configured.index_url {
            return (url.clone(), IndexSource::Config);
        }
        if let Some(url) = self.env.non_empty("PIP_INDEX_URL") {
            return (url.trim().to_owned(), IndexSource::Environment);
        }
        if let Some(setting) = self.pip_conf.get("index-url") {
            return (
                setting.value.trim().to_owned(),
                IndexSource::PipConf {
                    path: setting.path.clone(),
                },
            );
        }
        (DEFAULT_INDEX_URL.to_owned(), IndexSource::Default)
    }

    fn base_extra_index_urls(&self) -> Vec<(String, IndexSource)> {
        if !self.configured.extra_index_urls.is_empty() {
            return self
                .configured
                .extra_index_urls
                .iter()
                .map(|u| (u.clone(), IndexSource::Config))
                .collect();
        }
        if let Some(urls) = self.env.non_empty("PIP_EXTRA_INDEX_URL") {
            return urls
                .split_whitespace()
                .map(|u| (u.to_owned(), IndexSource::Environment))
                .collect();
        }
        match self.pip_conf.get("extra-index-url") {
            Some(setting) => setting
                .value
                .split_whitespace()
                .map(|u| {
                    (
                        u.to_owned(),
                        IndexSource::PipConf {
                            path: setting.path.clone(),
                        },
                    )
                })
                .collect(),
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests;
