//! The query string: which OData options a request gives, each parsed and checked for form.

use super::parse::{is_identifier, property_path};
use super::{ErrorCode, Filter, ODataError, PropertyPath};

/// The OData options of a request, from [`parse_query`]. Absent options are `None`, empty or `false`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// `$filter`.
    pub filter: Option<Filter>,
    /// `$select`: property names, trimmed, in the order given.
    pub select: Option<Vec<String>>,
    /// `$top` as given (any integer); [`Query::page_size`] checks it against the collection's limit.
    pub top: Option<i64>,
    /// `$orderby`: sort keys, most significant first.
    pub orderby: Vec<OrderBy>,
    /// `$count=true`.
    pub count: bool,
    /// `$skiptoken`, percent-decoded but otherwise as given (see [`decode_skiptoken`](super::decode_skiptoken)).
    pub skiptoken: Option<String>,
    /// `$format` as given (roster serves `json` or `csv` for provisioning logs; the handler checks it).
    pub format: Option<String>,
}

/// One key of `$orderby`: `prop`, `prop asc` or `prop desc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    /// The property sorted on.
    pub path: PropertyPath,
    /// Whether the order is descending (`desc`); ascending is the default.
    pub descending: bool,
}

/// The options [`parse_query`] knows, by name without the `$`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QueryOption {
    Filter,
    Select,
    Top,
    OrderBy,
    Count,
    SkipToken,
    Format,
    Expand,
    Search,
}

impl QueryOption {
    const ALL: [(&'static str, QueryOption); 9] = [
        ("filter", QueryOption::Filter),
        ("select", QueryOption::Select),
        ("top", QueryOption::Top),
        ("orderby", QueryOption::OrderBy),
        ("count", QueryOption::Count),
        ("skiptoken", QueryOption::SkipToken),
        ("format", QueryOption::Format),
        ("expand", QueryOption::Expand),
        ("search", QueryOption::Search),
    ];

    fn from_name(name: &str) -> Option<QueryOption> {
        QueryOption::ALL.iter().find(|(known, _)| known.eq_ignore_ascii_case(name)).map(|(_, option)| *option)
    }

    fn name(self) -> &'static str {
        QueryOption::ALL.iter().find(|(_, option)| *option == self).map_or("", |(name, _)| name)
    }
}

/// Parses a raw URL query string (with or without its leading `?`): `&`-separated `name=value` pairs,
/// percent-decoded (`%20`, `%27`, `+` for a space; invalid UTF-8 becomes U+FFFD).
///
/// Options are recognised with or without their `$` (`filter=` is `$filter=`) and in any case. Unknown
/// `$`-options are 400 `Request_UnsupportedQuery`, as are `$expand` and `$search`; parameters without a `$` that
/// are not options are ignored; an option given twice is 400 `BadRequest`. Each option's value must be
/// well-formed: `$filter` (see [`Filter::parse`]), `$select` (comma-separated property names), `$top` (an
/// integer: `invalidRange` otherwise), `$orderby` (comma-separated `prop [asc|desc]`), `$count` (`true` or
/// `false`). `$skiptoken` and `$format` are kept as given.
///
/// ```
/// use roster_admin_api::odata::parse_query;
/// let query = parse_query("$filter=startswith(displayName,%27J%27)&$top=5&$count=true&api-version=2").unwrap();
/// assert_eq!(query.filter.unwrap().to_string(), "startswith(displayName,'J')");
/// assert_eq!((query.top, query.count), (Some(5), true));
/// ```
pub fn parse_query(raw: &str) -> Result<Query, ODataError> {
    let raw = raw.strip_prefix('?').unwrap_or(raw);
    let mut query = Query::default();
    let mut seen = Vec::new();
    for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
        let (dollar, bare) = match name.strip_prefix('$') {
            Some(bare) => (true, bare),
            None => (false, name.as_ref()),
        };
        let Some(option) = QueryOption::from_name(bare) else {
            if dollar {
                return Err(ODataError::new(
                    ErrorCode::UnsupportedQuery,
                    format!(
                        "Query option '{name}' is not supported: the options are $filter, $select, $top, $orderby, \
                         $count, $skiptoken and $format."
                    ),
                ));
            }
            continue;
        };
        if seen.contains(&option) {
            return Err(ODataError::new(
                ErrorCode::BadRequest,
                format!(
                    "Query option '${}' was specified more than once, but it must be specified at most once.",
                    option.name()
                ),
            ));
        }
        seen.push(option);
        match option {
            QueryOption::Filter => query.filter = Some(Filter::parse(&value)?),
            QueryOption::Select => query.select = Some(select(&value)?),
            QueryOption::Top => query.top = Some(top(&value)?),
            QueryOption::OrderBy => query.orderby = orderby(&value)?,
            QueryOption::Count => query.count = count(&value)?,
            QueryOption::SkipToken => query.skiptoken = Some(value.into_owned()),
            QueryOption::Format => query.format = Some(value.into_owned()),
            QueryOption::Expand | QueryOption::Search => {
                return Err(ODataError::new(
                    ErrorCode::UnsupportedQuery,
                    format!("Query option '${}' is not supported.", option.name()),
                ));
            }
        }
    }
    Ok(query)
}

