//! Provisioning log entries written out for a download or the command line: CSV with one row per entry (UTC
//! times, the modified properties as JSON), as `roster logs --format csv` and the portal's Download give them.

use std::io::Write;

use anyhow::Context;
use roster_engine::log::LogEntry;
use time::format_description::well_known::Rfc3339;

/// The CSV columns.
pub const CSV_HEADER: [&str; 14] = [
    "time",
    "application",
    "cycle",
    "change",
    "kind",
    "source_id",
    "source_name",
    "target_id",
    "action",
    "status",
    "error_code",
    "error_reason",
    "modified",
    "duration_ms",
];

/// Writes `entries` as CSV with a header row.
pub fn write_csv(entries: &[LogEntry], out: impl Write) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(CSV_HEADER)?;
    for entry in entries {
        let time = entry.at.format(&Rfc3339).unwrap_or_default();
        let modified = serde_json::to_string(&entry.modified)?;
        writer.write_record([
            time.as_str(),
            &entry.application,
            &entry.cycle,
            &entry.change,
            entry.kind.as_str(),
            &entry.source_id,
            entry.source_name.as_deref().unwrap_or(""),
            entry.target_id.as_deref().unwrap_or(""),
            entry.action.as_str(),
            entry.status.as_str(),
            entry.error_code.as_deref().unwrap_or(""),
            entry.error_reason.as_deref().unwrap_or(""),
            &modified,
            &entry.duration_ms.to_string(),
        ])?;
    }
    writer.flush().context("could not write the CSV")?;
    Ok(())
}
