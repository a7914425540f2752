//! The scale bench's results as Markdown, and their place in docs/benchmarks.md.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::round::{Config, Round};
use crate::bench_report::{range, rate, thousands, Run};

const BEGIN: &str = "<!-- `cargo xtask bench scale` writes from here to the end marker -->";
const END: &str = "<!-- end of `cargo xtask bench scale` output -->";
const HEADING: &str = "## Scale-out: storing servers as a Kafka consumer group";

/// How the topic was filled.
pub(super) struct Load {
    pub seconds: f64,
    pub bytes: u64,
    pub per_partition: String,
}

/// How, when and where the rounds ran.
pub(super) struct Conditions {
    pub run: Run,
    pub broker: String,
    pub auditrail_version: String,
    pub load: Load,
    pub rounds: usize,
    pub events: u64,
    pub partitions: u32,
    pub nodes: u64,
    pub event_bytes: u64,
    pub fetch_wait_ms: u64,
    pub batch_records: u64,
}

/// The whole report.
pub(super) fn markdown(c: &Conditions, rounds: &[Round]) -> String {
    let mut s = c.run.header("stores");
    let _ = writeln!(
        s,
        "- Load average (1 min) {} at the start, {} at the end. The machine is shared \
         (other engineers' builds and tests run on the same cores), so absolute numbers \
         drift between rounds and runs; compare the configurations within one round.",
        c.run.load_before, c.run.load_after
    );
    let _ = writeln!(
        s,
        "- Broker: {}, on the same machine. Topic: {} partitions holding {} events of ~{} \
         bytes (the event's JSON as the value, the node id as the key, the `auditrail-*` \
         headers, as the `kafka` target writes them) from {} nodes spread evenly over the \
         partitions (events per partition: {}), produced once at {:.0} events/s before \
         the rounds.",
        c.broker,
        c.partitions,
        thousands(c.events),
        c.event_bytes,
        c.nodes,
        c.load.per_partition.replace(',', ", "),
        c.events as f64 / c.load.seconds.max(1e-9),
    );
    let _ = writeln!(
        s,
        "- Rounds: {}, each the bare consumer then every server count, each in a fresh \
         consumer group reading the whole topic; the servers (release build, {}, \
         `[[sources]] type = \"kafka\"` with a shared `store_root` and signing key, \
         `session.timeout.ms = 6000`, `heartbeat.interval.ms = 500` (as in the \
         end-to-end test: a rebalance waits for a heartbeat, 3 s by default), \
         `fetch.wait.max.ms = {}` (see below), everything else default: durable group commit, chain, checkpoints) start at once with a fresh, empty `store_root`. Timed from the \
         moment the group gave every consumer its share of the partitions to the last \
         event stored (the sum of `auditrail_kafka_source_events_stored_total`, `/metrics` \
         read every 100 ms) or read; the group's first member starts storing while the \
         others join, and what it stored before the group settled is left out of the \
         window (the notes say how much; the last column is the whole wait from the \
         processes' start); CPU is `utime + stime` (`/proc/PID/stat`) of the \
         consumer, or of all servers summed, over the same window. The bare consumer is \
         rdkafka's `BaseConsumer` with the source's own consumer properties and the same \
         fetch wait, counting records and doing nothing else \
         (`crates/target-kafka/examples/kafka-scale.rs`). \
         After each round the servers stop (SIGTERM) and `auditrail verify` checks every \
         partition store with the group's public key and counts its records.",
        c.rounds, c.auditrail_version, c.fetch_wait_ms
    );
    let _ = writeln!(
        s,
        "- Producer batches: {} record(s) per batch when the topic is filled \
         (`--batch-records`). tansu 0.6 answers a fetch at an offset inside a record batch \
         with the next batch, so a consumer that resumes mid-batch (a new owner at its \
         store's offset) would skip the rest of that batch; with one record per batch \
         every offset starts a batch (docs/scale-out.md, \"Numbers\").",
        c.batch_records
    );
    let _ = writeln!(
        s,
        "- Fetch wait: tansu 0.6 answers a fetch only once `fetch.wait.max.ms` has passed, \
         even when records are waiting; with librdkafka's default of 500 ms (and 1 MiB per \
         partition per fetch) every consumer, bare or storing, is held to about 2 MB/s per \
         partition (measured: 46 K records/s for the bare consumer over 6 partitions, \
         against ~400 K with 10 ms), and the bench would measure that wait. A Kafka \
         broker answers as soon as `fetch.min.bytes` (1) is there, so in production the \
         default does not cost this."
    );
    let _ = writeln!(s, "- Bytes produced: {} MB.\n", c.load.bytes / 1_000_000);
    s.push_str(&summary(rounds));
    s.push('\n');
    s.push_str(&per_round(rounds));
    s
}

