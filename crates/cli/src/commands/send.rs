//! `auditrail send`: emit events to the targets of a node config and exit only once
//! every event is acknowledged by every target that accepted it.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use auditrail::{AckError, DeadLetterLine, Dispatcher, EventDraft, Message, Topic};
use serde_json::Value;

use super::progress::Progress;

/// Events per acknowledged batch, and batches awaited at once.
const CHUNK: usize = 1000;
const CHUNKS_IN_FLIGHT: usize = 8;

/// Arguments of `auditrail send`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  auditrail send --config node.toml --topic generic --msg-type login --user alice --field clientIP=10.0.0.7\n  auditrail send --config node.toml --stdin < events.jsonl\n  auditrail send --config node.toml --stdin < run/deadletter/eventserver-1.jsonl   # re-send dead letters"
)]
pub struct Args {
    /// Node config file (TOML, or JSON with a .json extension).
    #[arg(long, short)]
    config: PathBuf,
    /// Topic of the event (with --stdin: the topic of lines that are bare messages).
    #[arg(long)]
    topic: Option<String>,
    /// Routing key of the event.
    #[arg(long)]
    routing_key: Option<String>,
    /// Message type (`msgType`) of the event.
    #[arg(long)]
    msg_type: Option<String>,
    /// `authUser` of the event.
    #[arg(long)]
    user: Option<String>,
    /// A message field, `key=value`; a value that parses as JSON is JSON, else a string.
    #[arg(long = "field", value_name = "KEY=VALUE")]
    fields: Vec<String>,
    /// Read JSON lines from stdin: full or partial events (`topic`, `message`, optional
    /// `routingKey`, `id`, `timestamp`, `node`, `seq`), dead-letter lines (their `event`
    /// is re-sent as it was), or bare message objects when --topic is given.
    #[arg(long, conflicts_with_all = ["msg_type", "user", "fields"])]
    stdin: bool,
}

