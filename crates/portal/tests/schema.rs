//! An application's Review your schema and Unmanaged objects over a real SQLite store, through the router: the
//! definition shown and downloaded without the secret token, uploaded back (the name checked, the secret token
//! kept, errors in place with 400, an initial cycle said first); and the target's objects roster does not manage,
//! read from roster's own SCIM service provider on a real port, paged, and a failing target said in place.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed step is a test failure with its message")]

use axum::http::StatusCode;
use roster_engine::definition::Scope;
use roster_scim_client::{ClientConfig, Kind, ScimClient};
use roster_service::provisioning::{self, DefinitionFormat};
use serde_json::json;

mod support;

use support::*;

const PAGE: &str = "/applications/github/definition";

async fn stored_token(portal: &Portal) -> String {
    let record = portal.stores.directory.application("github").await.unwrap().unwrap();
    portal.key.open(&record.sealed_secret.expect("a secret token")).unwrap()
}

async fn upload(portal: &Portal, cookie: &str, csrf: &str, text: &str, format: &str) -> Answer {
    let form = [("csrf", csrf), ("definition", text), ("format", format)];
    portal.post(PAGE, Some(cookie), "same-origin", &form).await
}

#[tokio::test]
async fn the_definition_is_shown_and_downloaded_without_the_secret_token() {
    let portal = portal().await;
    let (cookie, _) = portal.sign_in("ada@contoso.example").await;
    let mapping = portal.get("/applications/github/mappings/users", Some(&cookie)).await;
    assert!(mapping.body.contains("href=\"/applications/github/definition\" id=\"review-schema\""));

    let page = portal.get(PAGE, Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Review your schema") && page.body.contains("id=\"upload-form\""));
    assert!(page.body.contains("name = &#34;github&#34;"), "the TOML, escaped: {}", page.body);
    assert!(page.body.contains("&#34;name&#34;: &#34;github&#34;"), "the JSON");
    assert!(!page.body.contains(TOKEN));

    let stored = provisioning::definition(&portal.stores, "github").await.unwrap();
    for (format, kind, content_type) in [
        ("toml", DefinitionFormat::Toml, "application/toml; charset=utf-8"),
        ("json", DefinitionFormat::Json, "application/json"),
    ] {
        let file = portal.get(&format!("{PAGE}?format={format}"), Some(&cookie)).await;
        assert_eq!(file.status, StatusCode::OK);
        assert_eq!(file.header("content-type"), content_type);
        assert_eq!(file.header("content-disposition"), format!("attachment; filename=\"github.{format}\""));
        assert!(!file.body.contains(TOKEN));
        assert_eq!(provisioning::parse_definition(&file.body, kind).unwrap(), stored, "{format} reads back");
    }
    assert_eq!(portal.get(&format!("{PAGE}?format=yaml"), Some(&cookie)).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(portal.get("/applications/nope/definition", Some(&cookie)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_uploaded_definition_replaces_the_stored_one_and_keeps_its_secret_token() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    let stored = provisioning::definition(&portal.stores, "github").await.unwrap();

    // The same text again changes nothing.
    let toml = portal.get(&format!("{PAGE}?format=toml"), Some(&cookie)).await.body;
    let answer = upload(&portal, &cookie, &csrf, &toml, "detect").await;
    assert_eq!(answer.header("location"), "/applications/github/definition?notice=unchanged");

    // A changed JSON definition, detected as JSON: stored, with the secret token kept.
    let mut changed = stored.clone();
    changed.display_name = Some(MARKUP.to_owned());
    changed.deletion_threshold = 42;
    let json = provisioning::print_definition(&changed, DefinitionFormat::Json).unwrap();
    let answer = upload(&portal, &cookie, &csrf, &json, "detect").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(answer.header("location"), "/applications/github/definition?notice=saved");
    let now = provisioning::definition(&portal.stores, "github").await.unwrap();
    assert_eq!((now.display_name.as_deref(), now.deletion_threshold), (Some(MARKUP), 42));
    assert_eq!(stored_token(&portal).await, TOKEN, "the secret token is kept");
    let page = portal.get(answer.header("location"), Some(&cookie)).await;
    assert!(page.body.contains("Saved."), "{}", page.body);
    assert!(!page.body.contains(MARKUP), "the display name is escaped everywhere on the page");

    // A text with a secret token sets it.
    let with_token = format!("secret_token = \"ghp_from-the-upload-0123\"\n{toml}");
    let answer = upload(&portal, &cookie, &csrf, &with_token, "toml").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(stored_token(&portal).await, "ghp_from-the-upload-0123");
    assert_eq!(provisioning::definition(&portal.stores, "github").await.unwrap(), stored, "rolled back");
}

#[tokio::test]
async fn a_wrong_definition_is_shown_in_place_with_400_and_changes_nothing() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    let stored = provisioning::definition(&portal.stores, "github").await.unwrap();
    let toml = provisioning::print_definition(&stored, DefinitionFormat::Toml).unwrap();
    let mut other = stored.clone();
    other.name = "slack".to_owned();
    let other = provisioning::print_definition(&other, DefinitionFormat::Toml).unwrap();
    let mut bad_url = stored.clone();
    bad_url.target.tenant_url = "ftp://example.com/scim".to_owned();
    let bad_url = provisioning::print_definition(&bad_url, DefinitionFormat::Toml).unwrap();
    let markup = format!("name = \"{MARKUP}\"\n");
    let cases = [
        ("   ", "detect", "Paste a definition first"),
        ("name = [unclosed", "toml", "The definition is not valid"),
        (&toml, "json", "The definition is not valid"),
        (&other, "detect", "not &#34;github&#34;"),
        (&bad_url, "detect", "tenant URL"),
        (&markup, "toml", "The definition is not valid"),
        (&toml, "yaml", "choose toml or json"),
    ];
    for (text, format, message) in cases {
        let answer = upload(&portal, &cookie, &csrf, text, format).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{text}: {}", answer.body);
        assert!(answer.body.contains("id=\"form-error\"") && answer.body.contains("role=\"alert\""));
        assert!(answer.body.contains(message), "{message}: {}", answer.body);
        assert!(!answer.body.contains(MARKUP), "the text sent back is escaped");
    }
    assert_eq!(provisioning::definition(&portal.stores, "github").await.unwrap(), stored);
}

#[tokio::test]
async fn an_upload_that_forces_an_initial_cycle_is_confirmed_first() {
    let portal = portal().await;
    let (cookie, csrf) = portal.sign_in("ada@contoso.example").await;
    let mut job = portal.stores.engine.job("github").await.unwrap();
    job.watermark = Some(1);
    portal.stores.engine.put_job("github", &job).await.unwrap();
    let mut changed = provisioning::definition(&portal.stores, "github").await.unwrap();
    changed.scope = Scope::All;
    let text = provisioning::print_definition(&changed, DefinitionFormat::Toml).unwrap();
    let answer = upload(&portal, &cookie, &csrf, &text, "toml").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.body.contains("makes the next cycle an initial one"), "{}", answer.body);
    assert_eq!(provisioning::definition(&portal.stores, "github").await.unwrap().scope, Scope::Assigned);
    let form = [("csrf", csrf.as_str()), ("definition", &text), ("format", "toml"), ("confirmed", "on")];
    let answer = portal.post(PAGE, Some(&cookie), "same-origin", &form).await;
    assert_eq!(answer.header("location"), "/applications/github/definition?notice=saved-initial");
    assert_eq!(provisioning::definition(&portal.stores, "github").await.unwrap().scope, Scope::All);
}

