//! Whether each record is in the partition folder the store's layout puts it in
//! (`misplaced-record`).
//!
//! Queries, retention and the live view find events by folder name alone (topic,
//! routing key, time: docs/query.md); a record moved to another folder keeps its bytes
//! and its chain, so nothing else in verify sees it, while every query selecting by its
//! topic, routing key or time silently misses it. The rule is the writer's own
//! ([`Layout::rightly_in`]: [`Layout::partition_for`], or the verbatim folder of
//! versions before hashed folder names).
//!
//! A store does not record its layout. Given one (the server config's store, `verify
//! --config`) records are judged by it; otherwise by the layouts every record folder
//! has the shape of. Shapes can tell every layout apart except a topic level from a
//! routing-key level when there is one name level: then each record is judged under
//! both and the layout fewer records misfit is the store's (an honest store fits its
//! own layout entirely). When no layout has every folder's shape (a folder moved to
//! another depth), those fitting the most folders are the candidates.
//!
//! Cost: the check runs on the walk's reading thread, not its hashing thread. A
//! record's topic, routing key and timestamp are read at their place in the line
//! ([`Filing::read`], no JSON parsing); a record with the same topic, routing key and
//! time folder as the previous one of its file needs nothing more (one file's records
//! nearly all share them), so the folder is computed once per run of them.

use std::path::{Path, PathBuf};

use auditrail_core::Timestamp;
use auditrail_store::{Filing, Layout, Partitioning};

use super::files::RecordFile;
use super::report::{Problem, ProblemKind, StoreReport};

/// Misplaced records of a store, judged under each candidate layout.
pub(crate) struct Placement {
    candidates: Vec<Layout>,
    /// The layout was given (the store's config), not inferred from the folders.
    given: bool,
    /// Some candidate has a topic level, a routing-key level.
    by_topic: bool,
    by_routing_key: bool,
    /// Bytes of a fixed-form timestamp that name its time folder under every candidate.
    time_bytes: usize,
    /// Per candidate, the records it does not hold where they are.
    found: Vec<StoreReport>,
}

/// The placement state of one record file.
pub(crate) struct FileCheck {
    rel: String,
    /// Its folder, relative to the store root.
    dir: PathBuf,
    /// The values of the last record judged, and which candidates hold it rightly.
    last: Option<Judged>,
}

struct Judged {
    topic: String,
    routing_key: Option<String>,
    /// The start of a timestamp in the writer's fixed form that settles the time folder
    /// under every candidate (`YYYY-MM-DDTHH`, `YYYY-MM-DD` or `YYYY-MM`, see
    /// [`fixed_prefix`]).
    time: [u8; 13],
    /// Bit `i`: candidate `i` holds the record in this file's folder.
    fits: u16,
}

impl Placement {
    /// The candidates for a store whose record files are `files`, and `given` when
    /// its config is known.
    pub(crate) fn new(given: Option<Layout>, files: &[RecordFile]) -> Placement {
        let candidates = match given {
            Some(l) => vec![l],
            None => inferred(files),
        };
        Placement {
            found: candidates.iter().map(|_| StoreReport::default()).collect(),
            by_topic: candidates.iter().any(|l| l.by_topic),
            by_routing_key: candidates.iter().any(|l| l.by_routing_key),
            time_bytes: candidates
                .iter()
                .map(|l| match l.partitioning {
                    Partitioning::Hour => 13,
                    Partitioning::Day => 10,
                    Partitioning::Month => 7,
                })
                .max()
                .unwrap_or(13),
            candidates,
            given: given.is_some(),
        }
    }

    /// No check (a reader of the chain that is not verify: `prove`).
    pub(crate) fn off() -> Placement {
        Placement {
            candidates: Vec::new(),
            given: false,
            by_topic: false,
            by_routing_key: false,
            time_bytes: 13,
            found: Vec::new(),
        }
    }

    /// The state for one record file (`rel`: relative to the store, `/`-separated).
    pub(crate) fn file(rel: &str) -> FileCheck {
        let dir = rel.rsplit_once('/').map_or("", |(dir, _)| dir);
        FileCheck {
            rel: rel.to_string(),
            dir: PathBuf::from(dir),
            last: None,
        }
    }

    /// Judges one record line (the whole line, without its `\n`). Whether the record is
    /// where a candidate layout puts it (`true` without candidates: no check): of two
    /// exact copies of a record, the walk calls the one that is not the copy.
    pub(crate) fn check(
        &mut self,
        file: &mut FileCheck,
        line: &[u8],
        line_no: u64,
        seq: u64,
    ) -> bool {
        if self.candidates.is_empty() {
            return true;
        }
        let filing = match Filing::read(line) {
            Ok(f) => f,
            Err(e) => {
                let p = Problem::error(
                    ProblemKind::MisplacedRecord,
                    format!(
                        "chainSeq {seq}: cannot tell which folder it belongs in, its topic, routing key or timestamp cannot be read ({e})"
                    ),
                )
                .at(&file.rel, line_no)
                .seqs(seq, seq);
                for found in &mut self.found {
                    found.push(p.clone());
                }
                return false;
            }
        };
        let time = fixed_prefix(&filing.timestamp, self.time_bytes);
        if let (Some(last), Some(time)) = (&file.last, time) {
            // A name no candidate has a folder level for does not change the folder
            // (a store without a routing-key level holds many keys in one file).
            if last.time == time
                && (!self.by_topic || last.topic == filing.topic)
                && (!self.by_routing_key
                    || last.routing_key.as_deref() == filing.routing_key.as_deref())
            {
                if last.fits != self.all() {
                    self.misfit(file, &filing, last.fits, line_no, seq);
                }
                return last.fits != 0;
            }
        }
        let fits = match filing.timestamp.parse::<Timestamp>() {
            Ok(t) => self.fits(&file.dir, &filing, &t),
            Err(_) => 0,
        };
        if fits != self.all() {
            self.misfit(file, &filing, fits, line_no, seq);
        }
        file.last = time.map(|time| Judged {
            topic: filing.topic.to_string(),
            routing_key: filing.routing_key.as_deref().map(str::to_string),
            time,
            fits,
        });
        fits != 0
    }

