//! The resolver on in-memory sources: one table row per behaviour.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use pep508_rs::PackageName;

use super::*;
use crate::lock::MemorySource;
use crate::lock::source::{Candidate, PackageSource, SourceError};
use crate::registry::pypi::metadata::MetadataError;

fn request(requirements: &[&str]) -> Request {
    Request {
        label: "requirements.in".into(),
        requirements: requirements
            .iter()
            .map(|r| Direct {
                requirement: requirement(r),
                origin: "requirements.in".into(),
            })
            .collect(),
        constraints: Vec::new(),
        target: Target::linux_x86_64("3.12").unwrap(),
        prereleases: false,
        preferences: BTreeMap::new(),
    }
}

/// `name==version` of every package, sorted.
fn pins(resolution: &Resolution) -> Vec<String> {
    resolution
        .packages
        .iter()
        .map(|p| {
            let extras: Vec<String> = p.extras.iter().map(ToString::to_string).collect();
            if extras.is_empty() {
                format!("{}=={}", p.name, p.version)
            } else {
                format!("{}[{}]=={}", p.name, extras.join(","), p.version)
            }
        })
        .collect()
}

fn locked<'a>(resolution: &'a Resolution, name: &str) -> &'a Locked {
    let name = PackageName::from_str(name).unwrap();
    resolution.packages.iter().find(|p| p.name == name).unwrap()
}

fn conflict(error: LockError) -> (Vec<String>, Vec<String>) {
    match error {
        LockError::Conflict {
            explanation, hints, ..
        } => (explanation, hints),
        other => panic!("not a conflict: {other}"),
    }
}

/// A small web stack: flask needs werkzeug and jinja2, which needs markupsafe.
fn web() -> MemorySource {
    let mut s = MemorySource::new();
    s.add("flask", "2.3.0", &["werkzeug>=2.3", "jinja2>=3.1"]);
    s.add(
        "flask",
        "3.0.3",
        &[
            "werkzeug>=3.0",
            "jinja2>=3.1.2",
            "importlib-metadata>=3.6; python_version < \"3.10\"",
            "colorama; sys_platform == \"win32\"",
            "asgiref>=3.2; extra == \"async\"",
        ],
    );
    s.add("werkzeug", "2.3.8", &["markupsafe>=2.1.1"]);
    s.add("werkzeug", "3.0.1", &["markupsafe>=2.1.1"]);
    s.add("jinja2", "3.1.2", &["markupsafe>=2.0"]);
    s.add(
        "jinja2",
        "3.1.4",
        &["markupsafe>=2.0", "babel>=2.7; extra == \"i18n\""],
    );
    s.add("markupsafe", "2.1.5", &[]);
    s.add("asgiref", "3.8.1", &[]);
    s.add("babel", "2.15.0", &[]);
    s.add("colorama", "0.4.6", &[]);
    s.add("importlib-metadata", "7.0.0", &[]);
    s
}

