//! The next signing key, staged ahead of `auditrail keys rotate`: `keys rotate
//! --prepare` makes it (the server may run), `keys export --next` prints it again,
//! `keys rotate --discard-staged` drops it, and `keys rotate` switches to it.
//!
//! Nodes that pin the server (`server_keys` of their `eventserver` target) take only
//! answers signed by a key they list. A key made at the moment of rotation is unknown
//! to them until then, so every pinned node stopped taking the rotated server's answers
//! until its config was changed. A staged key's public half is known beforehand: the
//! nodes are given it at leisure, and keep delivering across the switch.
//!
//! The staged secret is `<key file>.next`, the file where `keys rotate` keeps its new
//! secret until every store hands over to it: `keys rotate` already switches to the key
//! it finds there (that is how an interrupted rotation is finished), so a staged key
//! needs no other mechanism, and a rotation interrupted before it handed any store over
//! is, by design, the same thing as a staged key (nothing signed over to it yet). The
//! server itself never reads `.next`: staging changes nothing it does, also across
//! restarts, until `keys rotate` is run. Staging never replaces a `.next` file (link,
//! not rename: [`Signer::write_new_secret_file`]), since nodes may already list its key.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use auditrail_integrity::{store_key_chain, IntegrityError, Signer, SECRET_KEY_FILE};

use crate::outln;

/// `<key file>.next`: where the next key's secret waits, staged by `--prepare` or made
/// by `keys rotate`, until every store hands over to it.
pub(crate) fn next_path(secret: &Path) -> PathBuf {
    let mut name = secret.as_os_str().to_owned();
    name.push(".next");
    PathBuf::from(name)
}

/// The server's key file and stores, as `--prepare` and `export --next` need them.
pub(crate) struct KeyFiles {
    /// The secret key file: its config's `signing_key`, else `signing.key` in its data
    /// dir.
    pub(crate) secret: PathBuf,
    /// Every store the server signs (its config's, else those under its data dir), to
    /// tell a key its logs already retired.
    pub(crate) stores: Vec<PathBuf>,
}

/// The server's key file and stores (their paths only: staging a key opens none),
/// refusing a key file that does not exist ([`super::keys_checks::missing_key`]).
pub(crate) fn key_files(config: Option<&Path>, data_dir: &Path) -> anyhow::Result<KeyFiles> {
    let (secret, data_dir, stores) = match config {
        Some(c) => {
            let config = super::server_config::load(c)?;
            let stores = config.store_paths();
            (config.signing_key_path(), config.data_dir, stores)
        }
        None if data_dir.is_dir() => (
            data_dir.join(SECRET_KEY_FILE),
            data_dir.to_path_buf(),
            auditrail_integrity::marks_folder::stores_under(data_dir),
        ),
        None => bail!(
            "data dir {} does not exist (give the server's --data-dir, or its --config)",
            data_dir.display()
        ),
    };
    if is_missing(&secret) {
        return Err(super::keys_checks::missing_key(
            &secret, &data_dir, &stores, config,
        ));
    }
    Ok(KeyFiles { secret, stores })
}

/// Whether nothing at all is at `path` (a dangling link is something: reading it says
/// why).
pub(crate) fn is_missing(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
}

/// How the operator named the server (`--config FILE` or `--data-dir DIR`), to repeat
/// in the commands the output suggests.
pub(crate) fn named_by(config: Option<&Path>, data_dir: &Path) -> String {
    match config {
        Some(c) => format!("--config {}", c.display()),
        None => format!("--data-dir {}", data_dir.display()),
    }
}

/// Refuses to stage a key as another user than the owner of the key file: the staged
/// secret would belong to this user (root, typically), and `keys rotate`, run as the
/// server's user, could not read it.
fn refuse_another_owner(secret: &Path) -> anyhow::Result<()> {
    let me = rustix::process::geteuid().as_raw();
    let owner = std::fs::metadata(secret)
        .with_context(|| format!("the server's signing key ({})", secret.display()))?
        .uid();
    if owner != me {
        bail!(
            "{} belongs to uid {owner}, and this command runs as uid {me}: the staged key \
             would belong to uid {me}, and `keys rotate`, run as the server's user, could \
             not read it. Run it as the server's user (e.g. `sudo -u <that user> auditrail \
             keys rotate --prepare ...`)",
            secret.display()
        );
    }
    Ok(())
}

