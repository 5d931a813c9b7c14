//! How old each proposed image is, and the minimum release age for images.
//!
//! Registries publish no push time, so an image's age is its build time
//! ([`crate::registry::oci::created`]) for the platforms in use, looked up only for the images
//! an update proposes (one manifest, one platform manifest and one config per proposed
//! reference, cached by digest). The age is shown beside the update. With
//! `minimum-release-age` set, an update younger than it is held back with a note; one whose
//! registry does not say when it was built is held or allowed as `[images]
//! missing-release-age` says. Security updates (an image update that fixes CVEs under
//! `[images] scan`) are never held: this runs after they are known.
//!
//! Unlike a Python release held back for its age, which gives way to the newest older release
//! that is old enough, a held image update is only held: the build times of the other tags
//! are not looked up (that would cost three requests per tag).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use futures::StreamExt;

use super::{CONCURRENCY, Checker, Finding, Outcome, failure_message};
use crate::config::MissingReleaseAge;
use crate::decide::{NoUpdate, human_age};
use crate::manifest::Manifest;
use crate::manifest::edit::Change;
use crate::registry::oci::{OciError, Platform};
use crate::vocab::Message;

/// `(registry, repository, tag or digest, platforms)`.
type Key = (String, String, String, Vec<Platform>);

/// The build time of each proposed image reference looked up so far (`None`: its registry
/// does not say; an error: the lookup failed).
pub(super) type BuildTimes = BTreeMap<Key, Result<Option<i64>, OciError>>;

impl Checker {
    /// The key of an image update's build time: the reference it proposes, for the platforms
    /// its dependency runs on (`None` for any other change, such as a pip pin in a `RUN`).
    fn build_time_key(
        &self,
        by_path: &BTreeMap<&Path, &Manifest>,
        file: &Path,
        index: usize,
        change: &Change,
    ) -> Option<Key> {
        let dependency = by_path.get(file)?.dependencies.get(index)?;
        let image = dependency.image()?;
        let Change::Image { tag, digest } = change else {
            return None;
        };
        let reference = digest
            .clone()
            .or_else(|| tag.clone())
            .or_else(|| image.reference.tag.clone())?;
        Some((
            image.reference.registry.clone(),
            image.reference.repository.clone(),
            reference,
            self.images.platforms_for(dependency),
        ))
    }

