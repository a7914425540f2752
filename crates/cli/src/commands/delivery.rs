//! Emitting events through a dispatcher, waiting for them within a time limit, and
//! telling the truth about where each target's events went: the part of
//! `auditrail send` shared with `auditrail spool resend`.

use crate::outln;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use auditrail::{AckError, Dispatcher, Emitted, EventDraft, ShutdownReport};
use serde::Serialize;
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::task::JoinSet;

/// Default of `--timeout`: how long `send` waits for its events once its input ended.
pub(crate) const DEFAULT_TIMEOUT_S: u64 = 30;

/// Events per acknowledged batch.
pub(crate) const CHUNK: usize = 1000;

/// How often `finish` looks at the forwarding targets' spools.
const FORWARDING_POLL: Duration = Duration::from_millis(20);

/// Acknowledged batches awaited at once.
const CHUNKS_IN_FLIGHT: usize = 8;

/// Failures listed one by one on stderr; the rest are counted.
const LISTED_FAILURES: usize = 20;

/// Emits events and collects their acknowledgements.
pub(crate) struct Session {
    dispatcher: Dispatcher,
    in_flight: JoinSet<Acks>,
    acks: Acks,
    /// Batches spawned and not run yet: each enters the dispatcher before the shutdown
    /// (else it is refused, closed, although its lines were read and said to be sent).
    not_entered: Arc<AtomicUsize>,
}

/// Acknowledgements of emitted events.
#[derive(Default)]
struct Acks {
    sent: u64,
    acknowledged: u64,
    failures: Vec<String>,
}

impl Acks {
    fn absorb(&mut self, other: Acks) {
        self.sent += other.sent;
        self.acknowledged += other.acknowledged;
        self.failures.extend(other.failures);
    }
}

impl Session {
    /// A session on `dispatcher` (which it shuts down in [`Session::finish`]).
    pub(crate) fn new(dispatcher: Dispatcher) -> Session {
        Session {
            dispatcher,
            in_flight: JoinSet::new(),
            acks: Acks::default(),
            not_entered: Arc::default(),
        }
    }

    /// Events acknowledged so far (durably taken by every accepting target).
    pub(crate) fn acknowledged(&self) -> u64 {
        self.acks.acknowledged
    }

    /// Whether another batch may be emitted now (fewer than a few batches still
    /// await their acknowledgements); if not, [`Session::collect_one`] first.
    pub(crate) fn has_room(&self) -> bool {
        self.in_flight.len() < CHUNKS_IN_FLIGHT
    }

    /// Emits one batch; its acknowledgements are collected in the background. An
    /// event no target's filter accepts is named by its id and seq (what the events
    /// of a spool have to tell them apart). Used by `spool resend` (built with the
    /// `eventserver` target only).
    #[cfg(feature = "eventserver")]
    pub(crate) fn emit(&mut self, drafts: Vec<EventDraft>) {
        self.emit_from(drafts, |_| None);
    }

