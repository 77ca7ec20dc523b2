//! The directory's store ([`DirectoryStore`]), backend-independent: each function takes the port of a fresh,
//! empty database and panics on the first wrong answer.

use roster_directory::generate::GenerateOptions;
use roster_directory::port::{
    Assignment, Change, Changed, DirectoryError, DirectoryStore, ImportSummary, Lifecycle, PrincipalKind, Seq,
};
use roster_directory::{Directory, Group, ObjectId, User, UserPrincipalName};
use serde_json::{Value, json};

use super::{actor, at};

/// The id `n`: `00000000-0000-0000-0000-0000000000nn` (in hex).
pub fn id(n: u128) -> ObjectId {
    ObjectId::from_u128(n)
}

/// A user with id `n`, the user principal name `upn` and a display name.
pub fn user(n: u128, upn: &str, display_name: &str) -> User {
    let mut user = User::new(id(n), UserPrincipalName::parse(upn).expect("a valid user principal name"));
    user.display_name = Some(display_name.to_owned());
    user
}

/// A group with id `n` and these members.
pub fn group(n: u128, display_name: &str, members: &[u128]) -> Group {
    let mut group = Group::new(id(n), display_name).expect("a display name");
    group.members = members.iter().map(|&member| id(member)).collect();
    group
}

/// The changes after `after`, checking that their sequence numbers increase and end at the head.
pub async fn changes_since(store: &dyn DirectoryStore, after: Seq) -> Vec<Changed> {
    let changes = store.changes_after(after, usize::MAX).await.unwrap();
    let mut previous = after;
    for change in &changes {
        assert!(change.seq > previous, "{changes:?}");
        previous = change.seq;
    }
    assert_eq!(store.head().await.unwrap(), previous, "the head is the last change");
    changes.into_iter().map(|change| change.object).collect()
}

fn summary(users: [u64; 3], groups: [u64; 3]) -> ImportSummary {
    ImportSummary {
        users_created: users[0],
        users_updated: users[1],
        users_unchanged: users[2],
        groups_created: groups[0],
        groups_updated: groups[1],
        groups_unchanged: groups[2],
    }
}

fn membership(group: u128, member: u128) -> Changed {
    Changed::Membership { group: id(group), member: id(member) }
}

fn assignment(application: &str, principal: u128) -> Changed {
    Changed::Assignment { application: application.to_owned(), principal: id(principal) }
}

