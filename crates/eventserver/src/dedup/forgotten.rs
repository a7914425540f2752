//! The nodes the bounded per-node table forgot, written down in the data dir
//! ([`FORGOTTEN_NODES_FILE`]) so that a start rebuilds the table as it was.
//!
//! A node forgotten and seen again counts its events from then on, and its numbers
//! below the first one seen again are given up (see the module docs of `dedup`, "How
//! many nodes"). The store cannot tell which of a node's records were counted before it
//! was forgotten: rebuilt from the records alone, such a node counted all of them after
//! a restart (a `count` of 5 became 15), its given-up numbers were counted again (as
//! stored, or as missing), and `nodesForgotten` lost what the forgotten nodes had
//! counted. So each time the table forgets a node, a line says how many events it had
//! counted; each time a node made after a forgetting gives up the numbers below its
//! first one, a line says up to which. At start, a node's first `events` records read
//! (the deleted ones of `.deleted-seqs.jsonl` first) are the forgotten ones: they go to
//! `nodesForgotten` as before the restart, and a node with none left is not in the
//! table, as it was not before; its numbers up to `floor` are given up again.
//!
//! One JSON line per fact, appended as it happens (not fsynced: these are statistics;
//! a line lost in a crash makes the node count all its records again, as before the
//! file existed): `{"node":"n1","times":1,"events":10}` (forgotten with 10 events
//! counted), `{"node":"n1","floor":10,"gaps":1}` (seen again, numbers up to 10 given
//! up). A start folds the lines of each node in order (a forgetting starts the node
//! afresh: its floor before is dropped) and writes the file again with one line per
//! node (fsynced, renamed). A line that cannot be read (a crash in the middle of an
//! append) is skipped with a warning. The nodes of which that start read no record
//! (retention deleted them all) are folded into one line without a node,
//! `{"others":1000,"times":1000,"events":3000}`, keeping `nodesForgotten`: the file
//! is bounded by the nodes that still have records, not by every node ever forgotten
//! (node-id churn).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// File name, in the server's data dir.
pub(crate) const FORGOTTEN_NODES_FILE: &str = "forgotten-nodes.jsonl";

/// What is known of one node's forgettings, folded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Entry {
    /// Times the node was forgotten.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(super) times: u64,
    /// Events it had counted when forgotten, over all of them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(super) events: u64,
    /// Since it was last forgotten: its numbers up to this are given up.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(super) floor: u64,
    /// Since it was last forgotten: gaps given up for that (its `forgottenGaps`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(super) gaps: u64,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's signature
fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Entry {
    /// This entry followed by `later`: a forgetting starts the node afresh.
    fn then(self, later: Entry) -> Entry {
        if later.times > 0 {
            Entry {
                times: self.times + later.times,
                events: self.events + later.events,
                floor: later.floor,
                gaps: later.gaps,
            }
        } else {
            Entry {
                floor: self.floor.max(later.floor),
                gaps: self.gaps + later.gaps,
                ..self
            }
        }
    }
}

/// One line: a node's facts, or (no `node`) the folded forgettings of `others` nodes
/// that left no record behind ([`Ledger::finish_rebuild`]).
#[derive(Serialize, Deserialize)]
struct Line {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    node: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    others: u64,
    #[serde(flatten)]
    entry: Entry,
}

/// The forgettings of nodes folded into one line: how many nodes, and their times and
/// events summed (what `nodesForgotten` counts).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Folded {
    nodes: u64,
    times: u64,
    events: u64,
}

impl Folded {
    fn add(&mut self, nodes: u64, e: &Entry) {
        self.nodes = self.nodes.saturating_add(nodes);
        self.times = self.times.saturating_add(e.times);
        self.events = self.events.saturating_add(e.events);
    }
}

/// A node the file names, while a start rebuilds the table.
#[derive(Debug, Default)]
pub(super) struct Known {
    pub(super) entry: Entry,
    /// Of `entry.events`, those not yet matched with records read.
    left: u64,
    /// Records of it (stored or deleted ones listed) were read by this rebuild: without
    /// any, the node left no trace, and its line is folded ([`Ledger::finish_rebuild`]).
    read: bool,
    /// Its deleted numbers (`.deleted-seqs.jsonl`) read while it had no events left to
    /// count: handed to the node if it is made after all.
    pub(super) deleted: Vec<(u64, u64)>,
}

/// The file, and while a start rebuilds the table, what it says of each node.
#[derive(Debug)]
pub(super) struct Ledger {
    path: PathBuf,
    /// `Some` during a rebuild: what the file said, with this start's own forgettings
    /// added; written back whole at its end ([`Ledger::finish_rebuild`]).
    known: Option<HashMap<String, Known>>,
    /// The folded line of the file, with the nodes this rebuild folds added.
    folded: Folded,
    /// `nodesForgotten.nodes` when the rebuild started (from the file).
    pub(super) forgotten_at_start: u64,
    /// Lines not yet appended (live).
    pending: String,
    file: Option<std::fs::File>,
    /// A write failed, perhaps after part of a line: the next write starts a line.
    broken: bool,
    /// A failure was logged (once: the next ones would say the same).
    warned: bool,
}

