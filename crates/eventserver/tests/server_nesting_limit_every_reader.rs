//! One nesting limit for a message, `MESSAGE_MAX_DEPTH` levels: an event at the limit
//! is answered 200 and every reader reads it (the store's reader, `verify`, `query`,
//! the live view); one level past it, or far past it, is refused with 400 naming the
//! path and the limit, and nothing is stored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::ingest_support;

use auditrail_core::MESSAGE_MAX_DEPTH;
use ingest_support::*;

/// A message `levels` deep: the message object, then arrays down to a number.
fn nested(levels: usize, user: &str) -> String {
    let inner = levels - 1;
    format!(
        "{{\"msgType\":\"login\",\"authUser\":\"{user}\",\"n\":{}0{}}}",
        "[".repeat(inner),
        "]".repeat(inner)
    )
}

#[test]
fn at_the_limit_every_reader_reads_it_and_past_it_ingest_refuses() {
    let mut server = Server::start(None);
    let (status, answer) = server.post(event_text(
        "node-deep",
        1,
        None,
        &nested(MESSAGE_MAX_DEPTH, "at-the-limit"),
    ));
    assert_eq!(status, 200, "{answer}");

    for (levels, path_prefix) in [(MESSAGE_MAX_DEPTH + 1, "message.n[0]"), (300, "message")] {
        let (status, answer) =
            server.post(event_text("node-deep", 2, None, &nested(levels, "past")));
        assert_eq!(status, 400, "{levels} levels: {answer}");
        let field = answer["field"].as_str().unwrap();
        assert!(field.starts_with(path_prefix), "{levels} levels: {answer}");
        let text = answer["message"].as_str().unwrap();
        assert!(
            text.contains(&format!("{MESSAGE_MAX_DEPTH} levels")),
            "{text}"
        );
    }

    // The live view.
    assert!(server
        .get("/v1/recent")
        .to_string()
        .contains("at-the-limit"));
    // The store's reader.
    let events = stored_events(&server.store());
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].message.json(),
        nested(MESSAGE_MAX_DEPTH, "at-the-limit")
    );
    assert_eq!(server.stop(), Some(0));
    // verify.
    let (code, report) = verify(&server.data());
    assert_eq!(code, Some(0), "{report}");
    // query.
    let data = server.data().display().to_string();
    let (code, out, err) = cli(
        &["query", "last-activity", "--dir", &data, "--json"],
        &server.data(),
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("at-the-limit"),
        "query leaves the event out: {out}\n{err}"
    );
    assert!(!err.contains("not events"), "{err}");
}
