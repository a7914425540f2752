//! `/readyz`'s entries about a store under `degraded` (`store_failing`, and the
//! folder probe's `store_refuses_new_files`) named it as `store` and in the message,
//! while `destination_behind` and `held` entries name theirs as `destination`. Now
//! every entry about one destination has `destination` (a store's keeps `store`, the
//! same name). Store `a`'s folder moved away while the server runs, `b` untouched.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use crate::full_disk_support::{readyz, two_stores_with};
use crate::serve_support::post_events;
use crate::tamper_support::ten;

const SALT: u64 = 632;

#[test]
fn each_entry_about_the_failing_store_has_its_destination() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let server = two_stores_with(dir.path(), &a, &b, SALT, 600_000, "");
    std::fs::rename(&a, dir.path().join("a.moved")).unwrap();
    // The batch that meets the moved folder: retried, never answered here.
    let addr = server.addr.clone();
    std::thread::spawn(move || post_events(&addr, &ten("svc-a", 11, SALT), None));

    let until = Instant::now() + Duration::from_secs(60);
    let answer = loop {
        let (status, answer) = readyz(&server.addr);
        assert_eq!(status, 200, "store b takes batches: {answer}");
        let reasons: Vec<_> = answer["degraded"]
            .as_array()
            .map(|d| d.iter().map(|e| e["reason"].clone()).collect())
            .unwrap_or_default();
        if reasons.contains(&"store_failing".into())
            && reasons.contains(&"store_refuses_new_files".into())
        {
            break answer;
        }
        assert!(
            Instant::now() < until,
            "a not named under degraded: {answer}\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    for entry in answer["degraded"].as_array().unwrap() {
        assert_eq!(
            (&entry["destination"], &entry["store"]),
            (&"a".into(), &"a".into()),
            "{answer}"
        );
    }
    server.kill9();
}
