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
    if result.is_ok() {
        // A page that was read whole is valid JSON.
        assert!(serde_json::from_slice::<serde_json::Value>(data).is_ok());
    }
});
