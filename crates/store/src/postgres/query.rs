//! List queries on PostgreSQL: the pushable part of the filter ([`crate::pushdown`]) printed as a `WHERE` clause
//! with `$n` parameters; the rest runs in Rust with `Filter::matches` on the candidates ([`crate::listing`]), as
//! the port's contract demands. A query of several statements runs in the caller's `REPEATABLE READ` transaction,
//! so the page, the total and the relations agree.
//!
//! The printed conditions answer exactly what the evaluator answers:
//! - attribute columns are `bytea` holding UTF-8 (see the migration), compared byte by byte: code-point order,
//!   as Rust compares `str`; the SCIM id is `text COLLATE "C"`, the same order;
//! - `co`, `sw` and `ew` are `position`, `substring` and `length` on the values themselves: no `LIKE`, so `%`
//!   and `_` in a literal are plain characters, and the tests are exact on every string, NUL included;
//! - every condition is two-valued (a NULL column makes it false, never NULL), so `NOT` is plain negation.
//!
//! Lookups by a unique key are prepared once per connection and cached ([`Sql::run`]), as are the reads of the key
//! counts (by their table's primary key); the other statements go unprepared (`query_typed`, one round trip with the parameters' types), planned at every execution. A query by a
//! unique key without relations is one statement, outside a transaction ([`single`]).

use std::fmt::Write as _;

use deadpool_postgres::Transaction;
use roster_provider::port::{Page, ResourceKind, ResourceQuery};
use roster_provider::tenant::EnterpriseId;
use tokio_postgres::types::{ToSql, Type};

use super::resources::{load_relations, read_row, table_and_columns};
use super::{Failure, sql_limit};
use crate::listing::{self, Route};
use crate::provider_rows::Keyed;
use crate::pushdown::{self, Column, Pred, PredWriter, SortColumn, TextOp, prefix_upper_bound, write_pred};

/// Answers a query whose filter selects one resource at most, without relations
/// ([`listing::single_candidate`]): one statement reads the candidate, Rust does the rest.
pub(super) async fn single(
    client: &impl Statements,
    enterprise: EnterpriseId,
    kind: ResourceKind,
    pre: &Pred,
    query: &ResourceQuery,
) -> Result<Page, Failure> {
    let candidates = Sql::select(kind, enterprise, Some(pre)).rows(client).await?;
    Ok(listing::in_rust(kind, query, candidates, false).into_page())
}

/// Answers a list query inside the caller's snapshot transaction.
pub(super) async fn answer(
    transaction: &Transaction<'_>,
    enterprise: EnterpriseId,
    kind: ResourceKind,
    query: &ResourceQuery,
) -> Result<Page, Failure> {
    match listing::route(kind, query) {
        Route::Sql { pred, sort } => sql_page(transaction, enterprise, kind, pred.as_ref(), sort, query).await,
        Route::Rust { pre } => rust_page(transaction, enterprise, kind, pre.as_ref(), query).await,
    }
}

