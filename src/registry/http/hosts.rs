//! What a run knows about each host it talks to: its concurrency slots, its time budget, its
//! timeouts, and whether it is marked down.
//!
//! A host is marked down for the rest of the run when its name does not resolve, when no
//! connection could be made after the retries, when it timed out [`Limits::down_after`] times,
//! or when it used up its time budget ([`Limits::host_deadline`], counted from the first
//! request to it). Every later request to it fails at once with
//! [`HttpError::HostDown`](super::HttpError::HostDown), so one unreachable or slow host costs a
//! run a few seconds and one message, not one wait per package. Clients that outlive a run (the
//! webhook server's) never mark hosts down and have no deadlines.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

/// The limits of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Concurrent requests per host.
    pub per_host: usize,
    /// The longest a run may spend on one host, from its first request; `None`: no limit.
    pub host_deadline: Option<Duration>,
    /// The longest a run may spend on the network in all; `None`: no limit.
    pub run_deadline: Option<Duration>,
    /// Timeouts after which a host is marked down; `None`: hosts are never marked down.
    pub down_after: Option<u32>,
}

/// Why a host is marked down.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DownReason {
    /// Its name does not resolve.
    #[error("its name does not resolve: {0}")]
    Unresolvable(String),
    /// No connection could be made.
    #[error("no connection could be made: {0}")]
    Unreachable(String),
    /// It timed out too often.
    #[error("it timed out {0} times")]
    TimedOut(u32),
    /// It used up its share of the run's time.
    #[error("it used up its time budget of {} for this run", human(*.0))]
    OutOfTime(Duration),
}

impl DownReason {
    /// Whether the host could not be reached at all (as opposed to being slow).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            DownReason::Unresolvable(_) | DownReason::Unreachable(_)
        )
    }
}

/// A duration as people read it: `600 ms`, `1 second`, `90 seconds`.
pub fn human(duration: Duration) -> String {
    match duration.as_millis() {
        ms if ms < 1000 || ms % 1000 != 0 => format!("{ms} ms"),
        1000 => "1 second".into(),
        ms => format!("{} seconds", ms / 1000),
    }
}

/// One host's state.
#[derive(Debug)]
pub struct Host {
    /// `host:port`.
    pub authority: String,
    slots: Arc<Semaphore>,
    first_used: OnceLock<Instant>,
    timeouts: AtomicU32,
    down: Mutex<Option<DownReason>>,
}

impl Host {
    /// The concurrency slots.
    pub fn slots(&self) -> Arc<Semaphore> {
        self.slots.clone()
    }

    /// Why it is down, if it is.
    pub fn down(&self) -> Option<DownReason> {
        self.down
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// When its time budget ends, starting the clock on the first call.
    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        let first = *self.first_used.get_or_init(Instant::now);
        limits.host_deadline.map(|d| first + d)
    }
}

/// Every host of a run.
#[derive(Debug)]
pub struct Hosts {
    limits: Limits,
    started: Instant,
    table: Mutex<HashMap<String, Arc<Host>>>,
    /// Hosts in the order they were marked down, with why (for one message per host).
    order: Mutex<Vec<(String, DownReason)>>,
}

/// Which budget a deadline belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// The request's own timeout.
    Request,
    /// The host's share of the run.
    Host,
    /// The whole run.
    Run,
}

impl Hosts {
    /// No hosts yet; the run's clock starts now.
    pub fn new(limits: Limits) -> Self {
        Hosts {
            limits,
            started: Instant::now(),
            table: Mutex::default(),
            order: Mutex::default(),
        }
    }

    /// The limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The state of `authority` (`host:port`).
    pub fn get(&self, authority: &str) -> Arc<Host> {
        let mut table = self
            .table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        table
            .entry(authority.to_owned())
            .or_insert_with(|| {
                Arc::new(Host {
                    authority: authority.to_owned(),
                    slots: Arc::new(Semaphore::new(self.limits.per_host.max(1))),
                    first_used: OnceLock::new(),
                    timeouts: AtomicU32::new(0),
                    down: Mutex::new(None),
                })
            })
            .clone()
    }

