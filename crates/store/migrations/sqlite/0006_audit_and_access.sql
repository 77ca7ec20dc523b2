-- Who may administer roster and who changed what (the `roster_directory::port::DirectoryStore` port): directory
-- users' passwords and roles, admin API tokens, and the audit log. Conventions as in `0003_directory.sql`: ids are
-- directory object ids, times Unix milliseconds (INTEGER).

-- A directory user's password, as the Argon2id PHC string the caller made: the store never sees a password. It
-- goes with its user (a hard delete).
CREATE TABLE directory_passwords (
    user_id TEXT NOT NULL PRIMARY KEY REFERENCES directory_users (id) ON DELETE CASCADE,
    hash    TEXT NOT NULL
) STRICT;

-- The directory roles users hold, by `Role::as_key` (`global-administrator`, `application-owner:NAME`, ...). They
-- go with their user.
CREATE TABLE directory_roles (
    user_id TEXT NOT NULL REFERENCES directory_users (id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
) STRICT, WITHOUT ROWID;

-- Admin API tokens: a token's secret only as its SHA-256 digest, by which a request's token is looked up (the
-- unique index); `role` by `Role::as_key`; `id` is the GUID audit entries name.
CREATE TABLE admin_tokens (
    name    TEXT    NOT NULL PRIMARY KEY,
    id      TEXT    NOT NULL,
    role    TEXT    NOT NULL,
    digest  BLOB    NOT NULL UNIQUE CHECK (length(digest) = 32),
    created INTEGER NOT NULL,
    expires INTEGER
) STRICT;

-- The audit log: one row per object a write changed, in the write's savepoint. `entry` is the
-- `roster_directory::audit::AuditEntry` as JSON (its time truncated to the millisecond, as `at` is); the other
-- columns are taken from it for the indexes and filters. Read newest first by (at, id), which the index answers.
CREATE TABLE audit_log (
    id             TEXT    NOT NULL PRIMARY KEY,
    at             INTEGER NOT NULL,
    correlation_id TEXT    NOT NULL,
    activity       TEXT    NOT NULL,
    category       TEXT    NOT NULL,
    initiator_id   TEXT    NOT NULL,
    entry          TEXT    NOT NULL
) STRICT;
CREATE INDEX audit_log_at ON audit_log (at, id);
