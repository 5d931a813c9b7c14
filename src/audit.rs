//! `repin audit`'s findings: every Python pin a known advisory affects, with the version that
//! fixes it, and every package that could not be checked (never reported as clean).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::advisory::{AdvisoryIndex, Rating};
use crate::decide::python::Release;
use crate::decide::security::{self, Finding};
use crate::decide::{Context, Policy};
use crate::manifest::workspace::Workspace;
use crate::manifest::{Dependency, DependencyDetail};
use crate::vocab::Message;

/// A vulnerable pin.
#[derive(Debug, Clone, Serialize)]
pub struct Vulnerability {
    /// The manifest.
    pub file: PathBuf,
    /// 1-based line of the pin.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The normalised package name.
    pub name: String,
    /// The version checked (the pin, or what a range installs today).
    pub version: String,
    /// The advisories affecting it.
    pub advisories: Vec<Finding>,
    /// The lowest (or highest, by configuration) release free of every advisory, if any.
    pub fix_version: Option<String>,
    /// Why there is none, when there is none (null otherwise).
    pub no_fix: Option<String>,
    /// When the fix version comes from the advisories alone because the index lookup that would
    /// confirm it (not yanked, installable on the target Python) failed: why it failed, with
    /// its hints (serialised as `{"message": text, "hints": [...]}`).
    pub fix_unconfirmed: Option<Message>,
}

impl Vulnerability {
    /// The worst rating among its advisories.
    pub fn severity(&self) -> Rating {
        security::worst(&self.advisories)
    }

    /// How the fix is told: `fix: 2.0`, `fix: 2.0 (unconfirmed: ...)`, `no fix: ...`.
    pub fn fix_text(&self) -> String {
        match (&self.fix_version, &self.fix_unconfirmed, &self.no_fix) {
            (Some(f), None, _) => format!("fix: {f}"),
            (Some(f), Some(why), _) => format!(
                "fix: {f} (unconfirmed: the index could not be asked whether it is installable: {why})"
            ),
            (None, _, Some(why)) => format!("no fix: {why}"),
            (None, _, None) => String::new(),
        }
    }
}

/// A dependency that could not be checked.
#[derive(Debug, Clone)]
pub struct Unchecked {
    /// The manifest.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// The package.
    pub name: String,
    /// Why, and what to do about it.
    pub reason: Message,
}

impl Serialize for Unchecked {
    /// `file`, `line`, `name`, the reason's text as `reason` and its `hints` beside it, as
    /// `check`'s JSON has them for a dependency held back.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Unchecked", 5)?;
        s.serialize_field("file", &self.file)?;
        s.serialize_field("line", &self.line)?;
        s.serialize_field("name", &self.name)?;
        s.serialize_field("reason", &self.reason.text)?;
        s.serialize_field("hints", &self.reason.hints)?;
        s.end()
    }
}

/// The findings of an audit.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Vulnerable pins, by file and line.
    pub vulnerabilities: Vec<Vulnerability>,
    /// What could not be checked.
    pub unchecked: Vec<Unchecked>,
    /// How many Python dependencies were checked and found clean.
    pub clean: usize,
    /// One message per host that was down in this run, with why (the unchecked packages it
    /// caused only name it).
    pub hosts: Vec<crate::vocab::Message>,
}

/// What the audit knows besides the files: advisories (and packages whose advisories could not
/// be fetched), and the releases of packages that were looked up.
pub struct Inputs<'a> {
    /// Advisories by package.
    pub index: &'a AdvisoryIndex,
    /// Packages whose advisories could not be fetched, with why.
    pub failed: &'a BTreeMap<String, Message>,
    /// Releases by package name, for ranges and fix versions; a package missing here is
    /// judged from the advisories alone.
    pub releases: &'a BTreeMap<String, Vec<Release>>,
    /// Packages whose releases could not be looked up, with why: a fix named from the
    /// advisories alone is then unconfirmed.
    pub lookup_failures: &'a BTreeMap<String, Message>,
    /// The policy for a dependency (fix strategy, allowed versions).
    pub policy: &'a dyn Fn(&Dependency, &std::path::Path) -> Policy,
    /// Context (now; the Python for a file without a target).
    pub ctx: &'a Context,
    /// The target of each file: its Python is the one fixes must install on.
    pub targets: Option<&'a crate::target::Targets>,
}

/// When no index answered for a package, the releases the advisories themselves name: every
/// fixed version, which is enough to find the lowest release free of them all.
fn releases_from_advisories(index: &AdvisoryIndex, name: &str) -> Vec<Release> {
    let mut versions: Vec<pep440_rs::Version> = index
        .for_package(name)
        .iter()
        .flat_map(|a| a.fixed_versions().iter().cloned())
        .collect();
    versions.sort();
    versions.dedup();
    versions
        .into_iter()
        .map(|version| Release {
            version,
            yanked: false,
            requires_python: None,
            uploaded: None,
            hashes: Vec::new(),
            yanked_reason: None,
        })
        .collect()
}

