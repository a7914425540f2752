//! One `send --stdin` line into an event draft, by one rule that tells the three kinds
//! of line apart from their top-level keys alone (docs/node-commands.md, Input):
//!
//! 1. a line with a top-level `msgType` is a **bare message**, sent under `--topic`:
//!    every message has a `msgType`, and an event or a dead-letter line never has one
//!    at the top (theirs is inside `message`, `event.message`). Its other keys are the
//!    message's own, `message` and `topic` included (`{"msgType":"job-failed",
//!    "message":"disk full"}` is common in application logs);
//! 2. else a line with `failedAt` and `event` is a **dead-letter line**: its event is
//!    re-sent as it was (same id, node and seq);
//! 3. else the line is an **event**, full or partial; `--topic` is the topic of one
//!    without `topic`.
//!
//! So no valid line of one kind is read as another, and an error says which reading
//! was tried, why, and what failed.

use std::collections::HashMap;

use anyhow::{bail, Context, Result};
use auditrail::event::MSG_TYPE;
use auditrail::{DeadLetterLine, EventDraft, Message, NodeId, Topic};
use serde_json::error::Category;
use serde_json::value::RawValue;

/// What `send --stdin` makes of every line.
pub(crate) struct LineRules {
    /// `--topic`: the topic of bare messages, and of events without `topic`.
    pub(crate) topic: Option<Topic>,
    /// `--routing-key`: the routing key of bare messages and events without one (never
    /// of a dead-letter line's event).
    pub(crate) routing_key: Option<String>,
    /// The node of the config: the dispatcher's checks of a draft depend on it.
    pub(crate) node: NodeId,
}

/// How a line is read, decided by its top-level keys (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    BareMessage,
    DeadLetter,
    Event,
}

impl Reading {
    fn of(keys: &HashMap<String, &RawValue>) -> Reading {
        if keys.contains_key(MSG_TYPE) {
            Reading::BareMessage
        } else if keys.contains_key("failedAt") && keys.contains_key("event") {
            Reading::DeadLetter
        } else {
            Reading::Event
        }
    }

    /// Which reading, and why: the start of every error about a line read this way.
    fn why(self) -> &'static str {
        match self {
            Reading::BareMessage => "read as a bare message (it has a top-level `msgType`)",
            Reading::DeadLetter => {
                "read as a dead-letter line (it has `failedAt` and `event`, and no top-level \
                 `msgType`)"
            }
            Reading::Event => {
                "read as an event (it has no top-level `msgType` as a bare message has, nor \
                 `failedAt` and `event` as a dead-letter line has)"
            }
        }
    }
}

