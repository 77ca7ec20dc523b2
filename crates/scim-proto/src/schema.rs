//! Schemas as data (RFC 7643 §2, §4, §7): attribute definitions that drive validation, filtering, PATCH and
//! projection, and that the service provider serves at `/Schemas`.
//!
//! Definitions are `const` data built with small `const fn` builders, so a service provider can derive its own
//! variants (for example with more required attributes) from the RFC ones without copying them.

use serde_json::{Map, Value, json};

/// The SCIM data types (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    /// A sequence of characters.
    String,
    /// `true` or `false`.
    Boolean,
    /// A real number.
    Decimal,
    /// A whole number.
    Integer,
    /// An `xsd:dateTime` string (RFC 3339).
    DateTime,
    /// Base64-encoded bytes.
    Binary,
    /// A URI reference.
    Reference,
    /// A composite of sub-attributes.
    Complex,
}

impl AttrType {
    /// The name used in `/Schemas`.
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Binary => "binary",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
        }
    }
}

/// Whether and how an attribute may be changed (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    /// Set by the service provider only.
    ReadOnly,
    /// Writable at any time.
    ReadWrite,
    /// Set once at creation (or when absent), never changed afterwards.
    Immutable,
    /// Writable but never returned.
    WriteOnly,
}

impl Mutability {
    /// The name used in `/Schemas`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

/// When an attribute is returned (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    /// Always returned, even when `attributes` or `excludedAttributes` say otherwise.
    Always,
    /// Never returned.
    Never,
    /// Returned unless excluded.
    Default,
    /// Returned only when asked for with `attributes`.
    Request,
}

impl Returned {
    /// The name used in `/Schemas`.
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

/// The uniqueness scope of an attribute's values (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    /// No uniqueness required.
    None,
    /// Unique within the service provider's tenant.
    Server,
    /// Globally unique.
    Global,
}

impl Uniqueness {
    /// The name used in `/Schemas`.
    pub fn as_str(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        }
    }
}

/// One attribute definition (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributeDef {
    /// The attribute's name, in its canonical case.
    pub name: &'static str,
    /// The data type.
    pub kind: AttrType,
    /// Whether the attribute holds a list of values.
    pub multi_valued: bool,
    /// A human-readable description.
    pub description: &'static str,
    /// Whether a value is required.
    pub required: bool,
    /// Whether string comparisons are case-sensitive.
    pub case_exact: bool,
    /// Mutability.
    pub mutability: Mutability,
    /// When the attribute is returned.
    pub returned: Returned,
    /// Uniqueness scope.
    pub uniqueness: Uniqueness,
    /// Suggested values (for example `work`, `home`), empty when open.
    pub canonical_values: &'static [&'static str],
    /// For references, the kinds of resource referred to.
    pub reference_types: &'static [&'static str],
    /// For complex attributes, the sub-attributes.
    pub sub_attributes: &'static [AttributeDef],
}

impl AttributeDef {
    /// A single-valued, optional, read-write, case-insensitive attribute of the given type.
    pub const fn new(name: &'static str, kind: AttrType) -> Self {
        Self {
            name,
            kind,
            multi_valued: false,
            description: "",
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: &[],
            reference_types: &[],
            sub_attributes: &[],
        }
    }

    /// A string attribute.
    pub const fn string(name: &'static str) -> Self {
        Self::new(name, AttrType::String)
    }

    /// A boolean attribute.
    pub const fn boolean(name: &'static str) -> Self {
        Self::new(name, AttrType::Boolean)
    }

    /// A dateTime attribute.
    pub const fn date_time(name: &'static str) -> Self {
        Self::new(name, AttrType::DateTime)
    }

    /// A reference attribute to the given kinds of resource.
    pub const fn reference(name: &'static str, reference_types: &'static [&'static str]) -> Self {
        let mut def = Self::new(name, AttrType::Reference);
        def.reference_types = reference_types;
        def
    }

    /// A complex attribute with the given sub-attributes.
    pub const fn complex(name: &'static str, sub_attributes: &'static [AttributeDef]) -> Self {
        let mut def = Self::new(name, AttrType::Complex);
        def.sub_attributes = sub_attributes;
        def
    }

    /// The same attribute, multi-valued.
    pub const fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }

    /// The same attribute, required.
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The same attribute, optional.
    pub const fn optional(mut self) -> Self {
        self.required = false;
        self
    }

