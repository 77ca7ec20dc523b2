//! The document's component schemas of what the API answers (a job's in [`super::job_schemas`], the request
//! bodies' in [`super::bodies`]). Graph's objects are open: a schema names the properties a client relies on, with
//! their types, requires only those that are always there (a `$select` leaves out the others, and shows a property
//! with no value as null), and allows others.

use serde_json::{Map, Value, json};

/// A user's text properties that may be absent: the model's attributes but its id, name, flag, list and deletion.
pub(super) fn optional_user_text() -> impl Iterator<Item = &'static str> {
    roster_directory::model::USER_ATTRIBUTES.iter().copied().filter(|name| {
        !matches!(*name, "id" | "userPrincipalName" | "accountEnabled" | "businessPhones" | "deletedDateTime")
    })
}

/// A string property that may be null.
pub(super) fn text() -> Value {
    json!({"type": ["string", "null"]})
}

/// A reference to the component `name`.
pub(super) fn of(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// An object with these required properties, these properties, and any others.
pub(super) fn object(required: &[&str], properties: Value) -> Value {
    let mut schema = json!({"type": "object", "required": required});
    schema["properties"] = properties;
    schema
}

/// An array of strings.
pub(super) fn strings() -> Value {
    json!({"type": "array", "items": {"type": "string"}})
}

/// A count: an integer from 0.
pub(super) fn count() -> Value {
    json!({"type": "integer", "minimum": 0})
}

/// The collections: each `{name}Collection` is Graph's envelope of `value`s of the component `name`.
const COLLECTIONS: &[&str] = &[
    "User",
    "Group",
    "DirectoryObject",
    "ApplicationTemplate",
    "ServicePrincipal",
    "AppRoleAssignment",
    "Enterprise",
    "EnterpriseToken",
    "ProvisioningObjectSummary",
    "DirectoryAudit",
    "SynchronizationTemplate",
    "SynchronizationJob",
    "Function",
    "FilterOperator",
    "PlanSummary",
];

fn collection(item: &str) -> Value {
    object(
        &["value"],
        json!({
            "@odata.context": {"type": "string"},
            "@odata.count": count(),
            "@odata.nextLink": {"type": "string"},
            "value": {"type": "array", "items": of(item)},
        }),
    )
}

/// The `components.schemas` object.
pub fn components() -> Value {
    let mut schemas = Map::new();
    for name in COLLECTIONS {
        schemas.insert(format!("{name}Collection"), collection(name));
    }
    for part in [
        errors_and_meta(),
        directory(),
        applications(),
        logs(),
        super::job_schemas::components(),
        super::bodies::components(),
    ] {
        if let Value::Object(part) = part {
            schemas.extend(part);
        }
    }
    Value::Object(schemas)
}

fn errors_and_meta() -> Value {
    json!({
        "GraphError": object(&["error"], json!({
            "error": object(&["code", "message", "innerError"], json!({
                "code": {"type": "string"},
                "message": {"type": "string"},
                "innerError": object(&["request-id", "date"], json!({
                    "request-id": {"type": "string"},
                    "date": {"type": "string"},
                })),
            })),
        })),
        "OpenApiDocument": object(&["openapi", "info", "paths", "components"], json!({
            "openapi": {"const": "3.1.0"},
            "info": object(&["title", "version"], json!({})),
            "paths": {"type": "object"},
            "components": {"type": "object"},
        })),
    })
}

fn directory() -> Value {
    let mut user = Map::new();
    user.insert("@odata.context".to_owned(), json!({"type": "string"}));
    user.insert("id".to_owned(), json!({"type": "string"}));
    user.insert("userPrincipalName".to_owned(), json!({"type": "string"}));
    for name in optional_user_text().chain(["deletedDateTime"]) {
        user.insert(name.to_owned(), text());
    }
    user.insert("accountEnabled".to_owned(), json!({"type": ["boolean", "null"]}));
    user.insert("businessPhones".to_owned(), json!({"type": ["array", "null"], "items": {"type": "string"}}));
    json!({
        "User": object(&["id"], Value::Object(user)),
        "Group": object(&["id"], json!({
            "@odata.context": {"type": "string"},
            "id": {"type": "string"},
            "displayName": {"type": "string"},
            "description": text(),
            "mailNickname": text(),
            "securityEnabled": {"type": ["boolean", "null"]},
            "mailEnabled": {"type": ["boolean", "null"]},
            "groupTypes": {"type": ["array", "null"], "items": {"type": "string"}},
        })),
        "DirectoryObject": object(&["id", "@odata.type"], json!({
            "id": {"type": "string"},
            "@odata.type": {"enum": ["#microsoft.graph.user", "#microsoft.graph.group"]},
        })),
        "Enterprise": object(&["id", "slug", "shortcode", "profile", "scimBaseUrl"], json!({
            "id": {"type": "string"},
            "slug": {"type": "string"},
            "shortcode": {"type": "string"},
            "profile": {"enum": ["github-emu", "scim"]},
            "scimBaseUrl": {"type": "string"},
        })),
        "EnterpriseToken": object(&["id", "name", "scopes", "revoked"], json!({
            "id": {"type": "string"},
            "name": {"type": "string"},
            "scopes": strings(),
            "revoked": {"type": "boolean"},
        })),
        "CreatedEnterpriseToken": object(&["id", "name", "token"], json!({
            "id": text(),
            "name": {"type": "string"},
            "token": {"type": "string", "minLength": 1},
        })),
    })
}

fn applications() -> Value {
    json!({
        "ApplicationTemplate": object(&["id", "displayName", "description", "publisher"], json!({
            "id": {"type": "string"},
            "displayName": {"type": "string"},
            "description": {"type": "string"},
            "publisher": {"type": "string"},
            "homePageUrl": text(),
            "logoUrl": text(),
            "categories": strings(),
            "supportedProvisioningTypes": strings(),
        })),
        "AppRole": object(&["id", "value", "displayName", "isEnabled"], json!({
            "id": {"type": "string"},
            "value": {"type": "string"},
            "displayName": {"type": "string"},
            "isEnabled": {"type": "boolean"},
            "allowedMemberTypes": strings(),
        })),
        "Application": object(&["id", "appId", "displayName", "uniqueName", "appRoles"], json!({
            "id": {"type": "string"},
            "appId": {"type": "string"},
            "applicationTemplateId": {"type": "string"},
            "displayName": {"type": "string"},
            "uniqueName": {"type": "string"},
            "appRoles": {"type": "array", "items": of("AppRole")},
        })),
        "ServicePrincipal": object(&["id", "appId", "displayName", "appRoles", "servicePrincipalNames"], json!({
            "id": {"type": "string"},
            "appId": {"type": "string"},
            "appDisplayName": {"type": "string"},
            "displayName": {"type": "string"},
            "applicationTemplateId": {"type": "string"},
            "accountEnabled": {"type": "boolean"},
            "appRoleAssignmentRequired": {"type": "boolean"},
            "appRoles": {"type": "array", "items": of("AppRole")},
            "servicePrincipalNames": strings(),
            "servicePrincipalType": {"type": "string"},
            "notificationEmailAddresses": strings(),
        })),
        "InstantiatedApplication": object(&["application", "servicePrincipal"], json!({
            "application": of("Application"),
            "servicePrincipal": of("ServicePrincipal"),
        })),
        "AppRoleAssignment": object(&["id", "appRoleId", "principalId", "principalType", "resourceId"], json!({
            "id": {"type": "string"},
            "appRoleId": {"type": "string"},
            "principalId": {"type": "string"},
            "principalType": {"enum": ["User", "Group"]},
            "principalDisplayName": {"type": "string"},
            "resourceId": {"type": "string"},
            "resourceDisplayName": {"type": "string"},
            "createdDateTime": text(),
            "deletedDateTime": text(),
        })),
    })
}

fn logs() -> Value {
    let identity = object(
        &["id", "identityType"],
        json!({"id": text(), "displayName": text(), "identityType": {"type": "string"}}),
    );
    let modified =
        json!({"type": "array", "items": object(&["displayName"], json!({"displayName": {"type": "string"}}))});
    json!({
        "ProvisioningObjectSummary": object(
            &[
                "id", "activityDateTime", "jobId", "cycleId", "changeId", "provisioningAction", "servicePrincipal",
                "sourceIdentity", "targetIdentity", "provisioningSteps", "provisioningStatusInfo",
            ],
            json!({
                "id": {"type": "string"},
                "activityDateTime": {"type": "string"},
                "jobId": {"type": "string"},
                "cycleId": {"type": "string"},
                "changeId": {"type": "string"},
                "provisioningAction": {"type": "string"},
                "durationInMilliseconds": count(),
                "servicePrincipal": object(&["id"], json!({"id": {"type": "string"}, "displayName": {"type": "string"}})),
                "sourceIdentity": identity,
                "targetIdentity": identity,
                "modifiedProperties": modified,
                "provisioningSteps": {"type": "array", "items": object(&["name", "provisioningStepType", "status"], json!({
                    "name": {"type": "string"},
                    "provisioningStepType": {"type": "string"},
                    "status": {"type": "string"},
                    "description": text(),
                    "details": {"type": "object"},
                }))},
                "provisioningStatusInfo": object(&["status"], json!({
                    "status": {"enum": ["success", "failure", "skipped", "warning"]},
                    "errorInformation": {"type": ["object", "null"]},
                })),
            }),
        ),
        "DirectoryAudit": object(
            &[
                "id", "category", "activityDateTime", "activityDisplayName", "operationType", "result", "initiatedBy",
                "targetResources", "additionalDetails",
            ],
            json!({
                "id": {"type": "string"},
                "category": {"type": "string"},
                "correlationId": {"type": "string"},
                "result": {"type": "string"},
                "resultReason": {"type": "string"},
                "activityDisplayName": {"type": "string"},
                "activityDateTime": {"type": "string"},
                "loggedByService": {"type": "string"},
                "operationType": {"type": "string"},
                "initiatedBy": object(&["user", "app"], json!({
                    "user": {"type": ["object", "null"]},
                    "app": {"type": ["object", "null"]},
                })),
                "targetResources": {"type": "array", "items": object(&["id", "type", "modifiedProperties"], json!({
                    "id": {"type": "string"},
                    "displayName": text(),
                    "type": {"type": "string"},
                    "userPrincipalName": text(),
                    "modifiedProperties": modified,
                }))},
                "additionalDetails": {"type": "array", "items": object(&["key", "value"], json!({
                    "key": {"type": "string"},
                    "value": {"type": "string"},
                }))},
            }),
        ),
    })
}
