//! One round of one configuration: the bare consumer, or K storing servers in a fresh
//! consumer group with a fresh, empty `store_root`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::metrics::{self, Source};
use super::Setup;
use crate::peers::measure;

/// How often the servers' `/metrics` are read.
const POLL: Duration = Duration::from_millis(100);
/// How long the group may take to give every server its share of the partitions.
const ASSIGN_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the stored count may stand still before the round gives up (the lag
/// metrics it then reports are refreshed every 5 s).
const STALL: Duration = Duration::from_secs(30);
/// How long a server may take to stop after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);

/// What was measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Config {
    /// The bare rdkafka consumer (`kafka-scale consume`).
    Baseline,
    /// This many storing servers.
    Servers(usize),
}

impl Config {
    pub(super) fn name(self) -> String {
        match self {
            Config::Baseline => "bare consumer".into(),
            Config::Servers(1) => "1 storing server".into(),
            Config::Servers(k) => format!("{k} storing servers"),
        }
    }
}

/// One round's measurement.
#[derive(Debug)]
pub(super) struct Round {
    pub number: usize,
    pub config: Config,
    /// Events read (baseline) or newly stored (servers) within the timed window.
    pub events: u64,
    /// The timed window: from the moment the group had assigned every partition (to
    /// every server its share) to the last event.
    pub seconds: f64,
    /// User + system CPU of the consumer or of all servers together, same window.
    pub cpu_seconds: f64,
    /// From the processes' start to the assignment that starts the window.
    pub assign_seconds: f64,
    /// From the processes' start to the last event (what an operator waits for).
    pub total_seconds: f64,
    /// Partitions per server when the window started (servers only).
    pub shares: Vec<u64>,
    /// Anything that was not as expected.
    pub notes: Vec<String>,
}

impl Round {
    pub(super) fn events_per_s(&self) -> f64 {
        self.events as f64 / self.seconds.max(1e-9)
    }
    pub(super) fn cpu_us_per_event(&self) -> f64 {
        self.cpu_seconds / self.events.max(1) as f64 * 1e6
    }
}

/// The bare consumer in a fresh group reads every record of the topic.
pub(super) fn baseline(setup: &Setup<'_>, number: usize) -> Result<Round, String> {
    let group = format!("{}-r{number}-baseline", setup.group_prefix);
    let out = Command::new(&setup.kafka_scale)
        .args([
            "consume",
            "--brokers",
            &setup.brokers,
            "--topic",
            &setup.topic,
        ])
        .args(["--group", &group])
        .args(["--events", &setup.options.events.to_string()])
        .args(["--fetch-wait-ms", &setup.options.fetch_wait_ms.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", setup.kafka_scale.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "kafka-scale consume failed ({}): {text}",
            out.status
        ));
    }
    let field = |name: &str| -> Result<f64, String> {
        super::field(&text, name)
            .ok_or_else(|| format!("no {name}= in kafka-scale's output: {text}"))
    };
    Ok(Round {
        number,
        config: Config::Baseline,
        events: field("records")? as u64,
        seconds: field("seconds")?,
        cpu_seconds: field("cpu_seconds")?,
        assign_seconds: field("assigned_after")?,
        total_seconds: field("assigned_after")? + field("seconds")?,
        shares: vec![field("partitions")? as u64],
        notes: Vec::new(),
    })
}

