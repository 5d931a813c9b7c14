//! Decisions for Python requirements: exact pins move to the newest allowed release (a major
//! release separately), ranges are rewritten by the range strategy when the newest release
//! falls outside them.

use std::time::Duration;

use pep440_rs::{Version, VersionSpecifiers};

use super::{Context, Decision, NoUpdate, Policy, Update, human_age};
use crate::manifest::edit::Change;
use crate::manifest::python::{PinOperator, PythonRequirement, Specifier};
use crate::manifest::{Dependency, DependencyDetail};
use crate::versioning::UpdateKind;
use crate::versioning::pep440;

/// What an index knows about one release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The version.
    pub version: Version,
    /// Every file of the release is yanked (PEP 592).
    pub yanked: bool,
    /// The index's reason for the yank, when it gives one.
    pub yanked_reason: Option<String>,
    /// `Requires-Python` of the release.
    pub requires_python: Option<VersionSpecifiers>,
    /// Upload time of its first file, in seconds since the epoch.
    pub uploaded: Option<i64>,
    /// `sha256:<hex>` of every file, for hashed pins.
    pub hashes: Vec<String>,
}

/// Why a candidate release was passed over.
fn rejection(
    release: &Release,
    kind: UpdateKind,
    policy: &Policy,
    ctx: &Context,
    needs_hashes: bool,
) -> Option<String> {
    rejection_unless(release, kind, policy, ctx, needs_hashes, false)
}

/// [`rejection`]; `urgent` (the way off a yanked pin) is not held by the cooldown nor by a
/// disabled kind, as a security fix is not.
fn rejection_unless(
    release: &Release,
    kind: UpdateKind,
    policy: &Policy,
    ctx: &Context,
    needs_hashes: bool,
    urgent: bool,
) -> Option<String> {
    if !policy.enabled {
        return Some("updates are disabled for it by configuration".into());
    }
    if !urgent && !policy.kinds.contains(&kind) {
        return Some(format!("{kind} updates are not enabled"));
    }
    let text = release.version.to_string();
    if policy.ignores(&text) {
        return Some("the version is ignored by configuration".into());
    }
    if let Some(allowed) = &policy.allowed {
        if !allowed.contains(&release.version) {
            return Some(format!("outside allowed-versions `{allowed}`"));
        }
    }
    if let (Some(min), Some(uploaded), false) =
        (policy.minimum_release_age, release.uploaded, urgent)
    {
        let age = super::elapsed(ctx.now, uploaded);
        if age < min {
            return Some(format!(
                "released {} ago, younger than the minimum release age of {}",
                human_age(age),
                human_age(min)
            ));
        }
    }
    if needs_hashes && release.hashes.is_empty() {
        return Some("the index publishes no sha256 hashes for it".into());
    }
    None
}

/// Decide for one Python dependency. `policy` gives the policy for a kind of update (`None`:
/// before the kind is known). `index_pre` is pip's `--pre` in effect for the requirement.
pub fn decide(
    dependency: &Dependency,
    releases: &[Release],
    policy: &dyn Fn(Option<UpdateKind>) -> Policy,
    ctx: &Context,
) -> Decision {
    if let Some(skip) = dependency.skip_reason {
        return Decision::none(NoUpdate::Skipped { skip });
    }
    let DependencyDetail::Python(requirement) = &dependency.detail else {
        return Decision::none(NoUpdate::UpToDate);
    };
    let base = policy(None);
    if !base.enabled {
        return Decision::none(NoUpdate::Disabled);
    }
    if releases.is_empty() {
        return Decision::none(NoUpdate::NoReleases);
    }
    match (&requirement.pin, &requirement.specifier) {
        (Some(pin), _) if pin.version.is_some() => {
            let current = pin.version.clone().expect("checked");
            if let Some(problem) = pin_not_installable(&current, releases, ctx) {
                return Decision::none(problem);
            }
            pinned(
                requirement,
                &current,
                &pin.text,
                releases,
                policy,
                &base,
                ctx,
            )
        }
        (_, Some(spec)) if !spec.is_unconstrained() => {
            let prereleases =
                base.prereleases || spec.admits_prereleases() || requirement.index.pre;
            if let Some(problem) = range_not_installable(spec, releases, prereleases, ctx) {
                return Decision::none(problem);
            }
            ranged(requirement, spec, releases, policy, &base, ctx)
        }
        _ => Decision::none(NoUpdate::Unpinned),
    }
}

