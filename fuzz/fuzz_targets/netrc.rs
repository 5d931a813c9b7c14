//! `~/.netrc`: any text is read without panicking, and a machine's credentials are found
//! whatever the case of the host asked for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use repin::registry::pypi::netrc::Netrc;

fuzz_target!(|data: &[u8]| {
    // As `Netrc::load` decodes the file.
    let text = String::from_utf8_lossy(data);
    let netrc = Netrc::parse(&text);
    for host in text.split_whitespace().take(16) {
        let found = netrc.lookup(host);
        assert_eq!(found, netrc.lookup(&host.to_ascii_uppercase()));
        assert_eq!(found, netrc.lookup(&host.to_ascii_lowercase()));
    }
    // A login is often a token itself: debug output shows no entry.
    if netrc.lookup("example.org").is_some() {
        assert!(format!("{netrc:?}").contains("NetrcEntry(***)"));
    }
});
