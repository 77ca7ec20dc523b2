//! The document's component schemas. Graph's objects are open: a schema names the properties a client relies on,
//! with their types, and allows others.

use serde_json::{Value, json};

/// A string property that may be absent or null.
fn text() -> Value {
    json!({"type": ["string", "null"]})
}

/// The `components.schemas` object.
pub fn components() -> Value {
    json!({
        "GraphError": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message", "innerError"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "innerError": {
                            "type": "object",
                            "required": ["request-id", "date"],
                            "properties": {"request-id": {"type": "string"}, "date": {"type": "string"}},
                        },
                    },
                },
            },
        },
        "Collection": {
            "type": "object",
            "required": ["value"],
            "properties": {
                "@odata.context": {"type": "string"},
                "@odata.count": {"type": "integer", "minimum": 0},
                "@odata.nextLink": {"type": "string"},
                "value": {"type": "array", "items": {"type": "object"}},
            },
        },
        "Object": {"type": "object"},
        "User": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "userPrincipalName": {"type": "string"},
                "displayName": text(),
                "givenName": text(),
                "surname": text(),
                "mail": text(),
                "mailNickname": text(),
                "jobTitle": text(),
                "department": text(),
                "accountEnabled": {"type": ["boolean", "null"]},
                "businessPhones": {"type": ["array", "null"], "items": {"type": "string"}},
            },
        },
        "Group": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "displayName": text(),
                "description": text(),
                "mailNickname": text(),
                "securityEnabled": {"type": ["boolean", "null"]},
            },
        },
        "NewUser": {
            "allOf": [{"$ref": "#/components/schemas/User"}],
            "required": ["displayName", "userPrincipalName"],
            "properties": {
                "passwordProfile": {"type": "object", "properties": {"password": {"type": "string"}}},
            },
        },
        "NewGroup": {"allOf": [{"$ref": "#/components/schemas/Group"}], "required": ["displayName"]},
        "Instantiate": {
            "type": "object",
            "required": ["displayName"],
            "properties": {"displayName": {"type": "string"}},
        },
        "Assignment": {
            "type": "object",
            "required": ["principalId", "resourceId", "appRoleId"],
            "properties": {
                "principalId": {"type": "string"},
                "resourceId": {"type": "string"},
                "appRoleId": {"type": "string"},
            },
        },
        "NewJob": {"type": "object", "required": ["templateId"], "properties": {"templateId": {"type": "string"}}},
        "Pair": {
            "type": "object",
            "required": ["key", "value"],
            "properties": {"key": {"type": "string"}, "value": {"type": "string"}},
        },
        "Secrets": {
            "type": "object",
            "properties": {
                "value": {"type": "array", "items": {"$ref": "#/components/schemas/Pair"}},
                "credentials": {"type": "array", "items": {"$ref": "#/components/schemas/Pair"}},
            },
        },
        "ValidateCredentials": {
            "type": "object",
            "properties": {
                "useSavedCredentials": {"type": "boolean"},
                "credentials": {"type": "array", "items": {"$ref": "#/components/schemas/Pair"}},
            },
        },
        "Restart": {
            "type": "object",
            "properties": {"criteria": {"type": "object", "properties": {"resetScope": {"type": "string"}}}},
        },
        "ParseExpression": {
            "type": "object",
            "required": ["expression"],
            "properties": {
                "expression": {"type": "string"},
                "testInputObject": {"type": ["object", "null"]},
                "targetAttributeDefinition": {"type": ["object", "null"]},
            },
        },
        "ProvisionOnDemand": {
            "type": "object",
            "required": ["parameters"],
            "properties": {
                "parameters": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["ruleId", "subjects"],
                        "properties": {
                            "ruleId": {"type": "string"},
                            "subjects": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["objectId", "objectTypeName"],
                                    "properties": {
                                        "objectId": {"type": "string"},
                                        "objectTypeName": {"enum": ["User", "Group"]},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
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
        "NewToken": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": false,
            "properties": {"name": {"type": "string"}, "scopes": {"type": "array", "items": {"type": "string"}}},
        },
        "Reference": {
            "type": "object",
            "required": ["@odata.id"],
            "properties": {"@odata.id": {"type": "string"}},
        },
    })
}
