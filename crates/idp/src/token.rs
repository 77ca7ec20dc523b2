//! The token request (RFC 6749 §3.2, §4.1.3, §6, §4.4; OpenID Connect Core §3.1.3.1) read into a grant and an
//! authenticated client, or refused with the OAuth error and status the token endpoint answers. Clients
//! authenticate with `client_secret_basic` (RFC 6749 §2.3.1: the id and secret form-urlencoded, then Basic) or
//! `client_secret_post`, never both at once; a public client sends only its `client_id` and must prove the code
//! with PKCE. A client secret is stored as its SHA-256 digest and compared in constant time.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The longest value a parameter may have.
pub const MAX_VALUE: usize = 4096;

/// A client as the token endpoint sees it.
#[derive(Debug, Clone)]
pub struct Client {
    /// Its client id.
    pub client_id: String,
    /// The SHA-256 digest of its secret; `None` for a public client.
    pub secret_digest: Option<[u8; 32]>,
}

/// The digest a client secret is stored as.
pub fn secret_digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// What is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// A code for tokens.
    AuthorizationCode {
        /// The code.
        code: String,
        /// The redirect URI the code was sent to, as the authorization request had it.
        redirect_uri: String,
        /// The PKCE verifier.
        verifier: Option<String>,
    },
    /// A refresh token for new tokens.
    RefreshToken {
        /// The refresh token.
        refresh_token: String,
        /// A narrower scope, if asked.
        scope: Option<String>,
    },
    /// Tokens for the client itself (admin API automation).
    ClientCredentials {
        /// The scope asked.
        scope: Option<String>,
    },
}

/// A token request read: the client, authenticated (or public), and its grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// The client's id.
    pub client_id: String,
    /// Whether it proved a secret (a public client did not).
    pub authenticated: bool,
    /// The grant.
    pub grant: Grant,
}

/// A refusal of the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {description}")]
pub struct TokenError {
    /// The OAuth error code.
    pub error: &'static str,
    /// What is wrong.
    pub description: String,
    /// The HTTP status: 400, or 401 for a client that did not authenticate.
    pub status: u16,
    /// Whether the answer carries `WWW-Authenticate: Basic` (the client tried Basic).
    pub basic_challenge: bool,
}

impl TokenError {
    fn new(error: &'static str, description: impl Into<String>) -> TokenError {
        TokenError { error, description: description.into(), status: 400, basic_challenge: false }
    }

    fn client(description: impl Into<String>, basic: bool) -> TokenError {
        TokenError { error: "invalid_client", description: description.into(), status: 401, basic_challenge: basic }
    }
}

