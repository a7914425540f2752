//! `/v1/stream` says, before an event, which values of the events it sent look like
//! other values of the same column (`event: lookalikes`, each mark as in a report
//! answer's `lookalikes`, its column the path of the value in the message's data), so
//! that the console's live tail shows `\u{49}ris` and `\u{6c}ris` apart as its
//! reports do. Before, the stream (and the tail) said nothing: two users `Iris` and
//! `lris` were two rows that read alike. The value sent first is marked too, when its
//! look-alike comes; a mark is said once; the backlog is marked as the events after it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::{json, Value};
use server_support::sse::{follow, Messages};
use server_support::*;

fn user(e: &Value) -> &str {
    e["clientEvent"]["message"]["authUser"].as_str().unwrap()
}

/// The next message, which must be `lookalikes`: its marks.
async fn marks(f: &mut Messages) -> Value {
    let (kind, data) = f.next().await.expect("the stream ended");
    assert_eq!(kind, "lookalikes", "{data}");
    serde_json::from_str(&data).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_is_told_which_values_look_alike_before_the_event_that_makes_them() {
    let s = start(STORE).await;
    // The backlog: `Iris`, and the node `lris` (another column).
    assert_eq!(
        post(&s, ndjson(&[with_user("lris", 1, "Iris")]), None)
            .await
            .0,
        200
    );
    let mut f = follow(&s, "limit=10", None).await;
    assert_eq!(user(&f.next_event().await), "Iris");

    let after = [
        with_user("n1", 1, "lris"),
        with_user("n1", 2, "lris"),
        with_user("n1", 3, "\u{430}dmin"),
        with_user("n1", 4, "bob"),
    ];
    assert_eq!(post(&s, ndjson(&after), None).await.0, 200);
    let column = ".clientEvent.message.authUser";
    assert_eq!(
        marks(&mut f).await,
        json!([
            {"column": column, "value": "Iris", "escaped": [0]},
            {"column": column, "value": "lris", "escaped": [0]},
        ])
    );
    assert_eq!(user(&f.next_event().await), "lris");
    // Said once.
    assert_eq!(user(&f.next_event().await), "lris");
    assert_eq!(
        marks(&mut f).await,
        json!([{"column": column, "value": "\u{430}dmin", "escaped": [0]}])
    );
    assert_eq!(user(&f.next_event().await), "\u{430}dmin");
    assert_eq!(user(&f.next_event().await), "bob");

    // A backlog is marked as it is sent: the marks before the event that makes them.
    let mut late = follow(&s, "limit=3", None).await;
    assert_eq!(user(&late.next_event().await), "lris");
    assert_eq!(
        marks(&mut late).await,
        json!([{"column": column, "value": "\u{430}dmin", "escaped": [0]}])
    );
    assert_eq!(user(&late.next_event().await), "\u{430}dmin");
    assert_eq!(user(&late.next_event().await), "bob");
}
