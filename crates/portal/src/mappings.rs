//! An application's Attribute Mapping, one page per object kind, as Entra's: Enabled (groups only: users are
//! always provisioned), Target Object Actions, Source Object Scope (its editor is [`crate::scoping`]), the
//! attribute table with Edit ([`crate::attribute`]) and Delete, Add New Mapping, Restore default mappings, and the
//! Expression builder ([`crate::expression`]). Every change goes through [`crate::change`], which says first when
//! it makes the next cycle an initial one.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use roster_directory::USER_ATTRIBUTES;
use roster_engine::definition::{Apply, Definition, Mapping, MappingKind, ObjectMapping};
use roster_engine::in_scope;
use roster_engine::scoping::ScopingFilter;
use roster_engine::source::{COMPUTED_USER_ATTRIBUTES, GROUP_ATTRIBUTES};
use roster_service::access::Permission;
use roster_service::provisioning;
use serde::Deserialize;

use crate::PortalState;
use crate::change::{self, Change};
use crate::error::{PortalError, PortalResult, render, render_with};
use crate::form::Form;
use crate::overview::{AppNav, readable, urlencoded};
use crate::session::{Chrome, Section, Signed};

/// Users or groups: the object kinds an application maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Users.
    Users,
    /// Groups.
    Groups,
}

impl Kind {
    /// The kind of a path segment (`users`, `groups`).
    pub fn parse(segment: &str) -> PortalResult<Kind> {
        match segment {
            "users" => Ok(Kind::Users),
            "groups" => Ok(Kind::Groups),
            other => Err(PortalError::not_found(format!("There is no mapping {other}: use users or groups."))),
        }
    }

    /// Its path segment.
    pub fn path(self) -> &'static str {
        match self {
            Kind::Users => "users",
            Kind::Groups => "groups",
        }
    }

    /// Its name on the page.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Users => "Users",
            Kind::Groups => "Groups",
        }
    }

    /// Its object mapping in a definition.
    pub fn of(self, definition: &Definition) -> &ObjectMapping {
        match self {
            Kind::Users => &definition.users,
            Kind::Groups => &definition.groups,
        }
    }

    /// Its object mapping in a definition, to change it.
    pub fn of_mut(self, definition: &mut Definition) -> &mut ObjectMapping {
        match self {
            Kind::Users => &mut definition.users,
            Kind::Groups => &mut definition.groups,
        }
    }

    /// The source attributes a mapping or a scoping filter of this kind may name, as the editors offer them.
    pub fn source_attributes(self) -> Vec<&'static str> {
        match self {
            Kind::Users => USER_ATTRIBUTES.iter().chain(COMPUTED_USER_ATTRIBUTES).copied().collect(),
            Kind::Groups => GROUP_ATTRIBUTES.to_vec(),
        }
    }

    /// The kind the scope count takes.
    pub fn in_scope(self) -> in_scope::Kind {
        match self {
            Kind::Users => in_scope::Kind::Users,
            Kind::Groups => in_scope::Kind::Groups,
        }
    }
}

/// The kind of a path segment and the application's definition, for a form that changes them: 404 for a kind or
/// an application that does not exist, 403 unless the admin manages the application.
pub async fn editable(state: &PortalState, form: &Form, name: &str, kind: &str) -> PortalResult<(Kind, Definition)> {
    let kind = Kind::parse(kind)?;
    form.admin.check(Permission::ManageApplication(name))?;
    let (definition, _) = readable(state, &form.admin, name).await?;
    Ok((kind, definition))
}

/// The path of a kind's Attribute Mapping page.
pub fn page_path(name: &str, kind: Kind) -> String {
    format!("/applications/{}/mappings/{}", urlencoded(name), kind.path())
}

/// One mapping as the attribute table shows it.
#[derive(Debug, Clone)]
struct AttributeRow {
    source: String,
    kind: &'static str,
    target: String,
    matching: String,
    apply: &'static str,
    default: String,
    edit: String,
}

#[derive(Template)]
#[template(path = "mapping.html")]
struct MappingPage {
    chrome: Chrome,
    title: String,
    app: AppNav,
    kind: &'static str,
    label: &'static str,
    may_disable: bool,
    may_manage: bool,
    enabled: bool,
    create: bool,
    update: bool,
    delete: bool,
    filters: Vec<String>,
    rows: Vec<AttributeRow>,
    notice: Option<&'static str>,
    error: Option<String>,
}

/// The query of the Attribute Mapping page.
#[derive(Debug, Default, Deserialize)]
pub struct Notice {
    /// What was just done (see [`change::notice`]).
    #[serde(default)]
    pub notice: Option<String>,
}

