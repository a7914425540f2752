//! Helpers of the retention process tests: a server config with a day-partitioned
//! store, events of chosen days, and runs of `auditrail store prune` and `verify`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use crate::serve_support::{new_id, post_events, ServerProc};

/// `server.toml`: one day-partitioned store, plus `extra` lines in its table.
pub(crate) fn write_config(dir: &Path, extra: &str) {
    std::fs::write(
        dir.join("server.toml"),
        format!(
            "data_dir = \"data\"\n[[destinations]]\ntype = \"store\"\npath = \"store\"\npartitioning = \"day\"\n{extra}"
        ),
    )
    .unwrap();
}

/// Posts `count` events dated `day` (`YYYY-MM-DD`), ids salted by `salt`.
pub(crate) fn post_day(server: &ServerProc, day: &str, count: u64, salt: u64) {
    let body: String = (1..=count)
        .map(|n| {
            let topic = ["generic", "authfail"][(n % 2) as usize];
            serde_json::json!({
                "id": new_id(n, salt), "timestamp": format!("{day}T10:00:{:02}.000Z", n % 60),
                "topic": topic, "node": "n1", "seq": salt * 1000 + n,
                "message": {"msgType": "login", "authUser": format!("user{n}")}
            })
            .to_string()
                + "\n"
        })
        .collect();
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
}

/// Runs `auditrail ARGS` in `dir`: exit code and stdout + stderr.
pub(crate) fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// The day folders (`YYYY/mm/dd`) that hold segments in the store, sorted.
pub(crate) fn days(store: &Path) -> Vec<String> {
    let files = auditrail_store::StoreFiles::walk(store).unwrap();
    let mut d: Vec<String> = files
        .segments()
        .map(|f| {
            let dir = f.rel.rsplit_once('/').unwrap().0;
            dir.rsplitn(4, '/')
                .take(3)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    d.sort();
    d.dedup();
    d
}

/// Posts about `batches` x 3 MB of events dated `day` (`YYYY-MM-DD`), all on topic
/// `generic`: one segment of that many megabytes (the default segment size is larger).
pub(crate) fn post_large_day(server: &ServerProc, day: &str, batches: u64, salt: u64) {
    let pad = "p".repeat(7600);
    for b in 0..batches {
        let body: String = (1..=400)
            .map(|i| {
                let n = b * 400 + i;
                serde_json::json!({
                    "id": new_id(n, salt), "timestamp": format!("{day}T10:00:00.000Z"),
                    "topic": "generic", "node": "n1", "seq": salt * 100_000 + n,
                    "message": {"msgType": "bulk", "pad": pad}
                })
                .to_string()
                    + "\n"
            })
            .collect();
        let (status, answer) = post_events(&server.addr, &body, None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
}
