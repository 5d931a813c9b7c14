//! The credentials a locking tool is given: for each index the project declares, exactly the
//! ones repin itself sends to that index
//! ([`IndexResolver::credentials_for`](crate::registry::pypi::IndexResolver::credentials_for)),
//! under the names the tool documents for that one index, and nothing else.
//!
//! The tool's environment is cleared ([`super::process`]), so a credential of repin's own
//! environment never reaches it by name: a repository that names its index `corp` after the
//! operator's `UV_INDEX_CORP_PASSWORD`, or its Poetry source after a
//! `POETRY_HTTP_BASIC_CORP_PASSWORD`, and points it at a host of its own, gets nothing, because
//! what a tool is given is chosen by the URL the index goes to, not by the name the repository
//! gave it.
//!
//! - uv: `UV_INDEX_<NAME>_USERNAME` and `_PASSWORD` for each named `[[tool.uv.index]]` of the
//!   pyproject and, in a workspace, of each member's (uv reads a member's index for the
//!   member's `[tool.uv.sources]`), and `UV_DEFAULT_INDEX` with the credentials in the URL (an
//!   environment variable, so they are not on the command line other users can read) for the
//!   pyproject's default index when it has no name, or for the one repin gives uv when the
//!   pyproject declares none. A name two pyprojects give to different URLs gets nothing: uv
//!   would send the one value to both.
//! - Poetry: `POETRY_HTTP_BASIC_<SOURCE>_USERNAME` and `_PASSWORD` for each
//!   `[[tool.poetry.source]]`.
//! - Pipenv: the `${VAR}` references of a `[[source]]` URL, which Pipenv expands itself, when
//!   the operator's allow-list grants each for the URL's origin (as repin expands them).
//!
//! A bearer token has no such name in any of the three, and an unnamed uv index that is not the
//! default has no name to give a credential under. Either is never given, and where repin
//! holds such a credential for an index the project declares, the tool is not run
//! ([`Credentials::withheld`]): it would fail to authenticate, and the user is told what to
//! change instead.

use std::ffi::OsString;
use std::path::Path;

use url::Url;

use super::process::EnvVar;
use crate::manifest::pipfile::PipfileSource;
use crate::manifest::pyproject::{PoetrySource, UvIndex};
use crate::registry::http::Auth;
use crate::registry::pypi::IndexResolver;

/// Environment variables that carry credentials to a tool, and the secrets among them (masked
/// in what the tool prints).
#[derive(Clone, Default)]
pub struct Credentials {
    env: Vec<EnvVar>,
    secrets: Vec<String>,
    withheld: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names only: a value is a secret.
        f.debug_list().entries(self.names()).finish()
    }
}

impl Credentials {
    /// The variables, with their values.
    pub fn env(&self) -> &[EnvVar] {
        &self.env
    }

    /// Why a credential repin holds for an index of the project cannot be given to the tool
    /// (a bearer token, an unnamed index), when one cannot: the tool would fail to
    /// authenticate to it, so it is not run.
    pub fn withheld(&self) -> Option<&str> {
        self.withheld.as_deref()
    }

    /// The variables' names.
    pub fn names(&self) -> Vec<String> {
        self.env
            .iter()
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect()
    }

