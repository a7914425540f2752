//! The target's folder removed or moved away under the running target (`rm -rf audit`,
//! a cleanup job that takes the folder with it; `mv audit audit.old`, an archiving job).
//!
//! Every file the target had open then leaves the folder's path. The checks of
//! `active.rs` find the active file gone and open its path again, which needs the
//! folder: without it every batch would fail for ever (retried, the queue filling,
//! emitters blocked). So the folder is created again, durably as at start (its parent
//! fsynced: the new files' names hang on it), and writing goes on in new files.
//!
//! Whether the old files are lost depends on what happened to the folder, and the
//! files the target holds open tell it: a file that still has a name somewhere (link
//! count above zero) went away with its folder, which was moved (renamed), not removed,
//! and every line in it is intact there; `/proc/self/fd` says where. Then an INFO says
//! so, as for a file moved away (`mod.rs`); only when no file held has a name left
//! does a warning say the folder was removed and what its files held is lost. The
//! size rotation's lock file lived there too: `size.rs` opens it again.
//!
//! Not when the folder *holding* it is gone too, and its owner's check says so
//! ([`auditrail_core::FolderCheck`], given as `BuildContext::folder_check`: an event
//! server's data folder, which holds a `file` destination's default folder, moved away
//! while the server runs). Making the audit folder again would bring the data folder
//! back at its path holding only it (`mv data.moved data` would then nest it), so
//! nothing is made and the write fails, retryably, naming the data folder; once it is
//! moved back, the audit folder is there again and writing goes on in it.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::WriteError;

/// The check of the folder holding the target's folder, when its owner gave one.
pub(crate) type Check<'a> = Option<&'a dyn auditrail_core::FolderCheck>;

/// What became of the folder, told by the files of it the target holds open.
#[derive(Debug, PartialEq, Eq)]
enum Fate {
    /// No file held has a name left (or none was held): removed.
    Removed,
    /// A file held still has a name: the folder was moved; the file's new path when
    /// the system says it.
    Moved(Option<PathBuf>),
}

fn fate(held: &[&File]) -> Fate {
    for file in held {
        if file.metadata().is_ok_and(|m| m.nlink() > 0) {
            let now = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).ok();
            return Fate::Moved(now);
        }
    }
    Fate::Removed
}

/// Creates `dir` again when nothing is at its path any more; `true` when it did. A
/// path that exists (a folder, or something else, whose open then fails naming it)
/// is left alone. `held`: the files of `dir` the target has open (see the module
/// docs), none when it holds none. `check`: the check of the folder holding `dir`
/// (see the module docs), asked only when `dir` is gone.
pub(crate) fn recreate_if_gone(
    dir: &Path,
    held: &[&File],
    check: Check<'_>,
) -> Result<bool, WriteError> {
    match std::fs::symlink_metadata(dir) {
        Ok(_) => return Ok(false),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(WriteError::new(dir, "stat", e)),
    }
    // Gone with the folder holding it (the event server's data folder moved away):
    // made again, it would bring that folder back at its path. The write fails
    // (retried) naming the data folder, until it is back.
    auditrail_core::folder_check::ask(check)
        .map_err(|e| WriteError::new(dir, "create the folder again", e))?;
    let fate = fate(held);
    auditrail_core::durable::create_dir_all(dir)
        .map_err(|e| WriteError::new(dir, "create the folder", e))?;
    match fate {
        Fate::Moved(now) => tracing::info!(
            folder = %dir.display(),
            file_now_at = %now.as_deref().map_or_else(|| "(not known)".into(), |p| p.display().to_string()),
            "the audit folder was moved away by another program while the target was running \
             (a file of it the target had open still has a name: file_now_at): nothing written \
             is lost; the folder is created again and writing goes on in new files"
        ),
        Fate::Removed => tracing::warn!(
            folder = %dir.display(),
            "the audit folder was removed by another program while the target was running: \
             it is created again and writing goes on in new files; the audit lines the \
             removed files held are lost from this node"
        ),
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The log lines `f` writes (this thread's, at every level).
    fn logged(f: impl FnOnce()) -> String {
        auditrail_core::testing::logged(f).1
    }

    #[test]
    fn a_folder_moved_away_is_not_reported_lost() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("audit");
        std::fs::create_dir(&dir).unwrap();
        let file = File::create(dir.join("audit.log")).unwrap();
        let old = tmp.path().join("audit.old");
        std::fs::rename(&dir, &old).unwrap();
        let log = logged(|| assert!(recreate_if_gone(&dir, &[&file], None).unwrap()));
        assert!(dir.is_dir());
        assert!(
            log.contains(" INFO ") && log.contains("moved away"),
            "{log}"
        );
        assert!(!log.contains("lost from"), "{log}");
        if Path::new("/proc/self/fd").is_dir() {
            let now = old.join("audit.log");
            assert!(log.contains(&now.display().to_string()), "{log}");
        }
    }

    #[test]
    fn a_folder_removed_is_reported_lost() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("audit");
        std::fs::create_dir(&dir).unwrap();
        let file = File::create(dir.join("audit.log")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let log = logged(|| assert!(recreate_if_gone(&dir, &[&file], None).unwrap()));
        assert!(
            log.contains(" WARN ") && log.contains("was removed"),
            "{log}"
        );
        assert!(log.contains("lost from this node"), "{log}");
    }

    #[test]
    fn only_a_missing_folder_is_created() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("audit");
        assert!(recreate_if_gone(&dir, &[], None).unwrap());
        assert!(dir.is_dir());
        assert!(!recreate_if_gone(&dir, &[], None).unwrap());
    }

    /// The folder holding the audit folder, as its owner's check sees it: there when
    /// it is a folder.
    #[derive(Debug)]
    struct Holder(PathBuf);

    impl auditrail_core::FolderCheck for Holder {
        fn check(&self) -> Result<(), auditrail_core::FolderGone> {
            if self.0.is_dir() {
                return Ok(());
            }
            Err(auditrail_core::FolderGone {
                folder: self.0.clone(),
                found: "the folder is gone".into(),
            })
        }
    }

    /// Only the audit folder removed, the folder holding it there: made again, as
    /// without a check. The folder holding it moved away: nothing made at either path,
    /// and the error names the folder holding it.
    #[test]
    fn the_folder_is_made_again_only_while_the_folder_holding_it_is_there() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let dir = data.join("audit");
        std::fs::create_dir_all(&dir).unwrap();
        let check = Holder(data.clone());
        std::fs::remove_dir(&dir).unwrap();
        assert!(recreate_if_gone(&dir, &[], Some(&check)).unwrap());
        assert!(dir.is_dir());

        std::fs::rename(&data, tmp.path().join("data.moved")).unwrap();
        let e = recreate_if_gone(&dir, &[], Some(&check)).unwrap_err();
        assert!(!data.exists());
        let said = e.to_string();
        assert!(
            said.contains(&format!("the data folder {}", data.display())),
            "{said}"
        );
    }
}
