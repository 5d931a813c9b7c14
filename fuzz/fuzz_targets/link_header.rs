//! `Link` headers (registries' tag-list paging, GitHub's API paging): the `rel="next"` target
//! is never invented, it is text between `<` and `>` of the header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use repin::vocab::link::next_link;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(target) = next_link(header) {
        // The target is returned exactly as written between the brackets, white space included
        // (a URL with spaces then fails to parse where it is used; it is never trimmed into
        // another URL). The property once trimmed the target, and so failed on `< /next >`.
        assert!(
            header.contains(&format!("<{target}>")),
            "{header:?} -> {target:?}"
        );
        assert!(
            !target.contains(['<', '>', ',']),
            "{header:?} -> {target:?}"
        );
        // Relation types compare case-insensitively (RFC 8288 §2.1.1): `rel=NEXT` is `next`.
        // The property once looked for `next` as written, and so failed on `rel = nexT`.
        assert!(header.to_ascii_lowercase().contains("next"));
    }
});
