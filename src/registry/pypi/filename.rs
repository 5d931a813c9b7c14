//! Distribution file names: which project a wheel or sdist belongs to, which version, which tags.
//!
//! A simple-API page lists files, not releases, so versions come from file names (unless the
//! index sends the PEP 700 `versions` list). Names and versions can both hold hyphens
//! (`python-dateutil-2.8.2.tar.gz`, `foo-1.0-1.tar.gz`), so an sdist name is only split where
//! the part before the hyphen normalises to the project's name, exactly as pip does.

use std::str::FromStr;

use pep440_rs::Version;
use serde::Serialize;

use crate::vocab::normalize_name;

/// Source distribution extensions pip accepts, longest first so `.tar.gz` wins over `.tar`.
pub const SDIST_EXTENSIONS: &[&str] = &[
    ".tar.lzma",
    ".tar.bz2",
    ".tar.gz",
    ".tar.xz",
    ".tar.lz",
    ".zip",
    ".tgz",
    ".tbz",
    ".txz",
    ".tlz",
    ".tar",
];

/// What kind of distribution a file is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum DistKind {
    /// A built distribution (`.whl`), with its tags (boxed: an index page may list hundreds of
    /// thousands of files, and the tags would double the size of every one of them).
    Wheel(Box<WheelTags>),
    /// A source distribution, with its archive extension (`.tar.gz`, `.zip`, ...).
    Sdist {
        /// The extension as written in the file name.
        extension: String,
    },
    /// Anything else (`.egg`, `.exe`, a file of another project): not a release file repin uses.
    Other,
}

/// The tags of a wheel's file name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WheelTags {
    /// The optional build tag (`1`, `2abc`): it orders wheels of the same version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_tag: Option<String>,
    /// The Python tag, possibly compressed (`py2.py3`, `cp312`).
    pub python_tag: String,
    /// The ABI tag (`none`, `abi3`, `cp312`).
    pub abi_tag: String,
    /// The platform tag, possibly compressed (`any`, `manylinux_2_17_x86_64.manylinux2014_x86_64`).
    pub platform_tag: String,
}

/// A parsed wheel or sdist file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistFilename {
    /// The project name as written in the file name (`zope.interface`, `scikit_learn`).
    pub name: String,
    /// The version as written (`2022.12.07`, `1.0_rc1`).
    pub version_text: String,
    /// The parsed version; `None` when the text is not a PEP 440 version.
    pub version: Option<Version>,
    /// Wheel tags or sdist extension.
    pub kind: DistKind,
}

/// Why a file name was not taken as a distribution of the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Not a wheel and not an sdist extension (`.egg`, `.exe`, `.msi`, a directory link).
    UnknownFormat,
    /// A wheel or sdist, but its name part is another project's.
    OtherProject,
    /// A `.whl` whose name does not have the `name-version[-build]-py-abi-platform` shape.
    MalformedWheel,
}

/// Parse `filename` as a file of `project` (any spelling; it is normalised here).
pub fn parse(filename: &str, project: &str) -> Result<DistFilename, Rejection> {
    let project = normalize_name(project);
    if let Some(stem) = strip_suffix_ignore_case(filename, ".whl") {
        return parse_wheel(stem, &project);
    }
    let extension = SDIST_EXTENSIONS
        .iter()
        .find(|ext| strip_suffix_ignore_case(filename, ext).is_some())
        .ok_or(Rejection::UnknownFormat)?;
    let stem = &filename[..filename.len() - extension.len()];
    let (name, version_text) = split_name_version(stem, &project).ok_or(Rejection::OtherProject)?;
    Ok(DistFilename {
        name: name.to_owned(),
        version_text: version_text.to_owned(),
        version: Version::from_str(version_text).ok(),
        kind: DistKind::Sdist {
            extension: filename[filename.len() - extension.len()..].to_owned(),
        },
    })
}

