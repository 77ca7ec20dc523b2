//! `/applicationTemplates` (and `instantiate`), `/servicePrincipals` and `/servicePrincipals/{id}/appRoleAssignedTo`:
//! roster's applications as Graph's application and service principal objects, their assignments as
//! `appRoleAssignment`s.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_directory::ObjectId;
use roster_directory::port::PrincipalKind;
use roster_engine::definition::Definition;
use roster_engine::templates;
use roster_service::access::Permission;
use roster_service::provisioning;
use serde_json::{Value, json};

use crate::ApiState;
use crate::auth::Caller;
use crate::body::GraphJson;
use crate::error::{ApiResult, GraphError};
use crate::ids;
use crate::odata::{self, Capabilities, Operator as O};
use crate::paging::{Origin, Page};

/// A template's Graph object.
fn template(id: &str) -> Value {
    let (name, description, publisher) = match id {
        "github-emu" => (
            "GitHub Enterprise Managed User",
            "GitHub Enterprise Managed Users, provisioned over SCIM at /scim/v2/enterprises/{enterprise}",
            "GitHub, Inc.",
        ),
        _ => ("Generic SCIM application", "Any SCIM 2.0 service provider (RFC 7643 and 7644)", "roster"),
    };
    json!({
        "id": id,
        "displayName": name,
        "description": description,
        "publisher": publisher,
        "homePageUrl": null,
        "logoUrl": null,
        "categories": ["provisioning"],
        "supportedSingleSignOnModes": ["notSupported"],
        "supportedProvisioningTypes": ["sync"],
    })
}

const TEMPLATE_CAPABILITIES: Capabilities<'static> = &[("id", &[O::Eq]), ("displayName", &[O::Eq, O::StartsWith])];

/// `GET /applicationTemplates`.
pub async fn templates(State(state): State<ApiState>, caller: Caller, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    caller.check(Permission::ReadDirectory)?;
    let query = odata::parse_query(raw.as_deref().unwrap_or_default())?;
    crate::sorting::check(&query.orderby, &[])?;
    if let Some(filter) = &query.filter {
        filter.check(TEMPLATE_CAPABILITIES, "ApplicationTemplate")?;
    }
    let options = odata::MatchOptions { case_insensitive: true };
    let value: Vec<Value> = templates::TEMPLATES
        .iter()
        .map(|id| template(id))
        .filter(|object| query.filter.as_ref().is_none_or(|filter| filter.matches(object, options)))
        .collect();
    let origin = Origin { base: &state.base_url, path: "/applicationTemplates", query: raw.as_deref() };
    Ok(Page { context: "applicationTemplates", value, count: None, next: None }.into_json(&origin).into_response())
}

/// `GET /applicationTemplates/{id}`.
pub async fn template_by_id(caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    caller.check(Permission::ReadDirectory)?;
    if !templates::TEMPLATES.contains(&id.as_str()) {
        return Err(GraphError::not_found(&id));
    }
    Ok(Json(template(&id)))
}

/// The body of `instantiate`.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Instantiate {
    /// The new application's display name.
    pub display_name: String,
}

