//! Which wheels install on an image: CPython `X.Y` on Linux, one architecture and one C
//! library, judged by the compatibility tags pip accepts there (PEP 425 tags, PEP 600
//! `manylinux`, PEP 656 `musllinux`), as `packaging.tags.sys_tags` lists them.
//!
//! A lock is resolved for one platform, but the image may be built for several (`[images]
//! platforms`), or on musl (Alpine). A pin with no wheel for one of them is built from its
//! sdist during the image build (a compiler and headers needed, minutes added), or does not
//! install at all: [`platform_gaps`] names those pins.
//!
//! The glibc and musl versions of the image are not known here, so any `manylinux` (or
//! `musllinux`) wheel of the right architecture counts: what is reported is the common and
//! costly case, no wheel for the platform at all, never a false alarm over a libc version.

use crate::registry::pypi::WheelTags;
use crate::target::Libc;

/// Whether a `pylock.toml` for `platforms` lists a file of this kind: an sdist, or a wheel
/// that installs on one of them.
pub fn lockable(kind: &crate::registry::pypi::DistKind, platforms: &[Platform]) -> bool {
    match kind {
        crate::registry::pypi::DistKind::Wheel(tags) => platforms.iter().any(|p| p.installs(tags)),
        crate::registry::pypi::DistKind::Sdist { .. } => true,
        crate::registry::pypi::DistKind::Other => false,
    }
}

/// A platform a lock's pins are installed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// The CPython minor, `(3, 12)`.
    pub python: (u64, u64),
    /// The OCI platform (`linux/arm64`), for messages.
    pub oci: String,
    /// The machine as wheel tags name it (`x86_64`, `aarch64`).
    pub machine: String,
    /// The C library.
    pub libc: Libc,
}

impl Platform {
    /// CPython `python` on an OCI platform (`linux/amd64`, `linux/arm64/v8`); `None` for a
    /// platform that is not Linux or whose architecture wheels do not name.
    pub fn new(python: (u64, u64), oci: &str, libc: Libc) -> Option<Platform> {
        let mut parts = oci.split('/');
        if parts.next()? != "linux" {
            return None;
        }
        let machine = match (parts.next()?, parts.next()) {
            ("amd64", _) => "x86_64",
            ("arm64", _) => "aarch64",
            ("arm", Some("v7")) => "armv7l",
            ("386", _) => "i686",
            ("ppc64le", _) => "ppc64le",
            ("s390x", _) => "s390x",
            _ => return None,
        };
        Some(Platform {
            python,
            oci: oci.to_owned(),
            machine: machine.to_owned(),
            libc,
        })
    }

    /// `CPython 3.12 on linux/arm64 (musl)`, for messages.
    pub fn describe(&self) -> String {
        let libc = match self.libc {
            Libc::Glibc => "glibc",
            Libc::Musl => "musl",
        };
        format!(
            "CPython {}.{} on {} ({libc})",
            self.python.0, self.python.1, self.oci
        )
    }

    /// Whether a Python tag and an ABI tag (one of each, not compressed) run on this CPython.
    fn runs(&self, python: &str, abi: &str) -> bool {
        let (major, minor) = self.python;
        // `cp312`, `py3`, `py312`: the implementation and the version it names.
        let version = |tag: &str, prefix: &str| -> Option<(u64, Option<u64>)> {
            let digits = tag.strip_prefix(prefix)?;
            let mut chars = digits.chars();
            let first = u64::from(chars.next()?.to_digit(10)?);
            let rest = chars.as_str();
            let second = if rest.is_empty() {
                None
            } else {
                Some(rest.parse().ok()?)
            };
            Some((first, second))
        };
        if let Some((m, Some(n))) = version(python, "cp") {
            if m != major {
                return false;
            }
            let exact = n == minor;
            return match abi {
                "none" => exact,
                "abi3" => n <= minor,
                _ => exact && abi == python,
            };
        }
        if let Some((m, n)) = version(python, "py") {
            // `py3` and `py3N` for N up to the minor, with no ABI of their own.
            return abi == "none" && m == major && n.is_none_or(|n| n <= minor);
        }
        false
    }

    /// Whether a platform tag (one, not compressed) installs here.
    fn fits(&self, platform: &str) -> bool {
        if platform == "any" {
            return true;
        }
        let Some(prefix) = platform.strip_suffix(self.machine.as_str()) else {
            return false;
        };
        let Some(prefix) = prefix.strip_suffix('_') else {
            return false;
        };
        match self.libc {
            Libc::Glibc => {
                prefix == "linux"
                    || matches!(prefix, "manylinux1" | "manylinux2010" | "manylinux2014")
                    || prefix
                        .strip_prefix("manylinux_")
                        .is_some_and(is_libc_version)
            }
            Libc::Musl => prefix
                .strip_prefix("musllinux_")
                .is_some_and(is_libc_version),
        }
    }

