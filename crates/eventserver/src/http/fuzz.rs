//! Fuzzing of the ingest decoder and validator ([`super::body`]): property tests with
//! proptest, which runs on stable Rust, so CI runs them on every change (proptest's
//! default of 256 cases per property) and a longer run is one environment variable
//! away:
//!
//! ```text
//! PROPTEST_CASES=100000 cargo test --release -p auditrail-eventserver --lib http::fuzz
//! ```
//!
//! (the count of the last long run is in docs/eventserver.md, "Limits"). Three kinds of
//! input: arbitrary bytes in every framing and encoding; events the validator may
//! accept, with messages of any JSON shape (numbers in every written form, any
//! string, nesting up to and beyond the limit, possibly duplicate keys); and such
//! events cut short or with bytes changed. What must hold for every input:
//! - nothing panics, and the answer is a list of events or one error;
//! - an accepted event's range in the body is exactly the text that was sent, and its
//!   message keeps its text exactly (whitespace between tokens aside; the generators
//!   write none), which is what the store writes and the chain signs;
//! - what the store writes of an accepted event (`Event::write_json`) is read back by
//!   the same validator as the same event: every reader reads what ingest accepts.
//!
//! cargo-fuzz would need a nightly toolchain in CI; proptest keeps one toolchain.

use proptest::prelude::*;

use super::body::{decode, parse, Encoding, Framing};
use auditrail_core::Event;

const ID: &str = "01936f6e-1b2c-7d3e-8f40-123456789abc";

/// A JSON number in one of the forms JSON allows: big, negative zero, exponents, long
/// decimals (the values that a float or i64 would alter).
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        "-?(0|[1-9][0-9]{0,45})(\\.[0-9]{1,40})?([eE][+-]?[0-9]{1,4})?",
    ]
}

fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z]{0,3}",
        "[\\u{0}-\\u{1f}\\u{202e}\\u{feff}\"\\\\/é]{0,8}",
    ]
    .prop_map(|s| serde_json::to_string(&s).unwrap_or_default())
}

/// Any JSON value as compact text; objects may repeat a key (short keys make it
/// likely), which the validator must refuse.
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        number(),
        string(),
    ];
    leaf.prop_recursive(80, 256, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((string(), inner), 0..4).prop_map(|kv| {
                let fields: Vec<String> = kv.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

/// One event line with a generated message (and sometimes a generated routing key).
fn event() -> impl Strategy<Value = (String, String)> {
    (
        string(),
        prop::collection::vec((string(), value()), 0..4),
        prop::option::of(string()),
        1u64..u64::MAX,
    )
        .prop_map(|(msg_type, fields, routing_key, seq)| {
            let mut message = format!("{{\"msgType\":{msg_type}");
            for (k, v) in fields {
                message.push_str(&format!(",{k}:{v}"));
            }
            message.push('}');
            let rk = routing_key.map_or(String::new(), |k| format!(",\"routingKey\":{k}"));
            let line = format!(
                "{{\"id\":\"{ID}\",\"timestamp\":\"2026-11-25T16:55:49.123Z\",\"topic\":\"generic\"{rk},\"node\":\"n\",\"seq\":{seq},\"message\":{message}}}"
            );
            (line, message)
        })
}

/// What must hold of every answer of `parse`.
fn check_accepted(body: &[u8], sent: Option<&[(String, String)]>, framing: Framing) {
    let Ok(events) = parse(body, framing) else {
        return; // a refusal is an answer (its position is tested in `body`)
    };
    for (i, p) in events.iter().enumerate() {
        let text = &body[p.range.clone()];
        let reparsed = Event::from_json_slice(text).expect("an accepted event's bytes parse alone");
        assert_eq!(reparsed, p.event, "the range holds the accepted event");
        if let Some(sent) = sent {
            assert_eq!(text, sent[i].0.as_bytes(), "the event text as sent");
            assert_eq!(
                p.event.message.json(),
                sent[i].1,
                "the message text as sent"
            );
        }
        let mut written = Vec::new();
        p.event.write_json(&mut written);
        let read = Event::from_json_slice(&written).expect("what the store writes is read back");
        assert_eq!(read, p.event, "written and read back alike");
        assert_eq!(read.message.json(), p.event.message.json());
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        for framing in [Framing::Sniff, Framing::Lines, Framing::Array] {
            check_accepted(&body, None, framing);
        }
        for encoding in [Encoding::Gzip, Encoding::Zstd] {
            if let Ok(out) = decode(body.clone().into(), encoding, 4096, &mut |_| Ok(())) {
                prop_assert!(out.len() <= 4096);
                check_accepted(&out, None, Framing::Sniff);
            }
        }
    }

    #[test]
    fn generated_events_are_kept_exactly_or_refused(events in prop::collection::vec(event(), 1..4)) {
        let lines: Vec<&str> = events.iter().map(|(l, _)| l.as_str()).collect();
        let body = lines.join("\n");
        check_accepted(body.as_bytes(), Some(&events), Framing::Lines);
        let array = format!("[{}]", lines.join(","));
        check_accepted(array.as_bytes(), Some(&events), Framing::Array);
    }

    #[test]
    fn damaged_events_never_panic(
        (line, _) in event(),
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        let mut bytes = line.into_bytes();
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let n = cut.index(bytes.len() + 1);
        check_accepted(&bytes[..n], None, Framing::Lines);
        check_accepted(&bytes, None, Framing::Sniff);
    }
}
