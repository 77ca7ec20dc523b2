//! Retries, Retry-After, timeouts, dropped connections, the budget and the concurrency limit.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::http::Method;
use roster_scim_client::{Budget, ClientError, ErrorKind, Kind, RetryPolicy, ScimClient};
use serde_json::json;

use crate::support::{Reply, Script, assert_no_secret, dropping_server, fast_config, refused_base};

fn user() -> serde_json::Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "mona", "externalId": "E1"})
}

#[tokio::test]
async fn server_errors_are_retried_until_success() {
    let server = Script::start(vec![Reply::error(503, None, "busy"), Reply::empty(502), Reply::created("u-1")]).await;
    let client = server.client();
    let created = client.create(Kind::User, &user()).await.expect("created after two retries");
    assert_eq!(created["id"], "u-1");
    let received = server.received();
    assert_eq!(received.len(), 3);
    assert!(received.iter().all(|r| r.method == Method::POST && r.json() == user()));
    let stats = client.stats();
    assert_eq!((stats.posts, stats.retries, stats.server_throttles), (3, 2, 0));
}

#[tokio::test]
async fn retries_stop_after_the_policy_s_attempts() {
    let server = Script::start(vec![Reply::empty(500); 6]).await;
    let mut config = server.config();
    config.retry.max_attempts = 3;
    let error = ScimClient::new(config).expect("client").get(Kind::User, "u-1", None).await.expect_err("500s");
    assert_eq!((error.status(), error.attempts, error.code()), (Some(500), 3, "InternalServerError"));
    assert!(error.is_retryable());
    assert_eq!(server.received().len(), 3);
}

#[tokio::test]
async fn retry_after_is_honoured_and_holds_back_the_other_requests() {
    let server = Script::start_by_method(vec![
        (Some(Method::POST), Reply::error(429, None, "slow down").with_header("retry-after", "1")),
        (Some(Method::POST), Reply::created("u-1")),
        (Some(Method::GET), Reply::empty_list()),
    ])
    .await;
    let client = server.client();
    let started = Instant::now();
    let post = {
        let client = client.clone();
        tokio::spawn(async move { client.create(Kind::User, &user()).await })
    };
    // A query sent while the hold is in force waits for it too.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let found = client.find(Kind::User, "userName", "mona").await.expect("query");
    let query_done = started.elapsed();
    let created = post.await.expect("task").expect("created after Retry-After");
    assert_eq!(created["id"], "u-1");
    assert!(found.is_empty());

    let received = server.received();
    assert_eq!(received.len(), 3, "{received:?}");
    let throttled_at = received[0].at;
    for later in &received[1..] {
        let gap = later.at.duration_since(throttled_at);
        assert!(gap >= Duration::from_millis(950), "{} {} came {gap:?} after the 429", later.method, later.uri);
    }
    assert!(query_done >= Duration::from_millis(950), "{query_done:?}");
    let stats = client.stats();
    assert_eq!((stats.retries, stats.server_throttles), (1, 1));
    assert!(stats.throttled_waits >= 1, "{stats:?}");
}

#[tokio::test]
async fn a_rate_limit_403_with_retry_after_is_retried_but_a_plain_403_is_not() {
    let server = Script::start(vec![
        Reply::scim(403, json!({"message": "You have exceeded a secondary rate limit."}))
            .with_header("retry-after", "1"),
        Reply::empty(204),
        Reply::scim(403, json!({"message": "Resource not accessible by personal access token"})),
    ])
    .await;
    let client = server.client();
    let started = Instant::now();
    client.delete(Kind::User, "u-1").await.expect("deleted after the rate limit");
    assert!(started.elapsed() >= Duration::from_millis(950));
    let error = client.delete(Kind::User, "u-2").await.expect_err("403");
    assert_eq!((error.code(), error.attempts, error.is_retryable()), ("InsufficientRights", 1, false));
    assert_eq!(error.detail(), Some("Resource not accessible by personal access token"));
}

#[tokio::test]
async fn a_server_wait_beyond_the_policy_fails_now_and_holds_back_later_requests() {
    let server = Script::start(vec![
        Reply::error(429, None, "hourly limit").with_header("retry-after", "3600"),
        Reply::empty_list(),
    ])
    .await;
    let client = server.client();
    let started = Instant::now();
    let error = client.find(Kind::User, "userName", "mona").await.expect_err("429");
    assert_eq!((error.code(), error.attempts), ("TooManyRequests", 1));
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3600)));
    let held = client.find(Kind::User, "userName", "mona").await.expect_err("held back");
    assert!(matches!(held.kind, ErrorKind::HeldBack { wait } if wait > Duration::from_secs(3500)), "{held}");
    assert_eq!((held.code(), held.attempts), ("TooManyRequests", 0));
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(server.received().len(), 1, "the held-back request was not sent");
    assert!(client.budget_eta(1, 0) > Duration::from_secs(3500));
}

#[tokio::test]
async fn client_errors_are_never_retried() {
    // (status, scimType, operation, expected code)
    let cases: &[(u16, Option<&str>, &str)] = &[
        (400, Some("invalidValue"), "UnprocessableEntity"),
        (400, Some("invalidPath"), "SchemaAttributeNotFound"),
        (401, None, "Unauthorized"),
        (403, None, "InsufficientRights"),
        (404, None, "InvalidAnchor"),
        (409, Some("uniqueness"), "EntryConflict"),
        (409, None, "Conflict"),
        (412, None, "Conflict"),
    ];
    for (status, scim_type, code) in cases {
        let server = Script::start(vec![Reply::error(*status, *scim_type, "nope"), Reply::empty(204)]).await;
        let client = server.client();
        let change = roster_scim_client::Change::replace("displayName", "x");
        let error: ClientError = client.patch(Kind::User, "u-1", &[change]).await.expect_err("error status");
        assert_eq!(error.code(), *code, "{error}");
        assert_eq!(error.status(), Some(*status));
        assert_eq!(error.scim_type(), *scim_type);
        assert_eq!(error.detail(), Some("nope"));
        assert_eq!((error.attempts, error.is_retryable()), (1, false));
        assert_eq!(server.received().len(), 1, "{status} was retried");
        assert_eq!(error.method, "PATCH");
        assert_eq!(error.path, "/scim/v2/enterprises/acme/Users/u-1");
        assert_no_secret(&format!("{error} {error:?}"));
    }
}

