//! Portal sessions over a real SQLite store: sign-in, a live session, its CSRF token, idle and absolute expiry,
//! the ends a session meets (sign-out, a password change, a disabled account, a lost role).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed step is a test failure with its message")]

use std::sync::Arc;
use std::time::Duration;

use roster_directory::access::Role;
use roster_directory::audit::{Actor, Initiator};
use roster_directory::port::Lifecycle;
use roster_service::sessions::{self, SessionPolicy};
use roster_service::{Stores, access};
use time::OffsetDateTime;

const PASSWORD: &str = "correct horse battery staple";

fn cli() -> Actor {
    Actor::new(Initiator::command_line("test"), OffsetDateTime::now_utc())
}

async fn admin(stores: &Stores) -> roster_directory::User {
    access::create_admin(stores, &cli(), "ada@contoso.example", Some("Ada"), PASSWORD).await.unwrap()
}

fn stores(dir: &tempfile::TempDir) -> Stores {
    let store = roster_store::SqliteStore::open(&dir.path().join("roster.db")).unwrap();
    Stores::over(Arc::new(store))
}

#[tokio::test]
async fn a_session_lives_until_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let stores = stores(&dir);
    let ada = admin(&stores).await;
    let policy = SessionPolicy::default();
    let now = OffsetDateTime::now_utc();

    for (upn, password) in [("ada@contoso.example", "wrong password!!"), ("nobody@contoso.example", PASSWORD)] {
        assert!(sessions::sign_in(&stores, upn, password, None, now, policy).await.unwrap().is_none(), "{upn}");
    }
    let opened = sessions::sign_in(&stores, "ADA@contoso.example", PASSWORD, None, now, policy).await.unwrap();
    let opened = opened.expect("a session");
    assert!(opened.secret.starts_with(sessions::SESSION_PREFIX));
    let again = sessions::sign_in(&stores, "ada@contoso.example", PASSWORD, None, now, policy).await.unwrap();
    assert_ne!(again.expect("another session").secret, opened.secret, "each sign-in has a new secret");

    let (principal, _) = sessions::open(&stores, &opened.secret, None, now, policy).await.unwrap().expect("live");
    assert_eq!(principal.user_id().as_ref(), Some(ada.id()));
    assert!(sessions::csrf_matches(&opened.secret, &sessions::csrf_token(&opened.secret)));
    for forged in ["", "roster_ps_", "roster_ps_0000", "roster_at_0000", &opened.secret[..opened.secret.len() - 1]] {
        assert!(sessions::open(&stores, forged, None, now, policy).await.unwrap().is_none(), "{forged:?}");
    }

    // Idle: an hour without use ends it; use within the hour keeps it.
    let later = now + Duration::from_secs(50 * 60);
    assert!(sessions::open(&stores, &opened.secret, None, later, policy).await.unwrap().is_some());
    let idle = later + Duration::from_secs(61 * 60);
    assert!(sessions::open(&stores, &opened.secret, None, idle, policy).await.unwrap().is_none());
    assert!(sessions::open(&stores, &opened.secret, None, later, policy).await.unwrap().is_none(), "deleted");

    // Absolute: twelve hours, however used.
    let short = SessionPolicy { idle: Duration::from_secs(3600), absolute: Duration::from_secs(90) };
    let opened = sessions::sign_in(&stores, "ada@contoso.example", PASSWORD, None, now, short).await.unwrap().unwrap();
    assert!(
        sessions::open(&stores, &opened.secret, None, now + Duration::from_secs(60), short).await.unwrap().is_some()
    );
    assert!(
        sessions::open(&stores, &opened.secret, None, now + Duration::from_secs(91), short).await.unwrap().is_none()
    );

    // Sign-out, a password change, a disabled account, a lost role: each ends the session.
    let sign_in = || sessions::sign_in(&stores, "ada@contoso.example", PASSWORD, None, now, policy);
    let live = |secret: String| {
        let stores = stores.clone();
        async move { sessions::open(&stores, &secret, None, now, policy).await.unwrap().is_some() }
    };
    let opened = sign_in().await.unwrap().unwrap();
    sessions::sign_out(&stores, &opened.secret).await.unwrap();
    assert!(!live(opened.secret).await, "signed out");

    let opened = sign_in().await.unwrap().unwrap();
    access::set_password(&stores, &cli(), ada.id().as_str(), PASSWORD).await.unwrap();
    assert!(!live(opened.secret).await, "a password change signs out");

    let opened = sign_in().await.unwrap().unwrap();
    stores.directory.set_lifecycle(ada.id(), Lifecycle::Disable, &cli()).await.unwrap();
    assert!(!live(opened.secret.clone()).await, "a disabled account");
    stores.directory.set_lifecycle(ada.id(), Lifecycle::Enable, &cli()).await.unwrap();
    assert!(!live(opened.secret).await, "the session ended for good");

    let opened = sign_in().await.unwrap().unwrap();
    access::remove_role(&stores, &cli(), ada.id().as_str(), "global-administrator").await.unwrap();
    assert!(!live(opened.secret).await, "no role, no session");
    assert!(sign_in().await.unwrap().is_none(), "nor a sign-in");

    // The pruner deletes what has ended by itself.
    access::add_role(&stores, &cli(), ada.id().as_str(), "global-administrator").await.unwrap();
    sign_in().await.unwrap().unwrap();
    assert_eq!(sessions::prune(&stores, now + Duration::from_secs(30 * 60), policy).await.unwrap(), 0);
    assert_eq!(sessions::prune(&stores, now + Duration::from_secs(13 * 3600), policy).await.unwrap(), 1);
}

