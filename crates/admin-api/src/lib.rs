//! roster's admin API at `/api/v1.0`, with Microsoft Graph's paths and JSON: a Graph script ports to roster by
//! changing its base URL and token. Pure query parsing in [`odata`]; handlers by resource ([`users`], [`groups`],
//! [`applications`], [`synchronization`], [`logs`]); one error-to-Graph-body mapping in [`error`]. Every handler
//! authenticates the caller ([`auth`]), checks its role, and calls the service layer, which records the audit
//! entries of every change.

pub mod applications;
pub mod auth;
pub mod body;
pub mod enterprises;
pub mod error;
pub mod events;
pub mod groups;
pub mod ids;
pub mod logs;
pub mod odata;
pub mod on_demand;
pub mod openapi;
pub mod paging;
pub mod plans;
pub mod schema;
pub mod sorting;
pub mod synchronization;
pub mod users;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use roster_service::Stores;
use roster_service::secrets::SecretKey;

/// What the handlers share.
#[derive(Clone)]
pub struct ApiState {
    /// The stores' ports.
    pub stores: Stores,
    /// Seals and opens applications' secret tokens.
    pub key: SecretKey,
    /// The API's public base URL (`https://host/api/v1.0`), for `@odata.nextLink` and `@odata.context`.
    pub base_url: Arc<str>,
    /// Sends the notification e-mail of the cycles the API runs (a plan applied).
    pub mailer: roster_service::notify::Mailer,
    /// Graph's rate limit of provisioning on demand, per job.
    pub on_demand: on_demand::Limiter,
}

/// The largest request body the admin API reads.
pub const MAX_BODY: usize = 1024 * 1024;

/// The admin API's routes, to nest at `/api/v1.0`: [`openapi::operations`], each path with its methods; a wrong
/// method gets 405 (with `Allow`) and an unknown path 404, both with Graph's error body.
pub fn router(state: ApiState) -> Router {
    routes().with_state(state)
}

/// The routes of [`openapi::operations`], one table for the router and the document.
fn routes() -> Router<ApiState> {
    let mut router = Router::new();
    for operation in openapi::operations() {
        router = router.route(&operation.path, operation.route);
    }
    router.fallback(not_found).method_not_allowed_fallback(method_not_allowed).layer(DefaultBodyLimit::max(MAX_BODY))
}

async fn not_found(uri: axum::http::Uri) -> error::GraphError {
    error::GraphError::new(
        axum::http::StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        format!("Resource not found for the segment '{}'.", uri.path().rsplit('/').next().unwrap_or_default()),
    )
}

/// Graph's answer to a method a path does not take (axum adds the `Allow` header).
async fn method_not_allowed(method: axum::http::Method) -> error::GraphError {
    error::GraphError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "Request_BadRequest",
        format!("Specified HTTP method {method} is not allowed for the request uri."),
    )
}
