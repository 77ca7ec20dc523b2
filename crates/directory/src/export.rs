//! Writers for the three import formats; reading what they write gives back the same directory
//! (for CSV: the same users, as long as every extension value is a non-empty string and no business
//! phone number is empty, contains `;` or has spaces around it).

use std::collections::BTreeSet;
use std::io::{self, Write};

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;

use crate::model::{Directory, ExtensionValue, Group, USER_ATTRIBUTES, User};

/// Writes `{"users": [...], "groups": [...]}`, pretty-printed, with a final newline.
pub fn write_json(directory: &Directory, mut writer: impl Write) -> io::Result<()> {
    let mut top = Map::new();
    let users =
        directory.users.iter().map(|user| user_object(user, false).map(Value::Object)).collect::<io::Result<_>>()?;
    top.insert("users".to_owned(), Value::Array(users));
    let groups = directory.groups.iter().map(|group| Value::Object(group_object(group, false))).collect();
    top.insert("groups".to_owned(), Value::Array(groups));
    serde_json::to_writer_pretty(&mut writer, &Value::Object(top))?;
    writer.write_all(b"\n")
}

/// Writes one object a line, users first, each with its `objectType`.
pub fn write_jsonl(directory: &Directory, mut writer: impl Write) -> io::Result<()> {
    for user in &directory.users {
        serde_json::to_writer(&mut writer, &user_object(user, true)?)?;
        writer.write_all(b"\n")?;
    }
    for group in &directory.groups {
        serde_json::to_writer(&mut writer, &group_object(group, true))?;
        writer.write_all(b"\n")?;
    }
    Ok(())
}

/// Writes users as CSV: the Graph attributes in [`USER_ATTRIBUTES`] order, then one column per
/// extension attribute name, sorted. Absent values are empty cells, `businessPhones` is joined with
/// `;`, and extension values that are not strings are written as text (a list joined with `;`).
pub fn write_csv(users: &[User], writer: impl Write) -> io::Result<()> {
    let extension_names: BTreeSet<&str> =
        users.iter().flat_map(|user| user.extensions().keys().map(String::as_str)).collect();
    let mut csv_writer = csv::Writer::from_writer(writer);
    let header = USER_ATTRIBUTES.iter().copied().chain(extension_names.iter().copied());
    csv_writer.write_record(header).map_err(io::Error::other)?;
    for user in users {
        let mut row: Vec<String> = Vec::with_capacity(USER_ATTRIBUTES.len() + extension_names.len());
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        row.push(user.id().to_string());
        row.push(user.user_principal_name().to_string());
        row.push(text(&user.mail));
        row.push(text(&user.mail_nickname));
        row.push(text(&user.display_name));
        row.push(text(&user.given_name));
        row.push(text(&user.surname));
        row.push(user.account_enabled.to_string());
        row.push(text(&user.department));
        row.push(text(&user.job_title));
        row.push(text(&user.employee_id));
        row.push(text(&user.company_name));
        row.push(text(&user.country));
        row.push(text(&user.city));
        row.push(text(&user.office_location));
        row.push(text(&user.mobile_phone));
        row.push(user.business_phones.join(";"));
        row.push(text(&user.preferred_language));
        row.push(user.manager.as_ref().map(ToString::to_string).unwrap_or_default());
        row.push(match user.deleted_date_time {
            Some(deleted) => format_timestamp(deleted)?,
            None => String::new(),
        });
        for name in &extension_names {
            row.push(match user.extensions().get(*name) {
                None => String::new(),
                Some(ExtensionValue::String(text)) => text.clone(),
                Some(ExtensionValue::Bool(flag)) => flag.to_string(),
                Some(ExtensionValue::Number(number)) => number.to_string(),
                Some(ExtensionValue::List(items)) => items.join(";"),
            });
        }
        csv_writer.write_record(&row).map_err(io::Error::other)?;
    }
    csv_writer.flush()
}

