//! `auditrail spool`: look into the spool of a node's `eventserver` targets, and send
//! again the events a set-aside file still holds.
//!
//! Both read the spool through the target crate's own reader
//! (`auditrail::target_eventserver::spool`), the one the target uses; neither changes
//! the spool, so they are safe while the node runs.

use crate::outln;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use auditrail::counted::counted;
use auditrail::target_eventserver::spool::inspect::{self, SpoolReport};
use auditrail::target_eventserver::spool::SpoolError;
use auditrail::target_eventserver::EventServerConfig;
use auditrail::{Dispatcher, Event, EventDraft, Filter, NodeConfig, TargetSpec, ValidatedConfig};

use super::delivery::{self, Session, Signals};

/// Arguments of `auditrail spool`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  auditrail spool inspect --config node.toml\n  auditrail spool inspect --dir run/spool/central --json\n  auditrail spool resend --config node.toml run/spool/central/00000000000000000003.seg.corrupt"
)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Segments, events still to send, the ack position, damaged ranges, set-aside
    /// files and lost segments (gone by hand) of each spool. Exit 0 when no damage
    /// (of a segment or of the ack file) or loss is found, 1 otherwise.
    Inspect(InspectArgs),
    /// Send the intact records of set-aside files (or segment files) to the server of
    /// an `eventserver` target, directly (the node's spool is not touched). The
    /// server stores each event id once, so events it already has are not stored
    /// twice. A segment of a running node's spool may be given: it is read as it is
    /// then, and the node still sends its events itself (answered as duplicates).
    /// Exit codes as `auditrail send`; not 0 either when damaged bytes of a file were
    /// not sent, or when sending stopped before the last event (the time limit, or
    /// SIGTERM/SIGINT): stderr then says how many events of which file were not sent
    /// (they are still in the file: run it again). A file of JSON lines (a dead-letter
    /// file) is refused: it is sent with `auditrail send --stdin`.
    Resend(ResendArgs),
}

#[derive(clap::Args)]
struct InspectArgs {
    /// Node config: inspect the spool of each of its `eventserver` targets.
    #[arg(long, short, conflicts_with = "dir", required_unless_present = "dir")]
    config: Option<PathBuf>,
    /// With --config: only this target (by name).
    #[arg(long, requires = "config")]
    target: Option<String>,
    /// A spool folder.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct ResendArgs {
    /// Node config holding the `eventserver` target to send through.
    #[arg(long, short)]
    config: PathBuf,
    /// The target (by name); needed when the config has several `eventserver` targets.
    #[arg(long)]
    target: Option<String>,
    /// How long to wait for the server to take the events, in seconds: once the last
    /// event is sent (or a SIGTERM/SIGINT stopped the sending), and also while sending
    /// waits for room because the server took none of the events in flight (sending
    /// then stops there). Then what is still not delivered is reported (and
    /// dead-lettered); what was not sent is named, and is still in its file.
    #[arg(
        long,
        default_value_t = delivery::DEFAULT_TIMEOUT_S,
        value_name = "SECONDS",
        value_parser = delivery::timeout_seconds
    )]
    timeout: u64,
    /// Set-aside files (`*.seg.corrupt`) or segment files to read events from.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Runs the command.
pub(crate) fn run(args: Args) -> Result<ExitCode> {
    match args.command {
        Command::Inspect(a) => run_inspect(a),
        Command::Resend(a) => run_resend(a),
    }
}

fn load(config: &Path) -> Result<NodeConfig> {
    let registry = auditrail::registry()?;
    Ok(NodeConfig::load(config, &registry)?)
}

