//! `rotation = "size"` and `"never"`: tracing-appender (`Rotation::NEVER`) on
//! `<dir>/<file_name>`, rolled by size under an inter-process lock.
//!
//! Lock protocol (`flock(2)` on `<dir>/.<file_name>.lock`):
//! - a write holds the lock *shared*: it first checks that its descriptor still names
//!   the file at `<dir>/<file_name>` (another process may have rolled it) and reopens
//!   if not, then writes, fsyncs, and checks again that the path names the file it
//!   wrote (an operator or a rotation tool, outside this protocol, may have deleted or
//!   moved it meanwhile: see `active.rs`);
//! - a roll holds it *exclusive*: it re-checks the size (another process may have
//!   rolled already), then renames `file.N-1` → … → `file.1`, `file` → `file.1`,
//!   deleting the oldest beyond `max_files`; never onto a file that is there
//!   (`no_replace.rs`).
//!
//! So no write ever lands in a file that is being renamed or deleted, and several
//! processes sharing the folder roll it once.
//!
//! The lock file itself may go (removed with the folder, see `folder.rs`, or alone):
//! a process that opens it afterwards would lock a new file at the path while this one
//! locks the unlinked one, and each would roll as if alone. So every write first checks
//! that the lock file it holds is still the one at the path, and opens the one there
//! (creating it) when not.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use auditrail_core::durable::{why_not_at, Expected};
use auditrail_core::{BuildError, FolderCheck};
use rustix::fs::{flock, FlockOperation};

use super::active::ActiveFile;
use super::no_replace::rename_no_replace;
use super::{append_checked, current, open_append, WriteError};

pub(super) struct SizeRolled {
    dir: PathBuf,
    file_name: String,
    path: PathBuf,
    lock_path: PathBuf,
    max_bytes: Option<u64>,
    max_files: usize,
    lock: File,
    active: Option<ActiveFile>,
    /// The check of the folder holding `dir` (see `folder.rs`).
    check: Option<Arc<dyn FolderCheck>>,
}

/// Holds an flock until dropped.
struct Locked<'a>(&'a File);

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        let _ = flock(self.0, FlockOperation::Unlock);
    }
}

fn lock<'a>(file: &'a File, op: FlockOperation, path: &Path) -> Result<Locked<'a>, WriteError> {
    loop {
        match flock(file, op) {
            Ok(()) => return Ok(Locked(file)),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(WriteError::new(path, "lock", e.into())),
        }
    }
}

impl SizeRolled {
    pub(super) fn open(
        dir: &Path,
        file_name: &str,
        max_bytes: Option<u64>,
        max_files: usize,
        check: Option<Arc<dyn FolderCheck>>,
    ) -> Result<SizeRolled, BuildError> {
        // Probe now, so that an unwritable folder fails the build naming the file.
        open_append(&dir.join(file_name))?;
        let lock_path = dir.join(crate::naming::lock_name(file_name));
        let lock_file = open_append(&lock_path)?;
        let mut s = SizeRolled {
            dir: dir.to_path_buf(),
            file_name: file_name.to_owned(),
            path: dir.join(file_name),
            lock_path,
            max_bytes,
            max_files,
            lock: lock_file,
            active: None,
            check,
        };
        let opened = {
            let _guard = lock(&s.lock, FlockOperation::LockShared, &s.lock_path).map_err(|e| {
                BuildError::Io {
                    path: e.path,
                    source: e.source,
                }
            })?;
            ActiveFile::open(&s.dir, &s.file_name, true, s.check.as_deref())
        };
        s.active = Some(opened.map_err(|e| BuildError::Io {
            path: e.path,
            source: e.source,
        })?);
        Ok(s)
    }

    /// The open file, if any.
    pub(super) fn active_mut(&mut self) -> Option<&mut ActiveFile> {
        self.active.as_mut()
    }

