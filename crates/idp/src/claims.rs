//! The claims of an ID token, as Entra's v2.0 tokens carry them (`ver` 2.0): `iss`, `aud`, a `sub` pairwise per
//! application (the same user has another `sub` in every application, so that applications cannot join their
//! users on it), `oid` (the directory object id, the same everywhere: what a provisioned target knows as the
//! user's `externalId`), `tid`, the times, `nonce`, `sid`, `jti`; with `profile`, `name` and `preferred_username`
//! (the user principal name); with `email`, `email`; the app roles' values as `roles`; and `groups` with Entra's
//! overage rule: more than [`GROUPS_LIMIT`] groups are replaced by a pointer to where they can be read.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use serde_json::{Map, Value, json};

/// The most groups an ID token carries (Entra's limit for JWTs); beyond it, the overage claim.
pub const GROUPS_LIMIT: usize = 200;

/// The user a token is about.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The directory object id.
    pub oid: &'a str,
    /// The user principal name.
    pub upn: &'a str,
    /// The display name.
    pub name: Option<&'a str>,
    /// The mail address.
    pub email: Option<&'a str>,
    /// The values of the app roles assigned to the user in this application.
    pub roles: &'a [String],
    /// The ids of the user's groups, when the application asks for groups.
    pub groups: Option<&'a [String]>,
}

/// What the token is issued for.
#[derive(Debug, Clone, Copy)]
pub struct Issue<'a> {
    /// The issuer (`{public_url}/{tenant_id}/v2.0`).
    pub issuer: &'a str,
    /// The directory's tenant id.
    pub tenant_id: &'a str,
    /// The application's client id (the audience).
    pub client_id: &'a str,
    /// The scopes granted.
    pub scopes: &'a [String],
    /// The authorization request's nonce.
    pub nonce: Option<&'a str>,
    /// The provider session's id (for back-channel logout).
    pub sid: &'a str,
    /// The token's own id.
    pub jti: &'a str,
    /// When the user signed in (Unix seconds).
    pub auth_time: i64,
    /// Now (Unix seconds).
    pub now: i64,
    /// How long the token lives, in seconds.
    pub lifetime: i64,
    /// Where the overage claim points: the admin API's base URL (`{public_url}/api/v1.0`).
    pub api_base: &'a str,
}

/// The pairwise `sub` of a user in an application: HMAC-SHA256 under the directory's secret of the client id and
/// the object id, base64url. Stable for the pair, unrelated across applications.
pub fn pairwise_subject(secret: &[u8], client_id: &str, oid: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut context = hmac::Context::with_key(&key);
    // The client id's length first, so that no (client, oid) pair reads as another.
    context.update(&(client_id.len() as u64).to_be_bytes());
    context.update(client_id.as_bytes());
    context.update(oid.as_bytes());
    URL_SAFE_NO_PAD.encode(context.sign().as_ref())
}