/// Import: created, updated and unchanged counts; a user or group replaced whole; a group's members made exactly
/// the imported list (in id order when read back); the change log's entries for each; re-importing the same file
/// appends nothing; users not in a file are left alone.
pub async fn import_counts_and_changes(store: &dyn DirectoryStore) {
    assert_eq!(store.head().await.unwrap(), Seq(0));
    assert_eq!(store.counts().await.unwrap(), (0, 0));
    assert_eq!(store.changes_after(Seq(0), 10).await.unwrap(), Vec::<Change>::new());
    let ann = user(1, "ann@x.example", "Ann");
    let bob = user(2, "bob@x.example", "Bob");
    let cy = user(3, "cy@x.example", "Cy");
    // Members out of id order, one of them twice, and a group nested in a group that comes later in the file.
    let staff = group(101, "Staff", &[2, 1, 2, 102]);
    let admins = group(102, "Admins", &[3]);
    let first = Directory { users: vec![ann.clone(), bob.clone(), cy.clone()], groups: vec![staff, admins.clone()] };
    assert_eq!(store.import(first.clone(), &actor(0)).await.unwrap(), summary([3, 0, 0], [2, 0, 0]));
    assert_eq!(
        changes_since(store, Seq(0)).await,
        vec![
            Changed::User(id(1)),
            Changed::User(id(2)),
            Changed::User(id(3)),
            Changed::Group(id(101)),
            Changed::Group(id(102)),
            membership(101, 1),
            membership(101, 2),
            membership(101, 102),
            membership(102, 3),
        ]
    );
    assert_eq!(store.counts().await.unwrap(), (3, 2));
    assert_eq!(store.user(&id(2)).await.unwrap(), Some(bob.clone()));
    assert_eq!(store.group(&id(101)).await.unwrap(), Some(group(101, "Staff", &[1, 2, 102])));
    assert_eq!(store.user(&id(101)).await.unwrap(), None, "a group is not a user");
    assert_eq!(store.group(&id(1)).await.unwrap(), None, "a user is not a group");

    let head = store.head().await.unwrap();
    assert_eq!(store.import(first, &actor(1)).await.unwrap(), summary([0, 0, 3], [0, 0, 2]));
    assert_eq!(changes_since(store, head).await, Vec::<Changed>::new(), "re-importing changes nothing");

    // Bob changes (and loses an attribute), Cy is the same, Dee is new, Ann is not in the file; Staff's members
    // change, Admins' attributes change.
    let mut bob2 = user(2, "Bob.Smith@x.example", "Bob Smith");
    bob2.account_enabled = false;
    let dee = user(4, "dee@x.example", "Dee");
    let mut admins2 = admins.clone();
    admins2.description = Some("the admins".into());
    let second = Directory {
        users: vec![bob2.clone(), cy.clone(), dee.clone()],
        groups: vec![group(101, "Staff", &[1, 3, 102]), admins2.clone()],
    };
    assert_eq!(store.import(second, &actor(2)).await.unwrap(), summary([1, 1, 1], [0, 2, 0]));
    assert_eq!(
        changes_since(store, head).await,
        vec![
            Changed::User(id(2)),
            Changed::User(id(4)),
            Changed::Group(id(102)),
            membership(101, 2),
            membership(101, 3),
        ]
    );
    assert_eq!(store.user(&id(1)).await.unwrap(), Some(ann));
    assert_eq!(store.user(&id(2)).await.unwrap(), Some(bob2));
    assert_eq!(store.user(&id(4)).await.unwrap(), Some(dee));
    assert_eq!(store.group(&id(102)).await.unwrap(), Some(admins2));
    assert_eq!(store.counts().await.unwrap(), (4, 2));
}

/// A refused import changes nothing (the log included): an unknown member, a user principal name another user
/// holds (in any case), an id of the other kind, a group in itself. Two users may swap their names in one import.
pub async fn import_refusals_are_atomic(store: &dyn DirectoryStore) {
    let base = Directory {
        users: vec![user(1, "ann@x.example", "Ann"), user(2, "bob@x.example", "Bob")],
        groups: vec![group(101, "Staff", &[1])],
    };
    store.import(base, &actor(0)).await.unwrap();
    let head = store.head().await.unwrap();
    let new_user = user(3, "cy@x.example", "Cy");
    let cases: Vec<(Directory, String)> = vec![
        (
            Directory { users: vec![new_user.clone()], groups: vec![group(102, "New", &[3, 999])] },
            format!("user or group {} (a member of group {}) does not exist", id(999), id(102)),
        ),
        (
            Directory { users: vec![new_user.clone(), user(4, "ANN@x.example", "Ann 2")], groups: vec![] },
            format!("userPrincipalName ANN@x.example of user {} is already used by user {}", id(4), id(1)),
        ),
        (
            Directory { users: vec![user(2, "ann@x.example", "Bob")], groups: vec![] },
            format!("userPrincipalName ann@x.example of user {} is already used by user {}", id(2), id(1)),
        ),
        (
            Directory { users: vec![new_user.clone(), user(101, "g@x.example", "G")], groups: vec![] },
            format!("user {} has the id of an existing group", id(101)),
        ),
        (
            Directory { users: vec![new_user.clone()], groups: vec![group(1, "Ann's group", &[])] },
            format!("group {} has the id of an existing user", id(1)),
        ),
        (
            Directory { users: vec![new_user.clone()], groups: vec![group(102, "Loop", &[3, 102])] },
            format!("group {} cannot be a member of itself", id(102)),
        ),
    ];
    for (directory, expected) in cases {
        let error = store.import(directory, &actor(1)).await.unwrap_err();
        assert_eq!(error.to_string(), expected);
        assert_eq!(store.head().await.unwrap(), head, "{expected}: the log is unchanged");
        assert_eq!(store.counts().await.unwrap(), (2, 1), "{expected}");
        assert_eq!(store.user(&id(3)).await.unwrap(), None, "{expected}");
    }
    // A swap of user principal names, and a new user taking a name another user gives up, in one import.
    let swap = Directory {
        users: vec![user(1, "bob@x.example", "Ann"), user(2, "cy@x.example", "Bob"), user(3, "ann@x.example", "Cy")],
        groups: vec![],
    };
    assert_eq!(store.import(swap, &actor(2)).await.unwrap(), summary([1, 2, 0], [0, 0, 0]));
    let upn = |user: Option<User>| user.expect("the user exists").user_principal_name().as_str().to_owned();
    assert_eq!(upn(store.user(&id(1)).await.unwrap()), "bob@x.example");
    assert_eq!(upn(store.user(&id(2)).await.unwrap()), "cy@x.example");
    assert_eq!(upn(store.user(&id(3)).await.unwrap()), "ann@x.example");
}

