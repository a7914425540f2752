//! Helpers of the retention process tests: a server config with a day-partitioned
//! store, events of chosen days, and runs of `auditrail store prune` and `verify`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
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

/// `auditrail store prune --config server.toml --before BEFORE ARGS` in `dir`: exit code
/// and stdout + stderr.
pub(crate) fn prune(dir: &Path, before: &str, args: &[&str]) -> (i32, String) {
    let mut all = vec![
        "store",
        "prune",
        "--config",
        "server.toml",
        "--before",
        before,
    ];
    all.extend_from_slice(args);
    run(dir, &all)
}

/// A stopped server's store, configured with `extra` in its table (an archive): 5
/// events dated 2025-01-01 and 5 dated 2025-01-02 (ids salted 1 and 2). Returns the
/// store's path.
pub(crate) fn store_of_two_days(dir: &Path, extra: &str) -> PathBuf {
    write_config(dir, extra);
    let server = crate::serve_support::start(dir, &["--config", "server.toml"]);
    post_day(&server, "2025-01-01", 5, 1);
    post_day(&server, "2025-01-02", 5, 2);
    assert_eq!(crate::tamper_support::stop(server), 0);
    dir.join("data/store")
}

/// A stopped server's store, configured with `extra` in its table (an archive): a
/// segment of more than 8 MB dated 2025-01-01 and a small day 2025-02-01. Returns the
/// store's path and the large segment's path relative to the store, its path, its bytes.
pub(crate) fn store_with_a_large_day(dir: &Path, extra: &str) -> (PathBuf, LargeSegment) {
    write_config(dir, extra);
    let store = dir.join("data/store");
    let server = crate::serve_support::start(dir, &["--config", "server.toml"]);
    post_large_day(&server, "2025-01-01", 3, 1);
    post_day(&server, "2025-02-01", 2, 2);
    // One request first, so that the SIGTERM handler (set up right after the server
    // prints its address) is in place.
    let _ = crate::serve_support::request(&server.addr, "GET", "/v1/health", &[], b"");
    assert_eq!(server.terminate(), 0);
    let segments: Vec<_> = auditrail_store::StoreFiles::walk(&store)
        .unwrap()
        .segments()
        .filter(|f| f.rel.contains("/2025/01/01/"))
        .map(|f| (f.rel.clone(), f.path.clone()))
        .collect();
    assert_eq!(segments.len(), 1, "{segments:?}");
    let (rel, path) = segments.into_iter().next().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 8 << 20, "{} bytes", bytes.len());
    (store, LargeSegment { rel, path, bytes })
}

/// The large segment of [`store_with_a_large_day`].
pub(crate) struct LargeSegment {
    /// Its path relative to the store (the archive's object name after the prefix).
    pub(crate) rel: String,
    pub(crate) path: PathBuf,
    pub(crate) bytes: Vec<u8>,
}

/// Writes `<dir>/server.toml`: data in `data`, one hour-partitioned `store`, `extra`
/// (top-level keys, e.g. `retention`) after it.
pub(crate) fn write_hourly_config(dir: &Path, extra: &str) {
    std::fs::write(
        dir.join("server.toml"),
        format!("data_dir = \"data\"\n[[destinations]]\ntype = \"store\"\npath = \"store\"\npartitioning = \"hour\"\n{extra}"),
    )
    .unwrap();
}

/// A stopped server's hour-partitioned store (config of [`write_hourly_config`], no
/// retention) holding one event of node `n-backlog` in each of `hours` hours, the last
/// of them 100 hours ago: a backlog that a retention deletes in passes of 1000.
pub(crate) fn hourly_backlog(dir: &Path, hours: i64, salt: u64) {
    write_hourly_config(dir, "");
    let server = crate::serve_support::start(dir, &["--config", "server.toml"]);
    let now = auditrail::Timestamp::now().unix_millis();
    let t0 = now - now % 3_600_000 - (hours + 100) * 3_600_000;
    let body: String = (0..hours)
        .map(|i| {
            let ts = auditrail::Timestamp::from_unix_millis(t0 + i * 3_600_000).unwrap();
            serde_json::json!({
                "id": new_id(i as u64 + 1, salt), "timestamp": ts.to_string(), "topic": "generic",
                "node": "n-backlog", "seq": i + 1,
                "message": {"msgType": "login", "authUser": "u"}
            })
            .to_string()
                + "\n"
        })
        .collect();
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(crate::tamper_support::stop(server), 0);
}

/// A prune run on a full disk: the store's segment files before it, the store folder,
/// its prune reserve, and the prune's exit code and output.
pub(crate) struct FullDiskPrune {
    pub before: usize,
    pub store: PathBuf,
    pub reserve: PathBuf,
    pub code: i32,
    pub out: String,
}

