//! `Link` headers (registries' tag-list paging, GitHub's API paging): the `rel="next"` target
//! is never invented, it is text between `<` and `>` of the header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use repin::registry::oci::next_link;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(target) = next_link(header) {
        assert!(
            header.contains(&format!("<{}>", target.trim())),
            "{header:?} -> {target:?}"
        );
        assert!(header.contains("next"));
    }
});
