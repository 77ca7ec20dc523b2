//! The session cookie and who a request is signed in as. The cookie holds the session's secret (the store has only
//! its digest, see `roster_service::sessions`); it is `HttpOnly`, `SameSite=Strict`, and `Secure` (named with the
//! `__Host-` prefix) when the portal is served over https. A request without a live session is sent to the
//! sign-in page, and back to where it was going after.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use roster_service::access::{Permission, Principal};
use roster_service::sessions;
use time::OffsetDateTime;

use crate::PortalState;
use crate::error::PortalError;

/// The cookie's name over plain http.
pub const COOKIE: &str = "roster_session";
/// The cookie's name over https: the prefix makes the browser refuse it unless `Secure`, `Path=/` and host-only.
pub const SECURE_COOKIE: &str = "__Host-roster_session";

/// The cookie's name under this portal's settings.
pub fn cookie_name(state: &PortalState) -> &'static str {
    if state.secure_cookies { SECURE_COOKIE } else { COOKIE }
}

/// The `Set-Cookie` value that gives the browser a session (a session cookie: it ends with the browser too).
pub fn set_cookie(state: &PortalState, secret: &str) -> HeaderValue {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let value = format!("{}={secret}; Path=/; HttpOnly; SameSite=Strict{secure}", cookie_name(state));
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The `Set-Cookie` value that ends the browser's session.
pub fn clear_cookie(state: &PortalState) -> HeaderValue {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let value = format!("{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}", cookie_name(state));
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The session secret the request's cookies carry, if any.
pub fn secret(state: &PortalState, headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, cookie_name(state))
}

/// The value of the cookie `name` among the request's cookies.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_owned())
}

/// The address the request came from, for the audit log and the sign-in throttle.
pub fn client_address(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|axum::extract::ConnectInfo(address)| address.ip().to_string())
}

/// A signed-in admin.
#[derive(Debug, Clone)]
pub struct Signed {
    /// Who, with which roles.
    pub principal: Principal,
    /// The CSRF token of the session, for every form of the page.
    pub csrf: String,
}

impl Signed {
    /// `Ok` when the admin's roles allow `permission`, else a 403 page that says which role is needed.
    pub fn check(&self, permission: Permission<'_>) -> Result<(), PortalError> {
        self.principal.check(permission).map_err(PortalError::from)
    }

    /// Whether the admin's roles allow `permission` (what a page offers).
    pub fn may(&self, permission: Permission<'_>) -> bool {
        self.principal.may(permission)
    }

    /// The page chrome for this admin, with `section` of the navigation current.
    pub fn chrome(&self, section: Section) -> Chrome {
        Chrome {
            signed_in: true,
            user: self.principal.initiator.name().to_owned(),
            csrf: self.csrf.clone(),
            section,
            may_read_audit: self.may(Permission::ReadAudit),
            may_manage_enterprises: self.may(Permission::ManageEnterprises),
            may_manage_roles: self.may(Permission::ManageRoles),
        }
    }
}

/// What the layout shows around a page.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// Whether a session is open (the navigation and the sign-out button are shown).
    pub signed_in: bool,
    /// The signed-in admin's name.
    pub user: String,
    /// The CSRF token for the page's forms.
    pub csrf: String,
    /// The current section of the navigation.
    pub section: Section,
    /// Whether the admin may read the audit log (its link is shown).
    pub may_read_audit: bool,
    /// Whether the admin manages the service provider's enterprises (their link is shown).
    pub may_manage_enterprises: bool,
    /// Whether the admin manages roles and admin API tokens (the Admins link is shown).
    pub may_manage_roles: bool,
}

impl Chrome {
    /// The chrome of a page shown to nobody signed in (sign-in, errors).
    pub fn anonymous() -> Chrome {
        Chrome {
            signed_in: false,
            user: String::new(),
            csrf: String::new(),
            section: Section::None,
            may_read_audit: false,
            may_manage_enterprises: false,
            may_manage_roles: false,
        }
    }
}

/// The sections of the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// None current.
    None,
    /// The dashboard.
    Dashboard,
    /// Applications.
    Applications,
    /// The directory's users.
    Users,
    /// The directory's groups.
    Groups,
    /// roster's own SCIM service provider: its enterprises and their tokens.
    ServiceProvider,
    /// The audit log.
    Audit,
    /// The admins (directory users with roles) and the admin API tokens.
    Admins,
}

impl Section {
    /// Its name, as the layout compares it.
    pub fn name(self) -> &'static str {
        match self {
            Section::None => "",
            Section::Dashboard => "dashboard",
            Section::Applications => "applications",
            Section::Users => "users",
            Section::Groups => "groups",
            Section::ServiceProvider => "service-provider",
            Section::Audit => "audit",
            Section::Admins => "admins",
        }
    }
}

/// Where a request without a session goes: the sign-in page, with the page it asked for to come back to (an
/// htmx request is told to load it with `HX-Redirect`, since it swaps fragments).
pub struct SignInFirst {
    next: String,
    htmx: bool,
}

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        let location = if self.next == "/" || !is_local_path(&self.next) {
            "/sign-in".to_owned()
        } else {
            let mut query = form_urlencoded::Serializer::new(String::new());
            query.append_pair("next", &self.next);
            format!("/sign-in?{}", query.finish())
        };
        if self.htmx {
            let mut response = StatusCode::UNAUTHORIZED.into_response();
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert("hx-redirect", value);
            }
            return response;
        }
        Redirect::to(&location).into_response()
    }
}

/// Whether `path` is a path of this site to send a browser to after sign-in: one slash then not a slash or a
/// backslash (`//host` and `/\host` are other sites to a browser), no control characters.
pub fn is_local_path(path: &str) -> bool {
    let mut characters = path.chars();
    characters.next() == Some('/')
        && !matches!(characters.next(), Some('/' | '\\'))
        && !path.chars().any(|character| character.is_control() || character == '\\')
}

impl FromRequestParts<PortalState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &PortalState) -> Result<Signed, Response> {
        let sign_in_first = |parts: &Parts| {
            let next = parts.uri.path_and_query().map(|value| value.as_str().to_owned()).unwrap_or_default();
            let htmx = parts.headers.contains_key("hx-request");
            SignInFirst { next, htmx }.into_response()
        };
        let Some(secret) = secret(state, &parts.headers) else { return Err(sign_in_first(parts)) };
        let address = client_address(parts);
        match sessions::open(&state.stores, &secret, address, OffsetDateTime::now_utc(), state.policy).await {
            Ok(Some((principal, _))) => Ok(Signed { principal, csrf: sessions::csrf_token(&secret) }),
            Ok(None) => Err(sign_in_first(parts)),
            Err(error) => Err(PortalError::from(error).into_response()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_site_are_followed_after_sign_in() {
        let cases = [
            ("/", true),
            ("/applications/github/overview", true),
            ("/logs?status=failure", true),
            ("", false),
            ("//evil.example/", false),
            ("/\\evil.example/", false),
            ("https://evil.example/", false),
            ("/a\\b", false),
            ("/a\nLocation: x", false),
            ("javascript:alert(1)", false),
        ];
        for (path, expected) in cases {
            assert_eq!(is_local_path(path), expected, "{path:?}");
        }
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; roster_session=roster_ps_x ; b=2"));
        assert_eq!(cookie_value(&headers, COOKIE).as_deref(), Some("roster_ps_x"));
        assert_eq!(cookie_value(&headers, SECURE_COOKIE), None);
        assert_eq!(cookie_value(&headers, "roster"), None);
    }
}
