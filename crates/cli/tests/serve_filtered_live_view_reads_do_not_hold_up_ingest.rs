//! Reads of the live view that take work (`/v1/recent` with a filter reads each of the
//! 1000 kept events' JSON, here 15 KB each) do not hold up ingest: a batch posted after
//! 40 of them is answered while most of them still wait for their turn. Before, each
//! was filtered under the lock that storing a batch takes, on the async workers: the
//! batch was answered only after (nearly) all of them, and 200 such requests (or
//! unread `/v1/recent` answers) held every node's batches for tens of seconds
//! (tryout hostile/04). Now they are written one at a time off the async workers
//! (eventserver `http/read_turn.rs`), after the view's lock was let go. No time is
//! measured: the order of the answers is.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpStream;

use crate::serve_support;

use serve_support::*;

const READERS: usize = 40;

#[test]
fn a_batch_is_answered_before_the_filtered_reads_asked_first() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    post_padded_logins(&server.addr, 1000, 15_000, 7);
    // Each matches nothing: its answer is small, but every kept event is read.
    let mut readers: Vec<TcpStream> = (0..READERS)
        .map(|_| {
            let mut s = TcpStream::connect(&server.addr).unwrap();
            write!(
                s,
                "GET /v1/recent?limit=1000&topic=none HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                server.addr
            )
            .unwrap();
            s
        })
        .collect();
    let line = event_line(&new_id(1, 8), "good", 1);
    let (status, answer) = post_events(&server.addr, &line, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    // Which reads were answered by then (a byte is waiting on their connection).
    let answered = readers
        .iter()
        .filter(|s| {
            s.set_nonblocking(true).unwrap();
            let mut byte = [0u8; 1];
            let got = s.peek(&mut byte).is_ok_and(|n| n > 0);
            s.set_nonblocking(false).unwrap();
            got
        })
        .count();
    assert!(
        answered < READERS / 2,
        "the batch was answered only after {answered} of the {READERS} reads asked before it"
    );
    for s in &mut readers {
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        assert!(text.contains("{\"count\":0,\"events\":[]}"), "{text}");
    }
    assert_eq!(server.terminate(), 0);
}
