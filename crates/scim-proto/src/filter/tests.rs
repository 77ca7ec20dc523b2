//! Evaluation tables against a fixture user, and property tests across the parser, printer and evaluator.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::*;
use crate::schema::{AttrType, EMAILS_SUB, GROUP, USER};

fn fixture() -> Map<String, Value> {
    let user = json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "BJensen-Ext",
        "userName": "BJensen@Example.com",
        "name": {"familyName": "O'Malley", "givenName": "Barbara", "formatted": "Ms. Barbara J Jensen III"},
        "displayName": "Bäbs Jensen",
        "title": "Tour Guide",
        "userType": "Employee",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "ims": [{"value": "someaimhandle", "type": "aim"}],
        "addresses": [{"type": "work", "streetAddress": "", "locality": "Hollywood"}],
        "x509Certificates": [{"value": "TUlJRERE"}],
        "meta": {
            "resourceType": "User",
            "created": "2010-01-23T04:56:22Z",
            "lastModified": "2011-05-13T04:42:34Z",
            "version": "W/\"a330bc54f0671c9\""
        },
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "701984",
            "costCenter": "4130",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
        }
    });
    let Value::Object(user) = user else { unreachable!() };
    user
}

/// Evaluates `input` against the fixture user both ways (compiled and one-off) and compares the answer.
fn check(input: &str, expected: bool) {
    let filter = Filter::parse(input).unwrap();
    let user = fixture();
    let compiled = filter.compile(&USER).unwrap_or_else(|error| panic!("{input}: {error}"));
    assert_eq!(compiled.matches(&user), expected, "compiled: {input}");
    assert_eq!(filter.matches(&user, &USER), expected, "one-off: {input}");
}