    /// The same attribute, compared case-sensitively.
    pub const fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }

    /// The same attribute with another mutability.
    pub const fn mutability(mut self, mutability: Mutability) -> Self {
        self.mutability = mutability;
        self
    }

    /// The same attribute, read-only.
    pub const fn read_only(self) -> Self {
        self.mutability(Mutability::ReadOnly)
    }

    /// The same attribute with another `returned` rule.
    pub const fn returned(mut self, returned: Returned) -> Self {
        self.returned = returned;
        self
    }

    /// The same attribute with another uniqueness scope.
    pub const fn uniqueness(mut self, uniqueness: Uniqueness) -> Self {
        self.uniqueness = uniqueness;
        self
    }

    /// The same attribute with canonical values.
    pub const fn canonical(mut self, values: &'static [&'static str]) -> Self {
        self.canonical_values = values;
        self
    }

    /// The same attribute with a description.
    pub const fn describe(mut self, description: &'static str) -> Self {
        self.description = description;
        self
    }

    /// The sub-attribute with this name, compared case-insensitively.
    pub fn sub_attribute(&self, name: &str) -> Option<&'static AttributeDef> {
        self.sub_attributes.iter().find(|sub| sub.name.eq_ignore_ascii_case(name))
    }

    /// The definition as served at `/Schemas`.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("name".into(), json!(self.name));
        out.insert("type".into(), json!(self.kind.as_str()));
        out.insert("multiValued".into(), json!(self.multi_valued));
        out.insert("description".into(), json!(self.description));
        out.insert("required".into(), json!(self.required));
        if matches!(self.kind, AttrType::String | AttrType::Reference | AttrType::Binary) {
            out.insert("caseExact".into(), json!(self.case_exact));
        }
        if !self.canonical_values.is_empty() {
            out.insert("canonicalValues".into(), json!(self.canonical_values));
        }
        if !self.reference_types.is_empty() {
            out.insert("referenceTypes".into(), json!(self.reference_types));
        }
        if !self.sub_attributes.is_empty() {
            let subs: Vec<Value> = self.sub_attributes.iter().map(AttributeDef::to_json).collect();
            out.insert("subAttributes".into(), Value::Array(subs));
        }
        out.insert("mutability".into(), json!(self.mutability.as_str()));
        out.insert("returned".into(), json!(self.returned.as_str()));
        out.insert("uniqueness".into(), json!(self.uniqueness.as_str()));
        Value::Object(out)
    }
}

/// A schema: a URN and its attributes (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schema {
    /// The schema URN.
    pub id: &'static str,
    /// A short name.
    pub name: &'static str,
    /// A description.
    pub description: &'static str,
    /// The attributes.
    pub attributes: &'static [AttributeDef],
}

impl Schema {
    /// The attribute with this name, compared case-insensitively.
    pub fn attribute(&self, name: &str) -> Option<&'static AttributeDef> {
        self.attributes.iter().find(|def| def.name.eq_ignore_ascii_case(name))
    }

    /// The schema as served at `/Schemas/{id}`; `location` is the absolute URL of that endpoint.
    pub fn to_json(&self, location: &str) -> Value {
        let attributes: Vec<Value> = self.attributes.iter().map(AttributeDef::to_json).collect();
        json!({
            "schemas": [SCHEMA_SCHEMA],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": attributes,
            "meta": {"resourceType": "Schema", "location": location},
        })
    }
}

/// A schema extension of a resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaExtension {
    /// The extension schema.
    pub schema: &'static Schema,
    /// Whether resources of the type must carry the extension.
    pub required: bool,
}

/// A resource type (RFC 7643 §6): its core schema and its extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceType {
    /// The resource type's id and name, for example `User`.
    pub id: &'static str,
    /// The endpoint relative to the base URL, for example `/Users`.
    pub endpoint: &'static str,
    /// A description.
    pub description: &'static str,
    /// The core schema.
    pub schema: &'static Schema,
    /// The extensions.
    pub extensions: &'static [SchemaExtension],
}

/// Where an attribute was found: in which schema, and whether that schema is an extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrRef {
    /// The schema that defines the attribute (the common attributes belong to the core schema).
    pub schema: &'static Schema,
    /// The definition.
    pub def: &'static AttributeDef,
    /// Whether the attribute lives under its extension's URN key in a resource.
    pub in_extension: bool,
}

impl ResourceType {
    /// The core schema or one of the extensions, by URN (case-insensitive).
    pub fn schema(&self, urn: &str) -> Option<(&'static Schema, bool)> {
        if self.schema.id.eq_ignore_ascii_case(urn) {
            return Some((self.schema, false));
        }
        self.extensions.iter().find(|ext| ext.schema.id.eq_ignore_ascii_case(urn)).map(|ext| (ext.schema, true))
    }

