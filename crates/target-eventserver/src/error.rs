//! Errors building the target.

use std::path::PathBuf;

use thiserror::Error;

/// Why the target could not be set up.
#[derive(Debug, Error)]
pub enum SetupError {
    /// The `ca_file` cannot be used.
    #[error("`ca_file` {path}: {message}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The `client_cert` file cannot be used.
    #[error("`client_cert` {path}: {problem}")]
    ClientCert {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        problem: PemProblem,
    },
    /// The `client_key` file cannot be used.
    #[error("`client_key` {path}: {problem}")]
    ClientKey {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        problem: PemProblem,
    },
    /// `client_key` is a usable key, but not the key of `client_cert`'s certificate.
    #[error("`client_key` {key} is not the key of `client_cert` {cert}: {source}")]
    KeyMismatch {
        /// `client_cert`.
        cert: PathBuf,
        /// `client_key`.
        key: PathBuf,
        /// rustls' comparison of the key with the certificate's public key.
        source: rustls::Error,
    },
    /// `auth_key` cannot be sent as an HTTP header.
    #[error("`auth_key` is not a valid HTTP header value: {0}")]
    AuthKey(#[source] reqwest::header::InvalidHeaderValue),
    /// The HTTP client could not be built. The message shows the whole cause chain:
    /// reqwest's own text ("builder error") says nothing without it.
    #[error("HTTP client: {}", with_causes(.0))]
    Http(#[source] reqwest::Error),
}

/// What is wrong with a PEM file of `client_cert` or `client_key`.
#[derive(Debug, Error)]
pub enum PemProblem {
    /// The file cannot be read.
    #[error("cannot be read: {0}")]
    Read(#[source] std::io::Error),
    /// The file is not PEM, or a PEM section in it cannot be decoded.
    #[error("cannot be parsed as PEM: {0}")]
    Pem(#[source] rustls_pki_types::pem::Error),
    /// No `CERTIFICATE` section in the file.
    #[error("no PEM certificate in the file")]
    NoCertificate,
    /// No private key section (PKCS#8, PKCS#1 or SEC1) in the file.
    #[error("no PEM private key (PKCS#8, PKCS#1 or SEC1) in the file")]
    NoKey,
    /// A key section whose content is not a usable key: a file cut short or damaged,
    /// or a key type TLS cannot sign with.
    #[error("the private key cannot be used (cut short, damaged, or an unsupported type): {0}")]
    UnusableKey(#[source] rustls::Error),
}

/// An error's text followed by the text of each of its causes (`error: cause: cause`;
/// reqwest hides the interesting part in sources).
pub(crate) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
