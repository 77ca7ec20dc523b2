//! Dry runs: a cycle's whole plan, computed without one write to the target, stored for review, and applied later
//! exactly as reviewed (`roster sync NAME --dry-run`, `roster sync NAME --apply-plan ID`).
//!
//! A plan is the list of write [`Operation`]s a cycle would send, each with the values it would change, plus
//! [`Note`]s for what a reviewer should see but is not a write (staged deletes, objects that would fail). Applying
//! a plan first computes it again: when the source, the target (what the matching queries find) or roster's own
//! state changed so that the operations differ, the plan is refused with the [`differences`], before any write.
//! While it applies, every write must be one of the plan's operations; a write the plan does not hold (a change
//! that slipped in between) stops the cycle instead of being sent.
//!
//! Pure: no I/O. The cycle records operations and notes ([`crate::cycle`]); the store keeps plans as JSON.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::log::{Action, ModifiedProperty, ObjectKind, Status};
use crate::state::{Counts, CycleKind};

/// How the ids a dry run gives the objects it would create begin.
pub const PLANNED_ID: &str = "planned-";

/// One write a cycle would send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    /// User or group.
    pub kind: ObjectKind,
    /// The directory object.
    pub source_id: String,
    /// Its name (user principal name, group display name), for the reviewer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    /// `Create`, `Update`, `Disable` or `Delete`.
    pub action: Action,
    /// The target object, `None` for a create (and for a group the plan itself creates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    /// The attributes it sets or removes, with their old and new values (secrets redacted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modified: Vec<ModifiedProperty>,
    /// Members it adds to a group (source ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members_added: Vec<String>,
    /// Members it removes from a group (source ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members_removed: Vec<String>,
}

impl Operation {
    /// What makes two operations the same write: the object, the action, the changed values and members. Not the
    /// target id (a plan does not know the ids of objects it would create) nor the display name.
    pub fn key(&self) -> String {
        let mut members_added = self.members_added.clone();
        let mut members_removed = self.members_removed.clone();
        members_added.sort();
        members_removed.sort();
        let mut modified: Vec<(&str, Option<&str>)> =
            self.modified.iter().map(|property| (property.name.as_str(), property.new.as_deref())).collect();
        modified.sort();
        serde_json::json!([self.kind, self.source_id, self.action, modified, members_added, members_removed])
            .to_string()
    }
}

/// Something a reviewer should see that is not a write: a staged delete, an object that would fail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// User or group.
    pub kind: ObjectKind,
    /// The directory object.
    pub source_id: String,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    /// What the cycle would log.
    pub action: Action,
    /// Failure, Skipped or Warning.
    pub status: Status,
    /// The error code (Entra's names), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Why, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A stored dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Its id.
    pub id: String,
    /// The application.
    pub application: String,
    /// When it was computed.
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// Initial or incremental.
    pub kind: CycleKind,
    /// The directory position the cycle would start from and read up to.
    pub from: i64,
    /// See `from`.
    pub to: i64,
    /// The definition digest it was computed with ([`crate::cycle::definition_digest`]).
    pub definition_digest: String,
    /// The target it was computed against: a plan applies only to the same tenant URL.
    #[serde(default)]
    pub tenant_url: String,
    /// The counters the cycle would end with (requests: the reads the dry run sent).
    pub counts: Counts,
    /// The writes, in the order the cycle would send them (users, groups, memberships, disables and deletes).
    pub operations: Vec<Operation>,
    /// What is not a write.
    #[serde(default)]
    pub notes: Vec<Note>,
    /// When it was applied, once it was.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub applied: Option<OffsetDateTime>,
}

/// How a plan computed again differs from the stored one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Differences {
    /// Planned operations the cycle would no longer send.
    pub missing: Vec<Operation>,
    /// Operations the cycle would now send that the plan does not hold.
    pub unexpected: Vec<Operation>,
}

impl Differences {
    /// Whether the two agree.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty()
    }
}

