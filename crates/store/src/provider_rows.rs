//! The service provider's rows as both backends store them, independent of the database: enterprises and tokens
//! read back from their columns, a resource from its stored JSON and times, member kinds, and relations (a group's
//! members, a user's groups) attached to the resources they were loaded for. The SQLite and PostgreSQL modules
//! read and write these; what differs between them is only SQL.

use std::collections::HashMap;

use roster_provider::port::{
    GroupRef, MemberRef, MembershipChange, NewResource, ResourceKind, StoreError, StoredResource, Update,
};
use roster_provider::tenant::{
    Enterprise, EnterpriseId, EnterpriseSlug, Profile, Scope, Shortcode, TokenHash, TokenRecord,
};
use roster_scim_proto::ScimError;
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// A resource with its key (the table's integer primary key, which orders resources by creation).
pub(crate) type Keyed = (i64, StoredResource);

/// The stored code of a member that is a user.
pub(crate) const USER_MEMBER: i64 = 0;
/// The stored code of a member that is a group.
pub(crate) const GROUP_MEMBER: i64 = 1;

/// A member as stored: its kind's code and its key. Orders as members are listed: users first, then groups,
/// each in creation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Member {
    pub(crate) kind: i64,
    pub(crate) pk: i64,
}

/// The kind of a stored member code.
pub(crate) fn member_kind(code: i64) -> ResourceKind {
    if code == USER_MEMBER { ResourceKind::User } else { ResourceKind::Group }
}

/// Checks a member found for group `group_pk` under `id`: `UnknownMember` when there is none, a refusal when it
/// is the group itself.
pub(crate) fn checked_member(found: Option<Member>, group_pk: i64, id: &str) -> Result<Member, StoreError> {
    let member = found.ok_or_else(|| StoreError::UnknownMember(id.to_owned()))?;
    if member == (Member { kind: GROUP_MEMBER, pk: group_pk }) {
        return Err(StoreError::Rejected(ScimError::invalid_value(format!(
            "group {id:?} cannot be a member of itself"
        ))));
    }
    Ok(member)
}

/// A value read from the database that does not have the shape roster wrote.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("unexpected data in the database: {what}"))
}

/// A time from its stored Unix milliseconds.
pub(crate) fn from_millis(millis: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .map_err(|_| corrupt(format!("timestamp {millis} ms is out of range")))
}

/// A time as stored: Unix milliseconds, truncated towards the past.
pub(crate) fn to_millis(at: OffsetDateTime) -> Result<i64, StoreError> {
    i64::try_from(at.unix_timestamp_nanos().div_euclid(1_000_000))
        .map_err(|_| StoreError::Backend(format!("timestamp {at} is out of range")))
}

/// A time at the stored precision: Unix milliseconds, truncated towards the past.
pub(crate) fn stored_time(at: OffsetDateTime) -> Result<OffsetDateTime, StoreError> {
    let millis = i64::try_from(at.unix_timestamp_nanos().div_euclid(1_000_000))
        .map_err(|_| StoreError::Backend(format!("timestamp {at} is out of range")))?;
    from_millis(millis)
}

/// What a create stores: the resource (version 1, created and last modified at the create's time, a login for a
/// user only, no relations) and, for a group, the ids of its initial members.
pub(crate) fn created(kind: ResourceKind, new: NewResource) -> Result<(StoredResource, Vec<String>), StoreError> {
    let at = stored_time(new.at)?;
    let stored = StoredResource {
        id: new.id,
        attributes: new.attributes,
        created: at,
        last_modified: at,
        version: 1,
        login: if kind == ResourceKind::User { new.login } else { None },
        members: None,
        groups: None,
    };
    Ok((stored, new.members))
}

/// What an update of `current` stores: the closure's attributes (and login, for a user), the next version, the
/// update's time (no relations); and the membership change, for a group.
pub(crate) fn updated(
    kind: ResourceKind,
    current: &StoredResource,
    update: Update,
) -> Result<(StoredResource, MembershipChange), StoreError> {
    let stored = StoredResource {
        id: current.id.clone(),
        attributes: update.attributes,
        created: current.created,
        last_modified: stored_time(update.at)?,
        version: current.version + 1,
        login: if kind == ResourceKind::User { update.login } else { None },
        members: None,
        groups: None,
    };
    let members = if kind == ResourceKind::Group { update.members } else { MembershipChange::Unchanged };
    Ok((stored, members))
}

/// The columns of a resource row, borrowed from the row as the backend read it.
pub(crate) struct ResourceRow<'r> {
    pub(crate) id: String,
    /// The attributes as JSON text.
    pub(crate) data: &'r str,
    pub(crate) created: i64,
    pub(crate) last_modified: i64,
    pub(crate) version: i64,
    pub(crate) login: Option<String>,
}

impl ResourceRow<'_> {
    /// The resource, without relations.
    pub(crate) fn into_resource(self) -> Result<StoredResource, StoreError> {
        let attributes: Map<String, Value> = serde_json::from_str(self.data)
            .map_err(|error| corrupt(format!("the attributes of {:?} are not a JSON object: {error}", self.id)))?;
        Ok(StoredResource {
            id: self.id,
            attributes,
            created: from_millis(self.created)?,
            last_modified: from_millis(self.last_modified)?,
            version: self.version,
            login: self.login,
            members: None,
            groups: None,
        })
    }
}