    /// Looks up a top-level attribute. Without a URN, the common attributes (`id`, `externalId`, `meta`) and the
    /// core schema are searched; with a URN, that schema (core or extension) and, for the core URN, the common
    /// attributes too. Names compare case-insensitively.
    pub fn attribute(&self, urn: Option<&str>, name: &str) -> Option<AttrRef> {
        let (schema, in_extension) = match urn {
            None => (self.schema, false),
            Some(urn) => self.schema(urn)?,
        };
        if !in_extension && let Some(def) = COMMON_ATTRIBUTES.iter().find(|def| def.name.eq_ignore_ascii_case(name)) {
            return Some(AttrRef { schema, def, in_extension });
        }
        schema.attribute(name).map(|def| AttrRef { schema, def, in_extension })
    }

    /// All schema URNs of the type, core first.
    pub fn schema_urns(&self) -> impl Iterator<Item = &'static str> + '_ {
        std::iter::once(self.schema.id).chain(self.extensions.iter().map(|ext| ext.schema.id))
    }

    /// The resource type as served at `/ResourceTypes/{id}`; `location` is the absolute URL of that endpoint.
    pub fn to_json(&self, location: &str) -> Value {
        let extensions: Vec<Value> =
            self.extensions.iter().map(|ext| json!({"schema": ext.schema.id, "required": ext.required})).collect();
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": self.id,
            "name": self.id,
            "endpoint": self.endpoint,
            "description": self.description,
            "schema": self.schema.id,
            "schemaExtensions": extensions,
            "meta": {"resourceType": "ResourceType", "location": location},
        })
    }
}

/// The schema URN of `/Schemas` entries.
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
/// The schema URN of `/ResourceTypes` entries.
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// The core User schema URN.
pub const USER_SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema URN.
pub const GROUP_SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The enterprise User extension URN.
pub const ENTERPRISE_USER_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

use AttrType as T;
const fn ro(def: AttributeDef) -> AttributeDef {
    def.read_only()
}

/// The sub-attributes of `meta` (RFC 7643 §3.1).
pub const META_SUB: &[AttributeDef] = &[
    ro(AttributeDef::string("resourceType")).case_exact(),
    ro(AttributeDef::date_time("created")),
    ro(AttributeDef::date_time("lastModified")),
    ro(AttributeDef::reference("location", &["uri"])).case_exact(),
    ro(AttributeDef::string("version")).case_exact(),
];

/// The attributes every resource has (RFC 7643 §3.1): `id`, `externalId`, `meta`.
pub const COMMON_ATTRIBUTES: &[AttributeDef] = &[
    ro(AttributeDef::string("id"))
        .case_exact()
        .returned(Returned::Always)
        .uniqueness(Uniqueness::Server)
        .describe("Unique identifier for the resource, assigned by the service provider."),
    AttributeDef::string("externalId")
        .case_exact()
        .describe("Identifier for the resource as defined by the provisioning client."),
    ro(AttributeDef::complex("meta", META_SUB)).describe("Resource metadata."),
];

/// The sub-attributes of `name`.
pub const NAME_SUB: &[AttributeDef] = &[
    AttributeDef::string("formatted").describe("The full name, formatted for display."),
    AttributeDef::string("familyName").describe("The family name."),
    AttributeDef::string("givenName").describe("The given name."),
    AttributeDef::string("middleName").describe("The middle name(s)."),
    AttributeDef::string("honorificPrefix").describe("The honorific prefix, for example 'Ms.'."),
    AttributeDef::string("honorificSuffix").describe("The honorific suffix, for example 'III'."),
];

/// The sub-attributes of a `value` / `display` / `type` / `primary` multi-valued attribute.
const fn typed_value_sub(value: AttributeDef, types: &'static [&'static str]) -> [AttributeDef; 4] {
    [
        value,
        AttributeDef::string("display").describe("A human-readable name, primarily used for display."),
        AttributeDef::string("type").canonical(types).describe("A label indicating the attribute's function."),
        AttributeDef::boolean("primary").describe("Whether this is the primary value. At most one is primary."),
    ]
}

/// The sub-attributes of `emails`.
pub const EMAILS_SUB: &[AttributeDef] =
    &typed_value_sub(AttributeDef::string("value").describe("The e-mail address."), &["work", "home", "other"]);
