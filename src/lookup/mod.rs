//! Looking every dependency up, once per unique thing, concurrently, and deciding.
//!
//! A run asks each set of indexes once per package and each registry once per repository,
//! whatever the number of files that use them; lookups run concurrently (the HTTP client
//! limits them per host). One failed lookup is reported against the dependencies that needed
//! it and never stops the others.

mod advisories;
mod changelogs;
mod image_age;
mod image_vulns;
mod images;
mod input_locks;
mod lock_fit;
mod metadata_cache;
mod relock;
mod setup;
mod tool_lock;
mod unblocking;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use futures::StreamExt;
use serde::Serialize;

use crate::config::Loaded;
use crate::decide::python::Release;
use crate::decide::{self, Context, Decision, Policy};
use crate::manifest::workspace::Workspace;
use crate::manifest::{Dependency, DependencyDetail, Manifest};
use crate::registry::http::HttpError;
use crate::registry::pypi::{IndexResolver, Lookup as PypiLookup, PypiClient};
use crate::versioning::UpdateKind;
use crate::vocab::Message;

pub use advisories::{AdvisoryError, AdvisoryLookup, AuditReleases};
pub use image_vulns::{ImageAudit, ImageEntry, UpdateFixes, fix_notes};
pub use images::ImageLookups;
pub use input_locks::InputEditError;
pub use lock_fit::MetadataLookupError;
pub use relock::{RelockError, Relockable};
pub use setup::{RunOptions, SetupError};
pub use tool_lock::{Tool, ToolProject, ToolRelockError};

/// How many lookups run at once (the HTTP client further limits each host).
const CONCURRENCY: usize = 64;

/// The decision for one dependency of one file.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The manifest's path.
    pub file: PathBuf,
    /// Index of the dependency in the manifest.
    pub index: usize,
    /// The decision.
    pub decision: Decision,
}

/// A lookup that failed, for the dependencies that needed it.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// The manifest's path.
    pub file: PathBuf,
    /// Index of the dependency in the manifest.
    pub index: usize,
    /// What went wrong, with causes, redacted, and what to do about it (serialised as
    /// `{"message": text, "hints": [...]}`).
    #[serde(flatten)]
    pub message: Message,
}

/// Everything a check found.
#[derive(Debug, Default, Serialize)]
pub struct Outcome {
    /// A decision for every dependency that was looked up (updatable or not).
    pub findings: Vec<Finding>,
    /// Lookups that failed.
    pub failures: Vec<Failure>,
    /// Notes about the whole run (a package on several indexes, the Python target used).
    pub notes: Vec<Message>,
    /// What the user must know although nothing failed: updates held back because they could
    /// not be checked (a compiled lock whose Python is unknown, metadata not in the cache).
    pub warnings: Vec<crate::vocab::Message>,
    /// One message per host marked down in this run (unreachable or too slow), with why; the
    /// failures it caused only name the host.
    pub hosts: Vec<crate::vocab::Message>,
    /// The advisories that the security updates fix, by ID (for pull-request bodies).
    #[serde(skip)]
    pub advisories: BTreeMap<String, crate::advisory::Advisory>,
    /// The target environment of every file (and Dockerfile stage) that was checked.
    #[serde(skip)]
    pub targets: crate::target::Targets,
    /// The changelog of proposed Python releases, by (name, version), when
    /// [`Checker::release_links`] asked for them and the release's metadata names one.
    #[serde(skip)]
    pub changelogs: BTreeMap<(String, String), String>,
    /// The compiled locks whose updates are re-locks, by path (to combine several re-locks of
    /// one file: [`Checker::combined_relock`]).
    #[serde(skip)]
    pub locks: HashMap<PathBuf, relock::Relockable>,
    /// The `uv.lock`, `poetry.lock` and `Pipfile.lock` files and their projects, by lock path
    /// (to combine several re-locks of one: [`Checker::combined_relock`]).
    #[serde(skip)]
    pub tool_projects: HashMap<PathBuf, ToolProject>,
    /// When each Python release looked up was uploaded, to hold the pins a locking tool writes
    /// to the minimum release age (`tool_lock::cooldown`).
    #[serde(skip)]
    pub uploads: tool_lock::cooldown::Uploads,
    /// What image updates fix in OS packages, by CVE (for pull-request bodies), with
    /// `[images] scan`.
    #[serde(skip)]
    pub image_fixes: BTreeMap<String, crate::plan::AdvisoryNote>,
    /// The base images' OS vulnerabilities, with `[images] scan`.
    #[serde(skip)]
    pub image_audit: Option<ImageAudit>,
    /// With `[images] group-unblocked`: the releases of each Python dependency held back for
    /// its target's Python, by (file, index), to decide again for the Python a base image
    /// update moves to.
    #[serde(skip)]
    held_releases: HashMap<(PathBuf, usize), Vec<Release>>,
}

