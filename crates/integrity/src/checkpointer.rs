//! The store writer's side of checkpointing: when to sign, and appending to the log.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use auditrail_store::checkpoint_pieces::{self, whole_end};
use auditrail_store::recovery::cut_aside;
use auditrail_store::root::{load_or_create_store_id, read_store_id};
use auditrail_store::{CatchUpRate, Head, Timeline};
use auditrail_store::{CHECKPOINT_LOG, CUT_SUFFIX, STORE_ID_FILE};

use super::append::{AppendLog, LogFile};
use super::checkpoint::{
    parse_unverified, Checkpoint, Deletion, LineExtras, LogPieces, TreeHead, FRONTIER_EVERY,
};
use super::high_water::{HighWaterMarks, MarkState};
use super::keys::{PublicKey, Signer};
use super::stops::Recovered;
use super::IntegrityError;

/// A table only (`auditrail_core::object_only`): the derived form also took an array of
/// the values in a row.
impl auditrail_core::object_only::ObjectOnly for CheckpointPolicy {
    const MUST_BE: &'static str = "checkpoints must be a table ([checkpoints])";
}

/// When the store writer signs a checkpoint. Unknown keys are errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CheckpointPolicy {
    /// Sign once this many records were stored since the last checkpoint (default
    /// 10 000; 0 = never by count).
    pub every_records: u64,
    /// Sign at the first batch that is durable this many seconds after the last
    /// checkpoint (default 60; 0 = never by time). A writer that wants a checkpoint
    /// even when no batch arrives calls [`Checkpointer::after_batch`] from a timer.
    pub every_seconds: u64,
    /// Seal every durable batch (default `true`): [`Checkpointer::after_batch`] signs a
    /// line for every new head, so that a batch can be acknowledged only once a signed
    /// line in the store vouches for it, never depending on a later checkpoint. The
    /// count and time above then say when the high-water mark is updated and the line
    /// forwarded to witnesses (those cost a rewrite of a file outside the store, or a
    /// message, per line).
    pub seal_every_batch: bool,
    /// Seal the live piece of the log (`checkpoints.jsonl`) once it holds this many
    /// bytes (default 16 MiB; 0 = never): it becomes `checkpoints.jsonl.<first line's
    /// number>` and a new live piece continues the chain (see
    /// [`auditrail_store::checkpoint_pieces`]).
    pub piece_bytes: u64,
    /// How fast the timeline the lines carry catches up with the wall clock when it is
    /// behind (a downtime, a clock stepped ahead): the server's `[retention]
    /// catch_up_rate`, not a key of `[checkpoints]` (see [`auditrail_store::timeline`]).
    #[serde(skip)]
    pub catch_up: auditrail_store::CatchUpRate,
}

impl Default for CheckpointPolicy {
    fn default() -> CheckpointPolicy {
        CheckpointPolicy {
            every_records: 10_000,
            every_seconds: 60,
            seal_every_batch: true,
            piece_bytes: auditrail_store::checkpoint_pieces::DEFAULT_PIECE_BYTES,
            catch_up: auditrail_store::CatchUpRate::DEFAULT,
        }
    }
}

/// Hook called with every checkpoint written (and its exact log line), e.g. to forward
/// it to a Kafka topic or another server so that a copy lives where this server cannot
/// rewrite it. It runs on the writer's thread: it must not block (hand off to a channel
/// or `Dispatcher::emit`).
pub type CheckpointForwarder = Box<dyn Fn(&Checkpoint, &str) + Send + Sync>;

/// Appends signed checkpoints to `<store>/checkpoints.jsonl` for the store's single
/// writer. Every append is fsynced before the call returns.
pub struct Checkpointer {
    path: PathBuf,
    /// The log file opened at start, to tell whether it is still the one at `path`.
    held: File,
    /// The log, appended to a whole line at a time (a failed append is cut back).
    log: AppendLog<Box<dyn LogFile + Send + Sync>>,
    store_id: String,
    signer: Arc<Signer>,
    policy: CheckpointPolicy,
    last: Option<Checkpoint>,
    last_digest: [u8; 32],
    /// The last line that was published (high-water mark, forwarder): with sealing,
    /// not every line is.
    published_seq: u64,
    /// The index of the last line handed to the forwarder (0: none yet): each line
    /// goes to it once, though a publish whose high-water mark fails is tried again.
    forwarded: u64,
    published_at: Instant,
    /// The highest [`Head::quiet`] seen, and its value at the last published line: the
    /// copies of other servers' checkpoint lines stored in between do not make a line
    /// due (two servers witnessing each other would otherwise answer each other's lines
    /// for ever). They are still sealed, and published with the next line that is due.
    quiet: u64,
    published_quiet: u64,
    /// The last line's text (what the forwarder gets).
    last_line: String,
    forward: Option<CheckpointForwarder>,
    /// Where the store's high-water mark is kept, updated after every checkpoint.
    marks: Option<Arc<HighWaterMarks>>,
    store: PathBuf,
    /// The tree size of the last line written with a frontier since the log was
    /// opened (0: none yet, so the next line carries it).
    frontier_at: u64,
    /// The number of the live piece's first line (`None`: the live piece is empty).
    live_first: Option<u64>,
    /// The store's timeline at `timeline_since`: the last line's `timeline` at open,
    /// then each line's (see [`Checkpoint::timeline`]), advanced by the one rule of
    /// [`auditrail_store::timeline`].
    timeline: Timeline,
    /// The store's latest plausible time at `timeline_since`: the later of the wall
    /// clock and the last line's `latest` at open, then each line's (see
    /// [`Checkpoint::latest`]): the same rule, never taken back by a wall clock set
    /// back ([`Timeline::latest`]).
    latest: Timeline,
    timeline_since: Instant,
    /// The wall clock (unix ms); a test steps it.
    wall: fn() -> i64,
    /// The log's first piece when its start was last found explained (see
    /// [`crate::log_head`]): a pass checks it again only once the head moved.
    head_checked: Option<String>,
}

/// The wall clock, in unix milliseconds.
fn wall_clock() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A unix-ms time as a line writes it (RFC 3339, ms, `Z`).
fn shown_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl std::fmt::Debug for Checkpointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpointer")
            .field("path", &self.path)
            .field("store_id", &self.store_id)
            .field("last", &self.last.as_ref().map(|c| (c.index, c.link.seq)))
            .finish_non_exhaustive()
    }
}

impl Checkpointer {
    /// Opens (or creates) the checkpoint log and store id of the store at `store`. A
    /// store id is only created for a store without checkpoints: a missing id next to a
    /// checkpoint log is an error, never replaced by a new one.
    ///
    /// `head` is the chain's last link as recovered by the store on start (after any
    /// torn tail was cut). A torn last checkpoint line (crash mid-append) is cut, its
    /// bytes appended to `checkpoints.jsonl.cut` and the cut logged. When
    /// `head` is ahead of the last checkpoint, a checkpoint of `head` is written at
    /// once, so records stored before a crash are vouched for again.
    ///
    /// Errors with [`IntegrityError::ChainBehindCheckpoint`] when the store holds fewer
    /// records than its last checkpoint vouches for, or a different chain hash at that
    /// record: vouched records were lost or rewritten, and the caller should refuse to
    /// append to that store until an operator looked (`auditrail verify` names them).
    pub fn open(
        store: &Path,
        signer: Arc<Signer>,
        policy: CheckpointPolicy,
        head: impl Into<Head>,
    ) -> Result<Checkpointer, IntegrityError> {
        Checkpointer::open_with_marks(store, signer, policy, head, None)
    }

