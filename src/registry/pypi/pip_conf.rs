//! pip configuration files (`pip.conf`): the INI dialect of Python's `RawConfigParser`, and
//! pip's rules for which file and which section wins.
//!
//! The INI rules followed: `[section]` headers; `key = value` or `key: value`; keys lowercased
//! with `_` read as `-` (pip normalises them so); lines starting with `#` or `;` are comments;
//! an indented line continues the previous value (so `extra-index-url` can list one URL per
//! line); a non-indented line without `=` or `:` is an error, as in pip.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::PypiError;

/// One parsed pip configuration file: section name to key to value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PipConfFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// `section -> key -> value` (values with continuation lines joined by `\n`).
    pub sections: BTreeMap<String, BTreeMap<String, String>>,
}

impl PipConfFile {
    /// Read a file; `Ok(None)` when it does not exist.
    pub fn load(path: &Path) -> Result<Option<PipConfFile>, PypiError> {
        match std::fs::read(path) {
            Ok(bytes) => PipConfFile::parse(path, &String::from_utf8_lossy(&bytes)).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(PypiError::ReadConfig {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Parse INI text; `path` is for errors.
    pub fn parse(path: &Path, text: &str) -> Result<PipConfFile, PypiError> {
        let error = |line: usize, message: &str| PypiError::InvalidPipConf {
            path: path.to_path_buf(),
            line,
            message: message.to_owned(),
        };
        let mut file = PipConfFile {
            path: path.to_path_buf(),
            sections: BTreeMap::new(),
        };
        let mut section: Option<String> = None;
        // The key a continuation line appends to.
        let mut last_key: Option<String> = None;
        for (number, raw) in text.lines().enumerate() {
            let number = number + 1;
            let line = raw.trim_end();
            let trimmed = line.trim_start();
            if trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            if trimmed.is_empty() {
                // configparser keeps empty lines inside values; they do not end them.
                continue;
            }
            let indented = line.len() != trimmed.len();
            if indented {
                if let (Some(section), Some(key)) = (&section, &last_key) {
                    let value = file
                        .sections
                        .get_mut(section)
                        .and_then(|s| s.get_mut(key))
                        .expect("the key was inserted when it was read");
                    if !value.is_empty() {
                        value.push('\n');
                    }
                    value.push_str(trimmed);
                    continue;
                }
            }
            if let Some(name) = trimmed.strip_prefix('[') {
                let Some(name) = name.strip_suffix(']') else {
                    return Err(error(number, "a section header must end with `]`"));
                };
                file.sections.entry(name.to_owned()).or_default();
                section = Some(name.to_owned());
                last_key = None;
                continue;
            }
            let Some(current) = &section else {
                return Err(error(
                    number,
                    "a setting must come after a section header such as `[global]`",
                ));
            };
            let Some(split) = trimmed.find(['=', ':']) else {
                return Err(error(
                    number,
                    // No `:` in the line, so no URL (and no credentials) to hide in it.
                    &format!("expected `key = value`, found `{trimmed}`"),
                ));
            };
            let key = normalize_key(&trimmed[..split]);
            let value = trimmed[split + 1..].trim().to_owned();
            file.sections
                .entry(current.clone())
                .or_default()
                .insert(key.clone(), value);
            last_key = Some(key);
        }
        Ok(file)
    }
}

/// pip's key normalisation: lowercase, `_` is `-`, a leading `--` is dropped.
fn normalize_key(key: &str) -> String {
    let key = key.trim().to_lowercase().replace('_', "-");
    key.strip_prefix("--").map(str::to_owned).unwrap_or(key)
}

/// Where a setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The value (continuation lines joined by `\n`).
    pub value: String,
    /// The file it was read from.
    pub path: PathBuf,
}

/// The settings of all pip configuration files, merged the way `pip install` merges them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PipConf {
    settings: BTreeMap<String, Setting>,
}

impl PipConf {
    /// Merge files given in increasing precedence (a later file overrides an earlier one).
    ///
    /// pip pools each section across files first, then lets `[install]` override `[global]`:
    /// so an `[install]` key in a low-precedence file still beats a `[global]` key in a
    /// high-precedence one. Empty values are ignored, as pip ignores them.
    pub fn merge(files: &[PipConfFile]) -> PipConf {
        let mut settings = BTreeMap::new();
        for section in ["global", "install"] {
            for file in files {
                for (key, value) in file.sections.get(section).into_iter().flatten() {
                    if !value.trim().is_empty() {
                        settings.insert(
                            key.clone(),
                            Setting {
                                value: value.clone(),
                                path: file.path.clone(),
                            },
                        );
                    }
                }
            }
        }
        PipConf { settings }
    }

    /// A setting by (normalised) key, such as `index-url`.
    pub fn get(&self, key: &str) -> Option<&Setting> {
        self.settings.get(&normalize_key(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> PipConfFile {
        PipConfFile::parse(Path::new("pip.conf"), text).unwrap()
    }

    #[test]
    fn reads_sections_keys_comments_and_continuations() {
        let file = parse(
            "# comment\n\
             ; another\n\
             [global]\n\
             Index_URL = https://one.example/simple\n\
             timeout: 60\n\
             extra-index-url =\n    https://two.example/simple\n\n    https://three.example/simple\n\
             --no-index = false\n\
             [install]\n\
             extra_index_url = https://four.example/simple\r\n",
        );
        let global = &file.sections["global"];
        assert_eq!(global["index-url"], "https://one.example/simple");
        assert_eq!(global["timeout"], "60");
        assert_eq!(
            global["extra-index-url"],
            "https://two.example/simple\nhttps://three.example/simple"
        );
        assert_eq!(global["no-index"], "false");
        assert_eq!(
            file.sections["install"]["extra-index-url"],
            "https://four.example/simple"
        );
    }

    #[test]
    fn malformed_files_are_errors_with_a_line() {
        let cases = [
            ("index-url = x\n", 1, "must come after a section header"),
            ("[global]\n\njust some words\n", 3, "expected `key = value`"),
            ("[global\n", 1, "must end with `]`"),
        ];
        for (text, line, message) in cases {
            let error = PipConfFile::parse(Path::new("/etc/pip.conf"), text).unwrap_err();
            let shown = error.to_string();
            assert!(
                shown.starts_with(&format!(
                    "Invalid pip configuration at /etc/pip.conf:{line}: "
                )),
                "{shown}"
            );
            assert!(shown.contains(message), "{shown}");
        }
    }

    #[test]
    fn install_beats_global_and_later_files_beat_earlier_ones() {
        let low = PipConfFile {
            path: "/etc/pip.conf".into(),
            ..parse(
                "[install]\nindex-url = https://install-low/\n[global]\nextra-index-url = https://extra-low/\ntimeout = 1\n",
            )
        };
        let high = PipConfFile {
            path: "/home/u/.config/pip/pip.conf".into(),
            ..parse(
                "[global]\nindex-url = https://global-high/\nextra-index-url = https://extra-high/\ntimeout =\n",
            )
        };
        let merged = PipConf::merge(&[low, high]);
        let index = merged.get("index_url").unwrap();
        assert_eq!(index.value, "https://install-low/");
        assert_eq!(index.path, PathBuf::from("/etc/pip.conf"));
        assert_eq!(
            merged.get("extra-index-url").unwrap().value,
            "https://extra-high/"
        );
        // An empty value in a higher file does not erase a lower one.
        assert_eq!(merged.get("timeout").unwrap().value, "1");
        assert!(merged.get("no-index").is_none());
    }
}
