//! The admin API's operations as one table ([`operations`]): the router is built from it ([`crate::router`]) and
//! so is the OpenAPI 3.1 document served at `GET /api/v1.0/$openapi` ([`document`]), so that the two cannot
//! disagree. Schemas are in [`schemas`]: loose where Graph's objects are open (extra properties allowed), exact
//! where a client relies on a shape (the collection envelope, Graph's error body).

pub mod schemas;

use axum::Json;
use axum::extract::State;
use axum::http::Method;
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use serde_json::{Map, Value, json};

use crate::{
    ApiState, applications, enterprises, events, groups, logs, on_demand, plans, schema, synchronization, users,
};

/// The query options an operation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    /// None.
    None,
    /// A collection's: `$filter`, `$select`, `$top`, `$skiptoken`, `$count`, `$orderby`.
    Collection,
    /// An object's: `$select`.
    Select,
}

/// What an operation answers when it succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Success {
    /// A JSON body with this status and component schema.
    Json(u16, &'static str),
    /// No body (204).
    NoContent,
    /// 202 with a `Location` header and no body.
    Accepted,
    /// A server-sent event stream.
    EventStream,
}

/// One operation: its method and path (below `/api/v1.0`, parameters as `{name}`), its documentation, and the
/// handler that serves it.
pub struct Operation {
    /// The HTTP method.
    pub method: Method,
    /// The path template.
    pub path: String,
    /// The unique `operationId`.
    pub id: &'static str,
    /// One line on what it does.
    pub summary: &'static str,
    /// The tag it is listed under.
    pub tag: &'static str,
    /// The query options it reads.
    pub query: Query,
    /// The component schema of its JSON request body, if it takes one.
    pub body: Option<&'static str>,
    /// Its answer on success.
    pub success: Success,
    /// The handler.
    pub route: MethodRouter<ApiState>,
}

/// Operation builder: `op(method, path, id, summary, tag, success, route)`, then `.query(...)`, `.body(...)`.
fn op(
    method: Method,
    path: impl Into<String>,
    id: &'static str,
    summary: &'static str,
    tag: &'static str,
    success: Success,
    route: MethodRouter<ApiState>,
) -> Operation {
    Operation { method, path: path.into(), id, summary, tag, query: Query::None, body: None, success, route }
}

impl Operation {
    fn query(mut self, query: Query) -> Operation {
        self.query = query;
        self
    }

    fn body(mut self, schema: &'static str) -> Operation {
        self.body = Some(schema);
        self
    }
}

