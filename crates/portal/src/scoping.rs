//! The scoping filter editor of an object kind, as Entra's Source Object Scope: filters of clauses (Attribute
//! Name, Operator, Attribute Value), the clauses of a filter ANDed, the filters ORed, and a Scoping Filter Title.
//! Add clause, Add scoping filter and Remove answer the form again without saving, so that it works without
//! JavaScript; Count in scope (live, with htmx, as the form changes) says how many are in scope now and under the
//! form's filters, and how many come and go. Save goes through [`crate::change`].
//!
//! Fields are named `f{i}.title`, `f{i}.c{j}.attribute`, `f{i}.c{j}.operator`, `f{i}.c{j}.value`.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use roster_engine::definition::Definition;
use roster_engine::in_scope::ScopeChange;
use roster_engine::scoping::{Clause, CompiledScoping, Operator, ScopingFilter};
use roster_service::access::Permission;
use roster_service::provisioning;

use crate::PortalState;
use crate::change::{self, Change};
use crate::error::{PortalError, PortalResult, render, render_with};
use crate::form::{Fields, Form};
use crate::format;
use crate::mappings::{Kind, editable, page_path};
use crate::overview::{AppNav, readable, urlencoded};
use crate::session::{Chrome, Section, Signed};

/// A clause as the form holds it (the operator by its Entra name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ClauseRow {
    attribute: String,
    operator: String,
    value: String,
}

/// A filter as the form holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct FilterRows {
    title: String,
    clauses: Vec<ClauseRow>,
}

impl FilterRows {
    fn of(filter: &ScopingFilter) -> FilterRows {
        FilterRows {
            title: filter.title.clone().unwrap_or_default(),
            clauses: filter
                .clauses
                .iter()
                .map(|clause| ClauseRow {
                    attribute: clause.attribute.clone(),
                    operator: clause.operator.as_str().to_owned(),
                    value: clause.value.clone().unwrap_or_default(),
                })
                .collect(),
        }
    }
}

/// The filters of a form, in the order of their indices.
fn rows_of(fields: &Fields) -> Vec<FilterRows> {
    let mut filters: BTreeMap<usize, (String, BTreeMap<usize, ClauseRow>)> = BTreeMap::new();
    for (name, value) in &fields.0 {
        let Some(rest) = name.strip_prefix('f') else { continue };
        let Some((filter, rest)) = rest.split_once('.') else { continue };
        let Ok(filter) = filter.parse::<usize>() else { continue };
        let entry = filters.entry(filter).or_default();
        if rest == "title" {
            entry.0 = value.trim().to_owned();
            continue;
        }
        let Some(rest) = rest.strip_prefix('c') else { continue };
        let Some((clause, field)) = rest.split_once('.') else { continue };
        let Ok(clause) = clause.parse::<usize>() else { continue };
        let row = entry.1.entry(clause).or_default();
        match field {
            "attribute" => row.attribute = value.trim().to_owned(),
            "operator" => row.operator = value.clone(),
            "value" => row.value = value.clone(),
            _ => {}
        }
    }
    filters
        .into_values()
        .map(|(title, clauses)| FilterRows { title, clauses: clauses.into_values().collect() })
        .collect()
}

/// The scoping filters of the form's rows (a clause without an attribute, and a filter without clauses, are
/// left out), or what is wrong with a clause.
fn filters_of(rows: &[FilterRows]) -> Result<Vec<ScopingFilter>, String> {
    let mut filters = Vec::new();
    for (index, rows) in rows.iter().enumerate() {
        let mut clauses = Vec::new();
        for row in rows.clauses.iter().filter(|row| !row.attribute.is_empty()) {
            let operator = Operator::parse(&row.operator).ok_or_else(|| {
                format!("Filter {}: choose the operator of the clause on {}.", index + 1, row.attribute)
            })?;
            if operator.takes_value() && row.value.is_empty() {
                return Err(format!(
                    "Filter {}: the clause {} {} needs an Attribute Value.",
                    index + 1,
                    row.attribute,
                    operator.as_str()
                ));
            }
            let value = operator.takes_value().then(|| row.value.clone());
            clauses.push(Clause { attribute: row.attribute.clone(), operator, value });
        }
        if !clauses.is_empty() {
            let title = Some(rows.title.clone()).filter(|title| !title.is_empty());
            filters.push(ScopingFilter { title, clauses });
        }
    }
    CompiledScoping::compile(&filters).map_err(|error| format!("{error}."))?;
    Ok(filters)
}

