//! Image lookups: one tag list per repository, then the digests the plans need, then the
//! manifests that tell whether a rebuilt tag changed a platform in use, and for a rebuilt
//! rolling tag (`3.12-slim`) the digests of its codename-qualified siblings
//! (`3.12-slim-bookworm`, `3.12-slim-trixie`), which tell whether it moved to another
//! distribution. Each is asked once, whatever the number of dependencies that need it. Every
//! digest a decision may write is verified first (its manifest fetched and hashed, once per
//! digest); an image whose registry's digests do not hold up gets no update, only the error.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures::StreamExt;

use super::{CONCURRENCY, Checker, Failure, Finding, Outcome, failure_message};
use crate::decide::image::{self, Calendar, DigestFacts, Plan};
use crate::manifest::{Dependency, DependencyDetail, Manifest};
use crate::registry::oci::{OciClient, OciError, Platform, platforms_changed};
use crate::versioning::support;
use crate::vocab::Message;

/// The registry client and the platforms the images run on.
#[derive(Debug, Clone)]
pub struct ImageLookups {
    /// The client.
    pub oci: OciClient,
    /// Platforms in use by default (an image's `--platform` wins).
    pub platforms: Vec<Platform>,
}

type Repo = (String, String);

/// `(registry, repository, tag or digest)`.
type Key = (String, String, String);

