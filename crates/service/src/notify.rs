//! Notification e-mail, as Entra sends it: to an application's recipients (`[notifications] emails` in its
//! definition) when its job goes into quarantine, when the quarantine's reason changes, when the accidental-deletion
//! guard trips, when the quarantine ends and when the scheduler turns provisioning off after four weeks of it; and,
//! with `failure_digest`, one digest of the failed objects after each cycle that had some.
//!
//! One message per change of state, never a storm: the state last told is kept in the job state
//! ([`JobState::notified`]) and written only once the SMTP server accepted the message, so a cycle in the same state
//! sends nothing, and a message the server refused is tried again after the next cycle. The SMTP server is the
//! deployment's ([`MailSettings`], `roster --smtp-url`). Without recipients nothing is sent; without a server,
//! nothing either, and a message that would have gone out is a warning. A failed send is a warning (without the
//! server's password), never a failed cycle.
//!
//! The decisions and the texts are pure functions of the job state ([`after_cycle_notice`], [`turned_off_notice`],
//! [`failure_digest`]); [`after_cycle`] and [`turned_off`] read the state, send, and record what they told.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use roster_engine::definition::{Definition, Notifications};
use roster_engine::log::{LogEntry, Status};
use roster_engine::state::{Cycle, EngineStore, JobState, LogQuery, Quarantine};
use time::OffsetDateTime;

use crate::Stores;

/// The sender when none is configured.
pub const DEFAULT_FROM: &str = "roster@localhost";

/// The deployment's SMTP settings (not an application's): where notification e-mail goes out, and from whom.
#[derive(Clone, PartialEq, Eq)]
pub struct MailSettings {
    /// `smtp://host:port` (plain, for a local relay), `smtp://user:password@host:587?tls=required` (STARTTLS),
    /// `smtp://host?tls=opportunistic`, or `smtps://user:password@host:465` (TLS from the start); `None`: no
    /// e-mail is sent.
    pub smtp_url: Option<String>,
    /// The sender's address, e.g. `roster@example.com` or `roster <roster@example.com>`.
    pub from: String,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings { smtp_url: None, from: DEFAULT_FROM.to_owned() }
    }
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings")
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("from", &self.from)
            .finish()
    }
}

/// The deployment's SMTP client, or none (then nothing is sent). Cheap to clone.
#[derive(Clone, Default)]
pub struct Mailer {
    smtp: Option<Arc<Smtp>>,
}

struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The URL without its password, for the logs.
    server: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("server", &self.smtp.as_ref().map(|smtp| smtp.server.as_str())).finish()
    }
}

/// How long one SMTP command may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

impl Mailer {
    /// A mailer that sends nothing.
    pub fn none() -> Mailer {
        Mailer { smtp: None }
    }

    /// The mailer of these settings: none without an SMTP URL; an error for a URL or sender that cannot work
    /// (the message never shows the URL's password).
    pub fn new(settings: &MailSettings) -> anyhow::Result<Mailer> {
        let from = Mailbox::from_str(&settings.from).map_err(|error| {
            anyhow::anyhow!(
                "--mail-from {:?} is not an e-mail address ({error}); use a form like roster@example.com",
                settings.from
            )
        })?;
        let Some(url) = &settings.smtp_url else {
            return Ok(Mailer::none());
        };
        let server = redact_url(url);
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|error| {
                anyhow::anyhow!(
                    "--smtp-url {server}: {error}; use smtp://HOST:PORT, smtp://USER:PASSWORD@HOST:587?tls=required or \
                     smtps://USER:PASSWORD@HOST:465"
                )
            })?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Mailer { smtp: Some(Arc::new(Smtp { transport, from, server })) })
    }

    /// Whether an SMTP server is configured.
    pub fn is_configured(&self) -> bool {
        self.smtp.is_some()
    }
}

/// Checks an application's notification settings: every recipient is an e-mail address.
pub fn validate(notifications: &Notifications) -> anyhow::Result<()> {
    recipients(notifications).map(drop)
}

