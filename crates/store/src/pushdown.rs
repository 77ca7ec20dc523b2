//! Which part of a SCIM filter and `sortBy` a database can answer from the resource columns. Backend-neutral:
//! each backend renders a [`Pred`] in its own SQL.
//!
//! The database answers exactly what `Filter::matches` answers on the rendered resource, for the parts it takes:
//! - an attribute is pushable when it resolves as the evaluator resolves it (`ResourceType::attribute`: any letter
//!   case, with or without the core schema URN; an extension attribute only with its URN) to `id`, `externalId`,
//!   `displayName`, and for users `userName`, `active` and the GitHub extension's `login`, without a
//!   sub-attribute;
//! - a string attribute takes `eq ne co sw ew gt ge lt le` with a string literal, and `pr`; a not-`caseExact`
//!   attribute compares its folded column with the folded literal ([`crate::columns::fold`]);
//! - `active` takes `eq` and `ne` with `true` or `false`, and `pr`;
//! - an absent attribute (a NULL column) makes every comparison false, `ne` true (it is `not eq`) and `pr`
//!   false; `pr` is false on the empty string too; `eq null` is `not pr` and `ne null` is `pr`. Every [`Pred`]
//!   is two-valued, so `not` is plain negation.
//!
//! Anything else (value paths, other attributes, `meta`, literals of another type, `null`) runs in Rust on the
//! candidates. A filter `A and B` with a pushable `A` pushes `A` as a pre-filter.

use roster_provider::emu::GITHUB_USER_URN;
use roster_provider::port::ResourceKind;
use roster_scim_proto::filter::{CompValue, CompareOp, Filter};
use roster_scim_proto::path::AttrPath;
use roster_scim_proto::resource::{Resolved, resolve};
use roster_scim_proto::schema::{AttrRef, AttrType};

use crate::columns::fold;

/// A column that filters and sorting can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    /// The SCIM id (never NULL).
    Id,
    /// `externalId`.
    ExternalId,
    /// A user's `userName`.
    UserName,
    /// `displayName`.
    DisplayName,
    /// A user's GitHub login.
    Login,
    /// A user's `active`.
    Active,
}

impl Column {
    /// The column's name in SQL (its folded form's when `folded`), the same on every backend. `id`, `externalId`
    /// and `active` have no folded form.
    pub(crate) fn sql_name(self, folded: bool) -> &'static str {
        match (self, folded) {
            (Column::Id, _) => "id",
            (Column::ExternalId, _) => "external_id",
            (Column::UserName, false) => "user_name",
            (Column::UserName, true) => "user_name_folded",
            (Column::DisplayName, false) => "display_name",
            (Column::DisplayName, true) => "display_name_folded",
            (Column::Login, false) => "login",
            (Column::Login, true) => "login_folded",
            (Column::Active, _) => "active",
        }
    }
}

/// A string comparison operator (`ne` is the negation of `eq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextOp {
    Eq,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A two-valued predicate on the columns of one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pred {
    And(Box<Pred>, Box<Pred>),
    Or(Box<Pred>, Box<Pred>),
    Not(Box<Pred>),
    /// The column (its folded form when `folded`) is present and compares with the literal (already folded when
    /// `folded`); false when the column is NULL.
    Text {
        column: Column,
        folded: bool,
        op: TextOp,
        literal: String,
    },
    /// The boolean column is present and equals the value.
    Bool {
        column: Column,
        value: bool,
    },
    /// The column is present (and, for a string column, not empty).
    Present {
        column: Column,
        text: bool,
    },
}

/// The database's share of a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// What the database filters on; `None` selects every resource of the enterprise.
    pub(crate) pre: Option<Pred>,
    /// Whether `pre` is the whole filter, so that nothing remains to check in Rust.
    pub(crate) exact: bool,
}

/// A `sortBy` the database can sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SortColumn {
    pub(crate) column: Column,
    /// Whether to sort by the folded column (the attribute is not `caseExact`).
    pub(crate) folded: bool,
}

/// Splits a filter into the database's share and the rest.
pub(crate) fn plan(kind: ResourceKind, filter: Option<&Filter>) -> Plan {
    let Some(filter) = filter else { return Plan { pre: None, exact: true } };
    if let Some(pred) = translate(kind, filter) {
        return Plan { pre: Some(pred), exact: true };
    }
    let mut conjuncts = Vec::new();
    collect_conjuncts(kind, filter, &mut conjuncts);
    let pre = conjuncts.into_iter().reduce(|left, right| Pred::And(Box::new(left), Box::new(right)));
    Plan { pre, exact: false }
}

