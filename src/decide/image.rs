//! Decisions for container images, in two pure steps around the digest lookups:
//! [`plan`] picks the tags to move to from the registry's tag list (same variant, same
//! precision; a Python minor bump, a major or an end-of-life migration apart from routine
//! updates), and [`finish`] turns the plan and the digests the caller fetched into updates (tag
//! moves carry the new tag's digest when the image is digest-pinned; a digest refresh only when
//! a platform in use changed, saying so when a rolling tag moved to another distribution).
//!
//! An end-of-life Python minor or distribution release ([`eol`]) is always reported: as the
//! reason of a migration update when migrations are enabled, otherwise as a note or the reason
//! the migration is held back.

use std::cmp::Ordering;
use std::collections::BTreeMap;

pub mod eol;
mod rolling;

pub use eol::Calendar;

use super::{Decision, NoUpdate, Policy, Update};
use crate::manifest::edit::Change;
use crate::manifest::{Dependency, DependencyDetail};
use crate::versioning::UpdateKind;
use crate::versioning::docker_tag::{self, DockerTag, TagKind};

/// A tag to move to, and what kind of move it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagTarget {
    /// The new tag.
    pub tag: String,
    /// The kind of update.
    pub kind: UpdateKind,
    /// Why, when the kind alone does not say (a migration: what reached its end of life).
    pub reason: Option<String>,
}

/// Kinds that are proposed apart from the routine update of a tag, which stays on the
/// current tag (its digest may still be refreshed).
fn is_separate(kind: UpdateKind) -> bool {
    matches!(
        kind,
        UpdateKind::Major | UpdateKind::PythonMinor | UpdateKind::Migration
    )
}

/// The first step's result: the tags to move to (routine first), and the digests needed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// Tag moves, routine first, then a separate major or Python-minor move.
    pub targets: Vec<TagTarget>,
    /// The current tag (`latest` when none is written).
    pub current_tag: String,
    /// Whether digests matter: the reference is digest-pinned, or digests are to be added.
    pub wants_digests: bool,
    /// Why nothing is planned, when that is decided already.
    pub none: Option<NoUpdate>,
    /// Notes (a variant no longer published, a newer tag held back, an end of life).
    pub notes: Vec<String>,
    /// For a tag whose distribution floats (`3.12-slim`), the tags of the same image that name
    /// one (`3.12-slim-bookworm`, `3.12-slim-trixie`): when the tag's digest is refreshed,
    /// their digests tell which distribution it moved to ([`DigestFacts::siblings`]).
    pub siblings: Vec<String>,
}

impl Plan {
    /// Whether [`finish`] may refresh (or add) the current tag's digest: digests matter and no
    /// routine tag move replaces the current tag.
    pub fn refreshes_current(&self) -> bool {
        self.wants_digests && self.targets.iter().all(|t| is_separate(t.kind))
    }

    /// The tags whose digests [`finish`] needs: the current one and every target.
    pub fn tags_to_resolve(&self) -> Vec<String> {
        if !self.wants_digests {
            return Vec::new();
        }
        std::iter::once(self.current_tag.clone())
            .chain(self.targets.iter().map(|t| t.tag.clone()))
            .collect()
    }
}

/// Digests the caller looked up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DigestFacts {
    /// The digest each tag points at now (absent when the lookup failed).
    pub digests: BTreeMap<String, String>,
    /// For a refresh of the current tag: whether any platform in use points at a different
    /// manifest than under the pinned digest (`None` when it could not be told).
    pub platforms_changed: Option<bool>,
    /// The platforms in use, for notes.
    pub platforms: Vec<String>,
    /// The digests of [`Plan::siblings`] now, looked up only for a refreshed digest.
    pub siblings: BTreeMap<String, String>,
    /// For the pinned and the new digest of a refreshed tag, the base image their indexes name
    /// for the platforms in use (`debian:bookworm-slim`, from the
    /// `org.opencontainers.image.base.name` annotation).
    pub base_names: BTreeMap<String, String>,
}

fn is_python_image(repository: &str, tag: &DockerTag) -> bool {
    let repo = repository.rsplit('/').next().unwrap_or(repository);
    matches!(repo, "python" | "pypy") || docker_tag::embedded_python(tag).is_some()
}