    /// [`open`](Self::open), keeping the store's high-water mark in `marks` up to date
    /// after every checkpoint written (the server's way: see [`HighWaterMarks`]).
    pub fn open_with_marks(
        store: &Path,
        signer: Arc<Signer>,
        policy: CheckpointPolicy,
        head: impl Into<Head>,
        marks: Option<Arc<HighWaterMarks>>,
    ) -> Result<Checkpointer, IntegrityError> {
        let head: Head = head.into();
        let link = head.link;
        if read_store_id(store)?.is_none() && has_lines(store) {
            // Checkpoints name the store's identity: it is not replaced by a new one.
            return Err(IntegrityError::CheckpointLog {
                path: store.join(STORE_ID_FILE),
                line: 0,
                reason: format!(
                    "the store id is missing, but the store has a checkpoint log (and {} records): a new id is not made up for it (write the old one back, or run `auditrail store accept`)",
                    link.seq
                ),
            });
        }
        let store_id = load_or_create_store_id(store)?;
        let path = store.join(CHECKPOINT_LOG);
        // Never through a symbolic link put at its name: the signed checkpoints would
        // go to the file it points to, outside the store (refused, as links inside a
        // store are: docs/operations.md).
        // Created with the store's data mode, as its segments are (never readable by
        // every local user: the lines name the store's chain, sizes and times).
        let mut file = auditrail_core::regular_file::open_no_follow(
            auditrail_core::file_mode::audit_data(
                OpenOptions::new().read(true).append(true).create(true),
            ),
            &path,
        )
        .map_err(|e| IntegrityError::io(&path, e))?;
        // The log's name is made durable before any record is: a start that finds
        // records of an attached store but no log refuses it as deleted (guard.rs),
        // so a power loss must not take the name back. On every open, not only when
        // created here: a run killed before this sync left a log no later check of
        // "is it new" would make durable.
        crate::keys::sync_dir(store)?;
        // Only the live piece's end is read (never the whole log, nor a sealed piece
        // but the last line of the last one when the live piece is empty): a start's
        // memory does not grow with the log.
        let len = file
            .metadata()
            .map_err(|e| IntegrityError::io(&path, e))?
            .len();
        let complete = whole_end(&mut file, len).map_err(|e| IntegrityError::io(&path, e))?;
        if complete < len {
            // A crash during an append left a partial line. An append writes the line
            // and its newline at once and only then fsyncs, and nothing is acknowledged
            // or published before that fsync returned: a line without its newline was
            // never durable as a whole and vouched for nothing, even when its bytes
            // happen to be a whole signed line (the records it names may have been cut
            // by the store's recovery as well). Cut so the log stays parseable and the
            // next line links to the last durable one; the bytes are kept aside.
            let mut tail = Vec::new();
            file.seek(SeekFrom::Start(complete))
                .and_then(|_| file.read_to_end(&mut tail))
                .map_err(|e| IntegrityError::io(&path, e))?;
            let whole = parse_unverified(&tail).ok();
            let bytes = cut_aside(&path, complete)?;
            match whole {
                Some(cp) => tracing::warn!(
                    file = %path.display(),
                    offset = complete,
                    bytes,
                    "checkpoint log ends with checkpoint #{} (chainSeq {}) without its newline: never fsynced as a whole, cut (kept in {}{CUT_SUFFIX})",
                    cp.index,
                    cp.link.seq,
                    path.display()
                ),
                None => tracing::warn!(
                    file = %path.display(),
                    offset = complete,
                    bytes,
                    "torn checkpoint line cut (kept in {}{CUT_SUFFIX})",
                    path.display()
                ),
            }
        }
        file.seek(SeekFrom::End(0))
            .map_err(|e| IntegrityError::io(&path, e))?;
        let mut last = None;
        let mut last_digest = [0u8; 32];
        let mut last_line = String::new();
        let tail = checkpoint_pieces::last_line(store)
            .map_err(|e| IntegrityError::io(&e.path, e.source))?;
        if let Some(tail) = tail {
            let line = &tail.bytes;
            let at = |reason: String| IntegrityError::CheckpointLog {
                path: tail.piece.path.clone(),
                // Its number is not counted (the piece is not read whole): the
                // reason says "last line".
                line: 0,
                reason,
            };
            let cp = parse_unverified(line).map_err(|e| at(format!("its last line: {e}")))?;
            if cp.store_id != store_id {
                return Err(at(format!(
                    "its last line: checkpoint names store {} but the store id is {store_id}",
                    cp.store_id
                )));
            }
            last_digest = Checkpoint::line_digest(line);
            last_line = String::from_utf8_lossy(line).into_owned();
            last = Some(cp);
        }
        // The live piece's first line's number, read up to its first newline.
        let live_first =
            match checkpoint_pieces::first_line(&path).map_err(|e| IntegrityError::io(&path, e))? {
                Some(l) if complete > 0 => Some(
                    parse_unverified(&l)
                        .map_err(|e| IntegrityError::CheckpointLog {
                            path: path.clone(),
                            line: 1,
                            reason: e.to_string(),
                        })?
                        .index,
                ),
                _ => None,
            };
        if let Some(cp) = &last {
            if cp.link.seq > link.seq {
                return Err(IntegrityError::ChainBehindCheckpoint {
                    path: store.to_path_buf(),
                    reason: format!(
                        "checkpoint #{} vouches for records up to chainSeq {}, but the store ends at {}",
                        cp.index, cp.link.seq, link.seq
                    ),
                });
            }
            if cp.link.seq == link.seq && cp.link.hash != link.hash {
                return Err(IntegrityError::ChainBehindCheckpoint {
                    path: store.to_path_buf(),
                    reason: format!(
                        "checkpoint #{} vouches for chain hash {} at chainSeq {}, the store has {}",
                        cp.index,
                        cp.link.hash_hex(),
                        cp.link.seq,
                        link.hash_hex()
                    ),
                });
            }
        }
        // A second handle of the same open file: each seal first checks that the log is
        // still the file at its path (the appends may go through another writer in tests).
        let held = file.try_clone().map_err(|e| IntegrityError::io(&path, e))?;
        // Its torn tail (if any) was cut above: it ends at `complete`, and a byte found
        // after it from now on is someone else's.
        let log = AppendLog::whole(Box::new(file) as Box<dyn LogFile + Send + Sync>, complete);
        let mut me = Checkpointer {
            path,
            held,
            log,
            store_id,
            signer,
            policy,
            // Published again at open: the mark then names the last line, whatever
            // a crash between a seal and its mark left.
            published_seq: 0,
            forwarded: 0,
            last_line,
            last,
            last_digest,
            published_at: Instant::now(),
            quiet: 0,
            published_quiet: 0,
            forward: None,
            marks,
            store: store.to_path_buf(),
            frontier_at: 0,
            live_first,
            head_checked: None,
            timeline: Timeline::resume(None, 0, policy.catch_up),
            latest: Timeline::latest(None, 0, policy.catch_up),
            timeline_since: Instant::now(),
            wall: wall_clock,
        };
        me.resume_timeline();
        me.vouch_at_start(head)?;
        // A log of one big file (written before pieces existed) is sealed as its first
        // piece here; a seal interrupted before its rename is finished.
        me.seal_when_full();
        Ok(me)
    }

