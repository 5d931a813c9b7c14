//! Core metadata kept on disk, keyed by the sha256 of the distribution file it was read from.
//!
//! A file's hash names its content, so its metadata never changes: an entry is used without
//! asking the index again, online or `--offline`. It lives beside the HTTP cache
//! (`<cache dir>/metadata-v1/<first two hex digits>/<sha256>`), is written through a temporary
//! file and a rename. The bytes are kept as read, whether they make usable metadata or not (an
//! sdist's `PKG-INFO` with dynamic dependencies is as much the file's answer), and parsed on
//! each use, so a later repin reads them with its own parser.

use std::path::PathBuf;

use crate::registry::http::{CacheMode, HttpClient};

/// The metadata store of a client's cache directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The store beside `http`'s on-disk cache, when it has one.
    pub fn of(http: &HttpClient) -> Option<Store> {
        match &http.config().cache {
            CacheMode::Disabled => None,
            CacheMode::Enabled(cache) | CacheMode::Offline(cache) => {
                // The HTTP cache's own directory is `<cache dir>/http-v1`.
                let root = cache.dir().parent()?.to_path_buf();
                Some(Store {
                    dir: root.join("metadata-v1"),
                })
            }
        }
    }

    /// A store in `dir` (tests).
    pub fn in_dir(dir: impl Into<PathBuf>) -> Store {
        Store { dir: dir.into() }
    }

    /// The path of `sha256`'s entry, when it is a sha256 (64 hex digits: an index's text is
    /// never a path).
    fn path(&self, sha256: &str) -> Option<PathBuf> {
        let sha256 = sha256.to_ascii_lowercase();
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(self.dir.join(&sha256[..2]).join(sha256))
    }

    /// The stored metadata bytes of the file whose sha256 is `sha256`.
    pub fn get(&self, sha256: &str) -> Option<Vec<u8>> {
        std::fs::read(self.path(sha256)?).ok()
    }

    /// Keep `metadata` for the file whose sha256 is `sha256`. A store that cannot be written
    /// only makes the next run slower, so failures are ignored.
    pub fn put(&self, sha256: &str, metadata: &[u8]) {
        let Some(path) = self.path(sha256) else {
            return;
        };
        let Some(dir) = path.parent() else { return };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        // A failed write only costs a download next time: ignored.
        let _ = crate::text::atomic::write(&path, metadata, crate::text::atomic::Durability::Cache);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_keyed_by_a_real_sha256_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::in_dir(dir.path());
        let sha = "AB".repeat(32);
        assert_eq!(store.get(&sha), None);
        store.put(&sha, b"Metadata-Version: 2.1\n");
        assert_eq!(
            store.get(&sha.to_lowercase()).as_deref(),
            Some(&b"Metadata-Version: 2.1\n"[..])
        );
        assert!(dir.path().join("ab").join("ab".repeat(32)).is_file());
        for hostile in ["../../etc/passwd", "", "zz", &"a".repeat(65)] {
            store.put(hostile, b"x");
            assert_eq!(store.get(hostile), None, "{hostile}");
        }
    }
}
