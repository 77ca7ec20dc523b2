//! The names both backends store for the engine's enums (object kinds, shadow states, origins), independent of the
//! database; see the conventions of the engine migrations. And the upper bound of a page of log entries.

use roster_engine::log::ObjectKind;
use roster_engine::state::{Origin, ShadowState};

use crate::corrupt::Corrupt;

pub(crate) fn kind_name(kind: ObjectKind) -> &'static str {
    kind.as_str()
}

pub(crate) fn kind_from_name(name: &str) -> Option<ObjectKind> {
    match name {
        "User" => Some(ObjectKind::User),
        "Group" => Some(ObjectKind::Group),
        _ => None,
    }
}

pub(crate) fn state_name(state: ShadowState) -> &'static str {
    match state {
        ShadowState::Active => "Active",
        ShadowState::Disabled => "Disabled",
    }
}

pub(crate) fn state_from_name(name: &str) -> Option<ShadowState> {
    match name {
        "Active" => Some(ShadowState::Active),
        "Disabled" => Some(ShadowState::Disabled),
        _ => None,
    }
}

pub(crate) fn origin_name(origin: Origin) -> &'static str {
    match origin {
        Origin::Created => "Created",
        Origin::Matched => "Matched",
    }
}

pub(crate) fn origin_from_name(name: &str) -> Option<Origin> {
    match name {
        "Created" => Some(Origin::Created),
        "Matched" => Some(Origin::Matched),
        _ => None,
    }
}

/// An object kind read from the database.
pub(crate) fn parse_kind(name: &str) -> Result<ObjectKind, Corrupt> {
    kind_from_name(name).ok_or_else(|| Corrupt(format!("object kind {name:?}")))
}

/// A shadow state read from the database.
pub(crate) fn parse_state(name: &str) -> Result<ShadowState, Corrupt> {
    state_from_name(name).ok_or_else(|| Corrupt(format!("shadow state {name:?}")))
}

/// A shadow origin read from the database.
pub(crate) fn parse_origin(name: &str) -> Result<Origin, Corrupt> {
    origin_from_name(name).ok_or_else(|| Corrupt(format!("shadow origin {name:?}")))
}

/// The upper bound of a page of log entries, newest first: `until` or the keyset cursor `before`, whichever ends
/// the range sooner, as one condition, so that the index range starts there (given both, a database would walk
/// down from one and test the other on every entry in between).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LogUpper {
    /// `at <= until`, in Unix milliseconds: an entry in the same millisecond as `until` but after it is included.
    Until(i64),
    /// `(at, change_id) < (at, change)`, in Unix milliseconds: strictly after the cursor, newest first.
    Before(i64, String),
}

impl LogUpper {
    /// The bound of `until` and `before` together: `until` when it is older than the cursor's millisecond, for
    /// then it excludes everything the cursor does, and the cursor otherwise.
    pub(crate) fn new(until: Option<i64>, before: Option<(i64, String)>) -> Option<LogUpper> {
        match (until, before) {
            (Some(until), Some((at, _))) if until < at => Some(LogUpper::Until(until)),
            (_, Some((at, change))) => Some(LogUpper::Before(at, change)),
            (until, None) => until.map(LogUpper::Until),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in [ObjectKind::User, ObjectKind::Group] {
            assert_eq!(kind_from_name(kind_name(kind)), Some(kind));
        }
        for state in [ShadowState::Active, ShadowState::Disabled] {
            assert_eq!(state_from_name(state_name(state)), Some(state));
        }
        for origin in [Origin::Created, Origin::Matched] {
            assert_eq!(origin_from_name(origin_name(origin)), Some(origin));
        }
        assert_eq!(kind_from_name("user"), None);
    }

    #[test]
    fn the_tighter_of_until_and_the_cursor_bounds_a_page() {
        let before = |at: i64| Some((at, "c".to_owned()));
        assert_eq!(LogUpper::new(None, None), None);
        assert_eq!(LogUpper::new(Some(5), None), Some(LogUpper::Until(5)));
        assert_eq!(LogUpper::new(None, before(5)), Some(LogUpper::Before(5, "c".into())));
        // The cursor's millisecond is within `until`: the cursor excludes the rest.
        assert_eq!(LogUpper::new(Some(5), before(5)), Some(LogUpper::Before(5, "c".into())));
        assert_eq!(LogUpper::new(Some(6), before(5)), Some(LogUpper::Before(5, "c".into())));
        // `until` is older than the cursor: it excludes everything the cursor does, and more.
        assert_eq!(LogUpper::new(Some(4), before(5)), Some(LogUpper::Until(4)));
    }
}
