//! Where a record goes, and what a folder name means:
//! `<topic>/<routing-key>/YYYY/mm/dd/HH/<first record number, 20 digits>.jsonl`.
//!
//! The writer computes a record's folder with [`Layout::partition_of`]; readers turn a
//! folder back into its [`Partition`] values (topic, routing-key folder, time range)
//! with [`Layout::decode`], so that a query can skip folders outside its time range,
//! topics or routing keys without opening them. Topics and routing keys become folder
//! names through the one rule of [`folder_name`](crate::folder_name).

use std::path::{Component, Path, PathBuf};

use auditrail_core::{Event, RoutingKey, Timestamp, Topic};
use chrono::{Datelike, TimeZone, Timelike, Utc};

use crate::config::{Partitioning, StoreConfig};
use crate::folder_name::{folder_name, is_hashed};

/// The folder of events that have no routing key (when `folder_by_routing_key`).
/// A routing key spelled `_none` shares it; the records themselves tell them apart.
pub const NO_ROUTING_KEY_FOLDER: &str = "_none";
/// Digits of a segment file's name (a `u64` has at most 20).
const SEGMENT_DIGITS: usize = 20;
/// Extension of segment files.
pub const SEGMENT_EXT: &str = "jsonl";

/// The folder levels a store uses (from its [`StoreConfig`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// One folder level per topic (`folder_by_topic`).
    pub by_topic: bool,
    /// One folder level per routing key (`folder_by_routing_key`).
    pub by_routing_key: bool,
    /// Depth of the time folders.
    pub partitioning: Partitioning,
}

impl Default for Layout {
    /// The default config's layout: topic, routing key, hour.
    fn default() -> Layout {
        Layout {
            by_topic: true,
            by_routing_key: true,
            partitioning: Partitioning::Hour,
        }
    }
}

impl From<&StoreConfig> for Layout {
    fn from(c: &StoreConfig) -> Layout {
        Layout {
            by_topic: c.folder_by_topic,
            by_routing_key: c.folder_by_routing_key,
            partitioning: c.partitioning,
        }
    }
}

/// The topic level of a partition folder.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TopicFolder {
    /// A topic that is its own folder name (or a folder an older store made from it).
    Topic(Topic),
    /// The hashed folder name of a topic (see [`folder_name`](crate::folder_name)): the
    /// folder holds that topic's events, whichever it is; the records name it.
    Hashed(String),
}

impl TopicFolder {
    /// The folder's name.
    pub fn name(&self) -> &str {
        match self {
            TopicFolder::Topic(t) => t.as_str(),
            TopicFolder::Hashed(f) => f,
        }
    }

    /// Whether an event with this topic is filed under this folder.
    pub fn may_hold(&self, topic: &Topic) -> bool {
        match self {
            TopicFolder::Topic(t) => t == topic,
            TopicFolder::Hashed(f) => folder_name(topic.as_str()) == f.as_str(),
        }
    }
}

/// The routing-key level of a partition folder.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyFolder {
    /// [`NO_ROUTING_KEY_FOLDER`]: events without a routing key, **and** events whose
    /// routing key is spelled `_none` (the records tell them apart).
    NoKey,
    /// A routing key that is its own folder name (or a folder an older store made from
    /// it, before hashed names).
    Key(RoutingKey),
    /// The hashed folder name of a routing key (see [`folder_name`](crate::folder_name)):
    /// the folder holds that key's events, whichever it is; the records name it.
    Hashed(String),
}

impl KeyFolder {
    /// The folder's name.
    pub fn name(&self) -> &str {
        match self {
            KeyFolder::NoKey => NO_ROUTING_KEY_FOLDER,
            KeyFolder::Key(k) => k.as_str(),
            KeyFolder::Hashed(f) => f,
        }
    }

    /// Whether an event with this routing key is filed under this folder.
    pub fn may_hold(&self, routing_key: Option<&RoutingKey>) -> bool {
        match (self, routing_key) {
            (KeyFolder::NoKey, None) => true,
            (KeyFolder::NoKey, Some(k)) => k.as_str() == NO_ROUTING_KEY_FOLDER,
            (KeyFolder::Key(f), Some(k)) => f == k,
            // An older store may have used a key spelled like a hashed name verbatim.
            (KeyFolder::Hashed(f), Some(k)) => {
                folder_name(k.as_str()) == f.as_str() || k.as_str() == f
            }
            (KeyFolder::Key(_) | KeyFolder::Hashed(_), None) => false,
        }
    }
}

