//! Proof Key for Code Exchange (RFC 7636), S256 only: `plain` is refused (RFC 9700 §2.1.1), a challenge is the 43
//! characters of a base64url SHA-256 digest, a verifier 43 to 128 unreserved characters, and the verifier is
//! compared with the stored challenge in constant time. A code issued with a challenge needs its verifier; a
//! verifier sent for a code issued without one is a downgrade and is refused too.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Why a PKCE parameter is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PkceError {
    /// A method other than S256.
    #[error("code_challenge_method {0:?} is not supported: use S256")]
    Method(String),
    /// A challenge that is not a base64url SHA-256 digest.
    #[error("code_challenge must be the 43 base64url characters of a SHA-256 digest")]
    Challenge,
    /// A challenge method without a challenge.
    #[error("code_challenge_method was sent without a code_challenge")]
    MissingChallenge,
    /// A verifier of the wrong length or alphabet.
    #[error("code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_' and '~'")]
    Verifier,
    /// A code issued with a challenge redeemed without its verifier.
    #[error("code_verifier is missing: the code was issued with a code_challenge")]
    MissingVerifier,
    /// A verifier for a code issued without a challenge.
    #[error("code_verifier was sent, but the code was issued without a code_challenge")]
    Unexpected,
    /// A verifier whose digest is not the challenge.
    #[error("code_verifier does not match the code_challenge")]
    Mismatch,
}

/// An S256 code challenge, as stored with the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge(String);

impl Challenge {
    /// The challenge of an authorization request: `None` when it sent neither parameter. The method defaults to
    /// `plain` in RFC 7636, which is refused: a challenge without `S256` is an error.
    pub fn from_request(challenge: Option<&str>, method: Option<&str>) -> Result<Option<Challenge>, PkceError> {
        match (challenge, method) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(PkceError::MissingChallenge),
            (Some(_), None) => Err(PkceError::Method("plain".to_owned())),
            (Some(_), Some(method)) if method != "S256" => Err(PkceError::Method(method.to_owned())),
            (Some(challenge), Some(_)) => {
                let valid = challenge.len() == 43
                    && URL_SAFE_NO_PAD.decode(challenge).is_ok_and(|digest| digest.len() == 32)
                    && challenge.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
                if !valid {
                    return Err(PkceError::Challenge);
                }
                Ok(Some(Challenge(challenge.to_owned())))
            }
        }
    }

    /// The challenge as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The S256 challenge of a verifier.
    pub fn of_verifier(verifier: &str) -> Challenge {
        Challenge(URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())))
    }
}

/// Checks the token request's verifier against the challenge the code was issued with.
pub fn verify(challenge: Option<&Challenge>, verifier: Option<&str>) -> Result<(), PkceError> {
    let (challenge, verifier) = match (challenge, verifier) {
        (None, None) => return Ok(()),
        (None, Some(_)) => return Err(PkceError::Unexpected),
        (Some(_), None) => return Err(PkceError::MissingVerifier),
        (Some(challenge), Some(verifier)) => (challenge, verifier),
    };
    let unreserved = |byte: u8| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~');
    if !(43..=128).contains(&verifier.len()) || !verifier.bytes().all(unreserved) {
        return Err(PkceError::Verifier);
    }
    let computed = Challenge::of_verifier(verifier);
    if bool::from(computed.0.as_bytes().ct_eq(challenge.0.as_bytes())) { Ok(()) } else { Err(PkceError::Mismatch) }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_rfc_example_verifies() {
        assert_eq!(Challenge::of_verifier(VERIFIER).as_str(), CHALLENGE);
        let challenge = Challenge::from_request(Some(CHALLENGE), Some("S256")).unwrap();
        assert_eq!(verify(challenge.as_ref(), Some(VERIFIER)), Ok(()));
    }

    #[test]
    fn requests_without_s256_or_with_a_malformed_challenge_are_refused() {
        type Case<'a> = (Option<&'a str>, Option<&'a str>, Result<bool, PkceError>);
        let cases: &[Case<'_>] = &[
            (None, None, Ok(false)),
            (Some(CHALLENGE), Some("S256"), Ok(true)),
            (Some(CHALLENGE), None, Err(PkceError::Method("plain".into()))),
            (Some(VERIFIER), Some("plain"), Err(PkceError::Method("plain".into()))),
            (Some(CHALLENGE), Some("s256"), Err(PkceError::Method("s256".into()))),
            (None, Some("S256"), Err(PkceError::MissingChallenge)),
            (Some("short"), Some("S256"), Err(PkceError::Challenge)),
            (Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"), Some("S256"), Err(PkceError::Challenge)),
            (Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c="), Some("S256"), Err(PkceError::Challenge)),
        ];
        for (challenge, method, expected) in cases {
            let got = Challenge::from_request(*challenge, *method).map(|challenge| challenge.is_some());
            assert_eq!(&got, expected, "{challenge:?} {method:?}");
        }
    }

    #[test]
    fn a_downgrade_a_missing_or_wrong_verifier_is_refused() {
        let challenge = Challenge::of_verifier(VERIFIER);
        let other = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        type Case<'a> = (Option<&'a Challenge>, Option<&'a str>, Result<(), PkceError>);
        let cases: &[Case<'_>] = &[
            (None, None, Ok(())),
            (None, Some(VERIFIER), Err(PkceError::Unexpected)),
            (Some(&challenge), None, Err(PkceError::MissingVerifier)),
            (Some(&challenge), Some(other), Err(PkceError::Mismatch)),
            (Some(&challenge), Some("too-short"), Err(PkceError::Verifier)),
            (Some(&challenge), Some(&"a".repeat(129)), Err(PkceError::Verifier)),
            (Some(&challenge), Some("dBjftJeZ4CVP+mB92K27uhbUJU1p1r/wW1gFWFOEjXk"), Err(PkceError::Verifier)),
        ];
        for (challenge, verifier, expected) in cases {
            assert_eq!(&verify(*challenge, *verifier), expected, "{verifier:?}");
        }
    }

    proptest! {
        /// Any valid verifier verifies against its own challenge and no other verifier's.
        #[test]
        fn a_verifier_matches_its_own_challenge_only(
            verifier in "[A-Za-z0-9._~-]{43,128}",
            other in "[A-Za-z0-9._~-]{43,128}",
        ) {
            let challenge = Challenge::of_verifier(&verifier);
            let parsed = Challenge::from_request(Some(challenge.as_str()), Some("S256")).unwrap();
            prop_assert_eq!(verify(parsed.as_ref(), Some(&verifier)), Ok(()));
            if other != verifier {
                prop_assert_eq!(verify(parsed.as_ref(), Some(&other)), Err(PkceError::Mismatch));
            }
        }
    }
}
