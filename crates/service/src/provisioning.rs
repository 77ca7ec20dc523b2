//! Applications and their provisioning jobs, behind `roster app ...`, `roster sync`, `roster status`, `roster logs`
//! and the scheduler of `roster serve`: definitions from templates or files, the sealed secret token, assignments,
//! the SCIM client a job exports with, one cycle under the job's lease, and the job's status and logs.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use roster_directory::ObjectId;
use roster_directory::port::{Assignment, DirectoryStore, PrincipalKind};
use roster_engine::cycle::{self, Job, Progress};
use roster_engine::definition::{Definition, Dialect, RateLimit, Scope};
use roster_engine::dry_run::Plan;
use roster_engine::log::{LogEntry, ObjectKind};
use roster_engine::mapping::Mapper;
use roster_engine::scoping::CompiledScoping;
use roster_engine::state::{Cycle, EngineStore, JobState, Lease, LogQuery, ShadowState};
use roster_engine::templates;
use roster_scim_client::{Budget, ClientConfig, ConnectionProblem, ScimClient, Secret};
use time::OffsetDateTime;

use roster_directory::audit::{AuditEntry, Category, TargetResource};

use crate::notify::Mailer;
use crate::secrets::SecretKey;
use crate::{Actor, ServiceError, Stores};

/// How long a job's lease lasts without renewal, unless `roster serve --lease` says otherwise: a node that dies
/// holding it leaves its jobs to the other nodes after this long.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);
/// The shortest lease `roster serve --lease` accepts: renewals come every third of it, and a database round trip
/// must fit well inside that.
pub const MIN_LEASE: Duration = Duration::from_secs(3);

/// The file formats of `roster app apply` and `roster app export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefinitionFormat {
    /// TOML.
    Toml,
    /// JSON.
    Json,
}

impl DefinitionFormat {
    /// By the file's extension (`.toml`, `.json`).
    pub fn from_path(path: &Path) -> anyhow::Result<DefinitionFormat> {
        match path.extension().and_then(|extension| extension.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("toml") => Ok(DefinitionFormat::Toml),
            Some("json") => Ok(DefinitionFormat::Json),
            _ => bail!("{}: an application definition is a .toml or .json file", path.display()),
        }
    }
}

/// The directory and engine ports of the opened stores.
pub(crate) fn ports(stores: &Stores) -> (Arc<dyn DirectoryStore>, Arc<dyn EngineStore>) {
    (stores.directory.clone(), stores.engine.clone())
}

/// Checks a definition as a cycle would use it: the name, the tenant URL, the mappings, the scoping filters.
pub fn validate(definition: &Definition) -> anyhow::Result<()> {
    let name = &definition.name;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        bail!("application name {name:?}: use letters, digits, '-', '_' and '.'");
    }
    let url = &definition.target.tenant_url;
    // An application that is off may wait for its tenant URL (Graph's instantiate, then PUT secrets).
    let unconfigured = url.is_empty() && !definition.enabled;
    if !(unconfigured || url.starts_with("https://") || url.starts_with("http://")) {
        bail!(
            "tenant URL {url:?}: expected an http:// or https:// URL, such as https://api.github.com/scim/v2/enterprises/octo-corp"
        );
    }
    if definition.target.concurrency == 0 || definition.target.members_per_patch == 0 {
        bail!("target.concurrency and target.members_per_patch must be at least 1");
    }
    Mapper::compile(&definition.users.mappings).context("users.mappings")?;
    Mapper::compile(&definition.groups.mappings).context("groups.mappings")?;
    CompiledScoping::compile(&definition.users.scoping_filters).context("users.scoping_filters")?;
    CompiledScoping::compile(&definition.groups.scoping_filters).context("groups.scoping_filters")?;
    if Mapper::compile(&definition.users.mappings)?.matching().is_empty() {
        bail!("users.mappings: at least one mapping needs a matching precedence (match = 1)");
    }
    crate::notify::validate(&definition.notifications)?;
    Ok(())
}

/// Parses a definition file's text.
pub fn parse_definition(text: &str, format: DefinitionFormat) -> anyhow::Result<Definition> {
    let definition: Definition = match format {
        DefinitionFormat::Toml => toml::from_str(text).map_err(|error| anyhow!("{error}"))?,
        DefinitionFormat::Json => serde_json::from_str(text).map_err(|error| anyhow!("{error}"))?,
    };
    validate(&definition)?;
    Ok(definition)
}

/// Prints a definition (the secret token is never part of it).
pub fn print_definition(definition: &Definition, format: DefinitionFormat) -> anyhow::Result<String> {
    Ok(match format {
        DefinitionFormat::Toml => {
            let body = toml::to_string_pretty(definition).context("could not print the definition as TOML")?;
            format!("# The secret token is not exported: add secret_token = \"...\" to set it.\n{body}")
        }
        DefinitionFormat::Json => serde_json::to_string_pretty(definition)? + "\n",
    })
}

/// Entra's audit activity names for changes of an application.
pub mod activity {
    /// A new application.
    pub const ADD_APPLICATION: &str = "Add application";
    /// Any other change of its definition.
    pub const UPDATE_APPLICATION: &str = "Update application";
    /// The tenant URL, secret token, notification settings, scope.
    pub const UPDATE_CREDENTIALS: &str = "Update provisioning setting or credentials";
    /// The mappings and scoping filters.
    pub const UPDATE_MAPPINGS: &str = "Update attribute mappings or scope";
    /// Provisioning turned on.
    pub const START: &str = "Enable/start provisioning configuration";
    /// Provisioning turned off.
    pub const PAUSE: &str = "Disable/pause provisioning configuration";
    /// A restart, or deletes allowed.
    pub const RESTART: &str = "Enable/restart provisioning configuration";
    /// Provisioning set up on an application.
    pub const ADD_PROVISIONING: &str = "Add provisioning configuration";
    /// A job deleted (Graph's DELETE of the job).
    pub const DELETE_PROVISIONING: &str = "Delete provisioning configuration";
}

/// Stores a definition and, when given, its sealed token, as `actor`, under the audit `activity` (see
/// [`activity`]; `None` picks "Add application" or "Update application"). Returns whether the application is new.
pub async fn put(
    stores: &Stores,
    key: &SecretKey,
    actor: &Actor,
    mut definition: Definition,
    token: Option<&str>,
    activity: Option<&str>,
) -> anyhow::Result<bool> {
    validate(&definition).map_err(|error| ServiceError::invalid(format!("{error:#}")))?;
    let (directory, _) = ports(stores);
    let existing = directory.application(&definition.name).await?;
    let token = token.map(str::to_owned).or_else(|| definition.secret_token.take().map(|secret| secret.0));
    if existing.is_none() && token.is_none() && definition.enabled {
        bail!(
            "application {}: a secret token is needed (--secret-token, or secret_token in the file)",
            definition.name
        );
    }
    let sealed = token.map(|token| key.seal(&token)).transpose()?;
    let json = serde_json::to_value(&definition)?;
    let activity =
        activity.unwrap_or(if existing.is_some() { activity::UPDATE_APPLICATION } else { activity::ADD_APPLICATION });
    directory.put_application(&definition.name, json, sealed, actor, activity).await?;
    Ok(existing.is_none())
}

