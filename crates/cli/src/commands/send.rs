//! `auditrail send`: emit events to the targets of a node config, wait (within
//! `--timeout`) until they are delivered, and say where each target's events went.
//!
//! With `--stdin`, lines are read on a thread of their own and emitted as they arrive,
//! in batches cut by count and by time, so a pipe that stays open (`tail -f x |
//! auditrail send --stdin`) streams. SIGTERM or SIGINT stops the reading: what was
//! already read is delivered (or dead-lettered at the time limit), the summary is
//! printed, and the exit code says whether everything arrived.
//!
//! With `[metrics] listen` in the node config, the node's counters are served on
//! `GET /metrics` while the command runs.

use std::io::{BufRead, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use auditrail::event::MSG_TYPE;
use auditrail::metrics::MetricsServer;
use auditrail::{EventDraft, Message, Topic};
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::delivery::{self, Outcome, Session, Signals, CHUNK};
use super::output;
use auditrail::rewritten::{Region, Rewritten};
use input::StdinInput;
use line::LineRules;

mod input;
mod line;
use super::progress::Progress;

/// How long a partial batch of stdin lines waits for more before it is emitted.
const BATCH_WAIT: Duration = Duration::from_millis(20);

/// The longest stdin line read, in bytes (without its newline): 64 MiB, the most a
/// spool record holds, so the largest event a node can deliver (the event server
/// takes bodies of 16 MiB by default), plus what a dead letter holds besides its event
/// (`auditrail_core::dead_letter::MAX_ENVELOPE_BYTES`, 128 KiB): the dead letter of any
/// event a node can deliver is re-sent (an event line between the two is refused by the
/// spool, named). A longer line is a bad line, refused once this
/// many bytes came without a newline: input that never holds one (`< /dev/zero`, a
/// binary file, an application writing without newlines) is not held in memory
/// without bound. Such a line is passed over to its newline and named, and the lines
/// after it are read: a dead-letter file may hold one (its writer keeps every event
/// whole, see `auditrail_core::dead_letter`).
const MAX_LINE_BYTES: usize = MAX_EVENT_BYTES + auditrail::dead_letter::MAX_ENVELOPE_BYTES;

/// The largest event a node can deliver: the most a spool record holds.
const MAX_EVENT_BYTES: usize = 64 << 20;

#[cfg(feature = "eventserver")]
const _: () = assert!(
    MAX_EVENT_BYTES == auditrail::target_eventserver::spool::record::MAX_PAYLOAD,
    "the largest event is the spool record's limit"
);

/// Arguments of `auditrail send`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  auditrail send --config node.toml --topic generic --msg-type login --user alice --field clientIP=10.0.0.7\n  auditrail send --config node.toml --stdin < events.jsonl\n  tail -F app-audit.jsonl | auditrail send --config node.toml --stdin\n  mv run/deadletter/eventserver-1.jsonl resend.jsonl && auditrail send --config node.toml --stdin < resend.jsonl   # re-send dead letters\n\nExit status: see `docs/configuration.md` (0: every event reached every accepting target)."
)]
pub(crate) struct Args {
    /// Node config file (TOML, or JSON with a .json extension).
    #[arg(long, short)]
    config: PathBuf,
    /// Topic of the event (with --stdin: the topic of lines that are bare messages).
    #[arg(long)]
    topic: Option<String>,
    /// Routing key of the event (with --stdin: of bare messages and events without
    /// one; a dead-letter line's event is re-sent as it was).
    #[arg(long)]
    routing_key: Option<String>,
    /// Message type (`msgType`) of the event.
    #[arg(long)]
    msg_type: Option<String>,
    /// `authUser` of the event.
    #[arg(long)]
    user: Option<String>,
    /// A message field, `key=value`: a value that is JSON is kept as written (a number
    /// keeps its spelling), anything else is a string. `msgType` (and `authUser` with
    /// --user) are set by their own flags; a key given twice is refused.
    #[arg(long = "field", value_name = "KEY=VALUE")]
    fields: Vec<String>,
    /// Read JSON lines from stdin: bare message objects (a line with a top-level
    /// `msgType`; sent under --topic), dead-letter lines (`failedAt` and `event`: the
    /// event is re-sent as it was), or full or partial events (`topic`, `message`,
    /// optional `routingKey`, `id`, `timestamp`, `node`, `seq`).
    #[arg(long, conflicts_with_all = ["msg_type", "user", "fields"])]
    stdin: bool,
    /// Once the input has ended (or a SIGTERM/SIGINT stopped it), how long to wait for
    /// the events to be delivered, in seconds; with --stdin also how long reading waits
    /// for room while the targets take none of the events in flight (reading then
    /// stops there). Then what is still not delivered is reported (and dead-lettered
    /// where the target could not take it).
    #[arg(
        long,
        default_value_t = delivery::DEFAULT_TIMEOUT_S,
        value_name = "SECONDS",
        value_parser = delivery::timeout_seconds
    )]
    timeout: u64,
}

