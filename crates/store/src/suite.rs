//! The backend-independent store test suite. Every backend runs it: each function takes the ports of a fresh,
//! empty database (`&dyn TenantStore`, `&dyn ResourceStore`; [`directory`]'s and [`audit`]'s take
//! `&dyn DirectoryStore`) and panics on the first wrong answer.
//!
//! Compiled for this crate's tests and with the `testing` feature, so that another backend's tests can depend on
//! `roster-store = { features = ["testing"] }` and call the same functions. Both backends run it from `tests/it`
//! (`suite` on SQLite, `postgres_provider` on PostgreSQL). [`agreement`] holds the property test's generators,
//! check and runner: the store's query answers exactly what `Filter::matches` answers on every stored resource.
#![allow(clippy::expect_used, clippy::unwrap_used, reason = "a test suite: a failure is a panic with a message")]

pub mod agreement;
pub mod audit;
pub mod directory;
pub mod engine;
pub mod paging;
pub mod postgres;

use std::sync::Arc;

use roster_provider::port::{
    MembershipChange, NewResource, Relations, ResourceKind, ResourceQuery, ResourceStore, StoreError, StoredResource,
    TenantStore, Update,
};
use roster_provider::tenant::{Enterprise, EnterpriseId, EnterpriseSlug, Profile, Scope, Shortcode, TokenHash};
use roster_scim_proto::ScimError;
use roster_scim_proto::filter::Filter;
use roster_scim_proto::path::AttrPath;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

const LOAD: Relations = Relations { load: true };
const NO_LOAD: Relations = Relations { load: false };

/// An instant `offset_ms` milliseconds after a fixed one (with a sub-millisecond part that the store drops).
pub fn at(offset_ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_000_000_000 + i128::from(offset_ms) * 1_000_000 + 123)
        .expect("a valid instant")
}

/// The command line acting `offset_ms` milliseconds after the fixed instant ([`at`]), with a fresh correlation id:
/// the actor of the directory's writes in the suite.
pub fn actor(offset_ms: i64) -> roster_directory::audit::Actor {
    use roster_directory::audit::{Actor, Initiator};
    Actor::new(Initiator::command_line("test"), at(offset_ms))
}

/// Creates an enterprise with this slug and shortcode.
pub async fn enterprise(tenants: &dyn TenantStore, slug: &str, shortcode: &str) -> Enterprise {
    let slug = EnterpriseSlug::parse(slug).expect("a valid slug");
    let shortcode = Shortcode::parse(shortcode).expect("a valid shortcode");
    tenants.create_enterprise(&slug, &shortcode, Profile::GithubEmu).await.expect("create the enterprise")
}

/// A new user with these attributes (which should not hold `schemas`; it is added).
pub fn new_user(id: &str, attributes: Value, login: Option<&str>) -> NewResource {
    let mut attributes = object(attributes);
    attributes.insert("schemas".into(), json!(["urn:ietf:params:scim:schemas:core:2.0:User"]));
    NewResource { id: id.into(), attributes, login: login.map(str::to_owned), members: Vec::new(), at: at(0) }
}

/// A new group with this displayName, externalId and members.
pub fn new_group(id: &str, display_name: &str, external_id: &str, members: &[&str]) -> NewResource {
    let attributes = object(json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": display_name,
        "externalId": external_id,
    }));
    NewResource {
        id: id.into(),
        attributes,
        login: None,
        members: members.iter().map(|id| (*id).to_owned()).collect(),
        at: at(0),
    }
}

/// A plain user: `userName`, `externalId` and `displayName` derived from `name`.
pub fn simple_user(id: &str, name: &str) -> NewResource {
    new_user(
        id,
        json!({"userName": name, "externalId": format!("ext-{name}"), "displayName": name, "active": true}),
        None,
    )
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("expected an object, got {other}"),
    }
}

/// A query for every resource, in pages of `count` from `start_index`.
pub fn page_query(filter: Option<&str>, start_index: usize, count: usize) -> ResourceQuery {
    ResourceQuery {
        filter: filter.map(|text| Filter::parse(text).expect("a valid filter")),
        sort_by: None,
        descending: false,
        start_index,
        count,
        relations: NO_LOAD,
    }
}

