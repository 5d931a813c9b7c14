//! Conformance against real tag lists: docker-library/official-images `library/python` and
//! docker-library/python `versions.json` snapshots in the corpus (`$REPIN_CORPUS/images/`).
//! The expectations were worked out by hand from those files.

use crate::testing::corpus;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::*;

/// One `Tags:` stanza of an official-images library file.
struct Stanza {
    tags: Vec<String>,
    shared_tags: Vec<String>,
    directory: String,
}

/// An official-images `library/python` file (shared with the image decisions' corpus tests).
pub(crate) struct Snapshot {
    stanzas: Vec<Stanza>,
}

impl Snapshot {
    /// Every tag (`Tags` and `SharedTags`), each once, in file order.
    pub(crate) fn all_tags(&self) -> Vec<&str> {
        let mut seen = BTreeSet::new();
        self.stanzas
            .iter()
            .flat_map(|s| s.tags.iter().chain(&s.shared_tags))
            .map(String::as_str)
            .filter(|t| seen.insert(*t))
            .collect()
    }

    /// Variants of stable tags with a full `X.Y.Z` version.
    fn full_version_variants(&self) -> BTreeSet<String> {
        self.all_tags()
            .into_iter()
            .map(DockerTag::parse)
            .filter(|t| t.precision() == 3 && !t.is_prerelease())
            .map(|t| t.variant().to_owned())
            .collect()
    }
}

fn read(corpus: &Path, dir: &str, stem: &str) -> String {
    let dir = corpus.join("images").join(dir);
    let entry = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(stem))
        .unwrap_or_else(|| panic!("no `{stem}*` in {}", dir.display()));
    std::fs::read_to_string(entry).unwrap()
}

/// The official-images snapshot of `date` in the corpus.
pub(crate) fn snapshot(corpus: &Path, date: &str) -> Snapshot {
    let text = read(
        corpus,
        "official-images",
        &format!("library__python@{date}"),
    );
    let mut stanzas = Vec::new();
    for block in text.split("\n\n") {
        // RFC 2822-like: a line starting with whitespace continues the previous field.
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in block.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some(last) = fields.last_mut() {
                    last.1.push(' ');
                    last.1.push_str(line.trim());
                }
            } else if let Some((key, value)) = line.split_once(':') {
                fields.push((key.to_owned(), value.trim().to_owned()));
            }
        }
        let field = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let list = |value: Option<String>| -> Vec<String> {
            value
                .map(|v| v.split(',').map(|t| t.trim().to_owned()).collect())
                .unwrap_or_default()
        };
        if let Some(tags) = field("Tags") {
            stanzas.push(Stanza {
                tags: list(Some(tags)),
                shared_tags: list(field("SharedTags")),
                directory: field("Directory").expect("every stanza has a Directory"),
            });
        }
    }
    assert!(!stanzas.is_empty());
    Snapshot { stanzas }
}

pub(crate) const SNAPSHOTS: [&str; 4] = ["2019-05-07", "2022-03-16", "2024-06-13", "2026-08-13"];

#[test]
fn every_official_python_tag_parses_sensibly() {
    let corpus = corpus();
    let mut total = 0;
    for date in SNAPSHOTS {
        let snapshot = snapshot(&corpus, date);
        for tag in snapshot.all_tags() {
            total += 1;
            let parsed = DockerTag::parse(tag);
            let info = parsed.variant_info();
            assert!(
                matches!(parsed.kind(), TagKind::Version | TagKind::Named),
                "{date} {tag}: {:?}",
                parsed.kind()
            );
            assert_eq!(parsed.prefix(), "", "{date} {tag}");
            assert_eq!(
                parsed.kind() == TagKind::Version,
                tag.starts_with(|c: char| c.is_ascii_digit()),
                "{date} {tag}"
            );
            assert!(parsed.precision() <= 3, "{date} {tag}");
            // The only flavour of the python image is `slim`; `latest` is the one other name.
            assert!(
                matches!(info.flavour.as_deref(), None | Some("slim" | "latest")),
                "{date} {tag}: flavour {:?}",
                info.flavour
            );
            // Every other variant names a distribution, and a pinned release is a known one.
            if !matches!(parsed.variant(), "" | "slim" | "latest") {
                let distribution = info
                    .distribution
                    .as_ref()
                    .unwrap_or_else(|| panic!("{date} {tag}: no distribution"));
                if distribution.release.is_some() {
                    assert!(
                        distribution.release_rank().is_some(),
                        "{date} {tag}: unknown release"
                    );
                }
            }
            assert_eq!(info.python, None, "{date} {tag}");
            if parsed.precision() >= 2 {
                assert_eq!(python_minor(&parsed), parsed.major_minor());
            }
        }
    }
    assert!(total > 400, "only {total} tags read");
}

