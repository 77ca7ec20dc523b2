//! Checking a filter against a resource's [`Capabilities`]: every property it names must be in the table, with
//! every operator it uses on it; a property under `not(...)` must also allow [`Operator::Not`].

use super::{Capabilities, ErrorCode, Filter, ODataError, Operator, PropertyPath};

/// Checks `filter` against `capabilities`; `resource` names the resource in errors.
pub(super) fn check(filter: &Filter, capabilities: Capabilities<'_>, resource: &str) -> Result<(), ODataError> {
    Checker { capabilities, resource }.walk(filter, None, false)
}

/// A lambda's range variable and the path (from the resource) of the collection it ranges over.
struct Binding<'s> {
    variable: &'s str,
    collection: String,
    outer: Option<&'s Binding<'s>>,
}

struct Checker<'c> {
    capabilities: Capabilities<'c>,
    resource: &'c str,
}

impl Checker<'_> {
    fn walk(&self, filter: &Filter, scope: Option<&Binding<'_>>, negated: bool) -> Result<(), ODataError> {
        match filter {
            Filter::Compare { path, op, .. } => self.allow(&absolute(path, scope), (*op).into(), negated),
            Filter::In { path, .. } => self.allow(&absolute(path, scope), Operator::In, negated),
            Filter::Function { function, path, .. } => self.allow(&absolute(path, scope), (*function).into(), negated),
            Filter::Any { path, lambda } => {
                let collection = absolute(path, scope);
                self.allow(&collection, Operator::Any, negated)?;
                match lambda {
                    None => Ok(()),
                    Some(lambda) => {
                        let inner = Binding { variable: &lambda.variable, collection, outer: scope };
                        self.walk(&lambda.body, Some(&inner), negated)
                    }
                }
            }
            Filter::And(left, right) | Filter::Or(left, right) => {
                self.walk(left, scope, negated)?;
                self.walk(right, scope, negated)
            }
            Filter::Not(inner) => self.walk(inner, scope, true),
        }
    }

    /// Whether the table lets `property` take `op` (and `not`, when negated).
    fn allow(&self, property: &str, op: Operator, negated: bool) -> Result<(), ODataError> {
        let allowed = self
            .capabilities
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(property))
            .map_or(&[][..], |(_, operators)| *operators);
        if allowed.contains(&op) && (!negated || allowed.contains(&Operator::Not)) {
            return Ok(());
        }
        Err(ODataError::new(
            ErrorCode::UnsupportedQuery,
            format!(
                "Unsupported or invalid query filter clause specified for property '{property}' of resource '{}'.",
                self.resource
            ),
        ))
    }
}