/// Creates an application from a template.
#[allow(clippy::too_many_arguments)]
pub async fn create(
    stores: &Stores,
    key: &SecretKey,
    actor: &Actor,
    name: &str,
    template: &str,
    tenant_url: &str,
    token: &str,
    scope: Scope,
) -> anyhow::Result<()> {
    let (directory, _) = ports(stores);
    if directory.application(name).await?.is_some() {
        bail!("application {name} already exists; change it with `roster app apply FILE`");
    }
    let mut definition = templates::from_template(template, name, tenant_url)
        .ok_or_else(|| anyhow!("unknown template {template:?}; use one of {}", templates::TEMPLATES.join(", ")))?;
    definition.scope = scope;
    put(stores, key, actor, definition, Some(token), None).await?;
    Ok(())
}

/// Graph's `instantiate`: a new application from a template, named after `display_name`, with provisioning off and
/// not configured (no tenant URL, no secret token) until PUT secrets. Its unique name is the display name in
/// lowercase with dashes, with `-2`, `-3`, ... when taken. Audit: "Add application", then "Add service principal".
pub async fn instantiate(
    stores: &Stores,
    key: &SecretKey,
    actor: &Actor,
    template: &str,
    display_name: &str,
) -> anyhow::Result<Definition> {
    let display_name = display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > 256 {
        return Err(ServiceError::invalid("displayName: give 1 to 256 characters"));
    }
    let base = slug(display_name);
    let mut name = base.clone();
    let mut suffix = 1;
    while stores.directory.application(&name).await?.is_some() {
        suffix += 1;
        name = format!("{base}-{suffix}");
    }
    let definition = new_application(stores, key, actor, template, &name, Some(display_name)).await?;
    let target = TargetResource::new("ServicePrincipal", name.as_str(), display_name);
    let entry = AuditEntry::new(actor, "Add service principal", Category::ApplicationManagement, "Add", target);
    stores.directory.append_audit(&[entry]).await?;
    Ok(definition)
}

/// A new application from a template, named `name` (as given: the name everywhere, on the command line, in the
/// API and in the logs), with provisioning off and not configured (no tenant URL, no secret token): the portal's
/// New application, and Graph's `instantiate` under a name made of its display name. Audit: "Add application".
pub async fn new_application(
    stores: &Stores,
    key: &SecretKey,
    actor: &Actor,
    template: &str,
    name: &str,
    display_name: Option<&str>,
) -> anyhow::Result<Definition> {
    if stores.directory.application(name).await?.is_some() {
        return Err(ServiceError::conflict(format!("an application named {name} exists already: choose another name")));
    }
    let mut definition = templates::from_template(template, name, "").ok_or_else(|| {
        ServiceError::not_found(format!(
            "no application template {template:?}; use one of {}",
            templates::TEMPLATES.join(", ")
        ))
    })?;
    definition.enabled = false;
    definition.display_name = display_name.map(str::to_owned);
    put(stores, key, actor, definition.clone(), None, Some(activity::ADD_APPLICATION)).await?;
    Ok(definition)
}

