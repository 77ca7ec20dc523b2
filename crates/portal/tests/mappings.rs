//! The attribute mapping editor, the scoping filter editor and the expression builder, through the router over a
//! real SQLite store: a change saved and audited, bad input answered in place with 400, a change that forces an
//! initial cycle said first and saved only once confirmed, the live count of who is in scope, a reader refused.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed step is a test failure with its message")]

use axum::http::StatusCode;
use roster_directory::port::{Assignment, PrincipalKind};
use roster_directory::{Directory, ObjectId, User, UserPrincipalName};
use roster_engine::definition::{Definition, MappingKind};
use roster_service::{audit, provisioning};

mod support;

use support::*;

const MAPPING: &str = "/applications/github/mappings/users";
const ATTRIBUTE: &str = "/applications/github/mappings/users/attribute";
const SCOPING: &str = "/applications/github/scoping/users";

async fn definition(portal: &Portal) -> Definition {
    provisioning::definition(&portal.stores, "github").await.unwrap()
}

/// Makes the job look as after a completed cycle: a change of mappings then forces an initial one.
async fn after_a_cycle(portal: &Portal) {
    let mut job = portal.stores.engine.job("github").await.unwrap();
    job.watermark = Some(1);
    job.definition_digest = Some(roster_engine::cycle::definition_digest(&definition(portal).await));
    portal.stores.engine.put_job("github", &job).await.unwrap();
}

/// Users in Engineering and Sales, assigned to the application.
async fn staff(portal: &Portal) {
    let mut users = Vec::new();
    for (index, department) in ["Engineering", "Engineering", "Sales"].into_iter().enumerate() {
        let upn = format!("staff{index}@contoso.example");
        let mut user = User::new(ObjectId::from_u128(100 + index as u128), UserPrincipalName::parse(&upn).unwrap());
        user.department = Some(department.to_owned());
        users.push(user);
    }
    let directory = Directory { users: users.clone(), groups: Vec::new() };
    portal.stores.directory.import(directory, &cli()).await.unwrap();
    for user in &users {
        let assignment = Assignment { principal: user.id().clone(), kind: PrincipalKind::User, role: None };
        portal.stores.directory.assign("github", assignment, &cli()).await.unwrap();
    }
}

fn user_name_mapping(definition: &Definition) -> &roster_engine::definition::Mapping {
    definition.users.mappings.iter().find(|mapping| mapping.target == "userName").unwrap()
}

#[tokio::test]
async fn an_edited_attribute_is_saved_and_audited() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    let page = portal.get(&format!("{ATTRIBUTE}?target=userName"), Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("name=\"original\" value=\"userName\""), "{}", page.body);
    let form = [
        ("csrf", csrf.as_str()),
        ("original", "userName"),
        ("type", "expression"),
        ("expression", "ToLower([userPrincipalName])"),
        ("target", "userName"),
        ("matching", "on"),
        ("precedence", "1"),
        ("apply", "always"),
    ];
    let answer = portal.post(ATTRIBUTE, Some(&cookie), "same-origin", &form).await;
    assert_eq!(
        (answer.status, answer.header("location")),
        (StatusCode::SEE_OTHER, "/applications/github/mappings/users?notice=saved")
    );
    let mapping = user_name_mapping(&definition(&portal).await).clone();
    assert_eq!(
        (mapping.kind, mapping.source.as_deref()),
        (MappingKind::Expression, Some("ToLower([userPrincipalName])"))
    );
    let page = portal.get(answer.header("location"), Some(&cookie)).await;
    assert!(page.body.contains("Saved.") && page.body.contains("ToLower([userPrincipalName])"), "{}", page.body);
    let entries = audit::entries(&portal.stores, None, 50).await.unwrap();
    assert!(
        entries.iter().any(|entry| entry.activity_display_name == provisioning::activity::UPDATE_MAPPINGS),
        "{entries:?}"
    );
}

