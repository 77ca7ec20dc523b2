-- The directory (the `roster_directory::port::DirectoryStore` port) on PostgreSQL: the same tables as SQLite's
-- `0003_directory.sql`, in PostgreSQL's types, following the conventions of `0001_engine.sql` (ids `text COLLATE
-- "C"`, times in Unix milliseconds, kinds by name).
--
-- A user's or group's `data` is its Microsoft Graph JSON as `roster_directory::export` writes it (a group's
-- without `members`), kept as `text`, not `jsonb`: an import tells an unchanged user by comparing that exact text
-- with the new one, as on SQLite, and `jsonb` would reorder keys. An application's `definition` is `text` too:
-- the store gives back exactly what it was given.
--
-- Writers: every directory write is one transaction that first takes the transaction-scoped advisory lock of the
-- change log (`pg_advisory_xact_lock`, key in `postgres/directory/changes.rs`). Directory writes are therefore
-- serialized, as on SQLite, and so are the sequence numbers of `directory_changes`: a sequence hands out numbers
-- when rows are inserted, not when their transactions commit, so without the lock a transaction holding 10 could
-- commit after one holding 11, and a reader that saw 11 would move its watermark past 10 for good. Under the
-- lock, a writer takes its numbers only after the previous writer committed (and became visible: PostgreSQL
-- releases a transaction's locks after it is visible), so numbers become visible in order. A rolled-back writer
-- leaves a gap, which no reader waits for.

CREATE TABLE directory_users (
    id              text COLLATE "C" NOT NULL PRIMARY KEY,
    upn             text COLLATE "C" NOT NULL,
    account_enabled boolean NOT NULL,
    deleted         bigint,  -- deletedDateTime; NULL unless the user is soft-deleted
    data            text NOT NULL,
    created         bigint NOT NULL,
    updated         bigint NOT NULL
);
-- One user per principal name, in any case. Entra allows only ASCII in a user principal name, and `lower()` under
-- the "C" collation folds ASCII letters only: exactly SQLite's NOCASE.
CREATE UNIQUE INDEX directory_users_upn ON directory_users (lower(upn));

CREATE TABLE directory_groups (
    id           text COLLATE "C" NOT NULL PRIMARY KEY,
    display_name text NOT NULL,
    data         text NOT NULL,
    created      bigint NOT NULL,
    updated      bigint NOT NULL
);

-- A member is a user or a group. A group's rows go with it through the foreign key; the store removes a member's
-- rows itself, since it logs each removed membership.
CREATE TABLE directory_members (
    group_id    text COLLATE "C" NOT NULL REFERENCES directory_groups (id) ON DELETE CASCADE,
    member_id   text COLLATE "C" NOT NULL,
    member_kind text NOT NULL CHECK (member_kind IN ('user', 'group')),
    PRIMARY KEY (group_id, member_id)
);
-- The groups of a member.
CREATE INDEX directory_members_member ON directory_members (member_id);

-- `sealed_secret` is the secret token as the caller sealed it (encrypted and authenticated), never in clear.
CREATE TABLE directory_applications (
    name          text COLLATE "C" NOT NULL PRIMARY KEY,
    definition    text NOT NULL,
    sealed_secret bytea,
    created       bigint NOT NULL,
    updated       bigint NOT NULL
);

-- One role per principal and application; `role` is the app role's value, NULL for the default access role.
CREATE TABLE directory_assignments (
    application text COLLATE "C" NOT NULL REFERENCES directory_applications (name) ON DELETE CASCADE,
    principal   text COLLATE "C" NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('user', 'group')),
    role        text,
    PRIMARY KEY (application, principal)
);
-- The assignments of a principal, removed with it.
CREATE INDEX directory_assignments_principal ON directory_assignments (principal);

-- Every write appends one row per changed object, in its transaction, under the change log's advisory lock (see
-- above). The identity's sequence keeps the default CACHE 1: a session caching numbers would hand them out of
-- order across sessions. A number is never handed out twice. `object` is the user's or group's id, the
-- membership's group, the assignment's application or the application's name; `related` is the membership's
-- member or the assignment's principal, NULL otherwise.
CREATE TABLE directory_changes (
    seq     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind    text NOT NULL CHECK (kind IN ('user', 'group', 'membership', 'assignment', 'application')),
    object  text COLLATE "C" NOT NULL,
    related text COLLATE "C",
    CHECK ((related IS NOT NULL) = (kind IN ('membership', 'assignment')))
);