/// One write of the table below.
#[derive(Debug)]
enum Write {
    Lifecycle(u128, Lifecycle),
    DeleteGroup(u128),
    AddMember(u128, u128),
    RemoveMember(u128, u128),
    PutApplication(&'static str, Value, Option<&'static [u8]>),
    Assign(&'static str, u128, PrincipalKind, Option<&'static str>),
    Unassign(&'static str, u128),
}

async fn apply(store: &dyn DirectoryStore, write: &Write) -> Result<(), DirectoryError> {
    match write {
        Write::Lifecycle(user, change) => store.set_lifecycle(&id(*user), *change, &actor(10)).await,
        Write::DeleteGroup(group) => store.delete_group(&id(*group), &actor(10)).await,
        Write::AddMember(group, member) => store.add_member(&id(*group), &id(*member), &actor(10)).await,
        Write::RemoveMember(group, member) => store.remove_member(&id(*group), &id(*member), &actor(10)).await,
        Write::PutApplication(name, definition, secret) => {
            store
                .put_application(name, definition.clone(), secret.map(<[u8]>::to_vec), &actor(20), "Add application")
                .await
        }
        Write::Assign(application, principal, kind, role) => {
            let assignment = Assignment { principal: id(*principal), kind: *kind, role: role.map(str::to_owned) };
            store.assign(application, assignment, &actor(30)).await
        }
        Write::Unassign(application, principal) => store.unassign(application, &id(*principal), &actor(30)).await,
    }
}

/// Every kind of write, one after the other on one directory, with the change-log entries each appends (none for a
/// write that changes nothing) or the error it fails with (appending nothing).
pub async fn change_log_of_each_write(store: &dyn DirectoryStore) {
    use Lifecycle::{Disable, Enable, HardDelete, Restore, SoftDelete};
    use PrincipalKind::{Group as G, User as U};
    let directory = Directory {
        users: vec![user(1, "ann@x.example", "Ann"), user(2, "bob@x.example", "Bob"), user(3, "cy@x.example", "Cy")],
        groups: vec![group(101, "Staff", &[1, 2]), group(102, "All", &[101, 3])],
    };
    store.import(directory, &actor(0)).await.unwrap();
    let (ann, bob, staff, all) = (1, 2, 101, 102);
    let missing = 999;
    let ok = |changes: &[Changed]| Ok::<Vec<Changed>, String>(changes.to_vec());
    let user_changed = |n| Changed::User(id(n));
    let error = |text: String| Err::<Vec<Changed>, String>(text);
    let table: Vec<(Write, Result<Vec<Changed>, String>)> = vec![
        (Write::Lifecycle(ann, Disable), ok(&[user_changed(ann)])),
        (Write::Lifecycle(ann, Disable), ok(&[])),
        (Write::Lifecycle(ann, Enable), ok(&[user_changed(ann)])),
        (Write::Lifecycle(ann, Enable), ok(&[])),
        (
            Write::Lifecycle(ann, Restore),
            error(format!("user {} is not deleted; only a soft-deleted user can be restored", id(ann))),
        ),
        (Write::Lifecycle(ann, SoftDelete), ok(&[user_changed(ann)])),
        (Write::Lifecycle(ann, SoftDelete), ok(&[])),
        (
            Write::Lifecycle(ann, Disable),
            error(format!("user {} is deleted; restore it before you disable it", id(ann))),
        ),
        (Write::Lifecycle(ann, Enable), error(format!("user {} is deleted; restore it before you enable it", id(ann)))),
        (Write::Lifecycle(ann, Restore), ok(&[user_changed(ann)])),
        (Write::Lifecycle(missing, Disable), error(format!("user {} does not exist", id(missing)))),
        (Write::Lifecycle(staff, Disable), error(format!("user {} does not exist", id(staff)))),
        (Write::AddMember(staff, 3), ok(&[membership(staff, 3)])),
        (Write::AddMember(staff, 3), ok(&[])),
        (Write::AddMember(staff, staff), error(format!("group {} cannot be a member of itself", id(staff)))),
        (Write::AddMember(staff, missing), error(format!("user or group {} does not exist", id(missing)))),
        (Write::AddMember(missing, ann), error(format!("group {} does not exist", id(missing)))),
        (Write::AddMember(ann, bob), error(format!("group {} does not exist", id(ann)))),
        (Write::RemoveMember(staff, 3), ok(&[membership(staff, 3)])),
        (Write::RemoveMember(staff, 3), ok(&[])),
        (Write::RemoveMember(staff, missing), ok(&[])),
        (Write::RemoveMember(missing, ann), error(format!("group {} does not exist", id(missing)))),
        (
            Write::PutApplication("github", json!({"a": 1, "b": [1, 2]}), None),
            ok(&[Changed::Application("github".into())]),
        ),
        (Write::PutApplication("github", json!({"b": [1, 2], "a": 1}), None), ok(&[])),
        (Write::PutApplication("github", json!({"a": 1, "b": [1, 2]}), Some(b"sealed")), ok(&[])),
        (
            Write::PutApplication("github", json!({"a": 2, "b": [1, 2]}), None),
            ok(&[Changed::Application("github".into())]),
        ),
        (Write::PutApplication(" ", json!({}), None), error("an application needs a name".into())),
        (Write::Assign("github", bob, U, None), ok(&[assignment("github", bob)])),
        (Write::Assign("github", bob, U, None), ok(&[])),
        (Write::Assign("github", bob, U, Some("admin")), ok(&[assignment("github", bob)])),
        (Write::Assign("github", all, G, None), ok(&[assignment("github", all)])),
        (Write::Assign("github", bob, G, None), error(format!("group {} does not exist", id(bob)))),
        (Write::Assign("github", missing, U, None), error(format!("user {} does not exist", id(missing)))),
        (Write::Assign("gitlab", bob, U, None), error("application gitlab does not exist".into())),
        (Write::Unassign("github", all), ok(&[assignment("github", all)])),
        (Write::Unassign("github", all), ok(&[])),
        (Write::Unassign("gitlab", all), error("application gitlab does not exist".into())),
        (Write::Assign("github", all, G, None), ok(&[assignment("github", all)])),
        (
            Write::Lifecycle(bob, HardDelete),
            ok(&[membership(staff, bob), assignment("github", bob), user_changed(bob)]),
        ),
        (Write::Lifecycle(bob, Restore), error(format!("user {} does not exist", id(bob)))),
        (Write::Lifecycle(bob, HardDelete), error(format!("user {} does not exist", id(bob)))),
        (Write::DeleteGroup(staff), ok(&[membership(staff, ann), membership(all, staff), Changed::Group(id(staff))])),
        (Write::DeleteGroup(all), ok(&[membership(all, 3), assignment("github", all), Changed::Group(id(all))])),
        (Write::DeleteGroup(all), error(format!("group {} does not exist", id(all)))),
        (Write::DeleteGroup(ann), error(format!("group {} does not exist", id(ann)))),
    ];
    for (write, expected) in table {
        let head = store.head().await.unwrap();
        let actual = match apply(store, &write).await {
            Ok(()) => Ok(changes_since(store, head).await),
            Err(error) => {
                assert_eq!(store.head().await.unwrap(), head, "{write:?} failed but appended changes");
                Err(error.to_string())
            }
        };
        assert_eq!(actual, expected, "{write:?}");
    }
    assert_eq!(store.counts().await.unwrap(), (2, 0));
    assert_eq!(store.assignments("github").await.unwrap(), Vec::new());
}

/// Lifecycle changes as reads show them: disabled, soft-deleted (at the write's time, to the millisecond, still
/// listed and counted, still a member and assigned), restored, hard-deleted (gone from reads, groups and
/// assignments).
pub async fn lifecycle(store: &dyn DirectoryStore) {
    let directory = Directory {
        users: vec![user(1, "ann@x.example", "Ann"), user(2, "bob@x.example", "Bob")],
        groups: vec![group(101, "Staff", &[1, 2])],
    };
    store.import(directory, &actor(0)).await.unwrap();
    store.put_application("github", json!({}), None, &actor(0), "Add application").await.unwrap();
    let ann_assignment = Assignment { principal: id(1), kind: PrincipalKind::User, role: None };
    store.assign("github", ann_assignment.clone(), &actor(8)).await.unwrap();
    let ann = || async { store.user(&id(1)).await.unwrap().expect("ann exists") };

    store.set_lifecycle(&id(1), Lifecycle::Disable, &actor(5)).await.unwrap();
    assert!(!ann().await.account_enabled);
    store.set_lifecycle(&id(1), Lifecycle::SoftDelete, &actor(7)).await.unwrap();
    let deleted = ann().await;
    let expected = at(7).replace_nanosecond(at(7).nanosecond() / 1_000_000 * 1_000_000).unwrap();
    assert_eq!(deleted.deleted_date_time, Some(expected));
    assert!(!deleted.account_enabled, "soft-deleting keeps accountEnabled");
    store.set_lifecycle(&id(1), Lifecycle::SoftDelete, &actor(9)).await.unwrap();
    assert_eq!(ann().await.deleted_date_time, Some(expected), "soft-deleting again keeps the first time");
    assert_eq!(store.counts().await.unwrap(), (2, 1));
    assert_eq!(store.users_after(None, 10).await.unwrap().len(), 2);
    assert_eq!(store.group(&id(101)).await.unwrap().unwrap().members, vec![id(1), id(2)]);
    assert_eq!(store.assignments("github").await.unwrap(), vec![ann_assignment]);

    store.set_lifecycle(&id(1), Lifecycle::Restore, &actor(11)).await.unwrap();
    let restored = ann().await;
    assert_eq!((restored.deleted_date_time, restored.account_enabled), (None, false));
    store.set_lifecycle(&id(1), Lifecycle::Enable, &actor(12)).await.unwrap();
    assert_eq!(ann().await, user(1, "ann@x.example", "Ann"), "back to the imported user");

    store.set_lifecycle(&id(1), Lifecycle::HardDelete, &actor(13)).await.unwrap();
    assert_eq!(store.user(&id(1)).await.unwrap(), None);
    assert_eq!(store.counts().await.unwrap(), (1, 1));
    assert_eq!(store.group(&id(101)).await.unwrap().unwrap().members, vec![id(2)]);
    assert_eq!(store.assignments("github").await.unwrap(), Vec::new());
    // The id and the user principal name are free again.
    let again = Directory { users: vec![user(1, "ann@x.example", "Ann again")], groups: vec![] };
    assert_eq!(store.import(again, &actor(14)).await.unwrap(), summary([1, 0, 0], [0, 0, 0]));
}

/// Keyset pages: users, groups (with their members) and changes, page after page, each exactly once and in
/// order; a limit of 0 and a position after the last give empty pages.
pub async fn keyset_paging(store: &dyn DirectoryStore) {
    // Ids spread so that their order is not the order of the file (41 and 101 are coprime).
    let numbers: Vec<u128> = (0..25u128).map(|n| n * 41 % 101 + 1).collect();
    let users: Vec<User> = numbers.iter().map(|&n| user(n, &format!("u{n}@x.example"), &format!("User {n}"))).collect();
    let groups: Vec<Group> = (0..7u128)
        .map(|n| {
            let members: Vec<u128> = numbers.iter().copied().skip(n as usize).step_by(3).collect();
            group(1000 - n, &format!("Group {n}"), &members)
        })
        .collect();
    store.import(Directory { users: users.clone(), groups: groups.clone() }, &actor(0)).await.unwrap();

    let mut expected_users = users;
    expected_users.sort_by(|a, b| a.id().cmp(b.id()));
    let mut paged = Vec::new();
    let mut after: Option<ObjectId> = None;
    loop {
        let page = store.users_after(after.as_ref(), 10).await.unwrap();
        assert!(page.len() <= 10);
        let Some(last) = page.last() else { break };
        after = Some(last.id().clone());
        paged.extend(page);
    }
    assert_eq!(paged, expected_users);

    let mut expected_groups: Vec<Group> = groups
        .into_iter()
        .map(|mut group| {
            group.members.sort();
            group
        })
        .collect();
    expected_groups.sort_by(|a, b| a.id().cmp(b.id()));
    let mut paged = Vec::new();
    let mut after: Option<ObjectId> = None;
    loop {
        let page = store.groups_after(after.as_ref(), 3).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id().clone());
        paged.extend(page);
    }
    assert_eq!(paged, expected_groups);
    for group in &expected_groups {
        assert_eq!(store.group(group.id()).await.unwrap().as_ref(), Some(group));
    }

