//! The operations of the service provider, as the HTTP front end calls them: authenticate, create, read, list,
//! replace, patch, delete. Each write is one atomic store call; a refused request changes nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use roster_scim_proto::filter::Filter;
use roster_scim_proto::patch::{PatchOpKind, PatchOperation, apply_patch, parse_patch};
use roster_scim_proto::path::AttrPath;
use roster_scim_proto::query::{ListQuery, SortOrder};
use roster_scim_proto::resource::{apply_put, at_most_one_primary, canonicalize, validate_required};
use roster_scim_proto::{ScimError, ScimType};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::clock::Clock;
use crate::emu;
use crate::login::normalize_login;
use crate::port::{
    MemberRef, MembershipChange, NewResource, Page, Relations, ResourceKind, ResourceQuery, ResourceStore, StoreError,
    StoredResource, TenantStore, Update,
};
use crate::render::{etag, member_entry};
use crate::tenant::{Enterprise, EnterpriseSlug, Profile, TokenHash, TokenRecord};
use crate::token_cache::TokenCache;

/// Limits the provider enforces and advertises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The page size when the client gives no `count`.
    pub default_page_size: usize,
    /// The largest page the provider returns (`filter.maxResults` in `/ServiceProviderConfig`).
    pub max_page_size: usize,
    /// The largest filter, in bytes.
    pub max_filter_len: usize,
    /// How long a verified token is trusted without reading it again (a revocation by another process takes
    /// effect within this time); zero disables the cache.
    pub token_cache_ttl: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // GitHub's default `count` (reference §2.2).
            default_page_size: 30,
            max_page_size: 1000,
            max_filter_len: 4096,
            token_cache_ttl: std::time::Duration::from_secs(2),
        }
    }
}

/// The service provider: the ports and the rules.
#[derive(Clone)]
pub struct Provider {
    tenants: Arc<dyn TenantStore>,
    resources: Arc<dyn ResourceStore>,
    clock: Arc<dyn Clock>,
    limits: Limits,
    tokens: Arc<TokenCache>,
}

/// The conditions of a write or read request (`If-Match`, `If-None-Match`), as raw header values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preconditions {
    /// The `If-Match` header.
    pub if_match: Option<String>,
    /// The `If-None-Match` header.
    pub if_none_match: Option<String>,
}

impl Preconditions {
    /// Refuses with 412 when the resource's version does not satisfy the conditions of a write.
    pub fn check_write(&self, version: i64) -> Result<(), ScimError> {
        if let Some(if_match) = &self.if_match
            && !etag_list_matches(if_match, version)
        {
            return Err(ScimError::status(
                412,
                format!("If-Match {if_match} does not match the current version {}", etag(version)),
            ));
        }
        if let Some(if_none_match) = &self.if_none_match
            && etag_list_matches(if_none_match, version)
        {
            return Err(ScimError::status(412, format!("If-None-Match {if_none_match} matches the current version")));
        }
        Ok(())
    }

    /// Whether a read should be answered 304 Not Modified.
    pub fn not_modified(&self, version: i64) -> bool {
        self.if_none_match.as_deref().is_some_and(|header| etag_list_matches(header, version))
    }
}

/// Whether an `If-Match`-style header (`*`, or a comma-separated list of strong or weak ETags) names the version.
/// Comparison is weak (RFC 7232 §2.3.2): `W/"3"` and `"3"` name the same version.
fn etag_list_matches(header: &str, version: i64) -> bool {
    let want = version.to_string();
    header.split(',').map(str::trim).any(|tag| {
        if tag == "*" {
            return true;
        }
        let tag = tag.strip_prefix("W/").unwrap_or(tag);
        tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')) == Some(want.as_str())
    })
}

/// What the caller asked to see of a resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    /// `attributes`.
    pub attributes: Vec<AttrPath>,
    /// `excludedAttributes`.
    pub excluded: Vec<AttrPath>,
}

