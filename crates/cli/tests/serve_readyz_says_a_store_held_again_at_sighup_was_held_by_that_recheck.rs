//! `/readyz` says which checks hold a store, and what they found: after a SIGHUP whose
//! re-check failed too, its `held` entry still said "its checks at start failed", as if
//! the operator's SIGHUP had not been tried (docs/protocol.md, `GET /readyz`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support::{post_events, request, start, wait_for_log};
use crate::tamper_support::{keyed_event as event, log_lines, stop, try_start};

const CONFIG: &str = crate::tamper_support::TWO_KEYED_STORES;
const SALT: u64 = 632;

fn held_message(addr: &str) -> String {
    let (status, ready) = request(addr, "GET", "/readyz", &[], b"").unwrap();
    let ready: serde_json::Value = serde_json::from_str(&ready).unwrap();
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["held"][0]["destination"], "b", "{ready}");
    ready["held"][0]["message"].as_str().unwrap().to_owned()
}

#[test]
fn readyz_names_the_sighup_recheck_that_held_the_store_again_and_why() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    let server = start(
        dir.path(),
        &["--config", "server.toml", "--data-dir", "data"],
    );
    for key in ["svc-a", "svc-b"] {
        for n in 1..=3 {
            let (status, answer) = post_events(&server.addr, &event(key, n, SALT), None).unwrap();
            assert_eq!(status, 200, "{answer}");
        }
    }
    assert_eq!(server.terminate(), 0);
    // Store b's checkpoint log cut to its first line, and left so.
    let b = dir.path().join("data/b");
    let lines = log_lines(&b);
    std::fs::write(b.join("checkpoints.jsonl"), format!("{}\n", lines[0])).unwrap();

    let server = try_start(dir.path()).unwrap_or_else(|(code, log)| panic!("exit {code}: {log}"));
    let at_start = held_message(&server.addr);
    assert!(
        at_start.starts_with("store destination \"b\": its checks at start failed ("),
        "{at_start}"
    );
    assert!(!at_start.contains("SIGHUP ("), "{at_start}");

    server.hangup();
    wait_for_log(&server, "store still held: checked again on SIGHUP");
    let after = held_message(&server.addr);
    assert!(
        after.starts_with(
            "store destination \"b\": its checks at start failed, and so did its re-check \
             at the last SIGHUP ("
        ),
        "{after}"
    );
    // What the re-check found, in words without a path (`/readyz` needs no key).
    assert!(!after.contains(&*dir.path().to_string_lossy()), "{after}");
    let (status, answer) = post_events(&server.addr, &event("svc-b", 4, SALT), None).unwrap();
    assert_eq!(status, 503, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("and so did its re-check at the last SIGHUP"),
        "{answer}"
    );
    assert_eq!(stop(server), 0);
}