/// Whether `release` installs on the target Python (always, when the target is unknown).
fn installs_on(release: &Release, ctx: &Context) -> bool {
    match (&ctx.python, &release.requires_python) {
        (Some(python), Some(rp)) => rp.contains(python),
        _ => true,
    }
}

fn cannot_install(ctx: &Context, why: String, requires: Option<&VersionSpecifiers>) -> NoUpdate {
    NoUpdate::CannotInstall {
        python: ctx
            .python
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        from: None,
        why,
        fix: None,
        requires: requires.map(ToString::to_string),
    }
}

/// A pin whose release the index has but that needs a newer Python than the target.
fn pin_not_installable(current: &Version, releases: &[Release], ctx: &Context) -> Option<NoUpdate> {
    let release = releases.iter().find(|r| r.version == *current)?;
    if installs_on(release, ctx) {
        return None;
    }
    let rp = release.requires_python.as_ref()?;
    Some(cannot_install(
        ctx,
        format!("{current} requires Python {rp}"),
        Some(rp),
    ))
}

/// A range that admits no release installable on the target: every release it allows needs a
/// newer Python, or none exists.
fn range_not_installable(
    specifiers: &Specifier,
    releases: &[Release],
    prereleases: bool,
    ctx: &Context,
) -> Option<NoUpdate> {
    let mut allowed: Vec<&Release> = releases
        .iter()
        .filter(|r| !r.yanked && specifiers.contains(&r.version))
        .filter(|r| prereleases || pep440::is_stable(&r.version))
        .collect();
    if allowed.iter().any(|r| installs_on(r, ctx)) {
        return None;
    }
    allowed.sort_by(|a, b| a.version.cmp(&b.version));
    let requires = allowed.first().and_then(|r| r.requires_python.as_ref());
    let why = match (allowed.first(), allowed.last()) {
        (Some(lowest), Some(newest)) => {
            let needs = lowest
                .requires_python
                .as_ref()
                .map_or_else(String::new, ToString::to_string);
            if lowest.version == newest.version {
                format!("{} requires Python {needs}", lowest.version)
            } else {
                format!(
                    "every release it allows ({} to {}) requires a newer Python; {} requires Python {needs}",
                    lowest.version, newest.version, lowest.version
                )
            }
        }
        _ => {
            let newest = releases
                .iter()
                .filter(|r| !r.yanked)
                .map(|r| &r.version)
                .max();
            match newest {
                Some(newest) => format!("no release matches it; the newest is {newest}"),
                None => "no release matches it".to_owned(),
            }
        }
    };
    Some(cannot_install(ctx, why, requires))
}

/// The lowest version a range admits, as its lower bounds say (`None`: no lower bound).
pub fn floor(specifiers: &VersionSpecifiers) -> Option<Version> {
    pep440::floor(specifiers)
}

/// Releases worth considering: newer than `floor`, not yanked, pre-releases only when wanted,
/// supporting the target Python; newest first.
fn candidates<'a>(
    releases: &'a [Release],
    floor: Option<&Version>,
    prereleases: bool,
    ctx: &Context,
) -> (Vec<&'a Release>, Option<Version>) {
    let mut out: Vec<&Release> = releases
        .iter()
        .filter(|r| floor.is_none_or(|f| r.version > *f))
        .filter(|r| !r.yanked)
        .filter(|r| prereleases || pep440::is_stable(&r.version))
        .collect();
    out.sort_by(|a, b| b.version.cmp(&a.version));
    let mut note = None;
    if let Some(python) = &ctx.python {
        let before = out.first().map(|r| r.version.clone());
        out.retain(|r| {
            r.requires_python
                .as_ref()
                .is_none_or(|rp| rp.contains(python))
        });
        if let Some(newest) = before {
            if out.first().map(|r| &r.version) != Some(&newest) {
                note = Some(newest);
            }
        }
    }
    (out, note)
}