    /// [`Session::emit`] of drafts that came from somewhere the user can find them:
    /// `origin(i)` (`stdin line 5`) names the i-th draft when no target's filter
    /// accepts it, with its topic and routing key (its id and seq, made up by the
    /// dispatcher for a draft without them, are in no file).
    pub(crate) fn emit_from(
        &mut self,
        drafts: Vec<EventDraft>,
        origin: impl Fn(usize) -> Option<String>,
    ) {
        if drafts.is_empty() {
            return;
        }
        // Found here, by the filters the dispatcher runs, rather than from its answer:
        // when another event of the batch is not delivered, the answer lists only the
        // failures, and an event that went nowhere would pass for acknowledged.
        let unrouted = drafts
            .iter()
            .enumerate()
            .filter(|(_, d)| !self.dispatcher.routes().any(|r| r.filter.accepts_draft(d)))
            .map(|(index, d)| Unrouted {
                index,
                origin: origin(index),
                fields: match &d.routing_key {
                    Some(key) => format!(
                        "topic {:?}, routing key {:?}{}",
                        d.topic.as_str(),
                        key.as_str(),
                        self.dispatcher
                            .routes()
                            .find_map(|r| r.filter.lookalike(key.as_str()))
                            .map(|(listed, how)| format!(
                                "; a target's routing_keys list {}; routing keys are \
                                 compared code point for code point, as sent",
                                auditrail::lookalike::Hint {
                                    sent: key.as_str(),
                                    listed,
                                    how
                                }
                            ))
                            .unwrap_or_default()
                    ),
                    None => format!("topic {:?}, no routing key", d.topic.as_str()),
                },
            })
            .collect();
        let origins = (0..drafts.len()).map(&origin).collect();
        let batch = emit_batch(self.dispatcher.clone(), drafts, unrouted, origins);
        // Counted until the task's first poll, which is where it enters the dispatcher
        // (after which the shutdown waits for it to queue its events).
        let not_entered = Arc::clone(&self.not_entered);
        not_entered.fetch_add(1, Ordering::SeqCst);
        self.in_flight.spawn(async move {
            let mut batch = std::pin::pin!(batch);
            let mut first = true;
            std::future::poll_fn(|cx| {
                let poll = std::future::Future::poll(batch.as_mut(), cx);
                if std::mem::take(&mut first) {
                    not_entered.fetch_sub(1, Ordering::SeqCst);
                }
                poll
            })
            .await
        });
    }

    /// Takes the answers of batches that are already answered, without waiting.
    pub(crate) fn collect_ready(&mut self) {
        while let Some(done) = self.in_flight.try_join_next() {
            self.absorb(done);
        }
    }

    /// Waits for the answers of one batch (at once when none is in flight).
    pub(crate) async fn collect_one(&mut self) {
        if let Some(done) = self.in_flight.join_next().await {
            self.absorb(done);
        }
    }

    fn absorb(&mut self, done: Result<Acks, tokio::task::JoinError>) {
        match done {
            Ok(acks) => self.acks.absorb(acks),
            Err(e) => self
                .acks
                .failures
                .push(format!("a batch's acknowledgement task failed: {e}")),
        }
    }

    /// Waits for every acknowledgement until `deadline` (or a signal), then shuts the
    /// dispatcher down (events it still holds then go to the dead-letter files) and
    /// reports.
    pub(crate) async fn finish(
        mut self,
        deadline: Instant,
        dead_letter_dir: &Path,
        signals: &mut Signals,
    ) -> Summary {
        let mut deadline = deadline;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if self.in_flight.is_empty() || left.is_zero() {
                break;
            }
            tokio::select! {
                done = self.in_flight.join_next() => match done {
                    Some(done) => self.absorb(done),
                    None => break,
                },
                () = tokio::time::sleep(left) => break,
                signal = signals.recv() => {
                    tracing::warn!("{signal}: no more waiting; what is not delivered yet is reported");
                    deadline = Instant::now();
                }
            }
        }
        // Targets that forward from a spool of their own: wait until what they took
        // has reached its final destination too.
        while self.in_flight.is_empty() && Instant::now() < deadline && self.forwarding_pending() {
            tokio::select! {
                () = tokio::time::sleep(FORWARDING_POLL) => {}
                signal = signals.recv() => {
                    tracing::warn!("{signal}: no more waiting; what is not delivered yet is reported");
                    deadline = Instant::now();
                }
            }
        }
        // Every batch emitted enters the dispatcher first (its first poll does): the
        // shutdown then waits for its events to be queued, and settles them (delivered
        // or dead-lettered), instead of refusing them unseen. Each yield lets the
        // runtime poll the batches spawned; none waits on anything else first.
        while self.not_entered.load(Ordering::SeqCst) > 0 {
            tokio::task::yield_now().await;
        }
        let timed_out = !self.in_flight.is_empty() || self.forwarding_pending();
        let left = deadline.saturating_duration_since(Instant::now());
        // Why each target's `Ok` is not on stable storage, by name (`None`: durable,
        // or durable as its destination answers, which the target counts itself).
        let not_durable: Vec<(String, Option<String>)> = self
            .dispatcher
            .routes()
            .map(|r| {
                let why = self
                    .dispatcher
                    .route_durability(r.index)
                    .filter(|d| !d.is_per_answer())
                    .and_then(auditrail::Durability::why_not)
                    .map(str::to_owned);
                (r.name.to_owned(), why)
            })
            .collect();
        let report = self.dispatcher.shutdown(left).await;
        // Whatever was still unanswered is settled now (dead-lettered at the deadline).
        while let Some(done) = self.in_flight.join_next().await {
            self.absorb(done);
        }
        Summary::new(self.acks, timed_out, &report, dead_letter_dir, &not_durable)
    }
}

