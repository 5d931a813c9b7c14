//! What a tag's variant says: the distribution it is built on, a flavour such as `slim`, and a
//! Python version written into it. Used for migrations (`slim-bullseye` → `slim-bookworm`) and
//! for reporting variants that are no longer published.

use std::fmt;

use serde::Serialize;

use super::DockerTagError;

/// A family of base distributions found in image variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DistroFamily {
    /// Debian, named by codename (`bookworm`).
    Debian,
    /// Ubuntu, named by codename (`jammy`).
    Ubuntu,
    /// Alpine Linux (`alpine3.20`, or `alpine` for the newest).
    Alpine,
    /// Windows Server Core (`windowsservercore-ltsc2022`).
    WindowsServerCore,
    /// Windows Nano Server (`nanoserver-1809`).
    NanoServer,
}

impl fmt::Display for DistroFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DistroFamily::Debian => "Debian",
            DistroFamily::Ubuntu => "Ubuntu",
            DistroFamily::Alpine => "Alpine",
            DistroFamily::WindowsServerCore => "Windows Server Core",
            DistroFamily::NanoServer => "Nano Server",
        })
    }
}

/// A distribution named by a variant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Distribution {
    /// The family.
    pub family: DistroFamily,
    /// The release as the variant writes it: a codename (`bookworm`), an Alpine version
    /// (`3.20`), a Windows release (`ltsc2022`, `1809`); `None` when the variant names only the
    /// family (`alpine`, `windowsservercore`), which floats to the image's newest.
    pub release: Option<String>,
}

/// Debian codenames and their major versions (`sid` is unstable, ranked above all).
const DEBIAN: [(&str, u64); 11] = [
    ("squeeze", 6),
    ("wheezy", 7),
    ("jessie", 8),
    ("stretch", 9),
    ("buster", 10),
    ("bullseye", 11),
    ("bookworm", 12),
    ("trixie", 13),
    ("forky", 14),
    ("duke", 15),
    ("sid", 999),
];

/// Ubuntu codenames and their versions.
const UBUNTU: [(&str, u64, u64); 9] = [
    ("trusty", 14, 4),
    ("xenial", 16, 4),
    ("bionic", 18, 4),
    ("focal", 20, 4),
    ("jammy", 22, 4),
    ("mantic", 23, 10),
    ("noble", 24, 4),
    ("oracular", 24, 10),
    ("plucky", 25, 4),
];

impl Distribution {
    /// A key that orders releases of one family, oldest first: Debian and Ubuntu by version
    /// (`bullseye` → `[11]`, `jammy` → `[22, 4]`), Alpine by version (`3.20` → `[3, 20]`),
    /// Windows by year (`ltsc2022` → `[2022]`, `1809` → `[2018, 9]`; approximate: `1809` and
    /// `ltsc2019` are the same build). `None` without a release or for an unknown one.
    pub fn release_rank(&self) -> Option<Vec<u64>> {
        let release = self.release.as_deref()?;
        match self.family {
            DistroFamily::Debian => DEBIAN
                .iter()
                .find(|(name, _)| *name == release)
                .map(|(_, n)| vec![*n]),
            DistroFamily::Ubuntu => UBUNTU
                .iter()
                .find(|(name, ..)| *name == release)
                .map(|(_, y, m)| vec![*y, *m]),
            DistroFamily::Alpine => dotted_numbers(release),
            DistroFamily::WindowsServerCore | DistroFamily::NanoServer => {
                if let Some(year) = release.strip_prefix("ltsc") {
                    return Some(vec![year.parse().ok()?]);
                }
                if release.len() == 4 && release.bytes().all(|b| b.is_ascii_digit()) {
                    let (yy, mm) = release.split_at(2);
                    return Some(vec![2000 + yy.parse::<u64>().ok()?, mm.parse().ok()?]);
                }
                None
            }
        }
    }

    /// The Debian major version of a codename (`bookworm` → 12).
    pub fn debian_version(codename: &str) -> Option<u64> {
        DEBIAN
            .iter()
            .find(|(name, _)| *name == codename)
            .map(|(_, n)| *n)
    }
}

