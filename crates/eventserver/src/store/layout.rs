//! Where a record goes: `<topic>/<routing-key>/YYYY/mm/dd/HH/<segment>.jsonl`.

use std::path::{Component, Path, PathBuf};

use auditrail_core::{Event, RoutingKey, Topic};
use chrono::{Datelike, Timelike};

use super::config::Partitioning;
use super::NO_ROUTING_KEY_FOLDER;

/// Digits of a segment file's name (a `u64` has at most 20).
const SEGMENT_DIGITS: usize = 20;
/// Extension of segment files.
pub const SEGMENT_EXT: &str = "jsonl";

/// The folder levels a store uses.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    pub(crate) by_topic: bool,
    pub(crate) by_routing_key: bool,
    pub(crate) partitioning: Partitioning,
}

/// Remembers the last partition computed: the events of a batch mostly share one, and
/// this skips building the path for each of them.
#[derive(Debug, Default)]
pub(crate) struct PartitionCache {
    last: Option<(Topic, Option<RoutingKey>, i64, PathBuf)>,
}

impl PartitionCache {
    pub(crate) fn get(&mut self, layout: &Layout, event: &Event) -> &Path {
        let bucket = layout.bucket(event);
        let hit = matches!(&self.last, Some((t, k, b, _))
            if *b == bucket && t == &event.topic && k == &event.routing_key);
        if !hit {
            self.last = Some((
                event.topic.clone(),
                event.routing_key.clone(),
                bucket,
                layout.partition(event),
            ));
        }
        match &self.last {
            Some((_, _, _, p)) => p,
            None => Path::new(""),
        }
    }
}

impl Layout {
    /// A number that is equal for two timestamps exactly when they fall in the same
    /// time folder.
    fn bucket(&self, event: &Event) -> i64 {
        let t = event.timestamp.as_datetime();
        match self.partitioning {
            Partitioning::Month => i64::from(t.year()) * 12 + i64::from(t.month0()),
            Partitioning::Day => t.timestamp().div_euclid(86_400),
            Partitioning::Hour => t.timestamp().div_euclid(3_600),
        }
    }

    /// The partition folder of `event`, relative to the store root. Time folders come
    /// from the event's own timestamp, in UTC.
    pub(crate) fn partition(&self, event: &Event) -> PathBuf {
        let mut p = PathBuf::new();
        if self.by_topic {
            p.push(event.topic.as_str());
        }
        if self.by_routing_key {
            p.push(
                event
                    .routing_key
                    .as_ref()
                    .map_or(NO_ROUTING_KEY_FOLDER, |k| k.as_str()),
            );
        }
        let t = event.timestamp.as_datetime();
        p.push(format!("{:04}", t.year()));
        p.push(format!("{:02}", t.month()));
        if matches!(self.partitioning, Partitioning::Day | Partitioning::Hour) {
            p.push(format!("{:02}", t.day()));
        }
        if self.partitioning == Partitioning::Hour {
            p.push(format!("{:02}", t.hour()));
        }
        p
    }
}

/// Whether a relative partition path only goes down into ordinary folders (no root,
/// no `..`, no `.`): validated names make this always true; it is checked anyway,
/// because a path that escaped the store root would be a write anywhere on disk.
pub(crate) fn stays_inside(relative: &Path) -> bool {
    relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
}

/// The file name of a segment whose first record has number `first`.
pub fn segment_file_name(first: u64) -> String {
    format!("{first:0SEGMENT_DIGITS$}.{SEGMENT_EXT}")
}

/// The first record number named by a segment file name, or `None` when the name is
/// not a segment's (any other file in the store is left alone).
pub fn parse_segment_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(SEGMENT_EXT)?.strip_suffix('.')?;
    if digits.len() != SEGMENT_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(routing_key: Option<&str>) -> Event {
        let mut v = serde_json::json!({
            "id": "01936f6e-1b2c-7d3e-8f40-123456789abc",
            "timestamp": "2026-11-25T18:55:49.123+02:00",
            "topic": "apinode-query", "node": "n1", "seq": 1,
            "message": {"msgType": "q"}
        });
        if let Some(k) = routing_key {
            v["routingKey"] = k.into();
        }
        Event::from_json(&v.to_string()).unwrap()
    }

    #[test]
    fn hour_partitions_are_utc_under_topic_and_key() {
        let l = Layout {
            by_topic: true,
            by_routing_key: true,
            partitioning: Partitioning::Hour,
        };
        assert_eq!(
            l.partition(&event(Some("svc-a"))),
            Path::new("apinode-query/svc-a/2026/11/25/16")
        );
        assert_eq!(
            l.partition(&event(None)),
            Path::new("apinode-query/_none/2026/11/25/16")
        );
    }

    #[test]
    fn levels_can_be_switched_off() {
        let l = Layout {
            by_topic: false,
            by_routing_key: false,
            partitioning: Partitioning::Month,
        };
        assert_eq!(l.partition(&event(Some("k"))), Path::new("2026/11"));
        let d = Layout {
            partitioning: Partitioning::Day,
            by_routing_key: true,
            ..l
        };
        assert_eq!(d.partition(&event(Some("k"))), Path::new("k/2026/11/25"));
    }

    #[test]
    fn odd_but_valid_routing_keys_stay_inside() {
        let l = Layout {
            by_topic: true,
            by_routing_key: true,
            partitioning: Partitioning::Hour,
        };
        for key in ["...", "..a", "a b", "~", "-x"] {
            assert!(stays_inside(&l.partition(&event(Some(key)))), "{key}");
        }
        assert!(!stays_inside(Path::new("a/../b")));
        assert!(!stays_inside(Path::new("/etc")));
    }

    #[test]
    fn segment_names_round_trip_and_other_files_are_not_segments() {
        assert_eq!(segment_file_name(42), "00000000000000000042.jsonl");
        assert_eq!(
            parse_segment_file_name(&segment_file_name(u64::MAX)),
            Some(u64::MAX)
        );
        assert_eq!(parse_segment_file_name("checkpoints.jsonl"), None);
        assert_eq!(
            parse_segment_file_name("00000000000000000042.jsonl.cut"),
            None
        );
        assert_eq!(parse_segment_file_name("0000000000000000004.jsonl"), None);
    }
}
