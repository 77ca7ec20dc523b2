-- The provisioning engine's state (the `roster_engine::state::EngineStore` port) on PostgreSQL: the same tables as
-- SQLite's `0004_engine.sql` and `0005_plans.sql`, in PostgreSQL's types. Per application: the job's state and
-- lease, the shadows (what roster exported to each target object), the exported group memberships, the cycles,
-- the provisioning logs and the dry-run plans.
--
-- Conventions (every PostgreSQL migration follows them):
-- - applications are referenced by name, without a foreign key, as on SQLite;
-- - object kinds, states, origins, actions and statuses are stored by the names the engine gives them (`User`,
--   `Active`, `Created`, `Update`, `Failure`), checked where the set is closed;
-- - identifiers that are compared, ordered or paged on (application names, source and target ids, cycle ids)
--   are `text COLLATE "C"`: byte order, the order SQLite uses, whatever the database's default collation is, so
--   that keyset paging visits the same rows in the same order on both backends;
-- - times are Unix milliseconds in `bigint`, as on SQLite: the engine's values are truncated to the millisecond
--   the same way on both backends, and a `since` filter compares at that precision (timestamptz would keep
--   microseconds, and a value would then compare differently on the two backends);
-- - the engine's values (job state, exported values, cycles, log entries, plans) are `jsonb`: parsed once on the
--   way in, readable by SQL for operators (`state->>'status'`), and decoded straight into the engine's types.
--   `jsonb` refuses the character U+0000 in strings, which roster's values never hold.

-- One row per application that has a job state or a lease.
CREATE TABLE engine_jobs (
    application text COLLATE "C" NOT NULL PRIMARY KEY,
    state       jsonb,              -- the JobState; NULL while only a lease was taken (the default state)
    lease_owner text COLLATE "C",   -- who holds the lease; NULL when nobody does
    lease_until bigint              -- when the lease expires (it is free from that instant on)
);

-- The target objects roster manages, keyed by their source object. A target id belongs to one shadow of an
-- application and kind (`engine_shadows_target`, whose name the store recognises in a unique violation). That
-- index leads with the target id, so that it never serves a scan of all an application's shadows of a kind: with
-- statistics taken while the table was nearly empty (an initial cycle outgrows autovacuum), the planner used to
-- read such a scan for each of a thousand source ids instead of probing the primary key.
-- `exported` is a JSON object: the mapped values last exported, by target attribute path.
CREATE TABLE engine_shadows (
    application text COLLATE "C" NOT NULL,
    kind        text COLLATE "C" NOT NULL CHECK (kind IN ('User', 'Group')),
    source_id   text COLLATE "C" NOT NULL,
    target_id   text COLLATE "C" NOT NULL,
    exported    jsonb NOT NULL,
    state       text NOT NULL CHECK (state IN ('Active', 'Disabled')),
    origin      text NOT NULL CHECK (origin IN ('Created', 'Matched')),
    CONSTRAINT engine_shadows_pkey PRIMARY KEY (application, kind, source_id),
    CONSTRAINT engine_shadows_target UNIQUE (target_id, application, kind)
);

-- The members (source ids of users or groups) exported to each target group.
CREATE TABLE engine_members (
    application text COLLATE "C" NOT NULL,
    group_id    text COLLATE "C" NOT NULL,
    member_id   text COLLATE "C" NOT NULL,
    PRIMARY KEY (application, group_id, member_id)
);
-- Forgetting a deleted object's shadow also forgets its memberships in groups.
CREATE INDEX engine_members_member ON engine_members (application, member_id);

-- The cycles, running or ended. `body` is the Cycle.
CREATE TABLE engine_cycles (
    application text COLLATE "C" NOT NULL,
    id          text COLLATE "C" NOT NULL,
    began       bigint NOT NULL,
    body        jsonb NOT NULL,
    PRIMARY KEY (application, id)
);
-- Newest first: read backwards.
CREATE INDEX engine_cycles_began ON engine_cycles (application, began, id);

-- The provisioning logs, append-only. `seq` orders them (newest first is `seq` descending); the other columns
-- copy the entry's values that queries filter on, and `body` is the whole LogEntry. A sequence hands out numbers
-- in the order inserts run, not the order they commit, which is all "newest first" needs.
CREATE TABLE engine_logs (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application text COLLATE "C" NOT NULL,
    at          bigint NOT NULL,
    cycle       text COLLATE "C" NOT NULL,
    change_id   text COLLATE "C" NOT NULL,
    kind        text NOT NULL,
    source_id   text COLLATE "C" NOT NULL,
    source_name text COLLATE "C",
    target_id   text COLLATE "C",
    action      text NOT NULL,
    status      text NOT NULL,
    body        jsonb NOT NULL
);
-- Each index ends with `seq`, so that a filtered query reads its newest entries first and stops at the limit
-- (SQLite's indexes end with the rowid by themselves; PostgreSQL's must say so).
CREATE INDEX engine_logs_application ON engine_logs (application, seq);
CREATE INDEX engine_logs_cycle ON engine_logs (application, cycle, seq);
CREATE INDEX engine_logs_source_id ON engine_logs (application, source_id, seq);
CREATE INDEX engine_logs_target_id ON engine_logs (application, target_id, seq);
CREATE INDEX engine_logs_source_name ON engine_logs (application, source_name, seq);

-- Dry-run plans (`roster sync NAME --dry-run`), kept for review and for `--apply-plan ID`. `body` is the
-- `roster_engine::dry_run::Plan` (its operations can number as many as the directory's objects).
CREATE TABLE engine_plans (
    application text COLLATE "C" NOT NULL,
    id          text COLLATE "C" NOT NULL,
    created     bigint NOT NULL,
    body        jsonb NOT NULL,
    PRIMARY KEY (application, id)
);
