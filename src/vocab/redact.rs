//! Keeping secrets out of errors and logs: URLs with credentials, tokens in query strings, and
//! every credential the run holds, in whatever form a server may echo it back.
//!
//! Credentials are registered once ([`register_secret`], [`register_basic`]: the HTTP client
//! registers every credential it sends, setup registers the configured ones before any request)
//! and [`text`] replaces each of them wherever it appears: as written, base64-encoded (alone and
//! in the `user:password` form of a `Basic` header, padded or not, standard or URL-safe
//! alphabet), percent-encoded (as in a URL's user info, a query or a form body) and JSON-escaped.
//! The registry is process-wide because errors are rendered far from the client that sent the
//! request; it only ever grows, so a secret once held is never printed later in the process.

use std::sync::{OnceLock, RwLock};

use base64::Engine;
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

/// What replaces a secret.
const MASK: &str = "***";

/// Secrets shorter than this are not searched for in free text: a three-letter password would
/// mask every word that contains it and make errors unreadable, and such a password is not a
/// secret worth the name. Their encoded forms (longer) are still masked.
const MIN_SECRET_LEN: usize = 4;

/// The most characters of a response body an error shows.
pub const EXCERPT_CHARS: usize = 200;

/// How much of a body is examined for an excerpt (secrets are masked in all of it before it is
/// cut, so a secret across the cut cannot leak its first half).
const EXCERPT_SCAN_BYTES: usize = 8 * 1024;

fn registry() -> &'static RwLock<Vec<String>> {
    static SECRETS: OnceLock<RwLock<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(RwLock::default)
}

/// Every form of `secret` worth searching for, longest first.
fn forms(secret: &str) -> Vec<String> {
    let engines = [
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    let mut forms = Vec::new();
    if secret.len() >= MIN_SECRET_LEN {
        forms.push(secret.to_owned());
    }
    for engine in engines {
        // Unpadded: a prefix of the padded form, so one search finds both.
        forms.push(engine.encode(secret));
    }
    let encoded: [String; 3] = [
        percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC)
            .to_string(),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
        serde_json::to_string(secret)
            .map(|s| s[1..s.len() - 1].to_owned())
            .unwrap_or_default(),
    ];
    forms.extend(encoded);
    // Percent-encoding may be written with lower-case hex digits.
    let lower_hex = percent_encode_lower(secret);
    forms.push(lower_hex);
    forms.retain(|f| f.len() >= MIN_SECRET_LEN);
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms.dedup();
    forms
}

fn percent_encode_lower(secret: &str) -> String {
    let mut out = String::new();
    for byte in secret.bytes() {
        if byte.is_ascii_alphanumeric() {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02x}"));
        }
    }
    out
}

fn add(forms: Vec<String>) {
    let mut secrets = registry()
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for form in forms {
        if !secrets.contains(&form) {
            secrets.push(form);
        }
    }
    // Longest first, so a secret that contains another is masked whole.
    secrets.sort_by_key(|f| std::cmp::Reverse(f.len()));
}

/// Remember a secret (a password or token) so [`text`] masks it, in every form.
pub fn register_secret(secret: &str) {
    if secret.is_empty() {
        return;
    }
    add(forms(secret));
}

/// Remember the credentials of HTTP basic authentication: the password in every form, and the
/// `user:password` pair as a `Basic` header carries it (base64) and as a URL writes it.
pub fn register_basic(username: &str, password: &str) {
    if password.is_empty() && username.is_empty() {
        return;
    }
    let pair = format!("{username}:{password}");
    let mut all = forms(&pair);
    if !password.is_empty() {
        all.extend(forms(password));
    } else {
        // pip's token-only form (`https://TOKEN@host/`): the user name is the secret.
        all.extend(forms(username));
    }
    add(all);
}

/// Mask every registered secret in `text`.
fn mask_secrets(text: &str) -> String {
    let secrets = registry()
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut out = text.to_owned();
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), MASK);
        }
    }
    out
}

