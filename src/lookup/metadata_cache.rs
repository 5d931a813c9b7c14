//! The core metadata the compiled-lock check reads, kept in the on-disk cache, so that
//! `check --offline` gives the answer the online run gave.
//!
//! Metadata served as PEP 658 files is cached by the HTTP client like any small response, but
//! metadata read from a wheel is not (the wheel is too large to keep). So the fields the check
//! reads are stored here, in the core metadata format, keyed by the sha256 of every file of
//! the release: a release whose files change is a new key, and a release without hashes is
//! never stored. What is stored was read from a download checked against the index's hash.

use pep440_rs::Version;

use crate::registry::http::CacheMode;
use crate::registry::http::cache::{Meta, now_secs};
use crate::registry::pypi::metadata::{self, Metadata};

/// The cache key of a release's metadata: its name, version and every file's sha256, or
/// `None` when a file has no sha256 (nothing then says the cached text belongs to these files).
pub fn key(name: &str, version: &Version, sha256s: &[String]) -> Option<String> {
    if sha256s.is_empty() || sha256s.iter().any(String::is_empty) {
        return None;
    }
    let mut sorted = sha256s.to_vec();
    sorted.sort();
    Some(format!(
        "repin-metadata-v1:{name}=={version}:{}",
        sorted.join(",")
    ))
}

/// The metadata stored under `key`, when the cache has it.
pub fn get(cache: &CacheMode, key: &str) -> Option<Metadata> {
    let cache = match cache {
        CacheMode::Enabled(c) | CacheMode::Offline(c) => c,
        CacheMode::Disabled => return None,
    };
    let entry = cache.get(key)?;
    metadata::parse(std::str::from_utf8(&entry.body).ok()?).ok()
}

/// Store `metadata` under `key` (a cache that cannot be written only costs a download).
pub fn put(cache: &CacheMode, key: &str, metadata: &Metadata) {
    let CacheMode::Enabled(cache) = cache else {
        return;
    };
    let meta = Meta {
        status: 200,
        final_url: String::new(),
        headers: Vec::new(),
        stored_at: now_secs(),
    };
    let _ = cache.put(key, &meta, text(metadata).as_bytes());
}

/// The fields of `metadata` in the core metadata format, which [`metadata::parse`] reads back.
pub fn text(metadata: &Metadata) -> String {
    let mut text = format!(
        "Metadata-Version: {}\nName: {}\nVersion: {}\n",
        metadata.metadata_version, metadata.name, metadata.version
    );
    if let Some(requires) = &metadata.requires_python {
        text.push_str(&format!("Requires-Python: {requires}\n"));
    }
    for extra in &metadata.provides_extra {
        text.push_str(&format!("Provides-Extra: {extra}\n"));
    }
    for requirement in &metadata.requires_dist {
        text.push_str(&format!("Requires-Dist: {requirement}\n"));
    }
    for field in &metadata.dynamic {
        text.push_str(&format!("Dynamic: {field}\n"));
    }
    for (label, url) in &metadata.project_urls {
        text.push_str(&format!("Project-URL: {label}, {url}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::http::Cache;

    #[test]
    fn metadata_reads_back_as_stored_and_only_under_its_files_hashes() {
        let original = metadata::parse(
            "Metadata-Version: 2.1\nName: Flask\nVersion: 2.3.3\nRequires-Python: >=3.8\nRequires-Dist: Werkzeug>=2.3.7\nRequires-Dist: asgiref>=3.2; extra == \"async\"\nProvides-Extra: async\nProject-URL: Changes, https://flask.palletsprojects.com/changes/\n",
        )
        .unwrap();
        assert_eq!(metadata::parse(&text(&original)).unwrap(), original);

        let dir = tempfile::tempdir().unwrap();
        let enabled = CacheMode::Enabled(Cache::new(dir.path()));
        let offline = CacheMode::Offline(Cache::new(dir.path()));
        let version = original.version.clone();
        let k = key("flask", &version, &["bb".into(), "aa".into()]).unwrap();
        assert_eq!(
            key("flask", &version, &["aa".into(), "bb".into()]),
            Some(k.clone())
        );
        assert!(key("flask", &version, &[]).is_none());
        assert!(get(&offline, &k).is_none());
        put(&enabled, &k, &original);
        assert_eq!(get(&offline, &k), Some(original.clone()));
        // Offline runs never write; another set of files is another key.
        let other = key("flask", &version, &["cc".into()]).unwrap();
        put(&offline, &other, &original);
        assert!(get(&enabled, &other).is_none());
    }
}
