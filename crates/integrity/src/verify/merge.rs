//! The producer side of the walk: merges the record files in chainSeq order on its own
//! thread and hands the records on in batches, so that parsing and hashing (the walk's
//! consumer side) run on two cores.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::mpsc::SyncSender;

use super::cursor::Cursor;
use super::files::RecordFile;
use super::late::HeldBack;
use super::placement::Placement;
use super::report::{Problem, ProblemKind, StoreReport};
use super::Progress;

/// Records per batch (bodies are copied into the batch; ~2 MB for typical records).
const BATCH_RECORDS: usize = 4096;

/// One step of the merged stream.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Item {
    /// A file now takes part in the merge (it has a record).
    Open(u32),
    /// A file has no record left.
    Close(u32),
    /// A record: its body is `bodies[start..end]` of the batch.
    Record {
        seq: u64,
        hash: [u8; 32],
        file: u32,
        line: u64,
        /// In the folder the store's layout puts it in.
        placed: bool,
        start: usize,
        end: usize,
    },
}

/// Items and the bodies they point into.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub items: Vec<Item>,
    pub bodies: Vec<u8>,
}

/// Merges `files` and sends the stream to `tx`. Problems found while reading (format,
/// order within a file, torn tails, unreadable files) go to `report`; each record's
/// folder is judged by `placement` (on this thread: the other one hashes). With
/// `held` (`verify --live`), a listed file gone when it is opened is held there, not
/// reported: a prune signed during the walk may have removed it ([`HeldBack`]).
pub(crate) fn produce(
    files: &[RecordFile],
    report: &mut StoreReport,
    mut held: Option<&mut HeldBack>,
    placement: &mut Placement,
    progress: &dyn Progress,
    tx: SyncSender<Batch>,
) {
    // Files are opened in the order of their first chainSeq and only once the merge
    // reaches it, so only the partitions being written concurrently are open at once.
    let mut order: Vec<u32> = (0..files.len() as u32).collect();
    order.sort_by_key(|&i| (files[i as usize].first_seq, i));
    let mut next_file = 0usize;
    let mut cursors: Vec<Option<Cursor>> = (0..files.len()).map(|_| None).collect();
    let mut heap: BinaryHeap<Reverse<(u64, u32)>> = BinaryHeap::new();
    let mut batch = Batch::default();
    loop {
        // A send error means the consumer stopped.
        if batch.items.len() >= BATCH_RECORDS && tx.send(std::mem::take(&mut batch)).is_err() {
            return;
        }
        let top = heap.peek().map(|Reverse((s, _))| *s);
        if next_file < order.len() {
            let f = order[next_file];
            let first = files[f as usize].first_seq;
            if !matches!(top, Some(t) if first > t) {
                next_file += 1;
                let rf = &files[f as usize];
                match auditrail_core::regular_file::open(
                    std::fs::OpenOptions::new().read(true),
                    &rf.path,
                ) {
                    Ok(reader) => {
                        let c = Cursor::open(rf.rel.clone(), reader, report, placement, progress);
                        if let Some((e, _)) = c.current() {
                            heap.push(Reverse((e.seq, f)));
                            cursors[f as usize] = Some(c);
                            batch.items.push(Item::Open(f));
                        }
                    }
                    Err(e) => {
                        let p =
                            Problem::error(ProblemKind::Unreadable, format!("cannot open: {e}"))
                                .at(&rf.rel, 0);
                        match held.as_deref_mut() {
                            Some(h) if e.kind() == std::io::ErrorKind::NotFound => {
                                h.hold(rf.first_seq, rf.first_seq, p, report)
                            }
                            _ => report.push(p),
                        }
                    }
                }
                continue;
            }
        }
        let Some(Reverse((_, f))) = heap.pop() else {
            break;
        };
        let Some(cursor) = cursors[f as usize].as_mut() else {
            continue;
        };
        // Stay on this file while it holds the lowest seq (the common case: one busy
        // partition), without touching the heap.
        let limit = heap.peek().map_or(u64::MAX, |Reverse((s, _))| *s).min(
            order
                .get(next_file)
                .map_or(u64::MAX, |&n| files[n as usize].first_seq.saturating_sub(1)),
        );
        let mut taken = 0;
        while let Some((e, body)) = cursor.current() {
            if e.seq > limit || taken >= BATCH_RECORDS {
                break;
            }
            let start = batch.bodies.len();
            batch.bodies.extend_from_slice(body);
            batch.items.push(Item::Record {
                seq: e.seq,
                hash: e.hash,
                file: f,
                line: e.line,
                placed: e.placed,
                start,
                end: batch.bodies.len(),
            });
            taken += 1;
            cursor.advance(report, placement, progress);
        }
        match cursor.current() {
            Some((e, _)) => heap.push(Reverse((e.seq, f))),
            None => {
                cursors[f as usize] = None;
                batch.items.push(Item::Close(f));
            }
        }
    }
    if !batch.items.is_empty() {
        let _ = tx.send(batch);
    }
}
