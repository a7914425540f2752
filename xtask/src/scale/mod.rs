//! `cargo xtask bench scale`: events/s of 1, 2 and 3 storing servers (`auditrail serve`
//! with a `kafka` source, docs/scale-out.md) reading one topic as a consumer group on this
//! machine, against the same broker, with a bare rdkafka consumer as the baseline in the
//! same run. Reported, never asserted: on a 2-core machine the point is that it works
//! and what each server costs per event.
//!
//! One run: a fresh topic (6 partitions) is filled once with N events by
//! `kafka-scale load` (an example of `auditrail-target-kafka`, which already depends on
//! rdkafka: xtask stays std only); then rounds, each of them every configuration in turn
//! (the bare consumer, 1, 2, 3 servers), each configuration in a fresh consumer group and
//! the servers with a fresh, empty `store_root`, so every round reads the whole topic
//! again. A configuration is timed from the moment the group gave every consumer its
//! share of the partitions (read from the servers' `/metrics`; the consumer notes it in
//! its rebalance callback) to the moment all N events are stored (the sum of
//! `auditrail_kafka_source_events_stored_total`) or read. Timing from the processes'
//! start instead would mostly measure the group's join and rebalance delays (seconds,
//! and different for 1 and 3 members), not the servers. Events the servers stored
//! before the group settled are left out of the window (and said so).

mod metrics;
mod report;
mod round;

use std::path::PathBuf;
use std::process::Command;

use round::{Config, Round};

const USAGE: &str = "usage: cargo xtask bench scale [--rounds N] [--events N] [--servers LIST]
                               [--partitions N] [--nodes N] [--event-bytes N]
                               [--fetch-wait-ms MS] [--batch-records N] [--dir DIR]
                               [--no-build] [--no-docs]
  --rounds N        rounds, each of every configuration in turn (default 2)
  --events N        events in the topic, read by every configuration of every round (default 500000)
  --servers LIST    storing-server counts to measure (default 1,2,3)
  --partitions N    partitions of the topic (default 6)
  --nodes N         node ids the events come from, spread evenly over the partitions (default 60)
  --event-bytes N   size of one event's JSON (default 300)
  --fetch-wait-ms MS librdkafka's fetch.wait.max.ms of the servers and of the bare consumer
                    (default 10; librdkafka's own default is 500, see below)
  --batch-records N records per producer batch when the topic is filled (default 1:
                    tansu 0.6 answers a fetch at an offset inside a batch with the next
                    batch, so a consumer resuming mid-batch would skip records; with one
                    record per batch every offset starts one. Against Kafka, raise it)
  --dir DIR         where the servers' stores go (default: the temp folder)
  --no-build        run the binaries an earlier run built (release/auditrail-bench-scale,
                    release/examples/kafka-scale) instead of building: on a shared machine
                    another build may hold cargo's lock on the release folder for long
  --no-docs         print the report only; by default it also goes into docs/benchmarks.md
The broker is the one `cargo xtask test` starts (tansu), or AUDITRAIL_KAFKA_BROKERS.
tansu 0.6 answers a fetch only once fetch.wait.max.ms has passed, even when records are
waiting, so with librdkafka's default (500 ms, 1 MiB per partition per fetch) every
consumer, bare or storing, is held to ~2 MB/s per partition and the bench would measure
that wait.";

/// The bench's settings, from the command line.
pub(crate) struct Options {
    rounds: usize,
    events: u64,
    servers: Vec<usize>,
    partitions: u32,
    nodes: u64,
    event_bytes: u64,
    fetch_wait_ms: u64,
    batch_records: u64,
    dir: PathBuf,
    build: bool,
    docs: bool,
}

impl Options {
    /// The options, or `None` when help was asked for (and printed).
    fn parse(args: &[String]) -> Result<Option<Options>, String> {
        let mut o = Options {
            rounds: 2,
            events: 500_000,
            servers: vec![1, 2, 3],
            partitions: 6,
            nodes: 60,
            event_bytes: 300,
            fetch_wait_ms: 10,
            batch_records: 1,
            dir: std::env::temp_dir(),
            build: true,
            docs: true,
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = || {
                it.next()
                    .ok_or_else(|| format!("{arg} needs a value\n{USAGE}"))
            };
            let number = |v: &str| {
                v.parse::<u64>()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("{arg}: {v:?} is not a positive number\n{USAGE}"))
            };
            match arg.as_str() {
                "--rounds" => o.rounds = number(value()?)? as usize,
                "--events" => o.events = number(value()?)?,
                "--servers" => {
                    o.servers = value()?
                        .split(',')
                        .map(|n| number(n.trim()).map(|n| n as usize))
                        .collect::<Result<_, _>>()?;
                }
                "--partitions" => {
                    o.partitions = u32::try_from(number(value()?)?)
                        .map_err(|_| format!("{arg}: too many partitions"))?;
                }
                "--nodes" => o.nodes = number(value()?)?,
                "--event-bytes" => o.event_bytes = number(value()?)?,
                "--fetch-wait-ms" => {
                    let v = value()?;
                    o.fetch_wait_ms = v.parse().map_err(|_| {
                        format!("{arg}: {v:?} is not a number of milliseconds\n{USAGE}")
                    })?;
                }
                "--batch-records" => o.batch_records = number(value()?)?,
                "--dir" => o.dir = PathBuf::from(value()?),
                "--no-build" => o.build = false,
                "--no-docs" => o.docs = false,
                "-h" | "--help" => {
                    println!("{USAGE}");
                    return Ok(None);
                }
                other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
            }
        }
        if let Some(k) = o
            .servers
            .iter()
            .find(|&&k| k as u64 > u64::from(o.partitions))
        {
            return Err(format!(
                "--servers: {k} servers for {} partitions would leave a server idle",
                o.partitions
            ));
        }
        Ok(Some(o))
    }
}

