//! Edit Attribute and Add New Mapping, as Entra's form: Mapping type (Direct, Constant, Expression, None), Source
//! attribute, Constant value or Expression (parsed here, its error at its column), Default value if null, Target
//! attribute, Match objects using this attribute with its Matching precedence, and Apply this mapping (Always or
//! Only during creation). Without JavaScript the three source fields are all shown; the mapping type says which
//! one counts.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use roster_engine::definition::{Apply, Definition, Mapping, MappingKind};
use roster_expr::Expression;
use roster_service::access::Permission;
use serde::Deserialize;

use crate::PortalState;
use crate::change::{self, Change};
use crate::error::{PortalError, PortalResult, render, render_with};
use crate::form::{Fields, Form};
use crate::format;
use crate::mappings::{Kind, editable, page_path};
use crate::overview::{AppNav, readable};
use crate::session::{Chrome, Section, Signed};

/// The form's values, as entered (or as the mapping has them).
#[derive(Debug, Clone, Default)]
struct Values {
    kind: String,
    source: String,
    constant: String,
    expression: String,
    default: String,
    target: String,
    matching: bool,
    precedence: String,
    on_create: bool,
}

impl Values {
    fn of(mapping: &Mapping) -> Values {
        let source = mapping.source.clone().unwrap_or_default();
        let mut values = Values {
            kind: kind_value(mapping.kind).to_owned(),
            default: mapping.default.clone().unwrap_or_default(),
            target: mapping.target.clone(),
            matching: mapping.matching.is_some(),
            precedence: mapping.matching.map(|precedence| precedence.to_string()).unwrap_or_default(),
            on_create: mapping.apply == Apply::OnCreate,
            ..Values::default()
        };
        match mapping.kind {
            MappingKind::Direct => values.source = source,
            MappingKind::Constant => values.constant = source,
            MappingKind::Expression => values.expression = source,
            MappingKind::None => {}
        }
        values
    }

    fn from_form(fields: &Fields) -> Values {
        let text = |name: &str| fields.get(name).unwrap_or_default().to_owned();
        Values {
            kind: text("type"),
            source: text("source").trim().to_owned(),
            constant: fields.raw("constant").to_owned(),
            expression: fields.raw("expression").to_owned(),
            default: fields.raw("default").to_owned(),
            target: text("target").trim().to_owned(),
            matching: fields.checked("matching"),
            precedence: text("precedence").trim().to_owned(),
            on_create: fields.get("apply") == Some("on-create"),
        }
    }

    /// The mapping the values describe, or the field that is wrong and why.
    fn mapping(&self) -> Result<Mapping, Problem> {
        let wrong = |field: &'static str, message: String| Problem { field, message, column: None };
        let (kind, source) = match self.kind.as_str() {
            "direct" if self.source.is_empty() => {
                return Err(wrong("source", "Choose the source attribute of a Direct mapping.".to_owned()));
            }
            "direct" => (MappingKind::Direct, Some(self.source.clone())),
            "constant" => (MappingKind::Constant, Some(self.constant.clone())),
            "expression" => {
                if let Err(error) = Expression::parse(&self.expression) {
                    return Err(Problem {
                        field: "expression",
                        message: format!(
                            "The expression does not parse at column {}: {}.",
                            error.column, error.message
                        ),
                        column: Some(error.column),
                    });
                }
                (MappingKind::Expression, Some(self.expression.trim().to_owned()))
            }
            "none" => (MappingKind::None, None),
            other => {
                return Err(wrong(
                    "type",
                    format!("Mapping type {other:?}: choose Direct, Constant, Expression or None."),
                ));
            }
        };
        if self.target.is_empty() {
            return Err(wrong(
                "target",
                "Enter the target attribute, such as userName or emails[type eq \"work\"].value.".to_owned(),
            ));
        }
        let matching = if self.matching {
            let text = if self.precedence.is_empty() { "1" } else { self.precedence.as_str() };
            match text.parse::<u32>() {
                Ok(precedence) if precedence > 0 => Some(precedence),
                _ => {
                    return Err(wrong(
                        "precedence",
                        format!("Matching precedence {text:?}: give a whole number from 1."),
                    ));
                }
            }
        } else {
            None
        };
        Ok(Mapping {
            target: self.target.clone(),
            kind,
            source,
            default: Some(self.default.clone()).filter(|default| !default.is_empty()),
            apply: if self.on_create { Apply::OnCreate } else { Apply::Always },
            matching,
        })
    }
}