/// The whole query in SQL: the page, and the total only when the page does not tell it.
async fn sql_page(
    transaction: &Transaction<'_>,
    enterprise: EnterpriseId,
    kind: ResourceKind,
    pred: Option<&Pred>,
    sort: Option<SortColumn>,
    query: &ResourceQuery,
) -> Result<Page, Failure> {
    let offset = query.start_index.saturating_sub(1);
    let mut resources = Vec::new();
    // The unfiltered total, when the bucket counts were read for the page.
    let mut counted: Option<i64> = None;
    if query.count > 0 {
        let mut sql = Sql::select(kind, enterprise, pred);
        let mut skip = Some(offset);
        if pred.is_none() && sort.is_none() {
            // An unfiltered list in key order reads the range of keys its page falls in, found from the counts of
            // keys per bucket (see `scim_key_counts`): it starts at the first key of the bucket that holds its first
            // row, steps over fewer than 1,024 rows, and ends before the bucket after its last row. Bounded so, the
            // page reads a few thousand rows at most even when the planner, with statistics that lag behind a
            // table just filled, sorts the range instead of walking the index (345 ms a page at 100,000 users
            // without the upper bound).
            let rows = key_counts(
                transaction,
                enterprise,
                kind,
                "bucket, sum(rows)::bigint",
                " GROUP BY bucket ORDER BY bucket",
            )
            .await?;
            let buckets = rows
                .iter()
                .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
                .collect::<Result<Vec<(i64, i64)>, Failure>>()?;
            counted = Some(buckets.iter().map(|(_, rows)| rows).sum());
            let start = listing::bucket_start(buckets.iter().copied(), offset)
                .map_err(|count| Failure::corrupt(format!("a bucket of {count} rows")))?;
            skip = start.map(|(first_pk, skip)| {
                let first_pk = sql.bind(Param::Int(first_pk));
                let _ = write!(sql.text, " AND pk >= {first_pk}");
                if let Some(end) = listing::bucket_end(buckets, offset.saturating_add(query.count)) {
                    let end = sql.bind(Param::Int(end));
                    let _ = write!(sql.text, " AND pk < {end}");
                }
                skip
            });
        }
        match sort {
            None => sql.text.push_str(" ORDER BY pk"),
            Some(sort) => {
                let column = sort.column.sql_name(sort.folded);
                let order = if query.descending { "DESC NULLS FIRST" } else { "ASC NULLS LAST" };
                let _ = write!(sql.text, " ORDER BY {column} {order}, pk");
            }
        }
        // No bucket holds the first row: the page starts past the end.
        if let Some(skip) = skip {
            let limit = sql.bind(Param::Int(sql_limit(query.count)));
            let skip = sql.bind(Param::Int(sql_limit(skip)));
            let _ = write!(sql.text, " LIMIT {limit} OFFSET {skip}");
            resources = sql.rows(transaction).await?;
        }
    }
    let total_results = match (listing::total_of_page(query, resources.len()), pred) {
        (Some(total), _) => total,
        (None, None) => {
            let total = match counted {
                Some(total) => total,
                None => {
                    let rows = key_counts(transaction, enterprise, kind, "coalesce(sum(rows), 0)::bigint", "").await?;
                    rows.first().map(|row| row.try_get(0)).transpose()?.unwrap_or(0)
                }
            };
            usize::try_from(total).map_err(|_| Failure::corrupt(format!("a count of {total}")))?
        }
        (None, Some(pred)) => Sql::new(kind, "count(*)", enterprise, Some(pred)).count(transaction).await?,
    };
    if query.relations.load && !resources.is_empty() {
        load_relations(transaction, kind, &mut resources).await?;
    }
    Ok(Page { total_results, resources: resources.into_iter().map(|(_, resource)| resource).collect() })
}

/// Reads `what` from the enterprise's key counts of this kind (`scim_key_counts`), with a `tail` (grouping, order).
async fn key_counts(
    transaction: &Transaction<'_>,
    enterprise: EnterpriseId,
    kind: ResourceKind,
    what: &str,
    tail: &str,
) -> Result<Vec<tokio_postgres::Row>, Failure> {
    let kind_code: i16 = match kind {
        ResourceKind::User => 0,
        ResourceKind::Group => 1,
    };
    let statement = transaction
        .prepare_cached(&format!("SELECT {what} FROM scim_key_counts WHERE enterprise_id = $1 AND kind = $2{tail}"))
        .await?;
    Ok(transaction.query(&statement, &[&enterprise.0, &kind_code]).await?)
}

/// The database pre-filters (when part of the filter is pushable); the filter, the sort and the page run in Rust.
async fn rust_page(
    transaction: &Transaction<'_>,
    enterprise: EnterpriseId,
    kind: ResourceKind,
    pre: Option<&Pred>,
    query: &ResourceQuery,
) -> Result<Page, Failure> {
    let mut sql = Sql::select(kind, enterprise, pre);
    sql.text.push_str(" ORDER BY pk");
    let mut candidates = sql.rows(transaction).await?;
    let relations_loaded = listing::candidates_need_relations(kind, query);
    if relations_loaded {
        load_relations(transaction, kind, &mut candidates).await?;
    }
    let mut answer = listing::in_rust(kind, query, candidates, relations_loaded);
    if answer.load_relations {
        load_relations(transaction, kind, &mut answer.page).await?;
    }
    Ok(answer.into_page())
}

