//! Base images' OS vulnerabilities for a run: every image dependency's current image and the
//! targets of its updates read ([`crate::image_scan`]) once per image and platform, their
//! packages' advisories fetched once per (ecosystem, package), matched
//! ([`crate::image_vulns`]); an update that fixes CVEs becomes a security update.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use futures::StreamExt;
use serde::Serialize;

use super::advisories::AdvisoryError;
use super::{Checker, Finding, Outcome, failure_message};
use crate::advisory::distro::DistroIndex;
use crate::config::AdvisorySource as SourceName;
use crate::image_scan::{ImageScan, ImageScanner, ScanError};
use crate::image_vulns::{self, Fix, ImageVulns};
use crate::manifest::Manifest;
use crate::manifest::edit::Change;
use crate::plan::AdvisoryNote;
use crate::registry::oci::Platform;
use crate::versioning::UpdateKind;
use crate::vocab::Message;

/// Images read at once (each reads its layers one after the other).
const SCANS_AT_ONCE: usize = 4;

/// `(registry, repository, tag or digest, platform)`.
type ScanKey = (String, String, String, String);

/// An update of an image and what it fixes.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateFixes {
    /// The new reference (`tag@digest`).
    pub proposed: String,
    /// What kind of update it is.
    pub kind: UpdateKind,
    /// The vulnerabilities it fixes.
    pub fixes: Vec<Fix>,
    /// How many distinct CVEs stay.
    pub remaining: usize,
}

/// One base image of one Dockerfile, for one platform.
#[derive(Debug, Clone, Serialize)]
pub struct ImageEntry {
    /// The Dockerfile.
    pub file: PathBuf,
    /// Index of the dependency in it.
    #[serde(skip)]
    pub index: usize,
    /// 1-based line of the `FROM`.
    pub line: usize,
    /// 1-based column of the reference.
    pub column: usize,
    /// The image's name (`docker.io/library/python`).
    pub name: String,
    /// The reference as written.
    pub current: String,
    /// The platform read.
    pub platform: String,
    /// The manifest read for the platform.
    pub manifest: Option<String>,
    /// The distribution (`Debian GNU/Linux 12 (bookworm)`, `debian 12`).
    pub distribution: Option<String>,
    /// Installed OS packages.
    pub packages: usize,
    /// The known vulnerabilities of its OS packages.
    pub vulnerabilities: Option<ImageVulns>,
    /// The update that leaves the fewest CVEs, when one fixes any.
    pub best_update: Option<UpdateFixes>,
    /// Every update and what it fixes.
    pub updates: Vec<UpdateFixes>,
    /// Why the image could not be checked, when it could not, with what to do about it
    /// (serialised as `{"message": text, "hints": [...]}`).
    pub unchecked: Option<Message>,
    /// Layers of the image, read from the registry in this run, and answered by the cache.
    pub layers: [usize; 3],
    /// Compressed bytes fetched for it in this run.
    pub bytes_fetched: u64,
}

impl ImageEntry {
    /// Distinct CVEs open in the current image.
    pub fn open(&self) -> usize {
        self.vulnerabilities.as_ref().map_or(0, |v| v.cves().len())
    }
}

/// What the run found about its base images.
#[derive(Debug, Default, Serialize)]
pub struct ImageAudit {
    /// One entry per image dependency and platform, by file and line.
    pub images: Vec<ImageEntry>,
    /// Where the advisories came from.
    pub source: String,
}

/// The reference an image's update moves to: its new digest, else its new tag.
fn target_of(change: &Change) -> Option<&str> {
    match change {
        Change::Image {
            digest: Some(d), ..
        } => Some(d),
        Change::Image { tag: Some(t), .. } => Some(t),
        _ => None,
    }
}

fn describe(scan: &ImageScan) -> Option<String> {
    let release = scan.distribution.as_ref()?;
    Some(release.pretty_name.clone().unwrap_or_else(|| {
        format!(
            "{} {}",
            release.id,
            release.version_id.as_deref().unwrap_or("")
        )
        .trim()
        .to_owned()
    }))
}

/// The pull-request notes of what image updates fix, by CVE: the package, from → to, the
/// advisory and its severity.
pub fn fix_notes(fixes: &[Fix]) -> BTreeMap<String, AdvisoryNote> {
    let mut notes: BTreeMap<String, AdvisoryNote> = BTreeMap::new();
    for fix in fixes {
        let change = format!(
            "{} {} → {}",
            fix.package,
            fix.from,
            fix.to.as_deref().unwrap_or("removed")
        );
        let note = notes
            .entry(fix.cve.clone())
            .or_insert_with(|| AdvisoryNote {
                id: fix.cve.clone(),
                aliases: Vec::new(),
                severity: fix.severity.map(|r| match fix.score {
                    Some(score) => format!("{r} {score:.1}"),
                    None => r.to_string(),
                }),
                summary: None,
                url: format!("https://osv.dev/vulnerability/{}", fix.advisory),
            });
        if !note.aliases.contains(&fix.advisory) && fix.advisory != fix.cve {
            note.aliases.push(fix.advisory.clone());
        }
        note.summary = Some(match note.summary.take() {
            Some(previous) => format!("{previous}; {change}"),
            None => change,
        });
    }
    notes
}

