//! The crash-safe spool: an append-only log of checksummed event records in segment
//! files, with a persisted acknowledgement position.
//!
//! Layout of the spool folder:
//! - `<20-digit id>.seg`: segment files, appended in id order; a new one is started once
//!   the current one reaches `segment_bytes`.
//! - `ack`: `<segment id> <offset>` of the first record the server has not yet
//!   acknowledged. Written by rename, not fsynced: losing it only means resending
//!   events that the server then recognises as duplicates.
//! - `<id>.seg.corrupt`: a segment set aside because a record in its middle failed its
//!   checksum; kept for the operator, logged and counted, never read again.
//!
//! Opening cuts a torn tail (a last record that is incomplete or whose checksum fails
//! at the very end of the newest segment: a crash during a write) and sets corrupt
//! segments aside. It never fails on bad content, only on I/O errors.
//!
//! All methods block (file I/O): call them from `spawn_blocking`.

pub mod record;
mod state;

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use thiserror::Error;

use crate::metrics::Metrics;
pub use state::Position;
use state::{Segment, State};

/// When the spool fsyncs appended records.
pub use crate::config::SpoolFsync;

/// Spool settings.
#[derive(Debug, Clone)]
pub struct SpoolOptions {
    /// The folder.
    pub dir: PathBuf,
    /// Bound on the total size of the segment files.
    pub max_bytes: u64,
    /// Size at which a new segment is started.
    pub segment_bytes: u64,
    /// Fsync policy.
    pub fsync: SpoolFsync,
}

/// Why the spool did not take records.
#[derive(Debug, Error)]
pub enum SpoolError {
    /// No room under `spool_max_bytes`.
    #[error("spool full: {used} of {max} bytes used, {needed} more needed")]
    Full {
        /// Bytes on disk.
        used: u64,
        /// The bound.
        max: u64,
        /// Bytes of the refused records.
        needed: u64,
    },
    /// The records alone are larger than the bound: they can never fit.
    #[error("a batch of {needed} bytes can never fit in the spool (spool_max_bytes = {max})")]
    TooLarge {
        /// Bytes of the refused records.
        needed: u64,
        /// The bound.
        max: u64,
    },
    /// A file operation failed.
    #[error("spool {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SpoolError + '_ {
    move |source| SpoolError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The spool of one target. Shared between `send` (appends) and the sender task
/// (reads, acknowledges).
#[derive(Debug)]
pub struct Spool {
    opts: SpoolOptions,
    state: Mutex<State>,
    metrics: Arc<Metrics>,
}

fn segment_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:020}.seg"))
}

