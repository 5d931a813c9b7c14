//! Advisories by package: the view `decide` and the report ask questions of.
//!
//! An [`Advisory`] is one OSV record seen from one PyPI package: its `affected` entries for that
//! package are compiled once, its severity computed once. A record naming several PyPI packages
//! yields one advisory per package, sharing the record. The [`AdvisoryIndex`] holds them by
//! normalised package name, whichever source the records came from (an offline directory or
//! zip, or the OSV API): it is built from records, not from a source.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use pep440_rs::Version;

use super::RecordBatch;
use super::affected::{AffectedError, AffectedVersions};
use super::model::OsvRecord;
use super::severity::{Severity, SeverityError};
use crate::text::{Diagnostic, Severity as DiagnosticSeverity};
use crate::vocab::normalize_name;

/// Something in a record that could not be used as written; the advisory is still evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdvisoryProblem {
    /// A range or listed version.
    #[error(transparent)]
    Affected(#[from] AffectedError),
    /// A severity score.
    #[error(transparent)]
    Severity(#[from] SeverityError),
}

/// One OSV record as it concerns one PyPI package.
///
/// The package's `affected` entries are compiled (versions parsed) and its severity computed the
/// first time they are needed: an export of 15,000 records is mostly about packages a project
/// does not use, and compiling them all would cost more than parsing them.
#[derive(Debug, Clone)]
pub struct Advisory {
    record: Arc<OsvRecord>,
    package: String,
    origin: Option<Arc<Path>>,
    compiled: OnceLock<Compiled>,
}

/// What is computed from the record on first use.
#[derive(Debug, Clone)]
struct Compiled {
    affected: Vec<AffectedVersions>,
    fixed: Vec<Version>,
    severity: Option<Severity>,
    problems: Vec<AdvisoryProblem>,
}

impl Compiled {
    fn new(record: &OsvRecord, package: &str) -> Self {
        let entries: Vec<_> = record
            .affected
            .iter()
            .filter(|a| {
                a.package
                    .as_ref()
                    .is_some_and(|p| p.is_pypi() && normalize_name(&p.name) == package)
            })
            .collect();
        let mut affected_problems = Vec::new();
        let affected: Vec<AffectedVersions> = entries
            .iter()
            .map(|a| AffectedVersions::compile(a, &mut affected_problems))
            .collect();
        let (severity, severity_problems) = Severity::of_record(record, entries.iter().copied());
        let mut fixed: Vec<Version> = affected
            .iter()
            .flat_map(|a| a.fixed_versions().iter().cloned())
            .collect();
        fixed.sort();
        fixed.dedup();
        let problems = affected_problems
            .into_iter()
            .map(AdvisoryProblem::from)
            .chain(severity_problems.into_iter().map(AdvisoryProblem::from))
            .collect();
        Compiled {
            affected,
            fixed,
            severity,
            problems,
        }
    }
}

impl Advisory {
    /// The advisory `record` gives about `package` (any spelling; it is normalised). Only the
    /// record's `affected` entries for that PyPI package are used; with none, the advisory
    /// affects nothing.
    pub fn new(record: Arc<OsvRecord>, package: &str) -> Self {
        Advisory {
            record,
            package: normalize_name(package),
            origin: None,
            compiled: OnceLock::new(),
        }
    }

    /// The same advisory, noting the file (or URL) the record was read from.
    pub fn with_origin(mut self, origin: Arc<Path>) -> Self {
        self.origin = Some(origin);
        self
    }

    /// Where the record was read from, when known.
    pub fn origin(&self) -> Option<&Path> {
        self.origin.as_deref()
    }

    fn compiled(&self) -> &Compiled {
        self.compiled
            .get_or_init(|| Compiled::new(&self.record, &self.package))
    }

    /// The record's ID (`PYSEC-2023-221`).
    pub fn id(&self) -> &str {
        &self.record.id
    }

    /// The whole record.
    pub fn record(&self) -> &OsvRecord {
        &self.record
    }

    /// The record, shared.
    pub fn shared_record(&self) -> &Arc<OsvRecord> {
        &self.record
    }

    /// The package this advisory is about, normalised (PEP 503).
    pub fn package(&self) -> &str {
        &self.package
    }

    /// Other IDs of the same vulnerability (CVE, GHSA).
    pub fn aliases(&self) -> &[String] {
        &self.record.aliases
    }

    /// A one-line description: the summary, else the first line of the details.
    pub fn title(&self) -> Option<&str> {
        // Taken from the details when the record had none, as it was indexed.
        self.record.summary.as_deref()
    }

    /// The advisory's page on osv.dev.
    pub fn url(&self) -> String {
        format!("https://osv.dev/vulnerability/{}", self.record.id)
    }

    /// Whether the record was withdrawn; a withdrawn advisory affects nothing.
    pub fn is_withdrawn(&self) -> bool {
        self.record.is_withdrawn()
    }

    /// Whether `version` of the package is affected. Always false for a withdrawn advisory.
    pub fn is_affected(&self, version: &Version) -> bool {
        !self.is_withdrawn()
            && self
                .compiled()
                .affected
                .iter()
                .any(|a| a.is_affected(version))
    }

    /// Every `fixed` version of the package's ranges, lowest first and deduplicated (for
    /// display: "fixed in 2.2.5, 2.3.3").
    pub fn fixed_versions(&self) -> &[Version] {
        &self.compiled().fixed
    }

    /// The compiled `affected` entries for the package.
    pub fn entries(&self) -> &[AffectedVersions] {
        &self.compiled().affected
    }

    /// The severity, when the record gives a usable one.
    pub fn severity(&self) -> Option<&Severity> {
        self.compiled().severity.as_ref()
    }

    /// What in the record could not be used as written.
    pub fn problems(&self) -> &[AdvisoryProblem] {
        &self.compiled().problems
    }

    /// A warning naming the record's file (or its ID when the origin is unknown) that lists
    /// this advisory's problems, if it has any.
    pub fn problems_diagnostic(&self) -> Option<Diagnostic> {
        let problems = self.problems();
        if problems.is_empty() {
            return None;
        }
        let origin = self
            .origin
            .as_deref()
            .unwrap_or_else(|| Path::new(&self.record.id));
        let diagnostic = Diagnostic::file(
            origin,
            DiagnosticSeverity::Warning,
            format!(
                "Advisory {} for {} has data repin cannot use; the rest is evaluated",
                self.id(),
                self.package
            ),
        );
        Some(
            problems
                .iter()
                .fold(diagnostic, |d, p| d.caused_by(p.to_string())),
        )
    }
}

/// Advisories by normalised package name.
#[derive(Debug, Clone, Default)]
pub struct AdvisoryIndex {
    by_package: HashMap<String, Vec<Advisory>>,
    diagnostics: Vec<Diagnostic>,
}

impl AdvisoryIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// An index of `records` (from the OSV API, say), whose origin is unknown.
    pub fn from_records(records: impl IntoIterator<Item = OsvRecord>) -> Self {
        let mut index = Self::new();
        for record in records {
            index.append(record, None);
        }
        index.sort();
        index
    }

    /// An index of what a source loaded, keeping its diagnostics.
    pub fn from_batch(batch: RecordBatch) -> Self {
        let mut index = Self::new();
        index.add_batch(batch);
        index
    }

    /// Add what a source loaded, keeping its diagnostics.
    pub fn add_batch(&mut self, batch: RecordBatch) {
        self.diagnostics.extend(batch.diagnostics);
        for loaded in batch.records {
            self.append(loaded.record, Some(&loaded.origin));
        }
        self.sort();
    }

    /// Add one record under every PyPI package it names. `origin` is where it was read from, for
    /// warnings about data that cannot be used ([`AdvisoryIndex::warnings_for`]). A record with the ID of one already held for
    /// the same package replaces it when its `modified` time is later (the same advisory from
    /// two sources is held once).
    pub fn insert(&mut self, record: OsvRecord, origin: Option<&Path>) {
        for advisory in Self::advisories(record, origin) {
            self.push(advisory);
        }
    }

    /// One advisory per PyPI package `record` names, its words made plain first.
    fn advisories(record: OsvRecord, origin: Option<&Path>) -> impl Iterator<Item = Advisory> {
        let record = plain(record);
        let mut packages: Vec<String> = record
            .affected
            .iter()
            .filter_map(|a| a.package.as_ref())
            .filter(|p| p.is_pypi())
            .map(|p| normalize_name(&p.name))
            .collect();
        packages.sort();
        packages.dedup();
        let record = Arc::new(record);
        let origin: Option<Arc<Path>> = origin.map(Arc::from);
        packages.into_iter().map(move |package| Advisory {
            record: Arc::clone(&record),
            package,
            origin: origin.clone(),
            compiled: OnceLock::new(),
        })
    }

    /// Add without keeping the lists sorted; [`AdvisoryIndex::sort`] must follow. Sorting once
    /// after a batch instead of inserting in place keeps loading 15,000 records linear.
    fn append(&mut self, record: OsvRecord, origin: Option<&Path>) {
        for advisory in Self::advisories(record, origin) {
            self.by_package
                .entry(advisory.package.clone())
                .or_default()
                .push(advisory);
        }
    }

    /// Sort every list by ID and keep one advisory per ID: the newest by `modified`, the first
    /// added among equals (what [`AdvisoryIndex::push`] does one at a time).
    fn sort(&mut self) {
        for list in self.by_package.values_mut() {
            list.sort_by(|a, b| {
                a.id()
                    .cmp(b.id())
                    .then_with(|| b.record.modified.cmp(&a.record.modified))
            });
            list.dedup_by(|later, kept| later.id() == kept.id());
        }
    }

    /// Add an advisory already built (by a source that compiles in parallel, say).
    pub fn push(&mut self, advisory: Advisory) {
        let list = self.by_package.entry(advisory.package.clone()).or_default();
        // Kept sorted by ID so the order does not depend on the order records were read in.
        match list.binary_search_by(|a| a.id().cmp(advisory.id())) {
            Ok(at) => {
                if advisory.record.modified > list[at].record.modified {
                    list[at] = advisory;
                }
            }
            Err(at) => list.insert(at, advisory),
        }
    }

    /// Every advisory about `package` (any spelling), withdrawn ones included, sorted by ID.
    pub fn for_package(&self, package: &str) -> &[Advisory] {
        self.by_package
            .get(&normalize_name(package))
            .map_or(&[], Vec::as_slice)
    }

    /// The advisories that affect `version` of `package`, sorted by ID; withdrawn advisories
    /// never do.
    pub fn affecting(&self, package: &str, version: &Version) -> Vec<&Advisory> {
        self.for_package(package)
            .iter()
            .filter(|a| a.is_affected(version))
            .collect()
    }

    /// The packages with at least one advisory, normalised, in no particular order.
    pub fn packages(&self) -> impl Iterator<Item = &str> {
        self.by_package.keys().map(String::as_str)
    }

    /// Every advisory, package by package.
    pub fn iter(&self) -> impl Iterator<Item = &Advisory> {
        self.by_package.values().flatten()
    }

    /// How many advisories the index holds (a record about two packages counts twice).
    pub fn len(&self) -> usize {
        self.by_package.values().map(Vec::len).sum()
    }

    /// Whether the index holds no advisory.
    pub fn is_empty(&self) -> bool {
        self.by_package.is_empty()
    }

    /// Records that could not be read (and were skipped), in load order.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// Warnings about data in `package`'s advisories that could not be used as written (a
    /// version that is not PEP 440, a malformed CVSS vector), one per advisory, sorted by ID.
    /// Asked per package so that a run is not flooded with warnings about packages it does not
    /// use.
    pub fn warnings_for(&self, package: &str) -> Vec<Diagnostic> {
        self.for_package(package)
            .iter()
            .filter_map(Advisory::problems_diagnostic)
            .collect()
    }
}

