//! `repin.toml` from the repository: any bytes load or are refused with a diagnostic that
//! renders (its span inside the file) without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use repin::config::Loaded;
use repin::text::SourceFile;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = SourceFile::from_bytes("repin.toml", data) else {
        return;
    };
    match Loaded::parse(&source) {
        Ok(loaded) => {
            let _ = loaded.is_excluded(std::path::Path::new("services/api/requirements.txt"));
        }
        Err(error) => {
            let _ = error.to_string();
            if let Some(diagnostic) = error.diagnostic() {
                assert!(diagnostic.line >= 1, "line {}", diagnostic.line);
            }
        }
    }
});