impl Session {
    /// Whether a forwarding target still holds events its final destination has not
    /// confirmed.
    fn forwarding_pending(&self) -> bool {
        self.dispatcher
            .stats()
            .iter()
            .any(|t| t.forwarding.as_ref().is_some_and(|f| f.pending_events > 0))
    }
}

/// A draft of a batch that no target's filter accepts.
struct Unrouted {
    /// Its place in the batch.
    index: usize,
    /// Where it came from, when known.
    origin: Option<String>,
    /// Its topic and routing key, as text.
    fields: String,
}

/// `origins`: where each draft came from (`stdin line 5`), when known.
async fn emit_batch(
    dispatcher: Dispatcher,
    drafts: Vec<EventDraft>,
    unrouted: Vec<Unrouted>,
    origins: Vec<Option<String>>,
) -> Acks {
    let count = drafts.len() as u64;
    let (failures, refused): (Vec<String>, u64) = match dispatcher.emit_batch_acked(drafts).await {
        // Every draft was taken: the answer is in the order of the batch.
        Ok(emitted) => (went_nowhere(&unrouted, Some(&emitted)), 0),
        // Not one was taken (the dispatcher was closed): none was sent, and each is
        // named by where it came from.
        Err(errors)
            if errors.len() == origins.len()
                && errors.iter().all(|e| matches!(e, AckError::Emit(_))) =>
        {
            let named = errors
                .iter()
                .zip(&origins)
                .map(|(e, origin)| match origin {
                    Some(origin) => format!("{origin}: {e}: not sent"),
                    None => e.to_string(),
                })
                .collect();
            (named, count)
        }
        Err(errors) => {
            // Refused before being queued: not sent.
            let refused = errors
                .iter()
                .filter(|e| matches!(e, AckError::Emit(_)))
                .count() as u64;
            let failures = errors
                .iter()
                .map(AckError::to_string)
                .chain(went_nowhere(&unrouted, None))
                .collect();
            (failures, refused)
        }
    };
    let sent = count - refused;
    Acks {
        sent,
        acknowledged: count.saturating_sub(failures.len() as u64),
        failures,
    }
}

/// The failure of each event that no target accepted: it went nowhere, which for
/// `send` is a failure. `emitted`: the dispatcher's answer, in the batch's order.
fn went_nowhere(unrouted: &[Unrouted], emitted: Option<&[Emitted]>) -> Vec<String> {
    unrouted
        .iter()
        .map(|u| {
            let what = match (&u.origin, emitted.and_then(|e| e.get(u.index))) {
                (Some(origin), _) => format!("{origin} ({})", u.fields),
                (None, Some(e)) => format!("event {} (seq {}, {})", e.id, e.seq, u.fields),
                (None, None) => format!("an event ({})", u.fields),
            };
            format!("{what} matched no target's filter: sent nowhere")
        })
        .collect()
}

