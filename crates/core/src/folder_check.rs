//! A check, given by whoever owns the folder a dispatcher keeps its files under, that
//! this folder is still the one it opened ([`FolderCheck`],
//! `DispatcherBuilder::folder_check`).
//!
//! A dispatcher makes folders again at run time by design: a run folder, spool folder,
//! sequence-file folder or dead-letter folder removed under a running node (a cleanup
//! job's `rm -rf`) is created again, so that the node goes on. That is right for a
//! folder removed inside a folder that is still there. It is wrong when the folder
//! *holding* them was moved away as a whole (an event server's data folder, `mv data
//! data.moved`, with the witness dispatcher's spool and sequence file inside): making
//! the sub-folder again brings the moved folder back at its path, holding only that
//! sub-folder, with the process's state split across two folders (`mv data.moved data`
//! then fails or nests). So every place that would create a folder (or write a file)
//! under the dispatcher's folder at run time asks this check first, and refuses with
//! [`FolderGone`] (naming the folder) while it fails.

use std::path::PathBuf;

/// Whether the folder a dispatcher's files live under is still in place. Implemented by
/// its owner (the event server: its data folder's check); one `stat` per call, asked
/// only before a folder is created or a state file replaced, never per event.
pub trait FolderCheck: Send + Sync + std::fmt::Debug {
    /// `Ok` while the folder is the one the owner opened; [`FolderGone`] while it is
    /// moved away, removed or another folder is at its path.
    fn check(&self) -> Result<(), FolderGone>;
}

/// The folder a dispatcher's files live under is not at its path (moved away, removed,
/// or another folder put there): nothing is created or written under it.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "the data folder {}: {found}: nothing is created under it (a folder made there would \
     bring the folder moved away back at its path, the state split across the two); this \
     waits until it is back",
    folder.display()
)]
pub struct FolderGone {
    /// The folder (the data folder).
    pub folder: PathBuf,
    /// What its owner found at its path (gone, another folder).
    pub found: String,
}

impl FolderGone {
    /// As an I/O error (for the writers that return one), kept as its source.
    pub fn into_io(self) -> std::io::Error {
        std::io::Error::other(self)
    }
}

/// Asks `check`, when there is one, as an I/O error (see [`FolderGone::into_io`]).
pub fn ask(check: Option<&dyn FolderCheck>) -> std::io::Result<()> {
    match check {
        Some(c) => c.check().map_err(FolderGone::into_io),
        None => Ok(()),
    }
}
