//! Compiled lock headers (pip-compile, uv, Rye, repin) and `# via` annotations: any comment
//! lines are read without panicking; a named output file comes from the header's command.
#![no_main]

use libfuzzer_sys::fuzz_target;
use repin::manifest::requirements::lock::{self, ViaCollector};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let comments: Vec<&str> = text.lines().collect();
    if let Some(header) = lock::header(&comments) {
        if let Some(output) = &header.output_file {
            let command = header
                .command
                .as_deref()
                .expect("an output file comes from a command");
            assert!(
                command.contains(output.as_str()),
                "{output:?} not in {command:?}"
            );
        }
    }
    let mut via = ViaCollector::default();
    for comment in &comments {
        if let Some(names) = via.feed(comment) {
            for name in names {
                assert!(
                    !name.is_empty() && comment.contains(name.as_str()),
                    "{name:?} from {comment:?}"
                );
            }
        }
    }
});
