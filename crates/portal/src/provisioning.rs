//! An application's Provisioning page, as Entra's: Provisioning Mode, Admin Credentials (Tenant URL, Secret Token,
//! Test Connection), Mappings, Settings (Notification Email, failure e-mail, accidental deletion prevention and
//! its threshold, Scope) and Provisioning Status, with Save.
//!
//! Save stores what the admin entered even when the credentials fail, and says so in place (the job's quarantine
//! then explains, as in Entra); turning Provisioning Status On starts a cycle at once. The Secret Token is never
//! sent back to the browser: its field is always empty, and saving without one keeps the saved one.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use roster_engine::definition::{Definition, Scope};
use roster_service::access::Permission;
use roster_service::provisioning::{self, activity};

use crate::PortalState;
use crate::error::{PortalError, PortalResult, render, render_with};
use crate::form::{Fields, Form};
use crate::overview::{AppNav, readable};
use crate::session::{Chrome, Section, Signed};

/// The settings as the form shows them.
#[derive(Debug, Clone)]
struct Settings {
    tenant_url: String,
    has_secret: bool,
    emails: String,
    failure_digest: bool,
    prevent_deletions: bool,
    threshold: String,
    scope_all: bool,
    enabled: bool,
}

impl Settings {
    fn of(definition: &Definition, has_secret: bool) -> Settings {
        Settings {
            tenant_url: definition.target.tenant_url.clone(),
            has_secret,
            emails: definition.notifications.emails.join(", "),
            failure_digest: definition.notifications.failure_digest,
            prevent_deletions: definition.prevent_accidental_deletions,
            threshold: definition.deletion_threshold.to_string(),
            scope_all: definition.scope == Scope::All,
            enabled: definition.enabled,
        }
    }

    fn from_form(fields: &Fields, has_secret: bool) -> Settings {
        Settings {
            tenant_url: fields.get("tenant_url").unwrap_or_default().to_owned(),
            has_secret,
            emails: fields.get("emails").unwrap_or_default().to_owned(),
            failure_digest: fields.checked("failure_digest"),
            prevent_deletions: fields.checked("prevent_deletions"),
            threshold: fields.get("threshold").unwrap_or("500").to_owned(),
            scope_all: fields.get("scope") == Some("all"),
            enabled: fields.get("status") == Some("on"),
        }
    }
}

/// The verdict of Test Connection, or of Save.
#[derive(Debug, Clone)]
struct Verdict {
    /// `success`, `warning` or `error`: the banner's kind.
    kind: &'static str,
    /// What it says.
    text: String,
}

/// One row of the Mappings table.
#[derive(Debug, Clone)]
struct MappingRow {
    kind: &'static str,
    label: &'static str,
    enabled: bool,
    count: usize,
}

#[derive(Template)]
#[template(path = "provisioning.html")]
struct ProvisioningPage {
    chrome: Chrome,
    title: String,
    app: AppNav,
    settings: Settings,
    mappings: Vec<MappingRow>,
    may_manage: bool,
    test: Option<Verdict>,
    saved: Option<Verdict>,
    error: Option<String>,
}

fn rows(definition: &Definition) -> Vec<MappingRow> {
    vec![
        MappingRow {
            kind: "users",
            label: "Provision directory users",
            enabled: definition.users.enabled,
            count: definition.users.mappings.len(),
        },
        MappingRow {
            kind: "groups",
            label: "Provision directory groups",
            enabled: definition.groups.enabled,
            count: definition.groups.mappings.len(),
        },
    ]
}

fn page_of(admin: &Signed, definition: &Definition, settings: Settings) -> ProvisioningPage {
    let app = AppNav::new(definition, "provisioning");
    ProvisioningPage {
        chrome: admin.chrome(Section::Applications),
        title: format!("{} · Provisioning", app.display_name),
        may_manage: admin.may(Permission::ManageApplication(&definition.name)),
        app,
        settings,
        mappings: rows(definition),
        test: None,
        saved: None,
        error: None,
    }
}

/// `GET /applications/{name}/provisioning`.
pub async fn page(State(state): State<PortalState>, admin: Signed, Path(name): Path<String>) -> PortalResult<Response> {
    let (definition, _) = readable(&state, &admin, &name).await?;
    let has_secret = provisioning::has_secret(&state.stores, &name).await?;
    Ok(render(&page_of(&admin, &definition, Settings::of(&definition, has_secret))))
}