/// Note the newest release passed over because it needs a newer Python than the target.
fn held_for_python(
    decision: Decision,
    newest: Version,
    releases: &[Release],
    ctx: &Context,
) -> Decision {
    let python = ctx
        .python
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let mut decision = decision.note(format!("{newest} requires a newer Python than {python}"));
    decision.held_for_python = Some(super::HeldForPython {
        version: newest.to_string(),
        requires_python: releases
            .iter()
            .find(|r| r.version == newest)
            .and_then(|r| r.requires_python.clone()),
    });
    decision
}

fn age(release: &Release, ctx: &Context) -> Option<Duration> {
    release.uploaded.map(|u| super::elapsed(ctx.now, u))
}

fn pinned(
    requirement: &PythonRequirement,
    current: &Version,
    current_text: &str,
    releases: &[Release],
    policy: &dyn Fn(Option<UpdateKind>) -> Policy,
    base: &Policy,
    ctx: &Context,
) -> Decision {
    let prereleases = base.prereleases || !pep440::is_stable(current) || requirement.index.pre;
    let (candidates, python_note) = candidates(releases, Some(current), prereleases, ctx);
    let needs_hashes = !requirement.hashes.is_empty();
    // A yanked pin (PEP 592: pulled by its publisher, pip installs it only when pinned exactly)
    // must move: its routine update waits for no cooldown and no enabled kind.
    let yanked = releases
        .iter()
        .find(|r| r.version == *current && r.yanked)
        .map(|r| r.yanked_reason.clone().unwrap_or_default());
    let mut routine: Option<(&Release, UpdateKind)> = None;
    let mut major: Option<(&Release, UpdateKind)> = None;
    let mut held: Option<(String, String)> = None;
    for release in &candidates {
        let Some(kind) = pep440::classify(current, &release.version) else {
            continue;
        };
        let slot = if kind == UpdateKind::Major {
            &mut major
        } else {
            &mut routine
        };
        if slot.is_some() {
            continue;
        }
        let p = policy(Some(kind));
        let urgent = yanked.is_some() && kind != UpdateKind::Major;
        match rejection_unless(release, kind, &p, ctx, needs_hashes, urgent) {
            None => *slot = Some((release, kind)),
            Some(why) => {
                held.get_or_insert((release.version.to_string(), why));
            }
        }
    }
    let make = |(release, kind): (&Release, UpdateKind)| {
        let version = release.version.to_string();
        let hashes = needs_hashes.then(|| release.hashes.clone());
        let arbitrary = requirement
            .pin
            .as_ref()
            .is_some_and(|p| p.operator == PinOperator::ArbitraryEqual);
        let mut reason = match kind {
            UpdateKind::Major => "newest major release".to_owned(),
            _ if arbitrary => "newest release (arbitrary-equality pin)".to_owned(),
            _ => format!("newest {kind} release"),
        };
        if let Some(why) = &yanked {
            reason = format!("{current_text} is yanked{}; {reason}", yank_reason(why));
        }
        Update {
            kind,
            current: current_text.to_owned(),
            proposed: version.clone(),
            change: Change::PythonVersion { version, hashes },
            fixes: Vec::new(),
            unblocks: Vec::new(),
            rides_with: None,
            companions: Vec::new(),
            yanked: yanked.clone(),
            age: age(release, ctx),
            reason,
        }
    };
    let updates: Vec<Update> = routine.into_iter().chain(major).map(make).collect();
    let mut decision = if updates.is_empty() {
        match held.clone() {
            Some((version, why)) => Decision::none(NoUpdate::HeldBack {
                version,
                why: why.into(),
            }),
            None => Decision::none(NoUpdate::UpToDate),
        }
    } else {
        Decision::updates(updates)
    };
    if let Some((version, why)) = held {
        let newest_proposed = decision
            .updates
            .iter()
            .map(|u| u.proposed.clone())
            .collect::<Vec<_>>();
        if !decision.updates.is_empty() && !newest_proposed.contains(&version) {
            decision = decision.note(format!("{version} held back: {why}"));
        }
    }
    if let Some(newest) = python_note {
        decision = held_for_python(decision, newest, releases, ctx);
    }
    if let Some(why) = &yanked {
        decision = decision.note(format!(
            "{current_text} is yanked on the index{}",
            yank_reason(why)
        ));
    }
    decision.yanked = yanked;
    decision
}

