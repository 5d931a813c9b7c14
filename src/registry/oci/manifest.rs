//! Manifest media types, image indexes and their platforms.

use serde::Deserialize;

/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker manifest list.
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// The `Accept` header for manifests: indexes first, so a multi-platform tag answers with the
/// digest of its index.
pub fn accept() -> String {
    [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST].join(", ")
}

/// The manifest media types repin understands.
pub const SUPPORTED: [&str; 4] = [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST];

/// A `Content-Type` without its parameters, lower-case.
fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Whether `content_type` is one of the [`SUPPORTED`] manifest types.
pub fn is_supported(content_type: &str) -> bool {
    SUPPORTED.contains(&essence(content_type).as_str())
}

/// Whether `content_type` says nothing about the manifest (plain JSON, bytes, nothing): the
/// body's own `mediaType` decides then.
pub fn is_generic(content_type: &str) -> bool {
    matches!(
        essence(content_type).as_str(),
        "" | "application/json" | "application/octet-stream" | "text/plain"
    )
}

/// Why a manifest's media type is not one repin understands; the text is the offending type,
/// as [`super::OciError::UnsupportedMediaType`] shows it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaTypeError {
    /// A type outside [`SUPPORTED`], from the header or the body.
    #[error("{0}")]
    Unsupported(String),
    /// The header names a supported type and the body another.
    #[error("{header} (but the manifest itself says {body})")]
    Disagrees {
        /// The `Content-Type` header's type.
        header: String,
        /// The body's `mediaType`.
        body: String,
    },
    /// Neither the header nor the body says what the manifest is.
    #[error("no media type")]
    Missing,
}

/// The media type of a manifest served with `content_type`: a [`SUPPORTED`] type, from the
/// header, or from the body's `mediaType` when the header is generic (an OCI manifest without
/// one is recognised by its `schemaVersion` 2 and its `manifests` or `config`). `Err` with the
/// offending type otherwise, also when the header and the body disagree.
pub fn media_type(content_type: Option<&str>, body: &[u8]) -> Result<String, MediaTypeError> {
    #[derive(Deserialize)]
    struct Head {
        #[serde(rename = "schemaVersion")]
        schema_version: Option<serde_json::Value>,
        #[serde(rename = "mediaType")]
        media_type: Option<serde_json::Value>,
        manifests: Option<serde_json::Value>,
        config: Option<serde_json::Value>,
    }
    let header = content_type.map(essence).unwrap_or_default();
    let head: Option<Head> = serde_json::from_slice(body).ok();
    let declared = head
        .as_ref()
        .and_then(|h| h.media_type.as_ref())
        .map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_owned));
    if !is_generic(&header) {
        if !SUPPORTED.contains(&header.as_str()) {
            return Err(MediaTypeError::Unsupported(header));
        }
        return match declared {
            Some(body_type) if body_type != header => Err(MediaTypeError::Disagrees {
                header,
                body: body_type,
            }),
            _ => Ok(header),
        };
    }
    match (declared, head) {
        (Some(body_type), _) if SUPPORTED.contains(&body_type.as_str()) => Ok(body_type),
        (Some(body_type), _) => Err(MediaTypeError::Unsupported(body_type)),
        (None, Some(h))
            if h.schema_version
                .as_ref()
                .and_then(serde_json::Value::as_u64)
                == Some(2) =>
        {
            if h.manifests.is_some() {
                Ok(OCI_INDEX.to_owned())
            } else if h.config.is_some() {
                Ok(OCI_MANIFEST.to_owned())
            } else {
                Err(if header.is_empty() {
                    MediaTypeError::Missing
                } else {
                    MediaTypeError::Unsupported(header)
                })
            }
        }
        _ => Err(if header.is_empty() {
            MediaTypeError::Missing
        } else {
            MediaTypeError::Unsupported(header)
        }),
    }
}

/// A platform: `linux/amd64`, `linux/arm64/v8`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Platform {
    /// `linux`, `windows`.
    pub os: String,
    /// `amd64`, `arm64`, `arm`.
    pub architecture: String,
    /// `v7`, `v8`, when given.
    pub variant: Option<String>,
}

