-- Signed-in portal sessions (the `roster_directory::port::DirectoryStore` port): a session's cookie secret only as
-- its SHA-256 digest, by which a request's cookie is looked up; times Unix milliseconds. Sessions go with their
-- user (a hard delete). `seen` is the last use (idle expiry), `expires` the absolute expiry; the index serves the
-- pruner and a user's sign-out everywhere.
CREATE TABLE portal_sessions (
    digest  BLOB    NOT NULL PRIMARY KEY CHECK (length(digest) = 32),
    user_id TEXT    NOT NULL REFERENCES directory_users (id) ON DELETE CASCADE,
    created INTEGER NOT NULL,
    seen    INTEGER NOT NULL,
    expires INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX portal_sessions_user ON portal_sessions (user_id);
