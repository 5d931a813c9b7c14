//! The server's log on stderr: text lines (`serve: REPOSITORY: what happened`, for people and
//! for journald or Kubernetes, which add the time) or, with `--log-format json`, one JSON
//! object a line with a timestamp, a level, the message, and the repository, delivery and job
//! it is about, for log pipelines. In JSON, a run's own output is wrapped the same way.

use std::sync::atomic::{AtomicBool, Ordering};

/// How the log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Lines of text.
    #[default]
    Text,
    /// One JSON object a line.
    Json,
}

static JSON: AtomicBool = AtomicBool::new(false);

/// Use `format` for the rest of the process.
pub fn set_format(format: Format) {
    JSON.store(format == Format::Json, Ordering::Relaxed);
}

/// Whether the log is JSON.
pub fn is_json() -> bool {
    JSON.load(Ordering::Relaxed)
}

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

/// The line for `message` at `level` (`info`, `warn`, `error`), without its newline.
pub fn line(level: &str, about: About<'_>, message: &str) -> String {
    if is_json() {
        let mut object = serde_json::Map::new();
        object.insert(
            "timestamp".into(),
            jiff::Timestamp::now().to_string().into(),
        );
        object.insert("level".into(), level.into());
        object.insert("message".into(), message.into());
        for (key, value) in [
            ("repository", about.repository),
            ("delivery", about.delivery),
            ("job", about.job),
            ("source", about.source),
        ] {
            if let Some(value) = value {
                object.insert(key.into(), value.into());
            }
        }
        return serde_json::Value::Object(object).to_string();
    }
    match (about.delivery, about.repository) {
        (Some(delivery), _) => format!("serve: delivery {delivery}: {message}"),
        (None, Some(repository)) => format!("serve: {repository}: {message}"),
        (None, None) => format!("serve: {message}"),
    }
}

/// Log `message` at `level`.
pub fn emit(level: &str, about: About<'_>, message: &str) {
    eprintln!("{}", line(level, about, message));
}

/// Log `message` at `info`.
pub fn info(about: About<'_>, message: &str) {
    emit("info", about, message);
}

/// Log `message` at `warn`.
pub fn warn(about: About<'_>, message: &str) {
    emit("warn", about, message);
}

/// Log `message` at `error`.
pub fn error(about: About<'_>, message: &str) {
    emit("error", about, message);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_json_lines() {
        let about = About {
            repository: Some("acme/service"),
            job: Some("host/1/2/0.0"),
            ..About::default()
        };
        assert_eq!(
            line("info", about, "run started"),
            "serve: acme/service: run started"
        );
        set_format(Format::Json);
        let json: serde_json::Value =
            serde_json::from_str(&line("warn", about, "run failed")).unwrap();
        set_format(Format::Text);
        assert_eq!(json["level"], "warn");
        assert_eq!(json["message"], "run failed");
        assert_eq!(json["repository"], "acme/service");
        assert_eq!(json["job"], "host/1/2/0.0");
        assert!(json.get("delivery").is_none());
        assert!(
            json["timestamp"]
                .as_str()
                .unwrap()
                .parse::<jiff::Timestamp>()
                .is_ok()
        );
    }
}
