//! The hidden, machine-readable marker in a pull request's body, by which repin recognises its
//! own pull requests and what they held when they were last written.

use serde::{Deserialize, Serialize};

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
        let start = body.rfind(OPEN)? + OPEN.len();
        let end = body[start..].find(CLOSE)? + start;
        serde_json::from_str(&body[start..end]).ok()
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
        };
        let rendered = marker.render();
        assert_eq!(rendered.matches("-->").count(), 1, "{rendered}");
        let body = format!("Some text\n\n{rendered}\n");
        assert_eq!(Marker::find(&body), Some(marker));
        assert_eq!(Marker::find("no marker"), None);
        assert_eq!(Marker::find("<!-- repin:v1 {broken -->"), None);
    }
}
