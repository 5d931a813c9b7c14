//! Container image tags: version parts, pre-release, variant, and which tags may replace which.
//!
//! A tag such as `3.12.4-slim-bookworm` is read as an optional *prefix* (`v`, `python`), the
//! *version parts* `[3, 12, 4]` (their count is the *precision*), an optional *pre-release*
//! (`3.14.0rc1`, `3.13-rc`), and the *variant*: everything after the version (`slim-bookworm`).
//! The variant is identity: a tag only moves to tags with exactly the same prefix, variant and
//! precision ([`is_compatible`]), so `3.12-slim` never becomes `3.12.5-slim` or
//! `3.13-slim-bookworm`.
//!
//! # How a tag is read
//!
//! 1. **Hash-like** ([`TagKind::Hash`]): `sha-1a2b3c4`, `sha256-<hex>.sig`, a 40- or 64-digit
//!    hex string, or 7 to 64 hex digits mixing letters and digits (`1a2b3c4`). Never compared.
//! 2. **Date-like** ([`TagKind::Date`]): `20240814`, `2024-08-14` (both with an optional
//!    `-variant`), a Unix timestamp `1724040033`, and Red Hat's `1-72.1724040033`
//!    (major-build.timestamp). Compared only with tags of the same date format and variant.
//! 3. **Version** ([`TagKind::Version`]): an optional prefix of ASCII letters directly followed
//!    by a digit (`v1.2.3`, `python3.11-slim`), then dot-separated numbers, then an optional
//!    pre-release: attached (`3.14.0rc1`, `3.15.0a2`) or as the next `-` piece (`3.13-rc-slim`,
//!    `1.0.0-beta.1`); labels are `a`/`alpha`, `b`/`beta`, `c`/`rc`/`pre`/`preview` and `dev`.
//!    The variant is the rest after one `-` (`3.12-alpine3.20` → `alpine3.20`,
//!    `0.11.32-python3.12-trixie-slim` → `python3.12-trixie-slim`). A rest that does not start
//!    with `-` is kept whole as the variant (`1.2.3+build` → `+build`), so it cannot be mistaken
//!    for a `-` variant. Letters that name a distribution (`alpine3.20`, `windowsservercore-1809`,
//!    `ubuntu22.04`) are not a prefix: such tags are named tags.
//!    The prefix is identity like the variant: `v1.2.3` and `1.2.4` are not compatible, and a
//!    prefix followed by `-` (`release-1.2`) is not recognised as one (the tag is named).
//! 4. **Named** ([`TagKind::Named`]): anything else, without a version: `latest`, `slim`,
//!    `bookworm`, `alpine3.20`, `windowsservercore-ltsc2022`. The whole tag is the variant,
//!    except a leading release channel `rc`, `alpha` or `beta` (`rc-slim` → pre-release `rc`,
//!    variant `slim`), mirroring `3.8-rc-slim`. Named tags float: they are never compared.
//!
//! Parsing never fails: whatever the tag, it is one of these kinds.

mod variant;

use std::cmp::Ordering;
use std::fmt;

use serde::Serialize;

pub use variant::{Distribution, DistroFamily, Variant, with_distribution};

pub use super::UpdateKind;

/// Why a tag could not be transformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DockerTagError {
    /// The variant names no distribution release to replace.
    #[error("The variant `{variant}` names no distribution to move to `{release}`")]
    NoDistribution {
        /// The variant.
        variant: String,
        /// The requested release.
        release: String,
    },
    /// The requested release is not a release of the variant's distribution.
    #[error("Cannot move `{variant}` to `{release}`: it is not a {family} release")]
    WrongRelease {
        /// The variant.
        variant: String,
        /// Its distribution family.
        family: DistroFamily,
        /// The requested release.
        release: String,
    },
}

/// What kind of tag it is; only tags of the same kind can be compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TagKind {
    /// A version with an optional prefix, pre-release and variant.
    Version,
    /// A date or build timestamp.
    Date,
    /// A commit or content hash.
    Hash,
    /// A name without a version (`latest`, `slim`, `bookworm`).
    Named,
}

/// How a date-like tag writes its date; tags of different formats are not compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DateFormat {
    /// `20240814`
    Compact,
    /// `2024-08-14`
    Dashed,
    /// `1724040033` (seconds since 1970)
    Timestamp,
    /// `1-72.1724040033` (Red Hat: major-build.timestamp)
    BuildTimestamp,
}

