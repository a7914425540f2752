//! An operator accepted a store's state with the server stopped (`auditrail store
//! accept`, here a record appended after a clean stop). The attacker, who can write
//! the data folder but holds no key, then appends another correctly chained record
//! before the server is started again. The acceptance line records the store's head
//! it accepted, so the next start refuses the new record as it refuses one appended
//! after a clean stop (naming the store, the chainSeq range and the segment file), and
//! signs nothing; verify reports it as `appended-after-clean-stop`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support;

use auditrail_testkit::store::append_chained;
use tamper_support::*;

/// Appends one more correctly chained record (a copy of the last one, renumbered, with
/// an id of its own); returns its segment file, relative to the store, and its
/// chainSeq.
fn forge_one(store: &std::path::Path, seq: u64) -> (String, u64) {
    let (file, chain_seq) = append_chained(store, |body| {
        body.replace(&format!("\"seq\":{}", seq - 1), &format!("\"seq\":{seq}"))
            .replacen(
                &format!("-{:012x}\"", 600 + seq - 1),
                &format!("-{:012x}\"", 600 + seq),
                1,
            )
    });
    let rel = file
        .strip_prefix(store)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    (rel, chain_seq)
}

#[test]
fn a_record_appended_after_a_store_accept_is_refused_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let (key, store) = fifty_records(dir.path());
    let log = store.join("checkpoints.jsonl");

    // A record written while the server was stopped, accepted by an operator (its id
    // made unique from record 50's, ...-000000000032).
    let (_, seq) = append_chained(&store, |body| {
        body.replace("\"seq\":50", "\"seq\":51").replacen(
            "-000000000032\"",
            &format!("-{:012x}\"", 651),
            1,
        )
    });
    assert_eq!(seq, 51);
    let (code, out) = accept(dir.path(), "record 51 checked with its sender");
    assert_eq!(code, 0, "{out}");

    // Another record, appended after the acceptance, before the next start.
    let (rel, seq) = forge_one(&store, 52);
    assert_eq!(seq, 52);

    let (code, report) = verify(dir.path(), &key);
    assert_eq!(code, 1, "{report:#}");
    let found: Vec<_> = report["stores"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "appended-after-clean-stop" && p["severity"] == "error")
        .collect();
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(
        (found[0]["firstSeq"].as_u64(), found[0]["lastSeq"].as_u64()),
        (Some(52), Some(52)),
        "{report:#}"
    );

    let log_before = std::fs::read(&log).unwrap();
    let (code, err) = match try_start(dir.path()) {
        Ok(server) => {
            stop(server);
            panic!("the server started on a record written after the acceptance");
        }
        Err(e) => e,
    };
    assert_ne!(code, 0);
    for what in [
        store.display().to_string(),
        "chainSeq 52..52".to_string(),
        rel,
        "store accept".to_string(),
        "auditrail verify".to_string(),
    ] {
        assert!(err.contains(&what), "the refusal names {what:?}: {err}");
    }
    assert_eq!(std::fs::read(&log).unwrap(), log_before, "nothing signed");
}
