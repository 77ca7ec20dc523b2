//! The directory store's audit log and who may administer roster ([`DirectoryStore`]'s passwords, roles and admin
//! tokens), backend-independent: each function takes the port of a fresh, empty database and panics on the first
//! wrong answer.
//!
//! Entries of one write share its time, so their order among themselves (by id) is random: a write's entries are
//! compared as a sorted list of what they show.

use std::collections::BTreeSet;

use roster_directory::Directory;
use roster_directory::access::{AdminToken, PortalSession, Role};
use roster_directory::audit::{Actor, AuditEntry, Category, Initiator, TargetResource};
use roster_directory::port::{Assignment, AuditQuery, DirectoryError, DirectoryStore, Lifecycle, PrincipalKind};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::directory::{group, id, user};
use super::{actor, at};

/// An Argon2id PHC string (of no real password).
pub const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
/// Another one.
pub const OTHER_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$b3RoZXJzYWx0$b3RoZXJoYXNoaGFzaA";

/// `at` truncated to the millisecond, as the stores keep times.
pub fn to_millisecond(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(at.nanosecond() / 1_000_000 * 1_000_000).expect("a valid nanosecond")
}

/// An entry as a store gives it back: its time truncated to the millisecond.
pub fn stored(entry: &AuditEntry) -> AuditEntry {
    AuditEntry { activity_date_time: to_millisecond(entry.activity_date_time), ..entry.clone() }
}

/// Every entry, newest first.
async fn all(store: &dyn DirectoryStore) -> Vec<AuditEntry> {
    store.audit(&AuditQuery::default()).await.unwrap()
}

/// What an entry shows a test: its activity, category, targets' kinds, and its first target's modified properties
/// (name, old value, new value).
type Shown = (String, Category, Vec<String>, Vec<(String, Option<String>, Option<String>)>);

fn shown(entry: &AuditEntry) -> Shown {
    let properties = entry.target_resources[0]
        .modified_properties
        .iter()
        .map(|property| (property.display_name.clone(), property.old_value.clone(), property.new_value.clone()))
        .collect();
    let kinds = entry.target_resources.iter().map(|target| target.kind.clone()).collect();
    (entry.activity_display_name.clone(), entry.category, kinds, properties)
}

/// The expected [`Shown`] of an entry.
fn expect(
    activity: &str,
    category: Category,
    kinds: &[&str],
    properties: &[(&str, Option<&str>, Option<&str>)],
) -> Shown {
    (
        activity.to_owned(),
        category,
        kinds.iter().map(|&kind| kind.to_owned()).collect(),
        properties
            .iter()
            .map(|(name, old, new)| ((*name).to_owned(), old.map(str::to_owned), new.map(str::to_owned)))
            .collect(),
    )
}

/// The entries of one write, sorted.
fn sorted(mut entries: Vec<Shown>) -> Vec<Shown> {
    entries.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    entries
}

/// An admin token named `name` with this role, a digest made from its name, created at `created_ms`.
pub fn token(name: &str, role: Role, created_ms: i64) -> AdminToken {
    let mut digest = [0u8; 32];
    for (index, byte) in name.bytes().enumerate() {
        digest[index % 32] ^= byte;
    }
    AdminToken { name: name.to_owned(), id: format!("id-{name}"), role, digest, created: at(created_ms), expires: None }
}

