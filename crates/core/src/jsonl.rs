//! Appending to a JSON-lines file: one writer for the node's append-only line files
//! (dead letters, here, and the receipts the eventserver target keeps).
//!
//! Such a file can end in part of a line: an append that failed part way (a full disk),
//! or a crash while the kernel had written only part of it. Appended as it is, the
//! next line would join that fragment, and neither would read back. So a file that
//! does not end with a newline gets one first: the fragment stays a line of its own,
//! which readers report by its number and skip or refuse, and the new lines read back.
//! The fragment is not cut away: several writers may append to one file, and a cut
//! could take another writer's line with it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Appends `lines` (each ending with a newline) to the file at `path`, creating it and
/// its folder if needed; ends a fragment first (see the module docs); with `fsync`,
/// syncs the file's data before returning, and, when the file was empty (new) or its
/// folder new, the folders whose new entries a power loss could otherwise take back
/// (the file's bytes are no use without its name). Blocking.
pub fn append(path: &Path, lines: &[u8], fsync: bool) -> std::io::Result<()> {
    append_keeping(path, lines, fsync).map_err(|p| p.error)
}

/// [`append`] in a folder that is there: the folder is never created, so an append
/// whose folder was removed meanwhile fails (`NotFound`) instead of making it again.
/// For a file in a folder its writer holds by a lock ([`crate::FolderLock`]: a spool's
/// `lost.jsonl`), checked before the append: a folder made again by the append would
/// hold no lock, and be nobody's. Blocking.
pub fn append_in_folder(path: &Path, lines: &[u8], fsync: bool) -> std::io::Result<()> {
    let mut kept = 0;
    append_counting(path, lines, fsync, Folder::There, &mut kept)
}

/// Whether an append creates the file's folder when it is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Folder {
    /// Created (durably, with `fsync`) when missing.
    Made,
    /// Never created: a missing folder fails the append.
    There,
}

/// An [`append_keeping`] that failed: the error, and how many bytes of the lines
/// reached the file before it (synced, with `fsync`) and are kept there.
#[derive(Debug)]
pub struct PartialAppend {
    /// The bytes of `lines`, from the start, that are in the file (their last line may
    /// be cut short: the next append ends it, see the module docs).
    pub kept: usize,
    /// Why the rest was not written (`ENOSPC` on a full disk).
    pub error: std::io::Error,
}

/// [`append`], saying on failure how much of `lines` the file holds: a full disk
/// stops the write part way, and the whole lines before that point are in the file
/// (synced, with `fsync`, before they count as kept). A caller that counts its lines
/// as written or not (dead letters) counts those as written, not lost.
pub fn append_keeping(path: &Path, lines: &[u8], fsync: bool) -> Result<(), PartialAppend> {
    let mut kept = 0;
    append_counting(path, lines, fsync, Folder::Made, &mut kept)
        .map_err(|error| PartialAppend { kept, error })
}

