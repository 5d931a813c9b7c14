//! Registry tag-list pages: any bytes are read or refused without panicking, and no page adds
//! more than the bound of tags.
#![no_main]

use libfuzzer_sys::fuzz_target;
use repin::registry::oci::tag_list::{self, MAX_TAGS};

fuzz_target!(|data: &[u8]| {
    let mut tags = vec!["existing".to_owned()];
    let result = tag_list::read_page(data, &mut tags);
    assert!(tags.len() <= MAX_TAGS, "{} tags", tags.len());
    assert_eq!(tags[0], "existing");
    match serde_json::from_slice::<serde_json::Value>(data) {
        // serde_json refuses a number beyond f64 (`5e666666660`), which JSON's grammar allows
        // (RFC 8259 lets a reader set limits): repin skips such a value of a key it does not
        // read, so no verdict either way (a fuzz finding of this property, not of repin).
        Err(error) if error.to_string().starts_with("number out of range") => {}
        // Nor for a string with an unpaired surrogate escape (`"\udaaa\ueeee"`): JSON's grammar
        // allows one (RFC 8259, section 8.2; Python's `json` reads it), a Rust `String` cannot
        // hold one, so `serde_json::Value` refuses what repin rightly skips in a key it does
        // not read (a fuzz finding of this property, not of repin).
        Err(error)
            if error
                .to_string()
                .starts_with("lone leading surrogate in hex escape")
                || error
                    .to_string()
                    .starts_with("unexpected end of hex escape") => {}
        // A page that was read is valid JSON, UTF-8 included (a page with invalid UTF-8 in a
        // skipped string was once read).
        Err(_) => assert!(result.is_err(), "read a page that is not JSON"),
        // A page of the documented shape (one `tags` key, a list of strings) is read and adds
        // exactly its tags (inputs are far below `MAX_TAGS`).
        Ok(value) => {
            let strings: Option<Vec<&str>> = value
                .get("tags")
                .and_then(|t| t.as_array())
                .and_then(|list| list.iter().map(|t| t.as_str()).collect());
            let single_key = data.windows(6).filter(|w| w == b"\"tags\"").count() == 1;
            if let (Some(strings), true) = (&strings, single_key) {
                assert!(result.is_ok(), "{result:?}");
                assert_eq!(&tags[1..], strings.as_slice());
            }
        }
    }
});