/// An application name made of a display name: lowercase letters and digits, runs of anything else one dash.
fn slug(display_name: &str) -> String {
    let mut slug = String::new();
    for character in display_name.chars() {
        if character.is_ascii_alphanumeric() {
            slug.push(character.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() { "app".to_owned() } else { slug.chars().take(60).collect() }
}

/// Graph's "create job": the application's provisioning job is set up (its state written, disabled). Audit: "Add
/// provisioning configuration", with the job state.
pub async fn add_job(stores: &Stores, actor: &Actor, name: &str) -> anyhow::Result<()> {
    definition(stores, name).await?;
    let (_, state) = ports(stores);
    let job = state.job(name).await?;
    let target = TargetResource::new("ServicePrincipal", name, name);
    let entry = AuditEntry::new(actor, activity::ADD_PROVISIONING, Category::ProvisioningManagement, "Add", target);
    state.put_job_audited(name, &job, &[entry]).await?;
    Ok(())
}

/// Graph's "delete job": provisioning turned off and the job's state forgotten (watermark, escrows, quarantine,
/// staged deletes, the shadows of what it provisioned); what it provisioned stays in the target, as Graph says. The
/// application keeps its one job, which shows `NotRun` until it is started again (an initial cycle then matches
/// every object anew). Audit: the pause, and "Delete provisioning configuration" with the job state.
pub async fn delete_job(stores: &Stores, key: &SecretKey, actor: &Actor, name: &str) -> anyhow::Result<()> {
    let definition = definition(stores, name).await?;
    if definition.enabled {
        set_enabled(stores, key, actor, name, false).await?;
    }
    let (_, state) = ports(stores);
    let forget = async {
        state.forget_shadows(name).await?;
        let target = TargetResource::new("ServicePrincipal", name, name);
        let entry =
            AuditEntry::new(actor, activity::DELETE_PROVISIONING, Category::ProvisioningManagement, "Delete", target);
        state.put_job_audited(name, &roster_engine::state::JobState::default(), &[entry]).await?;
        Ok(())
    };
    under_admin_lease(&*state, name, forget).await
}

/// Applies a definition file (creating or replacing the application).
pub async fn apply_file(
    stores: &Stores,
    key: &SecretKey,
    actor: &Actor,
    path: &Path,
) -> anyhow::Result<(String, bool)> {
    let format = DefinitionFormat::from_path(path)?;
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let definition = parse_definition(&text, format).with_context(|| format!("{}", path.display()))?;
    let name = definition.name.clone();
    let created = put(stores, key, actor, definition, None, None).await?;
    Ok((name, created))
}

/// An application's definition.
pub async fn definition(stores: &Stores, name: &str) -> anyhow::Result<Definition> {
    let (directory, _) = ports(stores);
    let record = directory.application(name).await?.ok_or_else(|| no_such_application(name))?;
    serde_json::from_value(record.definition).with_context(|| format!("the stored definition of {name} is damaged"))
}

fn no_such_application(name: &str) -> anyhow::Error {
    ServiceError::not_found(format!(
        "application {name} does not exist; create it with `roster app create` or `roster app apply`"
    ))
}

/// The definition with its template's users and groups mappings, scoping filters and target object actions
/// (Entra's Restore default mappings).
pub fn with_default_mappings(definition: &Definition) -> anyhow::Result<Definition> {
    let template = templates::from_template(&definition.template, &definition.name, &definition.target.tenant_url)
        .ok_or_else(|| ServiceError::not_found(format!("there is no template {}", definition.template)))?;
    let mut restored = definition.clone();
    for (object, default) in [(&mut restored.users, template.users), (&mut restored.groups, template.groups)] {
        object.mappings = default.mappings;
        object.scoping_filters = default.scoping_filters;
        object.actions = default.actions;
    }
    Ok(restored)
}

/// Whether storing `proposed` in place of `current` makes the application's next cycle an initial one (the
/// change touches what decides the target's state, and a cycle has run: before the first, every cycle is initial).
pub async fn forces_initial_cycle(
    stores: &Stores,
    current: &Definition,
    proposed: &Definition,
) -> anyhow::Result<bool> {
    if cycle::definition_digest(current) == cycle::definition_digest(proposed) {
        return Ok(false);
    }
    let (_, state) = ports(stores);
    Ok(state.job(&current.name).await?.watermark.is_some())
}

/// Who is in scope of an application's users or groups now, and under `proposed` (the scoping filter editor's
/// live count).
pub async fn scope_change(
    stores: &Stores,
    current: &Definition,
    proposed: &Definition,
    kind: roster_engine::in_scope::Kind,
) -> anyhow::Result<roster_engine::in_scope::ScopeChange> {
    let (directory, _) = ports(stores);
    Ok(roster_engine::in_scope::compare(&*directory, current, proposed, kind).await?)
}

/// A user's app roles in an application and whether the user is in its scope; `None` when not entitled.
pub async fn user_roles(
    stores: &Stores,
    definition: &Definition,
    user: &roster_directory::User,
) -> anyhow::Result<Option<(Vec<roster_expr::AppRoleAssignment>, bool)>> {
    let (directory, _) = ports(stores);
    Ok(roster_engine::in_scope::user_roles(&*directory, definition, user).await?)
}

/// Whether an application has a secret token.
pub async fn has_secret(stores: &Stores, name: &str) -> anyhow::Result<bool> {
    let record = stores.directory.application(name).await?.ok_or_else(|| no_such_application(name))?;
    Ok(record.sealed_secret.is_some())
}

/// Every application's definition.
pub async fn definitions(stores: &Stores) -> anyhow::Result<Vec<Definition>> {
    let (directory, _) = ports(stores);
    directory
        .applications()
        .await?
        .into_iter()
        .map(|record| serde_json::from_value(record.definition).context("a stored definition is damaged"))
        .collect()
}

/// Turns provisioning on or off (resume, pause). Pausing stops a running cycle at its next object (its
/// watermark stays, so the cycle after resuming evaluates the same changes again); resuming asks the scheduler
/// for a cycle at once.
pub async fn set_enabled(
    stores: &Stores,
    key: &SecretKey,
    actor: &Actor,
    name: &str,
    enabled: bool,
) -> anyhow::Result<()> {
    let mut definition = definition(stores, name).await?;
    if enabled && !has_secret(stores, name).await? {
        return Err(ServiceError::invalid(format!(
            "application {name} has no secret token yet: set it (Graph's PUT .../synchronization/secrets, or \
             `roster app apply` with secret_token) before turning provisioning on"
        )));
    }
    definition.enabled = enabled;
    let activity = if enabled { activity::START } else { activity::PAUSE };
    put(stores, key, actor, definition, None, Some(activity)).await?;
    if enabled {
        request_cycle(stores, name).await?;
    }
    Ok(())
}

/// Assigns a user or group (found by id) to an application, with an app role value.
pub async fn assign(
    stores: &Stores,
    actor: &Actor,
    application: &str,
    principal: &str,
    role: Option<&str>,
) -> anyhow::Result<PrincipalKind> {
    let definition = definition(stores, application).await?;
    let (directory, _) = ports(stores);
    let id = ObjectId::parse(principal).map_err(|error| anyhow!("{principal:?} is not an object id: {error}"))?;
    let kind = if directory.user(&id).await?.is_some() {
        PrincipalKind::User
    } else if directory.group(&id).await?.is_some() {
        PrincipalKind::Group
    } else {
        return Err(ServiceError::not_found(format!("no user or group has the id {id}")));
    };
    if let Some(role) = role
        && !definition.app_roles.is_empty()
        && !definition.app_roles.iter().any(|app_role| app_role.value == role)
    {
        let values: Vec<&str> = definition.app_roles.iter().map(|app_role| app_role.value.as_str()).collect();
        return Err(ServiceError::invalid(format!(
            "application {application} has no app role {role:?}; use one of {}",
            values.join(", ")
        )));
    }
    directory.assign(application, Assignment { principal: id, kind, role: role.map(str::to_owned) }, actor).await?;
    Ok(kind)
}

/// Removes an assignment.
pub async fn unassign(stores: &Stores, actor: &Actor, application: &str, principal: &str) -> anyhow::Result<()> {
    definition(stores, application).await?;
    let id = ObjectId::parse(principal).map_err(|error| anyhow!("{principal:?} is not an object id: {error}"))?;
    let (directory, _) = ports(stores);
    directory.unassign(application, &id, actor).await?;
    Ok(())
}

/// The SCIM client of an application, with its sealed token opened.
pub async fn client(stores: &Stores, key: &SecretKey, definition: &Definition) -> anyhow::Result<ScimClient> {
    let token = sealed_token(stores, key, &definition.name).await?;
    client_with(definition, token)
}

/// An application's secret token, opened.
async fn sealed_token(stores: &Stores, key: &SecretKey, name: &str) -> anyhow::Result<String> {
    let (directory, _) = ports(stores);
    let record = directory.application(name).await?.ok_or_else(|| no_such_application(name))?;
    let sealed = record.sealed_secret.ok_or_else(|| anyhow!("application {name} has no secret token"))?;
    key.open(&sealed)
}

/// The SCIM client of a definition with a token in hand.
fn client_with(definition: &Definition, token: String) -> anyhow::Result<ScimClient> {
    ScimClient::new(config_with(definition, token)).map_err(|error| anyhow!("{error}"))
}

/// The SCIM client's settings of a definition with a token in hand.
fn config_with(definition: &Definition, token: String) -> ClientConfig {
    let mut config = ClientConfig::new(definition.target.tenant_url.clone(), Secret::new(token));
    config.dialect = match definition.target.dialect {
        Dialect::Rfc => roster_scim_client::Dialect::Rfc,
        Dialect::EntraLegacy => roster_scim_client::Dialect::EntraLegacy,
    };
    config.budget = match definition.target.rate_limit {
        RateLimit::Unlimited => Budget::unlimited(),
        RateLimit::Github => Budget::github(),
    };
    config.max_concurrency = definition.target.concurrency;
    config.max_members_per_patch = definition.target.members_per_patch;
    config.timeout = Duration::from_secs(definition.target.timeout_seconds);
    config
}

/// Test Connection: one query for a user that cannot exist.
pub async fn test_connection(
    stores: &Stores,
    key: &SecretKey,
    name: &str,
) -> anyhow::Result<Result<(), ConnectionProblem>> {
    let definition = definition(stores, name).await?;
    let client = client(stores, key, &definition).await?;
    Ok(client.test_connection().await)
}

/// Graph's `validateCredentials`: Test Connection with a tenant URL and token given (each `None` takes the saved
/// one), saving nothing.
pub async fn test_credentials(
    stores: &Stores,
    key: &SecretKey,
    name: &str,
    tenant_url: Option<&str>,
    token: Option<&str>,
) -> anyhow::Result<Result<(), ConnectionProblem>> {
    let mut definition = definition(stores, name).await?;
    if let Some(url) = tenant_url {
        definition.target.tenant_url = url.to_owned();
    }
    let url = &definition.target.tenant_url;
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(ServiceError::invalid(format!(
            "BaseAddress {url:?}: expected an http:// or https:// URL, such as https://api.github.com/scim/v2/enterprises/octo-corp"
        )));
    }
    let token = match token {
        Some(token) => token.to_owned(),
        None => {
            let record = stores.directory.application(name).await?.ok_or_else(|| no_such_application(name))?;
            let sealed = record
                .sealed_secret
                .ok_or_else(|| ServiceError::invalid(format!("application {name} has no saved secret token")))?;
            key.open(&sealed)?
        }
    };
    Ok(client_with(&definition, token)?.test_connection().await)
}

/// Runs one cycle of an application now, under its lease (renewed while the cycle runs), then tells the
/// application's recipients of a change of the job's state through `mailer`.
pub async fn sync_once(
    stores: &Stores,
    key: &SecretKey,
    mailer: &Mailer,
    name: &str,
    owner: &str,
    lease: Duration,
    progress: Arc<dyn Progress>,
) -> anyhow::Result<Cycle> {
    leased_cycle(stores, key, mailer, name, Holder { owner, lease }, progress, None).await
}

/// `roster sync NAME --dry-run`: computes the cycle that would run now without one write to the target or to the
/// job's state, and stores it as a plan for review and `--apply-plan`.
pub async fn dry_run(
    stores: &Stores,
    key: &SecretKey,
    name: &str,
    progress: Arc<dyn Progress>,
) -> anyhow::Result<Plan> {
    let job = read_only_job(stores, key, name).await?;
    let state = Arc::clone(&job.state);
    let plan = cycle::dry_run(job, progress).await?;
    state.put_plan(name, &plan).await?;
    Ok(plan)
}

/// The job of an application for runs that write nothing (a dry run, the check of a plan): no lease, never paused.
async fn read_only_job(stores: &Stores, key: &SecretKey, name: &str) -> anyhow::Result<Job> {
    let definition = Arc::new(definition(stores, name).await?);
    let client = client(stores, key, &definition).await?;
    let (directory, state) = ports(stores);
    Ok(Job {
        definition,
        client,
        directory,
        state,
        now: OffsetDateTime::now_utc,
        pause: Arc::default(),
        lease_lost: Arc::default(),
    })
}

/// Whether a stored plan would be applied now, before starting its apply (see [`cycle::check_plan`]): it computes
/// the plan again, reads only. `Err` with a [`cycle::CycleError::PlanRefused`] in its chain says why it is stale;
/// the apply checks again under the job's lease.
pub async fn check_plan(stores: &Stores, key: &SecretKey, name: &str, id: &str) -> anyhow::Result<()> {
    let plan = plan(stores, name, id).await?;
    let job = read_only_job(stores, key, name).await?;
    Ok(cycle::check_plan(job, &plan).await?)
}

/// Applies a stored plan in the background, as the admin API and the portal start it: audits the request (Entra's
/// restart activity, with the plan's id), then runs [`apply_plan_recorded`] in a task, whose end shows in the job's
/// status and cycles like any cycle's; a refused or failed apply is audited again as a failure with its reason.
/// Answers the task, which callers may leave running.
pub async fn start_apply(
    stores: &Stores,
    key: &SecretKey,
    mailer: &Mailer,
    actor: &Actor,
    name: &str,
    id: &str,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    stores.directory.append_audit(&[apply_entry(actor, name, id)]).await?;
    let owner = format!("apply-{}", roster_directory::audit::new_id());
    let (stores, key, mailer, actor) = (stores.clone(), key.clone(), mailer.clone(), actor.clone());
    let (name, id) = (name.to_owned(), id.to_owned());
    Ok(tokio::spawn(async move {
        let refused = match apply_plan_recorded(&stores, &key, &mailer, &name, &id, &owner).await {
            Ok(Applied { cycle, refused: None }) => {
                tracing::info!(application = %name, plan = %id, outcome = %cycle.outcome, "plan applied");
                return;
            }
            Ok(Applied { refused: Some(reason), .. }) => reason,
            Err(error) => format!("{error:#}"),
        };
        tracing::warn!(application = %name, plan = %id, reason = %refused, "the plan was not applied");
        let mut entry = apply_entry(&actor, &name, &id);
        entry.activity_date_time = OffsetDateTime::now_utc();
        entry.result = "failure".to_owned();
        entry.result_reason = refused;
        if let Err(error) = stores.directory.append_audit(&[entry]).await {
            tracing::warn!(application = %name, %error, "could not audit the refused apply");
        }
    }))
}

/// The audit entry of the apply of a plan.
fn apply_entry(actor: &Actor, name: &str, plan: &str) -> AuditEntry {
    AuditEntry::new(
        actor,
        activity::RESTART,
        Category::ProvisioningManagement,
        "Update",
        TargetResource::new("ServicePrincipal", name, name),
    )
    .with_detail("planId", plan)
}

/// A stored plan.
pub async fn plan(stores: &Stores, name: &str, id: &str) -> anyhow::Result<Plan> {
    definition(stores, name).await?;
    let (_, state) = ports(stores);
    state.plan(name, id).await?.ok_or_else(|| anyhow!("application {name} has no plan {id:?}"))
}

/// `roster sync NAME --apply-plan ID`: applies a stored plan exactly, under the job's lease (see
/// [`cycle::apply_plan`]).
pub async fn apply_plan(
    stores: &Stores,
    key: &SecretKey,
    mailer: &Mailer,
    name: &str,
    id: &str,
    owner: &str,
    progress: Arc<dyn Progress>,
) -> anyhow::Result<Cycle> {
    let plan = plan(stores, name, id).await?;
    leased_cycle(stores, key, mailer, name, Holder { owner, lease: DEFAULT_LEASE }, progress, Some(plan)).await
}

/// How often a running cycle looks whether provisioning was paused.
const PAUSE_CHECK: Duration = Duration::from_secs(1);

/// Who takes a job's lease, and for how long at a time.
#[derive(Debug, Clone, Copy)]
struct Holder<'a> {
    owner: &'a str,
    lease: Duration,
}

/// A cycle, or the apply of a plan, under the job's lease, stopping at the next object when provisioning is
/// paused; then schedules the next cycle.
async fn leased_cycle(
    stores: &Stores,
    key: &SecretKey,
    mailer: &Mailer,
    name: &str,
    holder: Holder<'_>,
    progress: Arc<dyn Progress>,
    plan: Option<Plan>,
) -> anyhow::Result<Cycle> {
    let Holder { owner, lease } = holder;
    let definition = Arc::new(definition(stores, name).await?);
    let client = client(stores, key, &definition).await?;
    let (directory, state) = ports(stores);
    let now = OffsetDateTime::now_utc();
    if !state.lease(name, owner, now, now + lease).await? {
        return Err(cycle::CycleError::Busy(name.to_owned()).into());
    }
    close_interrupted_cycle(&*state, name, now).await?;
    // The lease is renewed every third of its length. When another node holds it (this one was too slow), or it
    // could not be renewed before it expired, the cycle stops before its next write: two nodes never export one
    // job at once.
    let lease_lost = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let renewer = {
        let (state, lost) = (Arc::clone(&state), Arc::clone(&lease_lost));
        let (name, owner) = (name.to_owned(), owner.to_owned());
        tokio::spawn(async move {
            let mut held_until = now + lease;
            loop {
                tokio::time::sleep(lease / 3).await;
                let now = OffsetDateTime::now_utc();
                let lost_it = match state.lease(&name, &owner, now, now + lease).await {
                    Ok(true) => {
                        held_until = now + lease;
                        false
                    }
                    Ok(false) => true,
                    Err(error) => {
                        tracing::warn!(application = %name, %error, "could not renew the job's lease");
                        now >= held_until
                    }
                };
                if lost_it {
                    tracing::warn!(application = %name, "lost the job's lease: the cycle stops before its next write");
                    lost.store(true, std::sync::atomic::Ordering::Relaxed);
                    break;
                }
            }
        })
    };
    // A pause is provisioning turned off while the cycle runs; a cycle started by hand on a paused application
    // (`roster sync`) runs to its end.
    let pause = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (stores, name, pause) = (stores.clone(), name.to_owned(), Arc::clone(&pause));
        let watching = definition.enabled;
        tokio::spawn(async move {
            if !watching {
                return;
            }
            loop {
                tokio::time::sleep(PAUSE_CHECK).await;
                if let Ok(current) = self::definition(&stores, &name).await
                    && !current.enabled
                {
                    pause.store(true, std::sync::atomic::Ordering::Relaxed);
                    break;
                }
            }
        })
    };
    let job = Job {
        definition: Arc::clone(&definition),
        client,
        directory,
        state: Arc::clone(&state),
        now: OffsetDateTime::now_utc,
        pause,
        lease_lost: Arc::clone(&lease_lost),
    };
    let result = match &plan {
        None => cycle::run_cycle(job, progress).await,
        Some(plan) => cycle::apply_plan(job, plan, progress).await,
    };
    renewer.abort();
    watcher.abort();
    // Another node holds the job now: the job's state (notifications told, the next cycle) is its to write.
    if lease_lost.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(result?);
    }
    crate::notify::after_cycle(stores, mailer, &definition, result.as_ref().ok()).await;
    // The next scheduled cycle is one interval after this one.
    if let Ok(mut job_state) = state.job(name).await {
        // A quarantined job's cycles come less and less often, up to once a day.
        let gap = match &job_state.quarantine {
            Some(quarantine) => definition.interval.max(quarantine_delay(quarantine.cycles)),
            None => definition.interval,
        };
        job_state.next_run = Some(OffsetDateTime::now_utc() + gap);
        job_state.run_requested = false;
        if let Err(error) = state.put_job(name, &job_state).await {
            tracing::warn!(%error, "could not schedule the next cycle");
        }
    }
    state.release(name, owner).await?;
    Ok(result?)
}

