//! What is specific to the PostgreSQL backend: migrations (applied once, by one of several nodes starting at once;
//! a newer schema refused), and the contract's rules holding between separate stores on one database, as several
//! roster nodes would use it (leases, target ids, the directory's change log read while many nodes write, SCIM
//! updates that read, modify and write one resource at once).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use roster_directory::Directory;
use roster_directory::port::{DirectoryStore, Seq};
use roster_engine::log::ObjectKind;
use roster_engine::state::{EngineStore, StateError};
use roster_provider::port::{
    MembershipChange, Relations, ResourceKind, ResourceStore, StoredResource, Update, UpdateFn,
};
use roster_store::suite::engine::{object_id, shadow};
use roster_store::suite::postgres::TestServer;
use roster_store::{ConnectError, PgStore};
use serde_json::{Value, json};

/// The schema version recorded in `roster_schema`.
#[allow(clippy::unwrap_used, reason = "a test helper: a failure is a test failure")]
async fn schema_version(url: &str) -> i64 {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client.query_one("SELECT max(version) FROM roster_schema", &[]).await.unwrap().get(0)
}

#[tokio::test]
async fn nodes_starting_at_once_migrate_once_and_reconnecting_keeps_data() {
    let url = TestServer::shared().database().await;
    let stores = connect_four(&url).await;
    assert_eq!(schema_version(&url).await, 8);
    stores[0]
        .record("app", vec![roster_engine::state::Record::PutShadow(shadow(ObjectKind::User, 1, "t1"))])
        .await
        .unwrap();
    let again = PgStore::connect(&url).await.unwrap();
    assert_eq!(again.shadows("app", ObjectKind::User, &[object_id(1)]).await.unwrap().len(), 1);
}

/// Four stores connecting to one fresh database at the same moment.
#[allow(clippy::unwrap_used, reason = "a test helper: a failure is a test failure")]
async fn connect_four(url: &str) -> Vec<PgStore> {
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let url = url.to_owned();
            tokio::spawn(async move { PgStore::connect(&url).await })
        })
        .collect();
    let mut stores = Vec::new();
    for task in tasks {
        stores.push(task.await.unwrap().unwrap());
    }
    stores
}

#[tokio::test]
async fn a_newer_database_is_refused() {
    let url = TestServer::shared().database().await;
    drop(PgStore::connect(&url).await.unwrap());
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client.execute("INSERT INTO roster_schema (version, name) VALUES (99, 'future.sql')", &[]).await.unwrap();
    let error = PgStore::connect(&url).await.unwrap_err();
    assert!(matches!(error, ConnectError::TooNew { found: 99, supported: 8 }), "{error:?}");
    assert!(error.to_string().contains("schema version 99"), "{error}");
}

#[tokio::test]
async fn a_missing_database_or_a_refused_tls_is_a_connect_error() {
    // The test server, asked for a database that is not there.
    let url = format!("postgres://postgres@127.0.0.1:{}/no_such_database", TestServer::shared().port());
    let error = PgStore::connect(&url).await.unwrap_err();
    assert!(matches!(error, ConnectError::Connect(_)), "{error:?}");
    // `sslmode=require` against a server without TLS fails rather than falling back to plain text.
    let url = format!("{}?sslmode=require", TestServer::shared().database().await);
    assert!(matches!(PgStore::connect(&url).await, Err(ConnectError::Connect(_))));
}

