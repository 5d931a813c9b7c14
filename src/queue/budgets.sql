-- Each GitHub installation's API budget as its runs last saw it (`x-ratelimit-*`), shared by
-- every process: a worker does not start a run of an installation whose budget is spent.
CREATE TABLE repin_budgets (
    -- 'installation 42', or 'token' for the one token of `repin serve` without an App
    installation TEXT PRIMARY KEY,
    -- requests left in the window, the window's size, and when it resets (milliseconds)
    remaining BIGINT,
    quota BIGINT,
    reset_at BIGINT,
    -- every request the runs made, since the table was made
    requests BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);
