//! Fuzzes application definitions as `roster app apply` reads them: arbitrary text through the TOML parser into a
//! `Definition`. A definition that parses must print to TOML that parses back to the same definition; its
//! mappings and scoping filters either compile or are refused with an error, and compiled ones evaluate against a
//! fixed user without panicking.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use rand::SeedableRng;
use rand::rngs::StdRng;
use roster_engine::definition::Definition;
use roster_engine::mapping::Mapper;
use roster_engine::scoping::CompiledScoping;
use roster_expr::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(definition) = toml::from_str::<Definition>(text) else { return };
    if definition.secret_token.is_none() {
        let printed = toml::to_string(&definition).expect("a definition prints as TOML");
        let again: Definition = toml::from_str(&printed).expect("a printed definition parses");
        assert_eq!(again, definition, "printed: {printed}");
    }
    let mut user = BTreeMap::new();
    user.insert("userPrincipalName".to_owned(), Value::from("ada@contoso.example"));
    user.insert("givenName".to_owned(), Value::from("Ada"));
    user.insert("IsSoftDeleted".to_owned(), Value::Boolean(false));
    user.insert("employeeId".to_owned(), Value::from("1001"));
    if let Ok(scoping) = CompiledScoping::compile(&definition.users.scoping_filters) {
        let _ = scoping.passes(&user);
        let _ = scoping.explain(&user, &definition.users.scoping_filters);
    }
    if let Ok(mapper) = Mapper::compile(&definition.users.mappings) {
        let mut rng = StdRng::seed_from_u64(0);
        for creating in [true, false] {
            if let Ok(desired) = mapper.evaluate(&user, creating, time::OffsetDateTime::UNIX_EPOCH, &mut rng) {
                let _ = desired.create_body(&mapper, "urn:ietf:params:scim:schemas:core:2.0:User");
                let _ = desired.exported();
            }
        }
    }
});