/// Every operation of the admin API.
#[allow(clippy::too_many_lines, reason = "one table, one row per operation")]
pub fn operations() -> Vec<Operation> {
    use Success::{Accepted, EventStream, Json as J, NoContent};
    let sync = "/servicePrincipals/{id}/synchronization";
    let job = format!("{sync}/jobs/{{job}}");
    let template = format!("{sync}/templates/{{template}}");
    vec![
        op(Method::GET, "/$openapi", "openapi", "This OpenAPI document", "meta", J(200, "Object"), get(serve)),
        op(Method::GET, "/users", "listUsers", "List users", "users", J(200, "Collection"), get(users::list))
            .query(Query::Collection),
        op(Method::POST, "/users", "createUser", "Create a user", "users", J(201, "User"), post(users::create))
            .body("NewUser"),
        op(
            Method::GET,
            "/users/{id}",
            "getUser",
            "A user by id or userPrincipalName",
            "users",
            J(200, "User"),
            get(users::get),
        )
        .query(Query::Select),
        op(Method::PATCH, "/users/{id}", "updateUser", "Update a user", "users", NoContent, patch(users::update))
            .body("User"),
        op(Method::DELETE, "/users/{id}", "deleteUser", "Delete a user", "users", NoContent, delete(users::delete)),
        op(Method::GET, "/groups", "listGroups", "List groups", "groups", J(200, "Collection"), get(groups::list))
            .query(Query::Collection),
        op(Method::POST, "/groups", "createGroup", "Create a group", "groups", J(201, "Group"), post(groups::create))
            .body("NewGroup"),
        op(Method::GET, "/groups/{id}", "getGroup", "A group", "groups", J(200, "Group"), get(groups::get))
            .query(Query::Select),
        op(Method::PATCH, "/groups/{id}", "updateGroup", "Update a group", "groups", NoContent, patch(groups::update))
            .body("Group"),
        op(
            Method::DELETE,
            "/groups/{id}",
            "deleteGroup",
            "Delete a group",
            "groups",
            NoContent,
            delete(groups::delete),
        ),
        op(
            Method::GET,
            "/groups/{id}/members",
            "listMembers",
            "A group's members",
            "groups",
            J(200, "Collection"),
            get(groups::members),
        )
        .query(Query::Collection),
        op(
            Method::POST,
            "/groups/{id}/members/$ref",
            "addMember",
            "Add a member",
            "groups",
            NoContent,
            post(groups::add_member),
        )
        .body("Reference"),
        op(
            Method::DELETE,
            "/groups/{id}/members/{member}/$ref",
            "removeMember",
            "Remove a member",
            "groups",
            NoContent,
            delete(groups::remove_member),
        ),
        op(
            Method::GET,
            "/applicationTemplates",
            "listApplicationTemplates",
            "The application templates",
            "applications",
            J(200, "Collection"),
            get(applications::templates),
        )
        .query(Query::Collection),
        op(
            Method::GET,
            "/applicationTemplates/{id}",
            "getApplicationTemplate",
            "An application template",
            "applications",
            J(200, "Object"),
            get(applications::template_by_id),
        ),
        op(
            Method::POST,
            "/applicationTemplates/{id}/instantiate",
            "instantiateApplicationTemplate",
            "Create an application from a template",
            "applications",
            J(201, "Object"),
            post(applications::instantiate),
        )
        .body("Instantiate"),
        op(
            Method::GET,
            "/servicePrincipals",
            "listServicePrincipals",
            "List service principals (applications)",
            "applications",
            J(200, "Collection"),
            get(applications::list),
        )
        .query(Query::Collection),
        op(
            Method::GET,
            "/servicePrincipals/{id}",
            "getServicePrincipal",
            "A service principal",
            "applications",
            J(200, "Object"),
            get(applications::get),
        ),
        op(
            Method::GET,
            "/servicePrincipals/{id}/appRoleAssignedTo",
            "listAppRoleAssignedTo",
            "Who is assigned to the application",
            "applications",
            J(200, "Collection"),
            get(applications::assignments),
        )
        .query(Query::Collection),
        op(
            Method::POST,
            "/servicePrincipals/{id}/appRoleAssignedTo",
            "createAppRoleAssignedTo",
            "Assign a user or group",
            "applications",
            J(201, "Object"),
            post(applications::assign),
        )
        .body("Assignment"),
        op(
            Method::DELETE,
            "/servicePrincipals/{id}/appRoleAssignedTo/{assignment}",
            "deleteAppRoleAssignedTo",
            "Remove an assignment",
            "applications",
            NoContent,
            delete(applications::unassign),
        ),
        op(
            Method::GET,
            format!("{sync}/templates"),
            "listSynchronizationTemplates",
            "The application's synchronization templates",
            "synchronization",
            J(200, "Collection"),
            get(synchronization::templates),
        ),
        op(
            Method::PUT,
            format!("{sync}/secrets"),
            "putSynchronizationSecrets",
            "Set the tenant URL, secret token and settings",
            "synchronization",
            NoContent,
            put(synchronization::put_secrets),
        )
        .body("Secrets"),
        op(
            Method::GET,
            format!("{sync}/jobs"),
            "listSynchronizationJobs",
            "The application's job",
            "synchronization",
            J(200, "Collection"),
            get(synchronization::jobs),
        ),
        op(
            Method::POST,
            format!("{sync}/jobs"),
            "createSynchronizationJob",
            "Create the job from a template",
            "synchronization",
            J(201, "Object"),
            post(synchronization::create_job),
        )
        .body("NewJob"),
        op(
            Method::GET,
            job.clone(),
            "getSynchronizationJob",
            "The job and its status",
            "synchronization",
            J(200, "Object"),
            get(synchronization::job),
        ),
        op(
            Method::DELETE,
            job.clone(),
            "deleteSynchronizationJob",
            "Turn provisioning off and forget the job's state",
            "synchronization",
            NoContent,
            delete(synchronization::delete_job),
        ),
        op(
            Method::POST,
            format!("{job}/start"),
            "startSynchronizationJob",
            "Start (or resume) provisioning",
            "synchronization",
            NoContent,
            post(synchronization::start),
        ),
        op(
            Method::POST,
            format!("{job}/pause"),
            "pauseSynchronizationJob",
            "Pause provisioning",
            "synchronization",
            NoContent,
            post(synchronization::pause),
        ),
        op(
            Method::POST,
            format!("{job}/restart"),
            "restartSynchronizationJob",
            "Restart: reset and run a cycle soon",
            "synchronization",
            NoContent,
            post(synchronization::restart),
        )
        .body("Restart"),
        op(
            Method::POST,
            format!("{job}/validateCredentials"),
            "validateSynchronizationCredentials",
            "Test Connection",
            "synchronization",
            NoContent,
            post(synchronization::validate_credentials),
        )
        .body("ValidateCredentials"),
        op(
            Method::GET,
            format!("{job}/schema"),
            "getSynchronizationSchema",
            "The job's mappings as a synchronizationSchema",
            "schema",
            J(200, "Object"),
            get(schema::get),
        ),
        op(
            Method::PUT,
            format!("{job}/schema"),
            "putSynchronizationSchema",
            "Replace the job's mappings",
            "schema",
            NoContent,
            put(schema::put),
        )
        .body("Object"),
        op(
            Method::DELETE,
            format!("{job}/schema"),
            "deleteSynchronizationSchema",
            "Back to the template's mappings",
            "schema",
            NoContent,
            delete(schema::delete),
        ),
        op(
            Method::POST,
            format!("{job}/schema/parseExpression"),
            "parseExpression",
            "Parse and try an expression",
            "schema",
            J(200, "Object"),
            post(schema::parse_expression),
        )
        .body("ParseExpression"),
        op(
            Method::GET,
            format!("{job}/schema/functions"),
            "listFunctions",
            "The expression functions",
            "schema",
            J(200, "Collection"),
            get(schema::functions),
        ),
        op(
            Method::GET,
            format!("{job}/schema/filterOperators"),
            "listFilterOperators",
            "The scoping filter operators",
            "schema",
            J(200, "Collection"),
            get(schema::filter_operators),
        ),
        op(
            Method::GET,
            format!("{template}/schema"),
            "getTemplateSchema",
            "A template's mappings",
            "schema",
            J(200, "Object"),
            get(schema::template_get),
        ),
        op(
            Method::POST,
            format!("{template}/schema/parseExpression"),
            "parseTemplateExpression",
            "Parse and try an expression",
            "schema",
            J(200, "Object"),
            post(schema::template_parse_expression),
        )
        .body("ParseExpression"),
        op(
            Method::GET,
            format!("{template}/schema/functions"),
            "listTemplateFunctions",
            "The expression functions",
            "schema",
            J(200, "Collection"),
            get(schema::template_functions),
        ),
        op(
            Method::GET,
            format!("{template}/schema/filterOperators"),
            "listTemplateFilterOperators",
            "The scoping filter operators",
            "schema",
            J(200, "Collection"),
            get(schema::template_filter_operators),
        ),
        op(
            Method::POST,
            format!("{job}/provisionOnDemand"),
            "provisionOnDemand",
            "Provision one user or group now",
            "synchronization",
            J(200, "Object"),
            post(on_demand::provision),
        )
        .body("ProvisionOnDemand"),
        op(
            Method::GET,
            format!("{job}/plans"),
            "listPlans",
            "The job's stored plans",
            "plans",
            J(200, "Collection"),
            get(plans::list),
        ),
        op(
            Method::POST,
            format!("{job}/plans"),
            "createPlan",
            "A dry run of the next cycle, stored",
            "plans",
            J(201, "Object"),
            post(plans::create),
        ),
        op(
            Method::GET,
            format!("{job}/plans/{{plan}}"),
            "getPlan",
            "A stored plan",
            "plans",
            J(200, "Object"),
            get(plans::get),
        ),
        op(
            Method::POST,
            format!("{job}/plans/{{plan}}/apply"),
            "applyPlan",
            "Apply a plan exactly, in the background",
            "plans",
            Accepted,
            post(plans::apply),
        ),
        op(
            Method::GET,
            format!("{job}/events"),
            "streamJobEvents",
            "The job's state, progress and cycles as server-sent events",
            "synchronization",
            EventStream,
            get(events::stream),
        ),
        op(
            Method::GET,
            "/roster/enterprises",
            "listEnterprises",
            "The service provider's enterprises",
            "enterprises",
            J(200, "Collection"),
            get(enterprises::list),
        ),
        op(
            Method::POST,
            "/roster/enterprises",
            "createEnterprise",
            "Create an enterprise",
            "enterprises",
            J(201, "Object"),
            post(enterprises::create),
        )
        .body("NewEnterprise"),
        op(
            Method::GET,
            "/roster/enterprises/{slug}",
            "getEnterprise",
            "An enterprise",
            "enterprises",
            J(200, "Object"),
            get(enterprises::get),
        ),
        op(
            Method::GET,
            "/roster/enterprises/{slug}/tokens",
            "listEnterpriseTokens",
            "An enterprise's SCIM tokens",
            "enterprises",
            J(200, "Collection"),
            get(enterprises::tokens),
        ),
        op(
            Method::POST,
            "/roster/enterprises/{slug}/tokens",
            "createEnterpriseToken",
            "A new SCIM token (shown once)",
            "enterprises",
            J(201, "Object"),
            post(enterprises::create_token),
        )
        .body("NewToken"),
        op(
            Method::DELETE,
            "/roster/enterprises/{slug}/tokens/{token}",
            "revokeEnterpriseToken",
            "Revoke a SCIM token",
            "enterprises",
            NoContent,
            delete(enterprises::revoke_token),
        ),
        op(
            Method::GET,
            "/auditLogs/provisioning",
            "listProvisioningLogs",
            "Provisioning logs",
            "logs",
            J(200, "Collection"),
            get(logs::provisioning),
        )
        .query(Query::Collection),
        op(
            Method::GET,
            "/auditLogs/directoryAudits",
            "listDirectoryAudits",
            "The audit log",
            "logs",
            J(200, "Collection"),
            get(logs::directory_audits),
        )
        .query(Query::Collection),
        op(
            Method::GET,
            "/auditLogs/directoryAudits/{id}",
            "getDirectoryAudit",
            "An audit entry",
            "logs",
            J(200, "Object"),
            get(logs::directory_audit),
        ),
    ]
}

