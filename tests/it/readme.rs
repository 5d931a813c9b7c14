//! The README's examples of `check`, `audit` and `extract` output are generated here, from the
//! demo (`fixtures/demo`), so they cannot drift from what repin prints.
//!
//! Each example in README.md follows a marker line `<!-- generated: NAME -->`; this test runs
//! the command, and fails when the block below the marker differs ([`support::readme`]). To
//! rewrite the blocks after a change of output: `REPIN_UPDATE_README=1 scripts/test -E
//! 'test(readme)'`. (`audit --images`'s example is image_cve_e2e's.)
//!
//! The demo's index is a local pypiserver serving every release the demo pins, and a few newer
//! ones (fixed here, so the examples do not change with PyPI); advisories are the PyPA records
//! of the real-world corpus. JSON examples keep the first entry of each list (the README says
//! so); the rest is the output as printed.

use std::path::Path;

use serde_json::Value;

use crate::support;
use support::pypiserver::{Meta, PypiServer, write_wheel_with};

const DEMO: &str = "fixtures/demo";

/// Newer releases on the demo's index, with what their metadata requires.
const NEWER: &[(&str, &str, &[&str])] = &[
    (
        "flask",
        "2.2.5",
        &[
            "Werkzeug>=2.2.2",
            "Jinja2>=3.0",
            "itsdangerous>=2.0",
            "click>=8.0",
        ],
    ),
    (
        "flask",
        "2.3.3",
        &[
            "Werkzeug>=2.3.7",
            "Jinja2>=3.1.2",
            "itsdangerous>=2.1.2",
            "click>=8.1.3",
            "blinker>=1.6.2",
        ],
    ),
    ("jinja2", "3.1.6", &["MarkupSafe>=2.0"]),
    ("werkzeug", "2.3.8", &["MarkupSafe>=2.1.1"]),
    ("urllib3", "2.0.7", &[]),
    ("idna", "3.7", &[]),
    ("pip", "23.3", &[]),
    ("blinker", "1.7.0", &[]),
];

/// What each package of the demo's lock requires, from the lock's own `# via` annotations (a
/// re-lock reads the metadata of every pinned release, so they must be served with it).
fn demo_requires() -> std::collections::BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(Path::new(DEMO).join("requirements.txt")).unwrap();
    let mut requires: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut current = String::new();
    for line in text.lines() {
        if let Some((name, _)) = line
            .split_once("==")
            .filter(|_| !line.starts_with([' ', '#']))
        {
            current = name.to_lowercase();
            continue;
        }
        let via = line.trim().trim_start_matches('#').trim();
        let parent = via.strip_prefix("via").unwrap_or(via).trim();
        if line.starts_with("    #") && !parent.is_empty() && !parent.starts_with('-') {
            requires
                .entry(parent.to_owned())
                .or_default()
                .push(current.clone());
        }
    }
    requires
}

/// Every `name==version` the demo's files pin.
fn demo_pins() -> Vec<(String, String)> {
    let mut pins = Vec::new();
    for file in ["requirements.txt", "requirements-dev.txt", "Dockerfile"] {
        let text = std::fs::read_to_string(Path::new(DEMO).join(file)).unwrap();
        for word in text.split(|c: char| c.is_whitespace() || c == '"' || c == ';') {
            if let Some((name, version)) = word.split_once("==") {
                if !name.is_empty()
                    && !version.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                {
                    pins.push((name.to_lowercase(), version.to_owned()));
                }
            }
        }
    }
    pins.sort();
    pins.dedup();
    pins
}

/// A JSON value that keeps the order of object keys as printed (serde_json's `Value` sorts
/// them).
enum Ordered {
    Scalar(Value),
    Array(Vec<Ordered>),
    Object(Vec<(String, Ordered)>),
}

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Value::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Value::from(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Value::from(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Value::from(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Value::from(v)))
            }
            fn visit_unit<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Value::Null))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Ordered, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Ordered::Array(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Ordered, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Ordered::Object(entries))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl serde::Serialize for Ordered {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Ordered::Scalar(v) => v.serialize(serializer),
            Ordered::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Ordered::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// The first entry of every list of objects in `value`.
fn abbreviated(value: Ordered) -> Ordered {
    match value {
        Ordered::Object(entries) => Ordered::Object(
            entries
                .into_iter()
                .map(|(k, v)| (k, abbreviated(v)))
                .collect(),
        ),
        Ordered::Array(items) if items.iter().any(|i| matches!(i, Ordered::Object(_))) => {
            Ordered::Array(items.into_iter().take(1).map(abbreviated).collect())
        }
        other => other,
    }
}

#[test]
fn readme_examples_are_the_demo_output_with_the_corpus_advisories() {
    let corpus = support::corpus();
    let packages = tempfile::tempdir().unwrap();
    let requires = demo_requires();
    for (name, version) in demo_pins() {
        let children: Vec<&str> = requires
            .get(&name)
            .map(|c| c.iter().map(String::as_str).collect())
            .unwrap_or_default();
        write_wheel_with(
            packages.path(),
            &name.replace('-', "_"),
            &version,
            &Meta {
                requires_dist: &children,
                ..Meta::default()
            },
        );
    }
    for (name, version, requires) in NEWER {
        let meta = Meta {
            requires_python: Some(">=3.8"),
            requires_dist: requires,
            ..Meta::default()
        };
        write_wheel_with(packages.path(), name, version, &meta);
    }
    let pypi = PypiServer::start(packages.path());
    let home = tempfile::tempdir().unwrap();
    let osv = corpus.join("osv");
    let index = pypi.index_url().to_string();
    let env = [("PIP_INDEX_URL", std::ffi::OsStr::new(&index))];
    let run = |args: &[&str]| {
        let out = support::repin_with_env(home.path(), args, &env);
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "repin {args:?}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    let json = |args: &[&str]| {
        let text = run(args);
        let value: Ordered = serde_json::from_str(&text).unwrap();
        serde_json::to_string_pretty(&abbreviated(value)).unwrap()
    };
    let db = osv.to_str().unwrap();
    let lock = format!("{DEMO}/requirements.txt");
    let blocks = [
        (
            "check-table",
            format!(
                "$ repin check --advisory-db ../shared/corpus/osv {lock}\n{}",
                run(&["check", "--no-cache", "--advisory-db", db, &lock])
            ),
        ),
        (
            "check-json",
            json(&[
                "check",
                "--no-cache",
                "--format",
                "json",
                "--advisory-db",
                db,
                &lock,
            ]),
        ),
        (
            "audit-table",
            format!(
                "$ repin audit --advisory-db ../shared/corpus/osv {DEMO}\n{}",
                run(&["audit", "--no-cache", "--advisory-db", db, DEMO])
            ),
        ),
        (
            "audit-json",
            json(&[
                "audit",
                "--no-cache",
                "--format",
                "json",
                "--advisory-db",
                db,
                DEMO,
            ]),
        ),
        (
            "extract-json",
            json(&[
                "extract",
                "--format",
                "json",
                &format!("{DEMO}/Dockerfile"),
                &lock,
            ]),
        ),
    ];
    support::readme::check(&blocks);
}
