//! The segment files of a store and their partition values.
//!
//! TEMPORARY SEAM: the store's folder layout belongs to the store. Until its walker is a
//! crate of its own (`auditrail-store`), this module walks the folders itself, following
//! docs/store.md: `<root>/[<topic>/][<routing-key>/]YYYY/mm[/dd[/HH]]/<20 digits>.jsonl`.
//!
//! Which folder levels a store uses is its configuration, not written in the store, so it
//! is learnt from the store itself: the first record of a segment file must lie exactly
//! where that layout would put it. Usually one file settles it; a few more are read
//! while several layouts fit (a routing key spelled like its topic). When the samples
//! cannot tell, nothing is pruned by folder (every file is read: slower, never wrong).

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Timelike, Utc};

use super::{DataFile, LineFormat, Listing, Partition};
use crate::error::QueryError;
use crate::read::{parse_millis, parse_record};

/// Digits of a segment file's name.
const SEGMENT_DIGITS: usize = 20;
/// Most files read to learn a store's layout.
const MAX_SAMPLES: usize = 16;
/// Longest first line read from a sample (a record is far smaller).
const MAX_SAMPLE_LINE: u64 = 16 * 1024 * 1024;

/// Whether `name` is a segment file's (`<20 digits>.jsonl`); `.cut`, `.corrupt`, the
/// checkpoint log and anything else are not.
pub(crate) fn is_segment_name(name: &str) -> bool {
    name.strip_suffix(".jsonl").is_some_and(|digits| {
        digits.len() == SEGMENT_DIGITS && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Depth {
    Month,
    Day,
    Hour,
}

impl Depth {
    fn levels(self) -> usize {
        match self {
            Depth::Month => 2,
            Depth::Day => 3,
            Depth::Hour => 4,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    by_topic: bool,
    by_routing_key: bool,
    depth: Depth,
}

impl Layout {
    fn all() -> impl Iterator<Item = Layout> {
        [false, true].into_iter().flat_map(|t| {
            [false, true].into_iter().flat_map(move |k| {
                [Depth::Month, Depth::Day, Depth::Hour]
                    .into_iter()
                    .map(move |depth| Layout {
                        by_topic: t,
                        by_routing_key: k,
                        depth,
                    })
            })
        })
    }

    fn levels(self) -> usize {
        usize::from(self.by_topic) + usize::from(self.by_routing_key) + self.depth.levels()
    }

    /// The folders the store writes an event into (docs/store.md).
    fn folders(self, topic: &str, routing_key: Option<&str>, at: DateTime<Utc>) -> Vec<String> {
        let mut p = Vec::with_capacity(6);
        if self.by_topic {
            p.push(topic.to_owned());
        }
        if self.by_routing_key {
            p.push(routing_key.unwrap_or("_none").to_owned());
        }
        p.push(format!("{:04}", at.year()));
        p.push(format!("{:02}", at.month()));
        if self.depth != Depth::Month {
            p.push(format!("{:02}", at.day()));
        }
        if self.depth == Depth::Hour {
            p.push(format!("{:02}", at.hour()));
        }
        p
    }

    /// What the folders of a file say, or `None` when they do not follow this layout.
    fn partition(self, folders: &[String]) -> Option<Partition> {
        if folders.len() != self.levels() {
            return None;
        }
        let mut it = folders.iter();
        let topic = if self.by_topic { it.next().cloned() } else { None };
        let routing_key = if self.by_routing_key {
            it.next().cloned()
        } else {
            None
        };
        let num = |s: Option<&String>, len: usize| -> Option<u32> {
            s.filter(|s| s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))?
                .parse()
                .ok()
        };
        let year = i32::try_from(num(it.next(), 4)?).ok()?;
        let month = num(it.next(), 2)?;
        let day = if self.depth == Depth::Month {
            1
        } else {
            num(it.next(), 2)?
        };
        let hour = if self.depth == Depth::Hour {
            num(it.next(), 2)?
        } else {
            0
        };
        let start = NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(hour, 0, 0)?;
        let start = Utc.from_utc_datetime(&start);
        let end = match self.depth {
            Depth::Month => start.checked_add_months(Months::new(1))?,
            Depth::Day => start + chrono::Duration::days(1),
            Depth::Hour => start + chrono::Duration::hours(1),
        };
        Some(Partition {
            topic,
            routing_key,
            time: Some((start.timestamp_millis(), end.timestamp_millis())),
        })
    }
}

struct Segment {
    path: PathBuf,
    folders: Vec<String>,
    size: u64,
}

/// Adds the segment files of the store at `root` to `out`.
pub(super) fn list(root: &Path, out: &mut Listing) -> Result<(), QueryError> {
    if !root.is_dir() {
        return Err(QueryError::NotAFolder {
            path: root.to_path_buf(),
            what: "store",
        });
    }
    let mut segments = Vec::new();
    walk(root, &mut Vec::new(), &mut segments)?;
    // Oldest first along the chain within each partition; stable across runs.
    segments.sort_by(|a, b| a.path.cmp(&b.path));
    let layout = learn_layout(&segments, &mut out.sampled);
    for s in segments {
        let partition = layout
            .and_then(|l| l.partition(&s.folders))
            .unwrap_or_default();
        out.files.push(DataFile {
            path: s.path,
            format: LineFormat::StoreRecord,
            size: s.size,
            partition,
        });
    }
    Ok(())
}

fn walk(dir: &Path, folders: &mut Vec<String>, out: &mut Vec<Segment>) -> Result<(), QueryError> {
    let io = |source| QueryError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let file_type = entry.file_type().map_err(io)?;
        let Ok(name) = entry.file_name().into_string() else {
            continue; // the store never writes a name that is not UTF-8
        };
        if file_type.is_dir() {
            folders.push(name);
            walk(&entry.path(), folders, out)?;
            folders.pop();
        } else if file_type.is_file() && is_segment_name(&name) {
            let size = entry.metadata().map_err(io)?.len();
            out.push(Segment {
                path: entry.path(),
                folders: folders.clone(),
                size,
            });
        }
    }
    Ok(())
}

/// The one layout that puts the first record of each sampled file where it is.
fn learn_layout(segments: &[Segment], sampled: &mut u64) -> Option<Layout> {
    let mut candidates: Vec<Layout> = Layout::all().collect();
    for s in segments.iter().filter(|s| s.size > 0).take(MAX_SAMPLES) {
        let Some((topic, key, at)) = first_record(&s.path) else {
            continue;
        };
        *sampled += 1;
        candidates.retain(|l| l.folders(&topic, key.as_deref(), at) == s.folders);
        if candidates.len() <= 1 {
            break;
        }
    }
    match candidates.as_slice() {
        [one] => Some(*one),
        _ => {
            tracing::debug!(
                layouts = candidates.len(),
                "cannot tell the store's folder layout from its records: no folder pruning"
            );
            None
        }
    }
}

fn first_record(path: &Path) -> Option<(String, Option<String>, DateTime<Utc>)> {
    let file = fs::File::open(path).ok()?;
    let mut line = Vec::new();
    BufReader::new(file.take(MAX_SAMPLE_LINE))
        .read_until(b'\n', &mut line)
        .ok()?;
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    let row = parse_record(&line).ok()?;
    let at = DateTime::from_timestamp_millis(parse_millis(&row.event.timestamp)?)?;
    Some((
        row.event.topic.into_owned(),
        row.event.routing_key.map(|k| k.into_owned()),
        at,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folders(s: &str) -> Vec<String> {
        s.split('/').map(str::to_owned).collect()
    }

    #[test]
    fn hour_folders_give_an_hour_and_the_keys() {
        let l = Layout {
            by_topic: true,
            by_routing_key: true,
            depth: Depth::Hour,
        };
        let p = l.partition(&folders("generic/_none/2026/11/25/16")).unwrap();
        assert_eq!(p.topic.as_deref(), Some("generic"));
        assert_eq!(p.routing_key.as_deref(), Some("_none"));
        let start = parse_millis("2026-11-25T16:00:00Z").unwrap();
        assert_eq!(p.time, Some((start, start + 3_600_000)));
        assert!(l.partition(&folders("generic/2026/11/25/16")).is_none());
        assert!(l.partition(&folders("generic/_none/2026/13/25/16")).is_none());
    }

    #[test]
    fn month_folders_end_at_the_next_month() {
        let l = Layout {
            by_topic: false,
            by_routing_key: false,
            depth: Depth::Month,
        };
        let p = l.partition(&folders("2026/12")).unwrap();
        assert_eq!(
            p.time,
            Some((
                parse_millis("2026-12-01T00:00:00Z").unwrap(),
                parse_millis("2027-01-01T00:00:00Z").unwrap()
            ))
        );
    }

    #[test]
    fn segment_names_are_twenty_digits() {
        assert!(is_segment_name("00000000000000000042.jsonl"));
        assert!(!is_segment_name("00000000000000000042.jsonl.cut"));
        assert!(!is_segment_name("checkpoints.jsonl"));
    }
}
