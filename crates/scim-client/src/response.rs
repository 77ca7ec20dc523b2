//! Reading answers: error statuses into [`StatusError`]s, successful bodies into SCIM JSON, list responses into
//! their resources, and the waits servers announce. Pure functions over status, headers and bytes.

use std::time::{Duration, SystemTime};

use reqwest::header::{CONTENT_TYPE, DATE, HeaderMap, RETRY_AFTER};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::error::{ErrorKind, NotScim, StatusError};
use crate::retry::{parse_http_date, parse_retry_after, until};

/// The schema URN of error bodies.
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// The schema URN of list responses.
const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// How many characters of a body an error quotes.
const EXCERPT_CHARS: usize = 200;

/// An answer as received.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// The server's clock per its `Date` header, else the local clock: `Retry-After` dates are relative to it.
fn server_now(headers: &HeaderMap) -> OffsetDateTime {
    header(headers, DATE.as_str()).and_then(parse_http_date).unwrap_or_else(|| OffsetDateTime::from(SystemTime::now()))
}

/// A header's value as text.
fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// The wait a server asks for: `Retry-After`, else, when GitHub's `x-ratelimit-remaining` is 0, the time until
/// `x-ratelimit-reset` (Unix seconds).
pub(crate) fn announced_wait(headers: &HeaderMap) -> Option<Duration> {
    let now = server_now(headers);
    if let Some(wait) = header(headers, RETRY_AFTER.as_str()).and_then(|value| parse_retry_after(value, now)) {
        return Some(wait);
    }
    if header(headers, "x-ratelimit-remaining").map(str::trim) == Some("0") {
        let reset = header(headers, "x-ratelimit-reset")?.trim().parse::<i64>().ok()?;
        return Some(until(OffsetDateTime::from_unix_timestamp(reset).ok()?, now));
    }
    None
}

/// The first characters of a body, on one line.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if out.chars().count() > EXCERPT_CHARS {
        out = out.chars().take(EXCERPT_CHARS).collect::<String>() + "...";
    }
    out
}

/// An error status's details: the SCIM error body's `scimType` and `detail` (or a JSON `message`, as GitHub's
/// REST errors have, or an excerpt of a body that is not JSON), the announced wait, and whether it is a rate
/// limit (429, or a 403 with a wait, no requests remaining, or "rate limit" in its message).
pub(crate) fn status_error(answer: &Answer) -> StatusError {
    let json: Option<Map<String, Value>> = serde_json::from_slice(&answer.body).ok();
    let text = |key: &str| {
        let object = json.as_ref()?;
        let value = object.get(key).or_else(|| get_ignore_case(object, key))?;
        match value {
            Value::String(text) if !text.is_empty() => Some(text.clone()),
            _ => None,
        }
    };
    let scim_type = text("scimType");
    let detail = text("detail").or_else(|| text("message")).or_else(|| {
        let excerpt = excerpt(&answer.body);
        (json.is_none() && !excerpt.is_empty()).then_some(excerpt)
    });
    let retry_after = announced_wait(&answer.headers);
    let rate_limited = answer.status == 429
        || (answer.status == 403
            && (retry_after.is_some()
                || header(&answer.headers, "x-ratelimit-remaining").map(str::trim) == Some("0")
                || detail.as_deref().is_some_and(|d| d.to_ascii_lowercase().contains("rate limit"))));
    StatusError { status: answer.status, scim_type, detail, retry_after, rate_limited }
}

/// A key of a JSON object, ASCII-case-insensitively.
fn get_ignore_case<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.iter().find(|(name, _)| name.eq_ignore_ascii_case(key)).map(|(_, value)| value)
}

/// Whether a `Content-Type` is JSON: `application/scim+json`, `application/json` or another `+json` type.
fn is_json_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A successful answer's body as a JSON object: the content type must be JSON (or absent), and the body a JSON
/// object.
pub(crate) fn json_object(answer: &Answer) -> Result<Map<String, Value>, ErrorKind> {
    let content_type = header(&answer.headers, CONTENT_TYPE.as_str()).map(str::to_owned);
    let bad = |reason: String| {
        ErrorKind::BadResponse(Box::new(NotScim {
            reason,
            content_type: content_type.clone(),
            excerpt: excerpt(&answer.body),
        }))
    };
    let shown = content_type.as_deref().unwrap_or("no content type");
    if let Some(content_type) = &content_type
        && !is_json_type(content_type)
    {
        return Err(bad(format!("expected application/scim+json, got {content_type} ({:?})", excerpt(&answer.body))));
    }
    match serde_json::from_slice::<Value>(&answer.body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(bad(format!("expected a JSON object, got {shown} {:?}", excerpt(&answer.body)))),
        Err(error) => Err(bad(format!(
            "expected a JSON object, got {shown} that does not parse ({error}): {:?}",
            excerpt(&answer.body)
        ))),
    }
}