/// The highest tag among `tags` that may replace `current`, is newer, and satisfies `keep`.
fn highest<'a>(
    current: &DockerTag,
    tags: &'a [String],
    keep: impl Fn(&DockerTag) -> bool,
) -> Option<(&'a str, DockerTag)> {
    let mut best: Option<(&str, DockerTag)> = None;
    for text in tags {
        let candidate = DockerTag::parse(text);
        if !docker_tag::is_compatible(current, &candidate)
            || current.compare(&candidate) != Some(Ordering::Less)
            || !keep(&candidate)
        {
            continue;
        }
        let better = match &best {
            None => true,
            Some((b, bt)) => match candidate.compare(bt) {
                Some(Ordering::Greater) => true,
                Some(Ordering::Equal) => text.as_str() > *b,
                _ => false,
            },
        };
        if better {
            best = Some((text, candidate));
        }
    }
    best
}

/// Version parts of a tag as a PEP 440 version, for `allowed-versions` (`3.12.4` → 3.12.4).
fn tag_version(tag: &DockerTag) -> Option<pep440_rs::Version> {
    if tag.kind() != TagKind::Version || tag.parts().is_empty() {
        return None;
    }
    let text: Vec<String> = tag.parts().iter().map(u64::to_string).collect();
    text.join(".").parse().ok()
}

fn rejection(tag: &DockerTag, kind: UpdateKind, policy: &Policy) -> Option<String> {
    if !policy.enabled {
        return Some("updates are disabled for it by configuration".into());
    }
    if !policy.kinds.contains(&kind) {
        return Some(format!("{kind} updates are not enabled"));
    }
    if policy.ignores(tag.as_str()) {
        return Some("the tag is ignored by configuration".into());
    }
    if let (Some(allowed), Some(version)) = (&policy.allowed, tag_version(tag)) {
        if !allowed.contains(&version) {
            return Some(format!("outside allowed-versions `{allowed}`"));
        }
    }
    None
}

/// Step one: the tags to move to, from the registry's `tags`, with support judged by
/// `calendar`.
pub fn plan(
    dependency: &Dependency,
    tags: &[String],
    policy: &dyn Fn(Option<UpdateKind>) -> Policy,
    calendar: &Calendar<'_>,
) -> Plan {
    let mut plan = Plan::default();
    if let Some(skip) = dependency.skip_reason {
        plan.none = Some(NoUpdate::Skipped { skip });
        return plan;
    }
    let DependencyDetail::Image(image) = &dependency.detail else {
        plan.none = Some(NoUpdate::UpToDate);
        return plan;
    };
    let base = policy(None);
    if !base.enabled {
        plan.none = Some(NoUpdate::Disabled);
        return plan;
    }
    let reference = &image.reference;
    plan.wants_digests = reference.digest.is_some() || base.pin_digests;
    let Some(tag_text) = &reference.tag else {
        plan.current_tag = "latest".into();
        if reference.digest.is_some() {
            // Pinned by digest alone: there is no tag to follow.
            plan.wants_digests = false;
            plan.none = Some(NoUpdate::UpToDate);
            plan.notes
                .push("pinned by digest only; there is no tag to follow".into());
        }
        return plan;
    };
    plan.current_tag = tag_text.clone();
    if tags.is_empty() {
        plan.none = Some(NoUpdate::NoReleases);
        return plan;
    }
    let current = DockerTag::parse(tag_text);
    let python = is_python_image(&reference.repository, &current);
    let first = current.parts().first().copied();
    let minor = if python {
        docker_tag::python_minor(&current)
    } else {
        current.major_minor()
    };
    // Routine: same major (same Python minor for Python images); separate: anything newer.
    let routine = highest(&current, tags, |t| {
        if python && current.precision() >= 2 {
            docker_tag::python_minor(t) == minor
        } else {
            t.parts().first().copied() == first
        }
    });
    let overall = highest(&current, tags, |_| true);
    let mut held = None;
    let mut push =
        |tag: &str, parsed: &DockerTag, kind: UpdateKind, plan: &mut Plan| match rejection(
            parsed,
            kind,
            &policy(Some(kind)),
        ) {
            None => plan.targets.push(TagTarget {
                tag: tag.to_owned(),
                kind,
                reason: None,
            }),
            Some(why) => {
                held.get_or_insert((tag.to_owned(), why));
            }
        };
    if let Some((tag, parsed)) = &routine {
        let kind = docker_tag::classify(&current, parsed).unwrap_or(UpdateKind::Patch);
        push(tag, parsed, kind, &mut plan);
    }
    if let Some((tag, parsed)) = &overall {
        if routine.as_ref().map(|(t, _)| *t) != Some(*tag) {
            let kind = if python && docker_tag::python_minor(parsed) != minor {
                UpdateKind::PythonMinor
            } else {
                docker_tag::classify(&current, parsed).unwrap_or(UpdateKind::Major)
            };
            push(tag, parsed, kind, &mut plan);
        }
    }
    // An end-of-life migration is held back before anything else: it says what ended.
    let migration_held = migrate(
        &reference.repository,
        &current,
        tags,
        policy,
        calendar,
        &mut plan,
    );
    let nothing_else = plan.targets.is_empty() && !plan.wants_digests;
    for (tag, why) in migration_held.into_iter().chain(held) {
        if nothing_else && plan.none.is_none() {
            plan.none = Some(NoUpdate::HeldBack {
                version: tag,
                why: why.into(),
            });
        } else {
            plan.notes.push(format!("{tag} held back: {why}"));
        }
    }
    if let Some(note) = variant_gone(&current, tags) {
        plan.notes.push(note);
    }
    plan.siblings = rolling::siblings(&current, tags);
    plan
}

