//! Fuzzes the mapping-expression language: arbitrary UTF-8 goes through `Expression::parse`. Beyond "never
//! panics", an expression that parses must print to text that parses back to the same tree, and evaluating it
//! against a fixed source object (every kind of value, and absent attributes) must never panic.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use rand::SeedableRng;
use rand::rngs::StdRng;
use roster_expr::{AppRoleAssignment, Context, Expression, Value};

fn fixture() -> BTreeMap<String, Value> {
    let mut user = BTreeMap::new();
    let mut put = |name: &str, value: Value| {
        user.insert(name.to_owned(), value);
    };
    put("a", Value::from("John.Doe@contoso.com"));
    put("b", Value::from(""));
    put("givenName", Value::from("Zoë"));
    put("surname", Value::from("O'Malley-Smith"));
    put("telephoneNumber", Value::from("+91 9998887777"));
    put("StatusHireDate", Value::from("2012-03-16-07:00"));
    put("date", Value::from("20150123105347.1Z"));
    put("n", Value::Number(129_699_324_000_000_000));
    put("flag", Value::Boolean(true));
    put("IsSoftDeleted", Value::Boolean(false));
    put("when", Value::DateTime(time::OffsetDateTime::UNIX_EPOCH));
    put("proxyAddresses", Value::strings(["SMTP:a@x", "smtp:b@x", "SMTP:a@x"]));
    put("one", Value::strings(["only"]));
    put("empty", Value::List(Vec::new()));
    put(
        "appRoleAssignments",
        Value::AppRoleAssignments(vec![AppRoleAssignment {
            id: "06b0".to_owned(),
            value: "Admin".to_owned(),
            display_name: "Administrator".to_owned(),
        }]),
    );
    user
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(expression) = Expression::parse(text) else { return };
    let printed = expression.to_string();
    if printed.chars().count() <= roster_expr::MAX_LENGTH {
        assert_eq!(Expression::parse(&printed).as_ref(), Ok(&expression), "printed: {printed}");
    }

    let user = fixture();
    let mut rng = StdRng::seed_from_u64(0);
    let unique = |value: &Value| !value.to_string().starts_with('J');
    let mut context = Context::new(time::OffsetDateTime::UNIX_EPOCH, &mut rng).with_uniqueness_check(&unique);
    let _ = expression.evaluate(&user, &mut context);
});
