//! When an image was built, for a minimum release age and the age shown beside an update, for
//! each platform in use (the youngest of them counts): the `org.opencontainers.image.created`
//! annotation of the platform's entry in the index (the official images set it: no request
//! beyond the index), else the `created` time of the platform's image config, else the
//! annotation of the platform's manifest, else of the index. Registries publish no push time,
//! so this is the best age an image has.
//!
//! A `created` at the Unix epoch (reproducible builds such as distroless, ko or Nix write
//! `1970-01-01T00:00:00Z`) says nothing about when the image was made: it counts as unknown.

use serde::Deserialize;

use super::manifest::{Manifest, Platform};
use super::{OciClient, OciError};

/// The annotation of a manifest or index that says when the image was built.
pub const CREATED: &str = "org.opencontainers.image.created";

/// The largest image config read for its `created` time.
const MAX_CONFIG_BYTES: usize = 4 * 1024 * 1024;

/// Times before this (1980-01-01) are placeholders, not build times.
const EARLIEST: i64 = 315_532_800;

#[derive(Deserialize)]
struct Annotated {
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct Config {
    created: Option<String>,
}

/// Seconds since the epoch of an RFC 3339 time, when it is a real build time.
fn seconds(text: &str) -> Option<i64> {
    let at: jiff::Timestamp = text.trim().parse().ok()?;
    Some(at.as_second()).filter(|s| *s >= EARLIEST)
}

/// The [`CREATED`] annotation of a manifest or index body.
fn annotation(body: &[u8]) -> Option<i64> {
    let annotated: Annotated = serde_json::from_slice(body).ok()?;
    annotated
        .annotations
        .get(CREATED)?
        .as_str()
        .and_then(seconds)
}

impl OciClient {
    /// When `reference` (a tag or a digest) was built for `platforms`, in seconds since the
    /// epoch: the youngest build among the platforms that have one; `None` when neither the
    /// configs nor the annotations say.
    pub async fn created(
        &self,
        registry: &str,
        repository: &str,
        reference: &str,
        platforms: &[Platform],
    ) -> Result<Option<i64>, OciError> {
        let (body, digest) = self.manifest_body(registry, repository, reference).await?;
        let top = Manifest::parse(&body, digest).map_err(|e| OciError::BadResponse {
            registry: registry.to_owned(),
            reason: format!("the manifest is not valid JSON: {e}"),
        })?;
        let mut youngest: Option<i64> = None;
        for platform in platforms {
            let Some(digest) = top.for_platform(platform) else {
                continue;
            };
            // The index's own word for the platform: no manifest or config to fetch.
            if let Some(at) = top
                .entry(platform)
                .and_then(|e| e.created.as_deref())
                .and_then(seconds)
            {
                youngest = Some(youngest.map_or(at, |y| y.max(at)));
                continue;
            }
            let (image_body, image) = if digest == top.digest() {
                (body.clone(), top.clone())
            } else {
                let (b, d) = self.manifest_body(registry, repository, digest).await?;
                let parsed = Manifest::parse(&b, d).map_err(|e| OciError::BadResponse {
                    registry: registry.to_owned(),
                    reason: format!("the manifest is not valid JSON: {e}"),
                })?;
                (b, parsed)
            };
            let from_config = match &image {
                Manifest::Image {
                    config: Some(config),
                    ..
                } => {
                    let bytes = self
                        .blob(registry, repository, config, MAX_CONFIG_BYTES)
                        .await?;
                    serde_json::from_slice::<Config>(&bytes)
                        .ok()
                        .and_then(|c| c.created)
                        .and_then(|c| seconds(&c))
                }
                _ => None,
            };
            if let Some(at) = from_config.or_else(|| annotation(&image_body)) {
                youngest = Some(youngest.map_or(at, |y| y.max(at)));
            }
        }
        Ok(youngest.or_else(|| annotation(&body)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_times_are_read_and_placeholders_are_not() {
        assert_eq!(seconds("2024-06-13T01:02:03Z"), Some(1_718_240_523));
        assert_eq!(
            seconds("2024-06-13T01:02:03.123456789Z"),
            Some(1_718_240_523)
        );
        assert_eq!(seconds("2024-06-13T03:02:03+02:00"), Some(1_718_240_523));
        assert_eq!(seconds("1970-01-01T00:00:00Z"), None);
        assert_eq!(seconds("0001-01-01T00:00:00Z"), None);
        assert_eq!(seconds("yesterday"), None);
    }

    #[test]
    fn the_annotation_is_read_from_a_manifest_body() {
        let body = br#"{"schemaVersion":2,"annotations":{"org.opencontainers.image.created":"2024-06-13T01:02:03Z"}}"#;
        assert_eq!(annotation(body), Some(1_718_240_523));
        assert_eq!(
            annotation(br#"{"annotations":{"org.opencontainers.image.created":7}}"#),
            None
        );
        assert_eq!(annotation(b"not json"), None);
    }
}