#[test]
fn newest_versions_transitively_with_markers_for_linux() {
    let resolution = resolve(&web(), &request(&["flask"])).unwrap();
    assert_eq!(
        pins(&resolution),
        [
            "flask==3.0.3",
            "jinja2==3.1.4",
            "markupsafe==2.1.5",
            "werkzeug==3.0.1"
        ],
        "colorama (Windows) and importlib-metadata (Python < 3.10) are left out"
    );
    let via = |name: &str| -> Vec<String> {
        locked(&resolution, name)
            .via
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    assert_eq!(via("flask"), ["-r requirements.in"]);
    assert_eq!(via("markupsafe"), ["jinja2", "werkzeug"]);
    assert_eq!(locked(&resolution, "flask").hashes, ["sha256:flask-3.0.3"]);
}

#[test]
fn extras_are_virtual_packages_at_the_same_version() {
    let resolution = resolve(&web(), &request(&["flask[async]", "jinja2[i18n]<3.2"])).unwrap();
    assert_eq!(
        pins(&resolution),
        [
            "asgiref==3.8.1",
            "babel==2.15.0",
            "flask[async]==3.0.3",
            "jinja2[i18n]==3.1.4",
            "markupsafe==2.1.5",
            "werkzeug==3.0.1"
        ]
    );
    let via: Vec<String> = locked(&resolution, "asgiref")
        .via
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(via, ["flask"]);
    let jinja: Vec<String> = locked(&resolution, "jinja2")
        .via
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(jinja, ["-r requirements.in", "flask"]);

    // A package needing its own extra: the same version, once.
    let mut s = MemorySource::new();
    s.add(
        "tool",
        "1.0",
        &["tool[a]; extra == \"all\"", "x; extra == \"a\""],
    );
    s.add(
        "tool",
        "2.0",
        &["tool[a]; extra == \"all\"", "x; extra == \"a\""],
    );
    s.add("x", "1.0", &[]);
    let resolution = resolve(&s, &request(&["tool[all]"])).unwrap();
    assert_eq!(pins(&resolution), ["tool[a,all]==2.0", "x==1.0"]);
}

#[test]
fn requires_python_passes_over_the_newest_release() {
    let mut s = web();
    s.add("flask", "3.1.0", &["werkzeug>=3.1"]).requires_python = Some(">=3.13".parse().unwrap());
    let resolution = resolve(&s, &request(&["flask"])).unwrap();
    assert_eq!(locked(&resolution, "flask").version.to_string(), "3.0.3");

    // Requires-Python in the metadata counts too, when the index does not say.
    let mut s = web();
    s.add_metadata("Metadata-Version: 2.1\nName: flask\nVersion: 3.1.0\nRequires-Python: >=3.13\n");
    let resolution = resolve(&s, &request(&["flask"])).unwrap();
    assert_eq!(locked(&resolution, "flask").version.to_string(), "3.0.3");
}

#[test]
fn yanked_releases_only_when_pinned_exactly() {
    let mut s = web();
    s.add("werkzeug", "3.0.2", &["markupsafe>=2.1.1"]).yanked = true;
    let resolution = resolve(&s, &request(&["werkzeug"])).unwrap();
    assert_eq!(locked(&resolution, "werkzeug").version.to_string(), "3.0.1");
    let resolution = resolve(&s, &request(&["werkzeug==3.0.2"])).unwrap();
    assert_eq!(locked(&resolution, "werkzeug").version.to_string(), "3.0.2");
}

#[test]
fn pre_releases_only_when_asked() {
    let mut s = web();
    s.add("werkzeug", "3.1.0rc1", &["markupsafe>=2.1.1"]);
    let resolution = resolve(&s, &request(&["werkzeug"])).unwrap();
    assert_eq!(locked(&resolution, "werkzeug").version.to_string(), "3.0.1");
    let resolution = resolve(&s, &request(&["werkzeug>=3.1.0rc1"])).unwrap();
    assert_eq!(
        locked(&resolution, "werkzeug").version.to_string(),
        "3.1.0rc1"
    );
    let mut pre = request(&["werkzeug"]);
    pre.prereleases = true;
    let resolution = resolve(&s, &pre).unwrap();
    assert_eq!(
        locked(&resolution, "werkzeug").version.to_string(),
        "3.1.0rc1"
    );
    // Only pre-releases in range: a conflict with a hint.
    let error = resolve(&s, &request(&["werkzeug>3.0.1"])).unwrap_err();
    let (explanation, hints) = conflict(error);
    assert!(
        hints.iter().any(|h| h.contains("--pre")),
        "{hints:?} {explanation:?}"
    );
}

#[test]
fn constraints_limit_versions_without_adding_packages() {
    let mut r = request(&["flask"]);
    r.constraints = ["werkzeug<3", "babel==2.15.0"]
        .iter()
        .map(|c| Direct {
            requirement: requirement(c),
            origin: "constraints.txt".into(),
        })
        .collect();
    let resolution = resolve(&web(), &r).unwrap();
    let via: Vec<String> = locked(&resolution, "werkzeug")
        .via
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(via, ["-c constraints.txt", "flask"], "as uv annotates it");
    assert_eq!(
        pins(&resolution),
        [
            "flask==2.3.0",
            "jinja2==3.1.4",
            "markupsafe==2.1.5",
            "werkzeug==2.3.8"
        ],
        "werkzeug<3 forces the older flask; babel is not added"
    );
}

#[test]
fn preferences_keep_the_existing_versions_while_they_fit() {
    let mut r = request(&["flask"]);
    r.preferences = BTreeMap::from([
        (
            PackageName::from_str("jinja2").unwrap(),
            "3.1.2".parse().unwrap(),
        ),
        // No longer fits flask 3.0.3's werkzeug>=3.0, and flask is newest: not kept.
        (
            PackageName::from_str("werkzeug").unwrap(),
            "2.3.8".parse().unwrap(),
        ),
        // Not a release at all: ignored.
        (
            PackageName::from_str("markupsafe").unwrap(),
            "9.9".parse().unwrap(),
        ),
    ]);
    let resolution = resolve(&web(), &r).unwrap();
    assert_eq!(
        pins(&resolution),
        [
            "flask==3.0.3",
            "jinja2==3.1.2",
            "markupsafe==2.1.5",
            "werkzeug==3.0.1"
        ]
    );
}

#[test]
fn unusable_releases_are_passed_over_and_explained() {
    let mut s = web();
    s.add_unusable(
        "markupsafe",
        "3.0.0",
        MetadataError::NeedsBuild {
            filename: "markupsafe-3.0.0.tar.gz".into(),
            why: "its PKG-INFO is metadata 1.2".into(),
        },
    );
    let resolution = resolve(&s, &request(&["markupsafe"])).unwrap();
    assert_eq!(
        locked(&resolution, "markupsafe").version.to_string(),
        "2.1.5"
    );
    assert_eq!(
        resolution.warnings,
        [
            "`markupsafe` 3.0.0 was passed over for 2.1.5: markupsafe-3.0.0.tar.gz does not \
          declare its dependencies statically (its PKG-INFO is metadata 1.2)"
        ],
        "a lock that is not the newest says why"
    );
    let error = resolve(&s, &request(&["markupsafe>=3"])).unwrap_err();
    let (explanation, hints) = conflict(error);
    assert_eq!(
        explanation,
        [
            "Because there is no usable release of markupsafe>3.0.0 and markupsafe==3.0.0 cannot \
          be used: markupsafe-3.0.0.tar.gz does not declare its dependencies statically (its \
          PKG-INFO is metadata 1.2), markupsafe>=3.0.0 cannot be used",
            "And because requirements.in requires markupsafe>=3, the requirements of \
          requirements.in cannot be satisfied"
        ]
    );
    assert_eq!(
        hints,
        [
            "repin never runs build backends: require a release of `markupsafe` that has a \
          wheel, or one whose sdist has metadata 2.2 or later"
        ],
        "the hint follows the kind of refusal"
    );
}

#[test]
fn a_release_refused_for_another_reason_gets_no_build_hint_whatever_its_wording() {
    let mut s = web();
    // The archive's complaint quotes the build sentence: the hint must not be found by reading.
    s.add_unusable(
        "markupsafe",
        "3.0.0",
        MetadataError::Archive {
            filename: "markupsafe-3.0.0.tar.gz".into(),
            member: "PKG-INFO",
            reason: "it does not declare its dependencies statically".into(),
        },
    );
    let (explanation, hints) = conflict(resolve(&s, &request(&["markupsafe>=3"])).unwrap_err());
    assert!(
        explanation[0].contains("markupsafe-3.0.0.tar.gz holds no readable PKG-INFO"),
        "{explanation:?}"
    );
    assert_eq!(
        hints,
        ["loosen a requirement or a constraint named above"],
        "only the general hint"
    );
}

#[test]
fn conflicts_read_as_sentences() {
    let mut s = MemorySource::new();
    s.add("app", "1.0", &["lib<2"]);
    s.add("lib", "1.0", &[]);
    s.add("lib", "2.0", &[]);
    let error = resolve(&s, &request(&["app", "lib>=2"])).unwrap_err();
    assert_eq!(
        error.to_string(),
        "No set of versions satisfies the requirements of requirements.in"
    );
    let (explanation, hints) = conflict(error);
    assert_eq!(
        explanation,
        [
            "Because every version of app depends on lib<2 and requirements.in requires lib>=2, \
          no version of app can be used",
            "And because requirements.in requires app, the requirements of requirements.in \
          cannot be satisfied"
        ],
    );
    assert_eq!(hints.len(), 1, "{hints:?}");

    // A missing package, and a Python that rules everything out.
    let error = resolve(&s, &request(&["nothere"])).unwrap_err();
    let (explanation, hints) = conflict(error);
    assert!(
        explanation[0].contains("there is no usable release of nothere"),
        "{explanation:?}"
    );
    assert!(
        hints[0].contains("`nothere` is on none of the indexes"),
        "{hints:?}"
    );
    let mut s = MemorySource::new();
    s.add("new", "1.0", &[]).requires_python = Some(">=3.13".parse().unwrap());
    let (explanation, hints) = conflict(resolve(&s, &request(&["new"])).unwrap_err());
    assert!(
        explanation[0].contains("new==1.0 cannot be used: requires Python >=3.13"),
        "{explanation:?}"
    );
    assert!(
        hints[0].starts_with("the lock is for Python 3.12"),
        "{hints:?}"
    );
}

#[test]
fn urls_cannot_be_locked() {
    let error = resolve(
        &web(),
        &request(&["flask @ https://example.invalid/flask.whl"]),
    )
    .unwrap_err();
    assert!(matches!(error, LockError::Unsupported { .. }), "{error}");
    let mut s = MemorySource::new();
    s.add("a", "2.0", &["b @ https://example.invalid/b.whl"]);
    s.add("a", "1.0", &[]);
    let resolution = resolve(&s, &request(&["a"])).unwrap();
    assert_eq!(
        pins(&resolution),
        ["a==1.0"],
        "the release with a URL dependency is passed over"
    );
}

#[test]
fn backtracks_across_a_transitive_conflict() {
    // The newest `a` needs c>=2, `b` needs c<2: PubGrub settles on the older `a`.
    let mut s = MemorySource::new();
    s.add("a", "1.0", &["c>=1"]);
    s.add("a", "2.0", &["c>=2"]);
    s.add("b", "1.0", &["c<2"]);
    s.add("c", "1.5", &[]);
    s.add("c", "2.1", &[]);
    let resolution = resolve(&s, &request(&["a", "b"])).unwrap();
    assert_eq!(pins(&resolution), ["a==1.0", "b==1.0", "c==1.5"]);
    let c: Vec<String> = locked(&resolution, "c")
        .via
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(c, ["a", "b"]);
}

/// A source that counts what the resolver asks of another.
struct Counting<'a> {
    inner: &'a MemorySource,
    metadata: RefCell<BTreeMap<String, usize>>,
    prefetched: RefCell<Vec<(String, String)>>,
    walked: RefCell<Vec<(String, Vec<String>)>>,
}