fn ids(resources: &[StoredResource]) -> Vec<&str> {
    resources.iter().map(|resource| resource.id.as_str()).collect()
}

fn set_attribute(name: &'static str, value: Value) -> roster_provider::port::UpdateFn {
    Box::new(move |current: &StoredResource| {
        let mut attributes = current.attributes.clone();
        attributes.insert(name.into(), value);
        Ok(Update { attributes, login: current.login.clone(), members: MembershipChange::Unchanged, at: at(1000) })
    })
}

fn change_members(members: MembershipChange) -> roster_provider::port::UpdateFn {
    Box::new(move |current: &StoredResource| {
        Ok(Update { attributes: current.attributes.clone(), login: None, members, at: at(2000) })
    })
}

fn delta(add: &[&str], remove: &[&str]) -> MembershipChange {
    let owned = |ids: &[&str]| ids.iter().map(|id| (*id).to_owned()).collect();
    MembershipChange::Delta { add: owned(add), remove: owned(remove) }
}

async fn member_ids(resources: &dyn ResourceStore, enterprise: EnterpriseId, group: &str) -> Vec<String> {
    let group = resources.get(enterprise, ResourceKind::Group, group, LOAD).await.unwrap().expect("the group exists");
    group.members.expect("members were loaded").into_iter().map(|member| member.id).collect()
}

/// Enterprises: create, look up, list by slug, conflicts on slug and (case-insensitive) shortcode; tokens:
/// create, look up by digest, list, revoke (idempotent), and `NotFound` for another enterprise's token.
pub async fn tenants_and_tokens(tenants: &dyn TenantStore) {
    let octo = enterprise(tenants, "octo-corp", "octo").await;
    let acme = enterprise(tenants, "acme", "acme1").await;
    assert_ne!(octo.id, acme.id);
    let slug = |s: &str| EnterpriseSlug::parse(s).unwrap();
    let code = |s: &str| Shortcode::parse(s).unwrap();
    assert_eq!(tenants.enterprise(&slug("octo-corp")).await.unwrap(), Some(octo.clone()));
    assert_eq!(tenants.enterprise(&slug("nobody")).await.unwrap(), None);
    assert_eq!(tenants.enterprises().await.unwrap(), vec![acme.clone(), octo.clone()]);
    assert_eq!(
        tenants.create_enterprise(&slug("octo-corp"), &code("other"), Profile::GithubEmu).await,
        Err(StoreError::Conflict { attribute: "slug", value: "octo-corp".into() })
    );
    assert_eq!(
        tenants.create_enterprise(&slug("octo2"), &code("OCTO"), Profile::Scim).await,
        Err(StoreError::Conflict { attribute: "shortcode", value: "OCTO".into() })
    );
    let plain = tenants.create_enterprise(&slug("plain"), &code("plain"), Profile::Scim).await.unwrap();
    assert_eq!(tenants.enterprise(&slug("plain")).await.unwrap(), Some(plain.clone()));
    assert_eq!(plain.profile, Profile::Scim);

    let first = TokenHash::of("roster_pat_first");
    let second = TokenHash::of("roster_pat_second");
    let first_id = tenants.create_token(octo.id, "ci", &[Scope::ScimEnterprise], first).await.unwrap();
    let second_id =
        tenants.create_token(octo.id, "admin", &[Scope::AdminEnterprise, Scope::ReadEnterprise], second).await.unwrap();
    let record = tenants.token_by_hash(&first).await.unwrap().expect("the token exists");
    assert_eq!(
        (
            record.id,
            record.enterprise.clone(),
            record.name.as_str(),
            record.scopes.clone(),
            record.hash,
            record.revoked,
            record.last_used
        ),
        (first_id, octo.clone(), "ci", vec![Scope::ScimEnterprise], first, None, None)
    );
    let age = OffsetDateTime::now_utc() - record.created;
    assert!(age >= -time::Duration::minutes(1) && age < time::Duration::minutes(10), "created now: {age}");
    // A use is recorded at the store's precision; an older one never replaces a newer one.
    let used = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    tenants.touch_token(first_id, used).await.unwrap();
    tenants.touch_token(first_id, used - time::Duration::hours(1)).await.unwrap();
    assert_eq!(tenants.token_by_hash(&first).await.unwrap().unwrap().last_used, Some(used));
    tenants.touch_token(9_999, used).await.unwrap();
    assert_eq!(tenants.token_by_hash(&TokenHash::of("unknown")).await.unwrap(), None);
    let listed = tenants.tokens(octo.id).await.unwrap();
    assert_eq!(listed.iter().map(|token| token.id).collect::<Vec<_>>(), vec![first_id, second_id]);
    assert_eq!(listed[1].scopes, vec![Scope::AdminEnterprise, Scope::ReadEnterprise]);
    assert!(tenants.tokens(acme.id).await.unwrap().is_empty());

    assert_eq!(tenants.revoke_token(acme.id, first_id).await, Err(StoreError::NotFound));
    tenants.revoke_token(octo.id, first_id).await.unwrap();
    tenants.revoke_token(octo.id, first_id).await.unwrap();
    let revoked = tenants.token_by_hash(&first).await.unwrap().unwrap().revoked.expect("revoked");
    assert!(revoked >= record.created, "revoked after it was made");
    assert!(!tenants.token_by_hash(&second).await.unwrap().unwrap().is_revoked());
    assert_eq!(tenants.revoke_token(octo.id, 9_999).await, Err(StoreError::NotFound));
    assert_eq!(
        tenants.create_token(EnterpriseId(9_999), "x", &[], TokenHash::of("orphan")).await,
        Err(StoreError::NotFound)
    );
}

