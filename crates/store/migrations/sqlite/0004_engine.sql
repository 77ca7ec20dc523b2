-- The provisioning engine's state (the `roster_engine::state::EngineStore` port): per application, the job's state
-- and lease, the shadows (what roster exported to each target object), the exported group memberships, the
-- cycles and the provisioning logs.
--
-- Conventions: applications are referenced by name, without a foreign key (the applications' own table belongs
-- to the directory's store), so forgetting an application's engine state is a separate concern; object kinds,
-- states, origins, actions and statuses are stored by the names the engine gives them (`User`, `Active`,
-- `Created`, `Update`, `Failure`); source ids are directory object ids in lowercase hyphenated form; times are
-- Unix milliseconds (INTEGER); `state` and `body` columns hold the engine's values as JSON, parsed only for
-- returned rows.

-- One row per application that has a job state or a lease.
CREATE TABLE engine_jobs (
    application TEXT    NOT NULL PRIMARY KEY,
    state       TEXT,     -- the JobState as JSON; NULL while only a lease was taken (the default state)
    lease_owner TEXT,     -- who holds the lease; NULL when nobody does
    lease_until INTEGER   -- when the lease expires (it is free from that instant on)
) STRICT, WITHOUT ROWID;

-- The target objects roster manages, keyed by their source object. A target id belongs to one shadow of an
-- application and kind. `exported` is a JSON object: the mapped values last exported, by target attribute path.
CREATE TABLE engine_shadows (
    application TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('User', 'Group')),
    source_id   TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    exported    TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('Active', 'Disabled')),
    origin      TEXT NOT NULL CHECK (origin IN ('Created', 'Matched')),
    PRIMARY KEY (application, kind, source_id),
    UNIQUE (application, kind, target_id)
) STRICT, WITHOUT ROWID;

-- The members (source ids of users or groups) exported to each target group.
CREATE TABLE engine_members (
    application TEXT NOT NULL,
    group_id    TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    PRIMARY KEY (application, group_id, member_id)
) STRICT, WITHOUT ROWID;
-- Forgetting a deleted object's shadow also forgets its memberships in groups.
CREATE INDEX engine_members_member ON engine_members (application, member_id);

-- The cycles, running or ended. `body` is the Cycle as JSON.
CREATE TABLE engine_cycles (
    application TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    began       INTEGER NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (application, id)
) STRICT, WITHOUT ROWID;
-- Newest first: read backwards.
CREATE INDEX engine_cycles_began ON engine_cycles (application, began, id);

-- The provisioning logs, append-only. `seq` orders them (newest first is `seq` descending); the other columns
-- copy the entry's values that queries filter on, and `body` is the whole LogEntry as JSON.
CREATE TABLE engine_logs (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    application TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    cycle       TEXT    NOT NULL,
    change_id   TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    source_id   TEXT    NOT NULL,
    source_name TEXT,
    target_id   TEXT,
    action      TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    body        TEXT    NOT NULL
) STRICT;
-- Every index entry ends with the rowid, `seq`: each index below lists its entries in log order, so a filtered
-- query reads its newest entries first and stops at the limit.
CREATE INDEX engine_logs_application ON engine_logs (application);
CREATE INDEX engine_logs_cycle ON engine_logs (application, cycle);
CREATE INDEX engine_logs_source_id ON engine_logs (application, source_id);
CREATE INDEX engine_logs_target_id ON engine_logs (application, target_id);
CREATE INDEX engine_logs_source_name ON engine_logs (application, source_name);
