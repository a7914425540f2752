//! Looking inside the servers while they run: `strace` counts the sync calls (is the
//! output really synced, and how many events share one sync), `perf record` profiles
//! `auditrail serve` for the next optimisation.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::serve::Guard;

/// The system calls that make written data durable.
const SYNC_CALLS: &str = "fsync,fdatasync,sync_file_range,syncfs,msync";

/// The wrapper that runs a server under `strace`, counting its (and its threads')
/// sync calls into `summary`. `--seccomp-bpf` stops only at the traced calls, so the
/// rest of the server runs at full speed.
pub(super) fn strace_wrapper(strace: &Path, summary: &Path) -> Vec<String> {
    [
        strace.display().to_string(),
        "-f".into(),
        "--seccomp-bpf".into(),
        "-c".into(),
        "-U".into(),
        "calls,name".into(),
        "-e".into(),
        format!("trace={SYNC_CALLS}"),
        "-o".into(),
        summary.display().to_string(),
    ]
    .into()
}

/// The calls per system call name in a `strace -c -U calls,name` summary.
pub(super) fn sync_calls(summary: &Path) -> Result<BTreeMap<String, u64>, String> {
    let text = std::fs::read_to_string(summary)
        .map_err(|e| format!("reading strace's summary {}: {e}", summary.display()))?;
    Ok(parse_summary(&text))
}

/// The `calls name` rows of a summary, without the `total` row.
fn parse_summary(text: &str) -> BTreeMap<String, u64> {
    let mut calls = BTreeMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if let [n, name] = f[..] {
            if let (Ok(n), true) = (n.parse::<u64>(), name != "total") {
                calls.insert(name.to_owned(), n);
            }
        }
    }
    calls
}

/// `perf record` attached to a process, stopped (and its data written) by [`Perf::stop`].
pub(super) struct Perf {
    guard: Guard,
    /// The perf.data file.
    pub data: PathBuf,
}

/// Starts `perf record` on `pid` with DWARF call graphs (Rust release builds keep no
/// frame pointers, so `-g`'s frame-pointer walk would cut the stacks short), 499
/// samples per second per CPU.
pub(super) fn perf_attach(perf: &Path, pid: u32, data: &Path) -> Result<Perf, String> {
    let guard = Guard(
        Command::new(perf)
            .args(["record", "-F", "499", "--call-graph", "dwarf,16384", "-o"])
            .arg(data)
            .args(["-p", &pid.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start perf: {e}"))?,
    );
    // perf needs a moment to open its events before the load starts.
    std::thread::sleep(Duration::from_millis(500));
    Ok(Perf {
        guard,
        data: data.to_owned(),
    })
}

impl Perf {
    /// Stops recording (SIGINT, as Ctrl-C would) and waits for perf to write its data.
    pub(super) fn stop(self) -> Result<PathBuf, String> {
        let pid = self.guard.0.id();
        let status = self.guard.stop(pid, "INT", Duration::from_secs(300))?;
        if !status.success() && !self.data.is_file() {
            return Err(format!("perf record failed ({status})"));
        }
        Ok(self.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_gives_the_calls_per_system_call_without_the_total() {
        // As `strace -c -U calls,name` writes it.
        let text = "    calls syscall\n--------- ----------------\n        2 fsync\n        1 fdatasync\n--------- ----------------\n        3 total\n";
        let calls = parse_summary(text);
        assert_eq!(calls.len(), 2);
        assert_eq!(calls["fsync"], 2);
        assert_eq!(calls["fdatasync"], 1);
    }

    #[test]
    fn a_summary_without_calls_is_empty() {
        let text = "    calls syscall\n--------- ----------------\n--------- ----------------\n        0 total\n";
        assert!(parse_summary(text).is_empty());
    }
}
