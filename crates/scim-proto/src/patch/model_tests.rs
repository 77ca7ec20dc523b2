//! Property test: random sequences of simple PATCH operations, applied to a random user, give what a small,
//! independent model of the user predicts ("PATCH followed by GET equals what a simple model expects").

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::{apply_patch, parse_patch};
use crate::schema::USER;

/// The user as the model sees it: a few optional strings and a list of (type, value) e-mails.
#[derive(Debug, Clone, Default)]
struct Model {
    display_name: Option<String>,
    nick_name: Option<String>,
    title: Option<String>,
    given_name: Option<String>,
    emails: Vec<(String, String)>,
}

/// A single-valued string attribute the operations touch.
#[derive(Debug, Clone, Copy)]
enum Field {
    DisplayName,
    NickName,
    Title,
    GivenName,
}

/// One operation, in the model's terms.
#[derive(Debug, Clone)]
enum Op {
    Set { field: Field, replace: bool, value: String },
    Remove(Field),
    AddEmail(String, String),
    SetEmailOfType(String, String),
    RemoveEmailsOfType(String),
    RemoveAllEmails,
    ReplaceAllEmails(Vec<(String, String)>),
}

impl Field {
    fn path(self) -> &'static str {
        match self {
            Field::DisplayName => "displayName",
            Field::NickName => "nickName",
            Field::Title => "title",
            Field::GivenName => "name.givenName",
        }
    }

    fn slot(self, model: &mut Model) -> &mut Option<String> {
        match self {
            Field::DisplayName => &mut model.display_name,
            Field::NickName => &mut model.nick_name,
            Field::Title => &mut model.title,
            Field::GivenName => &mut model.given_name,
        }
    }
}

impl Model {
    /// What the model expects after `op`.
    fn apply(&mut self, op: &Op) {
        match op {
            Op::Set { field, value, .. } => *field.slot(self) = Some(value.clone()),
            Op::Remove(field) => *field.slot(self) = None,
            Op::AddEmail(kind, value) => {
                let email = (kind.clone(), value.clone());
                if !self.emails.contains(&email) {
                    self.emails.push(email);
                }
            }
            Op::SetEmailOfType(kind, value) => {
                if self.emails.iter().any(|(existing, _)| existing == kind) {
                    for email in self.emails.iter_mut().filter(|(existing, _)| existing == kind) {
                        email.1.clone_from(value);
                    }
                    // Elements made equal by the replacement collapse into one.
                    let mut seen = Vec::new();
                    self.emails.retain(|email| {
                        let first = !seen.contains(email);
                        seen.push(email.clone());
                        first
                    });
                } else {
                    self.emails.push((kind.clone(), value.clone()));
                }
            }
            Op::RemoveEmailsOfType(kind) => self.emails.retain(|(existing, _)| existing != kind),
            Op::RemoveAllEmails => self.emails.clear(),
            Op::ReplaceAllEmails(emails) => {
                self.emails.clear();
                for email in emails {
                    if !self.emails.contains(email) {
                        self.emails.push(email.clone());
                    }
                }
            }
        }
    }

    /// The canonical resource the model describes.
    fn to_resource(&self) -> Map<String, Value> {
        let mut out = Map::new();
        out.insert("schemas".into(), json!(["urn:ietf:params:scim:schemas:core:2.0:User"]));
        out.insert("id".into(), json!("u1"));
        out.insert("userName".into(), json!("bjensen"));
        for (key, value) in [("displayName", &self.display_name), ("nickName", &self.nick_name), ("title", &self.title)]
        {
            if let Some(value) = value {
                out.insert(key.into(), json!(value));
            }
        }
        if let Some(given_name) = &self.given_name {
            out.insert("name".into(), json!({"givenName": given_name}));
        }
        if !self.emails.is_empty() {
            let emails: Vec<Value> =
                self.emails.iter().map(|(kind, value)| json!({"type": kind, "value": value})).collect();
            out.insert("emails".into(), Value::Array(emails));
        }
        out
    }
}

/// The operation as a PATCH operation object.
fn to_json(op: &Op) -> Value {
    let email = |(kind, value): &(String, String)| json!({"type": kind, "value": value});
    match op {
        Op::Set { field, replace, value } => {
            json!({"op": if *replace { "Replace" } else { "add" }, "path": field.path(), "value": value})
        }
        Op::Remove(field) => json!({"op": "remove", "path": field.path()}),
        Op::AddEmail(kind, value) => {
            json!({"op": "add", "path": "emails", "value": [email(&(kind.clone(), value.clone()))]})
        }
        Op::SetEmailOfType(kind, value) => {
            json!({"op": "replace", "path": format!("emails[type eq \"{kind}\"].value"), "value": value})
        }
        Op::RemoveEmailsOfType(kind) => json!({"op": "remove", "path": format!("emails[type eq \"{kind}\"]")}),
        Op::RemoveAllEmails => json!({"op": "remove", "path": "emails"}),
        Op::ReplaceAllEmails(emails) => {
            json!({"op": "replace", "path": "emails", "value": emails.iter().map(email).collect::<Vec<_>>()})
        }
    }
}

fn text() -> impl Strategy<Value = String> {
    "[a-c]{1,2}"
}

fn kind() -> impl Strategy<Value = String> {
    prop_oneof![Just("work".to_owned()), Just("home".to_owned())]
}

