-- The SCIM service provider (the `roster_provider::port` ports `TenantStore` and `ResourceStore`) on PostgreSQL:
-- enterprises, their tokens, users, groups and memberships. The same tables and rules as SQLite's
-- `0001_scim_provider.sql`, following the conventions of `0001_engine.sql` (times in Unix milliseconds, compared
-- identifiers `text COLLATE "C"`), with these differences (see `docs/design/0005-postgresql.md`):
--
-- - The columns derived from a resource's attributes (`user_name`, `external_id`, `display_name`, `login` and the
--   `*_folded` forms, folded in Rust by `columns::fold`, never by SQL's lower()) are `bytea` holding the value's
--   UTF-8. They hold whatever a SCIM client sends, and `text` refuses U+0000, which JSON and SQLite accept; `bytea`
--   compares byte by byte, which for UTF-8 is code-point order: exactly `COLLATE "C"` (and SQLite's BINARY), with
--   NUL. The SCIM `id` is chosen by the provider and stays `text COLLATE "C"`.
-- - `data` (the attributes as JSON, canonical form, without id, meta, members and groups) is `text`, not `jsonb`:
--   attributes come back exactly as written, key order included, as on SQLite. serde_json writes U+0000 as
--   `\u0000`, so `text` holds every value.
-- - Counts per bucket of keys, as SQLite's `0002_key_buckets.sql` keeps them, but split over 16 stripes, so that
--   concurrent creates do not queue on one counter row (`scim_key_counts`, at the end).
-- - A deleted member's memberships are removed by the store in the delete's transaction rather than by a trigger.
--   Adding members takes `FOR KEY SHARE` on their rows, and a delete first locks its row `FOR UPDATE`, so a member
--   cannot be added while it is being deleted (the delete waits, then removes the new rows too).

CREATE TABLE scim_enterprises (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug      text COLLATE "C" NOT NULL CONSTRAINT scim_enterprises_slug UNIQUE,
    shortcode text COLLATE "C" NOT NULL,
    profile   text NOT NULL DEFAULT 'github-emu',  -- the rules its SCIM API follows: github-emu or scim
    created   bigint NOT NULL DEFAULT floor(extract(epoch FROM now()) * 1000)::bigint
);
-- Shortcodes are ASCII letters and digits, and lower() under the "C" collation folds ASCII letters only: exactly
-- SQLite's NOCASE.
CREATE UNIQUE INDEX scim_enterprises_shortcode ON scim_enterprises (lower(shortcode));

CREATE TABLE scim_tokens (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enterprise_id bigint NOT NULL REFERENCES scim_enterprises (id) ON DELETE CASCADE,
    name          text NOT NULL,
    scopes        text NOT NULL,  -- scope names separated by spaces
    hash          bytea NOT NULL CONSTRAINT scim_tokens_hash UNIQUE,  -- SHA-256 of the secret
    created       bigint NOT NULL DEFAULT floor(extract(epoch FROM now()) * 1000)::bigint,
    revoked       bigint            -- when it was revoked; NULL while valid
);
CREATE INDEX scim_tokens_enterprise ON scim_tokens (enterprise_id, id);

-- `pk` orders an enterprise's resources by creation. The names of the unique constraints and indexes end with the
-- column they protect: the store maps a violation to the SCIM attribute by that name (`columns::conflict`).
-- Updates rewrite `data` and `version` on every change; the free space left in each page lets most of them be HOT
-- updates.
--
-- The uniqueness of attribute columns is kept by partial unique indexes (`WHERE column IS NOT NULL`): the rule is
-- the same as a constraint's (NULLs never collide), but PostgreSQL counts only the columns of indexes a foreign key
-- could use (not partial ones) as a row's key. So an update that changes them, a rename, takes the same `FOR NO KEY
-- UPDATE` row lock as any other update instead of `FOR UPDATE`, and does not wait for the `FOR KEY SHARE` lock of a
-- transaction adding the resource as a member: two groups renamed and added to each other at once do not deadlock.
CREATE TABLE scim_users (
    pk                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enterprise_id       bigint NOT NULL REFERENCES scim_enterprises (id) ON DELETE CASCADE,
    id                  text COLLATE "C" NOT NULL,
    user_name           bytea,
    user_name_folded    bytea,
    external_id         bytea,
    display_name        bytea,
    display_name_folded bytea,
    login               bytea,
    login_folded        bytea,
    active              boolean,  -- NULL when absent
    data                text NOT NULL,
    created             bigint NOT NULL,
    last_modified       bigint NOT NULL,
    version             bigint NOT NULL,
    CONSTRAINT scim_users_id UNIQUE (enterprise_id, id)
) WITH (fillfactor = 90);
CREATE UNIQUE INDEX scim_users_user_name_folded ON scim_users (enterprise_id, user_name_folded)
    WHERE user_name_folded IS NOT NULL;
CREATE UNIQUE INDEX scim_users_external_id ON scim_users (enterprise_id, external_id) WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX scim_users_login_folded ON scim_users (enterprise_id, login_folded) WHERE login_folded IS NOT NULL;
-- Creation order within an enterprise: lists, counts and deep pages.
CREATE INDEX scim_users_enterprise ON scim_users (enterprise_id, pk);
CREATE INDEX scim_users_display_name ON scim_users (enterprise_id, display_name_folded);

CREATE TABLE scim_groups (
    pk                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enterprise_id       bigint NOT NULL REFERENCES scim_enterprises (id) ON DELETE CASCADE,
    id                  text COLLATE "C" NOT NULL,
    external_id         bytea,
    display_name        bytea,
    display_name_folded bytea,
    data                text NOT NULL,
    created             bigint NOT NULL,
    last_modified       bigint NOT NULL,
    version             bigint NOT NULL,
    CONSTRAINT scim_groups_id UNIQUE (enterprise_id, id)
) WITH (fillfactor = 90);
CREATE UNIQUE INDEX scim_groups_display_name_folded ON scim_groups (enterprise_id, display_name_folded)
    WHERE display_name_folded IS NOT NULL;
CREATE UNIQUE INDEX scim_groups_external_id ON scim_groups (enterprise_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX scim_groups_enterprise ON scim_groups (enterprise_id, pk);

-- A member is a user (member_kind 0) or a group (member_kind 1) of the group's enterprise. Deleting a group
-- removes its rows through the foreign key; deleting a member removes its rows in the same transaction (see
-- above). The primary key lists a group's members in the order they are loaded: users, then groups, each in
-- creation order.
CREATE TABLE scim_memberships (
    group_pk    bigint NOT NULL REFERENCES scim_groups (pk) ON DELETE CASCADE,
    member_pk   bigint NOT NULL,
    member_kind smallint NOT NULL CHECK (member_kind IN (0, 1)),
    PRIMARY KEY (group_pk, member_kind, member_pk)
);
-- The groups of a member.
CREATE INDEX scim_memberships_member ON scim_memberships (member_kind, member_pk, group_pk);

-- Counts: how many users and groups each enterprise has, per bucket of 1,024 consecutive keys (`pk >> 10`; the Rust side's
-- `listing::BUCKET_BITS` must agree), kept by triggers in the writing transaction. Two uses:
--
-- - The total of an unfiltered list is a sum of these rows, not a `count(*)` that reads every index entry of the
--   enterprise (37 ms at 100,000 users);
-- - A deep page of an unfiltered list finds the bucket that holds its first row by summing about one row per
--   1,024 resources, then steps over at most 1,023 index entries inside it, instead of `OFFSET 90000` reading
--   90,000 (SQLite's `0002_key_buckets.sql` does the same).
--
-- Unlike SQLite, PostgreSQL takes concurrent writers, and a counter row is locked by each transaction that changes
-- it until that transaction ends: one row per enterprise would make every create of the enterprise, on every node,
-- wait for the previous one's commit. So each bucket's count is split over 16 stripes (`pk & 15`): consecutive
-- creates (whose keys are consecutive) change different rows, and readers sum the stripes.

CREATE TABLE scim_key_counts (
    enterprise_id bigint   NOT NULL REFERENCES scim_enterprises (id) ON DELETE CASCADE,
    kind          smallint NOT NULL CHECK (kind IN (0, 1)),  -- 0 users, 1 groups
    bucket        bigint   NOT NULL,                         -- pk >> 10
    stripe        smallint NOT NULL,                         -- pk & 15
    rows          bigint   NOT NULL,                         -- may fall to 0; such a row is simply summed
    PRIMARY KEY (enterprise_id, kind, bucket, stripe)
);

-- The trigger's argument is the kind: 0 on scim_users, 1 on scim_groups.
CREATE FUNCTION scim_key_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO scim_key_counts (enterprise_id, kind, bucket, stripe, rows)
            VALUES (NEW.enterprise_id, TG_ARGV[0]::smallint, NEW.pk >> 10, (NEW.pk & 15)::smallint, 1)
            ON CONFLICT (enterprise_id, kind, bucket, stripe) DO UPDATE SET rows = scim_key_counts.rows + 1;
    ELSE
        UPDATE scim_key_counts SET rows = rows - 1
            WHERE enterprise_id = OLD.enterprise_id AND kind = TG_ARGV[0]::smallint AND bucket = OLD.pk >> 10
              AND stripe = (OLD.pk & 15)::smallint;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER scim_users_counted AFTER INSERT OR DELETE ON scim_users
    FOR EACH ROW EXECUTE FUNCTION scim_key_count('0');
CREATE TRIGGER scim_groups_counted AFTER INSERT OR DELETE ON scim_groups
    FOR EACH ROW EXECUTE FUNCTION scim_key_count('1');