    /// The candidates holding a record with these values in `dir`, as bits.
    fn fits(&self, dir: &Path, f: &Filing<'_>, t: &Timestamp) -> u16 {
        self.candidates
            .iter()
            .enumerate()
            .filter(|(_, l)| l.rightly_in(dir, &f.topic, f.routing_key.as_deref(), t))
            .fold(0, |bits, (i, _)| bits | 1 << i)
    }

    fn all(&self) -> u16 {
        (1u16 << self.candidates.len()) - 1
    }

    /// Reports the record under each candidate that does not hold it where it is.
    fn misfit(&mut self, file: &FileCheck, f: &Filing<'_>, fits: u16, line_no: u64, seq: u64) {
        let t = f.timestamp.parse::<Timestamp>();
        let key = f
            .routing_key
            .as_deref()
            .map_or("no routing key".to_string(), |k| {
                format!("routing key {k:?}")
            });
        for (i, layout) in self.candidates.iter().enumerate() {
            if fits & (1 << i) != 0 {
                continue;
            }
            let belongs = match &t {
                Ok(t) => format!(
                    "belongs in {}/",
                    layout
                        .partition_for(&f.topic, f.routing_key.as_deref(), t)
                        .display()
                ),
                Err(e) => format!("belongs in no folder: {e}"),
            };
            let whose = if self.given {
                "the store's config"
            } else {
                "inferred from its folders"
            };
            let p = Problem::error(
                ProblemKind::MisplacedRecord,
                format!(
                    "chainSeq {seq} (topic {:?}, {key}, timestamp {}) is in folder {}/ but {belongs} (layout {layout}, {whose}): queries selecting by its topic, routing key or time do not read it where it is",
                    f.topic,
                    f.timestamp,
                    file.dir.display(),
                ),
            )
            .at(&file.rel, line_no)
            .seqs(seq, seq);
            self.found[i].push(p);
        }
    }

    /// Reports the misplaced records under the store's layout: the given one, or the
    /// candidate fewest records misfit (the first of [`Layout::all`]'s order on a
    /// tie).
    pub(crate) fn finish(self, report: &mut StoreReport) {
        let total = |r: &StoreReport| r.problem_counts.values().sum::<u64>();
        if let Some(best) = self.found.into_iter().min_by_key(total) {
            report.absorb(best);
        }
    }
}

/// The layouts whose shape every record file's folder has; when none, those of the
/// most folders.
fn inferred(files: &[RecordFile]) -> Vec<Layout> {
    let mut dirs: Vec<&str> = files
        .iter()
        .map(|f| f.rel.rsplit_once('/').map_or("", |(dir, _)| dir))
        .collect();
    dirs.dedup();
    let scored: Vec<(Layout, usize)> = Layout::all()
        .map(|l| {
            let fit = dirs
                .iter()
                .filter(|d| l.decode(Path::new(d)).is_some())
                .count();
            (l, fit)
        })
        .collect();
    let best = scored.iter().map(|(_, n)| *n).max().unwrap_or(0);
    scored
        .into_iter()
        .filter(|(_, n)| *n == best)
        .map(|(l, _)| l)
        .collect()
}

/// The first `n` bytes (at most 13: `YYYY-MM-DDTHH`, zero-filled after `n`) of a
/// timestamp text in the writer's fixed form (`YYYY-MM-DDTHH:MM:SS.mmmZ`, UTC, whose
/// hour, day and month are those of its time folders, a leap second `:60` included),
/// `None` for any other text.
fn fixed_prefix(text: &str, n: usize) -> Option<[u8; 13]> {
    let b = text.as_bytes();
    if !(b.len() == 24 && b[23] == b'Z' && b[13] == b':' && n <= 13) {
        return None;
    }
    let mut out = [0u8; 13];
    out[..n].copy_from_slice(&b[..n]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamps_time_folder_is_read_only_from_the_fixed_form() {
        assert_eq!(
            fixed_prefix("2026-11-29T22:00:00.000Z", 13),
            Some(*b"2026-11-29T22")
        );
        assert_eq!(
            fixed_prefix("2026-11-29T22:00:00.000Z", 7),
            Some(*b"2026-11\0\0\0\0\0\0")
        );
        assert_eq!(fixed_prefix("2026-11-29T22:00:00Z", 13), None);
        assert_eq!(fixed_prefix("2026-11-29T22:00:00.000+01:00", 13), None);
    }
}