impl LineRules {
    /// One raw stdin line (with or without its `\n`): `None` when blank. The draft is
    /// one the dispatcher of `node` takes: every check of a draft its emit makes is
    /// made here, so that a line it would refuse is named and not sent like
    /// any other bad line.
    pub(crate) fn parse(&self, raw: &[u8]) -> Result<Option<EventDraft>> {
        let text = match std::str::from_utf8(raw) {
            Ok(t) => t,
            Err(e) => bail!(
                "not valid UTF-8: byte 0x{:02x} at column {}",
                raw.get(e.valid_up_to()).copied().unwrap_or_default(),
                e.valid_up_to() + 1
            ),
        };
        let text = text.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            return Ok(None);
        }
        if text.starts_with('\u{feff}') {
            // Invisible in an editor: said, or the error would be "expected value at
            // line 1 column 1" on a line that looks right.
            bail!(
                "the line starts with a byte order mark (U+FEFF, bytes EF BB BF): only the \
                 first line of the input may start with one; remove it from this line (files \
                 joined together each keep their own)"
            );
        }
        self.draft(text).map(Some)
    }

    /// The line is read with the event model's own parser, never through
    /// `serde_json::Value`: the message is kept exactly as written (numbers keep their
    /// spelling, keys their order), and a key given twice is refused, as the event
    /// server does.
    fn draft(&self, line: &str) -> Result<EventDraft> {
        // The top-level keys, their values left as text (nothing in them is parsed).
        let keys: HashMap<String, &RawValue> = match serde_json::from_str(line) {
            Ok(keys) => keys,
            Err(e) if e.classify() == Category::Data => bail!("expected a JSON object"),
            Err(e) => return Err(anyhow::anyhow!(in_the_line(&e, None)).context("not JSON")),
        };
        let reading = Reading::of(&keys);
        self.read_as(reading, line, &keys).context(reading.why())
    }

    fn read_as(
        &self,
        reading: Reading,
        line: &str,
        keys: &HashMap<String, &RawValue>,
    ) -> Result<EventDraft> {
        let mut draft = match reading {
            Reading::BareMessage => {
                let Some(topic) = &self.topic else {
                    bail!(
                        "a bare message needs --topic (an event has its `msgType` inside \
                         `message`)"
                    );
                };
                let message = Message::from_json(line).map_err(|e| located(&e, None))?;
                EventDraft::from_message(topic.clone(), message)
            }
            // Re-sent exactly as it was (same id: stored once).
            Reading::DeadLetter => {
                let dead = DeadLetterLine::from_json(line).map_err(|e| located(&e, None))?;
                EventDraft::from(dead.event)
            }
            Reading::Event => match &self.topic {
                Some(topic) if !keys.contains_key("topic") => {
                    let (text, moved) = with_topic(line, topic)?;
                    EventDraft::from_json(&text).map_err(|e| located(&e, Some(moved)))?
                }
                _ => EventDraft::from_json(line).map_err(|e| located(&e, None))?,
            },
        };
        // Not a dead-letter line's: its event is re-sent exactly as it was (another
        // routing key makes another event, which a server holding the original
        // stores a second time with the same id and seq).
        if let (Some(key), None, false) = (
            &self.routing_key,
            &draft.routing_key,
            reading == Reading::DeadLetter,
        ) {
            draft = draft.routing_key(key);
        }
        draft.check_for_node(&self.node)?;
        Ok(draft)
    }
}

/// `object` (the text of a JSON object with no `topic`) with `"topic":TOPIC` put
/// first; every other byte of it kept. Also where the bytes after the `{` moved.
fn with_topic(object: &str, topic: &Topic) -> Result<(String, Moved)> {
    let trimmed = object.trim_start();
    let Some(rest) = trimmed.strip_prefix('{') else {
        bail!("expected a JSON object");
    };
    // `{}`: no comma after the topic.
    let comma = if rest.trim_start().starts_with('}') {
        ""
    } else {
        ","
    };
    let text = format!(
        "{{\"topic\":{}{comma}",
        serde_json::to_string(topic.as_str())?
    );
    let moved = Moved {
        was: object.len() - rest.len(),
        is: text.len(),
    };
    Ok((text + rest, moved))
}

/// Where [`with_topic`] moved the rest of a line: the byte offset of what followed the
/// line's `{`, in the line (`was`) and in the text parsed (`is`).
#[derive(Debug, Clone, Copy)]
struct Moved {
    was: usize,
    is: usize,
}

/// `e` with its position said in the stdin line (see [`in_the_line`]).
fn located(e: &auditrail::EventError, moved: Option<Moved>) -> anyhow::Error {
    anyhow::anyhow!(in_the_line(e, moved))
}