#[tokio::test]
async fn admins_are_created_with_a_role_listed_with_theirs_and_the_last_global_administrator_stays() {
    let dir = tempfile::tempdir().unwrap();
    let stores = stores(&dir);
    let ada = admin(&stores).await;
    // A bad role creates nobody.
    let refused = access::create_admin_with_role(&stores, &cli(), "bob@contoso.example", None, PASSWORD, "root").await;
    assert_eq!(roster_service::ServiceError::kind_of(&refused.unwrap_err()), roster_service::ErrorKind::Invalid);
    assert!(stores.directory.user_by_upn("bob@contoso.example").await.unwrap().is_none());
    let bob = access::create_admin_with_role(&stores, &cli(), "bob@contoso.example", None, PASSWORD, "reports-reader")
        .await
        .unwrap();
    access::add_role(&stores, &cli(), bob.id().as_str(), "application-administrator").await.unwrap();
    let mut expected = vec![
        (ada.id().clone(), vec![Role::GlobalAdministrator]),
        (bob.id().clone(), vec![Role::ApplicationAdministrator, Role::ReportsReader]),
    ];
    expected.sort();
    assert_eq!(access::role_holders(&stores).await.unwrap(), expected);

    // Ada, the only Global Administrator, may not take her own role; the command line may.
    let as_ada = access::Principal::of_user(&ada, vec![Role::GlobalAdministrator], None).actor();
    let refused = access::remove_role(&stores, &as_ada, ada.id().as_str(), "global-administrator").await;
    let error = refused.unwrap_err();
    assert_eq!(roster_service::ServiceError::kind_of(&error), roster_service::ErrorKind::Conflict);
    assert!(error.to_string().contains("last Global Administrator"), "{error}");
    access::add_role(&stores, &as_ada, bob.id().as_str(), "global-administrator").await.unwrap();
    // A disabled Global Administrator cannot sign in, so does not count.
    stores.directory.set_lifecycle(bob.id(), Lifecycle::Disable, &cli()).await.unwrap();
    assert!(access::remove_role(&stores, &as_ada, ada.id().as_str(), "global-administrator").await.is_err());
    stores.directory.set_lifecycle(bob.id(), Lifecycle::Enable, &cli()).await.unwrap();
    access::remove_role(&stores, &as_ada, ada.id().as_str(), "global-administrator").await.unwrap();
    let as_bob = access::Principal::of_user(&bob, stores.directory.roles(bob.id()).await.unwrap(), None).actor();
    let refused = access::remove_role(&stores, &as_bob, bob.id().as_str(), "global-administrator").await;
    assert!(refused.is_err(), "now Bob is the last");
    access::remove_role(&stores, &cli(), bob.id().as_str(), "global-administrator").await.unwrap();
}
