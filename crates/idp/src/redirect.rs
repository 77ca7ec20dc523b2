//! Redirect URIs (RFC 6749 §3.1.2, RFC 9700 §4.1, RFC 8252 §7.3): what may be registered, and whether a request's
//! `redirect_uri` is one of them. Matching is byte-exact, so that no prefix, case, path, query or encoding trick
//! reaches another address; the one exception is RFC 8252's loopback redirect of a native app, whose port is
//! chosen when it runs (`http://127.0.0.1:{any port}/path` matches `http://127.0.0.1/path` registered without a
//! port). A request whose redirect URI matches nothing must get an error page, never a redirect.

use url::{Host, Url};

/// Why a redirect URI cannot be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectError {
    /// Not an absolute URI.
    #[error("redirect URI {0:?} is not an absolute URI")]
    NotAbsolute(String),
    /// Not https, and not http on a loopback address.
    #[error("redirect URI {0:?}: use https (http only for 127.0.0.1, [::1] or localhost)")]
    Insecure(String),
    /// It has a fragment (RFC 6749 §3.1.2).
    #[error("redirect URI {0:?} must not have a fragment")]
    Fragment(String),
    /// It carries a user name or password.
    #[error("redirect URI {0:?} must not carry a user name or password")]
    Credentials(String),
}

/// A registered redirect URI, as it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri {
    text: String,
    loopback_without_port: bool,
}

impl RedirectUri {
    /// Checks a URI for registration: absolute, https (or http on a loopback address), no fragment, no
    /// credentials. It is kept as written: matching compares the text.
    pub fn register(text: &str) -> Result<RedirectUri, RedirectError> {
        // The parser forgives spaces, tabs and line breaks that the text would keep: refuse them.
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(RedirectError::NotAbsolute(text.to_owned()));
        }
        let url = Url::parse(text).map_err(|_| RedirectError::NotAbsolute(text.to_owned()))?;
        if url.cannot_be_a_base() {
            return Err(RedirectError::NotAbsolute(text.to_owned()));
        }
        if url.fragment().is_some() || text.contains('#') {
            return Err(RedirectError::Fragment(text.to_owned()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(RedirectError::Credentials(text.to_owned()));
        }
        let loopback = is_loopback(&url);
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => return Err(RedirectError::Insecure(text.to_owned())),
        }
        let loopback_without_port = loopback && url.scheme() == "http" && url.port().is_none();
        Ok(RedirectUri { text: text.to_owned(), loopback_without_port })
    }

    /// The URI as registered.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `requested` is this URI: the same text, or for a loopback URI registered without a port, the same
    /// text but for a port.
    pub fn matches(&self, requested: &str) -> bool {
        if requested == self.text {
            return true;
        }
        if !self.loopback_without_port {
            return false;
        }
        // The port is the only difference allowed: remove it from the request and compare the text again.
        let Some(rest) = requested.strip_prefix("http://") else { return false };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let Some((host, port)) = authority.rsplit_once(':') else { return false };
        if port.is_empty() || !port.bytes().all(|byte| byte.is_ascii_digit()) || host.contains('@') {
            return false;
        }
        format!("http://{host}{path}") == self.text
    }
}

/// The registered URI that `requested` is, if any.
pub fn find<'a>(registered: &'a [RedirectUri], requested: &str) -> Option<&'a RedirectUri> {
    registered.iter().find(|uri| uri.matches(requested))
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(address)) => address.is_loopback(),
        Some(Host::Ipv6(address)) => address.is_loopback(),
        Some(Host::Domain(domain)) => domain == "localhost",
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn registration_takes_https_and_loopback_http_only() {
        let cases: &[(&str, Result<(), &str>)] = &[
            ("https://github.com/enterprises/octo/sso/callback", Ok(())),
            ("https://app.example/cb?tenant=1", Ok(())),
            ("http://127.0.0.1/callback", Ok(())),
            ("http://[::1]:8080/callback", Ok(())),
            ("http://localhost:3000/cb", Ok(())),
            ("http://app.example/cb", Err("https")),
            ("https://app.example/cb#frag", Err("fragment")),
            ("https://app.example/cb#", Err("fragment")),
            ("https://user:pass@app.example/cb", Err("user name")),
            ("/relative/cb", Err("absolute")),
            ("javascript:alert(1)", Err("absolute")),
            ("com.example.app:/cb", Err("https")),
            ("ftp://app.example/cb", Err("https")),
            (" https://app.example/cb", Err("absolute")),
            ("https://app.example/c\tb", Err("absolute")),
            ("https://app.example/cb\n", Err("absolute")),
        ];
        for (text, expected) in cases {
            let got = RedirectUri::register(text).map(|_| ()).map_err(|error| error.to_string());
            match (got, expected) {
                (Ok(()), Ok(())) => {}
                (Err(error), Err(part)) => assert!(error.contains(part), "{text}: {error}"),
                (got, expected) => panic!("{text}: {got:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn matching_is_exact_but_for_a_loopback_port() {
        let registered = [
            RedirectUri::register("https://app.example/cb").unwrap(),
            RedirectUri::register("http://127.0.0.1/native").unwrap(),
        ];
        let cases: &[(&str, Option<&str>)] = &[
            ("https://app.example/cb", Some("https://app.example/cb")),
            ("https://app.example/cb?x=1", None),
            ("https://app.example/cb/", None),
            ("https://app.example/cb/../cb", None),
            ("https://APP.example/cb", None),
            ("https://app.example/CB", None),
            ("https://app.example/cb#x", None),
            ("https://app.example:443/cb", None),
            ("https://app.example.evil.test/cb", None),
            ("https://evil.test@app.example/cb", None),
            ("https://app.example/c%62", None),
            ("http://app.example/cb", None),
            ("http://127.0.0.1:51004/native", Some("http://127.0.0.1/native")),
            ("http://127.0.0.1/native", Some("http://127.0.0.1/native")),
            ("http://127.0.0.1:51004/native/x", None),
            ("http://127.0.0.1:/native", None),
            ("http://127.0.0.1:80a/native", None),
            ("http://evil@127.0.0.1:80/native", None),
            ("http://localhost:51004/native", None),
        ];
        for (requested, expected) in cases {
            assert_eq!(find(&registered, requested).map(RedirectUri::as_str), *expected, "{requested}");
        }
    }

    #[test]
    fn a_registered_port_on_loopback_is_exact_too() {
        let registered = [RedirectUri::register("http://127.0.0.1:8080/cb").unwrap()];
        assert!(find(&registered, "http://127.0.0.1:8080/cb").is_some());
        assert!(find(&registered, "http://127.0.0.1:8081/cb").is_none());
    }

    proptest! {
        /// Whatever is appended to a registered https URI, it no longer matches.
        #[test]
        fn nothing_appended_matches(suffix in "[a-zA-Z0-9/?#&=.:%@_-]{1,20}") {
            let registered = [RedirectUri::register("https://app.example/cb").unwrap()];
            let requested = format!("https://app.example/cb{suffix}");
            prop_assert!(find(&registered, &requested).is_none());
        }
    }
}
