//! The evaluator: a filter against a Graph JSON object, with the semantics listed in the module documentation
//! of [`odata`](super).

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::{Number, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::parse::parse_guid;
use super::{CompareOp, Filter, Literal, MatchOptions, PropertyPath, StringFunction};

/// Whether `object` matches `filter`.
pub(super) fn matches(filter: &Filter, object: &Value, options: MatchOptions) -> bool {
    Evaluator { root: object, options }.eval(filter, None)
}

/// The range variables bound by the enclosing lambdas, innermost first.
struct Scope<'s> {
    variable: &'s str,
    value: &'s Value,
    outer: Option<&'s Scope<'s>>,
}

struct Evaluator<'v> {
    root: &'v Value,
    options: MatchOptions,
}

impl Evaluator<'_> {
    fn eval(&self, filter: &Filter, scope: Option<&Scope<'_>>) -> bool {
        match filter {
            Filter::Compare { path, op, value } => self.compare(self.resolve(path, scope), *op, value),
            Filter::In { path, values } => {
                let found = self.resolve(path, scope);
                values.iter().any(|value| self.equals(found, value))
            }
            Filter::Function { function, path, value } => {
                let Some(text) = self.resolve(path, scope).and_then(Value::as_str) else { return false };
                let (text, value) = (self.fold(text), self.fold(value));
                match function {
                    StringFunction::StartsWith => text.starts_with(value.as_ref()),
                    StringFunction::EndsWith => text.ends_with(value.as_ref()),
                    StringFunction::Contains => text.contains(value.as_ref()),
                }
            }
            Filter::Any { path, lambda } => {
                let Some(elements) = self.resolve(path, scope).and_then(Value::as_array) else { return false };
                match lambda {
                    None => !elements.is_empty(),
                    Some(lambda) => elements.iter().any(|element| {
                        let inner = Scope { variable: &lambda.variable, value: element, outer: scope };
                        self.eval(&lambda.body, Some(&inner))
                    }),
                }
            }
            Filter::And(left, right) => self.eval(left, scope) && self.eval(right, scope),
            Filter::Or(left, right) => self.eval(left, scope) || self.eval(right, scope),
            Filter::Not(inner) => !self.eval(inner, scope),
        }
    }

    /// The value a path names: from a range variable's element when its first segment is one, else from the
    /// object. `None` when a member is missing or a non-object is in the way.
    fn resolve<'a>(&'a self, path: &PropertyPath, scope: Option<&Scope<'a>>) -> Option<&'a Value> {
        let (first, rest) = path.segments.split_first()?;
        let mut bound = scope;
        while let Some(binding) = bound {
            if binding.variable == first {
                return rest.iter().try_fold(binding.value, |value, name| member(value, name));
            }
            bound = binding.outer;
        }
        path.segments.iter().try_fold(self.root, |value, name| member(value, name))
    }

    /// `value op literal`.
    fn compare(&self, value: Option<&Value>, op: CompareOp, literal: &Literal) -> bool {
        match op {
            CompareOp::Eq => self.equals(value, literal),
            CompareOp::Ne => !self.equals(value, literal),
            CompareOp::Lt => self.order(value, literal) == Some(Ordering::Less),
            CompareOp::Le => self.order(value, literal).is_some_and(Ordering::is_le),
            CompareOp::Gt => self.order(value, literal) == Some(Ordering::Greater),
            CompareOp::Ge => self.order(value, literal).is_some_and(Ordering::is_ge),
        }
    }

    /// `value eq literal`: `null` equals a missing value; booleans by value; the rest by [`Self::order`].
    fn equals(&self, value: Option<&Value>, literal: &Literal) -> bool {
        match (value, literal) {
            (None | Some(Value::Null), Literal::Null) => true,
            (None | Some(Value::Null), _) | (_, Literal::Null) => false,
            (Some(Value::Bool(value)), Literal::Bool(literal)) => value == literal,
            _ => self.order(value, literal) == Some(Ordering::Equal),
        }
    }

    /// How a value compares with a literal of the same kind (strings, numbers, date-times, GUIDs); `None` for
    /// missing values, `null`, booleans and mismatched kinds.
    fn order(&self, value: Option<&Value>, literal: &Literal) -> Option<Ordering> {
        match (value?, literal) {
            (Value::String(value), Literal::String(literal)) => Some(self.fold(value).cmp(&self.fold(literal))),
            (Value::Number(value), Literal::Number(literal)) => compare_numbers(value, literal),
            (Value::String(value), Literal::DateTime(literal)) => {
                OffsetDateTime::parse(value, &Rfc3339).ok().map(|value| value.cmp(literal))
            }
            (Value::String(value), Literal::Guid(literal)) => parse_guid(value).map(|value| value.cmp(literal)),
            _ => None,
        }
    }

    /// A string as compared: lower-cased when the comparison ignores case.
    fn fold<'s>(&self, text: &'s str) -> Cow<'s, str> {
        if self.options.case_insensitive && text.chars().any(|c| c.is_uppercase() || !c.is_ascii()) {
            Cow::Owned(text.to_lowercase())
        } else {
            Cow::Borrowed(text)
        }
    }
}