/// Eight nodes ask for one expired lease at the same instant: exactly one gets it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_lease_among_nodes_racing() {
    let url = TestServer::shared().database().await;
    let nodes = connect_four(&url).await;
    let at = roster_store::suite::at;
    for round in 0..10_i64 {
        let tasks: Vec<_> = (0..8)
            .map(|index| {
                let node = nodes[index % nodes.len()].clone();
                tokio::spawn(async move {
                    node.lease("app", &format!("node-{round}-{index}"), at(round * 1_000), at(round * 1_000 + 500))
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut holders = 0;
        for task in tasks {
            holders += usize::from(task.await.unwrap());
        }
        assert_eq!(holders, 1, "round {round}");
    }
}

/// Nodes shadowing different source objects as one target id at the same time: exactly one keeps it, the others
/// get a conflict and write nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_target_id_among_nodes_racing() {
    let url = TestServer::shared().database().await;
    let nodes = connect_four(&url).await;
    for round in 0..10_u128 {
        let target = format!("t{round}");
        let tasks: Vec<_> = (0..8_u128)
            .map(|index| {
                let node = nodes[index as usize % nodes.len()].clone();
                let shadow = shadow(ObjectKind::User, round * 100 + index, &target);
                tokio::spawn(
                    async move { node.record("app", vec![roster_engine::state::Record::PutShadow(shadow)]).await },
                )
            })
            .collect();
        let mut kept = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(()) => kept += 1,
                Err(StateError::Conflict(message)) => assert!(message.contains(&target), "{message}"),
                Err(other) => panic!("round {round}: {other:?}"),
            }
        }
        assert_eq!(kept, 1, "round {round}");
        let ids: Vec<_> = (0..8).map(|index| object_id(round * 100 + index)).collect();
        assert_eq!(nodes[0].shadows("app", ObjectKind::User, &ids).await.unwrap().len(), 1);
    }
}

