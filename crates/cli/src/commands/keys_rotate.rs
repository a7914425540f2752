//! `auditrail keys rotate`: a new signing key for a stopped server, introduced in every
//! store by a checkpoint line signed with the old key (`nextKey`), so that a verifier
//! trusting either key follows the chain. Resumable: the new secret is written to
//! `<key>.next` first and only renamed over the old one once every store hands over
//! to it; running the command again after an interruption finishes the same rotation.
//! A key staged there beforehand (`--prepare`, keys_next.rs) is the one rotated to.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use auditrail_integrity::rotation::{finished_rotation, interrupted_rotation};
use auditrail_integrity::{
    store_key_chain, IntegrityError, MarkState, PublicKey, Signer, PUBLIC_KEY_FILE,
};

use super::keys_next::next_path;
use crate::outln;

/// Arguments of `auditrail keys rotate`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The server's data dir (holds `signing.key`, `signing.pub`, `high-water.jsonl`).
    #[arg(long, value_name = "DIR", default_value = "auditrail-data")]
    data_dir: PathBuf,
    /// The server's config file: its data dir, `signing_key`, `store` destinations and
    /// its Kafka sources' partition stores.
    #[arg(long, value_name = "FILE", conflicts_with = "data_dir")]
    config: Option<PathBuf>,
    /// Stage the next key instead of rotating (the server may run): write its secret
    /// to `<key file>.next` and print its public key, to add to the nodes'
    /// `server_keys` before `keys rotate` switches to it. A key already staged is
    /// printed and kept.
    #[arg(long, conflicts_with = "discard_staged")]
    prepare: bool,
    /// Remove the staged next key (server stopped), so that `--prepare` stages another
    /// or `keys rotate` makes a fresh one. Refused when a store already hands signing
    /// over to it (an unfinished rotation).
    #[arg(long)]
    discard_staged: bool,
    /// Rotate even though the last rotation finished and nothing was signed since
    /// (every store's checkpoint log ends with its handover line): without it, that
    /// state is refused, since running the command again after a rotation that did
    /// finish would otherwise rotate a second time, to a key no node lists. A key
    /// staged with `--prepare` is rotated to without it.
    #[arg(long, conflicts_with_all = ["prepare", "discard_staged"])]
    again: bool,
}

/// Finishes a rotation interrupted between renaming the new secret over the old one
/// and writing `signing.pub` (see [`auditrail_integrity::rotation`]): the key file
/// already holds the new key, so only `signing.pub` is left to write. Rotating again
/// instead would hand every store over to yet another key. `false` when that is not
/// the state of the files. A `.next` key then is one staged since (`--prepare`; the
/// rename removed the rotation's own): it is left for the next rotation.
fn finish_after_the_rename(
    key: &Signer,
    secret: &Path,
    data_dir: &Path,
    stores: &[(PathBuf, auditrail_store::StoreConfig)],
    named: &str,
) -> anyhow::Result<bool> {
    let public_file = data_dir.join(PUBLIC_KEY_FILE);
    let Some(old) = PublicKey::read_file_if_exists(&public_file)? else {
        return Ok(false);
    };
    let new = key.public_key();
    if old == *new {
        return Ok(false);
    }
    let Some(store) = interrupted_rotation(stores.iter().map(|(p, _)| p.as_path()), &old, new)?
    else {
        return Ok(false);
    };
    key.replace_public_file(&public_file)?;
    outln!(
        "finishing an interrupted rotation: {} already holds the new key {new}, to which \
         every store hands signing over from {old} (store {} among them); {} now holds \
         the new key too. Give it to verifiers; the old one still verifies every store, \
         following the chain of keys.",
        secret.display(),
        store.display(),
        public_file.display()
    )?;
    outln!("{}", pinned_nodes_need(new, NewKey::Resumed, named))?;
    if next_path(secret).exists() {
        outln!(
            "the key staged in {} was left as it is, for the next `keys rotate`",
            next_path(secret).display()
        )?;
    }
    Ok(true)
}

/// What this run knows of where the new key came from, for what it says about the
/// nodes that pin the server.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NewKey {
    /// Staged beforehand (`--prepare`): nodes may list it already.
    Staged,
    /// Made by this run: no node can list it yet.
    Fresh,
    /// Made by an earlier, interrupted run (resumed or finished here): whether it was
    /// staged first, and given to the nodes, no file tells.
    Resumed,
}

