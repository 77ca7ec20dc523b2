//! The backend-neutral steps of a list query: which way the database answers it (the whole query in SQL, or a
//! pre-filter with the rest in Rust, see [`crate::pushdown`]), when a page tells its own total, and the in-Rust
//! filter, sort and page over the candidates, which answers exactly what `Filter::matches` answers as the port's
//! contract demands. Each backend runs the SQL its way around these.

use std::cmp::Ordering;

use roster_provider::port::{Page, ResourceKind, ResourceQuery};
use roster_provider::render::filterable;
use roster_scim_proto::query::compare_for_sort;
use serde_json::{Map, Value};

use crate::provider_rows::Keyed;
use crate::pushdown::{self, Pred, SortColumn};

/// How a list query is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// All of it in SQL: the predicate (`None`: every resource of the enterprise) and the sort column (`None`:
    /// creation order).
    Sql { pred: Option<Pred>, sort: Option<SortColumn> },
    /// The database selects the candidates with `pre` (`None`: every resource), in creation order; the filter, the
    /// sort and the page run in Rust ([`in_rust`]).
    Rust { pre: Option<Pred> },
}

/// Which way the query goes: SQL when the whole filter is pushable and the sort (if any) is by a column.
pub(crate) fn route(kind: ResourceKind, query: &ResourceQuery) -> Route {
    let plan = pushdown::plan(kind, query.filter.as_ref());
    let sort = match &query.sort_by {
        None => Some(None),
        Some(path) => pushdown::sort_column(kind, path).map(Some),
    };
    match sort {
        Some(sort) if plan.exact => Route::Sql { pred: plan.pre, sort },
        _ => Route::Rust { pre: plan.pre },
    }
}

/// The total that a page of an SQL-answered query tells by itself: a short, non-empty page (or an empty first
/// page) ends the result, so its end is the total. `None`: the database must count.
pub(crate) fn total_of_page(query: &ResourceQuery, returned: usize) -> Option<usize> {
    let offset = query.start_index.saturating_sub(1);
    let ends = query.count > 0 && returned < query.count && (returned > 0 || offset == 0);
    ends.then_some(offset + returned)
}

/// Whether the candidates of [`Route::Rust`] need their relations (a group's members, a user's groups) before
/// [`in_rust`], because the filter looks at them.
pub(crate) fn candidates_need_relations(kind: ResourceKind, query: &ResourceQuery) -> bool {
    query.filter.as_ref().is_some_and(|filter| pushdown::mentions_relations(kind, filter))
}

/// The pre-filter of a query that reads one resource at most, its filter requiring equality with a unique key, and
/// no relation (neither asked for nor looked at by the filter). Its candidates, one at most, answer it in Rust
/// ([`in_rust`]) with the right total, so a backend reads them in one statement, without a transaction.
pub(crate) fn single_candidate(kind: ResourceKind, query: &ResourceQuery) -> Option<Pred> {
    if query.relations.load || candidates_need_relations(kind, query) {
        return None;
    }
    let pre = pushdown::plan(kind, query.filter.as_ref()).pre?;
    pushdown::selects_at_most_one(kind, &pre).then_some(pre)
}

/// How many consecutive keys share a bucket of key counts, as a shift (`pk >> 10`): the migrations that keep the
/// counts (SQLite's `0002_key_buckets.sql`, PostgreSQL's `scim_key_counts` in `0003_scim_provider.sql`) must agree.
pub(crate) const BUCKET_BITS: u32 = 10;

/// Where the page that starts `offset` rows into an enterprise's resources (in key order) begins, from the counts of
/// its buckets of keys (`(bucket, rows)` in bucket order): the first key of the bucket that holds that row, and how
/// many rows to step over from there. `None` when there are no more than `offset` resources; `Err` with the count
/// when a bucket's count is negative (the store is corrupt).
pub(crate) fn bucket_start(
    buckets: impl IntoIterator<Item = (i64, i64)>,
    offset: usize,
) -> Result<Option<(i64, usize)>, i64> {
    let mut before = 0;
    for (bucket, count) in buckets {
        let count = usize::try_from(count).map_err(|_| count)?;
        if before + count > offset {
            return Ok(Some((bucket << BUCKET_BITS, offset - before)));
        }
        before += count;
    }
    Ok(None)
}

/// The first key past the page that ends `end` rows into an enterprise's resources (in key order), from the
/// counts of its buckets of keys: the first key of the bucket after the one that holds row `end - 1`. `None` when
/// the page runs to the end. A page read as `pk >= start AND pk < end` reads at most its own rows and those of two
/// buckets, whatever plan the database picks.
pub(crate) fn bucket_end(buckets: impl IntoIterator<Item = (i64, i64)>, end: usize) -> Option<i64> {
    let mut before: i64 = 0;
    let end = i64::try_from(end).ok()?;
    for (bucket, count) in buckets {
        before += count;
        if before >= end {
            return Some((bucket + 1) << BUCKET_BITS);
        }
    }
    None
}

/// The page of a query answered in Rust.
pub(crate) struct RustPage {
    pub(crate) total_results: usize,
    pub(crate) page: Vec<Keyed>,
    /// Whether the backend must still load the page's relations (asked for, and not loaded for the candidates).
    pub(crate) load_relations: bool,
}

