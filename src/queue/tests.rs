//! The queue on an embedded SQLite database; `tests/it/queue.rs` runs the same against a real
//! PostgreSQL and with several processes.

use super::*;
use crate::forge::github::Usage;

#[tokio::test]
async fn jobs_are_coalesced_claimed_leased_and_finished() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("q").join("queue.db").display());
    let queue = Queue::open(&url).await.unwrap();
    // Reopening runs no migration twice.
    let queue2 = Queue::open(&url).await.unwrap();
    drop(queue2);
    let lease = Duration::from_secs(10);
    assert_eq!(
        queue
            .enqueue("a/x", "push", Some("d1"), None, 1)
            .await
            .unwrap(),
        Enqueued::Queued
    );
    assert_eq!(
        queue
            .enqueue("a/x", "push", Some("d1"), None, 2)
            .await
            .unwrap(),
        Enqueued::Duplicate
    );
    assert_eq!(
        queue
            .enqueue("a/x", "push", Some("d2"), None, 3)
            .await
            .unwrap(),
        Enqueued::AlreadyQueued
    );
    assert_eq!(
        queue
            .enqueue("a/y", "schedule", None, None, 4)
            .await
            .unwrap(),
        Enqueued::Queued
    );
    assert_eq!(
        queue.counts(5).await.unwrap(),
        Counts {
            queued: 2,
            running: 0
        }
    );
    let job = queue.claim("w1:1", lease, 10).await.unwrap().unwrap();
    assert_eq!((job.repository.as_str(), job.attempts), ("a/x", 1));
    // Asked for during its run: queued again when it ends.
    assert_eq!(
        queue
            .enqueue("a/x", "push", Some("d3"), None, 11)
            .await
            .unwrap(),
        Enqueued::Again
    );
    let other = queue.claim("w2:1", lease, 12).await.unwrap().unwrap();
    assert_eq!(other.repository, "a/y");
    assert!(queue.claim("w3:1", lease, 13).await.unwrap().is_none());
    assert!(queue.heartbeat(&job, lease, 5_000).await.unwrap());
    queue.finish(&job, "done", 6_000).await.unwrap();
    // a/x again (asked during the run); a/y's worker died: taken after its lease.
    let again = queue.claim("w1:2", lease, 6_001).await.unwrap().unwrap();
    assert_eq!(again.repository, "a/x");
    assert!(queue.claim("w3:2", lease, 9_000).await.unwrap().is_none());
    let taken = queue.claim("w3:3", lease, 10_013).await.unwrap().unwrap();
    assert_eq!((taken.repository.as_str(), taken.attempts), ("a/y", 2));
    // The dead worker's claim is worth nothing now.
    assert!(!queue.heartbeat(&other, lease, 10_014).await.unwrap());
    queue.finish(&other, "done", 10_015).await.unwrap();
    assert_eq!(
        queue.counts(10_016).await.unwrap(),
        Counts {
            queued: 0,
            running: 2
        }
    );
    queue.release(&again).await.unwrap();
    assert_eq!(
        queue.counts(10_017).await.unwrap(),
        Counts {
            queued: 1,
            running: 1
        }
    );
    queue.finish(&taken, "done", 10_018).await.unwrap();
    let runs = queue.runs().await.unwrap();
    assert_eq!(
        runs.iter().map(|r| r.claim.as_str()).collect::<Vec<_>>(),
        ["w1:1", "w2:1", "w3:3"]
    );
    // A week later the deliveries are forgotten.
    queue.prune(10 * 24 * 3600 * 1000).await.unwrap();
    assert!(queue.runs().await.unwrap().is_empty());
}

#[tokio::test]
async fn schedules_are_spread_and_taken_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("queue.db").display());
    let queue = Queue::open(&url).await.unwrap();
    let every = Duration::from_secs(3600);
    let repositories: Vec<String> = (0..20).map(|i| format!("acme/r{i}")).collect();
    // First sight: each is due at its own point of the hour, not all now.
    let now = 1_000_000_000;
    let first = queue.due(&repositories, every, now).await.unwrap();
    assert!(first.len() < 5, "{first:?}");
    let mut seen = first.len();
    let mut at = now;
    while at < now + 3_600_000 {
        at += 60_000;
        seen += queue.due(&repositories, every, at).await.unwrap().len();
    }
    assert_eq!(seen, 20, "each once in the first hour");
    assert!(
        queue
            .due(&repositories, every, at)
            .await
            .unwrap()
            .is_empty()
    );
}

