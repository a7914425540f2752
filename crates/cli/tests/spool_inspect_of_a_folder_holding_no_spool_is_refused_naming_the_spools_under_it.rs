//! `auditrail spool inspect --dir` one level too high (the spools' parent `run/spool`,
//! or the run folder `run`) read that folder as a spool: no segments, no `ack`, so
//! "0 event(s) to send" and exit 0, while the spool inside it had lost a segment (its
//! own inspection says LOST, exit 1). A monitoring job pointed there was told all is
//! well for good. Such a folder is now refused (exit 1), naming the spool under it; a
//! spool that was opened and never spooled anything still inspects as empty.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use crate::spool_support;
use auditrail_testkit::port::Port;

#[test]
fn a_folder_holding_no_spool_is_refused_naming_the_spool_under_it() {
    let port = Port::new();
    let node = spool_support::spooling_node("node-parent", &port);
    spool_support::spool_ten(&node);
    let (seg, _) = spool_support::segment(&node);
    std::fs::remove_file(&seg).unwrap();

    let own = node.run(&["spool", "inspect", "--dir", "run/spool/central"], "");
    assert_eq!(own.status.code(), Some(1), "{:?}", common::text(&own));
    assert!(
        common::text(&own).0.contains("LOST"),
        "{:?}",
        common::text(&own)
    );

    for above in ["run/spool", "run"] {
        let out = node.run(&["spool", "inspect", "--dir", above], "");
        let (stdout, stderr) = common::text(&out);
        assert_eq!(out.status.code(), Some(1), "{above}: {stdout} {stderr}");
        assert!(
            stderr.contains(&format!("{above} is not a spool folder"))
                && stderr.contains("the spool under it: run/spool/central"),
            "{above}: {stderr}"
        );
        assert!(!stdout.contains("0 event(s) to send"), "{above}: {stdout}");
    }

    // A spool folder holding only the lock a spool leaves (opened, nothing spooled):
    // an empty spool, exit 0.
    let empty = node.path().join("fresh");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("auditrail.lock"), "").unwrap();
    let out = node.run(&["spool", "inspect", "--dir", "fresh"], "");
    assert_eq!(out.status.code(), Some(0), "{:?}", common::text(&out));
}
