//! The directory writes the admin API and the portal share, over a real SQLite store: a user created and changed
//! from Graph attributes, a group created, a pasted import; what each refuses, and that a refusal writes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed step is a test failure with its message")]

use std::sync::Arc;

use roster_directory::audit::{Actor, Initiator};
use roster_service::directory::{self, Format};
use roster_service::{ErrorKind, ServiceError, Stores};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

fn cli() -> Actor {
    Actor::new(Initiator::command_line("test"), OffsetDateTime::now_utc())
}

fn attributes(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[tokio::test]
async fn users_and_groups_are_written_from_graph_attributes_and_bad_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    let stores = Stores::over(Arc::new(roster_store::SqliteStore::open(&dir.path().join("roster.db")).unwrap()));
    let ada = directory::create_user(
        &stores,
        &cli(),
        attributes(json!({"userPrincipalName": "ada@contoso.example", "displayName": "Ada", "accountEnabled": false})),
    )
    .await
    .unwrap();
    assert_eq!(ada.mail_nickname.as_deref(), Some("ada"));
    assert!(!ada.account_enabled);
    let refused = [
        json!({"userPrincipalName": "ADA@contoso.example", "displayName": "Twin"}),
        json!({"userPrincipalName": "x@contoso.example", "displayName": " "}),
        json!({"userPrincipalName": "not a upn", "displayName": "X"}),
        json!({"userPrincipalName": "y@contoso.example", "displayName": "Y", "accountEnabled": "yes"}),
    ];
    for body in refused {
        let error = directory::create_user(&stores, &cli(), attributes(body.clone())).await.unwrap_err();
        assert_eq!(ServiceError::kind_of(&error), ErrorKind::Invalid, "{body}: {error:#}");
    }
    assert_eq!(stores.directory.counts().await.unwrap(), (1, 0), "nothing else was written");

    let changes = attributes(json!({"displayName": "Ada L.", "jobTitle": "Analyst", "mailNickname": null}));
    let changed = directory::update_user(&stores, &cli(), ada.id(), changes).await.unwrap();
    assert_eq!((changed.display_name.as_deref(), changed.job_title.as_deref()), (Some("Ada L."), Some("Analyst")));
    assert_eq!(changed.mail_nickname, None);
    assert_eq!(stores.directory.user(ada.id()).await.unwrap().unwrap(), changed);
    let error = directory::update_user(&stores, &cli(), ada.id(), attributes(json!({"id": "x"}))).await.unwrap_err();
    assert_eq!(ServiceError::kind_of(&error), ErrorKind::Invalid);
    let nobody = roster_directory::ObjectId::from_u128(9);
    let error = directory::update_user(&stores, &cli(), &nobody, Map::new()).await.unwrap_err();
    assert_eq!(ServiceError::kind_of(&error), ErrorKind::NotFound);

    let group = directory::create_group(&stores, &cli(), attributes(json!({"displayName": "Analysts"}))).await.unwrap();
    assert_eq!(stores.directory.group(group.id()).await.unwrap().unwrap().display_name(), "Analysts");
    let error = directory::create_group(&stores, &cli(), Map::new()).await.unwrap_err();
    assert_eq!(ServiceError::kind_of(&error), ErrorKind::Invalid);

    let text = format!("id,userPrincipalName\n{},bob@contoso.example\n", roster_directory::ObjectId::from_u128(2));
    let summary = directory::import_text(&stores, &cli(), Format::Csv, text).await.unwrap();
    assert_eq!(summary.users_created, 1);
    let error = directory::import_text(&stores, &cli(), Format::Jsonl, "{}\n{oops\n".to_owned()).await.unwrap_err();
    assert_eq!(ServiceError::kind_of(&error), ErrorKind::Invalid);
    assert!(format!("{error:#}").contains("line 1"), "{error:#}");
}
