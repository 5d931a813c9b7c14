//! Image references: `[registry/]repository[:tag][@digest]`, with Docker Hub normalisation,
//! following the grammar of the Distribution project's `reference` package.

use std::ops::Range;

use serde::Serialize;

/// Docker Hub's registry name after normalisation.
pub const DOCKER_HUB: &str = "docker.io";

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ImageRef {
    /// Registry host (with port), `docker.io` for Docker Hub.
    pub registry: String,
    /// Repository path; Docker Hub official images get `library/`.
    pub repository: String,
    /// The tag, if any.
    pub tag: Option<String>,
    /// The digest (`sha256:<64 hex>`), if any.
    pub digest: Option<String>,
}

/// Where the parts of a reference are in the text it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parts {
    /// The name (registry and repository as written).
    pub name: Range<usize>,
    /// The tag, without `:`.
    pub tag: Option<Range<usize>>,
    /// The digest, without `@`.
    pub digest: Option<Range<usize>>,
}

/// Why a string is not an image reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageRefError {
    /// Nothing to parse.
    #[error("The image reference is empty")]
    Empty,
    /// A repository path component breaks the grammar (uppercase, bad separator, empty).
    #[error(
        "Invalid repository name `{0}`: components are lowercase letters and digits separated by `.`, `_`, `__` or `-`"
    )]
    Repository(String),
    /// The registry host is malformed.
    #[error("Invalid registry `{0}`")]
    Registry(String),
    /// The tag breaks `[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}`.
    #[error("Invalid tag `{0}`")]
    Tag(String),
    /// The digest is not `algorithm:hex` of the right length.
    #[error("Invalid digest `{0}`: expected `sha256:` and 64 lowercase hex digits")]
    Digest(String),
    /// The name is longer than 255 characters.
    #[error("The repository name is longer than 255 characters")]
    TooLong,
}

fn is_component(text: &str) -> bool {
    // alpha-numeric (separator alpha-numeric)*, separator = [_.] | __ | [-]+
    let bytes = text.as_bytes();
    if bytes.is_empty() || !is_alnum(bytes[0]) || !is_alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if is_alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !is_alnum(bytes[i]) {
            i += 1;
        }
        let sep = &text[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn is_host(host: &str) -> bool {
    if host.is_empty() {
        return false;
    }
    if let Some(inner) = host.strip_prefix('[') {
        // [IPv6]:port
        return inner.split_once(']').is_some_and(|(addr, rest)| {
            addr.parse::<std::net::Ipv6Addr>().is_ok() && (rest.is_empty() || is_port(rest))
        });
    }
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (host, None),
    };
    if port.is_some_and(|p| !is_port(&format!(":{p}"))) {
        return false;
    }
    !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

fn is_port(text: &str) -> bool {
    text.strip_prefix(':')
        .is_some_and(|p| !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()))
}

fn is_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric() || c == '_')
        && tag.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Whether a digest is valid: known algorithms must have their exact length in lowercase hex.
pub fn is_valid_digest(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let lower_hex = !hex.is_empty()
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    match algorithm {
        "sha256" => hex.len() == 64 && lower_hex,
        "sha384" => hex.len() == 96 && lower_hex,
        "sha512" => hex.len() == 128 && lower_hex,
        other => {
            !other.is_empty()
                && other
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '_' | '-'))
                && hex.len() >= 32
                && hex.bytes().all(|b| b.is_ascii_hexdigit())
        }
    }
}

impl ImageRef {
    /// Parse a reference, normalising Docker Hub names (`python` is
    /// `docker.io/library/python`, `index.docker.io` is `docker.io`).
    pub fn parse(text: &str) -> Result<ImageRef, ImageRefError> {
        Self::parse_with_parts(text).map(|(r, _)| r)
    }