impl Ledger {
    /// Reads the file at `path` for a rebuild (none: nothing was ever forgotten). Returns
    /// it with the sum of its forgettings (`nodesForgotten` before the restart).
    pub(super) fn open_for_rebuild(path: &Path) -> (Ledger, u64, u64) {
        let (known, folded) = read(path);
        let (times, events) = known
            .values()
            .fold((folded.times, folded.events), |(t, e), k| {
                (
                    t.saturating_add(k.entry.times),
                    e.saturating_add(k.entry.events),
                )
            });
        let ledger = Ledger {
            path: path.to_owned(),
            known: Some(known),
            folded,
            forgotten_at_start: times,
            pending: String::new(),
            file: None,
            broken: false,
            warned: false,
        };
        (ledger, times, events)
    }

    /// Whether a rebuild is under way.
    pub(super) fn rebuilding(&self) -> bool {
        self.known.is_some()
    }

    /// During a rebuild: `count` events of `node` read. Those of its forgotten events
    /// not yet matched are taken out of `count`. What the file says of the node, if it
    /// names it.
    pub(super) fn discount(&mut self, node: &str, count: &mut u64) -> Option<&mut Known> {
        let known = self.known.as_mut()?.get_mut(node)?;
        known.read = true;
        let take = known.left.min(*count);
        known.left -= take;
        *count -= take;
        Some(known)
    }

    /// The table forgot `node`, which had counted `events`.
    pub(super) fn forgot(&mut self, node: &str, events: u64) {
        self.add(
            node,
            Entry {
                times: 1,
                events,
                ..Entry::default()
            },
        );
    }

    /// `node`, made after a forgetting, gave up its numbers up to `floor`.
    pub(super) fn floor(&mut self, node: &str, floor: u64) {
        self.add(
            node,
            Entry {
                floor,
                gaps: 1,
                ..Entry::default()
            },
        );
    }

    fn add(&mut self, node: &str, entry: Entry) {
        if let Some(known) = &mut self.known {
            let k = known.entry(node.to_owned()).or_default();
            k.entry = k.entry.then(entry);
            // Forgotten or floored during the rebuild: made from records read.
            k.read = true;
            return;
        }
        let line = Line {
            node: Some(node.to_owned()),
            others: 0,
            entry,
        };
        if let Ok(text) = serde_json::to_string(&line) {
            self.pending.push_str(&text);
            self.pending.push('\n');
        }
    }

    /// Appends the lines of what happened since the last call (live).
    pub(super) fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut text = std::mem::take(&mut self.pending);
        if std::mem::take(&mut self.broken) {
            text.insert(0, '\n');
        }
        let written = match &mut self.file {
            Some(f) => f.write_all(text.as_bytes()),
            None => std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .and_then(|mut f| {
                    f.write_all(text.as_bytes())?;
                    self.file = Some(f);
                    Ok(())
                }),
        };
        if let Err(e) = written {
            // A write cut short may have left part of a line: the next lines start on
            // a line of their own, and the start skips the broken one.
            self.file = None;
            self.broken = true;
            if !std::mem::replace(&mut self.warned, true) {
                tracing::warn!(file = %self.path.display(), error = %e, "the list of nodes the per-node table forgot cannot be written: after a restart, those nodes count all their stored events again");
            }
        }
    }

    /// The rebuild is over: the file is written again, one line per node that still
    /// has records (durably), and from now on lines are appended.
    ///
    /// A node of which this rebuild read no record (stored, or listed as deleted) left
    /// no trace: what the line says of it applies to its records at a start, and there
    /// are none (retention deleted them), so its line would only grow the file under
    /// node-id churn, one line per node ever forgotten. Its times and events are
    /// folded into one line without a node, `{"others":N,"times":T,"events":E}`, which
    /// keeps `nodesForgotten`; the node, if it sends again, is a node made after a
    /// forgetting (its numbers below its first one given up), as any other.
    pub(super) fn finish_rebuild(&mut self) {
        let Some(known) = self.known.take() else {
            return;
        };
        let mut lines: Vec<Line> = Vec::new();
        for (node, k) in known {
            if k.entry == Entry::default() {
                continue;
            }
            if !k.read {
                self.folded.add(1, &k.entry);
                continue;
            }
            lines.push(Line {
                node: Some(node),
                others: 0,
                entry: k.entry,
            });
        }
        lines.sort_unstable_by(|a, b| a.node.cmp(&b.node));
        if self.folded != Folded::default() {
            lines.insert(
                0,
                Line {
                    node: None,
                    others: self.folded.nodes,
                    entry: Entry {
                        times: self.folded.times,
                        events: self.folded.events,
                        ..Entry::default()
                    },
                },
            );
        }
        let mut text = String::new();
        for line in &lines {
            if let Ok(l) = serde_json::to_string(line) {
                text.push_str(&l);
                text.push('\n');
            }
        }
        if lines.is_empty() && !self.path.exists() {
            return;
        }
        if let Err(e) = auditrail_core::durable::replace_file(
            &self.path,
            &auditrail_core::durable::tmp_beside(&self.path),
            text.as_bytes(),
        ) {
            self.warned = true;
            tracing::warn!(file = %self.path.display(), error = %e, "the list of nodes the per-node table forgot cannot be written: after a restart, those nodes count all their stored events again");
        }
    }
}