impl RustPage {
    /// The port's page.
    pub(crate) fn into_page(self) -> Page {
        Page { total_results: self.total_results, resources: self.page.into_iter().map(|(_, r)| r).collect() }
    }
}

/// Filters the candidates (in creation order) with `Filter::matches`, sorts them with `compare_for_sort` and cuts
/// the page. `relations_loaded` says whether the candidates carry their relations ([`candidates_need_relations`]);
/// they are dropped from the page when the query did not ask for them.
pub(crate) fn in_rust(
    kind: ResourceKind,
    query: &ResourceQuery,
    candidates: Vec<Keyed>,
    relations_loaded: bool,
) -> RustPage {
    let rt = kind.resource_type();
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
    let mut page: Vec<Keyed> =
        matched.into_iter().skip(offset).take(query.count).map(|(_, candidate)| candidate).collect();
    if relations_loaded && !query.relations.load {
        for (_, resource) in &mut page {
            resource.members = None;
            resource.groups = None;
        }
    }
    let load_relations = query.relations.load && !relations_loaded && !page.is_empty();
    RustPage { total_results, page, load_relations }
}

#[cfg(test)]
mod tests {
    use roster_provider::port::Relations;
    use roster_scim_proto::filter::Filter;

    use super::*;

    fn query(filter: Option<&str>, start_index: usize, count: usize) -> ResourceQuery {
        ResourceQuery {
            filter: filter.map(|text| Filter::parse(text).unwrap()),
            sort_by: None,
            descending: false,
            start_index,
            count,
            relations: Relations::default(),
        }
    }

    #[test]
    fn pushable_filters_go_to_sql_and_the_rest_to_rust() {
        assert_eq!(route(ResourceKind::User, &query(None, 1, 10)), Route::Sql { pred: None, sort: None });
        assert!(matches!(route(ResourceKind::User, &query(Some("userName eq \"a\""), 1, 10)), Route::Sql { .. }));
        assert!(matches!(route(ResourceKind::User, &query(Some("title pr"), 1, 10)), Route::Rust { pre: None }));
        let mut sorted = query(None, 1, 10);
        sorted.sort_by = Some(roster_scim_proto::path::AttrPath::parse("title").unwrap());
        assert_eq!(route(ResourceKind::User, &sorted), Route::Rust { pre: None });
    }

    #[test]
    fn unique_keys_without_relations_read_one_candidate() {
        let single = |kind, filter: &str, load: bool| {
            let mut query = query(Some(filter), 1, 10);
            query.relations.load = load;
            single_candidate(kind, &query).is_some()
        };
        assert!(single(ResourceKind::User, "userName eq \"A\" and title pr", false));
        assert!(single(ResourceKind::Group, "externalId eq \"x\"", false));
        assert!(!single(ResourceKind::User, "userName eq \"A\"", true), "relations asked for");
        assert!(!single(ResourceKind::Group, "displayName eq \"x\" and members pr", false), "relations filtered on");
        assert!(!single(ResourceKind::User, "displayName eq \"x\"", false), "not unique");
        assert!(!single(ResourceKind::User, "userName eq \"A\" or title pr", false));
    }

    #[test]
    fn a_deep_page_starts_in_the_bucket_that_holds_its_first_row() {
        // Buckets 0, 1 and 3 (bucket 2 emptied by deletes), of 1,000, 24 and 500 rows.
        let buckets = [(0, 1000), (1, 24), (2, 0), (3, 500)];
        assert_eq!(bucket_start(buckets, 0), Ok(Some((0, 0))));
        assert_eq!(bucket_start(buckets, 999), Ok(Some((0, 999))));
        assert_eq!(bucket_start(buckets, 1000), Ok(Some((1024, 0))));
        assert_eq!(bucket_start(buckets, 1024), Ok(Some((3072, 0))));
        assert_eq!(bucket_start(buckets, 1523), Ok(Some((3072, 499))));
        assert_eq!(bucket_start(buckets, 1524), Ok(None), "past the end");
        assert_eq!(bucket_start([(0, -1)], 0), Err(-1));
    }

    #[test]
    fn a_page_ends_before_the_bucket_after_its_last_row() {
        let buckets = [(0, 1000), (1, 24), (2, 0), (3, 500)];
        assert_eq!(bucket_end(buckets, 1), Some(1024));
        assert_eq!(bucket_end(buckets, 1000), Some(1024));
        assert_eq!(bucket_end(buckets, 1001), Some(2048));
        assert_eq!(bucket_end(buckets, 1024), Some(2048));
        assert_eq!(bucket_end(buckets, 1025), Some(4096));
        assert_eq!(bucket_end(buckets, 1524), Some(4096));
        assert_eq!(bucket_end(buckets, 1525), None, "past the end");
    }

    #[test]
    fn a_short_page_tells_the_total() {
        assert_eq!(total_of_page(&query(None, 1, 10), 3), Some(3));
        assert_eq!(total_of_page(&query(None, 1, 10), 0), Some(0));
        assert_eq!(total_of_page(&query(None, 21, 10), 5), Some(25));
        assert_eq!(total_of_page(&query(None, 21, 10), 0), None, "past the end: count");
        assert_eq!(total_of_page(&query(None, 1, 10), 10), None, "a full page: count");
        assert_eq!(total_of_page(&query(None, 1, 0), 0), None, "count 0: count");
    }
}
