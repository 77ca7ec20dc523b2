//! Who is in scope of an application, counted over the directory as a cycle would decide it (entitled by an
//! assignment or by "sync all", passing the scoping filters, not soft-deleted and enabled), under the current
//! definition and a proposed one at once: the scoping filter editor's live "N in scope (+a, −b vs now)".

use roster_directory::ObjectId;
use roster_directory::port::{Assignment, DirectoryStore};

use crate::cycle::{CycleError, load_groups};
use crate::definition::{Definition, Scope};
use crate::entitlement::Entitlements;
use crate::scoping::CompiledScoping;
use crate::source::{GroupSource, UserSource};

/// Directory objects read per page while counting.
const PAGE: usize = 1000;

/// Users or groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Users.
    Users,
    /// Groups.
    Groups,
}

/// How a proposed definition changes who is in scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScopeChange {
    /// In scope under the current definition.
    pub now: u64,
    /// In scope under the proposed one.
    pub proposed: u64,
    /// In scope under the proposed definition and not now.
    pub added: u64,
    /// In scope now and not under the proposed definition.
    pub removed: u64,
    /// Objects read from the directory.
    pub read: u64,
}

impl ScopeChange {
    fn count(&mut self, now: bool, proposed: bool) {
        self.read += 1;
        self.now += u64::from(now);
        self.proposed += u64::from(proposed);
        self.added += u64::from(proposed && !now);
        self.removed += u64::from(now && !proposed);
    }
}

/// One definition's test of an object: its entitlements and its compiled scoping filters.
struct Test {
    entitlements: Entitlements,
    users: CompiledScoping,
    groups: CompiledScoping,
}

impl Test {
    /// The test of `kind` under `definition`, whose application has `assignments`: for users only the assigned
    /// groups (and those nested in them) are read, since with "sync all" every user is entitled anyway and only
    /// assignments bring roles; for groups, as a cycle reads them.
    async fn of(
        directory: &dyn DirectoryStore,
        definition: &Definition,
        kind: Kind,
        assignments: &[Assignment],
    ) -> Result<Test, CycleError> {
        let reading = if kind == Kind::Users { Scope::Assigned } else { definition.scope };
        let groups = load_groups(directory, reading, definition.include_nested_members, assignments).await?;
        let entitlements = Entitlements::build(
            definition.scope,
            definition.include_nested_members,
            &definition.app_roles,
            assignments,
            &groups,
        );
        Ok(Test {
            entitlements,
            users: CompiledScoping::compile(&definition.users.scoping_filters)?,
            groups: CompiledScoping::compile(&definition.groups.scoping_filters)?,
        })
    }

    fn user(&self, user: &roster_directory::User) -> bool {
        let Some(roles) = self.entitlements.user(user.id()) else { return false };
        user.deleted_date_time.is_none()
            && user.account_enabled
            && self.users.passes(&UserSource { user, is_soft_deleted: false, roles })
    }

    fn group(&self, group: &roster_directory::Group) -> bool {
        self.entitlements.group(group.id()) && self.groups.passes(&GroupSource { group, is_soft_deleted: false })
    }
}

/// Counts the users or groups in scope under `current` and under `proposed` (the same application: its
/// assignments are read once), reading the directory a page at a time.
pub async fn compare(
    directory: &dyn DirectoryStore,
    current: &Definition,
    proposed: &Definition,
    kind: Kind,
) -> Result<ScopeChange, CycleError> {
    // One application: its assignments are read once, for both definitions.
    let assignments = directory.assignments(&current.name).await?;
    let now = Test::of(directory, current, kind, &assignments).await?;
    let then = Test::of(directory, proposed, kind, &assignments).await?;
    let mut change = ScopeChange::default();
    let mut after: Option<ObjectId> = None;
    loop {
        let read = match kind {
            Kind::Users => {
                let page = directory.users_after(after.as_ref(), PAGE).await?;
                for user in &page {
                    change.count(now.user(user), then.user(user));
                }
                page.last().map(|user| (user.id().clone(), page.len()))
            }
            Kind::Groups => {
                let page = directory.groups_after(after.as_ref(), PAGE).await?;
                for group in &page {
                    change.count(now.group(group), then.group(group));
                }
                page.last().map(|group| (group.id().clone(), page.len()))
            }
        };
        match read {
            Some((last, len)) if len == PAGE => after = Some(last),
            _ => return Ok(change),
        }
    }
}

/// A user's app roles in the application (direct and through groups), and whether the user is in its scope;
/// `None` when the user is not entitled (not assigned, with "sync assigned" scope).
pub async fn user_roles(
    directory: &dyn DirectoryStore,
    definition: &Definition,
    user: &roster_directory::User,
) -> Result<Option<(Vec<roster_expr::AppRoleAssignment>, bool)>, CycleError> {
    let assignments = directory.assignments(&definition.name).await?;
    let test = Test::of(directory, definition, Kind::Users, &assignments).await?;
    Ok(test.entitlements.user(user.id()).map(|roles| (roles.to_vec(), test.user(user))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_counts_who_comes_and_goes() {
        let mut change = ScopeChange::default();
        for (now, proposed) in [(true, true), (true, false), (false, true), (false, false), (false, true)] {
            change.count(now, proposed);
        }
        assert_eq!(change, ScopeChange { now: 2, proposed: 3, added: 2, removed: 1, read: 5 });
    }
}