    /// Whether a wheel with these tags installs here: some combination of its (possibly
    /// compressed) Python, ABI and platform tags does.
    pub fn installs(&self, tags: &WheelTags) -> bool {
        tags.python_tag
            .split('.')
            .any(|python| tags.abi_tag.split('.').any(|abi| self.runs(python, abi)))
            && tags.platform_tag.split('.').any(|p| self.fits(p))
    }
}

/// `2_17`: a glibc or musl version in a platform tag.
fn is_libc_version(text: &str) -> bool {
    let mut parts = text.split('_');
    let numeric =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    numeric(parts.next()) && numeric(parts.next()) && parts.next().is_none()
}

/// What a pinned release offers a platform it has no wheel for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gap {
    /// pip builds it from its sdist in the image.
    BuildsFromSource,
    /// Nothing of it installs there.
    NothingInstalls,
}

/// The files of one pinned release: its wheels' tags and whether it has an sdist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseFiles {
    /// The tags of each wheel that is not yanked.
    pub wheels: Vec<WheelTags>,
    /// Whether an sdist that is not yanked is listed.
    pub sdist: bool,
}

/// For each platform, the pins `(name, version, files)` with no wheel that installs there.
pub fn platform_gaps<'a>(
    pins: &'a [(String, String, ReleaseFiles)],
    platforms: &'a [Platform],
) -> Vec<(&'a Platform, &'a str, &'a str, Gap)> {
    let mut gaps = Vec::new();
    for platform in platforms {
        for (name, version, files) in pins {
            if files.wheels.iter().any(|w| platform.installs(w)) {
                continue;
            }
            let gap = if files.sdist {
                Gap::BuildsFromSource
            } else {
                Gap::NothingInstalls
            };
            gaps.push((platform, name.as_str(), version.as_str(), gap));
        }
    }
    gaps
}

/// The platforms a lock's pins are installed on: the file's own (its stage's `--platform` and
/// C library) and every one of `[images] platforms`, for the lock's Python.
pub fn platforms_for(
    python: &pep440_rs::Version,
    file_target: Option<&crate::target::Target>,
    configured: &[String],
) -> Vec<Platform> {
    let release = python.release();
    let minor = (
        release.first().copied().unwrap_or(3),
        release.get(1).copied().unwrap_or(0),
    );
    let libc = file_target.and_then(|t| t.libc).unwrap_or(Libc::Glibc);
    let mut platforms: Vec<Platform> = Vec::new();
    let own = file_target.and_then(|t| t.platform.clone());
    for oci in own.iter().chain(configured) {
        if let Some(platform) = Platform::new(minor, oci, libc) {
            if !platforms.contains(&platform) {
                platforms.push(platform);
            }
        }
    }
    platforms
}