/// The time folder of a partition: `YYYY/mm`, `YYYY/mm/dd` or `YYYY/mm/dd/HH`, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeFolder {
    /// The year.
    pub year: i32,
    /// The month, 1 to 12.
    pub month: u32,
    /// The day of the month (day and hour partitioning).
    pub day: Option<u32>,
    /// The hour, 0 to 23 (hour partitioning).
    pub hour: Option<u32>,
}

impl TimeFolder {
    /// The first instant the folder holds (inclusive).
    pub fn start(&self) -> Timestamp {
        let start = Utc
            .with_ymd_and_hms(
                self.year,
                self.month,
                self.day.unwrap_or(1),
                self.hour.unwrap_or(0),
                0,
                0,
            )
            .single()
            .unwrap_or_default();
        Timestamp::from(start)
    }

    /// The first instant after the folder (exclusive end of its range).
    pub fn end(&self) -> Timestamp {
        let start = *self.start().as_datetime();
        let end = match (self.day, self.hour) {
            (Some(_), Some(_)) => start + chrono::Duration::hours(1),
            (Some(_), None) => start + chrono::Duration::days(1),
            _ => start
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(start),
        };
        Timestamp::from(end)
    }
}

/// What a partition folder holds, decoded from its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Partition {
    /// The topic folder (`None` when the store has no topic level).
    pub topic: Option<TopicFolder>,
    /// The routing-key folder (`None` when the store has no routing-key level).
    pub routing_key: Option<KeyFolder>,
    /// The time folder. Time folders come from the event's own timestamp.
    pub time: TimeFolder,
}

/// Remembers the last partition computed: the events of a batch mostly share one, and
/// this skips building the path for each of them.
#[derive(Debug, Default)]
pub(crate) struct PartitionCache {
    last: Option<(Topic, Option<RoutingKey>, i64, PathBuf)>,
}

impl PartitionCache {
    pub(crate) fn get(&mut self, layout: &Layout, event: &Event) -> &Path {
        self.get_and_hit(layout, event).0
    }

