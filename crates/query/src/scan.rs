//! Reading the files of one partition of a scan into record batches.
//!
//! Files are read and parsed on a blocking thread (file I/O and JSON parsing are
//! CPU and disk work that must not hold up the async executor), one file after
//! another, and the batches handed over through a small bounded channel: memory stays
//! at a few batches per partition whatever the file sizes, and a query that stops
//! early (a `LIMIT`) stops the reading too.

use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::DataFusionError;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use tokio::sync::mpsc;

use auditrail_store::chain::{verify_link, ChainLink};
use auditrail_store::{EventIdentity, SegmentReader, StoreError, WireEvent};
use auditrail_target_file::NotAuditFile;

use crate::error::QueryError;
use crate::read::{from_line, parse_audit_event, BatchBuilder, Row, BATCH_ROWS};
use crate::schema::Column;
use crate::source::{read_audit_events, DataFile, LineFormat};

/// Batches in flight per partition.
const CHANNEL_BATCHES: usize = 2;

/// What scans did, summed over every query of an engine.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    files_listed: AtomicU64,
    files_sampled: AtomicU64,
    files_after_pruning: AtomicU64,
    files_opened: AtomicU64,
    bytes_read: AtomicU64,
    rows: AtomicU64,
    unreadable_lines: AtomicU64,
    /// The stores' segment files holding lines that are not events, with how many: each
    /// file once, with the count of its latest scan (a report runs several queries, and
    /// `node-usage` said "skipped 2 lines" of a store with one).
    unreadable_in_store_files: Mutex<BTreeMap<PathBuf, u64>>,
    duplicates: AtomicU64,
    /// The audit files holding lines that are not events, with how many: `verify`
    /// reads stores only, so these are named here. Each file once, with the count of
    /// its latest scan (a report runs several queries).
    unreadable_in_audit_files: Mutex<BTreeMap<PathBuf, u64>>,
    /// Files of audit folders that are not audit files, each once however many scans
    /// listed it (a report runs several queries).
    not_audit: Mutex<BTreeMap<PathBuf, NotAuditFile>>,
    /// Files listed, then removed before they could be read (a store's retention, a
    /// file target's `max_files`): their events are not in the answer. Each once.
    removed: Mutex<BTreeSet<PathBuf>>,
    /// The stores' segment files holding records whose chain hash does not follow from
    /// the record just before them in the file (see [`Reader::store_file`]), with how
    /// many: each file once, with the count of its latest scan.
    failing_chain_in_store_files: Mutex<BTreeMap<PathBuf, u64>>,
}

/// What the scans of an engine did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScanStats {
    /// Data files found in the sources (every scan lists them afresh).
    pub files_listed: u64,
    /// Files of which only the first record was read, to learn a store's folder layout.
    pub files_sampled: u64,
    /// Files left to read once the filters were checked against their folders.
    pub files_after_pruning: u64,
    /// Files opened and read.
    pub files_opened: u64,
    /// Bytes read from them.
    pub bytes_read: u64,
    /// Rows produced (before filters that the folders cannot answer).
    pub rows: u64,
    /// Complete lines that are not events, in stores and audit files.
    pub unreadable_lines: u64,
    /// Those of them in stores' segment files (`auditrail verify` names them; those of
    /// audit files are [`crate::Engine::audit_files_with_unreadable_lines`]).
    pub unreadable_in_stores: u64,
    /// Events skipped because their id was already read from another file or store.
    pub duplicates: u64,
    /// Files listed and then removed before they were read (retention running during
    /// the query): the answer lacks their events ([`crate::Engine::files_removed`]).
    pub files_removed: u64,
    /// Records read from stores whose chain hash does not follow from the record just
    /// before them in their segment file: changed (or put there) since the store wrote
    /// them. They are in the answer; `auditrail verify` names them
    /// ([`crate::Engine::files_failing_chain`]).
    pub records_failing_chain: u64,
}

