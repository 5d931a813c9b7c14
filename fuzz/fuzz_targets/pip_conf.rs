//! `pip.conf`: any text parses or is an error with a line number inside the file; merged
//! settings come from the files given.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use repin::registry::pypi::PypiError;
use repin::registry::pypi::pip_conf::{PipConf, PipConfFile};

fuzz_target!(|data: &[u8]| {
    // As `PipConfFile::load` decodes the file.
    let text = String::from_utf8_lossy(data);
    match PipConfFile::parse(Path::new("pip.conf"), &text) {
        Ok(file) => {
            let merged = PipConf::merge(std::slice::from_ref(&file));
            for key in [
                "index-url",
                "extra-index-url",
                "index_url",
                "--trusted-host",
            ] {
                if let Some(setting) = merged.get(key) {
                    assert!(!setting.value.trim().is_empty());
                    assert_eq!(setting.path, Path::new("pip.conf"));
                }
            }
        }
        Err(PypiError::InvalidPipConf { line, .. }) => {
            assert!(line >= 1 && line <= text.lines().count(), "line {line}");
        }
        Err(other) => panic!("unexpected error {other}"),
    }
});