/// The first tag of a stanza is its full version and the stanza's `Directory` spells the same
/// minor and variant: `3.12/slim-bookworm`, `3.8-rc/windows/windowsservercore-1809`, and in
/// 2019 `3.7/stretch/slim` (pieces in the other order).
#[test]
fn first_tag_of_each_stanza_matches_its_directory() {
    let corpus = corpus();
    for date in SNAPSHOTS {
        for stanza in snapshot(&corpus, date).stanzas {
            let first = DockerTag::parse(&stanza.tags[0]);
            let (version_dir, rest) = stanza.directory.split_once('/').unwrap();
            let (minor, rc) = match version_dir.strip_suffix("-rc") {
                Some(minor) => (minor, true),
                None => (version_dir, false),
            };
            assert_eq!(first.precision(), 3, "{date} {}", stanza.tags[0]);
            assert_eq!(first.is_prerelease(), rc, "{date} {}", stanza.tags[0]);
            let (major, minor) = minor.split_once('.').unwrap();
            assert_eq!(
                first.major_minor(),
                Some((major.parse().unwrap(), minor.parse().unwrap())),
                "{date} {}",
                stanza.tags[0]
            );
            let from_dir: BTreeSet<&str> =
                rest.split(['/', '-']).filter(|p| *p != "windows").collect();
            let from_tag: BTreeSet<&str> = first.variant().split('-').collect();
            assert_eq!(from_dir, from_tag, "{date} {}", stanza.directory);
            // Every tag of the stanza is an alias of the same image: the same flavour and
            // pre-release status, and the same distribution or one that floats (`3.7-slim`
            // for `3.7.3-slim-stretch`, `3-alpine` for `3.7.3-alpine3.9`).
            let first_info = first.variant_info();
            for tag in &stanza.tags {
                let parsed = DockerTag::parse(tag);
                let info = parsed.variant_info();
                assert_eq!(info.flavour, first_info.flavour, "{date} {tag}");
                assert_eq!(
                    parsed.is_prerelease(),
                    first.is_prerelease(),
                    "{date} {tag}"
                );
                let same_image = match (&info.distribution, &first_info.distribution) {
                    (None, _) => true,
                    (Some(alias), Some(full)) => {
                        alias == full || (alias.family == full.family && alias.release.is_none())
                    }
                    (Some(_), None) => false,
                };
                assert!(same_image, "{date} {tag} in {}", stanza.directory);
            }
        }
    }
}

#[test]
fn highest_patch_and_minor_in_real_snapshots() {
    let corpus = corpus();
    // (snapshot, current, highest, highest in the same minor)
    let cases = [
        (
            "2024-06-13",
            "3.12.0-slim-bookworm",
            Some("3.12.4-slim-bookworm"),
            Some("3.12.4-slim-bookworm"),
        ),
        (
            "2024-06-13",
            "3.11.2-slim-bookworm",
            Some("3.12.4-slim-bookworm"),
            Some("3.11.9-slim-bookworm"),
        ),
        ("2024-06-13", "3.12.4-slim-bookworm", None, None),
        (
            "2024-06-13",
            "3.10.1-alpine3.19",
            Some("3.12.4-alpine3.19"),
            Some("3.10.14-alpine3.19"),
        ),
        // 3.8-3.10 have no Windows images in 2024; 3.11 and 3.12 do.
        (
            "2024-06-13",
            "3.9.1-windowsservercore-ltsc2022",
            Some("3.12.4-windowsservercore-ltsc2022"),
            None,
        ),
        (
            "2024-06-13",
            "3.13.0b1-slim",
            Some("3.13.0b2-slim"),
            Some("3.13.0b2-slim"),
        ),
        ("2024-06-13", "3.12-slim", None, None),
        ("2024-06-13", "3.10-slim", Some("3.12-slim"), None),
        ("2026-08-13", "3.12-slim", Some("3.14-slim"), None),
        (
            "2026-08-13",
            "3.12-slim-bookworm",
            Some("3.14-slim-bookworm"),
            None,
        ),
        (
            "2026-08-13",
            "3.12.3-slim-bookworm",
            Some("3.14.7-slim-bookworm"),
            Some("3.12.14-slim-bookworm"),
        ),
        (
            "2026-08-13",
            "3.13-rc-slim",
            Some("3.15-rc-slim"),
            Some("3.13-slim"),
        ),
        ("2026-08-13", "3-slim", None, None),
        ("2026-08-13", "2-slim", Some("3-slim"), None),
        ("2026-08-13", "3.12.2-alpine3.21", None, None),
        (
            "2019-05-07",
            "3.6.7-slim-stretch",
            Some("3.7.3-slim-stretch"),
            Some("3.6.8-slim-stretch"),
        ),
        (
            "2019-05-07",
            "2.7.15-alpine3.8",
            Some("3.7.3-alpine3.8"),
            Some("2.7.16-alpine3.8"),
        ),
        (
            "2019-05-07",
            "3.8.0a3-slim",
            Some("3.8.0a4-slim"),
            Some("3.8.0a4-slim"),
        ),
        (
            "2022-03-16",
            "3.9.7-slim-buster",
            Some("3.10.3-slim-buster"),
            Some("3.9.11-slim-buster"),
        ),
    ];
    for (date, current, highest, in_minor) in cases {
        let snapshot = snapshot(&corpus, date);
        let best = best_update(&DockerTag::parse(current), &snapshot.all_tags());
        assert_eq!(best.highest, highest, "{date} {current}: highest");
        assert_eq!(
            best.highest_in_minor, in_minor,
            "{date} {current}: in minor"
        );
    }
}