/// `error`'s text with serde_json's position (" at line 1 column C", counted in the one
/// line it parsed) said as the column of the stdin line (" at column C"): after
/// "stdin line 2: ", "line 1" sent people to the first line of the input. With `moved`
/// the column is the one the byte had before `--topic` was put into the line (a place
/// inside what was put in is the line's `{`). Columns count bytes, as serde_json's do.
fn in_the_line(error: &dyn std::fmt::Display, moved: Option<Moved>) -> String {
    let text = error.to_string();
    let Some(at) = text.rfind(" at line 1 column ") else {
        return text;
    };
    let rest = &text[at + " at line 1 column ".len()..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let Ok(column) = rest[..digits].parse::<usize>() else {
        return text;
    };
    let column = match moved {
        Some(m) if column > m.is => column - m.is + m.was,
        Some(m) => m.was,
        None => column,
    };
    format!("{} at column {column}{}", &text[..at], &rest[digits..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(topic: Option<&str>) -> LineRules {
        LineRules {
            topic: topic.map(|t| Topic::new(t).unwrap()),
            routing_key: None,
            node: NodeId::new("node-a").unwrap(),
        }
    }

    fn error(rules: &LineRules, line: &str) -> String {
        format!("{:#}", rules.parse(line.as_bytes()).unwrap_err())
    }

    /// Every key an event may have, and those of a dead-letter line, are message
    /// fields of a bare message: nothing in a bare message makes it read as another
    /// kind of line.
    #[test]
    fn a_bare_message_may_have_any_key_of_an_event_or_a_dead_letter_line() {
        for key in [
            "message",
            "topic",
            "id",
            "timestamp",
            "routingKey",
            "node",
            "seq",
            "abandonedSeqs",
            "failedAt",
            "event",
            "target",
            "error",
        ] {
            let line = format!(r#"{{"msgType":"x","{key}":"v"}}"#);
            let draft = rules(Some("generic"))
                .parse(line.as_bytes())
                .unwrap_or_else(|e| panic!("{line}: {e:#}"))
                .unwrap();
            assert_eq!(draft.topic.as_str(), "generic", "{line}");
            assert_eq!(draft.message.json(), line, "{line}");
            assert!(draft.node.is_none() && draft.seq.is_none(), "{line}");
        }
    }

    #[test]
    fn events_and_dead_letter_lines_are_read_as_before() {
        let with_topic = rules(Some("generic"));
        let partial = with_topic
            .parse(br#"{"message":{"msgType":"x","message":"m"}}"#)
            .unwrap()
            .unwrap();
        assert_eq!(partial.topic.as_str(), "generic");
        assert_eq!(partial.message.json(), r#"{"msgType":"x","message":"m"}"#);
        let own = with_topic
            .parse(br#"{"topic":"billing","message":{"msgType":"x"}}"#)
            .unwrap()
            .unwrap();
        assert_eq!(own.topic.as_str(), "billing");
        let dead = r#"{"failedAt":"2026-11-25T10:00:01.000Z","target":"t","error":"e","event":{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T10:00:00.000Z","topic":"billing","node":"node-b","seq":7,"message":{"msgType":"x"}}}"#;
        for rules in [rules(None), rules(Some("generic"))] {
            let d = rules.parse(dead.as_bytes()).unwrap().unwrap();
            assert_eq!((d.topic.as_str(), d.seq), ("billing", Some(7)));
        }
    }

    #[test]
    fn the_routing_key_flag_is_for_events_and_bare_messages_never_dead_letter_lines() {
        let rules = LineRules {
            routing_key: Some("svc-a".into()),
            ..rules(Some("generic"))
        };
        let key = |line: &str| {
            let draft = rules.parse(line.as_bytes()).unwrap().unwrap();
            draft.routing_key.map(|k| k.as_str().to_owned())
        };
        let dead = r#"{"failedAt":"2026-11-25T10:00:01.000Z","target":"t","error":"e","event":{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T10:00:00.000Z","topic":"billing","node":"node-b","seq":7,"message":{"msgType":"x"}}}"#;
        assert_eq!(key(dead), None);
        assert_eq!(key(r#"{"msgType":"x"}"#).as_deref(), Some("svc-a"));
        assert_eq!(
            key(r#"{"message":{"msgType":"x"}}"#).as_deref(),
            Some("svc-a")
        );
        assert_eq!(
            key(r#"{"routingKey":"own","message":{"msgType":"x"}}"#).as_deref(),
            Some("own")
        );
    }

    #[test]
    fn errors_say_which_reading_was_tried_and_why_it_failed() {
        let e = error(&rules(None), r#"{"msgType":"x","message":"m"}"#);
        assert!(
            e.contains("read as a bare message (it has a top-level `msgType`)")
                && e.contains("needs --topic"),
            "{e}"
        );
        let e = error(&rules(Some("generic")), r#"{"msgType":""}"#);
        assert!(
            e.contains("read as a bare message") && e.contains("msgType"),
            "{e}"
        );
        let e = error(&rules(Some("generic")), r#"{"user":"alice"}"#);
        assert!(
            e.contains("read as an event (it has no top-level `msgType`") && e.contains("user"),
            "{e}"
        );
        let e = error(&rules(None), r#"{"failedAt":"x","event":{}}"#);
        assert!(e.contains("read as a dead-letter line"), "{e}");
    }
}
