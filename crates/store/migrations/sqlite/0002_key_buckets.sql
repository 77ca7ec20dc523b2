-- Deep pages without stepping over every row before them. A list in creation order is a list in key (pk) order,
-- and SQLite's b-trees do not count rows, so `LIMIT 100 OFFSET 90000` reads 90,000 index entries. This table
-- counts each enterprise's users and groups per bucket of 1,024 consecutive keys (`pk >> 10`; the Rust side's
-- `BUCKET_BITS` must agree), kept by the triggers below in the writing transaction: a reader sums the counts
-- of about one row per 1,024 resources to find the bucket that holds the page's first row, then steps over at
-- most 1,023 rows inside it.

CREATE TABLE scim_key_buckets (
    enterprise_id INTEGER NOT NULL REFERENCES scim_enterprises (id) ON DELETE CASCADE,
    kind          INTEGER NOT NULL CHECK (kind IN (0, 1)),  -- 0 users, 1 groups
    bucket        INTEGER NOT NULL,                         -- pk >> 10
    rows          INTEGER NOT NULL,                         -- may fall to 0; such a bucket is simply skipped
    PRIMARY KEY (enterprise_id, kind, bucket)
) STRICT, WITHOUT ROWID;

INSERT INTO scim_key_buckets (enterprise_id, kind, bucket, rows)
    SELECT enterprise_id, 0, pk >> 10, count(*) FROM scim_users GROUP BY enterprise_id, pk >> 10;
INSERT INTO scim_key_buckets (enterprise_id, kind, bucket, rows)
    SELECT enterprise_id, 1, pk >> 10, count(*) FROM scim_groups GROUP BY enterprise_id, pk >> 10;

DROP TRIGGER scim_users_inserted;
DROP TRIGGER scim_users_deleted;
DROP TRIGGER scim_groups_inserted;
DROP TRIGGER scim_groups_deleted;

CREATE TRIGGER scim_users_inserted AFTER INSERT ON scim_users BEGIN
    UPDATE scim_enterprises SET user_count = user_count + 1 WHERE id = NEW.enterprise_id;
    INSERT INTO scim_key_buckets (enterprise_id, kind, bucket, rows) VALUES (NEW.enterprise_id, 0, NEW.pk >> 10, 1)
        ON CONFLICT DO UPDATE SET rows = rows + 1;
END;
CREATE TRIGGER scim_users_deleted AFTER DELETE ON scim_users BEGIN
    UPDATE scim_enterprises SET user_count = user_count - 1 WHERE id = OLD.enterprise_id;
    UPDATE scim_key_buckets SET rows = rows - 1 WHERE enterprise_id = OLD.enterprise_id AND kind = 0
        AND bucket = OLD.pk >> 10;
    DELETE FROM scim_memberships WHERE member_kind = 0 AND member_pk = OLD.pk;
END;
CREATE TRIGGER scim_groups_inserted AFTER INSERT ON scim_groups BEGIN
    UPDATE scim_enterprises SET group_count = group_count + 1 WHERE id = NEW.enterprise_id;
    INSERT INTO scim_key_buckets (enterprise_id, kind, bucket, rows) VALUES (NEW.enterprise_id, 1, NEW.pk >> 10, 1)
        ON CONFLICT DO UPDATE SET rows = rows + 1;
END;
CREATE TRIGGER scim_groups_deleted AFTER DELETE ON scim_groups BEGIN
    UPDATE scim_enterprises SET group_count = group_count - 1 WHERE id = OLD.enterprise_id;
    UPDATE scim_key_buckets SET rows = rows - 1 WHERE enterprise_id = OLD.enterprise_id AND kind = 1
        AND bucket = OLD.pk >> 10;
    DELETE FROM scim_memberships WHERE member_kind = 1 AND member_pk = OLD.pk;
END;