/// Users and groups: create returns what get returns (times at millisecond precision, version 1), delete
/// removes, a refusing check keeps the resource, unknown ids are `NotFound`, enterprises do not see each other.
pub async fn create_get_delete(tenants: &dyn TenantStore, resources: &dyn ResourceStore) {
    let octo = enterprise(tenants, "octo", "octo").await.id;
    let acme = enterprise(tenants, "acme", "acme").await.id;
    let user = new_user(
        "u1",
        json!({"userName": "Ærø", "externalId": "e1", "displayName": "Ærø Ö", "active": true,
               "emails": [{"value": "a@x.org", "primary": true}]}),
        Some("r_octo"),
    );
    let created = resources.create(octo, ResourceKind::User, user.clone(), LOAD).await.unwrap();
    assert_eq!((created.version, created.login.as_deref()), (1, Some("r_octo")));
    assert_eq!(created.created.unix_timestamp_nanos() % 1_000_000, 0, "millisecond precision");
    assert_eq!(created.created, created.last_modified);
    assert_eq!(created.attributes, user.attributes);
    assert_eq!(created.groups, Some(Vec::new()));
    let got = resources.get(octo, ResourceKind::User, "u1", LOAD).await.unwrap();
    assert_eq!(got.as_ref(), Some(&created));
    let without = resources.get(octo, ResourceKind::User, "u1", NO_LOAD).await.unwrap().unwrap();
    assert_eq!((without.groups, without.members), (None, None));
    assert_eq!(resources.get(acme, ResourceKind::User, "u1", NO_LOAD).await.unwrap(), None);
    assert_eq!(resources.get(octo, ResourceKind::Group, "u1", NO_LOAD).await.unwrap(), None);

    let group =
        resources.create(octo, ResourceKind::Group, new_group("g1", "Eng", "ge1", &["u1"]), LOAD).await.unwrap();
    let members = group.members.clone().unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(
        (members[0].id.as_str(), members[0].kind, members[0].display.as_deref()),
        ("u1", ResourceKind::User, Some("Ærø Ö"))
    );
    assert_eq!(resources.get(octo, ResourceKind::Group, "g1", LOAD).await.unwrap(), Some(group));

    let refuse: roster_provider::port::CheckFn = Box::new(|_| Err(ScimError::status(412, "no")));
    assert!(matches!(
        resources.delete(octo, ResourceKind::User, "u1", refuse).await,
        Err(StoreError::Rejected(error)) if error.status == 412
    ));
    assert!(resources.get(octo, ResourceKind::User, "u1", NO_LOAD).await.unwrap().is_some());
    assert_eq!(resources.delete(acme, ResourceKind::User, "u1", Box::new(|_| Ok(()))).await, Err(StoreError::NotFound));
    let seen = Arc::new(std::sync::Mutex::new(None));
    let seen_in_check = Arc::clone(&seen);
    let check: roster_provider::port::CheckFn = Box::new(move |current| {
        *seen_in_check.lock().unwrap() = Some(current.version);
        Ok(())
    });
    resources.delete(octo, ResourceKind::User, "u1", check).await.unwrap();
    assert_eq!(*seen.lock().unwrap(), Some(1));
    assert_eq!(resources.get(octo, ResourceKind::User, "u1", NO_LOAD).await.unwrap(), None);
    assert_eq!(member_ids(resources, octo, "g1").await, Vec::<String>::new());
    assert_eq!(resources.query(octo, ResourceKind::User, &page_query(None, 1, 10)).await.unwrap().total_results, 0);
    resources.delete(octo, ResourceKind::Group, "g1", Box::new(|_| Ok(()))).await.unwrap();
    assert_eq!(resources.get(octo, ResourceKind::Group, "g1", NO_LOAD).await.unwrap(), None);
    assert_eq!(
        resources.create(EnterpriseId(9_999), ResourceKind::User, simple_user("x", "x"), NO_LOAD).await,
        Err(StoreError::NotFound)
    );
}

