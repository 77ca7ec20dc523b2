//! roster's own SCIM service provider (what Entra lacks): its enterprises, each with the SCIM base URL an
//! application's Tenant URL is, Create enterprise; an enterprise's tokens (when made, last used, revoked; never their
//! secrets), Create token, whose secret is shown on its answer page once and on no page again, and Revoke, which
//! asks for the token's name to confirm. All of it needs the Global Administrator role (managing enterprises).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use roster_service::access::Permission;
use roster_service::admin::{self, Enterprise, Profile, TokenRecord};

use crate::PortalState;
use crate::error::{PortalError, PortalResult, render, render_with};
use crate::form::Form;
use crate::format;
use crate::overview::urlencoded;
use crate::session::{Chrome, Section, Signed};

/// The scopes a token may be given, with their words.
const SCOPES: &[(&str, &str)] = &[
    ("scim:enterprise", "scim:enterprise: the enterprise's SCIM API (what an application's Secret Token needs)"),
    ("admin:enterprise", "admin:enterprise: GitHub's legacy scope, accepted for SCIM too"),
    ("read:enterprise", "read:enterprise: no SCIM access"),
];

/// The profiles an enterprise may follow, with their words.
const PROFILES: &[(&str, &str)] = &[
    ("github-emu", "GitHub Enterprise Managed Users (github-emu): GitHub's rules, logins with the shortcode"),
    ("scim", "Plain SCIM 2.0 (scim): RFC 7643 and 7644, no login rules"),
];

/// One enterprise as the list shows it.
#[derive(Debug, Clone)]
struct EnterpriseRow {
    slug: String,
    shortcode: String,
    profile: &'static str,
    scim_url: String,
}

impl EnterpriseRow {
    fn of(state: &PortalState, enterprise: &Enterprise) -> EnterpriseRow {
        EnterpriseRow {
            slug: enterprise.slug.as_str().to_owned(),
            shortcode: enterprise.shortcode.as_str().to_owned(),
            profile: enterprise.profile.as_str(),
            scim_url: scim_base_url(state, enterprise.slug.as_str()),
        }
    }
}

/// The SCIM base URL of an enterprise: an application's Tenant URL.
pub fn scim_base_url(state: &PortalState, slug: &str) -> String {
    format!("{}/scim/v2/enterprises/{slug}", state.origin)
}

/// What the Create enterprise form holds, to show again with an error.
#[derive(Debug, Clone, Default)]
struct EnterpriseForm {
    slug: String,
    shortcode: String,
    profile: String,
}

#[derive(Template)]
#[template(path = "service_provider.html")]
struct ListPage {
    chrome: Chrome,
    title: String,
    rows: Vec<EnterpriseRow>,
    profiles: &'static [(&'static str, &'static str)],
    form: EnterpriseForm,
    error: Option<String>,
}

async fn list_page(state: &PortalState, admin: &Signed) -> PortalResult<ListPage> {
    admin.check(Permission::ManageEnterprises)?;
    let rows = admin::enterprises(&state.stores)
        .await?
        .iter()
        .map(|enterprise| EnterpriseRow::of(state, enterprise))
        .collect();
    Ok(ListPage {
        chrome: admin.chrome(Section::ServiceProvider),
        title: "Service provider · Enterprises".to_owned(),
        rows,
        profiles: PROFILES,
        form: EnterpriseForm { profile: "github-emu".to_owned(), ..EnterpriseForm::default() },
        error: None,
    })
}

/// `GET /service-provider`: the enterprises.
pub async fn list(State(state): State<PortalState>, admin: Signed) -> PortalResult<Response> {
    Ok(render(&list_page(&state, &admin).await?))
}

/// `POST /service-provider`: Create enterprise, from `slug`, `shortcode` and `profile`; then its page.
pub async fn create(State(state): State<PortalState>, form: Form) -> PortalResult<Response> {
    let admin = &form.admin;
    admin.check(Permission::ManageEnterprises)?;
    let entered = EnterpriseForm {
        slug: form.fields.get("slug").unwrap_or_default().to_owned(),
        shortcode: form.fields.get("shortcode").unwrap_or_default().to_owned(),
        profile: form.fields.get("profile").unwrap_or("github-emu").to_owned(),
    };
    let created = match Profile::parse(&entered.profile) {
        Ok(profile) => admin::create_enterprise_with_profile(
            &state.stores,
            &admin.principal.actor(),
            &entered.slug,
            &entered.shortcode,
            profile,
        )
        .await
        .map_err(PortalError::from),
        Err(error) => Err(PortalError::bad_request(error.to_string())),
    };
    match created {
        Ok(enterprise) => {
            Ok(Redirect::to(&format!("/service-provider/{}", urlencoded(enterprise.slug.as_str()))).into_response())
        }
        Err(error) if error.status.is_client_error() => {
            let mut page = list_page(&state, admin).await?;
            page.error = Some(format!("The enterprise was not created: {}", error.message));
            page.form = entered;
            Ok(render_with(error.status, &page))
        }
        Err(error) => Err(error),
    }
}

/// One token as the enterprise's page shows it: never its secret (nor its digest).
#[derive(Debug, Clone)]
struct TokenRow {
    id: i64,
    name: String,
    scopes: String,
    created: String,
    last_used: String,
    revoked: Option<String>,
}