/// Compares the operations of a stored plan with those computed again, as multisets of [`Operation::key`].
pub fn differences(planned: &[Operation], now: &[Operation]) -> Differences {
    let mut remaining: BTreeMap<String, Vec<&Operation>> = BTreeMap::new();
    for operation in planned {
        remaining.entry(operation.key()).or_default().push(operation);
    }
    let mut unexpected = Vec::new();
    for operation in now {
        match remaining.get_mut(&operation.key()).and_then(Vec::pop) {
            Some(_) => {}
            None => unexpected.push(operation.clone()),
        }
    }
    let missing = remaining.into_values().flatten().cloned().collect();
    Differences { missing, unexpected }
}

/// The writes an apply may still send: each planned operation once. A group's membership write may also carry fewer
/// members than planned (a planned create that the target refused leaves its member out), never others.
#[derive(Debug, Clone, Default)]
pub struct Allowance {
    left: BTreeMap<String, usize>,
    /// Per group (source id): the members still allowed to be added and removed.
    members: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>,
}

impl Operation {
    /// Whether it changes a group's members only.
    fn is_membership(&self) -> bool {
        self.modified.is_empty() && !(self.members_added.is_empty() && self.members_removed.is_empty())
    }
}

impl Allowance {
    /// Every operation of a plan, once each.
    pub fn new(operations: &[Operation]) -> Allowance {
        let mut allowance = Allowance::default();
        for operation in operations {
            if operation.is_membership() {
                let (added, removed) = allowance.members.entry(operation.source_id.clone()).or_default();
                added.extend(operation.members_added.iter().cloned());
                removed.extend(operation.members_removed.iter().cloned());
            } else {
                *allowance.left.entry(operation.key()).or_insert(0) += 1;
            }
        }
        allowance
    }

    /// Takes this operation from what is left; false when the plan holds no (more) such operation.
    pub fn take(&mut self, operation: &Operation) -> bool {
        if operation.is_membership() {
            let Some((added, removed)) = self.members.get_mut(&operation.source_id) else { return false };
            let within = operation.members_added.iter().all(|member| added.contains(member))
                && operation.members_removed.iter().all(|member| removed.contains(member));
            if within {
                for member in &operation.members_added {
                    added.remove(member);
                }
                for member in &operation.members_removed {
                    removed.remove(member);
                }
            }
            return within;
        }
        match self.left.get_mut(&operation.key()) {
            Some(count) if *count > 0 => {
                *count -= 1;
                true
            }
            _ => false,
        }
    }
}

/// One line naming an operation's object: `User ada@contoso.example (00000000-...)`.
fn object(kind: ObjectKind, id: &str, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{} {name} ({id})", kind.as_str()),
        None => format!("{} {id}", kind.as_str()),
    }
}

/// The reviewable text of one operation: a header line, then one line per changed value or member.
pub fn render_operation(operation: &Operation, names: &dyn Fn(&str) -> Option<String>) -> String {
    let sign = match operation.action {
        Action::Create => '+',
        Action::Delete | Action::Disable => '-',
        _ => '~',
    };
    let action = match operation.action {
        Action::Create => "create",
        Action::Update if operation.modified.is_empty() => "update members of",
        Action::Update => "update",
        Action::Disable => "disable",
        Action::Delete => "delete",
        Action::StagedDelete => "stage",
        Action::Other => "touch",
    };
    let mut text =
        format!("{sign} {action} {}", object(operation.kind, &operation.source_id, operation.source_name.as_deref()));
    // A target id the dry run made up for an object it would create says nothing to the reviewer.
    if let Some(target) = operation.target_id.as_deref().filter(|target| !target.starts_with(PLANNED_ID)) {
        let _ = write!(text, " -> {target}");
    }
    text.push('\n');
    for property in &operation.modified {
        let show = |value: &Option<String>| value.as_deref().map_or("(none)".to_owned(), shown);
        let _ = match (&property.old, operation.action) {
            (None, Action::Create) => writeln!(text, "    {}: {}", property.name, show(&property.new)),
            _ => writeln!(text, "    {}: {} -> {}", property.name, show(&property.old), show(&property.new)),
        };
    }
    for (sign, members) in [('+', &operation.members_added), ('-', &operation.members_removed)] {
        for member in members {
            let name = names(member).unwrap_or_else(|| member.clone());
            let _ = writeln!(text, "    members {sign} {name}");
        }
    }
    text
}

