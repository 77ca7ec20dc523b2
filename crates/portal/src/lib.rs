//! roster's admin portal: the screens of Entra's provisioning tutorial, server-rendered from compile-checked
//! templates (askama, in `templates/`), enhanced by one pinned htmx file and live over server-sent events, all
//! embedded in the binary ([`assets`]). Every page is a route of its own under `/`; every form works with
//! JavaScript off.
//!
//! A request is signed in by its session cookie ([`session`]); every state-changing request is checked for its
//! origin and its CSRF token ([`form`]); what a page shows and allows follows the admin's roles. Every page calls
//! the service layer (`roster_service`), the same that serves the command line and the admin API, so that each
//! change is checked and audited in one place.

pub mod admin_tokens;
pub mod admins;
pub mod applications;
pub mod assets;
pub mod assignments;
pub mod attribute;
pub mod audit;
pub mod change;
pub mod dashboard;
pub mod definition;
pub mod dry_runs;
pub mod error;
pub mod expression;
pub mod form;
pub mod format;
pub mod group;
pub mod groups;
pub mod import;
pub mod listing;
pub mod logs;
pub mod mappings;
pub mod on_demand;
pub mod overview;
pub mod plans;
pub mod provisioning;
pub mod query;
pub mod scoping;
pub mod service_provider;
pub mod session;
pub mod sign_in;
pub mod unmanaged;
pub mod user;
pub mod users;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use roster_service::Stores;
use roster_service::secrets::SecretKey;
use roster_service::sessions::SessionPolicy;
use roster_service::throttle::SignInThrottle;

/// What the pages share.
#[derive(Clone)]
pub struct PortalState {
    /// The stores' ports.
    pub stores: Stores,
    /// Seals applications' secret tokens.
    pub key: SecretKey,
    /// How long sessions last.
    pub policy: SessionPolicy,
    /// Whether cookies are `Secure` (served over TLS, or behind an https public URL).
    pub secure_cookies: bool,
    /// The portal's public origin (`https://host` or `http://127.0.0.1:8080`), which a state-changing request's
    /// `Origin` must be.
    pub origin: Arc<str>,
    /// Failed sign-ins per account and per address.
    pub throttle: Arc<SignInThrottle>,
    /// The rate limit of provisioning on demand, per application.
    pub on_demand: roster_service::on_demand::Limiter,
    /// The dry runs this node runs in the background.
    pub dry_runs: Arc<dry_runs::DryRuns>,
    /// Sends the e-mail of a change of a job's state after a cycle the portal starts itself (the apply of a plan).
    pub mailer: roster_service::notify::Mailer,
}

impl PortalState {
    /// A portal over `stores` at `origin` with the default session policy; cookies are `Secure` when the origin is
    /// https.
    pub fn new(stores: Stores, key: SecretKey, origin: &str) -> PortalState {
        let origin = origin.trim_end_matches('/');
        PortalState {
            stores,
            key,
            policy: SessionPolicy::default(),
            secure_cookies: origin.starts_with("https://"),
            origin: Arc::from(origin),
            throttle: Arc::new(SignInThrottle::default()),
            on_demand: roster_service::on_demand::Limiter::default(),
            dry_runs: Arc::default(),
            mailer: roster_service::notify::Mailer::none(),
        }
    }
}

/// The largest form the portal reads.
pub const MAX_FORM: usize = 256 * 1024;

/// The largest directory file the import page takes (larger ones: `roster directory import`).
pub const MAX_UPLOAD: usize = 64 * 1024 * 1024;