    /// `text` with every secret replaced by `****`.
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            out = out.replace(secret.as_str(), "****");
        }
        out
    }

    /// One secret variable (for tests of what runs a tool with it).
    #[cfg(test)]
    pub(crate) fn secret_var(name: &str, value: &str) -> Credentials {
        let mut out = Credentials::default();
        out.set(name.to_owned(), value);
        out.secret(value);
        out
    }

    fn set(&mut self, name: String, value: &str) {
        self.env.push((OsString::from(name), OsString::from(value)));
    }

    fn secret(&mut self, value: &str) {
        // A secret of one or two characters would mask unrelated text, and guards nothing.
        if value.len() > 2 && !self.secrets.iter().any(|s| s == value) {
            self.secrets.push(value.to_owned());
            // Longer first, so a secret containing another is masked whole.
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// `PREFIX_USERNAME` and `PREFIX_PASSWORD` for basic credentials; a bearer token for `url`
    /// is withheld (`tool` takes none).
    fn basic(&mut self, prefix: &str, auth: &Auth, url: &str, tool: &str) {
        match auth {
            Auth::Basic { username, password } => {
                self.set(format!("{prefix}_USERNAME"), username);
                self.set(format!("{prefix}_PASSWORD"), password);
                self.login_secrets(username, password);
            }
            Auth::Bearer(_) => self.withhold_bearer(url, tool),
        }
    }

    fn withhold_bearer(&mut self, url: &str, tool: &str) {
        self.withhold(format!(
            "repin holds a bearer token for the index `{}`, and {tool} takes an index's credentials as a user name and password only",
            crate::vocab::redact::text(url)
        ));
    }

    /// `UV_DEFAULT_INDEX`: `url`, with `auth` in it when it is a login.
    fn default_index(&mut self, url: &str, auth: Option<Auth>) {
        let with_auth = match auth {
            Some(Auth::Basic { username, password }) => Url::parse(url).ok().and_then(|mut u| {
                u.set_username(&username).ok()?;
                u.set_password(Some(password.as_str()).filter(|p| !p.is_empty()))
                    .ok()?;
                self.login_secrets(&username, &password);
                Some(u.to_string())
            }),
            Some(Auth::Bearer(_)) => {
                self.withhold_bearer(url, "uv");
                None
            }
            None => None,
        };
        let value = with_auth.unwrap_or_else(|| url.to_owned());
        self.set("UV_DEFAULT_INDEX".into(), &value);
    }

    /// The first reason a credential is withheld is the one told.
    fn withhold(&mut self, why: String) {
        self.withheld.get_or_insert(why);
    }

    /// The secrets of a basic login: its password, or, in pip's `https://TOKEN@host/` form
    /// (no password), its user name.
    fn login_secrets(&mut self, username: &str, password: &str) {
        if password.is_empty() {
            self.secret(username);
        } else {
            self.secret(password);
        }
    }
}

/// A name as uv spells it in an index's variables: ASCII letters and digits upper-cased, every
/// other character `_`.
fn uv_env_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// A source name as Poetry spells it in `POETRY_HTTP_BASIC_<SOURCE>_*`: upper-cased, `-` and
/// `.` as `_` (Poetry splits a setting's key at `.` and joins the parts with `_`).
fn poetry_env_name(name: &str) -> String {
    name.to_uppercase().replace(['-', '.'], "_")
}

/// uv's credentials for the indexes `declared` by each pyproject uv reads (the project's,
/// then each workspace member's, with its path), and its default index when repin gives one
/// (`default_index`, for the project's pyproject at `file`).
pub fn uv(
    declared: &[(&[UvIndex], &Path)],
    default_index: Option<&str>,
    file: &Path,
    resolver: &IndexResolver,
) -> Credentials {
    let mut out = Credentials::default();
    // Each variable name with the URLs it is declared for: one name, one URL, or nothing.
    let mut urls: Vec<(String, Vec<&str>)> = Vec::new();
    for (indexes, _) in declared {
        for index in indexes.iter() {
            let Some(name) = index.name.as_deref() else {
                continue;
            };
            let key = uv_env_name(name);
            match urls.iter_mut().find(|(k, _)| *k == key) {
                Some((_, list)) if !list.contains(&index.url.as_str()) => list.push(&index.url),
                Some(_) => {}
                None => urls.push((key, vec![&index.url])),
            }
        }
    }
    for (indexes, path) in declared {
        for index in indexes.iter() {
            let Some(auth) = resolver.credentials_for(&index.url, path) else {
                continue;
            };
            let Some(name) = index.name.as_deref() else {
                // The project's own default index: uv takes it, credentials in the URL, from
                // `UV_DEFAULT_INDEX` as it takes the one repin gives it.
                if index.default && *path == file {
                    out.default_index(&index.url, Some(auth));
                    continue;
                }
                out.withhold(format!(
                    "repin holds credentials for the index `{}`, which has no `name`, and uv takes an index's credentials by its name only: give the index a `name`",
                    crate::vocab::redact::text(&index.url)
                ));
                continue;
            };
            let key = uv_env_name(name);
            let shared = urls.iter().any(|(k, list)| *k == key && list.len() > 1);
            if shared {
                out.withhold(format!(
                    "the index name `{name}` is given to more than one URL, and uv would send the credentials of one to the other"
                ));
                continue;
            }
            if out.names().contains(&format!("UV_INDEX_{key}_USERNAME")) {
                continue; // the same index, declared again by a member
            }
            out.basic(&format!("UV_INDEX_{key}"), &auth, &index.url, "uv");
        }
    }
    if let Some(url) = default_index {
        out.default_index(url, resolver.credentials_for(url, file));
    }
    out
}

/// Poetry's credentials for the pyproject at `file` with `sources`.
pub fn poetry(sources: &[PoetrySource], file: &Path, resolver: &IndexResolver) -> Credentials {
    let mut out = Credentials::default();
    for source in sources {
        let Some(url) = source.url.as_deref() else {
            continue;
        };
        if let Some(auth) = resolver.credentials_for(url, file) {
            let prefix = format!("POETRY_HTTP_BASIC_{}", poetry_env_name(&source.name));
            out.basic(&prefix, &auth, url, "Poetry");
        }
    }
    out
}

/// Pipenv's credentials for the Pipfile at `file` with `sources`: the variables its URLs refer
/// to that the operator allows.
pub fn pipenv(sources: &[PipfileSource], file: &Path, resolver: &IndexResolver) -> Credentials {
    let mut out = Credentials::default();
    for source in sources {
        for (name, value) in resolver.granted_variables(&source.url, file) {
            if out.names().contains(&name) {
                continue;
            }
            out.set(name, &value);
            out.secret(&value);
        }
    }
    out
}

#[cfg(test)]
mod tests;