#[tokio::test]
async fn a_reader_or_a_form_without_the_token_uploads_nothing() {
    let portal = portal().await;
    let stored = provisioning::definition(&portal.stores, "github").await.unwrap();
    let mut changed = stored.clone();
    changed.deletion_threshold = 7;
    let text = provisioning::print_definition(&changed, DefinitionFormat::Toml).unwrap();
    let (reader, reader_csrf) = portal.sign_in("rita@contoso.example").await;
    let page = portal.get(PAGE, Some(&reader)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("id=\"upload-form\"") && page.body.contains("Download TOML"));
    assert_eq!(upload(&portal, &reader, &reader_csrf, &text, "toml").await.status, StatusCode::FORBIDDEN);
    let (cookie, _) = portal.sign_in("ada@contoso.example").await;
    let answer = portal.post(PAGE, Some(&cookie), "same-origin", &[("definition", &text)]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.body.contains("CsrfCheckFailed"));
    assert_eq!(provisioning::definition(&portal.stores, "github").await.unwrap(), stored);
}

/// roster's own SCIM service provider on a port of its own, over the portal's stores, with an enterprise `acme`
/// (plain SCIM rules), and an application `acme` provisioning to it; its base URL and a client of it.
async fn target(portal: &Portal) -> (String, ScimClient) {
    let actor = cli();
    let profile = roster_service::admin::Profile::Scim;
    roster_service::admin::create_enterprise_with_profile(&portal.stores, &actor, "acme", "acme", profile)
        .await
        .unwrap();
    let token = roster_service::admin::create_token(&portal.stores, &actor, "acme", "test", &[]).await.unwrap();
    let state = roster_scim_server::ServerState {
        provider: portal.stores.provider(roster_provider::Limits::default()),
        public_url: None,
        max_body_bytes: 1 << 20,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, roster_scim_server::router(state)).await.unwrap() });
    let base = format!("http://{address}/scim/v2/enterprises/acme");
    provisioning::create(&portal.stores, &portal.key, &cli(), "acme", "scim", &base, &token, Scope::Assigned)
        .await
        .unwrap();
    let client = ScimClient::new(ClientConfig::new(base.clone(), token)).unwrap();
    (base, client)
}

