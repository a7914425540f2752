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
    /// The client certificate or its key (`client_cert`, `client_key`) cannot be used.
    #[error("client certificate {cert} with key {key}: {message}")]
    ClientIdentity {
        /// `client_cert`.
        cert: PathBuf,
        /// `client_key`.
        key: PathBuf,
        /// What is wrong with them.
        message: String,
    },
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Http(String),
}