/// What the rounds share.
pub(crate) struct Setup<'a> {
    options: &'a Options,
    /// The `auditrail` binary built with the `kafka` feature (a private copy).
    auditrail: PathBuf,
    /// `kafka-scale`, the loader and bare consumer.
    kafka_scale: PathBuf,
    brokers: String,
    /// Which broker, for the report.
    broker_description: String,
    topic: String,
    /// Group ids are this plus the round and configuration.
    group_prefix: String,
    /// The group's shared signing key (`ed25519-secret:<hex>`, mode 0600).
    key_file: PathBuf,
    public_key: String,
    /// Every round's servers get a fresh folder under it.
    dir: PathBuf,
    /// The servers' logs (kept after the run, in the target folder).
    logs: PathBuf,
}

/// Builds, starts the broker, fills the topic, runs the rounds, reports.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let Some(options) = Options::parse(args)? else {
        return Ok(());
    };
    let kafka_scale = crate::serve::release_dir().join("examples/kafka-scale");
    let auditrail = if options.build {
        let auditrail = crate::serve::build_cli_with_features(&["kafka"], "auditrail-bench-scale")?;
        crate::run::cargo(&[
            "build",
            "--release",
            "-p",
            "auditrail-target-kafka",
            "--example",
            "kafka-scale",
        ])?;
        auditrail
    } else {
        let auditrail = crate::serve::release_dir().join("auditrail-bench-scale");
        for built in [&auditrail, &kafka_scale] {
            if !built.is_file() {
                return Err(format!(
                    "--no-build: {} is missing; run once without --no-build",
                    built.display()
                ));
            }
        }
        auditrail
    };
    let _broker = crate::broker::ensure()?;
    let brokers = std::env::var(crate::broker::BROKERS_ENV).map_err(|_| {
        format!(
            "{} is not set after starting the broker",
            crate::broker::BROKERS_ENV
        )
    })?;
    let broker_description = if _broker.started_here() {
        format!(
            "tansu {} (in-memory storage) on {brokers}, started by xtask",
            crate::broker::TANSU_VERSION
        )
    } else {
        format!("the cluster at {brokers} ({})", crate::broker::BROKERS_ENV)
    };
    let tag = format!("{}-{}", std::process::id(), nanos());
    let dir = options.dir.join(format!("auditrail-scale-bench-{tag}"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let logs = crate::serve::release_dir()
        .parent()
        .map(|t| t.join("bench-scale-logs"))
        .ok_or("no target folder")?;
    let _ = std::fs::remove_dir_all(&logs);
    std::fs::create_dir_all(&logs).map_err(|e| format!("creating {}: {e}", logs.display()))?;
    let result = (|| {
        let key_file = write_key(&dir)?;
        let public_key = public_key(&auditrail, &key_file)?;
        let setup = Setup {
            options: &options,
            auditrail,
            kafka_scale,
            brokers,
            broker_description,
            topic: format!("bench-scale-{tag}"),
            group_prefix: format!("bench-scale-{tag}"),
            key_file,
            public_key,
            dir: dir.clone(),
            logs: logs.clone(),
        };
        measure_all(&setup, args)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    let report = result?;
    println!("{report}");
    eprintln!("xtask: the servers' logs are in {}", logs.display());
    if options.docs {
        let path = report::write_docs(&report)?;
        eprintln!("xtask: written into {}", path.display());
    }
    Ok(())
}

fn measure_all(setup: &Setup<'_>, args: &[String]) -> Result<String, String> {
    let o = setup.options;
    let started = crate::peers::utc_now();
    let load_before = crate::peers::measure::load_average();
    crate::run::step(&format!(
        "filling topic {} ({} partitions) with {} events",
        setup.topic, o.partitions, o.events
    ));
    let out = Command::new(&setup.kafka_scale)
        .args(["load", "--brokers", &setup.brokers, "--topic", &setup.topic])
        .args(["--partitions", &o.partitions.to_string()])
        .args(["--events", &o.events.to_string()])
        .args(["--nodes", &o.nodes.to_string()])
        .args(["--event-bytes", &o.event_bytes.to_string()])
        .args(["--batch-records", &o.batch_records.to_string()])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", setup.kafka_scale.display()))?;
    let load = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() {
        return Err(format!(
            "kafka-scale load failed ({}): {load}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    eprintln!("xtask: loaded: {load}");
    let mut rounds: Vec<Round> = Vec::new();
    for number in 1..=o.rounds {
        let configs =
            std::iter::once(Config::Baseline).chain(o.servers.iter().map(|&k| Config::Servers(k)));
        for config in configs {
            crate::run::step(&format!("round {number}: {}", config.name()));
            let r = match config {
                Config::Baseline => round::baseline(setup, number)?,
                Config::Servers(k) => round::servers(setup, number, k)?,
            };
            eprintln!(
                "xtask: round {number}, {}: {} events in {:.2} s (after {:.2} s to assign {:?}): {:.0} events/s, {:.2} µs CPU per event {}",
                config.name(),
                r.events,
                r.seconds,
                r.assign_seconds,
                r.shares,
                r.events_per_s(),
                r.cpu_us_per_event(),
                r.notes.join("; ")
            );
            rounds.push(r);
        }
    }
    let load_after = crate::peers::measure::load_average();
    let ended = crate::peers::utc_now();
    let conditions = report::Conditions {
        run: crate::bench_report::Run {
            command: crate::bench_report::Run::command("scale", args),
            started,
            ended,
            machine: crate::peers::measure::machine(),
            file_system: crate::peers::measure::file_system(&setup.dir),
            load_before,
            load_after,
        },
        broker: setup.broker_description.clone(),
        auditrail_version: crate::peers::version_line(&setup.auditrail),
        load: field_text(&load),
        rounds: o.rounds,
        events: o.events,
        partitions: o.partitions,
        nodes: o.nodes,
        event_bytes: o.event_bytes,
        fetch_wait_ms: o.fetch_wait_ms,
        batch_records: o.batch_records,
    };
    Ok(report::markdown(&conditions, &rounds))
}

/// The value of `name=` in a `key=value ...` line, as a number.
fn field(text: &str, name: &str) -> Option<f64> {
    field_str(text, name)?.parse().ok()
}

fn field_str<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.split_whitespace()
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

/// The loader's line, as the report shows it.
fn field_text(load: &str) -> report::Load {
    report::Load {
        seconds: field(load, "seconds").unwrap_or(0.0),
        bytes: field(load, "bytes").unwrap_or(0.0) as u64,
        per_partition: field_str(load, "per_partition").unwrap_or("?").to_owned(),
    }
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// Writes the group's signing key: `ed25519-secret:<64 hex>`, mode 0600. The seed only
/// has to differ between runs (the stores are deleted after each round), not be secret.
fn write_key(dir: &std::path::Path) -> Result<PathBuf, String> {
    use std::hash::{BuildHasher, Hasher};
    let path = dir.join("group-signing.key");
    let mut seed = String::new();
    for i in 0..4u64 {
        // std's RandomState is randomly keyed per process.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i);
        h.write_u128(nanos());
        seed.push_str(&format!("{:016x}", h.finish()));
    }
    std::fs::write(&path, format!("ed25519-secret:{seed}\n"))
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("chmod 600 {}: {e}", path.display()))?;
    }
    Ok(path)
}

/// `auditrail keys export --key FILE`: the public key `verify` checks the stores with.
fn public_key(auditrail: &std::path::Path, key: &std::path::Path) -> Result<String, String> {
    let out = Command::new(auditrail)
        .args(["keys", "export", "--key"])
        .arg(key)
        .output()
        .map_err(|e| format!("cannot run {} keys export: {e}", auditrail.display()))?;
    if !out.status.success() {
        return Err(format!(
            "auditrail keys export failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn options_default_to_two_rounds_of_half_a_million_events_over_six_partitions() {
        let o = Options::parse(&[]).unwrap().unwrap();
        assert_eq!(
            (o.rounds, o.events, o.partitions, o.nodes),
            (2, 500_000, 6, 60)
        );
        assert_eq!(o.servers, [1, 2, 3]);
        assert_eq!(o.fetch_wait_ms, 10);
        assert!(o.docs && o.build);
    }

    #[test]
    fn options_are_read_and_bad_ones_are_named() {
        let o = Options::parse(&args(&[
            "--events",
            "50000",
            "--rounds",
            "1",
            "--servers",
            "1,3",
            "--no-docs",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!((o.events, o.rounds, o.docs), (50_000, 1, false));
        assert_eq!(o.servers, [1, 3]);
        let err = Options::parse(&args(&["--servers", "1,x"])).err().unwrap();
        assert!(err.starts_with("--servers: \"x\""), "{err}");
        let err = Options::parse(&args(&["--servers", "7"])).err().unwrap();
        assert!(err.contains("idle"), "{err}");
        assert!(Options::parse(&args(&["--events"])).is_err());
        assert!(Options::parse(&args(&["--bogus"])).is_err());
    }

    #[test]
    fn the_consumers_line_is_read_by_name() {
        let line = "records=500 bytes=150000 partitions=6 assigned_after=3.012 seconds=1.500 cpu_seconds=0.250";
        assert_eq!(field(line, "seconds"), Some(1.5));
        assert_eq!(field(line, "records"), Some(500.0));
        assert_eq!(field(line, "cpu"), None);
        assert_eq!(
            field_str("per_partition=1,2,3", "per_partition"),
            Some("1,2,3")
        );
    }
}