/// A value bound to a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Param {
    Int(i64),
    Bool(bool),
    /// A value of a `text` column (the SCIM id).
    Text(String),
    /// A value of a `bytea` column: the UTF-8 of a string.
    Bytes(Vec<u8>),
}

impl Param {
    fn typed(&self) -> (&(dyn ToSql + Sync), Type) {
        match self {
            Param::Int(value) => (value, Type::INT8),
            Param::Bool(value) => (value, Type::BOOL),
            Param::Text(value) => (value, Type::TEXT),
            Param::Bytes(value) => (value, Type::BYTEA),
        }
    }
}

/// How many statements a connection's cache holds at most before list statements go unprepared.
const MAX_CACHED: usize = 200;

/// A pooled connection or a transaction on one, with its connection's statement cache.
#[async_trait::async_trait]
pub(super) trait Statements: deadpool_postgres::GenericClient + Sync {
    /// How many statements the connection's cache holds.
    fn cached_statements(&self) -> usize;

    /// Runs a statement without preparing it for later (one round trip, the parameters' types given).
    async fn query_unprepared(
        &self,
        text: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Vec<tokio_postgres::Row>, tokio_postgres::Error>;
}

#[async_trait::async_trait]
impl Statements for deadpool_postgres::Object {
    fn cached_statements(&self) -> usize {
        self.statement_cache.size()
    }

    async fn query_unprepared(
        &self,
        text: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Vec<tokio_postgres::Row>, tokio_postgres::Error> {
        self.query_typed(text, params).await
    }
}

#[async_trait::async_trait]
impl Statements for Transaction<'_> {
    fn cached_statements(&self) -> usize {
        self.statement_cache.size()
    }

    async fn query_unprepared(
        &self,
        text: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Vec<tokio_postgres::Row>, tokio_postgres::Error> {
        self.query_typed(text, params).await
    }
}

/// A statement being built, with its parameters (`$1` is the enterprise).
#[derive(Debug)]
struct Sql {
    text: String,
    params: Vec<Param>,
    /// Whether the statement may be prepared and kept: its filter requires equality with a unique key, which the
    /// planner answers with that key's index whatever the table's statistics (see [`Sql::run`]).
    cacheable: bool,
}

impl Sql {
    /// `SELECT {what} FROM {table} WHERE enterprise_id = $1 [AND (pred)]`.
    fn new(kind: ResourceKind, what: &str, enterprise: EnterpriseId, pred: Option<&Pred>) -> Sql {
        let (table, _) = table_and_columns(kind);
        let mut sql = Sql {
            text: format!("SELECT {what} FROM {table} WHERE enterprise_id = $1"),
            params: vec![Param::Int(enterprise.0)],
            cacheable: pred.is_some_and(|pred| pushdown::selects_at_most_one(kind, pred)),
        };
        if let Some(pred) = pred {
            sql.text.push_str(" AND ");
            write_pred(&mut sql, pred);
        }
        sql
    }

    /// The resource rows.
    fn select(kind: ResourceKind, enterprise: EnterpriseId, pred: Option<&Pred>) -> Sql {
        let (_, columns) = table_and_columns(kind);
        Sql::new(kind, columns, enterprise, pred)
    }

    /// Adds a parameter; returns its placeholder.
    fn bind(&mut self, param: Param) -> String {
        self.params.push(param);
        format!("${}", self.params.len())
    }

    fn typed(&self) -> Vec<(&(dyn ToSql + Sync), Type)> {
        self.params.iter().map(Param::typed).collect()
    }