/// A pre-release label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PreKind {
    /// `dev`
    Dev,
    /// `a`, `alpha`
    Alpha,
    /// `b`, `beta`
    Beta,
    /// `rc`, `c`, `pre`, `preview`
    Rc,
}

/// A pre-release part: `rc1` is `Rc` with number 1, a bare `rc` has no number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PreRelease {
    /// The label.
    pub kind: PreKind,
    /// The number after the label, when there is one (a bare label sorts first).
    pub number: Option<u64>,
}

/// A parsed image tag. See the module documentation for how tags are read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct DockerTag {
    #[serde(rename = "tag")]
    raw: String,
    kind: TagKind,
    prefix: String,
    parts: Vec<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pre: Option<PreRelease>,
    variant: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_format: Option<DateFormat>,
}

impl fmt::Display for DockerTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl DockerTag {
    /// Read a tag. Never fails: a tag that is neither a version, a date nor a hash is named.
    pub fn parse(tag: &str) -> DockerTag {
        let mut parsed = DockerTag {
            raw: tag.to_owned(),
            kind: TagKind::Named,
            prefix: String::new(),
            parts: Vec::new(),
            pre: None,
            variant: String::new(),
            date_format: None,
        };
        if is_hash(tag) {
            parsed.kind = TagKind::Hash;
        } else if let Some((format, parts, variant)) = parse_date(tag) {
            parsed.kind = TagKind::Date;
            parsed.date_format = Some(format);
            parsed.parts = parts;
            parsed.variant = variant.to_owned();
        } else if let Some((prefix, parts, pre, variant)) = parse_version(tag) {
            parsed.kind = TagKind::Version;
            parsed.prefix = prefix.to_owned();
            parsed.parts = parts;
            parsed.pre = pre;
            parsed.variant = variant.to_owned();
        } else {
            let (pre, variant) = named_channel(tag);
            parsed.pre = pre;
            parsed.variant = variant.to_owned();
        }
        parsed
    }

    /// The tag as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// What kind of tag it is.
    pub fn kind(&self) -> TagKind {
        self.kind
    }

    /// Text before the version (`v`, `python`), empty when there is none.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The version parts (`3.12.4` → `[3, 12, 4]`); for a date tag, the date's numbers
    /// (`2024-08-14` → `[2024, 8, 14]`, `1-72.1724040033` → `[1, 72, 1724040033]`); empty for
    /// named and hash tags.
    pub fn parts(&self) -> &[u64] {
        &self.parts
    }

    /// The number of version parts (`3.12` → 2).
    pub fn precision(&self) -> usize {
        self.parts.len()
    }

    /// The pre-release part, if any.
    pub fn pre(&self) -> Option<PreRelease> {
        self.pre
    }

    /// Whether this is a pre-release (`3.14.0rc1`, `3.13-rc-slim`, `rc`).
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some()
    }

    /// Everything after the version, without the separating `-` (`slim-bookworm`); the whole
    /// tag for named tags (less a leading release channel); empty for hash tags.
    pub fn variant(&self) -> &str {
        &self.variant
    }

    /// How a date tag writes its date.
    pub fn date_format(&self) -> Option<DateFormat> {
        self.date_format
    }

    /// The variant taken apart: flavour, distribution, embedded Python version.
    pub fn variant_info(&self) -> Variant {
        Variant::parse(&self.variant)
    }

    /// The first two version parts, for a version tag with at least two.
    pub fn major_minor(&self) -> Option<(u64, u64)> {
        match (self.kind, self.parts.as_slice()) {
            (TagKind::Version, [major, minor, ..]) => Some((*major, *minor)),
            _ => None,
        }
    }

    /// Whether `self` and `other` can be ordered against each other: both versions or both
    /// dates in the same format, with the same prefix, variant and precision.
    pub fn same_shape(&self, other: &DockerTag) -> bool {
        matches!(self.kind, TagKind::Version | TagKind::Date)
            && self.kind == other.kind
            && self.prefix == other.prefix
            && self.variant == other.variant
            && self.parts.len() == other.parts.len()
            && self.date_format == other.date_format
    }

    /// Order two tags of the same shape: by version parts, then a release after its
    /// pre-releases (`3.14.0rc1` < `3.14.0`). `None` when the shapes differ.
    pub fn compare(&self, other: &DockerTag) -> Option<Ordering> {
        if !self.same_shape(other) {
            return None;
        }
        Some(
            self.parts
                .cmp(&other.parts)
                .then_with(|| match (self.pre, other.pre) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Greater,
                    (Some(_), None) => Ordering::Less,
                    (Some(a), Some(b)) => a.cmp(&b),
                }),
        )
    }
}

