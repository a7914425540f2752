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
const COUNTED_PER_BYTE: u64 = 13;

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

    // 1. Upload A: a valid batch of ~900 KB, of which 100,000 bytes arrive.
    let one = ndjson(&[event("n1", 1)]).len();
    let events: Vec<_> = (1..=(850_000 / one as u64))
        .map(|i| event("n1", i))
        .collect();
    let a_body = ndjson(&events).into_bytes();
    assert!(a_body.len() > 800_000, "{}", a_body.len());
    assert!(a_body.len() < MAX_BODY);
    let mut a = start_upload(addr, a_body.len(), &a_body[..100_000]).await;
    let a_held = 100_000 * COUNTED_PER_BYTE;
    assert_eq!(memory_reaches(&s, a_held).await, a_held);

    // 2. Upload B declares 1,000,000 bytes and sends 990,000: it is refused at about
    //    976,000 (A's part and B's would go over 14 MB), and its client goes on
    //    sending, so the server is still draining it.
    //    First 900,000 bytes, under the refusal point, and until the server has read
    //    them all (counted beside A's part): written is not read, and a step 3 that
    //    looked before the server read B saw A's part alone, with B's refusal still to
    //    come, and then took A's next part (CI, 2026-12-05).
    let b_body = vec![b' '; MAX_BODY];
    let mut b = start_upload(addr, MAX_BODY, &[]).await;
    for part in b_body[..900_000].chunks(16 * 1024) {
        b.write_all(part).await.unwrap();
    }
    let b_read = a_held + 900_000 * COUNTED_PER_BYTE;
    assert_eq!(memory_reaches(&s, b_read).await, b_read);
    for part in b_body[900_000..990_000].chunks(16 * 1024) {
        b.write_all(part).await.unwrap();
    }

    // 3. While B drains, only A's part is counted.
    assert_eq!(
        memory_reaches(&s, a_held).await,
        a_held,
        "the refused body still holds its part while it is drained"
    );

    // 4. So the rest of A (another 10 MB counted) fits, and A is stored.
    a.write_all(&a_body[100_000..]).await.unwrap();
    let answer = read_answer(&mut a).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(stored_ids(&s.store()).len(), events.len());

    // 5. B's client finishes and reads its refusal.
    b.write_all(&b_body[990_000..]).await.unwrap();
    let answer = read_answer(&mut b).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("\"memory_budget\""), "{answer}");
    assert_eq!(memory_reaches(&s, 0).await, 0);
}
