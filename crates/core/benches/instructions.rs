//! Instructions per event on the paths every event takes, counted by valgrind's
//! `callgrind`: a count, not a time, so two builds compare the same on a busy machine
//! and a quiet one (the timings of the criterion benches moved by ±30 % between runs of
//! one binary on the project's shared machine). What a count leaves out: cache misses,
//! branch mispredictions and everything else a time includes, so a change that moves
//! memory rather than instructions is measured by the criterion benches.
//!
//! - `parse`: `Event::from_json_slice` of the event_parse bench's wire events, each
//!   event dropped after (what the event server does for each event of a request,
//!   before storing it).
//! - `write_json`: writing parsed events into a reused buffer (a stored record's
//!   `clientEvent`, a file line, a request body).
//!
//! Run: `cargo bench -p auditrail-core --bench instructions` (or `cargo xtask bench
//! instructions`, which installs valgrind from the distribution's packages when it is
//! missing). The bench runs itself under `valgrind --tool=callgrind` once per workload
//! with [`EVENTS`] events and once with none; the difference divided by [`EVENTS`] is
//! the count per event, with the setup (building the sample, starting the process)
//! taken out.

// A benchmark is not library code: a failed setup should stop it loudly.
#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::process::Command;

use auditrail_core::Event;

#[path = "sample/events.rs"]
mod sample;
use sample::batch;

/// Events per counted run: enough that the per-event count is exact to well under one
/// instruction, few enough that a run under callgrind takes seconds.
const EVENTS: usize = 20_000;

const WORKLOADS: [&str; 2] = ["parse", "write_json"];

/// Runs `workload` over `events` events (the sample batch, cycled).
fn run_workload(workload: &str, events: usize) {
    let wire = batch();
    match workload {
        "parse" => {
            for bytes in wire.iter().cycle().take(events) {
                drop(black_box(Event::from_json_slice(black_box(bytes)).unwrap()));
            }
        }
        "write_json" => {
            let parsed: Vec<Event> = wire
                .iter()
                .map(|b| Event::from_json_slice(b).unwrap())
                .collect();
            let mut out = Vec::with_capacity(512);
            for event in parsed.iter().cycle().take(events) {
                out.clear();
                black_box(event).write_json(&mut out);
                black_box(&out);
            }
        }
        other => panic!("unknown workload {other:?}; known: {WORKLOADS:?}"),
    }
}

/// Instructions of this program running `workload` over `events` events, from
/// callgrind's summary line (`Collected : N`).
fn instructions(workload: &str, events: usize) -> u64 {
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null", "--"])
        .arg(std::env::current_exe().unwrap())
        .args(["--workload", workload, &events.to_string()])
        .output()
        .expect(
            "running valgrind (`cargo xtask bench instructions` installs it; on Debian: \
             apt-get install valgrind)",
        );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "valgrind failed: {stderr}");
    stderr
        .lines()
        .find_map(|line| line.split("Collected :").nth(1))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no `Collected :` line in valgrind's output: {stderr}"))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--workload") {
        let workload = &args[at + 1];
        let events = args[at + 2].parse().unwrap();
        run_workload(workload, events);
        return;
    }
    // `cargo bench` passes `--bench` and maybe a filter: run the workloads it names.
    let filter = args.iter().skip(1).find(|a| !a.starts_with("--"));
    for workload in WORKLOADS {
        if filter.is_some_and(|f| !workload.contains(f.as_str())) {
            continue;
        }
        let base = instructions(workload, 0);
        let with = instructions(workload, EVENTS);
        println!(
            "{workload}: {:.0} instructions per event (callgrind, {EVENTS} events)",
            with.saturating_sub(base) as f64 / EVENTS as f64
        );
    }
}
