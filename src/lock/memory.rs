//! An in-memory [`PackageSource`]: releases and metadata given up front. Test support (the
//! resolver's and re-lock's table tests), built only for tests and the `testing` feature.

use std::collections::BTreeMap;
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::PackageName;

use super::source::{Candidate, PackageSource, SourceError, UnusableRelease};
use crate::registry::pypi::metadata::{self, Metadata, MetadataError};
use crate::registry::pypi::{DistFile, DistKind, IndexUrl, Release, SourcedRelease, filename};

/// An in-memory source: releases and metadata given up front (tests, and anything that has
/// already fetched them).
#[derive(Debug, Clone, Default)]
pub struct MemorySource {
    packages: BTreeMap<PackageName, Vec<MemoryRelease>>,
}

/// A release of a [`MemorySource`] and its metadata, or why it has none.
type MemoryRelease = (Candidate, Result<Metadata, UnusableRelease>);

impl MemorySource {
    /// An empty source.
    pub fn new() -> Self {
        MemorySource::default()
    }

    /// Add `name==version` depending on `requires_dist` (PEP 508 lines, with markers and
    /// `extra == "..."`), with the extras the requirements name, its hash `sha256:<name>-<version>`.
    ///
    /// # Panics
    ///
    /// On an invalid name, version or requirement: this builds fixtures.
    pub fn add(&mut self, name: &str, version: &str, requires_dist: &[&str]) -> &mut Candidate {
        let mut text = format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n");
        for line in requires_dist {
            if let Some((_, extra)) = line.split_once("extra == \"") {
                let extra = extra.split('"').next().unwrap_or_default();
                let provides = format!("Provides-Extra: {extra}\n");
                if !text.contains(&provides) {
                    text.push_str(&provides);
                }
            }
            text.push_str(&format!("Requires-Dist: {line}\n"));
        }
        self.add_metadata(&text)
    }

    /// Add the release that core metadata `text` describes.
    ///
    /// # Panics
    ///
    /// On invalid metadata: this builds fixtures.
    pub fn add_metadata(&mut self, text: &str) -> &mut Candidate {
        let parsed = metadata::parse(text).expect("valid fixture metadata");
        let (name, version) = (parsed.name.clone(), parsed.version.to_string());
        self.insert(&name, &version, Ok(parsed))
    }

    /// Add a release whose metadata cannot be had, for the reason `error` gives.
    pub fn add_unusable(
        &mut self,
        name: &str,
        version: &str,
        error: MetadataError,
    ) -> &mut Candidate {
        self.insert(name, version, Err(UnusableRelease::of(error)))
    }

    fn insert(
        &mut self,
        name: &str,
        version: &str,
        metadata: Result<Metadata, UnusableRelease>,
    ) -> &mut Candidate {
        let name = PackageName::from_str(name).expect("a valid fixture name");
        let version = Version::from_str(version).expect("a valid fixture version");
        let candidate = Candidate {
            hashes: vec![format!("sha256:{name}-{version}")],
            version,
            yanked: false,
            requires_python: None,
        };
        let releases = self.packages.entry(name).or_default();
        releases.push((candidate, metadata));
        &mut releases.last_mut().expect("just pushed").0
    }
}

impl PackageSource for MemorySource {
    fn candidates(&self, name: &PackageName) -> Result<Vec<Candidate>, SourceError> {
        Ok(self
            .packages
            .get(name)
            .map(|releases| releases.iter().map(|(c, _)| c.clone()).collect())
            .unwrap_or_default())
    }

    fn metadata(&self, name: &PackageName, version: &Version) -> Result<Metadata, SourceError> {
        let found = self
            .packages
            .get(name)
            .and_then(|releases| releases.iter().find(|(c, _)| &c.version == version));
        match found {
            Some((_, Ok(metadata))) => Ok(metadata.clone()),
            Some((_, Err(unusable))) => Err(SourceError::Unusable(unusable.clone())),
            None => Err(SourceError::Failed(super::Failure::new(
                crate::error::Reason(format!("{name} {version} is not in the source")),
            ))),
        }
    }

    /// Each release as one universal wheel per hash, at `https://memory.invalid/`.
    fn listed(
        &self,
        pins: &[(PackageName, Version)],
    ) -> Vec<Result<Option<SourcedRelease>, super::Failure>> {
        pins.iter()
            .map(|(name, version)| {
                let found = self
                    .packages
                    .get(name)
                    .and_then(|releases| releases.iter().find(|(c, _)| &c.version == version));
                Ok(found.map(|(candidate, _)| SourcedRelease {
                    index: IndexUrl::new(
                        url::Url::parse("https://memory.invalid/simple/").expect("a valid URL"),
                    ),
                    release: Release {
                        version: version.clone(),
                        files: candidate
                            .hashes
                            .iter()
                            .enumerate()
                            .map(|(i, hash)| {
                                let filename = format!("{name}-{version}-{i}-py3-none-any.whl");
                                let url = url::Url::parse(&format!(
                                    "https://memory.invalid/files/{filename}"
                                ))
                                .expect("a valid URL");
                                let mut file = DistFile::new(filename.clone(), url);
                                let hex = hash.strip_prefix("sha256:").unwrap_or(hash);
                                file.hashes = [("sha256", hex)].into_iter().collect();
                                file.kind = filename::parse(&filename, name.as_ref())
                                    .map(|f| f.kind)
                                    .unwrap_or(DistKind::Other);
                                file
                            })
                            .collect(),
                        yanked: candidate.yanked,
                        yanked_reason: None,
                        requires_python: None,
                        upload_time: None,
                    },
                }))
            })
            .collect()
    }
}