impl Checker {
    /// Distribution advisories for `keys` (`(ecosystem, source package)`), from the offline
    /// database when one is given, else the OSV API; the keys that could not be checked, with
    /// why; where they came from.
    async fn distro_advisories(
        &self,
        keys: &[(String, String)],
    ) -> Result<(DistroIndex, BTreeMap<(String, String), Message>, String), AdvisoryError> {
        let config = &self.config.config.advisories;
        let path = self.advisory_db.clone().or_else(|| {
            (config.source == SourceName::Offline)
                .then(|| config.path.as_ref().map(|p| p.get_ref().into()))
                .flatten()
        });
        if let Some(path) = path {
            let source = crate::advisory::offline::open(&path)?;
            let batch = tokio::task::spawn_blocking(move || source.load()).await??;
            return Ok((
                DistroIndex::from_batch(&batch),
                BTreeMap::new(),
                format!("offline database {}", path.display()),
            ));
        }
        if config.source == SourceName::Off {
            return Err(AdvisoryError::Off);
        }
        let found = self.osv.lookup_in(keys).await;
        Ok((
            DistroIndex::from_batch(&found.records),
            found
                .failed
                .into_iter()
                .map(|(key, error)| (key, failure_message(error.as_ref())))
                .collect(),
            format!("OSV API at {}", self.osv.base()),
        ))
    }

