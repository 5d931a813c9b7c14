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
