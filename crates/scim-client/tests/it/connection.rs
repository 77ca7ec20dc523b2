//! Test Connection: the query it sends and its verdicts in plain words.

use std::time::Duration;

use roster_scim_client::{ConnectionProblem, ScimClient};
use serde_json::json;

use crate::support::{Reply, Script, assert_no_secret, dropping_server, fast_config, refused_base};

/// The verdict of a test connection against a server with one reply.
async fn verdict(reply: Reply) -> (Result<(), ConnectionProblem>, Script) {
    let server = Script::start(vec![reply, Reply::empty_list()]).await;
    let result = server.client().test_connection().await;
    if let Err(problem) = &result {
        assert_no_secret(&format!("{problem} {problem:?}"));
    }
    (result, server)
}

/// The message of a failed test connection.
async fn message(reply: Reply) -> String {
    match verdict(reply).await {
        (Ok(()), _) => panic!("the test connection passed"),
        (Err(problem), server) => {
            assert_eq!(server.received().len(), 1, "test connection does not retry");
            problem.to_string()
        }
    }
}

#[tokio::test]
async fn an_empty_list_for_a_random_user_name_passes() {
    let (result, server) = verdict(Reply::empty_list()).await;
    result.expect("connection works");
    let received = server.received();
    assert_eq!(received.len(), 1);
    let filter = received[0].query("filter").expect("filter");
    assert!(filter.starts_with("userName eq \"roster-test-connection-"), "{filter}");
    assert_eq!(filter.len(), "userName eq \"roster-test-connection-\"".len() + 36, "{filter}");
    assert!(received[0].uri.starts_with("/scim/v2/enterprises/acme/Users?"));
}

#[tokio::test]
async fn a_refused_token_is_explained() {
    for status in [401, 403] {
        let text = message(Reply::error(status, None, "Bad credentials")).await;
        assert_eq!(
            text,
            format!(
                "the target refused the secret token (HTTP {status}: Bad credentials): check the token and its scope \
                 (for GitHub EMU a personal access token (classic) with the scim:enterprise scope, created by the \
                 setup user)"
            )
        );
    }
}

#[tokio::test]
async fn a_404_means_the_tenant_url_is_wrong() {
    assert_eq!(
        message(Reply::error(404, None, "Not Found")).await,
        "the tenant URL does not point at a SCIM endpoint (404 on /Users)"
    );
}

#[tokio::test]
async fn an_html_page_is_not_scim() {
    let page = Reply::Respond {
        status: 200,
        headers: vec![("content-type", "text/html".to_owned())],
        body: "<html><body>Welcome to nginx!</body></html>".to_owned(),
    };
    assert_eq!(
        message(page).await,
        "the answer is not SCIM: expected application/scim+json ListResponse, got text/html \
         (\"<html><body>Welcome to nginx!</body></html>\")"
    );
    let text = message(Reply::scim(200, json!({"id": "u-1", "userName": "x"}))).await;
    assert!(text.starts_with("the answer is not SCIM: expected application/scim+json ListResponse, got"), "{text}");
}

#[tokio::test]
async fn a_target_that_ignores_filters_is_caught() {
    let users = vec![json!({"id": "1"}), json!({"id": "2"})];
    let text = message(Reply::list(users)).await;
    assert!(text.starts_with("the target ignored the filter: it answered 2 users"), "{text}");
}

#[tokio::test]
async fn other_errors_are_quoted_without_retry() {
    let text = message(Reply::error(503, None, "maintenance")).await;
    assert_eq!(text, "the target answered the test query with an error: HTTP 503 Service Unavailable: maintenance");
}

#[tokio::test]
async fn an_unreachable_target_says_why() {
    let base = refused_base().await;
    let problem = ScimClient::new(fast_config(&base)).expect("client").test_connection().await.expect_err("refused");
    let text = problem.to_string();
    assert!(matches!(problem, ConnectionProblem::Unreachable { .. }), "{problem:?}");
    assert!(text.starts_with("the target 127.0.0.1:"), "{text}");
    assert!(text.contains("is unreachable") && text.to_lowercase().contains("connection refused"), "{text}");
}

#[tokio::test]
async fn a_hanging_target_times_out() {
    let server = Script::start(vec![Reply::Hang(Duration::from_secs(3))]).await;
    let mut config = server.config();
    config.timeout = Duration::from_millis(200);
    let problem = ScimClient::new(config).expect("client").test_connection().await.expect_err("timeout");
    assert!(problem.to_string().ends_with("did not answer within 200 ms"), "{problem}");
}

#[tokio::test]
async fn a_dropped_connection_is_reported() {
    let (base, _) = dropping_server(usize::MAX).await;
    let problem = ScimClient::new(fast_config(&base)).expect("client").test_connection().await.expect_err("dropped");
    assert!(matches!(problem, ConnectionProblem::Dropped { .. }), "{problem:?}");
    assert!(problem.to_string().contains("closed the connection without a complete answer"), "{problem}");
}

#[tokio::test]
async fn tls_to_a_plain_http_server_is_a_tls_failure() {
    let server = Script::start(vec![Reply::empty_list()]).await;
    let base = server.base.replace("http://", "https://");
    let problem = ScimClient::new(fast_config(&base)).expect("client").test_connection().await.expect_err("TLS");
    assert!(matches!(problem, ConnectionProblem::Tls { .. }), "{problem:?}");
    assert!(problem.to_string().starts_with("TLS failure with 127.0.0.1:"), "{problem}");
}