    /// [`PartitionCache::get`], and whether the partition is the one the previous call
    /// returned.
    pub(crate) fn get_and_hit(&mut self, layout: &Layout, event: &Event) -> (&Path, bool) {
        let bucket = layout.bucket(event);
        let hit = matches!(&self.last, Some((t, k, b, _))
            if *b == bucket && t == &event.topic && k == &event.routing_key);
        if !hit {
            self.last = Some((
                event.topic.clone(),
                event.routing_key.clone(),
                bucket,
                layout.partition_of(event),
            ));
        }
        match &self.last {
            Some((_, _, _, p)) => (p, hit),
            None => (Path::new(""), false),
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

    /// The partition folder of `event`, relative to the store root: its topic's and
    /// routing key's [folder names](crate::folder_name), then the time folders, which
    /// come from the event's own timestamp, in UTC. The writer files every record here.
    pub fn partition_of(&self, event: &Event) -> PathBuf {
        self.partition_for(
            event.topic.as_str(),
            event.routing_key.as_ref().map(RoutingKey::as_str),
            &event.timestamp,
        )
    }

    /// [`Layout::partition_of`] from the values alone (a stored record's topic, routing
    /// key and timestamp, read without parsing the whole event): the one rule of where a
    /// record belongs, which the writer files by and `auditrail verify` checks against.
    ///
    /// ```
    /// use auditrail_store::Layout;
    /// let t = "2026-11-29T22:00:00.000Z".parse().unwrap();
    /// let p = Layout::default().partition_for("authfail", Some("Deployment 42"), &t);
    /// assert!(p.to_str().unwrap().starts_with("authfail/deployment_42~"));
    /// assert!(p.ends_with("2026/11/29/22"));
    /// ```
    pub fn partition_for(
        &self,
        topic: &str,
        routing_key: Option<&str>,
        timestamp: &Timestamp,
    ) -> PathBuf {
        self.folders(
            &folder_name(topic),
            routing_key.map(folder_name).as_deref(),
            timestamp,
        )
    }

    /// The partition folder a store written before hashed folder names (before
    /// `folder_name`, commit 6c3a297) gave a record: its topic and routing key
    /// verbatim. `None` when that is [`Layout::partition_for`] (plain names, or levels
    /// switched off). Readers still find a record there by its values
    /// ([`TopicFolder::Topic`], [`KeyFolder::Key`] name the folder's values exactly),
    /// so it is a place a record may rightly be in.
    pub fn partition_before_hashed_names(
        &self,
        topic: &str,
        routing_key: Option<&str>,
        timestamp: &Timestamp,
    ) -> Option<PathBuf> {
        let topic_differs = self.by_topic && folder_name(topic) != topic;
        let key_differs = self.by_routing_key && routing_key.is_some_and(|k| folder_name(k) != k);
        // Names validation refuses were never written, so never folder names (and a
        // verbatim name of a record read from disk must not be taken for a path).
        let valid =
            || Topic::new(topic).is_ok() && routing_key.is_none_or(|k| RoutingKey::new(k).is_ok());
        ((topic_differs || key_differs) && valid())
            .then(|| self.folders(topic, routing_key, timestamp))
    }

    /// Whether a record with these values is rightly in `dir` (relative to the store
    /// root): [`Layout::partition_for`], or [`Layout::partition_before_hashed_names`].
    pub fn rightly_in(
        &self,
        dir: &Path,
        topic: &str,
        routing_key: Option<&str>,
        timestamp: &Timestamp,
    ) -> bool {
        self.partition_for(topic, routing_key, timestamp) == dir
            || self
                .partition_before_hashed_names(topic, routing_key, timestamp)
                .is_some_and(|p| p == dir)
    }

    /// The folders of a record whose topic and routing key have the given folder names.
    /// The time folder an event dated `timestamp` is filed in (UTC): its range's
    /// [`end`](TimeFolder::end) is what retention by age compares with its cut-off.
    ///
    /// ```
    /// use auditrail_store::{Layout, Partitioning};
    /// let t = "2026-11-29T22:15:00.000Z".parse().unwrap();
    /// let day = Layout { partitioning: Partitioning::Day, ..Layout::default() };
    /// assert_eq!(day.time_folder(&t).end().to_string(), "2026-11-30T00:00:00.000Z");
    /// ```
    pub fn time_folder(&self, timestamp: &Timestamp) -> TimeFolder {
        let t = timestamp.as_datetime();
        let (day, hour) = match self.partitioning {
            Partitioning::Month => (None, None),
            Partitioning::Day => (Some(t.day()), None),
            Partitioning::Hour => (Some(t.day()), Some(t.hour())),
        };
        TimeFolder {
            year: t.year(),
            month: t.month(),
            day,
            hour,
        }
    }

    fn folders(&self, topic: &str, routing_key: Option<&str>, timestamp: &Timestamp) -> PathBuf {
        let mut p = PathBuf::new();
        if self.by_topic {
            p.push(topic);
        }
        if self.by_routing_key {
            p.push(routing_key.unwrap_or(NO_ROUTING_KEY_FOLDER));
        }
        let t = timestamp.as_datetime();
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

    /// The values of a partition folder (relative to the store root), or `None` when
    /// the folder does not have this layout's shape (another layout wrote it, or it is
    /// not a partition folder at all).
    ///
    /// ```
    /// use auditrail_store::{KeyFolder, Layout};
    /// let p = Layout::default().decode("generic/_none/2026/11/25/16".as_ref()).unwrap();
    /// assert_eq!(p.topic.unwrap().name(), "generic");
    /// assert_eq!(p.routing_key, Some(KeyFolder::NoKey));
    /// assert_eq!(p.time.start().to_string(), "2026-11-25T16:00:00.000Z");
    /// assert_eq!(p.time.end().to_string(), "2026-11-25T17:00:00.000Z");
    /// ```
    pub fn decode(&self, relative: &Path) -> Option<Partition> {
        let mut parts = Vec::with_capacity(6);
        for c in relative.components() {
            match c {
                Component::Normal(s) => parts.push(s.to_str()?),
                _ => return None,
            }
        }
        let time_levels = match self.partitioning {
            Partitioning::Month => 2,
            Partitioning::Day => 3,
            Partitioning::Hour => 4,
        };
        let expected = usize::from(self.by_topic) + usize::from(self.by_routing_key) + time_levels;
        if parts.len() != expected {
            return None;
        }
        let mut at = parts.into_iter();
        let topic = match self.by_topic {
            true => Some(match at.next()? {
                f if is_hashed(f) => TopicFolder::Hashed(f.to_owned()),
                t => TopicFolder::Topic(Topic::new(t).ok()?),
            }),
            false => None,
        };
        let routing_key = match self.by_routing_key {
            true => Some(match at.next()? {
                NO_ROUTING_KEY_FOLDER => KeyFolder::NoKey,
                f if is_hashed(f) => KeyFolder::Hashed(f.to_owned()),
                k => KeyFolder::Key(RoutingKey::new(k).ok()?),
            }),
            false => None,
        };
        let year = number(at.next()?, 4)?;
        let month = number(at.next()?, 2)?;
        let day = match time_levels >= 3 {
            true => Some(number(at.next()?, 2)?),
            false => None,
        };
        let hour = match time_levels == 4 {
            true => Some(number(at.next()?, 2)?),
            false => None,
        };
        // A real date and hour only (the writer never makes another).
        Utc.with_ymd_and_hms(
            i32::try_from(year).ok()?,
            month,
            day.unwrap_or(1),
            hour.unwrap_or(0),
            0,
            0,
        )
        .single()?;
        Some(Partition {
            topic,
            routing_key,
            time: TimeFolder {
                year: i32::try_from(year).ok()?,
                month,
                day,
                hour,
            },
        })
    }
}

/// A folder name of exactly `digits` ASCII digits, as a number.
fn number(s: &str, digits: usize) -> Option<u32> {
    (s.len() == digits && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
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
            l.partition_of(&event(Some("svc-a"))),
            Path::new("apinode-query/svc-a/2026/11/25/16")
        );
        assert_eq!(
            l.partition_of(&event(None)),
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
        assert_eq!(l.partition_of(&event(Some("k"))), Path::new("2026/11"));
        let d = Layout {
            partitioning: Partitioning::Day,
            by_routing_key: true,
            ..l
        };
        assert_eq!(d.partition_of(&event(Some("k"))), Path::new("k/2026/11/25"));
    }

    #[test]
    fn odd_but_valid_routing_keys_stay_inside() {
        let l = Layout {
            by_topic: true,
            by_routing_key: true,
            partitioning: Partitioning::Hour,
        };
        for key in ["...", "..a", "a b", "~", "-x"] {
            assert!(stays_inside(&l.partition_of(&event(Some(key)))), "{key}");
        }
        assert!(!stays_inside(Path::new("a/../b")));
        assert!(!stays_inside(Path::new("/etc")));
    }

    #[test]
    fn every_written_folder_decodes_to_the_event_values() {
        for (by_topic, by_routing_key) in
            [(true, true), (true, false), (false, true), (false, false)]
        {
            for partitioning in [Partitioning::Month, Partitioning::Day, Partitioning::Hour] {
                let l = Layout {
                    by_topic,
                    by_routing_key,
                    partitioning,
                };
                for key in [
                    Some("svc-a"),
                    None,
                    Some("_none"),
                    Some(".hidden"),
                    Some("Deployment 42"),
                ] {
                    let e = event(key);
                    let p = l.decode(&l.partition_of(&e)).unwrap();
                    assert_eq!(p.topic.is_some(), by_topic);
                    if let Some(t) = &p.topic {
                        assert!(t.may_hold(&e.topic));
                    }
                    match &p.routing_key {
                        Some(f) => assert!(f.may_hold(e.routing_key.as_ref()), "{f:?}"),
                        None => assert!(!by_routing_key),
                    }
                    assert!(p.time.start() <= e.timestamp && e.timestamp < p.time.end());
                }
            }
        }
    }

    #[test]
    fn folders_of_another_shape_do_not_decode() {
        let l = Layout::default();
        for bad in [
            "generic/svc-a/2026/11/25",
            "generic/svc-a/2026/13/25/16",
            "generic/svc-a/2026/11/25/24",
            "generic/svc-a/26/11/25/16",
            "Generic/svc-a/2026/11/25/16",
            "generic/svc-a/2026/11/25/16/x",
            "generic/svc-a/2026/02/30/16",
        ] {
            assert_eq!(l.decode(Path::new(bad)), None, "{bad}");
        }
        let month = Layout {
            partitioning: Partitioning::Month,
            ..l
        }
        .decode(Path::new("generic/k/2026/12"))
        .unwrap();
        assert_eq!(month.time.end().to_string(), "2027-01-01T00:00:00.000Z");
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