/// The configurations, in the order first measured.
fn configs(rounds: &[Round]) -> Vec<Config> {
    let mut out: Vec<Config> = Vec::new();
    for r in rounds {
        if !out.contains(&r.config) {
            out.push(r.config);
        }
    }
    out
}

/// The bare consumer's round of the same number.
fn baseline_of<'a>(rounds: &'a [Round], r: &Round) -> Option<&'a Round> {
    rounds
        .iter()
        .find(|b| b.config == Config::Baseline && b.number == r.number)
}

fn summary(rounds: &[Round]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| configuration | events/s | events/s per server | / bare consumer (same round) | CPU per event, all servers | / bare consumer's CPU per event |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for config in configs(rounds) {
        let of: Vec<&Round> = rounds.iter().filter(|r| r.config == config).collect();
        let servers = match config {
            Config::Baseline => 1.0,
            Config::Servers(k) => k as f64,
        };
        let ratio = |f: fn(&Round) -> f64| {
            if config == Config::Baseline {
                return "1".to_owned();
            }
            range(
                of.iter()
                    .filter_map(|r| baseline_of(rounds, r).map(|b| f(r) / f(b))),
                |v| format!("{v:.2}"),
            )
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} µs | {} |",
            config.name(),
            range(of.iter().map(|r| r.events_per_s()), rate),
            if config == Config::Baseline {
                "-".to_owned()
            } else {
                range(of.iter().map(|r| r.events_per_s() / servers), rate)
            },
            ratio(Round::events_per_s),
            range(of.iter().map(|r| r.cpu_us_per_event()), |v| format!(
                "{v:.2}"
            )),
            ratio(Round::cpu_us_per_event),
        );
    }
    s
}

fn per_round(rounds: &[Round]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| round | configuration | partitions each | start to balanced assignment s | events timed | seconds | events/s | / bare consumer | CPU s | CPU µs/event | / bare consumer | start to last event s | notes |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rounds {
        let (rate_ratio, cpu_ratio) = match (r.config, baseline_of(rounds, r)) {
            (Config::Servers(_), Some(b)) => (
                format!("{:.2}", r.events_per_s() / b.events_per_s()),
                format!("{:.2}", r.cpu_us_per_event() / b.cpu_us_per_event()),
            ),
            (Config::Servers(_), None) => ("-".into(), "-".into()),
            (Config::Baseline, _) => ("1".into(), "1".into()),
        };
        let shares: Vec<String> = r.shares.iter().map(u64::to_string).collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.2} | {} | {:.2} | {:.0} | {rate_ratio} | {:.2} | {:.2} | {cpu_ratio} | {:.2} | {} |",
            r.number,
            r.config.name(),
            shares.join(" + "),
            r.assign_seconds,
            r.events,
            r.seconds,
            r.events_per_s(),
            r.cpu_seconds,
            r.cpu_us_per_event(),
            r.total_seconds,
            r.notes.join("; ").replace('|', "\\|")
        );
    }
    s
}

/// Writes the report into docs/benchmarks.md (between its markers, or as a new section).
pub(super) fn write_docs(report: &str) -> Result<PathBuf, String> {
    crate::bench_report::write_docs(report, BEGIN, END, HEADING)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(number: usize, config: Config, events: u64, seconds: f64, cpu: f64) -> Round {
        Round {
            number,
            config,
            events,
            seconds,
            cpu_seconds: cpu,
            assign_seconds: 3.0,
            total_seconds: 3.0 + seconds,
            shares: vec![6],
            notes: Vec::new(),
        }
    }

    #[test]
    fn servers_are_compared_with_the_bare_consumer_of_their_own_round() {
        let rounds = [
            round(1, Config::Baseline, 1000, 1.0, 0.1),
            round(1, Config::Servers(2), 1000, 4.0, 2.0),
            round(2, Config::Baseline, 1000, 2.0, 0.1),
            round(2, Config::Servers(2), 1000, 4.0, 2.0),
        ];
        let text = per_round(&rounds);
        // Round 1: 250 ev/s against 1000 (0.25); round 2: 250 against 500 (0.50).
        assert!(text.contains("| 250 | 0.25 |"), "{text}");
        assert!(text.contains("| 250 | 0.50 |"), "{text}");
        let text = summary(&rounds);
        assert!(
            text.contains("| 2 storing servers | 250 | 125 | 0.25 - 0.50 | 2000.00 µs | 20.00 |"),
            "{text}"
        );
    }
}
