//! An application's definition: what `roster app apply FILE` reads (TOML or JSON) and `roster app export NAME`
//! prints, and what the directory stores as JSON. Everything an admin sets on Entra's provisioning pages is here:
//! the target, the scope, the scoping filters, the attribute mappings with matching precedence, the target object
//! actions, the schedule and the limits. The secret token is not part of it: it is kept apart, encrypted.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::scoping::ScopingFilter;

/// The whole definition of an application and its provisioning job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct Definition {
    /// The unique name (`roster sync NAME`).
    pub name: String,
    /// The template it was created from: `github-emu` or `scim`.
    pub template: String,
    /// The name admins read (Graph's `displayName`); the unique name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Provisioning on (cycles run on schedule) or off.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The target: tenant URL, dialect and limits.
    pub target: Target,
    /// Who is provisioned.
    #[serde(default)]
    pub scope: Scope,
    /// Include users of groups nested in an assigned group (Entra reads direct members only).
    #[serde(default)]
    pub include_nested_members: bool,
    /// The time between cycles, e.g. `40m` (Entra's interval), `5m`, `1h`, `30s`.
    #[serde(default = "default_interval", with = "interval")]
    pub interval: Duration,
    /// Accidental-deletion prevention: when the disables plus deletes (users and groups) of one cycle exceed
    /// `deletion_threshold`, they are staged, not sent, until an admin runs `roster app allow-deletes`.
    #[serde(default = "yes")]
    pub prevent_accidental_deletions: bool,
    /// The most disables plus deletes one cycle sends without an admin's consent (Entra's default: 500).
    #[serde(default = "default_deletion_threshold")]
    pub deletion_threshold: u64,
    /// The gaps before retrying an object whose export failed: after the first failure, the second, ...; the last
    /// repeats, until 28 days after the first failure. A gap of `0s` retries the object at the next cycle.
    #[serde(default = "default_retry_after", with = "intervals")]
    pub retry_after: Vec<Duration>,
    /// Who is told by e-mail when the job goes into quarantine, changes its reason, trips the deletion guard,
    /// recovers or is turned off, and optionally of each cycle's failures.
    #[serde(default)]
    pub notifications: Notifications,
    /// The app roles users can be assigned with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub app_roles: Vec<AppRole>,
    /// How users are provisioned.
    pub users: ObjectMapping,
    /// How groups are provisioned (`enabled = false` provisions users only).
    pub groups: ObjectMapping,
    /// The secret token, only as read from a file given to `roster app apply`: it is sealed and stored apart,
    /// never kept in the definition, never serialized.
    #[serde(default, skip_serializing)]
    pub secret_token: Option<SecretText>,
}

/// A secret read from a file: its `Debug` shows `[redacted]`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct SecretText(pub String);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for SecretText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("[redacted]")
    }
}

/// Notification e-mail (Entra's "Notification Email" and "Send an email notification when a failure occurs"). The
/// SMTP server is the deployment's (`roster --smtp-url`), not the application's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct Notifications {
    /// The recipients' addresses; none: no e-mail is sent.
    #[serde(default)]
    pub emails: Vec<String>,
    /// Also send, after each cycle that ended with failed objects, one digest listing them.
    #[serde(default)]
    pub failure_digest: bool,
}

/// Which directory objects are candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Users and groups assigned to the application, and the members of assigned groups.
    #[default]
    Assigned,
    /// Every user and group.
    All,
}

/// Where and how to export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct Target {
    /// The SCIM base URL ("Tenant URL"), e.g. `https://api.github.com/scim/v2/enterprises/octo-corp`.
    pub tenant_url: String,
    /// The PATCH dialect: `rfc` (lowercase ops, boolean `active`) or `entra-legacy` (Entra's default shapes).
    #[serde(default)]
    pub dialect: Dialect,
    /// The rate budget: `github` (GitHub's documented limits for a token) or `unlimited`.
    #[serde(default)]
    pub rate_limit: RateLimit,
    /// Requests in flight at most.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Members per membership PATCH at most.
    #[serde(default = "default_members_per_patch")]
    pub members_per_patch: usize,
    /// The time one request may take, in seconds.
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
}