/// What is wrong with the form: the field, the message, and for an expression the column.
#[derive(Debug, Clone)]
struct Problem {
    field: &'static str,
    message: String,
    column: Option<usize>,
}

fn kind_value(kind: MappingKind) -> &'static str {
    match kind {
        MappingKind::Direct => "direct",
        MappingKind::Constant => "constant",
        MappingKind::Expression => "expression",
        MappingKind::None => "none",
    }
}

#[derive(Template)]
#[template(path = "attribute.html")]
struct AttributePage {
    chrome: Chrome,
    title: String,
    app: AppNav,
    kind: &'static str,
    label: &'static str,
    /// The target of the mapping edited; empty when adding one.
    original: String,
    values: Values,
    attributes: Vec<&'static str>,
    problem: Option<Problem>,
    /// Under the expression, a caret at the column of its error.
    caret: String,
    may_manage: bool,
}

/// The query of the page: the mapping to edit (by its target), or an expression to start a new mapping with
/// (the Expression builder's "Use this expression").
#[derive(Debug, Default, Deserialize)]
pub struct Which {
    /// The target attribute of the mapping to edit.
    #[serde(default)]
    pub target: Option<String>,
    /// An expression for a new mapping.
    #[serde(default)]
    pub expression: Option<String>,
}

fn page_of(
    admin: &Signed,
    definition: &Definition,
    kind: Kind,
    original: String,
    values: Values,
    problem: Option<Problem>,
) -> AttributePage {
    let app = AppNav::new(definition, "provisioning");
    let caret = problem.as_ref().and_then(|problem| problem.column).map(format::caret).unwrap_or_default();
    AttributePage {
        chrome: admin.chrome(Section::Applications),
        title: format!(
            "{} · {} ({})",
            app.display_name,
            if original.is_empty() { "Add New Mapping" } else { "Edit Attribute" },
            kind.label()
        ),
        may_manage: admin.may(Permission::ManageApplication(&definition.name)),
        app,
        kind: kind.path(),
        label: kind.label(),
        original,
        values,
        attributes: kind.source_attributes(),
        problem,
        caret,
    }
}

/// `GET /applications/{name}/mappings/{kind}/attribute[?target=...]`: Edit Attribute, or Add New Mapping.
pub async fn page(
    State(state): State<PortalState>,
    admin: Signed,
    Path((name, kind)): Path<(String, String)>,
    Query(which): Query<Which>,
) -> PortalResult<Response> {
    let kind = Kind::parse(&kind)?;
    let (definition, _) = readable(&state, &admin, &name).await?;
    let (original, values) = match which.target {
        Some(target) => {
            let mapping =
                kind.of(&definition).mappings.iter().find(|mapping| mapping.target == target).ok_or_else(|| {
                    PortalError::not_found(format!(
                        "The {} have no mapping of {target:?}.",
                        kind.label().to_lowercase()
                    ))
                })?;
            (target.clone(), Values::of(mapping))
        }
        None => {
            let values = match which.expression {
                Some(expression) => Values { kind: "expression".to_owned(), expression, ..Values::default() },
                None => Values { kind: "direct".to_owned(), ..Values::default() },
            };
            (String::new(), values)
        }
    };
    Ok(render(&page_of(&admin, &definition, kind, original, values, None)))
}

