//! The Directory pages over a real SQLite store, through the router: users searched and paged on the server,
//! New user, Edit properties, Disable, Enable, Delete, Restore and Delete permanently; groups with their members,
//! Add and Remove members, Delete; a pasted directory file imported or refused with where it is wrong. Each change
//! is audited as the signed-in admin; a reader changes nothing; a form without the CSRF token changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed step is a test failure with its message")]

use axum::http::StatusCode;
use roster_directory::port::AuditQuery;
use roster_directory::{Directory, Group, ObjectId, User, UserPrincipalName};

mod support;

use support::*;

const MALLORY: &str = "00000000-0000-0000-0000-000000000007";

fn user(n: u128, upn: &str, name: &str) -> User {
    let mut user = User::new(ObjectId::from_u128(n), UserPrincipalName::parse(upn).unwrap());
    user.display_name = Some(name.to_owned());
    user
}

/// `count` users `user000@contoso.example`... with ids from 1000 on.
async fn add_users(portal: &Portal, count: u128) {
    let users =
        (0..count).map(|n| user(1000 + n, &format!("user{n:03}@contoso.example"), &format!("User {n:03}"))).collect();
    portal.stores.directory.import(Directory { users, groups: Vec::new() }, &cli()).await.unwrap();
}

/// The newest audit entry: its activity and who did it.
async fn last_audit(portal: &Portal) -> (String, String) {
    let entries = portal.stores.directory.audit(&AuditQuery { limit: 1, ..AuditQuery::default() }).await.unwrap();
    let entry = entries.first().expect("an audit entry");
    (entry.activity_display_name.clone(), entry.initiated_by.name().to_owned())
}

fn rows(body: &str) -> usize {
    body.matches("<th scope=\"row\">").count()
}

/// The `href` of the link whose text is `text`.
fn link<'a>(body: &'a str, text: &str) -> Option<&'a str> {
    let end = body.find(&format!("\" rel=\"next\">{text}</a>")).or_else(|| body.find(&format!("\">{text}</a>")))?;
    let start = body[..end].rfind("href=\"")? + 6;
    Some(&body[start..end])
}

fn unescape(link: &str) -> String {
    let link = link.split('#').next().unwrap_or_default();
    link.replace("&#38;", "&").replace("&amp;", "&")
}

