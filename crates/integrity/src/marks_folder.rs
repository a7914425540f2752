//! Where a store's high-water mark and acceptance history are kept (`high-water.jsonl`,
//! `acceptances.jsonl`): the one answer for the server, `verify`, `store prune`, `store
//! accept` and `keys rotate`, whichever folder or path they were given.
//!
//! - A store of the server (a `store` destination): in the server's data dir.
//! - A Kafka source's partition store, `<store_root>/<topic>/<partition>/store`: in its
//!   partition folder, beside it, which moves from server to server with the partition
//!   (docs/scale-out.md). A partition folder is told by its shape and its files: the
//!   store's folder is named `store`, the folder above it is named by a partition
//!   number and holds the partition's `owner` file (written at every open, before the
//!   store's mark) or its `high-water.jsonl`. Its files, not a marks file alone: a
//!   partition store whose marks file was removed keeps its place, and is refused
//!   there ("no high-water mark") rather than looked up in the data dir's file, which
//!   never names it.

use std::path::{Path, PathBuf};

use crate::high_water::{dir_and_parents, HIGH_WATER_FILE};

/// The name of a partition store's folder in its partition folder.
pub const PARTITION_STORE_FOLDER: &str = "store";
/// The owner file of a partition folder (the owner epoch of the partition store).
pub const PARTITION_OWNER_FILE: &str = "owner";

/// How deep below a folder [`find_partition_stores`] looks for partition folders
/// (`<store_root>/<topic>/<partition>`, the store root itself up to three folders down).
const PARTITION_DEPTH: usize = 5;

/// The partition folder of `store` when it is a Kafka source's partition store
/// (see the module docs), as the file system resolves it; `None` for any other store.
pub fn partition_folder(store: &Path) -> Option<PathBuf> {
    // [the store resolved, the folder above it]; a store folder that is a symbolic
    // link is named by the link, the folder above the link first.
    let folders = dir_and_parents(store, 1);
    let (real, above) = match folders.as_slice() {
        [real, above, ..] => (real, above),
        _ => return None,
    };
    let is_partition = |above: &Path| {
        above
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.parse::<i32>().is_ok_and(|p| p >= 0))
            && (above.join(PARTITION_OWNER_FILE).is_file() || above.join(HIGH_WATER_FILE).is_file())
    };
    (real
        .file_name()
        .is_some_and(|n| n == PARTITION_STORE_FOLDER)
        && is_partition(above))
    .then(|| above.clone())
}

/// The folder holding the marks of the store at `store` for a server whose data dir is
/// `data_dir`: its partition folder for a partition store, else `data_dir` (as given).
/// A store right in a data dir that looks like a partition folder (a data dir named
/// `0` holding the default `store`) is the data dir's: the same folder either way.
pub fn marks_folder(data_dir: &Path, store: &Path) -> PathBuf {
    match partition_folder(store) {
        Some(folder) if !dir_and_parents(data_dir, 0).contains(&folder) => folder,
        _ => data_dir.to_path_buf(),
    }
}

/// The stores at or under `dir`, sorted: [`auditrail_store::root::find_stores`]'s (the
/// data dir's `store` destinations, three levels down) and the partition stores of the
/// Kafka sources whose `store_root` is inside `dir` ([`find_partition_stores`], deeper).
/// What every command given a data dir works on (verify, prove, store prune and accept,
/// keys rotate): one that left the partition stores out would pass, prune or re-key
/// the data dir without them, saying nothing.
pub fn stores_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = auditrail_store::root::find_stores(dir);
    // A store is not walked into: its partition folders are time partitions.
    if auditrail_store::root::is_store(dir) {
        return found;
    }
    for p in find_partition_stores(dir) {
        if !found.contains(&p) {
            found.push(p);
        }
    }
    found.sort();
    found
}

/// The partition stores under `dir` (`<partition folder>/store` of every partition
/// folder found up to a few folders down), sorted: those of the Kafka sources whose
/// `store_root` is inside `dir`, for the operator commands given a data dir rather
/// than a config. Stores are not walked into. Walked as the data dir's stores are
/// ([`auditrail_store::root::walk_folders`]): a partition folder, or a folder above
/// it, moved to another disk with a link left at its path is found, once, and a link
/// back up ends the walk there. Before, links were not followed at all (for fear of
/// loops), and such a partition store was left out of `verify` and `store prune`
/// without a word.
pub fn find_partition_stores(dir: &Path) -> Vec<PathBuf> {
    use auditrail_store::root::{is_store, walk_folders, Met};
    walk_folders(dir, PARTITION_DEPTH, |path| {
        if is_store(path) {
            return Met::Skip;
        }
        let store = path.join(PARTITION_STORE_FOLDER);
        if is_store(&store) && partition_folder(&store).is_some() {
            Met::Found(store)
        } else {
            Met::Descend
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::fs;

    #[test]
    fn a_partition_store_keeps_its_marks_in_its_partition_folder_even_without_a_marks_file() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let partition = data.join("parts/topic/3");
        let store = partition.join("store");
        fs::create_dir_all(&store).unwrap();
        // A store folder alone: not yet a partition folder's.
        assert_eq!(marks_folder(&data, &store), data);
        fs::write(partition.join(PARTITION_OWNER_FILE), "{}").unwrap();
        let real = partition.canonicalize().unwrap();
        assert_eq!(marks_folder(&data, &store), real);
        // Spelt with `..`: the same folder.
        let spelt = partition.join("../3/store");
        assert_eq!(marks_folder(&data, &spelt), real);
    }

    #[test]
    fn a_store_destination_keeps_its_marks_in_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        // A data dir named like a partition, with its marks: its default store.
        let data = dir.path().join("0");
        fs::create_dir_all(data.join("store")).unwrap();
        fs::write(data.join(HIGH_WATER_FILE), "").unwrap();
        assert_eq!(marks_folder(&data, &data.join("store")), data);
        // A destination named `store` in a folder not named by a number.
        fs::create_dir_all(data.join("a/store")).unwrap();
        fs::write(data.join("a").join(PARTITION_OWNER_FILE), "{}").unwrap();
        assert_eq!(marks_folder(&data, &data.join("a/store")), data);
    }
}
