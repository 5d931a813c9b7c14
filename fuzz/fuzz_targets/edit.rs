//! Editing any updatable dependency of any file either verifies or is refused; it never
//! panics, and a verified edit changes no byte outside the spans it replaced.
#![no_main]

use libfuzzer_sys::fuzz_target;
use repin::manifest::{self, ManifestKind};
use repin::text::SourceFile;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let kind = if selector & 1 == 0 { ManifestKind::Requirements } else { ManifestKind::Dockerfile };
    let Ok(source) = SourceFile::from_bytes("fuzzed", rest) else { return };
    let manifest = manifest::parse(source, kind);
    repin::manifest::check::every_edit_verifies_or_is_refused(&manifest).unwrap();
});
