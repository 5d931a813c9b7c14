//! The hidden, machine-readable marker in a pull request's body, by which repin recognises its
//! own pull requests and what they held when they were last written.

use serde::{Deserialize, Serialize};

use crate::vocab::IgnoreScope;

const OPEN: &str = "<!-- repin:v1 ";
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
    /// The marker as an HTML comment. `>` is escaped inside the JSON (where it can only occur
    /// in strings) so no value can close the comment early.
    pub fn render(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        format!("{OPEN}{}{CLOSE}", json.replace('>', "\\u003e"))
    }

    /// The marker in a pull request's body, `None` when there is none (not repin's, or edited
    /// beyond recognition).
    pub fn find(body: &str) -> Option<Marker> {
        let (start, end) = Self::span(body)?;
        serde_json::from_str(&body[start + OPEN.len()..end - CLOSE.len()]).ok()
    }

    /// `body` with its marker replaced by this one (appended when it has none).
    pub fn replace_in(&self, body: &str) -> String {
        match Self::span(body) {
            Some((start, end)) => format!("{}{}{}", &body[..start], self.render(), &body[end..]),
            None => format!("{body}\n\n{}\n", self.render()),
        }
    }

    /// Where the marker is in `body`: its opening's start and its closing's end.
    fn span(body: &str) -> Option<(usize, usize)> {
        let start = body.rfind(OPEN)?;
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
}
