//! Provisioning logs: one entry per object per cycle (or per on-demand run), immutable once written, shaped like
//! Microsoft Graph's `provisioningObjectSummary` so that admins recognise it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Whether an entry is about a user or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ObjectKind {
    /// A user.
    User,
    /// A group.
    Group,
}

impl ObjectKind {
    /// `User` or `Group`.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::User => "User",
            ObjectKind::Group => "Group",
        }
    }
}

/// What the engine did, or would have done, to the target object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    /// Created it.
    Create,
    /// Changed attributes or members.
    Update,
    /// Deleted it.
    Delete,
    /// Set `active` to false.
    Disable,
    /// A disable or delete held back by the accidental-deletion guard.
    StagedDelete,
    /// Nothing to send (for example the target already matches, or the object is out of scope).
    Other,
}

/// How it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    /// The target accepted the change.
    Success,
    /// The change failed.
    Failure,
    /// Nothing was done, on purpose.
    Skipped,
    /// Done, with something the admin should know.
    Warning,
}

/// The kind of a step, as Graph's `provisioningStepType` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StepKind {
    /// Reading the source object.
    Import,
    /// Deciding whether the object is in scope.
    Scoping,
    /// Finding the target object.
    Matching,
    /// Computing what to send.
    Processing,
    /// Resolving references (group members).
    ReferenceResolution,
    /// Sending it.
    Export,
}

/// One step of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Its kind.
    pub kind: StepKind,
    /// How it went.
    pub status: Status,
    /// One sentence.
    pub description: String,
    /// Name/value details (for example each scoping clause and its result).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<(String, String)>,
}

/// One changed target attribute. Values of secret attributes (an expression with `Redact`) are `[Redact]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModifiedProperty {
    /// The target attribute path.
    pub name: String,
    /// What the target held (as far as roster knows), or `None`.
    pub old: Option<String>,
    /// What roster sent, or `None` for a removal.
    pub new: Option<String>,
}

/// Who started the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Initiator {
    /// The scheduler or `roster sync`.
    System,
    /// An admin's on-demand run.
    User,
}

/// One provisioning log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// When the object's processing ended.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The application (the job is the application's provisioning job).
    pub application: String,
    /// The cycle's id.
    pub cycle: String,
    /// This entry's id, unique.
    pub change: String,
    /// User or group.
    pub kind: ObjectKind,
    /// The directory object id.
    pub source_id: String,
    /// A readable name of the source object (userPrincipalName or displayName).
    pub source_name: Option<String>,
    /// The target's SCIM id, when known.
    pub target_id: Option<String>,
    /// What was done.
    pub action: Action,
    /// How it went.
    pub status: Status,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The changed attributes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modified: Vec<ModifiedProperty>,
    /// Entra's error code for a failure (`EntryConflict`, `InvalidAnchor`, ...) or the reason of a skip.
    pub error_code: Option<String>,
    /// The reason, in words.
    pub error_reason: Option<String>,
    /// How long the object took, in milliseconds.
    pub duration_ms: u64,
    /// Who started the run.
    pub initiator: Initiator,
}

macro_rules! names {
    ($type:ty { $($variant:ident => $name:literal),* $(,)? }) => {
        impl $type {
            /// The name used in logs, on the command line and in the database.
            pub fn as_str(self) -> &'static str {
                match self { $(<$type>::$variant => $name),* }
            }

            /// Parses a name, ignoring case.
            pub fn parse(name: &str) -> Option<Self> {
                [$(<$type>::$variant),*].into_iter().find(|value| value.as_str().eq_ignore_ascii_case(name))
            }
        }

        impl std::fmt::Display for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

names!(Action { Create => "Create", Update => "Update", Delete => "Delete", Disable => "Disable",
    StagedDelete => "StagedDelete", Other => "Other" });
names!(Status { Success => "Success", Failure => "Failure", Skipped => "Skipped", Warning => "Warning" });
names!(StepKind { Import => "Import", Scoping => "Scoping", Matching => "Matching", Processing => "Processing",
    ReferenceResolution => "ReferenceResolution", Export => "Export" });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_ignoring_case() {
        for action in [Action::Create, Action::Update, Action::Delete, Action::Disable, Action::StagedDelete] {
            assert_eq!(Action::parse(&action.as_str().to_lowercase()), Some(action));
        }
        assert_eq!(Status::parse("FAILURE"), Some(Status::Failure));
        assert_eq!(Status::parse("failed"), None);
        assert_eq!(StepKind::parse("referenceresolution"), Some(StepKind::ReferenceResolution));
    }
}