/// `GET /applications/{name}/mappings/{kind}`: the Attribute Mapping of one object kind.
pub async fn page(
    State(state): State<PortalState>,
    admin: Signed,
    Path((name, kind)): Path<(String, String)>,
    Query(query): Query<Notice>,
) -> PortalResult<Response> {
    let kind = Kind::parse(&kind)?;
    let (definition, _) = readable(&state, &admin, &name).await?;
    let page = page_of(&admin, &definition, kind, change::notice(query.notice.as_deref()), None);
    Ok(render(&page))
}

fn page_of(
    admin: &Signed,
    definition: &Definition,
    kind: Kind,
    notice: Option<&'static str>,
    error: Option<String>,
) -> MappingPage {
    let object = kind.of(definition);
    let edit_base = format!("{}/attribute", page_path(&definition.name, kind));
    let rows = object.mappings.iter().map(|mapping| attribute_row(mapping, &edit_base)).collect();
    let app = AppNav::new(definition, "provisioning");
    MappingPage {
        chrome: admin.chrome(Section::Applications),
        title: format!("{} · Attribute Mapping ({})", app.display_name, kind.label()),
        may_manage: admin.may(Permission::ManageApplication(&definition.name)),
        app,
        kind: kind.path(),
        label: kind.label(),
        may_disable: kind == Kind::Groups,
        enabled: object.enabled,
        create: object.actions.create,
        update: object.actions.update,
        delete: object.actions.delete,
        filters: object.scoping_filters.iter().map(describe_filter).collect(),
        rows,
        notice,
        error,
    }
}

/// A scoping filter in words: `title: attribute OPERATOR value AND ...`.
pub fn describe_filter(filter: &ScopingFilter) -> String {
    let clauses: Vec<String> = filter
        .clauses
        .iter()
        .map(|clause| match &clause.value {
            Some(value) => format!("{} {} {value:?}", clause.attribute, clause.operator.as_str()),
            None => format!("{} {}", clause.attribute, clause.operator.as_str()),
        })
        .collect();
    let clauses = clauses.join(" AND ");
    match &filter.title {
        Some(title) if !title.is_empty() => format!("{title}: {clauses}"),
        _ => clauses,
    }
}

fn attribute_row(mapping: &Mapping, edit_base: &str) -> AttributeRow {
    AttributeRow {
        source: mapping.source.clone().unwrap_or_default(),
        kind: kind_label(mapping.kind),
        target: mapping.target.clone(),
        matching: mapping.matching.map(|precedence| precedence.to_string()).unwrap_or_default(),
        apply: match mapping.apply {
            Apply::Always => "Always",
            Apply::OnCreate => "Only during creation",
        },
        default: mapping.default.clone().unwrap_or_default(),
        edit: format!("{edit_base}?target={}", urlencoded(&mapping.target)),
    }
}

/// Entra's name of a mapping type.
pub fn kind_label(kind: MappingKind) -> &'static str {
    match kind {
        MappingKind::Direct => "Direct",
        MappingKind::Constant => "Constant",
        MappingKind::Expression => "Expression",
        MappingKind::None => "None",
    }
}

/// `POST /applications/{name}/mappings/{kind}`: `action` = `settings` (Enabled and Target Object Actions),
/// `delete` (the mapping of `target`) or `restore` (the template's mappings, scoping filters and actions).
pub async fn submit(
    State(state): State<PortalState>,
    Path((name, kind)): Path<(String, String)>,
    form: Form,
) -> PortalResult<Response> {
    let (kind, current) = editable(&state, &form, &name, &kind).await?;
    let mut proposed = current.clone();
    let what = match form.fields.get("action") {
        Some("settings") => {
            let object = kind.of_mut(&mut proposed);
            if kind == Kind::Groups {
                object.enabled = form.fields.get("enabled") == Some("yes");
            }
            object.actions.create = form.fields.checked("create");
            object.actions.update = form.fields.checked("update");
            object.actions.delete = form.fields.checked("delete");
            format!("the {} settings", kind.label().to_lowercase())
        }
        Some("delete") => {
            let target = form.fields.raw("target");
            let mappings = &mut kind.of_mut(&mut proposed).mappings;
            let before = mappings.len();
            mappings.retain(|mapping| mapping.target != target);
            if mappings.len() == before {
                return Err(PortalError::bad_request(format!(
                    "There is no mapping of {target:?} to delete: reload the page, someone may have changed it."
                )));
            }
            format!("the deletion of the mapping of {target}")
        }
        Some("restore") => {
            proposed = provisioning::with_default_mappings(&current)?;
            "the default mappings".to_owned()
        }
        _ => return Err(PortalError::bad_request("Choose what to do: save the settings, delete, or restore.")),
    };
    if let Err(error) = change::check(&proposed) {
        let page = page_of(&form.admin, &current, kind, None, Some(error));
        return Ok(render_with(StatusCode::BAD_REQUEST, &page));
    }
    let path = page_path(&name, kind);
    change::save(&state, &form, Change { current, proposed, what, action: path.clone(), back: path }).await
}
