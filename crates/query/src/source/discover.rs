//! Finding the sources under a folder: an event server's data dir (its stores), one
//! store, or a node's audit folder.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::Source;
use crate::error::QueryError;
use auditrail_store::{parse_segment_file_name, StoreFiles, CHECKPOINT_LOG, STORE_ID_FILE};

/// Files that only a store's root holds (its id and its checkpoint log).
const STORE_ROOT_MARKERS: [&str; 2] = [STORE_ID_FILE, CHECKPOINT_LOG];

/// The sources under `dir`:
/// - every folder holding a store's root files (`store-id`, `checkpoints.jsonl`) is a
///   store (a server data dir with several destinations gives several);
/// - when there is none but segment files are there, `dir` itself is a store;
/// - every other folder holding audit files (as a `file` target writes them, whatever
///   its `file_name`: see auditrail-target-file's `scan_audit_folder`) is a node's
///   audit folder.
///
/// An error when nothing is found, so that a mistyped folder is not an empty answer.
pub fn discover(dir: &Path) -> Result<Vec<Source>, QueryError> {
    if !dir.is_dir() {
        return Err(QueryError::not_a_folder(
            dir,
            "a data dir, a store or an audit folder",
        ));
    }
    let mut found = Found::default();
    walk(dir, &mut found, &mut HashSet::new())?;
    let mut sources: Vec<Source> = found.stores.into_iter().map(Source::Store).collect();
    if sources.is_empty() && found.segments {
        sources.push(Source::Store(dir.to_path_buf()));
    } else if found.segments {
        tracing::warn!(
            dir = %dir.display(),
            "segment files outside every store that has a store-id are not read; name their store with --store"
        );
    }
    sources.extend(found.audit_dirs.into_iter().map(Source::AuditDir));
    if sources.is_empty() {
        return Err(QueryError::NothingFound {
            path: dir.to_path_buf(),
        });
    }
    Ok(sources)
}

/// Checks that `root`, named as a store, holds one: a store's root files (`store-id`,
/// `checkpoints.jsonl`) or segment files. A folder that holds neither (a mistyped path,
/// the mount point of a volume that is not mounted) is an error naming it, so that it
/// is never read as a store without events ("no activity").
pub fn check_store(root: &Path) -> Result<(), QueryError> {
    if !root.is_dir() {
        return Err(QueryError::not_a_folder(root, "a store"));
    }
    if STORE_ROOT_MARKERS.iter().any(|m| root.join(m).is_file()) {
        return Ok(());
    }
    let files = StoreFiles::walk(root).map_err(QueryError::Store)?;
    if files.segments().next().is_some() {
        return Ok(());
    }
    Err(QueryError::NotAStore {
        path: root.to_path_buf(),
    })
}

#[derive(Default)]
struct Found {
    stores: Vec<PathBuf>,
    audit_dirs: Vec<PathBuf>,
    segments: bool,
}

/// Walks `dir` and the folders below it, symbolic links to folders followed (a store
/// moved to another disk with a link left at its path is read, as `verify` and `serve`
/// read it), each folder once: `visited` holds the folders walked, as the file system
/// resolves them, so that a link leading back up ends the walk there instead of
/// looping.
fn walk(dir: &Path, found: &mut Found, visited: &mut HashSet<PathBuf>) -> Result<(), QueryError> {
    let io = |source| QueryError::Io {
        path: dir.to_path_buf(),
        source,
    };
    if !visited.insert(dir.canonicalize().map_err(io)?) {
        return Ok(());
    }
    let entries: Vec<(String, bool)> = auditrail_store::root::folder_entries(dir)
        .map_err(io)?
        .into_iter()
        .filter_map(|e| {
            let name = e.path.file_name()?.to_str()?.to_owned();
            Some((name, e.is_folder))
        })
        .collect();
    if entries
        .iter()
        .any(|(n, d)| !d && STORE_ROOT_MARKERS.contains(&n.as_str()))
    {
        found.stores.push(dir.to_path_buf());
        return Ok(());
    }
    let mut other_files = false;
    for (name, is_dir) in &entries {
        if *is_dir {
            walk(&dir.join(name), found, visited)?;
        } else if parse_segment_file_name(name).is_some() {
            found.segments = true;
        } else {
            other_files = true;
        }
    }
    if other_files && super::audit::holds_audit_files(dir)? {
        found.audit_dirs.push(dir.to_path_buf());
    }
    Ok(())
}