/// The sub-attributes of `phoneNumbers`.
pub const PHONE_NUMBERS_SUB: &[AttributeDef] = &typed_value_sub(
    AttributeDef::string("value").describe("The phone number."),
    &["work", "home", "mobile", "fax", "pager", "other"],
);
/// The sub-attributes of `ims`.
pub const IMS_SUB: &[AttributeDef] = &typed_value_sub(
    AttributeDef::string("value").describe("The instant messaging address."),
    &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
);
/// The sub-attributes of `photos`.
pub const PHOTOS_SUB: &[AttributeDef] = &typed_value_sub(
    AttributeDef::reference("value", &["external"]).describe("The URL of a photo."),
    &["photo", "thumbnail"],
);
/// The sub-attributes of `addresses`.
pub const ADDRESSES_SUB: &[AttributeDef] = &[
    AttributeDef::string("formatted").describe("The full mailing address, formatted for display."),
    AttributeDef::string("streetAddress").describe("The street address."),
    AttributeDef::string("locality").describe("The city or locality."),
    AttributeDef::string("region").describe("The state or region."),
    AttributeDef::string("postalCode").describe("The zip code or postal code."),
    AttributeDef::string("country").describe("The country, as an ISO 3166-1 alpha-2 code."),
    AttributeDef::string("type").canonical(&["work", "home", "other"]).describe("The kind of address."),
    AttributeDef::boolean("primary").describe("Whether this is the primary address."),
];
/// The sub-attributes of the read-only `groups` of a User.
pub const USER_GROUPS_SUB: &[AttributeDef] = &[
    ro(AttributeDef::string("value")).describe("The id of the group."),
    ro(AttributeDef::reference("$ref", &["User", "Group"])).describe("The URI of the group."),
    ro(AttributeDef::string("display")).describe("The displayName of the group."),
    ro(AttributeDef::string("type")).canonical(&["direct", "indirect"]).describe("How the user is a member."),
];
/// The sub-attributes of `entitlements`, `roles`.
pub const ROLE_LIKE_SUB: &[AttributeDef] = &[
    AttributeDef::string("value").describe("The value."),
    AttributeDef::string("display").describe("A human-readable name."),
    AttributeDef::string("type").describe("A label indicating the function."),
    AttributeDef::boolean("primary").describe("Whether this is the primary value."),
];
/// The sub-attributes of `x509Certificates`.
pub const X509_SUB: &[AttributeDef] = &[
    AttributeDef::new("value", T::Binary).describe("The DER-encoded certificate, base64."),
    AttributeDef::string("display").describe("A human-readable name."),
    AttributeDef::string("type").describe("A label indicating the function."),
    AttributeDef::boolean("primary").describe("Whether this is the primary value."),
];

/// The attributes of the RFC 7643 §4.1 User schema.
pub const USER_ATTRIBUTES: &[AttributeDef] = &[
    AttributeDef::string("userName")
        .required()
        .uniqueness(Uniqueness::Server)
        .describe("Unique identifier for the User, used by the user to authenticate."),
    AttributeDef::complex("name", NAME_SUB).describe("The components of the user's name."),
    AttributeDef::string("displayName").describe("The name of the User, suitable for display."),
    AttributeDef::string("nickName").describe("The casual way to address the user."),
    AttributeDef::reference("profileUrl", &["external"]).describe("A URI of the user's online profile."),
    AttributeDef::string("title").describe("The user's title, such as 'Vice President'."),
    AttributeDef::string("userType").describe("The relationship between the organization and the user."),
    AttributeDef::string("preferredLanguage").describe("The preferred written or spoken language, e.g. 'en-US'."),
    AttributeDef::string("locale").describe("The default location for localizing output, e.g. 'en-US'."),
    AttributeDef::string("timezone").describe("The time zone, in IANA format, e.g. 'Europe/Paris'."),
    AttributeDef::boolean("active").describe("Whether the user is active."),
    AttributeDef::string("password")
        .mutability(Mutability::WriteOnly)
        .returned(Returned::Never)
        .describe("The cleartext password; never returned."),
    AttributeDef::complex("emails", EMAILS_SUB).multi().describe("E-mail addresses."),
    AttributeDef::complex("phoneNumbers", PHONE_NUMBERS_SUB).multi().describe("Phone numbers."),
    AttributeDef::complex("ims", IMS_SUB).multi().describe("Instant messaging addresses."),
    AttributeDef::complex("photos", PHOTOS_SUB).multi().describe("URLs of photos of the user."),
    AttributeDef::complex("addresses", ADDRESSES_SUB).multi().describe("Physical mailing addresses."),
    ro(AttributeDef::complex("groups", USER_GROUPS_SUB))
        .multi()
        .describe("The groups the user belongs to, derived from group memberships."),
    AttributeDef::complex("entitlements", ROLE_LIKE_SUB).multi().describe("Entitlements of the user."),
    AttributeDef::complex("roles", ROLE_LIKE_SUB).multi().describe("Roles of the user."),
    AttributeDef::complex("x509Certificates", X509_SUB).multi().describe("Certificates of the user."),
];

