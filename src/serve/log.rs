//! The server's log: `tracing` events about a repository, a delivery or a job. In the text
//! format (`crate::log`) the message reads `serve: REPOSITORY: what happened` after the
//! timestamp and level; with `--log-format json` the message is bare and the repository,
//! delivery and job it is about are fields of the JSON object, for log pipelines. In JSON, a
//! run's own output is wrapped the same way (`"source": "run"`).

pub use crate::log::{Format, is_json};

/// What a line is about.
#[derive(Debug, Clone, Copy, Default)]
pub struct About<'a> {
    /// The repository (`owner/name`).
    pub repository: Option<&'a str>,
    /// The webhook delivery (`X-GitHub-Delivery`).
    pub delivery: Option<&'a str>,
    /// The job's claim.
    pub job: Option<&'a str>,
    /// `run` for a run's own output.
    pub source: Option<&'a str>,
}

/// The text format's message: `message` after what it is about.
pub fn line(about: About<'_>, message: &str) -> String {
    match (about.delivery, about.repository) {
        (Some(delivery), _) => format!("serve: delivery {delivery}: {message}"),
        (None, Some(repository)) => format!("serve: {repository}: {message}"),
        (None, None) => format!("serve: {message}"),
    }
}

/// One event at a level known at compile time (`tracing`'s macros need one).
macro_rules! event {
    ($level:expr, $about:expr, $message:expr) => {
        if is_json() {
            tracing::event!(
                $level,
                repository = $about.repository,
                delivery = $about.delivery,
                job = $about.job,
                source = $about.source,
                "{}",
                $message
            );
        } else {
            tracing::event!($level, "{}", line($about, $message));
        }
    };
}

/// Log `message` at `level` (`info`, `warn`, anything else is `error`).
pub fn emit(level: &str, about: About<'_>, message: &str) {
    match level {
        "info" => info(about, message),
        "warn" => warn(about, message),
        _ => error(about, message),
    }
}

/// Log `message` at `info`.
pub fn info(about: About<'_>, message: &str) {
    event!(tracing::Level::INFO, about, message);
}

/// Log `message` at `warn`.
pub fn warn(about: About<'_>, message: &str) {
    event!(tracing::Level::WARN, about, message);
}

/// Log `message` at `error`.
pub fn error(about: About<'_>, message: &str) {
    event!(tracing::Level::ERROR, about, message);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_messages_say_what_they_are_about() {
        let about = About {
            repository: Some("acme/service"),
            job: Some("host/1/2/0.0"),
            ..About::default()
        };
        assert_eq!(
            line(about, "run started"),
            "serve: acme/service: run started"
        );
        let delivery = About {
            delivery: Some("d-1"),
            ..about
        };
        assert_eq!(line(delivery, "refused"), "serve: delivery d-1: refused");
        assert_eq!(line(About::default(), "stopped"), "serve: stopped");
    }
}