/// Where one target's events went.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TargetSummary {
    /// Target name.
    pub name: String,
    /// Target type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Events its filter accepted.
    pub accepted: u64,
    /// Events that reached its final destination: what it durably took, or, for a
    /// target that forwards from a spool of its own, what the final destination
    /// confirmed during this run (events left by earlier runs included).
    pub delivered: u64,
    /// Events durably in its spool, not yet confirmed by the final destination
    /// (earlier runs' included): sent by the node's next run or `auditrail spool`.
    pub spooled: u64,
    /// Events written to its dead-letter file.
    pub dead_lettered: u64,
    /// The dead-letter file, when something went there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letter_file: Option<PathBuf>,
    /// Events lost (not even dead-lettered) or dropped by its `on_full = "drop"`.
    pub lost: u64,
    /// Files of its spool found deleted, moved or cut by hand while holding events the
    /// server had not confirmed (during this run, at its start included): those
    /// events are lost.
    pub lost_spool_segments: u64,
    /// Events known lost with them (a file found missing at start was never read:
    /// its events are lost without a count).
    pub lost_spool_events: u64,
    /// Events taken but not on stable storage when acknowledged: those the event
    /// server confirmed with `durable: false` (`server_not_durable`: to the spool's
    /// sender, or to a target with `spool = false`), and those a
    /// target whose own `Ok` is not durable took (`own_not_durable`, why in
    /// `not_durable_why`). A power loss (of the server, or of this machine) may lose
    /// them, and nothing keeps them to be sent again.
    pub not_durable: u64,
    /// Of those, the ones the event server answered `durable: false`.
    #[serde(skip)]
    pub server_not_durable: u64,
    /// Of those, the ones this target took without them being on this node's disk.
    #[serde(skip)]
    pub own_not_durable: u64,
    /// Why this target's own `Ok` is not durable (its config), when it is not.
    #[serde(skip)]
    pub not_durable_why: Option<String>,
}

impl std::fmt::Display for TargetSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "target {} ({}): {} accepted, {} delivered",
            self.name, self.type_name, self.accepted, self.delivered
        )?;
        if self.spooled > 0 {
            write!(
                f,
                ", {} still spooled on this node (sent by its next run; see `auditrail spool inspect`)",
                self.spooled
            )?;
        }
        if self.server_not_durable > 0 {
            write!(
                f,
                ", {} NOT DURABLE at the event server (it answered `durable: false`: \
                 accepted but not on its disk yet, a power loss of the server may lose \
                 them; its destinations run a flush policy or do not fsync)",
                self.server_not_durable
            )?;
        }
        if let (Some(why), n @ 1..) = (&self.not_durable_why, self.own_not_durable) {
            write!(
                f,
                ", {n} NOT DURABLE on this node (taken by a target whose acknowledgement \
                 does not mean on disk: {why})"
            )?;
        }
        if self.lost > 0 {
            write!(
                f,
                ", {} LOST (dropped or unwritable dead-letter file)",
                self.lost
            )?;
        }
        if self.lost_spool_segments > 0 {
            let events = if self.lost_spool_events > 0 {
                format!("{} event(s) known", self.lost_spool_events)
            } else {
                "how many events is not known".to_owned()
            };
            write!(
                f,
                ", spooled events LOST: {} spool segment file(s) deleted, moved or cut by hand ({events}; see `auditrail spool inspect`)",
                self.lost_spool_segments
            )?;
        }
        if let Some(file) = &self.dead_letter_file {
            write!(
                f,
                ", {} dead-lettered in {} (re-send: move it aside, `mv {} {}`, then \
                 `auditrail send --config … --stdin < {}`)",
                self.dead_lettered,
                file.display(),
                file.display(),
                resend_name(file),
                resend_name(file),
            )?;
        }
        Ok(())
    }
}

/// Where the re-send advice moves a dead-letter file before it is sent: out of the
/// path the dispatcher appends to (see docs/node-commands.md, Re-sending dead letters).
fn resend_name(file: &Path) -> String {
    let stem = file.file_stem().map_or_else(
        || "dead-letters".into(),
        |s| s.to_string_lossy().into_owned(),
    );
    format!("{stem}.resend.jsonl")
}

