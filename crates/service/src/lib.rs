//! The administrative operations that the command line, the admin API and the portal share, over the stores'
//! ports: enterprises and tokens of roster's own service provider ([`admin`]), the directory ([`directory`]),
//! applications and their provisioning jobs ([`provisioning`], with [`notify`] for their e-mail and [`secrets`]
//! for their sealed tokens), and who may do what ([`access`]: admin accounts, roles, API tokens, passwords).
//!
//! Every operation that changes something takes an [`Actor`] (who acts, under which correlation id) and the store
//! records its audit entries in the same transaction as the change ([`audit`] reads them back).
//!
//! Errors are `anyhow` chains whose kind, where a caller must tell it (not found, refused, conflict, forbidden),
//! is a [`ServiceError`] or a `DirectoryError` somewhere in the chain: [`ServiceError::kind_of`] finds it.

pub mod access;
pub mod admin;
pub mod audit;
pub mod directory;
pub mod error;
pub mod log_export;
pub mod notify;
pub mod on_demand;
pub mod provisioning;
pub mod secrets;
pub mod sessions;
pub mod throttle;

use std::sync::Arc;

use roster_directory::port::DirectoryStore;
use roster_engine::state::EngineStore;
use roster_provider::port::{ResourceStore, TenantStore};
use roster_provider::{Limits, Provider, SystemClock};

pub use error::{ErrorKind, ServiceError};
pub use roster_directory::audit::{Actor, Initiator};

/// The opened stores, as the ports the rest of roster uses. SQLite and PostgreSQL each implement all four.
#[derive(Clone)]
pub struct Stores {
    /// Enterprises and tokens of the service provider.
    pub tenants: Arc<dyn TenantStore>,
    /// Users, groups and memberships of the service provider.
    pub resources: Arc<dyn ResourceStore>,
    /// The directory and its change log, applications and assignments, roles, admin tokens, the audit log.
    pub directory: Arc<dyn DirectoryStore>,
    /// The provisioning engine's state: jobs, leases, shadows, cycles, logs, plans.
    pub engine: Arc<dyn EngineStore>,
}

impl Stores {
    /// Every port served by one store.
    pub fn over<S: TenantStore + ResourceStore + DirectoryStore + EngineStore + 'static>(store: Arc<S>) -> Self {
        Self { tenants: store.clone(), resources: store.clone(), directory: store.clone(), engine: store }
    }

    /// The service provider over these stores.
    pub fn provider(&self, limits: Limits) -> Provider {
        Provider::new(self.tenants.clone(), self.resources.clone(), Arc::new(SystemClock), limits)
    }
}
