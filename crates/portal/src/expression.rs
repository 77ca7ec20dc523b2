//! The Expression builder of an application: type an expression, test it against a chosen directory user (with
//! the user's app roles in this application), read its parse tree or its error at its column, pick from the
//! function list and the attributes, and Use this expression in a new mapping. It changes nothing, so it is a
//! GET form that works without JavaScript and for readers.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use roster_directory::{ObjectId, User};
use roster_engine::source::UserSource;
use roster_expr::{Context, Expr, Expression, Function, Outcome};
use roster_service::access::Permission;
use roster_service::provisioning;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::PortalState;
use crate::error::{PortalResult, render};
use crate::format;
use crate::mappings::Kind;
use crate::overview::{AppNav, readable, urlencoded};
use crate::session::{Chrome, Section, Signed};

/// The query: the expression and the user to test it against.
#[derive(Debug, Default, Deserialize)]
pub struct Input {
    /// The expression.
    #[serde(default)]
    pub expression: Option<String>,
    /// A user principal name or object id.
    #[serde(default)]
    pub user: Option<String>,
}

/// A function of the list.
#[derive(Debug, Clone)]
struct FunctionRow {
    name: &'static str,
    signature: &'static str,
}

/// What the test found.
#[derive(Debug, Clone)]
struct Tested {
    kind: &'static str,
    text: String,
}

#[derive(Template)]
#[template(path = "expression.html")]
struct BuilderPage {
    chrome: Chrome,
    title: String,
    app: AppNav,
    expression: String,
    user: String,
    /// The parse error and a caret line under the expression.
    error: Option<(String, String)>,
    /// The expression as roster reads it back, and its tree as indented lines.
    parsed: Option<(String, String)>,
    tested: Option<Tested>,
    use_href: String,
    functions: Vec<FunctionRow>,
    attributes: Vec<&'static str>,
    may_manage: bool,
}

/// `GET /applications/{name}/expression-builder[?expression=...&user=...]`.
pub async fn page(
    State(state): State<PortalState>,
    admin: Signed,
    Path(name): Path<String>,
    Query(query): Query<Input>,
) -> PortalResult<Response> {
    let (definition, _) = readable(&state, &admin, &name).await?;
    let expression = query.expression.unwrap_or_default();
    let user = query.user.unwrap_or_default().trim().to_owned();
    let mut error = None;
    let mut parsed = None;
    let mut tested = None;
    if !expression.trim().is_empty() {
        match Expression::parse(&expression) {
            Err(problem) => {
                let caret = format::caret(problem.column);
                error = Some((format!("Column {}: {}.", problem.column, problem.message), caret));
            }
            Ok(parsed_expression) => {
                let mut lines = Vec::new();
                outline(parsed_expression.root(), 0, &mut lines);
                parsed = Some((parsed_expression.to_string(), lines.join("\n")));
                if !user.is_empty() {
                    tested = Some(test(&state, &definition, &parsed_expression, &user).await?);
                }
            }
        }
    }
    let app = AppNav::new(&definition, "provisioning");
    let use_href = format!(
        "/applications/{}/mappings/users/attribute?expression={}",
        urlencoded(&definition.name),
        urlencoded(expression.trim())
    );
    Ok(render(&BuilderPage {
        chrome: admin.chrome(Section::Applications),
        title: format!("{} · Expression builder", app.display_name),
        may_manage: admin.may(Permission::ManageApplication(&definition.name)),
        app,
        expression,
        user,
        error,
        parsed,
        tested,
        use_href,
        functions: Function::all()
            .map(|function| FunctionRow { name: function.name(), signature: function.signature() })
            .collect(),
        attributes: Kind::Users.source_attributes(),
    }))
}

/// The expression evaluated for the user named `who`, as a cycle would (the user's roles in this application).
async fn test(
    state: &PortalState,
    definition: &roster_engine::definition::Definition,
    expression: &Expression,
    who: &str,
) -> PortalResult<Tested> {
    let Some(user) = find_user(state, who).await? else {
        return Ok(Tested {
            kind: "error",
            text: format!("No directory user is {who:?}: give a user principal name or an object id."),
        });
    };
    let entitled = provisioning::user_roles(&state.stores, definition, &user).await?;
    let (roles, scope_note) = match entitled {
        Some((roles, true)) => (roles, String::new()),
        Some((roles, false)) => (roles, " (the user is out of this application's scope)".to_owned()),
        None => (Vec::new(), " (the user is not assigned to this application)".to_owned()),
    };
    let source = UserSource { user: &user, is_soft_deleted: false, roles: &roles };
    let mut rng = rand::thread_rng();
    let mut context = Context::new(OffsetDateTime::now_utc(), &mut rng);
    let upn = user.user_principal_name().as_str();
    Ok(match expression.evaluate(&source, &mut context) {
        Ok(Outcome::Value { secret: true, .. }) => {
            Tested { kind: "success", text: format!("For {upn}{scope_note}: [Redact] (the value is a secret).") }
        }
        Ok(Outcome::Value { value, secret: false }) => {
            Tested { kind: "success", text: format!("For {upn}{scope_note}: {value}") }
        }
        Ok(Outcome::Null) => Tested {
            kind: "warning",
            text: format!(
                "For {upn}{scope_note}: no value (null). The mapping sends nothing; its default, if any, is used on create."
            ),
        },
        Ok(Outcome::Ignore) => Tested {
            kind: "warning",
            text: format!("For {upn}{scope_note}: IgnoreFlowIfNullOrEmpty drops the attribute from this flow."),
        },
        Err(error) => Tested { kind: "error", text: format!("For {upn}{scope_note}, the expression fails: {error}.") },
    })
}

async fn find_user(state: &PortalState, who: &str) -> PortalResult<Option<User>> {
    if let Ok(id) = ObjectId::parse(who)
        && let Some(user) = state.stores.directory.user(&id).await?
    {
        return Ok(Some(user));
    }
    Ok(state.stores.directory.user_by_upn(who).await?)
}

/// The syntax tree as indented lines: `Join (Function)`, then its arguments one level deeper.
fn outline(expr: &Expr, depth: usize, lines: &mut Vec<String>) {
    let indent = "  ".repeat(depth);
    match expr {
        Expr::Attribute(name) => lines.push(format!("{indent}[{name}] (attribute)")),
        Expr::String(text) => lines.push(format!("{indent}{text:?} (constant)")),
        Expr::Number(number) => lines.push(format!("{indent}{number} (constant)")),
        Expr::Name(constant) => lines.push(format!("{indent}{} (constant)", constant.name())),
        Expr::Call { function, args } => {
            lines.push(format!("{indent}{} (function)", function.name()));
            for arg in args {
                match arg {
                    Some(arg) => outline(arg, depth + 1, lines),
                    None => lines.push(format!("{indent}  (omitted)")),
                }
            }
        }
        Expr::Compare { op, left, right } => {
            lines.push(format!("{indent}{} (comparison)", op.symbol()));
            outline(left, depth + 1, lines);
            outline(right, depth + 1, lines);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outline_indents_arguments_under_their_function() {
        let expression = Expression::parse(r#"Join(" ", [givenName], IIF([surname] = "", "-", [surname]))"#).unwrap();
        let mut lines = Vec::new();
        outline(expression.root(), 0, &mut lines);
        assert_eq!(
            lines,
            [
                "Join (function)",
                "  \" \" (constant)",
                "  [givenName] (attribute)",
                "  IIF (function)",
                "    = (comparison)",
                "      [surname] (attribute)",
                "      \"\" (constant)",
                "    \"-\" (constant)",
                "    [surname] (attribute)",
            ]
        );
    }
}