/// `servers` storing servers, started at once in a fresh group over a fresh
/// `store_root`, store every event of the topic.
pub(super) fn servers(setup: &Setup<'_>, number: usize, servers: usize) -> Result<Round, String> {
    let o = setup.options;
    let dir = setup.dir.join(format!("round-{number}-{servers}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let root = dir.join("partitions");
    let group = format!("{}-r{number}-s{servers}", setup.group_prefix);
    let mut configs = Vec::new();
    for s in 1..=servers {
        let data = dir.join(format!("s{s}-data"));
        let config = dir.join(format!("s{s}.toml"));
        let text = storing_config(
            &data,
            &setup.key_file,
            &setup.brokers,
            &setup.topic,
            &group,
            &root,
            o.fetch_wait_ms,
        );
        std::fs::write(&config, text).map_err(|e| format!("writing {}: {e}", config.display()))?;
        let log = setup
            .logs
            .join(format!("round-{number}-{servers}-s{s}.log"));
        configs.push((config, data, log));
    }

    // All servers at once: each start waits for its server's "listening on" line.
    let spawned = Instant::now();
    let started: Vec<Result<crate::serve::Serve, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = configs
            .iter()
            .map(|(config, data, log)| {
                scope.spawn(move || {
                    let log = std::fs::File::create(log)
                        .map_err(|e| format!("creating {}: {e}", log.display()))?;
                    crate::serve::start_binary(
                        &setup.auditrail,
                        Some(config),
                        data,
                        &[],
                        Stdio::from(log),
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a start thread panicked".into()))
            })
            .collect()
    });
    let mut running = Vec::new();
    for s in started {
        running.push(s?);
    }
    let mut notes = Vec::new();

    // The window starts once the group has given every server its share.
    let partitions = u64::from(o.partitions);
    let (window_start, at_start) = loop {
        let now: Vec<Source> = scrape_all(&running)?;
        let shares: Vec<u64> = now.iter().map(|m| m.assigned).collect();
        if balanced(&shares, partitions) {
            break (Instant::now(), now);
        }
        if spawned.elapsed() > ASSIGN_TIMEOUT {
            notes.push(format!(
                "the group did not balance within {ASSIGN_TIMEOUT:?} (shares {shares:?}); timed from then on"
            ));
            break (Instant::now(), now);
        }
        std::thread::sleep(POLL);
    };
    let cpu_start = cpu_of(&running)?;
    let stored_start: u64 = at_start.iter().map(|m| m.stored).sum();
    if stored_start > 0 {
        notes.push(format!(
            "{stored_start} events stored before the group settled (not in the window)"
        ));
    }
    if stored_start > o.events / 2 {
        notes.push("TOO FEW EVENTS LEFT for the window: raise --events".into());
    }

    // ...and ends when the servers have stored every event of the topic.
    // The last progress seen, and the servers' CPU then: a stalled round is measured up
    // to its last progress, not through the wait that shows it stalled.
    let mut last_change = Instant::now();
    let mut cpu_at_change = cpu_start;
    let mut last_total = stored_start;
    let (window_end, at_end, cpu_end) = loop {
        let now = scrape_all(&running)?;
        let total: u64 = now.iter().map(|m| m.stored).sum();
        if total >= o.events {
            break (Instant::now(), now, cpu_of(&running)?);
        }
        if total != last_total {
            last_total = total;
            last_change = Instant::now();
            cpu_at_change = cpu_of(&running)?;
        } else if last_change.elapsed() > STALL {
            let per_server: Vec<String> = running
                .iter()
                .zip(&now)
                .enumerate()
                .map(|(i, (s, m))| {
                    let lag = metrics::lagging(&s.url).unwrap_or_else(|e| vec![e]);
                    format!(
                        "s{}: {} partitions, {} stored, lag {}",
                        i + 1,
                        m.assigned,
                        m.stored,
                        if lag.is_empty() {
                            "0".to_owned()
                        } else {
                            lag.join(" ")
                        }
                    )
                })
                .collect();
            notes.push(format!(
                "STALLED: {total} of {} events stored, no progress for {STALL:?} ({})",
                o.events,
                per_server.join("; ")
            ));
            break (last_change, now, cpu_at_change);
        }
        std::thread::sleep(POLL);
    };
    let stored_end: u64 = at_end.iter().map(|m| m.stored).sum();
    if stored_end > o.events {
        notes.push(format!(
            "{} events counted as stored beyond the {} in the topic",
            stored_end - o.events,
            o.events
        ));
    }
    let sum = |f: fn(&Source) -> u64| at_end.iter().map(f).sum::<u64>();
    for (what, n) in [
        ("duplicates", sum(|m| m.duplicates)),
        ("invalid records", sum(|m| m.invalid)),
        ("fenced batches", sum(|m| m.fenced)),
        ("store failures", sum(|m| m.store_failures)),
    ] {
        if n > 0 {
            notes.push(format!("{n} {what}"));
        }
    }
    let rebalances = sum(|m| m.rebalances);
    let shares: Vec<u64> = at_start.iter().map(|m| m.assigned).collect();

    // A clean stop (final checkpoints), then the stores must hold every event once and
    // verify with the group's key.
    for s in &running {
        crate::serve::signal(s.pid, "TERM")?;
    }
    for s in running {
        let pid = s.pid;
        match s.guard.wait(pid, STOP_TIMEOUT) {
            Ok(status) if status.success() => {}
            Ok(status) => notes.push(format!("server {pid} exited with {status}")),
            Err(e) => notes.push(e),
        }
    }
    notes.extend(check_logs(
        &configs.iter().map(|c| c.2.clone()).collect::<Vec<_>>(),
    ));
    match verify(setup, &root) {
        Ok((records, true)) if records == o.events => {}
        Ok((records, ok)) => notes.push(format!(
            "the stores hold {records} records of {} events{}",
            o.events,
            if ok {
                ""
            } else {
                "; auditrail verify found problems"
            }
        )),
        Err(e) => notes.push(e),
    }
    if notes
        .iter()
        .any(|n| n.starts_with("STALLED") || n.starts_with("the stores hold"))
    {
        // Kept for a look: the stores, configs and data dirs of a round that went wrong.
        let kept = setup.logs.join(format!("round-{number}-{servers}-kept"));
        match std::fs::rename(&dir, &kept) {
            Ok(()) => notes.push(format!("stores kept in {}", kept.display())),
            Err(_) => {
                let _ = std::fs::remove_dir_all(&dir);
            }
        }
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    notes.push(format!("{rebalances} rebalance callbacks"));
    Ok(Round {
        number,
        config: Config::Servers(servers),
        events: stored_end.saturating_sub(stored_start),
        seconds: window_end.duration_since(window_start).as_secs_f64(),
        cpu_seconds: cpu_end - cpu_start,
        assign_seconds: window_start.duration_since(spawned).as_secs_f64(),
        total_seconds: window_end.duration_since(spawned).as_secs_f64(),
        shares,
        notes,
    })
}

/// Every partition assigned, and each server holding its even share (the assignor
/// spreads partitions evenly: shares differ by one at most).
pub(super) fn balanced(shares: &[u64], partitions: u64) -> bool {
    let (lo, hi) = (
        shares.iter().copied().min().unwrap_or(0),
        shares.iter().copied().max().unwrap_or(0),
    );
    !shares.is_empty() && shares.iter().sum::<u64>() == partitions && lo > 0 && hi - lo <= 1
}

fn scrape_all(running: &[crate::serve::Serve]) -> Result<Vec<Source>, String> {
    running.iter().map(|s| metrics::scrape(&s.url)).collect()
}

fn cpu_of(running: &[crate::serve::Serve]) -> Result<f64, String> {
    running
        .iter()
        .map(|s| measure::cpu_seconds(s.pid))
        .sum::<Result<f64, String>>()
}

/// A storing server's config (as `crates/cli/tests/kafka_support` writes them): no
/// destination of its own, one Kafka source, the group's shared signing key.
pub(super) fn storing_config(
    data: &Path,
    key: &Path,
    brokers: &str,
    topic: &str,
    group: &str,
    root: &Path,
    fetch_wait_ms: u64,
) -> String {
    format!(
        "data_dir = \"{}\"\nsigning_key = \"{}\"\n\n\
         [[sources]]\ntype = \"kafka\"\nbrokers = \"{brokers}\"\ntopics = [\"{topic}\"]\n\
         group_id = \"{group}\"\nstore_root = \"{}\"\naccept_unsigned = true\n\n\
         [sources.librdkafka]\n\"session.timeout.ms\" = 6000\n\"heartbeat.interval.ms\" = 500\n\"fetch.wait.max.ms\" = {fetch_wait_ms}\n",
        data.display(),
        key.display(),
        root.display()
    )
}

/// WARN and ERROR lines in the servers' logs, counted, with the first of them.
fn check_logs(logs: &[PathBuf]) -> Vec<String> {
    let mut notes = Vec::new();
    for log in logs {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let bad: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("ERROR") || l.contains("WARN"))
            .collect();
        if let Some(first) = bad.first() {
            let name = log
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let first: String = first.chars().take(200).collect();
            notes.push(format!(
                "{name}: {} WARN/ERROR lines, first: {first}",
                bad.len()
            ));
        }
    }
    notes
}

/// Records in every store under `root` and whether `auditrail verify` with the
/// group's public key found them all in order.
fn verify(setup: &Setup<'_>, root: &Path) -> Result<(u64, bool), String> {
    let out = Command::new(&setup.auditrail)
        .arg("verify")
        .arg(root)
        .args(["--public-key", &setup.public_key, "--json"])
        .output()
        .map_err(|e| format!("cannot run auditrail verify: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let records = crate::peers::round::sum_json_field(&text, "records").ok_or_else(|| {
        format!(
            "no record count in `auditrail verify --json {}` ({}): {text}{}",
            root.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    Ok((records, out.status.success()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_starts_when_every_server_has_its_even_share() {
        assert!(balanced(&[6], 6));
        assert!(balanced(&[3, 3], 6));
        assert!(balanced(&[2, 2, 2], 6));
        assert!(balanced(&[2, 1, 1], 4));
        assert!(!balanced(&[6, 0], 6));
        assert!(!balanced(&[4, 2], 6));
        assert!(!balanced(&[3, 2], 6));
        assert!(!balanced(&[], 6));
    }

    #[test]
    fn a_storing_config_names_the_group_topic_and_shared_folder() {
        let text = storing_config(
            Path::new("/b/s1-data"),
            Path::new("/b/key"),
            "127.0.0.1:9092",
            "t",
            "g",
            Path::new("/b/partitions"),
            10,
        );
        assert!(text.contains("topics = [\"t\"]"), "{text}");
        assert!(text.contains("group_id = \"g\""), "{text}");
        assert!(text.contains("store_root = \"/b/partitions\""), "{text}");
        assert!(text.contains("signing_key = \"/b/key\""), "{text}");
        assert!(text.contains("\"fetch.wait.max.ms\" = 10"), "{text}");
    }
}
