//! `rotation = "hourly"` and `"daily"`: one file per UTC period, named as
//! tracing-appender names them (`audit.2026-11-25-17.log`), written through
//! tracing-appender with `Rotation::NEVER` on the period's file (see the `sink` module
//! for why we pick the file ourselves), and `max_files` of them kept.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use auditrail_core::{BuildError, FolderCheck};
use chrono::{DateTime, Utc};

use super::active::ActiveFile;
use super::{append_checked, WriteError};
use crate::config::Rotation;
use crate::naming;

pub(super) struct TimeRolled {
    dir: PathBuf,
    file_name: String,
    rotation: Rotation,
    max_files: usize,
    /// The file of the period last written, and its name.
    active: Option<ActiveFile>,
    active_name: String,
    /// The check of the folder holding `dir` (see `folder.rs`).
    check: Option<Arc<dyn FolderCheck>>,
}

impl TimeRolled {
    pub(super) fn open(
        dir: &Path,
        file_name: &str,
        rotation: Rotation,
        max_files: usize,
        check: Option<Arc<dyn FolderCheck>>,
    ) -> Result<TimeRolled, BuildError> {
        let mut t = TimeRolled {
            dir: dir.to_path_buf(),
            file_name: file_name.to_owned(),
            rotation,
            max_files,
            active: None,
            active_name: String::new(),
            check,
        };
        t.start_period(t.name_at(Utc::now()), true)
            .map_err(|e| BuildError::Io {
                path: e.path,
                source: e.source,
            })?;
        Ok(t)
    }

    /// The open file, if any.
    pub(super) fn active_mut(&mut self) -> Option<&mut ActiveFile> {
        self.active.as_mut()
    }

    fn name_at(&self, at: DateTime<Utc>) -> String {
        naming::period_name(&self.file_name, self.rotation, at)
    }

    /// Removes the oldest period files beyond `max_files` (the new one included),
    /// then opens the new period's file.
    fn start_period(&mut self, name: String, after_crash: bool) -> Result<(), WriteError> {
        self.prune(&name);
        // Gone with its folder: the old file tells whether it was moved (`folder.rs`).
        let held: Vec<&std::fs::File> = self.active.iter().map(ActiveFile::handle).collect();
        super::folder::recreate_if_gone(&self.dir, &held, self.check.as_deref())?;
        self.active = None;
        self.active = Some(ActiveFile::open(
            &self.dir,
            &name,
            after_crash,
            self.check.as_deref(),
        )?);
        self.active_name = name;
        Ok(())
    }

    /// Retention: keeps the `max_files - 1` newest period files of this rotation other
    /// than `current`. Period names sort by time (the UTC date is in the name), so the
    /// oldest go first; files of other shapes in the folder (another rotation's period
    /// files included) are never touched.
    ///
    /// Files named for a period after `current` were written while the clock was
    /// ahead (or it is behind now): they are neither counted nor removed, and a
    /// warning names them. Counted as the newest, they were kept, and the real files
    /// written since the clock came back (the previous hour's) were removed at each
    /// new period instead, for as long as the clock's lead was.
    fn prune(&self, current: &str) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        let mut old: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n != current)
            // Only this rotation's own names: a daily and an hourly target may share
            // the folder and `file_name`, and neither may delete the other's files.
            .filter(|n| naming::is_own_period_file(n, &self.file_name, self.rotation))
            .collect();
        old.sort();
        // Names of one shape sort by their period: those after `current` are later.
        let later = old.split_off(old.partition_point(|n| n.as_str() < current));
        if let (Some(first), Some(last)) = (later.first(), later.last()) {
            tracing::warn!(
                dir = %self.dir.display(),
                current,
                files = later.len(),
                first = %first,
                last = %last,
                "audit files named for a later period than the clock's: the clock was ahead when they were written, or is behind now; max_files neither counts nor removes them (counted as the newest, they would make it remove fresh files): check the clock (NTP), and remove them by hand once they are not needed"
            );
        }
        let keep = self.max_files.saturating_sub(1);
        let excess = old.len().saturating_sub(keep);
        for name in &old[..excess] {
            let path = self.dir.join(name);
            match fs::remove_file(&path) {
                Ok(()) => {
                    tracing::info!(path = %path.display(), "removed the oldest audit file (max_files)")
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot remove an old audit file (max_files)")
                }
            }
        }
    }

    pub(super) fn append(&mut self, lines: &[u8], fsync: bool) -> Result<(), WriteError> {
        let name = self.name_at(Utc::now());
        if name != self.active_name || self.active.is_none() {
            self.start_period(name, false)?;
        }
        append_checked(
            &mut self.active,
            &self.dir,
            &self.active_name,
            lines,
            fsync,
            self.check.as_deref(),
        )
    }
}