impl<'a> Counting<'a> {
    fn new(inner: &'a MemorySource) -> Self {
        Counting {
            inner,
            metadata: RefCell::default(),
            prefetched: RefCell::default(),
            walked: RefCell::default(),
        }
    }
}

impl PackageSource for Counting<'_> {
    fn candidates(&self, name: &PackageName) -> Result<Vec<Candidate>, SourceError> {
        self.inner.candidates(name)
    }

    fn metadata(&self, name: &PackageName, version: &Version) -> Result<Metadata, SourceError> {
        *self
            .metadata
            .borrow_mut()
            .entry(format!("{name}=={version}"))
            .or_default() += 1;
        self.inner.metadata(name, version)
    }

    fn prefetch(&self, wanted: &[(PackageName, Range)]) {
        self.prefetched.borrow_mut().extend(
            wanted
                .iter()
                .map(|(name, range)| (name.to_string(), range.to_string())),
        );
    }

    fn listed(
        &self,
        pins: &[(PackageName, Version)],
    ) -> Vec<Result<Option<crate::registry::pypi::SourcedRelease>, crate::lock::Failure>> {
        self.inner.listed(pins)
    }

    fn prefetch_versions(&self, name: &PackageName, versions: &[Version]) {
        self.walked.borrow_mut().push((
            name.to_string(),
            versions.iter().map(ToString::to_string).collect(),
        ));
    }
}

