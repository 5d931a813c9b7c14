//! Verified edits of dependencies.
