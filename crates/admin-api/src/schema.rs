//! `.../synchronization/jobs/{jobId}/schema` and `.../synchronization/templates/{templateId}/schema`: an
//! application's definition as Graph's `synchronizationSchema` (GET, PUT of the whole object, DELETE back to the
//! template's mappings), and the auxiliary calls `parseExpression`, `functions` and `filterOperators`.
//!
//! The conversion is in [`convert`] (definition ↔ schema; GET then PUT of the same body is the identity), the
//! expression trees in [`tree`], the directories in [`directories`], the operators in [`operators`]; request bodies
//! are read by [`mod@json`], whose errors name the JSON path of what is wrong.

pub mod convert;
pub mod directories;
pub mod json;
pub mod operators;
pub mod tree;

#[cfg(test)]
mod tests;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rand::RngCore;
use roster_engine::definition::Definition;
use roster_engine::templates;
use roster_expr::{AppRoleAssignment, Context, Expression, Outcome, Value as ExprValue};
use roster_service::access::Permission;
use roster_service::provisioning::{self, activity};
use serde_json::{Value, json};
use time::OffsetDateTime;

use self::json::{At, PathError};
use crate::ApiState;
use crate::applications::find;
use crate::auth::Caller;
use crate::body::GraphJson;
use crate::error::{ApiResult, GraphError};
use crate::synchronization::job_of;

/// The two kinds of object a definition provisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Users.
    User,
    /// Groups.
    Group,
}

impl Kind {
    /// The source object's name: `User`, `Group`.
    pub fn source_name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
        }
    }

    /// The target object's name: the SCIM core schema.
    pub fn target_name(self) -> &'static str {
        match self {
            Kind::User => "urn:ietf:params:scim:schemas:core:2.0:User",
            Kind::Group => "urn:ietf:params:scim:schemas:core:2.0:Group",
        }
    }
}

fn bad_request(error: &PathError) -> GraphError {
    GraphError::bad_request(error.to_string())
}

/// The template's default schema of a definition: every object mapping as the template has it.
fn template_default(definition: &Definition) -> ApiResult<Definition> {
    let template = templates::from_template(&definition.template, &definition.name, &definition.target.tenant_url)
        .ok_or_else(|| GraphError::not_found(&definition.template))?;
    Ok(Definition { users: template.users, groups: template.groups, ..definition.clone() })
}

/// The application of a template path, checking the template id.
async fn template_of(state: &ApiState, caller: &Caller, id: &str, template: &str) -> ApiResult<Definition> {
    let definition = find(state, caller, id).await?;
    if definition.template != template {
        return Err(GraphError::not_found(template));
    }
    Ok(definition)
}

/// `GET .../jobs/{jobId}/schema`.
pub async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, job)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let definition = job_of(&state, &caller, &id, &job).await?;
    caller.check(Permission::ReadApplication(&definition.name))?;
    Ok(Json(convert::to_schema(&definition, &job)))
}

/// `PUT .../jobs/{jobId}/schema` (the whole object) → 204; 400 naming the JSON path of what roster cannot take.
pub async fn put(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, job)): Path<(String, String)>,
    GraphJson(body): GraphJson<Value>,
) -> ApiResult<StatusCode> {
    let definition = job_of(&state, &caller, &id, &job).await?;
    caller.check(Permission::ManageApplication(&definition.name))?;
    let updated = convert::from_schema(&definition, &body).map_err(|error| bad_request(&error))?;
    if updated != definition {
        let actor = caller.0.actor();
        provisioning::put(&state.stores, &state.key, &actor, updated, None, Some(activity::UPDATE_MAPPINGS)).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE .../jobs/{jobId}/schema` → 204: the template's mappings, scoping filters and actions restored.
pub async fn delete(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, job)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let definition = job_of(&state, &caller, &id, &job).await?;
    caller.check(Permission::ManageApplication(&definition.name))?;
    let restored = provisioning::with_default_mappings(&definition)?;
    if restored != definition {
        let actor = caller.0.actor();
        provisioning::put(&state.stores, &state.key, &actor, restored, None, Some(activity::UPDATE_MAPPINGS)).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST .../jobs/{jobId}/schema/parseExpression`.
pub async fn parse_expression(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, job)): Path<(String, String)>,
    GraphJson(body): GraphJson<Value>,
) -> ApiResult<Json<Value>> {
    job_of(&state, &caller, &id, &job).await?;
    parse_expression_answer(&body)
}

/// `GET .../jobs/{jobId}/schema/functions`.
pub async fn functions(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, job)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    job_of(&state, &caller, &id, &job).await?;
    Ok(Json(tree::functions()))
}

/// `GET .../jobs/{jobId}/schema/filterOperators`.
pub async fn filter_operators(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, job)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    job_of(&state, &caller, &id, &job).await?;
    Ok(Json(operators::filter_operators()))
}

/// `GET .../templates/{templateId}/schema`: the template's default schema.
pub async fn template_get(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, template)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let definition = template_of(&state, &caller, &id, &template).await?;
    let default = template_default(&definition)?;
    Ok(Json(convert::to_schema(&default, &template)))
}

