//! The authorization request (OpenID Connect Core §3.1.2.1, RFC 6749 §4.1.1, RFC 7636, RFC 9207), read into what
//! the sign-in needs, or refused. Who gets the refusal matters: until the client and its redirect URI are known
//! to be registered, an error is a page of the provider's own (never a redirect: the provider is no open
//! redirector, RFC 9700 §4.11.2); after, it goes back to the client's redirect URI with `state` and `iss`.
//!
//! Only the code flow: `response_type=code`, `response_mode` `query` (the default) or `form_post`, `scope` with
//! `openid`, PKCE S256 (required of public clients), `prompt` `login`, `none`, `consent` or `select_account`
//! (`none` alone), `max_age`, `login_hint`; request objects are refused cleanly; unknown parameters are ignored.

use crate::pkce::Challenge;
use crate::redirect::{RedirectUri, find};

/// The longest value a parameter may have.
pub const MAX_VALUE: usize = 2048;

/// A client as the authorization endpoint sees it.
#[derive(Debug, Clone)]
pub struct Client {
    /// Its client id.
    pub client_id: String,
    /// Its registered redirect URIs.
    pub redirect_uris: Vec<RedirectUri>,
    /// A public client (no secret) must use PKCE.
    pub public: bool,
}

/// How the response goes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// In the redirect URI's query.
    Query,
    /// As an auto-submitted form POSTed to the redirect URI.
    FormPost,
}

/// What the client asked of the sign-in (`prompt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// Sign in again, whatever the session.
    Login,
    /// No page at all: answer from the session, or `login_required`.
    None,
}

/// A valid authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The client.
    pub client_id: String,
    /// The registered redirect URI it named, as sent.
    pub redirect_uri: String,
    /// How to answer.
    pub response_mode: ResponseMode,
    /// The scopes, `openid` among them.
    pub scopes: Vec<String>,
    /// Sent back as is.
    pub state: Option<String>,
    /// Put into the ID token.
    pub nonce: Option<String>,
    /// The PKCE challenge, stored with the code.
    pub challenge: Option<Challenge>,
    /// `login` or `none` (`consent` and `select_account` ask for a sign-in, as `login`).
    pub prompt: Option<Prompt>,
    /// The longest time since the user signed in that the client accepts, in seconds.
    pub max_age: Option<u64>,
    /// Who is expected to sign in.
    pub login_hint: Option<String>,
}

/// Why a request is refused, and where the refusal goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// An error page of the provider: the client or its redirect URI cannot be trusted with a redirect.
    Page {
        /// What is wrong.
        description: String,
    },
    /// An error response to the client's redirect URI.
    Redirect {
        /// Where.
        redirect_uri: String,
        /// How.
        response_mode: ResponseMode,
        /// The OAuth error code (`invalid_request`, `unsupported_response_type`, ...).
        error: &'static str,
        /// What is wrong.
        description: String,
        /// The request's state, sent back.
        state: Option<String>,
    },
}

/// The parameters of the response to the client: the error or the code, then `state` and `iss` (RFC 9207).
pub fn response_parameters<'a>(
    outcome: &'a [(&'static str, &'a str)],
    state: Option<&'a str>,
    issuer: &'a str,
) -> Vec<(&'static str, &'a str)> {
    let mut parameters = outcome.to_vec();
    if let Some(state) = state {
        parameters.push(("state", state));
    }
    parameters.push(("iss", issuer));
    parameters
}

/// The redirect URI with `parameters` in its query, after any query it was registered with.
pub fn query_redirect(redirect_uri: &str, parameters: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in parameters {
        query.append_pair(name, value);
    }
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    format!("{redirect_uri}{separator}{}", query.finish())
}