fn dotted_numbers(text: &str) -> Option<Vec<u64>> {
    text.split('.').map(|p| p.parse().ok()).collect()
}

fn is_windows_release(piece: &str) -> bool {
    let four_digits = |s: &[u8]| s.len() == 4 && s.iter().all(u8::is_ascii_digit);
    let b = piece.as_bytes();
    // ltsc2022, 1809, 20H2
    piece
        .strip_prefix("ltsc")
        .is_some_and(|year| four_digits(year.as_bytes()))
        || four_digits(b)
        || (b.len() == 4
            && b[0].is_ascii_digit()
            && b[1].is_ascii_digit()
            && b[2] == b'H'
            && b[3].is_ascii_digit())
}

fn family_of(piece: &str) -> Option<(DistroFamily, Option<String>)> {
    if DEBIAN.iter().any(|(name, _)| *name == piece) {
        return Some((DistroFamily::Debian, Some(piece.to_owned())));
    }
    if UBUNTU.iter().any(|(name, ..)| *name == piece) {
        return Some((DistroFamily::Ubuntu, Some(piece.to_owned())));
    }
    if let Some(version) = piece.strip_prefix("alpine") {
        if version.is_empty() {
            return Some((DistroFamily::Alpine, None));
        }
        if dotted_numbers(version).is_some() {
            return Some((DistroFamily::Alpine, Some(version.to_owned())));
        }
    }
    match piece {
        "windowsservercore" => Some((DistroFamily::WindowsServerCore, None)),
        "nanoserver" => Some((DistroFamily::NanoServer, None)),
        _ => None,
    }
}

/// `python3.12` → (3, 12).
fn python_piece(piece: &str) -> Option<(u64, u64)> {
    let numbers = dotted_numbers(piece.strip_prefix("python")?)?;
    match numbers.as_slice() {
        [major, minor, ..] => Some((*major, *minor)),
        _ => None,
    }
}

/// A variant taken apart. Pieces are the `-`-separated words of the variant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Variant {
    /// The pieces that are neither the distribution nor a Python version, joined by `-`
    /// (`slim`, `onbuild`, `slim` in `python3.12-trixie-slim`); `None` when there are none.
    pub flavour: Option<String>,
    /// The distribution, when a piece names one.
    pub distribution: Option<Distribution>,
    /// A `pythonX.Y` piece (`0.11.32-python3.12-trixie-slim`).
    pub python: Option<(u64, u64)>,
}

/// Where the distribution sits among a variant's pieces.
struct Located<'a> {
    pieces: Vec<&'a str>,
    /// Index of the family piece (`slim-bookworm` → 1).
    index: usize,
    /// Whether the next piece is a Windows release (`windowsservercore-ltsc2022`).
    windows_release: bool,
    distribution: Distribution,
}

fn locate(variant: &str) -> Option<Located<'_>> {
    let pieces: Vec<&str> = variant.split('-').collect();
    for (index, piece) in pieces.iter().enumerate() {
        let Some((family, release)) = family_of(piece) else {
            continue;
        };
        let windows = matches!(
            family,
            DistroFamily::WindowsServerCore | DistroFamily::NanoServer
        );
        let windows_release =
            windows && pieces.get(index + 1).is_some_and(|p| is_windows_release(p));
        let release = if windows_release {
            Some(pieces[index + 1].to_owned())
        } else {
            release
        };
        return Some(Located {
            pieces,
            index,
            windows_release,
            distribution: Distribution { family, release },
        });
    }
    None
}

impl Variant {
    /// Take a variant apart (`slim-bookworm` → flavour `slim`, Debian `bookworm`).
    pub fn parse(variant: &str) -> Variant {
        if variant.is_empty() {
            return Variant::default();
        }
        let (pieces, skip, distribution) = match locate(variant) {
            Some(found) => {
                let end = found.index + 1 + usize::from(found.windows_release);
                (found.pieces, found.index..end, Some(found.distribution))
            }
            None => (variant.split('-').collect(), 0..0, None),
        };
        let mut python = None;
        let mut flavour = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            if skip.contains(&i) {
                continue;
            }
            match python_piece(piece) {
                Some(found) if python.is_none() => python = Some(found),
                _ => flavour.push(*piece),
            }
        }
        Variant {
            flavour: (!flavour.is_empty()).then(|| flavour.join("-")),
            distribution,
            python,
        }
    }
}