/// `keys rotate --prepare`: stages the next key in `<key file>.next`, or, when one is
/// there, prints it and keeps it.
pub(crate) fn prepare(files: &KeyFiles, named: &str) -> anyhow::Result<ExitCode> {
    let secret = &files.secret;
    let current = Signer::load(secret)
        .with_context(|| format!("the server's signing key ({})", secret.display()))?;
    super::keys_checks::sweep(secret, true)?;
    let next = next_path(secret);
    let next_key = super::keys_checks::next_state(&next);
    super::keys_checks::refuse_a_retired_key(
        current.public_key(),
        secret,
        super::keys_checks::next_key(&next, next_key.as_ref()),
        files.stores.iter().map(PathBuf::as_path),
        "keys rotate --prepare refused",
    )?;
    refuse_another_owner(secret)?;
    // Twice at most: a `keys rotate` may write `.next` between the look and the write.
    for _ in 0..2 {
        if next.exists() {
            return already_staged(&next, secret, named);
        }
        let staged = Signer::generate()?;
        if !staged.write_new_secret_file(&next).with_context(|| {
            format!(
                "keys rotate --prepare: the next key could not be written to {}; nothing \
                 was staged",
                next.display()
            )
        })? {
            continue;
        }
        let key = staged.public_key();
        outln!("next signing key staged: {key}")?;
        outln!(
            "Its secret waits in {next} (mode 0600). The server keeps signing with its \
             current key {current} (restarts included) until `auditrail keys rotate`. Next:\n\
             1. add {key} beside {current} in `server_keys` of every node whose \
             `eventserver` target pins this server, and restart those nodes (at leisure: \
             nothing changes until the rotation);\n\
             2. stop the server, run `auditrail keys rotate {named}`, start the server: it \
             signs with {key} from then on, and the nodes that list it keep delivering;\n\
             3. give {key} to verifiers, and remove {current} from the nodes' \
             `server_keys` once the rotation is done.\n\
             `auditrail keys export --next {named}` prints this key again.",
            next = next.display(),
            current = current.public_key(),
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    already_staged(&next, secret, named)
}

/// A `.next` file found by `--prepare`: kept as it is (nodes may list its key).
fn already_staged(next: &Path, secret: &Path, named: &str) -> anyhow::Result<ExitCode> {
    match Signer::load(next) {
        Ok(staged) => {
            super::keys_checks::refuse_a_foreign_staged_key(
                next,
                secret,
                "keys rotate --prepare refused",
                named,
            )?;
            outln!(
                "a next signing key is already staged: {}",
                staged.public_key()
            )?;
            outln!(
                "It was kept, not replaced: nodes may already list it in `server_keys`. \
                 Its secret is in {} (staged by an earlier `keys rotate --prepare`, or by \
                 a `keys rotate` that did not finish); `auditrail keys rotate {named}` \
                 switches to it. To stage another key instead, stop the server, run \
                 `auditrail keys rotate --discard-staged {named}`, then `--prepare` again, \
                 and take the discarded key out of the nodes' `server_keys`.",
                next.display()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ IntegrityError::KeyFile { .. }) => Err(anyhow::Error::new(e).context(format!(
            "keys rotate --prepare: {} is there but holds no key (a write cut short); it \
             was left as it is. With the server stopped, `auditrail keys rotate \
             --discard-staged {named}` removes it (or says which rotation needs it), then \
             run `--prepare` again",
            next.display()
        ))),
        Err(e) => Err(super::keys_checks::unreadable(
            next,
            e,
            "keys rotate --prepare refused (a staged key)",
        )),
    }
}

/// `keys rotate --discard-staged`, in a session holding the data dir (the server
/// stopped): removes `.next` unless a store already hands signing over to its key (an
/// unfinished rotation, which needs that secret). The lock is what makes the check
/// hold: no `keys rotate` can be handing stores over meanwhile.
pub(crate) fn discard(session: &super::offline::Session, named: &str) -> anyhow::Result<ExitCode> {
    let secret = &session.files.key_path;
    super::keys_checks::sweep(secret, true)?;
    let next = next_path(secret);
    if !next.exists() {
        outln!(
            "no key is staged ({} does not exist): nothing to discard",
            next.display()
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let current = Signer::load(secret)
        .with_context(|| format!("the server's signing key ({})", secret.display()))?;
    // Only a file read and found to hold no key is one whose key nothing can know; a
    // file not read at all may hold the staged key the nodes were given.
    let staged = match Signer::load(&next) {
        Ok(staged) => Some(staged),
        Err(IntegrityError::KeyFile { .. }) => None,
        Err(e) => {
            return Err(super::keys_checks::unreadable(
                &next,
                e,
                "keys rotate --discard-staged refused",
            ))
        }
    };
    let stores = || session.files.stores.iter().map(|(p, _)| p.as_path());
    super::keys_checks::refuse_a_retired_key(
        current.public_key(),
        secret,
        super::keys_checks::next_key(&next, staged.as_ref().map(Signer::public_key)),
        stores(),
        "keys rotate --discard-staged refused",
    )?;
    for path in stores() {
        let chain = store_key_chain(path)?;
        if let Some(handed_to) = chain.last().filter(|k| *k != current.public_key()) {
            bail!(
                "keys rotate --discard-staged refused, nothing changed: the checkpoint log \
                 of store {store} hands signing over to {handed_to}, past the key file's \
                 key {old}: {next} holds the secret of a `keys rotate` that did not \
                 finish, which needs it. Run `auditrail keys rotate {named}` to finish that \
                 rotation",
                store = path.display(),
                old = current.public_key(),
                next = next.display(),
            );
        }
    }
    let what = match &staged {
        Some(staged) => format!("the staged key {}", staged.public_key()),
        None => "a file holding no key".to_owned(),
    };
    std::fs::remove_file(&next).with_context(|| format!("removing {}", next.display()))?;
    let dir = next
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    auditrail::durable::sync_dir(dir)
        .with_context(|| format!("syncing {} after the removal", dir.display()))?;
    outln!(
        "discarded {what} ({}): `keys rotate` will not switch to it, and no copy of its \
         secret is left in {} (copies that killed `keys` commands left were removed too; \
         a backup made since it was staged still holds it); take it out of the nodes' \
         `server_keys` if they were given it. `auditrail keys rotate --prepare {named}` \
         stages a new one.",
        next.display(),
        dir.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// `keys export --next`: the staged key's public half, alone on its line (as `keys
/// export` prints the current one).
pub(crate) fn export(files: &KeyFiles, named: &str) -> anyhow::Result<ExitCode> {
    let secret = &files.secret;
    super::keys_checks::sweep(secret, false)?;
    let next = next_path(secret);
    if !next.exists() {
        bail!(
            "no next key is staged ({} does not exist): `auditrail keys rotate --prepare` \
             stages one",
            next.display()
        );
    }
    let staged = match Signer::load(&next) {
        Ok(staged) => {
            super::keys_checks::refuse_a_foreign_staged_key(
                &next,
                secret,
                "keys export --next refused",
                named,
            )?;
            staged
        }
        Err(e @ IntegrityError::KeyFile { .. }) => {
            return Err(
                anyhow::Error::new(e).context(format!("the staged next key ({})", next.display()))
            )
        }
        Err(e) => {
            return Err(super::keys_checks::unreadable(
                &next,
                e,
                "keys export --next",
            ))
        }
    };
    let current = Signer::load(secret)
        .with_context(|| format!("the server's signing key ({})", secret.display()))?;
    super::keys_checks::refuse_a_retired_key(
        current.public_key(),
        secret,
        super::keys_checks::next_key(&next, Some(staged.public_key())),
        files.stores.iter().map(PathBuf::as_path),
        "keys export --next refused",
    )?;
    outln!("{}", staged.public_key())?;
    Ok(ExitCode::SUCCESS)
}
