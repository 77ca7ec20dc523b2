//! roster's identity provider (issue 12): the pure cores of its OpenID Provider, with no I/O, tested as data —
//! redirect URIs registered and matched byte-exactly ([`redirect`]), PKCE S256 ([`pkce`]), ES256 signing keys
//! and their JWKs ([`keys`]), compact JWS signed and verified with ES256 only ([`jws`]). The endpoints, the
//! stores and the sign-in pages build on them.
#![warn(missing_docs)]

pub mod authorize;
pub mod jws;
pub mod keys;
pub mod pkce;
pub mod redirect;
