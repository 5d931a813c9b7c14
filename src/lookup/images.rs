//! Image lookups: one tag list per repository, then the digests the plans need, then the
//! manifests that tell whether a rebuilt tag changed a platform in use.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures::StreamExt;

use super::{CONCURRENCY, Checker, Failure, Finding, Outcome, error_chain};
use crate::decide::image::{self, DigestFacts, Plan};
use crate::manifest::{Dependency, DependencyDetail, Manifest};
use crate::registry::oci::{OciClient, Platform, platforms_changed};

/// The registry client and the platforms the images run on.
#[derive(Debug, Clone)]
pub struct ImageLookups {
    /// The client.
    pub oci: OciClient,
    /// Platforms in use by default (an image's `--platform` wins).
    pub platforms: Vec<Platform>,
}

type Repo = (String, String);

impl ImageLookups {
    fn platforms_for(&self, dependency: &Dependency) -> Vec<Platform> {
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
        let mut users: BTreeMap<Repo, Vec<(usize, usize)>> = BTreeMap::new();
        for (m, manifest) in manifests.iter().enumerate() {
            for (d, dependency) in manifest.dependencies.iter().enumerate() {
                let DependencyDetail::Image(image) = &dependency.detail else {
                    continue;
                };
                let path = manifest.source.path();
                if dependency.skip_reason.is_some() {
                    let policy = checker.policy_fn(dependency, path);
                    let plan = image::plan(dependency, &[], &policy);
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
        let tags: HashMap<Repo, Result<Vec<String>, String>> =
            futures::stream::iter(users.keys().cloned())
                .map(|repo| async move {
                    let result = self
                        .oci
                        .tags(&repo.0, &repo.1)
                        .await
                        .map_err(|e| error_chain(&e));
                    (repo, result)
                })
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
        // 2. Plans, and the digests they need.
        let mut plans: Vec<(usize, usize, Plan)> = Vec::new();
        let mut wanted_digests: BTreeSet<(String, String, String)> = BTreeSet::new();
        for (repo, list) in &users {
            for &(m, d) in list {
                let manifest = manifests[m];
                let dependency = &manifest.dependencies[d];
                let path = manifest.source.path();
                match &tags[repo] {
                    Err(message) => outcome.failures.push(Failure {
                        file: path.to_path_buf(),
                        index: d,
                        message: message.clone(),
                    }),
                    Ok(list) => {
                        let policy = checker.policy_fn(dependency, path);
                        let plan = image::plan(dependency, list, &policy);
                        for tag in plan.tags_to_resolve() {
                            wanted_digests.insert((repo.0.clone(), repo.1.clone(), tag));
                        }
                        plans.push((m, d, plan));
                    }
                }
            }
        }
        let digests: HashMap<(String, String, String), Result<String, String>> =
            futures::stream::iter(wanted_digests)
                .map(|key| async move {
                    let result = self
                        .oci
                        .digest(&key.0, &key.1, &key.2)
                        .await
                        .map(|i| i.digest)
                        .map_err(|e| error_chain(&e));
                    (key, result)
                })
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
        // 3. For a pinned tag that moved, whether a platform in use changed.
        let mut wanted_manifests: BTreeSet<(String, String, String)> = BTreeSet::new();
        for (m, d, plan) in &plans {
            let dependency = &manifests[*m].dependencies[*d];
            let Some(image) = dependency.image() else {
                continue;
            };
            let (Some(pinned), true) = (&image.reference.digest, plan.targets.is_empty()) else {
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
            Result<crate::registry::oci::Manifest, String>,
        > = futures::stream::iter(wanted_manifests)
            .map(|key| async move {
                let result = self
                    .oci
                    .manifest(&key.0, &key.1, &key.2)
                    .await
                    .map_err(|e| error_chain(&e));
                (key, result)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        // 4. Decisions.
        for (m, d, plan) in plans {
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
            for tag in plan.tags_to_resolve() {
                match digests.get(&(registry.clone(), repository.clone(), tag.clone())) {
                    Some(Ok(digest)) => {
                        facts.digests.insert(tag, digest.clone());
                    }
                    Some(Err(message)) => lookup_errors.push(message.clone()),
                    None => {}
                }
            }
            if let (Some(pinned), Some(now)) = (
                &image.reference.digest,
                facts.digests.get(&plan.current_tag),
            ) {
                let old = fetched.get(&(registry.clone(), repository.clone(), pinned.clone()));
                let new = fetched.get(&(registry.clone(), repository.clone(), now.clone()));
                facts.platforms_changed = match (old, new) {
                    (Some(Ok(old)), Some(Ok(new))) => Some(platforms_changed(old, new, &platforms)),
                    // The old manifest may be gone from the registry: treat the move as a change.
                    _ => None,
                };
            }
            let policy = checker.policy_fn(dependency, manifest.source.path());
            let decision = image::finish(dependency, &plan, &facts, &policy);
            if decision.updates.is_empty() && !lookup_errors.is_empty() && plan.none.is_none() {
                outcome.failures.push(Failure {
                    file: manifest.source.path().to_path_buf(),
                    index: d,
                    message: lookup_errors.join("\n"),
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