    /// Parse, also returning where the name, tag and digest are in `text`.
    pub fn parse_with_parts(text: &str) -> Result<(ImageRef, Parts), ImageRefError> {
        if text.is_empty() {
            return Err(ImageRefError::Empty);
        }
        let (before_digest, digest) = match text.split_once('@') {
            Some((b, d)) => (b, Some(d)),
            None => (text, None),
        };
        // The tag follows the last `:` that comes after the last `/` (a port's `:` does not).
        let last_slash = before_digest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match before_digest[last_slash..].rfind(':') {
            Some(i) => (
                &before_digest[..last_slash + i],
                Some(&before_digest[last_slash + i + 1..]),
            ),
            None => (before_digest, None),
        };
        if name.is_empty() {
            return Err(ImageRefError::Empty);
        }
        if name.len() > 255 {
            return Err(ImageRefError::TooLong);
        }
        let (registry, remainder) = match name.split_once('/') {
            Some((first, rest))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.to_ascii_lowercase() != first =>
            {
                if !is_host(first) {
                    return Err(ImageRefError::Registry(first.to_owned()));
                }
                (first.to_owned(), rest.to_owned())
            }
            _ => (DOCKER_HUB.to_owned(), name.to_owned()),
        };
        if !remainder.split('/').all(is_component) {
            return Err(ImageRefError::Repository(remainder));
        }
        let registry = if registry == "index.docker.io" {
            DOCKER_HUB.to_owned()
        } else {
            registry
        };
        let repository = if registry == DOCKER_HUB && !remainder.contains('/') {
            format!("library/{remainder}")
        } else {
            remainder
        };
        if let Some(tag) = tag {
            if !is_tag(tag) {
                return Err(ImageRefError::Tag(tag.to_owned()));
            }
        }
        if let Some(digest) = digest {
            if !is_valid_digest(digest) {
                return Err(ImageRefError::Digest(digest.to_owned()));
            }
        }
        let parts = Parts {
            name: 0..name.len(),
            tag: tag.map(|t| name.len() + 1..name.len() + 1 + t.len()),
            digest: digest.map(|d| text.len() - d.len()..text.len()),
        };
        Ok((
            ImageRef {
                registry,
                repository,
                tag: tag.map(str::to_owned),
                digest: digest.map(str::to_owned),
            },
            parts,
        ))
    }

    /// `registry/repository`, the name repin reports (`docker.io/library/python`).
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// Whether the image is on Docker Hub.
    pub fn is_docker_hub(&self) -> bool {
        self.registry == DOCKER_HUB
    }

    /// The short name people write: `python` for `docker.io/library/python`,
    /// `ghcr.io/astral-sh/uv` otherwise.
    pub fn short_name(&self) -> String {
        if self.is_docker_hub() {
            self.repository
                .strip_prefix("library/")
                .unwrap_or(&self.repository)
                .to_owned()
        } else {
            self.name()
        }
    }
}

