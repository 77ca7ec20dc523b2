//! `$skiptoken`: a paging cursor (any JSON value: a last sort key and id, an offset) as base64url, without
//! padding, of its compact JSON. The token is opaque to clients, who send back the nextLink as given.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::{ErrorCode, ODataError};

/// The longest `$skiptoken` [`decode_skiptoken`] reads, in bytes (a cursor of up to 1,536 bytes of JSON).
pub const MAX_SKIPTOKEN_LENGTH: usize = 2048;

/// The `$skiptoken` of a cursor: base64url (no padding) of its compact JSON. Its characters need no
/// percent-encoding in a URL. A cursor whose token is longer than [`MAX_SKIPTOKEN_LENGTH`] will not decode.
pub fn encode_skiptoken(cursor: &Value) -> String {
    URL_SAFE_NO_PAD.encode(cursor.to_string())
}

/// The cursor in a `$skiptoken` made by [`encode_skiptoken`]. A token that is too long, not base64url without
/// padding, or not JSON is 400 `BadRequest`. The cursor's content is the caller's to check.
pub fn decode_skiptoken(token: &str) -> Result<Value, ODataError> {
    let invalid =
        || ODataError::new(ErrorCode::BadRequest, "$skiptoken is not valid: use the @odata.nextLink as given");
    if token.len() > MAX_SKIPTOKEN_LENGTH {
        return Err(invalid());
    }
    let json = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    serde_json::from_slice(&json).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    #[test]
    fn round_trips_and_is_url_safe() {
        let cursor = json!({"at": "2026-01-01T00:00:00Z", "id": "ec2d0d8a", "offset": 100, "x": "?&=+/ü"});
        let token = encode_skiptoken(&cursor);
        assert!(token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{token}");
        assert_eq!(decode_skiptoken(&token), Ok(cursor));
        assert_eq!(encode_skiptoken(&json!({"after": "a"})), "eyJhZnRlciI6ImEifQ");
    }

    #[test]
    fn garbage_is_refused() {
        let huge = encode_skiptoken(&json!("x".repeat(MAX_SKIPTOKEN_LENGTH)));
        let padded = format!("{}=", encode_skiptoken(&json!({"a": 1})));
        let not_json = URL_SAFE_NO_PAD.encode("{not json");
        let deep = URL_SAFE_NO_PAD.encode("[".repeat(1000));
        for token in ["", "!!!", "a", "eyJhZnRlciI6ImEifQ==", "eyJhZnRlciI6ImEifQ+", &padded, &not_json, &huge, &deep] {
            let error = decode_skiptoken(token).expect_err(token);
            assert_eq!(error.code(), "BadRequest");
            assert_eq!(error.to_string(), "$skiptoken is not valid: use the @odata.nextLink as given");
        }
    }

    /// Arbitrary JSON. Fractional numbers are decimals with few digits: serde_json (without its
    /// `float_roundtrip` feature) may read back an arbitrary `f64` one unit in the last place off.
    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (any::<i32>(), 0..6_u32).prop_map(|(n, scale)| Value::from(f64::from(n) / f64::from(10_u32.pow(scale)))),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec((any::<String>(), inner), 0..6)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn skiptokens_round_trip(cursor in json_value()) {
            let token = encode_skiptoken(&cursor);
            if token.len() <= MAX_SKIPTOKEN_LENGTH {
                prop_assert_eq!(decode_skiptoken(&token), Ok(cursor));
            } else {
                prop_assert!(decode_skiptoken(&token).is_err());
            }
        }

        #[test]
        fn decoding_never_panics(token in "[A-Za-z0-9_=+/-]{0,64}|\\PC{0,64}") {
            let _ = decode_skiptoken(&token);
        }
    }
}
