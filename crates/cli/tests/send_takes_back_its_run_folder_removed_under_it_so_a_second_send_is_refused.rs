//! A cleanup job removes the run folder (`rm -rf run`) under a running `auditrail send
//! --stdin` (the application). The running one takes the folder back (creates it again
//! and locks it again) without waiting for its next event, so a second `auditrail send`
//! with the same config started afterwards is refused at once, naming the first, as on
//! a folder nobody removed. Without that the second one started on the new folder and
//! numbered its events from 1 again: two different events of the node with one seq.
//! The first one's events keep distinct numbers, and its sequence file is there again.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::collections::HashSet;
use std::time::Duration;

use auditrail_testkit::server::wait_until;

#[test]
fn a_second_send_after_the_run_folder_was_removed_under_the_first_is_refused() {
    let node = common::Node::with_file_target("");
    let mut app = common::StreamingSend::start(&node, &[]);
    app.write_logins(1);
    assert!(
        wait_until(Duration::from_secs(30), || node.audit_lines().len() == 1),
        "the running send did not deliver its first event: {}",
        app.stderr()
    );

    let run = node.path().join("run");
    std::fs::remove_dir_all(&run).unwrap();
    // Polled, not slept: the running one locks the folder again soon, without an event.
    let taken_back = wait_until(Duration::from_secs(10), || {
        run.join("auditrail.lock").exists()
    });

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
        "the second send was not refused (run folder taken back: {taken_back}):\n{stdout}\n{stderr}"
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
        first_log.contains("the run folder was removed while the node was running"),
        "the running one says what happened: {first_log}"
    );

    let lines = node.audit_lines();
    let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert_eq!(lines.len(), 3, "{seqs:?}");
    assert!(
        lines.iter().all(|l| l["message"]["msgType"] == "login"),
        "nothing of the refused send: {lines:?}"
    );
    assert_eq!(
        seqs.iter().collect::<HashSet<_>>().len(),
        seqs.len(),
        "no seq given twice: {seqs:?}"
    );
    let seq_file = std::fs::read_to_string(run.join("seq/cli-test-node")).unwrap();
    assert_eq!(
        seq_file.trim(),
        format!("next {}", seqs.iter().max().unwrap() + 1)
    );
}
