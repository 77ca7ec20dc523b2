//! GitHub Enterprise Managed Users' rules on top of RFC 7643: which attributes are required, which roles exist,
//! and roster's read-only extension that exposes the GitHub login (reference §2.3, §2.4, §2.9).

use roster_scim_proto::schema::{
    ADDRESSES_SUB, AttributeDef, EMAILS_SUB, ENTERPRISE_USER_SCHEMA, GROUP_ATTRIBUTES, GROUP_SCHEMA_URN, IMS_SUB,
    NAME_SUB, PHONE_NUMBERS_SUB, PHOTOS_SUB, ROLE_LIKE_SUB, ResourceType, Returned, Schema, SchemaExtension,
    USER_GROUPS_SUB, USER_SCHEMA_URN, Uniqueness, X509_SUB,
};
use roster_scim_proto::{ScimError, schema::Mutability};
use serde_json::{Map, Value};

/// The URN of roster's GitHub extension, which carries the read-only `login`.
pub const GITHUB_USER_URN: &str = "urn:roster:params:scim:schemas:extension:github:2.0:User";

/// The role values GitHub EMU accepts (`roles[].value`), in GitHub's order: names and Entra app-role ids.
pub const ROLE_VALUES: &[&str] = &[
    "user",
    "27d9891d-2c17-4f45-a262-781a0e55c80a",
    "guest_collaborator",
    "1ebc4a02-e56c-43a6-92a5-02ee09b90824",
    "enterprise_owner",
    "981df190-8801-4618-a08a-d91f6206c954",
    "ba4987ab-a1c3-412a-b58c-360fc407cb10",
    "billing_manager",
    "0e338b8c-cc7f-498a-928d-ea3470d7e7e3",
    "e6be2762-e4ad-4108-b72d-1bbe884a0f91",
];

/// E-mails as EMU takes them: each with its address (GitHub's OpenAPI marks `value` required).
const EMU_EMAILS_SUB: &[AttributeDef] = &[EMAILS_SUB[0].required(), EMAILS_SUB[1], EMAILS_SUB[2], EMAILS_SUB[3]];

const ROLES_SUB: &[AttributeDef] = &[
    AttributeDef::string("value")
        .required()
        .canonical(ROLE_VALUES)
        .describe("The role: a GitHub role name or an Entra app-role id."),
    ROLE_LIKE_SUB[1],
    ROLE_LIKE_SUB[2],
    ROLE_LIKE_SUB[3],
];

/// `externalId` as EMU requires it. RFC 7643 §3.1 keeps the common attributes out of schemas, but a client
/// that learns a server from `/Schemas` can only learn that `externalId` is required if it is listed there, so
/// the EMU schemas list it (as GitHub's OpenAPI marks it required).
const EXTERNAL_ID: AttributeDef = AttributeDef::string("externalId")
    .case_exact()
    .required()
    .describe("The IdP's identifier of the object; GitHub links the identity through it.");

const EMU_USER_ATTRIBUTES: &[AttributeDef] = &[
    EXTERNAL_ID,
    AttributeDef::string("userName")
        .required()
        .uniqueness(Uniqueness::Server)
        .describe("The IdP's user name; GitHub derives the login from it (normalized, with _shortcode)."),
    AttributeDef::complex("name", NAME_SUB).describe("The components of the user's name."),
    AttributeDef::string("displayName").required().describe("The name of the user, suitable for display."),
    AttributeDef::string("nickName").describe("The casual way to address the user."),
    AttributeDef::reference("profileUrl", &["external"]).describe("A URI of the user's online profile."),
    AttributeDef::string("title").describe("The user's title."),
    AttributeDef::string("userType").describe("The relationship between the organization and the user."),
    AttributeDef::string("preferredLanguage").describe("The preferred language, e.g. 'en-US'."),
    AttributeDef::string("locale").describe("The default location for localizing output."),
    AttributeDef::string("timezone").describe("The time zone, in IANA format."),
    AttributeDef::boolean("active").required().describe("Whether the user is active; false suspends the user."),
    AttributeDef::string("password")
        .mutability(Mutability::WriteOnly)
        .returned(Returned::Never)
        .describe("Accepted and discarded: EMU users sign in through the IdP."),
    AttributeDef::complex("emails", EMU_EMAILS_SUB).multi().required().describe("E-mail addresses."),
    AttributeDef::complex("phoneNumbers", PHONE_NUMBERS_SUB).multi().describe("Phone numbers."),
    AttributeDef::complex("ims", IMS_SUB).multi().describe("Instant messaging addresses."),
    AttributeDef::complex("photos", PHOTOS_SUB).multi().describe("URLs of photos of the user."),
    AttributeDef::complex("addresses", ADDRESSES_SUB).multi().describe("Physical mailing addresses."),
    AttributeDef::complex("groups", USER_GROUPS_SUB)
        .multi()
        .read_only()
        .describe("The groups the user belongs to, derived from group memberships."),
    AttributeDef::complex("entitlements", ROLE_LIKE_SUB).multi().describe("Entitlements of the user."),
    AttributeDef::complex("roles", ROLES_SUB).multi().describe("GitHub enterprise roles of the user."),
    AttributeDef::complex("x509Certificates", X509_SUB).multi().describe("Certificates of the user."),
];