/// Whether `candidate` may replace `current`: the same shape (kind, prefix, variant,
/// precision) and, unless `current` is a pre-release itself, not a pre-release. Named and
/// hash tags are never compatible with anything: they float or are opaque.
pub fn is_compatible(current: &DockerTag, candidate: &DockerTag) -> bool {
    current.same_shape(candidate) && (candidate.pre.is_none() || current.pre.is_some())
}

/// The best replacements for a tag among a registry's tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct BestUpdate<'a> {
    /// The highest compatible tag newer than the current one.
    pub highest: Option<&'a str>,
    /// The highest compatible tag newer than the current one with the same first two version
    /// parts (the same Python minor for the python image): a patch. `None` for tags with fewer
    /// than two parts, and for date tags.
    pub highest_in_minor: Option<&'a str>,
}

/// Find the highest compatible tags newer than `current` among `candidates`.
///
/// Ties between different spellings of the same version are broken by the tag text, so the
/// answer does not depend on the order of `candidates`.
pub fn best_update<'a>(current: &DockerTag, candidates: &[&'a str]) -> BestUpdate<'a> {
    let mut best = BestUpdate::default();
    let mut highest: Option<DockerTag> = None;
    let mut in_minor: Option<DockerTag> = None;
    let minor = current.major_minor();
    for &text in candidates {
        let candidate = DockerTag::parse(text);
        if !is_compatible(current, &candidate)
            || current.compare(&candidate) != Some(Ordering::Less)
        {
            continue;
        }
        if beats(&candidate, highest.as_ref()) {
            best.highest = Some(text);
            highest = Some(candidate.clone());
        }
        if minor.is_some()
            && candidate.major_minor() == minor
            && beats(&candidate, in_minor.as_ref())
        {
            best.highest_in_minor = Some(text);
            in_minor = Some(candidate);
        }
    }
    best
}

fn beats(candidate: &DockerTag, best: Option<&DockerTag>) -> bool {
    match best {
        None => true,
        Some(best) => match candidate.compare(best) {
            Some(Ordering::Greater) => true,
            Some(Ordering::Equal) => candidate.raw > best.raw,
            _ => false,
        },
    }
}

/// How big the move from `from` to `to` is, or `None` when the tags are not of the same shape
/// or `to` is not newer.
///
/// Version tags: positional, like [`super::pep440::classify`]: the first part is
/// [`UpdateKind::Major`], the second `Minor`, later parts and pre-release changes `Patch`.
/// For the python image the second part is the Python minor: turning `Minor` into
/// [`UpdateKind::PythonMinor`] is for the caller, which knows the image (see
/// [`python_minor`]). Date tags are rebuilds, so `Patch`, except a Red Hat build tag whose
/// major (first number) changes, which is `Major`.
pub fn classify(from: &DockerTag, to: &DockerTag) -> Option<UpdateKind> {
    if from.compare(to) != Some(Ordering::Less) {
        return None;
    }
    if from.kind == TagKind::Date {
        let major_changed = from.date_format == Some(DateFormat::BuildTimestamp)
            && from.parts.first() != to.parts.first();
        return Some(if major_changed {
            UpdateKind::Major
        } else {
            UpdateKind::Patch
        });
    }
    let differs = from.parts.iter().zip(&to.parts).position(|(a, b)| a != b);
    Some(match differs {
        Some(0) => UpdateKind::Major,
        Some(1) => UpdateKind::Minor,
        _ => UpdateKind::Patch,
    })
}

/// The Python `(major, minor)` a tag stands for, assuming the tag belongs to a Python image:
/// a Python version embedded in the tag wins (`python3.11-slim` → 3.11,
/// `0.11.32-python3.12-trixie-slim` → 3.12), otherwise the tag's own first two version parts
/// (`3.12.4-slim-bookworm` → 3.12, as for the `python` and `pypy` images). `None` for tags with
/// fewer than two parts (`3-slim`) and for named, date and hash tags.
pub fn python_minor(tag: &DockerTag) -> Option<(u64, u64)> {
    embedded_python(tag).or_else(|| tag.major_minor())
}

/// The Python `(major, minor)` written into a tag of a non-Python image: a `python` or `py`
/// prefix (`python3.11-slim`), or a `pythonX.Y` piece of the variant
/// (`0.11.32-python3.12-trixie-slim`).
pub fn embedded_python(tag: &DockerTag) -> Option<(u64, u64)> {
    if matches!(tag.prefix.to_ascii_lowercase().as_str(), "python" | "py") {
        if let Some(minor) = tag.major_minor() {
            return Some(minor);
        }
    }
    tag.variant_info().python
}

