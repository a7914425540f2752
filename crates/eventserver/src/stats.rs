//! Per-topic counters for `GET /v1/stats`, since the server started. (Per-node counts,
//! last-seen times and sequence gaps come from de-duplication, which is rebuilt from
//! the store on start.)
//!
//! Topics are whatever clients send (any valid name), so the table is bounded the way
//! the per-node table is (`dedup/mod.rs`, "How many nodes"): at most `max_topics`
//! topics (default [`DEFAULT_MAX_TOPICS`]); beyond, the topic seen **least recently**
//! (by the order batches were recorded, not by time, which a clock corrected backwards
//! would get wrong) is forgotten, its counts added to one aggregate
//! ([`ForgottenTopics`]), so that the topics' counts plus the aggregate's still add up
//! to everything counted. A topic seen again after that starts afresh.

use std::collections::BTreeMap;
use std::sync::Mutex;

use auditrail_core::{Event, Timestamp};
use lru::LruCache;
use serde::Serialize;

/// Default number of topics remembered (far more than a deployment's real topics; the
/// bound is against invented ones): at most ~200 bytes a topic (its name at most 64
/// bytes), ~2 MB.
pub(crate) const DEFAULT_MAX_TOPICS: usize = 10_000;

/// The hasher of the table: topics are chosen by clients, so keyed with a random seed
/// (as the per-node table's, `dedup/mod.rs`).
type Hasher = foldhash::quality::RandomState;

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
        // At most one entry per event: sized once, not grown by doubling.
        let mut tally = TopicTally {
            topics: Vec::new(),
            new: Vec::with_capacity(is_new.len()),
        };
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

/// What the topics forgotten to bound the table had counted (see the module docs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ForgottenTopics {
    /// Times a topic was forgotten (a topic forgotten, seen again and forgotten again
    /// counts twice).
    pub topics: u64,
    /// Their events newly stored (their `accepted` when forgotten).
    pub accepted: u64,
    /// Their duplicates (their `duplicates` when forgotten).
    pub duplicates: u64,
}

/// Live statistics.
#[derive(Debug)]
pub(crate) struct Stats {
    table: Mutex<Table>,
}

#[derive(Debug)]
struct Table {
    max_topics: usize,
    /// Most recently seen last: the `lru` crate (already the per-node table's) keeps
    /// the order in a linked list beside its hash table, so that seeing a topic and
    /// forgetting the least recent one are O(1), under the lock every settled batch
    /// takes.
    topics: LruCache<String, Counts, Hasher>,
    forgotten: ForgottenTopics,
}

impl Default for Stats {
    fn default() -> Self {
        Stats::new(DEFAULT_MAX_TOPICS)
    }
}

impl Stats {
    /// At most `max_topics` topics remembered (at least one).
    pub(crate) fn new(max_topics: usize) -> Stats {
        Stats {
            table: Mutex::new(Table {
                max_topics: max_topics.max(1),
                // Unbounded: the table itself evicts (`pop_lru`), to count what it
                // forgets; a bounded `LruCache` drops the entry it replaces unseen.
                topics: LruCache::unbounded_with_hasher(Hasher::default()),
                forgotten: ForgottenTopics::default(),
            }),
        }
    }

    /// Records one settled batch (its stored and duplicate events).
    pub(crate) fn record(&self, tally: TopicTally, now: Timestamp) {
        let Ok(mut table) = self.table.lock() else {
            return;
        };
        let table = &mut *table;
        for (topic, new, dup) in tally.topics {
            if new == 0 && dup == 0 {
                // Only events that were not stored: not seen, as far as the view goes.
                continue;
            }
            let c = table.topics.get_or_insert_mut(topic, Counts::default);
            c.accepted += new;
            c.duplicates += dup;
            c.last_seen = Some(now);
        }
        // At most the batch's new topics beyond the bound, each O(1).
        while table.topics.len() > table.max_topics {
            let Some((_, c)) = table.topics.pop_lru() else {
                break;
            };
            table.forgotten.topics += 1;
            table.forgotten.accepted += c.accepted;
            table.forgotten.duplicates += c.duplicates;
        }
    }

