//! Per-topic counters for `GET /v1/stats`, since the server started. (Per-node counts,
//! last-seen times and sequence gaps come from de-duplication, which is rebuilt from
//! the store on start.)

use std::collections::BTreeMap;
use std::sync::Mutex;

use auditrail_core::{Event, Timestamp};
use serde::Serialize;

/// Counters of one topic.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Counts {
    /// Events newly stored since start.
    pub accepted: u64,
    /// Retried events already stored, since start.
    pub duplicates: u64,
    /// Server time of the last event received.
    pub last_seen: Option<Timestamp>,
}

/// New and duplicate events of one batch, per topic (usually one or two entries), with
/// the topic of each new event: a new event that was not stored after all (a
/// destination refused it) is left out before the tally is recorded.
#[derive(Debug, Default)]
pub(crate) struct TopicTally {
    /// Per topic: its name, its new events, its duplicates.
    topics: Vec<(String, u64, u64)>,
    /// For each new event, in batch order: its topic's index in `topics`.
    new: Vec<u32>,
}

impl TopicTally {
    /// Tallies a batch: `is_new[i]` tells whether event `i` is stored now.
    pub(crate) fn of<'a>(
        events: impl IntoIterator<Item = &'a Event>,
        is_new: &[bool],
    ) -> TopicTally {
        let mut tally = TopicTally::default();
        let mut index = BTreeMap::<&'a str, u32>::new();
        let mut last: Option<(&'a str, u32)> = None;
        for (e, &new) in events.into_iter().zip(is_new) {
            let topic = e.topic.as_str();
            let i = match last {
                Some((t, i)) if t == topic => i,
                _ => *index.entry(topic).or_insert_with(|| {
                    tally.topics.push((topic.to_owned(), 0, 0));
                    u32::try_from(tally.topics.len() - 1).unwrap_or(u32::MAX)
                }),
            };
            last = Some((topic, i));
            let Some(c) = tally.topics.get_mut(i as usize) else {
                continue;
            };
            if new {
                c.1 += 1;
                tally.new.push(i);
            } else {
                c.2 += 1;
            }
        }
        tally
    }

    /// Leaves out the new events that were not stored (`stored(k)`: the `k`-th new
    /// event, in batch order): they are neither accepted nor duplicates.
    pub(crate) fn keep_stored(&mut self, stored: impl Fn(usize) -> bool) {
        for (k, &i) in self.new.iter().enumerate() {
            if !stored(k) {
                if let Some(c) = self.topics.get_mut(i as usize) {
                    c.1 = c.1.saturating_sub(1);
                }
            }
        }
    }

    /// Events stored now.
    pub(crate) fn accepted(&self) -> u64 {
        self.topics.iter().map(|c| c.1).sum()
    }

    /// Events already stored.
    pub(crate) fn duplicates(&self) -> u64 {
        self.topics.iter().map(|c| c.2).sum()
    }
}

/// Live statistics.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    topics: Mutex<BTreeMap<String, Counts>>,
}

impl Stats {
    /// Records one settled batch (its stored and duplicate events).
    pub(crate) fn record(&self, tally: TopicTally, now: Timestamp) {
        let Ok(mut topics) = self.topics.lock() else {
            return;
        };
        for (topic, new, dup) in tally.topics {
            if new == 0 && dup == 0 {
                // Only events that were not stored: not seen, as far as the view goes.
                continue;
            }
            let c = topics.entry(topic).or_default();
            c.accepted += new;
            c.duplicates += dup;
            c.last_seen = Some(now);
        }
    }

    /// Snapshot per topic.
    pub(crate) fn snapshot(&self) -> BTreeMap<String, Counts> {
        self.topics.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(topic: &str) -> Event {
        Event::from_json(&format!(
            r#"{{"id":"{}","timestamp":"2026-11-25T16:55:49.123Z","topic":"{topic}","node":"n1","seq":1,"message":{{"msgType":"x"}}}}"#,
            auditrail_core::EventId::new()
        ))
        .unwrap()
    }

    #[test]
    fn new_events_not_stored_are_left_out_and_their_topic_is_not_seen() {
        let events = [event("a"), event("b"), event("a"), event("c"), event("a")];
        // Events 0, 1, 3 and 4 are new (the 0th to 3rd new ones), 2 is a duplicate.
        let mut tally = TopicTally::of(&events, &[true, true, false, true, true]);
        assert_eq!((tally.accepted(), tally.duplicates()), (4, 1));
        // The 1st (topic b) and 2nd (topic c) new events were not stored.
        tally.keep_stored(|k| k != 1 && k != 2);
        assert_eq!((tally.accepted(), tally.duplicates()), (2, 1));
        let stats = Stats::default();
        stats.record(tally, Timestamp::now());
        let topics = stats.snapshot();
        assert_eq!(topics.keys().map(String::as_str).collect::<Vec<_>>(), ["a"]);
        assert_eq!((topics["a"].accepted, topics["a"].duplicates), (2, 1));
    }
}
