//! A server started and stopped cleanly without storing anything. The attacker, who
//! can write the data folder but holds no key, puts correctly chained records into
//! the empty store (here copied from another server's store: the chain starts from
//! the same genesis link everywhere). The clean stop left a line saying the store was
//! empty, so the next start refuses them as written while the server was stopped,
//! and verify reports `appended-after-clean-stop`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;
use crate::tamper_support;

use serve_support::start;
use tamper_support::*;

#[test]
fn records_put_into_a_store_that_stopped_cleanly_empty_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    let server = start(
        dir.path(),
        &["--config", "server.toml", "--data-dir", "data"],
    );
    assert_eq!(stop(server), 0);
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let key = key.trim();
    let store = dir.path().join("data/store");

    // Another server's ten records.
    let donor = tempfile::tempdir().unwrap();
    std::fs::write(donor.path().join("server.toml"), CONFIG).unwrap();
    let other = start(
        donor.path(),
        &["--config", "server.toml", "--data-dir", "data"],
    );
    post_ten(&other, 1);
    assert_eq!(other.terminate(), 0);
    copy_records(&donor.path().join("data/store"), &store);

    let (code, report) = verify(dir.path(), key);
    assert_eq!(code, 1, "{report:#}");
    assert!(
        error_kinds(&report).contains(&"appended-after-clean-stop".to_string()),
        "{report:#}"
    );

    let log = store.join("checkpoints.jsonl");
    let log_before = std::fs::read(&log).unwrap();
    let (code, err) = match try_start(dir.path()) {
        Ok(server) => {
            stop(server);
            panic!("the server started on records put into its empty store while it was stopped");
        }
        Err(e) => e,
    };
    assert_ne!(code, 0);
    for what in [
        store.display().to_string(),
        "chainSeq 1..10".to_string(),
        "stopped cleanly".to_string(),
        "auditrail store accept".to_string(),
    ] {
        assert!(err.contains(&what), "the refusal names {what:?}: {err}");
    }
    assert_eq!(std::fs::read(&log).unwrap(), log_before, "nothing signed");
}
