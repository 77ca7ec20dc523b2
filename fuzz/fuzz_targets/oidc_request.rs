//! Fuzzes what an OpenID Provider reads from a relying party before it trusts anything: a compact JWS checked
//! against a published key (only a token that key signed may verify, and nothing panics), a redirect URI
//! registered and matched (a URI matches only itself, or a loopback one with another port), PKCE parameters, and
//! an authorization request's query (a refusal goes back to the client only through its registered URI), and a
//! token request with any Authorization header (only the right secret authenticates the confidential client).
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_idp::authorize::{self, Client, Refusal};
use roster_idp::keys::SigningKey;
use roster_idp::redirect::{RedirectUri, find};
use roster_idp::{jws, pkce, token};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let key = SigningKey::generate().expect("a key");
    assert!(jws::verify(text, std::slice::from_ref(key.jwk())).is_err(), "a token the fresh key never signed");
    if let Ok(registered) = RedirectUri::register(text) {
        assert!(find(std::slice::from_ref(&registered), text).is_some());
        assert!(find(std::slice::from_ref(&registered), &format!("{text}x")).is_none());
    }
    let registered = RedirectUri::register("https://app.example/cb").expect("a redirect URI");
    let client = Client { client_id: "web".to_owned(), redirect_uris: vec![registered], public: true };
    let parameters: Vec<(String, String)> = form_urlencoded::parse(data).into_owned().collect();
    match authorize::read(&parameters, |id| (id == "web").then_some(&client)) {
        Ok(request) => assert_eq!(request.redirect_uri, "https://app.example/cb"),
        Err(Refusal::Redirect { redirect_uri, .. }) => assert_eq!(redirect_uri, "https://app.example/cb"),
        Err(Refusal::Page { .. }) => {}
    }
    let confidential = token::Client {
        client_id: "web".to_owned(),
        secret_digest: Some(token::secret_digest("the right secret, long enough")),
    };
    let header = text.lines().next();
    if let Ok(read) = token::read(&parameters, header, |id| (id == "web").then_some(&confidential)) {
        assert!(read.authenticated, "the confidential client is never read without its secret");
    }
    let (challenge, verifier) = text.split_once(' ').unwrap_or((text, text));
    if let Ok(challenge) = pkce::Challenge::from_request(Some(challenge), Some("S256")) {
        let verified = pkce::verify(challenge.as_ref(), Some(verifier));
        if verified.is_ok() {
            assert_eq!(
                challenge.map(|c| c.as_str().to_owned()),
                Some(pkce::Challenge::of_verifier(verifier).as_str().to_owned())
            );
        }
    }
});