#[test]
fn rfc_examples() {
    check(r#"userName eq "bjensen@example.com""#, true);
    check(r#"name.familyName co "O'Malley""#, true);
    check(r#"userName sw "J""#, false);
    check(r#"userName sw "b""#, true);
    check(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "BJ""#, true);
    check("title pr", true);
    check(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, false);
    check(r#"meta.lastModified ge "2011-05-13T04:42:34Z""#, true);
    check(r#"meta.lastModified lt "2011-05-13T04:42:34Z""#, false);
    check(r#"meta.lastModified le "2011-05-13T04:42:34Z""#, true);
    check(r#"title pr and userType eq "Employee""#, true);
    check(r#"title pr or userType eq "Intern""#, true);
    check(r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#, true);
    check(r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#, true);
    check(r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#, false);
    check(r#"userType eq "Employee" and (emails.type eq "work")"#, true);
    check(r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#, true);
    check(r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#, true);
    check(r#"emails[type eq "home" and value co "@example.com"] or ims[type eq "xmpp"]"#, false);
}

#[test]
fn strings_and_case() {
    check(r#"userName eq "BJENSEN@example.COM""#, true);
    check(r#"userName co "@EXAMPLE.""#, true);
    check(r#"userName ew ".COM""#, true);
    check(r#"userName gt "bjensen@example.co""#, true);
    check(r#"userName lt "bjensen@example.co""#, false);
    check(r#"userName co """#, true);
    check(r#"displayName eq "BÄBS JENSEN""#, true);
    check(r#"displayName sw "bä""#, true);
    check(r#"externalId eq "bjensen-ext""#, false);
    check(r#"externalId eq "BJensen-Ext""#, true);
    check(r#"id sw "2819C223""#, false);
    check(r#"meta.version eq "W/\"a330bc54f0671c9\"""#, true);
    check(r#"x509Certificates eq "tulJRERE""#, false);
    check(r#"x509Certificates eq "TUlJRERE""#, true);
}

#[test]
fn multi_valued_and_value_filters() {
    check(r#"emails co "jensen.org""#, true);
    check(r#"emails.type eq "home""#, true);
    check(r#"emails.type ne "work""#, false);
    check(r#"emails.type ne "other""#, true);
    check(r#"emails[type eq "home" and primary eq true]"#, false);
    check(r#"emails[type eq "work" and primary eq true]"#, true);
    check(r#"emails[not (primary eq true)]"#, true);
    check(r#"emails[primary eq null]"#, true);
    check(r#"emails[primary pr and type eq "home"]"#, false);
    check(r#"name[givenName sw "bar"]"#, true);
    check(r#"phoneNumbers[type eq "work"]"#, false);
    check(r#"not (phoneNumbers[type eq "work"])"#, true);
}

#[test]
fn presence_and_null() {
    check("emails pr", true);
    check("phoneNumbers pr", false);
    check("phoneNumbers eq null", true);
    check("phoneNumbers ne null", false);
    check("title eq null", false);
    check("title ne null", true);
    check("nickName pr", false);
    check("addresses.streetAddress pr", false);
    check("addresses.locality pr", true);
    check("addresses pr", true);
    check("active pr", true);
    check("name pr", true);
    check(r#"nickName ne "x""#, true);
    check(r#"nickName eq "x""#, false);
}

#[test]
fn booleans_numbers_dates() {
    check("active eq true", true);
    check("active eq false", false);
    check("active ne false", true);
    check("emails.primary eq true", true);
    check(r#"meta.created eq "2010-01-23T05:56:22+01:00""#, true);
    check(r#"meta.created lt "2010-01-23T04:56:22.001Z""#, true);
    check(r#"meta.created gt "2010-01-23T04:56:22.001Z""#, false);
    check(r#"meta.created ne "2010-01-23T04:56:22Z""#, false);
}

#[test]
fn extension_attributes() {
    check(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#, true);
    check(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1""#, false);
    check(
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "26118915-6090-4610-87e4-49d8ca9f808d""#,
        true,
    );
    check(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName sw "john""#, true);
    check("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department pr", false);
    check(r#"URN:IETF:params:scim:schemas:extension:enterprise:2.0:user:COSTCENTER eq "4130""#, true);
}

#[test]
fn case_insensitive_keys_and_mismatched_values() {
    let user = json!({"USERNAME": "x", "Active": "true", "meta": {"created": "yesterday"}, "emails": "a@b.c", "x": 1});
    let Value::Object(user) = user else { unreachable!() };
    let check = |input: &str, expected: bool| {
        assert_eq!(Filter::parse(input).unwrap().matches(&user, &USER), expected, "{input}");
    };
    check(r#"userName eq "X""#, true);
    check("active eq true", false);
    check("active pr", true);
    check(r#"meta.created lt "2030-01-01T00:00:00Z""#, false);
    check(r#"emails.value eq "a@b.c""#, false);
    check("x eq 1", false);
    check("not (x eq 1)", true);
    check(r#"schemas eq "urn:ietf:params:scim:schemas:core:2.0:User""#, true);
    check(r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#, false);
}

#[test]
fn numbers_compare_by_value() {
    // No integer or decimal attribute exists in the RFC schemas, so compare through a value filter on a
    // hand-made attribute of simple integer values.
    static SCORES: AttributeDef = AttributeDef::new("scores", AttrType::Integer).multi();
    let check = |input: &str, element: Value, expected: bool| {
        let filter = Filter::parse(input).unwrap();
        let compiled = filter.compile_element(&SCORES).unwrap();
        assert_eq!(compiled.matches(&element), expected, "{input} on {element}");
        assert_eq!(filter.matches_element(&element, &SCORES), expected, "{input} on {element}");
    };
    check("value eq 1", json!(1), true);
    check("value eq 1.0", json!(1), true);
    check("value gt 0.5", json!(1), true);
    check("value lt -1", json!(-2), true);
    check("value gt 18446744073709551614", json!(u64::MAX), true);
    check("value gt -9223372036854775808", json!(u64::MAX), true);
    check("value eq 1", json!("1"), false);
    check("value ne 1", json!("1"), true);
    assert_eq!(
        Filter::parse(r#"value co "1""#).unwrap().compile_element(&SCORES).unwrap_err().detail,
        "'co' cannot compare the integer attribute 'value'; use eq, ne, gt, ge, lt or le"
    );
}

#[test]
fn element_filters() {
    let emails = USER.attribute(None, "emails").unwrap().def;
    let check = |input: &str, element: Value, expected: bool| {
        let filter = Filter::parse(input).unwrap();
        assert_eq!(filter.compile_element(emails).unwrap().matches(&element), expected, "{input} on {element}");
        assert_eq!(filter.matches_element(&element, emails), expected, "{input} on {element}");
    };
    check(r#"type eq "WORK""#, json!({"type": "work"}), true);
    check(r#"type eq "work" and primary eq true"#, json!({"type": "work"}), false);
    check(r#"value ew "@example.com""#, json!({"value": "A@Example.COM"}), true);
    check("primary pr", json!({"type": "work"}), false);
    check(r#"type eq "work""#, json!("work"), false);
    assert_eq!(EMAILS_SUB.len(), 4);
    let members = GROUP.attribute(None, "members").unwrap().def;
    let filter = Filter::parse(r#"value eq "ABC""#).unwrap();
    assert!(!filter.matches_element(&json!({"value": "abc"}), members), "members.value is case-exact");
    assert!(filter.matches_element(&json!({"value": "ABC"}), members));
    assert!(!Filter::parse("nope pr").unwrap().matches_element(&json!({"nope": 1}), members));
    assert!(Filter::parse("not (nope pr)").unwrap().matches_element(&json!({"nope": 1}), members));
}

#[test]
fn unknown_attributes_never_match() {
    let user = fixture();
    let matches = |input: &str| Filter::parse(input).unwrap().matches(&user, &USER);
    assert!(!matches("nope pr"));
    assert!(matches("nope pr or title pr"));
    assert!(!matches(r#"active eq "true""#));
    assert!(!matches("userName.x pr"));
    assert!(!matches("userName[value pr]"));
}

#[test]
fn deep_trees_do_not_exhaust_the_stack() {
    let chain = vec!["title pr"; MAX_HEIGHT].join(" and ");
    let filter = Filter::parse(&chain).unwrap();
    let printed = filter.to_string();
    assert_eq!(Filter::parse(&printed).as_ref(), Ok(&filter));
    assert!(filter.compile(&USER).unwrap().matches(&fixture()));
    let nested = format!("{}title pr{}", "not (".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
    let filter = Filter::parse(&nested).unwrap();
    assert!(filter.matches(&fixture(), &USER));
}

#[test]
fn errors_convert_to_invalid_filter() {
    let error: crate::ScimError = Filter::parse("userName eqq 1").unwrap_err().into();
    assert_eq!(error.status, 400);
    assert_eq!(error.scim_type, Some(crate::ScimType::InvalidFilter));
    assert!(error.detail.starts_with("at column 10: expected a comparison operator"), "{}", error.detail);
}

/// Names, including keywords, which are valid attribute names too.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z][a-zA-Z0-9_-]{0,8}",
        Just("$ref".to_owned()),
        Just("not".to_owned()),
        Just("and".to_owned()),
        Just("OR".to_owned()),
        Just("pr".to_owned()),
        Just("eq".to_owned()),
        Just("true".to_owned()),
    ]
}

fn attr_path() -> impl Strategy<Value = AttrPath> {
    let urn = prop_oneof![
        Just("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".to_owned()),
        Just("urn:ietf:params:scim:schemas:core:2.0:User".to_owned()),
        "[a-z][a-z0-9.:-]{0,12}",
    ];
    (proptest::option::weighted(0.2, urn), name(), proptest::option::weighted(0.3, name()))
        .prop_map(|(urn, name, sub_attr)| AttrPath { urn, name, sub_attr })
}

fn comp_value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        Just(CompValue::Null),
        any::<bool>().prop_map(CompValue::Bool),
        any::<i64>().prop_map(|n| CompValue::Number(n.into())),
        any::<u64>().prop_map(|n| CompValue::Number(n.into())),
        any::<f64>().prop_filter_map("finite", |n| serde_json::Number::from_f64(n).map(CompValue::Number)),
        any::<String>().prop_map(CompValue::String),
        "[\"'\\\\/ a-z\u{0}-\u{1f}\u{7f}\u{2028}é😀]{0,10}".prop_map(CompValue::String),
    ]
}

fn op() -> impl Strategy<Value = CompareOp> {
    use CompareOp::*;
    prop::sample::select(vec![Eq, Ne, Co, Sw, Ew, Gt, Ge, Lt, Le])
}

/// Filters without value paths (the inside of a value filter) when `value_paths` is false.
fn filter(value_paths: bool) -> BoxedStrategy<Filter> {
    let leaf = prop_oneof![
        (attr_path(), op(), comp_value()).prop_map(|(path, op, value)| Filter::Compare(Comparison { path, op, value })),
        attr_path().prop_map(Filter::Present),
    ];
    leaf.prop_recursive(6, 48, 2, move |inner| {
        let mut choices = vec![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))).boxed(),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))).boxed(),
            inner.prop_map(|a| Filter::Not(Box::new(a))).boxed(),
        ];
        if value_paths {
            choices.push(
                (attr_path(), filter(false)).prop_map(|(path, inner)| Filter::ValuePath(path, Box::new(inner))).boxed(),
            );
        }
        proptest::strategy::Union::new(choices)
    })
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn printing_round_trips(filter in filter(true)) {
        let printed = filter.to_string();
        prop_assert_eq!(Filter::parse(&printed), Ok(filter), "printed: {}", printed);
    }

    #[test]
    fn parsing_never_panics(input in any::<String>()) {
        if let Ok(filter) = Filter::parse(&input) {
            prop_assert_eq!(Filter::parse(&filter.to_string()), Ok(filter.clone()));
            let _ = filter.check(&USER);
            let _ = filter.matches(&fixture(), &USER);
        }
    }

    #[test]
    fn parsing_filter_like_text_never_panics(input in "([a-z.:\\[\\]()\"' \\\\]|eq|and|or|not|pr|emails|type|1|-|e|true|null|\u{e9}){0,30}") {
        if let Ok(filter) = Filter::parse(&input) {
            prop_assert_eq!(Filter::parse(&filter.to_string()), Ok(filter.clone()));
            let _ = filter.check(&USER);
            let _ = filter.matches(&fixture(), &USER);
        }
        let _ = crate::path::PatchPath::parse(&input);
        let _ = AttrPath::parse(&input);
    }

    #[test]
    fn checked_filters_evaluate_alike_compiled_or_not(filter in filter(true)) {
        let user = fixture();
        if let Ok(compiled) = filter.compile(&USER) {
            prop_assert_eq!(compiled.matches(&user), filter.matches(&user, &USER));
        }
    }

    #[test]
    fn patch_paths_round_trip(attr in attr_path(), inner in proptest::option::of(filter(false)), sub in proptest::option::of(name())) {
        let path = match inner {
            Some(inner) => crate::path::PatchPath { attr: AttrPath { sub_attr: None, ..attr }, filter: Some(inner), sub_attr: sub },
            None => crate::path::PatchPath { attr, filter: None, sub_attr: None },
        };
        let printed = path.to_string();
        prop_assert_eq!(crate::path::PatchPath::parse(&printed), Ok(path), "printed: {}", printed);
    }
}