/// Runs the command.
pub fn run(args: Args) -> Result<ExitCode> {
    let (config, builder) = auditrail::dispatcher_builder_from_file(&args.config)?;
    let dispatcher = builder.build().context("cannot start the targets")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let outcome = if args.stdin {
        let topic = args.topic.as_deref().map(Topic::new).transpose()?;
        runtime.block_on(send_stdin(&dispatcher, topic, args.routing_key.as_deref()))
    } else {
        let draft = draft_from_flags(&args)?;
        runtime.block_on(send_chunk(dispatcher.clone(), vec![draft]))
    };
    let report = dispatcher.shutdown_blocking(Duration::from_secs(config.shutdown_timeout_s));
    let outcome = outcome?;
    println!(
        "{}",
        serde_json::json!({"sent": outcome.sent, "acknowledged": outcome.acknowledged, "failed": outcome.failures.len()})
    );
    for failure in outcome.failures.iter().take(20) {
        eprintln!("auditrail: not delivered: {failure}");
    }
    if outcome.failures.len() > 20 {
        eprintln!("auditrail: … and {} more", outcome.failures.len() - 20);
    }
    if !report.is_clean() {
        for t in report
            .targets
            .iter()
            .filter(|t| t.error.is_some() || t.undelivered > 0)
        {
            eprintln!(
                "auditrail: target {}: {} undelivered{}",
                t.stats.name,
                t.undelivered,
                t.error
                    .as_deref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(
        if outcome.failures.is_empty() && outcome.acknowledged == outcome.sent {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        },
    )
}

#[derive(Default)]
struct Outcome {
    sent: u64,
    acknowledged: u64,
    failures: Vec<String>,
}

impl Outcome {
    fn absorb(&mut self, other: Outcome) {
        self.sent += other.sent;
        self.acknowledged += other.acknowledged;
        self.failures.extend(other.failures);
    }
}

fn draft_from_flags(args: &Args) -> Result<EventDraft> {
    let (Some(topic), Some(msg_type)) = (&args.topic, &args.msg_type) else {
        bail!("give --topic and --msg-type (or --stdin)");
    };
    let mut draft = EventDraft::new(topic.as_str(), msg_type.as_str());
    if let Some(key) = &args.routing_key {
        draft = draft.routing_key(key);
    }
    if let Some(user) = &args.user {
        draft = draft.auth_user(user.as_str());
    }
    for field in &args.fields {
        let (key, value) = field
            .split_once('=')
            .with_context(|| format!("--field {field:?}: expected KEY=VALUE"))?;
        draft = draft.field(key, parse_value(value));
    }
    draft.check()?;
    Ok(draft)
}

/// `3` is a number, `true` a boolean, `{"a":1}` an object; anything that is not JSON
/// is a string, so `--field user=alice` needs no quotes.
fn parse_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// Turns one stdin line into a draft. Line numbers start at 1 in errors.
fn draft_from_line(
    line: &str,
    topic: Option<&Topic>,
    routing_key: Option<&str>,
) -> Result<EventDraft> {
    let value: Value = serde_json::from_str(line).context("not JSON")?;
    let Value::Object(map) = value else {
        bail!("expected a JSON object")
    };
    // A dead-letter line: re-send the event exactly as it was (same id: stored once).
    if map.contains_key("failedAt") && map.contains_key("event") {
        let dead = DeadLetterLine::from_json(line).context("dead-letter line")?;
        return Ok(EventDraft::from(dead.event));
    }
    let mut draft = if map.contains_key("message") || map.contains_key("topic") {
        let mut object = map;
        if let (Some(topic), false) = (topic, object.contains_key("topic")) {
            object.insert("topic".into(), Value::String(topic.to_string()));
        }
        EventDraft::from_json(&Value::Object(object).to_string())?
    } else {
        let Some(topic) = topic else {
            bail!("a bare message object needs --topic (or give `topic` and `message` keys)");
        };
        EventDraft::from_message(topic.clone(), Message::from_map(map)?)
    };
    if let (Some(key), None) = (routing_key, &draft.routing_key) {
        draft = draft.routing_key(key);
        draft.check()?;
    }
    Ok(draft)
}

async fn send_stdin(
    dispatcher: &Dispatcher,
    topic: Option<Topic>,
    routing_key: Option<&str>,
) -> Result<Outcome> {
    let stdin = std::io::stdin();
    let progress = Progress::for_stdin();
    let mut outcome = Outcome::default();
    let mut in_flight = tokio::task::JoinSet::new();
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut invalid: Option<anyhow::Error> = None;
    for (index, line) in stdin.lock().lines().enumerate() {
        let line = line.context("cannot read stdin")?;
        progress.advance(line.len() as u64 + 1);
        if line.trim().is_empty() {
            continue;
        }
        match draft_from_line(&line, topic.as_ref(), routing_key) {
            Ok(draft) => chunk.push(draft),
            Err(e) => {
                // Stop reading, but deliver (and wait for) what was already emitted.
                invalid = Some(e.context(format!("stdin line {}", index + 1)));
                break;
            }
        }
        if chunk.len() == CHUNK {
            if in_flight.len() >= CHUNKS_IN_FLIGHT {
                if let Some(done) = in_flight.join_next().await {
                    outcome.absorb(done?);
                }
            }
            in_flight.spawn(send_chunk_owned(
                dispatcher.clone(),
                std::mem::take(&mut chunk),
            ));
            progress.set_sent(outcome.acknowledged);
        }
    }
    if !chunk.is_empty() {
        in_flight.spawn(send_chunk_owned(dispatcher.clone(), chunk));
    }
    while let Some(done) = in_flight.join_next().await {
        outcome.absorb(done?);
    }
    progress.finish(outcome.acknowledged);
    if let Some(e) = invalid {
        return Err(e.context(format!(
            "{} event(s) before it were sent and {} acknowledged",
            outcome.sent, outcome.acknowledged
        )));
    }
    Ok(outcome)
}

async fn send_chunk_owned(dispatcher: Dispatcher, drafts: Vec<EventDraft>) -> Outcome {
    send_chunk(dispatcher, drafts)
        .await
        .unwrap_or_else(|e| Outcome {
            failures: vec![e.to_string()],
            ..Outcome::default()
        })
}

async fn send_chunk(dispatcher: Dispatcher, drafts: Vec<EventDraft>) -> Result<Outcome> {
    let sent = drafts.len() as u64;
    match dispatcher.emit_batch_acked(drafts).await {
        Ok(emitted) => {
            // An event that no target accepted went nowhere: for `send`, that is a failure.
            let failures: Vec<String> = emitted
                .iter()
                .filter(|e| e.targets == 0)
                .map(|e| format!("event {} (seq {}) matched no target's filter", e.id, e.seq))
                .collect();
            Ok(Outcome {
                sent,
                acknowledged: sent - failures.len() as u64,
                failures,
            })
        }
        Err(errors) => Ok(Outcome {
            sent,
            acknowledged: sent - errors.len() as u64,
            failures: errors.iter().map(AckError::to_string).collect(),
        }),
    }
}