/// Reads a token request: the form's parameters, the `Authorization` header if any, and `clients` to look the
/// client up.
pub fn read<'c>(
    parameters: &[(String, String)],
    authorization: Option<&str>,
    clients: impl Fn(&str) -> Option<&'c Client>,
) -> Result<TokenRequest, TokenError> {
    let single = |name: &str| -> Result<Option<&str>, TokenError> {
        let mut values = parameters.iter().filter(|(key, _)| key == name).map(|(_, value)| value.as_str());
        match (values.next(), values.next()) {
            (Some(_), Some(_)) => Err(TokenError::new("invalid_request", format!("{name} is sent more than once"))),
            (Some(value), None) if value.len() > MAX_VALUE => {
                Err(TokenError::new("invalid_request", format!("{name} is too long")))
            }
            (Some(""), None) | (None, _) => Ok(None),
            (Some(value), None) => Ok(Some(value)),
        }
    };
    let basic = authorization.map(basic_credentials).transpose()?;
    let (client_id, secret) = match (basic, single("client_secret")?) {
        (Some(_), Some(_)) => {
            return Err(TokenError::new(
                "invalid_request",
                "use one client authentication: Basic or client_secret, not both",
            ));
        }
        (Some((id, secret)), None) => {
            if single("client_id")?.is_some_and(|posted| posted != id) {
                return Err(TokenError::new("invalid_request", "client_id differs from the Basic credentials"));
            }
            (id, Some(secret))
        }
        (None, secret) => {
            let id = single("client_id")?.ok_or_else(|| TokenError::client("client_id is missing", false))?;
            (id.to_owned(), secret.map(str::to_owned))
        }
    };
    let basic_used = authorization.is_some();
    let unknown = || TokenError::client("the client is unknown or its secret is wrong", basic_used);
    let client = clients(&client_id).ok_or_else(unknown)?;
    let authenticated = match (&client.secret_digest, &secret) {
        (Some(digest), Some(secret)) => {
            if !bool::from(secret_digest(secret).ct_eq(digest)) {
                return Err(unknown());
            }
            true
        }
        (Some(_), None) => return Err(TokenError::client("this client must authenticate with its secret", basic_used)),
        (None, Some(_)) => return Err(TokenError::client("this public client has no secret to send", basic_used)),
        (None, None) => false,
    };
    let grant = match single("grant_type")? {
        Some("authorization_code") => Grant::AuthorizationCode {
            code: single("code")?.ok_or_else(|| TokenError::new("invalid_request", "code is missing"))?.to_owned(),
            redirect_uri: single("redirect_uri")?
                .ok_or_else(|| TokenError::new("invalid_request", "redirect_uri is missing"))?
                .to_owned(),
            verifier: single("code_verifier")?.map(str::to_owned),
        },
        Some("refresh_token") => Grant::RefreshToken {
            refresh_token: single("refresh_token")?
                .ok_or_else(|| TokenError::new("invalid_request", "refresh_token is missing"))?
                .to_owned(),
            scope: single("scope")?.map(str::to_owned),
        },
        Some("client_credentials") if authenticated => {
            Grant::ClientCredentials { scope: single("scope")?.map(str::to_owned) }
        }
        Some("client_credentials") => {
            return Err(TokenError::new("unauthorized_client", "a public client cannot use client_credentials"));
        }
        Some(other) => {
            return Err(TokenError::new("unsupported_grant_type", format!("grant_type {other:?} is not supported")));
        }
        None => return Err(TokenError::new("invalid_request", "grant_type is missing")),
    };
    Ok(TokenRequest { client_id, authenticated, grant })
}

