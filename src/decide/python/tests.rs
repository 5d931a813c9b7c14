//! Table tests of the Python decision rules.

use std::path::Path;
use std::str::FromStr;

use super::*;
use crate::config::Loaded;
use crate::manifest::{self, ManifestKind};
use crate::text::{Encoding, SourceFile};

const DAY: i64 = 86_400;
const NOW: i64 = 1_800_000_000;

fn rel(version: &str, days_ago: i64) -> Release {
    Release {
        version: Version::from_str(version).unwrap(),
        yanked: false,
        yanked_reason: None,
        requires_python: None,
        uploaded: Some(NOW - days_ago * DAY),
        hashes: vec![format!("sha256:{}", "a".repeat(64))],
    }
}

fn yanked(version: &str) -> Release {
    Release {
        yanked: true,
        ..rel(version, 100)
    }
}

fn needs_python(version: &str, spec: &str) -> Release {
    Release {
        requires_python: Some(VersionSpecifiers::from_str(spec).unwrap()),
        ..rel(version, 100)
    }
}

fn dependency(line: &str) -> Dependency {
    let m = manifest::parse(
        SourceFile::from_text("requirements.txt", Encoding::Utf8, format!("{line}\n")),
        ManifestKind::Requirements,
    );
    m.dependencies.into_iter().next().unwrap()
}

fn run(line: &str, releases: &[Release], config: &str, python: Option<&str>) -> Decision {
    let config = Loaded::from_text("repin.toml", config).unwrap();
    let dep = dependency(line);
    let name = dep.name.clone();
    let policy =
        move |kind| Policy::from_config(&config, &name, Path::new("requirements.txt"), kind);
    let ctx = Context {
        now: NOW,
        python: python.map(|p| Version::from_str(p).unwrap()),
    };
    decide(&dep, releases, &policy, &ctx)
}

/// `(kind, proposed)` of each update, or the reason there is none.
fn summary(d: &Decision) -> String {
    if d.updates.is_empty() {
        return format!("none: {}", d.none.as_ref().unwrap().describe());
    }
    d.updates
        .iter()
        .map(|u| format!("{} {}", u.kind, u.proposed))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn pins_table() {
    let flask = [
        rel("2.2.2", 900),
        rel("2.2.5", 600),
        rel("2.3.3", 400),
        rel("3.0.0", 300),
        rel("3.1.3", 30),
        rel("3.2.0rc1", 10),
        yanked("3.1.4"),
    ];
    type Case<'a> = (&'a str, &'a [Release], &'a str, Option<&'a str>, &'a str);
    let cases: &[Case] = &[
        // The newest non-major release first, the major separately.
        ("flask==2.2.2", &flask, "", None, "minor 2.3.3, major 3.1.3"),
        // Majors disabled: only the routine update.
        (
            "flask==2.2.2",
            &flask,
            "[update]\nkinds = [\"patch\", \"minor\"]\n",
            None,
            "minor 2.3.3",
        ),
        ("flask==2.3.3", &flask, "", None, "major 3.1.3"),
        // Yanked and pre-releases are passed over; 3.1.3 is the newest for a 3.1 pin.
        ("flask==3.1.3", &flask, "", None, "none: up to date"),
        // A pre-release pin may move to a newer pre-release.
        (
            "flask==3.1.3rc1",
            &[rel("3.1.3rc1", 40), rel("3.2.0rc1", 10)],
            "",
            None,
            "minor 3.2.0rc1",
        ),
        // Pre-releases when configured.
        (
            "flask==3.1.3",
            &flask,
            "[python]\nprereleases = true\n",
            None,
            "minor 3.2.0rc1",
        ),
        // Cooldown: 3.1.3 is 30 days old, younger than 60 days: the major waits, and says why.
        (
            "flask==2.3.3",
            &flask,
            "[update]\nminimum-release-age = \"60 days\"\n",
            None,
            "major 3.0.0",
        ),
        (
            "flask==3.0.0",
            &flask,
            "[update]\nminimum-release-age = \"60 days\"\n",
            None,
            "none: 3.1.3 held back: released 30 days ago, younger than the minimum release age of 60 days",
        ),
        // allowed-versions and ignore-versions.
        (
            "flask==2.2.2",
            &flask,
            "[[rules]]\nnames = [\"flask\"]\nallowed-versions = \"<3\"\n",
            None,
            "minor 2.3.3",
        ),
        (
            "flask==2.2.2",
            &flask,
            "[[rules]]\nnames = [\"flask\"]\nignore-versions = [\"2.3.3\", \"3.1.3\"]\n",
            None,
            "patch 2.2.5, major 3.0.0",
        ),
        // A rule disabling majors for this package only.
        (
            "flask==2.2.2",
            &flask,
            "[[rules]]\nnames = [\"fl*\"]\nkinds = [\"major\"]\nenabled = false\n",
            None,
            "minor 2.3.3",
        ),
        (
            "flask==2.2.2",
            &flask,
            "[[rules]]\nnames = [\"flask\"]\nenabled = false\n",
            None,
            "none: disabled by configuration",
        ),
        // requires-python against the target Python.
        (
            "numpy==1.26.0",
            &[
                rel("1.26.0", 300),
                needs_python("2.3.0", ">=3.11"),
                needs_python("1.26.4", ">=3.9"),
            ],
            "",
            Some("3.10"),
            "patch 1.26.4",
        ),
        (
            "numpy==1.26.0",
            &[
                rel("1.26.0", 300),
                needs_python("2.3.0", ">=3.11"),
                needs_python("1.26.4", ">=3.9"),
            ],
            "",
            Some("3.12"),
            "patch 1.26.4, major 2.3.0",
        ),
        // Non-normalised pins compare as PEP 440 versions.
        (
            "certifi==2022.12.07",
            &[rel("2022.12.7", 900), rel("2024.8.30", 90)],
            "",
            None,
            "major 2024.8.30",
        ),
        (
            "certifi==2022.12.07",
            &[],
            "",
            None,
            "none: no releases found",
        ),
        // Arbitrary equality pins move too.
        (
            "sphinx===7.1.2",
            &[rel("7.1.2", 400), rel("7.2.6", 100)],
            "",
            None,
            "minor 7.2.6",
        ),
    ];
    for (line, releases, config, python, expected) in cases {
        let d = run(line, releases, config, *python);
        assert_eq!(summary(&d), *expected, "{line} with {config:?}");
    }
}

