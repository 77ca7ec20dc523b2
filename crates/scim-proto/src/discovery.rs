//! Discovery documents (RFC 7644 §4, RFC 7643 §5): `/ServiceProviderConfig`, and `ListResponse` wrappers for
//! `/Schemas` and `/ResourceTypes`.

use serde_json::{Value, json};

use crate::schema::{ResourceType, Schema};

/// What the service provider advertises beyond the fixed capabilities (PATCH and sort supported, bulk and
/// password change not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceProviderOptions {
    /// The largest page a list request returns (`filter.maxResults`).
    pub max_results: usize,
    /// The largest request body accepted, in bytes (`bulk.maxPayloadSize`).
    pub max_payload_bytes: usize,
    /// Whether responses carry `ETag`s and requests may use `If-Match` (`etag.supported`).
    pub etag: bool,
    /// The human-readable help page (`documentationUri`), if any.
    pub documentation_uri: Option<String>,
}

impl Default for ServiceProviderOptions {
    fn default() -> Self {
        Self { max_results: 100, max_payload_bytes: 1_048_576, etag: true, documentation_uri: None }
    }
}

/// The `/ServiceProviderConfig` document; `base_url` is the SCIM base URL without a trailing slash.
pub fn service_provider_config(base_url: &str, options: &ServiceProviderOptions) -> Value {
    let mut config = json!({
        "schemas": [crate::SERVICE_PROVIDER_CONFIG_SCHEMA],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": options.max_payload_bytes},
        "filter": {"supported": true, "maxResults": options.max_results},
        "changePassword": {"supported": false},
        "sort": {"supported": true},
        "etag": {"supported": options.etag},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a bearer token in the Authorization header (RFC 6750).",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", base_url.trim_end_matches('/')),
        },
    });
    if let (Some(uri), Some(object)) = (&options.documentation_uri, config.as_object_mut()) {
        object.insert("documentationUri".to_owned(), Value::String(uri.clone()));
    }
    config
}

/// The `/Schemas` list response for the given schemas (each with its `meta.location`).
pub fn schemas_response(base_url: &str, schemas: &[&Schema]) -> Value {
    let base_url = base_url.trim_end_matches('/');
    let resources = schemas.iter().map(|schema| schema.to_json(&format!("{base_url}/Schemas/{}", schema.id))).collect();
    crate::query::list_response(schemas.len(), 1, resources)
}

/// The `/ResourceTypes` list response for the given resource types.
pub fn resource_types_response(base_url: &str, resource_types: &[&ResourceType]) -> Value {
    let base_url = base_url.trim_end_matches('/');
    let resources =
        resource_types.iter().map(|rt| rt.to_json(&format!("{base_url}/ResourceTypes/{}", rt.id))).collect();
    crate::query::list_response(resource_types.len(), 1, resources)
}

/// The schemas of the given resource types, each once, core schemas first in the given order.
pub fn schemas_of(resource_types: &[&ResourceType]) -> Vec<&'static Schema> {
    let mut out: Vec<&'static Schema> = Vec::new();
    let all = resource_types
        .iter()
        .map(|rt| rt.schema)
        .chain(resource_types.iter().flat_map(|rt| rt.extensions.iter().map(|ext| ext.schema)));
    for schema in all {
        if !out.iter().any(|seen| seen.id == schema.id) {
            out.push(schema);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::{GROUP, USER};

    #[test]
    fn service_provider_config_advertises_what_we_do() {
        let options = ServiceProviderOptions { max_results: 50, ..ServiceProviderOptions::default() };
        let config = service_provider_config("https://x/scim/v2/", &options);
        assert_eq!(config["patch"], json!({"supported": true}));
        assert_eq!(config["bulk"]["supported"], json!(false));
        assert_eq!(config["filter"], json!({"supported": true, "maxResults": 50}));
        assert_eq!(config["sort"], json!({"supported": true}));
        assert_eq!(config["etag"], json!({"supported": true}));
        assert_eq!(config["changePassword"], json!({"supported": false}));
        assert_eq!(config["authenticationSchemes"][0]["type"], json!("oauthbearertoken"));
        assert_eq!(config["authenticationSchemes"][0]["primary"], json!(true));
        assert_eq!(config["meta"]["location"], json!("https://x/scim/v2/ServiceProviderConfig"));
        assert!(config.get("documentationUri").is_none());
    }

    #[test]
    fn discovery_lists() {
        let schemas = schemas_of(&[&USER, &GROUP]);
        let ids: Vec<&str> = schemas.iter().map(|schema| schema.id).collect();
        assert_eq!(
            ids,
            [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:core:2.0:Group",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
            ]
        );
        let list = schemas_response("https://x", &schemas);
        assert_eq!(list["totalResults"], json!(3));
        assert_eq!(list["itemsPerPage"], json!(3));
        let list = resource_types_response("https://x", &[&USER, &GROUP]);
        assert_eq!(list["Resources"][1]["meta"]["location"], json!("https://x/ResourceTypes/Group"));
    }
}
