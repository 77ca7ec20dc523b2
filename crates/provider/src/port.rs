//! The storage ports of the service provider. The `roster-store` crate implements them for SQLite and
//! PostgreSQL; the provider and the HTTP front end hold them as `Arc<dyn …>`.
//!
//! Contract for implementations:
//! - every method is atomic: on error nothing is changed;
//! - `update` runs its closure inside the write transaction, on the current row, so concurrent read-modify-write
//!   requests never lose an update, even from several processes on one database; memberships change by rows (a
//!   delta touches only the rows it names);
//! - uniqueness (per enterprise): user `userName` (case-insensitive), user `externalId`, user login
//!   (case-insensitive), group `externalId`, group `displayName` (case-insensitive). A violation is
//!   [`StoreError::Conflict`];
//! - queries answer exactly what [`roster_scim_proto::filter::Filter::matches`] answers on the rendered
//!   resource (see [`crate::render::filterable`]), whatever part of the filter runs in SQL.

use async_trait::async_trait;
use roster_scim_proto::ScimError;
use roster_scim_proto::filter::Filter;
use roster_scim_proto::path::AttrPath;
use roster_scim_proto::schema::ResourceType;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::emu;
use crate::tenant::{Enterprise, EnterpriseId, EnterpriseSlug, Profile, Scope, Shortcode, TokenHash, TokenRecord};

/// The two SCIM resource kinds the provider serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// `/Users`.
    User,
    /// `/Groups`.
    Group,
}

impl ResourceKind {
    /// The resource type stores evaluate filters with: GitHub EMU's variant of RFC 7643, a superset of the plain
    /// RFC types (the same attributes, comparison rules and case rules, plus the read-only GitHub extension).
    pub fn resource_type(self) -> &'static ResourceType {
        self.resource_type_in(Profile::GithubEmu)
    }

    /// The resource type an enterprise of this profile serves and validates with.
    pub fn resource_type_in(self, profile: Profile) -> &'static ResourceType {
        match (profile, self) {
            (Profile::GithubEmu, ResourceKind::User) => &emu::USER,
            (Profile::GithubEmu, ResourceKind::Group) => &emu::GROUP,
            (Profile::Scim, ResourceKind::User) => &roster_scim_proto::schema::USER,
            (Profile::Scim, ResourceKind::Group) => &roster_scim_proto::schema::GROUP,
        }
    }

    /// `User` or `Group`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::User => "User",
            ResourceKind::Group => "Group",
        }
    }

    /// `Users` or `Groups`, the endpoint's last segment.
    pub fn endpoint(self) -> &'static str {
        match self {
            ResourceKind::User => "Users",
            ResourceKind::Group => "Groups",
        }
    }
}

/// A member of a group, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRef {
    /// The member's SCIM id.
    pub id: String,
    /// Whether the member is a user or a group.
    pub kind: ResourceKind,
    /// The member's displayName, when it has one.
    pub display: Option<String>,
}

/// A group a user belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRef {
    /// The group's SCIM id.
    pub id: String,
    /// The group's displayName.
    pub display: Option<String>,
}

/// A stored user or group.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResource {
    /// The SCIM id.
    pub id: String,
    /// The client-writable attributes in canonical form, without `id`, `meta`, `groups` and `members`.
    pub attributes: Map<String, Value>,
    /// When the resource was created.
    pub created: OffsetDateTime,
    /// When it last changed.
    pub last_modified: OffsetDateTime,
    /// A counter that grows with every change; the ETag is `W/"{version}"`.
    pub version: i64,
    /// For users, the GitHub login.
    pub login: Option<String>,
    /// For groups, the members, when they were asked for.
    pub members: Option<Vec<MemberRef>>,
    /// For users, the groups, when they were asked for.
    pub groups: Option<Vec<GroupRef>>,
}

/// A resource to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewResource {
    /// The SCIM id, chosen by the provider.
    pub id: String,
    /// The attributes in canonical form, without `id`, `meta`, `groups` and `members`.
    pub attributes: Map<String, Value>,
    /// For users, the GitHub login.
    pub login: Option<String>,
    /// For groups, the ids of the initial members.
    pub members: Vec<String>,
    /// The creation time.
    pub at: OffsetDateTime,
}

/// How an update changes a group's members.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum MembershipChange {
    /// Members stay as they are.
    #[default]
    Unchanged,
    /// Add and remove the named members (adding a present member or removing an absent one is no error).
    Delta {
        /// Ids to add.
        add: Vec<String>,
        /// Ids to remove.
        remove: Vec<String>,
    },
    /// The members become exactly these.
    Replace(Vec<String>),
}

/// The outcome of an update closure.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    /// The new attributes (the whole set).
    pub attributes: Map<String, Value>,
    /// For users, the new login.
    pub login: Option<String>,
    /// For groups, the membership change.
    pub members: MembershipChange,
    /// The modification time.
    pub at: OffsetDateTime,
}