/// After a cycle of `definition`'s job (`cycle` when it ended rather than failed), under the job's lease: tells the
/// recipients of a change of the job's state, and sends the failure digest when asked for. Never fails: a problem
/// is logged as a warning.
pub async fn after_cycle(stores: &Stores, mailer: &Mailer, definition: &Definition, cycle: Option<&Cycle>) {
    let name = &definition.name;
    let Some(outbox) = Outbox::open(stores, mailer, definition) else { return };
    let job = match outbox.state.job(name).await {
        Ok(job) => job,
        Err(error) => {
            tracing::warn!(application = %name, %error, "could not read the job state for notifications");
            return;
        }
    };
    if let Some((email, told)) = after_cycle_notice(name, &job) {
        outbox.send_and_record(&email, told).await;
    }
    let Some(cycle) =
        cycle.filter(|cycle| definition.notifications.failure_digest && cycle.outcome == "EntryLevelErrors")
    else {
        return;
    };
    let query = LogQuery {
        cycle: Some(cycle.id.clone()),
        status: Some(Status::Failure),
        limit: DIGEST_READ_LIMIT,
        ..LogQuery::default()
    };
    match outbox.state.logs(name, &query).await {
        Ok(failures) => {
            if let Some(email) = failure_digest(name, cycle, &failures) {
                outbox.send(&email).await;
            }
        }
        Err(error) => tracing::warn!(application = %name, %error, "could not read the cycle's failures for the digest"),
    }
}

/// After the scheduler turned provisioning of `definition`'s job off (four weeks in quarantine): tells the
/// recipients. Never fails: a problem is logged as a warning.
pub async fn turned_off(stores: &Stores, mailer: &Mailer, definition: &Definition) {
    let name = &definition.name;
    let Some(outbox) = Outbox::open(stores, mailer, definition) else { return };
    match outbox.state.job(name).await {
        Ok(job) => {
            if let Some((email, told)) = turned_off_notice(name, &job) {
                outbox.send_and_record(&email, told).await;
            }
        }
        Err(error) => tracing::warn!(application = %name, %error, "could not read the job state for notifications"),
    }
}

/// A message to send: its subject and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The subject line.
    pub subject: String,
    /// The body, plain text.
    pub body: String,
}

/// What a job's state after a cycle calls for: a message and the state it tells of (to record once sent), or
/// nothing when that state was already told (or is healthy and nothing else was).
pub fn after_cycle_notice(application: &str, job: &JobState) -> Option<(Email, String)> {
    let previous = job.notified.as_deref();
    let Some(quarantine) = &job.quarantine else {
        // Healthy: worth a message only after one that told of trouble.
        return match previous {
            None | Some(HEALTHY) => None,
            Some(previous) => Some((recovered(application, job, previous), HEALTHY.to_owned())),
        };
    };
    let current = quarantine_key(quarantine);
    if previous == Some(current.as_str()) || previous.and_then(|told| told.strip_prefix(OFF)) == Some(current.as_str())
    {
        return None;
    }
    let email = if quarantine.reason == TOO_MANY_DELETES {
        deletion_guard(application, job, quarantine)
    } else {
        quarantined(
            application,
            quarantine,
            previous.and_then(told_reason).filter(|reason| *reason != quarantine.reason),
        )
    };
    Some((email, current))
}

/// The message when the scheduler turned provisioning off after four weeks of quarantine, and the state it tells
/// of; nothing when the job is not in quarantine.
pub fn turned_off_notice(application: &str, job: &JobState) -> Option<(Email, String)> {
    let quarantine = job.quarantine.as_ref()?;
    let subject = format!("roster: provisioning of {application} is turned off after four weeks in quarantine");
    let body = format!(
        "Provisioning of the application {application} has been in quarantine since {since} ({reason}), more than \
         four weeks: roster turned it off. No cycle runs until it is turned on again.\n\
         \n\
         What happened: {detail}\n\
         \n\
         What to do:\n\
         {actions}\
         {footer}",
        since = when(quarantine.since),
        reason = quarantine.reason,
        detail = quarantine.detail,
        actions = to_do(&[
            ("See the job and the failures:", format!("roster status {application}")),
            ("", format!("roster logs {application} --status failure")),
            ("Fix the cause, then turn it on:", format!("roster app enable {application}")),
            ("", format!("roster app restart {application}")),
        ]),
        footer = FOOTER,
    );
    Some((Email { subject, body }, format!("{OFF}{}", quarantine_key(quarantine))))
}

