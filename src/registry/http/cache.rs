//! The on-disk HTTP cache: bodies with the validators needed to revalidate them.
//!
//! Entries live in `<dir>/http-v1/<sha256 of key>.{meta,body}`; the key is the method, the
//! URL without credentials, and the `Accept` header. Writes go through a temporary file and a
//! rename, so concurrent runs never see half an entry.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Response headers worth keeping (for revalidation, paging and registry digests).
pub const KEPT_HEADERS: &[&str] = &[
    "content-type",
    "etag",
    "last-modified",
    "cache-control",
    "link",
    "docker-content-digest",
    "location",
];

/// What is stored about a response besides its body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    /// The HTTP status (200, or 404 for a remembered absence).
    pub status: u16,
    /// The URL the response finally came from (after redirects), without credentials.
    pub final_url: String,
    /// Kept headers, lower-case names.
    pub headers: Vec<(String, String)>,
    /// When it was stored or last revalidated, in seconds since the epoch.
    pub stored_at: u64,
}

impl Meta {
    /// A kept header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether `Cache-Control: max-age` says the entry is still fresh (no request needed).
    pub fn is_fresh(&self, now: SystemTime) -> bool {
        let Some(max_age) = self.header("cache-control").and_then(max_age) else {
            return false;
        };
        let age = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
            .saturating_sub(self.stored_at);
        age < max_age
    }
}

impl Meta {
    /// Whether an entry whose response has no `Cache-Control` is younger than `default`
    /// (a response with one is fresh only as [`Meta::is_fresh`] says).
    pub fn is_fresh_by_default(&self, now: SystemTime, default: Duration) -> bool {
        if self.header("cache-control").is_some() {
            return false;
        }
        let now = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        now.saturating_sub(self.stored_at) < default.as_secs()
    }
}

fn max_age(cache_control: &str) -> Option<u64> {
    let mut max = None;
    for directive in cache_control.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-cache" || lower == "no-store" {
            return None;
        }
        if let Some(v) = lower.strip_prefix("max-age=") {
            max = v.trim_matches('"').parse().ok();
        }
    }
    max
}

/// A cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

/// A cached response.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Status, URL, headers, age.
    pub meta: Meta,
    /// The body.
    pub body: Vec<u8>,
}

impl Cache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Cache {
            dir: dir.into().join("http-v1"),
        }
    }

    /// The default cache directory: `$XDG_CACHE_HOME/repin` or the platform's equivalent.
    pub fn default_dir() -> Option<PathBuf> {
        dirs::cache_dir().map(|d| d.join("repin"))
    }

    /// The directory entries are stored in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn paths(&self, key: &str) -> (PathBuf, PathBuf) {
        let hash = hex::encode(Sha256::digest(key.as_bytes()));
        (
            self.dir.join(format!("{hash}.meta")),
            self.dir.join(format!("{hash}.body")),
        )
    }

    /// Read an entry; any damage (missing half, bad JSON) reads as absent.
    pub fn get(&self, key: &str) -> Option<Entry> {
        let (meta_path, body_path) = self.paths(key);
        let meta: Meta = serde_json::from_slice(&std::fs::read(meta_path).ok()?).ok()?;
        let body = std::fs::read(body_path).ok()?;
        Some(Entry { meta, body })
    }

    /// Store an entry. Failures are returned but callers may ignore them: a cache that cannot
    /// be written only makes the next run slower.
    pub fn put(&self, key: &str, meta: &Meta, body: &[u8]) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let (meta_path, body_path) = self.paths(key);
        // Body first: a reader that finds the new meta must find the new body.
        write_replace(&body_path, body)?;
        write_replace(
            &meta_path,
            &serde_json::to_vec(meta).map_err(std::io::Error::other)?,
        )
    }

    /// Mark an entry as revalidated now (after a `304 Not Modified`).
    pub fn touch(&self, key: &str, entry: &Entry) -> std::io::Result<()> {
        let mut meta = entry.meta.clone();
        meta.stored_at = now_secs();
        let (meta_path, _) = self.paths(key);
        write_replace(
            &meta_path,
            &serde_json::to_vec(&meta).map_err(std::io::Error::other)?,
        )
    }
}

/// Seconds since the epoch, now.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// A cache entry is replaced whole (repin's one atomic writer), without a sync: a lost entry
/// is only fetched again.
fn write_replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    crate::text::atomic::write(path, bytes, crate::text::atomic::Durability::Cache)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(cache_control: Option<&str>, stored_at: u64) -> Meta {
        Meta {
            status: 200,
            final_url: "https://x/".into(),
            headers: cache_control
                .map(|c| vec![("cache-control".to_string(), c.to_string())])
                .unwrap_or_default(),
            stored_at,
        }
    }

    #[test]
    fn stores_reads_and_survives_damage() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        assert!(cache.get("GET https://x/").is_none());
        cache
            .put("GET https://x/", &meta(None, 1), b"body")
            .unwrap();
        let entry = cache.get("GET https://x/").unwrap();
        assert_eq!(entry.body, b"body");
        assert_eq!(entry.meta.status, 200);
        let (meta_path, _) = cache.paths("GET https://x/");
        std::fs::write(meta_path, b"{not json").unwrap();
        assert!(cache.get("GET https://x/").is_none());
    }

    #[test]
    fn freshness_follows_max_age() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        assert!(meta(Some("max-age=600, public"), 900).is_fresh(now));
        assert!(!meta(Some("max-age=600"), 100).is_fresh(now));
        assert!(!meta(Some("no-cache, max-age=600"), 900).is_fresh(now));
        assert!(!meta(None, 999).is_fresh(now));
    }

    #[test]
    fn a_default_freshness_applies_only_without_cache_control() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let ten_minutes = Duration::from_secs(600);
        assert!(meta(None, 500).is_fresh_by_default(now, ten_minutes));
        assert!(!meta(None, 300).is_fresh_by_default(now, ten_minutes));
        assert!(!meta(Some("max-age=0"), 999).is_fresh_by_default(now, ten_minutes));
        assert!(!meta(Some("no-cache"), 999).is_fresh_by_default(now, ten_minutes));
    }
}
