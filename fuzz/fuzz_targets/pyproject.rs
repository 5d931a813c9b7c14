//! The pyproject.toml reader never panics, round-trips bytes, its spans say what they claim,
//! and an edit of any of its dependencies (edits splice inside TOML strings) either verifies or
//! is refused. The first byte picks up to three dependencies to edit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use repin::manifest::{self, ManifestKind};
use repin::text::SourceFile;

fuzz_target!(|data: &[u8]| {
    let Some((picks, text)) = data.split_at_checked(3) else {
        return;
    };
    let Ok(source) = SourceFile::from_bytes("pyproject.toml", text) else {
        return;
    };
    let manifest = manifest::parse(source, ManifestKind::Pyproject);
    assert_eq!(manifest.source.to_bytes(), text);
    repin::manifest::check::spans_are_consistent(&manifest).unwrap();
    let count = manifest.dependencies.len();
    if count == 0 {
        return;
    }
    for pick in picks {
        let index = usize::from(*pick) % count;
        repin::manifest::check::edit_verifies_or_is_refused(&manifest, index).unwrap();
    }
});