/// The digest of a cycle's failed objects (its failure log entries), at most [`DIGEST_LINES`] of them listed;
/// nothing when none failed.
pub fn failure_digest(application: &str, cycle: &Cycle, failures: &[LogEntry]) -> Option<Email> {
    if failures.is_empty() {
        return None;
    }
    let subject = format!(
        "roster: {application}: {} failed in the cycle of {}",
        plural(failures.len(), "object", "objects"),
        when(cycle.began)
    );
    let mut lines: Vec<String> = failures.iter().take(DIGEST_LINES).map(digest_line).collect();
    if failures.len() > DIGEST_LINES {
        let more = failures.len() - DIGEST_LINES;
        lines.push(format!("... and {more} more"));
    }
    let body = format!(
        "The {kind} cycle {id} of the application {application} ended on {ended} with failed objects:\n\
         \n\
         {lines}\n\
         \n\
         Each failed object is tried again: on the definition's retry_after schedule when a retry may fix it, or \
         when the object changes when it cannot (a 400, a 409, a mapping that fails).\n\
         \n\
         {actions}\
         \n\
         roster sends this digest after each cycle with failed objects because the definition of {application} \
         says failure_digest = true.\n",
        kind = cycle.kind.as_str().to_lowercase(),
        id = cycle.id,
        ended = when(cycle.ended.unwrap_or(cycle.began)),
        lines = lines.join("\n"),
        actions = to_do(&[
            (
                "All of them, with each step:",
                format!("roster logs {application} --status failure --cycle {}", cycle.id)
            ),
            ("The job:", format!("roster status {application}")),
        ]),
    );
    Some(Email { subject, body })
}

/// At most this many failed objects are listed in a digest.
pub const DIGEST_LINES: usize = 50;

/// At most this many failure log entries are read for a digest.
const DIGEST_READ_LIMIT: usize = 10_000;

/// `notified` of a healthy job.
const HEALTHY: &str = "Healthy";
/// The prefix of `notified` once provisioning was turned off in a quarantine.
const OFF: &str = "Off ";
const TOO_MANY_DELETES: &str = "TooManyDeletes";

const FOOTER: &str = "\nroster sends one message per change of the job's state (a quarantine begins, its reason changes, \
                      it ends, provisioning is turned off); the same state is not told twice.\n";

/// The job state a quarantine stands for: its reason and start (a new start is a new quarantine, to tell again).
fn quarantine_key(quarantine: &Quarantine) -> String {
    let since = quarantine
        .since
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| quarantine.since.unix_timestamp().to_string());
    format!("Quarantine {} since {since}", quarantine.reason)
}

/// The reason of a quarantine a `notified` value told of.
fn told_reason(told: &str) -> Option<&str> {
    let rest = told.strip_prefix(OFF).unwrap_or(told).strip_prefix("Quarantine ")?;
    rest.split(' ').next()
}

fn quarantined(application: &str, quarantine: &Quarantine, previous_reason: Option<&str>) -> Email {
    let subject = match previous_reason {
        None => format!("roster: {application} is in quarantine ({})", quarantine.reason),
        Some(_) => format!("roster: {application} is in quarantine for another reason ({})", quarantine.reason),
    };
    let changed =
        previous_reason.map(|previous| format!("The reason changed: it was {previous}.\n")).unwrap_or_default();
    let body = format!(
        "Provisioning of the application {application} is in quarantine since {since}.\n\
         \n\
         Reason: {reason}\n\
         {changed}\
         What happened: {detail}\n\
         \n\
         While the quarantine lasts, roster runs the job's cycles less and less often (up to once a day), and turns \
         provisioning off after four weeks.\n\
         \n\
         What to do:\n\
         {actions}\
         {footer}",
        since = when(quarantine.since),
        reason = quarantine.reason,
        detail = quarantine.detail,
        actions = look_and_restart(application),
        footer = FOOTER,
    );
    Email { subject, body }
}

fn deletion_guard(application: &str, job: &JobState, quarantine: &Quarantine) -> Email {
    let staged = format!(
        "{} and {}",
        plural(job.staged_users.len(), "user", "users"),
        plural(job.staged_groups.len(), "group", "groups")
    );
    let subject = format!("roster: {application}: the deletion guard held back the disables and deletes of {staged}");
    let body = format!(
        "The accidental-deletion guard of the application {application} tripped on {since}: the disables and \
         deletes of {staged} are staged, not sent. The job is in quarantine ({TOO_MANY_DELETES}) and runs no cycle \
         until an admin decides.\n\
         \n\
         What happened: {detail}\n\
         \n\
         What to do:\n\
         {actions}\
         {footer}",
        since = when(quarantine.since),
        detail = quarantine.detail,
        actions = to_do(&[
            ("See what is staged:", format!("roster logs {application} --action StagedDelete")),
            ("", format!("roster status {application}")),
            ("If they are intended, send them:", format!("roster app allow-deletes {application}")),
            (
                "If not, fix the cause (assignments, scoping filters, the directory), then run a cycle:",
                format!("roster sync {application}"),
            ),
        ]),
        footer = FOOTER,
    );
    Email { subject, body }
}