/// The ID token's claims.
pub fn id_token(secret: &[u8], subject: &Subject<'_>, issue: &Issue<'_>) -> Value {
    let scope = |name: &str| issue.scopes.iter().any(|scope| scope == name);
    let mut claims = Map::new();
    let mut put = |name: &str, value: Value| {
        claims.insert(name.to_owned(), value);
    };
    put("ver", json!("2.0"));
    put("iss", json!(issue.issuer));
    put("sub", json!(pairwise_subject(secret, issue.client_id, subject.oid)));
    put("aud", json!(issue.client_id));
    put("exp", json!(issue.now + issue.lifetime));
    put("iat", json!(issue.now));
    put("nbf", json!(issue.now));
    put("auth_time", json!(issue.auth_time));
    put("oid", json!(subject.oid));
    put("tid", json!(issue.tenant_id));
    put("sid", json!(issue.sid));
    put("jti", json!(issue.jti));
    if let Some(nonce) = issue.nonce {
        put("nonce", json!(nonce));
    }
    if scope("profile") {
        put("preferred_username", json!(subject.upn));
        if let Some(name) = subject.name {
            put("name", json!(name));
        }
    }
    if scope("email")
        && let Some(email) = subject.email
    {
        put("email", json!(email));
    }
    if !subject.roles.is_empty() {
        put("roles", json!(subject.roles));
    }
    match subject.groups {
        Some(groups) if groups.len() > GROUPS_LIMIT => {
            put("_claim_names", json!({"groups": "src1"}));
            let endpoint = format!("{}/users/{}/getMemberObjects", issue.api_base, subject.oid);
            put("_claim_sources", json!({"src1": {"endpoint": endpoint}}));
        }
        Some(groups) => put("groups", json!(groups)),
        None => {}
    }
    Value::Object(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"the directory's pairwise secret, 32 bytes or more";

    fn subject<'a>(roles: &'a [String], groups: Option<&'a [String]>) -> Subject<'a> {
        Subject {
            oid: "00000000-0000-0000-0000-0000000000a1",
            upn: "ada@contoso.example",
            name: Some("Ada Lovelace"),
            email: Some("ada@contoso.example"),
            roles,
            groups,
        }
    }

    fn issue(scopes: &[String]) -> Issue<'_> {
        Issue {
            issuer: "https://roster.test/tenant/v2.0",
            tenant_id: "tenant",
            client_id: "web",
            scopes,
            nonce: Some("n-0S6_WzA2Mj"),
            sid: "session-1",
            jti: "token-1",
            auth_time: 1_700_000_000,
            now: 1_700_000_060,
            lifetime: 3600,
            api_base: "https://roster.test/api/v1.0",
        }
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| (*value).to_owned()).collect()
    }

    #[test]
    fn the_subject_is_pairwise_and_stable() {
        let oid = "00000000-0000-0000-0000-0000000000a1";
        let web = pairwise_subject(SECRET, "web", oid);
        assert_eq!(web, pairwise_subject(SECRET, "web", oid), "stable");
        assert_ne!(web, pairwise_subject(SECRET, "mobile", oid), "another application, another sub");
        assert_ne!(web, pairwise_subject(b"another directory's secret", "web", oid));
        assert_ne!(
            pairwise_subject(SECRET, "ab", "c"),
            pairwise_subject(SECRET, "a", "bc"),
            "no pair reads as another"
        );
        assert_eq!(web.len(), 43);
    }

    #[test]
    fn claims_follow_the_scopes() {
        let roles = strings(&["Admin"]);
        let openid = strings(&["openid"]);
        let claims = id_token(SECRET, &subject(&roles, None), &issue(&openid));
        for name in
            ["ver", "iss", "sub", "aud", "exp", "iat", "nbf", "auth_time", "oid", "tid", "sid", "jti", "nonce", "roles"]
        {
            assert!(claims.get(name).is_some(), "{name} in {claims}");
        }
        for name in ["name", "preferred_username", "email", "groups"] {
            assert!(claims.get(name).is_none(), "{name} without its scope: {claims}");
        }
        assert_eq!(claims["exp"], json!(1_700_003_660));
        assert_eq!(claims["ver"], json!("2.0"));
        let all = strings(&["openid", "profile", "email"]);
        let claims = id_token(SECRET, &subject(&[], None), &issue(&all));
        assert_eq!(claims["preferred_username"], json!("ada@contoso.example"));
        assert_eq!(
            (claims["name"].as_str(), claims["email"].as_str()),
            (Some("Ada Lovelace"), Some("ada@contoso.example"))
        );
        assert!(claims.get("roles").is_none(), "no roles, no claim");
        let mut without_nonce = issue(&all);
        without_nonce.nonce = None;
        assert!(id_token(SECRET, &subject(&[], None), &without_nonce).get("nonce").is_none());
    }

    #[test]
    fn more_groups_than_the_limit_become_a_pointer() {
        let openid = strings(&["openid"]);
        let few: Vec<String> = (0..GROUPS_LIMIT).map(|n| format!("group-{n}")).collect();
        let claims = id_token(SECRET, &subject(&[], Some(&few)), &issue(&openid));
        assert_eq!(claims["groups"].as_array().map(Vec::len), Some(GROUPS_LIMIT));
        let many: Vec<String> = (0..=GROUPS_LIMIT).map(|n| format!("group-{n}")).collect();
        let claims = id_token(SECRET, &subject(&[], Some(&many)), &issue(&openid));
        assert!(claims.get("groups").is_none(), "{claims}");
        assert_eq!(claims["_claim_names"], json!({"groups": "src1"}));
        assert_eq!(
            claims["_claim_sources"]["src1"]["endpoint"],
            json!("https://roster.test/api/v1.0/users/00000000-0000-0000-0000-0000000000a1/getMemberObjects")
        );
    }
}