/// The node's `eventserver` targets, or the one named `only`.
fn eventserver_targets<'a>(
    config: &'a NodeConfig,
    only: Option<&str>,
) -> Result<Vec<&'a TargetSpec>> {
    let all: Vec<&TargetSpec> = config
        .targets
        .iter()
        .filter(|t| t.registration.name == auditrail::target_eventserver::REGISTRATION.name)
        .collect();
    match only {
        None if all.is_empty() => bail!("the config has no `eventserver` target, so no spool"),
        None => Ok(all),
        Some(name) => match all.iter().find(|t| t.name == name) {
            Some(t) => Ok(vec![*t]),
            None => bail!(
                "no `eventserver` target named {name:?} (the config has: {})",
                all.iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    }
}

fn typed(spec: &TargetSpec) -> Result<EventServerConfig> {
    spec.config
        .downcast_ref::<EventServerConfig>()
        .cloned()
        .with_context(|| format!("target {:?} has no eventserver config", spec.name))
}

fn run_inspect(args: InspectArgs) -> Result<ExitCode> {
    let mut dirs: Vec<(Option<String>, PathBuf)> = Vec::new();
    if let Some(dir) = args.dir {
        dirs.push((None, dir));
    } else if let Some(path) = &args.config {
        let config = load(path)?;
        for spec in eventserver_targets(&config, args.target.as_deref())? {
            match typed(spec)?.spool_folder(&config.run_dir, &spec.name) {
                Some(dir) => dirs.push((Some(spec.name.clone()), dir)),
                None => crate::errln!("auditrail: target {}: spool = false, no spool", spec.name),
            }
        }
    }
    let mut reports = Vec::new();
    for (target, dir) in dirs {
        let report = inspect::inspect(&dir)?;
        reports.push((target, report));
    }
    let damaged = reports.iter().any(|(_, r)| {
        r.damaged_ranges() > 0
            || !r.set_aside.is_empty()
            || r.has_losses()
            || r.ack_damaged.is_some()
    });
    if args.json {
        let list: Vec<serde_json::Value> = reports
            .iter()
            .map(|(target, r)| {
                let mut v = serde_json::to_value(r).unwrap_or_default();
                v["target"] = serde_json::json!(target);
                v["pendingEvents"] = serde_json::json!(r.pending_events());
                v
            })
            .collect();
        outln!("{}", serde_json::Value::Array(list))?;
    } else {
        for (target, r) in &reports {
            print_report(target.as_deref(), r)?;
        }
    }
    Ok(if damaged {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn print_report(target: Option<&str>, r: &SpoolReport) -> Result<()> {
    match target {
        Some(t) => outln!("spool of target {t}: {}", r.dir.display())?,
        None => outln!("spool {}", r.dir.display())?,
    }
    outln!(
        "  {} event(s) to send, {} segment(s), {} bytes; ack position: segment {} offset {}",
        r.pending_events(),
        r.segments.len(),
        r.segment_bytes(),
        r.ack.segment,
        r.ack.offset
    )?;
    if let Some(why) = &r.ack_damaged {
        outln!(
            "  ack file damaged ({why}): not followed; the next run sends every event from the oldest segment again (the server stores each event once)"
        )?;
    }
    for s in &r.segments {
        outln!(
            "  segment {}: {} bytes, {} record(s), {} to send",
            s.path.display(),
            s.bytes,
            s.records,
            s.pending
        )?;
        for d in &s.damaged {
            outln!(
                "    damaged: {} bytes at offset {} ({})",
                d.bytes,
                d.offset,
                d.reason
            )?;
        }
        if let Some(t) = &s.bad_tail {
            // What the next start does (`spool::repair::check_segment`): a tail that can
            // be a record cut short is cut only in the segment a crash can have
            // interrupted, and only past the bytes known durable.
            let next = if s.bad_tail_cut_short {
                let short = if t.bytes < 4 {
                    // `record::why_not_cut_short`: so short a tail is taken for a torn
                    // write only by where the file ends.
                    format!(
                        " (fewer than a length field's 4 bytes, so only because the file \
                         ends at offset {}, a multiple of 4096 bytes, where a crash can \
                         stop a write)",
                        s.bytes
                    )
                } else {
                    String::new()
                };
                format!(
                    "can be a record cut short by a crash{short}: cut at the next start if \
                     this is then the newest segment and the tail begins at or after the \
                     length the spool's `lengths` file records for it (anywhere when it \
                     records none); else kept and set aside as damage"
                )
            } else {
                "not a torn write: kept and set aside as damage at the next start".to_owned()
            };
            outln!(
                "    bad tail: {} bytes at offset {} ({}); {next}",
                t.bytes,
                t.offset,
                t.reason
            )?;
        }
    }
    for a in &r.set_aside {
        let what = if a.whole_segment {
            "a whole segment set aside by an older version".to_owned()
        } else {
            format!(
                "damaged bytes of segment {} at offset {}",
                a.segment, a.offset
            )
        };
        outln!(
            "  set aside: {} ({} bytes, {what}); `auditrail spool resend` sends the intact records it holds",
            a.path.display(),
            a.bytes
        )?;
    }
    for l in &r.lost {
        let segments = if l.first == l.last {
            format!("segment {}", l.first)
        } else {
            format!("segments {} to {}", l.first, l.last)
        };
        let what = match (l.records, l.bytes) {
            (Some(records), Some(bytes)) => {
                format!(
                    "{} ({}) not yet acknowledged",
                    counted(records, "event", "events"),
                    counted(bytes, "byte", "bytes")
                )
            }
            (None, Some(bytes)) => format!(
                "{} of events not yet acknowledged (how many events is not known)",
                counted(bytes, "byte", "bytes")
            ),
            _ => "its events not yet acknowledged (how many is not known)".to_owned(),
        };
        let what = match l.in_flight {
            Some(n @ 1..) => format!(
                "{what} ({} of them read by the sender before it went and never \
                 acknowledged by the server since)",
                counted(n, "event", "events")
            ),
            _ => what,
        };
        let how = match l.cut_to {
            Some(left) => format!("cut in place to {left} bytes (truncated by hand?)"),
            None => "gone (deleted, moved or replaced by hand?)".to_owned(),
        };
        let when = match &l.found_at {
            Some(t) => format!(", found {t}"),
            None => String::new(),
        };
        outln!(
            "  LOST: {segments} {how}: {what} are lost from this spool ({}{when})",
            l.reason
        )?;
    }
    for line in &r.lost_unreadable {
        outln!("  LOST (a line of lost.jsonl that does not read back): {line}")?;
    }
    Ok(())
}

fn run_resend(args: ResendArgs) -> Result<ExitCode> {
    let config = load(&args.config)?;
    let spec = match eventserver_targets(&config, args.target.as_deref())?.as_slice() {
        [one] => (*one).clone(),
        several => bail!(
            "the config has several `eventserver` targets ({}): pick one with --target",
            several
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Watched from the start: a SIGTERM or SIGINT while the files are read (a large
    // file takes a while) stops the command before anything is sent, with the
    // summary and what was not sent, not the default exit that says nothing.
    let mut signals = runtime.block_on(async { Signals::new() })?;
    let mut drafts = Vec::new();
    // Each file and how many events it holds, in the order they are sent.
    let mut events_of: Vec<(&Path, usize)> = Vec::new();
    // Files with bytes that are not sent: their re-send is not done (exit status).
    let mut unsent: Vec<(&Path, u64)> = Vec::new();
    for file in &args.files {
        // Every file is read before anything is sent: one rewritten or cut while read
        // stops the command with nothing sent, rather than send records of two files
        // mixed, the ones between missing.
        let readable = inspect::read_records(file).map_err(|e| match e {
            SpoolError::Rewritten { .. } | SpoolError::Cut { .. } => {
                anyhow::anyhow!("{e}; nothing was sent")
            }
            e => anyhow::Error::new(e),
        })?;
        if readable.payloads.is_empty() {
            if let Some(kind) = json_lines_kind(file) {
                // Before anything is sent: the whole command is a mix-up.
                bail!("{}", kind.refusal(file, &args.config));
            }
        }
        let damaged: u64 = readable.damaged.iter().map(|d| d.bytes).sum();
        if damaged > 0 {
            unsent.push((file, damaged));
        }
        for d in &readable.damaged {
            crate::errln!(
                "auditrail: {}: {} damaged bytes at offset {} are not sent ({})",
                file.display(),
                d.bytes,
                d.offset,
                d.reason
            );
        }
        for (i, payload) in readable.payloads.iter().enumerate() {
            let event: Event = serde_json::from_slice(payload)
                .with_context(|| format!("{}: record {} is not an event", file.display(), i + 1))?;
            drafts.push(EventDraft::from(event));
        }
        events_of.push((file, readable.payloads.len()));
    }
    // Straight to the server: the node (maybe running) owns its spool.
    let mut direct = typed(&spec)?;
    direct.spool = false;
    let direct = TargetSpec {
        config: ValidatedConfig::new(direct).with_context(|| format!("target {:?}", spec.name))?,
        filter: Filter::all(),
        ..spec
    };
    let dispatcher = Dispatcher::builder(config.node.clone())
        .run_dir(config.run_dir.clone())
        // Meant to run while the node runs and holds the run folder: this dispatcher
        // keeps no sequence file and no spool there, it only appends whole lines to
        // the dead-letter file and the receipts, as the node does.
        .lock_run_dir(false)
        .dead_letter_dir(config.dead_letter_dir.clone())
        .target_spec(direct)
        .build()
        .context("cannot start the target")?;
    let (summary, stop) = runtime.block_on(async {
        let mut session = Session::new(dispatcher);
        let stop = emit_all(&mut session, drafts, args.timeout, &mut signals).await;
        // The time limit counts from the last event sent, or is already used up when
        // it passed while sending waited for room (the limit is not given twice).
        let deadline = stop
            .as_ref()
            .and_then(|s| s.deadline)
            .unwrap_or_else(|| delivery::deadline_in(args.timeout));
        let summary = session
            .finish(deadline, &config.dead_letter_dir, &mut signals)
            .await;
        (summary, stop)
    });
    summary.print()?;
    if let Some(stop) = &stop {
        crate::errln!("auditrail: error: {}", stop.what_next(&events_of));
    }
    for (file, bytes) in &unsent {
        crate::errln!(
            "auditrail: error: {}: {bytes} damaged bytes (named above) hold no intact spool \
             record and were not sent; the exit status is not 0, since the file was not \
             re-sent whole: keep it",
            file.display()
        );
    }
    Ok(summary.exit_code(!unsent.is_empty() || stop.is_some()))
}

/// Why `spool resend` stopped sending before the files' last event.
struct Stop {
    /// What stopped it: `SIGTERM`, `SIGINT`, or the time limit.
    why: String,
    /// Events sent before the stop: the first `sent` of the files' events, in order.
    sent: usize,
    /// Set when the time limit passed while sending waited for room: the wait for the
    /// answers is over too.
    deadline: Option<Instant>,
}

impl Stop {
    /// How many events of which file were not sent, and what to do about them.
    /// `events_of`: each file and how many events it holds, in the order they were
    /// sent.
    fn what_next(&self, events_of: &[(&Path, usize)]) -> String {
        let total: usize = events_of.iter().map(|(_, n)| n).sum();
        let mut before = 0;
        let mut left = Vec::new();
        for (file, n) in events_of {
            let not_sent = (before + n).saturating_sub(self.sent.max(before));
            if not_sent > 0 {
                left.push(format!("{not_sent} of {}", file.display()));
            }
            before += n;
        }
        let sent = if self.sent == 0 {
            "nothing was sent".to_owned()
        } else {
            format!(
                "{} sent (where they went: see above)",
                counted(self.sent, "event was", "events were")
            )
        };
        format!(
            "sending stopped ({}): {sent}; {} of the {} read {} not sent ({}). \
             They are still in the files, which `spool resend` never changes: run it again \
             with the same files once the server takes events (the events it already \
             stored, dead-lettered ones too, are answered as duplicates, stored once)",
            self.why,
            total - self.sent.min(total),
            counted(total, "event", "events"),
            if total - self.sent.min(total) == 1 {
                "was"
            } else {
                "were"
            },
            left.join(", ")
        )
    }
}

/// Emits `drafts` in batches, each once there is room (fewer batches than allowed
/// await their answers), until the last, a SIGTERM or SIGINT (what was sent is still
/// delivered within the time limit), or the time limit (`timeout_s`) passing while
/// waiting for room: every batch in flight awaits its answer and none came that long
/// (a server that is down: the target holds its events until the shutdown). Without
/// that bound, a file larger than what is kept in flight hung for ever.
async fn emit_all(
    session: &mut Session,
    drafts: Vec<EventDraft>,
    timeout_s: u64,
    signals: &mut Signals,
) -> Option<Stop> {
    let mut sent = 0;
    let mut rest = drafts.into_iter().peekable();
    while rest.peek().is_some() {
        // A signal that came while the files were read, or the last batch was sent.
        if let Some(signal) = signal_now(signals).await {
            return Some(stopped_by(signal, sent));
        }
        let mut room_by: Option<tokio::time::Instant> = None;
        while !session.has_room() {
            let by = *room_by.get_or_insert_with(|| delivery::deadline_in(timeout_s).into());
            tokio::select! {
                biased;
                signal = signals.recv() => return Some(stopped_by(signal, sent)),
                () = session.collect_one() => {}
                () = tokio::time::sleep_until(by) => {
                    tracing::warn!(
                        "the time limit ({timeout_s} s) passed while sending waited for room \
                         (the server took none of the events in flight): sending stops"
                    );
                    return Some(Stop {
                        why: format!(
                            "the time limit of {timeout_s} s passed while the server took none \
                             of the events in flight"
                        ),
                        sent,
                        deadline: Some(by.into_std()),
                    });
                }
            }
        }
        let chunk: Vec<EventDraft> = rest.by_ref().take(delivery::CHUNK).collect();
        sent += chunk.len();
        session.emit(chunk);
    }
    None
}

/// The stop by `signal`, after `sent` events.
fn stopped_by(signal: &str, sent: usize) -> Stop {
    tracing::warn!("{signal}: sending stops; what was sent is delivered");
    Stop {
        why: signal.to_owned(),
        sent,
        deadline: None,
    }
}

/// A SIGTERM or SIGINT already received, without waiting for one. Yields first, so
/// that the runtime has taken in a signal that came while it did not run (the files
/// being read).
async fn signal_now(signals: &mut Signals) -> Option<&'static str> {
    tokio::task::yield_now().await;
    tokio::select! {
        biased;
        signal = signals.recv() => Some(signal),
        () = std::future::ready(()) => None,
    }
}

/// What a file of JSON lines given to `spool resend` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JsonLines {
    /// Dead-letter lines (`failedAt` and `event`, as `send --stdin` tells them).
    DeadLetters,
    /// Other JSON objects (events?).
    Other,
}

impl JsonLines {
    /// The error for `file`, given to `spool resend` (with the node config `config`).
    fn refusal(self, file: &Path, config: &Path) -> String {
        let what = match self {
            JsonLines::DeadLetters => {
                "a dead-letter file (JSON lines with `failedAt` and `event`), not spool records"
            }
            JsonLines::Other => "JSON lines, not spool records",
        };
        format!(
            "{}: {what}: nothing was sent. `spool resend` sends the records of set-aside \
             spool files (`*.seg.corrupt`) and segment files; JSON lines (dead letters \
             too: each event is re-sent as it was) are sent with `auditrail send --config \
             {} --stdin < {}` (docs/node-commands.md, \"Re-sending dead letters\")",
            file.display(),
            config.display(),
            file.display()
        )
    }
}

/// Whether `file` (holding no intact spool record) starts with a line that is a JSON
/// object, and of which kind: the file was given to the wrong command.
fn json_lines_kind(file: &Path) -> Option<JsonLines> {
    use std::collections::HashMap;
    use std::io::BufRead;
    let mut first = Vec::new();
    // One line, at most as long as a record may be: only its keys are looked at.
    let opened = std::fs::File::open(file).ok()?;
    std::io::Read::take(std::io::BufReader::new(opened), 64 << 20)
        .read_until(b'\n', &mut first)
        .ok()?;
    let keys: HashMap<String, &serde_json::value::RawValue> =
        serde_json::from_slice(&first).ok()?;
    Some(
        if keys.contains_key("failedAt") && keys.contains_key("event") {
            JsonLines::DeadLetters
        } else {
            JsonLines::Other
        },
    )
}