impl Platform {
    /// Parse `os/architecture[/variant]`.
    pub fn parse(text: &str) -> Option<Platform> {
        let mut parts = text.split('/');
        let os = parts.next().filter(|s| !s.is_empty())?.to_owned();
        let architecture = parts.next().filter(|s| !s.is_empty())?.to_owned();
        let variant = parts.next().filter(|s| !s.is_empty()).map(str::to_owned);
        Some(Platform {
            os,
            architecture,
            variant,
        })
    }

    /// Whether an index entry for `other` serves this platform (an unspecified variant
    /// matches any; `arm64` is `arm64/v8`).
    pub fn matches(&self, other: &Platform) -> bool {
        let norm = |p: &Platform| match (p.architecture.as_str(), p.variant.as_deref()) {
            ("arm64", None) => Some("v8".to_owned()),
            (_, v) => v.map(str::to_owned),
        };
        self.os == other.os
            && self.architecture == other.architecture
            && (self.variant.is_none() || norm(self) == norm(other))
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// The OCI annotation naming the image an image was built on (`debian:bookworm-slim`); the
/// official images set it on each entry of their indexes.
pub const BASE_NAME: &str = "org.opencontainers.image.base.name";

/// One manifest of an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The platform it is for.
    pub platform: Platform,
    /// Its digest.
    pub digest: String,
    /// Its [`BASE_NAME`] annotation, when the index has one.
    pub base_name: Option<String>,
    /// Its `org.opencontainers.image.created` annotation (when the image was built), when the
    /// index has one: the official images set it on each entry.
    pub created: Option<String>,
}

/// A parsed manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manifest {
    /// A multi-platform index (or Docker manifest list).
    Index {
        /// Its digest.
        digest: String,
        /// Platform manifests (attestations left out).
        entries: Vec<Entry>,
    },
    /// A single-platform image manifest.
    Image {
        /// Its digest.
        digest: String,
        /// The config blob's digest.
        config: Option<String>,
    },
}

impl Manifest {
    /// The manifest's own digest.
    pub fn digest(&self) -> &str {
        match self {
            Manifest::Index { digest, .. } | Manifest::Image { digest, .. } => digest,
        }
    }

    /// The digest of the manifest serving `platform`: an index's entry, or a single manifest
    /// itself (which serves whatever it was built for).
    pub fn for_platform(&self, platform: &Platform) -> Option<&str> {
        match self {
            Manifest::Index { entries, .. } => entries
                .iter()
                .find(|e| platform.matches(&e.platform))
                .map(|e| e.digest.as_str()),
            Manifest::Image { digest, .. } => Some(digest),
        }
    }

    /// The image the manifest serving one of `platforms` (the first that has one) was built
    /// on, from its index entry's [`BASE_NAME`] annotation; `None` for single manifests.
    pub fn base_name(&self, platforms: &[Platform]) -> Option<&str> {
        let Manifest::Index { entries, .. } = self else {
            return None;
        };
        platforms.iter().find_map(|p| {
            entries
                .iter()
                .find(|e| p.matches(&e.platform))
                .and_then(|e| e.base_name.as_deref())
        })
    }

    /// The index entry serving `platform`; `None` for single manifests.
    pub fn entry(&self, platform: &Platform) -> Option<&Entry> {
        match self {
            Manifest::Index { entries, .. } => {
                entries.iter().find(|e| platform.matches(&e.platform))
            }
            Manifest::Image { .. } => None,
        }
    }

