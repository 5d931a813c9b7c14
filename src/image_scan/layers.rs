//! The files repin reads from an image, as its layers stack them: what one layer holds
//! ([`LayerFindings`]), the union seen from the top ([`Merged`]), and when reading can stop.
//!
//! Layers are read from the top down. The topmost layer that has a path wins; a whiteout
//! (`.wh.NAME`) hides `NAME` in the layers below it, an opaque marker (`.wh..wh..opq`) hides
//! everything below its directory in the layers below it (a layer's own files next to its
//! markers stay visible). Reading stops as soon as the package database and the distribution
//! are known: inside a layer once what is wanted has been seen (the layers below are then never
//! consulted, so the rest of this layer cannot matter), and at the first layer that completes
//! them. The distribution comes from `os-release`; when the database is found before it, the
//! release package the database lists (Debian's `base-files`, Alpine's `alpine-release`) tells
//! it without reading down to the base layer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::packages::{self, Installed, OsRelease, PackageManager};
use super::tar::{Entry, EntryKind, TarError, Visitor};

/// `/etc/os-release`.
pub const OS_RELEASE: &str = "etc/os-release";
/// `/usr/lib/os-release`, which `/etc/os-release` links to on most distributions.
pub const OS_RELEASE_LIB: &str = "usr/lib/os-release";
/// dpkg's database.
pub const DPKG_STATUS: &str = "var/lib/dpkg/status";
/// distroless' one-file-per-package database.
pub const DPKG_STATUS_D: &str = "var/lib/dpkg/status.d/";
/// apk's database.
pub const APK_INSTALLED: &str = "lib/apk/db/installed";

const WANTED: [&str; 4] = [OS_RELEASE, OS_RELEASE_LIB, DPKG_STATUS, APK_INSTALLED];

/// The largest file kept from a layer (a Debian status file with 3,000 packages is 3 MB).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The most `status.d/` files kept from one layer.
const MAX_STATUS_D: usize = 20_000;

/// What one layer holds of a wanted path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Found {
    /// A regular file, its content (lossy UTF-8: these files are text).
    File(String),
    /// A symbolic or hard link to this path (normalised, relative to the root).
    Link(String),
}

/// What repin read of one layer: the wanted paths it has and what its whiteouts hide below.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerFindings {
    /// Wanted paths (and `status.d/` files) the layer has.
    pub files: BTreeMap<String, Found>,
    /// Paths its whiteouts remove from the layers below (`a/b`), and directories its opaque
    /// markers empty (`a/b/`, with the slash).
    pub hidden: Vec<String>,
    /// Whether the whole layer was read (else only a prefix, enough for the image it was read
    /// for).
    pub complete: bool,
}

fn is_wanted(path: &str) -> bool {
    WANTED.contains(&path)
        || path.strip_prefix(DPKG_STATUS_D).is_some_and(|name| {
            !name.is_empty() && !name.contains('/') && !name.ends_with(".md5sums")
        })
}

/// Whether hiding `hidden` can matter to a wanted path (it is one, or above or below one).
fn concerns_wanted(hidden: &str) -> bool {
    let dir = hidden.trim_end_matches('/');
    WANTED
        .iter()
        .chain(std::iter::once(&DPKG_STATUS_D.trim_end_matches('/')))
        .any(|w| w.starts_with(dir) || dir.starts_with(w))
}

