//! Which versions of a package an OSV `affected` entry covers, evaluated with PEP 440.
//!
//! An entry is compiled once ([`AffectedVersions::compile`]): every event and listed version is
//! parsed up front, so asking about many candidate releases costs only comparisons. The rules
//! follow the OSV schema's evaluation pseudocode: a version is affected when it is in the
//! `versions` list or inside any `ECOSYSTEM`/`SEMVER` range. `GIT` ranges hold commit hashes and
//! cannot be compared with PyPI versions; they are skipped, and records that only have `GIT`
//! ranges are matched through their `versions` list.
//!
//! Two choices go beyond the schema:
//!
//! - **Local versions.** As in PEP 440 specifier matching, a candidate's local label
//!   (`1.2+cu118`) is ignored when compared with a bound that has none: `1.2+cu118` is a build of
//!   `1.2`, so it is fixed by `fixed: 1.2`, affected by `last_affected: 1.2`, and matched by
//!   `1.2` in the `versions` list.
//! - **Unparseable versions** never panic and are reported as [`AffectedError`]s. The range is
//!   still used, erring towards "affected": a bad `introduced` counts as `0`, a bad `fixed`,
//!   `last_affected` or `limit` is dropped (so the affected span only grows). Missing a known
//!   vulnerability is worse than a false alarm. A bad entry in `versions` is skipped.

use std::cmp::Ordering;
use std::str::FromStr;

use pep440_rs::{Version, VersionParseError};

use super::model::{Affected, Event, EventKind, Range, RangeKind};

/// A part of an `affected` entry that could not be used as written. None of these stops the
/// entry from being evaluated; see the module documentation for how each is handled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AffectedError {
    /// An event's version is not a PEP 440 version.
    #[error(
        "Event `{kind}: {version}` of the {range} range is not a PEP 440 version and is {handling}"
    )]
    InvalidEventVersion {
        /// Which event.
        kind: EventKind,
        /// The text as written.
        version: String,
        /// The range type (`ECOSYSTEM`, `SEMVER`).
        range: RangeKind,
        /// What was done instead: "treated as 0" or "ignored".
        handling: &'static str,
        /// Why it does not parse.
        #[source]
        source: VersionParseError,
    },
    /// An entry of the `versions` list is not a PEP 440 version.
    #[error("Listed version `{version}` is not a PEP 440 version and is ignored")]
    InvalidListedVersion {
        /// The text as written.
        version: String,
        /// Why it does not parse.
        #[source]
        source: VersionParseError,
    },
    /// A range type the OSV schema version repin knows does not define.
    #[error("Range type `{0}` is unknown and is ignored")]
    UnknownRangeType(String),
    /// A range with no `introduced` event, which the schema forbids; it affects nothing.
    #[error("The {0} range has no `introduced` event and is ignored")]
    NoIntroduced(RangeKind),
}

/// One end of an interval.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Bound {
    /// `introduced: "0"`: before every version.
    Start,
    /// A version.
    At(Version),
    /// `limit: "*"`: after every version.
    End,
}

impl Bound {
    /// How the candidate compares with this bound (local labels handled as the module says):
    /// `Less` when the candidate is below the bound.
    fn place(&self, candidate: &Candidate<'_>) -> Ordering {
        match self {
            Bound::Start => Ordering::Greater,
            Bound::End => Ordering::Less,
            Bound::At(bound) => candidate.for_bound(bound).cmp(bound),
        }
    }

    fn sort_key(&self) -> (u8, Option<&Version>) {
        match self {
            Bound::Start => (0, None),
            Bound::At(v) => (1, Some(v)),
            Bound::End => (2, None),
        }
    }
}

/// A candidate version with its local label stripped once, not once per comparison.
struct Candidate<'v> {
    full: &'v Version,
    public: Option<Version>,
}

impl<'v> Candidate<'v> {
    fn new(full: &'v Version) -> Self {
        let public = full.is_local().then(|| full.clone().without_local());
        Candidate { full, public }
    }

    /// The candidate as compared with `bound`: without its local label unless the bound has one.
    fn for_bound(&self, bound: &Version) -> &Version {
        match &self.public {
            Some(public) if !bound.is_local() => public,
            _ => self.full,
        }
    }
}

/// A compiled `ECOSYSTEM` or `SEMVER` range: events sorted by version, and its limits.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CompiledRange {
    /// `introduced`, `fixed` and `last_affected` events, sorted by version (stable, so events at
    /// the same version keep the record's order).
    events: Vec<(EventKind, Bound)>,
    /// `limit` events; empty means no limit.
    limits: Vec<Bound>,
}