impl Projection {
    /// Whether the derived relation (`members` of a group, `groups` of a user) will be returned, so that the store
    /// loads it only then: this is the `excludedAttributes=members` fast path.
    pub fn relations(&self, kind: ResourceKind) -> Relations {
        let name = match kind {
            ResourceKind::User => "groups",
            ResourceKind::Group => "members",
        };
        // `members`, `urn:...:core:2.0:Group:members`, or the core schema URN as a whole (which names all of its
        // attributes) all ask for the relation.
        let core = kind.resource_type().schema.id;
        let names = |paths: &[AttrPath]| {
            paths.iter().any(|p| {
                p.name.eq_ignore_ascii_case(name) || p.full_urn().is_some_and(|urn| urn.eq_ignore_ascii_case(core))
            })
        };
        let load = if self.attributes.is_empty() { !names(&self.excluded) } else { names(&self.attributes) };
        Relations { load }
    }
}

impl Provider {
    /// A provider over the given ports.
    pub fn new(
        tenants: Arc<dyn TenantStore>,
        resources: Arc<dyn ResourceStore>,
        clock: Arc<dyn Clock>,
        limits: Limits,
    ) -> Self {
        let tokens = Arc::new(TokenCache::new(limits.token_cache_ttl));
        Self { tenants, resources, clock, limits, tokens }
    }

    /// The limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The tenant store, for administration commands.
    pub fn tenants(&self) -> &Arc<dyn TenantStore> {
        &self.tenants
    }

    /// Resolves the enterprise of a request and checks its bearer token:
    /// - no token, or a token that is unknown or revoked: 401;
    /// - a token of another enterprise, or an unknown enterprise: 404 (nothing leaks about other tenants);
    /// - a token without a SCIM scope: 403.
    pub async fn authenticate(&self, slug: &str, bearer: Option<&str>) -> Result<Enterprise, ScimError> {
        let unauthorized = || ScimError::status(401, "a valid bearer token with the scim:enterprise scope is required");
        let secret = bearer.ok_or_else(unauthorized)?;
        let presented = TokenHash::of(secret);
        let now = self.clock.now();
        let (record, read) = match self.tokens.get(&presented, now) {
            Some(record) => (record, false),
            None => {
                let record =
                    self.tenants.token_by_hash(&presented).await.map_err(store_error)?.ok_or_else(unauthorized)?;
                (record, true)
            }
        };
        let verdict = Self::admits(&record, &presented, slug);
        if read {
            self.remember(record.clone(), now, verdict.is_ok()).await;
        }
        verdict?;
        Ok(record.enterprise)
    }

    /// Whether a token admits a request to the enterprise `slug` (see [`Provider::authenticate`]).
    fn admits(record: &TokenRecord, presented: &TokenHash, slug: &str) -> Result<(), ScimError> {
        if record.is_revoked() || !record.hash.matches(presented) {
            return Err(ScimError::status(401, "a valid bearer token with the scim:enterprise scope is required"));
        }
        let not_found = || ScimError::not_found(format!("enterprise {slug:?} not found"));
        let slug = EnterpriseSlug::parse(slug).map_err(|_| not_found())?;
        if record.enterprise.slug != slug {
            return Err(not_found());
        }
        if !record.scopes.iter().any(|scope| scope.grants_scim()) {
            return Err(ScimError::status(
                403,
                "the token lacks the scim:enterprise scope (or the legacy admin:enterprise scope)",
            ));
        }
        Ok(())
    }

    /// Caches a token just read from the store, first recording its use when the stored last use is older
    /// than [`crate::tenant::LAST_USED_PRECISION`] (so a busy token costs one write a minute, not one a request). A
    /// failure to record it does not refuse the request: the last use is for admins to read, not a check.
    async fn remember(&self, mut record: TokenRecord, now: OffsetDateTime, admitted: bool) {
        if admitted && record.use_is_news(now) && self.tenants.touch_token(record.id, now).await.is_ok() {
            record.last_used = Some(now);
        }
        self.tokens.put(record, now);
    }

    /// Creates a user or group from a POST body.
    pub async fn create(
        &self,
        enterprise: &Enterprise,
        kind: ResourceKind,
        body: &Value,
        relations: Relations,
    ) -> Result<StoredResource, ScimError> {
        let profile = enterprise.profile;
        let rt = kind.resource_type_in(profile);
        let mut attributes = canonicalize(body, rt)?;
        let members = take_member_ids(kind, &mut attributes)?;
        strip_unstored(&mut attributes);
        validate(profile, kind, &attributes)?;
        let login = login_for(enterprise, kind, &attributes)?;
        let new = NewResource { id: Uuid::new_v4().to_string(), attributes, login, members, at: self.clock.now() };
        self.resources.create(enterprise.id, kind, new, relations).await.map_err(store_error)
    }

