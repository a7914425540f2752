//! The oldest sealed piece of a store's checkpoint log removed by hand while the server
//! is stopped, newer sealed pieces left: the start read only the log's tail (the last
//! sealed piece and the live one) and signed on, the log starting at #k > 1 as if
//! retention had removed its head. The start now checks where the log starts against
//! the signed deletion lines: the store is held (`503 store_held`, `/readyz` names it)
//! and nothing is signed there; `verify` names the lines removed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support::{event_line, new_id, post_events, request, start};
use crate::tamper_support::{stop, try_start};

// Two stores: with the damaged one held, the other one serves (one store alone held
// refuses the start, naming the same).
const CONFIG: &str = "\
[checkpoints]
piece_bytes = 2000
[[destinations]]
name = \"main\"
type = \"store\"
path = \"store\"
routing_keys = [\"svc-main\"]
[[destinations]]
name = \"other\"
type = \"store\"
path = \"other\"
routing_keys = [\"svc-other\"]
";

/// One event of node `n1` numbered `n`, for the store `main`.
fn one(n: u64) -> String {
    event_line(&new_id(n, 931), "n1", n).replace(
        "\"topic\":\"generic\"",
        "\"topic\":\"generic\",\"routingKey\":\"svc-main\"",
    ) + "\n"
}

#[test]
fn a_log_whose_first_piece_was_removed_by_hand_is_held() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    let server = start(
        dir.path(),
        &["--config", "server.toml", "--data-dir", "data"],
    );
    // One seal line per batch: several sealed pieces.
    for n in 1..=30u64 {
        let (status, answer) = post_events(&server.addr, &one(n), None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(server.terminate(), 0);
    let store = dir.path().join("data/store");
    let pieces = auditrail_store::checkpoint_pieces::sealed_pieces(&store).unwrap();
    assert!(pieces.len() >= 3, "{pieces:?}");
    std::fs::remove_file(&pieces[0].path).unwrap();
    let live = std::fs::read(store.join("checkpoints.jsonl")).unwrap();

    let server = try_start(dir.path())
        .unwrap_or_else(|(code, log)| panic!("the server did not start (exit {code}): {log}"));
    let (status, answer) = post_events(&server.addr, &one(31), None).unwrap();
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"], "store_held", "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "checkpoints #1..#{} were removed",
            pieces[1].first.unwrap() - 1
        )) && message.contains(&pieces[0].name),
        "{message}"
    );
    let (_, ready) = request(&server.addr, "GET", "/readyz", &[], b"").unwrap();
    let ready: serde_json::Value = serde_json::from_str(&ready).unwrap();
    assert_eq!(ready["held"][0]["destination"], "main", "{ready}");
    assert_eq!(stop(server), 0);
    assert_eq!(
        std::fs::read(store.join("checkpoints.jsonl")).unwrap(),
        live,
        "nothing was signed in the held store"
    );

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["verify", "data", "--json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let named = report["stores"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["problems"].as_array().unwrap())
        .any(|p| {
            p["kind"] == "checkpoint-chain"
                && p["message"].as_str().unwrap().contains(&pieces[0].name)
        });
    assert!(!out.status.success() && named, "{report:#}");
}
