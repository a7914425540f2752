//! One store whose checkpoint log is cut while the server runs answers its own batches
//! `503 unsealed`, and `/readyz` stays `200`, naming it under `degraded`, while the other
//! store takes its batches: `/readyz` answered `503 not_ready` ("batches are refused")
//! for the whole server, and a load balancer following it would have stopped the other
//! store's nodes too (final60/02). With every store unable to seal, it is not ready.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support::{post_events, request, start};
use crate::tamper_support::{ten, TWO_KEYED_STORES};

fn readyz(addr: &str) -> (u16, serde_json::Value) {
    let (status, text) = request(addr, "GET", "/readyz", &[], b"").unwrap();
    (status, serde_json::from_str(&text).unwrap())
}

/// Empties `store`'s checkpoint log in place (logrotate's `copytruncate`).
fn cut(dir: &std::path::Path, store: &str) {
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(dir.join("data").join(store).join("checkpoints.jsonl"))
        .unwrap();
}

#[test]
fn one_unsealed_store_leaves_the_server_ready_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        format!("data_dir = \"data\"\nack_timeout_ms = 1000\n{TWO_KEYED_STORES}"),
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    for (key, salt) in [("svc-a", 41), ("svc-b", 42)] {
        let (status, answer) = post_events(&server.addr, &ten(key, 1, salt), None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }

    cut(dir.path(), "a");
    let (status, answer) = post_events(&server.addr, &ten("svc-a", 11, 41), None).unwrap();
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"], "unsealed", "{answer}");
    let (status, answer) = post_events(&server.addr, &ten("svc-b", 11, 42), None).unwrap();
    assert_eq!(status, 200, "the other store takes its batches: {answer}");
    let (status, ready) = readyz(&server.addr);
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["status"], "ready", "{ready}");
    let degraded = ready["degraded"]
        .as_array()
        .unwrap_or_else(|| panic!("{ready}"));
    assert!(
        degraded
            .iter()
            .any(|d| d["reason"] == "unsealed" && d["store"] == "a"),
        "{ready}"
    );

    // Neither store can seal: not ready.
    cut(dir.path(), "b");
    let (status, answer) = post_events(&server.addr, &ten("svc-b", 21, 42), None).unwrap();
    assert_eq!(status, 503, "{answer}");
    let (status, ready) = readyz(&server.addr);
    assert_eq!(status, 503, "{ready}");
    assert_eq!(ready["reason"], "unsealed", "{ready}");
    server.kill9();
}
