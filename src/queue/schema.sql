-- repin serve's job queue. One schema for SQLite and PostgreSQL: BIGINT everywhere (SQLite
-- stores it as INTEGER), times in milliseconds since the epoch.

-- One row per repository that is queued or running: a repository is never queued twice.
CREATE TABLE repin_jobs (
    repository TEXT PRIMARY KEY,
    -- 'queued' or 'running'
    state TEXT NOT NULL,
    -- why it was queued first, for the log
    reason TEXT NOT NULL,
    queued_at BIGINT NOT NULL,
    -- 1: asked for again while running (the run may have started before the change)
    again BIGINT NOT NULL DEFAULT 0,
    attempts BIGINT NOT NULL DEFAULT 0,
    -- the claim of the worker running it, and until when its lease holds
    claim TEXT,
    lease_until BIGINT,
    started_at BIGINT
);
CREATE INDEX repin_jobs_order ON repin_jobs (state, queued_at);

-- Webhook deliveries already stored (X-GitHub-Delivery), so a redelivery queues nothing.
CREATE TABLE repin_deliveries (
    id TEXT PRIMARY KEY,
    received_at BIGINT NOT NULL
);
CREATE INDEX repin_deliveries_age ON repin_deliveries (received_at);

-- Finished runs, kept a week: what ran where and when.
CREATE TABLE repin_runs (
    repository TEXT NOT NULL,
    claim TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    outcome TEXT NOT NULL
);
CREATE INDEX repin_runs_age ON repin_runs (finished_at);

-- When each repository's next scheduled run is due (`--every`), shared by every process.
CREATE TABLE repin_schedule (
    repository TEXT PRIMARY KEY,
    next_run BIGINT NOT NULL
);
