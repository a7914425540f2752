//! A target that takes two batches in flight (`Target::batches_in_flight` 2): the
//! worker hands it the next batch while the previous one's answer is pending, never
//! more than two, and when a batch fails retryably (and with it the one handed over
//! after it), sends both again in order before anything else.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::oneshot;

use super::{DeliveryOptions, Dispatcher};
use crate::event::{Event, EventDraft, NodeId};
use crate::filter::Filter;
use crate::target::{Pending, Target, TargetError};
use crate::topics;

/// Where a batch's answer goes.
type Answer = oneshot::Sender<Result<(), TargetError>>;

#[derive(Default)]
struct State {
    /// The answers not given yet, oldest first, with the seqs of their batch.
    held: VecDeque<(Vec<u64>, Answer)>,
    /// The most batches whose answers were pending at once.
    most_in_flight: usize,
    /// The seqs of every event taken (answered `Ok`), in the order taken.
    taken: Vec<u64>,
    /// Events handed over so far, by either call.
    handed: usize,
    /// Fail the next batch handed over while another is in flight, and that one.
    fail_once: bool,
    /// Answers given as retryable errors.
    failed: usize,
}

/// Answers each batch handed to `send_pipelined` when the next one is handed over (or
/// when the test releases it): so every batch after the first is handed over while
/// the one before it is in flight.
struct TwoInFlight(Arc<Mutex<State>>);

fn seqs(batch: &[Arc<Event>]) -> Vec<u64> {
    batch.iter().map(|e| e.seq).collect()
}

#[async_trait]
impl Target for TwoInFlight {
    async fn send(&mut self, batch: &[Arc<Event>]) -> Result<(), TargetError> {
        let mut s = self.0.lock().unwrap();
        assert!(s.held.is_empty(), "send called with answers pending");
        s.handed += batch.len();
        s.taken.extend(seqs(batch));
        Ok(())
    }

    fn batches_in_flight(&self) -> usize {
        2
    }

    async fn send_pipelined(&mut self, batch: &[Arc<Event>]) -> Result<Pending, TargetError> {
        let mut s = self.0.lock().unwrap();
        s.handed += batch.len();
        let in_flight = s.held.len() + 1;
        s.most_in_flight = s.most_in_flight.max(in_flight);
        let (tx, rx) = oneshot::channel();
        if let Some((earlier, answer)) = s.held.pop_front() {
            if std::mem::take(&mut s.fail_once) {
                // As the store does when a fsync fails: this batch and the one
                // handed over after it.
                s.failed += 2;
                let _ = answer.send(Err(TargetError::retryable("fsync failed")));
                let _ = tx.send(Err(TargetError::retryable("fsync failed")));
            } else {
                s.taken.extend(earlier);
                let _ = answer.send(Ok(()));
                s.held.push_back((seqs(batch), tx));
            }
        } else {
            s.held.push_back((seqs(batch), tx));
        }
        Ok(Box::pin(async move {
            rx.await
                .unwrap_or_else(|_| Err(TargetError::retryable("answer dropped")))
        }))
    }
}

/// Emits `n` events (acknowledged) to a `TwoInFlight` target taking batches of 10,
/// releases the last answer once everything was handed over, and returns the state.
async fn run(n: usize, fail_once: bool) -> Arc<Mutex<State>> {
    let state = Arc::new(Mutex::new(State {
        fail_once,
        ..State::default()
    }));
    let options = DeliveryOptions {
        batch_max_events: 10,
        retry_initial_backoff_ms: 1,
        retry_max_backoff_ms: 1,
        ..DeliveryOptions::default()
    };
    let d = Dispatcher::builder(NodeId::new("node-1").unwrap())
        .target(
            "two",
            "two",
            Filter::all(),
            options,
            Box::new(TwoInFlight(state.clone())),
        )
        .build()
        .unwrap();
    let d = Arc::new(d);
    let emitter = d.clone();
    let acked = tokio::spawn(async move {
        let drafts = (0..n).map(|i| EventDraft::new(topics::GENERIC, format!("e{i}")));
        emitter.emit_batch_acked(drafts).await.unwrap()
    });
    // Wait until every event was handed over, then answer what is still pending.
    loop {
        {
            let mut s = state.lock().unwrap();
            if s.handed >= n {
                while let Some((earlier, answer)) = s.held.pop_front() {
                    s.taken.extend(earlier);
                    let _ = answer.send(Ok(()));
                }
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let emitted = acked.await.unwrap();
    assert_eq!(emitted.len(), n);
    d.shutdown(Duration::from_secs(10)).await;
    state
}

#[tokio::test]
async fn the_next_batch_is_handed_over_while_the_previous_ones_answer_is_pending() {
    let state = run(50, false).await;
    let s = state.lock().unwrap();
    assert_eq!(s.most_in_flight, 2, "never more than two, and two at times");
    let mut sorted = s.taken.clone();
    sorted.sort_unstable();
    assert_eq!(s.taken, sorted, "taken in order");
    assert_eq!(s.taken.len(), 50, "each once");
}

#[tokio::test]
async fn a_batch_failed_with_the_one_after_it_is_sent_again_first_and_each_event_is_taken_once_in_order(
) {
    let state = run(50, true).await;
    let s = state.lock().unwrap();
    assert_eq!(s.failed, 2, "two batches in flight failed together");
    let mut sorted = s.taken.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(s.taken, sorted, "taken in order, each once");
    assert_eq!(s.taken.len(), 50);
}