/// Nodes write to the directory concurrently (memberships and applications, from several tasks on separate stores)
/// while a reader polls the change log as the engine does, moving its watermark to the highest sequence number it
/// saw: the reader never skips a number that shows up in the log later. Without the change log's lock, a writer
/// that took a number and committed after a writer with a higher number would be skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_log_reader_never_skips_a_sequence_number() {
    use roster_store::suite::directory::{group, id, user};
    let url = TestServer::shared().database().await;
    let nodes = connect_four(&url).await;
    const WRITERS: u128 = 8;
    const WRITES: u128 = 60;
    let users = (1..=WRITES).map(|n| user(n, &format!("u{n}@x.example"), &format!("User {n}"))).collect();
    let groups = (0..WRITERS).map(|w| group(1_000 + w, &format!("Group {w}"), &[])).collect();
    nodes[0].import(Directory { users, groups }, &roster_store::suite::actor(0)).await.unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (node, done) = (nodes[1].clone(), done.clone());
        tokio::spawn(async move {
            let (mut watermark, mut seen) = (Seq(0), BTreeSet::new());
            loop {
                // Read whether writers are done before the poll: a poll after they are done sees everything.
                let finished = done.load(Ordering::SeqCst);
                let page = node.changes_after(watermark, 16).await.unwrap();
                if let Some(last) = page.last() {
                    watermark = last.seq;
                }
                seen.extend(page.iter().map(|change| change.seq));
                if finished && page.is_empty() {
                    return seen;
                }
            }
        })
    };
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let node = nodes[w as usize % nodes.len()].clone();
            tokio::spawn(async move {
                let group = id(1_000 + w);
                for n in 1..=WRITES {
                    let actor = roster_store::suite::actor(i64::try_from(n).unwrap());
                    node.add_member(&group, &id(n), &actor).await.unwrap();
                    if n % 3 == 0 {
                        node.remove_member(&group, &id(n - 1), &actor).await.unwrap();
                    }
                    if n % 10 == 0 {
                        let definition = serde_json::json!({ "writer": w.to_string(), "n": n.to_string() });
                        node.put_application(&format!("app{w}"), definition, None, &actor, "Update application")
                            .await
                            .unwrap();
                    }
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let seen = reader.await.unwrap();
    let log: BTreeSet<Seq> =
        nodes[2].changes_after(Seq(0), usize::MAX).await.unwrap().into_iter().map(|change| change.seq).collect();
    let import = (WRITES + WRITERS) as usize; // the users and the groups, without members
    assert_eq!(log.len(), import + (WRITERS * (WRITES + WRITES / 3 + WRITES / 10)) as usize);
    let skipped: Vec<&Seq> = log.difference(&seen).collect();
    assert!(skipped.is_empty(), "the reader skipped {} of {} changes: {skipped:?}", skipped.len(), log.len());
}

/// Several nodes update one group and one user at once, each update a read-modify-write of the current resource:
/// members added by deltas and by rewriting the member list the closure read (`Replace`), and counters and lists in
/// the attributes that each update increments and appends to. No update is lost: every member is there, every
/// counter and list counts every update, and so do the versions. Without the row lock `update` takes, concurrent
/// closures read the same version and overwrite each other.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_read_modify_writes_from_several_nodes_lose_nothing() {
    use roster_store::suite::{at, enterprise, new_group, new_user, simple_user};
    const TASKS: usize = 8;
    const ROUNDS: usize = 12;
    let url = TestServer::shared().database().await;
    let nodes = connect_four(&url).await;
    let octo = enterprise(&nodes[0], "octo", "octo").await.id;
    let none = Relations::default();
    for task in 0..TASKS {
        for round in 0..ROUNDS {
            let id = format!("u{task}-{round}");
            nodes[0].create(octo, ResourceKind::User, simple_user(&id, &id), none).await.unwrap();
        }
    }
    nodes[0].create(octo, ResourceKind::Group, new_group("g", "All", "g", &[]), none).await.unwrap();
    let target = new_user("target", json!({"userName": "target", "x-count": 0, "x-log": []}), None);
    nodes[0].create(octo, ResourceKind::User, target, none).await.unwrap();

    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let node = nodes[task % nodes.len()].clone();
            tokio::spawn(async move {
                for round in 0..ROUNDS {
                    let member = format!("u{task}-{round}");
                    // Every other round reads the members and writes the whole list back.
                    let read_members = round % 2 == 1;
                    let group: UpdateFn = Box::new(move |current: &StoredResource| {
                        let members = match &current.members {
                            Some(members) => {
                                let mut ids: Vec<String> = members.iter().map(|member| member.id.clone()).collect();
                                ids.push(member);
                                MembershipChange::Replace(ids)
                            }
                            None => MembershipChange::Delta { add: vec![member], remove: Vec::new() },
                        };
                        Ok(Update { attributes: counted(current, task), login: None, members, at: at(1) })
                    });
                    node.update(octo, ResourceKind::Group, "g", read_members, group, none).await.unwrap();
                    let user: UpdateFn = Box::new(move |current: &StoredResource| {
                        let members = MembershipChange::Unchanged;
                        Ok(Update { attributes: counted(current, task), login: None, members, at: at(1) })
                    });
                    node.update(octo, ResourceKind::User, "target", false, user, none).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }

    let updates = TASKS * ROUNDS;
    let user = nodes[2].get(octo, ResourceKind::User, "target", none).await.unwrap().unwrap();
    let group = nodes[1].get(octo, ResourceKind::Group, "g", Relations { load: true }).await.unwrap().unwrap();
    for resource in [&user, &group] {
        assert_eq!(resource.attributes["x-count"], json!(updates), "{}: increments lost", resource.id);
        let log = resource.attributes["x-log"].as_array().unwrap();
        for task in 0..TASKS {
            let entries = log.iter().filter(|entry| **entry == json!(task)).count();
            assert_eq!(entries, ROUNDS, "{}: entries of task {task} lost", resource.id);
        }
        assert_eq!(resource.version, 1 + i64::try_from(updates).unwrap(), "{}", resource.id);
    }
    let mut members: Vec<String> = group.members.unwrap().into_iter().map(|member| member.id).collect();
    members.sort();
    let mut expected: Vec<String> =
        (0..TASKS).flat_map(|task| (0..ROUNDS).map(move |round| format!("u{task}-{round}"))).collect();
    expected.sort();
    assert_eq!(members, expected, "members lost");
}

/// The attributes of a resource with `x-count` incremented and the task appended to `x-log`.
fn counted(current: &StoredResource, task: usize) -> serde_json::Map<String, Value> {
    let mut attributes = current.attributes.clone();
    let count = attributes.get("x-count").and_then(Value::as_u64).unwrap_or(0);
    attributes.insert("x-count".into(), json!(count + 1));
    let mut log = attributes.get("x-log").and_then(Value::as_array).cloned().unwrap_or_default();
    log.push(json!(task));
    attributes.insert("x-log".into(), Value::Array(log));
    attributes
}

/// Nodes add users to a group while other nodes delete those users: each add either finds its user (and the
/// delete, waiting for the add's transaction, then removes the new membership with the user) or misses it
/// (`UnknownMember`). No membership ever names a deleted user.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn members_added_while_being_deleted_leave_no_dangling_membership() {
    use roster_provider::port::StoreError;
    use roster_store::suite::{at, enterprise, new_group, simple_user};
    const USERS: usize = 120;
    let url = TestServer::shared().database().await;
    let nodes = connect_four(&url).await;
    let octo = enterprise(&nodes[0], "octo", "octo").await.id;
    let none = Relations::default();
    for index in 0..USERS {
        let id = format!("u{index}");
        nodes[0].create(octo, ResourceKind::User, simple_user(&id, &id), none).await.unwrap();
    }
    nodes[0].create(octo, ResourceKind::Group, new_group("g", "All", "g", &[]), none).await.unwrap();
    // In waves: each user is added by one node and deleted by another at the same moment.
    for wave in 0..USERS / 8 {
        let mut tasks = Vec::new();
        for index in wave * 8..wave * 8 + 8 {
            let (adder, deleter) = (nodes[index % 4].clone(), nodes[(index + 1) % 4].clone());
            let id = format!("u{index}");
            let add = vec![id.clone()];
            tasks.push(tokio::spawn(async move {
                let change: UpdateFn = Box::new(move |current: &StoredResource| {
                    let members = MembershipChange::Delta { add, remove: Vec::new() };
                    Ok(Update { attributes: current.attributes.clone(), login: None, members, at: at(1) })
                });
                match adder.update(octo, ResourceKind::Group, "g", false, change, none).await {
                    Ok(_) | Err(StoreError::UnknownMember(_)) => {}
                    Err(other) => panic!("adding a member: {other:?}"),
                }
            }));
            tasks.push(tokio::spawn(async move {
                deleter.delete(octo, ResourceKind::User, &id, Box::new(|_| Ok(()))).await.unwrap();
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    }
    // Loading the members fails on a membership whose member does not exist.
    let group = nodes[0].get(octo, ResourceKind::Group, "g", Relations { load: true }).await.unwrap().unwrap();
    assert_eq!(group.members, Some(Vec::new()), "every user was deleted, so no member is left");
}

/// Two groups renamed and made members of each other at the same moment, from two nodes, round after round: each
/// update locks its own group and takes a key-share lock on the other (the member it adds), and neither lock waits
/// for the other, so no round deadlocks (PostgreSQL would abort one of the two updates).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn groups_renamed_and_nested_into_each_other_at_once_do_not_deadlock() {
    use roster_store::suite::{at, enterprise, new_group};
    let url = TestServer::shared().database().await;
    let nodes = connect_four(&url).await;
    let octo = enterprise(&nodes[0], "octo", "octo").await.id;
    let none = Relations::default();
    for id in ["g1", "g2"] {
        nodes[0].create(octo, ResourceKind::Group, new_group(id, id, id, &[]), none).await.unwrap();
    }
    for round in 0..10 {
        let tasks: Vec<_> = [("g1", "g2"), ("g2", "g1")]
            .into_iter()
            .enumerate()
            .map(|(index, (group, member))| {
                let node = nodes[index].clone();
                let name = format!("{group} round {round}");
                let add = vec![member.to_owned()];
                tokio::spawn(async move {
                    let change: UpdateFn = Box::new(move |current: &StoredResource| {
                        let mut attributes = current.attributes.clone();
                        attributes.insert("displayName".into(), json!(name));
                        let members = MembershipChange::Delta { add, remove: Vec::new() };
                        Ok(Update { attributes, login: None, members, at: at(1) })
                    });
                    node.update(octo, ResourceKind::Group, group, false, change, none).await
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        // Undo the nesting for the next round, one group after the other.
        for (group, member) in [("g1", "g2"), ("g2", "g1")] {
            let remove = vec![member.to_owned()];
            let change: UpdateFn = Box::new(move |current: &StoredResource| {
                let members = MembershipChange::Delta { add: Vec::new(), remove };
                Ok(Update { attributes: current.attributes.clone(), login: None, members, at: at(1) })
            });
            nodes[2].update(octo, ResourceKind::Group, group, false, change, none).await.unwrap();
        }
    }
}