fn recovered(application: &str, job: &JobState, previous: &str) -> Email {
    let was = match (previous.starts_with(OFF), told_reason(previous)) {
        (true, Some(reason)) => format!("turned off after four weeks in quarantine ({reason})"),
        (false, Some(reason)) => format!("in quarantine ({reason})"),
        (_, None) => "in trouble".to_owned(),
    };
    let last = job
        .last_cycle
        .as_ref()
        .map(|cycle| {
            format!(
                "\nThe last cycle ({}) ended on {}: {}.\n",
                cycle.kind.as_str().to_lowercase(),
                when(cycle.ended.unwrap_or(cycle.began)),
                cycle.outcome
            )
        })
        .unwrap_or_default();
    let subject = format!("roster: {application} is out of quarantine");
    let body = format!(
        "Provisioning of the application {application} is healthy again: its last cycle ended without a reason for \
         quarantine. It was {was}.\n\
         {last}\
         \n\
         {actions}\
         {FOOTER}",
        actions = to_do(&[("The job:", format!("roster status {application}"))]),
    );
    Email { subject, body }
}

fn look_and_restart(application: &str) -> String {
    to_do(&[
        ("See the job and the failures:", format!("roster status {application}")),
        ("", format!("roster logs {application} --status failure")),
        ("Fix the cause, then restart:", format!("roster app restart {application}")),
    ])
}

/// Things to do, each a label and a command, the commands aligned (under a label too long to stand beside them).
fn to_do(steps: &[(&str, String)]) -> String {
    const WIDTH: usize = 34;
    let mut text = String::new();
    for (label, command) in steps {
        if label.len() < WIDTH {
            text.push_str(&format!("  {label:<WIDTH$}{command}\n"));
        } else {
            text.push_str(&format!("  {label}\n  {:<WIDTH$}{command}\n", ""));
        }
    }
    text
}

fn digest_line(entry: &LogEntry) -> String {
    let name = entry.source_name.as_deref().unwrap_or(&entry.source_id);
    let code = entry.error_code.as_deref().unwrap_or("UnknownError");
    let reason = entry.error_reason.as_deref().map(|reason| format!(": {reason}")).unwrap_or_default();
    format!("- {} {name}: {} failed, {code}{reason}", entry.kind.as_str(), entry.action)
}

/// A time as a person reads it, in UTC: `2026-05-01 09:30 UTC`.
fn when(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", at.year(), u8::from(at.month()), at.day(), at.hour(), at.minute())
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// An SMTP URL without its password: `smtps://user:***@host:465`.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "[an SMTP URL that is not a URL]".to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((user_info, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    let user = user_info.split_once(':').map_or(user_info, |(user, _)| user);
    format!("{scheme}://{user}:***@{host}{tail}")
}

/// An application's recipients, parsed.
fn recipients(notifications: &Notifications) -> anyhow::Result<Vec<Mailbox>> {
    notifications
        .emails
        .iter()
        .map(|email| {
            Mailbox::from_str(email).with_context(|| {
                format!("notifications.emails: {email:?} is not an e-mail address; use a form like ops@example.com")
            })
        })
        .collect()
}

/// What sending needs: the server, the recipients, the job's state.
struct Outbox<'a> {
    /// None: no SMTP server is configured, and each message that would be sent is a warning instead.
    smtp: Option<&'a Smtp>,
    recipients: Vec<Mailbox>,
    state: Arc<dyn EngineStore>,
    application: &'a str,
}

