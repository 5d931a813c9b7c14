//! repin's log on stderr, written with `tracing` events through `tracing-subscriber`.
//!
//! How much is said: `--log-level` (or `REPIN_LOG`, which the GitHub Action's `log-level` input
//! sets), `-q`/`-v`. `debug` adds an event for every HTTP request (URLs redacted), so a slow or
//! failing run shows what it asked and what each server answered; `warn` and `error` drop the
//! notes that `info` (the default) prints.
//!
//! How it is written: lines for people (`2026-01-05T10:00:00.000000Z  INFO message`, a UTC
//! timestamp and a level, for terminals and for journald or Kubernetes) or, with `repin serve
//! --log-format json`, one JSON object a line (`timestamp`, `level`, `message` and the event's
//! fields) for log pipelines.
//!
//! The CLI's report (tables, JSON documents, `error:` lines) is output, not logging: it is
//! printed by the front ends, whatever the level.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// A level, from the quietest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Level {
    /// Errors only.
    Error,
    /// Errors and warnings.
    Warn,
    /// Also notes about the run (the default).
    Info,
    /// Also every HTTP request, with its status, time and whether the cache answered.
    Debug,
}

impl Level {
    /// The `tracing` filter that lets this level's events through.
    fn filter(self) -> LevelFilter {
        match self {
            Level::Error => LevelFilter::ERROR,
            Level::Warn => LevelFilter::WARN,
            Level::Info => LevelFilter::INFO,
            Level::Debug => LevelFilter::DEBUG,
        }
    }
}

/// How the log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Lines of text, with a timestamp and a level.
    #[default]
    Text,
    /// One JSON object a line.
    Json,
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);
static JSON: AtomicBool = AtomicBool::new(false);

/// Log at `level` in `format` on stderr for the rest of the process; `colour` colours the
/// levels of the text format. Only the first call installs the subscriber (a process has one);
/// later calls still set what [`enabled`] and [`is_json`] answer.
pub fn init(level: Level, format: Format, colour: bool) {
    set(level);
    JSON.store(format == Format::Json, Ordering::Relaxed);
    // repin's own events only: hyper, h2 and sqlx say much at debug that is not about the run.
    let filter = Targets::new().with_target("repin", level.filter());
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false);
    let layer = match format {
        Format::Text => layer.with_ansi(colour).with_filter(filter).boxed(),
        Format::Json => layer
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_filter(filter)
            .boxed(),
    };
    // An error means a subscriber is already installed (a second `init` in one process).
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

/// Set the level that [`enabled`] answers for (the subscriber's own is set by [`init`]).
pub fn set(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

/// Whether messages at `level` are printed: the front ends ask before printing their notes.
pub fn enabled(level: Level) -> bool {
    level as u8 <= LEVEL.load(Ordering::Relaxed)
}

/// Whether the log is JSON.
pub fn is_json() -> bool {
    JSON.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_order_from_the_quietest() {
        assert!(Level::Error < Level::Warn && Level::Warn < Level::Info);
        assert!(Level::Info < Level::Debug);
        // The default.
        assert!(enabled(Level::Info));
        assert!(!enabled(Level::Debug));
        assert!(Level::Debug.filter() > Level::Info.filter());
    }
}
