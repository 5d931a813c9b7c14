//! How much repin says on stderr beyond its report: `--log-level` (or `REPIN_LOG`, which the
//! GitHub Action's `log-level` input sets). `debug` adds a line for every HTTP request, so a
//! slow or failing run shows what it asked and what each server answered; `warn` and `error`
//! drop the notes that `info` (the default) prints.

use std::sync::atomic::{AtomicU8, Ordering};

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

static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);

/// Set the level for the rest of the process.
pub fn set(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

/// Whether messages at `level` are printed.
pub fn enabled(level: Level) -> bool {
    level as u8 <= LEVEL.load(Ordering::Relaxed)
}

/// Print a debug line, built only when debug is on.
pub fn debug(message: impl FnOnce() -> String) {
    if enabled(Level::Debug) {
        eprintln!("debug: {}", message());
    }
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
    }
}
