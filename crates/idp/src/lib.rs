//! roster's identity provider (issue 12): the pure cores of its OpenID Provider, with no I/O, tested as data —
//! redirect URIs registered and matched byte-exactly ([`redirect`]), PKCE S256 ([`pkce`]), ES256 signing keys
//! and their JWKs ([`keys`]), compact JWS signed and verified with ES256 only ([`jws`]), the authorization
//! request read or refused ([`authorize`]), an ID token's claims as Entra's v2.0 with a pairwise `sub`
//! ([`claims`]), and the token request with its client authenticated ([`token`]). The endpoints, the stores and
//! the sign-in pages build on them.
#![warn(missing_docs)]

pub mod authorize;
pub mod claims;
pub mod jws;
pub mod keys;
pub mod pkce;
pub mod redirect;
pub mod token;
