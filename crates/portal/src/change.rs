//! Saving a change of an application's mappings or scoping filters. A change that makes the next cycle an
//! initial one (every object in scope evaluated again, as Entra does after such a change) is said first: the
//! admin gets a page that explains it and posts the same form again with `confirmed`.

use askama::Template;
use axum::response::{IntoResponse, Redirect, Response};
use roster_engine::definition::Definition;
use roster_service::provisioning::{self, activity};

use crate::PortalState;
use crate::error::{PortalError, PortalResult, render};
use crate::form::Form;
use crate::overview::AppNav;
use crate::session::{Chrome, Section};

/// A change to save.
pub struct Change {
    /// The definition as stored.
    pub current: Definition,
    /// The definition with the change.
    pub proposed: Definition,
    /// What the change is, for the confirmation ("the mapping of userName").
    pub what: String,
    /// The path the form posted to, to post it again once confirmed.
    pub action: String,
    /// The page to go back to after saving (and on Cancel).
    pub back: String,
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    title: String,
    app: AppNav,
    what: String,
    action: String,
    back: String,
    fields: Vec<(String, String)>,
}

/// The notice a page shows after a save, by the `notice` of its query.
pub fn notice(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "saved" => "Saved.",
        "saved-initial" => "Saved. The next cycle is an initial one: it evaluates every user and group in scope again.",
        "unchanged" => "Nothing changed: there was nothing to save.",
        _ => return None,
    })
}

/// Checks the proposed definition as a cycle would use it: `Err` with what is wrong, for the page to show in place.
pub fn check(proposed: &Definition) -> Result<(), String> {
    provisioning::validate(proposed).map_err(|error| format!("{error:#}"))
}

/// The page that says saving `what` makes the next cycle an initial one, and posts the form again to `action`
/// with `confirmed` (Cancel goes to `back`).
pub fn ask_first(form: &Form, current: &Definition, what: String, action: String, back: String) -> Response {
    let fields = form.fields.0.iter().filter(|(name, _)| name != "csrf" && name != "confirmed").cloned().collect();
    let app = AppNav::new(current, "provisioning");
    render(&ConfirmPage {
        chrome: form.admin.chrome(Section::Applications),
        title: format!("{} · Save changes?", app.display_name),
        app,
        what,
        action,
        back,
        fields,
    })
}

/// Saves `change` as the form's admin, once confirmed when it forces an initial cycle; then back to its page.
pub async fn save(state: &PortalState, form: &Form, change: Change) -> PortalResult<Response> {
    let page = change.back.clone();
    let back = move |notice: &str| {
        let separator = if page.contains('?') { '&' } else { '?' };
        Redirect::to(&format!("{page}{separator}notice={notice}")).into_response()
    };
    if change.proposed == change.current {
        return Ok(back("unchanged"));
    }
    check(&change.proposed).map_err(PortalError::bad_request)?;
    let initial = provisioning::forces_initial_cycle(&state.stores, &change.current, &change.proposed).await?;
    if initial && !form.fields.checked("confirmed") {
        return Ok(ask_first(form, &change.current, change.what, change.action, change.back));
    }
    let actor = form.admin.principal.actor();
    provisioning::put(&state.stores, &state.key, &actor, change.proposed, None, Some(activity::UPDATE_MAPPINGS))
        .await?;
    Ok(back(if initial { "saved-initial" } else { "saved" }))
}