impl std::fmt::Display for ImageRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:541d45d3d675fb8197f534525a671e2f8d66c882b89491f9dda271f4f94dcd06";

    #[test]
    fn parses_and_normalises_references() {
        let d = DIGEST;
        type Case<'a> = (String, &'a str, &'a str, Option<&'a str>, Option<&'a str>);
        let cases: Vec<Case> = vec![
            ("python".into(), "docker.io", "library/python", None, None),
            (
                "python:3.12-slim".into(),
                "docker.io",
                "library/python",
                Some("3.12-slim"),
                None,
            ),
            (
                "docker.io/python:3".into(),
                "docker.io",
                "library/python",
                Some("3"),
                None,
            ),
            (
                "docker.io/library/python:3".into(),
                "docker.io",
                "library/python",
                Some("3"),
                None,
            ),
            (
                "index.docker.io/library/python".into(),
                "docker.io",
                "library/python",
                None,
                None,
            ),
            (
                "tiangolo/uvicorn-gunicorn:python3.11-slim".into(),
                "docker.io",
                "tiangolo/uvicorn-gunicorn",
                Some("python3.11-slim"),
                None,
            ),
            (
                "ghcr.io/astral-sh/uv:0.12.3".into(),
                "ghcr.io",
                "astral-sh/uv",
                Some("0.12.3"),
                None,
            ),
            (
                format!("ghcr.io/astral-sh/uv:0.12.3@{d}"),
                "ghcr.io",
                "astral-sh/uv",
                Some("0.12.3"),
                Some(d),
            ),
            (
                format!("python@{d}"),
                "docker.io",
                "library/python",
                None,
                Some(d),
            ),
            ("localhost/app".into(), "localhost", "app", None, None),
            (
                "localhost:5000/app:1".into(),
                "localhost:5000",
                "app",
                Some("1"),
                None,
            ),
            (
                "192.168.150.14:5000/python:bookworm".into(),
                "192.168.150.14:5000",
                "python",
                Some("bookworm"),
                None,
            ),
            (
                "192.168.0.10:5000/python".into(),
                "192.168.0.10:5000",
                "python",
                None,
                None,
            ),
            (
                "[::1]:5000/python:3".into(),
                "[::1]:5000",
                "python",
                Some("3"),
                None,
            ),
            (
                "mcr.microsoft.com/devcontainers/python:1-3.12".into(),
                "mcr.microsoft.com",
                "devcontainers/python",
                Some("1-3.12"),
                None,
            ),
            (
                "public.ecr.aws/lambda/python:3.12".into(),
                "public.ecr.aws",
                "lambda/python",
                Some("3.12"),
                None,
            ),
            (
                "gcr.io/distroless/python3-debian11:nonroot".into(),
                "gcr.io",
                "distroless/python3-debian11",
                Some("nonroot"),
                None,
            ),
            (
                "cgr.dev/chainguard/python:latest-dev".into(),
                "cgr.dev",
                "chainguard/python",
                Some("latest-dev"),
                None,
            ),
            (
                "registry.access.redhat.com/ubi9/python-311:1-72.1724040033".into(),
                "registry.access.redhat.com",
                "ubi9/python-311",
                Some("1-72.1724040033"),
                None,
            ),
            (
                "3.10-windowsservercore-1809".into(),
                "docker.io",
                "library/3.10-windowsservercore-1809",
                None,
                None,
            ),
            (
                "a__b/c.d-e:x_Y".into(),
                "docker.io",
                "a__b/c.d-e",
                Some("x_Y"),
                None,
            ),
            (
                "py--thon".into(),
                "docker.io",
                "library/py--thon",
                None,
                None,
            ),
            (
                "Registry.Example/app".into(),
                "Registry.Example",
                "app",
                None,
                None,
            ),
        ];
        for (text, registry, repository, tag, digest) in cases {
            let r = ImageRef::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(
                (
                    r.registry.as_str(),
                    r.repository.as_str(),
                    r.tag.as_deref(),
                    r.digest.as_deref()
                ),
                (registry, repository, tag, digest),
                "{text}"
            );
        }
        assert_eq!(
            ImageRef::parse("python:3").unwrap().name(),
            "docker.io/library/python"
        );
        assert_eq!(ImageRef::parse("python:3").unwrap().short_name(), "python");
        assert_eq!(
            ImageRef::parse(&format!("ghcr.io/a/b:1@{DIGEST}"))
                .unwrap()
                .to_string(),
            format!("ghcr.io/a/b:1@{DIGEST}")
        );
    }

    #[test]
    fn rejects_what_the_grammar_rejects() {
        let cases = [
            ("", ImageRefError::Empty),
            ("Python:3", ImageRefError::Repository("Python".into())),
            (
                "python:3@sha256:abc",
                ImageRefError::Digest("sha256:abc".into()),
            ),
            (
                "python@sha256:ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789",
                ImageRefError::Digest(
                    "sha256:ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789"
                        .into(),
                ),
            ),
            ("python:-bad", ImageRefError::Tag("-bad".into())),
            ("py..thon", ImageRefError::Repository("py..thon".into())),
            ("-python", ImageRefError::Repository("-python".into())),
            (
                "my_registry:99999999/x",
                ImageRefError::Registry("my_registry:99999999".into()),
            ),
            ("a//b", ImageRefError::Repository("a//b".into())),
        ];
        for (text, expected) in cases {
            assert_eq!(ImageRef::parse(text), Err(expected), "{text}");
        }
    }

    #[test]
    fn reports_where_the_parts_are() {
        let text = format!("localhost:5000/python:3.12-slim@{DIGEST}");
        let (_, parts) = ImageRef::parse_with_parts(&text).unwrap();
        assert_eq!(&text[parts.name.clone()], "localhost:5000/python");
        assert_eq!(&text[parts.tag.clone().unwrap()], "3.12-slim");
        assert_eq!(&text[parts.digest.clone().unwrap()], DIGEST);
        let (_, bare) = ImageRef::parse_with_parts("python").unwrap();
        assert_eq!((bare.tag, bare.digest), (None, None));
    }
}