/// The lookups and decisions of a run.
pub struct Checker {
    /// The configuration.
    pub config: Loaded,
    /// The PyPI client.
    pub pypi: PypiClient,
    /// The OSV API client, for `[advisories] source = "osv"`.
    pub osv: crate::advisory::OsvApi,
    /// Where each requirement's indexes come from.
    pub indexes: IndexResolver,
    /// Image lookups.
    pub images: ImageLookups,
    /// Now, in seconds since the epoch.
    pub now: i64,
    /// Whether to find each proposed Python release's changelog (for pull-request bodies: a
    /// metadata request per release, which a report does not need).
    pub release_links: bool,
    /// Whether this run makes the full re-locks of `[update] lock-maintenance` when they are
    /// due (they are pull requests of their own: `repin pr`, not reports).
    pub lock_maintenance: bool,
    /// An offline advisory database given on the command line (`--advisory-db`), used instead
    /// of `[advisories]` of the configuration.
    pub advisory_db: Option<PathBuf>,
    /// Whether a locking tool that may run the build code of the packages it resolves (Poetry)
    /// may be run: yes for a run on the user's own repository (the CLI, the Action), no for
    /// the bot's runs on other people's (`repin serve` passes `--no-build-code`).
    pub build_code: bool,
}

/// How a failed lookup ends when its host is down: the host's own message says why, once.
const DOWN: &str = " is down for this run";

/// The HTTP error in `error`'s chain, if any (it may be boxed).
fn http_cause<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a HttpError> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(http) = e.downcast_ref::<HttpError>() {
            return Some(http);
        }
        if let Some(http) = e.downcast_ref::<Box<HttpError>>() {
            return Some(http);
        }
        current = e.source();
    }
    None
}

/// The message of each host marked down, with why; the last says what to do when a host could
/// not be reached at all.
fn host_problems(down: Vec<(String, crate::registry::http::DownReason)>) -> Vec<Message> {
    let unreachable = down.iter().any(|(_, reason)| reason.is_unreachable());
    let mut problems: Vec<Message> = down
        .into_iter()
        .map(|(host, reason)| Message::new(format!("{host} is down for this run: {reason}")))
        .collect();
    if let (true, Some(last)) = (unreachable, problems.last_mut()) {
        last.hints.push(
            "check the network connection; without one, `--offline` answers from the cache of an earlier run and `--advisory-db PATH` reads advisories from an offline database".to_owned(),
        );
    }
    problems
}

/// The message of a failed lookup: the error with its causes, or, when the cause is a host that
/// cannot be used in this run (it does not resolve, refuses connections, or is marked down),
/// one line naming the host: the host's own message ([`Checker::host_problems`]) says why,
/// once, instead of the same causes under every dependency.
pub fn failure_message<E: crate::error::Hint + 'static>(error: &E) -> Message {
    match http_cause(error).and_then(HttpError::unusable_host) {
        Some(host) => {
            let text = error.to_string();
            let first = text.lines().next().unwrap_or_default();
            Message::new(crate::vocab::redact::text(&format!(
                "{first}: {host}{DOWN}"
            )))
        }
        None => crate::error::message(error),
    }
}