/// Runs the command.
pub(crate) fn run(args: Args) -> Result<ExitCode> {
    // Measured first: from the dispatcher's start on, the run may append to the very
    // file given on stdin (its dead-letter file), and must not read that back.
    let source = if args.stdin {
        Source::Stdin(StdinInput::at_start().context("cannot read the file on stdin")?)
    } else {
        Source::Flags(Box::new(draft_from_flags(&args)?))
    };
    let topic = args.topic.as_deref().map(Topic::new).transpose()?;
    let (config, builder) = auditrail::dispatcher_builder_from_file(&args.config)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Signals are watched from the start: a SIGTERM while the targets start up is
    // seen, not the default (an exit that skips the summary).
    let mut signals = runtime.block_on(async { Signals::new() })?;
    let dispatcher = builder.build().context("cannot start the targets")?;
    // `[metrics] listen`: a streaming `send --stdin` is a long-running node.
    let metrics = runtime
        .block_on(MetricsServer::start_from_config(
            &config.metrics,
            &dispatcher,
        ))
        .context("cannot start the metrics endpoint")?;
    let (summary, read) = runtime.block_on(async {
        let mut session = Session::new(dispatcher);
        let read = match source {
            Source::Flags(draft) => {
                session.emit_from(vec![*draft], |_| Some("the event of the flags".into()));
                StdinEnd::default()
            }
            Source::Stdin(input) => {
                let rules = LineRules {
                    topic,
                    routing_key: args.routing_key.clone(),
                    node: config.node.clone(),
                };
                stream_stdin(&mut session, &mut signals, input, rules, args.timeout).await
            }
        };
        // The time limit counts from the end of the input, or is already used up when
        // reading waited that long for room.
        let deadline = read
            .deadline
            .unwrap_or_else(|| delivery::deadline_in(args.timeout));
        let summary = session
            .finish(deadline, &config.dead_letter_dir, &mut signals)
            .await;
        if let Some(metrics) = metrics {
            metrics.shutdown().await;
        }
        (summary, read)
    });
    let mut summary = summary;
    summary.bad_lines = read.bad.count;
    let printed = summary.print();
    if read.bad.count > 0 {
        crate::errln!("auditrail: {}", read.bad.what_next());
    }
    if let Some(stop) = &read.invalid {
        crate::errln!("auditrail: error: {:#}", stop.error);
        crate::errln!("auditrail: {}", stop.what_next(&summary));
    }
    if let Some(cut) = &read.cut {
        crate::errln!("auditrail: {}", cut.what_next(&summary));
    }
    printed?;
    let left = read.cut.as_ref().is_some_and(|c| c.left_in_file);
    Ok(summary.exit_code(read.invalid.is_some() || left || read.bad.count > 0))
}

/// What the run sends.
enum Source {
    /// The one event of the flags.
    Flags(Box<EventDraft>),
    /// The lines of stdin.
    Stdin(StdinInput),
}

