//! The HTTP front end of roster's SCIM 2.0 service provider, shaped after GitHub Enterprise Managed Users' SCIM
//! API: `/scim/v2/enterprises/{enterprise}/Users`, `/Groups`, `/{id}`, `/.search`, and the discovery endpoints.
//!
//! Every answer is `application/scim+json`; every error is a SCIM error body, mapped in one place ([`error`]).

pub mod error;
mod extract;
mod handlers;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use roster_provider::Provider;

use crate::error::{method_not_allowed, not_found_fallback};

/// What the handlers share.
#[derive(Clone)]
pub struct ServerState {
    /// The provider.
    pub provider: Provider,
    /// The public base URL (scheme and authority, no trailing slash) used in `meta.location` and `Location`, for
    /// example `https://scim.example.com`; when `None`, `http://` plus the request's `Host`.
    pub public_url: Option<Arc<str>>,
    /// The largest request body accepted, in bytes (413 above).
    pub max_body_bytes: usize,
}

/// The SCIM router, to be nested at the root of the server, with SCIM's 404 for every other path.
pub fn router(state: ServerState) -> Router {
    routes(state).fallback(not_found_fallback)
}

/// The SCIM routes without a fallback, for a server that serves other routes beside them (and answers paths under
/// `/scim` that none takes with [`error::not_found_fallback`]).
pub fn routes(state: ServerState) -> Router {
    use handlers::{discovery, resources, search};
    let base = "/scim/v2/enterprises/{enterprise}";
    Router::new()
        .route(
            &format!("{base}/Users"),
            get(resources::list_users).post(resources::create_user).fallback(method_not_allowed),
        )
        .route(&format!("{base}/Users/.search"), post(search::search_users).fallback(method_not_allowed))
        .route(
            &format!("{base}/Users/{{id}}"),
            get(resources::get_user)
                .put(resources::replace_user)
                .patch(resources::patch_user)
                .delete(resources::delete_user)
                .fallback(method_not_allowed),
        )
        .route(
            &format!("{base}/Groups"),
            get(resources::list_groups).post(resources::create_group).fallback(method_not_allowed),
        )
        .route(&format!("{base}/Groups/.search"), post(search::search_groups).fallback(method_not_allowed))
        .route(
            &format!("{base}/Groups/{{id}}"),
            get(resources::get_group)
                .put(resources::replace_group)
                .patch(resources::patch_group)
                .delete(resources::delete_group)
                .fallback(method_not_allowed),
        )
        .route(&format!("{base}/.search"), post(search::search_all).fallback(method_not_allowed))
        .route(
            &format!("{base}/ServiceProviderConfig"),
            get(discovery::service_provider_config).fallback(method_not_allowed),
        )
        .route(&format!("{base}/Schemas"), get(discovery::schemas).fallback(method_not_allowed))
        .route(&format!("{base}/Schemas/{{id}}"), get(discovery::schema).fallback(method_not_allowed))
        .route(&format!("{base}/ResourceTypes"), get(discovery::resource_types).fallback(method_not_allowed))
        .route(&format!("{base}/ResourceTypes/{{id}}"), get(discovery::resource_type).fallback(method_not_allowed))
        .with_state(state)
}
