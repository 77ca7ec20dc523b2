//! An application's Review your schema, as Entra's (reached from Attribute Mapping): the whole definition as
//! `roster app export` prints it, in TOML and JSON (never the secret token), with Download links for a backup; and
//! Upload, which replaces the definition with pasted text as `roster app apply` does: parsed and checked as a
//! cycle would use it, its name that of the application, the stored secret token kept unless the text has one.
//! A change that makes the next cycle an initial one is said first ([`crate::change`]).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use roster_engine::definition::Definition;
use roster_service::access::Permission;
use roster_service::provisioning::{self, DefinitionFormat};
use serde::Deserialize;

use crate::PortalState;
use crate::change;
use crate::error::{PortalError, PortalResult, render, render_with};
use crate::form::Form;
use crate::overview::{AppNav, readable, urlencoded};
use crate::session::{Chrome, Section, Signed};

/// The page's query.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DefinitionQuery {
    /// `toml` or `json`: the definition as a file to download.
    #[serde(default)]
    pub format: Option<String>,
    /// What was just saved (see [`change::notice`]).
    #[serde(default)]
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "definition.html")]
struct DefinitionPage {
    chrome: Chrome,
    title: String,
    app: AppNav,
    toml: String,
    json: String,
    may_manage: bool,
    notice: Option<&'static str>,
    error: Option<String>,
    /// The text of the Upload form (what was posted, after an error).
    text: String,
    /// The Upload form's format: `detect`, `toml` or `json`.
    format: String,
}

fn page_of(admin: &Signed, definition: &Definition) -> PortalResult<DefinitionPage> {
    let app = AppNav::new(definition, "provisioning");
    Ok(DefinitionPage {
        chrome: admin.chrome(Section::Applications),
        title: format!("{} · Review your schema", app.display_name),
        toml: provisioning::print_definition(definition, DefinitionFormat::Toml)?,
        json: provisioning::print_definition(definition, DefinitionFormat::Json)?,
        may_manage: admin.may(Permission::ManageApplication(&definition.name)),
        app,
        notice: None,
        error: None,
        text: String::new(),
        format: "detect".to_owned(),
    })
}

/// A format of the query or the form, or a 400 that names the choices.
fn parse_format(text: &str) -> PortalResult<DefinitionFormat> {
    match text {
        "toml" => Ok(DefinitionFormat::Toml),
        "json" => Ok(DefinitionFormat::Json),
        other => Err(PortalError::bad_request(format!("Format {other:?}: choose toml or json."))),
    }
}

/// The format of pasted text: JSON when it begins with `{`, else TOML.
fn detect(text: &str) -> DefinitionFormat {
    if text.trim_start().starts_with('{') { DefinitionFormat::Json } else { DefinitionFormat::Toml }
}

/// `GET /applications/{name}/definition`; with `?format=toml` or `json`, the definition as a file to download.
pub async fn page(
    State(state): State<PortalState>,
    admin: Signed,
    Path(name): Path<String>,
    Query(query): Query<DefinitionQuery>,
) -> PortalResult<Response> {
    let (definition, _) = readable(&state, &admin, &name).await?;
    if let Some(format) = query.format.as_deref() {
        let format = parse_format(format)?;
        let (extension, content_type) = match format {
            DefinitionFormat::Toml => ("toml", "application/toml; charset=utf-8"),
            DefinitionFormat::Json => ("json", "application/json"),
        };
        let body = provisioning::print_definition(&definition, format)?;
        let disposition = format!("attachment; filename=\"{}.{extension}\"", definition.name);
        let disposition =
            HeaderValue::from_str(&disposition).unwrap_or_else(|_| HeaderValue::from_static("attachment"));
        return Ok((
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            body,
        )
            .into_response());
    }
    let mut page = page_of(&admin, &definition)?;
    page.notice = change::notice(query.notice.as_deref());
    Ok(render(&page))
}

/// `POST /applications/{name}/definition`: `definition` (the text) and `format` (`detect`, `toml`, `json`); with
/// `confirmed` once the admin was told the next cycle is an initial one.
pub async fn submit(State(state): State<PortalState>, Path(name): Path<String>, form: Form) -> PortalResult<Response> {
    let admin = &form.admin;
    admin.check(Permission::ManageApplication(&name))?;
    let (current, _) = readable(&state, admin, &name).await?;
    let text = form.fields.raw("definition");
    let choice = form.fields.get("format").unwrap_or("detect");
    let in_place = |error: String| -> PortalResult<Response> {
        let mut page = page_of(admin, &current)?;
        page.error = Some(error);
        page.text = text.to_owned();
        page.format = choice.to_owned();
        Ok(render_with(StatusCode::BAD_REQUEST, &page))
    };
    if text.trim().is_empty() {
        return in_place("Paste a definition first: the text of a .toml or .json file.".to_owned());
    }
    let format = match choice {
        "detect" => detect(text),
        other => match parse_format(other) {
            Ok(format) => format,
            Err(error) => return in_place(error.message),
        },
    };
    let proposed = match provisioning::parse_definition(text, format) {
        Ok(proposed) => proposed,
        Err(error) => return in_place(format!("The definition is not valid: {error:#}")),
    };
    if proposed.name != name {
        return in_place(format!(
            "The definition is of application {:?}, not {name:?}: its name must be {name:?} here (a new application \
             is made on New application, or with `roster app apply`).",
            proposed.name
        ));
    }
    let back = format!("/applications/{}/definition", urlencoded(&name));
    let has_token = proposed.secret_token.is_some();
    if proposed == current && !has_token {
        return Ok(Redirect::to(&format!("{back}?notice=unchanged")).into_response());
    }
    let initial = provisioning::forces_initial_cycle(&state.stores, &current, &proposed).await?;
    if initial && !form.fields.checked("confirmed") {
        let what = "this definition".to_owned();
        return Ok(change::ask_first(&form, &current, what, back.clone(), back));
    }
    let actor = admin.principal.actor();
    if let Err(error) = provisioning::put(&state.stores, &state.key, &actor, proposed, None, None).await {
        let error = PortalError::from(error);
        if error.status.is_client_error() {
            return in_place(error.message);
        }
        return Err(error);
    }
    let notice = if initial { "saved-initial" } else { "saved" };
    Ok(Redirect::to(&format!("{back}?notice={notice}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_text_is_json_when_it_begins_with_a_brace() {
        assert_eq!(detect("  \n{\"name\": \"github\"}"), DefinitionFormat::Json);
        assert_eq!(detect("# a comment\nname = \"github\""), DefinitionFormat::Toml);
        assert!(parse_format("yaml").is_err());
    }
}