/// A member of a JSON object: by exact name, else the first whose name matches ignoring ASCII case.
fn member<'v>(value: &'v Value, name: &str) -> Option<&'v Value> {
    let object = value.as_object()?;
    object.get(name).or_else(|| object.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value))
}

/// Two whole numbers compare exactly; otherwise both as `f64`.
fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    if let (Some(a), Some(b)) = (as_i128(a), as_i128(b)) {
        return Some(a.cmp(&b));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

fn as_i128(number: &Number) -> Option<i128> {
    number.as_i64().map(i128::from).or_else(|| number.as_u64().map(i128::from))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn user() -> Value {
        json!({
            "id": "EC2D0D8A-3C1F-4C32-9D1B-4E0A2F3B5C6D",
            "displayName": "Ada Lovelace",
            "userPrincipalName": "ada@contoso.com",
            "givenName": "Ada",
            "surname": "O'Brien",
            "mail": null,
            "accountEnabled": true,
            "employeeHireDate": "2024-03-01T09:00:00+01:00",
            "createdDateTime": "2025-12-31T23:59:59.5Z",
            "city": "Zürich",
            "jobTitle": "ÉTUDE lead",
            "age": 36,
            "score": 4.5,
            "big": 18_446_744_073_709_551_615_u64,
            "businessPhones": ["+1 555 0100", "+1 555 0101"],
            "imAddresses": ["sip:ada@contoso.com"],
            "otherMails": [],
            "onPremisesExtensionAttributes": {"extensionAttribute1": "Blue", "extensionAttribute2": null},
            "assignedLicenses": [
                {"skuId": "c7df2760-2c81-4ef7-b578-5b5392b571df", "disabledPlans": []},
                {"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900", "disabledPlans": ["x"]}
            ],
            "manager": {"id": "m1", "manager": {"id": "m2"}}
        })
    }

    fn log() -> Value {
        json!({
            "id": "75b5b8f6",
            "activityDateTime": "2026-01-02T03:04:05Z",
            "jobId": "scim.abc",
            "provisioningAction": "create",
            "sourceIdentity": {"id": "u1", "displayName": "Bob Smith", "identityType": "User"},
            "initiatedBy": {"id": "", "displayName": "Azure AD Provisioning Service", "initiatorType": "system"},
            "provisioningStatusInfo": {"status": "failure", "errorInformation": {"errorCode": "ContosoEntryConflict"}},
            "durationInMilliseconds": 1250
        })
    }

    #[test]
    fn directory_objects_ignore_case() {
        let user = user();
        let cases = [
            ("userPrincipalName eq 'ADA@contoso.com'", true),
            ("userPrincipalName ne 'ADA@contoso.com'", false),
            ("userPrincipalName ne 'bob@contoso.com'", true),
            ("startswith(displayName,'ada')", true),
            ("startsWith(displayName,'Lovelace')", false),
            ("endswith(userPrincipalName,'@CONTOSO.COM')", true),
            ("contains(displayName,'LACE')", true),
            ("contains(displayName,'')", true),
            ("city eq 'ZÜRICH'", true),
            ("jobTitle eq 'étude LEAD'", true),
            ("surname eq 'o''brien'", true),
            ("displayName in ('x', 'ADA LOVELACE')", true),
            ("displayName in ('x', 'y')", false),
            ("displayName ge 'ada'", true),
            ("displayName le 'ada'", false),
            ("displayName gt 'Ada Lovelace'", false),
            ("displayName ge 'ADA LOVELACE'", true),
            ("userPrincipalName lt 'b'", true),
            ("id eq ec2d0d8a-3c1f-4c32-9d1b-4e0a2f3b5c6d", true),
            ("id eq 'ec2d0d8a-3c1f-4c32-9d1b-4e0a2f3b5c6d'", true),
            ("id in (00000000-0000-0000-0000-000000000000, EC2D0D8A-3C1F-4C32-9D1B-4E0A2F3B5C6D)", true),
            ("DisplayName eq 'ada lovelace'", true),
        ];
        for (filter, expected) in cases {
            assert_eq!(
                Filter::parse(filter).unwrap().matches(&user, MatchOptions::CASE_INSENSITIVE),
                expected,
                "{filter}"
            );
        }
    }

    #[test]
    fn nulls_and_missing_properties() {
        let user = user();
        let cases = [
            ("mail eq null", true),
            ("mail ne null", false),
            ("mail eq 'x'", false),
            ("mail ne 'x'", true),
            ("department eq null", true),
            ("department ne null", false),
            ("department eq 'Sales'", false),
            ("department ne 'Sales'", true),
            ("department gt 'a'", false),
            ("department lt 'a'", false),
            ("startswith(department,'')", false),
            ("department in ('a', null)", true),
            ("department in ('a')", false),
            ("not(department eq 'Sales')", true),
            ("displayName eq null", false),
            ("displayName ne null", true),
            ("onPremisesExtensionAttributes/extensionAttribute1 eq 'blue'", true),
            ("onPremisesExtensionAttributes/extensionAttribute2 eq null", true),
            ("onPremisesExtensionAttributes/extensionAttribute3 eq null", true),
            ("displayName/first eq null", true),
            ("mail/x eq null", true),
            ("manager/manager/id eq 'M2'", true),
            ("manager/manager/id/x ne 'a'", true),
            ("nothing/any()", false),
            ("nothing/any(x:x eq 'a')", false),
            ("not(nothing/any())", true),
        ];
        for (filter, expected) in cases {
            assert_eq!(
                Filter::parse(filter).unwrap().matches(&user, MatchOptions::CASE_INSENSITIVE),
                expected,
                "{filter}"
            );
        }
    }

    #[test]
    fn numbers_booleans_and_mismatches() {
        let user = user();
        let cases = [
            ("accountEnabled eq true", true),
            ("accountEnabled eq false", false),
            ("accountEnabled ne false", true),
            ("accountEnabled in (false, true)", true),
            ("accountEnabled eq 'true'", false),
            ("accountEnabled ne 'true'", true),
            ("age eq 36", true),
            ("age eq 36.0", true),
            ("age gt 35.5", true),
            ("age le 36", true),
            ("age lt 36", false),
            ("age eq '36'", false),
            ("score gt 4", true),
            ("score lt 4.5", false),
            ("score eq 4.5", true),
            ("big eq 18446744073709551615", true),
            ("big gt 18446744073709551614", true),
            ("big gt -1", true),
            ("displayName eq 36", false),
            ("displayName gt 2026-01-01T00:00:00Z", false),
            ("businessPhones eq '+1 555 0100'", false),
            ("manager eq 'm1'", false),
            ("startswith(age,'3')", false),
            ("displayName eq ec2d0d8a-3c1f-4c32-9d1b-4e0a2f3b5c6d", false),
        ];
        for (filter, expected) in cases {
            assert_eq!(
                Filter::parse(filter).unwrap().matches(&user, MatchOptions::CASE_INSENSITIVE),
                expected,
                "{filter}"
            );
        }
    }

    #[test]
    fn datetimes_compare_as_instants() {
        let user = user();
        let cases = [
            ("employeeHireDate eq 2024-03-01T08:00:00Z", true),
            ("employeeHireDate eq 2024-03-01T10:00:00+02:00", true),
            ("employeeHireDate ge 2024-03-01T08:00:00Z", true),
            ("employeeHireDate gt 2024-03-01T08:00:00Z", false),
            ("employeeHireDate lt 2024-03-01T08:00:00.000000001Z", true),
            ("createdDateTime gt 2025-12-31T23:59:59Z", true),
            ("createdDateTime lt 2026-01-01T00:00:00Z", true),
            ("createdDateTime eq 2025-12-31T23:59:59.500Z", true),
            ("createdDateTime ne 2025-12-31T23:59:59.500Z", false),
            ("displayName lt 2026-01-01T00:00:00Z", false),
            ("displayName ne 2026-01-01T00:00:00Z", true),
            ("employeeHireDate gt '2024'", true),
        ];
        for (filter, expected) in cases {
            assert_eq!(
                Filter::parse(filter).unwrap().matches(&user, MatchOptions::CASE_INSENSITIVE),
                expected,
                "{filter}"
            );
        }
    }

    #[test]
    fn collections_and_lambdas() {
        let user = user();
        let cases = [
            ("businessPhones/any(p:p eq '+1 555 0101')", true),
            ("businessPhones/any(p:p eq '+1 555 0102')", false),
            ("businessPhones/any(p:startswith(p,'+1'))", true),
            ("businessPhones/any(p:p eq '+1 555 0100' and p eq '+1 555 0101')", false),
            ("businessPhones/any(p:p eq '+1 555 0100' or p eq 'x')", true),
            ("businessPhones/any(p:not(p eq '+1 555 0100'))", true),
            ("businessPhones/any()", true),
            ("otherMails/any()", false),
            ("otherMails/any(m:m eq null)", false),
            ("not(otherMails/any(m:m eq 'x'))", true),
            ("imAddresses/any(i:i eq 'SIP:ADA@contoso.com')", true),
            ("imAddresses/any(i:i in ('a', 'sip:ada@contoso.com'))", true),
            ("assignedLicenses/any(l:l/skuId eq 6fd2c87f-b296-42f0-b197-1e91e994b900)", true),
            ("assignedLicenses/any(l:l/skuId eq 6fd2c87f-b296-42f0-b197-1e91e994b901)", false),
            ("assignedLicenses/any(l:l/disabledPlans/any(p:p eq 'x'))", true),
            (
                "assignedLicenses/any(l:l/disabledPlans/any(p:p eq 'x' and l/skuId eq c7df2760-2c81-4ef7-b578-5b5392b571df))",
                false,
            ),
            ("assignedLicenses/any(l:l/disabledPlans/any())", true),
            ("displayName/any()", false),
            ("manager/any()", false),
            ("businessPhones/any(p:p/x eq null)", true),
        ];
        for (filter, expected) in cases {
            assert_eq!(
                Filter::parse(filter).unwrap().matches(&user, MatchOptions::CASE_INSENSITIVE),
                expected,
                "{filter}"
            );
        }
    }

    #[test]
    fn provisioning_logs_are_case_sensitive() {
        let log = log();
        let cases = [
            ("jobId eq 'scim.abc' and activityDateTime gt 2026-01-01T00:00:00Z", true),
            ("jobId eq 'SCIM.ABC'", false),
            ("jobId eq 'scim.abc' and activityDateTime gt 2026-01-03T00:00:00Z", false),
            ("contains(sourceIdentity/displayName,'Bob')", true),
            ("contains(sourceIdentity/displayName,'bob')", false),
            ("provisioningStatusInfo/status eq 'failure'", true),
            ("provisioningStatusInfo/status eq 'Failure'", false),
            ("initiatedBy/id eq ''", true),
            ("initiatedBy/initiatorType in ('user', 'system')", true),
            ("durationInMilliseconds gt 1000 and durationInMilliseconds lt 2000", true),
            ("activityDateTime lt 2026-01-02T04:04:05+01:00", false),
            ("activityDateTime le 2026-01-02T04:04:05+01:00", true),
        ];
        for (filter, expected) in cases {
            assert_eq!(
                Filter::parse(filter).unwrap().matches(&log, MatchOptions::CASE_SENSITIVE),
                expected,
                "{filter}"
            );
        }
        assert!(Filter::parse("jobId eq 'SCIM.ABC'").unwrap().matches(&log, MatchOptions::CASE_INSENSITIVE));
    }

    #[test]
    fn non_objects_never_panic() {
        let filter =
            Filter::parse("a eq 1 or b/any(x:x/c eq 'd') or startswith(e,'f') or g in (1) or not(h ne null)").unwrap();
        for value in [json!(null), json!(1), json!("a"), json!([1, 2]), json!({"a": [1], "b": "x", "e": 3, "h": {}})] {
            // Only `not(h ne null)` holds where there is no `h`; the object's `h` is `{}`, which is not null.
            assert_eq!(filter.matches(&value, MatchOptions::CASE_INSENSITIVE), !value.is_object(), "{value}");
        }
    }
}
