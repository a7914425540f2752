//! The de-duplication of the event server (issue 17) counted by valgrind's `callgrind`:
//! instructions, and with `--cache-sim=yes` the simulated cache misses, per stored
//! event, for the whole cycle a request takes through it (`Dedup::try_admit` of a batch
//! of 1000 fresh events of one node, the new events' receipt keys as the ingest makes
//! them with a chained store, then `Admission::commit`): fingerprints, the
//! window's lookup and insertion, the eviction of the oldest, the reservation of events
//! in flight, the per-node accounting. A count does not move with the machine's load,
//! so two builds compare on a busy machine too.
//!
//! The window is first filled (1 Mi events by default, the server's default window), so
//! that every stored event also evicts one, as at the server's steady state. The bench
//! runs itself under callgrind and counts only [`counted`] (`--toggle-collect`): the
//! admission and commit of [`EVENTS`] more events, made beforehand. (An earlier version
//! subtracted a run without them from a run with them; the two fills' own spread, from
//! random ids and hash seeds, moved that difference by ±500 instructions per event.)
//! What remains random (ids, foldhash's seed) moves the count by a few instructions.
//! The events carry no receive record, so each admission also reads the clock
//! (`Timestamp::now`, ~150 instructions), which the server's events do not.
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
const EVENTS: usize = 100_000;
const BATCH: usize = 1000;

/// The function whose instructions are counted (`--toggle-collect`): admits and commits
/// the batches, nothing else.
#[inline(never)]
fn counted(dedup: &DedupCycle, batches: &[Vec<Event>]) {
    for batch in batches {
        let new = dedup.admit_and_commit(black_box(batch)).unwrap();
        assert_eq!(new, batch.len(), "fresh events only");
    }
}

/// Fills a window of `window` events, then admits and commits `events` more (the
/// counted part), in batches of [`BATCH`] fresh events of one node, numbered in order.
fn run_workload(window: usize, events: usize) {
    let template = Event::from_json(
        r#"{"id":"018f0000-0000-7000-8000-000000000000","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"node-1","seq":1,"message":{"msgType":"login","user":"alice","ok":true,"source":{"ip":"10.0.0.7","port":51234},"detail":"a message of about the size the load generator sends, padded to look like one: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}"#,
    )
    .unwrap();
    let dedup = DedupCycle::new(window);
    let mut seq = 0u64;
    let mut batches = |n: usize| -> Vec<Vec<Event>> {
        (0..n.div_ceil(BATCH))
            .map(|b| {
                (0..BATCH.min(n - b * BATCH))
                    .map(|_| {
                        seq += 1;
                        let mut e = template.clone();
                        e.id = EventId::new();
                        e.seq = seq;
                        e
                    })
                    .collect()
            })
            .collect()
    };
    // Filled batch by batch, so that the fill's events are freed as it goes.
    for _ in 0..window.div_ceil(BATCH) {
        let batch = batches(BATCH).pop().unwrap();
        let _new = dedup.admit_and_commit(&batch).unwrap();
    }
    // Made before the counted part: only admitting and committing is counted.
    let measured = batches(events);
    counted(&dedup, &measured);
}

/// Instructions (and with `cache`, first- and last-level data cache misses) of
/// [`counted`] in this program running the workload, from callgrind's summary lines.
fn count(window: usize, events: usize, cache: bool) -> (u64, Option<(u64, u64)>) {
    let mut cmd = Command::new("valgrind");
    cmd.args([
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        "--collect-atstart=no",
        "--toggle-collect=*dedup_instructions*counted*",
    ]);
    if cache {
        // The last level is given, not read from the CPU: valgrind takes it from
        // `cpuid`, which a virtual machine may answer with any size (this one's said
        // 320 MiB, where every access hits and no miss is counted). 32 MiB, 16-way,
        // 64-byte lines: the L3 `lscpu` reports on the project's machine, about the
        // window's own size at 1 Mi events.
        cmd.args(["--cache-sim=yes", "--LL=33554432,16,64"]);
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
    // `D1  misses:` and `LLd misses:`: data reads and writes that missed the simulated
    // first and last levels.
    let misses = || Some((field("D1  misses:")?, field("LLd misses:")?));
    (ir, cache.then(misses).flatten())
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
    let (ir, misses) = count(window, EVENTS, cache);
    let per = |n: u64| n as f64 / EVENTS as f64;
    println!(
        "dedup admit+commit, window {window}: {:.0} instructions per event (callgrind, {EVENTS} events in batches of {BATCH} after the window was filled)",
        per(ir)
    );
    if let Some((d1, ll)) = misses {
        println!(
            "dedup admit+commit, window {window}: {:.2} D1 and {:.2} last-level (32 MiB) data cache misses per event (callgrind --cache-sim=yes)",
            per(d1),
            per(ll)
        );
    }
}
