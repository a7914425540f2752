//! The prune reserves of one store (see [`auditrail_store::reserve`]): where a pass
//! writes its evidence, the room it may take on a full disk.
//!
//! A pass writes in the store's folder (the deletion line, `.deleted-seqs.jsonl`) and in
//! the folder of its high-water mark (the data dir, or a partition store's partition
//! folder). One reserve in the store's folder makes room for both while they share a
//! file system; a mark's folder on another file system gets its own.

use std::path::{Path, PathBuf};

use auditrail_store::{Reserve, DELETED_SEQS_FILE};

use super::high_water::HighWaterMarks;

/// The reserves a store's prune may release.
#[derive(Debug, Clone, Default)]
pub(crate) struct PruneReserves {
    /// Each reserve, with the files a pass rewrites whole on its file system.
    places: Vec<(Reserve, Vec<PathBuf>)>,
}

impl PruneReserves {
    /// The reserves of the store at `store`, whose mark is in `marks`.
    pub(crate) fn of(store: &Path, marks: Option<&HighWaterMarks>) -> PruneReserves {
        let mut in_store = vec![store.join(DELETED_SEQS_FILE)];
        let mut places = Vec::new();
        if let Some(marks) = marks {
            if same_file_system(store, marks.folder()) {
                in_store.push(marks.path().to_path_buf());
            } else {
                places.push((
                    Reserve::in_folder(marks.folder()),
                    vec![marks.path().to_path_buf()],
                ));
            }
        }
        places.insert(0, (Reserve::in_folder(store), in_store));
        PruneReserves { places }
    }

    /// The store's reserve (the one named in messages).
    pub(crate) fn main_path(&self) -> Option<&Path> {
        self.places.first().map(|(r, _)| r.path())
    }

    /// Makes each reserve missing (or too small). A reserve that cannot be made is
    /// said and is no error: the store works without it, and a prune on a full disk
    /// then says there was none.
    pub(crate) fn ensure(&self) {
        for (reserve, rewritten) in &self.places {
            match reserve.ensure(Reserve::bytes_for(rewritten)) {
                Ok(true) => {
                    tracing::info!(reserve = %reserve.path().display(), "made the prune reserve (room for a prune's records on a full disk)")
                }
                Ok(false) => {}
                Err(e) if e.is_disk_full() => {
                    tracing::warn!(reserve = %reserve.path().display(), error = %e, "the prune reserve cannot be made: the file system is full; a prune on a full disk will need space freed first. It is made at the next start or prune once there is room")
                }
                Err(e) => {
                    tracing::warn!(reserve = %reserve.path().display(), error = %e, "the prune reserve cannot be made; a prune on a full disk will need space freed first")
                }
            }
        }
    }

    /// Removes every reserve (a pass met a full disk writing its evidence), each said.
    /// Whether any was there.
    pub(crate) fn release(&self, store: &Path) -> bool {
        let mut any = false;
        for (reserve, _) in &self.places {
            match reserve.release() {
                Ok(true) => {
                    any = true;
                    tracing::warn!(store = %store.display(), reserve = %reserve.path().display(), "the file system is full: released the prune reserve to write the record of the deletion; it is made again once the pass removed its files");
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(store = %store.display(), error = %e, "the prune reserve cannot be removed")
                }
            }
        }
        any
    }
}

/// Whether `a` and `b` are on one file system (unknown: taken as one, so that no
/// second reserve is made for a folder that may not exist yet).
fn same_file_system(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev(),
        _ => true,
    }
}
