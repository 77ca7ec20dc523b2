//! Forms: every state-changing request of the portal is a POSTed form, read by [`Form`], which refuses with 403
//! (changing nothing) a request that came from another site ([`same_origin`]: `Sec-Fetch-Site`, else `Origin`)
//! or lacks the session's CSRF token (the hidden `csrf` field every form carries, or htmx's `X-CSRF-Token`).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use roster_service::sessions;

use crate::error::PortalError;
use crate::session::{self, Signed};
use crate::{MAX_FORM, PortalState};

/// The form fields of a request, in order.
#[derive(Debug, Clone, Default)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// Reads an `application/x-www-form-urlencoded` body.
    pub fn parse(body: &[u8]) -> Fields {
        Fields(form_urlencoded::parse(body).map(|(key, value)| (key.into_owned(), value.into_owned())).collect())
    }

    /// The first value of `name`, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| key == name).map(|(_, value)| value.trim()).filter(|value| !value.is_empty())
    }

    /// The first value of `name` as sent (not trimmed), `""` when absent: for passwords and secrets.
    pub fn raw(&self, name: &str) -> &str {
        self.0.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str()).unwrap_or_default()
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(key, _)| key == name).map(|(_, value)| value.as_str()).collect()
    }

    /// Whether a checkbox `name` was checked (sent with any value but `off`).
    pub fn checked(&self, name: &str) -> bool {
        self.0.iter().any(|(key, value)| key == name && value != "off")
    }
}

/// A signed-in admin's form, from the portal's own page.
#[derive(Debug, Clone)]
pub struct Form {
    /// Who sent it.
    pub admin: Signed,
    /// Its fields.
    pub fields: Fields,
}

impl FromRequest<PortalState> for Form {
    type Rejection = Response;

    async fn from_request(request: Request, state: &PortalState) -> Result<Form, Response> {
        let (mut parts, body) = request.into_parts();
        same_origin(&parts, state).map_err(IntoResponse::into_response)?;
        let admin = Signed::from_request_parts(&mut parts, state).await?;
        let request = Request::from_parts(parts, body);
        let headers = request.headers().clone();
        let fields = if is_multipart(&headers) {
            read_multipart(request, state).await?
        } else {
            Fields::parse(&read_body(request, state).await?)
        };
        let secret = session::secret(state, &headers).unwrap_or_default();
        let token = fields
            .0
            .iter()
            .find(|(key, _)| key == "csrf")
            .map(|(_, value)| value.as_str())
            .or_else(|| headers.get("x-csrf-token").and_then(|value| value.to_str().ok()))
            .unwrap_or_default();
        if !sessions::csrf_matches(&secret, token) {
            return Err(PortalError::cross_site(
                "The form did not carry this session's CSRF token (it may be from an older session).",
            )
            .into_response());
        }
        Ok(Form { admin, fields })
    }
}

/// A form sent before a session exists (sign-in): the origin check only.
#[derive(Debug, Clone)]
pub struct PublicForm {
    /// The request's headers.
    pub headers: HeaderMap,
    /// The address it came from.
    pub address: Option<String>,
    /// Its fields.
    pub fields: Fields,
}

impl FromRequest<PortalState> for PublicForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &PortalState) -> Result<PublicForm, Response> {
        let (parts, body) = request.into_parts();
        same_origin(&parts, state).map_err(IntoResponse::into_response)?;
        let address = session::client_address(&parts);
        let headers = parts.headers.clone();
        let bytes = read_body(Request::from_parts(parts, body), state).await?;
        Ok(PublicForm { headers, address, fields: Fields::parse(&bytes) })
    }
}

fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// Reads a `multipart/form-data` body (a form with a file) into fields: a part's text under its name, and a file's
/// name under `{name}.filename`. A file that is not UTF-8 text is refused: the portal takes only text files.
async fn read_multipart(request: Request, state: &PortalState) -> Result<Fields, Response> {
    let refuse = |message: String| {
        PortalError::new(axum::http::StatusCode::BAD_REQUEST, "BadRequest", message, "Send the form again.")
            .into_response()
    };
    let mut multipart = axum::extract::Multipart::from_request(request, state)
        .await
        .map_err(|rejection| refuse(format!("The form could not be read: {rejection}")))?;
    let mut fields = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => {
                let status = error.status();
                let message = format!("The form could not be read: {error}");
                let hint = "Send a smaller file, or import it with roster directory import.";
                return Err(PortalError::new(status, "BadRequest", message, hint).into_response());
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        if let Some(file) = field.file_name().filter(|file| !file.is_empty()) {
            fields.push((format!("{name}.filename"), file.to_owned()));
        }
        let bytes = field.bytes().await.map_err(|error| refuse(format!("The form could not be read: {error}")))?;
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| refuse(format!("{name}: the file is not UTF-8 text; save it as UTF-8 and send it again.")))?;
        fields.push((name, text));
    }
    Ok(Fields(fields))
}

async fn read_body(request: Request, state: &PortalState) -> Result<Bytes, Response> {
    // The router's body limit is MAX_FORM: a larger form is 413.
    Bytes::from_request(request, state).await.map_err(|rejection| {
        let message = format!("The form could not be read (at most {MAX_FORM} bytes): {rejection}");
        PortalError::new(rejection.status(), "BadRequest", message, "Send a smaller form.").into_response()
    })
}

/// Whether a state-changing request came from the portal's own pages: a browser's `Sec-Fetch-Site` must be
/// `same-origin`; without it, an `Origin` must be the portal's (configured, or the request's own `Host`); a request
/// with neither (not a browser's) passes this check, and the CSRF token still guards it.
pub fn same_origin(parts: &Parts, state: &PortalState) -> Result<(), PortalError> {
    if let Some(site) = parts.headers.get("sec-fetch-site") {
        return match site.as_bytes() {
            b"same-origin" => Ok(()),
            other => Err(PortalError::cross_site(format!(
                "The request came from another site (Sec-Fetch-Site: {}).",
                String::from_utf8_lossy(other)
            ))),
        };
    }
    let Some(origin) = parts.headers.get(axum::http::header::ORIGIN) else { return Ok(()) };
    let origin = origin.to_str().unwrap_or_default();
    let host = parts.headers.get(axum::http::header::HOST).and_then(|host| host.to_str().ok()).unwrap_or_default();
    let own = [format!("http://{host}"), format!("https://{host}")];
    if origin == &*state.origin || (!host.is_empty() && own.iter().any(|candidate| candidate == origin)) {
        return Ok(());
    }
    Err(PortalError::cross_site(format!("The request came from another origin ({origin}).")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_as_browsers_send_them() {
        let fields = Fields::parse(b"name=GitHub+EMU&csrf=abc&role=a&role=b&on=on&off=off&blank=%20&pw=+x+");
        assert_eq!(fields.get("name"), Some("GitHub EMU"));
        assert_eq!(fields.all("role"), ["a", "b"]);
        assert!(fields.checked("on"));
        assert!(!fields.checked("off"));
        assert!(!fields.checked("missing"));
        assert_eq!(fields.get("blank"), None);
        assert_eq!(fields.raw("pw"), " x ");
        assert_eq!(fields.raw("missing"), "");
    }
}