/// `POST .../templates/{templateId}/schema/parseExpression`.
pub async fn template_parse_expression(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, template)): Path<(String, String)>,
    GraphJson(body): GraphJson<Value>,
) -> ApiResult<Json<Value>> {
    template_of(&state, &caller, &id, &template).await?;
    parse_expression_answer(&body)
}

/// `GET .../templates/{templateId}/schema/functions`.
pub async fn template_functions(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, template)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    template_of(&state, &caller, &id, &template).await?;
    Ok(Json(tree::functions()))
}

/// `GET .../templates/{templateId}/schema/filterOperators`.
pub async fn template_filter_operators(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, template)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    template_of(&state, &caller, &id, &template).await?;
    Ok(Json(operators::filter_operators()))
}

fn parse_expression_answer(body: &Value) -> ApiResult<Json<Value>> {
    let mut rng = rand::thread_rng();
    parse_expression_response(body, OffsetDateTime::now_utc(), &mut rng).map(Json).map_err(|error| bad_request(&error))
}

/// The answer of `parseExpression` (Graph's `parseExpressionResponse`): the expression parsed into its tree and,
/// with a `testInputObject`, evaluated over its properties at `now`. A syntax error is an answer too
/// (`parsingSucceeded: false`, the error naming the column); only a body that is not a request is an error.
pub fn parse_expression_response(body: &Value, now: OffsetDateTime, rng: &mut dyn RngCore) -> Result<Value, PathError> {
    let root = At::root(body);
    let text = root.need("expression")?.str()?;
    let input = root.get("testInputObject")?.map(|input| test_input(&input)).transpose()?;
    let expression = match Expression::parse(text) {
        Ok(expression) => expression,
        Err(error) => {
            return Ok(json!({
                "error": {"code": "InvalidExpression", "message": format!("expression: {error}")},
                "evaluationSucceeded": false,
                "evaluationResult": [],
                "parsedExpression": null,
                "parsingSucceeded": false,
            }));
        }
    };
    let (error, succeeded, result) = match input {
        None => (Value::Null, false, Vec::new()),
        Some(source) => {
            let mut context = Context::new(now, rng);
            match expression.evaluate(&source, &mut context) {
                Ok(outcome) => (Value::Null, true, results(&outcome)),
                Err(error) => (json!({"code": "EvaluationFailed", "message": error.to_string()}), false, Vec::new()),
            }
        }
    };
    Ok(json!({
        "error": error,
        "evaluationSucceeded": succeeded,
        "evaluationResult": result,
        "parsedExpression": tree::tree(expression.root()),
        "parsingSucceeded": true,
    }))
}

/// The test input's properties as a source object: strings, booleans, integers, collections of strings;
/// `appRoleAssignments` as the app roles named (by value, or `{id, value, displayName}` objects).
fn test_input(input: &At<'_>) -> Result<std::collections::BTreeMap<String, ExprValue>, PathError> {
    let mut source = std::collections::BTreeMap::new();
    for property in input.opt_items("properties")? {
        let key = property.need("key")?.str()?;
        let Some(value) = property.get("value")? else { continue };
        let converted = if key == "appRoleAssignments" {
            let roles = value
                .items()?
                .iter()
                .map(|item| match item.value() {
                    Value::String(text) => {
                        Ok(AppRoleAssignment { id: String::new(), value: text.clone(), display_name: text.clone() })
                    }
                    _ => Ok(AppRoleAssignment {
                        id: item.opt_str("id")?.unwrap_or_default().to_owned(),
                        value: item.need("value")?.str()?.to_owned(),
                        display_name: item.opt_str("displayName")?.unwrap_or_default().to_owned(),
                    }),
                })
                .collect::<Result<Vec<_>, PathError>>()?;
            ExprValue::AppRoleAssignments(roles)
        } else if let Value::Array(_) = value.value() {
            ExprValue::List(value.items()?.iter().map(scalar).collect::<Result<_, _>>()?)
        } else {
            scalar(&value)?
        };
        source.insert(key.to_owned(), converted);
    }
    Ok(source)
}

fn scalar(at: &At<'_>) -> Result<ExprValue, PathError> {
    match at.value() {
        Value::String(text) => Ok(ExprValue::String(text.clone())),
        Value::Bool(flag) => Ok(ExprValue::Boolean(*flag)),
        Value::Number(number) => {
            Ok(number.as_i64().map_or_else(|| ExprValue::String(number.to_string()), ExprValue::Number))
        }
        Value::Null => Ok(ExprValue::Null),
        Value::Array(_) | Value::Object(_) => Err(at.error("expected a string, boolean or number")),
    }
}

/// An outcome as Graph's `evaluationResult`: one string per value; `[Redact]` for a secret; none for null.
fn results(outcome: &Outcome) -> Vec<String> {
    let Outcome::Value { value, secret } = outcome else { return Vec::new() };
    if *secret {
        return vec!["[Redact]".to_owned()];
    }
    match value {
        ExprValue::List(items) => items.iter().map(ToString::to_string).collect(),
        ExprValue::AppRoleAssignments(_) | ExprValue::Roles(_) => {
            serde_json::from_str::<Vec<Value>>(&value.to_string())
                .map(|items| items.iter().map(ToString::to_string).collect())
                .unwrap_or_else(|_| vec![value.to_string()])
        }
        other => vec![other.to_string()],
    }
}
