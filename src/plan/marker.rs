//! The hidden, machine-readable marker in a pull request's body, by which repin recognises its
//! own pull requests and what they held when they were last written.

use serde::{Deserialize, Serialize};

use crate::vocab::IgnoreScope;

const OPEN: &str = "<!-- repin:v1 ";
/// A marker too long to show as JSON: the JSON deflated, in base64. A body of a few hundred
/// updates would otherwise pass GitHub's limit on a body (65,536 characters) on its marker
/// alone.
const OPEN_PACKED: &str = "<!-- repin:v2 ";
/// The longest marker written as plain JSON.
const PLAIN_MAX: usize = 8 << 10;
/// The most a packed marker inflates to: anyone who can edit the body can write one.
const PACKED_MAX: u64 = 16 << 20;
const CLOSE: &str = " -->";

/// One update as recorded in a marker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkedUpdate {
    /// Repository-relative path of the file.
    pub file: String,
    /// The dependency's name.
    pub name: String,
    /// The kind of update (`patch`, `digest`...).
    pub kind: String,
    /// The value before.
    pub from: String,
    /// The value after.
    pub to: String,
}

/// What a pull request held: its branch, whether it was a security update, and its updates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    /// The branch.
    pub branch: String,
    /// Whether it fixes known vulnerabilities.
    pub security: bool,
    /// The updates, in the order of the body's table.
    pub updates: Vec<MarkedUpdate>,
    /// Set on a pull request closed by `@repin ignore …`: the releases of its updates repin
    /// does not propose again (a security fix excepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<IgnoreScope>,
}

impl Marker {
    /// The marker as an HTML comment: its JSON, with `>` escaped (where it can only occur in
    /// strings) so no value can close the comment early; past 8 KiB, the JSON deflated and in
    /// base64.
    pub fn render(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        if json.len() <= PLAIN_MAX {
            return format!("{OPEN}{}{CLOSE}", json.replace('>', "\\u003e"));
        }
        use base64::Engine as _;
        use std::io::Write as _;
        let mut deflated =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        // Writing into memory cannot fail.
        let _ = deflated.write_all(json.as_bytes());
        let packed = deflated.finish().unwrap_or_default();
        format!(
            "{OPEN_PACKED}{}{CLOSE}",
            base64::engine::general_purpose::STANDARD.encode(packed)
        )
    }

    /// The marker in a pull request's body, `None` when there is none (not repin's, or edited
    /// beyond recognition).
    pub fn find(body: &str) -> Option<Marker> {
        let (start, end) = Self::span(body)?;
        let inside = &body[start + OPEN.len()..end - CLOSE.len()];
        if body[start..].starts_with(OPEN) {
            return serde_json::from_str(inside).ok();
        }
        use base64::Engine as _;
        use std::io::Read as _;
        let packed = base64::engine::general_purpose::STANDARD
            .decode(inside)
            .ok()?;
        let mut json = Vec::new();
        flate2::read::DeflateDecoder::new(packed.as_slice())
            .take(PACKED_MAX + 1)
            .read_to_end(&mut json)
            .ok()?;
        if json.len() as u64 > PACKED_MAX {
            return None;
        }
        serde_json::from_slice(&json).ok()
    }

    /// `body` with its marker replaced by this one (appended when it has none).
    pub fn replace_in(&self, body: &str) -> String {
        match Self::span(body) {
            Some((start, end)) => format!("{}{}{}", &body[..start], self.render(), &body[end..]),
            None => format!("{body}\n\n{}\n", self.render()),
        }
    }

    /// Where the marker is in `body` (the last one, plain or packed): its opening's start and
    /// its closing's end.
    fn span(body: &str) -> Option<(usize, usize)> {
        let start = match (body.rfind(OPEN), body.rfind(OPEN_PACKED)) {
            (Some(plain), Some(packed)) => plain.max(packed),
            (plain, packed) => plain.or(packed)?,
        };
        // Both openings have the same length.
        let end = body[start + OPEN.len()..].find(CLOSE)? + start + OPEN.len() + CLOSE.len();
        Some((start, end))
    }

    /// Whether an update of `name` in `file` to `version` falls under this marker's ignore.
    pub fn ignores(&self, file: &str, name: &str, version: &str) -> bool {
        let Some(scope) = self.ignore else {
            return false;
        };
        self.updates
            .iter()
            .any(|u| u.file == file && u.name == name && scope.covers(&u.to, version))
    }

