//! The bot's durable job queue: SQLite embedded (one process, or a few on one machine) or
//! PostgreSQL (several `repin serve` processes on several machines sharing the work), through
//! `sqlx`.
//!
//! A job is a repository to run. Jobs are coalesced: a repository queued already is not queued
//! twice, and one asked for while it runs is queued again for when that run ends (the run may
//! have started before the change). A worker claims the oldest queued job with a lease
//! (`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL, so workers never wait on each other) and
//! keeps it with heartbeats; a job whose worker died is claimed again once its lease has run
//! out. Every change is checked against the claim, so a worker that lost its lease can neither
//! finish nor release a job another worker holds. Webhook deliveries are remembered by their
//! `X-GitHub-Delivery` id for a week: a redelivery queues nothing. Migrations run on open.
//!
//! Times are milliseconds since the epoch, passed in by the caller (tests move the clock; the
//! processes sharing a database need clocks in step within a fraction of the lease).

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use sqlx::Row;

use crate::forge::github::Usage;
use crate::vocab::BranchCommand;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

/// How long a delivery id and a finished run are kept.
const KEEP: Duration = Duration::from_secs(7 * 24 * 3600);

/// Why the queue failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The database URL names no database repin supports.
    #[error("`{0}` is not a database repin can use")]
    BadUrl(String),
    /// The database could not be opened or reached.
    #[error("Cannot open the job queue's database {url}")]
    Open {
        /// The URL, without its password.
        url: String,
        /// Why.
        source: sqlx::Error,
    },
    /// The migrations failed.
    #[error("Cannot bring the job queue's tables up to date")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("Cannot {action} in the job queue")]
    Query {
        /// What was being done.
        action: &'static str,
        /// Why.
        source: sqlx::Error,
    },
}

impl crate::error::Hint for QueueError {
    fn hints(&self) -> Vec<String> {
        match self {
            QueueError::BadUrl(_) => vec![
                "write sqlite:PATH (created on first start) or postgres://USER:PASSWORD@HOST:PORT/DATABASE"
                    .into(),
            ],
            _ => Vec::new(),
        }
    }
}

fn query_error(action: &'static str) -> impl FnOnce(sqlx::Error) -> QueueError {
    move |source| QueueError::Query { action, source }
}

/// What queuing a repository did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// Queued.
    Queued,
    /// It was queued already: nothing changed.
    AlreadyQueued,
    /// It is running: it is queued again for when that run ends.
    Again,
    /// This delivery was stored before: nothing changed.
    Duplicate,
}

/// A claimed job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// `owner/name`.
    pub repository: String,
    /// Why it was queued.
    pub reason: String,
    /// How many times it was claimed (more than 1: a worker died or gave it back).
    pub attempts: i64,
    /// The claim: every later change of the job names it.
    pub claim: String,
    /// When it was claimed.
    pub started_at: i64,
    /// The commands given on the repository's pull requests before the claim: the run acts on
    /// them, and they are forgotten when it finishes.
    pub commands: Vec<Stored>,
}

/// A command as stored: with when it was given, its identity with the branch (a later one
/// replaces it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The command.
    pub command: Command,
    /// When it was given.
    pub queued_at: i64,
}

/// An installation's GitHub API budget, as its runs last saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    /// `installation 42`, or `token`.
    pub installation: String,
    /// Requests left in the window.
    pub remaining: Option<i64>,
    /// The window's size.
    pub quota: Option<i64>,
    /// When the window resets (milliseconds since the epoch).
    pub reset_at: Option<i64>,
    /// Every request the runs made.
    pub requests: i64,
}

impl Budget {
    /// Until when no run of the installation may start, keeping `reserve` requests back (for
    /// other tools sharing it, and a run's own last requests): `None` when one may now.
    pub fn spent_until(&self, reserve: u64, now: i64) -> Option<i64> {
        let reserve = i64::try_from(reserve).unwrap_or(i64::MAX);
        match (self.remaining, self.reset_at) {
            (Some(remaining), Some(reset_at)) if remaining < reserve && reset_at > now => {
                Some(reset_at)
            }
            _ => None,
        }
    }
}

/// A command given on one of repin's pull requests, waiting for a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The pull request's branch.
    pub branch: String,
    /// What was asked.
    pub command: BranchCommand,
    /// Who asked (a login).
    pub by: String,
    /// The pull request's number.
    pub number: u64,
}

