//! `pylock.toml` (PEP 751) written by uv itself (`uv pip compile -o pylock.toml`) against a
//! real pypiserver, then read by `repin extract` and `repin check`. The oracles: uv writes the
//! file, and Python's `tomllib` reads the pins from it independently of repin.

use crate::support::lock_oracles::{ToolWritten, written_by_its_tool_is_read_and_held};

#[test]
fn a_pylock_written_by_uv_is_read_pin_for_pin_and_its_updates_are_held_for_uv() {
    written_by_its_tool_is_read_and_held(&ToolWritten {
        manifest_name: "requirements.in",
        manifest: "alpha==1.0\n",
        tool: "uv",
        args: &[
            "pip",
            "compile",
            "requirements.in",
            "-o",
            "pylock.toml",
            "--python-version",
            "3.12",
            "--no-header",
            "--index-url",
            "{index}",
        ],
        lock_name: "pylock.toml",
        table: "packages",
        kind: "pylock",
        held_back: "pylock.toml: 1 update held back: a `pylock.toml` records one resolution with every file's hash, so it is re-locked by the tool that wrote it (`uv`), never edited line by line",
    });
}
