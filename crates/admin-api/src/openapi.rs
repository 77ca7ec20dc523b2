//! The admin API's operations as one table ([`operations`]; its rows in [`directory`] and [`provisioning`]): the
//! router is built from it ([`crate::router`]) and so is the OpenAPI 3.1 document served at
//! `GET /api/v1.0/$openapi` ([`document`]), so that the two cannot disagree. A row's method and handler come from
//! one constructor (`get`, `post`, `put`, `patch`, `delete`), its path is both the route and the documented path,
//! and its error statuses follow from what it takes (a path parameter names something that may not exist, a query
//! option or a body may be malformed, a JSON body may be too large or of another media type) plus the ones its
//! handler adds (an [`Operation`]'s `errors`). The component schemas are in [`schemas`], [`job_schemas`] and
//! [`bodies`]: loose where Graph's objects are open (other properties allowed), exact where a client relies on a
//! shape (the collection envelope, Graph's error body, a job's events).

pub mod bodies;
pub mod directory;
pub mod job_schemas;
pub mod provisioning;
pub mod schemas;

use axum::Json;
use axum::extract::State;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{self, MethodRouter};
use serde_json::{Map, Value, json};

use crate::ApiState;

/// A query option an operation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// `$filter`.
    Filter,
    /// `$select`: comma-separated property names.
    Select,
    /// `$orderby` on the collection's sortable properties.
    OrderBy,
    /// `$orderby` where the collection has one order, newest first: only `activityDateTime desc`.
    NewestFirst,
    /// `$top`, from 1 to this many.
    Top(u16),
    /// `$skiptoken`, as a `@odata.nextLink` gives it.
    SkipToken,
    /// `$count`.
    Count,
}

/// The options of a directory collection (users, groups).
pub const DIRECTORY_QUERY: &[Param] =
    &[Param::Filter, Param::Select, Param::OrderBy, Param::Top(999), Param::SkipToken, Param::Count];

/// The request body an operation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// A JSON body of this component schema, required, as `application/json` (400, 413, 415).
    Json(&'static str),
    /// A JSON body of this component schema that may be left out; any media type is read as JSON (400, 413).
    Optional(&'static str),
}

/// What an operation answers when it succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Success {
    /// A JSON body of this component schema, with this status.
    Json(u16, &'static str),
    /// 204, no body.
    NoContent,
    /// 202, no body: the work goes on in the background.
    Accepted,
    /// 200, a `text/event-stream` of events of this component schema.
    EventStream(&'static str),
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
    /// The tag it is listed under (one of [`TAGS`]).
    pub tag: &'static str,
    /// The query options it reads.
    pub query: &'static [Param],
    /// Its request body, if it reads one.
    pub body: Option<Body>,
    /// Its answer on success.
    pub success: Success,
    /// The headers its success answer always carries.
    pub headers: &'static [&'static str],
    /// The error statuses its handler answers besides those that follow from its path, query and body.
    pub errors: &'static [u16],
    /// Whether it is served without a token.
    pub public: bool,
    /// The handler, for this method only.
    pub route: MethodRouter<ApiState>,
}

impl Operation {
    fn new(
        method: Method,
        route: MethodRouter<ApiState>,
        path: String,
        id: &'static str,
        summary: &'static str,
    ) -> Self {
        Operation {
            method,
            path,
            id,
            summary,
            tag: "",
            query: &[],
            body: None,
            success: Success::NoContent,
            headers: &[],
            errors: &[],
            public: false,
            route,
        }
    }

    fn query(self, query: &'static [Param]) -> Self {
        Operation { query, ..self }
    }

    fn body(self, schema: &'static str) -> Self {
        Operation { body: Some(Body::Json(schema)), ..self }
    }

    fn optional_body(self, schema: &'static str) -> Self {
        Operation { body: Some(Body::Optional(schema)), ..self }
    }

    fn ok(self, status: u16, schema: &'static str) -> Self {
        Operation { success: Success::Json(status, schema), ..self }
    }

    fn accepted(self) -> Self {
        Operation { success: Success::Accepted, ..self }
    }

    fn events(self, schema: &'static str) -> Self {
        Operation { success: Success::EventStream(schema), ..self }
    }

    fn headers(self, headers: &'static [&'static str]) -> Self {
        Operation { headers, ..self }
    }

    fn errors(self, errors: &'static [u16]) -> Self {
        Operation { errors, ..self }
    }

    fn public(self) -> Self {
        Operation { public: true, ..self }
    }

    /// Every error status it answers, in order: its `errors` and those of its path, query, body and
    /// token.
    pub fn error_statuses(&self) -> Vec<u16> {
        let mut statuses = self.errors.to_vec();
        if !self.query.is_empty() || self.body.is_some() {
            statuses.push(400);
        }
        if !self.public {
            statuses.push(401);
        }
        if !path_parameters(&self.path).is_empty() {
            statuses.push(404);
        }
        match self.body {
            Some(Body::Json(_)) => statuses.extend([413, 415]),
            Some(Body::Optional(_)) => statuses.push(413),
            None => {}
        }
        statuses.sort_unstable();
        statuses.dedup();
        statuses
    }
}

