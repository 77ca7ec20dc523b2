-- Dry-run plans (`roster sync NAME --dry-run`), kept for review and for `--apply-plan ID`. `body` is the
-- `roster_engine::dry_run::Plan` as JSON (its operations can number as many as the directory's objects).
CREATE TABLE engine_plans (
    application TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    created     INTEGER NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (application, id)
) STRICT, WITHOUT ROWID;
