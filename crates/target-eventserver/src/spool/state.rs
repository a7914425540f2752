//! The spool's in-memory bookkeeping (segments, head file, ack position).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs::File;

/// A place in the spool: a segment id and a byte offset in it. Ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize)]
pub struct Position {
    /// Segment id.
    pub segment: u64,
    /// Byte offset in the segment.
    pub offset: u64,
}

impl Position {
    /// The first byte of a segment.
    pub fn start_of(segment: u64) -> Position {
        Position { segment, offset: 0 }
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Segment {
    pub id: u64,
    pub len: u64,
    /// Its first bytes known durable (fsynced, or found at open up to their recorded
    /// length): what its `lengths` record may name (see `lengths.rs`). A length
    /// recorded past them could be longer than the file a power loss leaves, and the
    /// next start would report a crash's loss as a cut by hand.
    pub synced: u64,
    /// Intact records in it (acknowledged ones included).
    pub records: u64,
    /// The file it was found or created as: a file at its path that is another one
    /// (moved or copied there) does not hold these records.
    pub file: FileId,
}

/// Which file a segment is (device and inode): what tells the segment file from
/// another file put at its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    pub(super) fn of(meta: &std::fs::Metadata) -> FileId {
        use std::os::unix::fs::MetadataExt;
        FileId {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

/// What a segment that went away held that was not acknowledged yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Gone {
    /// It was the segment being appended to.
    pub head: bool,
    /// Intact records not yet acknowledged.
    pub records: u64,
    /// Bytes not yet acknowledged.
    pub bytes: u64,
    /// Of `records`, those a reader had already handed out (the sender holds them and
    /// is sending them): lost only if the server never acknowledges them.
    pub in_hand: u64,
    /// Of `bytes`, those of the records in hand.
    pub in_hand_bytes: u64,
}

/// The records of a segment that went away that the sender held when it went (read,
/// not yet acknowledged): they are not lost while they may still be acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct GoneInHand {
    /// Records still in hand, not yet acknowledged.
    pub records: u64,
    /// Offset up to which the segment's records are settled (acknowledged before it
    /// went, or since).
    pub settled_to: u64,
    /// The end of the last record in hand.
    pub to: u64,
    /// The segment was already counted as lost (records not read went with it).
    pub counted: bool,
}

/// What an acknowledgement settled of the records in hand of segments that went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct AckedAfterGone {
    pub segment: u64,
    pub records: u64,
    pub bytes: u64,
    /// None of the segment's records is in hand any more.
    pub all: bool,
}

#[derive(Debug)]
pub(super) struct State {
    /// In id order; the last one is the head (appended to) when `head_file` is set.
    segments: Vec<Segment>,
    pub head_file: Option<File>,
    pub ack: Position,
    next_id: u64,
    /// Known damaged ranges: start → end offset in the same segment.
    damaged: BTreeMap<Position, u64>,
    /// Segments in which damage was found.
    damaged_segments: BTreeSet<u64>,
    /// Intact records not yet acknowledged.
    pub pending: u64,
    /// The `newest` mark on disk (see [`super::newest`]).
    pub newest: Option<u64>,
    /// The position after each record a reader handed out and that is not yet
    /// acknowledged, in order: what the sender holds in memory. A segment that goes
    /// away loses only its records not among them (see `gone.rs`).
    in_hand: VecDeque<Position>,
    /// Segments that went away while records of them were in hand, by id.
    gone_in_hand: BTreeMap<u64, GoneInHand>,
}

/// What [`State::add_damage`] learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct NewDamage {
    /// The range was not known yet.
    pub range: bool,
    /// No damage was known in its segment yet.
    pub segment: bool,
}

impl State {
    pub(super) fn new(segments: Vec<Segment>, ack: Position, min_next_id: u64) -> State {
        let next_id = segments
            .last()
            .map_or(0, |s| s.id + 1)
            .max(min_next_id)
            .max(ack.segment);
        State {
            segments,
            head_file: None,
            ack,
            next_id,
            damaged: BTreeMap::new(),
            damaged_segments: BTreeSet::new(),
            pending: 0,
            newest: None,
            in_hand: VecDeque::new(),
            gone_in_hand: BTreeMap::new(),
        }
    }

