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
pub mod paging;
pub mod plans;
pub mod schema;
pub mod synchronization;
pub mod users;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
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

/// The admin API's routes, to nest at `/api/v1.0`.
pub fn router(state: ApiState) -> Router {
    let sync = "/servicePrincipals/{id}/synchronization";
    Router::new()
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", get(users::get).patch(users::update).delete(users::delete))
        .route("/groups", get(groups::list).post(groups::create))
        .route("/groups/{id}", get(groups::get).patch(groups::update).delete(groups::delete))
        .route("/groups/{id}/members", get(groups::members))
        .route("/groups/{id}/members/$ref", post(groups::add_member))
        .route("/groups/{id}/members/{member}/$ref", axum::routing::delete(groups::remove_member))
        .route("/applicationTemplates", get(applications::templates))
        .route("/applicationTemplates/{id}", get(applications::template_by_id))
        .route("/applicationTemplates/{id}/instantiate", post(applications::instantiate))
        .route("/servicePrincipals", get(applications::list))
        .route("/servicePrincipals/{id}", get(applications::get))
        .route("/servicePrincipals/{id}/appRoleAssignedTo", get(applications::assignments).post(applications::assign))
        .route("/servicePrincipals/{id}/appRoleAssignedTo/{assignment}", axum::routing::delete(applications::unassign))
        .route(&format!("{sync}/templates"), get(synchronization::templates))
        .route(&format!("{sync}/secrets"), axum::routing::put(synchronization::put_secrets))
        .route(&format!("{sync}/jobs"), get(synchronization::jobs).post(synchronization::create_job))
        .route(&format!("{sync}/jobs/{{job}}"), get(synchronization::job).delete(synchronization::delete_job))
        .route(&format!("{sync}/jobs/{{job}}/start"), post(synchronization::start))
        .route(&format!("{sync}/jobs/{{job}}/pause"), post(synchronization::pause))
        .route(&format!("{sync}/jobs/{{job}}/restart"), post(synchronization::restart))
        .route(&format!("{sync}/jobs/{{job}}/validateCredentials"), post(synchronization::validate_credentials))
        .route(&format!("{sync}/jobs/{{job}}/schema"), get(schema::get).put(schema::put).delete(schema::delete))
        .route(&format!("{sync}/jobs/{{job}}/schema/parseExpression"), post(schema::parse_expression))
        .route(&format!("{sync}/jobs/{{job}}/schema/functions"), get(schema::functions))
        .route(&format!("{sync}/jobs/{{job}}/schema/filterOperators"), get(schema::filter_operators))
        .route(&format!("{sync}/templates/{{template}}/schema"), get(schema::template_get))
        .route(
            &format!("{sync}/templates/{{template}}/schema/parseExpression"),
            post(schema::template_parse_expression),
        )
        .route(&format!("{sync}/templates/{{template}}/schema/functions"), get(schema::template_functions))
        .route(&format!("{sync}/templates/{{template}}/schema/filterOperators"), get(schema::template_filter_operators))
        .route(&format!("{sync}/jobs/{{job}}/provisionOnDemand"), post(on_demand::provision))
        .route(&format!("{sync}/jobs/{{job}}/plans"), get(plans::list).post(plans::create))
        .route(&format!("{sync}/jobs/{{job}}/plans/{{plan}}"), get(plans::get))
        .route(&format!("{sync}/jobs/{{job}}/plans/{{plan}}/apply"), post(plans::apply))
        .route(&format!("{sync}/jobs/{{job}}/events"), get(events::stream))
        .route("/roster/enterprises", get(enterprises::list).post(enterprises::create))
        .route("/roster/enterprises/{slug}", get(enterprises::get))
        .route("/roster/enterprises/{slug}/tokens", get(enterprises::tokens).post(enterprises::create_token))
        .route("/roster/enterprises/{slug}/tokens/{token}", axum::routing::delete(enterprises::revoke_token))
        .route("/auditLogs/provisioning", get(logs::provisioning))
        .route("/auditLogs/directoryAudits", get(logs::directory_audits))
        .route("/auditLogs/directoryAudits/{id}", get(logs::directory_audit))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> error::GraphError {
    error::GraphError::new(
        axum::http::StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        format!("Resource not found for the segment '{}'.", uri.path().rsplit('/').next().unwrap_or_default()),
    )
}
