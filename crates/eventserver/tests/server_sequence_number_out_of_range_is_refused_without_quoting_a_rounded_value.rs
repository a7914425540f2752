//! A `seq` (or `abandonedSeqs.first`/`last`) that is not an integer from 0 to
//! `u64::MAX` is refused naming the field and saying what a sequence number is. The
//! error quoted the number as `serde_json` had rounded it into a float
//! (`18446744073709551616` refused as "invalid type: floating point
//! `1.8446744073709552e+19`, expected u64"): a value the sender never wrote, for an
//! integer it did write. `u64::MAX` itself is a sequence number and is stored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_range_numbers_are_named_and_u64_max_is_stored() {
    let s = start(STORE).await;
    for (field, spelled) in [
        ("seq", "18446744073709551616"),
        ("seq", "123456789012345678901234567890"),
        ("seq", "1.0"),
        ("seq", "1e3"),
        ("abandonedSeqs", "99999999999999999999"),
    ] {
        let mut e = event("n1", 7);
        let placeholder = 4242424242u64;
        if field == "seq" {
            e["seq"] = placeholder.into();
        } else {
            e["abandonedSeqs"] = serde_json::json!({"first": 1, "last": placeholder});
        }
        let body = e.to_string().replace(&placeholder.to_string(), spelled);
        let (status, _, answer) = post(&s, body, None).await;
        assert_eq!(status, 400, "{spelled}: {answer}");
        assert_eq!(answer["error"], "invalid_event", "{answer}");
        assert_eq!(answer["line"], 1, "{answer}");
        assert!(
            answer["field"].as_str().unwrap().starts_with(field),
            "{spelled}: {answer}"
        );
        let message = answer["message"].as_str().unwrap();
        assert!(
            message.contains("integer from 0 to 18446744073709551615"),
            "{spelled}: {message}"
        );
        assert!(
            !message.contains("e+") && !message.contains("floating point"),
            "no rounded value is quoted for {spelled}: {message}"
        );
    }
    assert!(stored_ids(&s.store()).is_empty());

    let (status, _, answer) = post(&s, ndjson(&[event("n1", u64::MAX)]), None).await;
    assert_eq!(status, 200, "{answer}");
}