    /// Runs the statement. A lookup by a unique key (`userName eq "..."`, which a provisioning service sends
    /// before each create) is prepared once per connection and kept, while the connection's statement cache holds
    /// fewer than [`MAX_CACHED`] statements: planning it costs more than running it (about 1 ms against 0.05 ms),
    /// and its text repeats exactly (literals are parameters). Every other statement goes unprepared, planned for
    /// its parameters and the table's current size at every execution (see "Lookups by a set of keys" in `crate::postgres` for the
    /// stale generic plans that would follow otherwise); so does every statement once the cache is full (clients
    /// sending filters of ever new shapes), which keeps the cache bounded.
    async fn run(&self, client: &impl Statements) -> Result<Vec<tokio_postgres::Row>, Failure> {
        if !self.cacheable || client.cached_statements() >= MAX_CACHED {
            return Ok(client.query_unprepared(&self.text, &self.typed()).await?);
        }
        let types: Vec<Type> = self.params.iter().map(|param| param.typed().1).collect();
        let statement = client.prepare_typed_cached(&self.text, &types).await?;
        let params: Vec<&(dyn ToSql + Sync)> = self.params.iter().map(|param| param.typed().0).collect();
        Ok(client.query(&statement, &params).await?)
    }

    async fn rows(&self, client: &impl Statements) -> Result<Vec<Keyed>, Failure> {
        self.run(client).await?.iter().map(read_row).collect()
    }

    async fn count(&self, transaction: &Transaction<'_>) -> Result<usize, Failure> {
        let rows = self.run(transaction).await?;
        let row = rows.first().ok_or_else(|| Failure::corrupt("a count without a row".to_owned()))?;
        let total: i64 = row.try_get(0)?;
        usize::try_from(total).map_err(|_| Failure::corrupt(format!("a count of {total}")))
    }

    /// The condition of a string comparison on the SCIM id (`text`, never NULL). PostgreSQL refuses U+0000 in
    /// `text`, so no id holds it and a literal with it cannot be bound: it equals, contains, starts and ends no id,
    /// and for an id without NUL, `id > literal` is `id > p` and `id < literal` is `id <= p`, where `p` is the
    /// literal up to its first NUL (the literal is `p` followed by the smallest character).
    fn id_condition(&mut self, op: TextOp, literal: &str) -> String {
        let name = Column::Id.sql_name(false);
        if let Some(nul) = literal.find('\0') {
            let before = Param::Text(literal[..nul].to_owned());
            return match op {
                TextOp::Eq | TextOp::Co | TextOp::Sw | TextOp::Ew => "FALSE".to_owned(),
                TextOp::Gt | TextOp::Ge => format!("{name} > {}", self.bind(before)),
                TextOp::Lt | TextOp::Le => format!("{name} <= {}", self.bind(before)),
            };
        }
        if literal.is_empty() && matches!(op, TextOp::Co | TextOp::Sw | TextOp::Ew) {
            return "TRUE".to_owned();
        }
        let value = self.bind(Param::Text(literal.to_owned()));
        match op {
            TextOp::Co => format!("position({value} IN {name}) > 0"),
            TextOp::Sw => format!("starts_with({name}, {value})"),
            TextOp::Ew => format!("right({name}, length({value})) = {value}"),
            TextOp::Eq | TextOp::Gt | TextOp::Ge | TextOp::Lt | TextOp::Le => {
                format!("{name} {} {value}", operator(op))
            }
        }
    }
}

impl PredWriter for Sql {
    fn text(&mut self) -> &mut String {
        &mut self.text
    }

    fn bind_bool(&mut self, value: bool) -> String {
        self.bind(Param::Bool(value))
    }

