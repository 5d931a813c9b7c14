-- Commands given in comments on repin's pull requests (`@repin rebase`, `@repin recreate`,
-- `@repin ignore this major version`...), one per branch, kept until a run that started after
-- them has acted on them.
CREATE TABLE repin_commands (
    repository TEXT NOT NULL,
    branch TEXT NOT NULL,
    -- 'rebase', 'recreate', 'ignore-minor', 'ignore-major' or 'ignore-dependency': the stronger
    -- of the commands given since the last run
    command TEXT NOT NULL,
    -- who asked (a login) and on which pull request, for the log
    asked_by TEXT NOT NULL,
    number BIGINT NOT NULL,
    queued_at BIGINT NOT NULL,
    PRIMARY KEY (repository, branch)
);
