//! `auditrail tail`: follow the events an event server accepts, live, through its
//! `GET /v1/stream` (Server-Sent Events), with the filters of `auditrail query events`.
//! The server applies the filters; this command prints what it sends, with the values
//! it says look like others marked ([`marks`]).

use std::borrow::Cow;
use std::fmt;
use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use auditrail::Timestamp;
use auditrail_query::parse_time;
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use serde::de::{Deserializer as _, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::query::{runtime, FilterArgs};
use super::shown;

mod marks;

use self::marks::TailMarks;

/// Arguments of `auditrail tail`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The event server's base URL.
    #[arg(
        long,
        env = "AUDITRAIL_SERVER",
        default_value = "http://127.0.0.1:9980"
    )]
    server: String,
    /// A stats key (the secret of a `[[stats_keys]]` entry): needed as soon as the
    /// server has `[[keys]]` (unless `allow_unauthenticated_recent`), and with
    /// `require_auth_for_stats`.
    #[arg(long, env = "AUDITRAIL_STATS_KEY", hide_env_values = true)]
    key: Option<String>,
    /// First show the newest N matching events the server keeps (at most 1000).
    #[arg(short = 'n', long, default_value_t = 10)]
    lines: usize,
    #[command(flatten)]
    filter: FilterArgs,
    /// Only events whose own timestamp is at or after this time: a date (2026-11-29,
    /// UTC), an RFC 3339 date-time, or a duration before now (24h, 7d).
    #[arg(long)]
    since: Option<String>,
    /// Output: `text` (one line per event) or `ndjson` (each event in the server's
    /// envelope, one JSON object per line).
    #[arg(long, value_enum, default_value = "text")]
    format: TailFormat,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum TailFormat {
    /// serverTimestamp node topic routingKey msgType authUser, space-separated: `-`
    /// for a missing value, a string in quotes where bare it would read as another.
    Text,
    /// One JSON object per line.
    Ndjson,
}

/// Runs the command until the server ends the stream or the command is stopped.
pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let mut params: Vec<(&str, String)> = vec![("limit", args.lines.to_string())];
    if let Some(s) = &args.since {
        let t = parse_time("--since", s, Timestamp::now())?;
        params.push(("since", t.to_string()));
    }
    params.extend(args.filter.params());
    let url = format!("{}/v1/stream", args.server.trim_end_matches('/'));
    runtime()?.block_on(follow(&url, &params, args.key.as_deref(), args.format))
}

async fn follow(
    url: &str,
    params: &[(&str, String)],
    key: Option<&str>,
    format: TailFormat,
) -> Result<ExitCode> {
    let client = reqwest::Client::new();
    let mut request = client.get(url).query(params);
    if let Some(k) = key {
        request = request.bearer_auth(k);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        // The server's 401 speaks of its `Authorization` header; say how this command
        // sends one (a newcomer following the docs runs `tail` without a key).
        let hint = match (status, key) {
            (reqwest::StatusCode::UNAUTHORIZED, None) => {
                "; give a stats key (the secret of a [[stats_keys]] entry) with --key or AUDITRAIL_STATS_KEY"
            }
            (reqwest::StatusCode::UNAUTHORIZED, Some(_)) => {
                "; the key given with --key (or AUDITRAIL_STATS_KEY) was refused"
            }
            _ => "",
        };
        bail!("{url}: {status}: {}{hint}", body.trim());
    }
    let mut events = response.bytes_stream().eventsource();
    let mut marks = TailMarks::default();
    while let Some(event) = events.next().await {
        let event = event.with_context(|| format!("{url}: the stream broke"))?;
        match event.event.as_str() {
            "end" => {
                let said: serde_json::Value = serde_json::from_str(&event.data).unwrap_or_default();
                let why = said["message"].as_str().unwrap_or(&event.data);
                crate::errln!("auditrail: {url}: the server ended the stream: {why}");
                return Ok(ExitCode::FAILURE);
            }
            "lagged" => crate::errln!(
                "auditrail: the server dropped events this follower was too slow for ({}); \
                 `auditrail query events` reads them from the store",
                event.data
            ),
            // Which values look like others, said before the event that makes them:
            // no event. Text: said on lines of their own and marked in the lines after;
            // ndjson: as a line of its own.
            "lookalikes" => {
                let Some(said) = marks::parse(&event.data) else {
                    crate::errln!(
                        "auditrail: the server sent look-alikes that are not a list of marks; left out"
                    );
                    continue;
                };
                match format {
                    TailFormat::Ndjson => {
                        crate::outln!("{{\"lookalikes\":{}}}", event.data.trim())?;
                    }
                    TailFormat::Text => {
                        for line in marks.add(&said) {
                            crate::outln!("{line}")?;
                        }
                    }
                }
            }
            _ => {
                let line = match format {
                    TailFormat::Ndjson => event.data,
                    TailFormat::Text => text_line(&event.data, &marks),
                };
                crate::outln!("{line}")?;
            }
        }
    }
    crate::errln!(
        "auditrail: {url}: the stream ended without a word from the server (the connection closed)"
    );
    Ok(ExitCode::FAILURE)
}

