//! List queries on SQLite: the pushable part of the filter (see [`crate::pushdown`]) becomes a `WHERE` clause;
//! the rest runs in Rust with `Filter::matches` on the candidates, as the port's contract demands.

use std::cmp::Ordering;

use roster_provider::port::{Page, ResourceKind, ResourceQuery, StoredResource};
use roster_provider::render::filterable;
use roster_provider::tenant::EnterpriseId;
use roster_scim_proto::query::compare_for_sort;
use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Value};

use super::resources::{GROUP_COLUMNS, USER_COLUMNS, load_relations, read_row};
use super::{Failure, in_read_transaction};
use crate::pushdown::{self, Column, Pred, SortColumn, TextOp};

/// Whether the query reads a handful of rows: its filter selects one resource at most (through a unique key), and
/// neither the answer nor the filter needs a group's members, which may be many.
pub(super) fn is_point_query(kind: ResourceKind, query: &ResourceQuery) -> bool {
    let Some(filter) = &query.filter else { return false };
    let members_needed =
        kind == ResourceKind::Group && (query.relations.load || pushdown::mentions_relations(kind, filter));
    let plan = pushdown::plan(kind, Some(filter));
    !members_needed && plan.pre.as_ref().is_some_and(|pred| pushdown::selects_at_most_one(kind, pred))
}

/// Answers a list query in one read transaction, so that the total, the page and the relations agree.
pub(super) fn query(
    connection: &Connection,
    enterprise: EnterpriseId,
    kind: ResourceKind,
    query: &ResourceQuery,
) -> Result<Page, Failure> {
    in_read_transaction(connection, |transaction| answer(transaction, enterprise, kind, query))
}

fn answer(
    connection: &Connection,
    enterprise: EnterpriseId,
    kind: ResourceKind,
    query: &ResourceQuery,
) -> Result<Page, Failure> {
    let plan = pushdown::plan(kind, query.filter.as_ref());
    let sql_sort = match &query.sort_by {
        None => Some(None),
        Some(path) => pushdown::sort_column(kind, path).map(Some),
    };
    match sql_sort {
        Some(sort) if plan.exact => sql_page(connection, enterprise, kind, plan.pre.as_ref(), sort, query),
        _ => rust_page(connection, enterprise, kind, plan.pre.as_ref(), query),
    }
}

/// The whole query in SQL: the page, and the total only when the page does not tell it.
fn sql_page(
    connection: &Connection,
    enterprise: EnterpriseId,
    kind: ResourceKind,
    pred: Option<&Pred>,
    sort: Option<SortColumn>,
    query: &ResourceQuery,
) -> Result<Page, Failure> {
    let offset = query.start_index.saturating_sub(1);
    let mut resources = Vec::new();
    if query.count > 0 {
        let mut sql = Sql::select(kind, enterprise, pred);
        // An unfiltered list in key order starts from the bucket that holds its first row (see
        // `0002_key_buckets.sql`), so that a deep page does not step over every row before it.
        let mut skip = Some(offset);
        if pred.is_none() && sort.is_none() && offset > 0 {
            skip = bucket_start(connection, enterprise, kind, offset)?.map(|(first_pk, skip)| {
                sql.text.push_str(" AND pk >= ?");
                sql.params.push(SqlValue::Integer(first_pk));
                skip
            });
        }
        if let Some(skip) = skip {
            match sort {
                None => sql.text.push_str(" ORDER BY pk"),
                Some(sort) => {
                    let column = column_sql(sort.column, sort.folded);
                    let order = if query.descending { "DESC NULLS FIRST" } else { "ASC NULLS LAST" };
                    sql.text.push_str(&format!(" ORDER BY {column} {order}, pk"));
                }
            }
            sql.text.push_str(" LIMIT ? OFFSET ?");
            sql.params.push(SqlValue::Integer(i64::try_from(query.count).unwrap_or(i64::MAX)));
            sql.params.push(SqlValue::Integer(i64::try_from(skip).unwrap_or(i64::MAX)));
            resources = sql.rows(connection)?;
        }
    }
    // A short, non-empty page (or an empty first page) ends the result: its end is the total.
    let total_results = if query.count > 0 && resources.len() < query.count && (!resources.is_empty() || offset == 0) {
        offset + resources.len()
    } else {
        count(connection, enterprise, kind, pred)?
    };
    if query.relations.load && !resources.is_empty() {
        load_relations(connection, kind, &mut resources)?;
    }
    Ok(Page { total_results, resources: resources.into_iter().map(|(_, resource)| resource).collect() })
}

/// How many consecutive keys share a row of `scim_key_buckets`, as a shift: `0002_key_buckets.sql` uses `pk >> 10`.
const BUCKET_BITS: u32 = 10;

