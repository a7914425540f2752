//! Delivered events' allocations, used again for the next emitted events.
//!
//! `emit` puts every event in an `Arc`, and the worker drops it once delivered. Both
//! halves cost more than their size says: the allocation is made on the emitting
//! thread and freed on another, and glibc's allocator then takes the emitting
//! thread's arena lock for each free, against that thread's own allocations. In a
//! profile of `file_throughput --bench dispatcher/fsync_off` most futex calls of the
//! process were that lock, and freeing delivered events cost more CPU than encoding
//! and writing them (docs/benchmarks/file.md). So a worker keeps the `Arc`s of
//! delivered events that nothing else holds, and `emit` puts its next event into one
//! of them: the old event is dropped in place, on the emitting thread that made its
//! allocations, and the `Arc`'s own allocation is neither freed nor made again.
//!
//! What is kept is bounded ([`MAX_SPARES`] per dispatcher) and let go once the
//! dispatcher's workers are idle (see `Worker::wait_quietly`), so an idle dispatcher
//! holds no delivered event.

use std::sync::{Arc, Mutex, PoisonError};

use crossbeam_utils::CachePadded;

use crate::event::Event;

/// At most this many spare `Arc`s per dispatcher: two batches of the default size,
/// enough for the emitters to find one while the worker delivers the next batch.
pub(crate) const MAX_SPARES: usize = 2048;

/// Only events whose message text is at most this long are kept (most audit events
/// are a few hundred bytes), so that what a busy dispatcher holds stays near
/// `MAX_SPARES` × 1 KiB whatever it carries: a dispatcher that only routes (an event
/// server's) fills its spares and never empties them until it is idle.
pub(crate) const MAX_SPARE_MESSAGE: usize = 1024;

#[derive(Default)]
pub(crate) struct Spares {
    /// Locked by every emit and by the worker once a batch: on a cache line of its
    /// own, away from whatever the allocator put beside the `Spares`.
    kept: CachePadded<Mutex<Vec<Arc<Event>>>>,
}

impl Spares {
    /// `event` in an `Arc`: a spare one when there is one (the event it held is
    /// dropped here), a new one otherwise. Never waits: an emitter that finds the
    /// spares locked by another allocates.
    pub(crate) fn wrap(&self, event: Event) -> Arc<Event> {
        let spare = match self.kept.try_lock() {
            Ok(mut kept) => kept.pop(),
            Err(_) => None,
        };
        if let Some(mut spare) = spare {
            // Only `Arc`s that nothing else held were kept, and nothing can have
            // cloned one since; `get_mut` checks again all the same.
            if let Some(slot) = Arc::get_mut(&mut spare) {
                *slot = event;
                return spare;
            }
        }
        Arc::new(event)
    }

    /// Up to `n` spare `Arc`s under one lock, for a batch emit to fill with
    /// [`Spares::wrap_taken`] (one lock for the batch instead of one per event); none
    /// when another holds the lock (as [`Spares::wrap`], never waits).
    pub(crate) fn take(&self, n: usize) -> Vec<Arc<Event>> {
        match self.kept.try_lock() {
            Ok(mut kept) => {
                let from = kept.len().saturating_sub(n);
                kept.split_off(from)
            }
            Err(_) => Vec::new(),
        }
    }

    /// [`Spares::wrap`] from spares taken with [`Spares::take`].
    pub(crate) fn wrap_taken(taken: &mut Vec<Arc<Event>>, event: Event) -> Arc<Event> {
        if let Some(mut spare) = taken.pop() {
            if let Some(slot) = Arc::get_mut(&mut spare) {
                *slot = event;
                return spare;
            }
        }
        Arc::new(event)
    }

    /// Puts back the spares a batch emit took and did not fill (up to [`MAX_SPARES`];
    /// the rest are dropped here).
    pub(crate) fn put_back(&self, mut unused: Vec<Arc<Event>>) {
        if unused.is_empty() {
            return;
        }
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        let room = MAX_SPARES.saturating_sub(kept.len()).min(unused.len());
        kept.extend(unused.drain(..room));
    }