/// `record` with the words repin shows on one printable line each: its ID, aliases and summary
/// (taken from the first line of the details when it has none). An advisory service is a
/// server like any other: its words reach terminals, GitHub Actions' log (where a line of its
/// own starting with `::` is a workflow command) and GitHub.
fn plain(mut record: OsvRecord) -> OsvRecord {
    use crate::vocab::redact::plain_line;
    record.id = plain_line(&record.id, 200);
    for alias in &mut record.aliases {
        *alias = plain_line(alias, 200);
    }
    let summary = record
        .summary
        .as_deref()
        .or_else(|| record.details.as_deref().and_then(|d| d.lines().next()))
        .map(|s| plain_line(s, 500))
        .filter(|s| !s.is_empty());
    record.summary = summary;
    record
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::advisory::severity::Rating;

    fn v(text: &str) -> Version {
        Version::from_str(text).unwrap()
    }

    fn yaml(text: &str) -> OsvRecord {
        OsvRecord::from_yaml(text).unwrap()
    }

    fn ids(advisories: &[&Advisory]) -> Vec<String> {
        advisories.iter().map(|a| a.id().to_owned()).collect()
    }

    const FLASK: &str = "id: PYSEC-2023-62\nmodified: '2023-06-01T00:00:00Z'\nsummary: Session cookie disclosure\ndatabase_specific: {severity: HIGH}\naffected:\n- package: {ecosystem: PyPI, name: Flask}\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: '0'\n    - fixed: 2.2.5\n    - introduced: 2.3.0\n    - fixed: 2.3.2\n";

    #[test]
    fn an_advisorys_words_are_indexed_as_plain_lines() {
        // An advisory service's ID, alias and summary reach terminals and GitHub Actions' log,
        // where a line of its own starting with `::` is a workflow command.
        let hostile = r#"{"id": "GHSA-1\n::add-mask::x", "aliases": ["CVE-1\r\n::stop-commands::t"],
            "details": "First\u001b[2J line\nsecond line",
            "affected": [{"package": {"ecosystem": "PyPI", "name": "flask"}}]}"#;
        let index = AdvisoryIndex::from_records([OsvRecord::from_json(hostile).unwrap()]);
        let advisory = &index.for_package("flask")[0];
        assert_eq!(advisory.record().id, "GHSA-1 ::add-mask::x");
        assert_eq!(advisory.aliases(), ["CVE-1 ::stop-commands::t"]);
        assert_eq!(advisory.title(), Some("First line"));
    }

    #[test]
    fn index_by_normalised_name_and_evaluate() {
        let index = AdvisoryIndex::from_records([yaml(FLASK)]);
        assert_eq!(index.len(), 1);
        assert!(index.diagnostics().is_empty());
        // Any spelling of the name finds it.
        for name in ["flask", "Flask", "FLASK"] {
            assert_eq!(index.for_package(name).len(), 1, "{name}");
        }
        assert!(index.for_package("django").is_empty());
        assert_eq!(
            ids(&index.affecting("flask", &v("2.2.4"))),
            ["PYSEC-2023-62"]
        );
        assert!(index.affecting("flask", &v("2.2.5")).is_empty());
        assert_eq!(
            ids(&index.affecting("flask", &v("2.3.1"))),
            ["PYSEC-2023-62"]
        );
        assert!(index.affecting("flask", &v("2.3.2")).is_empty());
        let advisory = &index.for_package("flask")[0];
        assert_eq!(advisory.package(), "flask");
        assert_eq!(advisory.fixed_versions(), [v("2.2.5"), v("2.3.2")]);
        assert_eq!(advisory.title(), Some("Session cookie disclosure"));
        assert_eq!(advisory.severity().unwrap().rating, Rating::High);
        assert_eq!(
            advisory.url(),
            "https://osv.dev/vulnerability/PYSEC-2023-62"
        );
    }

    #[test]
    fn withdrawn_advisories_are_kept_but_never_match() {
        let record = yaml(
            "id: PYSEC-2022-43059\nwithdrawn: '2023-11-08T00:54:24Z'\naffected:\n- package: {ecosystem: PyPI, name: aiohttp}\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: '0'\n  versions: [3.8.1]\n",
        );
        let index = AdvisoryIndex::from_records([record]);
        let kept = index.for_package("aiohttp");
        assert_eq!(kept.len(), 1);
        assert!(kept[0].is_withdrawn());
        // The ranges alone would say affected; withdrawal overrides them.
        assert!(kept[0].entries()[0].is_affected(&v("3.8.1")));
        assert!(!kept[0].is_affected(&v("3.8.1")));
        assert!(index.affecting("aiohttp", &v("3.8.1")).is_empty());
    }

    #[test]
    fn a_record_about_several_packages_and_ecosystems() {
        let record = yaml(
            "id: GHSA-aaaa\naffected:\n- package: {ecosystem: PyPI, name: pkg_one}\n  ranges:\n  - type: ECOSYSTEM\n    events: [{introduced: '0'}, {fixed: '1.0'}]\n- package: {ecosystem: PyPI, name: Pkg.Two}\n  ranges:\n  - type: ECOSYSTEM\n    events: [{introduced: '2.0'}, {fixed: '2.5'}]\n- package: {ecosystem: npm, name: pkg-three}\n  ranges:\n  - type: SEMVER\n    events: [{introduced: '0'}]\n",
        );
        let index = AdvisoryIndex::from_records([record]);
        let mut packages: Vec<&str> = index.packages().collect();
        packages.sort();
        assert_eq!(packages, ["pkg-one", "pkg-two"]);
        // Each package is judged by its own entry only.
        assert_eq!(index.affecting("pkg-one", &v("0.5")).len(), 1);
        assert!(index.affecting("pkg-one", &v("2.1")).is_empty());
        assert_eq!(index.affecting("pkg_two", &v("2.1")).len(), 1);
        assert!(index.affecting("pkg-two", &v("0.5")).is_empty());
        assert!(index.for_package("pkg-three").is_empty());
        assert_eq!(index.for_package("pkg-two")[0].fixed_versions(), [v("2.5")]);
    }

    #[test]
    fn the_same_id_twice_keeps_the_newer_record() {
        let older = yaml(FLASK);
        let mut newer = older.clone();
        newer.modified = Some("2024-01-01T00:00:00Z".into());
        newer.summary = Some("newer".into());
        let mut index = AdvisoryIndex::from_records([older.clone(), newer.clone(), older.clone()]);
        assert_eq!(index.len(), 1);
        assert_eq!(index.for_package("flask")[0].title(), Some("newer"));
        // One at a time, the same rule.
        index.insert(older.clone(), None);
        assert_eq!(index.for_package("flask")[0].title(), Some("newer"));
        let mut index = AdvisoryIndex::new();
        index.insert(older, None);
        index.insert(newer, None);
        assert_eq!(index.len(), 1);
        assert_eq!(index.for_package("flask")[0].title(), Some("newer"));
    }

    #[test]
    fn advisories_are_sorted_by_id_whatever_the_insertion_order() {
        let mut b = yaml(FLASK);
        b.id = "PYSEC-B".into();
        let mut a = yaml(FLASK);
        a.id = "PYSEC-A".into();
        let index = AdvisoryIndex::from_records([b, a]);
        let listed: Vec<&str> = index
            .for_package("flask")
            .iter()
            .map(Advisory::id)
            .collect();
        assert_eq!(listed, ["PYSEC-A", "PYSEC-B"]);
    }

    #[test]
    fn unusable_data_becomes_one_warning_per_advisory() {
        let record = yaml(
            "id: PYSEC-2008-8\naffected:\n- package: {ecosystem: PyPI, name: paramiko}\n  ranges:\n  - type: ECOSYSTEM\n    events: [{introduced: '0'}, {fixed: '1.7.4'}]\n  versions: [0.1-bulbasaur, 0.9-doduo, 1.7.3]\nseverity:\n- {type: CVSS_V3, score: 'CVSS:3.1/AV:N'}\n",
        );
        let mut index = AdvisoryIndex::new();
        index.insert(record, Some(Path::new("vulns/paramiko/PYSEC-2008-8.yaml")));
        // Not a load diagnostic: the record was read; asked per package.
        assert!(index.diagnostics().is_empty());
        assert!(index.warnings_for("flask").is_empty());
        let warnings = index.warnings_for("Paramiko");
        let [diagnostic] = warnings.as_slice() else {
            panic!("expected one warning: {warnings:?}");
        };
        assert_eq!(
            diagnostic.to_string(),
            "vulns/paramiko/PYSEC-2008-8.yaml: warning: Advisory PYSEC-2008-8 for paramiko has data repin cannot use; the rest is evaluated\n  \
             Caused by: Listed version `0.1-bulbasaur` is not a PEP 440 version and is ignored\n  \
             Caused by: Listed version `0.9-doduo` is not a PEP 440 version and is ignored\n  \
             Caused by: CVSS vector `CVSS:3.1/AV:N` lacks the base metric AC"
        );
        // Still evaluated.
        assert_eq!(index.affecting("paramiko", &v("1.7.3")).len(), 1);
        assert!(index.affecting("paramiko", &v("1.7.4")).is_empty());
        assert_eq!(index.for_package("paramiko")[0].problems().len(), 3);
    }
}
