//! Core metadata (`METADATA`, `PKG-INFO`, PEP 658 `.metadata` files): the email-header reader
//! and the field parser never panic, and what they return is made of the input's own text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use repin::registry::pypi::metadata::{self, email};

fuzz_target!(|data: &[u8]| {
    // Metadata is decoded as the client decodes it: UTF-8, else not metadata at all.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = email::parse(text);
    for (name, value) in &parsed.headers {
        assert!(
            !name.is_empty() && !name.contains(':'),
            "header name {name:?}"
        );
        let unfolded = email::unfold(value);
        assert!(!unfolded.contains(['\r', '\n']), "unfolded {unfolded:?}");
    }
    if let Some(body) = parsed.body {
        assert!(text.ends_with(body), "the body is not the end of the text");
    }
    if let Ok(metadata) = metadata::parse(text) {
        // The version re-parses to itself (it is compared and written into locks).
        let again: pep440_rs::Version = metadata.version.to_string().parse().unwrap();
        assert_eq!(again, metadata.version);
        let _ = metadata.is_at_least_2_2();
        let _ = metadata.changelog_url();
        let _ = metadata::check_static("demo-1.0.tar.gz", &metadata);
    }
});