/// A list response's resources. Tolerant where servers differ harmlessly (no `schemas`, `Resources` in another
/// case, or absent when there are no results); strict where the answer cannot be a list (a single resource, an
/// error, `Resources` that is not an array of objects).
pub(crate) fn list_resources(mut object: Map<String, Value>) -> Result<(u64, Vec<Value>), ErrorKind> {
    let incompatible = |reason: String| ErrorKind::Incompatible { reason };
    if let Some(schemas) = object.get("schemas").and_then(Value::as_array)
        && !schemas.iter().any(|schema| schema.as_str().is_some_and(|s| s.eq_ignore_ascii_case(LIST_RESPONSE_SCHEMA)))
    {
        let is_error = schemas.iter().any(|schema| schema.as_str() == Some(ERROR_SCHEMA));
        return Err(incompatible(format!(
            "expected a ListResponse, got {} with schemas {}",
            if is_error { "an error" } else { "an object" },
            Value::Array(schemas.clone())
        )));
    }
    let key = object.keys().find(|key| key.eq_ignore_ascii_case("Resources")).cloned();
    let resources = key.and_then(|key| object.remove(&key));
    let total = object.get("totalResults").or_else(|| get_ignore_case(&object, "totalResults"));
    let total = match total {
        Some(Value::Number(number)) => {
            number.as_u64().ok_or_else(|| incompatible(format!("totalResults {number} is not a count")))?
        }
        Some(other) => return Err(incompatible(format!("totalResults {other} is not a number"))),
        None if resources.is_none() => {
            return Err(incompatible(
                "expected a ListResponse, got an object without totalResults or Resources".into(),
            ));
        }
        None => 0,
    };
    let resources = match resources {
        None | Some(Value::Null) if total == 0 => Vec::new(),
        None | Some(Value::Null) => {
            return Err(incompatible(format!("the ListResponse says totalResults {total} but has no Resources")));
        }
        Some(Value::Array(items)) => items,
        Some(other) => return Err(incompatible(format!("Resources is {other}, not an array"))),
    };
    if let Some(item) = resources.iter().find(|item| !item.is_object()) {
        return Err(incompatible(format!("Resources holds {item}, not a resource")));
    }
    let total = total.max(resources.len() as u64);
    Ok((total, resources))
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;
    use serde_json::json;

    use super::*;

    fn answer(status: u16, headers: &[(&'static str, &str)], body: &str) -> Answer {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            if let Ok(value) = HeaderValue::from_str(value) {
                map.insert(*name, value);
            }
        }
        Answer { status, headers: map, body: body.as_bytes().to_vec() }
    }

    #[test]
    fn scim_error_bodies_give_scim_type_and_detail() {
        let error = status_error(&answer(
            409,
            &[("content-type", "application/scim+json")],
            &json!({"schemas": [ERROR_SCHEMA], "status": "409", "scimType": "uniqueness", "detail": "taken"})
                .to_string(),
        ));
        assert_eq!(
            error,
            StatusError {
                status: 409,
                scim_type: Some("uniqueness".into()),
                detail: Some("taken".into()),
                retry_after: None,
                rate_limited: false
            }
        );
    }

    #[test]
    fn rate_limits_are_recognised_as_github_sends_them() {
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        let cases: Vec<(Answer, bool, Option<Duration>)> = vec![
            (answer(429, &[], ""), true, None),
            (answer(429, &[("retry-after", "1")], ""), true, Some(Duration::from_secs(1))),
            (answer(503, &[("retry-after", "7")], ""), false, Some(Duration::from_secs(7))),
            (answer(403, &[], r#"{"message":"Resource not accessible"}"#), false, None),
            (answer(403, &[], r#"{"message":"You have exceeded a secondary rate limit."}"#), true, None),
            (answer(403, &[], r#"{"message":"API rate limit exceeded for user ID 1."}"#), true, None),
            (answer(403, &[("retry-after", "60")], "{}"), true, Some(Duration::from_secs(60))),
            (
                answer(403, &[("date", date), ("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "784111837")], ""),
                true,
                Some(Duration::from_secs(60)),
            ),
            (
                answer(403, &[("date", date), ("x-ratelimit-remaining", "12"), ("x-ratelimit-reset", "784111837")], ""),
                false,
                None,
            ),
            (
                answer(503, &[("date", date), ("retry-after", "Sun, 06 Nov 1994 08:50:07 GMT")], ""),
                false,
                Some(Duration::from_secs(30)),
            ),
        ];
        for (answer, rate_limited, wait) in cases {
            let error = status_error(&answer);
            assert_eq!((error.rate_limited, error.retry_after), (rate_limited, wait), "{answer:?}");
        }
    }

    #[test]
    fn non_json_error_bodies_are_quoted() {
        let error =
            status_error(&answer(502, &[("content-type", "text/html")], "<html>\n  <body>Bad   gateway</body></html>"));
        assert_eq!(error.detail.as_deref(), Some("<html> <body>Bad gateway</body></html>"));
        assert_eq!(error.scim_type, None);
        let long = "x".repeat(500);
        let quoted = excerpt(long.as_bytes());
        assert_eq!(quoted.len(), EXCERPT_CHARS + 3);
    }

    #[test]
    fn success_bodies_must_be_json_objects() {
        let ok = |content_type: &str| {
            let headers = if content_type.is_empty() { vec![] } else { vec![("content-type", content_type)] };
            json_object(&answer(200, &headers, r#"{"id":"1"}"#)).is_ok()
        };
        assert!(ok("application/scim+json"));
        assert!(ok("application/scim+json; charset=utf-8"));
        assert!(ok("Application/JSON"));
        assert!(ok(""));
        assert!(!ok("text/html"));
        assert!(!ok("text/plain"));
        let html =
            json_object(&answer(200, &[("content-type", "text/html; charset=utf-8")], "<!DOCTYPE html><p>Login"));
        match html {
            Err(ErrorKind::BadResponse(bad)) => {
                let NotScim { reason, content_type, excerpt } = *bad;
                assert_eq!(
                    reason,
                    r#"expected application/scim+json, got text/html; charset=utf-8 ("<!DOCTYPE html><p>Login")"#
                );
                assert_eq!(content_type.as_deref(), Some("text/html; charset=utf-8"));
                assert_eq!(excerpt, "<!DOCTYPE html><p>Login");
            }
            other => panic!("{other:?}"),
        }
        assert!(json_object(&answer(200, &[("content-type", "application/json")], "[1]")).is_err());
        assert!(json_object(&answer(200, &[("content-type", "application/json")], "{")).is_err());
    }

    #[test]
    fn list_responses_table() {
        let user = json!({"id": "1", "userName": "a"});
        let object = |value: Value| value.as_object().cloned().unwrap_or_default();
        let good: Vec<(Value, u64, usize)> = vec![
            (
                json!({
                    "schemas": [LIST_RESPONSE_SCHEMA],
                    "totalResults": 0,
                    "Resources": [],
                    "startIndex": 1,
                    "itemsPerPage": 0
                }),
                0,
                0,
            ),
            (json!({"schemas": [LIST_RESPONSE_SCHEMA], "totalResults": 0}), 0, 0),
            (json!({"totalResults": 1, "Resources": [user]}), 1, 1),
            (json!({"totalResults": 1, "resources": [user]}), 1, 1),
            (json!({"Resources": [user, user]}), 2, 2),
            (json!({"totalResults": 5, "Resources": [user]}), 5, 1),
        ];
        for (body, total, count) in good {
            let (got_total, resources) = list_resources(object(body.clone())).unwrap_or_else(|e| panic!("{body}: {e}"));
            assert_eq!((got_total, resources.len()), (total, count), "{body}");
        }
        let bad = [
            user,
            json!({"schemas": [ERROR_SCHEMA], "status": "400"}),
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "1", "totalResults": 1}),
            json!({"totalResults": 1}),
            json!({"totalResults": "1", "Resources": []}),
            json!({"totalResults": -1, "Resources": []}),
            json!({"totalResults": 1, "Resources": {"id": "1"}}),
            json!({"totalResults": 1, "Resources": ["1"]}),
        ];
        for body in bad {
            assert!(list_resources(object(body.clone())).is_err(), "{body}");
        }
    }
}
