//! An application's Unmanaged objects (`roster app unmanaged`): the target's users and groups that roster neither
//! created nor matched to a directory object, which it reports and never touches. The page reads the target as it
//! is shown, a page at a time (at most [`PAGE_SIZE`] objects found or [`MAX_READ`] read, with a Next link at the
//! target's `startIndex`), each request tried once; a target that fails is shown in place with what it said and
//! what to do.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use roster_engine::log::ObjectKind;
use roster_service::provisioning::{self, UnmanagedCursor};
use serde::Deserialize;

use crate::PortalState;
use crate::error::{PortalError, PortalResult, render};
use crate::format;
use crate::overview::{AppNav, readable, urlencoded};
use crate::session::{Chrome, Section, Signed};

/// Unmanaged objects on a page at most.
pub const PAGE_SIZE: usize = 50;
/// Target objects read for one page at most.
pub const MAX_READ: u64 = 1_000;

/// The page's query: where to read from.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UnmanagedQuery {
    /// `users` or `groups`.
    #[serde(default)]
    pub kind: Option<String>,
    /// The target's `startIndex` (from 1).
    #[serde(default)]
    pub start: Option<String>,
}

impl UnmanagedQuery {
    /// The cursor it stands for, or a 400 that says to follow the links as given.
    fn cursor(&self) -> PortalResult<UnmanagedCursor> {
        let invalid = || PortalError::bad_request("The page cursor is not valid: use the Next link as given.");
        let kind = match self.kind.as_deref() {
            None | Some("users") => ObjectKind::User,
            Some("groups") => ObjectKind::Group,
            Some(_) => return Err(invalid()),
        };
        let start = match self.start.as_deref() {
            None => 1,
            Some(start) => start.trim().parse::<u64>().ok().filter(|start| *start >= 1).ok_or_else(invalid)?,
        };
        Ok(UnmanagedCursor { kind, start })
    }
}

/// The link to the page at `cursor`.
fn link(name: &str, cursor: UnmanagedCursor) -> String {
    let kind = match cursor.kind {
        ObjectKind::User => "users",
        ObjectKind::Group => "groups",
    };
    format!("/applications/{}/unmanaged?kind={kind}&start={}", urlencoded(name), cursor.start)
}

/// One object as the table shows it.
#[derive(Debug, Clone)]
struct Row {
    kind: &'static str,
    id: String,
    name: String,
    external_id: String,
}

/// A failure of the target, in words.
#[derive(Debug, Clone)]
struct Failure {
    message: String,
}

#[derive(Template)]
#[template(path = "unmanaged.html")]
struct UnmanagedPage {
    chrome: Chrome,
    title: String,
    app: AppNav,
    configured: bool,
    rows: Vec<Row>,
    read: String,
    failure: Option<Failure>,
    next: Option<String>,
    first: Option<String>,
    reading_groups: bool,
}

/// `GET /applications/{name}/unmanaged`.
pub async fn page(
    State(state): State<PortalState>,
    admin: Signed,
    Path(name): Path<String>,
    Query(query): Query<UnmanagedQuery>,
) -> PortalResult<Response> {
    let cursor = query.cursor()?;
    let (definition, configured) = readable(&state, &admin, &name).await?;
    let app = AppNav::new(&definition, "overview");
    let mut page = UnmanagedPage {
        chrome: admin.chrome(Section::Applications),
        title: format!("{} · Unmanaged objects", app.display_name),
        app,
        configured,
        rows: Vec::new(),
        read: "0".to_owned(),
        failure: None,
        next: None,
        first: (cursor != UnmanagedCursor::FIRST).then(|| link(&name, UnmanagedCursor::FIRST)),
        reading_groups: cursor.kind == ObjectKind::Group,
    };
    if configured {
        match provisioning::unmanaged_page(&state.stores, &state.key, &name, cursor, PAGE_SIZE, MAX_READ).await? {
            Ok(found) => {
                page.rows = found
                    .objects
                    .into_iter()
                    .map(|object| Row {
                        kind: object.kind,
                        id: object.id,
                        name: object.name.unwrap_or_else(|| "—".to_owned()),
                        external_id: object.external_id.unwrap_or_else(|| "—".to_owned()),
                    })
                    .collect();
                page.read = format::count(found.read);
                page.next = found.next.map(|next| link(&name, next));
            }
            Err(error) => page.failure = Some(Failure { message: error.to_string() }),
        }
    }
    Ok(render(&page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_their_links() {
        let cursor = UnmanagedCursor { kind: ObjectKind::Group, start: 101 };
        assert_eq!(link("github", cursor), "/applications/github/unmanaged?kind=groups&start=101");
        let query = UnmanagedQuery { kind: Some("groups".to_owned()), start: Some("101".to_owned()) };
        assert_eq!(query.cursor().ok(), Some(cursor));
        assert_eq!(UnmanagedQuery::default().cursor().ok(), Some(UnmanagedCursor::FIRST));
        for (kind, start) in [("users", "0"), ("users", "x"), ("roles", "1"), ("users", "-1")] {
            let query = UnmanagedQuery { kind: Some(kind.to_owned()), start: Some(start.to_owned()) };
            assert!(query.cursor().is_err(), "{kind} {start}");
        }
    }
}
