//! One round of one system: start it fresh in its own folder, feed it the round's events,
//! and measure what it wrote to disk, how long that took and the CPU it used.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use super::{measure, trace, Options};

/// How long the rsyslog output may stand still before the round counts what is there.
const STALL: Duration = Duration::from_secs(5);
/// How long a server may take to stop after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);

/// The systems compared.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum System {
    Auditrail,
    Rsyslog,
}

impl System {
    pub(super) fn name(self) -> &'static str {
        match self {
            System::Auditrail => "auditrail",
            System::Rsyslog => "rsyslog",
        }
    }
}

/// What one round measured.
pub(super) struct Round {
    pub system: System,
    /// 1-based.
    pub number: usize,
    /// Events sent.
    pub sent: u64,
    /// Events found on disk afterwards.
    pub written: u64,
    /// Bytes of the files holding them.
    pub bytes: u64,
    /// From the first event sent to the last one on disk.
    pub seconds: f64,
    /// The server process's user + system CPU seconds over the same span.
    pub cpu_seconds: f64,
    /// Anything that went wrong but did not stop the round (verify findings, refusals).
    pub notes: Vec<String>,
}

impl Round {
    pub(super) fn events_per_s(&self) -> f64 {
        self.written as f64 / self.seconds
    }
    pub(super) fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / self.seconds / 1e6
    }
    pub(super) fn cpu_us_per_event(&self) -> f64 {
        self.cpu_seconds / self.written.max(1) as f64 * 1e6
    }
}

/// What the rounds share.
pub(super) struct Setup<'a> {
    pub options: &'a Options,
    pub release: PathBuf,
    pub rsyslogd: PathBuf,
    /// Every round gets a fresh folder under it.
    pub dir: PathBuf,
}

