//! Registry authentication from hostile registries: a `WWW-Authenticate` header (the first
//! line) and a token-service answer (the rest) never panic; a Bearer challenge always has the
//! realm it was given, and a token is never empty.
#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use repin::registry::oci::{Challenge, Token, auth};

fuzz_target!(|data: &[u8]| {
    let (header, body) = match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &data[..0]),
    };
    // Header values reach repin through `HeaderValue::to_str`: visible ASCII only.
    if let Ok(header) = std::str::from_utf8(header) {
        if let Some(Challenge::Bearer { realm, .. }) = auth::parse_challenge(header) {
            assert!(
                header.to_ascii_lowercase().contains("realm"),
                "{header:?} -> {realm:?}"
            );
        }
    }
    let now = Instant::now();
    if let Some(token) = Token::from_response(body, now) {
        assert!(!token.value.is_empty());
        assert!(token.valid_until > now);
        assert!(token.is_fresh(now));
    }
});