/// One write of the table of [`audit_of_each_write`].
#[derive(Debug)]
enum Write {
    Lifecycle(u128, Lifecycle),
    DeleteGroup(u128),
    AddMember(u128, u128),
    RemoveMember(u128, u128),
    PutApplication(&'static str, Value, Option<&'static [u8]>, &'static str),
    Assign(&'static str, u128, PrincipalKind, Option<&'static str>),
    Unassign(&'static str, u128),
    SetPassword(u128, &'static str),
    AddRole(u128, Role),
    RemoveRole(u128, Role),
    CreateToken(&'static str, Role),
    RevokeToken(&'static str),
}

async fn apply(store: &dyn DirectoryStore, write: &Write, actor: &Actor) -> Result<(), DirectoryError> {
    match write {
        Write::Lifecycle(user, change) => store.set_lifecycle(&id(*user), *change, actor).await,
        Write::DeleteGroup(group) => store.delete_group(&id(*group), actor).await,
        Write::AddMember(group, member) => store.add_member(&id(*group), &id(*member), actor).await,
        Write::RemoveMember(group, member) => store.remove_member(&id(*group), &id(*member), actor).await,
        Write::PutApplication(name, definition, secret, activity) => {
            store.put_application(name, definition.clone(), secret.map(<[u8]>::to_vec), actor, activity).await
        }
        Write::Assign(application, principal, kind, role) => {
            let assignment = Assignment { principal: id(*principal), kind: *kind, role: role.map(str::to_owned) };
            store.assign(application, assignment, actor).await
        }
        Write::Unassign(application, principal) => store.unassign(application, &id(*principal), actor).await,
        Write::SetPassword(user, hash) => store.set_password(&id(*user), hash, actor).await,
        Write::AddRole(user, role) => store.add_role(&id(*user), role, actor).await,
        Write::RemoveRole(user, role) => store.remove_role(&id(*user), role, actor).await,
        Write::CreateToken(name, role) => store.create_admin_token(&token(name, role.clone(), 0), actor).await,
        Write::RevokeToken(name) => store.revoke_admin_token(name, actor).await,
    }
}

/// Every kind of write, one after the other on one directory, with the audit entries each records (none for a
/// write that changes nothing) or the error it fails with (recording nothing): Entra's activity names, categories,
/// targets and modified properties, every entry of a write under its actor, correlation id and time.
pub async fn audit_of_each_write(store: &dyn DirectoryStore) {
    use Category::{
        ApplicationManagement as Apps, GroupManagement as Groups, ProvisioningManagement as Provisioning,
        RoleManagement as Roles, UserManagement as Users,
    };
    use Lifecycle::{Disable, Enable, HardDelete, Restore, SoftDelete};
    use PrincipalKind::{Group as G, User as U};
    let directory = Directory {
        users: vec![user(1, "ann@x.example", "Ann"), user(2, "bob@x.example", "Bob"), user(3, "cy@x.example", "Cy")],
        groups: vec![group(101, "Staff", &[1, 2]), group(102, "All", &[101, 3])],
    };
    store.import(directory, &actor(0)).await.unwrap();
    let imported: Vec<String> = all(store).await.into_iter().map(|entry| entry.activity_display_name).collect();
    assert_eq!(imported.iter().filter(|name| *name == "Add user").count(), 3, "{imported:?}");
    assert_eq!(imported.iter().filter(|name| *name == "Add group").count(), 2, "{imported:?}");
    assert_eq!(imported.len(), 5, "{imported:?}");

    let (ann, bob, cy, staff, every) = (1, 2, 3, 101, 102);
    let missing = 999;
    let user_kind = ["User"];
    let accounts = |old: &'static str, new: &'static str| [("accountEnabled", Some(old), Some(new))];
    let ok = |entries: Vec<Shown>| Ok::<Vec<Shown>, String>(sorted(entries));
    let error = |text: String| Err::<Vec<Shown>, String>(text);
    let no_entry = || ok(Vec::new());
    let role_value = |old: Option<&'static str>, new: Option<&'static str>| [("AppRole.Value", old, new)];
    let provisioning = "Update provisioning setting or credentials";
    let redacted = Some("[redacted]");
    let table: Vec<(Write, Result<Vec<Shown>, String>)> = vec![
        (
            Write::Lifecycle(ann, Disable),
            ok(vec![expect("Disable account", Users, &user_kind, &accounts("true", "false"))]),
        ),
        (Write::Lifecycle(ann, Disable), no_entry()),
        (
            Write::Lifecycle(ann, Enable),
            ok(vec![expect("Enable account", Users, &user_kind, &accounts("false", "true"))]),
        ),
        (
            Write::Lifecycle(ann, Restore),
            error(format!("user {} is not deleted; only a soft-deleted user can be restored", id(ann))),
        ),
        (Write::Lifecycle(ann, SoftDelete), ok(vec![expect("Delete user", Users, &user_kind, &[])])),
        (Write::Lifecycle(ann, SoftDelete), no_entry()),
        (Write::Lifecycle(ann, Restore), ok(vec![expect("Restore user", Users, &user_kind, &[])])),
        (Write::Lifecycle(missing, Disable), error(format!("user {} does not exist", id(missing)))),
        (Write::AddMember(staff, cy), ok(vec![expect("Add member to group", Groups, &["Group", "User"], &[])])),
        (Write::AddMember(staff, cy), no_entry()),
        (Write::AddMember(missing, ann), error(format!("group {} does not exist", id(missing)))),
        (Write::AddMember(staff, missing), error(format!("user or group {} does not exist", id(missing)))),
        (Write::AddMember(staff, staff), error(format!("group {} cannot be a member of itself", id(staff)))),
        (Write::RemoveMember(staff, cy), ok(vec![expect("Remove member from group", Groups, &["Group", "User"], &[])])),
        (Write::RemoveMember(staff, cy), no_entry()),
        (
            Write::RemoveMember(every, staff),
            ok(vec![expect("Remove member from group", Groups, &["Group", "Group"], &[])]),
        ),
        (Write::RemoveMember(missing, ann), error(format!("group {} does not exist", id(missing)))),
        (
            Write::PutApplication("github", json!({"a": 1}), None, "Add application"),
            ok(vec![expect("Add application", Apps, &["App"], &[("a", None, Some("1"))])]),
        ),
        (Write::PutApplication("github", json!({"a": 1}), None, "Update application"), no_entry()),
        (
            Write::PutApplication("github", json!({"a": 1}), Some(b"sealed"), provisioning),
            ok(vec![expect(provisioning, Provisioning, &["App"], &[("SecretToken", redacted, redacted)])]),
        ),
        (
            Write::PutApplication("github", json!({"a": 2}), None, "Update application"),
            ok(vec![expect("Update application", Apps, &["App"], &[("a", Some("1"), Some("2"))])]),
        ),
        (Write::PutApplication(" ", json!({}), None, "Add application"), error("an application needs a name".into())),
        (
            Write::Assign("github", bob, U, None),
            ok(vec![expect(
                "Add app role assignment grant to user",
                Users,
                &["User", "ServicePrincipal"],
                &role_value(None, None),
            )]),
        ),
        (Write::Assign("github", bob, U, None), no_entry()),
        (
            Write::Assign("github", bob, U, Some("admin")),
            ok(vec![expect(
                "Add app role assignment grant to user",
                Users,
                &["User", "ServicePrincipal"],
                &role_value(None, Some("\"admin\"")),
            )]),
        ),
        (
            Write::Assign("github", every, G, None),
            ok(vec![expect(
                "Add app role assignment to group",
                Groups,
                &["Group", "ServicePrincipal"],
                &role_value(None, None),
            )]),
        ),
        (Write::Assign("github", missing, U, None), error(format!("user {} does not exist", id(missing)))),
        (Write::Assign("gitlab", bob, U, None), error("application gitlab does not exist".into())),
        (
            Write::Unassign("github", every),
            ok(vec![expect(
                "Remove app role assignment from group",
                Groups,
                &["Group", "ServicePrincipal"],
                &role_value(None, None),
            )]),
        ),
        (Write::Unassign("github", every), no_entry()),
        (
            Write::Unassign("github", bob),
            ok(vec![expect(
                "Remove app role assignment from user",
                Users,
                &["User", "ServicePrincipal"],
                &role_value(Some("\"admin\""), None),
            )]),
        ),
        (
            Write::Assign("github", bob, U, None),
            ok(vec![expect(
                "Add app role assignment grant to user",
                Users,
                &["User", "ServicePrincipal"],
                &role_value(None, None),
            )]),
        ),
        (Write::SetPassword(ann, HASH), ok(vec![expect("Reset password", Users, &user_kind, &[])])),
        (Write::SetPassword(ann, HASH), no_entry()),
        (
            Write::SetPassword(ann, "hunter2"),
            error("a password is stored only as an Argon2id PHC string ($argon2id$...)".into()),
        ),
        (Write::SetPassword(missing, HASH), error(format!("user {} does not exist", id(missing)))),
        (
            Write::AddRole(ann, Role::GlobalAdministrator),
            ok(vec![expect("Add member to role", Roles, &["User", "Role"], &[])]),
        ),
        (Write::AddRole(ann, Role::GlobalAdministrator), no_entry()),
        (Write::RemoveRole(ann, Role::ReportsReader), no_entry()),
        (Write::AddRole(missing, Role::ReportsReader), error(format!("user {} does not exist", id(missing)))),
        (Write::RemoveRole(missing, Role::ReportsReader), error(format!("user {} does not exist", id(missing)))),
        (
            Write::RemoveRole(ann, Role::GlobalAdministrator),
            ok(vec![expect("Remove member from role", Roles, &["User", "Role"], &[])]),
        ),
        (
            Write::CreateToken("ci", Role::ApplicationAdministrator),
            ok(vec![expect(
                "Add service principal credentials",
                Apps,
                &["Other"],
                &[("Role", None, Some("\"Application Administrator\""))],
            )]),
        ),
        (Write::CreateToken("ci", Role::ReportsReader), error("an admin token named ci already exists".into())),
        (
            Write::RevokeToken("ci"),
            ok(vec![expect(
                "Remove service principal credentials",
                Apps,
                &["Other"],
                &[("Role", Some("\"Application Administrator\""), None)],
            )]),
        ),
        (Write::RevokeToken("ci"), error("admin token ci does not exist".into())),
        (
            Write::AddRole(bob, Role::ReportsReader),
            ok(vec![expect("Add member to role", Roles, &["User", "Role"], &[])]),
        ),
        (Write::SetPassword(bob, HASH), ok(vec![expect("Reset password", Users, &user_kind, &[])])),
        // One entry, though the user's membership, assignment, role and password go with it.
        (Write::Lifecycle(bob, HardDelete), ok(vec![expect("Hard Delete user", Users, &user_kind, &[])])),
        (Write::Lifecycle(bob, HardDelete), error(format!("user {} does not exist", id(bob)))),
        (Write::DeleteGroup(staff), ok(vec![expect("Hard Delete group", Groups, &["Group"], &[])])),
        (Write::DeleteGroup(staff), error(format!("group {} does not exist", id(staff)))),
    ];
    for (step, (write, expected)) in (1..).zip(table) {
        // Each write one second after the one before, so that its entries are the newest.
        let by = actor(step * 1_000);
        let before = all(store).await.len();
        let result = apply(store, &write, &by).await;
        let entries = all(store).await;
        let new = &entries[..entries.len() - before];
        let actual = match result {
            Ok(()) => Ok(sorted(new.iter().map(shown).collect())),
            Err(error) => {
                assert!(new.is_empty(), "{write:?} failed but recorded {new:?}");
                Err(error.to_string())
            }
        };
        assert_eq!(actual, expected, "{write:?}");
        for entry in new {
            assert_eq!(entry.correlation_id, by.correlation_id, "{write:?}");
            assert_eq!(entry.initiated_by, by.initiator, "{write:?}");
            assert_eq!(entry.activity_date_time, to_millisecond(by.at), "{write:?}");
            assert_eq!(entry.result, "success", "{write:?}");
        }
    }
    // Targets name the object: a membership's group then member, a token by id and name, a role by key.
    let entries = all(store).await;
    let find = |activity: &str| entries.iter().find(|entry| entry.activity_display_name == activity).unwrap();
    let membership = &find("Add member to group").target_resources;
    assert_eq!((membership[0].id.as_str(), membership[1].id.as_str()), (id(staff).as_str(), id(cy).as_str()));
    assert_eq!(membership[1].user_principal_name.as_deref(), Some("cy@x.example"));
    let credentials = &find("Add service principal credentials").target_resources[0];
    assert_eq!((credentials.id.as_str(), credentials.display_name.as_deref()), ("id-ci", Some("ci")));
    let role = &find("Remove member from role").target_resources[1];
    assert_eq!(
        (role.id.as_str(), role.display_name.as_deref()),
        ("global-administrator", Some("Global Administrator"))
    );
    let assignment = &find("Add app role assignment to group").target_resources;
    assert_eq!((assignment[0].display_name.as_deref(), assignment[1].id.as_str()), (Some("All"), "github"));
}

/// An import records one entry per created or changed user or group and nothing for the unchanged ones: an import
/// of 3 users of which 1 changed records exactly one "Update user", naming the changed property; a group whose
/// members alone changed is updated too; a refused import records nothing.
pub async fn import_audit(store: &dyn DirectoryStore) {
    let users = vec![user(1, "ann@x.example", "Ann"), user(2, "bob@x.example", "Bob"), user(3, "cy@x.example", "Cy")];
    let first = Directory { users: users.clone(), groups: vec![group(101, "Staff", &[1, 2])] };
    let importer = actor(0);
    store.import(first.clone(), &importer).await.unwrap();
    let entries = all(store).await;
    let mut names: Vec<&str> = entries.iter().map(|entry| entry.activity_display_name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["Add group", "Add user", "Add user", "Add user"]);
    assert!(entries.iter().all(|entry| entry.correlation_id == importer.correlation_id));
    let ann = entries.iter().find(|entry| entry.target_resources[0].id == id(1).as_str()).unwrap();
    let upn = ann.target_resources[0].modified_properties.iter().find(|p| p.display_name == "userPrincipalName");
    assert_eq!(upn.and_then(|property| property.new_value.as_deref()), Some("\"ann@x.example\""));

    store.import(first, &actor(1_000)).await.unwrap();
    assert_eq!(all(store).await.len(), 4, "re-importing records nothing");

    let mut changed = users.clone();
    changed[1].display_name = Some("Robert".to_owned());
    let second = Directory { users: changed, groups: vec![group(101, "Staff", &[1, 2])] };
    store.import(second, &actor(2_000)).await.unwrap();
    let entries = all(store).await;
    assert_eq!(entries.len(), 5, "one entry: {:?}", &entries[..1]);
    assert_eq!(
        shown(&entries[0]),
        expect(
            "Update user",
            Category::UserManagement,
            &["User"],
            &[("displayName", Some("\"Bob\""), Some("\"Robert\""))]
        )
    );
    assert_eq!(entries[0].target_resources[0].id, id(2).as_str());

    let members_only = Directory { users: vec![], groups: vec![group(101, "Staff", &[1, 2, 3])] };
    store.import(members_only, &actor(3_000)).await.unwrap();
    let entries = all(store).await;
    assert_eq!(entries.len(), 6);
    assert_eq!(entries[0].activity_display_name, "Update group");
    let properties = &entries[0].target_resources[0].modified_properties;
    assert!(
        !properties.is_empty() && properties.iter().all(|p| p.display_name.starts_with("members")),
        "{properties:?}"
    );

    let refused =
        Directory { users: vec![user(4, "dee@x.example", "Dee")], groups: vec![group(102, "New", &[4, 999])] };
    store.import(refused, &actor(4_000)).await.unwrap_err();
    assert_eq!(all(store).await.len(), 6, "a refused import records nothing");
}

/// Passwords, roles and admin tokens read back what was written: a password replaced, roles in order (stored by
/// key, read back as roles), every role assignment by user then role, a hard-deleted user's password and roles
/// gone with it; tokens by name and by digest, with their times to the millisecond, a name or a secret used twice
/// refused, a revoked token gone.
pub async fn access_round_trip(store: &dyn DirectoryStore) {
    let people =
        Directory { users: vec![user(1, "ann@x.example", "Ann"), user(2, "bob@x.example", "Bob")], groups: vec![] };
    store.import(people, &actor(0)).await.unwrap();
    let (ann, bob) = (id(1), id(2));
    assert_eq!(store.password_hash(&ann).await.unwrap(), None);
    store.set_password(&ann, HASH, &actor(1)).await.unwrap();
    assert_eq!(store.password_hash(&ann).await.unwrap().as_deref(), Some(HASH));
    store.set_password(&ann, OTHER_HASH, &actor(2)).await.unwrap();
    assert_eq!(store.password_hash(&ann).await.unwrap().as_deref(), Some(OTHER_HASH));
    assert_eq!(store.password_hash(&bob).await.unwrap(), None);
    assert_eq!(store.password_hash(&id(999)).await.unwrap(), None);

    assert_eq!(store.roles(&ann).await.unwrap(), Vec::<Role>::new());
    let owner = Role::ApplicationOwner("github".to_owned());
    for role in [owner.clone(), Role::ReportsReader, Role::GlobalAdministrator] {
        store.add_role(&ann, &role, &actor(3)).await.unwrap();
    }
    store.add_role(&bob, &Role::ApplicationAdministrator, &actor(4)).await.unwrap();
    assert_eq!(store.roles(&ann).await.unwrap(), [Role::GlobalAdministrator, Role::ReportsReader, owner.clone()]);
    let error = store.roles(&id(999)).await.unwrap_err();
    assert!(matches!(error, DirectoryError::NotFound { kind: "user", .. }), "{error:?}");
    assert_eq!(
        store.role_members().await.unwrap(),
        [
            (ann.clone(), Role::GlobalAdministrator),
            (ann.clone(), Role::ReportsReader),
            (ann.clone(), owner.clone()),
            (bob.clone(), Role::ApplicationAdministrator),
        ]
    );
    store.remove_role(&ann, &Role::ReportsReader, &actor(5)).await.unwrap();
    assert_eq!(store.roles(&ann).await.unwrap(), [Role::GlobalAdministrator, owner]);

    store.set_lifecycle(&ann, Lifecycle::HardDelete, &actor(6)).await.unwrap();
    assert_eq!(store.password_hash(&ann).await.unwrap(), None, "the password goes with the user");
    assert_eq!(store.role_members().await.unwrap(), [(bob.clone(), Role::ApplicationAdministrator)]);
    let again = Directory { users: vec![user(1, "ann@x.example", "Ann")], groups: vec![] };
    store.import(again, &actor(7)).await.unwrap();
    assert_eq!(store.roles(&ann).await.unwrap(), Vec::<Role>::new(), "a user of the same id starts with none");
    assert_eq!(store.password_hash(&ann).await.unwrap(), None);

    assert_eq!(store.admin_tokens().await.unwrap(), Vec::new());
    let ci = AdminToken { expires: Some(at(90_000)), ..token("ci", Role::ApplicationOwner("github".to_owned()), 10) };
    let backup = token("backup", Role::ReportsReader, 11);
    store.create_admin_token(&ci, &actor(10)).await.unwrap();
    store.create_admin_token(&backup, &actor(11)).await.unwrap();
    let read = |token: &AdminToken| AdminToken {
        created: to_millisecond(token.created),
        expires: token.expires.map(to_millisecond),
        ..token.clone()
    };
    assert_eq!(store.admin_tokens().await.unwrap(), [read(&backup), read(&ci)]);
    assert_eq!(store.admin_token_by_digest(&ci.digest).await.unwrap(), Some(read(&ci)));
    assert_eq!(store.admin_token_by_digest(&[0xee; 32]).await.unwrap(), None);
    let same_name = AdminToken { digest: [0xaa; 32], ..backup.clone() };
    let error = store.create_admin_token(&same_name, &actor(12)).await.unwrap_err();
    assert!(matches!(&error, DirectoryError::Conflict(message) if message.contains("backup")), "{error:?}");
    let same_secret = AdminToken { name: "copy".to_owned(), ..backup.clone() };
    let error = store.create_admin_token(&same_secret, &actor(12)).await.unwrap_err();
    assert!(matches!(&error, DirectoryError::Conflict(message) if message.contains("copy")), "{error:?}");
    assert_eq!(store.admin_tokens().await.unwrap().len(), 2, "refused tokens are not stored");
    store.revoke_admin_token("ci", &actor(13)).await.unwrap();
    assert_eq!(store.admin_token_by_digest(&ci.digest).await.unwrap(), None);
    assert_eq!(store.admin_tokens().await.unwrap(), [read(&backup)]);
    let error = store.revoke_admin_token("ci", &actor(14)).await.unwrap_err();
    assert!(matches!(error, DirectoryError::NotFound { kind: "admin token", .. }), "{error:?}");
}

/// Portal sessions: stored by digest and read back with their times to the millisecond; a digest used twice and a
/// user who does not exist refused; a use recorded (never moving back); a sign-out, a user's sign-out everywhere
/// and the pruning of idle and expired sessions delete exactly theirs; sessions go with their user. No session
/// write is a directory change or an audit entry.
pub async fn portal_sessions(store: &dyn DirectoryStore) {
    let people =
        Directory { users: vec![user(1, "ann@x.example", "Ann"), user(2, "bob@x.example", "Bob")], groups: vec![] };
    store.import(people, &actor(0)).await.unwrap();
    let (ann, bob) = (id(1), id(2));
    let head = store.head().await.unwrap();
    let audits = all(store).await.len();
    let session = |byte: u8, user: &roster_directory::ObjectId, created: i64, expires: i64| PortalSession {
        digest: [byte; 32],
        user: user.clone(),
        created: at(created),
        seen: at(created),
        expires: at(expires),
    };
    let read = |session: &PortalSession| PortalSession {
        created: to_millisecond(session.created),
        seen: to_millisecond(session.seen),
        expires: to_millisecond(session.expires),
        ..session.clone()
    };
    let ann_1 = session(1, &ann, 0, 12 * 3_600_000);
    let ann_2 = session(2, &ann, 1_000, 12 * 3_600_000);
    let bob_1 = session(3, &bob, 2_000, 3_000);
    for stored in [&ann_1, &ann_2, &bob_1] {
        store.create_session(stored).await.unwrap();
    }
    assert_eq!(store.session_by_digest(&[1; 32]).await.unwrap(), Some(read(&ann_1)));
    assert_eq!(store.session_by_digest(&[9; 32]).await.unwrap(), None);
    let error = store.create_session(&session(1, &bob, 5, 10)).await.unwrap_err();
    assert!(matches!(error, DirectoryError::Conflict(_)), "{error:?}");
    let error = store.create_session(&session(7, &id(999), 5, 10)).await.unwrap_err();
    assert!(matches!(error, DirectoryError::NotFound { kind: "user", .. }), "{error:?}");
    let user = store.session_by_digest(&[1; 32]).await.unwrap().map(|session| session.user);
    assert_eq!(user, Some(ann.clone()), "a refused session changes none");

    assert!(store.touch_session(&[1; 32], at(60_000)).await.unwrap());
    assert!(store.touch_session(&[1; 32], at(30_000)).await.unwrap(), "an older use does not move it back");
    let seen = store.session_by_digest(&[1; 32]).await.unwrap().map(|session| session.seen);
    assert_eq!(seen, Some(to_millisecond(at(60_000))));
    assert!(!store.touch_session(&[9; 32], at(60_000)).await.unwrap());

    // Pruned at 10 s with an idle bound of 30 s: ann_2 (seen at 1 s) is idle, bob_1 (expires at 3 s) expired.
    assert_eq!(store.prune_sessions(at(30_000), at(10_000)).await.unwrap(), 2);
    assert_eq!(store.session_by_digest(&[2; 32]).await.unwrap(), None);
    assert_eq!(store.session_by_digest(&[3; 32]).await.unwrap(), None);
    assert!(store.session_by_digest(&[1; 32]).await.unwrap().is_some());

    assert!(store.delete_session(&[1; 32]).await.unwrap());
    assert!(!store.delete_session(&[1; 32]).await.unwrap());
    for stored in [&ann_1, &ann_2, &bob_1] {
        store.create_session(stored).await.unwrap();
    }
    assert_eq!(store.delete_user_sessions(&ann).await.unwrap(), 2);
    assert_eq!(store.session_by_digest(&[3; 32]).await.unwrap(), Some(read(&bob_1)));
    store.set_lifecycle(&bob, Lifecycle::HardDelete, &actor(1)).await.unwrap();
    assert_eq!(store.session_by_digest(&[3; 32]).await.unwrap(), None, "sessions go with their user");
    assert_eq!(
        store.head().await.unwrap(),
        roster_directory::port::Seq(head.0 + 1),
        "only the hard delete is a directory change"
    );
    assert_eq!(all(store).await.len(), audits + 1, "only the hard delete is audited");
}

/// An entry at `offset_ms` after the fixed instant (a whole millisecond), numbered `n`.
fn entry(offset_ms: i64, n: usize) -> AuditEntry {
    let by = Actor::new(Initiator::system(), to_millisecond(at(offset_ms)));
    AuditEntry::new(&by, "Add user", Category::UserManagement, "Add", TargetResource::new("User", n.to_string(), "U"))
}

/// Appended entries read back newest first by (time, id), three to a millisecond; pages through the `before`
/// cursor concatenate to the whole list without a duplicate or a gap; `since` and `until` are inclusive; pruning
/// deletes only the older entries and answers how many.
pub async fn audit_paging_and_pruning(store: &dyn DirectoryStore) {
    let entries: Vec<AuditEntry> = (0..30).map(|n| entry(i64::try_from(n / 3).unwrap() * 1_000, n)).collect();
    store.append_audit(&entries[..17]).await.unwrap();
    store.append_audit(&entries[17..]).await.unwrap();
    store.append_audit(&[]).await.unwrap();
    let mut expected = entries.clone();
    expected.sort_by(|a, b| (b.activity_date_time, &b.id).cmp(&(a.activity_date_time, &a.id)));
    let everything = all(store).await;
    assert_eq!(everything, expected);

    let mut paged = Vec::new();
    let mut before = None;
    loop {
        let page =
            store.audit(&AuditQuery { before: before.clone(), limit: 4, ..AuditQuery::default() }).await.unwrap();
        assert!(page.len() <= 4);
        let Some(last) = page.last() else { break };
        before = Some((last.activity_date_time, last.id.clone()));
        paged.extend(page);
    }
    let ids: BTreeSet<&str> = paged.iter().map(|entry| entry.id.as_str()).collect();
    assert_eq!(ids.len(), 30, "no duplicates");
    assert_eq!(paged, expected, "no gaps, in order");

    let (since, until) = (to_millisecond(at(2_000)), to_millisecond(at(5_000)));
    let window = AuditQuery { since: Some(since), until: Some(until), ..AuditQuery::default() };
    let inside: Vec<AuditEntry> =
        expected.iter().filter(|entry| (since..=until).contains(&entry.activity_date_time)).cloned().collect();
    assert_eq!(inside.len(), 12);
    assert_eq!(store.audit(&window).await.unwrap(), inside);
    let second = AuditQuery { before: Some((inside[1].activity_date_time, inside[1].id.clone())), limit: 5, ..window };
    assert_eq!(store.audit(&second).await.unwrap(), inside[2..7]);

    assert_eq!(store.prune_audit(to_millisecond(at(4_000))).await.unwrap(), 12);
    let kept: Vec<AuditEntry> =
        expected.iter().filter(|entry| entry.activity_date_time >= to_millisecond(at(4_000))).cloned().collect();
    assert_eq!(kept.len(), 18);
    assert_eq!(all(store).await, kept);
    assert_eq!(store.prune_audit(to_millisecond(at(4_000))).await.unwrap(), 0);
    // A bound between two milliseconds: the entries of the millisecond before it are older.
    assert_eq!(store.prune_audit(at(4_000)).await.unwrap(), 3);
}