/// The client id and secret of a `Basic` header: base64 of `id:secret`, each form-urlencoded (RFC 6749 §2.3.1).
fn basic_credentials(header: &str) -> Result<(String, String), TokenError> {
    let malformed = || TokenError::client("the Authorization header is not Basic credentials", true);
    let (scheme, encoded) = header.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed());
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    let unescape = |part: &str| -> String {
        form_urlencoded::parse(format!("v={part}").as_bytes())
            .next()
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default()
    };
    let (id, secret) = (unescape(id), unescape(secret));
    if id.is_empty() {
        return Err(malformed());
    }
    Ok((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr3t:with+special%chars";

    fn clients() -> Vec<Client> {
        vec![
            Client { client_id: "web".into(), secret_digest: Some(secret_digest(SECRET)) },
            Client { client_id: "spa".into(), secret_digest: None },
        ]
    }

    fn basic(id: &str, secret: &str) -> String {
        let encode = |part: &str| form_urlencoded::byte_serialize(part.as_bytes()).collect::<String>();
        format!("Basic {}", STANDARD.encode(format!("{}:{}", encode(id), encode(secret))))
    }

    fn token(pairs: &[(&str, &str)], authorization: Option<&str>) -> Result<TokenRequest, TokenError> {
        let clients = clients();
        let parameters: Vec<(String, String)> =
            pairs.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect();
        read(&parameters, authorization, |id| clients.iter().find(|client| client.client_id == id))
    }

    const CODE: &[(&str, &str)] =
        &[("grant_type", "authorization_code"), ("code", "c0de"), ("redirect_uri", "https://app.example/cb")];

    #[test]
    fn both_secret_methods_and_public_clients_authenticate() {
        let by_basic = token(CODE, Some(&basic("web", SECRET))).unwrap();
        assert_eq!((by_basic.client_id.as_str(), by_basic.authenticated), ("web", true));
        let mut posted = CODE.to_vec();
        posted.extend([("client_id", "web"), ("client_secret", SECRET)]);
        assert!(token(&posted, None).unwrap().authenticated);
        let mut public = CODE.to_vec();
        public.extend([("client_id", "spa"), ("code_verifier", "v")]);
        let read = token(&public, None).unwrap();
        assert!(!read.authenticated);
        assert!(matches!(read.grant, Grant::AuthorizationCode { verifier: Some(_), .. }));
    }

    #[test]
    fn a_client_that_does_not_prove_itself_gets_401() {
        let mut wrong_post = CODE.to_vec();
        wrong_post.extend([("client_id", "web"), ("client_secret", "guess")]);
        let mut no_secret = CODE.to_vec();
        no_secret.push(("client_id", "web"));
        let mut public_with_secret = CODE.to_vec();
        public_with_secret.extend([("client_id", "spa"), ("client_secret", "x")]);
        let mut unknown = CODE.to_vec();
        unknown.extend([("client_id", "nobody"), ("client_secret", SECRET)]);
        /// The form, the Authorization header, and whether the answer challenges Basic.
        type Case<'a> = (Vec<(&'a str, &'a str)>, Option<String>, bool);
        let cases: Vec<Case<'_>> = vec![
            (CODE.to_vec(), Some(basic("web", "guess")), true),
            (CODE.to_vec(), Some(basic("web", &SECRET.to_uppercase())), true),
            (CODE.to_vec(), Some(basic("nobody", SECRET)), true),
            (CODE.to_vec(), Some("Bearer abc".to_owned()), true),
            (CODE.to_vec(), Some("Basic !!!".to_owned()), true),
            (CODE.to_vec(), Some(format!("Basic {}", STANDARD.encode("no-colon"))), true),
            (wrong_post, None, false),
            (no_secret, None, false),
            (public_with_secret, None, false),
            (unknown, None, false),
            (CODE.to_vec(), None, false),
        ];
        for (pairs, authorization, challenge) in cases {
            let error = token(&pairs, authorization.as_deref()).unwrap_err();
            assert_eq!(
                (error.error, error.status, error.basic_challenge),
                ("invalid_client", 401, challenge),
                "{pairs:?} {authorization:?}: {error}"
            );
        }
    }

    #[test]
    fn malformed_grants_are_refused_with_their_oauth_error() {
        let with = |extra: &[(&'static str, &'static str)], drop: &str| -> Vec<(&'static str, &'static str)> {
            let mut pairs: Vec<(&str, &str)> = CODE.iter().copied().filter(|(name, _)| *name != drop).collect();
            pairs.extend_from_slice(extra);
            pairs
        };
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (with(&[], "code"), "invalid_request"),
            (with(&[], "redirect_uri"), "invalid_request"),
            (with(&[], "grant_type"), "invalid_request"),
            (with(&[("grant_type", "password")], "grant_type"), "unsupported_grant_type"),
            (with(&[("grant_type", "implicit")], "grant_type"), "unsupported_grant_type"),
            (with(&[("code", "again")], ""), "invalid_request"),
            (with(&[("client_secret", SECRET)], ""), "invalid_request"),
            (with(&[("client_id", "spa")], ""), "invalid_request"),
        ];
        for (pairs, expected) in cases {
            let error = token(&pairs, Some(&basic("web", SECRET))).unwrap_err();
            assert_eq!((error.error, error.status), (expected, 400), "{pairs:?}: {error}");
        }
        let public = [("grant_type", "client_credentials"), ("client_id", "spa")];
        assert_eq!(token(&public, None).unwrap_err().error, "unauthorized_client");
        let machine = token(&[("grant_type", "client_credentials"), ("scope", "api")], Some(&basic("web", SECRET)));
        assert_eq!(machine.unwrap().grant, Grant::ClientCredentials { scope: Some("api".into()) });
        let refresh = token(&[("grant_type", "refresh_token"), ("refresh_token", "r1")], Some(&basic("web", SECRET)));
        assert_eq!(refresh.unwrap().grant, Grant::RefreshToken { refresh_token: "r1".into(), scope: None });
    }
}
