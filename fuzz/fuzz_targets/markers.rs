//! PEP 508 environment markers, as repin reads them in requirements files and in
//! `Requires-Dist`: never a panic nor a stack overflow, however deep the nesting; a marker that
//! parses evaluates on the lock's target, and its canonical text parses to the same marker.
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use pep508_rs::MarkerTree;
use repin::lock::target::Target;
use repin::manifest::python;
use repin::registry::pypi::metadata;

fuzz_target!(|data: &[u8]| {
    let Ok(marker) = std::str::from_utf8(data) else {
        return;
    };
    if marker.contains(['\n', '\r', '#']) {
        return;
    }
    let line = format!("demo==1.0 ; {marker}");
    let scanned = python::scan(&line, 0);
    let target = Target::linux_x86_64("3.12").unwrap();
    if let Some(tree) = &scanned.requirement.parsed_marker {
        let _ = tree.evaluate(&target.markers, &[]);
        if let Some(contents) = tree.contents() {
            let canonical = contents.to_string();
            let again = MarkerTree::from_str(&canonical).unwrap();
            assert_eq!(&again, tree, "{marker:?} -> {canonical:?}");
        }
    }
    if let Ok(requirement) = metadata::parse_requirement(&line) {
        let _ = requirement.marker.evaluate(&target.markers, &[]);
    }
});
