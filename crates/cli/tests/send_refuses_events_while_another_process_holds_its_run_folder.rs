//! The run folder's lock file of a running `auditrail send --stdin` is replaced by one
//! that another process has locked (what a second process that started right after a
//! cleanup job removed the lock file, before the running one took it back, holds).
//! While that process holds the folder, the running one hands out no sequence number:
//! its events are refused, the error naming that process and the folder (two
//! processes on one run folder would give the same numbers to different events), and
//! its shutdown leaves that process's sequence file as it is (its smaller next number
//! written there would make a later run give out that process's numbers again).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::io::Write;
use std::time::Duration;

use auditrail_testkit::server::wait_until;

/// What the other process's sequence file says: it numbered up to here.
const OTHERS_NEXT: u64 = 5_000_000;

fn login(user: &str) -> String {
    format!(
        "{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"login\",\"authUser\":\"{user}\"}}}}\n"
    )
}

#[test]
fn events_are_refused_while_another_process_holds_the_run_folder_and_its_seq_file_is_left() {
    let node = common::Node::with_file_target("");
    let mut app = common::StreamingSend::start(&node, &[]);
    app.input.write_all(login("before").as_bytes()).unwrap();
    app.input.flush().unwrap();
    assert!(
        wait_until(Duration::from_secs(30), || node.audit_lines().len() == 1),
        "the running send did not deliver its first event: {}",
        app.stderr()
    );

    // The other process: a new lock file, locked, then moved over the running one's.
    let run = node.path().join("run");
    let other = run.join("other.lock");
    let mut lock = std::fs::File::create(&other).unwrap();
    lock.try_lock().unwrap();
    writeln!(lock, "pid 4242 (other-process)").unwrap();
    std::fs::rename(&other, run.join("auditrail.lock")).unwrap();

    // The running one notices without an event (its check runs every few ms).
    assert!(
        wait_until(Duration::from_secs(30), || app
            .stderr()
            .contains("holder=pid 4242 (other-process)")),
        "the running one did not notice the other process: {}",
        app.stderr()
    );
    // The other process numbered its events up to here.
    let seq_file = run.join("seq/cli-test-node");
    std::fs::write(&seq_file, format!("next {OTHERS_NEXT}\n")).unwrap();

    app.input.write_all(login("while-held").as_bytes()).unwrap();
    let common::StreamingSend {
        child, input, log, ..
    } = app;
    drop(input); // the running one ends while the other process still holds the folder
    let out = child.wait_with_output().unwrap();
    let (stdout, _) = common::text(&out);
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert_ne!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let refusal = format!(
        "run folder {} was removed or its lock file replaced under this node, and pid 4242 \
         (other-process) has locked it since: the event was not accepted",
        std::fs::canonicalize(&run).unwrap().display()
    );
    assert!(
        stdout.contains(&refusal) || stderr.contains(&refusal),
        "the event is refused naming the other process and the folder:\n{stdout}\n{stderr}"
    );

    let users: Vec<String> = node
        .audit_lines()
        .iter()
        .map(|l| l["message"]["authUser"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        users,
        ["before"],
        "no event numbered while the other held the folder"
    );
    assert_eq!(
        std::fs::read_to_string(&seq_file).unwrap(),
        format!("next {OTHERS_NEXT}\n"),
        "the other process's sequence file is left as it is"
    );
    drop(lock);
}