#[tokio::test]
async fn users_are_paged_and_searched_on_the_server() {
    let portal = portal().await;
    add_users(&portal, 120).await;
    let (cookie, _) = portal.sign_in("ada@contoso.example").await;
    // Ada, Rita, Mallory and 120 users: 123 in three pages of 50.
    let first = portal.get("/users", Some(&cookie)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(rows(&first.body), 50);
    assert!(first.body.contains("&#60;img src=x onerror=alert(1)&#62;") && !first.body.contains(MARKUP));
    assert!(first.body.contains(&format!("href=\"/users/{MALLORY}\"")), "{}", first.body);
    let next = unescape(link(&first.body, "Next").expect("a Next link"));
    let second = portal.get(&next, Some(&cookie)).await;
    assert_eq!(rows(&second.body), 50);
    assert!(second.body.contains("First page"));
    let third = portal.get(&unescape(link(&second.body, "Next").unwrap()), Some(&cookie)).await;
    assert_eq!(rows(&third.body), 23);
    assert!(link(&third.body, "Next").is_none(), "the last page has no Next");

    // By the beginning of the user principal name, display name or mail, in any case.
    let search = portal.get("/users?search=USER11", Some(&cookie)).await;
    assert_eq!(rows(&search.body), 10, "{}", search.body);
    assert!(search.body.contains("user115@contoso.example"));
    let search = portal.get("/users?search=User+05", Some(&cookie)).await;
    assert_eq!(rows(&search.body), 10);
    let search = portal.get("/users?search=mall", Some(&cookie)).await;
    assert_eq!(rows(&search.body), 1);
    let search = portal.get(&format!("/users?search={MALLORY}"), Some(&cookie)).await;
    assert_eq!(rows(&search.body), 1, "an object id is looked up");
    let none = portal.get("/users?search=nobody", Some(&cookie)).await;
    assert!(none.body.contains("No users match \"nobody\""), "{}", none.body);
    // A cursor that is not one is refused in place.
    let bad = portal.get("/users?after=not-an-id", Some(&cookie)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("cursor is not valid"));
}

#[tokio::test]
async fn new_user_creates_the_user_as_the_api_does_and_refuses_bad_values_in_place() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    let page = portal.get("/users/new", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<label for=\"userPrincipalName\">"));
    let form = [
        ("csrf", csrf.as_str()),
        ("userPrincipalName", "grace@contoso.example"),
        ("displayName", "Grace Hopper"),
        ("mail", "grace@contoso.example"),
        ("givenName", "Grace"),
        ("surname", "Hopper"),
        ("accountEnabled", "true"),
    ];
    let answer = portal.post("/users/new", Some(&cookie), "same-origin", &form).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let created = portal.stores.directory.user_by_upn("grace@contoso.example").await.unwrap().expect("created");
    assert_eq!(answer.header("location"), format!("/users/{}?done=created", created.id()));
    assert_eq!(created.display_name.as_deref(), Some("Grace Hopper"));
    assert_eq!(created.mail_nickname.as_deref(), Some("grace"), "the mail nickname defaults as in the API");
    assert!(created.account_enabled);
    assert_eq!(last_audit(&portal).await, ("Add user".to_owned(), "ada@contoso.example".to_owned()));
    let page = portal.get(answer.header("location"), Some(&cookie)).await;
    assert!(page.body.contains("role=\"status\"") && page.body.contains("Created the user."), "{}", page.body);

    // Disabled from the start: the checkbox left out.
    let form = [("csrf", csrf.as_str()), ("userPrincipalName", "off@contoso.example"), ("displayName", "Off")];
    assert_eq!(portal.post("/users/new", Some(&cookie), "same-origin", &form).await.status, StatusCode::SEE_OTHER);
    let off = portal.stores.directory.user_by_upn("off@contoso.example").await.unwrap().unwrap();
    assert!(!off.account_enabled);

    let bad: [(&[(&str, &str)], &str); 3] = [
        (&[("userPrincipalName", "not-a-upn"), ("displayName", "X")], "userPrincipalName"),
        (&[("userPrincipalName", "x@contoso.example")], "Property &#39;displayName&#39; is required"),
        (&[("userPrincipalName", "MALLORY@contoso.example"), ("displayName", "M")], "already exists"),
    ];
    let (users_before, _) = portal.stores.directory.counts().await.unwrap();
    for (fields, message) in bad {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        let answer = portal.post("/users/new", Some(&cookie), "same-origin", &form).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{fields:?}");
        assert!(answer.body.contains("role=\"alert\"") && answer.body.contains(message), "{message}: {}", answer.body);
        assert!(answer.body.contains(&format!("value=\"{}\"", fields[0].1)), "the form keeps what was sent");
    }
    assert_eq!(portal.stores.directory.counts().await.unwrap().0, users_before, "nothing was created");
}

