//! Docker tags (from registries' tag lists and from Dockerfiles): parsing never panics and
//! keeps the tag as written; ordering is antisymmetric and agrees with `best_update` and
//! `classify`. The input is a current tag and candidate tags, one per line.
#![no_main]

use std::cmp::Ordering;

use libfuzzer_sys::fuzz_target;
use repin::versioning::docker_tag::{self, DockerTag};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let current = DockerTag::parse(lines.next().unwrap_or_default());
    let candidates: Vec<&str> = lines.take(64).collect();
    for candidate_text in &candidates {
        let candidate = DockerTag::parse(candidate_text);
        assert_eq!(candidate.as_str(), *candidate_text);
        assert_eq!(candidate.to_string(), *candidate_text);
        let forward = current.compare(&candidate);
        let backward = candidate.compare(&current);
        assert_eq!(
            forward,
            backward.map(Ordering::reverse),
            "{current} vs {candidate}"
        );
        assert_eq!(
            candidate.compare(&candidate).is_some(),
            candidate.same_shape(&candidate)
        );
        if let Some(kind) = docker_tag::classify(&current, &candidate) {
            assert_eq!(
                forward,
                Some(Ordering::Less),
                "{current} -> {candidate}: {kind:?}"
            );
        }
        let _ = candidate.variant_info();
        let _ = docker_tag::python_minor(&candidate);
        let _ = docker_tag::embedded_python(&candidate);
        if let Some(distribution) = candidate.variant_info().distribution {
            let _ = distribution.release_rank();
            // A codename migration rewrites the variant; it never panics.
            let _ = docker_tag::with_distribution(candidate.variant(), "bookworm");
        }
    }
    let best = docker_tag::best_update(&current, &candidates);
    for found in [best.highest, best.highest_in_minor].into_iter().flatten() {
        let found = DockerTag::parse(found);
        assert!(
            docker_tag::is_compatible(&current, &found),
            "{current} -> {found}"
        );
        assert_eq!(
            current.compare(&found),
            Some(Ordering::Less),
            "{current} -> {found}"
        );
    }
    if let (Some(highest), Some(in_minor)) = (best.highest, best.highest_in_minor) {
        let (highest, in_minor) = (DockerTag::parse(highest), DockerTag::parse(in_minor));
        assert_ne!(
            highest.compare(&in_minor),
            Some(Ordering::Less),
            "{highest} < {in_minor}"
        );
    }
});