/// A finished run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// `owner/name`.
    pub repository: String,
    /// The claim it ran under.
    pub claim: String,
    /// When it started and finished.
    pub started_at: i64,
    /// When it finished.
    pub finished_at: i64,
    /// `done`, `failed`, `timed out`...
    pub outcome: String,
}

/// How many jobs wait and run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Queued, not claimed (including those whose worker's lease ran out).
    pub queued: i64,
    /// Claimed, lease holding.
    pub running: i64,
}

enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The queue.
pub struct Queue {
    db: Db,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.db {
            Db::Sqlite(_) => "Queue(sqlite)",
            Db::Postgres(_) => "Queue(postgres)",
        })
    }
}

/// The migrations, embedded in the binary.
#[derive(Debug)]
struct Embedded;

impl MigrationSource<'static> for Embedded {
    fn resolve(
        self,
    ) -> futures::future::BoxFuture<
        'static,
        Result<Vec<Migration>, Box<dyn std::error::Error + Send + Sync>>,
    > {
        Box::pin(async {
            Ok(vec![
                Migration::new(
                    1,
                    Cow::Borrowed("the job queue"),
                    MigrationType::Simple,
                    Cow::Borrowed(include_str!("schema.sql")),
                    false,
                ),
                Migration::new(
                    2,
                    Cow::Borrowed("commands on pull requests"),
                    MigrationType::Simple,
                    Cow::Borrowed(include_str!("commands.sql")),
                    false,
                ),
                Migration::new(
                    3,
                    Cow::Borrowed("GitHub API budgets"),
                    MigrationType::Simple,
                    Cow::Borrowed(include_str!("budgets.sql")),
                    false,
                ),
            ])
        })
    }
}

/// The same code against either database: `$pool` is the pool, `$sql` turns a query written
/// with PostgreSQL's `$1` placeholders into the database's own (`?1` for SQLite).
macro_rules! each_db {
    ($db:expr, |$pool:ident, $sql:ident| $body:expr) => {
        match $db {
            Db::Sqlite($pool) => {
                let $sql = |text: &str| text.replace('$', "?");
                $body
            }
            Db::Postgres($pool) => {
                let $sql = |text: &str| text.to_owned();
                $body
            }
        }
    };
}

/// A `repin_budgets` row (installation, remaining, quota, reset_at, requests), from either
/// database.
fn budget_of<R: Row>(row: &R) -> Result<Budget, QueueError>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let fail = || query_error("read a GitHub API budget");
    Ok(Budget {
        installation: row.try_get(0).map_err(fail())?,
        remaining: row.try_get(1).map_err(fail())?,
        quota: row.try_get(2).map_err(fail())?,
        reset_at: row.try_get(3).map_err(fail())?,
        requests: row.try_get(4).map_err(fail())?,
    })
}

/// The URL with its password hidden.
fn shown(url: &str) -> String {
    crate::vocab::redact::text(url)
}