/// The portal's routes, to merge at the root of the server beside `/scim` and `/api`. It has no fallback of its
/// own: the server's ([`not_found`]) answers paths nothing else takes.
pub fn router(state: PortalState) -> Router {
    let application = "/applications/{name}";
    Router::new()
        .route("/", get(dashboard::page))
        .route("/sign-in", get(sign_in::page).post(sign_in::submit))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/assets/{file}", get(assets::serve))
        .route("/applications", get(applications::list))
        .route("/applications/new", get(applications::new_page).post(applications::create))
        .route(application, get(overview::redirect))
        .route(&format!("{application}/overview"), get(overview::page))
        .route(&format!("{application}/overview/status"), get(overview::status))
        .route(&format!("{application}/overview/events"), get(overview::events))
        .route(&format!("{application}/start"), post(overview::start))
        .route(&format!("{application}/stop"), post(overview::stop))
        .route(&format!("{application}/restart"), post(overview::restart))
        .route(&format!("{application}/allow-deletes"), post(overview::allow_deletes))
        .route(&format!("{application}/provisioning"), get(provisioning::page).post(provisioning::submit))
        .route(&format!("{application}/mappings/{{kind}}"), get(mappings::page).post(mappings::submit))
        .route(&format!("{application}/mappings/{{kind}}/attribute"), get(attribute::page).post(attribute::submit))
        .route(&format!("{application}/scoping/{{kind}}"), get(scoping::page).post(scoping::submit))
        .route(&format!("{application}/expression-builder"), get(expression::page))
        .route(&format!("{application}/users-and-groups"), get(assignments::page).post(assignments::submit))
        .route(&format!("{application}/logs"), get(logs::page))
        .route(&format!("{application}/provision-on-demand"), get(on_demand::page).post(on_demand::submit))
        .route("/users", get(users::list))
        .route("/users/deleted", get(users::deleted))
        .route("/users/new", get(users::new_page).post(users::create))
        .route(
            "/users/import",
            get(import::page).post(import::submit).layer(axum::extract::DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .route("/users/{id}", get(user::page))
        .route("/users/{id}/edit", get(user::edit).post(user::save))
        .route("/users/{id}/lifecycle", post(user::lifecycle))
        .route("/groups", get(groups::list))
        .route("/groups/new", get(groups::new_page).post(groups::create))
        .route("/groups/{id}", get(group::page))
        .route("/groups/{id}/members", post(group::members))
        .route("/groups/{id}/delete", post(group::delete))
        // The service provider's enterprises and tokens, the audit log, an application's dry-run plans.
        .route("/service-provider", get(service_provider::list).post(service_provider::create))
        .route("/service-provider/{slug}", get(service_provider::enterprise))
        .route("/service-provider/{slug}/tokens", post(service_provider::create_token))
        .route("/service-provider/{slug}/tokens/{id}/revoke", post(service_provider::revoke_token))
        .route("/audit", get(audit::page))
        .route(&format!("{application}/plans"), get(plans::list).post(plans::run))
        .route(&format!("{application}/plans/{{id}}"), get(plans::page))
        .route(&format!("{application}/plans/{{id}}/apply"), post(plans::apply))
        .route("/admins", get(admins::page).post(admins::submit))
        .route("/admins/tokens", get(admin_tokens::page).post(admin_tokens::submit))
        .route(&format!("{application}/definition"), get(definition::page).post(definition::submit))
        .route(&format!("{application}/unmanaged"), get(unmanaged::page))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_FORM))
        .layer(middleware::from_fn(headers))
        .with_state(state)
}

/// The portal's 404 page, for the server's fallback on paths outside `/scim` and `/api`.
pub async fn not_found(uri: axum::http::Uri) -> Response {
    let mut response = axum::response::IntoResponse::into_response(error::PortalError::not_found(format!(
        "There is no page at {}.",
        uri.path()
    )));
    add_headers(&mut response);
    response
}

/// The security headers of every page: a Content-Security-Policy of the portal's own origin only (no inline
/// script or style, no framing), no MIME sniffing, no referrer outside, and no caching of pages (they show
/// directory data).
async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    add_headers(&mut response);
    response
}

/// The Content-Security-Policy of the portal.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

fn add_headers(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}
