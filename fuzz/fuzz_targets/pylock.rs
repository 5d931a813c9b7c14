//! The pylock.toml reader never panics, round-trips bytes, its spans say what they claim, and no
//! line edit of it is ever accepted (a pylock.toml changes only by a re-lock).
#![no_main]

use libfuzzer_sys::fuzz_target;
use repin::manifest::{self, ManifestKind};
use repin::text::SourceFile;

fuzz_target!(|data: &[u8]| {
    let Some((pick, text)) = data.split_first() else {
        return;
    };
    let Ok(source) = SourceFile::from_bytes("pylock.toml", text) else {
        return;
    };
    let manifest = manifest::parse(source, ManifestKind::Pylock);
    assert_eq!(manifest.source.to_bytes(), text);
    repin::manifest::check::spans_are_consistent(&manifest).unwrap();
    let count = manifest.dependencies.len();
    if count == 0 {
        return;
    }
    let index = usize::from(*pick) % count;
    repin::manifest::check::edit_verifies_or_is_refused(&manifest, index).unwrap();
});