/// The attributes of a resource as stored (`data`).
pub(crate) fn data_json(attributes: &Map<String, Value>) -> Result<String, StoreError> {
    serde_json::to_string(attributes).map_err(|error| StoreError::Backend(error.to_string()))
}

/// Relations loaded for several resources, to attach to them.
pub(crate) enum Loaded {
    /// `(group key, member)`, for groups.
    Members(Vec<(i64, MemberRef)>),
    /// `(user key, group)`, for users.
    Groups(Vec<(i64, GroupRef)>),
}

/// Attaches relations to the resources they were loaded for: each resource gets its own (`Some`, possibly
/// empty), in the order loaded.
pub(crate) fn attach(resources: &mut [Keyed], loaded: Loaded) {
    match loaded {
        Loaded::Members(rows) => {
            let mut by_key = group_by_key(rows);
            for (pk, resource) in resources.iter_mut() {
                resource.members = Some(by_key.remove(pk).unwrap_or_default());
            }
        }
        Loaded::Groups(rows) => {
            let mut by_key = group_by_key(rows);
            for (pk, resource) in resources.iter_mut() {
                resource.groups = Some(by_key.remove(pk).unwrap_or_default());
            }
        }
    }
}

fn group_by_key<T>(rows: Vec<(i64, T)>) -> HashMap<i64, Vec<T>> {
    let mut by_key: HashMap<i64, Vec<T>> = HashMap::new();
    for (pk, item) in rows {
        by_key.entry(pk).or_default().push(item);
    }
    by_key
}

/// Token scopes as stored: their names separated by spaces.
pub(crate) fn scopes_text(scopes: &[Scope]) -> String {
    scopes.iter().map(|scope| scope.as_str()).collect::<Vec<_>>().join(" ")
}

/// The conflict of a token digest that is already stored.
pub(crate) fn token_conflict(hash: &TokenHash) -> StoreError {
    StoreError::Conflict { attribute: "token", value: format!("{hash:?}") }
}

/// An enterprise as read, before its values are parsed.
pub(crate) struct EnterpriseRow {
    pub(crate) id: i64,
    pub(crate) slug: String,
    pub(crate) shortcode: String,
    pub(crate) profile: String,
}

impl EnterpriseRow {
    pub(crate) fn into_enterprise(self) -> Result<Enterprise, StoreError> {
        Ok(Enterprise {
            id: EnterpriseId(self.id),
            slug: EnterpriseSlug::parse(&self.slug).map_err(corrupt)?,
            shortcode: Shortcode::parse(&self.shortcode).map_err(corrupt)?,
            profile: Profile::parse(&self.profile).map_err(corrupt)?,
        })
    }
}

/// A token as read, with its enterprise, before its values are parsed.
pub(crate) struct TokenRow {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) scopes: String,
    pub(crate) hash: Vec<u8>,
    /// Unix milliseconds.
    pub(crate) created: i64,
    pub(crate) revoked: Option<i64>,
    pub(crate) last_used: Option<i64>,
    pub(crate) enterprise: EnterpriseRow,
}

impl TokenRow {
    pub(crate) fn into_record(self) -> Result<TokenRecord, StoreError> {
        let hash: [u8; 32] = self
            .hash
            .as_slice()
            .try_into()
            .map_err(|_| corrupt(format!("token {} has a digest of {} bytes", self.id, self.hash.len())))?;
        let scopes =
            self.scopes.split_whitespace().map(Scope::parse).collect::<Result<Vec<_>, _>>().map_err(corrupt)?;
        Ok(TokenRecord {
            id: self.id,
            enterprise: self.enterprise.into_enterprise()?,
            name: self.name,
            scopes,
            hash: TokenHash(hash),
            created: from_millis(self.created)?,
            revoked: self.revoked.map(from_millis).transpose()?,
            last_used: self.last_used.map(from_millis).transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(id: &str) -> Keyed {
        let row = ResourceRow { id: id.into(), data: "{}", created: 0, last_modified: 0, version: 1, login: None };
        (id.len() as i64, row.into_resource().unwrap())
    }

    #[test]
    fn relations_go_to_their_resources_in_order_and_missing_ones_are_empty() {
        let mut resources = [resource("a"), resource("bb"), resource("ccc")];
        let member = |id: &str| MemberRef { id: id.into(), kind: ResourceKind::User, display: None };
        attach(&mut resources, Loaded::Members(vec![(3, member("x")), (1, member("y")), (3, member("z"))]));
        let ids = |index: usize| -> Vec<String> {
            resources[index].1.members.as_ref().unwrap().iter().map(|m| m.id.clone()).collect()
        };
        assert_eq!((ids(0), ids(1), ids(2)), (vec!["y".to_owned()], vec![], vec!["x".to_owned(), "z".to_owned()]));
        assert!(resources.iter().all(|(_, resource)| resource.groups.is_none()));
    }

    #[test]
    fn a_group_is_not_its_own_member() {
        assert_eq!(checked_member(None, 1, "x"), Err(StoreError::UnknownMember("x".into())));
        assert!(matches!(
            checked_member(Some(Member { kind: GROUP_MEMBER, pk: 1 }), 1, "g"),
            Err(StoreError::Rejected(_))
        ));
        let user = Member { kind: USER_MEMBER, pk: 1 };
        assert_eq!(checked_member(Some(user), 1, "u"), Ok(user));
    }
}
