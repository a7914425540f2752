//! Checks every `keys` command makes of the key files before it uses them, so that
//! each says the same: copies of a secret left by a killed command (removed), a `.next`
//! file that cannot be read (refused, naming its owner), a key file that is missing
//! from a data dir a server used (its key is elsewhere), and a key file whose key a
//! store's log already retired (put back from before a rotation).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use auditrail_integrity::key_leftovers::remove_leftover_copies;
use auditrail_integrity::rotation::{retired_key, NextKey};
use auditrail_integrity::{IntegrityError, PublicKey, Signer, SECRET_KEY_FILE};

use crate::errln;

/// Removes the copies of a secret that a `keys` command killed mid-write left beside
/// the key file `secret` (see [`auditrail_integrity::key_leftovers`]), naming each on
/// standard error (standard output may be a key being captured). `strict`: a file
/// that cannot be removed is an error (the commands that write key files); otherwise
/// (`keys export`, which may run as another user) it is named and left.
pub(crate) fn sweep(secret: &Path, strict: bool) -> anyhow::Result<()> {
    let removed = match remove_leftover_copies(secret) {
        Ok(removed) => removed,
        Err(e) if strict => {
            return Err(anyhow::Error::new(e).context(
                "a copy of a secret key left by a killed `keys` command could not be removed",
            ))
        }
        Err(e) => {
            errln!(
                "auditrail: warning: a copy of a secret key left by a killed `keys` command \
                 could not be removed ({e}); remove it as the server's user"
            );
            return Ok(());
        }
    };
    for copy in removed {
        let what = match (&copy.second_name_of, &copy.key) {
            (Some(of), _) => format!("a second name of {}", of.display()),
            (None, Some(key)) => format!("the secret of {key}, in place nowhere else"),
            (None, None) => "no whole key".to_owned(),
        };
        errln!(
            "auditrail: removed {} ({what}): a copy of a secret key that a `keys` command \
             killed while writing it left behind",
            copy.path.display()
        );
    }
    Ok(())
}

/// The error for a key file that exists but could not be read (permissions, an I/O
/// error, not a regular file): what it holds is unknown, so it is neither used,
/// replaced nor removed. For a permission error, says whose the file is and as whom
/// the command runs (a file restored or copied as root, typically).
pub(crate) fn unreadable(file: &Path, e: IntegrityError, refused: &str) -> anyhow::Error {
    let denied = matches!(&e, IntegrityError::Io { source, .. }
        if source.kind() == std::io::ErrorKind::PermissionDenied);
    let whose = match std::fs::symlink_metadata(file) {
        Ok(meta) if denied => {
            let me = rustix::process::geteuid().as_raw();
            format!(
                " It belongs to uid {} (mode {:04o}), and this command runs as uid {me}: \
                 give it back to the server's user (`chown`), or run the command as the \
                 user it belongs to.",
                meta.uid(),
                meta.mode() & 0o7777
            )
        }
        _ => String::new(),
    };
    anyhow::Error::new(e).context(format!(
        "{refused}, nothing changed: {} cannot be read, so what it holds is unknown: it is \
         neither used, replaced nor removed.{whose}",
        file.display()
    ))
}

/// What `<key file>.next` holds, as far as telling a retired key from a rotation to
/// finish goes (its errors are each command's own to report).
pub(crate) fn next_state(next: &Path) -> Option<PublicKey> {
    Signer::load(next).ok().map(|s| *s.public_key())
}

/// [`NextKey`] of `next` and its key `key` ([`next_state`]).
pub(crate) fn next_key<'a>(next: &Path, key: Option<&'a PublicKey>) -> NextKey<'a> {
    match key {
        Some(k) => NextKey::Key(k),
        None if next.exists() => NextKey::Unknown,
        None => NextKey::Absent,
    }
}

