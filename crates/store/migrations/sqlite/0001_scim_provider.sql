-- The SCIM service provider: enterprises (tenants), their tokens, users, groups and memberships.
--
-- Conventions: times are Unix milliseconds (INTEGER); `*_folded` columns hold the value lowercased in Rust
-- (Unicode, character by character), never with SQL's lower(), which only knows ASCII; `data` is the resource's
-- attributes as JSON (canonical form, without id, meta, members and groups), parsed only for returned rows.

CREATE TABLE scim_enterprises (
    id          INTEGER PRIMARY KEY,
    slug        TEXT    NOT NULL UNIQUE,
    shortcode   TEXT    NOT NULL COLLATE NOCASE UNIQUE,  -- ASCII letters and digits only, so NOCASE is exact
    profile     TEXT    NOT NULL DEFAULT 'github-emu',    -- the rules its SCIM API follows: github-emu or scim
    created     INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)),
    -- Kept by the triggers below, so that an unfiltered list does not count 100,000 rows.
    user_count  INTEGER NOT NULL DEFAULT 0,
    group_count INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE scim_tokens (
    id            INTEGER PRIMARY KEY,
    enterprise_id INTEGER NOT NULL REFERENCES scim_enterprises (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    scopes        TEXT    NOT NULL,  -- scope names separated by spaces
    hash          BLOB    NOT NULL UNIQUE,  -- SHA-256 of the secret
    created       INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)),
    revoked       INTEGER            -- when it was revoked; NULL while valid
) STRICT;
CREATE INDEX scim_tokens_enterprise ON scim_tokens (enterprise_id);

CREATE TABLE scim_users (
    pk                  INTEGER PRIMARY KEY,
    enterprise_id       INTEGER NOT NULL REFERENCES scim_enterprises (id) ON DELETE CASCADE,
    id                  TEXT    NOT NULL,
    user_name           TEXT,
    user_name_folded    TEXT,
    external_id         TEXT,
    display_name        TEXT,
    display_name_folded TEXT,
    login               TEXT,
    login_folded        TEXT,
    active              INTEGER,  -- 0 or 1; NULL when absent
    data                TEXT    NOT NULL,
    created             INTEGER NOT NULL,
    last_modified       INTEGER NOT NULL,
    version             INTEGER NOT NULL,
    UNIQUE (enterprise_id, id),
    UNIQUE (enterprise_id, user_name_folded),
    UNIQUE (enterprise_id, external_id),
    UNIQUE (enterprise_id, login_folded)
) STRICT;
-- Insertion order within an enterprise (entries are ordered by rowid after enterprise_id).
CREATE INDEX scim_users_enterprise ON scim_users (enterprise_id);
CREATE INDEX scim_users_display_name ON scim_users (enterprise_id, display_name_folded);

CREATE TABLE scim_groups (
    pk                  INTEGER PRIMARY KEY,
    enterprise_id       INTEGER NOT NULL REFERENCES scim_enterprises (id) ON DELETE CASCADE,
    id                  TEXT    NOT NULL,
    external_id         TEXT,
    display_name        TEXT,
    display_name_folded TEXT,
    data                TEXT    NOT NULL,
    created             INTEGER NOT NULL,
    last_modified       INTEGER NOT NULL,
    version             INTEGER NOT NULL,
    UNIQUE (enterprise_id, id),
    UNIQUE (enterprise_id, display_name_folded),
    UNIQUE (enterprise_id, external_id)
) STRICT;
CREATE INDEX scim_groups_enterprise ON scim_groups (enterprise_id);

-- A member is a user (member_kind 0) or a group (member_kind 1) of the group's enterprise. Deleting a group
-- removes its rows through the foreign key; deleting a member removes its rows through the triggers below.
CREATE TABLE scim_memberships (
    group_pk    INTEGER NOT NULL REFERENCES scim_groups (pk) ON DELETE CASCADE,
    member_kind INTEGER NOT NULL CHECK (member_kind IN (0, 1)),
    member_pk   INTEGER NOT NULL,
    PRIMARY KEY (group_pk, member_kind, member_pk)
) STRICT, WITHOUT ROWID;
-- The groups of a member.
CREATE INDEX scim_memberships_member ON scim_memberships (member_kind, member_pk, group_pk);

CREATE TRIGGER scim_users_inserted AFTER INSERT ON scim_users BEGIN
    UPDATE scim_enterprises SET user_count = user_count + 1 WHERE id = NEW.enterprise_id;
END;
CREATE TRIGGER scim_users_deleted AFTER DELETE ON scim_users BEGIN
    UPDATE scim_enterprises SET user_count = user_count - 1 WHERE id = OLD.enterprise_id;
    DELETE FROM scim_memberships WHERE member_kind = 0 AND member_pk = OLD.pk;
END;
CREATE TRIGGER scim_groups_inserted AFTER INSERT ON scim_groups BEGIN
    UPDATE scim_enterprises SET group_count = group_count + 1 WHERE id = NEW.enterprise_id;
END;
CREATE TRIGGER scim_groups_deleted AFTER DELETE ON scim_groups BEGIN
    UPDATE scim_enterprises SET group_count = group_count - 1 WHERE id = OLD.enterprise_id;
    DELETE FROM scim_memberships WHERE member_kind = 1 AND member_pk = OLD.pk;
END;