    assert_eq!(store.users_after(None, 0).await.unwrap(), Vec::new());
    assert_eq!(store.groups_after(None, 0).await.unwrap(), Vec::new());
    assert_eq!(store.users_after(Some(&id(u128::MAX)), 10).await.unwrap(), Vec::new());
    let last = expected_groups.last().unwrap().id().clone();
    assert_eq!(store.groups_after(Some(&last), 10).await.unwrap(), Vec::new());

    let all = store.changes_after(Seq(0), usize::MAX).await.unwrap();
    let mut paged = Vec::new();
    let mut after = Seq(0);
    loop {
        let page = store.changes_after(after, 7).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        paged.extend(page);
    }
    assert_eq!(paged, all);
    assert_eq!(store.changes_after(Seq(0), 0).await.unwrap(), Vec::new());
    assert_eq!(store.changes_after(after, 10).await.unwrap(), Vec::new());
}

/// Applications: put then get, the list by name, the secret kept when not given and replaced when given, times
/// (created stays, updated moves only with a change), `None` for an unknown name; assignments by principal id.
pub async fn applications(store: &dyn DirectoryStore) {
    assert_eq!(store.application("github").await.unwrap(), None);
    assert_eq!(store.applications().await.unwrap(), Vec::new());
    store
        .put_application(
            "github",
            json!({"template": "github-emu"}),
            Some(b"v1".to_vec()),
            &actor(0),
            "Add application",
        )
        .await
        .unwrap();
    store.put_application("aws", json!({"template": "scim"}), None, &actor(1), "Add application").await.unwrap();
    let github = store.application("github").await.unwrap().expect("github exists");
    assert_eq!(github.definition, json!({"template": "github-emu"}));
    assert_eq!(github.sealed_secret.as_deref(), Some(&b"v1"[..]));
    assert_eq!(github.created, github.updated);
    assert_eq!(github.created.unix_timestamp_nanos() % 1_000_000, 0, "millisecond precision");
    let names: Vec<String> = store.applications().await.unwrap().into_iter().map(|app| app.name).collect();
    assert_eq!(names, ["aws", "github"]);

    store
        .put_application("github", json!({"template": "github-emu"}), None, &actor(5), "Update application")
        .await
        .unwrap();
    assert_eq!(store.application("github").await.unwrap().as_ref(), Some(&github), "nothing changed");
    store
        .put_application(
            "github",
            json!({"template": "github-emu", "scope": "all"}),
            None,
            &actor(6),
            "Update application",
        )
        .await
        .unwrap();
    let changed = store.application("github").await.unwrap().expect("github exists");
    assert_eq!((changed.created, changed.updated > github.updated), (github.created, true));
    assert_eq!(changed.sealed_secret.as_deref(), Some(&b"v1"[..]), "the secret is kept");
    store
        .put_application("github", changed.definition.clone(), Some(b"v2".to_vec()), &actor(7), "Update application")
        .await
        .unwrap();
    let resealed = store.application("github").await.unwrap().expect("github exists");
    assert_eq!((resealed.sealed_secret.as_deref(), resealed.updated > changed.updated), (Some(&b"v2"[..]), true));

    let directory = Directory {
        users: vec![user(3, "cy@x.example", "Cy"), user(1, "ann@x.example", "Ann")],
        groups: vec![group(2, "Staff", &[1])],
    };
    store.import(directory, &actor(8)).await.unwrap();
    for (principal, kind, role) in [(3, PrincipalKind::User, Some("admin")), (1, PrincipalKind::User, None)] {
        let role = role.map(str::to_owned);
        store.assign("github", Assignment { principal: id(principal), kind, role }, &actor(8)).await.unwrap();
    }
    store
        .assign("github", Assignment { principal: id(2), kind: PrincipalKind::Group, role: None }, &actor(8))
        .await
        .unwrap();
    store
        .assign("aws", Assignment { principal: id(2), kind: PrincipalKind::Group, role: None }, &actor(8))
        .await
        .unwrap();
    assert_eq!(
        store.assignments("github").await.unwrap(),
        vec![
            Assignment { principal: id(1), kind: PrincipalKind::User, role: None },
            Assignment { principal: id(2), kind: PrincipalKind::Group, role: None },
            Assignment { principal: id(3), kind: PrincipalKind::User, role: Some("admin".into()) },
        ]
    );
    let replaced = Assignment { principal: id(3), kind: PrincipalKind::User, role: None };
    store.assign("github", replaced.clone(), &actor(8)).await.unwrap();
    store.unassign("github", &id(1), &actor(8)).await.unwrap();
    assert_eq!(
        store.assignments("github").await.unwrap(),
        vec![Assignment { principal: id(2), kind: PrincipalKind::Group, role: None }, replaced]
    );
    assert_eq!(store.assignments("aws").await.unwrap().len(), 1);
    let error = store.assignments("gitlab").await.unwrap_err();
    assert_eq!(error.to_string(), "application gitlab does not exist");
}