/// Audit every Python dependency of `workspace`.
pub fn audit(workspace: &Workspace, inputs: &Inputs<'_>) -> Report {
    let mut report = Report::default();
    for manifest in &workspace.manifests {
        for (index, dependency) in manifest.dependencies.iter().enumerate() {
            let DependencyDetail::Python(requirement) = &dependency.detail else {
                continue;
            };
            // A pin repin cannot update may still be a vulnerable version: only skips that
            // leave the version unknown leave it out.
            if dependency.skip_reason.is_some_and(|r| !r.keeps_version())
                || (requirement.pin.is_none() && requirement.specifier.is_none())
            {
                continue;
            }
            let path = manifest.source.path();
            let p = manifest.source.position(dependency.span.start);
            if let Some(reason) = inputs.failed.get(&dependency.name) {
                report.unchecked.push(Unchecked {
                    file: path.to_path_buf(),
                    line: p.line,
                    name: dependency.name.clone(),
                    reason: reason.clone(),
                });
                continue;
            }
            let known = inputs.releases.get(&dependency.name);
            let lookup_failure = inputs.lookup_failures.get(&dependency.name);
            if requirement.pinned_version().is_none() && known.is_none() {
                report.unchecked.push(Unchecked {
                    file: path.to_path_buf(),
                    line: p.line,
                    name: dependency.name.clone(),
                    reason: match lookup_failure {
                        Some(why) => why
                            .clone()
                            .prefixed("a range: what it installs could not be looked up: "),
                        None => "a range: what it installs could not be looked up".into(),
                    },
                });
                continue;
            }
            let fallback;
            let releases = match known {
                Some(r) => r.as_slice(),
                None => {
                    fallback = releases_from_advisories(inputs.index, &dependency.name);
                    &fallback
                }
            };
            // Hashes are not needed to name a fix: judge without requiring them.
            let mut unhashed = dependency.clone();
            if let DependencyDetail::Python(r) = &mut unhashed.detail {
                r.hashes.clear();
            }
            let policy = (inputs.policy)(dependency, path);
            let assessment = security::assess(
                &unhashed,
                releases,
                inputs.index.for_package(&dependency.name),
                &policy,
                &Context {
                    now: inputs.ctx.now,
                    python: inputs
                        .targets
                        .and_then(|t| t.of_dependency(manifest, index))
                        .map(|t| t.python.clone())
                        .or_else(|| inputs.ctx.python.clone()),
                },
            );
            if assessment.findings.is_empty() {
                report.clean += 1;
                continue;
            }
            report.vulnerabilities.push(Vulnerability {
                file: path.to_path_buf(),
                line: p.line,
                column: p.column,
                name: dependency.name.clone(),
                version: assessment.version.clone().unwrap_or_default(),
                fix_version: assessment.update.as_ref().map(|u| match &u.change {
                    crate::manifest::edit::Change::PythonVersion { version, .. } => version.clone(),
                    _ => u.proposed.clone(),
                }),
                no_fix: assessment.no_fix.clone(),
                fix_unconfirmed: match (&assessment.update, known, lookup_failure) {
                    (Some(_), None, Some(why)) => Some(why.clone()),
                    _ => None,
                },
                advisories: assessment.findings,
            });
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisory::OsvRecord;
    use crate::manifest::{ManifestKind, parse};
    use crate::text::{Encoding, SourceFile};

    fn workspace(text: &str) -> Workspace {
        Workspace {
            manifests: vec![parse(
                SourceFile::from_text("requirements.txt", Encoding::Utf8, text.into()),
                ManifestKind::Requirements,
            )],
            ..Workspace::default()
        }
    }

    #[test]
    fn reports_vulnerable_pins_unchecked_packages_and_counts_clean_ones() {
        let index = AdvisoryIndex::from_records([OsvRecord::from_json(
            r#"{"id":"PYSEC-1","aliases":["CVE-2023-1"],"summary":"Bad thing","database_specific":{"severity":"HIGH"},"affected":[{"package":{"ecosystem":"PyPI","name":"flask"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.2.5"}]}]}]}"#,
        )
        .unwrap()]);
        let failed = BTreeMap::from([(
            "requests".to_owned(),
            Message::new("OSV answered HTTP 500").hint("run again later"),
        )]);
        let releases = BTreeMap::new();
        let lookup_failures = BTreeMap::new();
        let ctx = Context::default();
        let policy = |_: &Dependency, _: &std::path::Path| Policy::default();
        let inputs = Inputs {
            index: &index,
            failed: &failed,
            releases: &releases,
            lookup_failures: &lookup_failures,
            policy: &policy,
            ctx: &ctx,
            targets: None,
        };
        let report = audit(
            &workspace(
                "flask==2.2.2 --hash=sha256:00\nrequests==2.31.0\njinja2==3.1.6\nclick>=8\n",
            ),
            &inputs,
        );
        assert_eq!(report.vulnerabilities.len(), 1);
        let v = &report.vulnerabilities[0];
        assert_eq!(
            (v.name.as_str(), v.version.as_str(), v.line),
            ("flask", "2.2.2", 1)
        );
        // No index was asked: the fix comes from the advisories' own fixed versions.
        assert_eq!(v.fix_version.as_deref(), Some("2.2.5"));
        assert_eq!(v.fix_unconfirmed, None);
        assert_eq!(v.fix_text(), "fix: 2.2.5");
        assert_eq!(v.severity(), Rating::High);
        assert_eq!(v.advisories[0].aliases, vec!["CVE-2023-1"]);
        assert_eq!(
            report
                .unchecked
                .iter()
                .map(|u| u.name.as_str())
                .collect::<Vec<_>>(),
            vec!["requests", "click"]
        );
        // The failure's advice travels as hints, not in the reason's text.
        assert_eq!(report.unchecked[0].reason.text, "OSV answered HTTP 500");
        assert_eq!(report.unchecked[0].reason.hints, ["run again later"]);
        assert_eq!(report.clean, 1);
    }

    #[test]
    fn a_pin_installed_with_no_index_is_still_audited() {
        let index = AdvisoryIndex::from_records([OsvRecord::from_json(
            r#"{"id":"PYSEC-3","affected":[{"package":{"ecosystem":"PyPI","name":"flask"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.2.5"}]}]}]}"#,
        )
        .unwrap()]);
        let (failed, releases, lookup_failures) =
            (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
        let ctx = Context::default();
        let policy = |_: &Dependency, _: &std::path::Path| Policy::default();
        let inputs = Inputs {
            index: &index,
            failed: &failed,
            releases: &releases,
            lookup_failures: &lookup_failures,
            policy: &policy,
            ctx: &ctx,
            targets: None,
        };
        // pip reads no index here: the wheels come from --find-links, still flask 2.2.2.
        use crate::manifest::SkipReason;
        let ws = workspace("--no-index\n--find-links ./wheels\nflask==2.2.2\n./local-pkg\n");
        assert_eq!(
            ws.manifests[0].dependencies[0].skip_reason,
            Some(SkipReason::NoIndex)
        );
        let report = audit(&ws, &inputs);
        assert_eq!(report.vulnerabilities.len(), 1, "{report:?}");
        let v = &report.vulnerabilities[0];
        assert_eq!(
            (v.name.as_str(), v.version.as_str(), v.line),
            ("flask", "2.2.2", 3)
        );
        assert_eq!(v.fix_version.as_deref(), Some("2.2.5"));
        // A local path names no version: still left out.
        assert_eq!(report.clean, 0);
        assert!(report.unchecked.is_empty(), "{:?}", report.unchecked);
    }

    #[test]
    fn a_fix_the_index_could_not_confirm_says_so() {
        let index = AdvisoryIndex::from_records([OsvRecord::from_json(
            r#"{"id":"PYSEC-2","affected":[{"package":{"ecosystem":"PyPI","name":"victim"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.0"}]}]}]}"#,
        )
        .unwrap()]);
        let failed = BTreeMap::new();
        let releases = BTreeMap::new();
        let why = "Cannot look up `victim` on http://127.0.0.1:1/simple/";
        let failure = Message::new(why).hint("check the index URL");
        let lookup_failures = BTreeMap::from([("victim".to_owned(), failure.clone())]);
        let ctx = Context::default();
        let policy = |_: &Dependency, _: &std::path::Path| Policy::default();
        let inputs = Inputs {
            index: &index,
            failed: &failed,
            releases: &releases,
            lookup_failures: &lookup_failures,
            policy: &policy,
            ctx: &ctx,
            targets: None,
        };
        let report = audit(&workspace("victim==1.0\nvictim>=1\n"), &inputs);
        let v = &report.vulnerabilities[0];
        assert_eq!(v.fix_version.as_deref(), Some("2.0"));
        assert_eq!(v.fix_unconfirmed.as_ref(), Some(&failure));
        assert!(
            v.fix_text().starts_with("fix: 2.0 (unconfirmed: ") && v.fix_text().contains(why),
            "{}",
            v.fix_text()
        );
        // The range cannot be judged at all, and says why; the failure's hint stays a hint.
        assert_eq!(report.unchecked.len(), 1);
        let reason = &report.unchecked[0].reason;
        assert!(reason.text.ends_with(why), "{:?}", report.unchecked);
        assert_eq!(reason.hints, ["check the index URL"]);
        assert_eq!(
            serde_json::to_value(&report.unchecked[0]).unwrap()["hints"],
            serde_json::json!(["check the index URL"])
        );
    }
}
