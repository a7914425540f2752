//! A cleanup job removes only the run folder's lock file (`rm run/auditrail.lock`)
//! under a running `auditrail send --stdin` (the application). The running one locks
//! the folder again without waiting for its next event, so a second `auditrail send`
//! with the same config started afterwards is refused at once, naming the first. Without
//! that the second one started, announced the first one's reserved numbers as
//! abandoned while the first still numbered its events from them, and the first one's
//! shutdown then wrote its own next number over the second one's, so a later run gave
//! out the second one's numbers again.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::time::Duration;

use auditrail_testkit::server::wait_until;

#[test]
fn a_second_send_after_the_lock_file_was_removed_under_the_first_is_refused() {
    let node = common::Node::with_file_target("");
    let mut app = common::StreamingSend::start(&node, &[]);
    app.write_logins(1);
    assert!(
        wait_until(Duration::from_secs(30), || node.audit_lines().len() == 1),
        "the running send did not deliver its first event: {}",
        app.stderr()
    );

    let lock_file = node.path().join("run/auditrail.lock");
    std::fs::remove_file(&lock_file).unwrap();
    // Polled, not slept: the running one locks the folder again soon, without an event.
    let taken_back = wait_until(Duration::from_secs(10), || lock_file.exists());

    let out = node.run(
        &[
            "send",
            "--config",
            "node.toml",
            "--topic",
            "generic",
            "--msg-type",
            "second-process",
        ],
        "",
    );
    let (stdout, stderr) = common::text(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the second send was not refused (lock taken back: {taken_back}):\n{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("is in use by pid {} (auditrail)", app.child.id())),
        "names the running one: {stderr}"
    );

    app.write_logins(2);
    let common::StreamingSend {
        child, input, log, ..
    } = app;
    drop(input);
    let out = child.wait_with_output().unwrap();
    let first_log = std::fs::read_to_string(&log).unwrap();
    assert_eq!(out.status.code(), Some(0), "{first_log}");
    assert!(
        first_log.contains("the run folder's lock file was removed or replaced"),
        "the running one says what happened: {first_log}"
    );

    let lines = node.audit_lines();
    let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3], "one run, its numbers in order: {lines:?}");
    assert!(
        lines.iter().all(|l| l.get("abandonedSeqs").is_none()),
        "nobody announced the running one's numbers as abandoned: {lines:?}"
    );
    let seq_file = std::fs::read_to_string(node.path().join("run/seq/cli-test-node")).unwrap();
    assert_eq!(seq_file.trim(), "next 4");
}