#[tokio::test]
async fn a_user_is_edited_disabled_enabled_deleted_restored_and_deleted_permanently() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    let path = format!("/users/{MALLORY}");
    let page = portal.get(&path, Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("mallory@contoso.example") && !page.body.contains(MARKUP));
    assert!(page.body.contains("Disable account") && page.body.contains("Edit properties"));
    assert_eq!(
        portal.get("/users/00000000-0000-0000-0000-000000000999", Some(&cookie)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(portal.get("/users/nonsense", Some(&cookie)).await.status, StatusCode::NOT_FOUND);

    // Edit properties: the form shows the values escaped; a blank field clears its property.
    let edit = portal.get(&format!("{path}/edit"), Some(&cookie)).await;
    assert_eq!(edit.status, StatusCode::OK);
    assert!(edit.body.contains("value=\"&#60;img src=x onerror=alert(1)&#62;\""), "{}", edit.body);
    let save = |fields: Vec<(&'static str, &'static str)>| {
        let mut form = vec![("csrf", csrf.clone())];
        form.extend(fields.into_iter().map(|(key, value)| (key, value.to_owned())));
        form
    };
    let send = async |form: Vec<(&str, String)>| {
        let form: Vec<(&str, &str)> = form.iter().map(|(key, value)| (*key, value.as_str())).collect();
        portal.post(&format!("{path}/edit"), Some(&cookie), "same-origin", &form).await
    };
    let answer = send(save(vec![
        ("userPrincipalName", "mallory@contoso.example"),
        ("displayName", "Mallory M."),
        ("jobTitle", "Tester"),
    ]))
    .await;
    assert_eq!((answer.status, answer.header("location")), (StatusCode::SEE_OTHER, &*format!("{path}?done=saved")));
    let stored = portal.stores.directory.user(&ObjectId::from_u128(7)).await.unwrap().unwrap();
    assert_eq!((stored.display_name.as_deref(), stored.job_title.as_deref()), (Some("Mallory M."), Some("Tester")));
    assert_eq!(last_audit(&portal).await.0, "Update user");
    for (fields, message) in [
        (vec![("userPrincipalName", "mallory@contoso.example")], "Display name is required."),
        (vec![("userPrincipalName", "no at sign"), ("displayName", "M")], "userPrincipalName"),
        (vec![("userPrincipalName", "ada@contoso.example"), ("displayName", "M")], "already exists"),
    ] {
        let answer = send(save(fields)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert!(
            answer.body.contains("id=\"form-error\"") && answer.body.contains(message),
            "{message}: {}",
            answer.body
        );
    }
    let stored = portal.stores.directory.user(&ObjectId::from_u128(7)).await.unwrap().unwrap();
    assert_eq!(stored.user_principal_name().as_str(), "mallory@contoso.example", "nothing changed");

    let lifecycle = async |action: &str, confirm: bool| {
        let mut form = vec![("csrf", csrf.as_str()), ("action", action)];
        if confirm {
            form.push(("confirm", "yes"));
        }
        portal.post(&format!("{path}/lifecycle"), Some(&cookie), "same-origin", &form).await
    };
    let stored = async || portal.stores.directory.user(&ObjectId::from_u128(7)).await.unwrap();

    let answer = lifecycle("disable", false).await;
    assert_eq!(answer.header("location"), format!("{path}?done=disabled"));
    assert!(!stored().await.unwrap().account_enabled);
    assert_eq!(last_audit(&portal).await, ("Disable account".to_owned(), "ada@contoso.example".to_owned()));
    assert!(portal.get(&path, Some(&cookie)).await.body.contains("Enable account"));
    assert_eq!(lifecycle("disable", false).await.header("location"), format!("{path}?done=unchanged"));
    assert_eq!(lifecycle("enable", false).await.header("location"), format!("{path}?done=enabled"));
    assert!(stored().await.unwrap().account_enabled);

    // Restore and Delete permanently only on a deleted user.
    let answer = lifecycle("restore", false).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.body.contains("role=\"alert\""), "{}", answer.body);
    let answer = lifecycle("purge", true).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.body.contains("Delete the user first"));

    assert_eq!(lifecycle("delete", false).await.header("location"), format!("{path}?done=deleted"));
    assert!(stored().await.unwrap().deleted_date_time.is_some());
    assert_eq!(last_audit(&portal).await.0, "Delete user");
    let page = portal.get(&path, Some(&cookie)).await;
    assert!(page.body.contains("Restore user") && page.body.contains("Delete permanently"));
    assert!(!page.body.contains("Edit properties"), "a deleted user is restored before it is edited");
    assert_eq!(portal.get(&format!("{path}/edit"), Some(&cookie)).await.status, StatusCode::BAD_REQUEST);
    let all = portal.get("/users", Some(&cookie)).await;
    assert!(!all.body.contains(MALLORY), "a deleted user is not among all users");
    for deleted in ["/users/deleted", "/users?deleted=1"] {
        let page = portal.get(deleted, Some(&cookie)).await;
        assert_eq!(rows(&page.body), 1, "{deleted}: {}", page.body);
        assert!(page.body.contains(MALLORY) && page.body.contains("Deleted date"));
    }

    assert_eq!(lifecycle("restore", false).await.header("location"), format!("{path}?done=restored"));
    assert!(stored().await.unwrap().deleted_date_time.is_none());
    assert_eq!(last_audit(&portal).await.0, "Restore user");

    lifecycle("delete", false).await;
    let answer = lifecycle("purge", false).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "not without the confirmation");
    assert!(stored().await.is_some());
    let answer = lifecycle("purge", true).await;
    assert_eq!(answer.header("location"), "/users/deleted?done=purged");
    assert!(stored().await.is_none());
    assert!(portal.get("/users/deleted?done=purged", Some(&cookie)).await.body.contains("No users are deleted."));
    assert_eq!(lifecycle("nonsense", false).await.status, StatusCode::NOT_FOUND, "the user is gone");

    // An admin does not disable or delete the account they are signed in with.
    let ada = portal.stores.directory.user_by_upn("ada@contoso.example").await.unwrap().unwrap();
    for action in ["disable", "delete"] {
        let form = [("csrf", csrf.as_str()), ("action", action)];
        let answer = portal.post(&format!("/users/{}/lifecycle", ada.id()), Some(&cookie), "same-origin", &form).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{action}");
        assert!(answer.body.contains("This is your own account"), "{}", answer.body);
    }
    let ada = portal.stores.directory.user_by_upn("ada@contoso.example").await.unwrap().unwrap();
    assert!(ada.account_enabled && ada.deleted_date_time.is_none());
}

