//! `--config server.toml` for the operator commands (`verify`, `query`, `sql`, `keys`,
//! `store`): the data folder, the stores and the signing key as `auditrail serve`
//! sees them, read from the same file by the same parser.

use std::path::{Path, PathBuf};

use anyhow::Context;
use auditrail_eventserver::config::ServerConfig;
use auditrail_integrity::{PublicKey, Signer, PUBLIC_KEY_FILE, SECRET_KEY_FILE};

/// The target types this binary knows, for parsing a server config's destinations.
pub(crate) fn registry() -> anyhow::Result<auditrail::Registry> {
    auditrail_eventserver::registry(&auditrail::linked_registrations())
        .map(auditrail::with_feature_hints)
        .context("target registry")
}

/// Reads and checks a server config file, with the environment's `AUDITRAIL_` overrides
/// (as `auditrail serve` reads it).
pub(crate) fn load(path: &Path) -> anyhow::Result<ServerConfig> {
    Ok(ServerConfig::load_with_env(
        Some(path),
        &registry()?,
        std::env::vars_os(),
    )?)
}

/// The public key that verifies what a configured server signs, with the file it was
/// read from: [`data_dir_public_key`] of its `signing_key`, data dir and stores. One
/// resolution for `keys export --config` and `verify --config`, so that the key one
/// prints is the key the other checks with.
pub(crate) fn public_key(config: &ServerConfig) -> anyhow::Result<Option<(PublicKey, PathBuf)>> {
    let stores: Vec<PathBuf> = config.store_paths();
    data_dir_public_key(config.signing_key.as_deref(), &config.data_dir, &stores)
}

/// The public half of `signing_key`, else of `<data_dir>/signing.key`, else
/// `<data_dir>/signing.pub`, with the file it was read from (`None`: the data dir holds
/// no key, its server never started). A key file and a `signing.pub` that disagree are
/// refused in the words `serve` refuses them with (an unfinished rotation named as
/// such, told by every store's log: those under the data dir and `stores`, the ones a
/// config puts elsewhere).
pub(crate) fn data_dir_public_key(
    signing_key: Option<&Path>,
    data_dir: &Path,
    stores: &[PathBuf],
) -> anyhow::Result<Option<(PublicKey, PathBuf)>> {
    let secret = signing_key.map_or_else(|| data_dir.join(SECRET_KEY_FILE), Path::to_path_buf);
    // A configured key must be there (`serve` stops without it); the data dir's may
    // not be yet, or only its public half.
    if signing_key.is_some() || secret.exists() {
        // Derived from the secret: cannot disagree with what signs.
        let signer = Signer::load(&secret)?;
        signer.check_data_dir_public_file(&secret, data_dir, stores)?;
        return Ok(Some((*signer.public_key(), secret)));
    }
    let public = data_dir.join(PUBLIC_KEY_FILE);
    Ok(PublicKey::read_file_if_exists(&public)?.map(|k| (k, public)))
}