impl CompiledRange {
    fn compile(range: &Range, problems: &mut Vec<AffectedError>) -> Option<Self> {
        let mut events = Vec::with_capacity(range.events.len());
        let mut limits = Vec::new();
        for Event { kind, version } in &range.events {
            let parsed = parse_bound(*kind, version).map_err(|source| {
                let handling = match kind {
                    EventKind::Introduced => "treated as 0",
                    _ => "ignored",
                };
                problems.push(AffectedError::InvalidEventVersion {
                    kind: *kind,
                    version: version.clone(),
                    range: range.kind.clone(),
                    handling,
                    source,
                });
            });
            let bound = match (parsed, kind) {
                (Ok(bound), _) => bound,
                // Unknown start: assume from the start rather than miss affected versions.
                (Err(()), EventKind::Introduced) => Bound::Start,
                (Err(()), _) => continue,
            };
            match kind {
                EventKind::Limit => limits.push(bound),
                _ => events.push((*kind, bound)),
            }
        }
        if !events.iter().any(|(k, _)| *k == EventKind::Introduced) {
            problems.push(AffectedError::NoIntroduced(range.kind.clone()));
            return None;
        }
        events.sort_by(|a, b| a.1.sort_key().cmp(&b.1.sort_key()));
        Some(CompiledRange { events, limits })
    }

    /// The schema's `IncludedInRanges` for one range.
    fn contains(&self, candidate: &Candidate<'_>) -> bool {
        let before_limits = self.limits.is_empty()
            || self
                .limits
                .iter()
                .any(|limit| limit.place(candidate) == Ordering::Less);
        if !before_limits {
            return false;
        }
        let mut affected = false;
        for (kind, bound) in &self.events {
            let place = bound.place(candidate);
            match kind {
                EventKind::Introduced if place != Ordering::Less => affected = true,
                EventKind::Fixed if place != Ordering::Less => affected = false,
                EventKind::LastAffected if place == Ordering::Greater => affected = false,
                _ => {}
            }
        }
        affected
    }
}

fn parse_bound(kind: EventKind, text: &str) -> Result<Bound, VersionParseError> {
    let text = text.trim();
    match (kind, text) {
        (EventKind::Introduced, "0") => Ok(Bound::Start),
        (EventKind::Limit, "*") => Ok(Bound::End),
        _ => Version::from_str(text).map(Bound::At),
    }
}

/// The versions of one package an `affected` entry covers, ready to evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffectedVersions {
    ranges: Vec<CompiledRange>,
    /// The `versions` list, parsed and sorted.
    listed: Vec<Version>,
    /// `fixed` events of the evaluated ranges, sorted and deduplicated.
    fixed: Vec<Version>,
    /// Whether the entry had `GIT` ranges (kept only to explain a match through the list).
    has_git_ranges: bool,
}

impl AffectedVersions {
    /// Compile an `affected` entry. Problems are appended to `problems`; the result is always
    /// usable (possibly matching nothing).
    pub fn compile(affected: &Affected, problems: &mut Vec<AffectedError>) -> Self {
        let mut ranges = Vec::new();
        let mut has_git_ranges = false;
        for range in &affected.ranges {
            match &range.kind {
                RangeKind::Ecosystem | RangeKind::Semver => {
                    ranges.extend(CompiledRange::compile(range, problems));
                }
                RangeKind::Git => has_git_ranges = true,
                RangeKind::Other(kind) => {
                    problems.push(AffectedError::UnknownRangeType(kind.clone()));
                }
            }
        }
        let mut listed = Vec::with_capacity(affected.versions.len());
        for text in &affected.versions {
            match Version::from_str(text.trim()) {
                Ok(version) => listed.push(version),
                Err(source) => problems.push(AffectedError::InvalidListedVersion {
                    version: text.clone(),
                    source,
                }),
            }
        }
        listed.sort();
        listed.dedup();
        let mut fixed: Vec<Version> = ranges
            .iter()
            .flat_map(|r| &r.events)
            .filter_map(|(kind, bound)| match (kind, bound) {
                (EventKind::Fixed, Bound::At(v)) => Some(v.clone()),
                _ => None,
            })
            .collect();
        fixed.sort();
        fixed.dedup();
        AffectedVersions {
            ranges,
            listed,
            fixed,
            has_git_ranges,
        }
    }