#[tokio::test]
async fn groups_are_made_with_members_added_removed_paged_and_deleted() {
    let portal = portal().await;
    add_users(&portal, 60).await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    // New group: the name is required, and shown escaped.
    let answer =
        portal.post("/groups/new", Some(&cookie), "same-origin", &[("csrf", &csrf), ("description", "x")]).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.body.contains("displayName") && answer.body.contains("role=\"alert\""));
    let form = [("csrf", csrf.as_str()), ("displayName", MARKUP), ("description", "Everyone")];
    let answer = portal.post("/groups/new", Some(&cookie), "same-origin", &form).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let location = answer.header("location").to_owned();
    let id = location.trim_start_matches("/groups/").split('?').next().unwrap().to_owned();
    assert_eq!(last_audit(&portal).await, ("Add group".to_owned(), "ada@contoso.example".to_owned()));
    let path = format!("/groups/{id}");
    let page = portal.get(&location, Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains(MARKUP) && page.body.contains("&#60;img src=x"));
    assert!(page.body.contains("The group has no members."));

    let nested = Group::new(ObjectId::from_u128(50), "Engineering").unwrap();
    portal.stores.directory.import(Directory { users: Vec::new(), groups: vec![nested] }, &cli()).await.unwrap();
    let members = async |fields: &[(&str, &str)]| {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        portal.post(&format!("{path}/members"), Some(&cookie), "same-origin", &form).await
    };
    // A user by UPN, a group by name, a user by id.
    for principal in ["mallory@contoso.example", "engineering", "00000000-0000-0000-0000-0000000003e8"] {
        let answer = members(&[("action", "add"), ("principal", principal)]).await;
        assert_eq!(answer.header("location"), format!("{path}?done=added#members"), "{principal}: {}", answer.body);
    }
    assert_eq!(last_audit(&portal).await.1, "ada@contoso.example");
    let page = portal.get(&path, Some(&cookie)).await;
    assert_eq!(rows(&page.body), 3, "{}", page.body);
    assert!(page.body.contains("Engineering") && page.body.contains("user000@contoso.example"));
    assert!(page.body.contains("href=\"/groups/00000000-0000-0000-0000-000000000032\""));
    for (principal, message) in [
        ("mallory@contoso.example", "already a member"),
        ("nobody@contoso.example", "No user or group is"),
        ("<b>nobody</b>", "No user or group is"),
        ("", "Give a user principal name"),
    ] {
        let answer = members(&[("action", "add"), ("principal", principal)]).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{principal}");
        assert!(answer.body.contains("id=\"form-error\"") && answer.body.contains(message), "{}", answer.body);
        assert!(!answer.body.contains(MARKUP) && !answer.body.contains("<b>nobody"));
    }
    // The group's own name (markup) names the group itself.
    let answer = members(&[("action", "add"), ("principal", MARKUP)]).await;
    assert!(answer.body.contains("A group cannot be a member of itself."), "{}", answer.body);
    let answer = members(&[("action", "add"), ("principal", &id)]).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "a group is not its own member");

    let answer = members(&[("action", "remove"), ("id", MALLORY)]).await;
    assert_eq!(answer.header("location"), format!("{path}?done=removed#members"));
    let group = portal.stores.directory.group(&ObjectId::parse(&id).unwrap()).await.unwrap().unwrap();
    assert_eq!(group.members.len(), 2);
    assert!(members(&[("action", "remove"), ("id", MALLORY)]).await.status == StatusCode::BAD_REQUEST);

    // Members a page at a time: 61 members in pages of 50.
    for n in 1..60 {
        portal.stores.directory.add_member(group.id(), &ObjectId::from_u128(1000 + n), &cli()).await.unwrap();
    }
    let first = portal.get(&path, Some(&cookie)).await;
    assert_eq!(rows(&first.body), 50);
    assert!(first.body.contains("Members 1 to 50 of 61"), "{}", first.body);
    let second = portal.get(&unescape(link(&first.body, "Next").unwrap()), Some(&cookie)).await;
    assert_eq!(rows(&second.body), 11, "{}", second.body);
    assert!(second.body.contains("Members 51 to 61 of 61"));

    // The group list, searched.
    let list = portal.get("/groups", Some(&cookie)).await;
    assert_eq!(rows(&list.body), 2);
    assert_eq!(rows(&portal.get("/groups?search=eng", Some(&cookie)).await.body), 1);

    // Delete: only with the confirmation.
    let answer = portal.post(&format!("{path}/delete"), Some(&cookie), "same-origin", &[("csrf", &csrf)]).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.body.contains("I understand the group is deleted for good"));
    let form = [("csrf", csrf.as_str()), ("confirm", "yes")];
    let answer = portal.post(&format!("{path}/delete"), Some(&cookie), "same-origin", &form).await;
    assert_eq!(answer.header("location"), "/groups?done=deleted");
    assert!(portal.stores.directory.group(group.id()).await.unwrap().is_none());
    assert_eq!(last_audit(&portal).await.0, "Hard Delete group");
    assert_eq!(portal.get(&path, Some(&cookie)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_pasted_directory_file_is_imported_or_refused_with_where_it_is_wrong() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    assert_eq!(portal.get("/users/import", Some(&cookie)).await.status, StatusCode::OK);
    let import = async |format: &str, text: &str| {
        let form = [("csrf", csrf.as_str()), ("format", format), ("text", text)];
        portal.post("/users/import", Some(&cookie), "same-origin", &form).await
    };
    let json = r#"{"users": [
        {"id": "00000000-0000-0000-0000-0000000000a1", "userPrincipalName": "ann@contoso.example", "displayName": "Ann"},
        {"id": "00000000-0000-0000-0000-000000000007", "userPrincipalName": "mallory@contoso.example", "displayName": "Mallory"}
    ], "groups": [{"id": "00000000-0000-0000-0000-0000000000b1", "displayName": "Imported", "members": ["00000000-0000-0000-0000-0000000000a1"]}]}"#;
    let answer = import("json", json).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.body.contains("Imported 2 users and 1 group."), "{}", answer.body);
    assert!(answer.body.contains("role=\"status\""));
    assert!(portal.stores.directory.user_by_upn("ann@contoso.example").await.unwrap().is_some());
    let imported = portal.stores.directory.group(&ObjectId::from_u128(0xb1)).await.unwrap().unwrap();
    assert_eq!(imported.members, vec![ObjectId::from_u128(0xa1)]);
    assert_eq!(last_audit(&portal).await.1, "ada@contoso.example");

    let csv = "id,userPrincipalName,displayName\n00000000-0000-0000-0000-0000000000a2,bob@contoso.example,Bob\n";
    let answer = import("csv", csv).await;
    assert!(answer.body.contains("Imported 1 user and 0 groups."), "{}", answer.body);

    // The line of a bad JSON Lines file, and the text kept to correct.
    let jsonl = "{\"objectType\": \"user\", \"id\": \"00000000-0000-0000-0000-0000000000a3\", \"userPrincipalName\": \"cy@contoso.example\"}\n{not json}\n";
    let (users_before, groups_before) = portal.stores.directory.counts().await.unwrap();
    let answer = import("jsonl", jsonl).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.body.contains("role=\"alert\"") && answer.body.contains("line 2"), "{}", answer.body);
    assert!(answer.body.contains("cy@contoso.example"), "the text is kept");
    let refused = [
        ("csv", "id,displayName\nx,y\n", "missing column userPrincipalName"),
        ("json", "{\"users\": [{\"id\": \"00000000-0000-0000-0000-0000000000a4\"}]}", "users[0]"),
        (
            "json",
            "{\"groups\": [{\"id\": \"00000000-0000-0000-0000-0000000000b2\", \"displayName\": \"G\", \"members\": [\"00000000-0000-0000-0000-0000000000ff\"]}]}",
            "does not exist",
        ),
        ("xml", "<users/>", "There is no format"),
        ("json", "  ", "Choose a directory file, or paste its content"),
    ];
    for (format, text, message) in refused {
        let answer = import(format, text).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{format} {text}");
        assert!(answer.body.contains(message), "{message}: {}", answer.body);
    }
    assert_eq!(portal.stores.directory.counts().await.unwrap(), (users_before, groups_before), "nothing imported");
    // Markup in the pasted text is shown as text.
    let answer = import("json", MARKUP).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(!answer.body.contains(MARKUP), "{}", answer.body);
}