/// Where the page that starts `offset` rows into the enterprise's resources (in key order) begins: the first key
/// of the bucket that holds that row, and how many rows to step over from there. `None` when the enterprise has
/// no more than `offset` resources.
fn bucket_start(
    connection: &Connection,
    enterprise: EnterpriseId,
    kind: ResourceKind,
    offset: usize,
) -> Result<Option<(i64, usize)>, Failure> {
    let kind_code = match kind {
        ResourceKind::User => 0,
        ResourceKind::Group => 1,
    };
    let mut statement = connection.prepare_cached(
        "SELECT bucket, rows FROM scim_key_buckets WHERE enterprise_id = ?1 AND kind = ?2 ORDER BY bucket",
    )?;
    let mut rows = statement.query([enterprise.0, kind_code])?;
    let mut before = 0;
    while let Some(row) = rows.next()? {
        let (bucket, count): (i64, i64) = (row.get(0)?, row.get(1)?);
        let count = usize::try_from(count).map_err(|_| Failure::corrupt(format!("a bucket of {count} rows")))?;
        if before + count > offset {
            return Ok(Some((bucket << BUCKET_BITS, offset - before)));
        }
        before += count;
    }
    Ok(None)
}

/// The database pre-filters (when part of the filter is pushable); the filter and the sort run in Rust.
fn rust_page(
    connection: &Connection,
    enterprise: EnterpriseId,
    kind: ResourceKind,
    pre: Option<&Pred>,
    query: &ResourceQuery,
) -> Result<Page, Failure> {
    let rt = kind.resource_type();
    let mut sql = Sql::select(kind, enterprise, pre);
    sql.text.push_str(" ORDER BY pk");
    let mut candidates = sql.rows(connection)?;
    let relations_loaded = query.filter.as_ref().is_some_and(|filter| pushdown::mentions_relations(kind, filter));
    if relations_loaded {
        load_relations(connection, kind, &mut candidates)?;
    }
    // The filter is compiled once (literals folded and parsed) and run on every candidate, with the lenient
    // semantics of `Filter::matches`; a filter that cannot be evaluated at all matches nothing.
    let compiled = query.filter.as_ref().map(|filter| filter.compile_lenient(rt));
    // Each match with its rendered form, kept for sorting.
    let mut matched: Vec<(Option<Map<String, Value>>, Keyed)> = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        let rendered = match &compiled {
            Some(filter) => {
                let rendered = filterable(kind, &candidate.1);
                if !filter.as_ref().is_some_and(|filter| filter.matches(&rendered)) {
                    continue;
                }
                Some(rendered)
            }
            None => None,
        };
        matched.push((rendered, candidate));
    }
    if let Some(sort_by) = &query.sort_by {
        for (rendered, (_, resource)) in &mut matched {
            if rendered.is_none() {
                *rendered = Some(filterable(kind, resource));
            }
        }
        let empty = Map::new();
        // A stable sort on candidates in key order: equal values keep creation order, as in SQL.
        matched.sort_by(|a, b| -> Ordering {
            let (a, b) = (a.0.as_ref().unwrap_or(&empty), b.0.as_ref().unwrap_or(&empty));
            if query.descending { compare_for_sort(b, a, sort_by, rt) } else { compare_for_sort(a, b, sort_by, rt) }
        });
    }
    let total_results = matched.len();
    let offset = query.start_index.saturating_sub(1);
    let mut page: Vec<(i64, StoredResource)> =
        matched.into_iter().skip(offset).take(query.count).map(|(_, candidate)| candidate).collect();
    match (query.relations.load, relations_loaded) {
        (true, false) if !page.is_empty() => load_relations(connection, kind, &mut page)?,
        (false, true) => {
            for (_, resource) in &mut page {
                resource.members = None;
                resource.groups = None;
            }
        }
        _ => {}
    }
    Ok(Page { total_results, resources: page.into_iter().map(|(_, resource)| resource).collect() })
}

/// A resource with its key.
type Keyed = (i64, StoredResource);

/// How many resources match.
fn count(
    connection: &Connection,
    enterprise: EnterpriseId,
    kind: ResourceKind,
    pred: Option<&Pred>,
) -> Result<usize, Failure> {
    let total: i64 = match pred {
        // The triggers keep the counts, so that an unfiltered list does not count every row.
        None => {
            let sql = match kind {
                ResourceKind::User => "SELECT coalesce(max(user_count), 0) FROM scim_enterprises WHERE id = ?1",
                ResourceKind::Group => "SELECT coalesce(max(group_count), 0) FROM scim_enterprises WHERE id = ?1",
            };
            connection.prepare_cached(sql)?.query_row([enterprise.0], |row| row.get(0))?
        }
        Some(pred) => {
            let mut sql = Sql::new(kind, "count(*)", enterprise, Some(pred));
            let params = std::mem::take(&mut sql.params);
            connection.prepare_cached(&sql.text)?.query_row(rusqlite::params_from_iter(params), |row| row.get(0))?
        }
    };
    usize::try_from(total).map_err(|_| Failure::corrupt(format!("a count of {total}")))
}

/// A statement being built, with its positional parameters.
struct Sql {
    text: String,
    params: Vec<SqlValue>,
}

