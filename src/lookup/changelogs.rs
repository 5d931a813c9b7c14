//! The changelog of each proposed Python release, for pull-request bodies: the core metadata's
//! `Project-URL`s (PEP 753's well-known labels), fetched once per release. A release whose
//! metadata cannot be had simply gets no link.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::str::FromStr;

use futures::StreamExt;
use pep440_rs::Version;

use super::lock_fit::Sources;
use super::{CONCURRENCY, Checker, Outcome};
use crate::manifest::Manifest;

impl Checker {
    /// Fill [`Outcome::changelogs`] for every proposed Python release.
    pub(super) async fn find_changelogs(
        &self,
        manifests: &[&Manifest],
        sources: &Sources<'_>,
        outcome: &mut Outcome,
    ) {
        let by_path: HashMap<&Path, usize> = manifests
            .iter()
            .enumerate()
            .map(|(i, m)| (m.source.path(), i))
            .collect();
        // (name, proposed as written) -> the version and a dependency that wants it.
        let mut wanted: BTreeMap<(String, String), (Version, (usize, usize))> = BTreeMap::new();
        for finding in &outcome.findings {
            let Some(&m) = by_path.get(finding.file.as_path()) else {
                continue;
            };
            let Some((_, lookup)) = sources.get(&(m, finding.index)) else {
                continue;
            };
            for update in &finding.decision.updates {
                if let Ok(version) = Version::from_str(&update.proposed) {
                    wanted
                        .entry((lookup.name.clone(), update.proposed.clone()))
                        .or_insert((version, (m, finding.index)));
                }
            }
        }
        let found: Vec<((String, String), Option<String>)> = futures::stream::iter(wanted)
            .map(|(key, (version, dependency))| async move {
                let url = match sources.get(&dependency) {
                    Some((indexes, lookup)) => self
                        .release_metadata(indexes, lookup, &version)
                        .await
                        .ok()
                        .and_then(|m| m.changelog_url().map(str::to_owned)),
                    None => None,
                };
                (key, url)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for (key, url) in found {
            if let Some(url) = url {
                outcome.changelogs.insert(key, url);
            }
        }
    }
}