    /// At open: the timeline resumes from the last line's (its `timeline`, or its
    /// `time` for a line written before it), never ahead of the wall clock; a wall
    /// clock far ahead of it (a clock stepped ahead, or a downtime) is not jumped to but
    /// caught up at the policy's rate, and is logged: retention then deletes late, or
    /// early by no more than that rate allows (see [`auditrail_store::timeline`]).
    fn resume_timeline(&mut self) {
        let wall = (self.wall)();
        let parse = |t: &str| {
            chrono::DateTime::parse_from_rfc3339(t)
                .ok()
                .map(|d| d.timestamp_millis())
        };
        let last = self
            .last
            .as_ref()
            .and_then(|c| parse(c.timeline.as_deref().unwrap_or(&c.time)));
        // A line before `latest` existed: its timeline stands in.
        let latest = self
            .last
            .as_ref()
            .and_then(|c| c.latest.as_deref().and_then(parse))
            .max(last);
        let rate = self.policy.catch_up;
        self.latest = Timeline::latest(latest, wall, rate);
        self.timeline = Timeline::resume(last, wall, rate);
        // A log ahead of the wall clock is not carried on (see `not_ahead_of`).
        self.timeline.not_ahead_of(wall);
        self.timeline_since = Instant::now();
        let ahead = self.timeline.behind();
        if ahead > auditrail_store::CLOCK_TOLERANCE.as_millis() as i64 {
            let caught_up = if rate == CatchUpRate::NONE {
                "never caught up ([retention] catch_up_rate = 1)".to_owned()
            } else {
                format!(
                    "caught up at {rate} times the monotonic clock ([retention] catch_up_rate), within {}s of uptime",
                    (ahead as f64 / (rate.get() - 1.0) / 1000.0).ceil()
                )
            };
            tracing::warn!(
                store = %self.store.display(),
                wall = %shown_ms(wall),
                timeline = %shown_ms(self.timeline.at()),
                "the wall clock is ahead of the store's timeline (its checkpoint log's last line) by {}s: the timeline goes on from its last line, not from the wall clock, and the gap is {caught_up} (a clock stepped ahead must not make retention delete early; after a downtime, deletions wait until it is caught up)",
                ahead / 1000
            );
        }
    }

    /// The timeline now: advanced by the monotonic time since the last one (faster while
    /// behind, see [`auditrail_store::timeline`]), never ahead of the wall clock `wall`;
    /// and the latest plausible time, advanced alike but never taken back (never
    /// earlier than the timeline).
    fn timeline_now(&mut self, wall: i64) -> (i64, i64) {
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(self.timeline_since);
        self.timeline_since = now;
        self.timeline.advance(wall, elapsed);
        let latest = self.latest.advance(wall, elapsed);
        let timeline = self.timeline.not_ahead_of(wall);
        (timeline, latest.max(timeline))
    }

    /// At open: a line of `head` when the store holds records after the log's last
    /// line, saying which (`recovered`), so that the signature tells they were vouched
    /// for at this start, not sealed as they were acknowledged; then the last line is
    /// published. (After a clean stop's line, the server's guard refused the store
    /// before, unless an operator accepted those records: see [`crate::stops`].)
    fn vouch_at_start(&mut self, head: Head) -> Result<(), IntegrityError> {
        let after = self.last_seq();
        if head.link.seq > after {
            let recovered = Recovered {
                from_seq: after + 1,
                to_seq: head.link.seq,
            };
            let cp = self.write_line(head, None, None, false, Some(recovered))?;
            tracing::warn!(
                store = %self.store.display(),
                from_seq = recovered.from_seq,
                to_seq = recovered.to_seq,
                checkpoint = cp.index,
                "records chainSeq {}..{} were found after the checkpoint log's last line (left by a crash before their seal, never acknowledged, or accepted by an operator after a clean stop); checkpoint #{} vouches for them, marked as recovered at this start (`auditrail verify` reports it)",
                recovered.from_seq,
                recovered.to_seq,
                cp.index
            );
        }
        if self.published_seq < self.last_seq() {
            self.publish()?;
        }
        Ok(())
    }

    /// Before the store takes records (the server, not an operator command): when the
    /// log's last line was signed with the server stopped (a clean stop's, an
    /// acceptance recording the head it accepted: [`Checkpoint::stopped_at`]), a plain
    /// line of `head` follows it, so that records a crash leaves before their first
    /// seal do not follow such a line (the next start then signs them as recovered
    /// instead of refusing them as written while the server was stopped). Returns the
    /// line written, if any.
    pub fn take_records(
        &mut self,
        head: impl Into<Head>,
    ) -> Result<Option<Checkpoint>, IntegrityError> {
        let head: Head = head.into();
        let stopped = self.last.as_ref().and_then(Checkpoint::stopped_at);
        if stopped.is_none() || head.link.seq < self.last_seq() {
            return Ok(None);
        }
        let cp = self.write_line(head, None, None, false, None)?;
        self.publish()?;
        Ok(Some(cp))
    }

    /// Sets the hook that receives every checkpoint written from now on.
    pub fn set_forwarder(&mut self, forward: CheckpointForwarder) {
        self.forward = Some(forward);
    }

    /// The policy in force.
    pub fn policy(&self) -> CheckpointPolicy {
        self.policy
    }

    /// The store's id (from `<store>/store-id`).
    pub fn store_id(&self) -> &str {
        &self.store_id
    }

    /// The last checkpoint in the log.
    pub fn last(&self) -> Option<&Checkpoint> {
        self.last.as_ref()
    }

    /// The store writer calls this after every durable batch with the chain's last
    /// link (and a timer calls it with the same link). With
    /// [`CheckpointPolicy::seal_every_batch`] a line is written (and fsynced) for every
    /// new head and published when the policy says it is due; otherwise a line is
    /// written only when it is due. Returns the line written, if any.
    pub fn after_batch(
        &mut self,
        head: impl Into<Head>,
    ) -> Result<Option<Checkpoint>, IntegrityError> {
        let head: Head = head.into();
        self.quiet = self.quiet.max(head.quiet);
        self.keep_marks_in_place();
        if self.policy.seal_every_batch {
            let sealed = self.append(head)?;
            if self.published_seq < self.last_seq() && self.due(self.last_seq()) {
                self.publish()?;
            }
            return Ok(sealed);
        }
        if self.due(head.link.seq) {
            self.checkpoint_now(head)
        } else {
            Ok(None)
        }
    }

    /// Whether the policy wants a published checkpoint of a head at `seq`.
    fn due(&self, seq: u64) -> bool {
        let quiet = self.quiet - self.published_quiet.min(self.quiet);
        let since = (seq - self.published_seq.min(seq)).saturating_sub(quiet);
        if since == 0 {
            return false;
        }
        let by_count = self.policy.every_records > 0 && since >= self.policy.every_records;
        let by_time = self.policy.every_seconds > 0
            && self.published_at.elapsed() >= Duration::from_secs(self.policy.every_seconds);
        by_count || by_time
    }

    /// Writes a checkpoint of `head` now, unless the last one already vouches for it,
    /// and publishes the last line (high-water mark, forwarder) if it was not yet.
    pub fn checkpoint_now(
        &mut self,
        head: impl Into<Head>,
    ) -> Result<Option<Checkpoint>, IntegrityError> {
        let head: Head = head.into();
        let written = self.append(head)?;
        if self.published_seq < self.last_seq() {
            self.publish()?;
        }
        Ok(written)
    }

    /// Records a deletion (retention, `auditrail store prune`): appends and fsyncs a
    /// signed line of `head` (the chain head while the store's writer is held, so it
    /// names the last record, which a prune never deletes) carrying `deletion`, and
    /// publishes it at once (high-water mark, forwarder), so that the deletion cannot
    /// be rolled back without the mark showing it. The caller removes the files only
    /// after this returns.
    pub fn record_deletion(
        &mut self,
        head: impl Into<Head>,
        deletion: Deletion,
    ) -> Result<Checkpoint, IntegrityError> {
        let head: Head = head.into();
        if head.link.seq < self.last_seq() {
            return Err(IntegrityError::ChainBehindCheckpoint {
                path: self.store.clone(),
                reason: format!(
                    "a deletion at chainSeq {} was asked for, the log already vouches for {}",
                    head.link.seq,
                    self.last_seq()
                ),
            });
        }
        // Written with the server stopped after a clean stop or an acceptance of this
        // head (`auditrail store prune`; a running server's last line is never such a
        // line): the store still is.
        let stopped = self
            .last
            .as_ref()
            .and_then(Checkpoint::stopped_at)
            .is_some_and(|s| s.seq == head.link.seq);
        let cp = self.write_line(head, Some(deletion), None, stopped, None)?;
        self.publish()?;
        Ok(cp)
    }

