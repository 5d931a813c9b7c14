//! A message for people with its advice kept apart: the text of a warning, a hold-back's reason
//! or an edit failure, and the `hint:` lines that go with it.
//!
//! Hints travel typed so that every renderer decides how to show them: the table and the
//! terminal print them as `  hint:` lines under the text ([`Message`]'s `Display`), JSON as a
//! `hints` list next to the text, and a renderer with no room for them (a one-line annotation)
//! can leave them out. A hint is never written into the text.

use std::fmt;

use serde::Serialize;

/// A sentence and what the user can do about it.
///
/// Serialised as `{"message": text, "hints": [...]}` (the `hints` list always present).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Message {
    /// What happened: one sentence, no `hint:` line in it.
    #[serde(rename = "message")]
    pub text: String,
    /// What to do about it, one line each, without the `hint: ` prefix.
    pub hints: Vec<String>,
}

impl Message {
    /// A message without hints.
    pub fn new(text: impl Into<String>) -> Self {
        Message {
            text: text.into(),
            hints: Vec::new(),
        }
    }

    /// The message with `hint` added after its other hints.
    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// The same hints after other text: `prefix` and this message's text.
    #[must_use]
    pub fn prefixed(mut self, prefix: &str) -> Self {
        self.text.insert_str(0, prefix);
        self
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::new(text)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::new(text)
    }
}

impl fmt::Display for Message {
    /// The text, then a `  hint: ` line for each hint: how a terminal shows it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        for hint in &self.hints {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_the_text_then_one_hint_line_each() {
        let message = Message::new("a.txt: 2 updates held back")
            .hint("set `[python] version`")
            .hint("or re-lock it");
        assert_eq!(
            message.to_string(),
            "a.txt: 2 updates held back\n  hint: set `[python] version`\n  hint: or re-lock it"
        );
        assert_eq!(Message::from("plain").to_string(), "plain");
        assert_eq!(
            Message::new("held").hint("h").prefixed("x: ").to_string(),
            "x: held\n  hint: h"
        );
    }

    #[test]
    fn serialises_the_text_and_the_hints_apart() {
        let message = Message::new("down").hint("check the network");
        assert_eq!(
            serde_json::to_value(&message).unwrap(),
            serde_json::json!({"message": "down", "hints": ["check the network"]})
        );
        assert_eq!(
            serde_json::to_value(Message::new("x")).unwrap(),
            serde_json::json!({"message": "x", "hints": []})
        );
    }
}
