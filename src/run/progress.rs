//! The status line of a run's lookups, on a terminal only: `indicatif` draws and clears it,
//! and draws nothing when stderr is not a terminal or the run is in CI (`CI` set), so piped
//! output and logs never hold control characters.

use std::sync::atomic::Ordering;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::registry::http::HttpClient;

/// How long lookups run before the line appears (a quick run shows nothing).
const DELAY: Duration = Duration::from_millis(400);
/// How often the request count is refreshed.
const TICK: Duration = Duration::from_millis(200);

/// A status line while dependencies are looked up; cleared when dropped.
pub struct Progress {
    bar: ProgressBar,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    /// Start the line for `count` dependencies, counting `http`'s requests. Call inside a
    /// tokio runtime.
    pub fn start(count: usize, http: &HttpClient) -> Progress {
        let bar = ProgressBar::with_draw_target(None, target());
        bar.set_style(
            ProgressStyle::with_template("{msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        let task = (!bar.is_hidden()).then(|| {
            let bar = bar.clone();
            let http = http.clone();
            tokio::spawn(async move {
                tokio::time::sleep(DELAY).await;
                loop {
                    let sent = http.stats().sent.load(Ordering::Relaxed);
                    bar.set_message(format!("Looking up {count} dependencies… {sent} requests"));
                    tokio::time::sleep(TICK).await;
                }
            })
        });
        Progress { bar, task }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        self.bar.finish_and_clear();
    }
}

/// stderr when it is a terminal outside CI, else nowhere.
fn target() -> ProgressDrawTarget {
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        ProgressDrawTarget::hidden()
    } else {
        // indicatif draws on stderr only when it is a terminal.
        ProgressDrawTarget::stderr()
    }
}