/// The URL with its password (and any user name that may itself be a token) and secret query
/// values replaced by `***`. Always safe to print.
pub fn url(url: &Url) -> String {
    let mut clean = url.clone();
    if !clean.username().is_empty() {
        // A user name alone is often a token (`https://TOKEN@host`): hide it too.
        let _ = clean.set_username(MASK);
    }
    if clean.password().is_some() {
        let _ = clean.set_password(Some(MASK));
    }
    if clean.query().is_some() {
        let pairs: Vec<(String, String)> = clean
            .query_pairs()
            .map(|(k, v)| {
                let secret = is_secret_param(&k);
                (
                    k.into_owned(),
                    if secret { MASK.into() } else { v.into_owned() },
                )
            })
            .collect();
        clean.query_pairs_mut().clear().extend_pairs(pairs);
    }
    mask_secrets(clean.as_str())
}

/// Whether a query parameter's value is a secret (`token`, `sig`, ...), by its name.
fn is_secret_param(name: &str) -> bool {
    SECRET_PARAMS.iter().any(|s| name.eq_ignore_ascii_case(s))
}

/// Whether `url` carries a secret [`url()`] would mask: credentials, a secret query parameter, or
/// a credential the run holds anywhere in it (a token in the path of a private index's URL).
/// Such a URL is never written into a file.
pub fn has_secret(url: &Url) -> bool {
    !url.username().is_empty()
        || url.password().is_some()
        || url.query_pairs().any(|(k, _)| is_secret_param(&k))
        || mask_secrets(url.as_str()) != url.as_str()
}

/// The same as [`url()`] for a string that may not parse as a URL: credentials before `@` in
/// anything that looks like `scheme://user:pass@host` are hidden, and so is every registered
/// secret.
pub fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme_end) = rest.find("://") {
        let (head, tail) = rest.split_at(scheme_end + 3);
        out.push_str(head);
        let authority_end = tail.find(['/', ' ', '\n', '"', '\'']).unwrap_or(tail.len());
        match tail[..authority_end].rfind('@') {
            Some(at) => {
                out.push_str(MASK);
                out.push_str(&tail[at..authority_end]);
            }
            None => out.push_str(&tail[..authority_end]),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    mask_secrets(&out)
}

/// A short, printable excerpt of a response body for an error message: at most
/// [`EXCERPT_CHARS`] characters on one line, markup tags and control characters (terminal
/// escapes included) removed, every credential masked; empty when nothing printable is left.
pub fn excerpt(body: &[u8]) -> String {
    let scanned = &body[..body.len().min(EXCERPT_SCAN_BYTES)];
    let raw = String::from_utf8_lossy(scanned);
    let looks_like_markup = raw.trim_start().starts_with('<');
    let one_line = printable(&raw, looks_like_markup);
    // Mask before cutting, so no prefix of a secret survives the cut.
    let masked = text(&one_line);
    let mut cut: String = masked.chars().take(EXCERPT_CHARS).collect();
    if masked.chars().count() > EXCERPT_CHARS || body.len() > EXCERPT_SCAN_BYTES {
        cut.push('…');
    }
    cut
}

/// `text` on one line with nothing a terminal or a log acts on: terminal escape sequences and
/// other control characters (line breaks included), and the bidirectional controls that make
/// text read other than it is, become spaces (runs of spaces one); markup tags are dropped when
/// `markup`.
fn printable(text: &str, markup: bool) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut in_tag = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            // A terminal escape sequence (`ESC [ 31 m`): dropped whole, not just its ESC.
            '\x1b' => {
                // Only a `[` after it starts a sequence; anything else stays text.
                if chars.clone().next() == Some('[') {
                    chars.next();
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                plain.push(' ');
            }
            '<' if markup => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                plain.push(' ');
            }
            _ if in_tag => {}
            c if c.is_control() || c == '\u{fffd}' || is_layout_control(c) => plain.push(' '),
            c => plain.push(c),
        }
    }
    plain.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Line and paragraph separators and the bidirectional embedding, override and isolate