/// A link target, resolved against the link's directory, normalised; `None` when it climbs
/// out of the root.
fn resolve_link(link_path: &str, target: &str) -> Option<String> {
    if target.starts_with('/') {
        return super::tar::normalise(target);
    }
    let dir = link_path.rsplit_once('/').map_or("", |(d, _)| d);
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            // At the root, `..` stays at the root (as the kernel resolves it).
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// Collects a layer's findings from its tar stream.
#[derive(Debug)]
pub struct LayerVisitor {
    /// What was found so far.
    pub findings: LayerFindings,
    status_d: usize,
}

impl LayerVisitor {
    /// A visitor for a new layer.
    pub fn new() -> Self {
        LayerVisitor {
            findings: LayerFindings::default(),
            status_d: 0,
        }
    }
}

impl Default for LayerVisitor {
    fn default() -> Self {
        Self::new()
    }
}

impl Visitor for LayerVisitor {
    fn entry(&mut self, entry: &Entry) -> Result<Option<u64>, TarError> {
        let (dir, name) = entry.path.rsplit_once('/').unwrap_or(("", &entry.path));
        if let Some(removed) = name.strip_prefix(".wh.") {
            let hidden = if removed == ".wh..opq" {
                format!("{dir}/")
            } else if dir.is_empty() {
                removed.to_owned()
            } else {
                format!("{dir}/{removed}")
            };
            if concerns_wanted(&hidden) {
                self.findings.hidden.push(hidden);
            }
            return Ok(None);
        }
        if !is_wanted(&entry.path) {
            return Ok(None);
        }
        if entry.path.starts_with(DPKG_STATUS_D) {
            self.status_d += 1;
            if self.status_d > MAX_STATUS_D {
                return Ok(None);
            }
        }
        match &entry.kind {
            EntryKind::File => Ok(Some(MAX_FILE_BYTES)),
            EntryKind::Symlink(target) => {
                if let Some(to) = resolve_link(&entry.path, target) {
                    self.findings
                        .files
                        .insert(entry.path.clone(), Found::Link(to));
                }
                Ok(None)
            }
            EntryKind::HardLink(target) => {
                if let Some(to) = super::tar::normalise(target) {
                    self.findings
                        .files
                        .insert(entry.path.clone(), Found::Link(to));
                }
                Ok(None)
            }
            EntryKind::Directory | EntryKind::Other => Ok(None),
        }
    }

    fn content(&mut self, entry: &Entry, content: Vec<u8>) {
        let text = String::from_utf8(content)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        self.findings
            .files
            .insert(entry.path.clone(), Found::File(text));
    }
}

/// The image's files as seen from the top, over the layers absorbed so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Merged {
    files: BTreeMap<String, Found>,
    hidden: Vec<String>,
}

/// What the layers read so far tell about the packages and the distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contents {
    /// The package manager whose database was found, if any.
    pub manager: Option<PackageManager>,
    /// Installed packages, sorted.
    pub packages: Vec<Installed>,
    /// `os-release`, when found.
    pub os_release: Option<OsRelease>,
}