    /// Reads one resource.
    pub async fn get(
        &self,
        enterprise: &Enterprise,
        kind: ResourceKind,
        id: &str,
        relations: Relations,
    ) -> Result<StoredResource, ScimError> {
        self.resources
            .get(enterprise.id, kind, id, relations)
            .await
            .map_err(store_error)?
            .ok_or_else(|| not_found(kind, id))
    }

    /// Lists resources.
    pub async fn list(
        &self,
        enterprise: &Enterprise,
        kind: ResourceKind,
        query: &ListQuery,
    ) -> Result<Page, ScimError> {
        let profile = enterprise.profile;
        let rt = kind.resource_type_in(profile);
        if let Some(filter) = &query.filter {
            filter.check(rt)?;
        }
        if let Some(sort_by) = &query.sort_by
            && rt.attribute(sort_by.urn.as_deref(), &sort_by.name).is_none()
        {
            return Err(ScimError::invalid_value(format!("sortBy names an unknown attribute {sort_by}")));
        }
        let projection =
            Projection { attributes: query.attributes.clone(), excluded: query.excluded_attributes.clone() };
        let store_query = ResourceQuery {
            filter: query.filter.clone(),
            sort_by: query.sort_by.clone(),
            descending: query.sort_order == SortOrder::Descending,
            start_index: query.start_index.max(1),
            count: query.count.unwrap_or(self.limits.default_page_size).min(self.limits.max_page_size),
            relations: projection.relations(kind),
        };
        self.resources.query(enterprise.id, kind, &store_query).await.map_err(store_error)
    }

    /// Replaces a resource with a PUT body (Okta-style: what is not supplied is removed, members included).
    pub async fn replace(
        &self,
        enterprise: &Enterprise,
        kind: ResourceKind,
        id: &str,
        body: &Value,
        preconditions: Preconditions,
        relations: Relations,
    ) -> Result<StoredResource, ScimError> {
        let profile = enterprise.profile;
        let rt = kind.resource_type_in(profile);
        let mut incoming = canonicalize(body, rt)?;
        let members = take_member_ids(kind, &mut incoming)?;
        let owner = enterprise.clone();
        let now = self.clock.now();
        let change: crate::port::UpdateFn = Box::new(move |current: &StoredResource| {
            preconditions.check_write(current.version)?;
            let mut attributes = apply_put(&current.attributes, incoming, rt)?;
            strip_unstored(&mut attributes);
            validate(profile, kind, &attributes)?;
            let login = login_for(&owner, kind, &attributes)?;
            let members = match kind {
                ResourceKind::Group => MembershipChange::Replace(members),
                ResourceKind::User => MembershipChange::Unchanged,
            };
            Ok(Update { attributes, login, members, at: now })
        });
        self.resources.update(enterprise.id, kind, id, false, change, relations).await.map_err(resource_error(kind, id))
    }

