//! Finding manifest files in a directory tree.
