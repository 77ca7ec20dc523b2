//! Users and groups with Microsoft Graph attribute names, and the newtypes that carry their invariants.

use std::collections::BTreeMap;
use std::fmt;

use time::OffsetDateTime;

/// A directory object id: a GUID, always held in lowercase hyphenated form
/// (`0a1b2c3d-0000-4000-8000-00000000000a`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId(String);

/// Why a string is not an [`ObjectId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectIdError {
    /// The string is not a GUID.
    #[error("\"{0}\" is not a GUID; expected 8-4-4-4-12 hex digits such as 0a1b2c3d-0000-4000-8000-00000000000a")]
    NotAGuid(String),
}

impl ObjectId {
    /// Parses a GUID in hyphenated (`8-4-4-4-12`), braced (`{...}`) or plain 32-hex-digit form,
    /// in any case, and normalizes it to lowercase hyphenated form.
    pub fn parse(input: &str) -> Result<ObjectId, ObjectIdError> {
        let not_a_guid = || ObjectIdError::NotAGuid(input.to_owned());
        let inner = match input.strip_prefix('{') {
            Some(rest) => rest.strip_suffix('}').ok_or_else(not_a_guid)?,
            None => input,
        };
        let hex: String = if inner.len() == 36 {
            let bytes = inner.as_bytes();
            if [8, 13, 18, 23].iter().any(|&index| bytes[index] != b'-') {
                return Err(not_a_guid());
            }
            inner.chars().filter(|&c| c != '-').collect()
        } else if inner.len() == 32 {
            inner.to_owned()
        } else {
            return Err(not_a_guid());
        };
        if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(not_a_guid());
        }
        Ok(ObjectId::from_u128(u128::from_str_radix(&hex, 16).map_err(|_| not_a_guid())?))
    }

    /// The id whose 128 bits are `value`, most significant first.
    pub fn from_u128(value: u128) -> ObjectId {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = String::with_capacity(36);
        for index in 0..32 {
            if matches!(index, 8 | 12 | 16 | 20) {
                text.push('-');
            }
            let nibble = (value >> (124 - 4 * index)) & 0xf;
            text.push(char::from(HEX[nibble as usize]));
        }
        ObjectId(text)
    }

    /// The id in lowercase hyphenated form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// A user principal name, `local@domain`, checked against Entra ID's rules: at most 64 characters
/// before the `@` and 48 after, only `A-Z a-z 0-9 ' . - _ ! # ^ ~` before it, no period first or
/// just before the `@`, and a domain of dot-separated labels of letters, digits and hyphens.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserPrincipalName(String);

/// Why a string is not a [`UserPrincipalName`]. Each message starts with the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpnError {
    /// The string is empty.
    #[error("is empty; expected local@domain")]
    Empty,
    /// The string contains a space or other whitespace.
    #[error("\"{0}\" contains a space")]
    ContainsSpace(String),
    /// There is no `@`.
    #[error("\"{0}\" has no @; expected local@domain")]
    NoAt(String),
    /// There is more than one `@`.
    #[error("\"{0}\" contains more than one @")]
    SeveralAts(String),
    /// Nothing before the `@`.
    #[error("\"{0}\" has nothing before the @")]
    EmptyLocal(String),
    /// Nothing after the `@`.
    #[error("\"{0}\" has no domain after the @")]
    EmptyDomain(String),
    /// More than 64 characters before the `@`.
    #[error("\"{0}\" has more than 64 characters before the @")]
    LocalTooLong(String),
    /// More than 48 characters after the `@`.
    #[error("\"{0}\" has more than 48 characters after the @")]
    DomainTooLong(String),
    /// A character Entra does not allow before the `@`.
    #[error("\"{0}\" contains {1:?}, which Entra does not allow before the @ (allowed: A-Z a-z 0-9 ' . - _ ! # ^ ~)")]
    LocalCharacter(String, char),
    /// The local part starts with a period or has one just before the `@`.
    #[error("\"{0}\" has a period at the start or just before the @")]
    LocalPeriod(String),
    /// A character not allowed in a domain name.
    #[error("\"{0}\" contains {1:?} in the domain (allowed: letters, digits, hyphens and dots)")]
    DomainCharacter(String, char),
    /// An empty domain label, or one that starts or ends with a hyphen.
    #[error("\"{0}\" has an empty domain label or one that starts or ends with a hyphen")]
    DomainLabel(String),
}

