//! The directory, roster's source of truth, as pure code: users and groups with Microsoft Graph
//! attribute names ([`model`]), import parsers for `.json`, `.jsonl` and `.csv` files from any reader
//! ([`import`]), writers for the same formats ([`export`]) and a reproducible synthetic directory
//! generator ([`generate`]).
//!
//! ```
//! use roster_directory::generate::{Directory, GenerateOptions};
//! use roster_directory::{export, import};
//!
//! let file = r#"{"users": [{"id": "0A1B2C3D-0000-4000-8000-00000000000A",
//!                            "userPrincipalName": "zoe.muller@contoso.example",
//!                            "displayName": "Zoë Müller", "extension_abc_costCenter": "CC-1"}],
//!                 "groups": [{"id": "0a1b2c3d-0000-4000-8000-00000000000b", "displayName": "Staff",
//!                             "members": ["0a1b2c3d-0000-4000-8000-00000000000a"]}]}"#;
//! let directory = import::read_json(file.as_bytes())?;
//! assert_eq!(directory.users[0].id().as_str(), "0a1b2c3d-0000-4000-8000-00000000000a");
//! assert!(directory.users[0].account_enabled);
//!
//! let error = import::read_jsonl(&br#"{"objectType": "user", "id": "0a1b2c3d-0000-4000-8000-00000000000a", "userPrincipalName": "bob smith@x.com"}"#[..])
//!     .unwrap_err();
//! assert_eq!(error.to_string(), r#"line 1: userPrincipalName "bob smith@x.com" contains a space"#);
//!
//! let generated = Directory::generate(&GenerateOptions { users: 50, groups: 5, members_per_group: 10, seed: 1 });
//! let mut jsonl = Vec::new();
//! export::write_jsonl(&generated, &mut jsonl)?;
//! assert_eq!(import::read_jsonl(&jsonl[..])?, generated);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

pub mod access;
pub mod audit;
pub mod export;
pub mod generate;
pub mod import;
pub mod model;
pub mod port;
pub mod user_text;

pub use model::{Directory, ExtensionValue, Group, ObjectId, USER_ATTRIBUTES, User, UserPrincipalName};
