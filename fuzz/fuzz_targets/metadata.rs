//! Core metadata (`METADATA`, `PKG-INFO`, PEP 658 `.metadata` files): the email-header reader
//! and the field parser never panic, and what they return is made of the input's own text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use repin::registry::pypi::metadata::{self, email};

/// libFuzzer's panic hook aborts on every panic, even one repin catches. repin catches panics of
/// `pep508_rs` (a bug on its side: the dependency becomes an error) and also checks first for
/// those it knows; a panic there is tolerated here as repin tolerates it, and any other still
/// aborts.
fn tolerate_what_repin_catches() {
    let abort = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_pep508 = info
            .location()
            .is_some_and(|l| l.file().contains("/pep508_rs-"));
        if !in_pep508 {
            abort(info);
        }
    }));
}

fuzz_target!(init: tolerate_what_repin_catches(), |data: &[u8]| {
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