    /// Hands signing over to `next` (a key rotation): appends and fsyncs a line of
    /// `head` carrying `nextKey`, signed by this checkpointer's (retiring) key, and
    /// publishes it. From this line on, a verifier accepts only lines signed by `next`;
    /// the caller then signs with the new key (and never again with this one). When the
    /// log's last line already hands over to `next` (a rotation done again after an
    /// interruption), nothing is written and that line is returned.
    pub fn rotate(
        &mut self,
        head: impl Into<Head>,
        next: PublicKey,
    ) -> Result<Checkpoint, IntegrityError> {
        let head: Head = head.into();
        if let Some(last) = &self.last {
            if last.next_key == Some(next) {
                return Ok(last.clone());
            }
        }
        // A rotation runs with the server stopped, at the store's head: like a clean
        // stop's line, no record follows it legitimately (and the retiring key signs
        // nothing after it, so `close` adds no line).
        let cp = self.write_line(head, None, Some(next), true, None)?;
        self.publish()?;
        Ok(cp)
    }

    /// Whether the log is still the file this checkpointer appends to, at its path and
    /// whole (not moved, removed, replaced, truncated or appended to by someone else,
    /// and no symbolic link put at its path): a line appended otherwise would seal nothing
    /// anyone finds, or seal through a link into a file outside the store (the log
    /// moved to another disk and linked back: `stat` through the link finds the same
    /// file, `lstat` finds the link). One `lstat` and one `fstat`.
    pub(crate) fn log_in_place(&self) -> Result<(), IntegrityError> {
        #[cfg(unix)]
        if let Some(reason) = auditrail_core::durable::why_not_at_no_follow(
            &self.held,
            &self.path,
            self.log.expected(),
        ) {
            return Err(IntegrityError::CheckpointLogGone {
                path: self.path.clone(),
                reason,
            });
        }
        Ok(())
    }

    /// Appends and fsyncs a signed line of `head` unless the last line vouches for it.
    fn append(&mut self, head: Head) -> Result<Option<Checkpoint>, IntegrityError> {
        if head.link.seq == 0 || head.link.seq <= self.last_seq() {
            return Ok(None);
        }
        self.write_line(head, None, None, false, None).map(Some)
    }

    /// Signs, appends and fsyncs one line.
    fn write_line(
        &mut self,
        head: Head,
        deleted: Option<Deletion>,
        next_key: Option<PublicKey>,
        clean_stop: bool,
        recovered: Option<Recovered>,
    ) -> Result<Checkpoint, IntegrityError> {
        self.quiet = self.quiet.max(head.quiet);
        let index = self.last.as_ref().map_or(1, |c| c.index + 1);
        // The frontier goes on lines the server may resume its tree from: the first
        // after a start, deletions and rotations, and at least every FRONTIER_EVERY
        // records (so a restart replays at most that many records into the tree).
        let with_frontier = self.frontier_at == 0
            || deleted.is_some()
            || next_key.is_some()
            || head.link.seq.saturating_sub(self.frontier_at) >= FRONTIER_EVERY;
        let tree = head
            .tree
            .as_ref()
            // A line vouching for no record (an empty store's clean stop) signs no
            // tree: the tree of no leaf has no head to sign.
            .filter(|t| t.end() == head.link.seq && head.link.seq > 0)
            .map(|t| TreeHead::of(t, with_frontier));
        let frontier_seq = tree
            .as_ref()
            .filter(|t| t.frontier.is_some())
            .map(|t| t.size);
        let head = head.link;
        let wall = (self.wall)();
        let time = shown_ms(wall);
        let (timeline, latest) = self.timeline_now(wall);
        let (timeline, latest) = (Some(shown_ms(timeline)), Some(shown_ms(latest)));
        let (cp, mut line) = Checkpoint::sign_with(
            &self.signer,
            index,
            &self.store_id,
            head,
            time,
            self.last_digest,
            LineExtras {
                clean_stop,
                recovered,
                deleted,
                next_key,
                tree,
                accepted: None,
                timeline,
                latest,
            },
        );
        let digest = Checkpoint::line_digest(line.as_bytes());
        line.push('\n');
        // An operator may move, remove or truncate the log while the server runs:
        // appended to the file still open, the seal would vouch for records from a file
        // nobody finds at the path, or (after `copytruncate`) start the log past a cut
        // (and the next start, finding no log, another, or one cut short, refuses).
        // Refused instead, so the batch is not acknowledged (the task logs it and
        // retries: sealing goes on once the file is back, whole).
        self.log_in_place()?;
        // A failed append (a full disk: part of the line written) is cut back, so the
        // next line is never appended onto a fragment.
        self.log
            .append(line.as_bytes())
            .map_err(|e| IntegrityError::io(&self.path, e))?;
        self.last_digest = digest;
        if let Some(seq) = frontier_seq {
            self.frontier_at = seq;
        }
        self.last_line = line;
        self.last = Some(cp.clone());
        self.live_first.get_or_insert(index);
        self.seal_when_full();
        Ok(cp)
    }

    /// Seals the live piece once it holds [`CheckpointPolicy::piece_bytes`]. The line
    /// just written is durable either way: a seal that fails is logged and tried again
    /// after the next line (the live piece only grows meanwhile).
    fn seal_when_full(&mut self) {
        let Some(first) = self.live_first else { return };
        if self.policy.piece_bytes == 0 || self.log.len() < self.policy.piece_bytes {
            return;
        }
        if let Err(e) = self.seal_piece(first) {
            tracing::error!(store = %self.store.display(), error = %e, "cannot seal the checkpoint log's live piece (retried after the next line)");
        }
    }

    fn seal_piece(&mut self, first: u64) -> Result<(), IntegrityError> {
        // Not a file someone put at the path: only this log's lines are sealed.
        self.log_in_place()?;
        checkpoint_pieces::seal_live(&self.store, first)
            .map_err(|e| IntegrityError::io(&self.path, e))?;
        let file = auditrail_core::regular_file::open_no_follow(
            auditrail_core::file_mode::audit_data(
                OpenOptions::new().read(true).append(true).create(true),
            ),
            &self.path,
        )
        .map_err(|e| IntegrityError::io(&self.path, e))?;
        self.held = file
            .try_clone()
            .map_err(|e| IntegrityError::io(&self.path, e))?;
        self.log = AppendLog::new(Box::new(file) as Box<dyn LogFile + Send + Sync>, 0);
        self.live_first = None;
        // The first line of every piece carries the tree's frontier: when retention
        // removes the pieces before it, that line's frontier is the deleted run's
        // subtrees (see [`LogPieces`]).
        self.frontier_at = 0;
        Ok(())
    }

    /// SHA-256 of the last line written (or found at open).
    pub(crate) fn last_line_digest(&self) -> [u8; 32] {
        self.last_digest
    }