impl Query {
    /// The page size: `$top` if given and within `1..=max`, else `default` (at most `max`). A `$top` outside the
    /// range is 400 `invalidRange`: `Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.`
    pub fn page_size(&self, default: usize, max: usize) -> Result<usize, ODataError> {
        let Some(top) = self.top else { return Ok(default.min(max)) };
        usize::try_from(top).ok().filter(|size| (1..=max).contains(size)).ok_or_else(|| {
            ODataError::new(
                ErrorCode::InvalidRange,
                format!("Invalid page size specified: '{top}'. Must be between 1 and {max} inclusive."),
            )
        })
    }
}

/// `$select`: property names separated by commas.
fn select(value: &str) -> Result<Vec<String>, ODataError> {
    let mut names = Vec::new();
    for (index, item) in value.split(',').enumerate() {
        let name = item.trim();
        if name.is_empty() {
            return Err(ODataError::new(
                ErrorCode::BadRequest,
                format!(
                    "$select has an empty property name at item {}: write names separated by commas, as in \
                     $select=id,displayName",
                    index + 1
                ),
            ));
        }
        if !is_identifier(name) {
            return Err(ODataError::new(ErrorCode::BadRequest, format!("'{name}' in $select is not a property name")));
        }
        names.push(name.to_owned());
    }
    Ok(names)
}

/// `$top`: an integer.
fn top(value: &str) -> Result<i64, ODataError> {
    value.parse::<i64>().map_err(|_| {
        ODataError::new(ErrorCode::InvalidRange, format!("Invalid page size specified: '{value}'. Must be an integer."))
    })
}

/// `$orderby`: `prop [asc|desc]`, separated by commas.
fn orderby(value: &str) -> Result<Vec<OrderBy>, ODataError> {
    let bad = |message: String| ODataError::new(ErrorCode::BadRequest, message);
    let mut keys = Vec::new();
    for (index, item) in value.split(',').enumerate() {
        let mut words = item.split_whitespace();
        let Some(property) = words.next() else {
            return Err(bad(format!(
                "$orderby has an empty sort key at item {}: write keys separated by commas, as in \
                 $orderby=displayName desc,userPrincipalName",
                index + 1
            )));
        };
        let path =
            property_path(property).ok_or_else(|| bad(format!("'{property}' in $orderby is not a property path")))?;
        let direction = words.next();
        let descending = match direction {
            None => false,
            Some(direction) if direction.eq_ignore_ascii_case("asc") => false,
            Some(direction) if direction.eq_ignore_ascii_case("desc") => true,
            Some(other) => {
                return Err(bad(format!("expected 'asc' or 'desc' after '{property}' in $orderby, found '{other}'")));
            }
        };
        if let Some(extra) = words.next() {
            let key = format!("{property} {}", direction.unwrap_or_default());
            return Err(bad(format!("unexpected '{extra}' in $orderby after '{key}'")));
        }
        keys.push(OrderBy { path, descending });
    }
    Ok(keys)
}