/// Add the migration of an end-of-life tag to the plan (replacing a Python-minor move to the
/// same tag, so one change is not proposed twice), or a note when there is nowhere to go;
/// the migration held back by configuration, with why, when it is.
fn migrate(
    repository: &str,
    current: &DockerTag,
    tags: &[String],
    policy: &dyn Fn(Option<UpdateKind>) -> Policy,
    calendar: &Calendar<'_>,
    plan: &mut Plan,
) -> Option<(String, String)> {
    let ended = eol::EndOfLife::of(repository, current, calendar)?;
    let base = policy(Some(UpdateKind::Migration));
    let Some(migration) = eol::migration_target(
        repository,
        current,
        tags,
        &ended,
        calendar,
        base.migration_target,
    ) else {
        plan.notes.push(format!(
            "{}; no supported tag of the same variant is published to migrate to",
            ended.describe()
        ));
        return None;
    };
    let parsed = DockerTag::parse(&migration.tag);
    if let Some(why) = rejection(&parsed, UpdateKind::Migration, &base) {
        let hint = if base.enabled && !base.kinds.contains(&UpdateKind::Migration) {
            " (add \"migration\" to `kinds` in `[update]`)"
        } else {
            ""
        };
        return Some((migration.tag, format!("{}; {why}{hint}", migration.reason)));
    }
    plan.targets.retain(|t| t.tag != migration.tag);
    plan.targets.push(TagTarget {
        tag: migration.tag,
        kind: UpdateKind::Migration,
        reason: Some(migration.reason),
    });
    None
}

/// A note when the current tag's variant stopped being published: a newer version of the same
/// precision exists under other variants, but not under this one.
fn variant_gone(current: &DockerTag, tags: &[String]) -> Option<String> {
    if current.kind() != TagKind::Version || current.variant().is_empty() {
        return None;
    }
    let mut newest_same: Option<DockerTag> = None;
    let mut newest_other: Option<DockerTag> = None;
    for text in tags {
        let t = DockerTag::parse(text);
        if t.kind() != TagKind::Version
            || t.precision() != current.precision()
            || t.is_prerelease()
            || t.prefix() != current.prefix()
        {
            continue;
        }
        // Tags of different variants do not compare as tags; their version parts do.
        let slot = if t.variant() == current.variant() {
            &mut newest_same
        } else {
            &mut newest_other
        };
        if slot.as_ref().is_none_or(|s| t.parts() > s.parts()) {
            *slot = Some(t);
        }
    }
    let (same, other) = (newest_same?, newest_other?);
    (other.parts() > same.parts()).then(|| {
        format!(
            "the `{}` variant is no longer published: its newest tag is {}, while {} exists",
            current.variant(),
            same,
            other
        )
    })
}

