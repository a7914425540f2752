//! `cargo xtask bench peers`: durable ingest of `auditrail serve` measured side by side
//! with rsyslog (TCP in, a file out synced per batch), in alternating rounds of the same
//! script, so that drift in the machine's load hits both alike; the ratio within one run
//! is the number that counts. rsyslog comes from the distribution's packages.

pub(crate) mod measure;
pub(crate) mod report;
pub(crate) mod round;
mod rsyslog;
mod trace;

use std::path::PathBuf;
use std::process::Command;

use report::{Conditions, SyncCheck};
use round::{Round, Setup, System};

const USAGE: &str = "usage: cargo xtask bench peers [--rounds N] [--events N] [--connections N]
                               [--event-bytes N] [--sync-check-events N] [--dir DIR]
                               [--rsyslog-batch N] [--rsyslog-io-buffer SIZE]
                               [--profile] [--binaries DIR] [--no-docs]
  --rounds N             rounds per system, alternating (default 3)
  --events N             events per round (default 2000000, about 10 s per round at 200 K/s)
  --connections N        connections of each load generator (default 8)
  --event-bytes N        size of one event (default 300)
  --sync-check-events N  first count each system's fsync/fdatasync calls under strace on a
                         run of N events (default 200000; 0 skips the check)
  --dir DIR              where the servers write (default: the temp folder)
  --rsyslog-batch N      rsyslog's main_queue(queue.dequeueBatchSize) (default 1024)
  --rsyslog-io-buffer S  rsyslog's omfile ioBufferSize (default 1m: a whole batch, one sync
                         per batch; rsyslog's own defaults are 256 and 4k)
  --profile              then record `auditrail serve` with perf for one more round
  --binaries DIR         measure the binaries in DIR (`auditrail`, `examples/auditrail-loadgen`,
                         `examples/syslog-loadgen`: a copy of another commit's release build,
                         or one with other features) instead of building this tree's
  --no-docs              print the report only; by default it also goes into docs/benchmarks.md";

/// The bench's settings, from the command line.
pub(crate) struct Options {
    rounds: usize,
    events: u64,
    connections: usize,
    event_bytes: usize,
    sync_check_events: u64,
    dir: PathBuf,
    rsyslog: rsyslog::Tuning,
    profile: bool,
    binaries: Option<PathBuf>,
    docs: bool,
}

impl Options {
    /// The options, or `None` when help was asked for (and printed).
    fn parse(args: &[String]) -> Result<Option<Options>, String> {
        let mut o = Options {
            rounds: 3,
            events: 2_000_000,
            connections: 8,
            event_bytes: 300,
            sync_check_events: 200_000,
            dir: std::env::temp_dir(),
            rsyslog: rsyslog::Tuning {
                batch: 1024,
                io_buffer: "1m".into(),
            },
            profile: false,
            binaries: None,
            docs: true,
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = || {
                it.next()
                    .ok_or_else(|| format!("{arg} needs a value\n{USAGE}"))
            };
            let number = |v: &String| {
                v.parse::<u64>()
                    .ok()
                    .filter(|&n| n > 0 || arg == "--sync-check-events")
                    .ok_or_else(|| format!("{arg}: {v:?} is not a positive number\n{USAGE}"))
            };
            match arg.as_str() {
                "--rounds" => o.rounds = number(value()?)? as usize,
                "--events" => o.events = number(value()?)?,
                "--connections" => o.connections = number(value()?)? as usize,
                "--event-bytes" => o.event_bytes = number(value()?)? as usize,
                "--sync-check-events" => o.sync_check_events = number(value()?)?,
                "--dir" => o.dir = PathBuf::from(value()?),
                "--rsyslog-batch" => o.rsyslog.batch = number(value()?)?,
                "--rsyslog-io-buffer" => {
                    let v = value()?;
                    if v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric()) {
                        return Err(format!("{arg}: {v:?} is not a size like 4k or 1m\n{USAGE}"));
                    }
                    o.rsyslog.io_buffer = v.clone();
                }
                "--profile" => o.profile = true,
                "--binaries" => o.binaries = Some(PathBuf::from(value()?)),
                "--no-docs" => o.docs = false,
                "-h" | "--help" => {
                    println!("{USAGE}");
                    return Ok(None);
                }
                other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
            }
        }
        Ok(Some(o))
    }
}