/// `$count`: `true` or `false`.
fn count(value: &str) -> Result<bool, ODataError> {
    if value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(ODataError::new(
            ErrorCode::BadRequest,
            format!("Invalid value '{value}' for $count: expected true or false."),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(raw: &str) -> ODataError {
        parse_query(raw).expect_err(raw)
    }

    #[test]
    fn empty_and_ignored() {
        assert_eq!(parse_query(""), Ok(Query::default()));
        assert_eq!(parse_query("?"), Ok(Query::default()));
        assert_eq!(parse_query("api-version=1.6&&x=y&ConsistencyLevel=eventual"), Ok(Query::default()));
    }

    #[test]
    fn every_option() {
        let query = parse_query(
            "?$filter=startswith(displayName,'J')&$select=id,%20displayName ,mail&$top=5&\
             $orderby=displayName%20desc,userPrincipalName asc,createdDateTime&$count=true&$skiptoken=abc-_&$format=csv",
        )
        .unwrap();
        assert_eq!(query.filter.as_ref().map(ToString::to_string).as_deref(), Some("startswith(displayName,'J')"));
        assert_eq!(query.select, Some(vec!["id".to_owned(), "displayName".to_owned(), "mail".to_owned()]));
        assert_eq!(query.top, Some(5));
        let keys: Vec<(String, bool)> =
            query.orderby.iter().map(|key| (key.path.to_string(), key.descending)).collect();
        assert_eq!(
            keys,
            [
                ("displayName".to_owned(), true),
                ("userPrincipalName".to_owned(), false),
                ("createdDateTime".to_owned(), false)
            ]
        );
        assert!(query.count);
        assert_eq!(query.skiptoken.as_deref(), Some("abc-_"));
        assert_eq!(query.format.as_deref(), Some("csv"));
        assert_eq!(query.page_size(100, 999), Ok(5));
    }

    #[test]
    fn percent_encoding() {
        let query =
            parse_query("%24filter=displayName+eq+%27O%27%27Brien%27%20and%20id%20in%20(%27a%27%2C%27b%27)").unwrap();
        assert_eq!(query.filter.unwrap().to_string(), "displayName eq 'O''Brien' and id in ('a','b')");
        let query = parse_query("$filter=activityDateTime%20gt%202026-01-01T00%3A00%3A00%2B02%3A00").unwrap();
        assert_eq!(query.filter.unwrap().to_string(), "activityDateTime gt 2026-01-01T00:00:00+02:00");
        // An unencoded `+` is a space, as in every form-encoded query string.
        let error = refused("$filter=t gt 2026-01-01T00:00:00+02:00");
        assert_eq!((error.code(), error.column), ("BadRequest", Some(6)));
        let query = parse_query("$filter=displayName%20eq%20%27%C3%BCn%C3%AF%20%E6%97%A5%27&$skiptoken=a%2Bb").unwrap();
        assert_eq!(query.filter.unwrap().to_string(), "displayName eq 'ünï 日'");
        assert_eq!(query.skiptoken.as_deref(), Some("a+b"));
        let query = parse_query("$filter=a%20eq%20%27%FF%27").unwrap();
        assert_eq!(query.filter.unwrap().to_string(), "a eq '\u{fffd}'");
    }

    #[test]
    fn options_without_dollar_and_in_any_case() {
        let query = parse_query("filter=a eq 1&TOP=3&$Count=TRUE&Select=id&orderBy=a").unwrap();
        assert_eq!(query.filter.unwrap().to_string(), "a eq 1");
        assert_eq!((query.top, query.count), (Some(3), true));
        assert_eq!(query.select, Some(vec!["id".to_owned()]));
        assert_eq!(query.orderby.len(), 1);
    }

    #[test]
    fn page_size() {
        let parsed = |raw: &str| parse_query(raw).unwrap();
        assert_eq!(parsed("").page_size(100, 999), Ok(100));
        assert_eq!(parsed("").page_size(100, 50), Ok(50));
        assert_eq!(parsed("$top=1").page_size(100, 999), Ok(1));
        assert_eq!(parsed("$top=999").page_size(100, 999), Ok(999));
        let error = parsed("$top=1000").page_size(100, 999).unwrap_err();
        assert_eq!(error.code(), "invalidRange");
        assert_eq!(error.to_string(), "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.");
        assert_eq!(
            parsed("$top=0").page_size(100, 999).unwrap_err().to_string(),
            "Invalid page size specified: '0'. Must be between 1 and 999 inclusive."
        );
        assert_eq!(
            parsed("$top=-5").page_size(100, 1000).unwrap_err().to_string(),
            "Invalid page size specified: '-5'. Must be between 1 and 1000 inclusive."
        );
        assert_eq!(parsed("$top=1000").page_size(100, 1000), Ok(1000));
        for raw in ["$top=abc", "$top=", "$top=1.5", "$top=99999999999999999999", "$top= 5"] {
            let error = refused(raw);
            assert_eq!(error.code(), "invalidRange", "{raw}");
            assert!(error.message.ends_with("Must be an integer."), "{raw}: {error}");
        }
        assert_eq!(refused("$top=abc").to_string(), "Invalid page size specified: 'abc'. Must be an integer.");
    }

    #[test]
    fn duplicates_are_refused() {
        for raw in
            ["$top=1&$top=2", "$filter=a eq 1&filter=b eq 2", "$count=true&$COUNT=false", "$skiptoken=a&skiptoken=a"]
        {
            let error = refused(raw);
            assert_eq!(error.code(), "BadRequest", "{raw}");
            assert!(
                error.message.contains("was specified more than once, but it must be specified at most once"),
                "{raw}"
            );
        }
        assert_eq!(
            refused("$top=1&top=2").to_string(),
            "Query option '$top' was specified more than once, but it must be specified at most once."
        );
    }

    #[test]
    fn unknown_and_unsupported_options() {
        let unknown = refused("$x=1");
        assert_eq!(unknown.code(), "Request_UnsupportedQuery");
        assert!(unknown.message.starts_with("Query option '$x' is not supported"), "{unknown}");
        assert_eq!(refused("$skip=10").code(), "Request_UnsupportedQuery");
        assert_eq!(refused("$=1").code(), "Request_UnsupportedQuery");
        for raw in ["$expand=manager", "$search=\"displayName:ada\"", "expand=manager", "$SEARCH=x"] {
            let error = refused(raw);
            assert_eq!(error.code(), "Request_UnsupportedQuery", "{raw}");
            assert!(error.message.ends_with("is not supported."), "{raw}: {error}");
        }
        assert_eq!(refused("$expand=manager").to_string(), "Query option '$expand' is not supported.");
        assert_eq!(parse_query("skip=10&x=$y"), Ok(Query::default()));
    }

    #[test]
    fn malformed_values() {
        let cases = [
            ("$filter=", "$filter column 1: expected a condition"),
            ("$filter=displayName eq", "$filter column 15: expected a value after 'eq'"),
            ("$select=", "$select has an empty property name at item 1"),
            ("$select=id,,mail", "$select has an empty property name at item 2"),
            ("$select=id, ", "$select has an empty property name at item 2"),
            ("$select=id;mail", "'id;mail' in $select is not a property name"),
            ("$orderby=", "$orderby has an empty sort key at item 1"),
            ("$orderby=a,", "$orderby has an empty sort key at item 2"),
            ("$orderby=a up", "expected 'asc' or 'desc' after 'a' in $orderby, found 'up'"),
            ("$orderby=a desc b", "unexpected 'b' in $orderby after 'a desc'"),
            ("$orderby=a/ desc", "'a/' in $orderby is not a property path"),
            ("$count=yes", "Invalid value 'yes' for $count: expected true or false."),
            ("$count", "Invalid value '' for $count: expected true or false."),
        ];
        for (raw, fragment) in cases {
            let error = refused(raw);
            assert_eq!(error.code(), "BadRequest", "{raw}");
            assert!(error.message.contains(fragment), "{raw}: {error}");
        }
        assert_eq!(
            parse_query("$orderby=initiatedBy/user/id DESC").unwrap().orderby[0].path.to_string(),
            "initiatedBy/user/id"
        );
    }
}