const HASH_PREFIXES: [&str; 5] = ["sha-", "sha256-", "sha256:", "git-", "commit-"];
const SIGNATURE_SUFFIXES: [&str; 3] = [".sig", ".att", ".sbom"];

fn is_hex(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_hash(tag: &str) -> bool {
    let lower = tag.to_ascii_lowercase();
    for prefix in HASH_PREFIXES {
        if let Some(rest) = lower.strip_prefix(prefix) {
            let rest = SIGNATURE_SUFFIXES
                .iter()
                .find_map(|s| rest.strip_suffix(s))
                .unwrap_or(rest);
            return is_hex(rest) && rest.len() >= 7;
        }
    }
    if !is_hex(&lower) {
        return false;
    }
    let letters = lower.bytes().any(|b| b.is_ascii_alphabetic());
    let digits = lower.bytes().any(|b| b.is_ascii_digit());
    matches!(lower.len(), 40 | 64) || ((7..=64).contains(&lower.len()) && letters && digits)
}

fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

fn valid_date(year: u64, month: u64, day: u64) -> bool {
    (1970..=2200).contains(&year) && (1..=12).contains(&month) && (1..=31).contains(&day)
}

/// Split `text` at its first `-` into (head, variant); the variant is empty without a `-`.
fn split_variant(text: &str) -> (&str, &str) {
    text.split_once('-').unwrap_or((text, ""))
}

fn parse_date(tag: &str) -> Option<(DateFormat, Vec<u64>, &str)> {
    // Red Hat: 1-72.1724040033 (whole tag).
    if let Some((major, rest)) = tag.split_once('-') {
        if let Some((build, stamp)) = rest.split_once('.') {
            if all_digits(major) && all_digits(build) && all_digits(stamp) && stamp.len() == 10 {
                let parts = [major, build, stamp]
                    .iter()
                    .map(|p| p.parse().ok())
                    .collect::<Option<Vec<u64>>>()?;
                return Some((DateFormat::BuildTimestamp, parts, ""));
            }
        }
    }
    // 2024-08-14[-variant]
    let pieces: Vec<&str> = tag.splitn(4, '-').collect();
    if pieces.len() >= 3
        && pieces[0].len() == 4
        && pieces[1].len() == 2
        && pieces[2].len() == 2
        && pieces[..3].iter().all(|p| all_digits(p))
    {
        let numbers: Vec<u64> = pieces[..3].iter().filter_map(|p| p.parse().ok()).collect();
        if valid_date(numbers[0], numbers[1], numbers[2]) {
            return Some((
                DateFormat::Dashed,
                numbers,
                pieces.get(3).copied().unwrap_or(""),
            ));
        }
    }
    let (head, variant) = split_variant(tag);
    if !all_digits(head) {
        return None;
    }
    if head.len() == 8 {
        let (y, m, d) = (&head[..4], &head[4..6], &head[6..]);
        let (y, m, d) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
        if valid_date(y, m, d) {
            return Some((DateFormat::Compact, vec![head.parse().ok()?], variant));
        }
    }
    if head.len() == 10 && variant.is_empty() && (head.starts_with('1') || head.starts_with('2')) {
        return Some((DateFormat::Timestamp, vec![head.parse().ok()?], ""));
    }
    None
}

/// Letters that start a distribution name, never a version prefix.
const DISTRO_WORDS: [&str; 14] = [
    "alpine",
    "windowsservercore",
    "nanoserver",
    "ltsc",
    "ubuntu",
    "debian",
    "centos",
    "fedora",
    "ubi",
    "amazonlinux",
    "rockylinux",
    "almalinux",
    "opensuse",
    "rhel",
];

type VersionParts<'a> = (&'a str, Vec<u64>, Option<PreRelease>, &'a str);

fn parse_version(tag: &str) -> Option<VersionParts<'_>> {
    let prefix_len = tag
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(tag.len());
    let prefix = &tag[..prefix_len];
    if !tag[prefix_len..].starts_with(|c: char| c.is_ascii_digit())
        || DISTRO_WORDS.contains(&prefix.to_ascii_lowercase().as_str())
    {
        return None;
    }
    let bytes = tag.as_bytes();
    let mut i = prefix_len;
    let mut parts = Vec::new();
    loop {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        parts.push(tag[start..i].parse::<u64>().ok()?);
        if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
            i += 1;
        } else {
            break;
        }
    }
    let mut rest = &tag[i..];
    let mut pre = None;
    if rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
        // Attached: 3.14.0rc1, 3.15.0a2.
        let end = rest.find(['-', '.', '_', '+']).unwrap_or(rest.len());
        if let Some(found) = pre_release(&rest[..end]) {
            pre = Some(found);
            rest = &rest[end..];
        }
    } else if let Some(after) = rest.strip_prefix(['-', '.']) {
        // A piece of its own: 3.13-rc-slim, 1.0.0-beta.1.
        let end = after.find('-').unwrap_or(after.len());
        if let Some(found) = pre_release(&after[..end]) {
            pre = Some(found);
            rest = &after[end..];
        }
    }
    let variant = rest.strip_prefix('-').unwrap_or(rest);
    Some((prefix, parts, pre, variant))
}

