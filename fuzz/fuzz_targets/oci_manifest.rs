//! OCI manifests and indexes (and Docker's), from registries: the media type is only ever one
//! repin understands; parsing never panics; attestation entries are left out; platform lookups
//! answer with the index's own digests. The first line is the `Content-Type` (empty: none).
#![no_main]

use libfuzzer_sys::fuzz_target;
use repin::registry::oci::manifest::{self, Manifest, Platform};

fuzz_target!(|data: &[u8]| {
    let (content_type, body) = match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&data[..0], data),
    };
    let content_type = std::str::from_utf8(content_type)
        .ok()
        .filter(|t| !t.is_empty());
    if let Ok(media_type) = manifest::media_type(content_type, body) {
        assert!(
            manifest::SUPPORTED.contains(&media_type.as_str()),
            "{media_type}"
        );
        assert!(manifest::is_supported(&media_type));
    }
    let digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    let Ok(parsed) = Manifest::parse(body, digest.to_owned()) else {
        return;
    };
    assert_eq!(parsed.digest(), digest);
    let platforms: Vec<Platform> = [
        "linux/amd64",
        "linux/arm64",
        "linux/arm/v7",
        "windows/amd64",
    ]
    .iter()
    .map(|p| Platform::parse(p).unwrap())
    .collect();
    match &parsed {
        Manifest::Index { entries, .. } => {
            for entry in entries {
                assert_ne!(entry.platform.os, "unknown");
                let shown = entry.platform.to_string();
                if !entry.platform.os.contains('/')
                    && !entry.platform.architecture.contains('/')
                    && !entry.platform.os.is_empty()
                    && !entry.platform.architecture.is_empty()
                    && entry
                        .platform
                        .variant
                        .as_deref()
                        .is_none_or(|v| !v.is_empty() && !v.contains('/'))
                {
                    assert_eq!(Platform::parse(&shown).as_ref(), Some(&entry.platform));
                }
            }
            for platform in &platforms {
                if let Some(found) = parsed.for_platform(platform) {
                    assert!(entries.iter().any(|e| e.digest == found));
                }
            }
        }
        Manifest::Image { .. } => {
            for platform in &platforms {
                assert_eq!(parsed.for_platform(platform), Some(digest));
            }
            assert_eq!(parsed.base_name(&platforms), None);
        }
    }
    assert!(!manifest::platforms_changed(&parsed, &parsed, &platforms));
});