    /// When the run's time is up.
    pub fn run_deadline(&self) -> Option<Instant> {
        self.limits.run_deadline.map(|d| self.started + d)
    }

    /// The earliest of a request's own deadline (`timeout` from now), the host's and the run's,
    /// and which budget it belongs to.
    pub fn deadline(&self, host: &Host, timeout: Duration) -> (Instant, Budget) {
        let mut best = (Instant::now() + timeout, Budget::Request);
        if let Some(at) = host.deadline(&self.limits) {
            if at < best.0 {
                best = (at, Budget::Host);
            }
        }
        if let Some(at) = self.run_deadline() {
            if at < best.0 {
                best = (at, Budget::Run);
            }
        }
        best
    }

    /// Mark `host` down (when this client marks hosts down at all); the first reason stays.
    pub fn mark_down(&self, host: &Host, reason: DownReason) {
        if self.limits.down_after.is_none() {
            return;
        }
        let mut down = host
            .down
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if down.is_none() {
            tracing::debug!("{} is marked down: {reason}", host.authority);
            *down = Some(reason.clone());
            self.order
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push((host.authority.clone(), reason));
        }
    }

    /// Count a timeout of `host`; marks it down at the limit.
    pub fn timed_out(&self, host: &Host) {
        let count = host.timeouts.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(limit) = self.limits.down_after {
            if count >= limit {
                self.mark_down(host, DownReason::TimedOut(count));
            }
        }
    }

    /// Every host marked down so far, in order, with why.
    pub fn down(&self) -> Vec<(String, DownReason)> {
        self.order
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(down_after: Option<u32>) -> Limits {
        Limits {
            per_host: 2,
            host_deadline: Some(Duration::from_secs(60)),
            run_deadline: Some(Duration::from_secs(30)),
            down_after,
        }
    }

    #[test]
    fn a_host_is_down_after_its_second_timeout_and_keeps_its_first_reason() {
        let hosts = Hosts::new(limits(Some(2)));
        let host = hosts.get("slow.example:443");
        hosts.timed_out(&host);
        assert_eq!(host.down(), None);
        hosts.timed_out(&host);
        assert_eq!(host.down(), Some(DownReason::TimedOut(2)));
        hosts.mark_down(&host, DownReason::Unreachable("refused".into()));
        assert_eq!(host.down(), Some(DownReason::TimedOut(2)));
        assert_eq!(hosts.down().len(), 1);
        assert!(Arc::ptr_eq(&host, &hosts.get("slow.example:443")));
        assert_eq!(hosts.get("other.example:443").down(), None);
    }

    #[test]
    fn long_lived_clients_never_mark_hosts_down() {
        let hosts = Hosts::new(limits(None));
        let host = hosts.get("api.example:443");
        for _ in 0..5 {
            hosts.timed_out(&host);
        }
        hosts.mark_down(&host, DownReason::Unresolvable("no".into()));
        assert_eq!(host.down(), None);
        assert!(hosts.down().is_empty());
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(human(Duration::from_millis(600)), "600 ms");
        assert_eq!(human(Duration::from_secs(1)), "1 second");
        assert_eq!(human(Duration::from_secs(60)), "60 seconds");
        assert_eq!(human(Duration::from_millis(1500)), "1500 ms");
    }

    #[test]
    fn the_nearest_deadline_wins() {
        let hosts = Hosts::new(limits(Some(2)));
        let host = hosts.get("a:1");
        assert_eq!(
            hosts.deadline(&host, Duration::from_secs(5)).1,
            Budget::Request
        );
        assert_eq!(
            hosts.deadline(&host, Duration::from_secs(45)).1,
            Budget::Run
        );
        let unlimited = Hosts::new(Limits {
            per_host: 1,
            host_deadline: Some(Duration::from_secs(10)),
            run_deadline: None,
            down_after: None,
        });
        let host = unlimited.get("a:1");
        assert_eq!(
            unlimited.deadline(&host, Duration::from_secs(45)).1,
            Budget::Host
        );
    }
}
