//! The Dockerfile parser never panics, round-trips bytes, and its spans say what they claim.
#![no_main]

use libfuzzer_sys::fuzz_target;
use repin::manifest::{self, ManifestKind};
use repin::text::SourceFile;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = SourceFile::from_bytes("Dockerfile", data) else {
        return;
    };
    let manifest = manifest::parse(source, ManifestKind::Dockerfile);
    assert_eq!(manifest.source.to_bytes(), data);
    repin::manifest::check::spans_are_consistent(&manifest).unwrap();
});
