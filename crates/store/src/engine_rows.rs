//! The names both backends store for the engine's enums (object kinds, shadow states, origins), independent of the
//! database; see the conventions of the engine migrations.

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
}