/// Closes the job's newest cycle when it never ended: its process died (a node killed, a machine lost) and its
/// lease expired, which is how this process could take the lease. It ends `Interrupted`; the cycle about to start
/// picks up from what it recorded. Called only by the lease's holder, so no cycle of the job is running.
async fn close_interrupted_cycle(state: &dyn EngineStore, name: &str, now: OffsetDateTime) -> anyhow::Result<()> {
    let Some(mut interrupted) = state.cycles(name, 1).await?.into_iter().find(|cycle| cycle.ended.is_none()) else {
        return Ok(());
    };
    tracing::warn!(application = %name, cycle = %interrupted.id, "a cycle whose process died is closed as interrupted");
    interrupted.ended = Some(now);
    interrupted.outcome = "Interrupted".to_owned();
    state.put_cycle(name, &interrupted).await?;
    Ok(())
}

/// Provisions one user, or one group with up to five members, now, outside the cycle
/// (`roster provision-on-demand`). `members` chooses a group's members (empty: all, when they are few enough).
pub async fn provision_on_demand(
    stores: &Stores,
    key: &SecretKey,
    name: &str,
    principal: &Principal,
    members: &[String],
) -> anyhow::Result<cycle::OnDemand> {
    let definition = Arc::new(definition(stores, name).await?);
    let client = client(stores, key, &definition).await?;
    let (directory, state) = ports(stores);
    let parse = |text: &str| ObjectId::parse(text).map_err(|error| anyhow!("{text:?} is not an object id: {error}"));
    let object = match principal {
        Principal::User(user) => {
            if !members.is_empty() {
                bail!("--member chooses members of a group (with --group)");
            }
            cycle::OnDemandObject::User(parse(user)?)
        }
        Principal::Group(group) => cycle::OnDemandObject::Group {
            id: parse(group)?,
            members: members.iter().map(|member| parse(member)).collect::<anyhow::Result<_>>()?,
        },
    };
    let job = Job {
        definition,
        client,
        directory,
        state,
        now: OffsetDateTime::now_utc,
        pause: Arc::default(),
        lease_lost: Arc::default(),
    };
    Ok(cycle::provision_on_demand(job, object).await?)
}