/// The count shown beside the form.
#[derive(Debug, Clone)]
struct Count {
    text: String,
}

impl Count {
    fn of(change: &ScopeChange, label: &str) -> Count {
        let label = label.to_lowercase();
        let text = if change.added == 0 && change.removed == 0 {
            format!("{} {label} in scope, as now.", format::count(change.proposed))
        } else {
            format!(
                "{} {label} in scope with these filters (+{}, −{} against the {} now).",
                format::count(change.proposed),
                format::count(change.added),
                format::count(change.removed),
                format::count(change.now)
            )
        };
        Count { text }
    }
}

#[derive(Template)]
#[template(path = "scoping.html")]
struct ScopingPage {
    chrome: Chrome,
    title: String,
    app: AppNav,
    kind: &'static str,
    label: &'static str,
    filters: Vec<FilterRows>,
    operators: Vec<&'static str>,
    attributes: Vec<&'static str>,
    count: Option<Count>,
    error: Option<String>,
    may_manage: bool,
}

fn page_of(
    admin: &Signed,
    definition: &Definition,
    kind: Kind,
    filters: Vec<FilterRows>,
    count: Option<Count>,
    error: Option<String>,
) -> ScopingPage {
    let app = AppNav::new(definition, "provisioning");
    ScopingPage {
        chrome: admin.chrome(Section::Applications),
        title: format!("{} · Source Object Scope ({})", app.display_name, kind.label()),
        may_manage: admin.may(Permission::ManageApplication(&definition.name)),
        app,
        kind: kind.path(),
        label: kind.label(),
        filters,
        operators: Operator::all().map(|(_, name)| name).collect(),
        attributes: kind.source_attributes(),
        count,
        error,
    }
}

/// The page's path.
fn path(name: &str, kind: Kind) -> String {
    format!("/applications/{}/scoping/{}", urlencoded(name), kind.path())
}

/// `GET /applications/{name}/scoping/{kind}`: the scoping filters, with how many are in scope now.
pub async fn page(
    State(state): State<PortalState>,
    admin: Signed,
    Path((name, kind)): Path<(String, String)>,
) -> PortalResult<Response> {
    let kind = Kind::parse(&kind)?;
    let (definition, _) = readable(&state, &admin, &name).await?;
    let filters = kind.of(&definition).scoping_filters.iter().map(FilterRows::of).collect();
    Ok(render(&page_of(&admin, &definition, kind, filters, None, None)))
}