/// Builds, installs what is missing, checks the syncs, runs the rounds, reports.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let Some(options) = Options::parse(args)? else {
        return Ok(());
    };
    let release = match &options.binaries {
        Some(dir) => dir.clone(),
        None => crate::serve::build_release(&["auditrail-loadgen", "syslog-loadgen"])?,
    };
    let rsyslogd = crate::packages::ensure("rsyslogd", "rsyslog")?;
    let dir = options
        .dir
        .join(format!("auditrail-peers-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let setup = Setup {
        options: &options,
        release,
        rsyslogd,
        dir,
    };
    let result = measure_all(&setup, args);
    let _ = std::fs::remove_dir_all(&setup.dir);
    let report = result?;
    println!("{report}");
    if options.docs {
        let path = report::write_docs(&report)?;
        eprintln!("xtask: written into {}", path.display());
    }
    Ok(())
}

fn measure_all(setup: &Setup<'_>, args: &[String]) -> Result<String, String> {
    let o = setup.options;
    let file_system = measure::file_system(&setup.dir);
    if file_system.starts_with("tmpfs") {
        eprintln!(
            "xtask: warning: {} is on tmpfs, where fsync costs nothing; pass --dir on a disk",
            setup.dir.display()
        );
    }
    let started = utc_now();
    let load_before = measure::load_average();
    let syncs = if o.sync_check_events > 0 {
        sync_check(setup)?
    } else {
        Vec::new()
    };
    crate::run::step(&format!(
        "{} alternating rounds per system, {} events each",
        o.rounds, o.events
    ));
    let mut rounds: Vec<Round> = Vec::new();
    for number in 1..=o.rounds {
        for system in [System::Auditrail, System::Rsyslog] {
            let r = match system {
                System::Auditrail => round::auditrail(setup, number, o.events, &[], None)?,
                System::Rsyslog => round::rsyslog(setup, number, o.events, &[])?,
            };
            eprintln!(
                "xtask: round {number} {}: {} of {} events written in {:.2} s: {:.0} events/s, {:.1} MB/s, {:.2} µs CPU per event {}",
                system.name(),
                r.written,
                r.sent,
                r.seconds,
                r.events_per_s(),
                r.mb_per_s(),
                r.cpu_us_per_event(),
                r.notes.join("; ")
            );
            rounds.push(r);
        }
    }
    let load_after = measure::load_average();
    let ended = utc_now();
    if o.profile {
        profile(setup)?;
    }
    let conditions = Conditions {
        run: crate::bench_report::Run {
            command: crate::bench_report::Run::command("peers", args),
            started,
            ended,
            machine: measure::machine(),
            file_system,
            load_before,
            load_after,
        },
        auditrail_version: version_line(&setup.release.join("auditrail")),
        rsyslog_version: match crate::packages::version("rsyslog") {
            Some(v) => format!("{} (Debian package {v})", rsyslog::version(&setup.rsyslogd)),
            None => rsyslog::version(&setup.rsyslogd),
        },
        rsyslog_settings: format!(
            "main_queue(queue.dequeueBatchSize=\"{}\"), omfile sync=\"on\" ioBufferSize=\"{}\"",
            o.rsyslog.batch, o.rsyslog.io_buffer
        ),
        rounds: o.rounds,
        events: o.events,
        connections: o.connections,
        event_bytes: o.event_bytes,
    };
    Ok(report::markdown(&conditions, &rounds, &syncs))
}