#[test]
fn two_part_slim_is_only_compatible_with_two_part_slim() {
    let corpus = corpus();
    let current = DockerTag::parse("3.12-slim");
    for date in SNAPSHOTS {
        for tag in snapshot(&corpus, date).all_tags() {
            let candidate = DockerTag::parse(tag);
            if is_compatible(&current, &candidate) {
                assert_eq!(candidate.precision(), 2, "{date} {tag}");
                assert_eq!(candidate.variant(), "slim", "{date} {tag}");
                assert!(!candidate.is_prerelease(), "{date} {tag}");
            }
        }
    }
    let newest = snapshot(&corpus, "2026-08-13");
    let compatible: Vec<&str> = newest
        .all_tags()
        .into_iter()
        .filter(|t| is_compatible(&current, &DockerTag::parse(t)))
        .collect();
    assert_eq!(
        compatible,
        [
            "3.14-slim",
            "3.13-slim",
            "3.12-slim",
            "3.11-slim",
            "3.10-slim"
        ]
    );
}

#[test]
fn variants_that_disappear_and_appear_between_snapshots() {
    let corpus = corpus();
    let variants: Vec<BTreeSet<String>> = SNAPSHOTS
        .iter()
        .map(|date| snapshot(&corpus, date).full_version_variants())
        .collect();
    let set = |items: &[&str]| {
        items
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<BTreeSet<_>>()
    };
    // (from, to, gone, new)
    let expected = [
        (
            0,
            1,
            set(&[
                "alpine3.8",
                "alpine3.9",
                "jessie",
                "slim-jessie",
                "slim-stretch",
                "stretch",
                "windowsservercore-1803",
                "windowsservercore-ltsc2016",
            ]),
            set(&[
                "alpine3.14",
                "alpine3.15",
                "bullseye",
                "buster",
                "slim-bullseye",
                "slim-buster",
                "windowsservercore-ltsc2022",
            ]),
        ),
        (
            1,
            2,
            set(&["alpine3.14", "alpine3.15", "buster", "slim-buster"]),
            set(&["alpine3.19", "alpine3.20", "bookworm", "slim-bookworm"]),
        ),
        (
            2,
            3,
            set(&[
                "alpine3.19",
                "alpine3.20",
                "bullseye",
                "slim-bullseye",
                "windowsservercore-1809",
            ]),
            set(&[
                "alpine3.23",
                "alpine3.24",
                "slim-trixie",
                "trixie",
                "windowsservercore-ltsc2025",
            ]),
        ),
    ];
    for (from, to, gone, new) in expected {
        let actually_gone: BTreeSet<String> =
            variants[from].difference(&variants[to]).cloned().collect();
        let actually_new: BTreeSet<String> =
            variants[to].difference(&variants[from]).cloned().collect();
        assert_eq!(
            actually_gone, gone,
            "{} -> {}",
            SNAPSHOTS[from], SNAPSHOTS[to]
        );
        assert_eq!(
            actually_new, new,
            "{} -> {}",
            SNAPSHOTS[from], SNAPSHOTS[to]
        );
        // A vanished Debian or Alpine variant has a migration target in the newer snapshot:
        // the newest release of its family there, with the same flavour.
        for variant in &gone {
            let info = Variant::parse(variant);
            let distribution = info.distribution.unwrap();
            let newest = variants[to]
                .iter()
                .map(|v| Variant::parse(v))
                .filter(|v| v.flavour == info.flavour)
                .filter_map(|v| v.distribution)
                .filter(|d| d.family == distribution.family)
                .max_by_key(super::variant::Distribution::release_rank)
                .unwrap_or_else(|| panic!("no successor for {variant}"));
            let moved = with_distribution(variant, newest.release.as_deref().unwrap()).unwrap();
            assert!(variants[to].contains(&moved), "{variant} -> {moved}");
        }
    }
    // Concretely: bullseye's successor in 2026 is trixie.
    assert_eq!(
        with_distribution("slim-bullseye", "trixie").unwrap(),
        "slim-trixie"
    );
    assert!(variants[3].contains("slim-trixie"));
}

