//! The Pipfile.lock reader (and its JSON reader, with spans and a nesting bound) never panics,
//! round-trips bytes, its spans say what they claim, and no line edit of it is ever accepted
//! (a Pipfile.lock changes only by Pipenv's re-lock).
#![no_main]

use libfuzzer_sys::fuzz_target;
use repin::manifest::ManifestKind;

fuzz_target!(|data: &[u8]| {
    repin::manifest::check::fuzz_input("Pipfile.lock", ManifestKind::PipfileLock, data).unwrap();
});