#[test]
fn schedule_offsets_are_stable_within_the_interval_and_spread() {
    let hour = Duration::from_secs(3600);
    // Deterministic: the same name, the same point, whatever the process; GitHub's names are
    // case-insensitive, and so is the point.
    assert_eq!(offset("acme/service", hour), offset("acme/service", hour));
    assert_eq!(offset("acme/service", hour), offset("Acme/Service", hour));
    assert_ne!(offset("acme/service", hour), offset("acme/worker", hour));
    // Within the interval, for any interval.
    for every in [60, 3600, 6 * 3600, 7 * 24 * 3600] {
        let every = Duration::from_secs(every);
        for i in 0..500 {
            assert!(offset(&format!("org{}/repo-{i}", i % 7), every) < every);
        }
    }
    // Spread: 1,000 repositories named alike over an hour fall about evenly into ten
    // six-minute slots (a uniform spread puts 100 in each), not at the start.
    let mut slots = [0u32; 10];
    for i in 0..1000 {
        let at = offset(&format!("acme/service-{i}"), hour);
        slots[(at.as_secs() / 360) as usize] += 1;
    }
    assert!(slots.iter().all(|n| (60..=140).contains(n)), "{slots:?}");
    // Names differing in one last character land far apart too.
    let near: Vec<Duration> = (0..10)
        .map(|i| offset(&format!("acme/r{i}"), hour))
        .collect();
    let first_slot = near.iter().filter(|at| at.as_secs() < 360).count();
    assert!(first_slot <= 4, "{near:?}");
}

#[test]
fn a_first_run_falls_at_its_own_point_of_the_interval_whenever_first_seen() {
    let hour = Duration::from_secs(3600);
    let hour_ms = 3_600_000;
    let point = i64::try_from(offset("acme/service", hour).as_millis()).unwrap();
    for now in [
        0,
        1,
        1_000_000_000,
        1_000_000_000 + point,
        1_700_000_123_456,
    ] {
        let first = first_run("acme/service", hour, now);
        // Not before now, within one interval, at the repository's own point of it.
        assert!(first >= now && first < now + hour_ms, "{now}: {first}");
        assert_eq!(first.rem_euclid(hour_ms), point, "{now}");
    }
}

#[tokio::test]
async fn bad_urls_say_what_to_write() {
    let error = crate::error::chain(&Queue::open("mysql://x").await.unwrap_err());
    assert!(error.contains("hint: write sqlite:PATH"), "{error}");
    let error = Queue::open("postgres://repin:s3cret@127.0.0.1:1/db")
        .await
        .unwrap_err()
        .to_string();
    assert!(!error.contains("s3cret"), "{error}");
}

