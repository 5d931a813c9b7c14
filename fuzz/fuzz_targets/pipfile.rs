//! The Pipfile reader never panics, round-trips bytes, its spans say what they claim, and an
//! edit of any of its packages (edits splice inside TOML strings) either verifies or is
//! refused. The first byte picks the package to edit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use repin::manifest::ManifestKind;

fuzz_target!(|data: &[u8]| {
    repin::manifest::check::fuzz_input("Pipfile", ManifestKind::Pipfile, data).unwrap();
});
