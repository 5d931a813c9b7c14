//! What two readers other than repin find in a TOML lock file, for the lock-format tests:
//! Python's `tomllib`, and `repin extract`'s JSON, as sorted `name version` lines.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The `name version` of every entry of the array of tables `table` of the TOML file `lock`,
/// as Python's `tomllib` reads them, sorted.
pub fn tomllib_pins(lock: &Path, table: &str) -> Vec<String> {
    python_lines(
        "import sys, tomllib; d = tomllib.load(open(sys.argv[1], 'rb')); print('\\n'.join(sorted(p['name'] + ' ' + p['version'] for p in d[sys.argv[2]])))",
        &[lock.as_os_str(), table.as_ref()],
    )
}

/// The `name version` of every entry of the array of tables `table` of the TOML text `lock`,
/// sorted (a lock a tool wrote, read by a TOML parser, not by repin's lock readers).
pub fn toml_pins(lock: &str, table: &str) -> Vec<String> {
    let document: toml_edit::DocumentMut = lock.parse().unwrap();
    let mut out: Vec<String> = document[table]
        .as_array_of_tables()
        .unwrap_or_else(|| panic!("no [[{table}]] in {lock}"))
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap()
            )
        })
        .collect();
    out.sort();
    out
}

/// The lines Python's `script` prints for `args` (the test's Python, `REPIN_PYTHON`), failing
/// the test when it does not run.
pub fn python_lines(script: &str, args: &[&std::ffi::OsStr]) -> Vec<String> {
    let python = crate::support::pypiserver::python();
    let out = Command::new(&python)
        .args(["-c", script])
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{python} does not run ({e}): set REPIN_PYTHON to a Python 3.11+")
        });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The pins `repin extract --format json` finds in the file of `report` whose path ends with
/// `file_name`, sorted, checking that the file is of `kind`, nothing in the run has a
/// diagnostic, and no pin is skipped.
pub fn extracted_pins(report: &Value, file_name: &str, kind: &str) -> Vec<String> {
    assert_eq!(report["diagnostics"], serde_json::json!([]), "{report:#}");
    let file = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with(file_name))
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(file["kind"], kind, "{file:#}");
    let mut pins: Vec<String> = file["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            assert!(d["skip_reason"].is_null(), "{d:#}");
            format!(
                "{} {}",
                d["name"].as_str().unwrap(),
                d["current"].as_str().unwrap()
            )
        })
        .collect();
    pins.sort();
    pins
}

/// A lock written by its own tool, for [`written_by_its_tool_is_read_and_held`].
pub struct ToolWritten<'a> {
    /// The manifest's file name (`pyproject.toml`).
    pub manifest_name: &'a str,
    /// The manifest, `{index}` standing for the local index's URL.
    pub manifest: &'a str,
    /// The tool (from `PATH`), run in the repository with a scratch of its own.
    pub tool: &'a str,
    /// The tool's arguments; `{index}` is the local index's URL.
    pub args: &'a [&'a str],
    /// The lock's file name.
    pub lock_name: &'a str,
    /// The lock's array of tables with one entry a package.
    pub table: &'a str,
    /// The kind `repin extract` gives the lock.
    pub kind: &'a str,
    /// What `repin check` says of the update it holds back for the tool.
    pub held_back: &'a str,
}

/// The tool writes its lock for `alpha==1.0` (which needs `beta>=2`) against a local
/// pypiserver; then `repin extract` must find the pins Python's `tomllib` finds, and `repin
/// check` must hold alpha 1.1 back for the tool, saying `held_back`, and leave the lock as it is.
pub fn written_by_its_tool_is_read_and_held(case: &ToolWritten) {
    use crate::support::tools::{Tools, publish, repository};
    let packages = tempfile::tempdir().unwrap();
    publish(
        packages.path(),
        &[
            ("alpha", "1.0", &["beta>=2"]),
            ("alpha", "1.1", &["beta>=2"]),
            ("beta", "2.0", &[]),
        ],
    );
    let pypi = crate::support::pypiserver::PypiServer::start(packages.path());
    let index = pypi.index_url().to_string();
    let repo = repository(case.manifest_name, case.manifest, &index);
    let r = repo.path();
    // The Python the lock is for, whatever the machine's.
    let settings = r.join("repin.toml");
    let settings_text = std::fs::read_to_string(&settings).unwrap();
    std::fs::write(
        &settings,
        format!("[python]\nversion = \"3.12\"\n\n{settings_text}"),
    )
    .unwrap();
    let args: Vec<String> = case
        .args
        .iter()
        .map(|a| a.replace("{index}", &index))
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Tools::new().run(case.tool, r, &args, &[]);
    let lock = std::fs::read_to_string(r.join(case.lock_name)).unwrap();

    // What Python's own TOML reader finds in it, and what repin finds.
    let home = tempfile::tempdir().unwrap();
    let expected = tomllib_pins(&r.join(case.lock_name), case.table);
    assert_eq!(expected, ["alpha 1.0", "beta 2.0"], "{lock}");
    let out = crate::support::repin(
        home.path(),
        &["extract", "--format", "json", r.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(extracted_pins(&report, case.lock_name, case.kind), expected);

    // check: alpha 1.1 is due, and held for the tool; the lock is unchanged.
    let out = crate::support::repin(
        home.path(),
        &[
            "check",
            "--no-cache",
            "--format",
            "json",
            r.to_str().unwrap(),
        ],
    );
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(report["errors"], serde_json::json!([]), "{report:#}");
    assert!(
        !report["updates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["file"].as_str().unwrap().ends_with(case.lock_name)),
        "{report:#}"
    );
    assert!(report.to_string().contains(case.held_back), "{report:#}");
    assert_eq!(
        std::fs::read_to_string(r.join(case.lock_name)).unwrap(),
        lock
    );
}
