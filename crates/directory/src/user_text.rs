//! A user read straight from the JSON text of its Graph object (what [`crate::export::user_to_object`] wrote: the
//! store's rows), in one pass of serde over the text with no map in between: reading pages of users is most of what
//! a listing costs. It takes only text that [`crate::import::user_from_object`] reads the same way, and gives up
//! (`None`) on anything else (a value of the wrong type, an escaped key, an invalid id): the caller then reads the
//! text through `user_from_object`, whose errors name what is wrong.

use std::fmt;

use serde::Deserializer as _;
use serde::de::{self, MapAccess, Visitor};
use serde_json::Value;

use crate::import::{extension_value, parse_timestamp, string_field};
use crate::model::{ObjectId, User, UserPrincipalName};

/// The user the text is, or `None` when it takes [`crate::import::user_from_object`] to read it.
pub fn user_from_text(text: &str) -> Option<User> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let fields = deserializer.deserialize_map(FieldsVisitor).ok()?;
    deserializer.end().ok()?;
    fields.into_user()
}

/// The object's members, as read.
#[derive(Default)]
struct Fields<'t> {
    id: Option<&'t str>,
    upn: Option<String>,
    account_enabled: Option<bool>,
    business_phones: Option<Vec<String>>,
    manager: Option<Option<String>>,
    deleted: Option<Option<String>>,
    /// The optional string attributes and the extensions, in the order read (a repeated name: the last wins, as in
    /// a map).
    rest: Vec<(&'t str, Value)>,
}