    /// Attribute columns are `bytea`, the id is `text` ([`Sql::id_condition`]).
    fn text_condition(&mut self, column: Column, folded: bool, op: TextOp, literal: &str) -> String {
        let name = column.sql_name(folded);
        if column == Column::Id {
            return self.id_condition(op, literal);
        }
        let bytes = |value: &str| Param::Bytes(value.as_bytes().to_vec());
        match op {
            TextOp::Eq | TextOp::Gt | TextOp::Ge | TextOp::Lt | TextOp::Le => {
                let value = self.bind(bytes(literal));
                format!("{name} {} {value}", operator(op))
            }
            _ if literal.is_empty() => "TRUE".to_owned(),
            TextOp::Co => format!("position({} IN {name}) > 0", self.bind(bytes(literal))),
            TextOp::Sw => {
                // The range lets an index narrow the scan; the `substring` test is the exact one.
                let mut condition = format!("{name} >= {} AND ", self.bind(bytes(literal)));
                if let Some(upper) = prefix_upper_bound(literal) {
                    let _ = write!(condition, "{name} < {} AND ", self.bind(bytes(&upper)));
                }
                let value = self.bind(bytes(literal));
                let _ = write!(condition, "substring({name} FROM 1 FOR length({value})) = {value}");
                condition
            }
            TextOp::Ew => {
                let value = self.bind(bytes(literal));
                format!(
                    "length({name}) >= length({value}) AND substring({name} FROM length({name}) - length({value}) + 1) \
                     = {value}"
                )
            }
        }
    }
}

/// The SQL operator of an ordering or equality test.
fn operator(op: TextOp) -> &'static str {
    match op {
        TextOp::Eq => "=",
        TextOp::Gt => ">",
        TextOp::Ge => ">=",
        TextOp::Lt => "<",
        TextOp::Le => "<=",
        TextOp::Co | TextOp::Sw | TextOp::Ew => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(column: Column, folded: bool, op: TextOp, literal: &str) -> Pred {
        Pred::Text { column, folded, op, literal: literal.into() }
    }

    #[test]
    fn substring_tests_bind_their_literal_and_use_no_like() {
        let pred = Pred::Not(Box::new(Pred::Or(
            Box::new(text(Column::UserName, true, TextOp::Sw, "a%_")),
            Box::new(text(Column::DisplayName, false, TextOp::Ew, "x")),
        )));
        let sql = Sql::new(ResourceKind::User, "count(*)", EnterpriseId(7), Some(&pred));
        assert_eq!(
            sql.text,
            "SELECT count(*) FROM scim_users WHERE enterprise_id = $1 AND NOT ((user_name_folded IS NOT NULL AND \
             user_name_folded >= $2 AND user_name_folded < $3 AND substring(user_name_folded FROM 1 FOR \
             length($4)) = $4) OR (display_name IS NOT NULL AND length(display_name) >= length($5) AND \
             substring(display_name FROM length(display_name) - length($5) + 1) = $5))"
        );
        assert_eq!(sql.params[1], Param::Bytes(b"a%_".to_vec()));
        assert_eq!(sql.params[2], Param::Bytes(b"a%`".to_vec()));
        assert!(!sql.text.contains("LIKE"));
    }

    #[test]
    fn an_id_literal_with_nul_compares_with_the_part_before_it() {
        let condition = |op, literal: &str| {
            let mut sql = Sql::new(ResourceKind::Group, "pk", EnterpriseId(1), None);
            let condition = sql.text_condition(Column::Id, false, op, literal);
            (condition, sql.params.into_iter().skip(1).collect::<Vec<_>>())
        };
        assert_eq!(condition(TextOp::Eq, "a\0b"), ("FALSE".to_owned(), vec![]));
        assert_eq!(condition(TextOp::Ge, "a\0b"), ("id > $2".to_owned(), vec![Param::Text("a".into())]));
        assert_eq!(condition(TextOp::Lt, "a\0"), ("id <= $2".to_owned(), vec![Param::Text("a".into())]));
        assert_eq!(condition(TextOp::Co, ""), ("TRUE".to_owned(), vec![]));
        assert_eq!(condition(TextOp::Sw, "u1"), ("starts_with(id, $2)".to_owned(), vec![Param::Text("u1".into())]));
    }
}
