//! PEP 508 environment markers, as repin reads them in requirements files and in
//! `Requires-Dist`: never a panic nor a stack overflow, however deep the nesting; a marker that
//! parses evaluates on the lock's target, and its canonical text parses to a marker that selects
//! the same environments.
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use pep508_rs::MarkerTree;
use repin::lock::target::Target;
use repin::manifest::python;
use repin::registry::pypi::metadata;

/// libFuzzer's panic hook aborts on every panic, even one repin catches. repin catches panics of
/// `pep508_rs` (a bug on its side: the dependency becomes an error) and also checks first for
/// those it knows; a panic there is tolerated here as repin tolerates it, and any other still
/// aborts.
fn tolerate_what_repin_catches() {
    let abort = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_pep508 = info
            .location()
            .is_some_and(|l| l.file().contains("/pep508_rs-"));
        if !in_pep508 {
            abort(info);
        }
    }));
}

fuzz_target!(init: tolerate_what_repin_catches(), |data: &[u8]| {
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
        // A value holding a quote (`"CPyt' and x"`, only written between the other kind of
        // quotes, so both kinds appear) is written back by `pep508_rs` between single quotes,
        // which does not parse (an upstream bug, found here). repin never writes a marker's
        // canonical text (its locks are for one target, with markers evaluated), so the
        // round trip is only asked of markers without such values.
        let quoted_quote = marker.contains('\'') && marker.contains('"');
        // `pep508_rs` writes the canonical text in disjunctive normal form, which grows
        // exponentially: a 2.5 KB marker found here took 250 ms and wrote 442 KB, and such
        // inputs took most of the target's time (libFuzzer's slow units). repin only reads and
        // evaluates markers (under a millisecond for that one, as above) and keeps them as
        // written, never as canonical text, so the round trip is asked only of markers of a
        // realistic length.
        let realistic = marker.len() <= 512;
        let contents = if quoted_quote || !realistic {
            None
        } else {
            tree.contents()
        };
        if let Some(contents) = contents {
            // The canonical text parses, and means the same: it selects the same
            // environments. Not the same tree: `pep508_rs` simplifies a marker that is never
            // true to `false`, writes it `python_version < '0'`, and reads that back as a
            // version range, not as `false`.
            let canonical = contents.to_string();
            let again = MarkerTree::from_str(&canonical).unwrap();
            let extra: pep508_rs::ExtraName = "test".parse().unwrap();
            for python in ["2.7", "3.0", "3.7.1", "3.8", "3.11", "3.12", "3.13.2", "3.30"] {
                let environment = Target::linux_x86_64(python).unwrap().markers;
                for extras in [&[][..], std::slice::from_ref(&extra)] {
                    assert_eq!(
                        again.evaluate(&environment, extras),
                        tree.evaluate(&environment, extras),
                        "{marker:?} -> {canonical:?} on Python {python} with extras {extras:?}"
                    );
                }
            }
        }
    }
    if let Ok(requirement) = metadata::parse_requirement(&line) {
        let _ = requirement.marker.evaluate(&target.markers, &[]);
    }
});
