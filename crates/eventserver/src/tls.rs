//! HTTPS: the rustls server config from PEM files, and mutual TLS (client
//! certificates of `[tls] client_ca`, verified by rustls' WebPKI verifier).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use thiserror::Error;
use tokio_rustls::TlsAcceptor;

use crate::auth::ClientCert;
use crate::config::{ClientAuth, TlsConfig};

/// The most a `[tls]` file may hold, bytes: a certificate chain, a key, a CA bundle
/// (a whole system bundle is some 250 KB). A path naming anything larger (a log, a
/// disk image) is refused rather than read into memory.
pub(crate) const MAX_TLS_FILE_BYTES: u64 = 4 << 20;

/// Why the `[tls]` files cannot be used; each error names the setting and its file.
#[derive(Debug, Error)]
pub enum TlsError {
    /// A `[tls]` file cannot be read: missing, unreadable, not a regular file (a FIFO,
    /// a device: refused at once, never waited on), or larger than 4 MiB.
    #[error("tls.{setting} {}", auditrail_core::path_and_error(path, source))]
    Read {
        /// `cert`, `key` or `client_ca`.
        setting: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `tls.cert` cannot be read or is not PEM.
    #[error("tls.cert {}", auditrail_core::path_and_error(path, source))]
    Cert {
        /// The file.
        path: PathBuf,
        /// Why.
        source: PemProblem,
    },
    /// `tls.cert` holds no certificate.
    #[error("tls.cert {}: no certificate found", path.display())]
    NoCert {
        /// The file.
        path: PathBuf,
    },
    /// `tls.key` cannot be read, is not PEM, or holds no private key.
    #[error("tls.key {}", auditrail_core::path_and_error(path, source))]
    Key {
        /// The file.
        path: PathBuf,
        /// Why.
        source: PemProblem,
    },
    /// `tls.key` holds a PEM private key section whose content is not a usable key: a
    /// file cut short or damaged (a half-written renewal), or an unsupported key type.
    #[error(
        "tls.key {}: the private key cannot be used (cut short, damaged, or an \
         unsupported type): {source}",
        path.display()
    )]
    UnusableKey {
        /// The file.
        path: PathBuf,
        /// rustls' reason.
        source: rustls::Error,
    },
    /// `tls.key` is a usable key, but not the key of `tls.cert`'s certificate.
    #[error(
        "tls.key {} is not the key of the certificate in tls.cert {}: {source}",
        key.display(),
        cert.display()
    )]
    Mismatch {
        /// `tls.cert`.
        cert: PathBuf,
        /// `tls.key`.
        key: PathBuf,
        /// rustls' comparison of the key with the certificate's public key.
        source: rustls::Error,
    },
    /// The crypto provider offers no TLS version rustls accepts (a build problem).
    #[error("tls: {0}")]
    Protocols(#[source] rustls::Error),
    /// `tls.client_ca` cannot be read, is not PEM, or holds no certificate.
    #[error("tls.client_ca {}", auditrail_core::path_and_error(path, source))]
    ClientCa {
        /// The file.
        path: PathBuf,
        /// Why.
        source: PemProblem,
    },
    /// `tls.client_ca` holds no certificate.
    #[error("tls.client_ca {}: no certificate found", path.display())]
    NoClientCa {
        /// The file.
        path: PathBuf,
    },
    /// A certificate of `tls.client_ca` is not a usable CA certificate.
    #[error("tls.client_ca {}: not a usable CA certificate: {source}", path.display())]
    ClientCaCert {
        /// The file.
        path: PathBuf,
        /// rustls' reason.
        source: rustls::Error,
    },
    /// The client certificate verifier cannot be built over `tls.client_ca`.
    #[error("tls.client_ca {}", auditrail_core::path_and_error(path, source))]
    ClientVerifier {
        /// The file.
        path: PathBuf,
        /// rustls' reason.
        source: rustls::server::VerifierBuilderError,
    },
}

/// What is wrong with a `[tls]` PEM file, in words: rustls' own texts say "no items
/// found" for a key file holding only a certificate, and list the bytes of the marker
/// (`[67, 69, 82, ...]`) for a section cut short. Its text says all of rustls' error
/// (which it keeps, not as a cause: it would only repeat it in the bytes' form).
#[derive(Debug)]
pub struct PemProblem {
    error: pem::Error,
    /// What the file should hold (`PEM certificate`, `PEM private key (...)`).
    wanted: &'static str,
}

impl PemProblem {
    fn new(error: pem::Error, wanted: &'static str) -> PemProblem {
        PemProblem { error, wanted }
    }
}

impl std::fmt::Display for PemProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        match &self.error {
            pem::Error::NoItemsFound => write!(f, "no {} in the file", self.wanted),
            pem::Error::MissingSectionEnd { end_marker } => write!(
                f,
                "a PEM section is not closed: no \"-----END {}-----\" line after its \
                 \"-----BEGIN {0}-----\" (the file is cut short, or damaged)",
                text(end_marker)
            ),
            pem::Error::IllegalSectionStart { line } => write!(
                f,
                "a PEM section starts with an invalid line {:?}",
                text(line)
            ),
            pem::Error::Base64Decode(why) => {
                write!(f, "a PEM section's content is not base64 (damaged): {why}")
            }
            e => write!(f, "cannot be read as PEM: {e}"),
        }
    }
}

impl std::error::Error for PemProblem {}

/// The `[tls]` files in force: the acceptor new connections use and the validity period
/// of the server's own certificate (what a reload compares a new one with).
#[derive(Clone)]
pub(crate) struct Served {
    /// Accepts the TLS connections.
    pub(crate) acceptor: TlsAcceptor,
    /// `notBefore` and `notAfter` of the server's certificate (`None`: unreadable).
    pub(crate) validity: Option<Validity>,
}