impl<'a> Outbox<'a> {
    /// Nothing when the application has no recipient.
    fn open(stores: &Stores, mailer: &'a Mailer, definition: &'a Definition) -> Option<Outbox<'a>> {
        let application = definition.name.as_str();
        if definition.notifications.emails.is_empty() {
            return None;
        }
        let smtp = mailer.smtp.as_deref();
        let recipients = match recipients(&definition.notifications) {
            Ok(recipients) => recipients,
            Err(error) => {
                tracing::warn!(application, error = %format!("{error:#}"), "no notification e-mail");
                return None;
            }
        };
        let (_, state) = crate::provisioning::ports(stores);
        Some(Outbox { smtp, recipients, state, application })
    }

    /// Sends a message; whether the server accepted it.
    async fn send(&self, email: &Email) -> bool {
        let Some(smtp) = self.smtp else {
            tracing::warn!(
                application = self.application,
                subject = %email.subject,
                "no SMTP server is configured (--smtp-url or ROSTER_SMTP_URL): a notification e-mail is not sent"
            );
            return false;
        };
        match Self::try_send(smtp, &self.recipients, email).await {
            Ok(()) => {
                tracing::info!(application = self.application, subject = %email.subject, "sent a notification e-mail");
                true
            }
            Err(error) => {
                tracing::warn!(
                    application = self.application,
                    server = %smtp.server,
                    subject = %email.subject,
                    %error,
                    "could not send a notification e-mail"
                );
                false
            }
        }
    }

    async fn try_send(smtp: &Smtp, recipients: &[Mailbox], email: &Email) -> anyhow::Result<()> {
        let mut builder =
            Message::builder().from(smtp.from.clone()).subject(email.subject.clone()).header(ContentType::TEXT_PLAIN);
        for recipient in recipients {
            builder = builder.to(recipient.clone());
        }
        let message = builder.body(email.body.clone()).context("could not build the message")?;
        if let Err(error) = smtp.transport.send(message).await {
            // lettre's error shows its cause after a colon: Display alone, not the chain.
            bail!("{error}");
        }
        Ok(())
    }

    /// Sends a message and, once the server accepted it, records the state it told of.
    async fn send_and_record(&self, email: &Email, told: String) {
        if !self.send(email).await {
            return;
        }
        // Read again: only `notified` changes, whatever else was written while the message went out.
        let recorded = match self.state.job(self.application).await {
            Ok(mut job) => {
                job.notified = Some(told);
                self.state.put_job(self.application, &job).await
            }
            Err(error) => Err(error),
        };
        if let Err(error) = recorded {
            tracing::warn!(application = self.application, %error, "could not record the notification e-mail sent");
        }
    }
}

#[cfg(test)]
mod tests {
    use roster_engine::log::{Action, Initiator, ObjectKind};
    use roster_engine::state::{CycleKind, JobStatus};
    use time::macros::datetime;

    use super::*;

    const APP: &str = "github";
    const T1: OffsetDateTime = datetime!(2026-05-01 09:30 UTC);
    const T2: OffsetDateTime = datetime!(2026-05-02 10:45 UTC);

    fn quarantine(reason: &str, since: OffsetDateTime) -> Quarantine {
        Quarantine { reason: reason.to_owned(), detail: format!("detail of {reason}"), since, cycles: 1 }
    }

    fn job(quarantine: Option<Quarantine>, notified: Option<&str>) -> JobState {
        JobState {
            status: if quarantine.is_some() { JobStatus::Quarantine } else { JobStatus::Active },
            quarantine,
            notified: notified.map(str::to_owned),
            staged_users: vec!["u1".into(), "u2".into(), "u3".into()],
            staged_groups: vec!["g1".into()],
            ..JobState::default()
        }
    }

    const REFUSED: &str = "EncounteredQuarantineException";
    const PROPORTION: &str = "EncounteredEscrowProportionThreshold";
    const REFUSED_T1: &str = "Quarantine EncounteredQuarantineException since 2026-05-01T09:30:00Z";

    /// What is sent after a cycle that leaves the job in `quarantine`, when `notified` was told before: the
    /// subject and the state recorded, or nothing.
    #[track_caller]
    fn check(quarantine: Option<Quarantine>, notified: Option<&str>, expected: Option<(&str, &str)>) {
        let state = job(quarantine, notified);
        let actual = after_cycle_notice(APP, &state);
        let actual = actual.as_ref().map(|(email, told)| (email.subject.as_str(), told.as_str()));
        assert_eq!(actual, expected, "{:?} told {notified:?}", state.quarantine);
    }

