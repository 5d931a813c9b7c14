//! Keeping secrets out of errors and logs: URLs with credentials, tokens in query strings.

use url::Url;

/// Query parameters whose values are secrets (signed URLs, tokens).
const SECRET_PARAMS: &[&str] = &[
    "token",
    "access_token",
    "auth",
    "password",
    "sig",
    "signature",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "se",
];

/// The URL with its password (and any user name that may itself be a token) and secret query
/// values replaced by `***`. Always safe to print.
pub fn url(url: &Url) -> String {
    let mut clean = url.clone();
    if !clean.username().is_empty() {
        // A user name alone is often a token (`https://TOKEN@host`): hide it too.
        let _ = clean.set_username("***");
    }
    if clean.password().is_some() {
        let _ = clean.set_password(Some("***"));
    }
    if clean.query().is_some() {
        let pairs: Vec<(String, String)> = clean
            .query_pairs()
            .map(|(k, v)| {
                let secret = SECRET_PARAMS.iter().any(|s| k.eq_ignore_ascii_case(s));
                (
                    k.into_owned(),
                    if secret { "***".into() } else { v.into_owned() },
                )
            })
            .collect();
        clean.query_pairs_mut().clear().extend_pairs(pairs);
    }
    clean.to_string()
}

/// The same as [`url`] for a string that may not parse as a URL: credentials before `@` in
/// anything that looks like `scheme://user:pass@host` are hidden.
pub fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme_end) = rest.find("://") {
        let (head, tail) = rest.split_at(scheme_end + 3);
        out.push_str(head);
        let authority_end = tail.find(['/', ' ', '\n', '"', '\'']).unwrap_or(tail.len());
        match tail[..authority_end].rfind('@') {
            Some(at) => {
                out.push_str("***");
                out.push_str(&tail[at..authority_end]);
            }
            None => out.push_str(&tail[..authority_end]),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_credentials_and_secret_parameters() {
        let u = Url::parse("https://user:s3cret@pypi.example/simple/?token=abc&page=2").unwrap();
        let shown = url(&u);
        assert!(!shown.contains("s3cret") && !shown.contains("abc") && !shown.contains("user"));
        assert!(shown.contains("page=2"));
        let only_token = Url::parse("https://ghp_TOKEN@host/x").unwrap();
        assert!(!url(&only_token).contains("ghp_TOKEN"));
        let plain = Url::parse("https://pypi.org/simple/flask/").unwrap();
        assert_eq!(url(&plain), "https://pypi.org/simple/flask/");
    }

    #[test]
    fn hides_credentials_inside_free_text() {
        assert_eq!(
            text("-i https://me:pw@host:8443/simple and http://x/y"),
            "-i https://***@host:8443/simple and http://x/y"
        );
    }
}