/// The constructors of rows, one per method: `get(path, id, summary, handler)` is `GET` of `path` in the document
/// and `axum::routing::get(handler)` in the router.
macro_rules! methods {
    ($($name:ident $method:ident),+) => {$(
        #[doc = concat!("`", stringify!($method), "` of `path`, served by `handler`.")]
        fn $name<H: Handler<T, ApiState>, T: 'static>(
            path: impl Into<String>,
            id: &'static str,
            summary: &'static str,
            handler: H,
        ) -> Operation {
            Operation::new(Method::$method, routing::$name(handler), path.into(), id, summary)
        }
    )+};
}

methods!(get GET, post POST, put PUT, patch PATCH, delete DELETE);

/// The operations, each tagged `tag`.
fn tagged(tag: &'static str, operations: Vec<Operation>) -> impl Iterator<Item = Operation> {
    operations.into_iter().map(move |operation| Operation { tag, ..operation })
}

/// The document's tags, in order, with what they hold.
pub const TAGS: &[(&str, &str)] = &[
    ("users", "Graph's users"),
    ("groups", "Graph's groups and their members"),
    ("applications", "Application templates, service principals (roster's applications) and their assignments"),
    ("synchronization", "An application's provisioning job: secrets, start, pause, restart, on demand, events"),
    ("schema", "The job's mappings as Graph's synchronizationSchema, and its expressions"),
    ("plans", "roster's own: a dry run of the next cycle, stored, reviewed and applied exactly"),
    ("enterprises", "roster's own service provider's enterprises and their SCIM tokens"),
    ("logs", "Provisioning logs and the audit log"),
    ("meta", "This document"),
];

/// Every operation of the admin API.
pub fn operations() -> Vec<Operation> {
    let meta = vec![
        get("/$openapi", "getOpenApiDocument", "This OpenAPI document", serve).ok(200, "OpenApiDocument").public(),
    ];
    tagged("meta", meta).chain(directory::operations()).chain(provisioning::operations()).collect()
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
    let tags: Vec<Value> =
        TAGS.iter().map(|(name, description)| json!({"name": name, "description": description})).collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "roster admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Microsoft Graph's paths and shapes below /v1.0, for users, groups, applications, \
                            provisioning jobs and logs, with roster's own plans, job events and enterprises. \
                            Errors are Graph's error body; a method a path does not take is 405 with `Allow`.",
        },
        "servers": [{"url": base_url}],
        "security": [{"bearer": []}],
        "tags": tags,
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An admin API token (`roster admin token create --role ROLE`)",
                },
            },
            "schemas": schemas::components(),
        },
    })
}

fn reference(schema: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{schema}")})
}