/// A generated directory of `users` users (with groups and nested groups) imports whole, reads back the same, and
/// re-importing it appends no change.
pub async fn large_import_then_reimport(store: &dyn DirectoryStore, users: usize) {
    let options = GenerateOptions { users, groups: users / 100, members_per_group: 50, seed: 7 };
    let directory = Directory::generate(&options);
    let n_users = directory.users.len() as u64;
    let n_groups = directory.groups.len() as u64;
    let summary_first = store.import(directory.clone(), &actor(0)).await.unwrap();
    assert_eq!(summary_first, summary([n_users, 0, 0], [n_groups, 0, 0]));
    assert_eq!(store.counts().await.unwrap(), (n_users, n_groups));
    let head = store.head().await.unwrap();
    let memberships: usize = directory.groups.iter().map(|group| group.members.len()).sum();
    assert_eq!(head.0, (n_users + n_groups) as i64 + memberships as i64, "one change per object and membership");
    let log = store.changes_after(Seq(0), usize::MAX).await.unwrap();
    assert!(log.windows(2).all(|pair| pair[0].seq < pair[1].seq));
    assert_eq!(log.last().map(|change| change.seq), Some(head));
    let objects: Vec<Changed> = directory
        .users
        .iter()
        .map(|user| Changed::User(user.id().clone()))
        .chain(directory.groups.iter().map(|group| Changed::Group(group.id().clone())))
        .collect();
    let logged: Vec<Changed> = log.into_iter().take(objects.len()).map(|change| change.object).collect();
    assert_eq!(logged, objects, "users in file order, then groups, then memberships");
    for user in directory.users.iter().step_by(997) {
        assert_eq!(store.user(user.id()).await.unwrap().as_ref(), Some(user));
    }
    for group in directory.groups.iter().step_by(17) {
        let mut expected = group.clone();
        expected.members.sort();
        assert_eq!(store.group(group.id()).await.unwrap(), Some(expected));
    }
    let summary_again = store.import(directory, &actor(1)).await.unwrap();
    assert_eq!(summary_again, summary([0, 0, n_users], [0, 0, n_groups]));
    assert_eq!(store.head().await.unwrap(), head, "re-importing appends no change");
}