/// The warning for one gap.
pub fn describe_gap(platform: &Platform, name: &str, version: &str, gap: &Gap) -> String {
    match gap {
        Gap::BuildsFromSource => format!(
            "`{name}` {version} has no wheel for {}: pip builds it from its sdist in the image (a compiler and the library headers it needs must be there)",
            platform.describe()
        ),
        Gap::NothingInstalls => format!(
            "`{name}` {version} has no wheel for {} and no sdist: it cannot be installed there",
            platform.describe()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(text: &str) -> WheelTags {
        let mut parts = text.split('-');
        WheelTags {
            build_tag: None,
            python_tag: parts.next().unwrap().to_owned(),
            abi_tag: parts.next().unwrap().to_owned(),
            platform_tag: parts.next().unwrap().to_owned(),
        }
    }

    fn on(python: (u64, u64), oci: &str, libc: Libc) -> Platform {
        Platform::new(python, oci, libc).unwrap()
    }

    #[test]
    fn pure_python_wheels_install_everywhere_their_python_tag_allows() {
        let amd = on((3, 12), "linux/amd64", Libc::Glibc);
        let alpine_arm = on((3, 12), "linux/arm64", Libc::Musl);
        for wheel in [
            "py3-none-any",
            "py2.py3-none-any",
            "py312-none-any",
            "py38-none-any",
        ] {
            assert!(amd.installs(&tags(wheel)), "{wheel}");
            assert!(alpine_arm.installs(&tags(wheel)), "{wheel}");
        }
        // A wheel for a newer Python, or for Python 2 only, does not.
        assert!(!amd.installs(&tags("py313-none-any")));
        assert!(!amd.installs(&tags("py2-none-any")));
        // `cp312-none-any` is CPython 3.12 only.
        assert!(amd.installs(&tags("cp312-none-any")));
        assert!(!amd.installs(&tags("cp311-none-any")));
    }

    #[test]
    fn binary_wheels_need_the_abi_the_machine_and_the_libc() {
        let amd = on((3, 12), "linux/amd64", Libc::Glibc);
        let arm = on((3, 12), "linux/arm64", Libc::Glibc);
        let alpine = on((3, 12), "linux/amd64", Libc::Musl);
        let numpy = tags("cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64");
        assert!(amd.installs(&numpy));
        assert!(!arm.installs(&numpy));
        assert!(!alpine.installs(&numpy));
        assert!(alpine.installs(&tags("cp312-cp312-musllinux_1_2_x86_64")));
        assert!(!amd.installs(&tags("cp312-cp312-musllinux_1_2_x86_64")));
        assert!(arm.installs(&tags("cp312-cp312-manylinux_2_28_aarch64")));
        // Another CPython's ABI does not load; the stable ABI of an older one does.
        assert!(!amd.installs(&tags("cp311-cp311-manylinux2014_x86_64")));
        assert!(amd.installs(&tags("cp39-abi3-manylinux2014_x86_64")));
        assert!(!amd.installs(&tags("cp313-abi3-manylinux2014_x86_64")));
        // Free-threaded and debug builds are other ABIs.
        assert!(
            !on((3, 13), "linux/amd64", Libc::Glibc)
                .installs(&tags("cp313-cp313t-manylinux2014_x86_64"))
        );
        // macOS and Windows wheels install on no image.
        assert!(!amd.installs(&tags("cp312-cp312-macosx_11_0_arm64")));
        assert!(!amd.installs(&tags("cp312-cp312-win_amd64")));
        // `manylinux_x_y` needs a version; a malformed tag fits nothing.
        assert!(!amd.installs(&tags("cp312-cp312-manylinux_x86_64")));
        assert!(amd.installs(&tags("cp312-cp312-linux_x86_64")));
    }

    #[test]
    fn oci_platforms_name_their_machine_and_other_systems_none() {
        assert_eq!(
            on((3, 12), "linux/arm64/v8", Libc::Glibc).machine,
            "aarch64"
        );
        assert_eq!(on((3, 12), "linux/arm/v7", Libc::Glibc).machine, "armv7l");
        assert_eq!(Platform::new((3, 12), "windows/amd64", Libc::Glibc), None);
        assert_eq!(Platform::new((3, 12), "linux/mips64le", Libc::Glibc), None);
        assert_eq!(
            on((3, 12), "linux/arm64", Libc::Musl).describe(),
            "CPython 3.12 on linux/arm64 (musl)"
        );
    }

    #[test]
    fn gaps_are_named_per_platform() {
        let platforms = [
            on((3, 12), "linux/amd64", Libc::Glibc),
            on((3, 12), "linux/arm64", Libc::Glibc),
        ];
        let pins = vec![
            (
                "six".to_owned(),
                "1.16.0".to_owned(),
                ReleaseFiles {
                    wheels: vec![tags("py2.py3-none-any")],
                    sdist: true,
                },
            ),
            (
                "fastlib".to_owned(),
                "2.0".to_owned(),
                ReleaseFiles {
                    wheels: vec![tags("cp312-cp312-manylinux2014_x86_64")],
                    sdist: true,
                },
            ),
            (
                "binonly".to_owned(),
                "1.0".to_owned(),
                ReleaseFiles {
                    wheels: vec![tags("cp312-cp312-manylinux2014_x86_64")],
                    sdist: false,
                },
            ),
        ];
        let gaps: Vec<(String, &str, Gap)> = platform_gaps(&pins, &platforms)
            .into_iter()
            .map(|(p, name, _, gap)| (p.oci.clone(), name, gap))
            .collect();
        assert_eq!(
            gaps,
            vec![
                ("linux/arm64".to_owned(), "fastlib", Gap::BuildsFromSource),
                ("linux/arm64".to_owned(), "binonly", Gap::NothingInstalls),
            ]
        );
        assert_eq!(
            describe_gap(&platforms[1], "fastlib", "2.0", &Gap::BuildsFromSource),
            "`fastlib` 2.0 has no wheel for CPython 3.12 on linux/arm64 (glibc): pip builds it from its sdist in the image (a compiler and the library headers it needs must be there)"
        );
    }
}