/// Runs `auditrail serve` with its default config (only the listen address and the data
/// folder given on the command line) and feeds it with `auditrail-loadgen --events`. The
/// load generator ends when every event was answered `200`, i.e. fsynced; the events on
/// disk are counted afterwards by `auditrail verify`, which also checks the chain.
/// `wrapper` runs the server under another program; `profile` records it with perf.
pub(super) fn auditrail(
    setup: &Setup<'_>,
    number: usize,
    events: u64,
    wrapper: &[String],
    profile: Option<(&Path, &Path)>,
) -> Result<Round, String> {
    let o = setup.options;
    let dir = fresh_dir(&setup.dir, &format!("auditrail-{number}"))?;
    let data = dir.join("data");
    let server = crate::serve::start(&setup.release, None, &data, wrapper)?;
    let perf = match profile {
        Some((perf, out)) => Some(trace::perf_attach(perf, server.pid, out)?),
        None => None,
    };
    let cpu_before = measure::cpu_seconds(server.pid)?;
    let started = Instant::now();
    let out = Command::new(setup.release.join("examples/auditrail-loadgen"))
        .args(["--url", &server.url])
        .args(["--connections", &o.connections.to_string()])
        .args(["--events", &events.to_string()])
        .args(["--event-bytes", &o.event_bytes.to_string()])
        // As nodes do: a nonce per request, so the server signs every answer for it
        // and hashes every body (what a real node's request costs the server).
        .arg("--nonce")
        .output()
        .map_err(|e| format!("cannot run auditrail-loadgen: {e}"))?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu_seconds = measure::cpu_seconds(server.pid)? - cpu_before;
    if let Some(perf) = perf {
        perf.stop()?;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "auditrail-loadgen failed ({}):\n{text}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut notes = Vec::new();
    if let Some(refused) = crate::serve::loadgen_errors(&text).filter(|&n| n > 0.0) {
        notes.push(format!("{refused} requests not answered 200 (sent again)"));
    }
    // A clean stop writes the final checkpoint, so verify needs no `--live`.
    let pid = server.pid;
    server.guard.stop(pid, "TERM", STOP_TIMEOUT)?;
    let (written, bytes, verified) = verify(&setup.release, &data)?;
    if !verified {
        notes.push("auditrail verify found problems".into());
    }
    remove(&dir);
    Ok(Round {
        system: System::Auditrail,
        number,
        sent: events,
        written,
        bytes,
        seconds,
        cpu_seconds,
        notes,
    })
}

/// Runs rsyslogd (see [`super::rsyslog::config`]) and feeds it with `syslog-loadgen`.
/// Plain TCP syslog has no acknowledgement, so the round ends when the output file holds
/// every message (or stopped growing); its time is that of the file's last write.
pub(super) fn rsyslog(
    setup: &Setup<'_>,
    number: usize,
    events: u64,
    wrapper: &[String],
) -> Result<Round, String> {
    let o = setup.options;
    let dir = fresh_dir(&setup.dir, &format!("rsyslog-{number}"))?;
    let server = super::rsyslog::start(&setup.rsyslogd, &o.rsyslog, &dir, wrapper)?;
    let cpu_before = measure::cpu_seconds(server.pid)?;
    let started = Instant::now();
    let started_at = SystemTime::now();
    let out = Command::new(setup.release.join("examples/syslog-loadgen"))
        .args(["--addr", &format!("127.0.0.1:{}", server.port)])
        .args(["--connections", &o.connections.to_string()])
        .args(["--events", &events.to_string()])
        .args(["--event-bytes", &o.event_bytes.to_string()])
        .output()
        .map_err(|e| format!("cannot run syslog-loadgen: {e}"))?;
    let sent_after = started.elapsed();
    if !out.status.success() {
        return Err(format!(
            "syslog-loadgen failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let written = measure::wait_for_lines(&server.output, events, STALL)?;
    let cpu_seconds = measure::cpu_seconds(server.pid)? - cpu_before;
    let on_disk_after = written
        .last_write
        .duration_since(started_at)
        .unwrap_or_default();
    let mut notes = Vec::new();
    if written.lines < events {
        notes.push(format!(
            "{} of {events} messages not in the file",
            events - written.lines
        ));
    }
    let pid = server.pid;
    server.guard.stop(pid, "TERM", STOP_TIMEOUT)?;
    remove(&dir);
    Ok(Round {
        system: System::Rsyslog,
        number,
        sent: events,
        written: written.lines,
        bytes: written.bytes,
        seconds: sent_after.max(on_disk_after).as_secs_f64(),
        cpu_seconds,
        notes,
    })
}

/// Records and record bytes in every store under `data`, from `auditrail verify --json`
/// (the project's one store reader), and whether it found everything in order.
fn verify(release: &Path, data: &Path) -> Result<(u64, u64, bool), String> {
    let out = Command::new(release.join("auditrail"))
        .args(["verify", "--json"])
        .arg(data)
        .output()
        .map_err(|e| format!("cannot run auditrail verify: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let records = sum_json_field(&text, "records");
    let bytes = sum_json_field(&text, "bytes");
    match (records, bytes) {
        (Some(r), Some(b)) => Ok((r, b, out.status.success())),
        _ => Err(format!(
            "no record count in `auditrail verify --json {}`'s output ({}):\n{text}{}",
            data.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )),
    }
}

/// The sum of every `"field": <number>` in a JSON text, `None` if there is none. A
/// string search, not a parser, because xtask stays std only; the field names searched
/// occur in the verify report only as keys of its per-store objects (a quote inside a
/// string value would be escaped).
pub(crate) fn sum_json_field(text: &str, field: &str) -> Option<u64> {
    let key = format!("\"{field}\":");
    let values: Vec<u64> = text
        .match_indices(&key)
        .filter_map(|(i, _)| {
            let rest = text[i + key.len()..].trim_start();
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            rest[..end].parse().ok()
        })
        .collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

fn fresh_dir(parent: &Path, name: &str) -> Result<PathBuf, String> {
    let dir = parent.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    Ok(dir)
}

/// Removes a round's folder: the next rounds need the disk space.
fn remove(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_fields_are_summed_over_every_store_and_quoted_text_is_not_a_field() {
        let report = r#"{
  "ok": true,
  "stores": [
    { "path": "a", "records": 1200, "bytes": 600000, "problems": [] },
    { "path": "b", "records": 34, "bytes": 17000,
      "problems": [ { "message": "the text \"records\": 99 is inside a string" } ] }
  ]
}"#;
        assert_eq!(sum_json_field(report, "records"), Some(1234));
        assert_eq!(sum_json_field(report, "bytes"), Some(617_000));
        assert_eq!(sum_json_field(report, "checkpoints"), None);
    }
}
