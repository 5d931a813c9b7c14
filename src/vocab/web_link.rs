//! Resolving a URL reference a server wrote (an anchor's `href`, a page's `<base href>`, a JSON
//! file `url`, a `Location` or `Link` target) against the URL it came from, to an `http` or
//! `https` URL only.
//!
//! Everything repin fetches goes over HTTP, so a reference to any other scheme (`file:`,
//! `ftp:`, `data:`) is refused before it is parsed: it could never be fetched, and the `url`
//! crate's path resolution for `file:` URLs has a debug assertion that hostile input trips
//! (`<base href="file:a:">` then `href="../.."`, found by the `simple_html` fuzz target), so
//! such a URL is never built.

use url::Url;

/// Why a reference is not followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebLinkError {
    /// An absolute reference to a scheme other than `http` and `https`.
    #[error("Only http and https are followed, not `{0}:`")]
    Scheme(String),
    /// A relative reference against a base that is not `http` or `https`.
    #[error("The base URL is not http or https")]
    Base,
    /// Not a URL reference at all.
    #[error("Not a URL: {0}")]
    Invalid(#[from] url::ParseError),
}

impl crate::error::Hint for WebLinkError {}

impl WebLinkError {
    /// Why, as a clause to follow "Skipped the link `…`: ".
    pub fn reason(&self) -> String {
        match self {
            WebLinkError::Scheme(scheme) => {
                format!("only http and https are followed, not `{scheme}:`")
            }
            WebLinkError::Base => "the page's base URL is not http or https".to_owned(),
            WebLinkError::Invalid(e) => format!("its URL is not valid ({e})"),
        }
    }
}

/// `reference` resolved against `base`, when the result is an `http` or `https` URL.
pub fn resolve(base: &Url, reference: &str) -> Result<Url, WebLinkError> {
    match scheme_of(reference) {
        Some(scheme) if !is_web(&scheme) => return Err(WebLinkError::Scheme(scheme)),
        Some(_) => {}
        None if !is_web(base.scheme()) => return Err(WebLinkError::Base),
        None => {}
    }
    let url = base.join(reference)?;
    // Checked again on the result, in case the two readings of the scheme ever differ.
    if is_web(url.scheme()) {
        Ok(url)
    } else {
        Err(WebLinkError::Scheme(url.scheme().to_owned()))
    }
}

fn is_web(scheme: &str) -> bool {
    scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")
}

/// The scheme of an absolute reference, lower-cased, read as the URL standard reads it: leading
/// and trailing C0 controls and spaces are ignored and tabs and newlines removed anywhere, then
/// a letter followed by letters, digits, `+`, `-` or `.` up to a `:`.
fn scheme_of(reference: &str) -> Option<String> {
    let cleaned: String = reference
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let (scheme, _) = cleaned.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then(|| scheme.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("https://example.org/simple/demo/").unwrap()
    }

    #[test]
    fn relative_and_web_references_resolve() {
        assert_eq!(
            resolve(&page(), "../../files/demo-1.0.tar.gz")
                .unwrap()
                .as_str(),
            "https://example.org/files/demo-1.0.tar.gz"
        );
        assert_eq!(
            resolve(&page(), " HTTP://other.example/x")
                .unwrap()
                .as_str(),
            "http://other.example/x"
        );
        assert_eq!(
            resolve(&page(), "//cdn.example/a.whl").unwrap().as_str(),
            "https://cdn.example/a.whl"
        );
    }

    #[test]
    fn other_schemes_are_refused_however_written() {
        for reference in [
            "file:a:\u{1}",
            "FILE:///etc/passwd",
            "\u{1} fi\tle:../..",
            "f\nile:/x",
            "data:text/plain,x",
            "javascript:alert(1)",
        ] {
            assert!(
                matches!(resolve(&page(), reference), Err(WebLinkError::Scheme(_))),
                "{reference:?}"
            );
        }
    }

    #[test]
    fn nothing_resolves_against_a_base_that_is_not_web() {
        // The pair the fuzz target found: in a debug build, `join` asserts on it.
        let base = Url::parse("file:///sF=&https://u:").unwrap();
        assert_eq!(resolve(&base, "../.."), Err(WebLinkError::Base));
        assert!(resolve(&base, "https://example.org/a").is_ok());
    }

    #[test]
    fn a_reference_that_is_no_url_is_an_error() {
        assert!(matches!(
            resolve(&page(), "http://[::1"),
            Err(WebLinkError::Invalid(_))
        ));
    }
}
