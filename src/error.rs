//! One error path for every command, the bot and the Action: typed `thiserror` errors whose
//! causes are their `#[source]` chain (never `Caused by:` text in a message) and whose advice
//! comes from the [`Hint`] trait (never `hint:` text in a message), rendered by [`chain`] the
//! same way everywhere: the message, a `Caused by:` line for each source, then the hints,
//! credentials redacted. The CLI only adds colour and the `error:` prefix.

use std::error::Error;

/// What the user can do about an error: the `hint:` lines printed after its causes.
///
/// Implemented by every error repin renders. A wrapper whose source has hints of its own
/// forwards them (`Self::Query { source } => source.hints()`): hints are typed, never found by
/// reading a message.
pub trait Hint: Error {
    /// The hints, one line each, without the `hint: ` prefix (none by default).
    fn hints(&self) -> Vec<String> {
        Vec::new()
    }
}

/// The lines of an error as repin shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The error's own message.
    pub message: String,
    /// Each source's message, outermost first.
    pub causes: Vec<String>,
    /// What to do about it.
    pub hints: Vec<String>,
}

impl Rendered {
    /// The message, causes and hints of `error`.
    pub fn of<E: Hint + ?Sized>(error: &E) -> Self {
        let mut rendered = Rendered {
            message: error.to_string(),
            causes: Vec::new(),
            hints: Vec::new(),
        };
        let mut source = error.source();
        while let Some(cause) = source {
            // Some foreign errors print their source in their own message too (hyper's and
            // io's wrappers): a cause the line above already says is left out.
            let text = cause.to_string();
            let above = rendered.causes.last().unwrap_or(&rendered.message);
            if !above.contains(&text) {
                rendered.causes.push(text);
            }
            source = cause.source();
        }
        for hint in error.hints() {
            if !rendered.hints.contains(&hint) {
                rendered.hints.push(hint);
            }
        }
        rendered
    }

    /// The text: the message, `  Caused by: ` lines, `  hint: ` lines, credentials redacted.
    pub fn text(&self) -> String {
        let mut text = self.message.clone();
        for cause in &self.causes {
            text.push_str("\n  Caused by: ");
            text.push_str(cause);
        }
        for hint in &self.hints {
            text.push_str("\n  hint: ");
            text.push_str(hint);
        }
        crate::vocab::redact::text(&text)
    }
}

/// Full error text: the error, its causes and its hints, credentials redacted.
pub fn chain<E: Hint + ?Sized>(error: &E) -> String {
    Rendered::of(error).text()
}

/// The error as a [`Message`](crate::vocab::Message) to carry on: its message and `Caused by:`
/// lines as the text, its hints apart, credentials redacted (for a warning or a hold-back's
/// reason that quotes the error).
pub fn message<E: Hint + ?Sized>(error: &E) -> crate::vocab::Message {
    let rendered = Rendered::of(error);
    let mut text = rendered.message;
    for cause in &rendered.causes {
        text.push_str("\n  Caused by: ");
        text.push_str(cause);
    }
    crate::vocab::Message {
        text: crate::vocab::redact::text(&text),
        hints: rendered
            .hints
            .iter()
            .map(|h| crate::vocab::redact::text(h))
            .collect(),
    }
}

/// An error known only by its text (a tool's or a library's message that has no type worth
/// keeping), for use as a `#[source]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Reason(pub String);

impl Hint for Reason {}

// The foreign errors repin renders directly.
impl Hint for std::io::Error {}
impl Hint for serde_json::Error {}
impl Hint for git2::Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Inner {
        #[error("Cannot connect to https://u:s3cr3t-pass@example.test/")]
        Connect(#[source] std::io::Error),
    }

    impl Hint for Inner {
        fn hints(&self) -> Vec<String> {
            vec!["check the network".into()]
        }
    }

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        #[error("Cannot query the index")]
        Query(#[source] Inner),
    }

    impl Hint for Outer {
        fn hints(&self) -> Vec<String> {
            let Outer::Query(inner) = self;
            let mut hints = vec!["run again later".to_owned()];
            hints.extend(inner.hints());
            hints.push("run again later".into());
            hints
        }
    }

    #[test]
    fn causes_follow_the_source_chain_and_hints_come_last_once_each() {
        let error = Outer::Query(Inner::Connect(std::io::Error::other("dns error")));
        assert_eq!(
            chain(&error),
            "Cannot query the index\n  \
             Caused by: Cannot connect to https://***@example.test/\n  \
             Caused by: dns error\n  \
             hint: run again later\n  \
             hint: check the network"
        );
        let plain = Reason("No token".into());
        assert_eq!(chain(&plain), "No token");
        let carried = message(&error);
        assert_eq!(
            carried.text,
            "Cannot query the index\n  \
             Caused by: Cannot connect to https://***@example.test/\n  \
             Caused by: dns error"
        );
        assert_eq!(carried.hints, ["run again later", "check the network"]);
        assert_eq!(carried.to_string(), chain(&error));
    }
}
