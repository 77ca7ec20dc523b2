//! Assignment scope: which users and groups an application's assignments entitle, and with which app roles. Pure:
//! the cycle loads the assignments and the groups they need, this module decides.
//!
//! With "assigned" scope a user is entitled when assigned directly or when a direct member of an assigned group
//! (Entra reads direct members only); `include_nested_members` also entitles users of groups nested in an
//! assigned group, at any depth, and flattens them into the assigned group's members (targets such as GitHub have
//! no nested groups). With "all" scope every user and group is entitled.

use std::collections::{HashMap, HashSet};

use roster_directory::port::{Assignment, PrincipalKind};
use roster_directory::{Group, ObjectId};
use roster_expr::AppRoleAssignment;

use crate::definition::{AppRole, Scope};

/// What an application's assignments entitle.
#[derive(Debug, Clone, Default)]
pub struct Entitlements {
    all: bool,
    nested: bool,
    users: HashMap<ObjectId, Vec<AppRoleAssignment>>,
    groups: HashSet<ObjectId>,
}

impl Entitlements {
    /// Builds the entitlements from the assignments and the groups they need (`groups` holds, by id, every
    /// assigned group and, with nesting, every group nested in one; with "all" scope it may be empty).
    pub fn build(
        scope: Scope,
        nested: bool,
        roles: &[AppRole],
        assignments: &[Assignment],
        groups: &HashMap<ObjectId, Group>,
    ) -> Entitlements {
        let mut entitlements =
            Entitlements { all: scope == Scope::All, nested, users: HashMap::new(), groups: HashSet::new() };
        for assignment in assignments {
            let role = assignment.role.as_deref().map(|value| app_role(roles, value));
            match assignment.kind {
                PrincipalKind::User => entitlements.entitle(&assignment.principal, role.as_ref()),
                PrincipalKind::Group => {
                    entitlements.groups.insert(assignment.principal.clone());
                    let Some(group) = groups.get(&assignment.principal) else { continue };
                    for member in members(group, groups, nested) {
                        entitlements.entitle(&member, role.as_ref());
                    }
                }
            }
        }
        for roles in entitlements.users.values_mut() {
            roles.sort();
            roles.dedup();
        }
        entitlements
    }

    fn entitle(&mut self, user: &ObjectId, role: Option<&AppRoleAssignment>) {
        let roles = self.users.entry(user.clone()).or_default();
        if let Some(role) = role {
            roles.push(role.clone());
        }
    }

    /// The user's app roles when the user is entitled (with "all" scope: every user, with the roles it was
    /// assigned, if any); `None` when not.
    pub fn user(&self, id: &ObjectId) -> Option<&[AppRoleAssignment]> {
        match self.users.get(id) {
            Some(roles) => Some(roles),
            None if self.all => Some(&[]),
            None => None,
        }
    }

    /// Whether the group is entitled (assigned, or every group with "all" scope).
    pub fn group(&self, id: &ObjectId) -> bool {
        self.all || self.groups.contains(id)
    }

    /// The assigned groups (empty with "all" scope unless groups were assigned too).
    pub fn assigned_groups(&self) -> impl Iterator<Item = &ObjectId> {
        self.groups.iter()
    }

    /// The members a target group should have, before scope: the group's direct members, or with nesting every
    /// member of nested groups too (groups themselves are not members of target groups).
    pub fn members(&self, group: &Group, groups: &HashMap<ObjectId, Group>) -> Vec<ObjectId> {
        members(group, groups, self.nested)
    }
}

/// The role named by `value` among the application's roles; an unknown value is passed through as its own id and
/// display name, so that a target still gets what the admin assigned.
fn app_role(roles: &[AppRole], value: &str) -> AppRoleAssignment {
    match roles.iter().find(|role| role.value == value) {
        Some(role) => AppRoleAssignment {
            id: role.id.clone(),
            value: role.value.clone(),
            display_name: role.display_name.clone(),
        },
        None => AppRoleAssignment { id: value.to_owned(), value: value.to_owned(), display_name: value.to_owned() },
    }
}

/// A group's members that are not groups known in `groups`; with `nested`, the members of nested groups too
/// (each group visited once, so cycles in the directory end).
fn members(group: &Group, groups: &HashMap<ObjectId, Group>, nested: bool) -> Vec<ObjectId> {
    let mut result = Vec::new();
    let mut seen_users = HashSet::new();
    let mut visited = HashSet::from([group.id().clone()]);
    let mut pending = vec![group];
    while let Some(current) = pending.pop() {
        for member in &current.members {
            match groups.get(member) {
                Some(inner) => {
                    if nested && visited.insert(member.clone()) {
                        pending.push(inner);
                    }
                }
                None => {
                    if seen_users.insert(member.clone()) {
                        result.push(member.clone());
                    }
                }
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> ObjectId {
        ObjectId::from_u128(n)
    }

    fn group(n: u128, members: &[u128]) -> Group {
        let mut group = Group::new(id(n), &format!("g{n}")).unwrap();
        group.members = members.iter().map(|m| id(*m)).collect();
        group
    }

    fn assignment(n: u128, kind: PrincipalKind, role: Option<&str>) -> Assignment {
        Assignment { principal: id(n), kind, role: role.map(str::to_owned) }
    }

    #[test]
    fn direct_group_and_nested_entitlement() {
        // Group 100 holds users 1, 2 and group 101; group 101 holds user 3 and group 100 (a cycle).
        let groups: HashMap<ObjectId, Group> =
            [group(100, &[1, 2, 101]), group(101, &[3, 100])].into_iter().map(|g| (g.id().clone(), g)).collect();
        let roles = [AppRole { id: "r-owner".into(), value: "owner".into(), display_name: "Owner".into() }];
        let assignments = [
            assignment(100, PrincipalKind::Group, Some("owner")),
            assignment(1, PrincipalKind::User, Some("custom")),
            assignment(5, PrincipalKind::User, None),
        ];
        let flat = Entitlements::build(Scope::Assigned, false, &roles, &assignments, &groups);
        let role_values = |e: &Entitlements, n: u128| {
            e.user(&id(n)).map(|roles| roles.iter().map(|role| role.value.clone()).collect::<Vec<_>>())
        };
        assert_eq!(role_values(&flat, 1), Some(vec!["custom".to_owned(), "owner".to_owned()]));
        assert_eq!(role_values(&flat, 2), Some(vec!["owner".to_owned()]));
        assert_eq!(role_values(&flat, 3), None);
        assert_eq!(role_values(&flat, 5), Some(vec![]));
        assert_eq!(role_values(&flat, 6), None);
        assert!(flat.group(&id(100)) && !flat.group(&id(101)));
        assert_eq!(flat.members(&groups[&id(100)], &groups), vec![id(1), id(2)]);

        let nested = Entitlements::build(Scope::Assigned, true, &roles, &assignments, &groups);
        assert_eq!(role_values(&nested, 3), Some(vec!["owner".to_owned()]));
        assert_eq!(nested.members(&groups[&id(100)], &groups), vec![id(1), id(2), id(3)]);

        let all = Entitlements::build(Scope::All, false, &roles, &[], &HashMap::new());
        assert_eq!(role_values(&all, 42), Some(vec![]));
        assert!(all.group(&id(7)));
    }
}