fn draft_from_flags(args: &Args) -> Result<EventDraft> {
    let (Some(topic), Some(msg_type)) = (&args.topic, &args.msg_type) else {
        bail!("give --topic and --msg-type (or --stdin)");
    };
    let topic = Topic::new(topic.as_str())?;
    // The message is written as JSON text and read like a message of a `--stdin`
    // line, so that a value given as JSON is kept as written.
    let mut members = vec![(MSG_TYPE, serde_json::to_string(msg_type)?)];
    if let Some(user) = &args.user {
        members.push(("authUser", serde_json::to_string(user)?));
    }
    for field in &args.fields {
        let (key, value) = field
            .split_once('=')
            .with_context(|| format!("--field {field:?}: expected KEY=VALUE"))?;
        if key == MSG_TYPE {
            bail!("--field {field:?}: `{MSG_TYPE}` is set by --msg-type");
        }
        if members.iter().any(|(k, _)| *k == key) {
            let by = if key == "authUser" && args.user.is_some() {
                "--user"
            } else {
                "an earlier --field"
            };
            bail!("--field {field:?}: `{key}` is already set by {by}");
        }
        members.push((key, value_text(value)?));
    }
    let mut text = String::from("{");
    for (i, (key, value)) in members.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&serde_json::to_string(key)?);
        text.push(':');
        text.push_str(value);
    }
    text.push('}');
    let mut draft = EventDraft::from_message(topic, Message::from_json(&text)?);
    if let Some(key) = &args.routing_key {
        draft = draft.routing_key(key);
    }
    draft.check()?;
    Ok(draft)
}

/// The JSON text of a `--field` value: the value as written when it is JSON (`3`,
/// `true`, `{"a":1}`; a number keeps its spelling, `123456789012345678901234567890`
/// and `1e400` included), else the value as a JSON string, so `--field user=alice`
/// needs no quotes.
fn value_text(text: &str) -> Result<String> {
    Ok(match serde_json::from_str::<&RawValue>(text) {
        Ok(raw) => raw.get().to_owned(),
        Err(_) => serde_json::to_string(text)?,
    })
}

/// What the stdin reader hands over.
enum Line {
    /// The draft of stdin line `line`; `through`: the bytes of the input read up to
    /// the end of that line.
    Draft {
        draft: Box<EventDraft>,
        line: u64,
        through: u64,
    },
    /// A line that cannot be sent (longer than a line may be, not UTF-8, not JSON, not
    /// an event or a valid dead letter): named, counted, and reading goes on.
    Bad(BadLine),
    /// The input could not be read (an I/O error): reading stops.
    Invalid(Stopped),
    /// The input ended before the length it had when `send` started (a file cut while
    /// read), no longer held what was read from it (rewritten in place), or its last
    /// line was still being written then: reading stops there.
    Short(Short),
    /// The end of the input: every line was read.
    End,
}

/// Reading stopped before the end of the input by a signal or the time limit: the
/// lines from `line` on were not read (or read and not sent), and nothing else says
/// so (the summary counts the events sent, the advice above it re-sends the
/// dead-letter file only).
struct Cut {
    /// What stopped it: `SIGTERM`, `SIGINT`, or the time limit.
    why: String,
    /// The first line not sent.
    line: u64,
    /// The input is a file with bytes after the last line taken: lines are known to be
    /// left unsent, which the exit status says (1). A pipe left open (a `tail -F` fed
    /// send, stopped the usual way) may hold nothing more: its stop is no failure.
    left_in_file: bool,
    /// Said after the advice (where the lines not read are now).
    hint: Option<String>,
}

impl Cut {
    /// Which lines were not read and how to send them.
    fn what_next(&self, summary: &delivery::Summary) -> String {
        let (at, why) = (self.line, &self.why);
        let rest = format!(
            "line {at} and the lines after it were not read, nor sent: send them from line \
             {at} on (`tail -n +{at} FILE`){}",
            self.hint.as_deref().unwrap_or_default()
        );
        if at <= 1 || summary.sent == 0 {
            return format!("reading stopped at line {at} ({why}): nothing was sent; {rest}");
        }
        let (before, were) = if at == 2 {
            ("line 1".to_string(), "was")
        } else {
            (format!("lines 1-{}", at - 1), "were")
        };
        format!(
            "reading stopped at line {at} ({why}): {before} {were} sent (where their events \
             went: see above; a dead-letter file named there is re-sent as it says); {rest}, \
             not the whole input again ({before} would be stored a second time)"
        )
    }
}

