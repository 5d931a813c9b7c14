//! Wheels and sdists downloaded for their metadata (when the index serves none): reading
//! `*.dist-info/METADATA` from a zip and `PKG-INFO` from a `.tar.gz` or `.zip` never panics
//! and stays within memory bounds. The first byte picks the archive kind.
#![no_main]

use libfuzzer_sys::fuzz_target;
use repin::registry::pypi::metadata;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, archive)) = data.split_first() else {
        return;
    };
    let _ = match selector % 3 {
        0 => metadata::wheel_metadata("demo-1.0-py3-none-any.whl", archive),
        1 => metadata::sdist_pkg_info("demo-1.0.tar.gz", ".tar.gz", archive),
        _ => metadata::sdist_pkg_info("demo-1.0.zip", ".zip", archive),
    };
});
