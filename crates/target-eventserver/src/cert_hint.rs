//! What to do about a server certificate this node refuses, said after rustls' own words.
//!
//! rustls names the refusal by its variant (`invalid peer certificate: UnknownIssuer`,
//! `Other(OtherError(CaUsedAsEndEntity))`), which says what failed but not what the
//! operator can do. The commonest one needs saying most: a self-signed certificate
//! made with `openssl req -x509` is a CA certificate (basicConstraints CA:TRUE), which
//! TLS refuses as a server's own certificate even once it is in `ca_file`, so the
//! obvious fix (trust it) does not work and the message gave no clue why.

use rustls::{CertificateError, Error, OtherError};

/// The hint for a refused server certificate, `None` for other TLS errors and for
/// refusals rustls already says in words (a name the certificate is not for).
pub(crate) fn certificate_hint(error: &Error) -> Option<&'static str> {
    let Error::InvalidCertificate(cert) = error else {
        return None;
    };
    match cert {
        CertificateError::UnknownIssuer => Some(
            " (the server's certificate is not issued by a CA this node trusts: set \
             `ca_file` to the PEM file of the CA that issued it)",
        ),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => Some(
            " (the server's certificate has expired, or this node's clock is ahead: renew \
             the server's certificate, `[tls] cert` of `auditrail serve`, or set the clock)",
        ),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => Some(
            " (the server's certificate is not valid yet: this node's clock is behind, or \
             the certificate was dated ahead)",
        ),
        CertificateError::Other(OtherError(inner))
            if matches!(
                inner.downcast_ref::<webpki::Error>(),
                Some(webpki::Error::CaUsedAsEndEntity)
            ) =>
        {
            Some(
                " (the server presents a CA certificate, basicConstraints CA:TRUE as \
                 `openssl req -x509` makes by default, as its own: TLS refuses that also \
                 when it is in `ca_file`. Give the server a certificate issued by that CA, \
                 or a self-signed one made with basicConstraints CA:FALSE, and put the CA \
                 (or that certificate) in `ca_file`)",
            )
        }
        _ => None,
    }
}