#[test]
fn an_extra_reuses_its_package_metadata_and_an_unknown_extra_warns() {
    let source = web();
    let counting = Counting::new(&source);
    let resolution = resolve(
        &counting,
        &request(&["flask[async,nonexistent]", "jinja2[i18n]"]),
    )
    .unwrap();
    assert_eq!(
        pins(&resolution),
        [
            "asgiref==3.8.1",
            "babel==2.15.0",
            "flask[async]==3.0.3",
            "jinja2[i18n]==3.1.4",
            "markupsafe==2.1.5",
            "werkzeug==3.0.1"
        ],
        "the unknown extra is not written"
    );
    assert_eq!(
        resolution.warnings,
        ["The package `flask==3.0.3` does not have an extra named `nonexistent`"]
    );
    let asked = counting.metadata.borrow();
    assert!(
        asked.values().all(|n| *n == 1),
        "each release's metadata asked once, extras included: {asked:?}"
    );
    assert_eq!(asked.get("flask==3.0.3"), Some(&1));
}

#[test]
fn prefetches_carry_the_range_so_an_exact_pin_is_the_one_fetched() {
    let source = web();
    let counting = Counting::new(&source);
    resolve(&counting, &request(&["flask==2.3.0"])).unwrap();
    let prefetched = counting.prefetched.borrow();
    assert!(
        prefetched.contains(&("flask".into(), "2.3.0".into())),
        "{prefetched:?}"
    );
    assert!(
        prefetched.contains(&("werkzeug".into(), ">=2.3".into())),
        "{prefetched:?}"
    );
    assert_eq!(counting.metadata.borrow().get("flask==3.0.3"), None);
}