/// `rc1`, `a2`, `beta`, `beta.1`, `dev0` → the pre-release; anything else → `None`.
fn pre_release(text: &str) -> Option<PreRelease> {
    let label_len = text
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let kind = match text[..label_len].to_ascii_lowercase().as_str() {
        "a" | "alpha" => PreKind::Alpha,
        "b" | "beta" => PreKind::Beta,
        "c" | "rc" | "pre" | "preview" => PreKind::Rc,
        "dev" => PreKind::Dev,
        _ => return None,
    };
    let number = text[label_len..]
        .strip_prefix('.')
        .unwrap_or(&text[label_len..]);
    if number.is_empty() {
        return Some(PreRelease { kind, number: None });
    }
    if !all_digits(number) {
        return None;
    }
    Some(PreRelease {
        kind,
        number: Some(number.parse().ok()?),
    })
}

/// `rc-slim` → (rc, `slim`); `rc` → (rc, ``); other named tags unchanged.
fn named_channel(tag: &str) -> (Option<PreRelease>, &str) {
    let (head, rest) = split_variant(tag);
    let kind = match head {
        "rc" => PreKind::Rc,
        "alpha" => PreKind::Alpha,
        "beta" => PreKind::Beta,
        _ => return (None, tag),
    };
    (Some(PreRelease { kind, number: None }), rest)
}

#[cfg(test)]
pub(crate) mod corpus_tests;

#[cfg(test)]
mod tests {
    use super::*;