impl UserPrincipalName {
    /// Parses and checks a user principal name; the case is kept as given.
    pub fn parse(input: &str) -> Result<UserPrincipalName, UpnError> {
        let owned = || input.to_owned();
        if input.is_empty() {
            return Err(UpnError::Empty);
        }
        if input.chars().any(char::is_whitespace) {
            return Err(UpnError::ContainsSpace(owned()));
        }
        let Some((local, domain)) = input.split_once('@') else {
            return Err(UpnError::NoAt(owned()));
        };
        if domain.contains('@') {
            return Err(UpnError::SeveralAts(owned()));
        }
        if local.is_empty() {
            return Err(UpnError::EmptyLocal(owned()));
        }
        if domain.is_empty() {
            return Err(UpnError::EmptyDomain(owned()));
        }
        if let Some(bad) = local.chars().find(|&c| !(c.is_ascii_alphanumeric() || "'.-_!#^~".contains(c))) {
            return Err(UpnError::LocalCharacter(owned(), bad));
        }
        if local.len() > 64 {
            return Err(UpnError::LocalTooLong(owned()));
        }
        if local.starts_with('.') || local.ends_with('.') {
            return Err(UpnError::LocalPeriod(owned()));
        }
        if let Some(bad) = domain.chars().find(|&c| !(c.is_ascii_alphanumeric() || c == '-' || c == '.')) {
            return Err(UpnError::DomainCharacter(owned(), bad));
        }
        if domain.len() > 48 {
            return Err(UpnError::DomainTooLong(owned()));
        }
        if domain.split('.').any(|label| label.is_empty() || label.starts_with('-') || label.ends_with('-')) {
            return Err(UpnError::DomainLabel(owned()));
        }
        Ok(UserPrincipalName(owned()))
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`.
    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map_or(self.0.as_str(), |(local, _)| local)
    }
}

impl fmt::Display for UserPrincipalName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// The value of a free-form extension attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtensionValue {
    /// A string.
    String(String),
    /// `true` or `false`.
    Bool(bool),
    /// A JSON number, kept exactly as parsed.
    Number(serde_json::Number),
    /// A list of strings.
    List(Vec<String>),
}

/// A model rule broken while building a user or group by hand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// An extension attribute may not take the name of a Graph attribute.
    #[error("\"{0}\" is a Graph attribute, not an extension attribute")]
    ReservedExtensionName(String),
    /// A group needs a display name.
    #[error("displayName must not be empty")]
    EmptyDisplayName,
}

/// The Graph attribute names of a user that have fields of their own, in the order writers use.
pub const USER_ATTRIBUTES: &[&str] = &[
    "id",
    "userPrincipalName",
    "mail",
    "mailNickname",
    "displayName",
    "givenName",
    "surname",
    "accountEnabled",
    "department",
    "jobTitle",
    "employeeId",
    "companyName",
    "country",
    "city",
    "officeLocation",
    "mobilePhone",
    "businessPhones",
    "preferredLanguage",
    "manager",
    "deletedDateTime",
];

/// A directory user. Optional string attributes are never `Some("")`: importers read an empty
/// value as absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    id: ObjectId,
    user_principal_name: UserPrincipalName,
    /// `mail`.
    pub mail: Option<String>,
    /// `mailNickname`.
    pub mail_nickname: Option<String>,
    /// `displayName`.
    pub display_name: Option<String>,
    /// `givenName`.
    pub given_name: Option<String>,
    /// `surname`.
    pub surname: Option<String>,
    /// `accountEnabled`; true unless an import says otherwise.
    pub account_enabled: bool,
    /// `department`.
    pub department: Option<String>,
    /// `jobTitle`.
    pub job_title: Option<String>,
    /// `employeeId`.
    pub employee_id: Option<String>,
    /// `companyName`.
    pub company_name: Option<String>,
    /// `country`.
    pub country: Option<String>,
    /// `city`.
    pub city: Option<String>,
    /// `officeLocation`.
    pub office_location: Option<String>,
    /// `mobilePhone`.
    pub mobile_phone: Option<String>,
    /// `businessPhones`.
    pub business_phones: Vec<String>,
    /// `preferredLanguage`.
    pub preferred_language: Option<String>,
    /// `manager`: the manager's user id.
    pub manager: Option<ObjectId>,
    /// `deletedDateTime`: set when the user is soft-deleted.
    pub deleted_date_time: Option<OffsetDateTime>,
    extensions: BTreeMap<String, ExtensionValue>,
}

impl User {
    /// A user with only its id and user principal name; enabled, everything else absent.
    pub fn new(id: ObjectId, user_principal_name: UserPrincipalName) -> User {
        User {
            id,
            user_principal_name,
            mail: None,
            mail_nickname: None,
            display_name: None,
            given_name: None,
            surname: None,
            account_enabled: true,
            department: None,
            job_title: None,
            employee_id: None,
            company_name: None,
            country: None,
            city: None,
            office_location: None,
            mobile_phone: None,
            business_phones: Vec::new(),
            preferred_language: None,
            manager: None,
            deleted_date_time: None,
            extensions: BTreeMap::new(),
        }
    }

    /// `id`.
    pub fn id(&self) -> &ObjectId {
        &self.id
    }

    /// `userPrincipalName`.
    pub fn user_principal_name(&self) -> &UserPrincipalName {
        &self.user_principal_name
    }

    /// Extension attributes (`extension_<appid>_<name>` and any other attribute Graph does not
    /// define), by name.
    pub fn extensions(&self) -> &BTreeMap<String, ExtensionValue> {
        &self.extensions
    }

    /// Sets an extension attribute and returns its previous value. Fails for the names of Graph
    /// attributes and for `objectType`.
    pub fn insert_extension(
        &mut self,
        name: &str,
        value: ExtensionValue,
    ) -> Result<Option<ExtensionValue>, ModelError> {
        if is_reserved_user_key(name) {
            return Err(ModelError::ReservedExtensionName(name.to_owned()));
        }
        Ok(self.extensions.insert(name.to_owned(), value))
    }

    /// The optional string attribute called `name` (its Graph name: `mail`, `displayName`, ...), or `None` when
    /// no string attribute has that name.
    pub fn string_attribute(&self, name: &str) -> Option<&Option<String>> {
        Some(match name {
            "mail" => &self.mail,
            "mailNickname" => &self.mail_nickname,
            "displayName" => &self.display_name,
            "givenName" => &self.given_name,
            "surname" => &self.surname,
            "department" => &self.department,
            "jobTitle" => &self.job_title,
            "employeeId" => &self.employee_id,
            "companyName" => &self.company_name,
            "country" => &self.country,
            "city" => &self.city,
            "officeLocation" => &self.office_location,
            "mobilePhone" => &self.mobile_phone,
            "preferredLanguage" => &self.preferred_language,
            _ => return None,
        })
    }

    /// [`User::string_attribute`], to change it.
    pub fn string_attribute_mut(&mut self, name: &str) -> Option<&mut Option<String>> {
        Some(match name {
            "mail" => &mut self.mail,
            "mailNickname" => &mut self.mail_nickname,
            "displayName" => &mut self.display_name,
            "givenName" => &mut self.given_name,
            "surname" => &mut self.surname,
            "department" => &mut self.department,
            "jobTitle" => &mut self.job_title,
            "employeeId" => &mut self.employee_id,
            "companyName" => &mut self.company_name,
            "country" => &mut self.country,
            "city" => &mut self.city,
            "officeLocation" => &mut self.office_location,
            "mobilePhone" => &mut self.mobile_phone,
            "preferredLanguage" => &mut self.preferred_language,
            _ => return None,
        })
    }

    /// Removes an extension attribute and returns its value.
    pub fn remove_extension(&mut self, name: &str) -> Option<ExtensionValue> {
        self.extensions.remove(name)
    }
}

/// Whether `name` is a user attribute with a field of its own, or `objectType`.
pub(crate) fn is_reserved_user_key(name: &str) -> bool {
    name == "objectType" || USER_ATTRIBUTES.contains(&name)
}

/// A directory group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    id: ObjectId,
    display_name: String,
    /// `mailNickname`.
    pub mail_nickname: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `securityEnabled`.
    pub security_enabled: Option<bool>,
    /// `members`: ids of users or groups.
    pub members: Vec<ObjectId>,
}

impl Group {
    /// A group with no members. Fails if `display_name` is empty.
    pub fn new(id: ObjectId, display_name: &str) -> Result<Group, ModelError> {
        if display_name.is_empty() {
            return Err(ModelError::EmptyDisplayName);
        }
        Ok(Group {
            id,
            display_name: display_name.to_owned(),
            mail_nickname: None,
            description: None,
            security_enabled: None,
            members: Vec::new(),
        })
    }

    /// `id`.
    pub fn id(&self) -> &ObjectId {
        &self.id
    }

    /// `displayName`, never empty.
    pub fn display_name(&self) -> &str {
        &self.display_name
    }
}

/// A whole directory as an import file holds it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Directory {
    /// The users, in file order.
    pub users: Vec<User>,
    /// The groups, in file order.
    pub groups: Vec<Group>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_id(input: &str, expected: Result<&str, ()>) {
        let actual = ObjectId::parse(input);
        assert_eq!(actual.as_ref().map(ObjectId::as_str).map_err(|_| ()), expected, "{input}");
    }

    #[test]
    fn object_ids() {
        check_id("0A1B2C3D-0000-4000-8000-00000000000A", Ok("0a1b2c3d-0000-4000-8000-00000000000a"));
        check_id("{0a1b2c3d-0000-4000-8000-00000000000a}", Ok("0a1b2c3d-0000-4000-8000-00000000000a"));
        check_id("0a1b2c3d000040008000000000000000", Ok("0a1b2c3d-0000-4000-8000-000000000000"));
        check_id("0a1b2c3d-0000-4000-8000-00000000000", Err(()));
        check_id("0a1b2c3d-0000-4000-8000+00000000000a", Err(()));
        check_id("0a1b2c3d-0000-4000-8000-00000000000g", Err(()));
        check_id("+a1b2c3d000040008000000000000000", Err(()));
        check_id("{0a1b2c3d-0000-4000-8000-00000000000a", Err(()));
        check_id("ééééééééééééééééé", Err(()));
        check_id("", Err(()));
    }

    fn check_upn(input: &str, expected: &str) {
        let actual = match UserPrincipalName::parse(input) {
            Ok(upn) => format!("ok {upn}"),
            Err(error) => error.to_string(),
        };
        assert_eq!(actual, expected, "{input}");
    }

    #[test]
    fn user_principal_names() {
        check_upn("Zoe.O'Brien@contoso.com", "ok Zoe.O'Brien@contoso.com");
        check_upn("a!#^~_-b@x-y.example", "ok a!#^~_-b@x-y.example");
        check_upn("", "is empty; expected local@domain");
        check_upn("bob smith@x.com", "\"bob smith@x.com\" contains a space");
        check_upn("bob", "\"bob\" has no @; expected local@domain");
        check_upn("a@b@c", "\"a@b@c\" contains more than one @");
        check_upn("@x.com", "\"@x.com\" has nothing before the @");
        check_upn("bob@", "\"bob@\" has no domain after the @");
        check_upn(
            "zoë@x.com",
            "\"zoë@x.com\" contains 'ë', which Entra does not allow before the @ (allowed: A-Z a-z 0-9 ' . - _ ! # ^ ~)",
        );
        check_upn(".bob@x.com", "\".bob@x.com\" has a period at the start or just before the @");
        check_upn("bob.@x.com", "\"bob.@x.com\" has a period at the start or just before the @");
        check_upn(
            "bob@x_y.com",
            "\"bob@x_y.com\" contains '_' in the domain (allowed: letters, digits, hyphens and dots)",
        );
        check_upn("bob@x..com", "\"bob@x..com\" has an empty domain label or one that starts or ends with a hyphen");
        check_upn("bob@-x.com", "\"bob@-x.com\" has an empty domain label or one that starts or ends with a hyphen");
        let long_local = format!("{}@x.com", "a".repeat(65));
        check_upn(&long_local, &format!("\"{long_local}\" has more than 64 characters before the @"));
        let long_domain = format!("a@{}.com", "b".repeat(45));
        check_upn(&long_domain, &format!("\"{long_domain}\" has more than 48 characters after the @"));
    }

    proptest::proptest! {
        #[test]
        fn ids_from_bits_are_the_hyphenated_lowercase_hex(bits: u128) {
            let hex = format!("{bits:032x}");
            let expected = format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]);
            let id = ObjectId::from_u128(bits);
            proptest::prop_assert_eq!(id.as_str(), expected.as_str());
            proptest::prop_assert_eq!(ObjectId::parse(&expected), Ok(id));
        }
    }

    #[test]
    fn string_attributes_are_the_same_to_read_and_to_change() {
        let mut user = User::new(ObjectId::from_u128(1), UserPrincipalName::parse("a@b.c").unwrap());
        let mut strings = 0;
        for name in USER_ATTRIBUTES {
            assert_eq!(user.string_attribute(name).is_some(), user.string_attribute_mut(name).is_some(), "{name}");
            if let Some(field) = user.string_attribute_mut(name) {
                *field = Some(format!("value of {name}"));
                strings += 1;
            }
            assert_eq!(
                user.string_attribute(name).cloned().flatten(),
                user.string_attribute_mut(name).and_then(|f| f.clone())
            );
        }
        assert_eq!(strings, 14);
        assert_eq!(user.string_attribute("displayName"), Some(&Some("value of displayName".to_owned())));
        assert_eq!(user.string_attribute("accountEnabled"), None);
    }

    #[test]
    fn reserved_extension_names() {
        let mut user = User::new(ObjectId::from_u128(1), UserPrincipalName::parse("a@b.c").unwrap());
        let error = user.insert_extension("department", ExtensionValue::Bool(true)).unwrap_err();
        assert_eq!(error.to_string(), "\"department\" is a Graph attribute, not an extension attribute");
        assert_eq!(user.insert_extension("extension_abc_x", ExtensionValue::Bool(true)), Ok(None));
        assert_eq!(Group::new(ObjectId::from_u128(2), ""), Err(ModelError::EmptyDisplayName));
    }
}
