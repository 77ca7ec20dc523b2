//! Property test: random sequences of membership PATCHes, in every form clients send, sent over HTTP, then a GET
//! of the group equals what a set-of-members model predicts, and every user's `groups` agrees with it.
//! This exercises the provider's delta planning (member operations become row inserts and deletes) and its slow
//! path (operations that need the whole member list), against the real store.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use crate::support::{TestServer, member_values};

const USERS: usize = 6;

/// One membership operation, over user indexes.
#[derive(Debug, Clone)]
enum Op {
    /// `add members [..]`.
    Add(Vec<usize>),
    /// Entra's default: `Remove` with path `members` and a value array.
    RemoveListed(Vec<usize>),
    /// `remove members[value eq "a" or value eq "b"]`.
    RemoveFiltered(Vec<usize>),
    /// `replace members [..]`.
    Replace(Vec<usize>),
    /// `remove members`.
    RemoveAll,
    /// `remove members[display eq "..."]`: a filter on another sub-attribute, which needs the member list.
    RemoveByDisplay(usize),
    /// A rename in the same request, which must not disturb the members.
    Rename(usize),
}

impl Op {
    fn apply(&self, members: &mut BTreeSet<usize>) {
        match self {
            Op::Add(users) => members.extend(users),
            Op::RemoveListed(users) | Op::RemoveFiltered(users) => members.retain(|user| !users.contains(user)),
            Op::Replace(users) => *members = users.iter().copied().collect(),
            Op::RemoveAll => members.clear(),
            Op::RemoveByDisplay(user) => {
                members.remove(user);
            }
            Op::Rename(_) => {}
        }
    }

    fn to_json(&self, ids: &[String], group: &str) -> Value {
        let values = |users: &[usize]| users.iter().map(|&user| json!({"value": ids[user]})).collect::<Vec<_>>();
        match self {
            Op::Add(users) => json!({"op": "add", "path": "members", "value": values(users)}),
            Op::RemoveListed(users) => json!({"op": "Remove", "path": "members", "value": values(users)}),
            Op::RemoveFiltered(users) => {
                let filter: Vec<String> = users.iter().map(|&user| format!("value eq \"{}\"", ids[user])).collect();
                json!({"op": "remove", "path": format!("members[{}]", filter.join(" or "))})
            }
            Op::Replace(users) => json!({"op": "replace", "path": "members", "value": values(users)}),
            Op::RemoveAll => json!({"op": "remove", "path": "members"}),
            Op::RemoveByDisplay(user) => {
                json!({"op": "remove", "path": format!("members[display eq \"Member {user}\"]")})
            }
            Op::Rename(n) => json!({"op": "replace", "path": "displayName", "value": format!("Team {n} of {group}")}),
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    let users = || prop::collection::vec(0..USERS, 1..4);
    prop_oneof![
        3 => users().prop_map(Op::Add),
        2 => users().prop_map(Op::RemoveListed),
        2 => users().prop_map(Op::RemoveFiltered),
        1 => prop::collection::vec(0..USERS, 0..4).prop_map(Op::Replace),
        1 => Just(Op::RemoveAll),
        1 => (0..USERS).prop_map(Op::RemoveByDisplay),
        1 => (0..100usize).prop_map(Op::Rename),
    ]
}

#[test]
fn membership_patches_then_get_equal_the_model() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let server = runtime.block_on(TestServer::start());
    let ids: Vec<String> = runtime.block_on(async {
        let mut ids = Vec::new();
        for user in 0..USERS {
            let mut body = crate::support::user_body(&format!("member{user}@example.com"), &format!("m{user}"));
            body["displayName"] = json!(format!("Member {user}"));
            ids.push(server.create_user_from(body).await);
        }
        ids
    });
    let case = std::sync::atomic::AtomicUsize::new(0);
    let strategy =
        (prop::collection::vec(0..USERS, 0..4), prop::collection::vec(prop::collection::vec(op(), 1..4), 1..5));
    let mut runner = TestRunner::new(Config { cases: 64, failure_persistence: None, ..Config::default() });
    let result = runner.run(&strategy, |(initial, requests)| {
        let case = case.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        runtime.block_on(async {
            let members: Vec<Value> = initial.iter().map(|&user| json!({"value": ids[user]})).collect();
            let created = server
                .post(
                    "/Groups",
                    json!({
                        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                        "externalId": format!("g{case}"),
                        "displayName": format!("Group {case}"),
                        "members": members,
                    }),
                )
                .await;
            prop_assert_eq!(created.status.as_u16(), 201, "{}", created.body);
            let group = created.body["id"].as_str().unwrap_or_default().to_owned();
            let mut expected: BTreeSet<usize> = initial.iter().copied().collect();
            for operations in &requests {
                let body: Vec<Value> = operations.iter().map(|op| op.to_json(&ids, &group)).collect();
                let answer = server.patch_ops(&format!("/Groups/{group}"), Value::Array(body)).await;
                prop_assert_eq!(answer.status.as_u16(), 204, "{:?}: {}", operations, answer.body);
                for op in operations {
                    op.apply(&mut expected);
                }
            }
            let mut want: Vec<String> = expected.iter().map(|&user| ids[user].clone()).collect();
            want.sort();
            let got = member_values(&server.fetch(&format!("/Groups/{group}")).await, "members");
            prop_assert_eq!(&got, &want, "after {:?}", requests);
            for (user, id) in ids.iter().enumerate() {
                let groups = member_values(&server.fetch(&format!("/Users/{id}")).await, "groups");
                prop_assert_eq!(groups.contains(&group), expected.contains(&user), "user {}'s groups", user);
            }
            let deleted = server.delete(&format!("/Groups/{group}")).await;
            prop_assert_eq!(deleted.status.as_u16(), 204);
            Ok(())
        })
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}