/// A regular file on stdin that was not read to the end it had when `send` started:
/// it ended sooner (cut while read: a log rotation's `copytruncate`, a file rewritten
/// in place), it was cut and written again past the read position (it no longer held
/// what was read from it), or its last line had no newline yet and the file has grown
/// since (the line was still being written). Either way, the first line not read is
/// known by its number and byte offset, and a torn line is no bad line: fixing it and
/// sending it alone (the advice for a bad line) would leave the lines after it unsent.
struct Short {
    /// The first line not read (or torn: read in part, not sent).
    line: u64,
    /// The input's bytes before that line (counted from where `send` started reading).
    at: u64,
    /// The bytes read when the input ended (or was found rewritten).
    ended: u64,
    /// The bytes the input held when `send` started.
    len: u64,
    /// Why it is short.
    why: ShortWhy,
}

/// Why a [`Short`] input was not read to its end.
enum ShortWhy {
    /// It ended before its length at the start.
    Cut,
    /// It was rewritten in place: what it holds from `ended` on is not what it held.
    Rewritten(Region),
    /// The last line was still being written when `send` started (not a cut).
    Unfinished,
}

impl Short {
    /// The line `line`, from byte `at`, was not read because of `rewritten`.
    fn rewritten(line: u64, at: u64, rewritten: &Rewritten, len: Option<u64>) -> Line {
        let Rewritten { at: ended, region } = rewritten;
        Line::Short(Short {
            line,
            at,
            ended: *ended,
            len: len.unwrap_or(*ended),
            why: ShortWhy::Rewritten(region.clone()),
        })
    }

    fn into_cut(self) -> Cut {
        let Short {
            line,
            at,
            ended,
            len,
            why,
        } = self;
        let hint = Some(format!(
            "; the file no longer holds them: take them from a copy of it as it was (a \
             rotated copy: `tail -n +{line} COPY`, the same as `tail -c +{} COPY`)",
            at + 1
        ));
        // Named by its path: the operator's next command (`tail -n +N FILE`) needs it.
        let file = match input::stdin_path() {
            Some(path) => format!("the file on stdin ({})", path.display()),
            None => "the file on stdin".to_string(),
        };
        if let ShortWhy::Rewritten(region) = why {
            let differs = match region {
                Region::Head { bytes } => {
                    format!(
                        "its first {bytes} bytes no longer held what they held when `send` started"
                    )
                }
                Region::Before { bytes, at } => format!(
                    "the {bytes} bytes read last, before byte {at}, no longer held what they \
                     held when read"
                ),
            };
            return Cut {
                why: format!(
                    "{file} was rewritten in place while read: reading on from byte {ended}, \
                     {differs} (truncated and written again, as a log rotation's `copytruncate` followed by new \
                     lines does): the lines it holds now are other lines, none of them sent; \
                     line {line}, from byte {at}, is the first line not sent"
                ),
                line,
                left_in_file: true,
                hint,
            };
        }
        if matches!(why, ShortWhy::Unfinished) {
            return Cut {
                why: format!(
                    "line {line}, at byte {at}, had no newline yet when `send` started and the \
                     file has grown since: it was still being written, and is not sent"
                ),
                line,
                left_in_file: true,
                hint: None,
            };
        }
        let torn = if ended > at {
            format!(
                "; line {line} starts at byte {at} and only its first {} bytes were there: \
                 it is not sent",
                ended - at
            )
        } else {
            format!("; line {line} starts at byte {at}")
        };
        Cut {
            why: format!(
                "{file} was cut at byte {ended} while read: it held {len} bytes when `send` \
                 started (truncated or rewritten in place, as a log rotation's `copytruncate` \
                 does){torn}"
            ),
            line,
            left_in_file: true,
            hint,
        }
    }
}

/// Where and why reading stdin stopped before its end: the input could not be read.
struct Stopped {
    error: anyhow::Error,
    /// The first line not sent (the one that could not be read): the lines before it
    /// were, but for the bad lines among them ([`BadLines`]).
    line: u64,
}

