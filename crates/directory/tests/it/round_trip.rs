//! Write then read gives the same directory, for random directories, in every format.

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use roster_directory::model::USER_ATTRIBUTES;
use roster_directory::{Directory, ExtensionValue, Group, ObjectId, User, UserPrincipalName, export, import};
use time::OffsetDateTime;

fn object_id() -> impl Strategy<Value = ObjectId> {
    any::<u128>().prop_map(ObjectId::from_u128)
}

fn upn() -> impl Strategy<Value = UserPrincipalName> {
    "[a-zA-Z0-9'_!#^~-][a-zA-Z0-9'._!#^~-]{0,20}[a-zA-Z0-9]@[a-z0-9]{1,10}(\\.[a-z]{2,6}){1,2}"
        .prop_map(|text| UserPrincipalName::parse(&text).unwrap())
}

/// Any non-empty text without control characters.
fn text() -> impl Strategy<Value = String> {
    "\\PC{1,16}"
}

fn phone() -> impl Strategy<Value = String> {
    "[0-9+(][0-9 ()+-]{0,12}[0-9]"
}

fn timestamp() -> impl Strategy<Value = OffsetDateTime> {
    (0i64..4_000_000_000, -86_399i64..86_400).prop_map(|(seconds, offset_seconds)| {
        let offset = time::UtcOffset::from_whole_seconds(i32::try_from(offset_seconds / 60 * 60).unwrap()).unwrap();
        OffsetDateTime::from_unix_timestamp(seconds).unwrap().to_offset(offset)
    })
}

fn extension_name() -> impl Strategy<Value = String> {
    prop_oneof!["extension_[0-9a-f]{32}_[a-zA-Z]{1,10}", "\\PC{1,12}"]
        .prop_filter("not a Graph attribute", |name| name != "objectType" && !USER_ATTRIBUTES.contains(&name.as_str()))
}

fn extension_value(csv_only: bool) -> BoxedStrategy<ExtensionValue> {
    if csv_only {
        return text().prop_map(ExtensionValue::String).boxed();
    }
    prop_oneof![
        "\\PC{0,16}".prop_map(ExtensionValue::String),
        any::<bool>().prop_map(ExtensionValue::Bool),
        any::<i64>().prop_map(|number| ExtensionValue::Number(number.into())),
        any::<f64>().prop_filter_map("finite", serde_json::Number::from_f64).prop_map(ExtensionValue::Number),
        vec("\\PC{0,8}", 0..4).prop_map(ExtensionValue::List),
    ]
    .boxed()
}

fn user(csv_only: bool) -> impl Strategy<Value = User> {
    let names = (
        option::of(text()),
        option::of(text()),
        option::of(text()),
        option::of(text()),
        option::of(text()),
        option::of(text()),
        option::of(text()),
        option::of(text()),
    );
    let places = (
        option::of(text()),
        option::of(text()),
        option::of(text()),
        option::of(text()),
        option::of(text()),
        option::of(text()),
        vec(phone(), 0..3),
    );
    let rest = (
        object_id(),
        upn(),
        any::<bool>(),
        option::of(object_id()),
        option::of(timestamp()),
        btree_map(extension_name(), extension_value(csv_only), 0..3),
    );
    (names, places, rest).prop_map(|(names, places, rest)| {
        let (id, upn, enabled, manager, deleted, extensions) = rest;
        let mut user = User::new(id, upn);
        (
            user.mail,
            user.mail_nickname,
            user.display_name,
            user.given_name,
            user.surname,
            user.department,
            user.job_title,
            user.employee_id,
        ) = names;
        (
            user.company_name,
            user.country,
            user.city,
            user.office_location,
            user.mobile_phone,
            user.preferred_language,
            user.business_phones,
        ) = places;
        user.account_enabled = enabled;
        user.manager = manager;
        user.deleted_date_time = deleted;
        for (name, value) in extensions {
            user.insert_extension(&name, value).unwrap();
        }
        user
    })
}

fn group() -> impl Strategy<Value = Group> {
    (object_id(), text(), option::of(text()), option::of(text()), option::of(any::<bool>()), vec(object_id(), 0..5))
        .prop_map(|(id, display_name, nickname, description, security, members)| {
            let mut group = Group::new(id, &display_name).unwrap();
            group.mail_nickname = nickname;
            group.description = description;
            group.security_enabled = security;
            group.members = members;
            group
        })
}

/// Ids are unique within a file.
fn distinct_ids(directory: &Directory) -> bool {
    let mut ids: Vec<&ObjectId> =
        directory.users.iter().map(User::id).chain(directory.groups.iter().map(Group::id)).collect();
    let count = ids.len();
    ids.sort();
    ids.dedup();
    ids.len() == count
}

fn directory() -> impl Strategy<Value = Directory> {
    (vec(user(false), 0..6), vec(group(), 0..4))
        .prop_map(|(users, groups)| Directory { users, groups })
        .prop_filter("distinct ids", distinct_ids)
}

fn csv_directory() -> impl Strategy<Value = Directory> {
    vec(user(true), 0..6)
        .prop_map(|users| Directory { users, groups: Vec::new() })
        .prop_filter("distinct ids", distinct_ids)
}

proptest! {
    #[test]
    fn json_round_trips(directory in directory()) {
        let mut bytes = Vec::new();
        export::write_json(&directory, &mut bytes).unwrap();
        prop_assert_eq!(import::read_json(&bytes[..]).unwrap(), directory);
    }

    #[test]
    fn jsonl_round_trips(directory in directory()) {
        let mut bytes = Vec::new();
        export::write_jsonl(&directory, &mut bytes).unwrap();
        prop_assert_eq!(import::read_jsonl(&bytes[..]).unwrap(), directory);
    }

    #[test]
    fn csv_round_trips(directory in csv_directory()) {
        let mut bytes = Vec::new();
        export::write_csv(&directory.users, &mut bytes).unwrap();
        prop_assert_eq!(import::read_csv(&bytes[..]).unwrap(), directory);
    }
}

proptest! {
    /// The per-object conversions a store keeps users and groups with: object then user is the identity, and the
    /// same user always serializes to the same text (so that comparing stored text detects an unchanged user).
    #[test]
    fn objects_round_trip(directory in directory()) {
        for user in &directory.users {
            let object = export::user_to_object(user).unwrap();
            prop_assert_eq!(&import::user_from_object(&object, import::Position::User(0)).unwrap(), user);
            let again = export::user_to_object(&user.clone()).unwrap();
            prop_assert_eq!(serde_json::to_string(&object).unwrap(), serde_json::to_string(&again).unwrap());
        }
        for group in &directory.groups {
            let object = export::group_to_object(group);
            prop_assert_eq!(&import::group_from_object(&object, import::Position::Group(0)).unwrap(), group);
        }
    }
}