    /// Look up the build time of every image update `findings` propose that `times` lacks.
    /// Called on the images' side as soon as their decisions are made (so it overlaps the
    /// Python lookups), and again by [`Self::image_ages`] for any update added since.
    pub(super) async fn image_build_times(
        &self,
        manifests: &[&Manifest],
        findings: &[Finding],
        times: &mut BuildTimes,
    ) {
        let by_path: BTreeMap<&Path, &Manifest> =
            manifests.iter().map(|m| (m.source.path(), *m)).collect();
        let mut wanted: BTreeSet<Key> = BTreeSet::new();
        for finding in findings {
            for update in &finding.decision.updates {
                wanted.extend(
                    self.build_time_key(&by_path, &finding.file, finding.index, &update.change)
                        .filter(|key| !times.contains_key(key)),
                );
            }
        }
        let found: Vec<_> = futures::stream::iter(wanted)
            .map(|key| async move {
                let result = self
                    .images
                    .oci
                    .created(&key.0, &key.1, &key.2, &key.3)
                    .await;
                (key, result)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        times.extend(found);
    }

    /// Set the age of every proposed image update of `outcome` and hold back those younger
    /// than their minimum release age. `times` holds the build times looked up so far.
    pub(super) async fn image_ages(
        &self,
        manifests: &[&Manifest],
        outcome: &mut Outcome,
        mut times: BuildTimes,
    ) {
        self.image_build_times(manifests, &outcome.findings, &mut times)
            .await;
        if times.is_empty() {
            return;
        }
        let by_path: BTreeMap<&Path, &Manifest> =
            manifests.iter().map(|m| (m.source.path(), *m)).collect();
        let key_of = |file: &Path, index: usize, change: &Change| {
            self.build_time_key(&by_path, file, index, change)
        };
        let created = &times;
        let missing = self.config.config.images.missing_release_age;
        for finding in &mut outcome.findings {
            let Some(dependency) = by_path
                .get(finding.file.as_path())
                .and_then(|m| m.dependencies.get(finding.index))
            else {
                continue;
            };
            let policy = self.policy_fn(dependency, &finding.file);
            let mut held: Vec<(String, Message)> = Vec::new();
            let mut kept = Vec::new();
            for mut update in std::mem::take(&mut finding.decision.updates) {
                // Only image updates: a Python pin in a Dockerfile's RUN keeps its own age.
                let Some(key) = key_of(&finding.file, finding.index, &update.change) else {
                    kept.push(update);
                    continue;
                };
                let answer = created.get(&key);
                let built = match answer {
                    Some(Ok(Some(at))) => Some(*at),
                    _ => None,
                };
                update.age = built.map(|at| crate::decide::elapsed(self.now, at));
                // A minimum of zero is no cooldown.
                let minimum = policy(Some(update.kind))
                    .minimum_release_age
                    .filter(|m| !m.is_zero());
                let why = match (minimum, update.age) {
                    _ if update.is_security() => None,
                    (Some(min), Some(age)) if age < min => Some(Message::new(format!(
                        "built {} ago, younger than the minimum release age of {}",
                        human_age(age),
                        human_age(min)
                    ))),
                    (Some(min), None) if missing == MissingReleaseAge::Hold => {
                        Some(no_build_time(answer, min))
                    }
                    _ => None,
                };
                match why {
                    Some(why) => held.push((update.proposed.clone(), why)),
                    None => kept.push(update),
                }
            }
            finding.decision.updates = kept;
            for (proposed, why) in held {
                if finding.decision.updates.is_empty() && finding.decision.none.is_none() {
                    finding.decision.none = Some(NoUpdate::HeldBack {
                        version: proposed,
                        why,
                    });
                } else {
                    finding
                        .decision
                        .notes
                        .push(why.prefixed(&format!("{proposed} held back: ")));
                }
            }
        }
    }
}

/// Why an image update is held back when its registry's `answer` gives no build time and the
/// minimum release age is `min`.
fn no_build_time(answer: Option<&Result<Option<i64>, OciError>>, min: Duration) -> Message {
    // The failed lookup's hints come first, as when its causes were part of the sentence; never
    // inside the sentence.
    let failed = match answer {
        Some(Err(error)) => failure_message(error),
        _ => Message::new(
            "no `created` time in its config, no `org.opencontainers.image.created` annotation",
        ),
    };
    let cause = match answer {
        Some(Err(_)) => format!("the lookup failed: {}", failed.text),
        _ => failed.text,
    };
    Message {
        text: format!(
            "its registry does not say when it was built ({cause}), so it cannot be shown to be older than the minimum release age of {}",
            human_age(min)
        ),
        hints: failed.hints,
    }
    .hint("`missing-release-age = \"allow\"` under [images] proposes such images anyway")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_without_a_build_time_is_held_with_a_typed_hint() {
        let week = Duration::from_secs(7 * 86_400);
        let why = no_build_time(Some(&Ok(None)), week);
        assert_eq!(
            why.text,
            format!(
                "its registry does not say when it was built (no `created` time in its config, no `org.opencontainers.image.created` annotation), so it cannot be shown to be older than the minimum release age of {}",
                human_age(week)
            )
        );
        assert_eq!(
            why.hints,
            ["`missing-release-age = \"allow\"` under [images] proposes such images anyway"]
        );
        assert_eq!(no_build_time(None, week), why);
    }

    #[test]
    fn a_failed_lookup_keeps_its_own_hints_apart_from_the_sentence() {
        let week = Duration::from_secs(7 * 86_400);
        let refused = Err(OciError::Unauthorized {
            registry: "registry.example".into(),
            repository: "team/app".into(),
            status: 401,
        });
        let why = no_build_time(Some(&refused), week);
        assert!(
            why.text.starts_with(
                "its registry does not say when it was built (the lookup failed: registry.example refused access to `team/app` (HTTP 401)), so"
            ),
            "{}",
            why.text
        );
        assert!(!why.text.contains("hint:"), "{}", why.text);
        assert_eq!(why.hints.len(), 2, "{:?}", why.hints);
        assert!(why.hints[0].contains("docker login registry.example"));
        assert!(why.hints[1].starts_with("`missing-release-age"));
    }
}