impl Sql {
    /// `SELECT {what} FROM {table} WHERE enterprise_id = ? [AND (pred)]`.
    fn new(kind: ResourceKind, what: &str, enterprise: EnterpriseId, pred: Option<&Pred>) -> Sql {
        let table = match kind {
            ResourceKind::User => "scim_users",
            ResourceKind::Group => "scim_groups",
        };
        let mut sql = Sql {
            text: format!("SELECT {what} FROM {table} WHERE enterprise_id = ?"),
            params: vec![enterprise.0.into()],
        };
        if let Some(pred) = pred {
            sql.text.push_str(" AND ");
            sql.push_pred(pred);
        }
        sql
    }

    /// The resource rows.
    fn select(kind: ResourceKind, enterprise: EnterpriseId, pred: Option<&Pred>) -> Sql {
        let columns = match kind {
            ResourceKind::User => USER_COLUMNS,
            ResourceKind::Group => GROUP_COLUMNS,
        };
        Sql::new(kind, columns, enterprise, pred)
    }

    fn rows(self, connection: &Connection) -> Result<Vec<(i64, StoredResource)>, Failure> {
        let mut statement = connection.prepare_cached(&self.text)?;
        let mut rows = statement.query(rusqlite::params_from_iter(self.params))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(read_row(row)?);
        }
        Ok(out)
    }

    /// Appends a predicate. Every predicate is two-valued (a NULL column makes a comparison false, never NULL),
    /// so `NOT` negates exactly as the in-Rust evaluator does.
    fn push_pred(&mut self, pred: &Pred) {
        match pred {
            Pred::And(left, right) | Pred::Or(left, right) => {
                let joiner = if matches!(pred, Pred::And(..)) { " AND " } else { " OR " };
                self.text.push('(');
                self.push_pred(left);
                self.text.push_str(joiner);
                self.push_pred(right);
                self.text.push(')');
            }
            Pred::Not(inner) => {
                self.text.push_str("NOT ");
                self.push_pred(inner);
            }
            Pred::Present { column, text } => {
                let name = column_sql(*column, false);
                self.text.push_str(&if *text {
                    format!("({name} IS NOT NULL AND {name} <> '')")
                } else {
                    format!("({name} IS NOT NULL)")
                });
            }
            Pred::Bool { column, value } => {
                let name = column_sql(*column, false);
                self.text.push_str(&format!("({name} IS NOT NULL AND {name} = ?)"));
                self.params.push(SqlValue::Integer(i64::from(*value)));
            }
            Pred::Text { column, folded, op, literal } => self.push_text(*column, *folded, *op, literal),
        }
    }

    fn push_text(&mut self, column: Column, folded: bool, op: TextOp, literal: &str) {
        let name = column_sql(column, folded);
        let guard = if column == Column::Id { String::new() } else { format!("{name} IS NOT NULL AND ") };
        let text = |value: &str| SqlValue::Text(value.to_owned());
        let bytes = |value: &str| SqlValue::Blob(value.as_bytes().to_vec());
        let length = |value: &str| SqlValue::Integer(i64::try_from(value.len()).unwrap_or(i64::MAX));
        // Substring tests run on the UTF-8 bytes (`CAST(x AS BLOB)`), where `substr`, `length` and `instr` count
        // bytes: exact for every string, NUL characters included, and the same as Rust's `str` methods. `substr` of
        // an empty BLOB is NULL, not an empty BLOB, so its comparisons are wrapped in `coalesce(…, 0)`: a condition
        // here is never NULL, or `not` would not be plain negation.
        let condition = match op {
            TextOp::Eq | TextOp::Gt | TextOp::Ge | TextOp::Lt | TextOp::Le => {
                let operator = match op {
                    TextOp::Eq => "=",
                    TextOp::Gt => ">",
                    TextOp::Ge => ">=",
                    TextOp::Lt => "<",
                    _ => "<=",
                };
                self.params.push(text(literal));
                format!("{name} {operator} ?")
            }
            _ if literal.is_empty() => "1".to_owned(),
            TextOp::Co => {
                self.params.push(bytes(literal));
                format!("instr(CAST({name} AS BLOB), ?) > 0")
            }
            TextOp::Sw => {
                // The range (BINARY order is code-point order) lets an index narrow the scan; the `substr` test
                // is the exact one.
                self.params.push(text(literal));
                let mut condition = format!("{name} >= ? AND ");
                if let Some(upper) = prefix_upper_bound(literal) {
                    self.params.push(text(&upper));
                    condition.push_str(&format!("{name} < ? AND "));
                }
                self.params.push(length(literal));
                self.params.push(bytes(literal));
                condition.push_str(&format!("coalesce(substr(CAST({name} AS BLOB), 1, ?) = ?, 0)"));
                condition
            }
            TextOp::Ew => {
                self.params.push(length(literal));
                self.params.push(bytes(literal));
                format!("coalesce(substr(CAST({name} AS BLOB), -?) = ?, 0)")
            }
        };
        self.text.push_str(&format!("({guard}{condition})"));
    }
}

/// The column's name in SQL.
fn column_sql(column: Column, folded: bool) -> &'static str {
    match (column, folded) {
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

/// The smallest string greater than every string that starts with `prefix`: the prefix with its last character
/// incremented (dropping characters that cannot be). `None` when there is none.
fn prefix_upper_bound(prefix: &str) -> Option<String> {
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