    /// Whether `version` is affected: listed in `versions`, or inside an `ECOSYSTEM` or `SEMVER`
    /// range.
    pub fn is_affected(&self, version: &Version) -> bool {
        let candidate = Candidate::new(version);
        self.listed_contains(&candidate) || self.ranges_contain(&candidate)
    }

    /// Whether `version` is inside an `ECOSYSTEM` or `SEMVER` range (the list aside).
    pub fn in_ranges(&self, version: &Version) -> bool {
        self.ranges_contain(&Candidate::new(version))
    }

    /// Whether `version` is in the `versions` list (the ranges aside).
    pub fn is_listed(&self, version: &Version) -> bool {
        self.listed_contains(&Candidate::new(version))
    }

    fn ranges_contain(&self, candidate: &Candidate<'_>) -> bool {
        self.ranges.iter().any(|r| r.contains(candidate))
    }

    fn listed_contains(&self, candidate: &Candidate<'_>) -> bool {
        // The list is sorted by full version; a public candidate equals a listed version without
        // a local label, so search for both forms.
        let found = |v: &Version| self.listed.binary_search(v).is_ok();
        found(candidate.full) || candidate.public.as_ref().is_some_and(found)
    }

    /// Every `fixed` version of the evaluated ranges, lowest first (for display; choosing the
    /// version to move to is `decide`'s job).
    pub fn fixed_versions(&self) -> &[Version] {
        &self.fixed
    }

    /// The `versions` list as parsed (entries that do not parse are left out), lowest first.
    pub fn listed_versions(&self) -> &[Version] {
        &self.listed
    }

    /// Whether the entry has `GIT` ranges (which are never evaluated).
    pub fn has_git_ranges(&self) -> bool {
        self.has_git_ranges
    }

    /// Whether nothing in the entry can ever match: no usable range and an empty list.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty() && self.listed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisory::model::OsvRecord;

    fn v(text: &str) -> Version {
        Version::from_str(text).unwrap()
    }

    /// Compile the first `affected` entry of a YAML record given as its `affected` block.
    fn compile_yaml(affected_block: &str) -> (AffectedVersions, Vec<AffectedError>) {
        let record = OsvRecord::from_yaml(&format!("id: TEST-1\naffected:\n{affected_block}"))
            .expect("test record parses");
        let mut problems = Vec::new();
        let compiled = AffectedVersions::compile(&record.affected[0], &mut problems);
        (compiled, problems)
    }