#[test]
fn a_package_and_its_extra_chosen_once_each_look_ahead_at_nothing() {
    // `a[extra]` and `a` are two nodes of one package, each chosen once when nothing
    // conflicts: no older release is worth fetching (each was, 4 of 5 releases here).
    let mut s = MemorySource::new();
    for minor in 0..5 {
        s.add("a", &format!("1.{minor}"), &["h; extra == \"extra\""]);
        s.add(
            "b",
            &format!("1.{minor}"),
            &["a>=1.1", "h; extra == \"extra\""],
        );
    }
    s.add("h", "2.0", &[]);
    let counting = Counting::new(&s);
    let resolution = resolve(&counting, &request(&["a[extra]", "b[extra]"])).unwrap();
    assert_eq!(
        pins(&resolution),
        ["a[extra]==1.4", "b[extra]==1.4", "h==2.0"]
    );
    assert_eq!(
        *counting.walked.borrow(),
        Vec::<(String, Vec<String>)>::new(),
        "nothing was walked down"
    );
}

#[test]
fn walking_down_a_package_looks_ahead_at_its_next_versions() {
    // Every app release but the oldest needs a lib nobody has: the resolver walks down app.
    let mut s = MemorySource::new();
    for minor in 0..12 {
        let needs: &[&str] = if minor == 0 { &[] } else { &["missing-lib"] };
        s.add("app", &format!("1.{minor}"), needs);
    }
    let counting = Counting::new(&s);
    let resolution = resolve(&counting, &request(&["app"])).unwrap();
    assert_eq!(pins(&resolution), ["app==1.0"]);
    let walked = counting.walked.borrow();
    let ahead: BTreeSet<String> = walked
        .iter()
        .filter(|(name, _)| name == "app")
        .flat_map(|(_, versions)| versions.iter().cloned())
        .collect();
    assert!(
        ahead.contains("1.9") && ahead.contains("1.0"),
        "the next versions are prefetched while walking down: {walked:?}"
    );
}

