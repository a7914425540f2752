//! `api-answers` took a service's mean latency with `avg` over doubles, added in the
//! order the engine's partitions handed them over: the same events answered a mean
//! that changed in its last digits from run to run, and between the event server and
//! the CLI (found by a tryout with 3000 latencies such as 12.345 ms). Now the latencies
//! are added exactly (a decimal, each to a millionth of a ms) and the mean is taken
//! from that sum: ten latencies of 0.1 ms have the mean 0.1 (as doubles the sum is
//! 0.9999999999999999 and the mean 0.09999999999999999), and 3000 latencies give the
//! same mean in any order. The mean is rounded once, from the exact quotient: the mean
//! of 2^53 ms and 1.9 ms (4503599627370496.95) is 4503599627370497 (found by the final
//! tryout: rounded twice, it was ...496, below the median of the two).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use crate::common::{block_on, event, Store};
use auditrail_query::reports;
use auditrail_query::{Engine, Window};
use serde_json::json;

/// The mean latency of one service's queries with these `responseTimeMS`, in this
/// order.
fn mean(latencies: &[f64]) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::new(&dir.path().join("store"));
    for (seq, ms) in (1..).zip(latencies) {
        store.put(&event(
            "n1",
            seq,
            "2026-11-30T00:00:00.000Z",
            "apinode-query",
            Some("svc"),
            json!({"msgType": "q", "responseTimeMS": ms}),
        ));
    }
    store.write();
    let engine = Engine::builder()
        .store(dir.path().join("store"))
        .build()
        .unwrap();
    let services = block_on(reports::api_answers(&engine, Window::default())).unwrap();
    let latency = services[0].latency.as_ref().expect("latencies read");
    assert_eq!(latency.count, latencies.len() as u64);
    latency.mean
}

#[test]
fn ten_latencies_of_a_tenth_of_a_ms_have_the_mean_0_1() {
    assert_eq!(mean(&[0.1; 10]), 0.1);
}

#[test]
fn the_mean_does_not_depend_on_the_order_of_the_latencies() {
    // 3000 latencies with three decimals, as services report them, spread over
    // magnitudes so that adding doubles rounds differently in each order.
    let latencies: Vec<f64> = (0..3000u32)
        .map(|i| f64::from((i * 7919) % 100_000) / 1000.0 + f64::from(i % 7) * 1000.0)
        .collect();
    let reversed: Vec<f64> = latencies.iter().rev().copied().collect();
    let exact_thousandths: u64 = latencies.iter().map(|&l| (l * 1000.0).round() as u64).sum();
    let forward = mean(&latencies);
    assert_eq!(
        forward,
        mean(&reversed),
        "the same events in the other order"
    );
    let exact = exact_thousandths as f64 / 1000.0 / 3000.0;
    assert!(
        (forward - exact).abs() <= exact * 1e-15,
        "{forward} is the mean {exact}"
    );
}

#[test]
fn the_mean_is_the_exact_quotient_rounded_once() {
    let max = (1u64 << 53) as f64;
    assert_eq!(mean(&[max, 1.9]), 4503599627370497.0);
}
