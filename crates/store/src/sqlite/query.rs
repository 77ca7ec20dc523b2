//! List queries on SQLite: the pushable part of the filter (see [`crate::pushdown`]) becomes a `WHERE` clause;
//! the rest runs in Rust with `Filter::matches` on the candidates ([`crate::listing`]), as the port's contract
//! demands.

use roster_provider::port::{Page, ResourceKind, ResourceQuery};
use roster_provider::tenant::EnterpriseId;
use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;

use super::resources::{GROUP_COLUMNS, USER_COLUMNS, load_relations, read_row};
use super::{Failure, in_read_transaction};
use crate::listing::{self, Route};
use crate::provider_rows::Keyed;
use crate::pushdown::{self, Column, Pred, PredWriter, SortColumn, TextOp, prefix_upper_bound, write_pred};

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
    match listing::route(kind, query) {
        Route::Sql { pred, sort } => sql_page(connection, enterprise, kind, pred.as_ref(), sort, query),
        Route::Rust { pre } => rust_page(connection, enterprise, kind, pre.as_ref(), query),
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
                    let column = sort.column.sql_name(sort.folded);
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
    let total_results = match listing::total_of_page(query, resources.len()) {
        Some(total) => total,
        None => count(connection, enterprise, kind, pred)?,
    };
    if query.relations.load && !resources.is_empty() {
        load_relations(connection, kind, &mut resources)?;
    }
    Ok(Page { total_results, resources: resources.into_iter().map(|(_, resource)| resource).collect() })
}

/// Where the page that starts `offset` rows into the enterprise's resources (in key order) begins: the first key
/// of the bucket that holds that row, and how many rows to step over from there (see [`listing::bucket_start`]).
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
    let buckets = statement
        .query_map([enterprise.0, kind_code], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<Vec<(i64, i64)>, _>>()?;
    listing::bucket_start(buckets, offset).map_err(|count| Failure::corrupt(format!("a bucket of {count} rows")))
}

/// The database pre-filters (when part of the filter is pushable); the filter, the sort and the page run in Rust.
fn rust_page(
    connection: &Connection,
    enterprise: EnterpriseId,
    kind: ResourceKind,
    pre: Option<&Pred>,
    query: &ResourceQuery,
) -> Result<Page, Failure> {
    let mut sql = Sql::select(kind, enterprise, pre);
    sql.text.push_str(" ORDER BY pk");
    let mut candidates = sql.rows(connection)?;
    let relations_loaded = listing::candidates_need_relations(kind, query);
    if relations_loaded {
        load_relations(connection, kind, &mut candidates)?;
    }
    let mut answer = listing::in_rust(kind, query, candidates, relations_loaded);
    if answer.load_relations {
        load_relations(connection, kind, &mut answer.page)?;
    }
    Ok(answer.into_page())
}

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
            write_pred(&mut sql, pred);
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

    fn rows(self, connection: &Connection) -> Result<Vec<Keyed>, Failure> {
        let mut statement = connection.prepare_cached(&self.text)?;
        let mut rows = statement.query(rusqlite::params_from_iter(self.params))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(read_row(row)?);
        }
        Ok(out)
    }
}

impl PredWriter for Sql {
    fn text(&mut self) -> &mut String {
        &mut self.text
    }

    fn bind_bool(&mut self, value: bool) -> String {
        self.params.push(SqlValue::Integer(i64::from(value)));
        "?".to_owned()
    }

    fn text_condition(&mut self, column: Column, folded: bool, op: TextOp, literal: &str) -> String {
        let name = column.sql_name(folded);
        let text = |value: &str| SqlValue::Text(value.to_owned());
        let bytes = |value: &str| SqlValue::Blob(value.as_bytes().to_vec());
        let length = |value: &str| SqlValue::Integer(i64::try_from(value.len()).unwrap_or(i64::MAX));
        // Substring tests run on the UTF-8 bytes (`CAST(x AS BLOB)`), where `substr`, `length` and `instr` count
        // bytes: exact for every string, NUL characters included, and the same as Rust's `str` methods. `substr` of
        // an empty BLOB is NULL, not an empty BLOB, so its comparisons are wrapped in `coalesce(…, 0)`: a condition
        // here is never NULL, or `not` would not be plain negation.
        match op {
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
        }
    }
}