/// Each uniqueness rule, within an enterprise (a conflict) and across enterprises (no conflict), on create and
/// on update; a failed write changes nothing.
pub async fn uniqueness(tenants: &dyn TenantStore, resources: &dyn ResourceStore) {
    let octo = enterprise(tenants, "octo", "octo").await.id;
    let acme = enterprise(tenants, "acme", "acme").await.id;
    let user = |id: &str, user_name: &str, external_id: &str, login: &str| {
        new_user(id, json!({"userName": user_name, "externalId": external_id, "displayName": "Same"}), Some(login))
    };
    resources.create(octo, ResourceKind::User, user("u1", "Straße", "E1", "Strasse_octo"), NO_LOAD).await.unwrap();
    for (candidate, attribute, value) in [
        (user("u2", "STRASSE", "E2", "l2"), None, ""),
        (user("u6", "straße", "E6", "l6"), Some("userName"), "straße"),
        (user("u7", "STRAßE", "E7", "l7"), Some("userName"), "STRAßE"),
        (user("u8", "other8", "E1", "l8"), Some("externalId"), "E1"),
        (user("u3", "other3", "e1", "l3"), None, ""),
        (user("u4", "other4", "E4", "strasse_OCTO"), Some("login"), "strasse_OCTO"),
        (user("u1", "other5", "E5", "l5"), Some("id"), "u1"),
    ] {
        let result = resources.create(octo, ResourceKind::User, candidate.clone(), NO_LOAD).await;
        match attribute {
            None => assert!(result.is_ok(), "{candidate:?}: {result:?}"),
            Some(attribute) => {
                assert_eq!(result, Err(StoreError::Conflict { attribute, value: value.into() }), "{candidate:?}");
            }
        }
    }
    // The same values in another enterprise are fine.
    resources.create(acme, ResourceKind::User, user("u1", "Straße", "E1", "Strasse_octo"), NO_LOAD).await.unwrap();

    let group = |id: &str, name: &str, external_id: &str| new_group(id, name, external_id, &[]);
    resources.create(octo, ResourceKind::Group, group("g1", "İstanbul Team", "G1"), NO_LOAD).await.unwrap();
    assert_eq!(
        resources.create(octo, ResourceKind::Group, group("g2", "i\u{307}stanbul team", "G2"), NO_LOAD).await,
        Err(StoreError::Conflict { attribute: "displayName", value: "i\u{307}stanbul team".into() })
    );
    assert_eq!(
        resources.create(octo, ResourceKind::Group, group("g2", "Other", "G1"), NO_LOAD).await,
        Err(StoreError::Conflict { attribute: "externalId", value: "G1".into() })
    );
    resources.create(octo, ResourceKind::Group, group("g2", "Other", "G2"), NO_LOAD).await.unwrap();
    resources.create(acme, ResourceKind::Group, group("g1", "İstanbul Team", "G1"), NO_LOAD).await.unwrap();
    // A user and a group may share a displayName or an externalId.
    resources.create(octo, ResourceKind::Group, group("g3", "Same", "E1"), NO_LOAD).await.unwrap();

    // Updates hit the same rules, and a refused update changes nothing.
    assert_eq!(
        resources
            .update(
                octo,
                ResourceKind::Group,
                "g2",
                false,
                set_attribute("displayName", json!("İSTANBUL TEAM")),
                NO_LOAD
            )
            .await,
        Err(StoreError::Conflict { attribute: "displayName", value: "İSTANBUL TEAM".into() })
    );
    let g2 = resources.get(octo, ResourceKind::Group, "g2", NO_LOAD).await.unwrap().unwrap();
    assert_eq!((g2.attributes["displayName"].as_str(), g2.version), (Some("Other"), 1));
    assert_eq!(
        resources
            .update(octo, ResourceKind::User, "u3", false, set_attribute("userName", json!("STRAßE")), NO_LOAD)
            .await,
        Err(StoreError::Conflict { attribute: "userName", value: "STRAßE".into() })
    );
    let renamed = resources
        .update(octo, ResourceKind::User, "u1", false, set_attribute("userName", json!("STRASSE-2")), NO_LOAD)
        .await
        .unwrap();
    assert_eq!(renamed.version, 2);
    resources
        .update(octo, ResourceKind::User, "u3", false, set_attribute("userName", json!("straße")), NO_LOAD)
        .await
        .unwrap();
}