    pub(super) fn append(&mut self, lines: &[u8], fsync: bool) -> Result<(), WriteError> {
        self.reopen_lock_if_gone()?;
        let len = {
            let _guard = lock(&self.lock, FlockOperation::LockShared, &self.lock_path)?;
            append_checked(
                &mut self.active,
                &self.dir,
                &self.file_name,
                lines,
                fsync,
                self.check.as_deref(),
            )?;
            self.active.as_ref().and_then(|a| a.len().ok()).unwrap_or(0)
        };
        if self.max_bytes.is_some_and(|max| len >= max) {
            // The batch is written (and synced): a failed roll must not fail it, or
            // it would be written twice. The next write tries the roll again.
            if let Err(e) = self.roll() {
                tracing::error!(error = %e, "cannot roll the audit file; it keeps growing");
            }
        }
        Ok(())
    }

    /// Opens the lock file at its path (creating it, and the folder when that is gone
    /// too) when the one held is no longer there: see the module docs.
    fn reopen_lock_if_gone(&mut self) -> Result<(), WriteError> {
        let Some(why) = why_not_at(&self.lock, &self.lock_path, Expected::AtLeast(0)) else {
            return Ok(());
        };
        // The audit file first: its new path is the one worth naming.
        let mut held: Vec<&File> = self.active.iter().map(ActiveFile::handle).collect();
        held.push(&self.lock);
        let folder_recreated =
            super::folder::recreate_if_gone(&self.dir, &held, self.check.as_deref())?;
        // As at start (`open_append`): never a FIFO, never through a link.
        self.lock = auditrail_core::no_follow::open_regular_replacing_link(
            auditrail_core::file_mode::audit_data(OpenOptions::new().append(true).create(true)),
            &self.lock_path,
        )
        .map_err(|e| WriteError::new(&self.lock_path, "open", e))?;
        if !folder_recreated {
            tracing::warn!(
                path = %self.lock_path.display(),
                %why,
                "the size rotation's lock file was removed by another program: the one now \
                 at its path is used, so that the writers sharing the folder coordinate their \
                 rolls again"
            );
        }
        Ok(())
    }

