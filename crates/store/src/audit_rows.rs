//! The audit log as both backends store it, independent of the database: an entry's row (the columns its indexes
//! and filters use, and the entry itself as JSON), the rows an [`AuditQuery`] reads, and entries read back.
//!
//! Times are kept to the millisecond, as both backends keep every time: an entry is stored with its
//! `activityDateTime` truncated to the millisecond, in its `at` column and in its JSON alike, so that its place in
//! the newest-first order, `(at, id)`, is exactly what the entry read back shows. A query's bounds, which may fall
//! between two milliseconds, are turned into bounds on whole milliseconds that select the same entries.

use roster_directory::audit::AuditEntry;
use roster_directory::port::{AuditQuery, DirectoryError};
use time::OffsetDateTime;

use crate::corrupt::Corrupt;
use crate::directory_rows::millis;

/// An entry's row of `audit_log`.
pub(crate) struct AuditRow {
    pub(crate) id: String,
    /// `activityDateTime` in Unix milliseconds.
    pub(crate) at: i64,
    pub(crate) correlation_id: String,
    pub(crate) activity: String,
    pub(crate) category: &'static str,
    /// The initiator's id (a user's object id, an app's id).
    pub(crate) initiator_id: String,
    /// The entry as JSON, its time truncated to the millisecond.
    pub(crate) entry: String,
}

impl AuditRow {
    /// The row of an entry.
    pub(crate) fn new(entry: &AuditEntry) -> Result<AuditRow, DirectoryError> {
        AuditRow::from_entry(entry.clone())
    }

    /// The row of an entry the caller no longer needs (the entries a write made), without a copy.
    pub(crate) fn from_entry(mut stored: AuditEntry) -> Result<AuditRow, DirectoryError> {
        let at = millis(stored.activity_date_time)?;
        stored.activity_date_time = truncated(stored.activity_date_time)?;
        let json = serde_json::to_string(&stored)
            .map_err(|error| DirectoryError::Backend(format!("cannot encode audit entry {}: {error}", stored.id)))?;
        Ok(AuditRow {
            id: stored.id,
            at,
            correlation_id: stored.correlation_id,
            activity: stored.activity_display_name,
            category: stored.category.as_str(),
            initiator_id: stored.initiated_by.id().to_owned(),
            entry: json,
        })
    }

    /// The rows of several entries, in order.
    pub(crate) fn all(entries: &[AuditEntry]) -> Result<Vec<AuditRow>, DirectoryError> {
        entries.iter().map(AuditRow::new).collect()
    }
}

/// The rows a query reads: `at >= from AND (at, id) < (below_at, below_id)`, ordered by `(at, id)` descending, at
/// most `limit`. `since` and `until` are inclusive, the `before` cursor exclusive; an empty `below_id` makes the
/// upper bound `at < below_at` (no id is smaller than the empty one).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct AuditRange {
    pub(crate) from: i64,
    pub(crate) below_at: i64,
    pub(crate) below_id: String,
    pub(crate) limit: i64,
}

impl AuditRange {
    /// The range of a query.
    pub(crate) fn new(query: &AuditQuery) -> Result<AuditRange, DirectoryError> {
        let from = match query.since {
            Some(since) => ceiling(since)?,
            None => i64::MIN,
        };
        // No stored time reaches i64::MAX milliseconds (OffsetDateTime ends in the year 9999).
        let mut below = (i64::MAX, String::new());
        if let Some(until) = query.until {
            below = below.min((millis(until)?.saturating_add(1), String::new()));
        }
        if let Some((at, id)) = &query.before {
            let cursor = if whole_millisecond(*at) {
                (millis(*at)?, id.clone())
            } else {
                // Between two milliseconds: every entry of the millisecond before it is older.
                (millis(*at)?.saturating_add(1), String::new())
            };
            below = below.min(cursor);
        }
        let limit = if query.limit == 0 { i64::MAX } else { i64::try_from(query.limit).unwrap_or(i64::MAX) };
        Ok(AuditRange { from, below_at: below.0, below_id: below.1, limit })
    }
}

/// The bound of [`roster_directory::port::DirectoryStore::prune_audit`]: the entries with `at` below it are older
/// than `before`.
pub(crate) fn prune_bound(before: OffsetDateTime) -> Result<i64, DirectoryError> {
    ceiling(before)
}

/// An entry from its stored JSON; an error names what is wrong.
pub(crate) fn parse_entry(id: &str, text: &str) -> Result<AuditEntry, Corrupt> {
    serde_json::from_str(text).map_err(|error| Corrupt(format!("audit entry {id}: {error}")))
}

/// The first whole millisecond at or after `at`.
fn ceiling(at: OffsetDateTime) -> Result<i64, DirectoryError> {
    let floor = millis(at)?;
    Ok(if whole_millisecond(at) { floor } else { floor.saturating_add(1) })
}

fn whole_millisecond(at: OffsetDateTime) -> bool {
    at.nanosecond().is_multiple_of(1_000_000)
}

/// `at` truncated to the millisecond (towards the past, as [`millis`] is).
fn truncated(at: OffsetDateTime) -> Result<OffsetDateTime, DirectoryError> {
    at.replace_nanosecond(at.nanosecond() / 1_000_000 * 1_000_000)
        .map_err(|error| DirectoryError::Invalid(format!("timestamp {at}: {error}")))
}

#[cfg(test)]
mod tests {
    use roster_directory::audit::{Actor, Category, Initiator, TargetResource};

    use super::*;

    fn at(nanos: i128) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap()
    }

    #[test]
    fn rows_keep_the_entry_to_the_millisecond() {
        let actor = Actor::new(Initiator::command_line("ops"), at(1_700_000_000_123_456_789));
        let entry =
            AuditEntry::new(&actor, "Add user", Category::UserManagement, "Add", TargetResource::new("User", "u", "U"));
        let row = AuditRow::new(&entry).unwrap();
        assert_eq!(
            (row.at, row.category, row.initiator_id.as_str()),
            (1_700_000_000_123, "UserManagement", "roster-cli")
        );
        let back = parse_entry(&row.id, &row.entry).unwrap();
        assert_eq!(back.activity_date_time, at(1_700_000_000_123_000_000));
        assert_eq!(AuditEntry { activity_date_time: entry.activity_date_time, ..back }, entry);
        assert!(parse_entry("x", "{}").unwrap_err().0.contains("audit entry x"));
    }

    #[test]
    fn bounds_between_milliseconds_select_whole_milliseconds() {
        let ms = 1_000_000;
        let query = AuditQuery {
            since: Some(at(10 * ms + 1)),
            until: Some(at(20 * ms + 1)),
            before: Some((at(30 * ms), "b".to_owned())),
            limit: 0,
        };
        let range = AuditRange::new(&query).unwrap();
        assert_eq!(range, AuditRange { from: 11, below_at: 21, below_id: String::new(), limit: i64::MAX });
        let cursor = AuditQuery { before: Some((at(15 * ms), "b".to_owned())), limit: 3, ..query };
        let range = AuditRange::new(&cursor).unwrap();
        assert_eq!((range.below_at, range.below_id.as_str(), range.limit), (15, "b", 3));
        let between = AuditQuery { before: Some((at(15 * ms + 7), "b".to_owned())), ..query };
        let range = AuditRange::new(&between).unwrap();
        assert_eq!((range.below_at, range.below_id.as_str()), (16, ""));
        assert_eq!(AuditRange::new(&AuditQuery::default()).unwrap().from, i64::MIN);
        assert_eq!((prune_bound(at(5 * ms)).unwrap(), prune_bound(at(5 * ms + 1)).unwrap()), (5, 6));
    }
}