#[tokio::test]
async fn unmanaged_objects_are_read_from_the_target_a_page_at_a_time() {
    let portal = portal().await;
    let (_, client) = target(&portal).await;
    for n in 0..55 {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": format!("stranger{n:02}@acme.example"),
            "externalId": format!("ext-{n:02}"),
        });
        client.create(Kind::User, &body).await.unwrap();
    }
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": MARKUP});
    client.create(Kind::Group, &group).await.unwrap();
    let (cookie, _) = portal.sign_in("rita@contoso.example").await;
    let overview = portal.get("/applications/acme/overview", Some(&cookie)).await;
    assert!(overview.body.contains("href=\"/applications/acme/unmanaged\""));

    let first = portal.get("/applications/acme/unmanaged", Some(&cookie)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body.matches("<th scope=\"row\">").count(), 50, "{}", first.body);
    assert!(first.body.contains("stranger00@acme.example") && first.body.contains("ext-00"));
    assert!(!first.body.contains("stranger50@acme.example"));
    let next = "/applications/acme/unmanaged?kind=users&#38;start=51";
    assert!(first.body.contains(&format!("href=\"{next}\" rel=\"next\"")), "{}", first.body);

    let second = portal.get("/applications/acme/unmanaged?kind=users&start=51", Some(&cookie)).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.body.matches("<th scope=\"row\">").count(), 6, "5 users and the group: {}", second.body);
    assert!(second.body.contains("stranger54@acme.example") && !second.body.contains("stranger49@"));
    assert!(!second.body.contains(MARKUP) && second.body.contains("&#60;img src=x onerror=alert(1)&#62;"));
    assert!(!second.body.contains("rel=\"next\""), "the last page");
    assert!(second.body.contains("First page"));

    let groups = portal.get("/applications/acme/unmanaged?kind=groups&start=1", Some(&cookie)).await;
    assert_eq!(groups.body.matches("<th scope=\"row\">").count(), 1);
    for wrong in ["?kind=roles", "?start=0", "?start=x"] {
        let answer = portal.get(&format!("/applications/acme/unmanaged{wrong}"), Some(&cookie)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{wrong}");
    }
}

#[tokio::test]
async fn a_target_that_fails_is_said_in_place_with_what_to_do() {
    let portal = portal().await;
    let (cookie, _) = portal.sign_in("ada@contoso.example").await;
    // github's target is a closed port.
    let answer = portal.get("/applications/github/unmanaged", Some(&cookie)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.body.contains("id=\"target-error\"") && answer.body.contains("role=\"alert\""));
    assert!(answer.body.contains("reading the target&#39;s users"), "{}", answer.body);
    assert!(answer.body.contains("Test Connection"));
    assert!(!answer.body.contains(TOKEN));

    // A wrong token: the target's 401, in words.
    let (base, _) = target(&portal).await;
    let mut definition = provisioning::definition(&portal.stores, "acme").await.unwrap();
    definition.name = "wrong".to_owned();
    definition.target.tenant_url = base;
    provisioning::put(&portal.stores, &portal.key, &cli(), definition, Some("roster_wrong"), None).await.unwrap();
    let answer = portal.get("/applications/wrong/unmanaged", Some(&cookie)).await;
    assert!(answer.body.contains("id=\"target-error\"") && answer.body.contains("401"), "{}", answer.body);
}