/// One short run of each system under strace, counting its sync calls: shows that the
/// output really is synced, and how many events share one sync.
fn sync_check(setup: &Setup<'_>) -> Result<Vec<SyncCheck>, String> {
    let events = setup.options.sync_check_events;
    crate::run::step(&format!(
        "sync check: each system under strace for {events} events"
    ));
    let strace = crate::packages::ensure("strace", "strace")?;
    let mut checks = Vec::new();
    for system in [System::Auditrail, System::Rsyslog] {
        let summary = setup.dir.join(format!("strace-{}.txt", system.name()));
        let wrapper = trace::strace_wrapper(&strace, &summary);
        let r = match system {
            System::Auditrail => round::auditrail(setup, 0, events, &wrapper, None)?,
            System::Rsyslog => round::rsyslog(setup, 0, events, &wrapper)?,
        };
        let calls = trace::sync_calls(&summary)?;
        eprintln!(
            "xtask: {} under strace: {calls:?} for {} events written",
            system.name(),
            r.written
        );
        checks.push(SyncCheck {
            system,
            written: r.written,
            calls,
        });
    }
    Ok(checks)
}

/// One more auditrail round with `perf record` attached to the server.
fn profile(setup: &Setup<'_>) -> Result<(), String> {
    let perf = crate::packages::ensure("perf", "linux-perf")?;
    let data = crate::serve::release_dir()
        .parent()
        .map(|p| p.join("peers-auditrail.perf.data"))
        .ok_or("no target folder")?;
    // With `--binaries` nothing was built: the target folder may not exist yet.
    if let Some(folder) = data.parent() {
        std::fs::create_dir_all(folder)
            .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    }
    crate::run::step(&format!(
        "profile: auditrail serve under perf record -> {}",
        data.display()
    ));
    let r = round::auditrail(setup, 0, setup.options.events, &[], Some((&perf, &data)))?;
    eprintln!(
        "xtask: profiled round: {:.0} events/s (perf itself takes CPU). Read it with:\n  \
         perf report -i {} --children --no-inline --percent-limit 2",
        r.events_per_s(),
        data.display()
    );
    Ok(())
}

/// `BINARY --version`'s first line.
pub(crate) fn version_line(binary: &std::path::Path) -> String {
    Command::new(binary)
        .arg("--version")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_owned()
        })
        .unwrap_or_else(|e| format!("{} (--version failed: {e})", binary.display()))
}

/// The current time as `YYYY-MM-DD HH:MM UTC`, from date(1) (std formats no calendar
/// dates, and xtask stays std only).
pub(crate) fn utc_now() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|_| "unknown time".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn options_default_to_three_rounds_of_two_million_events_over_eight_connections() {
        let o = Options::parse(&[]).unwrap().unwrap();
        assert_eq!(
            (o.rounds, o.events, o.connections, o.event_bytes),
            (3, 2_000_000, 8, 300)
        );
        assert_eq!(
            (o.rsyslog.batch, o.rsyslog.io_buffer.as_str()),
            (1024, "1m")
        );
        assert!(o.docs && !o.profile);
    }

    #[test]
    fn options_are_read_and_bad_ones_are_named() {
        let o = Options::parse(&args(&["--rounds", "1", "--events", "500", "--no-docs"]))
            .unwrap()
            .unwrap();
        assert_eq!((o.rounds, o.events, o.docs), (1, 500, false));
        let err = Options::parse(&args(&["--events", "zero"])).err().unwrap();
        assert!(err.starts_with("--events: \"zero\""), "{err}");
        let err = Options::parse(&args(&["--rsyslog-io-buffer", "1m\" sync=\"off"]))
            .err()
            .unwrap();
        assert!(err.starts_with("--rsyslog-io-buffer"), "{err}");
        let err = Options::parse(&args(&["--rounds"])).err().unwrap();
        assert!(err.starts_with("--rounds needs a value"), "{err}");
        assert!(Options::parse(&args(&["--bogus"])).is_err());
    }
}
