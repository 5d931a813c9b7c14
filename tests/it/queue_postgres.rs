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
                a.enqueue(&repository, "push", Some(&delivery), None, i)
                    .await
                    .unwrap(),
                Enqueued::Queued
            );
            // GitHub's redelivery of the same id, to the other process.
            assert_eq!(
                b.enqueue(&repository, "push", Some(&delivery), None, i)
                    .await
                    .unwrap(),
                Enqueued::Duplicate
            );
        }
        assert_eq!(
            b.enqueue("acme/r00", "push", None, None, 50).await.unwrap(),
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

/// Commands on pull requests are stored with the job on PostgreSQL as on SQLite: a recreate is
/// not weakened by a later rebase, and the claim carries them.
#[test]
fn commands_are_stored_with_their_job() {
    use repin::queue::Command;
    use repin::vocab::BranchCommand;
    let postgres = support::postgres::Postgres::start();
    runtime().block_on(async {
        let queue = Queue::open(&postgres.url).await.unwrap();
        let asked = |branch: &str, command| Command {
            branch: branch.into(),
            command,
            by: "ann".into(),
            number: 9,
        };
        for (at, command) in [
            (1, asked("repin/a", BranchCommand::Recreate)),
            (2, asked("repin/a", BranchCommand::Rebase)),
            (3, asked("repin/b", BranchCommand::Rebase)),
        ] {
            queue
                .enqueue("acme/r", "comment", None, Some(&command), at)
                .await
                .unwrap();
        }
        let job = queue
            .claim("w:1", Duration::from_secs(30), 10)
            .await
            .unwrap()
            .unwrap();
        let got: Vec<(String, BranchCommand, i64)> = job
            .commands
            .iter()
            .map(|s| (s.command.branch.clone(), s.command.command, s.queued_at))
            .collect();
        assert_eq!(
            got,
            [
                ("repin/a".to_owned(), BranchCommand::Recreate, 2),
                ("repin/b".to_owned(), BranchCommand::Rebase, 3)
            ]
        );
        queue.finish(&job, "done", 20).await.unwrap();
        queue
            .enqueue("acme/r", "push", None, None, 30)
            .await
            .unwrap();
        let next = queue
            .claim("w:2", Duration::from_secs(30), 31)
            .await
            .unwrap()
            .unwrap();
        assert!(next.commands.is_empty(), "{:?}", next.commands);
    });
}