#[tokio::test]
async fn a_reports_reader_reads_the_directory_and_changes_nothing() {
    let portal = portal().await;
    let group = Group::new(ObjectId::from_u128(60), "Readers see me").unwrap();
    portal.stores.directory.import(Directory { users: Vec::new(), groups: vec![group] }, &cli()).await.unwrap();
    portal.stores.directory.add_member(&ObjectId::from_u128(60), &ObjectId::from_u128(7), &cli()).await.unwrap();
    let (cookie, csrf) = portal.sign_in("rita@contoso.example").await;
    let group_path = "/groups/00000000-0000-0000-0000-00000000003c";
    for path in ["/users", "/users/deleted", &format!("/users/{MALLORY}"), "/groups", group_path] {
        let answer = portal.get(path, Some(&cookie)).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert_eq!(answer.body.matches("method=\"post\"").count(), 1, "only the sign-out form on {path}");
        assert!(!answer.body.contains("New user") && !answer.body.contains("Edit properties"), "{path}");
    }
    for path in ["/users/new", "/groups/new", "/users/import", &format!("/users/{MALLORY}/edit")] {
        assert_eq!(portal.get(path, Some(&cookie)).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    let posts: [(String, Vec<(&str, &str)>); 7] = [
        ("/users/new".into(), vec![("userPrincipalName", "r@contoso.example"), ("displayName", "R")]),
        (format!("/users/{MALLORY}/edit"), vec![("userPrincipalName", "m@contoso.example"), ("displayName", "M")]),
        (format!("/users/{MALLORY}/lifecycle"), vec![("action", "disable")]),
        ("/groups/new".into(), vec![("displayName", "G")]),
        (format!("{group_path}/members"), vec![("action", "remove"), ("id", MALLORY)]),
        (format!("{group_path}/delete"), vec![("confirm", "yes")]),
        (
            "/users/import".into(),
            vec![
                ("format", "csv"),
                ("text", "id,userPrincipalName\n00000000-0000-0000-0000-0000000000a9,r@contoso.example\n"),
            ],
        ),
    ];
    for (path, fields) in posts {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(fields);
        let answer = portal.post(&path, Some(&cookie), "same-origin", &form).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path}: {}", answer.body);
    }
    let mallory = portal.stores.directory.user(&ObjectId::from_u128(7)).await.unwrap().unwrap();
    assert!(mallory.account_enabled && mallory.user_principal_name().as_str() == "mallory@contoso.example");
    let group = portal.stores.directory.group(&ObjectId::from_u128(60)).await.unwrap().unwrap();
    assert_eq!(group.members.len(), 1);
    assert_eq!(portal.stores.directory.counts().await.unwrap(), (3, 1), "nothing was created");
}

#[tokio::test]
async fn a_directory_form_without_the_csrf_token_changes_nothing() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    let cases: [(String, Vec<(&str, &str)>); 3] = [
        (format!("/users/{MALLORY}/lifecycle"), vec![("action", "delete")]),
        ("/users/new".into(), vec![("userPrincipalName", "x@contoso.example"), ("displayName", "X")]),
        (
            "/users/import".into(),
            vec![
                ("format", "csv"),
                ("text", "id,userPrincipalName\n00000000-0000-0000-0000-0000000000a9,x@contoso.example\n"),
            ],
        ),
    ];
    for (path, fields) in &cases {
        for (site, token) in [("same-origin", None), ("same-origin", Some("0000")), ("cross-site", Some(csrf.as_str()))]
        {
            let mut form = fields.clone();
            if let Some(token) = token {
                form.push(("csrf", token));
            }
            let answer = portal.post(path, Some(&cookie), site, &form).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path} {site} {token:?}");
            assert!(answer.body.contains("CsrfCheckFailed"));
        }
    }
    let mallory = portal.stores.directory.user(&ObjectId::from_u128(7)).await.unwrap().unwrap();
    assert!(mallory.deleted_date_time.is_none());
    assert_eq!(portal.stores.directory.counts().await.unwrap().0, 3);
}

