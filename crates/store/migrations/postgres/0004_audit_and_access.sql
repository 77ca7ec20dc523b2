-- Who may administer roster and who changed what (the `roster_directory::port::DirectoryStore` port) on
-- PostgreSQL: the same tables as SQLite's `0006_audit_and_access.sql`, following the conventions of
-- `0002_directory.sql` (ids `text COLLATE "C"`, times in Unix milliseconds).

-- A directory user's password, as the Argon2id PHC string the caller made: the store never sees a password. It
-- goes with its user (a hard delete).
CREATE TABLE directory_passwords (
    user_id text COLLATE "C" NOT NULL PRIMARY KEY REFERENCES directory_users (id) ON DELETE CASCADE,
    hash    text NOT NULL
);

-- The directory roles users hold, by `Role::as_key` (`global-administrator`, `application-owner:NAME`, ...). They
-- go with their user.
CREATE TABLE directory_roles (
    user_id text COLLATE "C" NOT NULL REFERENCES directory_users (id) ON DELETE CASCADE,
    role    text COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- Admin API tokens: a token's secret only as its SHA-256 digest, by which a request's token is looked up (the
-- unique index); `role` by `Role::as_key`; `id` is the GUID audit entries name.
CREATE TABLE admin_tokens (
    name    text COLLATE "C" NOT NULL PRIMARY KEY,
    id      text NOT NULL,
    role    text NOT NULL,
    digest  bytea NOT NULL CHECK (length(digest) = 32),
    created bigint NOT NULL,
    expires bigint,
    CONSTRAINT admin_tokens_digest UNIQUE (digest)
);

-- The audit log: one row per object a write changed, in the write's transaction. `entry` is the
-- `roster_directory::audit::AuditEntry` as JSON text (its time truncated to the millisecond, as `at` is); the other
-- columns are taken from it for the indexes and filters. Read newest first by (at, id), which the index answers.
CREATE TABLE audit_log (
    id             text COLLATE "C" NOT NULL PRIMARY KEY,
    at             bigint NOT NULL,
    correlation_id text NOT NULL,
    activity       text NOT NULL,
    category       text NOT NULL,
    initiator_id   text NOT NULL,
    entry          text NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at, id);