fn email() -> impl Strategy<Value = (String, String)> {
    (kind(), "[ab]@x")
}

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![Just(Field::DisplayName), Just(Field::NickName), Just(Field::Title), Just(Field::GivenName)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (field(), any::<bool>(), text()).prop_map(|(field, replace, value)| Op::Set { field, replace, value }),
        field().prop_map(Op::Remove),
        email().prop_map(|(kind, value)| Op::AddEmail(kind, value)),
        (kind(), "[ab]@x").prop_map(|(kind, value)| Op::SetEmailOfType(kind, value)),
        kind().prop_map(Op::RemoveEmailsOfType),
        Just(Op::RemoveAllEmails),
        prop::collection::vec(email(), 0..3).prop_map(Op::ReplaceAllEmails),
    ]
}

fn model() -> impl Strategy<Value = Model> {
    (
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(text()),
        prop::collection::vec(email(), 0..3),
    )
        .prop_map(|(display_name, nick_name, title, given_name, emails)| {
            let mut model = Model { display_name, nick_name, title, given_name, emails: Vec::new() };
            model.apply(&Op::ReplaceAllEmails(emails));
            model
        })
}

proptest! {
    #[test]
    fn patch_then_get_equals_the_model(start in model(), ops in prop::collection::vec(op(), 1..8), one_body in any::<bool>()) {
        let mut expected = start.clone();
        let mut resource = start.to_resource();
        let bodies: Vec<Vec<&Op>> = if one_body { vec![ops.iter().collect()] } else { ops.iter().map(|op| vec![op]).collect() };
        for batch in bodies {
            let body = json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": batch.iter().map(|op| to_json(op)).collect::<Vec<_>>(),
            });
            let parsed = parse_patch(&body, &USER).map_err(|error| TestCaseError::fail(error.to_string()))?;
            apply_patch(&mut resource, &parsed, &USER).map_err(|error| TestCaseError::fail(error.to_string()))?;
            for op in batch {
                expected.apply(op);
            }
        }
        prop_assert_eq!(Value::Object(resource), Value::Object(expected.to_resource()));
    }
}

/// Arbitrary JSON built from the names and shapes PATCH bodies use, so that random operations reach deep into the
/// parser and the applier.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..3).prop_map(|n| json!(n)),
        prop_oneof![Just("work"), Just("True"), Just("u1"), Just("2020-01-01T00:00:00Z"), Just("TQ=="), Just("")]
            .prop_map(|text| json!(text)),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..4).prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// Keys and paths: attribute names in odd cases, dotted, URN-qualified, filtered, read-only and unknown.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("value"),
        Just("type"),
        Just("primary"),
        Just("display"),
        Just("userName"),
        Just("DISPLAYNAME"),
        Just("name.givenName"),
        Just("emails"),
        Just("emails.value"),
        Just("emails[type eq \"work\"]"),
        Just("emails[type eq \"work\"].value"),
        Just("emails[value pr or type sw \"h\"].primary"),
        Just("id"),
        Just("meta.created"),
        Just("groups"),
        Just("manager"),
        Just("password"),
        Just("active"),
        Just("nope"),
        Just("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
        Just("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"),
        Just("urn:ietf:params:scim:schemas:core:2.0:User:emails"),
        Just("urn:x:y"),
        Just("x509Certificates"),
    ]
    .prop_map(str::to_owned)
}

fn operation() -> impl Strategy<Value = Value> {
    (
        prop_oneof![Just("add"), Just("Replace"), Just("REMOVE"), Just("move")],
        prop::option::of(key()),
        prop::option::of(json_value()),
    )
        .prop_map(|(op, path, value)| {
            let mut object = Map::new();
            object.insert("op".into(), json!(op));
            if let Some(path) = path {
                object.insert("path".into(), json!(path));
            }
            if let Some(value) = value {
                object.insert("value".into(), value);
            }
            Value::Object(object)
        })
}

/// Whether a value holds no `null`, empty array or empty object at any depth.
fn is_canonical(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Array(items) => !items.is_empty() && items.iter().all(is_canonical),
        Value::Object(map) => !map.is_empty() && map.values().all(is_canonical),
        _ => true,
    }
}

proptest! {
    /// The in-tree counterpart of `fuzz/fuzz_targets/patch_body.rs`: never panics, a failed PATCH changes nothing,
    /// a successful one leaves the resource canonical.
    #[test]
    fn random_bodies_keep_the_resource_canonical(ops in prop::collection::vec(operation(), 0..5)) {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
        let start = Model {
            display_name: Some("d".into()),
            given_name: Some("g".into()),
            emails: vec![("work".into(), "a@x".into())],
            ..Model::default()
        }
        .to_resource();
        let mut resource = start.clone();
        if let Ok(parsed) = parse_patch(&body, &USER) {
            match apply_patch(&mut resource, &parsed, &USER) {
                Ok(()) => {
                    prop_assert_eq!(
                        resource.get("schemas").and_then(|schemas| schemas.get(0)),
                        Some(&json!("urn:ietf:params:scim:schemas:core:2.0:User"))
                    );
                    prop_assert!(resource.values().all(is_canonical), "not canonical: {}", Value::Object(resource.clone()));
                    prop_assert!(crate::resource::at_most_one_primary(&resource, &USER).is_ok());
                }
                Err(_) => prop_assert_eq!(&resource, &start),
            }
        }
    }
}