#[tokio::test]
async fn bad_input_is_answered_in_place_and_nothing_changes() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    let before = definition(&portal).await;
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("type", "expression"), ("expression", "Join(\" \", [givenName]"), ("target", "displayName")], "column"),
        (&[("type", "direct"), ("source", ""), ("target", "displayName")], "source attribute"),
        (&[("type", "direct"), ("source", "mail"), ("target", "")], "target attribute"),
        (&[("type", "direct"), ("source", "mail"), ("target", "userName")], "already has a mapping"),
        (
            &[
                ("type", "direct"),
                ("source", "mail"),
                ("target", "displayName"),
                ("matching", "on"),
                ("precedence", "x"),
            ],
            "precedence",
        ),
    ];
    for (fields, expected) in cases {
        let mut form = vec![("csrf", csrf.as_str()), ("original", "")];
        form.extend_from_slice(fields);
        let answer = portal.post(ATTRIBUTE, Some(&cookie), "same-origin", &form).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{fields:?}: {}", answer.body);
        assert!(
            answer.body.contains("role=\"alert\"") && answer.body.contains(expected),
            "{fields:?}: {}",
            answer.body
        );
    }
    // A mapping someone else removed meanwhile.
    let delete = [("csrf", csrf.as_str()), ("action", "delete"), ("target", "nickName")];
    let answer = portal.post(MAPPING, Some(&cookie), "same-origin", &delete).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert!(answer.body.contains("There is no mapping of"), "{}", answer.body);
    assert_eq!(definition(&portal).await, before);
}

#[tokio::test]
async fn a_change_that_forces_an_initial_cycle_is_said_first_and_saved_once_confirmed() {
    let portal = portal().await;
    after_a_cycle(&portal).await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    let before = definition(&portal).await;
    let form =
        [("csrf", csrf.as_str()), ("original", ""), ("type", "constant"), ("constant", "Contoso"), ("target", "title")];
    let answer = portal.post(ATTRIBUTE, Some(&cookie), "same-origin", &form).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.body.contains("makes the next cycle an initial one"), "{}", answer.body);
    assert!(answer.body.contains("name=\"constant\" value=\"Contoso\""), "the form comes back: {}", answer.body);
    assert_eq!(definition(&portal).await, before, "nothing is saved before the confirmation");
    let mut confirmed = form.to_vec();
    confirmed.push(("confirmed", "on"));
    let answer = portal.post(ATTRIBUTE, Some(&cookie), "same-origin", &confirmed).await;
    assert_eq!(answer.header("location"), "/applications/github/mappings/users?notice=saved-initial");
    let after = definition(&portal).await;
    assert!(after.users.mappings.iter().any(|mapping| mapping.target == "title"), "{after:?}");
    // Target Object Actions and Restore default mappings go the same way.
    let settings =
        [("csrf", csrf.as_str()), ("action", "settings"), ("create", "on"), ("update", "on"), ("confirmed", "on")];
    let answer = portal.post(MAPPING, Some(&cookie), "same-origin", &settings).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert!(!definition(&portal).await.users.actions.delete);
    let restore = [("csrf", csrf.as_str()), ("action", "restore"), ("confirmed", "on")];
    portal.post(MAPPING, Some(&cookie), "same-origin", &restore).await;
    let restored = definition(&portal).await;
    assert!(restored.users.actions.delete && !restored.users.mappings.iter().any(|mapping| mapping.target == "title"));
}