/// A user or a group, by object id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A user.
    User(String),
    /// A group.
    Group(String),
}

/// A target object roster neither created nor matched to a source object: reported, never touched.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unmanaged {
    /// `User` or `Group`.
    pub kind: &'static str,
    /// The target's id.
    pub id: String,
    /// Its `userName` or `displayName`.
    pub name: Option<String>,
    /// Its `externalId`, if any.
    pub external_id: Option<String>,
}

/// How many target objects `roster app unmanaged` reads per request.
const UNMANAGED_PAGE: u64 = 100;

/// Where a reading of unmanaged objects starts: the target's users or groups, from a 1-based `startIndex` (SCIM's
/// paging; users come first, then groups).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnmanagedCursor {
    /// Users or groups.
    pub kind: ObjectKind,
    /// The target's `startIndex` to read from.
    pub start: u64,
}

impl UnmanagedCursor {
    /// The beginning: the target's first user.
    pub const FIRST: UnmanagedCursor = UnmanagedCursor { kind: ObjectKind::User, start: 1 };
}

/// A page of unmanaged objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmanagedPage {
    /// The unmanaged objects found, users then groups, in the target's order.
    pub objects: Vec<Unmanaged>,
    /// Where the next page starts, if the target has more.
    pub next: Option<UnmanagedCursor>,
    /// How many target objects this page read.
    pub read: u64,
}

/// The target failed while its objects were read: which kind, and the client's error (roster's own failures are
/// the outer `anyhow::Error` of [`unmanaged_page`]).
#[derive(Debug, Clone, thiserror::Error)]
#[error("reading the target's {what}: {source}")]
pub struct TargetReadError {
    /// `users` or `groups`.
    pub what: &'static str,
    /// What the client met.
    #[source]
    pub source: roster_scim_client::ClientError,
}

/// `roster app unmanaged`: pages through the target's users and groups and lists those no shadow of the
/// application manages. Reads only.
pub async fn unmanaged(stores: &Stores, key: &SecretKey, name: &str) -> anyhow::Result<Vec<Unmanaged>> {
    let definition = definition(stores, name).await?;
    let client = client(stores, key, &definition).await?;
    let page = scan_unmanaged(stores, &client, name, UnmanagedCursor::FIRST, usize::MAX, u64::MAX).await??;
    Ok(page.objects)
}

/// One page of [`unmanaged`] for an admin who waits on it: from `from`, until `limit` unmanaged objects are found
/// or `max_read` target objects were read, with where to go on. Each request to the target is tried once, so that
/// a target that fails says so at once (`Ok(Err(..))`); reading again is the admin's retry.
pub async fn unmanaged_page(
    stores: &Stores,
    key: &SecretKey,
    name: &str,
    from: UnmanagedCursor,
    limit: usize,
    max_read: u64,
) -> anyhow::Result<Result<UnmanagedPage, TargetReadError>> {
    let definition = definition(stores, name).await?;
    let token = sealed_token(stores, key, name).await?;
    let mut config = config_with(&definition, token);
    config.retry = roster_scim_client::RetryPolicy::never();
    let client = ScimClient::new(config).map_err(|error| anyhow!("{error}"))?;
    scan_unmanaged(stores, &client, name, from, limit, max_read).await
}