    /// The sealed pieces a deletion may remove when every record below `first_kept` is
    /// deleted: the longest run of pieces from the first such that the first line
    /// after them vouches for records below `first_kept` only (and carries the tree's
    /// frontier, on a store with a tree). Reads the first line of each piece looked at
    /// and the last line of the last one taken. `None`: none may go.
    pub(crate) fn removable_pieces(
        &mut self,
        first_kept: Option<u64>,
    ) -> Result<Option<LogPieces>, IntegrityError> {
        let Some(floor) = first_kept else {
            return Ok(None);
        };
        // The log must start where a signed line left it: pieces removed by hand before
        // the first one would otherwise be signed over as retention's by this line,
        // and `verify` would no longer see them (an error: none is removed).
        let all = checkpoint_pieces::pieces(&self.store)
            .map_err(|e| IntegrityError::io(&self.store, e))?;
        let head = all.first().map(|p| p.name.clone());
        if head.is_none() || head != self.head_checked {
            match crate::log_head::check(&self.store, &[]) {
                Ok(()) => self.head_checked = head,
                Err(crate::log_head::HeadError::Read { path, source }) => {
                    return Err(IntegrityError::io(&path, source))
                }
                Err(crate::log_head::HeadError::Removed(found)) => {
                    return Err(IntegrityError::CheckpointLog {
                        path: self.store.join(&found.piece),
                        line: 1,
                        reason: found.to_string(),
                    })
                }
            }
        }
        let mut taken: Option<(usize, Checkpoint)> = None;
        for i in 0..all.len() {
            if all[i].is_live() {
                break;
            }
            let Some(next) = all.get(i + 1) else { break };
            let Some(line) = checkpoint_pieces::first_line(&next.path)
                .map_err(|e| IntegrityError::io(&next.path, e))?
            else {
                break;
            };
            let Ok(cp) = parse_unverified(&line) else {
                break;
            };
            let frontier_ok = cp.tree.as_ref().is_none_or(|t| t.frontier.is_some());
            if cp.link.seq >= floor || !frontier_ok {
                break;
            }
            // The piece must link to the next one (its last line is the line before
            // the next one's first): a piece removed by hand between them is a gap
            // the deletion line would otherwise sign over as retention's, so that
            // `verify` no longer sees it. The pieces up to the gap may go; the gap
            // stays, for `verify` to name.
            let path = &all[i].path;
            let Some(last) =
                checkpoint_pieces::last_line_of(path).map_err(|e| IntegrityError::io(path, e))?
            else {
                break;
            };
            let linked = parse_unverified(&last).is_ok_and(|l| l.index + 1 == cp.index)
                && Checkpoint::line_digest(&last) == cp.prev;
            if !linked {
                break;
            }
            taken = Some((i, cp));
        }
        let Some((last, next)) = taken else {
            return Ok(None);
        };
        let path = &all[last].path;
        let Some(line) =
            checkpoint_pieces::last_line_of(path).map_err(|e| IntegrityError::io(path, e))?
        else {
            return Ok(None);
        };
        let removed = parse_unverified(&line).map_err(|e| IntegrityError::CheckpointLog {
            path: path.clone(),
            line: 0,
            reason: format!("its last line: {e}"),
        })?;
        if Checkpoint::line_digest(&line) != next.prev || removed.index + 1 != next.index {
            // Not one chain here (verify names it): nothing is removed on top of it.
            return Ok(None);
        }
        Ok(Some(LogPieces {
            pieces: all[..=last].iter().map(|p| p.name.clone()).collect(),
            through: removed.index,
            digest: hex::encode(Checkpoint::line_digest(&line)),
            through_seq: next.link.seq,
            chain_hash: next.link.hash_hex(),
            subtrees: next
                .tree
                .as_ref()
                .and_then(|t| t.frontier.as_ref())
                .map(|f| f.iter().map(hex::encode).collect()),
        }))
    }

    /// Puts the high-water marks file back when someone removed it while the server
    /// runs, and says so when someone changed it ([`HighWaterMarks::keep_in_place`]). Not a failure of the
    /// batch: what it stores is whole either way; the marks matter at the next start.
    fn keep_marks_in_place(&self) {
        let Some(marks) = &self.marks else { return };
        match marks.keep_in_place() {
            Ok(None) => {}
            Ok(Some(found)) => tracing::warn!(file = %marks.path().display(), found = %found,
                "the high-water marks file was changed while the server runs"),
            // Its folder moved away: said once by the marks (`check_folder`), and the
            // next mark due fails with it (`/readyz`: `high_water_mark_unwritten`).
            Err(IntegrityError::MarksFolderMoved { .. }) => {}
            Err(e) => tracing::error!(file = %marks.path().display(), error = %e,
                "the high-water marks file was changed while the server runs and cannot be written again: a crash now would stop the next start until `auditrail store accept`"),
        }
    }

    /// Publishes the last line: the forwarder gets it, and the high-water mark names it.
    fn publish(&mut self) -> Result<(), IntegrityError> {
        // (A deletion line can name the same chainSeq as the line before it: what is
        // published is the last line, whatever its number.)
        let Some(cp) = self.last.clone() else {
            return Ok(());
        };
        // Once per line: a publish is tried again (every due batch, every second)
        // while its mark cannot be written (the data folder moved away, a full disk),
        // and each try handed the same line to the witnesses again, which a forwarder
        // that does not look at the index (`forward::via_dispatcher`) sent as one more
        // event each time. The line is durable in the log before this point either way.
        if let Some(forward) = self.forward.as_ref().filter(|_| cp.index > self.forwarded) {
            forward(&cp, self.last_line.trim_end());
            self.forwarded = cp.index;
        }
        if let Some(marks) = &self.marks {
            // After the checkpoint is durable: the mark never names a line the log
            // could lose in a crash.
            marks.put(
                &self.signer,
                &self.store,
                &MarkState {
                    store_id: self.store_id.clone(),
                    checkpoint: cp.index,
                    link: cp.link,
                    checkpoint_digest: self.last_digest,
                    accepted: None,
                },
            )?;
        }
        self.published_seq = cp.link.seq;
        self.published_at = Instant::now();
        self.published_quiet = self.quiet;
        Ok(())
    }

    /// At shutdown, after the last durable batch: a final checkpoint of `head` that
    /// records the clean stop (see [`record_stop`](Self::record_stop)).
    pub fn close(mut self, head: impl Into<Head>) -> Result<Option<Checkpoint>, IntegrityError> {
        let written = self.record_stop(head)?;
        Ok(written.or(self.last))
    }

    /// A clean stop, once no record can be written to the store any more: appends and
    /// fsyncs a line of `head` saying so (`cleanStop`), and publishes it (the
    /// high-water mark names it), so that a record found after it at the next start
    /// is known to have been written while the server was stopped. Nothing is written
    /// when the last line already is such a line of `head` (or a rotation line, which
    /// is one and whose key signs nothing more). A store without records gets such a
    /// line too, vouching for none (`chainSeq` 0): records put into it while the
    /// server is stopped follow it, and are refused as well.
    pub fn record_stop(
        &mut self,
        head: impl Into<Head>,
    ) -> Result<Option<Checkpoint>, IntegrityError> {
        let head: Head = head.into();
        let stopped = self
            .last
            .as_ref()
            .is_some_and(|c| c.clean_stop || c.next_key.is_some());
        let written =
            if head.link.seq < self.last_seq() || (head.link.seq == self.last_seq() && stopped) {
                None
            } else {
                Some(self.write_line(head, None, None, true, None)?)
            };
        if written.is_some() || self.published_seq < self.last_seq() {
            self.publish()?;
        }
        Ok(written)
    }

    fn last_seq(&self) -> u64 {
        self.last.as_ref().map_or(0, |c| c.link.seq)
    }
}