    /// Parse a manifest body with its digest.
    pub fn parse(body: &[u8], digest: String) -> Result<Manifest, serde_json::Error> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(rename = "mediaType")]
            media_type: Option<String>,
            manifests: Option<Vec<RawEntry>>,
            config: Option<RawDescriptor>,
        }
        #[derive(Deserialize)]
        struct RawEntry {
            digest: String,
            platform: Option<RawPlatform>,
            // Values are strings by the specification; anything else is left out, not fatal.
            #[serde(default)]
            annotations: std::collections::BTreeMap<String, serde_json::Value>,
        }
        #[derive(Deserialize)]
        struct RawDescriptor {
            digest: String,
        }
        #[derive(Deserialize)]
        struct RawPlatform {
            os: String,
            architecture: String,
            variant: Option<String>,
        }
        let raw: Raw = serde_json::from_slice(body)?;
        let is_index = raw.manifests.is_some()
            || matches!(raw.media_type.as_deref(), Some(OCI_INDEX | DOCKER_LIST));
        if is_index {
            let entries = raw
                .manifests
                .unwrap_or_default()
                .into_iter()
                .filter_map(|e| {
                    let p = e.platform?;
                    // Attestation manifests are listed as unknown/unknown.
                    (p.os != "unknown").then_some(Entry {
                        platform: Platform {
                            os: p.os,
                            architecture: p.architecture,
                            variant: p.variant,
                        },
                        digest: e.digest,
                        base_name: e
                            .annotations
                            .get(BASE_NAME)
                            .and_then(|v| v.as_str())
                            .map(str::to_owned),
                        created: e
                            .annotations
                            .get(super::created::CREATED)
                            .and_then(|v| v.as_str())
                            .map(str::to_owned),
                    })
                })
                .collect();
            return Ok(Manifest::Index { digest, entries });
        }
        Ok(Manifest::Image {
            digest,
            config: raw.config.map(|c| c.digest),
        })
    }
}

