//! Registry authentication: `WWW-Authenticate` challenges and bearer tokens.

use std::time::{Duration, Instant};

/// A parsed authentication challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// The registry needs no credentials.
    None,
    /// HTTP basic authentication.
    Basic,
    /// Bearer tokens from a token service.
    Bearer {
        /// The token endpoint.
        realm: String,
        /// The `service` parameter to send.
        service: Option<String>,
    },
}

/// Parse a `WWW-Authenticate` header (several challenges, quoted values with commas, any case)
/// and pick the one repin uses: Bearer over Basic.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let mut best: Option<Challenge> = None;
    for (scheme, params) in challenges(header) {
        match scheme.to_ascii_lowercase().as_str() {
            "bearer" => {
                let get = |k: &str| {
                    params
                        .iter()
                        .find(|(key, _)| key.eq_ignore_ascii_case(k))
                        .map(|(_, v)| v.clone())
                };
                if let Some(realm) = get("realm") {
                    return Some(Challenge::Bearer {
                        realm,
                        service: get("service"),
                    });
                }
            }
            "basic" => best = best.or(Some(Challenge::Basic)),
            _ => {}
        }
    }
    best
}

/// Split a header into `(scheme, [(key, value)])` challenges.
fn challenges(header: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let chars: Vec<char> = header.chars().collect();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < chars.len() && (chars[*i].is_whitespace() || chars[*i] == ',') {
            *i += 1;
        }
    };
    while i < chars.len() {
        skip_ws(&mut i);
        // A token: either a new scheme (followed by space) or a key (followed by `=`).
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '=' && chars[i] != ',' {
            i += 1;
        }
        let token: String = chars[start..i].iter().collect();
        if token.is_empty() {
            i += 1;
            continue;
        }
        if i < chars.len() && chars[i] == '=' {
            i += 1;
            let value = if i < chars.len() && chars[i] == '"' {
                i += 1;
                let mut v = String::new();
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    v.push(chars[i]);
                    i += 1;
                }
                i += 1;
                v
            } else {
                let s = i;
                while i < chars.len() && chars[i] != ',' && !chars[i].is_whitespace() {
                    i += 1;
                }
                chars[s..i].iter().collect()
            };
            match out.last_mut() {
                Some((_, params)) => params.push((token, value)),
                None => out.push((String::new(), vec![(token, value)])),
            }
        } else {
            out.push((token, Vec::new()));
        }
    }
    out
}

/// A bearer token and when it stops being usable.
#[derive(Debug, Clone)]
pub struct Token {
    /// The token.
    pub value: String,
    /// When to stop using it (a little before it expires).
    pub valid_until: Instant,
}

impl Token {
    /// A token from a token-service response body (`token` or `access_token`, `expires_in`).
    pub fn from_response(body: &[u8], now: Instant) -> Option<Token> {
        #[derive(serde::Deserialize)]
        struct Answer {
            token: Option<String>,
            access_token: Option<String>,
            expires_in: Option<u64>,
        }
        let answer: Answer = serde_json::from_slice(body).ok()?;
        let value = answer
            .token
            .or(answer.access_token)
            .filter(|t| !t.is_empty())?;
        // The distribution spec's default lifetime is 60 seconds; keep a margin for clock skew
        // and for requests in flight.
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(60).max(10));
        Some(Token {
            value,
            valid_until: now + lifetime - Duration::from_secs(5),
        })
    }

    /// Whether it can still be used.
    pub fn is_fresh(&self, now: Instant) -> bool {
        now < self.valid_until
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_challenges() {
        let cases = [
            (
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io""#,
                Some(Challenge::Bearer {
                    realm: "https://auth.docker.io/token".into(),
                    service: Some("registry.docker.io".into()),
                }),
            ),
            (
                r#"bearer realm="https://ghcr.io/token", service="ghcr.io", scope="repository:a/b:pull,push""#,
                Some(Challenge::Bearer {
                    realm: "https://ghcr.io/token".into(),
                    service: Some("ghcr.io".into()),
                }),
            ),
            (r#"Basic realm="Registry Realm""#, Some(Challenge::Basic)),
            (
                r#"Basic realm="x", Bearer realm="http://127.0.0.1:9/t""#,
                Some(Challenge::Bearer {
                    realm: "http://127.0.0.1:9/t".into(),
                    service: None,
                }),
            ),
            ("Negotiate", None),
            ("", None),
        ];
        for (header, expected) in cases {
            assert_eq!(parse_challenge(header), expected, "{header}");
        }
    }

    #[test]
    fn reads_tokens_and_expiry() {
        let now = Instant::now();
        let t = Token::from_response(br#"{"token":"abc","expires_in":300}"#, now).unwrap();
        assert_eq!(t.value, "abc");
        assert!(t.is_fresh(now + Duration::from_secs(290)));
        assert!(!t.is_fresh(now + Duration::from_secs(296)));
        let a = Token::from_response(br#"{"access_token":"xyz"}"#, now).unwrap();
        assert!(!a.is_fresh(now + Duration::from_secs(56)));
        assert!(Token::from_response(b"{}", now).is_none());
        assert!(Token::from_response(b"not json", now).is_none());
    }
}
