//! Criterion benchmarks of the protocol core's hot functions: filter parsing and evaluation, PATCH parsing and
//! application, canonicalization of a request body, and projection. `cargo bench -p roster-scim-proto`.

use criterion::{BenchmarkId, Criterion, black_box, criterion_group, criterion_main};
use roster_scim_proto::filter::Filter;
use roster_scim_proto::patch::{apply_patch, parse_patch};
use roster_scim_proto::projection::Projection;
use roster_scim_proto::resource::canonicalize;
use roster_scim_proto::schema::USER;
use serde_json::{Map, Value, json};

fn user(index: usize) -> Map<String, Value> {
    let value = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": format!("id-{index}"),
        "externalId": format!("ext-{index}"),
        "userName": format!("User{index}@Example.com"),
        "displayName": format!("User {index}"),
        "name": {"givenName": "User", "familyName": format!("N{index}")},
        "emails": [{"value": format!("user{index}@example.com"), "type": "work", "primary": true}],
        "title": if index.is_multiple_of(2) { "Engineer" } else { "Designer" },
        "active": !index.is_multiple_of(3),
        "meta": {"resourceType": "User", "created": "2026-11-29T10:00:00.000Z"},
    });
    value.as_object().cloned().unwrap_or_default()
}

fn filters(c: &mut Criterion) {
    let texts = [
        ("eq", r#"userName eq "user42@example.com""#),
        ("value path", r#"emails[type eq "work" and value co "@example.com"] and not (title eq "Designer")"#),
        ("date", r#"meta.created gt "2026-01-01T00:00:00Z" or active eq false"#),
    ];
    let users: Vec<Map<String, Value>> = (0..10_000).map(user).collect();
    let mut group = c.benchmark_group("filter");
    for (name, text) in texts {
        group.bench_with_input(BenchmarkId::new("parse", name), text, |b, text| {
            b.iter(|| Filter::parse(black_box(text)));
        });
        let Ok(filter) = Filter::parse(text) else { continue };
        let Ok(compiled) = filter.compile(&USER) else { continue };
        group.bench_with_input(BenchmarkId::new("match 10k users", name), &users, |b, users| {
            b.iter(|| users.iter().filter(|user| compiled.matches(user)).count());
        });
    }
    group.finish();
}

fn patches(c: &mut Criterion) {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"},
            {"op": "Replace", "path": "name.familyName", "value": "Other"},
            {"op": "Replace", "path": "active", "value": "False"},
        ],
    });
    let resource = user(7);
    c.bench_function("patch/parse and apply (Entra dialect)", |b| {
        b.iter(|| {
            let mut target = resource.clone();
            let operations = parse_patch(black_box(&body), &USER).map_err(|e| e.to_string())?;
            apply_patch(&mut target, &operations, &USER).map_err(|e| e.to_string())
        });
    });
}

fn bodies(c: &mut Criterion) {
    let body = Value::Object(user(3));
    c.bench_function("resource/canonicalize a POST body", |b| b.iter(|| canonicalize(black_box(&body), &USER)));
    let projection = Projection::new(&USER, &[], &[]);
    let resource = user(5);
    c.bench_function("projection/default, owned", |b| b.iter(|| projection.apply_owned(black_box(resource.clone()))));
}

criterion_group!(benches, filters, patches, bodies);
criterion_main!(benches);