/// [`append`], setting `kept` to the bytes of `lines` written (and synced) so far.
fn append_counting(
    path: &Path,
    lines: &[u8],
    fsync: bool,
    folder: Folder,
    kept: &mut usize,
) -> std::io::Result<()> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent.filter(|_| folder == Folder::Made) {
        if fsync {
            crate::durable::create_dir_all(parent)?;
        } else {
            crate::file_mode::create_audit_dir_all(parent)
                .map_err(|e| crate::durable::explain_mkdir_error(parent, e))?;
        }
    }
    // Read too: to see how the file ends (writes still go to its end). Never through a
    // symbolic link put at the file's name: see `no_follow.rs`; and only a regular
    // file, opened without blocking (a FIFO there is refused: see `regular_file.rs`).
    let mut f = crate::no_follow::open_regular_replacing_link(
        // Dead letters and receipts hold events: not readable by every local user.
        crate::file_mode::audit_data(OpenOptions::new().create(true).read(true).append(true)),
        path,
    )?;
    // An empty file is new, or one whose first append failed: its name may not be
    // durable yet. So may a file an earlier run created and was killed before it
    // synced the folder: synced once per process. One folder sync per such file, not
    // per append.
    let new = f.metadata()?.len() == 0;
    if !ends_a_line(&mut f)? {
        f.write_all(b"\n")?;
    }
    // Not `write_all`: it does not say how much it wrote before it failed.
    let mut written = 0;
    let mut failed = None;
    while written < lines.len() {
        match f.write(&lines[written..]) {
            Ok(0) => {
                failed = Some(std::io::Error::from(std::io::ErrorKind::WriteZero));
                break;
            }
            Ok(n) => written += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    if fsync {
        // What was written is synced also when the rest failed: then it is kept.
        f.sync_data()?;
        if new {
            crate::durable::sync_dir(parent.unwrap_or(Path::new(".")))?;
            crate::durable::made_durable(path);
        } else {
            crate::durable::sync_entry_once(path)?;
        }
    }
    *kept = written;
    failed.map_or(Ok(()), Err)
}

/// Whether the file is empty or its last byte is a newline.
fn ends_a_line(f: &mut File) -> std::io::Result<bool> {
    if f.seek(SeekFrom::End(0))? == 0 {
        return Ok(true);
    }
    f.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    f.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::durable::tests::{fail_sync_of, take_synced, take_synced_under};

    /// A FIFO where dead letters go: refused as what it is (it failed as "Illegal
    /// seek"; on other systems its open could block).
    #[cfg(unix)]
    #[test]
    fn a_fifo_at_the_file_is_refused_as_not_a_regular_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("deadletter.jsonl");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &path,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let e = append(&path, b"{}\n", true).unwrap_err();
        assert!(crate::regular_file::is_not_regular(&e), "{e}");
    }

    #[test]
    fn a_file_created_by_a_synced_append_has_its_name_made_durable() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("receipts");
        let path = dir.join("receipts.jsonl");
        take_synced();
        append(&path, b"{\"a\":1}\n", true).unwrap();
        let mut synced = take_synced_under(tmp.path());
        synced.sort();
        // The new folder's entry in its parent, and the new file's in the folder.
        assert_eq!(synced, vec![tmp.path().to_path_buf(), dir.clone()]);
        append(&path, b"{\"a\":2}\n", true).unwrap();
        assert_eq!(
            take_synced_under(tmp.path()),
            Vec::<std::path::PathBuf>::new(),
            "nothing new to sync"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"a\":1}\n{\"a\":2}\n");
    }

    /// A run killed after creating the file and its first line, before it synced the
    /// folder: the first synced append of this process syncs it (later ones do not).
    #[test]
    fn a_file_an_earlier_run_created_has_its_name_made_durable_by_the_first_append() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("dead-letters");
        let path = dir.join("dead-letters.jsonl");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&path, b"{\"a\":1}\n").unwrap();
        take_synced();
        append(&path, b"{\"a\":2}\n", true).unwrap();
        let mut synced = take_synced_under(tmp.path());
        synced.sort();
        assert_eq!(synced, vec![tmp.path().to_path_buf(), dir.clone()]);
        append(&path, b"{\"a\":3}\n", true).unwrap();
        assert_eq!(
            take_synced_under(tmp.path()),
            Vec::<std::path::PathBuf>::new()
        );
    }

    /// The folder removed before the append (by another program, after its writer
    /// checked it): not made again, the append fails and writes nothing.
    #[test]
    fn an_append_in_a_folder_that_is_gone_does_not_make_it_again() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("spool");
        let path = dir.join("lost.jsonl");
        std::fs::create_dir(&dir).unwrap();
        append_in_folder(&path, b"{\"a\":1}\n", true).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        for fsync in [true, false] {
            let e = append_in_folder(&path, b"{\"a\":2}\n", fsync).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::NotFound, "{e}");
            assert!(!dir.exists(), "the folder was made again");
        }
    }

    #[test]
    fn a_failed_folder_sync_fails_the_append_that_created_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("dead-letters.jsonl");
        fail_sync_of(Some(tmp.path()));
        let result = append(&path, b"{}\n", true);
        fail_sync_of(None);
        assert!(result.is_err(), "{result:?}");
    }
}