fn operation_object(operation: &Operation) -> Value {
    let mut parameters: Vec<Value> = path_parameters(&operation.path)
        .into_iter()
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string", "minLength": 1}}))
        .collect();
    parameters.extend(operation.query.iter().map(|param| query_parameter(*param)));
    let mut responses = Map::new();
    let headers: Map<String, Value> = operation
        .headers
        .iter()
        .map(|name| ((*name).to_owned(), json!({"required": true, "schema": {"type": "string"}})))
        .collect();
    let (status, mut success) = match operation.success {
        Success::Json(status, schema) => {
            (status, json!({"description": "Done", "content": {"application/json": {"schema": reference(schema)}}}))
        }
        Success::NoContent => (204, json!({"description": "Done, no content"})),
        Success::Accepted => (202, json!({"description": "Accepted: it goes on in the background"})),
        Success::EventStream(schema) => (
            200,
            json!({
                "description": "Server-sent events, one schema per event (its `event` name and its `data`, a JSON \
                                text); a keep-alive comment every 15 s; the stream does not end",
                "content": {"text/event-stream": {"schema": reference(schema)}},
            }),
        ),
    };
    if !headers.is_empty() {
        success["headers"] = Value::Object(headers);
    }
    responses.insert(status.to_string(), success);
    for status in operation.error_statuses() {
        responses.insert(status.to_string(), error_response(status));
    }
    responses.insert(
        "default".to_owned(),
        json!({
            "description": "Another failure (500: the server's log has the details), in Graph's error body",
            "content": {"application/json": {"schema": reference("GraphError")}},
        }),
    );
    let mut object = json!({
        "operationId": operation.id,
        "summary": operation.summary,
        "tags": [operation.tag],
        "parameters": parameters,
        "responses": responses,
    });
    if operation.public {
        object["security"] = json!([]);
    }
    match operation.body {
        Some(Body::Json(schema)) => {
            object["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": reference(schema)}}});
        }
        Some(Body::Optional(schema)) => {
            object["requestBody"] =
                json!({"required": false, "content": {"application/json": {"schema": reference(schema)}}});
        }
        None => {}
    }
    object
}

fn query_parameter(param: Param) -> Value {
    let (name, schema, description) = match param {
        Param::Filter => ("$filter", json!({"type": "string"}), "An OData filter on the properties Graph filters on"),
        Param::Select => ("$select", json!({"type": "string"}), "The properties to show, separated by commas"),
        Param::OrderBy => ("$orderby", json!({"type": "string"}), "Sort keys: `property [asc|desc]`, by commas"),
        Param::NewestFirst => {
            ("$orderby", json!({"enum": ["activityDateTime desc"]}), "The one order the collection has")
        }
        Param::Top(max) => ("$top", json!({"type": "integer", "minimum": 1, "maximum": max}), "The page size"),
        Param::SkipToken => ("$skiptoken", json!({"type": "string"}), "The next page, as `@odata.nextLink` gives it"),
        Param::Count => ("$count", json!({"type": "boolean"}), "Whether to give `@odata.count` on the first page"),
    };
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

fn error_response(status: u16) -> Value {
    let description = match status {
        400 => "A malformed or invalid request (an OData option, a body, a value)",
        401 => "No token, or one that is invalid, expired or revoked",
        403 => "The caller's roles do not allow it",
        404 => "What the path names does not exist (or the caller may not see it)",
        409 => "A conflict with the job's state: a cycle holds it, or the plan was applied already",
        413 => "The body is over 1 MiB",
        415 => "The body is not application/json",
        429 => "Too many requests: try again after Retry-After seconds",
        502 => "The application's target failed",
        _ => "A failure",
    };
    let mut headers = json!({"request-id": {"required": true, "schema": {"type": "string"}}});
    if status == 429 {
        headers["Retry-After"] = json!({"required": true, "schema": {"type": "string", "pattern": "^[1-9][0-9]*$"}});
    }
    json!({
        "description": description,
        "headers": headers,
        "content": {"application/json": {"schema": reference("GraphError")}},
    })
}

/// The `{name}` parameters of a path template, in order.
pub fn path_parameters(path: &str) -> Vec<&str> {
    path.split('/').filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}')).collect()
}

#[cfg(test)]
mod tests;