/// `POST /applicationTemplates/{id}/instantiate` → 201 `{"application", "servicePrincipal"}`.
pub async fn instantiate(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    GraphJson(body): GraphJson<Instantiate>,
) -> ApiResult<Response> {
    caller.check(Permission::CreateApplication)?;
    if !templates::TEMPLATES.contains(&id.as_str()) {
        return Err(GraphError::not_found(&id));
    }
    let definition =
        provisioning::instantiate(&state.stores, &state.key, &caller.0.actor(), &id, &body.display_name).await?;
    let body = json!({
        "application": application_object(&definition),
        "servicePrincipal": service_principal_object(&definition),
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// The display name of an application.
pub fn display_name(definition: &Definition) -> &str {
    definition.display_name.as_deref().unwrap_or(&definition.name)
}

fn app_roles(definition: &Definition) -> Vec<Value> {
    definition
        .app_roles
        .iter()
        .map(|role| {
            json!({
                "allowedMemberTypes": ["User"],
                "description": role.display_name,
                "displayName": role.display_name,
                "id": role.id,
                "isEnabled": true,
                "origin": "Application",
                "value": role.value,
            })
        })
        .collect()
}

/// The application object of a definition.
pub fn application_object(definition: &Definition) -> Value {
    json!({
        "id": ids::application(&definition.name),
        "appId": ids::app_id(&definition.name),
        "applicationTemplateId": definition.template,
        "displayName": display_name(definition),
        "uniqueName": definition.name,
        "appRoles": app_roles(definition),
    })
}

/// The service principal object of a definition.
pub fn service_principal_object(definition: &Definition) -> Value {
    json!({
        "id": ids::service_principal(&definition.name),
        "appId": ids::app_id(&definition.name),
        "appDisplayName": display_name(definition),
        "displayName": display_name(definition),
        "applicationTemplateId": definition.template,
        "accountEnabled": true,
        "appRoleAssignmentRequired": true,
        "appRoles": app_roles(definition),
        "servicePrincipalNames": [ids::app_id(&definition.name), definition.name],
        "servicePrincipalType": "Application",
        "tags": ["WindowsAzureActiveDirectoryIntegratedApp"],
        "preferredSingleSignOnMode": null,
        "notificationEmailAddresses": definition.notifications.emails,
    })
}

/// The application whose service principal id (or app id, or unique name) is `id`, if the caller may read it;
/// 404 otherwise, whether it does not exist or the caller may not see it.
pub async fn find(state: &ApiState, caller: &Caller, id: &str) -> ApiResult<Definition> {
    let definition = provisioning::definitions(&state.stores)
        .await?
        .into_iter()
        .find(|definition| {
            ids::service_principal(&definition.name) == id
                || ids::app_id(&definition.name) == id
                || definition.name == id
        })
        .ok_or_else(|| GraphError::not_found(id))?;
    if !caller.0.may(Permission::ReadApplication(&definition.name)) {
        return Err(GraphError::not_found(id));
    }
    Ok(definition)
}

const SP_CAPABILITIES: Capabilities<'static> =
    &[("id", &[O::Eq, O::In]), ("appId", &[O::Eq, O::In]), ("displayName", &[O::Eq, O::StartsWith])];

/// `GET /servicePrincipals`: the applications the caller may read.
pub async fn list(State(state): State<ApiState>, caller: Caller, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let query = odata::parse_query(raw.as_deref().unwrap_or_default())?;
    crate::sorting::check(&query.orderby, &[])?;
    if let Some(filter) = &query.filter {
        filter.check(SP_CAPABILITIES, "ServicePrincipal")?;
    }
    let options = odata::MatchOptions { case_insensitive: true };
    let value: Vec<Value> = provisioning::definitions(&state.stores)
        .await?
        .iter()
        .filter(|definition| caller.0.may(Permission::ReadApplication(&definition.name)))
        .map(service_principal_object)
        .filter(|object| query.filter.as_ref().is_none_or(|filter| filter.matches(object, options)))
        .collect();
    let count = query.count.then_some(value.len() as u64);
    let origin = Origin { base: &state.base_url, path: "/servicePrincipals", query: raw.as_deref() };
    Ok(Page { context: "servicePrincipals", value, count, next: None }.into_json(&origin).into_response())
}

/// `GET /servicePrincipals/{id}`.
pub async fn get(State(state): State<ApiState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let definition = find(&state, &caller, &id).await?;
    Ok(Json(service_principal_object(&definition)))
}

/// An assignment's id: the principal's id (one assignment per principal and application).
fn assignment_object(
    definition: &Definition,
    principal: &ObjectId,
    kind: PrincipalKind,
    role: Option<&str>,
    name: &str,
) -> Value {
    let role_id = role
        .and_then(|value| definition.app_roles.iter().find(|app_role| app_role.value == value))
        .map_or(ids::DEFAULT_ACCESS, |app_role| app_role.id.as_str());
    json!({
        "id": principal.as_str(),
        "appRoleId": role_id,
        "createdDateTime": null,
        "deletedDateTime": null,
        "principalDisplayName": name,
        "principalId": principal.as_str(),
        "principalType": match kind { PrincipalKind::User => "User", PrincipalKind::Group => "Group" },
        "resourceDisplayName": display_name(definition),
        "resourceId": ids::service_principal(&definition.name),
    })
}

async fn principal_name(state: &ApiState, id: &ObjectId) -> ApiResult<String> {
    if let Some(user) = state.stores.directory.user(id).await? {
        let upn = user.user_principal_name().as_str().to_owned();
        return Ok(user.display_name.unwrap_or(upn));
    }
    Ok(state.stores.directory.group(id).await?.map(|group| group.display_name().to_owned()).unwrap_or_default())
}

/// `GET /servicePrincipals/{id}/appRoleAssignedTo`.
pub async fn assignments(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let definition = find(&state, &caller, &id).await?;
    let mut value = Vec::new();
    for assignment in state.stores.directory.assignments(&definition.name).await? {
        let name = principal_name(&state, &assignment.principal).await?;
        value.push(assignment_object(
            &definition,
            &assignment.principal,
            assignment.kind,
            assignment.role.as_deref(),
            &name,
        ));
    }
    let path = format!("/servicePrincipals/{id}/appRoleAssignedTo");
    let origin = Origin { base: &state.base_url, path: &path, query: raw.as_deref() };
    Ok(Page { context: "appRoleAssignments", value, count: None, next: None }.into_json(&origin).into_response())
}

/// The body of an assignment.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAssignment {
    /// The user or group.
    pub principal_id: String,
    /// The service principal (the path's).
    pub resource_id: String,
    /// An `appRoles[].id`, or the default access role's id.
    pub app_role_id: String,
}

/// `POST /servicePrincipals/{id}/appRoleAssignedTo` → 201.
pub async fn assign(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    GraphJson(body): GraphJson<NewAssignment>,
) -> ApiResult<Response> {
    let definition = find(&state, &caller, &id).await?;
    caller.check(Permission::ManageApplication(&definition.name))?;
    if body.resource_id != ids::service_principal(&definition.name) {
        return Err(GraphError::bad_request("resourceId: give the id of the service principal in the path"));
    }
    let role = if body.app_role_id == ids::DEFAULT_ACCESS {
        None
    } else {
        let app_role = definition
            .app_roles
            .iter()
            .find(|app_role| app_role.id.eq_ignore_ascii_case(&body.app_role_id))
            .ok_or_else(|| {
                let known: Vec<&str> = definition.app_roles.iter().map(|app_role| app_role.id.as_str()).collect();
                GraphError::bad_request(format!(
                    "appRoleId {}: not an app role of this application; use one of {} or {}",
                    body.app_role_id,
                    known.join(", "),
                    ids::DEFAULT_ACCESS
                ))
            })?;
        Some(app_role.value.clone())
    };
    let principal = ObjectId::parse(&body.principal_id).map_err(|_| GraphError::not_found(&body.principal_id))?;
    let kind =
        provisioning::assign(&state.stores, &caller.0.actor(), &definition.name, principal.as_str(), role.as_deref())
            .await?;
    let name = principal_name(&state, &principal).await?;
    let object = assignment_object(&definition, &principal, kind, role.as_deref(), &name);
    Ok((StatusCode::CREATED, Json(object)).into_response())
}

/// `DELETE /servicePrincipals/{id}/appRoleAssignedTo/{assignmentId}` → 204.
pub async fn unassign(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, assignment)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let definition = find(&state, &caller, &id).await?;
    caller.check(Permission::ManageApplication(&definition.name))?;
    let assigned = state.stores.directory.assignments(&definition.name).await?;
    if !assigned.iter().any(|existing| existing.principal.as_str() == assignment.to_ascii_lowercase()) {
        return Err(GraphError::not_found(&assignment));
    }
    provisioning::unassign(&state.stores, &caller.0.actor(), &definition.name, &assignment).await?;
    Ok(StatusCode::NO_CONTENT)
}
