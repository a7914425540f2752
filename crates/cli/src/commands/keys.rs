//! `auditrail keys`: the event server's checkpoint signing key.

use crate::outln;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use auditrail_integrity::{PublicKey, Signer, PUBLIC_KEY_FILE, SECRET_KEY_FILE};

/// Arguments of `auditrail keys`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(clap::Subcommand)]
enum KeysCommand {
    /// Print the public key (`ed25519:<64 hex>`) that verifies the server's checkpoints
    /// and receipts. Keep a copy away from the server and give it to `auditrail verify
    /// --public-key`.
    Export {
        /// The server's data dir (holds `signing.key`, created on first start).
        #[arg(long, value_name = "DIR", default_value = "auditrail-data")]
        data_dir: PathBuf,
        /// A secret key file supplied by path instead of the data dir's.
        #[arg(long, value_name = "FILE", conflicts_with = "data_dir")]
        key: Option<PathBuf>,
        /// The server's config file: its `signing_key`, else its `data_dir`'s key.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["data_dir", "key"])]
        config: Option<PathBuf>,
    },
    /// Replace the signing key (server stopped): every store's checkpoint log gets a
    /// line, signed by the old key, that hands signing over to the new one, so that
    /// `verify` with either public key follows the chain; then the new key replaces
    /// the old in `signing.key` (or the config's `signing_key`) and `signing.pub`.
    Rotate(super::keys_rotate::Args),
}

/// Runs the command.
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        KeysCommand::Rotate(args) => super::keys_rotate::run(args),
        KeysCommand::Export {
            data_dir,
            key,
            config,
        } => {
            // The stores the config puts outside the data dir: an interrupted rotation
            // is told from another key by every store's log, as `serve` tells it.
            let from_config = config.is_some();
            let (data_dir, key, stores) = match config {
                Some(path) => {
                    let config = super::server_config::load(&path)?;
                    let key = config.signing_key.clone();
                    let stores: Vec<PathBuf> =
                        config.stores().into_iter().map(|(p, _)| p).collect();
                    (config.data_dir, key, stores)
                }
                None => (data_dir, key, Vec::new()),
            };
            let public = match key {
                Some(path) => {
                    // A bare `--key` may be a pipe (`<(...)`); a config's key file is
                    // the server's, read as `serve` reads it.
                    let signer = if from_config {
                        Signer::load(&path)?
                    } else {
                        Signer::load_given(&path)?
                    };
                    // A config's key file is checked against its data dir's
                    // `signing.pub`, as `serve` checks it; a bare --key names no data
                    // dir to check it against.
                    if from_config {
                        signer.check_data_dir_public_file(&path, &data_dir, &stores)?;
                    }
                    *signer.public_key()
                }
                None => {
                    let secret = data_dir.join(SECRET_KEY_FILE);
                    let public = data_dir.join(PUBLIC_KEY_FILE);
                    if secret.exists() {
                        // Derived from the secret: cannot disagree with what signs. A
                        // `signing.pub` of another key is an error, in the words the
                        // server refuses it with (an unfinished rotation named as
                        // such, with the command that finishes it): verifiers given
                        // either would disagree.
                        let signer = Signer::load(&secret)?;
                        signer.check_data_dir_public_file(&secret, &data_dir, &stores)?;
                        *signer.public_key()
                    } else if let Some(k) = PublicKey::read_file_if_exists(&public)? {
                        k
                    } else {
                        bail!(
                            "no signing key in {} (the server creates {SECRET_KEY_FILE} on its first start)",
                            data_dir.display()
                        );
                    }
                }
            };
            outln!("{public}")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