/// Writes a store of 120 hourly partitions (`salt`) through a real server in `DIR/data`
/// on a file system that `fill` then fills, checks the server's start made the prune
/// reserve, and runs `store prune --before 1d` with `extra` arguments.
pub(crate) fn prune_a_full_disk(
    dir: &Path,
    fill: impl FnOnce(),
    salt: u64,
    extra: &[&str],
) -> FullDiskPrune {
    let before = crate::serve_support::store_of_hourly_partitions(dir, 120, salt);
    let store = dir.join("data/store");
    let reserve = store.join(auditrail_store::RESERVE_FILE);
    assert!(
        reserve.is_file(),
        "the server's start made no prune reserve"
    );
    fill();
    let mut args = vec![
        "store",
        "prune",
        "--data-dir",
        "data",
        "--before",
        "1d",
        "--reason",
        "disk full",
    ];
    args.extend_from_slice(extra);
    let (code, out) = run(dir, &args);
    FullDiskPrune {
        before,
        store,
        reserve,
        code,
        out,
    }
}

/// `server.toml` of the left-partition tests: store `a`, partitioned by day, with
/// `extra` in its table.
pub(crate) fn write_store_a_config(dir: &Path, extra: &str) {
    std::fs::write(
        dir.join("server.toml"),
        format!(
            "data_dir = \"data\"\n[[destinations]]\nname = \"a\"\ntype = \"store\"\npath = \"a\"\npartitioning = \"day\"\n{extra}"
        ),
    )
    .unwrap();
}

/// Three events of routing key `key` (from node `node-<key>`, sequence numbers from
/// `first`) dated `at` (`YYYY-MM-DD`, or a whole timestamp).
pub(crate) fn three_of(key: &str, at: &str, first: u64) -> String {
    let timestamp = if at.len() == 10 {
        format!("{at}T10:00:00.000Z")
    } else {
        at.to_string()
    };
    (first..first + 3)
        .map(|n| {
            serde_json::json!({
                "id": new_id(n, 900 + key.bytes().map(u64::from).sum::<u64>()),
                "timestamp": timestamp, "topic": "generic", "routingKey": key,
                "node": format!("node-{key}"), "seq": n,
                "message": {"msgType": "login", "authUser": "alice"}
            })
            .to_string()
                + "\n"
        })
        .collect()
}

/// The days the left-partition tests store before their retention: four, each a
/// partition of `r1` and one of `r2` (eight partitions of three records).
pub(crate) const OLD_DAYS: [&str; 4] = ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04"];

/// A store `a` (config `extra` in its table: an archive) written by a server run as a
/// user the file modes stop (see `tamper_support::UNPRIVILEGED`; the whole test folder
/// is given to it): three events of routing keys `r1` and `r2` on each of
/// [`OLD_DAYS`] (seqs 1-12 of `node-r1` and `node-r2`), then three of each now (seqs
/// 13-15: the chain head, never deleted). The server is stopped; then the config gets
/// `retention = "30d"` (a server with it would refuse the old events). Returns the
/// store.
pub(crate) fn store_of_two_keys(dir: &Path, extra: &str) -> PathBuf {
    write_store_a_config(dir, extra);
    crate::tamper_support::give_to_unprivileged(dir);
    let server = crate::tamper_support::try_start_unprivileged(dir)
        .unwrap_or_else(|(code, log)| panic!("{code}: {log}"));
    for (i, day) in OLD_DAYS.iter().enumerate() {
        for key in ["r1", "r2"] {
            let (status, answer) =
                post_events(&server.addr, &three_of(key, day, 1 + 3 * i as u64), None).unwrap();
            assert_eq!(status, 200, "{answer}");
        }
    }
    let now = auditrail::Timestamp::now().to_string();
    for key in ["r1", "r2"] {
        let (status, answer) = post_events(&server.addr, &three_of(key, &now, 13), None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(crate::tamper_support::stop(server), 0);
    write_store_a_config(dir, &format!("{extra}retention = \"30d\"\n"));
    dir.join("data/a")
}

/// The partition folder of `key` on `day` (`YYYY-MM-DD`) in `store`.
pub(crate) fn day_folder(store: &Path, key: &str, day: &str) -> PathBuf {
    store.join("generic").join(key).join(day.replace('-', "/"))
}

/// Sets the mode of `path`.
pub(crate) fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The server's `/v1/stats`.
pub(crate) fn stats(server: &ServerProc) -> serde_json::Value {
    let (status, body) =
        crate::serve_support::request(&server.addr, "GET", "/v1/stats", &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Store `a`'s retention counters in `/v1/stats`: runs, partitions, records, failures.
pub(crate) fn retention_counts(stats: &serde_json::Value) -> [u64; 4] {
    let a = &stats["stores"]["a"];
    [
        "retentionRuns",
        "retentionPartitionsDeleted",
        "retentionRecordsDeleted",
        "retentionFailures",
    ]
    .map(|k| a[k].as_u64().unwrap_or_else(|| panic!("{k}: {stats:#}")))
}

/// Node `node`'s `deleted` in `/v1/stats`.
pub(crate) fn node_deleted(stats: &serde_json::Value, node: &str) -> u64 {
    stats["nodes"][node]["deleted"]
        .as_u64()
        .unwrap_or_else(|| panic!("{node}: {stats:#}"))
}
