//! `auditrail keys`: the event server's checkpoint signing key, and new key pairs
//! (`keys new`: a node's Kafka record signing key).

use crate::{errln, outln};
use std::path::PathBuf;
use std::process::ExitCode;

use auditrail_integrity::{Signer, SECRET_KEY_FILE};

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
        /// Print the staged next key (`keys rotate --prepare`) instead of the current
        /// one: the key to add to the nodes' `server_keys` before `keys rotate`.
        #[arg(long, conflicts_with = "key")]
        next: bool,
    },
    /// Replace the signing key (server stopped): every store's checkpoint log gets a
    /// line, signed by the old key, that hands signing over to the new one, so that
    /// `verify` with either public key follows the chain; then the new key replaces
    /// the old in `signing.key` (or the config's `signing_key`) and `signing.pub`. The
    /// new key is the one staged by `--prepare` (server running) when there is one, so
    /// that nodes pinning the server can be given it first.
    Rotate(super::keys_rotate::Args),
    /// Make a new Ed25519 key pair: writes the secret key file FILE (`ed25519-secret:<64
    /// hex>`, mode 0600; refused when FILE exists) and prints its public key
    /// (`ed25519:<64 hex>`). For a node's `kafka` target that signs its records
    /// (`signing_key`): list the public key in the storing servers' `signing_keys`.
    New {
        /// The secret key file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// Runs the command.
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        KeysCommand::Rotate(args) => super::keys_rotate::run(args),
        KeysCommand::New { out } => {
            let signer = Signer::generate()?;
            if !signer.write_new_secret_file(&out)? {
                anyhow::bail!(
                    "{} exists: not replaced (a key whose public half may be listed \
                     somewhere already); name another file",
                    out.display()
                );
            }
            outln!("{}", signer.public_key())?;
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Export {
            data_dir,
            key,
            config,
            next,
        } => {
            if next {
                let files = super::keys_next::key_files(config.as_deref(), &data_dir)?;
                let named = super::keys_next::named_by(config.as_deref(), &data_dir);
                return super::keys_next::export(&files, &named);
            }
            let (public, secret, data_dir, stores) = match (&config, key) {
                (Some(path), _) => {
                    let config = super::server_config::load(path)?;
                    super::keys_checks::sweep(&config.signing_key_path(), false)?;
                    (
                        super::server_config::public_key(&config)?,
                        Some(config.signing_key_path()),
                        config.data_dir.clone(),
                        config.store_paths(),
                    )
                }
                // A bare `--key` may be a pipe (`<(...)`); it names no data dir to
                // check it against.
                (None, Some(path)) => (
                    Some((*Signer::load_given(&path)?.public_key(), path)),
                    None,
                    data_dir,
                    Vec::new(),
                ),
                (None, None) => {
                    let secret = data_dir.join(SECRET_KEY_FILE);
                    super::keys_checks::sweep(&secret, false)?;
                    (
                        super::server_config::data_dir_public_key(None, &data_dir, &[])?,
                        Some(secret),
                        data_dir.clone(),
                        auditrail_integrity::marks_folder::stores_under(&data_dir),
                    )
                }
            };
            let Some((public, _)) = public else {
                let secret = secret.unwrap_or_else(|| data_dir.join(SECRET_KEY_FILE));
                return Err(super::keys_checks::missing_key(
                    &secret,
                    &data_dir,
                    &stores,
                    config.as_deref(),
                ));
            };
            let mut staged = None;
            if let Some(secret) = secret.as_ref().filter(|s| !super::keys_next::is_missing(s)) {
                let next = super::keys_next::next_path(secret);
                let next_key = super::keys_checks::next_state(&next);
                super::keys_checks::refuse_a_retired_key(
                    &public,
                    secret,
                    super::keys_checks::next_key(&next, next_key.as_ref()),
                    stores.iter().map(PathBuf::as_path),
                    "keys export refused",
                )?;
                staged = next_key.filter(|k| *k != public).map(|k| (k, next));
            }
            outln!("{public}")?;
            // An operator who exports the key to pin nodes while a rotation is staged
            // must give them the staged key too, or they stop at the rotation: said on
            // stderr, so that stdout stays the one key scripts read.
            if let Some((key, file)) = staged {
                errln!(
                    "auditrail: a next key is staged ({}): {key}; give nodes pinning this \
                     server both keys in `server_keys` before `auditrail keys rotate` \
                     (`keys export --next` prints it alone)",
                    file.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
