//! Reading events back from stored files: server store records
//! (`{"clientEvent": {...}, ...}`) and local audit lines (the event itself, plus
//! envelope keys), from every `*.jsonl` / `*.log*` file under a folder.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use auditrail::Timestamp;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

/// A time window; `None` ends are open.
#[derive(Clone, Copy)]
pub struct Window {
    since: Option<Timestamp>,
    until: Option<Timestamp>,
}

impl Window {
    pub fn parse(since: Option<&str>, until: Option<&str>) -> Result<Window> {
        let parse = |flag: &str, v: Option<&str>| -> Result<Option<Timestamp>> {
            v.map(|s| {
                s.parse::<Timestamp>()
                    .with_context(|| format!("--{flag} {s:?}"))
            })
            .transpose()
        };
        Ok(Window {
            since: parse("since", since)?,
            until: parse("until", until)?,
        })
    }

    fn contains(&self, t: &Timestamp) -> bool {
        self.since.is_none_or(|s| *t >= s) && self.until.is_none_or(|u| *t < u)
    }
}

/// One event as read back: the event's JSON, and its timestamp.
pub struct Stored {
    pub event: Value,
    pub timestamp: Timestamp,
}

/// Every event file under a folder, streamed.
pub struct Scan {
    files: Vec<PathBuf>,
    total_bytes: u64,
    window: Window,
    pub skipped_lines: u64,
}

impl Scan {
    pub fn open(dir: &Path, window: Window) -> Result<Scan> {
        if !dir.is_dir() {
            bail!(
                "{}: not a folder (give --dir: a server data dir, a store, or an audit folder)",
                dir.display()
            );
        }
        let mut files = Vec::new();
        collect(dir, &mut files).with_context(|| format!("cannot list {}", dir.display()))?;
        files.sort();
        let total_bytes = files
            .iter()
            .filter_map(|f| f.metadata().ok())
            .map(|m| m.len())
            .sum();
        Ok(Scan {
            files,
            total_bytes,
            window,
            skipped_lines: 0,
        })
    }

    /// Calls `f` for every event in the window, with a progress bar on large inputs.
    pub fn for_each(&mut self, mut f: impl FnMut(Stored)) -> Result<()> {
        let bar = if self.total_bytes > 64 * 1024 * 1024 {
            let bar =
                ProgressBar::with_draw_target(Some(self.total_bytes), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} reading [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar
        } else {
            ProgressBar::hidden()
        };
        for file in &self.files {
            let reader = std::io::BufReader::new(
                std::fs::File::open(file)
                    .with_context(|| format!("cannot open {}", file.display()))?,
            );
            for line in reader.split(b'\n') {
                let line = line.with_context(|| format!("cannot read {}", file.display()))?;
                bar.inc(line.len() as u64 + 1);
                match event_of(&line) {
                    Some(stored) if self.window.contains(&stored.timestamp) => f(stored),
                    Some(_) => {}
                    None if line.iter().all(u8::is_ascii_whitespace) => {}
                    None => self.skipped_lines += 1,
                }
            }
        }
        bar.finish_and_clear();
        Ok(())
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if is_event_file(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn is_event_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    // Checkpoint logs and dead letters are not stored events.
    if name.starts_with("checkpoints") || name.ends_with(".corrupt") {
        return false;
    }
    name.ends_with(".jsonl") || name.contains(".log")
}

/// The event in a stored line: a server record's `clientEvent`, or the line itself when
/// it carries the event's keys (local audit files).
fn event_of(line: &[u8]) -> Option<Stored> {
    let mut value: Value = serde_json::from_slice(line).ok()?;
    let event = match value.get_mut("clientEvent") {
        Some(inner) => inner.take(),
        None => value,
    };
    let timestamp = event.get("timestamp")?.as_str()?.parse().ok()?;
    event.get("message")?.get("msgType")?;
    Some(Stored { event, timestamp })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_server_records_and_local_audit_lines_alike() {
        let record = br#"{"clientEvent":{"topic":"generic","timestamp":"2026-11-25T10:00:00.000Z","message":{"msgType":"x"}},"origAddress":"10.0.0.1","chainSeq":1,"chainHash":"00"}"#;
        let local = br#"{"logger":"audit.generic","topic":"generic","timestamp":"2026-11-25T10:00:00.000Z","message":{"msgType":"x"}}"#;
        for line in [&record[..], &local[..]] {
            let stored = event_of(line).unwrap();
            assert_eq!(stored.event["topic"], "generic");
        }
        assert!(event_of(b"{\"torn\": ").is_none());
        assert!(event_of(br#"{"storeId":"s","seq":3}"#).is_none());
    }
}