/// Whether any platform in use is served by a different manifest in `new` than in `old`
/// (a platform missing from one side counts as changed).
pub fn platforms_changed(old: &Manifest, new: &Manifest, platforms: &[Platform]) -> bool {
    if old.digest() == new.digest() {
        return false;
    }
    platforms
        .iter()
        .any(|p| old.for_platform(p) != new.for_platform(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(n: u8) -> String {
        format!("sha256:{}", format!("{n:02x}").repeat(32))
    }

    fn index(entries: &[(&str, &str, Option<&str>, u8)]) -> Vec<u8> {
        let manifests: Vec<serde_json::Value> = entries
            .iter()
            .map(|(os, arch, variant, n)| {
                let mut platform = serde_json::json!({"os": os, "architecture": arch});
                if let Some(v) = variant {
                    platform["variant"] = serde_json::json!(v);
                }
                serde_json::json!({"mediaType": OCI_MANIFEST, "digest": digest(*n), "size": 1000, "platform": platform})
            })
            .collect();
        serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests})).unwrap()
    }

    /// Shaped like the official python image: six platforms plus attestations.
    fn python_index(amd64: u8, arm64: u8) -> Vec<u8> {
        index(&[
            ("linux", "amd64", None, amd64),
            ("linux", "arm", Some("v7"), 3),
            ("linux", "arm64", Some("v8"), arm64),
            ("linux", "386", None, 5),
            ("linux", "ppc64le", None, 6),
            ("linux", "s390x", None, 7),
            ("unknown", "unknown", None, 8),
            ("unknown", "unknown", None, 9),
        ])
    }

    #[test]
    fn reads_platforms_and_skips_attestations() {
        let m = Manifest::parse(&python_index(1, 2), digest(100)).unwrap();
        let Manifest::Index { entries, .. } = &m else {
            panic!()
        };
        assert_eq!(entries.len(), 6);
        let arm64 = Platform::parse("linux/arm64").unwrap();
        assert_eq!(m.for_platform(&arm64), Some(digest(2).as_str()));
        assert_eq!(
            m.for_platform(&Platform::parse("linux/arm/v7").unwrap()),
            Some(digest(3).as_str())
        );
        assert_eq!(
            m.for_platform(&Platform::parse("windows/amd64").unwrap()),
            None
        );
        let single = Manifest::parse(br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"sha256:aa"}}"#, digest(4)).unwrap();
        assert_eq!(
            single,
            Manifest::Image {
                digest: digest(4),
                config: Some("sha256:aa".into())
            }
        );
        assert!(Manifest::parse(b"{", digest(1)).is_err());
        assert!(Platform::parse("linux").is_none());
        assert_eq!(
            Platform::parse("linux/arm64/v8").unwrap().to_string(),
            "linux/arm64/v8"
        );
    }

    #[test]
    fn base_names_come_from_the_entries_of_the_platforms_in_use() {
        let body = serde_json::json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
            {"digest": digest(1), "platform": {"os": "linux", "architecture": "amd64"},
             "annotations": {BASE_NAME: "debian:trixie-slim", "org.opencontainers.image.version": "3.12.4-slim-trixie"}},
            {"digest": digest(2), "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            {"digest": digest(3), "platform": {"os": "linux", "architecture": "386"}, "annotations": {BASE_NAME: 7}},
        ]});
        let m = Manifest::parse(&serde_json::to_vec(&body).unwrap(), digest(100)).unwrap();
        let platforms = |list: &[&str]| -> Vec<Platform> {
            list.iter().map(|p| Platform::parse(p).unwrap()).collect()
        };
        assert_eq!(
            m.base_name(&platforms(&["linux/amd64"])),
            Some("debian:trixie-slim")
        );
        assert_eq!(
            m.base_name(&platforms(&["linux/arm64", "linux/amd64"])),
            Some("debian:trixie-slim")
        );
        assert_eq!(m.base_name(&platforms(&["linux/arm64"])), None);
        assert_eq!(m.base_name(&platforms(&["linux/386"])), None);
        let single = Manifest::Image {
            digest: digest(4),
            config: None,
        };
        assert_eq!(single.base_name(&platforms(&["linux/amd64"])), None);
    }

    #[test]
    fn only_manifest_and_index_media_types_are_understood() {
        let oci_index = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
        let bare_index = br#"{"schemaVersion":2,"manifests":[]}"#;
        let bare_image = br#"{"schemaVersion":2,"config":{"digest":"sha256:aa"},"layers":[]}"#;
        let schema1 = br#"{"schemaVersion":1,"name":"x","fsLayers":[]}"#;
        type Case<'a> = (Option<&'a str>, &'a [u8], Result<&'a str, &'a str>);
        let cases: [Case; 10] = [
            (Some(OCI_INDEX), oci_index, Ok(OCI_INDEX)),
            (
                Some("application/vnd.oci.image.index.v1+json; charset=utf-8"),
                bare_index,
                Ok(OCI_INDEX),
            ),
            (Some(DOCKER_MANIFEST), bare_image, Ok(DOCKER_MANIFEST)),
            (None, oci_index, Ok(OCI_INDEX)),
            (Some("application/json"), bare_image, Ok(OCI_MANIFEST)),
            (
                Some("application/vnd.hostile.weird+json"),
                bare_image,
                Err("application/vnd.hostile.weird+json"),
            ),
            (
                Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
                schema1,
                Err("application/vnd.docker.distribution.manifest.v1+prettyjws"),
            ),
            (None, schema1, Err("no media type")),
            (
                None,
                br#"{"schemaVersion":2,"mediaType":"application/vnd.hostile+json","config":{}}"#,
                Err("application/vnd.hostile+json"),
            ),
            (
                Some(OCI_MANIFEST),
                oci_index,
                Err(
                    "application/vnd.oci.image.manifest.v1+json (but the manifest itself says application/vnd.oci.image.index.v1+json)",
                ),
            ),
        ];
        for (header, body, expected) in cases {
            let got = media_type(header, body).map_err(|e| e.to_string());
            assert_eq!(
                got.as_deref().map_err(String::as_str),
                expected,
                "{header:?}"
            );
        }
        assert!(is_supported(
            "application/vnd.docker.distribution.manifest.list.v2+json"
        ));
        assert!(!is_supported("application/vnd.hostile.weird+json"));
        assert!(is_generic("application/json; charset=utf-8") && is_generic(""));
    }

    #[test]
    fn a_new_index_matters_only_when_a_used_platform_changed() {
        let old = Manifest::parse(&python_index(1, 2), digest(100)).unwrap();
        let arm_only = Manifest::parse(&python_index(1, 12), digest(101)).unwrap();
        let amd = [Platform::parse("linux/amd64").unwrap()];
        let both = [amd[0].clone(), Platform::parse("linux/arm64").unwrap()];
        assert!(!platforms_changed(&old, &arm_only, &amd));
        assert!(platforms_changed(&old, &arm_only, &both));
        assert!(!platforms_changed(&old, &old, &both));
    }
}