    type Expected<'a> = (
        TagKind,
        &'a str,
        &'a [u64],
        Option<(PreKind, Option<u64>)>,
        &'a str,
    );

    #[test]
    fn parse_table() {
        use TagKind::*;
        let rc = PreKind::Rc;
        let cases: &[(&str, Expected)] = &[
            ("3.12.4", (Version, "", &[3, 12, 4], None, "")),
            ("3.12", (Version, "", &[3, 12], None, "")),
            ("3", (Version, "", &[3], None, "")),
            (
                "3.12.4-slim-bookworm",
                (Version, "", &[3, 12, 4], None, "slim-bookworm"),
            ),
            ("3.12-slim", (Version, "", &[3, 12], None, "slim")),
            (
                "3.12-alpine3.20",
                (Version, "", &[3, 12], None, "alpine3.20"),
            ),
            (
                "3.12.2-alpine3.21",
                (Version, "", &[3, 12, 2], None, "alpine3.21"),
            ),
            ("3-onbuild", (Version, "", &[3], None, "onbuild")),
            (
                "3.12.8-windowsservercore-ltsc2022",
                (Version, "", &[3, 12, 8], None, "windowsservercore-ltsc2022"),
            ),
            (
                "3.10-windowsservercore-1809",
                (Version, "", &[3, 10], None, "windowsservercore-1809"),
            ),
            (
                "3.14.0rc1",
                (Version, "", &[3, 14, 0], Some((rc, Some(1))), ""),
            ),
            (
                "3.15.0a2",
                (
                    Version,
                    "",
                    &[3, 15, 0],
                    Some((PreKind::Alpha, Some(2))),
                    "",
                ),
            ),
            (
                "3.13.0b2-slim-bookworm",
                (
                    Version,
                    "",
                    &[3, 13, 0],
                    Some((PreKind::Beta, Some(2))),
                    "slim-bookworm",
                ),
            ),
            (
                "3.8.0a4-alpine3.9",
                (
                    Version,
                    "",
                    &[3, 8, 0],
                    Some((PreKind::Alpha, Some(4))),
                    "alpine3.9",
                ),
            ),
            ("3.13-rc", (Version, "", &[3, 13], Some((rc, None)), "")),
            (
                "3.13-rc-slim",
                (Version, "", &[3, 13], Some((rc, None)), "slim"),
            ),
            (
                "3.15-rc-windowsservercore-ltsc2025",
                (
                    Version,
                    "",
                    &[3, 15],
                    Some((rc, None)),
                    "windowsservercore-ltsc2025",
                ),
            ),
            (
                "1.0.0-beta.1",
                (Version, "", &[1, 0, 0], Some((PreKind::Beta, Some(1))), ""),
            ),
            (
                "2.0.0-dev0-slim",
                (
                    Version,
                    "",
                    &[2, 0, 0],
                    Some((PreKind::Dev, Some(0))),
                    "slim",
                ),
            ),
            ("v1.2.3", (Version, "v", &[1, 2, 3], None, "")),
            ("v0.9", (Version, "v", &[0, 9], None, "")),
            (
                "python3.11-slim",
                (Version, "python", &[3, 11], None, "slim"),
            ),
            ("python3.12", (Version, "python", &[3, 12], None, "")),
            (
                "0.11.32-python3.12-trixie-slim",
                (Version, "", &[0, 11, 32], None, "python3.12-trixie-slim"),
            ),
            ("0.9.26", (Version, "", &[0, 9, 26], None, "")),
            (
                "3.9-slim-buster",
                (Version, "", &[3, 9], None, "slim-buster"),
            ),
            (
                "3.10.4-slim-buster",
                (Version, "", &[3, 10, 4], None, "slim-buster"),
            ),
            ("12.2-slim", (Version, "", &[12, 2], None, "slim")),
            (
                "24.7-bookworm-slim",
                (Version, "", &[24, 7], None, "bookworm-slim"),
            ),
            ("0-3.12", (Version, "", &[0], None, "3.12")),
            ("1-77", (Version, "", &[1], None, "77")),
            ("2024.8.30", (Version, "", &[2024, 8, 30], None, "")),
            ("1.2.3+build5", (Version, "", &[1, 2, 3], None, "+build5")),
            ("1.2.3_slim", (Version, "", &[1, 2, 3], None, "_slim")),
            ("3.12.4rc", (Version, "", &[3, 12, 4], Some((rc, None)), "")),
            ("slim", (Named, "", &[], None, "slim")),
            ("latest", (Named, "", &[], None, "latest")),
            ("latest-dev", (Named, "", &[], None, "latest-dev")),
            ("nonroot", (Named, "", &[], None, "nonroot")),
            ("bookworm", (Named, "", &[], None, "bookworm")),
            ("slim-bookworm", (Named, "", &[], None, "slim-bookworm")),
            ("alpine3.20", (Named, "", &[], None, "alpine3.20")),
            ("alpine", (Named, "", &[], None, "alpine")),
            (
                "windowsservercore-ltsc2022",
                (Named, "", &[], None, "windowsservercore-ltsc2022"),
            ),
            ("nanoserver-1809", (Named, "", &[], None, "nanoserver-1809")),
            ("ubuntu22.04", (Named, "", &[], None, "ubuntu22.04")),
            ("rc", (Named, "", &[], Some((rc, None)), "")),
            (
                "rc-slim-stretch",
                (Named, "", &[], Some((rc, None)), "slim-stretch"),
            ),
            ("release-1.2", (Named, "", &[], None, "release-1.2")),
            ("", (Named, "", &[], None, "")),
            ("sha-1a2b3c4", (Hash, "", &[], None, "")),
            (
                "sha256-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.sig",
                (Hash, "", &[], None, ""),
            ),
            (
                "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
                (Hash, "", &[], None, ""),
            ),
            ("1a2b3c4", (Hash, "", &[], None, "")),
            ("deadbeef", (Named, "", &[], None, "deadbeef")),
            ("20240814", (Date, "", &[20240814], None, "")),
            ("20240814-slim", (Date, "", &[20240814], None, "slim")),
            ("2024-08-14", (Date, "", &[2024, 8, 14], None, "")),
            (
                "1-72.1724040033",
                (Date, "", &[1, 72, 1724040033], None, ""),
            ),
            ("1724040033", (Date, "", &[1724040033], None, "")),
            ("12345678", (Version, "", &[12345678], None, "")),
            (
                "99999999999999999999999",
                (Named, "", &[], None, "99999999999999999999999"),
            ),
        ];
        assert!(cases.len() >= 50);
        for (tag, (kind, prefix, parts, pre, variant)) in cases {
            let parsed = DockerTag::parse(tag);
            assert_eq!(parsed.as_str(), *tag);
            assert_eq!(parsed.kind(), *kind, "{tag}: kind");
            assert_eq!(parsed.prefix(), *prefix, "{tag}: prefix");
            assert_eq!(parsed.parts(), *parts, "{tag}: parts");
            assert_eq!(parsed.precision(), parts.len(), "{tag}: precision");
            assert_eq!(
                parsed.pre().map(|p| (p.kind, p.number)),
                *pre,
                "{tag}: pre-release"
            );
            assert_eq!(parsed.variant(), *variant, "{tag}: variant");
        }
    }

    #[test]
    fn date_formats() {
        let cases = [
            ("20240814", DateFormat::Compact),
            ("2024-08-14", DateFormat::Dashed),
            ("1724040033", DateFormat::Timestamp),
            ("1-72.1724040033", DateFormat::BuildTimestamp),
        ];
        for (tag, format) in cases {
            assert_eq!(DockerTag::parse(tag).date_format(), Some(format), "{tag}");
        }
        assert_eq!(DockerTag::parse("3.12").date_format(), None);
        // Not a date: month 13.
        assert_eq!(DockerTag::parse("20241314").kind(), TagKind::Version);
    }

    fn compatible(a: &str, b: &str) -> bool {
        is_compatible(&DockerTag::parse(a), &DockerTag::parse(b))
    }

    #[test]
    fn compatibility_table() {
        let cases = [
            ("3.12.4-slim-bookworm", "3.12.5-slim-bookworm", true),
            ("3.12.4-slim-bookworm", "3.13.1-slim-bookworm", true),
            ("3.12.4-slim-bookworm", "3.12.5-slim-trixie", false),
            ("3.12.4-slim-bookworm", "3.12.5-bookworm", false),
            ("3.12.4-slim-bookworm", "3.12-slim-bookworm", false),
            ("3.12-slim", "3.13-slim", true),
            ("3.12-slim", "3.13.1-slim", false),
            ("3.12-slim", "3-slim", false),
            ("3.12-slim", "3.13-slim-bookworm", false),
            ("3.12-slim", "3.15-rc-slim", false),
            ("3.13-rc-slim", "3.13-slim", true),
            ("3.13-rc-slim", "3.14-rc-slim", true),
            ("3.13.0b2", "3.13.0rc1", true),
            ("3.13.0", "3.14.0rc1", false),
            ("3.12-alpine3.20", "3.12-alpine3.21", false),
            ("v1.2.3", "v1.2.4", true),
            ("v1.2.3", "1.2.4", false),
            ("python3.11-slim", "python3.12-slim", true),
            ("python3.11-slim", "3.12-slim", false),
            (
                "0.11.32-python3.12-trixie-slim",
                "0.11.33-python3.12-trixie-slim",
                true,
            ),
            (
                "0.11.32-python3.12-trixie-slim",
                "0.11.33-python3.13-trixie-slim",
                false,
            ),
            ("20240814", "20240901", true),
            ("20240814", "2024-09-01", false),
            ("20240814", "3.12", false),
            ("1-72.1724040033", "1-77.1726664318", true),
            ("latest", "latest", false),
            ("slim", "slim", false),
            ("sha-1a2b3c4", "sha-2b3c4d5", false),
        ];
        for (current, candidate, expected) in cases {
            assert_eq!(
                compatible(current, candidate),
                expected,
                "{current} -> {candidate}"
            );
        }
    }

    #[test]
    fn ordering_of_compatible_tags() {
        let ordered = [
            "3.13.0a1",
            "3.13.0a2",
            "3.13.0b1",
            "3.13.0rc",
            "3.13.0rc1",
            "3.13.0rc2",
            "3.13.0",
            "3.13.1",
            "3.13.10",
            "3.14.0",
        ];
        for pair in ordered.windows(2) {
            let (a, b) = (DockerTag::parse(pair[0]), DockerTag::parse(pair[1]));
            assert_eq!(
                a.compare(&b),
                Some(Ordering::Less),
                "{} < {}",
                pair[0],
                pair[1]
            );
            assert_eq!(
                b.compare(&a),
                Some(Ordering::Greater),
                "{} > {}",
                pair[1],
                pair[0]
            );
        }
        let a = DockerTag::parse("3.12-slim");
        assert_eq!(a.compare(&a), Some(Ordering::Equal));
        assert_eq!(a.compare(&DockerTag::parse("3.12.1-slim")), None);
        assert_eq!(
            DockerTag::parse("1-72.1724040033").compare(&DockerTag::parse("1-77.1726664318")),
            Some(Ordering::Less)
        );
    }

    #[test]
    fn best_update_picks_highest_overall_and_in_minor() {
        let candidates = [
            "3.11.9-slim",
            "3.12.7-slim",
            "3.12.10-slim",
            "3.12.9-slim",
            "3.13.1-slim",
            "3.13.2-slim",
            "3.14.0rc1-slim",
            "3.13.3-slim-bookworm",
            "3.13-slim",
            "latest",
            "3.12.8",
        ];
        let best = best_update(&DockerTag::parse("3.12.7-slim"), &candidates);
        assert_eq!(best.highest, Some("3.13.2-slim"));
        assert_eq!(best.highest_in_minor, Some("3.12.10-slim"));

        let best = best_update(&DockerTag::parse("3.13.2-slim"), &candidates);
        assert_eq!(best, BestUpdate::default());

        // A pre-release current may move to pre-releases and to the final release.
        let best = best_update(&DockerTag::parse("3.13.0rc1-slim"), &candidates);
        assert_eq!(best.highest, Some("3.14.0rc1-slim"));
        assert_eq!(best.highest_in_minor, Some("3.13.2-slim"));

        // One part: no minor to stay within.
        let best = best_update(
            &DockerTag::parse("2-slim"),
            &["3-slim", "4-slim", "4.1-slim"],
        );
        assert_eq!(best.highest, Some("4-slim"));
        assert_eq!(best.highest_in_minor, None);

        // Named and hash tags have no updates.
        assert_eq!(
            best_update(&DockerTag::parse("latest"), &["latest", "3.12"]),
            BestUpdate::default()
        );
    }

    #[test]
    fn best_update_does_not_depend_on_candidate_order() {
        let mut candidates = vec!["1.2.3", "1.2.4", "1.3.0", "1.3.0", "1.2.10"];
        let current = DockerTag::parse("1.2.3");
        let first = best_update(&current, &candidates);
        candidates.reverse();
        assert_eq!(best_update(&current, &candidates), first);
        assert_eq!(first.highest, Some("1.3.0"));
        assert_eq!(first.highest_in_minor, Some("1.2.10"));
    }

    #[test]
    fn classification() {
        use UpdateKind::*;
        let cases = [
            ("3.12.4-slim", "3.12.5-slim", Some(Patch)),
            ("3.12.4-slim", "3.13.0-slim", Some(Minor)),
            ("3.12-slim", "3.13-slim", Some(Minor)),
            ("3-slim", "4-slim", Some(Major)),
            ("3.13.0rc1", "3.13.0", Some(Patch)),
            (
                "0.11.32-python3.12-trixie-slim",
                "0.12.0-python3.12-trixie-slim",
                Some(Minor),
            ),
            ("3.12.5-slim", "3.12.4-slim", None),
            ("3.12.4-slim", "3.12.4-slim", None),
            ("3.12.4-slim", "3.12.5-bookworm", None),
            ("20240814", "20240901", Some(Patch)),
            ("1-72.1724040033", "1-77.1726664318", Some(Patch)),
            ("1-72.1724040033", "2-1.1726664318", Some(Major)),
            ("latest", "latest", None),
        ];
        for (from, to, expected) in cases {
            assert_eq!(
                classify(&DockerTag::parse(from), &DockerTag::parse(to)),
                expected,
                "{from} -> {to}"
            );
        }
    }

    #[test]
    fn python_minor_table() {
        let cases = [
            ("3.12.4-slim-bookworm", Some((3, 12))),
            ("3.12-slim", Some((3, 12))),
            ("3.15.0rc1", Some((3, 15))),
            ("3-slim", None),
            ("slim", None),
            ("latest", None),
            ("python3.11-slim", Some((3, 11))),
            ("0.11.32-python3.12-trixie-slim", Some((3, 12))),
            ("20240814", None),
        ];
        for (tag, expected) in cases {
            assert_eq!(python_minor(&DockerTag::parse(tag)), expected, "{tag}");
        }
        assert_eq!(embedded_python(&DockerTag::parse("3.12.4-slim")), None);
        assert_eq!(
            embedded_python(&DockerTag::parse("python3.11-slim")),
            Some((3, 11))
        );
    }

    #[test]
    fn serialises_for_reports() {
        let json = serde_json::to_value(DockerTag::parse("3.13-rc-slim")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "tag": "3.13-rc-slim",
                "kind": "version",
                "prefix": "",
                "parts": [3, 13],
                "pre": {"kind": "rc", "number": null},
                "variant": "slim",
            })
        );
    }
}
