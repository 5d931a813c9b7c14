//! Everything that can go wrong talking to a PyPI-compatible index or configuring one.

use std::path::PathBuf;

use super::model::IndexUrl;
use crate::registry::http::HttpError;

/// Why a lookup or an index configuration failed. URLs in it are always redacted.
#[derive(Debug, thiserror::Error)]
pub enum PypiError {
    /// The index has no such project (HTTP 404 or 410). A multi-index lookup goes on.
    #[error("Package `{name}` was not found on {}", list(indexes))]
    NotFound {
        /// The normalised name.
        name: String,
        /// The indexes asked.
        indexes: Vec<IndexUrl>,
    },
    /// The index refused access (HTTP 401 or 403).
    #[error("Access to `{name}` was refused by {url} (HTTP {status})")]
    Unauthorized {
        /// The normalised name.
        name: String,
        /// The project page URL, redacted.
        url: String,
        /// 401 or 403.
        status: u16,
        /// The host, for the hint.
        host: String,
        /// Whether credentials were sent (then they were rejected).
        sent_credentials: bool,
    },
    /// The request failed: connection, timeout, rate limit, a 5xx after retries, ...
    #[error("Cannot look up `{name}` on {index}")]
    Http {
        /// The normalised name.
        name: String,
        /// The index.
        index: IndexUrl,
        /// What the HTTP client reported (boxed: it is large, and errors travel in `Result`s).
        #[source]
        source: Box<HttpError>,
    },
    /// A JSON page that does not parse (truncated, wrong types).
    #[error("The index page for `{name}` at {url} is not valid simple-API JSON")]
    InvalidJson {
        /// The normalised name.
        name: String,
        /// The page URL, redacted.
        url: String,
        /// The parser's error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// The page lists more files or versions than repin reads (a hostile or broken index).
    #[error(
        "The index page for `{name}` at {url} lists more than {limit} {what}, more than repin reads"
    )]
    PageTooLarge {
        /// The normalised name.
        name: String,
        /// The page URL, redacted.
        url: String,
        /// `files` or `versions`.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// The page declares a simple API major version repin does not speak (PEP 629).
    #[error(
        "The index page for `{name}` at {url} uses simple API version {version}, which repin does not support"
    )]
    UnsupportedApiVersion {
        /// The normalised name.
        name: String,
        /// The page URL, redacted.
        url: String,
        /// The declared version.
        version: String,
    },
    /// The answer is neither a PEP 691 JSON page nor an HTML page.
    #[error(
        "The index answered `{name}` at {url} with `{content_type}`, which is not a simple-API page"
    )]
    UnexpectedContentType {
        /// The normalised name.
        name: String,
        /// The page URL, redacted.
        url: String,
        /// The `Content-Type` received.
        content_type: String,
    },
    /// There is no index to ask (`--no-index`, or pip's `no-index` configuration).
    #[error("There is no index to look up `{name}` in")]
    NoIndex {
        /// The normalised name.
        name: String,
    },
    /// An index URL that does not parse.
    #[error("Invalid index URL `{url}`")]
    InvalidIndexUrl {
        /// The URL as configured, credentials redacted.
        url: String,
        /// Why.
        #[source]
        source: url::ParseError,
    },
    /// An index URL that is not `http` or `https`.
    #[error("The index URL `{url}` is not http or https: repin cannot read `{scheme}` indexes")]
    UnsupportedScheme {
        /// The URL as configured, credentials redacted.
        url: String,
        /// Its scheme.
        scheme: String,
    },
    /// A repository's index URL refers to a variable the operator did not allow for its origin.
    #[error(transparent)]
    Refused(Box<crate::registry::trust::TrustError>),
    /// An index URL refers to an environment variable that is not set.
    #[error("The environment variable `{variable}` in the index URL `{url}` is not set")]
    UndefinedVariable {
        /// The variable's name.
        variable: String,
        /// The URL as configured (with its `${VAR}` references), credentials redacted.
        url: String,
    },
    /// A pip configuration file could not be read.
    #[error("Cannot read {}", path.display())]
    ReadConfig {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A pip configuration file is not valid INI.
    #[error("Invalid pip configuration at {}:{line}: {message}", path.display())]
    InvalidPipConf {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

impl PypiError {
    /// Whether this is [`PypiError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, PypiError::NotFound { .. })
    }

    /// What the user can do about it, for a `hint:` line.
    pub fn hint(&self) -> Option<String> {
        match self {
            PypiError::Unauthorized {
                host,
                sent_credentials: true,
                ..
            } => Some(format!(
                "the credentials for {host} were rejected: check the user name and token in the \
                 index URL, the `${{VAR}}` it refers to, or the `machine {host}` entry of ~/.netrc"
            )),
            PypiError::Unauthorized { host, .. } => Some(format!(
                "{host} needs credentials: put them in the index URL as \
                 `https://user:${{TOKEN}}@{host}/...` (the variable is read from the environment when \
                 the operator allows it there: `--allow-env TOKEN@https://{host}`) or add `machine {host} login USER password TOKEN` to ~/.netrc"
            )),
            PypiError::Refused(error) => error.hint(),
            PypiError::UndefinedVariable { variable, .. } => {
                Some(format!("set `{variable}` in the environment repin runs in"))
            }
            PypiError::NoIndex { .. } => Some(
                "remove `--no-index` (or pip's `no-index` setting) to let repin look versions up"
                    .into(),
            ),
            _ => None,
        }
    }
}

fn list(indexes: &[IndexUrl]) -> String {
    match indexes {
        [] => "any index".into(),
        [one] => one.to_string(),
        many => many
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

impl crate::error::Hint for PypiError {
    fn hints(&self) -> Vec<String> {
        self.hint().into_iter().collect()
    }
}