/// One event of the stream as a line of text, one word per value through
/// [`shown::line_value`]: `-` for what it lacks, a string in quotes where bare it would
/// read as another word or value, any other value as its JSON; a string the stream
/// said looks like another of its column with the characters it said escaped (`marks`).
/// Two different events never print the same line (their server timestamps aside).
///
/// The envelope is read member by member as raw JSON text, never into a
/// `serde_json::Value`: a stored message may hold any valid JSON, such as a number
/// beyond a double (`1e400`), which a `Value` cannot take (the whole line then failed
/// to parse and was printed as the raw envelope). A repeated key counts once, the first
/// time, as in `auditrail query events`.
fn text_line(data: &str, marks: &TailMarks) -> String {
    let Some([server_timestamp, client_event, omitted_bytes, cut_fields]) = members(
        data,
        [
            "serverTimestamp",
            "clientEvent",
            "omittedBytes",
            "cutFields",
        ],
    ) else {
        // The server sends each event as a JSON object; anything else is shown as it
        // came, escaped, and said.
        crate::errln!(
            "auditrail: the server sent an event that is not a JSON object; shown as sent"
        );
        return shown::escape(data).into_owned();
    };
    let [node, topic, routing_key, message] = client_event
        .and_then(|e| members(e.get(), ["node", "topic", "routingKey", "message"]))
        .unwrap_or_default();
    let [msg_type, auth_user] = message
        .and_then(|m| members(m.get(), ["msgType", "authUser"]))
        .unwrap_or_default();
    let words = [node, topic, routing_key, msg_type, auth_user]
        .into_iter()
        .zip(marks::LINE_COLUMNS)
        .map(|(v, (column, _))| {
            let raw = v.map(RawValue::get);
            // Marks are of strings: a value that is none is in no column.
            let marked = raw
                .and_then(|r| serde_json::from_str::<Cow<'_, str>>(r).ok())
                .map(|text| marks.escaped(column, &text))
                .unwrap_or_default();
            shown::line_value_marked(raw, &marked)
        });
    std::iter::once(shown::line_value(server_timestamp.map(RawValue::get)))
        .chain(words)
        .collect::<Vec<_>>()
        .join(" ")
        + &stub_note(omitted_bytes, cut_fields)
}

/// What a line of a stub (an event over 16 KiB, which the server's live view keeps as
/// its envelope, `msgType` and `authUser`, each cut to 256 bytes: docs/protocol.md)
/// adds, so that a cut `authUser` is never read as the whole value: ` [stub: the
/// event is N bytes; authUser cut from M bytes; auditrail query events has it
/// whole]`. Empty for a whole event. Sizes that are not numbers are left out (the
/// server sends numbers); a field is named as the server sent it, shown as any value.
fn stub_note(omitted_bytes: Option<&RawValue>, cut_fields: Option<&RawValue>) -> String {
    let Some(size) = omitted_bytes.and_then(|v| v.get().parse::<u64>().ok()) else {
        return String::new();
    };
    let mut note = format!(" [stub: the event is {size} bytes");
    let cut: std::collections::BTreeMap<String, serde_json::Value> = cut_fields
        .and_then(|v| serde_json::from_str(v.get()).ok())
        .unwrap_or_default();
    for (field, bytes) in &cut {
        if let Some(bytes) = bytes.as_u64() {
            let field = shown::line_value(Some(&serde_json::to_string(field).unwrap_or_default()));
            let _ = write!(note, "; {field} cut from {bytes} bytes");
        }
    }
    note.push_str("; auditrail query events has it whole]");
    note
}

/// The members `keys` of the JSON object `json`, each as its raw JSON text (the first
/// one where a key is repeated; `None` where it is missing); `None` when `json` is not
/// an object. Values are skipped unparsed, so any valid JSON is taken.
fn members<'a, const N: usize>(
    json: &'a str,
    keys: [&str; N],
) -> Option<[Option<&'a RawValue>; N]> {
    struct Members<'k, const N: usize>([&'k str; N]);

    impl<'de, const N: usize> Visitor<'de> for Members<'_, N> {
        type Value = [Option<&'de RawValue>; N];

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = [None; N];
            while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                let value = map.next_value::<&'de RawValue>()?;
                if let Some(i) = self.0.iter().position(|k| *k == key) {
                    out[i].get_or_insert(value);
                }
            }
            Ok(out)
        }
    }

    let mut de = serde_json::Deserializer::from_str(json);
    let out = de.deserialize_map(Members(keys)).ok()?;
    de.end().ok()?;
    Some(out)
}
