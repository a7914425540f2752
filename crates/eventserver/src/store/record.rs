//! The stored record envelope (the reference's `clientEvent` / `origAddress` /
//! `serverTimestamp`, plus `keyId`).

use std::io::Write;

use auditrail_core::{Event, Timestamp};

/// Appends the record body for `event` to `out`: the JSON object *without its closing
/// brace*, as [`Chain::seal`](crate::integrity::chain::Chain::seal) expects:
///
/// ```text
/// {"clientEvent":{...},"origAddress":"10.0.0.7","serverTimestamp":"2026-11-25T16:55:49.123Z","keyId":"k1"
/// ```
///
/// `origAddress` and `keyId` are `null` when the event carries no receive information;
/// `serverTimestamp` is then `now` (the time the store took the event).
pub(crate) fn write_body(event: &Event, now: Timestamp, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"clientEvent\":");
    event.write_json(out);
    let received = event.received.as_deref();
    out.extend_from_slice(b",\"origAddress\":");
    match received.and_then(|r| r.orig_address) {
        // An IP address's text form needs no JSON escaping.
        Some(ip) => {
            let _ = write!(out, "\"{ip}\"");
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"serverTimestamp\":\"");
    let ts = received.map_or(now, |r| r.server_timestamp);
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{ts}");
    out.extend_from_slice(b"\",\"keyId\":");
    match received.and_then(|r| r.key_id.as_deref()) {
        Some(k) => {
            let _ = serde_json::to_writer(&mut *out, k);
        }
        None => out.extend_from_slice(b"null"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use auditrail_core::Received;

    use super::*;

    #[test]
    fn body_closed_by_a_brace_is_the_documented_envelope() {
        let mut event = Event::from_json(
            r#"{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n1","seq":7,"message":{"msgType":"login"}}"#,
        )
        .unwrap();
        let now: Timestamp = "2026-11-25T17:00:00.000Z".parse().unwrap();
        let mut body = Vec::new();
        write_body(&event, now, &mut body);
        body.push(b'}');
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["clientEvent"]["seq"], 7);
        assert!(v["origAddress"].is_null() && v["keyId"].is_null());
        assert_eq!(v["serverTimestamp"], "2026-11-25T17:00:00.000Z");

        event.received = Some(Arc::new(Received {
            orig_address: Some("10.0.0.7".parse().unwrap()),
            key_id: Some("key \"one\"".into()),
            server_timestamp: "2026-11-25T16:56:00.001Z".parse().unwrap(),
        }));
        let mut body = Vec::new();
        write_body(&event, now, &mut body);
        body.push(b'}');
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["origAddress"], "10.0.0.7");
        assert_eq!(v["keyId"], "key \"one\"");
        assert_eq!(v["serverTimestamp"], "2026-11-25T16:56:00.001Z");
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 4);
    }
}
