//! Web origins (scheme, host, port): the unit credentials belong to.
//!
//! repin attaches a credential only to requests whose origin is the origin the credential was
//! configured for: a redirect, a pagination `Link`, a file URL on an index page or a token realm
//! elsewhere never receives it (the token realm has its own rule, in `registry::oci`).

use std::fmt;

use url::Url;

/// A URL's origin: scheme, host and port (the scheme's default port when none is written).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// The origin of `url`; `None` for URLs without a host (`file:`, `data:`).
    pub fn of(url: &Url) -> Option<Origin> {
        Some(Origin {
            scheme: url.scheme().to_ascii_lowercase(),
            host: url.host_str()?.to_ascii_lowercase(),
            port: url.port_or_known_default()?,
        })
    }

    /// Whether `url` has this origin.
    pub fn contains(&self, url: &Url) -> bool {
        Origin::of(url).as_ref() == Some(self)
    }

    /// The host, without port.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `host:port`: where connections go, whatever the scheme (the key of per-host limits).
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host.trim_matches(['[', ']']), self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.authority())
    }
}

/// Whether `a` and `b` have the same origin (both must have one).
pub fn same(a: &Url, b: &Url) -> bool {
    match (Origin::of(a), Origin::of(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        assert!(same(
            &u("https://pypi.example/simple/"),
            &u("https://PYPI.example:443/files/x.whl")
        ));
        assert!(!same(
            &u("https://pypi.example/"),
            &u("http://pypi.example/")
        ));
        assert!(!same(
            &u("http://127.0.0.1:5000/"),
            &u("http://127.0.0.1:5001/")
        ));
        assert!(!same(&u("https://a.example/"), &u("https://b.example/")));
        assert!(!same(
            &u("https://a.example/"),
            &u("https://a.example.evil/")
        ));
        assert!(!same(&u("data:text/plain,x"), &u("data:text/plain,x")));
        let origin = Origin::of(&u("http://[::1]:8080/v2/")).unwrap();
        assert_eq!(origin.to_string(), "http://[::1]:8080");
        assert_eq!(
            Origin::of(&u("https://ghcr.io/token")).unwrap().authority(),
            "ghcr.io:443"
        );
    }
}