/// What a session's exit status says, most serious first: the status is that of
/// the most serious thing that happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Outcome {
    /// 0: every event reached every target that accepted it.
    Delivered = 0,
    /// 1: an input or setup error (a bad line, an event no target accepted, ...).
    Failed = 1,
    /// 3: every event was durably taken, but some wait in a node's spool for the
    /// event server (sent by the node's next run, or `auditrail spool`).
    Spooled = 3,
    /// 5: every event was taken, but some are not on stable storage: the event
    /// server answered `durable: false`, or a target whose `Ok` does not mean on disk
    /// took them. Acknowledged, so nothing sends them again: a power loss may lose
    /// them.
    NotDurable = 5,
    /// 4: some events were refused for good or could not be delivered within the time
    /// limit and are in a dead-letter file (re-send them from there), or were lost
    /// (dropped, or spooled in a file that was deleted or cut by hand).
    NotTaken = 4,
}

/// The outcome of a session.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Summary {
    /// Events emitted.
    pub sent: u64,
    /// Events every accepting target durably took.
    pub acknowledged: u64,
    /// Events not taken by some target, or taken by none.
    pub failed: u64,
    /// Events left in a node's spool at the end (every target's; a spool may hold
    /// earlier runs' events too).
    pub spooled: u64,
    /// Events put in a dead-letter file during the run (every target's, including what
    /// a spool's sender dead-lettered after the spool took it: then `failed` does not
    /// count it, as the acknowledgement came from the spool).
    pub dead_lettered: u64,
    /// Events lost (dropped by an explicit drop policy, with no dead-letter file, or
    /// from a spool whose files were deleted or cut by hand, where known).
    pub lost: u64,
    /// Spool segment files found deleted, moved or cut by hand with events the server
    /// had not confirmed (every target's): their events are lost.
    pub lost_spool_segments: u64,
    /// Events taken but not on stable storage (every target's, see
    /// [`TargetSummary::not_durable`]).
    pub not_durable: u64,
    /// Lines of `send --stdin` that could not be sent (too long, not JSON, not a valid
    /// event or dead letter), each named on stderr: not events, so no other count has
    /// them. Always 0 for `spool resend`.
    pub bad_lines: u64,
    /// The time limit passed before every event was answered.
    #[serde(skip)]
    pub timed_out: bool,
    /// Per target (printed on stderr, one line each).
    #[serde(skip)]
    pub targets: Vec<TargetSummary>,
    #[serde(skip)]
    failures: Vec<String>,
}