#[test]
fn passing_over_releases_for_another_python_looks_ahead_at_nothing() {
    // numpy's newest releases need a newer Python than a lock's target: passing over them is no
    // backtracking, and fetching the metadata of older releases ahead of need wasted 72 reads
    // on a lock of 19 pins. Said by the index or only by the metadata, alike.
    let mut s = MemorySource::new();
    for minor in 0..10 {
        let release = s.add("a", &format!("1.{minor}"), &[]);
        if minor >= 8 {
            release.requires_python = Some(">=3.99".parse().unwrap());
        }
    }
    for minor in [10, 11] {
        s.add_metadata(&format!(
            "Metadata-Version: 2.1\nName: a\nVersion: 1.{minor}\nRequires-Python: >=3.99\n"
        ));
    }
    let counting = Counting::new(&s);
    let resolution = resolve(&counting, &request(&["a"])).unwrap();
    assert_eq!(pins(&resolution), ["a==1.7"]);
    assert_eq!(
        *counting.walked.borrow(),
        Vec::<(String, Vec<String>)>::new(),
        "nothing was walked down"
    );
}

#[test]
fn walking_an_extra_reads_no_metadata_while_its_package_is_decided() {
    // celery[redis] + packaging on PyPI: kombu 5.7.0's `redis` extra pins packaging==26.3 while
    // the input takes the newest packaging. The resolver walks every kombu[redis] release
    // before it moves packaging; each of those conflicts with kombu 5.7.0 at once, and reading
    // its metadata (170 releases on PyPI) bought nothing.
    let mut s = MemorySource::new();
    s.add("packaging", "26.3", &[]);
    s.add("packaging", "26.4", &[]);
    s.add("redis", "8.2.0", &[]);
    for minor in 0..7 {
        s.add(
            "kombu",
            &format!("5.{minor}.0"),
            &[
                "redis>=6; extra == \"redis\"",
                "packaging==26.3; extra == \"redis\"",
            ],
        );
    }
    s.add(
        "celery",
        "5.7.0",
        &["kombu>=5.6", "kombu[redis]; extra == \"redis\""],
    );
    let counting = Counting::new(&s);
    let resolution = resolve(&counting, &request(&["celery[redis]", "packaging"])).unwrap();
    assert_eq!(
        pins(&resolution),
        [
            "celery[redis]==5.7.0",
            "kombu[redis]==5.6.0",
            "packaging==26.3",
            "redis==8.2.0"
        ]
    );
    let read: Vec<String> = counting
        .metadata
        .borrow()
        .keys()
        .filter(|k| k.starts_with("kombu"))
        .cloned()
        .collect();
    assert_eq!(
        read,
        ["kombu==5.6.0"],
        "only the kombu release locked is read"
    );

    // When nothing fits, the conflict is told through the extra, with no trace of the split.
    let error = resolve(&s, &request(&["kombu[redis]==5.6.0", "packaging==26.4"])).unwrap_err();
    let (explanation, _) = conflict(error);
    assert_eq!(
        explanation,
        [
            "Because kombu[redis]==5.6.0 depends on packaging==26.3 and requirements.in requires \
             kombu[redis]==5.6.0, packaging==26.3 is needed",
            "And because requirements.in requires packaging==26.4, the requirements of \
             requirements.in cannot be satisfied",
        ]
    );
}
