//! TLS for `sslmode=require`: rustls with the ring provider, checking the server's certificate against the Web PKI
//! roots (`webpki-roots`), so that no system certificate store is needed.

use std::sync::Arc;

use tokio_postgres_rustls::MakeRustlsConnect;

/// The connector the pool opens TLS connections with.
pub(super) fn connector() -> Result<MakeRustlsConnect, rustls::Error> {
    let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_connector_builds() {
        assert!(super::connector().is_ok());
    }
}