/// `POST /applications/{name}/scoping/{kind}`: `action` = `save`, `count`, `add-filter`, `add-clause:{i}` or
/// `remove-clause:{i}:{j}`; all but `save` answer the form again, unsaved.
pub async fn submit(
    State(state): State<PortalState>,
    Path((name, kind)): Path<(String, String)>,
    form: Form,
) -> PortalResult<Response> {
    let (kind, current) = editable(&state, &form, &name, &kind).await?;
    let mut rows = rows_of(&form.fields);
    let action = form.fields.get("action").unwrap_or("save").to_owned();
    let again = |rows: Vec<FilterRows>, count: Option<Count>, error: Option<String>| {
        let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
        render_with(status, &page_of(&form.admin, &current, kind, rows, count, error))
    };
    if action == "count" {
        let filters = match filters_of(&rows) {
            Ok(filters) => filters,
            Err(error) => return Ok(again(rows, None, Some(error))),
        };
        let mut proposed = current.clone();
        kind.of_mut(&mut proposed).scoping_filters = filters;
        let change = provisioning::scope_change(&state.stores, &current, &proposed, kind.in_scope()).await?;
        let count = Count::of(&change, kind.label());
        return Ok(again(rows, Some(count), None));
    }
    if action == "add-filter" {
        rows.push(FilterRows { title: String::new(), clauses: vec![ClauseRow::default()] });
        return Ok(again(rows, None, None));
    }
    if let Some(index) = action.strip_prefix("add-clause:") {
        let filter = index.parse::<usize>().ok().and_then(|index| rows.get_mut(index));
        let Some(filter) = filter else { return Err(PortalError::bad_request("There is no such filter to add to.")) };
        filter.clauses.push(ClauseRow::default());
        return Ok(again(rows, None, None));
    }
    if let Some(position) = action.strip_prefix("remove-clause:") {
        let (filter, clause) = position.split_once(':').unwrap_or((position, ""));
        let (Ok(filter), Ok(clause)) = (filter.parse::<usize>(), clause.parse::<usize>()) else {
            return Err(PortalError::bad_request("There is no such clause to remove."));
        };
        if let Some(rows_of_filter) = rows.get_mut(filter)
            && clause < rows_of_filter.clauses.len()
        {
            rows_of_filter.clauses.remove(clause);
            if rows_of_filter.clauses.is_empty() {
                rows.remove(filter);
            }
        }
        return Ok(again(rows, None, None));
    }
    if action != "save" {
        return Err(PortalError::bad_request("Choose what to do: save, count, add or remove."));
    }
    let filters = match filters_of(&rows) {
        Ok(filters) => filters,
        Err(error) => return Ok(again(rows, None, Some(error))),
    };
    let mut proposed = current.clone();
    kind.of_mut(&mut proposed).scoping_filters = filters;
    let what = format!("the scoping filters of {}", kind.label().to_lowercase());
    let change = Change { current, proposed, what, action: path(&name, kind), back: page_path(&name, kind) };
    change::save(&state, &form, change).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        Fields(pairs.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect())
    }

    #[test]
    fn the_form_becomes_filters_in_order_without_blank_rows() {
        let form = fields(&[
            ("f1.c0.attribute", "department"),
            ("f1.c0.operator", "EQUALS"),
            ("f1.c0.value", "Sales"),
            ("f0.title", "Engineers"),
            ("f0.c0.attribute", "department"),
            ("f0.c0.operator", "EQUALS"),
            ("f0.c0.value", "Engineering"),
            ("f0.c1.attribute", "accountEnabled"),
            ("f0.c1.operator", "IS TRUE"),
            ("f0.c1.value", "ignored"),
            ("f0.c2.attribute", ""),
            ("f0.c2.operator", "EQUALS"),
            ("f2.c0.attribute", ""),
        ]);
        let filters = filters_of(&rows_of(&form)).unwrap();
        assert_eq!(filters.len(), 2);
        assert_eq!(filters[0].title.as_deref(), Some("Engineers"));
        assert_eq!(filters[0].clauses.len(), 2);
        assert_eq!(filters[0].clauses[1].value, None);
        assert_eq!(filters[1].clauses[0].value.as_deref(), Some("Sales"));
    }

    #[test]
    fn a_clause_that_cannot_be_evaluated_is_refused_with_its_filter() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("f0.c0.attribute", "department"), ("f0.c0.operator", "LIKE"), ("f0.c0.value", "x")], "operator"),
            (
                &[("f0.c0.attribute", "department"), ("f0.c0.operator", "EQUALS"), ("f0.c0.value", "")],
                "Attribute Value",
            ),
            (&[("f0.c0.attribute", "department"), ("f0.c0.operator", "REGEX MATCH"), ("f0.c0.value", "(")], "regex"),
        ];
        for (form, expected) in cases {
            let error = filters_of(&rows_of(&fields(form))).unwrap_err();
            assert!(error.to_lowercase().contains(&expected.to_lowercase()), "{form:?}: {error}");
        }
    }

    #[test]
    fn the_count_says_who_comes_and_goes() {
        let same = ScopeChange { now: 5, proposed: 5, ..ScopeChange::default() };
        assert_eq!(Count::of(&same, "Users").text, "5 users in scope, as now.");
        let change = ScopeChange { now: 5, proposed: 4, added: 1, removed: 2, read: 9 };
        assert_eq!(Count::of(&change, "Users").text, "4 users in scope with these filters (+1, −2 against the 5 now).");
    }
}
