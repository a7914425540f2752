//! HTTPS: the rustls server config from PEM files, and mutual TLS (client
//! certificates of `[tls] client_ca`, verified by rustls' WebPKI verifier).

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;
use tokio_rustls::TlsAcceptor;

use crate::auth::ClientCert;
use crate::config::{ClientAuth, TlsConfig};

/// Builds the TLS acceptor; errors name the file.
pub(crate) fn acceptor(tls: &TlsConfig) -> Result<TlsAcceptor, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&tls.cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("tls.cert {}: {e}", tls.cert.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "tls.cert {}: no certificate found",
            tls.cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key)
        .map_err(|e| format!("tls.key {}: {e}", tls.key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("tls: {e}"))?;
    let builder = match &tls.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => builder.with_client_cert_verifier(client_verifier(
            ca,
            tls.client_auth.unwrap_or_default(),
            provider,
        )?),
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| format!("tls: certificate and key do not fit: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// rustls' WebPKI client verifier over the CA file: the chain up to a CA of the file,
/// validity dates, and the client-authentication usage are checked by rustls during
/// the handshake; which key a certificate is, by [`client_cert`] and the key ring.
fn client_verifier(
    ca: &Path,
    mode: ClientAuth,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<dyn ClientCertVerifier>, String> {
    let file = |e: &dyn std::fmt::Display| format!("tls.client_ca {}: {e}", ca.display());
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).map_err(|e| file(&e))? {
        let cert = cert.map_err(|e| file(&e))?;
        roots
            .add(cert)
            .map_err(|e| file(&format!("not a usable CA certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(file(&"no certificate found"));
    }
    let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
    let builder = match mode {
        ClientAuth::Required => builder,
        ClientAuth::Optional => builder.allow_unauthenticated(),
    };
    builder.build().map_err(|e| file(&e))
}

/// The verified client certificate of a connection, by its subjectAltNames (DNS names
/// and URIs); `None` without one (or without names).
pub(crate) fn client_cert(conn: &rustls::ServerConnection) -> Option<ClientCert> {
    let cert = conn.peer_certificates()?.first()?;
    let cert = webpki::EndEntityCert::try_from(cert).ok()?;
    let names: Vec<String> = cert
        .valid_dns_names()
        .chain(cert.valid_uri_names())
        .map(str::to_owned)
        .collect();
    (!names.is_empty()).then(|| ClientCert {
        names: names.into(),
    })
}

/// Whether a failed handshake is the refusal of a presented client certificate (an
/// unknown CA, expired, wrong usage), as opposed to a client without one or a
/// connection that is not TLS at all.
pub(crate) fn is_client_cert_refusal(e: &std::io::Error) -> bool {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .is_some_and(|e| matches!(e, rustls::Error::InvalidCertificate(_)))
}