    #[test]
    fn each_change_of_state_is_told_once() {
        const STARTED: &str = "roster: github is in quarantine (EncounteredQuarantineException)";
        const GUARD: &str =
            "roster: github: the deletion guard held back the disables and deletes of 3 users and 1 group";
        const RECOVERED: &str = "roster: github is out of quarantine";
        const REFUSED_T2: &str = "Quarantine EncounteredQuarantineException since 2026-05-02T10:45:00Z";
        const OFF_T1: &str = "Off Quarantine EncounteredQuarantineException since 2026-05-01T09:30:00Z";
        // Healthy, never told or told healthy: nothing.
        check(None, None, None);
        check(None, Some(HEALTHY), None);
        // A quarantine begins.
        check(Some(quarantine(REFUSED, T1)), None, Some((STARTED, REFUSED_T1)));
        check(Some(quarantine(REFUSED, T1)), Some(HEALTHY), Some((STARTED, REFUSED_T1)));
        // The same quarantine, cycle after cycle: nothing.
        check(Some(quarantine(REFUSED, T1)), Some(REFUSED_T1), None);
        // The reason changes.
        check(
            Some(quarantine(PROPORTION, T2)),
            Some(REFUSED_T1),
            Some((
                "roster: github is in quarantine for another reason (EncounteredEscrowProportionThreshold)",
                "Quarantine EncounteredEscrowProportionThreshold since 2026-05-02T10:45:00Z",
            )),
        );
        // The same reason, a new quarantine (after a restart): told again.
        check(Some(quarantine(REFUSED, T2)), Some(REFUSED_T1), Some((STARTED, REFUSED_T2)));
        // The deletion guard trips, from healthy or from another quarantine.
        check(
            Some(quarantine(TOO_MANY_DELETES, T1)),
            None,
            Some((GUARD, "Quarantine TooManyDeletes since 2026-05-01T09:30:00Z")),
        );
        check(
            Some(quarantine(TOO_MANY_DELETES, T2)),
            Some(REFUSED_T1),
            Some((GUARD, "Quarantine TooManyDeletes since 2026-05-02T10:45:00Z")),
        );
        // The quarantine ends: one message; turned off, then on again and recovered: one message.
        check(None, Some(REFUSED_T1), Some((RECOVERED, HEALTHY)));
        check(None, Some(OFF_T1), Some((RECOVERED, HEALTHY)));
        // Turned off in this quarantine, turned on again, still in it: already told.
        check(Some(quarantine(REFUSED, T1)), Some(OFF_T1), None);
    }

    #[test]
    fn a_quarantine_message_says_why_since_when_and_what_to_do() {
        let state = job(Some(quarantine(PROPORTION, T2)), Some(REFUSED_T1));
        let (email, _) = after_cycle_notice(APP, &state).unwrap();
        for expected in [
            "in quarantine since 2026-05-02 10:45 UTC",
            "Reason: EncounteredEscrowProportionThreshold",
            "The reason changed: it was EncounteredQuarantineException.",
            "What happened: detail of EncounteredEscrowProportionThreshold",
            "roster logs github --status failure",
            "roster app restart github",
            "turns provisioning off after four weeks",
        ] {
            assert!(email.body.contains(expected), "{expected:?} missing from:\n{}", email.body);
        }
    }

    #[test]
    fn a_deletion_guard_message_counts_the_staged_objects_and_names_allow_deletes() {
        let state = job(Some(quarantine(TOO_MANY_DELETES, T1)), None);
        let (email, _) = after_cycle_notice(APP, &state).unwrap();
        for expected in [
            "the disables and deletes of 3 users and 1 group are staged",
            "roster app allow-deletes github",
            "roster logs github --action StagedDelete",
            "detail of TooManyDeletes",
        ] {
            assert!(email.body.contains(expected), "{expected:?} missing from:\n{}", email.body);
        }
    }

    #[test]
    fn turning_provisioning_off_is_told_with_how_to_turn_it_on() {
        assert_eq!(turned_off_notice(APP, &job(None, None)), None);
        let (email, told) = turned_off_notice(APP, &job(Some(quarantine(REFUSED, T1)), Some(REFUSED_T1))).unwrap();
        assert_eq!(email.subject, "roster: provisioning of github is turned off after four weeks in quarantine");
        assert!(email.body.contains("roster app enable github"), "{}", email.body);
        assert_eq!(told, format!("Off {REFUSED_T1}"));
        // Told once: the cycles after it (turned on again, same quarantine) send nothing more.
        let after = job(Some(quarantine(REFUSED, T1)), Some(&told));
        assert_eq!(after_cycle_notice(APP, &after), None);
    }