/// `POST /applications/{name}/provisioning` with `action` `test` (Test Connection with what was entered, saving
/// nothing) or `save`.
pub async fn submit(State(state): State<PortalState>, Path(name): Path<String>, form: Form) -> PortalResult<Response> {
    let admin = &form.admin;
    admin.check(Permission::ManageApplication(&name))?;
    let (definition, _) = readable(&state, admin, &name).await?;
    let has_secret = provisioning::has_secret(&state.stores, &name).await?;
    let settings = Settings::from_form(&form.fields, has_secret);
    let token = Some(form.fields.raw("secret_token").trim()).filter(|token| !token.is_empty());
    let mut page = page_of(admin, &definition, settings.clone());
    if form.fields.get("action") == Some("test") {
        page.test = Some(test(&state, &name, &settings.tenant_url, token).await?);
        return Ok(render(&page));
    }
    let updated = match apply(definition.clone(), &settings) {
        Ok(updated) => updated,
        Err(error) => {
            page.error = Some(error);
            return Ok(render_with(StatusCode::BAD_REQUEST, &page));
        }
    };
    if settings.enabled && !has_secret && token.is_none() {
        page.error = Some("Enter the Secret Token: Provisioning Status can be On only with one.".to_owned());
        return Ok(render_with(StatusCode::BAD_REQUEST, &page));
    }
    let initial = provisioning::forces_initial_cycle(&state.stores, &definition, &updated).await?;
    let actor = admin.principal.actor();
    let mut stored = updated.clone();
    stored.enabled = definition.enabled;
    if let Err(error) =
        provisioning::put(&state.stores, &state.key, &actor, stored, token, Some(activity::UPDATE_CREDENTIALS)).await
    {
        let error = PortalError::from(error);
        if error.status == StatusCode::BAD_REQUEST {
            page.error = Some(error.message);
            return Ok(render_with(StatusCode::BAD_REQUEST, &page));
        }
        return Err(error);
    }
    if settings.enabled != definition.enabled {
        provisioning::set_enabled(&state.stores, &state.key, &actor, &name, settings.enabled).await?;
    }
    let (saved, _) = readable(&state, admin, &name).await?;
    let has_secret = provisioning::has_secret(&state.stores, &name).await?;
    let mut page = page_of(admin, &saved, Settings::of(&saved, has_secret));
    let connection = if has_secret && !saved.target.tenant_url.is_empty() {
        Some(test(&state, &name, &saved.target.tenant_url, None).await?)
    } else {
        None
    };
    let started = settings.enabled && !definition.enabled;
    let mut text = "Saved.".to_owned();
    if started {
        text.push_str(" Provisioning is On: the first cycle begins now; follow it on the Overview.");
    }
    if initial {
        text.push_str(
            " The scope changed: the next cycle is an initial one, which evaluates every user and group again.",
        );
    }
    let kind = match &connection {
        Some(verdict) if verdict.kind != "success" => {
            text.push_str(&format!(
                " The credentials failed Test Connection: {} Until they work, cycles end in quarantine.",
                verdict.text
            ));
            "warning"
        }
        _ => "success",
    };
    page.saved = Some(Verdict { kind, text });
    Ok(render(&page))
}

/// Test Connection with a tenant URL and a token (`None`: the saved one), in words.
async fn test(state: &PortalState, name: &str, tenant_url: &str, token: Option<&str>) -> PortalResult<Verdict> {
    if tenant_url.is_empty() {
        return Ok(Verdict { kind: "error", text: "Enter the Tenant URL first.".to_owned() });
    }
    let saved_secret = provisioning::has_secret(&state.stores, name).await?;
    if token.is_none() && !saved_secret {
        return Ok(Verdict { kind: "error", text: "Enter the Secret Token first.".to_owned() });
    }
    match provisioning::test_credentials(&state.stores, &state.key, name, Some(tenant_url), token).await {
        Ok(Ok(())) => Ok(Verdict {
            kind: "success",
            text: "The supplied credentials are authorized to enable provisioning.".to_owned(),
        }),
        Ok(Err(problem)) => Ok(Verdict { kind: "error", text: format!("The supplied credentials failed: {problem}.") }),
        Err(error) => {
            let error = PortalError::from(error);
            if error.status == StatusCode::BAD_REQUEST {
                return Ok(Verdict { kind: "error", text: error.message });
            }
            Err(error)
        }
    }
}

/// The definition with the form's settings, or what is wrong with them.
fn apply(mut definition: Definition, settings: &Settings) -> Result<Definition, String> {
    let url = settings.tenant_url.trim();
    if !(url.is_empty() || url.starts_with("https://") || url.starts_with("http://")) {
        return Err(format!(
            "Tenant URL {url:?}: give an http:// or https:// URL, such as https://api.github.com/scim/v2/enterprises/octo-corp"
        ));
    }
    if url.is_empty() && settings.enabled {
        return Err("Enter the Tenant URL: Provisioning Status can be On only with one.".to_owned());
    }
    definition.target.tenant_url = url.to_owned();
    definition.notifications.emails = settings
        .emails
        .split([',', ';', ' ', '\n'])
        .map(str::trim)
        .filter(|email| !email.is_empty())
        .map(str::to_owned)
        .collect();
    definition.notifications.failure_digest = settings.failure_digest;
    definition.prevent_accidental_deletions = settings.prevent_deletions;
    definition.deletion_threshold =
        settings.threshold.trim().parse::<u64>().ok().filter(|threshold| *threshold > 0).ok_or_else(|| {
            format!("Accidental deletion threshold {:?}: give a whole number above 0.", settings.threshold)
        })?;
    definition.scope = if settings.scope_all { Scope::All } else { Scope::Assigned };
    definition.enabled = settings.enabled;
    Ok(definition)
}