/// Whether the predicate can hold for one resource of an enterprise at most: it requires (through `and`) equality
/// with a value of a column that is unique per enterprise, in the form the uniqueness is enforced on (the id;
/// `externalId`; a user's `userName` and login folded; a group's `displayName` folded).
pub(crate) fn selects_at_most_one(kind: ResourceKind, pred: &Pred) -> bool {
    match pred {
        Pred::And(left, right) => selects_at_most_one(kind, left) || selects_at_most_one(kind, right),
        Pred::Text { column, folded, op: TextOp::Eq, .. } => matches!(
            (kind, column, folded),
            (_, Column::Id | Column::ExternalId, false)
                | (ResourceKind::User, Column::UserName | Column::Login, true)
                | (ResourceKind::Group, Column::DisplayName, true)
        ),
        _ => false,
    }
}

/// The column to sort by, when `sortBy` names a string column (sorting by `active` and everything else runs in
/// Rust with `compare_for_sort`). `sortBy` resolves as `compare_for_sort` resolves it: with
/// `roster_scim_proto::resource::resolve`, which also finds an extension attribute named without its URN.
/// `compare_for_sort` folds with `str::to_lowercase`, as the folded columns do, so both orders agree.
pub(crate) fn sort_column(kind: ResourceKind, sort_by: &AttrPath) -> Option<SortColumn> {
    let Resolved::Attribute { attr, sub: None } = resolve(kind.resource_type(), sort_by)? else { return None };
    let (column, case_exact) = column_for(kind, attr)?;
    (column != Column::Active).then_some(SortColumn { column, folded: !case_exact })
}

/// Whether the filter looks at the derived relation (`members` of a group, `groups` of a user), which must then be
/// loaded for the candidates.
pub(crate) fn mentions_relations(kind: ResourceKind, filter: &Filter) -> bool {
    let relation = match kind {
        ResourceKind::User => "groups",
        ResourceKind::Group => "members",
    };
    // Over-approximates on purpose (a URN-qualified name counts too): loading relations needlessly is only slower.
    let names = |path: &AttrPath| path.name.to_ascii_lowercase().ends_with(relation);
    match filter {
        Filter::Compare(comparison) => names(&comparison.path),
        Filter::Present(path) | Filter::ValuePath(path, _) => names(path),
        Filter::And(left, right) | Filter::Or(left, right) => {
            mentions_relations(kind, left) || mentions_relations(kind, right)
        }
        Filter::Not(inner) => mentions_relations(kind, inner),
    }
}

/// The pushable conjuncts of an `and` chain.
fn collect_conjuncts(kind: ResourceKind, filter: &Filter, out: &mut Vec<Pred>) {
    if let Some(pred) = translate(kind, filter) {
        out.push(pred);
        return;
    }
    if let Filter::And(left, right) = filter {
        collect_conjuncts(kind, left, out);
        collect_conjuncts(kind, right, out);
    }
}

/// The whole filter as a predicate, or `None` when some part must run in Rust.
fn translate(kind: ResourceKind, filter: &Filter) -> Option<Pred> {
    match filter {
        Filter::And(left, right) => {
            Some(Pred::And(Box::new(translate(kind, left)?), Box::new(translate(kind, right)?)))
        }
        Filter::Or(left, right) => Some(Pred::Or(Box::new(translate(kind, left)?), Box::new(translate(kind, right)?))),
        Filter::Not(inner) => Some(Pred::Not(Box::new(translate(kind, inner)?))),
        Filter::Present(path) => {
            let (column, _) = column_of(kind, path)?;
            Some(Pred::Present { column, text: column != Column::Active })
        }
        Filter::ValuePath(..) => None,
        Filter::Compare(comparison) => {
            let (column, case_exact) = column_of(kind, &comparison.path)?;
            let op = comparison.op;
            match (&comparison.value, column) {
                // `eq null` is `not pr`; `ne null` is `pr`.
                (CompValue::Null, column) => {
                    let present = Pred::Present { column, text: column != Column::Active };
                    match op {
                        CompareOp::Eq => Some(Pred::Not(Box::new(present))),
                        CompareOp::Ne => Some(present),
                        _ => None,
                    }
                }
                (CompValue::Bool(value), Column::Active) => {
                    let eq = Pred::Bool { column, value: *value };
                    match op {
                        CompareOp::Eq => Some(eq),
                        CompareOp::Ne => Some(Pred::Not(Box::new(eq))),
                        _ => None,
                    }
                }
                (CompValue::String(literal), column) if column != Column::Active => {
                    let folded = !case_exact;
                    let literal = if folded { fold(literal) } else { literal.clone() };
                    let text = |op| Pred::Text { column, folded, op, literal };
                    Some(match op {
                        CompareOp::Eq => text(TextOp::Eq),
                        CompareOp::Ne => Pred::Not(Box::new(text(TextOp::Eq))),
                        CompareOp::Co => text(TextOp::Co),
                        CompareOp::Sw => text(TextOp::Sw),
                        CompareOp::Ew => text(TextOp::Ew),
                        CompareOp::Gt => text(TextOp::Gt),
                        CompareOp::Ge => text(TextOp::Ge),
                        CompareOp::Lt => text(TextOp::Lt),
                        CompareOp::Le => text(TextOp::Le),
                    })
                }
                _ => None,
            }
        }
    }
}

