//! The dashboard: every application the admin may read, with its status, its last cycle and the failures of the
//! last 24 hours.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use roster_service::access::Permission;

use crate::PortalState;
use crate::applications::{Summary, summaries};
use crate::error::{PortalResult, render};
use crate::session::{Chrome, Section, Signed};

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    title: &'static str,
    applications: Vec<Summary>,
    may_create: bool,
    quarantined: usize,
}

/// `GET /`.
pub async fn page(State(state): State<PortalState>, admin: Signed) -> PortalResult<Response> {
    let applications = summaries(&state, &admin).await?;
    let quarantined = applications.iter().filter(|app| app.status == "Quarantine").count();
    Ok(render(&DashboardPage {
        chrome: admin.chrome(Section::Dashboard),
        title: "Dashboard",
        applications,
        may_create: admin.may(Permission::CreateApplication),
        quarantined,
    }))
}
