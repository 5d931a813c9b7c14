//! Rolling tags (`3.12-slim`, `latest`) float over distribution releases: when such a tag's
//! digest is refreshed, whether it moved to another release (`3.12-slim` from bookworm to
//! trixie) is told by its codename-qualified siblings (`3.12-slim-bookworm`,
//! `3.12-slim-trixie`) that share the old or the new digest, or by the base image the indexes
//! name (`org.opencontainers.image.base.name`, set by the official images).

use super::{DigestFacts, DockerTag, TagKind};
use crate::versioning::docker_tag::{Distribution, DistroFamily, with_distribution};
use crate::versioning::support::Release;

/// Tags of the same version that name the distribution a floating `current` leaves open:
/// `3.12-slim` → `3.12-slim-bookworm`, `3.12-slim-trixie`; `3.12` → `3.12-bookworm`;
/// `latest` → `bookworm`; `3.12-alpine` → `3.12-alpine3.21`. A tag without a family is
/// taken to float over Debian or Ubuntu releases, as the official images do; empty for tags
/// that name a release already.
pub(super) fn siblings(current: &DockerTag, tags: &[String]) -> Vec<String> {
    let info = current.variant_info();
    if info
        .distribution
        .as_ref()
        .is_some_and(|d| d.release.is_some())
    {
        return Vec::new();
    }
    let variant = match current.variant() {
        "latest" if current.kind() == TagKind::Named => "",
        v => v,
    };
    tags.iter()
        .filter(|text| {
            let t = DockerTag::parse(text);
            if t.kind() != current.kind()
                || t.prefix() != current.prefix()
                || t.parts() != current.parts()
                || t.pre() != current.pre()
            {
                return false;
            }
            let Some(d) = t.variant_info().distribution else {
                return false;
            };
            let Some(release) = d.release.as_deref() else {
                return false;
            };
            match &info.distribution {
                Some(floating) => {
                    d.family == floating.family
                        && with_distribution(variant, release).is_ok_and(|v| v == t.variant())
                }
                None => {
                    matches!(d.family, DistroFamily::Debian | DistroFamily::Ubuntu)
                        && (variant.is_empty() && t.variant() == release
                            || t.variant() == format!("{variant}-{release}")
                            || t.variant() == format!("{release}-{variant}"))
                }
            }
        })
        .cloned()
        .collect()
}

/// `; `3.12-slim` moved from Debian bookworm to Debian trixie (it is `3.12-slim-trixie` now)`
/// when the rolling tag `tag` changed distribution between the `old` and `new` digests, and
/// nothing when either side is unknown or both are the same. See [`distribution_of`].
pub(super) fn moved(tag: &str, old: &str, new: &str, facts: &DigestFacts) -> String {
    let (Some((from, _)), Some((to, now))) =
        (distribution_of(old, facts), distribution_of(new, facts))
    else {
        return String::new();
    };
    if from == to {
        return String::new();
    }
    let name = |d: &Distribution| match Release::of_distribution(d) {
        Some(release) => release.to_string(),
        None => format!("{} {}", d.family, d.release.as_deref().unwrap_or_default()),
    };
    let now = now
        .map(|s| format!(" (it is `{s}` now)"))
        .unwrap_or_default();
    format!("; `{tag}` moved from {} to {}{now}", name(&from), name(&to))
}

/// The distribution behind a digest of a rolling tag, and the sibling that names it: the
/// codename-qualified sibling whose digest it is now, else the base image its index names
/// ([`DigestFacts::base_names`]), which tells for an old digest whose sibling was rebuilt
/// since.
fn distribution_of(digest: &str, facts: &DigestFacts) -> Option<(Distribution, Option<String>)> {
    let sibling = facts.siblings.iter().find_map(|(sibling, d)| {
        let distribution = DockerTag::parse(sibling).variant_info().distribution?;
        (d == digest).then(|| (distribution, Some(sibling.clone())))
    });
    sibling.or_else(|| {
        facts
            .base_names
            .get(digest)
            .and_then(|base| base_distribution(base))
            .map(|d| (d, None))
    })
}

/// The distribution release a base image reference names: `debian:bookworm-slim` → Debian
/// bookworm, `alpine:3.20` → Alpine 3.20, `python:3.12-slim-trixie` → Debian trixie; `None`
/// without a tag or a release (`debian:12-slim`, `alpine:latest`).
pub(super) fn base_distribution(base: &str) -> Option<Distribution> {
    let reference = base.split('@').next()?;
    let (repository, tag) = reference.rsplit_once(':')?;
    if tag.contains('/') {
        // `host:port/name`: a port, not a tag.
        return None;
    }
    let parsed = DockerTag::parse(tag);
    if repository.rsplit('/').next() == Some("alpine") {
        let (major, minor) = parsed.major_minor()?;
        return Some(Distribution {
            family: DistroFamily::Alpine,
            release: Some(format!("{major}.{minor}")),
        });
    }
    parsed
        .variant_info()
        .distribution
        .filter(|d| d.release.is_some())
}