    /// Keeps the `Arc`s of `delivered` that nothing else holds (another target may
    /// still have the event queued, a target may keep it) and whose message is small
    /// ([`MAX_SPARE_MESSAGE`]), up to [`MAX_SPARES`] in all; returns the others, for
    /// the caller to drop.
    pub(crate) fn keep(&self, delivered: Vec<Arc<Event>>) -> Vec<Arc<Event>> {
        // Full (nothing emitted since, as in a dispatcher that only routes): no pass
        // over the batch.
        if self
            .kept
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
            >= MAX_SPARES
        {
            return delivered;
        }
        let mut others = Vec::new();
        let mut unique = Vec::with_capacity(delivered.len());
        for mut event in delivered {
            let small = event
                .message
                .text_len()
                .is_some_and(|len| len <= MAX_SPARE_MESSAGE);
            if small && Arc::get_mut(&mut event).is_some() {
                unique.push(event);
            } else {
                others.push(event);
            }
        }
        {
            let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
            let room = MAX_SPARES.saturating_sub(kept.len()).min(unique.len());
            kept.extend(unique.drain(..room));
        }
        others.append(&mut unique);
        others
    }

    /// Lets every kept event go (returned for the caller to drop where it likes).
    pub(crate) fn take_all(&self) -> Vec<Arc<Event>> {
        std::mem::take(&mut *self.kept.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EventDraft, NodeId};

    fn event(i: u64) -> Event {
        EventDraft::new("generic", "spare")
            .field("i", i)
            .complete(&NodeId::new("n1").unwrap(), || i)
            .unwrap()
    }

    /// A kept `Arc` carries the new event, whole, in the allocation of the old one.
    #[test]
    fn a_spare_carries_the_new_event_in_the_old_allocation() {
        let spares = Spares::default();
        let old = Arc::new(event(1));
        let address = Arc::as_ptr(&old);
        assert!(spares.keep(vec![old]).is_empty());
        let new = spares.wrap(event(2));
        assert_eq!(Arc::as_ptr(&new), address);
        assert_eq!(*new, {
            let mut e = event(2);
            (e.id, e.timestamp) = (new.id, new.timestamp);
            e
        });
        assert_eq!(new.message.get("i").unwrap(), 2);
        // None left: a new allocation.
        assert_ne!(Arc::as_ptr(&spares.wrap(event(3))), address);
    }

    /// An event something else still holds is never kept, so never overwritten.
    #[test]
    fn an_event_held_elsewhere_is_not_kept() {
        let spares = Spares::default();
        let held = Arc::new(event(1));
        let weak = Arc::new(event(2));
        let weak_ref = Arc::downgrade(&weak);
        let back = spares.keep(vec![held.clone(), weak]);
        assert_eq!(back.len(), 2);
        assert!(spares.take_all().is_empty());
        drop(back);
        assert_eq!(held.message.get("i").unwrap(), 1);
        assert!(weak_ref.upgrade().is_none());
    }

    /// An event with a message longer than `MAX_SPARE_MESSAGE` is not kept (nor one
    /// whose message is a map), so large events are not held for later emits.
    #[test]
    fn an_event_with_a_large_message_is_not_kept() {
        let spares = Spares::default();
        let large = EventDraft::new("generic", "spare")
            .field("blob", "x".repeat(MAX_SPARE_MESSAGE))
            .complete(&NodeId::new("n1").unwrap(), || 1)
            .unwrap();
        let mut map = serde_json::Map::new();
        map.insert("msgType".into(), "spare".into());
        let as_map = EventDraft::from_message(
            crate::topics::GENERIC,
            crate::Message::from_map(map).unwrap(),
        )
        .complete(&NodeId::new("n1").unwrap(), || 2)
        .unwrap();
        assert_eq!(
            spares.keep(vec![Arc::new(large), Arc::new(as_map)]).len(),
            2
        );
        assert!(spares.take_all().is_empty());
        assert!(spares.keep(vec![Arc::new(event(3))]).is_empty());
    }

    /// No more than `MAX_SPARES` are kept; the rest come back to be dropped.
    #[test]
    fn spares_are_bounded() {
        let spares = Spares::default();
        let many: Vec<_> = (0..MAX_SPARES as u64 + 5)
            .map(|i| Arc::new(event(i)))
            .collect();
        assert_eq!(spares.keep(many).len(), 5);
        assert_eq!(spares.keep(vec![Arc::new(event(0))]).len(), 1);
        assert_eq!(spares.take_all().len(), MAX_SPARES);
        assert!(spares.take_all().is_empty());
    }

    /// Records each event's JSON text (and holds no event).
    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<String>>>);