/// The RFC 7643 §4.1 User schema.
pub const USER_SCHEMA: Schema =
    Schema { id: USER_SCHEMA_URN, name: "User", description: "User Account", attributes: USER_ATTRIBUTES };

/// The sub-attributes of the enterprise extension's `manager`.
pub const MANAGER_SUB: &[AttributeDef] = &[
    AttributeDef::string("value").describe("The id of the manager."),
    AttributeDef::reference("$ref", &["User"]).describe("The URI of the manager."),
    ro(AttributeDef::string("displayName")).describe("The displayName of the manager."),
];

/// The attributes of the RFC 7643 §4.3 enterprise User extension.
pub const ENTERPRISE_USER_ATTRIBUTES: &[AttributeDef] = &[
    AttributeDef::string("employeeNumber").describe("The numeric or alphanumeric identifier of the employee."),
    AttributeDef::string("costCenter").describe("The cost center."),
    AttributeDef::string("organization").describe("The organization."),
    AttributeDef::string("division").describe("The division."),
    AttributeDef::string("department").describe("The department."),
    AttributeDef::complex("manager", MANAGER_SUB).describe("The user's manager."),
];

/// The RFC 7643 §4.3 enterprise User extension schema.
pub const ENTERPRISE_USER_SCHEMA: Schema = Schema {
    id: ENTERPRISE_USER_URN,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: ENTERPRISE_USER_ATTRIBUTES,
};

/// The sub-attributes of a Group's `members`.
pub const MEMBERS_SUB: &[AttributeDef] = &[
    AttributeDef::string("value").case_exact().mutability(Mutability::Immutable).describe("The id of the member."),
    AttributeDef::reference("$ref", &["User", "Group"])
        .mutability(Mutability::Immutable)
        .describe("The URI of the member."),
    ro(AttributeDef::string("display")).describe("The displayName of the member."),
    AttributeDef::string("type").canonical(&["User", "Group"]).mutability(Mutability::Immutable),
];

/// The attributes of the RFC 7643 §4.2 Group schema.
pub const GROUP_ATTRIBUTES: &[AttributeDef] = &[
    AttributeDef::string("displayName").required().describe("A human-readable name for the Group."),
    AttributeDef::complex("members", MEMBERS_SUB).multi().describe("A list of members of the Group."),
];

/// The RFC 7643 §4.2 Group schema.
pub const GROUP_SCHEMA: Schema =
    Schema { id: GROUP_SCHEMA_URN, name: "Group", description: "Group", attributes: GROUP_ATTRIBUTES };

/// The RFC User resource type, with the optional enterprise extension.
pub const USER: ResourceType = ResourceType {
    id: "User",
    endpoint: "/Users",
    description: "User Account",
    schema: &USER_SCHEMA,
    extensions: &[SchemaExtension { schema: &ENTERPRISE_USER_SCHEMA, required: false }],
};

/// The RFC Group resource type.
pub const GROUP: ResourceType =
    ResourceType { id: "Group", endpoint: "/Groups", description: "Group", schema: &GROUP_SCHEMA, extensions: &[] };

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_lookup_is_case_insensitive_and_urn_aware() {
        let found = USER.attribute(None, "USERNAME").map(|a| a.def.name);
        assert_eq!(found, Some("userName"));
        let found = USER.attribute(Some(ENTERPRISE_USER_URN), "employeenumber").map(|a| (a.def.name, a.in_extension));
        assert_eq!(found, Some(("employeeNumber", true)));
        let found = USER.attribute(Some(USER_SCHEMA_URN), "externalId").map(|a| a.def.name);
        assert_eq!(found, Some("externalId"));
        assert_eq!(USER.attribute(Some(ENTERPRISE_USER_URN), "userName"), None);
        assert_eq!(USER.attribute(Some("urn:unknown"), "userName"), None);
        assert_eq!(GROUP.attribute(None, "emails"), None);
    }

    #[test]
    fn schema_json_lists_sub_attributes() {
        let json = USER_SCHEMA.to_json("http://x/Schemas/u");
        let emails = json["attributes"].as_array().unwrap().iter().find(|a| a["name"] == "emails").unwrap();
        assert_eq!(emails["multiValued"], true);
        assert_eq!(emails["subAttributes"].as_array().unwrap().len(), 4);
    }
}
