//! The de-duplication of the event server (issue 17) counted by valgrind's `callgrind`:
//! instructions, and with `--cache-sim=yes` the simulated cache misses, per stored
//! event, for the whole cycle a request takes through it (`Dedup::try_admit` of a batch
//! of 1000 fresh events of one node, then `Admission::commit`): fingerprints, the
//! window's lookup and insertion, the eviction of the oldest, the reservation of events
//! in flight, the per-node accounting. A count does not move with the machine's load,
//! so two builds compare on a busy machine too.
//!
//! The window is first filled (1 Mi events by default, the server's default window), so
//! that every stored event also evicts one, as at the server's steady state. The bench
//! runs itself under callgrind once with [`EVENTS`] more events and once with none; the
//! difference divided by [`EVENTS`] is the count per event, without the filling.
//!
//! Run: `cargo bench -p auditrail-eventserver --bench dedup_instructions` (valgrind from
//! the distribution's packages); `-- --window N` for another window, `-- --cache` to
//! simulate the caches as well (much slower).

// A benchmark is not library code: a failed setup should stop it loudly.
#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::process::Command;

use auditrail_core::{Event, EventId};
use auditrail_eventserver::__bench::DedupCycle;

/// Events per counted run: enough for a stable count per event.
const EVENTS: usize = 50_000;
const BATCH: usize = 1000;

/// Fills a window of `window` events, then admits and commits `events` more, in
/// batches of [`BATCH`] fresh events of one node, numbered in order.
fn run_workload(window: usize, events: usize) {
    let template = Event::from_json(
        r#"{"id":"018f0000-0000-7000-8000-000000000000","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"node-1","seq":1,"message":{"msgType":"login","user":"alice","ok":true,"source":{"ip":"10.0.0.7","port":51234},"detail":"a message of about the size the load generator sends, padded to look like one: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}"#,
    )
    .unwrap();
    let dedup = DedupCycle::new(window);
    let mut seq = 0u64;
    let mut batch = Vec::with_capacity(BATCH);
    let mut run = |n: usize, batch: &mut Vec<Event>| {
        let mut left = n;
        while left > 0 {
            batch.clear();
            for _ in 0..left.min(BATCH) {
                seq += 1;
                let mut e = template.clone();
                e.id = EventId::new();
                e.seq = seq;
                batch.push(e);
            }
            left -= batch.len();
            let new = dedup.admit_and_commit(black_box(batch)).unwrap();
            assert_eq!(new, batch.len(), "fresh events only");
        }
    };
    run(window, &mut batch);
    run(events, &mut batch);
}

/// Instructions (and with `cache`, last-level cache misses) of this program running
/// the workload, from callgrind's summary lines.
fn count(window: usize, events: usize, cache: bool) -> (u64, Option<u64>) {
    let mut cmd = Command::new("valgrind");
    cmd.args(["--tool=callgrind", "--callgrind-out-file=/dev/null"]);
    if cache {
        cmd.arg("--cache-sim=yes");
    }
    let out = cmd
        .arg("--")
        .arg(std::env::current_exe().unwrap())
        .args(["--workload", &window.to_string(), &events.to_string()])
        .output()
        .expect("running valgrind (on Debian: apt-get install valgrind)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "valgrind failed: {stderr}");
    let field = |name: &str| -> Option<u64> {
        stderr.lines().find_map(|line| {
            let rest = line.split(name).nth(1)?;
            rest.split_whitespace()
                .next()?
                .replace(',', "")
                .parse()
                .ok()
        })
    };
    let ir = field("Collected :")
        .unwrap_or_else(|| panic!("no `Collected :` line in valgrind's output: {stderr}"));
    // `LLd misses:` (data reads and writes that missed the simulated last level).
    (ir, cache.then(|| field("LLd misses:")).flatten())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--workload") {
        run_workload(args[at + 1].parse().unwrap(), args[at + 2].parse().unwrap());
        return;
    }
    let window = args
        .iter()
        .position(|a| a == "--window")
        .map_or(1 << 20, |at| args[at + 1].parse().unwrap());
    let cache = args.iter().any(|a| a == "--cache");
    let base = count(window, 0, cache);
    let with = count(window, EVENTS, cache);
    let per = |a: u64, b: u64| a.saturating_sub(b) as f64 / EVENTS as f64;
    println!(
        "dedup admit+commit, window {window}: {:.0} instructions per event (callgrind, {EVENTS} events in batches of {BATCH})",
        per(with.0, base.0)
    );
    if let (Some(w), Some(b)) = (with.1, base.1) {
        println!(
            "dedup admit+commit, window {window}: {:.2} last-level data cache misses per event (callgrind --cache-sim=yes)",
            per(w, b)
        );
    }
}
