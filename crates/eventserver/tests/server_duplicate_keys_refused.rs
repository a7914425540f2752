//! A key twice in any object of an event (the envelope, the message, or any object
//! nested in it, also when spelled with escapes) is refused with `400 invalid_event`
//! naming the key's path and the line; nothing of the batch is stored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::ingest_support;

use ingest_support::*;

#[test]
fn duplicate_keys_are_refused_at_every_level_with_their_path() {
    let mut server = Server::start(None);
    let good = event_text(
        "node-dup",
        1,
        None,
        r#"{"msgType":"login","authUser":"alice"}"#,
    );
    for (message, path) in [
        (
            r#"{"msgType":"login","authUser":"alice","authUser":"mallory"}"#,
            "message.authUser",
        ),
        (
            r#"{"msgType":"login","msgType":"logout"}"#,
            "message.msgType",
        ),
        (
            r#"{"msgType":"x","ctx":{"user":"a","user":"b"}}"#,
            "message.ctx.user",
        ),
        (
            r#"{"msgType":"x","list":[{},{"k":1,"k":2}]}"#,
            "message.list[1].k",
        ),
        (
            r#"{"msgType":"x","authUser":"alice","auth\u0055ser":"mallory"}"#,
            "message.authUser",
        ),
        (
            r#"{"msgType":"x","a b":{"c":1,"c":1}}"#,
            r#"message["a b"].c"#,
        ),
    ] {
        let bad = event_text("node-dup", 2, None, message);
        let (status, answer) = server.post(format!("{good}\n{bad}\n"));
        assert_eq!(status, 400, "{message}: {answer}");
        assert_eq!(answer["error"], "invalid_event", "{answer}");
        assert_eq!(answer["line"], 2, "{answer}");
        assert_eq!(answer["field"], path, "{message}: {answer}");
        let text = answer["message"].as_str().unwrap();
        assert!(
            text.contains("duplicate key") && text.contains(path),
            "{text}"
        );
    }
    // The envelope too.
    let twice = good.replacen(
        "\"node\":\"node-dup\"",
        "\"node\":\"node-dup\",\"node\":\"other\"",
        1,
    );
    let (status, answer) = server.post(twice);
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["field"], "node", "{answer}");

    assert!(
        stored_lines(&server.store()).is_empty(),
        "nothing of a refused batch is stored"
    );
    let (status, _) = server.post(good);
    assert_eq!(status, 200);
    server.stop();
}
