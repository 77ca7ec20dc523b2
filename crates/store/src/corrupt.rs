//! Data read from a database that does not have the shape roster wrote. The backend-neutral readers of stored
//! values ([`crate::engine_rows`], [`crate::directory_rows`], [`crate::audit_rows`], [`crate::access_rows`],
//! [`parse_id`], [`parse_millis`]) answer it, and each backend's `Failure` takes it with `?`, so no backend wraps
//! them again.

use roster_directory::ObjectId;

/// What was wrong with a stored value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Corrupt(pub(crate) String);

/// A directory object id read from the database.
pub(crate) fn parse_id(text: &str) -> Result<ObjectId, Corrupt> {
    ObjectId::parse(text).map_err(|error| Corrupt(error.to_string()))
}

/// A time read from the database, stored as Unix milliseconds.
pub(crate) fn parse_millis(millis: i64) -> Result<time::OffsetDateTime, Corrupt> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .map_err(|_| Corrupt(format!("timestamp {millis} ms is out of range")))
}
