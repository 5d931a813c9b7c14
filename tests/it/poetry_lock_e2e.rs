//! `poetry.lock` written by Poetry itself (`poetry lock` against a real pypiserver), then read
//! by `repin extract` and `repin check`. The oracles: Poetry writes the file, and Python's
//! `tomllib` reads the pins from it independently of repin.

use crate::support::lock_oracles::{ToolWritten, written_by_its_tool_is_read_and_held};

#[test]
fn a_poetry_lock_written_by_poetry_is_read_pin_for_pin_and_its_updates_are_held_for_poetry() {
    written_by_its_tool_is_read_and_held(&ToolWritten {
        manifest_name: "pyproject.toml",
        manifest: "[project]\nname = \"shop\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [\"alpha==1.0\"]\n\n[tool.poetry]\npackage-mode = false\n\n[[tool.poetry.source]]\nname = \"local\"\nurl = \"{index}\"\npriority = \"primary\"\n",
        tool: "poetry",
        args: &["lock", "--no-interaction"],
        lock_name: "poetry.lock",
        table: "package",
        kind: "poetry-lock",
        held_back: "poetry.lock: 1 update held back: `poetry.lock` is tied to its pyproject by a content hash only Poetry computes, so it is re-locked by Poetry (`poetry update NAME`), never edited line by line",
    });
}