    /// Snapshot per topic (by name), and what the forgotten topics had counted.
    pub(crate) fn snapshot(&self) -> (BTreeMap<String, Counts>, ForgottenTopics) {
        self.table
            .lock()
            .map(|t| {
                let topics = t
                    .topics
                    .iter()
                    .map(|(k, c)| (k.clone(), c.clone()))
                    .collect();
                (topics, t.forgotten)
            })
            .unwrap_or_default()
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
        let (topics, _) = stats.snapshot();
        assert_eq!(topics.keys().map(String::as_str).collect::<Vec<_>>(), ["a"]);
        assert_eq!((topics["a"].accepted, topics["a"].duplicates), (2, 1));
    }

    /// Records one batch: `accepted` new events and `duplicates` retried ones of each
    /// of `topics`, in that order.
    fn record(stats: &Stats, topics: &[&str], accepted: usize, duplicates: usize) {
        let mut events = Vec::new();
        let mut is_new = Vec::new();
        for t in topics {
            for new in
                std::iter::repeat_n(true, accepted).chain(std::iter::repeat_n(false, duplicates))
            {
                events.push(event(t));
                is_new.push(new);
            }
        }
        stats.record(TopicTally::of(&events, &is_new), Timestamp::now());
    }

    fn names(topics: &BTreeMap<String, Counts>) -> Vec<&str> {
        topics.keys().map(String::as_str).collect()
    }

    /// Per-topic counts plus the forgotten topics' (accepted, duplicates).
    fn counted(stats: &Stats) -> (u64, u64) {
        let (topics, forgotten) = stats.snapshot();
        topics
            .values()
            .fold((forgotten.accepted, forgotten.duplicates), |(a, d), c| {
                (a + c.accepted, d + c.duplicates)
            })
    }

    #[test]
    fn beyond_max_topics_the_least_recently_seen_topic_is_forgotten() {
        let stats = Stats::new(3);
        for t in ["a", "b", "c"] {
            record(&stats, &[t], 2, 1);
        }
        // `a` is seen again: `b` is now the least recently seen, and goes first.
        record(&stats, &["a"], 1, 0);
        record(&stats, &["d"], 1, 0);
        let (topics, forgotten) = stats.snapshot();
        assert_eq!(names(&topics), ["a", "c", "d"]);
        assert_eq!(
            forgotten,
            ForgottenTopics {
                topics: 1,
                accepted: 2,
                duplicates: 1
            }
        );
        // Order of recording, not of time: a batch recorded with an earlier clock
        // (corrected backwards) is still the most recent one.
        record(&stats, &["c"], 1, 0);
        stats.record(
            TopicTally::of(&[event("e")], &[true]),
            "2020-01-01T00:00:00Z".parse().unwrap(),
        );
        let (topics, _) = stats.snapshot();
        // `a`, the least recently seen, went, not `e` (earlier by its time).
        assert_eq!(names(&topics), ["c", "d", "e"]);
    }

    #[test]
    fn forgotten_topics_counts_add_up_to_everything_counted() {
        let stats = Stats::new(2);
        // One batch of more topics than the bound: its last ones are kept.
        record(&stats, &["a", "b", "c", "d"], 3, 2);
        record(&stats, &["e"], 1, 1);
        record(&stats, &["d"], 0, 4);
        let (topics, forgotten) = stats.snapshot();
        assert_eq!(names(&topics), ["d", "e"]);
        assert_eq!(
            forgotten,
            ForgottenTopics {
                topics: 3,
                accepted: 9,
                duplicates: 6
            }
        );
        assert_eq!(counted(&stats), (4 * 3 + 1, 4 * 2 + 1 + 4));
    }

    #[test]
    fn a_forgotten_topic_seen_again_starts_afresh() {
        let stats = Stats::new(1);
        record(&stats, &["a"], 5, 2);
        record(&stats, &["b"], 1, 0);
        record(&stats, &["a"], 1, 0);
        let (topics, forgotten) = stats.snapshot();
        assert_eq!(names(&topics), ["a"]);
        assert_eq!((topics["a"].accepted, topics["a"].duplicates), (1, 0));
        assert_eq!(
            forgotten,
            ForgottenTopics {
                topics: 2,
                accepted: 6,
                duplicates: 2
            },
            "a, then b"
        );
        assert_eq!(counted(&stats), (7, 2));
    }
}