/// Reads the target from `from` and keeps the objects no shadow of application `name` manages.
async fn scan_unmanaged(
    stores: &Stores,
    client: &ScimClient,
    name: &str,
    from: UnmanagedCursor,
    limit: usize,
    max_read: u64,
) -> anyhow::Result<Result<UnmanagedPage, TargetReadError>> {
    let (_, state) = ports(stores);
    let mut at = from;
    let mut page = UnmanagedPage { objects: Vec::new(), next: None, read: 0 };
    loop {
        if page.objects.len() >= limit || page.read >= max_read {
            page.next = Some(at);
            return Ok(Ok(page));
        }
        let (client_kind, label, what, name_attribute) = match at.kind {
            ObjectKind::User => (roster_scim_client::Kind::User, "User", "users", "userName"),
            ObjectKind::Group => (roster_scim_client::Kind::Group, "Group", "groups", "displayName"),
        };
        let attributes = format!("id,externalId,{name_attribute}");
        let (total, resources) = match client.page(client_kind, at.start, UNMANAGED_PAGE, &attributes).await {
            Ok(answer) => answer,
            Err(source) => return Ok(Err(TargetReadError { what, source })),
        };
        let answered = resources.len();
        let mut consumed = 0;
        for resource in resources {
            if page.objects.len() >= limit {
                break;
            }
            consumed += 1;
            page.read += 1;
            let text = |key: &str| resource.get(key).and_then(serde_json::Value::as_str).map(str::to_owned);
            let Some(id) = text("id") else { continue };
            if state.shadow_for_target(name, at.kind, &id).await?.is_none() {
                page.objects.push(Unmanaged {
                    kind: label,
                    id,
                    name: text(name_attribute),
                    external_id: text("externalId"),
                });
            }
        }
        at.start += consumed as u64;
        if answered == 0 || (consumed == answered && at.start > total) {
            match at.kind {
                ObjectKind::User => at = UnmanagedCursor { kind: ObjectKind::Group, start: 1 },
                ObjectKind::Group => return Ok(Ok(page)),
            }
        }
    }
}

/// A job's status code and schedule state, as Graph's job shows them and the portal's chips: `NotConfigured` and
/// `Disabled` until the application has a tenant URL and a secret token, `Paused` while provisioning is off, else
/// the engine's status (`NotRun`, `Active`, `Quarantine`) and `Active`.
pub fn status_codes(
    definition: &Definition,
    configured: bool,
    job: &roster_engine::state::JobState,
) -> (&'static str, &'static str) {
    match (configured, definition.enabled) {
        (false, _) => ("NotConfigured", "Disabled"),
        (true, false) => ("Paused", "Paused"),
        (true, true) => (job.status.as_str(), "Active"),
    }
}

/// What `roster status` shows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Status {
    /// The application.
    pub application: String,
    /// Provisioning on or off.
    pub enabled: bool,
    /// The job's state.
    pub job: JobState,
    /// A cycle that is running now, if any.
    pub current_cycle: Option<Cycle>,
    /// Who holds the job's lease now (the node of `roster serve` running its cycles, or a command), if anyone.
    pub lease: Option<Lease>,
    /// Provisioned objects by kind and state.
    pub objects: Vec<ObjectCount>,
}

/// A count of provisioned objects.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ObjectCount {
    /// `User` or `Group`.
    pub kind: &'static str,
    /// `Active` or `Disabled`.
    pub state: &'static str,
    /// How many.
    pub count: u64,
}

/// The status of an application's job.
pub async fn status(stores: &Stores, name: &str) -> anyhow::Result<Status> {
    let definition = definition(stores, name).await?;
    let (_, state) = ports(stores);
    let mut job = state.job(name).await?;
    if !definition.enabled {
        // Provisioning off: no cycle runs until it is turned on again.
        job.status = roster_engine::state::JobStatus::Paused;
    }
    let current_cycle = state.cycles(name, 1).await?.into_iter().find(|cycle| cycle.ended.is_none());
    let now = OffsetDateTime::now_utc();
    let lease = state.lease_holder(name).await?.filter(|lease| lease.until > now);
    let objects = state
        .shadow_counts(name)
        .await?
        .into_iter()
        .map(|(kind, shadow_state, count): (ObjectKind, ShadowState, u64)| ObjectCount {
            kind: kind.as_str(),
            state: match shadow_state {
                ShadowState::Active => "Active",
                ShadowState::Disabled => "Disabled",
            },
            count,
        })
        .collect();
    Ok(Status { application: name.to_owned(), enabled: definition.enabled, job, current_cycle, lease, objects })
}

/// An application's provisioning log entries, newest first.
pub async fn logs(stores: &Stores, name: &str, query: &LogQuery) -> anyhow::Result<Vec<LogEntry>> {
    definition(stores, name).await?;
    let (_, state) = ports(stores);
    Ok(state.logs(name, query).await?)
}

/// The scheduler of `roster serve`: every few seconds, runs the cycles that are due (provisioning on, and the
/// interval passed since the last cycle, or a cycle was asked for), one at a time per application, under its
/// lease, until `shutdown` resolves.
pub async fn run_scheduler(
    stores: Stores,
    key: SecretKey,
    mailer: Mailer,
    owner: String,
    lease: Duration,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut running: std::collections::HashMap<String, tokio::task::JoinHandle<()>> = std::collections::HashMap::new();
    let mut shutdown = shutdown;
    loop {
        running.retain(|_, task| !task.is_finished());
        match due_applications(&stores).await {
            Ok(due) => {
                for name in due {
                    if running.contains_key(&name) {
                        continue;
                    }
                    let (stores, key, mailer, owner) = (stores.clone(), key.clone(), mailer.clone(), owner.clone());
                    let task_name = name.clone();
                    running.insert(
                        name,
                        tokio::spawn(async move {
                            let progress: Arc<dyn Progress> = Arc::new(cycle::NoProgress);
                            match sync_once(&stores, &key, &mailer, &task_name, &owner, lease, progress).await {
                                Ok(cycle) => tracing::info!(
                                    application = %task_name,
                                    kind = cycle.kind.as_str(),
                                    outcome = %cycle.outcome,
                                    created = cycle.counts.created,
                                    updated = cycle.counts.updated,
                                    disabled = cycle.counts.disabled,
                                    deleted = cycle.counts.deleted,
                                    failed = cycle.counts.failed,
                                    "provisioning cycle ended"
                                ),
                                // Another process holds the lease (a cycle, or an admin command for a moment), or took it
                                // from this one mid-cycle: that process writes the job; this node tries again next tick.
                                Err(error)
                                    if matches!(
                                        error.downcast_ref::<cycle::CycleError>(),
                                        Some(cycle::CycleError::Busy(_) | cycle::CycleError::LeaseLost(_))
                                    ) => {}
                                Err(error) => {
                                    tracing::warn!(application = %task_name, error = %format!("{error:#}"), "provisioning cycle failed");
                                    // Try again later, not at every tick: after a minute, then twice as long after each
                                    // quarantined cycle, up to once a day.
                                    if let Err(error) = back_off(&stores, &key, &mailer, &task_name).await {
                                        tracing::warn!(error = %format!("{error:#}"), "could not postpone the next cycle");
                                    }
                                }
                            }
                        }),
                    );
                }
            }
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "the scheduler could not read the applications");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = shutdown.changed() => break,
        }
    }
    for (_, task) in running {
        task.abort();
    }
}