impl Stopped {
    /// Which lines were sent and where they went, and from which line to send again:
    /// said exactly, since re-sent lines are stored again (each line without its own
    /// `seq` gets a fresh one, and the server's duplicate check compares node, seq,
    /// timestamp and content along with the id: an id alone makes no duplicate).
    fn what_next(&self, summary: &delivery::Summary) -> String {
        let at = self.line;
        let fix = format!("fix line {at} and send from line {at} on (`tail -n +{at} FILE`)");
        if at <= 1 || summary.sent == 0 {
            return format!("reading stopped at line {at}: nothing was sent; {fix}");
        }
        let (before, were, stored, carries) = if at == 2 {
            ("line 1".to_string(), "was", "its event", "it carries")
        } else {
            (
                format!("lines 1-{}", at - 1),
                "were",
                "their events",
                "each line carries",
            )
        };
        let went = if summary.outcome(false) == Outcome::Delivered {
            "delivered"
        } else if summary.outcome(false) == Outcome::NotDurable {
            "delivered, not all of them durably (see above)"
        } else {
            "sent, but not all of their events were delivered (see above)"
        };
        format!(
            "reading stopped at line {at}: {before} {were} {went}; {fix}. \
             Sending {before} again stores {stored} a second time, unless {carries} its own \
             `id`, `timestamp` and `seq` (the event server then answers them as duplicates)"
        )
    }
}