const EMU_USER_SCHEMA: Schema = Schema {
    id: USER_SCHEMA_URN,
    name: "User",
    description: "User Account (GitHub Enterprise Managed Users rules)",
    attributes: EMU_USER_ATTRIBUTES,
};

const GITHUB_USER_ATTRIBUTES: &[AttributeDef] = &[AttributeDef::string("login")
    .read_only()
    .uniqueness(Uniqueness::Server)
    .describe("The GitHub login: the normalized userName with _shortcode appended.")];

/// roster's GitHub extension schema.
pub const GITHUB_USER_SCHEMA: Schema = Schema {
    id: GITHUB_USER_URN,
    name: "GitHubUser",
    description: "GitHub Enterprise Managed User facts derived by the service provider",
    attributes: GITHUB_USER_ATTRIBUTES,
};

/// The User resource type as GitHub EMU serves it.
pub const USER: ResourceType = ResourceType {
    id: "User",
    endpoint: "/Users",
    description: "User Account",
    schema: &EMU_USER_SCHEMA,
    extensions: &[
        SchemaExtension { schema: &ENTERPRISE_USER_SCHEMA, required: false },
        SchemaExtension { schema: &GITHUB_USER_SCHEMA, required: false },
    ],
};

const EMU_GROUP_ATTRIBUTES: &[AttributeDef] = &[EXTERNAL_ID, GROUP_ATTRIBUTES[0], GROUP_ATTRIBUTES[1]];

const EMU_GROUP_SCHEMA: Schema = Schema {
    id: GROUP_SCHEMA_URN,
    name: "Group",
    description: "Group (an IdP group, mapped to teams on GitHub)",
    attributes: EMU_GROUP_ATTRIBUTES,
};

/// The Group resource type as GitHub EMU serves it.
pub const GROUP: ResourceType =
    ResourceType { id: "Group", endpoint: "/Groups", description: "Group", schema: &EMU_GROUP_SCHEMA, extensions: &[] };

/// All schemas the provider serves at `/Schemas`.
pub const SCHEMAS: &[&Schema] = &[&EMU_USER_SCHEMA, &ENTERPRISE_USER_SCHEMA, &GITHUB_USER_SCHEMA, &EMU_GROUP_SCHEMA];

/// All schemas an enterprise with the plain `scim` profile serves at `/Schemas`.
pub const RFC_SCHEMAS: &[&Schema] =
    &[&roster_scim_proto::schema::USER_SCHEMA, &ENTERPRISE_USER_SCHEMA, &roster_scim_proto::schema::GROUP_SCHEMA];

/// Checks a canonical user against EMU's rules: `externalId` present, every required attribute present, and
/// every role a GitHub role.
pub fn check_user(user: &Map<String, Value>) -> Result<(), ScimError> {
    require_external_id(user)?;
    if let Some(Value::Array(roles)) = user.get("roles") {
        for role in roles {
            let value = role.get("value").and_then(Value::as_str).unwrap_or_default();
            if !ROLE_VALUES.iter().any(|known| known.eq_ignore_ascii_case(value)) {
                return Err(ScimError::invalid_value(format!(
                    "role {value:?} is not a GitHub Enterprise Managed Users role; use one of {}",
                    ROLE_VALUES.join(", ")
                )));
            }
        }
    }
    Ok(())
}

/// Checks a canonical group against EMU's rules: `externalId` present.
pub fn check_group(group: &Map<String, Value>) -> Result<(), ScimError> {
    require_external_id(group)
}

fn require_external_id(resource: &Map<String, Value>) -> Result<(), ScimError> {
    match resource.get("externalId") {
        Some(Value::String(value)) if !value.is_empty() => Ok(()),
        _ => Err(ScimError::invalid_value(
            "externalId is required: GitHub links the identity to the IdP object through it",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(value: &Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn roles_must_be_github_roles() {
        assert!(check_user(&user(&json!({"externalId": "e", "roles": [{"value": "user"}]}))).is_ok());
        assert!(check_user(&user(&json!({"externalId": "e", "roles": [{"value": "Enterprise_Owner"}]}))).is_ok());
        let err = check_user(&user(&json!({"externalId": "e", "roles": [{"value": "admin"}]}))).unwrap_err();
        assert_eq!((err.status, err.detail.contains("\"admin\"")), (400, true));
    }

    #[test]
    fn external_id_is_required() {
        assert_eq!(check_user(&user(&json!({"userName": "a"}))).unwrap_err().status, 400);
        assert_eq!(check_group(&user(&json!({"externalId": ""}))).unwrap_err().status, 400);
        assert!(check_group(&user(&json!({"externalId": "g"}))).is_ok());
    }

    #[test]
    fn login_extension_is_read_only() {
        let found = USER.attribute(Some(GITHUB_USER_URN), "login").unwrap();
        assert_eq!(found.def.mutability, Mutability::ReadOnly);
    }
}