/// `{name}-{version}(-{build})?-{python}-{abi}-{platform}` (the `.whl` already removed).
fn parse_wheel(stem: &str, project: &str) -> Result<DistFilename, Rejection> {
    let parts: Vec<&str> = stem.split('-').collect();
    // The well-formed case: the name has its hyphens escaped as underscores.
    if (parts.len() == 5 || parts.len() == 6) && normalize_name(parts[0]) == project {
        return wheel_from_parts(parts[0], &parts[1..]);
    }
    // Old tools wrote names with hyphens (`foo-bar-1.0-py3-none-any.whl`): find the prefix that
    // is the project's name and parse the rest.
    for (at, _) in stem.match_indices('-') {
        if normalize_name(&stem[..at]) == project {
            let rest: Vec<&str> = stem[at + 1..].split('-').collect();
            if rest.len() == 4 || rest.len() == 5 {
                return wheel_from_parts(&stem[..at], &rest);
            }
        }
    }
    if parts.len() == 5 || parts.len() == 6 {
        Err(Rejection::OtherProject)
    } else {
        Err(Rejection::MalformedWheel)
    }
}

/// `rest` is `[version, (build,)? python, abi, platform]`.
fn wheel_from_parts(name: &str, rest: &[&str]) -> Result<DistFilename, Rejection> {
    if name.is_empty() || rest.iter().any(|p| p.is_empty()) {
        return Err(Rejection::MalformedWheel);
    }
    let (version_text, build_tag, tags) = match rest {
        [version, build, tags @ ..] if rest.len() == 5 => {
            // A build tag must start with a digit (wheel spec); anything else is malformed.
            if !build.starts_with(|c: char| c.is_ascii_digit()) {
                return Err(Rejection::MalformedWheel);
            }
            (*version, Some((*build).to_owned()), tags)
        }
        [version, tags @ ..] => (*version, None, tags),
        [] => return Err(Rejection::MalformedWheel),
    };
    let [python_tag, abi_tag, platform_tag] = tags else {
        return Err(Rejection::MalformedWheel);
    };
    Ok(DistFilename {
        name: name.to_owned(),
        version_text: version_text.to_owned(),
        version: Version::from_str(version_text).ok(),
        kind: DistKind::Wheel(Box::new(WheelTags {
            build_tag,
            python_tag: (*python_tag).to_owned(),
            abi_tag: (*abi_tag).to_owned(),
            platform_tag: (*platform_tag).to_owned(),
        })),
    })
}

/// Split `{name}-{version}` at the first hyphen whose prefix normalises to `project` (pip's
/// `_find_name_version_sep`).
fn split_name_version<'a>(stem: &'a str, project: &str) -> Option<(&'a str, &'a str)> {
    stem.match_indices('-')
        .map(|(at, _)| (&stem[..at], &stem[at + 1..]))
        .find(|(name, version)| !version.is_empty() && normalize_name(name) == project)
}