/// The wire shapes of PATCH requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Dialect {
    /// RFC 7644: lowercase ops, boolean `active`, members removed by a filtered path.
    #[default]
    Rfc,
    /// Entra's default without the `aadOptscim062020` flag: capitalised ops, `"False"` strings, members removed by
    /// a value array.
    EntraLegacy,
}

/// A rate budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RateLimit {
    /// No budget beyond the concurrency limit.
    #[default]
    Unlimited,
    /// GitHub's documented limits for a personal access token: 5,000 requests an hour, and 900 points a minute
    /// (reads 1 point, writes 5).
    Github,
}

/// An app role (Graph's `appRole`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppRole {
    /// Its id (a GUID).
    pub id: String,
    /// The value the application sees, e.g. `User`, `Enterprise Owner`.
    pub value: String,
    /// A display name.
    pub display_name: String,
}

/// How one kind of object (users or groups) is provisioned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct ObjectMapping {
    /// Whether this kind is provisioned at all.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Which target actions are allowed.
    #[serde(default)]
    pub actions: Actions,
    /// Attribute scoping filters: an object is in scope when it passes any filter (none: every object passes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scoping_filters: Vec<ScopingFilter>,
    /// The attribute mappings.
    pub mappings: Vec<Mapping>,
}

/// Entra's target object actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct Actions {
    /// Create objects.
    #[serde(default = "yes")]
    pub create: bool,
    /// Update (and disable) objects.
    #[serde(default = "yes")]
    pub update: bool,
    /// Delete objects.
    #[serde(default = "yes")]
    pub delete: bool,
}

impl Default for Actions {
    fn default() -> Self {
        Actions { create: true, update: true, delete: true }
    }
}