    /// A reader handed out the records ending at `ends` (in order): in hand until
    /// acknowledged. A record read again (by a new reader) is counted once.
    pub(super) fn handed_out(&mut self, ends: impl IntoIterator<Item = Position>) {
        for end in ends {
            let last = self.in_hand.back().copied().unwrap_or(self.ack);
            if end > last {
                self.in_hand.push_back(end);
            }
        }
    }

    /// Everything before `upto` is acknowledged: the records in hand up to there are
    /// no longer. Returns what that settled of segments that went away, and how many
    /// of the records it settled were theirs (the spool no longer counts them as
    /// pending).
    pub(super) fn settle_in_hand(&mut self, upto: Position) -> (Vec<AckedAfterGone>, u64) {
        let mut settled: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
        while let Some(&end) = self.in_hand.front() {
            if end > upto {
                break;
            }
            self.in_hand.pop_front();
            if let Some(g) = self.gone_in_hand.get_mut(&end.segment) {
                let bytes = end.offset.saturating_sub(g.settled_to);
                g.settled_to = g.settled_to.max(end.offset);
                g.records = g.records.saturating_sub(1);
                let e = settled.entry(end.segment).or_default();
                e.0 += 1;
                e.1 += bytes;
            }
        }
        let mut gone_records = 0;
        let out = settled
            .into_iter()
            .map(|(segment, (records, bytes))| {
                gone_records += records;
                let all = self
                    .gone_in_hand
                    .get(&segment)
                    .is_none_or(|g| g.records == 0);
                if all {
                    self.gone_in_hand.remove(&segment);
                }
                AckedAfterGone {
                    segment,
                    records,
                    bytes,
                    all,
                }
            })
            .collect();
        (out, gone_records)
    }

    /// The sender stopped: the records of segments that went away it still held are
    /// lost. Returns them as [`Self::in_hand_of_gone`] does, and forgets them.
    pub(super) fn give_up_in_hand_of_gone(&mut self) -> (u64, u64, u64) {
        let lost = self.in_hand_of_gone();
        let gone = std::mem::take(&mut self.gone_in_hand);
        self.in_hand.retain(|p| !gone.contains_key(&p.segment));
        lost
    }

    /// Records of segments that went away still in hand, not acknowledged (lost if
    /// they never are): (segments not counted as lost otherwise, records, bytes).
    pub(super) fn in_hand_of_gone(&self) -> (u64, u64, u64) {
        self.gone_in_hand.values().filter(|g| g.records > 0).fold(
            (0, 0, 0),
            |(segments, records, bytes), g| {
                (
                    segments + u64::from(!g.counted),
                    records + g.records,
                    bytes + g.to.saturating_sub(g.settled_to),
                )
            },
        )
    }

