//! Python package names, normalised as PEP 503 compares them.

use std::fmt;

use serde::Serialize;

/// Normalise a package name per PEP 503: lowercase, runs of `-`, `_`, `.` become one `-`.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            separator = true;
        } else {
            if separator && !out.is_empty() {
                out.push('-');
            }
            separator = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// A Python package's name in its PEP 503 normal form (`Zope.Interface` is `zope-interface`),
/// so that two spellings of one package compare equal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct PackageName(String);

impl PackageName {
    /// The normal form of a name as written.
    pub fn new(written: &str) -> Self {
        Self(normalize_name(written))
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `written` names this package.
    pub fn is(&self, written: &str) -> bool {
        normalize_name(written) == self.0
    }
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for PackageName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<PackageName> for String {
    fn from(name: PackageName) -> Self {
        name.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_names_per_pep_503() {
        assert_eq!(normalize_name("Jinja2"), "jinja2");
        assert_eq!(normalize_name("zope.interface"), "zope-interface");
        assert_eq!(normalize_name("Foo__Bar-._baz"), "foo-bar-baz");
        assert_eq!(normalize_name("_leading"), "leading");
    }

    #[test]
    fn two_spellings_of_one_package_are_one_name() {
        let name = PackageName::new("Zope.Interface");
        assert_eq!(name, PackageName::new("zope_interface"));
        assert_eq!(name.to_string(), "zope-interface");
        assert!(name.is("ZOPE--interface"));
        assert!(!name.is("zope-interfaces"));
        assert_eq!(serde_json::to_string(&name).unwrap(), "\"zope-interface\"");
    }
}