    /// Applies a PATCH body. Group membership operations become membership deltas (one row per member named);
    /// only forms that need the current members (filters on other member attributes) load them.
    pub async fn patch(
        &self,
        enterprise: &Enterprise,
        kind: ResourceKind,
        id: &str,
        body: &Value,
        preconditions: Preconditions,
        relations: Relations,
    ) -> Result<StoredResource, ScimError> {
        let profile = enterprise.profile;
        let rt = kind.resource_type_in(profile);
        let operations = parse_patch(body, rt)?;
        let plan = plan_membership(kind, operations)?;
        let load_members = plan.members.is_none();
        let directory =
            if load_members { self.describe(enterprise, &plan.attribute_ops).await? } else { BTreeMap::new() };
        let owner = enterprise.clone();
        let now = self.clock.now();
        let change: crate::port::UpdateFn = Box::new(move |current: &StoredResource| {
            preconditions.check_write(current.version)?;
            let mut attributes = current.attributes.clone();
            let members = match plan.members {
                Some(delta) => {
                    apply_patch(&mut attributes, &plan.attribute_ops, rt)?;
                    delta
                }
                None => {
                    // The slow path: the whole member list takes part in the PATCH, as RFC 7644 describes it, with
                    // each member as the client sees it (`display`, `type`), so that filters on those match, also
                    // on members added earlier in the same request.
                    let mut directory = directory;
                    directory
                        .extend(current.members.iter().flatten().map(|member| (member.id.clone(), member.clone())));
                    let current_members: Vec<Value> =
                        current.members.iter().flatten().map(|member| member_entry(member, None)).collect();
                    if !current_members.is_empty() {
                        attributes.insert("members".into(), Value::Array(current_members));
                    }
                    for operation in &plan.attribute_ops {
                        apply_patch(&mut attributes, std::slice::from_ref(operation), rt)?;
                        describe_members(&mut attributes, &directory);
                    }
                    MembershipChange::Replace(take_member_ids(kind, &mut attributes)?)
                }
            };
            strip_unstored(&mut attributes);
            validate(profile, kind, &attributes)?;
            let login = login_for(&owner, kind, &attributes)?;
            Ok(Update { attributes, login, members, at: now })
        });
        self.resources
            .update(enterprise.id, kind, id, load_members, change, relations)
            .await
            .map_err(resource_error(kind, id))
    }

    /// The members named in the values of membership operations, as stored (for their `display` and `type`);
    /// ids that name nothing are left out (the store refuses them later, with a clear error).
    async fn describe(
        &self,
        enterprise: &Enterprise,
        operations: &[PatchOperation],
    ) -> Result<BTreeMap<String, MemberRef>, ScimError> {
        let mut directory = BTreeMap::new();
        let named = operations
            .iter()
            .filter(|operation| is_members_path(operation))
            .flat_map(|operation| operation.element_values().into_iter().map(str::to_owned).collect::<Vec<_>>());
        for id in named {
            if directory.contains_key(&id) {
                continue;
            }
            for kind in [ResourceKind::User, ResourceKind::Group] {
                let found = self.resources.get(enterprise.id, kind, &id, Relations::default()).await;
                if let Some(stored) = found.map_err(store_error)? {
                    let display = stored.attributes.get("displayName").and_then(Value::as_str).map(str::to_owned);
                    directory.insert(id.clone(), MemberRef { id: id.clone(), kind, display });
                    break;
                }
            }
        }
        Ok(directory)
    }

    /// Deletes a resource permanently.
    pub async fn delete(
        &self,
        enterprise: &Enterprise,
        kind: ResourceKind,
        id: &str,
        preconditions: Preconditions,
    ) -> Result<(), ScimError> {
        let check: crate::port::CheckFn =
            Box::new(move |current: &StoredResource| preconditions.check_write(current.version));
        self.resources.delete(enterprise.id, kind, id, check).await.map_err(resource_error(kind, id))
    }
}

fn login_for(
    enterprise: &Enterprise,
    kind: ResourceKind,
    attributes: &Map<String, Value>,
) -> Result<Option<String>, ScimError> {
    if enterprise.profile != Profile::GithubEmu {
        return Ok(None);
    }
    match (kind, attributes.get("userName")) {
        (ResourceKind::User, Some(Value::String(user_name))) => {
            normalize_login(user_name, &enterprise.shortcode).map(Some)
        }
        _ => Ok(None),
    }
}

/// Removes what is never stored: `password` (EMU users sign in through the IdP; a password is accepted and
/// discarded, so no secret ever reaches the database).
fn strip_unstored(attributes: &mut Map<String, Value>) {
    attributes.remove("password");
}

fn validate(profile: Profile, kind: ResourceKind, attributes: &Map<String, Value>) -> Result<(), ScimError> {
    let rt = kind.resource_type_in(profile);
    validate_required(attributes, rt)?;
    at_most_one_primary(attributes, rt)?;
    match (profile, kind) {
        (Profile::GithubEmu, ResourceKind::User) => emu::check_user(attributes),
        (Profile::GithubEmu, ResourceKind::Group) => emu::check_group(attributes),
        (Profile::Scim, _) => Ok(()),
    }
}

