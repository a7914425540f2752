//! An `auditrail keys rotate` interrupted after its last step but one, recognised from
//! the files it left.
//!
//! The rotation writes, in order: every store's hand-over line (signed by the old key,
//! naming the new one), the high-water marks re-signed by the new key, the new secret
//! renamed over the old one, and last `signing.pub`. Interrupted before the rename, the
//! new secret waits in `<key file>.next` and running the command again finishes the
//! rotation from there. Interrupted between the rename and `signing.pub`, the old
//! secret is gone: the key file holds the new key while `signing.pub` still holds the
//! old one, and every store's checkpoint log ends with the hand-over from the one to
//! the other. That state, and only that one, is an unfinished rotation: writing
//! `signing.pub` from the key file finishes it.

use std::path::{Path, PathBuf};

use crate::keys::PublicKey;
use crate::IntegrityError;

/// The files of a rotation interrupted before it wrote `signing.pub`.
#[derive(Debug, thiserror::Error)]
#[error(
    "an interrupted `auditrail keys rotate` is not finished: {secret} holds the new key \
     {new_key}, to which the checkpoint log of every store hands signing over from \
     {old_key}, while {public} still holds that old key. Run `auditrail keys rotate` \
     again (with this server's --config or --data-dir): it writes the new public key to \
     {public}, and rotates nothing a second time; then give {new_key} to verifiers"
)]
pub struct UnfinishedRotation {
    /// The secret key file.
    pub secret: PathBuf,
    /// Its public half (`ed25519:<hex>`), the key signing was handed over to.
    pub new_key: String,
    /// The public key file.
    pub public: PathBuf,
    /// The key it holds (`ed25519:<hex>`), the one signing was handed over from.
    pub old_key: String,
}

/// The first of `stores` if the checkpoint log of every one of them ends with signing
/// handed over from `old` (in `signing.pub`) to `new` (in the key file): the state of
/// a rotation interrupted before it wrote `signing.pub` (see the module docs). A
/// configured store not created yet is passed over; `None` otherwise, also without any
/// store (nothing shows a rotation then).
pub fn interrupted_rotation<'a>(
    stores: impl IntoIterator<Item = &'a Path>,
    old: &PublicKey,
    new: &PublicKey,
) -> Result<Option<PathBuf>, IntegrityError> {
    let mut first = None;
    for store in stores {
        if !auditrail_store::root::is_store(store) {
            continue;
        }
        let chain = crate::guard::store_key_chain(store)?;
        if !chain.ends_with(&[*old, *new]) {
            return Ok(None);
        }
        first.get_or_insert_with(|| store.to_path_buf());
    }
    Ok(first)
}

/// A key file's key that a store's checkpoint log already retired: the log hands
/// signing over from it to another key, and not as a rotation to the `.next` key that
/// is still to finish leaves it. The key file was put back from before a rotation (a
/// restore from a backup): no store takes a line signed by it any more, so it can be
/// neither used nor rotated from; the key file of `current` is the one to put back.
#[derive(Debug)]
pub struct RetiredKey {
    /// The store whose log retired it.
    pub store: PathBuf,
    /// The key its log handed signing over to from it.
    pub successor: PublicKey,
    /// The key that signs the store's log now (its chain's last).
    pub current: PublicKey,
}

/// What a command knows of `<key file>.next`, for [`retired_key`].
#[derive(Debug, Clone, Copy)]
pub enum NextKey<'a> {
    /// No `.next` file.
    Absent,
    /// `.next` holds this key.
    Key(&'a PublicKey),
    /// `.next` is there but its key is unknown (holds none, or cannot be read): an
    /// interrupted rotation to the store's last key is not ruled out.
    Unknown,
}

/// The first of `stores` (those not created yet passed over) whose checkpoint log
/// retired `key` (see [`RetiredKey`]). A log that ends with a handover from `key` to
/// its last key is no retirement when `.next` holds that last key (or cannot be told):
/// that is a rotation interrupted before its rename, which `keys rotate` finishes.
pub fn retired_key<'a>(
    stores: impl IntoIterator<Item = &'a Path>,
    key: &PublicKey,
    next: NextKey<'_>,
) -> Result<Option<RetiredKey>, IntegrityError> {
    for store in stores {
        if !auditrail_store::root::is_store(store) {
            continue;
        }
        let chain = crate::guard::store_key_chain(store)?;
        let Some(at) = chain.iter().rposition(|k| k == key) else {
            continue;
        };
        let (Some(successor), Some(current)) = (chain.get(at + 1), chain.last()) else {
            continue;
        };
        let resumable = at + 2 == chain.len()
            && match next {
                NextKey::Key(k) => k == current,
                NextKey::Unknown => true,
                NextKey::Absent => false,
            };
        if !resumable {
            return Ok(Some(RetiredKey {
                store: store.to_path_buf(),
                successor: *successor,
                current: *current,
            }));
        }
    }
    Ok(None)
}

/// A rotation that finished and after which nothing was signed: the last line of a
/// store's checkpoint log is its handover from `from` to the key file's key.
#[derive(Debug)]
pub struct FinishedRotation {
    /// The first store whose log ends with that handover.
    pub store: PathBuf,
    /// The checkpoint number of its handover line.
    pub index: u64,
    /// The key signing was handed over from.
    pub from: PublicKey,
}

/// Whether a rotation to `key` (the key file's) finished and nothing was signed since:
/// every store whose checkpoint log has a line ends with a handover line naming `key`
/// (its `nextKey`), and at least one does. A store not created yet, or without any line
/// yet, signed nothing since either and is passed over; a line after the handover (a
/// server's start, checkpoint or stop under `key`) in any store makes it `None`: the
/// key has signed, and rotating from it is an ordinary rotation. A server that has not
/// run since the rotation (or ran without writing a checkpoint line) leaves every log
/// as the rotation did, so running `keys rotate` again, as after an interruption, finds
/// this state and nothing to finish.
pub fn finished_rotation<'a>(
    stores: impl IntoIterator<Item = &'a Path>,
    key: &PublicKey,
) -> Result<Option<FinishedRotation>, IntegrityError> {
    let mut first = None;
    for store in stores {
        if !auditrail_store::root::is_store(store) {
            continue;
        }
        let log = crate::guard::read_log(store)?;
        let Some(last) = log.last() else {
            continue;
        };
        if last.cp.next_key.as_ref() != Some(key) || last.cp.key == *key {
            return Ok(None);
        }
        first.get_or_insert_with(|| FinishedRotation {
            store: store.to_path_buf(),
            index: last.cp.index,
            from: last.cp.key,
        });
    }
    Ok(first)
}
