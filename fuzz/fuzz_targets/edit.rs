//! Editing dependencies of any file either verifies or is refused; it never panics, and a
//! verified edit changes no byte outside the spans it replaced. The first bytes pick the format
//! and up to three dependencies to edit (editing every one of a large file is quadratic).
#![no_main]

use libfuzzer_sys::fuzz_target;
use repin::manifest::{self, ManifestKind};
use repin::text::SourceFile;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Some((picks, text)) = rest.split_at_checked(3) else {
        return;
    };
    let kind = if selector & 1 == 0 {
        ManifestKind::Requirements
    } else {
        ManifestKind::Dockerfile
    };
    let Ok(source) = SourceFile::from_bytes("fuzzed", text) else {
        return;
    };
    let manifest = manifest::parse(source, kind);
    let count = manifest.dependencies.len();
    if count == 0 {
        return;
    }
    for pick in picks {
        let index = usize::from(*pick) % count;
        repin::manifest::check::edit_verifies_or_is_refused(&manifest, index).unwrap();
    }
});
