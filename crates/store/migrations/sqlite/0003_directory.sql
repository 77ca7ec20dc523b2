-- The directory (the `roster_directory::port::DirectoryStore` port): users, groups, memberships, applications,
-- assignments and the change log.
--
-- Conventions: ids are directory object ids (GUIDs in lowercase hyphenated form, as `ObjectId` holds them); a
-- user's or group's `data` is its Microsoft Graph JSON as `roster_directory::export` writes it (a group's without
-- `members`, which live in `directory_members`), and is what reads return; the other columns of those rows are
-- derived from it for indexes and filters. Times are Unix milliseconds (INTEGER). Kinds are stored by name.

CREATE TABLE directory_users (
    id              TEXT    NOT NULL PRIMARY KEY,
    -- Entra allows only ASCII in a user principal name, so NOCASE (ASCII case folding) is exact here.
    upn             TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    account_enabled INTEGER NOT NULL CHECK (account_enabled IN (0, 1)),
    deleted         INTEGER,  -- deletedDateTime; NULL unless the user is soft-deleted
    data            TEXT    NOT NULL,
    created         INTEGER NOT NULL,
    updated         INTEGER NOT NULL
) STRICT;

CREATE TABLE directory_groups (
    id           TEXT    NOT NULL PRIMARY KEY,
    display_name TEXT    NOT NULL,
    data         TEXT    NOT NULL,
    created      INTEGER NOT NULL,
    updated      INTEGER NOT NULL
) STRICT;

-- A member is a user or a group. A group's rows go with it through the foreign key; the store removes a member's
-- rows itself, since it logs each removed membership.
CREATE TABLE directory_members (
    group_id    TEXT NOT NULL REFERENCES directory_groups (id) ON DELETE CASCADE,
    member_id   TEXT NOT NULL,
    member_kind TEXT NOT NULL CHECK (member_kind IN ('user', 'group')),
    PRIMARY KEY (group_id, member_id)
) STRICT, WITHOUT ROWID;
-- The groups of a member.
CREATE INDEX directory_members_member ON directory_members (member_id);

-- `definition` is the application's definition as JSON, which the store does not interpret; `sealed_secret` is
-- its secret token as the caller sealed it (encrypted and authenticated), never in clear.
CREATE TABLE directory_applications (
    name          TEXT    NOT NULL PRIMARY KEY,
    definition    TEXT    NOT NULL,
    sealed_secret BLOB,
    created       INTEGER NOT NULL,
    updated       INTEGER NOT NULL
) STRICT;

-- One role per principal and application; `role` is the app role's value, NULL for the default access role.
CREATE TABLE directory_assignments (
    application TEXT NOT NULL REFERENCES directory_applications (name) ON DELETE CASCADE,
    principal   TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('user', 'group')),
    role        TEXT,
    PRIMARY KEY (application, principal)
) STRICT, WITHOUT ROWID;
-- The assignments of a principal, removed with it.
CREATE INDEX directory_assignments_principal ON directory_assignments (principal);

-- Every write appends one row per changed object, in its transaction. AUTOINCREMENT: a sequence number is never
-- handed out twice, even once older rows are pruned. `object` is the user's or group's id, the membership's group,
-- the assignment's application or the application's name; `related` is the membership's member or the
-- assignment's principal, NULL otherwise.
CREATE TABLE directory_changes (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    kind    TEXT    NOT NULL CHECK (kind IN ('user', 'group', 'membership', 'assignment', 'application')),
    object  TEXT    NOT NULL,
    related TEXT,
    CHECK ((related IS NOT NULL) = (kind IN ('membership', 'assignment')))
) STRICT;