impl Summary {
    /// `not_durable`: why each target's `Ok` is not durable, by name (`None`: it is).
    fn new(
        acks: Acks,
        timed_out: bool,
        report: &ShutdownReport,
        dead_letter_dir: &Path,
        not_durable: &[(String, Option<String>)],
    ) -> Summary {
        let targets = report
            .targets
            .iter()
            .map(|t| {
                let s = &t.stats;
                let own_file = (s.dead_lettered > 0)
                    .then(|| auditrail::dead_letter::file_path(dead_letter_dir, &s.name));
                let why = not_durable
                    .iter()
                    .find(|(name, _)| *name == s.name)
                    .and_then(|(_, why)| why.clone());
                let summary = match &s.forwarding {
                    None => TargetSummary {
                        name: s.name.clone(),
                        type_name: s.type_name.clone(),
                        accepted: s.accepted,
                        delivered: s.delivered,
                        spooled: 0,
                        dead_lettered: s.dead_lettered,
                        dead_letter_file: own_file,
                        lost: s.lost + s.dropped_queue_full,
                        lost_spool_segments: 0,
                        lost_spool_events: 0,
                        not_durable: 0,
                        // What its destination answered not durable (`spool = false`).
                        server_not_durable: s.not_durable,
                        // What it took is where its `Ok` left it.
                        own_not_durable: if why.is_some() { s.delivered } else { 0 },
                        not_durable_why: why,
                    },
                    // `delivered` of the dispatcher means "in the spool" here.
                    Some(f) => TargetSummary {
                        name: s.name.clone(),
                        type_name: s.type_name.clone(),
                        accepted: s.accepted,
                        delivered: f.forwarded,
                        spooled: f.pending_events,
                        dead_lettered: s.dead_lettered + f.dead_lettered,
                        dead_letter_file: f.dead_letter_file.clone().or(own_file),
                        lost: s.lost + s.dropped_queue_full,
                        lost_spool_segments: f.lost_segments,
                        lost_spool_events: f.lost_events,
                        not_durable: 0,
                        server_not_durable: f.not_durable + s.not_durable,
                        // A spool that is not fsynced: what still waits there.
                        own_not_durable: if why.is_some() { f.pending_events } else { 0 },
                        not_durable_why: why,
                    },
                };
                TargetSummary {
                    not_durable: summary.server_not_durable + summary.own_not_durable,
                    ..summary
                }
            })
            .collect::<Vec<TargetSummary>>();
        let total = |f: fn(&TargetSummary) -> u64| targets.iter().map(f).sum::<u64>();
        Summary {
            sent: acks.sent,
            acknowledged: acks.acknowledged,
            failed: acks.failures.len() as u64,
            spooled: total(|t| t.spooled),
            dead_lettered: total(|t| t.dead_lettered),
            lost: total(|t| t.lost + t.lost_spool_events),
            lost_spool_segments: total(|t| t.lost_spool_segments),
            not_durable: total(|t| t.not_durable),
            bad_lines: 0,
            timed_out,
            targets,
            failures: acks.failures,
        }
    }

    /// Prints the summary (one JSON line on stdout) and the failures (stderr).
    pub(crate) fn print(&self) -> Result<()> {
        // The stderr part is printed even when stdout is closed.
        let printed = outln!(
            "{}",
            serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
        );
        for failure in self.failures.iter().take(LISTED_FAILURES) {
            crate::errln!("auditrail: not delivered: {failure}");
        }
        if self.failures.len() > LISTED_FAILURES {
            crate::errln!(
                "auditrail: … and {} more",
                self.failures.len() - LISTED_FAILURES
            );
        }
        for t in &self.targets {
            crate::errln!("auditrail: {t}");
        }
        if self.timed_out {
            crate::errln!("auditrail: the time limit passed before every event was answered");
        }
        printed
    }

    /// The exit status (see [`Outcome`]).
    pub(crate) fn exit_code(&self, input_error: bool) -> ExitCode {
        ExitCode::from(self.outcome(input_error) as u8)
    }

    /// The most serious of what happened.
    pub(crate) fn outcome(&self, input_error: bool) -> Outcome {
        if self
            .targets
            .iter()
            .any(|t| t.dead_lettered > 0 || t.lost > 0 || t.lost_spool_segments > 0)
        {
            Outcome::NotTaken
        } else if input_error || !self.failures.is_empty() || self.acknowledged < self.sent {
            Outcome::Failed
        } else if self.not_durable > 0 {
            Outcome::NotDurable
        } else if self.targets.iter().any(|t| t.spooled > 0) {
            Outcome::Spooled
        } else {
            Outcome::Delivered
        }
    }
}

/// `timeout_s` from now; a time limit beyond what the clock holds (`--timeout` takes
/// any u64) saturates instead of overflowing.
/// Reads `--timeout`: whole seconds (`30`), or a duration with its unit as the
/// `humantime` crate reads it (`30s`, `2m`, `1h 30m`), the form the configs take
/// (`retention = "30d"`), rounded up to whole seconds. `--timeout 30s` was refused
/// with only "invalid digit found in string".
///
/// Zero is refused: the limit is how long the targets get to take what was read and
/// how long reading waits for room, so with none the targets were shut down before
/// they took a single event (every line was refused, and counted as sent).
pub(crate) fn timeout_seconds(text: &str) -> Result<u64, String> {
    let seconds = match text.parse::<u64>() {
        Ok(seconds) => seconds,
        Err(_) => humantime::parse_duration(text)
            .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
            .map_err(|e| {
                format!("{e}: give whole seconds (30) or a duration with its unit (30s, 2m, 1h)")
            })?,
    };
    if seconds == 0 {
        return Err(
            "the time limit must be at least 1 second: it is how long the targets \
                    get to take the events read (and how long reading waits for room), and \
                    with none they are shut down before taking any"
                .to_owned(),
        );
    }
    Ok(seconds)
}

