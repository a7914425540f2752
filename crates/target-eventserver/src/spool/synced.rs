//! What of a segment is durable, so that its `lengths` record (see `lengths.rs`)
//! never names more than a power loss leaves of it.
//!
//! A recorded length past the durable bytes would make the next start, after a crash
//! and a power loss took the unsynced tail, report a segment cut by hand: a crash's
//! loss attributed to an operator in the evidence. So each segment's durable prefix is
//! tracked (`Segment::synced`): at open, up to its recorded length, all of it once it
//! is fsynced; while running, up to its last fsync. A head closed without one
//! (dropped after a failed write, cut) is recorded only up to its last fsync.
//!
//! All segment fsyncs, and the head's writes, go through here (with fault injection
//! for tests: a failed fsync or write cannot be made to happen with real files).

use std::fs::File;
use std::io::{Seek, Write};
use std::path::Path;

use auditrail_core::durable::NotAt;

use super::state::{FileId, State};
use super::{segment_path, Spool};

impl Spool {
    /// Fsyncs the open head segment's data when not all of it is known durable: its
    /// length can then be recorded whole. A failure is logged: it is recorded only up
    /// to its last fsync.
    pub(super) fn sync_head(&self, st: &mut State) {
        let (Some(head), Some(file)) = (st.head(), &st.head_file) else {
            return;
        };
        if head.synced >= head.len {
            return;
        }
        match sync_segment(file) {
            Ok(()) => st.head_synced(),
            Err(e) => {
                let path = segment_path(&self.opts.dir, head.id);
                tracing::warn!(segment = %path.display(), error = %e, "cannot fsync a finished spool segment: its length is recorded only up to its last fsync, so a later cut of it by hand may not be reported");
            }
        }
    }
}

/// Appends `records` to the head segment's `file`; with `sync`, fsyncs them. Where the
/// write ended: the file appends (`O_APPEND`), so its offset after the write is the
/// file's length when the write began plus the records, whoever wrote before them.
pub(super) fn write_head(file: &mut File, records: &[u8], sync: bool) -> std::io::Result<u64> {
    #[cfg(test)]
    if let Some(e) = tests::failed_head_io() {
        return Err(e);
    }
    file.write_all(records)?;
    let end = file.stream_position()?;
    if sync {
        sync_segment(file)?;
    }
    Ok(end)
}

/// Cuts the head segment's `file` back to `keep` bytes, after a failed write or after
/// records written to it were found not to count (see [`check_written`]); with `sync`,
/// fsyncs the cut (those records were fsynced). Never lengthens it: a file cut shorter
/// by someone else meanwhile would be padded with zero bytes, which the reader takes
/// for damage.
pub(super) fn cut_head_back(file: &File, keep: u64, sync: bool) -> std::io::Result<()> {
    #[cfg(test)]
    if let Some(e) = tests::failed_head_io() {
        return Err(e);
    }
    if file.metadata()?.len() <= keep {
        return Ok(());
    }
    file.set_len(keep)?;
    if sync {
        sync_segment(file)
    } else {
        Ok(())
    }
}

/// Why the head segment's `file`, just appended to, is no longer the spool's file at
/// `path`, at least `written` bytes long (see `auditrail_core::durable::why_not_at`),
/// or `None` when it still is: the check before an append, again after the write.
pub(super) fn check_written(file: &File, path: &Path, written: u64) -> Option<NotAt> {
    #[cfg(test)]
    tests::after_head_write(path);
    auditrail_core::durable::why_not_at(
        file,
        path,
        auditrail_core::durable::Expected::AtLeast(written),
    )
}

/// Where `records`, just appended to the head segment (`len` bytes before, the file
/// `file_id`), start when a cut came before the write: the file at `path`, `found`
/// bytes long now, ends with them (`O_APPEND` wrote them at the cut's end). `None`
/// when it does not (the cut came after the write: they were at `len`), or the file
/// cannot be read back.
pub(super) fn write_after_cut(
    path: &Path,
    file_id: FileId,
    found: u64,
    len: u64,
    records: &[u8],
) -> Option<u64> {
    use std::os::unix::fs::FileExt;
    let start = found.checked_sub(records.len() as u64)?;
    if start >= len {
        return None;
    }
    let file =
        auditrail_core::regular_file::open(std::fs::OpenOptions::new().read(true), path).ok()?;
    if FileId::of(&file.metadata().ok()?) != file_id {
        return None;
    }
    let mut tail = vec![0u8; records.len()];
    file.read_exact_at(&mut tail, start).ok()?;
    (tail == records).then_some(start)
}

