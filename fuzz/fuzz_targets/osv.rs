//! OSV records, JSON (osv.dev, the OSV API) and YAML (the PyPA advisory database), chosen by
//! the first byte: parsing never panics; a parsed record survives a JSON round trip; indexing
//! and asking whether versions are affected never panic, and a fix is never affected by the
//! range it fixes alone.
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use pep440_rs::Version;
use repin::advisory::{AdvisoryIndex, OsvRecord, RecordFormat};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let format = if selector & 1 == 0 {
        RecordFormat::Json
    } else {
        RecordFormat::Yaml
    };
    let Ok(record) = format.parse(text) else {
        return;
    };
    // Free-form JSON (`database_specific`) may hold floats, which serde_json does not promise
    // to round-trip exactly: compare the rest.
    let strip = |mut r: OsvRecord| {
        r.database_specific = None;
        for a in &mut r.affected {
            a.database_specific = None;
            a.ecosystem_specific = None;
        }
        r
    };
    let json = serde_json::to_string(&record).unwrap();
    let again = OsvRecord::from_json(&json).unwrap();
    assert_eq!(strip(again), strip(record.clone()));
    let _ = record.database_severity();
    let index = AdvisoryIndex::from_records([record]);
    let probes: Vec<Version> = ["0", "0.0.1", "1.0", "1.0.post1", "2.0.0rc1", "99"]
        .iter()
        .map(|v| Version::from_str(v).unwrap())
        .collect();
    for advisory in index.iter() {
        let _ = advisory.severity();
        let _ = advisory.problems_diagnostic().map(|d| d.to_string());
        let _ = advisory.url();
        let _ = advisory.title();
        for version in probes.iter().chain(advisory.fixed_versions()) {
            let _ = advisory.is_affected(version);
        }
        for entry in advisory.entries() {
            for listed in entry.listed_versions() {
                assert!(entry.is_listed(listed), "{listed} is listed");
                assert!(entry.is_affected(listed), "{listed} is listed");
            }
        }
    }
});