/// Fills in `display` and `type` of the members that lack them (just added by the request) from the directory.
fn describe_members(attributes: &mut Map<String, Value>, directory: &BTreeMap<String, MemberRef>) {
    let Some(Value::Array(members)) = attributes.get_mut("members") else { return };
    for member in members {
        let Some(entry) = member.as_object_mut() else { continue };
        if entry.contains_key("display") {
            continue;
        }
        let known = entry.get("value").and_then(Value::as_str).and_then(|id| directory.get(id));
        if let Some(Value::Object(described)) = known.map(|member| member_entry(member, None)) {
            entry.extend(described);
        }
    }
}

/// Takes a group's `members` out of its attributes (members live in their own table) as a list of ids.
fn take_member_ids(kind: ResourceKind, attributes: &mut Map<String, Value>) -> Result<Vec<String>, ScimError> {
    if kind != ResourceKind::Group {
        return Ok(Vec::new());
    }
    match attributes.remove("members") {
        None => Ok(Vec::new()),
        Some(Value::Array(members)) => members.iter().map(member_id).collect(),
        Some(_) => Err(ScimError::invalid_value("members must be an array of {\"value\": id} objects")),
    }
}

fn member_id(member: &Value) -> Result<String, ScimError> {
    match member.get("value") {
        Some(Value::String(id)) if !id.is_empty() => Ok(id.clone()),
        _ => {
            Err(ScimError::invalid_value(format!("a member needs a string \"value\" (the member's id), got {member}")))
        }
    }
}

/// A PATCH split into attribute operations and a membership delta. `members` is `None` when some operation needs
/// the current member list (the slow path); then `attribute_ops` holds every operation.
struct MembershipPlan {
    attribute_ops: Vec<PatchOperation>,
    members: Option<MembershipChange>,
}

fn plan_membership(kind: ResourceKind, operations: Vec<PatchOperation>) -> Result<MembershipPlan, ScimError> {
    if kind != ResourceKind::Group {
        return Ok(MembershipPlan { attribute_ops: operations, members: Some(MembershipChange::Unchanged) });
    }
    let mut attribute_ops = Vec::new();
    let mut change = MembershipChange::Unchanged;
    for operation in &operations {
        if !is_members_path(operation) {
            attribute_ops.push(operation.clone());
            continue;
        }
        let Some(step) = membership_step(operation)? else {
            return Ok(MembershipPlan { attribute_ops: operations, members: None });
        };
        change = combine(change, step);
    }
    Ok(MembershipPlan { attribute_ops, members: Some(change) })
}

fn is_members_path(operation: &PatchOperation) -> bool {
    let attr = &operation.path.attr;
    attr.name.eq_ignore_ascii_case("members")
        && attr.urn.as_deref().is_none_or(|urn| urn.eq_ignore_ascii_case(emu::GROUP.schema.id))
}

/// One membership operation as a delta, or `None` when it can only be applied to the whole member list.
fn membership_step(operation: &PatchOperation) -> Result<Option<MembershipChange>, ScimError> {
    let path = &operation.path;
    if path.attr.sub_attr.is_some() || path.sub_attr.is_some() {
        return Ok(None);
    }
    let listed = || -> Result<Vec<String>, ScimError> {
        match &operation.value {
            Some(Value::Array(values)) => values.iter().map(member_id).collect(),
            Some(value @ Value::Object(_)) => Ok(vec![member_id(value)?]),
            Some(other) => Err(ScimError::invalid_value(format!("members value must be an array, got {other}"))),
            None => Ok(Vec::new()),
        }
    };
    let step = match (operation.op, &path.filter) {
        (PatchOpKind::Add, None) => MembershipChange::Delta { add: listed()?, remove: Vec::new() },
        (PatchOpKind::Replace, None) => MembershipChange::Replace(listed()?),
        (PatchOpKind::Remove, None) if operation.value.is_none() => MembershipChange::Replace(Vec::new()),
        (PatchOpKind::Remove, None) => MembershipChange::Delta { add: Vec::new(), remove: listed()? },
        (PatchOpKind::Remove, Some(filter)) => match ids_of_value_filter(filter) {
            Some(ids) => MembershipChange::Delta { add: Vec::new(), remove: ids },
            None => return Ok(None),
        },
        (PatchOpKind::Add | PatchOpKind::Replace, Some(_)) => return Ok(None),
    };
    Ok(Some(step))
}