impl TokenRow {
    fn of(token: &TokenRecord) -> TokenRow {
        TokenRow {
            id: token.id,
            name: token.name.clone(),
            scopes: token.scopes.iter().map(|scope| scope.as_str()).collect::<Vec<_>>().join(" "),
            created: format::time(token.created),
            last_used: token.last_used.map_or_else(|| "Never".to_owned(), format::time),
            revoked: token.revoked.map(format::time),
        }
    }
}

#[derive(Template)]
#[template(path = "enterprise.html")]
struct EnterprisePage {
    chrome: Chrome,
    title: String,
    enterprise: EnterpriseRow,
    tokens: Vec<TokenRow>,
    scopes: &'static [(&'static str, &'static str)],
    name: String,
    error: Option<String>,
    notice: Option<String>,
}

async fn enterprise_page(state: &PortalState, admin: &Signed, slug: &str) -> PortalResult<EnterprisePage> {
    admin.check(Permission::ManageEnterprises)?;
    let enterprise = admin::enterprise(&state.stores, slug).await?;
    let tokens = admin::tokens_of(&state.stores, &enterprise).await?.iter().rev().map(TokenRow::of).collect();
    Ok(EnterprisePage {
        chrome: admin.chrome(Section::ServiceProvider),
        title: format!("{slug} · Service provider"),
        enterprise: EnterpriseRow::of(state, &enterprise),
        tokens,
        scopes: SCOPES,
        name: String::new(),
        error: None,
        notice: None,
    })
}

/// The query of an enterprise's page: the name of a token just revoked.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Revoked {
    /// The token's name.
    #[serde(default)]
    pub revoked: Option<String>,
}

/// `GET /service-provider/{slug}`: an enterprise and its tokens.
pub async fn enterprise(
    State(state): State<PortalState>,
    admin: Signed,
    Path(slug): Path<String>,
    axum::extract::Query(query): axum::extract::Query<Revoked>,
) -> PortalResult<Response> {
    let mut page = enterprise_page(&state, &admin, &slug).await?;
    page.notice =
        query.revoked.map(|name| format!("Token {name} was revoked: requests that present it are refused now."));
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "token_created.html")]
struct CreatedPage {
    chrome: Chrome,
    title: String,
    slug: String,
    scim_url: String,
    name: String,
    id: i64,
    secret: String,
}

/// `POST /service-provider/{slug}/tokens`: Create token, from `name` and the checked `scope`s (none:
/// `scim:enterprise`). The answer is the only page that ever shows its secret.
pub async fn create_token(
    State(state): State<PortalState>,
    Path(slug): Path<String>,
    form: Form,
) -> PortalResult<Response> {
    let admin = &form.admin;
    admin.check(Permission::ManageEnterprises)?;
    let name = form.fields.get("name").unwrap_or_default().to_owned();
    let scopes: Vec<String> = form.fields.all("scope").into_iter().map(str::to_owned).collect();
    match admin::issue(&state.stores, &admin.principal.actor(), &slug, &name, &scopes).await.map_err(PortalError::from)
    {
        Ok(issued) => Ok(render_with(
            StatusCode::CREATED,
            &CreatedPage {
                chrome: admin.chrome(Section::ServiceProvider),
                title: format!("Token {name} created · {slug}"),
                scim_url: scim_base_url(&state, &slug),
                slug,
                name,
                id: issued.id,
                secret: issued.secret,
            },
        )),
        Err(error) if error.status == StatusCode::BAD_REQUEST => {
            let mut page = enterprise_page(&state, admin, &slug).await?;
            page.error = Some(format!("The token was not created: {}", error.message));
            page.name = name;
            Ok(render_with(error.status, &page))
        }
        Err(error) => Err(error),
    }
}

/// `POST /service-provider/{slug}/tokens/{id}/revoke`: Revoke, when `confirm` is the token's name (else the page
/// again with what to type, 400).
pub async fn revoke_token(
    State(state): State<PortalState>,
    Path((slug, id)): Path<(String, String)>,
    form: Form,
) -> PortalResult<Response> {
    let admin = &form.admin;
    admin.check(Permission::ManageEnterprises)?;
    let no_such = || PortalError::not_found(format!("Enterprise {slug} has no token {id}."));
    let token_id: i64 = id.parse().map_err(|_| no_such())?;
    let tokens = admin::tokens(&state.stores, &slug).await?;
    let token = tokens.iter().find(|token| token.id == token_id).ok_or_else(no_such)?;
    if token.is_revoked() {
        let mut page = enterprise_page(&state, admin, &slug).await?;
        page.error = Some(format!("Token {} was revoked already.", token.name));
        return Ok(render_with(StatusCode::CONFLICT, &page));
    }
    if form.fields.raw("confirm").trim() != token.name.trim() {
        let mut page = enterprise_page(&state, admin, &slug).await?;
        page.error = Some(format!(
            "Token {} was not revoked: to confirm, type its name exactly as shown, then select Revoke.",
            token.name
        ));
        return Ok(render_with(StatusCode::BAD_REQUEST, &page));
    }
    admin::revoke_token(&state.stores, &admin.principal.actor(), &slug, token_id).await?;
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("revoked", &token.name);
    Ok(Redirect::to(&format!("/service-provider/{}?{}", urlencoded(&slug), query.finish())).into_response())
}