/// Step two: updates from the plan and the digests looked up.
pub fn finish(
    dependency: &Dependency,
    plan: &Plan,
    facts: &DigestFacts,
    policy: &dyn Fn(Option<UpdateKind>) -> Policy,
) -> Decision {
    if let Some(none) = &plan.none {
        let mut d = Decision::none(none.clone());
        d.notes.extend(
            plan.notes
                .iter()
                .map(|n| crate::vocab::Message::new(n.as_str())),
        );
        return d;
    }
    let Some(image) = dependency.image() else {
        return Decision::none(NoUpdate::UpToDate);
    };
    let written_tag = image.reference.tag.clone();
    let current_digest = image.reference.digest.clone();
    let mut updates = Vec::new();
    let mut notes = plan.notes.clone();
    let render = |tag: &str, digest: Option<&String>| match digest {
        Some(d) => format!("{tag}@{d}"),
        None => tag.to_owned(),
    };
    for target in &plan.targets {
        let digest = if plan.wants_digests {
            facts.digests.get(&target.tag)
        } else {
            None
        };
        if plan.wants_digests && digest.is_none() {
            notes.push(format!(
                "no digest could be found for {}; the update is left out",
                target.tag
            ));
            // What ended is still worth knowing.
            notes.extend(target.reason.iter().cloned());
            continue;
        }
        updates.push(Update {
            kind: target.kind,
            current: dependency.current.clone(),
            proposed: render(&target.tag, digest),
            change: Change::Image {
                tag: Some(target.tag.clone()),
                digest: digest.cloned(),
            },
            fixes: Vec::new(),
            unblocks: Vec::new(),
            rides_with: None,
            companions: Vec::new(),
            yanked: None,
            age: None,
            reason: match (&target.reason, target.kind) {
                (Some(reason), _) => reason.clone(),
                (None, UpdateKind::PythonMinor) => "newer Python minor".into(),
                (None, UpdateKind::Major) => "newest major tag".into(),
                (None, kind) => format!("newest {kind} tag of the same variant"),
            },
        });
    }
    // The current tag itself: add or refresh its digest, unless a routine tag move already
    // does. A separate move (a major, a Python minor, a migration) does not: the routine
    // update comes first and stays on the current tag.
    let separate = |u: &Update| is_separate(u.kind);
    if updates.iter().all(separate) && plan.wants_digests {
        let now = facts.digests.get(&plan.current_tag);
        match (&current_digest, now) {
            (None, Some(digest)) if policy(Some(UpdateKind::Pin)).allows_kind(UpdateKind::Pin) => {
                updates.push(Update {
                    kind: UpdateKind::Pin,
                    current: dependency.current.clone(),
                    proposed: render(
                        written_tag.as_deref().unwrap_or(&plan.current_tag),
                        Some(digest),
                    ),
                    change: Change::Image {
                        tag: None,
                        digest: Some(digest.clone()),
                    },
                    fixes: Vec::new(),
                    unblocks: Vec::new(),
                    rides_with: None,
                    companions: Vec::new(),
                    yanked: None,
                    age: None,
                    reason: "pin the tag to its digest".into(),
                });
            }
            (Some(pinned), Some(digest)) if pinned != digest => {
                let platforms = if facts.platforms.is_empty() {
                    "the platforms in use".to_owned()
                } else {
                    facts.platforms.join(", ")
                };
                if facts.platforms_changed == Some(false) {
                    notes.push(format!("the tag moved to a new digest, but the manifests for {platforms} are unchanged"));
                } else if policy(Some(UpdateKind::Digest)).allows_kind(UpdateKind::Digest) {
                    updates.push(Update {
                        kind: UpdateKind::Digest,
                        current: dependency.current.clone(),
                        proposed: render(&plan.current_tag, Some(digest)),
                        change: Change::Image {
                            tag: None,
                            digest: Some(digest.clone()),
                        },
                        fixes: Vec::new(),
                        unblocks: Vec::new(),
                        rides_with: None,
                        companions: Vec::new(),
                        yanked: None,
                        age: None,
                        reason: format!(
                            "the tag was rebuilt: new manifests for {platforms}{}",
                            rolling::moved(&plan.current_tag, pinned, digest, facts)
                        ),
                    });
                }
            }
            (_, None) => notes.push(format!("no digest could be found for {}", plan.current_tag)),
            _ => {}
        }
    }
    // Routine first, separate moves after.
    updates.sort_by_key(|u| separate(u));
    let mut decision = Decision::updates(updates);
    decision.notes = notes.into_iter().map(crate::vocab::Message::new).collect();
    decision
}

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod eol_tests;
#[cfg(test)]
mod rolling_tests;
#[cfg(test)]
mod tests;