/// Fsyncs a segment file's data: every byte of it up to its length is durable after.
fn sync_segment(file: &File) -> std::io::Result<()> {
    #[cfg(test)]
    if let Some(e) = tests::failed_segment_sync() {
        return Err(e);
    }
    file.sync_data()
}

/// How many bytes of segment `id` (`len` bytes as checked at open, the file `file`)
/// are durable, for its `lengths` record: up to `recorded` (durable when it was
/// recorded); all once it is fsynced now. A segment with no record (the head of a run
/// a crash ended, or of an older version) is fsynced here, once. A failure is logged:
/// it is recorded up to what is known.
pub(super) fn durable_at_open(
    dir: &Path,
    id: u64,
    len: u64,
    file: FileId,
    recorded: Option<u64>,
) -> u64 {
    let known = recorded.unwrap_or(0).min(len);
    if known == len {
        return known;
    }
    let path = segment_path(dir, id);
    let synced = auditrail_core::regular_file::open(std::fs::OpenOptions::new().read(true), &path)
        .and_then(|f| {
            if FileId::of(&f.metadata()?) != file {
                return Err(std::io::Error::other("another file is at its path"));
            }
            sync_segment(&f)
        });
    match synced {
        Ok(()) => len,
        Err(e) => {
            tracing::warn!(segment = %path.display(), error = %e, "cannot fsync a spool segment at open: its length is recorded only as far as it was known durable, so a later cut of it by hand may not be reported");
            known
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::cell::Cell;
    use std::fs::OpenOptions;
    use std::sync::Arc;

    use super::super::{gone, record, segment_ids, SpoolFsync, SpoolOptions};
    use super::*;
    use crate::metrics::Metrics;

    thread_local! {
        /// While set, [`sync_segment`] fails on this thread: every byte the spool
        /// writes is then not durable, and a power loss may take all of it.
        static FAIL_SEGMENT_SYNC: Cell<bool> = const { Cell::new(false) };
        /// While set, writing to the head segment and cutting it back after a failed
        /// write fail on this thread (a disk that went away): the head is dropped.
        static FAIL_HEAD_IO: Cell<bool> = const { Cell::new(false) };
    }

    pub(super) fn failed_head_io() -> Option<std::io::Error> {
        FAIL_HEAD_IO
            .get()
            .then(|| std::io::Error::other("injected head segment write failure"))
    }

    /// What a test does to a head segment between an append's write (and fsync) and
    /// the check after it (as another program would, racing the spool): gets the
    /// segment's path.
    pub(in super::super) type AfterHeadWrite = Box<dyn FnMut(&Path) + Send>;

    /// The hooks of the tests running, each for the segments in its own spool folder.
    static AFTER_HEAD_WRITE: std::sync::Mutex<Vec<(std::path::PathBuf, AfterHeadWrite)>> =
        std::sync::Mutex::new(Vec::new());

    /// Runs `hook` after every write to a head segment in spool folder `dir`, until
    /// [`no_hook_in`] is called.
    pub(in super::super) fn hook_in(dir: &Path, hook: AfterHeadWrite) {
        hooks().push((dir.to_path_buf(), hook));
    }

    pub(in super::super) fn no_hook_in(dir: &Path) {
        hooks().retain(|(d, _)| d != dir);
    }

    /// The hooks, also after a test's hook panicked (every append of every test
    /// passes here).
    fn hooks() -> std::sync::MutexGuard<'static, Vec<(std::path::PathBuf, AfterHeadWrite)>> {
        AFTER_HEAD_WRITE.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What a test does to a head segment right before an append's write, after the
    /// check before it (as another program would, racing the spool): gets the
    /// segment's path. Runs for the segments of spool folder `dir` until
    /// [`no_write_hook_in`] is called.
    pub(in super::super) fn write_hook_in(dir: &Path, hook: AfterHeadWrite) {
        write_hooks().push((dir.to_path_buf(), hook));
    }

    pub(in super::super) fn no_write_hook_in(dir: &Path) {
        write_hooks().retain(|(d, _)| d != dir);
    }

    static BEFORE_HEAD_WRITE: std::sync::Mutex<Vec<(std::path::PathBuf, AfterHeadWrite)>> =
        std::sync::Mutex::new(Vec::new());

    fn write_hooks() -> std::sync::MutexGuard<'static, Vec<(std::path::PathBuf, AfterHeadWrite)>> {
        BEFORE_HEAD_WRITE.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(in super::super) fn before_head_write(segment: &Path) {
        for (dir, hook) in write_hooks().iter_mut() {
            if segment.parent() == Some(dir.as_path()) {
                hook(segment);
            }
        }
    }

    pub(super) fn after_head_write(segment: &Path) {
        for (dir, hook) in hooks().iter_mut() {
            if segment.parent() == Some(dir.as_path()) {
                hook(segment);
            }
        }
    }

    pub(super) fn failed_segment_sync() -> Option<std::io::Error> {
        FAIL_SEGMENT_SYNC
            .get()
            .then(|| std::io::Error::other("injected segment fsync failure"))
    }

    fn segment_files(dir: &Path) -> Vec<u64> {
        segment_ids(dir).unwrap()
    }

    fn open_never(dir: &Path) -> Spool {
        Spool::open(
            SpoolOptions {
                dir: dir.to_owned(),
                max_bytes: 1 << 20,
                segment_bytes: 1 << 20,
                fsync: SpoolFsync::Never,
            },
            Arc::new(Metrics::default()),
        )
        .unwrap()
    }

    fn one_record(i: u32) -> Vec<u8> {
        let mut rec = Vec::new();
        record::encode_payload(format!("{{\"i\":{i}}}").as_bytes(), &mut rec);
        rec
    }

    /// A power loss after no segment fsync succeeded: the segment files keep their
    /// names (the folder was fsynced) and only the first `keep` bytes of each.
    fn power_loss(dir: &Path, keep: u64) {
        for id in segment_files(dir) {
            let f = OpenOptions::new()
                .write(true)
                .open(segment_path(dir, id))
                .unwrap();
            let len = f.metadata().unwrap().len();
            f.set_len(len.min(keep)).unwrap();
        }
    }

    fn recorded_losses(dir: &Path) -> Vec<gone::LostSegments> {
        gone::list(dir).unwrap().lost
    }

    #[test]
    fn a_segment_not_fsynced_at_open_is_no_cut_after_a_power_loss() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("spool");
        std::fs::create_dir(&dir).unwrap();
        FAIL_SEGMENT_SYNC.set(true);
        // A run whose records never reached the disk (its head is not recorded at
        // close when it cannot be fsynced, as when a crash ends the run).
        let spool = open_never(&dir);
        spool.append(&one_record(0), 1).unwrap();
        spool.append(&one_record(1), 1).unwrap();
        drop(spool);
        // The next start cannot make that segment durable either.
        drop(open_never(&dir));
        FAIL_SEGMENT_SYNC.set(false);

        // The power loss takes the second record.
        power_loss(&dir, one_record(0).len() as u64);
        let spool = open_never(&dir);

        assert_eq!(
            recorded_losses(&dir),
            Vec::new(),
            "a crash's loss taken for a cut"
        );
        assert_eq!(spool.pending_events(), 1);
    }

    #[test]
    fn a_head_dropped_after_a_failed_write_is_no_cut_after_a_power_loss() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("spool");
        std::fs::create_dir(&dir).unwrap();
        FAIL_SEGMENT_SYNC.set(true);
        let spool = open_never(&dir);
        spool.append(&one_record(0), 1).unwrap();
        // The write fails and cannot be cut back: the head is dropped, unsynced.
        FAIL_HEAD_IO.set(true);
        spool.append(&one_record(1), 1).unwrap_err();
        FAIL_HEAD_IO.set(false);
        // The next append finishes it and starts a new segment.
        spool.append(&one_record(2), 1).unwrap();
        assert_eq!(segment_files(&dir).len(), 2);
        drop(spool);
        FAIL_SEGMENT_SYNC.set(false);

        // Nothing was ever fsynced: the power loss takes every record.
        power_loss(&dir, 0);
        let spool = open_never(&dir);

        assert_eq!(
            recorded_losses(&dir),
            Vec::new(),
            "a crash's loss taken for a cut"
        );
        assert_eq!(spool.pending_events(), 0);
    }

    #[test]
    fn a_head_cut_by_hand_before_any_fsync_is_reported_once_after_a_power_loss() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("spool");
        std::fs::create_dir(&dir).unwrap();
        FAIL_SEGMENT_SYNC.set(true);
        let spool = open_never(&dir);
        spool.append(&one_record(0), 1).unwrap();
        spool.append(&one_record(1), 1).unwrap();
        let first = segment_files(&dir)[0];
        let head = OpenOptions::new()
            .write(true)
            .open(segment_path(&dir, first))
            .unwrap();
        head.set_len(one_record(0).len() as u64).unwrap();
        // Found before the next append: reported, and the head is closed.
        spool.append(&one_record(2), 1).unwrap();
        assert_eq!(recorded_losses(&dir).len(), 1);
        drop(spool);
        FAIL_SEGMENT_SYNC.set(false);

        power_loss(&dir, 0);
        drop(open_never(&dir));

        let lost = recorded_losses(&dir);
        assert_eq!(
            lost.len(),
            1,
            "the crash's loss reported as a second cut: {lost:?}"
        );
    }
}