impl Counters {
    pub(crate) fn listed(&self, files: u64, sampled: u64) {
        self.files_listed.fetch_add(files, Ordering::Relaxed);
        self.files_sampled.fetch_add(sampled, Ordering::Relaxed);
    }

    pub(crate) fn not_audit(&self, files: Vec<NotAuditFile>) {
        let mut seen = self
            .not_audit
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for f in files {
            seen.insert(f.path.clone(), f);
        }
    }

    pub(crate) fn not_audit_files(&self) -> Vec<NotAuditFile> {
        let seen = self
            .not_audit
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        seen.values().cloned().collect()
    }

    /// The audit files holding lines that are not events, with how many, by path.
    pub(crate) fn audit_files_with_unreadable_lines(&self) -> Vec<(PathBuf, u64)> {
        let seen = self
            .unreadable_in_audit_files
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        seen.iter().map(|(p, n)| (p.clone(), *n)).collect()
    }

    /// `path`, listed, was gone when it was to be read.
    fn removed(&self, path: &Path) {
        self.removed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(path.to_path_buf());
    }

    /// The segment files holding records that fail their chain link, with how many,
    /// by path.
    pub(crate) fn files_failing_chain(&self) -> Vec<(PathBuf, u64)> {
        let seen = self
            .failing_chain_in_store_files
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        seen.iter().map(|(p, n)| (p.clone(), *n)).collect()
    }

    /// The files listed and removed before they were read, by path.
    pub(crate) fn files_removed(&self) -> Vec<PathBuf> {
        let seen = self.removed.lock().unwrap_or_else(PoisonError::into_inner);
        seen.iter().cloned().collect()
    }

    pub(crate) fn pruned_to(&self, files: u64) {
        self.files_after_pruning.fetch_add(files, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> ScanStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ScanStats {
            files_listed: get(&self.files_listed),
            files_sampled: get(&self.files_sampled),
            files_after_pruning: get(&self.files_after_pruning),
            files_opened: get(&self.files_opened),
            bytes_read: get(&self.bytes_read),
            rows: get(&self.rows),
            unreadable_lines: get(&self.unreadable_lines),
            unreadable_in_stores: self
                .unreadable_in_store_files
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .values()
                .sum(),
            duplicates: get(&self.duplicates),
            files_removed: self
                .removed
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .len() as u64,
            records_failing_chain: self
                .failing_chain_in_store_files
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .values()
                .sum(),
        }
    }
}

/// The events already produced by a scan, by the identity the server de-duplicates
/// by: the id and a keyed hash of the identity fields (node, seq, topic, routing key,
/// timestamp, message text), defined once in the store
/// ([`identity_hash`](auditrail_store::identity_hash)). A stored
/// duplicate (the same event in two stores, or stored twice beyond the server's window)
/// has both equal; two different events that share an id, even with the same node and
/// seq, were both stored by the server and are both kept, so no stored event is ever
/// hidden by another.
#[derive(Debug, Default)]
pub(crate) struct SeenEvents {
    /// Random per scan (like the server's): event content is chosen by clients, so
    /// they must not be able to make two events collide on purpose.
    hasher: RandomState,
    events: Mutex<HashSet<(u128, u64)>>,
}

impl SeenEvents {
    /// Whether `event` is seen for the first time.
    fn first(&self, event: &WireEvent<'_>) -> bool {
        let id = event.id;
        let identity = EventIdentity {
            id,
            node: Cow::Borrowed(&event.node),
            seq: event.seq,
            abandoned_seqs: None,
            topic: Cow::Borrowed(&event.topic),
            routing_key: event.routing_key.as_deref().map(Cow::Borrowed),
            timestamp: event.timestamp,
            message: event.message.get(),
        };
        let hash = identity.identity_hash(&self.hasher);
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((u128::from_be_bytes(*id.as_bytes()), hash))
    }
}

pub(crate) type SeenIds = Arc<SeenEvents>;

/// One partition of a scan: a list of files.
pub(crate) struct FilesStream {
    files: Arc<Vec<DataFile>>,
    schema: SchemaRef,
    columns: Arc<Vec<Column>>,
    counters: Arc<Counters>,
    seen: SeenIds,
}

impl fmt::Debug for FilesStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilesStream")
            .field("files", &self.files.len())
            .finish_non_exhaustive()
    }
}

