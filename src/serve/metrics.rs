//! The server's counters, rendered in Prometheus' text exposition format for `GET /metrics`.
//! The queue's gauges are read from the database at each scrape, so every process shows the
//! whole fleet's queue; the counters are this process's own.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

use crate::queue::{Budget, Counts};

#[derive(Default)]
struct Counters {
    deliveries: BTreeMap<&'static str, u64>,
    started: u64,
    finished: BTreeMap<&'static str, u64>,
    seconds: f64,
    deferred: u64,
    api_requests: BTreeMap<String, u64>,
}

/// The counters of one process.
#[derive(Default)]
pub struct Metrics {
    counters: Mutex<Counters>,
}

impl Metrics {
    fn counters(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.counters
            .lock()
            .expect("the metrics lock is never poisoned")
    }

    /// A delivery was `result` (`queued`, `coalesced`, `duplicate`, `ignored`, `refused`,
    /// `failed`).
    pub fn delivery(&self, result: &'static str) {
        *self.counters().deliveries.entry(result).or_default() += 1;
    }

    /// A run started.
    pub fn started(&self) {
        self.counters().started += 1;
    }

    /// A job was deferred: its installation's API budget was spent.
    pub fn deferred(&self) {
        self.counters().deferred += 1;
    }

    /// A run of `installation` made `requests` GitHub API requests.
    pub fn api_requests(&self, installation: &str, requests: u64) {
        *self
            .counters()
            .api_requests
            .entry(installation.to_owned())
            .or_default() += requests;
    }

    /// A run ended with `outcome` after `seconds`.
    pub fn finished(&self, outcome: &'static str, seconds: f64) {
        let mut counters = self.counters();
        *counters.finished.entry(outcome).or_default() += 1;
        counters.seconds += seconds;
    }

    /// The text format; `queue` is `None` when the database did not answer; `budgets` are the
    /// installations' GitHub API budgets (all processes').
    pub fn render(&self, queue: Option<Counts>, budgets: &[Budget]) -> String {
        let counters = self.counters();
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        metric(
            "repin_jobs_queued",
            "gauge",
            "Jobs waiting in the queue, all processes.",
        );
        metric(
            "repin_jobs_running",
            "gauge",
            "Jobs being run, all processes.",
        );
        if let Some(counts) = queue {
            let _ = writeln!(out, "repin_jobs_queued {}", counts.queued);
            let _ = writeln!(out, "repin_jobs_running {}", counts.running);
        }
        let _ = writeln!(
            out,
            "# HELP repin_queue_up Whether the job queue's database answered.\n# TYPE repin_queue_up gauge\nrepin_queue_up {}",
            u8::from(queue.is_some())
        );
        let _ = writeln!(
            out,
            "# HELP repin_deliveries_total Webhook deliveries, by what became of them.\n# TYPE repin_deliveries_total counter"
        );
        for (result, n) in &counters.deliveries {
            let _ = writeln!(out, "repin_deliveries_total{{result=\"{result}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP repin_jobs_started_total Runs started by this process.\n# TYPE repin_jobs_started_total counter\nrepin_jobs_started_total {}",
            counters.started
        );
        let _ = writeln!(
            out,
            "# HELP repin_jobs_finished_total Runs ended by this process, by outcome (done, failed, timed out, lease lost, given back, not started).\n# TYPE repin_jobs_finished_total counter"
        );
        for (outcome, n) in &counters.finished {
            let _ = writeln!(
                out,
                "repin_jobs_finished_total{{outcome=\"{outcome}\"}} {n}"
            );
        }
        let count: u64 = counters.finished.values().sum();
        let _ = writeln!(
            out,
            "# HELP repin_job_duration_seconds How long runs took.\n# TYPE repin_job_duration_seconds summary\nrepin_job_duration_seconds_sum {:.3}\nrepin_job_duration_seconds_count {count}",
            counters.seconds
        );
        let _ = writeln!(
            out,
            "# HELP repin_jobs_deferred_total Jobs this process put off because their installation's GitHub API budget was spent.\n# TYPE repin_jobs_deferred_total counter\nrepin_jobs_deferred_total {}",
            counters.deferred
        );
        // `installation 42` is labelled `42`; the one token of a server without an App, `token`.
        let label = |key: &str| {
            key.strip_prefix("installation ")
                .unwrap_or(key)
                .replace(['"', '\\', '\n'], "_")
        };
        let _ = writeln!(
            out,
            "# HELP repin_github_requests_total GitHub API requests of this process's runs, by installation.\n# TYPE repin_github_requests_total counter"
        );
        for (key, n) in &counters.api_requests {
            let _ = writeln!(
                out,
                "repin_github_requests_total{{installation=\"{}\"}} {n}",
                label(key)
            );
        }
        let _ = writeln!(
            out,
            "# HELP repin_github_rate_limit_remaining GitHub API requests left in the window, by installation, as its runs last saw it (all processes).\n# TYPE repin_github_rate_limit_remaining gauge"
        );
        for budget in budgets {
            if let Some(remaining) = budget.remaining {
                let _ = writeln!(
                    out,
                    "repin_github_rate_limit_remaining{{installation=\"{}\"}} {remaining}",
                    label(&budget.installation)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP repin_github_rate_limit_reset_seconds When each installation's window resets (seconds since the epoch).\n# TYPE repin_github_rate_limit_reset_seconds gauge"
        );
        for budget in budgets {
            if let Some(reset_at) = budget.reset_at {
                let _ = writeln!(
                    out,
                    "repin_github_rate_limit_reset_seconds{{installation=\"{}\"}} {}",
                    label(&budget.installation),
                    reset_at / 1000
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format() {
        let metrics = Metrics::default();
        metrics.delivery("queued");
        metrics.delivery("queued");
        metrics.started();
        metrics.finished("done", 1.5);
        metrics.api_requests("installation 42", 7);
        metrics.api_requests("installation 42", 5);
        metrics.deferred();
        let budgets = [Budget {
            installation: "installation 42".into(),
            remaining: Some(4100),
            quota: Some(5000),
            reset_at: Some(1_700_000_000_000),
            requests: 900,
        }];
        let text = metrics.render(
            Some(Counts {
                queued: 3,
                running: 1,
            }),
            &budgets,
        );
        assert!(
            text.contains("\nrepin_github_requests_total{installation=\"42\"} 12\n"),
            "{text}"
        );
        assert!(
            text.contains("\nrepin_github_rate_limit_remaining{installation=\"42\"} 4100\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "\nrepin_github_rate_limit_reset_seconds{installation=\"42\"} 1700000000\n"
            ),
            "{text}"
        );
        assert!(text.contains("\nrepin_jobs_deferred_total 1\n"), "{text}");
        assert!(text.contains("\nrepin_jobs_queued 3\n"), "{text}");
        assert!(text.contains("\nrepin_jobs_running 1\n"), "{text}");
        assert!(text.contains("repin_deliveries_total{result=\"queued\"} 2\n"));
        assert!(text.contains("repin_jobs_finished_total{outcome=\"done\"} 1\n"));
        assert!(text.contains("repin_job_duration_seconds_sum 1.500\n"));
        assert!(text.contains("repin_queue_up 1\n"));
        assert!(!metrics.render(None, &[]).contains("repin_jobs_queued 0"));
    }
}