impl Queue {
    /// Open the database at `url` (`sqlite:PATH`, created with its directory when missing, or
    /// `postgres://…`) and bring its tables up to date.
    pub async fn open(url: &str) -> Result<Queue, QueueError> {
        let open_error = |source| QueueError::Open {
            url: shown(url),
            source,
        };
        let db = if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.trim_start_matches("//");
            if path.is_empty() {
                return Err(QueueError::BadUrl(url.to_owned()));
            }
            if let Some(parent) = std::path::Path::new(path).parent() {
                if !parent.as_os_str().is_empty() {
                    let _ = std::fs::create_dir_all(parent);
                }
            }
            let options = SqliteConnectOptions::from_str(&format!("sqlite:{path}"))
                .map_err(open_error)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10));
            // One connection: SQLite has one writer anyway, and a second connection would
            // only meet "database is locked" inside this process.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .map_err(open_error)?;
            Db::Sqlite(pool)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await
                .map_err(open_error)?;
            Db::Postgres(pool)
        } else {
            return Err(QueueError::BadUrl(url.to_owned()));
        };
        let migrator = Migrator::new(Embedded).await?;
        match &db {
            Db::Sqlite(pool) => migrator.run(pool).await?,
            Db::Postgres(pool) => migrator.run(pool).await?,
        }
        Ok(Queue { db })
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), QueueError> {
        each_db!(&self.db, |pool, sql| {
            sqlx::query(&sql("SELECT 1"))
                .execute(pool)
                .await
                .map(drop)
                .map_err(query_error("reach the database"))
        })
    }

    /// Queue a run of `repository` for `reason`; with `delivery` (the `X-GitHub-Delivery` id),
    /// only once per delivery; with `command`, the run acts on it (with a command on the same
    /// branch not yet acted on, the stronger of the two: a recreate is never weakened to a
    /// rebase). When this returns, the job and its command are stored.
    pub async fn enqueue(
        &self,
        repository: &str,
        reason: &str,
        delivery: Option<&str>,
        command: Option<&Command>,
        now: i64,
    ) -> Result<Enqueued, QueueError> {
        each_db!(&self.db, |pool, sql| {
            let fail = query_error("queue a job");
            let mut tx = pool.begin().await.map_err(fail)?;
            if let Some(id) = delivery {
                let stored = sqlx::query(&sql(
                    "INSERT INTO repin_deliveries (id, received_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
                ))
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(query_error("store a delivery"))?
                .rows_affected();
                if stored == 0 {
                    tx.commit().await.map_err(query_error("store a delivery"))?;
                    return Ok(Enqueued::Duplicate);
                }
            }
            if let Some(command) = command {
                // The stronger of this command and one not yet carried out (`BranchCommand::and`).
                let waiting: Option<String> = sqlx::query_scalar(&sql(
                    "SELECT command FROM repin_commands WHERE repository = $1 AND branch = $2",
                ))
                .bind(repository)
                .bind(&command.branch)
                .fetch_optional(&mut *tx)
                .await
                .map_err(query_error("store a command"))?;
                let stronger = waiting
                    .and_then(|w| w.parse::<BranchCommand>().ok())
                    .map_or(command.command, |w| w.and(command.command));
                sqlx::query(&sql(
                    "INSERT INTO repin_commands (repository, branch, command, asked_by, number, queued_at) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (repository, branch) DO UPDATE SET \
                     command = excluded.command, asked_by = excluded.asked_by, number = excluded.number, queued_at = excluded.queued_at",
                ))
                .bind(repository)
                .bind(&command.branch)
                .bind(stronger.word())
                .bind(&command.by)
                .bind(i64::try_from(command.number).unwrap_or(i64::MAX))
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(query_error("store a command"))?;
            }
            let inserted = sqlx::query(&sql(
                "INSERT INTO repin_jobs (repository, state, reason, queued_at) VALUES ($1, 'queued', $2, $3) ON CONFLICT (repository) DO NOTHING",
            ))
            .bind(repository)
            .bind(reason)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(query_error("queue a job"))?
            .rows_affected();
            let outcome = if inserted == 1 {
                Enqueued::Queued
            } else {
                let again = sqlx::query(&sql(
                    "UPDATE repin_jobs SET again = 1 WHERE repository = $1 AND state = 'running' AND again = 0",
                ))
                .bind(repository)
                .execute(&mut *tx)
                .await
                .map_err(query_error("queue a job"))?
                .rows_affected();
                if again == 1 {
                    Enqueued::Again
                } else {
                    Enqueued::AlreadyQueued
                }
            };
            tx.commit().await.map_err(query_error("queue a job"))?;
            Ok(outcome)
        })
    }

    /// Claim the oldest queued job (or one whose worker's lease ran out) for `lease`, under
    /// the new claim `claim` (unique per claim).
    pub async fn claim(
        &self,
        claim: &str,
        lease: Duration,
        now: i64,
    ) -> Result<Option<Job>, QueueError> {
        let until = now + millis(lease);
        each_db!(&self.db, |pool, sql| {
            // SKIP LOCKED: a row another worker is claiming is passed over, not waited for.
            let lock = if matches!(self.db, Db::Postgres(_)) {
                " FOR UPDATE SKIP LOCKED"
            } else {
                ""
            };
            let text = sql(&format!(
                "UPDATE repin_jobs SET state = 'running', claim = $1, lease_until = $2, started_at = $3, attempts = attempts + 1, again = 0 \
                 WHERE repository = (SELECT repository FROM repin_jobs WHERE (state = 'queued' AND queued_at <= $3) OR (state = 'running' AND lease_until < $3) ORDER BY queued_at, repository LIMIT 1{lock}) \
                 RETURNING repository, reason, attempts"
            ));
            let row = sqlx::query(&text)
                .bind(claim)
                .bind(until)
                .bind(now)
                .fetch_optional(pool)
                .await
                .map_err(query_error("claim a job"))?;
            let Some(row) = row else {
                return Ok(None);
            };
            let repository: String = row.try_get(0).map_err(query_error("claim a job"))?;
            let rows = sqlx::query(&sql(
                "SELECT branch, command, asked_by, number, queued_at FROM repin_commands WHERE repository = $1 AND queued_at <= $2 ORDER BY branch",
            ))
            .bind(&repository)
            .bind(now)
            .fetch_all(pool)
            .await
            .map_err(query_error("read a job's commands"))?;
            let commands = rows
                .iter()
                .filter_map(|row| {
                    let word: String = row.try_get(1).ok()?;
                    let number: i64 = row.try_get(3).ok()?;
                    Some(Stored {
                        command: Command {
                            branch: row.try_get(0).ok()?,
                            // A word this version does not know (a newer one stored it): left
                            // for a run that knows it, not guessed.
                            command: word.parse().ok()?,
                            by: row.try_get(2).ok()?,
                            number: u64::try_from(number).ok()?,
                        },
                        queued_at: row.try_get(4).ok()?,
                    })
                })
                .collect();
            Ok(Some(Job {
                repository,
                reason: row.try_get(1).map_err(query_error("claim a job"))?,
                attempts: row.try_get(2).map_err(query_error("claim a job"))?,
                claim: claim.to_owned(),
                started_at: now,
                commands,
            }))
        })
    }

    /// Extend the lease of `job`; `false` when the job is no longer this claim's (its lease ran
    /// out and another worker took it): its run must stop.
    pub async fn heartbeat(
        &self,
        job: &Job,
        lease: Duration,
        now: i64,
    ) -> Result<bool, QueueError> {
        each_db!(&self.db, |pool, sql| {
            let updated = sqlx::query(&sql(
                "UPDATE repin_jobs SET lease_until = $1 WHERE repository = $2 AND claim = $3 AND state = 'running'",
            ))
            .bind(now + millis(lease))
            .bind(&job.repository)
            .bind(&job.claim)
            .execute(pool)
            .await
            .map_err(query_error("extend a lease"))?
            .rows_affected();
            Ok(updated == 1)
        })
    }

    /// The run of `job` ended with `outcome`: the job is done, or queued again when it was asked
    /// for during the run. Nothing changes when the claim was lost.
    pub async fn finish(&self, job: &Job, outcome: &str, now: i64) -> Result<(), QueueError> {
        each_db!(&self.db, |pool, sql| {
            let fail = query_error("finish a job");
            let mut tx = pool.begin().await.map_err(fail)?;
            let deleted = sqlx::query(&sql(
                "DELETE FROM repin_jobs WHERE repository = $1 AND claim = $2 AND state = 'running' AND again = 0",
            ))
            .bind(&job.repository)
            .bind(&job.claim)
            .execute(&mut *tx)
            .await
            .map_err(query_error("finish a job"))?
            .rows_affected();
            let mut held = deleted == 1;
            if !held {
                held = sqlx::query(&sql(
                    "UPDATE repin_jobs SET state = 'queued', claim = NULL, lease_until = NULL, again = 0, queued_at = $3 WHERE repository = $1 AND claim = $2",
                ))
                .bind(&job.repository)
                .bind(&job.claim)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(query_error("finish a job"))?
                .rows_affected()
                    == 1;
            }
            // The commands the run acted on (when the claim still held: otherwise the worker
            // that took the job over acts on them); one given again since (a later time) waits
            // for the next run.
            for command in job.commands.iter().filter(|_| held) {
                sqlx::query(&sql(
                    "DELETE FROM repin_commands WHERE repository = $1 AND branch = $2 AND queued_at = $3",
                ))
                .bind(&job.repository)
                .bind(&command.command.branch)
                .bind(command.queued_at)
                .execute(&mut *tx)
                .await
                .map_err(query_error("forget a command"))?;
            }
            sqlx::query(&sql(
                "INSERT INTO repin_runs (repository, claim, started_at, finished_at, outcome) VALUES ($1, $2, $3, $4, $5)",
            ))
            .bind(&job.repository)
            .bind(&job.claim)
            .bind(job.started_at)
            .bind(now)
            .bind(outcome)
            .execute(&mut *tx)
            .await
            .map_err(query_error("record a run"))?;
            tx.commit().await.map_err(query_error("finish a job"))?;
            Ok(())
        })
    }

    /// Give `job` back unstarted, to be claimed again at `until` (its installation's API
    /// budget is spent until then). Nothing changes when the claim was lost.
    pub async fn defer(&self, job: &Job, until: i64) -> Result<(), QueueError> {
        each_db!(&self.db, |pool, sql| {
            sqlx::query(&sql(
                "UPDATE repin_jobs SET state = 'queued', claim = NULL, lease_until = NULL, attempts = attempts - 1, queued_at = $3 WHERE repository = $1 AND claim = $2",
            ))
            .bind(&job.repository)
            .bind(&job.claim)
            .bind(until)
            .execute(pool)
            .await
            .map(drop)
            .map_err(query_error("defer a job"))
        })
    }

    /// Record what a run of `installation` asked of GitHub: its requests add up, and the
    /// budget it last saw replaces the stored one.
    pub async fn record_usage(
        &self,
        installation: &str,
        usage: &Usage,
        now: i64,
    ) -> Result<(), QueueError> {
        let requests = i64::try_from(usage.requests).unwrap_or(i64::MAX);
        let remaining = usage.remaining.and_then(|n| i64::try_from(n).ok());
        let quota = usage.limit.and_then(|n| i64::try_from(n).ok());
        let reset_at = usage.reset.map(|s| s.saturating_mul(1000));
        each_db!(&self.db, |pool, sql| {
            sqlx::query(&sql(
                "INSERT INTO repin_budgets (installation, remaining, quota, reset_at, requests, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (installation) DO UPDATE SET \
                 remaining = COALESCE(excluded.remaining, repin_budgets.remaining), \
                 quota = COALESCE(excluded.quota, repin_budgets.quota), \
                 reset_at = COALESCE(excluded.reset_at, repin_budgets.reset_at), \
                 requests = repin_budgets.requests + excluded.requests, updated_at = excluded.updated_at",
            ))
            .bind(installation)
            .bind(remaining)
            .bind(quota)
            .bind(reset_at)
            .bind(requests)
            .bind(now)
            .execute(pool)
            .await
            .map(drop)
            .map_err(query_error("record a run's GitHub usage"))
        })
    }

    /// The budget of `installation`, when its runs reported one.
    pub async fn budget(&self, installation: &str) -> Result<Option<Budget>, QueueError> {
        each_db!(&self.db, |pool, sql| {
            let row = sqlx::query(&sql(
                "SELECT installation, remaining, quota, reset_at, requests FROM repin_budgets WHERE installation = $1",
            ))
            .bind(installation)
            .fetch_optional(pool)
            .await
            .map_err(query_error("read a GitHub API budget"))?;
            row.as_ref().map(budget_of).transpose()
        })
    }

    /// Every installation's budget, by name.
    pub async fn budgets(&self) -> Result<Vec<Budget>, QueueError> {
        each_db!(&self.db, |pool, sql| {
            let rows = sqlx::query(&sql(
                "SELECT installation, remaining, quota, reset_at, requests FROM repin_budgets ORDER BY installation",
            ))
            .fetch_all(pool)
            .await
            .map_err(query_error("read the GitHub API budgets"))?;
            rows.iter().map(budget_of).collect()
        })
    }

    /// Give `job` back unfinished (the process is stopping): it is queued again at its place,
    /// for any worker to claim at once.
    pub async fn release(&self, job: &Job) -> Result<(), QueueError> {
        each_db!(&self.db, |pool, sql| {
            sqlx::query(&sql(
                "UPDATE repin_jobs SET state = 'queued', claim = NULL, lease_until = NULL WHERE repository = $1 AND claim = $2",
            ))
            .bind(&job.repository)
            .bind(&job.claim)
            .execute(pool)
            .await
            .map(drop)
            .map_err(query_error("release a job"))
        })
    }

    /// How many jobs wait and run now.
    pub async fn counts(&self, now: i64) -> Result<Counts, QueueError> {
        each_db!(&self.db, |pool, sql| {
            let row = sqlx::query(&sql(
                "SELECT COALESCE(SUM(CASE WHEN state = 'running' AND lease_until >= $1 THEN 1 ELSE 0 END), 0), COUNT(*) FROM repin_jobs",
            ))
            .bind(now)
            .fetch_one(pool)
            .await
            .map_err(query_error("count the jobs"))?;
            let running: i64 = row.try_get(0).map_err(query_error("count the jobs"))?;
            let all: i64 = row.try_get(1).map_err(query_error("count the jobs"))?;
            Ok(Counts {
                queued: all - running,
                running,
            })
        })
    }

    /// The finished runs kept, oldest first.
    pub async fn runs(&self) -> Result<Vec<Run>, QueueError> {
        each_db!(&self.db, |pool, sql| {
            let rows = sqlx::query(&sql(
                "SELECT repository, claim, started_at, finished_at, outcome FROM repin_runs ORDER BY finished_at, repository",
            ))
            .fetch_all(pool)
            .await
            .map_err(query_error("list the runs"))?;
            rows.iter()
                .map(|row| {
                    let fail = query_error("list the runs");
                    Ok(Run {
                        repository: row.try_get(0).map_err(fail)?,
                        claim: row.try_get(1).map_err(query_error("list the runs"))?,
                        started_at: row.try_get(2).map_err(query_error("list the runs"))?,
                        finished_at: row.try_get(3).map_err(query_error("list the runs"))?,
                        outcome: row.try_get(4).map_err(query_error("list the runs"))?,
                    })
                })
                .collect()
        })
    }

    /// The repositories of `repositories` whose scheduled run is due, each returned to one
    /// caller only (the processes sharing the database race for it); the next run is set at
    /// the repository's point of the next interval. A repository seen for the first time is due at its own point of the
    /// interval ([`first_run`]), so the runs spread over the interval instead of all starting
    /// at once.
    pub async fn due(
        &self,
        repositories: &[String],
        every: Duration,
        now: i64,
    ) -> Result<Vec<String>, QueueError> {
        let mut due = Vec::new();
        for repository in repositories {
            let first = first_run(repository, every, now);
            // The next point of its own after now: a run taken a little late (the schedule is
            // read every few seconds) does not move the following ones.
            let next = first_run(repository, every, now + 1);
            let taken = each_db!(&self.db, |pool, sql| {
                sqlx::query(&sql(
                    "INSERT INTO repin_schedule (repository, next_run) VALUES ($1, $2) ON CONFLICT (repository) DO NOTHING",
                ))
                .bind(repository)
                .bind(first)
                .execute(pool)
                .await
                .map_err(query_error("schedule a run"))?;
                sqlx::query(&sql(
                    "UPDATE repin_schedule SET next_run = $2 WHERE repository = $1 AND next_run <= $3",
                ))
                .bind(repository)
                .bind(next)
                .bind(now)
                .execute(pool)
                .await
                .map_err(query_error("schedule a run"))?
                .rows_affected()
            });
            if taken == 1 {
                due.push(repository.clone());
            }
        }
        Ok(due)
    }

    /// Forget deliveries and runs older than a week.
    pub async fn prune(&self, now: i64) -> Result<(), QueueError> {
        let before = now - millis(KEEP);
        each_db!(&self.db, |pool, sql| {
            sqlx::query(&sql("DELETE FROM repin_deliveries WHERE received_at < $1"))
                .bind(before)
                .execute(pool)
                .await
                .map_err(query_error("forget old deliveries"))?;
            sqlx::query(&sql("DELETE FROM repin_runs WHERE finished_at < $1"))
                .bind(before)
                .execute(pool)
                .await
                .map_err(query_error("forget old runs"))?;
            Ok(())
        })
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX / 4)
}

/// Where in each interval of `every` the scheduled runs of `repository` fall: a stable hash of
/// its name (FNV-1a, case-insensitive, as GitHub's names are) over the interval, to the
/// millisecond. Every process and every restart computes the same point, and the runs of many
/// repositories spread over the interval instead of all starting at once.
pub fn offset(repository: &str, every: Duration) -> Duration {
    let hash = repository
        .to_lowercase()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    let interval = u64::try_from(every.as_millis()).unwrap_or(u64::MAX).max(1);
    Duration::from_millis(hash % interval)
}

/// When the first scheduled run of `repository`, seen at `now` (milliseconds since the epoch),
/// is due: the next time at its [`offset`] into an interval of `every` counted from the epoch.
/// Counted from the epoch, not from `now`, the point is the same whenever the repository is
/// first seen (a new installation's, a fresh database): a daily run keeps its time of day.
pub fn first_run(repository: &str, every: Duration, now: i64) -> i64 {
    let interval = millis(every).max(1);
    let start = now - now.rem_euclid(interval);
    let at = start + millis(offset(repository, every));
    if at < now { at + interval } else { at }
}

/// Now, in milliseconds since the epoch.
pub fn now() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

#[cfg(test)]
mod tests;
