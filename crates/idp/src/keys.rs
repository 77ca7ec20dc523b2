//! Signing keys of the provider: ES256 (ECDSA P-256 with SHA-256) key pairs generated and used through ring, kept
//! as PKCS#8 bytes (for the caller to seal at rest), published as JWKs whose `kid` is the key's RFC 7638
//! thumbprint, so that a key's id follows from the key alone.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Why a key cannot be made, read or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The system's random source failed.
    #[error("the system's random source failed")]
    Random,
    /// Bytes that are not an ES256 PKCS#8 key pair.
    #[error("the stored signing key is not an ES256 PKCS#8 key pair")]
    Malformed,
    /// A public key that is not an uncompressed P-256 point.
    #[error("the public key is not an uncompressed P-256 point")]
    PublicKey,
}

/// A public key as a JSON Web Key (RFC 7517), as JWKS publishes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// `EC`.
    pub kty: String,
    /// `P-256`.
    pub crv: String,
    /// The point's x coordinate, base64url.
    pub x: String,
    /// The point's y coordinate, base64url.
    pub y: String,
    /// `sig`.
    #[serde(rename = "use")]
    pub usage: String,
    /// `ES256`.
    pub alg: String,
    /// The RFC 7638 thumbprint.
    pub kid: String,
}

impl Jwk {
    /// The JWK of an uncompressed P-256 point (`0x04 || x || y`).
    pub fn of_point(point: &[u8]) -> Result<Jwk, KeyError> {
        let [0x04, coordinates @ ..] = point else { return Err(KeyError::PublicKey) };
        if coordinates.len() != 64 {
            return Err(KeyError::PublicKey);
        }
        let (x, y) = coordinates.split_at(32);
        let (x, y) = (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y));
        // RFC 7638 §3.2: the required members in lexicographic order, no whitespace.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        Ok(Jwk {
            kty: "EC".to_owned(),
            crv: "P-256".to_owned(),
            x,
            y,
            usage: "sig".to_owned(),
            alg: "ES256".to_owned(),
            kid,
        })
    }

    /// The uncompressed point of the key, for verification; `None` when the JWK is not a P-256 key.
    pub fn point(&self) -> Option<Vec<u8>> {
        if self.kty != "EC" || self.crv != "P-256" {
            return None;
        }
        let (x, y) = (URL_SAFE_NO_PAD.decode(&self.x).ok()?, URL_SAFE_NO_PAD.decode(&self.y).ok()?);
        if x.len() != 32 || y.len() != 32 {
            return None;
        }
        Some([&[0x04][..], &x, &y].concat())
    }
}

/// An ES256 signing key.
pub struct SigningKey {
    pair: EcdsaKeyPair,
    pkcs8: Vec<u8>,
    jwk: Jwk,
    random: SystemRandom,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.jwk.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new key pair from the system's random source.
    pub fn generate() -> Result<SigningKey, KeyError> {
        let random = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &random).map_err(|_| KeyError::Random)?;
        SigningKey::from_pkcs8(pkcs8.as_ref())
    }

    /// The key pair of stored PKCS#8 bytes.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<SigningKey, KeyError> {
        let random = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &random)
            .map_err(|_| KeyError::Malformed)?;
        let jwk = Jwk::of_point(pair.public_key().as_ref())?;
        Ok(SigningKey { pair, pkcs8: pkcs8.to_vec(), jwk, random })
    }

    /// The PKCS#8 bytes, to seal at rest (never to log or show).
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The key's id.
    pub fn kid(&self) -> &str {
        &self.jwk.kid
    }

    /// The public key, as JWKS publishes it.
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// The 64-byte `r || s` signature of `message` (RFC 7518 §3.4).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let signature = self.pair.sign(&self.random, message).map_err(|_| KeyError::Random)?;
        Ok(signature.as_ref().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_key_reads_back_with_the_same_id() {
        let key = SigningKey::generate().unwrap();
        let again = SigningKey::from_pkcs8(key.pkcs8()).unwrap();
        assert_eq!(again.jwk(), key.jwk());
        assert_eq!(key.kid().len(), 43, "a base64url SHA-256 digest");
        assert_ne!(SigningKey::generate().unwrap().kid(), key.kid());
        assert!(!format!("{key:?}").contains(&URL_SAFE_NO_PAD.encode(key.pkcs8())), "no key material in Debug");
        assert_eq!(SigningKey::from_pkcs8(b"not a key").unwrap_err(), KeyError::Malformed);
    }

    /// RFC 7638 §3.1 uses an RSA key; this checks the EC form of the same rule against a fixed point.
    #[test]
    fn the_thumbprint_hashes_the_required_members_in_order() {
        let point = [&[0x04][..], &[1u8; 32], &[2u8; 32]].concat();
        let jwk = Jwk::of_point(&point).unwrap();
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#, jwk.x, jwk.y);
        assert_eq!(jwk.kid, URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())));
        assert_eq!(jwk.point().unwrap(), point);
        assert_eq!(Jwk::of_point(&point[1..]).unwrap_err(), KeyError::PublicKey);
        assert_eq!(Jwk::of_point(&[0x04, 1, 2]).unwrap_err(), KeyError::PublicKey);
        let json = serde_json::to_value(&jwk).unwrap();
        assert_eq!((json["use"].as_str(), json["alg"].as_str()), (Some("sig"), Some("ES256")));
    }
}
