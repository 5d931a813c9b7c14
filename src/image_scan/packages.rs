//! The package databases of Linux distributions, and `/etc/os-release`, read from their text.
//!
//! - dpkg's `/var/lib/dpkg/status` (Debian, Ubuntu) and the one-file-per-package
//!   `/var/lib/dpkg/status.d/` of distroless images: RFC 822-style stanzas, `Package`,
//!   `Version`, `Status`, `Source` (`openssl` or `openssl (3.0.11-1~deb12u1)` when the source
//!   version differs from the binary's).
//! - apk's `/lib/apk/db/installed` (Alpine): stanzas of `K:value` lines, `P:` name, `V:`
//!   version, `o:` origin (the source package).
//!
//! Advisories name *source* packages (Debian's security tracker and Alpine's secdb do), so each
//! installed package keeps its source name and version beside its own.

use serde::{Deserialize, Serialize};

/// The most packages read from one database (a full Debian desktop has about 3,000).
pub const MAX_PACKAGES: usize = 100_000;

/// Which package manager a database belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageManager {
    /// Debian's dpkg (Debian, Ubuntu, distroless).
    Dpkg,
    /// Alpine's apk.
    Apk,
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Installed {
    /// The binary package's name (`libssl3`).
    pub name: String,
    /// Its version.
    pub version: String,
    /// The source package advisories name (`openssl`).
    pub source: String,
    /// The source package's version.
    pub source_version: String,
}

/// Read a dpkg status file (or one `status.d/` file). Packages that are not installed
/// (`deinstall ok config-files`, `not-installed`) are left out; stanzas without a name or
/// version are skipped.
pub fn parse_dpkg(text: &str, out: &mut Vec<Installed>) {
    for stanza in text.split("\n\n") {
        if out.len() >= MAX_PACKAGES {
            return;
        }
        let (mut name, mut version, mut status, mut source) = (None, None, None, None);
        for line in stanza.lines() {
            // Continuation lines (descriptions, conffiles) start with whitespace.
            if line.starts_with([' ', '\t']) {
                continue;
            }
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match key {
                "Package" => name = Some(value),
                "Version" => version = Some(value),
                "Status" => status = Some(value),
                "Source" => source = Some(value),
                _ => {}
            }
        }
        let (Some(name), Some(version)) = (name, version) else {
            continue;
        };
        // `Status: want flag state`; distroless' status.d files have none (all installed).
        if let Some(status) = status {
            let state = status.split_whitespace().nth(2).unwrap_or("");
            if matches!(state, "not-installed" | "config-files" | "") {
                continue;
            }
        }
        let (source, source_version) = match source {
            None => (name, version),
            Some(source) => match source.split_once('(') {
                Some((s, v)) => (s.trim(), v.trim_end_matches(')').trim()),
                None => (source, version),
            },
        };
        out.push(Installed {
            name: name.to_owned(),
            version: version.to_owned(),
            source: source.to_owned(),
            source_version: source_version.to_owned(),
        });
    }
}

/// Read apk's installed database.
pub fn parse_apk(text: &str, out: &mut Vec<Installed>) {
    for stanza in text.split("\n\n") {
        if out.len() >= MAX_PACKAGES {
            return;
        }
        let (mut name, mut version, mut origin) = (None, None, None);
        for line in stanza.lines() {
            match line.split_once(':') {
                Some(("P", v)) => name = Some(v),
                Some(("V", v)) => version = Some(v),
                Some(("o", v)) => origin = Some(v),
                _ => {}
            }
        }
        let (Some(name), Some(version)) = (name, version) else {
            continue;
        };
        out.push(Installed {
            name: name.to_owned(),
            version: version.to_owned(),
            source: origin.unwrap_or(name).to_owned(),
            source_version: version.to_owned(),
        });
    }
}

/// What `/etc/os-release` (or `/usr/lib/os-release`) says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsRelease {
    /// `ID`: `debian`, `ubuntu`, `alpine`.
    pub id: String,
    /// `VERSION_ID`: `12`, `22.04`, `3.20.3`.
    pub version_id: Option<String>,
    /// `VERSION_CODENAME`: `bookworm`.
    pub codename: Option<String>,
    /// `PRETTY_NAME`.
    pub pretty_name: Option<String>,
}