impl FilesStream {
    pub(crate) fn new(
        files: Vec<DataFile>,
        schema: SchemaRef,
        columns: Vec<Column>,
        counters: Arc<Counters>,
        seen: SeenIds,
    ) -> FilesStream {
        FilesStream {
            files: Arc::new(files),
            schema,
            columns: Arc::new(columns),
            counters,
            seen,
        }
    }
}

impl PartitionStream for FilesStream {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let (tx, mut rx) = mpsc::channel(CHANNEL_BATCHES);
        let reader = Reader {
            files: self.files.clone(),
            builder: BatchBuilder::new(self.schema.clone(), &self.columns),
            counters: self.counters.clone(),
            seen: self.seen.clone(),
            tx,
            unreadable_here: 0,
        };
        let broke = reader.tx.clone();
        tokio::task::spawn_blocking(move || reporting_panics(move || reader.run(), &broke));
        let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
        Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), stream))
    }
}

type Item = Result<RecordBatch, DataFusionError>;

/// Runs a reader (on a blocking thread) so that a panic in it fails the query: the
/// stream would otherwise just end when the reader's sender is dropped, and the answer
/// would lack the rest of the rows without a word.
fn reporting_panics(read: impl FnOnce(), broke: &mpsc::Sender<Item>) {
    if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)) {
        let e = QueryError::EngineBroke {
            message: format!(
                "reading the stored events: {}",
                crate::error::panic_message(&*payload)
            ),
        };
        let _ = broke.blocking_send(Err(DataFusionError::External(Box::new(e))));
    }
}

struct Reader {
    files: Arc<Vec<DataFile>>,
    builder: BatchBuilder,
    counters: Arc<Counters>,
    seen: SeenIds,
    tx: mpsc::Sender<Item>,
    /// Lines of the file being read that are not events.
    unreadable_here: u64,
}

/// The receiver is gone (the query finished early or failed): stop reading.
struct Stopped;

impl Reader {
    fn run(mut self) {
        let files = self.files.clone();
        for file in files.iter() {
            let result = match file.format {
                LineFormat::StoreRecord => self.store_file(&file.path),
                LineFormat::AuditLine(listed) => self.audit_file(&file.path, listed),
            };
            if result.is_err() {
                return;
            }
        }
        if self.builder.len() > 0 {
            let _ = self.flush();
        }
    }