async fn due_applications(stores: &Stores) -> anyhow::Result<Vec<String>> {
    let (_, state) = ports(stores);
    let now = OffsetDateTime::now_utc();
    let mut due = Vec::new();
    for definition in definitions(stores).await? {
        if !definition.enabled {
            continue;
        }
        let job = state.job(&definition.name).await?;
        // Staged deletes wait for an admin: no cycle until `roster app allow-deletes` (or a fix and a restart).
        if job.quarantine.as_ref().is_some_and(|quarantine| quarantine.reason == "TooManyDeletes") && !job.force_deletes
        {
            continue;
        }
        if job.run_requested || job.next_run.is_none_or(|next| next <= now) {
            due.push(definition.name);
        }
    }
    Ok(due)
}

/// How long the scheduler waits after a cycle that could not run or failed as a whole.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(60);

/// How long a quarantine may last before the job is turned off (Entra: four weeks).
const QUARANTINE_LIMIT: time::Duration = time::Duration::weeks(4);
/// The longest gap between cycles of a quarantined job.
const QUARANTINE_BACK_OFF: Duration = Duration::from_secs(24 * 3600);

/// Schedules the next cycle after a failed one: one minute, doubled for each cycle of an ongoing quarantine, at most
/// a day; a quarantine older than four weeks turns provisioning off.
async fn back_off(stores: &Stores, key: &SecretKey, mailer: &Mailer, name: &str) -> anyhow::Result<()> {
    let (_, state) = ports(stores);
    let job = state.job(name).await?;
    let Some(quarantine) = job.quarantine else {
        return postpone(stores, name, RETRY_AFTER_FAILURE).await;
    };
    if OffsetDateTime::now_utc() - quarantine.since > QUARANTINE_LIMIT {
        tracing::warn!(application = %name, "in quarantine for four weeks: provisioning is turned off");
        let actor = Actor::new(crate::Initiator::system(), OffsetDateTime::now_utc());
        set_enabled(stores, key, &actor, name, false).await?;
        crate::notify::turned_off(stores, mailer, &definition(stores, name).await?).await;
        return Ok(());
    }
    postpone(stores, name, quarantine_delay(quarantine.cycles)).await
}

/// The gap before the next cycle of a job quarantined for `cycles` cycles: a minute, doubled each cycle, at most a
/// day.
fn quarantine_delay(cycles: u32) -> Duration {
    let doublings = cycles.saturating_sub(1).min(16);
    RETRY_AFTER_FAILURE.saturating_mul(1 << doublings).min(QUARANTINE_BACK_OFF)
}

/// Sets the next scheduled cycle `after` from now (no sooner than an interval already set).
async fn postpone(stores: &Stores, name: &str, after: Duration) -> anyhow::Result<()> {
    let (_, state) = ports(stores);
    let mut job = state.job(name).await?;
    let next = OffsetDateTime::now_utc() + after;
    if job.next_run.is_none_or(|scheduled| scheduled < next) {
        job.next_run = Some(next);
    }
    job.run_requested = false;
    state.put_job(name, &job).await?;
    Ok(())
}

/// What `roster app restart` resets (Graph's `resetScope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reset {
    /// Forget the objects to retry (Entra's escrows).
    pub escrows: bool,
    /// Clear the watermark: the next cycle is an initial one.
    pub watermark: bool,
    /// Lift the quarantine.
    pub quarantine: bool,
    /// Forget every shadow: the next cycle matches every object again.
    pub full: bool,
    /// Send the disables and deletes the accidental-deletion guard staged, whatever their number (Graph's
    /// `ForceDeletes`; the same as `roster app allow-deletes`).
    pub force_deletes: bool,
}

impl Reset {
    /// Graph's `resetScope` text: `Escrows, Watermark, QuarantineState, Full, ForceDeletes`, those set.
    pub fn scope(self) -> String {
        let names = [
            (self.watermark, "Watermark"),
            (self.escrows, "Escrows"),
            (self.quarantine, "QuarantineState"),
            (self.full, "Full"),
            (self.force_deletes, "ForceDeletes"),
        ];
        names.iter().filter(|(set, _)| *set).map(|(_, name)| *name).collect::<Vec<_>>().join(", ")
    }

    /// Parses `escrows,watermark,quarantine,full`; empty means the portal's restart (all but `full`).
    pub fn parse(text: &str) -> anyhow::Result<Reset> {
        let mut reset = Reset::default();
        for part in text.split(',').map(str::trim).filter(|part| !part.is_empty()) {
            match part.to_ascii_lowercase().as_str() {
                "escrows" => reset.escrows = true,
                "watermark" => reset.watermark = true,
                "quarantine" | "quarantinestate" => reset.quarantine = true,
                "full" => reset.full = true,
                "force-deletes" | "forcedeletes" => reset.force_deletes = true,
                other => {
                    bail!("unknown reset scope {other:?}; use escrows, watermark, quarantine, full or force-deletes")
                }
            }
        }
        if reset == Reset::default() {
            reset = Reset { escrows: true, watermark: true, quarantine: true, ..Reset::default() };
        }
        Ok(reset)
    }
}

/// How long an admin command waits for a running cycle to end before it says so.
const ADMIN_WAIT: Duration = Duration::from_secs(5);