/// What a rotation means for the nodes that pin this server: the server signs its
/// answers with the new key from its next start, and a node whose `server_keys` lacks
/// it takes none of them (its events wait in its spool). Said with the rotation, where
/// the operator learns the new key. Only a fresh key's output points to staging, which
/// spares the nodes that stop next time.
fn pinned_nodes_need(new_key: &impl std::fmt::Display, how: NewKey, named: &str) -> String {
    let add = format!(
        "add {new_key} beside the old one in its `server_keys` and restart it (its events \
         wait in its spool meanwhile); remove the old key once every node has the new one \
         (docs/targets/eventserver.md, \"Receipts and `server_keys`\")."
    );
    match how {
        NewKey::Staged => format!(
            "nodes whose `eventserver` target pins this server (`server_keys`) and lists \
             the staged key {new_key} keep taking its answers once it is started again; a \
             node that lists only the old key refuses them until given the new key: {add}"
        ),
        NewKey::Resumed => format!(
            "this run finished a rotation an earlier `keys rotate` began, to {new_key}; \
             whether that key was staged (`--prepare`) and given to the nodes, the files \
             do not tell. Nodes whose `eventserver` target pins this server \
             (`server_keys`) and lists {new_key} keep taking its answers once it is \
             started again; a node that does not list it refuses them until given it: \
             {add}"
        ),
        NewKey::Fresh => format!(
            "nodes whose `eventserver` target pins this server (`server_keys`) refuse its \
             answers until given the new key: {add} No key was staged for this rotation: \
             next time, stage the next key first with `auditrail keys rotate --prepare \
             {named}` (the server may run), give the key it prints to the nodes, then \
             rotate: no node stops taking the server's answers (docs/operations.md, \"Key \
             rotation\")."
        ),
    }
}

/// Refuses a key file and `signing.pub` that are not halves of one key, once the
/// state of an unfinished rotation (the one mismatch a rotation leaves) was ruled out:
/// one of them was replaced, by an attacker or by mistake. Rotating on top would sign
/// every store's handover line with the key file's key, which verifiers holding
/// `signing.pub` do not trust, and then overwrite `signing.pub`, the evidence of the
/// mismatch. Checked before anything is written (no `.next` key yet on a first run, unless one was staged).
/// A missing `signing.pub` is no mismatch: the rotation writes it.
fn refuse_a_mismatched_pair(key: &Signer, secret: &Path, data_dir: &Path) -> anyhow::Result<()> {
    match key.check_public_file(secret, data_dir) {
        Err(mismatch @ IntegrityError::KeyMismatch { .. }) => Err(anyhow::Error::new(mismatch)
            .context(format!(
                "keys rotate refused, nothing changed: the key file and {PUBLIC_KEY_FILE} \
                 differ, and not as an interrupted rotation leaves them (every store's \
                 checkpoint log would then end with a handover from the key in \
                 {PUBLIC_KEY_FILE} to the key in the key file), so one of the two was \
                 replaced (tampering) or mixed up (an operator's mistake). Rotating now \
                 would sign each store's handover to the new key with the key in {secret}, \
                 which verifiers holding {public} do not trust, and overwrite {public}, the \
                 evidence. Find out which of the two is right first",
                secret = secret.display(),
                public = data_dir.join(PUBLIC_KEY_FILE).display(),
            ))),
        other => other.map(|_| ()).map_err(Into::into),
    }
}

/// Refuses a rotation right after one that finished, with no key staged since (see
/// [`finished_rotation`]): the operator who runs `keys rotate` again because they
/// cannot tell whether it finished (output lost, a retried task) would otherwise get a
/// second rotation, to a fresh key that no node pinning the server lists, although the
/// staged key they gave the nodes is already in place. Rotating again on purpose takes
/// `--again`, or a key staged first (`--prepare`).
fn refuse_a_finished_rotation(
    key: &PublicKey,
    secret: &Path,
    stores: &[(PathBuf, auditrail_store::StoreConfig)],
    named: &str,
) -> anyhow::Result<()> {
    let Some(done) = finished_rotation(stores.iter().map(|(p, _)| p.as_path()), key)? else {
        return Ok(());
    };
    anyhow::bail!(
        "keys rotate refused, nothing changed: the last rotation finished, from {from} to \
         {key} ({secret} and {PUBLIC_KEY_FILE} hold {key}; the checkpoint log of every \
         store ends with its handover line, checkpoint #{index} of store {store} among \
         them), and nothing was signed since (no store has a checkpoint line after it: the \
         server has not run since), \
         so there is nothing to finish. To rotate again on purpose: stage the next key \
         with `auditrail keys rotate --prepare {named}`, give the key it prints to the \
         nodes that pin this server (`server_keys`), then run `auditrail keys rotate \
         {named}`; or rotate at once to a fresh key with `auditrail keys rotate --again \
         {named}` (nodes that pin this server then refuse its answers until given that \
         key)",
        from = done.from,
        secret = secret.display(),
        index = done.index,
        store = done.store.display(),
    )
}