/// A value as the review shows it: booleans and numbers as they are, text quoted (so that empty text and spaces
/// show).
fn shown(value: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(value) {
        Ok(serde_json::Value::Bool(_) | serde_json::Value::Number(_)) => value.to_owned(),
        _ => format!("{value:?}"),
    }
}

/// The reviewable text of a note.
pub fn render_note(note: &Note) -> String {
    let what = match (note.action, note.status) {
        (Action::StagedDelete, _) => "staged (not sent)",
        (_, Status::Failure) => "would fail",
        (_, Status::Warning) => "warning",
        _ => "skipped",
    };
    let mut text = format!("! {what}: {}", object(note.kind, &note.source_id, note.source_name.as_deref()));
    if let Some(code) = &note.code {
        let _ = write!(text, " [{code}]");
    }
    if let Some(reason) = &note.reason {
        let _ = write!(text, ": {reason}");
    }
    text.push('\n');
    text
}

/// The whole plan for review: a summary, each operation, each note, written as it goes (a plan can hold 100,000
/// operations).
pub fn render(plan: &Plan, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let names: BTreeMap<&str, &str> = plan
        .operations
        .iter()
        .filter_map(|operation| operation.source_name.as_deref().map(|name| (operation.source_id.as_str(), name)))
        .collect();
    let lookup = |id: &str| names.get(id).map(|name| (*name).to_owned());
    let count = |action: Action| plan.operations.iter().filter(|operation| operation.action == action).count();
    write!(
        out,
        "Plan {} for {} ({} cycle, directory changes {}..{}), computed {}\n\
         {} creates, {} updates, {} disables, {} deletes, {} notes; {} reads sent, 0 writes\n\n",
        plan.id,
        plan.application,
        plan.kind.as_str().to_ascii_lowercase(),
        plan.from,
        plan.to,
        plan.created.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        count(Action::Create),
        count(Action::Update),
        count(Action::Disable),
        count(Action::Delete),
        plan.notes.len(),
        plan.counts.requests,
    )?;
    for operation in &plan.operations {
        out.write_all(render_operation(operation, &lookup).as_bytes())?;
    }
    for note in &plan.notes {
        out.write_all(render_note(note).as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operation(id: &str, action: Action, title: Option<&str>) -> Operation {
        Operation {
            kind: ObjectKind::User,
            source_id: id.to_owned(),
            source_name: Some(format!("{id}@example.com")),
            action,
            target_id: None,
            modified: title
                .map(|title| {
                    vec![ModifiedProperty { name: "title".to_owned(), old: None, new: Some(title.to_owned()) }]
                })
                .unwrap_or_default(),
            members_added: Vec::new(),
            members_removed: Vec::new(),
        }
    }

    #[test]
    fn differences_compare_operations_as_multisets() {
        let a = operation("a", Action::Create, Some("Engineer"));
        let b = operation("b", Action::Update, Some("Manager"));
        let b_other_value = operation("b", Action::Update, Some("Director"));
        let c = operation("c", Action::Disable, None);
        let with_target = Operation { target_id: Some("t-1".to_owned()), source_name: None, ..a.clone() };
        let ops = |operations: &[&Operation]| operations.iter().map(|operation| (*operation).clone()).collect();
        let cases: Vec<(Vec<Operation>, Vec<Operation>, usize, usize)> = vec![
            (ops(&[&a, &b]), ops(&[&b, &a]), 0, 0),             // order does not matter
            (ops(&[&a]), ops(&[&with_target]), 0, 0),           // nor the target id or the name
            (ops(&[&a, &b]), ops(&[&a, &b_other_value]), 1, 1), // a value changed
            (ops(&[&a]), ops(&[&a, &c]), 0, 1),                 // a new write
            (ops(&[&a, &c]), ops(&[&a]), 1, 0),                 // a write no longer needed
            (ops(&[&c, &c]), ops(&[&c]), 1, 0),                 // counted, not just present
        ];
        for (planned, now, missing, unexpected) in cases {
            let found = differences(&planned, &now);
            assert_eq!((found.missing.len(), found.unexpected.len()), (missing, unexpected), "{planned:?} vs {now:?}");
            assert_eq!(found.is_empty(), missing + unexpected == 0);
        }
    }

    #[test]
    fn an_allowance_lets_each_planned_write_through_once() {
        let a = operation("a", Action::Create, Some("Engineer"));
        let b = operation("b", Action::Update, Some("Manager"));
        let mut allowance = Allowance::new(&[a.clone(), b.clone()]);
        assert!(allowance.take(&a));
        assert!(!allowance.take(&a), "a second identical write is not in the plan");
        assert!(!allowance.take(&operation("b", Action::Update, Some("Director"))), "another value");
        assert!(allowance.take(&b));

        // Membership writes: fewer members than planned pass, others do not, and none twice.
        let members = |added: &[&str], removed: &[&str]| Operation {
            kind: ObjectKind::Group,
            source_id: "g".into(),
            source_name: None,
            action: Action::Update,
            target_id: None,
            modified: Vec::new(),
            members_added: added.iter().map(|id| (*id).to_owned()).collect(),
            members_removed: removed.iter().map(|id| (*id).to_owned()).collect(),
        };
        let mut allowance = Allowance::new(&[members(&["u1", "u2", "u3"], &["u9"])]);
        assert!(!allowance.take(&members(&["u1", "u4"], &[])), "u4 is not planned");
        assert!(allowance.take(&members(&["u1", "u3"], &["u9"])), "u2's create failed");
        assert!(!allowance.take(&members(&["u1"], &[])), "u1 was added already");
        assert!(allowance.take(&members(&["u2"], &[])));
    }

    #[test]
    fn the_review_text_shows_each_change() {
        let mut update = operation("b", Action::Update, None);
        update.target_id = Some("t-9".to_owned());
        update.modified =
            vec![ModifiedProperty { name: "title".into(), old: Some("Engineer".into()), new: Some("Manager".into()) }];
        let members = Operation {
            kind: ObjectKind::Group,
            source_id: "g".into(),
            source_name: Some("Engineering".into()),
            action: Action::Update,
            target_id: Some("t-g".into()),
            modified: Vec::new(),
            members_added: vec!["b".into()],
            members_removed: vec!["zz".into()],
        };
        let names = |id: &str| (id == "b").then(|| "b@example.com".to_owned());
        assert_eq!(
            render_operation(&update, &names),
            "~ update User b@example.com (b) -> t-9\n    title: \"Engineer\" -> \"Manager\"\n"
        );
        assert_eq!(
            render_operation(&members, &names),
            "~ update members of Group Engineering (g) -> t-g\n    members + b@example.com\n    members - zz\n"
        );
        let created = operation("a", Action::Create, Some("Engineer"));
        assert_eq!(render_operation(&created, &names), "+ create User a@example.com (a)\n    title: \"Engineer\"\n");
        let mut disabled = operation("c", Action::Disable, None);
        disabled.modified =
            vec![ModifiedProperty { name: "active".into(), old: Some("true".into()), new: Some("false".into()) }];
        assert_eq!(
            render_operation(&disabled, &names),
            "- disable User c@example.com (c)\n    active: true -> false\n"
        );
    }
}
