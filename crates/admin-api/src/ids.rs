//! The Graph ids of an application's objects. roster keeps an application by its unique name; its application,
//! service principal and app ids are GUIDs derived from that name (stable as long as the name is), and its
//! provisioning job's id is `{template}.{name}`, in the form of Entra's `{factoryTag}.{hex}` ids.

use sha2::{Digest, Sha256};

/// A GUID derived from a purpose and a name (the SHA-256 of both, shaped as a version 8 UUID).
fn derived(purpose: &str, name: &str) -> String {
    let digest = Sha256::digest(format!("roster:{purpose}:{name}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// The id of an application's one synchronization rule (users and groups from the roster directory to the
/// target), the `ruleId` on-demand requests name.
pub fn synchronization_rule(name: &str) -> String {
    derived("synchronizationRule", name)
}

/// The application object's id.
pub fn application(name: &str) -> String {
    derived("application", name)
}

/// The service principal's id: the `{id}` of `/servicePrincipals/{id}`.
pub fn service_principal(name: &str) -> String {
    derived("servicePrincipal", name)
}

/// The app id (client id).
pub fn app_id(name: &str) -> String {
    derived("appId", name)
}

/// The provisioning job's id.
pub fn job(template: &str, name: &str) -> String {
    format!("{template}.{name}")
}

/// The id of the "Default Access" app role, for assignments without a role.
pub const DEFAULT_ACCESS: &str = "00000000-0000-0000-0000-000000000000";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_distinct_guids() {
        let (application, principal) = (application("github"), service_principal("github"));
        assert_eq!(application, super::application("github"));
        assert_ne!(application, principal);
        assert_ne!(principal, service_principal("slack"));
        assert!(roster_directory::ObjectId::parse(&principal).is_ok(), "{principal}");
        assert_eq!(job("github-emu", "github"), "github-emu.github");
    }
}