/// The distinct package names of the updatable Python dependencies of `manifests`, sorted.
pub fn python_packages<'a>(manifests: impl IntoIterator<Item = &'a Manifest>) -> Vec<String> {
    manifests
        .into_iter()
        .flat_map(|m| m.dependencies.iter())
        .filter(|d| d.python().is_some() && d.skip_reason.is_none())
        .map(|d| d.name.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Hold back the updates of the pins of a lock that only its own tool re-locks (a
/// `pylock.toml`, by its `created-by`; a `poetry.lock`, by Poetry; a `Pipfile.lock`, by
/// Pipenv): every one of a `pylock.toml` another tool wrote (repin does not run its tool; one
/// repin wrote is among `locks`, re-locked), the routine ones of the others (they move with
/// their manifest's requirement; their security fixes are re-locked by the tool:
/// [`Checker::relock_tool_locks`]). One note per file says so; the pins are still looked up, so
/// `check` shows what is due and `audit` judges every one.
fn hold_tool_lock_updates(
    manifests: &[&Manifest],
    locks: &HashMap<PathBuf, relock::Relockable>,
    outcome: &mut Outcome,
) {
    use crate::manifest::ManifestDetails;
    let advice: HashMap<&Path, String> = manifests
        .iter()
        .filter_map(|m| {
            let advice = match &m.details {
                ManifestDetails::Pylock(_) if locks.contains_key(m.source.path()) => return None,
                ManifestDetails::Pylock(file) => file.relock_advice(),
                ManifestDetails::PoetryLock(_) => {
                    crate::manifest::poetry_lock::RELOCK_ADVICE.to_owned()
                }
                ManifestDetails::PipfileLock(_) => {
                    crate::manifest::pipfile_lock::RELOCK_ADVICE.to_owned()
                }
                _ => return None,
            };
            Some((m.source.path(), advice))
        })
        .collect();
    let mut held: BTreeMap<PathBuf, usize> = BTreeMap::new();
    for f in 0..outcome.findings.len() {
        let Some(why) = advice.get(outcome.findings[f].file.as_path()) else {
            continue;
        };
        let by_tool = matches!(
            outcome.findings[f]
                .file
                .file_name()
                .and_then(|n| n.to_str()),
            Some("poetry.lock" | "Pipfile.lock")
        );
        for u in (0..outcome.findings[f].decision.updates.len()).rev() {
            if by_tool && outcome.findings[f].decision.updates[u].is_security() {
                continue;
            }
            *held.entry(outcome.findings[f].file.clone()).or_default() += 1;
            relock::hold_back(outcome, f, u, why.clone());
        }
    }
    for (path, count) in held {
        outcome.notes.push(Message::new(format!(
            "{}: {count} update{} held back: {}",
            crate::text::shown(&path),
            if count == 1 { "" } else { "s" },
            advice[path.as_path()]
        )));
    }
}

/// The releases of a lookup as the decision rules want them; hashes only when `with_hashes`
/// (the requirement is hashed) and only for versions newer than `floor` (the others are never
/// proposed, and some projects have thousands of files).
pub fn releases(
    lookup: &PypiLookup,
    floor: Option<&pep440_rs::Version>,
    with_hashes: bool,
) -> Vec<Release> {
    lookup
        .releases
        .iter()
        .filter_map(|(version, sources)| {
            let first = &sources.first()?.release;
            let newer = with_hashes && floor.is_none_or(|f| version > f);
            Some(Release {
                version: version.clone(),
                yanked: sources.iter().all(|s| s.release.yanked),
                yanked_reason: sources.iter().find_map(|s| s.release.yanked_reason.clone()),
                requires_python: first.requires_python.clone(),
                uploaded: sources
                    .iter()
                    .filter_map(|s| s.release.upload_time)
                    .min()
                    .map(jiff::Timestamp::as_second),
                hashes: if newer {
                    lookup.hashes_for(version)
                } else {
                    Vec::new()
                },
            })
        })
        .collect()
}

/// Whether a dependency is a hashed requirement (an update must carry hashes).
fn is_hashed(dependency: &Dependency) -> bool {
    dependency.python().is_some_and(|r| !r.hashes.is_empty())
}

impl Checker {
    fn policy_fn<'a>(
        &'a self,
        dependency: &'a Dependency,
        file: &'a Path,
    ) -> impl Fn(Option<UpdateKind>) -> Policy + 'a {
        move |kind| Policy::from_config(&self.config, &dependency.name, file, kind)
    }

    /// Look everything up and decide for every dependency of `workspace`.
    pub async fn check(&self, workspace: &Workspace, root: &Path) -> Outcome {
        let mut outcome = Outcome {
            targets: crate::target::find(workspace, &self.config, root, self.now),
            ..Outcome::default()
        };
        let assumed: Vec<String> = outcome
            .targets
            .iter()
            .filter(|(_, t)| !t.from.is_known())
            .map(|(path, _)| crate::text::shown(path))
            .collect();
        if let Some(first) = assumed.first() {
            let newest = crate::target::newest_python(&self.config, self.now);
            let files = match assumed.len() {
                1 => first.clone(),
                n => format!("{first} and {} more", n - 1),
            };
            outcome.notes.push(Message::new(format!(
                "requires-python is checked against Python {newest}, the newest stable CPython, for {files}: no Dockerfile, lock header, Pipfile `[requires]`, repin.toml or pyproject.toml says which Python installs it"
            )));
        }
        let ctx = Context {
            now: self.now,
            python: None,
        };
        let manifests: Vec<&Manifest> = workspace
            .manifests
            .iter()
            .filter(|m| {
                !self.config.is_excluded(
                    m.source
                        .path()
                        .strip_prefix(root)
                        .unwrap_or(m.source.path()),
                )
            })
            .collect();
        // Compiled locks with their `.in` found are re-locked, never patched line by line.
        let mut why_not = HashMap::new();
        let locks = relock::relockables(
            &manifests,
            workspace,
            &outcome.targets,
            &mut outcome.notes,
            &mut why_not,
        );
        let relocked: std::collections::HashSet<&Path> =
            locks.keys().map(PathBuf::as_path).collect();
        // Images do not wait for advisories and PyPI, nor PyPI for advisories: everything runs
        // at once, each side with an outcome of its own, merged (and sorted) below.
        let python_side = self.check_python(&manifests, &ctx, &relocked, &mut outcome);
        let mut images = Outcome::default();
        // The proposed images' build times are looked up as soon as the images are decided,
        // while PyPI may still be answering.
        let mut build_times = image_age::BuildTimes::new();
        let images_side = async {
            self.images.check(self, &manifests, &mut images).await;
            self.image_build_times(&manifests, &images.findings, &mut build_times)
                .await;
        };
        let (advisories, ()) = tokio::join!(python_side, images_side);
        outcome.findings.extend(images.findings);
        outcome.failures.extend(images.failures);
        outcome.notes.extend(images.notes);
        outcome.warnings.extend(images.warnings);
        self.relock_updates(&locks, &mut outcome).await;
        self.relock_inputs(&manifests, &locks, &mut outcome).await;
        hold_tool_lock_updates(&manifests, &locks, &mut outcome);
        let tool_projects =
            tool_lock::tool_projects(&manifests, workspace, self.build_code, &self.indexes);
        self.relock_tool_locks(
            &manifests,
            &tool_projects,
            advisories.as_ref().map(|a| &a.index),
            &mut outcome,
        )
        .await;
        outcome.tool_projects = tool_projects;
        let maintenance = self.config.config.update.lock_maintenance;
        if self.lock_maintenance && maintenance.due(self.now) {
            self.maintain_locks(&locks, maintenance, &mut outcome).await;
        }
        input_locks::warn_on_contradicted_locks(&manifests, &locks, &why_not, &mut outcome);
        outcome.locks = locks;
        self.image_security(&manifests, &mut outcome).await;
        // After the security updates are known: they are never held for their age.
        self.image_ages(&manifests, &mut outcome, build_times).await;
        if let Some(lookup) = &advisories {
            let fixed: BTreeSet<&String> = outcome
                .findings
                .iter()
                .flat_map(|f| &f.decision.updates)
                .flat_map(|u| &u.fixes)
                .collect();
            let found: BTreeMap<String, crate::advisory::Advisory> = lookup
                .index
                .iter()
                .filter(|a| fixed.contains(&a.id().to_owned()))
                .map(|a| (a.id().to_owned(), a.clone()))
                .collect();
            outcome.advisories = found;
        }
        let unblocked = unblocking::link(&manifests, &mut outcome);
        if self.config.config.images.group_unblocked {
            self.ride_unblocked(&manifests, &unblocked, &mut outcome);
        }
        outcome.held_releases.clear();
        outcome
            .findings
            .sort_by(|a, b| (&a.file, a.index).cmp(&(&b.file, b.index)));
        outcome
            .failures
            .sort_by(|a, b| (&a.file, a.index).cmp(&(&b.file, b.index)));
        outcome.hosts = self.host_problems();
        outcome
    }

    /// One message per host marked down in this run, with why: the lookups that failed because
    /// of it only name it ([`failure_message`]).
    pub fn host_problems(&self) -> Vec<Message> {
        host_problems(self.pypi.http().down_hosts())
    }

    /// Advisories for the Python packages of `manifests` as `repin.toml` says, with notes about
    /// what could not be checked (one per reason).
    async fn advisories_for_check(
        &self,
        manifests: &[&Manifest],
    ) -> (Option<AdvisoryLookup>, Vec<Message>) {
        let mut notes = Vec::new();
        if self.advisory_db.is_none()
            && self.config.config.advisories.source == crate::config::AdvisorySource::Off
        {
            return (None, notes);
        }
        let names = python_packages(manifests.iter().copied());
        match self.advisories(&names, self.advisory_db.as_deref()).await {
            Ok(lookup) => {
                // One note per reason: an unreachable service fails every package the same way.
                let mut by_reason: BTreeMap<&Message, Vec<&String>> = BTreeMap::new();
                for (package, why) in &lookup.failed {
                    by_reason.entry(why).or_default().push(package);
                }
                for (why, packages) in by_reason {
                    let names: Vec<String> = packages.iter().map(|p| format!("`{p}`")).collect();
                    notes.push(why.clone().prefixed(&format!(
                        "advisories for {} could not be checked: ",
                        names.join(", ")
                    )));
                }
                (Some(lookup), notes)
            }
            Err(why) => {
                notes.push(
                    crate::error::message(&why)
                        .prefixed("known vulnerabilities were not checked: "),
                );
                (None, notes)
            }
        }
    }

    /// Look up and decide every Python dependency; the advisories are fetched while the
    /// indexes are asked, and returned.
    async fn check_python(
        &self,
        manifests: &[&Manifest],
        ctx: &Context,
        relocked: &std::collections::HashSet<&Path>,
        outcome: &mut Outcome,
    ) -> Option<AdvisoryLookup> {
        // Unique (package, indexes) → the indexes and the dependencies that need it.
        type Key = (String, Vec<String>);
        type Users = (Vec<crate::registry::pypi::Index>, Vec<(usize, usize)>);
        let mut wanted: BTreeMap<Key, Users> = BTreeMap::new();
        for (m, manifest) in manifests.iter().enumerate() {
            for (d, dependency) in manifest.dependencies.iter().enumerate() {
                let DependencyDetail::Python(requirement) = &dependency.detail else {
                    continue;
                };
                let path = manifest.source.path();
                if dependency.skip_reason.is_some() {
                    let policy = self.policy_fn(dependency, path);
                    outcome.findings.push(Finding {
                        file: path.to_path_buf(),
                        index: d,
                        decision: decide::python::decide(dependency, &[], &policy, ctx),
                    });
                    continue;
                }
                match self.indexes.indexes(&requirement.index, Some(path)) {
                    Ok(indexes) if indexes.is_empty() => outcome.failures.push(Failure {
                        file: path.to_path_buf(),
                        index: d,
                        message: Message::new(
                            "`--no-index` is set, so there is no index to look it up in",
                        ),
                    }),
                    Ok(indexes) => {
                        let key = (
                            dependency.name.clone(),
                            indexes.iter().map(|i| i.url.to_string()).collect(),
                        );
                        wanted
                            .entry(key)
                            .or_insert_with(|| (indexes, Vec::new()))
                            .1
                            .push((m, d));
                    }
                    Err(error) => outcome.failures.push(Failure {
                        file: path.to_path_buf(),
                        index: d,
                        message: crate::error::message(&error),
                    }),
                }
            }
        }
        let lookups = futures::stream::iter(wanted.iter())
            .map(|(key, (indexes, _))| async move {
                let result = self.pypi.lookup(indexes, &key.0).await;
                (key.clone(), result)
            })
            .buffer_unordered(CONCURRENCY)
            .collect::<HashMap<Key, Result<PypiLookup, crate::registry::pypi::PypiError>>>();
        let ((advisories, notes), lookups) =
            tokio::join!(self.advisories_for_check(manifests), lookups);
        outcome.notes.extend(notes);
        let advisories_ref = advisories.as_ref();
        // Each dependency is checked for the Python its file (or Dockerfile stage) is
        // installed with.
        let targets = std::mem::take(&mut outcome.targets);
        let context_of = |m: usize, d: usize| Context {
            now: ctx.now,
            python: targets
                .of_dependency(manifests[m], d)
                .map(|t| t.python.clone()),
        };
        for (key, (_, users)) in &wanted {
            let result = &lookups[key];
            if let Ok(lookup) = result {
                let times = outcome.uploads.entry(key.0.clone()).or_default();
                for (version, uploaded) in tool_lock::cooldown::upload_times(lookup) {
                    // Asked of several sets of indexes: the earliest, as a release's is.
                    let earliest = times.entry(version).or_insert(uploaded);
                    *earliest = (*earliest).min(uploaded);
                }
                if lookup.confusion_risk() {
                    let on: Vec<String> = lookup.found_on.iter().map(ToString::to_string).collect();
                    outcome.notes.push(Message::new(format!(
                        "`{}` is on several indexes ({}): a dependency-confusion risk; pip installs the highest version from any of them",
                        key.0,
                        on.join(", ")
                    )));
                }
            }
            for &(m, d) in users {
                let manifest = manifests[m];
                let dependency = &manifest.dependencies[d];
                let path = manifest.source.path();
                let ctx = &context_of(m, d);
                match result {
                    Ok(lookup) => {
                        let floor = dependency.python().and_then(|p| p.pinned_version());
                        let releases = releases(lookup, floor, is_hashed(dependency));
                        let policy = self.policy_fn(dependency, path);
                        let mut decision =
                            decide::python::decide(dependency, &releases, &policy, ctx);
                        if let Some(lookup) = advisories_ref {
                            let known = lookup.index.for_package(&dependency.name);
                            if !known.is_empty() {
                                let assessment = decide::security::assess(
                                    dependency,
                                    &releases,
                                    known,
                                    &policy(None),
                                    ctx,
                                );
                                decision = decide::security::merge(decision, &assessment);
                            }
                        }
                        if decision.held_for_python.is_some()
                            && self.config.config.images.group_unblocked
                        {
                            outcome
                                .held_releases
                                .insert((path.to_path_buf(), d), releases);
                        }
                        decision.notes.extend(
                            lookup
                                .warnings
                                .iter()
                                .map(|w| Message::new(format!("an index failed: {w}"))),
                        );
                        outcome.findings.push(Finding {
                            file: path.to_path_buf(),
                            index: d,
                            decision,
                        });
                    }
                    Err(error) => outcome.failures.push(Failure {
                        file: path.to_path_buf(),
                        index: d,
                        message: failure_message(error),
                    }),
                }
            }
        }
        outcome.targets = targets;
        let mut sources: lock_fit::Sources<'_> = HashMap::new();
        for (key, (indexes, users)) in &wanted {
            if let Ok(lookup) = &lookups[key] {
                for &user in users {
                    sources.insert(user, (indexes.as_slice(), lookup));
                }
            }
        }
        self.check_locks(manifests, &sources, ctx, relocked, outcome)
            .await;
        if self.release_links {
            self.find_changelogs(manifests, &sources, outcome).await;
        }
        advisories
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::http::DownReason;

    #[test]
    fn an_unreachable_host_gets_the_network_hint_once_as_a_typed_hint() {
        let problems = host_problems(vec![
            ("a.test".into(), DownReason::TimedOut(3)),
            ("b.test".into(), DownReason::Unreachable("refused".into())),
        ]);
        assert_eq!(
            problems[0],
            Message::new("a.test is down for this run: it timed out 3 times")
        );
        assert_eq!(
            problems[1].text,
            "b.test is down for this run: no connection could be made: refused"
        );
        assert_eq!(
            problems[1].hints,
            [
                "check the network connection; without one, `--offline` answers from the cache of an earlier run and `--advisory-db PATH` reads advisories from an offline database"
            ]
        );
        // Only slow: no hint about the network.
        let slow = host_problems(vec![("a.test".into(), DownReason::TimedOut(3))]);
        assert!(slow[0].hints.is_empty(), "{slow:?}");
    }

    #[test]
    fn a_failed_lookup_carries_the_error_s_hints_typed_and_serialises_them_apart() {
        let refused = crate::registry::oci::OciError::Unauthorized {
            registry: "registry.example".into(),
            repository: "team/app".into(),
            status: 401,
        };
        let failure = Failure {
            file: PathBuf::from("Dockerfile"),
            index: 0,
            message: failure_message(&refused),
        };
        assert_eq!(
            failure.message.text,
            "registry.example refused access to `team/app` (HTTP 401)"
        );
        assert_eq!(failure.message.hints.len(), 1);
        assert!(
            failure.message.hints[0].contains("docker login registry.example"),
            "{:?}",
            failure.message.hints
        );
        let json = serde_json::to_value(&failure).unwrap();
        assert_eq!(json["message"], failure.message.text.as_str());
        assert_eq!(json["hints"], serde_json::json!(failure.message.hints));
    }
}
