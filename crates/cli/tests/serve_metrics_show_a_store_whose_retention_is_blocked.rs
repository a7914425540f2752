//! A store whose deletions were archived and whose config then lost its `archive`: the
//! server's retention deletes nothing (a deletion would keep no copy) and logs an ERROR
//! at each check. An ERROR line alone is easy to miss, and the store grows past its
//! retention meanwhile: `/metrics` says it with a gauge per store an operator can alert
//! on, `auditrail_server_store_retention_blocked`, 1 for that store (0 while its
//! retention deletes as configured).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::{post_day, prune, write_config};
use serve_support::{request, start, wait_for_log, ServerProc};

const GAUGE: &str = "auditrail_server_store_retention_blocked";

/// The gauge's sample of the store destination `store-0`.
fn refused(server: &ServerProc) -> String {
    let (status, text) = request(&server.addr, "GET", "/metrics", &[], b"").unwrap();
    assert_eq!(status, 200, "{text}");
    let sample = format!("{GAUGE}{{destination=\"store-0\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&sample))
        .unwrap_or_else(|| panic!("no {sample:?} in /metrics: {text}"))
        .to_owned()
}

#[test]
fn the_refused_stores_gauge_is_one() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().join("archive").display());
    write_config(dir.path(), &format!("archive = \"{url}\"\n"));
    let server = start(dir.path(), &["--config", "server.toml"]);
    post_day(&server, "2025-01-01", 5, 1);
    post_day(&server, "2025-01-02", 5, 2);
    post_day(&server, "2025-01-03", 5, 3);
    assert_eq!(tamper_support::stop(server), 0);
    // So far every deletion was archived.
    let (code, out) = prune(dir.path(), "2025-01-02", &[]);
    assert_eq!(code, 0, "{out}");

    // The config loses its archive: retention deletes nothing, and says so.
    write_config(dir.path(), "retention = \"30d\"\n");
    let server = start(dir.path(), &["--config", "server.toml"]);
    wait_for_log(&server, "retention deletes nothing");
    assert_eq!(refused(&server), "1");
    assert_eq!(tamper_support::stop(server), 0);

    // A deletion without a copy recorded on purpose: retention deletes as configured,
    // and the gauge is 0.
    let (code, out) = prune(dir.path(), "2025-01-03", &["--no-archive"]);
    assert_eq!(code, 0, "{out}");
    let server = start(dir.path(), &["--config", "server.toml"]);
    wait_for_log(&server, "retention deleted time partitions");
    assert_eq!(refused(&server), "0");
    assert_eq!(tamper_support::stop(server), 0);
}