impl Spool {
    /// Opens (or creates) the spool in `opts.dir`, repairing what a crash left.
    pub fn open(opts: SpoolOptions, metrics: Arc<Metrics>) -> Result<Spool, SpoolError> {
        let dir = opts.dir.clone();
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        let ack = read_ack(&dir);
        let mut ids = Vec::new();
        for entry in fs::read_dir(&dir).map_err(io(&dir))? {
            let entry = entry.map_err(io(&dir))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(id) = name
                .strip_suffix(".seg")
                .and_then(|s| s.parse::<u64>().ok())
            {
                ids.push(id);
            }
        }
        ids.sort_unstable();
        let mut segments = Vec::new();
        let last = ids.last().copied();
        for id in ids {
            let path = segment_path(&dir, id);
            if id < ack.segment {
                // Fully acknowledged; a crash came between the ack and the deletion.
                fs::remove_file(&path).map_err(io(&path))?;
                continue;
            }
            match check_segment(&path, Some(id) == last, &metrics)? {
                Some(len) => segments.push(Segment { id, len }),
                None => set_aside(&path, &metrics),
            }
        }
        let mut ack = ack;
        match segments.first() {
            Some(first) if first.id > ack.segment => ack = Position::start_of(first.id),
            Some(first) if first.id == ack.segment && ack.offset > first.len => {
                tracing::warn!(spool = %dir.display(), "spool ack offset past the end of its segment; resending the segment");
                ack = Position::start_of(first.id);
            }
            None => ack = Position::start_of(ack.segment.max(last.map_or(0, |l| l + 1))),
            _ => {}
        }
        let state = State::new(segments, ack, last.map_or(0, |l| l + 1));
        metrics.set_spool_bytes(state.total_bytes());
        let spool = Spool {
            opts,
            state: Mutex::new(state),
            metrics,
        };
        spool.write_ack(ack);
        Ok(spool)
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.opts.dir
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-updated in a way
        // that matters more than stopping: keep going with what is there.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends pre-encoded records (see [`record`]); fsyncs per policy. On error nothing
    /// of `records` is kept.
    pub fn append(&self, records: &[u8], count: u64) -> Result<(), SpoolError> {
        let needed = records.len() as u64;
        if needed == 0 {
            return Ok(());
        }
        let mut st = self.lock();
        let used = st.total_bytes();
        if needed > self.opts.max_bytes {
            return Err(SpoolError::TooLarge {
                needed,
                max: self.opts.max_bytes,
            });
        }
        if used + needed > self.opts.max_bytes {
            return Err(SpoolError::Full {
                used,
                max: self.opts.max_bytes,
                needed,
            });
        }
        let roll = match (st.head_len(), &st.head_file) {
            (Some(len), Some(_)) => len >= self.opts.segment_bytes,
            _ => true,
        };
        if roll {
            let id = st.next_segment_id();
            let path = segment_path(&self.opts.dir, id);
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(io(&path))?;
            if let Some(old) = st.head_file.take() {
                // The previous head is complete; make its last records durable too.
                if self.opts.fsync == SpoolFsync::Always {
                    let _ = old.sync_data();
                }
            }
            st.start_segment(id, file);
            if self.opts.fsync == SpoolFsync::Always {
                let _ = File::open(&self.opts.dir).and_then(|d| d.sync_all());
            }
        }
        let (id, len) = st.head().map(|s| (s.id, s.len)).unwrap_or_default();
        let path = segment_path(&self.opts.dir, id);
        let Some(file) = st.head_file.as_mut() else {
            return Err(SpoolError::Io {
                path,
                source: std::io::Error::other("no head segment"),
            });
        };
        let written = file.write_all(records).and_then(|()| {
            if self.opts.fsync == SpoolFsync::Always {
                file.sync_data()
            } else {
                Ok(())
            }
        });
        if let Err(e) = written {
            // Cut whatever part was written so no half record stays before later ones.
            if file.set_len(len).is_err() {
                st.head_file = None; // the next append starts a new segment
            }
            return Err(SpoolError::Io { path, source: e });
        }
        st.grow_head(needed);
        let total = st.total_bytes();
        drop(st);
        self.metrics.spooled(count, total);
        Ok(())
    }

    /// Where the next append goes (everything before it is readable).
    pub fn end(&self) -> Position {
        self.lock().end()
    }

    /// The first record not yet acknowledged.
    pub fn acked(&self) -> Position {
        self.lock().ack
    }

    /// Nothing left to send.
    pub fn is_drained(&self) -> bool {
        !self.lock().has_unacked()
    }

    /// Bytes of the segment files.
    pub fn bytes(&self) -> u64 {
        self.lock().total_bytes()
    }

    /// Marks everything before `upto` as delivered: persists the position and deletes
    /// segments that are wholly before it.
    pub fn ack(&self, upto: Position) {
        let removed = {
            let mut st = self.lock();
            if upto <= st.ack {
                return;
            }
            st.ack = upto;
            st.remove_acked(self.opts.segment_bytes)
        };
        for id in removed {
            let path = segment_path(&self.opts.dir, id);
            if let Err(e) = fs::remove_file(&path) {
                tracing::warn!(path = %path.display(), error = %e, "cannot delete a delivered spool segment");
            }
        }
        self.write_ack(upto);
        self.metrics.set_spool_bytes(self.bytes());
    }

    fn write_ack(&self, pos: Position) {
        let tmp = self.opts.dir.join("ack.tmp");
        let dst = self.opts.dir.join("ack");
        let res = fs::write(&tmp, format!("{} {}\n", pos.segment, pos.offset))
            .and_then(|()| fs::rename(&tmp, &dst));
        if let Err(e) = res {
            // Not fatal: a stale ack only means resending duplicates after a restart.
            tracing::warn!(path = %dst.display(), error = %e, "cannot persist the spool ack position");
        }
    }

    /// A reader positioned at the first unacknowledged record.
    pub fn reader(self: &Arc<Self>) -> SpoolReader {
        SpoolReader {
            spool: self.clone(),
            pos: self.acked(),
            file: None,
        }
    }

    /// Sets a segment aside after a reader found it corrupt.
    fn set_aside_segment(&self, id: u64) {
        {
            let mut st = self.lock();
            st.forget_segment(id);
        }
        set_aside(&segment_path(&self.opts.dir, id), &self.metrics);
        self.metrics.set_spool_bytes(self.bytes());
    }
}

/// One batch of records read from the spool.
#[derive(Debug, Clone)]
pub struct SpooledBatch {
    /// Position of the first record.
    pub start: Position,
    /// Position after the last record.
    pub end: Position,
    /// Each record's payload (an event's JSON wire form).
    pub payloads: Vec<Vec<u8>>,
}

/// Reads records in order, ahead of the ack position.
#[derive(Debug)]
pub struct SpoolReader {
    spool: Arc<Spool>,
    pos: Position,
    file: Option<(u64, File)>,
}

impl SpoolReader {
    /// Where the next read starts.
    pub fn position(&self) -> Position {
        self.pos
    }