/// The variant moved to another release of its distribution, every other piece kept in place:
/// `slim-bullseye` + `bookworm` → `slim-bookworm`, `alpine3.19` + `3.20` → `alpine3.20`,
/// `python3.12-bookworm-slim` + `trixie` → `python3.12-trixie-slim`,
/// `windowsservercore-1809` + `ltsc2022` → `windowsservercore-ltsc2022`. A variant naming only
/// the family (`alpine`, `windowsservercore`) gets the release added.
///
/// `new_release` is written as [`Distribution::release`] is: a codename, an Alpine version
/// (`alpine3.20` is accepted too) or a Windows release.
///
/// # Errors
///
/// [`DockerTagError::NoDistribution`] when the variant names none (`slim`), and
/// [`DockerTagError::WrongRelease`] when `new_release` is not a release of its family (a
/// Debian variant cannot move to `3.20` or to an unknown codename).
pub fn with_distribution(variant: &str, new_release: &str) -> Result<String, DockerTagError> {
    let Some(found) = locate(variant) else {
        return Err(DockerTagError::NoDistribution {
            variant: variant.to_owned(),
            release: new_release.to_owned(),
        });
    };
    let family = found.distribution.family;
    let wrong = || DockerTagError::WrongRelease {
        variant: variant.to_owned(),
        family,
        release: new_release.to_owned(),
    };
    let mut pieces: Vec<String> = found.pieces.iter().map(|p| (*p).to_owned()).collect();
    match family {
        DistroFamily::Debian | DistroFamily::Ubuntu => match family_of(new_release) {
            Some((f, _)) if f == family => pieces[found.index] = new_release.to_owned(),
            _ => return Err(wrong()),
        },
        DistroFamily::Alpine => {
            let version = new_release.strip_prefix("alpine").unwrap_or(new_release);
            if version.is_empty() || dotted_numbers(version).is_none() {
                return Err(wrong());
            }
            pieces[found.index] = format!("alpine{version}");
        }
        DistroFamily::WindowsServerCore | DistroFamily::NanoServer => {
            if !is_windows_release(new_release) {
                return Err(wrong());
            }
            if found.windows_release {
                pieces[found.index + 1] = new_release.to_owned();
            } else {
                pieces.insert(found.index + 1, new_release.to_owned());
            }
        }
    }
    Ok(pieces.join("-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distro(family: DistroFamily, release: Option<&str>) -> Option<Distribution> {
        Some(Distribution {
            family,
            release: release.map(str::to_owned),
        })
    }

    #[test]
    fn variant_table() {
        use DistroFamily::*;
        let cases = [
            ("", None, None, None),
            ("slim", Some("slim"), None, None),
            ("onbuild", Some("onbuild"), None, None),
            ("latest", Some("latest"), None, None),
            ("bookworm", None, distro(Debian, Some("bookworm")), None),
            (
                "slim-bookworm",
                Some("slim"),
                distro(Debian, Some("bookworm")),
                None,
            ),
            (
                "slim-bullseye",
                Some("slim"),
                distro(Debian, Some("bullseye")),
                None,
            ),
            ("buster", None, distro(Debian, Some("buster")), None),
            (
                "slim-trixie",
                Some("slim"),
                distro(Debian, Some("trixie")),
                None,
            ),
            ("forky", None, distro(Debian, Some("forky")), None),
            (
                "bookworm-slim",
                Some("slim"),
                distro(Debian, Some("bookworm")),
                None,
            ),
            ("jammy", None, distro(Ubuntu, Some("jammy")), None),
            ("alpine3.20", None, distro(Alpine, Some("3.20")), None),
            ("alpine", None, distro(Alpine, None), None),
            (
                "windowsservercore-ltsc2022",
                None,
                distro(WindowsServerCore, Some("ltsc2022")),
                None,
            ),
            (
                "windowsservercore-1809",
                None,
                distro(WindowsServerCore, Some("1809")),
                None,
            ),
            (
                "windowsservercore",
                None,
                distro(WindowsServerCore, None),
                None,
            ),
            (
                "nanoserver-1809",
                None,
                distro(NanoServer, Some("1809")),
                None,
            ),
            (
                "python3.12-trixie-slim",
                Some("slim"),
                distro(Debian, Some("trixie")),
                Some((3, 12)),
            ),
            ("python3.12", None, None, Some((3, 12))),
            (
                "slim-stretch",
                Some("slim"),
                distro(Debian, Some("stretch")),
                None,
            ),
            ("rc-slim", Some("rc-slim"), None, None),
        ];
        for (text, flavour, distribution, python) in cases {
            let variant = Variant::parse(text);
            assert_eq!(variant.flavour.as_deref(), flavour, "{text}: flavour");
            assert_eq!(variant.distribution, distribution, "{text}: distribution");
            assert_eq!(variant.python, python, "{text}: python");
        }
    }

    #[test]
    fn release_ranks_order_releases() {
        let rank = |family, release: &str| {
            Distribution {
                family,
                release: Some(release.to_owned()),
            }
            .release_rank()
            .unwrap()
        };
        assert!(rank(DistroFamily::Debian, "bullseye") < rank(DistroFamily::Debian, "bookworm"));
        assert!(rank(DistroFamily::Debian, "bookworm") < rank(DistroFamily::Debian, "trixie"));
        assert!(rank(DistroFamily::Alpine, "3.9") < rank(DistroFamily::Alpine, "3.20"));
        assert!(rank(DistroFamily::Ubuntu, "focal") < rank(DistroFamily::Ubuntu, "noble"));
        assert!(
            rank(DistroFamily::WindowsServerCore, "1809")
                < rank(DistroFamily::WindowsServerCore, "ltsc2022")
        );
        assert_eq!(Distribution::debian_version("bookworm"), Some(12));
        assert_eq!(Distribution::debian_version("slim"), None);
        let floating = Distribution {
            family: DistroFamily::Alpine,
            release: None,
        };
        assert_eq!(floating.release_rank(), None);
    }

    #[test]
    fn moves_to_another_release() {
        let cases = [
            ("slim-bullseye", "bookworm", "slim-bookworm"),
            ("bullseye", "bookworm", "bookworm"),
            ("slim-buster", "trixie", "slim-trixie"),
            (
                "python3.12-bookworm-slim",
                "trixie",
                "python3.12-trixie-slim",
            ),
            ("alpine3.19", "3.20", "alpine3.20"),
            ("alpine3.19", "alpine3.21", "alpine3.21"),
            ("alpine", "3.20", "alpine3.20"),
            (
                "windowsservercore-1809",
                "ltsc2022",
                "windowsservercore-ltsc2022",
            ),
            (
                "windowsservercore",
                "ltsc2025",
                "windowsservercore-ltsc2025",
            ),
            ("nanoserver-1809", "ltsc2022", "nanoserver-ltsc2022"),
            ("focal", "noble", "noble"),
        ];
        for (variant, release, expected) in cases {
            assert_eq!(
                with_distribution(variant, release).as_deref(),
                Ok(expected),
                "{variant} + {release}"
            );
        }
    }

    #[test]
    fn refuses_moves_that_make_no_sense() {
        assert_eq!(
            with_distribution("slim", "bookworm"),
            Err(DockerTagError::NoDistribution {
                variant: "slim".into(),
                release: "bookworm".into()
            })
        );
        let err = with_distribution("slim-bullseye", "3.20").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Cannot move `slim-bullseye` to `3.20`: it is not a Debian release"
        );
        assert!(with_distribution("slim-bullseye", "jammy").is_err());
        assert!(with_distribution("slim-bullseye", "bookwrm").is_err());
        assert!(with_distribution("alpine3.19", "bookworm").is_err());
        assert!(with_distribution("windowsservercore-1809", "3.20").is_err());
    }
}