/// Reads stdin on a thread of its own (a blocking read must not hold the runtime,
/// which also watches the signals) and sends each line's draft, or why the line cannot
/// be sent: a bad line is that line's failure alone, and the lines after it are read
/// and sent as usual (one dead letter longer than a line may be stopped the re-sending
/// of the whole dead-letter file there). Stops at the end of input, at an input that
/// cannot be read, or when the receiver is gone.
fn spawn_reader(tx: mpsc::Sender<Line>, input: StdinInput, rules: LineRules, progress: Progress) {
    std::thread::spawn(move || {
        let known = input.len();
        // The input ended before the bytes it held at the start: cut while read.
        let cut_at = |ended: u64| known.filter(|&len| ended < len);
        let mut input_reader = match input.reader() {
            Ok(reader) => reader,
            Err(e) => {
                let _ = tx.blocking_send(Line::Invalid(Stopped {
                    error: anyhow::Error::new(e).context("cannot read stdin"),
                    line: 1,
                }));
                return;
            }
        };
        let mut buf = Vec::with_capacity(4096);
        let mut line_no = 0u64;
        let mut through = 0u64;
        loop {
            buf.clear();
            // One byte more than a line may hold: a line that reaches it without its
            // newline is too long, and nothing more of it is read.
            let limit = MAX_LINE_BYTES as u64 + 1;
            match (&mut input_reader).take(limit).read_until(b'\n', &mut buf) {
                Ok(0) => {
                    let end = match cut_at(through) {
                        Some(len) => Line::Short(Short {
                            line: line_no + 1,
                            at: through,
                            ended: through,
                            len,
                            why: ShortWhy::Cut,
                        }),
                        None => Line::End,
                    };
                    let _ = tx.blocking_send(end);
                    return;
                }
                Ok(n) => {
                    through += n as u64;
                    progress.advance(n as u64);
                }
                // A file rewritten in place: the line being read is the first not read.
                Err(e) => {
                    let stop = match Rewritten::of(&e) {
                        Some(r) => Short::rewritten(line_no + 1, through, r, known),
                        None => Line::Invalid(Stopped {
                            error: anyhow::Error::new(e)
                                .context(format!("cannot read stdin after line {line_no}")),
                            line: line_no + 1,
                        }),
                    };
                    let _ = tx.blocking_send(stop);
                    return;
                }
            }
            line_no += 1;
            let started_at = through - buf.len() as u64;
            // The line `line_no`, from `started_at`, cut off at `ended` by the input
            // ending before its `len` bytes at the start: the first line not read.
            let torn = |ended: u64, len: u64| {
                Line::Short(Short {
                    line: line_no,
                    at: started_at,
                    ended,
                    len,
                    why: ShortWhy::Cut,
                })
            };
            // Ended without its newline, before the bytes the file held at the start:
            // torn by the cut, no bad line.
            if buf.len() <= MAX_LINE_BYTES && buf.last() != Some(&b'\n') {
                if let Some(len) = cut_at(through) {
                    let _ = tx.blocking_send(torn(through, len));
                    return;
                }
            }
            if buf.len() > MAX_LINE_BYTES && buf.last() != Some(&b'\n') {
                // The rest of the line is passed over without being held, up to its
                // newline: the lines after it are sent. Its bytes stay in the input
                // (a dead-letter file moved aside is kept while lines were not sent).
                let (skipped, whole) = match skip_to_next_line(&mut input_reader) {
                    Ok(n) => n,
                    Err(e) => {
                        let stop = match Rewritten::of(&e) {
                            Some(r) => Short::rewritten(line_no, started_at, r, known),
                            None => Line::Invalid(Stopped {
                                error: anyhow::Error::new(e)
                                    .context(format!("cannot read stdin in line {line_no}")),
                                line: line_no,
                            }),
                        };
                        let _ = tx.blocking_send(stop);
                        return;
                    }
                };
                through += skipped;
                progress.advance(skipped);
                // Its end was cut off: what it was is not known; it is the first
                // line not read.
                if let (false, Some(len)) = (whole, cut_at(through)) {
                    let _ = tx.blocking_send(torn(through, len));
                    return;
                }
                // Not kept at this size for the lines to come.
                buf = Vec::with_capacity(4096);
                let bad = Line::Bad(BadLine {
                    error: anyhow::anyhow!(
                        "stdin line {line_no}: longer than {MAX_LINE_BYTES} bytes (64 MiB, the \
                         most one event can be: a spool record holds no more; plus 128 KiB \
                         for a dead letter's other keys): not read past that, passed over \
                         to its newline (a dead letter of an event that large, which no \
                         node can deliver; or is the input not JSON lines?)"
                    ),
                    line: line_no,
                    through,
                });
                if tx.blocking_send(bad).is_err() {
                    return;
                }
                continue;
            }
            // A byte order mark at the start of the input is skipped, as RFC 8259
            // (section 8.1) lets a JSON parser do: editors and Windows tools write one
            // at the start of a file. Elsewhere `LineRules::parse` names it.
            let raw = match buf.strip_prefix(b"\xEF\xBB\xBF") {
                Some(rest) if line_no == 1 => rest,
                _ => &buf[..],
            };
            let line = match rules.parse(raw) {
                Ok(None) => continue,
                Ok(Some(draft)) => Line::Draft {
                    draft: Box::new(draft),
                    line: line_no,
                    through,
                },
                // The file's last line at the start, without its newline, in a file
                // that has grown since: still being written then, not a bad line (its
                // rest is in the file now). One that is whole JSON was sent above.
                Err(_)
                    if buf.last() != Some(&b'\n')
                        && known == Some(through)
                        && input.has_grown() =>
                {
                    let _ = tx.blocking_send(Line::Short(Short {
                        line: line_no,
                        at: started_at,
                        ended: through,
                        len: through,
                        why: ShortWhy::Unfinished,
                    }));
                    return;
                }
                Err(e) => Line::Bad(BadLine {
                    error: e.context(format!("stdin line {line_no}")),
                    line: line_no,
                    through,
                }),
            };
            if tx.blocking_send(line).is_err() {
                return;
            }
        }
    });
}

/// Reads and drops the rest of a line, up to and with its newline (or the end of the
/// input), holding no more of it than the reader's buffer. The bytes passed over.
/// Also whether it ended with a newline (not at the end of the input).
fn skip_to_next_line(input: &mut dyn BufRead) -> std::io::Result<(u64, bool)> {
    let mut skipped = 0u64;
    loop {
        let buf = match input.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok((skipped, false));
        }
        let (n, ended) = match buf.iter().position(|&b| b == b'\n') {
            Some(at) => (at + 1, true),
            None => (buf.len(), false),
        };
        input.consume(n);
        skipped += n as u64;
        if ended {
            return Ok((skipped, true));
        }
    }
}