/// `: "the index's reason"`, or nothing when it gave none.
fn yank_reason(why: &str) -> String {
    if why.is_empty() {
        String::new()
    } else {
        format!(": \"{why}\"")
    }
}

fn ranged(
    requirement: &PythonRequirement,
    specifiers: &Specifier,
    releases: &[Release],
    policy: &dyn Fn(Option<UpdateKind>) -> Policy,
    base: &Policy,
    ctx: &Context,
) -> Decision {
    let written = specifiers.text.as_str();
    let prereleases = base.prereleases || specifiers.admits_prereleases() || requirement.index.pre;
    let (all, python_note) = candidates(releases, None, prereleases, ctx);
    // What the range installs today.
    let resolved = all
        .iter()
        .find(|r| specifiers.contains(&r.version))
        .map(|r| r.version.clone());
    let mut held: Option<(String, String)> = None;
    let mut chosen: Option<(&Release, UpdateKind)> = None;
    for release in &all {
        let kind = if base.pin_ranges {
            // Pinning takes the newest allowed release, newer than today's or not.
            UpdateKind::Pin
        } else {
            match &resolved {
                Some(r) => match pep440::classify(r, &release.version) {
                    Some(k) => k,
                    None => break, // not newer than what the range installs: nothing better below
                },
                None => UpdateKind::Major,
            }
        };
        match rejection(
            release,
            kind,
            &policy(Some(kind)),
            ctx,
            !requirement.hashes.is_empty(),
        ) {
            None => {
                chosen = Some((release, kind));
                break;
            }
            Some(why) => {
                held.get_or_insert((release.version.to_string(), why));
            }
        }
    }
    let mut decision = match chosen {
        None => match (held, resolved) {
            (Some((version, why)), _) => Decision::none(NoUpdate::HeldBack {
                version,
                why: why.into(),
            }),
            (None, _) => Decision::none(NoUpdate::UpToDate),
        },
        // The range already admits the newest release: nothing to change.
        Some((release, _)) if !base.pin_ranges && specifiers.contains(&release.version) => {
            Decision::none(NoUpdate::UpToDate)
        }
        Some((release, kind)) => {
            let strategy = if base.pin_ranges {
                pep440::RangeStrategy::Pin
            } else {
                base.range_strategy
            };
            let lowered = |new: &str| {
                let old_floor = specifiers.floor();
                let new_floor = specifiers.floor_of(new);
                match (old_floor, new_floor) {
                    (Some(old), Some(new)) => new < old,
                    (Some(_), None) => true,
                    (None, _) => false,
                }
            };
            match specifiers.rewrite(strategy, &release.version) {
                // Never a downgrade: a rewrite that lowers the floor is not proposed.
                Ok(Some(new)) if lowered(&new) => Decision::none(NoUpdate::HeldBack {
                    version: release.version.to_string(),
                    why: format!("`{new}` would lower the floor of `{written}`").into(),
                }),
                Ok(Some(new)) => Decision::updates(vec![Update {
                    kind,
                    current: written.to_owned(),
                    proposed: new.clone(),
                    change: Change::PythonSpecifier {
                        specifier: new,
                        hashes: (!requirement.hashes.is_empty()).then(|| release.hashes.clone()),
                    },
                    fixes: Vec::new(),
                    unblocks: Vec::new(),
                    rides_with: None,
                    companions: Vec::new(),
                    yanked: None,
                    age: age(release, ctx),
                    reason: if base.pin_ranges {
                        format!("pin the range to {}", release.version)
                    } else {
                        format!("`{written}` excludes {}", release.version)
                    },
                }]),
                Ok(None) => Decision::none(NoUpdate::UpToDate),
                Err(error) if error.is_excluded() => Decision::none(NoUpdate::HeldBack {
                    version: release.version.to_string(),
                    why: format!("`{written}` excludes it with `!=`").into(),
                }),
                Err(error) => Decision::none(NoUpdate::HeldBack {
                    version: release.version.to_string(),
                    why: error.to_string().into(),
                }),
            }
        }
    };
    if let Some(newest) = python_note {
        decision = held_for_python(decision, newest, releases, ctx);
    }
    decision
}

#[cfg(test)]
mod tests;