/// Takes an application's lease for an admin command that changes the job state, so that a cycle running
/// meanwhile does not write its older copy over the change: waits up to [`ADMIN_WAIT`] for a running cycle to end,
/// then refuses with what to do. Returns the lease's owner, to release it with.
async fn admin_lease(state: &dyn EngineStore, name: &str) -> anyhow::Result<String> {
    let owner = format!("admin-{}-{}", std::process::id(), OffsetDateTime::now_utc().unix_timestamp_nanos());
    let deadline = tokio::time::Instant::now() + ADMIN_WAIT;
    loop {
        let now = OffsetDateTime::now_utc();
        if state.lease(name, &owner, now, now + DEFAULT_LEASE).await? {
            return Ok(owner);
        }
        if tokio::time::Instant::now() >= deadline {
            // A conflict with the cycle (409 in the admin API), not a failure of the server.
            return Err(ServiceError::conflict(format!(
                "a cycle of {name} is running: run this again when it has ended (`roster status {name}`), or stop it \
                 first with `roster app pause {name}`"
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Runs `work` (a change of the job state) under an admin lease (see [`admin_lease`]), and gives the lease up.
async fn under_admin_lease<T>(
    state: &dyn EngineStore,
    name: &str,
    work: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    let owner = admin_lease(state, name).await?;
    let result = work.await;
    state.release(name, &owner).await?;
    result
}

/// `roster app restart`: resets what `reset` names and asks the scheduler for a cycle at once.
pub async fn restart(stores: &Stores, actor: &Actor, name: &str, reset: Reset) -> anyhow::Result<()> {
    definition(stores, name).await?;
    let (_, state) = ports(stores);
    under_admin_lease(&*state, name, restart_job(&*state, actor, name, reset)).await
}

/// The audit entry of a restart (or of deletes allowed) of an application's job.
fn restart_entry(actor: &Actor, name: &str, reset: Reset) -> AuditEntry {
    AuditEntry::new(
        actor,
        activity::RESTART,
        Category::ProvisioningManagement,
        "Update",
        TargetResource::new("ServicePrincipal", name, name),
    )
    .with_detail("resetScope", reset.scope())
}

async fn restart_job(state: &dyn EngineStore, actor: &Actor, name: &str, reset: Reset) -> anyhow::Result<()> {
    let mut job = state.job(name).await?;
    if reset.escrows {
        job.escrows.clear();
    }
    if reset.watermark || reset.full {
        // The next cycle is an initial one, which evaluates every object: the staged ones too.
        job.watermark = None;
        job.staged_users.clear();
        job.staged_groups.clear();
    }
    if reset.quarantine {
        job.quarantine = None;
        if job.status == roster_engine::state::JobStatus::Quarantine {
            job.status = roster_engine::state::JobStatus::Active;
        }
    }
    if reset.full {
        state.forget_shadows(name).await?;
    }
    if reset.force_deletes {
        job.force_deletes = true;
    }
    job.run_requested = true;
    job.next_run = None;
    state.put_job_audited(name, &job, &[restart_entry(actor, name, reset)]).await?;
    Ok(())
}

/// Replaces an application's secret token.
pub async fn set_token(stores: &Stores, key: &SecretKey, actor: &Actor, name: &str, token: &str) -> anyhow::Result<()> {
    let definition = definition(stores, name).await?;
    put(stores, key, actor, definition, Some(token), Some(activity::UPDATE_CREDENTIALS)).await?;
    Ok(())
}

/// `roster app allow-deletes`: the next cycle sends the disables and deletes the accidental-deletion guard staged,
/// whatever their number, and the scheduler runs it at once. Returns how many users and groups are staged.
pub async fn allow_deletes(stores: &Stores, actor: &Actor, name: &str) -> anyhow::Result<(usize, usize)> {
    definition(stores, name).await?;
    let (_, state) = ports(stores);
    let allow = async {
        let mut job = state.job(name).await?;
        let staged = (job.staged_users.len(), job.staged_groups.len());
        if staged == (0, 0) {
            bail!("application {name} has no staged disables or deletes");
        }
        job.force_deletes = true;
        job.run_requested = true;
        let entry = restart_entry(actor, name, Reset { force_deletes: true, ..Reset::default() });
        state.put_job_audited(name, &job, &[entry]).await?;
        Ok(staged)
    };
    under_admin_lease(&*state, name, allow).await
}

/// Asks the scheduler for a cycle of an application as soon as possible. While a cycle runs, the request is not
/// needed: it waits for that cycle's end for a moment, then leaves it (the next cycle comes on the interval).
pub async fn request_cycle(stores: &Stores, name: &str) -> anyhow::Result<()> {
    definition(stores, name).await?;
    let (_, state) = ports(stores);
    let request = async {
        let mut job = state.job(name).await?;
        job.run_requested = true;
        state.put_job(name, &job).await?;
        Ok(())
    };
    let Ok(owner) = admin_lease(&*state, name).await else {
        tracing::info!(application = %name, "a cycle is running; no other was requested");
        return Ok(());
    };
    let result = request.await;
    state.release(name, &owner).await?;
    result
}

/// How the admin API's apply of a plan ended: the cycle it ran, or the failed cycle recorded for it when it was
/// refused before it began, and why it was refused or stopped, if it was.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The cycle.
    pub cycle: Cycle,
    /// The reason, when the apply was refused or stopped (its cycle then ended `Failed`).
    pub refused: Option<String>,
}

/// How long a background apply waits for a cycle that holds the job's lease to end.
const APPLY_WAIT: Duration = Duration::from_secs(120);

/// The admin API's apply of a plan, run in the background: [`apply_plan`] (waiting up to two minutes for a cycle
/// that holds the job's lease to end first). When it was refused before its cycle began (the plan no longer holds,
/// was applied already, or the job stayed busy), nothing was sent and no cycle recorded: a failed cycle is recorded
/// for it, so that its end shows in the job's status and cycles, on every node, like any cycle's.
pub async fn apply_plan_recorded(
    stores: &Stores,
    key: &SecretKey,
    mailer: &Mailer,
    name: &str,
    id: &str,
    owner: &str,
) -> anyhow::Result<Applied> {
    let (_, state) = ports(stores);
    let began = OffsetDateTime::now_utc();
    let deadline = tokio::time::Instant::now() + APPLY_WAIT;
    let error = loop {
        let progress: Arc<dyn Progress> = Arc::new(cycle::NoProgress);
        match apply_plan(stores, key, mailer, name, id, owner, progress).await {
            Ok(cycle) => {
                let refused =
                    (cycle.outcome == "Paused").then(|| "provisioning was paused while the plan applied".to_owned());
                return Ok(Applied { cycle, refused });
            }
            Err(error)
                if matches!(error.downcast_ref::<cycle::CycleError>(), Some(cycle::CycleError::Busy(_)))
                    && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(error) => break error,
        }
    };
    let reason = format!("{error:#}");
    let refused_before = matches!(
        error.downcast_ref::<cycle::CycleError>(),
        Some(cycle::CycleError::PlanRefused(_) | cycle::CycleError::Busy(_))
    );
    // Stopped mid-way (off the plan, the lease lost, the target failed): the engine recorded its cycle.
    let recorded = state.cycles(name, 1).await?.into_iter().next().filter(|cycle| cycle.began >= began);
    if let Some(cycle) = recorded.filter(|cycle| !refused_before && cycle.ended.is_some()) {
        return Ok(Applied { cycle, refused: Some(reason) });
    }
    let plan = state.plan(name, id).await?;
    let failed = Cycle {
        id: roster_directory::audit::new_id(),
        kind: plan.as_ref().map_or(roster_engine::state::CycleKind::Incremental, |plan| plan.kind),
        began,
        ended: Some(OffsetDateTime::now_utc()),
        from: plan.as_ref().map_or(0, |plan| plan.from),
        to: plan.as_ref().map_or(0, |plan| plan.from),
        counts: roster_engine::state::Counts::default(),
        outcome: "Failed".to_owned(),
    };
    let record = async {
        state.put_cycle(name, &failed).await?;
        let mut job = state.job(name).await?;
        job.last_cycle = Some(failed.clone());
        state.put_job(name, &job).await?;
        Ok(())
    };
    if let Err(error) = under_admin_lease(&*state, name, record).await {
        // A cycle holds the job: it writes the job's state; the refused apply is in the cycles all the same.
        tracing::info!(application = %name, error = %format!("{error:#}"), "the refused apply is recorded without the job's state");
        state.put_cycle(name, &failed).await?;
    }
    Ok(Applied { cycle: failed, refused: Some(reason) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_names_are_made_of_display_names() {
        assert_eq!(slug("GitHub EMU (Contoso)"), "github-emu-contoso");
        assert_eq!(slug("  --- "), "app");
        assert_eq!(slug("Zoë's app"), "zo-s-app");
    }

    #[test]
    fn quarantined_cycles_back_off_to_once_a_day() {
        let minutes = |cycles| quarantine_delay(cycles).as_secs() / 60;
        assert_eq!([minutes(0), minutes(1), minutes(2), minutes(3), minutes(11)], [1, 1, 2, 4, 1024]);
        assert_eq!(quarantine_delay(12), QUARANTINE_BACK_OFF);
        assert_eq!(quarantine_delay(u32::MAX), QUARANTINE_BACK_OFF);
        let reset = Reset::parse("").unwrap();
        assert!(reset.escrows && reset.watermark && reset.quarantine && !reset.full);
        assert_eq!(Reset::parse("full").unwrap(), Reset { full: true, ..Reset::default() });
        assert_eq!(Reset::parse("force-deletes").unwrap(), Reset { force_deletes: true, ..Reset::default() });
        assert!(Reset::parse("everything").is_err());
    }
}