fn strip_suffix_ignore_case<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = text.len().checked_sub(suffix.len())?;
    (text.is_char_boundary(cut) && text[cut..].eq_ignore_ascii_case(suffix)).then(|| &text[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (file name, project, expected name, version text, normalised version or `None`, kind).
    #[allow(clippy::type_complexity)]
    #[rustfmt::skip]
    const CASES: &[(&str, &str, &str, &str, Option<&str>, &str)] = &[
        // Wheels.
        ("flask-3.0.3-py3-none-any.whl", "flask", "flask", "3.0.3", Some("3.0.3"), "wheel py3 none any"),
        ("Flask-3.0.3-py3-none-any.whl", "Flask", "Flask", "3.0.3", Some("3.0.3"), "wheel py3 none any"),
        ("zope.interface-6.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "zope-interface", "zope.interface", "6.0", Some("6.0"), "wheel cp311 cp311 manylinux_2_17_x86_64.manylinux2014_x86_64"),
        ("zope_interface-7.2-cp313-cp313-win_amd64.whl", "zope.interface", "zope_interface", "7.2", Some("7.2"), "wheel cp313 cp313 win_amd64"),
        ("scikit_learn-1.5.2-cp312-cp312-macosx_12_0_arm64.whl", "scikit-learn", "scikit_learn", "1.5.2", Some("1.5.2"), "wheel cp312 cp312 macosx_12_0_arm64"),
        ("six-1.16.0-py2.py3-none-any.whl", "six", "six", "1.16.0", Some("1.16.0"), "wheel py2.py3 none any"),
        ("numpy-2.1.0rc1-cp312-cp312-musllinux_1_2_aarch64.whl", "numpy", "numpy", "2.1.0rc1", Some("2.1.0rc1"), "wheel cp312 cp312 musllinux_1_2_aarch64"),
        ("pkg-1.0-1-py3-none-any.whl", "pkg", "pkg", "1.0", Some("1.0"), "wheel build=1 py3 none any"),
        ("pkg-1.0-2abc-py3-none-any.whl", "pkg", "pkg", "1.0", Some("1.0"), "wheel build=2abc py3 none any"),
        ("torch-2.7.0+cu128-cp312-cp312-linux_x86_64.whl", "torch", "torch", "2.7.0+cu128", Some("2.7.0+cu128"), "wheel cp312 cp312 linux_x86_64"),
        ("pkg-1.0_rc1-py3-none-any.whl", "pkg", "pkg", "1.0_rc1", Some("1.0rc1"), "wheel py3 none any"),
        ("pkg-1!2.0.post3.dev4-py3-none-any.whl", "pkg", "pkg", "1!2.0.post3.dev4", Some("1!2.0.post3.dev4"), "wheel py3 none any"),
        ("cryptography-43.0.1-cp39-abi3-manylinux_2_28_x86_64.whl", "cryptography", "cryptography", "43.0.1", Some("43.0.1"), "wheel cp39 abi3 manylinux_2_28_x86_64"),
        ("foo-bar-1.0-py3-none-any.whl", "foo-bar", "foo-bar", "1.0", Some("1.0"), "wheel py3 none any"),
        ("PKG-1.0-PY3-NONE-ANY.WHL", "pkg", "PKG", "1.0", Some("1.0"), "wheel PY3 NONE ANY"),
        ("pkg-latest-py3-none-any.whl", "pkg", "pkg", "latest", None, "wheel py3 none any"),
        ("pkg-1.0.0-py3-none-any.whl", "PKG", "pkg", "1.0.0", Some("1.0.0"), "wheel py3 none any"),
        // Sdists.
        ("flask-3.0.3.tar.gz", "flask", "flask", "3.0.3", Some("3.0.3"), "sdist .tar.gz"),
        ("Flask-3.0.3.tar.gz", "flask", "Flask", "3.0.3", Some("3.0.3"), "sdist .tar.gz"),
        ("python-dateutil-2.8.2.tar.gz", "python-dateutil", "python-dateutil", "2.8.2", Some("2.8.2"), "sdist .tar.gz"),
        ("python_dateutil-2.9.0.post0.tar.gz", "python-dateutil", "python_dateutil", "2.9.0.post0", Some("2.9.0.post0"), "sdist .tar.gz"),
        ("zope.interface-5.4.0.tar.gz", "zope-interface", "zope.interface", "5.4.0", Some("5.4.0"), "sdist .tar.gz"),
        ("PyYAML-6.0.1.tar.gz", "pyyaml", "PyYAML", "6.0.1", Some("6.0.1"), "sdist .tar.gz"),
        ("foo-1.0-1.tar.gz", "foo", "foo", "1.0-1", Some("1.0.post1"), "sdist .tar.gz"),
        ("foo-1.0-beta.tar.gz", "foo", "foo", "1.0-beta", Some("1.0b0"), "sdist .tar.gz"),
        ("foo-bar-1.0-rc1.tar.gz", "foo-bar", "foo-bar", "1.0-rc1", Some("1.0rc1"), "sdist .tar.gz"),
        ("foo-2022.12.07.tar.gz", "foo", "foo", "2022.12.07", Some("2022.12.7"), "sdist .tar.gz"),
        ("foo-v1.2.tar.gz", "foo", "foo", "v1.2", Some("1.2"), "sdist .tar.gz"),
        ("foo-1.0.dev0.zip", "foo", "foo", "1.0.dev0", Some("1.0.dev0"), "sdist .zip"),
        ("foo-1.0.tar.bz2", "foo", "foo", "1.0", Some("1.0"), "sdist .tar.bz2"),
        ("foo-1.0.tgz", "foo", "foo", "1.0", Some("1.0"), "sdist .tgz"),
        ("foo-1.0.tar.xz", "foo", "foo", "1.0", Some("1.0"), "sdist .tar.xz"),
        ("foo-1.0.tar", "foo", "foo", "1.0", Some("1.0"), "sdist .tar"),
        ("foo-1.0.ZIP", "foo", "foo", "1.0", Some("1.0"), "sdist .ZIP"),
        ("foo-dev.tar.gz", "foo", "foo", "dev", None, "sdist .tar.gz"),
        ("foo-1.0-py3.tar.gz", "foo", "foo", "1.0-py3", None, "sdist .tar.gz"),
        ("foo_bar-baz-0.1a1.tar.gz", "foo-bar-baz", "foo_bar-baz", "0.1a1", Some("0.1a1"), "sdist .tar.gz"),
        ("backports.zoneinfo-0.2.1.tar.gz", "backports-zoneinfo", "backports.zoneinfo", "0.2.1", Some("0.2.1"), "sdist .tar.gz"),
        ("pkg-1.0.0-RC.2.tar.gz", "pkg", "pkg", "1.0.0-RC.2", Some("1.0.0rc2"), "sdist .tar.gz"),
        ("pkg-1.0+local.1.tar.gz", "pkg", "pkg", "1.0+local.1", Some("1.0+local.1"), "sdist .tar.gz"),
        ("pkg-01.02.tar.gz", "pkg", "pkg", "01.02", Some("1.2"), "sdist .tar.gz"),
    ];

    fn describe(kind: &DistKind) -> String {
        match kind {
            DistKind::Wheel(tags) => {
                let WheelTags {
                    build_tag,
                    python_tag,
                    abi_tag,
                    platform_tag,
                } = &**tags;
                let build = build_tag
                    .as_ref()
                    .map(|b| format!("build={b} "))
                    .unwrap_or_default();
                format!("wheel {build}{python_tag} {abi_tag} {platform_tag}")
            }
            DistKind::Sdist { extension } => format!("sdist {extension}"),
            DistKind::Other => "other".into(),
        }
    }

    #[test]
    fn parses_wheel_and_sdist_names() {
        assert!(CASES.len() >= 40);
        for (filename, project, name, version_text, version, kind) in CASES {
            let parsed = parse(filename, project).unwrap_or_else(|e| panic!("{filename}: {e:?}"));
            assert_eq!(parsed.name, *name, "{filename}");
            assert_eq!(parsed.version_text, *version_text, "{filename}");
            assert_eq!(
                parsed.version.as_ref().map(ToString::to_string).as_deref(),
                *version,
                "{filename}"
            );
            assert_eq!(describe(&parsed.kind), *kind, "{filename}");
        }
    }

    #[test]
    fn rejects_other_projects_formats_and_malformed_wheels() {
        let cases = [
            ("flask-3.0.3.tar.gz", "django", Rejection::OtherProject),
            (
                "flask-3.0.3-py3-none-any.whl",
                "django",
                Rejection::OtherProject,
            ),
            // The name must match at a hyphen: `foo` is not `foobar`.
            ("foobar-1.0.tar.gz", "foo", Rejection::OtherProject),
            ("foo.tar.gz", "foo", Rejection::OtherProject),
            ("foo-.tar.gz", "foo", Rejection::OtherProject),
            ("foo-1.0-py2.7.egg", "foo", Rejection::UnknownFormat),
            ("foo-1.0.win32.exe", "foo", Rejection::UnknownFormat),
            ("foo-1.0.tar.gz.asc", "foo", Rejection::UnknownFormat),
            ("", "foo", Rejection::UnknownFormat),
            ("foo-1.0-py3-any.whl", "foo", Rejection::MalformedWheel),
            (
                "foo-1.0-x1-py3-none-any.whl",
                "foo",
                Rejection::MalformedWheel,
            ),
            ("foo-1.0--none-any.whl", "foo", Rejection::MalformedWheel),
            (".whl", "foo", Rejection::MalformedWheel),
            ("é.whl", "foo", Rejection::MalformedWheel),
            ("ü", "foo", Rejection::UnknownFormat),
        ];
        for (filename, project, expected) in cases {
            assert_eq!(parse(filename, project), Err(expected), "{filename}");
        }
    }

    #[test]
    fn equal_versions_compare_equal_whatever_the_spelling() {
        let a = parse("foo-1.0.tar.gz", "foo").unwrap().version.unwrap();
        let b = parse("foo-1.0.0-py3-none-any.whl", "foo")
            .unwrap()
            .version
            .unwrap();
        assert_eq!(a, b);
    }
}