/// The ids of a filter of the form `value eq "a" or value eq "b" ...`, or `None` for any other filter.
fn ids_of_value_filter(filter: &Filter) -> Option<Vec<String>> {
    use roster_scim_proto::filter::{CompValue, CompareOp};
    match filter {
        Filter::Compare(comparison)
            if comparison.op == CompareOp::Eq
                && comparison.path.urn.is_none()
                && comparison.path.sub_attr.is_none()
                && comparison.path.name.eq_ignore_ascii_case("value") =>
        {
            match &comparison.value {
                CompValue::String(id) => Some(vec![id.clone()]),
                _ => None,
            }
        }
        Filter::Or(left, right) => {
            let mut ids = ids_of_value_filter(left)?;
            ids.extend(ids_of_value_filter(right)?);
            Some(ids)
        }
        _ => None,
    }
}

/// Composes two membership changes applied one after the other.
fn combine(first: MembershipChange, then: MembershipChange) -> MembershipChange {
    use MembershipChange::{Delta, Replace, Unchanged};
    match (first, then) {
        (first, Unchanged) => first,
        (_, Replace(ids)) => Replace(ids),
        (Unchanged, delta) => delta,
        (Replace(mut ids), Delta { add, remove }) => {
            ids.retain(|id| !remove.contains(id));
            for id in add {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            Replace(ids)
        }
        (Delta { add: mut added, remove: mut removed }, Delta { add, remove }) => {
            added.retain(|id| !remove.contains(id));
            removed.retain(|id| !add.contains(id));
            added.extend(add);
            removed.extend(remove);
            Delta { add: added, remove: removed }
        }
    }
}

/// Maps a store failure on one resource, naming the resource when it does not exist.
fn resource_error(kind: ResourceKind, id: &str) -> impl FnOnce(StoreError) -> ScimError + '_ {
    move |error| match error {
        StoreError::NotFound => not_found(kind, id),
        other => store_error(other),
    }
}

fn not_found(kind: ResourceKind, id: &str) -> ScimError {
    ScimError::not_found(format!("{} {id:?} not found", kind.as_str()))
}

/// Maps a store failure to the SCIM answer.
pub fn store_error(error: StoreError) -> ScimError {
    match error {
        StoreError::NotFound => ScimError::not_found("not found"),
        StoreError::Conflict { attribute, value } => {
            ScimError::uniqueness(format!("{attribute} {value:?} is already in use in this enterprise"))
        }
        StoreError::UnknownMember(id) => ScimError {
            status: 400,
            scim_type: Some(ScimType::InvalidValue),
            detail: format!("member {id:?} is not a user or group of this enterprise; create it first"),
        },
        StoreError::Rejected(error) => error,
        StoreError::Backend(message) => ScimError::status(500, format!("storage failure: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_lists() {
        for (header, version, expected) in [
            ("*", 3, true),
            ("W/\"3\"", 3, true),
            ("\"3\"", 3, true),
            ("W/\"2\", W/\"3\"", 3, true),
            ("W/\"2\"", 3, false),
            ("3", 3, false),
            ("", 3, false),
        ] {
            assert_eq!(etag_list_matches(header, version), expected, "{header}");
        }
    }

    #[test]
    fn membership_changes_compose() {
        use MembershipChange::{Delta, Replace};
        let ids = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let delta = |a: &[&str], r: &[&str]| Delta { add: ids(a), remove: ids(r) };
        assert_eq!(combine(delta(&["a"], &[]), delta(&[], &["a"])), delta(&[], &["a"]));
        assert_eq!(combine(Replace(ids(&["a", "b"])), delta(&["c"], &["a"])), Replace(ids(&["b", "c"])));
        assert_eq!(combine(delta(&["a"], &[]), Replace(ids(&[]))), Replace(ids(&[])));
    }

    #[test]
    fn projection_decides_relations() {
        let path = |s: &str| AttrPath { urn: None, name: s.into(), sub_attr: None };
        let excluded = Projection { attributes: vec![], excluded: vec![path("members")] };
        assert!(!excluded.relations(ResourceKind::Group).load);
        assert!(Projection::default().relations(ResourceKind::Group).load);
        let only_name = Projection { attributes: vec![path("displayName")], excluded: vec![] };
        assert!(!only_name.relations(ResourceKind::Group).load);
    }
}
