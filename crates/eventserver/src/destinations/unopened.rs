//! A store destination that cannot be opened at start, told by the kind of its
//! error: an I/O error on the store's own files (a partition folder, a segment or its
//! checkpoint log the server may not read: a restore with the wrong owner or mode, a
//! damaged disk) is that store's problem, and the store is held while the others
//! serve (docs/tamper-evidence.md, "A damaged store is held; the others serve"). What
//! is the operator's to fix in the configuration or the host (a store path that names
//! a file, another writer holding the store, folders of another layout, no file
//! descriptor left in the process) refuses the start as before.

use std::path::Path;

use auditrail_store::StoreError;

/// The OS error of `e`, without its path, when `e` is the store's own problem (the
/// store at `root` is then held); `None` when it refuses the start.
pub(super) fn held_for(e: &StoreError, root: &Path) -> Option<String> {
    let StoreError::Io { path, source } = e else {
        return None;
    };
    use std::io::ErrorKind;
    let names_a_file = matches!(
        source.kind(),
        ErrorKind::NotADirectory | ErrorKind::AlreadyExists
    );
    if names_a_file && (path == root || root.ends_with(path) || path.ends_with(root)) {
        // The configured `path` is a file, not a folder: the configuration's error.
        return None;
    }
    Some(source.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io(path: &str, errno: i32) -> StoreError {
        StoreError::Io {
            path: path.into(),
            source: std::io::Error::from_raw_os_error(errno),
        }
    }

    #[test]
    fn an_unreadable_file_of_the_store_holds_it_and_a_root_that_is_a_file_refuses() {
        let root = Path::new("/data/a");
        assert_eq!(
            held_for(&io("/data/a/generic/r1", 13), root).as_deref(),
            Some("Permission denied (os error 13)")
        );
        assert!(held_for(&io("/data/a/generic/x.jsonl", 5), root).is_some());
        // ENOTDIR, EEXIST on the root: the configured path names a file.
        assert_eq!(held_for(&io("/data/a", 20), root), None);
        assert_eq!(held_for(&io("/data/a", 17), root), None);
        assert_eq!(
            held_for(
                &StoreError::Locked {
                    root: root.to_owned()
                },
                root
            ),
            None
        );
    }
}