impl Merged {
    /// Whether `path` is removed by a whiteout of a layer above.
    fn is_hidden(&self, path: &str) -> bool {
        self.hidden.iter().any(|h| {
            if h.ends_with('/') {
                path.starts_with(h.as_str())
            } else {
                path == h
                    || path
                        .strip_prefix(h.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            }
        })
    }

    /// Add the next layer down.
    pub fn absorb(&mut self, layer: &LayerFindings) {
        for (path, found) in &layer.files {
            if !self.is_hidden(path) && !self.files.contains_key(path) {
                self.files.insert(path.clone(), found.clone());
            }
        }
        // After the files: a layer's whiteouts hide the layers below, never its own files.
        self.hidden.extend(layer.hidden.iter().cloned());
    }

    /// The content of the file at `path`, following links (a few hops); `Err(())` when a layer
    /// below could still provide it.
    fn file(&self, path: &str) -> Result<Option<&str>, ()> {
        let mut path = path.to_owned();
        for _ in 0..8 {
            match self.files.get(&path) {
                Some(Found::File(text)) => return Ok(Some(text)),
                Some(Found::Link(to)) => path = to.clone(),
                None if self.is_hidden(&path) => return Ok(None),
                None => return Err(()),
            }
        }
        Ok(None)
    }

    /// What is known so far; with `last` (no layer below), what is not found is absent.
    fn contents(&self, last: bool) -> Result<Contents, ()> {
        let settle = |r| settle(r, last);
        let mut packages = Vec::new();
        let mut manager = None;
        // dpkg's status file, plus distroless' status.d files: without a status file, those
        // are only all known at the bottom layer.
        let status = settle(self.file(DPKG_STATUS));
        let status_d: Vec<&str> = self
            .files
            .keys()
            .filter(|p| p.starts_with(DPKG_STATUS_D))
            .filter_map(|p| self.file(p).ok().flatten())
            .collect();
        if let Ok(Some(text)) = status {
            packages::parse_dpkg(text, &mut packages);
            manager = Some(PackageManager::Dpkg);
        } else if !status_d.is_empty() && !last {
            return Err(());
        }
        if !status_d.is_empty() {
            for text in status_d {
                packages::parse_dpkg(text, &mut packages);
            }
            manager = Some(PackageManager::Dpkg);
        }
        if manager.is_none() {
            match settle(self.file(APK_INSTALLED)) {
                Ok(Some(text)) => {
                    packages::parse_apk(text, &mut packages);
                    manager = Some(PackageManager::Apk);
                }
                // Neither database is known yet: a layer below may have one.
                Err(()) => return Err(()),
                Ok(None) if status.is_err() => return Err(()),
                Ok(None) => {}
            }
        }
        let os_release = match settle(self.file(OS_RELEASE)) {
            Ok(Some(text)) => Ok(Some(packages::parse_os_release(text))),
            Ok(None) => {
                settle(self.file(OS_RELEASE_LIB)).map(|t| t.map(packages::parse_os_release))
            }
            Err(()) => Err(()),
        };
        let os_release = match os_release {
            Ok(release) => release,
            Err(()) if release_from_packages(manager, &packages).is_some() => None,
            Err(()) => return Err(()),
        };
        packages.sort();
        packages.dedup();
        Ok(Contents {
            manager,
            packages,
            os_release,
        })
    }

    /// Whether the layers absorbed so far settle the packages and the distribution, so no
    /// layer below (and nothing further in the current one) needs reading.
    pub fn is_settled(&self) -> bool {
        self.contents(false).is_ok()
    }

    /// What the image holds, once every layer needed has been absorbed (`last`: this was the
    /// bottom layer).
    pub fn finish(&self, last: bool) -> Contents {
        self.contents(last).unwrap_or(Contents {
            manager: None,
            packages: Vec::new(),
            os_release: None,
        })
    }
}

/// With `last` (no layer below), a path no layer settled is absent.
fn settle(found: Result<Option<&str>, ()>, last: bool) -> Result<Option<&str>, ()> {
    match found {
        Err(()) if last => Ok(None),
        other => other,
    }
}

/// The distribution a package database's release package tells (`os-release`'s `ID` and
/// `VERSION_ID`): Debian's `base-files 12.4+deb12u5` is Debian 12, Alpine's
/// `alpine-release 3.20.3-r0` is Alpine 3.20.3. Ubuntu's `base-files` (`12ubuntu4`) does not
/// tell its release, so Ubuntu needs `os-release`.
pub fn release_from_packages(
    manager: Option<PackageManager>,
    packages: &[Installed],
) -> Option<OsRelease> {
    let find = |name: &str| packages.iter().find(|p| p.name == name);
    match manager? {
        PackageManager::Dpkg => {
            let version = &find("base-files")?.version;
            if version.contains("ubuntu") {
                return None;
            }
            let major: String = version.chars().take_while(char::is_ascii_digit).collect();
            (!major.is_empty()).then(|| OsRelease {
                id: "debian".into(),
                version_id: Some(major),
                codename: None,
                pretty_name: None,
            })
        }
        PackageManager::Apk => {
            let version = &find("alpine-release")?.version;
            let release = version.split('-').next().unwrap_or(version);
            Some(OsRelease {
                id: "alpine".into(),
                version_id: Some(release.to_owned()),
                codename: None,
                pretty_name: None,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(files: &[(&str, Found)], hidden: &[&str]) -> LayerFindings {
        LayerFindings {
            files: files
                .iter()
                .map(|(p, f)| ((*p).to_owned(), f.clone()))
                .collect(),
            hidden: hidden.iter().map(|h| (*h).to_owned()).collect(),
            complete: true,
        }
    }

    fn file(text: &str) -> Found {
        Found::File(text.to_owned())
    }

    const STATUS: &str = "Package: base-files\nStatus: install ok installed\nVersion: 12.4+deb12u5\n\nPackage: libssl3\nStatus: install ok installed\nSource: openssl\nVersion: 3.0.11-1~deb12u2\n";

    #[test]
    fn top_layer_wins_and_whiteouts_hide_below() {
        let mut merged = Merged::default();
        // Top: a new status file; the layer below's os-release is removed by a whiteout.
        merged.absorb(&layer(&[(DPKG_STATUS, file(STATUS))], &["etc/os-release"]));
        // Settled already: base-files says Debian 12, os-release is whited out above.
        assert!(merged.is_settled());
        merged.absorb(&layer(
            &[
                (DPKG_STATUS, file("Package: old\nVersion: 1\n")),
                (OS_RELEASE, file("ID=ubuntu\n")),
                (OS_RELEASE_LIB, file("ID=debian\nVERSION_ID=\"12\"\n")),
            ],
            &[],
        ));
        let contents = merged.finish(true);
        assert_eq!(contents.manager, Some(PackageManager::Dpkg));
        assert_eq!(contents.packages.len(), 2);
        assert!(contents.packages.iter().all(|p| p.name != "old"));
        // /etc/os-release is gone, so /usr/lib/os-release speaks.
        assert_eq!(contents.os_release.unwrap().id, "debian");
    }

    #[test]
    fn opaque_directories_and_links() {
        let mut merged = Merged::default();
        merged.absorb(&layer(
            &[(OS_RELEASE, Found::Link(OS_RELEASE_LIB.into()))],
            &["var/lib/dpkg/"],
        ));
        // os-release links below: not settled, the database neither.
        assert!(!merged.is_settled());
        merged.absorb(&layer(
            &[
                (DPKG_STATUS, file(STATUS)),
                (OS_RELEASE_LIB, file("ID=debian\nVERSION_ID=12\n")),
            ],
            &[],
        ));
        // The status file is in a directory an upper layer made opaque: hidden.
        let contents = merged.finish(true);
        assert_eq!(contents.manager, None);
        assert_eq!(
            contents.os_release.unwrap().version_id.as_deref(),
            Some("12")
        );
    }

    #[test]
    fn distroless_status_d_needs_every_layer() {
        let mut merged = Merged::default();
        merged.absorb(&layer(
            &[(
                "var/lib/dpkg/status.d/libssl3",
                file("Package: libssl3\nVersion: 3.0.11-1~deb12u2\nSource: openssl\n"),
            )],
            &[],
        ));
        assert!(!merged.is_settled());
        merged.absorb(&layer(
            &[
                (
                    "var/lib/dpkg/status.d/base",
                    file("Package: base-files\nVersion: 12.4+deb12u5\n"),
                ),
                (
                    OS_RELEASE,
                    file("ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Distroless\"\n"),
                ),
            ],
            &[],
        ));
        let contents = merged.finish(true);
        let names: Vec<&str> = contents.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["base-files", "libssl3"]);
    }

    #[test]
    fn alpine_release_from_the_database() {
        let mut merged = Merged::default();
        merged.absorb(&layer(
            &[(
                APK_INSTALLED,
                file("P:alpine-release\nV:3.20.3-r0\no:alpine-base\n\nP:libcrypto3\nV:3.3.2-r0\no:openssl\n"),
            )],
            &[],
        ));
        assert!(merged.is_settled());
        let contents = merged.finish(false);
        assert_eq!(contents.manager, Some(PackageManager::Apk));
        let release = release_from_packages(contents.manager, &contents.packages).unwrap();
        assert_eq!(release.version_id.as_deref(), Some("3.20.3"));
    }

    #[test]
    fn visitor_records_whiteouts_links_and_wanted_files_only() {
        let mut v = LayerVisitor::new();
        let entry = |path: &str, kind: EntryKind| Entry {
            path: path.into(),
            kind,
            size: 1,
        };
        assert_eq!(
            v.entry(&entry("usr/bin/python3", EntryKind::File)),
            Ok(None)
        );
        assert_eq!(
            v.entry(&entry(DPKG_STATUS, EntryKind::File)),
            Ok(Some(MAX_FILE_BYTES))
        );
        assert_eq!(
            v.entry(&entry("var/lib/dpkg/status.d/x.md5sums", EntryKind::File)),
            Ok(None)
        );
        v.entry(&entry(
            OS_RELEASE,
            EntryKind::Symlink("../usr/lib/os-release".into()),
        ))
        .unwrap();
        v.entry(&entry("var/lib/dpkg/.wh.status", EntryKind::File))
            .unwrap();
        v.entry(&entry("lib/apk/db/.wh..wh..opq", EntryKind::File))
            .unwrap();
        v.entry(&entry("usr/share/doc/.wh.x", EntryKind::File))
            .unwrap();
        assert_eq!(
            v.findings.files.get(OS_RELEASE),
            Some(&Found::Link(OS_RELEASE_LIB.into()))
        );
        assert_eq!(v.findings.hidden, ["var/lib/dpkg/status", "lib/apk/db/"]);
        assert_eq!(
            resolve_link("etc/os-release", "../../../usr/lib/os-release"),
            Some(OS_RELEASE_LIB.into())
        );
    }
}