    pub(super) fn total_bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.len).sum()
    }

    pub(super) fn head(&self) -> Option<&Segment> {
        self.segments.last()
    }

    pub(super) fn head_len(&self) -> Option<u64> {
        self.head().map(|s| s.len)
    }

    pub(super) fn next_segment_id(&self) -> u64 {
        self.next_id
    }

    pub(super) fn start_segment(&mut self, id: u64, file: File, file_id: FileId) {
        self.segments.push(Segment {
            id,
            len: 0,
            synced: 0,
            records: 0,
            file: file_id,
        });
        self.head_file = Some(file);
        self.next_id = id + 1;
    }

    pub(super) fn grow_head(&mut self, by: u64, records: u64) {
        if let Some(s) = self.segments.last_mut() {
            s.len += by;
            s.records += records;
        }
        self.pending += records;
    }

    /// The head's bytes were fsynced: all of them are durable.
    pub(super) fn head_synced(&mut self) {
        if let Some(s) = self.segments.last_mut() {
            s.synced = s.len;
        }
    }

    /// The id of the file segment `id` is, while the spool knows the segment.
    pub(super) fn file_of(&self, id: u64) -> Option<FileId> {
        self.segments.iter().find(|s| s.id == id).map(|s| s.file)
    }

    /// Forgets segment `id`, whose file is gone (deleted, moved away or replaced):
    /// returns what it held that was not acknowledged, or `None` when the spool no
    /// longer knew it (already forgotten). When the ack position was in it, it moves
    /// to the next segment: nothing is left to send from there.
    pub(super) fn forget_gone(&mut self, id: u64) -> Option<Gone> {
        let i = self.segments.iter().position(|s| s.id == id)?;
        let head = i + 1 == self.segments.len() && self.head_file.is_some();
        // Every segment after the ack position's is wholly unacknowledged, so what is
        // pending and not in them is in the ack position's segment.
        let later: u64 = self.segments[i + 1..].iter().map(|s| s.records).sum();
        let s = self.segments.remove(i);
        let ack = self.ack;
        let (records, bytes) = match s.id.cmp(&ack.segment) {
            std::cmp::Ordering::Less => (0, 0),
            std::cmp::Ordering::Equal => (
                self.pending.saturating_sub(later).min(s.records),
                s.len.saturating_sub(ack.offset),
            ),
            std::cmp::Ordering::Greater => (s.records, s.len),
        };
        // What the sender already read of it is in its hands, not lost (yet).
        let from = if ack.segment == id { ack.offset } else { 0 };
        let mut in_hand = 0u64;
        let mut to = from;
        for end in self.in_hand.iter().filter(|e| e.segment == id) {
            in_hand += 1;
            to = to.max(end.offset);
        }
        let in_hand = in_hand.min(records);
        let in_hand_bytes = to.saturating_sub(from).min(bytes);
        if in_hand > 0 {
            self.gone_in_hand.insert(
                id,
                GoneInHand {
                    records: in_hand,
                    settled_to: from,
                    to,
                    counted: records > in_hand,
                },
            );
        }
        self.pending = self.pending.saturating_sub(records);
        if head {
            self.head_file = None;
        }
        self.damaged.retain(|p, _| p.segment != id);
        if ack.segment == id {
            self.ack = Position::start_of(id + 1);
        }
        Some(Gone {
            head,
            records,
            bytes,
            in_hand,
            in_hand_bytes,
        })
    }

    /// Segment `id`'s file holds only `found` bytes, fewer than the spool wrote to it
    /// (cut in place by hand), of which `kept` intact records: its length becomes
    /// `found`, and what was not acknowledged after the cut is returned as lost
    /// (`None` when the spool no longer knew the segment, or it is not shorter). A cut
    /// head is closed: nothing is appended after a cut, the next append starts a new
    /// segment.
    pub(super) fn cut(&mut self, id: u64, found: u64, kept: u64) -> Option<Gone> {
        let i = self.segments.iter().position(|s| s.id == id)?;
        let s = self.segments[i];
        if found >= s.len {
            return None;
        }
        let head = i + 1 == self.segments.len() && self.head_file.is_some();
        let later: u64 = self.segments[i + 1..].iter().map(|s| s.records).sum();
        let cut_records = s.records.saturating_sub(kept);
        let ack = self.ack;
        let (records, bytes) = match s.id.cmp(&ack.segment) {
            std::cmp::Ordering::Less => (0, 0),
            // Acknowledged records are all before the ack position: those lost are the
            // cut ones after it.
            std::cmp::Ordering::Equal => (
                self.pending
                    .saturating_sub(later)
                    .min(s.records)
                    .min(cut_records),
                s.len.saturating_sub(ack.offset.max(found)),
            ),
            std::cmp::Ordering::Greater => (cut_records, s.len - found),
        };
        self.pending = self.pending.saturating_sub(records);
        if let Some(seg) = self.segments.get_mut(i) {
            seg.len = found;
            seg.synced = seg.synced.min(found);
            seg.records = kept;
        }
        if head {
            self.head_file = None;
        }
        // Damage known past the cut went with it.
        self.damaged
            .retain(|p, _| p.segment != id || p.offset < found);
        Some(Gone {
            head,
            records,
            bytes,
            // A cut is reported as before: its records in hand are not told apart.
            in_hand: 0,
            in_hand_bytes: 0,
        })
    }

    /// The length of each segment the spool no longer appends to (all but an open
    /// head) as far as it is durable: what the `lengths` file records. A head closed
    /// without an fsync (dropped after a failed write, cut) counts only up to its
    /// last one.
    pub(super) fn finished_lengths(&self) -> std::collections::BTreeMap<u64, u64> {
        let open_head = self
            .head_file
            .is_some()
            .then(|| self.segments.last().map(|s| s.id))
            .flatten();
        self.segments
            .iter()
            .filter(|s| Some(s.id) != open_head)
            .map(|s| (s.id, s.len.min(s.synced)))
            .collect()
    }

    /// Segment `id`'s length as the spool wrote it, while it knows the segment.
    pub(super) fn len_of(&self, id: u64) -> Option<u64> {
        self.segments.iter().find(|s| s.id == id).map(|s| s.len)
    }

    /// Why an acknowledgement up to `pos` cannot be right, or `None`: `pos` is past
    /// every place a reader of this spool can have reached (a segment never started,
    /// or past the published end of a segment it knows). Followed, it would delete
    /// segments whose records nobody read.
    pub(super) fn ack_doubt(&self, pos: Position) -> Option<String> {
        // A reader moves past a segment to the next id, so at most to the start of the
        // one the next append would start.
        if pos.segment > self.next_id || (pos.segment == self.next_id && pos.offset > 0) {
            return Some(format!(
                "segment {} was never started (the next one would be {})",
                pos.segment, self.next_id
            ));
        }
        let s = self.segments.iter().find(|s| s.id == pos.segment)?;
        (pos.offset > s.len).then(|| {
            format!(
                "offset {} is past the end of segment {} ({} bytes)",
                pos.offset, s.id, s.len
            )
        })
    }

    /// Bytes of the segments at or after the ack position.
    pub(super) fn unacked_bytes(&self) -> u64 {
        let ack = self.ack;
        self.segments
            .iter()
            .map(|s| match s.id.cmp(&ack.segment) {
                std::cmp::Ordering::Less => 0,
                std::cmp::Ordering::Equal => s.len.saturating_sub(ack.offset),
                std::cmp::Ordering::Greater => s.len,
            })
            .sum()
    }

    /// Whether some record lies at or after the ack position.
    pub(super) fn has_unacked(&self) -> bool {
        let ack = self.ack;
        self.segments.iter().any(|s| {
            s.len > 0 && (s.id > ack.segment || (s.id == ack.segment && s.len > ack.offset))
        })
    }

    /// Where the next append goes: the end of the newest segment.
    pub(super) fn end(&self) -> Position {
        match self.segments.last() {
            Some(s) => Position {
                segment: s.id,
                offset: s.len,
            },
            None => Position::start_of(self.next_id),
        }
    }

    /// The segment holding `pos` or the first one after it: (id, published length,
    /// whether more may be appended to it).
    pub(super) fn segment_at(&self, pos: Position) -> Option<(u64, u64, bool)> {
        let last = self.segments.len().checked_sub(1)?;
        self.segments
            .iter()
            .enumerate()
            .find(|(_, s)| s.id >= pos.segment)
            .map(|(i, s)| (s.id, s.len, i == last && self.head_file.is_some()))
    }

    /// Drops segments wholly before the ack position; returns their ids for deletion.
    /// The head segment is kept while it is still appended to, unless it is fully
    /// acknowledged and already at `roll_at` bytes (the next append would start a new
    /// one anyway): then it is closed and dropped too, so its bytes stop counting
    /// against the size bound.
    pub(super) fn remove_acked(&mut self, roll_at: u64) -> Vec<u64> {
        let ack = self.ack;
        let done = |s: &Segment| s.id < ack.segment || (s.id == ack.segment && ack.offset >= s.len);
        let mut head = self
            .head_file
            .is_some()
            .then(|| self.segments.last().map(|s| s.id))
            .flatten();
        if let Some(last) = self.segments.last() {
            if head == Some(last.id) && done(last) && last.len >= roll_at {
                self.head_file = None;
                head = None;
            }
        }
        let mut removed = Vec::new();
        self.segments.retain(|s| {
            if done(s) && Some(s.id) != head {
                removed.push(s.id);
                false
            } else {
                true
            }
        });
        for id in &removed {
            self.damaged.retain(|p, _| p.segment != *id);
        }
        if removed.contains(&ack.segment) {
            // The ack position's segment is wholly delivered and goes: the position
            // moves to the next one, so that the `ack` file never names a deleted
            // segment, which would look lost at the next start (see `newest`).
            self.ack = Position::start_of(ack.segment + 1);
        }
        removed
    }

    /// Records damaged bytes from `at` to `end` (an offset in the same segment).
    pub(super) fn add_damage(&mut self, at: Position, end: u64) -> NewDamage {
        let range = self.damaged.insert(at, end).is_none();
        let segment = self.damaged_segments.insert(at.segment);
        NewDamage { range, segment }
    }

    /// The end of the known damaged range starting at `at`.
    pub(super) fn damage_at(&self, at: Position) -> Option<u64> {
        self.damaged.get(&at).copied()
    }

    /// Known damaged ranges, in order: (start, end offset).
    pub(super) fn damage(&self) -> impl Iterator<Item = (Position, u64)> + '_ {
        self.damaged.iter().map(|(p, e)| (*p, *e))
    }
}