/// `POST /applications/{name}/mappings/{kind}/attribute`: saves the mapping (replacing the one of `original`, or
/// added), with what is wrong shown in place.
pub async fn submit(
    State(state): State<PortalState>,
    Path((name, kind)): Path<(String, String)>,
    form: Form,
) -> PortalResult<Response> {
    let (kind, current) = editable(&state, &form, &name, &kind).await?;
    let original = form.fields.raw("original").to_owned();
    let values = Values::from_form(&form.fields);
    let invalid = |problem: Problem| {
        let page = page_of(&form.admin, &current, kind, original.clone(), values.clone(), Some(problem));
        Ok(render_with(StatusCode::BAD_REQUEST, &page))
    };
    let mapping = match values.mapping() {
        Ok(mapping) => mapping,
        Err(problem) => return invalid(problem),
    };
    let mut proposed = current.clone();
    let mappings = &mut kind.of_mut(&mut proposed).mappings;
    let clash =
        mappings.iter().any(|other| other.target.eq_ignore_ascii_case(&mapping.target) && other.target != original);
    if clash {
        let message = format!("{} already has a mapping: edit that one instead.", mapping.target);
        return invalid(Problem { field: "target", message, column: None });
    }
    let what = format!("the mapping of {}", mapping.target);
    if original.is_empty() {
        mappings.push(mapping);
    } else {
        let Some(slot) = mappings.iter_mut().find(|other| other.target == original) else {
            let message = format!("The mapping of {original:?} is gone: someone removed it. Add it again.");
            return invalid(Problem { field: "target", message, column: None });
        };
        *slot = mapping;
    }
    if let Err(message) = change::check(&proposed) {
        return invalid(Problem { field: "target", message, column: None });
    }
    let action = format!("{}/attribute", page_path(&name, kind));
    let back = page_path(&name, kind);
    change::save(&state, &form, Change { current, proposed, what, action, back }).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(kind: &str) -> Values {
        Values { kind: kind.to_owned(), target: "userName".to_owned(), ..Values::default() }
    }

    #[test]
    fn the_form_becomes_a_mapping_or_names_the_wrong_field() {
        type Expected = Result<(MappingKind, Option<&'static str>), &'static str>;
        let cases: &[(Values, Expected)] = &[
            (
                Values { source: "userPrincipalName".into(), ..values("direct") },
                Ok((MappingKind::Direct, Some("userPrincipalName"))),
            ),
            (values("direct"), Err("source")),
            (
                Values { constant: "Engineering".into(), ..values("constant") },
                Ok((MappingKind::Constant, Some("Engineering"))),
            ),
            (
                Values { expression: "Join(\" \", [givenName], [surname])".into(), ..values("expression") },
                Ok((MappingKind::Expression, Some("Join(\" \", [givenName], [surname])"))),
            ),
            (Values { expression: "Join(\" \", [givenName]".into(), ..values("expression") }, Err("expression")),
            (values("none"), Ok((MappingKind::None, None))),
            (values("sideways"), Err("type")),
            (Values { target: String::new(), source: "mail".into(), ..values("direct") }, Err("target")),
            (
                Values { source: "mail".into(), matching: true, precedence: "0".into(), ..values("direct") },
                Err("precedence"),
            ),
        ];
        for (values, expected) in cases {
            let got = values.mapping().map(|mapping| (mapping.kind, mapping.source)).map_err(|problem| problem.field);
            let expected = expected.map(|(kind, source)| (kind, source.map(str::to_owned)));
            assert_eq!(got, expected, "{values:?}");
        }
    }

    #[test]
    fn an_expression_error_has_its_column() {
        let problem =
            Values { expression: "Join(\" \", [givenName]".into(), ..values("expression") }.mapping().unwrap_err();
        assert!(problem.column.is_some_and(|column| column > 1), "{problem:?}");
    }

    #[test]
    fn matching_defaults_to_precedence_one_and_apply_follows_the_choice() {
        let mapping =
            Values { source: "mail".into(), matching: true, on_create: true, ..values("direct") }.mapping().unwrap();
        assert_eq!((mapping.matching, mapping.apply), (Some(1), Apply::OnCreate));
    }
}