    /// Read every image dependency of `manifests` (and the targets of the updates `findings`
    /// decided for them) and match their OS packages with advisories.
    pub async fn image_audit(&self, manifests: &[&Manifest], findings: &[Finding]) -> ImageAudit {
        let scanner = ImageScanner::new(self.images.oci.clone(), &self.pypi.http().config().cache);
        let updates: HashMap<(&Path, usize), &Finding> = findings
            .iter()
            .map(|f| ((f.file.as_path(), f.index), f))
            .collect();
        // Every (dependency, platform), with the references to read.
        struct Wanted<'a> {
            file: &'a Path,
            index: usize,
            manifest: &'a Manifest,
            platform: Platform,
            current: ScanKey,
            targets: Vec<(String, UpdateKind, ScanKey)>,
        }
        let mut wanted = Vec::new();
        for manifest in manifests {
            for (index, dependency) in manifest.dependencies.iter().enumerate() {
                let Some(image) = dependency.image() else {
                    continue;
                };
                if dependency.skip_reason.is_some() {
                    continue;
                }
                let reference = &image.reference;
                let current_ref = reference
                    .digest
                    .clone()
                    .or_else(|| reference.tag.clone())
                    .unwrap_or_else(|| "latest".into());
                let file = manifest.source.path();
                for platform in self.images.platforms_for(dependency) {
                    let key = |r: &str| {
                        (
                            reference.registry.clone(),
                            reference.repository.clone(),
                            r.to_owned(),
                            platform.to_string(),
                        )
                    };
                    let targets = updates
                        .get(&(file, index))
                        .map(|f| {
                            f.decision
                                .updates
                                .iter()
                                .filter_map(|u| {
                                    let target = target_of(&u.change)?;
                                    Some((u.proposed.clone(), u.kind, key(target)))
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    wanted.push(Wanted {
                        file,
                        index,
                        manifest,
                        current: key(&current_ref),
                        platform: platform.clone(),
                        targets,
                    });
                }
            }
        }
        let keys: BTreeSet<ScanKey> = wanted
            .iter()
            .flat_map(|w| std::iter::once(&w.current).chain(w.targets.iter().map(|t| &t.2)))
            .cloned()
            .collect();
        let scans: HashMap<ScanKey, Result<ImageScan, ScanError>> = futures::stream::iter(keys)
            .map(|key| {
                let scanner = scanner.clone();
                async move {
                    let platform = Platform::parse(&key.3).expect("platforms are parsed ones");
                    let result = scanner.scan(&key.0, &key.1, &key.2, &platform).await;
                    (key, result)
                }
            })
            .buffer_unordered(SCANS_AT_ONCE)
            .collect()
            .await;
        let advisory_keys: Vec<(String, String)> = scans
            .values()
            .filter_map(|s| s.as_ref().ok())
            .flat_map(image_vulns::advisory_keys)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let (index, failed, source) = if advisory_keys.is_empty() {
            (DistroIndex::new(), BTreeMap::new(), String::new())
        } else {
            match self.distro_advisories(&advisory_keys).await {
                Ok(found) => found,
                Err(why) => {
                    let why = crate::error::message(&why);
                    let failed = advisory_keys
                        .iter()
                        .map(|k| (k.clone(), why.clone()))
                        .collect();
                    (DistroIndex::new(), failed, String::new())
                }
            }
        };
        let matched: HashMap<&ScanKey, (ImageVulns, Option<Message>)> = scans
            .iter()
            .filter_map(|(key, scan)| {
                let scan = scan.as_ref().ok()?;
                let vulns = image_vulns::match_image(scan, &index);
                // A package whose advisories could not be fetched leaves the image unchecked.
                let missing: Vec<&Message> = image_vulns::advisory_keys(scan)
                    .iter()
                    .filter_map(|k| failed.get(k))
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let why = (!missing.is_empty()).then(|| {
                    Message::joined(missing, "; ")
                        .prefixed("advisories for its packages could not be fetched: ")
                });
                Some((key, (vulns, why)))
            })
            .collect();
        let mut audit = ImageAudit {
            images: Vec::new(),
            source,
        };
        for w in wanted {
            let dependency = &w.manifest.dependencies[w.index];
            let position = w.manifest.source.position(dependency.span.start);
            let mut entry = ImageEntry {
                file: w.file.to_path_buf(),
                index: w.index,
                line: position.line,
                column: position.column,
                name: dependency.name.clone(),
                current: dependency.current.clone(),
                platform: w.platform.to_string(),
                manifest: None,
                distribution: None,
                packages: 0,
                vulnerabilities: None,
                best_update: None,
                updates: Vec::new(),
                unchecked: None,
                layers: [0; 3],
                bytes_fetched: 0,
            };
            match &scans[&w.current] {
                Err(error) => entry.unchecked = Some(failure_message(error)),
                Ok(scan) => {
                    entry.manifest = Some(scan.manifest.clone());
                    entry.distribution = describe(scan);
                    entry.packages = scan.packages.len();
                    entry.layers = [scan.layers, scan.layers_fetched, scan.layers_cached];
                    entry.bytes_fetched = scan.bytes_fetched;
                    let (vulns, why) = &matched[&w.current];
                    entry.unchecked = why
                        .clone()
                        .or_else(|| vulns.unchecked.clone().map(Message::new));
                    for (proposed, kind, key) in &w.targets {
                        let (Ok(target), Some((target_vulns, None))) =
                            (&scans[key], matched.get(key))
                        else {
                            continue;
                        };
                        entry.updates.push(UpdateFixes {
                            proposed: proposed.clone(),
                            kind: *kind,
                            fixes: image_vulns::fixed_by(vulns, target_vulns, target),
                            remaining: target_vulns.cves().len(),
                        });
                    }
                    entry.best_update = entry
                        .updates
                        .iter()
                        .filter(|u| !u.fixes.is_empty())
                        .min_by_key(|u| u.remaining)
                        .cloned();
                    entry.vulnerabilities = Some(vulns.clone());
                }
            }
            audit.images.push(entry);
        }
        audit
            .images
            .sort_by(|a, b| (&a.file, a.line, &a.platform).cmp(&(&b.file, b.line, &b.platform)));
        audit
    }

    /// With `[images] scan`, make every image update that fixes OS vulnerabilities a security
    /// update (its CVEs in `fixes`), and keep what each fixes for pull-request bodies.
    pub(super) async fn image_security(&self, manifests: &[&Manifest], outcome: &mut Outcome) {
        if !self.config.config.images.scan {
            return;
        }
        let audit = self.image_audit(manifests, &outcome.findings).await;
        // Per dependency and proposed reference: the fixes over every platform.
        let mut fixes: BTreeMap<(PathBuf, usize, String), Vec<Fix>> = BTreeMap::new();
        for entry in &audit.images {
            if let Some(why) = &entry.unchecked {
                outcome.notes.push(why.clone().prefixed(&format!(
                    "{}:{} {} ({}) was not checked for OS vulnerabilities: ",
                    crate::text::shown(&entry.file),
                    entry.line,
                    crate::plan::display_name(&entry.name),
                    entry.platform
                )));
            }
            for update in &entry.updates {
                fixes
                    .entry((entry.file.clone(), entry.index, update.proposed.clone()))
                    .or_default()
                    .extend(update.fixes.iter().cloned());
            }
        }
        for finding in &mut outcome.findings {
            for update in &mut finding.decision.updates {
                let key = (finding.file.clone(), finding.index, update.proposed.clone());
                let Some(list) = fixes.get(&key).filter(|l| !l.is_empty()) else {
                    continue;
                };
                let cves: BTreeSet<&String> = list.iter().map(|f| &f.cve).collect();
                update.fixes = cves.iter().map(|c| (*c).clone()).collect();
                update.reason = format!(
                    "{}; fixes {} known {} in OS packages",
                    update.reason,
                    cves.len(),
                    if cves.len() == 1 {
                        "vulnerability"
                    } else {
                        "vulnerabilities"
                    }
                );
                outcome.image_fixes.extend(fix_notes(list));
            }
        }
        outcome.image_audit = Some(audit);
    }
}

impl Checker {
    /// `repin audit --images`: the image dependencies of `workspace` (files below `root` that
    /// the configuration does not exclude), their updates decided, then read and matched.
    pub async fn audit_images(
        &self,
        workspace: &crate::manifest::workspace::Workspace,
        root: &Path,
    ) -> ImageAudit {
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
        let mut outcome = Outcome::default();
        self.images.check(self, &manifests, &mut outcome).await;
        // An image whose tags could not be listed is still read as written (no updates).
        self.image_audit(&manifests, &outcome.findings).await
    }
}
