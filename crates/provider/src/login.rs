//! GitHub's login normalization for Enterprise Managed Users: the login is derived from the SCIM `userName` and
//! suffixed with `_shortcode` (reference §2.9, GitHub's "Username considerations for external authentication").

use roster_scim_proto::ScimError;

use crate::tenant::Shortcode;

/// The longest login GitHub accepts, `_shortcode` included.
pub const MAX_LOGIN_LEN: usize = 39;

/// Derives the login for `user_name` in an enterprise with `shortcode`:
/// - an e-mail-style name keeps the part before the `@` (and before any `#EXT#`);
/// - a domain-style name (`DOMAIN\user`) keeps the part after the `\`;
/// - every character other than ASCII letters, digits and `-` becomes `-`; letter case is kept;
/// - the result must not start or end with `-`, nor contain `--`, and with `_shortcode` must fit 39 characters.
///
/// Refusals are 400 `invalidValue` answers that say which rule failed.
pub fn normalize_login(user_name: &str, shortcode: &Shortcode) -> Result<String, ScimError> {
    let mut base = user_name;
    // An Entra guest's UPN encodes the guest's own address: `bob_example.com#EXT#@contoso.com` is bob@example.com,
    // whose IdP user name is `bob` (GitHub lists these among the UPNs that collide with `bob@contoso.com`).
    if let Some((before, _)) = base.split_once("#EXT#") {
        base = before.rsplit_once('_').map_or(before, |(local, _)| local);
    }
    if let Some((before, _)) = base.split_once('@') {
        base = before;
    }
    if let Some((_, after)) = base.rsplit_once('\\') {
        base = after;
    }
    let normalized: String =
        base.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect();
    let refuse = |rule: &str| {
        ScimError::invalid_value(format!(
            "userName {user_name:?} normalizes to the login {normalized:?}, which {rule} (GitHub's username rules)"
        ))
    };
    if normalized.is_empty() {
        return Err(refuse("is empty"));
    }
    if normalized.starts_with('-') || normalized.ends_with('-') {
        return Err(refuse("starts or ends with a hyphen"));
    }
    if normalized.contains("--") {
        return Err(refuse("contains two hyphens in a row"));
    }
    let login = format!("{normalized}_{}", shortcode.as_str());
    if login.len() > MAX_LOGIN_LEN {
        return Err(ScimError::invalid_value(format!(
            "userName {user_name:?} gives the login {login:?}, longer than {MAX_LOGIN_LEN} characters with the shortcode"
        )));
    }
    Ok(login)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(user_name: &str, expected: Result<&str, &str>) {
        let shortcode = Shortcode::parse("octo").unwrap();
        let actual = normalize_login(user_name, &shortcode);
        match (actual, expected) {
            (Ok(login), Ok(want)) => assert_eq!(login, want, "{user_name}"),
            (Err(err), Err(fragment)) => {
                assert_eq!(err.status, 400, "{user_name}");
                assert!(err.detail.contains(fragment), "{user_name}: {}", err.detail);
            }
            (actual, expected) => panic!("{user_name}: got {actual:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn github_documented_examples() {
        check("The.Octocat", Ok("The-Octocat_octo"));
        check("!The.Octocat", Err("starts or ends with a hyphen"));
        check("The!!Octocat", Err("two hyphens"));
        check("mona.lisa.the.octocat.from.github.united.states@example.com", Err("longer than 39"));
        check("mona-cat", Ok("mona-cat_octo"));
    }

    #[test]
    fn entra_upns_collide_as_github_says() {
        for upn in ["bob@contoso.com", "bob@fabrikam.com", "bob#EXT#fabrikamcom@contoso.com"] {
            check(upn, Ok("bob_octo"));
        }
        check("bob_example#EXT#fabrikamcom@contoso.com", Ok("bob_octo"));
        check("bob_example.com#EXT#fabrikamcom@contoso.com", Ok("bob_octo"));
        check("mona_lisa_example.com#EXT#@contoso.com", Ok("mona-lisa_octo"));
        check("bob_example.com", Ok("bob-example-com_octo"));
    }

    #[test]
    fn domain_style_and_unicode() {
        check("CONTOSO\\jdoe", Ok("jdoe_octo"));
        check("jürgen@example.com", Ok("j-rgen_octo"));
        check("@example.com", Err("is empty"));
        check("Ab3", Ok("Ab3_octo"));
    }
}
