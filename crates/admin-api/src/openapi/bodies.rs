//! The component schemas of request bodies. As Graph's, they allow properties they do not name (roster keeps or
//! ignores them), except where the handler refuses unknown fields (roster's own enterprises and tokens); a
//! property a handler refuses (`id`, which is read-only) is `false`.

use serde_json::{Map, Value, json};

use super::schemas::{object, of, optional_user_text, strings, text};

/// The writable properties of a user: `null` clears one.
fn user_properties() -> Map<String, Value> {
    let mut properties = Map::new();
    properties.insert("userPrincipalName".to_owned(), json!({"type": "string"}));
    for name in optional_user_text() {
        properties.insert(name.to_owned(), text());
    }
    properties.insert("accountEnabled".to_owned(), json!({"type": ["boolean", "null"]}));
    properties.insert("businessPhones".to_owned(), json!({"type": ["array", "null"], "items": {"type": "string"}}));
    properties.insert(
        "passwordProfile".to_owned(),
        json!({"type": ["object", "null"], "properties": {"password": {"type": ["string", "null"]}}}),
    );
    for read_only in ["id", "createdDateTime", "deletedDateTime"] {
        properties.insert(read_only.to_owned(), json!(false));
    }
    properties
}

fn group_properties() -> Value {
    json!({
        "displayName": {"type": "string", "minLength": 1},
        "description": text(),
        "mailNickname": text(),
        "securityEnabled": {"type": ["boolean", "null"]},
        "members@odata.bind": {"type": "array", "maxItems": 20, "items": {"type": "string"}},
        "id": false,
    })
}

fn pairs() -> Value {
    json!({"type": "array", "items": of("Pair")})
}

/// The schemas.
pub fn components() -> Value {
    let user = Value::Object(user_properties());
    json!({
        "NewUser": object(&["displayName", "userPrincipalName"], user.clone()),
        "UserChanges": object(&[], user),
        "NewGroup": object(&["displayName"], group_properties()),
        "GroupChanges": object(&[], group_properties()),
        "Reference": object(&["@odata.id"], json!({"@odata.id": {"type": "string"}})),
        "Instantiate": object(&["displayName"], json!({"displayName": {"type": "string"}})),
        "NewAppRoleAssignment": object(&["principalId", "resourceId", "appRoleId"], json!({
            "principalId": {"type": "string"},
            "resourceId": {"type": "string"},
            "appRoleId": {"type": "string"},
        })),
        "NewEnterprise": {
            "type": "object",
            "required": ["slug", "shortcode"],
            "additionalProperties": false,
            "properties": {
                "slug": {"type": "string"},
                "shortcode": {"type": "string"},
                "profile": {"enum": ["github-emu", "scim", null]},
            },
        },
        "NewEnterpriseToken": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": false,
            "properties": {"name": {"type": "string"}, "scopes": strings()},
        },
        "Pair": object(&["key", "value"], json!({"key": {"type": "string"}, "value": {"type": "string"}})),
        "Secrets": object(&[], json!({"value": pairs(), "credentials": pairs()})),
        "NewSynchronizationJob": object(&["templateId"], json!({"templateId": {"type": "string"}})),
        "Restart": object(&[], json!({
            "criteria": {"type": ["object", "null"], "properties": {"resetScope": text()}},
        })),
        "ValidateCredentials": object(&[], json!({
            "useSavedCredentials": {"type": "boolean"},
            "credentials": pairs(),
        })),
        "ProvisionOnDemand": object(&["parameters"], json!({
            "parameters": {"type": "array", "items": object(&["ruleId", "subjects"], json!({
                "ruleId": {"type": "string"},
                "subjects": {"type": "array", "items": object(&["objectId", "objectTypeName"], json!({
                    "objectId": {"type": "string"},
                    "objectTypeName": {"type": "string"},
                    "links": {"type": ["object", "null"], "properties": {
                        "members": {"type": "array", "items": object(&["objectId"], json!({
                            "objectId": {"type": "string"},
                            "objectTypeName": text(),
                        }))},
                    }},
                }))},
            }))},
        })),
        "ParseExpression": object(&["expression"], json!({
            "expression": {"type": "string"},
            "testInputObject": {"type": ["object", "null"]},
        })),
        "SynchronizationSchemaChanges": object(&["synchronizationRules"], json!({
            "synchronizationRules": {"type": "array", "items": object(&["objectMappings"], json!({
                "objectMappings": {"type": "array", "items": object(&["sourceObjectName"], json!({
                    "sourceObjectName": {"type": "string"},
                }))},
            }))},
        })),
    })
}