/// Memberships: initial members (users and groups), unknown members, self-membership, deltas (idempotent, one
/// row each), replace, a user's groups, cascades on delete both ways.
pub async fn memberships(tenants: &dyn TenantStore, resources: &dyn ResourceStore) {
    let octo = enterprise(tenants, "octo", "octo").await.id;
    let acme = enterprise(tenants, "acme", "acme").await.id;
    for (id, name) in [("u1", "ann"), ("u2", "bob"), ("u3", "cy")] {
        resources.create(octo, ResourceKind::User, simple_user(id, name), NO_LOAD).await.unwrap();
    }
    resources.create(acme, ResourceKind::User, simple_user("a1", "ann"), NO_LOAD).await.unwrap();
    assert_eq!(
        resources.create(octo, ResourceKind::Group, new_group("g0", "Bad", "gx", &["u1", "a1"]), NO_LOAD).await,
        Err(StoreError::UnknownMember("a1".into()))
    );
    assert_eq!(resources.get(octo, ResourceKind::Group, "g0", NO_LOAD).await.unwrap(), None, "atomic create");
    assert!(matches!(
        resources.create(octo, ResourceKind::Group, new_group("g0", "Self", "gs", &["g0"]), NO_LOAD).await,
        Err(StoreError::Rejected(_))
    ));
    resources
        .create(octo, ResourceKind::Group, new_group("g1", "Eng", "ge1", &["u2", "u1", "u2"]), NO_LOAD)
        .await
        .unwrap();
    resources.create(octo, ResourceKind::Group, new_group("g2", "All", "ge2", &["g1", "u3"]), NO_LOAD).await.unwrap();
    assert_eq!(member_ids(resources, octo, "g1").await, ["u1", "u2"], "users in creation order");
    assert_eq!(member_ids(resources, octo, "g2").await, ["u3", "g1"], "users, then groups");
    let g2 = resources.get(octo, ResourceKind::Group, "g2", LOAD).await.unwrap().unwrap();
    let nested = &g2.members.unwrap()[1];
    assert_eq!((nested.kind, nested.display.as_deref()), (ResourceKind::Group, Some("Eng")));

    let updated = resources
        .update(octo, ResourceKind::Group, "g1", false, change_members(delta(&["u3", "u1"], &["u2", "nobody"])), LOAD)
        .await
        .unwrap();
    assert_eq!(updated.members.unwrap().iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["u1", "u3"]);
    assert_eq!(updated.version, 2);
    assert_eq!(
        resources
            .update(octo, ResourceKind::Group, "g1", false, change_members(delta(&["u2", "a1"], &[])), NO_LOAD)
            .await,
        Err(StoreError::UnknownMember("a1".into()))
    );
    assert_eq!(member_ids(resources, octo, "g1").await, ["u1", "u3"], "a failed update changes nothing");
    assert!(matches!(
        resources.update(octo, ResourceKind::Group, "g1", false, change_members(delta(&["g1"], &[])), NO_LOAD).await,
        Err(StoreError::Rejected(_))
    ));

    let seen = Arc::new(std::sync::Mutex::new(None));
    let seen_in_closure = Arc::clone(&seen);
    let replace: roster_provider::port::UpdateFn = Box::new(move |current: &StoredResource| {
        *seen_in_closure.lock().unwrap() = current.members.clone();
        Ok(Update {
            attributes: current.attributes.clone(),
            login: None,
            members: MembershipChange::Replace(vec!["u2".into(), "g2".into(), "u2".into()]),
            at: at(3000),
        })
    });
    resources.update(octo, ResourceKind::Group, "g1", true, replace, NO_LOAD).await.unwrap();
    let seen = seen.lock().unwrap().clone().expect("members loaded for the closure");
    assert_eq!(seen.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["u1", "u3"]);
    assert_eq!(member_ids(resources, octo, "g1").await, ["u2", "g2"]);
    let user = resources.get(octo, ResourceKind::User, "u3", LOAD).await.unwrap().unwrap();
    let groups = user.groups.unwrap();
    assert_eq!(groups.iter().map(|g| (g.id.as_str(), g.display.as_deref())).collect::<Vec<_>>(), [("g2", Some("All"))]);
    let user = resources.get(octo, ResourceKind::User, "u2", LOAD).await.unwrap().unwrap();
    assert_eq!(user.groups.unwrap().iter().map(|g| g.id.as_str()).collect::<Vec<_>>(), ["g1"]);

    // Deleting a member removes it from its groups; deleting a group removes its rows and its own memberships.
    resources.delete(octo, ResourceKind::User, "u2", Box::new(|_| Ok(()))).await.unwrap();
    assert_eq!(member_ids(resources, octo, "g1").await, ["g2"]);
    resources.delete(octo, ResourceKind::Group, "g2", Box::new(|_| Ok(()))).await.unwrap();
    assert_eq!(member_ids(resources, octo, "g1").await, Vec::<String>::new());
    let user = resources.get(octo, ResourceKind::User, "u3", LOAD).await.unwrap().unwrap();
    assert_eq!(user.groups, Some(Vec::new()));
    resources
        .update(octo, ResourceKind::Group, "g1", false, change_members(delta(&["u1"], &[])), NO_LOAD)
        .await
        .unwrap();
    resources.delete(octo, ResourceKind::Group, "g1", Box::new(|_| Ok(()))).await.unwrap();
    let user = resources.get(octo, ResourceKind::User, "u1", LOAD).await.unwrap().unwrap();
    assert_eq!(user.groups, Some(Vec::new()));
}

