//! The run-wide memory budget for response bodies.
//!
//! The per-response limit ([`HttpConfig::max_body`](super::HttpConfig::max_body)) alone lets
//! sixteen concurrent hostile pages hold sixteen times that limit. Every body being read or
//! held is therefore charged to one shared budget, in units of [`UNIT`] bytes, and released
//! when its [`Response`](super::Response) is dropped. A body that does not fit in what is left
//! waits for the one *overdraft*: a single download at a time may go beyond the shared budget
//! (up to the per-response limit), so a large legitimate page always gets through, while the
//! memory of all bodies stays below the budget plus one response. Nobody waits while holding
//! the overdraft, so the scheme cannot deadlock; a wait that outlasts the request's deadline
//! fails the request with [`Exhausted`].

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

/// The unit bodies are charged in.
pub const UNIT: usize = 64 * 1024;

/// The budget of a client.
#[derive(Debug, Clone)]
pub struct BodyBudget {
    shared: Arc<Semaphore>,
    overdraft: Arc<Semaphore>,
    bytes: usize,
}

/// The budget stayed in use by other bodies until the request's deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted;

impl BodyBudget {
    /// A budget of `bytes` (rounded up to whole units, at least one).
    pub fn new(bytes: usize) -> Self {
        let units = bytes.div_ceil(UNIT).clamp(1, u32::MAX as usize);
        BodyBudget {
            shared: Arc::new(Semaphore::new(units)),
            overdraft: Arc::new(Semaphore::new(1)),
            bytes: units * UNIT,
        }
    }

    /// The budget in bytes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// A charge for one body, empty until it grows.
    pub fn charge(&self) -> Charge {
        Charge {
            budget: self.clone(),
            shared: None,
            overdraft: None,
            covered: 0,
        }
    }

    /// Bytes of the shared budget in use now (for tests and debug logs).
    pub fn in_use(&self) -> usize {
        (self.bytes / UNIT - self.shared.available_permits()) * UNIT
    }
}

/// What one body holds of the budget; released when dropped.
#[derive(Debug)]
pub struct Charge {
    budget: BodyBudget,
    shared: Option<OwnedSemaphorePermit>,
    overdraft: Option<OwnedSemaphorePermit>,
    covered: usize,
}

impl Charge {
    /// Cover a body that has grown to `len` bytes: take more of the shared budget, or wait (at
    /// most until `deadline`) for the overdraft.
    pub async fn grow(&mut self, len: usize, deadline: Instant) -> Result<(), Exhausted> {
        if self.overdraft.is_some() || len <= self.covered {
            return Ok(());
        }
        let units = (len - self.covered).div_ceil(UNIT);
        let units = u32::try_from(units).map_err(|_| Exhausted)?;
        match self.budget.shared.clone().try_acquire_many_owned(units) {
            Ok(permit) => {
                match &mut self.shared {
                    Some(held) => held.merge(permit),
                    None => self.shared = Some(permit),
                }
                self.covered += units as usize * UNIT;
                Ok(())
            }
            Err(TryAcquireError::NoPermits) => {
                let wait = self.budget.overdraft.clone().acquire_owned();
                match tokio::time::timeout_at(deadline.into(), wait).await {
                    Ok(Ok(permit)) => {
                        self.overdraft = Some(permit);
                        Ok(())
                    }
                    _ => Err(Exhausted),
                }
            }
            Err(TryAcquireError::Closed) => Err(Exhausted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn soon() -> Instant {
        Instant::now() + Duration::from_millis(50)
    }

    #[tokio::test]
    async fn bodies_share_the_budget_and_one_may_overdraw() {
        let budget = BodyBudget::new(4 * UNIT);
        let mut a = budget.charge();
        a.grow(3 * UNIT, soon()).await.unwrap();
        assert_eq!(budget.in_use(), 3 * UNIT);
        let mut b = budget.charge();
        b.grow(UNIT / 2, soon()).await.unwrap();
        assert_eq!(budget.in_use(), 4 * UNIT);
        // Nothing left: `b` takes the overdraft and may then grow freely.
        b.grow(40 * UNIT, soon()).await.unwrap();
        // A third body finds neither budget nor overdraft and gives up at its deadline.
        let mut c = budget.charge();
        assert_eq!(c.grow(1, soon()).await, Err(Exhausted));
        drop(b);
        c.grow(1, soon()).await.unwrap();
        drop(a);
        drop(c);
        assert_eq!(budget.in_use(), 0);
    }
}
