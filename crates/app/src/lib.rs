//! roster as a library: the typed configuration, the wiring of the concrete adapters (the only place where they
//! meet), the bound listener, and the administrative operations the command line offers ([`admin`] for
//! enterprises and tokens, [`directory`] for the directory).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let config = roster_app::Config::new(roster_app::Storage::sqlite_in("./roster-data"), "127.0.0.1:0".parse()?);
//! let app = roster_app::App::build(config).await?;
//! println!("listening on {}", app.local_addr());
//! app.run_until_stopped(std::future::pending()).await
//! # }
//! ```

pub mod demo;

pub use roster_service::{
    Actor, Initiator, Stores, access, admin, audit, directory, log_export, notify, provisioning, secrets,
};

pub use roster_provider::tenant::Profile;
pub use roster_service::sessions::SessionPolicy;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use roster_provider::Limits;
use roster_scim_server::ServerState;
use roster_store::{PgStore, SqliteStore};
use tokio::net::TcpListener;

/// Where roster keeps its data.
#[derive(Clone, PartialEq, Eq)]
pub enum Storage {
    /// An embedded SQLite database file.
    Sqlite {
        /// The database file.
        path: PathBuf,
    },
    /// A PostgreSQL database, shared by any number of roster nodes.
    Postgres {
        /// The connection URL (`postgres://user:password@host:port/database?sslmode=...`).
        url: String,
    },
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Storage::Sqlite { path } => f.debug_struct("Sqlite").field("path", path).finish(),
            // The URL may hold a password.
            Storage::Postgres { url } => f.debug_struct("Postgres").field("url", &redacted(url)).finish(),
        }
    }
}

/// A database URL without its password, for messages.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

impl Storage {
    /// SQLite in a data directory (`roster.db` inside it).
    pub fn sqlite_in(data_dir: impl AsRef<Path>) -> Self {
        Storage::Sqlite { path: data_dir.as_ref().join("roster.db") }
    }

    /// The storage chosen on the command line: `--database URL` if given, else `--data DIR`.
    pub fn from_args(data_dir: &Path, database: Option<&str>) -> anyhow::Result<Self> {
        let Some(url) = database else {
            return Ok(Self::sqlite_in(data_dir));
        };
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            return Ok(Storage::Sqlite { path: PathBuf::from(path) });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Storage::Postgres { url: url.to_owned() });
        }
        anyhow::bail!(
            "unsupported --database {:?}: use sqlite://FILE or postgres://USER:PASSWORD@HOST:PORT/DATABASE",
            redacted(url)
        )
    }
}

/// Opens (and migrates) the storage, as the ports the rest of roster uses.
pub async fn open_stores(storage: &Storage) -> anyhow::Result<Stores> {
    match storage {
        Storage::Sqlite { path } => {
            let store = SqliteStore::open(path)
                .with_context(|| format!("could not open the SQLite database {}", path.display()))?;
            Ok(Stores::over(Arc::new(store)))
        }
        Storage::Postgres { url } => {
            let store = PgStore::connect(url)
                .await
                .with_context(|| format!("could not open the PostgreSQL database {}", redacted(url)))?;
            Ok(Stores::over(Arc::new(store)))
        }
    }
}

/// The configuration of a server.
#[derive(Debug, Clone)]
pub struct Config {
    /// The storage.
    pub storage: Storage,
    /// The address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The public base URL used in `meta.location`, when the server sits behind a proxy.
    pub public_url: Option<String>,
    /// The largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Paging and filter limits.
    pub limits: Limits,
    /// The data directory whose secret key opens the applications' tokens: when set, the provisioning scheduler
    /// runs the applications' cycles while the server runs.
    pub scheduler: Option<PathBuf>,
    /// Where the scheduler's notification e-mail goes out (no SMTP URL: none is sent).
    pub mail: notify::MailSettings,
    /// How long this node's lease on a job lasts without renewal: when the node dies, another node takes its jobs
    /// over after this long.
    pub lease: std::time::Duration,
    /// How long audit entries are kept (the server prunes older ones every hour).
    pub audit_retention: time::Duration,
    /// How long portal sessions last without use and at most.
    pub sessions: roster_service::sessions::SessionPolicy,
}

