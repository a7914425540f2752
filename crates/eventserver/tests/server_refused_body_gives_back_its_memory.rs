//! A body refused by the memory budget gives its part back at once, not after its
//! client has finished sending: the server reads the rest of a refused body (so the
//! client sees the 503 instead of a reset connection) but keeps none of it. Before,
//! the refused body kept its part through that drain, so the next body that asked
//! for more was refused too; eight 15 MiB uploads at once were all refused and none
//! stored (CI, serve_body_memory_stays_bounded).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use std::time::Duration;

use server_support::*;
use tokio::io::AsyncWriteExt;

const MAX_BODY: usize = 1_000_000;
/// The least the server accepts for MAX_BODY (14 bytes per body byte).
const BUDGET: usize = 14_000_000;
/// What the stalled uploads hold: fifteen of 900,000 bytes received (their frames).
const HELD: u64 = 13_500_000;

async fn memory_reaches(s: &TestServer, want: u64) -> u64 {
    let mut now = 0;
    for _ in 0..1000 {
        now = metric(s, "auditrail_server_body_memory_bytes").await;
        if now == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    now
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_body_frees_its_part_while_its_client_still_sends() {
    let s = start(&format!(
        "max_body_bytes = {MAX_BODY}\nmax_body_memory_bytes = {BUDGET}\n{STORE}"
    ))
    .await;
    let addr = s.running.local_addr();

    // 1. Fifteen uploads of 900,000 bytes (1,000,000 announced) stall: each holds the
    //    bytes it sent (13,500,000 in all).
    let mut holders = Vec::new();
    for _ in 0..15 {
        holders.push(start_upload(addr, MAX_BODY, &vec![b' '; 900_000]).await);
    }
    assert_eq!(memory_reaches(&s, HELD).await, HELD);

    // 2. Upload A: a valid batch of ~900 KB, of which 100,000 bytes arrive.
    let one = ndjson(&[event("n1", 1)]).len();
    let events: Vec<_> = (1..=(850_000 / one as u64))
        .map(|i| event("n1", i))
        .collect();
    let a_body = ndjson(&events).into_bytes();
    assert!(a_body.len() > 800_000, "{}", a_body.len());
    assert!(a_body.len() < MAX_BODY);
    let mut a = start_upload(addr, a_body.len(), &a_body[..100_000]).await;
    let mut before_b = 0;
    for _ in 0..1000 {
        before_b = metric(&s, "auditrail_server_body_memory_bytes").await;
        if before_b >= HELD + 100_000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(before_b >= HELD + 100_000, "{before_b}");

    // 3. Upload B announces 1,000,000 bytes and sends 990,000: once about 400,000 of
    //    them arrived they go over the budget, so it is refused, and its client goes on
    //    sending: the server is still draining it.
    let b_body = vec![b' '; MAX_BODY];
    let mut b = start_upload(addr, MAX_BODY, &[]).await;
    for part in b_body[..990_000].chunks(16 * 1024) {
        b.write_all(part).await.unwrap();
    }

    // 4. While B drains, only the others' parts are counted.
    assert_eq!(
        memory_reaches(&s, before_b).await,
        before_b,
        "the refused body still holds its part while it is drained"
    );

    // 5. B's client finishes and reads its refusal.
    b.write_all(&b_body[990_000..]).await.unwrap();
    let answer = read_answer(&mut b).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("\"memory_budget\""), "{answer}");

    // 6. The stalled uploads leave: the rest of A (its events, 13 bytes per byte) fits,
    //    and A is stored; everything is given back.
    drop(holders);
    a.write_all(&a_body[100_000..]).await.unwrap();
    let answer = read_answer(&mut a).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(stored_ids(&s.store()).len(), events.len());
    assert_eq!(memory_reaches(&s, 0).await, 0);
}
