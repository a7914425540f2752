//! A key that is not a JSON string (`{1: 2}`, `{msgType: "x"}`: JavaScript's object
//! notation, a key left unquoted) was refused as `?: key must be a string at line 1
//! column N`: `?` is serde_path_to_error's word for "a key not read yet", which says
//! neither what is wrong nor where. Now the error says that an object key must be a
//! string in double quotes and names the object: the event itself, or its message
//! (with the line and column).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use auditrail_core::Event;

const GOOD: &str = r#"{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n","seq":1,"message":{"msgType":"x","a":{"b":2}}}"#;

fn error_of(json: &str) -> String {
    match Event::from_json(json) {
        Ok(e) => panic!("accepted: {e:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn an_unquoted_key_is_named_as_such_with_the_object_holding_it() {
    for (json, place) in [
        (GOOD.replace(r#""seq":1"#, r#""seq":1,seq2:1"#), "the event"),
        (GOOD.replace(r#""seq":1"#, r#""seq":1,1:1"#), "the event"),
        (GOOD.replace(r#""msgType""#, "msgType"), "message"),
        // Deeper in the message: the message, and the column says where in it.
        (GOOD.replace(r#"{"b":2}"#, r#"{"b":2,c:3}"#), "message"),
    ] {
        let err = error_of(&json);
        assert!(!err.contains('?'), "{err}");
        assert!(
            err.contains("an object key must be a string in double quotes")
                && err.contains(&format!("in {place}"))
                && err.contains("column"),
            "{json}: {err}"
        );
    }
}