/// A multipart form: the fields, then a file part; with the session's cookie, from the portal's own page.
async fn post_file(portal: &Portal, cookie: &str, fields: &[(&str, &str)], file: (&str, &str)) -> Answer {
    let boundary = "roster-test-boundary-7d3f";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"));
    }
    let (filename, text) = file;
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n{text}\r\n--{boundary}--\r\n"
    ));
    let request = axum::http::Request::post("/users/import")
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .header("sec-fetch-site", "same-origin")
        .header("cookie", cookie)
        .body(axum::body::Body::from(body))
        .unwrap();
    portal.send(request).await
}

#[tokio::test]
async fn a_directory_file_is_uploaded_its_extension_naming_its_format_larger_than_a_form() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    // 2,000 users as JSON Lines: about 300 KiB, more than a form takes, less than a file may be.
    let lines: Vec<String> = (0..2000u32)
        .map(|n| {
            format!(
                "{{\"objectType\": \"user\", \"id\": \"{:08x}-0000-4000-8000-000000000000\", \"userPrincipalName\": \
                 \"bulk{n}@contoso.example\", \"displayName\": \"Bulk user number {n} with a long enough name\", \
                 \"department\": \"Department of things that make lines longer {n}\", \"accountEnabled\": true}}",
                0x1000_0000 + n
            )
        })
        .collect();
    let text = lines.join("\n");
    assert!(text.len() > roster_portal::MAX_FORM, "{}", text.len());
    let (users_before, _) = portal.stores.directory.counts().await.unwrap();
    let answer = post_file(&portal, &cookie, &[("csrf", &csrf), ("format", "json")], ("people.jsonl", &text)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.body.contains("Imported 2,000 users and 0 groups."), "{}", answer.body);
    assert_eq!(portal.stores.directory.counts().await.unwrap().0, users_before + 2000);
    // Without the CSRF token, a file changes nothing either.
    let answer =
        post_file(&portal, &cookie, &[("format", "jsonl")], ("more.jsonl", &lines[0].replace("bulk0", "other"))).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    // A file that is not a directory file says where, and is not echoed back into the page.
    let answer =
        post_file(&portal, &cookie, &[("csrf", &csrf)], ("broken.csv", "userPrincipalName\n\"unterminated")).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert!(answer.body.contains("role=\"alert\"") && !answer.body.contains("unterminated"), "{}", answer.body);
    assert_eq!(portal.stores.directory.counts().await.unwrap().0, users_before + 2000);
}