impl Fields<'_> {
    fn into_user(self) -> Option<User> {
        let id = ObjectId::parse(self.id?).ok()?;
        let upn = UserPrincipalName::parse(self.upn.as_deref().filter(|upn| !upn.is_empty())?).ok()?;
        let mut user = User::new(id, upn);
        if let Some(enabled) = self.account_enabled {
            user.account_enabled = enabled;
        }
        if let Some(phones) = self.business_phones {
            user.business_phones = phones;
        }
        if let Some(manager) = self.manager {
            user.manager =
                manager.filter(|text| !text.is_empty()).map(|text| ObjectId::parse(&text)).transpose().ok()?;
        }
        if let Some(deleted) = self.deleted {
            let deleted = deleted.filter(|text| !text.is_empty());
            user.deleted_date_time = deleted.as_deref().map(parse_timestamp).transpose().ok()?;
        }
        for (name, value) in self.rest {
            if let Some(field) = string_field(&mut user, name) {
                *field = match value {
                    Value::Null => None,
                    Value::String(text) => Some(text).filter(|text| !text.is_empty()),
                    _ => return None,
                };
                continue;
            }
            match extension_value(&value).ok()? {
                Some(extension) => {
                    user.insert_extension(name, extension).ok()?;
                }
                None => {
                    user.remove_extension(name);
                }
            }
        }
        Some(user)
    }
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Fields<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a user's Graph object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields<'de>, A::Error> {
        let mut fields = Fields::default();
        // A borrowed key: a key with an escape fails here, and the caller reads the text the slow way.
        while let Some(name) = map.next_key::<&'de str>()? {
            match name {
                "objectType" => {
                    map.next_value::<de::IgnoredAny>()?;
                }
                "id" => fields.id = Some(map.next_value::<&'de str>()?),
                "userPrincipalName" => fields.upn = Some(map.next_value::<String>()?),
                "accountEnabled" => {
                    if let Some(enabled) = map.next_value::<Option<bool>>()? {
                        fields.account_enabled = Some(enabled);
                    }
                }
                "businessPhones" => {
                    fields.business_phones = Some(map.next_value::<Option<Vec<String>>>()?.unwrap_or_default());
                }
                "manager" => fields.manager = Some(map.next_value::<Option<String>>()?),
                "deletedDateTime" => fields.deleted = Some(map.next_value::<Option<String>>()?),
                _ => fields.rest.push((name, map.next_value::<Value>()?)),
            }
        }
        Ok(fields)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Map;

    use super::*;
    use crate::export::user_to_object;
    use crate::generate::GenerateOptions;
    use crate::import::{Position, user_from_object};

    fn slow(text: &str) -> Option<User> {
        let object: Map<String, Value> = serde_json::from_str(text).ok()?;
        user_from_object(&object, Position::User(0)).ok()
    }

    /// Whatever the fast reader takes, it reads as `user_from_object` does.
    fn check(text: &str) {
        if let Some(fast) = user_from_text(text) {
            assert_eq!(Some(fast), slow(text), "{text}");
        }
    }

    #[test]
    fn generated_users_read_as_the_slow_reader_reads_them() {
        let options = GenerateOptions { users: 300, groups: 0, members_per_group: 0, seed: 3 };
        for user in crate::model::Directory::generate(&options).users {
            let text = serde_json::to_string(&user_to_object(&user).unwrap()).unwrap();
            assert_eq!(user_from_text(&text).as_ref(), Some(&user), "{text}");
        }
    }

    #[test]
    fn odd_texts_read_the_same_or_are_left_to_the_slow_reader() {
        let id = "ec2d0d8a-3c1f-4c32-9d1b-4e0a2f3b5c6d";
        let cases = [
            format!(r#"{{"id":"{id}","userPrincipalName":"a@b.example"}}"#),
            format!(r#"{{"id":"{id}","userPrincipalName":"a@b.example","mail":"","city":null,"accountEnabled":null}}"#),
            format!(r#"{{"id":"{id}","userPrincipalName":"a@b.example","mail":"x@y","mail":"z@y"}}"#),
            format!(
                r#"{{"id":"{id}","userPrincipalName":"a@b.example","accountEnabled":false,"businessPhones":null}}"#
            ),
            format!(
                r#"{{"id":"{id}","userPrincipalName":"a@b.example","cost":1.5,"tags":["a"],"flag":true,"gone":null}}"#
            ),
            format!(r#"{{"id":"{id}","userPrincipalName":"a@b.example","nested":{{"a":1}}}}"#),
            format!(r#"{{"id":"{id}","userPrincipalName":"a@b.example","mail":5}}"#),
            format!(r#"{{"id":"{id}","userPrincipalName":"a@b.example","manager":"not-a-guid"}}"#),
            format!(
                r#"{{"id":"{id}","userPrincipalName":"a@b.example","manager":"{id}","deletedDateTime":"2026-01-01T00:00:00Z"}}"#
            ),
            format!(r#"{{"id":"{id}","userPrincipalName":"a@b.example","deletedDateTime":"yesterday"}}"#),
            format!(r#"{{"id":"{id}","userPrincipalName":"a@b.example","dis\u0070layName":"Escaped key"}}"#),
            format!(r#"{{"id":"{id}","userPrincipalName":"a@b.example","displayName":"Esc\u00e4ped value"}}"#),
            format!(r#"{{"objectType":"user","id":"{id}","userPrincipalName":""}}"#),
            format!(r#"{{"id":"{id}"}}"#),
            format!(r#"{{"id":"{}","userPrincipalName":"a@b.example"}}"#, id.to_uppercase()),
            format!(r#"{{"id":"{id}","userPrincipalName":"a@b.example"}} trailing"#),
            "[1,2]".to_owned(),
            String::new(),
        ];
        for text in &cases {
            check(text);
        }
        // The plain ones are taken, not left to the slow reader.
        for text in &cases[..5] {
            assert!(user_from_text(text).is_some(), "{text}");
        }
        assert!(user_from_text(&cases[11]).is_some(), "an escaped value is read");
    }

    proptest::proptest! {
        #[test]
        fn any_object_of_strings_reads_the_same(
            entries in proptest::collection::vec(("[a-zA-Z]{1,12}", proptest::option::of("[ -~]{0,8}")), 0..8),
        ) {
            let mut object = Map::new();
            object.insert("id".into(), Value::from("ec2d0d8a-3c1f-4c32-9d1b-4e0a2f3b5c6d"));
            object.insert("userPrincipalName".into(), Value::from("a@b.example"));
            for (name, value) in entries {
                object.insert(name, value.map_or(Value::Null, Value::from));
            }
            let text = Value::Object(object).to_string();
            check(&text);
        }
    }
}
