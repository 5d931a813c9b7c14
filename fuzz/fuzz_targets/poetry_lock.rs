//! The poetry.lock reader never panics, round-trips bytes, its spans say what they claim, and
//! no line edit of it is ever accepted (a poetry.lock changes only by Poetry's re-lock).
#![no_main]

use libfuzzer_sys::fuzz_target;
use repin::manifest::ManifestKind;

fuzz_target!(|data: &[u8]| {
    repin::manifest::check::fuzz_input("poetry.lock", ManifestKind::PoetryLock, data).unwrap();
});