/// Whether the store's log holds a line (read from its end only).
fn has_lines(store: &Path) -> bool {
    checkpoint_pieces::last_line(store)
        .is_ok_and(|l| l.is_some_and(|l| l.bytes.iter().any(|b| !b.is_ascii_whitespace())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::append::FullDisk;
    use auditrail_store::chain::{Chain, ChainLink};
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    fn seal_n(chain: &mut Chain, n: usize) -> ChainLink {
        let mut out = Vec::new();
        for _ in 0..n {
            chain.seal(b"{\"x\":1", &mut out);
        }
        chain.last()
    }

    /// A store folder whose checkpointer (default policy, one fixed key) was opened on
    /// a chain of `records` records (so its log holds one line), with its log's path.
    struct Opened {
        dir: tempfile::TempDir,
        signer: Arc<Signer>,
        chain: Chain,
        cp: Checkpointer,
        log: PathBuf,
    }

    fn opened(records: usize) -> Opened {
        let dir = tempfile::tempdir().unwrap();
        let signer = Arc::new(Signer::from_seed([1; 32]));
        let mut chain = Chain::genesis();
        let cp = Checkpointer::open(
            dir.path(),
            signer.clone(),
            CheckpointPolicy::default(),
            seal_n(&mut chain, records),
        )
        .unwrap();
        let log = dir.path().join(CHECKPOINT_LOG);
        Opened {
            dir,
            signer,
            chain,
            cp,
            log,
        }
    }

    #[test]
    fn checkpoints_by_count_and_at_close_and_links_them() {
        let dir = tempfile::tempdir().unwrap();
        let signer = Arc::new(Signer::from_seed([1; 32]));
        let policy = CheckpointPolicy {
            every_records: 10,
            every_seconds: 0,
            seal_every_batch: false,
            ..CheckpointPolicy::default()
        };
        let mut chain = Chain::genesis();
        let mut cp = Checkpointer::open(dir.path(), signer.clone(), policy, chain.last()).unwrap();
        assert!(cp.after_batch(seal_n(&mut chain, 4)).unwrap().is_none());
        let first = cp.after_batch(seal_n(&mut chain, 6)).unwrap().unwrap();
        assert_eq!((first.index, first.link.seq), (1, 10));
        let last = cp.close(seal_n(&mut chain, 3)).unwrap().unwrap();
        assert_eq!((last.index, last.link.seq), (2, 13));
        let text = std::fs::read_to_string(dir.path().join(CHECKPOINT_LOG)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let second = Checkpoint::parse_line(lines[1].as_bytes()).unwrap();
        assert_eq!(second.prev, Checkpoint::line_digest(lines[0].as_bytes()));

        // Reopening at the same head writes nothing; a head behind the log is refused.
        let cp = Checkpointer::open(dir.path(), signer.clone(), policy, chain.last()).unwrap();
        assert_eq!(cp.last().unwrap().index, 2);
        drop(cp);
        let err = Checkpointer::open(
            dir.path(),
            signer,
            policy,
            ChainLink {
                seq: 5,
                hash: [0; 32],
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("up to chainSeq 13"), "{err}");
    }

    #[test]
    fn checkpoints_by_time_once_the_period_passed() {
        let dir = tempfile::tempdir().unwrap();
        let signer = Arc::new(Signer::from_seed([1; 32]));
        let policy = CheckpointPolicy {
            every_records: 0,
            every_seconds: 1,
            seal_every_batch: false,
            ..CheckpointPolicy::default()
        };
        let mut chain = Chain::genesis();
        let mut cp = Checkpointer::open(dir.path(), signer, policy, chain.last()).unwrap();
        let head = seal_n(&mut chain, 3);
        // Polled with a bounded deadline: the first call after one second writes.
        let deadline = Instant::now() + Duration::from_secs(30);
        let written = loop {
            if let Some(c) = cp.after_batch(head).unwrap() {
                break c;
            }
            assert!(Instant::now() < deadline, "no checkpoint by time");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(written.link.seq, 3);
        assert!(
            cp.after_batch(head).unwrap().is_none(),
            "nothing new to vouch for"
        );
    }

    #[test]
    fn torn_last_line_is_cut_and_a_recovered_head_is_checkpointed_on_open() {
        let Opened {
            dir,
            signer,
            mut chain,
            cp,
            log,
        } = opened(5);
        assert_eq!(cp.last().unwrap().link.seq, 5);
        drop(cp);
        let mut f = OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(b"{\"checkpoint\":2,\"stor").unwrap();
        let head = seal_n(&mut chain, 2);
        let cp = Checkpointer::open(dir.path(), signer, CheckpointPolicy::default(), head).unwrap();
        assert_eq!(cp.last().unwrap().index, 2);
        assert_eq!(cp.last().unwrap().link.seq, 7);
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text
            .lines()
            .all(|l| Checkpoint::parse_line(l.as_bytes()).is_ok()));
    }

    #[test]
    fn a_torn_last_line_is_kept_in_a_cut_file_and_the_cut_is_logged() {
        let Opened {
            dir,
            signer,
            chain,
            cp,
            log,
        } = opened(5);
        drop(cp);
        let head = chain.last();
        let whole = std::fs::read(&log).unwrap();
        let fragment = b"{\"checkpoint\":2,\"stor";
        OpenOptions::new()
            .append(true)
            .open(&log)
            .unwrap()
            .write_all(fragment)
            .unwrap();

        let (cp, text) = crate::test_log::logged(|| {
            Checkpointer::open(dir.path(), signer, CheckpointPolicy::default(), head)
        });
        assert_eq!(cp.unwrap().last().unwrap().index, 1);
        assert_eq!(std::fs::read(&log).unwrap(), whole, "the fragment is cut");
        let side = dir.path().join("checkpoints.jsonl.cut");
        assert_eq!(
            std::fs::read(&side).unwrap(),
            fragment,
            "and kept, byte for byte"
        );
        let warning = text
            .lines()
            .find(|l| l.contains("torn checkpoint line cut"))
            .unwrap_or_else(|| panic!("no warning: {text}"));
        assert!(
            warning.contains("WARN")
                && warning.contains(&log.display().to_string())
                && warning.contains(&format!("offset={}", whole.len()))
                && warning.contains(&format!("bytes={}", fragment.len()))
                && warning.contains(&side.display().to_string()),
            "{warning}"
        );
    }

    #[test]
    fn a_whole_last_line_without_its_newline_is_cut_kept_and_signed_again() {
        let Opened {
            dir,
            signer,
            mut chain,
            mut cp,
            log,
        } = opened(3);
        let head = seal_n(&mut chain, 2);
        cp.after_batch(head).unwrap().unwrap();
        drop(cp);
        // The second line's bytes reached the disk, its newline did not: its append
        // was never fsynced as a whole.
        let mut text = std::fs::read(&log).unwrap();
        assert_eq!(text.pop(), Some(b'\n'));
        std::fs::write(&log, &text).unwrap();
        let first_len = text.iter().position(|&b| b == b'\n').unwrap() + 1;
        let second = text[first_len..].to_vec();
        Checkpoint::parse_line(&second).unwrap();

        let (cp, logged) = crate::test_log::logged(|| {
            Checkpointer::open(dir.path(), signer, CheckpointPolicy::default(), head)
        });
        let cp = cp.unwrap();
        let side = dir.path().join("checkpoints.jsonl.cut");
        assert_eq!(
            std::fs::read(&side).unwrap(),
            second,
            "the cut line is kept"
        );
        assert!(
            logged.contains("checkpoint #2 (chainSeq 5) without its newline")
                && logged.contains(&format!("offset={first_len}"))
                && logged.contains(&format!("bytes={}", second.len())),
            "{logged}"
        );
        // The records it named are vouched for again, by a line that follows the
        // last durable one.
        assert_eq!(
            (cp.last().unwrap().index, cp.last().unwrap().link.seq),
            (2, 5)
        );
        let now = std::fs::read_to_string(&log).unwrap();
        let lines: Vec<&str> = now.lines().collect();
        assert_eq!(lines.len(), 2, "{now}");
        assert_eq!(
            Checkpoint::parse_line(lines[1].as_bytes()).unwrap().prev,
            Checkpoint::line_digest(lines[0].as_bytes())
        );
    }

    #[test]
    fn a_log_moved_away_or_replaced_refuses_every_seal_until_it_is_back() {
        let Opened {
            dir,
            mut chain,
            mut cp,
            log,
            ..
        } = opened(3);
        let aside = dir.path().join("checkpoints.jsonl.old");
        let before = std::fs::read(&log).unwrap();

        // Moved aside (log rotation by hand): refused, nothing written anywhere.
        std::fs::rename(&log, &aside).unwrap();
        let err = cp.after_batch(seal_n(&mut chain, 2)).unwrap_err();
        assert!(
            matches!(err, IntegrityError::CheckpointLogGone { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("its path is gone"), "{err}");
        assert_eq!(std::fs::read(&aside).unwrap(), before);
        assert!(!log.exists());

        // Another file at the path (a fresh empty log): refused too, left as it is.
        std::fs::write(&log, b"").unwrap();
        let err = cp.after_batch(seal_n(&mut chain, 1)).unwrap_err();
        assert!(
            err.to_string().contains("another file is at its path"),
            "{err}"
        );
        assert_eq!(std::fs::read(&log).unwrap(), b"");

        // Put back: the next seal covers every record since, in the same file.
        std::fs::rename(&aside, &log).unwrap();
        let sealed = cp.after_batch(seal_n(&mut chain, 1)).unwrap().unwrap();
        assert_eq!(sealed.link.seq, 7);
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text.starts_with(std::str::from_utf8(&before).unwrap()));
        assert_eq!(text.lines().count(), before.split(|&b| b == b'\n').count());
    }

    #[test]
    fn a_log_truncated_in_place_refuses_every_seal_until_its_bytes_are_back() {
        let Opened {
            dir: _dir, // kept: dropping it removes the folder
            mut chain,
            mut cp,
            log,
            ..
        } = opened(3);
        let before = std::fs::read(&log).unwrap();

        // logrotate's copytruncate: the same file, emptied.
        std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&log)
            .unwrap();
        let err = cp.after_batch(seal_n(&mut chain, 2)).unwrap_err();
        assert!(
            matches!(err, IntegrityError::CheckpointLogGone { .. }),
            "{err}"
        );
        let text = err.to_string();
        assert!(
            text.contains(&format!(
                "it was truncated: it holds 0 bytes, {} were written to it",
                before.len()
            )) && text.contains(&format!("its first {} bytes", before.len())),
            "{text}"
        );
        assert_eq!(
            std::fs::read(&log).unwrap(),
            b"",
            "nothing appended after the cut"
        );

        // Cut in the middle of the first line: refused too.
        std::fs::write(&log, &before[..before.len() / 2]).unwrap();
        let err = cp.after_batch(seal_n(&mut chain, 1)).unwrap_err();
        assert!(err.to_string().contains("it was truncated"), "{err}");

        // Copied back into the same file: the next seal follows the last line.
        std::fs::write(&log, &before).unwrap();
        let sealed = cp.after_batch(seal_n(&mut chain, 1)).unwrap().unwrap();
        assert_eq!(sealed.link.seq, 7);
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text.starts_with(std::str::from_utf8(&before).unwrap()));
        assert_eq!(text.lines().count(), before.split(|&b| b == b'\n').count());
    }

    #[test]
    fn a_seal_cut_short_by_a_full_disk_leaves_no_fragment_for_the_next_line() {
        let Opened {
            dir,
            signer,
            mut chain,
            mut cp,
            log,
        } = opened(3);
        let len = std::fs::metadata(&log).unwrap().len();
        let file = OpenOptions::new().append(true).open(&log).unwrap();
        let room = Arc::new(AtomicUsize::new(20));
        cp.log = AppendLog::new(
            Box::new(FullDisk {
                file,
                room: room.clone(),
                cut_fails: Arc::new(AtomicBool::new(false)),
            }),
            len,
        );
        let head = seal_n(&mut chain, 2);
        let err = cp.after_batch(head).unwrap_err();
        assert!(err.to_string().contains(CHECKPOINT_LOG), "{err}");
        assert_eq!(
            std::fs::metadata(&log).unwrap().len(),
            len,
            "the fragment is cut"
        );
        // Space is back: the retry writes a whole line after the last whole one.
        room.store(usize::MAX, Ordering::Relaxed);
        let sealed = cp.after_batch(head).unwrap().unwrap();
        assert_eq!((sealed.index, sealed.link.seq), (2, 5));
        let text = std::fs::read_to_string(&log).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        for l in &lines {
            Checkpoint::parse_line(l.as_bytes()).unwrap();
        }
        assert_eq!(
            Checkpoint::parse_line(lines[1].as_bytes()).unwrap().prev,
            Checkpoint::line_digest(lines[0].as_bytes())
        );
        drop(cp);
        Checkpointer::open(dir.path(), signer, CheckpointPolicy::default(), head).unwrap();
    }
}

#[cfg(test)]
mod piece_tests {
    use super::*;
    use crate::verify::checkpoints::check_log;
    use crate::verify::{ProblemKind, Severity, StoreReport};
    use auditrail_store::chain::Chain;
    use auditrail_store::checkpoint_pieces::{piece_name, sealed_pieces};

    fn small_pieces() -> CheckpointPolicy {
        CheckpointPolicy {
            // About three lines a piece.
            piece_bytes: 900,
            ..CheckpointPolicy::default()
        }
    }

    /// A store whose log was written in pieces: `batches` sealed batches of one record.
    fn written(batches: usize) -> (tempfile::TempDir, Arc<Signer>, Chain) {
        let dir = tempfile::tempdir().unwrap();
        let signer = Arc::new(Signer::from_seed([1; 32]));
        let mut chain = Chain::genesis();
        let mut cp =
            Checkpointer::open(dir.path(), signer.clone(), small_pieces(), chain.last()).unwrap();
        let mut out = Vec::new();
        for _ in 0..batches {
            chain.seal(b"{\"x\":1", &mut out);
            cp.after_batch(chain.last()).unwrap().unwrap();
        }
        (dir, signer, chain)
    }

    fn errors(store: &Path) -> Vec<(ProblemKind, String)> {
        let mut report = StoreReport::default();
        check_log(store, None, None, &mut report);
        report
            .problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .map(|p| {
                (
                    p.kind,
                    format!(
                        "{}:{} {}",
                        p.file.clone().unwrap_or_default(),
                        p.line.unwrap_or(0),
                        p.message
                    ),
                )
            })
            .collect()
    }

    #[test]
    fn the_log_is_sealed_in_pieces_that_continue_one_chain() {
        let (dir, _, _) = written(12);
        let sealed = sealed_pieces(dir.path()).unwrap();
        assert!(sealed.len() >= 3, "{sealed:?}");
        assert_eq!(sealed[0].name, piece_name(1));
        for p in &sealed {
            let len = std::fs::metadata(&p.path).unwrap().len();
            assert!(
                (900..900 + 400).contains(&len),
                "{} holds {len} bytes",
                p.name
            );
        }
        assert_eq!(errors(dir.path()), vec![]);
        let mut report = StoreReport::default();
        let (logged, _) = check_log(dir.path(), None, None, &mut report);
        assert_eq!(
            logged.iter().map(|l| l.cp.index).collect::<Vec<_>>(),
            (1..=12).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_start_reads_only_the_end_of_the_log() {
        let (dir, signer, mut chain) = written(12);
        let sealed = sealed_pieces(dir.path()).unwrap();
        // Every sealed piece but the last made unreadable as a log (garbage of the same
        // size): a start that read them would refuse the log.
        for p in &sealed[..sealed.len() - 1] {
            let len = std::fs::metadata(&p.path).unwrap().len() as usize;
            std::fs::remove_file(&p.path).unwrap();
            std::fs::write(&p.path, "#\n".repeat(len / 2)).unwrap();
        }
        let mut out = Vec::new();
        chain.seal(b"{\"x\":1", &mut out);
        let cp = Checkpointer::open(dir.path(), signer, small_pieces(), chain.last()).unwrap();
        assert_eq!(cp.last().unwrap().index, 13, "it continues the chain");
        // `verify` reads them all, and finds them.
        let found = errors(dir.path());
        assert!(
            found
                .iter()
                .any(|(k, m)| *k == ProblemKind::MalformedCheckpoint
                    && m.starts_with(&piece_name(1))),
            "{found:?}"
        );
    }

    #[test]
    fn a_piece_removed_edited_or_renamed_is_found() {
        // Removed in the middle.
        let (dir, ..) = written(12);
        let sealed = sealed_pieces(dir.path()).unwrap();
        std::fs::remove_file(&sealed[1].path).unwrap();
        let found = errors(dir.path());
        assert!(
            found
                .iter()
                .any(|(k, m)| *k == ProblemKind::CheckpointChain && m.contains("were removed")),
            "{found:?}"
        );

        // The first piece removed without a deletion line vouching for it.
        let (dir, ..) = written(12);
        std::fs::remove_file(dir.path().join(piece_name(1))).unwrap();
        let found = errors(dir.path());
        assert!(
            found
                .iter()
                .any(|(_, m)| m.contains("the log starts at checkpoint")),
            "{found:?}"
        );

        // A line edited in a sealed piece.
        let (dir, ..) = written(12);
        let path = dir.path().join(piece_name(1));
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        std::fs::write(
            &path,
            text.replacen("\"chainSeq\":2,", "\"chainSeq\":3,", 1),
        )
        .unwrap();
        let found = errors(dir.path());
        assert!(
            found
                .iter()
                .any(|(k, m)| *k == ProblemKind::BadSignature && m.starts_with(&piece_name(1))),
            "{found:?}"
        );

        // Two pieces swapped by name.
        let (dir, ..) = written(12);
        let sealed = sealed_pieces(dir.path()).unwrap();
        let tmp = dir.path().join("swap");
        std::fs::rename(&sealed[0].path, &tmp).unwrap();
        std::fs::rename(&sealed[1].path, &sealed[0].path).unwrap();
        std::fs::rename(&tmp, &sealed[1].path).unwrap();
        let found = errors(dir.path());
        assert!(
            found
                .iter()
                .any(|(_, m)| m.contains("pieces were renamed or reordered")),
            "{found:?}"
        );
    }

    #[test]
    fn a_log_of_one_big_file_is_sealed_as_its_first_piece_at_the_first_start() {
        // Written before pieces existed: one file.
        let dir = tempfile::tempdir().unwrap();
        let signer = Arc::new(Signer::from_seed([1; 32]));
        let mut chain = Chain::genesis();
        let never = CheckpointPolicy {
            piece_bytes: 0,
            ..CheckpointPolicy::default()
        };
        let mut cp = Checkpointer::open(dir.path(), signer.clone(), never, chain.last()).unwrap();
        let mut out = Vec::new();
        for _ in 0..6 {
            chain.seal(b"{\"x\":1", &mut out);
            cp.after_batch(chain.last()).unwrap().unwrap();
        }
        drop(cp);
        let before = std::fs::read(dir.path().join(CHECKPOINT_LOG)).unwrap();
        assert!(sealed_pieces(dir.path()).unwrap().is_empty());
        assert_eq!(errors(dir.path()), vec![]);

        let cp = Checkpointer::open(dir.path(), signer, small_pieces(), chain.last()).unwrap();
        assert_eq!(cp.last().unwrap().index, 6);
        assert_eq!(
            std::fs::read(dir.path().join(piece_name(1))).unwrap(),
            before,
            "the old log, unchanged, is the first piece"
        );
        assert_eq!(std::fs::read(dir.path().join(CHECKPOINT_LOG)).unwrap(), b"");
        assert_eq!(errors(dir.path()), vec![]);
    }
}

/// Removes the sealed pieces a deletion line written and fsynced names (after the pass
/// removed its files: an archive pass uploaded them first). Only sealed pieces'
/// names are taken; a piece already gone is no error (a pass done again).
pub(crate) fn remove_pieces(store: &Path, pieces: &LogPieces) -> Result<(), IntegrityError> {
    for name in &pieces.pieces {
        if checkpoint_pieces::parse_piece_name(name).is_none() {
            continue;
        }
        let path = store.join(name);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(IntegrityError::io(&path, e)),
        }
    }
    crate::keys::sync_dir(store)
}

#[cfg(test)]
mod timeline_tests {
    use super::*;
    use auditrail_store::chain::Chain;

    const YEAR_MS: i64 = 365 * 86_400_000;

    fn year_ahead() -> i64 {
        wall_clock() + YEAR_MS
    }

    fn ms(t: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(t)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn a_clock_stepped_ahead_moves_neither_the_timeline_nor_retentions_now_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let signer = Arc::new(Signer::from_seed([1; 32]));
        let mut chain = Chain::genesis();
        let policy = CheckpointPolicy::default();
        let opened = wall_clock();
        let mut cp = Checkpointer::open(dir.path(), signer.clone(), policy, chain.last()).unwrap();
        // The wall clock steps a year ahead while lines are written.
        cp.wall = year_ahead;
        let mut out = Vec::new();
        chain.seal(b"{\"x\":1", &mut out);
        let line = cp.after_batch(chain.last()).unwrap().unwrap();
        assert!(
            ms(&line.time) > opened + YEAR_MS / 2,
            "time is the wall clock"
        );
        let timeline = ms(line.timeline.as_deref().unwrap());
        assert!(timeline < opened + 3_600_000, "the timeline is not stepped");
        drop(cp);

        // A restart with the clock still wrong: retention's now starts from the
        // timeline, not from the stepped `time`.
        let clock =
            auditrail_store::RetentionClock::read(dir.path(), CatchUpRate::DEFAULT).unwrap();
        let start = clock.last_checkpoint().unwrap().unix_millis();
        assert!(
            start < opened + 3_600_000,
            "retention would delete a year early"
        );
        let mut cp = Checkpointer::open(dir.path(), signer, policy, chain.last()).unwrap();
        cp.wall = year_ahead;
        chain.seal(b"{\"x\":1", &mut out);
        let line = cp.after_batch(chain.last()).unwrap().unwrap();
        assert!(ms(line.timeline.as_deref().unwrap()) < opened + 3_600_000);
    }

    fn minus_two_days() -> i64 {
        wall_clock() - 2 * 86_400_000
    }

    /// The lines' timeline follows a clock set back (see `Timeline::not_ahead_of`); their
    /// `latest`, which the bound on timestamps ahead resumes from, must not: a restart
    /// with the clock still behind then refused every correctly dated event.
    #[test]
    fn a_clock_set_back_takes_the_lines_timeline_back_but_not_their_latest_time() {
        let dir = tempfile::tempdir().unwrap();
        let signer = Arc::new(Signer::from_seed([1; 32]));
        let mut chain = Chain::genesis();
        let policy = CheckpointPolicy::default();
        let opened = wall_clock();
        let mut cp = Checkpointer::open(dir.path(), signer.clone(), policy, chain.last()).unwrap();
        cp.wall = minus_two_days;
        let mut out = Vec::new();
        chain.seal(b"{\"x\":1", &mut out);
        let line = cp.after_batch(chain.last()).unwrap().unwrap();
        assert!(ms(line.timeline.as_deref().unwrap()) < opened - 86_400_000);
        assert!(ms(line.latest.as_deref().unwrap()) >= opened, "{line:?}");
        drop(cp);
        // Restarted with the clock still behind: the latest time is read and kept.
        let clock =
            auditrail_store::RetentionClock::read(dir.path(), CatchUpRate::DEFAULT).unwrap();
        let reading = clock.now();
        assert!(reading.latest.unwrap().unix_millis() >= opened);
        let mut cp = Checkpointer::open(dir.path(), signer, policy, chain.last()).unwrap();
        cp.wall = minus_two_days;
        chain.seal(b"{\"x\":1", &mut out);
        let line = cp.after_batch(chain.last()).unwrap().unwrap();
        assert!(ms(line.latest.as_deref().unwrap()) >= opened, "{line:?}");
    }
}
