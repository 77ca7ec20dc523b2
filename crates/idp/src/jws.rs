//! Compact JSON Web Signatures (RFC 7515) of JSON claims, signed ES256 with a [`SigningKey`] and verified against
//! a JWK set. Only ES256 is accepted: `none`, HMAC and every other `alg` are refused before any key is looked at,
//! so that a token cannot choose how it is checked.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use serde_json::{Value, json};

use crate::keys::{Jwk, KeyError, SigningKey};

/// Why a token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    /// Not three base64url parts, or a part that is not JSON.
    #[error("the token is not a compact JWS of JSON")]
    Malformed,
    /// An `alg` other than ES256 (`none` included).
    #[error("the token's alg {0:?} is not accepted: only ES256")]
    Algorithm(String),
    /// No key of the set has the token's `kid`.
    #[error("no published key has the token's kid {0:?}")]
    UnknownKey(String),
    /// The signature does not verify.
    #[error("the token's signature does not verify")]
    Signature,
    /// Signing failed.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// The compact JWS of `claims` (a JSON object), with the header `{"alg":"ES256","kid":...,"typ":typ}`.
pub fn sign(key: &SigningKey, typ: &str, claims: &Value) -> Result<String, JwsError> {
    let header = json!({"alg": "ES256", "kid": key.kid(), "typ": typ});
    let input = format!("{}.{}", encode_json(&header), encode_json(claims));
    let signature = key.sign(input.as_bytes())?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

/// The header and claims of a token whose ES256 signature verifies with the key of its `kid` in `keys`.
pub fn verify(token: &str, keys: &[Jwk]) -> Result<(Value, Value), JwsError> {
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwsError::Malformed);
    };
    let header_json = decode_json(header)?;
    let alg = header_json.get("alg").and_then(Value::as_str).unwrap_or_default();
    if alg != "ES256" {
        return Err(JwsError::Algorithm(alg.to_owned()));
    }
    let kid = header_json.get("kid").and_then(Value::as_str).unwrap_or_default();
    let key = keys.iter().find(|key| key.kid == kid).ok_or_else(|| JwsError::UnknownKey(kid.to_owned()))?;
    let point = key.point().ok_or_else(|| JwsError::UnknownKey(kid.to_owned()))?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| JwsError::Malformed)?;
    let input = &token[..header.len() + 1 + claims.len()];
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
        .verify(input.as_bytes(), &signature)
        .map_err(|_| JwsError::Signature)?;
    Ok((header_json, decode_json(claims)?))
}

fn encode_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn decode_json(part: &str) -> Result<Value, JwsError> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| JwsError::Malformed)?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| JwsError::Malformed)?;
    if value.is_object() { Ok(value) } else { Err(JwsError::Malformed) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Value {
        json!({"iss": "https://roster.test/t/v2.0", "sub": "pairwise", "aud": "client", "nonce": "n-0S6_WzA2Mj"})
    }

    #[test]
    fn a_signed_token_verifies_with_its_key_and_reads_back() {
        let key = SigningKey::generate().unwrap();
        let token = sign(&key, "JWT", &claims()).unwrap();
        let (header, read) = verify(&token, std::slice::from_ref(key.jwk())).unwrap();
        assert_eq!(read, claims());
        assert_eq!((header["alg"].as_str(), header["kid"].as_str()), (Some("ES256"), Some(key.kid())));
    }

    #[test]
    fn forged_or_altered_tokens_are_refused() {
        let key = SigningKey::generate().unwrap();
        let other = SigningKey::generate().unwrap();
        let keys = [key.jwk().clone()];
        let token = sign(&key, "JWT", &claims()).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let header = |value: Value| URL_SAFE_NO_PAD.encode(value.to_string());
        let forged_claims = URL_SAFE_NO_PAD.encode(json!({"sub": "admin"}).to_string());
        let cases: Vec<(String, JwsError)> = vec![
            // alg none, with and without a signature.
            (format!("{}.{}.", header(json!({"alg": "none"})), parts[1]), JwsError::Algorithm("none".into())),
            (
                format!("{}.{}.{}", header(json!({"alg": "none", "kid": key.kid()})), parts[1], parts[2]),
                JwsError::Algorithm("none".into()),
            ),
            // HMAC with the public key as the secret (the classic key confusion).
            (
                format!("{}.{}.{}", header(json!({"alg": "HS256", "kid": key.kid()})), parts[1], parts[2]),
                JwsError::Algorithm("HS256".into()),
            ),
            (
                format!("{}.{}.{}", header(json!({"alg": "RS256", "kid": key.kid()})), parts[1], parts[2]),
                JwsError::Algorithm("RS256".into()),
            ),
            // Claims swapped under the same signature.
            (format!("{}.{forged_claims}.{}", parts[0], parts[2]), JwsError::Signature),
            // Signed by a key that is not published.
            (sign(&other, "JWT", &claims()).unwrap(), JwsError::UnknownKey(other.kid().into())),
            // Signed by another key, but naming the published one.
            {
                let mut forged = sign(&other, "JWT", &claims()).unwrap();
                forged = forged.replacen(forged.split('.').next().unwrap(), parts[0], 1);
                (forged, JwsError::Signature)
            },
            (format!("{}.{}", parts[0], parts[1]), JwsError::Malformed),
            (format!("{token}.extra"), JwsError::Malformed),
            ("not.a.token".to_owned(), JwsError::Malformed),
            (format!("{}.{}.{}", header(json!("a string")), parts[1], parts[2]), JwsError::Malformed),
        ];
        for (token, expected) in cases {
            assert_eq!(verify(&token, &keys), Err(expected.clone()), "{token}");
        }
    }
}