impl Config {
    /// Defaults around a storage and a listen address.
    pub fn new(storage: Storage, listen: SocketAddr) -> Self {
        Self {
            storage,
            listen,
            public_url: None,
            max_body_bytes: 1024 * 1024,
            limits: Limits::default(),
            scheduler: None,
            mail: notify::MailSettings::default(),
            lease: provisioning::DEFAULT_LEASE,
            audit_retention: audit::DEFAULT_RETENTION,
            sessions: roster_service::sessions::SessionPolicy::default(),
        }
    }
}

/// A built server: bound, not yet serving.
pub struct App {
    listener: TcpListener,
    router: axum::Router,
    stores: Stores,
    secret_key: Option<secrets::SecretKey>,
    mailer: notify::Mailer,
    lease: std::time::Duration,
    audit_retention: time::Duration,
    sessions: roster_service::sessions::SessionPolicy,
}

impl App {
    /// Opens the storage, builds the router and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let stores = open_stores(&config.storage).await?;
        let state = ServerState {
            provider: stores.provider(config.limits),
            public_url: config.public_url.as_deref().map(|url| Arc::from(url.trim_end_matches('/'))),
            max_body_bytes: config.max_body_bytes,
        };
        let mut router = roster_scim_server::routes(state);
        let listener =
            TcpListener::bind(config.listen).await.with_context(|| format!("could not listen on {}", config.listen))?;
        let secret_key = config.scheduler.as_deref().map(secrets::SecretKey::load).transpose()?;
        let mailer = notify::Mailer::new(&config.mail)?;
        if let Some(key) = &secret_key {
            let origin = match &config.public_url {
                Some(url) => url.trim_end_matches('/').to_owned(),
                None => format!("http://{}", listener.local_addr().context("the listener has no address")?),
            };
            let api = roster_admin_api::ApiState {
                stores: stores.clone(),
                key: key.clone(),
                base_url: Arc::from(format!("{origin}/api/v1.0")),
                mailer: mailer.clone(),
                on_demand: roster_admin_api::on_demand::Limiter::default(),
            };
            router = router.nest("/api/v1.0", roster_admin_api::router(api));
            let mut portal = roster_portal::PortalState::new(stores.clone(), key.clone(), &origin);
            portal.policy = config.sessions;
            portal.mailer = mailer.clone();
            router = router.merge(roster_portal::router(portal));
        }
        let router = router.fallback(not_found);
        let audit_retention = config.audit_retention;
        Ok(Self {
            listener,
            router,
            stores,
            secret_key,
            mailer,
            lease: config.lease,
            audit_retention,
            sessions: config.sessions,
        })
    }

    /// The bound address (with the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The stores, for seeding.
    pub fn stores(&self) -> &Stores {
        &self.stores
    }

    /// Serves (and, when configured, runs the provisioning scheduler) until `shutdown` completes, then finishes the
    /// requests in flight.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let pruner =
            tokio::spawn(audit::run_pruner(self.stores.clone(), self.audit_retention, self.sessions, stopped.clone()));
        let scheduler = self.secret_key.map(|key| {
            let owner = node_name(&self.listener);
            tokio::spawn(provisioning::run_scheduler(self.stores.clone(), key, self.mailer, owner, self.lease, stopped))
        });
        // The peer's address reaches the portal (its sign-in throttle and audit entries).
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        let served =
            axum::serve(self.listener, service).with_graceful_shutdown(shutdown).await.context("the server failed");
        let _ = stop.send(true);
        if let Some(scheduler) = scheduler {
            let _ = scheduler.await;
        }
        let _ = pruner.await;
        served
    }
}

/// What answers a path no route takes: SCIM's error body under `/scim`, the admin API's own fallback answers under
/// `/api/v1.0`, and the portal's 404 page elsewhere.
async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    if uri.path().starts_with("/scim") {
        return roster_scim_server::error::not_found_fallback().await.into_response();
    }
    roster_portal::not_found(uri).await
}

/// This node's name as a lease owner: unique among the nodes sharing a database (process id, port and a random
/// suffix, since nodes on different hosts may share a process id and a port).
fn node_name(listener: &TcpListener) -> String {
    let port = listener.local_addr().map(|address| address.port()).unwrap_or(0);
    format!("serve-{}-{port}-{:08x}", std::process::id(), rand::random::<u32>())
}
