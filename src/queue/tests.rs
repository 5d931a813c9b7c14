//! The queue on an embedded SQLite database; `tests/it/queue.rs` runs the same against a real
//! PostgreSQL and with several processes.

use super::*;

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
        queue.enqueue("a/x", "push", Some("d1"), 1).await.unwrap(),
        Enqueued::Queued
    );
    assert_eq!(
        queue.enqueue("a/x", "push", Some("d1"), 2).await.unwrap(),
        Enqueued::Duplicate
    );
    assert_eq!(
        queue.enqueue("a/x", "push", Some("d2"), 3).await.unwrap(),
        Enqueued::AlreadyQueued
    );
    assert_eq!(
        queue.enqueue("a/y", "schedule", None, 4).await.unwrap(),
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
        queue.enqueue("a/x", "push", Some("d3"), 11).await.unwrap(),
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