/// A stdin line that cannot be sent, and why.
struct BadLine {
    /// Names the line (`stdin line N: ...`).
    error: anyhow::Error,
    line: u64,
    /// The bytes of the input read up to the end of the line.
    through: u64,
}

/// The bad lines of the run: each is said on stderr as it is read (a `tail -F` fed
/// send runs for days), and the end of the run says which lines they were and what to
/// do with them.
#[derive(Default)]
struct BadLines {
    count: u64,
    /// The first [`BadLines::LISTED`] line numbers.
    first: Vec<u64>,
}

impl BadLines {
    /// How many line numbers the final message lists.
    const LISTED: usize = 20;

    fn report(&mut self, bad: BadLine) {
        crate::errln!(
            "auditrail: error: {}: not sent",
            output::describe(&bad.error)
        );
        self.count += 1;
        if self.first.len() < Self::LISTED {
            self.first.push(bad.line);
        }
    }

    /// Which lines were not sent, where they are, and how to send them once fixed.
    /// They are not copied anywhere: they are in the input as they were (a file given
    /// on stdin, a dead-letter file moved aside; with a pipe, whatever fed it). A copy
    /// would need a bound for a line that never ends (`< /dev/zero`), and a bounded
    /// copy of a dead letter's event is not the event.
    fn what_next(&self) -> String {
        let listed = self
            .first
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let (lines, (were, them)) = if self.count == 1 {
            (
                format!("line {listed} was not sent, named above with why"),
                ("it is", "it"),
            )
        } else if self.count as usize > self.first.len() {
            (
                format!(
                    "{} lines were not sent (the first {}: {listed}), each named above with \
                     why",
                    self.count,
                    self.first.len()
                ),
                ("they are", "them"),
            )
        } else {
            (
                format!(
                    "{} lines were not sent ({listed}), each named above with why",
                    self.count
                ),
                ("they are", "them"),
            )
        };
        let only = if self.count as usize == self.first.len() {
            let picks: String = self.first.iter().map(|l| format!("{l}p;")).collect();
            format!(" (`sed -n '{}' FILE`)", picks.trim_end_matches(';'))
        } else {
            String::new()
        };
        format!(
            "{lines}; {were} still in the input as \
             it was: keep it (a dead-letter file moved aside too: it holds {them}), fix \
             {them} and send only {them}{only}, not the whole input again (the other lines were \
             sent: a line without its own `id`, `timestamp` and `seq` would be stored a \
             second time)"
        )
    }
}

/// Drafts read and not emitted yet, with their stdin line numbers.
#[derive(Default)]
struct Batch {
    drafts: Vec<EventDraft>,
    lines: Vec<u64>,
}

impl Batch {
    fn push(&mut self, draft: EventDraft, line: u64) {
        self.drafts.push(draft);
        self.lines.push(line);
    }

    fn len(&self) -> usize {
        self.drafts.len()
    }

    /// Emits what it holds, each draft named by its line (an event no target's filter
    /// accepts is reported as `stdin line N`), and is empty again.
    fn emit(&mut self, session: &mut Session) {
        let drafts = std::mem::take(&mut self.drafts);
        let lines = std::mem::take(&mut self.lines);
        session.emit_from(drafts, |i| {
            lines.get(i).map(|line| format!("stdin line {line}"))
        });
    }
}

/// How the reading of stdin ended.
#[derive(Default)]
struct StdinEnd {
    /// The lines that could not be sent (reading went on after each).
    bad: BadLines,
    /// The input error that stopped it.
    invalid: Option<Stopped>,
    /// A signal or the time limit that stopped it before the end of the input.
    cut: Option<Cut>,
    /// Set when reading stopped because the time limit passed while it waited for
    /// room: the wait for delivery is over too (the limit is not given twice).
    deadline: Option<Instant>,
}

