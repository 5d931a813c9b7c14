//! A message for people with its advice kept apart: the text of a warning, a hold-back's reason,
//! a failed lookup, a note, an audit's reason for not checking something, a pull request's
//! detail or an edit failure, and the `hint:` lines that go with it. An error becomes one with
//! [`crate::error::message`].
//!
//! Hints travel typed so that every renderer decides how to show them: the table and the
//! terminal print them as `  hint:` lines under the text ([`Message`]'s `Display`), JSON as a
//! `hints` list next to the text, a one-line renderer (SARIF, the dashboard) on the same line
//! ([`Message::one_line`]). A hint is never written into the text.

use std::fmt;

use serde::Serialize;

/// A sentence and what the user can do about it.
///
/// Serialised as `{"message": text, "hints": [...]}` (the `hints` list always present).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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

    /// Several messages as one: their texts joined with `separator`, then their hints, each
    /// once (the same advice for two failures is said once).
    pub fn joined<'a>(messages: impl IntoIterator<Item = &'a Message>, separator: &str) -> Self {
        let mut joined = Message::default();
        for (i, message) in messages.into_iter().enumerate() {
            if i > 0 {
                joined.text.push_str(separator);
            }
            joined.text.push_str(&message.text);
            for hint in &message.hints {
                if !joined.hints.contains(hint) {
                    joined.hints.push(hint.clone());
                }
            }
        }
        joined
    }

    /// The text with every line break made a space, then its hints as `hint:` clauses on the
    /// same line: for a renderer with one line per message (a SARIF message, a dashboard
    /// line), the same words as the `Display` form.
    pub fn one_line(&self) -> String {
        self.to_string().replace('\n', " ")
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
    fn joined_messages_keep_each_hint_once_after_every_text() {
        let down = Message::new("a is down").hint("check the network");
        let slow = Message::new("b is slow")
            .hint("check the network")
            .hint("raise the timeout");
        let joined = Message::joined([&down, &slow], "\n");
        assert_eq!(joined.text, "a is down\nb is slow");
        assert_eq!(joined.hints, ["check the network", "raise the timeout"]);
        assert_eq!(
            joined.one_line(),
            "a is down b is slow   hint: check the network   hint: raise the timeout"
        );
        assert_eq!(Message::joined([], "; "), Message::default());
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
