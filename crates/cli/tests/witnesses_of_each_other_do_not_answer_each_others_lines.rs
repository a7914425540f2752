//! Two event servers, each the other's `[[witnesses]]` (the set-up docs/scale-out.md
//! suggests for several servers): a checkpoint line one publishes is a record at the
//! other, and that record (a copy of another server's line: topic `checkpoint` from a
//! `.witness.` node) does not count towards the other's checkpoint policy. Before, it
//! did: with `every_records = 1` each line was answered by a line of the other, for
//! ever, with no ingest at all (dozens of records a second; one a minute with the
//! defaults).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::time::{Duration, Instant};

use serve_support::{event_line, new_id, post_events, request, start, start_on, Port, ServerProc};

fn witnesses(server: &ServerProc) -> serde_json::Value {
    let (status, body) = request(&server.addr, "GET", "/v1/stats", &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    stats["witnesses"].clone()
}

/// Lines the server published to its witnesses so far (handed, waiting or failed).
fn published(server: &ServerProc) -> u64 {
    let w = witnesses(server);
    ["linesHanded", "pendingLines", "linesFailed"]
        .iter()
        .map(|k| w[k].as_u64().unwrap())
        .sum()
}

fn config(dir: &std::path::Path, name: &str, witness: &str) {
    std::fs::write(
        dir.join(format!("{name}.toml")),
        format!(
            "data_dir = \"{name}-data\"\nshutdown_timeout_s = 2\n\
             [checkpoints]\nevery_records = 1\n\
             [[witnesses]]\ntype = \"eventserver\"\nurl = \"http://{witness}\"\n\
             [[destinations]]\ntype = \"store\"\npath = \"store\"\n"
        ),
    )
    .unwrap();
}

#[test]
fn a_line_copied_to_a_witness_is_not_answered_with_a_line_of_the_witness() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let b_port = Port::new();
    config(d, "a", &b_port.addr().to_string());
    let a = start(d, &["--config", "a.toml"]);
    config(d, "b", &a.addr);
    let b = start_on(d, &b_port, &["--config", "b.toml"]);
    let b_before = published(&b);

    let (status, answer) =
        post_events(&a.addr, &(event_line(&new_id(1, 3), "n1", 1) + "\n"), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    // A published a line for its record, and B answered its witness event: B stored
    // (and sealed) the copy, and its checkpoint policy decided then whether B publishes.
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let w = witnesses(&a);
        if w["linesHanded"].as_u64().unwrap() >= 1
            && w["pendingLines"] == 0
            && w["targets"][0]["spoolPendingEvents"] == 0
        {
            break;
        }
        assert!(Instant::now() < until, "A's line never reached B: {w:#}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        published(&b),
        b_before,
        "B published a line of its own for the copy of A's line: {:#}",
        witnesses(&b)
    );
}