/// The path from the resource that `path` names: a range variable stands for its collection.
fn absolute(path: &PropertyPath, scope: Option<&Binding<'_>>) -> String {
    let text = path.to_string();
    let Some((first, rest)) = path.segments.split_first() else { return text };
    let mut bound = scope;
    while let Some(binding) = bound {
        if binding.variable == first {
            let mut absolute = binding.collection.clone();
            for segment in rest {
                absolute.push('/');
                absolute.push_str(segment);
            }
            return absolute;
        }
        bound = binding.outer;
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::odata::Operator as O;

    const TEXT: &[O] = &[O::Eq, O::Ne, O::Not, O::Ge, O::Le, O::In, O::StartsWith];

    const USER: Capabilities<'static> = &[
        ("id", &[O::Eq, O::Ne, O::Not, O::In]),
        ("userPrincipalName", &[O::Eq, O::Ne, O::Not, O::Ge, O::Le, O::In, O::StartsWith, O::EndsWith]),
        ("displayName", TEXT),
        ("mail", TEXT),
        ("accountEnabled", &[O::Eq, O::Ne, O::Not, O::In]),
        ("businessPhones", &[O::Eq, O::Not, O::Any]),
        ("imAddresses", &[O::Eq, O::Any]),
        ("assignedLicenses", &[O::Any]),
        ("assignedLicenses/skuId", &[O::Eq]),
        ("assignedLicenses/disabledPlans", &[O::Any, O::Eq]),
    ];

    const LOGS: Capabilities<'static> = &[
        ("jobId", &[O::Eq, O::Contains]),
        ("activityDateTime", &[O::Eq, O::Gt, O::Lt]),
        ("sourceIdentity/displayName", &[O::Eq, O::Contains]),
    ];

    fn check_user(filter: &str) -> Result<(), String> {
        Filter::parse(filter).unwrap().check(USER, "User").map_err(|error| {
            assert_eq!(error.code(), "Request_UnsupportedQuery");
            assert_eq!(error.column, None);
            error.to_string()
        })
    }

    fn refused(property: &str) -> Result<(), String> {
        Err(format!(
            "Unsupported or invalid query filter clause specified for property '{property}' of resource 'User'."
        ))
    }

    #[test]
    fn allowed_filters_pass() {
        for filter in [
            "startswith(displayName,'J')",
            "userPrincipalName eq 'ada@contoso.com'",
            "endswith(userPrincipalName,'@contoso.com') and accountEnabled eq true",
            "id in ('a','b') or not(displayName eq 'x')",
            "mail eq null",
            "DISPLAYNAME ge 'a'",
            "businessPhones/any(p:p eq '1')",
            "not(businessPhones/any(p:p eq '1'))",
            "imAddresses/any(i:i eq 'x')",
            "assignedLicenses/any()",
            "assignedLicenses/any(l:l/skuId eq c7df2760-2c81-4ef7-b578-5b5392b571df)",
            "assignedLicenses/any(l:l/disabledPlans/any(p:p eq 'x'))",
        ] {
            assert_eq!(check_user(filter), Ok(()), "{filter}");
        }
    }

    #[test]
    fn unknown_properties_and_operators_are_refused() {
        assert_eq!(check_user("jobTitle eq 'x'"), refused("jobTitle"));
        assert_eq!(check_user("displayName eq 'x' and jobTitle eq 'x'"), refused("jobTitle"));
        assert_eq!(check_user("endswith(displayName,'x')"), refused("displayName"));
        assert_eq!(check_user("contains(mail,'x')"), refused("mail"));
        assert_eq!(check_user("id gt 'a'"), refused("id"));
        assert_eq!(check_user("id eq 'x' or accountEnabled ge 1"), refused("accountEnabled"));
        assert_eq!(check_user("imAddresses/any(i:startswith(i,'x'))"), refused("imAddresses"));
        assert_eq!(check_user("not(imAddresses/any(i:i eq 'x'))"), refused("imAddresses"));
        assert_eq!(check_user("displayName/any()"), refused("displayName"));
        assert_eq!(
            check_user("assignedLicenses/any(l:l/skuId ne c7df2760-2c81-4ef7-b578-5b5392b571df)"),
            refused("assignedLicenses/skuId")
        );
        assert_eq!(check_user("assignedLicenses/any(l:l eq 'x')"), refused("assignedLicenses"));
        assert_eq!(
            check_user("assignedLicenses/any(l:l/disabledPlans/any(p:startswith(p,'x')))"),
            refused("assignedLicenses/disabledPlans")
        );
        assert_eq!(check_user("manager/id eq 'x'"), refused("manager/id"));
    }

    #[test]
    fn resource_name_is_a_parameter() {
        let filter = Filter::parse("jobId eq 'scim.abc' and activityDateTime gt 2026-01-01T00:00:00Z").unwrap();
        assert_eq!(filter.check(LOGS, "ProvisioningObjectSummary"), Ok(()));
        assert!(Filter::parse("contains(sourceIdentity/displayName,'Bob')").unwrap().check(LOGS, "x").is_ok());
        let error =
            Filter::parse("activityDateTime ge 2026-01-01T00:00:00Z").unwrap().check(LOGS, "ProvisioningObjectSummary");
        assert_eq!(
            error.unwrap_err().to_string(),
            "Unsupported or invalid query filter clause specified for property 'activityDateTime' of resource \
             'ProvisioningObjectSummary'."
        );
        assert!(Filter::parse("a eq 1").unwrap().check(&[], "Empty").is_err());
    }
}