/// The closure of [`ResourceStore::update`]: it sees the current resource and returns the change, or refuses.
pub type UpdateFn = Box<dyn FnOnce(&StoredResource) -> Result<Update, ScimError> + Send>;

/// The closure of [`ResourceStore::delete`]: it sees the current resource and may refuse (for `If-Match`).
pub type CheckFn = Box<dyn FnOnce(&StoredResource) -> Result<(), ScimError> + Send>;

/// What to load with a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Relations {
    /// Load a group's members or a user's groups.
    pub load: bool,
}

/// A list query.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceQuery {
    /// The filter, already checked against the resource type.
    pub filter: Option<Filter>,
    /// The sort attribute.
    pub sort_by: Option<AttrPath>,
    /// Whether to sort descending.
    pub descending: bool,
    /// The 1-based index of the first result.
    pub start_index: usize,
    /// The largest number of results to return.
    pub count: usize,
    /// Whether to load members (groups) or groups (users) of the returned resources.
    pub relations: Relations,
}

/// One page of a list query.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// How many resources match in all.
    pub total_results: usize,
    /// The resources of this page.
    pub resources: Vec<StoredResource>,
}

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    /// The resource (or enterprise, or token) does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness constraint was violated.
    #[error("{attribute} {value:?} is already in use")]
    Conflict {
        /// The attribute, as SCIM names it (`userName`, `externalId`, `login`, `displayName`, `slug`, `shortcode`).
        attribute: &'static str,
        /// The value.
        value: String,
    },
    /// A group member does not exist in the enterprise.
    #[error("member {0:?} is not a user or group of this enterprise")]
    UnknownMember(String),
    /// The update or check closure refused.
    #[error(transparent)]
    Rejected(ScimError),
    /// The storage backend failed.
    #[error("storage failure: {0}")]
    Backend(String),
}

/// Enterprises and tokens.
#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Creates an enterprise; `Conflict` on a taken slug or shortcode.
    async fn create_enterprise(
        &self,
        slug: &EnterpriseSlug,
        shortcode: &Shortcode,
        profile: Profile,
    ) -> Result<Enterprise, StoreError>;
    /// The enterprise with this slug.
    async fn enterprise(&self, slug: &EnterpriseSlug) -> Result<Option<Enterprise>, StoreError>;
    /// All enterprises, by slug.
    async fn enterprises(&self) -> Result<Vec<Enterprise>, StoreError>;
    /// Stores a token's digest; returns its id.
    async fn create_token(
        &self,
        enterprise: EnterpriseId,
        name: &str,
        scopes: &[Scope],
        hash: TokenHash,
    ) -> Result<i64, StoreError>;
    /// The token with this digest (revoked ones included, flagged).
    async fn token_by_hash(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError>;
    /// The tokens of an enterprise.
    async fn tokens(&self, enterprise: EnterpriseId) -> Result<Vec<TokenRecord>, StoreError>;
    /// Revokes a token; `NotFound` when the enterprise has no such token.
    async fn revoke_token(&self, enterprise: EnterpriseId, token_id: i64) -> Result<(), StoreError>;
    /// Records that a token authenticated a request at `at` (a later use than the one stored only).
    async fn touch_token(&self, token_id: i64, at: OffsetDateTime) -> Result<(), StoreError>;
}

/// Users and groups of an enterprise, with their memberships.
#[async_trait]
pub trait ResourceStore: Send + Sync {
    /// Creates a resource (and, for a group, its initial memberships).
    async fn create(
        &self,
        enterprise: EnterpriseId,
        kind: ResourceKind,
        new: NewResource,
        relations: Relations,
    ) -> Result<StoredResource, StoreError>;
    /// The resource with this id.
    async fn get(
        &self,
        enterprise: EnterpriseId,
        kind: ResourceKind,
        id: &str,
        relations: Relations,
    ) -> Result<Option<StoredResource>, StoreError>;
    /// A page of resources.
    async fn query(
        &self,
        enterprise: EnterpriseId,
        kind: ResourceKind,
        query: &ResourceQuery,
    ) -> Result<Page, StoreError>;
    /// Changes a resource atomically. `load_members` asks for the group's members to be loaded for the closure.
    async fn update(
        &self,
        enterprise: EnterpriseId,
        kind: ResourceKind,
        id: &str,
        load_members: bool,
        change: UpdateFn,
        relations: Relations,
    ) -> Result<StoredResource, StoreError>;
    /// Deletes a resource and its memberships (as group and as member).
    async fn delete(
        &self,
        enterprise: EnterpriseId,
        kind: ResourceKind,
        id: &str,
        check: CheckFn,
    ) -> Result<(), StoreError>;
}