/// The column a filter's attribute path names, and whether the attribute is `caseExact`. The path resolves as
/// the filter evaluator resolves it: `ResourceType::attribute`, so an extension attribute needs its URN.
fn column_of(kind: ResourceKind, path: &AttrPath) -> Option<(Column, bool)> {
    if path.sub_attr.is_some() {
        return None;
    }
    let attr = kind.resource_type().attribute(path.urn.as_deref(), &path.name)?;
    column_for(kind, attr)
}

fn column_for(kind: ResourceKind, attr: AttrRef) -> Option<(Column, bool)> {
    let def = attr.def;
    let column = match (kind, attr.in_extension, def.name) {
        (_, false, "id") => Column::Id,
        (_, false, "externalId") => Column::ExternalId,
        (_, false, "displayName") => Column::DisplayName,
        (ResourceKind::User, false, "userName") => Column::UserName,
        (ResourceKind::User, false, "active") => Column::Active,
        (ResourceKind::User, true, "login") if attr.schema.id == GITHUB_USER_URN => Column::Login,
        _ => return None,
    };
    let expected = if column == Column::Active { AttrType::Boolean } else { AttrType::String };
    // `id` and `externalId` have no folded column: they are pushable only as the `caseExact` attributes they are.
    let has_column = def.case_exact || !matches!(column, Column::Id | Column::ExternalId);
    (def.kind == expected && !def.multi_valued && has_column).then_some((column, def.case_exact))
}

/// A statement a backend is writing: what differs between backends when [`write_pred`] prints a [`Pred`] (the
/// placeholders of bound values, and the SQL of string tests).
pub(crate) trait PredWriter {
    /// The statement's text, which [`write_pred`] appends to.
    fn text(&mut self) -> &mut String;
    /// Binds a boolean; returns its placeholder.
    fn bind_bool(&mut self, value: bool) -> String;
    /// The string comparison of a column that is not NULL (its folded form when `folded`) with the literal, as a
    /// condition that is never NULL; `op` is `eq`, an order (code-point order) or a substring test.
    fn text_condition(&mut self, column: Column, folded: bool, op: TextOp, literal: &str) -> String;
}

/// Appends a predicate in SQL. Every predicate is printed two-valued (a NULL column makes a comparison false,
/// never NULL), so `NOT` negates exactly as the in-Rust evaluator does.
pub(crate) fn write_pred(sql: &mut impl PredWriter, pred: &Pred) {
    match pred {
        Pred::And(left, right) | Pred::Or(left, right) => {
            let joiner = if matches!(pred, Pred::And(..)) { " AND " } else { " OR " };
            sql.text().push('(');
            write_pred(sql, left);
            sql.text().push_str(joiner);
            write_pred(sql, right);
            sql.text().push(')');
        }
        Pred::Not(inner) => {
            sql.text().push_str("NOT ");
            write_pred(sql, inner);
        }
        Pred::Present { column, text } => {
            let name = column.sql_name(false);
            let condition =
                if *text { format!("({name} IS NOT NULL AND {name} <> '')") } else { format!("({name} IS NOT NULL)") };
            sql.text().push_str(&condition);
        }
        Pred::Bool { column, value } => {
            let name = column.sql_name(false);
            let value = sql.bind_bool(*value);
            sql.text().push_str(&format!("({name} IS NOT NULL AND {name} = {value})"));
        }
        Pred::Text { column, folded, op, literal } => {
            // The id is never NULL.
            let guard = if *column == Column::Id {
                String::new()
            } else {
                format!("{} IS NOT NULL AND ", column.sql_name(*folded))
            };
            let condition = sql.text_condition(*column, *folded, *op, literal);
            sql.text().push_str(&format!("({guard}{condition})"));
        }
    }
}

/// The smallest string greater than every string that starts with `prefix`, in code-point order (which is the byte
/// order of UTF-8): the prefix with its last character incremented (dropping characters that cannot be). `None`
/// when there is none. With it, `sw` becomes a range an index can narrow the scan to.
pub(crate) fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_bounds() {
        for (prefix, expected) in [
            ("ab", Some("ac")),
            ("a\u{d7ff}", Some("a\u{e000}")),
            ("a\u{10ffff}", Some("b")),
            ("\u{10ffff}", None),
            ("", None),
        ] {
            assert_eq!(prefix_upper_bound(prefix).as_deref(), expected, "{prefix:?}");
        }
    }
}