/// Updates: the closure sees the current row; a refusal changes nothing; versions grow by one; times keep
/// milliseconds; `NotFound` for an unknown id.
pub async fn updates(tenants: &dyn TenantStore, resources: &dyn ResourceStore) {
    let octo = enterprise(tenants, "octo", "octo").await.id;
    resources.create(octo, ResourceKind::User, simple_user("u1", "ann"), NO_LOAD).await.unwrap();
    let refuse: roster_provider::port::UpdateFn = Box::new(|current: &StoredResource| {
        assert_eq!(current.version, 1);
        Err(ScimError::status(412, "version mismatch"))
    });
    assert!(matches!(
        resources.update(octo, ResourceKind::User, "u1", false, refuse, NO_LOAD).await,
        Err(StoreError::Rejected(error)) if error.status == 412
    ));
    let unchanged = resources.get(octo, ResourceKind::User, "u1", NO_LOAD).await.unwrap().unwrap();
    assert_eq!(unchanged.version, 1);
    let first = resources
        .update(octo, ResourceKind::User, "u1", false, set_attribute("title", json!("Dr")), NO_LOAD)
        .await
        .unwrap();
    assert_eq!((first.version, first.attributes["title"].as_str()), (2, Some("Dr")));
    assert_eq!(first.created, unchanged.created);
    assert_eq!(first.last_modified, at(1000) - time::Duration::nanoseconds(123));
    let second = resources
        .update(octo, ResourceKind::User, "u1", false, set_attribute("active", json!(false)), NO_LOAD)
        .await
        .unwrap();
    assert_eq!(second.version, 3);
    assert_eq!(resources.get(octo, ResourceKind::User, "u1", NO_LOAD).await.unwrap(), Some(second));
    let inactive =
        resources.query(octo, ResourceKind::User, &page_query(Some("active eq false"), 1, 10)).await.unwrap();
    assert_eq!(ids(&inactive.resources), ["u1"], "columns follow the attributes");
    assert_eq!(
        resources.update(octo, ResourceKind::User, "nobody", false, set_attribute("title", json!("x")), NO_LOAD).await,
        Err(StoreError::NotFound)
    );
}

