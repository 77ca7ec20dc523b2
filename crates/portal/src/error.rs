//! What a page answers when something fails: an error page with the status, Entra-style code, what happened and
//! what to do. A failure of the service layer maps by its kind, as the admin API's do; an internal one is logged
//! and shown without its details.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use roster_service::error::{ErrorKind, ServiceError};

use crate::session::Chrome;

/// A failure shown as a page.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct PortalError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A short code (`NotFound`, `Forbidden`, `BadRequest`, ...).
    pub code: &'static str,
    /// What happened.
    pub message: String,
    /// What to do about it.
    pub hint: &'static str,
}

/// A result of a page handler.
pub type PortalResult<T> = Result<T, PortalError>;

impl PortalError {
    /// A failure with its status and code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>, hint: &'static str) -> PortalError {
        PortalError { status, code, message: message.into(), hint }
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> PortalError {
        PortalError::new(StatusCode::NOT_FOUND, "NotFound", message, "Check the address, or start from the dashboard.")
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> PortalError {
        PortalError::new(StatusCode::BAD_REQUEST, "BadRequest", message, "Go back, correct the form and send it again.")
    }

    /// 403 for a request that did not come from this portal's own page.
    pub fn cross_site(message: impl Into<String>) -> PortalError {
        PortalError::new(
            StatusCode::FORBIDDEN,
            "CsrfCheckFailed",
            message,
            "Nothing was changed. Reload the page and send the form again from the portal itself.",
        )
    }
}

impl From<anyhow::Error> for PortalError {
    fn from(error: anyhow::Error) -> PortalError {
        let message = format!("{error:#}");
        match ServiceError::kind_of(&error) {
            ErrorKind::NotFound => PortalError::not_found(message),
            ErrorKind::Invalid => PortalError::bad_request(message),
            ErrorKind::Conflict => PortalError::new(
                StatusCode::CONFLICT,
                "Conflict",
                message,
                "The change contradicts what is stored: reload the page to see the current state.",
            ),
            ErrorKind::Forbidden => PortalError::new(
                StatusCode::FORBIDDEN,
                "Forbidden",
                message,
                "Ask a Global Administrator for the role this needs.",
            ),
            ErrorKind::Busy => PortalError::new(
                StatusCode::CONFLICT,
                "Busy",
                message,
                "A provisioning cycle holds the application: try again when it ends.",
            ),
            ErrorKind::Internal => {
                tracing::error!(error = %message, "portal request failed");
                PortalError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    "The request failed on the server.",
                    "Try again; if it keeps failing, the server's log has the details.",
                )
            }
        }
    }
}

impl From<roster_directory::port::DirectoryError> for PortalError {
    fn from(error: roster_directory::port::DirectoryError) -> PortalError {
        PortalError::from(anyhow::Error::from(error))
    }
}

impl From<roster_engine::state::StateError> for PortalError {
    fn from(error: roster_engine::state::StateError) -> PortalError {
        PortalError::from(anyhow::Error::from(error))
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    title: &'a str,
    error: &'a PortalError,
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let page = ErrorPage { chrome: Chrome::anonymous(), title: "Something went wrong", error: &self };
        match page.render() {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(_) => (self.status, self.message).into_response(),
        }
    }
}

/// Renders a template as a page (200, `text/html`); a template that fails to render is a 500.
pub fn render(template: &impl Template) -> Response {
    render_with(StatusCode::OK, template)
}

/// Renders a template as a page with `status`.
pub fn render_with(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(error = %error, "a portal template failed to render");
            PortalError::from(anyhow::anyhow!("a template failed: {error}")).into_response()
        }
    }
}
