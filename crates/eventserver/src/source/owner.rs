//! The owner epoch of a partition store: a fencing token kept in the partition's
//! folder beside the store (`<store_root>/<topic>/<partition>/owner`).
//!
//! Each server that opens a partition store (under the store's exclusive lock) raises
//! the epoch by one and writes it with its own id; before every batch it reads the
//! file again, and a different epoch means another server took the partition over
//! (it was paused past the group's timeouts, or the storage's locks do not hold): the
//! batch is refused and the store closed. Kafka's group generation plays this role
//! inside the broker; librdkafka does not give it to a Rust consumer without unsafe
//! code, and a per-store epoch is the stricter token anyway (it changes only when this
//! store changes hands). Outside the store's folder so that no topic folder can ever
//! collide with it.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnerFile {
    epoch: u64,
    member: String,
}

/// This server's ownership of one partition store.
#[derive(Debug)]
pub(crate) struct Owner {
    path: PathBuf,
    epoch: u64,
    member: String,
}

/// Why ownership cannot be taken or checked.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OwnerError {
    /// The file cannot be read or written.
    #[error("owner file {}", auditrail_core::path_and_error(path, source))]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not an owner file.
    #[error("owner file {path}: not an owner record: {source}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// The owner file of the partition folder `partition`.
pub(crate) fn owner_path(partition: &Path) -> PathBuf {
    partition.join(OWNER_FILE)
}

/// The owner file's name in a partition folder (by which the operator commands tell a
/// partition folder: `auditrail_integrity::marks_folder`).
const OWNER_FILE: &str = auditrail_integrity::marks_folder::PARTITION_OWNER_FILE;

fn read(path: &Path) -> Result<Option<OwnerFile>, OwnerError> {
    match auditrail_core::regular_file::read(path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| OwnerError::Damaged {
                    path: path.to_owned(),
                    source,
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(OwnerError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

impl Owner {
    /// Takes the partition folder `partition` (and its store) over: epoch + 1, written with `member` (fsynced, then
    /// renamed into place and the folder fsynced). Call it holding the store's lock.
    /// A damaged file is taken over too (epoch from 1 again would let a stale owner
    /// with epoch 1 write: the damaged file's bytes are kept aside and the epoch
    /// starts above any small number a previous owner may hold).
    pub(crate) fn take(partition: &Path, member: &str) -> Result<Owner, OwnerError> {
        let path = owner_path(partition);
        let io = |source| OwnerError::Io {
            path: path.clone(),
            source,
        };
        let previous = match read(&path) {
            Ok(p) => p.map_or(0, |p| p.epoch),
            Err(OwnerError::Damaged { .. }) => {
                let aside = path.with_extension("damaged");
                fs::rename(&path, &aside).map_err(io)?;
                tracing::warn!(file = %aside.display(), "damaged owner file set aside");
                u64::from(u32::MAX)
            }
            Err(e) => return Err(e),
        };
        let epoch = previous.saturating_add(1);
        let text = serde_json::to_vec(&OwnerFile {
            epoch,
            member: member.to_owned(),
        })
        .map_err(|e| io(std::io::Error::other(e)))?;
        auditrail_core::durable::replace_file(&path, &path.with_extension("tmp"), &text)
            .map_err(io)?;
        Ok(Owner {
            path,
            epoch,
            member: member.to_owned(),
        })
    }

    /// `Ok(None)` while this server still owns the store; `Ok(Some(owner))` names
    /// the epoch and member that took it over.
    pub(crate) fn taken_over(&self) -> Result<Option<String>, OwnerError> {
        match read(&self.path)? {
            Some(f) if f.epoch == self.epoch && f.member == self.member => Ok(None),
            Some(f) => Ok(Some(format!("epoch {} by {}", f.epoch, f.member))),
            None => Ok(Some("its owner file was removed".into())),
        }
    }

    /// This ownership's epoch.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_owner_raises_the_epoch_and_fences_the_one_before() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("topic").join("3");
        fs::create_dir_all(&store).unwrap();
        assert_eq!(owner_path(&store), store.join("owner"));
        let a = Owner::take(&store, "a").unwrap();
        assert_eq!(a.epoch(), 1);
        assert_eq!(a.taken_over().unwrap(), None);
        let b = Owner::take(&store, "b").unwrap();
        assert_eq!(b.epoch(), 2);
        assert_eq!(a.taken_over().unwrap().unwrap(), "epoch 2 by b");
        assert_eq!(b.taken_over().unwrap(), None);
        // The same member opening again is a new ownership too.
        let b2 = Owner::take(&store, "b").unwrap();
        assert!(b.taken_over().unwrap().is_some());
        assert_eq!(b2.epoch(), 3);
    }

    #[test]
    fn a_damaged_file_is_set_aside_and_the_epoch_jumps() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("t").join("0");
        fs::create_dir_all(&store).unwrap();
        fs::write(owner_path(&store), b"{not json").unwrap();
        let o = Owner::take(&store, "m").unwrap();
        assert!(o.epoch() > u64::from(u32::MAX));
        assert!(store.join("owner.damaged").exists());
    }
}