/// Parse os-release: `KEY=value` lines, values optionally quoted (shell-style escapes for `\"`,
/// `\\`, `` \` ``, `\$`).
pub fn parse_os_release(text: &str) -> OsRelease {
    let mut release = OsRelease::default();
    for line in text.lines() {
        let line = line.trim();
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = unquote(value.trim());
        match key.trim() {
            "ID" => release.id = value.to_ascii_lowercase(),
            "VERSION_ID" => release.version_id = Some(value),
            "VERSION_CODENAME" => release.codename = Some(value),
            "PRETTY_NAME" => release.pretty_name = Some(value),
            _ => {}
        }
    }
    release
}

fn unquote(value: &str) -> String {
    let inner = match value.as_bytes() {
        [b'"', .., b'"'] | [b'\'', .., b'\''] if value.len() >= 2 => &value[1..value.len() - 1],
        _ => value,
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Package: libssl3\nStatus: install ok installed\nPriority: optional\nSection: libs\nInstalled-Size: 6180\nMaintainer: Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>\nArchitecture: amd64\nMulti-Arch: same\nSource: openssl\nVersion: 3.0.11-1~deb12u2\nDepends: libc6 (>= 2.34)\nDescription: Secure Sockets Layer toolkit - shared libraries\n This package is part of the OpenSSL project's implementation of the SSL and TLS\n Version: 9.9 (a continuation line is not a field)\n\nPackage: libgnutls30\nStatus: install ok installed\nSource: gnutls28 (3.7.9-2)\nVersion: 3.7.9-2+deb12u2\n\nPackage: oldthing\nStatus: deinstall ok config-files\nVersion: 1.0\n\nPackage: base-files\nStatus: install ok installed\nVersion: 12.4+deb12u5\n";

    #[test]
    fn dpkg_status_with_sources() {
        let mut out = Vec::new();
        parse_dpkg(STATUS, &mut out);
        let got: Vec<(&str, &str, &str, &str)> = out
            .iter()
            .map(|p| (&*p.name, &*p.version, &*p.source, &*p.source_version))
            .collect();
        assert_eq!(
            got,
            [
                ("libssl3", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2"),
                ("libgnutls30", "3.7.9-2+deb12u2", "gnutls28", "3.7.9-2"),
                ("base-files", "12.4+deb12u5", "base-files", "12.4+deb12u5"),
            ]
        );
        // CRLF stanzas are not what dpkg writes; distroless' status.d has no Status field.
        let mut out = Vec::new();
        parse_dpkg(
            "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n",
            &mut out,
        );
        assert_eq!(out[0].source, "tzdata");
    }

    #[test]
    fn apk_installed_with_origins() {
        let db = "C:Q1abc=\nP:libcrypto3\nV:3.3.2-r0\nA:x86_64\nS:1798712\no:openssl\nm:Ariadne\nt:1725000000\n\nP:musl\nV:1.2.5-r0\no:musl\n\nP:alpine-release\nV:3.20.3-r0\no:alpine-base\n\n";
        let mut out = Vec::new();
        parse_apk(db, &mut out);
        let got: Vec<(&str, &str, &str)> = out
            .iter()
            .map(|p| (&*p.name, &*p.version, &*p.source))
            .collect();
        assert_eq!(
            got,
            [
                ("libcrypto3", "3.3.2-r0", "openssl"),
                ("musl", "1.2.5-r0", "musl"),
                ("alpine-release", "3.20.3-r0", "alpine-base"),
            ]
        );
    }

    #[test]
    fn os_release_quotes_and_escapes() {
        let text = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL=\"https://www.debian.org/\"\n# comment\nX=\"a \\\"q\\\"\"\n";
        let r = parse_os_release(text);
        assert_eq!(r.id, "debian");
        assert_eq!(r.version_id.as_deref(), Some("12"));
        assert_eq!(r.codename.as_deref(), Some("bookworm"));
        assert_eq!(
            r.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(unquote("\"a \\\"q\\\"\""), "a \"q\"");
        let alpine = parse_os_release("NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\n");
        assert_eq!(
            (alpine.id.as_str(), alpine.version_id.as_deref()),
            ("alpine", Some("3.20.3"))
        );
    }
}