/// One attribute mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct Mapping {
    /// The target attribute path: `userName`, `name.givenName`, `emails[type eq "work"].value`, `roles`,
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`, `members`.
    pub target: String,
    /// Direct, Constant, Expression or None.
    #[serde(rename = "type")]
    pub kind: MappingKind,
    /// Direct: the source attribute; Constant: the value; Expression: the expression; None: absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The value sent on create when the source is null.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Always, or only when the object is created.
    #[serde(default, skip_serializing_if = "Apply::is_always")]
    pub apply: Apply,
    /// Matching precedence (1 is tried first); absent when the attribute is not used for matching.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub matching: Option<u32>,
}

/// Entra's four mapping types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MappingKind {
    /// The value of a source attribute.
    Direct,
    /// A fixed string.
    Constant,
    /// An expression in Entra's language.
    Expression,
    /// Nothing flows; the default is used on create.
    None,
}

/// When a mapping applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Apply {
    /// On create and on update.
    #[default]
    Always,
    /// Only on create.
    OnCreate,
}

impl Apply {
    fn is_always(&self) -> bool {
        *self == Apply::Always
    }
}

fn yes() -> bool {
    true
}

fn default_retry_after() -> Vec<Duration> {
    crate::escrow::RetrySchedule::default().gaps
}

/// Lists of durations, each written as [`interval`] writes one.
mod intervals {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(durations: &[Duration], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(durations.iter().map(|duration| super::interval::format(*duration)))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Duration>, D::Error> {
        let texts = Vec::<String>::deserialize(deserializer)?;
        if texts.is_empty() {
            return Err(serde::de::Error::custom("retry_after needs at least one duration, e.g. [\"10m\", \"1h\"]"));
        }
        texts.iter().map(|text| super::interval::parse_allowing_zero(text).map_err(serde::de::Error::custom)).collect()
    }
}

fn default_deletion_threshold() -> u64 {
    500
}

fn default_interval() -> Duration {
    Duration::from_secs(40 * 60)
}

fn default_concurrency() -> usize {
    16
}

fn default_members_per_patch() -> usize {
    100
}

fn default_timeout_seconds() -> u64 {
    30
}

/// Durations written as `40m`, `1h`, `90s`, `1h30m`.
pub mod interval {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Parses `1h30m`, `40m`, `45s`; a bare number is seconds. Zero is refused in every form (`0`, `0s`): an
    /// interval of nothing is a mistake.
    pub fn parse(text: &str) -> Result<Duration, String> {
        let duration = parse_allowing_zero(text)?;
        if duration.is_zero() {
            return Err(format!(
                "\"{}\" is not a duration: use forms like 40m, 1h, 90s or 1h30m (not zero)",
                text.trim()
            ));
        }
        Ok(duration)
    }

    /// Parses as [`parse`] does, zero included (`0`, `0s`, `0m`): what [`format`] prints for every duration,
    /// zero too, parses back.
    pub fn parse_allowing_zero(text: &str) -> Result<Duration, String> {
        let text = text.trim();
        if let Ok(seconds) = text.parse::<u64>() {
            return Ok(Duration::from_secs(seconds));
        }
        let mut total = 0u64;
        let mut number = String::new();
        for character in text.chars() {
            if character.is_ascii_digit() {
                number.push(character);
                continue;
            }
            let unit = match character {
                'h' => 3600,
                'm' => 60,
                's' => 1,
                _ => return Err(format!("\"{text}\" is not a duration: use forms like 40m, 1h, 90s or 1h30m")),
            };
            let value: u64 = number
                .parse()
                .map_err(|_| format!("\"{text}\" is not a duration: a number must come before each unit"))?;
            total = total.saturating_add(value.saturating_mul(unit));
            number.clear();
        }
        if text.is_empty() || !number.is_empty() {
            return Err(format!("\"{text}\" is not a duration: use forms like 40m, 1h, 90s or 1h30m"));
        }
        Ok(Duration::from_secs(total))
    }

    /// Prints the shortest form: `1h30m`, `40m`, `45s`.
    pub fn format(duration: Duration) -> String {
        let seconds = duration.as_secs();
        let (hours, minutes, rest) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
        let mut text = String::new();
        if hours > 0 {
            text.push_str(&format!("{hours}h"));
        }
        if minutes > 0 {
            text.push_str(&format!("{minutes}m"));
        }
        if rest > 0 || text.is_empty() {
            text.push_str(&format!("{rest}s"));
        }
        text
    }

    pub(super) fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format(*duration))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        let cases = [
            ("40m", Ok(2400)),
            ("1h30m", Ok(5400)),
            ("90", Ok(90)),
            ("45s", Ok(45)),
            ("0m", Err(())),
            ("0", Err(())),
            ("0s", Err(())),
            ("", Err(())),
            ("m", Err(())),
            ("10x", Err(())),
            ("10", Ok(10)),
            ("5m5", Err(())),
        ];
        for (text, expected) in cases {
            let actual = interval::parse(text).map(|duration| duration.as_secs()).map_err(|_| ());
            assert_eq!(actual, expected, "{text}");
        }
        for seconds in [1, 59, 60, 61, 3600, 5400, 86_399] {
            let duration = Duration::from_secs(seconds);
            assert_eq!(interval::parse(&interval::format(duration)), Ok(duration));
        }
    }

    /// A retry gap of zero (the next cycle) is accepted in every form, and what is stored reads back: `"0"` was
    /// accepted but stored as `"0s"`, which did not parse, so the application's stored definition could no longer
    /// be read.
    #[test]
    fn zero_retry_gaps_round_trip() {
        for text in ["0", "0s", "0m", "0h0m"] {
            assert_eq!(interval::parse_allowing_zero(text), Ok(Duration::ZERO), "{text}");
        }
        for text in ["", "s", "5m5", "-1", "1d"] {
            assert!(interval::parse_allowing_zero(text).is_err(), "{text}");
        }
        let mut definition = crate::templates::github_emu("app", "https://example.com/scim");
        definition.retry_after = vec![Duration::ZERO, Duration::from_secs(600)];
        let json = serde_json::to_string(&definition).unwrap_or_default();
        assert!(json.contains(r#""retry_after":["0s","10m"]"#), "{json}");
        assert_eq!(serde_json::from_str::<Definition>(&json).ok(), Some(definition));
        let empty = json.replace(r#"["0s","10m"]"#, "[]");
        assert!(serde_json::from_str::<Definition>(&empty).is_err());
    }
}
