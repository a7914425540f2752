//! Store `a`'s folder moved away while the server runs (`mv a a.moved`, a copy or a
//! cleanup job), `b` untouched: `a`'s next batch fails (`No such file or directory`)
//! and is retried, in order, before any later batch of `a`. Every later batch for `a`
//! waited out the whole `ack_timeout_ms` for a bare `503 ack_timeout` naming neither the
//! store nor the cause, while `/readyz` said `a`'s open partitions were stored
//! (tryout62/03). Now `a` is named under `/readyz` `degraded` (`store_failing`, with
//! the OS error) and its later batches are answered at once (`503 store_failing`,
//! naming it and where its first event is; nothing stored), `b`'s are stored; once the
//! folder is back the retried batch is written and `a` takes batches again.
//!
//! "At once" without a timing assertion: `ack_timeout_ms` is 10 minutes and the test's
//! client waits at most 60 s, so a batch left waiting behind the retried one gets no
//! answer at all.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::full_disk_support::{readyz, two_stores_with};
use crate::serve_support::{post_events, stored_ids, wait_until, ServerProc};
use crate::tamper_support::ten;

const SALT: u64 = 623;

/// `/readyz`'s `store_failing` entry for `a`, if any.
fn failing_entry(server: &ServerProc) -> Option<serde_json::Value> {
    let (_, answer) = readyz(&server.addr);
    answer["degraded"]
        .as_array()?
        .iter()
        .find(|d| d["reason"] == "store_failing" && d["store"] == "a")
        .cloned()
}

#[test]
fn later_batches_are_refused_at_once_naming_the_store_until_its_folder_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let server = two_stores_with(dir.path(), &a, &b, SALT, 600_000, "");
    let moved = dir.path().join("a.moved");
    std::fs::rename(&a, &moved).unwrap();

    // The batch that meets the moved folder: answered after ack_timeout_ms, or never
    // read; retried meanwhile.
    let addr = server.addr.clone();
    std::thread::spawn(move || post_events(&addr, &ten("svc-a", 11, SALT), None));
    wait_until(
        "a named store_failing under /readyz degraded",
        &[&server],
        || failing_entry(&server).is_some(),
    );
    let entry = failing_entry(&server).unwrap();
    assert!(
        entry["message"]
            .as_str()
            .unwrap()
            .contains("No such file or directory"),
        "{entry}"
    );

    // Nor does `/readyz` say a's open partitions are stored (its folder probe's entry).
    let (_, ready) = readyz(&server.addr);
    assert!(
        !ready
            .to_string()
            .contains("events of the partitions it has open are stored"),
        "{ready}"
    );

    let (status, answer) =
        post_events(&server.addr, &ten("svc-a", 21, SALT), None).unwrap_or_else(|e| {
            panic!(
                "no answer to a batch for a (left waiting behind the failed one): {e}\n{}",
                server.stderr()
            )
        });
    assert_eq!(
        (status, answer["error"].as_str()),
        (503, Some("store_failing")),
        "{answer}"
    );
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.starts_with("store destination \"a\": its last batch failed (No such file")
            && message.contains("10 event(s) of the batch go to it, the first at line 1")
            && message.contains("nothing was stored"),
        "{answer}"
    );
    assert!(
        !message.contains(dir.path().to_str().unwrap()),
        "no path: {answer}"
    );
    assert_eq!(answer["line"], 1, "{answer}");
    let (status, answer) = post_events(&server.addr, &ten("svc-b", 11, SALT), None).unwrap();
    assert_eq!(status, 200, "b takes its batches: {answer}");

    // The folder back: the retried batch is written, a takes batches again.
    std::fs::rename(&moved, &a).unwrap();
    wait_until("a no longer named store_failing", &[&server], || {
        failing_entry(&server).is_none()
    });
    let (status, answer) = post_events(&server.addr, &ten("svc-a", 31, SALT), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);
    // The first ten, the retried batch and the last one; not the refused one.
    assert_eq!(stored_ids(&a).len(), 30);
}
