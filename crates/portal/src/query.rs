//! What the filtered, newest-first lists (provisioning logs, audit logs) share: their query's blank fields, the
//! query string of a link that keeps the filters, and the keyset cursor `{RFC 3339 time}|{id}` of their pages.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::PortalError;

/// A query field's value, trimmed; `None` when absent or blank.
pub fn blank_to_none(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|value| !value.is_empty())
}

/// The query string of the pairs that have a value, in order.
pub fn query_string(pairs: &[(&str, Option<&str>)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        if let Some(value) = value {
            query.append_pair(key, value);
        }
    }
    query.finish()
}

/// The cursor of the entry at `at` with `id`: the next page holds what is older.
pub fn cursor(at: OffsetDateTime, id: &str) -> String {
    format!("{}|{id}", at.format(&Rfc3339).unwrap_or_default())
}

/// A cursor's time and id, or a 400 that says to use the links as given.
pub fn parse_cursor(text: &str) -> Result<(OffsetDateTime, String), PortalError> {
    let bad = || PortalError::bad_request("The page cursor is not valid: use the Next link as given.");
    let (at, id) = text.split_once('|').ok_or_else(bad)?;
    let at = OffsetDateTime::parse(at, &Rfc3339).map_err(|_| bad())?;
    Ok((at, id.to_owned()))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn links_keep_the_filters_and_cursors_read_back() {
        assert_eq!(
            query_string(&[("status", Some("Failure")), ("cycle", None), ("q", Some("a b&c"))]),
            "status=Failure&q=a+b%26c"
        );
        assert_eq!(blank_to_none(&Some("  ".to_owned())), None);
        assert_eq!(blank_to_none(&Some(" x ".to_owned())), Some("x"));
        let at = datetime!(2026-12-08 01:02:03.456 UTC);
        assert_eq!(parse_cursor(&cursor(at, "c|1")).unwrap(), (at, "c|1".to_owned()));
        assert!(parse_cursor("yesterday|c1").is_err() && parse_cursor("no-bar").is_err());
    }
}