    /// What the ignore leaves out, for people: `flask 3.x`, `jinja2 3.1.x`, `requests`.
    pub fn ignored_text(&self) -> String {
        let Some(scope) = self.ignore else {
            return String::new();
        };
        let mut names: Vec<String> = self
            .updates
            .iter()
            .map(|u| match scope.shared_numbers() {
                None => u.name.clone(),
                Some(count) => {
                    let numbers: Vec<&str> =
                        u.to.trim_start_matches(['v', 'V'])
                            .split(|c: char| !c.is_ascii_digit() && c != '.')
                            .next()
                            .unwrap_or("")
                            .split('.')
                            .take(count)
                            .collect();
                    format!("{} {}.x", u.name, numbers.join("."))
                }
            })
            .collect();
        names.dedup();
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_a_body_and_cannot_be_closed_by_a_value() {
        let marker = Marker {
            branch: "repin/requirements.txt/flask".into(),
            security: true,
            updates: vec![MarkedUpdate {
                file: "requirements.txt".into(),
                name: "fl-->ask".into(),
                kind: "patch".into(),
                from: "1.0".into(),
                to: "1.1".into(),
            }],
            ignore: None,
        };
        let rendered = marker.render();
        assert_eq!(rendered.matches("-->").count(), 1, "{rendered}");
        let body = format!("Some text\n\n{rendered}\n");
        assert_eq!(Marker::find(&body), Some(marker.clone()));
        assert_eq!(Marker::find("no marker"), None);
        assert_eq!(Marker::find("<!-- repin:v1 {broken -->"), None);
        // Replaced in place, the text around it kept.
        let ignored = Marker {
            ignore: Some(IgnoreScope::Major),
            ..marker.clone()
        };
        let replaced = ignored.replace_in(&body);
        assert_eq!(replaced, format!("Some text\n\n{}\n", ignored.render()));
        assert_eq!(Marker::find(&replaced), Some(ignored.clone()));
        assert_eq!(ignored.ignored_text(), "fl-->ask 1.x");
        assert!(ignored.ignores("requirements.txt", "fl-->ask", "1.9"));
        assert!(!ignored.ignores("requirements.txt", "fl-->ask", "2.0"));
        assert!(!ignored.ignores("other.txt", "fl-->ask", "1.9"));
        assert!(!marker.ignores("requirements.txt", "fl-->ask", "1.1"));
        // A marker written before ignores existed reads as none.
        assert_eq!(
            Marker::find(&format!("x {}", marker.render()))
                .unwrap()
                .ignore,
            None
        );
    }

    /// A marker of thousands of updates is packed (deflated JSON in base64) and reads back; a
    /// packed marker that is not base64, not deflate, or inflates past its limit reads as none.
    #[test]
    fn a_long_marker_is_packed_and_reads_back() {
        let marker = Marker {
            branch: "repin/everything".into(),
            security: false,
            updates: (0..3000)
                .map(|i| MarkedUpdate {
                    file: format!("services/s{}/requirements.txt", i % 100),
                    name: format!("package-{i}"),
                    kind: "patch".into(),
                    from: "1.0.0".into(),
                    to: "1.0.1".into(),
                })
                .collect(),
            ignore: None,
        };
        let rendered = marker.render();
        assert!(rendered.starts_with("<!-- repin:v2 "), "{rendered}");
        assert!(rendered.len() < 40_000, "{}", rendered.len());
        let body = format!("Text\n\n{rendered}\n");
        assert_eq!(Marker::find(&body), Some(marker.clone()));
        // The last marker counts, whichever its form.
        let small = Marker {
            updates: marker.updates[..1].to_vec(),
            ..marker.clone()
        };
        assert_eq!(
            Marker::find(&format!("{body}{}", small.render())),
            Some(small.clone())
        );
        assert_eq!(
            small.replace_in(&body),
            format!("Text\n\n{}\n", small.render())
        );

        assert_eq!(Marker::find("<!-- repin:v2 not base64! -->"), None);
        assert_eq!(Marker::find("<!-- repin:v2 aGVsbG8= -->"), None);
        use base64::Engine as _;
        use std::io::Write as _;
        let mut bomb = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        // 20 MiB of spaces before a valid marker's JSON: it would read, were it not too long.
        for _ in 0..20 {
            bomb.write_all(&vec![b' '; 1 << 20]).unwrap();
        }
        bomb.write_all(serde_json::to_string(&small).unwrap().as_bytes())
            .unwrap();
        let bomb = base64::engine::general_purpose::STANDARD.encode(bomb.finish().unwrap());
        assert_eq!(Marker::find(&format!("<!-- repin:v2 {bomb} -->")), None);
    }
}
