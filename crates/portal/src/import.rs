//! Import users and groups (Entra's Bulk create): the text of a directory file, pasted, in the formats
//! `roster directory import` reads (`.json`, `.jsonl`, `.csv`), upserted by id all or nothing through the same
//! service layer. The page answers with the import's summary, or with what is wrong and where (the line, or the
//! entry of a `.json` file's lists), keeping the text to correct. A file is uploaded up to 64 MiB
//! ([`MAX_UPLOAD`]); a larger one is imported with the command line.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use roster_service::access::Permission;
use roster_service::directory::{self, Format, ImportSummary};

use crate::error::{PortalError, PortalResult, render, render_with};
use crate::form::Form;
use crate::session::{Chrome, Section, Signed};
use crate::{MAX_UPLOAD, PortalState};

/// The formats offered, with their labels.
const FORMATS: &[(&str, &str)] = &[
    ("json", "JSON: {\"users\": [...], \"groups\": [...]}"),
    ("jsonl", "JSON Lines: one object a line, each with \"objectType\""),
    ("csv", "CSV: users only, a header row of attribute names"),
];

/// An import's summary in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `Imported 3 users and 1 group.`
    pub headline: String,
    /// Per kind: (kind, created, updated, unchanged).
    pub rows: Vec<(&'static str, u64, u64, u64)>,
}

impl Outcome {
    /// The outcome of a summary.
    pub fn of(summary: &ImportSummary) -> Outcome {
        let users = summary.users_created + summary.users_updated + summary.users_unchanged;
        let groups = summary.groups_created + summary.groups_updated + summary.groups_unchanged;
        Outcome {
            headline: format!("Imported {} and {}.", count(users, "user"), count(groups, "group")),
            rows: vec![
                ("Users", summary.users_created, summary.users_updated, summary.users_unchanged),
                ("Groups", summary.groups_created, summary.groups_updated, summary.groups_unchanged),
            ],
        }
    }
}

fn count(n: u64, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{} {noun}s", crate::format::count(n)) }
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    chrome: Chrome,
    title: &'static str,
    formats: &'static [(&'static str, &'static str)],
    format: String,
    text: String,
    outcome: Option<Outcome>,
    error: Option<String>,
    limit: String,
}

impl ImportPage {
    fn new(admin: &Signed) -> ImportPage {
        ImportPage {
            chrome: admin.chrome(Section::Users),
            title: "Import users and groups",
            formats: FORMATS,
            format: "json".to_owned(),
            text: String::new(),
            outcome: None,
            error: None,
            limit: format!("{} MiB", MAX_UPLOAD / (1024 * 1024)),
        }
    }
}

/// `GET /users/import`.
pub async fn page(admin: Signed) -> PortalResult<Response> {
    admin.check(Permission::WriteDirectory)?;
    Ok(render(&ImportPage::new(&admin)))
}

/// `POST /users/import`: `format` (`json`, `jsonl`, `csv`) and `text`, the file's content.
pub async fn submit(State(state): State<PortalState>, form: Form) -> PortalResult<Response> {
    let admin = &form.admin;
    admin.check(Permission::WriteDirectory)?;
    let mut page = ImportPage::new(admin);
    page.format = form.fields.get("format").unwrap_or("json").to_owned();
    page.text = form.fields.raw("text").to_owned();
    let file = form.fields.raw("file");
    let format = if file.trim().is_empty() {
        None
    } else {
        // A file chosen wins over the text, and its extension names its format (as the command line reads it).
        roster_directory::import::format_from_path(std::path::Path::new(form.fields.raw("file.filename"))).ok()
    };
    let format = match format {
        Some(format) => {
            // The page shows the format the file was read in.
            let value = match format {
                Format::Json => "json",
                Format::Jsonl => "jsonl",
                Format::Csv => "csv",
            };
            value.clone_into(&mut page.format);
            format
        }
        None => match page.format.as_str() {
            "json" => Format::Json,
            "jsonl" => Format::Jsonl,
            "csv" => Format::Csv,
            other => {
                page.error = Some(format!("There is no format {other:?}: choose JSON, JSON Lines or CSV."));
                return Ok(render_with(StatusCode::BAD_REQUEST, &page));
            }
        },
    };
    // The file's text is imported, not sent back into the page (it may be large).
    let text = if file.trim().is_empty() { page.text.clone() } else { file.to_owned() };
    if text.trim().is_empty() {
        page.error = Some("Choose a directory file, or paste its content into File content.".to_owned());
        return Ok(render_with(StatusCode::BAD_REQUEST, &page));
    }
    match directory::import_text(&state.stores, &admin.principal.actor(), format, text).await {
        Ok(summary) => {
            page.outcome = Some(Outcome::of(&summary));
            page.text.clear();
            Ok(render(&page))
        }
        Err(error) => {
            let error = PortalError::from(error);
            if !error.status.is_client_error() {
                return Err(error);
            }
            page.error =
                Some(format!("Nothing was imported: {}", error.message.trim_start_matches("nothing was imported: ")));
            Ok(render_with(StatusCode::BAD_REQUEST, &page))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_reads_as_words() {
        let summary =
            ImportSummary { users_created: 2, users_updated: 1, groups_unchanged: 1, ..ImportSummary::default() };
        let outcome = Outcome::of(&summary);
        assert_eq!(outcome.headline, "Imported 3 users and 1 group.");
        assert_eq!(outcome.rows[0], ("Users", 2, 1, 0));
    }
}