/// docker-library/python `versions.json`: the version and variant list per Python minor.
fn versions_json(corpus: &Path, date: &str) -> BTreeMap<String, (String, Vec<String>)> {
    let text = read(
        corpus,
        "docker-library-python",
        &format!("versions.json@{date}"),
    );
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json.as_object()
        .unwrap()
        .iter()
        .map(|(minor, entry)| {
            let version = entry["version"].as_str().unwrap().to_owned();
            let variants = entry["variants"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| {
                    let v = v.as_str().unwrap();
                    // `windows/windowsservercore-ltsc2022` is a directory; the tag has no `windows/`.
                    v.strip_prefix("windows/").unwrap_or(v).to_owned()
                })
                .collect();
            (minor.clone(), (version, variants))
        })
        .collect()
}

/// The 2022 versions.json has the same date as the 2022 tag list: every `version-variant` is
/// published there and is already the newest of its minor.
#[test]
fn versions_json_matches_the_tag_list_of_the_same_day() {
    let corpus = corpus();
    let snapshot = snapshot(&corpus, "2022-03-16");
    let tags = snapshot.all_tags();
    let mut checked = 0;
    for (minor, (version, variants)) in versions_json(&corpus, "2022-03-16") {
        for variant in variants {
            let tag = format!("{version}-{variant}");
            assert!(tags.contains(&tag.as_str()), "{minor}: {tag} not published");
            let parsed = DockerTag::parse(&tag);
            assert_eq!(parsed.variant(), variant);
            assert_eq!(best_update(&parsed, &tags).highest_in_minor, None, "{tag}");
            checked += 1;
        }
    }
    assert_eq!(checked, 36);
}

/// The newest versions.json (2026-06-23) lags the newest tag list (2026-08-13) by one patch:
/// each of its tags is no longer listed, and moves to the next patch of the same minor.
#[test]
fn versions_json_that_lags_finds_the_next_patch() {
    let corpus = corpus();
    let snapshot = snapshot(&corpus, "2026-08-13");
    let tags = snapshot.all_tags();
    let next_patch = BTreeMap::from([
        ("3.10", "3.10.21"),
        ("3.11", "3.11.16"),
        ("3.12", "3.12.14"),
        ("3.13", "3.13.15"),
        ("3.14", "3.14.7"),
        ("3.15-rc", "3.15.0rc1"),
    ]);
    let lagging = versions_json(&corpus, "2026-06-23");
    assert_eq!(lagging.len(), next_patch.len());
    for (minor, (version, variants)) in lagging {
        let expected = next_patch[minor.as_str()];
        for variant in variants {
            let tag = format!("{version}-{variant}");
            assert!(!tags.contains(&tag.as_str()), "{tag} is still listed");
            let best = best_update(&DockerTag::parse(&tag), &tags);
            let want = format!("{expected}-{variant}");
            assert_eq!(best.highest_in_minor, Some(want.as_str()), "{tag}");
            let kind = classify(
                &DockerTag::parse(&tag),
                &DockerTag::parse(best.highest_in_minor.unwrap()),
            );
            assert_eq!(kind, Some(UpdateKind::Patch), "{tag}");
        }
    }
}