/// 16 tasks each add their own member to one group at once: every member lands.
pub async fn concurrent_member_adds(tenants: &dyn TenantStore, resources: Arc<dyn ResourceStore>) {
    let octo = enterprise(tenants, "octo", "octo").await.id;
    for index in 0..16 {
        resources
            .create(octo, ResourceKind::User, simple_user(&format!("u{index:02}"), &format!("user{index}")), NO_LOAD)
            .await
            .unwrap();
    }
    resources.create(octo, ResourceKind::Group, new_group("g", "All", "g", &[]), NO_LOAD).await.unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|index| {
            let resources = Arc::clone(&resources);
            tokio::spawn(async move {
                let id = format!("u{index:02}");
                // Half of them go through the slow path that reads the member list first.
                let load = index % 2 == 0;
                let change: roster_provider::port::UpdateFn = Box::new(move |current: &StoredResource| {
                    let members = match &current.members {
                        Some(members) => {
                            let mut ids: Vec<String> = members.iter().map(|member| member.id.clone()).collect();
                            ids.push(id);
                            MembershipChange::Replace(ids)
                        }
                        None => MembershipChange::Delta { add: vec![id], remove: Vec::new() },
                    };
                    Ok(Update { attributes: current.attributes.clone(), login: None, members, at: at(5000) })
                });
                resources.update(octo, ResourceKind::Group, "g", load, change, NO_LOAD).await
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("the task ran").expect("the update succeeded");
    }
    let mut members = member_ids(resources.as_ref(), octo, "g").await;
    members.sort();
    assert_eq!(members, (0..16).map(|index| format!("u{index:02}")).collect::<Vec<_>>());
    let group = resources.get(octo, ResourceKind::Group, "g", NO_LOAD).await.unwrap().unwrap();
    assert_eq!(group.version, 17);
}

/// Pagination is exact: totals, 1-based start, `count` 0, pages past the end, relations on a page.
pub async fn pagination(tenants: &dyn TenantStore, resources: &dyn ResourceStore) {
    let octo = enterprise(tenants, "octo", "octo").await.id;
    let acme = enterprise(tenants, "acme", "acme").await.id;
    let all: Vec<String> = (0..25).map(|index| format!("u{index:02}")).collect();
    for (index, id) in all.iter().enumerate() {
        resources.create(octo, ResourceKind::User, simple_user(id, &format!("user{index:02}")), NO_LOAD).await.unwrap();
    }
    resources.create(acme, ResourceKind::User, simple_user("other", "other"), NO_LOAD).await.unwrap();
    resources.create(octo, ResourceKind::Group, new_group("g1", "Eng", "g1", &["u03", "u01"]), NO_LOAD).await.unwrap();
    for filter in [None, Some("userName sw \"user\""), Some("title pr or userName sw \"USER\"")] {
        for (start_index, count, expected) in [
            (1, 10, &all[0..10]),
            (11, 10, &all[10..20]),
            (21, 10, &all[20..25]),
            (25, 10, &all[24..25]),
            (26, 10, &all[0..0]),
            (100, 10, &all[0..0]),
            (1, 0, &all[0..0]),
            (7, 0, &all[0..0]),
            (1, 1000, &all[..]),
            (3, 4, &all[2..6]),
        ] {
            let page =
                resources.query(octo, ResourceKind::User, &page_query(filter, start_index, count)).await.unwrap();
            assert_eq!(page.total_results, 25, "{filter:?} {start_index} {count}");
            assert_eq!(ids(&page.resources), expected, "{filter:?} {start_index} {count}");
        }
    }
    let none =
        resources.query(octo, ResourceKind::User, &page_query(Some("userName eq \"nobody\""), 1, 10)).await.unwrap();
    assert_eq!((none.total_results, none.resources.len()), (0, 0));
    let none =
        resources.query(octo, ResourceKind::User, &page_query(Some("userName eq \"nobody\""), 5, 10)).await.unwrap();
    assert_eq!((none.total_results, none.resources.len()), (0, 0));
    let mut with_groups = page_query(None, 1, 5);
    with_groups.relations = LOAD;
    let page = resources.query(octo, ResourceKind::User, &with_groups).await.unwrap();
    let groups: Vec<usize> = page.resources.iter().map(|user| user.groups.as_ref().unwrap().len()).collect();
    assert_eq!(groups, [0, 1, 0, 1, 0]);
    let groups = resources
        .query(octo, ResourceKind::Group, &ResourceQuery { relations: LOAD, ..page_query(None, 1, 5) })
        .await
        .unwrap();
    let members = groups.resources[0].members.as_ref().unwrap();
    assert_eq!(members.iter().map(|member| member.id.as_str()).collect::<Vec<_>>(), ["u01", "u03"]);
    // A filter on the relation loads it for the candidates; the page carries it only when asked.
    let filtered =
        resources.query(octo, ResourceKind::User, &page_query(Some("groups.value eq \"g1\""), 1, 10)).await.unwrap();
    assert_eq!(ids(&filtered.resources), ["u01", "u03"]);
    assert_eq!(filtered.resources[0].groups, None);
}

/// Sorting: by a column (in SQL) and by other attributes (in Rust), ascending and descending, absent values
/// last ascending and first descending, ties in creation order.
pub async fn sorting(tenants: &dyn TenantStore, resources: &dyn ResourceStore) {
    let octo = enterprise(tenants, "octo", "octo").await.id;
    let users = [
        ("u1", json!({"userName": "bob", "displayName": "Zed", "title": "b"})),
        ("u2", json!({"userName": "Alice", "title": "B"})),
        ("u3", json!({"userName": "ærø", "displayName": "zed", "title": "a"})),
        ("u4", json!({"userName": "ALAN", "displayName": "Ann"})),
    ];
    for (id, attributes) in users {
        resources.create(octo, ResourceKind::User, new_user(id, attributes, None), NO_LOAD).await.unwrap();
    }
    let sorted = |sort_by: &str, descending: bool, filter: Option<&str>| {
        let mut query = page_query(filter, 1, 100);
        query.sort_by = Some(AttrPath::parse(sort_by).expect("a valid path"));
        query.descending = descending;
        query
    };
    for (sort_by, descending, filter, expected) in [
        ("userName", false, None, ["u4", "u2", "u1", "u3"]),
        ("USERNAME", true, None, ["u3", "u1", "u2", "u4"]),
        ("displayName", false, None, ["u4", "u1", "u3", "u2"]),
        ("displayName", true, None, ["u2", "u1", "u3", "u4"]),
        ("displayName", false, Some("title pr or userName pr"), ["u4", "u1", "u3", "u2"]),
        ("title", false, None, ["u3", "u1", "u2", "u4"]),
        ("title", true, None, ["u4", "u1", "u2", "u3"]),
        ("id", true, Some("id pr"), ["u4", "u3", "u2", "u1"]),
        (
            "urn:ietf:params:scim:schemas:core:2.0:User:userName",
            false,
            Some("userName ne \"x\""),
            ["u4", "u2", "u1", "u3"],
        ),
    ] {
        let page = resources.query(octo, ResourceKind::User, &sorted(sort_by, descending, filter)).await.unwrap();
        assert_eq!(ids(&page.resources), expected, "{sort_by} {descending} {filter:?}");
    }
    let mut query = sorted("displayName", false, None);
    query.start_index = 2;
    query.count = 2;
    let page = resources.query(octo, ResourceKind::User, &query).await.unwrap();
    assert_eq!((page.total_results, ids(&page.resources)), (4, vec!["u1", "u3"]));
}