pub(crate) fn deadline_in(timeout_s: u64) -> Instant {
    auditrail::limits::deadline_after(Instant::now(), Duration::from_secs(timeout_s))
}

/// SIGTERM and SIGINT, as one stream; SIGHUP is taken over and only logged.
///
/// SIGHUP's default action ends the process at once, dropping the lines already read
/// and not yet delivered (a `tail -F x | auditrail send --stdin` has no one to read
/// them from again). It reaches a long-running `send` from a log rotation tool's
/// `postrotate` (`kill -HUP`, the usual way to make a program reopen its logs) and from
/// a terminal that hangs up. Neither asks the command to stop: the file target follows
/// a moved or truncated file by itself, and a hung-up terminal ends the input (end of
/// file), after which what was read is delivered as at any end of input.
pub(crate) struct Signals {
    term: Signal,
    int: Signal,
    hup: Signal,
}

impl Signals {
    /// Starts watching (from then on the signals no longer end the process).
    pub(crate) fn new() -> Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate()).context("cannot watch SIGTERM")?,
            int: signal(SignalKind::interrupt()).context("cannot watch SIGINT")?,
            hup: signal(SignalKind::hangup()).context("cannot watch SIGHUP")?,
        })
    }

    /// The next SIGTERM or SIGINT, by name. A SIGHUP meanwhile is logged and changes
    /// nothing.
    pub(crate) async fn recv(&mut self) -> &'static str {
        loop {
            tokio::select! {
                _ = self.term.recv() => return "SIGTERM",
                _ = self.int.recv() => return "SIGINT",
                _ = self.hup.recv() => tracing::info!(
                    "SIGHUP: nothing to reload, the command goes on (a file target follows a \
                     rotated file by itself; SIGTERM or SIGINT stop the reading)"
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// A batch emitted just before the time limit ran out (`send --stdin`'s last
    /// partial batch once reading stopped for room) was spawned and not run when the
    /// shutdown closed the dispatcher: refused unseen ("the dispatcher is shut down"),
    /// in no audit file nor dead-letter file. It now enters first, and the shutdown
    /// settles it: delivered or dead-lettered, with a real file target.
    #[test]
    fn a_batch_emitted_at_the_deadline_is_settled_by_the_shutdown_not_refused() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("node.toml");
        std::fs::write(
            &config,
            "node = \"n1\"\nrun_dir = \"run\"\n[[targets]]\ntype = \"file\"\ndir = \"audit\"\n",
        )
        .unwrap();
        let (config, builder) = auditrail::dispatcher_builder_from_file(&config).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let summary = runtime.block_on(async {
            let mut signals = Signals::new().unwrap();
            let mut session = Session::new(builder.build().unwrap());
            let draft = EventDraft::from_message(
                auditrail::Topic::new("generic").unwrap(),
                auditrail::Message::from_json(r#"{"msgType":"t"}"#).unwrap(),
            );
            session.emit_from(vec![draft], |_| Some("stdin line 1".into()));
            session
                .finish(Instant::now(), &config.dead_letter_dir, &mut signals)
                .await
        });
        assert_eq!(summary.sent, 1, "{:?}", summary.failures);
        assert_eq!(
            summary.acknowledged + summary.dead_lettered,
            1,
            "{:?}",
            summary.failures
        );
    }
}
