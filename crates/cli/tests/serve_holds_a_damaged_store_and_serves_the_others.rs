//! One tampered store of two no longer stops the server: it starts, holds the damaged
//! store (its batches `503 store_held` naming it and what was found, left out of
//! queries, named by `/readyz` and `/metrics`, an ERROR in the log, nothing signed
//! there), and the other store's events are answered `200` and stored. After
//! `store accept` the next start takes the held store's events again. With
//! `refuse_start_on_damaged_store = true` the start is refused, as before.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use crate::serve_support::{post_events, request, start};
use crate::tamper_support::{log_lines, stop, ten, try_start, TWO_KEYED_STORES};

/// Two keyed stores, checkpointed every ten records (the attack cuts a checkpoint log).
fn config() -> String {
    format!("[checkpoints]\nevery_records = 10\n{TWO_KEYED_STORES}")
}

fn stored(store: &Path) -> usize {
    crate::serve_support::stored_ids(store).len()
}

#[test]
fn a_tampered_store_is_held_while_the_other_serves() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), config()).unwrap();
    let server = start(
        dir.path(),
        &["--config", "server.toml", "--data-dir", "data"],
    );
    for (key, salt) in [("svc-a", 501), ("svc-b", 502)] {
        for first in [1, 11] {
            let (status, answer) = post_events(&server.addr, &ten(key, first, salt), None).unwrap();
            assert_eq!(status, 200, "{answer}");
        }
    }
    assert_eq!(server.terminate(), 0);
    let (a, b) = (dir.path().join("data/a"), dir.path().join("data/b"));
    // The attack: store b's checkpoint log cut to its first line (the high-water mark
    // recorded a later one).
    let lines = log_lines(&b);
    std::fs::write(b.join("checkpoints.jsonl"), format!("{}\n", lines[0])).unwrap();

    let server = try_start(dir.path()).unwrap_or_else(|(code, log)| {
        panic!("one damaged store stopped the whole server (exit {code}): {log}")
    });
    // The other store serves.
    let (status, answer) = post_events(&server.addr, &ten("svc-a", 21, 501), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(stored(&a), 30);
    // The held one refuses its batches, for now, naming itself and what was found.
    let (status, answer) = post_events(&server.addr, &ten("svc-b", 21, 502), None).unwrap();
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"], "store_held", "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains("\"b\"") && message.contains("checkpoint"),
        "{message}"
    );
    assert_eq!(stored(&b), 20, "nothing stored in the held store");
    // Ready (the other store takes events), naming the held store.
    let (status, ready) = request(&server.addr, "GET", "/readyz", &[], b"").unwrap();
    let ready: serde_json::Value = serde_json::from_str(&ready).unwrap();
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["held"][0]["destination"], "b", "{ready}");
    let (_, metrics) = request(&server.addr, "GET", "/metrics", &[], b"").unwrap();
    assert!(
        metrics.contains("auditrail_server_store_held{destination=\"b\"} 1")
            && metrics.contains("auditrail_server_store_held{destination=\"a\"} 0"),
        "{metrics}"
    );
    let (_, checkpoints) = request(&server.addr, "GET", "/v1/checkpoints", &[], b"").unwrap();
    let checkpoints: serde_json::Value = serde_json::from_str(&checkpoints).unwrap();
    let stores = checkpoints["stores"].as_array().unwrap();
    assert!(stores[0].get("held").is_none(), "{checkpoints}");
    assert!(
        stores[1]["held"].as_str().unwrap().contains("checkpoint"),
        "{checkpoints}"
    );
    // A server without sources: the field is there, empty.
    assert_eq!(
        checkpoints["partitionStores"],
        serde_json::json!([]),
        "{checkpoints}"
    );
    // Queries leave it out, and say so.
    let (status, answer) = request(
        &server.addr,
        "GET",
        "/v1/query?sql=SELECT%20count(*)%20AS%20n%20FROM%20events",
        &[],
        b"",
    )
    .unwrap();
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["storesHeld"], serde_json::json!(["b"]), "{answer}");
    assert_eq!(answer["rows"][0]["n"], 30, "{answer}");
    let log = server.stderr();
    assert!(
        log.contains("ERROR") && log.contains("store held") && log.contains("destination=b"),
        "{log}"
    );
    assert_eq!(stop(server), 0);
    assert_eq!(
        log_lines(&b).len(),
        1,
        "nothing was signed in the held store"
    );

    // The strict switch refuses the start as before.
    std::fs::write(
        dir.path().join("server.toml"),
        format!("refuse_start_on_damaged_store = true\n{}", config()),
    )
    .unwrap();
    match try_start(dir.path()) {
        Ok(server) => {
            stop(server);
            panic!("refuse_start_on_damaged_store = true started");
        }
        Err((code, log)) => assert!(code != 0 && log.contains("destination \"b\""), "{log}"),
    }
    std::fs::write(dir.path().join("server.toml"), config()).unwrap();

    // The way on: accept the store as it is, start again; it takes events again.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args([
            "store",
            "accept",
            "--data-dir",
            "data",
            "--store",
            "data/b",
            "--reason",
            "checkpoint log cut; looked at",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = try_start(dir.path()).unwrap_or_else(|(code, log)| panic!("{code}: {log}"));
    let (status, answer) = post_events(&server.addr, &ten("svc-b", 21, 502), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(stored(&b), 30);
    let (_, ready) = request(&server.addr, "GET", "/readyz", &[], b"").unwrap();
    assert!(!ready.contains("held"), "{ready}");
    assert_eq!(stop(server), 0);
}