/// Every node the file at `path` names, its lines folded in order, and its folded
/// lines summed; nothing, with a warning, when it cannot be read.
fn read(path: &Path) -> (HashMap<String, Known>, Folded) {
    let mut folded = Folded::default();
    let text = match auditrail_core::regular_file::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (HashMap::new(), folded),
        Err(e) => {
            tracing::warn!(file = %path.display(), error = %e, "the list of nodes the per-node table forgot cannot be read: those nodes count all their stored events again");
            return (HashMap::new(), folded);
        }
    };
    let mut known: HashMap<String, Known> = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Line>(line) {
            Ok(Line {
                node: Some(node),
                entry,
                ..
            }) => {
                let k = known.entry(node).or_default();
                k.entry = k.entry.then(entry);
            }
            Ok(Line {
                node: None,
                others,
                entry,
            }) => folded.add(others, &entry),
            Err(e) => {
                tracing::warn!(file = %path.display(), line = i + 1, error = %e, "skipped a line of the list of nodes the per-node table forgot");
            }
        }
    }
    for k in known.values_mut() {
        k.left = k.entry.events;
    }
    (known, folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_fold_in_order_and_a_forgetting_starts_the_node_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FORGOTTEN_NODES_FILE);
        std::fs::write(
            &path,
            concat!(
                "{\"node\":\"a\",\"times\":1,\"events\":10}\n",
                "{\"node\":\"a\",\"floor\":10,\"gaps\":1}\n",
                "{\"node\":\"b\",\"times\":1,\"events\":2}\n",
                "{\"node\":\"b\",\"floor\":3,\"gaps\":1}\n",
                "{\"node\":\"b\",\"times\":1,\"events\":4}\n",
                "{\"node\":\"c\",\"tim",
            ),
        )
        .unwrap();
        let (mut ledger, times, events) = Ledger::open_for_rebuild(&path);
        assert_eq!((times, events), (3, 16));
        let a = ledger.discount("a", &mut 4).unwrap().entry;
        assert_eq!(
            a,
            Entry {
                times: 1,
                events: 10,
                floor: 10,
                gaps: 1
            }
        );
        // b's six forgotten events are taken from its first records read.
        let mut count = 4;
        ledger.discount("b", &mut count).unwrap();
        assert_eq!(count, 0);
        let mut count = 5;
        let b = ledger.discount("b", &mut count).unwrap().entry;
        assert_eq!(count, 3);
        assert_eq!((b.floor, b.gaps), (0, 0), "forgotten since: afresh");
        ledger.forgot("d", 7);
        ledger.finish_rebuild();
        let (_, times, events) = Ledger::open_for_rebuild(&path);
        assert_eq!((times, events), (4, 23), "written back folded");
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 3);
    }

    /// Under node-id churn (each node forgotten once, its records deleted by retention
    /// since) the file kept one line per node ever forgotten, at every start. Now the
    /// nodes of which a start read no record are folded into one line, their counts
    /// kept.
    #[test]
    fn nodes_that_left_no_record_are_folded_into_one_line_keeping_the_counts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FORGOTTEN_NODES_FILE);
        let mut text = String::new();
        for n in 0..1000 {
            text.push_str(&format!(
                "{{\"node\":\"churn-{n}\",\"times\":1,\"events\":3}}\n"
            ));
        }
        text.push_str("{\"node\":\"kept\",\"times\":1,\"events\":2}\n");
        std::fs::write(&path, text).unwrap();
        let (mut ledger, times, events) = Ledger::open_for_rebuild(&path);
        assert_eq!((times, events), (1001, 3002));
        // Only `kept` has records left in the stores.
        ledger.discount("kept", &mut 5);
        ledger.finish_rebuild();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"others\":1000,\"times\":1000,\"events\":3000}\n\
             {\"node\":\"kept\",\"times\":1,\"events\":2}\n"
        );
        let (mut ledger, times, events) = Ledger::open_for_rebuild(&path);
        assert_eq!((times, events), (1001, 3002), "the counts are kept");
        ledger.discount("kept", &mut 5);
        ledger.forgot("new", 4);
        ledger.finish_rebuild();
        let (_, times, events) = Ledger::open_for_rebuild(&path);
        assert_eq!((times, events), (1002, 3006));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap().lines().count(),
            3,
            "a node forgotten during the rebuild was made from its records: kept"
        );
    }
}