#[tokio::test]
async fn timeouts_are_retried_then_reported() {
    let server = Script::start(vec![Reply::Hang(Duration::from_secs(3)), Reply::empty_list()]).await;
    let mut config = server.config();
    config.timeout = Duration::from_millis(300);
    let client = ScimClient::new(config.clone()).expect("client");
    let found = client.find(Kind::User, "userName", "mona").await.expect("the second attempt answers");
    assert!(found.is_empty());
    assert_eq!(client.stats().retries, 1);

    let server = Script::start(vec![Reply::Hang(Duration::from_secs(3)); 2]).await;
    config.base_url = server.base.clone();
    config.retry.max_attempts = 2;
    let started = Instant::now();
    let error = ScimClient::new(config).expect("client").get(Kind::User, "u-1", None).await.expect_err("timeout");
    assert!(matches!(error.kind, ErrorKind::Timeout { after } if after == Duration::from_millis(300)), "{error}");
    assert_eq!((error.code(), error.attempts, error.is_retryable()), ("Timeout", 2, true));
    assert!(started.elapsed() < Duration::from_secs(3), "the client gave up before the server answered");
    assert_eq!(
        error.to_string(),
        "GET /scim/v2/enterprises/acme/Users/u-1: no answer within 300 ms [Timeout, 2 attempts]"
    );
}

#[tokio::test]
async fn dropped_connections_are_retried() {
    let (base, accepted) = dropping_server(2).await;
    let client = ScimClient::new(fast_config(&base)).expect("client");
    let created = client.create(Kind::User, &user()).await.expect("created on the third connection");
    assert_eq!(created["id"], "1");
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
    assert_eq!(client.stats().retries, 2);

    let (base, _) = dropping_server(usize::MAX).await;
    let mut config = fast_config(&base);
    config.retry.max_attempts = 2;
    let error = ScimClient::new(config).expect("client").create(Kind::User, &user()).await.expect_err("dropped");
    assert!(matches!(error.kind, ErrorKind::Protocol { .. }), "{error}");
    assert_eq!((error.code(), error.attempts), ("WebExceptionProtocolError", 2));
}

#[tokio::test]
async fn refused_connections_are_retried_then_reported_with_the_os_error() {
    let mut config = fast_config(&refused_base().await);
    config.retry.max_attempts = 3;
    let error = ScimClient::new(config).expect("client").find(Kind::User, "userName", "x").await.expect_err("refused");
    assert!(matches!(&error.kind, ErrorKind::Connect { cause } if cause.to_lowercase().contains("refused")), "{error}");
    assert_eq!((error.code(), error.attempts, error.is_retryable()), ("WebExceptionProtocolError", 3, true));
    assert_no_secret(&format!("{error} {error:?}"));
}

#[tokio::test]
async fn the_budget_paces_requests_and_predicts_the_wait() {
    let server = Script::start(vec![Reply::empty_list(); 7]).await;
    let mut config = server.config();
    config.budget = Budget::requests_per(5, Duration::from_secs(1));
    let client = ScimClient::new(config).expect("client");
    assert_eq!(client.budget_eta(5, 0), Duration::ZERO);
    assert!(client.budget_eta(7, 0) > Duration::from_millis(350));
    let started = Instant::now();
    for _ in 0..7 {
        client.find(Kind::User, "userName", "x").await.expect("query");
    }
    // 5 at once, then one every 200 ms.
    assert!(started.elapsed() >= Duration::from_millis(380), "{:?}", started.elapsed());
    let stats = client.stats();
    assert_eq!(stats.gets, 7);
    assert_eq!(stats.throttled_waits, 2, "{stats:?}");
    assert!(stats.throttled_time >= Duration::from_millis(380), "{stats:?}");
}

#[tokio::test]
async fn no_more_requests_are_in_flight_than_allowed() {
    let server = Script::start(vec![Reply::Hang(Duration::from_millis(150)); 6]).await;
    let mut config = server.config();
    config.max_concurrency = 2;
    let client = ScimClient::new(config).expect("client");
    let tasks: Vec<_> = (0..6)
        .map(|n| {
            let client = client.clone();
            tokio::spawn(async move { client.find(Kind::User, "userName", &n.to_string()).await })
        })
        .collect();
    for task in tasks {
        task.await.expect("task").expect("query");
    }
    assert_eq!(server.max_in_flight(), 2);
}

#[tokio::test]
async fn the_default_policy_backs_off_with_jitter_below_its_ceiling() {
    // Two 503s with the default policy: at most 500 ms + 1 s of back-off.
    let server = Script::start(vec![Reply::empty(503), Reply::empty(503), Reply::empty(204)]).await;
    let mut config = server.config();
    config.retry = RetryPolicy::default();
    let started = Instant::now();
    ScimClient::new(config).expect("client").delete(Kind::Group, "g-1").await.expect("deleted");
    assert!(started.elapsed() < Duration::from_millis(1500 + 1000), "{:?}", started.elapsed());
}