    fn store_file(&mut self, path: &Path) -> Result<(), Stopped> {
        let mut reader = match SegmentReader::open(path) {
            Ok(r) => r,
            // Removed since it was listed (retention): its events are gone, not hidden,
            // and counted, for the answer to say it is short by them.
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                tracing::debug!(path = %path.display(), "segment file removed while the query ran");
                self.counters.removed(path);
                return Ok(());
            }
            Err(e) => return self.fail(QueryError::Store(e)),
        };
        self.counters.files_opened.fetch_add(1, Ordering::Relaxed);
        self.unreadable_here = 0;
        // The chain is store-wide (records of other partitions come between), so a
        // record's hash can be checked here only when the record just before it in the
        // file is its predecessor in the chain: one SHA-256 of the record, the check
        // `verify` makes, for what the scan reads anyway. A record changed by hand (its
        // own hash kept) fails it, and so does the next record when its hash was made
        // again. A chain made again from there on passes: only `verify`, against the
        // signed checkpoints, sees that.
        let mut prev: Option<ChainLink> = None;
        let mut failing_chain = 0u64;
        loop {
            match reader.next_chunk() {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => return self.fail(QueryError::Store(e)),
            }
            // A line the store's reader does not take as an event is left out and
            // counted: `auditrail verify` names each such line (the same judgment).
            for line in reader.chunk().lines() {
                let sealed = line.sealed().ok();
                if let (Some(p), Some(s)) = (prev, &sealed) {
                    if p.seq.checked_add(1) == Some(s.link.seq) && !verify_link(&p, s) {
                        failing_chain += 1;
                    }
                }
                prev = sealed.map(|s| s.link);
                match from_line(line.bytes) {
                    Ok(row) => self.row(&row)?,
                    Err(_) => self.unreadable(),
                }
            }
        }
        if self.unreadable_here > 0 {
            self.counters
                .unreadable_in_store_files
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(path.to_path_buf(), self.unreadable_here);
        }
        if failing_chain > 0 {
            self.counters
                .failing_chain_in_store_files
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(path.to_path_buf(), failing_chain);
        }
        // A last line without its newline is a record being written right now (or a
        // torn tail that the store's recovery will cut): left for the next query.
        self.counters
            .bytes_read
            .fetch_add(reader.bytes_read(), Ordering::Relaxed);
        Ok(())
    }

    fn audit_file(
        &mut self,
        path: &Path,
        listed: Option<auditrail_target_file::ListedFile>,
    ) -> Result<(), Stopped> {
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let (events, skipped) = match read_audit_events(path, listed) {
            Ok(Some(r)) => r,
            // Removed since it was listed (the target's retention, `max_files`): its
            // events are gone, not hidden. As for a store's segment.
            Ok(None) => {
                tracing::debug!(path = %path.display(), "audit file removed while the query ran");
                self.counters.removed(path);
                return Ok(());
            }
            Err(e) => return self.fail(e),
        };
        self.counters.files_opened.fetch_add(1, Ordering::Relaxed);
        self.counters.bytes_read.fetch_add(size, Ordering::Relaxed);
        self.counters
            .unreadable_lines
            .fetch_add(skipped, Ordering::Relaxed);
        self.unreadable_here = skipped;
        for (json, received) in &events {
            match parse_audit_event(json.as_bytes(), received.as_deref()) {
                Ok(row) => self.row(&row)?,
                Err(_) => self.unreadable(),
            }
        }
        if self.unreadable_here > 0 {
            self.counters
                .unreadable_in_audit_files
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(path.to_path_buf(), self.unreadable_here);
        }
        Ok(())
    }

    fn unreadable(&mut self) {
        self.unreadable_here += 1;
        self.counters
            .unreadable_lines
            .fetch_add(1, Ordering::Relaxed);
    }

    fn row(&mut self, row: &Row<'_>) -> Result<(), Stopped> {
        if !self.seen.first(&row.event) {
            self.counters.duplicates.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        self.builder.push(row);
        self.counters.rows.fetch_add(1, Ordering::Relaxed);
        if self.builder.len() >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Stopped> {
        let batch = self
            .builder
            .finish()
            .map_err(|e| DataFusionError::ArrowError(Box::new(e), None));
        self.tx.blocking_send(batch).map_err(|_| Stopped)
    }

    fn fail(&self, e: QueryError) -> Result<(), Stopped> {
        let _ = self
            .tx
            .blocking_send(Err(DataFusionError::External(Box::new(e))));
        Err(Stopped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_that_panics_fails_the_query_instead_of_ending_its_rows() {
        let (tx, mut rx) = mpsc::channel(4);
        let broke = tx.clone();
        std::thread::spawn(move || {
            reporting_panics(
                move || {
                    let _ = tx.blocking_send(Ok(RecordBatch::new_empty(Arc::new(
                        datafusion::arrow::datatypes::Schema::empty(),
                    ))));
                    panic!("a record no reader foresaw");
                },
                &broke,
            )
        })
        .join()
        .unwrap();
        assert!(rx.blocking_recv().unwrap().is_ok(), "the rows read before");
        let err = rx.blocking_recv().unwrap().unwrap_err().to_string();
        assert!(err.contains("a record no reader foresaw"), "{err}");
        assert!(rx.blocking_recv().is_none());
    }
}