/// A user as its Graph JSON object, as the writers write it but without `objectType`: `id`, `userPrincipalName`,
/// the attributes that are present in [`USER_ATTRIBUTES`] order (`accountEnabled` always), then the extension
/// attributes by name. The same user always gives the same object, key order included, so that two serialized
/// objects are equal exactly when the users are; [`crate::import::user_from_object`] reads it back.
///
/// Fails only for a `deletedDateTime` that RFC 3339 cannot express (a year before 0 or after 9999).
pub fn user_to_object(user: &User) -> io::Result<Map<String, Value>> {
    user_object(user, false)
}

/// A group as its Graph JSON object, as the writers write it but without `objectType`: `id`, `displayName`, the
/// attributes that are present, then `members` (a list of ids, in the group's order);
/// [`crate::import::group_from_object`] reads it back.
pub fn group_to_object(group: &Group) -> Map<String, Value> {
    group_object(group, false)
}

fn format_timestamp(timestamp: time::OffsetDateTime) -> io::Result<String> {
    timestamp.format(&Rfc3339).map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))
}

fn user_object(user: &User, with_object_type: bool) -> io::Result<Map<String, Value>> {
    let mut object = Map::with_capacity(USER_ATTRIBUTES.len() + 1 + user.extensions().len());
    if with_object_type {
        object.insert("objectType".to_owned(), Value::from("user"));
    }
    for name in USER_ATTRIBUTES {
        if let Some(value) = user_property(user, name)? {
            object.insert((*name).to_owned(), value);
        }
    }
    for (name, value) in user.extensions() {
        object.insert(name.clone(), extension_value(value));
    }
    Ok(object)
}

/// One property of a user's Graph JSON object (as [`user_to_object`] has it), by its exact name: an attribute of
/// [`USER_ATTRIBUTES`] or an extension; `None` when the user has no value.
pub fn user_property(user: &User, name: &str) -> io::Result<Option<Value>> {
    if let Some(value) = user.string_attribute(name) {
        return Ok(value.as_deref().map(Value::from));
    }
    Ok(match name {
        "id" => Some(Value::from(user.id().as_str())),
        "userPrincipalName" => Some(Value::from(user.user_principal_name().as_str())),
        "accountEnabled" => Some(Value::Bool(user.account_enabled)),
        "businessPhones" => (!user.business_phones.is_empty())
            .then(|| Value::Array(user.business_phones.iter().map(|phone| Value::from(phone.as_str())).collect())),
        "manager" => user.manager.as_ref().map(|manager| Value::from(manager.as_str())),
        "deletedDateTime" => user.deleted_date_time.map(format_timestamp).transpose()?.map(Value::from),
        other => user.extensions().get(other).map(extension_value),
    })
}

fn extension_value(value: &ExtensionValue) -> Value {
    match value {
        ExtensionValue::String(text) => Value::from(text.as_str()),
        ExtensionValue::Bool(flag) => Value::Bool(*flag),
        ExtensionValue::Number(number) => Value::Number(number.clone()),
        ExtensionValue::List(items) => Value::Array(items.iter().map(|item| Value::from(item.as_str())).collect()),
    }
}

fn group_object(group: &Group, with_object_type: bool) -> Map<String, Value> {
    let mut object = Map::new();
    if with_object_type {
        object.insert("objectType".to_owned(), Value::from("group"));
    }
    object.insert("id".to_owned(), Value::from(group.id().as_str()));
    object.insert("displayName".to_owned(), Value::from(group.display_name()));
    if let Some(nickname) = &group.mail_nickname {
        object.insert("mailNickname".to_owned(), Value::from(nickname.as_str()));
    }
    if let Some(description) = &group.description {
        object.insert("description".to_owned(), Value::from(description.as_str()));
    }
    if let Some(flag) = group.security_enabled {
        object.insert("securityEnabled".to_owned(), Value::Bool(flag));
    }
    let members = group.members.iter().map(|member| Value::from(member.as_str())).collect();
    object.insert("members".to_owned(), Value::Array(members));
    object
}