    #[async_trait::async_trait]
    impl crate::Target for Recorder {
        async fn send(&mut self, batch: &[Arc<Event>]) -> Result<(), crate::TargetError> {
            let mut seen = self.0.lock().unwrap();
            seen.extend(batch.iter().map(|event| event.to_json()));
            Ok(())
        }
    }

    fn dispatcher(target: Recorder) -> crate::Dispatcher {
        crate::Dispatcher::builder(NodeId::new("n1").unwrap())
            .target(
                "rec",
                "recorder",
                crate::Filter::all(),
                Default::default(),
                Box::new(target),
            )
            .build()
            .unwrap()
    }

    /// Events emitted into the `Arc`s of delivered ones arrive whole: each with its own
    /// id, sequence number and message, none a leftover of the event the `Arc` held.
    #[tokio::test]
    async fn events_in_reused_arcs_arrive_whole() {
        let recorder = Recorder::default();
        let d = dispatcher(recorder.clone());
        let mut emitted = Vec::new();
        for round in 0..3u64 {
            for i in 0..50 {
                let e = d
                    .emit(EventDraft::new("generic", "spare").field("i", round * 100 + i))
                    .unwrap();
                emitted.push((e.id, e.seq, round * 100 + i));
            }
            d.flush().await.unwrap();
        }
        let seen = recorder.0.lock().unwrap().clone();
        assert_eq!(seen.len(), emitted.len());
        for (json, (id, seq, i)) in seen.iter().zip(&emitted) {
            let event = Event::from_json(json).unwrap();
            assert_eq!((event.id, event.seq), (*id, *seq), "{json}");
            assert_eq!(event.message.get("i").unwrap(), *i, "{json}");
        }
        assert!(d
            .shutdown(std::time::Duration::from_secs(5))
            .await
            .is_clean());
    }

    /// Once its worker is idle, a dispatcher keeps no delivered event for later emits.
    /// Each event carries a clone of one `Arc` (its receive information, which no
    /// target writes), so that `Arc`'s count says how many events are still held.
    #[tokio::test]
    async fn an_idle_dispatcher_holds_no_delivered_event() {
        let recorder = Recorder::default();
        let d = dispatcher(recorder.clone());
        let marker = Arc::new(crate::Received {
            orig_address: None,
            key_id: None,
            server_timestamp: crate::Timestamp::now(),
            kafka: None,
        });
        for i in 0..10u64 {
            let mut draft = EventDraft::new("generic", "spare").field("i", i);
            draft.received = Some(marker.clone());
            d.emit(draft).unwrap();
        }
        d.flush().await.unwrap();
        assert_eq!(recorder.0.lock().unwrap().len(), 10);
        // The worker lets the spares go when it parks, some 20 ms after its last batch.
        let give_up = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while Arc::strong_count(&marker) > 1 && std::time::Instant::now() < give_up {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(
            Arc::strong_count(&marker),
            1,
            "delivered events are still held by an idle dispatcher"
        );
        assert!(d
            .shutdown(std::time::Duration::from_secs(5))
            .await
            .is_clean());
    }
}