/// controls ("Trojan Source").
fn is_layout_control(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A server's short text (a yanked reason, an advisory's ID or summary) as repin shows it: one
/// printable line (see [`excerpt`]), at most `max_chars` characters, then `…`. Such text
/// reaches terminals and GitHub Actions' log, where a line of its own that starts with `::` is
/// a workflow command (`::add-mask::`, `::stop-commands::`): an index must not be able to write
/// one.
pub fn plain_line(text: &str, max_chars: usize) -> String {
    let plain = printable(text, false);
    if plain.chars().count() <= max_chars {
        return plain;
    }
    let mut cut: String = plain.chars().take(max_chars).collect();
    cut.push('…');
    cut
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
    fn urls_with_a_secret_are_told_apart() {
        register_secret("path-token-4711");
        for (text, secret) in [
            ("https://files.example/packages/a-1.0.whl", false),
            ("https://files.example/packages/a-1.0.whl?x=1&y=a+b", false),
            ("https://user:pw@files.example/a-1.0.whl", true),
            ("https://TOKEN@files.example/a-1.0.whl", true),
            ("https://files.example/a-1.0.whl?Signature=abc", true),
            ("https://files.example/path-token-4711/a-1.0.whl", true),
        ] {
            assert_eq!(has_secret(&Url::parse(text).unwrap()), secret, "{text}");
        }
    }

    #[test]
    fn hides_credentials_inside_free_text() {
        assert_eq!(
            text("-i https://me:pw@host:8443/simple and http://x/y"),
            "-i https://***@host:8443/simple and http://x/y"
        );
    }

    #[test]
    fn registered_secrets_are_masked_in_every_form() {
        let user = "canary-user";
        let password = "Canary/Pass+word=1 é";
        register_basic(user, password);
        register_secret("tok_0123456789abcdef");
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let b64url = |s: &str| base64::engine::general_purpose::URL_SAFE.encode(s);
        let echoes = [
            password.to_owned(),
            b64(&format!("{user}:{password}")),
            format!("Basic {}", b64(&format!("{user}:{password}"))),
            b64url(&format!("{user}:{password}")),
            b64(password),
            percent_encoding::utf8_percent_encode(password, percent_encoding::NON_ALPHANUMERIC)
                .to_string(),
            url::form_urlencoded::byte_serialize(password.as_bytes()).collect(),
            percent_encode_lower(password),
            serde_json::to_string(password).unwrap(),
            "Bearer tok_0123456789abcdef".to_owned(),
            b64("tok_0123456789abcdef"),
        ];
        for echo in echoes {
            let shown = text(&format!("server said: {echo}!"));
            assert!(
                !shown.contains("Canary/Pass") && !shown.contains("tok_0123"),
                "{shown}"
            );
            for form in forms(password) {
                assert!(!shown.contains(&form), "{form} in {shown}");
            }
            assert!(shown.contains(MASK), "{shown}");
            let excerpt = excerpt(format!("<html><b>echo</b> {echo}</html>").as_bytes());
            assert!(excerpt.contains(MASK), "{excerpt}");
        }
        // The user name alone is not a secret when a password goes with it.
        assert_eq!(text("hello canary-user"), "hello canary-user");
    }

    #[test]
    fn excerpts_are_short_printable_and_tag_free() {
        let page = format!(
            "<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head>\n\
             <body>\x1b[31mboom\x07</body></html>{}",
            "x".repeat(10_000)
        );
        let shown = excerpt(page.as_bytes());
        assert!(
            shown.starts_with("500 Internal Server Error boom x"),
            "{shown}"
        );
        assert!(shown.chars().count() <= EXCERPT_CHARS + 1);
        assert!(shown.ends_with('…'));
        assert!(!shown.chars().any(char::is_control));
        assert_eq!(excerpt(b"not found"), "not found");
        assert_eq!(excerpt(b"\x00\x01\x02"), "");
        // A secret across the cut is masked whole, not cut in half.
        register_secret("SECRETSECRETSECRET-cut");
        let long = format!("{}SECRETSECRETSECRET-cut", "a ".repeat(95));
        assert!(!excerpt(long.as_bytes()).contains("SECRET"));
    }

    /// A yanked reason that tries to start a workflow command, move the cursor or reverse the
    /// text is one plain line.
    #[test]
    fn plain_lines_hold_nothing_a_terminal_or_a_log_acts_on() {
        assert_eq!(
            plain_line(
                "bad\n::warning::INJECTED\r\n::add-mask::x\x1b[2Jcleared\u{202e}dcba",
                500
            ),
            "bad ::warning::INJECTED ::add-mask::x cleared dcba"
        );
        assert_eq!(plain_line("  Broken   build ", 500), "Broken build");
        assert_eq!(plain_line("abcdef", 3), "abc…");
    }
}