    /// Reads up to `max_events` records / about `max_bytes` payload bytes (at least one
    /// record) that are already appended. Empty when there is nothing new.
    pub fn read_batch(
        &mut self,
        max_events: usize,
        max_bytes: usize,
    ) -> Result<SpooledBatch, SpoolError> {
        let start = self.pos;
        let mut payloads = Vec::new();
        let mut bytes = 0usize;
        loop {
            let Some((seg_id, seg_end, is_head)) = self.spool.lock().segment_at(self.pos) else {
                break;
            };
            if seg_id != self.pos.segment {
                self.pos = Position::start_of(seg_id);
                self.file = None;
            }
            if self.pos.offset >= seg_end {
                if is_head {
                    break;
                }
                // Move on to the next segment.
                self.pos = Position::start_of(seg_id + 1);
                self.file = None;
                continue;
            }
            let budget_events = max_events - payloads.len();
            let budget_bytes = max_bytes.saturating_sub(bytes).max(1);
            match self.read_segment(seg_id, seg_end, budget_events, budget_bytes)? {
                SegmentRead::Records(mut got) => {
                    bytes += got.iter().map(Vec::len).sum::<usize>();
                    payloads.append(&mut got);
                }
                SegmentRead::Corrupt(reason) => {
                    tracing::error!(
                        segment = %segment_path(self.spool.dir(), seg_id).display(),
                        %reason,
                        "corrupt spool segment: set aside (renamed *.corrupt), its remaining events are NOT sent"
                    );
                    self.file = None;
                    self.spool.set_aside_segment(seg_id);
                    self.pos = Position::start_of(seg_id + 1);
                }
            }
            if payloads.len() >= max_events || bytes >= max_bytes {
                break;
            }
        }
        Ok(SpooledBatch {
            start,
            end: self.pos,
            payloads,
        })
    }

