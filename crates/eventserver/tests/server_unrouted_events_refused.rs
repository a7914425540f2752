//! An event that no destination's filter takes is never answered as accepted: the
//! batch is refused with `422 unrouted` naming every such event (line or index, id,
//! topic, routing key), nothing of it is stored, and the refusal is counted
//! (`auditrail_server_events_unrouted_total`) and logged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::ingest_support;

use ingest_support::*;

const ONLY_GENERIC: &str =
    "[[destinations]]\ntype = \"store\"\npath = \"store\"\ntopics = [\"generic\"]\n";

#[test]
fn events_no_destination_takes_are_refused_counted_and_logged() {
    let mut server = Server::start(Some(ONLY_GENERIC));
    let kept = event_text(
        "node-u",
        1,
        None,
        r#"{"msgType":"login","authUser":"alice"}"#,
    );
    let nobody = event_text(
        "node-u",
        2,
        Some("svc-a"),
        r#"{"msgType":"login-failed","authUser":"mallory"}"#,
    )
    .replace("\"topic\":\"generic\"", "\"topic\":\"authfail\"");
    let nobody_id = serde_json::from_str::<serde_json::Value>(&nobody).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // JSON lines: the line of each unrouted event.
    let (status, answer) = server.post(format!("{kept}\n{nobody}\n"));
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"], "unrouted", "{answer}");
    assert_eq!(answer["line"], 2, "{answer}");
    let events = answer["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{answer}");
    assert_eq!(events[0]["line"], 2);
    assert_eq!(events[0]["id"], nobody_id.as_str());
    assert_eq!(events[0]["topic"], "authfail");
    assert_eq!(events[0]["routingKey"], "svc-a");
    assert!(answer["message"]
        .as_str()
        .unwrap()
        .contains("nothing of the batch was stored"));

    // A JSON array: the index.
    let (status, answer) = server.post_array(format!("[{nobody},{kept}]"));
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["events"][0]["index"], 0, "{answer}");

    // Nothing of either batch is anywhere under the data dir.
    assert!(stored_lines(&server.store()).is_empty());
    assert!(
        !grep_dir(&server.data(), "mallory"),
        "the unrouted event was written somewhere"
    );

    // Counted and logged.
    let metrics = server.get_text("/metrics");
    assert!(
        metrics.contains("auditrail_server_events_unrouted_total 2"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("auditrail_server_events_accepted_total 1"),
        "{metrics}"
    );
    let log = server.process.log();
    assert!(
        log.contains("no destination takes") && log.contains(&nobody_id),
        "{log}"
    );

    // The event the destination takes is stored once sent alone.
    let (status, answer) = server.post(kept);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["accepted"], 1);
    assert_eq!(stored_lines(&server.store()).len(), 1);
    assert_eq!(server.stop(), Some(0));
}

/// Whether any file under `dir` holds `needle`.
fn grep_dir(dir: &std::path::Path, needle: &str) -> bool {
    std::fs::read_dir(dir).unwrap().flatten().any(|entry| {
        let path = entry.path();
        if path.is_dir() {
            grep_dir(&path, needle)
        } else {
            std::fs::read(&path)
                .map(|b| String::from_utf8_lossy(&b).contains(needle))
                .unwrap_or(false)
        }
    })
}
