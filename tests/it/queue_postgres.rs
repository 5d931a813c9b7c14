//! The bot's job queue on a real PostgreSQL (started by `support::postgres`): migrations on
//! open, delivery de-duplication, coalescing, and workers racing for jobs with
//! `FOR UPDATE SKIP LOCKED`: every job claimed once, a dead worker's job taken after its lease.

use crate::support;

use std::collections::BTreeSet;
use std::time::Duration;

use repin::queue::{Enqueued, Queue};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn racing_workers_claim_every_job_once() {
    let postgres = support::postgres::Postgres::start();
    runtime().block_on(async {
        // Two processes' worth of pools, both migrating at once.
        let (a, b) = tokio::join!(Queue::open(&postgres.url), Queue::open(&postgres.url));
        let (a, b) = (
            std::sync::Arc::new(a.unwrap()),
            std::sync::Arc::new(b.unwrap()),
        );
        let lease = Duration::from_secs(30);
        for i in 0..40 {
            let repository = format!("acme/r{i:02}");
            let delivery = format!("delivery-{i}");
            assert_eq!(
                a.enqueue(&repository, "push", Some(&delivery), i)
                    .await
                    .unwrap(),
                Enqueued::Queued
            );
            // GitHub's redelivery of the same id, to the other process.
            assert_eq!(
                b.enqueue(&repository, "push", Some(&delivery), i)
                    .await
                    .unwrap(),
                Enqueued::Duplicate
            );
        }
        assert_eq!(
            b.enqueue("acme/r00", "push", None, 50).await.unwrap(),
            Enqueued::AlreadyQueued
        );
        // Eight workers over two pools claim at once.
        let mut tasks = Vec::new();
        for w in 0..8 {
            let queue = if w % 2 == 0 { a.clone() } else { b.clone() };
            tasks.push(tokio::spawn(async move {
                let mut got = Vec::new();
                let mut n = 0;
                while let Some(job) = queue
                    .claim(&format!("w{w}:{n}"), lease, 1_000)
                    .await
                    .unwrap()
                {
                    n += 1;
                    got.push(job);
                }
                got
            }));
        }
        let mut claimed = Vec::new();
        for task in tasks {
            claimed.extend(task.await.unwrap());
        }
        let repositories: BTreeSet<&str> = claimed.iter().map(|j| j.repository.as_str()).collect();
        assert_eq!(claimed.len(), 40, "every job claimed once");
        assert_eq!(repositories.len(), 40);
        let counts = a.counts(2_000).await.unwrap();
        assert_eq!((counts.queued, counts.running), (0, 40));
        // Half the workers finish; the others die: their jobs are taken after the lease.
        for job in claimed.iter().take(20) {
            a.finish(job, "done", 3_000).await.unwrap();
        }
        assert!(b.claim("late:0", lease, 30_999).await.unwrap().is_none());
        let mut retaken = 0;
        while let Some(job) = b
            .claim(&format!("late:{retaken}"), lease, 31_001)
            .await
            .unwrap()
        {
            assert_eq!(job.attempts, 2);
            assert!(
                !a.heartbeat(
                    &claimed
                        .iter()
                        .find(|j| j.repository == job.repository)
                        .unwrap()
                        .clone(),
                    lease,
                    31_002
                )
                .await
                .unwrap()
            );
            b.finish(&job, "done", 32_000).await.unwrap();
            retaken += 1;
        }
        assert_eq!(retaken, 20);
        let counts = a.counts(40_000).await.unwrap();
        assert_eq!((counts.queued, counts.running), (0, 0));
        assert_eq!(a.runs().await.unwrap().len(), 40);
    });
}