/// Emits stdin lines as they arrive, in batches of up to [`CHUNK`] events or
/// [`BATCH_WAIT`], until the end of input, an invalid line, a signal (then what was
/// already read is emitted too, and reading stops), or the time limit (`timeout_s`)
/// passing while reading waits for room: every batch in flight awaits its answer and
/// none came that long (a target that takes nothing holds its events until the
/// shutdown, so without this a long input never ended and the time limit never began).
async fn stream_stdin(
    session: &mut Session,
    signals: &mut Signals,
    input: StdinInput,
    rules: LineRules,
    timeout_s: u64,
) -> StdinEnd {
    let len = input.len();
    let progress = Progress::for_stdin(len);
    let (tx, mut rx) = mpsc::channel(CHUNK);
    spawn_reader(tx, input, rules, progress.clone());
    let mut chunk = Batch::default();
    let mut emit_at: Option<Instant> = None;
    let mut read = StdinEnd::default();
    // While there is no room: when waiting for it ends.
    let mut room_by: Option<Instant> = None;
    // The last line taken (its number, and the input's bytes read through it), and
    // whether the reader reached the end of the input: where a stop cut it.
    let mut taken = (0u64, 0u64);
    let mut ended = false;
    let mut stopped_by: Option<String> = None;
    loop {
        if session.has_room() {
            room_by = None;
        } else if room_by.is_none() {
            room_by = Some(delivery::deadline_in(timeout_s));
        }
        let timer = async {
            match emit_at {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        let no_room = async {
            match room_by {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            signal = signals.recv() => {
                tracing::warn!("{signal}: reading stops; what was read is delivered");
                // Lines already read (queued from the reader thread) are delivered too.
                rx.close();
                while let Ok(line) = rx.try_recv() {
                    match line {
                        Line::Draft { draft, line, through } => {
                            chunk.push(*draft, line);
                            taken = (line, through);
                        }
                        Line::Bad(bad) => {
                            taken = (bad.line, bad.through);
                            read.bad.report(bad);
                        }
                        Line::Invalid(e) => {
                            read.invalid = Some(e);
                            break;
                        }
                        Line::Short(short) => {
                            read.cut = Some(short.into_cut());
                            break;
                        }
                        Line::End => ended = true,
                    }
                }
                stopped_by = Some(signal.to_owned());
                break;
            }
            // Backpressure: no more reading while as many batches as allowed await
            // their acknowledgements.
            () = session.collect_one(), if !session.has_room() => {}
            () = no_room => {
                tracing::warn!(
                    "the time limit ({timeout_s} s) passed while reading waited for room (the \
                     targets took none of the events in flight): reading stops; what was \
                     read is dead-lettered where a target could not take it"
                );
                rx.close();
                read.deadline = room_by;
                stopped_by = Some(format!(
                    "the time limit of {timeout_s} s passed while the targets took none of \
                     the events in flight"
                ));
                break;
            }
            line = rx.recv(), if session.has_room() => match line {
                Some(Line::Draft { draft, line, through }) => {
                    chunk.push(*draft, line);
                    taken = (line, through);
                    if chunk.len() >= CHUNK {
                        chunk.emit(session);
                        emit_at = None;
                    } else if emit_at.is_none() {
                        emit_at = Some(Instant::now() + BATCH_WAIT);
                    }
                }
                Some(Line::Bad(bad)) => {
                    taken = (bad.line, bad.through);
                    read.bad.report(bad);
                }
                Some(Line::Invalid(e)) => {
                    read.invalid = Some(e);
                    break;
                }
                Some(Line::Short(short)) => {
                    read.cut = Some(short.into_cut());
                    break;
                }
                // `None`: the reader is gone without a word (it only returns so once
                // the receiver is closed).
                Some(Line::End) | None => break,
            },
            () = timer, if session.has_room() => {
                chunk.emit(session);
                emit_at = None;
            }
        }
        session.collect_ready();
        progress.set_sent(session.acknowledged());
    }
    chunk.emit(session);
    progress.finish(session.acknowledged());
    // A file whose last byte was taken left nothing out, even when the reader's word
    // of the end did not come before the stop.
    let all_read = ended || len == Some(taken.1);
    if read.invalid.is_none() && read.cut.is_none() && !all_read {
        read.cut = stopped_by.map(|why| Cut {
            why,
            line: taken.0 + 1,
            left_in_file: len.is_some_and(|len| len > taken.1),
            hint: None,
        });
    }
    read
}