/// The error for a key file `secret` that does not exist. With `--config`, the file it
/// names is missing. With `--data-dir`: a new data dir's server creates its key at its
/// first start, but one whose data dir was used signs with a key kept elsewhere
/// (`signing_key` in its config, which only `--config` knows), or lost its key.
pub(crate) fn missing_key(
    secret: &Path,
    data_dir: &Path,
    stores: &[PathBuf],
    config: Option<&Path>,
) -> anyhow::Error {
    let found = match auditrail_integrity::keys::data_dir_used(data_dir, stores) {
        Ok(found) => found,
        Err(e) => {
            return anyhow::Error::new(e).context(format!(
                "the server's signing key {} does not exist",
                secret.display()
            ))
        }
    };
    match (found, config) {
        (None, _) => anyhow!(
            "no signing key in {} (a new data dir: the server creates {SECRET_KEY_FILE} on \
             its first start)",
            data_dir.display()
        ),
        (Some(found), Some(config)) => anyhow!(
            "the server's signing key {} (of {}) does not exist, but its data dir was used \
             ({found}): put the key's backup back at {}; if it is lost for good, keep the \
             data dir as evidence and start the server on a new one",
            secret.display(),
            config.display(),
            secret.display()
        ),
        (Some(found), None) => anyhow!(
            "{} does not exist, but the data dir was used by a server ({found}): that \
             server signs with a key kept elsewhere (`signing_key` in its config file), or \
             its key was lost. Give the server's config with `--config FILE` instead of \
             `--data-dir`; if it has no `signing_key`, put the key's backup back at {}",
            secret.display(),
            secret.display()
        ),
    }
}

/// Refuses a key file whose key a store's checkpoint log already retired (see
/// [`auditrail_integrity::rotation::RetiredKey`]): it was put back from before a
/// rotation. Using it (`export`), staging a next key on it (`--prepare`) or rotating
/// from it (`keys rotate`) would only lead to a server every store refuses.
pub(crate) fn refuse_a_retired_key<'a>(
    key: &PublicKey,
    secret: &Path,
    next: NextKey<'_>,
    stores: impl IntoIterator<Item = &'a Path>,
    refused: &str,
) -> anyhow::Result<()> {
    let Some(retired) = retired_key(stores, key, next)? else {
        return Ok(());
    };
    let then = if retired.current == retired.successor {
        String::new()
    } else {
        format!(" (and later on to {})", retired.current)
    };
    Err(anyhow!(
        "{refused}, nothing changed: {secret} holds {key}, a key the checkpoint log of \
         store {store} already retired: it hands signing over from {key} to {successor}\
         {then}. {secret} was put back from before that rotation (a restore from an older \
         backup?), and no store takes a line signed by {key} any more. Put back the key \
         file holding {current}, the store's current key (with {PUB} holding its public \
         half), from a backup made after the rotation; if that secret is lost for good, \
         keep the data dir as evidence and start the server on a new one",
        secret = secret.display(),
        store = retired.store.display(),
        successor = retired.successor,
        current = retired.current,
        PUB = auditrail_integrity::PUBLIC_KEY_FILE,
    ))
}

/// Refuses a staged key (`<key file>.next`, not yet handed over to by any store) that
/// was not written as `keys rotate --prepare` writes it: by the key file's owner (the
/// command refuses to stage as anyone else), mode 0600. Anyone who can write the key
/// file's folder can put a file there, with a secret of their own; `keys rotate` would
/// switch to it, and its handover line, signed by the genuine key, would make their
/// key the store's: verifiers holding the trusted key follow the handover and take
/// whatever it signs after. (A rotation interrupted after its handover is resumed
/// without this check: the genuine key's signature names the key.) `refused` starts
/// the message (`keys rotate refused`); `named` is how the operator named the server.
pub(crate) fn refuse_a_foreign_staged_key(
    next: &Path,
    secret: &Path,
    refused: &str,
    named: &str,
) -> anyhow::Result<()> {
    let staged = std::fs::symlink_metadata(next)
        .map_err(|e| anyhow!("{refused}, nothing changed: {}: {e}", next.display()))?;
    let key = std::fs::metadata(secret)
        .map_err(|e| anyhow!("{refused}, nothing changed: {}: {e}", secret.display()))?;
    let mode = staged.mode() & 0o777;
    let mut why = Vec::new();
    if staged.uid() != key.uid() {
        why.push(format!(
            "it belongs to uid {}, the key file {} to uid {}",
            staged.uid(),
            secret.display(),
            key.uid()
        ));
    }
    if mode & 0o077 != 0 {
        why.push(format!(
            "others than its owner may read or write it (mode {mode:04o})"
        ));
    }
    if why.is_empty() {
        return Ok(());
    }
    Err(anyhow!(
        "{refused}, nothing changed: the staged key {} was not written by `keys rotate \
         --prepare` ({}), which writes it as the key file's owner, mode 0600. A file put \
         there by anyone else who can write the folder holds a secret they know: a \
         rotation to it would hand signing over to them, and verifiers following the \
         handover from the trusted key would take whatever it signs. Find out who put it \
         there; then remove it (`auditrail keys rotate --discard-staged {named}`) and \
         stage a key again (`auditrail keys rotate --prepare {named}`)",
        next.display(),
        why.join("; ")
    ))
}