    fn read_segment(
        &mut self,
        seg_id: u64,
        seg_end: u64,
        max_events: usize,
        max_bytes: usize,
    ) -> Result<SegmentRead, SpoolError> {
        let path = segment_path(self.spool.dir(), seg_id);
        let file = match &mut self.file {
            Some((id, f)) if *id == seg_id => f,
            _ => {
                let f = File::open(&path).map_err(io(&path))?;
                &mut self.file.insert((seg_id, f)).1
            }
        };
        // Read a window of the published bytes; records never change once published.
        // At most 1 MiB per read; the caller reads again for a larger batch.
        let window = (max_bytes as u64).clamp(64 * 1024, 1 << 20) + 8 * 1024;
        let want = (seg_end - self.pos.offset).min(window);
        let mut buf = vec![0u8; want as usize];
        file.seek(SeekFrom::Start(self.pos.offset))
            .map_err(io(&path))?;
        file.read_exact(&mut buf).map_err(io(&path))?;
        let mut out = Vec::new();
        let mut at = 0usize;
        let mut bytes = 0usize;
        while out.len() < max_events && bytes < max_bytes {
            match record::decode(&buf, at) {
                record::Decoded::Record { payload, next } => {
                    bytes += payload.len();
                    out.push(payload.to_vec());
                    at = next;
                }
                record::Decoded::Incomplete => {
                    if at == 0 {
                        // One record larger than the window: read exactly it.
                        let mut header = [0u8; record::HEADER];
                        header.copy_from_slice(buf.get(..record::HEADER).unwrap_or(&[0; 8]));
                        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]])
                            as u64
                            + record::HEADER as u64;
                        if self.pos.offset + len > seg_end || buf.len() < record::HEADER {
                            return Ok(SegmentRead::Corrupt(format!(
                                "record at offset {} runs past the segment's end",
                                self.pos.offset
                            )));
                        }
                        let mut whole = vec![0u8; len as usize];
                        file.seek(SeekFrom::Start(self.pos.offset))
                            .map_err(io(&path))?;
                        file.read_exact(&mut whole).map_err(io(&path))?;
                        buf = whole;
                        continue;
                    }
                    break;
                }
                record::Decoded::Bad { reason, .. } => {
                    if out.is_empty() {
                        return Ok(SegmentRead::Corrupt(format!(
                            "{reason} at offset {}",
                            self.pos.offset + at as u64
                        )));
                    }
                    // Hand out the good records first; the next read reports the damage.
                    break;
                }
            }
        }
        self.pos.offset += at as u64;
        Ok(SegmentRead::Records(out))
    }
}

enum SegmentRead {
    Records(Vec<Vec<u8>>),
    Corrupt(String),
}

fn read_ack(dir: &Path) -> Position {
    let text = fs::read_to_string(dir.join("ack")).unwrap_or_default();
    let mut parts = text.split_whitespace().map(str::parse::<u64>);
    match (parts.next(), parts.next()) {
        (Some(Ok(segment)), Some(Ok(offset))) => Position { segment, offset },
        _ => Position::start_of(0),
    }
}

/// Scans a segment at open. `Some(len)`: usable up to `len` (a torn tail of the newest
/// segment is cut). `None`: corrupt, to be set aside.
fn check_segment(path: &Path, newest: bool, metrics: &Metrics) -> Result<Option<u64>, SpoolError> {
    let buf = fs::read(path).map_err(io(path))?;
    let mut at = 0usize;
    loop {
        if at == buf.len() {
            return Ok(Some(at as u64));
        }
        let torn = match record::decode(&buf, at) {
            record::Decoded::Record { next, .. } => {
                at = next;
                continue;
            }
            record::Decoded::Incomplete => true,
            record::Decoded::Bad { end, reason } => {
                if newest && end >= buf.len() {
                    true
                } else {
                    tracing::error!(segment = %path.display(), offset = at, %reason, "corrupt record in a spool segment");
                    return Ok(None);
                }
            }
        };
        if torn && newest {
            tracing::warn!(
                segment = %path.display(),
                offset = at,
                cut_bytes = buf.len() - at,
                "torn tail in the spool (a crash during a write): cut"
            );
            let f = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(io(path))?;
            f.set_len(at as u64).map_err(io(path))?;
            f.sync_all().map_err(io(path))?;
            metrics.torn_tail_cut();
            return Ok(Some(at as u64));
        }
        tracing::error!(segment = %path.display(), offset = at, "incomplete record in the middle of the spool");
        return Ok(None);
    }
}

fn set_aside(path: &Path, metrics: &Metrics) {
    let mut aside = path.as_os_str().to_owned();
    aside.push(".corrupt");
    let aside = PathBuf::from(aside);
    match fs::rename(path, &aside) {
        Ok(()) => tracing::error!(
            segment = %path.display(),
            moved_to = %aside.display(),
            "corrupt spool segment set aside; its events are kept there for the operator and are not sent"
        ),
        Err(e) => {
            tracing::error!(segment = %path.display(), error = %e, "corrupt spool segment could not be renamed; ignoring it")
        }
    }
    metrics.corrupt_segment();
}