/// Commands given on pull requests ride with the repository's job: a claim carries those given
/// before it, a recreate is never weakened by a later rebase, one given during the run waits
/// for the next, and finishing forgets only those the run acted on.
#[tokio::test]
async fn commands_ride_with_the_job_until_a_run_acts_on_them() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("queue.db").display());
    let queue = Queue::open(&url).await.unwrap();
    let lease = Duration::from_secs(10);
    let asked = |branch: &str, command, by: &str| Command {
        branch: branch.into(),
        command,
        by: by.into(),
        number: 4,
    };
    let recreate = asked("repin/a", BranchCommand::Recreate, "ann");
    let rebase = asked("repin/a", BranchCommand::Rebase, "bob");
    let other = asked("repin/b", BranchCommand::Rebase, "cy");
    queue
        .enqueue("o/r", "c1", Some("d1"), Some(&recreate), 1)
        .await
        .unwrap();
    // A redelivery stores nothing, not even its command.
    queue
        .enqueue("o/r", "c1", Some("d1"), Some(&other), 2)
        .await
        .unwrap();
    assert_eq!(
        queue
            .enqueue("o/r", "c2", Some("d2"), Some(&rebase), 3)
            .await
            .unwrap(),
        Enqueued::AlreadyQueued
    );
    let job = queue.claim("w:1", lease, 10).await.unwrap().unwrap();
    assert_eq!(
        job.commands,
        [Stored {
            command: Command {
                command: BranchCommand::Recreate,
                by: "bob".into(),
                ..recreate.clone()
            },
            queued_at: 3,
        }]
    );
    // During the run: queued again, and this command is for the next run.
    assert_eq!(
        queue
            .enqueue("o/r", "c3", Some("d3"), Some(&other), 11)
            .await
            .unwrap(),
        Enqueued::Again
    );
    queue.finish(&job, "done", 20).await.unwrap();
    let next = queue.claim("w:2", lease, 21).await.unwrap().unwrap();
    assert_eq!(
        next.commands,
        [Stored {
            command: other.clone(),
            queued_at: 11
        }]
    );
    // Given back at shutdown: the command stays with the job.
    queue.release(&next).await.unwrap();
    let taken = queue.claim("w:3", lease, 22).await.unwrap().unwrap();
    assert_eq!(taken.commands, next.commands);
    queue.finish(&taken, "done", 30).await.unwrap();
    queue
        .enqueue("o/r", "schedule", None, None, 40)
        .await
        .unwrap();
    let plain = queue.claim("w:4", lease, 41).await.unwrap().unwrap();
    assert!(plain.commands.is_empty(), "{:?}", plain.commands);
    // A claim that was lost forgets nothing: the worker that took over acts on them.
    queue
        .enqueue("o/r", "c4", None, Some(&rebase), 42)
        .await
        .unwrap();
    queue.finish(&plain, "done", 43).await.unwrap();
    let first = queue.claim("w:5", lease, 44).await.unwrap().unwrap();
    let second = queue
        .claim("w:6", lease, 44 + 10_001)
        .await
        .unwrap()
        .unwrap();
    queue
        .finish(&first, "lease lost", 44 + 10_002)
        .await
        .unwrap();
    assert_eq!(second.commands.len(), 1);
    queue.finish(&second, "done", 44 + 10_003).await.unwrap();
    queue
        .enqueue("o/r", "schedule", None, None, 50_000)
        .await
        .unwrap();
    let last = queue.claim("w:7", lease, 50_001).await.unwrap().unwrap();
    assert!(last.commands.is_empty(), "{:?}", last.commands);
}

/// An installation's budget adds up the runs' requests and keeps the last rate limit seen; a
/// deferred job is not claimed before its time, and then is, without counting an attempt.
#[tokio::test]
async fn budgets_add_up_and_deferred_jobs_wait_their_time() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("queue.db").display());
    let queue = Queue::open(&url).await.unwrap();
    let usage = |requests, remaining| Usage {
        requests,
        remaining,
        limit: Some(5000),
        reset: Some(2_000),
    };
    queue
        .record_usage("installation 42", &usage(7, Some(120)), 1)
        .await
        .unwrap();
    // A run that saw no rate-limit header keeps the budget known, and its requests count.
    queue
        .record_usage("installation 42", &usage(3, None), 2)
        .await
        .unwrap();
    let budgets = queue.budgets().await.unwrap();
    assert_eq!(
        budgets,
        [Budget {
            installation: "installation 42".into(),
            remaining: Some(120),
            quota: Some(5000),
            reset_at: Some(2_000_000),
            requests: 10,
        }]
    );
    assert_eq!(
        queue.budget("installation 42").await.unwrap().as_ref(),
        budgets.first()
    );
    assert_eq!(queue.budget("token").await.unwrap(), None);
    assert_eq!(budgets[0].spent_until(200, 1_000), Some(2_000_000));
    assert_eq!(budgets[0].spent_until(100, 1_000), None);
    assert_eq!(
        budgets[0].spent_until(200, 2_000_001),
        None,
        "the window reset"
    );

    let lease = Duration::from_secs(10);
    queue.enqueue("o/r", "push", None, None, 10).await.unwrap();
    let job = queue.claim("w:1", lease, 11).await.unwrap().unwrap();
    queue.defer(&job, 2_000_000).await.unwrap();
    assert!(
        queue
            .claim("w:2", lease, 1_999_999)
            .await
            .unwrap()
            .is_none()
    );
    let again = queue.claim("w:3", lease, 2_000_000).await.unwrap().unwrap();
    assert_eq!((again.repository.as_str(), again.attempts), ("o/r", 1));
}