#[tokio::test]
async fn the_scoping_editor_adds_rows_counts_and_saves() {
    let portal = portal().await;
    staff(&portal).await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    let page = portal.get(SCOPING, Some(&cookie)).await;
    assert!(page.body.contains("id=\"no-filters\""), "{}", page.body);
    // Add scoping filter (no JavaScript): the form again with one blank clause, nothing saved.
    let answer = portal.post(SCOPING, Some(&cookie), "same-origin", &[("csrf", &csrf), ("action", "add-filter")]).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.contains("name=\"f0.c0.attribute\""), "{}", answer.body);
    assert!(definition(&portal).await.users.scoping_filters.is_empty());
    let clause = [
        ("csrf", csrf.as_str()),
        ("f0.title", "Engineers"),
        ("f0.c0.attribute", "department"),
        ("f0.c0.operator", "EQUALS"),
        ("f0.c0.value", "Engineering"),
    ];
    let mut count = clause.to_vec();
    count.push(("action", "count"));
    let answer = portal.post(SCOPING, Some(&cookie), "same-origin", &count).await;
    // Mallory and three staff are assigned; two are in Engineering.
    assert!(answer.body.contains("2 users in scope with these filters (+0, −2 against the 4 now)."), "{}", answer.body);
    let mut add = clause.to_vec();
    add.push(("action", "add-clause:0"));
    let answer = portal.post(SCOPING, Some(&cookie), "same-origin", &add).await;
    assert!(answer.body.contains("name=\"f0.c1.attribute\""), "{}", answer.body);
    let mut save = clause.to_vec();
    save.push(("action", "save"));
    let answer = portal.post(SCOPING, Some(&cookie), "same-origin", &save).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let filters = definition(&portal).await.users.scoping_filters;
    assert_eq!((filters.len(), filters[0].title.as_deref()), (1, Some("Engineers")));
    let page = portal.get(MAPPING, Some(&cookie)).await;
    assert!(page.body.contains("Engineers: department EQUALS &#34;Engineering&#34;"), "{}", page.body);
    // A clause that cannot be evaluated is refused in place.
    let bad = [
        ("csrf", csrf.as_str()),
        ("action", "save"),
        ("f0.c0.attribute", "department"),
        ("f0.c0.operator", "REGEX MATCH"),
        ("f0.c0.value", "("),
    ];
    let answer = portal.post(SCOPING, Some(&cookie), "same-origin", &bad).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert_eq!(definition(&portal).await.users.scoping_filters, filters);
}

#[tokio::test]
async fn the_expression_builder_parses_and_tests_against_a_user() {
    let portal = portal().await;
    staff(&portal).await;
    let (cookie, _) = portal.sign_in("rita@contoso.example").await;
    let page = portal
        .get("/applications/github/expression-builder?expression=Join(%22-%22%2C%20%5Bdepartment%5D%2C%20%22x%22)&user=staff2%40contoso.example", Some(&cookie))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("For staff2@contoso.example: Sales-x"), "{}", page.body);
    assert!(page.body.contains("Join (function)"), "{}", page.body);
    assert!(!page.body.contains("id=\"use-expression\""), "a reader is not offered to change a mapping");
    let page = portal.get("/applications/github/expression-builder?expression=Join(%22-%22%2C", Some(&cookie)).await;
    assert!(page.body.contains("id=\"parse-error\"") && page.body.contains("Column "), "{}", page.body);
    let page = portal
        .get(
            "/applications/github/expression-builder?expression=%5Bmail%5D&user=nobody%40contoso.example",
            Some(&cookie),
        )
        .await;
    assert!(page.body.contains("No directory user is"), "{}", page.body);
}

#[tokio::test]
async fn a_reader_cannot_change_mappings_or_scoping() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("rita@contoso.example").await;
    let before = definition(&portal).await;
    let posts: [(&str, Vec<(&str, &str)>); 4] = [
        (ATTRIBUTE, vec![("type", "constant"), ("constant", "x"), ("target", "title")]),
        (MAPPING, vec![("action", "restore")]),
        (MAPPING, vec![("action", "delete"), ("target", "displayName")]),
        (SCOPING, vec![("action", "save"), ("f0.c0.attribute", "mail"), ("f0.c0.operator", "IS NULL")]),
    ];
    for (path, fields) in posts {
        let mut form = vec![("csrf", csrf.as_str()), ("confirmed", "on")];
        form.extend(fields);
        let answer = portal.post(path, Some(&cookie), "same-origin", &form).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path}: {}", answer.body);
    }
    assert_eq!(definition(&portal).await, before);
    let page = portal.get(SCOPING, Some(&cookie)).await;
    assert!(!page.body.contains("id=\"save-scoping\""), "{}", page.body);
}
