//! A batch not acknowledged within `ack_timeout_ms` was answered "retry (already stored
//! events are counted as duplicates)", true of `store` destinations only: a
//! destination that cannot be read back (`file`, a forward, Kafka; here `gated`) is
//! sent again the events it already took, a second copy there. The answer now says
//! what a retry does in each destination of the batch.

use crate::server_support;

use std::time::Duration;

use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ack_timeout_answer_tells_stores_from_destinations_sent_again() {
    let g = gate("retry-outcome");
    let s = start(
        "ack_timeout_ms = 300\n\
         [[destinations]]\nname = \"main\"\ntype = \"store\"\npath = \"store\"\n\
         [[destinations]]\nname = \"audit\"\ntype = \"gated\"\ngate = \"retry-outcome\"\n",
    )
    .await;
    let (status, _, body) = post(&s, ndjson(&[event("n1", 1)]), None).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "ack_timeout");
    let message = body["message"].as_str().unwrap();
    // Without the fix: "...; retry (already stored events are counted as duplicates)".
    assert!(
        message.contains(
            "store destination \"main\" answers the events it already stored as duplicates, \
             stored once; destination \"audit\" (gated) cannot be read back: it is sent \
             again the events it already took"
        ),
        "{message}"
    );
    g.permits.add_permits(10);
    assert!(
        eventually(Duration::from_secs(10), || g.taken.lock().unwrap().len()
            == 1)
        .await
    );
}