    fn compile_json(affected: &str) -> (AffectedVersions, Vec<AffectedError>) {
        let record =
            OsvRecord::from_json(&format!(r#"{{"id": "TEST-1", "affected": [{affected}]}}"#))
                .expect("test record parses");
        let mut problems = Vec::new();
        let compiled = AffectedVersions::compile(&record.affected[0], &mut problems);
        (compiled, problems)
    }

    /// Check every (version, expected) pair and report all mismatches at once.
    fn check(compiled: &AffectedVersions, table: &[(&str, bool)]) {
        let wrong: Vec<String> = table
            .iter()
            .filter(|(text, want)| compiled.is_affected(&v(text)) != *want)
            .map(|(text, want)| format!("{text}: expected affected={want}"))
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn introduced_zero_means_from_the_start() {
        let (c, problems) = compile_yaml(
            "- package: {ecosystem: PyPI, name: x}\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: '0'\n    - fixed: 2.3.3\n",
        );
        assert!(problems.is_empty());
        check(
            &c,
            &[
                ("0", true),
                ("0.0.1.dev0", true),
                ("2.2.5", true),
                ("2.3.3rc1", true),
                ("2.3.3", false),
                ("2.3.3.post1", false),
                ("3.0", false),
            ],
        );
        assert_eq!(c.fixed_versions(), [v("2.3.3")]);
    }

    #[test]
    fn introduced_zero_alone_affects_everything() {
        let (c, _) =
            compile_json(r#"{"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}"#);
        check(&c, &[("0.1", true), ("99.0", true), ("1.0a1", true)]);
        assert!(c.fixed_versions().is_empty());
    }

    #[test]
    fn several_introduced_fixed_pairs_in_one_range_listed_out_of_order() {
        // Django style: one pair per release branch. Listed out of order on purpose: the
        // events are sorted before the walk.
        let (c, problems) = compile_yaml(
            "- package: {ecosystem: PyPI, name: django}\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: '4.0'\n    - fixed: 4.1.9\n    - introduced: '3.2'\n    - fixed: 3.2.19\n    - introduced: '4.2'\n    - fixed: 4.2.1\n",
        );
        assert!(problems.is_empty());
        check(
            &c,
            &[
                ("3.1.14", false),
                ("3.2", true),
                ("3.2rc1", false),
                ("3.2.18", true),
                ("3.2.19", false),
                ("3.2.25", false),
                ("4.0", true),
                ("4.1.8", true),
                ("4.1.9", false),
                ("4.2a1", false),
                ("4.2", true),
                ("4.2.0", true),
                ("4.2.1", false),
                ("5.0", false),
            ],
        );
        assert_eq!(c.fixed_versions(), [v("3.2.19"), v("4.1.9"), v("4.2.1")]);
    }

    #[test]
    fn last_affected_is_inclusive() {
        let (c, _) = compile_json(
            r#"{"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"last_affected": "2.1.214"}]}]}"#,
        );
        check(
            &c,
            &[
                ("0.9", false),
                ("1.0", true),
                ("2.1.214", true),
                ("2.1.214.post1", false),
                ("2.1.215", false),
            ],
        );
        assert!(c.fixed_versions().is_empty());
    }

    #[test]
    fn limit_is_exclusive_and_star_is_infinity() {
        let (c, _) = compile_json(
            r#"{"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"limit": "2.0"}]}]}"#,
        );
        check(
            &c,
            &[
                ("1.9.9", true),
                ("2.0rc1", true),
                ("2.0", false),
                ("3.0", false),
            ],
        );

        let (c, _) = compile_json(
            r#"{"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"fixed": "1.5"}, {"limit": "*"}]}]}"#,
        );
        check(&c, &[("0.9", false), ("1.4", true), ("1.5", false)]);

        // Several limits: below any one of them is enough.
        let (c, _) = compile_json(
            r#"{"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"limit": "1.0"}, {"limit": "3.0"}]}]}"#,
        );
        check(&c, &[("0.5", true), ("2.0", true), ("3.0", false)]);
    }

    #[test]
    fn semver_ranges_are_evaluated_with_pep440() {
        // SemVer pre-releases (`-rc.1`) and build metadata (`+build`) read as PEP 440
        // pre-releases and local labels.
        let (c, problems) = compile_json(
            r#"{"ranges": [{"type": "SEMVER", "events": [{"introduced": "1.2.0-alpha.1"}, {"fixed": "1.4.0-rc.1"}]}]}"#,
        );
        assert!(problems.is_empty(), "{problems:?}");
        check(
            &c,
            &[
                ("1.1.9", false),
                ("1.2.0a0", false),
                ("1.2.0a1", true),
                ("1.3.9", true),
                ("1.4.0rc0", true),
                ("1.4.0rc1", false),
                ("1.4.0", false),
            ],
        );
        assert_eq!(c.fixed_versions(), [v("1.4.0rc1")]);
    }

    #[test]
    fn versions_list_only() {
        let (c, problems) = compile_yaml(
            "- package: {ecosystem: PyPI, name: x}\n  versions:\n  - '0.10'\n  - 1.0.1\n  - 2.0\n",
        );
        assert!(problems.is_empty());
        check(
            &c,
            &[
                ("0.10", true),
                ("0.10.0", true), // PEP 440: 0.10 == 0.10.0
                ("0.1", false),   // what a float-typed `0.10` would have become
                ("1.0.1", true),
                ("1.0.2", false),
                ("2.0", true),
                ("2", true),
                ("2.0.1", false),
            ],
        );
        assert!(c.fixed_versions().is_empty());
    }

    #[test]
    fn git_ranges_are_not_evaluated_and_the_list_is_used() {
        let (c, problems) = compile_yaml(
            "- package: {ecosystem: PyPI, name: x}\n  ranges:\n  - type: GIT\n    repo: https://example.com/x\n    events:\n    - introduced: '0'\n    - fixed: f3c803b3ade485a45f12b6d6617595350c0f03e2\n  versions:\n  - 1.0.0\n  - 1.1.0\n",
        );
        // Commit hashes in GIT ranges are not reported as bad versions: they are not versions.
        assert!(problems.is_empty(), "{problems:?}");
        assert!(c.has_git_ranges());
        check(
            &c,
            &[
                ("1.0.0", true),
                ("1.1", true),
                ("1.0.5", false),
                ("2.0", false),
                ("0.1", false),
            ],
        );
        assert!(c.fixed_versions().is_empty());
    }

    #[test]
    fn git_and_ecosystem_ranges_with_a_list_are_a_union() {
        // The schema: affected if listed OR inside a range. The list may hold versions the range
        // misses (django PYSEC-2023-61 lists 3.2rc1 although its range starts at 3.2).
        let (c, _) = compile_yaml(
            "- package: {ecosystem: PyPI, name: x}\n  ranges:\n  - type: GIT\n    repo: https://example.com/x\n    events:\n    - introduced: '0'\n    - fixed: abc\n  - type: ECOSYSTEM\n    events:\n    - introduced: '3.2'\n    - fixed: 3.2.19\n  versions:\n  - 3.2rc1\n  - '3.2'\n",
        );
        check(
            &c,
            &[
                ("3.2rc1", true),
                ("3.2b1", false),
                ("3.2.5", true),
                ("3.2.19", false),
            ],
        );
    }

    #[test]
    fn pre_release_fixed_version() {
        // django PYSEC-2016-2 style: the 1.10 branch was fixed in its first release candidate.
        let (c, _) = compile_yaml(
            "- package: {ecosystem: PyPI, name: django}\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: '0'\n    - fixed: 1.8.14\n    - introduced: '1.9'\n    - fixed: 1.9.8\n    - introduced: 1.10a0\n    - fixed: 1.10rc1\n",
        );
        check(
            &c,
            &[
                ("1.8.13", true),
                ("1.8.14", false),
                ("1.9a1", false), // before 1.9 (introduced) and after 1.8.14 (fixed)
                ("1.9", true),
                ("1.9.7", true),
                ("1.9.8", false),
                ("1.10.dev1", false),
                ("1.10a0", true),
                ("1.10b1", true),
                ("1.10rc1", false),
                ("1.10", false),
                ("1.10.1", false),
            ],
        );
        assert_eq!(c.fixed_versions(), [v("1.8.14"), v("1.9.8"), v("1.10rc1")]);
    }

    #[test]
    fn local_versions_are_compared_by_their_public_part() {
        let (c, _) = compile_json(
            r#"{"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"fixed": "1.2"}]},
                           {"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"last_affected": "2.1"}]}],
                "versions": ["3.0"]}"#,
        );
        check(
            &c,
            &[
                ("1.0+local", true),
                ("1.1+cu118", true),
                ("1.2+local", false), // a build of the fixed 1.2
                ("2.1+local", true),  // a build of the last affected 2.1
                ("2.1.1+local", false),
                ("3.0+local", true), // listed 3.0
                ("0.9+local", false),
            ],
        );
        // A bound that has a local label itself is compared in full.
        let (c, _) = compile_json(
            r#"{"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2+patched"}]}]}"#,
        );
        check(
            &c,
            &[("1.2", true), ("1.2+patched", false), ("1.2+zzz", false)],
        );
    }

    #[test]
    fn unparseable_versions_are_reported_and_handled_towards_affected() {
        let (c, problems) = compile_yaml(
            "- package: {ecosystem: PyPI, name: paramiko}\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: not-a-version\n    - fixed: also bad\n    - introduced: '3.0'\n    - fixed: 3.1\n    - limit: nope\n  versions:\n  - 0.1-bulbasaur\n  - 0.9\n",
        );
        let texts: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            texts,
            [
                "Event `introduced: not-a-version` of the ECOSYSTEM range is not a PEP 440 version and is treated as 0",
                "Event `fixed: also bad` of the ECOSYSTEM range is not a PEP 440 version and is ignored",
                "Event `limit: nope` of the ECOSYSTEM range is not a PEP 440 version and is ignored",
                "Listed version `0.1-bulbasaur` is not a PEP 440 version and is ignored",
            ]
        );
        // introduced → 0 and the bad fixed dropped: everything below 3.1 is affected.
        check(
            &c,
            &[
                ("0.1", true),
                ("2.9", true),
                ("3.0.5", true),
                ("3.1", false),
            ],
        );
        assert_eq!(c.listed_versions(), [v("0.9")]);
    }

    #[test]
    fn ranges_without_introduced_and_unknown_types_match_nothing() {
        let (c, problems) = compile_json(
            r#"{"ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": "1.0"}]},
                           {"type": "NEW_KIND", "events": [{"introduced": "0"}]}]}"#,
        );
        assert_eq!(
            problems,
            [
                AffectedError::NoIntroduced(RangeKind::Ecosystem),
                AffectedError::UnknownRangeType("NEW_KIND".into()),
            ]
        );
        assert!(c.is_empty());
        check(&c, &[("0.1", false), ("1.0", false)]);
    }
}