impl ImageLookups {
    /// The digest of each `(registry, repository, tag)`: by `GET` (fetched and verified at
    /// once) when the flag says the digest will be written, else by `HEAD` (on Docker Hub a
    /// `HEAD` does not count against the pull limit).
    async fn digests(&self, wanted: BTreeMap<Key, bool>) -> HashMap<Key, Result<String, OciError>> {
        futures::stream::iter(wanted)
            .map(|(key, written)| async move {
                let result = if written {
                    self.oci.fetched_digest(&key.0, &key.1, &key.2).await
                } else {
                    self.oci.digest(&key.0, &key.1, &key.2).await
                };
                let result = result.map(|i| i.digest);
                (key, result)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await
    }

    pub(super) fn platforms_for(&self, dependency: &Dependency) -> Vec<Platform> {
        let explicit = dependency
            .image()
            .and_then(|i| i.platform.as_deref())
            .filter(|p| !p.contains('$'))
            .and_then(Platform::parse);
        match explicit {
            Some(p) => vec![p],
            None => self.platforms.clone(),
        }
    }

    /// Look up and decide every image dependency of `manifests`.
    pub(super) async fn check(
        &self,
        checker: &Checker,
        manifests: &[&Manifest],
        outcome: &mut Outcome,
    ) {
        let calendar = Calendar {
            today: support::today(checker.now),
            data: &checker.config.release_data,
        };
        let mut users: BTreeMap<Repo, Vec<(usize, usize)>> = BTreeMap::new();
        for (m, manifest) in manifests.iter().enumerate() {
            for (d, dependency) in manifest.dependencies.iter().enumerate() {
                let DependencyDetail::Image(image) = &dependency.detail else {
                    continue;
                };
                let path = manifest.source.path();
                if dependency.skip_reason.is_some() {
                    let policy = checker.policy_fn(dependency, path);
                    let plan = image::plan(dependency, &[], &policy, &calendar);
                    outcome.findings.push(Finding {
                        file: path.to_path_buf(),
                        index: d,
                        decision: image::finish(
                            dependency,
                            &plan,
                            &DigestFacts::default(),
                            &policy,
                        ),
                    });
                    continue;
                }
                let key = (
                    image.reference.registry.clone(),
                    image.reference.repository.clone(),
                );
                users.entry(key).or_default().push((m, d));
            }
        }
        // 1. Tag lists, once per repository.
        let tags: HashMap<Repo, Result<Vec<String>, OciError>> =
            futures::stream::iter(users.keys().cloned())
                .map(|repo| async move {
                    let result = self.oci.tags(&repo.0, &repo.1).await;
                    (repo, result)
                })
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
        // 2. Plans, and the digests they need.
        let mut plans: Vec<(usize, usize, Plan)> = Vec::new();
        // A target tag's digest is written (and so verified); the current tag's only when it is
        // to be added (a pinned one is looked up to see whether it moved, and a tag a routine
        // move replaces is looked up for its notes).
        let mut wanted_digests: BTreeMap<Key, bool> = BTreeMap::new();
        for (repo, list) in &users {
            for &(m, d) in list {
                let manifest = manifests[m];
                let dependency = &manifest.dependencies[d];
                let path = manifest.source.path();
                match &tags[repo] {
                    Err(error) => outcome.failures.push(Failure {
                        file: path.to_path_buf(),
                        index: d,
                        message: failure_message(error),
                    }),
                    Ok(list) => {
                        let policy = checker.policy_fn(dependency, path);
                        let plan = image::plan(dependency, list, &policy, &calendar);
                        let pinned = dependency
                            .image()
                            .is_some_and(|i| i.reference.digest.is_some());
                        for tag in plan.tags_to_resolve() {
                            let written =
                                tag != plan.current_tag || (!pinned && plan.refreshes_current());
                            *wanted_digests
                                .entry((repo.0.clone(), repo.1.clone(), tag))
                                .or_default() |= written;
                        }
                        plans.push((m, d, plan));
                    }
                }
            }
        }
        let mut digests = self.digests(wanted_digests).await;
        // 3. For a pinned tag that moved, whether a platform in use changed.
        let mut wanted_manifests: BTreeSet<(String, String, String)> = BTreeSet::new();
        for (m, d, plan) in &plans {
            let dependency = &manifests[*m].dependencies[*d];
            let Some(image) = dependency.image() else {
                continue;
            };
            let (Some(pinned), true) = (&image.reference.digest, plan.refreshes_current()) else {
                continue;
            };
            let key = (
                image.reference.registry.clone(),
                image.reference.repository.clone(),
                plan.current_tag.clone(),
            );
            if let Some(Ok(now)) = digests.get(&key) {
                if now != pinned {
                    wanted_manifests.insert((key.0.clone(), key.1.clone(), pinned.clone()));
                    wanted_manifests.insert((key.0, key.1, now.clone()));
                }
            }
        }
        let fetched: HashMap<
            (String, String, String),
            Result<crate::registry::oci::Manifest, OciError>,
        > = futures::stream::iter(wanted_manifests)
            .map(|key| async move {
                let result = self.oci.manifest(&key.0, &key.1, &key.2).await;
                (key, result)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let changed = |plan: &Plan, dependency: &Dependency| -> Option<bool> {
            let image = dependency.image()?;
            let (registry, repository) = (&image.reference.registry, &image.reference.repository);
            let pinned = image.reference.digest.as_ref()?;
            let key = (
                registry.clone(),
                repository.clone(),
                plan.current_tag.clone(),
            );
            let Some(Ok(now)) = digests.get(&key) else {
                return None;
            };
            let old = fetched.get(&(registry.clone(), repository.clone(), pinned.clone()));
            let new = fetched.get(&(registry.clone(), repository.clone(), now.clone()));
            match (old, new) {
                (Some(Ok(old)), Some(Ok(new))) => {
                    Some(platforms_changed(old, new, &self.platforms_for(dependency)))
                }
                // The old manifest may be gone from the registry: treat the move as a change.
                _ => None,
            }
        };
        // 4. For a digest refresh of a tag whose distribution floats, its siblings' digests.
        let mut wanted_siblings: BTreeSet<(String, String, String)> = BTreeSet::new();
        for (m, d, plan) in &plans {
            let dependency = &manifests[*m].dependencies[*d];
            let Some(image) = dependency.image() else {
                continue;
            };
            let key = (
                image.reference.registry.clone(),
                image.reference.repository.clone(),
                plan.current_tag.clone(),
            );
            let refreshed = plan.refreshes_current()
                && !plan.siblings.is_empty()
                && matches!(
                    (&image.reference.digest, digests.get(&key)),
                    (Some(pinned), Some(Ok(now))) if pinned != now
                )
                && changed(plan, dependency) != Some(false);
            if refreshed {
                for sibling in &plan.siblings {
                    let sibling_key = (key.0.clone(), key.1.clone(), sibling.clone());
                    if !digests.contains_key(&sibling_key) {
                        wanted_siblings.insert(sibling_key);
                    }
                }
            }
        }
        let changes: Vec<Option<bool>> = plans
            .iter()
            .map(|(m, d, plan)| changed(plan, &manifests[*m].dependencies[*d]))
            .collect();
        digests.extend(
            self.digests(wanted_siblings.into_iter().map(|k| (k, false)).collect())
                .await,
        );
        // 5. Every digest a decision may write (one that is not the dependency's pin already)
        //    is verified: its manifest fetched and hashed, once per digest. A `HEAD`'s header
        //    only told that the tag moved.
        let mut to_verify: BTreeSet<(String, String, String, String)> = BTreeSet::new();
        for (m, d, plan) in &plans {
            let Some(image) = manifests[*m].dependencies[*d].image() else {
                continue;
            };
            let (registry, repository) = (&image.reference.registry, &image.reference.repository);
            for tag in plan.tags_to_resolve() {
                let key = (registry.clone(), repository.clone(), tag.clone());
                if let Some(Ok(digest)) = digests.get(&key) {
                    if image.reference.digest.as_ref() != Some(digest) {
                        to_verify.insert((key.0, key.1, key.2, digest.clone()));
                    }
                }
            }
        }
        let verified: HashMap<(String, String, String, String), Result<(), OciError>> =
            futures::stream::iter(to_verify)
                .map(|key| async move {
                    let result = self
                        .oci
                        .verify(&key.0, &key.1, &key.2, &key.3)
                        .await
                        .map(|_| ());
                    (key, result)
                })
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
        // 6. Decisions.
        for ((m, d, plan), change) in plans.into_iter().zip(changes) {
            let manifest = manifests[m];
            let dependency = &manifest.dependencies[d];
            let Some(image) = dependency.image() else {
                continue;
            };
            let (registry, repository) = (&image.reference.registry, &image.reference.repository);
            let platforms = self.platforms_for(dependency);
            let mut facts = DigestFacts {
                platforms: platforms.iter().map(ToString::to_string).collect(),
                ..DigestFacts::default()
            };
            let mut lookup_errors = Vec::new();
            let mut unverified = Vec::new();
            for tag in plan.tags_to_resolve() {
                match digests.get(&(registry.clone(), repository.clone(), tag.clone())) {
                    Some(Ok(digest)) => {
                        let key = (
                            registry.clone(),
                            repository.clone(),
                            tag.clone(),
                            digest.clone(),
                        );
                        if let Some(Err(error)) = verified.get(&key) {
                            unverified.push(failure_message(error));
                            continue;
                        }
                        facts.digests.insert(tag, digest.clone());
                    }
                    Some(Err(error)) => lookup_errors.push(failure_message(error)),
                    None => {}
                }
            }
            // A registry whose digests do not hold up is not trusted for this image at all.
            if !unverified.is_empty() {
                unverified.dedup();
                outcome.failures.push(Failure {
                    file: manifest.source.path().to_path_buf(),
                    index: d,
                    message: Message::joined(&unverified, "\n"),
                });
                continue;
            }
            facts.platforms_changed = change;
            // The base images the pinned and the new index name, from the manifests fetched
            // to compare platforms (no further requests).
            let now = facts.digests.get(&plan.current_tag).cloned();
            for digest in image.reference.digest.iter().chain(now.as_ref()) {
                let key = (registry.clone(), repository.clone(), digest.clone());
                if let Some(Ok(manifest)) = fetched.get(&key) {
                    if let Some(base) = manifest.base_name(&platforms) {
                        facts.base_names.insert(digest.clone(), base.to_owned());
                    }
                }
            }
            for sibling in &plan.siblings {
                let key = (registry.clone(), repository.clone(), sibling.clone());
                if let Some(Ok(digest)) = digests.get(&key) {
                    facts.siblings.insert(sibling.clone(), digest.clone());
                }
            }
            let policy = checker.policy_fn(dependency, manifest.source.path());
            let decision = image::finish(dependency, &plan, &facts, &policy);
            if decision.updates.is_empty() && !lookup_errors.is_empty() && plan.none.is_none() {
                outcome.failures.push(Failure {
                    file: manifest.source.path().to_path_buf(),
                    index: d,
                    message: Message::joined(&lookup_errors, "\n"),
                });
                continue;
            }
            outcome.findings.push(Finding {
                file: manifest.source.path().to_path_buf(),
                index: d,
                decision,
            });
        }
    }
}
