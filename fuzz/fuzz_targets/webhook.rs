//! GitHub webhook deliveries: the signature check never panics and accepts exactly the
//! signature of the body; any body of any event is read or refused without panicking, and a
//! run is only ever asked for the repository the payload names. The first byte picks the
//! event name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use repin::serve::webhook::{self, Event};

const EVENTS: [&str; 6] = [
    "ping",
    "push",
    "pull_request",
    "issue_comment",
    "installation",
    "check_run",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let name = EVENTS[usize::from(selector) % EVENTS.len()];
    let secret = b"It's a Secret to Everybody";
    let signature = webhook::sign(secret, body);
    assert!(webhook::signature_is_valid(secret, body, Some(&signature)));
    assert!(!webhook::signature_is_valid(
        b"another secret",
        body,
        Some(&signature)
    ));
    assert!(!webhook::signature_is_valid(secret, body, None));
    // The body itself as a signature header (hostile header values).
    if let Ok(header) = std::str::from_utf8(body) {
        let _ = webhook::signature_is_valid(secret, body, Some(header));
    }
    if let Ok(Event::Run { repository, .. }) = webhook::parse(name, body) {
        let needle = serde_json::to_string(&repository).unwrap();
        let text = String::from_utf8_lossy(body);
        assert!(
            text.contains(needle.trim_matches('"')) || text.contains('\\'),
            "{repository}"
        );
    }
});