    fn failure(index: usize) -> LogEntry {
        LogEntry {
            at: T1,
            application: APP.to_owned(),
            cycle: "c1".to_owned(),
            change: format!("e{index}"),
            kind: ObjectKind::User,
            source_id: format!("id-{index}"),
            source_name: index.is_multiple_of(2).then(|| format!("user{index}@contoso.example")),
            target_id: None,
            action: Action::Create,
            status: Status::Failure,
            steps: Vec::new(),
            modified: Vec::new(),
            error_code: Some("UnprocessableEntity".to_owned()),
            error_reason: Some("login too long".to_owned()),
            duration_ms: 3,
            initiator: Initiator::System,
        }
    }

    #[test]
    fn a_failure_digest_lists_at_most_fifty_objects() {
        let cycle = Cycle {
            id: "c1".to_owned(),
            kind: CycleKind::Incremental,
            began: T1,
            ended: Some(T2),
            from: 1,
            to: 2,
            counts: roster_engine::state::Counts::default(),
            outcome: "EntryLevelErrors".to_owned(),
        };
        assert_eq!(failure_digest(APP, &cycle, &[]), None);
        let one = failure_digest(APP, &cycle, &[failure(0)]).unwrap();
        assert_eq!(one.subject, "roster: github: 1 object failed in the cycle of 2026-05-01 09:30 UTC");
        assert!(
            one.body.contains("- User user0@contoso.example: Create failed, UnprocessableEntity: login too long\n"),
            "{}",
            one.body
        );
        assert!(one.body.contains("roster logs github --status failure --cycle c1"), "{}", one.body);
        let many: Vec<LogEntry> = (0..53).map(failure).collect();
        let digest = failure_digest(APP, &cycle, &many).unwrap();
        assert!(digest.subject.starts_with("roster: github: 53 objects failed"), "{}", digest.subject);
        assert_eq!(digest.body.lines().filter(|line| line.starts_with("- User ")).count(), DIGEST_LINES);
        assert!(digest.body.contains("- User id-1: Create failed"), "no name: the id");
        assert!(digest.body.contains("\n... and 3 more\n"), "{}", digest.body);
    }

    #[test]
    fn settings_never_show_the_password_and_bad_ones_are_refused() {
        let cases = [
            ("smtp://127.0.0.1:2525", "smtp://127.0.0.1:2525"),
            ("smtps://ops:s3cret@mail.example.com:465", "smtps://ops:***@mail.example.com:465"),
            (
                "smtp://ops:s3cret@mail.example.com/hello?tls=required",
                "smtp://ops:***@mail.example.com/hello?tls=required",
            ),
            ("smtp://ops@mail.example.com", "smtp://ops:***@mail.example.com"),
            ("mail.example.com", "[an SMTP URL that is not a URL]"),
        ];
        for (url, expected) in cases {
            assert_eq!(redact_url(url), expected);
        }
        let settings = |url: &str, from: &str| MailSettings { smtp_url: Some(url.to_owned()), from: from.to_owned() };
        let debug = format!("{:?}", settings("smtps://ops:s3cret@mail.example.com", DEFAULT_FROM));
        assert!(!debug.contains("s3cret"), "{debug}");
        let mailer = Mailer::new(&settings("smtps://ops:s3cret@mail.example.com", DEFAULT_FROM)).unwrap();
        assert!(mailer.is_configured() && !format!("{mailer:?}").contains("s3cret"));
        assert!(!Mailer::new(&MailSettings::default()).unwrap().is_configured());
        let error = Mailer::new(&settings("ftp://ops:s3cret@mail.example.com", DEFAULT_FROM)).unwrap_err().to_string();
        assert!(error.contains("--smtp-url ftp://ops:***@mail.example.com") && !error.contains("s3cret"), "{error}");
        let error = Mailer::new(&settings("smtp://127.0.0.1", "not an address")).unwrap_err().to_string();
        assert!(error.contains("--mail-from"), "{error}");
    }

    #[test]
    fn recipients_must_be_addresses() {
        let notifications = |emails: &[&str]| Notifications {
            emails: emails.iter().map(|email| (*email).to_owned()).collect(),
            failure_digest: false,
        };
        assert!(validate(&notifications(&[])).is_ok());
        assert!(validate(&notifications(&["ops@example.com", "Identity Team <iam@example.com>"])).is_ok());
        let error = format!("{:#}", validate(&notifications(&["ops@example.com", "ops at example"])).unwrap_err());
        assert!(error.contains("notifications.emails: \"ops at example\" is not an e-mail address"), "{error}");
    }
}
