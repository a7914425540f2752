//! A key owning routing key `Åbo` (U+00C5) that sends `Åbo` spelled with U+212B
//! (ANGSTROM SIGN, which NFC turns into U+00C5 and which looks exactly alike) or
//! `åbo`, is refused `403 forbidden` as before (keys are
//! compared code point for code point, as sent); the refusal said only `may not write
//! routingKey "Åbo"`, which reads like what the key owns. Now it names what the key's
//! list holds and the differing code points (`{:?}` escapes neither character), as the
//! `422 unrouted` refusal does.

use crate::server_support;

use server_support::*;

const CONFIG: &str = "
[[keys]]
id = \"abo\"
secret = \"secret-of-abo\"
topics = [\"apinode-query\"]
routing_keys = [\"\u{c5}bo\"]

[[destinations]]
type = \"store\"
path = \"store\"
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forbidden_routing_key_that_reads_like_an_owned_one_is_named_with_its_code_points() {
    let s = start(CONFIG).await;
    let refusal = |e: serde_json::Value| {
        let s = &s;
        async move {
            let (status, _, body) = post(s, ndjson(&[e]), Some("secret-of-abo")).await;
            assert_eq!(status, 403, "{body}");
            assert_eq!(body["error"], "forbidden", "{body}");
            body["message"].as_str().unwrap().to_owned()
        }
    };

    let message = refusal(event_with("n1", 1, "apinode-query", Some("\u{212b}bo"))).await;
    assert!(
        message.contains(
            "the key's routing_keys list \"\u{c5}bo\", the same text in another Unicode \
             normalization form (NFC/NFD, UAX #15): U+00C5 listed where U+212B was sent"
        ),
        "{message}"
    );
    let message = refusal(event_with("n1", 2, "apinode-query", Some("\u{e5}bo"))).await;
    assert!(
        message.contains("the same letters in another case: U+00C5 listed where U+00E5 was sent"),
        "{message}"
    );
    // Nothing like what it owns: no hint.
    let message = refusal(event_with("n1", 4, "apinode-query", Some("svc-b"))).await;
    assert!(!message.contains("list"), "{message}");

    let (status, _, body) = post(
        &s,
        ndjson(&[event_with("n1", 5, "apinode-query", Some("\u{c5}bo"))]),
        Some("secret-of-abo"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}