/// Generates the new key and writes its secret to `next_file`, whole or not at all
/// (aside, then linked or renamed into place): a failed write (a full disk) leaves no
/// `.next` file, so running the command again starts afresh. `replace`: over a `.next`
/// file known to hold no key; otherwise never over one
/// ([`Signer::write_new_secret_file`]): one that appeared since the command looked was
/// staged by a `keys rotate --prepare` run meanwhile, whose key nodes may already list.
fn write_next_secret(next_file: &Path, replace: bool) -> anyhow::Result<Signer> {
    let new = Signer::generate()?;
    let written = if replace {
        new.write_secret_file(next_file).map(|()| true)
    } else {
        new.write_new_secret_file(next_file)
    };
    if let Ok(false) = written {
        anyhow::bail!(
            "keys rotate: a next key was staged in {} while this command ran (`keys rotate \
             --prepare`); nothing changed: run `auditrail keys rotate` again to switch to it",
            next_file.display()
        );
    }
    if let Err(e) = written {
        let full = matches!(&e, IntegrityError::Io { source, .. }
            if auditrail::durable::is_disk_full(source));
        let folder = next_file
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let cause = if full {
            format!(
                "the disk holding {} is full (or its quota used up)",
                folder.display()
            )
        } else {
            "the write failed".to_owned()
        };
        return Err(anyhow::Error::new(e).context(format!(
            "keys rotate: the new secret could not be written to {next}: {cause}. Nothing \
             changed: no store was handed over, the old key still signs, and no {next} was \
             left. Run `auditrail keys rotate` again once {}, to rotate the key",
            if full {
                "there is space"
            } else {
                "the cause is fixed"
            },
            next = next_file.display(),
        )));
    }
    Ok(new)
}

/// What a run does with a `.next` file that holds no key (empty, or cut short: left by
/// a version that wrote the new secret in place, whose write failed on a full disk or
/// was cut by a crash).
///
/// Every store's handover line to a new key is written only after that key's secret is
/// whole and fsynced in `.next`, and the rename that ends a rotation removes `.next`.
/// So while every store's checkpoint log still ends with the key file's key (no
/// handover past it), nothing was ever signed over to whatever `.next` was to hold: no
/// store, mark or verifier trusts it, and losing it loses nothing. It is replaced by a
/// fresh key and the rotation goes on. Refusing instead, with a command to remove the
/// file, would only put a manual step (and a chance to remove the wrong file) between a
/// suspected compromise and the rotation that answers it.
///
/// When a store's log does hand signing over past the key file's key, `.next` held the
/// secret that rotation needs to finish, and it is gone: replacing it would hand that
/// store over again, signed by a key its log already retired. Then nothing is changed,
/// the file is kept as it is, and the error says which store names which key.
fn replace_a_next_file_without_a_key(
    old: &Signer,
    next_file: &Path,
    stores: &[(PathBuf, auditrail_store::StoreConfig)],
    no_key: IntegrityError,
) -> anyhow::Result<Signer> {
    for (path, _) in stores {
        let chain = store_key_chain(path)?;
        if let Some(handed_to) = chain.last().filter(|k| *k != old.public_key()) {
            return Err(anyhow::Error::new(no_key).context(format!(
                "keys rotate refused, nothing changed: {next} holds no key, but the \
                 checkpoint log of store {store} hands signing over to {handed_to}, not to \
                 {old_key} (the key file's): {next} held the secret of {handed_to}, which \
                 that rotation needs to finish. Put that secret back into {next} (from a \
                 backup of the data dir) and run `auditrail keys rotate` again; {next} is \
                 left as it is. If the secret is lost for good, the store cannot be signed \
                 any more: keep the data dir as evidence and start the server on a new one",
                next = next_file.display(),
                store = path.display(),
                old_key = old.public_key(),
            )));
        }
    }
    let new = write_next_secret(next_file, true)?;
    outln!(
        "{} held no key (an earlier `keys rotate` whose write of it failed or was cut \
         short: {no_key}); no store hands signing over past {}, so nothing trusts what it \
         was to hold: it was replaced by a new key, {}",
        next_file.display(),
        old.public_key(),
        new.public_key()
    )?;
    Ok(new)
}