#[test]
fn ranges_table() {
    let yarl = [rel("1.17.0", 400), rel("1.18.3", 100), rel("2.0.1", 20)];
    let cases: &[(&str, &str, &str)] = &[
        // The range already admits the newest release.
        ("yarl>=1.17", "", "none: up to date"),
        // The newest is outside: the range is rewritten in its own style (auto = replace here:
        // the range moves to the new release; widen keeps the lower bound).
        ("yarl >= 1.17.0, < 2.0", "", "major >= 2.0.1, < 3.0"),
        (
            "yarl >= 1.17.0, < 2.0",
            "[python]\nrange-strategy = \"widen\"\n",
            "major >= 1.17.0, < 3.0",
        ),
        ("yarl~=1.17", "", "major ~=2.0"),
        (
            "yarl >= 1.17.0, < 2.0",
            "[python]\nrange-strategy = \"bump\"\n",
            "major >= 2.0.1, < 3.0",
        ),
        // Turning ranges into exact pins when configured.
        ("yarl>=1.17", "[update]\npin-ranges = true\n", "pin ==2.0.1"),
        // A `!=` that excludes the newest.
        (
            "yarl<2,!=2.0.1",
            "",
            "none: 2.0.1 held back: `yarl<2,!=2.0.1` excludes it with `!=`",
        ),
        // An unpinned name installs the newest release anyway.
        ("yarl", "", "none: not pinned; installs the newest release"),
    ];
    for (line, config, expected) in cases {
        let d = run(line, &yarl, config, None);
        let got = summary(&d).replace(
            "`yarl<2,!=2.0.1`",
            &format!("`{}`", line.trim_start_matches("yarl")),
        );
        let want = expected.replace(
            "`yarl<2,!=2.0.1`",
            &format!("`{}`", line.trim_start_matches("yarl")),
        );
        assert_eq!(got, want, "{line} with {config:?}");
    }
}