    /// The size-rolled files `<file_name>.N` of the folder with `N >= from`, always
    /// including `<file_name>.<from>` itself (whether it exists or not).
    fn rolled_from(&self, from: usize) -> Vec<PathBuf> {
        let mut found = vec![self
            .dir
            .join(crate::naming::rolled_name(&self.file_name, from))];
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return found;
        };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(crate::naming::Role::Rolled(n)) = crate::naming::role(name, &self.file_name)
            {
                if usize::try_from(n).is_ok_and(|n| n > from) {
                    found.push(entry.path());
                }
            }
        }
        found
    }

    fn roll(&mut self) -> Result<(), WriteError> {
        let max = self.max_bytes.unwrap_or(u64::MAX);
        let _guard = lock(&self.lock, FlockOperation::LockExclusive, &self.lock_path)?;
        let len = current(
            &mut self.active,
            &self.dir,
            &self.file_name,
            self.check.as_deref(),
        )?
        .len()?;
        if len < max {
            return Ok(()); // another process rolled it meanwhile
        }
        let rolled = |n: usize| {
            self.dir
                .join(crate::naming::rolled_name(&self.file_name, n))
        };
        // The oldest, and any older still: files beyond a `max_files` that was lowered
        // since they were rolled (`audit.log.5` after 6 became 3) would otherwise stay
        // for ever, never shifted nor removed, and the folder outgrow its bound.
        for oldest in self.rolled_from(self.max_files - 1) {
            match fs::remove_file(&oldest) {
                Ok(()) => {
                    tracing::info!(path = %oldest.display(), "removed the oldest audit file (max_files)")
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(WriteError::new(&oldest, "remove", e)),
            }
        }
        #[cfg(test)]
        tests::before_renames();
        // Never onto a file: one that appeared at a destination since the removal
        // above (a rotation tool, another program outside the lock) is kept and the
        // roll stops, naming both files; the next write rolls again, and shifts it up
        // with the others (`no_replace.rs`).
        for n in (1..self.max_files - 1).rev() {
            match rename_no_replace(&rolled(n), &rolled(n + 1)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(WriteError::new(&rolled(n), "rename", e)),
            }
        }
        rename_no_replace(&self.path, &rolled(1))
            .map_err(|e| WriteError::new(&self.path, "rename", e))?;
        self.active = None;
        self.active = Some(ActiveFile::open(
            &self.dir,
            &self.file_name,
            false,
            self.check.as_deref(),
        )?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::cell::RefCell;

    use super::*;

    thread_local! {
        /// Run by a roll between its removal of the oldest files and its renames: where
        /// another program racing the roll would put a file.
        static BEFORE_RENAMES: RefCell<Option<Box<dyn FnMut()>>> = RefCell::new(None);
    }

    pub(super) fn before_renames() {
        BEFORE_RENAMES.with(|h| {
            if let Some(f) = h.borrow_mut().as_mut() {
                f();
            }
        });
    }

    /// Every line of every file of `dir` but the lock file, sorted.
    fn lines_in(dir: &Path) -> Vec<String> {
        let mut found: Vec<String> = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            if !e.file_name().to_str().unwrap().starts_with('.') {
                let text = std::fs::read_to_string(e.path()).unwrap();
                found.extend(text.lines().map(str::to_owned));
            }
        }
        found.sort();
        found
    }

    /// A file that another program puts at a roll's destination while it rolls
    /// (logrotate's `audit.log.1`, a copy job's), after the roll removed the oldest
    /// file, is never replaced: plain `rename` deleted it, and the acknowledged lines it
    /// held, without a word. The roll stops, naming both files, every line where it
    /// was, and the next roll goes on.
    #[test]
    fn a_file_put_at_a_rolls_destination_is_never_replaced() {
        // `audit.log.1`: the destination of `audit.log` itself (`max_files` 2);
        // `audit.log.2`: that of the shift of `audit.log.1` (`max_files` 3, at the
        // second roll). Each is the name the roll has just freed.
        for (racer, max_files, rolls_before) in [("audit.log.1", 2, 0), ("audit.log.2", 3, 1)] {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path();
            let mut s = SizeRolled::open(dir, "audit.log", Some(10), max_files, None).unwrap();
            let mut written = Vec::new();
            for i in 0..rolls_before {
                let line = format!("{{\"ours\":{i}}}");
                s.append(format!("{line}\n").as_bytes(), false).unwrap();
                written.push(line);
            }
            let at = dir.join(racer);
            let theirs = "{\"theirs\":1}";
            let put = at.clone();
            BEFORE_RENAMES.with(|h| {
                *h.borrow_mut() = Some(Box::new(move || {
                    std::fs::write(&put, format!("{theirs}\n")).unwrap();
                }))
            });
            let line = "{\"ours\":\"racing\"}".to_owned();
            s.append(format!("{line}\n").as_bytes(), false).unwrap();
            BEFORE_RENAMES.with(|h| *h.borrow_mut() = None);
            written.push(line);
            written.push(theirs.to_owned());
            written.sort();
            assert_eq!(
                std::fs::read_to_string(&at).unwrap(),
                format!("{theirs}\n"),
                "{racer}: replaced"
            );
            assert_eq!(
                lines_in(dir),
                written,
                "{racer}: every line is in some file, once"
            );
            let roll = s.roll();
            assert!(roll.is_ok(), "{racer}: the next roll goes on: {roll:?}");
            assert_eq!(s.active.as_ref().unwrap().len().unwrap(), 0, "{racer}");
        }
    }

    #[test]
    fn the_refused_roll_names_both_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let mut s = SizeRolled::open(dir, "audit.log", None, 2, None).unwrap();
        s.append(b"{}\n", false).unwrap();
        s.max_bytes = Some(1);
        let put = dir.join("audit.log.1");
        BEFORE_RENAMES.with(|h| {
            *h.borrow_mut() = Some(Box::new(move || std::fs::write(&put, "x\n").unwrap()))
        });
        let e = s.roll().unwrap_err().to_string();
        BEFORE_RENAMES.with(|h| *h.borrow_mut() = None);
        let (from, to) = (dir.join("audit.log"), dir.join("audit.log.1"));
        for name in [
            format!("{}:", from.display()),
            format!("{} exists", to.display()),
        ] {
            assert!(e.contains(&name), "{e}");
        }
    }
}