/// Whether the checkpoint log of one of `stores` already hands signing over to `key`:
/// the `.next` key is then an interrupted rotation's, not only staged.
fn handed_over_to(
    stores: &[(PathBuf, auditrail_store::StoreConfig)],
    key: &PublicKey,
) -> anyhow::Result<bool> {
    for (path, _) in stores {
        if store_key_chain(path)?.last() == Some(key) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Runs the command.
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let named = super::keys_next::named_by(args.config.as_deref(), &args.data_dir);
    if args.prepare {
        // No lock: the server may run (it never reads `.next`).
        let files = super::keys_next::key_files(args.config.as_deref(), &args.data_dir)?;
        return super::keys_next::prepare(&files, &named);
    }
    let files = super::offline::locate(&super::offline::Source {
        config: args.config.as_deref(),
        data_dir: &args.data_dir,
        signing_key: None,
        stores: &[],
        needs_layout: true,
    })?;
    if super::keys_next::is_missing(&files.key_path) {
        let stores: Vec<PathBuf> = files.stores.iter().map(|(p, _)| p.clone()).collect();
        return Err(super::keys_checks::missing_key(
            &files.key_path,
            &files.data_dir,
            &stores,
            args.config.as_deref(),
        ));
    }
    // The lock before anything is written: a running server (or a second rotation)
    // is refused before a `.next` key exists.
    let session = super::offline::Session::begin(
        files,
        if args.discard_staged {
            "keys rotate --discard-staged"
        } else {
            "keys rotate"
        },
    )?;
    if args.discard_staged {
        return super::keys_next::discard(&session, &named);
    }
    let (data_dir, secret, stores) = (
        &session.files.data_dir,
        &session.files.key_path,
        &session.files.stores,
    );
    super::keys_checks::sweep(secret, true)?;
    let old = Arc::new(
        Signer::load(secret)
            .with_context(|| format!("the server's signing key ({})", secret.display()))?,
    );
    let next_file = next_path(secret);
    if finish_after_the_rename(&old, secret, data_dir, stores, &named)? {
        return Ok(ExitCode::SUCCESS);
    }
    let next_key = super::keys_checks::next_state(&next_file);
    super::keys_checks::refuse_a_retired_key(
        old.public_key(),
        secret,
        super::keys_checks::next_key(&next_file, next_key.as_ref()),
        stores.iter().map(|(p, _)| p.as_path()),
        "keys rotate refused",
    )?;
    refuse_a_mismatched_pair(&old, secret, data_dir)?;
    if !args.again && !next_file.exists() {
        refuse_a_finished_rotation(old.public_key(), secret, stores, &named)?;
    }
    let (new, how) = if next_file.exists() {
        match Signer::load(&next_file) {
            Ok(new) => {
                if handed_over_to(stores, new.public_key())? {
                    outln!(
                        "resuming an interrupted rotation to {} (its key waits in {})",
                        new.public_key(),
                        next_file.display()
                    )?;
                    (new, NewKey::Resumed)
                } else {
                    super::keys_checks::refuse_a_foreign_staged_key(
                        &next_file,
                        secret,
                        "keys rotate refused",
                        &named,
                    )?;
                    outln!(
                        "rotating to the staged key {} (its secret waits in {}: staged by \
                         `keys rotate --prepare`, or made by a `keys rotate` that stopped \
                         before handing any store over); nodes that list it in \
                         `server_keys` keep taking the server's answers",
                        new.public_key(),
                        next_file.display()
                    )?;
                    (new, NewKey::Staged)
                }
            }
            Err(no_key @ IntegrityError::KeyFile { .. }) => (
                replace_a_next_file_without_a_key(&old, &next_file, stores, no_key)?,
                NewKey::Fresh,
            ),
            // Not read at all (permissions, an I/O error, not a regular file): what it
            // holds is unknown, so it is neither used nor replaced.
            Err(e) => {
                return Err(super::keys_checks::unreadable(
                    &next_file,
                    e,
                    "keys rotate refused (the staged key, or an interrupted rotation's)",
                ))
            }
        }
    } else {
        (write_next_secret(&next_file, false)?, NewKey::Fresh)
    };
    let new_key = *new.public_key();
    hand_over(&session, &old, &new)
        .map_err(|e| unfinished(e, stores, &new_key, &next_file, &named))?;
    super::keys_checks::sweep(secret, true)?;
    outln!(
        "signing key rotated: {} -> {new_key} ({}). Give the new public key to verifiers; the old one still verifies every store, following the chain of keys.",
        old.public_key(),
        secret.display()
    )?;
    outln!("{}", pinned_nodes_need(&new_key, how, &named))?;
    Ok(ExitCode::SUCCESS)
}

/// The rotation proper, once the new key's secret is whole in `.next`: every store's
/// handover line, every mark re-signed by the new key, the new secret renamed over the
/// old, `signing.pub`. Each step is one a run of the command again goes on from.
fn hand_over(
    session: &super::offline::Session,
    old: &Arc<Signer>,
    new: &Signer,
) -> anyhow::Result<()> {
    let (data_dir, secret, stores) = (
        &session.files.data_dir,
        &session.files.key_path,
        &session.files.stores,
    );
    let next_file = next_path(secret);
    let new_key = *new.public_key();
    for (path, config) in stores {
        let chain = store_key_chain(path)?;
        if chain.last() == Some(&new_key) {
            outln!("store {}: already hands over to {new_key}", path.display())?;
            continue;
        }
        // Every store is opened (its own lock, its checks), even one without a
        // checkpoint yet: it gets its first line, signed by the old key, and the
        // hand-over after it.
        let line = session.with_store(path, config, old, |integrity| async move {
            integrity.rotate_key(new_key).await
        })?;
        outln!(
            "store {}: checkpoint #{} (chainSeq {}) hands signing over to {new_key}",
            path.display(),
            line.index,
            line.link.seq
        )?;
    }
    // Every store's mark signed by the new key (the server checks its marks against
    // the key it signs with; the chain of keys in the log ties the two).
    for (path, _) in stores {
        // Where the server reads it: a partition store's mark is in its partition folder.
        let marks = session.marks_of(path);
        if let Some(m) = marks.get(path)? {
            if m.key != new_key {
                marks.put(
                    new,
                    path,
                    &MarkState {
                        store_id: m.store_id,
                        checkpoint: m.checkpoint,
                        link: m.link,
                        checkpoint_digest: m.checkpoint_digest,
                        accepted: m.accepted,
                    },
                )?;
            }
        }
    }
    // The new key takes the old one's place; the old secret is gone with the rename.
    std::fs::rename(&next_file, secret)
        .with_context(|| format!("renaming {} to {}", next_file.display(), secret.display()))?;
    if let Some(dir) = secret.parent().filter(|d| !d.as_os_str().is_empty()) {
        auditrail::durable::sync_dir(dir)
            .with_context(|| format!("syncing {} after the rename", dir.display()))?;
    }
    new.replace_public_file(&data_dir.join(PUBLIC_KEY_FILE))?;
    Ok(())
}

/// A failure of [`hand_over`], with what it leaves: once a store's log hands signing
/// over to the new key, the rotation is unfinished (the server refuses to start, and
/// `--discard-staged` too), and running the command again goes on from there; before
/// that, the new key waits in `.next` and running it again rotates to it.
fn unfinished(
    e: anyhow::Error,
    stores: &[(PathBuf, auditrail_store::StoreConfig)],
    new_key: &PublicKey,
    next_file: &Path,
    named: &str,
) -> anyhow::Error {
    let full = e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(auditrail::durable::is_disk_full)
    });
    let once = if full {
        "once there is space again (the disk is full, or a quota used up)"
    } else {
        "once the cause is fixed"
    };
    let handed = stores
        .iter()
        .find(|(p, _)| store_key_chain(p).is_ok_and(|c| c.last() == Some(new_key)));
    let what = match handed {
        Some((store, _)) => format!(
            "keys rotate did not finish: the checkpoint log of store {} already hands \
             signing over to {new_key}, so the server refuses to start until the rotation \
             is finished. Run `auditrail keys rotate {named}` again {once}: it goes on from \
             where this run stopped, with the key waiting in {} (or already in place)",
            store.display(),
            next_file.display()
        ),
        None => format!(
            "keys rotate did not finish: no store was handed over yet; the old key still \
             signs, and {new_key} waits in {}. Run `auditrail keys rotate {named}` again \
             {once}: it rotates to that key",
            next_file.display()
        ),
    };
    e.context(what)
}