#[test]
fn hashed_pins_get_the_new_release_hashes() {
    let mut target = rel("3.1.3", 30);
    target.hashes = vec![
        format!("sha256:{}", "b".repeat(64)),
        format!("sha256:{}", "c".repeat(64)),
    ];
    let d = run(
        "flask==3.1.2 --hash=sha256:00",
        &[rel("3.1.2", 60), target.clone()],
        "",
        None,
    );
    match &d.updates[0].change {
        Change::PythonVersion { version, hashes } => {
            assert_eq!(version, "3.1.3");
            assert_eq!(hashes.as_deref(), Some(&target.hashes[..]));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(d.updates[0].age, Some(Duration::from_secs(30 * DAY as u64)));
    // No hashes on the index: a hashed pin cannot move there.
    let mut bare = rel("3.1.3", 30);
    bare.hashes.clear();
    let d = run(
        "flask==3.1.2 --hash=sha256:00",
        &[rel("3.1.2", 60), bare],
        "",
        None,
    );
    assert_eq!(
        summary(&d),
        "none: 3.1.3 held back: the index publishes no sha256 hashes for it"
    );
    // An unhashed pin does not care.
    let mut bare = rel("3.1.3", 30);
    bare.hashes.clear();
    assert_eq!(
        summary(&run("flask==3.1.2", &[rel("3.1.2", 60), bare], "", None)),
        "patch 3.1.3"
    );
}

#[test]
fn skipped_dependencies_say_why() {
    let d = run("-e ./core", &[rel("1.0", 1)], "", None);
    assert_eq!(summary(&d), "none: skipped: an editable install");
}

/// Issue 17: the releases of a requirement are judged on its file's own Python, and no output
/// is ever lower than the current value.
#[test]
fn never_a_downgrade_and_cannot_be_installed() {
    let django = [
        needs_python("4.2.23", ">=3.8"),
        needs_python("5.1.3", ">=3.10"),
        needs_python("5.1.4", ">=3.10"),
        needs_python("5.2.1", ">=3.10"),
    ];
    let click = [
        needs_python("8.1.7", ">=3.7"),
        needs_python("8.1.8", ">=3.7"),
        needs_python("8.2.1", ">=3.10"),
    ];
    let numpy = [
        needs_python("2.2.6", ">=3.10"),
        needs_python("2.3.0", ">=3.11"),
    ];
    let cases: &[(&str, &[Release], &str, &str)] = &[
        // The right update for the file's Python: 3.11 takes click 8.2, 3.9 does not.
        ("click==8.1.7", &click, "3.11", "minor 8.2.1"),
        ("click==8.1.7", &click, "3.9", "patch 8.1.8"),
        // A range whose every release needs a newer Python: a problem, not `==4.*`.
        (
            "django==5.*",
            &django,
            "3.9",
            "none: cannot be installed on Python 3.9: every release it allows (5.1.3 to 5.2.1) requires a newer Python; 5.1.3 requires Python >=3.10",
        ),
        ("django==5.*", &django, "3.12", "none: up to date"),
        (
            "django~=5.1.3",
            &django,
            "3.9",
            "none: cannot be installed on Python 3.9: every release it allows (5.1.3 to 5.1.4) requires a newer Python; 5.1.3 requires Python >=3.10",
        ),
        (
            "numpy>=2.3",
            &numpy,
            "3.10",
            "none: cannot be installed on Python 3.10: 2.3.0 requires Python >=3.11",
        ),
        // A pin whose own release needs a newer Python.
        (
            "django==5.1.3",
            &django,
            "3.9",
            "none: cannot be installed on Python 3.9: 5.1.3 requires Python >=3.10",
        ),
        // The index's newest release is below the floor: nothing exists to install.
        (
            "django-axes>=6.1.1",
            &[rel("1.0.0", 100)],
            "3.12",
            "none: cannot be installed on Python 3.12: no release matches it; the newest is 1.0.0",
        ),
    ];
    for (line, releases, python, expected) in cases {
        let d = run(line, releases, "", Some(python));
        assert_eq!(summary(&d), *expected, "{line} on {python}");
        assert!(
            d.none
                .as_ref()
                .is_none_or(|n| n.is_problem() == expected.contains("cannot")),
            "{line}"
        );
    }
}

#[test]
fn a_rewritten_range_never_lowers_its_floor() {
    for (written, floor_text) in [
        (">=2.3,<3", "2.3"),
        ("~=5.1.3", "5.1.3"),
        ("==5.*", "5"),
        ("<3", ""),
        (">1.0,>=1.2", "1.2"),
    ] {
        let specifiers: VersionSpecifiers = written.parse().unwrap();
        assert_eq!(
            floor(&specifiers)
                .map(|v| v.to_string())
                .unwrap_or_default(),
            floor_text,
            "{written}"
        );
    }
    // Every proposal of the ranges table is at least the range's floor.
    let releases = [rel("1.0.0", 400), rel("2.0.0", 300), rel("3.0.0", 20)];
    for line in ["x>=2,<3", "x~=2.0", "x==2.*", "x>=2.0.0,<2.1", "x>=1.0,<2"] {
        for strategy in ["auto", "pin", "bump", "widen", "replace"] {
            let config = format!("[python]\nrange-strategy = \"{strategy}\"\n");
            let d = run(line, &releases, &config, Some("3.12"));
            for update in &d.updates {
                let old = floor(&update.current.parse().unwrap());
                let new = floor(&update.proposed.parse().unwrap());
                assert!(
                    new >= old,
                    "{line} {strategy}: {} → {}",
                    update.current,
                    update.proposed
                );
            }
        }
    }
}

/// Issue 17: a yanked current pin (PEP 592) is reported with the index's reason, and its
/// routine update is proposed under a cooldown and with its kind disabled, as a security fix
/// is; the same release not yanked waits.
#[test]
fn a_yanked_pin_moves_whatever_the_cooldown_and_says_why() {
    let why = "Yanked due to conflicts with CVE-2024-35195 mitigation";
    let requests = [
        rel("2.31.0", 400),
        Release {
            yanked: true,
            yanked_reason: Some(why.to_owned()),
            ..rel("2.32.0", 200)
        },
        rel("2.32.3", 1),
    ];
    let cooldown = "[update]\nminimum-release-age = \"7 days\"\n";
    let not_yanked = run("requests==2.31.0", &requests, cooldown, None);
    assert!(
        summary(&not_yanked).starts_with("none: 2.32.3 held back: released"),
        "{}",
        summary(&not_yanked)
    );
    let d = run("requests==2.32.0", &requests, cooldown, None);
    assert_eq!(summary(&d), "patch 2.32.3");
    let update = &d.updates[0];
    assert_eq!(update.yanked.as_deref(), Some(why));
    assert!(update.is_urgent() && !update.is_security());
    assert_eq!(
        update.reason,
        format!("2.32.0 is yanked: \"{why}\"; newest patch release")
    );
    assert!(
        d.notes
            .iter()
            .any(|n| n.text == format!("2.32.0 is yanked on the index: \"{why}\"")),
        "{:?}",
        d.notes
    );
    // Patch updates disabled: the way off the yanked release is still proposed.
    let d = run(
        "requests==2.32.0",
        &requests,
        "[update]\nkinds = [\"major\"]\n",
        None,
    );
    assert_eq!(summary(&d), "patch 2.32.3");
    // A yank without a reason still says it is one.
    let silent = [yanked("2.32.0"), rel("2.32.3", 1)];
    let d = run("requests==2.32.0", &silent, "", None);
    assert_eq!(d.updates[0].yanked.as_deref(), Some(""));
    assert_eq!(
        d.updates[0].reason,
        "2.32.0 is yanked; newest patch release"
    );
}

/// A dependency of `[tool.poetry.dependencies]` with the Poetry constraint `constraint`.
fn poetry_dependency(constraint: &str) -> Dependency {
    let m = manifest::parse(
        SourceFile::from_text(
            "pyproject.toml",
            Encoding::Utf8,
            format!("[tool.poetry.dependencies]\nyarl = \"{constraint}\"\n"),
        ),
        ManifestKind::Pyproject,
    );
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    m.dependencies.into_iter().next().unwrap()
}

#[test]
fn poetry_constraints_table() {
    let yarl = [rel("1.17.0", 400), rel("1.18.3", 100), rel("2.0.1", 20)];
    let cases: &[(&str, &str, &str)] = &[
        ("^1.17", "", "major ^2.0"),
        (
            "^1.17",
            "[python]\nrange-strategy = \"bump\"\n",
            "major ^2.0.1",
        ),
        (
            "^1.17",
            "[python]\nrange-strategy = \"widen\"\n",
            "major ^1.17 || ^2.0",
        ),
        ("^1.17", "[update]\npin-ranges = true\n", "pin 2.0.1"),
        ("~1.17", "", "major ~2.0"),
        (">=1.17 <2.0", "", "major >=2.0.1 <3.0"),
        // A union that already admits the newest release: nothing to do.
        ("^1.17 || ^2.0", "", "none: up to date"),
        // An exact version is a pin: it moves to the newest release.
        ("1.17.0", "", "minor 1.18.3, major 2.0.1"),
        (
            "^1.17,!=2.0.1",
            "[python]\nrange-strategy = \"bump\"\n",
            "none: 2.0.1 held back: `^1.17,!=2.0.1` excludes it with `!=`",
        ),
        ("*", "", "none: not pinned; installs the newest release"),
    ];
    for (constraint, config, expected) in cases {
        let config = Loaded::from_text("repin.toml", config).unwrap();
        let dep = poetry_dependency(constraint);
        let policy = |kind| Policy::from_config(&config, "yarl", Path::new("pyproject.toml"), kind);
        let ctx = Context {
            now: NOW,
            python: None,
        };
        let d = decide(&dep, &yarl, &policy, &ctx);
        assert_eq!(summary(&d), *expected, "{constraint} with {config:?}");
    }
}