/// Reads an authorization request from its parameters (query or form), with `clients` to look its client up.
pub fn read<'c>(
    parameters: &[(String, String)],
    clients: impl Fn(&str) -> Option<&'c Client>,
) -> Result<Request, Refusal> {
    let page = |description: String| Refusal::Page { description };
    let single = |name: &str| -> Result<Option<&str>, String> {
        let mut values = parameters.iter().filter(|(key, _)| key == name).map(|(_, value)| value.as_str());
        match (values.next(), values.next()) {
            (Some(_), Some(_)) => Err(format!("the parameter {name} is sent more than once")),
            (Some(value), None) if value.len() > MAX_VALUE => Err(format!("the parameter {name} is too long")),
            (Some(""), None) | (None, _) => Ok(None),
            (Some(value), None) => Ok(Some(value)),
        }
    };
    // Until the client and its redirect URI are known, every error is a page.
    let client_id = single("client_id").map_err(page)?.ok_or_else(|| page("client_id is missing".to_owned()))?;
    let client =
        clients(client_id).ok_or_else(|| page(format!("there is no application with client_id {client_id:?}")))?;
    let requested = single("redirect_uri").map_err(page)?.ok_or_else(|| page("redirect_uri is missing".to_owned()))?;
    let redirect_uri = find(&client.redirect_uris, requested)
        .map(|_| requested.to_owned())
        .ok_or_else(|| page(format!("redirect_uri {requested:?} is not registered for this application")))?;
    let state = single("state").map_err(page)?.map(str::to_owned);
    let (response_mode, mode_error) = match single("response_mode") {
        Ok(None | Some("query")) => (ResponseMode::Query, None),
        Ok(Some("form_post")) => (ResponseMode::FormPost, None),
        Ok(Some(other)) => {
            (ResponseMode::Query, Some(format!("response_mode {other:?} is not supported: use query or form_post")))
        }
        Err(error) => (ResponseMode::Query, Some(error)),
    };
    let refuse = |error: &'static str, description: String| Refusal::Redirect {
        redirect_uri: redirect_uri.clone(),
        response_mode,
        error,
        description,
        state: state.clone(),
    };
    if let Some(description) = mode_error {
        return Err(refuse("invalid_request", description));
    }
    let invalid = |description: String| refuse("invalid_request", description);
    for (name, error) in [("request", "request_not_supported"), ("request_uri", "request_uri_not_supported")] {
        if single(name).map_err(invalid)?.is_some() {
            return Err(refuse(
                error,
                format!("the {name} parameter is not supported: send the parameters themselves"),
            ));
        }
    }
    match single("response_type").map_err(invalid)? {
        Some("code") => {}
        None => return Err(invalid("response_type is missing: use code".to_owned())),
        Some(other) => {
            return Err(refuse(
                "unsupported_response_type",
                format!("response_type {other:?} is not supported: only code (the authorization code flow)"),
            ));
        }
    }
    let scopes: Vec<String> = single("scope")
        .map_err(invalid)?
        .unwrap_or_default()
        .split(' ')
        .filter(|scope| !scope.is_empty())
        .map(str::to_owned)
        .collect();
    if !scopes.iter().any(|scope| scope == "openid") {
        return Err(refuse("invalid_scope", "scope must include openid".to_owned()));
    }
    let challenge = Challenge::from_request(
        single("code_challenge").map_err(invalid)?,
        single("code_challenge_method").map_err(invalid)?,
    )
    .map_err(|error| invalid(error.to_string()))?;
    if client.public && challenge.is_none() {
        return Err(invalid("a public client must send a code_challenge (PKCE, S256)".to_owned()));
    }
    let prompt = match single("prompt").map_err(invalid)? {
        None => None,
        Some(text) => {
            let values: Vec<&str> = text.split(' ').filter(|value| !value.is_empty()).collect();
            if let Some(unknown) =
                values.iter().find(|value| !["login", "none", "consent", "select_account"].contains(value))
            {
                return Err(invalid(format!("prompt {unknown:?} is not one of login, none, consent, select_account")));
            }
            if values.contains(&"none") && values.len() > 1 {
                return Err(invalid("prompt none cannot be combined with another value".to_owned()));
            }
            if values == ["none"] { Some(Prompt::None) } else { Some(Prompt::Login) }
        }
    };
    let max_age = single("max_age")
        .map_err(invalid)?
        .map(|text| {
            text.parse::<u64>().map_err(|_| invalid(format!("max_age {text:?} is not a whole number of seconds")))
        })
        .transpose()?;
    Ok(Request {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.clone(),
        response_mode,
        scopes,
        state: state.clone(),
        nonce: single("nonce").map_err(invalid)?.map(str::to_owned),
        challenge,
        prompt,
        max_age,
        login_hint: single("login_hint").map_err(invalid)?.map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const CB: &str = "https://app.example/cb";

    fn clients() -> Vec<Client> {
        let uris = |uri: &str| vec![RedirectUri::register(uri).unwrap()];
        vec![
            Client { client_id: "web".into(), redirect_uris: uris(CB), public: false },
            Client { client_id: "spa".into(), redirect_uris: uris("http://127.0.0.1/cb"), public: true },
        ]
    }

    fn request(pairs: &[(&str, &str)]) -> Result<Request, Refusal> {
        let clients = clients();
        let parameters: Vec<(String, String)> =
            pairs.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect();
        read(&parameters, |id| clients.iter().find(|client| client.client_id == id))
    }

    fn valid() -> Vec<(&'static str, &'static str)> {
        vec![
            ("client_id", "web"),
            ("redirect_uri", CB),
            ("response_type", "code"),
            ("scope", "openid profile"),
            ("state", "s1"),
            ("nonce", "n1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]
    }

    /// Parameters to change: a name and its new value, or `None` to leave it out.
    type Changes = [(&'static str, Option<&'static str>)];

    fn with(changes: &Changes) -> Vec<(&'static str, &'static str)> {
        let mut pairs = valid();
        for (name, value) in changes {
            pairs.retain(|(key, _)| key != name);
            if let Some(value) = value {
                pairs.push((name, value));
            }
        }
        pairs
    }

    #[test]
    fn a_valid_request_is_read() {
        let read = request(&valid()).unwrap();
        assert_eq!(read.redirect_uri, CB);
        assert_eq!((read.state.as_deref(), read.nonce.as_deref()), (Some("s1"), Some("n1")));
        assert_eq!(read.scopes, ["openid", "profile"]);
        assert_eq!(read.response_mode, ResponseMode::Query);
        assert!(read.challenge.is_some());
        let unknown = request(&with(&[("ui_locales", Some("fr")), ("claims_locales", Some("de"))])).unwrap();
        assert_eq!(unknown.client_id, "web", "unknown parameters are ignored");
        let native = request(&with(&[("client_id", Some("spa")), ("redirect_uri", Some("http://127.0.0.1:49152/cb"))]));
        assert_eq!(native.unwrap().redirect_uri, "http://127.0.0.1:49152/cb");
        let post =
            request(&with(&[("response_mode", Some("form_post")), ("prompt", Some("login")), ("max_age", Some("0"))]));
        let post = post.unwrap();
        assert_eq!(
            (post.response_mode, post.prompt, post.max_age),
            (ResponseMode::FormPost, Some(Prompt::Login), Some(0))
        );
    }

    #[test]
    fn an_untrusted_client_or_redirect_gets_a_page_never_a_redirect() {
        let cases: &[&Changes] = &[
            &[("client_id", None)],
            &[("client_id", Some("nobody"))],
            &[("redirect_uri", None)],
            &[("redirect_uri", Some("https://evil.test/cb"))],
            &[("redirect_uri", Some("https://app.example/cb/../../evil"))],
            &[("redirect_uri", Some("https://app.example/cb?next=https://evil.test"))],
            &[("redirect_uri", Some("https://APP.example/cb"))],
            &[("redirect_uri", Some("https://app.example/cb#"))],
        ];
        for changes in cases {
            let outcome = request(&with(changes));
            assert!(matches!(outcome, Err(Refusal::Page { .. })), "{changes:?}: {outcome:?}");
        }
        let mut twice = valid();
        twice.push(("redirect_uri", "https://evil.test/cb"));
        assert!(matches!(request(&twice), Err(Refusal::Page { .. })), "a second redirect_uri");
    }

    #[test]
    fn other_errors_go_back_to_the_client_with_its_state() {
        let cases: &[(&Changes, &str)] = &[
            (&[("response_type", Some("token"))], "unsupported_response_type"),
            (&[("response_type", Some("code id_token"))], "unsupported_response_type"),
            (&[("response_type", None)], "invalid_request"),
            (&[("scope", Some("profile"))], "invalid_scope"),
            (&[("scope", None)], "invalid_scope"),
            (&[("code_challenge_method", Some("plain"))], "invalid_request"),
            (&[("code_challenge_method", None)], "invalid_request"),
            (&[("code_challenge", Some("short"))], "invalid_request"),
            (&[("request", Some("eyJhbGciOiJub25lIn0.e30."))], "request_not_supported"),
            (&[("request_uri", Some("https://app.example/request.jwt"))], "request_uri_not_supported"),
            (&[("prompt", Some("none login"))], "invalid_request"),
            (&[("prompt", Some("sideways"))], "invalid_request"),
            (&[("max_age", Some("-1"))], "invalid_request"),
            (&[("max_age", Some("soon"))], "invalid_request"),
            (&[("response_mode", Some("fragment"))], "invalid_request"),
        ];
        for (changes, expected) in cases {
            match request(&with(changes)) {
                Err(Refusal::Redirect { error, state, redirect_uri, .. }) => {
                    assert_eq!(
                        (error, state.as_deref(), redirect_uri.as_str()),
                        (*expected, Some("s1"), CB),
                        "{changes:?}"
                    );
                }
                other => panic!("{changes:?}: {other:?}"),
            }
        }
        let mut twice = valid();
        twice.push(("scope", "openid email"));
        assert!(matches!(request(&twice), Err(Refusal::Redirect { error: "invalid_request", .. })));
        let long = "x".repeat(MAX_VALUE + 1);
        let pairs: Vec<(&str, &str)> = with(&[("nonce", None)]).into_iter().chain([("nonce", long.as_str())]).collect();
        assert!(matches!(request(&pairs), Err(Refusal::Redirect { error: "invalid_request", .. })));
    }

    #[test]
    fn a_public_client_must_use_pkce() {
        let spa = [("client_id", Some("spa")), ("redirect_uri", Some("http://127.0.0.1/cb"))];
        assert!(request(&with(&spa)).is_ok());
        let mut without = spa.to_vec();
        without.extend([("code_challenge", None), ("code_challenge_method", None)]);
        assert!(matches!(request(&with(&without)), Err(Refusal::Redirect { error: "invalid_request", .. })));
        assert!(
            request(&with(&[("code_challenge", None), ("code_challenge_method", None)])).is_ok(),
            "a confidential one may not"
        );
    }

    #[test]
    fn responses_carry_state_and_the_issuer_after_the_registered_query() {
        let outcome = [("code", "c0de")];
        let parameters = response_parameters(&outcome, Some("s 1"), "https://roster.test/t/v2.0");
        assert_eq!(
            query_redirect("https://app.example/cb?tenant=1", &parameters),
            "https://app.example/cb?tenant=1&code=c0de&state=s+1&iss=https%3A%2F%2Froster.test%2Ft%2Fv2.0"
        );
        assert_eq!(
            query_redirect(CB, &response_parameters(&outcome, None, "i")),
            "https://app.example/cb?code=c0de&iss=i"
        );
    }
}