/// A certificate's validity period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Validity {
    pub(crate) from: chrono::DateTime<chrono::Utc>,
    pub(crate) to: chrono::DateTime<chrono::Utc>,
}

impl Validity {
    /// `has expired` or `is not valid yet` at `now`; `None` while valid.
    pub(crate) fn outside(&self, now: chrono::DateTime<chrono::Utc>) -> Option<&'static str> {
        if now > self.to {
            Some("has expired")
        } else if now < self.from {
            Some("is not valid yet")
        } else {
            None
        }
    }
}

/// A time as the TLS messages write it: `2025-02-01T00:00:00Z`.
pub(crate) fn said(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Builds the TLS acceptor; errors name the setting and the file.
pub(crate) fn acceptor(tls: &TlsConfig) -> Result<Served, TlsError> {
    let cert_pem = read("cert", &tls.cert)?;
    let key_pem = read("key", &tls.key)?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Cert {
            path: tls.cert.to_path_buf(),
            source: PemProblem::new(e, "PEM certificate"),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCert {
            path: tls.cert.to_path_buf(),
        });
    }
    let validity = crate::cert_info::read(&certs[0]).and_then(|info| {
        Some(Validity {
            from: info.not_before?,
            to: info.not_after?,
        })
    });
    if let Some(v) = validity {
        warn_outside_validity(&tls.cert, v);
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| TlsError::Key {
        path: tls.key.to_path_buf(),
        source: PemProblem::new(e, "PEM private key (PKCS#8, PKCS#1 or SEC1)"),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // The key is loaded on its own, not inside `with_single_cert`: there a key cut
    // short is reported as the pair not fitting, naming neither setting nor file.
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .map_err(|source| TlsError::UnusableKey {
            path: tls.key.to_path_buf(),
            source,
        })?;
    let certified = CertifiedKey::new(certs, signing_key);
    certified
        .keys_match()
        .map_err(|source| TlsError::Mismatch {
            cert: tls.cert.to_path_buf(),
            key: tls.key.to_path_buf(),
            source,
        })?;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Protocols)?;
    let builder = match &tls.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => builder.with_client_cert_verifier(client_verifier(
            ca,
            tls.client_auth.unwrap_or_default(),
            provider,
        )?),
    };
    let mut config = builder.with_cert_resolver(Arc::new(SingleCertAndKey::from(certified)));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Served {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        validity,
    })
}

/// Warns when the server's own certificate is expired or not valid yet: it is still
/// used (a renewal may be on its way, and a refusal would stop the server on the day
/// it expires), but every client refuses its handshake and spools, and nothing else
/// tells the server's operator why. At a start and at each reload (a reload that would
/// put such a certificate in place of a valid one is refused instead: reload.rs).
fn warn_outside_validity(path: &Path, validity: Validity) {
    let now = chrono::Utc::now();
    let Some(state) = validity.outside(now) else {
        return;
    };
    tracing::warn!(
        "tls.cert {}: the server's certificate {state} (valid from {} to {}, now {}): \
         clients refuse the TLS handshake until it is replaced (then SIGHUP)",
        path.display(),
        said(validity.from),
        said(validity.to),
        said(now)
    );
}

/// The bytes of the `[tls]` file of `setting`: a regular file only, of at most
/// [`MAX_TLS_FILE_BYTES`] (`auditrail_core::regular_file`), so that a FIFO or a device
/// at the path cannot hang a start or a reload nor take the memory.
fn read(setting: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    auditrail_core::regular_file::read_bounded(path, MAX_TLS_FILE_BYTES).map_err(|source| {
        TlsError::Read {
            setting,
            path: path.to_path_buf(),
            source,
        }
    })
}

/// rustls' WebPKI client verifier over the CA file: the chain up to a CA of the file,
/// validity dates, and the client-authentication usage are checked by rustls during
/// the handshake; which key a certificate is, by [`client_cert`] and the key ring.
fn client_verifier(
    ca: &Path,
    mode: ClientAuth,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<dyn ClientCertVerifier>, TlsError> {
    let pem_err = |e| TlsError::ClientCa {
        path: ca.to_path_buf(),
        source: PemProblem::new(e, "PEM certificate"),
    };
    let pem = read("client_ca", ca)?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(pem_err)?;
        roots.add(cert).map_err(|source| TlsError::ClientCaCert {
            path: ca.to_path_buf(),
            source,
        })?;
    }
    if roots.is_empty() {
        return Err(TlsError::NoClientCa {
            path: ca.to_path_buf(),
        });
    }
    let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
    let builder = match mode {
        ClientAuth::Required => builder,
        ClientAuth::Optional => builder.allow_unauthenticated(),
    };
    builder.build().map_err(|source| TlsError::ClientVerifier {
        path: ca.to_path_buf(),
        source,
    })
}

/// The verified client certificate of a connection, by its subjectAltNames (DNS names
/// and URIs; none, when it has neither: then what it holds instead is said); `None`
/// without one.
pub(crate) fn client_cert(conn: &rustls::ServerConnection) -> Option<ClientCert> {
    let der = conn.peer_certificates()?.first()?;
    let cert = webpki::EndEntityCert::try_from(der).ok()?;
    let names: Vec<String> = cert
        .valid_dns_names()
        .chain(cert.valid_uri_names())
        .map(str::to_owned)
        .collect();
    let holds = if names.is_empty() {
        crate::cert_info::read(der)
            .map(|info| info.describe_names())
            .unwrap_or_else(|| "names this server cannot read".to_owned())
    } else {
        String::new()
    };
    Some(ClientCert {
        names: names.into(),
        holds: holds.into(),
        sha256: auditrail_core::answer::body_digest(der.as_ref()).into(),
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