/// `GET /$openapi`: the document, with the server's public base URL.
async fn serve(State(state): State<ApiState>) -> Json<Value> {
    Json(document(&state.base_url))
}

/// The OpenAPI 3.1 document of [`operations`], served at `base_url`.
pub fn document(base_url: &str) -> Value {
    let mut paths = Map::new();
    for operation in operations() {
        let entry = paths.entry(operation.path.clone()).or_insert_with(|| json!({}));
        if let Value::Object(methods) = entry {
            methods.insert(operation.method.as_str().to_ascii_lowercase(), operation_object(&operation));
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "roster admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Microsoft Graph's paths and shapes below /v1.0, for users, groups, applications, \
                            provisioning jobs and logs, with roster's own plans, job events and enterprises.",
        },
        "servers": [{"url": base_url}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "An admin API token (`roster admin token create`)"}},
            "schemas": schemas::components(),
        },
    })
}

fn operation_object(operation: &Operation) -> Value {
    let mut parameters: Vec<Value> = path_parameters(&operation.path)
        .into_iter()
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string", "minLength": 1}}))
        .collect();
    let query = |name: &str, schema: Value| json!({"name": name, "in": "query", "required": false, "schema": schema});
    match operation.query {
        Query::None => {}
        Query::Select => parameters.push(query("$select", json!({"type": "string"}))),
        Query::Collection => {
            for name in ["$filter", "$select", "$orderby", "$skiptoken"] {
                parameters.push(query(name, json!({"type": "string"})));
            }
            parameters.push(query("$top", json!({"type": "integer", "minimum": 1, "maximum": 999})));
            parameters.push(query("$count", json!({"type": "boolean"})));
        }
    }
    let error = json!({"description": "Graph's error body", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GraphError"}}}});
    let mut responses = Map::new();
    match operation.success {
        Success::Json(status, schema) => {
            let content = json!({"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}});
            responses.insert(status.to_string(), json!({"description": "Success", "content": content}));
        }
        Success::NoContent => {
            responses.insert("204".into(), json!({"description": "Done"}));
        }
        Success::Accepted => {
            responses.insert("202".into(), json!({"description": "Accepted: runs in the background", "headers": {"Location": {"schema": {"type": "string"}}}}));
        }
        Success::EventStream => {
            let content = json!({"text/event-stream": {"schema": {"type": "string"}}});
            responses.insert(
                "200".into(),
                json!({"description": "Events: state, progress, cycleEnded", "content": content}),
            );
        }
    }
    responses.insert("default".into(), error);
    let mut object = json!({
        "operationId": operation.id,
        "summary": operation.summary,
        "tags": [operation.tag],
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(body) = operation.body {
        object["requestBody"] = json!({
            "required": true,
            "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{body}")}}},
        });
    }
    object
}

/// The `{name}` parameters of a path template, in order.
pub fn path_parameters(path: &str) -> Vec<&str> {
    path.split('/').filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}')).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_operation_is_documented_once_with_its_parameters() {
        let document = document("http://127.0.0.1/api/v1.0");
        let operations = operations();
        let mut ids = HashSet::new();
        for operation in &operations {
            assert!(ids.insert(operation.id), "operationId {} twice", operation.id);
            let documented = &document["paths"][&operation.path][operation.method.as_str().to_ascii_lowercase()];
            assert_eq!(documented["operationId"], json!(operation.id), "{} {}", operation.method, operation.path);
            let declared: Vec<&str> = documented["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|parameter| parameter["in"] == "path")
                .filter_map(|parameter| parameter["name"].as_str())
                .collect();
            assert_eq!(declared, path_parameters(&operation.path), "{}", operation.path);
        }
        let count: usize = document["paths"]
            .as_object()
            .map_or(0, |paths| paths.values().map(|methods| methods.as_object().map_or(0, Map::len)).sum());
        assert_eq!(count, operations.len(), "a (path, method) twice");
    }

    #[test]
    fn every_reference_resolves() {
        fn references<'v>(value: &'v Value, found: &mut Vec<&'v str>) {
            match value {
                Value::Object(map) => {
                    if let Some(Value::String(target)) = map.get("$ref") {
                        found.push(target);
                    }
                    map.values().for_each(|value| references(value, found));
                }
                Value::Array(items) => items.iter().for_each(|value| references(value, found)),
                _ => {}
            }
        }
        let document = document("http://127.0.0.1/api/v1.0");
        let mut found = Vec::new();
        references(&document, &mut found);
        assert!(!found.is_empty());
        for target in found {
            let name = target.strip_prefix("#/components/schemas/").expect("a component reference");
            assert!(document["components"]["schemas"][name].is_object(), "{target} does not resolve");
        }
    }
}
