//! The one environment a lock is resolved for.

use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder};

use super::LockError;

/// A Python version on Linux x86_64, CPython: what markers and `Requires-Python` are checked
/// against.
#[derive(Debug, Clone)]
pub struct Target {
    /// The Python version (`3.12`), compared with `Requires-Python`.
    pub python: Version,
    /// The PEP 508 marker values.
    pub markers: MarkerEnvironment,
}

impl Target {
    /// CPython `python` (`3.12` or `3.12.4`) on Linux x86_64. A version without a patch level
    /// is taken as its `.0` release for `python_full_version`.
    pub fn linux_x86_64(python: &str) -> Result<Target, LockError> {
        let invalid = || LockError::InvalidTarget {
            python: python.to_owned(),
        };
        let version = Version::from_str(python.trim()).map_err(|_| invalid())?;
        let release = version.release();
        if release.len() < 2 || release.len() > 3 || version.any_prerelease() || version.is_local()
        {
            return Err(invalid());
        }
        let minor = format!("{}.{}", release[0], release[1]);
        let full = format!("{minor}.{}", release.get(2).copied().unwrap_or(0));
        let markers = MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
            implementation_name: "cpython",
            implementation_version: &full,
            os_name: "posix",
            platform_machine: "x86_64",
            platform_python_implementation: "CPython",
            platform_release: "",
            platform_system: "Linux",
            platform_version: "",
            python_full_version: &full,
            python_version: &minor,
            sys_platform: "linux",
        })
        .map_err(|_| invalid())?;
        Ok(Target {
            python: Version::from_str(&full).map_err(|_| invalid())?,
            markers,
        })
    }

    /// `3.12` (or `3.12.4` when a patch level was given), for headers and messages.
    pub fn python_label(&self) -> String {
        let release = self.python.release();
        match release {
            [major, minor, 0] => format!("{major}.{minor}"),
            _ => self.python.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pep508_rs::MarkerTree;

    #[test]
    fn markers_of_linux_x86_64_cpython() {
        let target = Target::linux_x86_64("3.12").unwrap();
        assert_eq!(target.python_label(), "3.12");
        for (marker, expected) in [
            ("sys_platform == 'linux'", true),
            ("sys_platform == 'win32'", false),
            ("platform_machine == 'x86_64'", true),
            ("platform_system == 'Darwin'", false),
            ("python_version >= '3.12'", true),
            ("python_version < '3.10'", false),
            ("python_full_version >= '3.12.1'", false),
            ("implementation_name == 'cpython'", true),
            ("platform_python_implementation == 'PyPy'", false),
            ("os_name == 'nt'", false),
        ] {
            let tree = MarkerTree::from_str(marker).unwrap();
            assert_eq!(tree.evaluate(&target.markers, &[]), expected, "{marker}");
        }
        let patch = Target::linux_x86_64("3.11.9").unwrap();
        assert_eq!(patch.python_label(), "3.11.9");
        for bad in ["3", "three", "3.12rc1", "3.12.1.2"] {
            assert!(Target::linux_x86_64(bad).is_err(), "{bad}");
        }
    }
}
